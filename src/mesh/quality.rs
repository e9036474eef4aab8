//! Element quality: dihedral angles and aspect ratios.

use glam::DVec3;
use serde::Serialize;

use super::TetMesh;

/// Quality statistics of a mesh.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Quality {
    /// Smallest dihedral angle over all tets, degrees.
    pub min_dihedral_deg: f64,
    /// Largest dihedral angle over all tets, degrees.
    pub max_dihedral_deg: f64,
    /// Largest aspect ratio (longest edge / (2 sqrt(6) inradius); 1 for a regular tet).
    pub max_aspect_ratio: f64,
    /// Number of tets with non-positive volume (must be 0).
    pub inverted: usize,
}

/// Dihedral angles (degrees) at the six edges of a tetrahedron.
pub fn dihedral_angles(p: [DVec3; 4]) -> [f64; 6] {
    // Outward face normals; the face opposite node i is face i.
    let n = [
        (p[2] - p[1]).cross(p[3] - p[1]),
        (p[3] - p[0]).cross(p[2] - p[0]),
        (p[1] - p[0]).cross(p[3] - p[0]),
        (p[2] - p[0]).cross(p[1] - p[0]),
    ]
    .map(|v| v.normalize_or_zero());
    let mut out = [0.0; 6];
    let pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)];
    for (k, (i, j)) in pairs.into_iter().enumerate() {
        out[k] = 180.0 - n[i].dot(n[j]).clamp(-1.0, 1.0).acos().to_degrees();
    }
    out
}

/// Aspect ratio: longest edge / (2 sqrt(6) inradius).
pub fn aspect_ratio(p: [DVec3; 4]) -> f64 {
    let vol = ((p[1] - p[0]).cross(p[2] - p[0]).dot(p[3] - p[0]) / 6.0).abs();
    let area = 0.5
        * ((p[2] - p[1]).cross(p[3] - p[1]).length()
            + (p[3] - p[0]).cross(p[2] - p[0]).length()
            + (p[1] - p[0]).cross(p[3] - p[0]).length()
            + (p[2] - p[0]).cross(p[1] - p[0]).length());
    let longest = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)].iter().map(|&(i, j)| p[i].distance(p[j])).fold(0.0, f64::max);
    let inradius = 3.0 * vol / area;
    longest / (2.0 * 6f64.sqrt() * inradius)
}

impl Quality {
    /// Computes the statistics of `mesh`.
    pub fn of(mesh: &TetMesh) -> Quality {
        let mut q = Quality { min_dihedral_deg: 180.0, max_dihedral_deg: 0.0, max_aspect_ratio: 0.0, inverted: 0 };
        for t in 0..mesh.tets.len() {
            let p = mesh.tets[t].map(|n| mesh.nodes[n as usize]);
            if mesh.tet_volume(t) <= 0.0 {
                q.inverted += 1;
                continue;
            }
            for a in dihedral_angles(p) {
                q.min_dihedral_deg = q.min_dihedral_deg.min(a);
                q.max_dihedral_deg = q.max_dihedral_deg.max(a);
            }
            q.max_aspect_ratio = q.max_aspect_ratio.max(aspect_ratio(p));
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_tet_has_70_degree_dihedrals_and_unit_aspect() {
        let p =
            [DVec3::new(1.0, 1.0, 1.0), DVec3::new(1.0, -1.0, -1.0), DVec3::new(-1.0, 1.0, -1.0), DVec3::new(-1.0, -1.0, 1.0)];
        for a in dihedral_angles(p) {
            assert!((a - 70.528_779_365_509_3).abs() < 1e-9, "{a}");
        }
        assert!((aspect_ratio(p) - 1.0).abs() < 1e-12);
    }
}
