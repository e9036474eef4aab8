//! A resolved scaffold that grows: the metal plated on its fibres and particles.
//!
//! Each fibre carries a deposit thickness over its surface
//! ([`crate::geometry::scaffold::FibreDeposit`]: a grid of axial position s by angle theta around
//! the axis, periodic in theta), and the fibre's surface lies at `R + delta(s, theta)` from its
//! axis. Each step spreads every scaffold face's deposit, the integral of the deposition speed
//! `v = i M / (n F rho)` over the face (i the plating current density, linear between its
//! nodes), onto the grid of the solid it lies on, as the electrode's faces are spread onto the
//! elevation grid ([`super::deposit`]): the face is mapped to (s, theta), where its deposit has
//! the density `v area / area(s, theta)`, and each grid node receives the exact integral of that
//! density against its bilinear hat function. A node's thickness then rises by its volume over
//! the surface area it covers, the same integral with the speed 1: the hat-weighted mean of the
//! faces' speeds around it. So a uniform deposit raises every node alike, also where the box's
//! wall, another solid or a capsule's end leaves only part of a node's cell on the mesh, and
//! the volumes sum to the scaffold's plating current times M / (n F rho), whatever the mesh. A
//! face whose image in (s, theta) has no area (on a capsule's end cap, or beyond the grid's end
//! where a fibre crosses a wall at an angle: s is clamped to the grid) deposits at its centre. A particle, a few elements across, grows by its whole deposit as a
//! sphere: `r^3` rises by `3 V / (4 pi)`.

use std::f64::consts::PI;

use glam::{DVec2, DVec3};

use super::deposit::{spread_triangle, Lattice};
use crate::geometry::scaffold::{FibreDeposit, Scaffold};
use crate::geometry::ElectrodeGeometry;
use crate::mesh::{BoundaryTag, TetMesh};

/// One step's deposition on the scaffold.
#[derive(Debug, Clone)]
pub struct ScaffoldRates {
    /// Thickness growth speed at each fibre's grid nodes, m/s.
    pub fibres: Vec<Vec<f64>>,
    /// The mesh's scaffold area each fibre grid node covers (its hat function integrated over
    /// the faces mapped to the grid), m^2.
    pub covered: Vec<Vec<f64>>,
    /// Radius growth speed of each particle, m/s, and the area of its surface in the mesh, m^2.
    pub particles: Vec<f64>,
    pub particle_areas: Vec<f64>,
    /// Metal plated on the scaffold per second, m^3/s.
    pub volume: f64,
}

impl ScaffoldRates {
    /// The fastest growth speed on the scaffold, m/s.
    pub fn fastest(&self) -> f64 {
        self.fibres.iter().flatten().chain(&self.particles).fold(0.0, |m, s| m.max(s.abs()))
    }

    /// Whether some part of the scaffold dissolves (a negative speed beyond rounding).
    pub fn strips(&self) -> bool {
        let tiny = 1e-9 * self.fastest();
        self.fibres.iter().flatten().chain(&self.particles).any(|&s| s < -tiny)
    }
}

/// The deposition on `scaffold` (its fibres carrying their deposits) of the plating current
/// density `plating` at the mesh nodes (A/m^2, deposition positive; 0 off the scaffold), with
/// `volume_per_charge` = M / (n F rho) (m^3/C).
pub fn scaffold_rates(mesh: &TetMesh, scaffold: &Scaffold, plating: &[f64], volume_per_charge: f64) -> ScaffoldRates {
    let mut fibre_volumes: Vec<Vec<f64>> = scaffold.deposits.iter().map(|d| vec![0.0; d.thickness.len()]).collect();
    let mut covered = fibre_volumes.clone();
    let mut particle_volumes = vec![0.0; scaffold.particles.len()];
    let mut particle_areas = particle_volumes.clone();
    let mut total = 0.0;
    for f in mesh.faces_with(BoundaryTag::Scaffold) {
        let ids = mesh.faces[f];
        let p = ids.map(|n| mesh.nodes[n as usize]);
        let v = ids.map(|n| plating.get(n as usize).copied().unwrap_or(0.0) * volume_per_charge);
        let area = 0.5 * (p[1] - p[0]).cross(p[2] - p[0]).length();
        let volume = area * (v[0] + v[1] + v[2]) / 3.0;
        total += volume;
        let centre = (p[0] + p[1] + p[2]) / 3.0;
        match nearest_solid(scaffold, centre) {
            Solid::Fibre(k) => {
                spread_on_fibre(scaffold, k, p, v, area, &mut fibre_volumes[k]);
                spread_on_fibre(scaffold, k, p, [1.0; 3], area, &mut covered[k]);
            }
            Solid::Particle(k) => {
                particle_volumes[k] += volume;
                particle_areas[k] += area;
            }
        }
    }
    let fibres = fibre_volumes
        .iter()
        .zip(&covered)
        .map(|(volumes, areas)| volumes.iter().zip(areas).map(|(v, a)| if *a > 0.0 { v / a } else { 0.0 }).collect())
        .collect();
    // A particle's speed: its deposit over its surface in the mesh (a wall or a fibre may hide
    // part of it).
    let particles = particle_volumes.iter().zip(&particle_areas).map(|(v, a)| if *a > 0.0 { v / a } else { 0.0 }).collect();
    ScaffoldRates { fibres, covered, particles, particle_areas, volume: total }
}

