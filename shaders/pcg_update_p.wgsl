// New search direction p = z + beta p. CPU twin: backend::cpu::kernels::pcg_update_p.
// Dispatch: 2D grid of ceil(n / 256) workgroups. No-op unless the status is RUNNING.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> state: PcgState;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read_write> p: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = row_index(gid, nwg);
    if (i >= dims.n || state.status != STATUS_RUNNING) {
        return;
    }
    p[i] = z[i] + state.beta * p[i];
}
