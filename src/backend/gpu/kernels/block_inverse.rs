//! `shaders/block_inverse.wgsl`: omega times the inverse of each node's m x m diagonal block
//! (m <= 6), one node per invocation. CPU twin:
//! [`crate::backend::cpu::kernels::inverse_diagonal_blocks`] (times omega).
//!
//! The bind function below is the kernel's signature: its parameters are the bindings in order.

use crate::backend::gpu::kernel::{Kernel, Shape};

/// Kernel source (without the shared prelude).
pub const SOURCE: &str = include_str!("../../../../shaders/block_inverse.wgsl");

/// Bindings of group 0, in order: the buffers `bind` takes (checked against the WGSL with naga
/// in tests/shaders.rs).
pub const BINDINGS: usize = 5;

/// Dispatch shape (`Dims::n`: the nodes).
pub const SHAPE: Shape = Shape::Rows;

/// The largest block the kernel inverts.
pub const MAX_BLOCK: usize = 6;

/// Bind group for this kernel: [`crate::backend::gpu::layout::InverseParams`], the matrix as CSR
/// buffers, and the inverses it writes (m x m, row-major per node).
pub fn bind(kernel: &Kernel, device: &wgpu::Device, params: &wgpu::Buffer, a: [&wgpu::Buffer; 3], out: &wgpu::Buffer) -> wgpu::BindGroup {
    kernel.bind(device, &[params, a[0], a[1], a[2], out])
}
