//! `znfield validate`: an analytic suite. Each case runs a shipped scene from
//! `scenes/validation/` (embedded in the binary with its mesh, so the suite runs from anywhere)
//! and compares computed quantities with closed-form results (design.md section 5).

use std::f64::consts::PI;
use std::time::Instant;

use serde::Serialize;

use crate::backend::BackendChoice;
use crate::error::{Error, Result};
use crate::mesh::gmsh;
use crate::physics::constants::{thermal_voltage, FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY};
use crate::physics::electrolyte::Electrolyte;
use crate::run::{build_domain, imported_domain, run_domain, RunResult};
use crate::scene::{Scene, TransportWeights};

mod growth;
mod stern;

/// One compared quantity.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub case: String,
    pub quantity: String,
    pub computed: f64,
    pub expected: f64,
    pub rel_error: f64,
    pub tolerance: f64,
    pub passed: bool,
}

impl Check {
    pub(crate) fn new(case: &str, quantity: &str, computed: f64, expected: f64, tolerance: f64) -> Check {
        let rel_error = ((computed - expected) / expected).abs();
        Check {
            case: case.into(),
            quantity: quantity.into(),
            computed,
            expected,
            rel_error,
            tolerance,
            passed: rel_error.is_finite() && rel_error <= tolerance,
        }
    }
}

/// Case ids, in the order the suite runs them.
pub const CASES: [&str; 15] = [
    "secondary_flat",
    "secondary_flat_tafel",
    "limiting_current_binary",
    "sand_time_binary",
    "cottrell",
    "hemisphere_diffusion",
    "gouy_chapman",
    "pnp_reacting_binary",
    "porous_linear_kinetics",
    "donnan",
    "growth_flat",
    "growth_linear_stability",
    "growth_hemisphere_apex",
    "growth_pore_filling",
    "growth_scaffold_fibre",
];

const SECONDARY_FLAT: &str = include_str!("../../scenes/validation/secondary_flat.json");
const SECONDARY_FLAT_TAFEL: &str = include_str!("../../scenes/validation/secondary_flat_tafel.json");
const LIMITING_CURRENT: &str = include_str!("../../scenes/validation/limiting_current_binary.json");
const HEMISPHERE_DIFFUSION: &str = include_str!("../../scenes/validation/hemisphere_diffusion.json");
const SAND_TIME: &str = include_str!("../../scenes/validation/sand_time_binary.json");
const COTTRELL: &str = include_str!("../../scenes/validation/cottrell.json");
const GOUY_CHAPMAN: &str = include_str!("../../scenes/validation/gouy_chapman.json");
const PNP_REACTING: &str = include_str!("../../scenes/validation/pnp_reacting_binary.json");
const POROUS_LINEAR: &str = include_str!("../../scenes/validation/porous_linear_kinetics.json");
const DONNAN: &str = include_str!("../../scenes/validation/donnan.json");
const DONNAN_PNP: &str = include_str!("../../scenes/validation/donnan_pnp.json");
const HEMISPHERE_SHELL_MSH: &[u8] = include_bytes!("../../meshes/hemisphere_shell.msh");

/// Runs every case.
pub fn suite(backend: BackendChoice) -> Result<Vec<Check>> {
    let mut out = Vec::new();
    for case in CASES {
        out.extend(run_case(case, backend)?);
    }
    Ok(out)
}

/// Runs one case by id.
pub fn run_case(case: &str, backend: BackendChoice) -> Result<Vec<Check>> {
    match case {
        "secondary_flat" => secondary_flat(backend),
        "secondary_flat_tafel" => secondary_flat_tafel(backend),
        "limiting_current_binary" => limiting_current_binary(backend),
        "hemisphere_diffusion" => hemisphere_diffusion(backend),
        "gouy_chapman" => gouy_chapman(backend),
        "sand_time_binary" => sand_time_binary(backend),
        "cottrell" => cottrell(backend),
        "pnp_reacting_binary" => pnp_reacting_binary(backend),
        "porous_linear_kinetics" => porous_linear_kinetics(backend),
        "donnan" => donnan(backend),
        "growth_flat" => growth::flat(backend),
        "growth_linear_stability" => growth::linear_stability(backend),
        "growth_hemisphere_apex" => growth::hemisphere_apex(backend),
        "growth_pore_filling" => growth::pore_filling(backend),
        "growth_scaffold_fibre" => growth::scaffold_fibre(backend),
        other => Err(Error::input(format!("unknown validation case `{other}`; cases: {}", CASES.join(", ")))),
    }
}

