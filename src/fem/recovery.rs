//! Smoothed recovery of the electrode current density from nodal residual fluxes, and the
//! surface normals and node rings it (and the growing electrode) needs.
//!
//! Nodal values `Q_j / A_j` of the residual flux are accurate in the mean but jump by a few
//! percent from node to node on curved, irregular surface meshes. Each node's recovered value is
//! the value at that node of a quadratic fitted by area-weighted least squares to the nodal
//! values over a surface patch of radius five local edge lengths (nodes whose normals are within 40 degrees of its own,
//! so patches do not reach across sharp edges), held to the range of the patch's nodal values (no
//! overshoot: a current of one sign keeps its sign). Integral quantities are never taken from the
//! recovered field: totals come from the fluxes themselves.

use glam::DVec3;
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use crate::mesh::{BoundaryTag, TetMesh};

/// Recovers a smoothed nodal field on the faces tagged `tag`.
///
/// `nodes` lists the surface nodes (increasing), `values` and `areas` are aligned with it.
pub fn smooth_surface_field(mesh: &TetMesh, tag: BoundaryTag, nodes: &[u32], values: &[f64], areas: &[f64]) -> Vec<f64> {
    SurfaceRecovery::new(mesh, tag, nodes, areas).smooth(values)
}

/// The recovery of one surface, prepared once: the fit at a node is a linear functional of the
/// patch's values, so each node keeps its patch and the weights of that functional, and
/// recovering a field (every time step of a transient run) costs one pass over the patches.
pub struct SurfaceRecovery {
    /// Per surface node: (local index, weight) of each node of its patch.
    stencils: Vec<Vec<(u32, f64)>>,
}

impl SurfaceRecovery {
    /// The patches and fit weights of the listed nodes (`nodes`, increasing) of the faces tagged
    /// `tag`, with the nodes' `areas` as least-squares weights.
    pub fn new(mesh: &TetMesh, tag: BoundaryTag, nodes: &[u32], areas: &[f64]) -> Self {
        let SurfaceNeighbourhood { normal, ring } = surface_neighbourhood(mesh, tag, nodes);
        let cos_limit = 40f64.to_radians().cos();
        // Each node's patch and fit are independent of the others'.
        let stencils = (0..nodes.len())
            .into_par_iter()
            .map(|i| {
                let centre = mesh.nodes[nodes[i] as usize];
                let h = ring[i].iter().map(|&j| mesh.nodes[nodes[j as usize] as usize].distance(centre)).sum::<f64>()
                    / ring[i].len().max(1) as f64;
                // Patches cut short by an edge or a symmetry plane grow until they hold enough nodes.
                let mut radius = PATCH_RADIUS_EDGES * h;
                let mut patch = Vec::new();
                for _ in 0..3 {
                    patch =
                        patch_within(&ring, &normal, i, |j| mesh.nodes[nodes[j] as usize].distance(centre) <= radius, cos_limit);
                    if patch.len() >= MIN_PATCH_NODES {
                        break;
                    }
                    radius *= 1.4;
                }
                fit_weights(mesh, nodes, i, &patch, normal[i], areas)
            })
            .collect();
        SurfaceRecovery { stencils }
    }

