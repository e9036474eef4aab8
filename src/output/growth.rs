//! The record of a growth run ([`crate::growth`]): its rows and summary, and the files it
//! writes: growth.csv, the surface and field series (surface.pvd, fields.pvd), and the plots.

use serde::{Deserialize, Serialize};

use crate::run::RunResult;

/// The state of the electrode at one step, before the step is taken.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrowthRow {
    pub time_s: f64,
    /// Charge passed per unit projected area, cathodic (plating) positive, C/m^2.
    pub plating_charge_c_m2: f64,
    /// Zinc deposited since the start (on the electrode's surface and, in a conductive layer,
    /// in its pores), m^3.
    pub deposited_volume_m3: f64,
    /// Mean rise of the surface (the elevation grid's volume over the projected area): the
    /// deposit's thickness in open electrolyte, more inside a porous layer, m.
    pub mean_thickness_m: f64,
    /// Highest and lowest points of the surface (on the elevation grid), m.
    pub max_height_m: f64,
    pub min_height_m: f64,
    /// Root-mean-square deviation of the surface height from its mean, m.
    pub rms_roughness_m: f64,
    /// Amplitude of the relief's first mode in the surface, m (a relief only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_amplitude_m: Option<f64>,
    /// Relative growth rate of the relief's first mode, d ln(amplitude)/dt from this step's
    /// deposition: the amplitude of the mode in the rise speeds over its amplitude in the
    /// surface, 1/s (a relief only). Linear stability predicts it (see the validation suite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_growth_rate_1_s: Option<f64>,
    /// Rise speed of the surface (the grid's front) at its highest point, m/s.
    pub top_speed_m_s: f64,
    /// Rise speed at the highest point over the mean rise speed of the surface: > 1 where the tip
    /// outgrows the electrode (3 for a hemisphere in the primary distribution at first).
    pub top_to_mean_speed_ratio: f64,
    /// Mean deposition speed, the deposited volume per second over the projected area, m/s.
    pub mean_speed_m_s: f64,
    /// Total electrode current, A (anodic positive).
    pub total_current_a: f64,
    /// Mesh nodes of this step.
    pub nodes: usize,
    /// Wall seconds of this step's meshing, solve (assembly to post-processing) and deposition.
    pub mesh_s: f64,
    pub solve_s: f64,
    pub deposit_s: f64,
    /// Filled fraction of a conductive layer's pores in each depth bin, bottom to top
    /// (growth_filling.csv; empty without one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filled_by_depth: Vec<f64>,
}

/// How a conductive porous layer's pores filled (summary.json `growth.filling`): see
/// [`crate::growth::filling`].
#[derive(Debug, Clone, Serialize)]
pub struct FillingSummary {
    pub layer: String,
    /// Cells of the filling record: columns per side of the footprint, depth bins per column.
    pub columns_per_side: usize,
    pub depth_bins: usize,
    /// At the end: the fraction of the initial pores of each depth bin (bottom to top) that
    /// holds zinc, the pores under the plated base's front counted full.
    pub filled_fraction_by_depth: Vec<f64>,
    /// Mean depth fraction of that zinc, 0 at the layer's base and 1 at its top (0.5 for a
    /// uniform filling; below it for a layer that fills from the bottom); absent when the layer
    /// holds none.
    pub filled_depth_centroid: Option<f64>,
    /// Fraction of the initial pore volume that closed.
    pub closed_pore_fraction: f64,
    /// Zinc plated in the pores (the volumetric plating current integrated), m^3; and the same
    /// zinc as the cells record it (filled fraction times initial pore volume, summed), which
    /// differs by the sampling of the changing meshes onto the cells.
    pub pore_zinc_volume_m3: f64,
    pub pore_zinc_in_cells_m3: f64,
}

/// How a resolved scaffold grew (summary.json `growth.scaffold`): see [`crate::growth::coat`].
#[derive(Debug, Clone, Serialize)]
pub struct ScaffoldGrowthSummary {
    /// Metal plated on the scaffold (its plating current integrated over the steps), m^3.
    pub zinc_volume_m3: f64,
    /// The volume the grown solids gained (the fibres' shells, `(R + t / 2) t` per unit area,
    /// and the particles' spheres): the plated volume to within the forward-Euler steps' error.
    pub solid_volume_gained_m3: f64,
    /// The least, mean and greatest thickness of the deposit over the fibres' grids, m.
    pub fibre_deposit_min_m: f64,
    pub fibre_deposit_mean_m: f64,
    pub fibre_deposit_max_m: f64,
}

