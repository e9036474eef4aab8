//! Scene form of coating-layer materials: porosity and tortuosity (effective transport), fixed
//! charge (ion-selective layers) and a conductive solid phase with volumetric kinetics
//! (porous-electrode scaffolds), each property constant or graded through the layer's depth.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A property through a layer's depth, as a function of the depth fraction `s` in [0, 1]: 0 at
/// the layer's bottom (the layer below or the electrode), 1 at its top. In JSON:
/// - a number: constant;
/// - `{"bottom": a, "top": b}` (linear) or `{"bottom": a, "top": b, "shape": "exponential"}`
///   (`a (b/a)^s`, a and b nonzero and of one sign);
/// - `{"table": [[s0, v0], [s1, v1], ...]}`: piecewise linear in s, s increasing in [0, 1],
///   constant beyond the first and last points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "serde_json::Value")]
pub enum Profile {
    Constant(f64),
    Graded {
        bottom: f64,
        top: f64,
        #[serde(default)]
        shape: Grading,
    },
    Table {
        table: Vec<[f64; 2]>,
    },
}

/// How a graded property goes from its bottom value to its top value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Grading {
    #[default]
    Linear,
    Exponential,
}

impl Profile {
    /// The value at depth fraction `s` (clamped to [0, 1]).
    pub fn at(&self, s: f64) -> f64 {
        let s = s.clamp(0.0, 1.0);
        match self {
            Profile::Constant(v) => *v,
            Profile::Graded { bottom, top, shape: Grading::Linear } => bottom + (top - bottom) * s,
            Profile::Graded { bottom, top, shape: Grading::Exponential } => bottom * (top / bottom).powf(s),
            Profile::Table { table } => {
                let first = table[0];
                let last = table[table.len() - 1];
                if s <= first[0] {
                    return first[1];
                }
                if s >= last[0] {
                    return last[1];
                }
                let k = table.windows(2).position(|w| s <= w[1][0]).unwrap_or(table.len() - 2);
                let ([s0, v0], [s1, v1]) = (table[k], table[k + 1]);
                if s1 == s0 {
                    v1
                } else {
                    v0 + (v1 - v0) * (s - s0) / (s1 - s0)
                }
            }
        }
    }

    /// Smallest and largest value over the layer (profiles are monotone between their points).
    pub fn range(&self) -> (f64, f64) {
        let values: Vec<f64> = match self {
            Profile::Constant(v) => vec![*v],
            Profile::Graded { bottom, top, .. } => vec![*bottom, *top],
            Profile::Table { table } => table.iter().map(|p| p[1]).collect(),
        };
        values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
    }

    /// Mean over the layer's depth fraction (midpoint rule on 200 slices).
    pub fn mean(&self) -> f64 {
        (0..200).map(|k| self.at((k as f64 + 0.5) / 200.0)).sum::<f64>() / 200.0
    }
}

