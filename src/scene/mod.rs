//! Scene description: what to simulate, in SI units, read from JSON.
//!
//! A scene is parsed strictly: unknown keys are rejected with the key, its dotted path and the
//! keys valid there; every quantity carries its unit in its key name (`radius_m`,
//! `conductivity_S_m`, ...). Defaults are physically sensible for 2 M ZnSO4 at 298.15 K.
//! `--set KEY=VALUE` overrides any key by its dotted path (see [`overrides`]); the checks with
//! precise messages live in [`checks`].

pub mod checks;
pub mod coating;
pub mod figures;
pub mod growth;
pub mod output;
pub mod overrides;
pub mod protrusions;
pub mod scaffold;
pub mod schema;
pub mod waveform;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use coating::{BaseElectrode, Profile, SolidPhase};
pub use growth::{CosineMode, GrowthControls, HeightMapFile, Relief};
pub use output::{OutputControls, SlicePlane};
pub use protrusions::{Protrusion, ProtrusionArray, RoughSurface};
pub use scaffold::ScaffoldSpec;
pub use waveform::Waveform;

/// The built-in default scene (also shipped as `scenes/default.json`).
pub const DEFAULT_SCENE_JSON: &str = include_str!("../../scenes/default.json");

/// A complete simulation scene.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Short identifier used for the default output directory `znfield-out/<name>/`.
    pub name: String,
    /// Free text: what the scene shows and the numbers to expect.
    #[serde(default)]
    pub description: String,
    pub geometry: Geometry,
    #[serde(default)]
    pub physics: Physics,
    #[serde(default)]
    pub operation: Operation,
    #[serde(default)]
    pub mesh: MeshControls,
    #[serde(default)]
    pub solver: SolverControls,
    /// Transient run (transport models): absent for a steady state.
    #[serde(default)]
    pub time: Option<TimeControls>,
    /// Deposit growth: the electrode moves as it plates, and the field is solved again on the
    /// moved surface (potential models and the steady tertiary model); absent for a fixed
    /// electrode.
    #[serde(default)]
    pub growth: Option<GrowthControls>,
    /// PNG maps written beside the data files.
    #[serde(default)]
    pub output: OutputControls,
    /// Directory of the scene file, against which `geometry.mesh_file` is resolved (not part of
    /// the scene's JSON).
    #[serde(skip)]
    pub source_dir: Option<PathBuf>,
}

/// The electrolyte domain, in one of two forms.
///
/// Built-in: a box `[-half_width_m, half_width_m]^2 x [0, height_m]` over a flat electrode at
/// z = 0, with protrusions standing on the electrode; the bulk boundary is the top face, the four
/// sides are insulating (symmetry planes).
///
/// Imported: `mesh_file` (Gmsh MSH 4.1 ASCII/binary or 2.2 ASCII, resolved relative to the scene
/// file) with its physical groups mapped to roles by name in `boundaries` and `regions`, and
/// coordinates in units of `length_unit_m` metres.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Geometry {
    /// Half-width of the square box in x and y, m (built-in form: 1e-10 to 1).
    #[serde(default)]
    #[schemars(extend("maximum" = 1))]
    pub half_width_m: f64,
    /// Distance from the flat electrode to the bulk boundary, m (built-in form: 1e-10 to 1).
    #[serde(default)]
    #[schemars(extend("maximum" = 1))]
    pub height_m: f64,
    /// Protrusions on the electrode, each placed and sized (overlapping shapes merge); at most
    /// 10000 with those of `arrays` and `rough_surface`.
    #[serde(default)]
    pub protrusions: Vec<Protrusion>,
    /// Regular arrays of one protrusion shape.
    #[serde(default)]
    pub arrays: Vec<ProtrusionArray>,
    /// A random rough surface, reproducible from its seed.
    #[serde(default)]
    pub rough_surface: Option<RoughSurface>,
    /// Coating layers stacked on the electrode, listed from the electrode up (built-in form).
    /// Each becomes a tagged region (region id 1, 2, ... in this order) with mesh faces on its
    /// interfaces. At most 200.
    #[serde(default)]
    pub layers: Vec<CoatingLayer>,
    /// Resolved scaffold solids (fibres, particles, random fibre mats), removed from the
    /// electrolyte; their surface is the `scaffold` boundary (built-in form).
    #[serde(default)]
    pub scaffold: Option<ScaffoldSpec>,
    /// Relief of the electrode (built-in form): the flat electrode and its protrusions raised by
    /// a sum of cosine modes.
    #[serde(default)]
    pub relief: Option<Relief>,
    /// Gmsh mesh file (imported form).
    #[serde(default)]
    pub mesh_file: Option<String>,
    /// Physical surface groups of the mesh file by role (imported form).
    #[serde(default)]
    pub boundaries: Option<BoundaryGroups>,
    /// Physical volume groups of the mesh file by role (imported form).
    #[serde(default)]
    pub regions: Option<RegionGroups>,
    /// Length of one mesh-file unit in metres (imported form; 1e-6 for a mesh drawn in um).
    #[serde(default = "one")]
    #[schemars(range(min = 1e-12, max = 1.0))]
    pub length_unit_m: f64,
    /// Side walls of the box (built-in form): insulating (zero flux; a mirror) or periodic.
    #[serde(default)]
    pub sides: Sides,
}

