//! Damped Newton for every nonlinear model (secondary, tertiary, pnp): the galvanostatic
//! bordered step, step limits, the backtracking line search, the stopping rule and the residual
//! history. A model implements [`NewtonSystem`] (its residual, Jacobian and linear solves); the
//! loop itself is here, once.
//!
//! Unknowns: the model's vector `x` and the electrode potential `E` (fixed under potentiostatic
//! operation). Galvanostatic operation adds the constraint `C(x, E) = I(x, E) - I_target = 0`
//! and each step solves the bordered system
//!
//! ```text
//!     [ J      dR/dE ] [du]   [-R]
//!     [ dI/dx  dI/dE ] [dE] = [-C]
//! ```
//!
//! by block elimination with two solves of J: `J u = -R`, `J w = dR/dE`,
//! `dE = (-C - dI/dx . u) / (dI/dE - dI/dx . w)`, `du = u - w dE`. The step is cut to the model's
//! limits ([`NewtonSystem::step_limit`]), then halved until the merit `sqrt(|R|^2 + C^2)` falls by
//! the Armijo factor `1 - 1e-4 lambda` (at most [`LINE_SEARCH_HALVINGS`] times).
//!
//! Stopping rule: the step taken is below `tol` (in the units of the unknowns: thermal voltages
//! and log-concentrations), or, after two full steps in the quadratic regime (the last at most
//! [`CONTRACTED`] times the one before), the next one estimated as
//! `||du_k|| (||du_k|| / ||du_k-1||)^2` is: the iteration that would only confirm convergence is
//! saved. Convergence is judged on the exact (f64) residual only: a model with a cheaper residual
//! (a device's f32, [`NewtonSystem::has_rough_residual`]) starts on it and finishes on the exact one.

use super::primary::Drive;
use crate::error::Error;
use crate::progress::{self, Event};

/// Newton controls.
#[derive(Debug, Clone, Copy)]
pub struct NewtonParams {
    /// Stop when the largest update is below this (thermal voltages, log-concentrations).
    pub tol: f64,
    /// Iteration cap.
    pub max_iterations: u32,
}

/// A Newton iterate: the model's unknowns and the electrode potential E (scaled).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct State {
    pub x: Vec<f64>,
    pub e: f64,
}

/// A model's residual at a state, with the terms the galvanostatic border needs.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// R(x, E).
    pub residual: Vec<f64>,
    /// dR/dE.
    pub d_de: Vec<f64>,
    /// Total reaction I(x, E) (scaled current, anodic positive).
    pub total: f64,
    /// dI/dx as (index, value), in increasing index order.
    pub total_dx: Vec<(usize, f64)>,
    /// dI/dE.
    pub total_de: f64,
}

/// What one Newton solve did.
#[derive(Debug, Clone, Default)]
pub struct NewtonStats {
    pub iterations: u32,
    pub linear_iterations: u32,
    /// Merit after each accepted step (the first entry: at the initial state).
    pub history: Vec<f64>,
}

/// What a nonlinear model gives the Newton loop.
pub trait NewtonSystem {
    /// The model's name in messages ("secondary", "transport").
    fn name(&self) -> &'static str;

    /// Whether a cheaper, rougher residual (a device's f32) is there to start on.
    fn has_rough_residual(&mut self) -> bool {
        false
    }

    /// The residual at (x, E): the exact f64 one, or with `rough` the cheaper one.
    fn evaluate(&mut self, x: &[f64], e: f64, rough: bool) -> Result<Evaluation, Error>;

    /// Assembles the Jacobian at `st` for the next [`NewtonSystem::solve`]s. Returns the exact
    /// evaluation at `st` when the assembly computes it on the way (then it is the right-hand
    /// side), else None (the loop's own evaluation at `st` is used).
    fn linearize(&mut self, st: &State) -> Result<Option<Evaluation>, Error>;

    /// Solves `J u = b` with the last linearization; `u` holds the initial guess. Returns the
    /// Krylov iterations.
    fn solve(&mut self, b: &[f64], u: &mut [f64]) -> Result<u32, Error>;

    /// The largest fraction (at most 1) of the step (u, dE) the model allows.
    fn step_limit(&self, _u: &[f64], _de: f64) -> f64 {
        1.0
    }

    /// Whether a trial iterate is admissible (else the line search halves the step).
    fn admissible(&self, _x: &[f64]) -> bool {
        true
    }

    /// The error of a solve that did not converge, with the iterate and its residual for the
    /// diagnostics files.
    fn failure(&mut self, message: String, st: &State, history: &[f64]) -> Error;
}

/// Most step halvings of one line search.
pub const LINE_SEARCH_HALVINGS: u32 = 30;

