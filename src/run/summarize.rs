//! Stage 6 of a run: the summary. Dimensionless groups, the physics warnings they raise, and
//! summary.json's record of the mesh, the solver, the electrode and the electrolyte.

use super::postprocess::PostProcessed;
use super::setup::ModelSetup;
use super::solve_model::Solved;
use crate::backend::{Backend, BackendKind};
use crate::fem::edges::NegativeWeights;
use crate::mesh::{BoundaryTag, Domain, Quality, TetMesh};
use crate::output::summary::{
    DeviceSummary, Dimensionless, ElectrolyteSummary, MeshSummary, SolverSummary, StageTimings, Summary, TransientSummary,
};
use crate::physics::constants::{thermal_voltage, FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY};
use crate::physics::kinetics::ButlerVolmer;
use crate::scene::{Model, Scene};
use crate::solve::linear::Preconditioner;
use crate::solve::system::PotentialSystem;
use crate::solve::transient::Stop;

/// What the summary is made from.
pub struct SummaryInputs<'a> {
    pub scene: &'a Scene,
    pub setup: &'a ModelSetup,
    pub domain: &'a Domain,
    pub sys: &'a PotentialSystem,
    pub backend: &'a Backend,
    pub solved: &'a Solved,
    pub post: &'a PostProcessed,
    /// Warnings so far (the scene's, printed before meshing).
    pub warnings: Vec<String>,
    /// Wall time of this run, s (an earlier run's, when resumed, is added).
    pub wall_time_s: f64,
    /// This run's stages, s.
    pub timings: StageTimings,
}

