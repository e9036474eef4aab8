//! GPU-vs-CPU parity: every WGSL kernel against its f64 CPU twin on random data, a whole
//! PCG solve against the CPU backend, and the render pipeline of the 3D view against the CPU
//! rasterizer. Tolerances reflect f32 kernels: 1e-5 relative on
//! element-wise results, 1e-4 on reductions of ~10^4 terms.

mod common;

use znfield::backend::cpu::{kernels as cpu, CpuPcg};
use znfield::backend::gpu::kernels::{dot_partial, pcg_alpha, pcg_begin, pcg_beta, pcg_start, pcg_update_p, pcg_update_xr, spmv};
use znfield::backend::gpu::layout::{status, Dims, PcgState};
use znfield::backend::gpu::{GpuContext, GpuPcg};
use znfield::fem::assembly::laplacian;
use znfield::fem::CsrMatrix;
use znfield::solve::linear::{LinearParams, LinearSolver, Preconditioner};

use common::random;

/// f32-rounded copy, so CPU twins see exactly the GPU's inputs.
fn f32ed(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x as f32 as f64).collect()
}

fn test_matrix() -> CsrMatrix {
    let mesh = common::small_spheroid_mesh(0.1);
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

/// Multigrid-preconditioned CG on the device (V-cycles from spmv, diag_scale and lincomb3) gives
/// the CPU's answer in about the CPU's multigrid iteration count, far below Jacobi's.
#[test]
fn device_multigrid_pcg_matches_the_cpu_one() {
    let Some(ctx) = common::gpu_or_skip("device_multigrid_pcg_matches_the_cpu_one") else { return };
    let a = test_matrix();
    let b = random(a.n, 22);
    let amg = LinearParams { rtol: 1e-10, max_iterations: 5000, preconditioner: Preconditioner::Amg, ..Default::default() };
    let jacobi = LinearParams { preconditioner: Preconditioner::Jacobi, ..amg };
    let ctx = std::sync::Arc::new(ctx);
    let (mut xg, mut xc, mut xj) = (vec![0.0; a.n], vec![0.0; a.n], vec![0.0; a.n]);
    let gi = GpuPcg::new(ctx.clone()).solve(&a, &b, &mut xg, &amg).expect("GPU multigrid solve");
    let ci = CpuPcg::default().solve(&a, &b, &mut xc, &amg).expect("CPU multigrid solve");
    let ji = GpuPcg::new(ctx).solve(&a, &b, &mut xj, &jacobi).expect("GPU Jacobi solve");
    eprintln!(
        "{} unknowns: device multigrid {} iterations, CPU multigrid {}, device Jacobi {}",
        a.n, gi.iterations, ci.iterations, ji.iterations
    );
    assert!(gi.relative_residual <= 1e-10, "GPU residual {}", gi.relative_residual);
    assert!(max_rel(&xg, &xc) < 1e-8, "solutions differ by {}", max_rel(&xg, &xc));
    assert!(gi.iterations <= 2 * ci.iterations + 4, "device {} vs CPU {} multigrid iterations", gi.iterations, ci.iterations);
    assert!(
        3 * gi.iterations < ji.iterations,
        "multigrid {} vs Jacobi {} iterations on the device",
        gi.iterations,
        ji.iterations
    );
}

#[test]
fn whole_pcg_solve_matches_cpu_backend() {
    let Some(ctx) = common::gpu_or_skip("whole_pcg_solve_matches_cpu_backend") else { return };
    let a = test_matrix();
    let b = random(a.n, 21);
    let params = LinearParams { rtol: 1e-10, max_iterations: 5000, ..Default::default() };
    let (mut xg, mut xc) = (vec![0.0; a.n], vec![0.0; a.n]);
    let gi = GpuPcg::new(std::sync::Arc::new(ctx)).solve(&a, &b, &mut xg, &params).expect("GPU solve");
    let ci = CpuPcg::default().solve(&a, &b, &mut xc, &params).expect("CPU solve");
    assert!(gi.relative_residual <= 1e-10, "GPU residual {}", gi.relative_residual);
    assert!(max_rel(&xg, &xc) < 1e-8, "solutions differ by {}", max_rel(&xg, &xc));
    // f32 sweeps need about as many iterations as f64 CG in total, not many more.
    assert!(gi.iterations < 3 * ci.iterations + 50, "GPU {} vs CPU {} iterations", gi.iterations, ci.iterations);
}

fn bicg_state_buffer(ctx: &GpuContext, s: &znfield::backend::gpu::layout::BicgState) -> wgpu::Buffer {
    let buf = ctx.storage_zeroed("bicg state", std::mem::size_of::<znfield::backend::gpu::layout::BicgState>() / 4);
    ctx.queue.write_buffer(&buf, 0, bytemuck::bytes_of(s));
    buf
}

#[test]
fn lincomb3_diag_scale_and_dot2_match_cpu() {
    use znfield::backend::gpu::kernels::{diag_scale, dot2_partial, lincomb3};
    use znfield::backend::gpu::layout::{slot, BicgState, LincombSlots};
    let Some(ctx) = common::gpu_or_skip("lincomb3_diag_scale_and_dot2_match_cpu") else { return };
    let n = 6001;
    let v = Vectors::new(&ctx, n);
    let [y, z, out0, dinv] = [31, 32, 33, 34].map(|s| f32ed(&random(n, s)));
    let (alpha, omega) = (0.625f32 as f64, -1.25f32 as f64);
    let state = bicg_state_buffer(
        &ctx,
        &BicgState { alpha: alpha as f32, omega: omega as f32, status: status::RUNNING, ..Default::default() },
    );
    let (yb, zb, ob) = (ctx.storage_f32("y", &y), ctx.storage_f32("z", &z), ctx.storage_f32("out", &out0));
    // out = 1 out + alpha y + omega z.
    let slots = ctx.uniform("slots", &LincombSlots { n: n as u32, a: slot::ONE, b: slot::ALPHA, c: slot::OMEGA });
    let g = lincomb3::bind(&ctx.kernels.lincomb3, &ctx.device, &slots, &state, &yb, &zb, &ob);
    run(&ctx, &ctx.kernels.lincomb3, &g, &v.dims);
    let mut cpu_out = out0.clone();
    cpu::lincomb3(1.0, alpha, omega, &y, &z, &mut cpu_out);
    assert!(max_rel(&ctx.read_f32(&ob, n).expect("out"), &cpu_out) < 1e-6);
    // out = 0 * (NaN) + y - alpha z: the zero slot must not read a stale NaN.
    let nan = ctx.storage_f32("nan", &vec![f64::NAN; n]);
    let slots0 = ctx.uniform("slots", &LincombSlots { n: n as u32, a: slot::ZERO, b: slot::ONE, c: slot::NEG_ALPHA });
    let state2 = bicg_state_buffer(&ctx, &BicgState { neg_alpha: -alpha as f32, status: status::RUNNING, ..Default::default() });
    let g = lincomb3::bind(&ctx.kernels.lincomb3, &ctx.device, &slots0, &state2, &yb, &zb, &nan);
    run(&ctx, &ctx.kernels.lincomb3, &g, &v.dims);
    let mut cpu_out = vec![0.0; n];
    cpu::lincomb3(0.0, 1.0, -alpha, &y, &z, &mut cpu_out);
    assert!(max_rel(&ctx.read_f32(&nan, n).expect("out"), &cpu_out) < 1e-6);
    // diag_scale.
    let (db, sb) = (ctx.storage_f32("dinv", &dinv), ctx.storage_zeroed("scaled", n));
    let g = diag_scale::bind(&ctx.kernels.diag_scale, &ctx.device, &v.dims_buf, &db, &yb, &sb);
    run(&ctx, &ctx.kernels.diag_scale, &g, &v.dims);
    let mut cpu_scaled = vec![0.0; n];
    cpu::diag_scale(&dinv, &y, &mut cpu_scaled);
    assert!(max_rel(&ctx.read_f32(&sb, n).expect("scaled"), &cpu_scaled) < 1e-7);
    // dot2_partial.
    let g = dot2_partial::bind(&ctx.kernels.dot2_partial, &ctx.device, &v.dims_buf, &yb, &zb, &zb, &zb, &v.partials);
    run(&ctx, &ctx.kernels.dot2_partial, &g, &v.dims);
    let (yz, zz) = v.pair_sums(&ctx);
    assert!((yz - cpu::dot(&y, &z)).abs() < 1e-5 * (cpu::dot(&y, &y) * cpu::dot(&z, &z)).sqrt());
    assert!(common::rel(zz, cpu::dot(&z, &z)) < 1e-5);
}

#[test]
fn bicgstab_scalars_follow_the_recurrences() {
    use znfield::backend::gpu::kernels::bicgstab_scalars;
    use znfield::backend::gpu::layout::{bicg_mode, BicgMode, BicgState};
    let Some(ctx) = common::gpu_or_skip("bicgstab_scalars_follow_the_recurrences") else { return };
    let v = Vectors::new(&ctx, 1000);
    let groups = v.dims.reduce_groups as usize;
    let write = |a: f32, b: f32| {
        let mut pairs = vec![0f32; 2 * groups];
        pairs[0] = a;
        pairs[1] = b;
        ctx.queue.write_buffer(&v.partials, 0, bytemuck::cast_slice(&pairs));
    };
    let state = bicg_state_buffer(&ctx, &BicgState { tol2: 1e-6, max_iterations: 100, ..Default::default() });
    let step = |m: u32| {
        let mode = ctx.uniform("mode", &BicgMode { mode: m, reduce_groups: groups as u32, _pad0: 0, _pad1: 0 });
        let g = bicgstab_scalars::bind(&ctx.kernels.bicgstab_scalars, &ctx.device, &mode, &v.partials, &state);
        run(&ctx, &ctx.kernels.bicgstab_scalars, &g, &v.dims);
        let bytes = ctx.read_bytes(&state, 48).expect("state");
        bytemuck::pod_read_unaligned::<BicgState>(&bytes)
    };
    write(4.0, 9.0);
    let s = step(bicg_mode::BEGIN);
    assert_eq!((s.rho, s.rr, s.status), (4.0, 9.0, status::RUNNING));
    write(2.0, 0.0);
    let s = step(bicg_mode::ALPHA);
    assert_eq!((s.alpha, s.neg_alpha), (2.0, -2.0));
    write(3.0, 6.0);
    let s = step(bicg_mode::OMEGA);
    assert_eq!((s.omega, s.neg_omega), (0.5, -0.5));
    write(8.0, 1.0);
    let s = step(bicg_mode::END);
    // beta = (rho_new / rho)(alpha / omega) = (8/4)(2/0.5) = 8.
    assert_eq!((s.beta, s.neg_beta_omega, s.rho, s.rr, s.iterations), (8.0, -4.0, 8.0, 1.0, 1));
    write(8.0, 1e-7);
    assert_eq!(step(bicg_mode::END).status, status::CONVERGED);
}

#[test]
fn whole_bicgstab_solve_matches_cpu_gmres() {
    use znfield::backend::cpu::CpuGmres;
    use znfield::backend::gpu::GpuBicgstab;
    use znfield::solve::linear::GeneralLinearSolver;
    let Some(ctx) = common::gpu_or_skip("whole_bicgstab_solve_matches_cpu_gmres") else { return };
    // A nonsymmetric M-matrix: the shifted Laplacian of the test mesh plus an upwinded drift
    // along the node numbering.
    let mut a = test_matrix();
    for i in 0..a.n {
        for p in a.row_ptr[i] as usize..a.row_ptr[i + 1] as usize {
            let j = a.col_idx[p] as usize;
            if j + 1 == i {
                a.values[p] -= 0.05;
            }
        }
        let d = a.find(i, i as u32).expect("diagonal");
        a.values[d] += 0.05;
    }
    a.values = f32ed(&a.values);
    let b = random(a.n, 41);
    let params = LinearParams { rtol: 1e-10, max_iterations: 20_000, ..Default::default() };
    let (mut xg, mut xc) = (vec![0.0; a.n], vec![0.0; a.n]);
    let mut gpu = GpuBicgstab::new(std::sync::Arc::new(ctx));
    let info = gpu.solve_on_device(&a, &b, &mut xg, &params).expect("GPU BiCGStab");
    CpuGmres::default().solve_general(&a, &b, &mut xc, &params).expect("CPU GMRES");
    assert!(info.relative_residual <= 1e-10);
    assert!(max_rel(&xg, &xc) < 1e-8, "solutions differ by {}", max_rel(&xg, &xc));
    assert!(gpu.fallbacks().is_none());
}

#[test]
fn block_scale_matches_cpu_and_inverts_the_node_blocks() {
    use znfield::backend::gpu::kernels::block_scale;
    use znfield::backend::gpu::layout::BlockDims;
    let Some(ctx) = common::gpu_or_skip("block_scale_matches_cpu_and_inverts_the_node_blocks") else { return };
    // A node-interleaved matrix with m = 3: block-diagonal plus coupling between neighbours.
    let (nodes, m) = (700, 3);
    let n = nodes * m;
    let vals = random(n * 3 * m, 51);
    let (mut row_ptr, mut col_idx, mut values) = (vec![0u32], Vec::new(), Vec::new());
    for row in 0..n {
        let node = row / m;
        for nb in [node.wrapping_sub(1), node, node + 1] {
            if nb < nodes {
                for j in 0..m {
                    let col = nb * m + j;
                    col_idx.push(col as u32);
                    values.push(if col == row { 4.0 } else { 0.5 * vals[(row * 9 + nb % 3 * 3 + j) % vals.len()] });
                }
            }
        }
        row_ptr.push(col_idx.len() as u32);
    }
    let a = CsrMatrix { n, row_ptr, col_idx, values };
    let binv = cpu::inverse_diagonal_blocks(&a, m);
    // B^-1 times the block itself is the identity.
    for k in [0, nodes / 2, nodes - 1] {
        for i in 0..m {
            for j in 0..m {
                let s: f64 = (0..m)
                    .map(|l| binv[k * 9 + i * 3 + l] * a.values[a.find(k * m + l, (k * m + j) as u32).expect("block")])
                    .sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
    }
    let x = f32ed(&random(n, 52));
    let binv32 = f32ed(&binv);
    let dims = ctx.uniform("block dims", &BlockDims { n: n as u32, m: m as u32, _pad0: 0, _pad1: 0 });
    let (bb, xb, ob) = (ctx.storage_f32("binv", &binv32), ctx.storage_f32("x", &x), ctx.storage_zeroed("out", n));
    let g = block_scale::bind(&ctx.kernels.block_scale, &ctx.device, &dims, &bb, &xb, &ob);
    run(&ctx, &ctx.kernels.block_scale, &g, &Dims::for_len(n));
    let mut cpu_out = vec![0.0; n];
    cpu::block_scale(m, &binv32, &x, &mut cpu_out);
    assert!(max_rel(&ctx.read_f32(&ob, n).expect("out"), &cpu_out) < 1e-6);
}

/// The transport Jacobian kernel against the host assembly at a perturbed, non-equilibrium state
/// (potential gradients of several thermal voltages, concentrations varying by e^±0.5), for the
/// electroneutral closure with an eliminated species, with and without the time-step
/// accumulation, and for the Poisson closure with a blocking and with a reacting (Stern)
/// electrode: every entry within 2e-5 of its row's largest; the kernel's residual (f32) within
/// 5e-6 of the largest residual of its row kind (measured 5e-7).
#[test]
fn transport_jacobian_matches_host_assembly() {
    use znfield::backend::gpu::GpuJacobian;
    use znfield::solve::primary::Drive;
    use znfield::solve::transport::{Closure, TransportParams, TransportProblem};
    let Some(ctx) = common::gpu_or_skip("transport_jacobian_matches_host_assembly") else { return };
    let mut gpu = GpuJacobian::new(std::sync::Arc::new(ctx));
    let (sys, edges) = common::spheroid_system();
    let electroneutral = common::three_species_electroneutral();
    let poisson = TransportParams {
        charges: vec![1.0, -1.0],
        diffusivities: vec![1.0, 0.7],
        bulk: vec![1.0, 1.0],
        closure: Closure::Poisson { lambda: 0.05, stern: None },
        ..electroneutral.clone()
    };
    let reacting = TransportParams {
        charges: vec![2.0, -2.0],
        diffusivities: vec![0.66, 1.0],
        bulk: vec![1.0, 1.0],
        closure: Closure::Poisson { lambda: 0.05, stern: Some(0.3) },
        ..electroneutral.clone()
    };
    for (name, tp) in [("electroneutral", &electroneutral), ("poisson", &poisson), ("poisson, reacting", &reacting)] {
        let mut t = TransportProblem::new(&sys, &edges, tp);
        let mut st = t.initial_state(Drive::Potential(-3.0)).expect("state");
        let m = st.x.len() / (sys.n() - sys.bulk.len());
        let noise = random(st.x.len(), 77);
        for (i, (x, r)) in st.x.iter_mut().zip(noise).enumerate() {
            *x += if i % m == m - 1 { 4.0 * r } else { 0.5 * r };
        }
        // Independent species: all but the eliminated one, or all under Poisson (m - 1 either way).
        compare_assembly(name, &mut t, &st, &mut gpu, m - 1);
    }
}

/// The device Jacobian and residual of `t` at `st` against the host's (`k` independent species):
/// every Jacobian entry within 2e-5 of its row's largest, every residual within 5e-6 of the
/// largest of its row kind, with and without a time-step accumulation.
fn compare_assembly(
    name: &str,
    t: &mut znfield::solve::transport::TransportProblem,
    st: &znfield::solve::transport::State,
    gpu: &mut znfield::backend::gpu::GpuJacobian,
    k: usize,
) {
    use znfield::solve::device_jacobian::{JacobianAssembler, JacobianOut};
    use znfield::solve::transport::Accumulation;
    let m = st.x.len() / t.volumes().len();
    let history: Vec<f64> = random(st.x.len() / m * k, 91).iter().map(|r| 7.5 * (1.0 + 0.3 * r)).collect();
    let acc = Accumulation { a0: 7.5, history };
    for accumulation in [None, Some(&acc)] {
        let host = t.jacobian(st, accumulation, None).expect("host").clone();
        let device = t.jacobian(st, accumulation, Some(&mut *gpu)).expect("device").clone();
        let mut worst = 0.0f64;
        for row in 0..host.n {
            let range = host.row_ptr[row] as usize..host.row_ptr[row + 1] as usize;
            let scale = host.values[range.clone()].iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for p in range {
                worst = worst.max((host.values[p] - device.values[p]).abs() / scale);
            }
        }
        eprintln!("{name}, accumulation {}: worst entry difference / row max {worst:.2e}", accumulation.is_some());
        assert!(worst < 2e-5, "{name}: device Jacobian differs by {worst:e} of a row's largest entry");
        // The residual, row kind by row kind (each unknown of a node), against its largest.
        let host_r = t.residual(st, accumulation);
        let mut device_r = vec![0.0; host_r.len()];
        gpu.assemble(&st.x, st.e, accumulation, JacobianOut::Skip, Some(&mut device_r)).expect("device residual");
        for v in 0..m {
            let rows = (v..host_r.len()).step_by(m);
            let scale = rows.clone().map(|i| host_r[i].abs()).fold(0.0f64, f64::max);
            let diff = rows.map(|i| (host_r[i] - device_r[i]).abs()).fold(0.0f64, f64::max);
            eprintln!("  residual row kind {v}: max difference / max {:.2e}", diff / scale);
            assert!(diff < 5e-6 * scale, "{name}: residual rows {v} differ by {diff:e} (scale {scale:e})");
        }
    }
}

/// The transport kernel with coating terms: a charged porous layer with a resistive scaffold
/// (solid potential unknown, volumetric reactions against it, pinned rows off the scaffold) and
/// a fixed charge in the eliminated species, against the host assembly.
#[test]
fn transport_jacobian_with_a_resistive_charged_scaffold_matches_host_assembly() {
    use znfield::backend::gpu::GpuJacobian;
    use znfield::fem::dual::ControlVolumes;
    use znfield::physics::kinetics::ButlerVolmer;
    use znfield::physics::porous::Media;
    use znfield::solve::primary::Drive;
    use znfield::solve::system::PotentialSystem;
    use znfield::solve::transport::{Closure, TransportParams, TransportProblem};
    let Some(ctx) = common::gpu_or_skip("transport Jacobian with a scaffold") else { return };
    let mut gpu = GpuJacobian::new(std::sync::Arc::new(ctx));
    let sets: Vec<String> = [
        "physics.model=tertiary",
        "geometry.layers.0.solid.conductivity_S_m={\"bottom\": 20, \"top\": 5}",
        "geometry.layers.0.fixed_charge_mol_m3=-300",
        "geometry.half_width_m=1e-6",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let scene =
        znfield::scene::Scene::load(std::path::Path::new("scenes/validation/porous_linear_kinetics.json"), &sets).expect("scene");
    let domain = znfield::run::build_domain(&scene).expect("domain");
    let geometry = domain.geometry.as_ref().expect("built-in geometry");
    let media = Media::from_layers(&domain.mesh, geometry, &scene.geometry.layers);
    let sys = PotentialSystem::with_media(&domain.mesh, domain.length_scale, &media, None, 10.0, ControlVolumes::Circumcentric);
    assert!(sys.solid.is_some() && !sys.sites.is_empty(), "the fixture needs a resistive scaffold");
    let edges = sys.transport_edges(&domain.mesh, domain.length_scale);
    let tp = TransportParams {
        charges: vec![2.0, -2.0],
        diffusivities: vec![0.66, 1.0],
        bulk: vec![1.0, 1.0],
        reactions: vec![znfield::physics::kinetics::Reaction {
            species: Some(0),
            law: ButlerVolmer { anodic: 1.0, cathodic: 1.0, linear: false },
            cathodic_order: 1.0,
            gamma: 0.8,
        }],
        closure: Closure::Electroneutral,
        concentration_scale: 1000.0,
        conductivity_unit: 4.0,
        donnan_start: true,
    };
    let mut t = TransportProblem::new(&sys, &edges, &tp);
    let mut st = t.initial_state(Drive::Potential(-3.0)).expect("state");
    let m = st.x.len() / t.volumes().len();
    assert_eq!(m, 3, "log c, phi_s, phi per node");
    let noise = random(st.x.len(), 78);
    for (i, (x, r)) in st.x.iter_mut().zip(noise).enumerate() {
        // Small enough that the eliminated anion (c+ - 0.3) stays positive.
        *x += if i % m == 0 { 0.1 * r } else { 2.0 * r };
    }
    compare_assembly("electroneutral with a resistive charged scaffold", &mut t, &st, &mut gpu, 1);
}

/// `znfield bench --backend gpu` runs the device multigrid CG, times a device copy and batched
/// SpMVs, and reports a row that agrees with the CPU's on the system it solved.
#[test]
fn bench_runs_on_the_device() {
    if common::gpu_or_skip("bench_runs_on_the_device").is_none() {
        return;
    }
    use znfield::bench::{run_bench, BenchBackend};
    let gpu = run_bench(None, &[0.25], BenchBackend::Gpu, Preconditioner::Amg, &mut |_| {}).expect("GPU bench");
    let cpu = run_bench(None, &[0.25], BenchBackend::Cpu, Preconditioner::Amg, &mut |_| {}).expect("CPU bench");
    assert_eq!(gpu.preconditioner, Preconditioner::Amg);
    let (g, c) = (&gpu.rows[0], &cpu.rows[0]);
    assert_eq!((g.unknowns, g.nonzeros), (c.unknowns, c.nonzeros));
    assert!(g.spmv_bandwidth_gb_s > 0.0 && g.copy_bandwidth_gb_s > 0.0 && g.spmv_over_copy.is_finite());
    // f32 multigrid CG with f64 defect correction: about the f64 one's iterations in all.
    assert!(g.iterations >= c.iterations / 2 && g.iterations <= 2 * c.iterations + 4, "{} vs {}", g.iterations, c.iterations);
    // Per-kernel GPU times come from timestamp queries where the adapter has them (lavapipe
    // does), and only then.
    let has_timestamps = common::gpu_or_skip("bench_runs_on_the_device").is_some_and(|ctx| ctx.timestamps);
    match &g.kernel_times {
        None => assert!(!has_timestamps, "the adapter has timestamp queries but the bench reports no kernel times"),
        Some(times) => {
            let names: Vec<&str> = times.iter().map(|k| k.kernel.as_str()).collect();
            assert_eq!(names, ["spmv", "dot_partial", "dot2_partial", "lincomb3", "v_cycle"]);
            assert!(times.iter().all(|k| k.seconds > 0.0 && k.seconds.is_finite()), "{times:?}");
        }
    }
    assert!(c.kernel_times.is_none());
}

/// A GPU run reports the device memory its largest solve took: a few hundred bytes per node,
/// more with the multigrid hierarchy than with Jacobi alone (what `--backend gpu` users size
/// their meshes by: about 376 bytes per node with multigrid, 110 with Jacobi).
#[test]
fn gpu_runs_report_their_device_memory() {
    if common::gpu_or_skip("gpu_runs_report_their_device_memory").is_none() {
        return;
    }
    use znfield::backend::BackendChoice;
    use znfield::scene::Scene;
    let footprint = |preconditioner: &str| {
        let sets = ["mesh.refine=0.4".to_string(), format!("solver.preconditioner={preconditioner}")];
        let scene = Scene::load(std::path::Path::new("scenes/hemisphere_primary.json"), &sets).expect("scene");
        let solver = znfield::run::run(&scene, BackendChoice::Gpu).expect("GPU run").summary.solver;
        (solver.gpu_memory_bytes.expect("bytes"), solver.gpu_bytes_per_node.expect("per node"))
    };
    let (amg, amg_per_node) = footprint("amg");
    let (jacobi, jacobi_per_node) = footprint("jacobi");
    eprintln!("device memory: multigrid {amg} B ({amg_per_node:.0} per node), Jacobi {jacobi} B ({jacobi_per_node:.0} per node)");
    assert!((60.0..200.0).contains(&jacobi_per_node), "Jacobi CG: {jacobi_per_node} bytes per node");
    assert!(amg > jacobi && amg_per_node < 1000.0, "multigrid: {amg_per_node} bytes per node");
}

/// A matrix over the storage binding limit is uploaded in row blocks, one SpMV dispatch each:
/// with the limit capped far below the test matrix, the device CG (Jacobi and multigrid) gives
/// the same iterations and the same solution, bit for bit, as with one block.
#[test]
fn matrices_split_across_bindings_solve_as_one() {
    let Some(whole) = common::gpu_or_skip("matrices_split_across_bindings_solve_as_one") else { return };
    let cap = 32 * 1024;
    let split = GpuContext::with_binding_cap(false, Some(cap)).expect("capped context");
    let a = test_matrix();
    assert!(4 * a.nnz() as u64 > 4 * cap, "the test matrix must need several blocks");
    let blocks = split.upload_csr(&a).expect("split upload").blocks;
    assert!(blocks.len() >= 4, "{} blocks", blocks.len());
    eprintln!("{} rows, {} entries: {} row blocks under a {cap}-byte binding limit", a.n, a.nnz(), blocks.len());
    assert!(blocks.iter().all(|b| b.values.size() <= cap && b.row_ptr.size() <= cap));
    assert_eq!(blocks.iter().map(|b| b.dims.n as usize).sum::<usize>(), a.n, "the blocks cover every row once");
    assert_eq!(whole.upload_csr(&a).expect("upload").blocks.len(), 1);
    let b = random(a.n, 23);
    let (whole, split) = (std::sync::Arc::new(whole), std::sync::Arc::new(split));
    for preconditioner in [Preconditioner::Jacobi, Preconditioner::Amg] {
        let params = LinearParams { rtol: 1e-10, max_iterations: 5000, preconditioner, ..Default::default() };
        let (mut xw, mut xs) = (vec![0.0; a.n], vec![0.0; a.n]);
        let wi = GpuPcg::new(whole.clone()).solve(&a, &b, &mut xw, &params).expect("one block");
        let si = GpuPcg::new(split.clone()).solve(&a, &b, &mut xs, &params).expect("row blocks");
        assert_eq!(wi.iterations, si.iterations, "{preconditioner:?}");
        assert!(xw == xs, "{preconditioner:?}: split SpMV changed the solution by {}", max_rel(&xw, &xs));
    }
}

/// Repeated solves of one pattern (Newton iterations) keep the device buffers: the second solve,
/// of a matrix with new values, allocates nothing on the device and still matches the CPU, with
/// Jacobi (its diagonal rewritten) and with multigrid (the kept hierarchy, as on the CPU).
#[test]
fn repeated_solves_of_one_pattern_reuse_the_device_buffers() {
    let Some(ctx) = common::gpu_or_skip("repeated_solves_of_one_pattern_reuse_the_device_buffers") else { return };
    let ctx = std::sync::Arc::new(ctx);
    let a = test_matrix();
    let mut changed = a.clone();
    for i in 0..changed.n {
        let d = changed.find(i, i as u32).expect("diagonal");
        changed.values[d] *= 1.5;
    }
    changed.values = f32ed(&changed.values);
    let b = random(a.n, 24);
    for preconditioner in [Preconditioner::Jacobi, Preconditioner::Amg] {
        let params = LinearParams { rtol: 1e-10, max_iterations: 5000, preconditioner, ..Default::default() };
        let mut gpu = GpuPcg::new(ctx.clone());
        let mut cpu = CpuPcg::default();
        let (mut xg, mut xc) = (vec![0.0; a.n], vec![0.0; a.n]);
        let start = ctx.allocated_bytes();
        gpu.solve(&a, &b, &mut xg, &params).expect("first GPU solve");
        cpu.solve(&a, &b, &mut xc, &params).expect("first CPU solve");
        let before = ctx.allocated_bytes();
        let first = before - start;
        let (mut xg, mut xc) = (vec![0.0; a.n], vec![0.0; a.n]);
        let gi = gpu.solve(&changed, &b, &mut xg, &params).expect("second GPU solve");
        let ci = cpu.solve(&changed, &b, &mut xc, &params).expect("second CPU solve");
        // Only the read-back staging of each defect-correction sweep (4 bytes a row) is new.
        let grown = ctx.allocated_bytes() - before;
        assert!(
            grown <= 4 * 4 * a.n as u64 && grown * 10 < first,
            "{preconditioner:?}: the second solve allocated {grown} bytes, the first {first}"
        );
        assert!(gi.relative_residual <= 1e-10);
        assert!(max_rel(&xg, &xc) < 1e-8, "{preconditioner:?}: solutions differ by {}", max_rel(&xg, &xc));
        assert!(gi.iterations <= 3 * ci.iterations + 50, "{preconditioner:?}: {} vs {}", gi.iterations, ci.iterations);
    }
}

/// The transport models' BiCGStab on the device with the node-block multigrid V-cycle (recorded
/// from spmv, block_scale and lincomb3): far fewer iterations than block Jacobi, no hand-over to
/// the CPU, and the CPU's tip enhancement.
#[test]
fn device_block_multigrid_bicgstab_matches_the_cpu() {
    if common::gpu_or_skip("device_block_multigrid_bicgstab_matches_the_cpu").is_none() {
        return;
    }
    use znfield::backend::BackendChoice;
    use znfield::scene::Scene;
    let run = |backend: BackendChoice, preconditioner: &str| {
        let sets = ["mesh.refine=0.5".to_string(), format!("solver.preconditioner=\"{preconditioner}\"")];
        let scene = Scene::load(std::path::Path::new("scenes/hemisphere_tertiary.json"), &sets).expect("scene");
        znfield::run::run(&scene, backend).expect("run").summary
    };
    let (amg, jacobi, cpu) = (run(BackendChoice::Gpu, "amg"), run(BackendChoice::Gpu, "jacobi"), run(BackendChoice::Cpu, "amg"));
    eprintln!(
        "device BiCGStab iterations: node-block multigrid {}, block Jacobi {}",
        amg.solver.linear_iterations, jacobi.solver.linear_iterations
    );
    assert_eq!(amg.solver.preconditioner, "block-amg-bicgstab");
    let note = amg.backend.note.clone().unwrap_or_default();
    assert!(note.contains("node-block multigrid") && !note.contains("could not finish"), "{note}");
    assert!(
        4 * amg.solver.linear_iterations < jacobi.solver.linear_iterations,
        "multigrid {} vs block Jacobi {} iterations",
        amg.solver.linear_iterations,
        jacobi.solver.linear_iterations
    );
    let (g, c) = (amg.electrode.tip_enhancement.expect("tip"), cpu.electrode.tip_enhancement.expect("tip"));
    assert!(common::rel(g, c) < 1e-6, "GPU {g} vs CPU {c}");
}

/// A transport Jacobian larger than the storage binding limit is assembled in row blocks of free
/// nodes: under a 64 KiB cap, into the same values and residual, bit for bit, as in one block.
#[test]
fn transport_jacobian_split_across_bindings_is_the_whole_one() {
    use znfield::backend::gpu::GpuJacobian;
    use znfield::solve::device_jacobian::{JacobianAssembler, JacobianOut};
    use znfield::solve::primary::Drive;
    use znfield::solve::transport::{Accumulation, TransportProblem};
    let Some(whole) = common::gpu_or_skip("transport_jacobian_split_across_bindings_is_the_whole_one") else { return };
    let cap = 64 * 1024;
    let split = GpuContext::with_binding_cap(false, Some(cap)).expect("capped context");
    let (sys, edges) = common::spheroid_system();
    let tp = common::three_species_electroneutral();
    let mut t = TransportProblem::new(&sys, &edges, &tp);
    let mut st = t.initial_state(Drive::Potential(-3.0)).expect("state");
    let noise = random(st.x.len(), 5);
    for (x, r) in st.x.iter_mut().zip(noise) {
        *x += 0.5 * r;
    }
    let acc = Accumulation { a0: 7.5, history: random(st.x.len() / 3 * 2, 6).iter().map(|r| 7.5 + r).collect() };
    let (mut one, mut blocks) = (GpuJacobian::new(std::sync::Arc::new(whole)), GpuJacobian::new(std::sync::Arc::new(split)));
    let a = t.jacobian(&st, Some(&acc), Some(&mut one)).expect("one block").clone();
    assert!(4 * a.nnz() as u64 > 4 * cap, "the Jacobian ({} entries) must need several blocks", a.nnz());
    // A TransportProblem prepares the device layout for the first solver it meets: a second one for
    // the capped device.
    let mut t_split = TransportProblem::new(&sys, &edges, &tp);
    let b = t_split.jacobian(&st, Some(&acc), Some(&mut blocks)).expect("row blocks").clone();
    assert!(a.values == b.values, "split assembly changed the Jacobian by {}", max_rel(&a.values, &b.values));
    let residual = |gpu: &mut GpuJacobian| {
        let mut r = vec![0.0; st.x.len()];
        gpu.assemble(&st.x, st.e, Some(&acc), JacobianOut::Skip, Some(&mut r)).expect("residual");
        r
    };
    assert!(residual(&mut one) == residual(&mut blocks), "split assembly changed the residual");
}

/// The 3D view of the electrode drawn by the GPU's render pipeline (shaders/render/view3d.wgsl)
/// against the CPU z-buffer, for the whole surface and for the window about the first
/// protrusion: the same pixels covered (up to triangle edges, which the two round differently:
/// at most 0.1% of them; 2 of 228k measured), and where both cover a pixel the same value (f32
/// interpolation: 1e-4 of the colour range) and the same light (1e-3) at 99.9% of the pixels
/// (all but 0 and 14 of 350k measured).
#[test]
fn gpu_render_of_the_electrode_view_matches_the_cpu_rasterizer() {
    let Some(ctx) = common::gpu_or_skip("gpu_render_of_the_electrode_view_matches_the_cpu_rasterizer") else { return };
    // A box wide enough for the zoom window (2.5 reaches about the axis) to be a part of it.
    let wide = ["geometry.half_width_m=1e-5".to_string()];
    let scene = znfield::scene::Scene::parse(common::TINY_SCENE, "tiny.json", &wide).expect("scene");
    let r = znfield::run::run(&scene, znfield::backend::BackendChoice::Cpu).expect("run");
    let views = |gpu: Option<&GpuContext>| {
        znfield::output::maps::electrode_views(&r.mesh, &r.fields, &r.electrode_nodes, &scene, -1.0, gpu)
    };
    let (cpu_views, gpu_views) = (views(None), views(Some(&ctx)));
    assert_eq!(cpu_views.len(), 2, "the whole surface and the zoom");
    for (c, g) in cpu_views.iter().zip(&gpu_views) {
        let (c, g) = (&c.raster, &g.raster);
        let covered = |v: &[f64]| v.iter().filter(|x| x.is_finite()).count();
        let differ = c.value.iter().zip(&g.value).filter(|(a, b)| a.is_finite() != b.is_finite()).count();
        assert!(covered(&c.value) > c.value.len() / 4, "the surface fills the picture");
        assert!(differ * 1000 <= covered(&c.value), "coverage differs at {differ} of {} pixels", covered(&c.value));
        let range = c
            .value
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold([f64::INFINITY, f64::NEG_INFINITY], |m, v| [m[0].min(v), m[1].max(v)]);
        let span = (range[1] - range[0]).max(1e-300);
        let both: Vec<usize> = (0..c.value.len()).filter(|&k| c.value[k].is_finite() && g.value[k].is_finite()).collect();
        let off_value = both.iter().filter(|&&k| (c.value[k] - g.value[k]).abs() > 1e-4 * span).count();
        let off_light = both.iter().filter(|&&k| (c.light[k] - g.light[k]).abs() > 1e-3).count();
        assert!(off_value * 1000 <= both.len(), "values differ at {off_value} of {} pixels", both.len());
        assert!(off_light * 1000 <= both.len(), "light differs at {off_light} of {} pixels", both.len());
    }
}
