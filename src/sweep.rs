//! `znfield sweep`: one scene run over the Cartesian product of scene-key values, with the
//! headline metrics of every point in `sweep.csv` and `sweep.json`.
//!
//! Each `--set KEY=V1,V2,...` is an axis (values split at top-level commas, so JSON arrays and
//! objects stay whole; a single value is a fixed override). Every point's scene is built and
//! validated before the first run, so a bad value fails the sweep before anything is written.
//! Points run in order, the last axis fastest; each writes its full outputs to `point_NNN/`, and
//! the tables and a plot of each metric (`sweep_<metric>.png`) are written last.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::backend::BackendChoice;
use crate::error::{Error, Result};
use crate::output::atomic;
use crate::output::maps::plots::Series;
use crate::output::maps::Look;
use crate::output::outdir::OutputDir;
use crate::run::{run, write_outputs, RunResult};
use crate::scene::Scene;

/// One swept key and its values (JSON text, as `--set` takes them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweptKey {
    pub key: String,
    pub values: Vec<String>,
}

impl SweptKey {
    /// Parses `KEY=V1,V2,...`.
    pub fn parse(arg: &str) -> Result<SweptKey> {
        let (key, list) = arg
            .split_once('=')
            .ok_or_else(|| Error::input(format!("--set {arg:?}: expected KEY=V1,V2,... (for example mesh.refine=1,2)")))?;
        let values = split_top_level(list);
        if key.is_empty() || values.iter().any(|v| v.trim().is_empty()) {
            return Err(Error::input(format!("--set {arg:?}: a key and non-empty values are needed (KEY=V1,V2,...)")));
        }
        Ok(SweptKey { key: key.to_string(), values })
    }
}

/// Splits at commas outside brackets, braces and quotes.
fn split_top_level(list: &str) -> Vec<String> {
    let (mut out, mut current, mut depth, mut quoted) = (Vec::new(), String::new(), 0i32, false);
    for ch in list.chars() {
        match ch {
            '"' => quoted = !quoted,
            '[' | '{' if !quoted => depth += 1,
            ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    out.push(current);
    out.into_iter().map(|v| v.trim().to_string()).collect()
}

/// Most points a sweep may have.
pub const MAX_SWEEP_POINTS: usize = 10_000;

/// Checks the axes before any point is built: no key that replaces one given before it
/// ([`crate::scene::overrides::check_order`]; the points would be labelled with values they did
/// not run), and at most [`MAX_SWEEP_POINTS`] points.
pub fn check_axes(axes: &[SweptKey]) -> Result<()> {
    crate::scene::overrides::check_keys(&axes.iter().map(|a| a.key.as_str()).collect::<Vec<_>>())?;
    let count = axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
    if count.is_none_or(|n| n > MAX_SWEEP_POINTS) {
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        return Err(Error::input(format!(
            "--set: the axes ({} values) make more than the {MAX_SWEEP_POINTS} points a sweep may have; split the sweep",
            sizes.join(" x ")
        )));
    }
    Ok(())
}

/// Every combination of the axes' values, the last axis fastest, as `KEY=VALUE` overrides.
pub fn points(axes: &[SweptKey]) -> Vec<Vec<String>> {
    axes.iter().fold(vec![Vec::new()], |acc, axis| {
        acc.iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(format!("{}={v}", axis.key));
                    p
                })
            })
            .collect()
    })
}

/// Headline metrics of one point (SI units; absent where the model has none).
#[derive(Debug, Clone, Serialize)]
pub struct PointMetrics {
    pub tip_enhancement: Option<f64>,
    pub nonuniformity: Option<f64>,
    #[serde(rename = "mean_current_density_A_m2")]
    pub mean_current_density: f64,
    #[serde(rename = "max_current_density_A_m2")]
    pub max_current_density: f64,
    #[serde(rename = "electrode_potential_V")]
    pub electrode_potential: f64,
    #[serde(rename = "max_field_V_m")]
    pub max_field: f64,
    /// Lowest surface concentration of the reacting species, mol/m^3 (transport models).
    #[serde(rename = "min_surface_concentration_mol_m3")]
    pub min_surface_concentration: Option<f64>,
    /// Share of the deposition in the lower half of a coating (coated scenes).
    pub coating_lower_half_share: Option<f64>,
}

