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
use super::kernels::{block_inverse, block_scale, diag_scale, lincomb3, spgemm_values};
use super::layout::{slot, BlockDims, Dims, InverseParams, LincombSlots, ProductDims};
use crate::fem::CsrMatrix;
use crate::solve::amg::{dense_inverse, Hierarchy, Sparse};
use crate::solve::block_amg::BlockHierarchy;
use crate::solve::galerkin::product_pattern;

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
    /// omega D^-1 (the smoother's inverse diagonal blocks, rewritten by a [`Refresh`]).
    wdinv: wgpu::Buffer,
    _buffers: Vec<wgpu::Buffer>,
    /// A, P and R.
    matrices: [DeviceCsr; 3],
}

/// The uploaded hierarchy of one matrix, bound to the PCG's residual and preconditioned
/// residual buffers.
pub struct DeviceHierarchy {
    levels: Vec<DeviceLevel>,
    coarse: SpmvOp,
    sweeps: usize,
    smoother: Smoother,
    /// Unknowns per node (1: the scalar hierarchy).
    block: usize,
    /// The Galerkin update from new fine values (node-block hierarchies): None until the first
    /// update asks for it (made up front, its buffers added 15 MB to the steady tertiary
    /// hemisphere's 60 MB of uploads, which never used them), then Some(None) where
    /// the device cannot run it.
    refresh: Option<Option<Refresh>>,
    _buffers: Vec<wgpu::Buffer>,
    _coarse_inverse: DeviceCsr,
}

/// The device's Galerkin update of a node-block hierarchy whose fine matrix took new values
/// (later Newton iterations and time steps of one pattern): with P and R kept from the setup
/// ([`crate::solve::galerkin`]), per level the smoother's `omega D^-1` from the level's operator
/// (`block_inverse`) and the next level's operator `R (A P)` (`spgemm_values`, twice). The
/// coarsest level's inverse stays as set up: it would need a factorisation, and it is small.
struct Refresh {
    /// The dispatches in order: (kernel, bind group, dims).
    ops: Vec<(RefreshKernel, wgpu::BindGroup, Dims)>,
    _buffers: Vec<wgpu::Buffer>,
}

