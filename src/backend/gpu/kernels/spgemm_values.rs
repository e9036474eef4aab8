//! `shaders/spgemm_values.wgsl`: the values of C = X Y on C's fixed pattern (f32), one entry of
//! C per invocation. CPU twin: [`crate::solve::galerkin::product_values`].
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/spgemm_values.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 9;

/// Dispatch shape (`Dims::n`: the entries of C).
pub const SHAPE: Shape = Shape::Rows;

/// Bind group for this kernel: [`crate::backend::gpu::layout::ProductDims`], X and Y as CSR
/// buffers, C's pattern (row pointers, then columns) and the values it writes.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    dims: &wgpu::Buffer,
    x: [&wgpu::Buffer; 3],
    y: [&wgpu::Buffer; 3],
    c_pattern: &wgpu::Buffer,
    c_val: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, x[0], x[1], x[2], y[0], y[1], y[2], c_pattern, c_val])
}
