//! Criterion benchmarks: assembly, SpMV, Jacobi-PCG and multigrid (setup, V-cycle, one
//! preconditioned iteration, PCG) on the hemisphere scene's primary system, on the CPU backend
//! and (when an adapter exists) the GPU backend (SpMV, V-cycle, Jacobi and multigrid PCG).
//!
//! `cargo bench --bench kernels` (add `-- --quick` for a fast pass). `--set`-style mesh scaling:
//! ZNFIELD_BENCH_REFINE=2 makes the mesh about 4.5x larger. Results on a software adapter
//! (lavapipe) measure correctness plumbing, not GPU performance.

use std::hint::black_box;

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use znfield::backend::cpu::CpuPcg;
use znfield::backend::gpu::kernels::spmv;
use znfield::backend::gpu::layout::Dims;
use znfield::backend::gpu::multigrid::DeviceHierarchy;
use znfield::backend::gpu::{GpuContext, GpuPcg};
use znfield::fem::assembly;
use znfield::solve::amg::{AmgParams, Hierarchy};
use znfield::solve::linear::{LinearParams, LinearSolver, Preconditioner};
use znfield::solve::system::PotentialSystem;

fn benches(c: &mut Criterion) {
    let (mesh, l) = common::hemisphere();
    let (a, b, _) = PotentialSystem::new(&mesh, l).reduced_primary();
    eprintln!("hemisphere mesh: {} nodes, {} tets; system {} rows, {} nonzeros", mesh.nodes.len(), mesh.tets.len(), a.n, a.nnz());
    let mut g = c.benchmark_group("hemisphere_primary");
    g.sample_size(10);
    g.bench_function("cpu_assembly", |bch| bch.iter(|| black_box(assembly::laplacian(&mesh, l))));
    let x: Vec<f64> = (0..a.n).map(|i| (i % 7) as f64).collect();
    let mut y = vec![0.0; a.n];
    g.bench_function("cpu_spmv", |bch| bch.iter(|| a.spmv(black_box(&x), &mut y)));
    let params = LinearParams { rtol: 1e-8, max_iterations: 20_000, ..Default::default() };
    g.bench_function("cpu_pcg_solve", |bch| {
        bch.iter(|| {
            let mut x = vec![0.0; a.n];
            CpuPcg::default().solve(&a, &b, &mut x, &params).expect("solve")
        })
    });
    // Multigrid: setup, one V-cycle, and a whole solve (setup included, as a single solve pays it).
    let hierarchy = Hierarchy::build(&a, &AmgParams::default()).expect("hierarchy");
    eprintln!("multigrid levels {:?}, operator complexity {:.2}", hierarchy.sizes(), hierarchy.operator_complexity());
    g.bench_function("cpu_amg_setup", |bch| {
        bch.iter(|| black_box(Hierarchy::build(&a, &AmgParams::default()).expect("hierarchy")))
    });
    let mut z = vec![0.0; a.n];
    g.bench_function("cpu_amg_vcycle", |bch| bch.iter(|| hierarchy.apply(black_box(&b), &mut z)));
    let amg = LinearParams { preconditioner: Preconditioner::Amg, ..params };
    g.bench_function("cpu_amg_pcg_solve", |bch| {
        bch.iter(|| {
            let mut x = vec![0.0; a.n];
            CpuPcg::default().solve(&a, &b, &mut x, &amg).expect("solve")
        })
    });
    // One preconditioned iteration: a solve capped at one iteration with the hierarchy kept from
    // the previous solve (it also pays the start, r = b and one V-cycle, and the final residual).
    let mut cached = CpuPcg::default();
    let mut x1 = vec![0.0; a.n];
    let _ = cached.solve(&a, &b, &mut x1, &amg);
    let one = LinearParams { max_iterations: 1, ..amg };
    g.bench_function("cpu_amg_pcg_one_iteration", |bch| {
        bch.iter(|| {
            let mut x = vec![0.0; a.n];
            black_box(cached.solve(&a, &b, &mut x, &one).is_ok())
        })
    });
    match GpuContext::new(false) {
        Err(reason) => eprintln!("GPU benches skipped: {reason}"),
        Ok(ctx) => {
            eprintln!("GPU adapter: {}", ctx.adapter_summary());
            const PER_SUBMIT: usize = 20;
            let dims = Dims::for_len(a.n);
            let dims_buf = ctx.uniform("dims", &dims);
            let (rp, ci, vals) =
                (ctx.storage_u32("rp", &a.row_ptr), ctx.storage_u32("ci", &a.col_idx), ctx.storage_f32("v", &a.values));
            let (xb, yb) = (ctx.storage_f32("x", &x), ctx.storage_zeroed("y", a.n));
            let group = spmv::bind(&ctx.kernels.spmv, &ctx.device, &dims_buf, &rp, &ci, &vals, &xb, &yb);
            g.bench_function("gpu_spmv_x20_per_submit", |bch| {
                bch.iter(|| {
                    let mut enc = ctx.device.create_command_encoder(&Default::default());
                    {
                        let mut pass = enc.begin_compute_pass(&Default::default());
                        for _ in 0..PER_SUBMIT {
                            ctx.kernels.spmv.dispatch(&mut pass, &group, &dims);
                        }
                    }
                    ctx.queue.submit([enc.finish()]);
                    ctx.device.poll(wgpu::PollType::wait_indefinitely()).expect("poll");
                })
            });
            // Ten V-cycles per submit on the uploaded hierarchy.
            let (rb, zb) = (ctx.storage_f32("r", &b), ctx.storage_zeroed("z", a.n));
            let cycle = DeviceHierarchy::upload(&ctx, &hierarchy, &rb, &zb).expect("device hierarchy");
            g.bench_function("gpu_amg_vcycle_x10_per_submit", |bch| {
                bch.iter(|| {
                    let mut enc = ctx.device.create_command_encoder(&Default::default());
                    {
                        let mut pass = enc.begin_compute_pass(&Default::default());
                        for _ in 0..10 {
                            cycle.record(&ctx, &mut pass);
                        }
                    }
                    ctx.queue.submit([enc.finish()]);
                    ctx.device.poll(wgpu::PollType::wait_indefinitely()).expect("poll");
                })
            });
            drop(cycle);
            let mut solver = GpuPcg::new(std::sync::Arc::new(ctx));
            g.bench_function("gpu_pcg_solve", |bch| {
                bch.iter(|| {
                    let mut x = vec![0.0; a.n];
                    solver.solve(&a, &b, &mut x, &params).expect("solve")
                })
            });
            // Hierarchy and device buffers kept across solves; each solve writes the matrix
            // values, the right-hand side, and reads back the solution.
            g.bench_function("gpu_amg_pcg_solve", |bch| {
                bch.iter(|| {
                    let mut x = vec![0.0; a.n];
                    solver.solve(&a, &b, &mut x, &amg).expect("solve")
                })
            });
            // One preconditioned iteration on the device, as on the CPU: a solve capped at one
            // iteration with everything kept (it also pays the value upload, the start, one
            // state read-back and the f64 residual on the host).
            g.bench_function("gpu_amg_pcg_one_iteration", |bch| {
                bch.iter(|| {
                    let mut x = vec![0.0; a.n];
                    black_box(solver.solve(&a, &b, &mut x, &one).is_ok())
                })
            });
        }
    }
    g.finish();
}

criterion_group!(kernels, benches);
criterion_main!(kernels);
