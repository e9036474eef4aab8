//! The discrete potential system of a mesh: scaled Laplacian (weighted by the effective
//! transport factor of porous media), electrode and bulk nodes, lumped electrode areas, pore
//! volumes, fixed charges and the reaction sites of scaffolds. Built once, shared by every model.

use crate::fem::boundary_flux::tagged_nodes;
use crate::fem::dual::{node_areas, node_volumes, ControlVolumes};
use crate::fem::edges::Edges;
use crate::fem::{assembly, periodic, CsrMatrix};
use crate::mesh::{BoundaryTag, TetMesh};
use crate::physics::porous::Media;

/// Where a scaffold reaction happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// The solid of a homogenized porous-electrode layer (volumetric reaction).
    Volumetric,
    /// A resolved scaffold surface (fibre, particle).
    ScaffoldSurface,
}

/// Reaction at one node besides the electrode surface, with the Butler–Volmer law of the
/// electrode. `equivalent_area` is the scaled electrode area that, at the electrode's exchange
/// current density i0_e, has the site's exchange current: `sum a i0 V / 4 / (i0_e L^2)` over the
/// node's scaffold tetrahedra, or `i0 A / (i0_e L^2)` on a scaffold surface.
#[derive(Debug, Clone, Copy)]
pub struct ReactionSite {
    pub node: u32,
    pub equivalent_area: f64,
    pub kind: SiteKind,
}

/// Finite-conductivity solid phase of a porous-electrode layer.
pub struct SolidSystem {
    /// Scaled stiffness weighted by sigma_eff (S/m) over the layer's tetrahedra.
    pub k: CsrMatrix,
    /// Nodes of the layer (increasing): the solid potential lives there.
    pub nodes: Vec<u32>,
}

/// Scaled discrete potential problem.
pub struct PotentialSystem {
    /// Scaled stiffness matrix over all nodes.
    pub k: CsrMatrix,
    /// Electrode nodes (increasing).
    pub electrode: Vec<u32>,
    /// Scaled area of each electrode node in its reaction (aligned with `electrode`):
    /// barycentric, or circumcentric for the transport models' circumcentric scheme
    /// ([`crate::fem::dual`]).
    pub electrode_area: Vec<f64>,
    /// Barycentric lumped scaled area of each electrode node (a third of each face; aligned with
    /// `electrode`): the electrode's area, and what a nodal flux is taken over where the outputs
    /// integrate a density as a linear interpolant on the faces (each node a third of each face),
    /// so that the integral returns the fluxes whatever `electrode_area` is.
    pub electrode_lumped_area: Vec<f64>,
    /// Bulk-boundary nodes (potential reference phi = 0).
    pub bulk: Vec<u32>,
    /// Pore volume of each node's control volume (a quarter of each adjacent tet, or its
    /// circumcentric dual cell for the transport models), scaled.
    pub node_volume: Vec<f64>,
    /// With periodic side walls, the representative of every node ([`crate::fem::periodic`]):
    /// slaves are never unknowns and take their representative's values ([`Self::expand`]).
    pub representative: Option<Vec<u32>>,
    /// Fixed charge in each node's pore volume, `sum X eps V / 4` (mol/m^3 times scaled volume);
    /// divided by `node_volume` it is the node's fixed charge concentration.
    pub fixed_charge_amount: Vec<f64>,
    /// Scaffold reactions (volumetric and resolved surfaces), at most one per node and kind.
    pub sites: Vec<ReactionSite>,
    /// Whether the electrode surface reacts (false: an inert current collector under a scaffold).
    pub electrode_reacts: bool,
    /// The scaffold's solid phase with finite conductivity (None: equipotential or no scaffold).
    pub solid: Option<SolidSystem>,
    /// Per tetrahedron: the coefficient `k` was assembled with, D_eff / D = kappa_eff / kappa
    /// (1 in open electrolyte).
    pub transport_factor: Vec<f64>,
}

impl PotentialSystem {
    /// Assembles the system with lengths scaled by `length_scale`.
    pub fn new(mesh: &TetMesh, length_scale: f64) -> Self {
        Self::with_media(mesh, length_scale, &Media::open(mesh.tets.len()), None, 1.0, ControlVolumes::Barycentric)
    }

