//! The thin-double-layer limit of a reacting pnp electrode: Gouy–Chapman–Stern with
//! Frumkin–Butler–Volmer kinetics, the closed form the `pnp_reacting_binary` case checks the
//! electrode against.
//!
//! Where the diffuse layer (Debye length lambda_D) is thin against the cell, it is in
//! quasi-equilibrium with the electroneutral solution just outside it (salt concentration c_0,
//! potential phi_0). For a z:z salt, with psi = phi_rp - phi_0 the diffuse-layer drop to the
//! reaction plane:
//!
//! ```text
//!     c_+(rp) = c_0 exp(-z psi / V_T)                       (Boltzmann)
//!     q_d = -sqrt(8 eps R T c_0) sinh(z psi / (2 V_T))      (Grahame: diffuse charge per area)
//!     q_m = C_S (E - phi_rp) = -q_d                          (Stern layer, charge neutrality)
//!     i = i0 [exp(a eta / V_T) - (c_+(rp) / c_b)^gamma exp(-c eta / V_T)],  eta = E - phi_rp
//! ```
//!
//! Given the current i, psi is the root of `C_S eta(psi) - sqrt(8 eps R T c_0) sinh(z psi / 2 V_T)`,
//! decreasing in psi (a higher plane potential depletes the cation, so plating needs a more
//! negative eta), and E = phi_0 + psi + eta. Corrections are of order lambda_D / delta.

use crate::physics::constants::FARADAY;
use crate::physics::kinetics::ButlerVolmer;
use crate::physics::roots::root_of_decreasing;

/// The electrolyte and electrode of the thin-double-layer problem (SI units).
pub struct ThinDoubleLayer {
    /// Salt concentration and potential just outside the diffuse layer, mol/m^3 and V.
    pub outer_concentration: f64,
    pub outer_potential: f64,
    /// The cation's bulk concentration (the kinetics' reference), mol/m^3.
    pub bulk_concentration: f64,
    /// Charge number of the z:z salt's cation.
    pub z: f64,
    /// Thermal voltage RT/F, V; permittivity eps0 eps_r, F/m; Stern capacitance, F/m^2.
    pub vt: f64,
    pub permittivity: f64,
    pub stern_capacitance: f64,
    /// Kinetics: the law (alpha n), the cathodic reaction order and i0 (A/m^2).
    pub law: ButlerVolmer,
    pub cathodic_order: f64,
    pub exchange_current_density: f64,
}

/// The electrode potential E, the reaction-plane potential and the cation concentration there.
#[derive(Debug, Clone, Copy)]
pub struct ElectrodeState {
    pub electrode_potential: f64,
    pub plane_potential: f64,
    pub plane_concentration: f64,
}

impl ThinDoubleLayer {
    /// The electrode's state at current density `i` (A/m^2, anodic positive).
    pub fn at_current(&self, i: f64) -> ElectrodeState {
        let grahame = (8.0 * self.permittivity * FARADAY * self.vt * self.outer_concentration).sqrt();
        let overpotential = |psi: f64| {
            let ratio = self.plane_concentration(psi) / self.bulk_concentration;
            let rate =
                |eta: f64| (self.law.anodic * eta).exp() - ratio.powf(self.cathodic_order) * (-self.law.cathodic * eta).exp();
            self.vt * root_of_decreasing(|eta| i / self.exchange_current_density - rate(eta), 700.0)
        };
        let psi = root_of_decreasing(
            |psi| self.stern_capacitance * overpotential(psi) - grahame * (self.z * psi / (2.0 * self.vt)).sinh(),
            10.0,
        );
        let plane_potential = self.outer_potential + psi;
        ElectrodeState {
            electrode_potential: plane_potential + overpotential(psi),
            plane_potential,
            plane_concentration: self.plane_concentration(psi),
        }
    }

    fn plane_concentration(&self, psi: f64) -> f64 {
        self.outer_concentration * (-self.z * psi / self.vt).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_zero_current_the_electrode_is_at_equilibrium_with_its_plane() {
        // No current, bulk outside the layer: E = 0 and no charge, so psi = 0.
        let dl = ThinDoubleLayer {
            outer_concentration: 1.0,
            outer_potential: 0.0,
            bulk_concentration: 1.0,
            z: 2.0,
            vt: 0.0257,
            permittivity: 78.5 * 8.854e-12,
            stern_capacitance: 0.2,
            law: ButlerVolmer { anodic: 1.0, cathodic: 1.0, linear: false },
            cathodic_order: 1.0,
            exchange_current_density: 10.0,
        };
        let s = dl.at_current(0.0);
        assert!(s.electrode_potential.abs() < 1e-12 && s.plane_potential.abs() < 1e-12, "{s:?}");
        // Plating: E below the plane, the plane below the outer potential (cation-rich), and the
        // Stern and diffuse charges balance.
        let s = dl.at_current(-50.0);
        assert!(s.electrode_potential < s.plane_potential && s.plane_potential < 0.0, "{s:?}");
        let q_m = 0.2 * (s.electrode_potential - s.plane_potential);
        let q_d = -(8.0 * dl.permittivity * FARADAY * dl.vt).sqrt() * (s.plane_potential / dl.vt).sinh();
        assert!((q_m + q_d).abs() < 1e-9 * q_m.abs(), "{q_m} {q_d}");
    }
}