/// Boundary condition on the four side walls of the built-in box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sides {
    /// Zero normal flux: the box is mirrored at its walls (a symmetric cell of an array).
    #[default]
    Insulating,
    /// x = -w and x = +w (and y = -w, y = +w) are identified: the box is one cell of an infinite
    /// periodic array, whatever the placement of the protrusions in it.
    Periodic,
}

fn one() -> f64 {
    1.0
}

/// A coating layer over the electrode.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoatingLayer {
    /// Name shown in reports (unique among the layers).
    pub name: String,
    /// "conformal" (constant thickness over the electrode, protrusions included) or "planar"
    /// (top at a constant height above the flat electrode).
    pub kind: LayerShape,
    /// Thickness, m: measured from the layer below (or the electrode) to this layer's top.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub thickness_m: f64,
    /// Void fraction (0, 1] (default 1: the layer is electrolyte). The electrolyte in the pores
    /// has the effective diffusivities and conductivity `D eps / tortuosity` (or `D eps^b`,
    /// Bruggeman, without a tortuosity); concentrations are per pore volume.
    #[serde(default = "coating::default_porosity")]
    pub porosity: Profile,
    /// Bruggeman exponent b (tortuosity eps^(1-b)); default 1.5.
    #[serde(default = "coating::default_bruggeman")]
    #[schemars(range(min = 0.0, max = 5.0))]
    pub bruggeman_exponent: f64,
    /// Tortuosity factor tau >= 1 (overrides the Bruggeman relation when given).
    #[serde(default)]
    pub tortuosity: Option<Profile>,
    /// Fixed charge of the layer per pore volume, in mol of elementary charges per m^3 (F times
    /// it is the charge density, C/m^3): negative for a cation-selective layer (sulfonate groups,
    /// zinc niobate), positive for an anion-selective one. Enters electroneutrality (tertiary) or
    /// Poisson (pnp).
    #[serde(rename = "fixed_charge_mol_m3", default = "coating::no_fixed_charge")]
    pub fixed_charge_mol_m3: Profile,
    /// Conductive solid phase (a scaffold); absent for an electronically insulating layer.
    #[serde(default)]
    pub solid: Option<SolidPhase>,
}

impl CoatingLayer {
    /// Effective transport factor D_eff / D (= kappa_eff / kappa) at depth fraction `s`.
    pub fn transport_factor(&self, s: f64) -> f64 {
        let eps = self.porosity.at(s);
        match &self.tortuosity {
            Some(tau) => eps / tau.at(s),
            None => eps.powf(self.bruggeman_exponent),
        }
    }
}

/// Shape of a coating layer's top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LayerShape {
    Conformal,
    Planar,
}

