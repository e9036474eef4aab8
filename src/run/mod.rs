//! The main job as numbered steps: scene -> geometry -> mesh -> discrete system -> backend solve
//! -> metrics -> exports. Nothing downstream reaches back upstream.

use std::time::Instant;

use glam::DVec3;

use crate::backend::{self, BackendChoice};
use crate::error::{Error, Result};
use crate::fem::edges::Edges;
use crate::fem::element::P1Tet;
use crate::geometry::ElectrodeGeometry;
use crate::mesh::SizeField;
use crate::mesh::{self, BoundaryTag, Quality, TetMesh};
use crate::output::coating::{self, CoatingInputs};
use crate::output::metrics::{self, Fields};
use crate::output::summary::{
    Dimensionless, ElectrolyteSummary, MeshSummary, MinConcentration, SolverSummary, Summary, TransientSummary,
};
use crate::physics::constants::{thermal_voltage, FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY};
use crate::physics::kinetics::ButlerVolmer;
use crate::physics::porous::Media;
use crate::physics::scaling::Scaling;
use crate::progress;
use crate::scene::{Model, OperationMode, PnpElectrode, Scene};
use crate::solve::linear::LinearParams;
use crate::solve::primary::{self, Drive};
use crate::solve::secondary::{self, KineticBoundary, NewtonParams};
use crate::solve::system::PotentialSystem;
use crate::solve::tertiary::{self, Closure, TransportParams, TransportSolution};
use crate::solve::transient::{self, NoObserver, StepObserver, Stop, TimeParams};
use crate::solve::PotentialSolution;
use std::collections::BTreeMap;

pub mod checkpoint;
pub mod diagnostics;
pub mod resources;
mod write;
pub use write::{run_maps, write_mesh, write_outputs};

use checkpoint::{Checkpoint, CheckpointPlan, CheckpointWriter};

/// How a run keeps its progress: where to write checkpoints (transient runs), and a checkpoint
/// to continue from.
#[derive(Default)]
pub struct RunOptions {
    pub checkpoints: Option<CheckpointPlan>,
    pub resume: Option<Checkpoint<'static>>,
    /// Where a solve that does not converge writes its diagnostics ([`diagnostics`]).
    pub diagnostics: Option<std::path::PathBuf>,
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

/// Target element sizes for a scene (defaults documented on [`crate::scene::MeshControls`]).
pub fn size_field(scene: &Scene) -> SizeField {
    let g = &scene.geometry;
    let m = &scene.mesh;
    let feature = g.all_protrusions().iter().map(|(_, p)| p.feature_size()).fold(f64::INFINITY, f64::min);
    let near = m.size_near_m.unwrap_or(if feature.is_finite() { feature / 10.0 } else { g.height_m / 20.0 }) / m.refine;
    let far = (m.size_far_m.unwrap_or(g.height_m / 8.0) / m.refine).max(near);
    let plane = match m.size_electrode_m {
        Some(h) => h / m.refine,
        None if feature.is_finite() => 3.0 * near,
        None => near,
    }
    .clamp(near, far);
    let boxes = m.refine_boxes.iter().map(|b| (DVec3::from(b.min_m), DVec3::from(b.max_m), b.size_m / m.refine)).collect();
    // Each layer top at the flat-electrode size, and at most half the thinner of the two layers
    // it separates, so a layer is at least two elements thick at refine = 1.
    let thickness: Vec<f64> = g.layers.iter().map(|l| l.thickness_m).collect();
    let interfaces = (0..thickness.len())
        .map(|k| {
            let above = thickness.get(k + 1).copied().unwrap_or(f64::INFINITY);
            plane.min(0.5 * thickness[k].min(above) / m.refine)
        })
        .collect();
    SizeField {
        near,
        plane,
        far,
        growth: m.grading,
        boxes,
        interfaces,
        curvature_elements: mesh::sizing::CURVATURE_ELEMENTS * m.refine,
        generator: m.generator,
        limit: mesh::TetLimit::default(),
    }
}

/// Length scale of the scaled problem: the smallest protrusion feature, or the cell height.
pub fn length_scale(scene: &Scene) -> f64 {
    let g = &scene.geometry;
    g.all_protrusions().iter().map(|(_, p)| p.feature_size()).fold(g.height_m, f64::min)
}

/// The meshed domain of a scene and what is known about it exactly.
#[derive(Clone)]
pub struct Domain {
    pub mesh: TetMesh,
    /// Implicit geometry (built-in form only).
    pub geometry: Option<ElectrodeGeometry>,
    /// Target element sizes (built-in form only).
    pub sizes: Option<SizeField>,
    /// Length scale L of the scaled problem, m.
    pub length_scale: f64,
}

/// Builds the mesh of a scene: the built-in mesher, or a Gmsh file with its groups mapped.
pub fn build_domain(scene: &Scene) -> Result<Domain> {
    let g = &scene.geometry;
    match g.mesh_path(scene.source_dir.as_deref()) {
        Some(path) => {
            let msh = mesh::gmsh::read(&path)?;
            let origin = path.display().to_string();
            resources::check_mesh(scene, msh.tets.len(), &origin)?;
            imported_domain(scene, &msh, &origin)
        }
        None => {
            let geom = ElectrodeGeometry::from_scene(g);
            // The machine's memory bounds the mesh: refused while the mesher counts, before it allocates.
            let sizes = SizeField { limit: resources::tet_limit(scene)?, ..size_field(scene) };
            let mesh = mesh::generate(&geom, &sizes)?;
            Ok(Domain { mesh, geometry: Some(geom), sizes: Some(sizes), length_scale: length_scale(scene) })
        }
    }
}

/// The domain of a parsed Gmsh file with the scene's group mapping; `origin` names it in messages.
pub fn imported_domain(scene: &Scene, msh: &mesh::gmsh::MshFile, origin: &str) -> Result<Domain> {
    let g = &scene.geometry;
    let boundaries = g.boundaries.clone().unwrap_or_default();
    let regions = g.regions.clone().unwrap_or_default();
    let mesh = mesh::import::to_tet_mesh(msh, &boundaries, &regions, g.length_unit_m, origin)?;
    crate::output::maps::check_slices(scene, &mesh, origin)?;
    let length_scale = imported_length_scale(&mesh);
    Ok(Domain { mesh, geometry: None, sizes: None, length_scale })
}

/// For an imported mesh: the height of the electrode's relief, or a tenth of the domain height
/// for a flat electrode.
fn imported_length_scale(mesh: &TetMesh) -> f64 {
    let (lo, hi) = mesh.nodes.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.z), hi.max(p.z)));
    let electrode: Vec<f64> =
        mesh.faces_with(BoundaryTag::Electrode).flat_map(|f| mesh.faces[f].map(|n| mesh.nodes[n as usize].z)).collect();
    let relief =
        electrode.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - electrode.iter().cloned().fold(f64::INFINITY, f64::min);
    if relief > 1e-3 * (hi - lo) {
        relief
    } else {
        0.1 * (hi - lo)
    }
}

