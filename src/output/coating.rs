//! The `coating` block of summary.json: where the deposition current goes in a coated or
//! scaffolded electrode, and the transport numbers of the coating.
//!
//! - `total_current_A`: electrode surface plus every scaffold reaction (anodic positive);
//! - `current_to_scaffold_fraction`, `current_to_base_fraction`: the scaffold's (volumetric and
//!   resolved surfaces) and the electrode surface's shares of it;
//! - `deposition_by_depth`: shares of it in ten equal bins of height above the flat electrode,
//!   from the base up to the coating's top (the highest point of the layers, or of the resolved
//!   scaffold). A node's reaction is lumped from its elements (tetrahedra of a porous electrode,
//!   faces of a surface); each element's part of it is spread evenly over the element's height
//!   range, so the bins do not alias with the node layers of the mesh;
//! - `deposition_centroid`: the deposition-weighted mean height in the coating over its thickness,
//!   `sum_k share_k (k + 1/2) / 10` over the depth bins: 0.5 for a uniform distribution, below it
//!   when the deposit sits low (the foil's share counts in the bottom bin);
//! - `penetration_ratio`: L / lambda of a conductive layer, with
//!   `lambda = [a i0 (alpha_a + alpha_c) n F / RT (1/kappa_eff + 1/sigma_eff)]^(-1/2)` from the
//!   depth means of `a i0`, of the transport factor and of sigma_eff (porous-electrode theory:
//!   L / lambda >> 1 means the reaction crowds at the layer's top, << 1 that it spreads through).
//!   A graded layer has a local lambda(s) at each height s; the mean does not see the direction
//!   of the gradient, so `penetration_ratio_bottom` and `penetration_ratio_top` give L / lambda
//!   with the local values at the base (s = 0) and at the top (s = 1), where the ionic current
//!   enters: reactivity that falls from bottom to top (bottom > top) pulls the deposit down;
//! - `effective_transference_number`: the reacting ion's share of the conductivity,
//!   `z_r^2 D_r c_r / sum_i z_i^2 D_i c_i`, pore-volume mean over the nodes inside the layers
//!   (transport models); `bulk_transference_number` is the same in the bulk.

use serde::Serialize;

use crate::mesh::{BoundaryTag, TetMesh};
use crate::physics::electrolyte::Electrolyte;
use crate::physics::porous::Media;
use crate::physics::scaling::Scaling;
use crate::scene::{CoatingLayer, Scene};
use crate::solve::system::{PotentialSystem, SiteKind};

/// Depth bins of `deposition_by_depth`.
pub const DEPTH_BINS: usize = 10;

/// Coating metrics (see the module documentation).
#[derive(Debug, Clone, Serialize)]
pub struct CoatingSummary {
    #[serde(rename = "total_current_A")]
    pub total_current: f64,
    pub current_to_scaffold_fraction: Option<f64>,
    pub current_to_base_fraction: Option<f64>,
    /// Thickness binned by `deposition_by_depth`, m.
    #[serde(rename = "thickness_m")]
    pub thickness: f64,
    pub deposition_by_depth: Option<[f64; DEPTH_BINS]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposition_centroid: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub penetration_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub penetration_ratio_bottom: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub penetration_ratio_top: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_transference_number: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulk_transference_number: Option<f64>,
}

/// What the coating metrics are computed from.
pub struct CoatingInputs<'a> {
    pub scene: &'a Scene,
    pub mesh: &'a TetMesh,
    pub sys: &'a PotentialSystem,
    pub scaling: &'a Scaling,
    /// Scaled electrode surface reaction (aligned with `sys.electrode`) and site reactions.
    pub electrode_flux: &'a [f64],
    pub site_reaction: &'a [f64],
    /// Concentrations per species at the nodes, mol/m^3 (transport models).
    pub concentrations: Option<&'a [(String, Vec<f64>)]>,
    /// The electrolyte as the model uses it (bulk conductivity, effective species).
    pub electrolyte: &'a Electrolyte,
    pub media: &'a Media,
}

