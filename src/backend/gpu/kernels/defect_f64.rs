//! `shaders/defect_f64.wgsl`: the vector steps of the f64 defect correction kept on the device
//! (the f64 norm's partial sums, the f32 right-hand side r / ||r||, x += ||r|| d), chosen by the
//! mode in `DefectParams` (needs SHADER_F64). CPU twin: the host loop of `backend::gpu::defect`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/defect_f64.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 7;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Reduce;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    params: &wgpu::Buffer,
    scale: &wgpu::Buffer,
    r: &wgpu::Buffer,
    d: &wgpu::Buffer,
    x: &wgpu::Buffer,
    rhs: &wgpu::Buffer,
    partials: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[params, scale, r, d, x, rhs, partials])
}
