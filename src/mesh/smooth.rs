//! Quality-guarded smoothing of a cut mesh near the electrode surface.
//!
//! Cutting leaves irregular elements next to the protrusion surfaces: short edges where a cut point
//! fell near an unwarped node, and surface triangles of very different sizes, which make the nodal
//! current density scatter from node to node. A few Gauss–Seidel sweeps of "smart" Laplacian
//! smoothing (Freitag & Ollivier-Gooch 1997) regularise them: each movable node is moved to the
//! mean of its neighbours — protrusion-surface nodes to the mean of their surface neighbours,
//! projected back onto the surface by Newton steps on the level function, and coating-interface
//! nodes likewise within their interface — and the move is kept
//! only if the worst dihedral angle among the node's tetrahedra does not get worse. Where it
//! would, a node in a tetrahedron below 20 degrees tries half and a quarter of the move and, if
//! interior, lifts off the face opposite it in its worst tetrahedron, keeping the best that
//! improves that angle (a sliver beside a coating interface, one node just off it, is mended so).
//! Nodes on the flat electrode, on two surfaces at once (box edges, protrusion rims, where an
//! interface meets a wall) and on periodic walls never move; wall nodes move within their wall.
//! The topology is unchanged, so the mesh stays conforming and every surface node stays on the true
//! surface.

use glam::DVec3;

use rayon::prelude::*;

use super::adjacency::Incidence;
use super::boundary::boundary_faces;
use super::quality::dihedral_angles;
use crate::error::Result;
use crate::geometry::ElectrodeGeometry;

/// Gauss–Seidel sweeps over the movable nodes.
const SWEEPS: usize = 3;

/// Shorter moves toward the neighbours' mean a node tries where the whole move would spoil a
/// tetrahedron (see [`fallback_positions`]), as fractions of the whole.
const MOVE_FRACTIONS: [f64; 2] = [0.5, 0.25];

/// Only nodes whose worst tetrahedron is below this (degrees) try the fallback positions.
const FALLBACK_BELOW_DEG: f64 = 20.0;

/// Lifts of a sliver's interior node off its opposite face a node tries, in mean neighbour
/// distances.
const LIFT_FRACTIONS: [f64; 2] = [0.25, 0.5];

/// Tetrahedra whose worst dihedral angle is below this (degrees) have their nodes smoothed;
/// descendants of Kuhn cubes are at 45 degrees or above, so only the cut band qualifies.
const SMOOTH_BELOW_DEG: f64 = 40.0;

#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// Interior node: moves freely.
    Interior,
    /// Node on a protrusion or scaffold surface (not on a box plane): moves within the surface.
    Surface,
    /// On a coating interface only: moves within it.
    Interface(usize),
    /// On one side wall or the bulk boundary (and no other surface): moves within that plane;
    /// the axis (0: x, 1: y, 2: z) whose coordinate stays.
    Wall(usize),
    /// On a plane of the box, or on two surfaces at once: fixed.
    Fixed,
}

/// What the mesher knows of a node beyond the boundary: free, on one coating interface, or
/// pinned (on an interface and another surface).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Pin {
    Free,
    Interface(usize),
    Fixed,
}

