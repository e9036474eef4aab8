//! `znfield compare`: several scenes run alike, their headline metrics side by side in
//! `report.md` and `report.html` (self-contained, no network), the best value of each row marked.
//!
//! Every scene is loaded and validated before the first run; each run writes its usual outputs to
//! `<scene name>/` (suffixed `-2`, `-3`, ... where a name repeats or is one of the report's own
//! files) and the reports come last. Names are escaped in both reports.
//! The electrode map and the first slice's maps of every scene are drawn again on one colour
//! scale per quantity (`maps/<scene>_<map>.png`), linked from report.md and embedded in
//! report.html. Growth scenes grow ([`crate::growth`]); the table then describes their final
//! surfaces, and their heights and roughness against plating charge are plotted together.

use std::path::Path;

use crate::backend::BackendChoice;
use crate::error::{Error, Result};
use crate::output::atomic;
use crate::output::maps::plots::{line_figure, share_figure, Series};
use crate::output::maps::render::Format;
use crate::output::maps::Look;
use crate::output::maps::{units, Picture};
use crate::output::outdir::{refuse_link, OutputDir};
use crate::output::summary::Summary;
use crate::run::{run, run_maps, run_views, write_outputs};
use crate::scene::Scene;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// Which end of a row is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
    Neither,
}

/// One metric across the compared scenes.
#[derive(Debug, Clone)]
pub struct Row {
    pub label: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub values: Vec<Option<f64>>,
    /// Differences up to this absolute amount never mark a best (the row's noise level, where a
    /// relative test would pick among values that are all about zero: nonuniformities of 1e-4).
    pub floor: f64,
}

/// The smallest difference that marks a row's best value, as a share of the larger of the two
/// values compared: 1%, above the discretization error of the integral metrics at the default
/// mesh (0.28% for the hemisphere's current; `tests/convergence/`), so a mark never rests on
/// mesh noise (1.000 against 1.002).
pub const SIGNIFICANT_DIFFERENCE: f64 = 0.01;

/// Absolute significance floors: a nonuniformity (std/mean) of 0.5%, an overpotential spread
/// of 0.1 mV, and 0.01 of a fraction or transference number are below what a mesh at the default
/// refine resolves or a design changes.
const NONUNIFORMITY_FLOOR: f64 = 0.005;
const OVERPOTENTIAL_FLOOR_V: f64 = 1e-4;
const FRACTION_FLOOR: f64 = 0.01;

/// How the report marks rows, in both report.md and report.html.
pub const CRITERIA: &str = "Marked best (bold in report.md, highlighted in report.html): the best value of a row \
(lower tip enhancement, protrusion current enhancement, peak to mean current density, nonuniformity, overpotential \
spread, deposition centroid, and a grown surface's highest point, roughness, tip rise over mean rise and over dense thickness, and a filling scaffold's zinc centroid; higher surface \
concentration, lower-half \
deposition and transference number), only where it \
differs from the next best by more than 1% of the larger of the two (more than the metrics' discretization error at \
the default mesh) and by more than the row's noise floor (0.005 for the nonuniformity, 0.1 mV for the overpotential \
spread, 0.01 for fractions and transference numbers); rows without a better direction are never marked (the max current density and max field follow the \
mean current, so they are not marked: the peak to mean is). Current densities, tip enhancement, nonuniformity \
and overpotential describe the base electrode surface (scaffold reactions are in the coating rows). Each scene's \
outputs are in its own directory.";

impl Row {
    /// Index of the best value: the row has a preferred direction, two or more values, and the
    /// best differs from the next best by more than [`SIGNIFICANT_DIFFERENCE`].
    pub fn best(&self) -> Option<usize> {
        let mut present: Vec<(usize, f64)> = self.values.iter().enumerate().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
        if present.len() < 2 {
            return None;
        }
        match self.better {
            Better::Lower => present.sort_by(|a, b| a.1.total_cmp(&b.1)),
            Better::Higher => present.sort_by(|a, b| b.1.total_cmp(&a.1)),
            Better::Neither => return None,
        }
        let (best, next) = (present[0].1, present[1].1);
        let significant = SIGNIFICANT_DIFFERENCE * best.abs().max(next.abs());
        ((best - next).abs() > significant.max(self.floor)).then_some(present[0].0)
    }

