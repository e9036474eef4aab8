//! The main job as numbered steps: scene -> geometry -> mesh -> discrete system -> backend solve
//! -> metrics -> exports. Nothing downstream reaches back upstream.

use std::path::Path;
use std::time::Instant;

use glam::DVec3;

use crate::backend::{self, BackendChoice};
use crate::error::{Error, Result};
use crate::geometry::ElectrodeGeometry;
use crate::mesh::cut_lattice::SizeField;
use crate::mesh::{self, BoundaryTag, Quality, TetMesh};
use crate::output::mesh_report::{self, MeshReport};
use crate::output::metrics::{self, Fields};
use crate::output::summary::{Dimensionless, ElectrolyteSummary, MeshSummary, SolverSummary, Summary};
use crate::output::{atomic, vtu};
use crate::physics::kinetics::ButlerVolmer;
use crate::physics::scaling::Scaling;
use crate::scene::{Model, OperationMode, Scene};
use crate::solve::linear::LinearParams;
use crate::solve::primary::{self, Drive};
use crate::solve::secondary::{self, KineticBoundary, NewtonParams};
use crate::solve::system::PotentialSystem;

/// Everything a finished run produced, before it is written out.
pub struct RunResult {
    pub summary: Summary,
    pub mesh: TetMesh,
    pub fields: Fields,
    pub electrode_nodes: Vec<u32>,
}

/// Target element sizes for a scene (defaults documented on [`crate::scene::MeshControls`]).
pub fn size_field(scene: &Scene) -> SizeField {
    let g = &scene.geometry;
    let m = &scene.mesh;
    let feature = g.all_protrusions().iter().map(|(_, p)| p.feature_size()).fold(f64::INFINITY, f64::min);
    let near = m.size_near_m.unwrap_or(if feature.is_finite() { feature / 10.0 } else { g.height_m / 20.0 }) / m.refine;
    let far = (m.size_far_m.unwrap_or(g.height_m / 8.0) / m.refine).max(near);
    let boxes = m.refine_boxes.iter().map(|b| (DVec3::from(b.min_m), DVec3::from(b.max_m), b.size_m / m.refine)).collect();
    SizeField { near, far, growth: m.grading, boxes }
}

/// Length scale of the scaled problem: the smallest protrusion feature, or the cell height.
pub fn length_scale(scene: &Scene) -> f64 {
    let g = &scene.geometry;
    g.all_protrusions().iter().map(|(_, p)| p.feature_size()).fold(g.height_m, f64::min)
}

/// The meshed domain of a scene and what is known about it exactly.
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
            let boundaries = g.boundaries.clone().unwrap_or_default();
            let regions = g.regions.clone().unwrap_or_default();
            let mesh = mesh::import::to_tet_mesh(&msh, &boundaries, &regions, g.length_unit_m, &origin)?;
            let length_scale = imported_length_scale(&mesh);
            Ok(Domain { mesh, geometry: None, sizes: None, length_scale })
        }
        None => {
            let geom = ElectrodeGeometry::from_scene(g);
            let sizes = size_field(scene);
            let mesh = mesh::generate(&geom, &sizes)?;
            Ok(Domain { mesh, geometry: Some(geom), sizes: Some(sizes), length_scale: length_scale(scene) })
        }
    }
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

/// Runs a scene to completion in memory.
pub fn run(scene: &Scene, choice: BackendChoice) -> Result<RunResult> {
    let start = Instant::now();
    // 1-2. Geometry and mesh (built-in or imported), and its quality.
    let Domain { mesh, geometry, sizes, length_scale } = build_domain(scene)?;
    let quality = Quality::of(&mesh);
    // 3. Discrete system in scaled units.
    let scaling = Scaling::new(length_scale, scene.physics.temperature_k, scene.physics.conductivity_s_m);
    let sys = PotentialSystem::new(&mesh, scaling.length_m);
    // 4. Backend.
    let mut backend = backend::open(choice)?;
    // 5. Solve.
    let projected_area = mesh.projected_area(BoundaryTag::Electrode);
    let drive = match scene.operation.mode {
        OperationMode::Potential => {
            Drive::Potential(scene.operation.electrode_potential_v.unwrap_or(0.0) / scaling.thermal_voltage_v)
        }
        OperationMode::Current => {
            Drive::Current(scaling.scaled_current(scene.operation.mean_current_density_a_m2.unwrap_or(0.0) * projected_area))
        }
    };
    let linear = LinearParams { rtol: scene.solver.linear_rtol, max_iterations: scene.solver.linear_max_iterations };
    let solution = match scene.physics.model {
        Model::Primary => {
            primary::solve(&sys, drive, backend.solver.as_mut(), &linear).map_err(|e| Error::Solve(format!("primary: {e}")))?
        }
        Model::Secondary => {
            let k = &scene.physics.kinetics;
            let kin = KineticBoundary {
                gamma: scaling.kinetic_number(k.exchange_current_density_a_m2),
                law: ButlerVolmer::from_scene(k),
            };
            let newton = NewtonParams {
                tol: scene.solver.newton_tol_thermal_voltages,
                max_iterations: scene.solver.newton_max_iterations,
            };
            secondary::solve(&sys, kin, drive, backend.solver.as_mut(), &linear, &newton)?
        }
    };
    if solution.phi.iter().any(|v| !v.is_finite()) {
        return Err(Error::Solve("non-finite potential in the solution".into()));
    }
    // 6. Metrics.
    let kinetic = scene.physics.model == Model::Secondary;
    let (fields, electrode, max_field) = metrics::evaluate(&mesh, &sys, &solution, &scaling, projected_area, kinetic);
    let dimensionless = electrode.overpotential.map(|eta| wagner_numbers(scene, &scaling, eta.mean));
    let summary = Summary {
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
            wall_time_s: start.elapsed().as_secs_f64(),
        },
        electrode,
        electrolyte: ElectrolyteSummary { max_field, conductivity: scaling.conductivity_s_m },
        dimensionless,
    };
    Ok(RunResult { summary, mesh, fields, electrode_nodes: sys.electrode })
}

