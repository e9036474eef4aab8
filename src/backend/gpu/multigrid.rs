//! The multigrid V-cycles of [`crate::solve::amg`] and [`crate::solve::block_amg`] on the device,
//! built from the existing kernels: every step is an SpMV (`spmv`), a diagonal or block-diagonal
//! scaling (`diag_scale`, `block_scale`) or a linear combination (`lincomb3`), so no new WGSL is
//! needed.
//!
//! The hierarchy is built on the host (f64) and uploaded in f32: per level the operator A, the
//! prolongator P and restriction R as CSR, and omega D^-1 as a vector; the coarsest level's
//! inverse is uploaded as a dense CSR matrix, so the coarse solve is one SpMV. One V-cycle
//! z = M^-1 r, per level (b the level's right-hand side, x its iterate):
//!
//! ```text
//! x = (omega D^-1) b                                  diag_scale
//! repeat sweeps - 1:  t = A x; t = b - t;             spmv, lincomb3
//!                     t2 = (omega D^-1) t; x += t2     diag_scale, lincomb3
//! t = A x; t = b - t; b_c = R t                       spmv, lincomb3, spmv
//! (coarser level on b_c, x_c)
//! t = P x_c; x += t                                   spmv, lincomb3
//! repeat sweeps: as above
//! ```
//!
//! Level 0 reads the PCG residual buffer and writes the PCG `z` buffer. The cycle never reads
//! the PCG state, so it may run after convergence within a batch (it then recomputes the same z).

use std::borrow::Cow;

use super::context::{DeviceCsr, GpuContext, SpmvOp};
use super::kernels::{block_scale, diag_scale, lincomb3};
use super::layout::{slot, BlockDims, Dims, LincombSlots};
use crate::fem::CsrMatrix;
use crate::solve::amg::{dense_inverse, Hierarchy, Sparse};
use crate::solve::block_amg::BlockHierarchy;

/// Slot of -1 in the constants buffer that `lincomb3` reads its coefficients from.
const MINUS_ONE: u32 = 0;

/// The smoother's kernel: point Jacobi (`diag_scale`) or block Jacobi (`block_scale`).
#[derive(Clone, Copy)]
enum Smoother {
    Point,
    Block,
}

/// One level's device data and the bind groups of its steps.
struct DeviceLevel {
    dims: Dims,
    first: wgpu::BindGroup,
    residual_spmv: SpmvOp,
    residual_sub: wgpu::BindGroup,
    scale: wgpu::BindGroup,
    add_scaled: wgpu::BindGroup,
    restrict: SpmvOp,
    prolong: SpmvOp,
    add_prolonged: wgpu::BindGroup,
    _buffers: Vec<wgpu::Buffer>,
    _matrices: [DeviceCsr; 3],
}

/// The uploaded hierarchy of one matrix, bound to the PCG's residual and preconditioned
/// residual buffers.
pub struct DeviceHierarchy {
    levels: Vec<DeviceLevel>,
    coarse: SpmvOp,
    sweeps: usize,
    smoother: Smoother,
    _buffers: Vec<wgpu::Buffer>,
    _coarse_inverse: DeviceCsr,
}

/// What a device V-cycle is built from, for either multigrid: per level A, P, R and the
/// smoother's omega D^-1 (`block` x `block` inverse diagonal blocks, row-major per node, for the
/// transport systems), the coarsest inverse, and the sweeps. The scalar hierarchy lends its
/// matrices; the block one converts its m x m blocks to CSR for the upload.
pub struct CycleSource<'a> {
    levels: Vec<SourceLevel<'a>>,
    coarse_inverse: CsrMatrix,
    sweeps: usize,
    block: usize,
}

/// One level of a [`CycleSource`]: A, P, R and omega D^-1.
type SourceLevel<'a> = (Cow<'a, CsrMatrix>, Cow<'a, Sparse>, Cow<'a, Sparse>, Vec<f64>);

impl<'a> From<&'a Hierarchy> for CycleSource<'a> {
    fn from(h: &'a Hierarchy) -> Self {
        let levels = h
            .levels
            .iter()
            .map(|l| {
                (Cow::Borrowed(&l.a), Cow::Borrowed(&l.p), Cow::Borrowed(&l.r), l.dinv.iter().map(|v| l.omega * v).collect())
            })
            .collect();
        let coarse_inverse = dense_inverse(h.coarse.n, |e| h.coarse.solve(e));
        CycleSource { levels, coarse_inverse, sweeps: h.sweeps, block: 1 }
    }
}

impl<'a> From<&'a BlockHierarchy> for CycleSource<'a> {
    fn from(h: &'a BlockHierarchy) -> Self {
        let levels = h
            .levels()
            .map(|(a, p, r, dinv, omega)| (Cow::Owned(a), Cow::Owned(p), Cow::Owned(r), dinv.iter().map(|v| omega * v).collect()))
            .collect();
        CycleSource { levels, coarse_inverse: h.coarse_inverse(), sweeps: h.sweeps(), block: h.block() }
    }
}

impl DeviceHierarchy {
    /// Uploads `h`; `input` is the residual the cycle reads (length of the finest level) and
    /// `output` the buffer it writes z into.
    pub fn upload(ctx: &GpuContext, h: &Hierarchy, input: &wgpu::Buffer, output: &wgpu::Buffer) -> Result<Self, String> {
        Self::upload_source(ctx, CycleSource::from(h), input, output)
    }

