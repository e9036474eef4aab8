//! Manufactured-solution test of the P1 Poisson discretization on meshes from the built-in
//! mesher (with a cut hemisphere, so curved boundaries and cut elements are exercised).
//!
//! u = sin(1.3 x) cos(0.7 y) exp(0.5 z), -lap u = 1.93 u, Dirichlet data from u on the whole
//! boundary. Expected observed orders: 2 in L2, 1 in the H1 seminorm.

mod common;

use glam::DVec3;
use znfield::backend::cpu::CpuPcg;
use znfield::fem::assembly::{error_norms, laplacian, load_vector};
use znfield::fem::boundary_flux::tagged_nodes;
use znfield::mesh::BoundaryTag;
use znfield::mesh::SizeField;
use znfield::solve::linear::{LinearParams, LinearSolver};

fn exact(p: DVec3) -> f64 {
    (1.3 * p.x).sin() * (0.7 * p.y).cos() * (0.5 * p.z).exp()
}

fn exact_grad(p: DVec3) -> DVec3 {
    let (s, c, e) = ((1.3 * p.x).sin(), (0.7 * p.y).cos(), (0.5 * p.z).exp());
    DVec3::new(1.3 * (1.3 * p.x).cos() * c * e, -0.7 * s * (0.7 * p.y).sin() * e, 0.5 * s * c * e)
}

fn solve_at(h: f64) -> (f64, f64) {
    let mesh = common::unit_box_hemisphere(&SizeField::graded(h, h, 1.2));
    let k = laplacian(&mesh, 1.0);
    let load = load_vector(&mesh, 1.0, |p| 1.93 * exact(p));
    let mut fixed = Vec::new();
    for tag in [BoundaryTag::Electrode, BoundaryTag::Bulk, BoundaryTag::Insulating] {
        fixed.extend(tagged_nodes(&mesh, tag));
    }
    let mut is_fixed = vec![false; mesh.nodes.len()];
    fixed.iter().for_each(|&n| is_fixed[n as usize] = true);
    let free: Vec<u32> = (0..mesh.nodes.len() as u32).filter(|&n| !is_fixed[n as usize]).collect();
    let mut u: Vec<f64> = mesh.nodes.iter().map(|&p| exact(p)).collect();
    free.iter().for_each(|&n| u[n as usize] = 0.0);
    let (a, coupling) = k.split(&free);
    let b: Vec<f64> = free.iter().enumerate().map(|(r, &n)| load[n as usize] - coupling.row_dot(r, &u)).collect();
    let mut x = vec![0.0; free.len()];
    CpuPcg::default()
        .solve(&a, &b, &mut x, &LinearParams { rtol: 1e-12, max_iterations: 10_000, ..Default::default() })
        .expect("solve");
    free.iter().zip(&x).for_each(|(&n, &v)| u[n as usize] = v);
    error_norms(&mesh, &u, exact, exact_grad)
}

#[test]
fn observed_orders_are_two_in_l2_and_one_in_h1() {
    let hs = [0.2, 0.1, 0.05, 0.025];
    let errs: Vec<(f64, f64)> = hs.iter().map(|&h| solve_at(h)).collect();
    for i in 1..hs.len() {
        let ratio = (hs[i - 1] / hs[i]).ln();
        let l2_rate = (errs[i - 1].0 / errs[i].0).ln() / ratio;
        let h1_rate = (errs[i - 1].1 / errs[i].1).ln() / ratio;
        eprintln!(
            "h {} -> {}: L2 {:.3e} -> {:.3e} (order {l2_rate:.2}), H1 {:.3e} -> {:.3e} (order {h1_rate:.2})",
            hs[i - 1],
            hs[i],
            errs[i - 1].0,
            errs[i].0,
            errs[i - 1].1,
            errs[i].1
        );
        assert!((1.8..2.3).contains(&l2_rate), "L2 order {l2_rate}");
        assert!((0.85..1.2).contains(&h1_rate), "H1 order {h1_rate}");
    }
}