/// Names of the mesh file's physical surfaces for each boundary role.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BoundaryGroups {
    /// Physical surfaces of the zinc electrode.
    pub electrode: Vec<String>,
    /// Physical surfaces held at the bulk state (the far boundary).
    pub bulk: Vec<String>,
    /// Physical surfaces with zero flux (walls, symmetry planes).
    pub insulating: Vec<String>,
}

/// Names of the mesh file's physical volumes for each region role.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RegionGroups {
    /// Physical volumes filled with electrolyte.
    pub electrolyte: Vec<String>,
}

impl Geometry {
    /// The mesh file resolved against the scene file's directory, for the imported form.
    pub fn mesh_path(&self, source_dir: Option<&Path>) -> Option<PathBuf> {
        self.mesh_file.as_ref().map(|f| source_dir.map_or_else(|| PathBuf::from(f), |d| d.join(f)))
    }

    /// Every protrusion: the listed ones, then the arrays, then the rough surface, each with the
    /// scene key it comes from (for messages).
    pub fn all_protrusions(&self) -> Vec<(String, Protrusion)> {
        let mut out: Vec<(String, Protrusion)> =
            self.protrusions.iter().enumerate().map(|(i, p)| (format!("geometry.protrusions.{i}"), p.clone())).collect();
        for (k, a) in self.arrays.iter().enumerate() {
            out.extend(a.expand().into_iter().map(|(ij, p)| (format!("geometry.arrays.{k} (element {ij})"), p)));
        }
        if let Some(r) = &self.rough_surface {
            out.extend(
                r.expand(self.half_width_m)
                    .into_iter()
                    .enumerate()
                    .map(|(n, p)| (format!("geometry.rough_surface (protrusion {n})"), p)),
            );
        }
        out
    }
}

/// Which equations to solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Laplace for the electrolyte potential with an equipotential electrode (no kinetics).
    Primary,
    /// Laplace with Butler–Volmer kinetics at the electrode.
    Secondary,
    /// Nernst–Planck for every species with electroneutrality and concentration-dependent
    /// Butler–Volmer kinetics (mass transport and migration; the default for micrometre cells).
    Tertiary,
    /// Nernst–Planck for every species with Poisson for the potential (double layers; only
    /// meaningful where the mesh resolves the Debye length). The electrode is blocking or
    /// reacting through a Stern layer: `physics.pnp_electrode`.
    Pnp,
}

impl Model {
    /// Whether the model carries concentrations (Nernst–Planck: tertiary and pnp); the others
    /// solve for the potential alone.
    pub fn has_transport(self) -> bool {
        matches!(self, Model::Tertiary | Model::Pnp)
    }

    /// Whether the electrode reacts by Butler–Volmer kinetics: secondary, tertiary, and pnp with
    /// a reacting electrode.
    pub fn has_kinetics(self, pnp_electrode: PnpElectrode) -> bool {
        match self {
            Model::Primary => false,
            Model::Secondary | Model::Tertiary => true,
            Model::Pnp => pnp_electrode == PnpElectrode::Reacting,
        }
    }
}

/// The electrode of the pnp model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PnpElectrode {
    /// Ideally polarizable: no reaction, the electrolyte potential on it is the electrode
    /// potential (no Stern layer). For equilibrium double layers (Gouy–Chapman).
    #[default]
    Blocking,
    /// Frumkin–Butler–Volmer: the electrode surface is the reaction plane, separated from the
    /// metal by a Stern layer of capacitance `physics.stern_capacitance_F_m2`; Butler–Volmer with
    /// the concentration and potential at that plane.
    Reacting,
}

