//! Scene keys of an electrode that is not flat from the start (`geometry.relief`) and of a run in
//! which it grows (`growth`).

use glam::DVec2;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One cosine mode of the electrode's relief: the flat electrode (and everything standing on it)
/// is raised by `amplitude_m cos(2 pi (x cos(direction) + y sin(direction)) / wavelength_m + phase)`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CosineMode {
    /// Amplitude, m (positive; the phase sets the sign).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub amplitude_m: f64,
    /// Wavelength, m.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub wavelength_m: f64,
    /// Direction of the wavevector from the x axis, degrees.
    #[serde(default)]
    pub direction_deg: f64,
    /// Phase, degrees (0: a crest at the origin).
    #[serde(default)]
    pub phase_deg: f64,
}

impl CosineMode {
    /// Wavevector (rad/m) and phase (rad).
    pub fn wavevector_and_phase(&self) -> (DVec2, f64) {
        let d = self.direction_deg.to_radians();
        let k = 2.0 * std::f64::consts::PI / self.wavelength_m;
        (DVec2::new(d.cos(), d.sin()) * k, self.phase_deg.to_radians())
    }

    /// The mode's height at `xy`, m.
    pub fn height_at(&self, xy: DVec2) -> f64 {
        let (k, phase) = self.wavevector_and_phase();
        self.amplitude_m * (k.dot(xy) + phase).cos()
    }
}

/// The electrode's relief: the flat electrode z = 0, with whatever stands on it, raised by a
/// measured height map and a sum of cosine modes (a measured or model roughness; the seed of a
/// linear-stability study).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relief {
    /// The modes, summed (at most 64).
    #[serde(default)]
    pub modes: Vec<CosineMode>,
    /// A measured surface (AFM or profilometer scan) read from a CSV grid of heights.
    #[serde(default)]
    pub height_map: Option<HeightMapFile>,
}

/// A CSV grid of heights: one row of the scan per line (values separated by commas, semicolons,
/// tabs or spaces; `#` lines skipped), column i of row j at x = x0 + i pixel, y = y0 + j pixel
/// (the first line at the lowest y), centred on the box, which it must cover; at most 4096 x 4096
/// values.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeightMapFile {
    /// The CSV file, relative to the scene file.
    pub file: String,
    /// Pixel size of the scan (spacing of its values in x and y), m.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub pixel_size_m: f64,
    /// Unit of the heights in the file, m (1e-9 for a scan in nm).
    #[serde(default = "one_metre")]
    #[schemars(range(min = 1e-12, max = 1.0))]
    pub height_unit_m: f64,
    /// Subtract the scan's mean height, so that the flat electrode z = 0 is its mean plane.
    #[serde(default = "yes")]
    pub subtract_mean: bool,
}

fn one_metre() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// A growth run: the electrode advances along its normal at the deposition speed
/// v = -j M / (n F rho) (plating current j < 0 raises it; stripping lowers it), and the field is
/// solved again on the moved electrode (quasi-steady: each step solves the model's steady state
/// on the current surface, since the surface moves micrometres per hour while the electrolyte
/// settles in milliseconds).
///
/// The surface is a height field over the footprint (an elevation grid): each step spreads the
/// deposited volume of every electrode face onto the grid column beside it, which raises the
/// column by the volume over its area (mass is conserved by construction; growth along a
/// sloped face's normal is its column's rise, exact for a height field); then the electrolyte is
/// meshed again from the raised implicit surface. Overhangs (a mushroom's cap) cannot be
/// represented and are refused.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrowthControls {
    /// End of the run as charge passed per unit projected electrode area, C/m^2 (magnitude;
    /// 1 mAh/cm^2 is 36000 C/m^2 and plates 1.7 um of zinc). One of `end_charge_C_m2` and `end_s`.
    #[serde(default, rename = "end_charge_C_m2")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub end_charge_c_m2: Option<f64>,
    /// End of the run in time, s. One of `end_charge_C_m2` and `end_s`.
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub end_s: Option<f64>,
    /// Number of equally spaced output times after the start (surface and field snapshots), 1
    /// to 200.
    #[serde(default = "default_outputs")]
    #[schemars(range(min = 1, max = 200))]
    pub outputs: u32,
    /// Molar mass of the deposit, g/mol (zinc: 65.38).
    #[serde(default = "default_molar_mass", rename = "molar_mass_g_mol")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub molar_mass_g_mol: f64,
    /// Density of the deposit, g/cm^3 (zinc: 7.14).
    #[serde(default = "default_density", rename = "density_g_cm3")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub density_g_cm3: f64,
    /// Largest advance of the surface in one step, as a fraction of the element size at the
    /// electrode (`mesh.size_near_m` over `mesh.refine`): 0.01 to 1. Steps are explicit (forward
    /// Euler in time), so the error of a growth rate falls in proportion to it.
    #[serde(default = "default_step_fraction")]
    #[schemars(range(min = 0.01, max = 1.0))]
    pub max_step_fraction: f64,
    /// Spacing of the elevation grid, m. Default: half the element size at the electrode.
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub grid_spacing_m: Option<f64>,
    /// Most steps (remeshes) the run may take, 1 to 10000: the run stops with an error before
    /// the first step when the end cannot be reached within it at the first step's speed.
    #[serde(default = "default_max_steps")]
    #[schemars(range(min = 1, max = 10000))]
    pub max_steps: u32,
    /// Exponent p of the specific area as a conductive porous layer's pores fill,
    /// a = a0 (1 - f)^p with f the filled fraction of the pores: 0.5 for cylindrical pores that
    /// narrow, 2/3 (default) for spherical ones; 0 to 2.
    #[serde(default = "default_area_exponent")]
    #[schemars(range(min = 0.0, max = 2.0))]
    pub pore_area_exponent: f64,
    /// Largest rise of a conductive porous layer's filled fraction in one step (each cell of
    /// the filling record), 0.01 to 0.5.
    #[serde(default = "default_fill_step")]
    #[schemars(range(min = 0.01, max = 0.5))]
    pub max_fill_step: f64,
    /// Wall-clock seconds between checkpoints (checkpoint.json in the output directory, written
    /// after a step; `znfield run --resume DIR` continues from it), 0 to 1e6 (0: after every
    /// step). Overridden by `--checkpoint-every`.
    #[serde(default = "default_checkpoint_interval")]
    #[schemars(range(min = 0.0, max = 1e6))]
    pub checkpoint_wall_interval_s: f64,
}

