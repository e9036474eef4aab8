// In-place linear combination out = ca out + cb y + cc z, with each coefficient a BiCGStab state
// scalar chosen by slot, or the constant 1 (SLOT_ONE) or 0 (SLOT_ZERO; `out` is then not read, so
// stale values cannot leak in). CPU twin: backend::cpu::kernels::lincomb3.
// Dispatch: 2D grid of ceil(n / 256) workgroups. Skipped unless the state is RUNNING.

const SLOT_ONE: u32 = 100u;
const SLOT_ZERO: u32 = 101u;
const SLOT_STATUS: u32 = 11u;

@group(0) @binding(0) var<uniform> slots: LincombSlots;
@group(0) @binding(1) var<storage, read> state: array<f32, 12>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> z: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn coefficient(slot: u32) -> f32 {
    if (slot == SLOT_ONE) {
        return 1.0;
    }
    if (slot == SLOT_ZERO) {
        return 0.0;
    }
    return state[slot];
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = row_index(gid, nwg);
    if (i >= slots.n || bitcast<u32>(state[SLOT_STATUS]) != STATUS_RUNNING) {
        return;
    }
    var acc = coefficient(slots.b) * y[i] + coefficient(slots.c) * z[i];
    if (slots.a != SLOT_ZERO) {
        acc += coefficient(slots.a) * out[i];
    }
    out[i] = acc;
}
