//! Target element sizes and the built-in generator: a background mesh graded to the size field
//! (isotropic bisection or layered lattice), cut to the electrode surface.

use glam::DVec3;

use super::bisection::{refine_box, simplex_size};
use super::{cut, layered, TetMesh};
use crate::error::{Error, Result};
use crate::geometry::ElectrodeGeometry;

/// Most tetrahedra the isotropic background may have before it is cut.
const MAX_BACKGROUND_TETS: usize = 60_000_000;

/// Which background mesh the built-in generator cuts (the scene's `mesh.generator`, mapped in
/// `run::domain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Generator {
    /// Isotropic: Kuhn cubes refined by conforming bisection, graded with distance to the
    /// protrusions and to the electrode plane. Dihedral angles stay those of the Kuhn family
    /// away from the surface whatever the grading.
    #[default]
    Bisection,
    /// Layered tensor lattice: anisotropic cells, fine in z over the whole electrode plane.
    Layered,
}

/// Target element sizes (edge lengths) for the built-in generator, m.
#[derive(Debug, Clone)]
pub struct SizeField {
    /// Edge length at the protrusions and scaffold solids, m.
    pub near: f64,
    /// Edge length on the flat electrode plane away from protrusions, m.
    pub plane: f64,
    /// Edge length far from the electrode, m.
    pub far: f64,
    /// Growth ratio of neighbouring element sizes (> 1).
    pub growth: f64,
    /// Distance from the protrusions within which sizes grow at [`NEAR_SOLID_GROWTH`] of the
    /// rate, m (0: none).
    pub solid_zone: f64,
    /// Boxes (min, max) with their own maximum size, m.
    pub boxes: Vec<(DVec3, DVec3, f64)>,
    /// Edge length at each coating-layer top (aligned with the geometry's layers), m.
    pub interfaces: Vec<f64>,
    /// Elements per local radius of curvature at curved solid surfaces (scaled by mesh.refine).
    pub curvature_elements: f64,
    /// Background mesh kind.
    pub generator: Generator,
    /// Whether the cut mesh is flipped toward a Delaunay mesh ([`super::flip`]): for the
    /// transport models' circumcentric scheme, whose two-point fluxes are monotone there.
    pub delaunay_flips: bool,
    /// The most tetrahedra the mesh may have.
    pub limit: TetLimit,
}

/// The most tetrahedra a mesh may have and why, for the message when a size field asks for more.
#[derive(Debug, Clone)]
pub struct TetLimit {
    pub max_tets: usize,
    /// Where the limit comes from (the mesher's own cap, or the memory of the machine).
    pub reason: String,
}

impl Default for TetLimit {
    fn default() -> Self {
        TetLimit { max_tets: MAX_BACKGROUND_TETS, reason: "the mesher's limit".into() }
    }
}

impl SizeField {
    /// An isotropic size field without refinement boxes: `near` at the protrusions and on the
    /// electrode plane, growing by `growth` up to `far`.
    pub fn graded(near: f64, far: f64, growth: f64) -> Self {
        SizeField {
            near,
            plane: near,
            far,
            growth,
            solid_zone: 0.0,
            boxes: Vec::new(),
            interfaces: Vec::new(),
            curvature_elements: CURVATURE_ELEMENTS,
            generator: Generator::Bisection,
            delaunay_flips: false,
            limit: TetLimit::default(),
        }
    }

