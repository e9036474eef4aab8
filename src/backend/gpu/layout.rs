//! Host mirrors of the structs in `shaders/shared/common.wgsl`.
//! Keep in sync with that file: same fields, same order, all 4-byte scalars.

use bytemuck::{Pod, Zeroable};

/// Workgroup size of every kernel (`WG` in WGSL).
pub const WORKGROUP: u32 = 256;

/// `Dims` in WGSL: vector length (rows of a kernel's dispatch), the workgroup count of reduction
/// kernels, and the first row of a row block (SpMV of a matrix split across bindings; else 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct Dims {
    pub n: u32,
    pub reduce_groups: u32,
    pub row_offset: u32,
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

/// `BicgState` in WGSL: the scalars of the BiCGStab loop. Slot indices (for `LincombSlots`) are
/// the field positions.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, Default)]
pub struct BicgState {
    pub rho: f32,
    pub alpha: f32,
    pub omega: f32,
    pub beta: f32,
    pub neg_alpha: f32,
    pub neg_omega: f32,
    pub neg_beta_omega: f32,
    pub rr: f32,
    pub tol2: f32,
    pub iterations: u32,
    pub max_iterations: u32,
    pub status: u32,
}

impl BicgState {
    /// The scalars a breakdown message shows.
    pub fn describe(&self) -> String {
        format!("rho = {}, omega = {}, r.r = {}", self.rho, self.omega, self.rr)
    }
}

/// Slots of `BicgState` fields and the two constants of `lincomb3.wgsl`.
pub mod slot {
    pub const ALPHA: u32 = 1;
    pub const OMEGA: u32 = 2;
    pub const BETA: u32 = 3;
    pub const NEG_ALPHA: u32 = 4;
    pub const NEG_OMEGA: u32 = 5;
    pub const NEG_BETA_OMEGA: u32 = 6;
    pub const ONE: u32 = 100;
    pub const ZERO: u32 = 101;
}

/// `LincombSlots` in WGSL: vector length and the slots weighting out, y and z.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct LincombSlots {
    pub n: u32,
    pub a: u32,
    pub b: u32,
    pub c: u32,
}

/// `Mode` in `bicgstab_scalars.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct BicgMode {
    pub mode: u32,
    pub reduce_groups: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// Modes of `bicgstab_scalars.wgsl`.
pub mod bicg_mode {
    pub const BEGIN: u32 = 0;
    pub const ALPHA: u32 = 1;
    pub const OMEGA: u32 = 2;
    pub const END: u32 = 3;
}

/// `BlockDims` in `block_scale.wgsl`: rows and unknowns per node.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct BlockDims {
    pub n: u32,
    pub m: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// `DefectParams` in `defect_f64.wgsl`: which step (`defect_mode`), rows and workgroups.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct DefectParams {
    pub mode: u32,
    pub n: u32,
    pub reduce_groups: u32,
    pub _pad: u32,
}

/// The steps of `defect_f64.wgsl` (`MODE_*` there).
pub mod defect_mode {
    /// Partial sums of r . r.
    pub const NORM: u32 = 0;
    /// rhs = f32(r / ||r||).
    pub const LOAD_RHS: u32 = 1;
    /// x += ||r|| d.
    pub const ADD: u32 = 2;
}

/// `ProductDims` in `spgemm_values.wgsl`: the product's entries (invocations) and rows.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct ProductDims {
    pub entries: u32,
    pub rows: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// `InverseParams` in `block_inverse.wgsl`: nodes, unknowns per node and the smoother's weight.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct InverseParams {
    pub nodes: u32,
    pub m: u32,
    pub omega: f32,
    pub _pad0: u32,
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
const _: () = assert!(std::mem::size_of::<BicgState>() == 48);
const _: () = assert!(std::mem::size_of::<LincombSlots>() == 16);
const _: () = assert!(std::mem::size_of::<BicgMode>() == 16);

impl Dims {
    /// Dimensions for vectors of length `n`: reductions use up to 256 workgroups.
    pub fn for_len(n: usize) -> Self {
        let groups = (n as u32).div_ceil(WORKGROUP).clamp(1, WORKGROUP);
        Dims { n: n as u32, reduce_groups: groups, row_offset: 0, _pad1: 0 }
    }
}
