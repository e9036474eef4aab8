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

/// The circumcentric ("Voronoi box") element matrix of a tetrahedron with vertices `p`: for each
/// edge ij, `K_ij = -|s_ij| / |x_i - x_j|` with s_ij the part inside the tetrahedron of the face
/// of the circumcentric dual cell of x_i that is dual to the edge (the quadrilateral through the
/// edge midpoint, the circumcentres of the two faces that hold the edge and the tetrahedron's
/// circumcentre), signed negative where the circumcentre lies beyond the edge's opposite side;
/// `K_ii = -sum_j K_ij`. Assembled, the weights `-K_ij` are the two-point flux weights of the
/// Voronoi finite-volume scheme: non-negative at interior edges of a Delaunay mesh (unlike the
/// P1 weights, which a Delaunay mesh in 3D does not keep non-negative), and exact for linear
/// functions at interior nodes on any mesh.
pub fn circumcentric_stiffness(p: [DVec3; 4]) -> [[f64; 4]; 4] {
    const EDGES: [(usize, usize, usize, usize); 6] =
        [(0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2), (1, 2, 0, 3), (1, 3, 0, 2), (2, 3, 0, 1)];
    let centre = tet_circumcentre(p);
    let mut k = [[0.0; 4]; 4];
    for (a, b, c, d) in EDGES {
        let mid = (p[a] + p[b]) * 0.5;
        let (f1, f2) = (triangle_circumcentre(p[a], p[b], p[c]), triangle_circumcentre(p[a], p[b], p[d]));
        let edge = p[b] - p[a];
        let length = edge.length();
        let along = edge / length;
        let area = 0.5 * ((f1 - mid).cross(centre - mid) + (centre - mid).cross(f2 - mid)).dot(along);
        let turn = (p[c] - p[a]).cross(p[d] - p[a]).dot(along).signum();
        let w = turn * area / length;
        k[a][b] -= w;
        k[b][a] -= w;
        k[a][a] += w;
        k[b][b] += w;
    }
    k
}

/// Centre of the sphere through the four vertices of a tetrahedron.
fn tet_circumcentre(p: [DVec3; 4]) -> DVec3 {
    let (a, b, c) = (p[1] - p[0], p[2] - p[0], p[3] - p[0]);
    let numerator = a.length_squared() * b.cross(c) + b.length_squared() * c.cross(a) + c.length_squared() * a.cross(b);
    p[0] + numerator / (2.0 * a.dot(b.cross(c)))
}

/// Centre of the circle through three points, in their plane.
fn triangle_circumcentre(a: DVec3, b: DVec3, c: DVec3) -> DVec3 {
    let (u, v) = (b - a, c - a);
    let normal = u.cross(v);
    a + (u.length_squared() * v - v.length_squared() * u).cross(normal) / (2.0 * normal.length_squared())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The circumcentres are equidistant from their points; the Kuhn cube's six tetrahedra (a
    /// degenerate Delaunay mesh: all eight corners on one sphere) assemble to non-negative
    /// circumcentric weights (and, being non-obtuse, to non-negative P1 ones), each corner's dual
    /// cell being the sub-cube of side 1/2 (three faces of area 1/4 on the cube's edges); a
    /// tetrahedron whose circumcentre lies outside it has a negative weight.
    #[test]
    fn circumcentric_weights_of_the_kuhn_cube_and_of_an_obtuse_tetrahedron() {
        let p = [DVec3::new(0.1, 0.0, 0.0), DVec3::new(1.0, 0.2, 0.0), DVec3::new(0.0, 1.0, 0.3), DVec3::new(0.2, 0.1, 1.0)];
        let c = tet_circumcentre(p);
        assert!(p.iter().all(|q| (q.distance(c) - p[0].distance(c)).abs() < 1e-12));
        let f = triangle_circumcentre(p[0], p[1], p[2]);
        assert!((f.distance(p[1]) - f.distance(p[0])).abs() < 1e-12 && (f.distance(p[2]) - f.distance(p[0])).abs() < 1e-12);
        assert!((f - p[0]).dot((p[1] - p[0]).cross(p[2] - p[0])).abs() < 1e-12, "in the plane");
        // Every ordering of the vertices, mirror images included, gives the same weights.
        let k = circumcentric_stiffness(p);
        for perm in [[1, 0, 2, 3], [0, 2, 1, 3], [3, 1, 2, 0], [2, 3, 0, 1], [1, 2, 3, 0]] {
            let kp = circumcentric_stiffness(perm.map(|i| p[i]));
            for a in 0..4 {
                for b in 0..4 {
                    assert!((kp[a][b] - k[perm[a]][perm[b]]).abs() < 1e-12, "{perm:?} {a}-{b}");
                }
            }
        }
        // A regular tetrahedron (well centred): the six weights are equal by symmetry, and the
        // pyramids from the vertices on the dual faces fill it, V = sum_edges w_e L_e^2 / 3, so
        // each is V / (2 L^2) = L / (12 sqrt 2).
        let regular =
            [DVec3::new(1.0, 1.0, 1.0), DVec3::new(1.0, -1.0, -1.0), DVec3::new(-1.0, 1.0, -1.0), DVec3::new(-1.0, -1.0, 1.0)];
        let length = 8f64.sqrt();
        let volume = length.powi(3) / (6.0 * 2f64.sqrt());
        let kr = circumcentric_stiffness(regular);
        for a in 0..4 {
            for b in a + 1..4 {
                assert!((-kr[a][b] - 3.0 * volume / (6.0 * length * length)).abs() < 1e-12, "{a}-{b}: {}", -kr[a][b]);
            }
        }

        let corner = |i: usize| DVec3::new((i & 1) as f64, ((i >> 1) & 1) as f64, ((i >> 2) & 1) as f64);
        let kuhn: Vec<[usize; 4]> = [[1, 3], [1, 5], [2, 3], [2, 6], [4, 5], [4, 6]].iter().map(|&[a, b]| [0, a, b, 7]).collect();
        let (mut voronoi, mut p1) = ([[0.0; 8]; 8], [[0.0; 8]; 8]);
        for t in &kuhn {
            let pts = t.map(corner);
            // P1Tet's stiffness carries the sign of the orientation; half these tets are negative.
            let p1_tet = P1Tet::new(pts);
            let (v, s) = (circumcentric_stiffness(pts), p1_tet.stiffness().map(|row| row.map(|x| x * p1_tet.volume.signum())));
            for i in 0..4 {
                for j in 0..4 {
                    voronoi[t[i]][t[j]] += v[i][j];
                    p1[t[i]][t[j]] += s[i][j];
                }
            }
        }
        for (i, row) in voronoi.iter().enumerate() {
            assert!((row[i] - 0.75).abs() < 1e-12, "corner {i}: {}", row[i]);
        }
        for i in 0..8 {
            for j in 0..8 {
                assert!(i == j || voronoi[i][j] <= 1e-12, "weight {i}-{j}: {}", -voronoi[i][j]);
                assert!(i == j || p1[i][j] <= 1e-12, "P1 weight {i}-{j}: {}", -p1[i][j]);
            }
        }

        // A flat tetrahedron over a wide base: its circumcentre lies far below the base.
        let flat = [DVec3::new(0.0, 0.0, 0.0), DVec3::new(2.0, 0.0, 0.0), DVec3::new(1.0, 2.0, 0.0), DVec3::new(1.0, 0.7, 0.1)];
        let k = circumcentric_stiffness(flat);
        assert!((0..3).any(|a| (a + 1..4).any(|b| k[a][b] > 0.0)), "{k:?}");
    }

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
