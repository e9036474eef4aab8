//! `shaders/transport_jacobian.wgsl`: the Newton Jacobian and residual of the Nernst–Planck
//! system, one free node's block rows per invocation. Host twin:
//! `solve::transport_system` (its `evaluate_with`).
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/transport_jacobian.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 10;

/// Dispatch shape.
pub const SHAPE: Shape = Shape::Rows;

/// Bind group for this kernel.
#[allow(clippy::too_many_arguments)]
pub fn bind(
    kernel: &Kernel,
    device: &wgpu::Device,
    params: &wgpu::Buffer,
    nodes: &wgpu::Buffer,
    neighbours: &wgpu::Buffer,
    weights: &wgpu::Buffer,
    node_data: &wgpu::Buffer,
    x: &wgpu::Buffer,
    jac: &wgpu::Buffer,
    history: &wgpu::Buffer,
    residual: &wgpu::Buffer,
    block: &wgpu::Buffer,
) -> wgpu::BindGroup {
    kernel.bind(device, &[params, nodes, neighbours, weights, node_data, x, jac, history, residual, block])
}
