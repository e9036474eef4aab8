//! Jacobi-preconditioned conjugate gradients resident on the GPU, with f64 defect correction.
//!
//! Outer loop: f64 defect correction on the host ([`super::defect`]).
//!
//! Inner loop (device, f32): the matrix and all vectors stay in device buffers; the scalars of
//! CG live in a `PcgState` buffer written and read only by kernels. One iteration is six
//! dispatches (spmv, dot_partial, pcg_alpha, pcg_update_xr, pcg_beta, pcg_update_p); batches of
//! iterations go into one command buffer, and the host reads the 48-byte state once per batch.
//! Kernels do nothing once the state leaves RUNNING, so a batch may safely overrun convergence.

use std::sync::Arc;

use super::context::{DeviceCsr, GpuContext, SpmvOp};
use super::defect::{self, Sweep};
use super::kernels::{
    dot2_partial, dot_partial, lincomb3, pcg_alpha, pcg_begin, pcg_beta, pcg_start, pcg_update_p, pcg_update_xr,
};
use super::layout::{slot, status, Dims, LincombSlots, PcgState};
use super::multigrid::DeviceHierarchy;
use crate::fem::CsrMatrix;
use crate::solve::amg::{pattern_of, AmgParams, Hierarchy, HierarchyCache};
use crate::solve::linear::{LinearError, LinearInfo, LinearParams, LinearSolver, Preconditioner};

/// Largest number of iterations recorded between two host reads of the state.
const MAX_BATCH: u32 = 64;

/// The GPU linear solver.
pub struct GpuPcg {
    ctx: Arc<GpuContext>,
    /// The multigrid hierarchy, built on the host, kept across solves of one pattern.
    multigrid: HierarchyCache,
    /// The device buffers of the last system, kept for the next solve of the same pattern and
    /// hierarchy (Newton iterations): only the matrix values (and Jacobi's diagonal) are
    /// written again.
    resident: Option<(ResidentKey, Resident)>,
}

/// What a resident system may be reused for: the matrix pattern and the hierarchy generation
/// (None: Jacobi).
type ResidentKey = ((usize, usize, u64), Option<u64>);

impl GpuPcg {
    /// Wraps an open context.
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        GpuPcg { ctx, multigrid: HierarchyCache::default(), resident: None }
    }

    /// The context (for parity tests and diagnostics).
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }
}

/// Device buffers and bind groups of one system.
struct Resident {
    dims: Dims,
    /// The system matrix (values rewritten on reuse).
    csr: DeviceCsr,
    /// Jacobi's D^-1 (zero with multigrid; rewritten on reuse).
    dinv: wgpu::Buffer,
    /// With multigrid: the V-cycle from `r` into `z`, the copy p = z and the (r.z, r.r)
    /// partials after it (the fused Jacobi update is then given a zero diagonal).
    multigrid: Option<Multigrid>,
    state: wgpu::Buffer,
    rhs: wgpu::Buffer,
    x: wgpu::Buffer,
    /// A p of the current iterate (read back to locate a non-finite p.Ap).
    q: wgpu::Buffer,
    start: wgpu::BindGroup,
    begin: wgpu::BindGroup,
    spmv: SpmvOp,
    dot: wgpu::BindGroup,
    alpha: wgpu::BindGroup,
    update_xr: wgpu::BindGroup,
    beta: wgpu::BindGroup,
    update_p: wgpu::BindGroup,
    staging: wgpu::Buffer,
}

/// The multigrid preconditioner's part of a resident system.
struct Multigrid {
    cycle: DeviceHierarchy,
    copy_p: wgpu::BindGroup,
    partials: wgpu::BindGroup,
    _buffers: Vec<wgpu::Buffer>,
}

