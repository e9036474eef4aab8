//! Restarted GMRES with right preconditioning in f64: the CPU solver for the nonsymmetric
//! Jacobians of the coupled Nernst–Planck systems. Convergence is judged on the true residual
//! ||b - A x|| <= rtol ||b|| at every restart and at the end.
//!
//! The preconditioner is the exact banded LU ([`super::band_lu`]) when the matrix's band is small
//! enough to factorise (small meshes, one-dimensional fixtures); else, with
//! `solver.preconditioner = "amg"` (the default), the node-block smoothed-aggregation multigrid
//! of [`crate::solve::block_amg`], kept across the Newton iterations of one pattern and, in
//! transient runs, `time.preconditioner_reuse_steps` time steps (iterations
//! nearly flat under refinement: 14, 13, 14 on the tertiary hemisphere from 11k to 80k
//! unknowns, where ILU(0) takes 46, 67, 104); with `"jacobi"`, ILU(0).

use super::band_lu::{self, BandLu};
use super::ilu::Ilu0;
use crate::fem::CsrMatrix;
use crate::solve::amg::{AmgParams, Kept};
use crate::solve::block_amg::BlockHierarchy;
use crate::solve::linear::{self, dot, norm, residual, GeneralLinearSolver, LinearError, LinearInfo, LinearParams};

/// Krylov dimension between restarts.
const RESTART: usize = 60;
/// A restart cycle must reduce the residual below this factor of the previous one, or the solve
/// is reported as stalled (rounding-limited, or a preconditioner too weak for restarts).
const STALL_FACTOR: f64 = 0.9;

/// The CPU solver for general (nonsymmetric) systems, with the block multigrid it keeps.
#[derive(Default)]
pub struct CpuGmres {
    multigrid: Kept<BlockHierarchy>,
}

/// A right preconditioner M ~ A for GMRES.
pub enum Preconditioner<'a> {
    /// Exact: banded LU with partial pivoting.
    Band(BandLu),
    /// Incomplete LU with zero fill-in.
    Ilu(Ilu0),
    /// One V-cycle of the node-block multigrid.
    Multigrid(&'a BlockHierarchy),
}

impl Preconditioner<'_> {
    /// The banded LU when its storage and work stay within [`band_lu::MAX_ENTRIES`] and
    /// [`band_lu::MAX_WORK`], else ILU(0).
    pub fn for_matrix(a: &CsrMatrix) -> Result<Self, String> {
        if Self::banded(a) {
            BandLu::new(a).map(Preconditioner::Band)
        } else {
            Ilu0::new(a).map(Preconditioner::Ilu)
        }
    }

    /// Whether the exact banded LU is affordable for `a`.
    pub fn banded(a: &CsrMatrix) -> bool {
        let (kl, ku) = band_lu::bandwidths(a);
        BandLu::storage(a.n, kl, ku) <= band_lu::MAX_ENTRIES && BandLu::work(a.n, kl, ku) <= band_lu::MAX_WORK
    }

    /// z = M^-1 r.
    pub fn apply(&self, r: &[f64], z: &mut [f64]) {
        match self {
            Preconditioner::Band(lu) => lu.apply(r, z),
            Preconditioner::Ilu(ilu) => ilu.apply(r, z),
            Preconditioner::Multigrid(h) => h.apply(r, z),
        }
    }
}

impl GeneralLinearSolver for CpuGmres {
    fn new_nonlinear_solve(&mut self) {
        self.multigrid.forget();
    }

    fn preconditioner_builds(&self) -> Option<u64> {
        Some(self.multigrid.generation())
    }

    fn multigrid_setup_seconds(&self) -> f64 {
        self.multigrid.build_seconds()
    }

