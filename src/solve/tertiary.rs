//! Tertiary current distribution: Nernst–Planck for every species with electroneutrality and
//! concentration-dependent Butler–Volmer kinetics, steady state, solved by damped Newton on the
//! fully coupled system.
//!
//! Scaled unknowns (see [`TransportParams`]): phi = F phi / RT, c_i = c_i / c_ref, lengths / L,
//! D_i / D_ref. Flux of species i: `N_i = -D_i (grad c_i + z_i c_i grad phi)`.
//!
//! Equations, per node j of the control-volume (edge) form of P1, for species i < n - 1 and for
//! charge (the last species is eliminated by electroneutrality, `c_{n-1} = -sum z_i c_i / z_{n-1}`,
//! and its Nernst–Planck equation is replaced by the charge balance `sum_i z_i (NP_i)`):
//!
//! ```text
//!     R_i,j   = sum_k F^i_jk  - delta_{i,r} Gamma A_j f_j          = 0
//!     R_phi,j = sum_i z_i sum_k F^i_jk - z_r Gamma A_j f_j          = 0
//!     F^i_jk  = omega_jk D_i [B(z_i (phi_k - phi_j)) c_i,j - B(-z_i (phi_k - phi_j)) c_i,k]
//! ```
//!
//! with omega_jk the P1 Laplacian edge weights, B the Bernoulli function (Scharfetter–Gummel /
//! exponential fitting on edges: exact for 1D drift-diffusion, stable at any migration strength),
//! r the reacting species, `f_j = exp(alpha_a n eta) - (c_r,j / c_r,bulk)^gamma exp(-alpha_c n eta)`,
//! `eta = E - phi_j`, and `Gamma = i0 L / (n F D_ref c_ref)`. Independent concentrations are
//! carried as logarithms `u_i = ln c_i`, so no iterate can be negative; nothing is clipped. Bulk
//! nodes hold the bulk concentrations and phi = 0; other boundaries have zero normal flux.
//! Galvanostatic operation adds E and `sum_j Gamma A_j f_j = I`, eliminated per Newton step with
//! two solves of the Jacobian (as in the secondary model).

use super::device_jacobian::{JacobianLayout, NOT_FREE};
use super::linear::{GeneralLinearSolver, LinearError, LinearParams};
use super::primary::Drive;
use super::secondary::NewtonParams;
use super::system::PotentialSystem;
use crate::error::Error;
use crate::fem::edges::Edges;
use crate::fem::CsrMatrix;
use crate::physics::bernoulli::{bernoulli, bernoulli_derivative};
use crate::physics::kinetics::ButlerVolmer;

/// Scaled transport and kinetic parameters.
#[derive(Debug, Clone)]
pub struct TransportParams {
    /// Charge numbers z_i.
    pub charges: Vec<f64>,
    /// D_i / D_ref.
    pub diffusivities: Vec<f64>,
    /// Bulk concentrations c_i / c_ref.
    pub bulk: Vec<f64>,
    /// Index of the reacting species (never the last).
    pub reacting: usize,
    /// Butler–Volmer law (alpha n products).
    pub law: ButlerVolmer,
    /// Cathodic reaction order gamma.
    pub reaction_order: f64,
    /// Gamma = i0 L / (n F D_ref c_ref).
    pub gamma: f64,
    /// How the potential is determined.
    pub closure: Closure,
}

/// The equation that closes the system for the potential.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Closure {
    /// Electroneutrality: the last species is eliminated and its Nernst–Planck equation is
    /// replaced by the charge balance (tertiary model).
    Electroneutral,
    /// Poisson: `-Lambda lap phi = sum_i z_i c_i` with `Lambda = eps RT / (F^2 c_ref L^2)`; every
    /// species is independent (pnp model). The electrode is either blocking (`stern: None`: no
    /// reaction, phi = E on it) or reacting through a Stern layer (`stern: Some(Lambda_S)`).
    ///
    /// Reacting electrode (Frumkin–Butler–Volmer): the electrode nodes are the reaction plane;
    /// the compact (Stern) layer between it and the metal is a capacitor C_S, so Gauss's law gives
    /// the Robin condition `eps dphi/dn = C_S (E - phi)` (n out of the electrolyte), which adds
    /// `Lambda_S A_j (phi_j - E)` to the Poisson row with `Lambda_S = C_S RT / (F^2 c_ref L)`.
    /// The reaction `Gamma A_j f_j` leaves the reacting species' row with the same
    /// `eta_j = E - phi_j` and `c_r,j` at the reaction plane as the tertiary law: the diffuse
    /// layer's effect on the rate (the Frumkin correction) follows from the fields themselves.
    Poisson { lambda: f64, stern: Option<f64> },
}

