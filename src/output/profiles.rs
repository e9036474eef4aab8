//! Line profiles of a solved run: the numbers behind a paper's line plots, as CSV (SI units, the
//! output conventions of [`crate::output`]) with a PNG of each.
//!
//! - `profile_electrode.csv`: along the electrode's trace in the plane y = y0 through the first
//!   protrusion's axis (x0, y0) (the domain's centre without one), [`ELECTRODE_SAMPLES`] points
//!   evenly spaced in x, each on the topmost electrode surface above it (so an overhang shows
//!   its top, as the electrode map does). Columns: `arc_length_m` along the trace from the
//!   apex (the sample at x0; negative towards -x), `x_m`, `z_m`, `polar_angle_deg` = atan2(|x -
//!   x0|, z) (the angle from the protrusion's axis seen from its foot's centre: 0 at the apex,
//!   90 on the plane), `normal_current_density_A_m2` (recovered, anodic positive),
//!   `plating_current_density_A_m2` (its negative), `overpotential_V` (kinetic models) and the
//!   surface concentrations `c_<species>_mol_m3` (transport models).
//!   `profile_electrode_current_density.png` plots the current density along the net current
//!   against the arc length; `profile_electrode_overpotential.png` (kinetic models) and
//!   `profile_electrode_concentration_<species>.png` (transport models, the reacting species)
//!   the overpotential and the surface concentration.
//! - `profile_z_apex.csv` and `profile_z_flat.csv`: along z from the electrode surface to the top
//!   of the domain, through the apex and through the point of the domain farthest from every
//!   protrusion (the flat electrode), [`Z_SAMPLES`] points: `z_m`, `electrolyte_potential_V`,
//!   concentrations, `field_magnitude_V_m` and `current_density_magnitude_A_m2` (per element).
//!   `profile_z_potential.png` (and `profile_z_concentration_<species>.png` for the reacting
//!   species) plot both.

use glam::DVec3;

use super::concentration_name;
use super::maps::plots::Series;
use super::maps::sample::{self, Located, PixelGrid, Plane};
use super::maps::Look;
use crate::error::Result;
use crate::run::RunResult;

/// Samples along the electrode's trace.
pub const ELECTRODE_SAMPLES: usize = 2000;
/// Samples along each vertical line.
pub const Z_SAMPLES: usize = 400;

/// One profile: named columns of equal length.
pub struct Profile {
    pub columns: Vec<(String, Vec<f64>)>,
}

impl Profile {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// CSV text: a header of the column names, then one row per sample (17 significant digits).
    pub fn csv(&self) -> String {
        let mut out = self.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(",") + "\n";
        let rows = self.columns.first().map_or(0, |(_, v)| v.len());
        for k in 0..rows {
            let row: Vec<String> = self.columns.iter().map(|(_, v)| format!("{:.16e}", v[k])).collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }
}

/// The protrusion axis the profiles pass through, and the flat point: (x0, y0), (xf, yf).
fn anchors(result: &RunResult) -> ([f64; 2], [f64; 2]) {
    let (lo, hi) = result.mesh.bounding_box();
    let protrusions = result.summary.scene.geometry.all_protrusions();
    let axis = protrusions.first().map_or([0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1])], |(_, p)| p.center());
    // Candidates inset 5% from the corners and the side midpoints; the one farthest outside
    // every protrusion's reach.
    let at = |s: f64, t: f64| [lo[0] + s * (hi[0] - lo[0]), lo[1] + t * (hi[1] - lo[1])];
    let candidates = [0.05, 0.5, 0.95].iter().flat_map(|&s| [0.05, 0.5, 0.95].map(|t| at(s, t))).collect::<Vec<_>>();
    let clearance = |c: &[f64; 2]| {
        protrusions
            .iter()
            .map(|(_, p)| (c[0] - p.center()[0]).hypot(c[1] - p.center()[1]) - p.reach())
            .fold(f64::INFINITY, f64::min)
    };
    let flat = candidates.into_iter().max_by(|a, b| clearance(a).total_cmp(&clearance(b))).unwrap_or(axis);
    (axis, flat)
}

