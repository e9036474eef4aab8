// Newton Jacobian and residual of the scaled Nernst–Planck system (tertiary: electroneutrality; pnp: Poisson)
// in the node-block pattern, one invocation per free node owning that node's m block rows.
// Host twin: solve::transport_system::Problem::evaluate_with (the weak form and its scaling are
// documented there); layout: solve::device_jacobian::JacobianLayout.
//
// For free node a and every mesh neighbour b with edge weight omega, species i contributes the
// log-mean edge flux (host twin and its rationale: physics::edge_flux)
//     F_ab = omega D_i [(c_a - c_b) - z_i (phi_b - phi_a) L(c_a, c_b)],  L = (c_b - c_a) / ln(c_b / c_a)
// to a's own row (independent species) and z_i F_ab to the charge row (electroneutrality). The
// unknowns are u_i = ln c_i and phi; under electroneutrality the last species is
// c_l = -(sum_i z_i c_i + X) / z_l with X the node's fixed charge (charged coatings). Bulk
// neighbours hold the bulk state (no Jacobian columns).
// Then: accumulation V a0 c_i on the diagonal (transient), the Poisson operator and space charge
// (pnp: blocking electrode rows replaced by phi - E, or a Stern layer), and the Butler–Volmer
// electrode reactions (electroneutral, or pnp with a Stern layer), up to MAX_REACTIONS of them.
// Dispatch: 2D grid of ceil(block.node_count / 256) workgroups, one free node per invocation. A
// problem larger than one storage binding runs as row blocks of free nodes, each with its own
// slices of the neighbour lists, edge weights and Jacobian values (offsets in `block`).

const MAX_SPECIES: u32 = 8u;
const NOT_FREE: u32 = 0xffffffffu;

const MAX_REACTIONS: u32 = 4u;

// Mirrors ReactionParams in src/backend/gpu/transport_jacobian.rs: one electrode reaction.
struct ReactionParams {
    species: u32,            // the species it consumes and produces
    linear_law: u32,
    anodic: f32,             // alpha_a n
    cathodic: f32,           // alpha_c n
    cathodic_order: f32,     // gamma in (c_r / c_r,bulk)^gamma
    gamma: f32,              // scaled exchange current
    _pad0: u32,
    _pad1: u32,
}

// Mirrors JacobianParams in src/backend/gpu/transport_jacobian.rs.
struct JacobianParams {
    n_free: u32,
    m: u32,
    n_species: u32,
    independent: u32,
    poisson: u32,            // 1: Poisson closure; 0: electroneutrality
    n_reactions: u32,
    has_accumulation: u32,
    write_jacobian: u32,     // 0: residual only (line-search trials)
    lambda: f32,
    e: f32,                  // electrode potential (scaled)
    a0: f32,                 // leading BDF coefficient / dt (accumulation)
    stern: f32,              // Lambda_S of a reacting pnp electrode; 0: blocking
    solid: u32,              // 1: a resistive scaffold's phi_s is unknown `independent`
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    charges: array<vec4<f32>, 2>,
    diffusivities: array<vec4<f32>, 2>,
    bulk: array<vec4<f32>, 2>,
    reactions: array<ReactionParams, 4>,
}

@group(0) @binding(0) var<uniform> params: JacobianParams;
@group(0) @binding(1) var<storage, read> nodes: array<u32>;        // 5 per free node
@group(0) @binding(2) var<storage, read> neighbours: array<u32>;   // 2 per neighbour entry
@group(0) @binding(3) var<storage, read> weights: array<f32>;      // (omega, solid weight) per neighbour entry
// Per free node: (area against E, pore volume, fixed charge, area against phi_s, phi_s free).
@group(0) @binding(4) var<storage, read> node_data: array<f32>;
@group(0) @binding(5) var<storage, read> x: array<f32>;            // m unknowns per free node
@group(0) @binding(6) var<storage, read_write> jac: array<f32>;
@group(0) @binding(7) var<storage, read> history: array<f32>;    // independent species per free node
@group(0) @binding(8) var<storage, read_write> residual: array<f32>;

