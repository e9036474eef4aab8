//! `znfield mesh` outputs: `mesh.vtu` (tetrahedra with their region, boundary triangles with
//! their tag) and `mesh_report.json` (counts, dihedral-angle statistics and histogram, volume per
//! region, area per boundary tag, exact values where known).

use serde::Serialize;

use super::vtu;
use crate::fem::assembly::{circumcentric_laplacian, laplacian};
use crate::fem::edges::NegativeWeights;
use crate::mesh::quality::dihedral_angles;
use crate::mesh::{BoundaryTag, Domain, TetMesh};

/// Width of the dihedral-angle histogram bins, degrees.
pub const HISTOGRAM_BIN_DEG: f64 = 5.0;

/// The mesh report.
#[derive(Debug, Clone, Serialize)]
pub struct MeshReport {
    pub nodes: usize,
    pub tets: usize,
    /// Boundary faces per tag.
    pub faces: TagValues<usize>,
    pub min_dihedral_deg: f64,
    pub max_dihedral_deg: f64,
    pub mean_dihedral_deg: f64,
    /// Counts of dihedral angles (six per tet) in 5-degree bins from 0 to 180 degrees.
    pub dihedral_histogram: Vec<usize>,
    /// Tets whose smallest dihedral angle is below 5 and 10 degrees.
    pub tets_below_5_deg: usize,
    pub tets_below_10_deg: usize,
    /// Volume of each region, m^3 (region 0: electrolyte).
    #[serde(rename = "region_volume_m3")]
    pub region_volume: Vec<f64>,
    /// Area per boundary tag, m^2.
    #[serde(rename = "area_m2")]
    pub area: TagValues<f64>,
    /// Exact electrode area and electrolyte volume where the geometry has them in closed form.
    #[serde(rename = "exact_electrode_area_m2")]
    pub exact_electrode_area: Option<f64>,
    #[serde(rename = "exact_volume_m3")]
    pub exact_volume: Option<f64>,
    /// Edges whose P1 Laplacian weight is negative (obtuse elements): where an edge-based
    /// transport scheme has no discrete maximum principle.
    pub negative_edge_weights: NegativeWeights,
    /// The same count for the circumcentric (Voronoi-box) weights |dual face| / |edge|, which are
    /// non-negative at interior edges of a Delaunay mesh: how far the mesh is from one. The
    /// transport models' edge fluxes use these weights with `solver.transport_weights =
    /// "circumcentric"`.
    pub negative_circumcentric_weights: NegativeWeights,
    /// Nodes whose circumcentric dual cell is below a tenth of their barycentric share of the
    /// volume (a boundary face encroached, or the mesh far from Delaunay there): the circumcentric
    /// scheme's balance at them takes barycentric control volumes, inconsistent with its fluxes.
    pub small_circumcentric_dual_cells: usize,
    /// The files `znfield mesh` wrote, mesh_report.json last (empty for a report not written).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// One value per boundary tag.
#[derive(Debug, Clone, Serialize)]
pub struct TagValues<T> {
    pub electrode: T,
    pub bulk: T,
    pub insulating: T,
    pub scaffold: T,
}

impl MeshReport {
    /// Computes the report of a domain.
    pub fn of(domain: &Domain) -> MeshReport {
        let m = &domain.mesh;
        let on_electrode = m.on_boundary(BoundaryTag::Electrode);
        let bins = (180.0 / HISTOGRAM_BIN_DEG) as usize;
        let mut histogram = vec![0usize; bins];
        let (mut min, mut max, mut sum) = (180.0f64, 0.0f64, 0.0);
        let (mut below5, mut below10) = (0, 0);
        let regions = m.regions.iter().copied().max().map_or(1, |r| r as usize + 1);
        let mut region_volume = vec![0.0; regions];
        for t in 0..m.tets.len() {
            let angles = dihedral_angles(m.tets[t].map(|n| m.nodes[n as usize]));
            let smallest = angles.iter().cloned().fold(180.0, f64::min);
            for a in angles {
                histogram[((a / HISTOGRAM_BIN_DEG) as usize).min(bins - 1)] += 1;
                sum += a;
                max = max.max(a);
            }
            min = min.min(smallest);
            below5 += (smallest < 5.0) as usize;
            below10 += (smallest < 10.0) as usize;
            region_volume[m.regions[t] as usize] += m.tet_volume(t);
        }
        let count = |tag| m.faces_with(tag).count();
        MeshReport {
            nodes: m.nodes.len(),
            tets: m.tets.len(),
            faces: TagValues {
                electrode: count(BoundaryTag::Electrode),
                bulk: count(BoundaryTag::Bulk),
                insulating: count(BoundaryTag::Insulating),
                scaffold: count(BoundaryTag::Scaffold),
            },
            min_dihedral_deg: min,
            max_dihedral_deg: max,
            mean_dihedral_deg: sum / (6 * m.tets.len().max(1)) as f64,
            dihedral_histogram: histogram,
            tets_below_5_deg: below5,
            tets_below_10_deg: below10,
            region_volume,
            area: TagValues {
                electrode: m.tagged_area(BoundaryTag::Electrode),
                bulk: m.tagged_area(BoundaryTag::Bulk),
                insulating: m.tagged_area(BoundaryTag::Insulating),
                scaffold: m.tagged_area(BoundaryTag::Scaffold),
            },
            exact_electrode_area: domain.geometry.as_ref().and_then(|g| g.exact_surface_area()),
            exact_volume: domain.geometry.as_ref().and_then(|g| g.exact_volume()),
            negative_edge_weights: NegativeWeights::of(&laplacian(m, domain.length_scale), &on_electrode),
            negative_circumcentric_weights: NegativeWeights::of(&circumcentric_laplacian(m, domain.length_scale), &on_electrode),
            small_circumcentric_dual_cells: crate::fem::dual::small_dual_cells(m),
            files: Vec::new(),
        }
    }
}

/// `mesh.vtu`: tetrahedra (cell data `region_id`, `boundary_tag` = 0) followed by the boundary
/// triangles (`region_id` = -1, `boundary_tag` 1 electrode, 2 bulk, 3 insulating, 4 scaffold).
pub fn mesh_vtu(m: &TetMesh) -> Vec<u8> {
    let mut cells: Vec<Vec<u32>> = m.tets.iter().map(|t| t.to_vec()).collect();
    cells.extend(m.faces.iter().map(|f| f.to_vec()));
    let mut region: Vec<i32> = m.regions.iter().map(|&r| r as i32).collect();
    region.extend(std::iter::repeat_n(-1, m.faces.len()));
    let mut tag = vec![0i32; m.tets.len()];
    tag.extend(m.face_tags.iter().map(|t| t.id() as i32));
    vtu::encode(&m.nodes, &cells, &[], &[vtu::Array::Int("region_id", &region), vtu::Array::Int("boundary_tag", &tag)], &[])
}
