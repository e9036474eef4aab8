//! `znfield compare`: several scenes run alike, their headline metrics side by side in
//! `report.md` and `report.html` (self-contained, no network), the best value of each row marked.
//!
//! Every scene is loaded and validated before the first run; each run writes its usual outputs to
//! `<scene name>/` (suffixed `-#2`, `-#3`, ... when names repeat) and the reports come last.

use std::path::Path;

use crate::backend::BackendChoice;
use crate::error::{Error, Result};
use crate::output::atomic;
use crate::output::summary::Summary;
use crate::run::{run, write_outputs};
use crate::scene::Scene;

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
}

impl Row {
    /// Index of the best value, when the row has a preferred direction and two or more values.
    pub fn best(&self) -> Option<usize> {
        let present: Vec<(usize, f64)> = self.values.iter().enumerate().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
        if present.len() < 2 {
            return None;
        }
        let pick = |a: &(usize, f64), b: &(usize, f64)| a.1.total_cmp(&b.1);
        match self.better {
            Better::Lower => present.iter().min_by(|a, b| pick(a, b)).map(|p| p.0),
            Better::Higher => present.iter().max_by(|a, b| pick(a, b)).map(|p| p.0),
            Better::Neither => None,
        }
    }
}

/// The rows of the comparison table from the runs' summaries.
pub fn rows(summaries: &[Summary]) -> Vec<Row> {
    let row = |label, unit, better, f: &dyn Fn(&Summary) -> Option<f64>| Row {
        label,
        unit,
        better,
        values: summaries.iter().map(f).collect(),
    };
    let reacting = |s: &Summary| s.scene.physics.kinetics.reacting_species.clone();
    vec![
        row("tip enhancement", "", Better::Lower, &|s| s.electrode.tip_enhancement),
        row("max current density", "A/m^2", Better::Lower, &|s| Some(s.electrode.current_density.max)),
        row("mean current density", "A/m^2", Better::Neither, &|s| Some(s.electrode.current_density.mean)),
        row("nonuniformity (std/mean)", "", Better::Lower, &|s| s.electrode.nonuniformity),
        row("min surface concentration", "mol/m^3", Better::Higher, &|s| {
            s.electrolyte.min_concentration.as_ref().and_then(|m| m.get(&reacting(s))).map(|c| c.electrode)
        }),
        row("overpotential range", "V", Better::Lower, &|s| s.electrode.overpotential.map(|o| o.max - o.min)),
        row("electrode potential", "V", Better::Neither, &|s| Some(s.electrode.potential)),
        row("max field", "V/m", Better::Lower, &|s| Some(s.electrolyte.max_field)),
        row("current to scaffold", "fraction", Better::Neither, &|s| {
            s.coating.as_ref().and_then(|c| c.current_to_scaffold_fraction)
        }),
        row("deposition in the coating's lower half", "fraction", Better::Higher, &|s| {
            s.coating.as_ref().and_then(|c| c.deposition_by_depth).map(|b| b[..b.len() / 2].iter().sum())
        }),
        row("Zn2+ transference number in the coating", "", Better::Higher, &|s| {
            s.coating.as_ref().and_then(|c| c.effective_transference_number)
        }),
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
) -> Result<Vec<Row>> {
    if scene_paths.len() < 2 {
        return Err(Error::input(format!("compare: give two or more scene files (got {})", scene_paths.len())));
    }
    let scenes: Vec<Scene> = scene_paths.iter().map(|p| Scene::load(p, sets)).collect::<Result<_>>()?;
    let mut names: Vec<String> = Vec::new();
    for s in &scenes {
        let repeats = names.iter().filter(|n| n.split("-#").next() == Some(s.name.as_str())).count();
        names.push(if repeats == 0 { s.name.clone() } else { format!("{}-#{}", s.name, repeats + 1) });
    }
    let mut summaries = Vec::new();
    for (k, (scene, name)) in scenes.iter().zip(&names).enumerate() {
        progress(k, scenes.len(), name);
        let result = run(scene, backend)?;
        write_outputs(&result, &dir.join(name))?;
        summaries.push(result.summary);
    }
    let table = rows(&summaries);
    atomic::write(&dir.join("report.md"), markdown(&names, &table).as_bytes())?;
    atomic::write(&dir.join("report.html"), html(&names, &table).as_bytes())?;
    Ok(table)
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

/// The table as Markdown, the best value of each row in bold.
pub fn markdown(names: &[String], rows: &[Row]) -> String {
    let mut out = String::from("# znfield comparison\n\n| metric | unit |");
    names.iter().for_each(|n| out.push_str(&format!(" {n} |")));
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
    out.push_str("\nBold: the best value of the row (lower tip enhancement, current peak, nonuniformity, overpotential spread and field; higher surface concentration, lower-half deposition and transference number). Current densities, tip enhancement, nonuniformity and overpotential describe the base electrode surface (scaffold reactions are in the coating rows). Each scene's outputs are in its own directory.\n");
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The table as a self-contained HTML page (inline style, no scripts, no network).
pub fn html(names: &[String], rows: &[Row]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>znfield comparison</title>\n<style>\
body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 10px;\
text-align:right}td:first-child,th:first-child{text-align:left}.best{font-weight:bold;background:#e6f4e6}</style></head>\n\
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
    out.push_str("</table>\n<p>Highlighted: the best value of the row. Each scene's outputs are in its own directory.</p>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_value_follows_the_row_direction() {
        let r = |better| Row { label: "x", unit: "", better, values: vec![Some(2.0), None, Some(1.0)] };
        assert_eq!(r(Better::Lower).best(), Some(2));
        assert_eq!(r(Better::Higher).best(), Some(0));
        assert_eq!(r(Better::Neither).best(), None);
        let single = Row { label: "x", unit: "", better: Better::Lower, values: vec![Some(1.0), None] };
        assert_eq!(single.best(), None);
    }
}
