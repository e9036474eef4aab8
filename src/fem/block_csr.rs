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

/// A matrix of m x m blocks in block-row form: block k of node row a
/// (`row_ptr[a] <= k < row_ptr[a + 1]`) sits in node column `col_idx[k]` (sorted within a row,
/// below `cols`), its values row-major at `values[k m^2..(k + 1) m^2]`.
#[derive(Debug, Clone)]
pub struct BlockCsr<T> {
    pub m: usize,
    /// Node columns (the matrix has `cols m` scalar columns).
    pub cols: usize,
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
        BlockCsr { m, cols: nodes, row_ptr, col_idx, values }
    }

    /// Node rows.
    pub fn rows(&self) -> usize {
        self.row_ptr.len() - 1
    }

    /// Scalar rows.
    pub fn n(&self) -> usize {
        self.rows() * self.m
    }

    /// y = A x (rayon over node rows).
    #[track_caller]
    pub fn spmv(&self, x: &[f64], y: &mut [f64]) {
        self.product(x, y, false);
    }

    /// y += A x.
    #[track_caller]
    pub fn spmv_add(&self, x: &[f64], y: &mut [f64]) {
        self.product(x, y, true);
    }

    #[track_caller]
    fn product(&self, x: &[f64], y: &mut [f64], add: bool) {
        assert_eq!(x.len(), self.cols * self.m);
        assert_eq!(y.len(), self.n());
        match self.m {
            1 => self.product_fixed::<1>(x, y, add),
            2 => self.product_fixed::<2>(x, y, add),
            3 => self.product_fixed::<3>(x, y, add),
            4 => self.product_fixed::<4>(x, y, add),
            5 => self.product_fixed::<5>(x, y, add),
            m => y.par_chunks_mut(m).enumerate().with_min_len(256).for_each(|(a, ya)| {
                let mut acc = vec![0.0; m];
                for k in self.row_ptr[a] as usize..self.row_ptr[a + 1] as usize {
                    let xb = &x[self.col_idx[k] as usize * m..][..m];
                    for (yi, block_row) in acc.iter_mut().zip(self.values[k * m * m..(k + 1) * m * m].chunks_exact(m)) {
                        for (&v, xj) in block_row.iter().zip(xb) {
                            *yi += v.into() * xj;
                        }
                    }
                }
                store(ya, &acc, add);
            }),
        }
    }

    /// The product with the block size known at compile time (the loops over a block unroll).
    fn product_fixed<const M: usize>(&self, x: &[f64], y: &mut [f64], add: bool) {
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
            store(ya, &acc, add);
        });
    }

    /// The same blocks with values stored as `U`.
    pub fn convert<U: Stored>(&self) -> BlockCsr<U> {
        let values = self.values.par_iter().with_min_len(4096).map(|&v| U::from_f64(v.into())).collect();
        BlockCsr { m: self.m, cols: self.cols, row_ptr: self.row_ptr.clone(), col_idx: self.col_idx.clone(), values }
    }

    /// The scalar CSR form: every entry of every block (zeros in a block included).
    pub fn to_csr(&self) -> CsrMatrix {
        let m = self.m;
        let mut row_ptr = Vec::with_capacity(self.n() + 1);
        row_ptr.push(0u32);
        let (mut col_idx, mut values) = (Vec::with_capacity(self.values.len()), Vec::with_capacity(self.values.len()));
        for a in 0..self.rows() {
            let blocks = self.row_ptr[a] as usize..self.row_ptr[a + 1] as usize;
            for i in 0..m {
                for k in blocks.clone() {
                    col_idx.extend((0..m as u32).map(|j| self.col_idx[k] * m as u32 + j));
                    values.extend(self.values[k * m * m + i * m..k * m * m + (i + 1) * m].iter().map(|&v| v.into()));
                }
                row_ptr.push(col_idx.len() as u32);
            }
        }
        CsrMatrix { n: self.n(), row_ptr, col_idx, values }
    }
}

fn store(y: &mut [f64], acc: &[f64], add: bool) {
    if add {
        y.iter_mut().zip(acc).for_each(|(y, a)| *y += a);
    } else {
        y.copy_from_slice(acc);
    }
}

