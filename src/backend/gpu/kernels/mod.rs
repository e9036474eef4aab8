//! One module per WGSL kernel in `shaders/`.

pub mod dot_partial;
pub mod pcg_alpha;
pub mod pcg_begin;
pub mod pcg_beta;
pub mod pcg_start;
pub mod pcg_update_p;
pub mod pcg_update_xr;
pub mod spmv;

use super::kernel::Kernel;

/// Every compiled kernel, created once per device.
pub struct Kernels {
    pub spmv: Kernel,
    pub dot_partial: Kernel,
    pub pcg_start: Kernel,
    pub pcg_begin: Kernel,
    pub pcg_alpha: Kernel,
    pub pcg_update_xr: Kernel,
    pub pcg_beta: Kernel,
    pub pcg_update_p: Kernel,
}

impl Kernels {
    /// Compiles all kernels.
    pub fn build(device: &wgpu::Device) -> Self {
        Kernels {
            spmv: Kernel::new(device, "spmv", spmv::SOURCE, spmv::SHAPE),
            dot_partial: Kernel::new(device, "dot_partial", dot_partial::SOURCE, dot_partial::SHAPE),
            pcg_start: Kernel::new(device, "pcg_start", pcg_start::SOURCE, pcg_start::SHAPE),
            pcg_begin: Kernel::new(device, "pcg_begin", pcg_begin::SOURCE, pcg_begin::SHAPE),
            pcg_alpha: Kernel::new(device, "pcg_alpha", pcg_alpha::SOURCE, pcg_alpha::SHAPE),
            pcg_update_xr: Kernel::new(device, "pcg_update_xr", pcg_update_xr::SOURCE, pcg_update_xr::SHAPE),
            pcg_beta: Kernel::new(device, "pcg_beta", pcg_beta::SOURCE, pcg_beta::SHAPE),
            pcg_update_p: Kernel::new(device, "pcg_update_p", pcg_update_p::SOURCE, pcg_update_p::SHAPE),
        }
    }
}

/// (file name, source) of every kernel, for validation.
pub const ALL_SOURCES: [(&str, &str); 8] = [
    ("spmv.wgsl", spmv::SOURCE),
    ("dot_partial.wgsl", dot_partial::SOURCE),
    ("pcg_start.wgsl", pcg_start::SOURCE),
    ("pcg_begin.wgsl", pcg_begin::SOURCE),
    ("pcg_alpha.wgsl", pcg_alpha::SOURCE),
    ("pcg_update_xr.wgsl", pcg_update_xr::SOURCE),
    ("pcg_beta.wgsl", pcg_beta::SOURCE),
    ("pcg_update_p.wgsl", pcg_update_p::SOURCE),
];
