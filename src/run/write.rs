//! Writing a finished run: VTU fields, the electrode surface, transient series, PNG maps and,
//! last, summary.json (whose presence marks a complete run).

use std::path::Path;

use super::{build_domain, RunResult, TransientOutput};
use crate::error::{Error, Result};
use crate::mesh::{BoundaryTag, TetMesh};
use crate::output::maps::Picture;
use crate::output::mesh_report::{self, MeshReport};
use crate::output::metrics::Fields;
use crate::output::{atomic, concentration_name, maps, vtu};
use crate::physics::porous::Media;
use crate::scene::Scene;

/// The volume fields as VTU: electrolyte potential and concentrations at points; field, current
/// density and region per tet. Array names carry their units ([`crate::output`]'s conventions).
fn volume_vtu(mesh: &TetMesh, f: &Fields, media: &Media) -> Vec<u8> {
    let magnitude: Vec<f64> = f.field.iter().map(|e| e.length()).collect();
    let regions: Vec<i32> = mesh.regions.iter().map(|&r| r as i32).collect();
    let cells: Vec<Vec<u32>> = mesh.tets.iter().map(|t| t.to_vec()).collect();
    let conc_names: Vec<String> = f.concentrations.iter().map(|(name, _)| concentration_name(name)).collect();
    let mut point_data = vec![vtu::Array::Scalar("electrolyte_potential_V", &f.potential)];
    if let Some(phi_s) = &f.solid_potential {
        point_data.push(vtu::Array::Scalar("solid_potential_V", phi_s));
    }
    point_data.extend(conc_names.iter().zip(&f.concentrations).map(|(n, (_, c))| vtu::Array::Scalar(n, c)));
    let mut cell_data = vec![
        vtu::Array::Vector("field_V_m", &f.field),
        vtu::Array::Scalar("field_magnitude_V_m", &magnitude),
        vtu::Array::Vector("current_density_A_m2", &f.current_density),
        vtu::Array::Int("region_id", &regions),
    ];
    // Coating materials, where there are any: porosity, D_eff/D, fixed charge, a i0.
    if !media.is_open() {
        cell_data.push(vtu::Array::Scalar("porosity", &media.porosity));
        cell_data.push(vtu::Array::Scalar("transport_factor", &media.transport_factor));
        cell_data.push(vtu::Array::Scalar("fixed_charge_mol_m3", &media.fixed_charge));
    }
    if let Some(solid) = &media.solid {
        cell_data.push(vtu::Array::Scalar("volumetric_exchange_current_A_m3", &solid.volumetric_exchange));
    }
    if !f.volumetric_plating.is_empty() {
        cell_data.push(vtu::Array::Scalar("volumetric_plating_current_A_m3", &f.volumetric_plating));
    }
    vtu::encode(&mesh.nodes, &cells, &point_data, &cell_data, &[])
}

/// timeseries.csv: time_s, electrode_potential_V, `min_surface_c_<species>_mol_m3` per species,
/// max_current_density_A_m2.
fn timeseries_csv(tr: &TransientOutput) -> String {
    let mut csv = String::from("time_s,electrode_potential_V");
    for name in &tr.species {
        csv.push_str(&format!(",min_surface_{}", concentration_name(name)));
    }
    csv.push_str(",max_current_density_A_m2\n");
    for r in &tr.rows {
        csv.push_str(&format!("{:.9e},{:.9e}", r.time_s, r.electrode_potential_v));
        for c in &r.min_surface {
            csv.push_str(&format!(",{c:.9e}"));
        }
        csv.push_str(&format!(",{:.9e}\n", r.max_current_density));
    }
    csv
}

/// Writes fields.vtu, electrode.vtu, the PNG maps (unless `output.maps` is false), the line
/// profiles ([`crate::output::profiles`]; their PNGs only with the maps), for
/// transient runs timeseries.csv, the fields.pvd series and the time plots, and, last,
/// summary.json into `dir` (created if missing), with the time the other files took in the
/// summary's `timings_s.write`.
pub fn write_outputs(result: &mut RunResult, dir: &Path) -> Result<()> {
    write_outputs_with(result, dir, Vec::new())
}

