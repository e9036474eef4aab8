//! Deposit growth: the electrode advances as it plates, and the field is solved again on the
//! moved surface (the scene's `growth` block; the model is on
//! [`crate::scene::GrowthControls`]).
//!
//! One step: mesh the electrolyte above the raised electrode, solve the model's steady state
//! on it ([`crate::run::run_on_backend`]), spread the deposition of every electrode face onto
//! the elevation grid ([`deposit`]), and raise the grid by that rate times the step (forward
//! Euler). The step is the largest that moves no grid node by more than
//! `growth.max_step_fraction` of the element size at the electrode and ends on the next output
//! mark. The surface is a height field: the initial electrode (flat, relief and protrusions)
//! with every column raised by the metal deposited over it, so bumps that meet merge without
//! any topology to repair.
//!
//! Mass balance: the volume deposited (the faces' spread deposits, summed over the steps) against
//! the charge passed (the solves' total currents, integrated) times M / (n F rho): they agree to
//! rounding when the spreading loses no face and no current. The electrolyte volume the meshes
//! lose, against the volume under the risen surface, measures the meshed surfaces' own error
//! (`summary.json` `growth.mesh_thickness_error_m`).

pub mod checkpoint;
pub mod coat;
pub mod deposit;
pub mod filling;
mod stops;

use std::borrow::Cow;
use std::time::Instant;

use glam::DVec3;

use crate::backend::{self, BackendChoice};
use crate::error::{Error, Result};
use crate::geometry::{crossing, ElectrodeGeometry, Elevation};
use crate::mesh::{self, Domain, SizeField};
use crate::output::growth as write;
pub use crate::output::growth::{GrowthRow, GrowthSummary, Snapshot};
use crate::progress;
use crate::run::{self, RunResult};
use crate::scene::{GrowthControls, Scene};
use stops::{check_snapshot_memory, leaves_box, needle};

/// The surface may rise to this fraction of the box height before the run stops.
pub const MAX_RISE_FRACTION: f64 = 0.8;

/// A finished growth run: the final state as an ordinary run, its record, and the snapshots at
/// the output marks (time, fields VTU, electrode VTU).
pub struct GrowthResult {
    pub last: RunResult,
    pub rows: Vec<GrowthRow>,
    pub snapshots: Vec<Snapshot>,
    /// The surface along the grid row through the initial electrode's highest point at every
    /// step: (time, heights at the row's nodes), m.
    pub sections: Vec<(f64, Vec<f64>)>,
    /// That row's y and its nodes' x, m.
    pub section_y: f64,
    pub section_x: Vec<f64>,
    /// The first coating layer's top along the cross-section (its name, heights in m; NaN where
    /// the line has none).
    pub coating_top: Option<(String, Vec<f64>)>,
    /// The elevation grid at the end, and the rise speeds of the first step at its nodes, m/s.
    pub grid: Elevation,
    pub first_speeds: Vec<f64>,
}

/// What ends the run and how far along it is.
struct Goal {
    by_charge: bool,
    end: f64,
    marks: Vec<f64>,
}

impl Goal {
    fn of(g: &GrowthControls) -> Self {
        let (by_charge, end) = match (g.end_charge_c_m2, g.end_s) {
            (Some(q), _) => (true, q),
            (None, Some(t)) => (false, t),
            (None, None) => (false, 0.0),
        };
        let marks = (1..=g.outputs).map(|k| end * k as f64 / g.outputs as f64).collect();
        Goal { by_charge, end, marks }
    }

    /// Progress at time t with plating charge q (C/m^2).
    fn progress(&self, t: f64, q: f64) -> f64 {
        if self.by_charge {
            q.abs()
        } else {
            t
        }
    }

    /// Whether the snapshot after `marks_passed` output marks carries an animation frame: every
    /// k-th, so that at most [`write::MAX_FRAMES`] do (the last state always does).
    fn framed(&self, marks_passed: usize) -> bool {
        let stride = self.marks.len().div_ceil(write::MAX_FRAMES - 1).max(1);
        marks_passed % stride == 0
    }

    fn done(&self, progress: f64) -> bool {
        progress >= self.end * (1.0 - 1e-9)
    }
}

/// Writes a finished growth run into `dir`: the final surface's outputs with the growth series
/// and plots ([`crate::output::growth::growth_files`]), summary.json last.
pub fn write_outputs(scene: &Scene, grown: &mut GrowthResult, dir: &std::path::Path) -> Result<()> {
    let coating_top = grown.coating_top.as_ref().map(|(name, top)| (name.as_str(), top.as_slice()));
    let section = write::Section { y: grown.section_y, x: &grown.section_x, heights: &grown.sections, coating_top };
    let extra = write::growth_files(scene, &grown.rows, &grown.snapshots, &section)?;
    run::write_outputs_with(&mut grown.last, dir, extra)?;
    // The run is complete: the snapshots a checkpoint kept are no longer needed.
    checkpoint::remove_snapshots(dir)
}

