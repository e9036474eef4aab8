//! A cold transient start of the electroneutral tertiary model on an imported Gmsh mesh (#19
//! item 5): the hemisphere diffusion cell of the validation suite (5094 nodes, 23% of the edge
//! weights negative) stepped from the bulk state at -0.4 V, where the electrode surface empties
//! within nanoseconds. Before the block multigrid judged strength per unknown and left isolated
//! nodes out of the coarse space, the first step's Jacobian (concentration rows dominated by
//! V / dt) made every node a singleton aggregate: levels that coarsened by 2.3x with up to 2500
//! nonzeros per row, 6 s per multigrid setup, and a run that had not finished step 1 after 20
//! minutes. The counts below are what the run takes now (30 steps, 102 Newton and 1537 GMRES
//! iterations, ~10 s on 2 cores); the bounds leave room for rounding, not for a return of the
//! stall.

mod common;

#[test]
fn a_cold_transient_start_converges_on_an_imported_mesh() {
    let dir = common::scratch("cold-start", "hemisphere");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_znfield"))
        .args(["run", "scenes/validation/hemisphere_diffusion.json", "--backend", "cpu", "--quiet"])
        .args(["--set", r#"time={"end_s": 2e-9}"#, "--out", &dir.display().to_string()])
        .output()
        .expect("run znfield");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    let s: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let series = std::fs::read_to_string(dir.join("timeseries.csv")).expect("timeseries.csv");
    let _ = std::fs::remove_dir_all(&dir);
    let count = |p: &str| s.pointer(p).and_then(|v| v.as_u64()).unwrap_or_else(|| panic!("{p}"));
    let (steps, rejected) = (count("/transient/steps"), count("/transient/rejected_steps"));
    let (newton, linear) = (count("/solver/nonlinear_iterations"), count("/solver/linear_iterations"));
    eprintln!("{steps} steps ({rejected} rejected), {newton} Newton, {linear} linear iterations");
    assert_eq!(s["transient"]["stopped_by"], "end_time");
    assert!(steps <= 45 && rejected <= 6, "{steps} steps, {rejected} rejected");
    // Newton per attempted step (an Euler start counts three solves), GMRES per Newton iteration.
    assert!(newton <= 5 * (steps + rejected + 2), "{newton} Newton iterations for {steps} steps");
    assert!(linear <= 30 * newton, "{linear} GMRES iterations for {newton} Newton iterations");
    // The surface has emptied: the last row's minimum Zn2+ at the electrode is far below the
    // bulk's 1 mol/m^3 (3.7e-2 measured at 2 ns).
    let last_row = series.lines().last().expect("rows");
    let column = series.lines().next().expect("header").split(',').position(|h| h == "min_surface_c_Zn2p_mol_m3");
    let c: f64 = last_row.split(',').nth(column.expect("Zn2+ column")).expect("value").parse().expect("number");
    assert!(c < 0.1, "Zn2+ at the surface {c} mol/m^3 after 2 ns");
}