/// Raises the deposits of `scaffold` by `rates` over `dt` (s), conserving volume: a fibre node
/// at radius r = R + t whose surface takes the volume `r s dt` per unit of its cell (s its speed)
/// grows the shell `(r + D / 2) D` by that volume, D = sqrt(r^2 + 2 r s dt) - r, a particle's
/// sphere by `4 pi r^2 s dt`. (Adding `s dt` would lay a shell too thick by the fraction
/// `s dt / (2 r)`, 2% per step on a thin fibre.)
pub fn advance(scaffold: &mut Scaffold, rates: &ScaffoldRates, dt: f64) {
    for ((fibre, d), speeds) in scaffold.fibres.iter().zip(&mut scaffold.deposits).zip(&rates.fibres) {
        for (t, s) in d.thickness.iter_mut().zip(speeds) {
            let r = fibre.radius + *t;
            *t += (r * r + 2.0 * r * s * dt).max(0.0).sqrt() - r;
        }
    }
    for (particle, speed) in scaffold.particles.iter_mut().zip(&rates.particles) {
        // The shell's volume 4 pi r^2 speed dt, added to the sphere exactly.
        let volume = 4.0 * PI * particle.radius * particle.radius * speed * dt;
        particle.radius = (particle.radius.powi(3) + 3.0 * volume / (4.0 * PI)).max(0.0).cbrt();
    }
}

enum Solid {
    Fibre(usize),
    Particle(usize),
}

/// The scaffold solid whose surface is nearest to `p`.
fn nearest_solid(scaffold: &Scaffold, p: DVec3) -> Solid {
    let fibres = (0..scaffold.fibres.len()).map(|k| (scaffold.fibre_distance(k, p).abs(), Solid::Fibre(k)));
    let particles = scaffold.particles.iter().enumerate().map(|(k, s)| (s.distance(p).abs(), Solid::Particle(k)));
    fibres.chain(particles).min_by(|a, b| a.0.total_cmp(&b.0)).map_or(Solid::Fibre(0), |(_, s)| s)
}

/// Spreads the deposit of face `p` (speeds `v`, area `area`) onto fibre `k`'s grid.
fn spread_on_fibre(scaffold: &Scaffold, k: usize, p: [DVec3; 3], v: [f64; 3], area: f64, out: &mut [f64]) {
    let (fibre, d) = (&scaffold.fibres[k], &scaffold.deposits[k]);
    let lattice = lattice_of(d);
    // The corners in (s, theta), theta unwrapped to within pi of the first corner's.
    let mut t = p.map(|q| {
        let (s, theta) = d.coordinates(fibre, q);
        DVec2::new(s, theta)
    });
    let first = t[0].y;
    for q in &mut t[1..] {
        q.y += 2.0 * PI * ((first - q.y) / (2.0 * PI)).round();
    }
    let image_area = 0.5 * (t[1] - t[0]).perp_dot(t[2] - t[0]).abs();
    if image_area <= 1e-9 * d.ds * d.d_theta() {
        spread_point(&lattice, (t[0] + t[1] + t[2]) / 3.0, area * (v[0] + v[1] + v[2]) / 3.0, out);
        return;
    }
    spread_triangle(&lattice, t, v, area / image_area, out);
}