/// Refuses a growth scene in a command that runs each scene's initial surface only (`sweep`),
/// rather than drop its growth block silently.
pub fn only_in_run(scene: &Scene, command: &str) -> Result<()> {
    match scene.growth {
        Some(_) => Err(Error::input(format!(
            "scene `{}`, key `growth`: `znfield {command}` solves each scene's initial surface only; run a growth scene \
             with `znfield run` (or remove its growth block)",
            scene.name
        ))),
        None => Ok(()),
    }
}

/// How a growth run keeps its progress: where to write checkpoints, and a checkpoint (with
/// its snapshots) to continue from.
#[derive(Default)]
pub struct GrowthOptions {
    pub checkpoints: Option<checkpoint::Plan>,
    pub resume: Option<(checkpoint::GrowthCheckpoint, Vec<Snapshot>)>,
}

/// Runs a growth scene to its end.
pub fn run(scene: &Scene, choice: BackendChoice) -> Result<GrowthResult> {
    run_with(scene, choice, GrowthOptions::default())
}

/// Runs a growth scene to its end, writing checkpoints and continuing from one as `options`
/// say.
pub fn run_with(scene: &Scene, choice: BackendChoice, options: GrowthOptions) -> Result<GrowthResult> {
    let growth = scene.growth.as_ref().ok_or_else(|| Error::input("the scene has no `growth` block"))?;
    let mut stepper = Stepper::new(scene, growth, choice)?;
    let goal = Goal::of(growth);
    let g = &scene.geometry;
    let (mut t, mut q) = (0.0_f64, 0.0_f64);
    let mut rows: Vec<GrowthRow> = Vec::new();
    let mut snapshots = Vec::new();
    let mut sections = Vec::new();
    let mut next_mark = 0;
    let mut earlier_wall_s = 0.0;
    if let Some((ck, kept)) = options.resume {
        stepper.restore(&ck.state, &ck.path)?;
        let st = ck.state;
        (t, q, rows, sections, next_mark, snapshots, earlier_wall_s) =
            (st.time_s, st.plating_charge_c_m2, st.rows, st.sections, st.marks_passed, kept, ck.wall_time_s);
    }
    let backend_name = stepper.backend.kind.to_string();
    let mut saver = options
        .checkpoints
        .as_ref()
        .map(|plan| checkpoint::Saver::new(plan, scene, &backend_name, earlier_wall_s, snapshots.len()));
    loop {
        progress::stage(&format!("growth step {} (t = {t:.3e} s)", rows.len()));
        let step = stepper.solve(t, q)?;
        let progress_now = goal.progress(t, q);
        let at_mark = next_mark < goal.marks.len() && progress_now >= goal.marks[next_mark] * (1.0 - 1e-9);
        if rows.is_empty() {
            stepper.first_speeds = step.front.clone();
        }
        if rows.is_empty() || at_mark {
            next_mark += usize::from(at_mark);
            let framed = goal.framed(next_mark) || goal.done(progress_now);
            snapshots.push(write::snapshot(t, &step.result, framed));
            if rows.is_empty() {
                check_snapshot_memory(&snapshots[0], goal.marks.len() + 2)?;
            }
        }
        sections.push((t, stepper.section(&step.heights)));
        rows.push(step.row.clone());
        // The progress bar over the run's end (time or charge).
        progress::report(progress::Event::TimeStep { step: rows.len() as u32, fraction: (progress_now / goal.end).min(1.0) });
        if goal.done(progress_now) {
            return Ok(stepper.finish(step.result, rows, snapshots, sections, "end".into()));
        }
        let current = step.row.total_current_a;
        let fastest = step.front.iter().fold(0.0_f64, |m, s| m.max(s.abs())).max(step.coat.as_ref().map_or(0.0, |c| c.fastest()));
        let fill_limit = step.fill.as_ref().zip(stepper.filling.as_ref()).map_or(f64::INFINITY, |(r, f)| f.step_limit(r));
        let breakpoint = stepper.next_breakpoint(t);
        let idle = ((fastest == 0.0 && fill_limit.is_infinite()) || current == 0.0) && breakpoint.is_none();
        if let Some(why) = idle.then(|| stepper.sealed()).flatten() {
            progress::warn(&format!("growth stopped at t = {t:.4e} s: {why}"));
            return Ok(stepper.finish(step.result, rows, snapshots, sections, why));
        }
        if idle {
            return Err(Error::input(format!(
                "growth: the electrode carries no current at t = {t:e} s (total {current:e} A), so it cannot grow to the end \
                 of the run; check the operation block"
            )));
        }
        // Progress per second: 1 (time) or the charge rate per area.
        let rate = if goal.by_charge { current.abs() / stepper.projected_area } else { 1.0 };
        let mut dt = if fastest > 0.0 { stepper.step_height / fastest } else { f64::INFINITY }.min(fill_limit);
        stepper.check_first_step(rows.len(), goal.end / (rate * dt))?;
        if let Some(&mark) = goal.marks.get(next_mark) {
            dt = dt.min((mark - progress_now) / rate);
        }
        if let Some(edge) = breakpoint {
            dt = dt.min(edge - t);
        }
        let next: Vec<f64> = step.heights.iter().zip(&step.front).map(|(h, s)| h + s * dt).collect();
        let stop = needle(&stepper.grid, &step.heights)
            .or_else(|| stepper.steps_exhausted(rows.len(), progress_now, goal.end))
            .or_else(|| stepper.sealed())
            .or_else(|| stepper.dissolves_unfollowed(&step))
            .or_else(|| stepper.scaffold_reached(&next, step.coat.as_ref(), dt))
            .or_else(|| stepper.coating_reached(&next))
            .or_else(|| leaves_box(&next, g.height_m));
        if let Some(why) = stop {
            progress::warn(&format!("growth stopped at t = {t:.4e} s: {why}"));
            if !at_mark && rows.len() > 1 {
                snapshots.push(write::snapshot(t, &step.result, true));
            }
            return Ok(stepper.finish(step.result, rows, snapshots, sections, why));
        }
        stepper.warn_near_bulk(&next, t);
        stepper.advance(&step, dt);
        t += dt;
        q -= current * dt / stepper.projected_area;
        if let Some(saver) = saver.as_mut() {
            let state = || stepper.state([t, q], next_mark, &rows, &sections, &snapshots);
            saver.after_step(state, &snapshots)?;
        }
    }
}

