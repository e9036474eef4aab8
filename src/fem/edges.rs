//! Edge weights of the P1 Laplacian: `K_jk = -omega_jk` for j != k, so that
//! `(K u)_j = sum_k omega_jk (u_j - u_k)`. Edge-based transport schemes (the log-mean flux of
//! [`crate::physics::edge_flux`], Scharfetter–Gummel / EAFE) replace `u_j - u_k` by a
//! drift-diffusion flux on each edge.

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

/// The edges whose P1 weight is negative (`K_jk > 0`: the angles opposite the edge are obtuse
/// enough that the stiffness is not an M-matrix there). Edge-based transport schemes keep a
/// discrete maximum principle only where every weight is
/// non-negative, so these edges are where positivity and monotonicity are not guaranteed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NegativeWeights {
    /// Edges of the mesh (pairs of nodes sharing an element).
    pub edges: usize,
    /// Edges with `K_jk > 1e-10 sqrt(K_jj K_kk)` (rounding of right angles does not count), or
    /// with a weight that is not finite (a degenerate element).
    pub negative: usize,
    /// `negative / edges`.
    pub share: f64,
    /// Negative edges with a node on the electrode.
    pub touching_electrode: usize,
}

impl NegativeWeights {
    /// Counts the negative edge weights of the symmetric stiffness `k`; `on_electrode` flags
    /// the electrode nodes.
    pub fn of(k: &CsrMatrix, on_electrode: &[bool]) -> Self {
        let diagonal: Vec<f64> = (0..k.n).map(|j| k.find(j, j as u32).map_or(0.0, |p| k.values[p])).collect();
        let (mut edges, mut negative, mut touching_electrode) = (0, 0, 0);
        for j in 0..k.n {
            for p in k.row_ptr[j] as usize..k.row_ptr[j + 1] as usize {
                let c = k.col_idx[p] as usize;
                if c <= j {
                    continue;
                }
                edges += 1;
                // (Not finite, from a degenerate element: counted, never passed over.)
                if !(k.values[p] <= 1e-10 * (diagonal[j] * diagonal[c]).abs().sqrt()) {
                    negative += 1;
                    touching_electrode += usize::from(on_electrode[j] || on_electrode[c]);
                }
            }
        }
        NegativeWeights { edges, negative, share: negative as f64 / edges.max(1) as f64, touching_electrode }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A triangle-free 1D chain has no negative weight; a positive off-diagonal is counted, and
    /// whether it touches the electrode.
    #[test]
    fn counts_positive_off_diagonals() {
        let rows =
            vec![vec![(0, 2.0), (1, -1.0), (2, 0.5)], vec![(0, -1.0), (1, 2.0), (2, -1.0)], vec![(0, 0.5), (1, -1.0), (2, 2.0)]];
        let k = CsrMatrix::from_rows(rows);
        let w = NegativeWeights::of(&k, &[true, false, false]);
        assert_eq!((w.edges, w.negative, w.touching_electrode), (3, 1, 1));
        assert!((w.share - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(NegativeWeights::of(&k, &[false, true, false]).touching_electrode, 0);
    }
}
