//! The catalogue of bad inputs: malformed and out-of-range scenes, `--set` values and Gmsh files.
//! Each must end with exit code 2, one `error:` line that contains the given key words (the file,
//! the dotted key or element, the value, the accepted range), and no output directory, within the
//! case limits of memory and time (`common::run_bounded`): a scene that asks for more than the
//! machine has is refused before it allocates, never killed.

mod common;

use std::path::{Path, PathBuf};

/// The small valid scene every case starts from.
const BASE: &str = common::TINY_SCENE;

/// What a case feeds the program.
enum Input {
    /// BASE with these `--set` overrides.
    Set(&'static [&'static str]),
    /// This scene text (with `--set` overrides).
    Scene(String, &'static [&'static str]),
    /// The committed coarse hemisphere mesh (Gmsh 2.2) changed by a function, run with the
    /// shipped Gmsh scene's mapping (with `--set` overrides).
    Msh(fn(String) -> String, &'static [&'static str]),
    /// Raw command-line arguments after `run` (no scene file written).
    Args(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    input: Input,
    words: &'static [&'static str],
}

fn with(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "{from} not in the base scene");
    base.replacen(from, to, 1)
}

/// The first tetrahedron line of a Gmsh 2.2 file.
fn first_tet(text: &str) -> String {
    let elements = &text[text.find("$Elements").expect("$Elements")..];
    elements
        .lines()
        .find(|l| l.split_whitespace().count() >= 8 && l.split_whitespace().nth(1) == Some("4"))
        .expect("a tetrahedron")
        .to_string()
}

/// The MSH 2.2 text with the `n`-th line of its $Nodes section (1-based) replaced.
fn replace_node(text: &str, n: usize, line: &str) -> String {
    let start = text.find("$Nodes").expect("$Nodes");
    let old = text[start..].lines().nth(1 + n).expect("a node line");
    let at = start + text[start..].find(old).expect("the node line");
    format!("{}{line}{}", &text[..at], &text[at + old.len()..])
}