/// Rough-residual steps end when a step reduces the merit by less than this factor (the f32
/// floor of the residual is reached) ...
const ROUGH_STEP_GAIN: f64 = 0.25;
/// ... or by more than this one (quadratic convergence: the next step would hit the floor).
const ROUGH_FAST_GAIN: f64 = 1e-2;

/// A full Newton step at most this fraction of the full step before it is in the quadratic
/// regime, where the next one is estimated from the two (the stopping estimate).
pub const CONTRACTED: f64 = 0.1;

/// Residual (relative to the first, or absolute below 1) under which a Newton iteration whose
/// line search can make no more progress counts as converged.
const STALLED_RESIDUAL: f64 = 1e-8;

/// Damped Newton from `st` (updated in place) under `drive`; a potentiostatic drive sets `st.e`.
pub fn solve(sys: &mut dyn NewtonSystem, st: &mut State, drive: Drive, params: &NewtonParams) -> Result<NewtonStats, Error> {
    let constraint = |total: f64| match drive {
        Drive::Potential(_) => 0.0,
        Drive::Current(target) => total - target,
    };
    let merit = |ev: &Evaluation| (ev.residual.iter().map(|v| v * v).sum::<f64>() + constraint(ev.total).powi(2)).sqrt();
    // A potentiostatic drive fixes E (a waveform changes it from one time step to the next).
    if let Drive::Potential(e) = drive {
        st.e = e;
    }
    let mut rough = sys.has_rough_residual();
    let mut current = sys.evaluate(&st.x, st.e, rough)?;
    let mut stats = NewtonStats { iterations: 0, linear_iterations: 0, history: vec![merit(&current)] };
    // The size of the last step if it was a full one (the stopping estimate).
    let mut previous_full_step: Option<f64> = None;
    // The last solution of J w = dR/dE: it changes little between iterations, so it starts the next.
    let mut last_w: Option<Vec<f64>> = None;
    while stats.iterations < params.max_iterations {
        stats.iterations += 1;
        let it = stats.iterations;
        let fresh = sys.linearize(st)?;
        let ev = fresh.as_ref().unwrap_or(&current);
        let (u, de) = bordered_step(sys, ev, drive, &mut last_w, &mut stats.linear_iterations)?;
        let limit = sys.step_limit(&u, de).min(1.0);
        let step = u.iter().fold(de.abs(), |acc, v| acc.max(v.abs()));
        let m0 = merit(&current);
        let mut lambda = limit;
        let mut accepted = false;
        for _ in 0..LINE_SEARCH_HALVINGS {
            let trial: Vec<f64> = st.x.iter().zip(&u).map(|(xi, ui)| xi + lambda * ui).collect();
            let te = st.e + lambda * de;
            if !sys.admissible(&trial) {
                lambda *= 0.5;
                continue;
            }
            let ev_t = sys.evaluate(&trial, te, rough)?;
            let mt = merit(&ev_t);
            if mt.is_finite() && (mt <= (1.0 - 1e-4 * lambda) * m0 || m0 == 0.0) {
                st.x = trial;
                st.e = te;
                current = ev_t;
                stats.history.push(mt);
                progress::report(Event::Newton { iteration: it, residual: mt });
                accepted = true;
                break;
            }
            lambda *= 0.5;
        }
        let full = accepted && lambda == 1.0;
        let predicted = match previous_full_step {
            Some(previous) if full && !rough && step <= CONTRACTED * previous => step * (step / previous).powi(2),
            _ => f64::INFINITY,
        };
        previous_full_step = full.then_some(step);
        let finished = (step * lambda < params.tol && lambda >= limit) || predicted < params.tol;
        // Leave the rough residual once Newton converges fast (the next step would reach its
        // rounding floor) or as soon as a step gains little (it has).
        let gain = stats.history.last().copied().unwrap_or(f64::INFINITY) / m0;
        if rough && (!accepted || finished || !(ROUGH_FAST_GAIN..=ROUGH_STEP_GAIN).contains(&gain)) {
            rough = false;
            // Steps from the rough residual do not enter the stopping estimate.
            previous_full_step = None;
            current = sys.evaluate(&st.x, st.e, false)?;
            stats.history.push(merit(&current));
            continue;
        }
        if !accepted {
            // A line search that stalls with a negligible step is convergence only if the
            // residual is at the rounding floor too (not a stall on a singular Jacobian).
            if step * lambda < params.tol && m0 <= STALLED_RESIDUAL * stats.history[0].max(1.0) {
                return Ok(stats);
            }
            let message = format!(
                "{} Newton: line search failed at iteration {it} (residual {m0:.3e}, step {step:.3e}); residual history {}",
                sys.name(),
                format_history(&stats.history)
            );
            return Err(sys.failure(message, st, &stats.history));
        }
        if finished {
            return Ok(stats);
        }
    }
    let message = format!(
        "{} Newton did not converge in {} iterations (tolerance {:e}); residual history {}",
        sys.name(),
        params.max_iterations,
        params.tol,
        format_history(&stats.history)
    );
    Err(sys.failure(message, st, &stats.history))
}

