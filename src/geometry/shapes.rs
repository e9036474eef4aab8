//! Protrusion solids as distance-like functions: negative inside, zero on the surface, positive
//! outside, and equal to the Euclidean distance at least near the surface (to first order where
//! no closed form exists). Each solid stands on the plane z = 0; only its part above the plane is
//! electrode, so what a function does below the plane does not matter.

use glam::{DVec2, DVec3};
use std::f64::consts::PI;

use crate::scene::protrusions::GAUSSIAN_CUTOFF_SIGMAS;
use crate::scene::Protrusion;

/// A protrusion solid; `center` lies on the plane z = 0.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Spheroid with vertical semi-axis `height` and horizontal semi-axes `base_radius`.
    Spheroid { center: DVec3, base_radius: f64, height: f64 },
    /// Cone of base radius `base_radius` at z = 0 whose tip is a sphere of `tip_radius` tangent to
    /// its sides, topping out at `height` (the convex hull of the base circle and the tip sphere).
    Cone { center: DVec3, base_radius: f64, height: f64, tip_radius: f64 },
    /// Cylinder of `radius` with a hemispherical top, total height `height`.
    Pillar { center: DVec3, radius: f64, height: f64 },
    /// Square pyramid, sides along x and y.
    Pyramid { center: DVec3, half_width: f64, height: f64 },
    /// Gaussian bump shifted down to meet the plane at 3 sigma.
    GaussianBump { center: DVec3, amplitude: f64, sigma: f64 },
    /// Sphere of `cap_radius` centred at `stalk_height` on a cylinder of `stalk_radius`.
    Mushroom { center: DVec3, stalk_radius: f64, stalk_height: f64, cap_radius: f64 },
}

impl Shape {
    /// The solid of a scene protrusion.
    pub fn from_protrusion(p: &Protrusion) -> Shape {
        let [x, y] = p.center();
        let center = DVec3::new(x, y, 0.0);
        match *p {
            Protrusion::Hemisphere { radius_m, .. } => Shape::Spheroid { center, base_radius: radius_m, height: radius_m },
            Protrusion::Hemispheroid { height_m, base_radius_m, .. } => {
                Shape::Spheroid { center, base_radius: base_radius_m, height: height_m }
            }
            Protrusion::Cone { base_radius_m, height_m, tip_radius_m, .. } => {
                Shape::Cone { center, base_radius: base_radius_m, height: height_m, tip_radius: tip_radius_m }
            }
            Protrusion::Pillar { radius_m, height_m, .. } => Shape::Pillar { center, radius: radius_m, height: height_m },
            Protrusion::Pyramid { base_half_width_m, height_m, .. } => {
                Shape::Pyramid { center, half_width: base_half_width_m, height: height_m }
            }
            Protrusion::GaussianBump { amplitude_m, sigma_m, .. } => {
                Shape::GaussianBump { center, amplitude: amplitude_m, sigma: sigma_m }
            }
            Protrusion::Mushroom { stalk_radius_m, stalk_height_m, cap_radius_m, .. } => {
                Shape::Mushroom { center, stalk_radius: stalk_radius_m, stalk_height: stalk_height_m, cap_radius: cap_radius_m }
            }
        }
    }

    fn center(&self) -> DVec3 {
        match *self {
            Shape::Spheroid { center, .. }
            | Shape::Cone { center, .. }
            | Shape::Pillar { center, .. }
            | Shape::Pyramid { center, .. }
            | Shape::GaussianBump { center, .. }
            | Shape::Mushroom { center, .. } => center,
        }
    }

    /// Signed distance (estimate), m.
    pub fn distance(&self, p: DVec3) -> f64 {
        let q = p - self.center();
        let rho = q.truncate().length();
        match *self {
            Shape::Spheroid { base_radius, height, .. } => spheroid(q, base_radius, height),
            Shape::Cone { base_radius, height, tip_radius, .. } => cone(DVec2::new(rho, q.z), base_radius, height, tip_radius),
            Shape::Pillar { radius, height, .. } => {
                let top = height - radius;
                if q.z > top {
                    DVec2::new(rho, q.z - top).length() - radius
                } else {
                    rho - radius
                }
            }
            Shape::Pyramid { half_width, height, .. } => {
                // Intersection of the four side half-spaces: exact on the faces, a lower bound
                // of the distance elsewhere, exact zero set.
                let norm = (height * height + half_width * half_width).sqrt();
                let side = |t: f64| (height * t.abs() + half_width * q.z - half_width * height) / norm;
                side(q.x).max(side(q.y))
            }
            Shape::GaussianBump { amplitude, sigma, .. } => gaussian(DVec2::new(rho, q.z), amplitude, sigma),
            Shape::Mushroom { stalk_radius, stalk_height, cap_radius, .. } => {
                let stalk = (rho - stalk_radius).max(q.z - stalk_height);
                let cap = (q - DVec3::new(0.0, 0.0, stalk_height)).length() - cap_radius;
                stalk.min(cap)
            }
        }
    }

