//! BiCGStab resident on the GPU for the nonsymmetric Newton systems of the transport models, with
//! f64 defect correction ([`super::defect`]; on the device, [`super::resident_defect`], for a
//! Jacobian the device assembled and kept, which is read back only where the host needs its
//! values: a multigrid setup, a first upload, a hand-over).
//!
//! Right-preconditioned BiCGStab, M = one V-cycle of the node-block multigrid
//! ([`super::multigrid`]), or the node blocks of A (block-Jacobi, `block_size` unknowns per node)
//! or its diagonal; one iteration in fourteen dispatches (the V-cycle's counted as one):
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
use super::defect::{self, Sweep, SweepOutcome};
use super::kernels::{bicgstab_scalars, block_inverse, block_scale, diag_scale, dot2_partial, dot_partial, lincomb3};
use super::layout::{bicg_mode, slot, status, BicgMode, BicgState, BlockDims, Dims, InverseParams, LincombSlots};
use super::multigrid::DeviceHierarchy;
use super::resident_defect::{DeviceIterate, ResidentDefect};
use super::transport_jacobian::JacobianValues;
use crate::backend::cpu::CpuGmres;
use crate::fem::CsrMatrix;
use crate::solve::amg::{pattern_of, AmgParams, Kept};
use crate::solve::block_amg::BlockHierarchy;
use crate::solve::linear::{
    read_back, DeviceMatrixValues, GeneralLinearSolver, LinearError, LinearInfo, LinearParams, Preconditioner,
};

/// Largest number of iterations recorded between two host reads of the state.
const MAX_BATCH: u32 = 64;
/// r . r (the right-hand side has unit norm) beyond which a sweep is abandoned as diverging.
const DIVERGED_RR: f32 = 1e6;
/// After this many consecutive hand-overs the rest of the run stays on the CPU solver.
const STICKY_FALLBACK: u32 = 2;

