//! GPU backend: wgpu context, one Rust module per WGSL kernel, and the resident
//! Jacobi-preconditioned CG loop with f64 defect correction.

pub mod context;
pub mod kernel;
pub mod kernels;
pub mod layout;
pub mod pcg;

pub use context::{describe_adapters, GpuContext};
pub use pcg::GpuPcg;
