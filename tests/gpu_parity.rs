//! GPU-vs-CPU parity: every WGSL kernel against its f64 CPU twin on random data, and a whole
//! PCG solve against the CPU backend. Tolerances reflect f32 kernels: 1e-5 relative on
//! element-wise results, 1e-4 on reductions of ~10^4 terms.

mod common;

use glam::DVec3;
use znfield::backend::cpu::{kernels as cpu, CpuPcg};
use znfield::backend::gpu::kernels::{dot_partial, pcg_alpha, pcg_begin, pcg_beta, pcg_start, pcg_update_p, pcg_update_xr, spmv};
use znfield::backend::gpu::layout::{status, Dims, PcgState};
use znfield::backend::gpu::{GpuContext, GpuPcg};
use znfield::fem::assembly::laplacian;
use znfield::fem::CsrMatrix;
use znfield::geometry::{ElectrodeGeometry, Shape};
use znfield::mesh::cut_lattice::{generate, SizeField};
use znfield::solve::linear::{LinearParams, LinearSolver};

/// Deterministic pseudo-random values in [-1, 1) (xorshift; no crate needed for test data).
fn random(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// f32-rounded copy, so CPU twins see exactly the GPU's inputs.
fn f32ed(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x as f32 as f64).collect()
}

fn test_matrix() -> CsrMatrix {
    let geom = ElectrodeGeometry {
        half_width: 1.0,
        height: 1.0,
        shapes: vec![Shape::Spheroid { center: DVec3::ZERO, base_radius: 0.4, height: 0.6 }],
    };
    let mesh = generate(&geom, &SizeField::graded(0.1, 0.3, 1.3)).expect("mesh");
    let mut k = laplacian(&mesh, 1.0);
    // Shift to make it SPD without boundary conditions and to round to f32 exactly.
    for i in 0..k.n {
        let d = k.find(i, i as u32).expect("diagonal");
        k.values[d] += 0.01;
    }
    k.values = f32ed(&k.values);
    k
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().map(|v| v.abs()).fold(0.0, f64::max);
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale
}

struct Vectors {
    dims: Dims,
    dims_buf: wgpu::Buffer,
    partials: wgpu::Buffer,
}

impl Vectors {
    fn new(ctx: &GpuContext, n: usize) -> Self {
        let dims = Dims::for_len(n);
        Vectors {
            dims,
            dims_buf: ctx.uniform("dims", &dims),
            partials: ctx.storage_zeroed("partials", 2 * dims.reduce_groups as usize),
        }
    }
    fn pair_sums(&self, ctx: &GpuContext) -> (f64, f64) {
        let p = ctx.read_f32(&self.partials, 2 * self.dims.reduce_groups as usize).expect("read");
        (p.iter().step_by(2).sum(), p.iter().skip(1).step_by(2).sum())
    }
}

fn run(ctx: &GpuContext, kernel: &znfield::backend::gpu::kernel::Kernel, group: &wgpu::BindGroup, dims: &Dims) {
    let mut enc = ctx.device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        kernel.dispatch(&mut pass, group, dims);
    }
    ctx.queue.submit([enc.finish()]);
}

fn read_state(ctx: &GpuContext, buf: &wgpu::Buffer) -> PcgState {
    let bytes = ctx.read_bytes(buf, std::mem::size_of::<PcgState>() as u64).expect("state");
    bytemuck::pod_read_unaligned(&bytes)
}

fn state_buffer(ctx: &GpuContext, s: &PcgState) -> wgpu::Buffer {
    let buf = ctx.storage_zeroed("state", std::mem::size_of::<PcgState>() / 4);
    ctx.queue.write_buffer(&buf, 0, bytemuck::bytes_of(s));
    buf
}

#[test]
fn spmv_matches_cpu() {
    let Some(ctx) = common::gpu_or_skip("spmv_matches_cpu") else { return };
    let a = test_matrix();
    let x = f32ed(&random(a.n, 1));
    let v = Vectors::new(&ctx, a.n);
    let (rp, ci, vals, xb, yb) = (
        ctx.storage_u32("rp", &a.row_ptr),
        ctx.storage_u32("ci", &a.col_idx),
        ctx.storage_f32("v", &a.values),
        ctx.storage_f32("x", &x),
        ctx.storage_zeroed("y", a.n),
    );
    let g = spmv::bind(&ctx.kernels.spmv, &ctx.device, &v.dims_buf, &rp, &ci, &vals, &xb, &yb);
    run(&ctx, &ctx.kernels.spmv, &g, &v.dims);
    let gpu = ctx.read_f32(&yb, a.n).expect("read");
    let mut cpu_y = vec![0.0; a.n];
    a.spmv(&x, &mut cpu_y);
    assert!(max_rel(&gpu, &cpu_y) < 1e-5, "spmv differs by {}", max_rel(&gpu, &cpu_y));
}