/// The GPU solver for general (nonsymmetric) systems. BiCGStab is not robust for every coupled
/// Jacobian (block Jacobi broke down on the pnp double layers' Poisson rows, which the multigrid
/// handles): a solve it cannot finish is handed to the CPU GMRES, and the hand-overs are counted
/// and reported (`fallbacks`), never hidden.
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
        self.solve_from(&mut HostValues { src: Source::Host(a), copy: None }, b, x, params)
    }

    /// BiCGStab on the device only with a Jacobian the device assembled and kept (`values`, of
    /// `pattern`'s pattern), without the CPU fallback (parity tests).
    pub fn solve_kept_on_device(
        &mut self,
        pattern: &CsrMatrix,
        values: &JacobianValues,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        self.solve_from(&mut HostValues { src: Source::Device(pattern, values), copy: None }, b, x, params)
    }

    /// The device solve of `host`'s matrix. A device-kept matrix is read back (into `host`, once)
    /// only where the host needs its values: a multigrid setup, a first upload of the pattern,
    /// block Jacobi's inverses where the device cannot form them, or the defect correction's
    /// f64 residual where the device cannot run it (no SHADER_F64).
    fn solve_from(
        &mut self,
        host: &mut HostValues<'_>,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        let ctx = &*self.ctx;
        let src = host.src;
        let pattern = src.pattern();
        let m = params.block_size;
        // The pattern's hash, once: O(nnz) on the host every solve.
        let pattern_key = pattern_of(pattern);
        let with_multigrid = params.preconditioner == Preconditioner::Amg && m > 1 && {
            let a = if self.multigrid.needs_build(pattern_key) { host.get()? } else { pattern };
            self.multigrid.get_or_build_for(pattern_key, || BlockHierarchy::build(a, m, &AmgParams::default())).is_some()
        };
        let key = (pattern_key, m, with_multigrid.then(|| self.multigrid.generation()));
        match self.resident.take() {
            Some((kept, mut resident)) if kept == key => {
                // The kept hierarchy's levels follow the new values on the device once its
                // iterations have drifted up; a host rebuild comes only at twice the first count.
                let update = self.multigrid.value().filter(|_| with_multigrid && self.multigrid.drifted());
                let updated = resident.write_values(ctx, host, m, with_multigrid, update)?;
                self.galerkin_updates += u64::from(updated);
                self.resident = Some((key, resident));
            }
            _ => {
                let multigrid = self.multigrid.value().filter(|_| with_multigrid);
                let a = host.get()?;
                let resident = ctx.measure(|| Resident::upload(ctx, a, m, multigrid)).map_err(LinearError::Device)?;
                self.resident = Some((key, resident));
            }
        }
        let Some((_, resident)) = &mut self.resident else { unreachable!("a resident system was just stored") };
        // A device-kept matrix keeps the whole defect loop on the device where it can run there.
        let on_device = matches!(src, Source::Device(..)) && resident.prepare_defect(ctx);
        let host_matrix = if on_device { None } else { Some(host.get()?) };
        let resident = &*resident;
        let info = match (host_matrix, &resident.defect) {
            (None, Some(Some(defect))) => resident.solve_with_device_defect(ctx, defect, b, x, params),
            (a, _) => {
                let a = a.unwrap_or(pattern);
                defect::solve(a, b, x, params, "GPU BiCGStab", |rhs, rtol, max_iterations| {
                    let (correction, state) = resident.sweep(ctx, rhs, rtol, max_iterations)?;
                    Ok(Sweep { correction, iterations: state.iterations, status: state.status, detail: state.describe() })
                })
            }
        };
        match (with_multigrid, &info) {
            (true, Ok(info)) => self.multigrid.record(info.iterations),
            // A hierarchy the device could not finish with (kept, or updated on the device) is
            // not kept for the next solve: that one builds afresh.
            (true, Err(_)) => self.multigrid.forget(),
            _ => {}
        }
        info
    }

    /// The device solve, handed to the CPU GMRES if it fails (or straight away after
    /// [`STICKY_FALLBACK`] consecutive hand-overs).
    fn solve_or_hand_over(
        &mut self,
        src: Source<'_>,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        let pattern = src.pattern();
        assert_eq!((b.len(), x.len()), (pattern.n, pattern.n), "vectors for a matrix of {} rows", pattern.n);
        // Host values read back for the device solve serve the hand-over too.
        let mut host = HostValues { src, copy: None };
        if self.consecutive >= STICKY_FALLBACK {
            let a = host.get()?;
            self.handed_over += 1;
            return self.fallback.solve_general(a, b, x, params);
        }
        let start = x.to_vec();
        match self.solve_from(&mut host, b, x, params) {
            Ok(info) => {
                self.consecutive = 0;
                Ok(info)
            }
            Err(LinearError::Device(msg)) => Err(LinearError::Device(msg)),
            Err(e) => {
                // A Jacobian that cannot be read back (a non-finite entry) is reported as such.
                let a = host.get()?;
                self.handed_over += 1;
                self.consecutive += 1;
                self.last_reason = e.to_string();
                x.copy_from_slice(&start);
                self.fallback.solve_general(a, b, x, params)
            }
        }
    }
}

/// The matrix of one solve: host values, or a Jacobian the device assembled and kept (with the
/// host pattern it belongs to).
#[derive(Clone, Copy)]
enum Source<'a> {
    Host(&'a CsrMatrix),
    Device(&'a CsrMatrix, &'a JacobianValues),
}

impl<'a> Source<'a> {
    /// The pattern (with valid values only for `Host`).
    fn pattern(&self) -> &'a CsrMatrix {
        match *self {
            Source::Host(a) | Source::Device(a, _) => a,
        }
    }
}

/// A source's matrix with host values: itself, or a copy read back from the device on first
/// need (once per solve; counted in `solver.device.jacobian_read_backs`).
struct HostValues<'a> {
    src: Source<'a>,
    copy: Option<CsrMatrix>,
}