/// summary.json of a run. Physics warnings found here are printed as they are added.
pub fn summarize(inputs: SummaryInputs) -> Summary {
    let SummaryInputs { scene, setup, domain, sys, backend, solved, post, mut warnings, wall_time_s, timings } = inputs;
    let mesh = &domain.mesh;
    let electrode = &post.electrode;
    let applied = electrode.total_current.abs() / electrode.projected_area;
    let dimensionless = dimensionless_groups(
        scene,
        setup.electrolyte.conductivity_s_m,
        mesh,
        domain.length_scale,
        electrode.overpotential.map(|eta| eta.mean),
        applied,
    );
    let potential = &solved.potential;
    let transport = solved.transport.as_ref();
    let mut run_warnings = Vec::new();
    if let Some(steps) = transport.map(|t| t.continuation_steps).filter(|&n| n > 0) {
        run_warnings
            .push(format!("Newton did not converge from the bulk state; the drive was ramped up in {steps} continuation steps"));
    }
    run_warnings.extend(physics_warnings(scene, dimensionless.as_ref()));
    let on_electrode = mesh.on_boundary(BoundaryTag::Electrode);
    let negative_weights = NegativeWeights::of(&sys.k, &on_electrode);
    let circumcentric = scene.solver.transport_weights.circumcentric_for(setup.model);
    let transport_weights = setup.model.has_transport().then(|| match circumcentric {
        true => NegativeWeights::of(&sys.transport_matrix(mesh, domain.length_scale), &on_electrode),
        false => negative_weights,
    });
    if let Some(w) = transport_weights.filter(|w| w.negative > 0) {
        let (kind, why) =
            if circumcentric { ("circumcentric", "the mesh is not Delaunay there") } else { ("P1", "obtuse elements") };
        run_warnings.push(format!(
            "{} of {} mesh edges ({:.1}%, {} touching the electrode) have negative {kind} weights ({why}): the \
             edge-flux transport operator is not an M-matrix there, so positivity and the discrete maximum principle \
             are not guaranteed (summary.json mesh.negative_transport_weights)",
            w.negative,
            w.edges,
            100.0 * w.share,
            w.touching_electrode
        ));
    }
    let small_dual_cells = circumcentric.then(|| crate::fem::dual::small_dual_cells(mesh));
    if let Some(n) = small_dual_cells.filter(|&n| n > 0) {
        run_warnings.push(format!(
            "{n} nodes have circumcentric dual cells below a tenth of their share of the volume (nodes crowding \
             them, or the mesh far from Delaunay there): their balances use barycentric volumes, not consistent with \
             their circumcentric fluxes, so values at them are less accurate (summary.json \
             mesh.small_transport_dual_cells)"
        ));
    }
    run_warnings.iter().for_each(|w| crate::progress::warn(w));
    warnings.extend(run_warnings);
    Summary {
        warnings,
        scene: scene.clone(),
        backend: backend.info.clone(),
        mesh: mesh_summary(domain, negative_weights, transport_weights, small_dual_cells),
        solver: SolverSummary {
            converged: true,
            linear_iterations: potential.linear_iterations,
            nonlinear_iterations: potential.nonlinear_iterations,
            residual_history: potential.residual_history.clone(),
            continuation_steps: transport.map(|t| t.continuation_steps).filter(|&n| n > 0),
            preconditioner: preconditioner_used(setup, backend.kind).into(),
            multigrid_setups: match setup.model.has_transport() {
                false => backend.solver.preconditioner_builds(),
                true => backend.general.preconditioner_builds(),
            }
            .filter(|&n| n > 0),
            gpu_memory_bytes: backend.solver.device_memory_peak(),
            gpu_bytes_per_node: backend.solver.device_memory_peak().map(|b| b as f64 / mesh.nodes.len() as f64),
            device: backend.solver.device_transfers().map(|t| DeviceSummary {
                host_to_device_bytes: t.host_to_device_bytes,
                device_to_host_bytes: t.device_to_host_bytes,
                jacobian_read_backs: t.jacobian_read_backs,
                host_newton_iterations: potential.nonlinear_iterations,
                host_linear_solves: backend.general.fallbacks().map_or(0, |(count, _)| count),
                multigrid_device_updates: backend.general.device_multigrid_updates().unwrap_or(0),
                device_wait_s: t.device_wait_s,
                host_solve_s: (timings.assembly + timings.multigrid_setup + timings.solve - t.device_wait_s).max(0.0),
            }),
            wall_time_s: solved.earlier_wall_s + wall_time_s,
        },
        timings_s: timings,
        electrode: post.electrode.clone(),
        electrolyte: ElectrolyteSummary::new(&setup.electrolyte, post.max_field, post.min_concentration.clone()),
        dimensionless,
        coating: post.coating.clone(),
        transient: solved.transient.as_ref().map(|record| TransientSummary {
            steps: record.steps,
            rejected_steps: record.rejected,
            end_time_s: record.rows.last().map_or(0.0, |r| r.t * setup.time.as_ref().map_or(1.0, |(_, s)| *s)),
            stopped_by: match record.stop {
                Stop::EndTime => "end_time",
                Stop::Depletion => "depletion",
            },
            resumed_after_step: record.resumed_after_step,
        }),
        growth: None,
        files: Vec::new(),
    }
}

/// The mesh's counts, quality, volumes and negative edge weights.
fn mesh_summary(
    domain: &Domain,
    negative_edge_weights: NegativeWeights,
    negative_transport_weights: Option<NegativeWeights>,
    small_transport_dual_cells: Option<usize>,
) -> MeshSummary {
    let mesh = &domain.mesh;
    let quality = Quality::of(mesh);
    MeshSummary {
        nodes: mesh.nodes.len(),
        tets: mesh.tets.len(),
        electrode_faces: mesh.faces_with(BoundaryTag::Electrode).count(),
        min_dihedral_deg: quality.min_dihedral_deg,
        max_dihedral_deg: quality.max_dihedral_deg,
        max_aspect_ratio: quality.max_aspect_ratio,
        size_near_m: domain.sizes.as_ref().map(|s| s.near),
        size_far_m: domain.sizes.as_ref().map(|s| s.far),
        volume_m3: mesh.volume(),
        exact_volume_m3: domain.geometry.as_ref().and_then(|g| g.exact_volume()),
        negative_edge_weights,
        negative_transport_weights,
        small_transport_dual_cells,
    }
}