/// Smooths the nodes near the cut surfaces of a positively oriented mesh of `geom`'s electrolyte;
/// `pins` says which nodes lie on a coating interface (they move within it) or are fixed.
pub fn smooth_near_surface(geom: &ElectrodeGeometry, nodes: &mut [DVec3], tets: &[[u32; 4]], pins: &[Pin]) -> Result<()> {
    let scale = geom.half_width.max(geom.height);
    let w = geom.half_width;
    // Box planes through a point: (axis, coordinate); the flat electrode z = 0 never moves.
    let planes = |p: DVec3| -> Vec<usize> {
        let mut out = Vec::new();
        if p.x.abs() == w {
            out.push(0);
        }
        if p.y.abs() == w {
            out.push(1);
        }
        if p.z == geom.height {
            out.push(2);
        }
        out
    };
    let mut role = vec![Role::Interior; nodes.len()];
    let mut surface_ring: Vec<Vec<u32>> = vec![Vec::new(); nodes.len()];
    for f in boundary_faces(tets)? {
        for &n in &f {
            let p = nodes[n as usize];
            let on = planes(p);
            role[n as usize] =
                if geom.on_floor_electrode(p) || on.len() > 1 || (on.len() == 1 && geom.cut_level(p).abs() <= 1e-12 * scale) {
                    Role::Fixed
                } else if on.len() == 1 && !(geom.periodic && on[0] < 2) {
                    // (Periodic side walls stay as meshed, so that they keep matching node for node.)
                    Role::Wall(on[0])
                } else if on.len() == 1 {
                    Role::Fixed
                } else {
                    Role::Surface
                };
            surface_ring[n as usize].extend(f.iter().filter(|&&m| m != n));
        }
    }
    for (r, &pin) in role.iter_mut().zip(pins) {
        match pin {
            Pin::Free => {}
            Pin::Interface(k) if *r == Role::Interior => *r = Role::Interface(k),
            _ => *r = Role::Fixed,
        }
    }
    let incident = Incidence::of(nodes.len(), tets);
    let worst_angle = |nodes: &[DVec3], t: u32| -> f64 {
        let p = tets[t as usize].map(|n| nodes[n as usize]);
        if (p[1] - p[0]).cross(p[2] - p[0]).dot(p[3] - p[0]) <= 0.0 {
            return -1.0;
        }
        dihedral_angles(p).into_iter().fold(180.0, f64::min)
    };
    let nodes_now: &[DVec3] = nodes;
    let mut movable: Vec<u32> = (0..tets.len() as u32)
        .into_par_iter()
        .filter(|&t| worst_angle(nodes_now, t) < SMOOTH_BELOW_DEG)
        .flat_map_iter(|t| tets[t as usize].into_iter().filter(|&n| role[n as usize] != Role::Fixed))
        .collect();
    movable.sort_unstable();
    movable.dedup();

    for _ in 0..SWEEPS {
        for &n in &movable {
            let n = n as usize;
            let star = || incident.tets_at(n).iter().flat_map(|&t| tets[t as usize]).filter(|&m| m as usize != n);
            let neighbours: Vec<u32> = match role[n] {
                Role::Surface => surface_ring[n].clone(),
                Role::Wall(axis) => {
                    surface_ring[n].iter().copied().filter(|&m| nodes[m as usize][axis] == nodes[n][axis]).collect()
                }
                Role::Interface(k) => {
                    star().filter(|&m| geom.interface_level(k, nodes[m as usize]).abs() <= 1e-12 * scale).collect()
                }
                _ => star().collect(),
            };
            if neighbours.is_empty() {
                continue;
            }
            let mean = neighbours.iter().map(|&m| nodes[m as usize]).sum::<DVec3>() / neighbours.len() as f64;
            let Some(target) = on_own_surface(geom, role[n], nodes[n], mean, scale) else {
                continue;
            };
            let worst_at = |nodes: &[DVec3]| incident.tets_at(n).iter().map(|&t| worst_angle(nodes, t)).fold(180.0, f64::min);
            let old = nodes[n];
            let before = worst_at(nodes);
            nodes[n] = target;
            let after = worst_at(nodes);
            if after >= before {
                continue;
            }
            nodes[n] = old;
            if before >= FALLBACK_BELOW_DEG {
                continue;
            }
            // The whole move would spoil a tetrahedron: try shorter moves and lifts instead.
            let worst =
                incident.tets_at(n).iter().copied().min_by(|&a, &b| worst_angle(nodes, a).total_cmp(&worst_angle(nodes, b)));
            let opposite = worst.filter(|_| role[n] == Role::Interior).map(|t| {
                let mut face = tets[t as usize].iter().filter(|&&m| m as usize != n).map(|&m| nodes[m as usize]);
                [(); 3].map(|()| face.next().expect("three other nodes"))
            });
            let reach = neighbours.iter().map(|&m| nodes[m as usize].distance(old)).sum::<f64>() / neighbours.len() as f64;
            let mut best = (before, old);
            for q in fallback_positions(geom, role[n], old, target, opposite, reach, scale) {
                nodes[n] = q;
                let after = worst_at(nodes);
                if after > best.0 {
                    best = (after, q);
                }
            }
            nodes[n] = best.1;
        }
    }
    Ok(())
}

