//! Device faults: a GPU that cannot take the problem, no adapter at all, non-finite values on
//! the device. `--backend gpu` exits 1 with the reason and writes nothing; `--backend auto`
//! falls back to the CPU backend and records why in summary.json; NaN/Inf produced on the device
//! is a solver failure (exit 3) that says where it appeared.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use znfield::backend::gpu::GpuPcg;
use znfield::fem::CsrMatrix;
use znfield::solve::linear::{LinearParams, LinearSolver, Preconditioner};

const BIN: &str = env!("CARGO_BIN_EXE_znfield");

/// Runs the tiny scene with `env` set; its outputs go to `dir/out`.
fn run_tiny(dir: &Path, backend: &str, env: &[(&str, &str)]) -> Output {
    let scene = dir.join("tiny.json");
    std::fs::write(&scene, common::TINY_SCENE).expect("scene");
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--quiet", "--backend", backend, "--set", "output.maps=false", "--out"]).arg(dir.join("out")).arg(&scene);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("spawn znfield")
}

fn error_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.starts_with("error:")).map(str::to_string).collect()
}

/// A storage binding cap far below the problem: the explicit GPU backend refuses with the sizes
/// and the limit; auto falls back to the CPU and says why.
#[test]
fn a_problem_over_the_binding_limit_fails_on_gpu_and_falls_back_on_auto() {
    if common::gpu_or_skip("a_problem_over_the_binding_limit_fails_on_gpu_and_falls_back_on_auto").is_none() {
        return;
    }
    let cap = [("ZNFIELD_GPU_MAX_BINDING_BYTES", "4096")];
    let dir = common::scratch("device", "cap-gpu");
    let out = run_tiny(&dir, "gpu", &cap);
    let errors = error_lines(&out);
    assert_eq!(out.status.code(), Some(1), "{errors:?}");
    assert_eq!(errors.len(), 1, "one error line: {errors:?}");
    for word in ["GPU device", "bytes", "storage binding limit of 4096 bytes", "ZNFIELD_GPU_MAX_BINDING_BYTES", "--backend cpu"] {
        assert!(errors[0].contains(word), "`{word}` missing from {}", errors[0]);
    }
    assert!(!dir.join("out").exists(), "a failed run writes nothing");

    // auto on the same (software) adapter: the fault is met mid-run, the run repeated on the CPU.
    let dir = common::scratch("device", "cap-auto");
    let out = run_tiny(&dir, "auto", &[cap[0], ("ZNFIELD_AUTO_SOFTWARE_GPU", "1")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: the GPU backend failed"), "the fallback is announced: {stderr}");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).expect("summary")).expect("JSON");
    assert_eq!(summary["backend"]["kind"], "cpu");
    let fallback = summary["backend"]["fallback"].as_str().expect("backend.fallback");
    assert!(fallback.contains("storage binding limit of 4096 bytes"), "{fallback}");
    assert!(summary["warnings"].as_array().is_some_and(|w| w.iter().any(|w| w.as_str().is_some_and(|w| w.contains("GPU")))));

    // The same result as an explicit CPU run.
    let dir_cpu = common::scratch("device", "cap-cpu");
    assert!(run_tiny(&dir_cpu, "cpu", &[]).status.success());
    let cpu: Value =
        serde_json::from_str(&std::fs::read_to_string(dir_cpu.join("out/summary.json")).expect("summary")).expect("JSON");
    assert_eq!(summary["electrode"], cpu["electrode"], "the fallback run is the CPU run");
}

/// No Vulkan driver at all: gpu exits 1 naming what to install, auto runs on the CPU and records
/// that no adapter was found.
#[test]
fn no_adapter_fails_on_gpu_and_falls_back_on_auto() {
    let no_driver = [("VK_ICD_FILENAMES", "/nonexistent/icd.json"), ("VK_DRIVER_FILES", "/nonexistent/icd.json")];
    let dir = common::scratch("device", "noadapter-gpu");
    let out = run_tiny(&dir, "gpu", &no_driver);
    let errors = error_lines(&out);
    assert_eq!(out.status.code(), Some(1), "{errors:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("no GPU adapter") && errors[0].contains("mesa-vulkan-drivers"), "{}", errors[0]);
    assert!(!dir.join("out").exists());

    let dir = common::scratch("device", "noadapter-auto");
    let out = run_tiny(&dir, "auto", &no_driver);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/summary.json")).expect("summary")).expect("JSON");
    assert_eq!(summary["backend"]["kind"], "cpu");
    assert!(summary["backend"]["fallback"].as_str().is_some_and(|f| f.contains("no hardware GPU adapter")), "{summary:#}");
}

/// A value that overflows f32 on the device (1e300 on the diagonal) is caught as a non-finite
/// result of the device CG, named as such, and is a solve failure (exit code 3), not a field.
#[test]
fn non_finite_values_on_the_device_are_a_solver_failure() {
    let Some(ctx) = common::gpu_or_skip("non_finite_values_on_the_device_are_a_solver_failure") else {
        return;
    };
    let n = 64;
    let rows = (0..n)
        .map(|i| {
            let mut row = vec![(i as u32, if i == 17 { 1e300 } else { 2.0 })];
            if i > 0 {
                row.push((i as u32 - 1, -1.0));
            }
            if i + 1 < n {
                row.push((i as u32 + 1, -1.0));
            }
            row
        })
        .collect();
    let a = CsrMatrix::from_rows(rows);
    let b = vec![1.0; n];
    let mut x = vec![0.0; n];
    let params = LinearParams { rtol: 1e-8, max_iterations: 500, block_size: 1, preconditioner: Preconditioner::Jacobi };
    let err = GpuPcg::new(Arc::new(ctx)).solve(&a, &b, &mut x, &params).expect_err("an f32 overflow must not pass");
    let err = znfield::Error::from(err);
    let text = err.to_string();
    assert_eq!(err.exit_code(), 3, "{text}");
    assert!(text.contains("non-finite") && text.contains("GPU PCG"), "the message says what: {text}");
    // ... and where: the row whose diagonal overflowed f32.
    assert!(text.contains("first non-finite at unknown 17 of 64"), "the message says where: {text}");
}
