//! The host assembly of the transport Newton system: its Jacobian is the derivative of its
//! residual (central differences along several directions, for the electroneutral and the
//! Poisson closures, with and without a time step's accumulation), and the row-owned parallel
//! assembly gives the same bits on one thread as on several.

mod common;

use znfield::solve::primary::Drive;
use znfield::solve::transport::{Accumulation, Closure, State, TransportParams, TransportProblem};

/// Two species (2+, 2-) under Poisson with a reacting (Stern) electrode.
fn two_species_poisson() -> TransportParams {
    TransportParams {
        charges: vec![2.0, -2.0],
        bulk: vec![1.0, 1.0],
        diffusivities: vec![0.7, 1.0],
        closure: Closure::Poisson { lambda: 0.05, stern: Some(2.0) },
        ..common::three_species_electroneutral()
    }
}

/// A state away from the bulk: every unknown moved by a smooth, node-dependent amount (log
/// concentrations by up to 0.3, potentials by up to 1.5 thermal voltages).
fn disturbed(t: &TransportProblem, drive: Drive) -> State {
    let mut st = t.initial_state(drive).expect("state");
    let m = st.x.len() / t.volumes().len();
    for (k, x) in st.x.iter_mut().enumerate() {
        let amplitude = if k % m == m - 1 { 1.5 } else { 0.3 };
        *x += amplitude * (0.37 * k as f64).sin();
    }
    st
}

/// A time step's accumulation with history at the disturbed state's concentrations x 1.1.
fn accumulation(t: &TransportProblem, st: &State) -> Accumulation {
    let history = t.concentrations(st).iter().map(|c| 1.1 * c).collect();
    Accumulation { a0: 3.0, history }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[test]
fn the_jacobian_is_the_derivative_of_the_residual() {
    let (sys, edges) = common::spheroid_system();
    for (name, tp) in [("electroneutral", common::three_species_electroneutral()), ("poisson", two_species_poisson())] {
        let mut t = TransportProblem::new(&sys, &edges, &tp);
        let st = disturbed(&t, Drive::Potential(-1.0));
        let acc = accumulation(&t, &st);
        for acc in [None, Some(&acc)] {
            let jacobian = t.jacobian(&st, acc, None).expect("jacobian").clone();
            for direction in 0..3 {
                let v: Vec<f64> = (0..st.x.len()).map(|k| (0.71 * (k + 7 * direction) as f64).cos()).collect();
                let h = 1e-5;
                let at = |s: f64| {
                    let x = st.x.iter().zip(&v).map(|(x, v)| x + s * v).collect();
                    t.residual(&State { x, e: st.e }, acc)
                };
                let (plus, minus) = (at(h), at(-h));
                let difference: Vec<f64> = plus.iter().zip(&minus).map(|(p, m)| (p - m) / (2.0 * h)).collect();
                let mut product = vec![0.0; v.len()];
                jacobian.spmv(&v, &mut product);
                let error: Vec<f64> = product.iter().zip(&difference).map(|(a, b)| a - b).collect();
                let relative = norm(&error) / norm(&difference);
                eprintln!("{name}, accumulation {}, direction {direction}: relative error {relative:.2e}", acc.is_some());
                // Central differences with h = 1e-5 are good to about h^2 (1e-10) plus rounding
                // (1e-16 / h); a wrong or missing term shows at 1e-3 or more.
                assert!(relative < 1e-7, "{name}: J v differs from the residual's difference quotient by {relative:e}");
            }
        }
    }
}

#[test]
fn host_assembly_gives_the_same_bits_on_one_thread_and_on_four() {
    let (sys, edges) = common::spheroid_system();
    let tp = common::three_species_electroneutral();
    let assemble = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        pool.install(|| {
            let mut t = TransportProblem::new(&sys, &edges, &tp);
            let st = disturbed(&t, Drive::Potential(-1.0));
            let residual = t.residual(&st, None);
            let values = t.jacobian(&st, None, None).expect("jacobian").values.clone();
            (residual, values)
        })
    };
    let (one, four) = (assemble(1), assemble(4));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.0), bits(&four.0), "residual");
    assert_eq!(bits(&one.1), bits(&four.1), "Jacobian values");
}
