//! f64 defect correction around an f32 Krylov solve on the device, shared by the GPU solvers.
//!
//! r = b - A x in f64 (on the host, or on the device for a matrix that stays there:
//! `shaders/residual_f64.wgsl`); while ||r|| > rtol ||b||: solve A d = r / ||r|| on the device
//! to a modest relative tolerance and set x += ||r|| d. Each sweep gains about five digits, so an
//! f64-accurate answer needs two or three sweeps; a sweep that gains less than a factor two ends
//! the solve with what was reached.

use super::context::GpuContext;
use super::layout::status;
use crate::fem::CsrMatrix;
use crate::solve::linear::{norm, residual, LinearError, LinearInfo, LinearParams};

/// Relative residual each f32 sweep aims for.
pub const SWEEP_RTOL: f64 = 1e-5;
/// Sweeps before giving up.
const MAX_SWEEPS: u32 = 16;

/// What one device sweep returned: the correction, iterations used, final status and a
/// description for breakdown messages.
pub struct Sweep {
    pub correction: Vec<f64>,
    pub iterations: u32,
    pub status: u32,
    pub detail: String,
}

/// Runs the outer loop with the host's f64 residual of `a`; `sweep(rhs, rtol, max_iterations)`
/// solves on the device from zero.
pub fn solve(
    a: &CsrMatrix,
    b: &[f64],
    x: &mut [f64],
    params: &LinearParams,
    name: &str,
    sweep: impl FnMut(&[f64], f64, u32) -> Result<Sweep, String>,
) -> Result<LinearInfo, LinearError> {
    let Some(bnorm) = nonzero_norm(b, x) else { return Ok(LinearInfo { iterations: 0, relative_residual: 0.0 }) };
    let r = vec![0.0; b.len()];
    run(&mut HostIterate { a, b, x, r, sweep, name }, bnorm, params, name)
}

/// ||b||, or None for b = 0, whose solution x = 0 is then set.
pub fn nonzero_norm(b: &[f64], x: &mut [f64]) -> Option<f64> {
    let bnorm = norm(b);
    if bnorm == 0.0 {
        x.fill(0.0);
    }
    (bnorm != 0.0).then_some(bnorm)
}

/// What one device sweep did: iterations used, final status and a description for breakdown
/// messages.
pub struct SweepOutcome {
    pub iterations: u32,
    pub status: u32,
    pub detail: String,
}

/// The iterate of the defect loop and the steps on it, wherever it lives.
pub trait DefectIterate {
    /// r = b - A x (f64) for the current x; returns ||r||.
    fn residual(&mut self) -> Result<f64, String>;

    /// Solves A d = r / `rnorm` on the device from zero to `rtol` (relative) within
    /// `max_iterations`, and sets x += `rnorm` d.
    fn correct(&mut self, rnorm: f64, rtol: f64, max_iterations: u32) -> Result<SweepOutcome, LinearError>;
}

/// The iterate on the host: the f64 residual from the host matrix, corrections read back.
struct HostIterate<'a, F> {
    a: &'a CsrMatrix,
    b: &'a [f64],
    x: &'a mut [f64],
    r: Vec<f64>,
    sweep: F,
    name: &'a str,
}

impl<F: FnMut(&[f64], f64, u32) -> Result<Sweep, String>> DefectIterate for HostIterate<'_, F> {
    fn residual(&mut self) -> Result<f64, String> {
        Ok(residual(self.a, self.b, self.x, &mut self.r))
    }

    fn correct(&mut self, rnorm: f64, rtol: f64, max_iterations: u32) -> Result<SweepOutcome, LinearError> {
        let scaled: Vec<f64> = self.r.iter().map(|v| v / rnorm).collect();
        let s = (self.sweep)(&scaled, rtol, max_iterations).map_err(LinearError::Device)?;
        if let Some(at) = s.correction.iter().position(|v| !v.is_finite()) {
            let bad = s.correction.iter().filter(|v| !v.is_finite()).count();
            return Err(LinearError::NonFinite {
                iteration: s.iterations,
                where_: format!(
                    "{} correction vector read back from the device: {bad} of {} entries non-finite, the first at unknown {at} ({})",
                    self.name,
                    s.correction.len(),
                    s.detail
                ),
            });
        }
        for (xi, di) in self.x.iter_mut().zip(&s.correction) {
            *xi += rnorm * di;
        }
        Ok(SweepOutcome { iterations: s.iterations, status: s.status, detail: s.detail })
    }
}

/// The outer loop over `it` for a right-hand side of norm `bnorm` (> 0).
pub fn run(it: &mut dyn DefectIterate, bnorm: f64, params: &LinearParams, name: &str) -> Result<LinearInfo, LinearError> {
    let mut rnorm = it.residual().map_err(LinearError::Device)?;
    let mut iterations = 0u32;
    for _ in 0..MAX_SWEEPS {
        let rel = rnorm / bnorm;
        if rel <= params.rtol || iterations >= params.max_iterations {
            break;
        }
        let target = (params.rtol / rel).max(SWEEP_RTOL);
        let s = it.correct(rnorm, target, params.max_iterations - iterations).map_err(|e| match e {
            LinearError::NonFinite { iteration, where_ } => LinearError::NonFinite { iteration: iterations + iteration, where_ },
            other => other,
        })?;
        iterations += s.iterations;
        let new_norm = it.residual().map_err(LinearError::Device)?;
        if !new_norm.is_finite() {
            return Err(LinearError::NonFinite {
                iteration: iterations,
                where_: format!("f64 residual after a {name} sweep ({})", s.detail),
            });
        }
        let stalled = new_norm > 0.5 * rnorm && s.status != status::CONVERGED;
        rnorm = new_norm;
        if stalled {
            if s.status == status::BREAKDOWN && rnorm / bnorm > params.rtol {
                return Err(LinearError::NonFinite { iteration: iterations, where_: format!("{name} breakdown ({})", s.detail) });
            }
            break;
        }
    }
    let rel = rnorm / bnorm;
    if rel <= params.rtol {
        Ok(LinearInfo { iterations, relative_residual: rel })
    } else {
        Err(LinearError::NoConvergence { iterations, relative_residual: rel, rtol: params.rtol })
    }
}

/// Runs a device Krylov loop in batches: records `iteration` `batch` times into one command
/// buffer (8 at first, doubling to `max_batch`), copies the state buffer to `staging`, and reads
/// it back after each submit until `done` returns a value. No host synchronisation happens
/// inside a batch.
pub fn run_batches<T>(
    ctx: &GpuContext,
    state: &wgpu::Buffer,
    staging: &wgpu::Buffer,
    max_batch: u32,
    mut iteration: impl FnMut(&mut wgpu::ComputePass<'_>),
    mut done: impl FnMut(&[u8]) -> Option<T>,
) -> Result<T, String> {
    let mut batch = 8;
    loop {
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            for _ in 0..batch {
                iteration(&mut pass);
            }
        }
        enc.copy_buffer_to_buffer(state, 0, staging, 0, staging.size());
        ctx.queue.submit([enc.finish()]);
        let bytes = ctx.map_read(staging)?;
        if let Some(out) = done(&bytes) {
            return Ok(out);
        }
        batch = (batch * 2).min(max_batch);
    }
}
