//! Long transient runs lose nothing: a run killed with SIGKILL after a checkpoint leaves no
//! complete-looking output, and `znfield run --resume DIR` ends with the result of an
//! uninterrupted run: bit for bit on the CPU backend (summary.json less its wall time, every VTU,
//! timeseries.csv), within 1e-6 relative on the GPU backend. Checkpoints fall only on steps
//! where the multigrid hierarchy is rebuilt (`time.preconditioner_reuse_steps`), and the CPU
//! case keeps it across three steps, so the resumed run's hierarchies match too.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_znfield");

/// The shipped transient scene on a coarse mesh: 16 time steps, snapshots at 5, 20 and 50 ms;
/// the multigrid hierarchy is rebuilt every `reuse` steps.
fn args(backend: &str, reuse: u32, out: &Path) -> Vec<String> {
    [
        "run",
        "scenes/hemisphere_tertiary_transient.json",
        "--set",
        &format!("time.preconditioner_reuse_steps={reuse}"),
        "--set",
        "mesh.refine=0.4",
        "--set",
        "output.maps=false",
        "--quiet",
        "--backend",
        backend,
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("znfield-checkpoint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// summary.json without what a resumed run legitimately changes: the wall time and stage times,
/// the resume note, and the device memory peak and multigrid setups (of this process's solves
/// only).
fn summary(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    let mut json: Value = serde_json::from_str(&text).expect("JSON");
    let solver = json["solver"].as_object_mut().expect("solver");
    for key in ["wall_time_s", "gpu_memory_bytes", "gpu_bytes_per_node", "multigrid_setups", "device"] {
        solver.remove(key);
    }
    json["transient"].as_object_mut().expect("transient").remove("resumed_after_step");
    json.as_object_mut().expect("summary").remove("timings_s");
    json
}

/// Runs to completion uninterrupted.
fn uninterrupted(backend: &str, reuse: u32, dir: &Path) {
    let out = Command::new(BIN).args(args(backend, reuse, dir)).output().expect("spawn");
    assert!(out.status.success(), "uninterrupted run failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Starts the run with a checkpoint at every hierarchy rebuild (every `reuse` steps), holds it
/// after the `hold`-th, kills it with SIGKILL, checks what it left, and resumes it. Returns the
/// resumed run's stderr.
fn kill_and_resume(backend: &str, reuse: u32, dir: &Path, hold: u32) -> String {
    let step = kill_after_checkpoint(backend, reuse, dir, hold);
    let checkpoint = dir.join("checkpoint.json");
    let out = Command::new(BIN).args(["run", "--backend", backend, "--resume"]).arg(dir).output().expect("spawn resume");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "resume failed: {stderr}");
    assert!(!checkpoint.exists(), "a finished run removes its checkpoint");
    let resumed: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).expect("summary")).expect("JSON");
    assert_eq!(resumed["transient"]["resumed_after_step"], Value::from(step), "summary.json records the resume");
    stderr
}

/// Runs until the `hold`-th checkpoint (at step `hold * reuse`), kills the run with SIGKILL and
/// checks that it left only the checkpoint; returns the step saved.
fn kill_after_checkpoint(backend: &str, reuse: u32, dir: &Path, hold: u32) -> u32 {
    let step = hold * reuse;
    let saved_steps = common::kill_at_checkpoint(&args(backend, reuse, dir), dir, hold, |json| {
        (json["progress"]["steps"].as_u64() == Some(step as u64)).then_some(step)
    });
    assert_eq!(
        common::visible_files(dir),
        ["checkpoint.json"],
        "a run killed after step {saved_steps} may leave only its checkpoint (no summary.json, no fields)"
    );
    saved_steps
}

/// A checkpoint is read like a scene: an edited or damaged one is refused (exit 2, the file and
/// what is wrong), never resumed into a run that reports what it did not compute.
#[test]
fn edited_checkpoints_are_refused() {
    let dir = fresh_dir("edited");
    kill_after_checkpoint("cpu", 1, &dir, 2);
    let original: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("checkpoint.json")).expect("checkpoint")).expect("JSON");
    type Edit = fn(&mut Value);
    let edits: [(&str, Edit, &[&str]); 14] = [
        ("short state", |c| pop(&mut c["progress"]["state"]["x"]), &["state has", "values"]),
        ("short history", |c| pop(&mut c["progress"]["previous_concentrations"]), &["previous concentrations has"]),
        ("short snapshot", |c| pop(&mut c["progress"]["last"]["concentrations"][0]), &["saved solution"]),
        ("steps", |c| c["progress"]["steps"] = Value::from(7), &["7 steps but 2 rows"]),
        ("time far past", |c| c["time_s"] = Value::from(1e9), &["time_s 1000000000", "outside the run"]),
        ("time inconsistent", |c| c["time_s"] = Value::from(1e-6), &["time_s 0.000001 s disagrees"]),
        ("scaled time", |c| c["progress"]["t"] = Value::from(1e30), &["disagrees with the saved progress"]),
        ("step size", |c| c["progress"]["dt"] = Value::from(-1.0), &["step sizes -1", "out of range"]),
        ("version", |c| c["version"] = Value::from(2), &["not a version 1"]),
        (
            "output passed",
            |c| c["scene"]["time"]["output_times_s"] = serde_json::json!([1e-9, 0.05]),
            &["0 snapshots, but 1 output times"],
        ),
        ("rejected", |c| c["progress"]["rejected"] = Value::from(u32::MAX), &["4294967295 rejected", "100000"]),
        ("row width", |c| pop(&mut c["progress"]["rows"][1]["min_surface"]), &["time series row 1 has 1 values"]),
        (
            "snapshot time",
            |c| c["progress"]["snapshots"] = serde_json::json!([[1e-5, c["progress"]["last"].clone()]]),
            &["1 snapshots, but 0 output times lie before t"],
        ),
        ("scene", |c| c["scene"]["mesh"]["refine"] = Value::from(-1.0), &["the scene inside", "mesh.refine"]),
    ];
    for (name, edit, words) in edits {
        let mut ck = original.clone();
        edit(&mut ck);
        std::fs::write(dir.join("checkpoint.json"), serde_json::to_string(&ck).expect("JSON")).expect("write");
        let out = Command::new(BIN).args(["run", "--backend", "cpu", "--resume"]).arg(&dir).output().expect("spawn");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        for w in words.iter().chain(&["checkpoint"]) {
            assert!(stderr.contains(w), "{name}: `{w}` missing from: {stderr}");
        }
        assert!(!dir.join("summary.json").exists(), "{name}: no summary.json");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn pop(v: &mut Value) {
    v.as_array_mut().expect("an array").pop();
}

#[test]
fn killed_cpu_run_resumes_to_the_same_bits() {
    let (whole, resumed) = (fresh_dir("cpu-whole"), fresh_dir("cpu-resumed"));
    uninterrupted("cpu", 3, &whole);
    let whole_summary: Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("summary.json")).expect("summary")).expect("JSON");
    let (setups, steps) = (&whole_summary["solver"]["multigrid_setups"], &whole_summary["transient"]["steps"]);
    assert!(
        setups.as_u64().zip(steps.as_u64()).is_some_and(|(setups, steps)| setups <= steps.div_ceil(3) + 2),
        "the multigrid hierarchy is kept across steps (setups {setups}, steps {steps})"
    );
    let stderr = kill_and_resume("cpu", 3, &resumed, 3);
    assert!(stderr.contains("after step 9"), "the resume says where it continues: {stderr}");
    assert!(summary(&whole) == summary(&resumed), "resumed summary.json differs from the uninterrupted run's");
    let files = common::visible_files(&whole);
    assert_eq!(files, common::visible_files(&resumed));
    // Three snapshots (5, 20 and 50 ms), the last landing on the end time.
    for f in ["fields_0000.vtu", "fields_0001.vtu", "fields_0002.vtu", "fields.vtu", "electrode.vtu", "timeseries.csv"] {
        assert!(files.contains(&f.to_string()), "{f} missing");
        let (a, b) = (std::fs::read(whole.join(f)).expect("read"), std::fs::read(resumed.join(f)).expect("read"));
        assert!(a == b, "{f} differs between the uninterrupted and the resumed run");
    }
    let _ = (std::fs::remove_dir_all(&whole), std::fs::remove_dir_all(&resumed));
}