// Mirrors JacobianBlock in src/backend/gpu/transport_jacobian.rs: this dispatch's free nodes and
// where its slices start in the whole problem's neighbour entries and node-pattern entries.
struct JacobianBlock {
    node_begin: u32,
    node_count: u32,
    neighbour_offset: u32,
    pattern_offset: u32,
}
@group(0) @binding(9) var<uniform> block: JacobianBlock;

fn charge(i: u32) -> f32 {
    return params.charges[i / 4u][i % 4u];
}

fn diffusivity(i: u32) -> f32 {
    return params.diffusivities[i / 4u][i % 4u];
}

fn bulk_concentration(i: u32) -> f32 {
    return params.bulk[i / 4u][i % 4u];
}

struct NodeState {
    c: array<f32, 8>,
    phi: f32,
}

fn state_of(f: u32) -> NodeState {
    var s: NodeState;
    let n = params.n_species;
    if (f == NOT_FREE) {
        for (var i = 0u; i < n; i = i + 1u) {
            s.c[i] = bulk_concentration(i);
        }
        s.phi = 0.0;
        return s;
    }
    let m = params.m;
    let k = params.independent;
    for (var i = 0u; i < k; i = i + 1u) {
        s.c[i] = exp(x[f * m + i]);
    }
    if (k < n) {
        let zl = charge(n - 1u);
        var cl = -node_data[5u * f + 2u] / zl;
        for (var i = 0u; i < k; i = i + 1u) {
            cl -= charge(i) * s.c[i] / zl;
        }
        s.c[n - 1u] = cl;
    }
    s.phi = x[f * m + m - 1u];
    return s;
}

// g(x) = (L(a, b) / a - 1) / x = dL/da with x = ln(b / a), by its series (|x| < 0.1).
fn log_mean_slope(x: f32) -> f32 {
    return 0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x / 720.0)));
}

// The logarithmic mean L of a and b and its derivatives (L, dL/da, dL/db), stable in f32: the
// series of sqrt(a b) sinh(x/2) / (x/2) below |x| = 0.1. An end that underflowed to 0 (a
// depleted node in f32) gives L = 0 and no derivatives: the flux is then the diffusive one.
fn log_mean(a: f32, b: f32) -> vec3<f32> {
    if (a <= 0.0 || b <= 0.0) {
        return vec3<f32>(0.0, 0.0, 0.0);
    }
    let x = log(b) - log(a);
    if (abs(x) < 0.1) {
        let s2 = 0.25 * x * x;
        let mean = a * exp(0.5 * x) * (1.0 + s2 * (1.0 / 6.0 + s2 * (1.0 / 120.0 + s2 / 5040.0)));
        return vec3<f32>(mean, log_mean_slope(x), log_mean_slope(-x));
    }
    let mean = (b - a) / x;
    return vec3<f32>(mean, (mean / a - 1.0) / x, (1.0 - mean / b) / x);
}

// This invocation's row description: start of the row in the node pattern and its length.
var<private> row_lo: u32;
var<private> row_deg: u32;

