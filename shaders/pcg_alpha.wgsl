// PCG step length: state.pq = sum of p . Ap partials, alpha = rz / pq. A non-positive or
// non-finite p . Ap (breakdown, NaN) stops the iteration with STATUS_BREAKDOWN.
// Dispatch: one workgroup. No-op unless the status is RUNNING.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: PcgState;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32) {
    var a = 0.0;
    for (var g = t; g < dims.reduce_groups; g = g + WG) {
        a += partials[2u * g];
    }
    scratch_a[t] = a;
    scratch_b[t] = 0.0;
    workgroup_sum_pair(t);
    if (t == 0u && state.status == STATUS_RUNNING) {
        let pq = scratch_a[0];
        state.pq = pq;
        if (!is_finite(pq) || pq <= 0.0) {
            state.status = STATUS_BREAKDOWN;
        } else {
            state.alpha = state.rz / pq;
        }
    }
}