impl Closure {
    /// Whether the electrode reacts (electroneutral, or Poisson with a Stern layer).
    pub fn reacting(&self) -> bool {
        !matches!(self, Closure::Poisson { stern: None, .. })
    }
}

/// Result of a tertiary solve, scaled.
#[derive(Debug, Clone)]
pub struct TransportSolution {
    /// phi F / RT at every node.
    pub phi: Vec<f64>,
    /// c_i / c_ref per species at every node.
    pub concentrations: Vec<Vec<f64>>,
    /// E F / RT.
    pub electrode_potential: f64,
    /// Gamma A_j f_j at each electrode node (species flux units; anodic positive).
    pub electrode_reaction: Vec<f64>,
    pub linear_iterations: u32,
    pub nonlinear_iterations: u32,
    pub residual_history: Vec<f64>,
    /// Continuation steps the steady solve needed (0: Newton converged from the bulk state).
    pub continuation_steps: u32,
}

/// Node-block sparsity: the node pattern expanded to m x m blocks, node-interleaved unknowns.
struct BlockPattern {
    node: CsrMatrix,
    m: usize,
}

impl BlockPattern {
    fn matrix(&self) -> CsrMatrix {
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
    fn index(&self, a: usize, v: usize, b: usize, w: usize) -> usize {
        let p = self.node.find(a, b as u32).expect("block entry outside the node pattern");
        let lo = self.node.row_ptr[a] as usize;
        let deg = self.node.row_ptr[a + 1] as usize - lo;
        lo * self.m * self.m + v * deg * self.m + (p - lo) * self.m + w
    }
}

/// The discrete tertiary problem on one mesh.
struct Problem<'a> {
    tp: &'a TransportParams,
    edges: &'a Edges,
    /// Free-node index of each mesh node (u32::MAX for bulk nodes).
    free_of: Vec<u32>,
    /// Electrode nodes as (free index, scaled area).
    electrode: Vec<(usize, f64)>,
    pattern: BlockPattern,
    n_species: usize,
    /// Lumped (scaled) control volume of each free node (Poisson closure).
    volume: Vec<f64>,
}

/// Values of all species at one node and the derivatives of each concentration with respect to
/// the node's unknowns (dc_i / du_w).
struct NodeState {
    c: Vec<f64>,
    dc: Vec<Vec<(usize, f64)>>,
    phi: f64,
}