/// One solved step: the run on the current surface, the deposition it drives and the row.
struct Step {
    result: RunResult,
    /// Deposited volume per second at each grid node, m^3/s.
    rates: Vec<f64>,
    /// The speed at which the surface rises at each grid node, m/s: the deposited volume per
    /// second over the node's area and the pore fraction the front advances into (1 in open
    /// electrolyte; a coating layer's porosity inside it, where zinc fills only the pores).
    front: Vec<f64>,
    /// Surface height at each grid node, m.
    heights: Vec<f64>,
    row: GrowthRow,
    /// How fast a conductive layer's pores fill (None without one).
    fill: Option<filling::FillRates>,
    /// How fast a resolved scaffold's solids grow (None without one).
    coat: Option<coat::ScaffoldRates>,
}

/// What stays fixed over a growth run, and the growing grid.
struct Stepper<'a> {
    scene: &'a Scene,
    growth: &'a GrowthControls,
    sizes: SizeField,
    /// The initial electrode (flat, with protrusions) that the grid raises.
    base: ElectrodeGeometry,
    /// Height of the initial electrode's protrusions at each grid node, m.
    base_heights: Vec<f64>,
    grid: Elevation,
    /// The elevation the coating layers were laid on: the initial one.
    coated: Elevation,
    /// The initial geometry on that elevation, where the coating layers are (their levels,
    /// depths and porosities); built once.
    coated_geometry: ElectrodeGeometry,
    /// The waveform's breakpoints before the end (s), increasing; empty without a waveform.
    breakpoints: Vec<f64>,
    initial_volume: f64,
    volume_per_charge: f64,
    projected_area: f64,
    /// Largest rise of the surface in one step, m.
    step_height: f64,
    /// Wavevector and phase of the relief's first mode.
    mode: Option<(glam::DVec2, f64)>,
    backend: backend::Backend,
    start: Instant,
    /// Electrolyte volume of the first step's mesh, m^3.
    first_volume: Option<f64>,
    /// Zinc deposited so far (the rates integrated over the steps), m^3.
    zinc_volume: f64,
    /// The first step's rise speeds at the grid nodes, m/s.
    first_speeds: Vec<f64>,
    /// The grid row through the initial electrode's highest point (the cross-sections).
    section_row: usize,
    /// The kinds of warning reported so far (their words without numbers).
    warned: std::collections::HashSet<String>,
    /// Every warning of the run, each kind once (summary.json `warnings`).
    notes: Vec<String>,
    totals: [f64; 3],
    /// The pores of a conductive first layer as they fill (None without one).
    filling: Option<filling::Filling>,
    /// The steps a resumed run's checkpoint held.
    resumed_after: Option<usize>,
    /// A resolved scaffold with the metal deposited on it so far (None without one), and that
    /// metal's volume, m^3.
    scaffold: Option<crate::geometry::Scaffold>,
    scaffold_volume: f64,
    /// The fraction of its cell on the fibre's surface that each fibre grid node covered in the
    /// last solve's mesh, and of each particle's sphere.
    scaffold_covered: (Vec<Vec<f64>>, Vec<f64>),
}

