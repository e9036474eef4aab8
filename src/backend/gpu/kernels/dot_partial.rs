//! `shaders/dot_partial.wgsl`: per-workgroup partial sums of a . b. CPU twin: `cpu::kernels::dot`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/dot_partial.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 4;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Reduce;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    dims: &wgpu::Buffer,
    a: &wgpu::Buffer,
    b: &wgpu::Buffer,
    partials: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, a, b, partials])
}