/// The growth record of summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct GrowthSummary {
    /// Steps (meshes and solves) the run took.
    pub steps: usize,
    /// "end" or why the run stopped early.
    pub stopped_by: String,
    pub end_time_s: f64,
    /// Charge passed per unit projected area, cathodic positive, C/m^2.
    #[serde(rename = "plating_charge_C_m2")]
    pub plating_charge_c_m2: f64,
    /// M / (n F rho), m^3/C.
    #[serde(rename = "volume_per_charge_m3_C")]
    pub volume_per_charge_m3_c: f64,
    /// Zinc deposited: the faces' spread deposits summed over the steps, m^3.
    pub deposited_volume_m3: f64,
    /// The charge passed (the solves' total currents integrated over the steps) times
    /// M / (n F rho), m^3.
    pub expected_volume_m3: f64,
    /// Deposited over expected volume, minus 1: zero to rounding unless the spreading lost a
    /// face or some current.
    pub mass_balance: f64,
    /// The final surface: its mean rise, its highest point and its rms roughness (the last row
    /// of growth.csv), m.
    pub mean_thickness_m: f64,
    pub max_height_m: f64,
    pub rms_roughness_m: f64,
    /// The rise of the highest point over the mean rise of the surface: > 1 where the tip
    /// outgrew the electrode over the run (0 when the surface did not move).
    pub top_rise_over_mean_rise: f64,
    /// The rise of the highest point over the thickness the zinc deposited would have as a
    /// dense uniform layer (deposited volume over projected area): > 1 where the tip outgrew a
    /// uniform deposit. It differs from `top_rise_over_mean_rise` where the deposit fills a
    /// layer's pores (the front rises by the volume over the porosity, or not at all where a
    /// conductive layer takes the zinc into its pores).
    pub top_rise_over_dense_thickness: f64,
    /// The electrolyte volume the meshes lost from the first step to the last, less the volume
    /// under the risen surface, over the projected area, m: the meshed (piecewise-linear)
    /// surfaces' miss of the implicit one, as a thickness (compare with mean_thickness_m).
    pub mesh_thickness_error_m: f64,
    /// Spacing of the elevation grid, m, and its nodes per side.
    pub grid_spacing_m: f64,
    pub grid_nodes_per_side: usize,
    /// Wall seconds over all steps: meshing, solves, deposition.
    pub mesh_s: f64,
    pub solve_s: f64,
    pub deposit_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filling: Option<FillingSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaffold: Option<ScaffoldGrowthSummary>,
    /// For a run continued with --resume: the steps its checkpoint held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_after_step: Option<usize>,
}

/// The fields and electrode of one output time, encoded.
pub struct Snapshot {
    pub time_s: f64,
    pub fields_vtu: Vec<u8>,
    pub electrode_vtu: Vec<u8>,
    /// The electrode map, for the animation (at most [`MAX_FRAMES`] snapshots carry one).
    pub frame: Option<super::maps::Map>,
}

/// The encoded fields and electrode of `result` at time `t` (s), with its electrode map as an
/// animation frame when `framed` (and the scene draws maps).
pub fn snapshot(t: f64, result: &RunResult, framed: bool) -> Snapshot {
    let scene = &result.summary.scene;
    let frame = (framed && scene.output.maps).then(|| {
        let net_sign = super::maps::along_net_current(result.summary.electrode.total_current);
        super::maps::electrode_footprint_map(&result.mesh, &result.fields, &result.electrode_nodes, scene, net_sign)
    });
    Snapshot { time_s: t, fields_vtu: crate::run::fields_vtu(result), electrode_vtu: crate::run::electrode_vtu(result), frame }
}

/// Most frames of growth_electrode_animation.png.
pub const MAX_FRAMES: usize = 41;

/// Seconds each frame of the animation shows.
const FRAME_SECONDS: u16 = 1;