/// Wagner numbers at zero and at the mean overpotential `eta_mean` (V).
fn wagner_numbers(scene: &Scene, scaling: &Scaling, eta_mean: f64) -> Dimensionless {
    let k = &scene.physics.kinetics;
    let law = ButlerVolmer::from_scene(k);
    let vt = scaling.thermal_voltage_v;
    // Charge-transfer resistance d(eta)/di = V_T / (i0 f'(eta / V_T)), Ohm m^2.
    let r_ct = |eta: f64| vt / (k.exchange_current_density_a_m2 * law.slope(eta / vt));
    let wa = |r: f64| scaling.conductivity_s_m * r / scaling.length_m;
    Dimensionless { wagner: wa(r_ct(0.0)), wagner_operating_point: wa(r_ct(eta_mean)), length_scale: scaling.length_m }
}

/// Writes fields.vtu, electrode.vtu and, last, summary.json into `dir` (created if missing).
pub fn write_outputs(result: &RunResult, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mesh = &result.mesh;
    let f = &result.fields;
    let magnitude: Vec<f64> = f.field.iter().map(|e| e.length()).collect();
    let regions: Vec<i32> = mesh.regions.iter().map(|&r| r as i32).collect();
    let cells: Vec<Vec<u32>> = mesh.tets.iter().map(|t| t.to_vec()).collect();
    let fields = vtu::encode(
        &mesh.nodes,
        &cells,
        &[vtu::Array::Scalar("potential_V", &f.potential)],
        &[
            vtu::Array::Vector("field_V_m", &f.field),
            vtu::Array::Scalar("field_magnitude_V_m", &magnitude),
            vtu::Array::Vector("current_density_A_m2", &f.current_density),
            vtu::Array::Int("region_id", &regions),
        ],
    );
    atomic::write(&dir.join("fields.vtu"), &fields)?;

    let mut local = vec![u32::MAX; mesh.nodes.len()];
    for (i, &n) in result.electrode_nodes.iter().enumerate() {
        local[n as usize] = i as u32;
    }
    let points: Vec<_> = result.electrode_nodes.iter().map(|&n| mesh.nodes[n as usize]).collect();
    let tris: Vec<Vec<u32>> =
        mesh.faces_with(BoundaryTag::Electrode).map(|fi| mesh.faces[fi].iter().map(|&n| local[n as usize]).collect()).collect();
    let potential: Vec<f64> = result.electrode_nodes.iter().map(|&n| f.potential[n as usize]).collect();
    let surface = vtu::encode(
        &points,
        &tris,
        &[
            vtu::Array::Scalar("normal_current_density_A_m2", &f.electrode_smoothed),
            vtu::Array::Scalar("normal_current_density_raw_A_m2", &f.electrode_raw),
            vtu::Array::Scalar("potential_V", &potential),
        ],
        &[],
    );
    atomic::write(&dir.join("electrode.vtu"), &surface)?;
    let json = serde_json::to_string_pretty(&result.summary).map_err(|e| Error::Solve(format!("summary.json: {e}")))?;
    atomic::write(&dir.join("summary.json"), json.as_bytes())
}

/// Meshes a scene and writes `mesh.vtu` and, last, `mesh_report.json` into `dir`.
pub fn write_mesh(scene: &Scene, dir: &Path) -> Result<MeshReport> {
    let domain = build_domain(scene)?;
    let report = MeshReport::of(&domain);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    atomic::write(&dir.join("mesh.vtu"), &mesh_report::mesh_vtu(&domain.mesh))?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| Error::Solve(format!("mesh_report.json: {e}")))?;
    atomic::write(&dir.join("mesh_report.json"), json.as_bytes())?;
    Ok(report)
}
