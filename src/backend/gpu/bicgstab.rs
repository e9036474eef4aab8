//! Jacobi-preconditioned BiCGStab resident on the GPU for the nonsymmetric Newton systems of the
//! transport models, with f64 defect correction ([`super::defect`]).
//!
//! Right-preconditioned BiCGStab, M = the node blocks of A (block-Jacobi, `block_size` unknowns
//! per node) or its diagonal; one iteration in fourteen dispatches:
//!
//! ```text
//!   p = r + beta p - beta omega v      lincomb3
//!   y = M^-1 p ; v = A y               diag_scale, spmv
//!   alpha = rho / (r_hat . v)          dot_partial, bicgstab_scalars (ALPHA)
//!   s = r - alpha v                    lincomb3
//!   z = M^-1 s ; t = A z               diag_scale, spmv
//!   omega = (t . s) / (t . t)          dot2_partial, bicgstab_scalars (OMEGA)
//!   x += alpha y + omega z             lincomb3
//!   r = s - omega t                    lincomb3
//!   rho' = r_hat . r, beta, rr, stop   dot2_partial, bicgstab_scalars (END)
//! ```
//!
//! All scalars stay in a device `BicgState`; the host reads 48 bytes once per batch. Once the
//! state leaves RUNNING the updates are no-ops, so batches may overrun convergence.

use std::sync::Arc;

use super::context::{DeviceCsr, GpuContext, SpmvOp};
use super::defect::{self, Sweep};
use super::kernels::{bicgstab_scalars, block_scale, diag_scale, dot2_partial, dot_partial, lincomb3};
use super::layout::{bicg_mode, slot, status, BicgMode, BicgState, BlockDims, Dims, LincombSlots};
use super::multigrid::DeviceHierarchy;
use crate::backend::cpu::gmres::Preconditioner as GmresPreconditioner;
use crate::backend::cpu::CpuGmres;
use crate::fem::CsrMatrix;
use crate::solve::amg::{pattern_of, AmgParams, Kept};
use crate::solve::block_amg::BlockHierarchy;
use crate::solve::linear::{GeneralLinearSolver, LinearError, LinearInfo, LinearParams, Preconditioner};

/// Largest number of iterations recorded between two host reads of the state.
const MAX_BATCH: u32 = 64;
/// r . r (the right-hand side has unit norm) beyond which a sweep is abandoned as diverging.
const DIVERGED_RR: f32 = 1e6;
/// After this many consecutive hand-overs the rest of the run stays on the CPU solver.
const STICKY_FALLBACK: u32 = 2;

/// The GPU solver for general (nonsymmetric) systems. Point-Jacobi BiCGStab is not robust for
/// every coupled Jacobian (strong migration, Poisson rows): a solve it cannot finish is handed to
/// the CPU GMRES, and the hand-overs are counted and reported (`fallbacks`), never hidden.
/// After two consecutive hand-overs the rest of the run goes straight to the CPU solver.
pub struct GpuBicgstab {
    ctx: Arc<GpuContext>,
    fallback: CpuGmres,
    /// The node-block multigrid (`solver.preconditioner = "amg"`), kept across solves of one
    /// pattern until the caller forgets it (`new_nonlinear_solve`: each steady Newton solve,
    /// every `time.preconditioner_reuse_steps` time steps) or its iterations double.
    multigrid: Kept<BlockHierarchy>,
    /// The device buffers of the last system, kept for the next solve of the same pattern and
    /// hierarchy generation (the galvanostatic second solve, later Newton iterations and time
    /// steps): only the matrix values (and block Jacobi's inverses) are written again.
    resident: Option<(ResidentKey, Resident)>,
    handed_over: u32,
    consecutive: u32,
    last_reason: String,
    /// Solves whose multigrid levels were recomputed on the device from new fine values.
    galerkin_updates: u64,
}