/// The electrode profile (see the module documentation).
pub fn electrode_profile(result: &RunResult) -> Profile {
    let (mesh, f) = (&result.mesh, &result.fields);
    let ([x0, y0], _) = anchors(result);
    let (lo, hi) = mesh.bounding_box();
    let n = ELECTRODE_SAMPLES;
    let dx = (hi[0] - lo[0]) / n as f64;
    let grid = PixelGrid { u0: lo[0], v0: y0 - 0.5 * dx, du: dx, dv: dx, width: n, height: 1 };
    let located = sample::from_above(mesh, grid);
    let nodal = |per_electrode_node: &[f64]| {
        let mut full = vec![f64::NAN; mesh.nodes.len()];
        for (&node, &v) in result.electrode_nodes.iter().zip(per_electrode_node) {
            full[node as usize] = v;
        }
        located.nodal(&full)
    };
    let x: Vec<f64> = (0..n).map(|i| grid.centre(i, 0)[0]).collect();
    let z = located.nodal(&mesh.nodes.iter().map(|p| p.z).collect::<Vec<_>>());
    let arc = arc_length(&x, &z, x0);
    let polar: Vec<f64> = x.iter().zip(&z).map(|(x, z)| (x - x0).abs().atan2(*z).to_degrees()).collect();
    let normal = nodal(&f.electrode_smoothed);
    let plating = normal.iter().map(|v| -v).collect();
    let mut columns = vec![
        ("arc_length_m".to_string(), arc),
        ("x_m".to_string(), x),
        ("z_m".to_string(), z),
        ("polar_angle_deg".to_string(), polar),
        ("normal_current_density_A_m2".to_string(), normal),
        ("plating_current_density_A_m2".to_string(), plating),
    ];
    if !f.electrode_overpotential.is_empty() {
        columns.push(("overpotential_V".into(), nodal(&f.electrode_overpotential)));
    }
    for (name, c) in &f.concentrations {
        columns.push((concentration_name(name), located.nodal(c)));
    }
    Profile { columns }
}

/// Cumulative length along the polyline (x, z) (samples off the electrode skipped), zero at
/// the sample nearest to x = `x0`, negative before it.
fn arc_length(x: &[f64], z: &[f64], x0: f64) -> Vec<f64> {
    let mut s = vec![f64::NAN; x.len()];
    let mut last: Option<usize> = None;
    for k in (0..x.len()).filter(|&k| z[k].is_finite()) {
        s[k] = last.map_or(0.0, |p| s[p] + (x[k] - x[p]).hypot(z[k] - z[p]));
        last = Some(k);
    }
    let apex = (0..x.len()).filter(|&k| s[k].is_finite()).min_by(|&a, &b| (x[a] - x0).abs().total_cmp(&(x[b] - x0).abs()));
    let origin = apex.map_or(0.0, |k| s[k]);
    s.iter().map(|v| v - origin).collect()
}

/// The vertical profile through (x, y): from the topmost electrode surface there to the top.
pub fn z_profile(result: &RunResult, [x, y]: [f64; 2]) -> Profile {
    let (mesh, f) = (&result.mesh, &result.fields);
    let (_, hi) = mesh.bounding_box();
    let tiny = 1e-9 * (hi[2].abs() + 1e-30);
    let surface =
        sample::from_above(mesh, PixelGrid { u0: x - tiny, v0: y - tiny, du: 2.0 * tiny, dv: 2.0 * tiny, width: 1, height: 1 });
    let z_surface = surface.nodal(&mesh.nodes.iter().map(|p| p.z).collect::<Vec<_>>())[0];
    let z0 = if z_surface.is_finite() { z_surface } else { 0.0 };
    let dz = (hi[2] - z0) / Z_SAMPLES as f64;
    let grid = PixelGrid { u0: x - 0.5 * tiny, v0: z0, du: tiny, dv: dz, width: 1, height: Z_SAMPLES };
    let located: Located = sample::slice(mesh, Plane { normal_axis: 1, at: y }, grid);
    let z: Vec<f64> = (0..Z_SAMPLES).map(|j| grid.centre(0, j)[1]).collect();
    let lengths = |v: &[DVec3]| v.iter().map(|e| e.length()).collect::<Vec<_>>();
    let mut columns = vec![("z_m".to_string(), z), ("electrolyte_potential_V".to_string(), located.nodal(&f.potential))];
    for (name, c) in &f.concentrations {
        columns.push((concentration_name(name), located.nodal(c)));
    }
    columns.push(("field_magnitude_V_m".into(), located.per_element(&lengths(&f.field))));
    columns.push(("current_density_magnitude_A_m2".into(), located.per_element(&lengths(&f.current_density))));
    Profile { columns }
}

