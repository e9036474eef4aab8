//! The protrusion catalogue of a scene: single shapes, regular arrays and random rough surfaces.
//! Lengths in metres; `center_m` is the [x, y] position of the footprint centre on z = 0.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One protrusion standing on the flat electrode.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum Protrusion {
    /// Half of a sphere.
    Hemisphere {
        /// Footprint centre [x, y] on the electrode plane, m.
        center_m: [f64; 2],
        /// Radius, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        radius_m: f64,
    },
    /// Half of a spheroid with vertical semi-axis `height_m` and horizontal `base_radius_m`:
    /// prolate (needle-like) when taller than wide, oblate when flatter.
    Hemispheroid {
        /// Footprint centre [x, y] on the electrode plane, m.
        center_m: [f64; 2],
        /// Height (vertical semi-axis), m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        height_m: f64,
        /// Base radius (horizontal semi-axis), m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        base_radius_m: f64,
    },
    /// Cone of base radius `base_radius_m` and height `height_m` whose tip is a sphere of
    /// `tip_radius_m` tangent to its sides.
    Cone {
        /// Footprint centre [x, y] on the electrode plane, m.
        center_m: [f64; 2],
        /// Base radius, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        base_radius_m: f64,
        /// Height, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        height_m: f64,
        /// Radius of the spherical tip, m (smaller than the base radius).
        #[schemars(extend("exclusiveMinimum" = 0))]
        tip_radius_m: f64,
    },
    /// Cylindrical pillar of `radius_m` with a hemispherical top, total height `height_m`.
    Pillar {
        /// Footprint centre [x, y] on the electrode plane, m.
        center_m: [f64; 2],
        /// Radius of the cylinder and its hemispherical top, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        radius_m: f64,
        /// Total height, m (at least the radius).
        #[schemars(extend("exclusiveMinimum" = 0))]
        height_m: f64,
    },
    /// Square pyramid (sides along x and y) of base half-width `base_half_width_m`.
    Pyramid {
        /// Footprint centre [x, y] on the electrode plane, m.
        center_m: [f64; 2],
        /// Half the base's side, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        base_half_width_m: f64,
        /// Height, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        height_m: f64,
    },
    /// Gaussian bump `z = amplitude exp(-r^2 / (2 sigma^2))`, shifted to meet the plane at r = 3 sigma.
    GaussianBump {
        /// Footprint centre [x, y] on the electrode plane, m.
        center_m: [f64; 2],
        /// Peak height, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        amplitude_m: f64,
        /// Standard deviation of the Gaussian, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        sigma_m: f64,
    },
    /// A sphere of `cap_radius_m` centred at `stalk_height_m` on a cylindrical stalk of
    /// `stalk_radius_m`: the cap overhangs the stalk, so the electrode is not a height field.
    Mushroom {
        /// Footprint centre [x, y] on the electrode plane, m.
        center_m: [f64; 2],
        /// Radius of the stalk, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        stalk_radius_m: f64,
        /// Height of the cap's centre above the plane, m.
        #[schemars(extend("exclusiveMinimum" = 0))]
        stalk_height_m: f64,
        /// Radius of the cap, m (larger than the stalk's).
        #[schemars(extend("exclusiveMinimum" = 0))]
        cap_radius_m: f64,
    },
}

/// Cut-off of the Gaussian bump in units of sigma.
pub const GAUSSIAN_CUTOFF_SIGMAS: f64 = 3.0;

impl Protrusion {
    /// Footprint centre [x, y], m.
    pub fn center(&self) -> [f64; 2] {
        match self {
            Protrusion::Hemisphere { center_m, .. }
            | Protrusion::Hemispheroid { center_m, .. }
            | Protrusion::Cone { center_m, .. }
            | Protrusion::Pillar { center_m, .. }
            | Protrusion::Pyramid { center_m, .. }
            | Protrusion::GaussianBump { center_m, .. }
            | Protrusion::Mushroom { center_m, .. } => *center_m,
        }
    }

    /// The same shape moved to `c`.
    pub fn with_center(&self, c: [f64; 2]) -> Protrusion {
        let mut p = self.clone();
        match &mut p {
            Protrusion::Hemisphere { center_m, .. }
            | Protrusion::Hemispheroid { center_m, .. }
            | Protrusion::Cone { center_m, .. }
            | Protrusion::Pillar { center_m, .. }
            | Protrusion::Pyramid { center_m, .. }
            | Protrusion::GaussianBump { center_m, .. }
            | Protrusion::Mushroom { center_m, .. } => *center_m = c,
        }
        p
    }

