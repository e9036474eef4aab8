//! Primary current distribution: Laplace for the electrolyte potential with an equipotential
//! electrode (no kinetic resistance).
//!
//! Strong form: `-div(kappa grad phi) = 0` in the electrolyte; `phi = E` on the electrode (the
//! electrode potential vs a reference at the bulk, with eta = 0); `phi = 0` on the bulk boundary;
//! `grad phi . n = 0` on the insulating sides. Weak form on the free nodes (scaled):
//! `K_ff phi_f = -K_fd phi_d`. The electrode current comes from the residual flux
//! `Q_j = (K phi)_j` at electrode nodes. In galvanostatic operation the problem is linear in E,
//! so it is solved once for E = 1 and scaled to the applied total current.

use super::failure::{nodal_residual, Failure};
use super::linear::{residual, LinearError, LinearParams, LinearSolver};
use super::system::PotentialSystem;
use super::PotentialSolution;
use crate::error::Error;
use crate::fem::boundary_flux::residual_flux;
use crate::fem::CsrMatrix;

/// How the electrode is driven, in scaled units.
#[derive(Debug, Clone, Copy)]
pub enum Drive {
    /// Electrode potential E / V_T.
    Potential(f64),
    /// Total scaled anodic current through the electrode.
    Current(f64),
}

/// Solves the primary problem.
pub fn solve(
    sys: &PotentialSystem,
    drive: Drive,
    solver: &mut dyn LinearSolver,
    params: &LinearParams,
) -> Result<PotentialSolution, Error> {
    let (a, b, free) = sys.reduced_primary();
    let mut phi = vec![0.0; sys.n()];
    for &n in &sys.electrode {
        phi[n as usize] = 1.0;
    }
    let mut x = vec![0.0; free.len()];
    let info = solver.solve(&a, &b, &mut x, params).map_err(|e| match e {
        LinearError::NoConvergence { .. } => not_converged(sys, &a, &b, &x, &free, &phi, e.to_string()),
        other => Error::from(other),
    })?;
    for (&n, &v) in free.iter().zip(&x) {
        phi[n as usize] = v;
    }
    let zero = vec![0.0; sys.n()];
    let unit_flux = residual_flux(&sys.k, &phi, &zero, &sys.electrode);
    let unit_total: f64 = unit_flux.iter().sum();
    let scale = match drive {
        Drive::Potential(e) => e,
        Drive::Current(total) => total / unit_total,
    };
    phi.iter_mut().for_each(|v| *v *= scale);
    Ok(PotentialSolution {
        phi,
        electrode_potential: scale,
        electrode_flux: unit_flux.iter().map(|q| q * scale).collect(),
        linear_iterations: info.iterations,
        nonlinear_iterations: 0,
        residual_history: Vec::new(),
        site_reaction: Vec::new(),
        solid_potential: None,
    })
}

/// A CG that stopped short: its last iterate of the unit problem and the residual b - A x.
fn not_converged(
    sys: &PotentialSystem,
    a: &CsrMatrix,
    b: &[f64],
    x: &[f64],
    free: &[u32],
    unit: &[f64],
    message: String,
) -> Error {
    let mut r = vec![0.0; x.len()];
    let rel = residual(a, b, x, &mut r) / super::linear::norm(b).max(f64::MIN_POSITIVE);
    let mut phi = unit.to_vec();
    free.iter().zip(x).for_each(|(&n, &v)| phi[n as usize] = v);
    Error::NotConverged(Box::new(Failure {
        message: format!("primary potential: {message}"),
        residual_history: vec![rel],
        phi,
        concentrations: Vec::new(),
        nodal_residual: nodal_residual(sys.n(), free, 1, &r),
        iterate: "the last conjugate-gradient iterate of the problem with the electrode at 1 V_T (before scaling to the drive)",
    }))
}
