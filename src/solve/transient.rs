//! Implicit time stepping of the transport models: backward Euler for the first step, then
//! variable-step BDF2, with the step size controlled by the local error estimated from the
//! difference between the BDF2 solution and a linear extrapolation of the last two steps.
//!
//! With step ratio w = dt_n / dt_{n-1}, BDF2 approximates
//! `dc/dt ~ [(1 + 2w)/(1 + w) c^{n+1} - (1 + w) c^n + w^2/(1 + w) c^{n-1}] / dt_n`.
//! Times here are scaled by `L^2 / D_ref`.

use super::device_jacobian::TransportBackend;
use super::linear::LinearParams;
use super::newton::NewtonParams;
use super::primary::Drive;
use super::system::PotentialSystem;
use super::transport::{Accumulation, State, TransportParams, TransportProblem, TransportSolution};
use crate::error::Error;
use crate::fem::edges::Edges;
use crate::progress::{self, Event};
use serde::{Deserialize, Serialize};

/// Time-stepping controls (scaled times).
#[derive(Debug, Clone)]
pub struct TimeParams {
    pub end: f64,
    pub initial_step: f64,
    pub max_step: f64,
    /// Local error tolerance on concentrations, relative to each species' bulk value.
    pub rtol: f64,
    /// Times at which to keep snapshots (increasing); steps land on them exactly.
    pub output_times: Vec<f64>,
    /// Stop when the reacting species' smallest surface concentration falls below this fraction
    /// of its bulk value (galvanostatic depletion: the Sand time).
    pub depletion: f64,
    /// Times where the applied waveform jumps or changes slope (increasing): steps land on them.
    pub breakpoints: Vec<f64>,
    /// The subset where it jumps: BDF2 restarts with a backward Euler step after each (not where
    /// a table waveform is continuous).
    pub jumps: Vec<f64>,
    /// Accepted steps over which the linear solver keeps its preconditioner (the transport
    /// multigrid hierarchy; rebuilt sooner when its iterations double). At least 1.
    pub preconditioner_reuse_steps: u32,
}

impl TimeParams {
    /// Whether the step after `steps` accepted ones starts with a fresh preconditioner: the
    /// points where a resumed run repeats the uninterrupted run's arithmetic exactly.
    pub fn fresh_after(&self, steps: u32) -> bool {
        steps % self.preconditioner_reuse_steps.max(1) == 0
    }
}

/// One accepted step: time, electrode potential, smallest surface concentration per species and
/// largest reaction flux density (scaled).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimeRow {
    pub t: f64,
    pub electrode_potential: f64,
    pub min_surface: Vec<f64>,
    pub max_reaction_density: f64,
}

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    EndTime,
    Depletion,
}

/// Result of a transient run.
pub struct TransientResult {
    pub last: TransportSolution,
    pub rows: Vec<TimeRow>,
    pub snapshots: Vec<(f64, TransportSolution)>,
    pub steps: u32,
    pub rejected: u32,
    pub stop: Stop,
    pub linear_iterations: u32,
    pub newton_iterations: u32,
}

/// Everything the time loop carries from one accepted step to the next: saved whole, it lets a
/// run continue exactly where it stopped (a checkpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    /// The Newton state at `t`.
    pub state: State,
    /// Independent concentrations one step back (None right after t = 0 or a breakpoint, where
    /// the next step is backward Euler).
    pub previous_concentrations: Option<Vec<f64>>,
    /// Scaled time reached.
    pub t: f64,
    /// The next step to try and the last accepted one (scaled).
    pub dt: f64,
    pub dt_prev: f64,
    pub rows: Vec<TimeRow>,
    pub snapshots: Vec<(f64, TransportSolution)>,
    pub steps: u32,
    pub rejected: u32,
    pub linear_iterations: u32,
    pub newton_iterations: u32,
    /// The solution of the last accepted step.
    pub last: Option<TransportSolution>,
}

/// Receives the time loop's progress after each accepted step (checkpoint writing).
pub trait StepObserver {
    /// Called after every accepted step; an error stops the run. `resumable`: the next step
    /// starts with a fresh preconditioner, so a run resumed from `progress` repeats this run's
    /// arithmetic bit for bit ([`TimeParams::fresh_after`]).
    fn accepted(&mut self, progress: &Progress, resumable: bool) -> Result<(), Error>;
}

/// An observer that does nothing.
pub struct NoObserver;

