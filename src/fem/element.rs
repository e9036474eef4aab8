//! Geometry of a linear (P1) tetrahedron: volume and the constant gradients of its barycentric
//! shape functions.

use glam::DVec3;

/// Volume and shape-function gradients of a P1 tetrahedron.
#[derive(Debug, Clone, Copy)]
pub struct P1Tet {
    /// Signed volume (positive for a well-oriented tet).
    pub volume: f64,
    /// grad lambda_i, constant over the element.
    pub grads: [DVec3; 4],
}

impl P1Tet {
    /// Computes volume and gradients from the four vertices.
    pub fn new(p: [DVec3; 4]) -> Self {
        let (e1, e2, e3) = (p[1] - p[0], p[2] - p[0], p[3] - p[0]);
        let det = e1.cross(e2).dot(e3);
        // Rows of the inverse Jacobian are the gradients of lambda_1..3.
        let g1 = e2.cross(e3) / det;
        let g2 = e3.cross(e1) / det;
        let g3 = e1.cross(e2) / det;
        let g0 = -(g1 + g2 + g3);
        P1Tet { volume: det / 6.0, grads: [g0, g1, g2, g3] }
    }

    /// Element stiffness matrix `K_ij = volume * grad lambda_i . grad lambda_j`.
    pub fn stiffness(&self) -> [[f64; 4]; 4] {
        let mut k = [[0.0; 4]; 4];
        for i in 0..4 {
            for j in 0..4 {
                k[i][j] = self.volume * self.grads[i].dot(self.grads[j]);
            }
        }
        k
    }

    /// Gradient of the P1 interpolant with nodal values `u`.
    pub fn gradient(&self, u: [f64; 4]) -> DVec3 {
        (0..4).map(|i| self.grads[i] * u[i]).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_reproduce_linear_functions() {
        let p = [DVec3::new(0.1, 0.0, 0.0), DVec3::new(1.0, 0.2, 0.0), DVec3::new(0.0, 1.0, 0.3), DVec3::new(0.2, 0.1, 1.0)];
        let t = P1Tet::new(p);
        let f = |q: DVec3| 2.0 * q.x - 3.0 * q.y + 0.5 * q.z + 1.0;
        let g = t.gradient(p.map(f));
        assert!((g - DVec3::new(2.0, -3.0, 0.5)).length() < 1e-12);
        let rows: f64 = t.stiffness().iter().map(|r| r.iter().sum::<f64>().abs()).sum();
        assert!(rows < 1e-12, "stiffness rows must sum to zero");
    }
}