    /// The row with an absolute significance floor (see [`Row::floor`]).
    fn with_floor(self, floor: f64) -> Row {
        Row { floor, ..self }
    }
}

/// The rows of the comparison table from the runs' summaries.
pub fn rows(summaries: &[Summary]) -> Vec<Row> {
    let row = |label, unit, better, f: &dyn Fn(&Summary) -> Option<f64>| Row {
        label,
        unit,
        better,
        values: summaries.iter().map(f).collect(),
        floor: 0.0,
    };
    let reacting = |s: &Summary| s.scene.physics.kinetics.reacting_species.clone();
    vec![
        row("tip enhancement", "", Better::Lower, &|s| s.electrode.tip_enhancement),
        row("first protrusion's current enhancement", "", Better::Lower, &|s| {
            s.electrode.protrusions.first().map(|p| p.current_enhancement)
        }),
        // The peak over the mean: a lower peak that only follows a lower mean current is no
        // better distribution (the max current density and the max field are shown unmarked).
        row("peak to mean current density", "", Better::Lower, &|s| s.electrode.peak_to_mean),
        row("max current density", "A/m^2", Better::Neither, &|s| Some(s.electrode.current_density.max)),
        row("mean current density", "A/m^2", Better::Neither, &|s| Some(s.electrode.current_density.mean)),
        row("nonuniformity (std/mean)", "", Better::Lower, &|s| s.electrode.nonuniformity).with_floor(NONUNIFORMITY_FLOOR),
        row("min surface concentration", "mol/m^3", Better::Higher, &|s| {
            s.electrolyte.min_concentration.as_ref().and_then(|m| m.get(&reacting(s))).map(|c| c.electrode)
        }),
        row("overpotential range", "V", Better::Lower, &|s| s.electrode.overpotential.map(|o| o.max - o.min))
            .with_floor(OVERPOTENTIAL_FLOOR_V),
        row("electrode potential", "V", Better::Neither, &|s| Some(s.electrode.potential)),
        row("max field", "V/m", Better::Neither, &|s| Some(s.electrolyte.max_field)),
        row("current to scaffold", "fraction", Better::Neither, &|s| {
            s.coating.as_ref().and_then(|c| c.current_to_scaffold_fraction)
        }),
        row("deposition in the coating's lower half", "fraction", Better::Higher, &|s| {
            s.coating.as_ref().and_then(|c| c.deposition_by_depth).map(|b| b[..b.len() / 2].iter().sum())
        })
        .with_floor(FRACTION_FLOOR),
        row("deposition centroid (0 base, 1 top)", "fraction", Better::Lower, &|s| {
            s.coating.as_ref().and_then(|c| c.deposition_centroid)
        })
        .with_floor(FRACTION_FLOOR),
        row("L/lambda of the conductive layer", "", Better::Neither, &|s| s.coating.as_ref().and_then(|c| c.penetration_ratio)),
        row("Zn2+ transference number in the coating", "", Better::Higher, &|s| {
            s.coating.as_ref().and_then(|c| c.effective_transference_number)
        })
        .with_floor(FRACTION_FLOOR),
        row("plating charge grown", "C/m^2", Better::Neither, &|s| s.growth.as_ref().map(|g| g.plating_charge_c_m2)),
        row("highest point grown to", "m", Better::Lower, &|s| s.growth.as_ref().map(|g| g.max_height_m)),
        row("rms roughness grown to", "m", Better::Lower, &|s| s.growth.as_ref().map(|g| g.rms_roughness_m)),
        row("rise of the highest point over the mean rise", "", Better::Lower, &|s| {
            s.growth.as_ref().map(|g| g.top_rise_over_mean_rise)
        }),
        row("rise of the highest point over the dense thickness of the zinc", "", Better::Lower, &|s| {
            s.growth.as_ref().map(|g| g.top_rise_over_dense_thickness)
        }),
        row("pores filled: depth centroid of the zinc (0 base, 1 top)", "fraction", Better::Lower, &|s| {
            s.growth.as_ref().and_then(|g| g.filling.as_ref()).and_then(|f| f.filled_depth_centroid)
        })
        .with_floor(FRACTION_FLOOR),
    ]
    .into_iter()
    .filter(|r| r.values.iter().any(Option::is_some))
    .collect()
}