impl Problem<'_> {
    /// Unknowns per node: the independent log-concentrations, then phi.
    fn m(&self) -> usize {
        self.independent() + 1
    }

    /// Species carried as unknowns (all but the eliminated one under electroneutrality).
    fn independent(&self) -> usize {
        match self.tp.closure {
            Closure::Electroneutral => self.n_species - 1,
            Closure::Poisson { .. } => self.n_species,
        }
    }

    /// Index of phi among a node's unknowns.
    fn phi_var(&self) -> usize {
        self.m() - 1
    }

    fn node_state(&self, x: &[f64], node: usize) -> NodeState {
        let n = self.n_species;
        let tp = self.tp;
        match self.free_of[node] {
            u32::MAX => NodeState { c: tp.bulk.clone(), dc: vec![Vec::new(); n], phi: 0.0 },
            f => {
                let m = self.m();
                let base = f as usize * m;
                let mut c = vec![0.0; n];
                let mut dc = vec![Vec::new(); n];
                for i in 0..self.independent() {
                    c[i] = x[base + i].exp();
                    dc[i].push((i, c[i]));
                }
                if self.tp.closure == Closure::Electroneutral {
                    let zl = tp.charges[n - 1];
                    for i in 0..n - 1 {
                        c[n - 1] -= tp.charges[i] * c[i] / zl;
                        dc[n - 1].push((i, -tp.charges[i] * c[i] / zl));
                    }
                }
                NodeState { c, dc, phi: x[base + m - 1] }
            }
        }
    }

    /// The problem flattened for a device Jacobian kernel (see [`super::device_jacobian`]).
    fn device_layout(&self) -> JacobianLayout {
        let tp = self.tp;
        let n_free = self.volume.len();
        let mut lists: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n_free];
        for (&(ja, jb), &omega) in self.edges.pairs.iter().zip(&self.edges.weights) {
            let (fa, fb) = (self.free_of[ja as usize], self.free_of[jb as usize]);
            if fa != u32::MAX {
                lists[fa as usize].push((fb, omega));
            }
            if fb != u32::MAX {
                lists[fb as usize].push((fa, omega));
            }
        }
        let pattern = &self.pattern.node;
        let (mut nodes, mut neighbours, mut weights) = (Vec::with_capacity(n_free), Vec::new(), Vec::new());
        for (a, list) in lists.iter().enumerate() {
            let lo = pattern.row_ptr[a] as usize;
            let slot = |b: u32| (pattern.find(a, b).expect("neighbour outside the node pattern") - lo) as u32;
            let start = neighbours.len() as u32;
            for &(b, omega) in list {
                neighbours.push([b, if b == u32::MAX { NOT_FREE } else { slot(b) }]);
                weights.push(omega);
            }
            let deg = pattern.row_ptr[a + 1] - pattern.row_ptr[a];
            nodes.push([start, neighbours.len() as u32, lo as u32, deg, slot(a as u32)]);
        }
        let mut area = vec![0.0; n_free];
        for &(a, ar) in &self.electrode {
            area[a] += ar;
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
            reacting: tp.reacting,
            anodic: tp.law.anodic,
            cathodic: tp.law.cathodic,
            linear_law: tp.law.linear,
            reaction_order: tp.reaction_order,
            gamma: tp.gamma,
            nodes,
            neighbours,
            weights,
            area,
            volume: self.volume.clone(),
            nnz: pattern.nnz() * m * m,
        }
    }

    /// Residual and (optionally) Jacobian and d(residual)/dE; returns also the total reaction
    /// sum_j Gamma A_j f_j and its derivatives (row d/dx, scalar d/dE).
    fn evaluate_with(&self, x: &[f64], e: f64, jac: Option<&mut CsrMatrix>, acc: Option<&Accumulation>) -> Evaluation {
        let n = self.n_species;
        let m = self.m();
        let pv = self.phi_var();
        let electroneutral = self.tp.closure == Closure::Electroneutral;
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
        for (&(ja, jb), &omega) in self.edges.pairs.iter().zip(&self.edges.weights) {
            let (fa, fb) = (self.free_of[ja as usize], self.free_of[jb as usize]);
            if fa == u32::MAX && fb == u32::MAX {
                continue;
            }
            let sa = self.node_state(x, ja as usize);
            let sb = self.node_state(x, jb as usize);
            let delta = sb.phi - sa.phi;
            if let Closure::Poisson { lambda, .. } = tp.closure {
                // Poisson rows: lambda omega (phi_a - phi_b) at a, its negative at b.
                let g = lambda * omega * (sa.phi - sb.phi);
                for (free, sign) in [(fa, 1.0), (fb, -1.0)] {
                    if free == u32::MAX {
                        continue;
                    }
                    r[free as usize * m + pv] += sign * g;
                    if fa != u32::MAX {
                        add(&mut jac, free as usize, pv, fa as usize, pv, sign * lambda * omega);
                    }
                    if fb != u32::MAX {
                        add(&mut jac, free as usize, pv, fb as usize, pv, -sign * lambda * omega);
                    }
                }
            }
            for i in 0..n {
                let z = tp.charges[i];
                let d = omega * tp.diffusivities[i];
                let (bp, bm) = (bernoulli(z * delta), bernoulli(-z * delta));
                let flux = d * (bp * sa.c[i] - bm * sb.c[i]);
                let d_ca = d * bp;
                let d_cb = -d * bm;
                let d_phib = d * z * (bernoulli_derivative(z * delta) * sa.c[i] + bernoulli_derivative(-z * delta) * sb.c[i]);
                // Rows at a (+flux) and b (-flux): species i (if independent) and charge.
                // Species i's own row (if independent) and, under electroneutrality, the charge row.
                let all_rows = [(i, 1.0), (pv, z)];
                let rows = match (i < self.independent(), electroneutral) {
                    (true, true) => &all_rows[..],
                    (true, false) => &all_rows[..1],
                    (false, _) => &all_rows[1..],
                };
                for (free, sign) in [(fa, 1.0), (fb, -1.0)] {
                    if free == u32::MAX {
                        continue;
                    }
                    let row = free as usize;
                    for &(v, wt) in rows {
                        r[row * m + v] += sign * wt * flux;
                        if jac.is_none() {
                            continue;
                        }
                        for (other, fother, dcv, st) in [(ja, fa, d_ca, &sa), (jb, fb, d_cb, &sb)] {
                            if fother == u32::MAX {
                                continue;
                            }
                            for &(w, dcdw) in &st.dc[i] {
                                add(&mut jac, row, v, fother as usize, w, sign * wt * dcv * dcdw);
                            }
                            let dphi = if other == jb { d_phib } else { -d_phib };
                            add(&mut jac, row, v, fother as usize, pv, sign * wt * dphi);
                        }
                    }
                }
            }
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
            // Space charge: -V_j sum_i z_i c_i at each free node.
            for (a, &vol) in self.volume.iter().enumerate() {
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
                    r[a * m + pv] = x[a * m + pv] - e;
                    d_de[a * m + pv] = -1.0;
                    if let Some(j) = jac.as_deref_mut() {
                        let lo = j.row_ptr[a * m + pv] as usize;
                        let hi = j.row_ptr[a * m + pv + 1] as usize;
                        j.values[lo..hi].iter_mut().for_each(|v| *v = 0.0);
                    }
                    add(&mut jac, a, pv, a, pv, 1.0);
                }
                return Evaluation { residual: r, d_de, total: 0.0, total_dx: Vec::new(), total_de: 0.0 };
            }
        }
        // Electrode reaction; under electroneutrality it also leaves the charge row.
        let mut total = 0.0;
        let mut total_dx = vec![(0usize, 0.0f64); 0];
        let mut total_de = 0.0;
        let rr = tp.reacting;
        // Charge carried into the charge row (electroneutrality); Poisson rows take none.
        let zr = if electroneutral { tp.charges[rr] } else { 0.0 };
        for &(a, area) in &self.electrode {
            let base = a * m;
            let phi = x[base + pv];
            let c = x[base + rr].exp();
            let eta = e - phi;
            let ratio = c / tp.bulk[rr];
            let (fa, fc) = if tp.law.linear {
                (tp.law.current(eta), 0.0)
            } else {
                ((tp.law.anodic * eta).exp(), ratio.powf(tp.reaction_order) * (-tp.law.cathodic * eta).exp())
            };
            let f = if tp.law.linear { fa } else { fa - fc };
            let df_deta = if tp.law.linear { tp.law.slope(eta) } else { tp.law.anodic * fa + tp.law.cathodic * fc };
            // d f / d u_r = -gamma fc (since d ratio^gamma / du = gamma ratio^gamma).
            let df_du = if tp.law.linear { 0.0 } else { -tp.reaction_order * fc };
            let g = tp.gamma * area;
            let reaction = g * f;
            total += reaction;
            r[base + rr] -= reaction;
            r[base + pv] -= zr * reaction;
            // d reaction / d phi = -g df_deta; / d u_r = g df_du; / dE = g df_deta.
            add(&mut jac, a, rr, a, pv, g * df_deta);
            add(&mut jac, a, rr, a, rr, -g * df_du);
            add(&mut jac, a, pv, a, pv, zr * g * df_deta);
            add(&mut jac, a, pv, a, rr, -zr * g * df_du);
            d_de[base + rr] -= g * df_deta;
            d_de[base + pv] -= zr * g * df_deta;
            total_dx.push((base + pv, -g * df_deta));
            total_dx.push((base + rr, g * df_du));
            total_de += g * df_deta;
        }
        Evaluation { residual: r, d_de, total, total_dx, total_de }
    }
}

