// Partial sums of a . b: workgroup g writes its share to partials[2g] (and 0 to partials[2g+1],
// the pair layout shared with the fused kernels). CPU twin: backend::cpu::kernels::dot.
// Dispatch: dims.reduce_groups workgroups in x; grid-stride over the rows.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(local_invocation_index) t: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
    var sum = 0.0;
    for (var i = gid.x; i < dims.n; i = i + dims.reduce_groups * WG) {
        sum += a[i] * b[i];
    }
    scratch_a[t] = sum;
    scratch_b[t] = 0.0;
    workgroup_sum_pair(t);
    if (t == 0u) {
        partials[2u * wid.x] = scratch_a[0];
        partials[2u * wid.x + 1u] = 0.0;
    }
}
