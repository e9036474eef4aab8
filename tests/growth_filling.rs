//! Growth with a conductive porous layer whose pores fill ([`znfield::growth::filling`]; the
//! bin-by-bin physics check is the validation case `growth_pore_filling`): a graded scaffold
//! filling from the bottom with the plated foil's front passing through its closed pores, the
//! reversed gradient sealing the top, the cells' record of the zinc on changing meshes, the GPU
//! backend against the CPU's, and the new keys' checks.

mod common;

use std::path::Path;

use znfield::backend::BackendChoice;
use znfield::growth::{self, GrowthSummary};
use znfield::output::growth::FillingSummary;
use znfield::scene::Scene;

fn grown(path: &str, sets: &[&str], backend: BackendChoice) -> growth::GrowthResult {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).chain(["output.maps=false".to_string()]).collect();
    let scene = Scene::load(Path::new(path), &sets).expect("scene");
    growth::run(&scene, backend).expect("growth run")
}

fn records(g: &growth::GrowthResult) -> (&GrowthSummary, &FillingSummary) {
    let summary = g.last.summary.growth.as_ref().expect("growth record");
    (summary, summary.filling.as_ref().expect("filling record"))
}

#[test]
fn a_cu_graded_scaffold_fills_from_the_bottom_and_its_reverse_seals_the_top() {
    let graded = grown("scenes/growth_cf_g_cu.json", &[], BackendChoice::Cpu);
    let (g, f) = records(&graded);
    assert_eq!(g.stopped_by, "end");
    assert!(g.mass_balance.abs() < 1e-9, "{}", g.mass_balance);
    let profile = &f.filled_fraction_by_depth;
    // Full at the bottom, falling to the top, the zinc's centroid well below the middle.
    assert!(profile[0] > 0.98, "{profile:?}");
    assert!(profile.windows(2).all(|w| w[1] <= w[0] + 1e-9), "{profile:?}");
    assert!(profile[profile.len() - 1] < 0.3 && f.filled_depth_centroid.expect("zinc held") < 0.42, "{f:?}");
    // The foil's front passed through the closed bottom bin (a twentieth of the 200 um layer).
    assert_eq!(f.depth_bins, 20);
    assert!(g.mean_thickness_m > 200e-6 / 20.0, "{}", g.mean_thickness_m);
    assert!(f.closed_pore_fraction >= 0.05 - 1e-9, "{}", f.closed_pore_fraction);

    let reversed = grown(
        "scenes/growth_cf_g_cu.json",
        &[
            "geometry.layers.0.solid.exchange_current_density_A_m2.bottom=1",
            "geometry.layers.0.solid.exchange_current_density_A_m2.top=100",
        ],
        BackendChoice::Cpu,
    );
    let (g, f) = records(&reversed);
    assert!(g.stopped_by.contains("sealed from above"), "{}", g.stopped_by);
    assert!(g.plating_charge_c_m2 < 1.5e6, "sealed before the graded scaffold's end: {}", g.plating_charge_c_m2);
    let profile = &f.filled_fraction_by_depth;
    assert!(profile[profile.len() - 1] > 0.98 && profile[profile.len() / 2] < 0.3, "{profile:?}");
    assert!(f.filled_depth_centroid.expect("zinc held") > 0.7, "{f:?}");
}

#[test]
fn a_scaffold_over_a_tip_takes_the_zinc_and_its_cells_record_it_on_changing_meshes() {
    let r = grown("scenes/growth_hemisphere_scaffold.json", &["growth.end_charge_C_m2=500"], BackendChoice::Cpu);
    let (g, f) = records(&r);
    assert_eq!(g.stopped_by, "end");
    assert!(g.mass_balance.abs() < 1e-9, "{}", g.mass_balance);
    // The front moved (the base plates too), so each step had its own mesh; the cells' record
    // of the pores' zinc samples those meshes and matches the zinc plated to 2% (0.55% seen).
    assert!(g.mean_thickness_m > 0.0 && g.steps >= 3, "{g:?}");
    assert!(common::rel(f.pore_zinc_in_cells_m3, f.pore_zinc_volume_m3) < 0.02, "{f:?}");
    // Most of the zinc is in the pores, low down, and the tip rises less than a dense uniform
    // layer of that zinc would be thick.
    assert!(f.pore_zinc_volume_m3 > 0.5 * g.deposited_volume_m3, "{f:?}");
    assert!(f.filled_depth_centroid.expect("zinc held") < 0.5, "{f:?}");
    assert!(g.top_rise_over_dense_thickness < 1.0, "{}", g.top_rise_over_dense_thickness);
    // The growth series carries the profile at every step.
    assert!(r.rows.iter().all(|row| row.filled_by_depth.len() == f.depth_bins));
}

#[test]
fn pore_filling_agrees_on_the_gpu_and_cpu_backends() {
    if common::gpu_or_skip("pore filling on the GPU backend").is_none() {
        return;
    }
    let path = "scenes/validation/growth_pore_filling.json";
    let cpu = grown(path, &[], BackendChoice::Cpu);
    let gpu = grown(path, &[], BackendChoice::Gpu);
    assert_eq!(gpu.last.summary.backend.kind, znfield::backend::BackendKind::Gpu);
    let (a, b) = (&records(&cpu).1.filled_fraction_by_depth, &records(&gpu).1.filled_fraction_by_depth);
    assert_eq!(a.len(), b.len());
    for (k, (c, g)) in a.iter().zip(b).enumerate() {
        assert!(common::rel(*g, *c) < 1e-4, "bin {k}: GPU {g} vs CPU {c}");
    }
}

#[test]
fn the_filling_keys_are_checked() {
    for (set, key) in [
        ("growth.pore_area_exponent=3", "growth.pore_area_exponent"),
        ("growth.max_fill_step=0.9", "growth.max_fill_step"),
        ("growth.max_fill_step=0", "growth.max_fill_step"),
    ] {
        let err = Scene::load(Path::new("scenes/growth_cf_g_cu.json"), &[set.to_string()]).expect_err(set).to_string();
        assert!(err.contains(key), "{set}: {err}");
    }
}

#[test]
fn every_shipped_growth_scene_closes_its_mass_balance() {
    let mut grown = 0;
    for dir in ["scenes", "scenes/validation"] {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("scenes")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let scene = Scene::load(&path, &[]).expect("scene");
            let Some(g) = &scene.growth else { continue };
            // A fifth of the run on a coarse mesh.
            let end = match (g.end_charge_c_m2, g.end_s) {
                (Some(q), _) => format!("growth.end_charge_C_m2={}", 0.2 * q),
                (None, Some(t)) => format!("growth.end_s={}", 0.2 * t),
                _ => unreachable!("a growth block has an end"),
            };
            let sets = [end, "mesh.refine=0.5".into(), "output.maps=false".into()];
            let scene = Scene::load(&path, &sets).expect("scene");
            let r = growth::run(&scene, BackendChoice::Cpu).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let summary = r.last.summary.growth.as_ref().expect("growth record");
            assert!(summary.mass_balance.abs() < 1e-3, "{}: mass balance {}", path.display(), summary.mass_balance);
            grown += 1;
        }
    }
    assert!(grown >= 8, "the shipped growth scenes: {grown}");
}
