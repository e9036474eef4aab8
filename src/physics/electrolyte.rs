//! The electrolyte's transport properties as a model uses them: conductivity, transference
//! number and species diffusivities, consistent with one another.
//!
//! The transport models (tertiary, pnp) are dilute-solution theory: the conductivity and the
//! transference numbers follow from the species by Nernst–Einstein,
//!
//!   kappa = F^2 / (R T) sum_i z_i^2 D_i c_i,    t_i = z_i^2 D_i c_i / sum_j z_j^2 D_j c_j.
//!
//! With infinite-dilution diffusivities this overestimates the conductivity of a concentrated
//! electrolyte about tenfold (2 M ZnSO4: 53 S/m against a measured ~5 S/m, ion pairing). A scene
//! that states the measured values gets *effective* diffusivities that reproduce them:
//!
//! - `physics.conductivity_S_m` alone: every D_i is multiplied by one factor
//!   s = kappa / kappa_NE. Transference numbers are unchanged; so is the ratio of migration to
//!   diffusion (thermodynamics: Boltzmann equilibria and Donnan potentials do not depend on s); the
//!   salt diffusivity, and with it the limiting current, scales by s as well.
//! - `physics.cation_transference_number` (a binary electrolyte): the two diffusivities are set so
//!   that t+ and kappa (the stated one, else the Nernst–Einstein one of the given D's) hold:
//!   D_+ = t+ kappa R T / (F^2 z_+^2 c_+), D_- = (1 - t+) kappa R T / (F^2 z_-^2 c_-).
//!
//! The salt diffusivity of a binary electrolyte is then
//! `D = D_+ D_- (z_+ - z_-) / (z_+ D_+ - z_- D_-)`; dilute-solution theory cannot match a third,
//! independently measured salt diffusivity as well (concentrated-solution theory would), so the
//! value used is reported beside the others in summary.json (`electrolyte`) and the run warns
//! when the scaling is large. The potential models (primary, secondary) use only the conductivity.

use super::constants::{FARADAY, GAS_CONSTANT};
use super::transport::binary_salt;
use crate::scene::{Physics, Species};
use serde::Serialize;

/// Conductivity of the potential models when the scene states none, S/m: measured for 2 M ZnSO4
/// at 25 C.
pub const DEFAULT_CONDUCTIVITY_S_M: f64 = 5.0;

/// Where a model's electrolyte properties come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropertiesFrom {
    /// The scene's `physics.conductivity_S_m` (potential models).
    StatedConductivity,
    /// The default conductivity (potential models, none stated).
    DefaultConductivity,
    /// Nernst–Einstein from the species as given (transport models).
    NernstEinstein,
    /// Species diffusivities scaled to the stated conductivity and/or transference number.
    ScaledDiffusivities,
}

/// The electrolyte as a model uses it.
#[derive(Debug, Clone)]
pub struct Electrolyte {
    /// Bulk ionic conductivity, S/m.
    pub conductivity_s_m: f64,
    /// The species with the diffusivities used (transport models; empty for the potential models).
    pub species: Vec<Species>,
    /// Used diffusivity over the scene's, per species (1 when not scaled).
    pub diffusivity_factors: Vec<f64>,
    /// Cation transference number and salt diffusivity (m^2/s) of a binary electrolyte.
    pub binary: Option<(f64, f64)>,
    pub from: PropertiesFrom,
}

impl Electrolyte {
    /// The properties `physics` prescribes for its model.
    pub fn of(physics: &Physics) -> Electrolyte {
        if !physics.model.has_transport() {
            return Electrolyte {
                conductivity_s_m: physics.conductivity_s_m.unwrap_or(DEFAULT_CONDUCTIVITY_S_M),
                species: Vec::new(),
                diffusivity_factors: Vec::new(),
                binary: None,
                from: match physics.conductivity_s_m {
                    Some(_) => PropertiesFrom::StatedConductivity,
                    None => PropertiesFrom::DefaultConductivity,
                },
            };
        }
        let t = physics.temperature_k;
        let given = &physics.species;
        let kappa_given = nernst_einstein_conductivity(given, t);
        let kappa = physics.conductivity_s_m.unwrap_or(kappa_given);
        let mut species = given.clone();
        match (physics.cation_transference_number, cation_and_anion(given)) {
            (Some(t_plus), Some((p, m))) => {
                let unit = GAS_CONSTANT * t * kappa / (FARADAY * FARADAY);
                for (i, share) in [(p, t_plus), (m, 1.0 - t_plus)] {
                    let x = &given[i];
                    species[i].diffusivity_m2_s = share * unit / ((x.charge as f64).powi(2) * x.bulk_concentration_mol_m3);
                }
            }
            _ => species.iter_mut().for_each(|x| x.diffusivity_m2_s *= kappa / kappa_given),
        }
        let diffusivity_factors = species.iter().zip(given).map(|(u, g)| u.diffusivity_m2_s / g.diffusivity_m2_s).collect();
        let scaled = physics.conductivity_s_m.is_some() || physics.cation_transference_number.is_some();
        Electrolyte {
            conductivity_s_m: nernst_einstein_conductivity(&species, t),
            binary: cation_and_anion(&species).map(|(p, m)| {
                let (d, t_plus) = binary_salt(&species[p], &species[m]);
                (t_plus, d)
            }),
            species,
            diffusivity_factors,
            from: if scaled { PropertiesFrom::ScaledDiffusivities } else { PropertiesFrom::NernstEinstein },
        }
    }

