//! `shaders/pcg_update_xr.wgsl`: fused x += alpha p, r -= alpha Ap, z = Dinv r with partial sums of r.z and r.r. CPU twin: `cpu::kernels::pcg_update_xr`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/pcg_update_xr.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 9;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Reduce;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    dims: &wgpu::Buffer,
    state: &wgpu::Buffer,
    p: &wgpu::Buffer,
    q: &wgpu::Buffer,
    dinv: &wgpu::Buffer,
    x: &wgpu::Buffer,
    r: &wgpu::Buffer,
    z: &wgpu::Buffer,
    partials: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, state, p, q, dinv, x, r, z, partials])
}