pub(crate) fn embedded(text: &str, name: &str) -> Result<Scene> {
    Scene::parse(text, &format!("scenes/validation/{name}.json"), &[])
}

fn run_builtin(scene: &Scene, backend: BackendChoice) -> Result<RunResult> {
    run_domain(scene, build_domain(scene)?, backend, Instant::now())
}

/// Flat electrode with linear kinetics: i = E / (delta / kappa + R_ct).
fn secondary_flat(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(SECONDARY_FLAT, "secondary_flat")?;
    let r = run_builtin(&scene, backend)?;
    let ph = &scene.physics;
    let k = &ph.kinetics;
    let r_ct =
        thermal_voltage(ph.temperature_k) / (k.electrons as f64 * k.exchange_current_density_a_m2 * (k.alpha_a + k.alpha_c));
    let r_ohm = scene.geometry.height_m / Electrolyte::of(ph).conductivity_s_m;
    let e = scene.operation.electrode_potential_v.unwrap_or(0.0);
    let expected = e.abs() / (r_ohm + r_ct);
    Ok(vec![Check::new("secondary_flat", "current_density_A_m2", r.summary.electrode.current_density.mean, expected, 0.005)])
}

/// Flat electrode with full Butler–Volmer kinetics and a comparable ohmic drop: the uniform
/// current density i (anodic positive) solves `i = i0 f((E - i delta / kappa) / V_T)`, whose
/// right side falls as i rises, so the root is bracketed and found by bisection.
fn secondary_flat_tafel(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(SECONDARY_FLAT_TAFEL, "secondary_flat_tafel")?;
    let r = run_builtin(&scene, backend)?;
    let ph = &scene.physics;
    let k = &ph.kinetics;
    let vt = thermal_voltage(ph.temperature_k);
    let law = crate::physics::kinetics::ButlerVolmer::from_scene(k);
    let r_ohm = scene.geometry.height_m / Electrolyte::of(ph).conductivity_s_m;
    let e = scene.operation.electrode_potential_v.unwrap_or(0.0);
    let i0 = k.exchange_current_density_a_m2;
    // g(i) = i0 f((E - i R) / V_T) - i decreases in i; its root is the current density.
    let i = crate::physics::roots::root_of_decreasing(|i| i0 * law.current((e - i * r_ohm) / vt) - i, 1e7);
    let computed = r.summary.electrode.current_density.mean;
    Ok(vec![Check::new("secondary_flat_tafel", "current_density_A_m2", computed, i.abs(), 1e-3)])
}

/// Binary salt, cation reacts: i_lim = z+ nu+ F D_amb c / ((1 - t+) delta).
fn limiting_current_binary(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(LIMITING_CURRENT, "limiting_current_binary")?;
    let r = run_builtin(&scene, backend)?;
    let sp = &Electrolyte::of(&scene.physics).species;
    let expected = crate::physics::transport::binary_limiting_current(&sp[0], &sp[1], scene.geometry.height_m);
    Ok(vec![Check::new(
        "limiting_current_binary",
        "limiting_current_density_A_m2",
        r.summary.electrode.current_density.mean,
        expected,
        0.01,
    )])
}