impl GpuBicgstab {
    /// Wraps an open context.
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        GpuBicgstab {
            ctx,
            fallback: CpuGmres::default(),
            multigrid: Kept::default(),
            resident: None,
            handed_over: 0,
            consecutive: 0,
            last_reason: String::new(),
            galerkin_updates: 0,
        }
    }

    /// Solves whose multigrid hierarchy was updated on the device (see
    /// [`super::multigrid::DeviceHierarchy::refresh`]) instead of keeping the operators of the
    /// matrix it was built from.
    pub fn galerkin_updates(&self) -> u64 {
        self.galerkin_updates
    }

    /// BiCGStab on the device only, without the CPU fallback (parity tests).
    pub fn solve_on_device(
        &mut self,
        a: &CsrMatrix,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        let ctx = &*self.ctx;
        let m = params.block_size;
        let with_multigrid = params.preconditioner == Preconditioner::Amg
            && m > 1
            && !GmresPreconditioner::banded(a)
            && self.multigrid.get_or_build(a, || BlockHierarchy::build(a, m, &AmgParams::default())).is_some();
        let key = (pattern_of(a), m, with_multigrid.then(|| self.multigrid.generation()));
        match self.resident.take() {
            Some((kept, mut resident)) if kept == key => {
                // The kept hierarchy's levels follow the new values on the device once its
                // iterations have drifted up; a host rebuild comes only at twice the first count.
                let update = self.multigrid.value().filter(|_| with_multigrid && self.multigrid.drifted());
                self.galerkin_updates += u64::from(resident.write_values(ctx, a, m, with_multigrid, update));
                self.resident = Some((key, resident));
            }
            _ => {
                let multigrid = self.multigrid.value().filter(|_| with_multigrid);
                let resident = ctx.measure(|| Resident::upload(ctx, a, m, multigrid)).map_err(LinearError::Device)?;
                self.resident = Some((key, resident));
            }
        }
        let Some((_, resident)) = &self.resident else { unreachable!("a resident system was just stored") };
        let info = defect::solve(a, b, x, params, "GPU BiCGStab", |rhs, rtol, max_iterations| {
            let (correction, state) = resident.sweep(ctx, rhs, rtol, max_iterations)?;
            Ok(Sweep {
                correction,
                iterations: state.iterations,
                status: state.status,
                detail: format!("rho = {}, omega = {}, r.r = {}", state.rho, state.omega, state.rr),
            })
        });
        match (with_multigrid, &info) {
            (true, Ok(info)) => self.multigrid.record(info.iterations),
            // A hierarchy the device could not finish with (kept, or updated on the device) is
            // not kept for the next solve: that one builds afresh.
            (true, Err(_)) => self.multigrid.forget(),
            _ => {}
        }
        info
    }
}

/// What a resident system may be reused for: the matrix pattern, the unknowns per node and the
/// hierarchy generation (None: block or point Jacobi).
type ResidentKey = ((usize, usize, u64), usize, Option<u64>);

/// Device buffers and the bind groups of one iteration.
struct Resident {
    dims: Dims,
    /// The system matrix (values rewritten on reuse).
    csr: DeviceCsr,
    /// Block or point Jacobi's inverses (unused with multigrid; rewritten on reuse).
    jacobi: wgpu::Buffer,
    r: wgpu::Buffer,
    rhat: wgpu::Buffer,
    x: wgpu::Buffer,
    p: wgpu::Buffer,
    v: wgpu::Buffer,
    state: wgpu::Buffer,
    staging: wgpu::Buffer,
    begin: (wgpu::BindGroup, wgpu::BindGroup),
    iteration: Vec<Op>,
    /// The node-block multigrid preconditioner and its input and output vectors, when one is
    /// used (else block or point Jacobi).
    cycle: Option<(DeviceHierarchy, [wgpu::Buffer; 2])>,
}

/// One recorded step of the iteration.
enum Op {
    Kernel(Step, wgpu::BindGroup),
    Spmv(SpmvOp),
    /// One V-cycle of the resident multigrid (its input and output buffers).
    Cycle,
}