/// growth_electrode_animation.png: the electrode maps of the snapshots that carry one, as an
/// animated PNG (APNG; its default image, which a viewer without animation shows, is the last
/// state), on one colour scale
/// (the user's fixed range for the quantity, else the frames' common range), each titled with
/// its time; None without frames.
fn animation(scene: &crate::scene::Scene, snapshots: &[Snapshot]) -> crate::Result<Option<Vec<u8>>> {
    use super::maps::render::{number, Format};
    use super::maps::Look;
    let frames: Vec<(f64, &super::maps::Map)> =
        snapshots.iter().filter_map(|s| s.frame.as_ref().map(|m| (s.time_s, m))).collect();
    if frames.is_empty() {
        return Ok(None);
    }
    let look = Look::of(&scene.output);
    let common = frames.iter().filter_map(|(_, m)| m.range()).reduce(|a, b| [a[0].min(b[0]), a[1].max(b[1])]);
    let mut images = Vec::with_capacity(frames.len());
    for (t, map) in &frames {
        let titled = super::maps::Map {
            title: format!("{}: electrode current density at t = {} s", scene.name, number(*t)),
            ..(*map).clone()
        };
        let png = titled.figure(common, &look, Format::Png)?;
        images.push(decode_rgb(&png)?);
    }
    let (width, height) = (images[0].0, images[0].1);
    if images.iter().any(|(w, h, _)| (*w, *h) != (width, height)) {
        return Ok(None);
    }
    let failed = |e: png::EncodingError| crate::Error::output("growth_electrode_animation.png", e);
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_animated(images.len() as u32, 0).map_err(failed)?;
        // The last state as the default image, which a viewer without animation shows.
        encoder.set_sep_def_img(true).map_err(failed)?;
        encoder.set_frame_delay(FRAME_SECONDS, 1).map_err(failed)?;
        let mut writer = encoder.write_header().map_err(failed)?;
        let last = images.last().map(|(_, _, rgb)| rgb.as_slice()).unwrap_or_default();
        for rgb in std::iter::once(last).chain(images.iter().map(|(_, _, rgb)| rgb.as_slice())) {
            writer.write_image_data(rgb).map_err(failed)?;
        }
        writer.finish().map_err(failed)?;
    }
    Ok(Some(out))
}

/// Width, height and RGB bytes of a PNG drawn by the maps (8-bit RGB).
fn decode_rgb(png: &[u8]) -> crate::Result<(u32, u32, Vec<u8>)> {
    let failed = |e: png::DecodingError| crate::Error::output("growth_electrode_animation.png", e);
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().map_err(failed)?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).map_err(failed)?;
    buf.truncate(info.buffer_size());
    Ok((info.width, info.height, buf))
}

/// The files a growth run adds to an ordinary run's: growth.csv, the electrode and field series
/// at the output times (surface_NNNN.vtu in surface.pvd, fields_NNNN.vtu in fields.pvd), and,
/// with the maps, growth_heights.png (heights and roughness against charge),
/// growth_outlines.png (the surface's cross-section at up to seven times) and
/// growth_electrode_animation.png (the electrode map at the output times, animated).
pub fn growth_files(
    scene: &crate::scene::Scene,
    rows: &[GrowthRow],
    snapshots: &[Snapshot],
    section: &Section,
) -> crate::Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![("growth.csv".to_string(), growth_csv(rows).into_bytes())];
    let thickness = scene.geometry.layers.first().map_or(0.0, |l| l.thickness_m);
    if rows.iter().any(|r| !r.filled_by_depth.is_empty()) {
        files.push(("growth_filling.csv".into(), filling_csv(rows, thickness).into_bytes()));
    }
    let mut surface_pvd = String::new();
    let mut fields_pvd = String::new();
    for (k, s) in snapshots.iter().enumerate() {
        let (surface, fields) = (format!("surface_{k:04}.vtu"), format!("fields_{k:04}.vtu"));
        surface_pvd.push_str(&format!("    <DataSet timestep=\"{:.9e}\" part=\"0\" file=\"{surface}\"/>\n", s.time_s));
        fields_pvd.push_str(&format!("    <DataSet timestep=\"{:.9e}\" part=\"0\" file=\"{fields}\"/>\n", s.time_s));
        files.push((surface, s.electrode_vtu.clone()));
        files.push((fields, s.fields_vtu.clone()));
    }
    let collection = |body: &str| {
        format!("<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"1.0\">\n  <Collection>\n{body}  </Collection>\n</VTKFile>\n")
    };
    files.push(("surface.pvd".into(), collection(&surface_pvd).into_bytes()));
    files.push(("fields.pvd".into(), collection(&fields_pvd).into_bytes()));
    if scene.output.maps {
        files.extend(growth_plots(scene, rows, section)?);
        if let Some(apng) = animation(scene, snapshots)? {
            files.push(("growth_electrode_animation.png".into(), apng));
        }
    }
    Ok(files)
}

