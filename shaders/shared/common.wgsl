// Shared declarations prepended to every kernel in shaders/ (the Rust side concatenates this file
// with the kernel's file; WGSL has no include).
//
// Keep in sync with src/backend/gpu/layout.rs: `Dims` and `PcgState` there mirror the structs
// below field by field (all 4-byte scalars, 16-byte multiples, no vec3 padding traps).

struct Dims {
    // Vector length (matrix rows; the rows of a row block for spmv).
    n: u32,
    // Workgroups used by grid-stride reduction kernels (<= WG).
    reduce_groups: u32,
    // First row of a row block (spmv of a matrix split across bindings); 0 otherwise.
    row_offset: u32,
    _pad1: u32,
}

struct PcgState {
    rz: f32,              // r . z of the current iterate
    pq: f32,              // p . A p
    alpha: f32,
    beta: f32,
    rr: f32,              // r . r of the current iterate
    tol2: f32,            // converged when rr <= tol2
    iterations: u32,
    max_iterations: u32,
    status: u32,          // STATUS_* below
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// Scalars of the BiCGStab loop, resident on the device (mirrors BicgState in layout.rs).
struct BicgState {
    rho: f32,             // r_hat . r of the current iterate
    alpha: f32,
    omega: f32,
    beta: f32,
    neg_alpha: f32,
    neg_omega: f32,
    neg_beta_omega: f32,
    rr: f32,              // r . r of the current iterate
    tol2: f32,            // converged when rr <= tol2
    iterations: u32,
    max_iterations: u32,
    status: u32,          // STATUS_* below
}

// Which state scalars weight the three vectors of a lincomb3 dispatch (mirrors LincombSlots).
struct LincombSlots {
    n: u32,
    a: u32,               // slot index into the state read as an array of f32; ONE = constant 1
    b: u32,
    c: u32,
}

const WG: u32 = 256u;
const STATUS_RUNNING: u32 = 0u;
const STATUS_CONVERGED: u32 = 1u;
const STATUS_BREAKDOWN: u32 = 2u;
const STATUS_MAX_ITERATIONS: u32 = 3u;

// Row handled by this invocation in a 2D dispatch of ceil(n / WG) workgroups.
fn row_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

// True for finite f32 values (false for NaN and +-inf).
fn is_finite(v: f32) -> bool {
    return v == v && abs(v) <= 3.4028234e38;
}

var<workgroup> scratch_a: array<f32, 256>;
var<workgroup> scratch_b: array<f32, 256>;

// Tree reduction of scratch_a and scratch_b over the workgroup; the sums land in element 0.
// Must be called in uniform control flow by the whole workgroup.
fn workgroup_sum_pair(t: u32) {
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        workgroupBarrier();
        if (t < s) {
            scratch_a[t] += scratch_a[t + s];
            scratch_b[t] += scratch_b[t + s];
        }
    }
    workgroupBarrier();
}