fn catalogue() -> Vec<Case> {
    let tertiary = with(BASE, r#""model": "primary""#, r#""model": "tertiary""#);
    let secondary = with(BASE, r#""model": "primary""#, r#""model": "secondary""#);
    vec![
        // --- JSON syntax and types -------------------------------------------------------------
        Case {
            name: "missing-brace",
            input: Input::Scene(BASE.trim_end_matches('}').into(), &[]),
            words: &["scene.json", "line"],
        },
        Case {
            name: "trailing-comma",
            input: Input::Scene(with(BASE, r#""model": "primary" }"#, r#""model": "primary", }"#), &[]),
            words: &["scene.json", "line 5"],
        },
        Case {
            name: "string-for-number",
            input: Input::Scene(with(BASE, r#""radius_m": 1e-6"#, r#""radius_m": "1 um""#), &[]),
            words: &["geometry.protrusions.0", "line 4"],
        },
        Case {
            name: "unknown-top-level-key",
            input: Input::Scene(with(BASE, r#""physics""#, r#""phyiscs""#), &[]),
            words: &["phyiscs", "physics"],
        },
        Case { name: "unknown-nested-key", input: Input::Set(&["mesh.refinement=2"]), words: &["mesh.refinement", "refine"] },
        Case { name: "name-with-slash", input: Input::Set(&["name=a/b"]), words: &["key `name`", "a/b"] },
        // --- geometry ----------------------------------------------------------------------------
        Case {
            name: "negative-radius",
            input: Input::Set(&["geometry.protrusions.0.radius_m=-1e-6"]),
            words: &["geometry.protrusions.0.radius_m", "-1e-6"],
        },
        Case {
            name: "zero-half-width",
            input: Input::Set(&["geometry.half_width_m=0"]),
            words: &["geometry.half_width_m", "[1e-10, 1]"],
        },
        Case { name: "negative-height", input: Input::Set(&["geometry.height_m=-4e-6"]), words: &["geometry.height_m", "-4e-6"] },
        Case {
            name: "protrusion-wider-than-domain",
            input: Input::Set(&["geometry.protrusions.0.radius_m=5e-6"]),
            words: &["geometry.protrusions.0", "outside the box", "half_width_m"],
        },
        Case {
            name: "protrusion-taller-than-domain",
            input: Input::Set(&[r#"geometry.protrusions=[{"shape":"pillar","center_m":[0,0],"radius_m":5e-7,"height_m":5e-6}]"#]),
            words: &["geometry.protrusions.0", "height_m"],
        },
        Case {
            name: "unknown-shape",
            input: Input::Set(&[r#"geometry.protrusions=[{"shape":"sphere","center_m":[0,0],"radius_m":1e-6}]"#]),
            words: &["sphere", "hemisphere"],
        },
        Case { name: "bad-sides", input: Input::Set(&["geometry.sides=open"]), words: &["geometry.sides", "open"] },
        Case {
            name: "zero-fibre-radius",
            input: Input::Set(&[r#"geometry.scaffold={"fibres":[{"point_m":[0,0,3e-6],"direction":[1,0,0],"radius_m":0}]}"#]),
            words: &["geometry.scaffold.fibres.0.radius_m", "positive"],
        },
        Case {
            name: "porosity-zero",
            input: Input::Set(&[r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"porosity":0}]"#]),
            words: &["geometry.layers.0.porosity", "(0, 1]"],
        },
        Case {
            name: "porosity-above-one",
            input: Input::Set(&[r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"porosity":1.5}]"#]),
            words: &["geometry.layers.0.porosity", "1.5"],
        },
        // --- physics -----------------------------------------------------------------------------
        Case { name: "cold", input: Input::Set(&["physics.temperature_K=100"]), words: &["physics.temperature_K", "100", "200"] },
        Case {
            name: "zero-conductivity",
            input: Input::Set(&["physics.conductivity_S_m=0"]),
            words: &["physics.conductivity_S_m", "positive"],
        },
        Case {
            name: "negative-conductivity",
            input: Input::Set(&["physics.conductivity_S_m=-5"]),
            words: &["physics.conductivity_S_m", "-5"],
        },
        Case { name: "unknown-model", input: Input::Set(&["physics.model=quaternary"]), words: &["quaternary", "tertiary"] },
        Case {
            name: "transference-in-a-potential-model",
            input: Input::Set(&["physics.cation_transference_number=0.4"]),
            words: &["physics.cation_transference_number", "tertiary and pnp"],
        },
        Case {
            name: "transference-of-one",
            input: Input::Set(&["physics.model=tertiary", "physics.cation_transference_number=1"]),
            words: &["physics.cation_transference_number", "1"],
        },
        Case {
            name: "transference-of-three-species",
            input: Input::Set(&[
                "physics.model=tertiary",
                "physics.cation_transference_number=0.4",
                r#"physics.species=[{"name":"Zn2+","charge":2,"diffusivity_m2_s":7e-10,"bulk_concentration_mol_m3":100},
                   {"name":"K+","charge":1,"diffusivity_m2_s":2e-9,"bulk_concentration_mol_m3":200},
                   {"name":"SO4 2-","charge":-2,"diffusivity_m2_s":1e-9,"bulk_concentration_mol_m3":200}]"#,
            ]),
            words: &["physics.cation_transference_number", "binary", "3"],
        },
        Case {
            name: "alpha-zero",
            input: Input::Scene(secondary.clone(), &["physics.kinetics.alpha_a=0"]),
            words: &["physics.kinetics.alpha_a", "0"],
        },
        Case {
            name: "zero-exchange-current",
            input: Input::Scene(secondary.clone(), &["physics.kinetics.exchange_current_density_A_m2=0"]),
            words: &["physics.kinetics.exchange_current_density_A_m2", "positive"],
        },
        Case {
            name: "zero-diffusivity",
            input: Input::Scene(tertiary.clone(), &["physics.species.0.diffusivity_m2_s=0"]),
            words: &["physics.species.0.diffusivity_m2_s", "positive"],
        },
        Case {
            name: "negative-concentration",
            input: Input::Scene(tertiary.clone(), &["physics.species.0.bulk_concentration_mol_m3=-1"]),
            words: &["physics.species.0.bulk_concentration_mol_m3", "-1"],
        },
        Case {
            name: "not-electroneutral",
            input: Input::Scene(tertiary.clone(), &["physics.species.1.bulk_concentration_mol_m3=1000"]),
            words: &["physics.species", "electroneutral"],
        },
        Case {
            name: "reacting-species-missing",
            input: Input::Scene(tertiary.clone(), &["physics.kinetics.reacting_species=Cu2+"]),
            words: &["physics.kinetics.reacting_species", "Cu2+"],
        },
        // --- operation ---------------------------------------------------------------------------
        Case {
            name: "unknown-mode",
            input: Input::Set(&["operation.mode=voltage"]),
            words: &["voltage", "potential", "current"],
        },
        Case {
            name: "absurd-current",
            input: Input::Set(&["operation.mean_current_density_A_m2=1e9"]),
            words: &["operation.mean_current_density_A_m2", "1e9"],
        },
        Case {
            name: "absurd-potential",
            input: Input::Set(&["operation.mode=potential", "operation.electrode_potential_V=50"]),
            words: &["operation.electrode_potential_V", "50"],
        },
        Case {
            name: "pulse-fraction",
            input: Input::Scene(
                tertiary.clone(),
                &[r#"time={"end_s":1}"#, r#"operation.waveform={"kind":"pulse","period_s":1,"on_fraction":1.5,"off_value":0}"#],
            ),
            words: &["operation.waveform.on_fraction", "1.5"],
        },
        // --- mesh, solver, time, output --------------------------------------------------------
        Case { name: "refine-zero", input: Input::Set(&["mesh.refine=0"]), words: &["mesh.refine", "0.1"] },
        Case { name: "refine-huge", input: Input::Set(&["mesh.refine=100"]), words: &["mesh.refine", "100", "16"] },
        Case { name: "grading-below-one", input: Input::Set(&["mesh.grading=0.5"]), words: &["mesh.grading", "0.5"] },
        Case { name: "negative-size", input: Input::Set(&["mesh.size_near_m=-1e-7"]), words: &["mesh.size_near_m", "positive"] },
        Case { name: "rtol-zero", input: Input::Set(&["solver.linear_rtol=0"]), words: &["solver.linear_rtol", "0"] },
        Case {
            name: "unknown-preconditioner",
            input: Input::Set(&["solver.preconditioner=ilu"]),
            words: &["ilu", "amg", "jacobi"],
        },
        Case {
            name: "end-time-zero",
            input: Input::Scene(tertiary.clone(), &[r#"time={"end_s":0}"#]),
            words: &["time.end_s", "positive"],
        },
        Case {
            name: "time-rtol",
            input: Input::Scene(tertiary.clone(), &[r#"time={"end_s":1,"rtol":2}"#]),
            words: &["time.rtol", "2"],
        },
        Case {
            name: "preconditioner-reuse-zero",
            input: Input::Scene(tertiary.clone(), &[r#"time={"end_s":1,"preconditioner_reuse_steps":0}"#]),
            words: &["time.preconditioner_reuse_steps", "0", "[1, 1000]"],
        },
        Case {
            name: "output-after-end",
            input: Input::Scene(tertiary.clone(), &[r#"time={"end_s":1,"output_times_s":[2]}"#]),
            words: &["time.output_times_s.0", "2"],
        },
        Case { name: "map-pixels", input: Input::Set(&["output.map_pixels=10"]), words: &["output.map_pixels", "64 to 4096"] },
        Case {
            name: "colour-range-reversed",
            input: Input::Set(&[r#"output.colour_range={"potential_V":[0.1,-0.1]}"#]),
            words: &["output.colour_range.potential_V", "0.1", "below"],
        },
        Case { name: "figure-unit-unknown", input: Input::Set(&[r#"output.units={"potential":"kV"}"#]), words: &["kV"] },
        // --- command line ------------------------------------------------------------------------
        Case { name: "set-without-value", input: Input::Set(&["mesh.refine"]), words: &["mesh.refine", "KEY=VALUE"] },
        Case { name: "set-unknown-path", input: Input::Set(&["mesh.nonexistent.deep=1"]), words: &["mesh.nonexistent"] },
        Case { name: "set-wrong-type", input: Input::Set(&["mesh.refine=[1,2]"]), words: &["mesh.refine"] },
        Case {
            name: "missing-scene-file",
            input: Input::Args(&["/nonexistent/scene.json"]),
            words: &["/nonexistent/scene.json", "cannot read"],
        },
        Case {
            name: "missing-mesh-file",
            input: Input::Scene(
                std::fs::read_to_string("scenes/hemisphere_gmsh.json")
                    .expect("scene")
                    .replace("../meshes/hemisphere.msh", "no_such.msh"),
                &[],
            ),
            words: &["no_such.msh"],
        },
        // --- Gmsh files --------------------------------------------------------------------------
        Case {
            name: "msh-not-a-mesh",
            input: Input::Msh(|_| "hello, this is not a mesh\n".into(), &[]),
            words: &["mesh.msh", "$MeshFormat"],
        },
        Case { name: "msh-truncated", input: Input::Msh(|t| t[..t.len() / 2].to_string(), &[]), words: &["mesh.msh"] },
        Case {
            name: "msh-unknown-element",
            input: Input::Msh(
                |t| {
                    let line = first_tet(&t);
                    let f: Vec<&str> = line.split_whitespace().collect();
                    t.replacen(&line, &format!("{} 11 {}", f[0], f[2..].join(" ")), 1)
                },
                &[],
            ),
            words: &["mesh.msh", "type 11"],
        },
        Case {
            name: "msh-degenerate-tet",
            input: Input::Msh(
                |t| {
                    let line = first_tet(&t);
                    let mut f: Vec<&str> = line.split_whitespace().collect();
                    let n = f.len();
                    f[n - 1] = f[n - 2];
                    t.replacen(&line, &f.join(" "), 1)
                },
                &[],
            ),
            words: &["mesh.msh", "degenerate"],
        },
        Case {
            name: "msh-node-out-of-range",
            input: Input::Msh(
                |t| {
                    let line = first_tet(&t);
                    let mut f: Vec<String> = line.split_whitespace().map(String::from).collect();
                    let n = f.len();
                    f[n - 1] = "99999999".into();
                    t.replacen(&line, &f.join(" "), 1)
                },
                &[],
            ),
            words: &["mesh.msh", "99999999"],
        },
        Case {
            name: "msh-missing-group",
            input: Input::Msh(|t| t.replace("\"electrode\"", "\"cathode\""), &[]),
            words: &["mesh.msh", "electrode"],
        },
        // --- moved from the command-line tests: coatings, scaffolds, outputs, pnp ----------------
        Case {
            name: "unknown-key-in-file",
            input: Input::Scene(with(BASE, r#""radius_m""#, r#""radus_m""#), &[]),
            words: &["radus_m", "geometry.protrusions.0", "radius_m", "scene.json", "line 4"],
        },
        Case {
            name: "mismatched-bracket",
            input: Input::Scene("{ \"name\": \"x\", \n \"geometry\": { ] }".into(), &[]),
            words: &["scene.json", "line 2"],
        },
        Case {
            name: "protrusion-off-centre-outside",
            input: Input::Scene(with(BASE, "[0.0, 0.0]", "[3.5e-6, 0.0]"), &[]),
            words: &["geometry.protrusions.0", "outside the box", "half_width_m"],
        },
        Case {
            name: "layer-zero-thickness",
            input: Input::Set(&[r#"geometry.layers=[{"name":"c","kind":"conformal","thickness_m":0}]"#]),
            words: &["geometry.layers.0.thickness_m", "positive"],
        },
        Case {
            name: "layer-too-thick",
            input: Input::Set(&[r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1}]"#]),
            words: &["geometry.layers.0.thickness_m", "80%", "height_m"],
        },
        Case {
            name: "layer-kind",
            input: Input::Set(&[r#"geometry.layers=[{"name":"c","kind":"wavy","thickness_m":1e-7}]"#]),
            words: &["wavy", "conformal", "planar"],
        },
        Case {
            name: "layer-names",
            input: Input::Set(&[
                r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-7}, {"name":"c","kind":"planar","thickness_m":1e-7}]"#,
            ]),
            words: &["geometry.layers.1.name", "no other layer"],
        },
        Case {
            name: "porosity-profile-above-one",
            input: Input::Set(&[
                r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"porosity":{"bottom":0.5,"top":1.2}}]"#,
            ]),
            words: &["geometry.layers.0.porosity", "1.2"],
        },
        Case {
            name: "porosity-profile-form",
            input: Input::Set(&[
                r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"porosity":{"bottom":0.5,"slope":2}}]"#,
            ]),
            words: &["geometry.layers.0.porosity", "slope"],
        },
        Case {
            name: "tortuosity-below-one",
            input: Input::Set(&[r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"tortuosity":0.5}]"#]),
            words: &["geometry.layers.0.tortuosity", "0.5"],
        },
        Case {
            name: "fixed-charge-primary",
            input: Input::Set(&[
                r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"fixed_charge_mol_m3":-100}]"#,
            ]),
            words: &["fixed_charge_mol_m3", "tertiary", "primary"],
        },
        Case {
            name: "solid-primary",
            input: Input::Set(&[
                r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"solid":{"specific_area_m_1":1e5,"exchange_current_density_A_m2":1}}]"#,
            ]),
            words: &["geometry.layers.0.solid", "secondary", "primary"],
        },
        Case {
            name: "solid-area-negative",
            input: Input::Set(&[
                r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"solid":{"specific_area_m_1":-1,"exchange_current_density_A_m2":1}}]"#,
                "physics.model=secondary",
            ]),
            words: &["geometry.layers.0.solid.specific_area_m_1", "-1"],
        },
        Case {
            name: "solid-second-layer",
            input: Input::Set(&[
                r#"geometry.layers=[{"name":"a","kind":"planar","thickness_m":1e-7}, {"name":"b","kind":"planar","thickness_m":1e-7,"solid":{"specific_area_m_1":1,"exchange_current_density_A_m2":1}}]"#,
                "physics.model=secondary",
            ]),
            words: &["geometry.layers.1.solid", "first layer"],
        },
        Case {
            name: "porous-pnp",
            input: Input::Set(&[
                r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-6,"porosity":0.5}]"#,
                "physics.model=pnp",
                "physics.pnp_electrode=reacting",
            ]),
            words: &["geometry.layers.0.porosity", "pnp", "tertiary"],
        },
        Case {
            name: "scaffold-exchange-current",
            input: Input::Set(&[
                r#"geometry.scaffold={"particles":[{"center_m":[0,0,2e-6],"radius_m":2e-7}],"surface_exchange_current_density_A_m2":-5}"#,
                "physics.model=secondary",
            ]),
            words: &["surface_exchange_current_density_A_m2", "-5"],
        },
        Case {
            name: "fibre-tilted",
            input: Input::Set(&[r#"geometry.scaffold={"fibres":[{"point_m":[0,0,1e-6],"direction":[1,0,1],"radius_m":1e-7}]}"#]),
            words: &["geometry.scaffold.fibres.0.direction", "horizontal"],
        },
        Case {
            name: "particle-touching",
            input: Input::Set(&[r#"geometry.scaffold={"particles":[{"center_m":[0,0,1e-7],"radius_m":2e-7}]}"#]),
            words: &["geometry.scaffold.particles.0", "clear of the electrode"],
        },
        Case {
            name: "mat-porosity",
            input: Input::Set(&[
                r#"geometry.scaffold={"fibre_mat":{"seed":1,"radius_m":1e-7,"porosity":1.5,"z_min_m":1e-6,"z_max_m":2e-6}}"#,
            ]),
            words: &["geometry.scaffold.fibre_mat.porosity", "1.5", "(0, 1)"],
        },
        Case {
            name: "set-index",
            input: Input::Set(&["geometry.protrusions.3.radius_m=1e-6"]),
            words: &["index 3", "1 entries"],
        },
        Case { name: "set-bad-value", input: Input::Set(&["mesh.refine=lots"]), words: &["mesh.refine", "lots"] },
        Case {
            name: "slice-outside",
            input: Input::Set(&[r#"output.slices=[{"normal": "x", "at_m": 5e-6}]"#]),
            words: &["output.slices.0.at_m", "5e-6", "outside the domain", "-4e-6 to 4e-6"],
        },
        Case {
            name: "slice-axis",
            input: Input::Set(&[r#"output.slices=[{"normal": "w", "at_m": 0}]"#]),
            words: &["output.slices.0.normal", "`w`", "x", "z"],
        },
        Case {
            name: "slice-misses-mesh",
            input: Input::Msh(|t| t, &[r#"output.slices=[{"normal": "z", "at_m": 1}]"#]),
            words: &["mesh.msh", "output.slices.0.at_m", "misses the mesh"],
        },
        Case {
            name: "pnp-blocking-current",
            input: Input::Set(&["physics.model=\"pnp\"", "operation.mode=\"current\""]),
            words: &["operation.mode", "blocking", "pnp_electrode", "reacting"],
        },
        Case {
            name: "pnp-stern",
            input: Input::Set(&[
                "physics.model=\"pnp\"",
                "physics.pnp_electrode=\"reacting\"",
                "physics.stern_capacitance_F_m2=0",
            ]),
            words: &["physics.stern_capacitance_F_m2", "0"],
        },
        // --- resources: refused before anything is allocated -----------------------------------
        Case {
            name: "box-1e308",
            input: Input::Set(&["geometry.half_width_m=1e308"]),
            words: &["geometry.half_width_m", "1e308", "[1e-10, 1]"],
        },
        Case { name: "height-1e308", input: Input::Set(&["geometry.height_m=1e308"]), words: &["geometry.height_m", "1e308"] },
        Case {
            name: "box-1mm-default-sizes",
            input: Input::Set(&["geometry.half_width_m=1e-3", "mesh.size_near_m=1e-7", "mesh.size_far_m=1e-6"]),
            words: &["needs more than", "tetrahedra"],
        },
        Case {
            name: "sizes-1e-10",
            input: Input::Set(&["mesh.size_near_m=1e-10", "mesh.size_far_m=1e-10"]),
            words: &["1.000e-10", "tetrahedra"],
        },
        Case {
            name: "mat-porosity-unreachable",
            input: Input::Set(&[
                r#"geometry.scaffold={"fibre_mat":{"seed":1,"radius_m":1e-7,"porosity":1e-6,"z_min_m":1e-6,"z_max_m":2e-6}}"#,
            ]),
            words: &["geometry.scaffold.fibre_mat.porosity", "not reached", "2000 fibres"],
        },
        Case {
            name: "too-many-output-times",
            input: Input::Scene(
                with(
                    &tertiary,
                    r#""physics""#,
                    &format!(
                        r#""time": {{"end_s": 1, "output_times_s": [{}]}}, "physics""#,
                        (1..=1001).map(|k| format!("{}", k as f64 * 1e-4)).collect::<Vec<_>>().join(",")
                    ),
                ),
                &[],
            ),
            words: &["time.output_times_s", "1001 entries", "1000"],
        },
        Case {
            name: "too-many-time-steps",
            input: Input::Scene(tertiary.clone(), &[r#"time={"end_s":1e6,"max_step_s":1e-3}"#]),
            words: &["time.max_step_s", "0.001", "100000 steps"],
        },
        Case {
            name: "array-members-in-all",
            input: Input::Set(&[
                r#"geometry.arrays=[{"protrusion":{"shape":"hemisphere","center_m":[0,0],"radius_m":1e-8},"pitch_m":[1e-8,1e-8],"count":[100,100]},{"protrusion":{"shape":"hemisphere","center_m":[0,0],"radius_m":1e-8},"pitch_m":[1e-8,1e-8],"count":[100,100]}]"#,
            ]),
            words: &["protrusions in all", "20001 entries", "10000"],
        },
        Case {
            name: "species-name-markup",
            input: Input::Set(&[
                "physics.model=tertiary",
                r#"physics.species=[{"name":"Zn<2+>","charge":2,"diffusivity_m2_s":7e-10,"bulk_concentration_mol_m3":1000},{"name":"SO4 2-","charge":-2,"diffusivity_m2_s":1e-9,"bulk_concentration_mol_m3":1000}]"#,
            ]),
            words: &["physics.species.0.name", "Zn<2+>", "control characters"],
        },
        Case {
            name: "newton-cap",
            input: Input::Set(&["solver.newton_max_iterations=4000000000"]),
            words: &["solver.newton_max_iterations", "4000000000", "1..=10000"],
        },
        Case {
            name: "radius-1e-200",
            input: Input::Set(&["geometry.protrusions.0.radius_m=1e-200"]),
            words: &["geometry.protrusions.0.radius_m", "1e-200", "[1e-10, 1]"],
        },
        Case {
            name: "conductivity-1e308",
            input: Input::Set(&["physics.model=secondary", "physics.conductivity_S_m=1e308"]),
            words: &["physics.conductivity_S_m", "1e308", "[1e-6, 1e4]"],
        },
        Case {
            name: "exchange-1e15",
            input: Input::Set(&["physics.model=secondary", "physics.kinetics.exchange_current_density_A_m2=1e15"]),
            words: &["physics.kinetics.exchange_current_density_A_m2", "1e15"],
        },
        Case {
            name: "layer-1e-308",
            input: Input::Set(&[r#"geometry.layers=[{"name":"c","kind":"planar","thickness_m":1e-308}]"#]),
            words: &["geometry.layers.0.thickness_m", "1e-308"],
        },
        Case {
            name: "waveform-value-1e308",
            input: Input::Scene(
                tertiary.clone(),
                &[
                    r#"time={"end_s":0.05}"#,
                    r#"operation.waveform={"kind":"table","times_s":[0,0.01,0.06],"values":[-100,1e308,-100]}"#,
                ],
            ),
            words: &["operation.waveform.values.1", "1e308"],
        },
        Case {
            name: "newline-in-a-name",
            input: Input::Msh(|t| t, &["geometry.boundaries.electrode=[\"elec\\ntrode\u{1b}\"]"]),
            words: &["elec\\ntrode\\u{1b}"],
        },
        Case {
            name: "trailing-junk",
            input: Input::Scene(format!("{BASE}\n{{}}"), &[]),
            words: &["scene.json", "after the end of the JSON object", "line 8"],
        },
        Case {
            name: "species-names-collide",
            input: Input::Set(&[
                "physics.model=tertiary",
                r#"physics.species=[{"name":"Zn2+","charge":2,"diffusivity_m2_s":7e-10,"bulk_concentration_mol_m3":1000},{"name":"Zn2p","charge":-2,"diffusivity_m2_s":1e-9,"bulk_concentration_mol_m3":1000}]"#,
            ]),
            words: &["physics.species.1.name", "Zn2p", "Zn2+", "share output names"],
        },
        Case {
            name: "msh-unit-1e308",
            input: Input::Msh(|t| t, &["geometry.length_unit_m=1e308"]),
            words: &["geometry.length_unit_m", "1e308"],
        },
        Case {
            name: "msh-unit-1e-300",
            input: Input::Msh(|t| t, &["geometry.length_unit_m=1e-300"]),
            words: &["geometry.length_unit_m", "1e-300"],
        },
        Case {
            name: "msh-tiny-extent",
            input: Input::Msh(|t| t, &["geometry.length_unit_m=1e-12"]),
            words: &["mesh.msh", "the mesh spans", "length_unit_m"],
        },
        Case {
            name: "msh-nan-coordinate",
            input: Input::Msh(|t| replace_node(&t, 2, "2 nan 0 0"), &[]),
            words: &["mesh.msh", "node 2", "not a finite number"],
        },
        Case {
            name: "msh-duplicate-node-id",
            input: Input::Msh(|t| replace_node(&t, 2, "1 0 0 0"), &[]),
            words: &["mesh.msh", "node id 1 appears twice"],
        },
        Case {
            name: "msh-group-two-roles",
            input: Input::Msh(
                |t| t,
                &[r#"geometry.boundaries={"electrode":["electrode"],"bulk":["top", "electrode"],"insulating":["sides"]}"#],
            ),
            words: &["mesh.msh", "`electrode`", "two roles", "electrode and bulk"],
        },
        Case {
            name: "msh-not-echoed",
            input: Input::Msh(|_| "root:x:0:0:secret-line\n".into(), &[]),
            words: &["mesh.msh", "not a Gmsh MSH file"],
        },
        Case {
            name: "pnp-reacting-species",
            input: Input::Set(&[
                "physics.model=\"pnp\"",
                "physics.pnp_electrode=\"reacting\"",
                "physics.kinetics.reacting_species=\"Cu2+\"",
            ]),
            words: &["physics.kinetics.reacting_species", "Cu2+", "Zn2+"],
        },
        // --- relief and growth ----------------------------------------------------------------
        Case {
            name: "growth-negative-density",
            input: Input::Set(&[r#"growth={"end_charge_C_m2": 100, "density_g_cm3": -7.14}"#]),
            words: &["growth.density_g_cm3", "-7.14"],
        },
        Case {
            name: "growth-without-end",
            input: Input::Set(&[r#"growth={"outputs": 3}"#]),
            words: &["`growth`", "end_charge_C_m2", "end_s"],
        },
        Case {
            name: "growth-with-time-block",
            input: Input::Set(&["physics.model=\"tertiary\"", r#"time={"end_s": 1}"#, r#"growth={"end_s": 10}"#]),
            words: &["`growth`", "quasi-steady", "`time`"],
        },
        Case {
            name: "growth-pnp",
            input: Input::Set(&[
                "physics.model=\"pnp\"",
                "operation.mode=\"potential\"",
                "operation.electrode_potential_V=-0.01",
                r#"growth={"end_s": 10}"#,
            ]),
            words: &["`growth`", "pnp"],
        },
        Case {
            name: "growth-overhang",
            input: Input::Set(&[
                r#"geometry.protrusions=[{"shape": "mushroom", "center_m": [0, 0], "stalk_radius_m": 3e-7, "stalk_height_m": 1e-6, "cap_radius_m": 6e-7}]"#,
                r#"growth={"end_s": 10}"#,
            ]),
            words: &["geometry.protrusions.0", "mushroom", "height field"],
        },
        Case {
            name: "growth-layered-mesher",
            input: Input::Set(&["mesh.generator=\"layered\"", r#"growth={"end_s": 10}"#]),
            words: &["mesh.generator", "layered", "bisection"],
        },
        Case {
            name: "growth-waveform-by-charge",
            input: Input::Set(&[
                r#"growth={"end_charge_C_m2": 100}"#,
                r#"operation.waveform={"kind": "pulse", "period_s": 1, "on_fraction": 0.5, "off_value": 0}"#,
            ]),
            words: &["growth.end_charge_C_m2", "waveform", "growth.end_s"],
        },
        Case {
            name: "growth-more-pulses-than-steps",
            input: Input::Set(&[
                r#"growth={"end_s": 100, "max_steps": 50}"#,
                r#"operation.waveform={"kind": "pulse", "period_s": 1, "on_fraction": 0.5, "off_value": 0}"#,
            ]),
            words: &["growth.max_steps", "breakpoints", "50"],
        },
        Case {
            name: "relief-reaches-the-bulk",
            input: Input::Set(&[r#"geometry.relief={"modes": [{"amplitude_m": 2.5e-6, "wavelength_m": 4e-6}]}"#]),
            words: &["geometry.relief.modes", "80%", "geometry.height_m"],
        },
        Case {
            name: "relief-negative-wavelength",
            input: Input::Set(&[r#"geometry.relief={"modes": [{"amplitude_m": 1e-7, "wavelength_m": -4e-6}]}"#]),
            words: &["geometry.relief.modes.0.wavelength_m", "-4e-6"],
        },
    ]
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("znfield-bad-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs one case; returns a description of what went wrong, if anything.
fn check(case: &Case) -> Option<String> {
    let dir = scratch(case.name);
    let out = dir.join("out");
    let scene = dir.join("scene.json");
    let mut args: Vec<String> = vec!["run".into()];
    let sets: &[&str] = match &case.input {
        Input::Set(sets) => {
            std::fs::write(&scene, BASE).expect("scene");
            args.push(scene.display().to_string());
            sets
        }
        Input::Scene(text, sets) => {
            std::fs::write(&scene, text).expect("scene");
            args.push(scene.display().to_string());
            sets
        }
        Input::Msh(change, sets) => {
            let msh = std::fs::read_to_string("meshes/hemisphere_coarse_v22.msh").expect("mesh");
            std::fs::write(dir.join("mesh.msh"), change(msh)).expect("mesh");
            let text = std::fs::read_to_string("scenes/hemisphere_gmsh.json").expect("scene");
            std::fs::write(&scene, text.replace("../meshes/hemisphere.msh", "mesh.msh")).expect("scene");
            args.push(scene.display().to_string());
            sets
        }
        Input::Args(extra) => {
            args.extend(extra.iter().map(|s| s.to_string()));
            &[]
        }
    };
    for s in sets {
        args.push("--set".into());
        args.push(s.to_string());
    }
    args.extend(["--out".into(), out.display().to_string(), "--backend".into(), "cpu".into()]);
    let o = common::run_bounded(&args, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let mut problems = Vec::new();
    if o.status.code() != Some(2) {
        problems.push(format!("exit code {:?}", o.status.code()));
    }
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    if errors.len() != 1 {
        problems.push(format!("{} error lines", errors.len()));
    }
    for w in case.words {
        if !stderr.contains(w) {
            problems.push(format!("message lacks `{w}`"));
        }
    }
    if Path::new(&out).exists() {
        problems.push("output directory created".into());
    }
    if case.name == "msh-not-echoed" && stderr.contains("secret") {
        problems.push("the message echoes the file's contents".into());
    }
    let _ = std::fs::remove_dir_all(&dir);
    (!problems.is_empty()).then(|| format!("{}: {} -- stderr: {}", case.name, problems.join(", "), stderr.trim()))
}

#[test]
fn every_bad_input_is_refused_with_one_clear_message_and_no_output() {
    let cases = catalogue();
    assert!(cases.len() >= 79, "the catalogue has {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