struct Evaluation {
    residual: Vec<f64>,
    d_de: Vec<f64>,
    total: f64,
    total_dx: Vec<(usize, f64)>,
    total_de: f64,
}

/// Accumulation term of an implicit time step for the species rows:
/// `V_j (a0 c_ij - history_ij)` with `a0` = leading BDF coefficient / dt and `history` the
/// combination of earlier concentrations / dt (zero for a steady solve).
pub struct Accumulation {
    pub a0: f64,
    /// Indexed by free node * independent species count + species.
    pub history: Vec<f64>,
}

/// A discrete transport problem with its Newton solver state.
pub struct Transport<'a> {
    problem: Problem<'a>,
    free: Vec<u32>,
    jac: CsrMatrix,
    /// Whether the solver's device assembler holds this problem's layout.
    device_prepared: bool,
}

/// Newton iterate: the unknowns (log-concentrations and phi per free node) and E.
#[derive(Debug, Clone)]
pub struct State {
    pub x: Vec<f64>,
    pub e: f64,
}

/// What one Newton solve did.
pub struct NewtonStats {
    pub iterations: u32,
    pub linear_iterations: u32,
    pub history: Vec<f64>,
}

impl<'a> Transport<'a> {
    /// Sets up the problem on a mesh.
    pub fn new(sys: &'a PotentialSystem, edges: &'a Edges, tp: &'a TransportParams) -> Self {
        let n = tp.charges.len();
        let free = sys.free_nodes(&[&sys.bulk]);
        let mut free_of = vec![u32::MAX; sys.n()];
        for (i, &f) in free.iter().enumerate() {
            free_of[f as usize] = i as u32;
        }
        let (node_pattern, _) = sys.k.split(&free);
        let electrode: Vec<(usize, f64)> =
            sys.electrode.iter().zip(&sys.electrode_area).map(|(&nd, &a)| (free_of[nd as usize] as usize, a)).collect();
        let volume: Vec<f64> = free.iter().map(|&f| sys.node_volume[f as usize]).collect();
        let m = match tp.closure {
            Closure::Electroneutral => n,
            Closure::Poisson { .. } => n + 1,
        };
        let problem =
            Problem { tp, edges, free_of, electrode, pattern: BlockPattern { node: node_pattern, m }, n_species: n, volume };
        let jac = problem.pattern.matrix();
        Transport { problem, free, jac, device_prepared: false }
    }