    /// Smallest principal radius of curvature of the surface near `p` (for `p` close to the
    /// surface), m; `None` where the surface is flat or has a sharp edge (pyramids). Closed forms:
    /// spheroid `a^2 c^2 g^3` (meridian) and `a^2 g` (parallel) with `g = sqrt(r^2/a^4 + z^2/c^4)`
    /// at the radially projected point; the tip sphere of a cone and otherwise the local radius;
    /// a pillar's radius; a Gaussian bump's `sigma^2 / amplitude` over its top; the cap or the
    /// stalk of a mushroom, whichever is nearer.
    pub fn curvature_radius(&self, p: DVec3) -> Option<f64> {
        let q = p - self.center();
        let rho = q.truncate().length();
        match *self {
            Shape::Spheroid { base_radius: a, height: c, .. } => {
                let scale = 1.0 / ((rho / a).powi(2) + (q.z / c).powi(2)).sqrt();
                let (r0, z0) = (rho * scale, q.z.max(0.0) * scale);
                let g = ((r0 / (a * a)).powi(2) + (z0 / (c * c)).powi(2)).sqrt();
                (g.is_finite() && g > 0.0).then(|| (a * a * c * c * g.powi(3)).min(a * a * g))
            }
            Shape::Cone { height, tip_radius, .. } => {
                Some(if q.z >= height - tip_radius { tip_radius } else { rho.max(tip_radius) })
            }
            Shape::Pillar { radius, .. } => Some(radius),
            Shape::Pyramid { .. } => None,
            Shape::GaussianBump { amplitude, sigma, .. } => (rho < sigma).then(|| sigma * sigma / amplitude),
            Shape::Mushroom { stalk_radius, stalk_height, cap_radius, .. } => {
                let cap = (q - DVec3::new(0.0, 0.0, stalk_height)).length() - cap_radius;
                let stalk = rho - stalk_radius;
                Some(if cap.abs() <= stalk.abs() { cap_radius } else { stalk_radius })
            }
        }
    }

    /// Axis-aligned bounds of the part above z = 0: (min, max).
    pub fn bounds(&self) -> (DVec3, DVec3) {
        let c = self.center();
        let (reach, top) = match *self {
            Shape::Spheroid { base_radius, height, .. } => (base_radius, height),
            Shape::Cone { base_radius, height, .. } => (base_radius, height),
            Shape::Pillar { radius, height, .. } => (radius, height),
            Shape::Pyramid { half_width, height, .. } => (half_width, height),
            Shape::GaussianBump { amplitude, sigma, .. } => (GAUSSIAN_CUTOFF_SIGMAS * sigma, amplitude),
            Shape::Mushroom { stalk_radius, stalk_height, cap_radius, .. } => {
                (stalk_radius.max(cap_radius), stalk_height + cap_radius)
            }
        };
        (DVec3::new(c.x - reach, c.y - reach, 0.0), DVec3::new(c.x + reach, c.y + reach, top))
    }

    /// Exposed curved area and footprint area, m^2, where known in closed form.
    pub fn exact_areas(&self) -> Option<(f64, f64)> {
        match *self {
            Shape::Spheroid { base_radius: a, height: c, .. } => Some((0.5 * spheroid_area(a, c), PI * a * a)),
            _ => None,
        }
    }

    /// Volume above the plane, m^3, where known in closed form.
    pub fn exact_volume(&self) -> Option<f64> {
        match *self {
            Shape::Spheroid { base_radius, height, .. } => Some(2.0 / 3.0 * PI * base_radius * base_radius * height),
            Shape::Pillar { radius, height, .. } => {
                Some(PI * radius * radius * (height - radius) + 2.0 / 3.0 * PI * radius.powi(3))
            }
            Shape::Pyramid { half_width, height, .. } => Some(4.0 * half_width * half_width * height / 3.0),
            _ => None,
        }
    }
}