    fn solve_general(
        &mut self,
        a: &CsrMatrix,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        assert_eq!(b.len(), a.n);
        assert_eq!(x.len(), a.n);
        if norm(b) == 0.0 {
            x.fill(0.0);
            return Ok(LinearInfo { iterations: 0, relative_residual: 0.0 });
        }
        if params.preconditioner == linear::Preconditioner::Amg && params.block_size > 0 && !Preconditioner::banded(a) {
            let m = params.block_size;
            if let Some(h) = self.multigrid.get_or_build(a, || BlockHierarchy::build(a, m, &AmgParams::default())) {
                let info = gmres(a, b, x, params, &Preconditioner::Multigrid(h));
                if let Ok(info) = &info {
                    self.multigrid.record(info.iterations);
                }
                return info;
            }
        }
        let m = Preconditioner::for_matrix(a).map_err(|where_| LinearError::NonFinite { iteration: 0, where_ })?;
        gmres(a, b, x, params, &m)
    }
}

/// Restarted GMRES with the right preconditioner `precond`; `x` holds the initial guess on entry.
pub fn gmres(
    a: &CsrMatrix,
    b: &[f64],
    x: &mut [f64],
    params: &LinearParams,
    precond: &Preconditioner,
) -> Result<LinearInfo, LinearError> {
    let n = a.n;
    let bnorm = norm(b);
    let mut r = vec![0.0; n];
    let mut iterations = 0u32;
    // Residual at the previous restart: a cycle that gains less than STALL_FACTOR ends the solve.
    let mut previous = f64::INFINITY;
    let mut v: Vec<Vec<f64>> = Vec::with_capacity(RESTART + 1);
    let mut z = vec![0.0; n];
    let mut w = vec![0.0; n];
    loop {
        let beta = residual(a, b, x, &mut r);
        let rel = beta / bnorm;
        if !rel.is_finite() {
            return Err(LinearError::NonFinite { iteration: iterations, where_: "GMRES residual".into() });
        }
        if rel <= params.rtol {
            return Ok(LinearInfo { iterations, relative_residual: rel });
        }
        if iterations >= params.max_iterations || rel > STALL_FACTOR * previous {
            return Err(LinearError::NoConvergence { iterations, relative_residual: rel, rtol: params.rtol });
        }
        previous = rel;
        v.clear();
        v.push(r.iter().map(|ri| ri / beta).collect());
        let mut h = vec![vec![0.0; RESTART]; RESTART + 1];
        let (mut cs, mut sn) = (vec![0.0; RESTART], vec![0.0; RESTART]);
        let mut g = vec![0.0; RESTART + 1];
        g[0] = beta;
        let mut k_used = 0;
        for k in 0..RESTART {
            precond.apply(&v[k], &mut z);
            a.spmv(&z, &mut w);
            for (i, vi) in v.iter().enumerate() {
                let hik = dot(&w, vi);
                h[i][k] = hik;
                w.iter_mut().zip(vi).for_each(|(wj, vj)| *wj -= hik * vj);
            }
            let hn = norm(&w);
            h[k + 1][k] = hn;
            for i in 0..k {
                let t = cs[i] * h[i][k] + sn[i] * h[i + 1][k];
                h[i + 1][k] = -sn[i] * h[i][k] + cs[i] * h[i + 1][k];
                h[i][k] = t;
            }
            let d = (h[k][k] * h[k][k] + h[k + 1][k] * h[k + 1][k]).sqrt();
            if d == 0.0 {
                break;
            }
            cs[k] = h[k][k] / d;
            sn[k] = h[k + 1][k] / d;
            h[k][k] = d;
            h[k + 1][k] = 0.0;
            g[k + 1] = -sn[k] * g[k];
            g[k] *= cs[k];
            iterations += 1;
            k_used = k + 1;
            if g[k + 1].abs() <= 0.5 * params.rtol * bnorm || hn == 0.0 || iterations >= params.max_iterations {
                break;
            }
            v.push(w.iter().map(|wi| wi / hn).collect());
        }
        // Back substitution for y, then x += M^-1 V y.
        let mut y = vec![0.0; k_used];
        for i in (0..k_used).rev() {
            let s: f64 = (i + 1..k_used).map(|j| h[i][j] * y[j]).sum();
            y[i] = (g[i] - s) / h[i][i];
        }
        let mut update = vec![0.0; n];
        for (yi, vi) in y.iter().zip(&v) {
            update.iter_mut().zip(vi).for_each(|(u, vj)| *u += yi * vj);
        }
        precond.apply(&update, &mut z);
        x.iter_mut().zip(&z).for_each(|(xi, zi)| *xi += zi);
        if k_used == 0 {
            let rel = residual(a, b, x, &mut r) / bnorm;
            return Err(LinearError::NoConvergence { iterations, relative_residual: rel, rtol: params.rtol });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_nonsymmetric_convection_diffusion_system() {
        // 1D upwinded convection-diffusion: tridiagonal, nonsymmetric, M-matrix.
        let n = 400;
        let (mut row_ptr, mut col_idx, mut values) = (vec![0u32], Vec::new(), Vec::new());
        for i in 0..n {
            for (j, v) in [(i as i64 - 1, -1.0 - 0.8), (i as i64, 2.0 + 0.8 + 1e-3), (i as i64 + 1, -1.0)] {
                if j >= 0 && j < n as i64 {
                    col_idx.push(j as u32);
                    values.push(v);
                }
            }
            row_ptr.push(col_idx.len() as u32);
        }
        let a = CsrMatrix { n, row_ptr, col_idx, values };
        let x_true: Vec<f64> = (0..n).map(|i| (i as f64 * 0.05).sin()).collect();
        let mut b = vec![0.0; n];
        a.spmv(&x_true, &mut b);
        let mut x = vec![0.0; n];
        let ilu = Preconditioner::Ilu(Ilu0::new(&a).expect("ILU(0)"));
        let info =
            gmres(&a, &b, &mut x, &LinearParams { rtol: 1e-12, max_iterations: 500, ..Default::default() }, &ilu).expect("gmres");
        assert!(info.relative_residual <= 1e-12);
        assert!(x.iter().zip(&x_true).all(|(a, b)| (a - b).abs() < 1e-8));
    }

    /// Restarted GMRES cannot remove the part of b outside the range of a singular matrix: the
    /// stall is reported after a cycle that gains nothing, not after the iteration cap.
    #[test]
    fn a_stalled_solve_ends_early() {
        let n = 50;
        let laplacian = |shift: f64| {
            let (mut row_ptr, mut col_idx, mut values) = (vec![0u32], Vec::new(), Vec::new());
            for i in 0..n {
                let degree = if i == 0 || i == n - 1 { 1.0 } else { 2.0 };
                for (j, v) in [(i as i64 - 1, -1.0), (i as i64, degree + shift), (i as i64 + 1, -1.0)] {
                    if j >= 0 && j < n as i64 {
                        col_idx.push(j as u32);
                        values.push(v);
                    }
                }
                row_ptr.push(col_idx.len() as u32);
            }
            CsrMatrix { n, row_ptr, col_idx, values }
        };
        // The Neumann Laplacian is singular (constants); b has a constant part it cannot reach.
        let a = laplacian(0.0);
        let b: Vec<f64> = (0..n).map(|i| 1.0 + (i as f64 * 0.3).sin()).collect();
        let precond = Preconditioner::Ilu(Ilu0::new(&laplacian(1.0)).expect("ILU(0)"));
        let mut x = vec![0.0; n];
        let params = LinearParams { rtol: 1e-10, max_iterations: 100_000, ..Default::default() };
        match gmres(&a, &b, &mut x, &params, &precond) {
            Err(LinearError::NoConvergence { iterations, relative_residual, .. }) => {
                assert!(iterations <= 3 * RESTART as u32, "stalled solve ran {iterations} iterations");
                assert!(relative_residual > 0.5, "the constant part stays: {relative_residual}");
            }
            other => panic!("expected a stall, got {other:?}"),
        }
    }
}
