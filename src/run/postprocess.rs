//! Stage 5 of a run: post-processing. The scaled solution becomes fields and metrics in SI units:
//! potential, field and current density maps, the electrode's current distribution, the species
//! concentrations, the transient time series and snapshots, and the coating's metrics.

use std::collections::BTreeMap;

use glam::{DMat3, DVec3};

use super::solve_model::{Solved, TransientRecord};
use super::{RunSoFar, TimeSeriesRow, TransientOutput};
use crate::output::coating::{self, CoatingInputs, CoatingSummary};
use crate::output::metrics::{self, area_stats, ElectrodeMetrics, Fields};
use crate::output::summary::{FieldMaxima, MinConcentration};
use crate::physics::constants::FARADAY;
use crate::physics::edge_flux::log_mean_flux;
use crate::scene::{Model, Scene};
use crate::solve::transport::TransportSolution;

/// Fields and metrics of a solved run, SI units.
pub struct PostProcessed {
    pub fields: Fields,
    pub electrode: ElectrodeMetrics,
    /// Largest field magnitudes in the electrolyte, V/m (away from and at charge interfaces).
    pub max_field: FieldMaxima,
    /// Smallest concentration of each species on the electrode and in the domain (transport).
    pub min_concentration: Option<BTreeMap<String, MinConcentration>>,
    pub transient: Option<TransientOutput>,
    pub coating: Option<CoatingSummary>,
}

/// Fields and metrics of `solved`.
pub fn postprocess(inputs: &RunSoFar, solved: &Solved) -> PostProcessed {
    let (scene, setup) = (inputs.scene, inputs.setup);
    let kinetic = scene.physics.model.has_kinetics(scene.physics.pnp_electrode);
    let cell_current = solved.transport.as_ref().map(|t| transport_cell_current(inputs, t));
    let (mut fields, electrode, max_field) = metrics::evaluate(
        inputs.mesh,
        inputs.sys,
        &solved.potential,
        &setup.scaling,
        setup.projected_area_m2,
        kinetic,
        cell_current,
    );
    let mut electrode = electrode;
    let min_concentration = solved.transport.as_ref().map(|t| {
        fields.concentrations = species_fields(scene, &t.concentrations, setup.c_ref);
        if kinetic && !scene.physics.kinetics.linearized {
            let (eta, shift) = kinetic_overpotential(inputs, &solved.potential, &fields.concentrations);
            let l2 = setup.scaling.length_m * setup.scaling.length_m;
            let areas: Vec<f64> = inputs.sys.electrode_area.iter().map(|a| a * l2).collect();
            electrode.overpotential = Some(area_stats(&eta, &areas));
            electrode.equilibrium_shift = Some(area_stats(&shift, &areas));
            fields.electrode_overpotential = eta;
        }
        concentration_summary(&fields.concentrations, &inputs.sys.electrode)
    });
    let protrusions: Vec<(String, [f64; 2], f64, f64)> =
        scene.geometry.all_protrusions().into_iter().map(|(key, p)| (key, p.center(), p.reach(), p.footprint_area())).collect();
    if !protrusions.is_empty() && electrode.total_current != 0.0 {
        let far_field = electrode.total_current / electrode.projected_area;
        // Flux over lumped area: the faces' linear integral then returns each node's flux.
        let sys = inputs.sys;
        let density: Vec<f64> = (solved.potential.electrode_flux.iter().zip(&sys.electrode_lumped_area))
            .map(|(q, a)| setup.scaling.current_density_a_m2(q / a))
            .collect();
        electrode.protrusions = metrics::protrusion_currents(inputs.mesh, &sys.electrode, &density, far_field, &protrusions);
    }
    let transient = solved.transient.as_ref().map(|record| transient_output(inputs, record));
    let coating_inputs = CoatingInputs {
        scene,
        mesh: inputs.mesh,
        sys: inputs.sys,
        scaling: &setup.scaling,
        electrode_flux: &solved.potential.electrode_flux,
        site_reaction: &solved.potential.site_reaction,
        concentrations: solved.transport.as_ref().map(|_| fields.concentrations.as_slice()),
        electrolyte: &setup.electrolyte,
        media: inputs.media,
    };
    let coating = coating::summarize(&coating_inputs);
    fields.volumetric_plating = coating::volumetric_plating_cells(&coating_inputs);
    fields.scaffold_plating = coating::scaffold_plating_nodes(&coating_inputs);
    fields.charge_interface = charge_interface_cells(inputs);
    let max_field = field_maxima(&fields, max_field);
    PostProcessed { fields, electrode, max_field, min_concentration, transient, coating }
}