/// Which kernel a recorded step dispatches.
#[derive(Clone, Copy)]
enum Step {
    Lincomb,
    Scale,
    Block,
    Dot,
    Dot2,
    Scalars,
}

impl Resident {
    fn upload(ctx: &GpuContext, a: &CsrMatrix, block_size: usize, multigrid: Option<&BlockHierarchy>) -> Result<Self, String> {
        let n = a.n;
        let csr = ctx.upload_csr(a)?;
        let d = &ctx.device;
        let k = &ctx.kernels;
        let dims = Dims::for_len(n);
        let dims_buf = ctx.uniform("dims", &dims);
        let m = jacobi_block(n, block_size);
        let dinv = ctx.storage_f32("preconditioner", &jacobi_inverses(a, m));
        let block_dims = ctx.uniform("block dims", &BlockDims { n: n as u32, m: m as u32, _pad0: 0, _pad1: 0 });
        // With multigrid the preconditioner is a V-cycle from its own input vector to its output.
        let cycle = multigrid
            .map(|h| {
                let ends = [ctx.storage_zeroed("cycle in", n), ctx.storage_zeroed("cycle out", n)];
                DeviceHierarchy::upload_source(ctx, h.into(), &ends[0], &ends[1]).map(|cycle| (cycle, ends))
            })
            .transpose()?;
        let [r, rhat, x, p, v, y, s, z, t] = ["r", "rhat", "x", "p", "v", "y", "s", "z", "t"].map(|l| ctx.storage_zeroed(l, n));
        let partials = ctx.storage_zeroed("partials", 2 * dims.reduce_groups as usize);
        let state = ctx.storage_zeroed("bicg state", std::mem::size_of::<BicgState>() / 4);
        let staging = ctx.readback_buffer("bicg state readback", std::mem::size_of::<BicgState>() as u64);
        let mode =
            |m: u32| ctx.uniform("bicg mode", &BicgMode { mode: m, reduce_groups: dims.reduce_groups, _pad0: 0, _pad1: 0 });
        let slots = |a: u32, b: u32, c: u32| ctx.uniform("lincomb slots", &LincombSlots { n: n as u32, a, b, c });
        let scalars = |m: u32| bicgstab_scalars::bind(&k.bicgstab_scalars, d, &mode(m), &partials, &state);
        let lin = |sl: &wgpu::Buffer, yv: &wgpu::Buffer, zv: &wgpu::Buffer, out: &wgpu::Buffer| {
            lincomb3::bind(&k.lincomb3, d, sl, &state, yv, zv, out)
        };
        let begin = (dot2_partial::bind(&k.dot2_partial, d, &dims_buf, &rhat, &r, &r, &r, &partials), scalars(bicg_mode::BEGIN));
        let lincomb = |sl: &wgpu::Buffer, yv: &wgpu::Buffer, zv: &wgpu::Buffer, out: &wgpu::Buffer| {
            Op::Kernel(Step::Lincomb, lin(sl, yv, zv, out))
        };
        // out = M^-1 x: copy in, one V-cycle, copy out; or one (block) Jacobi scaling.
        let scale = |x: &wgpu::Buffer, out: &wgpu::Buffer| -> Vec<Op> {
            if let Some((_, [cycle_in, cycle_out])) = &cycle {
                let copy = slots(slot::ZERO, slot::ONE, slot::ZERO);
                vec![lincomb(&copy, x, x, cycle_in), Op::Cycle, lincomb(&copy, cycle_out, cycle_out, out)]
            } else if m > 1 {
                vec![Op::Kernel(Step::Block, block_scale::bind(&k.block_scale, d, &block_dims, &dinv, x, out))]
            } else {
                vec![Op::Kernel(Step::Scale, diag_scale::bind(&k.diag_scale, d, &dims_buf, &dinv, x, out))]
            }
        };
        let iteration = [
            vec![lincomb(&slots(slot::BETA, slot::ONE, slot::NEG_BETA_OMEGA), &r, &v, &p)],
            scale(&p, &y),
            vec![
                Op::Spmv(csr.spmv(ctx, &y, &v)),
                Op::Kernel(Step::Dot, dot_partial::bind(&k.dot_partial, d, &dims_buf, &rhat, &v, &partials)),
                Op::Kernel(Step::Scalars, scalars(bicg_mode::ALPHA)),
                lincomb(&slots(slot::ZERO, slot::ONE, slot::NEG_ALPHA), &r, &v, &s),
            ],
            scale(&s, &z),
            vec![
                Op::Spmv(csr.spmv(ctx, &z, &t)),
                Op::Kernel(Step::Dot2, dot2_partial::bind(&k.dot2_partial, d, &dims_buf, &t, &s, &t, &t, &partials)),
                Op::Kernel(Step::Scalars, scalars(bicg_mode::OMEGA)),
                lincomb(&slots(slot::ONE, slot::ALPHA, slot::OMEGA), &y, &z, &x),
                lincomb(&slots(slot::ZERO, slot::ONE, slot::NEG_OMEGA), &s, &t, &r),
                Op::Kernel(Step::Dot2, dot2_partial::bind(&k.dot2_partial, d, &dims_buf, &rhat, &r, &r, &r, &partials)),
                Op::Kernel(Step::Scalars, scalars(bicg_mode::END)),
            ],
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok(Resident { dims, csr, jacobi: dinv, r, rhat, x, p, v, state, staging, begin, iteration, cycle })
    }

    /// Writes the values of a matrix with the resident one's pattern, and its Jacobi inverses or,
    /// with multigrid and an `update` (the host hierarchy the device's was uploaded from), the
    /// hierarchy's levels recomputed on the device from them (P and R kept). Returns whether the
    /// hierarchy was so updated.
    fn write_values(
        &mut self,
        ctx: &GpuContext,
        a: &CsrMatrix,
        block_size: usize,
        multigrid: bool,
        update: Option<&BlockHierarchy>,
    ) -> bool {
        self.csr.write_values(ctx, a);
        if let (Some(host), Some((cycle, _))) = (update, &mut self.cycle) {
            return cycle.may_refresh() && cycle.refresh(ctx, &crate::solve::block_amg::expanded(a, block_size), host);
        }
        if !multigrid {
            let inverses: Vec<f32> = jacobi_inverses(a, jacobi_block(a.n, block_size)).iter().map(|&v| v as f32).collect();
            ctx.write(&self.jacobi, 0, bytemuck::cast_slice(&inverses));
        }
        false
    }

    fn dispatch(&self, ctx: &GpuContext, pass: &mut wgpu::ComputePass<'_>, step: Step, group: &wgpu::BindGroup) {
        let k = &ctx.kernels;
        let kernel = match step {
            Step::Lincomb => &k.lincomb3,
            Step::Scale => &k.diag_scale,
            Step::Block => &k.block_scale,
            Step::Dot => &k.dot_partial,
            Step::Dot2 => &k.dot2_partial,
            Step::Scalars => &k.bicgstab_scalars,
        };
        kernel.dispatch(pass, group, &self.dims);
    }

    /// BiCGStab on A d = rhs from d = 0 until `rtol` (relative to ||rhs||) or `max_iterations`.
    fn sweep(&self, ctx: &GpuContext, rhs: &[f64], rtol: f64, max_iterations: u32) -> Result<(Vec<f64>, BicgState), String> {
        let rhs32: Vec<f32> = rhs.iter().map(|&v| v as f32).collect();
        ctx.write(&self.r, 0, bytemuck::cast_slice(&rhs32));
        ctx.write(&self.rhat, 0, bytemuck::cast_slice(&rhs32));
        let rhs_norm2: f64 = rhs.iter().map(|v| v * v).sum();
        let init = BicgState { tol2: (rtol * rtol * rhs_norm2) as f32, max_iterations, ..Default::default() };
        ctx.write(&self.state, 0, bytemuck::bytes_of(&init));
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        for b in [&self.x, &self.p, &self.v] {
            enc.clear_buffer(b, 0, None);
        }
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            self.dispatch(ctx, &mut pass, Step::Dot2, &self.begin.0);
            self.dispatch(ctx, &mut pass, Step::Scalars, &self.begin.1);
        }
        ctx.queue.submit([enc.finish()]);
        let state = defect::run_batches(
            ctx,
            &self.state,
            &self.staging,
            MAX_BATCH,
            |pass| {
                for op in &self.iteration {
                    match op {
                        Op::Kernel(step, group) => self.dispatch(ctx, pass, *step, group),
                        Op::Spmv(spmv) => spmv.record(ctx, pass),
                        Op::Cycle => {
                            if let Some((cycle, _)) = &self.cycle {
                                cycle.record(ctx, pass);
                            }
                        }
                    }
                }
            },
            |bytes| {
                let mut state: BicgState = bytemuck::pod_read_unaligned(bytes);
                // The right-hand side has unit norm: a residual this large means BiCGStab diverges.
                if state.status == status::RUNNING && (state.rr.is_nan() || state.rr >= DIVERGED_RR) {
                    state.status = status::BREAKDOWN;
                }
                (state.status != status::RUNNING).then_some(state)
            },
        )?;
        let d = ctx.read_f32(&self.x, self.dims.n as usize)?;
        Ok((d, state))
    }
}

