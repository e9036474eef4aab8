//! summary.json: the machine-readable record of a run (SI units). Written last, and only when
//! the run succeeded, so its presence means the run completed.

use std::collections::BTreeMap;

use serde::Serialize;

use super::metrics::ElectrodeMetrics;
use crate::backend::BackendInfo;
use crate::physics::electrolyte::{Electrolyte, PropertiesFrom};
use crate::scene::Scene;

/// Top-level summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Legal but suspicious settings and workarounds the solver took (also printed on stderr);
    /// absent when there were none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The scene as run, with defaults and `--set` overrides applied.
    pub scene: Scene,
    pub backend: BackendInfo,
    pub mesh: MeshSummary,
    pub solver: SolverSummary,
    /// Where this process's wall time went, stage by stage.
    pub timings_s: StageTimings,
    pub electrode: ElectrodeMetrics,
    pub electrolyte: ElectrolyteSummary,
    /// Dimensionless groups (secondary model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensionless: Option<Dimensionless>,
    /// Deposition by depth and transport through a coating or scaffold (see
    /// [`super::coating`]); absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coating: Option<super::coating::CoatingSummary>,
    /// Time stepping record (transient runs); the electrode and electrolyte blocks describe the
    /// final state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transient: Option<TransientSummary>,
    /// Deposit growth (growth runs); the other blocks describe the final surface.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<super::growth::GrowthSummary>,
    /// The files the run wrote into its output directory, summary.json last (names relative
    /// to the directory). `--overwrite` removes exactly these before a new run writes there.
    pub files: Vec<String>,
}

/// Wall-clock seconds of a run's stages (this process's; a resumed run's earlier time is in
/// `solver.wall_time_s` only). With the scene's parsing and the summary itself they make up
/// the run's wall time.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageTimings {
    /// Meshing (built-in mesher) or reading and mapping a Gmsh file.
    pub mesh: f64,
    /// Opening the backend (the GPU adapter and its pipelines, on the GPU backend).
    pub backend_open: f64,
    /// The discrete system: P1 stiffness, media, electrode and boundary sets, scaled parameters.
    pub assembly: f64,
    /// Building multigrid hierarchies (on the host), all the solve's rebuilds together.
    pub multigrid_setup: f64,
    /// The model's solve (Newton, linear solves, time stepping), multigrid setup excluded.
    pub solve: f64,
    /// Fields and metrics in SI units (surface recovery included).
    pub postprocess: f64,
    /// Writing fields.vtu, electrode.vtu, the maps and the series (absent for a run kept in
    /// memory); summary.json itself is written after it is measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write: Option<f64>,
}

/// What the time stepper did.
#[derive(Debug, Clone, Serialize)]
pub struct TransientSummary {
    pub steps: u32,
    pub rejected_steps: u32,
    pub end_time_s: f64,
    /// "end_time", or "depletion" when the reacting species ran out at the surface (Sand time).
    pub stopped_by: &'static str,
    /// For a run continued with `--resume`: the step of the checkpoint it continued from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_after_step: Option<u32>,
}

/// Dimensionless groups of the kinetic problem.
#[derive(Debug, Clone, Serialize)]
pub struct Dimensionless {
    /// Wagner number kappa R_ct / L (kinetic models; kappa from Nernst–Einstein for the transport
    /// models) with R_ct = RT / (n F i0 (alpha_a + alpha_c)) (linear
    /// kinetics): >> 1 means kinetics dominate and the current is uniform, << 1 means the
    /// primary (geometric) distribution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wagner: Option<f64>,
    /// The same with the charge-transfer resistance d(eta)/di at the mean electrode
    /// overpotential (Tafel regime: smaller than `wagner`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wagner_operating_point: Option<f64>,
    /// L: the smallest protrusion feature (or the cell height without protrusions), m.
    #[serde(rename = "length_scale_m")]
    pub length_scale: f64,
    /// Debye length of the bulk electrolyte, sqrt(eps RT / (F^2 sum z_i^2 c_i)), m (transport models).
    #[serde(rename = "debye_length_m", skip_serializing_if = "Option::is_none")]
    pub debye_length: Option<f64>,
    /// Debye length / the first element layer's thickness normal to the electrode (the largest
    /// height, over its electrode face, of a tetrahedron standing on the electrode): below ~2 a
    /// pnp mesh does not resolve the double layer somewhere on the electrode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debye_resolution: Option<f64>,
    /// Planar limiting current density across the cell height, A/m^2 (tertiary): binary-salt
    /// formula for two species, n F D c / delta with supporting electrolyte.
    #[serde(rename = "limiting_current_density_A_m2", skip_serializing_if = "Option::is_none")]
    pub limiting_current_density: Option<f64>,
    /// |total current| / projected area / limiting current density (tertiary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_over_limiting: Option<f64>,
    /// Damkohler number i0 / i_lim: kinetic against transport rate (tertiary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damkohler: Option<f64>,
}

