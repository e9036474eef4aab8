//! `shaders/lincomb3.wgsl`: in-place out = ca out + cb y + cc z with coefficients from BiCGStab state slots. CPU twin: `cpu::kernels::lincomb3`.
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/lincomb3.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 5;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Rows;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    slots: &wgpu::Buffer,
    state: &wgpu::Buffer,
    y: &wgpu::Buffer,
    z: &wgpu::Buffer,
    out: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[slots, state, y, z, out])
}
