//! Scaling of the potential problem.
//!
//! Lengths are divided by `length_m` (L), potentials by the thermal voltage V_T = RT/F. With
//! conductivity kappa, the physical residual (A) equals `kappa V_T L` times the scaled one, so a
//! scaled nodal flux Q converts to a current `kappa V_T L Q` and a scaled current density to
//! `kappa V_T / L` times it. Kinetic terms enter with `Gamma = L i0 / (kappa V_T)`.

use super::constants::thermal_voltage;

/// Reference scales of a potential problem.
#[derive(Debug, Clone, Copy)]
pub struct Scaling {
    /// Length scale L, m.
    pub length_m: f64,
    /// Thermal voltage RT/F, V.
    pub thermal_voltage_v: f64,
    /// Conductivity kappa, S/m.
    pub conductivity_s_m: f64,
}

impl Scaling {
    /// Scales for temperature `t_kelvin`.
    pub fn new(length_m: f64, t_kelvin: f64, conductivity_s_m: f64) -> Self {
        Scaling { length_m, thermal_voltage_v: thermal_voltage(t_kelvin), conductivity_s_m }
    }

    /// Physical current (A) of a scaled flux.
    pub fn current_a(&self, scaled: f64) -> f64 {
        self.conductivity_s_m * self.thermal_voltage_v * self.length_m * scaled
    }

    /// Scaled flux of a physical current (A).
    pub fn scaled_current(&self, amps: f64) -> f64 {
        amps / (self.conductivity_s_m * self.thermal_voltage_v * self.length_m)
    }

    /// Physical current density (A/m^2) of a scaled flux per scaled area.
    pub fn current_density_a_m2(&self, scaled: f64) -> f64 {
        self.conductivity_s_m * self.thermal_voltage_v / self.length_m * scaled
    }

    /// Kinetic coupling Gamma = L i0 / (kappa V_T) for exchange current density `i0` (A/m^2).
    pub fn kinetic_number(&self, i0: f64) -> f64 {
        self.length_m * i0 / (self.conductivity_s_m * self.thermal_voltage_v)
    }
}