    /// Assembles the system of a mesh with coating media; `scaffold_i0` (A/m^2) makes the
    /// scaffold-tagged surfaces reaction sites. `electrode_i0` (A/m^2, > 0) is the electrode's
    /// exchange current density, the unit of the sites' equivalent areas. `cv`: how nodes share
    /// volumes and areas (circumcentric for the transport models, [`crate::fem::dual`]).
    pub fn with_media(
        mesh: &TetMesh,
        length_scale: f64,
        media: &Media,
        scaffold_i0: Option<f64>,
        electrode_i0: f64,
        cv: ControlVolumes,
    ) -> Self {
        let k = assembly::weighted_laplacian(mesh, length_scale, &media.transport_factor);
        let electrode = tagged_nodes(mesh, BoundaryTag::Electrode);
        let areas = node_areas(mesh, BoundaryTag::Electrode, length_scale, cv);
        let electrode_area: Vec<f64> = electrode.iter().map(|&n| areas[n as usize]).collect();
        let electrode_lumped_area = match cv {
            ControlVolumes::Barycentric => electrode_area.clone(),
            ControlVolumes::Circumcentric => {
                let lumped = node_areas(mesh, BoundaryTag::Electrode, length_scale, ControlVolumes::Barycentric);
                electrode.iter().map(|&n| lumped[n as usize]).collect()
            }
        };
        let bulk = tagged_nodes(mesh, BoundaryTag::Bulk);
        let n = mesh.nodes.len();
        let mut node_volume = vec![0.0; n];
        let mut fixed_charge_amount = vec![0.0; n];
        let mut volumetric = vec![0.0; n];
        let mut barycentric = vec![0.0; n];
        let l3 = length_scale.powi(3);
        for (t, nodes) in mesh.tets.iter().enumerate() {
            let v = mesh.tet_volume(t) / l3 / 4.0;
            let pore = media.porosity[t] * v;
            let exchange = media.solid.as_ref().map_or(0.0, |s| s.volumetric_exchange[t] * length_scale * v / electrode_i0);
            for &nd in nodes {
                barycentric[nd as usize] += v;
                node_volume[nd as usize] += pore;
                fixed_charge_amount[nd as usize] += media.fixed_charge[t] * pore;
                volumetric[nd as usize] += exchange;
            }
        }
        // Each node's barycentric averages, scaled to its control volume ([`node_volumes`]).
        if cv != ControlVolumes::Barycentric {
            for (nd, dual) in node_volumes(mesh, length_scale, cv).into_iter().enumerate() {
                let scale = if barycentric[nd] > 0.0 { dual / barycentric[nd] } else { 1.0 };
                node_volume[nd] *= scale;
                fixed_charge_amount[nd] *= scale;
                volumetric[nd] *= scale;
            }
        }
        let mut sites: Vec<ReactionSite> = (0..n as u32)
            .filter(|&nd| volumetric[nd as usize] > 0.0)
            .map(|node| ReactionSite { node, equivalent_area: volumetric[node as usize], kind: SiteKind::Volumetric })
            .collect();
        if let Some(i0) = scaffold_i0.filter(|&i0| i0 > 0.0) {
            let scaffold_area = node_areas(mesh, BoundaryTag::Scaffold, length_scale, cv);
            sites.extend(tagged_nodes(mesh, BoundaryTag::Scaffold).into_iter().map(|node| ReactionSite {
                node,
                equivalent_area: i0 / electrode_i0 * scaffold_area[node as usize],
                kind: SiteKind::ScaffoldSurface,
            }));
        }
        let solid = media.solid.as_ref().and_then(|sm| {
            let sigma = sm.conductivity.as_ref()?;
            let mut in_layer = vec![false; n];
            for (t, nodes) in mesh.tets.iter().enumerate() {
                if sm.in_layer[t] {
                    nodes.iter().for_each(|&nd| in_layer[nd as usize] = true);
                }
            }
            let nodes = (0..n as u32).filter(|&nd| in_layer[nd as usize]).collect();
            Some(SolidSystem { k: assembly::weighted_laplacian(mesh, length_scale, sigma), nodes })
        });
        PotentialSystem {
            k,
            electrode,
            electrode_area,
            electrode_lumped_area,
            bulk,
            node_volume,
            representative: None,
            fixed_charge_amount,
            sites,
            electrode_reacts: media.solid.as_ref().is_none_or(|s| s.base_reacts),
            solid,
            transport_factor: media.transport_factor.clone(),
        }
    }

