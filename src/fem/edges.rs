//! Edge weights of the P1 Laplacian: `K_jk = -omega_jk` for j != k, so that
//! `(K u)_j = sum_k omega_jk (u_j - u_k)`. Edge-based schemes (Scharfetter–Gummel / EAFE) replace
//! `u_j - u_k` by an exponentially fitted difference on each edge.

use super::csr::CsrMatrix;

/// Every edge once (j < k) with its weight omega_jk = -K_jk.
#[derive(Debug, Clone)]
pub struct Edges {
    pub pairs: Vec<(u32, u32)>,
    pub weights: Vec<f64>,
}

impl Edges {
    /// Edges of the pattern of `k` (a symmetric P1 stiffness matrix).
    pub fn from_stiffness(k: &CsrMatrix) -> Self {
        let mut pairs = Vec::new();
        let mut weights = Vec::new();
        for j in 0..k.n {
            for p in k.row_ptr[j] as usize..k.row_ptr[j + 1] as usize {
                let c = k.col_idx[p] as usize;
                if c > j {
                    pairs.push((j as u32, c as u32));
                    weights.push(-k.values[p]);
                }
            }
        }
        Edges { pairs, weights }
    }
}