/// The profile files of a run: (file name, bytes), CSVs first; the PNGs only when `maps`.
pub fn profile_files(result: &RunResult, maps: bool) -> Result<Vec<(String, Vec<u8>)>> {
    let scene = &result.summary.scene.name;
    let electrode = electrode_profile(result);
    let (axis, flat) = anchors(result);
    let (apex, away) = (z_profile(result, axis), z_profile(result, flat));
    let mut files = vec![
        ("profile_electrode.csv".to_string(), electrode.csv().into_bytes()),
        ("profile_z_apex.csv".to_string(), apex.csv().into_bytes()),
        ("profile_z_flat.csv".to_string(), away.csv().into_bytes()),
    ];
    if !maps {
        return Ok(files);
    }
    let plating = result.summary.electrode.total_current < 0.0;
    let column = if plating { "plating_current_density_A_m2" } else { "normal_current_density_A_m2" };
    let quantity = super::maps::electrode_quantity(if plating { -1.0 } else { 1.0 });
    let series = |p: &Profile, x: &str, y: &str, name: &'static str| Series { name, points: pairs(p, x, y) };
    let look = Look::of(&result.summary.scene.output);
    files.extend(look.line_plot(
        "profile_electrode_current_density",
        &format!("{scene}: current density along the electrode through the apex (y = {} µm)", number_um(axis[1])),
        "arc length from the apex (µm)",
        quantity,
        &[Series { name: "electrode", points: scaled(pairs(&electrode, "arc_length_m", column), 1e6) }],
    )?);
    // The kinetic overpotential and the reacting species' surface concentration along the
    // same trace, where the model has them.
    let reacting = &result.summary.scene.physics.kinetics.reacting_species;
    let along = [
        ("overpotential_V".to_string(), "kinetic overpotential (V)".to_string(), "overpotential".to_string()),
        (
            concentration_name(reacting),
            format!("surface c({reacting}) (mol/m³)"),
            format!("concentration_{}", crate::scene::file_safe(reacting)),
        ),
    ];
    for (column, quantity, what) in along {
        let points = scaled(pairs(&electrode, "arc_length_m", &column), 1e6);
        if points.is_empty() {
            continue;
        }
        let what_along = quantity.split(" (").next().unwrap_or(&quantity);
        let title = format!("{scene}: {what_along} along the electrode through the apex (y = {} µm)", number_um(axis[1]));
        let stem = format!("profile_electrode_{what}");
        files.extend(look.line_plot(
            &stem,
            &title,
            "arc length from the apex (µm)",
            &quantity,
            &[Series { name: "electrode", points }],
        )?);
    }
    let vertical = |y: &str| [series(&apex, "z_m", y, "through the apex"), series(&away, "z_m", y, "over the flat electrode")];
    let potential = vertical("electrolyte_potential_V").map(|s| Series { points: scaled(s.points, 1e6), ..s });
    let title = format!("{scene}: electrolyte potential along z");
    files.extend(look.line_plot("profile_z_potential", &title, "z (µm)", "potential (V)", &potential)?);
    if result.fields.concentrations.iter().any(|(name, _)| name == reacting) {
        let c = vertical(&concentration_name(reacting)).map(|s| Series { points: scaled(s.points, 1e6), ..s });
        let stem = format!("profile_z_concentration_{}", crate::scene::file_safe(reacting));
        let title = format!("{scene}: {reacting} concentration along z");
        files.extend(look.line_plot(&stem, &title, "z (µm)", &format!("c({reacting}) (mol/m³)"), &c)?);
    }
    Ok(files)
}

/// The (x, y) pairs of two columns where both are finite.
fn pairs(p: &Profile, x: &str, y: &str) -> Vec<(f64, f64)> {
    let (Some(xs), Some(ys)) = (p.column(x), p.column(y)) else { return Vec::new() };
    xs.iter().zip(ys).map(|(&a, &b)| (a, b)).filter(|(a, b)| a.is_finite() && b.is_finite()).collect()
}

/// The points with x multiplied by `factor` (metres to micrometres).
fn scaled(points: Vec<(f64, f64)>, factor: f64) -> Vec<(f64, f64)> {
    points.into_iter().map(|(x, y)| (x * factor, y)).collect()
}

/// A position in µm for a title.
fn number_um(v: f64) -> String {
    super::maps::render::number(v * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arc_length_runs_over_a_step_and_is_zero_at_the_apex() {
        // A unit step at x = 1: flat at z = 0, then at z = 1, sampled every 0.5.
        let x = [0.0, 0.5, 1.0, 1.5, 2.0];
        let z = [0.0, 0.0, 1.0, 1.0, 1.0];
        let s = arc_length(&x, &z, 1.5);
        let step = 0.5f64.hypot(1.0);
        let expected = [-(1.0 + step), -(0.5 + step), -0.5, 0.0, 0.5];
        for (a, b) in s.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{s:?}");
        }
        let holed = arc_length(&x, &[0.0, f64::NAN, 0.0, 0.0, 0.0], 0.0);
        assert!(holed[1].is_nan() && (holed[2] - 1.0).abs() < 1e-12, "a sample off the electrode is skipped: {holed:?}");
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_sample() {
        let p = Profile { columns: vec![("a_m".into(), vec![1.0, 2.0]), ("b_V".into(), vec![0.5, f64::NAN])] };
        let csv = p.csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "a_m,b_V");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2].split(',').nth(1), Some("NaN"));
    }
}