    /// The circumcentric two-point flux weights of the transport models
    /// (`solver.transport_weights = "circumcentric"`; scaled like `k`): the circumcentric
    /// (Voronoi-box) Laplacian of `mesh` weighted by the transport factor, folded like `k` on
    /// periodic sides. Unlike the P1 weights of `k` they are non-negative at the interior edges of
    /// a Delaunay mesh, which the built-in mesher approaches for that scheme
    /// ([`crate::mesh::flip`]) and Gmsh's Delaunay meshes are, so the edge fluxes are monotone
    /// there; both are exact for linear fields. They go with circumcentric control volumes
    /// ([`crate::fem::dual`]).
    pub fn transport_edges(&self, mesh: &TetMesh, length_scale: f64) -> Edges {
        Edges::from_stiffness(&self.transport_matrix(mesh, length_scale))
    }

    /// The matrix of [`Self::transport_edges`]' weights (`-K_jk = omega_jk`).
    pub fn transport_matrix(&self, mesh: &TetMesh, length_scale: f64) -> CsrMatrix {
        let k = assembly::weighted_circumcentric_laplacian(mesh, length_scale, &self.transport_factor);
        match &self.representative {
            Some(rep) => periodic::fold_matrix(&k, rep),
            None => k,
        }
    }

    /// Fixed charge concentration (mol/m^3 of pores) at each node.
    pub fn fixed_charge(&self) -> Vec<f64> {
        self.fixed_charge_amount.iter().zip(&self.node_volume).map(|(q, v)| if *v > 0.0 { q / v } else { 0.0 }).collect()
    }

    /// Identifies the side walls x = +-w and y = +-w of the box of half-width `half_width`:
    /// folds the matrix, volumes and electrode areas onto the representatives and drops the
    /// slaves from the electrode and bulk lists.
    pub fn make_periodic(&mut self, mesh: &TetMesh, half_width: f64) -> Result<(), String> {
        let rep = periodic::representatives(mesh, half_width)?;
        self.k = periodic::fold_matrix(&self.k, &rep);
        periodic::fold_nodal(&mut self.node_volume, &rep);
        periodic::fold_nodal(&mut self.fixed_charge_amount, &rep);
        self.fold_sites(&rep);
        if let Some(solid) = self.solid.as_mut() {
            solid.k = periodic::fold_matrix(&solid.k, &rep);
            solid.nodes.retain(|&nd| rep[nd as usize] == nd);
        }
        let folded = |areas: &[f64]| {
            let mut area = vec![0.0; self.n()];
            for (&n, &a) in self.electrode.iter().zip(areas) {
                area[n as usize] = a;
            }
            periodic::fold_nodal(&mut area, &rep);
            area
        };
        let (area, lumped) = (folded(&self.electrode_area), folded(&self.electrode_lumped_area));
        let is_rep = |n: &u32| rep[*n as usize] == *n;
        self.electrode.retain(is_rep);
        self.electrode_area = self.electrode.iter().map(|&n| area[n as usize]).collect();
        self.electrode_lumped_area = self.electrode.iter().map(|&n| lumped[n as usize]).collect();
        self.bulk.retain(is_rep);
        self.representative = Some(rep);
        Ok(())
    }

    /// Moves every site of a periodic slave onto its representative (merging those of one kind).
    fn fold_sites(&mut self, rep: &[u32]) {
        let mut folded: Vec<ReactionSite> = Vec::with_capacity(self.sites.len());
        let mut sites = std::mem::take(&mut self.sites);
        sites.iter_mut().for_each(|s| s.node = rep[s.node as usize]);
        sites.sort_by_key(|s| (s.kind == SiteKind::ScaffoldSurface, s.node));
        for s in sites {
            match folded.last_mut() {
                Some(last) if last.node == s.node && last.kind == s.kind => last.equivalent_area += s.equivalent_area,
                _ => folded.push(s),
            }
        }
        self.sites = folded;
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

    /// The primary problem with the electrode at 1 and the bulk at 0, reduced to the free nodes:
    /// `K_ff phi_f = -K_fd phi_d`, as (K_ff, right-hand side, the free nodes).
    pub fn reduced_primary(&self) -> (crate::fem::CsrMatrix, Vec<f64>, Vec<u32>) {
        let free = self.free_nodes(&[&self.electrode, &self.bulk]);
        let (a, coupling) = self.k.split(&free);
        let mut phi = vec![0.0; self.n()];
        self.electrode.iter().for_each(|&n| phi[n as usize] = 1.0);
        let b = (0..free.len()).map(|r| -coupling.row_dot(r, &phi)).collect();
        (a, b, free)
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
