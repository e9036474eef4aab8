// A multigrid smoother's weighted inverse diagonal blocks, out = omega * inv(A_kk), one node k
// per invocation, for node-interleaved systems with m unknowns per node (m <= 6): Gauss-Jordan
// elimination with partial pivoting (the last of equal pivots, as the host's max_by takes); a
// block with a pivot below 1e-6 of its largest entry takes the inverse of its diagonal instead
// (1 where that is 0), as the host does below 1e-14: in f32 the elimination of a singular block
// leaves pivots of about 1e-7 of its entries, not zero, so a block between the two thresholds
// (nearly singular) is inverted on the host and replaced by its diagonal here.
// CPU twin: backend::cpu::kernels::inverse_diagonal_blocks (times omega).
// Dispatch: 2D grid of ceil(nodes / 256) workgroups.

struct InverseParams {
    nodes: u32,
    m: u32,
    omega: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: InverseParams;
@group(0) @binding(1) var<storage, read> a_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> a_col: array<u32>;
@group(0) @binding(3) var<storage, read> a_val: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const MAX_M: u32 = 6u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let node = row_index(gid, nwg);
    let m = params.m;
    if (node >= params.nodes || m > MAX_M) {
        return;
    }
    var w: array<f32, 36>;
    var inv: array<f32, 36>;
    var scale = 0.0;
    for (var i = 0u; i < m; i = i + 1u) {
        let row = node * m + i;
        for (var j = 0u; j < m; j = j + 1u) {
            w[i * m + j] = 0.0;
            inv[i * m + j] = select(0.0, 1.0, i == j);
        }
        for (var k = a_ptr[row]; k < a_ptr[row + 1u]; k = k + 1u) {
            let c = a_col[k];
            if (c >= node * m && c < node * m + m) {
                w[i * m + (c - node * m)] = a_val[k];
                scale = max(scale, abs(a_val[k]));
            }
        }
    }
    var diagonal: array<f32, 6>;
    for (var i = 0u; i < m; i = i + 1u) {
        diagonal[i] = w[i * m + i];
    }
    var singular = false;
    for (var col = 0u; col < m; col = col + 1u) {
        var piv = col;
        for (var r = col + 1u; r < m; r = r + 1u) {
            if (abs(w[r * m + col]) >= abs(w[piv * m + col])) {
                piv = r;
            }
        }
        if (abs(w[piv * m + col]) <= 1e-6 * scale) {
            singular = true;
            break;
        }
        for (var j = 0u; j < m; j = j + 1u) {
            let a = w[col * m + j];
            w[col * m + j] = w[piv * m + j];
            w[piv * m + j] = a;
            let b = inv[col * m + j];
            inv[col * m + j] = inv[piv * m + j];
            inv[piv * m + j] = b;
        }
        let d = w[col * m + col];
        for (var j = 0u; j < m; j = j + 1u) {
            w[col * m + j] = w[col * m + j] / d;
            inv[col * m + j] = inv[col * m + j] / d;
        }
        for (var r = 0u; r < m; r = r + 1u) {
            if (r != col) {
                let f = w[r * m + col];
                for (var j = 0u; j < m; j = j + 1u) {
                    w[r * m + j] -= f * w[col * m + j];
                    inv[r * m + j] -= f * inv[col * m + j];
                }
            }
        }
    }
    let base = node * m * m;
    for (var i = 0u; i < m; i = i + 1u) {
        for (var j = 0u; j < m; j = j + 1u) {
            var v = inv[i * m + j];
            if (singular) {
                v = select(0.0, select(1.0, 1.0 / diagonal[i], diagonal[i] != 0.0), i == j);
            }
            out[base + i * m + j] = params.omega * v;
        }
    }
}