/// Runs every scene (with the same `--set` overrides) into `dir` and writes the reports.
pub fn run_compare(
    scene_paths: &[&Path],
    sets: &[String],
    backend: BackendChoice,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Comparison> {
    if scene_paths.len() < 2 {
        return Err(Error::input(format!("compare: give two or more scene files (got {})", scene_paths.len())));
    }
    crate::scene::overrides::check_order(sets)?;
    let scenes: Vec<Scene> = scene_paths.iter().map(|p| Scene::load(p, sets)).collect::<Result<_>>()?;
    let names = directory_names(scenes.iter().map(|s| s.name.as_str()));
    let mut summaries = Vec::new();
    let mut maps = Vec::new();
    let mut growths = Vec::new();
    for (k, (scene, name)) in scenes.iter().zip(&names).enumerate() {
        progress(k, scenes.len(), name);
        let _claim = OutputDir::claim_subdir(&dir.join(name), &crate::run::RUN_MARKERS)?;
        let result = match scene.growth {
            Some(_) => {
                let mut grown = crate::growth::run(scene, backend)?;
                crate::growth::write_outputs(scene, &mut grown, &dir.join(name))?;
                growths.push((name.clone(), grown.rows));
                grown.last
            }
            None => {
                let mut result = run(scene, backend)?;
                write_outputs(&mut result, &dir.join(name))?;
                result
            }
        };
        let mut pictures: Vec<Box<dyn Picture>> = Vec::new();
        pictures.extend(run_maps(&result).into_iter().filter(|m| compared(&m.file)).map(|m| Box::new(m) as Box<dyn Picture>));
        pictures.extend(run_views(&result).into_iter().map(|v| Box::new(v) as Box<dyn Picture>));
        maps.push(pictures);
        summaries.push(result.summary);
    }
    // The figures follow the first scene's `output` block (units, fixed colour ranges).
    let look = Look::of(&scenes[0].output);
    let figures = common_scale_figures(&names, &maps, &look)?;
    refuse_link(&dir.join("maps"))?;
    std::fs::create_dir_all(dir.join("maps")).map_err(|e| Error::io(dir.join("maps"), e))?;
    for figure in &figures {
        for (name, png) in names.iter().zip(&figure.images) {
            if let Some(png) = png {
                atomic::write(&dir.join(figure.path(name)), png)?;
            }
        }
    }
    let mut plots = deposition_plot(&names, &summaries)?.into_iter().collect::<Vec<_>>();
    plots.extend(growth_plots(&growths)?);
    for plot in &plots {
        atomic::write(&dir.join(&plot.path), &plot.png)?;
    }
    let comparison = Comparison { rows: rows(&summaries), names, figures, plots };
    atomic::write(&dir.join("report.md"), comparison.markdown().as_bytes())?;
    atomic::write(&dir.join("report.html"), comparison.html().as_bytes())?;
    let mut json = comparison.to_json();
    json["files"] = serde_json::json!(comparison.files());
    let bytes = serde_json::to_vec_pretty(&json).map_err(|e| Error::output("comparison.json", e))?;
    atomic::write(&dir.join("comparison.json"), &bytes)?;
    Ok(comparison)
}

/// What a comparison found: the run names (scene names, made unique), the metric rows, the
/// maps on common scales and the plots across scenes.
pub struct Comparison {
    pub names: Vec<String>,
    pub rows: Vec<Row>,
    pub figures: Vec<Figure>,
    pub plots: Vec<Plot>,
}

/// The files that mark a directory as holding a comparison (`--overwrite` replaces them).
pub const MARKERS: [&str; 3] = ["report.md", "report.html", "comparison.json"];

impl Comparison {
    /// What the comparison wrote, relative to its directory: each scene's run directory (with a
    /// trailing `/`; its summary.json lists its files), the common-scale maps, the plots, the
    /// reports and comparison.json (this list and the table).
    pub fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = self.names.iter().map(|n| format!("{n}/")).collect();
        for figure in &self.figures {
            let drawn = self.names.iter().zip(&figure.images).filter(|(_, png)| png.is_some());
            files.extend(drawn.map(|(name, _)| figure.path(name)));
        }
        files.extend(self.plots.iter().map(|p| p.path.clone()));
        files.extend(MARKERS.map(String::from));
        files
    }
}

