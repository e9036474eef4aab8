//! Physical metrics of a solved potential problem, in SI units.
//!
//! Current densities are normal to the electrode and reported as magnitudes in the direction of
//! the net current (`direction`: "cathodic" means zinc plating). Definitions:
//! - `mean`: total current / true electrode area (area-weighted mean);
//! - `max`, `min`, `std`: of the smoothed nodal current density (see [`crate::fem::recovery`]), `std`
//!   area-weighted;
//! - `tip_enhancement`: max / (total current / projected electrode area), the classic
//!   enhancement factor (3 for a hemisphere in the primary distribution; below 1 for a uniform
//!   current on a surface larger than its footprint);
//! - `peak_to_mean`: max / mean on the real surface (1 for a uniform current);
//! - `nonuniformity`: std / mean.

use glam::DVec3;
use serde::Serialize;

use crate::fem::element::P1Tet;
use crate::fem::recovery::SurfaceRecovery;
use crate::mesh::{BoundaryTag, TetMesh};
use crate::physics::scaling::Scaling;
use crate::solve::system::PotentialSystem;
use crate::solve::PotentialSolution;

/// Statistics of a nodal field.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stats {
    pub mean: f64,
    pub max: f64,
    pub min: f64,
    pub std: f64,
}

/// Electrode metrics.
#[derive(Debug, Clone, Serialize)]
pub struct ElectrodeMetrics {
    /// Normal current density in the direction of the net current, A/m^2.
    #[serde(rename = "current_density_A_m2")]
    pub current_density: Stats,
    /// Absent when no net current flows (a blocking electrode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tip_enhancement: Option<f64>,
    /// Peak over the area-weighted mean on the real electrode surface (1 for a uniform current).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_to_mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonuniformity: Option<f64>,
    /// Net current through the electrode, A (anodic positive).
    #[serde(rename = "total_current_A")]
    pub total_current: f64,
    /// "cathodic" (plating) or "anodic" (stripping).
    pub direction: &'static str,
    /// Electrode potential vs a reference at the bulk boundary, V.
    #[serde(rename = "potential_V")]
    pub potential: f64,
    /// Kinetic overpotential at the electrode, V (kinetic models): `E - phi - dE_eq`, the part of
    /// the metal-solution potential difference that drives the reaction (for a reacting pnp
    /// electrode phi is the reaction-plane potential); area-weighted mean and std, extreme nodal
    /// values.
    #[serde(rename = "overpotential_V", skip_serializing_if = "Option::is_none")]
    pub overpotential: Option<Stats>,
    /// `dE_eq`, the shift of the equilibrium potential with the surface concentration of the
    /// reacting species, V (transport models with Butler–Volmer kinetics):
    /// `gamma V_T ln(c_s / c_bulk) / ((alpha_a + alpha_c) n)`, the potential at which the
    /// reaction draws no current at that concentration (Nernst for gamma = 1, alpha_a + alpha_c = 1).
    /// It carries a Donnan potential at a charged layer and the concentration overpotential of a
    /// depleted surface.
    #[serde(rename = "equilibrium_shift_V", skip_serializing_if = "Option::is_none")]
    pub equilibrium_shift: Option<Stats>,
    /// Each protrusion's current and its enhancement (see [`ProtrusionCurrent`]); empty without
    /// protrusions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub protrusions: Vec<ProtrusionCurrent>,
    /// True electrode area, m^2.
    #[serde(rename = "area_m2")]
    pub area: f64,
    /// Projected electrode area, m^2.
    #[serde(rename = "projected_area_m2")]
    pub projected_area: f64,
}

/// Per-node and per-tet fields for export, SI units.
pub struct Fields {
    /// Electrolyte potential at nodes, V.
    pub potential: Vec<f64>,
    /// Electric field -grad phi per tet, V/m.
    pub field: Vec<DVec3>,
    /// Current density kappa E per tet, A/m^2.
    pub current_density: Vec<DVec3>,
    /// Raw nodal normal current density at electrode nodes (anodic positive), A/m^2.
    pub electrode_raw: Vec<f64>,
    /// Smoothed nodal normal current density at electrode nodes (anodic positive), A/m^2.
    pub electrode_smoothed: Vec<f64>,
    /// Kinetic overpotential `E - phi - dE_eq` at electrode nodes, V (kinetic models; empty
    /// otherwise): see [`ElectrodeMetrics::overpotential`].
    pub electrode_overpotential: Vec<f64>,
    /// Plating current per unit volume of each tet of a homogenized porous electrode, A/m^3
    /// (deposition positive; empty without one): [`crate::output::coating::volumetric_plating_cells`].
    pub volumetric_plating: Vec<f64>,
    /// Plating current density on a resolved scaffold's surface at each node, A/m^2 (deposition
    /// positive; empty without a reacting scaffold): [`crate::output::coating::scaffold_plating_nodes`].
    pub scaffold_plating: Vec<f64>,
    /// Concentration of each species at nodes (transport models), mol/m^3.
    pub concentrations: Vec<(String, Vec<f64>)>,
    /// Solid-phase potential of a resistive scaffold at nodes (E elsewhere), V.
    pub solid_potential: Option<Vec<f64>>,
    /// Per tet: whether its nodes carry different fixed charges (a charged layer's faces in the
    /// tertiary model, where the electroneutral Donnan potential jumps within the cell, a field
    /// that grows as 1/h); empty when no tet does.
    pub charge_interface: Vec<bool>,
}

