//! The main job as named stages, in order:
//!
//! 1. [`domain`]: geometry and mesh from the scene (built-in mesher or Gmsh import);
//! 2. discretize: the model-independent discrete system (P1 stiffness, media, electrode and
//!    boundary sets) on the mesh ([`PotentialSystem`]);
//! 3. [`setup`]: every scene value converted into the solver's scaled parameters, in one place;
//! 4. [`solve_model`]: the model's solve on the backend (potential, steady or transient transport);
//! 5. [`postprocess`]: fields and metrics in SI units;
//! 6. [`summarize`]: dimensionless groups, warnings and summary.json.
//!
//! Exports (VTU, PNG maps, JSON) are written by [`write_outputs`]. Data flows one way: no stage
//! reaches back into an earlier one.

use std::time::Instant;

use crate::backend::{self, Backend, BackendChoice, BackendKind};
use crate::error::{Error, Result};
use crate::fem::dual::ControlVolumes;
use crate::mesh::TetMesh;
use crate::output::metrics::Fields;
use crate::output::summary::{StageTimings, Summary};
use crate::physics::porous::Media;
use crate::progress;
use crate::scene::Scene;
use crate::solve::system::PotentialSystem;

pub mod checkpoint;
pub mod diagnostics;
pub mod domain;
pub mod postprocess;
pub mod resources;
pub mod setup;
pub mod solve_model;
pub mod summarize;
mod write;
pub use crate::mesh::Domain;
pub use domain::{build_domain, imported_domain, length_scale, scene_warnings, size_field};
pub use write::{electrode_vtu, fields_vtu, run_maps, run_views, write_mesh, write_outputs, write_outputs_with};

use checkpoint::{Checkpoint, CheckpointPlan};

/// The files whose presence says what became of a run in its output directory (finished, or
/// failed with diagnostics); a new run into the directory removes them first
/// ([`crate::output::outdir::OutputDir::claim`]).
pub const RUN_MARKERS: [&str; 3] = ["summary.json", diagnostics::REPORT_FILE, diagnostics::ITERATE_FILE];

/// How a run keeps its progress: where to write checkpoints (transient runs), and a checkpoint
/// to continue from.
#[derive(Default)]
pub struct RunOptions {
    pub checkpoints: Option<CheckpointPlan>,
    pub resume: Option<Checkpoint<'static>>,
    /// Where a solve that does not converge writes its diagnostics ([`diagnostics`]).
    pub diagnostics: Option<std::path::PathBuf>,
    /// The media of the domain's tetrahedra when the caller has them (a growth run's partly
    /// filled pores); None: from the scene's coating layers.
    pub media: Option<Media>,
}

/// Everything a finished run produced, before it is written out.
pub struct RunResult {
    pub summary: Summary,
    pub mesh: TetMesh,
    pub fields: Fields,
    pub electrode_nodes: Vec<u32>,
    /// Material properties of each tetrahedron (coating layers).
    pub media: Media,
    /// Time series and field snapshots of a transient run.
    pub transient: Option<TransientOutput>,
}

/// What a transient run produced, in SI units.
pub struct TransientOutput {
    /// Species names, in the order of `TimeSeriesRow::min_surface`.
    pub species: Vec<String>,
    pub rows: Vec<TimeSeriesRow>,
    /// Fields at the requested output times (s).
    pub snapshots: Vec<(f64, Fields)>,
}

/// One accepted time step.
pub struct TimeSeriesRow {
    pub time_s: f64,
    pub electrode_potential_v: f64,
    /// Smallest concentration of each species on the electrode, mol/m^3.
    pub min_surface: Vec<f64>,
    /// Largest normal current density on the electrode (nodal), A/m^2.
    pub max_current_density: f64,
}

/// What the stages after discretization read: the scene, its scaled setup, the discrete system
/// with its media, and the run's options and start time.
pub struct RunSoFar<'a> {
    pub scene: &'a Scene,
    pub setup: &'a setup::ModelSetup,
    pub mesh: &'a TetMesh,
    pub sys: &'a PotentialSystem,
    pub media: &'a Media,
    pub options: &'a RunOptions,
    /// When the run began.
    pub start: Instant,
}

