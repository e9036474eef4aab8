//! The discrete potential system of a mesh: scaled Laplacian, electrode and bulk nodes, lumped
//! electrode areas. Built once, shared by the primary and secondary drivers.

use crate::fem::boundary_flux::{lumped_areas, tagged_nodes};
use crate::fem::{assembly, CsrMatrix};
use crate::mesh::{BoundaryTag, TetMesh};

/// Scaled discrete potential problem.
pub struct PotentialSystem {
    /// Scaled stiffness matrix over all nodes.
    pub k: CsrMatrix,
    /// Electrode nodes (increasing).
    pub electrode: Vec<u32>,
    /// Lumped scaled area of each electrode node (aligned with `electrode`).
    pub electrode_area: Vec<f64>,
    /// Bulk-boundary nodes (potential reference phi = 0).
    pub bulk: Vec<u32>,
    /// Lumped control volume of each node (a quarter of each adjacent tet), scaled.
    pub node_volume: Vec<f64>,
}

impl PotentialSystem {
    /// Assembles the system with lengths scaled by `length_scale`.
    pub fn new(mesh: &TetMesh, length_scale: f64) -> Self {
        let k = assembly::laplacian(mesh, length_scale);
        let electrode = tagged_nodes(mesh, BoundaryTag::Electrode);
        let areas = lumped_areas(mesh, BoundaryTag::Electrode, length_scale);
        let electrode_area = electrode.iter().map(|&n| areas[n as usize]).collect();
        let bulk = tagged_nodes(mesh, BoundaryTag::Bulk);
        let mut node_volume = vec![0.0; mesh.nodes.len()];
        let l3 = length_scale.powi(3);
        for (t, nodes) in mesh.tets.iter().enumerate() {
            let v = mesh.tet_volume(t) / l3 / 4.0;
            nodes.iter().for_each(|&n| node_volume[n as usize] += v);
        }
        PotentialSystem { k, electrode, electrode_area, bulk, node_volume }
    }

    /// Number of nodes.
    pub fn n(&self) -> usize {
        self.k.n
    }

    /// Nodes not in any of the `fixed` lists, increasing.
    pub fn free_nodes(&self, fixed: &[&[u32]]) -> Vec<u32> {
        let mut is_fixed = vec![false; self.n()];
        for list in fixed {
            for &n in *list {
                is_fixed[n as usize] = true;
            }
        }
        (0..self.n() as u32).filter(|&n| !is_fixed[n as usize]).collect()
    }

    /// Total scaled electrode area.
    pub fn electrode_area_total(&self) -> f64 {
        self.electrode_area.iter().sum()
    }
}