/// growth_filling.csv: a conductive layer's filling profile at every step, one line per step
/// and depth bin (the bin's heights above the layer's base, m; its filled fraction, as in
/// [`GrowthRow::filled_by_depth`]).
fn filling_csv(rows: &[GrowthRow], thickness: f64) -> String {
    let mut csv = String::from("time_s,plating_charge_C_m2,bin,depth_from_m,depth_to_m,filled_fraction\n");
    for r in rows {
        let bins = r.filled_by_depth.len();
        for (b, f) in r.filled_by_depth.iter().enumerate() {
            let (from, to) = (thickness * b as f64 / bins as f64, thickness * (b + 1) as f64 / bins as f64);
            csv.push_str(&format!("{:.9e},{:.9e},{b},{from:.6e},{to:.6e},{f:.6e}\n", r.time_s, r.plating_charge_c_m2));
        }
    }
    csv
}

/// growth.csv: one row per step, the state before the step (see [`GrowthRow`] for the columns'
/// meaning; units in the names; `peak_to_valley_m` is max_height_m less min_height_m).
fn growth_csv(rows: &[GrowthRow]) -> String {
    let with_mode = rows.iter().any(|r| r.mode_amplitude_m.is_some());
    let mut csv =
        String::from("time_s,plating_charge_C_m2,deposited_volume_m3,mean_thickness_m,max_height_m,min_height_m,rms_roughness_m,peak_to_valley_m");
    if with_mode {
        csv.push_str(",mode_amplitude_m,mode_growth_rate_1_s");
    }
    csv.push_str(",top_speed_m_s,top_to_mean_speed_ratio,mean_speed_m_s,total_current_A,nodes,mesh_s,solve_s,deposit_s\n");
    for r in rows {
        csv.push_str(&format!(
            "{:.9e},{:.9e},{:.9e},{:.9e},{:.9e},{:.9e},{:.9e},{:.9e}",
            r.time_s,
            r.plating_charge_c_m2,
            r.deposited_volume_m3,
            r.mean_thickness_m,
            r.max_height_m,
            r.min_height_m,
            r.rms_roughness_m,
            r.max_height_m - r.min_height_m
        ));
        if with_mode {
            let (a, rate) = (r.mode_amplitude_m.unwrap_or(f64::NAN), r.mode_growth_rate_1_s.unwrap_or(f64::NAN));
            csv.push_str(&format!(",{a:.9e},{rate:.9e}"));
        }
        csv.push_str(&format!(
            ",{:.9e},{:.9e},{:.9e},{:.9e},{},{:.4},{:.4},{:.4}\n",
            r.top_speed_m_s,
            r.top_to_mean_speed_ratio,
            r.mean_speed_m_s,
            r.total_current_a,
            r.nodes,
            r.mesh_s,
            r.solve_s,
            r.deposit_s
        ));
    }
    csv
}

/// A cross-section of the growing surface: the line y = `y` at the points `x` (m), with the
/// surface heights there at a sequence of times (s, m).
pub struct Section<'a> {
    pub y: f64,
    pub x: &'a [f64],
    pub heights: &'a [(f64, Vec<f64>)],
    /// The first coating layer's top along the line (name, heights in m; NaN where it has none).
    pub coating_top: Option<(&'a str, &'a [f64])>,
}

/// Most outlines drawn in growth_outlines.png.
const MAX_OUTLINES: usize = 7;

