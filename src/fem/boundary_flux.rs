//! Boundary quadrature and the variationally consistent boundary flux.
//!
//! For the discrete solution phi_h of `a(phi, v) = l(v)`, the flux through the boundary at node j
//! is the residual of the discrete equation tested with the hat function of j:
//! `Q_j = a(phi_h, lambda_j) - l(lambda_j)`. It needs no differentiation of phi_h, converges an
//! order faster than `grad phi_h . n`, and `sum_j Q_j` is exactly the total flux (conservation).
//! Dividing `Q_j` by the lumped boundary area of node j gives a nodal flux density.

use crate::mesh::{BoundaryTag, TetMesh};

use super::csr::CsrMatrix;

/// Nodes that lie on faces tagged `tag`, in increasing order.
pub fn tagged_nodes(mesh: &TetMesh, tag: BoundaryTag) -> Vec<u32> {
    let mut on = vec![false; mesh.nodes.len()];
    for f in mesh.faces_with(tag) {
        for &n in &mesh.faces[f] {
            on[n as usize] = true;
        }
    }
    (0..mesh.nodes.len() as u32).filter(|&n| on[n as usize]).collect()
}

/// Residual flux `Q = K phi - load` at the given nodes (the flux out of the domain through the
/// boundary at each node, in the units of the weak form).
pub fn residual_flux(k: &CsrMatrix, phi: &[f64], load: &[f64], nodes: &[u32]) -> Vec<f64> {
    nodes.iter().map(|&n| k.row_dot(n as usize, phi) - load[n as usize]).collect()
}