/// A plot with every scene on it.
pub struct Plot {
    /// Where it is written, relative to the compare directory.
    pub path: String,
    pub title: String,
    pub png: Vec<u8>,
}

/// Growth scenes' highest point and rms roughness against plating charge, one curve per scene
/// (none without growth scenes).
fn growth_plots(growths: &[(String, Vec<crate::growth::GrowthRow>)]) -> Result<Vec<Plot>> {
    if growths.is_empty() {
        return Ok(Vec::new());
    }
    let curves = |pick: fn(&crate::growth::GrowthRow) -> f64| -> Vec<Series> {
        growths
            .iter()
            .map(|(name, rows)| Series { name, points: rows.iter().map(|r| (r.plating_charge_c_m2, pick(r) * 1e6)).collect() })
            .collect()
    };
    let units = crate::scene::figures::FigureUnits::default();
    let mut plots = Vec::new();
    for (file, title, quantity, pick) in [
        (
            "maps/growth_max_height.png",
            "Highest point of the surface as it grows",
            "highest point (µm)",
            (|r| r.max_height_m) as fn(&crate::growth::GrowthRow) -> f64,
        ),
        ("maps/growth_roughness.png", "Rms roughness of the surface as it grows", "rms roughness (µm)", |r| r.rms_roughness_m),
    ] {
        let png = line_figure(title, "plating charge (C/m²)", quantity, &curves(pick), &units, Format::Png)?;
        plots.push(Plot { path: file.into(), title: title.into(), png });
    }
    Ok(plots)
}

/// The coating's deposition by depth of every coated scene, one curve each (None without
/// coated scenes).
fn deposition_plot(names: &[String], summaries: &[Summary]) -> Result<Option<Plot>> {
    let series: Vec<Series> = names
        .iter()
        .zip(summaries)
        .filter_map(|(name, s)| {
            let bins = s.coating.as_ref()?.deposition_by_depth?;
            let width = 1.0 / bins.len() as f64;
            let points = bins.iter().enumerate().map(|(k, share)| ((k as f64 + 0.5) * width, *share)).collect();
            Some(Series { name, points })
        })
        .collect();
    if series.is_empty() {
        return Ok(None);
    }
    let title = "Deposition through the coating's depth";
    let png = share_figure(
        title,
        "height in the coating / thickness (0: electrode, 1: top)",
        "share of the coating's deposition",
        &series,
        Format::Png,
    )?;
    Ok(Some(Plot { path: "maps/deposition_by_depth.png".into(), title: title.into(), png }))
}

