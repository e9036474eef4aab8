//! Manufactured-solution convergence of the transport scheme: the log-mean edge flux
//! ([`znfield::physics::edge_flux`]) on the circumcentric (Voronoi-box) edge weights, with drift,
//! on unstructured meshes.
//!
//! Steady Nernst–Planck for one species of charge z = 2 in a prescribed (scaled) potential phi,
//!
//! ```text
//!     -div(grad c + z c grad phi) = f   in the electrolyte around a hemisphere (unit box),
//!     c = c_exact                        on the whole boundary,
//! ```
//!
//! discretised as the solver does it with `solver.transport_weights = "circumcentric"`: at every
//! free node j, `sum_k omega_jk F(c_j, c_k) = f(x_j) V_j`
//! with F the log-mean flux, omega_jk the circumcentric weights and V_j the node's circumcentric
//! dual cell ([`znfield::fem::dual`]). The drift is strong enough for cell Peclet numbers
//! |z grad phi| h of 0.3-1.3 over the three meshes.
//!
//! Two families of meshes: the built-in mesher's as that scheme gets them (graded
//! bisection, cut to the hemisphere, flipped toward Delaunay: 4.3%, 2.3% and 1.4% of the weights
//! negative, against 19-20% unflipped) and the unflipped meshes with every interior node moved at random by up to a
//! fifth of its shortest edge, far from Delaunay (about a quarter of the weights negative), as an
//! irregular imported mesh could be. The scheme converges at order 2 in L2 and 1 in H1 on both.
//! (Dropping the negative weights, the positive-part M-matrix correction, was measured here and
//! rejected: its errors do not fall under refinement; see the README.)

mod common;

use common::convergence::{self, Level};
use glam::DVec3;
use znfield::backend::cpu::CpuGmres;
use znfield::fem::assembly::circumcentric_laplacian;
use znfield::fem::assembly::{error_norms, load_vector};
use znfield::fem::dual::{node_volumes, ControlVolumes};
use znfield::fem::edges::Edges;
use znfield::fem::edges::NegativeWeights;
use znfield::fem::{assembly::laplacian, CsrMatrix};
use znfield::mesh::{BoundaryTag, SizeField, TetMesh};
use znfield::physics::edge_flux::log_mean_flux;
use znfield::solve::linear::{GeneralLinearSolver, LinearParams};

const Z: f64 = 2.0;

fn exact(p: DVec3) -> f64 {
    1.0 + 0.5 * (1.3 * p.x).sin() * (0.7 * p.y).cos() * (0.5 * p.z).exp()
}

fn exact_grad(p: DVec3) -> DVec3 {
    let (s, c, e) = ((1.3 * p.x).sin(), (0.7 * p.y).cos(), (0.5 * p.z).exp());
    0.5 * DVec3::new(1.3 * (1.3 * p.x).cos() * c * e, -0.7 * s * (0.7 * p.y).sin() * e, 0.5 * s * c * e)
}

/// Laplacian of `exact`: the sine-cosine-exponential part times -(1.3^2 + 0.7^2 - 0.5^2).
fn exact_laplacian(p: DVec3) -> f64 {
    -1.93 * (exact(p) - 1.0)
}

/// The prescribed potential (scaled by the thermal voltage): a uniform field plus a bend.
fn phi(p: DVec3) -> f64 {
    1.2 * p.x - 0.8 * p.z + 0.6 * (1.1 * p.y).sin()
}

fn phi_grad(p: DVec3) -> DVec3 {
    DVec3::new(1.2, 0.66 * (1.1 * p.y).cos(), -0.8)
}

fn phi_laplacian(p: DVec3) -> f64 {
    -0.726 * (1.1 * p.y).sin()
}

/// f = -lap c - z (grad c . grad phi + c lap phi).
fn source(p: DVec3) -> f64 {
    -exact_laplacian(p) - Z * (exact_grad(p).dot(phi_grad(p)) + exact(p) * phi_laplacian(p))
}

fn hemisphere_mesh(h: f64) -> TetMesh {
    common::unit_box_hemisphere(&SizeField::graded(h, h, 1.3))
}

