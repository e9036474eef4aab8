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

pub mod shapes;

use glam::DVec3;

pub use shapes::Shape;

use crate::scene::{Geometry, Protrusion};

/// Electrolyte box over a flat electrode with protrusions, in metres.
#[derive(Debug, Clone)]
pub struct ElectrodeGeometry {
    /// Half-width of the box in x and y, m.
    pub half_width: f64,
    /// Height of the bulk boundary above the flat electrode, m.
    pub height: f64,
    /// Protrusion solids.
    pub shapes: Vec<Shape>,
}

impl ElectrodeGeometry {
    /// Builds the implicit geometry from the scene's geometry block.
    pub fn from_scene(g: &Geometry) -> Self {
        let shapes = g
            .protrusions
            .iter()
            .map(|p| match *p {
                Protrusion::Hemisphere { center_m, radius_m } => {
                    Shape::Spheroid { center: DVec3::new(center_m[0], center_m[1], 0.0), base_radius: radius_m, height: radius_m }
                }
                Protrusion::Hemispheroid { center_m, height_m, base_radius_m } => Shape::Spheroid {
                    center: DVec3::new(center_m[0], center_m[1], 0.0),
                    base_radius: base_radius_m,
                    height: height_m,
                },
            })
            .collect();
        ElectrodeGeometry { half_width: g.half_width_m, height: g.height_m, shapes }
    }

    /// Protrusion level function: > 0 in the electrolyte, 0 on a protrusion surface, < 0 inside
    /// a protrusion (m); +infinity without protrusions.
    pub fn level(&self, p: DVec3) -> f64 {
        self.shapes.iter().fold(f64::INFINITY, |acc, s| acc.min(s.distance(p)))
    }

    /// Whether `p` lies on the electrode (the plane z = 0 or a protrusion surface) within `tol` m.
    pub fn on_electrode(&self, p: DVec3, tol: f64) -> bool {
        p.z.abs() <= tol || self.level(p).abs() <= tol
    }

    /// Point where the level function changes sign on the segment a-b (a and b of opposite sign),
    /// found by bisection to a relative tolerance of 1e-13 of the segment length. Returns the
    /// parameter t in [0, 1] with the point a + t (b - a).
    pub fn crossing(&self, a: DVec3, b: DVec3) -> f64 {
        let fa = self.level(a);
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        for _ in 0..45 {
            let mid = 0.5 * (lo + hi);
            let fm = self.level(a + (b - a) * mid);
            if (fm > 0.0) == (fa > 0.0) && fm != 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// Outward unit normal of the electrode surface (pointing into the electrolyte) at a surface
    /// point, from the gradient of the active piece of the level function.
    pub fn normal(&self, p: DVec3) -> DVec3 {
        let mut best = (p.z.abs(), DVec3::Z);
        for s in &self.shapes {
            let d = s.distance(p);
            if d < best.0 {
                best = (d, s.gradient(p));
            }
        }
        best.1.normalize_or(DVec3::Z)
    }

    /// Area of the electrode projected on the plane z = 0, m^2.
    pub fn projected_area(&self) -> f64 {
        4.0 * self.half_width * self.half_width
    }

    /// Exact electrode surface area where every shape's area is known in closed form, m^2.
    pub fn exact_surface_area(&self) -> f64 {
        self.shapes.iter().fold(self.projected_area(), |acc, s| acc + s.lateral_area() - s.footprint_area())
    }

    /// Exact electrolyte volume, m^3.
    pub fn exact_volume(&self) -> f64 {
        self.shapes.iter().fold(self.projected_area() * self.height, |acc, s| acc - s.volume())
    }
}
