// Finishes the start reduction: state.rz = sum of r . z partials, state.rr = sum of r . r; sets
// the status (converged at once when rr <= tol2). The host writes tol2 and max_iterations first.
// Dispatch: one workgroup.

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: PcgState;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32) {
    var a = 0.0;
    var b = 0.0;
    for (var g = t; g < dims.reduce_groups; g = g + WG) {
        a += partials[2u * g];
        b += partials[2u * g + 1u];
    }
    scratch_a[t] = a;
    scratch_b[t] = b;
    workgroup_sum_pair(t);
    if (t == 0u) {
        state.rz = scratch_a[0];
        state.rr = scratch_b[0];
        state.iterations = 0u;
        if (!is_finite(state.rr) || !is_finite(state.rz)) {
            state.status = STATUS_BREAKDOWN;
        } else if (state.rr <= state.tol2) {
            state.status = STATUS_CONVERGED;
        } else {
            state.status = STATUS_RUNNING;
        }
    }
}
