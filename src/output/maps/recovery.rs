//! Element vector fields (the field E = -grad phi and the current density, constant per P1
//! element) recovered at the nodes, so that their maps are drawn smoothly instead of as facets:
//! the recovered vector at a node is the volume-weighted mean of the vectors of the elements
//! around it, taken over the elements of one region only (a node on the interface of two regions
//! carries one value per region), so a jump in a material property, such as the current density
//! entering a porous coating, stays a jump. Maps interpolate the recovered vectors linearly and
//! show their length. The metrics (summary.json's `max_field_V_m`, fields.vtu) keep the
//! element values: recovery is for looking, not for numbers.

use std::collections::HashMap;

use glam::DVec3;

use super::sample::Located;
use crate::mesh::TetMesh;

/// A recovered element vector field (see the module documentation).
pub struct Recovered {
    /// The region of each tetrahedron the recovery went by.
    regions: Vec<u8>,
    /// At nodes whose elements all lie in one region.
    at_node: Vec<DVec3>,
    /// At nodes on an interface between regions: (node, region) -> vector.
    at_interface: HashMap<(u32, u8), DVec3>,
}

/// No region seen yet at a node.
const UNSEEN: u16 = u16::MAX;
/// Elements of more than one region meet at the node.
const MIXED: u16 = u16::MAX - 1;

impl Recovered {
    /// The recovery of `cell` (one vector per tetrahedron of `mesh`), averaging within each of
    /// `regions` (one per tetrahedron: the mesh's regions, or finer, as for a Donnan jump's
    /// cells, which must not blend into their neighbours).
    pub fn new(mesh: &TetMesh, cell: &[DVec3], regions: Vec<u8>) -> Recovered {
        let mut region_at = vec![UNSEEN; mesh.nodes.len()];
        for (tet, &region) in mesh.tets.iter().zip(&regions) {
            for &n in tet {
                let seen = &mut region_at[n as usize];
                *seen = match *seen {
                    UNSEEN => u16::from(region),
                    r if r == u16::from(region) => r,
                    _ => MIXED,
                };
            }
        }
        let mut sum = vec![(DVec3::ZERO, 0.0); mesh.nodes.len()];
        let mut interface: HashMap<(u32, u8), (DVec3, f64)> = HashMap::new();
        for (t, (tet, &region)) in mesh.tets.iter().zip(&regions).enumerate() {
            let volume = mesh.tet_volume(t).abs();
            for &n in tet {
                let slot = match region_at[n as usize] {
                    MIXED => interface.entry((n, region)).or_insert((DVec3::ZERO, 0.0)),
                    _ => &mut sum[n as usize],
                };
                slot.0 += volume * cell[t];
                slot.1 += volume;
            }
        }
        let mean = |(v, w): (DVec3, f64)| if w > 0.0 { v / w } else { DVec3::ZERO };
        Recovered {
            regions,
            at_node: sum.into_iter().map(mean).collect(),
            at_interface: interface.into_iter().map(|(k, s)| (k, mean(s))).collect(),
        }
    }

    /// The recovered vector at `node` for an element of `region`.
    pub fn at(&self, node: u32, region: u8) -> DVec3 {
        self.at_interface.get(&(node, region)).copied().unwrap_or(self.at_node[node as usize])
    }

    /// The length of the recovered vector interpolated linearly at each pixel of `located`,
    /// NaN where empty.
    pub fn magnitude_at(&self, located: &Located) -> Vec<f64> {
        located
            .probes
            .iter()
            .map(|p| {
                p.map_or(f64::NAN, |p| {
                    let region = self.regions[p.element as usize];
                    p.nodes.iter().zip(p.weights).map(|(&n, w)| w * self.at(n, region)).sum::<DVec3>().length()
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::ElectrodeGeometry;
    use crate::mesh::{generate, SizeField};

    fn box_mesh() -> TetMesh {
        let geom = ElectrodeGeometry {
            half_width: 1.0,
            height: 1.0,
            shapes: Vec::new(),
            layers: Vec::new(),
            scaffold: Default::default(),
            periodic: false,
            ground: None,
        };
        generate(&geom, &SizeField::graded(0.25, 0.25, 1.5)).expect("mesh")
    }

    #[test]
    fn a_constant_field_is_recovered_exactly_and_a_jump_between_regions_is_kept() {
        let mut mesh = box_mesh();
        let e = DVec3::new(1.0, -2.0, 3.0);
        let uniform = Recovered::new(&mesh, &vec![e; mesh.tets.len()], mesh.regions.clone());
        assert!(uniform.at_node.iter().all(|v| (*v - e).length() < 1e-12));
        // Two regions split at z = 0.5, with vectors e and 2e.
        let centre_z: Vec<f64> =
            (0..mesh.tets.len()).map(|t| mesh.tets[t].iter().map(|&n| mesh.nodes[n as usize].z).sum::<f64>() / 4.0).collect();
        mesh.regions = centre_z.iter().map(|&z| u8::from(z > 0.5)).collect();
        let cell: Vec<DVec3> = mesh.regions.iter().map(|&r| if r == 1 { 2.0 * e } else { e }).collect();
        let split = Recovered::new(&mesh, &cell, mesh.regions.clone());
        assert!(!split.at_interface.is_empty(), "nodes on z = 0.5 touch both regions");
        for (&(n, region), v) in &split.at_interface {
            let expected = if region == 1 { 2.0 * e } else { e };
            assert!((*v - expected).length() < 1e-12, "node {n} region {region}: {v} vs {expected}");
        }
    }
}
