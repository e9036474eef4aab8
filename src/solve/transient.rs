//! Implicit time stepping of the transport models: backward Euler for the first step, then
//! variable-step BDF2, with the step size controlled by the local error estimated from the
//! difference between the BDF2 solution and a linear extrapolation of the last two steps.
//!
//! With step ratio w = dt_n / dt_{n-1}, BDF2 approximates
//! `dc/dt ~ [(1 + 2w)/(1 + w) c^{n+1} - (1 + w) c^n + w^2/(1 + w) c^{n-1}] / dt_n`.
//! Times here are scaled by `L^2 / D_ref`.

use super::linear::{GeneralLinearSolver, LinearParams};
use super::primary::Drive;
use super::secondary::NewtonParams;
use super::system::PotentialSystem;
use super::tertiary::{Accumulation, Transport, TransportParams, TransportSolution};
use crate::error::Error;
use crate::fem::edges::Edges;
use crate::progress::{self, Event};

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
    /// Times where the applied waveform jumps (increasing): steps land on them and BDF2 restarts
    /// with a backward Euler step after each.
    pub breakpoints: Vec<f64>,
}

/// One accepted step: time, electrode potential, smallest surface concentration per species and
/// largest reaction flux density (scaled).
#[derive(Debug, Clone)]
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

/// Runs from the bulk state at t = 0 to `time.end` (or depletion); `drive(t)` is the applied
/// potential or current at scaled time t (the value over the step ending at t).
#[allow(clippy::too_many_arguments)]
pub fn run(
    sys: &PotentialSystem,
    edges: &Edges,
    tp: &TransportParams,
    drive: &dyn Fn(f64) -> Drive,
    solver: &mut dyn GeneralLinearSolver,
    linear: &LinearParams,
    newton: &NewtonParams,
    time: &TimeParams,
) -> Result<TransientResult, Error> {
    let mut tr = Transport::new(sys, edges, tp);
    let mut st = tr.initial_state(drive(0.0))?;
    let mut c_now = tr.concentrations(&st);
    let mut c_prev: Option<Vec<f64>> = None;
    let (mut t, mut dt, mut dt_prev) = (0.0f64, time.initial_step, 0.0f64);
    let mut rows = Vec::new();
    let mut snapshots = Vec::new();
    let (mut steps, mut rejected, mut lin, mut nl) = (0u32, 0u32, 0u32, 0u32);
    let species = c_now.len() / tr.volumes().len().max(1);
    let mut outputs = time.output_times.iter().copied().filter(|&o| o > 0.0 && o <= time.end).peekable();
    let mut last = None;
    let stop = loop {
        if t >= time.end * (1.0 - 1e-12) {
            break Stop::EndTime;
        }
        let next_break = time.breakpoints.iter().copied().find(|&b| b > t).unwrap_or(f64::INFINITY);
        let target = outputs.peek().copied().unwrap_or(time.end).min(time.end).min(next_break);
        let step = dt.min(time.max_step).min(target - t);
        // Steps that reach an output time or a breakpoint end exactly on it (no round-off drift).
        let lands_on_target = step >= target - t;
        let lands_on_break = lands_on_target && target == next_break;
        let acc = match &c_prev {
            None => Accumulation { a0: 1.0 / step, history: c_now.iter().map(|c| c / step).collect() },
            Some(prev) => {
                let w = step / dt_prev;
                Accumulation {
                    a0: (1.0 + 2.0 * w) / ((1.0 + w) * step),
                    history: c_now.iter().zip(prev).map(|(cn, cp)| ((1.0 + w) * cn - w * w / (1.0 + w) * cp) / step).collect(),
                }
            }
        };
        let mut trial = st.clone();
        let outcome = tr.newton(&mut trial, drive(t + step), Some(&acc), solver, linear, newton);
        let stats = match outcome {
            Ok(stats) => stats,
            Err(e) => {
                rejected += 1;
                dt = 0.25 * step;
                if dt < 1e-12 * time.end.max(time.initial_step) {
                    return Err(Error::Solve(format!(
                        "time stepping: step size underflow at t = {t:.6e} (scaled); last error: {e}"
                    )));
                }
                continue;
            }
        };
        let c_new = tr.concentrations(&trial);
        // Local error estimate (BDF2 steps): distance from the linear extrapolation.
        let mut factor = 2.0;
        if let Some(prev) = &c_prev {
            let w = step / dt_prev;
            // Each species relative to its own bulk value (a minor species must not hide behind
            // a supporting electrolyte a thousand times more concentrated).
            let err = c_new
                .iter()
                .zip(&c_now)
                .zip(prev)
                .enumerate()
                .map(|(j, ((cn1, cn), cp))| (cn1 - (cn + w * (cn - cp))).abs() / tp.bulk[j % species])
                .fold(0.0, f64::max)
                / 3.0;
            if err > time.rtol {
                rejected += 1;
                dt = step * (0.9 * (time.rtol / err).cbrt()).clamp(0.2, 0.9);
                continue;
            }
            factor = (0.9 * (time.rtol / err.max(1e-300)).cbrt()).clamp(0.3, 2.0);
        }
        // Accept.
        lin += stats.linear_iterations;
        nl += stats.iterations;
        steps += 1;
        t = if lands_on_target { target } else { t + step };
        st = trial;
        c_prev = Some(std::mem::replace(&mut c_now, c_new));
        dt_prev = step;
        dt = step * factor;
        if lands_on_break {
            // The drive jumps here: restart the multistep history with a small Euler step.
            c_prev = None;
            dt = time.initial_step;
        }
        let sol = tr.solution(sys, &st, stats);
        let min_surface: Vec<f64> = sol
            .concentrations
            .iter()
            .map(|c| sys.electrode.iter().map(|&n| c[n as usize]).fold(f64::INFINITY, f64::min))
            .collect();
        let max_reaction_density =
            sol.electrode_reaction.iter().zip(&sys.electrode_area).map(|(r, a)| (r / a).abs()).fold(0.0, f64::max);
        rows.push(TimeRow {
            t,
            electrode_potential: sol.electrode_potential,
            min_surface: min_surface.clone(),
            max_reaction_density,
        });
        progress::report(Event::TimeStep { step: steps, fraction: t / time.end });
        if outputs.peek().is_some_and(|&o| t >= o) {
            outputs.next();
            snapshots.push((t, sol.clone()));
        }
        let depleted = min_surface[tp.reacting] < time.depletion * tp.bulk[tp.reacting];
        last = Some(sol);
        if depleted {
            break Stop::Depletion;
        }
    };
    let last = last.ok_or_else(|| Error::Solve("time stepping ended before the first step".into()))?;
    Ok(TransientResult { last, rows, snapshots, steps, rejected, stop, linear_iterations: lin, newton_iterations: nl })
}
