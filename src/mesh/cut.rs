//! Cutting a background mesh to the implicit electrode (and scaffold) surface, then along the
//! coating-layer interfaces.
//!
//! 1. Warp (after Labelle & Shewchuk, "Isosurface stuffing", 2007): where the surface crosses an
//!    edge within `WARP_FRACTION` of its length from an endpoint, that endpoint moves onto the
//!    crossing, which keeps later cuts away from existing nodes.
//! 2. Cut: the remaining crossed edges get a new node on the surface; each crossed tetrahedron's
//!    electrolyte part (a tet, pyramid or prism) is split into tetrahedra. Quadrilateral faces are
//!    split along the diagonal through their lowest-numbered node, so neighbours agree and the mesh
//!    conforms (Dompierre et al. 1999).
//!    Along a coating interface, a node whose warp is undone (it would flatten a tetrahedron or
//!    lay four nodes on the curved interface) is pushed off the interface instead, so that no
//!    cut point falls nanometres from it.
//! 3. Unused nodes are dropped, every tet is oriented positively and boundary faces are tagged.
//!
//! Every electrode node lies on the true surface: either on the plane z = 0 or at a root of the
//! level function found by bisection; nodes where a protrusion meets the plane lie on both.

use rustc_hash::FxHashMap as HashMap;

use glam::DVec3;

use super::bisection::Background;
use super::ordering;
use super::smooth::{self, Pin};
use super::{boundary, TetMesh};
use crate::error::{Error, Result};
use crate::geometry::{crossing, ElectrodeGeometry};

/// Fraction of an edge within which a crossing pulls the nearer endpoint onto the surface.
const WARP_FRACTION: f64 = 0.3;

/// Where a protrusion meets the plane at this angle or more (between the plane under it and its
/// surface: 90 degrees for a hemisphere, small for a shallow cap; at most 180 degrees minus it for
/// an overhang), a plane node under the protrusion near the rim is moved onto the rim, which
/// makes the rim a mesh feature.
const RIM_SNAP_MIN_ANGLE_DEG: f64 = 45.0;

const TET_EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)];