/// Warnings the dimensionless groups raise: an unresolved Debye length (pnp), a Wagner number
/// that suggests a unit slip.
fn physics_warnings(scene: &Scene, dimensionless: Option<&Dimensionless>) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(res) = dimensionless.and_then(|d| d.debye_resolution) {
        if scene.physics.model == Model::Pnp && res < 2.0 {
            warnings.push(format!(
                "the mesh does not resolve the Debye length at the electrode (lambda_D / h_normal = {res:.2} < 2, h_normal the thickest first element layer on the electrode); \
                 the double layer is under-resolved there: refine along the electrode (mesh.size_electrode_m, mesh.size_near_m, mesh.refine_boxes)"
            ));
        }
    }
    if let Some(wa) = dimensionless.and_then(|d| d.wagner).filter(|wa| !(1e-5..=1e6).contains(wa)) {
        warnings.push(format!(
            "the Wagner number is {wa:.2e}, outside 1e-5..1e6: check physics.kinetics.exchange_current_density_A_m2 \
             and the conductivity for a unit slip (at this value the current distribution is purely {})",
            if wa > 1.0 { "kinetic (uniform)" } else { "primary (geometric)" }
        ));
    }
    warnings
}

/// The preconditioner the backend applies for the model (see
/// [`crate::output::summary::SolverSummary::preconditioner`]).
fn preconditioner_used(setup: &ModelSetup, backend: BackendKind) -> &'static str {
    let amg = setup.linear.preconditioner == Preconditioner::Amg;
    match (setup.model.has_transport(), backend, amg) {
        (false, _, true) => "amg",
        (false, _, false) => "jacobi",
        (true, BackendKind::Cpu, true) => "block-amg-gmres",
        (true, BackendKind::Cpu, false) => "ilu0-gmres",
        (true, BackendKind::Gpu, true) => "block-amg-bicgstab",
        (true, BackendKind::Gpu, false) => "block-jacobi-bicgstab",
    }
}

/// Dimensionless groups: Wagner numbers (kinetic models, with the model's bulk conductivity
/// `kappa`, S/m) at zero and at the mean overpotential `eta_mean` (V), and the Debye length and
/// its resolution (transport models).
fn dimensionless_groups(
    scene: &Scene,
    kappa: f64,
    mesh: &TetMesh,
    length_scale: f64,
    eta_mean: Option<f64>,
    applied_current_density: f64,
) -> Option<Dimensionless> {
    let ph = &scene.physics;
    let vt = thermal_voltage(ph.temperature_k);
    let transport = ph.model.has_transport();
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
    let limiting = (ph.model == Model::Tertiary).then(|| super::setup::planar_limiting_current(scene, mesh));
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

/// The thickness of the first element layer normal to the electrode, m: the largest height of a
/// tetrahedron standing on the electrode (three nodes on it) over the plane of those three. The
/// double layer covers the whole electrode, so its worst-resolved place counts; the shortest
/// slanted edge (used before) overstated the resolution.
fn first_layer_thickness(mesh: &TetMesh) -> f64 {
    let on = mesh.on_boundary(BoundaryTag::Electrode);
    let mut h: f64 = 0.0;
    for t in &mesh.tets {
        // A tetrahedron standing on the electrode: three nodes on it, the fourth off it.
        let off: Vec<usize> = (0..4).filter(|&k| !on[t[k] as usize]).collect();
        if let [apex] = off[..] {
            let base: Vec<_> = (0..4).filter(|&k| k != apex).map(|k| mesh.nodes[t[k] as usize]).collect();
            let normal = (base[1] - base[0]).cross(base[2] - base[0]).normalize_or_zero();
            h = h.max((mesh.nodes[t[apex] as usize] - base[0]).dot(normal).abs());
        }
    }
    if h > 0.0 {
        h
    } else {
        f64::INFINITY
    }
}