impl PointMetrics {
    fn of(r: &RunResult) -> Self {
        let s = &r.summary;
        let reacting = &s.scene.physics.kinetics.reacting_species;
        PointMetrics {
            tip_enhancement: s.electrode.tip_enhancement,
            nonuniformity: s.electrode.nonuniformity,
            mean_current_density: s.electrode.current_density.mean,
            max_current_density: s.electrode.current_density.max,
            electrode_potential: s.electrode.potential,
            max_field: s.electrolyte.max_field,
            min_surface_concentration: s
                .electrolyte
                .min_concentration
                .as_ref()
                .and_then(|m| m.get(reacting))
                .map(|c| c.electrode),
            coating_lower_half_share: s
                .coating
                .as_ref()
                .and_then(|c| c.deposition_by_depth)
                .map(|b| b[..b.len() / 2].iter().sum()),
        }
    }

    fn csv(&self) -> String {
        METRICS.iter().map(|m| (m.value)(self).map_or(String::new(), |x| format!("{x:.9e}"))).collect::<Vec<_>>().join(",")
    }
}

/// A column of sweep.csv and the plot drawn of it.
pub struct Metric {
    pub column: &'static str,
    /// Quantity and unit on the plot's axis.
    pub quantity: &'static str,
    pub value: fn(&PointMetrics) -> Option<f64>,
}

/// The headline metrics in column order.
pub const METRICS: [Metric; 8] = [
    Metric { column: "tip_enhancement", quantity: "tip enhancement (max / projected mean)", value: |m| m.tip_enhancement },
    Metric { column: "nonuniformity", quantity: "nonuniformity (std / mean)", value: |m| m.nonuniformity },
    Metric {
        column: "mean_current_density_A_m2",
        quantity: "mean current density (A/m²)",
        value: |m| Some(m.mean_current_density),
    },
    Metric {
        column: "max_current_density_A_m2", quantity: "max current density (A/m²)", value: |m| Some(m.max_current_density)
    },
    Metric { column: "electrode_potential_V", quantity: "electrode potential (V)", value: |m| Some(m.electrode_potential) },
    Metric { column: "max_field_V_m", quantity: "max field (V/m)", value: |m| Some(m.max_field) },
    Metric {
        column: "min_surface_concentration_mol_m3",
        quantity: "min surface concentration (mol/m³)",
        value: |m| m.min_surface_concentration,
    },
    Metric {
        column: "coating_lower_half_share",
        quantity: "deposition in the coating's lower half",
        value: |m| m.coating_lower_half_share,
    },
];

/// One finished point: its values (one per axis), output directory and metrics.
#[derive(Debug, Clone, Serialize)]
pub struct SweepPoint {
    pub values: Vec<String>,
    pub directory: String,
    pub metrics: PointMetrics,
}

/// The whole sweep, as sweep.json holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    pub scene: String,
    /// Overrides with a single value (`KEY=VALUE`), applied to every point.
    pub fixed: Vec<String>,
    /// The swept keys (two or more values each); each point's `values` follow this order.
    pub axes: Vec<SweptKey>,
    pub points: Vec<SweepPoint>,
    /// What the sweep wrote into its directory, sweep.json last: files by name and each point's
    /// directory with a trailing `/` (its own summary.json lists the point's files).
    pub files: Vec<String>,
}

