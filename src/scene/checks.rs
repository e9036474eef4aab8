//! Physical and geometric checks of a parsed scene (the input rules beyond the schema; the
//! analytic validation suite is [`crate::validate`]). Each message names the dotted key, the
//! offending value and the accepted range.

use super::{Model, OperationMode, PnpElectrode, Scene};

/// Checks a scene; returns the first problem as a message.
pub fn check(s: &Scene) -> Result<(), String> {
    if s.name.is_empty() || s.name.contains(['/', '\\']) || s.name.starts_with('.') || s.name.chars().any(char::is_control) {
        return Err(format!(
            "key `name`: {:?} must be a non-empty plain name (no slashes or control characters, not starting with '.')",
            s.name
        ));
    }
    check_counts(s)?;
    let g = &s.geometry;
    if g.mesh_file.is_some() {
        check_imported(g)?;
    } else {
        check_builtin(s)?;
    }
    check_physics_and_controls(s)?;
    check_output(s)?;
    super::growth::check(s)?;
    super::coating::check(s)
}

/// Most entries of each list in a scene, checked before any list is walked or expanded (an
/// array's members, a rough surface's protrusions): (dotted key, count, limit).
fn check_counts(s: &Scene) -> Result<(), String> {
    let g = &s.geometry;
    let members = |a: &super::ProtrusionArray| a.count[0] as u64 * a.count[1] as u64;
    let protrusions = g.protrusions.len() as u64
        + g.arrays.iter().map(members).fold(0u64, u64::saturating_add)
        + g.rough_surface.as_ref().map_or(0, |r| r.count as u64);
    let scaffold = g.scaffold.as_ref().map_or(0, |sc| sc.fibres.len() + sc.particles.len());
    let table = match &s.operation.waveform {
        Some(super::Waveform::Table { times_s, .. }) => times_s.len(),
        _ => 0,
    };
    let groups = g.boundaries.as_ref().map_or(0, |b| b.electrode.len() + b.bulk.len() + b.insulating.len());
    let counts: [(&str, u64, u64); 9] = [
        ("geometry.protrusions, arrays and rough_surface (protrusions in all)", protrusions, MAX_PROTRUSIONS),
        ("geometry.layers", g.layers.len() as u64, 200),
        ("geometry.scaffold (fibres and particles)", scaffold as u64, super::scaffold::MAX_MAT_FIBRES as u64),
        ("geometry.boundaries (group names)", groups as u64, 64),
        ("physics.species", s.physics.species.len() as u64, 16),
        ("mesh.refine_boxes", s.mesh.refine_boxes.len() as u64, 64),
        ("output.slices", s.output.slices.len() as u64, 16),
        ("operation.waveform.times_s", table as u64, 10_000),
        ("time.output_times_s", s.time.as_ref().map_or(0, |t| t.output_times_s.len()) as u64, MAX_OUTPUT_TIMES as u64),
    ];
    for (key, count, limit) in counts {
        if count > limit {
            return Err(format!("key `{key}`: {count} entries, more than the {limit} a scene may have"));
        }
    }
    Ok(())
}

/// Largest magnitude of a waveform's values (A/m^2 or V, as the operation's).
pub const WAVEFORM_LIMIT: f64 = 1e6;

/// Most protrusions a scene may have (listed, in arrays and on a rough surface together).
pub const MAX_PROTRUSIONS: u64 = 10_000;

/// Map resolution and slice planes (inside the box for the built-in form; an imported mesh's
/// extent is checked once it is read).
fn check_output(s: &Scene) -> Result<(), String> {
    let o = &s.output;
    if !(64..=4096).contains(&o.map_pixels) {
        return Err(format!("key `output.map_pixels`: {} is outside the accepted range 64 to 4096", o.map_pixels));
    }
    o.colour_range.check()?;
    let g = &s.geometry;
    for (k, plane) in o.slices.iter().enumerate() {
        let key = format!("output.slices.{k}.at_m");
        if !plane.at_m.is_finite() {
            return Err(format!("key `{key}`: {} is not a finite number", plane.at_m));
        }
        if g.mesh_file.is_some() {
            continue;
        }
        let (lo, hi) = match plane.normal {
            super::Axis::Z => (0.0, g.height_m),
            _ => (-g.half_width_m, g.half_width_m),
        };
        if !(lo..=hi).contains(&plane.at_m) {
            return Err(format!(
                "key `{key}`: {:e} m is outside the domain, whose {} runs from {lo:e} to {hi:e} m",
                plane.at_m,
                plane.normal.name()
            ));
        }
    }
    Ok(())
}

