//! Tertiary and pnp transport: Nernst–Planck for every species closed by electroneutrality or
//! Poisson, with concentration-dependent Butler–Volmer kinetics, solved by damped Newton on the
//! fully coupled system (with continuation in the drive when needed), steady or one implicit
//! time step at a time ([`super::transient`]).
//!
//! The discrete equations (the edge form of P1 with log-mean edge fluxes, log-concentration
//! unknowns, the closures and the electrode conditions) are in [`super::transport_system`]; this module
//! holds the parameters, the Newton driver and the solution.

use super::device_jacobian::{JacobianAssembler, JacobianOut, TransportBackend};
use super::failure::{nodal_residual, Failure};
use super::linear::{DeviceMatrixValues, GeneralLinearSolver, LinearError, LinearParams};
use super::newton::{self, Evaluation, NewtonSystem};
pub use super::newton::{NewtonParams, NewtonStats, State};
use super::primary::Drive;
use super::system::PotentialSystem;
use super::transport_fluxes::NodeEdges;
pub use super::transport_system::Accumulation;
use super::transport_system::{electrode_fluxes, BlockPattern, Problem, SolidField};
use crate::error::Error;
use crate::fem::edges::Edges;
use crate::fem::CsrMatrix;
use crate::physics::kinetics::{self, Reaction};

/// Scaled transport and kinetic parameters.
#[derive(Debug, Clone)]
pub struct TransportParams {
    /// Charge numbers z_i.
    pub charges: Vec<f64>,
    /// D_i / D_ref.
    pub diffusivities: Vec<f64>,
    /// Bulk concentrations c_i / c_ref.
    pub bulk: Vec<f64>,
    /// The electrode reactions, each with its species (never the last under electroneutrality)
    /// and Gamma = i0 L / (n F D_ref c_ref). The first is the plating reaction, whose species'
    /// depletion ends a transient run.
    pub reactions: Vec<Reaction>,
    /// How the potential is determined.
    pub closure: Closure,
    /// c_ref, mol/m^3: fixed charges are divided by it.
    pub concentration_scale: f64,
    /// F^2 D_ref c_ref / RT, S/m: the conductivity unit of the scaled charge row (a resistive
    /// scaffold's sigma_eff is divided by it).
    pub conductivity_unit: f64,
    /// Whether Newton starts from the Donnan equilibrium in charged layers (true: exact at zero
    /// current) or from the bulk state everywhere.
    pub donnan_start: bool,
}

impl TransportParams {
    /// The species of the plating reaction (the first), whose depletion ends a transient run.
    pub fn plating_species(&self) -> usize {
        self.reactions.first().and_then(|r| r.species).unwrap_or(0)
    }
}

/// The Donnan potential psi (scaled) of a node with fixed charge `fixed` (scaled) in equilibrium
/// with the bulk: `sum_i z_i c_i exp(-z_i psi) + fixed = 0` (0 without a fixed charge). The left
/// side decreases monotonically in psi; solved by bisection on a bracket grown from 0.
pub fn donnan_potential(charges: &[f64], bulk: &[f64], fixed: f64) -> f64 {
    if fixed == 0.0 {
        return 0.0;
    }
    let g = |psi: f64| charges.iter().zip(bulk).map(|(z, c)| z * c * (-z * psi).exp()).sum::<f64>() + fixed;
    crate::physics::roots::root_of_decreasing(g, 700.0)
}