/// [`write_outputs`] with `extra` files (name, bytes) written after the others and before
/// summary.json (a growth run's series and plots).
pub fn write_outputs_with(result: &mut RunResult, dir: &Path, extra: Vec<(String, Vec<u8>)>) -> Result<()> {
    crate::progress::stage("writing outputs");
    let started = std::time::Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // An older run's summary.json goes first: until the new one is written, the directory holds
    // no complete-looking run.
    atomic::remove(&dir.join("summary.json"))?;
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| {
        written.push(name.to_string());
        atomic::write(&dir.join(name), bytes)
    };
    let mesh = &result.mesh;
    let f = &result.fields;
    write("fields.vtu", &volume_vtu(mesh, f, &result.media))?;
    if let Some(tr) = &result.transient {
        write("timeseries.csv", timeseries_csv(tr).as_bytes())?;
        let mut pvd = String::from("<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"1.0\">\n  <Collection>\n");
        for (k, (t, snap)) in tr.snapshots.iter().enumerate() {
            let name = format!("fields_{k:04}.vtu");
            write(&name, &volume_vtu(mesh, snap, &result.media))?;
            pvd.push_str(&format!("    <DataSet timestep=\"{t:.9e}\" part=\"0\" file=\"{name}\"/>\n"));
        }
        pvd.push_str("  </Collection>\n</VTKFile>\n");
        write("fields.pvd", pvd.as_bytes())?;
    }
    write("electrode.vtu", &electrode_vtu(result))?;
    let maps = result.summary.scene.output.maps;
    if maps {
        for (file, png) in pictures(result)? {
            write(&file, &png)?;
        }
    }
    for (file, bytes) in crate::output::profiles::profile_files(result, maps)? {
        write(&file, &bytes)?;
    }
    if let Some(html) = maps.then(|| crate::output::view_html::view_html(result)).flatten() {
        write("view.html", html.as_bytes())?;
    }
    for (file, bytes) in &extra {
        write(file, bytes)?;
    }
    result.summary.timings_s.write = Some(started.elapsed().as_secs_f64());
    result.summary.files = written;
    result.summary.files.push("summary.json".into());
    let json = serde_json::to_string_pretty(&result.summary).map_err(|e| Error::output("summary.json", e))?;
    atomic::write(&dir.join("summary.json"), json.as_bytes())?;
    // The run is complete: its checkpoint (if it wrote one) is no longer needed.
    atomic::remove(&dir.join(super::checkpoint::FILE_NAME))
}

/// electrode.vtu: the electrode surface's triangles with, at its nodes, the normal current
/// density (recovered and raw; anodic positive) and the plating current density (its negative,
/// what the electrode map shows when the net current plates), the electrolyte potential, the
/// kinetic overpotential (kinetic models) and the surface concentrations (transport models);
/// the electrode potential E in the field data (`electrode_potential_V`).
pub fn electrode_vtu(result: &RunResult) -> Vec<u8> {
    let (mesh, f) = (&result.mesh, &result.fields);
    let nodes = &result.electrode_nodes;
    let mut local = vec![u32::MAX; mesh.nodes.len()];
    for (i, &n) in nodes.iter().enumerate() {
        local[n as usize] = i as u32;
    }
    let points: Vec<_> = nodes.iter().map(|&n| mesh.nodes[n as usize]).collect();
    let tris: Vec<Vec<u32>> =
        mesh.faces_with(BoundaryTag::Electrode).map(|fi| mesh.faces[fi].iter().map(|&n| local[n as usize]).collect()).collect();
    let at_electrode = |field: &[f64]| -> Vec<f64> { nodes.iter().map(|&n| field[n as usize]).collect() };
    let potential = at_electrode(&f.potential);
    let plating: Vec<f64> = f.electrode_smoothed.iter().map(|v| -v).collect();
    let surface: Vec<(String, Vec<f64>)> =
        f.concentrations.iter().map(|(name, c)| (concentration_name(name), at_electrode(c))).collect();
    let mut arrays = vec![
        vtu::Array::Scalar("normal_current_density_A_m2", &f.electrode_smoothed),
        vtu::Array::Scalar("normal_current_density_raw_A_m2", &f.electrode_raw),
        vtu::Array::Scalar("plating_current_density_A_m2", &plating),
        vtu::Array::Scalar("electrolyte_potential_V", &potential),
    ];
    if !f.electrode_overpotential.is_empty() {
        arrays.push(vtu::Array::Scalar("overpotential_V", &f.electrode_overpotential));
    }
    arrays.extend(surface.iter().map(|(name, c)| vtu::Array::Scalar(name, c)));
    vtu::encode(&points, &tris, &arrays, &[], &[("electrode_potential_V", result.summary.electrode.potential)])
}

