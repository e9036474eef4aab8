//! Cutting a background mesh to the implicit electrode surface.
//!
//! 1. Warp (after Labelle & Shewchuk, "Isosurface stuffing", 2007): where the surface crosses an
//!    edge within `WARP_FRACTION` of its length from an endpoint, that endpoint moves onto the
//!    crossing, which keeps later cuts away from existing nodes.
//! 2. Cut: the remaining crossed edges get a new node on the surface; each crossed tetrahedron's
//!    electrolyte part (a tet, pyramid or prism) is split into tetrahedra. Quadrilateral faces are
//!    split along the diagonal through their lowest-numbered node, so neighbours agree and the mesh
//!    conforms (Dompierre et al. 1999).
//! 3. Unused nodes are dropped, every tet is oriented positively and boundary faces are tagged.
//!
//! Every electrode node lies on the true surface: either on the plane z = 0 or at a root of the
//! level function found by bisection; nodes where a protrusion meets the plane lie on both.

use std::collections::HashMap;

use glam::DVec3;

use super::bisection::Background;
use super::{boundary, smooth, TetMesh};
use crate::error::{Error, Result};
use crate::geometry::ElectrodeGeometry;

/// Fraction of an edge within which a crossing pulls the nearer endpoint onto the surface.
const WARP_FRACTION: f64 = 0.3;

const TET_EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)];

/// Cuts the background mesh (which covers the electrolyte box) to the electrolyte of `geom`.
pub fn cut_to_electrode(geom: &ElectrodeGeometry, background: &Background) -> Result<TetMesh> {
    let mut nodes = background.nodes.clone();
    let mut level: Vec<f64> = nodes.iter().map(|&p| geom.level(p)).collect();
    warp(geom, &background.tets, &mut nodes, &mut level);
    let (mut nodes, tets, background_signs) = cut(geom, background, nodes, &level);
    let (tets, inverted) = orient(&nodes, tets, &background_signs);
    if inverted > 0 {
        return Err(Error::Solve(format!(
            "mesher: warping inverted {inverted} tetrahedra; refine the mesh near the protrusions"
        )));
    }
    let tets = compact(&mut nodes, tets);
    smooth::smooth_near_surface(geom, &mut nodes, &tets)?;
    let regions = vec![0u8; tets.len()];
    let (faces, face_tags) = boundary::extract_and_tag(geom, &nodes, &tets)?;
    Ok(TetMesh { nodes, tets, regions, faces, face_tags })
}

/// Moves nodes onto the surface where a crossing lies within `WARP_FRACTION` of them.
fn warp(geom: &ElectrodeGeometry, background: &[[u32; 4]], nodes: &mut [DVec3], level: &mut [f64]) {
    let mut best: HashMap<u32, (f64, DVec3)> = HashMap::new();
    let mut seen: HashMap<(u32, u32), ()> = HashMap::new();
    for tet in background {
        for (a, b) in TET_EDGES {
            let (a, b) = (tet[a], tet[b]);
            let (la, lb) = (level[a as usize], level[b as usize]);
            if la * lb >= 0.0 || seen.insert((a.min(b), a.max(b)), ()).is_some() {
                continue;
            }
            let (pa, pb) = (nodes[a as usize], nodes[b as usize]);
            let t = geom.crossing(pa, pb);
            let hit = pa + (pb - pa) * t;
            for (node, frac) in [(a, t), (b, 1.0 - t)] {
                // Nodes of the flat electrode in the electrolyte move only within the plane (onto a
                // protrusion's rim); those under a protrusion belong to no electrolyte face of the
                // plane and may rise onto the protrusion.
                let on_plane = nodes[node as usize].z == 0.0 && hit.z != 0.0;
                let may_move = !on_plane || level[node as usize] < 0.0;
                if may_move && frac < WARP_FRACTION && best.get(&node).is_none_or(|&(f, _)| frac < f) {
                    best.insert(node, (frac, hit));
                }
            }
        }
    }
    for (node, (_, hit)) in best {
        nodes[node as usize] = hit;
        level[node as usize] = 0.0;
    }
}

