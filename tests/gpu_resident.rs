//! The transport Jacobian kept on the device (issue #24: no matrix-sized read-back per Newton
//! iteration): the f64 residual and defect-step kernels against their host twins, and a BiCGStab
//! solve with the device-kept Jacobian against the same solve from a host copy, with the
//! read-backs and the bytes it moved counted.

mod common;

use std::sync::Arc;

use common::random;
use znfield::backend::gpu::resident_defect::ResidentDefect;
use znfield::backend::gpu::transport_jacobian::JacobianValues;
use znfield::backend::gpu::{GpuBicgstab, GpuContext, GpuJacobian};
use znfield::fem::assembly::laplacian;
use znfield::fem::CsrMatrix;
use znfield::solve::device_jacobian::{JacobianAssembler, JacobianOut};
use znfield::solve::linear::{norm, residual, LinearParams, Preconditioner};

/// A nonsymmetric matrix with f32-representable values: a mesh Laplacian with every entry
/// scaled at random by up to 30%.
fn nonsymmetric() -> CsrMatrix {
    let mut a = laplacian(&common::small_spheroid_mesh(0.12), 1.0);
    let noise = random(a.nnz(), 5);
    for (v, r) in a.values.iter_mut().zip(noise) {
        *v = (*v * (1.0 + 0.3 * r)) as f32 as f64;
    }
    a
}

