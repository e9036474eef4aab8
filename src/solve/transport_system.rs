//! The discrete Nernst–Planck system of the transport models on one mesh: residual, Jacobian
//! (node-block pattern) and the flat layout a device kernel assembles the Jacobian from.
//!
//! Scaled unknowns (see [`TransportParams`]): phi = F phi / RT, c_i = c_i / c_ref, lengths / L,
//! D_i / D_ref. Flux of species i: `N_i = -D_i (grad c_i + z_i c_i grad phi)`.
//!
//! Equations, per node j of the control-volume (edge) form of P1, for species i < n - 1 and for
//! charge (the last species is eliminated by electroneutrality,
//! `c_{n-1} = -(sum z_i c_i + X_j) / z_{n-1}` with X_j the fixed charge of a charged coating, and
//! its Nernst–Planck equation is replaced by the charge balance `sum_i z_i (NP_i)`):
//!
//! ```text
//!     R_i,j   = sum_k F^i_jk  - delta_{i,r} Gamma A_j f_j          = 0
//!     R_phi,j = sum_i z_i sum_k F^i_jk - z_r Gamma A_j f_j          = 0
//!     F^i_jk  = omega_jk D_i L(c_i,j, c_i,k) (mu_i,j - mu_i,k),    mu_i = ln c_i + z_i phi
//! ```
//!
//! with omega_jk the P1 Laplacian edge weights (of `-div(f grad)`, f = D_eff / D the transport
//! factor of porous coatings, 1 in open electrolyte), L the logarithmic mean (the log-mean flux of
//! [`crate::physics::edge_flux`]: zero at Boltzmann equilibria, finite at a depleted electrode,
//! the linear P1 operator for a binary salt's diffusion), r the reacting species, `f_j = exp(alpha_a n eta) - (c_r,j / c_r,bulk)^gamma exp(-alpha_c n eta)`,
//! `eta = E - phi_j`, and `Gamma = i0 L / (n F D_ref c_ref)`. Independent concentrations are
//! carried as logarithms `u_i = ln c_i`, so no iterate can be negative; nothing is clipped. Bulk
//! nodes hold the bulk concentrations and phi = 0; other boundaries have zero normal flux.
//! Scaffold reactions (the volumetric `a i0` of an equipotential porous electrode lumped at its
//! nodes, and resolved scaffold surfaces) are further `Gamma A_j f_j` terms with their equivalent
//! areas A_j. V_j is the pore volume `sum eps V / 4`; under Poisson the space charge is
//! `V_j (sum z_i c_i + X_j)`. A resistive scaffold adds its solid potential as one more unknown
//! per node, with an electron balance row (see [`SolidField`]).
//! Under the Poisson closure every species is independent and the charge row is Poisson's
//! (see [`Closure::Poisson`]). A time step adds `V_j (a0 c_ij - history_ij)` to the species rows.
//! Galvanostatic operation adds E and `sum_j Gamma A_j f_j = I`, eliminated per Newton step by the
//! driver in [`super::transport`] with two solves of the Jacobian (as in the secondary model).

use super::device_jacobian::JacobianLayout;
use super::newton::Evaluation;
use super::transport::{Closure, TransportParams};
use super::transport_fluxes::NodeEdges;
use crate::fem::edges::Edges;
use crate::fem::CsrMatrix;
use crate::physics::kinetics::Reaction;

/// Node-block sparsity: the node pattern expanded to m x m blocks, node-interleaved unknowns.
pub(super) struct BlockPattern {
    pub(super) node: CsrMatrix,
    pub(super) m: usize,
}

impl BlockPattern {
    pub(super) fn matrix(&self) -> CsrMatrix {
        let m = self.m;
        let mut row_ptr = vec![0u32];
        let mut col_idx = Vec::with_capacity(self.node.nnz() * m * m);
        for a in 0..self.node.n {
            let cols = &self.node.col_idx[self.node.row_ptr[a] as usize..self.node.row_ptr[a + 1] as usize];
            for _ in 0..m {
                for &b in cols {
                    col_idx.extend((0..m as u32).map(|w| b * m as u32 + w));
                }
                row_ptr.push(col_idx.len() as u32);
            }
        }
        let values = vec![0.0; col_idx.len()];
        CsrMatrix { n: self.node.n * m, row_ptr, col_idx, values }
    }

    /// Position of entry ((a, v), (b, w)) in the block matrix values.
    pub(super) fn index(&self, a: usize, v: usize, b: usize, w: usize) -> usize {
        let p = self.node.find(a, b as u32).expect("block entry outside the node pattern");
        let lo = self.node.row_ptr[a] as usize;
        let deg = self.node.row_ptr[a + 1] as usize - lo;
        lo * self.m * self.m + v * deg * self.m + (p - lo) * self.m + w
    }
}