impl Comparison {
    /// For comparisons with growth scenes: what their rows describe.
    fn growth_note(&self) -> Option<String> {
        let grown = self.rows.iter().find(|r| r.label == "plating charge grown")?;
        grown.values.iter().any(Option::is_some).then(|| {
            "Growth scenes: every row describes the scene's final, grown surface (after the charge in `plating charge grown`, \
             which differs where a run stopped early: see its summary.json growth.stopped_by). The rms roughness of a single \
             protrusion depends on the box it stands in: compare it between scenes of equal boxes."
                .to_string()
        })
    }

    /// The table as JSON: {"scenes": [...], "metrics": [{metric, unit, values, best}]}.
    pub fn to_json(&self) -> serde_json::Value {
        let metrics: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| serde_json::json!({ "metric": r.label, "unit": r.unit, "values": r.values, "best": r.best() }))
            .collect();
        serde_json::json!({ "scenes": self.names, "metrics": metrics })
    }
}

/// Maps shown side by side: the electrode from above, the first cut plane and its zoom on the
/// first protrusion (the 3D views are always shown).
fn compared(file: &str) -> bool {
    file.starts_with("electrode_") || file.starts_with("slice1_") || file.starts_with("zoom1_")
}

/// One kind of map across the compared scenes, drawn on a common colour scale.
pub struct Figure {
    /// The map's file name in each run directory, e.g. `slice1_potential.png`.
    pub file: String,
    /// The shared colour range.
    pub range: [f64; 2],
    /// PNG per scene; None where the scene has no such map (a potential model has no
    /// concentrations), and for every scene when the map is uniform.
    pub images: Vec<Option<Vec<u8>>>,
    /// The one value every scene's map shows, when it shows no variation at all (within
    /// [`UNIFORM_SPAN`] of its magnitude): the report says so instead of drawing one-colour maps.
    pub uniform: Option<f64>,
    /// The colour scale as the report's headings give it: its ends in the unit the maps show
    /// (`output.units`, else a readable one), e.g. "-5.98 to -0.0047 mV".
    pub scale: String,
    /// Per scene, the spread of its own values in percent of their mean where that is under
    /// 1% (a map that looks flat on the common scale because it is nearly uniform); None
    /// elsewhere, and for potentials, whose zero is a choice of reference.
    pub nearly_uniform: Vec<Option<f64>>,
    /// Width of each scene's image in pixels (0 where none): the report draws each at its
    /// share of the widest, so that the maps of a row keep one scale.
    pub widths: Vec<u32>,
}

/// A common colour range narrower than this share of its largest magnitude is a uniform map.
pub const UNIFORM_SPAN: f64 = 1e-9;

impl Figure {
    /// Where the common-scale image of scene `name` is written, relative to the compare directory.
    pub fn path(&self, name: &str) -> String {
        format!("maps/{name}_{}", self.file)
    }
}

/// Every compared kind of map, each scene's drawn over the union of their ranges.
fn common_scale_figures(names: &[String], maps: &[Vec<Box<dyn Picture>>], look: &Look) -> Result<Vec<Figure>> {
    let mut files: Vec<String> = Vec::new();
    for m in maps.iter().flatten() {
        if !files.iter().any(|f| f == m.file()) {
            files.push(m.file().to_string());
        }
    }
    let mut figures = Vec::new();
    for file in files {
        let of_each: Vec<Option<&dyn Picture>> =
            maps.iter().map(|ms| ms.iter().find(|m| m.file() == file).map(|m| m.as_ref())).collect();
        let range = of_each.iter().flatten().filter_map(|m| m.range()).reduce(|a, b| [a[0].min(b[0]), a[1].max(b[1])]);
        let Some(range) = range else { continue };
        let quantity = of_each.iter().flatten().map(|m| m.quantity()).next().unwrap_or("");
        if range[1] - range[0] <= UNIFORM_SPAN * range[0].abs().max(range[1].abs()) {
            figures.push(Figure {
                file,
                range,
                images: vec![None; names.len()],
                uniform: Some(range[1]),
                scale: scale_text(quantity, [range[1], range[1]], look),
                nearly_uniform: vec![None; names.len()],
                widths: vec![0; names.len()],
            });
            continue;
        }
        let images = of_each
            .iter()
            .map(|m| m.map(|m| m.figure(Some(range), look, Format::Png)).transpose())
            .collect::<Result<Vec<_>>>()?;
        debug_assert_eq!(images.len(), names.len());
        let widths = images.iter().map(|png| png.as_deref().map_or(0, png_width)).collect();
        let nearly_uniform = of_each
            .iter()
            .map(|m| {
                let [lo, hi] = m.and_then(|m| m.range())?;
                let mean = 0.5 * (lo + hi).abs();
                let potential = quantity.ends_with("(V)");
                (!potential && mean > 0.0 && hi - lo < 0.01 * mean).then(|| 100.0 * (hi - lo) / mean)
            })
            .collect();
        let scale = scale_text(quantity, look.colour_range(quantity, Some(range), None).0, look);
        figures.push(Figure { file, range, images, uniform: None, scale, nearly_uniform, widths });
    }
    Ok(figures)
}