/// Keeps the electrolyte part (level >= 0) of every background tetrahedron, cutting crossed ones.
/// Returns all nodes (background then cut nodes), the tets, and for each tet the orientation sign
/// it had in the unwarped background (0 for pieces of cut tets, which have no counterpart there).
fn cut(
    geom: &ElectrodeGeometry,
    background: &Background,
    mut nodes: Vec<DVec3>,
    level: &[f64],
) -> (Vec<DVec3>, Vec<[u32; 4]>, Vec<i8>) {
    let rest = &background.nodes;
    let mut cut_nodes: HashMap<(u32, u32), u32> = HashMap::new();
    let mut tets = Vec::new();
    let mut signs = Vec::new();
    for &tet in &background.tets {
        let l = tet.map(|n| level[n as usize]);
        let inside: Vec<usize> = (0..4).filter(|&i| l[i] > 0.0).collect();
        let outside: Vec<usize> = (0..4).filter(|&i| l[i] < 0.0).collect();
        if outside.is_empty() {
            if inside.is_empty() {
                // All four nodes on the surface: keep the tet if its centre is in the electrolyte.
                let centre = tet.iter().map(|&n| nodes[n as usize]).sum::<DVec3>() * 0.25;
                if geom.level(centre) <= 0.0 {
                    continue;
                }
            }
            let [a, b, c, d] = tet.map(|n| rest[n as usize]);
            tets.push(tet);
            signs.push(if (b - a).cross(c - a).dot(d - a) > 0.0 { 1 } else { -1 });
            continue;
        }
        if inside.is_empty() {
            continue;
        }
        let mut cut_id = |p: u32, q: u32| -> u32 {
            *cut_nodes.entry((p.min(q), p.max(q))).or_insert_with(|| {
                let (pa, pb) = (nodes[p as usize], nodes[q as usize]);
                let t = geom.crossing(pa, pb);
                nodes.push(pa + (pb - pa) * t);
                (nodes.len() - 1) as u32
            })
        };
        let zero: Vec<u32> = (0..4).filter(|&i| l[i] == 0.0).map(|i| tet[i]).collect();
        let pos: Vec<u32> = inside.iter().map(|&i| tet[i]).collect();
        let neg: Vec<u32> = outside.iter().map(|&i| tet[i]).collect();
        let mut push = |t: [u32; 4]| {
            tets.push(t);
            signs.push(0);
        };
        match (pos.len(), neg.len()) {
            (1, _) => {
                // A corner tetrahedron: the inside node, the surface nodes and the cut points.
                let mut v = vec![pos[0]];
                v.extend(&zero);
                v.extend(neg.iter().map(|&n| cut_id(pos[0], n)));
                push([v[0], v[1], v[2], v[3]]);
            }
            (2, 1) => {
                // Pyramid: base quad (p0, p1, c1, c0) on the face (p0, p1, n), apex the surface node.
                let (p0, p1, n) = (pos[0], pos[1], neg[0]);
                let (c0, c1) = (cut_id(p0, n), cut_id(p1, n));
                split_pyramid([p0, p1, c1, c0], zero[0], &mut push);
            }
            (2, 2) => {
                // Wedge: triangles (p0, c00, c01) and (p1, c10, c11), lateral edges p-p, c-c.
                let (p0, p1) = (pos[0], pos[1]);
                let a = [p0, cut_id(p0, neg[0]), cut_id(p0, neg[1])];
                let b = [p1, cut_id(p1, neg[0]), cut_id(p1, neg[1])];
                split_prism(a, b, &mut push);
            }
            (3, 1) => {
                // Truncated tetrahedron: the inside face and the three cut points above it.
                let n = neg[0];
                let b = [cut_id(pos[0], n), cut_id(pos[1], n), cut_id(pos[2], n)];
                split_prism([pos[0], pos[1], pos[2]], b, &mut push);
            }
            _ => unreachable!("sign pattern with {} inside and {} outside nodes", pos.len(), neg.len()),
        }
    }
    (nodes, tets, signs)
}