/// The imported form: a mesh file with groups mapped to roles, and nothing of the built-in form.
fn check_imported(g: &super::Geometry) -> Result<(), String> {
    if g.half_width_m != 0.0
        || g.height_m != 0.0
        || !g.protrusions.is_empty()
        || !g.arrays.is_empty()
        || g.rough_surface.is_some()
        || !g.layers.is_empty()
        || g.scaffold.is_some()
        || g.sides != super::Sides::Insulating
    {
        return Err("key `geometry.mesh_file`: an imported mesh cannot be combined with the built-in box keys \
                    (half_width_m, height_m, protrusions, arrays, rough_surface, layers, scaffold, sides); use one form"
            .into());
    }
    in_range("geometry.length_unit_m", g.length_unit_m, 1e-12, 1.0)?;
    let b = g.boundaries.as_ref().ok_or(
        "key `geometry.boundaries`: required with geometry.mesh_file, e.g. \
        {\"electrode\": [\"electrode\"], \"bulk\": [\"top\"], \"insulating\": [\"sides\"]}",
    )?;
    if b.electrode.is_empty() || b.bulk.is_empty() {
        return Err("key `geometry.boundaries`: name at least one physical surface for `electrode` and one for `bulk`".into());
    }
    let r = g
        .regions
        .as_ref()
        .ok_or("key `geometry.regions`: required with geometry.mesh_file, e.g. {\"electrolyte\": [\"electrolyte\"]}")?;
    if r.electrolyte.is_empty() {
        return Err("key `geometry.regions.electrolyte`: name at least one physical volume".into());
    }
    Ok(())
}

/// The built-in form: a box with protrusions inside it.
fn check_builtin(s: &Scene) -> Result<(), String> {
    let g = &s.geometry;
    if g.boundaries.is_some() || g.regions.is_some() {
        return Err("key `geometry.boundaries`/`geometry.regions`: only used with geometry.mesh_file".into());
    }
    // The scales of an electrode's surroundings, from a double layer (an angstrom) to a whole cell.
    in_range("geometry.half_width_m", g.half_width_m, DOMAIN_LENGTH_M[0], DOMAIN_LENGTH_M[1])?;
    in_range("geometry.height_m", g.height_m, DOMAIN_LENGTH_M[0], DOMAIN_LENGTH_M[1])?;
    for (k, a) in g.arrays.iter().enumerate() {
        let key = format!("geometry.arrays.{k}");
        positive(&format!("{key}.pitch_m"), a.pitch_m[0])?;
        positive(&format!("{key}.pitch_m"), a.pitch_m[1])?;
        // the template's own dimensions, named by their key; placement is checked per member below
        a.protrusion.check(&format!("{key}.protrusion"))?;
        if a.count[0] == 0 || a.count[1] == 0 || a.count[0] as u64 * a.count[1] as u64 > 10_000 {
            return Err(format!(
                "key `{key}.count`: {:?} must be two counts of at least 1 with at most 10000 members in all",
                a.count
            ));
        }
    }
    if let Some(r) = &g.rough_surface {
        let key = "geometry.rough_surface";
        if r.count > 10_000 {
            return Err(format!("key `{key}.count`: {} is over the limit of 10000 protrusions", r.count));
        }
        if r.shapes.is_empty() {
            return Err(format!("key `{key}.shapes`: give at least one shape to draw from"));
        }
        for (name, [lo, hi]) in [("base_radius_m", r.base_radius_m), ("height_m", r.height_m)] {
            positive(&format!("{key}.{name}"), lo)?;
            if hi < lo || !hi.is_finite() {
                return Err(format!(
                    "key `{key}.{name}`: [{}, {}] must be an interval [min, max] with min <= max",
                    num(lo),
                    num(hi)
                ));
            }
        }
    }
    for (key, p) in g.all_protrusions() {
        p.check(&key)?;
        let [cx, cy] = p.center();
        finite(&format!("{key}.center_m"), cx)?;
        finite(&format!("{key}.center_m"), cy)?;
        let r = p.reach();
        let reach = cx.abs().max(cy.abs()) + r;
        if reach >= g.half_width_m {
            return Err(format!(
                "key `{key}`: protrusion at center_m [{}, {}] reaching {} m from its axis extends to {} m, \
                 outside the box (geometry.half_width_m = {} m); it must lie strictly inside",
                num(cx),
                num(cy),
                num(r),
                num(reach),
                num(g.half_width_m)
            ));
        }
        if p.height() >= 0.8 * g.height_m {
            return Err(format!(
                "key `{key}`: protrusion height {} m must stay below 80% of geometry.height_m = {} m so the bulk boundary is away from it",
                num(p.height()),
                num(g.height_m)
            ));
        }
    }
    check_layers(g)?;
    if let Some(sc) = &g.scaffold {
        check_scaffold(sc, g.half_width_m, g.height_m)?;
    }
    for (k, b) in s.mesh.refine_boxes.iter().enumerate() {
        let key = format!("mesh.refine_boxes.{k}");
        positive(&format!("{key}.size_m"), b.size_m)?;
        if (0..3).any(|d| b.min_m[d].partial_cmp(&b.max_m[d]) != Some(std::cmp::Ordering::Less)) {
            return Err(format!("key `{key}`: min_m {:?} must be below max_m {:?} in every coordinate", b.min_m, b.max_m));
        }
    }
    Ok(())
}

