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

use super::linear::{dot, LinearError, LinearParams, LinearSolver};
use super::primary::Drive;
use super::system::PotentialSystem;
use super::PotentialSolution;
use crate::error::Error;
use crate::fem::boundary_flux::residual_flux;
use crate::fem::CsrMatrix;
use crate::physics::kinetics::ButlerVolmer;

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
}

struct State {
    phi: Vec<f64>,
    e: f64,
}

/// Solves the secondary problem.
pub fn solve(
    sys: &PotentialSystem,
    kin: KineticBoundary,
    drive: Drive,
    solver: &mut dyn LinearSolver,
    linear: &LinearParams,
    newton: &NewtonParams,
) -> Result<PotentialSolution, Error> {
    let free = sys.free_nodes(&[&sys.bulk]);
    let (k_ff, _) = sys.k.split(&free);
    let mut position = vec![u32::MAX; sys.n()];
    for (i, &n) in free.iter().enumerate() {
        position[n as usize] = i as u32;
    }
    let electrode: Vec<usize> = sys.electrode.iter().map(|&n| position[n as usize] as usize).collect();
    let weights: Vec<f64> = sys.electrode_area.iter().map(|a| kin.gamma * a).collect();
    let diag_at: Vec<usize> = electrode.iter().map(|&i| k_ff.find(i, i as u32).expect("diagonal in pattern")).collect();

    let residual = |s: &State| -> (Vec<f64>, f64) {
        let mut r = vec![0.0; free.len()];
        k_ff.spmv(&s.phi, &mut r);
        let mut total = 0.0;
        for (&i, &w) in electrode.iter().zip(&weights) {
            let g = w * kin.law.current(s.e - s.phi[i]);
            r[i] -= g;
            total += g;
        }
        (r, total)
    };
    let constraint = |total: f64| match drive {
        Drive::Potential(_) => 0.0,
        Drive::Current(target) => total - target,
    };
    let merit = |r: &[f64], c: f64| (r.iter().map(|v| v * v).sum::<f64>() + c * c).sqrt();

    let e0 = match drive {
        Drive::Potential(e) => e,
        Drive::Current(target) => kin.law.overpotential_for(target / weights.iter().sum::<f64>()),
    };
    let mut s = State { phi: vec![0.0; free.len()], e: e0 };
    let (mut r, mut total) = residual(&s);
    let mut history = vec![merit(&r, constraint(total))];
    let mut linear_iterations = 0;
    let mut converged = false;
    let mut it = 0;
    let mut jac = k_ff.clone();
    while it < newton.max_iterations {
        it += 1;
        jac.values.copy_from_slice(&k_ff.values);
        let mut d = vec![0.0; free.len()];
        for ((&i, &w), &k) in electrode.iter().zip(&weights).zip(&diag_at) {
            let slope = w * kin.law.slope(s.e - s.phi[i]);
            jac.values[k] += slope;
            d[i] = slope;
        }
        let neg_r: Vec<f64> = r.iter().map(|v| -v).collect();
        let mut u = vec![0.0; free.len()];
        linear_iterations += lin(solver, &jac, &neg_r, &mut u, linear)?;
        let de = match drive {
            Drive::Potential(_) => 0.0,
            Drive::Current(_) => {
                let mut w = vec![0.0; free.len()];
                linear_iterations += lin(solver, &jac, &d, &mut w, linear)?;
                let c = constraint(total);
                let s_sum: f64 = d.iter().sum();
                let de = (-c + dot(&d, &u)) / (s_sum - dot(&d, &w));
                for (ui, wi) in u.iter_mut().zip(&w) {
                    *ui += wi * de;
                }
                de
            }
        };
        // Backtracking on the residual norm.
        let m0 = merit(&r, constraint(total));
        let mut lambda = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let trial = State { phi: s.phi.iter().zip(&u).map(|(p, du)| p + lambda * du).collect(), e: s.e + lambda * de };
            let (rt, tt) = residual(&trial);
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
            }
            None => {
                // No decrease possible: the current iterate is as good as f64 allows if the step is tiny.
                if step < newton.tol {
                    converged = true;
                    break;
                }
                return Err(Error::Solve(format!(
                    "secondary Newton: line search failed at iteration {it} (residual {m0:.3e}, step {step:.3e} V_T); \
                     residual history {}",
                    format_history(&history)
                )));
            }
        }
        if !s.e.is_finite() || s.phi.iter().any(|v| !v.is_finite()) {
            return Err(Error::Solve(format!("secondary Newton: non-finite potential at iteration {it}")));
        }
        if step < newton.tol {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(Error::Solve(format!(
            "secondary Newton did not converge in {} iterations (tolerance {:e} V_T); residual history {}",
            newton.max_iterations,
            newton.tol,
            format_history(&history)
        )));
    }
    let mut phi = vec![0.0; sys.n()];
    for (&n, &v) in free.iter().zip(&s.phi) {
        phi[n as usize] = v;
    }
    let zero = vec![0.0; sys.n()];
    let electrode_flux = residual_flux(&sys.k, &phi, &zero, &sys.electrode);
    Ok(PotentialSolution {
        phi,
        electrode_potential: s.e,
        electrode_flux,
        linear_iterations,
        nonlinear_iterations: it,
        residual_history: history,
    })
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
