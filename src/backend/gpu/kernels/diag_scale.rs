//! `shaders/diag_scale.wgsl`: out = dinv * x (Jacobi preconditioner). CPU twin: `cpu::kernels::diag_scale`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/diag_scale.wgsl");

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
    dinv: &wgpu::Buffer,
    x: &wgpu::Buffer,
    out: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, dinv, x, out])
}
