//! Control volumes: how the nodes share the mesh's volume and its boundary areas.
//!
//! P1 elements lump their masses barycentrically (a quarter of each tetrahedron, a third of each
//! face): the potential models, and the transport models on their default P1 edge weights. With
//! `solver.transport_weights = "circumcentric"` the transport models' two-point fluxes use the
//! circumcentric weights (`|dual face| / |edge|`, [`super::element::circumcentric_stiffness`]), the
//! fluxes of the Voronoi finite-volume scheme, whose balances hold over the circumcentric dual
//! cells: their volumes and boundary areas ([`super::element::circumcentric_volumes`],
//! [`super::element::circumcentric_areas`]) must go with them. With barycentric volumes instead, a lattice of boxes, whose dual cells split
//! every box evenly, would give the two corners on each Kuhn diagonal three times the volume of
//! the others, and the balance at a node would no longer match its fluxes (the reacting double
//! layer of `pnp_reacting_binary` moved by 1.5% so).
//!
//! A dual cell can be small or negative where the mesh is far from Delaunay; a node whose
//! circumcentric share is below [`MIN_DUAL_SHARE`] of its barycentric one takes the barycentric
//! share (of every element at it), so every control volume stays positive; totals then differ from
//! the mesh's by those nodes' differences. Element properties (porosity, fixed charge) reach a
//! node as barycentric averages scaled to its control volume (see [`node_volumes`]).

use rayon::prelude::*;

use super::element::{circumcentric_areas, circumcentric_volumes};
use crate::mesh::{BoundaryTag, TetMesh};

/// A node keeps its circumcentric share only if it is at least this fraction of the barycentric.
pub const MIN_DUAL_SHARE: f64 = 0.1;

/// How nodes share volumes and boundary areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlVolumes {
    /// A quarter of each tetrahedron, a third of each face (lumped P1 masses).
    Barycentric,
    /// The circumcentric dual cells (Voronoi boxes) of the transport models' fluxes.
    Circumcentric,
}

/// Each node's control volume, in units of `length_scale^3`.
///
/// Material properties that vary by element (porosity, fixed charge, volumetric exchange) are
/// not weighted by the circumcentric pieces of a cell, which can be negative and would then make
/// a node's value lie outside those of its elements (a fixed charge beyond the layer's, and a
/// spurious Donnan potential, at a charged layer's interface): a node takes their barycentric
/// average, scaled to its control volume.
pub fn node_volumes(mesh: &TetMesh, length_scale: f64, cv: ControlVolumes) -> Vec<f64> {
    let l3 = length_scale.powi(3);
    let barycentric: Vec<[f64; 4]> = (0..mesh.tets.len()).map(|t| [mesh.tet_volume(t) / l3 / 4.0; 4]).collect();
    let shares = match cv {
        ControlVolumes::Barycentric => barycentric,
        ControlVolumes::Circumcentric => {
            let dual: Vec<[f64; 4]> =
                mesh.tets.par_iter().map(|t| circumcentric_volumes(t.map(|n| mesh.nodes[n as usize] / length_scale))).collect();
            choose_per_node(mesh.nodes.len(), &mesh.tets, &barycentric, &dual)
        }
    };
    let mut volume = vec![0.0; mesh.nodes.len()];
    for (t, s) in mesh.tets.iter().zip(&shares) {
        t.iter().zip(s).for_each(|(&n, v)| volume[n as usize] += v);
    }
    volume
}

/// Each face tagged `tag`'s area split among its three nodes, summed per node, in units of
/// `length_scale^2` (zero off those faces).
pub fn node_areas(mesh: &TetMesh, tag: BoundaryTag, length_scale: f64, cv: ControlVolumes) -> Vec<f64> {
    let faces: Vec<[u32; 3]> = mesh.faces_with(tag).map(|f| mesh.faces[f]).collect();
    let points = |f: &[u32; 3]| f.map(|n| mesh.nodes[n as usize] / length_scale);
    let barycentric: Vec<[f64; 3]> = faces
        .iter()
        .map(|f| {
            let [a, b, c] = points(f);
            [0.5 * (b - a).cross(c - a).length() / 3.0; 3]
        })
        .collect();
    let shares = match cv {
        ControlVolumes::Barycentric => barycentric,
        ControlVolumes::Circumcentric => {
            let dual: Vec<[f64; 3]> = faces.iter().map(|f| circumcentric_areas(points(f))).collect();
            choose_per_node(mesh.nodes.len(), &faces, &barycentric, &dual)
        }
    };
    let mut area = vec![0.0; mesh.nodes.len()];
    for (f, s) in faces.iter().zip(&shares) {
        f.iter().zip(s).for_each(|(&n, a)| area[n as usize] += a);
    }
    area
}