/// Coating layers: named uniquely, positive thicknesses, the stack well below the bulk boundary.
fn check_layers(g: &super::Geometry) -> Result<(), String> {
    let mut top = 0.0;
    for (k, l) in g.layers.iter().enumerate() {
        let key = format!("geometry.layers.{k}");
        if l.name.trim().is_empty() || g.layers[..k].iter().any(|o| o.name == l.name) {
            return Err(format!("key `{key}.name`: \"{}\" must be a non-empty name no other layer uses", l.name));
        }
        positive(&format!("{key}.thickness_m"), l.thickness_m)?;
        top += l.thickness_m;
        let highest = g.all_protrusions().iter().map(|(_, p)| p.height()).fold(0.0, f64::max);
        let reach = if l.kind == super::LayerShape::Conformal { top + highest } else { top };
        if reach >= 0.8 * g.height_m {
            return Err(format!(
                "key `{key}.thickness_m`: the layer stack reaches {} m above the flat electrode; it must stay below \
                 80% of geometry.height_m = {} m so the bulk boundary is away from it",
                num(reach),
                num(g.height_m)
            ));
        }
    }
    Ok(())
}

/// Scaffold solids: positive radii, horizontal fibres, everything clear of the flat electrode and
/// below 80% of the cell height.
fn check_scaffold(sc: &super::ScaffoldSpec, half_width: f64, height: f64) -> Result<(), String> {
    let clear = |key: &str, z_lo: f64, z_hi: f64| -> Result<(), String> {
        if z_lo <= 0.0 || z_hi >= 0.8 * height {
            return Err(format!(
                "key `{key}`: the solid spans z = {} .. {} m; it must stay clear of the electrode (z > 0) and below \
                 80% of geometry.height_m = {} m",
                num(z_lo),
                num(z_hi),
                num(height)
            ));
        }
        Ok(())
    };
    for (k, f) in sc.fibres.iter().enumerate() {
        let key = format!("geometry.scaffold.fibres.{k}");
        positive(&format!("{key}.radius_m"), f.radius_m)?;
        for v in f.point_m.iter().chain(&f.direction) {
            finite(&key, *v)?;
        }
        let [dx, dy, dz] = f.direction;
        let norm = (dx * dx + dy * dy + dz * dz).sqrt();
        let reach = match f.length_m {
            Some(l) => {
                positive(&format!("{key}.length_m"), l)?;
                if norm == 0.0 {
                    return Err(format!("key `{key}.direction`: {:?} must be a non-zero vector", f.direction));
                }
                0.5 * l * dz.abs() / norm
            }
            None if dz != 0.0 || dx * dx + dy * dy == 0.0 => {
                return Err(format!(
                    "key `{key}.direction`: {:?} must be a non-zero horizontal vector [dx, dy, 0] for a fibre across the \
                     box; give length_m for a finite fibre in any orientation",
                    f.direction
                ));
            }
            None => 0.0,
        };
        clear(&key, f.point_m[2] - reach - f.radius_m, f.point_m[2] + reach + f.radius_m)?;
    }
    for (k, p) in sc.particles.iter().enumerate() {
        let key = format!("geometry.scaffold.particles.{k}");
        positive(&format!("{key}.radius_m"), p.radius_m)?;
        let [x, y, z] = p.center_m;
        if !(x.abs() < half_width && y.abs() < half_width) {
            return Err(format!("key `{key}.center_m`: [{}, {}, {}] lies outside the box", num(x), num(y), num(z)));
        }
        clear(&key, z - p.radius_m, z + p.radius_m)?;
    }
    if let Some(m) = &sc.fibre_mat {
        let key = "geometry.scaffold.fibre_mat";
        positive(&format!("{key}.radius_m"), m.radius_m)?;
        if !(m.porosity > 0.0 && m.porosity < 1.0) {
            return Err(format!("key `{key}.porosity`: {} must lie in (0, 1)", num(m.porosity)));
        }
        let thick_enough = (m.z_max_m - m.z_min_m).is_finite() && m.z_max_m - m.z_min_m >= 2.0 * m.radius_m;
        if !thick_enough {
            return Err(format!(
                "key `{key}`: the slab z_min_m = {} .. z_max_m = {} m must be at least one fibre diameter ({} m) thick",
                num(m.z_min_m),
                num(m.z_max_m),
                num(2.0 * m.radius_m)
            ));
        }
        clear(key, m.z_min_m, m.z_max_m)?;
    }
    Ok(())
}