/// Cuts the background mesh (which covers the electrolyte box) to the electrolyte of `geom`, then
/// splits it along each coating-layer interface, tagging every tetrahedron with its region;
/// `delaunay_flips`: then flips it toward a Delaunay mesh ([`super::flip`]).
pub fn cut_to_electrode(geom: &ElectrodeGeometry, background: &Background, delaunay_flips: bool) -> Result<TetMesh> {
    let surface = |p: DVec3| geom.cut_level(p);
    let mut nodes = background.nodes.clone();
    let mut level: Vec<f64> = nodes.iter().map(|&p| surface(p)).collect();
    // Nodes on the sides and the bulk boundary move only within their planes.
    let w = geom.half_width;
    let same_planes = |p: DVec3, hit: DVec3| {
        (p.x.abs() != w || hit.x == p.x) && (p.y.abs() != w || hit.y == p.y) && (p.z != geom.height || hit.z == p.z)
    };
    // Nodes of the flat electrode in the electrolyte move only within the plane (onto a
    // protrusion's rim). One under a protrusion whose crossing lies above the plane goes onto the
    // rim instead, where the protrusion meets the plane within `RIM_SNAP_MIN_ANGLE_DEG` of a right
    // angle: had it risen onto the protrusion, the faces joining it to the plane would bridge the
    // rim, which would then be no mesh feature (a uniform current read a protrusion current
    // converging at first order, 0.71%, 0.36%, 0.20% low at refine 0.5, 1, 2). At a shallow
    // rim (a low cap) the surface is nearly flat across it and a node on it makes flat
    // tetrahedra with its neighbours; at a sharp overhang the electrolyte's wedge is itself thin.
    // There the node rises as before, and the faces bridge the rim.
    let scale = geom.half_width.max(geom.height);
    let step = 1e-7 * scale;
    let on_plane = |q: DVec3| surface(DVec3::new(q.x, q.y, 0.0));
    let steep_rim_point = |p: DVec3| {
        let q = smooth::project(&on_plane, p, 1e-12 * scale, step).map(|q| DVec3::new(q.x, q.y, 0.0))?;
        // The protrusion meets the plane at acos(n_z), n its outward unit normal at the rim.
        let n_z = smooth::gradient(&surface, q, step).try_normalize()?.z;
        let steep = n_z.abs() <= RIM_SNAP_MIN_ANGLE_DEG.to_radians().cos();
        (steep && q.x.abs() <= w && q.y.abs() <= w && same_planes(p, q)).then_some(q)
    };
    let moves = warp(&surface, &background.tets, &mut nodes, &mut level, |p, hit, l| {
        if !same_planes(p, hit) {
            None
        } else if !geom.on_floor_electrode(p) || hit.z == 0.0 {
            Some(hit)
        } else if l < 0.0 {
            Some(steep_rim_point(p).unwrap_or(hit))
        } else {
            None
        }
    });
    // Only moves that turn a tet inside out are undone here: flattened tets are cut anyway.
    undo_inverting_moves(&surface, &background.tets, &mut nodes, &mut level, &background.nodes, moves, Undo::Inverted);
    let (mut nodes, tets, signs) = split(&surface, &background.nodes, &background.tets, nodes, &level, Keep::Positive);
    let mut tets = oriented(&nodes, tets, &signs, "the protrusions")?;

    let on_interface = |p: DVec3, k: usize| geom.interface_level(k, p).abs() <= 1e-12 * scale;
    let on_solid = |p: DVec3| geom.on_electrode(p, 1e-12 * scale) || geom.on_scaffold(p, 1e-12 * scale);
    for k in 0..geom.layers.len() {
        let interface = |p: DVec3| geom.interface_level(k, p);
        let rest = nodes.clone();
        let mut level: Vec<f64> = nodes.iter().map(|&p| interface(p)).collect();
        // Nodes on the electrode or an earlier interface stay there; nodes on a box plane move
        // only within it.
        let pinned = |p: DVec3| on_solid(p) || (0..k).any(|j| on_interface(p, j));
        let moves =
            warp(&interface, &tets, &mut nodes, &mut level, |p, hit, _| (!pinned(p) && same_planes(p, hit)).then_some(hit));
        let mut undone = undo_inverting_moves(&interface, &tets, &mut nodes, &mut level, &rest, moves, Undo::FlatOrCapped);
        // Nodes on a side wall or the bulk boundary stay in it: only those inside the box move.
        undone.retain(|&n| {
            let p = nodes[n as usize];
            p.x.abs() != w && p.y.abs() != w && p.z != geom.height
        });
        push_off(&interface, &tets, &mut nodes, &mut level, &undone, |p, q| geom.keeps_sides(p, q, Some(k)));
        let (split_nodes, split_tets, signs) = split(&interface, &rest, &tets, nodes, &level, Keep::Both);
        nodes = split_nodes;
        tets = oriented(&nodes, split_tets, &signs, &format!("coating interface {}", k + 1))?;
    }
    let tets = compact(&mut nodes, tets);
    let mut regions = tets.iter().map(|t| region_of(geom, &nodes, t, 1e-12 * scale)).collect();
    let w = geom.half_width;
    let pins: Vec<Pin> = nodes
        .iter()
        .map(|&p| {
            let mut on = (0..geom.layers.len()).filter(|&k| on_interface(p, k));
            match (on.next(), on.next()) {
                (None, _) => Pin::Free,
                (Some(k), None) if !on_solid(p) && p.x.abs() != w && p.y.abs() != w && p.z != geom.height => Pin::Interface(k),
                _ => Pin::Fixed,
            }
        })
        .collect();
    smooth::smooth_near_surface(geom, &mut nodes, &tets, &pins)?;
    let mut tets = tets;
    if delaunay_flips {
        super::flip::flip_toward_delaunay(&nodes, &mut tets, &mut regions);
    }
    let (nodes, tets) = renumber(nodes, tets);
    let (faces, face_tags) = boundary::extract_and_tag(geom, &nodes, &tets)?;
    Ok(TetMesh { nodes, tets, regions, faces, face_tags })
}

/// Region of a tetrahedron of the split mesh: 1 + the lowest layer it lies under, else 0. After
/// the splits no tetrahedron has nodes strictly on both sides of an interface, so the nodal signs
/// decide (the centre would not: near a concave crease of a conformal layer's top, a tetrahedron
/// with every node above the interface can have its centre below it); a tetrahedron with all
/// four nodes on an interface goes by its centre.
fn region_of(geom: &ElectrodeGeometry, nodes: &[DVec3], tet: &[u32; 4], tol: f64) -> u8 {
    let p = tet.map(|n| nodes[n as usize]);
    for k in 0..geom.layers.len() {
        let l = p.map(|q| geom.interface_level(k, q));
        let below = if l.iter().all(|v| v.abs() <= tol) {
            geom.interface_level(k, (p[0] + p[1] + p[2] + p[3]) * 0.25) < 0.0
        } else {
            l.iter().any(|&v| v < -tol)
        };
        if below {
            return k as u8 + 1;
        }
    }
    0
}