/// Whether each node lies on the boundary.
fn boundary_nodes(mesh: &TetMesh) -> Vec<bool> {
    let mut on = vec![false; mesh.nodes.len()];
    for tag in [BoundaryTag::Electrode, BoundaryTag::Bulk, BoundaryTag::Insulating] {
        on.iter_mut().zip(mesh.on_boundary(tag)).for_each(|(a, b)| *a |= b);
    }
    on
}

/// Moves every interior node by a pseudo-random vector of length up to `fraction` of its
/// shortest edge (a fixed seed: the same mesh every run); a move that would invert a tetrahedron
/// is halved until it does not.
fn jitter(mesh: &mut TetMesh, fraction: f64) {
    let fixed = boundary_nodes(mesh);
    let mut shortest = vec![f64::INFINITY; mesh.nodes.len()];
    let mut tets_of = vec![Vec::new(); mesh.nodes.len()];
    for (t, tet) in mesh.tets.iter().enumerate() {
        for a in 0..4 {
            tets_of[tet[a] as usize].push(t);
            for b in 0..4 {
                let d = mesh.nodes[tet[a] as usize].distance(mesh.nodes[tet[b] as usize]);
                if a != b {
                    shortest[tet[a] as usize] = shortest[tet[a] as usize].min(d);
                }
            }
        }
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    for n in 0..mesh.nodes.len() {
        let step = DVec3::new(uniform(), uniform(), uniform()) * (fraction * shortest[n] / 3f64.sqrt());
        if fixed[n] {
            continue;
        }
        let start = mesh.nodes[n];
        let mut scale = 1.0;
        while scale > 1e-3 {
            mesh.nodes[n] = start + step * scale;
            if tets_of[n].iter().all(|&t| mesh.tet_volume(t) > 0.0) {
                break;
            }
            scale *= 0.5;
        }
        if scale <= 1e-3 {
            mesh.nodes[n] = start;
        }
    }
}

/// The finite-volume source: f at each node times its circumcentric control volume, as the
/// transport models take volumetric terms.
fn box_load(mesh: &TetMesh) -> Vec<f64> {
    let volume = node_volumes(mesh, 1.0, ControlVolumes::Circumcentric);
    mesh.nodes.iter().zip(&volume).map(|(&p, v)| source(p) * v).collect()
}

/// Solves the discrete problem on `mesh` by Newton's method from c = 1 and returns the L2 and H1
/// errors and the share of negative weights.
fn solve_on(mesh: &TetMesh, weights: Weights) -> (f64, f64, f64) {
    let (k, load) = match weights {
        Weights::P1 => (laplacian(mesh, 1.0), load_vector(mesh, 1.0, source)),
        Weights::Circumcentric => (circumcentric_laplacian(mesh, 1.0), box_load(mesh)),
    };
    let edges = Edges::from_stiffness(&k);
    let share = NegativeWeights::of(&k, &vec![false; mesh.nodes.len()]).share;
    let fixed = boundary_nodes(mesh);
    let free: Vec<usize> = (0..mesh.nodes.len()).filter(|&n| !fixed[n]).collect();
    let mut free_of = vec![usize::MAX; mesh.nodes.len()];
    free.iter().enumerate().for_each(|(f, &n)| free_of[n] = f);
    let potential: Vec<f64> = mesh.nodes.iter().map(|&p| phi(p)).collect();
    let mut c: Vec<f64> = mesh.nodes.iter().enumerate().map(|(n, &p)| if fixed[n] { exact(p) } else { 1.0 }).collect();
    let mut solver = CpuGmres::default();
    for iteration in 0.. {
        let mut residual: Vec<f64> = free.iter().map(|&n| -load[n]).collect();
        let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); free.len()];
        for (&(a, b), &w) in edges.pairs.iter().zip(&edges.weights) {
            let (a, b) = (a as usize, b as usize);
            let ab = log_mean_flux(c[a], c[b], Z, potential[b] - potential[a]);
            let ba = log_mean_flux(c[b], c[a], Z, potential[a] - potential[b]);
            for (j, k, flux) in [(a, b, ab), (b, a, ba)] {
                let Some(row) = free_of.get(j).copied().filter(|&f| f != usize::MAX) else { continue };
                residual[row] += w * flux.flux;
                rows[row].push((row as u32, w * flux.d_ca));
                if free_of[k] != usize::MAX {
                    rows[row].push((free_of[k] as u32, w * flux.d_cb));
                }
            }
        }
        let norm = residual.iter().map(|r| r * r).sum::<f64>().sqrt();
        if norm < 1e-12 {
            break;
        }
        assert!(iteration < 20, "Newton did not converge: residual {norm:e}");
        let jacobian = CsrMatrix::from_rows(rows.into_iter().map(merge_duplicates).collect());
        let mut step = vec![0.0; free.len()];
        let params = LinearParams { rtol: 1e-12, max_iterations: 5000, ..Default::default() };
        solver.solve_general(&jacobian, &residual, &mut step, &params).expect("linear solve");
        free.iter().zip(&step).for_each(|(&n, s)| c[n] -= s);
    }
    let (l2, h1) = error_norms(mesh, &c, exact, exact_grad);
    (l2, h1, share)
}

