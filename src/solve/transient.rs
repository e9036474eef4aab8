//! Implicit time stepping of the transport models: backward Euler for the first step (and after
//! each jump of the drive), taken once whole and once in two halves, then variable-step BDF2.
//! Every step is error-controlled: the Euler start by the difference of its two results, BDF2
//! steps by Milne's device against the quadratic through the last three points ([`bdf2_error`]),
//! so `time.rtol` bounds the local error of each step relative to each species' bulk value.
//!
//! With step ratio w = dt_n / dt_{n-1}, BDF2 approximates
//! `dc/dt ~ [(1 + 2w)/(1 + w) c^{n+1} - (1 + w) c^n + w^2/(1 + w) c^{n-1}] / dt_n`.
//! Times here are scaled by `L^2 / D_ref`.

use super::device_jacobian::TransportBackend;
use super::linear::LinearParams;
use super::newton::{NewtonParams, NewtonStats};
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
    /// Error tolerance on concentrations, relative to each species' bulk value: a step of length
    /// h ending a time t after the start or the last jump may commit rtol h / t.
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
/// the peak reaction flux density (scaled) that the caller's `peak_density` gives (the recovered
/// value summary.json reports, not a raw nodal one).
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
    /// Independent concentrations two steps back (the error estimate's quadratic predictor).
    #[serde(default)]
    pub older_concentrations: Option<Vec<f64>>,
    /// Scaled time reached.
    pub t: f64,
    /// The next step to try and the last accepted one (scaled).
    pub dt: f64,
    pub dt_prev: f64,
    /// The step before the last accepted one (scaled).
    #[serde(default)]
    pub dt_prev2: f64,
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
/// over the scaled interval [t0, t1] (at t0 = t1 = 0: the initial state's). `observer` sees the progress after each accepted step;
/// `peak_density` gives each step's peak electrode reaction density for its time row.
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
    peak_density: &dyn Fn(&TransportSolution) -> f64,
) -> Result<TransientResult, Error> {
    let mut tr = TransportProblem::new(sys, edges, tp);
    let mut p = starting_progress(&tr, sys, drive, time, resume)?;
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
        p.check_step_budget(time)?;
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
        if time.fresh_after(p.steps) && forgotten_at != Some(p.steps) {
            backend.solver.new_nonlinear_solve();
            forgotten_at = Some(p.steps);
        }
        let attempt = StepAttempt { t, step, drive, linear, newton };
        let taken = match attempt.take(&mut tr, &p, &c_now, backend) {
            Ok(taken) => taken,
            // A device fault is not cured by a smaller step.
            Err(e) if e.solve_message().is_none() => return Err(e),
            Err(e) => {
                p.rejected = p.rejected.saturating_add(1);
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
        let err = taken.error.iter().enumerate().map(|(j, e)| e.abs() / tp.bulk[j % species]).fold(0.0, f64::max);
        let factor = match step_factor(time, t, step, taken.order, err) {
            Ok(factor) => factor,
            Err(shrink) => {
                p.rejected = p.rejected.saturating_add(1);
                p.dt = step * shrink;
                continue;
            }
        };
        // Accept.
        let stats = taken.stats;
        p.linear_iterations = p.linear_iterations.saturating_add(stats.linear_iterations);
        p.newton_iterations = p.newton_iterations.saturating_add(stats.iterations);
        p.steps += 1;
        p.t = if lands_on_target { target } else { t + step };
        p.state = taken.state;
        match taken.midpoint {
            // A doubled Euler start: the history is (t, t + step/2, t + step).
            Some(half) => {
                p.older_concentrations = Some(std::mem::replace(&mut c_now, taken.concentrations));
                p.previous_concentrations = Some(half);
                p.dt_prev2 = 0.5 * step;
                p.dt_prev = 0.5 * step;
                p.dt = (step * factor).min(step);
            }
            None => {
                p.older_concentrations = p.previous_concentrations.take();
                p.previous_concentrations = Some(std::mem::replace(&mut c_now, taken.concentrations));
                p.dt_prev2 = p.dt_prev;
                p.dt_prev = step;
                p.dt = step * factor;
            }
        }
        if lands_on_target && target == next_break && time.jumps.contains(&target) {
            // The drive jumps here: restart the multistep history with a small Euler step.
            p.previous_concentrations = None;
            p.older_concentrations = None;
            p.dt = time.initial_step;
        }
        let sol = tr.solution(sys, &p.state, stats);
        p.rows.push(time_row(sys, p.t, &sol, peak_density(&sol)));
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

/// Local error control, per unit of relative time: a step of size `step` from `t` ending a time
/// `since` after the start (or the drive's last jump) may commit rtol step / since, relative to
/// each species' bulk value (`err` is its estimate so measured). The steps' errors then add up
/// to about rtol ln(t_end / t_first): the global error is in proportion to rtol (per-step
/// control, rtol each, lets it grow with the step count, as rtol^(2/3) for BDF2), and a first
/// step after a jump, where step = since, still gets all of rtol. Ok(growth factor of the next
/// step) when the step is accepted, Err(shrink factor) when it is not.
fn step_factor(time: &TimeParams, t: f64, step: f64, order: u32, err: f64) -> Result<f64, f64> {
    let since = t + step - time.jumps.iter().copied().filter(|&j| j <= t).fold(0.0, f64::max);
    let tolerance = time.rtol * (step / since).min(1.0);
    // err / tolerance scales as step^q while step << since, as step^(q+1) near the start.
    let q = order as f64;
    let exponent = if step < 0.5 * since { 1.0 / q } else { 1.0 / (q + 1.0) };
    let ratio = tolerance / err.max(1e-300);
    if err > tolerance {
        return Err((0.9 * ratio.powf(exponent)).clamp(0.2, 0.9));
    }
    // Growth at most 2 per step (variable-step BDF2 is zero-stable for ratios below 1 + sqrt 2).
    Ok((0.9 * ratio.powf(exponent)).clamp(0.3, 2.0))
}

/// The progress a run starts from: `resume` (checked against the problem) or the bulk state at t = 0.
fn starting_progress(
    tr: &TransportProblem,
    sys: &PotentialSystem,
    drive: &dyn Fn(f64, f64) -> Drive,
    time: &TimeParams,
    resume: Option<Progress>,
) -> Result<Progress, Error> {
    if let Some(saved) = resume {
        saved.check(tr, sys, time).map_err(|why| Error::input(format!("checkpoint: {why}; it does not belong to this run")))?;
        return Ok(saved);
    }
    Ok(Progress::at_start(tr.initial_state(drive(0.0, 0.0))?, time.initial_step))
}

impl Progress {
    /// Checks a saved progress (read from a file, so possibly edited or damaged) against the
    /// problem it is to continue: vector lengths, finite numbers, and step, time and counts
    /// consistent with one another and with the time controls. Returns what is wrong.
    pub fn check(&self, tr: &TransportProblem, sys: &PotentialSystem, time: &TimeParams) -> std::result::Result<(), String> {
        let finite = |name: &str, v: &[f64]| match v.iter().position(|x| !x.is_finite()) {
            Some(i) => Err(format!("{name}[{i}] is not a finite number")),
            None => Ok(()),
        };
        let length = |name: &str, v: &[f64], want: usize| {
            if v.len() != want {
                return Err(format!("{name} has {} values, the problem has {want}", v.len()));
            }
            finite(name, v)
        };
        length("state", &self.state.x, tr.unknowns())?;
        finite("electrode potential", &[self.state.e])?;
        let independent = tr.independent_concentrations();
        for (name, c) in
            [("previous concentrations", &self.previous_concentrations), ("older concentrations", &self.older_concentrations)]
        {
            if let Some(c) = c {
                length(name, c, independent)?;
            }
        }
        finite("time and step sizes", &[self.t, self.dt, self.dt_prev, self.dt_prev2])?;
        if self.t < 0.0 || self.t > time.end * (1.0 + 1e-9) || self.dt <= 0.0 || self.dt_prev < 0.0 || self.dt_prev2 < 0.0 {
            return Err(format!(
                "time {:e} (of end {:e}) or step sizes {:e}, {:e}, {:e} out of range (scaled)",
                self.t, time.end, self.dt, self.dt_prev, self.dt_prev2
            ));
        }
        let cap = crate::scene::checks::MAX_TIME_STEPS;
        if self.steps.saturating_add(self.rejected) > cap {
            return Err(format!("{} steps and {} rejected ones, more than the {cap} a run may take", self.steps, self.rejected));
        }
        if self.rows.len() != self.steps as usize || self.last.is_some() != (self.steps > 0) {
            return Err(format!("{} steps but {} rows of the time series", self.steps, self.rows.len()));
        }
        let reference = tr.solution(sys, &self.state, NewtonStats::default());
        let species = reference.concentrations.len();
        let mut before = 0.0;
        for (k, r) in self.rows.iter().enumerate() {
            let name = format!("time series row {k}");
            finite(&name, &[r.t, r.electrode_potential, r.max_reaction_density])?;
            length(&name, &r.min_surface, species)?;
            if r.t < before || r.t > self.t {
                return Err(format!("{name} at t = {:e} is out of order (the run is at {:e})", r.t, self.t));
            }
            before = r.t;
        }
        let outputs: Vec<f64> = time.output_times.iter().copied().filter(|&o| o > 0.0 && o <= self.t * (1.0 + 1e-12)).collect();
        if self.snapshots.len() != outputs.len() {
            return Err(format!("{} snapshots, but {} output times lie before t", self.snapshots.len(), outputs.len()));
        }
        // Each snapshot is taken at the first step that reaches its output time.
        let rows_t: Vec<f64> = self.rows.iter().map(|r| r.t).collect();
        for (k, ((t, _), output)) in self.snapshots.iter().zip(&outputs).enumerate() {
            let at_reaching_step = rows_t.iter().find(|&&rt| rt >= *output) == Some(t);
            if !at_reaching_step {
                return Err(format!("snapshot {k} at t = {t:e} is not at the step that reached output time {output:e}"));
            }
        }
        let solutions = self.snapshots.iter().map(|(_, s)| s).chain(self.last.as_ref());
        for (k, s) in solutions.enumerate() {
            let name = format!("saved solution {k}");
            length(&name, &s.phi, reference.phi.len())?;
            length(&name, &s.electrode_flux, reference.electrode_flux.len())?;
            length(&name, &s.site_reaction, reference.site_reaction.len())?;
            if s.concentrations.len() != reference.concentrations.len() {
                return Err(format!(
                    "{name} has {} species, the problem has {}",
                    s.concentrations.len(),
                    reference.concentrations.len()
                ));
            }
            for c in &s.concentrations {
                length(&name, c, reference.phi.len())?;
            }
            if let (Some(a), Some(b)) = (&s.solid_potential, &reference.solid_potential) {
                length(&name, a, b.len())?;
            }
        }
        Ok(())
    }

    /// Stops a run that has taken [`crate::scene::checks::MAX_TIME_STEPS`] steps (accepted and
    /// rejected) without reaching its end time.
    fn check_step_budget(&self, time: &TimeParams) -> Result<(), Error> {
        let taken = self.steps.saturating_add(self.rejected);
        if taken < crate::scene::checks::MAX_TIME_STEPS {
            return Ok(());
        }
        Err(Error::Solve(format!(
            "time stepping: {taken} steps ({} rejected) without reaching the end time (at t = {:.6e} of {:.6e}, scaled); \
             the step size is held far below the interval: loosen time.rtol or check the drive",
            self.rejected, self.t, time.end
        )))
    }

    /// A run at t = 0 in `state` (the bulk state, or any other initial condition), whose first
    /// step is a backward Euler step of `initial_step`.
    pub fn at_start(state: State, initial_step: f64) -> Progress {
        Progress {
            state,
            previous_concentrations: None,
            older_concentrations: None,
            t: 0.0,
            dt: initial_step,
            dt_prev: 0.0,
            dt_prev2: 0.0,
            rows: Vec::new(),
            snapshots: Vec::new(),
            steps: 0,
            rejected: 0,
            linear_iterations: 0,
            newton_iterations: 0,
            last: None,
        }
    }
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

/// One step of size `step` from scaled time `t`, to be taken and error-estimated.
struct StepAttempt<'d> {
    t: f64,
    step: f64,
    drive: &'d dyn Fn(f64, f64) -> Drive,
    linear: &'d LinearParams,
    newton: &'d NewtonParams,
}

/// A step taken: the new state and concentrations, the local error estimate of each independent
/// concentration, the order of the step's error (step^(order+1)), the summed Newton statistics
/// and, for a doubled Euler start, the concentrations at the step's midpoint.
struct Taken {
    state: State,
    concentrations: Vec<f64>,
    error: Vec<f64>,
    order: u32,
    stats: NewtonStats,
    midpoint: Option<Vec<f64>>,
}

impl StepAttempt<'_> {
    /// Takes the step: variable-step BDF2 when there is a history, else backward Euler doubled
    /// (one full step and two half steps; the half steps' result is kept, and the difference
    /// of the two estimates its error: an Euler start is error-controlled like every other step).
    fn take(
        &self,
        tr: &mut TransportProblem,
        p: &Progress,
        c_now: &[f64],
        backend: &mut TransportBackend,
    ) -> Result<Taken, Error> {
        let (t, h) = (self.t, self.step);
        let Some(previous) = &p.previous_concentrations else {
            let (full, full_stats) = self.newton(tr, &p.state, accumulation(c_now, None, h, 0.0), (t, t + h), backend)?;
            let c_full = tr.concentrations(&full);
            let (half, mut stats) =
                self.newton(tr, &p.state, accumulation(c_now, None, 0.5 * h, 0.0), (t, t + 0.5 * h), backend)?;
            let c_half = tr.concentrations(&half);
            let acc = accumulation(&c_half, None, 0.5 * h, 0.0);
            let (state, second) = self.newton(tr, &half, acc, (t + 0.5 * h, t + h), backend)?;
            let concentrations = tr.concentrations(&state);
            let error = concentrations.iter().zip(&c_full).map(|(a, b)| a - b).collect();
            for s in [full_stats, second] {
                stats.iterations += s.iterations;
                stats.linear_iterations += s.linear_iterations;
                stats.history.extend(s.history);
            }
            return Ok(Taken { state, concentrations, error, order: 1, stats, midpoint: Some(c_half) });
        };
        let acc = accumulation(c_now, Some(previous), h, p.dt_prev);
        let (state, stats) = self.newton(tr, &p.state, acc, (t, t + h), backend)?;
        let concentrations = tr.concentrations(&state);
        let error = match &p.older_concentrations {
            Some(older) => bdf2_error(&concentrations, c_now, previous, older, [h, p.dt_prev, p.dt_prev2]),
            // A history without the point before (a checkpoint of an earlier release): the
            // linear predictor's distance, a third of it as before.
            None => {
                let w = h / p.dt_prev;
                concentrations.iter().zip(c_now).zip(previous).map(|((c1, c0), cp)| (c1 - (c0 + w * (c0 - cp))) / 3.0).collect()
            }
        };
        Ok(Taken { state, concentrations, error, order: 2, stats, midpoint: None })
    }

    /// Newton for one implicit step from `start` over `interval` with accumulation `acc`.
    fn newton(
        &self,
        tr: &mut TransportProblem,
        start: &State,
        acc: Accumulation,
        interval: (f64, f64),
        backend: &mut TransportBackend,
    ) -> Result<(State, NewtonStats), Error> {
        let mut state = start.clone();
        let stats = tr.newton(&mut state, (self.drive)(interval.0, interval.1), Some(&acc), backend, self.linear, self.newton)?;
        Ok((state, stats))
    }
}

/// Local error estimate of a variable-step BDF2 step (Milne's device with a quadratic predictor).
///
/// With steps `[h, h1, h2]` (this one, the last, the one before) and w = h / h1, the step's local
/// error is `y''' h^2 (h + h1)(1 + w) / (6 (1 + 2 w))` (the derivative error of the BDF2
/// interpolant at t_n+1 divided by its leading coefficient), and the quadratic through the last
/// three points extrapolates to t_n+1 with error `y''' h (h + h1)(h + h1 + h2) / 6`. Their
/// difference D = c_n+1 - P(t_n+1) is measured, so the local error is
/// `D K_bdf / (K_bdf + K_pred)`: 2/11 of D at constant steps.
fn bdf2_error(c_new: &[f64], c_now: &[f64], previous: &[f64], older: &[f64], [h, h1, h2]: [f64; 3]) -> Vec<f64> {
    // Lagrange weights of the quadratic through t_n, t_n-1, t_n-2 at t_n+1.
    let l0 = (h + h1) * (h + h1 + h2) / (h1 * (h1 + h2));
    let l1 = -h * (h + h1 + h2) / (h1 * h2);
    let l2 = h * (h + h1) / ((h1 + h2) * h2);
    let w = h / h1;
    let k_bdf = h * h * (h + h1) * (1.0 + w) / (6.0 * (1.0 + 2.0 * w));
    let k_pred = h * (h + h1) * (h + h1 + h2) / 6.0;
    let milne = k_bdf / (k_bdf + k_pred);
    c_new
        .iter()
        .zip(c_now)
        .zip(previous)
        .zip(older)
        .map(|(((c1, c0), cp), cpp)| milne * (c1 - (l0 * c0 + l1 * cp + l2 * cpp)))
        .collect()
}

/// The time series row of an accepted step at `t`.
fn time_row(sys: &PotentialSystem, t: f64, sol: &TransportSolution, max_reaction_density: f64) -> TimeRow {
    let min_surface: Vec<f64> =
        sol.concentrations.iter().map(|c| sys.electrode.iter().map(|&n| c[n as usize]).fold(f64::INFINITY, f64::min)).collect();
    TimeRow { t, electrode_potential: sol.electrode_potential, min_surface, max_reaction_density }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On y' = -y from exact history, the BDF2 step's error estimate approaches its true local
    /// error as the step shrinks, at constant and at varying step ratios (the linear-predictor
    /// estimate it replaces grew like 1/h against it: 16, 31, 61, 121 as h halved).
    #[test]
    fn the_bdf2_estimate_is_the_local_error() {
        let y = |t: f64| (-t).exp();
        for (r1, r2) in [(1.0, 1.0), (1.7, 0.8), (0.6, 1.3)] {
            let mut ratios = Vec::new();
            for h in [0.1, 0.05, 0.025, 0.0125] {
                let (h1, h2, t) = (h * r1, h * r2, 1.0);
                let (c0, cp, cpp) = (y(t), y(t - h1), y(t - h1 - h2));
                let acc = accumulation(&[c0], Some(&[cp]), h, h1);
                // BDF2 for y' = -y: a0 c - history = -c.
                let c1 = acc.history[0] / (acc.a0 + 1.0);
                let estimate = bdf2_error(&[c1], &[c0], &[cp], &[cpp], [h, h1, h2])[0];
                ratios.push(estimate / (c1 - y(t + h)));
            }
            let last = ratios[ratios.len() - 1];
            assert!((last - 1.0).abs() < 0.03, "ratios {r1}, {r2}: {ratios:?}");
            assert!((last - 1.0).abs() < (ratios[0] - 1.0).abs(), "the estimate should improve as h shrinks: {ratios:?}");
        }
    }
}
