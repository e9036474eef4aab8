//! Block compressed sparse rows: a matrix of dense m x m blocks, one column index per block,
//! values stored as f32 or f64 and multiplied in f64.
//!
//! The node-block systems of the transport models (m unknowns per node, interleaved) are dense
//! in every m x m block their node pattern has. Stored this way a product reads one column
//! index per m^2 values and m contiguous entries of x per block: a scalar CSR product moves 12
//! bytes a non-zero in f64, this one `4 / m^2 + 8` (f64) or `4 / m^2 + 4` (f32) bytes, 2.7 times
//! fewer at m = 3 in f32. The multigrid V-cycle of [`crate::solve::block_amg`] applies its level
//! operators in this form (f32, as the device does); within one row the sum runs over the
//! columns in order, so the f64 form gives the bits of [`CsrMatrix::spmv`].

use rayon::prelude::*;

use super::CsrMatrix;

/// A value type a block matrix stores; products are formed in f64.
pub trait Stored: Copy + Default + Send + Sync + Into<f64> {
    fn from_f64(v: f64) -> Self;
}

impl Stored for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Stored for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// A square matrix of m x m blocks in block-row form: block k of node row a
/// (`row_ptr[a] <= k < row_ptr[a + 1]`) sits in node column `col_idx[k]`, its values row-major at
/// `values[k m^2..(k + 1) m^2]`.
#[derive(Debug, Clone)]
pub struct BlockCsr<T> {
    pub m: usize,
    pub row_ptr: Vec<u32>,
    pub col_idx: Vec<u32>,
    pub values: Vec<T>,
}

impl<T: Stored> BlockCsr<T> {
    /// The blocks of `a` (size a multiple of `m`): node row a has a block in every node column
    /// that any of its m scalar rows touches; entries `a` does not store are zeros there.
    pub fn from_csr(a: &CsrMatrix, m: usize) -> Self {
        assert!(m > 0 && a.n % m == 0, "a block size of {m} does not divide {} rows", a.n);
        let nodes = a.n / m;
        let rows: Vec<(Vec<u32>, Vec<T>)> = (0..nodes)
            .into_par_iter()
            .with_min_len(256)
            .map(|node| {
                let scalar_rows = node * m..(node + 1) * m;
                let entries = || scalar_rows.clone().flat_map(|r| a.row_ptr[r] as usize..a.row_ptr[r + 1] as usize);
                let mut cols: Vec<u32> = entries().map(|k| a.col_idx[k] / m as u32).collect();
                cols.sort_unstable();
                cols.dedup();
                let mut values = vec![T::default(); cols.len() * m * m];
                for (i, r) in scalar_rows.clone().enumerate() {
                    for k in a.row_ptr[r] as usize..a.row_ptr[r + 1] as usize {
                        let c = a.col_idx[k] as usize;
                        let block = cols.binary_search(&((c / m) as u32)).expect("column collected above");
                        values[block * m * m + i * m + c % m] = T::from_f64(a.values[k]);
                    }
                }
                (cols, values)
            })
            .collect();
        let mut row_ptr = Vec::with_capacity(nodes + 1);
        row_ptr.push(0u32);
        let (mut col_idx, mut values) = (Vec::new(), Vec::new());
        for (cols, vals) in rows {
            col_idx.extend_from_slice(&cols);
            values.extend_from_slice(&vals);
            row_ptr.push(col_idx.len() as u32);
        }
        BlockCsr { m, row_ptr, col_idx, values }
    }

    /// Scalar rows (and columns).
    pub fn n(&self) -> usize {
        (self.row_ptr.len() - 1) * self.m
    }

