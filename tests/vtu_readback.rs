//! The VTU files read back by an independent reader, Python's meshio: points, cells and every
//! data array equal what the run produced, bit for bit (Float64 written, Float64 read, and the
//! JSON between keeps every digit). The fields.pvd series of a transient run lists files meshio
//! reads too. The arrays follow the output conventions (`znfield::output`): anodic-positive
//! normal current density and its negative as the plating current density, species by their
//! file-safe names, the coordinate unit and the electrode potential in the field data.
//!
//! The interpreter is `$ZNFIELD_PYTHON` (default `python3`). Without meshio the test is skipped,
//! unless ZNFIELD_REQUIRE_MESHIO=1 (CI installs meshio into a venv and sets both).

use std::path::Path;
use std::process::Command;

use znfield::backend::BackendChoice;
use znfield::run::{run, write_outputs};
use znfield::scene::Scene;

/// Reads the named VTU files with meshio and prints them as JSON: {file: {points, cells: {type:
/// flat connectivity}, point_data: {name: flat values}, cell_data: {...}}}.
const DUMP: &str = r#"
import json, sys, meshio
out = {}
for path in sys.argv[2:]:
    m = meshio.read(path)
    out[path.split('/')[-1]] = {
        "points": m.points.ravel().tolist(),
        "cells": {b.type: b.data.ravel().tolist() for b in m.cells},
        "point_data": {k: v.ravel().tolist() for k, v in m.point_data.items()},
        "cell_data": {k: v[0].ravel().tolist() for k, v in m.cell_data.items()},
        "field_data": {k: v.ravel().tolist() for k, v in m.field_data.items()},
    }
json.dump(out, open(sys.argv[1], "w"))
"#;

