//! The edge fluxes of the discrete Nernst–Planck system ([`super::transport_system`]), assembled row by
//! row on the host.
//!
//! The rows of free node a take the log-mean fluxes ([`crate::physics::edge_flux`]) of a's own
//! edges,
//!
//! ```text
//!     R_i,a   += sum_k s_ak F^i_e(k)        R_phi,a += sum_i z_i sum_k s_ak F^i_e(k)
//!     F^i_jk   = omega_jk D_i [(c_i,j - c_i,k) - z_i (phi_k - phi_j) L(c_i,j, c_i,k)]
//! ```
//!
//! with e(k) = (j, k) the edge stored with j < k and s_ak = +1 when a is its first end, -1 when
//! it is its second (under Poisson, `lambda omega (phi_a - phi_b)` in the phi row instead of the
//! charge balance). Each edge is evaluated at both of its ends: twice the logarithmic means of
//! a scatter over edges, in exchange for nodes that are assembled in parallel with no two threads
//! writing one entry, and for rows that add their terms in the same order on any number of
//! threads (the result does not depend on the machine). The device kernel of
//! [`super::device_jacobian`] is organised the same way.

use std::ops::Range;

use rayon::prelude::*;

use super::device_jacobian::NOT_FREE;
use super::transport::Closure;
use super::transport_system::Problem;
use crate::fem::edges::Edges;
use crate::fem::CsrMatrix;
use crate::physics::edge_flux::log_mean_flux;

/// The edges at each free node, in edge order: what row-owned assembly walks.
pub(super) struct NodeEdges {
    /// Entries of free node a: `start[a]..start[a + 1]`.
    start: Vec<u32>,
    /// Per entry: the edge (an index into [`Edges::pairs`]).
    pub(super) edge: Vec<u32>,
    /// Per entry: the other end's position in a's node-pattern row, or NOT_FREE for a bulk node.
    pub(super) slot: Vec<u32>,
    /// Per free node: its own position in its node-pattern row.
    pub(super) own_slot: Vec<u32>,
}

impl NodeEdges {
    /// The edges of every free node (`free_of`: free index of each mesh node, u32::MAX in the
    /// bulk) with the slots of `pattern`, the node pattern of the free nodes.
    pub(super) fn new(edges: &Edges, free_of: &[u32], pattern: &CsrMatrix) -> Self {
        let n_free = pattern.n;
        let mut start = vec![0u32; n_free + 1];
        for &(ja, jb) in &edges.pairs {
            for end in [ja, jb] {
                if let Some(f) = free_index(free_of, end) {
                    start[f + 1] += 1;
                }
            }
        }
        for a in 0..n_free {
            start[a + 1] += start[a];
        }
        let total = start[n_free] as usize;
        let (mut edge, mut slot) = (vec![0u32; total], vec![NOT_FREE; total]);
        let mut next: Vec<u32> = start[..n_free].to_vec();
        let slot_in =
            |a: usize, b: u32| (pattern.find(a, b).expect("edge outside the node pattern") - pattern.row_ptr[a] as usize) as u32;
        for (e, &(ja, jb)) in edges.pairs.iter().enumerate() {
            for (end, other) in [(ja, jb), (jb, ja)] {
                let Some(f) = free_index(free_of, end) else { continue };
                let k = next[f] as usize;
                next[f] += 1;
                edge[k] = e as u32;
                slot[k] = free_index(free_of, other).map_or(NOT_FREE, |g| slot_in(f, g as u32));
            }
        }
        let own_slot = (0..n_free).map(|a| slot_in(a, a as u32)).collect();
        NodeEdges { start, edge, slot, own_slot }
    }

    /// Entries of free node `a`.
    pub(super) fn of(&self, a: usize) -> Range<usize> {
        self.start[a] as usize..self.start[a + 1] as usize
    }
}

fn free_index(free_of: &[u32], node: u32) -> Option<usize> {
    match free_of[node as usize] {
        u32::MAX => None,
        f => Some(f as usize),
    }
}

/// Concentrations (scaled, `c[node * n + i]`) and phi of every mesh node at one iterate.
pub(super) struct NodeValues {
    pub(super) c: Vec<f64>,
    pub(super) phi: Vec<f64>,
    n: usize,
}

impl NodeValues {
    pub(super) fn c(&self, node: usize) -> &[f64] {
        &self.c[node * self.n..(node + 1) * self.n]
    }
}