/// Diffusion-limited current to a hemisphere: I = 2 pi n F D c / (1/R - 1/Ro), a quarter of it
/// on the quarter mesh.
fn hemisphere_diffusion(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(HEMISPHERE_DIFFUSION, "hemisphere_diffusion")?;
    let msh = gmsh::parse(HEMISPHERE_SHELL_MSH).map_err(|e| Error::input(format!("meshes/hemisphere_shell.msh: {e}")))?;
    let domain = imported_domain(&scene, &msh, "meshes/hemisphere_shell.msh")?;
    let r = run_domain(&scene, domain, backend, Instant::now())?;
    let zn = &Electrolyte::of(&scene.physics).species[0];
    let n = scene.physics.kinetics.electrons as f64;
    let (radius, outer) = (1e-6, 10e-6);
    let expected =
        0.25 * 2.0 * PI * n * FARADAY * zn.diffusivity_m2_s * zn.bulk_concentration_mol_m3 / (1.0 / radius - 1.0 / outer);
    Ok(vec![Check::new("hemisphere_diffusion", "total_current_A", r.summary.electrode.total_current.abs(), expected, 0.02)])
}

/// Galvanostatic depletion of a binary salt: tau = pi D_amb (z+ nu+ F c)^2 / (4 [i (1 - t+)]^2),
/// estimated from the last step before depletion with c_s = c (1 - sqrt(t / tau)).
fn sand_time_binary(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(SAND_TIME, "sand_time_binary")?;
    let r = run_builtin(&scene, backend)?;
    let sp = &Electrolyte::of(&scene.physics).species;
    let tr = r.transient.as_ref().ok_or_else(|| Error::Validation("sand_time_binary: no time series".into()))?;
    let last = tr.rows.last().ok_or_else(|| Error::Validation("sand_time_binary: no time steps".into()))?;
    if r.summary.transient.as_ref().map(|t| t.stopped_by) != Some("depletion") {
        return Err(Error::Validation("sand_time_binary: the run ended before the surface was depleted".into()));
    }
    let c = sp[0].bulk_concentration_mol_m3;
    let tau = last.time_s / (1.0 - last.min_surface[0] / c).powi(2);
    let zp = sp[0].charge as f64;
    let (d_amb, t_plus) = crate::physics::transport::binary_salt(&sp[0], &sp[1]);
    let i = scene.operation.mean_current_density_a_m2.unwrap_or(0.0).abs();
    let expected = PI * d_amb * (zp * FARADAY * c).powi(2) / (4.0 * (i * (1.0 - t_plus)).powi(2));
    Ok(vec![Check::new("sand_time_binary", "sand_time_s", tau, expected, 0.02)])
}

/// Potential step with excess supporting electrolyte: i = n F c sqrt(D / (pi t)) at the output
/// times.
fn cottrell(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(COTTRELL, "cottrell")?;
    let r = run_builtin(&scene, backend)?;
    let zn = &Electrolyte::of(&scene.physics).species[0];
    let n = scene.physics.kinetics.electrons as f64;
    let tr = r.transient.as_ref().ok_or_else(|| Error::Validation("cottrell: no time series".into()))?;
    let times = scene.time.as_ref().map(|t| t.output_times_s.clone()).unwrap_or_default();
    times
        .iter()
        .map(|&t| {
            let row = tr
                .rows
                .iter()
                .find(|row| (row.time_s - t).abs() <= 1e-9 * t)
                .ok_or_else(|| Error::Validation(format!("cottrell: no step landed on t = {t} s")))?;
            let expected = n * FARADAY * zn.bulk_concentration_mol_m3 * (zn.diffusivity_m2_s / (PI * t)).sqrt();
            Ok(Check::new("cottrell", &format!("current_density_A_m2_at_{t}_s"), row.max_current_density, expected, 0.02))
        })
        .collect()
}

