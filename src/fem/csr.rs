//! Compressed sparse row matrices: the pattern of a P1 mesh, restriction to free rows, SpMV.

use rayon::prelude::*;

use crate::mesh::adjacency::Adjacency;

/// A square sparse matrix in CSR form with sorted column indices.
#[derive(Debug, Clone)]
pub struct CsrMatrix {
    pub n: usize,
    pub row_ptr: Vec<u32>,
    pub col_idx: Vec<u32>,
    pub values: Vec<f64>,
}

impl CsrMatrix {
    /// The node-to-node pattern of a tetrahedral mesh with zero values.
    pub fn pattern(n: usize, tets: &[[u32; 4]]) -> Self {
        let Adjacency { first, neighbours } = Adjacency::of(n, tets);
        let values = vec![0.0; neighbours.len()];
        CsrMatrix { n, row_ptr: first, col_idx: neighbours, values }
    }

    /// A matrix from its rows as (column, value) lists in any order (no duplicate columns).
    pub fn from_rows(rows: Vec<Vec<(u32, f64)>>) -> Self {
        let mut row_ptr = vec![0u32];
        let mut col_idx = Vec::new();
        let mut values = Vec::new();
        for mut row in rows.iter().cloned() {
            row.sort_by_key(|&(c, _)| c);
            col_idx.extend(row.iter().map(|&(c, _)| c));
            values.extend(row.iter().map(|&(_, v)| v));
            row_ptr.push(col_idx.len() as u32);
        }
        CsrMatrix { n: rows.len(), row_ptr, col_idx, values }
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.col_idx.len()
    }

    /// Position of entry (i, j) in `values`, if stored.
    pub fn find(&self, i: usize, j: u32) -> Option<usize> {
        let (lo, hi) = (self.row_ptr[i] as usize, self.row_ptr[i + 1] as usize);
        self.col_idx[lo..hi].binary_search(&j).ok().map(|k| lo + k)
    }

    /// Adds `v` to entry (i, j); the entry must be in the pattern.
    #[track_caller]
    pub fn add(&mut self, i: usize, j: u32, v: f64) {
        let k = self.find(i, j).expect("entry outside the sparsity pattern");
        self.values[k] += v;
    }

    /// Diagonal entries.
    pub fn diagonal(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.find(i, i as u32).map_or(0.0, |k| self.values[k])).collect()
    }

    /// y = A x (rayon over rows).
    #[track_caller]
    pub fn spmv(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!(x.len(), self.n);
        assert_eq!(y.len(), self.n);
        y.par_iter_mut().enumerate().with_min_len(4096).for_each(|(i, yi)| *yi = self.row_dot(i, x));
    }

    /// The submatrix A[free, free] with rows/columns renumbered by position in `free`, and the
    /// coupling A[free, fixed] as a separate matrix over the original column numbering.
    pub fn split(&self, free: &[u32]) -> (CsrMatrix, CsrMatrix) {
        let mut new_id = vec![u32::MAX; self.n];
        for (k, &f) in free.iter().enumerate() {
            new_id[f as usize] = k as u32;
        }
        let mut inner = CsrMatrix { n: free.len(), row_ptr: vec![0], col_idx: Vec::new(), values: Vec::new() };
        let mut coupling = CsrMatrix { n: free.len(), row_ptr: vec![0], col_idx: Vec::new(), values: Vec::new() };
        for &f in free {
            let i = f as usize;
            for k in self.row_ptr[i] as usize..self.row_ptr[i + 1] as usize {
                let j = self.col_idx[k] as usize;
                if new_id[j] != u32::MAX {
                    inner.col_idx.push(new_id[j]);
                    inner.values.push(self.values[k]);
                } else {
                    coupling.col_idx.push(j as u32);
                    coupling.values.push(self.values[k]);
                }
            }
            inner.row_ptr.push(inner.col_idx.len() as u32);
            coupling.row_ptr.push(coupling.col_idx.len() as u32);
        }
        // Column indices stay sorted: `free` is increasing, so renumbering preserves order.
        (inner, coupling)
    }

    /// Row `r` times x: the sum of a_rk x_k over the row's entries in storage order (square or
    /// rectangular, e.g. the coupling block of [`CsrMatrix::split`]); the kernel of every SpMV.
    #[inline]
    pub fn row_dot(&self, r: usize, x: &[f64]) -> f64 {
        let (lo, hi) = (self.row_ptr[r] as usize, self.row_ptr[r + 1] as usize);
        // Slices of the row (one bounds check each) rather than indexing entry by entry.
        self.values[lo..hi].iter().zip(&self.col_idx[lo..hi]).map(|(v, &k)| v * x[k as usize]).sum()
    }
}