fn check_physics_and_controls(s: &Scene) -> Result<(), String> {
    let ph = &s.physics;
    if let Some(kappa) = ph.conductivity_s_m {
        positive("physics.conductivity_S_m", kappa)?;
    }
    if let Some(t_plus) = ph.cation_transference_number {
        check_transference_number(ph, t_plus)?;
    }
    in_range("physics.temperature_K", ph.temperature_k, 200.0, 500.0)?;
    if ph.model == Model::Tertiary {
        check_species(s)?;
    }
    if let Some(w) = &s.operation.waveform {
        check_waveform(s, w)?;
    }
    if let Some(t) = &s.time {
        check_time(s, t)?;
    }
    if ph.model == Model::Pnp {
        check_pnp(s)?;
    }
    if ph.model != Model::Primary {
        check_kinetics(&ph.kinetics)?;
    }
    check_operation(s)?;
    check_mesh_and_solver(s)
}

/// The applied waveform of a transient run.
fn check_waveform(s: &Scene, w: &super::Waveform) -> Result<(), String> {
    if s.time.is_none() && s.growth.is_none() {
        return Err("key `operation.waveform`: a waveform needs a transient run (a `time` block) or a growth run".into());
    }
    match w {
        super::Waveform::Step { time_s, before } => {
            positive("operation.waveform.time_s", *time_s)?;
            in_range("operation.waveform.before", *before, -WAVEFORM_LIMIT, WAVEFORM_LIMIT)?;
        }
        super::Waveform::Pulse { period_s, on_fraction, off_value } => {
            positive("operation.waveform.period_s", *period_s)?;
            in_range("operation.waveform.on_fraction", *on_fraction, 1e-6, 1.0 - 1e-6)?;
            in_range("operation.waveform.off_value", *off_value, -WAVEFORM_LIMIT, WAVEFORM_LIMIT)?;
            if let Some(t) = &s.time {
                if t.end_s / period_s > 10_000.0 {
                    return Err(format!(
                        "key `operation.waveform.period_s`: {} s gives more than 10000 pulses before time.end_s",
                        num(*period_s)
                    ));
                }
            }
        }
        super::Waveform::Table { times_s, values } => {
            if times_s.len() < 2 || times_s.len() != values.len() {
                return Err(format!(
                    "key `operation.waveform`: a table needs at least two points and as many values as times (got {} times, {} values)",
                    times_s.len(),
                    values.len()
                ));
            }
            for (i, w2) in times_s.windows(2).enumerate() {
                if w2[1] <= w2[0] {
                    return Err(format!("key `operation.waveform.times_s.{}`: times must increase", i + 1));
                }
            }
            for (i, v) in values.iter().enumerate() {
                in_range(&format!("operation.waveform.values.{i}"), *v, -WAVEFORM_LIMIT, WAVEFORM_LIMIT)?;
            }
        }
    }
    Ok(())
}

