//! `shaders/pcg_beta.wgsl`: finishes an iteration: convergence, iteration cap, finiteness, beta.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/pcg_beta.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 3;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Single;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    dims: &wgpu::Buffer,
    partials: &wgpu::Buffer,
    state: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, partials, state])
}