/// Legal but suspicious settings, found before meshing: an element size at the protrusions
/// coarser than half the smallest feature (the tip field is then under-resolved).
pub fn scene_warnings(scene: &Scene) -> Vec<String> {
    let mut out = Vec::new();
    if scene.geometry.mesh_file.is_none() {
        let near = size_field(scene).near;
        let smallest =
            scene.geometry.all_protrusions().into_iter().min_by(|a, b| a.1.feature_size().total_cmp(&b.1.feature_size()));
        if let Some((key, p)) = smallest.filter(|(_, p)| near > 0.5 * p.feature_size()) {
            out.push(format!(
                "the element size at the protrusions ({near:.3e} m) is more than half the smallest feature \
                 ({:.3e} m, {key}): the tip field is under-resolved; lower mesh.size_near_m or raise mesh.refine",
                p.feature_size()
            ));
        }
    }
    out
}

/// Runs a scene to completion in memory.
pub fn run(scene: &Scene, choice: BackendChoice) -> Result<RunResult> {
    run_with(scene, choice, RunOptions::default())
}

/// Runs a scene to completion in memory, writing checkpoints and resuming as `options` say.
pub fn run_with(scene: &Scene, choice: BackendChoice, options: RunOptions) -> Result<RunResult> {
    let start = Instant::now();
    scene_warnings(scene).iter().for_each(|w| progress::warn(w));
    // 1-2. Geometry and mesh (built-in or imported).
    progress::stage("meshing");
    let domain = build_domain(scene)?;
    if let Some(ck) = &options.resume {
        ck.check_mesh(&domain.mesh)?;
    }
    run_domain_with(scene, domain, choice, start, &options)
}

/// Runs a scene on an already built domain (steps 3 onward); `start` is when the run began.
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
    let backend = backend::open(choice)?;
    if choice != BackendChoice::Auto || backend.info.kind != "gpu" {
        return solve_domain(scene, domain, backend, start, options);
    }
    match solve_domain(scene, domain.clone(), backend, start, options) {
        Err(Error::Device(reason)) => {
            let warning = format!("the GPU backend failed ({reason}); the run was repeated on the CPU backend");
            progress::warn(&warning);
            let mut result = solve_domain(scene, domain, backend::cpu_fallback(&reason), start, options)?;
            result.summary.warnings.push(warning);
            Ok(result)
        }
        other => other,
    }
}

