//! The units a figure shows its quantities in. Figures are built in SI units, their
//! quantities written "name (unit)" with the unit one of [`Kind`]'s; here that unit becomes the
//! one the scene asks for (`output.units`) or, for potentials left to us, a readable one, and
//! the user's fixed colour ranges (`output.colour_range`) are found by the same unit.

use crate::scene::figures::{ColourRanges, ConcentrationUnit, CurrentDensityUnit, FieldUnit, FigureUnits, PotentialUnit};

/// The kinds of quantity whose units a user can choose, each known by its SI unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Potential,
    CurrentDensity,
    Concentration,
    Field,
}

impl Kind {
    /// The SI unit as figures write it.
    pub fn si(self) -> &'static str {
        match self {
            Kind::Potential => "V",
            Kind::CurrentDensity => "A/m²",
            Kind::Concentration => "mol/m³",
            Kind::Field => "V/m",
        }
    }

    /// The kind of a quantity written "name (SI unit)", and its name with " (" kept.
    pub fn of(quantity: &str) -> Option<(Kind, &str)> {
        [Kind::Potential, Kind::CurrentDensity, Kind::Concentration, Kind::Field]
            .into_iter()
            .find_map(|k| quantity.strip_suffix(&format!("({})", k.si())).map(|stem| (k, stem)))
    }
}

/// A quantity as a figure shows it: its label and the factor from SI to the shown unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub quantity: String,
    pub factor: f64,
}

/// How `quantity` (written in SI units) is shown when its values span `range`: in the unit
/// `units` names for its kind; else a potential whose largest magnitude is below 0.1 V in mV,
/// below 0.1 mV in µV (ticks read 12.5 mV, not 0.0125 or 1.25e-2 V); else as it is.
pub fn shown(quantity: &str, range: [f64; 2], units: &FigureUnits) -> Shown {
    let as_is = Shown { quantity: quantity.to_string(), factor: 1.0 };
    let Some((kind, stem)) = Kind::of(quantity) else { return as_is };
    let chosen = match kind {
        Kind::Potential => units.potential.map(|u| match u {
            PotentialUnit::V => (1.0, "V"),
            PotentialUnit::MilliVolt => (1e3, "mV"),
            PotentialUnit::MicroVolt => (1e6, "µV"),
        }),
        Kind::CurrentDensity => units.current_density.map(|u| match u {
            CurrentDensityUnit::AmperePerSquareMetre => (1.0, "A/m²"),
            // 1 mA/cm² = 1e-3 A / 1e-4 m² = 10 A/m²
            CurrentDensityUnit::MilliAmperePerSquareCentimetre => (0.1, "mA/cm²"),
            CurrentDensityUnit::MicroAmperePerSquareCentimetre => (100.0, "µA/cm²"),
        }),
        Kind::Concentration => units.concentration.map(|u| match u {
            ConcentrationUnit::MolePerCubicMetre => (1.0, "mol/m³"),
            ConcentrationUnit::MilliMolar => (1.0, "mM"),
            ConcentrationUnit::Molar => (1e-3, "M"),
        }),
        Kind::Field => units.field.map(|u| match u {
            FieldUnit::VoltPerMetre => (1.0, "V/m"),
            FieldUnit::VoltPerCentimetre => (0.01, "V/cm"),
        }),
    };
    let largest = range[0].abs().max(range[1].abs());
    let readable = match kind {
        Kind::Potential if largest > 0.0 && largest < 1e-4 => Some((1e6, "µV")),
        Kind::Potential if largest > 0.0 && largest < 0.1 => Some((1e3, "mV")),
        _ => None,
    };
    match chosen.or(readable) {
        Some((factor, unit)) => Shown { quantity: format!("{stem}({unit})"), factor },
        None => as_is,
    }
}

/// The user's colour range for maps of `quantity` (SI), if `ranges` fixes one.
pub fn fixed_range(quantity: &str, ranges: &ColourRanges) -> Option<[f64; 2]> {
    match Kind::of(quantity)?.0 {
        Kind::Potential => ranges.potential_v,
        Kind::CurrentDensity => ranges.current_density_a_m2,
        Kind::Concentration => ranges.concentration_mol_m3,
        Kind::Field => ranges.field_v_m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_potentials_read_in_millivolts_unless_the_user_chose_a_unit() {
        let none = FigureUnits::default();
        assert_eq!(shown("potential (V)", [-0.0125, 0.002], &none), Shown { quantity: "potential (mV)".into(), factor: 1e3 });
        assert_eq!(shown("potential (V)", [0.0, 2e-5], &none).quantity, "potential (µV)");
        assert_eq!(shown("potential (V)", [0.0, 0.5], &none).factor, 1.0);
        assert_eq!(shown("|E| (V/m)", [0.0, 0.01], &none).factor, 1.0, "only volts are rescaled on their own");
        let volts = FigureUnits { potential: Some(PotentialUnit::V), ..none };
        assert_eq!(shown("potential (V)", [-0.0125, 0.002], &volts).factor, 1.0, "the user's choice wins");
    }

    #[test]
    fn chosen_units_convert_by_their_definitions() {
        let units = FigureUnits {
            potential: Some(PotentialUnit::MilliVolt),
            current_density: Some(CurrentDensityUnit::MilliAmperePerSquareCentimetre),
            concentration: Some(ConcentrationUnit::Molar),
            field: Some(FieldUnit::VoltPerCentimetre),
        };
        // 100 A/m^2 = 10 mA/cm^2; 2000 mol/m^3 = 2 M; 300 V/m = 3 V/cm; 0.5 V = 500 mV
        let cases = [
            ("|i| (A/m²)", 100.0, "|i| (mA/cm²)", 10.0),
            ("c(Zn2+) (mol/m³)", 2000.0, "c(Zn2+) (M)", 2.0),
            ("|E| (V/m)", 300.0, "|E| (V/cm)", 3.0),
            ("potential (V)", 0.5, "potential (mV)", 500.0),
        ];
        for (quantity, si, label, value) in cases {
            let s = shown(quantity, [0.0, si], &units);
            assert_eq!(s.quantity, label);
            assert!((si * s.factor - value).abs() < 1e-9 * value, "{quantity}: {} != {value}", si * s.factor);
        }
        assert_eq!(shown("time (s)", [0.0, 1.0], &units).quantity, "time (s)", "other quantities stay as they are");
    }

    #[test]
    fn fixed_ranges_are_found_by_the_quantity_unit() {
        let ranges = ColourRanges { current_density_a_m2: Some([0.0, 200.0]), ..Default::default() };
        assert_eq!(fixed_range("plating current density, −i·n (A/m²)", &ranges), Some([0.0, 200.0]));
        assert_eq!(fixed_range("|E| (V/m)", &ranges), None);
    }
}