#[derive(Clone, Copy)]
enum RefreshKernel {
    Inverse,
    Product,
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
                wdinv,
                _buffers: vec![dims_buf, block_dims, t, t2, sub, add],
                matrices: [a, p, r],
            });
        }
        let inverse = ctx.upload_csr(&h.coarse_inverse)?;
        let (cb, cx) = if h.levels.is_empty() { (input, output) } else { (&coarse_b, &coarse_x) };
        let coarse = inverse.spmv(ctx, cb, cx);
        let mut buffers = vec![constants, coarse_b, coarse_x];
        buffers.extend(level_b);
        buffers.extend(level_x);
        let smoother = if h.block == 1 { Smoother::Point } else { Smoother::Block };
        Ok(DeviceHierarchy {
            levels,
            coarse,
            sweeps: h.sweeps,
            smoother,
            block: h.block,
            refresh: None,
            _buffers: buffers,
            _coarse_inverse: inverse,
        })
    }

    /// Writes `fine` (the finest operator with new values, in its scalar pattern: the node
    /// blocks expanded, [`crate::solve::block_amg::expanded`]) and recomputes the coarser levels'
    /// operators and every smoother's inverse blocks on the device; `host` is the hierarchy it was
    /// uploaded from (its patterns are read on the first update). False (nothing
    /// written) where the hierarchy has no device update (a scalar hierarchy, blocks larger than
    /// [`block_inverse::MAX_BLOCK`], a matrix or product over one storage binding, `host` not of
    /// the uploaded sizes) or `fine` is not of the finest level's size and entry count.
    ///
    /// Precision: the products are summed in f32 with compensation, the intermediate `A P` is
    /// stored in f32 (the host's setup forms them in f64 and rounds once), and omega stays the
    /// setup's spectral estimate; the coarsest level's dense inverse stays as set up.
    pub fn refresh(&mut self, ctx: &GpuContext, fine: &CsrMatrix, host: &BlockHierarchy) -> Result<bool, String> {
        self.refresh_with(
            ctx,
            (fine.n, fine.nnz()),
            |a| {
                a.write_values(ctx, fine);
                Ok(())
            },
            host,
        )
    }

    /// As [`DeviceHierarchy::refresh`], with the finest level's values (`size`: rows and
    /// entries) written by `write_fine` (from the host, or copied on the device).
    pub fn refresh_with(
        &mut self,
        ctx: &GpuContext,
        size: (usize, usize),
        write_fine: impl FnOnce(&DeviceCsr) -> Result<(), String>,
        host: &BlockHierarchy,
    ) -> Result<bool, String> {
        if self.refresh.is_none() {
            self.refresh = Some(Refresh::new(ctx, host, &self.levels));
        }
        let (Some(Some(refresh)), Some(level)) = (&self.refresh, self.levels.first()) else { return Ok(false) };
        let a = &level.matrices[0];
        if a.blocks.iter().map(|b| b.entries.len()).sum::<usize>() != size.1 || level.dims.n as usize != size.0 {
            return Ok(false);
        }
        write_fine(a)?;
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            for (kernel, group, dims) in &refresh.ops {
                match kernel {
                    RefreshKernel::Inverse => ctx.kernels.block_inverse.dispatch(&mut pass, group, dims),
                    RefreshKernel::Product => ctx.kernels.spgemm_values.dispatch(&mut pass, group, dims),
                }
            }
        }
        ctx.queue.submit([encoder.finish()]);
        Ok(true)
    }

    /// Whether [`DeviceHierarchy::refresh`] may update this hierarchy (not yet tried, or possible).
    pub fn may_refresh(&self) -> bool {
        !matches!(self.refresh, Some(None))
    }

    /// The operator of level `index` (0: the finest) as the device holds it (tests).
    pub fn level_operator(&self, ctx: &GpuContext, index: usize) -> Result<Vec<f64>, String> {
        let a = &self.levels.get(index).ok_or("no such level")?.matrices[0];
        let mut values = Vec::new();
        for b in &a.blocks {
            values.extend(ctx.read_f32(&b.values, b.entries.len())?);
        }
        Ok(values)
    }

    /// The smoother's omega D^-1 of level `index` as the device holds it (tests).
    pub fn level_smoother(&self, ctx: &GpuContext, index: usize) -> Result<Vec<f64>, String> {
        let level = self.levels.get(index).ok_or("no such level")?;
        ctx.read_f32(&level.wdinv, level.dims.n as usize * self.block)
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

impl Refresh {
    /// The update's dispatches for `h` as uploaded into `levels`; None where the device cannot
    /// run it (see [`DeviceHierarchy::refresh`]).
    fn new(ctx: &GpuContext, h: &BlockHierarchy, levels: &[DeviceLevel]) -> Option<Refresh> {
        let single = |m: &DeviceCsr| m.blocks.len() == 1;
        let block = h.block();
        if block < 2 || block > block_inverse::MAX_BLOCK || !levels.iter().all(|l| l.matrices.iter().all(single)) {
            return None;
        }
        let host: Vec<_> = h.levels().collect();
        let entries = |m: &DeviceCsr| m.blocks.iter().map(|b| b.entries.len()).sum::<usize>();
        let same = host.len() == levels.len()
            && host.iter().zip(levels).all(|((a, p, r, ..), l)| {
                a.n == l.dims.n as usize && [a.nnz(), p.m.nnz(), r.m.nnz()] == l.matrices.each_ref().map(entries)
            });
        if !same {
            return None;
        }
        let (d, k) = (&ctx.device, &ctx.kernels);
        let csr = |m: &DeviceCsr| {
            let b = &m.blocks[0];
            [b.row_ptr.clone(), b.col_idx.clone(), b.values.clone()]
        };
        let (mut ops, mut buffers) = (Vec::new(), Vec::new());
        for (index, ((la, lp, lr, _, omega), level)) in host.iter().zip(levels).enumerate() {
            let [a, p, r] = level.matrices.each_ref().map(csr);
            let nodes = la.n / block;
            let params = InverseParams { nodes: nodes as u32, m: block as u32, omega: *omega as f32, _pad0: 0 };
            let params = ctx.uniform("inverse params", &params);
            let group = block_inverse::bind(&k.block_inverse, d, &params, a.each_ref(), &level.wdinv);
            ops.push((RefreshKernel::Inverse, group, Dims::for_len(nodes)));
            buffers.push(params);
            // The coarsest operator (a dense inverse) stays as set up.
            let (Some((next_a, ..)), Some(next)) = (host.get(index + 1), levels.get(index + 1)) else { continue };
            let ap = product_pattern(la, &lp.m, lp.cols);
            // Every new binding within the adapter's limit, and none empty.
            let words = [ap.col_idx.len(), ap.row_ptr.len() + ap.col_idx.len(), next_a.row_ptr.len() + next_a.nnz()];
            if ap.col_idx.is_empty() || next_a.nnz() == 0 || words.iter().any(|&w| 4 * w as u64 > ctx.binding_limit()) {
                return None;
            }
            let ap_csr = [ctx.storage_u32("AP rows", &ap.row_ptr), ctx.storage_u32("AP columns", &ap.col_idx)];
            let ap_values = ctx.storage_zeroed("AP values", ap.col_idx.len());
            let ap_pattern = ctx.storage_u32("AP pattern", &ap.packed());
            let next_pattern =
                ctx.storage_u32("level pattern", &next_a.row_ptr.iter().chain(&next_a.col_idx).copied().collect::<Vec<_>>());
            let product_dims = |entries: usize, rows: usize| {
                let dims = ProductDims { entries: entries as u32, rows: rows as u32, _pad0: 0, _pad1: 0 };
                (Dims::for_len(entries), ctx.uniform("product dims", &dims))
            };
            let (ap_dims, ap_dims_buf) = product_dims(ap.col_idx.len(), la.n);
            let (next_dims, next_dims_buf) = product_dims(next_a.nnz(), lr.m.n);
            let group =
                spgemm_values::bind(&k.spgemm_values, d, &ap_dims_buf, a.each_ref(), p.each_ref(), &ap_pattern, &ap_values);
            ops.push((RefreshKernel::Product, group, ap_dims));
            let y = [&ap_csr[0], &ap_csr[1], &ap_values];
            let target = &next.matrices[0].blocks[0].values;
            let group = spgemm_values::bind(&k.spgemm_values, d, &next_dims_buf, r.each_ref(), y, &next_pattern, target);
            ops.push((RefreshKernel::Product, group, next_dims));
            let [ap_rows, ap_cols] = ap_csr;
            buffers.extend([ap_rows, ap_cols, ap_values, ap_pattern, next_pattern, ap_dims_buf, next_dims_buf]);
        }
        Some(Refresh { ops, _buffers: buffers })
    }
}
