//! The command-line contract: what each command writes, exit codes, and output directories left
//! alone on failure. The catalogue of bad inputs (exit code 2, one message naming the file, key
//! and value, no output) is tests/bad_inputs.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn znfield(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_znfield")).args(args).output().expect("run znfield")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("znfield-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

const GOOD: &str = common::TINY_SCENE;

#[test]
fn missing_scene_file_is_an_input_error() {
    let dir = scratch("missing");
    let o = znfield(&["run", &dir.join("nope.json").display().to_string(), "--out", &dir.join("out").display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope.json"));
    assert!(!dir.join("out").exists());
}

/// A session without a runtime directory (ssh, containers) gets no "XDG_RUNTIME_DIR is
/// invalid" error from the Vulkan loader's probe: znfield gives it a private one.
#[test]
fn no_runtime_directory_error_without_xdg_runtime_dir() {
    let o =
        Command::new(env!("CARGO_BIN_EXE_znfield")).arg("devices").env_remove("XDG_RUNTIME_DIR").output().expect("run znfield");
    assert!(o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
}

#[test]
fn unknown_backend_is_an_argument_error() {
    let o = znfield(&["run", "--backend", "tpu"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Reads a VTU written with zlib-compressed appended data and checks that the arrays are
/// contiguous and each one's header (`[blocks, block size, last block size, compressed sizes..]`)
/// accounts for its bytes exactly.
fn check_vtu(path: &Path, arrays: &[&str]) {
    let bytes = std::fs::read(path).expect("vtu");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("compressor=\"vtkZLibDataCompressor\""), "{} is not compressed", path.display());
    for a in arrays {
        assert!(text.contains(&format!("Name=\"{a}\"")), "{} lacks array {a}", path.display());
    }
    let start = bytes.windows(4).position(|w| w == b"   _").expect("appended marker") + 4;
    let word = |at: usize| u64::from_le_bytes(bytes[start + at..start + at + 8].try_into().expect("header")) as usize;
    let mut offsets: Vec<usize> = text
        .match_indices("offset=\"")
        .map(|(i, m)| text[i + m.len()..].split('"').next().unwrap_or("").parse().expect("offset"))
        .collect();
    offsets.sort_unstable();
    let mut pos = 0;
    for off in offsets {
        assert_eq!(off, pos, "blocks must be contiguous");
        let blocks = word(pos);
        pos += 8 * (3 + blocks) + (0..blocks).map(|k| word(off + 8 * (3 + k))).sum::<usize>();
    }
    assert!(bytes[start + pos..].starts_with(b"\n  </AppendedData>"));
}

#[test]
fn run_writes_complete_outputs() {
    let dir = scratch("good");
    let scene = dir.join("scene.json");
    std::fs::write(&scene, GOOD).expect("write");
    let out = dir.join("out");
    let o = znfield(&["run", &scene.display().to_string(), "--out", &out.display().to_string(), "--backend", "cpu"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary")).expect("json");
    for key in [
        "/scene/name",
        "/backend/kind",
        "/backend/adapter",
        "/backend/precision",
        "/mesh/nodes",
        "/mesh/tets",
        "/mesh/min_dihedral_deg",
        "/solver/converged",
        "/solver/linear_iterations",
        "/solver/nonlinear_iterations",
        "/solver/wall_time_s",
        "/electrode/current_density_A_m2/mean",
        "/electrode/current_density_A_m2/max",
        "/electrode/current_density_A_m2/min",
        "/electrode/current_density_A_m2/std",
        "/electrode/tip_enhancement",
        "/electrode/nonuniformity",
        "/electrolyte/max_field_V_m",
    ] {
        assert!(summary.pointer(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary.pointer("/backend/kind").and_then(|v| v.as_str()), Some("cpu"));
    check_vtu(
        &out.join("fields.vtu"),
        &["electrolyte_potential_V", "field_V_m", "field_magnitude_V_m", "current_density_A_m2", "region_id"],
    );
    check_vtu(
        &out.join("electrode.vtu"),
        &["normal_current_density_A_m2", "plating_current_density_A_m2", "electrolyte_potential_V"],
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn slices_follow_the_scene_and_maps_can_be_switched_off() {
    let dir = scratch("slices");
    let scene = dir.join("scene.json");
    std::fs::write(&scene, GOOD).expect("write");
    let pngs = |out: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(out)
            .expect("out")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.ends_with(".png"))
            .collect();
        names.sort();
        names
    };
    let run = |out: &Path, set: &str| {
        let o = run_scene(&scene, out, &["--set", set]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let two = dir.join("two");
    run(&two, r#"output.slices=[{"normal": "x", "at_m": 0}, {"normal": "z", "at_m": 5e-7}]"#);
    let mut expected = vec!["electrode_3d.png".to_string(), "electrode_current_density.png".to_string()];
    expected.extend(["profile_electrode_current_density.png".to_string(), "profile_z_potential.png".to_string()]);
    for k in 1..=2 {
        expected.extend(["current_density", "field_magnitude", "potential"].map(|f| format!("slice{k}_{f}.png")));
    }
    assert_eq!(pngs(&two), expected);
    assert!(two.join("view.html").exists(), "the interactive viewer comes with the maps");
    let none = dir.join("none");
    run(&none, "output.maps=false");
    assert!(pngs(&none).is_empty());
    assert!(!none.join("view.html").exists());
    assert!(none.join("summary.json").exists());
    assert!(none.join("profile_electrode.csv").exists(), "the profiles' data is written without the maps");
}

/// `output.svg` writes an SVG beside every PNG figure: each parses as XML with an `<svg>` root
/// of the PNG's size; a map's or view's pixels are one embedded PNG of the map's data size,
/// and its text is vector text in the units `output.units` asks for (mV, mA/cm²), the colour
/// bar of the current density over the range `output.colour_range` fixes (9.6 to 9.8 mA/cm²).
#[test]
fn svg_figures_parse_and_follow_the_chosen_units_and_range() {
    let dir = scratch("svg");
    let scene = dir.join("tiny.json");
    std::fs::write(&scene, GOOD).expect("scene");
    let out = dir.join("out");
    let units = r#"output.units={"potential":"mV","current_density":"mA/cm^2"}"#;
    let range = r#"output.colour_range={"current_density_A_m2":[96,98]}"#;
    let o = run_scene(&scene, &out, &["--set", "output.svg=true", "--set", units, "--set", range]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let pngs: Vec<String> = listing(&out).into_iter().filter(|n| n.ends_with(".png")).collect();
    assert!(pngs.len() >= 7, "{pngs:?}");
    for png in &pngs {
        let svg_name = png.replace(".png", ".svg");
        let svg = std::fs::read_to_string(out.join(&svg_name)).unwrap_or_else(|e| panic!("{svg_name}: {e}"));
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{svg_name} is not XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg", "{svg_name}");
        let (w, h) = png_size(&out.join(png));
        let size = |a: &str| root.attribute(a).and_then(|v| v.parse::<u32>().ok());
        assert_eq!((size("width"), size("height")), (Some(w), Some(h)), "{svg_name}: the PNG's size");
        let text: String = doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
        let images: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("image")).collect();
        let is_plot = png.starts_with("profile_") || png.starts_with("transient_");
        assert_eq!(images.len(), usize::from(!is_plot), "{svg_name}: one embedded image for a map or view, none for a plot");
        if let Some(image) = images.first() {
            let href = image.attribute("href").expect("href");
            let data = href.strip_prefix("data:image/png;base64,").expect("a PNG data URL");
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD.decode(data).expect("base64");
            let embedded = dir.join("embedded.png");
            std::fs::write(&embedded, &bytes).expect("embedded.png");
            let (iw, ih) = png_size(&embedded);
            let attr = |a: &str| image.attribute(a).and_then(|v| v.parse::<u32>().ok());
            assert_eq!((attr("width"), attr("height")), (Some(iw), Some(ih)), "{svg_name}: one image pixel per figure pixel");
        }
        if png.contains("potential") && !png.contains("current") {
            assert!(text.contains("(mV)"), "{svg_name}: potential in mV: {text:.300}");
        }
        if png.contains("current_density") || png.starts_with("electrode_3d") {
            assert!(text.contains("mA/cm²"), "{svg_name}: current density in mA/cm²");
        }
        if png.starts_with("electrode_") && !png.starts_with("profile") {
            assert!(text.contains("9.8") && text.contains("9.6"), "{svg_name}: the fixed range's ends on the colour bar");
        }
    }
}

/// `znfield run SCENE --out OUT --backend cpu EXTRA...`.
fn run_scene(scene: &Path, out: &Path, extra: &[&str]) -> Output {
    let (scene, out) = (scene.display().to_string(), out.display().to_string());
    let mut args = vec!["run", scene.as_str(), "--out", out.as_str(), "--backend", "cpu"];
    args.extend(extra);
    znfield(&args)
}

/// `--json` puts summary.json on stdout for scripts; `--quiet` leaves stderr empty on success.
#[test]
fn json_and_quiet_serve_scripts() {
    let dir = scratch("json");
    let scene = dir.join("scene.json");
    std::fs::write(&scene, GOOD).expect("write");
    let out = dir.join("out");
    let o = run_scene(&scene, &out, &["--json", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "--quiet printed: {}", String::from_utf8_lossy(&o.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary")).expect("JSON");
    assert_eq!(printed, written);
    let loud = run_scene(&scene, &out, &["--overwrite"]);
    assert!(loud.stdout.is_empty(), "without --json nothing goes to stdout");
    assert!(String::from_utf8_lossy(&loud.stderr).contains("tip_enhancement"));
}

/// `znfield bench` reports a row per size with the complexity figures (no time is asserted).
#[test]
fn bench_reports_sizes_iterations_and_bandwidths() {
    let o = znfield(&["bench", "--sizes", "0.25,0.4", "--json", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let rows = report["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    let number = |k: usize, key: &str| rows[k][key].as_f64().unwrap_or_else(|| panic!("{key}"));
    assert!(number(1, "unknowns") > 1.5 * number(0, "unknowns"));
    for k in 0..2 {
        assert!(number(k, "iterations") <= 20.0, "multigrid CG iterations {}", number(k, "iterations"));
        for key in ["spmv_bandwidth_gb_s", "copy_bandwidth_gb_s", "spmv_over_copy", "end_to_end_s"] {
            assert!(number(k, key) > 0.0 && number(k, key).is_finite(), "{key}");
        }
    }
    assert_eq!(report["preconditioner"], "amg");
}

/// A mesh too coarse for the protrusion runs, but warns on stderr (even with --quiet) and in
/// summary.json.
#[test]
fn suspicious_settings_warn_without_failing() {
    let dir = scratch("warn");
    let scene = dir.join("scene.json");
    std::fs::write(&scene, GOOD).expect("write");
    let out = dir.join("out");
    let o = run_scene(&scene, &out, &["--set", "mesh.size_near_m=9e-7", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("under-resolved") && stderr.contains("geometry.protrusions.0"),
        "{stderr}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary")).expect("JSON");
    let warnings = summary["warnings"].as_array().expect("warnings in summary.json");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}

#[test]
fn builtin_default_scene_runs_and_matches_the_shipped_file() {
    let shipped = std::fs::read_to_string("scenes/default.json").expect("scenes/default.json");
    assert_eq!(shipped, znfield::scene::DEFAULT_SCENE_JSON);
    let dir = scratch("default");
    let out = dir.join("out");
    let o = znfield(&["run", "--out", &out.display().to_string(), "--backend", "cpu", "--set", "mesh.refine=0.5"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary")).expect("json");
    assert_eq!(summary.pointer("/scene/name").and_then(|v| v.as_str()), Some("default"));
    assert_eq!(summary.pointer("/solver/converged").and_then(|v| v.as_bool()), Some(true));
    // Every stage's time is recorded, and together they stay within the run's wall time.
    let stages = ["mesh", "backend_open", "assembly", "multigrid_setup", "solve", "postprocess", "write"];
    let times: Vec<f64> = stages
        .iter()
        .map(|k| summary["timings_s"][k].as_f64().unwrap_or_else(|| panic!("summary.json lacks timings_s.{k}")))
        .collect();
    assert!(times.iter().all(|&t| t >= 0.0), "{times:?}");
    assert!(times[0] > 0.0 && times[3] > 0.0 && times[4] > 0.0, "meshing, multigrid setup and solve take time: {times:?}");
    let wall = summary["solver"]["wall_time_s"].as_f64().expect("wall time");
    let before_writing: f64 = times[..6].iter().sum();
    assert!(before_writing <= wall, "stages {before_writing} s, wall time {wall} s");
}

#[test]
fn devices_lists_adapters_and_the_auto_choice() {
    let o = znfield(&["devices"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("auto:"));
}

#[test]
fn mesh_command_writes_vtu_and_report() {
    let dir = scratch("mesh");
    let scene = dir.join("scene.json");
    std::fs::write(&scene, GOOD).expect("write");
    let out = dir.join("out");
    let o = znfield(&["mesh", &scene.display().to_string(), "--out", &out.display().to_string()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("mesh_report.json")).expect("report")).expect("json");
    let tets = report["tets"].as_u64().expect("tets");
    let faces: u64 = ["electrode", "bulk", "insulating"].iter().map(|k| report["faces"][k].as_u64().expect("faces")).sum();
    let histogram: u64 =
        report["dihedral_histogram"].as_array().expect("histogram").iter().map(|v| v.as_u64().expect("count")).sum();
    assert_eq!(histogram, 6 * tets, "six dihedral angles per tet");
    let exact = report["exact_volume_m3"].as_f64().expect("exact volume of a hemisphere in a box");
    let meshed = report["region_volume_m3"][0].as_f64().expect("volume");
    assert!((meshed / exact - 1.0).abs() < 5e-3, "volume {meshed} vs exact {exact}");
    check_vtu(&out.join("mesh.vtu"), &["region_id", "boundary_tag"]);
    let vtu = std::fs::read_to_string(out.join("mesh.vtu"))
        .unwrap_or_else(|_| String::from_utf8_lossy(&std::fs::read(out.join("mesh.vtu")).expect("vtu")).into_owned());
    assert!(vtu.contains(&format!("NumberOfCells=\"{}\"", tets + faces)));
    assert!(!out.join("summary.json").exists(), "mesh must not solve");
}

/// Coated runs add the coating block to summary.json and the material arrays to fields.vtu
/// (and the solid potential of a resistive scaffold).
#[test]
fn coated_runs_write_materials_and_the_coating_block() {
    for (scene, arrays) in [
        ("scenes/charged_coating.json", vec!["porosity", "transport_factor", "fixed_charge_mol_m3", "c_Zn2p_mol_m3"]),
        ("scenes/cf_scaffold.json", vec!["porosity", "solid_potential_V", "volumetric_exchange_current_A_m3"]),
    ] {
        let dir = scratch("coated");
        let out = dir.join("out");
        let o = znfield(&["run", scene, "--out", &out.display().to_string(), "--backend", "cpu", "--set", "mesh.refine=0.4"]);
        assert!(o.status.success(), "{scene}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("znfield: coating:"), "{scene}: no coating line on stderr");
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary")).expect("JSON");
        let bins = summary.pointer("/coating/deposition_by_depth").and_then(|v| v.as_array()).expect("deposition_by_depth");
        assert_eq!(bins.len(), 10, "{scene}: ten depth bins");
        check_vtu(&out.join("fields.vtu"), &arrays);
    }
}

/// `znfield sweep` over two protrusion heights and two currents: four rows in sweep.csv and
/// sweep.json, the tip enhancement rising with the height (oblate 0.5 um to prolate 2 um
/// hemi-spheroid) and independent of the current in the linear primary model, the mean current
/// density following the applied one. A bad value stops the sweep before anything is written.
#[test]
fn sweep_writes_the_cartesian_product_with_sensible_trends() {
    let dir = scratch("sweep");
    let out = dir.join("out");
    let shape = r#"geometry.protrusions=[{"shape":"hemispheroid","center_m":[0,0],"height_m":1e-6,"base_radius_m":1e-6}]"#;
    let args = |heights: &str| {
        vec![
            "sweep".to_string(),
            "scenes/hemisphere_primary.json".into(),
            "--json".into(),
            "--out".into(),
            out.display().to_string(),
            "--backend".into(),
            "cpu".into(),
            "--set".into(),
            "mesh.refine=0.4".into(),
            "--set".into(),
            shape.into(),
            "--set".into(),
            format!("geometry.protrusions.0.height_m={heights}"),
            "--set".into(),
            "operation.mean_current_density_A_m2=-50,-100".into(),
        ]
    };
    let bad: Vec<String> = args("0.5e-6,-2e-6");
    let o = znfield(&bad.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("height_m"));
    assert!(!out.exists(), "a rejected sweep wrote {}", out.display());
    let good: Vec<String> = args("0.5e-6,2e-6");
    let o = znfield(&good.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    assert_eq!(csv.lines().count(), 5, "header and four rows:\n{csv}");
    let sweep: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("sweep.json")).expect("json")).expect("JSON");
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).expect("--json: sweep.json on stdout");
    assert_eq!(printed, sweep);
    let points = sweep["points"].as_array().expect("points");
    assert_eq!(points.len(), 4);
    let metric = |k: usize, name: &str| points[k]["metrics"][name].as_f64().expect(name);
    // Points: (0.5 um, -50), (0.5 um, -100), (2 um, -50), (2 um, -100).
    assert!(metric(2, "tip_enhancement") > 2.0 * metric(0, "tip_enhancement"), "tip enhancement must rise with height");
    assert!((metric(0, "tip_enhancement") - metric(1, "tip_enhancement")).abs() < 1e-9, "linear model: no current dependence");
    assert!((metric(1, "mean_current_density_A_m2") / metric(0, "mean_current_density_A_m2") - 2.0).abs() < 1e-9);
    assert!(out.join("point_003").join("summary.json").exists());
    for metric in ["tip_enhancement", "mean_current_density_A_m2", "max_field_V_m"] {
        let (w, h) = png_size(&out.join(format!("sweep_{metric}.png")));
        assert!(w >= 600 && h >= 400, "sweep_{metric}.png is {w} x {h}");
    }
    assert!(!out.join("sweep_min_surface_concentration_mol_m3.png").exists(), "a primary scene has no concentrations to plot");
}

/// Width and height of a PNG file, after decoding all of it.
fn png_size(path: &Path) -> (u32, u32) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (info.width, info.height)
}

/// `znfield compare FIRST SECOND` into `out` on the CPU backend and a coarse mesh.
fn compare(first: &str, second: &str, out: &Path) -> Output {
    let out = out.display().to_string();
    znfield(&["compare", first, second, "--out", &out, "--backend", "cpu", "--set", "mesh.refine=0.5"])
}

/// `znfield compare` on the uniform and the Cu-graded scaffold: report.md and report.html with
/// both scenes side by side, the graded scaffold marked best for lower-half deposition, each
/// scene's outputs in its own directory; a bad scene stops it before anything is written.
#[test]
fn compare_writes_side_by_side_reports() {
    let dir = scratch("compare");
    let out = dir.join("out");
    let run = |second: &str| compare("scenes/cf_scaffold.json", second, &out);
    let o = run("scenes/no_such_scene.json");
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists(), "a rejected compare wrote {}", out.display());
    let o = run("scenes/cf_g_cu_gradient.json");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains("| metric | unit | cf_scaffold | cf_g_cu_gradient |"), "{md}");
    let lower = md.lines().find(|l| l.starts_with("| deposition in the coating's lower half")).expect("lower-half row");
    let cells: Vec<&str> = lower.split('|').map(str::trim).collect();
    assert!(!cells[3].starts_with("**") && cells[4].starts_with("**"), "the graded scaffold should be best: {lower}");
    // A lower peak that follows a lower mean current is not a better distribution: the max
    // current density is shown unmarked, the peak to mean is the marked row.
    let row =
        |label: &str| md.lines().find(|l| l.starts_with(&format!("| {label} |"))).unwrap_or_else(|| panic!("{label}: {md}"));
    assert!(!row("max current density").contains("**"), "{}", row("max current density"));
    row("peak to mean current density");
    // Each map's heading gives its colour scale with the unit the maps show.
    for heading in md.lines().filter(|l| l.starts_with("### ") && l.contains("(colour scale")) {
        let unit_end = heading.trim_end_matches(')').chars().last().expect("text");
        assert!(unit_end.is_alphabetic() || "²³".contains(unit_end), "no unit in {heading}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(!html.contains("http"), "report.html must not reach the network");
    assert!(out.join("cf_scaffold/summary.json").exists() && out.join("cf_g_cu_gradient/summary.json").exists());
    png_size(&out.join("maps/deposition_by_depth.png"));
    assert!(md.contains("![Deposition through the coating's depth](maps/deposition_by_depth.png)"), "{md}");
    for name in ["cf_scaffold", "cf_g_cu_gradient"] {
        png_size(&out.join(format!("maps/{name}_slice1_solid_potential.png")));
        assert!(md.contains(&format!("![{name}](maps/{name}_electrode_current_density.png)")), "{md}");
    }
}

/// `compare --overwrite` into an earlier comparison's directory leaves nothing of the earlier
/// one behind: the maps and the run directory of a scene no longer compared go, and what is
/// left is what the new comparison.json lists.
#[test]
fn compare_overwrite_leaves_no_stale_maps_or_runs() {
    let dir = scratch("compare-overwrite");
    let out = dir.join("out");
    let o = compare("scenes/hemisphere_primary.json", "scenes/insulating_coating.json", &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("maps/insulating_coating_slice1_concentration_Zn2p.png").exists());
    let again = compare("scenes/hemisphere_primary.json", "scenes/hemisphere_primary.json", &out);
    assert_eq!(again.status.code(), Some(2), "a second compare into the same directory is refused without --overwrite");
    let out_arg = out.display().to_string();
    let args = ["compare", "scenes/hemisphere_primary.json", "scenes/hemisphere_primary.json", "--out", &out_arg];
    let o = znfield(&[&args[..], &["--backend", "cpu", "--set", "mesh.refine=0.5", "--overwrite"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("comparison.json")).expect("comparison.json")).expect("JSON");
    let mut listed: Vec<String> =
        json["files"].as_array().expect("files").iter().filter_map(|v| v.as_str().map(String::from)).collect();
    listed.sort();
    let mut present: Vec<String> =
        listing(&out).into_iter().map(|n| if out.join(&n).is_dir() { format!("{n}/") } else { n }).collect();
    present.retain(|n| n != "maps/");
    present.extend(listing(&out.join("maps")).into_iter().map(|n| format!("maps/{n}")));
    present.sort();
    assert_eq!(present, listed, "the directory holds exactly what comparison.json lists");
    assert!(!out.join("insulating_coating").exists(), "the run of the scene no longer compared is gone");
}

/// `compare` on the primary hemisphere and a coated scene writes a report.html that headless
/// Chromium loads with every image decoded and nothing on the console. Skipped without
/// Chromium unless ZNFIELD_REQUIRE_BROWSER=1 (CI installs it and sets that).
#[test]
fn compare_report_loads_in_headless_chromium() {
    let dir = scratch("compare-browser");
    let out = dir.join("out");
    let o = compare("scenes/hemisphere_primary.json", "scenes/insulating_coating.json", &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    let images = html.matches("<img ").count();
    // Every compared picture each run wrote (the electrode map, the first slice's maps and
    // their zoom on the first protrusion, the 3D views) side by side, and the deposition-by-
    // depth plot.
    let compared = |run: &str| {
        let names = listing(&out.join(run));
        let shown = |n: &&String| n.ends_with(".png") && ["electrode_", "slice1_", "zoom1_"].iter().any(|p| n.starts_with(p));
        names.iter().filter(shown).count()
    };
    let (first, second) = (compared("hemisphere_primary"), compared("insulating_coating"));
    // electrode + 3 slices + 3 zooms + 2 views; the coated (tertiary) scene adds concentrations
    assert!(first >= 9 && second >= first + 2, "pictures of each run: {first}, {second}");
    assert_eq!(images, first + second + 1, "images in report.html");
    assert!(html.contains("electrode_3d.png") && html.contains("zoom1_potential.png"), "3D views and zooms are compared");
    // A page beside the report loads it in a frame and reports, in its title, how many images
    // the browser decoded.
    let probe = out.join("probe.html");
    std::fs::write(
        &probe,
        r#"<!DOCTYPE html><html><head><title>pending</title></head><body>
<iframe id="r" src="report.html" width="1200" height="900"></iframe>
<script>
document.getElementById('r').addEventListener('load', () => {
  const doc = document.getElementById('r').contentDocument;
  const imgs = doc ? Array.from(doc.images) : [];
  const decoded = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.title = 'images=' + imgs.length + ' decoded=' + decoded;
});
</script></body></html>"#,
    )
    .expect("probe.html");
    let Some((dom, log)) = common::headless_chromium_dom(&probe, &dir.join("profile")) else { return };
    assert!(dom.contains(&format!("<title>images={images} decoded={images}</title>")), "chromium: {dom}\n{log}");
    let console = common::console_messages(&log);
    assert!(console.is_empty(), "console messages: {console:?}");
}

/// view.html, the interactive electrode viewer, draws in headless Chromium: the script runs
/// without a console message, decodes every triangle of the electrode (the count it reports
/// equals electrode.vtu's), and colours a real share of the canvas (a blank or one-pixel
/// drawing fails). Skipped without Chromium unless ZNFIELD_REQUIRE_BROWSER=1.
#[test]
fn view_html_draws_the_electrode_in_headless_chromium() {
    let dir = scratch("view-browser");
    let (scene, out) = (dir.join("tiny.json"), dir.join("out"));
    std::fs::write(&scene, GOOD).expect("scene");
    let o = znfield(&["run", &scene.display().to_string(), "--out", &out.display().to_string()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let vtu = std::fs::read(out.join("electrode.vtu")).expect("electrode.vtu");
    let vtu = String::from_utf8_lossy(&vtu);
    let cells: usize = vtu
        .split("NumberOfCells=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("NumberOfCells");
    let Some((dom, log)) = common::headless_chromium_dom(&out.join("view.html"), &dir.join("profile")) else { return };
    let attribute = |name: &str| -> usize {
        let tail = dom.split(&format!("{name}=\"")).nth(1).unwrap_or_else(|| panic!("no {name} in the DOM: {dom:.400}\n{log}"));
        tail.split('"').next().and_then(|s| s.parse().ok()).expect(name)
    };
    assert_eq!(attribute("data-triangles"), cells, "triangles the viewer decoded");
    // The canvas is 900 x 640; the tiny scene's bump and ground fill most of it.
    let drawn = attribute("data-drawn-pixels");
    assert!(drawn > 900 * 640 / 5, "the viewer coloured only {drawn} pixels");
    let console = common::console_messages(&log);
    assert!(console.is_empty(), "console messages: {console:?}");
}

/// The names in `dir` other than the lock file, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n != ".znfield.lock")
        .collect();
    names.sort();
    names
}

/// summary.json's `files`, sorted.
fn listed_files(summary: &Path) -> Vec<String> {
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(summary).expect("summary")).expect("JSON");
    let files = summary["files"].as_array().expect("summary.json lists its files");
    assert_eq!(files.last().and_then(|f| f.as_str()), Some("summary.json"), "summary.json is written last");
    let mut names: Vec<String> = files.iter().map(|f| f.as_str().expect("name").to_string()).collect();
    names.sort();
    names
}

#[test]
fn outputs_never_replace_an_earlier_run_silently() {
    let dir = scratch("overwrite");
    let scene = dir.join("scene.json");
    std::fs::write(&scene, GOOD).expect("write");
    let out = dir.join("out");
    let first = run_scene(&scene, &out, &[]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(listed_files(&out.join("summary.json")), listing(&out), "summary.json lists exactly what is there");
    let told = String::from_utf8_lossy(&first.stderr);
    assert!(told.contains(&format!("wrote into {}: fields.vtu, electrode.vtu, ", out.display())), "{told}");
    assert!(listing(&out).iter().any(|f| f.ends_with(".png")), "the first run draws maps");

    let before = std::fs::read(out.join("summary.json")).expect("summary");
    let refused = run_scene(&scene, &out, &["--set", "output.maps=false"]);
    let text = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{text}");
    assert!(text.contains("holds the output of an earlier run") && text.contains("--overwrite"), "{text}");
    assert_eq!(std::fs::read(out.join("summary.json")).expect("summary"), before, "the refusal changed nothing");

    let replaced = run_scene(&scene, &out, &["--set", "output.maps=false", "--overwrite"]);
    assert!(replaced.status.success(), "{}", String::from_utf8_lossy(&replaced.stderr));
    assert!(!listing(&out).iter().any(|f| f.ends_with(".png")), "the earlier run's maps went with it: {:?}", listing(&out));
    assert_eq!(listed_files(&out.join("summary.json")), listing(&out));

    // Without --out: znfield-out/<name>, then <name>-2, and the user is told.
    let in_dir =
        |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_znfield")).args(args).current_dir(&dir).output().expect("run znfield");
    let scene_arg = scene.display().to_string();
    for (k, expected) in ["znfield-out/tiny", "znfield-out/tiny-2"].iter().enumerate() {
        let o = in_dir(&["run", &scene_arg, "--backend", "cpu", "--set", "output.maps=false"]);
        let text = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{text}");
        assert!(dir.join(expected).join("summary.json").exists(), "run {k} into {expected}");
        assert_eq!(text.contains("znfield-out/tiny holds an earlier run; writing to znfield-out/tiny-2"), k == 1, "{text}");
    }
    // `mesh --msh` says what it wrote, mesh.msh included.
    let o = in_dir(&["mesh", &scene_arg, "--msh", "--out", "mesh"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote into mesh: mesh.vtu, mesh.msh, mesh_report.json"));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("mesh/mesh_report.json")).expect("report")).expect("JSON");
    assert_eq!(report["files"], serde_json::json!(["mesh.vtu", "mesh.msh", "mesh_report.json"]));
    let _ = std::fs::remove_dir_all(&dir);
}