/// The discrete tertiary problem on one mesh.
pub(super) struct Problem<'a> {
    pub(super) tp: &'a TransportParams,
    pub(super) edges: &'a Edges,
    /// Free-node index of each mesh node (u32::MAX for bulk nodes).
    pub(super) free_of: Vec<u32>,
    /// Reactions as (free index, scaled area): the electrode nodes, then the scaffold sites
    /// (their equivalent areas).
    pub(super) electrode: Vec<(usize, f64)>,
    /// How many of `electrode` are electrode nodes (the rest are scaffold sites).
    pub(super) n_electrode: usize,
    pub(super) pattern: BlockPattern,
    /// The edges at each free node (row-owned assembly, host and device).
    pub(super) node_edges: NodeEdges,
    pub(super) n_species: usize,
    /// Lumped (scaled) pore volume of each free node.
    pub(super) volume: Vec<f64>,
    /// Fixed charge X_j / c_ref of each free node (charged layers).
    pub(super) fixed: Vec<f64>,
    /// The resistive solid of a porous-electrode scaffold (one more unknown per node).
    pub(super) solid: Option<SolidField>,
}

/// The solid potential phi_s of a scaffold of finite conductivity: an unknown at every free node
/// (index `independent()`, just before phi), free on the scaffold off the electrode and held at
/// E elsewhere (row `phi_s - E = 0`). Its row is the electron balance
/// `sum_k w_jk (phi_s,j - phi_s,k) + z_r sum_sites Gamma A f = 0` with `w = omega sigma_eff /
/// (F^2 D_ref c_ref / RT)` (the charge row's current unit), and the sites on it react with
/// `eta = phi_s,j - phi_j`.
pub(super) struct SolidField {
    /// Scaled solid weight of each edge (aligned with `edges.pairs`; 0 off the scaffold).
    pub(super) weights: Vec<f64>,
    /// Per free node: whether phi_s is free there.
    pub(super) free: Vec<bool>,
    /// Per reaction (aligned with `electrode`): whether it reacts against phi_s (else E).
    pub(super) on_solid: Vec<bool>,
}

