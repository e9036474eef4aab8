//! The transient solver's global error against `time.rtol` (#19 item 3), on a problem with a
//! closed form: the slowest diffusion mode of a binary salt between a blocking electrode (z = 0,
//! no reaction: zero flux) and the bulk (z = H, c = c_b),
//!
//!   c(z, t) = c_b + A cos(pi z / (2 H)) exp(-D_amb (pi / (2 H))^2 t),
//!
//! which electroneutral Nernst–Planck reduces to (zero current: the salt diffuses with the
//! ambipolar D_amb = D+ D- (z+ - z-) / (z+ D+ - z- D-)). The run starts from the mode (a
//! non-bulk initial state, passed as the saved progress a run resumes from).
//!
//! Checked: a run at a tight tolerance matches the closed form to the mesh's spatial error, and
//! the time error (against that run, so the spatial error cancels) is of the order of rtol and
//! falls in proportion to it (observed order 0.8-0.9: the control lets each step commit rtol
//! step / t, so the errors add up to ~rtol ln(t_end / t_first), a slowly growing log factor).
//! Under the former per-step control the error grew to 14 rtol at rtol = 1e-5 and fell as
//! rtol^0.6; with the former linear predictor (which overstated the local error 16-120x) it lay
//! far below rtol.

use glam::DVec3;
use znfield::backend::cpu::CpuGmres;
use znfield::fem::edges::Edges;
use znfield::geometry::ElectrodeGeometry;
use znfield::mesh::{generate, SizeField, TetMesh};
use znfield::physics::kinetics::{ButlerVolmer, Reaction};
use znfield::solve::device_jacobian::TransportBackend;
use znfield::solve::linear::{GeneralLinearSolver, LinearParams};
use znfield::solve::newton::State;
use znfield::solve::primary::Drive;
use znfield::solve::secondary::NewtonParams;
use znfield::solve::system::PotentialSystem;
use znfield::solve::transient::{self, NoObserver, Progress, TimeParams};
use znfield::solve::transport::{Closure, TransportParams};

const HEIGHT: f64 = 1.0;
const AMPLITUDE: f64 = 0.5;
const END: f64 = 0.5;

/// A column 0.1 x 0.1 x 1 (scaled units) with elements of size 1/40.
fn column() -> TetMesh {
    let geom = ElectrodeGeometry {
        half_width: 0.05,
        height: HEIGHT,
        shapes: vec![],
        layers: vec![],
        scaffold: Default::default(),
        periodic: false,
        ground: None,
    };
    generate(&geom, &SizeField::graded(0.025, 0.025, 1.0)).expect("mesh")
}

/// ZnSO4 in scaled units with an electrode that does not react (gamma = 0).
fn binary_salt() -> TransportParams {
    TransportParams {
        charges: vec![2.0, -2.0],
        diffusivities: vec![0.66, 1.0],
        bulk: vec![1.0, 1.0],
        reactions: vec![Reaction {
            species: Some(0),
            law: ButlerVolmer { anodic: 1.0, cathodic: 1.0, linear: false },
            cathodic_order: 1.0,
            gamma: 0.0,
        }],
        closure: Closure::Electroneutral,
        concentration_scale: 1.0,
        conductivity_unit: 1.0,
        donnan_start: true,
    }
}

fn ambipolar(tp: &TransportParams) -> f64 {
    let (zp, zm, dp, dm) = (tp.charges[0], tp.charges[1], tp.diffusivities[0], tp.diffusivities[1]);
    dp * dm * (zp - zm) / (zp * dp - zm * dm)
}

fn mode(z: f64, t: f64, d_amb: f64) -> f64 {
    let k = std::f64::consts::PI / (2.0 * HEIGHT);
    1.0 + AMPLITUDE * (k * z).cos() * (-d_amb * k * k * t).exp()
}

/// The salt concentration at every mesh node at t = END, run at tolerance `rtol`.
fn run(mesh: &TetMesh, sys: &PotentialSystem, edges: &Edges, tp: &TransportParams, rtol: f64) -> (Vec<f64>, u32) {
    let free = sys.free_nodes(&[&sys.bulk]);
    let d_amb = ambipolar(tp);
    // Unknowns per free node: ln c of the cation, then phi (0: Newton finds the diffusion potential).
    let mut x = vec![0.0; 2 * free.len()];
    for (a, &node) in free.iter().enumerate() {
        x[2 * a] = mode(mesh.nodes[node as usize].z, 0.0, d_amb).ln();
    }
    let start = Progress::at_start(State { x, e: 0.0 }, 1e-4);
    let time = TimeParams {
        end: END,
        initial_step: 1e-4,
        max_step: END,
        rtol,
        output_times: vec![],
        depletion: 0.0,
        breakpoints: vec![],
        jumps: vec![],
        preconditioner_reuse_steps: 1,
    };
    let mut solver = CpuGmres::default();
    solver.new_nonlinear_solve();
    let mut backend = TransportBackend::host(&mut solver);
    let linear = LinearParams { rtol: 1e-12, ..Default::default() };
    let newton = NewtonParams { tol: 1e-10, max_iterations: 30 };
    let result = transient::run(
        sys,
        edges,
        tp,
        &|_, _| Drive::Potential(0.0),
        &mut backend,
        &linear,
        &newton,
        &time,
        Some(start),
        &mut NoObserver,
        &|_| 0.0,
    )
    .expect("the run reaches its end time");
    (result.last.concentrations[0].clone(), result.steps)
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn the_global_time_error_follows_rtol_on_a_decaying_diffusion_mode() {
    let mesh = column();
    let sys = PotentialSystem::new(&mesh, 1.0);
    let edges = Edges::from_stiffness(&sys.k);
    let tp = binary_salt();
    let d_amb = ambipolar(&tp);
    let exact: Vec<f64> = mesh.nodes.iter().map(|p: &DVec3| mode(p.z, END, d_amb)).collect();
    let (reference, ref_steps) = run(&mesh, &sys, &edges, &tp, 1e-6);
    let spatial = max_difference(&reference, &exact);
    eprintln!("rtol 1e-6: {ref_steps} steps, error against the closed form {spatial:.2e}");
    // O(h^2) with h = 1/40: the decay rate is off by ~(k h)^2 / 12 ~ 1e-4 relative.
    assert!(spatial < 2e-4, "the tight run misses the closed form by {spatial:e}");
    let mut errors = Vec::new();
    for rtol in [1e-3, 1e-4, 1e-5] {
        let (c, steps) = run(&mesh, &sys, &edges, &tp, rtol);
        let error = max_difference(&c, &reference);
        eprintln!("rtol {rtol:e}: {steps} steps, time error {error:.3e} ({:.2} rtol)", error / rtol);
        assert!((0.3..=4.0).contains(&(error / rtol)), "rtol {rtol:e}: time error {error:e} is not of the order of rtol");
        errors.push((rtol, error));
    }
    for w in errors.windows(2) {
        let order = (w[0].1 / w[1].1).ln() / (w[0].0 / w[1].0).ln();
        eprintln!("observed order in rtol: {order:.2}");
        assert!((0.75..=1.15).contains(&order), "the time error falls as rtol^{order:.2}");
    }
}