/// The `time` block of a transient run.
fn check_time(s: &Scene, t: &super::TimeControls) -> Result<(), String> {
    if !s.physics.model.has_transport() {
        return Err("key `time`: transient runs need a transport model (physics.model = \"tertiary\" or \"pnp\")".into());
    }
    positive("time.end_s", t.end_s)?;
    if let Some(v) = t.initial_step_s {
        positive("time.initial_step_s", v)?;
    }
    if let Some(v) = t.max_step_s {
        positive("time.max_step_s", v)?;
        if t.end_s / v > MAX_TIME_STEPS as f64 {
            return Err(format!(
                "key `time.max_step_s`: {} s needs more than the {MAX_TIME_STEPS} steps a run may take to reach time.end_s = {} s",
                num(v),
                num(t.end_s)
            ));
        }
    }
    in_range("time.rtol", t.rtol, 1e-8, 0.5)?;
    in_range("time.stop_at_depletion", t.stop_at_depletion, 0.0, 0.9)?;
    in_range("time.checkpoint_wall_interval_s", t.checkpoint_wall_interval_s, 0.0, 1e6)?;
    in_range("time.preconditioner_reuse_steps", t.preconditioner_reuse_steps.into(), 1.0, 1000.0)?;
    for (i, &o) in t.output_times_s.iter().enumerate() {
        in_range(&format!("time.output_times_s.{i}"), o, 0.0, t.end_s)?;
        if i > 0 && o <= t.output_times_s[i - 1] {
            return Err(format!(
                "key `time.output_times_s`: times must increase ({} after {})",
                num(o),
                num(t.output_times_s[i - 1])
            ));
        }
    }
    Ok(())
}

/// The pnp model's permittivity, Stern layer and electrode.
fn check_pnp(s: &Scene) -> Result<(), String> {
    let ph = &s.physics;
    check_species_common(s)?;
    in_range("physics.relative_permittivity", ph.relative_permittivity, 1.0, 200.0)?;
    in_range("physics.stern_capacitance_F_m2", ph.stern_capacitance_f_m2, 1e-3, 10.0)?;
    if ph.pnp_electrode == PnpElectrode::Reacting {
        check_reacting_species(s, ph.species.len(), "")?;
    }
    if s.operation.mode != OperationMode::Potential && ph.pnp_electrode == PnpElectrode::Blocking {
        return Err("key `operation.mode`: a blocking pnp electrode (physics.pnp_electrode = \"blocking\") draws no \
                    current; use \"potential\" with operation.electrode_potential_V, or physics.pnp_electrode = \"reacting\""
            .into());
    }
    Ok(())
}

/// The Butler–Volmer parameters.
fn check_kinetics(k: &super::Kinetics) -> Result<(), String> {
    positive("physics.kinetics.exchange_current_density_A_m2", k.exchange_current_density_a_m2)?;
    in_range("physics.kinetics.alpha_a", k.alpha_a, 1e-3, 1.0)?;
    in_range("physics.kinetics.alpha_c", k.alpha_c, 1e-3, 1.0)?;
    if k.electrons == 0 || k.electrons > 8 {
        return Err(format!("key `physics.kinetics.electrons`: {} is outside the accepted range 1..=8", k.electrons));
    }
    Ok(())
}

/// The applied potential or current.
fn check_operation(s: &Scene) -> Result<(), String> {
    let op = &s.operation;
    match op.mode {
        OperationMode::Potential => {
            let v = op.electrode_potential_v.ok_or_else(|| {
                "key `operation.electrode_potential_V`: required when operation.mode = \"potential\"".to_string()
            })?;
            in_range("operation.electrode_potential_V", v, -5.0, 5.0)?;
            let charged = s.geometry.layers.iter().any(|l| l.fixed_charge_mol_m3.range() != (0.0, 0.0));
            if v == 0.0 && !charged {
                return Err("key `operation.electrode_potential_V`: 0 V drives no current; give a non-zero potential (0 V is \
                            accepted with a charged coating layer: its Donnan equilibrium)"
                    .into());
            }
        }
        OperationMode::Current => {
            let i = op.mean_current_density_a_m2.ok_or_else(|| {
                "key `operation.mean_current_density_A_m2`: required when operation.mode = \"current\"".to_string()
            })?;
            in_range("operation.mean_current_density_A_m2", i, -1e5, 1e5)?;
            if i == 0.0 {
                return Err("key `operation.mean_current_density_A_m2`: 0 A/m^2 drives no current; give a non-zero value".into());
            }
        }
    }
    Ok(())
}

