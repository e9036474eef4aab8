//! Preconditioned conjugate gradients in f64 on the CPU: the reference solver.
//!
//! Jacobi: the same steps as the GPU loop (start, spmv, alpha, update x/r/z, beta, update p).
//! Multigrid: one V-cycle of [`crate::solve::amg`] per iteration. The hierarchy is kept and
//! reused while the solves that follow have the same sparsity pattern (the Jacobians of one
//! Newton solve, the steps of a transient run) and it still pays: it is rebuilt when a solve
//! takes more than twice the iterations of the one right after the last build.

use super::kernels;
use crate::fem::CsrMatrix;
use crate::solve::amg::{AmgParams, Hierarchy, Workspace};
use crate::solve::linear::{dot, norm, residual, LinearError, LinearInfo, LinearParams, LinearSolver, Preconditioner};

/// The CPU linear solver.
#[derive(Default)]
pub struct CpuPcg {
    cached: Option<CachedHierarchy>,
}

/// A multigrid hierarchy with what identifies its matrix and how well it did when fresh.
struct CachedHierarchy {
    hierarchy: Hierarchy,
    work: Workspace,
    pattern: (usize, usize, u64),
    fresh_iterations: Option<u32>,
}

/// Size, non-zeros and a checksum of the column indices: equal for the matrices of one
/// discrete problem.
fn pattern_of(a: &CsrMatrix) -> (usize, usize, u64) {
    let sum = a.col_idx.iter().enumerate().fold(0u64, |h, (k, &c)| h.wrapping_mul(31).wrapping_add(c as u64 ^ k as u64));
    (a.n, a.nnz(), sum)
}

impl LinearSolver for CpuPcg {
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
        let rel = residual(a, b, x, &mut r) / bnorm;
        if !rel.is_finite() {
            return Err(LinearError::NonFinite { iteration: it, where_: "final residual".into() });
        }
        if rel > params.rtol * 10.0 {
            return Err(LinearError::NoConvergence { iterations: it, relative_residual: rel, rtol: params.rtol });
        }
        Ok(LinearInfo { iterations: it, relative_residual: rel })
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
        let pattern = pattern_of(a);
        if self.cached.as_ref().is_none_or(|c| c.pattern != pattern) {
            match Hierarchy::build(a, &AmgParams::default()) {
                Ok(hierarchy) => {
                    let work = hierarchy.workspace();
                    self.cached = Some(CachedHierarchy { hierarchy, work, pattern, fresh_iterations: None })
                }
                Err(_) => {
                    self.cached = None;
                    return self.solve(a, b, x, &LinearParams { preconditioner: Preconditioner::Jacobi, ..*params });
                }
            }
        }
        let info = self.amg_cg(a, b, x, params, bnorm)?;
        if let Some(cached) = self.cached.as_mut() {
            match cached.fresh_iterations {
                None => cached.fresh_iterations = Some(info.iterations.max(1)),
                // The matrix has drifted from the one the hierarchy was built for: rebuild next time.
                Some(fresh) if info.iterations > 2 * fresh + 2 => self.cached = None,
                Some(_) => {}
            }
        }
        Ok(info)
    }

    fn amg_cg(
        &mut self,
        a: &CsrMatrix,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
        bnorm: f64,
    ) -> Result<LinearInfo, LinearError> {
        let CachedHierarchy { hierarchy: h, work, .. } = self.cached.as_mut().expect("a hierarchy was just built");
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
        let rel = residual(a, b, x, &mut r) / bnorm;
        if !rel.is_finite() {
            return Err(LinearError::NonFinite { iteration: it, where_: "final residual (multigrid CG)".into() });
        }
        if rel > params.rtol * 10.0 {
            return Err(LinearError::NoConvergence { iterations: it, relative_residual: rel, rtol: params.rtol });
        }
        Ok(LinearInfo { iterations: it, relative_residual: rel })
    }
}
