//! What a solver that did not converge leaves behind: its message, the residual history, the last
//! iterate and the discrete residual at every node, so the run can write a diagnostics file and
//! say where the residual is largest (see `run::diagnostics`).

/// A non-converged solve, in mesh numbering and scaled units (phi F/RT, c / c_ref).
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong (the same text the error prints).
    pub message: String,
    /// The merit (residual norm) of each Newton iteration, or the linear relative residual.
    pub residual_history: Vec<f64>,
    /// The last iterate's potential at every node.
    pub phi: Vec<f64>,
    /// The last iterate's concentrations per species at every node (transport models).
    pub concentrations: Vec<Vec<f64>>,
    /// Magnitude of the discrete residual at every node (0 where the value is prescribed).
    pub nodal_residual: Vec<f64>,
    /// What `phi` is, for the diagnostics file.
    pub iterate: &'static str,
}

impl Failure {
    /// The node with the largest residual and its value (None for an empty residual).
    pub fn worst_node(&self) -> Option<(usize, f64)> {
        self.nodal_residual.iter().copied().enumerate().filter(|(_, v)| v.is_finite()).max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

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