/// Orients `tets` positively; an error if warping turned any uncut tet inside out.
fn oriented(nodes: &[DVec3], tets: Vec<[u32; 4]>, signs: &[i8], what: &str) -> Result<Vec<[u32; 4]>> {
    let (tets, inverted) = orient(nodes, tets, signs);
    if inverted > 0 {
        return Err(Error::Mesh(format!("warping to {what} inverted {inverted} tetrahedra; refine the mesh there")));
    }
    Ok(tets)
}

/// Moves nodes onto the zero set of `f` where a crossing lies within `WARP_FRACTION` of them:
/// `target(node position, crossing, node level)` says where the node goes (the crossing, or
/// another point of the zero set, taken only if it too lies within `WARP_FRACTION` of the edge,
/// else the crossing) or that it stays. Per node, a move to another point wins over crossings
/// (it is the target's choice for that node, whichever edge offered it), then the shortest.
/// Returns the moved nodes.
fn warp(
    f: &dyn Fn(DVec3) -> f64,
    tets: &[[u32; 4]],
    nodes: &mut [DVec3],
    level: &mut [f64],
    target: impl Fn(DVec3, DVec3, f64) -> Option<DVec3>,
) -> Vec<u32> {
    // Per node: (whether the move is the crossing itself, its reach, where to).
    let mut best: HashMap<u32, (bool, f64, DVec3)> = HashMap::default();
    let mut seen: HashMap<(u32, u32), ()> = HashMap::default();
    for tet in tets {
        for (a, b) in TET_EDGES {
            let (a, b) = (tet[a], tet[b]);
            let (la, lb) = (level[a as usize], level[b as usize]);
            if la * lb >= 0.0 || seen.insert((a.min(b), a.max(b)), ()).is_some() {
                continue;
            }
            let (pa, pb) = (nodes[a as usize], nodes[b as usize]);
            let t = crossing(f, pa, pb);
            let hit = pa + (pb - pa) * t;
            let length = pa.distance(pb);
            for (node, frac) in [(a, t), (b, 1.0 - t)] {
                if frac >= WARP_FRACTION {
                    continue;
                }
                let p = nodes[node as usize];
                let Some(mut to) = target(p, hit, level[node as usize]) else { continue };
                let mut reach = p.distance(to) / length;
                // Another point that lies too far: the crossing itself, which reaches `frac`.
                if to == hit || reach >= WARP_FRACTION {
                    (to, reach) = (hit, frac);
                }
                let candidate = (to == hit, reach, to);
                if best.get(&node).is_none_or(|&(crossing, r, _)| (candidate.0, reach) < (crossing, r)) {
                    best.insert(node, candidate);
                }
            }
        }
    }
    for (&node, &(_, _, to)) in &best {
        nodes[node as usize] = to;
        level[node as usize] = 0.0;
    }
    best.into_keys().collect()
}

/// Which warps [`undo_inverting_moves`] puts back.
#[derive(Clone, Copy)]
enum Undo {
    /// Those that turned a tetrahedron the split keeps whole (no node inside the solid) inside out.
    Inverted,
    /// Also those that flattened one (volume below 1e-3 of the original) or put all four of its
    /// nodes on the surface (a flat cap on a curved interface).
    FlatOrCapped,
}

/// Puts back warped nodes whose move `undo` objects to, restoring their position `rest` and
/// level `f`, and returns them. Repeats
/// until every tetrahedron is positive, since moving one node back can only help its neighbours.
fn undo_inverting_moves(
    f: &dyn Fn(DVec3) -> f64,
    tets: &[[u32; 4]],
    nodes: &mut [DVec3],
    level: &mut [f64],
    rest: &[DVec3],
    moved: Vec<u32>,
    undo: Undo,
) -> Vec<u32> {
    let mut was_moved = vec![false; nodes.len()];
    for &n in &moved {
        was_moved[n as usize] = true;
    }
    let signed_volume = |nodes: &[DVec3], t: &[u32; 4]| {
        let [a, b, c, d] = t.map(|n| nodes[n as usize]);
        (b - a).cross(c - a).dot(d - a)
    };
    loop {
        let mut undone = 0;
        for t in tets {
            let [a, b, c, d] = t.map(|n| rest[n as usize]);
            let original = (b - a).cross(c - a).dot(d - a);
            // A tetrahedron with all four nodes warped onto a curved surface is a flat cap.
            let (cap, least) = match undo {
                // Tets with a node inside the solid are cut or dropped; only whole ones count.
                // (A cap with all four nodes on the surface is kept or dropped by its centre.)
                Undo::Inverted if t.iter().any(|&n| level[n as usize] < 0.0) || t.iter().all(|&n| level[n as usize] == 0.0) => {
                    continue
                }
                Undo::Inverted => (false, 0.0),
                Undo::FlatOrCapped => (t.iter().all(|&n| level[n as usize] == 0.0), 1e-3),
            };
            if !cap && signed_volume(nodes, t) * original.signum() > least * original.abs() {
                continue;
            }
            for &n in t {
                if was_moved[n as usize] {
                    was_moved[n as usize] = false;
                    nodes[n as usize] = rest[n as usize];
                    level[n as usize] = f(rest[n as usize]);
                    undone += 1;
                }
            }
        }
        if undone == 0 {
            return moved.into_iter().filter(|&n| nodes[n as usize] == rest[n as usize]).collect();
        }
    }
}