impl<'a> Stepper<'a> {
    fn new(scene: &'a Scene, growth: &'a GrowthControls, choice: BackendChoice) -> Result<Self> {
        let start = Instant::now();
        let g = &scene.geometry;
        let sizes = SizeField { limit: run::resources::tet_limit(scene)?, ..run::size_field(scene) };
        let base = ElectrodeGeometry::from_scene(g);
        let grid = run::domain::initial_elevation(scene, &sizes)?
            .ok_or_else(|| Error::input("growth: the scene has no elevation grid"))?;
        let base_heights = initial_heights(&base, &grid);
        let start_heights: Vec<f64> = grid.heights().iter().zip(&base_heights).map(|(g, h)| g + h).collect();
        let top = (0..start_heights.len()).fold(0, |best, k| if start_heights[k] > start_heights[best] { k } else { best });
        let section_row = top / grid.nodes_per_side();
        let coated_geometry = base.clone().raised(grid.clone(), grid.clone(), 0.0);
        let filling = filling::Filling::of(&g.layers, growth, &sizes, &coated_geometry);
        let scaffold = (!base.scaffold.is_empty()).then(|| coat::grown_scaffold(&base, grid.spacing()));
        Ok(Stepper {
            scene,
            growth,
            step_height: growth.max_step_fraction * sizes.near,
            sizes,
            base,
            base_heights,
            initial_volume: grid.volume(),
            coated: grid.clone(),
            coated_geometry,
            breakpoints: breakpoints_of(scene, growth),
            grid,
            volume_per_charge: growth.volume_per_charge(scene.physics.kinetics.electrons),
            projected_area: 4.0 * g.half_width_m * g.half_width_m,
            mode: g.relief.as_ref().and_then(|r| r.modes.first()).map(|m| m.wavevector_and_phase()),
            backend: backend::open(choice)?,
            start,
            first_volume: None,
            zinc_volume: 0.0,
            first_speeds: Vec::new(),
            section_row,
            warned: Default::default(),
            notes: Vec::new(),
            totals: [0.0; 3],
            filling,
            resumed_after: None,
            scaffold,
            scaffold_volume: 0.0,
            scaffold_covered: (Vec::new(), Vec::new()),
        })
    }