/// "lo to hi unit" for a colour range of `quantity` (SI) in the unit its maps show.
fn scale_text(quantity: &str, range: [f64; 2], look: &Look) -> String {
    let shown = units::shown(quantity, range, &look.units);
    let unit = shown.quantity.rsplit_once('(').map_or("", |(_, u)| u.trim_end_matches(')'));
    // Both ends in the same plain style (a mix of "-5.981" and "-4.687e-3" misreads).
    let [lo, hi] = range.map(|v| crate::output::maps::render::number(v * shown.factor));
    if lo == hi {
        format!("{lo} {unit}")
    } else {
        format!("{lo} to {hi} {unit}")
    }
}

/// What the report says of a map that is nearly uniform within its scene (`percent`: its
/// spread in percent of its mean).
fn nearly_uniform_note(percent: f64) -> String {
    format!("nearly uniform within this scene: its values span {}% of their mean", crate::output::maps::render::number(percent))
}

/// The width of a PNG from its header (0 if it is not one).
fn png_width(png: &[u8]) -> u32 {
    png.get(16..20).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A value with four significant digits (scientific notation for very small or large ones).
fn cell(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |x| {
        if x != 0.0 && !(1e-2..1e5).contains(&x.abs()) {
            format!("{x:.3e}")
        } else {
            let decimals = (3 - x.abs().max(1e-300).log10().floor() as i32).clamp(0, 6) as usize;
            format!("{x:.decimals$}")
        }
    })
}

impl Comparison {
    /// The table as Markdown, the best value of each row in bold, then the plots and the maps.
    pub fn markdown(&self) -> String {
        let (names, rows, figures) = (&self.names, &self.rows, &self.figures);
        let mut out = String::from("# znfield comparison\n\n| metric | unit |");
        names.iter().for_each(|n| out.push_str(&format!(" {} |", markdown_text(n))));
        out.push_str("\n|---|---|");
        names.iter().for_each(|_| out.push_str("---|"));
        out.push('\n');
        for r in rows {
            out.push_str(&format!("| {} | {} |", r.label, r.unit));
            let best = r.best();
            for (k, v) in r.values.iter().enumerate() {
                let text = cell(*v);
                out.push_str(&if best == Some(k) { format!(" **{text}** |") } else { format!(" {text} |") });
            }
            out.push('\n');
        }
        out.push_str(&format!("\n{CRITERIA}\n"));
        if let Some(note) = self.growth_note() {
            out.push_str(&format!("\n{note}\n"));
        }
        for plot in &self.plots {
            out.push_str(&format!("\n## {}\n\n![{}]({})\n", plot.title, plot.title, plot.path));
        }
        if !figures.is_empty() {
            out.push_str("\n## Maps on a common colour scale\n\nOne row per map, the scenes side by side.\n");
            for f in figures {
                if f.uniform.is_some() {
                    out.push_str(&format!("\n### {}\n\nUniform: {} in every scene (not drawn).\n", f.file, f.scale));
                    continue;
                }
                out.push_str(&format!("\n### {} (colour scale {})\n\n|", f.file, f.scale));
                names.iter().for_each(|n| out.push_str(&format!(" {} |", markdown_text(n))));
                out.push_str(&format!("\n|{}\n|", "---|".repeat(names.len())));
                for ((name, png), flat) in names.iter().zip(&f.images).zip(&f.nearly_uniform) {
                    match png {
                        Some(_) => out.push_str(&format!(
                            " ![{}]({}){} |",
                            markdown_text(name),
                            link_target(&f.path(name)),
                            flat.map_or(String::new(), |p| format!(" {}", nearly_uniform_note(p)))
                        )),
                        None => out.push_str(" (no such map) |"),
                    }
                }
                out.push('\n');
            }
        }
        out
    }
}