/// Unknowns per Jacobi block: block Jacobi on node-interleaved systems (the m unknowns of a node
/// coupled), point Jacobi otherwise.
fn jacobi_block(n: usize, block_size: usize) -> usize {
    if block_size > 1 && n % block_size == 0 {
        block_size
    } else {
        1
    }
}

/// The inverses of A's diagonal blocks of `m` unknowns (m = 1: of its diagonal; a zero stays 1).
fn jacobi_inverses(a: &CsrMatrix, m: usize) -> Vec<f64> {
    if m > 1 {
        crate::backend::cpu::kernels::inverse_diagonal_blocks(a, m)
    } else {
        a.diagonal().iter().map(|&v| if v != 0.0 { 1.0 / v } else { 1.0 }).collect()
    }
}

impl GeneralLinearSolver for GpuBicgstab {
    fn new_nonlinear_solve(&mut self) {
        self.multigrid.forget();
        self.fallback.new_nonlinear_solve();
    }

    fn preconditioner_builds(&self) -> Option<u64> {
        Some(self.multigrid.generation() + self.fallback.preconditioner_builds().unwrap_or(0))
    }

    fn multigrid_setup_seconds(&self) -> f64 {
        self.multigrid.build_seconds() + self.fallback.multigrid_setup_seconds()
    }

    fn solve_general(
        &mut self,
        a: &CsrMatrix,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        assert_eq!(b.len(), a.n);
        assert_eq!(x.len(), a.n);
        if self.consecutive >= STICKY_FALLBACK {
            self.handed_over += 1;
            return self.fallback.solve_general(a, b, x, params);
        }
        let start = x.to_vec();
        match self.solve_on_device(a, b, x, params) {
            Ok(info) => {
                self.consecutive = 0;
                Ok(info)
            }
            Err(LinearError::Device(msg)) => Err(LinearError::Device(msg)),
            Err(e) => {
                self.handed_over += 1;
                self.consecutive += 1;
                self.last_reason = e.to_string();
                x.copy_from_slice(&start);
                self.fallback.solve_general(a, b, x, params)
            }
        }
    }

    fn device_multigrid_updates(&self) -> Option<u64> {
        Some(self.galerkin_updates)
    }

    fn fallbacks(&self) -> Option<(u32, String)> {
        (self.handed_over > 0).then(|| (self.handed_over, self.last_reason.clone()))
    }
}
