//! f64 defect correction around an f32 Krylov solve on the device, shared by the GPU solvers.
//!
//! r = b - A x in f64 on the host; while ||r|| > rtol ||b||: solve A d = r / ||r|| on the device
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

/// Runs the outer loop; `sweep(rhs, rtol, max_iterations)` solves on the device from zero.
pub fn solve(
    a: &CsrMatrix,
    b: &[f64],
    x: &mut [f64],
    params: &LinearParams,
    name: &str,
    mut sweep: impl FnMut(&[f64], f64, u32) -> Result<Sweep, String>,
) -> Result<LinearInfo, LinearError> {
    let bnorm = norm(b);
    if bnorm == 0.0 {
        x.fill(0.0);
        return Ok(LinearInfo { iterations: 0, relative_residual: 0.0 });
    }
    let mut r = vec![0.0; a.n];
    let mut rnorm = residual(a, b, x, &mut r);
    let mut iterations = 0u32;
    for _ in 0..MAX_SWEEPS {
        let rel = rnorm / bnorm;
        if rel <= params.rtol || iterations >= params.max_iterations {
            break;
        }
        let scaled: Vec<f64> = r.iter().map(|v| v / rnorm).collect();
        let target = (params.rtol / rel).max(SWEEP_RTOL);
        let s = sweep(&scaled, target, params.max_iterations - iterations).map_err(LinearError::Device)?;
        iterations += s.iterations;
        if let Some(at) = s.correction.iter().position(|v| !v.is_finite()) {
            let bad = s.correction.iter().filter(|v| !v.is_finite()).count();
            return Err(LinearError::NonFinite {
                iteration: iterations,
                where_: format!(
                    "{name} correction vector read back from the device: {bad} of {} entries non-finite, the first at unknown {at} ({})",
                    s.correction.len(),
                    s.detail
                ),
            });
        }
        for (xi, di) in x.iter_mut().zip(&s.correction) {
            *xi += rnorm * di;
        }
        let new_norm = residual(a, b, x, &mut r);
        if !new_norm.is_finite() {
            return Err(LinearError::NonFinite { iteration: iterations, where_: format!("f64 residual after a {name} sweep") });
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