/// The Newton step (du, dE) at the evaluation `ev`: one solve of J under a fixed potential, two
/// and the border's elimination under a fixed current.
fn bordered_step(
    sys: &mut dyn NewtonSystem,
    ev: &Evaluation,
    drive: Drive,
    last_w: &mut Option<Vec<f64>>,
    linear_iterations: &mut u32,
) -> Result<(Vec<f64>, f64), Error> {
    let neg_r: Vec<f64> = ev.residual.iter().map(|v| -v).collect();
    let mut u = vec![0.0; neg_r.len()];
    *linear_iterations += sys.solve(&neg_r, &mut u)?;
    let Drive::Current(target) = drive else { return Ok((u, 0.0)) };
    let mut w = last_w.take().unwrap_or_else(|| vec![0.0; u.len()]);
    *linear_iterations += sys.solve(&ev.d_de, &mut w)?;
    let c_u: f64 = ev.total_dx.iter().map(|&(k, v)| v * u[k]).sum();
    let c_w: f64 = ev.total_dx.iter().map(|&(k, v)| v * w[k]).sum();
    let de = (-(ev.total - target) - c_u) / (ev.total_de - c_w);
    u.iter_mut().zip(&w).for_each(|(ui, wi)| *ui -= wi * de);
    *last_w = Some(w);
    Ok((u, de))
}

/// A residual history for messages.
pub fn format_history(h: &[f64]) -> String {
    h.iter().map(|v| format!("{v:.3e}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `R(x, E) = x^3 - E` (so x = E^(1/3)) with the total current `I = x`; `jacobian` is
    /// 3 x^2 at the last linearization.
    struct Cubic {
        jacobian: f64,
    }

    impl NewtonSystem for Cubic {
        fn name(&self) -> &'static str {
            "cubic"
        }

        fn evaluate(&mut self, x: &[f64], e: f64, _rough: bool) -> Result<Evaluation, Error> {
            Ok(Evaluation {
                residual: vec![x[0].powi(3) - e],
                d_de: vec![-1.0],
                total: x[0],
                total_dx: vec![(0, 1.0)],
                total_de: 0.0,
            })
        }

        fn linearize(&mut self, st: &State) -> Result<Option<Evaluation>, Error> {
            self.jacobian = 3.0 * st.x[0] * st.x[0];
            Ok(None)
        }

        fn solve(&mut self, b: &[f64], u: &mut [f64]) -> Result<u32, Error> {
            u[0] = b[0] / self.jacobian;
            Ok(1)
        }

        fn failure(&mut self, message: String, _st: &State, _history: &[f64]) -> Error {
            Error::Solve(message)
        }
    }

    const TIGHT: NewtonParams = NewtonParams { tol: 1e-12, max_iterations: 60 };

    #[test]
    fn potentiostatic_newton_finds_the_root_quadratically() {
        let mut st = State { x: vec![1.0], e: 27.0 };
        let stats = solve(&mut Cubic { jacobian: 0.0 }, &mut st, Drive::Potential(27.0), &TIGHT).expect("converges");
        assert!((st.x[0] - 3.0).abs() < 1e-12, "x = {}", st.x[0]);
        let h = &stats.history;
        assert!(h[h.len() - 1] < 1e-10 * h[0], "history {h:?}");
        // Quadratic at the end: each of the last merits at most a constant times the square of
        // the one before (relative to the start).
        let (a, b, c) = (h[h.len() - 3] / h[0], h[h.len() - 2] / h[0], h[h.len() - 1] / h[0]);
        assert!(b < 10.0 * a * a && c < 10.0 * b * b, "history {h:?}");
    }

    #[test]
    fn galvanostatic_newton_meets_the_current_through_the_border() {
        let mut st = State { x: vec![1.0], e: 1.0 };
        solve(&mut Cubic { jacobian: 0.0 }, &mut st, Drive::Current(2.0), &TIGHT).expect("converges");
        assert!((st.x[0] - 2.0).abs() < 1e-12 && (st.e - 8.0).abs() < 1e-10, "x = {}, E = {}", st.x[0], st.e);
    }

    #[test]
    fn an_iteration_cap_is_a_failure_that_says_so() {
        let mut st = State { x: vec![1.0], e: 27.0 };
        let one = NewtonParams { max_iterations: 1, ..TIGHT };
        let err = solve(&mut Cubic { jacobian: 0.0 }, &mut st, Drive::Potential(27.0), &one).expect_err("one step is not enough");
        assert!(err.to_string().contains("cubic Newton did not converge in 1 iterations"), "{err}");
    }
}
