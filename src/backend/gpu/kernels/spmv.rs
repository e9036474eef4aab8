//! `shaders/spmv.wgsl`: y = A x for a CSR matrix (f32), one row per invocation. CPU twin: `CsrMatrix::spmv`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/spmv.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 6;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Rows;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    dims: &wgpu::Buffer,
    row_ptr: &wgpu::Buffer,
    col_idx: &wgpu::Buffer,
    vals: &wgpu::Buffer,
    x: &wgpu::Buffer,
    y: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, row_ptr, col_idx, vals, x, y])
}