/// Runs a scene to completion in memory.
pub fn run(scene: &Scene, choice: BackendChoice) -> Result<RunResult> {
    run_with(scene, choice, RunOptions::default())
}

/// Runs a scene to completion in memory, writing checkpoints and resuming as `options` say.
pub fn run_with(scene: &Scene, choice: BackendChoice, options: RunOptions) -> Result<RunResult> {
    let start = Instant::now();
    scene_warnings(scene).iter().for_each(|w| progress::warn(w));
    // 1. Geometry and mesh (built-in or imported).
    progress::stage("meshing");
    let domain = build_domain(scene)?;
    if let Some(ck) = &options.resume {
        ck.check_mesh(&domain.mesh)?;
    }
    run_domain_with(scene, domain, choice, start, &options)
}

/// Runs a scene on an already built domain (stages 2 onward); `start` is when the run began.
pub fn run_domain(scene: &Scene, domain: Domain, choice: BackendChoice, start: Instant) -> Result<RunResult> {
    run_domain_with(scene, domain, choice, start, &RunOptions::default())
}

/// Opens the backend and solves. Under `--backend auto`, a device fault on the GPU (device lost,
/// out of memory, a buffer over the adapter's limits) runs the scene again on the CPU backend,
/// with the reason in summary.json `backend.fallback` and a warning.
fn run_domain_with(
    scene: &Scene,
    domain: Domain,
    choice: BackendChoice,
    start: Instant,
    options: &RunOptions,
) -> Result<RunResult> {
    let mesh_s = start.elapsed().as_secs_f64();
    let opened = Instant::now();
    let backend = backend::open(choice)?;
    let timings = StageTimings { mesh: mesh_s, backend_open: opened.elapsed().as_secs_f64(), ..StageTimings::default() };
    let mut backend = backend;
    if choice != BackendChoice::Auto || backend.kind != BackendKind::Gpu {
        return solve_domain(scene, domain, &mut backend, start, options, timings);
    }
    match solve_domain(scene, domain.clone(), &mut backend, start, options, timings.clone()) {
        Err(Error::Device(reason)) => {
            let warning = format!("the GPU backend failed ({reason}); the run was repeated on the CPU backend");
            progress::warn(&warning);
            let mut result = solve_domain(scene, domain, &mut backend::cpu_fallback(&reason), start, options, timings)?;
            result.summary.warnings.push(warning);
            Ok(result)
        }
        other => other,
    }
}

/// Stages 2 onward of a scene on an already built domain and an open backend (a growth run
/// solves each step's domain on one backend); `start` is when the run began, `mesh_s` the
/// seconds its meshing took, `media` the domain's media when the caller has them.
pub fn run_on_backend(
    scene: &Scene,
    domain: Domain,
    backend: &mut Backend,
    start: Instant,
    mesh_s: f64,
    media: Option<Media>,
) -> Result<RunResult> {
    let timings = StageTimings { mesh: mesh_s, ..StageTimings::default() };
    solve_domain(scene, domain, backend, start, &RunOptions { media, ..RunOptions::default() }, timings)
}