    /// Target edge length for an element of size `h` centred at `c` (distances are measured
    /// from the centre, except to the layer tops; `h` only decides which elements a layer top or a
    /// refine box touches), m: `near` at the solids
    /// (and at most 1/`curvature_elements` of the local radius of curvature there),
    /// `plane` on the flat electrode and the `interfaces` sizes at the layer tops, each growing by
    /// `growth - 1` per unit distance (a quarter of that within `solid_zone` of the protrusions),
    /// capped by `far` and the refine boxes.
    ///
    /// Why the slow zone: the error of a protrusion's current is a sum over elements of h^2
    /// times the curvature of the solution and of its dual, and the dual of a current through
    /// part of the electrode is singular at the foot ring where the protrusion meets the plane
    /// (its data jump from 1 to 0 there), so elements within about a footprint radius of the
    /// protrusion weigh most. Growing slowly there took the hemisphere's current error at
    /// refine 1 from 0.59% to 0.20% for 31% more nodes (a uniformly slower grading needs 44%
    /// more nodes for 0.29%), and the observed order from 1.6 to 1.9.
    ///
    /// Why from the centre: the target is then a fixed function of position divided by
    /// `mesh.refine`, so refine 2 halves every element. Measured from the element's nearest
    /// extent (the centre less `h`), the distance itself shrank with the element: refine 2 made
    /// elements 2 um from a prolate tip only 1.7 times smaller, not 2, and the spheroid's current
    /// converged at order 1.4 in `refine` (1.7 now) for the same accuracy per node.
    pub fn target(&self, geom: &ElectrodeGeometry, c: DVec3, h: f64) -> f64 {
        let slope = self.growth - 1.0;
        let to_protrusion = geom.solid_level(c).max(0.0);
        let to_plane = geom.plane_level(c).max(0.0);
        let mut at_solid = self.near;
        if to_protrusion < self.near {
            if let Some(radius) = geom.curvature_radius(c) {
                at_solid = at_solid.min(radius / self.curvature_elements);
            }
        }
        let from_solid = NEAR_SOLID_GROWTH * to_protrusion.min(self.solid_zone) + (to_protrusion - self.solid_zone).max(0.0);
        let mut size = self.far.min(at_solid + slope * from_solid).min(self.plane + slope * to_plane);
        for (k, &at_interface) in self.interfaces.iter().enumerate().take(geom.layers.len()) {
            // From the element's nearest extent: an element a layer top crosses gets the layer's
            // own size, so that a layer is at least two elements thick.
            let to_interface = (geom.interface_level(k, c).abs() - h).max(0.0);
            size = size.min(at_interface + slope * to_interface);
        }
        for &(lo, hi, box_size) in &self.boxes {
            let outside = (lo - c).max(c - hi).max(DVec3::ZERO).length();
            if outside <= h {
                size = size.min(box_size);
            }
        }
        size
    }
}

/// The share of the growth rate within `SizeField::solid_zone` of the protrusions.
pub const NEAR_SOLID_GROWTH: f64 = 0.25;

/// Elements per radius of curvature at a curved solid surface at refine = 1: binds where `near`
/// is coarser than a quarter of the local radius (a sharp tip under a coarse `mesh.size_near_m`).
pub const CURVATURE_ELEMENTS: f64 = 4.0;

/// Meshes the electrolyte of `geom` with the given size field.
pub fn generate(geom: &ElectrodeGeometry, size: &SizeField) -> Result<TetMesh> {
    let background = match size.generator {
        Generator::Layered if geom.ground.is_some() => return Err(Error::input(
            "key `mesh.generator`: \"layered\" meshes a flat electrode at z = 0; a relief or a growth run needs \"bisection\"",
        )),
        Generator::Layered => layered::lattice(geom, size)?,
        Generator::Bisection => isotropic_background(geom, size)?,
    };
    cut::cut_to_electrode(geom, &background, size.delaunay_flips)
}

/// Kuhn cubes of about `far` refined by bisection until every element meets the size field.
fn isotropic_background(geom: &ElectrodeGeometry, size: &SizeField) -> Result<super::bisection::Background> {
    let w = geom.half_width;
    let lo = DVec3::new(-w, -w, geom.floor());
    let hi = DVec3::new(w, w, geom.height);
    let cells = |extent: f64| ((extent / size.far).round() as usize).max(1);
    let [nx, ny, nz] = [cells(2.0 * w), cells(2.0 * w), cells(geom.height - geom.floor())];
    let finest = size.boxes.iter().map(|b| b.2).fold(size.near.min(size.plane), f64::min);
    // Three bisections halve the cell; a few more absorb the rounding of the start cells.
    let levels = 3 * ((size.far / finest).log2().ceil().max(0.0) as usize) + 6;
    let max_tets = size.limit.max_tets.min(MAX_BACKGROUND_TETS);
    refine_box(lo, hi, [nx, ny, nz], levels, max_tets, geom.periodic, |p, whole| {
        let h = simplex_size(p);
        let c = (p[0] + p[1] + p[2] + p[3]) * 0.25;
        // Elements the surface may cut are taken to whole Kuhn cubes: their regular pattern
        // gives a far more even cut surface than the intermediate bisection levels.
        h > size.target(geom, c, h) || (!whole && geom.cut_level(c).abs() < 2.0 * h)
    })
    .ok_or_else(|| {
        Error::input(format!(
            "mesh: the size field (mesh.size_near_m = {:.3e} m, mesh.size_far_m = {:.3e} m) needs more than \
             {max_tets} tetrahedra ({}): coarsen the mesh or lower mesh.refine",
            size.near, size.far, size.limit.reason
        ))
    })
}