    /// The bulk state: bulk concentrations, phi = 0, E from the drive (for a current, the
    /// overpotential that draws it uniformly over the electrode at bulk concentration).
    pub fn initial_state(&self, drive: Drive) -> Result<State, Error> {
        let p = &self.problem;
        let tp = p.tp;
        let m = p.m();
        let mut x = vec![0.0; self.free.len() * m];
        for a in 0..self.free.len() {
            for i in 0..p.independent() {
                x[a * m + i] = tp.bulk[i].ln();
            }
        }
        let total_area: f64 = p.electrode.iter().map(|&(_, a)| a).sum();
        let e = match (drive, tp.closure) {
            (Drive::Potential(e), _) => e,
            (Drive::Current(target), closure) if closure.reacting() => tp.law.overpotential_for(target / (tp.gamma * total_area)),
            (Drive::Current(_), _) => {
                return Err(Error::input(
                    "operation.mode: a blocking pnp electrode (physics.pnp_electrode = \"blocking\") draws no current; use mode \"potential\" or physics.pnp_electrode = \"reacting\"",
                ))
            }
        };
        Ok(State { x, e })
    }

    /// Independent concentrations (scaled) of a state, free node-major, for time histories.
    pub fn concentrations(&self, st: &State) -> Vec<f64> {
        let p = &self.problem;
        let (m, k) = (p.m(), p.independent());
        (0..self.free.len()).flat_map(|a| (0..k).map(move |i| st.x[a * m + i].exp())).collect()
    }

    /// Node volumes of the free nodes (scaled).
    pub fn volumes(&self) -> &[f64] {
        &self.problem.volume
    }