    /// Largest horizontal distance of the solid from its axis, m (the mushroom's cap overhangs).
    pub fn reach(&self) -> f64 {
        match *self {
            Protrusion::Hemisphere { radius_m, .. } => radius_m,
            Protrusion::Hemispheroid { base_radius_m, .. } | Protrusion::Cone { base_radius_m, .. } => base_radius_m,
            Protrusion::Pillar { radius_m, .. } => radius_m,
            Protrusion::Pyramid { base_half_width_m, .. } => base_half_width_m * std::f64::consts::SQRT_2,
            Protrusion::GaussianBump { sigma_m, .. } => GAUSSIAN_CUTOFF_SIGMAS * sigma_m,
            Protrusion::Mushroom { stalk_radius_m, cap_radius_m, .. } => stalk_radius_m.max(cap_radius_m),
        }
    }

    /// Area of the footprint on the electrode plane, m^2 (the mushroom's stalk; the Gaussian
    /// bump's disk out to its cut-off).
    pub fn footprint_area(&self) -> f64 {
        use std::f64::consts::PI;
        match *self {
            Protrusion::Hemisphere { radius_m: r, .. } | Protrusion::Pillar { radius_m: r, .. } => PI * r * r,
            Protrusion::Hemispheroid { base_radius_m: b, .. } | Protrusion::Cone { base_radius_m: b, .. } => PI * b * b,
            Protrusion::Pyramid { base_half_width_m: a, .. } => 4.0 * a * a,
            Protrusion::GaussianBump { sigma_m, .. } => PI * (GAUSSIAN_CUTOFF_SIGMAS * sigma_m).powi(2),
            Protrusion::Mushroom { stalk_radius_m: r, .. } => PI * r * r,
        }
    }

    /// Height of the top above the plane, m.
    pub fn height(&self) -> f64 {
        match *self {
            Protrusion::Hemisphere { radius_m, .. } => radius_m,
            Protrusion::Hemispheroid { height_m, .. }
            | Protrusion::Cone { height_m, .. }
            | Protrusion::Pillar { height_m, .. }
            | Protrusion::Pyramid { height_m, .. } => height_m,
            Protrusion::GaussianBump { amplitude_m, .. } => amplitude_m,
            Protrusion::Mushroom { stalk_height_m, cap_radius_m, .. } => stalk_height_m + cap_radius_m,
        }
    }

    /// The smallest length the mesh must resolve (tip radius, curvature radius), m.
    pub fn feature_size(&self) -> f64 {
        match *self {
            Protrusion::Hemisphere { radius_m, .. } => radius_m,
            // Tip radius of curvature of a prolate spheroid is b^2/h; an oblate one is flattest at
            // the top but curves sharply (h^2/b) at the rim.
            Protrusion::Hemispheroid { height_m, base_radius_m, .. } => {
                (base_radius_m * base_radius_m / height_m).min(height_m * height_m / base_radius_m)
            }
            Protrusion::Cone { tip_radius_m, .. } => tip_radius_m,
            Protrusion::Pillar { radius_m, .. } => radius_m,
            Protrusion::Pyramid { base_half_width_m, height_m, .. } => base_half_width_m.min(height_m),
            Protrusion::GaussianBump { amplitude_m, sigma_m, .. } => sigma_m.min(amplitude_m.max(0.2 * sigma_m)),
            Protrusion::Mushroom { stalk_radius_m, cap_radius_m, .. } => stalk_radius_m.min(cap_radius_m),
        }
    }

    /// Checks the shape's own parameters; `key` is its scene path for messages.
    pub fn check(&self, key: &str) -> Result<(), String> {
        let positive = |name: &str, v: f64| super::checks::positive(&format!("{key}.{name}"), v);
        match *self {
            Protrusion::Hemisphere { radius_m, .. } => positive("radius_m", radius_m),
            Protrusion::Hemispheroid { height_m, base_radius_m, .. } => {
                positive("height_m", height_m)?;
                positive("base_radius_m", base_radius_m)
            }
            Protrusion::Cone { base_radius_m, height_m, tip_radius_m, .. } => {
                positive("base_radius_m", base_radius_m)?;
                positive("height_m", height_m)?;
                positive("tip_radius_m", tip_radius_m)?;
                if tip_radius_m >= base_radius_m || tip_radius_m >= height_m {
                    return Err(format!(
                        "key `{key}.tip_radius_m`: {} must be smaller than base_radius_m ({}) and height_m ({})",
                        super::checks::num(tip_radius_m),
                        super::checks::num(base_radius_m),
                        super::checks::num(height_m)
                    ));
                }
                Ok(())
            }
            Protrusion::Pillar { radius_m, height_m, .. } => {
                positive("radius_m", radius_m)?;
                positive("height_m", height_m)?;
                if height_m < radius_m {
                    return Err(format!(
                        "key `{key}.height_m`: {} must be at least radius_m ({}) to hold the rounded top",
                        super::checks::num(height_m),
                        super::checks::num(radius_m)
                    ));
                }
                Ok(())
            }
            Protrusion::Pyramid { base_half_width_m, height_m, .. } => {
                positive("base_half_width_m", base_half_width_m)?;
                positive("height_m", height_m)
            }
            Protrusion::GaussianBump { amplitude_m, sigma_m, .. } => {
                positive("amplitude_m", amplitude_m)?;
                positive("sigma_m", sigma_m)
            }
            Protrusion::Mushroom { stalk_radius_m, stalk_height_m, cap_radius_m, .. } => {
                positive("stalk_radius_m", stalk_radius_m)?;
                positive("stalk_height_m", stalk_height_m)?;
                positive("cap_radius_m", cap_radius_m)?;
                if cap_radius_m <= stalk_radius_m || stalk_height_m <= cap_radius_m {
                    return Err(format!(
                        "key `{key}`: a mushroom needs cap_radius_m ({}) > stalk_radius_m ({}) and stalk_height_m ({}) > cap_radius_m \
                         so the cap overhangs the stalk without touching the plane",
                        super::checks::num(cap_radius_m),
                        super::checks::num(stalk_radius_m),
                        super::checks::num(stalk_height_m)
                    ));
                }
                Ok(())
            }
        }
    }
}