/// Diffuse double layer of a z:z electrolyte at a wall held at psi0 (pnp): the potential profile
/// tanh(z psi / 4) = tanh(z psi0 / 4) exp(-x / lambda_D) (scaled by RT/F) within 1% of psi0 at
/// every node, and the diffuse charge against Grahame's sigma = sqrt(8 eps RT c) sinh(z psi0 / 2).
fn gouy_chapman(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(GOUY_CHAPMAN, "gouy_chapman")?;
    let r = run_builtin(&scene, backend)?;
    let ph = &scene.physics;
    let vt = thermal_voltage(ph.temperature_k);
    let (z, c) = (ph.species[0].charge as f64, ph.species[0].bulk_concentration_mol_m3);
    let eps = VACUUM_PERMITTIVITY * ph.relative_permittivity;
    let lambda = (eps * vt / (2.0 * z * z * FARADAY * c)).sqrt();
    let psi0 = scene.operation.electrode_potential_v.unwrap_or(0.0);
    let exact = |x: f64| 4.0 * vt / z * ((z * psi0 / (4.0 * vt)).tanh() * (-x / lambda).exp()).atanh();
    let worst = r.mesh.nodes.iter().zip(&r.fields.potential).map(|(p, phi)| (phi - exact(p.z)).abs()).fold(0.0, f64::max);
    // Diffuse charge per wall area from the nodal concentrations and control volumes.
    let mut volume = vec![0.0; r.mesh.nodes.len()];
    for (t, nodes) in r.mesh.tets.iter().enumerate() {
        let v = r.mesh.tet_volume(t) / 4.0;
        nodes.iter().for_each(|&n| volume[n as usize] += v);
    }
    let charge: f64 = (0..volume.len())
        .map(|n| {
            volume[n] * ph.species.iter().zip(&r.fields.concentrations).map(|(sp, (_, c))| sp.charge as f64 * c[n]).sum::<f64>()
        })
        .sum::<f64>()
        * FARADAY;
    let sigma = -charge / r.summary.electrode.area;
    let grahame = (8.0 * eps * GAS_CONSTANT * ph.temperature_k * c).sqrt() * (z * psi0 / (2.0 * vt)).sinh();
    Ok(vec![
        Check::new("gouy_chapman", "max_potential_error_over_psi0", 1.0 + worst / psi0, 1.0, 0.01),
        Check::new("gouy_chapman", "surface_charge_C_m2", sigma, grahame, 0.02),
    ])
}

/// Reacting pnp electrode (Frumkin–Butler–Volmer behind a Stern layer) plated galvanostatically
/// at half the binary limiting current: outside the thin double layer the electroneutral
/// solution holds, c(z) = c (1 - (i / i_lim)(1 - z / delta)) and phi = (RT / z+ F) ln(c(z) / c)
/// (the anion at rest), checked at mid-cell and, for the concentration, 20 Debye lengths from
/// the electrode.
fn pnp_reacting_binary(backend: BackendChoice) -> Result<Vec<Check>> {
    let mut checks = pnp_reacting_binary_with(backend, TransportWeights::P1)?;
    // The circumcentric scheme (`solver.transport_weights`) on the same layered mesh, whose
    // dual cells split each box evenly: its checks carry the suffix "_circumcentric".
    let circumcentric = pnp_reacting_binary_with(backend, TransportWeights::Circumcentric)?;
    checks.extend(circumcentric.into_iter().map(|c| Check { quantity: format!("{}_circumcentric", c.quantity), ..c }));
    Ok(checks)
}

