//! Resource bounds: a scene whose run would need more memory than the machine allows is refused
//! before meshing allocates it (exit 2, the estimate and the budget in the message, nothing
//! written). `ZNFIELD_MEMORY_LIMIT_BYTES` stands in for a small machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_znfield");

fn run(scene: &str, limit: &str, out: &Path, sets: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--quiet", "--backend", "cpu", "--set", "output.maps=false", scene, "--out"]).arg(out);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd.env("ZNFIELD_MEMORY_LIMIT_BYTES", limit).output().expect("spawn")
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("znfield-resources-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn refused(out: &Output, dir: &Path, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    for w in words {
        assert!(errors[0].contains(w), "`{w}` missing from {}", errors[0]);
    }
    assert!(!dir.exists(), "a refused run writes nothing");
}

#[test]
fn a_mesh_too_large_for_the_memory_is_refused_with_the_estimate() {
    // The hemisphere scene at refine 1 has about 300k tetrahedra: some 200 MB at 700 bytes each.
    let dir = out_dir("builtin");
    let out = run("scenes/hemisphere_primary.json", "100000000", &dir, &[]);
    refused(
        &out,
        &dir,
        &[
            "needs more than 142857 tetrahedra",
            "700 bytes per tetrahedron",
            "100.0 MB",
            "ZNFIELD_MEMORY_LIMIT_BYTES",
            "mesh.refine",
        ],
    );
    // The transport models take more per tetrahedron.
    let out = run("scenes/hemisphere_tertiary.json", "100000000", &dir, &[]);
    refused(&out, &dir, &["1000 bytes per tetrahedron", "tertiary"]);
    // Within the budget the same scene, coarser, runs.
    let out = run("scenes/hemisphere_primary.json", "100000000", &dir, &["mesh.refine=0.5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("summary.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_imported_mesh_too_large_for_the_memory_is_refused() {
    let dir = out_dir("imported");
    // The 1.7 MB file fits a 28 MB budget's sixteenth; its 42270 tetrahedra at 700 bytes (30 MB) do not.
    let out = run("scenes/hemisphere_gmsh.json", "28000000", &dir, &[]);
    refused(&out, &dir, &["hemisphere.msh", "42270 tetrahedra", "MB", "use a coarser mesh"]);
    // A file larger than a sixteenth of the budget is not even read.
    let out = run("scenes/hemisphere_gmsh.json", "1000000", &dir, &[]);
    refused(&out, &dir, &["hemisphere.msh", "1733253 bytes", "more than the 62500 bytes", "a sixteenth of the 1.0 MB"]);
}

#[test]
fn a_malformed_memory_limit_is_an_input_error() {
    let dir = out_dir("malformed");
    let out = run("scenes/hemisphere_primary.json", "lots", &dir, &[]);
    refused(&out, &dir, &["ZNFIELD_MEMORY_LIMIT_BYTES=lots", "number of bytes"]);
}