/// A regular `count[0] x count[1]` array of `protrusion`, spaced by `pitch_m` [px, py] (m) and
/// centred on the template's `center_m`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtrusionArray {
    /// The template; its `center_m` is the array's centre.
    pub protrusion: Protrusion,
    /// Spacing [px, py] of neighbouring members, m.
    pub pitch_m: [f64; 2],
    /// Members along x and y (at most 10 000 in all).
    pub count: [u32; 2],
}

impl ProtrusionArray {
    /// The array's members with their "i,j" labels.
    pub fn expand(&self) -> Vec<(String, Protrusion)> {
        let [cx, cy] = self.protrusion.center();
        let [nx, ny] = self.count;
        let mut out = Vec::new();
        for j in 0..ny {
            for i in 0..nx {
                let x = cx + (i as f64 - (nx as f64 - 1.0) / 2.0) * self.pitch_m[0];
                let y = cy + (j as f64 - (ny as f64 - 1.0) / 2.0) * self.pitch_m[1];
                out.push((format!("{i},{j}"), self.protrusion.with_center([x, y])));
            }
        }
        out
    }
}

/// Shapes a rough surface draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoughShape {
    Hemisphere,
    Hemispheroid,
    Cone,
    Pyramid,
    GaussianBump,
}

/// `count` random protrusions drawn uniformly from `shapes`, with base radius and height uniform
/// in the given [min, max] ranges (m), placed uniformly so each lies inside the box. The same seed
/// gives the same surface on every machine (splitmix64).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoughSurface {
    /// Number of protrusions (at most 10 000).
    pub count: u32,
    /// Seed of the generator: the same seed gives the same surface.
    pub seed: u64,
    /// Shapes drawn from, uniformly.
    pub shapes: Vec<RoughShape>,
    /// [min, max] base radius, m.
    pub base_radius_m: [f64; 2],
    /// [min, max] height, m.
    pub height_m: [f64; 2],
}

/// splitmix64: a tiny, well-known generator whose sequence never changes with crate versions.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn uniform(&mut self, [lo, hi]: [f64; 2]) -> f64 {
        lo + (hi - lo) * self.next_unit()
    }
}

impl RoughSurface {
    /// The protrusions of the surface in a box of half-width `half_width` (m).
    pub fn expand(&self, half_width: f64) -> Vec<Protrusion> {
        let mut rng = SplitMix64(self.seed);
        let mut out = Vec::with_capacity(self.count as usize);
        if self.shapes.is_empty() {
            return out;
        }
        for _ in 0..self.count {
            let kind = self.shapes[((rng.next_unit() * self.shapes.len() as f64) as usize).min(self.shapes.len() - 1)];
            let b = rng.uniform(self.base_radius_m);
            let h = rng.uniform(self.height_m);
            let template = match kind {
                RoughShape::Hemisphere => Protrusion::Hemisphere { center_m: [0.0, 0.0], radius_m: b },
                RoughShape::Hemispheroid => Protrusion::Hemispheroid { center_m: [0.0, 0.0], height_m: h, base_radius_m: b },
                RoughShape::Cone => {
                    Protrusion::Cone { center_m: [0.0, 0.0], base_radius_m: b, height_m: h, tip_radius_m: 0.25 * b.min(h) }
                }
                RoughShape::Pyramid => Protrusion::Pyramid { center_m: [0.0, 0.0], base_half_width_m: b, height_m: h },
                RoughShape::GaussianBump => Protrusion::GaussianBump { center_m: [0.0, 0.0], amplitude_m: h, sigma_m: b / 3.0 },
            };
            let room = (half_width - template.reach()) * 0.98;
            let (x, y) = (rng.uniform([-room, room]), rng.uniform([-room, room]));
            out.push(template.with_center([x, y]));
        }
        out
    }
}