    /// Damped Newton from `st` (updated in place).
    pub fn newton(
        &mut self,
        st: &mut State,
        drive: Drive,
        acc: Option<&Accumulation>,
        solver: &mut dyn GeneralLinearSolver,
        linear: &LinearParams,
        newton: &NewtonParams,
    ) -> Result<NewtonStats, Error> {
        let m = self.problem.m();
        let constraint = |total: f64| match drive {
            Drive::Potential(_) => 0.0,
            Drive::Current(target) => total - target,
        };
        let merit = |ev: &Evaluation| (ev.residual.iter().map(|v| v * v).sum::<f64>() + constraint(ev.total).powi(2)).sqrt();
        let mut current = self.problem.evaluate_with(&st.x, st.e, None, acc);
        let mut history = vec![merit(&current)];
        let mut linear_iterations = 0;
        let mut it = 0;
        while it < newton.max_iterations {
            it += 1;
            let ev = self.assemble(st, acc, solver)?;
            let neg_r: Vec<f64> = ev.residual.iter().map(|v| -v).collect();
            let mut u = vec![0.0; st.x.len()];
            let linear = &LinearParams { block_size: m, ..*linear };
            linear_iterations += general(solver, &self.jac, &neg_r, &mut u, linear)?;
            let de = match drive {
                Drive::Potential(_) => 0.0,
                Drive::Current(_) => {
                    let mut w = vec![0.0; st.x.len()];
                    linear_iterations += general(solver, &self.jac, &ev.d_de, &mut w, linear)?;
                    let c_u: f64 = ev.total_dx.iter().map(|&(k, v)| v * u[k]).sum();
                    let c_w: f64 = ev.total_dx.iter().map(|&(k, v)| v * w[k]).sum();
                    let de = (-constraint(ev.total) - c_u) / (ev.total_de - c_w);
                    u.iter_mut().zip(&w).for_each(|(ui, wi)| *ui -= wi * de);
                    de
                }
            };
            // Limit the step: at most a factor e^2 in any concentration, 8 V_T in potential.
            let mut scale = 1.0f64;
            for (k, du) in u.iter().enumerate() {
                let cap = if k % m == m - 1 { 8.0 } else { 2.0 };
                scale = scale.min(cap / du.abs().max(1e-300));
            }
            scale = scale.min(8.0 / de.abs().max(1e-300));
            let step = u.iter().fold(de.abs(), |acc, v| acc.max(v.abs()));
            let m0 = merit(&current);
            let mut lambda = scale.min(1.0);
            let mut accepted = false;
            for _ in 0..30 {
                let trial: Vec<f64> = st.x.iter().zip(&u).map(|(xi, ui)| xi + lambda * ui).collect();
                let te = st.e + lambda * de;
                let ev_t = self.problem.evaluate_with(&trial, te, None, acc);
                let mt = merit(&ev_t);
                if mt.is_finite() && (mt <= (1.0 - 1e-4 * lambda) * m0 || m0 == 0.0) {
                    st.x = trial;
                    st.e = te;
                    current = ev_t;
                    history.push(mt);
                    accepted = true;
                    break;
                }
                lambda *= 0.5;
            }
            if !accepted {
                // A line search that stalls with a negligible step is convergence only if the
                // residual is at the rounding floor too (not a stall on a singular Jacobian).
                if step * lambda < newton.tol && m0 <= STALLED_RESIDUAL * history[0].max(1.0) {
                    return Ok(NewtonStats { iterations: it, linear_iterations, history });
                }
                return Err(Error::Solve(format!(
                    "transport Newton: line search failed at iteration {it} (residual {m0:.3e}); residual history {}",
                    format_history(&history)
                )));
            }
            if step * lambda < newton.tol && lambda >= scale.min(1.0) {
                return Ok(NewtonStats { iterations: it, linear_iterations, history });
            }
        }
        Err(Error::Solve(format!(
            "transport Newton did not converge in {} iterations; residual history {}",
            newton.max_iterations,
            format_history(&history)
        )))
    }

    /// Residual (f64, host) and Jacobian at `st`: the Jacobian from the solver's device
    /// assembler when it has one, else from the host evaluation.
    fn assemble(
        &mut self,
        st: &State,
        acc: Option<&Accumulation>,
        solver: &mut dyn GeneralLinearSolver,
    ) -> Result<Evaluation, Error> {
        let Some(device) = solver.jacobian_assembler() else {
            return Ok(self.problem.evaluate_with(&st.x, st.e, Some(&mut self.jac), acc));
        };
        let device_error = |e: String| Error::Device(format!("transport Jacobian assembly on the device: {e}"));
        if !self.device_prepared {
            device.prepare(&self.problem.device_layout()).map_err(device_error)?;
            self.device_prepared = true;
        }
        device.assemble(&st.x, st.e, acc, &mut self.jac.values).map_err(device_error)?;
        Ok(self.problem.evaluate_with(&st.x, st.e, None, acc))
    }

    /// The Newton Jacobian at `st` as `solver` assembles it (on its device when it has one).
    pub fn jacobian(
        &mut self,
        st: &State,
        acc: Option<&Accumulation>,
        solver: &mut dyn GeneralLinearSolver,
    ) -> Result<&CsrMatrix, Error> {
        self.assemble(st, acc, solver)?;
        Ok(&self.jac)
    }

