//! Secondary current distribution: Laplace with Butler–Volmer kinetics, solved by damped Newton.
//!
//! Strong form (scaled): `-lap phi = 0`; on the electrode `grad phi . n_out = Gamma f(E - phi)`
//! with f the scaled Butler–Volmer law (anodic current leaving the metal), `phi = 0` on the bulk
//! boundary, zero flux on the sides. Weak form: for all v vanishing on the bulk boundary
//!
//! ```text
//!     integral grad phi . grad v dx - Gamma integral_electrode f(E - phi) v ds = 0,
//! ```
//!
//! with the boundary integral lumped at the nodes (`A_j f(E - phi_j)`), which keeps the Jacobian
//! `K + diag(Gamma A_j f'(eta_j))` symmetric positive definite, so each Newton step is a CG solve.
//! Galvanostatic operation adds the unknown E and the constraint `sum_j Gamma A_j f(E - phi_j) = I`;
//! the bordered Newton system is solved by block elimination with two CG solves per step.
//! Newton steps are damped by backtracking on the residual norm.

use super::failure::{nodal_residual, Failure};
use super::linear::{dot, LinearError, LinearParams, LinearSolver};
use super::primary::Drive;
use super::system::PotentialSystem;
use super::PotentialSolution;
use crate::error::Error;
use crate::fem::boundary_flux::residual_flux;
use crate::fem::CsrMatrix;
use crate::physics::kinetics::ButlerVolmer;
use crate::progress::{self, Event};

/// Newton controls.
#[derive(Debug, Clone, Copy)]
pub struct NewtonParams {
    /// Stop when the largest potential update is below this (thermal voltages).
    pub tol: f64,
    /// Iteration cap.
    pub max_iterations: u32,
}

/// The kinetic boundary term in scaled form.
#[derive(Debug, Clone, Copy)]
pub struct KineticBoundary {
    /// Gamma = L i0 / (kappa V_T).
    pub gamma: f64,
    /// Butler–Volmer law.
    pub law: ButlerVolmer,
    /// Electrolyte conductivity kappa, S/m: the solid stiffness (weighted by sigma_eff in S/m)
    /// is divided by it to join the kappa-scaled system.
    pub conductivity_s_m: f64,
}

/// One Butler–Volmer reaction of the discrete system: at electrolyte unknown `l`, against the
/// solid-potential unknown `s` (None: the electrode potential E), with scaled weight `w`.
struct Reaction {
    l: usize,
    s: Option<usize>,
    w: f64,
}

/// The unknowns' layout: electrolyte potential at the free nodes, then the solid potential at
/// the scaffold nodes off the electrode (where it is E).
struct Layout {
    free: Vec<u32>,
    solid_free: Vec<u32>,
    /// Block-diagonal operator diag(K_ff, K_s) in the pattern of the Jacobian.
    base: CsrMatrix,
    /// Row sums of K_s over the electrode columns (the solid's Dirichlet coupling to E).
    solid_dirichlet: Vec<f64>,
    reactions: Vec<Reaction>,
    /// The first `electrode_reactions` reactions are the electrode's (in `sys.electrode` order).
    electrode_reactions: usize,
    /// Positions of the Jacobian's reaction entries: (l,l), (l,s), (s,l), (s,s).
    slots: Vec<[Option<usize>; 4]>,
}

