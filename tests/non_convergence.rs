//! A solve that does not converge ends with exit code 3, says where the residual is largest, and
//! leaves its residual history and last iterate in clearly named diagnostics files
//! (failed_solve.json, failed_last_iterate.vtu), never the normal outputs.

mod common;

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_znfield");

/// Runs the tiny scene as `model` with `sets`; expects exit 3 and the diagnostics; returns
/// failed_solve.json and the VTU text.
fn fails_with_diagnostics(name: &str, model: &str, sets: &[&str]) -> (Value, String) {
    let dir = common::scratch("nonconv", name);
    let scene = dir.join("scene.json");
    let text = common::TINY_SCENE.replace(r#""model": "primary""#, &format!(r#""model": "{model}""#));
    std::fs::write(&scene, text).expect("scene");
    let out_dir = dir.join("out");
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--quiet", "--backend", "cpu", "--out"]).arg(&out_dir).arg(&scene);
    for s in sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().expect("spawn");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{name}: one error line: {stderr}");
    for word in ["solve failed", "the residual is largest at node", "failed_solve.json", "failed_last_iterate.vtu"] {
        assert!(errors[0].contains(word), "{name}: `{word}` missing from {}", errors[0]);
    }
    let mut files: Vec<String> =
        std::fs::read_dir(&out_dir).expect("out dir").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    files.sort();
    let expected = [".znfield.lock", "failed_last_iterate.vtu", "failed_solve.json"];
    assert_eq!(files, expected, "{name}: only the diagnostics are written (and the directory's lock file)");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("failed_solve.json")).expect("report")).expect("JSON");
    let vtu = String::from_utf8_lossy(&std::fs::read(out_dir.join("failed_last_iterate.vtu")).expect("vtu")).into_owned();
    assert!(
        vtu.contains("UnstructuredGrid") && vtu.contains("Name=\"electrolyte_potential_V\"") && vtu.contains("Name=\"residual\"")
    );
    // The worst node lies in the tiny box (8 um wide, 4 um tall).
    let at = report["largest_residual"]["position_m"].as_array().expect("position");
    let xyz: Vec<f64> = at.iter().map(|v| v.as_f64().expect("number")).collect();
    assert!(xyz[0].abs() <= 4e-6 + 1e-12 && xyz[1].abs() <= 4e-6 + 1e-12 && (0.0..=4e-6 + 1e-12).contains(&xyz[2]), "{xyz:?}");
    assert!(report["largest_residual"]["residual"].as_f64().is_some_and(|r| r > 0.0 && r.is_finite()));
    assert!(errors[0].contains(&format!("node {}", report["largest_residual"]["node"])));
    let _ = std::fs::remove_dir_all(&dir);
    (report, vtu)
}

#[test]
fn a_newton_cut_short_reports_its_history_and_worst_node() {
    let (report, _) = fails_with_diagnostics("secondary", "secondary", &["solver.newton_max_iterations=1"]);
    assert_eq!(report["model"], "secondary");
    let history = report["residual_history"].as_array().expect("history");
    assert_eq!(history.len(), 2, "the starting residual and one iteration: {history:?}");
    let (h0, h1) = (history[0].as_f64().expect("h0"), history[1].as_f64().expect("h1"));
    assert!(h1 < h0, "Newton made progress before it was stopped: {h0} -> {h1}");
    assert!(report["message"].as_str().is_some_and(|m| m.contains("did not converge in 1 iterations")));
}

#[test]
fn a_conjugate_gradient_cut_short_leaves_its_iterate() {
    let (report, _) =
        fails_with_diagnostics("primary", "primary", &["solver.linear_max_iterations=3", "solver.preconditioner=\"jacobi\""]);
    let rel = report["residual_history"][0].as_f64().expect("relative residual");
    assert!(rel > 1e-9 && rel < 1.0, "three Jacobi CG steps reduce the residual but not to 1e-9: {rel}");
    assert!(report["iterate"].as_str().is_some_and(|s| s.contains("conjugate-gradient")));
}

#[test]
fn a_transport_newton_that_fails_writes_concentrations() {
    let (report, vtu) = fails_with_diagnostics(
        "tertiary",
        "tertiary",
        &["solver.newton_max_iterations=1", "operation.mean_current_density_A_m2=-2000"],
    );
    assert_eq!(report["model"], "tertiary");
    assert!(vtu.contains("Name=\"c_Zn2p_mol_m3\""), "the concentrations of the last iterate are written");
}
