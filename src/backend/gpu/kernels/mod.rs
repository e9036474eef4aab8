//! One module per WGSL kernel in `shaders/`.

pub mod bicgstab_scalars;
pub mod block_scale;
pub mod diag_scale;
pub mod dot2_partial;
pub mod dot_partial;
pub mod lincomb3;
pub mod pcg_alpha;
pub mod pcg_begin;
pub mod pcg_beta;
pub mod pcg_start;
pub mod pcg_update_p;
pub mod pcg_update_xr;
pub mod spmv;
pub mod transport_jacobian;

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
    pub lincomb3: Kernel,
    pub diag_scale: Kernel,
    pub dot2_partial: Kernel,
    pub bicgstab_scalars: Kernel,
    pub block_scale: Kernel,
    pub transport_jacobian: Kernel,
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
            lincomb3: Kernel::new(device, "lincomb3", lincomb3::SOURCE, lincomb3::SHAPE),
            diag_scale: Kernel::new(device, "diag_scale", diag_scale::SOURCE, diag_scale::SHAPE),
            dot2_partial: Kernel::new(device, "dot2_partial", dot2_partial::SOURCE, dot2_partial::SHAPE),
            bicgstab_scalars: Kernel::new(device, "bicgstab_scalars", bicgstab_scalars::SOURCE, bicgstab_scalars::SHAPE),
            block_scale: Kernel::new(device, "block_scale", block_scale::SOURCE, block_scale::SHAPE),
            transport_jacobian: Kernel::new(device, "transport_jacobian", transport_jacobian::SOURCE, transport_jacobian::SHAPE),
        }
    }
}

/// (file name, source) of every kernel, for validation.
pub const ALL_SOURCES: [(&str, &str); 14] = [
    ("transport_jacobian.wgsl", transport_jacobian::SOURCE),
    ("block_scale.wgsl", block_scale::SOURCE),
    ("lincomb3.wgsl", lincomb3::SOURCE),
    ("diag_scale.wgsl", diag_scale::SOURCE),
    ("dot2_partial.wgsl", dot2_partial::SOURCE),
    ("bicgstab_scalars.wgsl", bicgstab_scalars::SOURCE),
    ("spmv.wgsl", spmv::SOURCE),
    ("dot_partial.wgsl", dot_partial::SOURCE),
    ("pcg_start.wgsl", pcg_start::SOURCE),
    ("pcg_begin.wgsl", pcg_begin::SOURCE),
    ("pcg_alpha.wgsl", pcg_alpha::SOURCE),
    ("pcg_update_xr.wgsl", pcg_update_xr::SOURCE),
    ("pcg_beta.wgsl", pcg_beta::SOURCE),
    ("pcg_update_p.wgsl", pcg_update_p::SOURCE),
];
