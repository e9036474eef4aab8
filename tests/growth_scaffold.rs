//! A resolved scaffold that grows (the physics check is the validation case
//! `growth_scaffold_fibre`): an uneven plating current lands on the fibre's grid where it is (the
//! mapping to axial position and angle, across the angle's seam); a fibre growing into the
//! electrode's deposit stops the run with a message and everything written; periodic sides are
//! refused.

mod common;

use std::path::Path;

use znfield::backend::BackendChoice;
use znfield::mesh::BoundaryTag;
use znfield::scene::Scene;

const FIBRE: &str = "scenes/validation/growth_scaffold_fibre.json";

#[test]
fn an_uneven_plating_current_lands_on_the_fibre_where_it_is() {
    let scene = Scene::load(Path::new(FIBRE), &[]).expect("scene");
    let domain = znfield::run::build_domain(&scene).expect("mesh");
    let (mesh, geom) = (&domain.mesh, domain.geometry.as_ref().expect("built-in geometry"));
    let spacing = 0.05e-6;
    let scaffold = znfield::growth::coat::grown_scaffold(geom, spacing);
    let (fibre, grid) = (&scaffold.fibres[0], &scaffold.deposits[0]);
    // A plating current density that varies around the fibre (phase 0.3 rad, so a mirrored
    // angle shows) and along it: g(s, theta), A/m^2, at the scaffold's nodes.
    let length = 2.0 * scene.geometry.half_width_m;
    let g = |s: f64, theta: f64| 100.0 * (1.0 + 0.5 * (theta - 0.3).cos() + 0.3 * s / length);
    let mut plating = vec![0.0; mesh.nodes.len()];
    for n in znfield::fem::boundary_flux::tagged_nodes(mesh, BoundaryTag::Scaffold) {
        let (s, theta) = grid.coordinates(fibre, mesh.nodes[n as usize]);
        plating[n as usize] = g(s, theta);
    }
    let per_charge = 1e-10;
    let rates = znfield::growth::coat::scaffold_rates(mesh, &scaffold, &plating, per_charge);
    let (coverage, _) = znfield::growth::coat::coverage(&scaffold, &rates);
    let mut worst: f64 = 0.0;
    let mut seam = 0;
    for (k, (&speed, &covered)) in rates.fibres[0].iter().zip(&coverage[0]).enumerate().filter(|(_, (_, &c))| c > 0.9) {
        let (s, theta) = (grid.s0 + (k % grid.ns) as f64 * grid.ds, (k / grid.ns) as f64 * grid.d_theta());
        worst = worst.max(common::rel(speed, g(s, theta) * per_charge));
        seam += usize::from(theta < 0.2 || theta > 2.0 * std::f64::consts::PI - 0.2);
        assert!(covered < 1.2, "node {k} covers {covered} of its cell");
    }
    // The hat-weighted mean of the faces around a node: the function's curvature over a face
    // (0.4 rad around the fibre) moves it by about 0.5 x 0.4^2 / 6 of the amplitude.
    assert!(worst < 0.02, "the deposition speed misses the plating current there by {worst}");
    assert!(seam > 20, "nodes beside the seam theta = 0 were checked: {seam}");
    // And the volumes add up to the plating current integrated over the fibre's faces.
    let total: f64 = mesh
        .faces_with(BoundaryTag::Scaffold)
        .map(|f| {
            let ids = mesh.faces[f];
            mesh.face_area_vector(f).length() * ids.iter().map(|&n| plating[n as usize]).sum::<f64>() / 3.0
        })
        .sum();
    assert!(common::rel(rates.volume, total * per_charge) < 1e-12);
}

#[test]
fn a_fibre_that_would_join_the_electrode_stops_the_run() {
    // The fibre's underside 0.14 um above the zinc; both plate alike, closing the gap.
    let sets = ["geometry.scaffold.fibres.0.point_m=[0.0, 0.0, 0.64e-6]", "growth.end_charge_C_m2=20000"].map(String::from);
    let scene = Scene::load(Path::new(FIBRE), &sets).expect("scene");
    let grown = znfield::growth::run(&scene, BackendChoice::Cpu).expect("growth run");
    let g = grown.last.summary.growth.as_ref().expect("growth record");
    assert!(g.stopped_by.contains("scaffold fibre 0") && g.stopped_by.contains("joining the electrode"), "{}", g.stopped_by);
    assert!(g.plating_charge_c_m2 < 20000.0, "{}", g.plating_charge_c_m2);
    assert!(g.mass_balance.abs() < 1e-9, "{}", g.mass_balance);
    let s = g.scaffold.as_ref().expect("scaffold record");
    // The gap closed from both sides: the fibre's deposit and the zinc's.
    let gap = 0.64e-6 - 0.5e-6 - s.fibre_deposit_max_m - g.max_height_m;
    assert!(gap < 0.5 * 0.2e-6 + 0.05e-6, "gap left {gap}");
}

#[test]
fn a_growing_scaffold_on_periodic_sides_is_refused() {
    let err = Scene::load(Path::new(FIBRE), &["geometry.sides=\"periodic\"".to_string()]).expect_err("refused").to_string();
    assert!(err.contains("key `growth`") && err.contains("periodic"), "{err}");
}
