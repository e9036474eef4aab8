//! Small dense blocks: the inverse of one node block, which both the block preconditioners of the
//! CPU backend and the block multigrid setup need.

/// The inverse of one m x m block (row-major) by Gauss-Jordan with partial pivoting; a singular
/// block falls back to its inverted diagonal (1 where the diagonal is 0).
pub fn inverse_block(block: &[f64], m: usize) -> Vec<f64> {
    invert(block, m).unwrap_or_else(|| {
        let mut d = vec![0.0; m * m];
        (0..m).for_each(|i| d[i * m + i] = if block[i * m + i] != 0.0 { 1.0 / block[i * m + i] } else { 1.0 });
        d
    })
}

fn invert(a: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut w = a.to_vec();
    let mut inv = vec![0.0; m * m];
    (0..m).for_each(|i| inv[i * m + i] = 1.0);
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    for col in 0..m {
        let piv = (col..m).max_by(|&x, &y| w[x * m + col].abs().total_cmp(&w[y * m + col].abs()))?;
        if w[piv * m + col].abs() <= 1e-14 * scale {
            return None;
        }
        for j in 0..m {
            w.swap(col * m + j, piv * m + j);
            inv.swap(col * m + j, piv * m + j);
        }
        let d = w[col * m + col];
        for j in 0..m {
            w[col * m + j] /= d;
            inv[col * m + j] /= d;
        }
        for r in 0..m {
            if r != col {
                let f = w[r * m + col];
                for j in 0..m {
                    w[r * m + j] -= f * w[col * m + j];
                    inv[r * m + j] -= f * inv[col * m + j];
                }
            }
        }
    }
    Some(inv)
}
