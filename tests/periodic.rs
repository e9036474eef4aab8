//! Periodic side walls (`geometry.sides = "periodic"`): the box is one cell of an infinite array,
//! so moving the protrusion inside the box changes nothing, while with insulating (mirror) walls
//! it does: an off-centre protrusion is then closer to its mirror images than to its periodic
//! ones.

use std::path::Path;

use znfield::backend::BackendChoice;
use znfield::run::{build_domain, run};
use znfield::scene::Scene;

/// Tip enhancement and nonuniformity of a 1 um hemisphere in a 5 um cell at `center`.
fn cell(sides: &str, center: &str, model: &[&str]) -> (f64, f64) {
    let mut sets: Vec<String> = vec![
        "geometry.half_width_m=2.5e-6".into(),
        format!("geometry.sides=\"{sides}\""),
        format!("geometry.protrusions.0.center_m={center}"),
        "mesh.refine=0.6".into(),
    ];
    sets.extend(model.iter().map(|s| s.to_string()));
    let scene = Scene::load(Path::new("scenes/hemisphere_primary.json"), &sets).expect("scene");
    let e = run(&scene, BackendChoice::Cpu).expect("run").summary.electrode;
    (e.tip_enhancement.expect("net current"), e.nonuniformity.expect("net current"))
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn a_periodic_cell_does_not_care_where_the_protrusion_sits() {
    let centred = cell("periodic", "[0,0]", &[]);
    let shifted = cell("periodic", "[1e-6,0.6e-6]", &[]);
    let mirrored = cell("insulating", "[1e-6,0.6e-6]", &[]);
    eprintln!("centred {centred:?}, shifted periodic {shifted:?}, shifted insulating {mirrored:?}");
    // Same array, different meshes: agreement to the discretization scatter of the maxima.
    assert!(rel(shifted.0, centred.0) < 0.006, "periodic: tip enhancement {} vs {}", shifted.0, centred.0);
    assert!(rel(shifted.1, centred.1) < 0.01, "periodic: nonuniformity {} vs {}", shifted.1, centred.1);
    // Mirror walls make a different array: the difference is several times the scatter.
    assert!(rel(mirrored.0, centred.0) > 0.015, "insulating: tip enhancement {} vs {}", mirrored.0, centred.0);
    // A centred (mirror-symmetric) cell is the same array either way.
    let centred_insulating = cell("insulating", "[0,0]", &[]);
    assert!(rel(centred_insulating.0, centred.0) < 1e-3);
}

#[test]
fn periodic_transport_conserves_the_applied_current() {
    let scene = Scene::load(
        Path::new("scenes/hemisphere_tertiary.json"),
        &[
            "geometry.half_width_m=3e-6".into(),
            "geometry.sides=\"periodic\"".into(),
            "geometry.protrusions.0.center_m=[1.2e-6,-0.8e-6]".into(),
            "operation.mean_current_density_A_m2=-30000".into(),
            "mesh.refine=0.5".into(),
        ],
    )
    .expect("scene");
    let r = run(&scene, BackendChoice::Cpu).expect("run");
    let e = &r.summary.electrode;
    assert!((e.total_current / (-30000.0 * e.projected_area) - 1.0).abs() < 1e-8);
    // Slaves carry their images' values: the fields are periodic across the walls.
    let mesh = &build_domain(&scene).expect("mesh").mesh;
    let w = 3e-6;
    let c = &r.fields.concentrations[0].1;
    let mut pairs = 0;
    for (n, p) in mesh.nodes.iter().enumerate() {
        if p.x == w {
            let image = mesh.nodes.iter().position(|q| q.x == -w && q.y == p.y && q.z == p.z).expect("image node");
            assert_eq!(c[n], c[image], "node {n}");
            assert_eq!(r.fields.potential[n], r.fields.potential[image]);
            pairs += 1;
        }
    }
    assert!(pairs > 50, "{pairs} wall pairs");
}

#[test]
fn an_imported_mesh_cannot_be_periodic() {
    let err = Scene::load(Path::new("scenes/hemisphere_gmsh.json"), &["geometry.sides=\"periodic\"".into()])
        .expect_err("an imported mesh with periodic sides must be rejected");
    assert!(err.to_string().contains("sides"), "{err}");
}
