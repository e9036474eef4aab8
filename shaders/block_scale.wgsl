// Block-Jacobi preconditioner application for node-interleaved systems with m unknowns per node:
// out[k m + i] = sum_j binv[k m m + i m + j] x[k m + j], binv holding the inverted diagonal
// blocks. CPU twin: backend::cpu::kernels::block_scale.
// Dispatch: 2D grid of ceil(n / 256) workgroups, one row per invocation.

struct BlockDims {
    n: u32,
    m: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: BlockDims;
@group(0) @binding(1) var<storage, read> binv: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = row_index(gid, nwg);
    if (row >= dims.n) {
        return;
    }
    let m = dims.m;
    let node = row / m;
    let i = row % m;
    let base = node * m * m + i * m;
    var acc = 0.0;
    for (var j = 0u; j < m; j = j + 1u) {
        acc += binv[base + j] * x[node * m + j];
    }
    out[row] = acc;
}
