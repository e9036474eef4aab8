//! Implicit geometry of the electrode.
//!
//! The electrolyte is the box `[-w, w]^2 x [0, H]` minus the protrusion solids. The box faces are
//! planes of the mesher's lattice; the protrusions are described by a level function
//! `min_k d_k(x)`, with `d_k` a signed distance (or a distance-like estimate with the correct zero
//! set) to protrusion k: positive in the electrolyte, zero on the protrusion surface, negative in
//! the metal. Keeping the flat electrode z = 0 out of the level function lets the mesher cut the
//! rim where a protrusion meets the plane exactly. The mesher only needs the sign, a distance
//! estimate near the surface and root finding along edges, so shapes without a closed-form
//! distance (spheroids) use a first-order estimate with the exact zero set.

pub mod elevation;
pub mod height_map;
pub mod scaffold;
pub mod shapes;

use glam::DVec3;

pub use elevation::Elevation;
pub use scaffold::Scaffold;
pub use shapes::Shape;

use crate::scene::Geometry;

/// Electrolyte box over a flat electrode with protrusions, in metres.
#[derive(Debug, Clone)]
pub struct ElectrodeGeometry {
    /// Half-width of the box in x and y, m.
    pub half_width: f64,
    /// Height of the bulk boundary above the flat electrode, m.
    pub height: f64,
    /// Protrusion solids.
    pub shapes: Vec<Shape>,
    /// Coating layers, stacked from the electrode up.
    pub layers: Vec<Layer>,
    /// Resolved scaffold solids, removed from the electrolyte.
    pub scaffold: Scaffold,
    /// Opposite side walls are periodic images (their meshes must match node for node).
    pub periodic: bool,
    /// A raised electrode (relief or growth): everything above is displaced by it, and the box
    /// reaches down to its floor; `None` for the flat electrode z = 0 that is the box's floor.
    pub ground: Option<Ground>,
}

/// The electrode of a relief or growth run: the flat electrode and its protrusions raised by an
/// elevation field, over a box floor in the metal.
#[derive(Debug, Clone)]
pub struct Ground {
    pub elevation: Elevation,
    /// The elevation the coating layers were laid on (the relief before any growth): layers
    /// stay where they were put while the deposit grows into them.
    pub coated: Elevation,
    /// z of the box's floor, below the lowest point of the electrode, m.
    pub floor: f64,
}

/// A coating layer: the region between the layer below (or the electrode) and this layer's top.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Name from the scene (shown in reports).
    pub name: String,
    /// How the layer's top follows the electrode.
    pub kind: LayerKind,
    /// Height of the layer's top above the electrode, m: the sum of the thicknesses of this layer
    /// and every layer below it.
    pub top: f64,
}

/// Shape of a layer's top surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// At constant distance from the electrode, protrusions included (an offset surface).
    Conformal,
    /// The plane z = top.
    Planar,
}

impl ElectrodeGeometry {
    /// Builds the implicit geometry from the scene's geometry block (arrays and rough surfaces
    /// expanded).
    pub fn from_scene(g: &Geometry) -> Self {
        let shapes = g.all_protrusions().iter().map(|(_, p)| Shape::from_protrusion(p)).collect();
        let mut top = 0.0;
        let layers = g
            .layers
            .iter()
            .map(|l| {
                top += l.thickness_m;
                let kind = match l.kind {
                    crate::scene::LayerShape::Conformal => LayerKind::Conformal,
                    crate::scene::LayerShape::Planar => LayerKind::Planar,
                };
                Layer { name: l.name.clone(), kind, top }
            })
            .collect();
        let scaffold = g.scaffold.as_ref().map_or_else(Scaffold::default, |s| s.build(g.half_width_m));
        ElectrodeGeometry {
            half_width: g.half_width_m,
            height: g.height_m,
            shapes,
            layers,
            scaffold,
            periodic: g.sides == crate::scene::Sides::Periodic,
            ground: None,
        }
    }

    /// This geometry on the raised electrode `elevation`, its coating layers laid on the
    /// electrode raised by `coated`, with the box floor `clearance` (m) below the electrode's
    /// lowest point.
    pub fn raised(self, elevation: Elevation, coated: Elevation, clearance: f64) -> Self {
        let floor = elevation.range().0 - clearance;
        ElectrodeGeometry { ground: Some(Ground { elevation, coated, floor }), ..self }
    }

    /// z of the box's floor, m: 0 (the flat electrode) unless the electrode is raised.
    pub fn floor(&self) -> f64 {
        self.ground.as_ref().map_or(0.0, |g| g.floor)
    }

    /// `p` in the frame of the initial electrode: lowered by the elevation under it.
    fn lowered(&self, p: DVec3) -> DVec3 {
        self.ground.as_ref().map_or(p, |g| g.elevation.lowered(p))
    }

    /// Whether `p` lies on the flat electrode z = 0 that is the box's floor (never on a raised
    /// electrode, whose plane part the mesher cuts like any surface).
    pub fn on_floor_electrode(&self, p: DVec3) -> bool {
        self.ground.is_none() && p.z == 0.0
    }

    /// Level function of the electrode's plane part: its height above it, m (first-order
    /// distance on a sloped relief).
    pub fn plane_level(&self, p: DVec3) -> f64 {
        match &self.ground {
            None => p.z,
            Some(g) => {
                let slope = g.elevation.gradient(p.truncate());
                (p.z - g.elevation.at(p.truncate())) / (1.0 + slope.length_squared()).sqrt()
            }
        }
    }

    /// The level function the mesher cuts the box to: the solids, and the raised electrode's
    /// plane part where there is one (the flat electrode z = 0 is the box's floor instead).
    pub fn cut_level(&self, p: DVec3) -> f64 {
        match self.ground {
            None => self.solid_level(p),
            Some(_) => self.solid_level(p).min(self.plane_level(p)),
        }
    }