/// The fibre grid as a lattice in (s, theta), periodic in theta.
fn lattice_of(d: &FibreDeposit) -> Lattice {
    Lattice { origin: DVec2::new(d.s0, 0.0), spacing: DVec2::new(d.ds, d.d_theta()), nodes: [d.ns, d.nt], wrap: true }
}

/// Adds the point volume `volume` at `q` (s, theta) to the four nodes around it, bilinearly.
fn spread_point(lattice: &Lattice, q: DVec2, volume: f64, out: &mut [f64]) {
    let u = ((q.x - lattice.origin.x) / lattice.spacing.x).clamp(0.0, (lattice.nodes[0] - 1) as f64);
    let i = (u.floor() as usize).min(lattice.nodes[0] - 2);
    let (x, w) = (u - i as f64, (q.y - lattice.origin.y) / lattice.spacing.y);
    let j = w.floor();
    let y = w - j;
    let nt = lattice.nodes[1] as i64;
    let (j0, j1) = ((j as i64).rem_euclid(nt) as usize, (j as i64 + 1).rem_euclid(nt) as usize);
    let n = lattice.nodes[0];
    out[j0 * n + i] += volume * (1.0 - x) * (1.0 - y);
    out[j0 * n + i + 1] += volume * x * (1.0 - y);
    out[j1 * n + i] += volume * (1.0 - x) * y;
    out[j1 * n + i + 1] += volume * x * y;
}

/// The scaffold of `base` ready to grow: a deposit grid of spacing `spacing` (m) on each fibre,
/// over the fibre's axis inside the box (and within a capsule's segment), widened by the radius
/// for a fibre that crosses the walls at an angle. A face beyond it (on a capsule's end cap) maps
/// onto the grid's end.
pub fn grown_scaffold(base: &ElectrodeGeometry, spacing: f64) -> Scaffold {
    let mut scaffold = base.scaffold.clone();
    let (lo, hi) =
        (DVec3::new(-base.half_width, -base.half_width, base.floor()), DVec3::new(base.half_width, base.half_width, base.height));
    scaffold.deposits = scaffold
        .fibres
        .iter()
        .map(|f| {
            // An oblique fibre's surface reaches past its axis's ends in the box by up to R; a
            // capsule's grid spans only the part of it in the box (its length is not bounded).
            let (a, b) = axis_in_box(f.point, f.direction, lo, hi);
            let oblique = f.length.is_some() || f.direction.x.abs().max(f.direction.y.abs()) < 1.0 - 1e-9;
            let pad = if oblique { f.radius } else { 0.0 };
            let (a, b) = (a - pad, b + pad);
            let range = f.length.map_or((a, b), |l| (a.max(-0.5 * l), b.min(0.5 * l)));
            FibreDeposit::new(f, range, spacing)
        })
        .collect();
    scaffold
}

/// The range of s over which the line `point + s direction` lies in the box [lo, hi].
fn axis_in_box(point: DVec3, direction: DVec3, lo: DVec3, hi: DVec3) -> (f64, f64) {
    let (mut a, mut b) = (f64::NEG_INFINITY, f64::INFINITY);
    for k in 0..3 {
        if direction[k].abs() > 1e-12 {
            let (s0, s1) = ((lo[k] - point[k]) / direction[k], (hi[k] - point[k]) / direction[k]);
            a = a.max(s0.min(s1));
            b = b.min(s0.max(s1));
        }
    }
    if a <= b {
        (a, b)
    } else {
        (0.0, 0.0)
    }
}

