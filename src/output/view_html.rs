//! `view.html`: a self-contained interactive viewer of the electrode surface (rotate by dragging,
//! zoom by scrolling, choose the quantity), for a reader who wants to turn the tip around
//! without ParaView. One file: the surface and its nodal quantities as base64 little-endian
//! arrays in a JSON block, the viewer script (`assets/view.js`, a 2D-canvas painter's renderer:
//! no WebGL, no network) inline.
//!
//! Quantities: the current density along the net current (as the electrode map), the kinetic
//! overpotential (kinetic models), each species' surface concentration (transport models) and
//! the height z. Coordinates in micrometres.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::maps::{along_net_current, electrode_quantity, render};
use crate::mesh::BoundaryTag;
use crate::run::RunResult;

/// Electrodes with more triangles than this get no view.html (a browser would struggle, and
/// the file would pass 20 MB); electrode.vtu holds the same surface for ParaView.
pub const MAX_VIEW_TRIANGLES: usize = 400_000;

/// The viewer script.
const SCRIPT: &str = include_str!("../../assets/view.js");

/// Little-endian f32 values, base64.
fn f32_base64(values: impl Iterator<Item = f64>) -> String {
    BASE64.encode(values.flat_map(|v| (v as f32).to_le_bytes()).collect::<Vec<u8>>())
}

/// Text for HTML content.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// view.html of a run, or None when the electrode has more than [`MAX_VIEW_TRIANGLES`].
pub fn view_html(result: &RunResult) -> Option<String> {
    let (mesh, f) = (&result.mesh, &result.fields);
    let mut local = vec![u32::MAX; mesh.nodes.len()];
    for (i, &n) in result.electrode_nodes.iter().enumerate() {
        local[n as usize] = i as u32;
    }
    let tris: Vec<u32> =
        mesh.faces_with(BoundaryTag::Electrode).flat_map(|fi| mesh.faces[fi].map(|n| local[n as usize])).collect();
    if tris.len() / 3 > MAX_VIEW_TRIANGLES {
        return None;
    }
    let points = result.electrode_nodes.iter().flat_map(|&n| mesh.nodes[n as usize].to_array()).map(|c| c * 1e6);
    let net_sign = along_net_current(result.summary.electrode.total_current);
    let at_electrode = |field: &[f64]| result.electrode_nodes.iter().map(|&n| field[n as usize]).collect::<Vec<_>>();
    let mut quantities =
        vec![(electrode_quantity(net_sign).to_string(), f.electrode_smoothed.iter().map(|v| net_sign * v).collect())];
    if !f.electrode_overpotential.is_empty() {
        quantities.push(("kinetic overpotential (V)".to_string(), f.electrode_overpotential.clone()));
    }
    for (name, c) in &f.concentrations {
        quantities.push((format!("c({name}) at the surface (mol/m³)"), at_electrode(c)));
    }
    quantities
        .push(("height z (µm)".to_string(), result.electrode_nodes.iter().map(|&n| mesh.nodes[n as usize].z * 1e6).collect()));
    // In the units the scene asks its figures to show (`output.units`).
    let units = &result.summary.scene.output.units;
    let quantities: Vec<(String, Vec<f64>)> = quantities
        .into_iter()
        .map(|(name, values)| {
            let shown = super::maps::units::shown(&name, render::finite_range(&values).unwrap_or([0.0, 1.0]), units);
            (shown.quantity, values.iter().map(|v| v * shown.factor).collect())
        })
        .collect();
    // The first protrusion: its axis at half its height, and a radius that shows the ground
    // around it (the viewer opens on it; a button switches to the whole electrode).
    let focus = result.summary.scene.geometry.all_protrusions().first().map(|(_, p)| {
        let [x, y] = p.center().map(|c| c * 1e6);
        let (reach, height) = (p.reach() * 1e6, p.height() * 1e6);
        serde_json::json!({ "centre": [x, y, 0.5 * height], "radius": 2.5 * reach.max(0.5 * height) })
    });
    let data = serde_json::json!({
        "focus": focus,
        "points": f32_base64(points),
        "triangles": BASE64.encode(tris.iter().flat_map(|t| t.to_le_bytes()).collect::<Vec<u8>>()),
        "quantities": quantities.iter().map(|(name, v)| serde_json::json!({"name": name, "values": f32_base64(v.iter().copied())})).collect::<Vec<_>>(),
        "viridis": render::viridis_table(),
    });
    // "</" cannot end the script block when written "<\/" (the same JSON string).
    let json = data.to_string().replace("</", "<\\/");
    let scene = escape(&result.summary.scene.name);
    Some(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>znfield: {scene}, the electrode</title>\n\
         <style>body{{font-family:sans-serif;margin:1em}}#wrap{{display:flex;gap:1em;align-items:flex-start}}\
         canvas#view{{border:1px solid #ccc;cursor:grab}}</style></head>\n<body>\n<h1>{scene}: the electrode surface</h1>\n\
         <p>Drag to rotate, scroll to zoom. Quantity: <select id=\"quantity\"></select> <span id=\"quantity-name\"></span> \
         <button id=\"focus\">first protrusion</button> <button id=\"whole\">whole electrode</button></p>\n\
         <div id=\"wrap\"><canvas id=\"view\" width=\"900\" height=\"640\"></canvas><canvas id=\"bar\" width=\"130\" height=\"640\"></canvas></div>\n\
         <p>Coordinates in micrometres; current anodic positive, so the plating current density is −i·n. \
         The same surface and values are in electrode.vtu.</p>\n\
         <script type=\"application/json\" id=\"znfield-data\">{json}</script>\n<script>\n{SCRIPT}</script>\n</body></html>\n"
    ))
}