/// The equation that closes the system for the potential.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Closure {
    /// Electroneutrality: the last species is eliminated and its Nernst–Planck equation is
    /// replaced by the charge balance (tertiary model).
    Electroneutral,
    /// Poisson: `-Lambda lap phi = sum_i z_i c_i` with `Lambda = eps RT / (F^2 c_ref L^2)`; every
    /// species is independent (pnp model). The electrode is either blocking (`stern: None`: no
    /// reaction, phi = E on it) or reacting through a Stern layer (`stern: Some(Lambda_S)`).
    ///
    /// Reacting electrode (Frumkin–Butler–Volmer): the electrode nodes are the reaction plane;
    /// the compact (Stern) layer between it and the metal is a capacitor C_S, so Gauss's law gives
    /// the Robin condition `eps dphi/dn = C_S (E - phi)` (n out of the electrolyte), which adds
    /// `Lambda_S A_j (phi_j - E)` to the Poisson row with `Lambda_S = C_S RT / (F^2 c_ref L)`.
    /// The reaction `Gamma A_j f_j` leaves the reacting species' row with the same
    /// `eta_j = E - phi_j` and `c_r,j` at the reaction plane as the tertiary law: the diffuse
    /// layer's effect on the rate (the Frumkin correction) follows from the fields themselves.
    Poisson { lambda: f64, stern: Option<f64> },
}

impl Closure {
    /// Whether the electrode reacts (electroneutral, or Poisson with a Stern layer).
    pub fn reacting(&self) -> bool {
        !matches!(self, Closure::Poisson { stern: None, .. })
    }
}

/// Result of a transport (tertiary or pnp) solve, scaled.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TransportSolution {
    /// phi F / RT at every node.
    pub phi: Vec<f64>,
    /// c_i / c_ref per species at every node.
    pub concentrations: Vec<Vec<f64>>,
    /// E F / RT.
    pub electrode_potential: f64,
    /// `sum_r Gamma_r A_j f_r` at each electrode node (species flux units; anodic positive): the
    /// same quantity as [`super::PotentialSolution::electrode_flux`].
    #[serde(alias = "electrode_reaction")]
    pub electrode_flux: Vec<f64>,
    /// The same for each scaffold reaction site (aligned with `PotentialSystem::sites`).
    pub site_reaction: Vec<f64>,
    /// Solid potential F phi_s / RT at every node (E off the scaffold) for a resistive scaffold.
    pub solid_potential: Option<Vec<f64>>,
    pub linear_iterations: u32,
    pub nonlinear_iterations: u32,
    pub residual_history: Vec<f64>,
    /// Continuation steps the steady solve needed (0: Newton converged from the bulk state).
    pub continuation_steps: u32,
}

impl TransportSolution {
    /// The solution in the form the potential models' metrics take.
    pub fn as_potential_solution(&self) -> super::PotentialSolution {
        super::PotentialSolution {
            phi: self.phi.clone(),
            electrode_potential: self.electrode_potential,
            electrode_flux: self.electrode_flux.clone(),
            linear_iterations: self.linear_iterations,
            nonlinear_iterations: self.nonlinear_iterations,
            residual_history: self.residual_history.clone(),
            site_reaction: self.site_reaction.clone(),
            solid_potential: self.solid_potential.clone(),
        }
    }
}

/// A discrete transport problem with its Newton solver state.
pub struct TransportProblem<'a> {
    sys: &'a PotentialSystem,
    problem: Problem<'a>,
    free: Vec<u32>,
    /// The Newton Jacobian: its pattern always, its values unless they are on the device.
    jac: CsrMatrix,
    /// Whether the last Jacobian stayed on the device (`jac`'s values are then stale): the
    /// device assembler keeps it for a linear solver that takes it there.
    jac_on_device: bool,
    /// Whether the device assembler it met holds this problem's layout.
    device_prepared: bool,
}