/// Runs the sweep of `scene_path` (the built-in default scene when None) over `axes` into `dir`;
/// `progress` is told each point as it starts.
pub fn run_sweep(
    scene_path: Option<&Path>,
    axes: &[SweptKey],
    backend: BackendChoice,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize, &[String]),
) -> Result<Sweep> {
    check_axes(axes)?;
    let combos = points(axes);
    let load = |sets: &[String]| match scene_path {
        Some(p) => Scene::load(p, sets),
        None => Scene::builtin_default(sets),
    };
    // Every point's scene is checked first (one at a time, so memory holds one scene): a bad
    // value stops the sweep before anything runs or is written.
    let (mut name, mut look) = (String::new(), Look::default());
    for (k, sets) in combos.iter().enumerate() {
        let scene = load(sets)?;
        if k == 0 {
            // The plots follow the first point's `output` block (units, SVG).
            look = Look::of(&scene.output);
            name = scene.name;
        }
    }
    let mut done = Vec::with_capacity(combos.len());
    for (k, sets) in combos.iter().enumerate() {
        progress(k, combos.len(), sets);
        let point_dir: PathBuf = dir.join(format!("point_{k:03}"));
        let _claim = OutputDir::claim_subdir(&point_dir, &crate::run::RUN_MARKERS)?;
        let mut result = run(&load(sets)?, backend)?;
        write_outputs(&mut result, &point_dir)?;
        let values = sets
            .iter()
            .zip(axes)
            .filter(|(_, axis)| axis.values.len() > 1)
            .map(|(s, _)| s.split_once('=').map_or(s.clone(), |(_, v)| v.to_string()))
            .collect();
        done.push(SweepPoint { values, directory: format!("point_{k:03}"), metrics: PointMetrics::of(&result) });
    }
    let mut sweep = Sweep {
        scene: name,
        fixed: axes.iter().filter(|a| a.values.len() == 1).map(|a| format!("{}={}", a.key, a.values[0])).collect(),
        axes: axes.iter().filter(|a| a.values.len() > 1).cloned().collect(),
        files: done.iter().map(|p| format!("{}/", p.directory)).collect(),
        points: done,
    };
    atomic::write(&dir.join("sweep.csv"), csv(&sweep).as_bytes())?;
    sweep.files.push("sweep.csv".into());
    for (file, png) in plots(&sweep, &look)? {
        atomic::write(&dir.join(&file), &png)?;
        sweep.files.push(file);
    }
    sweep.files.push("sweep.json".into());
    let json = serde_json::to_vec_pretty(&sweep).map_err(|e| Error::output("sweep.json", e))?;
    atomic::write(&dir.join("sweep.json"), &json)?;
    Ok(sweep)
}

/// `sweep_<metric>.png` for every metric the points have: the metric against the first swept
/// key, one curve per combination of the other keys' values. A key whose values are not all
/// numbers is plotted against the values' position (1, 2, ...), named in the axis label.
pub fn plots(sweep: &Sweep, look: &Look) -> Result<Vec<(String, Vec<u8>)>> {
    let Some(first) = sweep.axes.first() else { return Ok(Vec::new()) };
    let numbers: Option<Vec<f64>> = first.values.iter().map(|v| v.parse::<f64>().ok()).collect();
    let (x_of, x_quantity): (Vec<f64>, String) = match numbers {
        Some(xs) => {
            let (label, factor) = axis_of_key(&first.key);
            (xs.iter().map(|x| x * factor).collect(), label)
        }
        None => {
            let named: Vec<String> = first.values.iter().enumerate().map(|(k, v)| format!("{} = {v}", k + 1)).collect();
            ((1..=first.values.len()).map(|k| k as f64).collect(), format!("{} ({})", first.key, named.join(", ")))
        }
    };
    // Curves: the points sharing the values of the other axes, in the order of the first.
    let mut curves: Vec<(String, Vec<&SweepPoint>)> = Vec::new();
    for p in &sweep.points {
        let others: Vec<String> = sweep.axes[1..].iter().zip(&p.values[1..]).map(|(a, v)| format!("{}={v}", a.key)).collect();
        let label = if others.is_empty() { sweep.scene.clone() } else { others.join(", ") };
        match curves.iter_mut().find(|c| c.0 == label) {
            Some(c) => c.1.push(p),
            None => curves.push((label, vec![p])),
        }
    }
    let x = |p: &SweepPoint| first.values.iter().position(|v| *v == p.values[0]).map_or(f64::NAN, |k| x_of[k]);
    let mut out = Vec::new();
    for m in &METRICS {
        if !sweep.points.iter().any(|p| (m.value)(&p.metrics).is_some()) {
            continue;
        }
        let series: Vec<Series> = curves
            .iter()
            .map(|(label, points)| Series {
                name: label,
                points: points.iter().map(|p| (x(p), (m.value)(&p.metrics).unwrap_or(f64::NAN))).collect(),
            })
            .collect();
        let title = format!("{}: {} against {}", sweep.scene, m.column, first.key);
        out.extend(look.line_plot(&format!("sweep_{}", m.column), &title, &x_quantity, m.quantity, &series)?);
    }
    Ok(out)
}

