//! Manufactured-solution convergence of the secondary model (Laplace with Butler–Volmer kinetics
//! lumped at the electrode nodes, solved by the model's own Newton) on the built-in mesher's
//! meshes of a hemisphere on a plane.
//!
//! phi (scaled by V_T) = -(1 - z) + 0.3 cos(pi x) cos(pi y) sin(pi (1 - z) / 2) in the unit box
//! [-1, 1]^2 x [0, 1]: zero on the bulk boundary z = 1 and without normal flux through the side
//! walls, as the model requires. The volume source f = -lap phi and the electrode source
//! g = grad phi . n - Gamma f_BV(E - phi) (n out of the electrolyte, the mesh faces' own normals:
//! the data are exact on the discrete domain) go in through
//! [`znfield::solve::secondary::solve_with_source`]. The electrode is at E = -3 V_T with
//! symmetric Butler–Volmer kinetics (alpha n = 1 each way) and Gamma = 0.5: the cathodic branch
//! dominates and the kinetics are far from linear.

mod common;

use common::convergence::{self, Level};
use glam::DVec3;
use std::f64::consts::PI;
use znfield::backend::cpu::CpuPcg;
use znfield::fem::assembly::{error_norms, load_vector};
use znfield::mesh::{BoundaryTag, SizeField, TetMesh};
use znfield::physics::kinetics::{ButlerVolmer, Reaction};
use znfield::solve::linear::LinearParams;
use znfield::solve::primary::Drive;
use znfield::solve::secondary::{solve_with_source, KineticBoundary, NewtonParams};
use znfield::solve::system::PotentialSystem;

const E: f64 = -3.0;
const GAMMA: f64 = 0.5;
const LAW: ButlerVolmer = ButlerVolmer { anodic: 1.0, cathodic: 1.0, linear: false };

fn bend(p: DVec3) -> f64 {
    (PI * p.x).cos() * (PI * p.y).cos() * (0.5 * PI * (1.0 - p.z)).sin()
}

fn exact(p: DVec3) -> f64 {
    -(1.0 - p.z) + 0.3 * bend(p)
}

fn exact_grad(p: DVec3) -> DVec3 {
    let (cx, cy, sz) = ((PI * p.x).cos(), (PI * p.y).cos(), (0.5 * PI * (1.0 - p.z)).sin());
    let (sx, sy, cz) = ((PI * p.x).sin(), (PI * p.y).sin(), (0.5 * PI * (1.0 - p.z)).cos());
    DVec3::new(-0.3 * PI * sx * cy * sz, -0.3 * PI * cx * sy * sz, 1.0 - 0.15 * PI * cx * cy * cz)
}

/// -lap phi: the bend is an eigenfunction with eigenvalue pi^2 (1 + 1 + 1/4).
fn volume_source(p: DVec3) -> f64 {
    0.3 * 2.25 * PI * PI * bend(p)
}

fn hemisphere_mesh(h: f64) -> TetMesh {
    common::unit_box_hemisphere(&SizeField::graded(h, h, 1.3))
}

/// `integral_electrode g psi_j ds` with the three-point edge-midpoint rule on every face (exact
/// for quadratics), and the exact total reaction current `integral Gamma f_BV(E - phi) ds`.
fn electrode_source(mesh: &TetMesh, source: &mut [f64]) -> f64 {
    let mut exact_current = 0.0;
    for f in mesh.faces_with(BoundaryTag::Electrode) {
        let area_vector = mesh.face_area_vector(f);
        let (area, normal) = (area_vector.length(), area_vector.normalize());
        let nodes = mesh.faces[f];
        for (a, b) in [(0, 1), (1, 2), (2, 0)] {
            let p = 0.5 * (mesh.nodes[nodes[a] as usize] + mesh.nodes[nodes[b] as usize]);
            let reaction = GAMMA * LAW.current(E - exact(p));
            let g = exact_grad(p).dot(normal) - reaction;
            source[nodes[a] as usize] += area / 3.0 * 0.5 * g;
            source[nodes[b] as usize] += area / 3.0 * 0.5 * g;
            exact_current += area / 3.0 * reaction;
        }
    }
    exact_current
}

/// L2 and H1 errors of phi and the relative error of the total electrode current on `mesh`.
fn solve_on(mesh: &TetMesh) -> (f64, f64, f64) {
    let sys = PotentialSystem::new(mesh, 1.0);
    let mut source = load_vector(mesh, 1.0, volume_source);
    let exact_current = electrode_source(mesh, &mut source);
    let kinetics = KineticBoundary {
        reactions: vec![Reaction { species: None, law: LAW, cathodic_order: 1.0, gamma: GAMMA }],
        conductivity_s_m: 1.0,
    };
    let linear = LinearParams { rtol: 1e-12, max_iterations: 20_000, ..Default::default() };
    let newton = NewtonParams { tol: 1e-11, max_iterations: 30 };
    let solution =
        solve_with_source(&sys, &kinetics, Drive::Potential(E), Some(&source), &mut CpuPcg::default(), &linear, &newton)
            .expect("secondary solve");
    let current: f64 =
        sys.electrode.iter().zip(&sys.electrode_area).map(|(&n, a)| GAMMA * a * LAW.current(E - solution.phi[n as usize])).sum();
    let (l2, h1) = error_norms(mesh, &solution.phi, exact, exact_grad);
    (l2, h1, current / exact_current - 1.0)
}

#[test]
fn secondary_model_converges_at_order_two_in_l2_and_one_in_h1() {
    let levels: Vec<Level> = [0.1, 0.05, 0.025]
        .iter()
        .map(|&h| {
            let mesh = hemisphere_mesh(h);
            let (l2, h1, current) = solve_on(&mesh);
            Level { h, nodes: mesh.nodes.len(), errors: vec![l2, h1, current] }
        })
        .collect();
    convergence::check("secondary_manufactured", &["l2", "h1", "current"], &levels);
}