/// Exact for a sphere; for a spheroid the first-order estimate `k0 (k0 - 1) / k1` with
/// `k0 = |q/r|`, `k1 = |q/r^2|` (exact zero set and gradient direction on the surface).
fn spheroid(q: DVec3, base_radius: f64, height: f64) -> f64 {
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

/// Surface area of a full spheroid with equatorial radius a and polar semi-axis c.
fn spheroid_area(a: f64, c: f64) -> f64 {
    if (a - c).abs() < 1e-12 * a {
        4.0 * PI * a * a
    } else if c > a {
        let e = (1.0 - a * a / (c * c)).sqrt();
        2.0 * PI * a * a * (1.0 + c / (a * e) * e.asin())
    } else {
        let e = (1.0 - c * c / (a * a)).sqrt();
        2.0 * PI * a * a * (1.0 + (1.0 - e * e) / e * e.atanh())
    }
}

/// Distance in the (rho, z) half-plane to the round cone: the convex hull of the base corner
/// A = (b, 0) and the tip circle of radius r centred at (0, h - r).
fn cone(q: DVec2, b: f64, h: f64, r: f64) -> f64 {
    let c = DVec2::new(0.0, h - r);
    let a = DVec2::new(b, 0.0);
    // Outward normal n of the side line through A tangent to the circle: n.(c - A) = -r.
    let big_r = (c - a).length();
    let beta = ((h - r) / big_r).asin();
    let phi = (r / big_r).acos() - beta;
    let n = DVec2::new(phi.cos(), phi.sin());
    let u = DVec2::new(-n.y, n.x); // along the side, from A toward the tip
    if (q - c).dot(u) > 0.0 {
        return (q - c).length() - r;
    }
    let side = (q - a).dot(n);
    if (q - a).dot(u) < 0.0 && side > 0.0 {
        return (q - a).length();
    }
    side
}

/// Distance estimate to the Gaussian bump in the (rho, z) half-plane: first order in the height
/// difference on the bump, distance to the rim circle beyond it.
fn gaussian(q: DVec2, amplitude: f64, sigma: f64) -> f64 {
    let cut = GAUSSIAN_CUTOFF_SIGMAS * sigma;
    let floor = (-0.5 * GAUSSIAN_CUTOFF_SIGMAS * GAUSSIAN_CUTOFF_SIGMAS).exp();
    let scale = amplitude / (1.0 - floor);
    if q.x >= cut {
        return (q - DVec2::new(cut, 0.0)).length().copysign(q.y.max(q.x - cut));
    }
    let g = (-0.5 * q.x * q.x / (sigma * sigma)).exp();
    let f = scale * (g - floor);
    let slope = -scale * g * q.x / (sigma * sigma);
    (q.y - f) / (1.0 + slope * slope).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cone_profile_passes_through_base_corner_and_tip() {
        let (b, h, r) = (1.0, 2.0, 0.2);
        assert!(cone(DVec2::new(b, 0.0), b, h, r).abs() < 1e-12);
        assert!(cone(DVec2::new(0.0, h), b, h, r).abs() < 1e-12);
        assert!(cone(DVec2::new(0.0, 1.0), b, h, r) < 0.0);
        assert!(cone(DVec2::new(1.0, 1.0), b, h, r) > 0.0);
        // A sharp-tip limit reproduces the straight side.
        let d = cone(DVec2::new(0.5, 1.0), 1.0, 2.0, 1e-9);
        assert!(d.abs() < 1e-6, "point on the side of a sharp cone: {d}");
    }

    #[test]
    fn gaussian_meets_the_plane_at_its_cutoff() {
        let (a, s) = (1.0, 0.5);
        assert!(gaussian(DVec2::new(0.0, a), a, s).abs() < 1e-12);
        assert!(gaussian(DVec2::new(1.5, 0.0), a, s).abs() < 1e-12);
        assert!(gaussian(DVec2::new(0.0, 0.5), a, s) < 0.0);
        assert!(gaussian(DVec2::new(2.0, 0.1), a, s) > 0.0);
    }

    #[test]
    fn mushroom_overhangs() {
        let m = Shape::Mushroom { center: DVec3::ZERO, stalk_radius: 0.2, stalk_height: 1.0, cap_radius: 0.5 };
        // Under the cap but outside the stalk is electrolyte: the electrode is not a height field.
        assert!(m.distance(DVec3::new(0.4, 0.0, 0.6)) > 0.0);
        assert!(m.distance(DVec3::new(0.4, 0.0, 1.0)) < 0.0);
        assert!(m.distance(DVec3::new(0.1, 0.0, 0.3)) < 0.0);
    }
}