/// Splits a pyramid with base quad `q` (in cyclic order) and apex into two tetrahedra, cutting the
/// base along the diagonal through its lowest-numbered node.
fn split_pyramid(q: [u32; 4], apex: u32, push: &mut impl FnMut([u32; 4])) {
    let lowest = (0..4).min_by_key(|&i| q[i]).unwrap_or(0);
    let (d0, d1) = if lowest % 2 == 0 { (0, 2) } else { (1, 3) };
    let (o0, o1) = ((d0 + 1) % 4, (d0 + 3) % 4);
    push([apex, q[d0], q[o0], q[d1]]);
    push([apex, q[d0], q[d1], q[o1]]);
}

/// Splits a triangular prism (bottom `a`, top `b`, lateral edges a_i - b_i) into three tetrahedra,
/// cutting each quadrilateral face along the diagonal through its lowest-numbered node.
fn split_prism(a: [u32; 3], b: [u32; 3], push: &mut impl FnMut([u32; 4])) {
    // Relabel so the lowest-numbered of the six nodes is a[0].
    let all = [a[0], a[1], a[2], b[0], b[1], b[2]];
    let lowest = (0..6).min_by_key(|&i| all[i]).unwrap_or(0);
    let (mut a, mut b) = if lowest < 3 { (a, b) } else { (b, a) };
    let r = lowest % 3;
    a.rotate_left(r);
    b.rotate_left(r);
    // Quads (a0 a1 b1 b0) and (a2 a0 b0 b2) are cut through a0; quad (a1 a2 b2 b1) through its lowest.
    if a[1].min(b[2]) < a[2].min(b[1]) {
        push([a[0], a[1], a[2], b[2]]);
        push([a[0], a[1], b[2], b[1]]);
    } else {
        push([a[0], a[1], a[2], b[1]]);
        push([a[0], a[2], b[2], b[1]]);
    }
    push([a[0], b[1], b[2], b[0]]);
}

/// Orients every tet positively; counts whole background tets whose orientation warping reversed.
fn orient(nodes: &[DVec3], mut tets: Vec<[u32; 4]>, background_signs: &[i8]) -> (Vec<[u32; 4]>, usize) {
    let mut inverted = 0;
    let mut keep = Vec::with_capacity(tets.len());
    for (t, &sign) in tets.iter_mut().zip(background_signs) {
        let [a, b, c, d] = t.map(|n| nodes[n as usize]);
        let vol = (b - a).cross(c - a).dot(d - a);
        let scale = (b - a).length().max((c - a).length()).max((d - a).length());
        if vol.abs() <= 1e-14 * scale.powi(3) {
            // A flat sliver from a cut through (numerically) coplanar nodes carries no volume.
            continue;
        }
        if sign != 0 && (vol > 0.0) != (sign > 0) {
            inverted += 1;
        }
        if vol < 0.0 {
            t.swap(2, 3);
        }
        keep.push(*t);
    }
    (keep, inverted)
}

/// Drops nodes used by no tet and renumbers.
fn compact(nodes: &mut Vec<DVec3>, tets: Vec<[u32; 4]>) -> Vec<[u32; 4]> {
    let mut new_id = vec![u32::MAX; nodes.len()];
    let mut kept = Vec::new();
    let tets = tets
        .into_iter()
        .map(|t| {
            t.map(|n| {
                if new_id[n as usize] == u32::MAX {
                    new_id[n as usize] = kept.len() as u32;
                    kept.push(nodes[n as usize]);
                }
                new_id[n as usize]
            })
        })
        .collect();
    *nodes = kept;
    tets
}