/// Steps 3 onward on an open backend.
fn solve_domain(
    scene: &Scene,
    domain: Domain,
    mut backend: backend::Backend,
    start: Instant,
    options: &RunOptions,
) -> Result<RunResult> {
    let Domain { mesh, geometry, sizes, length_scale } = domain;
    // Warnings about the scene were printed before meshing (by `run`); the solve adds its own.
    let scene_warnings = scene_warnings(scene);
    let mut warnings = scene_warnings.clone();
    let quality = Quality::of(&mesh);
    // 3. Discrete system in scaled units.
    progress::stage("assembling");
    let scaling = model_scaling(scene, length_scale);
    let media =
        geometry.as_ref().map_or_else(|| Media::open(mesh.tets.len()), |g| Media::from_layers(&mesh, g, &scene.geometry.layers));
    let scaffold_i0 = scene.geometry.scaffold.as_ref().and_then(|s| s.surface_exchange_current_density_a_m2);
    let electrode_i0 = scene.physics.kinetics.exchange_current_density_a_m2;
    let mut sys = PotentialSystem::with_media(&mesh, scaling.length_m, &media, scaffold_i0, electrode_i0);
    if let Some(g) = geometry.as_ref().filter(|g| g.periodic) {
        sys.make_periodic(&mesh, g.half_width).map_err(Error::input)?;
    }
    let sys = sys;
    // 4. Solve on the backend.
    progress::stage("solving");
    let projected_area = mesh.projected_area(BoundaryTag::Electrode);
    // The applied value in the operation's unit (V or A/m^2) as the solver's scaled drive.
    let drive_of = |value: f64| match scene.operation.mode {
        OperationMode::Potential => Drive::Potential(value / scaling.thermal_voltage_v),
        OperationMode::Current => Drive::Current(scaling.scaled_current(value * projected_area)),
    };
    let on_value = match scene.operation.mode {
        OperationMode::Potential => scene.operation.electrode_potential_v.unwrap_or(0.0),
        OperationMode::Current => scene.operation.mean_current_density_a_m2.unwrap_or(0.0),
    };
    let drive = drive_of(on_value);
    let linear = LinearParams {
        rtol: scene.solver.linear_rtol,
        max_iterations: scene.solver.linear_max_iterations,
        block_size: 1,
        preconditioner: scene.solver.preconditioner,
    };
    let newton =
        NewtonParams { tol: scene.solver.newton_tol_thermal_voltages, max_iterations: scene.solver.newton_max_iterations };
    let k = &scene.physics.kinetics;
    let mut transport = None;
    let mut transient_run = None;
    let mut transient_stats = None;
    // A resumed run: the wall time before its checkpoint.
    let mut earlier_wall_s = 0.0;
    // A solver that does not converge: where its residual is largest, and the diagnostics files.
    let diagnose = |e: Error| match e {
        Error::NotConverged(failure) => {
            diagnostics::report(failure, options.diagnostics.as_deref(), scene, &mesh, &sys, scaling.thermal_voltage_v)
        }
        other => other,
    };
    let solution = match scene.physics.model {
        Model::Primary => primary::solve(&sys, drive, backend.solver.as_mut(), &linear).map_err(diagnose)?,
        Model::Secondary => {
            let kin = KineticBoundary {
                gamma: scaling.kinetic_number(k.exchange_current_density_a_m2),
                law: ButlerVolmer::from_scene(k),
                conductivity_s_m: scaling.conductivity_s_m,
            };
            secondary::solve(&sys, kin, drive, backend.solver.as_mut(), &linear, &newton).map_err(diagnose)?
        }
        Model::Tertiary | Model::Pnp => {
            if backend.info.kind == "gpu" {
                backend.info.note = Some(format!(
                    "transport models: Newton Jacobians and residuals assembled on the device (WGSL) and Newton systems \
                     solved there ({} BiCGStab, f64 defect correction); the last Newton iterations on the f64 residual \
                     of the CPU",
                    match scene.solver.preconditioner {
                        crate::solve::linear::Preconditioner::Amg => "node-block multigrid",
                        crate::solve::linear::Preconditioner::Jacobi => "block-Jacobi",
                    }
                ));
            }
            let params = transport_params(scene, &scaling);
            let edges = Edges::from_stiffness(&sys.k);
            let sol = match &scene.time {
                None => tertiary::solve(&sys, &edges, &params, drive, backend.general.as_mut(), &linear, &newton)
                    .map_err(|e| diagnose(diagnose_steady_failure(scene, &mesh, e)))?,
                Some(tc) => {
                    let tscale = transport_time_scale(scene, &scaling);
                    let time = TimeParams {
                        end: tc.end_s / tscale,
                        initial_step: tc.initial_step_s.unwrap_or(tc.end_s * 1e-4) / tscale,
                        max_step: tc.max_step_s.unwrap_or(tc.end_s / 20.0) / tscale,
                        rtol: tc.rtol,
                        output_times: tc.output_times_s.iter().map(|t| t / tscale).collect(),
                        depletion: tc.stop_at_depletion,
                        breakpoints: scene
                            .operation
                            .waveform
                            .as_ref()
                            .map(|w| w.breakpoints(tc.end_s).iter().map(|b| b / tscale).collect())
                            .unwrap_or_default(),
                        preconditioner_reuse_steps: tc.preconditioner_reuse_steps,
                    };
                    let waveform = scene.operation.waveform.clone();
                    let drive_at = |t: f64| drive_of(waveform.as_ref().map_or(on_value, |w| w.value(t * tscale, on_value)));
                    let resume = options.resume.as_ref().map(|ck| {
                        earlier_wall_s = ck.wall_time_s;
                        ck.progress.clone().into_owned()
                    });
                    let resumed_from_step = resume.as_ref().map(|p| p.steps);
                    let mut observer: Box<dyn StepObserver> = match &options.checkpoints {
                        Some(plan) => {
                            Box::new(CheckpointWriter::new(plan, scene, &backend.info.kind, &mesh, start, earlier_wall_s, tscale))
                        }
                        None => Box::new(NoObserver),
                    };
                    let general = backend.general.as_mut();
                    let tr = transient::run(
                        &sys,
                        &edges,
                        &params,
                        &drive_at,
                        general,
                        &linear,
                        &newton,
                        &time,
                        resume,
                        observer.as_mut(),
                    )
                    .map_err(diagnose)?;
                    let mut snapshots = tr.snapshots;
                    for (_, snapshot) in &mut snapshots {
                        expand_transport(&sys, snapshot);
                    }
                    transient_run = Some((tr.rows, snapshots, tscale));
                    transient_stats = Some(TransientSummary {
                        steps: tr.steps,
                        rejected_steps: tr.rejected,
                        end_time_s: transient_run.as_ref().and_then(|(rows, _, _)| rows.last()).map_or(0.0, |r| r.t * tscale),
                        stopped_by: match tr.stop {
                            Stop::EndTime => "end_time",
                            Stop::Depletion => "depletion",
                        },
                        resumed_after_step: resumed_from_step,
                    });
                    TransportSolution {
                        linear_iterations: tr.linear_iterations,
                        nonlinear_iterations: tr.newton_iterations,
                        ..tr.last
                    }
                }
            };
            if let Some((count, reason)) = backend.general.fallbacks() {
                backend.info.note = Some(format!(
                    "transport models: {count} Newton system(s) the device BiCGStab could not finish were solved by the CPU \
                     GMRES (last reason: {reason}); Jacobians and early residuals assembled on the device, the last Newton iterations on the f64 residual of the CPU"
                ));
            }
            let mut sol = sol;
            expand_transport(&sys, &mut sol);
            if sol.continuation_steps > 0 {
                warnings.push(format!(
                    "Newton did not converge from the bulk state; the drive was ramped up in {} continuation steps",
                    sol.continuation_steps
                ));
            }
            let out = as_potential_solution(&sol);
            transport = Some(sol);
            out
        }
    };
    let mut solution = solution;
    sys.expand(&mut solution.phi);
    if solution.phi.iter().any(|v| !v.is_finite()) {
        return Err(Error::Solve("non-finite potential in the solution".into()));
    }
    // 5. Metrics.
    let kinetic = matches!(scene.physics.model, Model::Secondary | Model::Tertiary)
        || (scene.physics.model == Model::Pnp && scene.physics.pnp_electrode == PnpElectrode::Reacting);
    let c_ref = reference_concentration(scene);
    let cell_current = transport
        .as_ref()
        .map(|t| transport_cell_current(&mesh, scene, &t.phi, &t.concentrations, c_ref, &media.transport_factor));
    let (mut fields, electrode, max_field) =
        metrics::evaluate(&mesh, &sys, &solution, &scaling, projected_area, kinetic, cell_current);
    let concentrations = transport.as_ref().map(|t| {
        fields.concentrations = species_fields(scene, &t.concentrations, c_ref);
        concentration_summary(&fields.concentrations, &sys.electrode)
    });
    let transient = transient_run.map(|(rows, snapshots, tscale)| {
        let to_density = |q: f64| scaling.current_density_a_m2(q);
        TransientOutput {
            species: scene.physics.species.iter().map(|x| x.name.clone()).collect(),
            rows: rows
                .iter()
                .map(|r| TimeSeriesRow {
                    time_s: r.t * tscale,
                    electrode_potential_v: r.electrode_potential * scaling.thermal_voltage_v,
                    min_surface: r.min_surface.iter().map(|c| c * c_ref).collect(),
                    max_current_density: to_density(r.max_reaction_density),
                })
                .collect(),
            snapshots: snapshots
                .iter()
                .map(|(t, sol)| {
                    let current =
                        transport_cell_current(&mesh, scene, &sol.phi, &sol.concentrations, c_ref, &media.transport_factor);
                    let (mut f, _, _) = metrics::evaluate(
                        &mesh,
                        &sys,
                        &as_potential_solution(sol),
                        &scaling,
                        projected_area,
                        kinetic,
                        Some(current),
                    );
                    f.concentrations = species_fields(scene, &sol.concentrations, c_ref);
                    (t * tscale, f)
                })
                .collect(),
        }
    });
    let coating = coating::summarize(&CoatingInputs {
        scene,
        mesh: &mesh,
        sys: &sys,
        scaling: &scaling,
        electrode_flux: &solution.electrode_flux,
        site_reaction: &solution.site_reaction,
        concentrations: transport.as_ref().map(|_| fields.concentrations.as_slice()),
        conductivity_s_m: electrolyte_conductivity(scene),
        media: &media,
    });
    let applied = electrode.total_current.abs() / electrode.projected_area;
    let dimensionless = dimensionless_groups(scene, &mesh, length_scale, electrode.overpotential.map(|eta| eta.mean), applied);
    if let Some(res) = dimensionless.as_ref().and_then(|d| d.debye_resolution) {
        if scene.physics.model == Model::Pnp && res < 2.0 {
            warnings.push(format!(
                "the mesh does not resolve the Debye length at the electrode (lambda_D / h_min = {res:.2} < 2); \
                 the double layer is under-resolved: refine near the electrode (mesh.size_near_m, mesh.refine_boxes)"
            ));
        }
    }
    if let Some(wa) = dimensionless.as_ref().and_then(|d| d.wagner).filter(|wa| !(1e-5..=1e6).contains(wa)) {
        warnings.push(format!(
            "the Wagner number is {wa:.2e}, outside 1e-5..1e6: check physics.kinetics.exchange_current_density_A_m2 \
             and the conductivity for a unit slip (at this value the current distribution is purely {})",
            if wa > 1.0 { "kinetic (uniform)" } else { "primary (geometric)" }
        ));
    }
    warnings.iter().skip(scene_warnings.len()).for_each(|w| progress::warn(w));
    let summary = Summary {
        warnings,
        scene: scene.clone(),
        backend: backend.info.clone(),
        mesh: MeshSummary {
            nodes: mesh.nodes.len(),
            tets: mesh.tets.len(),
            electrode_faces: mesh.faces_with(BoundaryTag::Electrode).count(),
            min_dihedral_deg: quality.min_dihedral_deg,
            max_dihedral_deg: quality.max_dihedral_deg,
            max_aspect_ratio: quality.max_aspect_ratio,
            size_near_m: sizes.as_ref().map(|s| s.near),
            size_far_m: sizes.as_ref().map(|s| s.far),
            volume_m3: mesh.volume(),
            exact_volume_m3: geometry.as_ref().and_then(|g| g.exact_volume()),
        },
        solver: SolverSummary {
            converged: true,
            linear_iterations: solution.linear_iterations,
            nonlinear_iterations: solution.nonlinear_iterations,
            residual_history: solution.residual_history.clone(),
            continuation_steps: transport.as_ref().map(|t| t.continuation_steps).filter(|&n| n > 0),
            preconditioner: preconditioner_used(scene, &backend.info.kind).into(),
            multigrid_setups: match scene.physics.model {
                Model::Primary | Model::Secondary => backend.solver.preconditioner_builds(),
                _ => backend.general.preconditioner_builds(),
            }
            .filter(|&n| n > 0),
            gpu_memory_bytes: backend.solver.device_memory_peak(),
            gpu_bytes_per_node: backend.solver.device_memory_peak().map(|b| b as f64 / mesh.nodes.len() as f64),
            wall_time_s: earlier_wall_s + start.elapsed().as_secs_f64(),
        },
        electrode,
        electrolyte: ElectrolyteSummary {
            max_field,
            conductivity: matches!(scene.physics.model, Model::Primary | Model::Secondary).then_some(scaling.conductivity_s_m),
            min_concentration: concentrations,
        },
        dimensionless,
        coating,
        transient: transient_stats,
    };
    Ok(RunResult { summary, mesh, fields, electrode_nodes: sys.electrode, media, transient })
}