/// Mesh sizes and solver controls.
fn check_mesh_and_solver(s: &Scene) -> Result<(), String> {
    let m = &s.mesh;
    if let Some(h) = m.size_near_m {
        positive("mesh.size_near_m", h)?;
    }
    if let Some(h) = m.size_far_m {
        positive("mesh.size_far_m", h)?;
    }
    if let Some(h) = m.size_electrode_m {
        positive("mesh.size_electrode_m", h)?;
    }
    in_range("mesh.grading", m.grading, 1.01, 3.0)?;
    in_range("mesh.refine", m.refine, 0.1, 16.0)?;
    let sv = &s.solver;
    in_range("solver.linear_rtol", sv.linear_rtol, 1e-14, 1e-2)?;
    if sv.linear_max_iterations == 0 || sv.linear_max_iterations > 1_000_000 {
        return Err(format!(
            "key `solver.linear_max_iterations`: {} is outside the accepted range 1..=1000000",
            sv.linear_max_iterations
        ));
    }
    in_range("solver.newton_tol_thermal_voltages", sv.newton_tol_thermal_voltages, 1e-14, 1e-1)?;
    if sv.newton_max_iterations == 0 || sv.newton_max_iterations > 10_000 {
        return Err(format!(
            "key `solver.newton_max_iterations`: {} is outside the accepted range 1..=10000",
            sv.newton_max_iterations
        ));
    }
    Ok(())
}

/// A number as users write it: plain in [1e-3, 1e4), scientific otherwise (1e-6, not 0.000001).
pub(crate) fn num(v: f64) -> String {
    if v == 0.0 || (1e-3..1e4).contains(&v.abs()) || !v.is_finite() {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

pub(super) fn finite(key: &str, v: f64) -> Result<(), String> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(format!("key `{key}`: {} is not a finite number", num(v)))
    }
}

/// Most time steps (accepted and rejected) a transient run may take; the time loop stops with
/// an error past it.
pub const MAX_TIME_STEPS: u32 = 100_000;

/// Most output times a transient run may have (`time.output_times_s`).
pub const MAX_OUTPUT_TIMES: usize = 1000;

/// Accepted extent of a domain, m (a box's half-width and height; an imported mesh's extent).
pub const DOMAIN_LENGTH_M: [f64; 2] = [1e-10, 1.0];

/// Accepted ranges of positive quantities by the unit or name their key ends with: the scales a
/// zinc anode's surroundings can have, so that no scaled parameter of the solve overflows or
/// vanishes (a 1e-200 m radius or a 1e308 S/m conductivity made non-finite matrices).
pub const POSITIVE_RANGES: [(&str, f64, f64); 6] = [
    ("conductivity_S_m", 1e-6, 1e4),
    ("exchange_current_density_A_m2", 1e-12, 1e6),
    ("diffusivity_m2_s", 1e-16, 1e-6),
    ("concentration_mol_m3", 1e-6, 1e5),
    ("specific_area_m_1", 1e-3, 1e10),
    ("_m", DOMAIN_LENGTH_M[0], DOMAIN_LENGTH_M[1]),
];

/// A positive number, within [`POSITIVE_RANGES`] where its key's ending has a range.
pub(super) fn positive(key: &str, v: f64) -> Result<(), String> {
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("key `{key}`: {} must be a positive number", num(v)));
    }
    match POSITIVE_RANGES.iter().find(|(ending, _, _)| key.ends_with(ending)) {
        Some(&(_, lo, hi)) => in_range(key, v, lo, hi),
        None => Ok(()),
    }
}

pub(super) fn in_range(key: &str, v: f64, lo: f64, hi: f64) -> Result<(), String> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(format!("key `{key}`: {} is outside the accepted range [{}, {}]", num(v), num(lo), num(hi)))
    }
}

/// Species of the tertiary model: positive diffusivities and concentrations, an electroneutral
/// bulk, a reacting species whose charge is the electron count, and a last species that is the
/// only one of its sign (it is eliminated by electroneutrality and must stay positive).
/// A stated transference number belongs to a transport model's binary electrolyte and lies
/// strictly between 0 and 1.
fn check_transference_number(ph: &crate::scene::Physics, t_plus: f64) -> Result<(), String> {
    let key = "physics.cation_transference_number";
    if !t_plus.is_finite() || t_plus <= 0.0 || t_plus >= 1.0 {
        return Err(format!("key `{key}`: {} must lie strictly between 0 and 1", num(t_plus)));
    }
    if !ph.model.has_transport() {
        return Err(format!("key `{key}`: applies to the tertiary and pnp models (this scene's model has no species transport)"));
    }
    if crate::physics::electrolyte::cation_and_anion(&ph.species).is_none() {
        return Err(format!(
            "key `{key}`: applies to a binary electrolyte (one cation, one anion); `physics.species` lists {}",
            ph.species.len()
        ));
    }
    Ok(())
}