/// Mesh size and quality.
#[derive(Debug, Clone, Serialize)]
pub struct MeshSummary {
    pub nodes: usize,
    pub tets: usize,
    pub electrode_faces: usize,
    pub min_dihedral_deg: f64,
    pub max_dihedral_deg: f64,
    pub max_aspect_ratio: f64,
    /// Target element sizes used by the built-in mesher (null for imported meshes), m.
    pub size_near_m: Option<f64>,
    pub size_far_m: Option<f64>,
    /// Meshed electrolyte volume and the exact value (null when not known in closed form), m^3.
    pub volume_m3: f64,
    pub exact_volume_m3: Option<f64>,
    /// Edges of the run's stiffness (with the coating layers' transport factors) whose P1
    /// weight is negative (obtuse elements).
    pub negative_edge_weights: crate::fem::edges::NegativeWeights,
    /// Transport models: the edges whose weight in their edge fluxes (P1, or circumcentric with
    /// `solver.transport_weights`) is negative: where those fluxes have no discrete maximum
    /// principle (null for the potential models).
    pub negative_transport_weights: Option<crate::fem::edges::NegativeWeights>,
    /// With `solver.transport_weights = "circumcentric"`: the nodes whose circumcentric dual cell
    /// is below a tenth of their barycentric share of the volume, whose balances take barycentric
    /// volumes, not consistent with their fluxes (null with the P1 weights and for the potential
    /// models).
    pub small_transport_dual_cells: Option<usize>,
}

/// Solver record.
#[derive(Debug, Clone, Serialize)]
pub struct SolverSummary {
    pub converged: bool,
    pub linear_iterations: u32,
    pub nonlinear_iterations: u32,
    /// Newton residual norms (scaled units), one per iteration; empty for linear models.
    pub residual_history: Vec<f64>,
    /// Steps of continuation in the drive a steady transport solve needed when Newton could not
    /// finish from the bulk state (absent when it could).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_steps: Option<u32>,
    /// What preconditioned the linear solves: "amg" (smoothed-aggregation multigrid CG, on
    /// either backend) or "jacobi" (CG) for the potential models; "block-amg-gmres" or
    /// "ilu0-gmres" (CPU; an exact banded LU for small systems) or "block-amg-bicgstab" or
    /// "block-jacobi-bicgstab" (GPU) for the transport models.
    pub preconditioner: String,
    /// Multigrid hierarchies built (setups): for the potential models one per matrix pattern
    /// while the kept one converges; for the transport models one per Newton solve (steady) or
    /// per `time.preconditioner_reuse_steps` time steps, plus rebuilds where a kept one's
    /// iterations doubled. Absent without multigrid; for a resumed run, the builds after the
    /// checkpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multigrid_setups: Option<u64>,
    /// GPU backend: the device memory the largest solve's buffers took, bytes, and per mesh
    /// node (all unknowns of the node together); for a run resumed with `--resume`, of the
    /// solves after the checkpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_memory_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_bytes_per_node: Option<f64>,
    /// GPU backend: what ran where, and what crossed between host and device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceSummary>,
    pub wall_time_s: f64,
}