/// The preconditioner the backend applies for the scene's model (see
/// [`crate::output::summary::SolverSummary::preconditioner`]).
fn preconditioner_used(scene: &Scene, backend_kind: &str) -> &'static str {
    match (scene.physics.model, backend_kind) {
        (Model::Primary | Model::Secondary, _) => match scene.solver.preconditioner {
            crate::solve::linear::Preconditioner::Amg => "amg",
            crate::solve::linear::Preconditioner::Jacobi => "jacobi",
        },
        (_, "cpu") => match scene.solver.preconditioner {
            crate::solve::linear::Preconditioner::Amg => "block-amg-gmres",
            crate::solve::linear::Preconditioner::Jacobi => "ilu0-gmres",
        },
        _ => match scene.solver.preconditioner {
            crate::solve::linear::Preconditioner::Amg => "block-amg-bicgstab",
            crate::solve::linear::Preconditioner::Jacobi => "block-jacobi-bicgstab",
        },
    }
}

/// Scales of the model's discrete problem. For the potential models the flux-to-ampere factor
/// is kappa V_T L; for the transport models the scaled fluxes are species fluxes in units of
/// D_ref c_ref L, so the same conversions hold with the equivalent conductivity
/// n F D_ref c_ref / V_T.
fn model_scaling(scene: &Scene, length_scale: f64) -> Scaling {
    let ph = &scene.physics;
    let mut s = Scaling::new(length_scale, ph.temperature_k, ph.conductivity_s_m);
    if matches!(ph.model, Model::Tertiary | Model::Pnp) {
        let d_ref = ph.species.iter().map(|x| x.diffusivity_m2_s).fold(0.0, f64::max);
        let n = ph.kinetics.electrons as f64;
        s.conductivity_s_m = n * FARADAY * d_ref * reference_concentration(scene) / s.thermal_voltage_v;
    }
    s
}