fn check_species(s: &Scene) -> Result<(), String> {
    check_species_common(s)?;
    check_tertiary_species(s)
}

/// Checks shared by the transport models: at least two species, positive diffusivities and
/// concentrations, distinct names, an electroneutral bulk.
fn check_species_common(s: &Scene) -> Result<(), String> {
    let sp = &s.physics.species;
    if sp.len() < 2 {
        return Err(format!("key `physics.species`: the transport models need at least two species, got {}", sp.len()));
    }
    for (i, x) in sp.iter().enumerate() {
        let key = format!("physics.species.{i}");
        positive(&format!("{key}.diffusivity_m2_s"), x.diffusivity_m2_s)?;
        positive(&format!("{key}.bulk_concentration_mol_m3"), x.bulk_concentration_mol_m3)?;
        if x.charge == 0 || x.charge.abs() > 4 {
            return Err(format!("key `{key}.charge`: {} must be a non-zero charge number in -4..=4", x.charge));
        }
        if sp[..i].iter().any(|y| y.name == x.name) {
            return Err(format!("key `{key}.name`: species `{}` is listed twice", x.name));
        }
        // Names go into file names, VTU (XML) attributes and CSV headers.
        if x.name.trim().is_empty() || x.name.chars().any(|c| c.is_control() || "\"<>&,/\\".contains(c)) {
            return Err(format!(
                "key `{key}.name`: {:?} must be a non-empty name without control characters or any of \" < > & , / \\",
                x.name
            ));
        }
        // Every output spells a species by its file-safe form.
        if let Some(y) = sp[..i].iter().find(|y| super::file_safe(&y.name) == super::file_safe(&x.name)) {
            return Err(format!(
                "key `{key}.name`: species `{}` and `{}` would share output names (`{}`); name them apart",
                x.name,
                y.name,
                super::file_safe(&x.name)
            ));
        }
    }
    let charge: f64 = sp.iter().map(|x| x.charge as f64 * x.bulk_concentration_mol_m3).sum();
    let scale: f64 = sp.iter().map(|x| (x.charge as f64 * x.bulk_concentration_mol_m3).abs()).sum();
    if charge.abs() > 1e-9 * scale {
        return Err(format!(
            "key `physics.species`: the bulk is not electroneutral: sum z_i c_i = {} mol/m^3 (must be 0)",
            num(charge)
        ));
    }
    Ok(())
}

fn check_tertiary_species(s: &Scene) -> Result<(), String> {
    let sp = &s.physics.species;
    let last = &sp[sp.len() - 1];
    if sp[..sp.len() - 1].iter().any(|x| x.charge.signum() == last.charge.signum()) {
        return Err(format!(
            "key `physics.species.{}`: the last species (`{}`) is eliminated by electroneutrality and must be the only one of its sign; \
             reorder the species",
            sp.len() - 1,
            last.name
        ));
    }
    check_reacting_species(s, sp.len() - 1, " (the last species cannot react)")
}

/// The reacting species is one of the first `candidates` species and carries the charge of the
/// electrons transferred. `why` explains a restriction in the message.
fn check_reacting_species(s: &Scene, candidates: usize, why: &str) -> Result<(), String> {
    let sp = &s.physics.species;
    let k = &s.physics.kinetics;
    let r = sp[..candidates].iter().position(|x| x.name == k.reacting_species).ok_or_else(|| {
        format!(
            "key `physics.kinetics.reacting_species`: `{}` is not one of the species {}{why}",
            k.reacting_species,
            sp[..candidates].iter().map(|x| format!("`{}`", x.name)).collect::<Vec<_>>().join(", ")
        )
    })?;
    if sp[r].charge != k.electrons as i32 {
        return Err(format!(
            "key `physics.kinetics.electrons`: {} must equal the charge {} of the reacting species `{}` (it is reduced to the neutral metal)",
            k.electrons, sp[r].charge, sp[r].name
        ));
    }
    in_range("physics.kinetics.cathodic_reaction_order", k.cathodic_reaction_order, 0.0, 4.0)?;
    Ok(())
}
