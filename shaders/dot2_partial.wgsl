// Two dot products in one pass: pair partials (a . b, c . d) per workgroup, the layout the
// finishing kernels read. CPU twin: backend::cpu::kernels::dot (twice).
// Dispatch: dims.reduce_groups workgroups; grid-stride over the rows.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read> d: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) t: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
    var ab = 0.0;
    var cd = 0.0;
    for (var i = gid.x; i < dims.n; i = i + dims.reduce_groups * WG) {
        ab += a[i] * b[i];
        cd += c[i] * d[i];
    }
    scratch_a[t] = ab;
    scratch_b[t] = cd;
    workgroup_sum_pair(t);
    if (t == 0u) {
        partials[2u * wid.x] = scratch_a[0];
        partials[2u * wid.x + 1u] = scratch_b[0];
    }
}
