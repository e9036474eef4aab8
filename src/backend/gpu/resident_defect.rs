//! The f64 defect correction of a system whose matrix stays on the device (the transport
//! Jacobian the device assembled): the f64 iterate x, the right-hand side b and the residual
//! r = b - A x live on the device (`shaders/residual_f64.wgsl`), and so do the steps between
//! the f32 sweeps (`shaders/defect_f64.wgsl`: the f64 norm's partial sums, the sweep's
//! right-hand side r / ||r||, x += ||r|| d). Per solve the host writes b and the initial x and
//! reads x back (8 bytes an unknown each); per sweep it reads the norm's partial sums and writes
//! two scalars. Needs SHADER_F64; without it the caller takes the host's loop
//! ([`super::defect::solve`]), which reads the matrix back.

use super::context::{DeviceCsr, GpuContext};
use super::defect::{DefectIterate, SweepOutcome};
use super::kernels::{defect_f64, residual_f64};
use super::layout::{defect_mode, DefectParams, Dims};
use crate::solve::linear::LinearError;

/// The device buffers and bind groups of one system's f64 defect loop.
pub struct ResidentDefect {
    n: usize,
    dims: Dims,
    x: wgpu::Buffer,
    b: wgpu::Buffer,
    r: wgpu::Buffer,
    /// 1 / ||r|| and ||r||, written before each sweep.
    scale: wgpu::Buffer,
    partials: wgpu::Buffer,
    residual: Vec<(wgpu::BindGroup, Dims)>,
    norm: wgpu::BindGroup,
    load_rhs: wgpu::BindGroup,
    add: wgpu::BindGroup,
}

impl ResidentDefect {
    /// The loop for the matrix `csr` (n rows) around a sweep that solves from its right-hand
    /// side buffer `rhs` into `correction` (f32); None where the device has no f64 kernels or
    /// an f64 vector would exceed a storage binding.
    pub fn new(ctx: &GpuContext, csr: &DeviceCsr, n: usize, rhs: &wgpu::Buffer, correction: &wgpu::Buffer) -> Option<Self> {
        let (residual_kernel, defect_kernel) = (ctx.kernels.residual_f64.as_ref()?, ctx.kernels.defect_f64.as_ref()?);
        ctx.fits("f64 vector", 8 * n as u64).ok()?;
        let dims = Dims::for_len(n);
        let [x, b, r] = ["x (f64)", "b (f64)", "r (f64)"].map(|label| ctx.storage_zeroed(label, 2 * n));
        let scale = ctx.storage_zeroed("defect scale (f64)", 4);
        let partials = ctx.storage_zeroed("norm partials (f64)", 2 * dims.reduce_groups as usize);
        let residual = csr
            .blocks
            .iter()
            .map(|blk| {
                let group = residual_f64::bind(
                    residual_kernel,
                    &ctx.device,
                    &blk.dims_buf,
                    &blk.row_ptr,
                    &blk.col_idx,
                    &blk.values,
                    &x,
                    &b,
                    &r,
                );
                (group, blk.dims)
            })
            .collect();
        let step = |mode: u32| {
            let params = DefectParams { mode, n: n as u32, reduce_groups: dims.reduce_groups, _pad: 0 };
            let params = ctx.uniform("defect params", &params);
            defect_f64::bind(defect_kernel, &ctx.device, &params, &scale, &r, correction, &x, rhs, &partials)
        };
        let (norm, load_rhs, add) = (step(defect_mode::NORM), step(defect_mode::LOAD_RHS), step(defect_mode::ADD));
        Some(ResidentDefect { n, dims, x, b, r, scale, partials, residual, norm, load_rhs, add })
    }

    /// Uploads the right-hand side and the initial iterate.
    pub fn start(&self, ctx: &GpuContext, b: &[f64], x: &[f64]) {
        assert_eq!((b.len(), x.len()), (self.n, self.n), "vectors of {} and {} for {} rows", b.len(), x.len(), self.n);
        ctx.write(&self.b, 0, bytemuck::cast_slice(b));
        ctx.write(&self.x, 0, bytemuck::cast_slice(x));
    }