/// Electrolyte and kinetic parameters.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Physics {
    pub model: Model,
    /// Measured ionic conductivity of the electrolyte, S/m. Potential models: the conductivity
    /// (absent: 5 S/m, measured for 2 M ZnSO4 at 25 C). Transport models: absent, the
    /// Nernst–Einstein conductivity of the species as given (53 S/m for the default 2 M ZnSO4 with
    /// infinite-dilution diffusivities: ion pairing makes the real value ~10x lower); stated, every
    /// species diffusivity is scaled by one factor so that the model's conductivity equals it
    /// (transference numbers unchanged). summary.json `electrolyte` reports what was used.
    #[serde(rename = "conductivity_S_m")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub conductivity_s_m: Option<f64>,
    /// Measured cation transference number of a binary electrolyte (transport models, two
    /// species), in (0, 1): the two diffusivities are set so that it and the conductivity (stated,
    /// else Nernst–Einstein of the given species) hold. Absent: from the diffusivities.
    #[schemars(extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    pub cation_transference_number: Option<f64>,
    /// Temperature, K.
    #[serde(rename = "temperature_K")]
    #[schemars(range(min = 200.0, max = 500.0))]
    pub temperature_k: f64,
    pub kinetics: Kinetics,
    /// Dissolved species (tertiary and pnp models). The reacting species is named in the
    /// kinetics; with electroneutrality the last species is eliminated, so it must be the only
    /// one of its sign. At most 16; names without control characters or any of " < > & , / \\.
    pub species: Vec<Species>,
    /// Relative permittivity of the electrolyte (pnp model); 78.5 for water at 25 C.
    #[schemars(range(min = 1.0, max = 200.0))]
    pub relative_permittivity: f64,
    /// The pnp electrode: "blocking" (default) or "reacting".
    pub pnp_electrode: PnpElectrode,
    /// Stern (compact) layer capacitance of a reacting pnp electrode, F/m^2. Default 0.2 F/m^2
    /// (20 uF/cm^2, the usual order of the inner-layer capacitance of metals in aqueous
    /// electrolytes, e.g. Bard & Faulkner, Electrochemical Methods, ch. 13).
    #[serde(rename = "stern_capacitance_F_m2")]
    #[schemars(range(min = 1e-3, max = 10.0))]
    pub stern_capacitance_f_m2: f64,
}

impl Physics {
    /// Index of `kinetics.reacting_species` among the species (0 when it names none: the
    /// scene's checks refuse that for the transport models).
    pub fn reacting_species_index(&self) -> usize {
        self.species.iter().position(|x| x.name == self.kinetics.reacting_species).unwrap_or(0)
    }
}

impl Default for Physics {
    fn default() -> Self {
        Physics {
            model: Model::Secondary,
            conductivity_s_m: None,
            cation_transference_number: None,
            temperature_k: 298.15,
            kinetics: Kinetics::default(),
            species: Species::zinc_sulfate(2000.0),
            relative_permittivity: 78.5,
            pnp_electrode: PnpElectrode::Blocking,
            stern_capacitance_f_m2: 0.2,
        }
    }
}

/// A species name as every output spells it (file names, VTU arrays, CSV columns): `Zn2+` ->
/// `Zn2p`, `SO4 2-` -> `SO4_2m`: letters, digits and `_` only, so that it is also a valid
/// variable in ParaView's calculator once prefixed (`c_Zn2p_mol_m3`).
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '+' => 'p',
            '-' => 'm',
            c if c.is_ascii_alphanumeric() => c,
            _ => '_',
        })
        .collect()
}

/// A dissolved species: charge number, diffusivity and bulk concentration (SI).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Species {
    /// Name used in outputs, e.g. "Zn2+".
    pub name: String,
    /// Charge number z (2 for Zn2+, -2 for SO4 2-).
    pub charge: i32,
    /// Diffusivity, m^2/s.
    #[serde(rename = "diffusivity_m2_s")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub diffusivity_m2_s: f64,
    /// Concentration at the bulk boundary, mol/m^3 (1000 = 1 M).
    #[serde(rename = "bulk_concentration_mol_m3")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub bulk_concentration_mol_m3: f64,
}

