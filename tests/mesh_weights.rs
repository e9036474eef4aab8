//! The share of negative edge weights is measured and reported: the P1 weights (obtuse elements),
//! the transport models' default, and the circumcentric (Voronoi-box) weights of
//! `solver.transport_weights = "circumcentric"`, negative only where the mesh is not Delaunay.
//! None on the layered lattice of a flat electrode; many on cut meshes of curved electrodes, fewer
//! where the mesher flips them toward Delaunay for the circumcentric scheme; few circumcentric ones
//! on Gmsh's Delaunay meshes. A transport run reports and warns about the weights it used.

use std::path::Path;

use znfield::backend::BackendChoice;
use znfield::output::mesh_report::MeshReport;
use znfield::run::{build_domain, run};
use znfield::scene::Scene;

fn scene(path: &str, sets: &[&str]) -> Scene {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Scene::load(Path::new(path), &sets).expect("scene")
}

fn report(path: &str, sets: &[&str]) -> MeshReport {
    MeshReport::of(&build_domain(&scene(path, sets)).expect("mesh"))
}

#[test]
fn a_layered_flat_mesh_has_no_negative_weight() {
    let r = report("scenes/validation/cottrell.json", &[]);
    for w in [r.negative_edge_weights, r.negative_circumcentric_weights] {
        assert!(w.edges > 100);
        assert_eq!(w.negative, 0, "{w:?}");
    }
    assert_eq!(r.small_circumcentric_dual_cells, 0);
}

/// The same hemisphere meshed as cut and for the circumcentric scheme (flipped toward Delaunay): the flips take the negative circumcentric weights from 13% to 4.5%
/// at refine 0.5 (16% to 3.7% at refine 1), more than half of those left touching the electrode,
/// where the boundary cuts the dual cells.
#[test]
fn flips_make_a_cut_hemisphere_mesh_nearly_delaunay_and_a_transport_run_reports_the_rest() {
    const CIRCUMCENTRIC: &str = "solver.transport_weights=circumcentric";
    let cut = report("scenes/hemisphere_tertiary.json", &["mesh.refine=0.5"]);
    let flipped = report("scenes/hemisphere_tertiary.json", &["mesh.refine=0.5", CIRCUMCENTRIC]);
    eprintln!(
        "P1 {:?}\ncircumcentric as cut {:?}\nflipped {:?}",
        cut.negative_edge_weights, cut.negative_circumcentric_weights, flipped.negative_circumcentric_weights
    );
    assert!(cut.negative_edge_weights.share > 0.08 && cut.negative_circumcentric_weights.share > 0.1, "{cut:?}");
    let w = flipped.negative_circumcentric_weights;
    assert!(w.share < 0.05 && 2 * w.touching_electrode > w.negative, "{w:?}");
    assert_eq!(
        (cut.nodes, cut.min_dihedral_deg >= 15.0),
        (flipped.nodes, flipped.min_dihedral_deg >= 15.0),
        "same nodes, no slivers"
    );

    // The default P1 scheme reports and warns about the P1 weights.
    let r = run(&scene("scenes/hemisphere_tertiary.json", &["mesh.refine=0.5"]), BackendChoice::Cpu).expect("run");
    let p1 = r.summary.mesh.negative_transport_weights.expect("a transport run reports its weights");
    assert_eq!(p1, cut.negative_edge_weights);
    assert!(r.summary.warnings.iter().any(|m| m.contains("negative P1 weights") && m.contains(&p1.negative.to_string())));
    assert_eq!(r.summary.mesh.small_transport_dual_cells, None, "P1 runs use barycentric volumes");
    let r = run(&scene("scenes/hemisphere_tertiary.json", &["mesh.refine=0.5", CIRCUMCENTRIC]), BackendChoice::Cpu).expect("run");
    let reported = r.summary.mesh.negative_transport_weights.expect("a transport run reports its weights");
    assert_eq!(reported.negative, w.negative, "{reported:?}");
    let small = flipped.small_circumcentric_dual_cells;
    assert_eq!(r.summary.mesh.small_transport_dual_cells, Some(small));
    assert_eq!(small > 0, r.summary.warnings.iter().any(|m| m.contains("circumcentric dual cells")), "{small}");
    assert!(
        r.summary
            .warnings
            .iter()
            .any(|m| m.contains("negative circumcentric weights") && m.contains(&reported.negative.to_string())),
        "{:?}",
        r.summary.warnings
    );
}

/// The cut mesh crowds a few boundary nodes: on charged_coating, flipped for the circumcentric
/// scheme, 18 of 4392 nodes (the hemisphere's apex among them: a node 0.08 um above it on a
/// 0.25 um mesh) have dual cells below a tenth of their volume share. A count, not a cure: what
/// this asserts is that the report finds them and that they stay a small minority.
#[test]
fn the_report_counts_the_nodes_whose_dual_cells_are_crowded() {
    let r = report("scenes/charged_coating.json", &["solver.transport_weights=circumcentric"]);
    eprintln!("{} small dual cells of {} nodes", r.small_circumcentric_dual_cells, r.nodes);
    assert!(r.small_circumcentric_dual_cells > 0 && r.small_circumcentric_dual_cells * 100 < r.nodes, "{r:?}");
}

/// Gmsh's meshes are Delaunay inside: the circumcentric weights are nearly all non-negative where
/// a quarter of the P1 weights are negative.
#[test]
fn an_imported_delaunay_mesh_has_few_negative_circumcentric_weights() {
    let r = report("scenes/hemisphere_gmsh.json", &[]);
    eprintln!("P1 {:?}\ncircumcentric {:?}", r.negative_edge_weights, r.negative_circumcentric_weights);
    assert!(r.negative_edge_weights.share > 0.15, "{:?}", r.negative_edge_weights);
    assert!(r.negative_circumcentric_weights.share < 0.02, "{:?}", r.negative_circumcentric_weights);
}

/// A growth run refuses the circumcentric scheme, naming the key (its deposit integrates nodal
/// densities over barycentric areas).
#[test]
fn a_growth_run_refuses_the_circumcentric_scheme() {
    let sets: Vec<String> =
        ["physics.model=tertiary", "solver.transport_weights=circumcentric"].iter().map(|s| s.to_string()).collect();
    let err = Scene::load(Path::new("scenes/growth_hemisphere.json"), &sets).expect_err("refused").to_string();
    assert!(err.contains("solver.transport_weights") && err.contains("growth"), "{err}");
}