/// fields.vtu of a finished run (see [`volume_vtu`]).
pub fn fields_vtu(result: &RunResult) -> Vec<u8> {
    volume_vtu(&result.mesh, &result.fields, &result.media)
}

/// The sampled maps of a finished run (see [`maps`]).
pub fn run_maps(result: &RunResult) -> Vec<maps::Map> {
    let net_sign = maps::along_net_current(result.summary.electrode.total_current);
    maps::field_maps(&result.mesh, &result.fields, &result.media, &result.electrode_nodes, &result.summary.scene, net_sign)
}

/// The 3D views of a finished run's electrode (see [`maps::electrode_views`]): a run on the
/// GPU backend renders them with the GPU's render pipeline (a fresh device: the solve's is
/// gone), a CPU run on the CPU.
pub fn run_views(result: &RunResult) -> Vec<maps::View> {
    let net_sign = maps::along_net_current(result.summary.electrode.total_current);
    let gpu = match result.summary.backend.kind {
        crate::backend::BackendKind::Gpu => crate::backend::gpu::GpuContext::new(false)
            .map_err(|e| crate::progress::warn(&format!("no GPU for the 3D views ({e}); drawn on the CPU")))
            .ok(),
        crate::backend::BackendKind::Cpu => None,
    };
    maps::electrode_views(&result.mesh, &result.fields, &result.electrode_nodes, &result.summary.scene, net_sign, gpu.as_ref())
}

/// The maps of a run and, for a transient run, its time plots: (file name, PNG or SVG).
fn pictures(result: &RunResult) -> Result<Vec<(String, Vec<u8>)>> {
    let scene = &result.summary.scene;
    let look = maps::Look::of(&scene.output);
    let mut out = Vec::new();
    for map in run_maps(result) {
        out.extend(Picture::files(&map, None, &look)?);
    }
    let views = run_views(result);
    let range = maps::views_range(&views);
    for view in &views {
        out.extend(view.files(range, &look)?);
    }
    if let Some(tr) = &result.transient {
        let rows: Vec<(f64, f64, &[f64])> =
            tr.rows.iter().map(|r| (r.time_s, r.electrode_potential_v, r.min_surface.as_slice())).collect();
        out.extend(maps::transient_plots(&scene.name, &tr.species, &rows, &look)?);
    }
    Ok(out)
}

/// Meshes a scene and writes `mesh.vtu`, with `gmsh` also `mesh.msh` (MSH 2.2, metres), and,
/// last, `mesh_report.json` into `dir`.
pub fn write_mesh(scene: &Scene, dir: &Path, gmsh: bool) -> Result<MeshReport> {
    let domain = build_domain(scene)?;
    let mut report = MeshReport::of(&domain);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    atomic::write(&dir.join("mesh.vtu"), &mesh_report::mesh_vtu(&domain.mesh))?;
    report.files.push("mesh.vtu".into());
    if gmsh {
        let layers: Vec<&str> = scene.geometry.layers.iter().map(|l| l.name.as_str()).collect();
        atomic::write(&dir.join("mesh.msh"), crate::output::msh::msh(&domain.mesh, &layers).as_bytes())?;
        report.files.push("mesh.msh".into());
    }
    report.files.push("mesh_report.json".into());
    let json = serde_json::to_string_pretty(&report).map_err(|e| Error::output("mesh_report.json", e))?;
    atomic::write(&dir.join("mesh_report.json"), json.as_bytes())?;
    Ok(report)
}
