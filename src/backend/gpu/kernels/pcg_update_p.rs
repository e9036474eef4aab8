//! `shaders/pcg_update_p.wgsl`: p = z + beta p. CPU twin: `cpu::kernels::pcg_update_p`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/pcg_update_p.wgsl");

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
    state: &wgpu::Buffer,
    z: &wgpu::Buffer,
    p: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, state, z, p])
}
