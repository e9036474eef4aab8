//! GPU backend: wgpu context, one Rust module per WGSL kernel, and the resident Krylov loops
//! with f64 defect correction: Jacobi-PCG for the SPD potential systems, Jacobi-BiCGStab for
//! the nonsymmetric transport systems.

pub mod bicgstab;
pub mod context;
pub mod defect;
pub mod kernel;
pub mod kernels;
pub mod layout;
pub mod multigrid;
pub mod pcg;
pub mod resident_defect;
pub mod timing;
pub mod transport_jacobian;

pub use bicgstab::GpuBicgstab;
pub use context::{describe_adapters, GpuContext};
pub use pcg::GpuPcg;
pub use transport_jacobian::GpuJacobian;
