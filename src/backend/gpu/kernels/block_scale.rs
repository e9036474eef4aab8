//! `shaders/block_scale.wgsl`: block-Jacobi application out = B^-1 x for node-interleaved m x m blocks. CPU twin: `cpu::kernels::block_scale`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/block_scale.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 4;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Rows;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    dims: &wgpu::Buffer,
    binv: &wgpu::Buffer,
    x: &wgpu::Buffer,
    out: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, binv, x, out])
}