/// The electrolyte's bulk conductivity, S/m: the scene's for the potential models, Nernst–Einstein
/// `F^2/RT sum z_i^2 D_i c_i` for the transport models.
fn electrolyte_conductivity(scene: &Scene) -> f64 {
    let ph = &scene.physics;
    match ph.model {
        Model::Primary | Model::Secondary => ph.conductivity_s_m,
        Model::Tertiary | Model::Pnp => {
            FARADAY * FARADAY / (GAS_CONSTANT * ph.temperature_k)
                * ph.species
                    .iter()
                    .map(|x| (x.charge as f64).powi(2) * x.diffusivity_m2_s * x.bulk_concentration_mol_m3)
                    .sum::<f64>()
        }
    }
}

/// Periodic slaves take their representatives' potential and concentrations.
fn expand_transport(sys: &PotentialSystem, sol: &mut TransportSolution) {
    sys.expand(&mut sol.phi);
    for c in &mut sol.concentrations {
        sys.expand(c);
    }
}

/// The transport solution in the form the metrics take.
fn as_potential_solution(sol: &TransportSolution) -> PotentialSolution {
    PotentialSolution {
        phi: sol.phi.clone(),
        electrode_potential: sol.electrode_potential,
        electrode_flux: sol.electrode_reaction.clone(),
        linear_iterations: sol.linear_iterations,
        nonlinear_iterations: sol.nonlinear_iterations,
        residual_history: sol.residual_history.clone(),
        site_reaction: sol.site_reaction.clone(),
        solid_potential: sol.solid_potential.clone(),
    }
}