    /// Meshes the current surface, solves on it and spreads its deposition onto the grid.
    fn solve(&mut self, t: f64, q: f64) -> Result<Step> {
        let heights: Vec<f64> = self.grid.heights().iter().zip(&self.base_heights).map(|(g, h)| g + h).collect();
        let surface = self.grid.with_heights(heights.clone());
        let meshed = Instant::now();
        let clearance = run::domain::floor_clearance(&self.sizes);
        let mut geom = self.base.clone().raised(self.grid.clone(), self.coated.clone(), clearance);
        if let Some(scaffold) = &self.scaffold {
            geom.scaffold = scaffold.clone();
        }
        let mesh = mesh::generate(&geom, &self.sizes)?;
        // The media with the pores filled so far, and the layers' initial porosities.
        let (media, initial_porosity) = match &self.filling {
            Some(f) => {
                let (media, initial) = f.media(&mesh, &geom, &self.scene.geometry.layers);
                (Some(media), initial)
            }
            None => (None, Vec::new()),
        };
        let filling_geometry = self.filling.is_some().then(|| geom.clone());
        let mesh_s = meshed.elapsed().as_secs_f64();
        let solved = Instant::now();
        let length_scale = run::length_scale(self.scene);
        let domain = Domain { mesh, geometry: Some(geom), sizes: Some(self.sizes.clone()), length_scale };
        let applied = self.scene_at(t);
        // Each step's solves depend on its own systems only (not on a hierarchy kept from the
        // last step's mesh when the two match), so a run resumed from a checkpoint repeats them.
        self.backend.forget_preconditioners();
        let (result, warnings) =
            progress::hold_warnings(|| run::run_on_backend(&applied, domain, &mut self.backend, self.start, mesh_s, media));
        let result = result?;
        // Each kind of warning once per run: the first step's, and later ones that are new.
        for w in warnings {
            let kind: String = w.chars().filter(|c| c.is_alphabetic() || *c == ' ').collect();
            if self.warned.insert(kind) {
                progress::warn(&w);
                self.notes.push(w);
            }
        }
        let solve_s = solved.elapsed().as_secs_f64();
        let deposited = Instant::now();
        let raw = &result.fields.electrode_raw;
        let rates = deposit::deposition_rates(&result.mesh, &result.electrode_nodes, raw, self.volume_per_charge, &self.grid);
        let fill = match (self.filling.as_mut(), &filling_geometry) {
            (Some(f), Some(geom)) => {
                Some(f.rates(&result.mesh, geom, &result.fields.volumetric_plating, &initial_porosity, self.volume_per_charge))
            }
            _ => None,
        };
        let coat = self.scaffold.as_ref().map(|scaffold| {
            let rates = coat::scaffold_rates(&result.mesh, scaffold, &result.fields.scaffold_plating, self.volume_per_charge);
            (coat::coverage(scaffold, &rates), rates)
        });
        let coat = coat.map(|(covered, rates)| {
            self.scaffold_covered = covered;
            rates
        });
        let deposit_s = deposited.elapsed().as_secs_f64();
        let areas = self.grid.node_areas();
        let pores = self.pore_fractions(&heights);
        let front: Vec<f64> = rates.iter().zip(&areas).zip(&pores).map(|((v, a), e)| v / (a * e)).collect();
        let top = (0..heights.len()).fold(0, |best, k| if heights[k] > heights[best] { k } else { best });
        let bottom = (0..heights.len()).fold(0, |best, k| if heights[k] < heights[best] { k } else { best });
        self.first_volume.get_or_insert(result.mesh.volume());
        self.totals = [self.totals[0] + mesh_s, self.totals[1] + solve_s, self.totals[2] + deposit_s];
        let fill_zinc = fill.as_ref().map_or(0.0, |f| f.zinc) + coat.as_ref().map_or(0.0, |c| c.volume);
        let mean_speed = (rates.iter().sum::<f64>() + fill_zinc) / self.projected_area;
        // The metal's whole current: the electrode surface and, with a conductive layer, its pores.
        let coating_current = result.summary.coating.as_ref().map(|c| c.total_current);
        let mean_front = front.iter().zip(&areas).map(|(s, a)| s * a).sum::<f64>() / self.projected_area;
        let row = GrowthRow {
            time_s: t,
            plating_charge_c_m2: q,
            deposited_volume_m3: self.zinc_volume + self.filling.as_ref().map_or(0.0, |f| f.zinc_volume) + self.scaffold_volume,
            mean_thickness_m: (self.grid.volume() - self.initial_volume) / self.projected_area,
            max_height_m: heights[top],
            min_height_m: heights[bottom],
            rms_roughness_m: surface.rms_roughness(),
            mode_amplitude_m: self.mode.map(|(k, phase)| surface.mode_amplitude(k, phase)),
            mode_growth_rate_1_s: self.mode.map(|(k, phase)| {
                self.grid.with_heights(front.clone()).mode_amplitude(k, phase) / surface.mode_amplitude(k, phase)
            }),
            top_speed_m_s: front[top],
            top_to_mean_speed_ratio: if mean_front != 0.0 { front[top] / mean_front } else { 0.0 },
            mean_speed_m_s: mean_speed,
            total_current_a: coating_current.unwrap_or(result.summary.electrode.total_current),
            nodes: result.mesh.nodes.len(),
            mesh_s,
            solve_s,
            deposit_s,
            filled_by_depth: self.filling.as_ref().map_or_else(Vec::new, |f| f.profile(|xy| surface.at(xy))),
        };
        Ok(Step { result, rates, fill, coat, front, heights, row })
    }

    /// The first coating layer's top along the line y = `y` at the points `xs` (m): its name
    /// and heights, found by bisection between the electrode as coated and the bulk.
    fn coating_top_along(&self, xs: &[f64], y: f64) -> Option<(String, Vec<f64>)> {
        let layer = self.base.layers.first()?;
        let geom = &self.coated_geometry;
        let level = |p: DVec3| geom.interface_level(0, p);
        let tops = xs
            .iter()
            .map(|&x| {
                let low = DVec3::new(x, y, geom.floor().min(self.coated.at(glam::DVec2::new(x, y))));
                let high = DVec3::new(x, y, geom.height);
                if level(low) >= 0.0 || level(high) <= 0.0 {
                    return f64::NAN;
                }
                low.z + crossing(&level, low, high) * (high.z - low.z)
            })
            .collect();
        Some((layer.name.clone(), tops))
    }

