//! The transport Newton's stopping rule. It stops when its step is below the tolerance or, after
//! a full step that contracted the merit at least a hundredfold (the quadratic regime), when the
//! next step is predicted (contraction x this step) to be below it. The prediction must be
//! truthful: the Newton step from where it stopped, computed here, is below the tolerance.

mod common;

use znfield::backend::cpu::CpuGmres;
use znfield::solve::device_jacobian::TransportBackend;
use znfield::solve::linear::{GeneralLinearSolver, LinearParams};
use znfield::solve::primary::Drive;
use znfield::solve::secondary::NewtonParams;
use znfield::solve::transport::TransportProblem;

#[test]
fn newton_stops_only_where_one_more_step_is_below_the_tolerance() {
    let (sys, edges) = common::spheroid_system();
    let tp = common::three_species_electroneutral();
    let linear = LinearParams { rtol: 1e-12, ..Default::default() };
    for (drive, tol) in [(-3.0, 1e-8), (-1.0, 1e-6), (-1.0, 1e-4), (-3.0, 1e-3), (-0.3, 1e-5)] {
        let drive = Drive::Potential(drive);
        let mut t = TransportProblem::new(&sys, &edges, &tp);
        let mut st = t.initial_state(drive).expect("state");
        let newton = NewtonParams { tol, max_iterations: 60 };
        let mut solver = CpuGmres::default();
        solver.new_nonlinear_solve();
        let mut backend = TransportBackend::host(&mut solver);
        let stats = t.newton(&mut st, drive, None, &mut backend, &linear, &newton).expect("converges");
        assert!(stats.iterations >= 2, "{drive:?}: a nonlinear problem takes more than one step");
        // The full Newton step from the stopping point (the electrode potential is fixed).
        let m = st.x.len() / t.volumes().len();
        let jacobian = t.jacobian(&st, None, None).expect("jacobian").clone();
        let minus_r: Vec<f64> = t.residual(&st, None).iter().map(|r| -r).collect();
        let mut du = vec![0.0; minus_r.len()];
        solver.solve_general(&jacobian, &minus_r, &mut du, &LinearParams { block_size: m, ..linear }).expect("step");
        let next = du.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let h = &stats.history;
        eprintln!(
            "{drive:?}, tol {tol:e}: {} iterations, last contraction {:.1e}, next step {next:.2e}",
            stats.iterations,
            h[h.len() - 1] / h[h.len() - 2]
        );
        assert!(next < tol, "{drive:?}: Newton stopped where the next step is {next:e}, over the tolerance {tol:e}");
    }
}