impl Species {
    /// ZnSO4 at `c` mol/m^3 (2000 = 2 M). Diffusivities at infinite dilution, 25 C (CRC Handbook
    /// of Chemistry and Physics, "Ionic conductivity and diffusion at infinite dilution"):
    /// D(Zn2+) = 7.03e-10 m^2/s, D(SO4 2-) = 1.065e-9 m^2/s. At 2 M the real values are lower
    /// (ion pairing): scenes may override them.
    pub fn zinc_sulfate(c: f64) -> Vec<Species> {
        vec![
            Species { name: "Zn2+".into(), charge: 2, diffusivity_m2_s: 7.03e-10, bulk_concentration_mol_m3: c },
            Species { name: "SO4 2-".into(), charge: -2, diffusivity_m2_s: 1.065e-9, bulk_concentration_mol_m3: c },
        ]
    }
}

/// Butler–Volmer kinetics of Zn2+ + 2e- <-> Zn:
/// `i = i0 [exp(alpha_a n F eta / RT) - exp(-alpha_c n F eta / RT)]`, anodic positive,
/// `eta = phi_s - phi - E_eq`. With `linearized` the exponentials are replaced by their slope at
/// eta = 0: `i = i0 (alpha_a + alpha_c) n F eta / RT`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Kinetics {
    /// Exchange current density i0, A/m^2 (10 A/m^2 = 1 mA/cm^2).
    #[serde(rename = "exchange_current_density_A_m2")]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub exchange_current_density_a_m2: f64,
    /// Anodic transfer coefficient (dimensionless, 0..1).
    #[schemars(range(min = 1e-3, max = 1.0))]
    pub alpha_a: f64,
    /// Cathodic transfer coefficient (dimensionless, 0..1).
    #[schemars(range(min = 1e-3, max = 1.0))]
    pub alpha_c: f64,
    /// Electrons transferred, n (2 for zinc).
    #[schemars(range(min = 1, max = 8))]
    pub electrons: u32,
    /// Use the linear (small-overpotential) form of Butler–Volmer.
    pub linearized: bool,
    /// Species reduced at the electrode (tertiary model); its charge must equal `electrons`.
    pub reacting_species: String,
    /// Reaction order gamma of the cathodic term in the reacting species' surface concentration:
    /// `(c_s / c_bulk)^gamma exp(-alpha_c n F eta / RT)` (tertiary model).
    #[schemars(range(min = 0.0, max = 4.0))]
    pub cathodic_reaction_order: f64,
}

impl Default for Kinetics {
    fn default() -> Self {
        Kinetics {
            exchange_current_density_a_m2: 10.0,
            alpha_a: 0.5,
            alpha_c: 0.5,
            electrons: 2,
            linearized: false,
            reacting_species: "Zn2+".into(),
            cathodic_reaction_order: 1.0,
        }
    }
}

/// How the cell is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationMode {
    /// Fixed electrode potential vs a zinc reference in the bulk electrolyte.
    Potential,
    /// Fixed mean current density over the projected electrode area; the electrode potential is
    /// the global unknown fixed by the total current.
    Current,
}

/// Operating point. Sign convention throughout: anodic positive, so zinc plating is a negative
/// current density and a negative electrode potential.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Operation {
    pub mode: OperationMode,
    /// Electrode potential vs a Zn/Zn2+ reference at the bulk boundary, V (mode `potential`).
    #[serde(rename = "electrode_potential_V")]
    #[schemars(range(min = -5.0, max = 5.0))]
    pub electrode_potential_v: Option<f64>,
    /// Total current / projected electrode area, A/m^2 (mode `current`); -100 A/m^2 = 10 mA/cm^2
    /// plating.
    #[serde(rename = "mean_current_density_A_m2")]
    #[schemars(range(min = -1e5, max = 1e5))]
    pub mean_current_density_a_m2: Option<f64>,
    /// Time dependence of the applied value (transient runs); constant when absent.
    pub waveform: Option<Waveform>,
}

impl Default for Operation {
    fn default() -> Self {
        Operation {
            mode: OperationMode::Current,
            electrode_potential_v: None,
            mean_current_density_a_m2: Some(-100.0),
            waveform: None,
        }
    }
}

