//! Scene form of resolved scaffolds: explicit fibres and particles, and random fibre mats grown
//! from a seed to a target porosity.

use glam::DVec3;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::protrusions::SplitMix64;
use crate::geometry::scaffold::{Fibre, Particle, Scaffold};

/// Solid scaffold inside the electrolyte (built-in form). Lengths in m.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ScaffoldSpec {
    /// Straight fibres through `point_m` along `direction` (normalised): horizontal fibres across
    /// the box, or capsules of `length_m` centred on `point_m` in any orientation.
    pub fibres: Vec<FibreSpec>,
    /// Spherical particles.
    pub particles: Vec<ParticleSpec>,
    /// A random mat of horizontal fibres filling a slab to a target porosity.
    pub fibre_mat: Option<FibreMat>,
    /// Exchange current density of the scaffold surfaces, A/m^2: with it they are deposition
    /// surfaces held at the electrode potential (a conductive scaffold on the electrode, e.g.
    /// Cu-decorated carbon fibres) with the Butler–Volmer law of `physics.kinetics`; absent, they
    /// are insulating (zero flux).
    #[serde(rename = "surface_exchange_current_density_A_m2")]
    pub surface_exchange_current_density_a_m2: Option<f64>,
}

/// A cylindrical fibre (or capsule) of the scaffold.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FibreSpec {
    /// A point on the fibre's axis (its centre for a capsule), m.
    pub point_m: [f64; 3],
    /// Axis direction (normalised when used).
    pub direction: [f64; 3],
    /// Fibre radius, m.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub radius_m: f64,
    /// Axis length of a finite fibre (capsule), m; absent for a fibre across the box.
    #[serde(default)]
    pub length_m: Option<f64>,
}

/// A spherical particle of the scaffold.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticleSpec {
    /// Centre, m.
    pub center_m: [f64; 3],
    /// Radius, m.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub radius_m: f64,
}

/// Horizontal fibres of one radius, axes at uniform random heights in
/// `[z_min_m + radius_m, z_max_m - radius_m]`, uniform random in-plane angles and positions, added
/// one by one until the solid fraction of the slab `z_min_m..z_max_m` (estimated on 20,000
/// seeded sample points) reaches `1 - porosity`. The same seed gives the same mat everywhere.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FibreMat {
    /// Seed of the generator: the same seed gives the same mat.
    pub seed: u64,
    /// Fibre radius, m.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub radius_m: f64,
    /// Target void fraction of the slab, in (0, 1).
    #[schemars(extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    pub porosity: f64,
    /// Bottom of the slab the mat fills, m above the electrode.
    pub z_min_m: f64,
    /// Top of the slab, m above the electrode.
    pub z_max_m: f64,
}

/// Most fibres a mat may hold.
pub const MAX_MAT_FIBRES: usize = 2000;

/// Sample points used to estimate a mat's solid fraction while it grows.
const MAT_SAMPLES: usize = 20_000;

impl ScaffoldSpec {
    /// The solids in a box of half-width `half_width` (m), mat fibres included.
    pub fn build(&self, half_width: f64) -> Scaffold {
        let mut fibres: Vec<Fibre> = self
            .fibres
            .iter()
            .map(|f| Fibre {
                point: DVec3::from(f.point_m),
                direction: DVec3::from(f.direction).normalize_or(DVec3::X),
                radius: f.radius_m,
                length: f.length_m,
            })
            .collect();
        if let Some(mat) = &self.fibre_mat {
            fibres.extend(mat.fibres(half_width));
        }
        let particles = self.particles.iter().map(|p| Particle { center: DVec3::from(p.center_m), radius: p.radius_m }).collect();
        Scaffold { fibres, particles, deposits: Vec::new() }
    }
}

impl FibreMat {
    /// The mat's fibres in a box of half-width `half_width` (m).
    pub fn fibres(&self, half_width: f64) -> Vec<Fibre> {
        self.grow(half_width).0
    }

    /// Refuses a mat whose porosity the generator cannot reach within [`MAX_MAT_FIBRES`] fibres
    /// (a porosity far below what random overlapping fibres give), naming what it reaches.
    pub fn check_reachable(&self, half_width: f64) -> crate::error::Result<()> {
        let (fibres, solid) = self.grow(half_width);
        let target = 1.0 - self.porosity;
        if solid < target - 1.0 / MAT_SAMPLES as f64 {
            return Err(crate::error::Error::input(format!(
                "key `geometry.scaffold.fibre_mat.porosity`: {} is not reached with the {} fibres a mat may hold \
                 (porosity {:.3} then); raise the porosity or the fibre radius",
                self.porosity,
                fibres.len(),
                1.0 - solid
            )));
        }
        Ok(())
    }

    /// The fibres and the solid fraction they reach (measured on the sample points).
    fn grow(&self, half_width: f64) -> (Vec<Fibre>, f64) {
        let mut rng = SplitMix64(self.seed);
        let w = [-half_width, half_width];
        let samples: Vec<DVec3> = (0..MAT_SAMPLES)
            .map(|_| DVec3::new(rng.uniform(w), rng.uniform(w), rng.uniform([self.z_min_m, self.z_max_m])))
            .collect();
        let mut covered = vec![false; samples.len()];
        let mut solid = 0usize;
        let mut fibres = Vec::new();
        let target = ((1.0 - self.porosity) * samples.len() as f64).ceil() as usize;
        while solid < target && fibres.len() < MAX_MAT_FIBRES {
            let z = rng.uniform([self.z_min_m + self.radius_m, self.z_max_m - self.radius_m]);
            let angle = rng.uniform([0.0, std::f64::consts::PI]);
            let point = DVec3::new(rng.uniform(w), rng.uniform(w), z);
            let fibre =
                Fibre { point, direction: DVec3::new(angle.cos(), angle.sin(), 0.0), radius: self.radius_m, length: None };
            for (c, &p) in covered.iter_mut().zip(&samples) {
                if !*c && fibre.distance(p) < 0.0 {
                    *c = true;
                    solid += 1;
                }
            }
            fibres.push(fibre);
        }
        (fibres, solid as f64 / samples.len() as f64)
    }
}