/// The products of the multigrid setup (f64 blocks).
impl BlockCsr<f64> {
    /// A matrix from its node rows, each a list of (node column, block) sorted by column.
    pub fn from_block_rows(m: usize, cols: usize, rows: Vec<(Vec<u32>, Vec<f64>)>) -> Self {
        let mut row_ptr = Vec::with_capacity(rows.len() + 1);
        row_ptr.push(0u32);
        let (mut col_idx, mut values) = (Vec::new(), Vec::new());
        for (c, v) in rows {
            debug_assert!(c.windows(2).all(|w| w[0] < w[1]) && v.len() == c.len() * m * m);
            col_idx.extend_from_slice(&c);
            values.extend_from_slice(&v);
            row_ptr.push(col_idx.len() as u32);
        }
        BlockCsr { m, cols, row_ptr, col_idx, values }
    }

    /// The transpose (each block transposed).
    pub fn transpose(&self) -> Self {
        let m = self.m;
        let mut count = vec![0u32; self.cols + 1];
        self.col_idx.iter().for_each(|&c| count[c as usize + 1] += 1);
        for c in 0..self.cols {
            count[c + 1] += count[c];
        }
        let row_ptr = count.clone();
        let mut next = count;
        let mut col_idx = vec![0u32; self.col_idx.len()];
        let mut values = vec![0.0; self.values.len()];
        for a in 0..self.rows() {
            for k in self.row_ptr[a] as usize..self.row_ptr[a + 1] as usize {
                let c = self.col_idx[k] as usize;
                let t = next[c] as usize;
                next[c] += 1;
                col_idx[t] = a as u32;
                for i in 0..m {
                    for j in 0..m {
                        values[t * m * m + j * m + i] = self.values[k * m * m + i * m + j];
                    }
                }
            }
        }
        BlockCsr { m, cols: self.rows(), row_ptr, col_idx, values }
    }

    /// The product `self other` (Gustavson, row by row, in parallel over chunks of node rows;
    /// every block pair is an m x m x m dense product; columns sorted within each row).
    pub fn multiply(&self, other: &Self) -> Self {
        assert_eq!(self.m, other.m);
        assert_eq!(self.cols, other.rows());
        match self.m {
            1 => self.multiply_fixed::<1>(other),
            2 => self.multiply_fixed::<2>(other),
            3 => self.multiply_fixed::<3>(other),
            4 => self.multiply_fixed::<4>(other),
            5 => self.multiply_fixed::<5>(other),
            _ => self.multiply_with(other, |l, r, acc| block_multiply_add(self.m, l, r, acc)),
        }
    }

    fn multiply_fixed<const M: usize>(&self, other: &Self) -> Self {
        self.multiply_with(other, |l, r, acc| {
            for i in 0..M {
                for k in 0..M {
                    let lik = l[i * M + k];
                    for j in 0..M {
                        acc[i * M + j] += lik * r[k * M + j];
                    }
                }
            }
        })
    }

    fn multiply_with(&self, other: &Self, multiply_add: impl Fn(&[f64], &[f64], &mut [f64]) + Sync) -> Self {
        let mm = self.m * self.m;
        const CHUNK: usize = 256;
        // Per chunk of node rows: row lengths, columns and values, concatenated afterwards.
        type Chunk = (Vec<u32>, Vec<u32>, Vec<f64>);
        let chunks: Vec<Chunk> = (0..self.rows().div_ceil(CHUNK))
            .into_par_iter()
            .map_init(
                || (vec![u32::MAX; other.cols], Vec::<u32>::new(), Vec::<f64>::new(), Vec::<u32>::new()),
                |(slot, cols, acc, order), chunk| {
                    let range = chunk * CHUNK..((chunk + 1) * CHUNK).min(self.rows());
                    let (mut lengths, mut out_cols, mut out_values) = (Vec::with_capacity(range.len()), Vec::new(), Vec::new());
                    for a in range {
                        cols.clear();
                        acc.clear();
                        for ka in self.row_ptr[a] as usize..self.row_ptr[a + 1] as usize {
                            let k = self.col_idx[ka] as usize;
                            let left = &self.values[ka * mm..(ka + 1) * mm];
                            for kb in other.row_ptr[k] as usize..other.row_ptr[k + 1] as usize {
                                let j = other.col_idx[kb] as usize;
                                if slot[j] == u32::MAX {
                                    slot[j] = cols.len() as u32;
                                    cols.push(j as u32);
                                    acc.resize(acc.len() + mm, 0.0);
                                }
                                let s = slot[j] as usize;
                                multiply_add(left, &other.values[kb * mm..(kb + 1) * mm], &mut acc[s * mm..(s + 1) * mm]);
                            }
                        }
                        order.clear();
                        order.extend(0..cols.len() as u32);
                        order.sort_unstable_by_key(|&t| cols[t as usize]);
                        for &t in order.iter() {
                            out_cols.push(cols[t as usize]);
                            out_values.extend_from_slice(&acc[t as usize * mm..(t as usize + 1) * mm]);
                        }
                        cols.iter().for_each(|&j| slot[j as usize] = u32::MAX);
                        lengths.push(cols.len() as u32);
                    }
                    (lengths, out_cols, out_values)
                },
            )
            .collect();
        let mut row_ptr = Vec::with_capacity(self.rows() + 1);
        row_ptr.push(0u32);
        let total: usize = chunks.iter().map(|c| c.1.len()).sum();
        let (mut col_idx, mut values) = (Vec::with_capacity(total), Vec::with_capacity(total * mm));
        for (lengths, cols, vals) in chunks {
            for len in lengths {
                row_ptr.push(row_ptr.last().expect("starts with 0") + len);
            }
            col_idx.extend_from_slice(&cols);
            values.extend_from_slice(&vals);
        }
        BlockCsr { m: self.m, cols: other.cols, row_ptr, col_idx, values }
    }