    /// Uploads a hierarchy of either kind (see [`CycleSource`]).
    pub fn upload_source(
        ctx: &GpuContext,
        h: CycleSource<'_>,
        input: &wgpu::Buffer,
        output: &wgpu::Buffer,
    ) -> Result<Self, String> {
        let d = &ctx.device;
        let k = &ctx.kernels;
        let mut constants = [0.0f64; 12];
        constants[MINUS_ONE as usize] = -1.0; // slot 11 (status) stays 0 = RUNNING
        let constants = ctx.storage_f32("multigrid constants", &constants);
        let slots = |n: usize, a: u32, b: u32, c: u32| ctx.uniform("lincomb slots", &LincombSlots { n: n as u32, a, b, c });
        let upload = |m: &Sparse| ctx.upload_csr(&m.m);
        let coarse_n = h.coarse_inverse.n;
        // Right-hand side and iterate of every level below the finest, and of the coarsest.
        let mut level_b: Vec<wgpu::Buffer> = Vec::new();
        let mut level_x: Vec<wgpu::Buffer> = Vec::new();
        for (a, ..) in h.levels.iter().skip(1) {
            level_b.push(ctx.storage_zeroed("level b", a.n));
            level_x.push(ctx.storage_zeroed("level x", a.n));
        }
        let coarse_b = ctx.storage_zeroed("coarse b", coarse_n);
        let coarse_x = ctx.storage_zeroed("coarse x", coarse_n);
        let mut levels = Vec::new();
        for (index, (la, lp, lr, scaled_dinv)) in h.levels.iter().enumerate() {
            let n = la.n;
            let (b, x) = if index == 0 { (input, output) } else { (&level_b[index - 1], &level_x[index - 1]) };
            let (bc, xc) = if index + 1 < h.levels.len() { (&level_b[index], &level_x[index]) } else { (&coarse_b, &coarse_x) };
            let dims = Dims::for_len(n);
            let dims_buf = ctx.uniform("level dims", &dims);
            let block_dims = ctx.uniform("level block dims", &BlockDims { n: n as u32, m: h.block as u32, _pad0: 0, _pad1: 0 });
            let wdinv = ctx.storage_f32("omega dinv", scaled_dinv);
            // omega D^-1 applied to `from` into `to`: point or block Jacobi.
            let smoother = |from: &wgpu::Buffer, to: &wgpu::Buffer| match h.block {
                1 => diag_scale::bind(&k.diag_scale, d, &dims_buf, &wdinv, from, to),
                _ => block_scale::bind(&k.block_scale, d, &block_dims, &wdinv, from, to),
            };
            let t = ctx.storage_zeroed("level t", n);
            let t2 = ctx.storage_zeroed("level t2", n);
            let a = ctx.upload_csr(la)?;
            let (p, r) = (upload(lp)?, upload(lr)?);
            let sub = slots(n, MINUS_ONE, slot::ONE, slot::ZERO);
            let add = slots(n, slot::ONE, slot::ONE, slot::ZERO);
            levels.push(DeviceLevel {
                dims,
                first: smoother(b, x),
                residual_spmv: a.spmv(ctx, x, &t),
                residual_sub: lincomb3::bind(&k.lincomb3, d, &sub, &constants, b, b, &t),
                scale: smoother(&t, &t2),
                add_scaled: lincomb3::bind(&k.lincomb3, d, &add, &constants, &t2, &t2, x),
                restrict: r.spmv(ctx, &t, bc),
                prolong: p.spmv(ctx, xc, &t),
                add_prolonged: lincomb3::bind(&k.lincomb3, d, &add, &constants, &t, &t, x),
                _buffers: vec![dims_buf, block_dims, wdinv, t, t2, sub, add],
                _matrices: [a, p, r],
            });
        }
        let inverse = ctx.upload_csr(&h.coarse_inverse)?;
        let (cb, cx) = if h.levels.is_empty() { (input, output) } else { (&coarse_b, &coarse_x) };
        let coarse = inverse.spmv(ctx, cb, cx);
        let mut buffers = vec![constants, coarse_b, coarse_x];
        buffers.extend(level_b);
        buffers.extend(level_x);
        let smoother = if h.block == 1 { Smoother::Point } else { Smoother::Block };
        Ok(DeviceHierarchy { levels, coarse, sweeps: h.sweeps, smoother, _buffers: buffers, _coarse_inverse: inverse })
    }

    /// Records one V-cycle (z = M^-1 r) into `pass`.
    pub fn record(&self, ctx: &GpuContext, pass: &mut wgpu::ComputePass<'_>) {
        self.record_level(ctx, pass, 0);
    }

    fn record_level(&self, ctx: &GpuContext, pass: &mut wgpu::ComputePass<'_>, index: usize) {
        let k = &ctx.kernels;
        let Some(l) = self.levels.get(index) else {
            self.coarse.record(ctx, pass);
            return;
        };
        let smoother = match self.smoother {
            Smoother::Point => &k.diag_scale,
            Smoother::Block => &k.block_scale,
        };
        let sweep = |pass: &mut wgpu::ComputePass<'_>| {
            l.residual_spmv.record(ctx, pass);
            k.lincomb3.dispatch(pass, &l.residual_sub, &l.dims);
            smoother.dispatch(pass, &l.scale, &l.dims);
            k.lincomb3.dispatch(pass, &l.add_scaled, &l.dims);
        };
        smoother.dispatch(pass, &l.first, &l.dims);
        for _ in 1..self.sweeps {
            sweep(pass);
        }
        l.residual_spmv.record(ctx, pass);
        k.lincomb3.dispatch(pass, &l.residual_sub, &l.dims);
        l.restrict.record(ctx, pass);
        self.record_level(ctx, pass, index + 1);
        l.prolong.record(ctx, pass);
        k.lincomb3.dispatch(pass, &l.add_prolonged, &l.dims);
        for _ in 0..self.sweeps {
            sweep(pass);
        }
    }
}