/// How many nodes have a circumcentric dual cell below [`MIN_DUAL_SHARE`] of their barycentric
/// share of the volume, and so take barycentric control volumes under the circumcentric scheme:
/// where the mesh is far from Delaunay, or where nodes crowd a boundary node (a lattice node a
/// third of an element above a tip's apex leaves the apex a sliver of dual cell). Their balances
/// are not consistent with their fluxes.
pub fn small_dual_cells(mesh: &TetMesh) -> usize {
    let barycentric: Vec<[f64; 4]> = (0..mesh.tets.len()).map(|t| [mesh.tet_volume(t) / 4.0; 4]).collect();
    let dual: Vec<[f64; 4]> = mesh.tets.par_iter().map(|t| circumcentric_volumes(t.map(|n| mesh.nodes[n as usize]))).collect();
    keeps_dual(mesh.nodes.len(), &mesh.tets, &barycentric, &dual).iter().filter(|&&keeps| !keeps).count()
}

/// Per node, whether its `dual` total is at least [`MIN_DUAL_SHARE`] of its `barycentric` one.
fn keeps_dual<const K: usize>(nodes: usize, elements: &[[u32; K]], barycentric: &[[f64; K]], dual: &[[f64; K]]) -> Vec<bool> {
    let (mut bary_total, mut dual_total) = (vec![0.0; nodes], vec![0.0; nodes]);
    for ((e, b), d) in elements.iter().zip(barycentric).zip(dual) {
        for i in 0..K {
            bary_total[e[i] as usize] += b[i];
            dual_total[e[i] as usize] += d[i];
        }
    }
    (0..nodes).map(|n| dual_total[n] >= MIN_DUAL_SHARE * bary_total[n]).collect()
}

/// Per element, the `dual` shares, except at nodes whose dual total is below [`MIN_DUAL_SHARE`]
/// of their barycentric total, which take the `barycentric` shares.
fn choose_per_node<const K: usize>(
    nodes: usize,
    elements: &[[u32; K]],
    barycentric: &[[f64; K]],
    dual: &[[f64; K]],
) -> Vec<[f64; K]> {
    let keeps_dual = keeps_dual(nodes, elements, barycentric, dual);
    elements
        .iter()
        .zip(barycentric)
        .zip(dual)
        .map(|((e, b), d)| std::array::from_fn(|i| if keeps_dual[e[i] as usize] { d[i] } else { b[i] }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DVec3;

    /// Two tetrahedra of a box's Kuhn split and their shares: the barycentric ones a quarter each,
    /// the circumcentric ones summing to the same total; a sliver's node falls back.
    #[test]
    fn shares_sum_to_the_volume_and_fall_back_where_a_dual_cell_is_small() {
        let corner = |i: usize| DVec3::new((i & 1) as f64, ((i >> 1) & 1) as f64, 0.5 * ((i >> 2) & 1) as f64);
        let nodes: Vec<DVec3> = (0..8).map(corner).collect();
        let positive = |t: [u32; 4]| {
            let [a, b, c, d] = t.map(|n| nodes[n as usize]);
            if (b - a).cross(c - a).dot(d - a) > 0.0 {
                t
            } else {
                [t[1], t[0], t[2], t[3]]
            }
        };
        let mesh = TetMesh {
            tets: vec![positive([0, 1, 3, 7]), positive([0, 1, 5, 7])],
            nodes,
            regions: vec![0, 0],
            faces: vec![],
            face_tags: vec![],
        };
        let volume = mesh.volume();
        for cv in [ControlVolumes::Barycentric, ControlVolumes::Circumcentric] {
            assert!((node_volumes(&mesh, 1.0, cv).iter().sum::<f64>() - volume).abs() < 1e-12, "{cv:?}");
        }
        let b = [[1.0, 1.0]];
        assert_eq!(choose_per_node(2, &[[0, 1]], &b, &[[0.05, 1.3]]), vec![[1.0, 1.3]]);
        assert_eq!(small_dual_cells(&mesh), 0, "a box's Kuhn tetrahedra are Delaunay");
    }

    /// A node crowding a face (a tenth of the face's size above it) puts the tetrahedron's
    /// circumcentre far beyond the face: the face's nodes get negative dual shares (the crowding
    /// node all the rest), are counted, and take their barycentric volumes.
    #[test]
    fn a_crowding_node_leaves_the_face_it_crowds_small_dual_cells() {
        let nodes = vec![DVec3::ZERO, DVec3::X, DVec3::Y, DVec3::new(0.3, 0.3, 0.1)];
        let mesh = TetMesh { tets: vec![[0, 1, 2, 3]], nodes, regions: vec![0], faces: vec![], face_tags: vec![] };
        let dual = circumcentric_volumes(mesh.tets[0].map(|n| mesh.nodes[n as usize]));
        assert!(dual[..3].iter().all(|&v| v < 0.0) && dual[3] > mesh.volume(), "{dual:?}");
        assert_eq!(small_dual_cells(&mesh), 3);
        let volumes = node_volumes(&mesh, 1.0, ControlVolumes::Circumcentric);
        assert!(volumes[..3].iter().all(|&v| (v - mesh.volume() / 4.0).abs() < 1e-15), "{volumes:?}");
    }
}