impl Problem<'_> {
    /// Concentrations and phi at every mesh node: the bulk state at bulk nodes; at free nodes
    /// `c_i = exp(u_i)` for the carried species and, under electroneutrality, the last one from
    /// `sum_i z_i c_i + X = 0`.
    pub(super) fn node_values(&self, x: &[f64]) -> NodeValues {
        let n = self.n_species;
        let m = self.m();
        let tp = self.tp;
        let nodes = self.free_of.len();
        let (mut c, mut phi) = (vec![0.0; nodes * n], vec![0.0; nodes]);
        c.par_chunks_mut(n).zip(phi.par_iter_mut()).zip(self.free_of.par_iter()).with_min_len(1024).for_each(
            |((c, phi), &free)| {
                if free == u32::MAX {
                    c.copy_from_slice(&tp.bulk);
                    return;
                }
                let base = free as usize * m;
                for i in 0..self.independent() {
                    c[i] = x[base + i].exp();
                }
                if tp.closure == Closure::Electroneutral {
                    let zl = tp.charges[n - 1];
                    c[n - 1] = -self.fixed[free as usize] / zl;
                    for i in 0..n - 1 {
                        c[n - 1] -= tp.charges[i] * c[i] / zl;
                    }
                }
                *phi = x[base + m - 1];
            },
        );
        NodeValues { c, phi, n }
    }

    /// Calls `f(w, dc_i / du_w)` for each unknown w of a free node that concentration `i`
    /// depends on, given the node's concentrations `c`.
    fn concentration_derivatives(&self, i: usize, c: &[f64], mut f: impl FnMut(usize, f64)) {
        if i < self.independent() {
            f(i, c[i]);
            return;
        }
        let charges = &self.tp.charges;
        let zl = charges[self.n_species - 1];
        for w in 0..self.n_species - 1 {
            f(w, -charges[w] * c[w] / zl);
        }
    }

    /// Adds the edge fluxes at `x` to the residual `r` and, with `jac`, their derivatives to the
    /// Jacobian values (block-pattern order), one free node's rows per task.
    pub(super) fn add_edge_fluxes(&self, x: &[f64], r: &mut [f64], jac: Option<&mut [f64]>) {
        let m = self.m();
        let values = self.node_values(x);
        let n_free = self.volume.len();
        let blocks: Vec<&mut [f64]> = match jac {
            Some(jac) => node_blocks(jac, &self.pattern.node.row_ptr, m * m),
            None => (0..n_free).map(|_| &mut [][..]).collect(),
        };
        r.par_chunks_mut(m)
            .zip(blocks)
            .enumerate()
            .with_min_len(256)
            .for_each(|(a, (ra, block))| self.node_fluxes(a, &values, ra, block));
    }

    /// The flux terms of free node `a`'s rows: `ra` its residual entries, `block` its rows of
    /// Jacobian values (empty for the residual alone).
    fn node_fluxes(&self, a: usize, values: &NodeValues, ra: &mut [f64], block: &mut [f64]) {
        let tp = self.tp;
        let m = self.m();
        let pv = self.phi_var();
        let row = &self.pattern.node.row_ptr;
        let deg = (row[a + 1] - row[a]) as usize;
        let entry = |v: usize, slot: u32, w: usize| v * deg * m + slot as usize * m + w;
        let electroneutral = tp.closure == Closure::Electroneutral;
        let with_jacobian = !block.is_empty();
        let own = self.node_edges.own_slot[a];
        for k in self.node_edges.of(a) {
            let e = self.node_edges.edge[k] as usize;
            let (ja, jb) = self.edges.pairs[e];
            let (ja, jb) = (ja as usize, jb as usize);
            let omega = self.edges.weights[e];
            // a is the edge's first end (+F) or its second (-F); the slots of both ends in a's row.
            let first = self.free_of[ja] as usize == a;
            let sign = if first { 1.0 } else { -1.0 };
            let (slot_a, slot_b) = if first { (own, self.node_edges.slot[k]) } else { (self.node_edges.slot[k], own) };
            let (ca, cb) = (values.c(ja), values.c(jb));
            let delta = values.phi[jb] - values.phi[ja];
            if let Closure::Poisson { lambda, .. } = tp.closure {
                // Poisson row: lambda omega (phi_a - phi_b), signed.
                ra[pv] -= sign * lambda * omega * delta;
                if with_jacobian {
                    for (slot, d) in [(slot_a, lambda * omega), (slot_b, -lambda * omega)] {
                        if slot != NOT_FREE {
                            block[entry(pv, slot, pv)] += sign * d;
                        }
                    }
                }
            }
            for i in 0..self.n_species {
                let z = tp.charges[i];
                let d = omega * tp.diffusivities[i];
                let f = log_mean_flux(ca[i], cb[i], z, delta);
                let flux = d * f.flux;
                let d_phib = d * f.d_phi_b;
                // Species i's own row (if carried) and, under electroneutrality, the charge row.
                let all_rows = [(i, 1.0), (pv, z)];
                let rows = match (i < self.independent(), electroneutral) {
                    (true, true) => &all_rows[..],
                    (true, false) => &all_rows[..1],
                    (false, _) => &all_rows[1..],
                };
                for &(v, wt) in rows {
                    ra[v] += sign * wt * flux;
                    if !with_jacobian {
                        continue;
                    }
                    for (slot, d_c, c, d_phi) in [(slot_a, d * f.d_ca, ca, -d_phib), (slot_b, d * f.d_cb, cb, d_phib)] {
                        if slot == NOT_FREE {
                            continue;
                        }
                        self.concentration_derivatives(i, c, |w, dc_dw| block[entry(v, slot, w)] += sign * wt * d_c * dc_dw);
                        block[entry(v, slot, pv)] += sign * wt * d_phi;
                    }
                }
            }
        }
    }
}

/// `values` cut into the block rows of each node: node a's rows hold `row_ptr[a]..row_ptr[a + 1]`
/// node columns of `per_column` values each.
fn node_blocks<'v>(values: &'v mut [f64], row_ptr: &[u32], per_column: usize) -> Vec<&'v mut [f64]> {
    let mut blocks = Vec::with_capacity(row_ptr.len() - 1);
    let mut rest = values;
    for w in row_ptr.windows(2) {
        let (block, tail) = rest.split_at_mut((w[1] - w[0]) as usize * per_column);
        blocks.push(block);
        rest = tail;
    }
    blocks
}
