//! CPU backend: f64 reference kernels (rayon) and the Jacobi-preconditioned CG built on them.
//! Each kernel in [`kernels`] is the twin of a WGSL kernel in `shaders/`.

pub mod band_lu;
pub mod gmres;
pub mod ilu;
pub mod kernels;
pub mod pcg;

pub use gmres::CpuGmres;
pub use pcg::CpuPcg;