/// The f64 residual over row blocks (a binding cap splits the matrix), the f64 norm, the f32
/// right-hand side r / ||r|| and the update x += ||r|| d, each against the host's arithmetic.
#[test]
fn the_device_defect_steps_match_their_host_twins() {
    let Some(_) = common::gpu_or_skip("device defect steps") else { return };
    let a = nonsymmetric();
    let n = a.n;
    // A cap that splits the matrix into several row blocks.
    let cap = (4 * a.nnz() as u64 / 3).max(8 * n as u64).next_multiple_of(256);
    let ctx = GpuContext::with_binding_cap(false, Some(cap)).expect("context");
    if !ctx.has_f64() {
        eprintln!("skipping: the adapter has no SHADER_F64");
        return;
    }
    let csr = ctx.upload_csr(&a).expect("upload");
    assert!(csr.blocks.len() >= 2, "the cap splits the matrix: {} block(s)", csr.blocks.len());
    let (rhs, correction) = (ctx.storage_zeroed("rhs", n), ctx.storage_zeroed("d", n));
    let defect = ResidentDefect::new(&ctx, &csr, n, &rhs, &correction).expect("f64 kernels");
    let (b, x): (Vec<f64>, Vec<f64>) = (random(n, 11), random(n, 12).iter().map(|v| 1e3 * v).collect());
    defect.start(&ctx, &b, &x);
    let rnorm = defect.residual_norm(&ctx).expect("norm");
    let mut r = vec![0.0; n];
    let host_norm = residual(&a, &b, &x, &mut r);
    let device_r = defect.residual(&ctx).expect("residual");
    // Rounding of f64 sums of terms up to |a| |x| (about 1e3 here): relative 1e-15 of those.
    let scale: f64 = (0..n)
        .map(|i| {
            (a.row_ptr[i]..a.row_ptr[i + 1])
                .map(|k| (a.values[k as usize] * x[a.col_idx[k as usize] as usize]).abs())
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let worst = r.iter().zip(&device_r).map(|(h, d)| (h - d).abs()).fold(0.0, f64::max);
    eprintln!("residual: worst {worst:e} of terms up to {scale:e}; norm {rnorm} vs {host_norm}");
    assert!(worst <= 1e-14 * scale, "f64 residual off by {worst:e} (terms up to {scale:e})");
    assert!((rnorm - host_norm).abs() <= 1e-13 * host_norm, "norm {rnorm} vs host {host_norm}");
    // rhs = f32(r / ||r||), then x += ||r|| d for a given d.
    defect.set_scale(&ctx, rnorm);
    let mut enc = ctx.device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        defect.record_load_rhs(&ctx, &mut pass).expect("load");
    }
    ctx.queue.submit([enc.finish()]);
    let loaded = ctx.read_f32(&rhs, n).expect("rhs");
    for (i, (l, ri)) in loaded.iter().zip(&r).enumerate() {
        assert_eq!(*l, (ri / host_norm) as f32 as f64, "right-hand side entry {i}");
    }
    let d: Vec<f32> = random(n, 13).iter().map(|&v| v as f32).collect();
    ctx.write(&correction, 0, bytemuck::cast_slice(&d));
    defect.add_correction(&ctx).expect("add");
    let mut updated = vec![0.0; n];
    defect.read_x(&ctx, &mut updated).expect("x");
    for i in 0..n {
        let expected = x[i] + rnorm * f64::from(d[i]);
        assert!((updated[i] - expected).abs() <= 1e-15 * expected.abs().max(1.0), "x[{i}] = {} vs {expected}", updated[i]);
    }
}

/// A transport Jacobian assembled on the device and solved where it is: the same solution as
/// from its host copy; the first solve reads it back once (for the host's multigrid setup or the
/// first upload) and a later Newton iteration's solve not at all, moving O(unknowns) bytes, with
/// multigrid, with block Jacobi (inverses formed on the device) and with the Jacobian and the
/// solver's matrix split across bindings; a device without SHADER_F64 reads it back for its host
/// residual instead, every solve, and solves as well. The pattern handed to the kept solve
/// carries NaN values, so a solve that used them instead of the device's would fail.
#[test]
fn a_jacobian_kept_on_the_device_solves_without_coming_back() {
    use znfield::solve::primary::Drive;
    use znfield::solve::transport::TransportProblem;
    let Some(first) = common::gpu_or_skip("device-kept Jacobian") else { return };
    if !first.has_f64() {
        eprintln!("skipping: the adapter has no SHADER_F64");
        return;
    }
    let (sys, edges) = common::spheroid_system();
    let tp = common::three_species_electroneutral();
    // Storage bindings of about a third of the Jacobian split it and the solver's matrix.
    let split = GpuContext::with_binding_cap(false, Some(512 * 1024)).expect("capped context");
    let cases = [
        ("multigrid", first, Preconditioner::Amg),
        ("block Jacobi", GpuContext::new(false).expect("context"), Preconditioner::Jacobi),
        ("split bindings", split, Preconditioner::Amg),
        ("no f64", GpuContext::without_f64(false).expect("context"), Preconditioner::Amg),
    ];
    for (case, ctx, preconditioner) in cases {
        let has_f64 = ctx.has_f64();
        assert_eq!(has_f64, case != "no f64", "{case}");
        let ctx = Arc::new(ctx);
        let (mut assembler, mut solver) = (GpuJacobian::new(ctx.clone()), GpuBicgstab::new(ctx.clone()));
        let mut t = TransportProblem::new(&sys, &edges, &tp);
        let mut st = t.initial_state(Drive::Potential(-3.0)).expect("state");
        let n = st.x.len();
        let m = n / (sys.n() - sys.bulk.len());
        let params = LinearParams { rtol: 1e-9, max_iterations: 2000, block_size: m, preconditioner };
        for (step, seed) in [(0, 21u64), (1, 22)] {
            for (x, r) in st.x.iter_mut().zip(random(n, seed)) {
                *x += 0.2 * r;
            }
            // The host copy, then the same Jacobian assembled again and kept on the device.
            let host = t.jacobian(&st, None, Some(&mut assembler)).expect("host copy").clone();
            assembler.assemble(&st.x, st.e, None, JacobianOut::Device, None).expect("kept");
            let values = assembler.device_values().expect("kept values");
            let values = values.as_any().downcast_ref::<JacobianValues>().expect("the GPU's values");
            if case == "split bindings" {
                assert!(values.parts.len() >= 2, "the cap splits the device Jacobian: {} part(s)", values.parts.len());
            }
            let poisoned = CsrMatrix { values: vec![f64::NAN; host.nnz()], ..host.clone() };
            let b = random(n, 30 + seed);
            let before = ctx.transfers();
            let mut kept = vec![0.0; n];
            let info = solver.solve_kept_on_device(&poisoned, values, &b, &mut kept, &params).expect("kept solve");
            let after = ctx.transfers();
            let mut r = vec![0.0; n];
            let rel = residual(&host, &b, &kept, &mut r) / norm(&b);
            let read_backs = after.jacobian_read_backs - before.jacobian_read_backs;
            let bytes = after.device_to_host_bytes - before.device_to_host_bytes;
            eprintln!(
                "{case}, Newton step {step}: {} iterations, residual {rel:e}, {read_backs} read-back(s), {bytes} bytes back for {n} unknowns and {} entries",
                info.iterations,
                host.nnz()
            );
            assert!(rel <= 1e-9, "{case}: the kept solve reached {rel:e}");
            // The first solve reads the values for the setup; without f64 every solve reads the
            // matrix for its residual.
            let expected = u64::from(step == 0 || !has_f64);
            assert_eq!(read_backs, expected, "{case}, Newton step {step}: Jacobian read-backs");
            if step == 1 && has_f64 {
                // x (f64) and the sweeps' and norms' scalars: far below the 4 bytes an entry of
                // the matrix.
                assert!(bytes <= 16 * n as u64 + 4096, "{case}: {bytes} bytes back for {n} unknowns");
                assert!(bytes < host.nnz() as u64, "{case}: {bytes} bytes against a {}-byte Jacobian", 4 * host.nnz());
            }
            // The same system from the host copy (the hierarchy kept from the kept solve).
            let mut from_host = vec![0.0; n];
            solver.solve_on_device(&host, &b, &mut from_host, &params).expect("host-copy solve");
            let diff = kept.iter().zip(&from_host).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            let size = from_host.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(diff <= 1e-6 * size, "{case}: kept and host-copy solutions differ by {diff:e} (size {size:e})");
        }
    }
}

/// A device solve of a kept Jacobian that fails (one iteration allowed) is handed to the CPU
/// GMRES with the Jacobian read back once, and counted.
#[test]
fn a_kept_jacobian_handed_to_the_host_is_read_back_once() {
    use znfield::solve::linear::GeneralLinearSolver;
    use znfield::solve::primary::Drive;
    use znfield::solve::transport::TransportProblem;
    let Some(ctx) = common::gpu_or_skip("hand-over of a device-kept Jacobian") else { return };
    let ctx = Arc::new(ctx);
    let (sys, edges) = common::spheroid_system();
    let tp = common::three_species_electroneutral();
    let (mut assembler, mut solver) = (GpuJacobian::new(ctx.clone()), GpuBicgstab::new(ctx.clone()));
    let mut t = TransportProblem::new(&sys, &edges, &tp);
    let st = t.initial_state(Drive::Potential(-3.0)).expect("state");
    let n = st.x.len();
    let pattern = t.jacobian(&st, None, Some(&mut assembler)).expect("pattern").clone();
    assembler.assemble(&st.x, st.e, None, JacobianOut::Device, None).expect("kept");
    let values = assembler.device_values().expect("kept values");
    let params = LinearParams {
        rtol: 1e-12,
        max_iterations: 1,
        block_size: n / (sys.n() - sys.bulk.len()),
        preconditioner: Preconditioner::Amg,
    };
    let before = ctx.transfers().jacobian_read_backs;
    let mut x = vec![0.0; n];
    // The GMRES may not finish in one iteration either: what counts is what was read.
    let _ = solver.solve_device(&pattern, values, &random(n, 3), &mut x, &params);
    let read_backs = ctx.transfers().jacobian_read_backs - before;
    assert_eq!(solver.fallbacks().map(|(count, _)| count), Some(1), "one hand-over");
    assert_eq!(read_backs, 1, "the setup's copy serves the hand-over: {read_backs} read-backs");
}
