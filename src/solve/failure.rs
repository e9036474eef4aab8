//! What a solver that did not converge leaves behind: its message, the residual history, the last
//! iterate and the discrete residual at every node, so the run can write a diagnostics file and
//! say where the residual is largest (see `run::diagnostics`).

pub use crate::error::Failure;

/// Per-node residual magnitudes from a residual over unknowns laid out `per_node` at a time for
/// the nodes `nodes` (mesh numbering), in a mesh of `n` nodes: the 2-norm over each node's
/// unknowns (extra trailing unknowns, such as a solid potential, are left out).
pub fn nodal_residual(n: usize, nodes: &[u32], per_node: usize, residual: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for (a, &nd) in nodes.iter().enumerate() {
        let r = &residual[a * per_node..(a + 1) * per_node];
        out[nd as usize] = r.iter().map(|v| v * v).sum::<f64>().sqrt();
    }
    out
}
