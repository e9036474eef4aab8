//! `shaders/pcg_start.wgsl`: PCG start from x = 0 (r = b, z = Dinv b, p = z) with partial sums of r.z and r.r. CPU twin: `cpu::kernels::pcg_start`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/pcg_start.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 8;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Reduce;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    dims: &wgpu::Buffer,
    b: &wgpu::Buffer,
    dinv: &wgpu::Buffer,
    x: &wgpu::Buffer,
    r: &wgpu::Buffer,
    z: &wgpu::Buffer,
    p: &wgpu::Buffer,
    partials: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, b, dinv, x, r, z, p, partials])
}
