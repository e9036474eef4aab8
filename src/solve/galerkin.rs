//! Sparse products on a fixed pattern: the multigrid's Galerkin update when only the values of
//! the fine matrix change (later Newton iterations and time steps of one mesh). The prolongator P
//! and restriction R of the last setup are kept, and each level's operator is recomputed as
//! `A_c = R (A P)`, the "reuse structure" mode of AmgX: the symbolic products are formed once on
//! the host ([`product_pattern`]), the values on every update ([`product_values`] here,
//! `shaders/spgemm_values.wgsl` on the device).

use crate::fem::CsrMatrix;

/// The pattern of a product: row pointers and sorted column indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPattern {
    pub row_ptr: Vec<u32>,
    pub col_idx: Vec<u32>,
}

impl ProductPattern {
    /// Rows of the product.
    pub fn rows(&self) -> usize {
        self.row_ptr.len() - 1
    }

    /// Row pointers followed by column indices: the `c_pattern` of `spgemm_values.wgsl`.
    pub fn packed(&self) -> Vec<u32> {
        self.row_ptr.iter().chain(&self.col_idx).copied().collect()
    }

    /// The product as a matrix with these values.
    pub fn with_values(&self, values: Vec<f64>) -> CsrMatrix {
        CsrMatrix { n: self.rows(), row_ptr: self.row_ptr.clone(), col_idx: self.col_idx.clone(), values }
    }
}

/// The pattern of `x y` (`x` with `x.n` rows, `y` with `y_cols` columns): every column some
/// entry of x's row reaches through y, whatever the values.
pub fn product_pattern(x: &CsrMatrix, y: &CsrMatrix, y_cols: usize) -> ProductPattern {
    let mut marker = vec![u32::MAX; y_cols];
    let mut row_ptr = Vec::with_capacity(x.n + 1);
    row_ptr.push(0u32);
    let mut col_idx = Vec::new();
    for i in 0..x.n {
        let start = col_idx.len();
        for &l in &x.col_idx[x.row_ptr[i] as usize..x.row_ptr[i + 1] as usize] {
            for &j in &y.col_idx[y.row_ptr[l as usize] as usize..y.row_ptr[l as usize + 1] as usize] {
                if marker[j as usize] != i as u32 {
                    marker[j as usize] = i as u32;
                    col_idx.push(j);
                }
            }
        }
        col_idx[start..].sort_unstable();
        row_ptr.push(col_idx.len() as u32);
    }
    ProductPattern { row_ptr, col_idx }
}

/// The values of `x y` on `pattern` (which holds its symbolic pattern): the CPU twin of
/// `spgemm_values.wgsl`, merging each of y's rows into the product's row in column order.
pub fn product_values(x: &CsrMatrix, y: &CsrMatrix, pattern: &ProductPattern) -> Vec<f64> {
    let mut values = vec![0.0; pattern.col_idx.len()];
    for i in 0..pattern.rows() {
        let (c0, c1) = (pattern.row_ptr[i] as usize, pattern.row_ptr[i + 1] as usize);
        for k in x.row_ptr[i] as usize..x.row_ptr[i + 1] as usize {
            let (l, xv) = (x.col_idx[k] as usize, x.values[k]);
            let mut q = c0;
            for t in y.row_ptr[l] as usize..y.row_ptr[l + 1] as usize {
                let j = y.col_idx[t];
                while q < c1 && pattern.col_idx[q] < j {
                    q += 1;
                }
                if q < c1 && pattern.col_idx[q] == j {
                    values[q] += xv * y.values[t];
                }
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(m: &CsrMatrix, cols: usize) -> Vec<Vec<f64>> {
        let mut d = vec![vec![0.0; cols]; m.n];
        for (i, row) in d.iter_mut().enumerate() {
            for k in m.row_ptr[i] as usize..m.row_ptr[i + 1] as usize {
                row[m.col_idx[k] as usize] = m.values[k];
            }
        }
        d
    }

    /// A 3 x 4 times 4 x 2 product against the dense one, with a row of x that reaches nothing.
    #[test]
    fn the_fixed_pattern_product_is_the_dense_product() {
        let x = CsrMatrix::from_rows(vec![vec![(0, 1.0), (3, 2.0)], vec![], vec![(1, -1.0), (2, 0.5), (3, 4.0)]]);
        let y = CsrMatrix::from_rows(vec![vec![(1, 3.0)], vec![(0, 2.0), (1, 1.0)], vec![(0, -2.0)], vec![(0, 1.0), (1, 5.0)]]);
        let pattern = product_pattern(&x, &y, 2);
        assert_eq!(pattern.row_ptr, vec![0, 2, 2, 4]);
        let c = pattern.with_values(product_values(&x, &y, &pattern));
        let (dx, dy) = (dense(&x, 4), dense(&y, 2));
        let expected: Vec<Vec<f64>> =
            (0..3).map(|i| (0..2).map(|j| (0..4).map(|l| dx[i][l] * dy[l][j]).sum()).collect()).collect();
        assert_eq!(dense(&c, 2), expected);
        assert_eq!(pattern.packed().len(), 4 + 4);
    }
}
