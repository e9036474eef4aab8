//! f64 twins of the WGSL kernels: same arithmetic, same order of operations per element.
//! GPU-vs-CPU parity tests compare against these. Reductions sum fixed chunks of `MIN_LEN`
//! elements in parallel and add the chunk sums in order, so they give the same bits whatever the
//! thread schedule (a run is reproducible bit for bit on one machine).

use crate::fem::dense::inverse_block;
use rayon::prelude::*;

const MIN_LEN: usize = 4096;

/// `spmv.wgsl`: y = A x.
pub use crate::fem::CsrMatrix;

/// `dot_partial.wgsl` + reduction: a . b.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let chunks: Vec<f64> =
        a.par_chunks(MIN_LEN).zip(b.par_chunks(MIN_LEN)).map(|(x, y)| x.iter().zip(y).map(|(x, y)| x * y).sum()).collect();
    chunks.iter().sum()
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
    let chunks: Vec<(f64, f64)> = r
        .par_chunks_mut(MIN_LEN)
        .zip(z.par_chunks_mut(MIN_LEN))
        .zip(q.par_chunks(MIN_LEN))
        .zip(dinv.par_chunks(MIN_LEN))
        .map(|(((rc, zc), qc), dc)| {
            let (mut rz, mut rr) = (0.0, 0.0);
            for (((ri, zi), qi), di) in rc.iter_mut().zip(zc.iter_mut()).zip(qc).zip(dc) {
                *ri -= alpha * qi;
                *zi = di * *ri;
                rz += *ri * *zi;
                rr += *ri * *ri;
            }
            (rz, rr)
        })
        .collect();
    chunks.iter().fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
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

/// `block_scale.wgsl`: out[k m + i] = sum_j binv[k m m + i m + j] x[k m + j].
pub fn block_scale(m: usize, binv: &[f64], x: &[f64], out: &mut [f64]) {
    out.par_iter_mut().with_min_len(MIN_LEN).enumerate().for_each(|(row, o)| {
        let (node, i) = (row / m, row % m);
        *o = (0..m).map(|j| binv[node * m * m + i * m + j] * x[node * m + j]).sum();
    });
}

/// Inverses of the m x m diagonal blocks of a node-interleaved matrix (row-major per node), by
/// Gauss-Jordan with partial pivoting; a singular block falls back to its inverted diagonal.
pub fn inverse_diagonal_blocks(a: &CsrMatrix, m: usize) -> Vec<f64> {
    let nodes = a.n / m;
    let mut out = vec![0.0; nodes * m * m];
    for k in 0..nodes {
        let mut block = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                if let Some(p) = a.find(k * m + i, (k * m + j) as u32) {
                    block[i * m + j] = a.values[p];
                }
            }
        }
        out[k * m * m..(k + 1) * m * m].copy_from_slice(&inverse_block(&block, m));
    }
    out
}