/// The point of a node's own surface nearest to `q` (its protrusion surface or coating interface
/// by Newton projection, its wall plane), or `q` itself for an interior node, for a node now at
/// `old`; `None` where the projection fails or the point leaves the electrolyte (a wall node
/// must not slide into a solid or across a coating interface).
fn on_own_surface(geom: &ElectrodeGeometry, role: Role, old: DVec3, q: DVec3, scale: f64) -> Option<DVec3> {
    let onto = |level: &dyn Fn(DVec3) -> f64| project(level, q, 1e-12 * scale, 1e-7 * scale).filter(|q| q.z > geom.floor());
    match role {
        Role::Surface => onto(&|p| geom.cut_level(p)),
        Role::Interface(k) => onto(&|p| geom.interface_level(k, p)),
        Role::Wall(axis) => {
            let mut q = q;
            q[axis] = old[axis];
            geom.keeps_sides(old, q, None).then_some(q)
        }
        _ => Some(q),
    }
}

/// Positions a node whose whole move (to `target`) would spoil one of its tetrahedra tries
/// instead: shorter moves along the way (re-projected onto its protrusion surface or coating
/// interface), and, for an interior node, lifts off the face `opposite` it in its worst
/// tetrahedron (the move that raises that tetrahedron's height; `reach` is its mean distance to
/// its neighbours). A sliver next to an interface, with one node just off it, is mended by the
/// lift where the move to the neighbours' mean would flatten another tetrahedron.
fn fallback_positions(
    geom: &ElectrodeGeometry,
    role: Role,
    old: DVec3,
    target: DVec3,
    opposite: Option<[DVec3; 3]>,
    reach: f64,
    scale: f64,
) -> Vec<DVec3> {
    let mut out: Vec<DVec3> = MOVE_FRACTIONS
        .iter()
        .filter_map(|&fraction| on_own_surface(geom, role, old, old + (target - old) * fraction, scale))
        .collect();
    if let (Role::Interior, Some([a, b, c])) = (role, opposite) {
        let normal = (b - a).cross(c - a).normalize_or_zero();
        let away = if normal.dot(old - a) >= 0.0 { normal } else { -normal };
        out.extend(LIFT_FRACTIONS.iter().map(|&lift| old + away * (lift * reach)));
    }
    out
}

/// Newton projection of `p` onto the zero set of `level`; `None` if it does not reach
/// `|level| <= tol` within a few steps (near a crease of merged shapes). The gradient is taken by
/// central differences of width `2 step`.
pub(super) fn project(level: &dyn Fn(DVec3) -> f64, p: DVec3, tol: f64, step: f64) -> Option<DVec3> {
    let mut q = p;
    for _ in 0..8 {
        let f = level(q);
        if f.abs() <= tol {
            return Some(q);
        }
        let grad = gradient(level, q, step);
        if grad.length_squared() == 0.0 || !grad.is_finite() {
            return None;
        }
        q -= f * grad / grad.length_squared();
    }
    None
}

/// Gradient of `level` at `q` by central differences of width `2 step`.
pub(super) fn gradient(level: &dyn Fn(DVec3) -> f64, q: DVec3, step: f64) -> DVec3 {
    DVec3::new(
        level(q + DVec3::X * step) - level(q - DVec3::X * step),
        level(q + DVec3::Y * step) - level(q - DVec3::Y * step),
        level(q + DVec3::Z * step) - level(q - DVec3::Z * step),
    ) / (2.0 * step)
}
