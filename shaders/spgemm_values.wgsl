// The values of a sparse product C = X Y on C's fixed pattern, one entry of C per invocation:
// the device's Galerkin update of a multigrid level (A P, then R (A P)) when only the fine
// matrix's values change. CPU twin: solve::galerkin::product_values.
// Dispatch: 2D grid of ceil(entries / 256) workgroups.
//
// c_pattern holds C's row pointers (rows + 1 of them) followed by its column indices; Y's columns
// are sorted within each row. Entry q of C (row i, column j) is the sum over X's entries (i, l)
// of x_il y_lj, y_lj found by binary search in row l of Y (absent: zero), summed in a private
// variable with Kahan compensation (a coarse entry can cancel to 1e-5 of its terms) and written
// once. Observed while this kernel was written: a row-per-invocation version that accumulated
// into c_val (read-modify-write of storage, each row its own invocation's) came out 8% low on
// a coarse row of 166 entries of R on the software adapter, right up to its ~130th entry,
// where the same f32 sums on the host were exact; the cause was not found. One entry per
// invocation also gives the device thousands of times more parallel work.

struct ProductDims {
    entries: u32,
    rows: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: ProductDims;
@group(0) @binding(1) var<storage, read> x_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> x_col: array<u32>;
@group(0) @binding(3) var<storage, read> x_val: array<f32>;
@group(0) @binding(4) var<storage, read> y_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> y_col: array<u32>;
@group(0) @binding(6) var<storage, read> y_val: array<f32>;
@group(0) @binding(7) var<storage, read> c_pattern: array<u32>;
@group(0) @binding(8) var<storage, read_write> c_val: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let q = row_index(gid, nwg);
    if (q >= dims.entries) {
        return;
    }
    // The row holding entry q: the last i with c_pattern[i] <= q.
    var lo = 0u;
    var hi = dims.rows;
    while (hi - lo > 1u) {
        let mid = (lo + hi) / 2u;
        if (c_pattern[mid] <= q) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let i = lo;
    let j = c_pattern[dims.rows + 1u + q];
    var sum = 0.0;
    var compensation = 0.0;
    for (var k = x_ptr[i]; k < x_ptr[i + 1u]; k = k + 1u) {
        let l = x_col[k];
        var a = y_ptr[l];
        var b = y_ptr[l + 1u];
        while (a < b) {
            let mid = (a + b) / 2u;
            if (y_col[mid] < j) {
                a = mid + 1u;
            } else {
                b = mid;
            }
        }
        if (a < y_ptr[l + 1u] && y_col[a] == j) {
            let term = x_val[k] * y_val[a] - compensation;
            let next = sum + term;
            compensation = (next - sum) - term;
            sum = next;
        }
    }
    c_val[q] = sum;
}
