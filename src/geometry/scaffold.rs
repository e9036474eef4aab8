//! Resolved scaffold solids in the electrolyte: fibres (circular cylinders, either infinite along
//! their axis and so cut by the box, or capsules of given length) and particles (spheres). Their union is removed from the
//! electrolyte like a protrusion, but its surface is a boundary of its own (`scaffold`), so a
//! later model can make it conductive (a deposition surface) or insulating. In a growth run a
//! fibre carries the metal deposited on it ([`FibreDeposit`]) and a particle's radius grows.

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

/// The metal deposited on a fibre as it grows: a thickness over the fibre's surface on a grid of
/// axial position s (along the fibre's direction from its point: `ns` nodes from `s0`, `ds`
/// apart) by angle theta around the axis (`nt` nodes, periodic, theta measured from `u` towards
/// `v`, unit vectors normal to the axis), bilinear between nodes. The grown surface lies at
/// `radius + thickness(s, theta)` from the axis; s is clamped to `axis` (a capsule's segment,
/// whose end caps take the thickness at its ends).
#[derive(Debug, Clone, PartialEq)]
pub struct FibreDeposit {
    pub s0: f64,
    pub ds: f64,
    pub ns: usize,
    pub nt: usize,
    pub u: DVec3,
    pub v: DVec3,
    pub axis: (f64, f64),
    /// Thickness at node (i, j) (s_i, theta_j), index `j * ns + i`, m.
    pub thickness: Vec<f64>,
}

impl FibreDeposit {
    /// No deposit yet on `fibre`, on a grid of spacing at most `spacing` (m, on the surface)
    /// over the axial range `range` (m).
    pub fn new(fibre: &Fibre, range: (f64, f64), spacing: f64) -> Self {
        // (An empty range, a fibre that misses the box, still gets one cell.)
        let range = if range.1 > range.0 { range } else { (range.0 - 0.5 * spacing, range.0 + 0.5 * spacing) };
        let u = fibre.direction.any_orthonormal_vector();
        let v = fibre.direction.cross(u);
        let ns = ((range.1 - range.0) / spacing).ceil().max(1.0) as usize + 1;
        let nt = ((2.0 * std::f64::consts::PI * fibre.radius / spacing).ceil() as usize).max(8);
        // s is read within the grid (a capsule's ends, where they lie on it, clamp it sooner).
        let axis = fibre.length.map_or(range, |l| (range.0.max(-0.5 * l), range.1.min(0.5 * l)));
        FibreDeposit { s0: range.0, ds: (range.1 - range.0) / (ns - 1) as f64, ns, nt, u, v, axis, thickness: vec![0.0; ns * nt] }
    }

    /// Spacing of the nodes around the fibre, rad.
    pub fn d_theta(&self) -> f64 {
        2.0 * std::f64::consts::PI / self.nt as f64
    }

    /// (s, theta) of `p` about `fibre`'s axis, s clamped to the axis.
    pub fn coordinates(&self, fibre: &Fibre, p: DVec3) -> (f64, f64) {
        let d = p - fibre.point;
        let s = d.dot(fibre.direction).clamp(self.axis.0, self.axis.1);
        (s, d.dot(self.v).atan2(d.dot(self.u)))
    }

    /// The thickness at (s, theta), m (bilinear; s clamped to the grid, theta periodic).
    pub fn at(&self, s: f64, theta: f64) -> f64 {
        let a = ((s - self.s0) / self.ds).clamp(0.0, (self.ns - 1) as f64);
        let i = (a.floor() as usize).min(self.ns.saturating_sub(2));
        let x = a - i as f64;
        let b = theta.rem_euclid(2.0 * std::f64::consts::PI) / self.d_theta();
        let j = (b.floor() as usize).min(self.nt - 1);
        let y = b - j as f64;
        let (j1, i1) = ((j + 1) % self.nt, (i + 1).min(self.ns - 1));
        let t = |i: usize, j: usize| self.thickness[j * self.ns + i];
        (1.0 - y) * ((1.0 - x) * t(i, j) + x * t(i1, j)) + y * ((1.0 - x) * t(i, j1) + x * t(i1, j1))
    }

    /// The area on the grown surface each node stands for, m^2: `(radius + thickness) d_theta
    /// ds`, half at the grid's ends in s.
    pub fn node_areas(&self, fibre: &Fibre) -> Vec<f64> {
        let end = |i: usize| if i == 0 || i == self.ns - 1 { 0.5 } else { 1.0 };
        (0..self.ns * self.nt).map(|k| (fibre.radius + self.thickness[k]) * self.d_theta() * self.ds * end(k % self.ns)).collect()
    }

    /// The grown surface's point at node k, m.
    pub fn surface_point(&self, fibre: &Fibre, k: usize) -> DVec3 {
        let (s, theta) = (self.s0 + (k % self.ns) as f64 * self.ds, (k / self.ns) as f64 * self.d_theta());
        let radial = self.u * theta.cos() + self.v * theta.sin();
        fibre.point + fibre.direction * s.clamp(self.axis.0, self.axis.1) + radial * (fibre.radius + self.thickness[k])
    }
}

/// The scaffold solids of a scene.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scaffold {
    pub fibres: Vec<Fibre>,
    pub particles: Vec<Particle>,
    /// The metal deposited on each fibre in a growth run (empty otherwise).
    pub deposits: Vec<FibreDeposit>,
}

impl Scaffold {
    /// Distance to the union of the solids (negative inside one), m; +infinity without solids.
    pub fn level(&self, p: DVec3) -> f64 {
        let fibres = (0..self.fibres.len()).map(|k| self.fibre_distance(k, p));
        let particles = self.particles.iter().map(|s| s.distance(p));
        fibres.chain(particles).fold(f64::INFINITY, f64::min)
    }

    /// Distance-like level of fibre `k` with its deposit (exact without one), m.
    pub fn fibre_distance(&self, k: usize, p: DVec3) -> f64 {
        let fibre = &self.fibres[k];
        let grown = self.deposits.get(k).map_or(0.0, |d| {
            let (s, theta) = d.coordinates(fibre, p);
            d.at(s, theta)
        });
        fibre.distance(p) - grown
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
        let s = Scaffold {
            fibres: vec![f],
            particles: vec![Particle { center: DVec3::new(0.0, 2.0, 1.0), radius: 0.25 }],
            deposits: Vec::new(),
        };
        assert!((s.level(DVec3::new(0.0, 1.0, 1.0)) - 0.5).abs() < 1e-15);
        assert!((s.level(DVec3::new(0.0, 2.0, 1.1)) + 0.15).abs() < 1e-15);
        assert_eq!(Scaffold::default().level(DVec3::ZERO), f64::INFINITY);
    }
}