/// The coating block, or None for an uncoated electrode without a reacting scaffold.
pub fn summarize(inp: &CoatingInputs) -> Option<CoatingSummary> {
    let g = &inp.scene.geometry;
    if g.layers.is_empty() && g.scaffold.is_none() {
        return None;
    }
    let mesh = inp.mesh;
    let scaffold_top = mesh.faces_with(BoundaryTag::Scaffold).flat_map(|f| mesh.faces[f]).map(|n| mesh.nodes[n as usize].z);
    let layer_top =
        mesh.tets.iter().zip(&mesh.regions).filter(|(_, &r)| r > 0).flat_map(|(t, _)| *t).map(|n| mesh.nodes[n as usize].z);
    let thickness = scaffold_top.chain(layer_top).fold(0.0, f64::max);
    let base: f64 = inp.electrode_flux.iter().sum();
    let scaffold: f64 = inp.site_reaction.iter().sum();
    let total = base + scaffold;
    let share = |q: f64| (total != 0.0).then(|| q / total);
    let deposition_by_depth = (total != 0.0 && thickness > 0.0).then(|| depth_bins(inp, thickness, total));
    Some(CoatingSummary {
        total_current: inp.scaling.current_a(total),
        current_to_scaffold_fraction: share(scaffold),
        current_to_base_fraction: share(base),
        thickness,
        deposition_centroid: deposition_by_depth.as_ref().map(|bins| {
            bins.iter().enumerate().map(|(k, share)| share * (k as f64 + 0.5) / DEPTH_BINS as f64).sum::<f64>()
                / bins.iter().sum::<f64>()
        }),
        deposition_by_depth,
        penetration_ratio: g.layers.first().and_then(|l| penetration_ratio(inp.scene, l, inp.electrolyte.conductivity_s_m)),
        penetration_ratio_bottom: g
            .layers
            .first()
            .and_then(|l| local_penetration_ratio(inp.scene, l, inp.electrolyte.conductivity_s_m, 0.0)),
        penetration_ratio_top: g
            .layers
            .first()
            .and_then(|l| local_penetration_ratio(inp.scene, l, inp.electrolyte.conductivity_s_m, 1.0)),
        effective_transference_number: inp.concentrations.and_then(|c| layer_transference_number(inp, c)),
        bulk_transference_number: inp.concentrations.map(|_| {
            let sp = &inp.electrolyte.species;
            transference(inp, &sp.iter().map(|s| s.bulk_concentration_mol_m3).collect::<Vec<_>>())
        }),
    })
}

/// The plating current per unit volume of each tetrahedron, A/m^3 (zinc deposition positive:
/// minus the anodic-positive reaction), for fields.vtu; empty without a homogenized porous
/// electrode. Each node's volumetric reaction is lumped from its reacting tetrahedra with weights
/// `a i0 V / 4` (the weights its equivalent area was assembled with), so each tetrahedron gets
/// its share of its four nodes' reactions, divided by its volume: the array integrates exactly to
/// the scaffold's volumetric current.
pub fn volumetric_plating_cells(inp: &CoatingInputs) -> Vec<f64> {
    let (mesh, Some(solid)) = (inp.mesh, &inp.media.solid) else { return Vec::new() };
    let rep = |n: u32| inp.sys.representative.as_ref().map_or(n, |r| r[n as usize]) as usize;
    let mut reaction = vec![0.0; mesh.nodes.len()];
    for (site, &q) in inp.sys.sites.iter().zip(inp.site_reaction) {
        if site.kind == SiteKind::Volumetric {
            reaction[site.node as usize] += inp.scaling.current_a(q);
        }
    }
    let weight = |t: usize| solid.volumetric_exchange[t] * mesh.tet_volume(t) / 4.0;
    let mut weight_sum = vec![0.0; mesh.nodes.len()];
    for (t, nodes) in mesh.tets.iter().enumerate() {
        nodes.iter().for_each(|&n| weight_sum[rep(n)] += weight(t));
    }
    mesh.tets
        .iter()
        .enumerate()
        .map(|(t, nodes)| match weight(t) > 0.0 {
            true => -nodes.iter().map(|&n| reaction[rep(n)] * weight(t) / weight_sum[rep(n)]).sum::<f64>() / mesh.tet_volume(t),
            false => 0.0,
        })
        .collect()
}