    /// The pore fraction the surface advances into at each grid node (its height in `heights`,
    /// m): the porosity of the coating layer holding the point (at its depth in the layer), 1 in
    /// open electrolyte.
    fn pore_fractions(&self, heights: &[f64]) -> Vec<f64> {
        let layers = &self.scene.geometry.layers;
        let n = self.grid.nodes_per_side();
        if layers.is_empty() {
            return vec![1.0; heights.len()];
        }
        let geom = &self.coated_geometry;
        heights
            .iter()
            .enumerate()
            .map(|(k, &h)| {
                let xy = self.grid.node(k % n, k / n);
                let p = DVec3::new(xy.x, xy.y, h);
                let left = self.filling.as_ref().map_or(1.0, |f| f.pores_left(geom, p));
                (0..layers.len()).find(|&l| geom.interface_level(l, p) < 0.0).map_or(1.0, |l| {
                    let initial = layers[l].porosity.at(crate::physics::porous::depth_fraction(geom, l, p));
                    if l == 0 {
                        initial * left
                    } else {
                        initial
                    }
                })
            })
            .collect()
    }

    /// Warns, once, when the surface `next` (m, at the grid nodes) passes half the box height:
    /// the bulk boundary's fixed potential (or concentration) then shapes the tip's field.
    fn warn_near_bulk(&mut self, next: &[f64], t: f64) {
        let height = self.scene.geometry.height_m;
        let highest = next.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if highest > 0.5 * height && self.warned.insert("near bulk".into()) {
            let w = format!(
                "growth: from t = {t:.4e} s the deposit's highest point ({highest:.3e} m) is past half of geometry.height_m \
                 = {height:e} m: the bulk boundary, held at z = height_m, now shapes the field at the tip; use a taller box"
            );
            progress::warn(&w);
            self.notes.push(w);
        }
    }

    /// Takes the step: the surface rises by the front speeds over `dt` (s), and the deposited
    /// volume grows by the rates over it; a conductive layer's pores fill, and the front passes
    /// through the pores that closed above it.
    fn advance(&mut self, step: &Step, dt: f64) {
        let rises: Vec<f64> = step.front.iter().map(|s| s * dt).collect();
        self.grid.raise_by(&rises);
        self.zinc_volume += step.rates.iter().sum::<f64>() * dt;
        if let (Some(scaffold), Some(rates)) = (self.scaffold.as_mut(), &step.coat) {
            coat::advance(scaffold, rates, dt);
            self.scaffold_volume += rates.volume * dt;
        }
        let (Some(filling), Some(fill)) = (self.filling.as_mut(), &step.fill) else { return };
        filling.advance(fill, dt);
        let n = self.grid.nodes_per_side();
        let lifts: Vec<f64> = (0..n * n)
            .map(|k| {
                let xy = self.grid.node(k % n, k / n);
                let h = self.grid.heights()[k] + self.base_heights[k];
                filling.lift(&self.coated_geometry, DVec3::new(xy.x, xy.y, h)) - h
            })
            .collect();
        self.grid.raise_by(&lifts);
    }

    /// Why the run stops when a resolved scaffold, grown by `rates` over `dt` (s), would meet the
    /// surface `next` (m, at the grid nodes after the step) or near the bulk boundary.
    fn scaffold_reached(&self, next: &[f64], rates: Option<&coat::ScaffoldRates>, dt: f64) -> Option<String> {
        let (scaffold, rates) = (self.scaffold.as_ref()?, rates?);
        let surface = self.grid.with_heights(next.to_vec());
        let front = |xy: glam::DVec2| surface.at(xy);
        let g = &self.scene.geometry;
        let gap = 0.5 * self.sizes.near;
        coat::meets_electrode(scaffold, rates, dt, front, gap, g.half_width_m, MAX_RISE_FRACTION * g.height_m)
    }

    /// Why the run stops where `step` would dissolve zinc from a conductive layer's pores or from
    /// a resolved scaffold: growth follows their plating only (the pores' record and the
    /// scaffold's deposit would have to give back zinc they may not hold).
    fn dissolves_unfollowed(&self, step: &Step) -> Option<String> {
        let fill_strips = step.fill.as_ref().is_some_and(|f| {
            let tiny = 1e-9 * f.per_cell.iter().fold(0.0_f64, |m, r| m.max(r.abs()));
            f.per_cell.iter().any(|&r| r < -tiny)
        });
        let coat_strips = step.coat.as_ref().is_some_and(|c| c.strips());
        (fill_strips || coat_strips).then(|| {
            let what = if fill_strips { "the pores of a conductive coating layer" } else { "the resolved scaffold" };
            format!(
                "the current would dissolve zinc from {what}: growth follows plating there, not stripping (the deposit it \
                 would dissolve is not tracked as metal that can go back)"
            )
        })
    }