    /// r = b - A x and ||r||: the residual on the device, the norm's partial sums read back.
    pub fn residual_norm(&self, ctx: &GpuContext) -> Result<f64, String> {
        let (residual_kernel, defect_kernel) = self.kernels(ctx)?;
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            for (group, dims) in &self.residual {
                residual_kernel.dispatch(&mut pass, group, dims);
            }
            defect_kernel.dispatch(&mut pass, &self.norm, &self.dims);
        }
        ctx.queue.submit([enc.finish()]);
        let bytes = ctx.read_bytes(&self.partials, 8 * u64::from(self.dims.reduce_groups))?;
        let sum: f64 = bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).sum();
        Ok(sum.sqrt())
    }

    /// Sets the scales of the next sweep's right-hand side (1 / `rnorm`) and update (`rnorm`).
    pub fn set_scale(&self, ctx: &GpuContext, rnorm: f64) {
        ctx.write(&self.scale, 0, bytemuck::cast_slice(&[1.0 / rnorm, rnorm]));
    }

    /// Records rhs = f32(r / ||r||) (the scale set by [`ResidentDefect::set_scale`]).
    pub fn record_load_rhs(&self, ctx: &GpuContext, pass: &mut wgpu::ComputePass<'_>) -> Result<(), String> {
        let (_, defect_kernel) = self.kernels(ctx)?;
        defect_kernel.dispatch(pass, &self.load_rhs, &self.dims);
        Ok(())
    }

    /// x += ||r|| d, d the sweep's correction.
    pub fn add_correction(&self, ctx: &GpuContext) -> Result<(), String> {
        let (_, defect_kernel) = self.kernels(ctx)?;
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            defect_kernel.dispatch(&mut pass, &self.add, &self.dims);
        }
        ctx.queue.submit([enc.finish()]);
        Ok(())
    }

    /// Reads r back (as of the last [`ResidentDefect::residual_norm`]; tests).
    pub fn residual(&self, ctx: &GpuContext) -> Result<Vec<f64>, String> {
        let bytes = ctx.read_bytes(&self.r, 8 * self.n as u64)?;
        Ok(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
    }

    /// Reads the iterate back.
    pub fn read_x(&self, ctx: &GpuContext, x: &mut [f64]) -> Result<(), String> {
        let bytes = ctx.read_bytes(&self.x, 8 * self.n as u64)?;
        for (xi, c) in x.iter_mut().zip(bytes.chunks_exact(8)) {
            *xi = f64::from_le_bytes(c.try_into().expect("8 bytes"));
        }
        Ok(())
    }

    fn kernels<'c>(&self, ctx: &'c GpuContext) -> Result<(&'c super::kernel::Kernel, &'c super::kernel::Kernel), String> {
        match (&ctx.kernels.residual_f64, &ctx.kernels.defect_f64) {
            (Some(r), Some(d)) => Ok((r, d)),
            _ => Err("the device has no f64 kernels".into()),
        }
    }
}

/// The defect loop's iterate on the device: `sweep(rtol, max_iterations)` runs one f32 solve
/// from the right-hand side [`ResidentDefect::record_load_rhs`] leaves (it records that step
/// first) into the correction.
pub struct DeviceIterate<'a, F> {
    pub ctx: &'a GpuContext,
    pub defect: &'a ResidentDefect,
    pub sweep: F,
}

impl<F: FnMut(f64, u32) -> Result<SweepOutcome, String>> DefectIterate for DeviceIterate<'_, F> {
    fn residual(&mut self) -> Result<f64, String> {
        self.defect.residual_norm(self.ctx)
    }

    fn correct(&mut self, rnorm: f64, rtol: f64, max_iterations: u32) -> Result<SweepOutcome, LinearError> {
        self.defect.set_scale(self.ctx, rnorm);
        let outcome = (self.sweep)(rtol, max_iterations).map_err(LinearError::Device)?;
        self.defect.add_correction(self.ctx).map_err(LinearError::Device)?;
        Ok(outcome)
    }
}