impl<'a> HostValues<'a> {
    fn get(&mut self) -> Result<&CsrMatrix, LinearError> {
        match self.src {
            Source::Host(a) => Ok(a),
            Source::Device(pattern, values) => {
                if self.copy.is_none() {
                    self.copy = Some(read_back(pattern, values)?);
                }
                Ok(self.copy.as_ref().expect("read back just now"))
            }
        }
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
    /// Whether the hierarchy's finest level has the system matrix's pattern (block-complete, as
    /// the transport Jacobians are), so device-kept values can be copied into it as they are.
    fine_is_pattern: bool,
    /// Block Jacobi's inverses from the matrix buffer on the device (`block_inverse`), where the
    /// preconditioner is block Jacobi and the matrix is one binding.
    device_jacobi: Option<(wgpu::BindGroup, Dims)>,
    /// The f64 defect loop on the device (made on first use; None inside where the device
    /// cannot run it).
    defect: Option<Option<ResidentDefect>>,
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
        // Block Jacobi's inverses formed on the device from the matrix buffer (`block_inverse`,
        // omega 1), for values that stay there; a split matrix or wider blocks take the host's.
        let device_jacobi = (multigrid.is_none() && m > 1 && m <= block_inverse::MAX_BLOCK && csr.blocks.len() == 1).then(|| {
            let params = InverseParams { nodes: (n / m) as u32, m: m as u32, omega: 1.0, _pad0: 0 };
            let params = ctx.uniform("jacobi inverse params", &params);
            let blk = &csr.blocks[0];
            let group = block_inverse::bind(&k.block_inverse, d, &params, [&blk.row_ptr, &blk.col_idx, &blk.values], &dinv);
            (group, Dims::for_len(n / m))
        });
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
        let fine_is_pattern = multigrid.is_some() && {
            let fine = crate::solve::block_amg::expanded(a, block_size);
            fine.row_ptr == a.row_ptr && fine.col_idx == a.col_idx
        };
        Ok(Resident {
            dims,
            csr,
            jacobi: dinv,
            r,
            rhat,
            x,
            p,
            v,
            state,
            staging,
            begin,
            iteration,
            cycle,
            fine_is_pattern,
            device_jacobi,
            defect: None,
        })
    }

    /// Makes the device's defect loop ready; false where the device cannot run it (no
    /// SHADER_F64, or an f64 vector over a binding).
    fn prepare_defect(&mut self, ctx: &GpuContext) -> bool {
        let n = self.dims.n as usize;
        self.defect.get_or_insert_with(|| ResidentDefect::new(ctx, &self.csr, n, &self.r, &self.x)).is_some()
    }

    /// The defect correction with its f64 iterate, right-hand side and residual on the device:
    /// b and the initial x go up, x comes back, and in between only scalars.
    fn solve_with_device_defect(
        &self,
        ctx: &GpuContext,
        defect: &ResidentDefect,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        let Some(bnorm) = defect::nonzero_norm(b, x) else { return Ok(LinearInfo { iterations: 0, relative_residual: 0.0 }) };
        defect.start(ctx, b, x);
        let sweep = |rtol: f64, max_iterations: u32| {
            // The right-hand side r / ||r|| (unit norm) is made on the device, for r and r_hat.
            let state = self.run_sweep(ctx, 1.0, rtol, max_iterations, |enc| {
                {
                    let mut pass = enc.begin_compute_pass(&Default::default());
                    defect.record_load_rhs(ctx, &mut pass)?;
                }
                enc.copy_buffer_to_buffer(&self.r, 0, &self.rhat, 0, self.r.size());
                Ok(())
            })?;
            Ok(SweepOutcome { iterations: state.iterations, status: state.status, detail: state.describe() })
        };
        let info = defect::run(&mut DeviceIterate { ctx, defect, sweep }, bnorm, params, "GPU BiCGStab");
        // The iterate comes back where the solve reached its tolerance or an inexact Newton
        // step may take it; a failure leaves x as it was.
        if matches!(info, Ok(_) | Err(LinearError::NoConvergence { .. })) {
            defect.read_x(ctx, x).map_err(LinearError::Device)?;
        }
        info
    }