/// Moves nodes whose warp was undone (`undone`) off the zero set of `f` they stay close to, to
/// [`WARP_FRACTION`] of their shortest edge, where every tetrahedron around them keeps at least
/// half the volume it had before any push and `stays(old, new)` accepts the new position (the
/// caller's other surfaces: the electrolyte side of the solids, the same side of every other
/// interface). Left a few nanometres from a coating interface, such a node would get cut points
/// as close, and with them slivers and edges of a hundredth of the element size.
fn push_off(
    f: &dyn Fn(DVec3) -> f64,
    tets: &[[u32; 4]],
    nodes: &mut [DVec3],
    level: &mut [f64],
    undone: &[u32],
    stays: impl Fn(DVec3, DVec3) -> bool,
) {
    if undone.is_empty() {
        return;
    }
    let incident = super::adjacency::Incidence::of(nodes.len(), tets);
    let volume = |nodes: &[DVec3], t: u32| {
        let [a, b, c, d] = tets[t as usize].map(|n| nodes[n as usize]);
        (b - a).cross(c - a).dot(d - a)
    };
    // Volumes before any push: a tetrahedron with several pushed nodes keeps half of this.
    let start = nodes.to_vec();
    for &n in undone {
        let n = n as usize;
        let p = nodes[n];
        let shortest = incident
            .tets_at(n)
            .iter()
            .flat_map(|&t| tets[t as usize])
            .filter(|&m| m as usize != n)
            .map(|m| nodes[m as usize].distance(p))
            .fold(f64::INFINITY, f64::min);
        let gap = WARP_FRACTION * shortest - level[n].abs();
        if gap <= 0.0 || !gap.is_finite() {
            continue;
        }
        let Some(normal) = super::smooth::gradient(f, p, 1e-3 * shortest).try_normalize() else { continue };
        let q = p + normal * (gap * level[n].signum());
        nodes[n] = q;
        let kept = incident.tets_at(n).iter().all(|&t| {
            let v = volume(&start, t);
            volume(nodes, t) * v.signum() >= 0.5 * v.abs()
        });
        if kept && f(q) * level[n] > 0.0 && stays(p, q) {
            level[n] = f(q);
        } else {
            nodes[n] = p;
        }
    }
}

/// Which pieces of the tetrahedra crossed by the zero set a split keeps.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    /// The part where the level is positive (the electrolyte side of the electrode surface).
    Positive,
    /// Both sides (an interface between two regions of the mesh).
    Both,
}