/// Named concentration fields in mol/m^3 from scaled ones.
fn species_fields(scene: &Scene, conc: &[Vec<f64>], c_ref: f64) -> Vec<(String, Vec<f64>)> {
    scene.physics.species.iter().zip(conc).map(|(sp, c)| (sp.name.clone(), c.iter().map(|v| v * c_ref).collect())).collect()
}

/// The time scale L^2 / D_ref of the transport models, s.
fn transport_time_scale(scene: &Scene, scaling: &Scaling) -> f64 {
    let d_ref = scene.physics.species.iter().map(|x| x.diffusivity_m2_s).fold(0.0, f64::max);
    scaling.length_m * scaling.length_m / d_ref
}

/// c_ref: the largest bulk concentration, mol/m^3.
fn reference_concentration(scene: &Scene) -> f64 {
    scene.physics.species.iter().map(|x| x.bulk_concentration_mol_m3).fold(0.0, f64::max)
}

/// Scaled parameters of the tertiary model.
fn transport_params(scene: &Scene, scaling: &Scaling) -> TransportParams {
    let ph = &scene.physics;
    let k = &ph.kinetics;
    let d_ref = ph.species.iter().map(|x| x.diffusivity_m2_s).fold(0.0, f64::max);
    let c_ref = reference_concentration(scene);
    let n = k.electrons as f64;
    TransportParams {
        charges: ph.species.iter().map(|x| x.charge as f64).collect(),
        diffusivities: ph.species.iter().map(|x| x.diffusivity_m2_s / d_ref).collect(),
        bulk: ph.species.iter().map(|x| x.bulk_concentration_mol_m3 / c_ref).collect(),
        reacting: ph.species.iter().position(|x| x.name == k.reacting_species).unwrap_or(0),
        law: ButlerVolmer::from_scene(k),
        reaction_order: k.cathodic_reaction_order,
        gamma: k.exchange_current_density_a_m2 * scaling.length_m / (n * FARADAY * d_ref * c_ref),
        closure: match ph.model {
            Model::Pnp => Closure::Poisson {
                lambda: VACUUM_PERMITTIVITY * ph.relative_permittivity * GAS_CONSTANT * ph.temperature_k
                    / (FARADAY * FARADAY * c_ref * scaling.length_m * scaling.length_m),
                stern: (ph.pnp_electrode == PnpElectrode::Reacting).then(|| {
                    ph.stern_capacitance_f_m2 * GAS_CONSTANT * ph.temperature_k / (FARADAY * FARADAY * c_ref * scaling.length_m)
                }),
            },
            _ => Closure::Electroneutral,
        },
        concentration_scale: c_ref,
        conductivity_unit: FARADAY * FARADAY * d_ref * c_ref / (GAS_CONSTANT * ph.temperature_k),
    }
}

