// r = b - A x in f64 for a CSR matrix with f32 values, one row per invocation: the residual of
// the f64 defect correction around an f32 Krylov solve (src/backend/gpu/defect.rs) for a matrix
// that stays on the device. Needs SHADER_F64 (the kernel is compiled only where the device has it).
// CPU twin: solve::linear::residual on the f32-rounded values (src/solve/linear.rs).
// Dispatch: 2D grid of ceil(n / 256) workgroups per row block, as spmv.wgsl: each block's row_ptr
// starts at 0, dims.n is its row count and dims.row_offset its first row; columns stay global.
// Each f32 value is exact in f64, and the products and the row sum round in f64 as the host's
// residual does (up to fused multiply-adds and the order of the sum, which the host shares).

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> col_idx: array<u32>;
@group(0) @binding(3) var<storage, read> vals: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f64>;
@group(0) @binding(5) var<storage, read> b: array<f64>;
@group(0) @binding(6) var<storage, read_write> r: array<f64>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = row_index(gid, nwg);
    if (row >= dims.n) {
        return;
    }
    let global_row = dims.row_offset + row;
    var ax: f64 = f64(0.0);
    for (var k = row_ptr[row]; k < row_ptr[row + 1u]; k = k + 1u) {
        ax += f64(vals[k]) * x[col_idx[k]];
    }
    r[global_row] = b[global_row] - ax;
}
