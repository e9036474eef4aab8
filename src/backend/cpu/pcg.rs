//! Preconditioned conjugate gradients in f64 on the CPU: the reference solver.
//!
//! Jacobi: the same steps as the GPU loop (start, spmv, alpha, update x/r/z, beta, update p).
//! Multigrid: one V-cycle of [`crate::solve::amg`] per iteration, the hierarchy kept across
//! solves by a [`HierarchyCache`].

use super::kernels;
use crate::fem::CsrMatrix;
use crate::solve::amg::{AmgParams, Hierarchy, HierarchyCache, Workspace};
use crate::solve::linear::{dot, norm, residual, LinearError, LinearInfo, LinearParams, LinearSolver, Preconditioner};

/// The CPU linear solver.
#[derive(Default)]
pub struct CpuPcg {
    multigrid: HierarchyCache,
}

impl LinearSolver for CpuPcg {
    fn preconditioner_builds(&self) -> Option<u64> {
        Some(self.multigrid.generation())
    }

    fn multigrid_setup_seconds(&self) -> f64 {
        self.multigrid.build_seconds()
    }

    fn forget_preconditioners(&mut self) {
        self.multigrid.forget();
    }

    fn solve(&mut self, a: &CsrMatrix, b: &[f64], x: &mut [f64], params: &LinearParams) -> Result<LinearInfo, LinearError> {
        assert_eq!(b.len(), a.n);
        assert_eq!(x.len(), a.n);
        let bnorm = norm(b);
        if bnorm == 0.0 {
            x.fill(0.0);
            return Ok(LinearInfo { iterations: 0, relative_residual: 0.0 });
        }
        if params.preconditioner == Preconditioner::Amg {
            return self.solve_amg(a, b, x, params, bnorm);
        }
        // Solve for the correction d of the initial guess: A d = b - A x0.
        let mut defect = vec![0.0; a.n];
        residual(a, b, x, &mut defect);
        if let Some(i) = a.diagonal().iter().position(|d| !(d.is_finite() && *d > 0.0)) {
            return Err(LinearError::NonFinite {
                iteration: 0,
                where_: format!("row {i} of the matrix has a non-positive diagonal"),
            });
        }
        let dinv = kernels::inverse_diagonal(a);
        let n = a.n;
        let (mut d, mut r, mut z, mut p, mut q) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (mut rz, mut rr) = kernels::pcg_start(&defect, &dinv, &mut d, &mut r, &mut z, &mut p);
        let tol2 = (params.rtol * bnorm).powi(2);
        let mut it = 0;
        while rr > tol2 && it < params.max_iterations {
            a.spmv(&p, &mut q);
            let pq = kernels::dot(&p, &q);
            if !(pq.is_finite() && pq > 0.0) {
                return Err(LinearError::NonFinite { iteration: it, where_: format!("p.Ap = {pq}") });
            }
            let alpha = rz / pq;
            let (rz_new, rr_new) = kernels::pcg_update_xr(alpha, &p, &q, &dinv, &mut d, &mut r, &mut z);
            let beta = rz_new / rz;
            rz = rz_new;
            rr = rr_new;
            kernels::pcg_update_p(beta, &z, &mut p);
            it += 1;
        }
        for (xi, di) in x.iter_mut().zip(&d) {
            *xi += di;
        }
        finish(a, b, x, params, bnorm, it, "final residual")
    }
}

impl CpuPcg {
    /// CG with a multigrid V-cycle as preconditioner (falls back to Jacobi if the hierarchy
    /// cannot be built, e.g. for a matrix that is not positive definite).
    fn solve_amg(
        &mut self,
        a: &CsrMatrix,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
        bnorm: f64,
    ) -> Result<LinearInfo, LinearError> {
        let Some((h, work)) = self.multigrid.get(a, &AmgParams::default()) else {
            return self.solve(a, b, x, &LinearParams { preconditioner: Preconditioner::Jacobi, ..*params });
        };
        let info = amg_cg(h, work, a, b, x, params, bnorm)?;
        self.multigrid.record(info.iterations);
        Ok(info)
    }
}

/// CG with one V-cycle of `h` as the preconditioner.
fn amg_cg(
    h: &Hierarchy,
    work: &mut Workspace,
    a: &CsrMatrix,
    b: &[f64],
    x: &mut [f64],
    params: &LinearParams,
    bnorm: f64,
) -> Result<LinearInfo, LinearError> {
    let n = a.n;
    let (mut r, mut z, mut p, mut q) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut rr = residual(a, b, x, &mut r).powi(2);
    h.apply_with(work, &r, &mut z);
    p.copy_from_slice(&z);
    let mut rz = dot(&r, &z);
    let tol2 = (params.rtol * bnorm).powi(2);
    let mut it = 0;
    while rr > tol2 && it < params.max_iterations {
        a.spmv(&p, &mut q);
        let pq = dot(&p, &q);
        if !(pq.is_finite() && pq > 0.0) {
            return Err(LinearError::NonFinite { iteration: it, where_: format!("p.Ap = {pq} (multigrid CG)") });
        }
        let alpha = rz / pq;
        x.iter_mut().zip(&p).for_each(|(xi, pi)| *xi += alpha * pi);
        r.iter_mut().zip(&q).for_each(|(ri, qi)| *ri -= alpha * qi);
        rr = dot(&r, &r);
        h.apply_with(work, &r, &mut z);
        let rz_new = dot(&r, &z);
        let beta = rz_new / rz;
        rz = rz_new;
        p.iter_mut().zip(&z).for_each(|(pi, zi)| *pi = zi + beta * *pi);
        it += 1;
    }
    finish(a, b, x, params, bnorm, it, "final residual (multigrid CG)")
}

/// Judges a finished CG on the f64 residual of `x`: success within ten times rtol.
fn finish(
    a: &CsrMatrix,
    b: &[f64],
    x: &[f64],
    params: &LinearParams,
    bnorm: f64,
    iterations: u32,
    what: &str,
) -> Result<LinearInfo, LinearError> {
    let mut r = vec![0.0; a.n];
    let rel = residual(a, b, x, &mut r) / bnorm;
    if !rel.is_finite() {
        return Err(LinearError::NonFinite { iteration: iterations, where_: what.into() });
    }
    if rel > params.rtol * 10.0 {
        return Err(LinearError::NoConvergence { iterations, relative_residual: rel, rtol: params.rtol });
    }
    Ok(LinearInfo { iterations, relative_residual: rel })
}
