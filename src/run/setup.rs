//! Model setup: every conversion of scene values (SI units) into the solver's scaled parameters,
//! in one place.
//!
//! Scales (see [`crate::physics::scaling`]): lengths by L (the run's length scale), potentials by
//! V_T = RT/F, concentrations by c_ref (the largest bulk concentration), diffusivities by D_ref
//! (the largest), times by L^2 / D_ref. The potential models' current unit is kappa V_T L; the
//! transport models' is n F D_ref c_ref L (an equivalent conductivity n F D_ref c_ref / V_T).

use crate::mesh::TetMesh;
use crate::physics::constants::{FARADAY, GAS_CONSTANT, VACUUM_PERMITTIVITY};
use crate::physics::electrolyte::Electrolyte;
use crate::physics::kinetics::{ButlerVolmer, Reaction};
use crate::physics::scaling::Scaling;
use crate::scene::{self, Model, OperationMode, PnpElectrode, Scene, Species};
use crate::solve::linear::{LinearParams, Preconditioner};
use crate::solve::newton::NewtonParams;
use crate::solve::primary::Drive;
use crate::solve::secondary::KineticBoundary;
use crate::solve::transient::TimeParams;
use crate::solve::transport::{Closure, TransportParams};

/// A scene's model in the solver's scaled units.
pub struct ModelSetup {
    pub model: Model,
    /// The electrolyte's conductivity, transference number and diffusivities as the model uses
    /// them (the transport models' effective species).
    pub electrolyte: Electrolyte,
    pub scaling: Scaling,
    /// Projected electrode area, m^2 (the applied current is a density over it).
    pub projected_area_m2: f64,
    /// The operation's own ("on") value: V or A/m^2.
    pub on_value: f64,
    pub mode: OperationMode,
    /// The applied drive of a steady run.
    pub drive: Drive,
    pub linear: LinearParams,
    pub newton: NewtonParams,
    /// c_ref, mol/m^3.
    pub c_ref: f64,
    /// The secondary model's kinetic boundary.
    pub kinetics: KineticBoundary,
    /// The transport models' parameters (tertiary, pnp).
    pub transport: Option<TransportParams>,
    /// Time stepping of a transient run, and the time scale L^2 / D_ref (s).
    pub time: Option<(TimeParams, f64)>,
}

impl ModelSetup {
    /// Scaled parameters of `scene` with length scale `length_m` and projected electrode area
    /// `projected_area_m2`.
    pub fn new(scene: &Scene, length_m: f64, projected_area_m2: f64) -> Self {
        let ph = &scene.physics;
        let electrolyte = Electrolyte::of(ph);
        let scaling = model_scaling(scene, &electrolyte, length_m);
        let op = &scene.operation;
        let on_value = match op.mode {
            OperationMode::Potential => op.electrode_potential_v.unwrap_or(0.0),
            OperationMode::Current => op.mean_current_density_a_m2.unwrap_or(0.0),
        };
        let transport = ph.model.has_transport().then(|| transport_params(scene, &electrolyte.species, &scaling));
        let time = match (&transport, &scene.time) {
            (Some(_), Some(tc)) => {
                let tscale = scaling.length_m * scaling.length_m / reference_diffusivity(&electrolyte.species);
                Some((time_params(scene, tc, tscale), tscale))
            }
            _ => None,
        };
        let mut setup = ModelSetup {
            model: ph.model,
            electrolyte,
            scaling,
            projected_area_m2,
            on_value,
            mode: op.mode,
            drive: Drive::Potential(0.0),
            linear: LinearParams {
                rtol: scene.solver.linear_rtol,
                max_iterations: scene.solver.linear_max_iterations,
                block_size: 1,
                preconditioner: preconditioner(scene.solver.preconditioner),
            },
            newton: NewtonParams {
                tol: scene.solver.newton_tol_thermal_voltages,
                max_iterations: scene.solver.newton_max_iterations,
            },
            c_ref: reference_concentration(scene),
            kinetics: KineticBoundary {
                // One reaction per scene today: zinc plating (`physics.kinetics`).
                reactions: vec![Reaction {
                    species: None,
                    law: ButlerVolmer::from_scene(&ph.kinetics),
                    cathodic_order: 0.0,
                    gamma: scaling.kinetic_number(ph.kinetics.exchange_current_density_a_m2),
                }],
                conductivity_s_m: scaling.conductivity_s_m,
            },
            transport,
            time,
        };
        setup.drive = setup.drive_of(on_value);
        setup
    }

    /// An applied value in the operation's unit (V or A/m^2) as the solver's scaled drive.
    pub fn drive_of(&self, value: f64) -> Drive {
        match self.mode {
            OperationMode::Potential => Drive::Potential(value / self.scaling.thermal_voltage_v),
            OperationMode::Current => Drive::Current(self.scaling.scaled_current(value * self.projected_area_m2)),
        }
    }

    /// The drive of a transient step over the scaled interval `[t0, t1]` (the scene's waveform
    /// over it, or the on value; see [`crate::scene::Waveform::value_over`]).
    pub fn drive_over(&self, scene: &Scene, t0: f64, t1: f64) -> Drive {
        let tscale = self.time.as_ref().map_or(1.0, |(_, s)| *s);
        let value =
            scene.operation.waveform.as_ref().map_or(self.on_value, |w| w.value_over(t0 * tscale, t1 * tscale, self.on_value));
        self.drive_of(value)
    }
}