    /// Writes the values of a matrix with the resident one's pattern (device-kept values are
    /// copied on the device), and its Jacobi inverses or, with multigrid and an `update` (the
    /// host hierarchy the device's was uploaded from), the hierarchy's levels recomputed on the
    /// device from them (P and R kept). Returns whether the hierarchy was so updated.
    fn write_values(
        &mut self,
        ctx: &GpuContext,
        host: &mut HostValues<'_>,
        block_size: usize,
        multigrid: bool,
        update: Option<&BlockHierarchy>,
    ) -> Result<bool, LinearError> {
        let kept = match host.src {
            Source::Device(_, values) => Some(values),
            Source::Host(_) => None,
        };
        match kept {
            Some(values) => self.csr.copy_values_from(ctx, &values.parts).map_err(LinearError::Device)?,
            None => self.csr.write_values(ctx, host.get()?),
        }
        if let (Some(hierarchy), Some((cycle, _))) = (update, &mut self.cycle) {
            if !cycle.may_refresh() {
                return Ok(false);
            }
            return Ok(match kept {
                Some(values) if self.fine_is_pattern => {
                    let size = (self.dims.n as usize, values.nnz());
                    cycle
                        .refresh_with(ctx, size, |fine| fine.copy_values_from(ctx, &values.parts), hierarchy)
                        .map_err(LinearError::Device)?
                }
                _ => cycle
                    .refresh(ctx, &crate::solve::block_amg::expanded(host.get()?, block_size), hierarchy)
                    .map_err(LinearError::Device)?,
            });
        }
        if !multigrid {
            match (kept, &self.device_jacobi) {
                // The inverses from the values copied just now: Gauss-Jordan in f32, a block
                // with a pivot below 1e-6 of its largest entry replaced by its diagonal's.
                (Some(_), Some((group, dims))) => {
                    let mut enc = ctx.device.create_command_encoder(&Default::default());
                    {
                        let mut pass = enc.begin_compute_pass(&Default::default());
                        ctx.kernels.block_inverse.dispatch(&mut pass, group, dims);
                    }
                    ctx.queue.submit([enc.finish()]);
                }
                _ => {
                    let a = host.get()?;
                    let inverses: Vec<f32> =
                        jacobi_inverses(a, jacobi_block(a.n, block_size)).iter().map(|&v| v as f32).collect();
                    ctx.write(&self.jacobi, 0, bytemuck::cast_slice(&inverses));
                }
            }
        }
        Ok(false)
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
        let state = self.run_sweep(ctx, rhs_norm2, rtol, max_iterations, |_| Ok(()))?;
        let d = ctx.read_f32(&self.x, self.dims.n as usize)?;
        Ok((d, state))
    }

    /// BiCGStab from d = 0 (in `self.x`) on the right-hand side in `self.r` and `self.rhat`
    /// (of squared norm `rhs_norm2`), which `load` may record first.
    fn run_sweep(
        &self,
        ctx: &GpuContext,
        rhs_norm2: f64,
        rtol: f64,
        max_iterations: u32,
        load: impl FnOnce(&mut wgpu::CommandEncoder) -> Result<(), String>,
    ) -> Result<BicgState, String> {
        let init = BicgState { tol2: (rtol * rtol * rhs_norm2) as f32, max_iterations, ..Default::default() };
        ctx.write(&self.state, 0, bytemuck::bytes_of(&init));
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        load(&mut enc)?;
        for b in [&self.x, &self.p, &self.v] {
            enc.clear_buffer(b, 0, None);
        }
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            self.dispatch(ctx, &mut pass, Step::Dot2, &self.begin.0);
            self.dispatch(ctx, &mut pass, Step::Scalars, &self.begin.1);
        }
        ctx.queue.submit([enc.finish()]);
        defect::run_batches(
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
        )
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
        self.solve_or_hand_over(Source::Host(a), b, x, params)
    }

    fn takes_device_values(&self) -> bool {
        true
    }

    /// Solves with the device's own Jacobian where it is (another backend's values are read
    /// back).
    fn solve_device(
        &mut self,
        pattern: &CsrMatrix,
        values: &dyn DeviceMatrixValues,
        b: &[f64],
        x: &mut [f64],
        params: &LinearParams,
    ) -> Result<LinearInfo, LinearError> {
        match values.as_any().downcast_ref::<JacobianValues>() {
            Some(values) => self.solve_or_hand_over(Source::Device(pattern, values), b, x, params),
            None => self.solve_or_hand_over(Source::Host(&read_back(pattern, values)?), b, x, params),
        }
    }

    fn device_multigrid_updates(&self) -> Option<u64> {
        Some(self.galerkin_updates)
    }

    fn fallbacks(&self) -> Option<(u32, String)> {
        (self.handed_over > 0).then(|| (self.handed_over, self.last_reason.clone()))
    }
}
