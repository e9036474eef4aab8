// The vector steps of the f64 defect correction kept on the device (src/backend/gpu/
// resident_defect.rs), around an f32 BiCGStab sweep, chosen by params.mode. Needs SHADER_F64.
//   NORM (0):        partials[g] = sum of r[i]^2 over workgroup g's grid-stride share (f64)
//   LOAD_RHS (1):    rhs[i] = f32(r[i] * scale[0])     (scale[0] = 1 / ||r||)
//   ADD (2):         x[i] += scale[1] * f64(d[i])      (scale[1] = ||r||)
// CPU twin: the host defect loop of src/backend/gpu/defect.rs (norm, r / ||r||, x += ||r|| d).
// Dispatch: params.reduce_groups workgroups in x; grid-stride over the n rows.

struct DefectParams {
    mode: u32,
    n: u32,
    reduce_groups: u32,
    _pad: u32,
}

const MODE_NORM: u32 = 0u;
const MODE_LOAD_RHS: u32 = 1u;
const MODE_ADD: u32 = 2u;

@group(0) @binding(0) var<uniform> params: DefectParams;
@group(0) @binding(1) var<storage, read> scale: array<f64, 2>;
@group(0) @binding(2) var<storage, read> r: array<f64>;
@group(0) @binding(3) var<storage, read> d: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f64>;
@group(0) @binding(5) var<storage, read_write> rhs: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f64>;

var<workgroup> sums: array<f64, 256>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) t: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
    let stride = params.reduce_groups * WG;
    if (params.mode == MODE_LOAD_RHS) {
        for (var i = gid.x; i < params.n; i = i + stride) {
            rhs[i] = f32(r[i] * scale[0]);
        }
        return;
    }
    if (params.mode == MODE_ADD) {
        for (var i = gid.x; i < params.n; i = i + stride) {
            x[i] = x[i] + scale[1] * f64(d[i]);
        }
        return;
    }
    var sum: f64 = f64(0.0);
    for (var i = gid.x; i < params.n; i = i + stride) {
        sum += r[i] * r[i];
    }
    sums[t] = sum;
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        workgroupBarrier();
        if (t < s) {
            sums[t] += sums[t + s];
        }
    }
    if (t == 0u) {
        partials[wid.x] = sums[0];
    }
}
