//! Tetrahedral meshes: the [`TetMesh`] container, the built-in generator for an electrode with
//! protrusions, boundary extraction and tagging, and quality statistics.

pub mod adjacency;
pub mod bisection;
pub mod boundary;
pub mod cut;
pub mod domain;
pub mod flip;
pub mod gmsh;
pub mod graded_axis;
pub mod import;
pub mod layered;
pub mod ordering;
pub mod quality;
pub mod sizing;
pub mod smooth;

use glam::DVec3;

pub use boundary::BoundaryTag;
pub use domain::Domain;
pub use quality::Quality;
pub use sizing::{generate, Generator, SizeField, TetLimit};

/// A conforming tetrahedral mesh with tagged boundary faces. Coordinates in metres.
#[derive(Debug, Clone)]
pub struct TetMesh {
    /// Node coordinates, m.
    pub nodes: Vec<DVec3>,
    /// Tetrahedra as node indices, positively oriented (det[v1-v0, v2-v0, v3-v0] > 0).
    pub tets: Vec<[u32; 4]>,
    /// Region id per tetrahedron (0: electrolyte).
    pub regions: Vec<u8>,
    /// Boundary faces, oriented with the normal pointing out of the domain.
    pub faces: Vec<[u32; 3]>,
    /// Tag of each boundary face.
    pub face_tags: Vec<BoundaryTag>,
}

impl TetMesh {
    /// Whether each node lies on a face tagged `tag`.
    pub fn on_boundary(&self, tag: BoundaryTag) -> Vec<bool> {
        let mut on = vec![false; self.nodes.len()];
        for f in self.faces_with(tag) {
            self.faces[f].iter().for_each(|&n| on[n as usize] = true);
        }
        on
    }

    /// Lower and upper corners of the nodes' bounding box, m.
    pub fn bounding_box(&self) -> ([f64; 3], [f64; 3]) {
        self.nodes.iter().fold(([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]), |(lo, hi), p| {
            let p = p.to_array();
            (std::array::from_fn(|k| lo[k].min(p[k])), std::array::from_fn(|k| hi[k].max(p[k])))
        })
    }

    /// Signed volume of tetrahedron `t` (positive for a well-oriented element), m^3.
    pub fn tet_volume(&self, t: usize) -> f64 {
        let [a, b, c, d] = self.tets[t].map(|i| self.nodes[i as usize]);
        (b - a).cross(c - a).dot(d - a) / 6.0
    }

    /// Total volume, m^3.
    pub fn volume(&self) -> f64 {
        (0..self.tets.len()).map(|t| self.tet_volume(t)).sum()
    }

    /// Area-weighted normal (area times unit outward normal) of boundary face `f`.
    pub fn face_area_vector(&self, f: usize) -> DVec3 {
        let [a, b, c] = self.faces[f].map(|i| self.nodes[i as usize]);
        0.5 * (b - a).cross(c - a)
    }

    /// Total area of the faces carrying `tag`, m^2.
    pub fn tagged_area(&self, tag: BoundaryTag) -> f64 {
        self.faces_with(tag).map(|f| self.face_area_vector(f).length()).sum()
    }

    /// Area of the faces carrying `tag` projected on the plane z = const, m^2 (overhangs counted
    /// once: the z-components of the area vectors are summed).
    pub fn projected_area(&self, tag: BoundaryTag) -> f64 {
        self.faces_with(tag).map(|f| self.face_area_vector(f).z).sum::<f64>().abs()
    }

    /// Indices of the boundary faces carrying `tag`.
    pub fn faces_with(&self, tag: BoundaryTag) -> impl Iterator<Item = usize> + '_ {
        (0..self.faces.len()).filter(move |&f| self.face_tags[f] == tag)
    }

    /// Smallest edge length at a node among all tets (a local mesh size), m.
    pub fn min_edge_length(&self) -> f64 {
        let mut h = f64::INFINITY;
        for t in &self.tets {
            for (i, j) in [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)] {
                h = h.min(self.nodes[t[i] as usize].distance(self.nodes[t[j] as usize]));
            }
        }
        h
    }
}