fn pnp_reacting_binary_with(backend: BackendChoice, weights: TransportWeights) -> Result<Vec<Check>> {
    let mut scene = embedded(PNP_REACTING, "pnp_reacting_binary")?;
    scene.solver.transport_weights = weights;
    let r = run_builtin(&scene, backend)?;
    let ph = &scene.physics;
    let sp = &ph.species;
    let delta = scene.geometry.height_m;
    let c = sp[0].bulk_concentration_mol_m3;
    let i_lim = crate::physics::transport::binary_limiting_current(&sp[0], &sp[1], delta);
    let i = scene.operation.mean_current_density_a_m2.unwrap_or(0.0).abs();
    let exact_c = |z: f64| c * (1.0 - i / i_lim * (1.0 - z / delta));
    let vt = thermal_voltage(ph.temperature_k);
    let zp = sp[0].charge as f64;
    let eps = VACUUM_PERMITTIVITY * ph.relative_permittivity;
    let ionic = sp.iter().map(|s| (s.charge * s.charge) as f64 * s.bulk_concentration_mol_m3).sum::<f64>();
    let debye = (eps * vt / (FARADAY * ionic)).sqrt();
    let zinc = &r.fields.concentrations[0].1;
    let (mid, near) = (0.5 * delta, 20.0 * debye);
    // The electrode itself: the thin-double-layer (Gouy–Chapman–Stern) limit at the outer
    // solution's edge, c_0 = c (1 - i / i_lim).
    let k = &ph.kinetics;
    let thin = stern::ThinDoubleLayer {
        outer_concentration: exact_c(0.0),
        outer_potential: vt / zp * (exact_c(0.0) / c).ln(),
        bulk_concentration: c,
        z: zp,
        vt,
        permittivity: eps,
        stern_capacitance: ph.stern_capacitance_f_m2,
        law: crate::physics::kinetics::ButlerVolmer::from_scene(k),
        cathodic_order: k.cathodic_reaction_order,
        exchange_current_density: k.exchange_current_density_a_m2,
    }
    .at_current(scene.operation.mean_current_density_a_m2.unwrap_or(0.0));
    Ok(vec![
        Check::new("pnp_reacting_binary", "electrode_potential_V", r.summary.electrode.potential, thin.electrode_potential, 0.01),
        Check::new(
            "pnp_reacting_binary",
            "reaction_plane_potential_V",
            layer_value(&r, &r.fields.potential, 0.0)?,
            thin.plane_potential,
            0.01,
        ),
        Check::new(
            "pnp_reacting_binary",
            "c_Zn_mol_m3_at_reaction_plane",
            layer_value(&r, zinc, 0.0)?,
            thin.plane_concentration,
            0.01,
        ),
        Check::new("pnp_reacting_binary", "c_Zn_mol_m3_at_mid_cell", layer_value(&r, zinc, mid)?, exact_c(mid), 0.005),
        Check::new("pnp_reacting_binary", "c_Zn_mol_m3_at_20_debye_lengths", layer_value(&r, zinc, near)?, exact_c(near), 0.005),
        Check::new(
            "pnp_reacting_binary",
            "potential_V_at_mid_cell",
            layer_value(&r, &r.fields.potential, mid)?,
            vt / zp * (exact_c(mid) / c).ln(),
            0.005,
        ),
    ])
}