    /// Why the run stops when a conductive layer's pores have closed at its top: the layer is
    /// sealed, and zinc would plate on its top surface.
    fn sealed(&self) -> Option<String> {
        let at = self.filling.as_ref()?.sealed()?;
        Some(format!(
            "the pores at the top of coating layer `{}` closed at (x, y) = ({:.4e}, {:.4e}) m: the layer is sealed from \
             above, and zinc would now plate on its top surface, which growth does not follow",
            self.base.layers[0].name, at.x, at.y
        ))
    }

    /// Where the surface `heights` (m, at the grid nodes) would come within one interface element
    /// of the first coating layer's top, what to tell the user: the deposit would cross into the
    /// coating's top, a change of topology growth does not follow.
    fn coating_reached(&self, heights: &[f64]) -> Option<String> {
        let layer = self.base.layers.first()?;
        let geom = &self.coated_geometry;
        let least = 0.5 * self.sizes.interfaces.first().copied().unwrap_or(self.sizes.plane);
        let n = self.grid.nodes_per_side();
        let (k, gap) = heights
            .iter()
            .enumerate()
            .map(|(k, &h)| {
                let xy = self.grid.node(k % n, k / n);
                (k, -geom.interface_level(0, DVec3::new(xy.x, xy.y, h)))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        (gap < least).then(|| {
            let xy = self.grid.node(k % n, k / n);
            format!(
                "the next step would bring the deposit within {gap:.3e} m of the top of coating layer `{}` at (x, y) = \
                 ({:.4e}, {:.4e}) m (less \
                 than half an element there, {least:.3e} m): growing through a coating is a change of topology that growth does \
                 not follow",
                layer.name, xy.x, xy.y
            )
        })
    }

    /// The heights of the cross-section row, m.
    fn section(&self, heights: &[f64]) -> Vec<f64> {
        let n = self.grid.nodes_per_side();
        heights[self.section_row * n..(self.section_row + 1) * n].to_vec()
    }

    /// The scene as it applies from time `t` (s): with a waveform, the waveform's value from `t`
    /// in place of the operation's (a step's or pulse's value over the interval to its next
    /// breakpoint; a table's value at `t`, forward Euler's), and no waveform.
    fn scene_at(&self, t: f64) -> Cow<'a, Scene> {
        let Some(waveform) = &self.scene.operation.waveform else { return Cow::Borrowed(self.scene) };
        let op = &self.scene.operation;
        let current_mode = op.mode == crate::scene::OperationMode::Current;
        let on = if current_mode { op.mean_current_density_a_m2 } else { op.electrode_potential_v }.unwrap_or(0.0);
        let value = match waveform {
            crate::scene::Waveform::Table { .. } => waveform.value(t, on),
            _ => waveform.value_over(t, self.next_breakpoint(t).unwrap_or(t + 1.0), on),
        };
        let mut scene = self.scene.clone();
        scene.operation.waveform = None;
        if current_mode {
            scene.operation.mean_current_density_a_m2 = Some(value);
        } else {
            scene.operation.electrode_potential_v = Some(value);
        }
        Cow::Owned(scene)
    }

    /// The waveform's first breakpoint after `t` (s) and before the run's end, where a step
    /// must end; None without a waveform or past its last.
    fn next_breakpoint(&self, t: f64) -> Option<f64> {
        self.scene.operation.waveform.as_ref()?;
        let end = self.growth.end_s?;
        let after = t + 1e-12 * end;
        Some(self.breakpoints.iter().copied().find(|&b| b > after).unwrap_or(end))
    }

    /// Refuses, before the first step, a run whose first speed (`estimate` steps to the end)
    /// would take more than `growth.max_steps` steps.
    fn check_first_step(&self, taken: usize, estimate: f64) -> Result<()> {
        let max = self.growth.max_steps as usize;
        if taken == 1 && estimate.ceil() > max as f64 {
            return Err(Error::input(format!(
                "key `growth.max_steps`: the run needs about {:.0} steps at the first step's speed (steps of {:.3e} m), more \
                 than growth.max_steps = {max}; raise it, shorten the run or coarsen mesh.size_near_m",
                estimate.ceil(),
                self.step_height
            )));
        }
        Ok(())
    }

    /// Why the run stops here when it has taken `growth.max_steps` steps without reaching its
    /// end (the deposit sped up after the first step's estimate).
    fn steps_exhausted(&self, taken: usize, progress_now: f64, end: f64) -> Option<String> {
        let max = self.growth.max_steps as usize;
        (taken >= max).then(|| {
            format!(
                "growth.max_steps = {max} steps did not reach the end of the run ({progress_now:e} of {end:e}): the deposit \
                 sped up; raise growth.max_steps to go on"
            )
        })
    }

    /// The finished run: the last step's result with the growth record in its summary.
    fn finish(
        self,
        mut last: RunResult,
        rows: Vec<GrowthRow>,
        snapshots: Vec<Snapshot>,
        sections: Vec<(f64, Vec<f64>)>,
        stopped_by: String,
    ) -> GrowthResult {
        let end = rows.last().expect("a growth run takes a step");
        let expected = end.plating_charge_c_m2 * self.projected_area * self.volume_per_charge;
        let lost = self.first_volume.unwrap_or(0.0) - last.mesh.volume();
        let balance = |measured: f64| if expected != 0.0 { measured / expected - 1.0 } else { 0.0 };
        let front_volume = end.mean_thickness_m * self.projected_area;
        let start = rows.first().map_or(end.max_height_m, |r| r.max_height_m);
        // The highest point's rise over a length; 0 when the length is 0 (nothing moved).
        let top_rise_over = |length: f64| if length != 0.0 { (end.max_height_m - start) / length } else { 0.0 };
        let summary = GrowthSummary {
            steps: rows.len(),
            stopped_by,
            end_time_s: end.time_s,
            plating_charge_c_m2: end.plating_charge_c_m2,
            volume_per_charge_m3_c: self.volume_per_charge,
            deposited_volume_m3: end.deposited_volume_m3,
            expected_volume_m3: expected,
            mass_balance: balance(end.deposited_volume_m3),
            mean_thickness_m: end.mean_thickness_m,
            max_height_m: end.max_height_m,
            rms_roughness_m: end.rms_roughness_m,
            top_rise_over_mean_rise: top_rise_over(end.mean_thickness_m),
            top_rise_over_dense_thickness: top_rise_over(end.deposited_volume_m3 / self.projected_area),
            mesh_thickness_error_m: (lost - front_volume) / self.projected_area,
            grid_spacing_m: self.grid.spacing(),
            grid_nodes_per_side: self.grid.nodes_per_side(),
            mesh_s: self.totals[0],
            solve_s: self.totals[1],
            deposit_s: self.totals[2],
            filling: self.filling.as_ref().map(|f| filling::summary(f, end)),
            resumed_after_step: self.resumed_after,
            scaffold: self.scaffold.as_ref().map(|grown| {
                let (gained, [least, mean, greatest]) =
                    coat::deposit_volume_and_thickness(&self.base.scaffold, grown, &self.scaffold_covered);
                write::ScaffoldGrowthSummary {
                    zinc_volume_m3: self.scaffold_volume,
                    solid_volume_gained_m3: gained,
                    fibre_deposit_min_m: least,
                    fibre_deposit_mean_m: mean,
                    fibre_deposit_max_m: greatest,
                }
            }),
        };
        last.summary.growth = Some(summary);
        last.summary.warnings = self.notes.clone();
        // The last step ran the scene with the waveform's value applied; the record is the scene.
        last.summary.scene = self.scene.clone();
        let n = self.grid.nodes_per_side();
        let section_x: Vec<f64> = (0..n).map(|i| self.grid.node(i, self.section_row).x).collect();
        let section_y = self.grid.node(0, self.section_row).y;
        let coating_top = self.coating_top_along(&section_x, section_y);
        GrowthResult {
            last,
            rows,
            snapshots,
            sections,
            section_y,
            section_x,
            coating_top,
            grid: self.grid,
            first_speeds: self.first_speeds,
        }
    }
}

/// The breakpoints of a growth scene's waveform before its end, increasing (empty without a
/// waveform or an end time).
fn breakpoints_of(scene: &Scene, growth: &GrowthControls) -> Vec<f64> {
    let (Some(waveform), Some(end)) = (&scene.operation.waveform, growth.end_s) else { return Vec::new() };
    let mut points: Vec<f64> = waveform.breakpoints(end).into_iter().filter(|&b| b < end).collect();
    points.sort_by(f64::total_cmp);
    points
}

/// Height of the initial electrode (flat at 0, protrusions above it) at each grid node, m: the
/// top of the protrusion solids over the node, found by bisection on their level function.
fn initial_heights(base: &ElectrodeGeometry, grid: &Elevation) -> Vec<f64> {
    let n = grid.nodes_per_side();
    let tiny = 1e-9 * base.height;
    (0..n * n)
        .map(|k| {
            let xy = grid.node(k % n, k / n);
            let low = DVec3::new(xy.x, xy.y, tiny);
            let high = DVec3::new(xy.x, xy.y, base.height);
            if base.level(low) >= 0.0 || base.level(high) < 0.0 {
                return 0.0;
            }
            let level = |p: DVec3| base.level(p);
            tiny + crossing(&level, low, high) * (base.height - tiny)
        })
        .collect()
}