impl Resident {
    fn upload(ctx: &GpuContext, a: &CsrMatrix, hierarchy: Option<&Hierarchy>) -> Result<Self, String> {
        let n = a.n;
        let csr = ctx.upload_csr(a)?;
        let d = &ctx.device;
        let k = &ctx.kernels;
        let dims = Dims::for_len(n);
        let dims_buf = ctx.uniform("dims", &dims);
        // With multigrid the fused update's z = dinv r is overwritten by the V-cycle: dinv = 0.
        let dinv: Vec<f64> = match hierarchy {
            Some(_) => vec![0.0; n],
            None => a.diagonal().iter().map(|v| 1.0 / v).collect(),
        };
        let dinv = ctx.storage_f32("dinv", &dinv);
        let rhs = ctx.storage_zeroed("b", n);
        let [x, r, z, p, q] = ["x", "r", "z", "p", "q"].map(|l| ctx.storage_zeroed(l, n));
        let partials = ctx.storage_zeroed("partials", 2 * dims.reduce_groups as usize);
        let state = ctx.storage_zeroed("state", std::mem::size_of::<PcgState>() / 4);
        let staging = ctx.readback_buffer("state readback", std::mem::size_of::<PcgState>() as u64);
        let multigrid = match hierarchy {
            None => None,
            Some(h) => {
                let cycle = DeviceHierarchy::upload(ctx, h, &r, &z)?;
                let mut constants = [0.0f64; 12];
                constants[11] = 0.0; // status slot: RUNNING
                let constants = ctx.storage_f32("copy constants", &constants);
                let copy = ctx.uniform("copy slots", &LincombSlots { n: n as u32, a: slot::ZERO, b: slot::ONE, c: slot::ZERO });
                Some(Multigrid {
                    cycle,
                    copy_p: lincomb3::bind(&k.lincomb3, d, &copy, &constants, &z, &z, &p),
                    partials: dot2_partial::bind(&k.dot2_partial, d, &dims_buf, &r, &z, &r, &r, &partials),
                    _buffers: vec![constants, copy],
                })
            }
        };
        Ok(Resident {
            dims,
            multigrid,
            start: pcg_start::bind(&k.pcg_start, d, &dims_buf, &rhs, &dinv, &x, &r, &z, &p, &partials),
            begin: pcg_begin::bind(&k.pcg_begin, d, &dims_buf, &partials, &state),
            spmv: csr.spmv(ctx, &p, &q),
            dot: dot_partial::bind(&k.dot_partial, d, &dims_buf, &p, &q, &partials),
            alpha: pcg_alpha::bind(&k.pcg_alpha, d, &dims_buf, &partials, &state),
            update_xr: pcg_update_xr::bind(&k.pcg_update_xr, d, &dims_buf, &state, &p, &q, &dinv, &x, &r, &z, &partials),
            beta: pcg_beta::bind(&k.pcg_beta, d, &dims_buf, &partials, &state),
            update_p: pcg_update_p::bind(&k.pcg_update_p, d, &dims_buf, &state, &z, &p),
            state,
            rhs,
            x,
            q,
            staging,
            csr,
            dinv,
        })
    }

    /// Where A p went non-finite, when p.Ap did: ", A p first non-finite at unknown i" (empty
    /// otherwise, or if the read-back fails).
    fn locate_non_finite(&self, ctx: &GpuContext, state: &PcgState) -> String {
        if state.pq.is_finite() {
            return String::new();
        }
        let q = ctx.read_f32(&self.q, self.dims.n as usize).unwrap_or_default();
        match q.iter().position(|v| !v.is_finite()) {
            Some(at) => format!(", A p first non-finite at unknown {at} of {}", q.len()),
            None => String::new(),
        }
    }