fn default_checkpoint_interval() -> f64 {
    600.0
}

fn default_area_exponent() -> f64 {
    2.0 / 3.0
}

fn default_fill_step() -> f64 {
    0.1
}

fn default_outputs() -> u32 {
    5
}

fn default_molar_mass() -> f64 {
    65.38
}

fn default_density() -> f64 {
    7.14
}

fn default_step_fraction() -> f64 {
    0.25
}

fn default_max_steps() -> u32 {
    400
}

impl GrowthControls {
    /// Volume of deposit per coulomb, M / (n F rho), m^3/C.
    pub fn volume_per_charge(&self, electrons: u32) -> f64 {
        let molar_mass_kg = self.molar_mass_g_mol * 1e-3;
        let density_kg_m3 = self.density_g_cm3 * 1e3;
        molar_mass_kg / (electrons as f64 * crate::physics::constants::FARADAY * density_kg_m3)
    }
}

/// Most modes of a relief.
pub const MAX_MODES: usize = 64;

/// Checks of `geometry.relief` and `growth`, with the key and value in every message.
pub(super) fn check(s: &super::Scene) -> Result<(), String> {
    use super::checks::{in_range, positive};
    let g = &s.geometry;
    if let Some(relief) = &g.relief {
        if g.mesh_file.is_some() {
            return Err(
                "key `geometry.relief`: an imported mesh carries its own surface; a relief is for the built-in box".into()
            );
        }
        if relief.modes.len() > MAX_MODES {
            return Err(format!(
                "key `geometry.relief.modes`: {} modes, more than the {MAX_MODES} a relief may have",
                relief.modes.len()
            ));
        }
        if let Some(map) = &relief.height_map {
            positive("geometry.relief.height_map.pixel_size_m", map.pixel_size_m)?;
            in_range("geometry.relief.height_map.height_unit_m", map.height_unit_m, 1e-12, 1.0)?;
            if map.file.is_empty() {
                return Err("key `geometry.relief.height_map.file`: name the CSV file of heights".into());
            }
        }
        for (k, m) in relief.modes.iter().enumerate() {
            positive(&format!("geometry.relief.modes.{k}.amplitude_m"), m.amplitude_m)?;
            positive(&format!("geometry.relief.modes.{k}.wavelength_m"), m.wavelength_m)?;
            in_range(&format!("geometry.relief.modes.{k}.direction_deg"), m.direction_deg, -360.0, 360.0)?;
            in_range(&format!("geometry.relief.modes.{k}.phase_deg"), m.phase_deg, -360.0, 360.0)?;
        }
        let relief_height: f64 = relief.modes.iter().map(|m| m.amplitude_m).sum();
        let tallest = g.all_protrusions().iter().map(|(_, p)| p.height()).fold(0.0, f64::max);
        if relief_height + tallest >= 0.8 * g.height_m {
            return Err(format!(
                "key `geometry.relief.modes`: the relief's amplitudes sum to {relief_height:e} m, which with the tallest \
                 protrusion ({tallest:e} m) reaches 80% of geometry.height_m = {:e} m; the bulk boundary must stay away",
                g.height_m
            ));
        }
    }
    if (g.relief.is_some() || s.growth.is_some()) && s.mesh.generator == super::MeshGenerator::Layered {
        return Err(
            "key `mesh.generator`: \"layered\" meshes a flat electrode at z = 0; a relief or a growth run needs \"bisection\""
                .into(),
        );
    }
    if s.growth.is_some() && s.solver.transport_weights.circumcentric_for(s.physics.model) {
        // The deposit spreads nodal densities over the faces as linear interpolants, which
        // returns the fluxes only with barycentric areas; nor is the scheme robust at the cut
        // surfaces yet (README, "Negative edge weights").
        return Err("key `solver.transport_weights`: a growth run needs \"p1\"; \"circumcentric\" is for fixed electrodes".into());
    }
    match &s.growth {
        Some(growth) => check_growth(s, growth),
        None => Ok(()),
    }
}

