//! Multigrid-preconditioned CG on the hemisphere scene's primary system: the iteration count to
//! a 1e-8 relative residual stays nearly flat as the mesh is refined eightfold, while Jacobi's
//! grows like 1/h (the contrast shows the test can tell the two apart). Iteration counts, not
//! times: this is a complexity check.

use std::path::Path;

use znfield::backend::cpu::CpuPcg;
use znfield::fem::CsrMatrix;
use znfield::geometry::ElectrodeGeometry;
use znfield::mesh;
use znfield::run::{length_scale, size_field};
use znfield::scene::Scene;
use znfield::solve::amg::{AmgParams, Hierarchy};
use znfield::solve::linear::{residual, LinearParams, LinearSolver, Preconditioner};
use znfield::solve::system::PotentialSystem;

/// The reduced primary system (free nodes) at `refine` and its right-hand side (electrode at 1).
fn primary_system(refine: f64) -> (CsrMatrix, Vec<f64>) {
    let scene = Scene::load(Path::new("scenes/hemisphere_primary.json"), &[format!("mesh.refine={refine}")]).expect("scene");
    let mesh = mesh::generate(&ElectrodeGeometry::from_scene(&scene.geometry), &size_field(&scene)).expect("mesh");
    let (a, b, _) = PotentialSystem::new(&mesh, length_scale(&scene)).reduced_primary();
    (a, b)
}

fn iterations(a: &CsrMatrix, b: &[f64], preconditioner: Preconditioner) -> u32 {
    let params = LinearParams { rtol: 1e-8, max_iterations: 20_000, preconditioner, ..Default::default() };
    let mut x = vec![0.0; a.n];
    let info = CpuPcg::default().solve(a, b, &mut x, &params).expect("solve");
    let mut r = vec![0.0; a.n];
    let rel = residual(a, b, &x, &mut r) / b.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(rel <= 1e-7, "{preconditioner:?}: relative residual {rel:e}");
    info.iterations
}

#[test]
fn multigrid_iterations_stay_flat_under_refinement() {
    let coarse = primary_system(0.4);
    let fine = primary_system(1.25);
    assert!(fine.0.n > 6 * coarse.0.n, "refinement should multiply the unknowns ({} -> {})", coarse.0.n, fine.0.n);
    let amg = [iterations(&coarse.0, &coarse.1, Preconditioner::Amg), iterations(&fine.0, &fine.1, Preconditioner::Amg)];
    let jacobi = [iterations(&coarse.0, &coarse.1, Preconditioner::Jacobi), iterations(&fine.0, &fine.1, Preconditioner::Jacobi)];
    eprintln!("unknowns {} -> {}: multigrid CG {amg:?}, Jacobi CG {jacobi:?}", coarse.0.n, fine.0.n);
    // The hierarchy coarsens fast and stays sparse: a V-cycle costs a few fine-grid SpMVs.
    let h = Hierarchy::build(&fine.0, &AmgParams::default()).expect("hierarchy");
    let sizes = h.sizes();
    eprintln!("levels {sizes:?}, operator complexity {:.2}", h.operator_complexity());
    assert!(sizes.windows(2).all(|w| w[1] * 4 <= w[0]), "each level at least 4x coarser: {sizes:?}");
    assert!(h.operator_complexity() < 2.5, "operator complexity {:.2}", h.operator_complexity());
    let amg_ratio = amg[1] as f64 / amg[0] as f64;
    let jacobi_ratio = jacobi[1] as f64 / jacobi[0] as f64;
    assert!(amg_ratio <= 1.3, "multigrid iterations grew {amg_ratio:.2}x: {amg:?}");
    assert!(jacobi_ratio >= 1.4, "Jacobi iterations grew only {jacobi_ratio:.2}x: {jacobi:?}");
    assert!(amg[1] * 5 < jacobi[1], "multigrid should need far fewer iterations: {amg:?} vs {jacobi:?}");
}

/// The transport models' GMRES on the CPU: with the node-block multigrid the linear iterations of
/// the tertiary hemisphere's Newton solve stay nearly flat as the unknowns grow about elevenfold,
/// while ILU(0)'s more than double; both give the same tip enhancement.
#[test]
fn block_multigrid_keeps_transport_gmres_flat_under_refinement() {
    let run = |refine: f64, preconditioner: &str| {
        let sets = [format!("mesh.refine={refine}"), format!("solver.preconditioner=\"{preconditioner}\"")];
        let scene = Scene::load(Path::new("scenes/hemisphere_tertiary.json"), &sets).expect("scene");
        znfield::run::run(&scene, znfield::backend::BackendChoice::Cpu).expect("run").summary
    };
    let (amg_coarse, amg_fine) = (run(0.5, "amg"), run(1.25, "amg"));
    let (ilu_coarse, ilu_fine) = (run(0.5, "jacobi"), run(1.25, "jacobi"));
    assert_eq!(amg_fine.solver.preconditioner, "block-amg-gmres");
    assert_eq!(ilu_fine.solver.preconditioner, "ilu0-gmres");
    assert!(amg_fine.mesh.nodes > 6 * amg_coarse.mesh.nodes, "{} -> {} nodes", amg_coarse.mesh.nodes, amg_fine.mesh.nodes);
    let per_newton =
        |s: &znfield::output::summary::Summary| s.solver.linear_iterations as f64 / s.solver.nonlinear_iterations as f64;
    let (amg_ratio, ilu_ratio) =
        (per_newton(&amg_fine) / per_newton(&amg_coarse), per_newton(&ilu_fine) / per_newton(&ilu_coarse));
    eprintln!(
        "GMRES iterations per Newton step, {} -> {} nodes: block multigrid {:.1} -> {:.1}, ILU(0) {:.1} -> {:.1}",
        amg_coarse.mesh.nodes,
        amg_fine.mesh.nodes,
        per_newton(&amg_coarse),
        per_newton(&amg_fine),
        per_newton(&ilu_coarse),
        per_newton(&ilu_fine)
    );
    assert!(amg_ratio < 1.3, "block multigrid iterations grew by {amg_ratio:.2}");
    assert!(ilu_ratio > 1.8, "ILU(0) iterations grew only by {ilu_ratio:.2}: the contrast is gone");
    let (a, b) = (amg_fine.electrode.tip_enhancement.expect("tip"), ilu_fine.electrode.tip_enhancement.expect("tip"));
    assert!((a - b).abs() < 1e-8 * b, "tip enhancement {a} vs {b}");
}