/// Mesh size controls. Sizes are target tetrahedron edge lengths.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MeshControls {
    /// Element size at the protrusions, m. Default: smallest protrusion feature / 10 (or
    /// height / 20 without protrusions).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub size_near_m: Option<f64>,
    /// Element size far from the protrusions, m. Default: height / 8.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub size_far_m: Option<f64>,
    /// Element size on the flat electrode away from the protrusions, m. Default: size_near_m
    /// without protrusions, else 3 x size_near_m (the flat part carries a smooth field).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub size_electrode_m: Option<f64>,
    /// Background mesh: "bisection" (isotropic, graded by conforming bisection; the default) or
    /// "layered" (a tensor lattice fine in z over the whole electrode plane: anisotropic
    /// boundary-layer cells for flat-electrode problems).
    pub generator: MeshGenerator,
    /// Growth ratio of neighbouring element sizes away from the protrusions (> 1) at refine = 1:
    /// the target size grows by (grading - 1) per unit distance from the solids, the plane and
    /// the layer tops (a quarter of that within one footprint radius of the smallest protrusion).
    #[schemars(range(min = 1.01, max = 3.0))]
    pub grading: f64,
    /// Global refinement factor, a uniform refinement: the whole size function is divided by it
    /// (every target size and the growth per unit distance, grading - 1), so refine = 2 halves
    /// every element, near the protrusions and in the graded zone alike, and errors fall at the
    /// scheme's order under it.
    #[schemars(range(min = 0.1, max = 16.0))]
    pub refine: f64,
    /// Boxes where the element size may not exceed their `size_m` (at most 64).
    pub refine_boxes: Vec<RefineBox>,
}

/// A user refinement box: element size at most `size_m` (m) inside `[min_m, max_m]` (m).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefineBox {
    /// Lower corner [x, y, z], m.
    pub min_m: [f64; 3],
    /// Upper corner [x, y, z], m.
    pub max_m: [f64; 3],
    /// Largest element size inside, m.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub size_m: f64,
}

impl Default for MeshControls {
    fn default() -> Self {
        MeshControls {
            size_near_m: None,
            size_far_m: None,
            size_electrode_m: None,
            generator: MeshGenerator::Bisection,
            grading: 1.25,
            refine: 1.0,
            refine_boxes: Vec::new(),
        }
    }
}

/// Implicit time stepping (BDF2 with error control) from the bulk state at t = 0, s.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeControls {
    /// End time, s.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub end_s: f64,
    /// First step, s (default end_s / 1e4).
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub initial_step_s: Option<f64>,
    /// Largest step, s (default end_s / 20); at least end_s / 100000 (a run takes at most
    /// 100000 steps).
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub max_step_s: Option<f64>,
    /// Time-stepping error tolerance on concentrations, relative to each species' bulk
    /// concentration: a step of length h ending a time t after the start (or the drive's last
    /// jump) may commit rtol h / t, so the error at the end of a run is of the order of rtol
    /// (1-2 rtol measured on a decaying diffusion mode) and falls in proportion to it.
    #[serde(default = "default_time_rtol")]
    #[schemars(range(min = 1e-8, max = 0.5))]
    pub rtol: f64,
    /// Times at which fields are written (fields_NNNN.vtu in a fields.pvd series), s; at most
    /// 1000, increasing.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub output_times_s: Vec<f64>,
    /// Stop when the reacting species' surface concentration falls below this fraction of its
    /// bulk value (under constant current: the Sand time).
    #[serde(default = "default_depletion")]
    #[schemars(range(min = 0.0, max = 0.9))]
    pub stop_at_depletion: f64,
    /// Wall-clock seconds between checkpoints of `znfield run` (checkpoint.json in the output
    /// directory, for `znfield run --resume DIR`); 0 writes one as often as possible. A
    /// checkpoint is written at the first preconditioner rebuild (see
    /// `preconditioner_reuse_steps`) after the interval, where a resumed run repeats the
    /// uninterrupted one exactly. Overridden by `--checkpoint-every`.
    #[serde(default = "default_checkpoint_interval")]
    #[schemars(range(min = 0.0, max = 1e6))]
    pub checkpoint_wall_interval_s: f64,
    /// Accepted time steps over which the transport models' multigrid hierarchy (and the device
    /// copy of it) is kept before it is rebuilt from the current Jacobian; it is rebuilt sooner
    /// when its iterations double. 1 rebuilds it every step.
    #[serde(default = "default_preconditioner_reuse_steps")]
    #[schemars(range(min = 1, max = 1000))]
    pub preconditioner_reuse_steps: u32,
}

