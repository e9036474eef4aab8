//! Resolved scaffold solids in the electrolyte: fibres (circular cylinders, either infinite along
//! their axis and so cut by the box, or capsules of given length) and particles (spheres). Their union is removed from the
//! electrolyte like a protrusion, but its surface is a boundary of its own (`scaffold`), so a
//! later model can make it conductive (a deposition surface) or insulating.

use glam::DVec3;

/// A straight fibre: the points within `radius` of its axis, the line through `point` along
/// `direction` or, with a `length`, the segment of that length centred on `point` (a capsule:
/// a cylinder with hemispherical ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fibre {
    pub point: DVec3,
    /// Unit vector along the axis.
    pub direction: DVec3,
    pub radius: f64,
    /// Axis length, m; `None` for a fibre running through the whole box.
    pub length: Option<f64>,
}

/// A spherical particle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Particle {
    pub center: DVec3,
    pub radius: f64,
}

impl Fibre {
    /// Signed distance to the fibre surface (negative inside), m.
    pub fn distance(&self, p: DVec3) -> f64 {
        let d = p - self.point;
        let along = match self.length {
            Some(l) => d.dot(self.direction).clamp(-0.5 * l, 0.5 * l),
            None => d.dot(self.direction),
        };
        (d - along * self.direction).length() - self.radius
    }
}

impl Particle {
    /// Signed distance to the particle surface (negative inside), m.
    pub fn distance(&self, p: DVec3) -> f64 {
        p.distance(self.center) - self.radius
    }
}

/// The scaffold solids of a scene.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scaffold {
    pub fibres: Vec<Fibre>,
    pub particles: Vec<Particle>,
}

impl Scaffold {
    /// Distance to the union of the solids (negative inside one), m; +infinity without solids.
    pub fn level(&self, p: DVec3) -> f64 {
        let fibres = self.fibres.iter().map(|f| f.distance(p));
        let particles = self.particles.iter().map(|s| s.distance(p));
        fibres.chain(particles).fold(f64::INFINITY, f64::min)
    }

    pub fn is_empty(&self) -> bool {
        self.fibres.is_empty() && self.particles.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_signed_euclidean() {
        let f = Fibre { point: DVec3::new(0.0, 0.0, 1.0), direction: DVec3::X, radius: 0.5, length: None };
        let capsule = Fibre { length: Some(2.0), ..f };
        assert!((capsule.distance(DVec3::new(0.5, 0.0, 2.0)) - 0.5).abs() < 1e-15);
        assert!((capsule.distance(DVec3::new(4.0, 0.0, 1.0)) - 2.5).abs() < 1e-15);
        assert!((f.distance(DVec3::new(7.0, 0.0, 2.0)) - 0.5).abs() < 1e-15);
        assert!((f.distance(DVec3::new(-3.0, 0.3, 1.0)) + 0.2).abs() < 1e-15);
        let s = Scaffold { fibres: vec![f], particles: vec![Particle { center: DVec3::new(0.0, 2.0, 1.0), radius: 0.25 }] };
        assert!((s.level(DVec3::new(0.0, 1.0, 1.0)) - 0.5).abs() < 1e-15);
        assert!((s.level(DVec3::new(0.0, 2.0, 1.1)) + 0.15).abs() < 1e-15);
        assert_eq!(Scaffold::default().level(DVec3::ZERO), f64::INFINITY);
    }
}