    /// The solution in mesh numbering (scaled).
    pub fn solution(&self, sys: &PotentialSystem, st: &State, stats: NewtonStats) -> TransportSolution {
        let p = &self.problem;
        let n = p.n_species;
        let mut phi = vec![0.0; sys.n()];
        let mut concentrations = vec![vec![0.0; sys.n()]; n];
        for node in 0..sys.n() {
            let ns = p.node_state(&st.x, node);
            phi[node] = ns.phi;
            for i in 0..n {
                concentrations[i][node] = ns.c[i];
            }
        }
        let reaction = match p.tp.closure {
            closure if closure.reacting() => electrode_reaction(p, &st.x, st.e),
            _ => vec![0.0; p.electrode.len()],
        };
        TransportSolution {
            phi,
            concentrations,
            electrode_potential: st.e,
            electrode_reaction: reaction,
            linear_iterations: stats.linear_iterations,
            nonlinear_iterations: stats.iterations,
            residual_history: stats.history,
            continuation_steps: 0,
        }
    }
}

fn format_history(h: &[f64]) -> String {
    h.iter().map(|v| format!("{v:.3e}")).collect::<Vec<_>>().join(", ")
}

/// Solves the steady problem from the bulk state; when Newton cannot finish from there, by
/// continuation in the drive ([`super::continuation`]).
pub fn solve(
    sys: &PotentialSystem,
    edges: &Edges,
    tp: &TransportParams,
    drive: Drive,
    solver: &mut dyn GeneralLinearSolver,
    linear: &LinearParams,
    newton: &NewtonParams,
) -> Result<TransportSolution, Error> {
    let mut t = Transport::new(sys, edges, tp);
    let mut st = t.initial_state(drive)?;
    match t.newton(&mut st, drive, None, solver, linear, newton) {
        Ok(stats) => Ok(t.solution(sys, &st, stats)),
        Err(Error::Solve(cold)) => {
            let (st, stats, steps) = super::continuation::ramp(&mut t, drive, solver, linear, newton).map_err(|e| match e {
                Error::Solve(ramp) => Error::Solve(format!("{cold}; then {ramp}")),
                other => other,
            })?;
            Ok(TransportSolution { continuation_steps: steps, ..t.solution(sys, &st, stats) })
        }
        Err(other) => Err(other),
    }
}

/// Gamma A_j f_j at each electrode node.
fn electrode_reaction(p: &Problem, x: &[f64], e: f64) -> Vec<f64> {
    let tp = p.tp;
    let m = p.m();
    let rr = tp.reacting;
    p.electrode
        .iter()
        .map(|&(a, area)| {
            let eta = e - x[a * m + m - 1];
            let f = if tp.law.linear {
                tp.law.current(eta)
            } else {
                let ratio = x[a * m + rr].exp() / tp.bulk[rr];
                (tp.law.anodic * eta).exp() - ratio.powf(tp.reaction_order) * (-tp.law.cathodic * eta).exp()
            };
            tp.gamma * area * f
        })
        .collect()
}

/// Residual (relative to the first, or absolute below 1) under which a Newton iteration whose line
/// search can make no more progress counts as converged.
const STALLED_RESIDUAL: f64 = 1e-8;

/// Relative linear residual a Newton step is taken with when the Krylov solver stalls short of
/// its target: an inexact Newton step (the forcing term of Dembo, Eisenstat and Steihaug), still
/// a descent direction; Newton's convergence is judged on the f64 nonlinear residual.
pub const INEXACT_NEWTON_RTOL: f64 = 1e-6;

fn general(
    solver: &mut dyn GeneralLinearSolver,
    a: &CsrMatrix,
    b: &[f64],
    x: &mut [f64],
    p: &LinearParams,
) -> Result<u32, Error> {
    match solver.solve_general(a, b, x, p) {
        Ok(info) => Ok(info.iterations),
        Err(LinearError::NoConvergence { iterations, relative_residual, .. }) if relative_residual <= INEXACT_NEWTON_RTOL => {
            Ok(iterations)
        }
        Err(e) => Err(match Error::from(e) {
            Error::Solve(msg) => Error::Solve(format!("transport Newton linear solve: {msg}")),
            other => other,
        }),
    }
}