/// Splits every tetrahedron crossed by the zero set of `f` (nodal values `level`) into pieces on
/// either side, keeping the sides `keep` asks for. Returns all nodes (the given ones then the cut
/// points), the tets, and for each tet the orientation sign it had at the `rest` positions (0 for
/// pieces of split tets, which have no counterpart there).
fn split(
    f: &dyn Fn(DVec3) -> f64,
    rest: &[DVec3],
    tets_in: &[[u32; 4]],
    mut nodes: Vec<DVec3>,
    level: &[f64],
    keep: Keep,
) -> (Vec<DVec3>, Vec<[u32; 4]>, Vec<i8>) {
    let mut cut_nodes: HashMap<(u32, u32), u32> = HashMap::default();
    let mut tets = Vec::new();
    let mut signs = Vec::new();
    for &tet in tets_in {
        let l = tet.map(|n| level[n as usize]);
        let side = |positive: bool| -> Vec<u32> {
            (0..4).filter(|&i| if positive { l[i] > 0.0 } else { l[i] < 0.0 }).map(|i| tet[i]).collect()
        };
        let (pos, neg) = (side(true), side(false));
        if pos.is_empty() || neg.is_empty() {
            let whole = if pos.is_empty() && neg.is_empty() {
                // All four nodes on the surface: the centre decides, and a cap that warping
                // turned inside out is a sliver folded onto the surface, left out.
                let volume = |p: &[DVec3]| {
                    let [a, b, c, d] = tet.map(|n| p[n as usize]);
                    (b - a).cross(c - a).dot(d - a)
                };
                volume(&nodes) * volume(rest) > 0.0 && f(tet.iter().map(|&n| nodes[n as usize]).sum::<DVec3>() * 0.25) > 0.0
            } else {
                neg.is_empty()
            };
            if whole || keep == Keep::Both {
                let [a, b, c, d] = tet.map(|n| rest[n as usize]);
                tets.push(tet);
                signs.push(if (b - a).cross(c - a).dot(d - a) > 0.0 { 1 } else { -1 });
            }
            continue;
        }
        let zero: Vec<u32> = (0..4).filter(|&i| l[i] == 0.0).map(|i| tet[i]).collect();
        let mut cut_id = |p: u32, q: u32| -> u32 {
            *cut_nodes.entry((p.min(q), p.max(q))).or_insert_with(|| {
                let (pa, pb) = (nodes[p as usize], nodes[q as usize]);
                let t = crossing(f, pa, pb);
                nodes.push(pa + (pb - pa) * t);
                (nodes.len() - 1) as u32
            })
        };
        let mut push = |t: [u32; 4]| {
            tets.push(t);
            signs.push(0);
        };
        side_pieces(&pos, &neg, &zero, &mut cut_id, &mut push);
        if keep == Keep::Both {
            side_pieces(&neg, &pos, &zero, &mut cut_id, &mut push);
        }
    }
    (nodes, tets, signs)
}

/// The pieces of a crossed tetrahedron on the side of the nodes `pos` (the nodes `neg` lie on the
/// other side, `zero` on the surface), split into tetrahedra.
fn side_pieces(
    pos: &[u32],
    neg: &[u32],
    zero: &[u32],
    cut_id: &mut impl FnMut(u32, u32) -> u32,
    push: &mut impl FnMut([u32; 4]),
) {
    match (pos.len(), neg.len()) {
        (1, _) => {
            // A corner tetrahedron: the inside node, the surface nodes and the cut points.
            let mut v = vec![pos[0]];
            v.extend(zero);
            v.extend(neg.iter().map(|&n| cut_id(pos[0], n)));
            push([v[0], v[1], v[2], v[3]]);
        }
        (2, 1) => {
            // Pyramid: base quad (p0, p1, c1, c0) on the face (p0, p1, n), apex the surface node.
            let (p0, p1, n) = (pos[0], pos[1], neg[0]);
            let (c0, c1) = (cut_id(p0, n), cut_id(p1, n));
            split_pyramid([p0, p1, c1, c0], zero[0], push);
        }
        (2, 2) => {
            // Wedge: triangles (p0, c00, c01) and (p1, c10, c11), lateral edges p-p, c-c.
            let (p0, p1) = (pos[0], pos[1]);
            let a = [p0, cut_id(p0, neg[0]), cut_id(p0, neg[1])];
            let b = [p1, cut_id(p1, neg[0]), cut_id(p1, neg[1])];
            split_prism(a, b, push);
        }
        (3, 1) => {
            // Truncated tetrahedron: the inside face and the three cut points above it.
            let n = neg[0];
            let b = [cut_id(pos[0], n), cut_id(pos[1], n), cut_id(pos[2], n)];
            split_prism([pos[0], pos[1], pos[2]], b, push);
        }
        _ => unreachable!("sign pattern with {} inside and {} outside nodes", pos.len(), neg.len()),
    }
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

/// Renumbers the nodes in reverse Cuthill–McKee order (a narrow matrix band for the solvers).
fn renumber(nodes: Vec<DVec3>, tets: Vec<[u32; 4]>) -> (Vec<DVec3>, Vec<[u32; 4]>) {
    let order = ordering::reverse_cuthill_mckee(nodes.len(), &tets);
    let mut new_id = vec![0u32; nodes.len()];
    for (new, &old) in order.iter().enumerate() {
        new_id[old as usize] = new as u32;
    }
    let nodes = order.iter().map(|&old| nodes[old as usize]).collect();
    let tets = tets.into_iter().map(|t| t.map(|n| new_id[n as usize])).collect();
    (nodes, tets)
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