/// The current into one protrusion: the residual (variationally consistent) electrode fluxes of
/// [`crate::fem::boundary_flux`], each node's flux shared among its electrode faces in proportion
/// to their lumped areas, summed over the faces above the plane within the protrusion's reach.
/// Summed over every electrode face it is exactly the total current; no smoothing enters.
/// `current_enhancement` = that current / (the far-field mean, total current / projected area,
/// times the footprint area): the protrusion's current over what its footprint would draw on a
/// flat electrode; exactly 1/N_z for a conducting hemi-spheroid in the primary distribution (3
/// for a hemisphere) in an unbounded cell. An integral quantity: it converges where the peak
/// does not.
#[derive(Debug, Clone, Serialize)]
pub struct ProtrusionCurrent {
    /// The protrusion's scene key.
    pub key: String,
    /// Current into it, A (anodic positive).
    #[serde(rename = "current_A")]
    pub current: f64,
    pub current_enhancement: f64,
}

/// Each protrusion's current from the nodal flux densities `density` (residual flux over lumped
/// area, aligned with `electrode_nodes`): a face's share of node j's flux is its area / 3 times
/// node j's density. `protrusions` lists (key, footprint centre, reach, footprint area), all in m.
pub fn protrusion_currents(
    mesh: &TetMesh,
    electrode_nodes: &[u32],
    density: &[f64],
    far_field_density: f64,
    protrusions: &[(String, [f64; 2], f64, f64)],
) -> Vec<ProtrusionCurrent> {
    let mut value = vec![f64::NAN; mesh.nodes.len()];
    electrode_nodes.iter().zip(density).for_each(|(&n, &v)| value[n as usize] = v);
    let (lo, hi) = mesh.bounding_box();
    let height = hi[2] - lo[2];
    let mut current = vec![0.0; protrusions.len()];
    for f in mesh.faces_with(BoundaryTag::Electrode) {
        let corners = mesh.faces[f].map(|n| mesh.nodes[n as usize]);
        let centroid = (corners[0] + corners[1] + corners[2]) / 3.0;
        if centroid.z <= 1e-9 * height {
            continue;
        }
        let owner = protrusions
            .iter()
            .position(|(_, c, reach, _)| (centroid.x - c[0]).hypot(centroid.y - c[1]) <= reach * (1.0 + 1e-9) + 1e-12 * height);
        let values = mesh.faces[f].map(|n| value[n as usize]);
        if let (Some(k), true) = (owner, values.iter().all(|v| v.is_finite())) {
            current[k] += mesh.face_area_vector(f).length() * (values[0] + values[1] + values[2]) / 3.0;
        }
    }
    protrusions
        .iter()
        .zip(current)
        .map(|((key, _, _, footprint), i)| ProtrusionCurrent {
            key: key.clone(),
            current: i,
            current_enhancement: i / (far_field_density * footprint),
        })
        .collect()
}