/// The tets whose nodes carry different fixed charges, in the tertiary model with a charged
/// layer: there the electroneutral Donnan potential jumps within a cell or two, a field that
/// grows as 1/h under refinement. Empty otherwise.
fn charge_interface_cells(inputs: &RunSoFar) -> Vec<bool> {
    let fixed = inputs.sys.fixed_charge();
    if inputs.scene.physics.model != Model::Tertiary || fixed.iter().all(|&q| q == 0.0) {
        return Vec::new();
    }
    let differs = |t: &[u32; 4]| {
        let q = t.map(|n| fixed[n as usize]);
        let scale = q.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        q.iter().any(|v| (v - q[0]).abs() > 1e-9 * scale)
    };
    inputs.mesh.tets.iter().map(differs).collect()
}

/// The largest field magnitude (`overall`, V/m) split, where `fields.charge_interface` marks
/// cells, into the cells away from the charged layer's interfaces and those at them.
fn field_maxima(fields: &Fields, overall: f64) -> FieldMaxima {
    if fields.charge_interface.is_empty() {
        return FieldMaxima { away: overall, at_charge_interfaces: None };
    }
    let (mut away, mut at) = (0.0f64, 0.0f64);
    for (e, &interface) in fields.field.iter().zip(&fields.charge_interface) {
        match interface {
            true => at = at.max(e.length()),
            false => away = away.max(e.length()),
        }
    }
    FieldMaxima { away, at_charge_interfaces: Some(at) }
}

/// A transient run's time series and snapshot fields in SI units.
fn transient_output(inputs: &RunSoFar, record: &TransientRecord) -> TransientOutput {
    let (scene, setup) = (inputs.scene, inputs.setup);
    let tscale = setup.time.as_ref().map_or(1.0, |(_, s)| *s);
    let kinetic = scene.physics.model.has_kinetics(scene.physics.pnp_electrode);
    TransientOutput {
        species: scene.physics.species.iter().map(|x| x.name.clone()).collect(),
        rows: record
            .rows
            .iter()
            .map(|r| TimeSeriesRow {
                time_s: r.t * tscale,
                electrode_potential_v: r.electrode_potential * setup.scaling.thermal_voltage_v,
                min_surface: r.min_surface.iter().map(|c| c * setup.c_ref).collect(),
                max_current_density: setup.scaling.current_density_a_m2(r.max_reaction_density),
            })
            .collect(),
        snapshots: record
            .snapshots
            .iter()
            .map(|(t, sol)| {
                let current = transport_cell_current(inputs, sol);
                let potential = sol.as_potential_solution();
                let (mut f, _, _) = metrics::evaluate(
                    inputs.mesh,
                    inputs.sys,
                    &potential,
                    &setup.scaling,
                    setup.projected_area_m2,
                    kinetic,
                    Some(current),
                );
                f.concentrations = species_fields(scene, &sol.concentrations, setup.c_ref);
                // The scaffold's deposition at this time, as fields.vtu carries it at the end.
                f.volumetric_plating = coating::volumetric_plating_cells(&CoatingInputs {
                    scene,
                    mesh: inputs.mesh,
                    sys: inputs.sys,
                    scaling: &setup.scaling,
                    electrode_flux: &potential.electrode_flux,
                    site_reaction: &potential.site_reaction,
                    concentrations: Some(&f.concentrations),
                    electrolyte: &setup.electrolyte,
                    media: inputs.media,
                });
                (t * tscale, f)
            })
            .collect(),
    }
}