#[test]
fn spmv_maps_every_row_including_a_partial_last_workgroup() {
    // Exact arithmetic on a diagonal matrix: every row is written once, none twice or never.
    let Some(ctx) = common::gpu_or_skip("spmv_maps_every_row_including_a_partial_last_workgroup") else { return };
    let n = 256 * 37 + 5;
    let a = CsrMatrix {
        n,
        row_ptr: (0..=n as u32).collect(),
        col_idx: (0..n as u32).collect(),
        values: (0..n).map(|i| 1.0 + i as f64).collect(),
    };
    let x = vec![1.0; n];
    let v = Vectors::new(&ctx, n);
    let (rp, ci, vals, xb, yb) = (
        ctx.storage_u32("rp", &a.row_ptr),
        ctx.storage_u32("ci", &a.col_idx),
        ctx.storage_f32("v", &a.values),
        ctx.storage_f32("x", &x),
        ctx.storage_zeroed("y", n),
    );
    let g = spmv::bind(&ctx.kernels.spmv, &ctx.device, &v.dims_buf, &rp, &ci, &vals, &xb, &yb);
    run(&ctx, &ctx.kernels.spmv, &g, &v.dims);
    let y = ctx.read_f32(&yb, n).expect("read");
    assert!(y.iter().enumerate().all(|(i, &v)| v == 1.0 + i as f64));
}

#[test]
fn dot_partial_matches_cpu() {
    let Some(ctx) = common::gpu_or_skip("dot_partial_matches_cpu") else { return };
    for n in [1, 255, 256, 10_001, 300_000] {
        let (a, b) = (f32ed(&random(n, 2)), f32ed(&random(n, 3)));
        let v = Vectors::new(&ctx, n);
        let (ab, bb) = (ctx.storage_f32("a", &a), ctx.storage_f32("b", &b));
        let g = dot_partial::bind(&ctx.kernels.dot_partial, &ctx.device, &v.dims_buf, &ab, &bb, &v.partials);
        run(&ctx, &ctx.kernels.dot_partial, &g, &v.dims);
        let (gpu, zero) = v.pair_sums(&ctx);
        let cpu_dot = cpu::dot(&a, &b);
        let norm = cpu::dot(&a, &a).sqrt() * cpu::dot(&b, &b).sqrt();
        assert!((gpu - cpu_dot).abs() <= 1e-6 * norm, "n {n}: GPU {gpu} vs CPU {cpu_dot}");
        assert_eq!(zero, 0.0);
    }
}