impl<'a> TransportProblem<'a> {
    /// Sets up the problem on a mesh.
    #[track_caller]
    pub fn new(sys: &'a PotentialSystem, edges: &'a Edges, tp: &'a TransportParams) -> Self {
        assert!(tp.reactions.iter().all(|r| r.species.is_some()), "every transport reaction names its species");
        let n = tp.charges.len();
        let free = sys.free_nodes(&[&sys.bulk]);
        let mut free_of = vec![u32::MAX; sys.n()];
        for (i, &f) in free.iter().enumerate() {
            free_of[f as usize] = i as u32;
        }
        let (node_pattern, _) = sys.k.split(&free);
        // Reactions: the electrode's (none on an inert collector), then the scaffold sites'.
        let reacts = if sys.electrode_reacts { 1.0 } else { 0.0 };
        let mut electrode: Vec<(usize, f64)> =
            sys.electrode.iter().zip(&sys.electrode_area).map(|(&nd, &a)| (free_of[nd as usize] as usize, reacts * a)).collect();
        let n_electrode = electrode.len();
        electrode.extend(sys.sites.iter().map(|site| (free_of[site.node as usize] as usize, site.equivalent_area)));
        let volume: Vec<f64> = free.iter().map(|&f| sys.node_volume[f as usize]).collect();
        let c_ref_fixed = sys.fixed_charge();
        let fixed: Vec<f64> = free.iter().map(|&f| c_ref_fixed[f as usize] / tp.concentration_scale).collect();
        let solid = sys.solid.as_ref().map(|sol| {
            let mut on_electrode = vec![false; sys.n()];
            sys.electrode.iter().for_each(|&nd| on_electrode[nd as usize] = true);
            let mut free_solid = vec![false; free.len()];
            for &nd in &sol.nodes {
                if !on_electrode[nd as usize] && free_of[nd as usize] != u32::MAX {
                    free_solid[free_of[nd as usize] as usize] = true;
                }
            }
            let weights = edges
                .pairs
                .iter()
                .map(|&(a, b)| sol.k.find(a as usize, b).map_or(0.0, |p| -sol.k.values[p] / tp.conductivity_unit))
                .collect();
            let on_solid = (0..electrode.len())
                .map(|k| {
                    k >= n_electrode
                        && sys.sites[k - n_electrode].kind == super::system::SiteKind::Volumetric
                        && free_solid[electrode[k].0]
                })
                .collect();
            SolidField { weights, free: free_solid, on_solid }
        });
        let m = match tp.closure {
            Closure::Electroneutral => n,
            Closure::Poisson { .. } => n + 1,
        } + usize::from(solid.is_some());
        let node_edges = NodeEdges::new(edges, &free_of, &node_pattern);
        let problem = Problem {
            tp,
            edges,
            free_of,
            electrode,
            n_electrode,
            pattern: BlockPattern { node: node_pattern, m },
            node_edges,
            n_species: n,
            volume,
            fixed,
            solid,
        };
        let jac = problem.pattern.matrix();
        TransportProblem { sys, problem, free, jac, jac_on_device: false, device_prepared: false }
    }

    /// The starting state: bulk concentrations and phi = 0 (in charged layers the Donnan
    /// equilibrium with the bulk, with `donnan_start`), E from the drive (for a current, the
    /// overpotential that draws it uniformly over the electrode at bulk concentration).
    pub fn initial_state(&self, drive: Drive) -> Result<State, Error> {
        let p = &self.problem;
        let tp = p.tp;
        let m = p.m();
        let mut x = vec![0.0; self.free.len() * m];
        for a in 0..self.free.len() {
            // In a charged layer: the Donnan equilibrium with the bulk (exact at zero current).
            let fixed = if tp.donnan_start { p.fixed[a] } else { 0.0 };
            let psi = donnan_potential(&tp.charges, &tp.bulk, fixed);
            for i in 0..p.independent() {
                x[a * m + i] = tp.bulk[i].ln() - tp.charges[i] * psi;
            }
            x[a * m + m - 1] = psi;
        }
        let total_area: f64 = p.electrode.iter().map(|&(_, a)| a).sum();
        let e = match (drive, tp.closure) {
            (Drive::Potential(e), _) => e,
            (Drive::Current(target), closure) if closure.reacting() => {
                kinetics::overpotential_for(&tp.reactions, |r| r.gamma * total_area, target)
            }
            (Drive::Current(_), _) => {
                return Err(Error::input(
                    "operation.mode: a blocking pnp electrode (physics.pnp_electrode = \"blocking\") draws no current; use mode \"potential\" or physics.pnp_electrode = \"reacting\"",
                ))
            }
        };
        if p.solid.is_some() {
            let sv = p.solid_var();
            (0..self.free.len()).for_each(|a| x[a * m + sv] = e);
        }
        Ok(State { x, e })
    }

