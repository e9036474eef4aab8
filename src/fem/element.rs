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

/// Each vertex's part of the tetrahedron in the circumcentric dual cells (signed, summing to the
/// volume): the pyramids from the vertex over its dual-face pieces, `sum_j w_ij L_ij^2 / 6` with
/// `w_ij = -K_ij` of [`circumcentric_stiffness`] (a face of height L_ij / 2 above area
/// `w_ij L_ij`). The control volumes of the Voronoi finite-volume scheme.
pub fn circumcentric_volumes(p: [DVec3; 4]) -> [f64; 4] {
    let k = circumcentric_stiffness(p);
    std::array::from_fn(|i| (0..4).filter(|&j| j != i).map(|j| -k[i][j] * p[i].distance_squared(p[j]) / 6.0).sum())
}

/// Each vertex's part of a triangle in the circumcentric dual (signed, summing to the area):
/// `(|ab|^2 cot C + |ac|^2 cot B) / 8` for vertex a. The boundary areas of the Voronoi
/// finite-volume scheme.
pub fn circumcentric_areas(p: [DVec3; 3]) -> [f64; 3] {
    let cot = |i: usize| {
        let (u, v) = (p[(i + 1) % 3] - p[i], p[(i + 2) % 3] - p[i]);
        u.dot(v) / u.cross(v).length()
    };
    std::array::from_fn(|i| {
        let (j, k) = ((i + 1) % 3, (i + 2) % 3);
        (p[i].distance_squared(p[j]) * cot(k) + p[i].distance_squared(p[k]) * cot(j)) / 8.0
    })
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

    /// The dual pieces sum to the volume (area) on any element, and split a box evenly: each of a
    /// cuboid's corners gets an eighth of it from its Kuhn tetrahedra (a barycentric split gives
    /// the two corners on the main diagonal 6/24 each and the other six 2/24), each corner of
    /// a rectangle a quarter from its two right triangles.
    #[test]
    fn circumcentric_volumes_and_areas() {
        let p = [DVec3::new(0.1, 0.0, 0.0), DVec3::new(1.0, 0.2, 0.0), DVec3::new(0.0, 1.0, 0.3), DVec3::new(0.2, 0.1, 1.0)];
        let volume = P1Tet::new(p).volume.abs();
        assert!((circumcentric_volumes(p).iter().sum::<f64>() - volume).abs() < 1e-12 * volume);
        let tri = [p[0], p[1], p[3]];
        let area = 0.5 * (tri[1] - tri[0]).cross(tri[2] - tri[0]).length();
        assert!((circumcentric_areas(tri).iter().sum::<f64>() - area).abs() < 1e-12);

        let (a, b, c) = (1.0, 2.0, 0.5);
        let corner = |i: usize| DVec3::new(a * (i & 1) as f64, b * ((i >> 1) & 1) as f64, c * ((i >> 2) & 1) as f64);
        let mut share = [0.0; 8];
        for [s, t] in [[1, 3], [1, 5], [2, 3], [2, 6], [4, 5], [4, 6]] {
            let tet = [0, s, t, 7];
            let v = circumcentric_volumes(tet.map(corner));
            tet.iter().zip(v).for_each(|(&i, v)| share[i] += v);
        }
        assert!(share.iter().all(|&v| (v - a * b * c / 8.0).abs() < 1e-12), "{share:?}");
        let [q0, q1, q2, q3] = [corner(0), corner(1), corner(3), corner(2)];
        let (t1, t2) = (circumcentric_areas([q0, q1, q2]), circumcentric_areas([q0, q2, q3]));
        let quarters = [t1[0] + t2[0], t1[1], t1[2] + t2[1], t2[2]];
        assert!(quarters.iter().all(|&s| (s - a * b / 4.0).abs() < 1e-12), "{quarters:?}");
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