    /// Runs f32 PCG on A d = rhs from d = 0 until `rtol` (relative to ||rhs||) or `max_iterations`.
    fn sweep(&self, ctx: &GpuContext, rhs: &[f64], rtol: f64, max_iterations: u32) -> Result<(Vec<f64>, PcgState), String> {
        let rhs32: Vec<f32> = rhs.iter().map(|&v| v as f32).collect();
        ctx.write(&self.rhs, 0, bytemuck::cast_slice(&rhs32));
        let rhs_norm2: f64 = rhs.iter().map(|v| v * v).sum();
        let init = PcgState { tol2: (rtol * rtol * rhs_norm2) as f32, max_iterations, ..Default::default() };
        ctx.write(&self.state, 0, bytemuck::bytes_of(&init));
        let k = &ctx.kernels;
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            k.pcg_start.dispatch(&mut pass, &self.start, &self.dims);
            if let Some(mg) = &self.multigrid {
                mg.cycle.record(ctx, &mut pass);
                k.lincomb3.dispatch(&mut pass, &mg.copy_p, &self.dims);
                k.dot2_partial.dispatch(&mut pass, &mg.partials, &self.dims);
            }
            k.pcg_begin.dispatch(&mut pass, &self.begin, &self.dims);
        }
        ctx.queue.submit([enc.finish()]);
        let state = defect::run_batches(
            ctx,
            &self.state,
            &self.staging,
            MAX_BATCH,
            |pass| {
                self.spmv.record(ctx, pass);
                k.dot_partial.dispatch(pass, &self.dot, &self.dims);
                k.pcg_alpha.dispatch(pass, &self.alpha, &self.dims);
                k.pcg_update_xr.dispatch(pass, &self.update_xr, &self.dims);
                if let Some(mg) = &self.multigrid {
                    mg.cycle.record(ctx, pass);
                    k.dot2_partial.dispatch(pass, &mg.partials, &self.dims);
                }
                k.pcg_beta.dispatch(pass, &self.beta, &self.dims);
                k.pcg_update_p.dispatch(pass, &self.update_p, &self.dims);
            },
            |bytes| {
                let state: PcgState = bytemuck::pod_read_unaligned(bytes);
                (state.status != status::RUNNING).then_some(state)
            },
        )?;
        let d = ctx.read_f32(&self.x, self.dims.n as usize)?;
        Ok((d, state))
    }
}

impl LinearSolver for GpuPcg {
    fn preconditioner_builds(&self) -> Option<u64> {
        Some(self.multigrid.generation())
    }

    fn multigrid_setup_seconds(&self) -> f64 {
        self.multigrid.build_seconds()
    }

    fn forget_preconditioners(&mut self) {
        self.multigrid.forget();
    }

    fn solve(&mut self, a: &CsrMatrix, b: &[f64], x: &mut [f64], params: &LinearParams) -> Result<LinearInfo, LinearError> {
        assert_eq!(b.len(), a.n);
        assert_eq!(x.len(), a.n);
        let ctx = &*self.ctx;
        // Build (or keep) the hierarchy first; its generation says whether device copies are current.
        if params.preconditioner == Preconditioner::Amg {
            let _ = self.multigrid.get(a, &AmgParams::default());
        }
        let multigrid = params.preconditioner == Preconditioner::Amg && self.multigrid.is_kept();
        let key = (pattern_of(a), multigrid.then(|| self.multigrid.generation()));
        match self.resident.take() {
            Some((kept, resident)) if kept == key => {
                resident.csr.write_values(ctx, a);
                if !multigrid {
                    let dinv: Vec<f32> = a.diagonal().iter().map(|v| (1.0 / v) as f32).collect();
                    ctx.write(&resident.dinv, 0, bytemuck::cast_slice(&dinv));
                }
                self.resident = Some((key, resident));
            }
            _ => {
                // The same pattern: `get` returns the hierarchy just built or kept.
                let hierarchy = if multigrid { self.multigrid.get(a, &AmgParams::default()).map(|(h, _)| h) } else { None };
                let resident = ctx.measure(|| Resident::upload(ctx, a, hierarchy)).map_err(LinearError::Device)?;
                self.resident = Some((key, resident));
            }
        }
        let Some((_, resident)) = &self.resident else { unreachable!("a resident system was just stored") };
        let info = defect::solve(a, b, x, params, "GPU PCG", |rhs, rtol, max_iterations| {
            let (correction, state) = resident.sweep(ctx, rhs, rtol, max_iterations)?;
            Ok(Sweep {
                correction,
                iterations: state.iterations,
                status: state.status,
                detail: format!("p.Ap = {}, r.r = {}{}", state.pq, state.rr, resident.locate_non_finite(ctx, &state)),
            })
        })?;
        if multigrid {
            self.multigrid.record(info.iterations);
        }
        Ok(info)
    }

    fn device_memory_peak(&self) -> Option<u64> {
        Some(self.ctx.peak_solve_bytes())
    }

    fn device_transfers(&self) -> Option<crate::solve::linear::DeviceTransfers> {
        Some(self.ctx.transfers())
    }
}