/// Computes fields and metrics.
pub fn evaluate(
    mesh: &TetMesh,
    sys: &PotentialSystem,
    sol: &PotentialSolution,
    scaling: &Scaling,
    projected_area: f64,
    kinetic: bool,
    cell_current: Option<Vec<DVec3>>,
) -> (Fields, ElectrodeMetrics, f64) {
    let vt = scaling.thermal_voltage_v;
    let potential: Vec<f64> = sol.phi.iter().map(|p| p * vt).collect();
    let field: Vec<DVec3> = mesh
        .tets
        .iter()
        .map(|t| {
            let el = P1Tet::new(t.map(|n| mesh.nodes[n as usize]));
            -el.gradient(t.map(|n| potential[n as usize]))
        })
        .collect();
    let current_density: Vec<DVec3> = cell_current
        .unwrap_or_else(|| field.iter().zip(&sys.transport_factor).map(|(e, f)| *e * f * scaling.conductivity_s_m).collect());
    let max_field = field.iter().map(|e| e.length()).fold(0.0, f64::max);

    let l2 = scaling.length_m * scaling.length_m;
    // Each node's flux over its own area in the balance (a circumcentric dual area under the
    // circumcentric scheme), its best pointwise estimate; integrals go by the lumped areas.
    let areas_m2: Vec<f64> = sys.electrode_area.iter().map(|a| a * l2).collect();
    let electrode_raw: Vec<f64> =
        sol.electrode_flux.iter().zip(&sys.electrode_area).map(|(q, a)| scaling.current_density_a_m2(q / a)).collect();
    let recovery = SurfaceRecovery::new(mesh, BoundaryTag::Electrode, &sys.electrode, &areas_m2);
    let electrode_smoothed = recovery.smooth(&electrode_raw);
    let total_current = scaling.current_a(sol.electrode_flux.iter().sum());
    let area: f64 = sys.electrode_lumped_area.iter().sum::<f64>() * l2;
    let sign = if total_current < 0.0 { -1.0 } else { 1.0 };
    let mean = sign * total_current / area;
    let (mut max, mut min) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut var = 0.0;
    for (v, a) in electrode_smoothed.iter().zip(&areas_m2) {
        let v = sign * v;
        max = max.max(v);
        min = min.min(v);
        var += a * (v - mean) * (v - mean);
    }
    let std = (var / area).sqrt();
    let max = if total_current != 0.0 { recovery.peak(&electrode_smoothed, sign) } else { max };
    let electrode_overpotential: Vec<f64> = match kinetic {
        true => sys.electrode.iter().map(|&n| (sol.electrode_potential - sol.phi[n as usize]) * vt).collect(),
        false => Vec::new(),
    };
    let overpotential = kinetic.then(|| area_stats(&electrode_overpotential, &areas_m2));
    let metrics = ElectrodeMetrics {
        current_density: Stats { mean, max, min, std },
        tip_enhancement: (total_current != 0.0).then(|| max / (sign * total_current / projected_area)),
        peak_to_mean: (total_current != 0.0).then(|| max / mean),
        nonuniformity: (total_current != 0.0).then(|| std / mean),
        total_current,
        direction: if total_current == 0.0 {
            "none"
        } else if sign < 0.0 {
            "cathodic"
        } else {
            "anodic"
        },
        potential: sol.electrode_potential * vt,
        overpotential,
        equilibrium_shift: None,
        protrusions: Vec::new(),
        area,
        projected_area,
    };
    (
        Fields {
            potential,
            field,
            current_density,
            electrode_raw,
            electrode_smoothed,
            electrode_overpotential,
            volumetric_plating: Vec::new(),
            scaffold_plating: Vec::new(),
            concentrations: Vec::new(),
            solid_potential: sol.solid_potential.as_ref().map(|p| p.iter().map(|v| v * vt).collect()),
            charge_interface: Vec::new(),
        },
        metrics,
        max_field,
    )
}

/// The peak of the recovered electrode reaction density in the direction of the net reaction,
/// in the units of `electrode_flux` per unit of `sys.electrode_area` (the value behind
/// `current_density_A_m2.max`, for a transient run's time rows); `recovery` is the electrode's
/// ([`SurfaceRecovery::new`] on `sys.electrode`), prepared once per run.
pub fn recovered_peak(recovery: &SurfaceRecovery, sys: &PotentialSystem, electrode_flux: &[f64]) -> f64 {
    let density: Vec<f64> = electrode_flux.iter().zip(&sys.electrode_area).map(|(q, a)| q / a).collect();
    let smoothed = recovery.smooth(&density);
    let sign = if electrode_flux.iter().sum::<f64>() < 0.0 { -1.0 } else { 1.0 };
    recovery.peak(&smoothed, sign).max(0.0)
}

/// Area-weighted mean and std with the extreme values of a nodal field.
pub fn area_stats(values: &[f64], areas: &[f64]) -> Stats {
    let total: f64 = areas.iter().sum();
    let mean = values.iter().zip(areas).map(|(v, a)| v * a).sum::<f64>() / total;
    let var = values.iter().zip(areas).map(|(v, a)| a * (v - mean) * (v - mean)).sum::<f64>() / total;
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    Stats { mean, max, min, std: var.sqrt() }
}