/// The plating current density on a resolved scaffold's surface at each mesh node, A/m^2
/// (deposition positive: minus the anodic-positive reaction; 0 off the scaffold; empty without
/// a reacting scaffold surface): each scaffold site's reaction over its node's lumped area, so
/// that integrated linearly over the scaffold's faces it gives the sites' total.
pub fn scaffold_plating_nodes(inp: &CoatingInputs) -> Vec<f64> {
    let surface = |s: &&crate::solve::system::ReactionSite| s.kind == SiteKind::ScaffoldSurface;
    if !inp.sys.sites.iter().any(|s| surface(&s)) {
        return Vec::new();
    }
    let areas = crate::fem::dual::node_areas(inp.mesh, BoundaryTag::Scaffold, 1.0, crate::fem::dual::ControlVolumes::Barycentric);
    let mut plating = vec![0.0; inp.mesh.nodes.len()];
    for (site, &q) in inp.sys.sites.iter().zip(inp.site_reaction).filter(|(s, _)| surface(s)) {
        let n = site.node as usize;
        if areas[n] > 0.0 {
            plating[n] = -inp.scaling.current_a(q) / areas[n];
        }
    }
    plating
}

/// Shares of the total reaction `total` in the depth bins of [0, thickness].
fn depth_bins(inp: &CoatingInputs, thickness: f64, total: f64) -> [f64; DEPTH_BINS] {
    let mesh = inp.mesh;
    let rep = |n: u32| inp.sys.representative.as_ref().map_or(n, |r| r[n as usize]);
    // Each reaction's node and the elements it is lumped from: (node, weight, z range).
    // (node, weight, lowest z, highest z, kind: 0 surface, 1 volume).
    let mut pieces: Vec<(u32, f64, f64, f64, usize)> = Vec::new();
    let z_range = |nodes: &[u32]| {
        let z = nodes.iter().map(|&n| mesh.nodes[n as usize].z);
        (z.clone().fold(f64::INFINITY, f64::min), z.fold(f64::NEG_INFINITY, f64::max))
    };
    for tag in [BoundaryTag::Electrode, BoundaryTag::Scaffold] {
        for f in mesh.faces_with(tag) {
            let (lo, hi) = z_range(&mesh.faces[f]);
            let w = mesh.face_area_vector(f).length() / 3.0;
            pieces.extend(mesh.faces[f].iter().map(|&n| (rep(n), w, lo, hi, 0)));
        }
    }
    if let Some(solid) = &inp.media.solid {
        for (t, nodes) in mesh.tets.iter().enumerate().filter(|&(t, _)| solid.volumetric_exchange[t] > 0.0) {
            let (lo, hi) = z_range(nodes);
            let w = solid.volumetric_exchange[t] * mesh.tet_volume(t) / 4.0;
            pieces.extend(nodes.iter().map(|&n| (rep(n), w, lo, hi, 1)));
        }
    }
    // Reactions per node: surfaces and volumes kept apart (a node can have both).
    let mut surface = std::collections::HashMap::new();
    let mut volume = std::collections::HashMap::new();
    inp.sys.electrode.iter().zip(inp.electrode_flux).for_each(|(&n, &q)| *surface.entry(n).or_insert(0.0) += q);
    for (site, &q) in inp.sys.sites.iter().zip(inp.site_reaction) {
        let map = if site.kind == SiteKind::Volumetric { &mut volume } else { &mut surface };
        *map.entry(site.node).or_insert(0.0) += q;
    }
    let mut weight_sum = [std::collections::HashMap::new(), std::collections::HashMap::new()];
    for &(n, w, _, _, kind) in &pieces {
        *weight_sum[kind].entry(n).or_insert(0.0) += w;
    }
    let mut bins = [0.0; DEPTH_BINS];
    let width = thickness / DEPTH_BINS as f64;
    for &(n, w, lo, hi, kind) in &pieces {
        let q = [&surface, &volume][kind].get(&n).copied().unwrap_or(0.0);
        let part = q * w / weight_sum[kind][&n] / total;
        if hi - lo <= 1e-12 * thickness {
            bins[((lo / width).floor().max(0.0) as usize).min(DEPTH_BINS - 1)] += part;
            continue;
        }
        for (b, bin) in bins.iter_mut().enumerate() {
            let (b_lo, b_hi) = (b as f64 * width, (b + 1) as f64 * width);
            let (b_lo, b_hi) =
                (if b == 0 { f64::NEG_INFINITY } else { b_lo }, if b == DEPTH_BINS - 1 { f64::INFINITY } else { b_hi });
            let overlap = (hi.min(b_hi) - lo.max(b_lo)).max(0.0);
            *bin += part * overlap / (hi - lo);
        }
    }
    bins
}