    /// Independent concentrations (scaled) of a state, free node-major, for time histories.
    pub fn concentrations(&self, st: &State) -> Vec<f64> {
        let p = &self.problem;
        let (m, k) = (p.m(), p.independent());
        (0..self.free.len()).flat_map(|a| (0..k).map(move |i| st.x[a * m + i].exp())).collect()
    }

    /// Length of [`Self::concentrations`]: the independent concentrations at the free nodes.
    pub fn independent_concentrations(&self) -> usize {
        self.free.len() * self.problem.independent()
    }

    /// Length of a state's unknown vector.
    pub fn unknowns(&self) -> usize {
        self.free.len() * self.problem.m()
    }

    /// Node volumes of the free nodes (scaled).
    pub fn volumes(&self) -> &[f64] {
        &self.problem.volume
    }

    /// Damped Newton from `st` (updated in place; [`super::newton`]) on `backend`. The solver's
    /// kept preconditioner, if any, is used until it degrades; callers decide when to forget it
    /// ([`GeneralLinearSolver::new_nonlinear_solve`]).
    pub fn newton(
        &mut self,
        st: &mut State,
        drive: Drive,
        acc: Option<&Accumulation>,
        backend: &mut TransportBackend,
        linear: &LinearParams,
        newton: &NewtonParams,
    ) -> Result<NewtonStats, Error> {
        let linear = LinearParams { block_size: self.problem.m(), ..*linear };
        let mut system = TransportNewton { transport: self, acc, backend, linear };
        newton::solve(&mut system, st, drive, newton)
    }

    /// A non-converged Newton solve at `st`, with the iterate and its f64 residual per node.
    pub fn failure(&self, message: String, st: &State, acc: Option<&Accumulation>, history: &[f64]) -> Error {
        let stats = NewtonStats { iterations: 0, linear_iterations: 0, history: history.to_vec() };
        let sol = self.solution(self.sys, st, stats);
        let m = self.problem.m();
        let residual = self.residual(st, acc);
        Error::NotConverged(Box::new(Failure {
            message,
            residual_history: history.to_vec(),
            phi: sol.phi,
            concentrations: sol.concentrations,
            nodal_residual: nodal_residual(self.sys.n(), &self.free, m, &residual),
            iterate: "the last Newton iterate",
        }))
    }

