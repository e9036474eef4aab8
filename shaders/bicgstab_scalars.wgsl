// The scalar steps of right-preconditioned BiCGStab, finishing a pair reduction (one workgroup):
//   MODE_BEGIN  (r_hat . r, r . r) -> rho, rr; status
//   MODE_ALPHA  (r_hat . v, -)     -> alpha = rho / (r_hat . v)
//   MODE_OMEGA  (t . s, t . t)     -> omega = ts / tt
//   MODE_END    (r_hat . r, r . r) -> beta = (rho_new / rho)(alpha / omega), rho = rho_new, rr,
//                                     iteration count, convergence, breakdown
// and the derived coefficients the lincomb3 updates read. No-op unless RUNNING (BEGIN sets it).

const MODE_BEGIN: u32 = 0u;
const MODE_ALPHA: u32 = 1u;
const MODE_OMEGA: u32 = 2u;
const MODE_END: u32 = 3u;

struct Mode {
    mode: u32,
    reduce_groups: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> mode: Mode;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: BicgState;

fn breakdown(v: f32) -> bool {
    return !is_finite(v) || v == 0.0;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32) {
    var a = 0.0;
    var b = 0.0;
    for (var g = t; g < mode.reduce_groups; g = g + WG) {
        a += partials[2u * g];
        b += partials[2u * g + 1u];
    }
    scratch_a[t] = a;
    scratch_b[t] = b;
    workgroup_sum_pair(t);
    if (t != 0u) {
        return;
    }
    let x = scratch_a[0];
    let y = scratch_b[0];
    if (mode.mode == MODE_BEGIN) {
        state.rho = x;
        state.rr = y;
        state.iterations = 0u;
        state.alpha = 1.0;
        state.omega = 1.0;
        state.beta = 0.0;
        state.neg_beta_omega = 0.0;
        if (!is_finite(x) || !is_finite(y)) {
            state.status = STATUS_BREAKDOWN;
        } else if (y <= state.tol2) {
            state.status = STATUS_CONVERGED;
        } else {
            state.status = STATUS_RUNNING;
        }
        return;
    }
    if (state.status != STATUS_RUNNING) {
        return;
    }
    if (mode.mode == MODE_ALPHA) {
        if (breakdown(x)) {
            state.status = STATUS_BREAKDOWN;
            return;
        }
        state.alpha = state.rho / x;
        state.neg_alpha = -state.alpha;
    } else if (mode.mode == MODE_OMEGA) {
        if (breakdown(y) || !is_finite(x)) {
            state.status = STATUS_BREAKDOWN;
            return;
        }
        state.omega = x / y;
        state.neg_omega = -state.omega;
    } else {
        state.iterations = state.iterations + 1u;
        state.rr = y;
        if (!is_finite(x) || !is_finite(y)) {
            state.status = STATUS_BREAKDOWN;
        } else if (y <= state.tol2) {
            state.status = STATUS_CONVERGED;
        } else if (state.iterations >= state.max_iterations) {
            state.status = STATUS_MAX_ITERATIONS;
        } else if (breakdown(state.omega) || breakdown(state.rho) || breakdown(x)) {
            state.status = STATUS_BREAKDOWN;
        } else {
            state.beta = (x / state.rho) * (state.alpha / state.omega);
            state.neg_beta_omega = -state.beta * state.omega;
            state.rho = x;
        }
    }
}
