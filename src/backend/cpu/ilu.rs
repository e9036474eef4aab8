//! Incomplete LU factorisation with zero fill-in, ILU(0), on the matrix's own CSR pattern: the
//! preconditioner of the CPU GMRES for the nonsymmetric coupled systems.

use crate::fem::CsrMatrix;

/// L (unit lower) and U factors stored in one CSR matrix with the pattern of A.
pub struct Ilu0 {
    lu: CsrMatrix,
    diag: Vec<usize>,
}

impl Ilu0 {
    /// Factorises `a`; fails on a zero pivot, naming the row.
    pub fn new(a: &CsrMatrix) -> Result<Self, String> {
        let mut lu = a.clone();
        let n = a.n;
        let diag: Vec<usize> = (0..n)
            .map(|i| lu.find(i, i as u32).ok_or_else(|| format!("row {i} has no diagonal entry")))
            .collect::<Result<_, _>>()?;
        let mut position = vec![usize::MAX; n];
        for i in 0..n {
            let (lo, hi) = (lu.row_ptr[i] as usize, lu.row_ptr[i + 1] as usize);
            for p in lo..hi {
                position[lu.col_idx[p] as usize] = p;
            }
            for p in lo..hi {
                let k = lu.col_idx[p] as usize;
                if k >= i {
                    break;
                }
                let pivot = lu.values[diag[k]];
                if pivot == 0.0 || !pivot.is_finite() {
                    return Err(format!("ILU(0): zero or non-finite pivot in row {k}"));
                }
                let factor = lu.values[p] / pivot;
                lu.values[p] = factor;
                for q in diag[k] + 1..lu.row_ptr[k + 1] as usize {
                    let at = position[lu.col_idx[q] as usize];
                    if at != usize::MAX {
                        lu.values[at] -= factor * lu.values[q];
                    }
                }
            }
            for p in lo..hi {
                position[lu.col_idx[p] as usize] = usize::MAX;
            }
            if lu.values[diag[i]] == 0.0 {
                return Err(format!("ILU(0): zero pivot in row {i}"));
            }
        }
        Ok(Ilu0 { lu, diag })
    }

    /// z = (LU)^-1 r.
    pub fn apply(&self, r: &[f64], z: &mut [f64]) {
        let lu = &self.lu;
        for i in 0..lu.n {
            let mut s = r[i];
            for p in lu.row_ptr[i] as usize..self.diag[i] {
                s -= lu.values[p] * z[lu.col_idx[p] as usize];
            }
            z[i] = s;
        }
        for i in (0..lu.n).rev() {
            let mut s = z[i];
            for p in self.diag[i] + 1..lu.row_ptr[i + 1] as usize {
                s -= lu.values[p] * z[lu.col_idx[p] as usize];
            }
            z[i] = s / lu.values[self.diag[i]];
        }
    }
}
