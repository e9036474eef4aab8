// y = A x for a CSR matrix, one row per invocation.
// CPU twin: CsrMatrix::spmv (src/fem/csr.rs). Dispatch: 2D grid of ceil(n / 256) workgroups.
// A matrix too large for one binding is split into row blocks (DeviceCsr in context.rs): each
// block's row_ptr starts at 0, dims.n is its row count and dims.row_offset its first row of y;
// columns (and x) stay global.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> row_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> col_idx: array<u32>;
@group(0) @binding(3) var<storage, read> vals: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = row_index(gid, nwg);
    if (row >= dims.n) {
        return;
    }
    var sum = 0.0;
    for (var k = row_ptr[row]; k < row_ptr[row + 1u]; k = k + 1u) {
        sum += vals[k] * x[col_idx[k]];
    }
    y[dims.row_offset + row] = sum;
}
