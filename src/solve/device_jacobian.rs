//! The transport Newton Jacobian assembled off the host: the flat description of a discrete
//! Nernst–Planck problem that a device kernel needs ([`JacobianLayout`]), and the interface a
//! backend implements to assemble it ([`JacobianAssembler`]).
//!
//! The layout is row-oriented so that one invocation owns each free node's block rows and no
//! two invocations write the same entry (no atomics): for free node a it lists every mesh
//! neighbour b with the edge weight omega_ab and, when b is free, the position of b in a's row
//! of the node pattern. The Jacobian it fills has the node-block pattern of
//! [`super::transport`]: entry ((a, v), (b, w)) at `lo_a m^2 + v deg_a m + slot_ab m + w`, with
//! `lo_a` the start of a's row in the node pattern and `deg_a` its length.
//!
//! The device residual (f32) drives Newton's early iterations; convergence is judged on the f64
//! host residual, which finishes every solve, while the Jacobian only steers the step and
//! tolerates f32 rounding.

use super::linear::{DeviceMatrixValues, GeneralLinearSolver};
use super::transport::Accumulation;
use crate::physics::kinetics::Reaction;

/// A neighbour slot that is not a free node (a bulk node held at its Dirichlet state).
pub const NOT_FREE: u32 = u32::MAX;

/// Everything a device needs to assemble the Jacobian of one transport problem, flattened.
#[derive(Debug, Clone)]
pub struct JacobianLayout {
    /// Unknowns per free node: the independent log-concentrations, phi_s (with a resistive
    /// scaffold), then phi.
    pub m: usize,
    /// Independent (carried) species; the remaining one, if any, is eliminated by
    /// electroneutrality.
    pub independent: usize,
    /// Poisson closure coefficient Lambda, or None under electroneutrality.
    pub poisson_lambda: Option<f64>,
    /// Stern coefficient Lambda_S of a reacting pnp electrode (None: blocking, or electroneutral).
    pub stern_lambda: Option<f64>,
    /// Charge numbers z_i, scaled diffusivities D_i and scaled bulk concentrations.
    pub charges: Vec<f64>,
    pub diffusivities: Vec<f64>,
    pub bulk: Vec<f64>,
    /// The electrode reactions (electroneutral, or pnp with a Stern layer), each with its
    /// species and kinetics.
    pub reactions: Vec<Reaction>,
    /// Per free node: `[neighbour start, neighbour end, node-pattern row start, row length,
    /// own slot in the row]`.
    pub nodes: Vec<[u32; 5]>,
    /// Per neighbour entry: `[free index or NOT_FREE, slot in the row or NOT_FREE]`.
    pub neighbours: Vec<[u32; 2]>,
    /// Per neighbour entry: the edge weight omega (scaled).
    pub weights: Vec<f64>,
    /// Per free node: scaled reacting area against E (electrode and equipotential scaffold
    /// sites; 0 elsewhere) and pore volume.
    pub area: Vec<f64>,
    pub volume: Vec<f64>,
    /// Per free node: fixed charge X / c_ref (charged layers; 0 elsewhere).
    pub fixed: Vec<f64>,
    /// Whether a resistive scaffold adds phi_s (unknown `independent` of each node).
    pub solid: bool,
    /// Per neighbour entry: the scaled solid conduction weight (0 off the scaffold).
    pub solid_weights: Vec<f64>,
    /// Per free node: scaled reacting area against phi_s, and whether phi_s is free there
    /// (otherwise its row is phi_s - E = 0).
    pub solid_area: Vec<f64>,
    pub solid_free: Vec<bool>,
    /// Stored entries of the block Jacobian.
    pub nnz: usize,
}

/// A backend that assembles transport Jacobians itself (the GPU).
pub trait JacobianAssembler {
    /// Makes the device ready for the problem described by `layout` (static data uploaded once).
    fn prepare(&mut self, layout: &JacobianLayout) -> Result<(), String>;

    /// Assembles the block Jacobian (pattern order) as `jacobian` says and/or fills `residual`
    /// (f32 precision, without the galvanostatic constraint) at the unknowns `x` and electrode
    /// potential `e`; `acc` adds the implicit time-step accumulation.
    fn assemble(
        &mut self,
        x: &[f64],
        e: f64,
        acc: Option<&Accumulation>,
        jacobian: JacobianOut<'_>,
        residual: Option<&mut [f64]>,
    ) -> Result<(), String>;

    /// The Jacobian of the last assembly with [`JacobianOut::Device`], where it stays.
    fn device_values(&self) -> Option<&dyn DeviceMatrixValues>;
}

/// Where an assembly puts the Jacobian.
pub enum JacobianOut<'a> {
    /// Not assembled (a residual only).
    Skip,
    /// Read back into these host values.
    Host(&'a mut [f64]),
    /// Kept on the device ([`JacobianAssembler::device_values`]) for a solver that takes it
    /// there ([`GeneralLinearSolver::takes_device_values`]).
    Device,
}

/// What a transport solve runs on: the backend's general linear solver and, where the backend
/// has a device, its assembler of Newton Jacobians and residuals (the host assembles them
/// otherwise).
pub struct TransportBackend<'a> {
    pub solver: &'a mut dyn GeneralLinearSolver,
    pub assembler: Option<&'a mut dyn JacobianAssembler>,
}

impl<'a> TransportBackend<'a> {
    /// A solver with host assembly.
    pub fn host(solver: &'a mut dyn GeneralLinearSolver) -> Self {
        TransportBackend { solver, assembler: None }
    }

    /// The device assembler, reborrowed.
    pub fn assembler(&mut self) -> Option<&mut dyn JacobianAssembler> {
        match &mut self.assembler {
            Some(a) => Some(&mut **a),
            None => None,
        }
    }
}
