// Fused PCG update: x += alpha p, r -= alpha q (q = A p), z = Dinv r; pair partials of
// (r . z, r . r). CPU twin: backend::cpu::kernels::pcg_update_xr.
// Dispatch: dims.reduce_groups workgroups, grid-stride. Vectors untouched unless RUNNING.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> state: PcgState;
@group(0) @binding(2) var<storage, read> p: array<f32>;
@group(0) @binding(3) var<storage, read> q: array<f32>;
@group(0) @binding(4) var<storage, read> dinv: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> r: array<f32>;
@group(0) @binding(7) var<storage, read_write> z: array<f32>;
@group(0) @binding(8) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) t: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
    let running = state.status == STATUS_RUNNING;
    let alpha = state.alpha;
    var rz = 0.0;
    var rr = 0.0;
    for (var i = gid.x; i < dims.n; i = i + dims.reduce_groups * WG) {
        var ri = r[i];
        if (running) {
            x[i] = x[i] + alpha * p[i];
            ri = ri - alpha * q[i];
            r[i] = ri;
            z[i] = dinv[i] * ri;
        }
        rz += ri * z[i];
        rr += ri * ri;
    }
    scratch_a[t] = rz;
    scratch_b[t] = rr;
    workgroup_sum_pair(t);
    if (t == 0u) {
        partials[2u * wid.x] = scratch_a[0];
        partials[2u * wid.x + 1u] = scratch_b[0];
    }
}