    /// The recovered field of nodal `values`. A fit may over- or undershoot where the patch is
    /// lopsided (an edge, a symmetry plane): it is held to the range of the values it was fitted
    /// to, so a field of one sign keeps it.
    pub fn smooth(&self, values: &[f64]) -> Vec<f64> {
        self.stencils
            .iter()
            .map(|stencil| {
                let (mut fit, mut lo, mut hi) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
                for &(j, w) in stencil {
                    let v = values[j as usize];
                    fit += w * v;
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                // lo > hi only where the values are not finite: no clamp then (and no panic).
                if lo <= hi {
                    fit.clamp(lo, hi)
                } else {
                    fit
                }
            })
            .collect()
    }
}

impl SurfaceRecovery {
    /// The peak of the recovered field `smoothed` (this recovery of some values) along `sign`:
    /// the recovered value at the node where the field recovered once more peaks. The largest
    /// recovered value itself would pick the positive tail of the recovery's node-to-node
    /// scatter (a first-order error that a maximum over many nodes amplifies); locating the
    /// peak on the twice-smoothed field and reading the once-smoothed value there keeps one
    /// node's error.
    pub fn peak(&self, smoothed: &[f64], sign: f64) -> f64 {
        let twice = self.smooth(smoothed);
        let at = (0..twice.len()).max_by(|&a, &b| (sign * twice[a]).total_cmp(&(sign * twice[b])));
        at.map_or(0.0, |k| sign * smoothed[k])
    }
}

/// Unit normals (out of the domain) and the neighbouring surface nodes of a surface's nodes.
pub struct SurfaceNeighbourhood {
    /// Area-weighted mean of the adjacent faces' outward normals, normalized (+z where they cancel).
    pub normal: Vec<DVec3>,
    /// Local indices (into the node list) of the nodes sharing a face with each node.
    pub ring: Vec<Vec<u32>>,
}

/// Normals and rings of the listed nodes (`nodes`, increasing) of the faces tagged `tag`; nodes
/// not listed (periodic images of listed ones) are left out.
pub fn surface_neighbourhood(mesh: &TetMesh, tag: BoundaryTag, nodes: &[u32]) -> SurfaceNeighbourhood {
    let mut local = vec![u32::MAX; mesh.nodes.len()];
    for (i, &n) in nodes.iter().enumerate() {
        local[n as usize] = i as u32;
    }
    let mut normal = vec![DVec3::ZERO; nodes.len()];
    let mut ring: Vec<Vec<u32>> = vec![Vec::new(); nodes.len()];
    for f in mesh.faces_with(tag) {
        let av = mesh.face_area_vector(f);
        let ids: Vec<u32> = mesh.faces[f].iter().map(|&n| local[n as usize]).filter(|&a| a != u32::MAX).collect();
        for &a in &ids {
            normal[a as usize] += av;
            ring[a as usize].extend(ids.iter().filter(|&&b| b != a));
        }
    }
    for r in &mut ring {
        r.sort_unstable();
        r.dedup();
    }
    let normal = normal.into_iter().map(|n| n.normalize_or(DVec3::Z)).collect();
    SurfaceNeighbourhood { normal, ring }
}

/// Patch radius in local mean edge lengths: large enough to average out the node-to-node
/// scatter (about 80 nodes on an isotropic mesh), small enough that a quadratic resolves the
/// true variation.
const PATCH_RADIUS_EDGES: f64 = 5.0;

/// Fewest nodes a patch should hold for the six-term fit to average out the scatter.
const MIN_PATCH_NODES: usize = 30;

/// Surface nodes reachable from `i` through nodes that satisfy `inside` and whose normals are
/// within the angle limit of node i's normal (breadth-first over the surface rings).
fn patch_within(ring: &[Vec<u32>], normal: &[DVec3], i: usize, inside: impl Fn(usize) -> bool, cos_limit: f64) -> Vec<u32> {
    let mut patch = vec![i as u32];
    let mut seen: FxHashSet<u32> = std::iter::once(i as u32).collect();
    let mut k = 0;
    while k < patch.len() {
        let here = patch[k] as usize;
        for &j in &ring[here] {
            if normal[j as usize].dot(normal[i]) >= cos_limit && inside(j as usize) && seen.insert(j) {
                patch.push(j);
            }
        }
        k += 1;
    }
    patch
}

/// Weighted least-squares quadratic (or linear, for small patches) in the tangent plane of node
/// `i`, evaluated at the node, as weights on the patch's values: the fit's constant term is
/// `e0^T A^-1 B v` with A = sum_j w_j b_j b_j^T and B v = sum_j w_j b_j v_j, so node j weighs
/// `w_j b_j . y` with A y = e0 (A is symmetric). Falls back to the raw value (weight 1 on node
/// i) when the fit is ill-posed; the whole patch stays in the stencil for the range it holds to.
fn fit_weights(mesh: &TetMesh, nodes: &[u32], i: usize, patch: &[u32], n: DVec3, areas: &[f64]) -> Vec<(u32, f64)> {
    let raw = || patch.iter().map(|&j| (j, if j as usize == i { 1.0 } else { 0.0 })).collect();
    let origin = mesh.nodes[nodes[i] as usize];
    let t1 = n.any_orthonormal_vector();
    let t2 = n.cross(t1);
    let terms = if patch.len() >= 10 {
        6
    } else if patch.len() >= 4 {
        3
    } else {
        return raw();
    };
    let scale = patch.iter().map(|&j| mesh.nodes[nodes[j as usize] as usize].distance(origin)).fold(0.0, f64::max);
    if scale == 0.0 {
        return raw();
    }
    let basis: Vec<[f64; 6]> = patch
        .iter()
        .map(|&j| {
            let d = (mesh.nodes[nodes[j as usize] as usize] - origin) / scale;
            let (u, v) = (d.dot(t1), d.dot(t2));
            [1.0, u, v, u * u, u * v, v * v]
        })
        .collect();
    let mut ata = [[0.0; 6]; 6];
    for (b, &j) in basis.iter().zip(patch) {
        let w = areas[j as usize];
        for r in 0..terms {
            for c in 0..terms {
                ata[r][c] += w * b[r] * b[c];
            }
        }
    }
    let mut e0 = [0.0; 6];
    e0[0] = 1.0;
    match solve_small(&mut ata, &mut e0, terms) {
        Some(y) => {
            basis.iter().zip(patch).map(|(b, &j)| (j, areas[j as usize] * (0..terms).map(|r| b[r] * y[r]).sum::<f64>())).collect()
        }
        None => raw(),
    }
}

/// Gaussian elimination with partial pivoting on the leading `m` x `m` block.
fn solve_small(a: &mut [[f64; 6]; 6], b: &mut [f64; 6], m: usize) -> Option<[f64; 6]> {
    let norm = (0..m).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    for col in 0..m {
        let piv = (col..m).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[piv][col].abs() <= 1e-10 * norm {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for row in col + 1..m {
            let f = a[row][col] / a[col][col];
            for k in col..m {
                a[row][k] -= f * a[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 6];
    for row in (0..m).rev() {
        let s: f64 = (row + 1..m).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}