/// Written by hand: the parser reads a profile from any JSON value (to name the form it expects
/// in its messages), so the schema of the three forms cannot be derived.
impl JsonSchema for Profile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Profile".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A property through the layer's depth fraction s (0 bottom, 1 top): a number \
        (constant); {bottom, top, shape: linear|exponential} (exponential: a (b/a)^s, a and b nonzero and of one sign); or \
        {table: [[s, value], ...]}, piecewise linear, s increasing in [0, 1].",
            "oneOf": [
                { "type": "number" },
                {
                    "type": "object",
                    "properties": {
                        "bottom": { "type": "number" },
                        "top": { "type": "number" },
                        "shape": { "enum": ["linear", "exponential"], "default": "linear" }
                    },
                    "required": ["bottom", "top"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "properties": {
                        "table": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "array",
                                "prefixItems": [{ "type": "number", "minimum": 0, "maximum": 1 }, { "type": "number" }],
                                "minItems": 2,
                                "maxItems": 2
                            }
                        }
                    },
                    "required": ["table"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl TryFrom<serde_json::Value> for Profile {
    type Error = String;

    fn try_from(v: serde_json::Value) -> Result<Self, String> {
        const FORMS: &str =
            "a number, {\"bottom\": .., \"top\": .., \"shape\": \"linear\"|\"exponential\"} or {\"table\": [[s, value], ...]}";
        if let Some(x) = v.as_f64() {
            return Ok(Profile::Constant(x));
        }
        let obj = v.as_object().ok_or_else(|| format!("expected {FORMS}, found {v}"))?;
        let number =
            |key: &str| obj.get(key).and_then(|x| x.as_f64()).ok_or_else(|| format!("`{key}` must be a number (profile {v})"));
        if obj.contains_key("table") {
            if obj.len() != 1 {
                return Err(format!("a table profile has the one key `table` (found {v})"));
            }
            let table: Vec<[f64; 2]> = serde_json::from_value(obj["table"].clone())
                .map_err(|_| format!("`table` must be a list of [depth_fraction, value] pairs (found {})", obj["table"]))?;
            if table.is_empty() {
                return Err("`table` needs at least one [depth_fraction, value] pair".into());
            }
            if table.iter().any(|p| !(0.0..=1.0).contains(&p[0])) || table.windows(2).any(|w| w[1][0] < w[0][0]) {
                return Err(format!("`table` depth fractions must increase within [0, 1] (found {})", obj["table"]));
            }
            return Ok(Profile::Table { table });
        }
        if let Some(extra) = obj.keys().find(|k| !["bottom", "top", "shape"].contains(&k.as_str())) {
            return Err(format!("unknown profile key `{extra}`; expected {FORMS}"));
        }
        let (bottom, top) = (number("bottom")?, number("top")?);
        let shape = match obj.get("shape").map(|s| s.as_str()) {
            None | Some(Some("linear")) => Grading::Linear,
            Some(Some("exponential")) => {
                if bottom * top <= 0.0 {
                    return Err(format!(
                        "an exponential profile needs nonzero bottom and top of one sign (found {bottom}, {top})"
                    ));
                }
                Grading::Exponential
            }
            Some(other) => return Err(format!("`shape` must be \"linear\" or \"exponential\" (found {other:?})")),
        };
        Ok(Profile::Graded { bottom, top, shape })
    }
}

/// Electronically conductive solid phase of a layer (porous-electrode theory): the solid
/// potential phi_s obeys `-div(sigma_eff grad phi_s) = -a i_BV` and the electrolyte gains the
/// volumetric source `a i_BV` with `eta = phi_s - phi` (Butler–Volmer of `physics.kinetics` with
/// the exchange current density given here). Only the first layer (on the electrode) may be
/// conductive: its solid touches the electrode and shares its potential there.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SolidPhase {
    /// Effective (superficial) electronic conductivity of the solid, S/m. Absent: an
    /// equipotential solid (sigma_eff -> infinity; carbon scaffolds have 1e3-1e5 S/m against
    /// ~5 S/m for the electrolyte).
    #[serde(rename = "conductivity_S_m", default)]
    pub conductivity_s_m: Option<Profile>,
    /// Electrochemically active area per unit layer volume, 1/m.
    #[serde(rename = "specific_area_m_1")]
    pub specific_area_m_1: Profile,
    /// Exchange current density on the solid's surface, A/m^2 (a Cu-decorated surface has a higher
    /// one than bare carbon).
    #[serde(rename = "exchange_current_density_A_m2")]
    pub exchange_current_density_a_m2: Profile,
    /// The electrode under the scaffold: "zinc" (default; it plates with `physics.kinetics`) or
    /// "inert" (a current collector that only conducts, as in porous-electrode theory).
    #[serde(default)]
    pub base: BaseElectrode,
}

/// Whether the electrode under a conductive scaffold reacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BaseElectrode {
    #[default]
    Zinc,
    Inert,
}

/// Default Bruggeman exponent (spheres; D_eff = D eps^1.5).
pub fn default_bruggeman() -> f64 {
    1.5
}

/// Default porosity: an open layer (no solid).
pub fn default_porosity() -> Profile {
    Profile::Constant(1.0)
}

/// Default fixed charge: none.
pub fn no_fixed_charge() -> Profile {
    Profile::Constant(0.0)
}