/// Porous electrode with linear kinetics on an inert collector (Newman–Tobias), run with an
/// equipotential solid and with sigma_eff = 2 S/m. With x from the collector, i the current
/// density, `1/lambda^2 = a i0 (alpha_a + alpha_c) n F / RT (1/kappa_eff + 1/sigma_eff)`:
/// `eta = A cosh(x/lambda) + B sinh(x/lambda)`, `B = -i lambda / sigma`,
/// `A = i lambda (1/kappa + cosh(L/lambda)/sigma) / sinh(L/lambda)`, so that at the top
/// `eta0 = i lambda (coth(L/lambda)/kappa + 1/(sigma sinh(L/lambda)))` (sigma -> infinity:
/// `eta0 cosh(x/lambda)/cosh(L/lambda)` and `i = kappa eta0 tanh(L/lambda)/lambda`). Checks: the
/// current density predicted from the computed eta0 (1%), and the overpotential profile predicted
/// from the computed current at every node layer of the scaffold (worst error within 1% of eta0).
fn porous_linear_kinetics(backend: BackendChoice) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    for (label, sets) in [("sigma_inf", vec![]), ("sigma_2", vec!["geometry.layers.0.solid.conductivity_S_m=2".to_string()])] {
        let scene = Scene::parse(POROUS_LINEAR, "scenes/validation/porous_linear_kinetics.json", &sets)?;
        let r = run_builtin(&scene, backend)?;
        let ph = &scene.physics;
        let layer = &scene.geometry.layers[0];
        let solid = layer.solid.as_ref().ok_or_else(|| Error::input("porous_linear_kinetics: the layer has no solid"))?;
        let vt = thermal_voltage(ph.temperature_k);
        let k = &ph.kinetics;
        let kappa = Electrolyte::of(ph).conductivity_s_m * layer.transport_factor(0.5);
        let sigma = solid.conductivity_s_m.as_ref().map_or(f64::INFINITY, |s| s.at(0.5));
        let ai0 = solid.specific_area_m_1.at(0.5) * solid.exchange_current_density_a_m2.at(0.5);
        let lambda = (ai0 * (k.alpha_a + k.alpha_c) * k.electrons as f64 / vt * (1.0 / kappa + 1.0 / sigma)).powf(-0.5);
        let l = layer.thickness_m;
        let (sh, ch) = ((l / lambda).sinh(), (l / lambda).cosh());
        let e = r.summary.electrode.potential;
        let eta: Vec<f64> = match &r.fields.solid_potential {
            Some(phi_s) => phi_s.iter().zip(&r.fields.potential).map(|(s, p)| s - p).collect(),
            None => r.fields.potential.iter().map(|p| e - p).collect(),
        };
        let eta0 = layer_value(&r, &eta, l)?.abs();
        let coating =
            r.summary.coating.as_ref().ok_or_else(|| Error::Validation("porous_linear_kinetics: no coating block".into()))?;
        let i = coating.total_current.abs() / r.summary.electrode.projected_area;
        let i_expected = eta0 / (lambda * (ch / sh / kappa + 1.0 / (sigma * sh)));
        let (a, b) = (i * lambda * (1.0 / kappa + ch / sigma) / sh, -i * lambda / sigma);
        let worst = r
            .mesh
            .nodes
            .iter()
            .zip(&eta)
            .filter(|(p, _)| p.z <= l * (1.0 + 1e-9))
            .map(|(p, v)| (v.abs() - (a * (p.z / lambda).cosh() + b * (p.z / lambda).sinh())).abs())
            .fold(0.0, f64::max);
        let case = "porous_linear_kinetics";
        checks.push(Check::new(case, &format!("current_density_A_m2_{label}"), i, i_expected, 0.01));
        checks.push(Check::new(case, &format!("max_eta_error_over_eta0_{label}"), 1.0 + worst / eta0, 1.0, 0.01));
    }
    Ok(checks)
}

/// A charged layer in equilibrium with a z:z salt (no current): electroneutrality in the pores,
/// `z c (exp(-z psi) - exp(z psi)) + X = 0`, gives the Donnan potential
/// `psi_D = (RT / zF) asinh(X / (2 z c))`, the counter-ion at `c exp(-z psi_D)` and the co-ion at
/// `c exp(z psi_D)`. Checked at mid-layer on the tertiary model (electroneutral) and on the pnp
/// model with the double layers resolved (mid-layer is 20 Debye lengths from the electrode and
/// from the layer's top), with the transference number of the reacting cation in the layer,
/// `D+ c+ / (D+ c+ + D- c-)` at the Donnan concentrations (coating block, tertiary), all to 1%.
fn donnan(backend: BackendChoice) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    for (text, name) in [(DONNAN, "donnan"), (DONNAN_PNP, "donnan_pnp")] {
        let scene = embedded(text, name)?;
        let r = run_builtin(&scene, backend)?;
        let ph = &scene.physics;
        let layer = &scene.geometry.layers[0];
        let species = Electrolyte::of(ph).species;
        let (cation, anion) = (&species[0], &species[1]);
        let (z, c) = (cation.charge as f64, cation.bulk_concentration_mol_m3);
        let x = layer.fixed_charge_mol_m3.at(0.5);
        let vt = thermal_voltage(ph.temperature_k);
        let psi = vt / z * (x / (2.0 * z * c)).asinh();
        let (c_plus, c_minus) = (c * (-z * psi / vt).exp(), c * (z * psi / vt).exp());
        let mid = 0.5 * layer.thickness_m;
        let model = if name == "donnan" { "tertiary" } else { "pnp" };
        let fields = &r.fields;
        checks.push(Check::new(
            "donnan",
            &format!("donnan_potential_V_{model}"),
            layer_value(&r, &fields.potential, mid)?,
            psi,
            0.01,
        ));
        let c_so4 = layer_value(&r, &fields.concentrations[1].1, mid)?;
        checks.push(Check::new("donnan", &format!("c_SO4_mol_m3_in_layer_{model}"), c_so4, c_minus, 0.01));
        let c_zn = layer_value(&r, &fields.concentrations[0].1, mid)?;
        checks.push(Check::new("donnan", &format!("c_Zn_mol_m3_in_layer_{model}"), c_zn, c_plus, 0.01));
        if model == "tertiary" {
            let t_plus = cation.diffusivity_m2_s * c_plus / (cation.diffusivity_m2_s * c_plus + anion.diffusivity_m2_s * c_minus);
            let coating = r.summary.coating.as_ref().ok_or_else(|| Error::Validation("donnan: no coating block".into()))?;
            let t_layer = coating
                .effective_transference_number
                .ok_or_else(|| Error::Validation("donnan: no transference number".into()))?;
            checks.push(Check::new("donnan", "transference_number_in_layer", t_layer, t_plus, 0.01));
        }
    }
    Ok(checks)
}