#[test]
fn killed_gpu_run_resumes_within_a_millionth() {
    if common::gpu_or_skip("killed_gpu_run_resumes_within_a_millionth").is_none() {
        return;
    }
    let (whole, resumed) = (fresh_dir("gpu-whole"), fresh_dir("gpu-resumed"));
    uninterrupted("gpu", 1, &whole);
    kill_and_resume("gpu", 1, &resumed, 5);
    let mut diffs = Vec::new();
    common::differences(&summary(&whole), &summary(&resumed), 1e-6, "", &mut diffs);
    assert!(diffs.is_empty(), "resumed GPU run differs: {diffs:?}");
    let _ = (std::fs::remove_dir_all(&whole), std::fs::remove_dir_all(&resumed));
}

#[test]
fn resume_refuses_what_it_cannot_continue() {
    let dir = fresh_dir("refusals");
    let resume = |dir: &Path| Command::new(BIN).args(["run", "--backend", "cpu", "--resume"]).arg(dir).output().expect("spawn");
    // No directory, no checkpoint.
    let out = resume(&dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such directory"));
    // A truncated checkpoint: named, with its line and column.
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("checkpoint.json"), r#"{"format": "znfield transient checkpoint", "version": 1, "scene": {"#)
        .expect("write");
    let out = resume(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("checkpoint.json") && stderr.contains("line 1"), "{stderr}");
    assert!(!dir.join("summary.json").exists());
    // A finished run.
    std::fs::remove_file(dir.join("checkpoint.json")).expect("rm");
    std::fs::write(dir.join("summary.json"), "{}").expect("write");
    let out = resume(&dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to resume"));
    // Checkpoints are for transient and growth runs.
    let out = Command::new(BIN)
        .args(["run", "scenes/hemisphere_primary.json", "--checkpoint-every", "10", "--out"])
        .arg(dir.join("steady"))
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a `time` nor a `growth` block"));
    assert!(!dir.join("steady").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