/// Where the scaffold, grown by `rates` over `dt` (s), would come within `gap` (m) of the
/// electrode's surface `front(x, y)` (m) below it, or rise past `ceiling` (m): what to tell the
/// user, or None. Only the parts over the box's footprint (half width `half_width`) count.
pub fn meets_electrode(
    scaffold: &Scaffold,
    rates: &ScaffoldRates,
    dt: f64,
    front: impl Fn(DVec2) -> f64,
    gap: f64,
    half_width: f64,
    ceiling: f64,
) -> Option<String> {
    let inside = |p: DVec3| p.x.abs() <= half_width && p.y.abs() <= half_width;
    let check = |p: DVec3, what: String| -> Option<String> {
        if !inside(p) {
            return None;
        }
        let below = p.z - front(p.truncate());
        if below < gap {
            return Some(format!(
                "the deposit on {what} would come within {below:.3e} m of the electrode's deposit at (x, y, z) = ({:.4e}, \
                 {:.4e}, {:.4e}) m (less than half an element, {gap:.3e} m): the scaffold joining the electrode is a change \
                 of topology growth does not follow",
                p.x, p.y, p.z
            ));
        }
        (p.z > ceiling).then(|| {
            format!("the deposit on {what} would rise to z = {:.4e} m, past {ceiling:.4e} m, near the bulk boundary", p.z)
        })
    };
    for (k, ((fibre, d), speeds)) in scaffold.fibres.iter().zip(&scaffold.deposits).zip(&rates.fibres).enumerate() {
        let mut next = d.clone();
        next.thickness.iter_mut().zip(speeds).for_each(|(t, s)| *t += s * dt);
        for n in 0..next.thickness.len() {
            if let Some(why) = check(next.surface_point(fibre, n), format!("scaffold fibre {k}")) {
                return Some(why);
            }
        }
    }
    // The particles' surfaces in 26 directions (the axes, the face and the space diagonals).
    let directions: Vec<DVec3> = (0..27)
        .map(|k| DVec3::new((k % 3) as f64 - 1.0, ((k / 3) % 3) as f64 - 1.0, (k / 9) as f64 - 1.0))
        .filter(|d| *d != DVec3::ZERO)
        .map(|d| d.normalize())
        .collect();
    for (k, (particle, speed)) in scaffold.particles.iter().zip(&rates.particles).enumerate() {
        let radius = particle.radius + speed * dt;
        for d in &directions {
            if let Some(why) = check(particle.center + *d * radius, format!("scaffold particle {k}")) {
                return Some(why);
            }
        }
    }
    None
}

/// The fraction of its cell on the fibre's surface (`(R + t) d_theta ds`, half at the ends) that
/// each fibre grid node of `scaffold` covered in the mesh of `rates`, and the fraction of each
/// particle's sphere in it.
pub fn coverage(scaffold: &Scaffold, rates: &ScaffoldRates) -> (Vec<Vec<f64>>, Vec<f64>) {
    let fibres = scaffold.fibres.iter().zip(&scaffold.deposits).zip(&rates.covered);
    let fibres = fibres.map(|((fibre, d), covered)| covered.iter().zip(d.node_areas(fibre)).map(|(c, a)| c / a).collect());
    let sphere = |r: f64| 4.0 * PI * r * r;
    let particles = scaffold.particles.iter().zip(&rates.particle_areas).map(|(p, a)| (a / sphere(p.radius)).min(1.0));
    (fibres.collect(), particles.collect())
}

/// The scaffold's deposit: the grown solids' volume over the initial ones' in the mesh (each
/// fibre node's shell `(R + t / 2) t d_theta ds` times the fraction of it the mesh covered, each
/// particle's shell times the fraction of its sphere in the mesh: `coverage`), and the least, mean and greatest thickness over the
/// fibre nodes that cover at least half their cell (m; zeros without such nodes).
pub fn deposit_volume_and_thickness(
    initial: &Scaffold,
    grown: &Scaffold,
    coverage: &(Vec<Vec<f64>>, Vec<f64>),
) -> (f64, [f64; 3]) {
    let (coverage, particle_coverage) = coverage;
    let mut volume = 0.0;
    let (mut least, mut greatest, mut sum, mut count) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
    for ((fibre, d), fractions) in grown.fibres.iter().zip(&grown.deposits).zip(coverage) {
        let end = |i: usize| if i == 0 || i == d.ns - 1 { 0.5 } else { 1.0 };
        for (k, (&t, &c)) in d.thickness.iter().zip(fractions).enumerate() {
            volume += c * (fibre.radius + 0.5 * t) * t * d.d_theta() * d.ds * end(k % d.ns);
            if c >= 0.5 {
                (least, greatest, sum, count) = (least.min(t), greatest.max(t), sum + t, count + 1);
            }
        }
    }
    for ((a, b), c) in initial.particles.iter().zip(&grown.particles).zip(particle_coverage) {
        volume += c * 4.0 / 3.0 * PI * (b.radius.powi(3) - a.radius.powi(3));
    }
    let thickness = if count > 0 { [least, sum / count as f64, greatest] } else { [0.0; 3] };
    (volume, thickness)
}