    /// y = A x (rayon over node rows).
    #[track_caller]
    pub fn spmv(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.n());
        assert_eq!(y.len(), self.n());
        match self.m {
            1 => self.spmv_fixed::<1>(x, y),
            2 => self.spmv_fixed::<2>(x, y),
            3 => self.spmv_fixed::<3>(x, y),
            4 => self.spmv_fixed::<4>(x, y),
            5 => self.spmv_fixed::<5>(x, y),
            m => y.par_chunks_mut(m).enumerate().with_min_len(256).for_each(|(a, ya)| {
                ya.fill(0.0);
                for k in self.row_ptr[a] as usize..self.row_ptr[a + 1] as usize {
                    let xb = &x[self.col_idx[k] as usize * m..][..m];
                    for (yi, block_row) in ya.iter_mut().zip(self.values[k * m * m..(k + 1) * m * m].chunks_exact(m)) {
                        for (&v, xj) in block_row.iter().zip(xb) {
                            *yi += v.into() * xj;
                        }
                    }
                }
            }),
        }
    }

    /// The product with the block size known at compile time (the loops over a block unroll).
    fn spmv_fixed<const M: usize>(&self, x: &[f64], y: &mut [f64]) {
        y.par_chunks_mut(M).enumerate().with_min_len(256).for_each(|(a, ya)| {
            let mut acc = [0.0f64; M];
            for k in self.row_ptr[a] as usize..self.row_ptr[a + 1] as usize {
                let xb: &[f64; M] = x[self.col_idx[k] as usize * M..][..M].try_into().expect("M entries");
                let block: &[T] = &self.values[k * M * M..(k + 1) * M * M];
                for i in 0..M {
                    for j in 0..M {
                        acc[i] += block[i * M + j].into() * xb[j];
                    }
                }
            }
            ya.copy_from_slice(&acc);
        });
    }
}

/// Whether every value of `a` is finite in f32 (no overflow on conversion).
pub fn fits_f32(a: &CsrMatrix) -> bool {
    a.values.iter().all(|&v| (v as f32).is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2-node-block matrix on `nodes` nodes whose scalar rows of one node do not all touch the
    /// same columns (blocks with missing entries are padded).
    fn sample(nodes: usize, m: usize) -> CsrMatrix {
        let n = nodes * m;
        let rows = (0..n)
            .map(|r| {
                let mut row = vec![(r as u32, 4.0 + r as f64 * 0.01)];
                for off in [1usize, m + 1, 3 * m + 2] {
                    if r + off < n && (r + off) % 3 != 0 {
                        row.push(((r + off) as u32, -0.3 - 0.001 * r as f64));
                    }
                    if r >= off {
                        row.push(((r - off) as u32, 0.25 / (1.0 + off as f64)));
                    }
                }
                row
            })
            .collect();
        CsrMatrix::from_rows(rows)
    }

    #[test]
    fn f64_blocks_give_the_bits_of_the_scalar_product() {
        for m in 1..=6 {
            let a = sample(40, m);
            let x: Vec<f64> = (0..a.n).map(|i| (0.37 * i as f64).sin()).collect();
            let (mut scalar, mut blocked) = (vec![0.0; a.n], vec![0.0; a.n]);
            a.spmv(&x, &mut scalar);
            BlockCsr::<f64>::from_csr(&a, m).spmv(&x, &mut blocked);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&scalar), bits(&blocked), "m = {m}");
        }
    }

    #[test]
    fn f32_blocks_agree_to_single_precision() {
        let m = 3;
        let a = sample(50, m);
        let x: Vec<f64> = (0..a.n).map(|i| (0.37 * i as f64).cos()).collect();
        let (mut scalar, mut blocked) = (vec![0.0; a.n], vec![0.0; a.n]);
        a.spmv(&x, &mut scalar);
        BlockCsr::<f32>::from_csr(&a, m).spmv(&x, &mut blocked);
        let scale = scalar.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        let worst = scalar.iter().zip(&blocked).fold(0.0f64, |w, (a, b)| w.max((a - b).abs()));
        assert!(worst < 1e-6 * scale && worst > 0.0, "f32 storage error {worst:e} of {scale:e}");
    }
}