#[test]
fn pcg_start_and_begin_match_cpu() {
    let Some(ctx) = common::gpu_or_skip("pcg_start_and_begin_match_cpu") else { return };
    let n = 5000;
    let (b, dinv) = (f32ed(&random(n, 4)), f32ed(&random(n, 5).iter().map(|v| 1.5 + v).collect::<Vec<_>>()));
    let v = Vectors::new(&ctx, n);
    let (bb, db) = (ctx.storage_f32("b", &b), ctx.storage_f32("dinv", &dinv));
    let [x, r, z, p] = ["x", "r", "z", "p"].map(|l| ctx.storage_f32(l, &random(n, 9)));
    let g = pcg_start::bind(&ctx.kernels.pcg_start, &ctx.device, &v.dims_buf, &bb, &db, &x, &r, &z, &p, &v.partials);
    run(&ctx, &ctx.kernels.pcg_start, &g, &v.dims);
    let (mut cx, mut cr, mut cz, mut cp) = (vec![1.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let (rz, rr) = cpu::pcg_start(&b, &dinv, &mut cx, &mut cr, &mut cz, &mut cp);
    assert!(ctx.read_f32(&x, n).expect("x").iter().all(|&v| v == 0.0));
    assert!(max_rel(&ctx.read_f32(&r, n).expect("r"), &cr) < 1e-7);
    assert!(max_rel(&ctx.read_f32(&z, n).expect("z"), &cz) < 1e-6);
    assert!(max_rel(&ctx.read_f32(&p, n).expect("p"), &cp) < 1e-6);
    let state = state_buffer(&ctx, &PcgState { tol2: 1e-12, max_iterations: 10, ..Default::default() });
    let g = pcg_begin::bind(&ctx.kernels.pcg_begin, &ctx.device, &v.dims_buf, &v.partials, &state);
    run(&ctx, &ctx.kernels.pcg_begin, &g, &v.dims);
    let s = read_state(&ctx, &state);
    assert!(common::rel(s.rz as f64, rz) < 1e-5 && common::rel(s.rr as f64, rr) < 1e-5, "{s:?} vs ({rz}, {rr})");
    assert_eq!(s.status, status::RUNNING);
}

#[test]
fn pcg_alpha_and_beta_match_cpu_and_flag_breakdown() {
    let Some(ctx) = common::gpu_or_skip("pcg_alpha_and_beta_match_cpu_and_flag_breakdown") else { return };
    let n = 3000;
    let v = Vectors::new(&ctx, n);
    let (a, b) = (f32ed(&random(n, 6)), f32ed(&random(n, 7)));
    let write_pairs = |x: &[f64], y: &[f64]| {
        // Partials of a pair reduction computed on the CPU, summed by the finishing kernels.
        let groups = v.dims.reduce_groups as usize;
        let mut pairs = vec![0f32; 2 * groups];
        for (i, (p, q)) in x.iter().zip(y).enumerate() {
            pairs[2 * (i % groups)] += *p as f32;
            pairs[2 * (i % groups) + 1] += *q as f32;
        }
        ctx.queue.write_buffer(&v.partials, 0, bytemuck::cast_slice(&pairs));
        (x.iter().sum::<f64>(), y.iter().sum::<f64>())
    };
    let (pq, _) = write_pairs(&a.iter().map(|v| v.abs()).collect::<Vec<_>>(), &b);
    let state = state_buffer(&ctx, &PcgState { rz: 2.5, max_iterations: 10, tol2: 1e-20, ..Default::default() });
    let g = pcg_alpha::bind(&ctx.kernels.pcg_alpha, &ctx.device, &v.dims_buf, &v.partials, &state);
    run(&ctx, &ctx.kernels.pcg_alpha, &g, &v.dims);
    let s = read_state(&ctx, &state);
    assert!(common::rel(s.alpha as f64, 2.5 / pq) < 1e-5, "alpha {} vs {}", s.alpha, 2.5 / pq);

    let (rz_new, rr) = write_pairs(&a.iter().map(|v| v * v).collect::<Vec<_>>(), &b.iter().map(|v| v * v).collect::<Vec<_>>());
    let g = pcg_beta::bind(&ctx.kernels.pcg_beta, &ctx.device, &v.dims_buf, &v.partials, &state);
    run(&ctx, &ctx.kernels.pcg_beta, &g, &v.dims);
    let s = read_state(&ctx, &state);
    assert_eq!((s.iterations, s.status), (1, status::RUNNING));
    assert!(common::rel(s.beta as f64, rz_new / 2.5) < 1e-5 && common::rel(s.rr as f64, rr) < 1e-5);

    // A negative p.Ap (not SPD) and a NaN are reported as breakdown, not divided through.
    write_pairs(&vec![-1.0; n], &b);
    let g = pcg_alpha::bind(&ctx.kernels.pcg_alpha, &ctx.device, &v.dims_buf, &v.partials, &state);
    run(&ctx, &ctx.kernels.pcg_alpha, &g, &v.dims);
    assert_eq!(read_state(&ctx, &state).status, status::BREAKDOWN);
    let state = state_buffer(&ctx, &PcgState { rz: 1.0, max_iterations: 10, ..Default::default() });
    write_pairs(&[f64::NAN], &[0.0]);
    let g = pcg_beta::bind(&ctx.kernels.pcg_beta, &ctx.device, &v.dims_buf, &v.partials, &state);
    run(&ctx, &ctx.kernels.pcg_beta, &g, &v.dims);
    assert_eq!(read_state(&ctx, &state).status, status::BREAKDOWN);
}

#[test]
fn pcg_updates_match_cpu() {
    let Some(ctx) = common::gpu_or_skip("pcg_updates_match_cpu") else { return };
    let n = 7777;
    let v = Vectors::new(&ctx, n);
    let [p, q, x, r] = [10, 11, 12, 13].map(|s| f32ed(&random(n, s)));
    let dinv = f32ed(&random(n, 14).iter().map(|v| 2.0 + v).collect::<Vec<_>>());
    let z0 = f32ed(&random(n, 15));
    let alpha = 0.375f32 as f64;
    let beta = 0.625f32 as f64;
    let state =
        state_buffer(&ctx, &PcgState { alpha: alpha as f32, beta: beta as f32, max_iterations: 10, ..Default::default() });
    let (pb, qb, db) = (ctx.storage_f32("p", &p), ctx.storage_f32("q", &q), ctx.storage_f32("dinv", &dinv));
    let (xb, rb, zb) = (ctx.storage_f32("x", &x), ctx.storage_f32("r", &r), ctx.storage_f32("z", &z0));
    let g = pcg_update_xr::bind(
        &ctx.kernels.pcg_update_xr,
        &ctx.device,
        &v.dims_buf,
        &state,
        &pb,
        &qb,
        &db,
        &xb,
        &rb,
        &zb,
        &v.partials,
    );
    run(&ctx, &ctx.kernels.pcg_update_xr, &g, &v.dims);
    let (mut cx, mut cr, mut cz) = (x.clone(), r.clone(), z0.clone());
    let (rz, rr) = cpu::pcg_update_xr(alpha, &p, &q, &dinv, &mut cx, &mut cr, &mut cz);
    assert!(max_rel(&ctx.read_f32(&xb, n).expect("x"), &cx) < 1e-6);
    assert!(max_rel(&ctx.read_f32(&rb, n).expect("r"), &cr) < 1e-6);
    assert!(max_rel(&ctx.read_f32(&zb, n).expect("z"), &cz) < 1e-6);
    let (grz, grr) = v.pair_sums(&ctx);
    assert!(common::rel(grz, rz) < 1e-4 && common::rel(grr, rr) < 1e-4, "({grz}, {grr}) vs ({rz}, {rr})");

    let g = pcg_update_p::bind(&ctx.kernels.pcg_update_p, &ctx.device, &v.dims_buf, &state, &zb, &pb);
    run(&ctx, &ctx.kernels.pcg_update_p, &g, &v.dims);
    let z_gpu = ctx.read_f32(&zb, n).expect("z");
    let mut cp = p.clone();
    cpu::pcg_update_p(beta, &z_gpu, &mut cp);
    assert!(max_rel(&ctx.read_f32(&pb, n).expect("p"), &cp) < 1e-6);

    // Once the state has left RUNNING the update kernels leave the vectors alone.
    ctx.queue.write_buffer(
        &state,
        0,
        bytemuck::bytes_of(&PcgState { status: status::CONVERGED, beta: 9.0, ..Default::default() }),
    );
    run(&ctx, &ctx.kernels.pcg_update_p, &g, &v.dims);
    assert!(max_rel(&ctx.read_f32(&pb, n).expect("p"), &cp) < 1e-6);
}

#[test]
fn whole_pcg_solve_matches_cpu_backend() {
    let Some(ctx) = common::gpu_or_skip("whole_pcg_solve_matches_cpu_backend") else { return };
    let a = test_matrix();
    let b = random(a.n, 21);
    let params = LinearParams { rtol: 1e-10, max_iterations: 5000 };
    let (mut xg, mut xc) = (vec![0.0; a.n], vec![0.0; a.n]);
    let gi = GpuPcg::new(ctx).solve(&a, &b, &mut xg, &params).expect("GPU solve");
    let ci = CpuPcg.solve(&a, &b, &mut xc, &params).expect("CPU solve");
    assert!(gi.relative_residual <= 1e-10, "GPU residual {}", gi.relative_residual);
    assert!(max_rel(&xg, &xc) < 1e-8, "solutions differ by {}", max_rel(&xg, &xc));
    // f32 sweeps need about as many iterations as f64 CG in total, not many more.
    assert!(gi.iterations < 3 * ci.iterations + 50, "GPU {} vs CPU {} iterations", gi.iterations, ci.iterations);
}