impl Problem<'_> {
    /// Unknowns per node: the independent log-concentrations, phi_s (with a resistive scaffold),
    /// then phi.
    pub(super) fn m(&self) -> usize {
        self.independent() + 1 + usize::from(self.solid.is_some())
    }

    /// Index of phi_s among a node's unknowns (with a resistive scaffold).
    pub(super) fn solid_var(&self) -> usize {
        self.independent()
    }

    /// Species carried as unknowns (all but the eliminated one under electroneutrality).
    pub(super) fn independent(&self) -> usize {
        match self.tp.closure {
            Closure::Electroneutral => self.n_species - 1,
            Closure::Poisson { .. } => self.n_species,
        }
    }

    /// Index of phi among a node's unknowns.
    pub(super) fn phi_var(&self) -> usize {
        self.m() - 1
    }

    /// Whether every concentration of `x` is positive: always for the log unknowns; the one
    /// eliminated by electroneutrality can turn negative in a charged layer (a trial step there
    /// is too long).
    pub(super) fn admissible(&self, x: &[f64]) -> bool {
        if self.tp.closure != Closure::Electroneutral || self.fixed.iter().all(|&q| q == 0.0) {
            return true;
        }
        let n = self.n_species;
        let m = self.m();
        let zl = self.tp.charges[n - 1];
        self.fixed.iter().enumerate().all(|(a, &q)| {
            let sum: f64 = (0..n - 1).map(|i| self.tp.charges[i] * x[a * m + i].exp()).sum();
            -(sum + q) / zl > 0.0
        })
    }

    /// The problem flattened for a device Jacobian kernel (see [`super::device_jacobian`]).
    pub(super) fn device_layout(&self) -> JacobianLayout {
        let tp = self.tp;
        let n_free = self.volume.len();
        let pattern = &self.pattern.node;
        let edges = &self.node_edges;
        let (mut nodes, mut neighbours, mut weights, mut solid_weights) =
            (Vec::with_capacity(n_free), Vec::with_capacity(edges.edge.len()), Vec::new(), Vec::new());
        for a in 0..n_free {
            for k in edges.of(a) {
                let e = edges.edge[k] as usize;
                let (ja, jb) = self.edges.pairs[e];
                let other = if self.free_of[ja as usize] as usize == a { jb } else { ja };
                neighbours.push([self.free_of[other as usize], edges.slot[k]]);
                weights.push(self.edges.weights[e]);
                solid_weights.push(self.solid.as_ref().map_or(0.0, |s| s.weights[e]));
            }
            let (lo, hi) = (pattern.row_ptr[a], pattern.row_ptr[a + 1]);
            let entries = edges.of(a);
            nodes.push([entries.start as u32, entries.end as u32, lo, hi - lo, edges.own_slot[a]]);
        }
        let (mut area, mut solid_area) = (vec![0.0; n_free], vec![0.0; n_free]);
        for (k, &(a, ar)) in self.electrode.iter().enumerate() {
            if self.solid.as_ref().is_some_and(|s| s.on_solid[k]) {
                solid_area[a] += ar;
            } else {
                area[a] += ar;
            }
        }
        let m = self.m();
        JacobianLayout {
            m,
            independent: self.independent(),
            poisson_lambda: match tp.closure {
                Closure::Poisson { lambda, .. } => Some(lambda),
                Closure::Electroneutral => None,
            },
            stern_lambda: match tp.closure {
                Closure::Poisson { stern, .. } => stern,
                Closure::Electroneutral => None,
            },
            charges: tp.charges.clone(),
            diffusivities: tp.diffusivities.clone(),
            bulk: tp.bulk.clone(),
            reactions: tp.reactions.clone(),
            nodes,
            neighbours,
            weights,
            area,
            volume: self.volume.clone(),
            fixed: self.fixed.clone(),
            solid: self.solid.is_some(),
            solid_weights,
            solid_area,
            solid_free: self.solid.as_ref().map_or_else(|| vec![false; n_free], |s| s.free.clone()),
            nnz: pattern.nnz() * m * m,
        }
    }

    /// Residual and (optionally) Jacobian and d(residual)/dE; returns also the total reaction
    /// sum_j Gamma A_j f_j and its derivatives (row d/dx, scalar d/dE).
    pub(super) fn evaluate_with(&self, x: &[f64], e: f64, jac: Option<&mut CsrMatrix>, acc: Option<&Accumulation>) -> Evaluation {
        self.evaluate_parts(x, e, jac, acc, true)
    }

    /// What Newton needs besides the residual when a device assembles the residual: d(residual)/dE
    /// and the total reaction with its derivatives. The returned `residual` lacks the edge fluxes
    /// and the accumulation (it is not a residual; do not use it).
    pub(super) fn constraint_terms(&self, x: &[f64], e: f64) -> Evaluation {
        self.evaluate_parts(x, e, None, None, false)
    }

    fn evaluate_parts(
        &self,
        x: &[f64],
        e: f64,
        jac: Option<&mut CsrMatrix>,
        acc: Option<&Accumulation>,
        with_fluxes: bool,
    ) -> Evaluation {
        let n = self.n_species;
        let m = self.m();
        let pv = self.phi_var();
        let tp = self.tp;
        let mut r = vec![0.0; x.len()];
        let mut jac = jac;
        if let Some(j) = jac.as_deref_mut() {
            j.values.iter_mut().for_each(|v| *v = 0.0);
        }
        let add = |jac: &mut Option<&mut CsrMatrix>, a: usize, v: usize, b: usize, w: usize, val: f64| {
            if let Some(j) = jac.as_deref_mut() {
                let idx = self.pattern.index(a, v, b, w);
                j.values[idx] += val;
            }
        };
        if with_fluxes {
            self.add_edge_fluxes(x, &mut r, jac.as_deref_mut().map(|j| &mut j.values[..]));
        }
        if let Some(acc) = acc {
            // Time derivative of the independent species: V_j (a0 c - history).
            let k = self.independent();
            for (a, &vol) in self.volume.iter().enumerate() {
                for i in 0..k {
                    let c = x[a * m + i].exp();
                    r[a * m + i] += vol * (acc.a0 * c - acc.history[a * k + i]);
                    add(&mut jac, a, i, a, i, vol * acc.a0 * c);
                }
            }
        }
        let mut d_de = vec![0.0; x.len()];
        if let Closure::Poisson { stern, .. } = tp.closure {
            // Space charge: -V_j (sum_i z_i c_i + X_j) at each free node.
            for (a, &vol) in self.volume.iter().enumerate() {
                r[a * m + pv] -= vol * self.fixed[a];
                for i in 0..n {
                    let c = x[a * m + i].exp();
                    r[a * m + pv] -= vol * tp.charges[i] * c;
                    add(&mut jac, a, pv, a, i, -vol * tp.charges[i] * c);
                }
            }
            if let Some(stern) = stern {
                // Stern layer: Lambda_S A_j (phi_j - E) in the Poisson row; the reaction follows.
                for &(a, area) in &self.electrode {
                    r[a * m + pv] += stern * area * (x[a * m + pv] - e);
                    d_de[a * m + pv] -= stern * area;
                    add(&mut jac, a, pv, a, pv, stern * area);
                }
            } else {
                // Blocking electrode held at phi = E: its Poisson row becomes phi - E = 0.
                for &(a, _) in &self.electrode {
                    pin_to_electrode(a * m + pv, x, e, &mut r, &mut d_de, &mut jac);
                    add(&mut jac, a, pv, a, pv, 1.0);
                }
                return Evaluation { residual: r, d_de, total: 0.0, total_dx: Vec::new(), total_de: 0.0 };
            }
        }
        if let Some(solid) = &self.solid {
            self.solid_rows(solid, x, e, &mut r, &mut d_de, &mut jac, with_fluxes);
        }
        // Electrode reactions; under electroneutrality they also leave the charge row.
        let mut border = Border { d_de, total: 0.0, total_dx: Vec::new(), total_de: 0.0 };
        for (k, &(a, area)) in self.electrode.iter().enumerate() {
            for reaction in &tp.reactions {
                self.reaction_rows(reaction, k, a, area, x, e, &mut r, &mut border, &mut jac);
            }
        }
        let Border { d_de, total, total_dx, total_de } = border;
        Evaluation { residual: r, d_de, total, total_dx, total_de }
    }
}