/// The kinetic overpotential `E - phi - dE_eq(c_s)` and the equilibrium shift `dE_eq` at the
/// electrode nodes, V (see [`crate::output::metrics::ElectrodeMetrics::equilibrium_shift`]).
fn kinetic_overpotential(
    inputs: &RunSoFar,
    potential: &crate::solve::PotentialSolution,
    concentrations: &[(String, Vec<f64>)],
) -> (Vec<f64>, Vec<f64>) {
    let ph = &inputs.scene.physics;
    let k = &ph.kinetics;
    let r = ph.reacting_species_index();
    let bulk = ph.species[r].bulk_concentration_mol_m3;
    let vt = inputs.setup.scaling.thermal_voltage_v;
    let per_log = vt * k.cathodic_reaction_order / ((k.alpha_a + k.alpha_c) * k.electrons as f64);
    let c = &concentrations[r].1;
    let nodes = &inputs.sys.electrode;
    let shift: Vec<f64> = nodes.iter().map(|&n| per_log * (c[n as usize] / bulk).ln()).collect();
    let eta: Vec<f64> =
        nodes.iter().zip(&shift).map(|(&n, s)| (potential.electrode_potential - potential.phi[n as usize]) * vt - s).collect();
    (eta, shift)
}

/// Named concentration fields in mol/m^3 from scaled ones.
fn species_fields(scene: &Scene, conc: &[Vec<f64>], c_ref: f64) -> Vec<(String, Vec<f64>)> {
    scene.physics.species.iter().zip(conc).map(|(sp, c)| (sp.name.clone(), c.iter().map(|v| v * c_ref).collect())).collect()
}

/// Current density per tet, A/m^2, reconstructed from the scheme's own edge fluxes: for each
/// species the constant flux vector J of the tet that best matches, in least squares over its six
/// edges d_e = x_k - x_j, the edge flux per unit weight
/// `J . d_e = f D [(c_j - c_k) - z (phi_k - phi_j) L(c_j, c_k)]` (the log-mean flux of
/// [`crate::physics::edge_flux`], f the layer's transport factor), then `i = F sum_i z_i J_i`.
/// Exact for linear fields; in a Boltzmann equilibrium (a Donnan jump, a diffuse layer) every
/// edge flux vanishes and so does the current, where element-mean concentrations times the mean
/// field (used before) left spurious currents of thousands of A/m^2.
fn transport_cell_current(inputs: &RunSoFar, sol: &TransportSolution) -> Vec<DVec3> {
    let (mesh, c_ref) = (inputs.mesh, inputs.setup.c_ref);
    let species = &inputs.setup.electrolyte.species;
    const EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)];
    mesh.tets
        .iter()
        .zip(&inputs.media.transport_factor)
        .map(|(t, &factor)| {
            let x = t.map(|n| mesh.nodes[n as usize]);
            let normal = EDGES.iter().fold(DMat3::ZERO, |m, &(j, k)| {
                let d = x[k] - x[j];
                m + DMat3::from_cols(d * d.x, d * d.y, d * d.z)
            });
            if normal.determinant().abs() <= f64::EPSILON * normal.x_axis.length().powi(3) {
                return DVec3::ZERO;
            }
            let inverse = normal.inverse();
            species.iter().zip(&sol.concentrations).fold(DVec3::ZERO, |acc, (sp, c)| {
                let z = sp.charge as f64;
                let rhs = EDGES.iter().fold(DVec3::ZERO, |rhs, &(j, k)| {
                    let (a, b) = (t[j] as usize, t[k] as usize);
                    let f = log_mean_flux(c[a] * c_ref, c[b] * c_ref, z, sol.phi[b] - sol.phi[a]);
                    rhs + (x[k] - x[j]) * (factor * sp.diffusivity_m2_s * f.flux)
                });
                acc + FARADAY * z * (inverse * rhs)
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
