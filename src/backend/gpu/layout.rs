//! Host mirrors of the structs in `shaders/shared/common.wgsl`.
//! Keep in sync with that file: same fields, same order, all 4-byte scalars.

use bytemuck::{Pod, Zeroable};

/// Workgroup size of every kernel (`WG` in WGSL).
pub const WORKGROUP: u32 = 256;

/// `Dims` in WGSL: vector length and the workgroup count of reduction kernels.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct Dims {
    pub n: u32,
    pub reduce_groups: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// `PcgState` in WGSL: the scalars of the conjugate-gradient loop, resident on the device.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, Default)]
pub struct PcgState {
    pub rz: f32,
    pub pq: f32,
    pub alpha: f32,
    pub beta: f32,
    pub rr: f32,
    pub tol2: f32,
    pub iterations: u32,
    pub max_iterations: u32,
    pub status: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

/// `STATUS_*` constants in WGSL.
pub mod status {
    pub const RUNNING: u32 = 0;
    pub const CONVERGED: u32 = 1;
    pub const BREAKDOWN: u32 = 2;
    pub const MAX_ITERATIONS: u32 = 3;
}

const _: () = assert!(std::mem::size_of::<Dims>() == 16);
const _: () = assert!(std::mem::size_of::<PcgState>() == 48);

impl Dims {
    /// Dimensions for vectors of length `n`: reductions use up to 256 workgroups.
    pub fn for_len(n: usize) -> Self {
        let groups = (n as u32).div_ceil(WORKGROUP).clamp(1, WORKGROUP);
        Dims { n: n as u32, reduce_groups: groups, _pad0: 0, _pad1: 0 }
    }
}
