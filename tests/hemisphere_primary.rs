//! Primary current distribution on a hemisphere: the analytic tip enhancement is 3
//! (E_n = 3 E0 cos theta on a conducting hemisphere in a uniform field).

mod common;

use znfield::backend::BackendChoice;
use znfield::run::{run, RunResult};
use znfield::scene::Scene;

fn hemisphere(sets: &[&str], backend: BackendChoice) -> RunResult {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let scene = Scene::load(std::path::Path::new("scenes/hemisphere_primary.json"), &sets).expect("scene");
    run(&scene, backend).expect("run")
}

#[test]
fn tip_enhancement_is_three_within_one_percent_on_cpu() {
    let r = hemisphere(&[], BackendChoice::Cpu);
    let te = r.summary.electrode.tip_enhancement.expect("net current");
    assert!((te - 3.0).abs() < 0.03, "tip enhancement {te}");
    // Conservation: the electrode current equals the applied current (galvanostatic scaling is
    // exact) and the electrode area matches 400 R^2 + pi R^2 to the surface discretization error.
    let exact_area = (400.0 + std::f64::consts::PI) * 1e-12;
    assert!(common::rel(r.summary.electrode.area, exact_area) < 1e-4);
    assert!(common::rel(r.summary.electrode.total_current, -100.0 * 4e-10) < 1e-12);
}

/// Root-mean-square deviation of the smoothed electrode current density from 3 E0 cos(theta)
/// over the hemisphere above 0.3 R (the rim, where the field vanishes, is left out).
fn cap_error(r: &RunResult) -> f64 {
    let mean = 100.0;
    let (mut sum, mut n) = (0.0, 0.0);
    for (i, &node) in r.electrode_nodes.iter().enumerate() {
        let p = r.mesh.nodes[node as usize] / 1e-6;
        if p.z > 0.3 && p.length() < 1.0 + 1e-6 {
            let exact = 3.0 * p.z / p.length();
            sum += (-r.fields.electrode_smoothed[i] / mean - exact).powi(2);
            n += 1.0;
        }
    }
    (sum / n).sqrt() / 3.0
}

#[test]
fn current_density_on_the_hemisphere_converges_under_refinement() {
    let runs: Vec<RunResult> =
        ["0.5", "1", "2"].iter().map(|r| hemisphere(&[&format!("mesh.refine={r}")], BackendChoice::Cpu)).collect();
    let errors: Vec<f64> = runs.iter().map(cap_error).collect();
    for (r, e) in ["0.5", "1", "2"].iter().zip(&errors) {
        eprintln!("refine {r}: rms error of the cap current density {:.4}", e);
    }
    // First order in h for the recovered flux (ratio 2 per halving), with margin.
    assert!(errors[1] < 0.7 * errors[0] && errors[2] < 0.8 * errors[1], "errors {errors:?}");
    assert!(errors[2] < 0.01, "errors {errors:?}");
    let te = runs[2].summary.electrode.tip_enhancement.expect("net current");
    assert!((te - 3.0).abs() < 0.03, "tip enhancement {te} at refine 2");
}

#[test]
fn gpu_matches_cpu_and_analytic_value() {
    if common::gpu_or_skip("gpu_matches_cpu_and_analytic_value").is_none() {
        return;
    }
    let gpu = hemisphere(&[], BackendChoice::Gpu);
    let cpu = hemisphere(&[], BackendChoice::Cpu);
    assert_eq!(gpu.summary.backend.kind, znfield::backend::BackendKind::Gpu);
    let (g, c) = (&gpu.summary.electrode, &cpu.summary.electrode);
    assert!(
        (g.tip_enhancement.expect("net current") - 3.0).abs() < 0.03,
        "GPU tip enhancement {}",
        g.tip_enhancement.expect("net current")
    );
    for (name, a, b) in [
        ("tip_enhancement", g.tip_enhancement.expect("net current"), c.tip_enhancement.expect("net current")),
        ("nonuniformity", g.nonuniformity.expect("net current"), c.nonuniformity.expect("net current")),
        ("mean", g.current_density.mean, c.current_density.mean),
        ("max", g.current_density.max, c.current_density.max),
        ("std", g.current_density.std, c.current_density.std),
        ("potential", g.potential, c.potential),
        ("max_field", gpu.summary.electrolyte.max_field, cpu.summary.electrolyte.max_field),
    ] {
        assert!(common::rel(a, b) < 1e-4, "{name}: GPU {a} vs CPU {b}");
    }
    let worst = gpu.fields.potential.iter().zip(&cpu.fields.potential).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    let scale = cpu.fields.potential.iter().map(|v| v.abs()).fold(0.0, f64::max);
    assert!(worst / scale < 1e-5, "potential differs by {worst} V of {scale} V");
}

/// The hemisphere draws 3 times its footprint's far-field current (the integral of 3 E0 cos
/// theta over the cap is 3 E0 pi R^2), and the integral converges under refinement.
#[test]
fn the_hemisphere_draws_three_times_its_footprint_current() {
    let errors: Vec<f64> = ["mesh.refine=0.5", "mesh.refine=1"]
        .iter()
        .map(|set| {
            let r = hemisphere(&[set], BackendChoice::Cpu);
            let p = &r.summary.electrode.protrusions;
            assert_eq!(p.len(), 1);
            assert_eq!(p[0].key, "geometry.protrusions.0");
            let enhancement = p[0].current_enhancement;
            eprintln!("{set}: current enhancement {enhancement}, current {} A", p[0].current);
            (enhancement - 3.0).abs() / 3.0
        })
        .collect();
    assert!(errors[1] < 0.01, "relative error {errors:?}");
    assert!(errors[1] < errors[0], "the error should fall under refinement: {errors:?}");
}