    /// `assembler` holding this problem's layout (uploaded on its first use here).
    fn prepared<'s>(
        &mut self,
        assembler: Option<&'s mut dyn JacobianAssembler>,
    ) -> Result<Option<&'s mut dyn JacobianAssembler>, Error> {
        let Some(device) = assembler else { return Ok(None) };
        if !self.device_prepared {
            device.prepare(&self.problem.device_layout()).map_err(device_error)?;
            self.device_prepared = true;
        }
        Ok(Some(device))
    }

    /// The residual at (x, e): the f64 host evaluation, or with a device `assembler` its
    /// residual (f32) completed by the host's constraint terms.
    fn residual_at(
        &mut self,
        x: &[f64],
        e: f64,
        acc: Option<&Accumulation>,
        assembler: Option<&mut dyn JacobianAssembler>,
    ) -> Result<Evaluation, Error> {
        let Some(assembler) = self.prepared(assembler)? else {
            return Ok(self.problem.evaluate_with(x, e, None, acc));
        };
        let mut residual = vec![0.0; x.len()];
        assembler.assemble(x, e, acc, JacobianOut::Skip, Some(&mut residual)).map_err(device_error)?;
        Ok(Evaluation { residual, ..self.problem.constraint_terms(x, e) })
    }

    /// The Jacobian at `st`: from the device `assembler` when there is one (returning None: the
    /// caller already holds the f64 residual at `st`), kept there with `keep_on_device` and
    /// otherwise read back into `self.jac`; else from the host evaluation into `self.jac`,
    /// which also returns the residual.
    fn assemble(
        &mut self,
        st: &State,
        acc: Option<&Accumulation>,
        assembler: Option<&mut dyn JacobianAssembler>,
        keep_on_device: bool,
    ) -> Result<Option<Evaluation>, Error> {
        self.jac_on_device = false;
        let Some(device) = self.prepared(assembler)? else {
            return Ok(Some(self.problem.evaluate_with(&st.x, st.e, Some(&mut self.jac), acc)));
        };
        let out = if keep_on_device { JacobianOut::Device } else { JacobianOut::Host(&mut self.jac.values) };
        device.assemble(&st.x, st.e, acc, out, None).map_err(device_error)?;
        self.jac_on_device = keep_on_device;
        Ok(None)
    }

    /// The Newton Jacobian at `st`, assembled on the device `assembler` when given, else on the
    /// host.
    pub fn jacobian(
        &mut self,
        st: &State,
        acc: Option<&Accumulation>,
        assembler: Option<&mut dyn JacobianAssembler>,
    ) -> Result<&CsrMatrix, Error> {
        self.assemble(st, acc, assembler, false)?;
        Ok(&self.jac)
    }

    /// The f64 host residual at `st` (without the galvanostatic constraint).
    pub fn residual(&self, st: &State, acc: Option<&Accumulation>) -> Vec<f64> {
        self.problem.evaluate_with(&st.x, st.e, None, acc).residual
    }

    /// The solution in mesh numbering (scaled).
    pub fn solution(&self, sys: &PotentialSystem, st: &State, stats: NewtonStats) -> TransportSolution {
        let p = &self.problem;
        let n = p.n_species;
        let values = p.node_values(&st.x);
        let concentrations: Vec<Vec<f64>> = (0..n).map(|i| values.c.iter().skip(i).step_by(n).copied().collect()).collect();
        let phi = values.phi;
        let mut reaction = match p.tp.closure {
            closure if closure.reacting() => electrode_fluxes(p, &st.x, st.e),
            _ => vec![0.0; p.electrode.len()],
        };
        let site_reaction = reaction.split_off(p.n_electrode);
        let solid_potential = p.solid.as_ref().map(|_| {
            let sv = p.solid_var();
            let m = p.m();
            let mut phi_s = vec![st.e; sys.n()];
            for (a, &nd) in self.free.iter().enumerate() {
                phi_s[nd as usize] = st.x[a * m + sv];
            }
            phi_s
        });
        TransportSolution {
            phi,
            concentrations,
            electrode_potential: st.e,
            electrode_flux: reaction,
            site_reaction,
            solid_potential,
            linear_iterations: stats.linear_iterations,
            nonlinear_iterations: stats.iterations,
            residual_history: stats.history,
            continuation_steps: 0,
        }
    }
}

fn device_error(e: String) -> Error {
    Error::Device(format!("transport assembly on the device: {e}"))
}

/// Solves the steady problem from the bulk state; when Newton cannot finish from there, by
/// continuation in the drive ([`super::continuation`]).
pub fn solve(
    sys: &PotentialSystem,
    edges: &Edges,
    tp: &TransportParams,
    drive: Drive,
    backend: &mut TransportBackend,
    linear: &LinearParams,
    newton: &NewtonParams,
) -> Result<TransportSolution, Error> {
    let mut t = TransportProblem::new(sys, edges, tp);
    let mut st = t.initial_state(drive)?;
    backend.solver.new_nonlinear_solve();
    match t.newton(&mut st, drive, None, backend, linear, newton) {
        Ok(stats) => Ok(t.solution(sys, &st, stats)),
        Err(cold) if cold.solve_message().is_some() => match super::continuation::ramp(&mut t, drive, backend, linear, newton) {
            Ok((st, stats, steps)) => Ok(TransportSolution { continuation_steps: steps, ..t.solution(sys, &st, stats) }),
            // The diagnostics keep the cold start's last iterate (from the bulk state).
            Err(ramp) => match ramp.solve_message() {
                Some(ramp) => Err(cold.map_solve_message(|cold| format!("{cold}; then {ramp}"))),
                None => Err(ramp),
            },
        },
        Err(other) => Err(other),
    }
}

