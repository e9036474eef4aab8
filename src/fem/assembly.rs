//! Assembly of the P1 Laplace operator.
//!
//! Weak form (dimensionless, lengths scaled by `L`): find phi in V with the Dirichlet data such
//! that for all test functions v in V_0
//!
//! ```text
//!     a(phi, v) = integral_Omega grad phi . grad v dx  =  integral_Gamma_N g v ds,
//! ```
//!
//! assembled as `K_ij = sum_T |T| grad lambda_i . grad lambda_j`. The conductivity is constant and
//! factored out by the caller; the Neumann data (kinetics) are added by the nonlinear driver.

use rayon::prelude::*;

use super::csr::CsrMatrix;
use super::element::P1Tet;
use crate::mesh::TetMesh;

/// Assembles the stiffness matrix of `mesh` with coordinates divided by `length_scale`.
pub fn laplacian(mesh: &TetMesh, length_scale: f64) -> CsrMatrix {
    let mut k = CsrMatrix::pattern(mesh.nodes.len(), &mesh.tets);
    let locals: Vec<[[f64; 4]; 4]> = mesh
        .tets
        .par_iter()
        .map(|t| P1Tet::new(t.map(|n| mesh.nodes[n as usize] / length_scale)).stiffness())
        .collect();
    for (t, local) in mesh.tets.iter().zip(&locals) {
        for i in 0..4 {
            for j in 0..4 {
                k.add(t[i] as usize, t[j], local[i][j]);
            }
        }
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::ElectrodeGeometry;
    use crate::mesh::cut_lattice::{generate, SizeField};

    #[test]
    fn laplacian_annihilates_constants_and_is_symmetric() {
        let geom = ElectrodeGeometry { half_width: 1.0, height: 1.0, shapes: vec![] };
        let mesh = generate(&geom, SizeField { near: 0.25, far: 0.5, growth: 1.5 }).expect("mesh");
        let k = laplacian(&mesh, 1.0);
        let ones = vec![1.0; k.n];
        let mut y = vec![0.0; k.n];
        k.spmv(&ones, &mut y);
        assert!(y.iter().all(|v| v.abs() < 1e-12));
        for i in 0..k.n {
            for p in k.row_ptr[i] as usize..k.row_ptr[i + 1] as usize {
                let j = k.col_idx[p] as usize;
                let kt = k.find(j, i as u32).map(|q| k.values[q]).expect("symmetric pattern");
                assert!((k.values[p] - kt).abs() < 1e-14);
            }
        }
    }
}