fn default_preconditioner_reuse_steps() -> u32 {
    PRECONDITIONER_REUSE_STEPS
}

/// Default of `time.preconditioner_reuse_steps` (see docs/performance.md for the measurement).
pub const PRECONDITIONER_REUSE_STEPS: u32 = 3;

fn default_checkpoint_interval() -> f64 {
    600.0
}

fn default_time_rtol() -> f64 {
    1e-3
}

fn default_depletion() -> f64 {
    1e-3
}

/// Solver tolerances.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SolverControls {
    /// Relative residual reduction for each linear solve (f64 residual).
    #[schemars(range(min = 1e-14, max = 1e-2))]
    pub linear_rtol: f64,
    /// Iteration cap for each linear solve.
    #[schemars(range(min = 1, max = 1000000))]
    pub linear_max_iterations: u32,
    /// Newton stops when the largest update of any unknown is below this (potentials in thermal
    /// voltages; log-concentrations for the transport models), or one iteration earlier when,
    /// after two full steps in the quadratic regime, the next update is predicted below it
    /// (every nonlinear model).
    #[schemars(range(min = 1e-14, max = 1e-1))]
    pub newton_tol_thermal_voltages: f64,
    /// Newton iteration cap.
    #[schemars(range(min = 1, max = 10000))]
    pub newton_max_iterations: u32,
    /// Preconditioner: "amg" (smoothed-aggregation multigrid, iteration counts nearly flat under
    /// refinement: the potential models' CG, and with node-block aggregation the transport
    /// models' GMRES (CPU) and BiCGStab (GPU)) or "jacobi" (Jacobi CG; for transport ILU(0) GMRES
    /// on the CPU, block-Jacobi BiCGStab on the GPU). Small transport systems use an exact banded
    /// LU on the CPU either way.
    pub preconditioner: Preconditioner,
    /// Where the transport models' Newton starts: "donnan" (default: bulk concentrations, and in
    /// charged layers the Donnan equilibrium with the bulk, exact at zero current) or "bulk"
    /// (bulk concentrations and phi = 0 everywhere: for checks that must not start at the
    /// answer, or to compare convergence).
    pub initial_state: InitialState,
    /// The transport models' edge weights: "p1" (default: the P1 stiffness's, negative at
    /// obtuse elements, 10-25% of the edges of cut and Gmsh meshes) or "circumcentric" (the
    /// Voronoi-box weights |dual face| / |edge| with circumcentric control volumes, non-negative at
    /// the interior edges of a Delaunay mesh: an M-matrix there; the built-in mesher then flips its
    /// mesh toward Delaunay). Experimental: on Gmsh's Delaunay meshes under 1% of the weights stay
    /// negative, but at the built-in mesher's cut curved surfaces the dual cells of some nodes are
    /// negative (the mesh is not Delaunay with respect to its boundary), which leaves local spikes
    /// there (README, "Negative edge weights").
    pub transport_weights: TransportWeights,
}

/// The transport models' edge weights (see [`SolverControls::transport_weights`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransportWeights {
    #[default]
    P1,
    Circumcentric,
}

impl TransportWeights {
    /// Whether a scene of `model` with these weights uses the circumcentric scheme.
    pub fn circumcentric_for(self, model: Model) -> bool {
        self == TransportWeights::Circumcentric && model.has_transport()
    }
}

/// The transport models' starting state (see [`SolverControls::initial_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InitialState {
    #[default]
    Donnan,
    Bulk,
}

