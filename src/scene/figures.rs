//! How the figures show their quantities: the units of the colour bars and plot axes
//! (`output.units`) and fixed colour ranges (`output.colour_range`). Only pictures change:
//! VTU, CSV and JSON files stay in SI units, as their names say (`_A_m2`, `_mol_m3`, ...).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Units of the figures' quantities. A quantity left out is shown in SI units, except
/// potentials, which read in mV or µV when all values shown are below 0.1 V or 0.1 mV.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FigureUnits {
    /// Potentials and overpotentials: "V", "mV" or "µV" (also written "uV").
    pub potential: Option<PotentialUnit>,
    /// Current densities: "A/m^2", "mA/cm^2" (= 10 A/m²) or "µA/cm^2" (also "uA/cm^2").
    pub current_density: Option<CurrentDensityUnit>,
    /// Concentrations: "mol/m^3", "mM" (the same number) or "M" (mol/L).
    pub concentration: Option<ConcentrationUnit>,
    /// Electric field magnitudes: "V/m" or "V/cm".
    pub field: Option<FieldUnit>,
}

/// A unit of potential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PotentialUnit {
    V,
    #[serde(rename = "mV")]
    MilliVolt,
    #[serde(rename = "µV", alias = "uV")]
    MicroVolt,
}

/// A unit of current density.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CurrentDensityUnit {
    #[serde(rename = "A/m^2")]
    AmperePerSquareMetre,
    #[serde(rename = "mA/cm^2")]
    MilliAmperePerSquareCentimetre,
    #[serde(rename = "µA/cm^2", alias = "uA/cm^2")]
    MicroAmperePerSquareCentimetre,
}

/// A unit of concentration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ConcentrationUnit {
    #[serde(rename = "mol/m^3")]
    MolePerCubicMetre,
    #[serde(rename = "mM")]
    MilliMolar,
    #[serde(rename = "M")]
    Molar,
}

/// A unit of electric field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum FieldUnit {
    #[serde(rename = "V/m")]
    VoltPerMetre,
    #[serde(rename = "V/cm")]
    VoltPerCentimetre,
}

/// Colour ranges fixed by the user, each `[low, high]` in the SI unit its key names (values
/// beyond the range are drawn in the colour of its end). Applies to every map and 3D view of
/// that quantity, in `run` and in `compare` (where it replaces the shared range), so that
/// figures of separate runs share one scale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ColourRanges {
    /// Electrolyte and solid potentials, V.
    #[serde(rename = "potential_V")]
    pub potential_v: Option<[f64; 2]>,
    /// Current density maps (|i| in slices, the electrode's normal or plating current density),
    /// A/m².
    #[serde(rename = "current_density_A_m2")]
    pub current_density_a_m2: Option<[f64; 2]>,
    /// Concentration maps of every species, mol/m³.
    #[serde(rename = "concentration_mol_m3")]
    pub concentration_mol_m3: Option<[f64; 2]>,
    /// Field magnitude maps, V/m.
    #[serde(rename = "field_V_m")]
    pub field_v_m: Option<[f64; 2]>,
}

impl ColourRanges {
    /// Each range with its key under `output.colour_range`.
    pub fn keyed(&self) -> [(&'static str, Option<[f64; 2]>); 4] {
        [
            ("potential_V", self.potential_v),
            ("current_density_A_m2", self.current_density_a_m2),
            ("concentration_mol_m3", self.concentration_mol_m3),
            ("field_V_m", self.field_v_m),
        ]
    }

    /// A range that is not two finite numbers in increasing order, as an error naming its key.
    pub fn check(&self) -> Result<(), String> {
        for (key, range) in self.keyed() {
            if let Some([lo, hi]) = range {
                if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                    return Err(format!(
                        "key `output.colour_range.{key}`: [{lo}, {hi}] must be two finite numbers, the first below the second"
                    ));
                }
            }
        }
        Ok(())
    }
}