/// The galvanostatic border terms accumulated over the reactions: dR/dE, the total reaction and
/// its derivatives.
struct Border {
    d_de: Vec<f64>,
    total: f64,
    total_dx: Vec<(usize, f64)>,
    total_de: f64,
}

/// A reaction's scaled rate `f` at node state (eta, u_r = ln c_r) with df/deta and df/du_r:
/// `f = exp(alpha_a n eta) - (c_r / c_r,bulk)^gamma exp(-alpha_c n eta)` (the linear law has no
/// concentration dependence).
fn reaction_rate(reaction: &Reaction, bulk: f64, eta: f64, u_r: f64) -> (f64, f64, f64) {
    let law = &reaction.law;
    if law.linear {
        return (law.current(eta), law.slope(eta), 0.0);
    }
    let ratio = u_r.exp() / bulk;
    let fa = (law.anodic * eta).exp();
    let fc = ratio.powf(reaction.cathodic_order) * (-law.cathodic * eta).exp();
    // d f / d u_r = -gamma fc (since d ratio^gamma / du = gamma ratio^gamma).
    (fa - fc, law.anodic * fa + law.cathodic * fc, -reaction.cathodic_order * fc)
}

impl Problem<'_> {
    /// One reaction at reaction site `k` (free node `a`, scaled area `area`): it leaves its
    /// species' row (and the charge row under electroneutrality), and against a resistive
    /// scaffold's phi_s the solid gains it.
    #[allow(clippy::too_many_arguments)]
    fn reaction_rows(
        &self,
        reaction: &Reaction,
        k: usize,
        a: usize,
        area: f64,
        x: &[f64],
        e: f64,
        r: &mut [f64],
        border: &mut Border,
        jac: &mut Option<&mut CsrMatrix>,
    ) {
        let tp = self.tp;
        let m = self.m();
        let (pv, sv) = (self.phi_var(), self.solid_var());
        let rr = reaction.species.unwrap_or(0);
        // Charge carried into the charge row (electroneutrality); Poisson rows take none.
        let zr = if tp.closure == Closure::Electroneutral { tp.charges[rr] } else { 0.0 };
        let mut add = |v: usize, w: usize, val: f64| {
            if let Some(j) = jac.as_deref_mut() {
                j.values[self.pattern.index(a, v, a, w)] += val;
            }
        };
        let base = a * m;
        // Against the solid potential (a site of a resistive scaffold) or the electrode's.
        let on_solid = self.solid.as_ref().is_some_and(|s| s.on_solid[k]);
        let eta = if on_solid { x[base + sv] } else { e } - x[base + pv];
        let (f, df_deta, df_du) = reaction_rate(reaction, tp.bulk[rr], eta, x[base + rr]);
        let g = reaction.gamma * area;
        let rate = g * f;
        border.total += rate;
        r[base + rr] -= rate;
        r[base + pv] -= zr * rate;
        // d rate / d phi = -g df_deta; / d u_r = g df_du; / dE = g df_deta.
        add(rr, pv, g * df_deta);
        add(rr, rr, -g * df_du);
        add(pv, pv, zr * g * df_deta);
        add(pv, rr, -zr * g * df_du);
        border.total_dx.push((base + pv, -g * df_deta));
        border.total_dx.push((base + rr, g * df_du));
        if on_solid {
            // The solid loses the current the electrolyte gains: + z_r rate in its row.
            let zs = tp.charges[rr];
            r[base + sv] += zs * rate;
            add(rr, sv, -g * df_deta);
            add(pv, sv, -zr * g * df_deta);
            add(sv, sv, zs * g * df_deta);
            add(sv, pv, -zs * g * df_deta);
            add(sv, rr, zs * g * df_du);
            border.total_dx.push((base + sv, g * df_deta));
        } else {
            border.d_de[base + rr] -= g * df_deta;
            border.d_de[base + pv] -= zr * g * df_deta;
            border.total_de += g * df_deta;
        }
    }
}

