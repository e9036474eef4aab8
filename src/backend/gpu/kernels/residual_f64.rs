//! `shaders/residual_f64.wgsl`: r = b - A x in f64 for a CSR matrix with f32 values, one row per
//! invocation (needs SHADER_F64). CPU twin: `solve::linear::residual` on the f32-rounded values.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/residual_f64.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 7;

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
    b: &wgpu::Buffer,
    r: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[dims, row_ptr, col_idx, vals, x, b, r])
}
