//! Protrusion solids as distance-like functions (positive outside, zero on the surface).

use glam::DVec3;
use std::f64::consts::PI;

/// A protrusion solid standing on the plane z = 0. Only its part above the plane is electrode.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Spheroid centred on the plane with vertical semi-axis `height` and horizontal semi-axes
    /// `base_radius`: a hemisphere when the two are equal.
    Spheroid { center: DVec3, base_radius: f64, height: f64 },
}

impl Shape {
    /// Signed distance estimate, m: exact for a sphere; for a spheroid the first-order estimate
    /// `k0 (k0 - 1) / k1` with `k0 = |p/r|`, `k1 = |p/r^2|` (exact zero set, exact gradient
    /// direction on the surface, distance correct to first order near it).
    pub fn distance(&self, p: DVec3) -> f64 {
        match *self {
            Shape::Spheroid { center, base_radius, height } => {
                let q = p - center;
                if base_radius == height {
                    return q.length() - base_radius;
                }
                let r = DVec3::new(base_radius, base_radius, height);
                let k0 = (q / r).length();
                let k1 = (q / (r * r)).length();
                if k1 == 0.0 {
                    -base_radius.min(height)
                } else {
                    k0 * (k0 - 1.0) / k1
                }
            }
        }
    }

    /// Gradient of the distance function (outward normal direction on the surface).
    pub fn gradient(&self, p: DVec3) -> DVec3 {
        match *self {
            Shape::Spheroid { center, base_radius, height } => {
                let q = p - center;
                let r2 = DVec3::new(base_radius * base_radius, base_radius * base_radius, height * height);
                (q / r2).normalize_or(DVec3::Z)
            }
        }
    }

    /// Axis-aligned bounds of the part above z = 0: (min, max).
    pub fn bounds(&self) -> (DVec3, DVec3) {
        match *self {
            Shape::Spheroid { center, base_radius, height } => (
                DVec3::new(center.x - base_radius, center.y - base_radius, 0.0),
                DVec3::new(center.x + base_radius, center.y + base_radius, height),
            ),
        }
    }

    /// Area of the exposed curved surface, m^2.
    pub fn lateral_area(&self) -> f64 {
        match *self {
            Shape::Spheroid { base_radius: a, height: c, .. } => {
                // Half the surface area of a spheroid with equatorial radius a, polar semi-axis c.
                let full = if (a - c).abs() < 1e-12 * a {
                    4.0 * PI * a * a
                } else if c > a {
                    let e = (1.0 - a * a / (c * c)).sqrt();
                    2.0 * PI * a * a * (1.0 + c / (a * e) * e.asin())
                } else {
                    let e = (1.0 - c * c / (a * a)).sqrt();
                    2.0 * PI * a * a * (1.0 + (1.0 - e * e) / e * e.atanh())
                };
                0.5 * full
            }
        }
    }

    /// Area of the footprint on the plane, m^2.
    pub fn footprint_area(&self) -> f64 {
        match *self {
            Shape::Spheroid { base_radius, .. } => PI * base_radius * base_radius,
        }
    }

    /// Volume above the plane, m^3.
    pub fn volume(&self) -> f64 {
        match *self {
            Shape::Spheroid { base_radius, height, .. } => 2.0 / 3.0 * PI * base_radius * base_radius * height,
        }
    }
}