/// Units of scene keys by the suffix of their last path segment, longest first: (suffix, unit
/// on the axis, factor from SI to it). Lengths are shown in micrometres.
const KEY_UNITS: [(&str, &str, f64); 10] = [
    ("_mol_m3", "mol/m³", 1.0),
    ("_A_m2", "A/m²", 1.0),
    ("_F_m2", "F/m²", 1.0),
    ("_m2_s", "m²/s", 1.0),
    ("_S_m", "S/m", 1.0),
    ("_m_1", "1/m", 1.0),
    ("_m", "µm", 1e6),
    ("_V", "V", 1.0),
    ("_K", "K", 1.0),
    ("_s", "s", 1.0),
];

/// The axis label of a swept key and the factor its values are multiplied by on that axis:
/// `geometry.protrusions.0.radius_m` -> ("radius (µm), geometry.protrusions.0.radius_m", 1e6);
/// a key without a unit suffix is its own label.
fn axis_of_key(key: &str) -> (String, f64) {
    let last = key.rsplit('.').next().unwrap_or(key);
    for (suffix, unit, factor) in KEY_UNITS {
        if let Some(name) = last.strip_suffix(suffix).filter(|n| !n.is_empty()) {
            return (format!("{} ({unit}), {key}", name.replace('_', " ")), factor);
        }
    }
    (key.to_string(), 1.0)
}

/// sweep.csv: one column per swept key, the point directory, then the metrics (the fixed
/// overrides are in sweep.json).
fn csv(s: &Sweep) -> String {
    let quote = |v: &str| if v.contains([',', '"']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() };
    let mut out = s.axes.iter().map(|a| quote(&a.key)).collect::<Vec<_>>().join(",");
    out.push_str(",directory,");
    out.push_str(&METRICS.iter().map(|m| m.column).collect::<Vec<_>>().join(","));
    out.push('\n');
    for p in &s.points {
        let values: Vec<String> = p.values.iter().map(|v| quote(v)).collect();
        out.push_str(&format!("{},{},{}\n", values.join(","), p.directory, p.metrics.csv()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swept_keys_are_labelled_with_their_unit() {
        assert_eq!(axis_of_key("geometry.protrusions.0.radius_m"), ("radius (µm), geometry.protrusions.0.radius_m".into(), 1e6));
        let (label, factor) = axis_of_key("operation.mean_current_density_A_m2");
        assert_eq!((label.as_str(), factor), ("mean current density (A/m²), operation.mean_current_density_A_m2", 1.0));
        assert_eq!(axis_of_key("physics.temperature_K").0, "temperature (K), physics.temperature_K");
        assert_eq!(axis_of_key("mesh.refine"), ("mesh.refine".into(), 1.0));
        assert_eq!(axis_of_key("physics.kinetics.alpha_a").0, "physics.kinetics.alpha_a", "no unit suffix");
    }

    #[test]
    fn axes_split_at_top_level_commas_and_combine_last_fastest() {
        let a = SweptKey::parse("geometry.protrusions.0.center_m=[0,0],[1e-6, 0]").expect("axis");
        assert_eq!(a.values, vec!["[0,0]", "[1e-6, 0]"]);
        let b = SweptKey::parse("mesh.refine=1,2").expect("axis");
        let p = points(&[b, SweptKey::parse("operation.mode=current").expect("axis")]);
        assert_eq!(p, vec![vec!["mesh.refine=1", "operation.mode=current"], vec!["mesh.refine=2", "operation.mode=current"]]);
        assert!(SweptKey::parse("mesh.refine").is_err());
        assert!(SweptKey::parse("mesh.refine=1,,2").is_err());
    }
}
