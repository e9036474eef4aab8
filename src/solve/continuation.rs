//! Continuation in the drive for steady transport solves that Newton cannot finish from the
//! bulk state: the applied current (or electrode potential) is ramped from zero, where the bulk
//! state is the exact solution, to its value, each step starting Newton from the previous
//! solution. A step that fails is retried at half the increment; a step that succeeds lets the
//! next grow by half.

use super::device_jacobian::TransportBackend;
use super::linear::LinearParams;
use super::newton::NewtonParams;
use super::primary::Drive;
use super::transport::{NewtonStats, State, TransportProblem};
use crate::error::Error;

/// First fraction of the drive tried.
const FIRST_STEP: f64 = 0.125;
/// Smallest increment before the ramp gives up.
const MIN_STEP: f64 = 1.0 / 1024.0;
/// Most continuation steps (successful or not).
const MAX_STEPS: u32 = 100;
/// Newton iterations allowed per step: a step starts near its solution, and one that needs more
/// is cheaper to retry at half the increment.
const STEP_NEWTON_ITERATIONS: u32 = 12;

/// A drive scaled by `s` in [0, 1].
fn scaled(drive: Drive, s: f64) -> Drive {
    match drive {
        Drive::Potential(e) => Drive::Potential(s * e),
        Drive::Current(i) => Drive::Current(s * i),
    }
}

/// Ramps the drive from zero to `drive`; returns the final state, the summed Newton statistics
/// and the number of successful steps.
pub fn ramp(
    t: &mut TransportProblem<'_>,
    drive: Drive,
    backend: &mut TransportBackend,
    linear: &LinearParams,
    newton: &NewtonParams,
) -> Result<(State, NewtonStats, u32), Error> {
    let mut st = t.initial_state(scaled(drive, 0.0))?;
    let mut total = NewtonStats { iterations: 0, linear_iterations: 0, history: Vec::new() };
    let (mut s, mut ds, mut steps, mut tries) = (0.0f64, FIRST_STEP, 0u32, 0u32);
    let mut last_failure = String::new();
    let step_newton = NewtonParams { max_iterations: newton.max_iterations.min(STEP_NEWTON_ITERATIONS), ..*newton };
    while s < 1.0 {
        tries += 1;
        if tries > MAX_STEPS || ds < MIN_STEP {
            return Err(Error::Solve(format!(
                "continuation stopped at {:.1}% of the drive after {steps} steps (last failure: {last_failure})",
                100.0 * s
            )));
        }
        let next = (s + ds).min(1.0);
        let step_drive = scaled(drive, next);
        let mut trial = st.clone();
        if let Drive::Potential(e) = step_drive {
            trial.e = e;
        }
        backend.solver.new_nonlinear_solve();
        match t.newton(&mut trial, step_drive, None, backend, linear, &step_newton) {
            Ok(stats) => {
                total.iterations += stats.iterations;
                total.linear_iterations += stats.linear_iterations;
                total.history.extend(stats.history);
                st = trial;
                s = next;
                steps += 1;
                ds *= 1.5;
            }
            Err(e) if e.solve_message().is_some() => {
                last_failure = e.solve_message().unwrap_or_default().to_string();
                ds *= 0.5;
            }
            Err(other) => return Err(other),
        }
    }
    Ok((st, total, steps))
}
