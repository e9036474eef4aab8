//! Closed-form transport quantities of dilute-solution theory (design.md section 5).

use super::constants::FARADAY;
use crate::scene::Species;

/// Ambipolar diffusivity and cation transference number of a binary salt (anion charge < 0):
/// `D_amb = D+ D- (z+ - z-) / (z+ D+ - z- D-)`, `t+ = z+ D+ / (z+ D+ - z- D-)`.
pub fn binary_salt(cation: &Species, anion: &Species) -> (f64, f64) {
    let (zp, zm) = (cation.charge as f64, anion.charge as f64);
    let (dp, dm) = (cation.diffusivity_m2_s, anion.diffusivity_m2_s);
    (dp * dm * (zp - zm) / (zp * dp - zm * dm), zp * dp / (zp * dp - zm * dm))
}

/// Limiting current density (A/m^2) across a Nernst layer `delta` (m) of a binary salt whose
/// cation reacts and anion is blocked: `z+ nu+ F D_amb c / ((1 - t+) delta)` with nu+ = 1 per
/// unit of the cation's bulk concentration.
pub fn binary_limiting_current(cation: &Species, anion: &Species, delta: f64) -> f64 {
    let (d_amb, t_plus) = binary_salt(cation, anion);
    cation.charge as f64 * FARADAY * d_amb * cation.bulk_concentration_mol_m3 / ((1.0 - t_plus) * delta)
}

/// Limiting current density (A/m^2) of a species reduced with `electrons` electrons in excess
/// supporting electrolyte (no migration): `n F D c / delta`.
pub fn supported_limiting_current(species: &Species, electrons: f64, delta: f64) -> f64 {
    electrons * FARADAY * species.diffusivity_m2_s * species.bulk_concentration_mol_m3 / delta
}