    /// The largest factor by which a diffusivity was changed (>= 1: up or down).
    pub fn largest_scaling(&self) -> f64 {
        self.diffusivity_factors.iter().map(|f| f.max(1.0 / f)).fold(1.0, f64::max)
    }

    /// A warning when the stated properties changed a diffusivity by more than 10%: the given
    /// diffusivities and the stated conductivity or transference number disagree, so the
    /// limiting current and transient times follow the scaled values, not the given ones.
    pub fn scaling_warning(&self, physics: &Physics) -> Option<String> {
        if self.largest_scaling() <= 1.1 {
            return None;
        }
        let factors: Vec<String> = self
            .species
            .iter()
            .zip(&self.diffusivity_factors)
            .map(|(x, f)| format!("{} x{:.3} -> {:.3e} m^2/s", x.name, f, x.diffusivity_m2_s))
            .collect();
        let salt = self.binary.map_or(String::new(), |(t, d)| format!("; t+ = {t:.3}, salt diffusivity {d:.3e} m^2/s"));
        Some(format!(
            "the given species diffusivities give a Nernst–Einstein conductivity of {:.3} S/m; to match the stated \
             physics.conductivity_S_m / cation_transference_number the diffusivities were scaled ({}){salt}: limiting \
             currents and transient times follow the scaled values (summary.json electrolyte)",
            nernst_einstein_conductivity(&physics.species, physics.temperature_k),
            factors.join(", ")
        ))
    }
}

/// Nernst–Einstein conductivity of `species` at their bulk concentrations and temperature `t`
/// (K), S/m: `F^2 / (R T) sum_i z_i^2 D_i c_i`.
pub fn nernst_einstein_conductivity(species: &[Species], t: f64) -> f64 {
    FARADAY * FARADAY / (GAS_CONSTANT * t)
        * species.iter().map(|x| (x.charge as f64).powi(2) * x.diffusivity_m2_s * x.bulk_concentration_mol_m3).sum::<f64>()
}

/// Indices of the cation and the anion of a binary electrolyte (two species, opposite signs).
pub fn cation_and_anion(species: &[Species]) -> Option<(usize, usize)> {
    match species {
        [a, b] if a.charge > 0 && b.charge < 0 => Some((0, 1)),
        [a, b] if a.charge < 0 && b.charge > 0 => Some((1, 0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Model;

    fn physics(kappa: Option<f64>, t_plus: Option<f64>) -> Physics {
        Physics { model: Model::Tertiary, conductivity_s_m: kappa, cation_transference_number: t_plus, ..Physics::default() }
    }

    #[test]
    fn nernst_einstein_when_nothing_is_stated() {
        let e = Electrolyte::of(&physics(None, None));
        // 2 M ZnSO4 with infinite-dilution D's: F^2/RT * 4 * 2000 * (7.03e-10 + 1.065e-9) = 53.2 S/m.
        assert!((e.conductivity_s_m - 53.2).abs() < 0.1, "{}", e.conductivity_s_m);
        assert_eq!(e.from, PropertiesFrom::NernstEinstein);
        assert_eq!(e.largest_scaling(), 1.0);
        let (t_plus, _) = e.binary.unwrap();
        assert!((t_plus - 7.03 / (7.03 + 10.65)).abs() < 1e-12);
    }

    #[test]
    fn a_stated_conductivity_scales_every_diffusivity_and_keeps_t_plus() {
        let plain = Electrolyte::of(&physics(None, None));
        let e = Electrolyte::of(&physics(Some(5.0), None));
        assert!((e.conductivity_s_m - 5.0).abs() < 1e-12);
        let s = 5.0 / plain.conductivity_s_m;
        for f in &e.diffusivity_factors {
            assert!((f - s).abs() < 1e-12);
        }
        assert!((e.binary.unwrap().0 - plain.binary.unwrap().0).abs() < 1e-12);
        assert!((e.binary.unwrap().1 - s * plain.binary.unwrap().1).abs() < 1e-20);
    }

    #[test]
    fn a_stated_transference_number_and_conductivity_both_hold() {
        let e = Electrolyte::of(&physics(Some(5.0), Some(0.3)));
        assert!((e.conductivity_s_m - 5.0).abs() < 1e-12);
        assert!((e.binary.unwrap().0 - 0.3).abs() < 1e-12);
        // Only t+ stated: the conductivity of the given D's is kept.
        let plain = Electrolyte::of(&physics(None, None));
        let e = Electrolyte::of(&physics(None, Some(0.3)));
        assert!((e.conductivity_s_m - plain.conductivity_s_m).abs() < 1e-9);
        assert!((e.binary.unwrap().0 - 0.3).abs() < 1e-12);
    }

    #[test]
    fn potential_models_use_the_stated_or_default_conductivity() {
        let p = Physics { conductivity_s_m: None, ..Physics::default() };
        assert_eq!(Electrolyte::of(&p).conductivity_s_m, DEFAULT_CONDUCTIVITY_S_M);
        let p = Physics { conductivity_s_m: Some(0.5), ..Physics::default() };
        assert_eq!(Electrolyte::of(&p).conductivity_s_m, 0.5);
    }
}