impl Layout {
    fn new(sys: &PotentialSystem, kin: &KineticBoundary) -> Self {
        let n = sys.n();
        let free = sys.free_nodes(&[&sys.bulk]);
        let (k_ff, _) = sys.k.split(&free);
        let mut position = vec![u32::MAX; n];
        free.iter().enumerate().for_each(|(i, &nd)| position[nd as usize] = i as u32);
        let mut on_electrode = vec![false; n];
        sys.electrode.iter().for_each(|&nd| on_electrode[nd as usize] = true);
        let nf = free.len();
        let (solid_free, k_ss, solid_dirichlet) = match &sys.solid {
            Some(solid) => {
                let sf: Vec<u32> = solid.nodes.iter().copied().filter(|&nd| !on_electrode[nd as usize]).collect();
                let (mut k_ss, _) = solid.k.split(&sf);
                k_ss.values.iter_mut().for_each(|v| *v /= kin.conductivity_s_m);
                let dirichlet = sf
                    .iter()
                    .map(|&nd| {
                        let (lo, hi) = (solid.k.row_ptr[nd as usize] as usize, solid.k.row_ptr[nd as usize + 1] as usize);
                        (lo..hi).filter(|&p| on_electrode[solid.k.col_idx[p] as usize]).map(|p| solid.k.values[p]).sum::<f64>()
                            / kin.conductivity_s_m
                    })
                    .collect();
                (sf, Some(k_ss), dirichlet)
            }
            None => (Vec::new(), None, Vec::new()),
        };
        let mut solid_pos = vec![u32::MAX; n];
        solid_free.iter().enumerate().for_each(|(i, &nd)| solid_pos[nd as usize] = (nf + i) as u32);
        let mut reactions: Vec<Reaction> = Vec::new();
        if sys.electrode_reacts {
            for (&nd, &a) in sys.electrode.iter().zip(&sys.electrode_area) {
                reactions.push(Reaction { l: position[nd as usize] as usize, s: None, w: kin.gamma * a });
            }
        }
        let electrode_reactions = reactions.len();
        for site in &sys.sites {
            let sp = solid_pos[site.node as usize];
            reactions.push(Reaction {
                l: position[site.node as usize] as usize,
                s: (sp != u32::MAX).then_some(sp as usize),
                w: kin.gamma * site.equivalent_area,
            });
        }
        // Rows: K_ff with the solid column of each node that has one; K_ss shifted, with the
        // electrolyte column of its node.
        let mut rows: Vec<Vec<(u32, f64)>> = (0..nf)
            .map(|i| {
                (k_ff.row_ptr[i] as usize..k_ff.row_ptr[i + 1] as usize).map(|p| (k_ff.col_idx[p], k_ff.values[p])).collect()
            })
            .collect();
        if let Some(k_ss) = &k_ss {
            for (i, &nd) in solid_free.iter().enumerate() {
                let l = position[nd as usize];
                rows[l as usize].push(((nf + i) as u32, 0.0));
                let mut row: Vec<(u32, f64)> = (k_ss.row_ptr[i] as usize..k_ss.row_ptr[i + 1] as usize)
                    .map(|p| ((nf as u32) + k_ss.col_idx[p], k_ss.values[p]))
                    .collect();
                row.push((l, 0.0));
                rows.push(row);
            }
        }
        let base = CsrMatrix::from_rows(rows);
        let slots = reactions
            .iter()
            .map(|r| {
                let at = |i: usize, j: usize| base.find(i, j as u32);
                match r.s {
                    None => [at(r.l, r.l), None, None, None],
                    Some(s) => [at(r.l, r.l), at(r.l, s), at(s, r.l), at(s, s)],
                }
            })
            .collect();
        Layout { free, solid_free, base, solid_dirichlet, reactions, electrode_reactions, slots }
    }

    fn nf(&self) -> usize {
        self.free.len()
    }

    /// Residual and total reaction at (x, E).
    fn residual(&self, law: &ButlerVolmer, x: &[f64], e: f64) -> (Vec<f64>, f64) {
        let mut r = vec![0.0; x.len()];
        self.base.spmv(x, &mut r);
        let nf = self.nf();
        for (ri, d) in r[nf..].iter_mut().zip(&self.solid_dirichlet) {
            *ri += d * e;
        }
        let mut total = 0.0;
        for re in &self.reactions {
            let g = re.w * law.current(re.s.map_or(e, |s| x[s]) - x[re.l]);
            r[re.l] -= g;
            if let Some(s) = re.s {
                r[s] += g;
            }
            total += g;
        }
        (r, total)
    }

    /// Each reaction's scaled current at (x, E).
    fn reaction_currents(&self, law: &ButlerVolmer, x: &[f64], e: f64) -> Vec<f64> {
        self.reactions.iter().map(|re| re.w * law.current(re.s.map_or(e, |s| x[s]) - x[re.l])).collect()
    }
}

struct State {
    x: Vec<f64>,
    e: f64,
}