    /// Protrusion level function: > 0 in the electrolyte, 0 on a protrusion surface, < 0 inside
    /// a protrusion (m); +infinity without protrusions.
    pub fn level(&self, p: DVec3) -> f64 {
        let q = self.lowered(p);
        self.shapes.iter().fold(f64::INFINITY, |acc, s| acc.min(s.distance(q)))
    }

    /// Level function of the solids the electrolyte surrounds (protrusions and scaffold): > 0 in
    /// the electrolyte, 0 on a solid surface, < 0 inside, m.
    pub fn solid_level(&self, p: DVec3) -> f64 {
        self.level(p).min(self.scaffold.level(p))
    }

    /// Smallest principal radius of curvature of the solid surface nearest to `p` (protrusion
    /// or scaffold), m; `None` where that surface is flat or has sharp edges.
    pub fn curvature_radius(&self, p: DVec3) -> Option<f64> {
        let q = self.lowered(p);
        let shapes = self.shapes.iter().map(|s| (s.distance(q), s.curvature_radius(q)));
        let fibres = self.scaffold.fibres.iter().enumerate().map(|(k, f)| (self.scaffold.fibre_distance(k, p), Some(f.radius)));
        let particles = self.scaffold.particles.iter().map(|s| (s.distance(p), Some(s.radius)));
        shapes.chain(fibres).chain(particles).min_by(|a, b| a.0.total_cmp(&b.0)).and_then(|(_, r)| r)
    }

    /// Whether `p` lies on a scaffold surface within `tol` m.
    pub fn on_scaffold(&self, p: DVec3, tol: f64) -> bool {
        self.scaffold.level(p).abs() <= tol
    }

    /// Whether `p` lies on the electrode (its plane part or a protrusion surface) within `tol` m.
    pub fn on_electrode(&self, p: DVec3, tol: f64) -> bool {
        self.plane_level(p).abs() <= tol || self.level(p).abs() <= tol
    }

    /// Distance-like function to the electrode (plane and protrusions): 0 on it, positive in the
    /// electrolyte, m. Exact where the protrusion level is an exact distance.
    pub fn electrode_distance(&self, p: DVec3) -> f64 {
        self.plane_level(p).min(self.level(p))
    }

    /// Distance-like function to the electrode the coating layers were laid on (the initial
    /// one of a growth run; the electrode itself otherwise), m.
    pub fn coated_distance(&self, p: DVec3) -> f64 {
        match &self.ground {
            None => self.electrode_distance(p),
            Some(g) => {
                let q = g.coated.lowered(p);
                let slope = g.coated.gradient(p.truncate());
                let plane = q.z / (1.0 + slope.length_squared()).sqrt();
                self.shapes.iter().fold(plane, |acc, s| acc.min(s.distance(q)))
            }
        }
    }

    /// Whether a node moving from `from` to `to` stays in the electrolyte (outside every solid)
    /// and on its side of every coating interface but `except`.
    pub fn keeps_sides(&self, from: DVec3, to: DVec3, except: Option<usize>) -> bool {
        self.solid_level(to) > 0.0
            && (0..self.layers.len())
                .filter(|&k| Some(k) != except)
                .all(|k| self.interface_level(k, to) * self.interface_level(k, from) > 0.0)
    }

    /// Level function of the top of layer `k`: negative below it, zero on it, positive above, m.
    pub fn interface_level(&self, k: usize, p: DVec3) -> f64 {
        let layer = &self.layers[k];
        match layer.kind {
            LayerKind::Conformal => self.coated_distance(p) - layer.top,
            LayerKind::Planar => p.z - layer.top,
        }
    }

    /// Area of the electrode projected on the plane z = 0, m^2.
    pub fn projected_area(&self) -> f64 {
        4.0 * self.half_width * self.half_width
    }

    /// Exact electrode surface area, m^2, when every shape's area is known in closed form and no
    /// two footprints overlap.
    pub fn exact_surface_area(&self) -> Option<f64> {
        if self.footprints_overlap() || !self.scaffold.is_empty() || self.ground.is_some() {
            return None;
        }
        self.shapes.iter().try_fold(self.projected_area(), |acc, s| s.exact_areas().map(|(lateral, foot)| acc + lateral - foot))
    }

    /// Exact electrolyte volume, m^3, when every shape's volume is known and none overlap.
    pub fn exact_volume(&self) -> Option<f64> {
        if self.footprints_overlap() || !self.scaffold.is_empty() || self.ground.is_some() {
            return None;
        }
        self.shapes.iter().try_fold(self.projected_area() * self.height, |acc, s| s.exact_volume().map(|v| acc - v))
    }

    fn footprints_overlap(&self) -> bool {
        let boxes: Vec<_> = self.shapes.iter().map(|s| s.bounds()).collect();
        boxes
            .iter()
            .enumerate()
            .any(|(i, a)| boxes[..i].iter().any(|b| a.0.x < b.1.x && b.0.x < a.1.x && a.0.y < b.1.y && b.0.y < a.1.y))
    }
}

/// Point where `f` changes sign on the segment a-b (a and b of opposite sign), found by
/// bisection to a relative tolerance of 1e-13 of the segment length. Returns the parameter t in
/// [0, 1] with the point a + t (b - a).
pub fn crossing(f: &dyn Fn(DVec3) -> f64, a: DVec3, b: DVec3) -> f64 {
    let fa = f(a);
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    for _ in 0..45 {
        let mid = 0.5 * (lo + hi);
        let fm = f(a + (b - a) * mid);
        if (fm > 0.0) == (fa > 0.0) && fm != 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}