fn check_growth(s: &super::Scene, gr: &GrowthControls) -> Result<(), String> {
    use super::checks::{in_range, positive};
    let g = &s.geometry;
    match (gr.end_charge_c_m2, gr.end_s) {
        (Some(q), None) => positive("growth.end_charge_C_m2", q)?,
        (None, Some(t)) => positive("growth.end_s", t)?,
        _ => return Err("key `growth`: give exactly one of `end_charge_C_m2` and `end_s`".into()),
    }
    in_range("growth.outputs", gr.outputs.into(), 1.0, 200.0)?;
    in_range("growth.molar_mass_g_mol", gr.molar_mass_g_mol, 1.0, 1000.0)?;
    in_range("growth.density_g_cm3", gr.density_g_cm3, 0.1, 30.0)?;
    in_range("growth.max_step_fraction", gr.max_step_fraction, 0.01, 1.0)?;
    in_range("growth.max_steps", gr.max_steps.into(), 1.0, 10000.0)?;
    in_range("growth.pore_area_exponent", gr.pore_area_exponent, 0.0, 2.0)?;
    in_range("growth.max_fill_step", gr.max_fill_step, 0.01, 0.5)?;
    in_range("growth.checkpoint_wall_interval_s", gr.checkpoint_wall_interval_s, 0.0, 1e6)?;
    if let Some(h) = gr.grid_spacing_m {
        positive("growth.grid_spacing_m", h)?;
        if g.half_width_m / h > 1000.0 {
            return Err(format!(
                "key `growth.grid_spacing_m`: {h:e} m gives more than 2000 grid cells across the box (geometry.half_width_m = {:e} m)",
                g.half_width_m
            ));
        }
    }
    let refused = if g.mesh_file.is_some() {
        Some("an imported mesh cannot be moved; growth needs the built-in box")
    } else if s.physics.model == super::Model::Pnp {
        Some("the pnp model resolves double layers that a moving electrode would have to carry; use primary, secondary or tertiary")
    } else if s.time.is_some() {
        Some("growth is quasi-steady (each step solves the steady state on the moved surface): remove the `time` block")
    } else if g.scaffold.is_some() && g.sides == super::Sides::Periodic {
        Some("a resolved scaffold (geometry.scaffold) grows on insulating sides only: on periodic ones its deposit would have to match across the walls")
    } else {
        None
    };
    if let Some(why) = refused {
        return Err(format!("key `growth`: {why}"));
    }
    if let Some(w) = &s.operation.waveform {
        let Some(end) = gr.end_s else {
            return Err("key `growth.end_charge_C_m2`: with operation.waveform the run ends in time: give growth.end_s".into());
        };
        // Every breakpoint of the waveform ends a step.
        let edges = w.breakpoints(end).iter().filter(|&&b| b < end).count();
        if edges + 1 > gr.max_steps as usize {
            return Err(format!(
                "key `growth.max_steps`: operation.waveform has {edges} breakpoints before growth.end_s, each of which ends a \
                 step, more than growth.max_steps = {}",
                gr.max_steps
            ));
        }
    }
    if let Some((key, _)) = g.all_protrusions().iter().find(|(_, p)| matches!(p, super::Protrusion::Mushroom { .. })) {
        return Err(format!(
            "key `{key}`: a mushroom overhangs its stalk, and a growing electrode is a height field z = h(x, y); \
             growth cannot follow an overhang"
        ));
    }
    Ok(())
}
