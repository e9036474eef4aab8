//! f64 twins of the WGSL kernels: same arithmetic, same order of operations per element.
//! GPU-vs-CPU parity tests compare against these.

use rayon::prelude::*;

const MIN_LEN: usize = 4096;

/// `spmv.wgsl`: y = A x.
pub use crate::fem::CsrMatrix;

/// `dot_partial.wgsl` + reduction: a . b.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.par_iter().with_min_len(MIN_LEN).zip(b).map(|(x, y)| x * y).sum()
}

/// `pcg_start.wgsl`: r = b, z = Dinv b, p = z, x = 0; returns (r.z, r.r).
pub fn pcg_start(b: &[f64], dinv: &[f64], x: &mut [f64], r: &mut [f64], z: &mut [f64], p: &mut [f64]) -> (f64, f64) {
    x.fill(0.0);
    r.copy_from_slice(b);
    z.par_iter_mut().with_min_len(MIN_LEN).zip(b).zip(dinv).for_each(|((zi, bi), di)| *zi = di * bi);
    p.copy_from_slice(z);
    (dot(r, z), dot(r, r))
}

/// `pcg_update_xr.wgsl`: x += alpha p, r -= alpha q, z = Dinv r; returns (r.z, r.r).
pub fn pcg_update_xr(alpha: f64, p: &[f64], q: &[f64], dinv: &[f64], x: &mut [f64], r: &mut [f64], z: &mut [f64]) -> (f64, f64) {
    x.par_iter_mut().with_min_len(MIN_LEN).zip(p).for_each(|(xi, pi)| *xi += alpha * pi);
    r.par_iter_mut()
        .with_min_len(MIN_LEN)
        .zip(z.par_iter_mut())
        .zip(q)
        .zip(dinv)
        .map(|(((ri, zi), qi), di)| {
            *ri -= alpha * qi;
            *zi = di * *ri;
            (*ri * *zi, *ri * *ri)
        })
        .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
}

/// `pcg_update_p.wgsl`: p = z + beta p.
pub fn pcg_update_p(beta: f64, z: &[f64], p: &mut [f64]) {
    p.par_iter_mut().with_min_len(MIN_LEN).zip(z).for_each(|(pi, zi)| *pi = zi + beta * *pi);
}

/// Inverse of the diagonal (Jacobi preconditioner); zero diagonals are a programmer error.
#[track_caller]
pub fn inverse_diagonal(a: &CsrMatrix) -> Vec<f64> {
    a.diagonal()
        .into_iter()
        .map(|d| {
            assert!(d > 0.0, "SPD matrix with non-positive diagonal {d}");
            1.0 / d
        })
        .collect()
}

/// `lincomb3.wgsl`: out = a out + b y + c z (the GPU takes a, b, c from state slots; a = 0 does
/// not read `out`).
pub fn lincomb3(a: f64, b: f64, c: f64, y: &[f64], z: &[f64], out: &mut [f64]) {
    out.par_iter_mut().with_min_len(MIN_LEN).zip(y).zip(z).for_each(|((o, yi), zi)| {
        let acc = b * yi + c * zi;
        *o = if a == 0.0 { acc } else { acc + a * *o };
    });
}

/// `diag_scale.wgsl`: out = dinv * x.
pub fn diag_scale(dinv: &[f64], x: &[f64], out: &mut [f64]) {
    out.par_iter_mut().with_min_len(MIN_LEN).zip(dinv).zip(x).for_each(|((o, d), xi)| *o = d * xi);
}
