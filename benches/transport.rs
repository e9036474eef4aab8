//! Criterion benchmarks of the transport Newton system on the hemisphere mesh: the host
//! assembly of residual and Jacobian, the node-block multigrid (setup, one V-cycle) and a whole
//! multigrid GMRES solve on the CPU backend, and the multigrid BiCGStab on the GPU backend when
//! an adapter exists.
//!
//! The system: three species (2+, 1+, 2-) under electroneutrality with Butler–Volmer kinetics
//! (3 unknowns per node), at the bulk state with the electrode 1 thermal voltage cathodic, plus
//! the accumulation of an implicit time step (a0 = 10 in scaled time), the matrix a transient
//! run solves most often.
//!
//! `cargo bench --bench transport` (add `-- --quick` for a fast pass); ZNFIELD_BENCH_REFINE
//! scales the mesh as for the kernels bench (default 1: 52k nodes, 156k unknowns).

use std::hint::black_box;

mod common;
// The test fixtures (the same three-species system the transport tests solve).
#[path = "../tests/common/mod.rs"]
mod fixtures;

use criterion::{criterion_group, criterion_main, Criterion};
use znfield::backend::cpu::CpuGmres;
use znfield::backend::gpu::{GpuBicgstab, GpuContext};
use znfield::fem::edges::Edges;
use znfield::solve::amg::AmgParams;
use znfield::solve::block_amg::BlockHierarchy;
use znfield::solve::linear::{GeneralLinearSolver, LinearParams, Preconditioner};
use znfield::solve::primary::Drive;
use znfield::solve::system::PotentialSystem;
use znfield::solve::transport::{Accumulation, TransportProblem};

fn benches(c: &mut Criterion) {
    let (mesh, l) = common::hemisphere();
    let sys = PotentialSystem::new(&mesh, l);
    let edges = Edges::from_stiffness(&sys.k);
    let tp = fixtures::three_species_electroneutral();
    let mut t = TransportProblem::new(&sys, &edges, &tp);
    let st = t.initial_state(Drive::Potential(-1.0)).expect("state");
    let acc = Accumulation { a0: 10.0, history: t.concentrations(&st).iter().map(|c| 10.0 * c).collect() };
    let m = st.x.len() / t.volumes().len();
    let jacobian = t.jacobian(&st, Some(&acc), None).expect("jacobian").clone();
    let rhs: Vec<f64> = t.residual(&st, Some(&acc)).iter().map(|r| -r).collect();
    eprintln!(
        "transport system: {} nodes, {} unknowns ({m} per node), {} non-zeros",
        mesh.nodes.len(),
        jacobian.n,
        jacobian.nnz()
    );

    let mut g = c.benchmark_group("hemisphere_transport");
    g.sample_size(10);
    g.bench_function("cpu_transport_assembly", |bch| {
        bch.iter(|| black_box(t.jacobian(&st, Some(&acc), None).expect("jacobian").nnz()))
    });
    let params = AmgParams::default();
    let hierarchy = BlockHierarchy::build(&jacobian, m, &params).expect("hierarchy");
    eprintln!("block multigrid levels {:?}", hierarchy.sizes());
    g.bench_function("cpu_block_amg_setup", |bch| {
        bch.iter(|| black_box(BlockHierarchy::build(&jacobian, m, &params).expect("hierarchy").sizes()))
    });
    let mut z = vec![0.0; jacobian.n];
    g.bench_function("cpu_block_amg_vcycle", |bch| bch.iter(|| hierarchy.apply(black_box(&rhs), &mut z)));
    let linear = LinearParams { rtol: 1e-8, preconditioner: Preconditioner::Amg, block_size: m, ..Default::default() };
    g.bench_function("cpu_block_amg_gmres_solve", |bch| {
        bch.iter(|| {
            let mut x = vec![0.0; jacobian.n];
            CpuGmres::default().solve_general(&jacobian, &rhs, &mut x, &linear).expect("solve")
        })
    });
    match GpuContext::new(false) {
        Err(reason) => eprintln!("GPU benches skipped: {reason}"),
        Ok(ctx) => {
            eprintln!("GPU adapter: {}", ctx.adapter_summary());
            // Hierarchy and device buffers kept across solves: each solve writes the values.
            let mut gpu = GpuBicgstab::new(std::sync::Arc::new(ctx));
            let mut x = vec![0.0; jacobian.n];
            match gpu.solve_on_device(&jacobian, &rhs, &mut x, &linear) {
                Ok(info) => eprintln!("GPU BiCGStab: {} iterations to {:.1e}", info.iterations, info.relative_residual),
                Err(e) => eprintln!("GPU BiCGStab failed: {e}"),
            }
            g.bench_function("gpu_block_amg_bicgstab_solve", |bch| {
                bch.iter(|| {
                    let mut x = vec![0.0; jacobian.n];
                    black_box(gpu.solve_on_device(&jacobian, &rhs, &mut x, &linear).map(|i| i.iterations).unwrap_or(0))
                })
            });
        }
    }
    g.finish();
}

criterion_group!(transport, benches);
criterion_main!(transport);
