//! Stage 4 of a run: the model's solve on the backend. One function per kind of solve (the
//! potential models, steady transport, transient transport); each returns the solution in scaled
//! units with every node (periodic slaves included) filled in.

use super::checkpoint::CheckpointWriter;
use super::{diagnostics, RunSoFar};
use crate::backend::{Backend, BackendKind};
use crate::error::{Error, Result};
use crate::fem::edges::Edges;
use crate::fem::recovery::SurfaceRecovery;
use crate::mesh::{BoundaryTag, TetMesh};
use crate::scene::{Model, OperationMode, Scene};
use crate::solve::primary;
use crate::solve::secondary;
use crate::solve::system::PotentialSystem;
use crate::solve::transient::{self, NoObserver, StepObserver, TimeRow};
use crate::solve::transport::{self, TransportSolution};
use crate::solve::PotentialSolution;

/// What the solve stage produced, scaled.
pub struct Solved {
    /// The potential and electrode fluxes (every model).
    pub potential: PotentialSolution,
    /// Concentrations and reactions (transport models).
    pub transport: Option<TransportSolution>,
    /// The time loop's record (transient runs).
    pub transient: Option<TransientRecord>,
    /// Wall time of the run a resumed run continues, s.
    pub earlier_wall_s: f64,
}

/// A transient run's rows, snapshots and statistics (scaled times).
pub struct TransientRecord {
    pub rows: Vec<TimeRow>,
    pub snapshots: Vec<(f64, TransportSolution)>,
    pub steps: u32,
    pub rejected: u32,
    pub stop: transient::Stop,
    pub resumed_after_step: Option<u32>,
}

impl RunSoFar<'_> {
    /// A solver that does not converge: where its residual is largest, and the diagnostics files.
    fn diagnose(&self, e: Error) -> Error {
        match e {
            Error::NotConverged(failure) => diagnostics::report(
                failure,
                self.options.diagnostics.as_deref(),
                self.scene,
                self.mesh,
                self.sys,
                self.setup.scaling.thermal_voltage_v,
            ),
            other => other,
        }
    }
}

/// Solves the scene's model on `backend`.
pub fn solve(inputs: &RunSoFar, backend: &mut Backend) -> Result<Solved> {
    let mut solved = match inputs.setup.model {
        Model::Primary | Model::Secondary => solve_potential(inputs, backend)?,
        Model::Tertiary | Model::Pnp => solve_transport(inputs, backend)?,
    };
    inputs.sys.expand(&mut solved.potential.phi);
    if solved.potential.phi.iter().any(|v| !v.is_finite()) {
        return Err(Error::Solve("non-finite potential in the solution".into()));
    }
    Ok(solved)
}

/// The primary (linear) and secondary (Newton on Butler–Volmer) models.
fn solve_potential(inputs: &RunSoFar, backend: &mut Backend) -> Result<Solved> {
    let setup = inputs.setup;
    let solver = backend.solver.as_mut();
    let potential = match setup.model {
        Model::Primary => primary::solve(inputs.sys, setup.drive, solver, &setup.linear),
        _ => secondary::solve(inputs.sys, &setup.kinetics, setup.drive, solver, &setup.linear, &setup.newton),
    }
    .map_err(|e| inputs.diagnose(e))?;
    Ok(Solved { potential, transport: None, transient: None, earlier_wall_s: 0.0 })
}

/// The transport models, steady or transient; the backend's note says where the work ran.
fn solve_transport(inputs: &RunSoFar, backend: &mut Backend) -> Result<Solved> {
    if backend.kind == BackendKind::Gpu {
        backend.info.note = Some(format!(
            "transport models: Newton Jacobians and residuals assembled on the device (WGSL) and Newton systems \
             solved there ({} BiCGStab, f64 defect correction); the last Newton iterations on the f64 residual \
             of the CPU",
            match inputs.setup.linear.preconditioner {
                crate::solve::linear::Preconditioner::Amg => "node-block multigrid",
                crate::solve::linear::Preconditioner::Jacobi => "block-Jacobi",
            }
        ));
    }
    let edges = if inputs.scene.solver.transport_weights.circumcentric_for(inputs.setup.model) {
        inputs.sys.transport_edges(inputs.mesh, inputs.setup.scaling.length_m)
    } else {
        Edges::from_stiffness(&inputs.sys.k)
    };
    let (mut transport, transient, earlier_wall_s) = match &inputs.setup.time {
        None => (solve_steady(inputs, backend, &edges)?, None, 0.0),
        Some(_) => solve_transient(inputs, backend, &edges)?,
    };
    if let Some((count, reason)) = backend.general.fallbacks() {
        backend.info.note = Some(format!(
            "transport models: {count} Newton system(s) the device BiCGStab could not finish were solved by the CPU \
             GMRES (last reason: {reason}); Jacobians and early residuals assembled on the device, the last Newton iterations on the f64 residual of the CPU"
        ));
    }
    expand_transport(inputs.sys, &mut transport);
    let potential = transport.as_potential_solution();
    Ok(Solved { potential, transport: Some(transport), transient, earlier_wall_s })
}