/// Relative linear residual a Newton step is taken with when the Krylov solver stalls short of
/// its target: an inexact Newton step (the forcing term of Dembo, Eisenstat and Steihaug), still
/// a descent direction; Newton's convergence is judged on the f64 nonlinear residual.
pub const INEXACT_NEWTON_RTOL: f64 = 1e-6;

/// Solves with the backend's general solver: host values in `a`, or the Jacobian the device
/// kept (`on_device`, with `a`'s pattern).
fn general(
    solver: &mut dyn GeneralLinearSolver,
    a: &CsrMatrix,
    on_device: Option<&dyn DeviceMatrixValues>,
    b: &[f64],
    x: &mut [f64],
    p: &LinearParams,
) -> Result<u32, Error> {
    let solved = match on_device {
        Some(values) => solver.solve_device(a, values, b, x, p),
        None => solver.solve_general(a, b, x, p),
    };
    match solved {
        Ok(info) => Ok(info.iterations),
        Err(LinearError::NoConvergence { iterations, relative_residual, .. }) if relative_residual <= INEXACT_NEWTON_RTOL => {
            Ok(iterations)
        }
        Err(e) => Err(match Error::from(e) {
            Error::Solve(msg) => Error::Solve(format!("transport Newton linear solve: {msg}")),
            other => other,
        }),
    }
}

/// The transport problem as Newton sees it: host or device residuals and Jacobians, solved by
/// the backend's general solver with node blocks of `m` unknowns.
struct TransportNewton<'t, 'a, 'b> {
    transport: &'t mut TransportProblem<'a>,
    acc: Option<&'t Accumulation>,
    backend: &'t mut TransportBackend<'b>,
    linear: LinearParams,
}

impl NewtonSystem for TransportNewton<'_, '_, '_> {
    fn name(&self) -> &'static str {
        "transport"
    }

    /// With a device assembler the first iterations run on its f32 residual.
    fn has_rough_residual(&mut self) -> bool {
        self.backend.assembler.is_some()
    }

    fn evaluate(&mut self, x: &[f64], e: f64, rough: bool) -> Result<Evaluation, Error> {
        let assembler = if rough { self.backend.assembler() } else { None };
        self.transport.residual_at(x, e, self.acc, assembler)
    }

    /// A device Jacobian stays on the device when the solver takes it there.
    fn linearize(&mut self, st: &State) -> Result<Option<Evaluation>, Error> {
        let keep = self.backend.solver.takes_device_values();
        self.transport.assemble(st, self.acc, self.backend.assembler(), keep)
    }

    fn solve(&mut self, b: &[f64], u: &mut [f64]) -> Result<u32, Error> {
        let on_device = match self.transport.jac_on_device {
            true => Some(
                self.backend
                    .assembler
                    .as_deref()
                    .and_then(|a| a.device_values())
                    .ok_or_else(|| device_error("the Jacobian kept on the device is gone".into()))?,
            ),
            false => None,
        };
        general(&mut *self.backend.solver, &self.transport.jac, on_device, b, u, &self.linear)
    }

    /// At most a factor e^2 in any concentration, 8 V_T in any potential.
    fn step_limit(&self, u: &[f64], de: f64) -> f64 {
        let p = &self.transport.problem;
        let m = p.m();
        let mut scale = 1.0f64;
        for (k, du) in u.iter().enumerate() {
            let potential = k % m == m - 1 || (p.solid.is_some() && k % m == p.solid_var());
            let cap = if potential { 8.0 } else { 2.0 };
            scale = scale.min(cap / du.abs().max(1e-300));
        }
        scale.min(8.0 / de.abs().max(1e-300))
    }

    fn admissible(&self, x: &[f64]) -> bool {
        self.transport.problem.admissible(x)
    }

    fn failure(&mut self, message: String, st: &State, history: &[f64]) -> Error {
        self.transport.failure(message, st, self.acc, history)
    }
}