impl StepObserver for NoObserver {
    fn accepted(&mut self, _: &Progress, _: bool) -> Result<(), Error> {
        Ok(())
    }
}

/// Runs from the bulk state at t = 0 (or from `resume`, a saved [`Progress`] of the same problem)
/// to `time.end` (or depletion); `drive(t0, t1)` is the applied potential or current of a step
/// over the scaled interval [t0, t1] (at t0 = t1 = 0: the initial state's). `observer` sees the progress after each accepted step.
///
/// The solver's preconditioner is kept across steps and forgotten before the first attempt of
/// every `preconditioner_reuse_steps`-th step, a rule of the step count alone: a run resumed
/// from a step where it is forgotten repeats the uninterrupted run exactly.
#[allow(clippy::too_many_arguments)]
pub fn run(
    sys: &PotentialSystem,
    edges: &Edges,
    tp: &TransportParams,
    drive: &dyn Fn(f64, f64) -> Drive,
    backend: &mut TransportBackend,
    linear: &LinearParams,
    newton: &NewtonParams,
    time: &TimeParams,
    resume: Option<Progress>,
    observer: &mut dyn StepObserver,
) -> Result<TransientResult, Error> {
    let mut tr = TransportProblem::new(sys, edges, tp);
    let mut p = starting_progress(&tr, drive, time, resume)?;
    let mut c_now = tr.concentrations(&p.state);
    let species = c_now.len() / tr.volumes().len().max(1);
    // One snapshot per output time, so the saved ones are the first output times.
    let mut outputs = time.output_times.iter().copied().filter(|&o| o > 0.0 && o <= time.end).skip(p.snapshots.len()).peekable();
    // The accepted-step count at which the preconditioner was last forgotten (rejected attempts
    // of that step keep the new one).
    let mut forgotten_at: Option<u32> = None;
    let plating = tp.plating_species();
    let depleted = |p: &Progress| p.rows.last().is_some_and(|r| r.min_surface[plating] < time.depletion * tp.bulk[plating]);
    let stop = loop {
        // Checked before stepping, so a run resumed from its last step stops where it stopped.
        if depleted(&p) {
            break Stop::Depletion;
        }
        if p.t >= time.end * (1.0 - 1e-12) {
            break Stop::EndTime;
        }
        let t = p.t;
        let next_break = time.breakpoints.iter().copied().find(|&b| b > t).unwrap_or(f64::INFINITY);
        let target = outputs.peek().copied().unwrap_or(time.end).min(time.end).min(next_break);
        // Steps that reach an output time or a breakpoint end exactly on it (no round-off drift;
        // a max_step that divides the interval in floating point lands there too, not an ulp short).
        let mut step = p.dt.min(time.max_step).min(target - t);
        let lands_on_target = step >= (target - t) * (1.0 - 1e-9);
        if lands_on_target {
            step = target - t;
        }
        let acc = accumulation(&c_now, p.previous_concentrations.as_deref(), step, p.dt_prev);
        if time.fresh_after(p.steps) && forgotten_at != Some(p.steps) {
            backend.solver.new_nonlinear_solve();
            forgotten_at = Some(p.steps);
        }
        let mut trial = p.state.clone();
        let stats = match tr.newton(&mut trial, drive(t, t + step), Some(&acc), backend, linear, newton) {
            Ok(stats) => stats,
            // A device fault is not cured by a smaller step.
            Err(e) if e.solve_message().is_none() => return Err(e),
            Err(e) => {
                p.rejected += 1;
                p.dt = 0.25 * step;
                if p.dt < 1e-12 * time.end.max(time.initial_step) {
                    // The diagnostics show the failed step's last Newton iterate.
                    return Err(e.map_solve_message(|last| {
                        format!("time stepping: step size underflow at t = {t:.6e} (scaled); last error: {last}")
                    }));
                }
                continue;
            }
        };
        let c_new = tr.concentrations(&trial);
        // Local error estimate (BDF2 steps) and the next step's growth factor.
        let mut factor = 2.0;
        if let Some(prev) = &p.previous_concentrations {
            let err = local_error(&c_new, &c_now, prev, step / p.dt_prev, &tp.bulk, species);
            if err > time.rtol {
                p.rejected += 1;
                p.dt = step * (0.9 * (time.rtol / err).cbrt()).clamp(0.2, 0.9);
                continue;
            }
            factor = (0.9 * (time.rtol / err.max(1e-300)).cbrt()).clamp(0.3, 2.0);
        }
        // Accept.
        p.linear_iterations += stats.linear_iterations;
        p.newton_iterations += stats.iterations;
        p.steps += 1;
        p.t = if lands_on_target { target } else { t + step };
        p.state = trial;
        p.previous_concentrations = Some(std::mem::replace(&mut c_now, c_new));
        p.dt_prev = step;
        p.dt = step * factor;
        if lands_on_target && target == next_break && time.jumps.contains(&target) {
            // The drive jumps here: restart the multistep history with a small Euler step.
            p.previous_concentrations = None;
            p.dt = time.initial_step;
        }
        let sol = tr.solution(sys, &p.state, stats);
        p.rows.push(time_row(sys, p.t, &sol));
        progress::report(Event::TimeStep { step: p.steps, fraction: p.t / time.end });
        if outputs.peek().is_some_and(|&o| p.t >= o) {
            outputs.next();
            p.snapshots.push((p.t, sol.clone()));
        }
        p.last = Some(sol);
        observer.accepted(&p, time.fresh_after(p.steps))?;
    };
    let Progress { rows, snapshots, steps, rejected, linear_iterations, newton_iterations, last, .. } = p;
    let last = last.ok_or_else(|| Error::Solve("time stepping ended before the first step".into()))?;
    Ok(TransientResult { last, rows, snapshots, steps, rejected, stop, linear_iterations, newton_iterations })
}