/// L / lambda of a conductive first layer (porous-electrode theory, linearized kinetics) from the
/// depth means of a i0, the transport factor and sigma_eff; `kappa` is the bulk conductivity.
pub fn penetration_ratio(scene: &Scene, layer: &CoatingLayer, kappa: f64) -> Option<f64> {
    let solid = layer.solid.as_ref()?;
    let ai0 = mean_product(&solid.specific_area_m_1, &solid.exchange_current_density_a_m2);
    let kappa_eff = kappa * (0..200).map(|j| layer.transport_factor((j as f64 + 0.5) / 200.0)).sum::<f64>() / 200.0;
    let inv_sigma = solid.conductivity_s_m.as_ref().map_or(0.0, |s| 1.0 / s.mean());
    ratio(scene, layer.thickness_m, ai0, kappa_eff, inv_sigma)
}

/// L / lambda(s) with the local a i0, transport factor and sigma_eff at height `s` (0 at the
/// base, 1 at the top) of a conductive first layer.
pub fn local_penetration_ratio(scene: &Scene, layer: &CoatingLayer, kappa: f64, s: f64) -> Option<f64> {
    let solid = layer.solid.as_ref()?;
    let ai0 = solid.specific_area_m_1.at(s) * solid.exchange_current_density_a_m2.at(s);
    let inv_sigma = solid.conductivity_s_m.as_ref().map_or(0.0, |sigma| 1.0 / sigma.at(s));
    ratio(scene, layer.thickness_m, ai0, kappa * layer.transport_factor(s), inv_sigma)
}

/// `L / lambda`, `lambda = [a i0 (alpha_a + alpha_c) n F / RT (1/kappa_eff + 1/sigma_eff)]^(-1/2)`;
/// None without a reaction.
fn ratio(scene: &Scene, thickness: f64, ai0: f64, kappa_eff: f64, inv_sigma: f64) -> Option<f64> {
    let k = &scene.physics.kinetics;
    let vt = crate::physics::constants::thermal_voltage(scene.physics.temperature_k);
    let lambda = (ai0 * (k.alpha_a + k.alpha_c) * k.electrons as f64 / vt * (1.0 / kappa_eff + inv_sigma)).powf(-0.5);
    (ai0 > 0.0).then(|| thickness / lambda)
}

fn mean_product(a: &crate::scene::Profile, b: &crate::scene::Profile) -> f64 {
    (0..200).map(|j| (j as f64 + 0.5) / 200.0).map(|s| a.at(s) * b.at(s)).sum::<f64>() / 200.0
}

/// The reacting species' share of the conductivity at concentrations `c` (mol/m^3), with the
/// model's effective diffusivities.
fn transference(inp: &CoatingInputs, c: &[f64]) -> f64 {
    let sp = &inp.electrolyte.species;
    let g = |i: usize| (sp[i].charge as f64).powi(2) * sp[i].diffusivity_m2_s * c[i];
    let r = inp.scene.physics.reacting_species_index();
    g(r) / (0..sp.len()).map(g).sum::<f64>()
}

/// Pore-volume mean of the transference number over the nodes whose every tetrahedron lies in a
/// coating layer.
fn layer_transference_number(inp: &CoatingInputs, conc: &[(String, Vec<f64>)]) -> Option<f64> {
    let mesh = inp.mesh;
    let mut inside = vec![true; mesh.nodes.len()];
    let mut touched = vec![false; mesh.nodes.len()];
    for (t, nodes) in mesh.tets.iter().enumerate() {
        for &n in nodes {
            touched[n as usize] = true;
            if mesh.regions[t] == 0 {
                inside[n as usize] = false;
            }
        }
    }
    let (mut sum, mut volume) = (0.0, 0.0);
    for n in (0..mesh.nodes.len()).filter(|&n| inside[n] && touched[n]) {
        let c: Vec<f64> = conc.iter().map(|(_, v)| v[n]).collect();
        let v = inp.sys.node_volume[n];
        sum += v * transference(inp, &c);
        volume += v;
    }
    (volume > 0.0).then(|| sum / volume)
}
