//! The discrete potential system of a mesh: scaled Laplacian, electrode and bulk nodes, lumped
//! electrode areas. Built once, shared by the primary and secondary drivers.

use crate::fem::boundary_flux::{lumped_areas, tagged_nodes};
use crate::fem::{assembly, periodic, CsrMatrix};
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
    /// With periodic side walls, the representative of every node ([`crate::fem::periodic`]):
    /// slaves are never unknowns and take their representative's values ([`Self::expand`]).
    pub representative: Option<Vec<u32>>,
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
        PotentialSystem { k, electrode, electrode_area, bulk, node_volume, representative: None }
    }

    /// Identifies the side walls x = +-w and y = +-w of the box of half-width `half_width`:
    /// folds the matrix, volumes and electrode areas onto the representatives and drops the
    /// slaves from the electrode and bulk lists.
    pub fn make_periodic(&mut self, mesh: &TetMesh, half_width: f64) -> Result<(), String> {
        let rep = periodic::representatives(mesh, half_width)?;
        self.k = periodic::fold_matrix(&self.k, &rep);
        periodic::fold_nodal(&mut self.node_volume, &rep);
        let mut area = vec![0.0; self.n()];
        for (&n, &a) in self.electrode.iter().zip(&self.electrode_area) {
            area[n as usize] = a;
        }
        periodic::fold_nodal(&mut area, &rep);
        let is_rep = |n: &u32| rep[*n as usize] == *n;
        self.electrode.retain(is_rep);
        self.electrode_area = self.electrode.iter().map(|&n| area[n as usize]).collect();
        self.bulk.retain(is_rep);
        self.representative = Some(rep);
        Ok(())
    }

    /// Gives every periodic slave its representative's value (no-op without periodic sides).
    pub fn expand(&self, values: &mut [f64]) {
        if let Some(rep) = &self.representative {
            periodic::expand(values, rep);
        }
    }

    /// Number of nodes.
    pub fn n(&self) -> usize {
        self.k.n
    }

    /// Nodes not in any of the `fixed` lists (nor periodic slaves), increasing.
    pub fn free_nodes(&self, fixed: &[&[u32]]) -> Vec<u32> {
        let mut is_fixed = vec![false; self.n()];
        if let Some(rep) = &self.representative {
            (0..self.n()).filter(|&n| rep[n] as usize != n).for_each(|n| is_fixed[n] = true);
        }
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