/// Solves the secondary problem (with the scaffold's volumetric reactions and solid phase when
/// the system has them).
///
/// With a conductive scaffold the unknowns are phi and the solid potential phi_s on the layer;
/// weak form, for all (v, w) vanishing where phi or phi_s is prescribed:
///
/// ```text
///     integral kappa_eff grad phi . grad v - integral a i(phi_s - phi) v   (electrolyte)
///   + integral sigma_eff grad phi_s . grad w + integral a i(phi_s - phi) w = 0   (solid)
/// ```
///
/// with the reaction lumped at the nodes. The Jacobian stays symmetric positive definite (the
/// reaction couples phi and phi_s through `w f' [[1, -1], [-1, 1]]`), so each Newton step is
/// still a CG solve. phi_s = E on the electrode (the scaffold touches the metal).
pub fn solve(
    sys: &PotentialSystem,
    kin: KineticBoundary,
    drive: Drive,
    solver: &mut dyn LinearSolver,
    linear: &LinearParams,
    newton: &NewtonParams,
) -> Result<PotentialSolution, Error> {
    let layout = Layout::new(sys, &kin);
    let nf = layout.nf();
    let n_unknowns = nf + layout.solid_free.len();
    let law = kin.law;
    let constraint = |total: f64| match drive {
        Drive::Potential(_) => 0.0,
        Drive::Current(target) => total - target,
    };
    let merit = |r: &[f64], c: f64| (r.iter().map(|v| v * v).sum::<f64>() + c * c).sqrt();

    let e0 = match drive {
        Drive::Potential(e) => e,
        Drive::Current(target) => {
            let w_total: f64 = layout.reactions.iter().map(|r| r.w).sum();
            if w_total <= 0.0 {
                return Err(Error::input("operation.mode \"current\": nothing reacts (every exchange current density is zero)"));
            }
            law.overpotential_for(target / w_total)
        }
    };
    // A Newton that does not converge leaves its last iterate and residual for diagnosis.
    let failure = |message: String, s: &State, history: &[f64]| {
        let (r, _) = layout.residual(&law, &s.x, s.e);
        let mut phi = vec![0.0; sys.n()];
        layout.free.iter().zip(&s.x).for_each(|(&nd, &v)| phi[nd as usize] = v);
        Error::NotConverged(Box::new(Failure {
            message,
            residual_history: history.to_vec(),
            phi,
            concentrations: Vec::new(),
            nodal_residual: nodal_residual(sys.n(), &layout.free, 1, &r[..nf]),
            iterate: "the last Newton iterate",
        }))
    };
    let mut x = vec![0.0; n_unknowns];
    x[nf..].iter_mut().for_each(|v| *v = e0);
    let mut s = State { x, e: e0 };
    let (mut r, mut total) = layout.residual(&law, &s.x, s.e);
    let mut history = vec![merit(&r, constraint(total))];
    let mut linear_iterations = 0;
    let mut converged = false;
    let mut it = 0;
    let mut jac = layout.base.clone();
    while it < newton.max_iterations {
        it += 1;
        jac.values.copy_from_slice(&layout.base.values);
        // dR/dE (b), dC/dx (c) and dC/dE (c_e) for the galvanostatic border.
        let mut b = vec![0.0; n_unknowns];
        for (bi, d) in b[nf..].iter_mut().zip(&layout.solid_dirichlet) {
            *bi = *d;
        }
        let mut c = vec![0.0; n_unknowns];
        let mut c_e = 0.0;
        for (re, slot) in layout.reactions.iter().zip(&layout.slots) {
            let slope = re.w * law.slope(re.s.map_or(s.e, |k| s.x[k]) - s.x[re.l]);
            let signs = [1.0, -1.0, -1.0, 1.0];
            for (k, sign) in slot.iter().zip(signs) {
                if let Some(k) = k {
                    jac.values[*k] += sign * slope;
                }
            }
            c[re.l] -= slope;
            match re.s {
                Some(k) => c[k] += slope,
                None => {
                    b[re.l] -= slope;
                    c_e += slope;
                }
            }
        }
        let neg_r: Vec<f64> = r.iter().map(|v| -v).collect();
        let mut u = vec![0.0; n_unknowns];
        linear_iterations += lin(solver, &jac, &neg_r, &mut u, linear)?;
        let de = match drive {
            Drive::Potential(_) => 0.0,
            Drive::Current(_) => {
                let mut w = vec![0.0; n_unknowns];
                linear_iterations += lin(solver, &jac, &b, &mut w, linear)?;
                let de = (-constraint(total) - dot(&c, &u)) / (c_e - dot(&c, &w));
                for (ui, wi) in u.iter_mut().zip(&w) {
                    *ui -= wi * de;
                }
                de
            }
        };
        // Backtracking on the residual norm.
        let m0 = merit(&r, constraint(total));
        let mut lambda = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let trial = State { x: s.x.iter().zip(&u).map(|(p, du)| p + lambda * du).collect(), e: s.e + lambda * de };
            let (rt, tt) = layout.residual(&law, &trial.x, trial.e);
            let mt = merit(&rt, constraint(tt));
            if mt.is_finite() && (mt <= (1.0 - 1e-4 * lambda) * m0 || m0 == 0.0) {
                accepted = Some((trial, rt, tt, mt));
                break;
            }
            lambda *= 0.5;
        }
        let step = u.iter().fold(de.abs(), |m, v| m.max(v.abs())) * lambda;
        match accepted {
            Some((trial, rt, tt, mt)) => {
                s = trial;
                r = rt;
                total = tt;
                history.push(mt);
                progress::report(Event::Newton { iteration: it, residual: mt });
            }
            None => {
                // No decrease possible: the current iterate is as good as f64 allows if the step is tiny.
                if step < newton.tol {
                    converged = true;
                    break;
                }
                let message = format!(
                    "secondary Newton: line search failed at iteration {it} (residual {m0:.3e}, step {step:.3e} V_T); \
                     residual history {}",
                    format_history(&history)
                );
                return Err(failure(message, &s, &history));
            }
        }
        if !s.e.is_finite() || s.x.iter().any(|v| !v.is_finite()) {
            return Err(Error::Solve(format!("secondary Newton: non-finite potential at iteration {it}")));
        }
        if step < newton.tol {
            converged = true;
            break;
        }
    }
    if !converged {
        let message = format!(
            "secondary Newton did not converge in {} iterations (tolerance {:e} V_T); residual history {}",
            newton.max_iterations,
            newton.tol,
            format_history(&history)
        );
        return Err(failure(message, &s, &history));
    }
    let mut phi = vec![0.0; sys.n()];
    for (&nd, &v) in layout.free.iter().zip(&s.x) {
        phi[nd as usize] = v;
    }
    let solid_potential = sys.solid.as_ref().map(|_| {
        let mut phi_s = vec![s.e; sys.n()];
        for (&nd, &v) in layout.solid_free.iter().zip(&s.x[nf..]) {
            phi_s[nd as usize] = v;
        }
        phi_s
    });
    let currents = layout.reaction_currents(&law, &s.x, s.e);
    let site_reaction = currents[layout.electrode_reactions..].to_vec();
    // Electrode current: the variationally consistent residual flux, less the scaffold reactions
    // at electrode nodes.
    let zero = vec![0.0; sys.n()];
    let mut electrode_flux = residual_flux(&sys.k, &phi, &zero, &sys.electrode);
    subtract_site_reactions(sys, &site_reaction, &mut electrode_flux);
    Ok(PotentialSolution {
        phi,
        electrode_potential: s.e,
        electrode_flux,
        linear_iterations,
        nonlinear_iterations: it,
        residual_history: history,
        site_reaction,
        solid_potential,
    })
}