/// Which background mesh the built-in generator cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MeshGenerator {
    /// Isotropic: Kuhn cubes refined by conforming bisection, graded with distance to the
    /// protrusions and to the electrode plane. Dihedral angles stay those of the Kuhn family
    /// away from the surface whatever the grading.
    #[default]
    Bisection,
    /// Layered tensor lattice: anisotropic cells, fine in z over the whole electrode plane.
    Layered,
}

/// The scene's choice of preconditioner (mapped to the solvers' own in `run::setup`, so the
/// scene format does not depend on solver internals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Preconditioner {
    /// Diagonal scaling: cheap per iteration, iterations grow like 1/h under refinement.
    Jacobi,
    /// Smoothed-aggregation algebraic multigrid, one V-cycle per iteration: iteration counts
    /// nearly independent of the mesh.
    #[default]
    Amg,
}

impl Default for SolverControls {
    fn default() -> Self {
        SolverControls {
            linear_rtol: 1e-9,
            linear_max_iterations: 20_000,
            newton_tol_thermal_voltages: 1e-8,
            newton_max_iterations: 60,
            preconditioner: Preconditioner::Amg,
            initial_state: InitialState::Donnan,
            transport_weights: TransportWeights::P1,
        }
    }
}

/// A coordinate axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    X,
    Y,
    Z,
}

impl Axis {
    /// 0, 1, 2 for x, y, z.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        ["x", "y", "z"][self.index()]
    }
}

impl Scene {
    /// Reads, parses, applies `--set` overrides and validates a scene file.
    pub fn load(path: &Path, sets: &[String]) -> Result<Scene> {
        let text = crate::input::read_text(path, "scene", crate::input::MAX_SCENE_BYTES, "")?;
        let mut scene = Scene::parse(&text, &path.display().to_string(), sets)?;
        scene.source_dir = Some(path.parent().map(Path::to_path_buf).unwrap_or_default());
        Ok(scene)
    }

    /// The built-in default scene with `--set` overrides applied.
    pub fn builtin_default(sets: &[String]) -> Result<Scene> {
        Scene::parse(DEFAULT_SCENE_JSON, "<built-in default scene>", sets)
    }

    /// Parses scene JSON text; `origin` names the source in messages.
    pub fn parse(text: &str, origin: &str, sets: &[String]) -> Result<Scene> {
        let mut de = serde_json::Deserializer::from_str(text);
        let scene: Scene = serde_path_to_error::deserialize(&mut de).map_err(|e| describe_error(origin, &e, true))?;
        de.end().map_err(|e| describe_trailing(origin, &e))?;
        let scene = if sets.is_empty() { scene } else { overrides::apply(scene, origin, sets)? };
        checks::check(&scene).map_err(|msg| Error::input(format!("{origin}: {msg}")))?;
        Ok(scene)
    }
}

/// The error for text after a complete JSON value (a second object, stray characters).
pub(crate) fn describe_trailing(origin: &str, e: &serde_json::Error) -> Error {
    Error::input(format!(
        "{origin}: unexpected text after the end of the JSON object (line {}, column {}); a file holds one object",
        e.line(),
        e.column()
    ))
}

/// Formats a deserialisation error as `origin: key `path`: message (line L, column C)`, with the
/// path in the dotted form `--set` accepts (`geometry.protrusions.0.radius_m`). The location is
/// given only for text the user wrote (`with_location`).
pub(crate) fn describe_error(origin: &str, e: &serde_path_to_error::Error<serde_json::Error>, with_location: bool) -> Error {
    let path = e.path().to_string().replace('[', ".").replace(']', "");
    let inner = e.inner();
    let location = if with_location && inner.line() > 0 {
        format!(" (line {}, column {})", inner.line(), inner.column())
    } else {
        String::new()
    };
    // serde_json appends " at line L column C" to its own message; we report location separately.
    let msg = inner.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    let at = if path == "." || path.is_empty() { String::new() } else { format!("key `{path}`: ") };
    Error::input(format!("{origin}: {at}{msg}{location}"))
}
