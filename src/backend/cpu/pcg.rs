//! Jacobi-preconditioned conjugate gradients in f64 on the CPU: the reference solver.
//! It runs the same steps as the GPU loop (start, spmv, alpha, update x/r/z, beta, update p).

use super::kernels;
use crate::fem::CsrMatrix;
use crate::solve::linear::{norm, residual, LinearError, LinearInfo, LinearParams, LinearSolver};

/// The CPU linear solver.
pub struct CpuPcg;

impl LinearSolver for CpuPcg {
    fn solve(&mut self, a: &CsrMatrix, b: &[f64], x: &mut [f64], params: &LinearParams) -> Result<LinearInfo, LinearError> {
        assert_eq!(b.len(), a.n);
        assert_eq!(x.len(), a.n);
        let bnorm = norm(b);
        if bnorm == 0.0 {
            x.fill(0.0);
            return Ok(LinearInfo { iterations: 0, relative_residual: 0.0 });
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
