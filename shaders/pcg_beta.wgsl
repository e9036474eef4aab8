// Finishes a PCG iteration: sums the (r . z, r . r) partials, counts the iteration, tests
// convergence (rr <= tol2), the iteration cap and finiteness, and sets beta = rz_new / rz.
// Dispatch: one workgroup. No-op unless the status is RUNNING.

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
    if (t == 0u && state.status == STATUS_RUNNING) {
        let rz_new = scratch_a[0];
        let rr = scratch_b[0];
        state.iterations = state.iterations + 1u;
        state.rr = rr;
        if (!is_finite(rr) || !is_finite(rz_new)) {
            state.status = STATUS_BREAKDOWN;
        } else if (rr <= state.tol2) {
            state.status = STATUS_CONVERGED;
        } else if (state.iterations >= state.max_iterations) {
            state.status = STATUS_MAX_ITERATIONS;
        }
        state.beta = rz_new / state.rz;
        state.rz = rz_new;
    }
}