/// Stages 2 onward on an open backend; `timings` holds the stages before it.
fn solve_domain(
    scene: &Scene,
    domain: Domain,
    backend: &mut Backend,
    start: Instant,
    options: &RunOptions,
    mut timings: StageTimings,
) -> Result<RunResult> {
    // 2. The discrete system in scaled units.
    progress::stage("assembling");
    let stage = Instant::now();
    let (sys, media) = discretize(scene, &domain, options.media.clone())?;
    // 3. The model's parameters.
    let projected_area = domain.mesh.projected_area(crate::mesh::BoundaryTag::Electrode);
    let setup = setup::ModelSetup::new(scene, domain.length_scale, projected_area);
    timings.assembly = stage.elapsed().as_secs_f64();
    // 4. Solve on the backend.
    progress::stage("solving");
    let stage = Instant::now();
    let so_far = RunSoFar { scene, setup: &setup, mesh: &domain.mesh, sys: &sys, media: &media, options, start };
    let solved = solve_model::solve(&so_far, backend)?;
    timings.multigrid_setup = backend.solver.multigrid_setup_seconds() + backend.general.multigrid_setup_seconds();
    timings.solve = (stage.elapsed().as_secs_f64() - timings.multigrid_setup).max(0.0);
    // 5. Fields and metrics.
    let stage = Instant::now();
    let post = postprocess::postprocess(&so_far, &solved);
    // 6. Summary.
    let summary = summarize::summarize(summarize::SummaryInputs {
        scene,
        setup: &setup,
        domain: &domain,
        sys: &sys,
        backend,
        solved: &solved,
        post: &post,
        warnings: scene_warnings(scene),
        wall_time_s: start.elapsed().as_secs_f64(),
        timings: StageTimings { postprocess: stage.elapsed().as_secs_f64(), ..timings },
    });
    let postprocess::PostProcessed { mut fields, transient, .. } = post;
    let electrode_nodes = every_electrode_node(&domain.mesh, &sys, &mut fields);
    Ok(RunResult { summary, mesh: domain.mesh, fields, electrode_nodes, media, transient })
}

/// Every node of the electrode's faces, with the electrode fields given there. On periodic
/// sides the solve's electrode set holds one representative of each pair of wall images; the
/// images get their representative's values, so that every electrode face's nodes carry data
/// (the electrode VTU, maps and 3D views draw the faces).
fn every_electrode_node(mesh: &TetMesh, sys: &PotentialSystem, fields: &mut Fields) -> Vec<u32> {
    let Some(rep) = &sys.representative else {
        return sys.electrode.clone();
    };
    let all = crate::fem::boundary_flux::tagged_nodes(mesh, crate::mesh::BoundaryTag::Electrode);
    let mut at = vec![usize::MAX; mesh.nodes.len()];
    for (i, &n) in sys.electrode.iter().enumerate() {
        at[n as usize] = i;
    }
    let spread = |values: &mut Vec<f64>| {
        if values.len() == sys.electrode.len() {
            *values = all.iter().map(|&n| values[at[rep[n as usize] as usize]]).collect();
        }
    };
    spread(&mut fields.electrode_raw);
    spread(&mut fields.electrode_smoothed);
    spread(&mut fields.electrode_overpotential);
    all
}

/// The model-independent discrete system of a domain: the P1 stiffness with the coating layers'
/// media, the electrode, bulk and scaffold sets, periodic sides tied.
fn discretize(scene: &Scene, domain: &Domain, media: Option<Media>) -> Result<(PotentialSystem, Media)> {
    let mesh = &domain.mesh;
    let media = media.unwrap_or_else(|| {
        domain
            .geometry
            .as_ref()
            .map_or_else(|| Media::open(mesh.tets.len()), |g| Media::from_layers(mesh, g, &scene.geometry.layers))
    });
    let scaffold_i0 = scene.geometry.scaffold.as_ref().and_then(|s| s.surface_exchange_current_density_a_m2);
    let electrode_i0 = scene.physics.kinetics.exchange_current_density_a_m2;
    // Circumcentric fluxes balance over their circumcentric dual cells.
    let cv = if scene.solver.transport_weights.circumcentric_for(scene.physics.model) {
        ControlVolumes::Circumcentric
    } else {
        ControlVolumes::Barycentric
    };
    let mut sys = PotentialSystem::with_media(mesh, domain.length_scale, &media, scaffold_i0, electrode_i0, cv);
    if let Some(g) = domain.geometry.as_ref().filter(|g| g.periodic) {
        sys.make_periodic(mesh, g.half_width).map_err(Error::input)?;
    }
    Ok((sys, media))
}
