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

use glam::DVec3;
use rayon::prelude::*;

use super::csr::CsrMatrix;
use super::element::P1Tet;
use crate::mesh::TetMesh;

/// Assembles the stiffness matrix of `mesh` with coordinates divided by `length_scale`.
pub fn laplacian(mesh: &TetMesh, length_scale: f64) -> CsrMatrix {
    weighted_laplacian(mesh, length_scale, &vec![1.0; mesh.tets.len()])
}

/// Stiffness matrix of `-div(a grad u)` with a constant coefficient `a_t` on each tetrahedron:
/// `K_ij = sum_t a_t integral_t grad phi_i . grad phi_j dx` (same scaling as [`laplacian`]).
/// Tetrahedra with a_t = 0 keep their entries in the pattern with value zero.
pub fn weighted_laplacian(mesh: &TetMesh, length_scale: f64, coefficient: &[f64]) -> CsrMatrix {
    let mut k = CsrMatrix::pattern(mesh.nodes.len(), &mesh.tets);
    let locals: Vec<[[f64; 4]; 4]> =
        mesh.tets.par_iter().map(|t| P1Tet::new(t.map(|n| mesh.nodes[n as usize] / length_scale)).stiffness()).collect();
    for ((t, local), &a) in mesh.tets.iter().zip(&locals).zip(coefficient) {
        for i in 0..4 {
            for j in 0..4 {
                k.add(t[i] as usize, t[j], a * local[i][j]);
            }
        }
    }
    k
}

/// The circumcentric (Voronoi-box) Laplacian of the mesh: the two-point flux weights
/// `|dual face| / |edge|` of [`P1Tet`]'s circumcentric twin, [`super::element::circumcentric_stiffness`],
/// with the scaling of [`laplacian`]. Non-negative off the diagonal (an M-matrix) where the mesh
/// is Delaunay; the share of its negative weights says how far a mesh is from that.
pub fn circumcentric_laplacian(mesh: &TetMesh, length_scale: f64) -> CsrMatrix {
    weighted_circumcentric_laplacian(mesh, length_scale, &vec![1.0; mesh.tets.len()])
}

/// [`circumcentric_laplacian`] with a constant coefficient `a_t` on each tetrahedron (the pattern
/// of [`weighted_laplacian`]): the two-point flux weights of the transport models, which sum each
/// tetrahedron's part of a dual face times its coefficient.
pub fn weighted_circumcentric_laplacian(mesh: &TetMesh, length_scale: f64, coefficient: &[f64]) -> CsrMatrix {
    let mut k = CsrMatrix::pattern(mesh.nodes.len(), &mesh.tets);
    let locals: Vec<[[f64; 4]; 4]> = mesh
        .tets
        .par_iter()
        .map(|t| super::element::circumcentric_stiffness(t.map(|n| mesh.nodes[n as usize] / length_scale)))
        .collect();
    for ((t, local), &a) in mesh.tets.iter().zip(&locals).zip(coefficient) {
        for i in 0..4 {
            for j in 0..4 {
                k.add(t[i] as usize, t[j], a * local[i][j]);
            }
        }
    }
    k
}

/// Barycentric points and weight (per unit volume) of the 4-point Gauss rule on a tetrahedron,
/// exact for quadratics.
pub const GAUSS4: ([[f64; 4]; 4], f64) = {
    const A: f64 = 0.585_410_196_624_968_5;
    const B: f64 = 0.138_196_601_125_010_5;
    ([[A, B, B, B], [B, A, B, B], [B, B, A, B], [B, B, B, A]], 0.25)
};

/// Load vector `b_j = integral f lambda_j dx` over the mesh with coordinates divided by
/// `length_scale` (f is evaluated at scaled points), by the 4-point Gauss rule.
pub fn load_vector(mesh: &TetMesh, length_scale: f64, f: impl Fn(DVec3) -> f64 + Sync) -> Vec<f64> {
    let mut b = vec![0.0; mesh.nodes.len()];
    let (points, weight) = GAUSS4;
    for t in &mesh.tets {
        let p = t.map(|n| mesh.nodes[n as usize] / length_scale);
        let vol = P1Tet::new(p).volume;
        for bary in points {
            let x: DVec3 = (0..4).map(|i| p[i] * bary[i]).sum();
            let fx = f(x) * weight * vol;
            for i in 0..4 {
                b[t[i] as usize] += fx * bary[i];
            }
        }
    }
    b
}

/// L2 norm of `u_h - u` and H1 seminorm of the error, by the 4-point Gauss rule, for a P1 field
/// `u_h` on `mesh` (unscaled coordinates).
pub fn error_norms(mesh: &TetMesh, u_h: &[f64], u: impl Fn(DVec3) -> f64, grad_u: impl Fn(DVec3) -> DVec3) -> (f64, f64) {
    let (points, weight) = GAUSS4;
    let (mut l2, mut h1) = (0.0, 0.0);
    for t in &mesh.tets {
        let p = t.map(|n| mesh.nodes[n as usize]);
        let el = P1Tet::new(p);
        let values = t.map(|n| u_h[n as usize]);
        let grad_h = el.gradient(values);
        for bary in points {
            let x: DVec3 = (0..4).map(|i| p[i] * bary[i]).sum();
            let uh: f64 = (0..4).map(|i| values[i] * bary[i]).sum();
            l2 += weight * el.volume * (uh - u(x)).powi(2);
            h1 += weight * el.volume * (grad_h - grad_u(x)).length_squared();
        }
    }
    (l2.sqrt(), h1.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::ElectrodeGeometry;
    use crate::mesh::{generate, SizeField};

    /// The unit box without protrusions.
    fn unit_box() -> ElectrodeGeometry {
        ElectrodeGeometry {
            half_width: 1.0,
            height: 1.0,
            shapes: vec![],
            layers: vec![],
            scaffold: Default::default(),
            periodic: false,
            ground: None,
        }
    }

    #[test]
    fn laplacian_annihilates_constants_and_is_symmetric() {
        let geom = unit_box();
        let mesh = generate(&geom, &SizeField::graded(0.25, 0.5, 1.5)).expect("mesh");
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

    /// On a graded bisection mesh (not Delaunay everywhere) the circumcentric Laplacian still
    /// annihilates linear functions at interior nodes, as the P1 one does: its dual cells close.
    #[test]
    fn circumcentric_laplacian_is_exact_for_linear_functions_at_interior_nodes() {
        let geom = unit_box();
        let mesh = generate(&geom, &SizeField::graded(0.1, 0.5, 1.5)).expect("mesh");
        let mut on_boundary = vec![false; mesh.nodes.len()];
        mesh.faces.iter().flatten().for_each(|&n| on_boundary[n as usize] = true);
        let u: Vec<f64> = mesh.nodes.iter().map(|p| 2.0 * p.x - 3.0 * p.y + 0.5 * p.z + 1.0).collect();
        let (k, p1) = (circumcentric_laplacian(&mesh, 1.0), laplacian(&mesh, 1.0));
        let (mut y, mut y1) = (vec![0.0; k.n], vec![0.0; k.n]);
        k.spmv(&u, &mut y);
        p1.spmv(&u, &mut y1);
        let diagonal = |i: usize| k.values[k.find(i, i as u32).expect("diagonal")];
        let interior: Vec<usize> = (0..k.n).filter(|&i| !on_boundary[i]).collect();
        assert!(interior.len() > 100, "{} interior nodes", interior.len());
        for &i in &interior {
            assert!(y[i].abs() < 1e-10 * diagonal(i), "node {i}: {} (P1 {})", y[i], y1[i]);
        }
    }
}
