//! Validation of deposit growth ([`crate::growth`]): the thickness a charge lays on a flat
//! electrode, the linear stability of a planar electrode, and the first motion of a hemisphere.

use std::f64::consts::PI;

use super::{embedded, Check};
use crate::backend::BackendChoice;
use crate::error::{Error, Result};
use crate::growth::{self, GrowthResult};
use crate::mesh::BoundaryTag;
use crate::physics::constants::thermal_voltage;
use crate::physics::electrolyte::Electrolyte;
use crate::scene::Scene;

const FLAT: &str = include_str!("../../scenes/validation/growth_flat.json");
const MODE: &str = include_str!("../../scenes/validation/growth_mode.json");
const HEMISPHERE_APEX: &str = include_str!("../../scenes/validation/growth_hemisphere_apex.json");

/// A flat electrode plated by charge Q (per projected area) rises by Q M / (n F rho): the
/// electrode of the last mesh lies there, and both the grid's deposited volume and the
/// electrolyte the meshes lost equal Q A M / (n F rho), within 0.1%.
pub fn flat(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(FLAT, "growth_flat")?;
    let grown = growth::run(&scene, backend)?;
    let g = summary(&grown)?;
    let mesh = &grown.last.mesh;
    let electrode = crate::fem::boundary_flux::tagged_nodes(mesh, BoundaryTag::Electrode);
    let height = electrode.iter().map(|&n| mesh.nodes[n as usize].z).sum::<f64>() / electrode.len() as f64;
    let thickness = g.plating_charge_c_m2 * g.volume_per_charge_m3_c;
    let lost = (1.0 + g.mesh_volume_balance) * g.deposited_volume_m3;
    Ok(vec![
        Check::new("growth_flat", "electrode_height_m", height, thickness, 1e-3),
        Check::new("growth_flat", "deposited_volume_m3", g.deposited_volume_m3, g.expected_volume_m3, 1e-3),
        Check::new("growth_flat", "electrolyte_volume_lost_m3", lost, g.expected_volume_m3, 1e-3),
    ])
}

/// Linear stability of a planar electrode: a cosine mode of wavenumber k grows at
/// sigma = v0 q / (1 + kappa R_ct q), q = k coth(k L) (design.md section 3; R_ct = 0 for the
/// primary distribution, R_ct = V_T / (n i0 (alpha_a + alpha_c)) for linearized kinetics). The
/// measured rate is the mode's amplitude in the first step's rise speeds over its amplitude in
/// the surface. Four variants of the shipped scene, within 3%: the primary distribution at the
/// scene's wavelength and at half of it, and linearized kinetics at Wagner numbers
/// kappa R_ct q = 1 and 4 (i0 chosen to give them).
pub fn linear_stability(backend: BackendChoice) -> Result<Vec<Check>> {
    let base = embedded(MODE, "growth_mode")?;
    let lambda = base.geometry.relief.as_ref().map_or(0.0, |r| r.modes[0].wavelength_m);
    let mut checks = Vec::new();
    for (quantity, wavelength, wagner) in [
        ("primary_rate_1_s", lambda, None),
        ("primary_half_wavelength_rate_1_s", 0.5 * lambda, None),
        ("secondary_wagner_1_rate_1_s", lambda, Some(1.0)),
        ("secondary_wagner_4_rate_1_s", lambda, Some(4.0)),
    ] {
        let scene = mode_scene(&base, wavelength, wagner)?;
        let k = 2.0 * PI / wavelength;
        let q = k / (k * scene.geometry.height_m).tanh();
        let ph = &scene.physics;
        let kin = &ph.kinetics;
        let r_ct = match wagner {
            Some(_) => {
                thermal_voltage(ph.temperature_k)
                    / (kin.electrons as f64 * kin.exchange_current_density_a_m2 * (kin.alpha_a + kin.alpha_c))
            }
            None => 0.0,
        };
        let kappa = Electrolyte::of(ph).conductivity_s_m;
        let grown = growth::run(&scene, backend)?;
        let first = grown.rows.first().ok_or_else(|| Error::Validation("growth_mode: no steps".into()))?;
        let measured = first.mode_growth_rate_1_s.ok_or_else(|| Error::Validation("growth_mode: no mode".into()))?;
        let expected = first.mean_speed_m_s * q / (1.0 + kappa * r_ct * q);
        checks.push(Check::new("growth_linear_stability", quantity, measured, expected, 0.03));
    }
    Ok(checks)
}

/// The mode scene at `wavelength` (m), with linearized kinetics at Wagner number `wagner`
/// (kappa R_ct q) where given.
fn mode_scene(base: &Scene, wavelength: f64, wagner: Option<f64>) -> Result<Scene> {
    let mut sets = vec![format!("geometry.relief.modes.0.wavelength_m={wavelength:e}")];
    if let Some(wa) = wagner {
        let ph = &base.physics;
        let k = 2.0 * PI / wavelength;
        let q = k / (k * base.geometry.height_m).tanh();
        let kappa = Electrolyte::of(ph).conductivity_s_m;
        let kin = &ph.kinetics;
        // R_ct = wa / (kappa q) = V_T / (n i0 (alpha_a + alpha_c)).
        let i0 = thermal_voltage(ph.temperature_k) * kappa * q / (wa * kin.electrons as f64 * (kin.alpha_a + kin.alpha_c));
        sets.extend([
            "physics.model=secondary".to_string(),
            "physics.kinetics.linearized=true".to_string(),
            format!("physics.kinetics.exchange_current_density_A_m2={i0:e}"),
        ]);
    }
    Scene::parse(MODE, "scenes/validation/growth_mode.json", &sets)
}

/// A hemisphere on a plane in the primary distribution first moves as half a sphere in a
/// uniform field does: every column over it rises at 3 v0. The highest grid node's rise speed
/// over the mean speed, within 1% of 3.
pub fn hemisphere_apex(backend: BackendChoice) -> Result<Vec<Check>> {
    let scene = embedded(HEMISPHERE_APEX, "growth_hemisphere_apex")?;
    let grown = growth::run(&scene, backend)?;
    let first = grown.rows.first().ok_or_else(|| Error::Validation("growth_hemisphere_apex: no steps".into()))?;
    Ok(vec![Check::new("growth_hemisphere_apex", "apex_over_mean_speed", first.top_speed_m_s / first.mean_speed_m_s, 3.0, 0.01)])
}

fn summary(grown: &GrowthResult) -> Result<&crate::growth::GrowthSummary> {
    grown.last.summary.growth.as_ref().ok_or_else(|| Error::Validation("growth: no growth summary".into()))
}