impl Problem<'_> {
    /// The solid rows: edge conduction (unless only the constraint terms are wanted) and
    /// `phi_s - E = 0` where phi_s is not free. Reaction terms follow in the caller.
    #[allow(clippy::too_many_arguments)]
    fn solid_rows(
        &self,
        solid: &SolidField,
        x: &[f64],
        e: f64,
        r: &mut [f64],
        d_de: &mut [f64],
        jac: &mut Option<&mut CsrMatrix>,
        with_fluxes: bool,
    ) {
        let m = self.m();
        let sv = self.solid_var();
        let add = |jac: &mut Option<&mut CsrMatrix>, a: usize, b: usize, val: f64| {
            if let Some(j) = jac.as_deref_mut() {
                let idx = self.pattern.index(a, sv, b, sv);
                j.values[idx] += val;
            }
        };
        if with_fluxes {
            for (&(ja, jb), &w) in self.edges.pairs.iter().zip(&solid.weights) {
                let (fa, fb) = (self.free_of[ja as usize], self.free_of[jb as usize]);
                if w == 0.0 || fa == u32::MAX || fb == u32::MAX {
                    continue;
                }
                let (fa, fb) = (fa as usize, fb as usize);
                let g = w * (x[fa * m + sv] - x[fb * m + sv]);
                r[fa * m + sv] += g;
                r[fb * m + sv] -= g;
                add(jac, fa, fa, w);
                add(jac, fa, fb, -w);
                add(jac, fb, fb, w);
                add(jac, fb, fa, -w);
            }
        }
        for (a, &free) in solid.free.iter().enumerate() {
            if free {
                continue;
            }
            pin_to_electrode(a * m + sv, x, e, r, d_de, jac);
            add(jac, a, a, 1.0);
        }
    }
}

/// Replaces unknown `k`'s row by `x_k - E = 0`: residual, d/dE and a cleared Jacobian row (the
/// caller puts the 1 on the diagonal).
fn pin_to_electrode(k: usize, x: &[f64], e: f64, r: &mut [f64], d_de: &mut [f64], jac: &mut Option<&mut CsrMatrix>) {
    r[k] = x[k] - e;
    d_de[k] = -1.0;
    if let Some(j) = jac.as_deref_mut() {
        let (lo, hi) = (j.row_ptr[k] as usize, j.row_ptr[k + 1] as usize);
        j.values[lo..hi].iter_mut().for_each(|v| *v = 0.0);
    }
}

/// Accumulation term of an implicit time step for the species rows:
/// `V_j (a0 c_ij - history_ij)` with `a0` = leading BDF coefficient / dt and `history` the
/// combination of earlier concentrations / dt (zero for a steady solve).
pub struct Accumulation {
    pub a0: f64,
    /// Indexed by free node * independent species count + species.
    pub history: Vec<f64>,
}

/// The scaled current `sum_r Gamma_r A_j f_r` at each reaction site (electrode nodes, then
/// scaffold sites).
pub(super) fn electrode_fluxes(p: &Problem, x: &[f64], e: f64) -> Vec<f64> {
    let tp = p.tp;
    let m = p.m();
    p.electrode
        .iter()
        .enumerate()
        .map(|(k, &(a, area))| {
            let on_solid = p.solid.as_ref().is_some_and(|s| s.on_solid[k]);
            let eta = if on_solid { x[a * m + p.solid_var()] } else { e } - x[a * m + m - 1];
            tp.reactions
                .iter()
                .map(|reaction| {
                    let rr = reaction.species.unwrap_or(0);
                    reaction.gamma * area * reaction_rate(reaction, tp.bulk[rr], eta, x[a * m + rr]).0
                })
                .sum()
        })
        .collect()
}