// Adds `value` at ((own node, v), (slot, w)).
fn add(v: u32, slot: u32, w: u32, value: f32) {
    if (params.write_jacobian == 0u) {
        return;
    }
    let m = params.m;
    let at = row_lo * m * m + v * row_deg * m + slot * m + w;
    jac[at] = jac[at] + value;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let local = row_index(gid, nwg);
    if (local >= block.node_count) {
        return;
    }
    let a = block.node_begin + local;
    let m = params.m;
    let n = params.n_species;
    let k = params.independent;
    let pv = m - 1u;
    let electroneutral = params.poisson == 0u;
    // Neighbour entries and Jacobian rows relative to this block's slices.
    let nb_start = nodes[5u * a] - block.neighbour_offset;
    let nb_end = nodes[5u * a + 1u] - block.neighbour_offset;
    row_lo = nodes[5u * a + 2u] - block.pattern_offset;
    row_deg = nodes[5u * a + 3u];
    let own = nodes[5u * a + 4u];
    if (params.write_jacobian == 1u) {
        for (var at = row_lo * m * m; at < (row_lo + row_deg) * m * m; at = at + 1u) {
            jac[at] = 0.0;
        }
    }
    // Residual rows of this node, accumulated in registers.
    var res: array<f32, 9>;
    for (var v = 0u; v < m; v = v + 1u) {
        res[v] = 0.0;
    }
    var sa = state_of(a);
    let zl = charge(n - 1u);
    for (var p = nb_start; p < nb_end; p = p + 1u) {
        let fb = neighbours[2u * p];
        let slot = neighbours[2u * p + 1u];
        let b_free = fb != NOT_FREE;
        let omega = weights[2u * p];
        let w_solid = weights[2u * p + 1u];
        if (params.solid == 1u && w_solid != 0.0 && b_free) {
            // Electron conduction in the scaffold: w (phi_s,a - phi_s,b) in a's solid row.
            let sv = k;
            res[sv] += w_solid * (x[a * m + sv] - x[fb * m + sv]);
            add(sv, own, sv, w_solid);
            add(sv, slot, sv, -w_solid);
        }
        var sb = state_of(fb);
        let delta = sb.phi - sa.phi;
        if (!electroneutral) {
            res[pv] += params.lambda * omega * (sa.phi - sb.phi);
            add(pv, own, pv, params.lambda * omega);
            if (b_free) {
                add(pv, slot, pv, -params.lambda * omega);
            }
        }
        for (var i = 0u; i < n; i = i + 1u) {
            let z = charge(i);
            let d = omega * diffusivity(i);
            let y = z * delta;
            let lm = log_mean(sa.c[i], sb.c[i]);
            let flux = d * ((sa.c[i] - sb.c[i]) - y * lm.x);
            let d_ca = d * (1.0 - y * lm.y);
            let d_cb = d * (-1.0 - y * lm.z);
            let d_phib = -d * z * lm.x;
            // Rows fed by species i: its own (if independent) and, under electroneutrality, charge.
            for (var r = 0u; r < 2u; r = r + 1u) {
                var v = i;
                var wt = 1.0;
                if (r == 0u && i >= k) {
                    continue;
                }
                if (r == 1u) {
                    if (!electroneutral) {
                        continue;
                    }
                    v = pv;
                    wt = z;
                }
                res[v] += wt * flux;
                if (i < k) {
                    add(v, own, i, wt * d_ca * sa.c[i]);
                    if (b_free) {
                        add(v, slot, i, wt * d_cb * sb.c[i]);
                    }
                } else {
                    for (var w = 0u; w < k; w = w + 1u) {
                        let zw = charge(w);
                        add(v, own, w, -wt * d_ca * zw * sa.c[w] / zl);
                        if (b_free) {
                            add(v, slot, w, -wt * d_cb * zw * sb.c[w] / zl);
                        }
                    }
                }
                add(v, own, pv, -wt * d_phib);
                if (b_free) {
                    add(v, slot, pv, wt * d_phib);
                }
            }
        }
    }
    let area = node_data[5u * a];
    let volume = node_data[5u * a + 1u];
    let fixed = node_data[5u * a + 2u];
    let solid_area = node_data[5u * a + 3u];
    if (params.solid == 1u && node_data[5u * a + 4u] == 0.0) {
        // phi_s held at E off the scaffold and on the electrode: the row becomes phi_s - E = 0.
        let sv = k;
        res[sv] = x[a * m + sv] - params.e;
        for (var s = 0u; s < row_deg; s = s + 1u) {
            for (var w = 0u; w < m; w = w + 1u) {
                jac[row_lo * m * m + sv * row_deg * m + s * m + w] = 0.0;
            }
        }
        add(sv, own, sv, 1.0);
    }
    if (params.has_accumulation == 1u) {
        for (var i = 0u; i < k; i = i + 1u) {
            res[i] += volume * (params.a0 * sa.c[i] - history[a * k + i]);
            add(i, own, i, volume * params.a0 * sa.c[i]);
        }
    }
    if (!electroneutral) {
        res[pv] -= volume * fixed;
        for (var i = 0u; i < n; i = i + 1u) {
            res[pv] -= volume * charge(i) * sa.c[i];
            add(pv, own, i, -volume * charge(i) * sa.c[i]);
        }
        if (area > 0.0 && params.stern == 0.0) {
            res[pv] = sa.phi - params.e;
            // Blocking electrode held at phi = E: the row becomes phi - E = 0.
            for (var s = 0u; s < row_deg; s = s + 1u) {
                for (var w = 0u; w < m; w = w + 1u) {
                    jac[row_lo * m * m + pv * row_deg * m + s * m + w] = 0.0;
                }
            }
            add(pv, own, pv, 1.0);
            store_residual(a, res);
            return;
        }
        // Reacting electrode: the Stern layer Lambda_S A (phi - E) in the Poisson row.
        res[pv] += params.stern * area * (sa.phi - params.e);
        add(pv, own, pv, params.stern * area);
    }
    // Electrode reactions (each leaves its species' row, and the charge row under
    // electroneutrality); at scaffold sites against phi_s the solid gains them.
    for (var q = 0u; q < params.n_reactions; q = q + 1u) {
        let rx = params.reactions[q];
        let rr = rx.species;
        let zr = charge(rr);
        if (area > 0.0) {
            let bv = butler_volmer(rx, params.e - sa.phi, sa.c[rr]);
            let g = rx.gamma * area;
            res[rr] -= g * bv.x;
            if (electroneutral) {
                res[pv] -= zr * g * bv.x;
            }
            add(rr, own, pv, g * bv.y);
            add(rr, own, rr, -g * bv.z);
            if (electroneutral) {
                add(pv, own, pv, zr * g * bv.y);
                add(pv, own, rr, -zr * g * bv.z);
            }
        }
        if (solid_area > 0.0) {
            // Scaffold sites reacting against phi_s (electroneutral only): the electrolyte gains
            // what the solid loses, z_r g f in the solid row.
            let sv = k;
            let bv = butler_volmer(rx, x[a * m + sv] - sa.phi, sa.c[rr]);
            let g = rx.gamma * solid_area;
            res[rr] -= g * bv.x;
            res[pv] -= zr * g * bv.x;
            res[sv] += zr * g * bv.x;
            add(rr, own, pv, g * bv.y);
            add(rr, own, rr, -g * bv.z);
            add(rr, own, sv, -g * bv.y);
            add(pv, own, pv, zr * g * bv.y);
            add(pv, own, rr, -zr * g * bv.z);
            add(pv, own, sv, -zr * g * bv.y);
            add(sv, own, sv, zr * g * bv.y);
            add(sv, own, pv, -zr * g * bv.y);
            add(sv, own, rr, zr * g * bv.z);
        }
    }
    store_residual(a, res);
}

// A reaction's scaled Butler–Volmer f(eta, c_r) with df/deta and df/du_r (u_r = ln c_r) as
// (f, f_eta, f_u).
fn butler_volmer(rx: ReactionParams, eta: f32, c_r: f32) -> vec3<f32> {
    if (rx.linear_law == 1u) {
        let slope = rx.anodic + rx.cathodic;
        return vec3<f32>(slope * eta, slope, 0.0);
    }
    let fa = exp(rx.anodic * eta);
    let ratio = c_r / bulk_concentration(rx.species);
    let fc = pow(ratio, rx.cathodic_order) * exp(-rx.cathodic * eta);
    return vec3<f32>(fa - fc, rx.anodic * fa + rx.cathodic * fc, -rx.cathodic_order * fc);
}

fn store_residual(a: u32, res: array<f32, 9>) {
    var r = res;
    for (var v = 0u; v < params.m; v = v + 1u) {
        residual[a * params.m + v] = r[v];
    }
}
