//! The GPU backend's host <-> device traffic (summary.json `solver.device`), counted on any
//! adapter (lavapipe in CI): the structural figures of the issue "The whole coupled Newton on
//! the GPU". They are checked against what the solvers must move: a primary solve uploads its
//! matrix once and reads back little more than its solution; the tertiary model today reads
//! back its Jacobian every Newton iteration (the transfer that issue removes; when it is gone,
//! the second test's lower bound becomes an upper bound of O(unknowns) per iteration).

mod common;

use std::collections::HashSet;
use znfield::backend::BackendChoice;
use znfield::run::{run, RunResult};
use znfield::scene::Scene;

fn gpu_run(scene: &str, test: &str) -> Option<RunResult> {
    common::gpu_or_skip(test)?;
    let scene = Scene::load(std::path::Path::new(scene), &["mesh.refine=0.5".to_string()]).expect("scene");
    Some(run(&scene, BackendChoice::Gpu).expect("run"))
}

/// Edges of the mesh (each a pair of off-diagonal entries of a nodal matrix).
fn edges(r: &RunResult) -> usize {
    let mut set = HashSet::new();
    for t in &r.mesh.tets {
        for a in 0..4 {
            for b in a + 1..4 {
                set.insert((t[a].min(t[b]), t[a].max(t[b])));
            }
        }
    }
    set.len()
}

#[test]
fn a_primary_solve_uploads_its_matrix_once_and_reads_back_its_solution() {
    let Some(r) = gpu_run("scenes/hemisphere_primary.json", "primary device traffic") else { return };
    let d = r.summary.solver.device.as_ref().expect("solver.device on the GPU backend");
    let (n, nnz) = (r.mesh.nodes.len() as u64, (r.mesh.nodes.len() + 2 * edges(&r)) as u64);
    eprintln!("{n} nodes, nnz about {nnz}: {d:?}");
    // f32 values and u32 column indices of at least the Dirichlet-reduced matrix.
    assert!(d.host_to_device_bytes >= 4 * nnz, "uploads {} bytes for {nnz} non-zeros", d.host_to_device_bytes);
    assert!(
        d.host_to_device_bytes < 40 * nnz,
        "uploads {} bytes: more than the matrix and its hierarchy",
        d.host_to_device_bytes
    );
    // The solution (f32) and a few scalars per iteration: far less than one matrix.
    assert!(d.device_to_host_bytes >= 4 * n / 2, "reads back {} bytes for {n} nodes", d.device_to_host_bytes);
    assert!(d.device_to_host_bytes < 4 * nnz, "reads back {} bytes: as much as a matrix", d.device_to_host_bytes);
    assert_eq!((d.host_newton_iterations, d.host_linear_solves), (0, 0), "a linear model runs no Newton");
    // The waits are part of the solve: the host's share and the device's add up to it.
    let t = &r.summary.timings_s;
    let stages = t.assembly + t.multigrid_setup + t.solve;
    assert!(d.device_wait_s > 0.0 && d.device_wait_s <= stages + 1e-3, "waited {} s of {stages} s", d.device_wait_s);
    assert!((d.device_wait_s + d.host_solve_s - stages).abs() < 1e-6, "{d:?} vs {stages} s");
}

#[test]
fn the_tertiary_newton_keeps_its_jacobian_on_the_device() {
    let Some(r) = gpu_run("scenes/hemisphere_tertiary.json", "tertiary device traffic") else { return };
    let d = r.summary.solver.device.as_ref().expect("solver.device on the GPU backend");
    let newton = r.summary.solver.nonlinear_iterations;
    assert!(newton >= 2 && d.host_newton_iterations == newton, "{d:?}, {newton} Newton iterations");
    // Read back for the host's multigrid setups only (one a pattern here), not every iteration.
    let setups = r.summary.solver.multigrid_setups.unwrap_or(0);
    assert!(setups >= 1 && d.jacobian_read_backs == setups, "{} read-backs for {setups} setups", d.jacobian_read_backs);
    // Two species per node: 2x2 blocks on every node pair of the pattern, f32.
    let jacobian_bytes = 4 * 4 * (r.mesh.nodes.len() + 2 * edges(&r)) as u64;
    let unknowns = 2 * r.mesh.nodes.len() as u64;
    // (Counting every node, not only the free ones, over-estimates the Jacobian: the bound on
    // the rest is looser, not tighter.)
    let rest = d.device_to_host_bytes.saturating_sub(d.jacobian_read_backs * jacobian_bytes);
    let per_iteration = rest / u64::from(newton);
    eprintln!("{newton} Newton iterations, {per_iteration} bytes back per iteration besides the read-backs, Jacobian {jacobian_bytes} bytes: {d:?}");
    // The residual (f32), the solution (f64) and scalars: tens of bytes an unknown, against the
    // Jacobian's ~110 (measured 19).
    assert!(per_iteration <= 40 * unknowns, "{per_iteration} bytes per iteration for {unknowns} unknowns");
    assert!(per_iteration < jacobian_bytes / 3, "{per_iteration} bytes per iteration against a {jacobian_bytes}-byte Jacobian");
}

/// The pnp double layers on the device: the Poisson rows that block-Jacobi BiCGStab could not
/// finish (every small layered pnp case handed its Newton systems to the CPU GMRES: 2, 3 and 10
/// of them) are solved by the node-block multigrid BiCGStab on the device, also where the
/// pattern is banded (the CPU takes its exact banded LU there); the Jacobian comes back only for
/// the multigrid setups.
#[test]
fn pnp_double_layers_are_solved_on_the_device() {
    for scene in
        ["scenes/validation/gouy_chapman.json", "scenes/validation/pnp_reacting_binary.json", "scenes/validation/donnan_pnp.json"]
    {
        let Some(r) = gpu_run(scene, "pnp on the device") else { return };
        let d = r.summary.solver.device.as_ref().expect("solver.device on the GPU backend");
        let setups = r.summary.solver.multigrid_setups.unwrap_or(0);
        eprintln!("{scene}: {d:?}, {setups} multigrid setups");
        assert_eq!(d.host_linear_solves, 0, "{scene}: Newton systems handed to the CPU ({:?})", r.summary.backend.note);
        assert!(
            setups >= 1 && d.jacobian_read_backs == setups,
            "{scene}: {} read-backs for {setups} setups",
            d.jacobian_read_backs
        );
    }
}
