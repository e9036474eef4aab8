// Jacobi preconditioner application: out = dinv * x. CPU twin: backend::cpu::kernels::diag_scale.
// Dispatch: 2D grid of ceil(n / 256) workgroups.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dinv: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = row_index(gid, nwg);
    if (i >= dims.n) {
        return;
    }
    out[i] = dinv[i] * x[i];
}