/// One directory name per scene: its name, suffixed `-2`, `-3`, ... until it is unused and not
/// one of the report's own files (`maps/`, `report.*`, the plots).
fn directory_names<'a>(scene_names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let reserved = |n: &str| n == "maps" || [".md", ".html", ".png"].iter().any(|ext| n.ends_with(ext));
    let mut names: Vec<String> = Vec::new();
    for name in scene_names {
        let mut candidate = name.to_string();
        let mut k = 1;
        while reserved(&candidate) || names.contains(&candidate) {
            k += 1;
            candidate = format!("{name}-{k}");
        }
        names.push(candidate);
    }
    names
}

/// Text for HTML content and attribute values.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Text for Markdown: the characters Markdown or inline HTML would interpret, backslash-escaped
/// or as entities (an underscore inside a word, as in `cf_scaffold`, is left alone: it cannot
/// start emphasis there).
fn markdown_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (k, &ch) in chars.iter().enumerate() {
        let inside_word =
            |k: usize| k > 0 && chars[k - 1].is_alphanumeric() && chars.get(k + 1).is_some_and(|c| c.is_alphanumeric());
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '_' if inside_word(k) => out.push('_'),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '!' | '{' | '}' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// A relative path as a Markdown link target: every byte outside unreserved URL characters and
/// `/` percent-encoded (a `#` in a name would otherwise start a fragment).
fn link_target(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Comparison {
    /// The table, plots and maps as a self-contained HTML page (inline style, images as data URIs,
    /// no scripts, no network).
    pub fn html(&self) -> String {
        let (names, rows, figures) = (&self.names, &self.rows, &self.figures);
        let mut out = String::from(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>znfield comparison</title>\n<style>\
body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 10px;\
text-align:right}td:first-child,th:first-child{text-align:left}.best{font-weight:bold;background:#e6f4e6}\
.maps{display:grid;gap:1em;align-items:start}figure{margin:0}figure img{width:100%;height:auto}\
figcaption{font-weight:bold}</style></head>\n\
<body><h1>znfield comparison</h1>\n<table><tr><th>metric</th><th>unit</th>",
        );
        names.iter().for_each(|n| out.push_str(&format!("<th>{}</th>", escape(n))));
        out.push_str("</tr>\n");
        for r in rows {
            out.push_str(&format!("<tr><td>{}</td><td>{}</td>", escape(r.label), escape(r.unit)));
            let best = r.best();
            for (k, v) in r.values.iter().enumerate() {
                let class = if best == Some(k) { " class=\"best\"" } else { "" };
                out.push_str(&format!("<td{class}>{}</td>", cell(*v)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str(&format!("</table>\n<p>{}</p>\n", escape(CRITERIA)));
        if let Some(note) = self.growth_note() {
            out.push_str(&format!("<p>{}</p>\n", escape(&note)));
        }
        for plot in &self.plots {
            out.push_str(&format!(
                "<h2>{}</h2>\n<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"></figure>\n",
                escape(&plot.title),
                escape(&plot.title),
                BASE64.encode(&plot.png)
            ));
        }
        if !figures.is_empty() {
            out.push_str("<h2>Maps on a common colour scale</h2>\n");
        }
        for f in figures {
            if f.uniform.is_some() {
                let note = format!("Uniform: {} in every scene (not drawn).", f.scale);
                out.push_str(&format!("<h3>{}</h3>\n<p>{note}</p>\n", escape(&f.file)));
                continue;
            }
            out.push_str(&format!(
                "<h3>{} <small>(colour scale {})</small></h3>\n\
                 <div class=\"maps\" style=\"grid-template-columns:repeat({},1fr)\">\n",
                escape(&f.file),
                escape(&f.scale),
                names.len()
            ));
            let widest = f.widths.iter().copied().max().unwrap_or(0).max(1);
            for (k, (name, png)) in names.iter().zip(&f.images).enumerate() {
                let flat = f.nearly_uniform[k].map_or(String::new(), |p| format!(" <small>({})</small>", nearly_uniform_note(p)));
                match png {
                    // Each image at its share of the widest, so that a row keeps one scale
                    // (a longer title makes a wider image of the same map).
                    Some(png) => out.push_str(&format!(
                        "<figure><figcaption>{}{flat}</figcaption><img alt=\"{} of {}\" style=\"width:{:.2}%\" src=\"data:image/png;base64,{}\"></figure>\n",
                        escape(name),
                        escape(&f.file),
                        escape(name),
                        100.0 * f64::from(f.widths[k]) / f64::from(widest),
                        BASE64.encode(png)
                    )),
                    None => {
                        out.push_str(&format!("<figure><figcaption>{}</figcaption><p>(no such map)</p></figure>\n", escape(name)))
                    }
                }
            }
            out.push_str("</div>\n");
        }
        out.push_str("</body></html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_names_are_unique_and_clear_of_the_report_files() {
        let names = directory_names(["a", "a", "a-2", "maps", "report.md"].into_iter());
        assert_eq!(names, ["a", "a-2", "a-2-2", "maps-2", "report.md-2"]);
        assert_eq!(markdown_text("x#<em>|1"), "x\\#&lt;em&gt;\\|1");
        assert_eq!(markdown_text("cf_scaffold _x_"), "cf_scaffold \\_x\\_");
        assert_eq!(link_target("maps/x#1 y_a.png"), "maps/x%231%20y_a.png");
        assert_eq!(escape(r#"<a href="x">'"#), "&lt;a href=&quot;x&quot;&gt;&#39;");
    }

    #[test]
    fn best_value_follows_the_row_direction() {
        let r = |better| Row { label: "x", unit: "", better, values: vec![Some(2.0), None, Some(1.0)], floor: 0.0 };
        assert_eq!(r(Better::Lower).best(), Some(2));
        assert_eq!(r(Better::Higher).best(), Some(0));
        assert_eq!(r(Better::Neither).best(), None);
        let single = Row { label: "x", unit: "", better: Better::Lower, values: vec![Some(1.0), None], floor: 0.0 };
        assert_eq!(single.best(), None);
        // Within 1% of the next best: mesh noise, not a finding.
        let close = |values: Vec<Option<f64>>| Row { label: "x", unit: "", better: Better::Lower, values, floor: 0.0 }.best();
        assert_eq!(close(vec![Some(1.002), Some(1.0), Some(3.0)]), None);
        assert_eq!(close(vec![Some(1.02), Some(1.0), Some(3.0)]), Some(1));
        assert_eq!(close(vec![Some(-1.0), Some(-1.005)]), None);
        let noise = Row { label: "x", unit: "", better: Better::Lower, values: vec![Some(5.9e-5), Some(9.5e-4)], floor: 0.005 };
        assert_eq!(noise.best(), None, "both nonuniformities are below the floor's resolution");
        assert_eq!(noise.with_floor(1e-4).best(), Some(0));
    }
}