/// A nodal field of a one-dimensional (flat-electrode) run at height `z`: the mean over each
/// layer of nodes, interpolated linearly between the two layers around `z`.
fn layer_value(r: &RunResult, values: &[f64], z: f64) -> Result<f64> {
    let mut layers: Vec<(f64, f64, usize)> = Vec::new();
    let mut order: Vec<usize> = (0..r.mesh.nodes.len()).collect();
    order.sort_by(|&a, &b| r.mesh.nodes[a].z.total_cmp(&r.mesh.nodes[b].z));
    let tol = 1e-9 * r.mesh.nodes.iter().map(|p| p.z).fold(0.0, f64::max);
    for n in order {
        let (zn, v) = (r.mesh.nodes[n].z, values[n]);
        match layers.last_mut() {
            Some((zl, sum, count)) if (zn - *zl).abs() <= tol => {
                *sum += v;
                *count += 1;
            }
            _ => layers.push((zn, v, 1)),
        }
    }
    let means: Vec<(f64, f64)> = layers.iter().map(|&(zl, sum, count)| (zl, sum / count as f64)).collect();
    means
        .windows(2)
        .find(|w| w[0].0 <= z && z <= w[1].0)
        .map(|w| w[0].1 + (w[1].1 - w[0].1) * (z - w[0].0) / (w[1].0 - w[0].0))
        .ok_or_else(|| Error::Validation(format!("no mesh layers around z = {z:e} m")))
}

/// The suite as a table: case, quantity, computed, expected, relative error, tolerance, pass.
pub fn table(checks: &[Check]) -> String {
    // Columns as wide as their longest entry, so long quantity names keep the table aligned.
    let case_width = checks.iter().map(|c| c.case.len()).chain([26]).max().unwrap_or(26);
    let quantity_width = checks.iter().map(|c| c.quantity.len()).chain([32]).max().unwrap_or(32);
    let mut s = format!(
        "{:<case_width$} {:<quantity_width$} {:>14} {:>14} {:>10} {:>9}  {}\n",
        "case", "quantity", "computed", "expected", "rel_error", "tolerance", "pass"
    );
    for c in checks {
        s.push_str(&format!(
            "{:<case_width$} {:<quantity_width$} {:>14.6e} {:>14.6e} {:>10.2e} {:>9.1e}  {}\n",
            c.case,
            c.quantity,
            c.computed,
            c.expected,
            c.rel_error,
            c.tolerance,
            if c.passed { "yes" } else { "NO" }
        ));
    }
    s
}
