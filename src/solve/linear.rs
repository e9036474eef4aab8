//! Linear solver API shared by the backends: parameters, information, errors.
//!
//! Both backends run preconditioned conjugate gradients on the SPD systems of the potential
//! problem, with Jacobi or smoothed-aggregation multigrid ([`super::amg`]; V-cycles in f64 on
//! the CPU, from the SpMV and vector kernels on the GPU).
//! Convergence is always judged on the f64 residual `||b - A x|| <= rtol ||b||`.

use crate::fem::CsrMatrix;

/// Parameters of one linear solve.
#[derive(Debug, Clone, Copy)]
pub struct LinearParams {
    /// Relative residual target.
    pub rtol: f64,
    /// Iteration cap.
    pub max_iterations: u32,
    /// Unknowns per node in node-interleaved systems (block preconditioners use it; 1 = scalar).
    pub block_size: usize,
    /// Preconditioner of the SPD solves.
    pub preconditioner: Preconditioner,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams { rtol: 1e-9, max_iterations: 20_000, block_size: 1, preconditioner: Preconditioner::Jacobi }
    }
}

/// Preconditioner of conjugate gradients on the SPD (potential) systems.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Preconditioner {
    /// Diagonal scaling: cheap per iteration, iterations grow like 1/h under refinement.
    Jacobi,
    /// Smoothed-aggregation algebraic multigrid, one V-cycle per iteration: iteration counts
    /// nearly independent of the mesh (both backends; the hierarchy is built on the host).
    #[default]
    Amg,
}

/// What a successful solve did.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinearInfo {
    /// Krylov iterations (summed over defect-correction sweeps on the GPU).
    pub iterations: u32,
    /// Final relative residual ||b - A x|| / ||b|| in f64.
    pub relative_residual: f64,
}

/// Why a linear solve failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LinearError {
    #[error(
        "the Krylov solver did not reach rtol {rtol:e} in {iterations} iterations (relative residual {relative_residual:e})"
    )]
    NoConvergence { iterations: u32, relative_residual: f64, rtol: f64 },
    #[error("non-finite value in the Krylov solver at iteration {iteration} ({where_})")]
    NonFinite { iteration: u32, where_: String },
    #[error("GPU device error: {0}")]
    Device(String),
}

/// Host <-> device traffic of a backend's device so far, and the time the host waited for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct DeviceTransfers {
    pub host_to_device_bytes: u64,
    pub device_to_host_bytes: u64,
    /// Seconds the host spent blocked until the device finished its queued work (every wait is
    /// a read-back), so about the device's share of the wall time.
    pub device_wait_s: f64,
    /// Device-assembled Jacobians read back to the host ([`DeviceMatrixValues::read_back`]).
    pub jacobian_read_backs: u64,
}

/// A backend's solver for SPD systems `A x = b`; `x` holds the initial guess on entry.
pub trait LinearSolver {
    /// Solves in place.
    fn solve(&mut self, a: &CsrMatrix, b: &[f64], x: &mut [f64], params: &LinearParams) -> Result<LinearInfo, LinearError>;

    /// The most device memory one solve of this backend has taken so far, bytes (None on the
    /// CPU). Shared by the backend's solvers, which use one device.
    fn device_memory_peak(&self) -> Option<u64> {
        None
    }

    /// Multigrid hierarchies built so far (None where the solver builds none).
    fn preconditioner_builds(&self) -> Option<u64> {
        None
    }

    /// Bytes moved host to device and device to host by the backend's device so far, the
    /// seconds the host waited for it and the matrices read back (None on the CPU). Shared by
    /// the backend's solvers and assembler, which use one device.
    fn device_transfers(&self) -> Option<DeviceTransfers> {
        None
    }

    /// Wall-clock seconds spent building multigrid hierarchies so far (on the host).
    fn multigrid_setup_seconds(&self) -> f64 {
        0.0
    }

    /// Forget preconditioners kept from earlier systems: the solves from here on depend only on
    /// their own matrices (a growth run resumed from this point repeats them bit for bit).
    fn forget_preconditioners(&mut self) {}
}

/// The values of a matrix that a device assembled and keeps (the transport Newton Jacobian), in
/// the entry order of the host pattern they belong to. A solver of the same backend uses them
/// where they are; anything else reads them back.
pub trait DeviceMatrixValues {
    /// Copies the values to the host (f32 precision) into `values` (the pattern's length); a
    /// non-finite value is an error naming its entry. Counted in the device's read-backs.
    fn read_back(&self, values: &mut [f64]) -> Result<(), String>;

    /// The backend's own type, for its solver to downcast.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// The matrix of `pattern` with the device's `values` read back.
pub fn read_back(pattern: &CsrMatrix, values: &dyn DeviceMatrixValues) -> Result<CsrMatrix, LinearError> {
    let mut a = pattern.clone();
    values.read_back(&mut a.values).map_err(LinearError::Device)?;
    Ok(a)
}

/// A backend's solver for general (nonsymmetric) systems; `x` holds the initial guess on entry.
pub trait GeneralLinearSolver {
    /// Solves in place.
    fn solve_general(
        &mut self,
        a: &CsrMatrix,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError>;

    /// Whether [`GeneralLinearSolver::solve_device`] solves with device values where they are
    /// (without reading the matrix back). A device assembler keeps its Jacobian only then.
    fn takes_device_values(&self) -> bool {
        false
    }

    /// Solves with the matrix of pattern `pattern` (its own values ignored) and values `values`
    /// on a device. This default reads them back and solves on the host.
    fn solve_device(
        &mut self,
        pattern: &CsrMatrix,
        values: &dyn DeviceMatrixValues,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        self.solve_general(&read_back(pattern, values)?, b, x, params)
    }

    /// Forget preconditioners kept from earlier systems: the solves from here on depend only on
    /// their own matrices (a run resumed from this point repeats them bit for bit). Called before
    /// each steady Newton solve, and every `preconditioner_reuse_steps` time steps.
    fn new_nonlinear_solve(&mut self) {}

    /// Multigrid hierarchies built so far (None where the solver builds none).
    fn preconditioner_builds(&self) -> Option<u64> {
        None
    }

    /// Wall-clock seconds spent building multigrid hierarchies so far (on the host).
    fn multigrid_setup_seconds(&self) -> f64 {
        0.0
    }

    /// Solves that this solver handed to a fallback so far, with the last reason (None if none).
    fn fallbacks(&self) -> Option<(u32, String)> {
        None
    }

    /// Solves whose multigrid levels the device recomputed from the new matrix values (the kept
    /// hierarchy's Galerkin products), so far (None where the solver has no device hierarchy).
    fn device_multigrid_updates(&self) -> Option<u64> {
        None
    }
}

/// a . b in f64.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// ||v||_2.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// f64 residual r = b - A x and its norm.
#[track_caller]
pub fn residual(a: &CsrMatrix, b: &[f64], x: &[f64], r: &mut [f64]) -> f64 {
    a.spmv(x, r);
    for (ri, bi) in r.iter_mut().zip(b) {
        *ri = bi - *ri;
    }
    norm(r)
}

/// A linear solver's failure as the library's error: a device fault stays a device fault.
impl From<LinearError> for crate::error::Error {
    fn from(e: LinearError) -> Self {
        match e {
            LinearError::Device(msg) => crate::error::Error::Device(msg),
            other => crate::error::Error::Solve(other.to_string()),
        }
    }
}