/// Checks the materials of the coating layers and the scaffold surfaces against each other and
/// the model: ranges of every profile, a solid phase only in the first layer, and the properties
/// each model can represent.
pub(super) fn check(s: &super::Scene) -> Result<(), String> {
    use super::checks::{finite, in_range, num};
    use super::Model;
    let model = s.physics.model;
    let model_name = serde_json::to_value(model).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    // A value may be 0 (none) but not a vanishing fraction of its unit, which the solve cannot
    // tell from 0 (a 1e-308 exchange current gave NaN deposition profiles).
    let profile_in = |key: &str, p: &Profile, lo: f64, hi: f64| -> Result<(), String> {
        let (a, b) = p.range();
        if let Some(v) = [a, b].into_iter().find(|v| *v != 0.0 && v.abs() < 1e-12) {
            return Err(format!("key `{key}`: {} is neither 0 nor at least 1e-12", num(v)));
        }
        in_range(key, a, lo, hi).and(in_range(key, b, lo, hi))
    };
    for (k, l) in s.geometry.layers.iter().enumerate() {
        let key = format!("geometry.layers.{k}");
        let (eps_lo, _) = l.porosity.range();
        if eps_lo.is_nan() || eps_lo <= 0.0 {
            return Err(format!("key `{key}.porosity`: {} must lie in (0, 1]", num(eps_lo)));
        }
        profile_in(&format!("{key}.porosity"), &l.porosity, 1e-3, 1.0)?;
        in_range(&format!("{key}.bruggeman_exponent"), l.bruggeman_exponent, 0.0, 5.0)?;
        if let Some(tau) = &l.tortuosity {
            profile_in(&format!("{key}.tortuosity"), tau, 1.0, 1e3)?;
        }
        profile_in(&format!("{key}.fixed_charge_mol_m3"), &l.fixed_charge_mol_m3, -1e5, 1e5)?;
        let porous = l.porosity.range() != (1.0, 1.0) || l.tortuosity.is_some();
        if porous && model == Model::Pnp {
            return Err(format!(
                "key `{key}.porosity`: the pnp model takes open layers only (porosity 1, no tortuosity); use the tertiary model \
                 for porous layers"
            ));
        }
        let charged = l.fixed_charge_mol_m3.range() != (0.0, 0.0);
        if charged && !model.has_transport() {
            return Err(format!(
                "key `{key}.fixed_charge_mol_m3`: a fixed charge enters electroneutrality or Poisson: it needs physics.model \
                 \"tertiary\" or \"pnp\" (found \"{model_name}\")"
            ));
        }
        let Some(solid) = &l.solid else { continue };
        if k > 0 {
            return Err(format!(
                "key `{key}.solid`: only the first layer (on the electrode) may have a conductive solid phase; a conductive \
                 layer above an insulating one would float"
            ));
        }
        if !matches!(model, Model::Secondary | Model::Tertiary) {
            return Err(format!(
                "key `{key}.solid`: a conductive scaffold needs physics.model \"secondary\" or \"tertiary\" (found \"{model_name}\")"
            ));
        }
        if let Some(sigma) = &solid.conductivity_s_m {
            profile_in(&format!("{key}.solid.conductivity_S_m"), sigma, 1e-6, 1e9)?;
        }
        profile_in(&format!("{key}.solid.specific_area_m_1"), &solid.specific_area_m_1, 0.0, 1e10)?;
        profile_in(&format!("{key}.solid.exchange_current_density_A_m2"), &solid.exchange_current_density_a_m2, 0.0, 1e6)?;
    }
    if let Some(i0) = s.geometry.scaffold.as_ref().and_then(|sc| sc.surface_exchange_current_density_a_m2) {
        let key = "geometry.scaffold.surface_exchange_current_density_A_m2";
        finite(key, i0)?;
        in_range(key, i0, 0.0, 1e6)?;
        if i0 != 0.0 && i0 < 1e-12 {
            return Err(format!("key `{key}`: {} is neither 0 nor at least 1e-12", num(i0)));
        }
        if !matches!(model, Model::Secondary | Model::Tertiary) {
            return Err(format!(
                "key `{key}`: reacting scaffold surfaces need physics.model \"secondary\" or \"tertiary\" (found \"{model_name}\")"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Profile, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    #[test]
    fn profiles_parse_and_evaluate() {
        assert_eq!(parse("0.4").expect("parses").at(0.3), 0.4);
        let lin = parse(r#"{"bottom": 1.0, "top": 3.0}"#).expect("parses");
        assert!((lin.at(0.25) - 1.5).abs() < 1e-15);
        let exp = parse(r#"{"bottom": 1.0, "top": 100.0, "shape": "exponential"}"#).expect("parses");
        assert!((exp.at(0.5) - 10.0).abs() < 1e-12);
        let tab = parse(r#"{"table": [[0.0, 2.0], [0.5, 4.0], [1.0, 0.0]]}"#).expect("parses");
        assert!((tab.at(0.25) - 3.0).abs() < 1e-15 && (tab.at(0.75) - 2.0).abs() < 1e-15);
        assert_eq!(tab.range(), (0.0, 4.0));
        assert!((lin.mean() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn bad_profiles_are_named() {
        assert!(parse(r#"{"bottom": 1.0}"#).expect_err("rejected").contains("`top`"));
        assert!(parse(r#"{"bottom": -1.0, "top": 2.0, "shape": "exponential"}"#).expect_err("rejected").contains("one sign"));
        assert!(parse(r#"{"table": [[0.5, 1.0], [0.2, 1.0]]}"#).expect_err("rejected").contains("increase"));
        assert!(parse(r#"{"bottom": 1, "top": 2, "slope": 3}"#).expect_err("rejected").contains("`slope`"));
        assert!(parse("\"high\"").expect_err("rejected").contains("expected"));
    }
}