/// Current density per tet from the Nernst–Planck fluxes, A/m^2:
/// `i = -F sum_i z_i D_i (grad c_i + z_i c_i grad phi_hat)` with element-average concentrations.
fn transport_cell_current(
    mesh: &TetMesh,
    scene: &Scene,
    phi: &[f64],
    conc: &[Vec<f64>],
    c_ref: f64,
    transport_factor: &[f64],
) -> Vec<DVec3> {
    mesh.tets
        .iter()
        .zip(transport_factor)
        .map(|(t, &factor)| {
            let el = P1Tet::new(t.map(|n| mesh.nodes[n as usize]));
            let grad_phi = el.gradient(t.map(|n| phi[n as usize]));
            scene.physics.species.iter().zip(conc).fold(DVec3::ZERO, |acc, (sp, c)| {
                let values = t.map(|n| c[n as usize] * c_ref);
                let mean = values.iter().sum::<f64>() / 4.0;
                let z = sp.charge as f64;
                acc - factor * FARADAY * z * sp.diffusivity_m2_s * (el.gradient(values) + z * mean * grad_phi)
            })
        })
        .collect()
}

/// Smallest concentration of each species on the electrode and in the domain, mol/m^3.
fn concentration_summary(conc: &[(String, Vec<f64>)], electrode: &[u32]) -> BTreeMap<String, MinConcentration> {
    conc.iter()
        .map(|(name, c)| {
            let domain = c.iter().cloned().fold(f64::INFINITY, f64::min);
            let surface = electrode.iter().map(|&n| c[n as usize]).fold(f64::INFINITY, f64::min);
            (name.clone(), MinConcentration { electrode: surface, domain })
        })
        .collect()
}

