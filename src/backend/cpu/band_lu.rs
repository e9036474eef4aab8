//! Banded LU factorisation with partial pivoting (the LAPACK `gbtrf`/`gbtrs` scheme): the exact
//! preconditioner of the CPU GMRES for systems whose band is small enough to factorise.
//!
//! Meshes are numbered in reverse Cuthill–McKee order, so a column of a flat-electrode cell (the
//! one-dimensional validation fixtures) or any small mesh has a narrow band. There ILU(0) can be a
//! poor approximation: where lateral couplings are much stronger than vertical ones (cells taller
//! than wide) the dropped fill carries the slow, long-range mode of the potential equation, and a
//! restarted GMRES stalls on it. The band factorisation is exact, so GMRES converges in one or two
//! iterations.
//!
//! Storage: row `i` keeps the columns `i - kl ..= i + kl + ku` (partial pivoting widens the upper
//! band of U to `kl + ku`). L is kept as the sequence of Gauss transforms with the row interchange
//! of each step, applied in the same order in [`BandLu::apply`].

use crate::fem::CsrMatrix;

/// Most band entries ([`BandLu::storage`]) the GMRES preconditioner will allocate (64 MiB).
pub const MAX_ENTRIES: usize = 8 << 20;
/// Most multiply-adds ([`BandLu::work`]) one factorisation may take.
pub const MAX_WORK: usize = 400_000_000;

/// The lower and upper bandwidths of a sparse matrix: `kl = max(i - j)`, `ku = max(j - i)`.
pub fn bandwidths(a: &CsrMatrix) -> (usize, usize) {
    let (mut kl, mut ku) = (0usize, 0usize);
    for i in 0..a.n {
        for &j in &a.col_idx[a.row_ptr[i] as usize..a.row_ptr[i + 1] as usize] {
            let j = j as usize;
            kl = kl.max(i.saturating_sub(j));
            ku = ku.max(j.saturating_sub(i));
        }
    }
    (kl, ku)
}

/// A factorised band matrix.
pub struct BandLu {
    n: usize,
    kl: usize,
    ku: usize,
    /// Row-major band: row i, column j at `i * width + (j + kl - i)`.
    band: Vec<f64>,
    /// Row interchanged with row k at step k.
    pivot: Vec<usize>,
}

impl BandLu {
    /// Band entries a factorisation of an n x n matrix with bandwidths (kl, ku) stores.
    pub fn storage(n: usize, kl: usize, ku: usize) -> usize {
        n * (2 * kl + ku + 1)
    }

    /// Multiply-adds of the factorisation.
    pub fn work(n: usize, kl: usize, ku: usize) -> usize {
        n * kl * (kl + ku + 1)
    }

    /// Factorises `a`; fails on an exactly singular or non-finite pivot, naming the row.
    pub fn new(a: &CsrMatrix) -> Result<Self, String> {
        let n = a.n;
        let (kl, ku) = bandwidths(a);
        let width = 2 * kl + ku + 1;
        let mut band = vec![0.0; n * width];
        for i in 0..n {
            for p in a.row_ptr[i] as usize..a.row_ptr[i + 1] as usize {
                let j = a.col_idx[p] as usize;
                band[i * width + j + kl - i] += a.values[p];
            }
        }
        let at = |i: usize, j: usize| i * width + j + kl - i;
        let mut pivot = vec![0usize; n];
        for k in 0..n {
            let last_row = (k + kl).min(n - 1);
            let last_col = (k + kl + ku).min(n - 1);
            let p = (k..=last_row)
                .max_by(|&r, &s| band[at(r, k)].abs().total_cmp(&band[at(s, k)].abs()))
                .expect("non-empty pivot range");
            let d = band[at(p, k)];
            if d == 0.0 || !d.is_finite() {
                return Err(format!("band LU: singular or non-finite pivot in column {k} ({d:e})"));
            }
            pivot[k] = p;
            if p != k {
                for j in k..=last_col {
                    band.swap(at(k, j), at(p, j));
                }
            }
            for r in k + 1..=last_row {
                let factor = band[at(r, k)] / d;
                band[at(r, k)] = factor;
                if factor != 0.0 {
                    for j in k + 1..=last_col {
                        band[at(r, j)] -= factor * band[at(k, j)];
                    }
                }
            }
        }
        Ok(BandLu { n, kl, ku, band, pivot })
    }

    /// z = A^-1 r.
    pub fn apply(&self, r: &[f64], z: &mut [f64]) {
        let (n, kl) = (self.n, self.kl);
        let width = 2 * kl + self.ku + 1;
        let at = |i: usize, j: usize| i * width + j + kl - i;
        z.copy_from_slice(r);
        for k in 0..n {
            z.swap(k, self.pivot[k]);
            let zk = z[k];
            for row in k + 1..=(k + kl).min(n - 1) {
                z[row] -= self.band[at(row, k)] * zk;
            }
        }
        for i in (0..n).rev() {
            let mut s = z[i];
            for j in i + 1..=(i + kl + self.ku).min(n - 1) {
                s -= self.band[at(i, j)] * z[j];
            }
            z[i] = s / self.band[at(i, i)];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A nonsymmetric band matrix whose first diagonal entries are zero, so pivoting is required.
    fn needs_pivoting(n: usize) -> CsrMatrix {
        let (mut row_ptr, mut col_idx, mut values) = (vec![0u32], Vec::new(), Vec::new());
        for i in 0..n {
            for d in -2i64..=1 {
                let j = i as i64 + d;
                if j < 0 || j >= n as i64 {
                    continue;
                }
                let v = match d {
                    0 if i % 3 == 0 => 0.0,
                    0 => 4.0 + (i % 5) as f64,
                    -2 => 1.5,
                    -1 => -2.0 + 0.1 * (i % 7) as f64,
                    _ => 3.0,
                };
                col_idx.push(j as u32);
                values.push(v);
            }
            row_ptr.push(col_idx.len() as u32);
        }
        CsrMatrix { n, row_ptr, col_idx, values }
    }

    #[test]
    fn solves_a_system_that_needs_row_interchanges() {
        let a = needs_pivoting(200);
        assert_eq!(bandwidths(&a), (2, 1));
        let x_true: Vec<f64> = (0..a.n).map(|i| (0.3 * i as f64).cos() + 0.01 * i as f64).collect();
        let mut b = vec![0.0; a.n];
        a.spmv(&x_true, &mut b);
        let lu = BandLu::new(&a).expect("factorises");
        assert!(lu.pivot.iter().enumerate().any(|(k, &p)| p != k), "the test matrix must exercise pivoting");
        let mut x = vec![0.0; a.n];
        lu.apply(&b, &mut x);
        let err = x.iter().zip(&x_true).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        assert!(err < 1e-11, "max error {err:e}");
    }

    #[test]
    fn a_singular_matrix_is_reported() {
        let mut a = needs_pivoting(9);
        // Zero the whole first column: no pivot can be found in column 0.
        for i in 0..a.n {
            for p in a.row_ptr[i] as usize..a.row_ptr[i + 1] as usize {
                if a.col_idx[p] == 0 {
                    a.values[p] = 0.0;
                }
            }
        }
        let err = BandLu::new(&a).err().expect("singular");
        assert!(err.contains("column 0"), "{err}");
    }
}
