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

#[test]
fn tip_enhancement_error_falls_under_refinement() {
    let errors: Vec<f64> = ["0.5", "1", "2"]
        .iter()
        .map(|r| {
            let te = hemisphere(&[&format!("mesh.refine={r}")], BackendChoice::Cpu)
                .summary
                .electrode
                .tip_enhancement
                .expect("net current");
            eprintln!("refine {r}: tip enhancement {te:.5}");
            (te - 3.0).abs()
        })
        .collect();
    assert!(errors[1] < 0.5 * errors[0] && errors[2] < errors[1], "errors {errors:?}");
    assert!(errors[2] < 0.01, "errors {errors:?}");
}

#[test]
fn gpu_matches_cpu_and_analytic_value() {
    if common::gpu_or_skip("gpu_matches_cpu_and_analytic_value").is_none() {
        return;
    }
    let gpu = hemisphere(&[], BackendChoice::Gpu);
    let cpu = hemisphere(&[], BackendChoice::Cpu);
    assert_eq!(gpu.summary.backend.kind, "gpu");
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