/// The GPU backend's split of the work between host and device (issue "The whole coupled
/// Newton on the GPU": its structural figures, measurable on any adapter).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceSummary {
    /// Bytes written to the device over the run: matrices, multigrid levels, right-hand sides,
    /// iterates.
    pub host_to_device_bytes: u64,
    /// Bytes read back: solutions, residuals and Krylov corrections (O(unknowns) per Newton
    /// iteration), and the Jacobians of `jacobian_read_backs`.
    pub device_to_host_bytes: u64,
    /// Device-assembled transport Jacobians read back to the host: for a host multigrid setup
    /// (the first solve of a pattern, and a rebuild once a kept hierarchy's iterations double),
    /// a solve handed to the host's solver, or every solve where the device cannot keep the
    /// defect correction (no SHADER_F64, or f64 vectors over a storage binding) or block
    /// Jacobi's inverses (a matrix split across bindings). Every other Newton iteration's
    /// Jacobian stays on the device, where the BiCGStab solves with it.
    pub jacobian_read_backs: u64,
    /// Newton iterations whose update and convergence test ran on the host (every one, today:
    /// the device solves the linear systems).
    pub host_newton_iterations: u32,
    /// Linear solves handed from the device to the host's solver (the pnp model's Poisson rows).
    pub host_linear_solves: u32,
    /// Linear solves whose multigrid levels the device recomputed from the new Jacobian (R (A P)
    /// over the prolongator and restriction kept from the last setup, and the smoothers' inverse
    /// blocks; the coarsest dense inverse and omega kept) instead of reusing the levels of the
    /// Jacobian the hierarchy was built from: once a solve took more than 1.5 times (plus one)
    /// the iterations of the first with them.
    pub multigrid_device_updates: u64,
    /// Seconds the host waited for the device to finish its work (kernels and copies; every
    /// wait is a read-back): about the device's share of the run. On a software adapter the
    /// "device" runs on the same cores.
    pub device_wait_s: f64,
    /// The wall time of assembly, multigrid setup and solve (`timings_s`) less that wait: the
    /// host's share of them (host assembly, multigrid setup, Newton updates), s.
    pub host_solve_s: f64,
}

/// Electrolyte fields.
#[derive(Debug, Clone, Serialize)]
pub struct ElectrolyteSummary {
    /// Largest electric field magnitude over the elements, V/m; in the tertiary model with a
    /// charged layer, over the elements away from its interfaces (see `max_field_at_charge_interfaces`).
    #[serde(rename = "max_field_V_m")]
    pub max_field: f64,
    /// Tertiary model with a charged layer: the largest field in the elements whose nodes carry
    /// different fixed charges, where the electroneutral model's Donnan potential jumps within
    /// one or two cells (a field that grows as 1/h under refinement, not a physical value), V/m.
    #[serde(rename = "max_field_at_charge_interfaces_V_m", skip_serializing_if = "Option::is_none")]
    pub max_field_at_charge_interfaces: Option<f64>,
    /// Bulk ionic conductivity the model used, S/m (transport models: Nernst–Einstein of the
    /// diffusivities used).
    #[serde(rename = "conductivity_S_m")]
    pub conductivity: f64,
    /// Where the properties come from: `stated_conductivity`, `default_conductivity` (potential
    /// models), `nernst_einstein` (transport models, species as given) or `scaled_diffusivities`
    /// (transport models, scaled to a stated conductivity or transference number).
    pub properties_from: PropertiesFrom,
    /// Cation transference number the model used (binary electrolytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cation_transference_number: Option<f64>,
    /// Salt (ambipolar) diffusivity the model used, m^2/s (binary electrolytes).
    #[serde(rename = "salt_diffusivity_m2_s", skip_serializing_if = "Option::is_none")]
    pub salt_diffusivity: Option<f64>,
    /// Diffusivity of each species the model used, m^2/s (transport models).
    #[serde(rename = "diffusivities_m2_s", skip_serializing_if = "Option::is_none")]
    pub diffusivities: Option<BTreeMap<String, f64>>,
    /// Smallest concentration of each species, mol/m^3 (transport models).
    #[serde(rename = "min_concentration_mol_m3", skip_serializing_if = "Option::is_none")]
    pub min_concentration: Option<BTreeMap<String, MinConcentration>>,
}

impl ElectrolyteSummary {
    /// The record of `electrolyte`, with the run's largest field (V/m) and smallest
    /// concentrations.
    pub fn new(
        electrolyte: &Electrolyte,
        max_field: FieldMaxima,
        min_concentration: Option<BTreeMap<String, MinConcentration>>,
    ) -> Self {
        let transport = !electrolyte.species.is_empty();
        ElectrolyteSummary {
            max_field: max_field.away,
            max_field_at_charge_interfaces: max_field.at_charge_interfaces,
            conductivity: electrolyte.conductivity_s_m,
            properties_from: electrolyte.from,
            cation_transference_number: electrolyte.binary.map(|(t, _)| t),
            salt_diffusivity: electrolyte.binary.map(|(_, d)| d),
            diffusivities: transport.then(|| electrolyte.species.iter().map(|x| (x.name.clone(), x.diffusivity_m2_s)).collect()),
            min_concentration,
        }
    }
}

/// The largest field magnitudes, V/m: away from the charge interfaces of an electroneutral model
/// (everywhere when it has none), and at them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldMaxima {
    pub away: f64,
    pub at_charge_interfaces: Option<f64>,
}

/// Smallest concentration of one species on the electrode surface and over the domain, mol/m^3.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MinConcentration {
    pub electrode: f64,
    pub domain: f64,
}
