//! Long growth runs lose nothing: a growth run killed with SIGKILL after a checkpoint leaves no
//! complete-looking output, and `znfield run --resume DIR` ends with the result of an
//! uninterrupted run, bit for bit on the CPU backend: summary.json (less wall times), growth.csv
//! and growth_filling.csv (less their wall-time columns), every surface and field snapshot, and
//! the animation, whose frames from before the kill come back from the checkpoint's files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_znfield");

/// The tiny hemisphere grown to 600 C/m^2 with four output marks, maps on (animation frames).
const TINY_GROWTH: &str = r#"growth={"end_charge_C_m2": 600, "outputs": 4}"#;

/// `scene` run with `sets` into `out`.
fn args(scene: &Path, sets: &[&str], out: &Path) -> Vec<String> {
    let sets = sets.iter().flat_map(|s| ["--set", s]);
    ["run", &scene.display().to_string(), "--set", "output.map_pixels=200", "--quiet", "--backend", "cpu"]
        .into_iter()
        .chain(sets)
        .map(|s| s.to_string())
        .chain(["--out".to_string(), out.display().to_string()])
        .collect()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("znfield-growth-checkpoint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// summary.json without what a resumed run legitimately changes: wall times, the resume note,
/// and the multigrid setups (of this process's solves only).
fn summary(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    let mut json: Value = serde_json::from_str(&text).expect("JSON");
    let solver = json["solver"].as_object_mut().expect("solver");
    for key in ["wall_time_s", "multigrid_setups"] {
        solver.remove(key);
    }
    json.as_object_mut().expect("summary").remove("timings_s");
    let growth = json["growth"].as_object_mut().expect("growth");
    for key in ["mesh_s", "solve_s", "deposit_s", "resumed_after_step"] {
        growth.remove(key);
    }
    json
}

/// growth.csv without its last three columns (each step's wall seconds).
fn growth_rows(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("growth.csv")).expect("growth.csv");
    text.lines().map(|l| l.rsplitn(4, ',').last().expect("columns").to_string()).collect()
}

/// Runs with a checkpoint after every step, holds the run after its `hold`-th checkpoint, kills
/// it, and checks that it left only the checkpoint and its snapshots; returns the steps saved.
fn kill_after_checkpoint(scene: &Path, sets: &[&str], dir: &Path, hold: u32) -> u64 {
    let steps = common::kill_at_checkpoint(&args(scene, sets, dir), dir, hold, |json| {
        assert_eq!(json["format"], "znfield growth checkpoint");
        let rows = json["state"]["rows"].as_array().expect("rows").len() as u64;
        (rows == hold as u64).then_some(rows)
    });
    let left = common::visible_files(dir);
    assert!(left.contains(&"checkpoint.json".to_string()), "{left:?}");
    assert!(
        left.iter().all(|n| n == "checkpoint.json" || n == "scene.json" || n.starts_with("checkpoint_snapshot_")),
        "a killed growth run leaves only its checkpoint and the snapshots it kept: {left:?}"
    );
    steps
}

/// Runs `scene` with `sets` uninterrupted and killed after its `hold`-th checkpoint then resumed,
/// and compares the two.
fn resumes_to_the_same_bits(name: &str, scene: &Path, sets: &[&str], hold: u32) {
    let base = fresh_dir(name);
    let (whole, resumed) = (base.join("whole"), base.join("resumed"));
    let out = Command::new(BIN).args(args(scene, sets, &whole)).output().expect("spawn");
    assert!(out.status.success(), "uninterrupted run: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::create_dir_all(&resumed).expect("dir");
    let steps = kill_after_checkpoint(scene, sets, &resumed, hold);
    let out = Command::new(BIN).args(["run", "--backend", "cpu", "--resume"]).arg(&resumed).output().expect("resume");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "resume: {stderr}");
    assert!(stderr.contains("resuming growth scene"), "{stderr}");
    // Complete, with nothing of the checkpoint left.
    assert_eq!(common::visible_files(&whole), common::visible_files(&resumed));
    let s = summary(&resumed);
    assert_eq!(s, summary(&whole), "summary.json differs after the resume");
    let note: Value =
        serde_json::from_str(&std::fs::read_to_string(resumed.join("summary.json")).expect("summary")).expect("JSON");
    assert_eq!(note["growth"]["resumed_after_step"], Value::from(steps), "summary.json records the resume");
    assert_eq!(growth_rows(&whole), growth_rows(&resumed));
    for file in common::visible_files(&whole) {
        if file.ends_with(".vtu")
            || file.ends_with(".pvd")
            || file == "growth_electrode_animation.png"
            || file == "growth_filling.csv"
        {
            let (a, b) = (std::fs::read(whole.join(&file)).expect("file"), std::fs::read(resumed.join(&file)).expect("file"));
            assert!(a == b, "{file} differs after the resume");
        }
    }
    std::fs::remove_dir_all(&base).ok();
}

#[test]
fn a_killed_growth_run_resumes_to_the_same_bits() {
    let dir = fresh_dir("tiny-scene");
    let scene = dir.join("scene.json");
    std::fs::write(&scene, common::TINY_SCENE).expect("scene");
    resumes_to_the_same_bits("tiny", &scene, &[TINY_GROWTH], 3);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_killed_run_of_a_filling_scaffold_resumes_to_the_same_bits() {
    // The pores' record (filled fractions, pore volumes) comes back from the checkpoint.
    resumes_to_the_same_bits("cf", Path::new("scenes/growth_cf_g_cu.json"), &[], 6);
}

#[test]
fn a_killed_run_of_a_growing_fibre_resumes_to_the_same_bits() {
    // The fibre's deposit grid comes back from the checkpoint.
    let scene = Path::new("scenes/validation/growth_scaffold_fibre.json");
    resumes_to_the_same_bits("fibre", scene, &["growth.max_step_fraction=0.1", "growth.outputs=3"], 3);
}

#[test]
fn a_damaged_growth_checkpoint_is_refused_with_its_path() {
    let dir = fresh_dir("damaged");
    let scene = dir.join("scene.json");
    std::fs::write(&scene, common::TINY_SCENE).expect("scene");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).expect("dir");
    kill_after_checkpoint(&scene, &[TINY_GROWTH], &out, 2);
    let checkpoint = out.join("checkpoint.json");
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&checkpoint).expect("read")).expect("JSON");
    json["state"]["elevation"].as_array_mut().expect("elevation").pop();
    std::fs::write(&checkpoint, serde_json::to_vec(&json).expect("JSON")).expect("write");
    let o = Command::new(BIN).args(["run", "--backend", "cpu", "--resume"]).arg(&out).output().expect("resume");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("checkpoint.json") && stderr.contains("elevation grid"), "{stderr}");
    assert!(!out.join("summary.json").exists());
    std::fs::remove_dir_all(&dir).ok();
}