/// Removes from the electrode nodes' residual flux the part that scaffold reactions at those
/// nodes put into the electrolyte.
pub(crate) fn subtract_site_reactions(sys: &PotentialSystem, site_reaction: &[f64], electrode_flux: &mut [f64]) {
    if site_reaction.is_empty() {
        return;
    }
    let mut at_node = std::collections::HashMap::new();
    for (site, q) in sys.sites.iter().zip(site_reaction) {
        *at_node.entry(site.node).or_insert(0.0) += q;
    }
    for (&nd, flux) in sys.electrode.iter().zip(electrode_flux.iter_mut()) {
        if let Some(q) = at_node.get(&nd) {
            *flux -= q;
        }
    }
}

fn lin(solver: &mut dyn LinearSolver, a: &CsrMatrix, b: &[f64], x: &mut [f64], p: &LinearParams) -> Result<u32, Error> {
    solver.solve(a, b, x, p).map(|info| info.iterations).map_err(|e: LinearError| match Error::from(e) {
        Error::Solve(msg) => Error::Solve(format!("secondary Newton linear solve: {msg}")),
        other => other,
    })
}

fn format_history(h: &[f64]) -> String {
    h.iter().map(|v| format!("{v:.3e}")).collect::<Vec<_>>().join(", ")
}
