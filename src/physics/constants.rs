//! Physical constants (CODATA 2018 exact values where defined).

/// Faraday constant, C/mol.
pub const FARADAY: f64 = 96_485.332_123_310_01;
/// Molar gas constant, J/(mol K).
pub const GAS_CONSTANT: f64 = 8.314_462_618_153_24;

/// Vacuum permittivity, F/m (CODATA 2018).
pub const VACUUM_PERMITTIVITY: f64 = 8.854_187_812_8e-12;

/// Thermal voltage RT/F in volts at temperature `t_kelvin`.
pub fn thermal_voltage(t_kelvin: f64) -> f64 {
    GAS_CONSTANT * t_kelvin / FARADAY
}