/// The progress a run starts from: `resume` (checked against the problem) or the bulk state at t = 0.
fn starting_progress(
    tr: &TransportProblem,
    drive: &dyn Fn(f64, f64) -> Drive,
    time: &TimeParams,
    resume: Option<Progress>,
) -> Result<Progress, Error> {
    if let Some(saved) = resume {
        if saved.state.x.len() != tr.unknowns() {
            return Err(Error::input(format!(
                "checkpoint: {} unknowns saved, the problem has {}",
                saved.state.x.len(),
                tr.unknowns()
            )));
        }
        return Ok(saved);
    }
    Ok(Progress {
        state: tr.initial_state(drive(0.0, 0.0))?,
        previous_concentrations: None,
        t: 0.0,
        dt: time.initial_step,
        dt_prev: 0.0,
        rows: Vec::new(),
        snapshots: Vec::new(),
        steps: 0,
        rejected: 0,
        linear_iterations: 0,
        newton_iterations: 0,
        last: None,
    })
}

/// The accumulation term of a step of size `step` from concentrations `c_now`: backward Euler
/// without a previous step, else variable-step BDF2 with ratio `w = step / dt_prev`.
fn accumulation(c_now: &[f64], previous: Option<&[f64]>, step: f64, dt_prev: f64) -> Accumulation {
    match previous {
        None => Accumulation { a0: 1.0 / step, history: c_now.iter().map(|c| c / step).collect() },
        Some(prev) => {
            let w = step / dt_prev;
            Accumulation {
                a0: (1.0 + 2.0 * w) / ((1.0 + w) * step),
                history: c_now.iter().zip(prev).map(|(cn, cp)| ((1.0 + w) * cn - w * w / (1.0 + w) * cp) / step).collect(),
            }
        }
    }
}

/// Local error estimate of a BDF2 step with ratio `w`: the distance of the new concentrations from
/// the linear extrapolation of the last two, each species relative to its own bulk value (a minor
/// species must not hide behind a supporting electrolyte a thousand times more concentrated).
fn local_error(c_new: &[f64], c_now: &[f64], prev: &[f64], w: f64, bulk: &[f64], species: usize) -> f64 {
    c_new
        .iter()
        .zip(c_now)
        .zip(prev)
        .enumerate()
        .map(|(j, ((cn1, cn), cp))| (cn1 - (cn + w * (cn - cp))).abs() / bulk[j % species])
        .fold(0.0, f64::max)
        / 3.0
}

/// The time series row of an accepted step at `t`.
fn time_row(sys: &PotentialSystem, t: f64, sol: &TransportSolution) -> TimeRow {
    let min_surface: Vec<f64> =
        sol.concentrations.iter().map(|c| sys.electrode.iter().map(|&n| c[n as usize]).fold(f64::INFINITY, f64::min)).collect();
    let max_reaction_density = sol.electrode_flux.iter().zip(&sys.electrode_area).map(|(r, a)| (r / a).abs()).fold(0.0, f64::max);
    TimeRow { t, electrode_potential: sol.electrode_potential, min_surface, max_reaction_density }
}