/// The solver's preconditioner for the scene's choice.
pub fn preconditioner(choice: scene::Preconditioner) -> Preconditioner {
    match choice {
        scene::Preconditioner::Jacobi => Preconditioner::Jacobi,
        scene::Preconditioner::Amg => Preconditioner::Amg,
    }
}

/// Scales of the model's discrete problem. For the potential models the flux-to-ampere factor
/// is kappa V_T L; for the transport models the scaled fluxes are species fluxes in units of
/// D_ref c_ref L, so the same conversions hold with the equivalent conductivity
/// n F D_ref c_ref / V_T (D_ref of the `electrolyte`'s effective species).
pub fn model_scaling(scene: &Scene, electrolyte: &Electrolyte, length_scale: f64) -> Scaling {
    let ph = &scene.physics;
    let mut s = Scaling::new(length_scale, ph.temperature_k, electrolyte.conductivity_s_m);
    if ph.model.has_transport() {
        let n = ph.kinetics.electrons as f64;
        s.conductivity_s_m =
            n * FARADAY * reference_diffusivity(&electrolyte.species) * reference_concentration(scene) / s.thermal_voltage_v;
    }
    s
}

/// D_ref: the largest species diffusivity, m^2/s.
fn reference_diffusivity(species: &[Species]) -> f64 {
    species.iter().map(|x| x.diffusivity_m2_s).fold(0.0, f64::max)
}

/// c_ref: the largest bulk concentration, mol/m^3.
pub fn reference_concentration(scene: &Scene) -> f64 {
    scene.physics.species.iter().map(|x| x.bulk_concentration_mol_m3).fold(0.0, f64::max)
}

/// Time stepping in units of `tscale` (s).
fn time_params(scene: &Scene, tc: &scene::TimeControls, tscale: f64) -> TimeParams {
    TimeParams {
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
        jumps: scene
            .operation
            .waveform
            .as_ref()
            .map(|w| w.jumps(tc.end_s).iter().map(|b| b / tscale).collect())
            .unwrap_or_default(),
        preconditioner_reuse_steps: tc.preconditioner_reuse_steps,
    }
}

/// Scaled parameters of the transport models, with the effective `species`.
fn transport_params(scene: &Scene, species: &[Species], scaling: &Scaling) -> TransportParams {
    let ph = &scene.physics;
    let k = &ph.kinetics;
    let d_ref = reference_diffusivity(species);
    let c_ref = reference_concentration(scene);
    let n = k.electrons as f64;
    let rt = GAS_CONSTANT * ph.temperature_k;
    let l = scaling.length_m;
    TransportParams {
        charges: ph.species.iter().map(|x| x.charge as f64).collect(),
        diffusivities: species.iter().map(|x| x.diffusivity_m2_s / d_ref).collect(),
        bulk: ph.species.iter().map(|x| x.bulk_concentration_mol_m3 / c_ref).collect(),
        // One reaction per scene today: zinc plating (`physics.kinetics`).
        reactions: vec![Reaction {
            species: Some(ph.reacting_species_index()),
            law: ButlerVolmer::from_scene(k),
            cathodic_order: k.cathodic_reaction_order,
            gamma: k.exchange_current_density_a_m2 * l / (n * FARADAY * d_ref * c_ref),
        }],
        closure: match ph.model {
            Model::Pnp => Closure::Poisson {
                // Written factor by factor (not with `rt`) so the rounding matches earlier releases.
                lambda: VACUUM_PERMITTIVITY * ph.relative_permittivity * GAS_CONSTANT * ph.temperature_k
                    / (FARADAY * FARADAY * c_ref * l * l),
                stern: (ph.pnp_electrode == PnpElectrode::Reacting)
                    .then(|| ph.stern_capacitance_f_m2 * GAS_CONSTANT * ph.temperature_k / (FARADAY * FARADAY * c_ref * l)),
            },
            _ => Closure::Electroneutral,
        },
        concentration_scale: c_ref,
        conductivity_unit: FARADAY * FARADAY * d_ref * c_ref / rt,
        donnan_start: scene.solver.initial_state == scene::InitialState::Donnan,
    }
}

/// Planar limiting current density (A/m^2) across the electrolyte's height (the Nernst layer of
/// the box; the z-extent of an imported mesh): the binary-salt formula for two species, the
/// supported-electrolyte formula for more (with the effective diffusivities, see
/// [`Electrolyte`]).
pub fn planar_limiting_current(scene: &Scene, mesh: &TetMesh) -> f64 {
    let ph = &scene.physics;
    let species = Electrolyte::of(ph).species;
    let delta = if scene.geometry.mesh_file.is_some() {
        let (lo, hi) = mesh.nodes.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.z), hi.max(p.z)));
        hi - lo
    } else {
        scene.geometry.height_m
    };
    let r = ph.reacting_species_index();
    if ph.species.len() == 2 {
        crate::physics::transport::binary_limiting_current(&species[r], &species[1 - r], delta)
    } else {
        crate::physics::transport::supported_limiting_current(&species[r], ph.kinetics.electrons as f64, delta)
    }
}