/// The scheme: the P1 stiffness's edge weights with the P1 load vector, or the circumcentric
/// (Voronoi-box) weights with the source over the dual cells, as the transport models do.
#[derive(Clone, Copy)]
enum Weights {
    P1,
    Circumcentric,
}

/// A row's entries with the values of equal columns summed.
fn merge_duplicates(mut row: Vec<(u32, f64)>) -> Vec<(u32, f64)> {
    row.sort_by_key(|&(c, _)| c);
    let mut merged: Vec<(u32, f64)> = Vec::with_capacity(row.len());
    for (c, v) in row {
        match merged.last_mut() {
            Some(last) if last.0 == c => last.1 += v,
            _ => merged.push((c, v)),
        }
    }
    merged
}

#[test]
fn log_mean_scheme_converges_with_drift_on_unstructured_meshes() {
    let flipped = |h: f64| common::unit_box_hemisphere(&SizeField { delaunay_flips: true, ..SizeField::graded(h, h, 1.3) });
    for jittered in [false, true] {
        let levels: Vec<Level> = [0.1, 0.05, 0.025]
            .iter()
            .map(|&h| {
                let mesh = if jittered {
                    let mut mesh = hemisphere_mesh(h);
                    jitter(&mut mesh, 0.2);
                    mesh
                } else {
                    flipped(h)
                };
                let (l2, h1, share) = solve_on(&mesh, Weights::Circumcentric);
                eprintln!("h {h}: {:.1}% of the circumcentric weights negative", 100.0 * share);
                if jittered {
                    assert!(share > 0.15, "the jittered meshes are meant to be far from Delaunay: {share}");
                } else {
                    // Unflipped, these meshes have 19-20% (and 17-19% negative P1 weights).
                    assert!(share < 0.05, "the flips should leave few negative weights: {share}");
                }
                Level { h, nodes: mesh.nodes.len(), errors: vec![l2, h1] }
            })
            .collect();
        let name = if jittered { "transport_manufactured_jittered" } else { "transport_manufactured_built_in" };
        convergence::check(name, &["l2", "h1"], &levels);
    }
}

/// The P1 weights with the P1 load, the transport models' default scheme, converge at the same
/// order on the unflipped meshes (17-19% of their weights negative), with 5-20% larger errors.
#[test]
fn p1_weights_converge_too_on_the_coarser_meshes() {
    let errors: Vec<(f64, f64, f64)> = [0.1, 0.05].iter().map(|&h| solve_on(&hemisphere_mesh(h), Weights::P1)).collect();
    let order = (errors[0].0 / errors[1].0).log2();
    eprintln!("P1: L2 {:.3e} {:.3e}, order {order:.2}", errors[0].0, errors[1].0);
    assert!(order > 1.9 && errors.iter().all(|e| e.2 > 0.15), "{errors:?}");
}