    /// Whether every value is finite in f32 (none overflows on conversion).
    pub fn fits_f32(&self) -> bool {
        self.values.iter().all(|&v| (v as f32).is_finite())
    }

    /// The diagonal block of node row `a` (zeros if it stores none), row-major.
    pub fn diagonal_block(&self, a: usize) -> Vec<f64> {
        let mm = self.m * self.m;
        let blocks = self.row_ptr[a] as usize..self.row_ptr[a + 1] as usize;
        match self.col_idx[blocks.clone()].binary_search(&(a as u32)) {
            Ok(k) => self.values[(blocks.start + k) * mm..(blocks.start + k + 1) * mm].to_vec(),
            Err(_) => vec![0.0; mm],
        }
    }
}

/// `acc += left right` for m x m row-major blocks.
#[inline]
pub fn block_multiply_add(m: usize, left: &[f64], right: &[f64], acc: &mut [f64]) {
    for i in 0..m {
        for k in 0..m {
            let l = left[i * m + k];
            for j in 0..m {
                acc[i * m + j] += l * right[k * m + j];
            }
        }
    }
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

    /// The dense form of a block matrix (rows x cols scalars).
    fn dense(b: &BlockCsr<f64>) -> Vec<Vec<f64>> {
        let c = b.to_csr();
        let mut d = vec![vec![0.0; b.cols * b.m]; c.n];
        for (i, row) in d.iter_mut().enumerate() {
            for k in c.row_ptr[i] as usize..c.row_ptr[i + 1] as usize {
                row[c.col_idx[k] as usize] += c.values[k];
            }
        }
        d
    }

    /// A rectangular block matrix: node row a touches node columns a % cols and (3 a + 1) % cols.
    fn rectangular(rows: usize, cols: usize, m: usize, seed: f64) -> BlockCsr<f64> {
        let rows = (0..rows)
            .map(|a| {
                let mut c = vec![(a % cols) as u32, ((3 * a + 1) % cols) as u32];
                c.sort_unstable();
                c.dedup();
                let values = (0..c.len() * m * m).map(|k| (seed * (a * 31 + k) as f64).sin()).collect();
                (c, values)
            })
            .collect();
        BlockCsr::from_block_rows(m, cols, rows)
    }

    #[test]
    fn block_products_and_transposes_are_the_dense_ones() {
        for m in [1, 3, 6] {
            let (a, p) = (rectangular(11, 11, m, 0.7), rectangular(11, 4, m, 1.3));
            let (da, dp) = (dense(&a), dense(&p));
            let product = dense(&a.multiply(&p));
            for (i, row) in product.iter().enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    let expected: f64 = (0..da[i].len()).map(|k| da[i][k] * dp[k][j]).sum();
                    assert!((v - expected).abs() < 1e-13, "m = {m}: (A P)[{i}][{j}] = {v}, dense {expected}");
                }
            }
            let transposed = dense(&p.transpose());
            for (i, row) in transposed.iter().enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    assert_eq!(v, dp[j][i], "m = {m}: P^T[{i}][{j}]");
                }
            }
            // Blocks survive the trip through CSR.
            let back = BlockCsr::<f64>::from_csr(&a.to_csr(), m);
            assert_eq!((back.row_ptr, back.col_idx, back.values), (a.row_ptr.clone(), a.col_idx.clone(), a.values.clone()));
        }
    }
}