/// A steady transport solve (continuation when Newton cannot start from the bulk state).
fn solve_steady(inputs: &RunSoFar, backend: &mut Backend, edges: &Edges) -> Result<TransportSolution> {
    let setup = inputs.setup;
    let params = setup.transport.as_ref().ok_or_else(|| Error::Solve("transport parameters missing".into()))?;
    transport::solve(inputs.sys, edges, params, setup.drive, &mut backend.transport(), &setup.linear, &setup.newton)
        .map_err(|e| inputs.diagnose(diagnose_steady_failure(inputs.scene, inputs.mesh, e)))
}

/// A transient transport run, resumed from a checkpoint and writing checkpoints as the run's
/// options say. Returns the last solution, the time loop's record and the earlier wall time.
fn solve_transient(
    inputs: &RunSoFar,
    backend: &mut Backend,
    edges: &Edges,
) -> Result<(TransportSolution, Option<TransientRecord>, f64)> {
    let (setup, scene) = (inputs.setup, inputs.scene);
    let params = setup.transport.as_ref().ok_or_else(|| Error::Solve("transport parameters missing".into()))?;
    let (time, tscale) = setup.time.as_ref().ok_or_else(|| Error::Solve("time parameters missing".into()))?;
    let drive_over = |t0: f64, t1: f64| setup.drive_over(scene, t0, t1);
    if let Some(ck) = &inputs.options.resume {
        ck.check_time(*tscale)?;
    }
    let earlier_wall_s = inputs.options.resume.as_ref().map_or(0.0, |ck| ck.wall_time_s);
    let resume = inputs.options.resume.as_ref().map(|ck| ck.progress.clone().into_owned());
    let resumed_after_step = resume.as_ref().map(|p| p.steps);
    let mut observer: Box<dyn StepObserver> = match &inputs.options.checkpoints {
        Some(plan) => {
            Box::new(CheckpointWriter::new(plan, scene, backend.kind.name(), inputs.mesh, inputs.start, earlier_wall_s, *tscale))
        }
        None => Box::new(NoObserver),
    };
    let recovery = SurfaceRecovery::new(inputs.mesh, BoundaryTag::Electrode, &inputs.sys.electrode, &inputs.sys.electrode_area);
    let tr = transient::run(
        inputs.sys,
        edges,
        params,
        &drive_over,
        &mut backend.transport(),
        &setup.linear,
        &setup.newton,
        time,
        resume,
        observer.as_mut(),
        &|sol| crate::output::metrics::recovered_peak(&recovery, inputs.sys, &sol.electrode_flux),
    )
    .map_err(|e| inputs.diagnose(e))?;
    let mut snapshots = tr.snapshots;
    for (_, snapshot) in &mut snapshots {
        expand_transport(inputs.sys, snapshot);
    }
    let last =
        TransportSolution { linear_iterations: tr.linear_iterations, nonlinear_iterations: tr.newton_iterations, ..tr.last };
    let record =
        TransientRecord { rows: tr.rows, snapshots, steps: tr.steps, rejected: tr.rejected, stop: tr.stop, resumed_after_step };
    Ok((last, Some(record), earlier_wall_s))
}

/// Periodic slaves take their representatives' potential and concentrations.
fn expand_transport(sys: &PotentialSystem, sol: &mut TransportSolution) {
    sys.expand(&mut sol.phi);
    for c in &mut sol.concentrations {
        sys.expand(c);
    }
}

/// Adds the likely cause to a failed steady transport solve: a galvanostatic current above the
/// planar limiting current has no steady state.
fn diagnose_steady_failure(scene: &Scene, mesh: &TetMesh, e: Error) -> Error {
    if e.solve_message().is_none() || scene.operation.mode != OperationMode::Current || scene.physics.model != Model::Tertiary {
        return e;
    }
    let applied = scene.operation.mean_current_density_a_m2.unwrap_or(0.0).abs();
    let limiting = super::setup::planar_limiting_current(scene, mesh);
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