/// growth_heights.png and growth_outlines.png (at most [`MAX_OUTLINES`] cross-sections, evenly
/// spaced in time from the first to the last).
fn growth_plots(scene: &crate::scene::Scene, rows: &[GrowthRow], section: &Section) -> crate::Result<Vec<(String, Vec<u8>)>> {
    use super::maps::render::number;
    use super::maps::{plots::Series, Look};
    let look = Look::of(&scene.output);
    let against = |pick: fn(&GrowthRow) -> f64| -> Vec<(f64, f64)> {
        rows.iter().map(|r| (r.plating_charge_c_m2, pick(r) * 1e6)).collect()
    };
    let (first_top, first_low) = rows.first().map_or((0.0, 0.0), |r| (r.max_height_m, r.min_height_m));
    let heights = [
        Series { name: "rise of the highest point", points: against(|r| r.max_height_m) },
        Series { name: "mean thickness", points: against(|r| r.mean_thickness_m) },
        Series { name: "rise of the lowest point", points: against(|r| r.min_height_m) },
        Series { name: "rms roughness", points: against(|r| r.rms_roughness_m) },
    ];
    // The extremes as rises from where they started.
    let heights = heights.map(|mut s| {
        let start = match s.name {
            "rise of the highest point" => first_top,
            "rise of the lowest point" => first_low,
            _ => 0.0,
        };
        s.points.iter_mut().for_each(|p| p.1 -= start * 1e6);
        s
    });
    let title = format!("{}: growth against plating charge", scene.name);
    let mut files = look.line_plot("growth_heights", &title, "plating charge (C/m²)", "rise or roughness (µm)", &heights)?;
    let chosen = evenly_in_time(section.heights, MAX_OUTLINES);
    let names: Vec<String> = chosen.iter().map(|(t, _)| format!("t = {} s", number(*t))).collect();
    let mut outlines: Vec<Series> = chosen
        .iter()
        .zip(&names)
        .map(|((_, h), name)| Series { name, points: section.x.iter().zip(h).map(|(x, z)| (x * 1e6, z * 1e6)).collect() })
        .collect();
    let top_name = section.coating_top.map(|(name, _)| format!("top of coating layer `{name}`"));
    if let (Some((_, top)), Some(name)) = (section.coating_top, &top_name) {
        let points = section.x.iter().zip(top).filter(|(_, z)| z.is_finite()).map(|(x, z)| (x * 1e6, z * 1e6)).collect();
        outlines.push(Series { name, points });
    }
    let (x_span, z_span) = spans(&outlines);
    // The plot's body is about 760 x 400 pixels: how much taller a micrometre is drawn than wide.
    let stretch = 400.0 * x_span / (760.0 * z_span.max(f64::MIN_POSITIVE));
    let height_axis = if stretch > 1.5 {
        format!("height (µm; drawn {} times taller than wide)", number(stretch.round()))
    } else {
        "height (µm)".to_string()
    };
    let title = format!("{}: the surface at y = {} µm as it grows", scene.name, number(section.y * 1e6));
    files.extend(look.outline_plot("growth_outlines", &title, "x (µm)", &height_axis, &outlines)?);
    if rows.iter().any(|r| !r.filled_by_depth.is_empty()) {
        files.extend(filling_plot(scene, &look, rows)?);
    }
    Ok(files)
}

/// growth_filling.png: a conductive layer's filled fraction against the distance above its base at up to
/// [`MAX_OUTLINES`] steps, evenly spaced in time.
fn filling_plot(
    scene: &crate::scene::Scene,
    look: &super::maps::Look,
    rows: &[GrowthRow],
) -> crate::Result<Vec<(String, Vec<u8>)>> {
    use super::maps::{plots::Series, render::number};
    let layer = scene.geometry.layers.first().map_or(("", 0.0), |l| (l.name.as_str(), l.thickness_m));
    let timed: Vec<(f64, &GrowthRow)> = rows.iter().map(|r| (r.time_s, r)).collect();
    let chosen = evenly_in_time(&timed, MAX_OUTLINES);
    let names: Vec<String> = chosen.iter().map(|(_, r)| format!("{} C/m²", number(r.plating_charge_c_m2))).collect();
    let profiles: Vec<Series> = chosen
        .iter()
        .zip(&names)
        .map(|((_, r), name)| {
            let bins = r.filled_by_depth.len() as f64;
            let at = |b: usize| (b as f64 + 0.5) / bins * layer.1 * 1e6;
            Series { name, points: r.filled_by_depth.iter().enumerate().map(|(b, f)| (at(b), f * 100.0)).collect() }
        })
        .collect();
    let title = format!("{}: pores of layer `{}` filled through its depth, as charge passes", scene.name, layer.0);
    look.outline_plot("growth_filling", &title, "distance above the layer's base (µm)", "pores holding zinc (%)", &profiles)
}

/// The spans of the x and y values of `series`.
fn spans(series: &[super::maps::plots::Series]) -> (f64, f64) {
    let span = |pick: fn(&(f64, f64)) -> f64| {
        let (lo, hi) = series
            .iter()
            .flat_map(|s| s.points.iter().map(pick))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        (hi - lo).max(0.0)
    };
    (span(|p| p.0), span(|p| p.1))
}

/// At most `count` entries of `series` (time, value), the first, the last and those nearest to
/// evenly spaced times between.
fn evenly_in_time<T>(series: &[(f64, T)], count: usize) -> Vec<&(f64, T)> {
    let (Some(first), Some(last)) = (series.first(), series.last()) else { return Vec::new() };
    if series.len() <= count {
        return series.iter().collect();
    }
    let mut picked: Vec<usize> = (0..count)
        .map(|k| {
            let t = first.0 + (last.0 - first.0) * k as f64 / (count - 1) as f64;
            (0..series.len()).min_by(|&a, &b| (series[a].0 - t).abs().total_cmp(&(series[b].0 - t).abs())).unwrap_or(0)
        })
        .collect();
    picked.dedup();
    picked.into_iter().map(|k| &series[k]).collect()
}
