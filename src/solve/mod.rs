//! Solvers of the discrete potential problem: the linear solver API, the discrete system shared by
//! the models, the primary (linear, Dirichlet electrode) and secondary (Newton on Butler–Volmer)
//! drivers.

pub mod amg;
pub mod block_amg;
pub mod continuation;
pub mod device_jacobian;
pub mod failure;
pub mod galerkin;
pub mod linear;
pub mod newton;
pub mod primary;
pub mod secondary;
pub mod system;
pub mod transient;
pub mod transport;
mod transport_fluxes;
pub mod transport_system;

/// Result of a potential solve, in scaled units (see [`crate::physics::scaling`]).
#[derive(Debug, Clone)]
pub struct PotentialSolution {
    /// Scaled electrolyte potential phi / V_T at every node.
    pub phi: Vec<f64>,
    /// Scaled electrode potential E / V_T (vs a reference in the bulk).
    pub electrode_potential: f64,
    /// Scaled anodic flux Q_j at each electrode node (aligned with `PotentialSystem::electrode`).
    pub electrode_flux: Vec<f64>,
    /// Total Krylov iterations.
    pub linear_iterations: u32,
    /// Newton iterations (0 for the linear primary model).
    pub nonlinear_iterations: u32,
    /// Newton residual norms (scaled), one per iteration.
    pub residual_history: Vec<f64>,
    /// Scaled anodic current of each scaffold reaction site (aligned with `PotentialSystem::sites`).
    pub site_reaction: Vec<f64>,
    /// Scaled solid-phase potential at every node (E off the scaffold), for a scaffold of finite
    /// conductivity.
    pub solid_potential: Option<Vec<f64>>,
}