fn python() -> String {
    std::env::var("ZNFIELD_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn meshio_available() -> bool {
    Command::new(python()).args(["-c", "import meshio"]).output().is_ok_and(|o| o.status.success())
}

/// meshio's view of `files` in `dir`.
fn read_with_meshio(dir: &Path, files: &[&str]) -> serde_json::Value {
    let json = dir.join("meshio.json");
    let o = Command::new(python())
        .args(["-c", DUMP, &json.display().to_string()])
        .args(files.iter().map(|f| dir.join(f).display().to_string()))
        .output()
        .expect("run python");
    assert!(o.status.success(), "meshio: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&std::fs::read(&json).expect("meshio.json")).expect("JSON")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

/// Asserts two arrays are identical, naming the first difference (not printing them whole).
fn same(read: Vec<f64>, written: &[f64], what: &str) {
    assert_eq!(read.len(), written.len(), "{what}: length");
    if let Some(k) = read.iter().zip(written).position(|(a, b)| a.to_bits() != b.to_bits()) {
        panic!("{what}: entry {k} reads {} but {} was written", read[k], written[k]);
    }
}

fn flat3(v: &[glam::DVec3]) -> Vec<f64> {
    v.iter().flat_map(|p| p.to_array()).collect()
}

#[test]
fn vtu_files_read_back_by_meshio_match_what_was_written() {
    if !meshio_available() {
        let required = std::env::var("ZNFIELD_REQUIRE_MESHIO").is_ok_and(|v| v == "1");
        assert!(!required, "ZNFIELD_REQUIRE_MESHIO=1 but `{} -c 'import meshio'` fails", python());
        eprintln!("skipped: meshio not importable by {}", python());
        return;
    }
    let scene = Scene::load(Path::new("scenes/hemisphere_tertiary_transient.json"), &["mesh.refine=0.35".into()]).expect("scene");
    let mut r = run(&scene, BackendChoice::Cpu).expect("run");
    let dir = std::env::temp_dir().join(format!("znfield-vtu-readback-{}", std::process::id()));
    write_outputs(&mut r, &dir).expect("outputs");

    let pvd = std::fs::read_to_string(dir.join("fields.pvd")).expect("fields.pvd");
    let series: Vec<&str> = pvd.split("file=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
    assert!(!series.is_empty(), "fields.pvd lists no files");
    let mut files = vec!["fields.vtu", "electrode.vtu"];
    files.extend(&series);
    let read = read_with_meshio(&dir, &files);

    let fields = &read["fields.vtu"];
    same(floats(&fields["points"]), &flat3(&r.mesh.nodes), "points");
    let tets: Vec<u64> = r.mesh.tets.iter().flatten().map(|&n| n as u64).collect();
    let read_tets: Vec<u64> = fields["cells"]["tetra"].as_array().expect("tetra").iter().filter_map(|v| v.as_u64()).collect();
    assert_eq!(read_tets, tets, "connectivity");
    same(floats(&fields["point_data"]["electrolyte_potential_V"]), &r.fields.potential, "electrolyte_potential_V");
    let species: Vec<&str> = r.fields.concentrations.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(species, ["Zn2+", "SO4 2-"], "the scene's species");
    for ((_, c), safe) in r.fields.concentrations.iter().zip(["c_Zn2p_mol_m3", "c_SO4_2m_mol_m3"]) {
        same(floats(&fields["point_data"][safe]), c, safe);
    }
    same(floats(&fields["field_data"]["coordinate_unit_m"]), &[1.0], "coordinate unit");
    same(floats(&fields["cell_data"]["field_V_m"]), &flat3(&r.fields.field), "field_V_m");
    same(floats(&fields["cell_data"]["current_density_A_m2"]), &flat3(&r.fields.current_density), "current_density_A_m2");
    let regions: Vec<f64> = r.mesh.regions.iter().map(|&x| x as f64).collect();
    same(floats(&fields["cell_data"]["region_id"]), &regions, "region_id");

    let electrode = &read["electrode.vtu"];
    same(floats(&electrode["point_data"]["normal_current_density_A_m2"]), &r.fields.electrode_smoothed, "electrode current");
    same(floats(&electrode["point_data"]["normal_current_density_raw_A_m2"]), &r.fields.electrode_raw, "raw electrode current");
    let plating: Vec<f64> = r.fields.electrode_smoothed.iter().map(|v| -v).collect();
    same(floats(&electrode["point_data"]["plating_current_density_A_m2"]), &plating, "plating current");
    assert!(r.summary.electrode.total_current < 0.0, "the scene plates");
    let at_electrode = |field: &[f64]| -> Vec<f64> { r.electrode_nodes.iter().map(|&n| field[n as usize]).collect() };
    same(floats(&electrode["point_data"]["electrolyte_potential_V"]), &at_electrode(&r.fields.potential), "phi at the electrode");
    same(floats(&electrode["point_data"]["c_Zn2p_mol_m3"]), &at_electrode(&r.fields.concentrations[0].1), "surface Zn2+");
    let eta = floats(&electrode["point_data"]["overpotential_V"]);
    same(eta.clone(), &r.fields.electrode_overpotential, "overpotential");
    let mean_eta = r.summary.electrode.overpotential.as_ref().expect("kinetic scene").mean;
    assert!(eta.iter().all(|v| *v < 0.0) && mean_eta < 0.0, "plating: a cathodic overpotential everywhere ({mean_eta} V)");
    same(floats(&electrode["field_data"]["electrode_potential_V"]), &[r.summary.electrode.potential], "E");
    let triangles = electrode["cells"]["triangle"].as_array().expect("triangles").len();
    assert_eq!(triangles, 3 * r.mesh.faces_with(znfield::mesh::BoundaryTag::Electrode).count());

    let transient = r.transient.as_ref().expect("transient run");
    for (file, (_, snapshot)) in series.iter().zip(&transient.snapshots) {
        same(floats(&read[*file]["point_data"]["electrolyte_potential_V"]), &snapshot.potential, file);
    }
    std::fs::remove_dir_all(&dir).ok();
}