/// Dimensionless groups: Wagner numbers (kinetic models) at zero and at the mean overpotential
/// `eta_mean` (V), and the Debye length and its resolution (transport models).
fn dimensionless_groups(
    scene: &Scene,
    mesh: &TetMesh,
    length_scale: f64,
    eta_mean: Option<f64>,
    applied_current_density: f64,
) -> Option<Dimensionless> {
    let ph = &scene.physics;
    let vt = thermal_voltage(ph.temperature_k);
    let transport = matches!(ph.model, Model::Tertiary | Model::Pnp);
    // Conductivity: the scene's for the potential models, Nernst–Einstein from the bulk for the
    // transport models.
    let kappa = if transport {
        ph.species.iter().map(|x| (x.charge as f64).powi(2) * x.diffusivity_m2_s * x.bulk_concentration_mol_m3).sum::<f64>()
            * FARADAY
            / vt
    } else {
        ph.conductivity_s_m
    };
    let (wagner, wagner_operating_point) = match eta_mean {
        Some(eta) => {
            let k = &ph.kinetics;
            let law = ButlerVolmer::from_scene(k);
            // Charge-transfer resistance d(eta)/di = V_T / (i0 f'(eta / V_T)), Ohm m^2.
            let r_ct = |eta: f64| vt / (k.exchange_current_density_a_m2 * law.slope(eta / vt));
            (Some(kappa * r_ct(0.0) / length_scale), Some(kappa * r_ct(eta) / length_scale))
        }
        None => (None, None),
    };
    let (debye_length, debye_resolution) = if transport {
        let strength: f64 = ph.species.iter().map(|x| (x.charge as f64).powi(2) * x.bulk_concentration_mol_m3).sum();
        let lambda = (VACUUM_PERMITTIVITY * ph.relative_permittivity * GAS_CONSTANT * ph.temperature_k
            / (FARADAY * FARADAY * strength))
            .sqrt();
        (Some(lambda), Some(lambda / first_layer_thickness(mesh)))
    } else {
        (None, None)
    };
    let limiting = (ph.model == Model::Tertiary).then(|| planar_limiting_current(scene, mesh));
    let i0 = ph.kinetics.exchange_current_density_a_m2;
    if wagner.is_none() && debye_length.is_none() {
        return None;
    }
    Some(Dimensionless {
        wagner,
        wagner_operating_point,
        length_scale,
        debye_length,
        debye_resolution,
        limiting_current_density: limiting,
        applied_over_limiting: limiting.map(|l| applied_current_density / l),
        damkohler: limiting.map(|l| i0 / l),
    })
}

/// Adds the likely cause to a failed steady transport solve: a galvanostatic current above the
/// planar limiting current has no steady state.
fn diagnose_steady_failure(scene: &Scene, mesh: &TetMesh, e: Error) -> Error {
    if e.solve_message().is_none() || scene.operation.mode != OperationMode::Current || scene.physics.model != Model::Tertiary {
        return e;
    }
    let applied = scene.operation.mean_current_density_a_m2.unwrap_or(0.0).abs();
    let limiting = planar_limiting_current(scene, mesh);
    if applied < limiting {
        return e;
    }
    e.map_solve_message(|msg| {
        format!(
            "the applied current density {applied} A/m^2 exceeds the planar limiting current density {limiting:.4e} A/m^2 \
             (ratio {:.3}): above the limiting current no steady state exists (a protrusion raises the cell's limit only a \
             little above the planar value); lower operation.mean_current_density_A_m2 or add a `time` block to follow \
             the depletion to Sand's time. ({msg})",
            applied / limiting
        )
    })
}

/// Planar limiting current density (A/m^2) across the electrolyte's height (the Nernst layer of
/// the box; the z-extent of an imported mesh): the binary-salt formula for two species, the
/// supported-electrolyte formula for more.
fn planar_limiting_current(scene: &Scene, mesh: &TetMesh) -> f64 {
    let ph = &scene.physics;
    let delta = if scene.geometry.mesh_file.is_some() {
        let (lo, hi) = mesh.nodes.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.z), hi.max(p.z)));
        hi - lo
    } else {
        scene.geometry.height_m
    };
    let r = ph.species.iter().position(|x| x.name == ph.kinetics.reacting_species).unwrap_or(0);
    if ph.species.len() == 2 {
        crate::physics::transport::binary_limiting_current(&ph.species[r], &ph.species[1 - r], delta)
    } else {
        crate::physics::transport::supported_limiting_current(&ph.species[r], ph.kinetics.electrons as f64, delta)
    }
}

/// The mesh spacing normal to the electrode: the shortest edge from an electrode node to a node
/// off the electrode, m.
fn first_layer_thickness(mesh: &TetMesh) -> f64 {
    let mut on = vec![false; mesh.nodes.len()];
    for f in mesh.faces_with(BoundaryTag::Electrode) {
        mesh.faces[f].iter().for_each(|&n| on[n as usize] = true);
    }
    let mut h = f64::INFINITY;
    for t in &mesh.tets {
        for (i, j) in [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)] {
            let (a, b) = (t[i] as usize, t[j] as usize);
            if on[a] != on[b] {
                h = h.min(mesh.nodes[a].distance(mesh.nodes[b]));
            }
        }
    }
    h
}
