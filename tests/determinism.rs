//! The same scene on the same backend and machine gives the same summary.json: bit for bit on
//! the CPU backend (parallel reductions sum fixed chunks in order), within 1e-6 relative on the
//! GPU backend. Only the wall time may differ.

mod common;

use std::path::Path;

use serde_json::Value;
use znfield::backend::BackendChoice;
use znfield::run::run;
use znfield::scene::Scene;

/// summary.json of a run, without its wall time, stage times and the GPU's host/device times
/// (its byte counts stay: they are part of what must repeat).
fn summary(scene: &str, backend: BackendChoice) -> Value {
    let scene = Scene::load(Path::new(scene), &["mesh.refine=0.4".into()]).expect("scene");
    let result = run(&scene, backend).expect("run");
    let mut json = serde_json::to_value(&result.summary).expect("JSON");
    json["solver"].as_object_mut().expect("solver").remove("wall_time_s");
    if let Some(device) = json["solver"]["device"].as_object_mut() {
        device.remove("device_wait_s");
        device.remove("host_solve_s");
    }
    json.as_object_mut().expect("summary").remove("timings_s");
    json
}

#[test]
fn cpu_runs_are_bitwise_reproducible() {
    for scene in ["scenes/default.json", "scenes/hemisphere_tertiary.json", "scenes/cf_g_cu_gradient.json"] {
        let (a, b) = (summary(scene, BackendChoice::Cpu), summary(scene, BackendChoice::Cpu));
        assert!(a == b, "{scene}: two CPU runs differ");
    }
}

#[test]
fn gpu_runs_agree_to_a_millionth() {
    if common::gpu_or_skip("gpu_runs_agree_to_a_millionth").is_none() {
        return;
    }
    for scene in ["scenes/hemisphere_primary.json", "scenes/default.json"] {
        let (a, b) = (summary(scene, BackendChoice::Gpu), summary(scene, BackendChoice::Gpu));
        let mut diffs = Vec::new();
        common::differences(&a, &b, 1e-6, "", &mut diffs);
        assert!(diffs.is_empty(), "{scene}: two GPU runs differ: {diffs:?}");
    }
}
