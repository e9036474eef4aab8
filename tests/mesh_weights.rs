//! The share of negative P1 edge weights (obtuse elements) is measured and reported: none on the
//! layered lattice of a flat electrode, some on cut meshes of curved electrodes, where a
//! transport run says so in a warning.

use std::path::Path;

use znfield::backend::BackendChoice;
use znfield::output::mesh_report::MeshReport;
use znfield::run::{build_domain, run};
use znfield::scene::Scene;

fn report(scene: &str, sets: &[&str]) -> MeshReport {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let scene = Scene::load(Path::new(scene), &sets).expect("scene");
    MeshReport::of(&build_domain(&scene).expect("mesh"))
}

#[test]
fn a_layered_flat_mesh_has_no_negative_weight() {
    let w = report("scenes/validation/cottrell.json", &[]).negative_edge_weights;
    assert!(w.edges > 100);
    assert_eq!(w.negative, 0, "{w:?}");
}

#[test]
fn a_cut_hemisphere_mesh_has_some_and_a_transport_run_warns() {
    let w = report("scenes/hemisphere_primary.json", &["mesh.refine=0.5"]).negative_edge_weights;
    assert!(w.negative > 0 && w.share < 0.5 && w.touching_electrode > 0, "{w:?}");
    let sets: Vec<String> = ["physics.model=tertiary", "mesh.refine=0.5"].iter().map(|s| s.to_string()).collect();
    let scene = Scene::load(Path::new("scenes/hemisphere_tertiary.json"), &sets).expect("scene");
    let r = run(&scene, BackendChoice::Cpu).expect("run");
    let reported = r.summary.mesh.negative_edge_weights;
    assert!(reported.negative > 0, "{reported:?}");
    assert!(
        r.summary.warnings.iter().any(|w| w.contains("negative P1 weights") && w.contains(&reported.negative.to_string())),
        "{:?}",
        r.summary.warnings
    );
}
