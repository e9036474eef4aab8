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
//! Mass balance: the deposited volume (the grid's integral) equals the charge passed times
//! M / (n F rho) to rounding, by construction; the electrolyte volume the meshes lose is an
//! independent check of the geometry (`summary.json` `growth.mesh_volume_balance`).

pub mod deposit;

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
    pub grid: Elevation,
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

    fn done(&self, progress: f64) -> bool {
        progress >= self.end * (1.0 - 1e-9)
    }
}

/// Refuses a growth scene in a command that runs each scene's initial surface only (`sweep`,
/// `compare`), rather than drop its growth block silently.
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

/// Runs a growth scene to its end.
pub fn run(scene: &Scene, choice: BackendChoice) -> Result<GrowthResult> {
    let growth = scene.growth.as_ref().ok_or_else(|| Error::input("the scene has no `growth` block"))?;
    let mut stepper = Stepper::new(scene, growth, choice)?;
    let goal = Goal::of(growth);
    let g = &scene.geometry;
    let (mut t, mut q) = (0.0_f64, 0.0_f64);
    let mut rows: Vec<GrowthRow> = Vec::new();
    let mut snapshots = Vec::new();
    let mut sections = Vec::new();
    let mut next_mark = 0;
    loop {
        progress::stage(&format!("growth step {} (t = {t:.3e} s)", rows.len()));
        let step = stepper.solve(t, q)?;
        let progress_now = goal.progress(t, q);
        let at_mark = next_mark < goal.marks.len() && progress_now >= goal.marks[next_mark] * (1.0 - 1e-9);
        if rows.is_empty() || at_mark {
            next_mark += usize::from(at_mark);
            snapshots.push(write::snapshot(t, &step.result));
        }
        sections.push((t, stepper.section(&step.heights)));
        rows.push(step.row.clone());
        if goal.done(progress_now) {
            return Ok(stepper.finish(step.result, rows, snapshots, sections, "end".into()));
        }
        if let Some(why) = needle(&stepper.grid, &step.heights) {
            progress::warn(&format!("growth stopped at t = {t:.4e} s: {why}"));
            if !at_mark && rows.len() > 1 {
                snapshots.push(write::snapshot(t, &step.result));
            }
            return Ok(stepper.finish(step.result, rows, snapshots, sections, why));
        }
        let current = step.row.total_current_a;
        let fastest = step.speeds.iter().fold(0.0_f64, |m, s| m.max(s.abs()));
        if fastest == 0.0 || current == 0.0 {
            return Err(Error::input(format!(
                "growth: the electrode carries no current at t = {t:e} s (total {current:e} A), so it cannot grow to the end \
                 of the run; check the operation block"
            )));
        }
        // Progress per second: 1 (time) or the charge rate per area.
        let rate = if goal.by_charge { current.abs() / stepper.projected_area } else { 1.0 };
        let mut dt = stepper.step_height / fastest;
        stepper.check_steps(rows.len(), goal.end / (rate * dt), progress_now, goal.end)?;
        if let Some(&mark) = goal.marks.get(next_mark) {
            dt = dt.min((mark - progress_now) / rate);
        }
        let rises = step.heights.iter().zip(&step.speeds).map(|(h, s)| h + s * dt);
        let (lowest, highest) = rises.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), h| (lo.min(h), hi.max(h)));
        if highest > MAX_RISE_FRACTION * g.height_m || lowest < -g.height_m {
            let why = format!(
                "the next step would take the surface to z = {:.4e} m, beyond {MAX_RISE_FRACTION} of geometry.height_m = {:e} m \
                 or one height below the start",
                if highest > MAX_RISE_FRACTION * g.height_m { highest } else { lowest },
                g.height_m
            );
            progress::warn(&format!("growth stopped at t = {t:.4e} s: {why}"));
            if !at_mark && rows.len() > 1 {
                snapshots.push(write::snapshot(t, &step.result));
            }
            return Ok(stepper.finish(step.result, rows, snapshots, sections, why));
        }
        stepper.grid.raise(&step.rates, dt);
        t += dt;
        q -= current * dt / stepper.projected_area;
    }
}

/// One solved step: the run on the current surface, the deposition it drives and the row.
struct Step {
    result: RunResult,
    /// Deposited volume per second at each grid node, m^3/s, and the rise speed there, m/s.
    rates: Vec<f64>,
    speeds: Vec<f64>,
    /// Surface height at each grid node, m.
    heights: Vec<f64>,
    row: GrowthRow,
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
    /// The grid row through the initial electrode's highest point (the cross-sections).
    section_row: usize,
    /// The kinds of warning reported so far (their words without numbers).
    warned: std::collections::HashSet<String>,
    totals: [f64; 3],
}

impl<'a> Stepper<'a> {
    fn new(scene: &'a Scene, growth: &'a GrowthControls, choice: BackendChoice) -> Result<Self> {
        let start = Instant::now();
        let g = &scene.geometry;
        let sizes = SizeField { limit: run::resources::tet_limit(scene)?, ..run::size_field(scene) };
        let base = ElectrodeGeometry::from_scene(g);
        let grid = run::domain::initial_elevation(scene, &sizes)
            .ok_or_else(|| Error::input("growth: the scene has no elevation grid"))?;
        let base_heights = initial_heights(&base, &grid);
        let start_heights: Vec<f64> = grid.heights().iter().zip(&base_heights).map(|(g, h)| g + h).collect();
        let top = (0..start_heights.len()).fold(0, |best, k| if start_heights[k] > start_heights[best] { k } else { best });
        let section_row = top / grid.nodes_per_side();
        Ok(Stepper {
            scene,
            growth,
            step_height: growth.max_step_fraction * sizes.near,
            sizes,
            base,
            base_heights,
            initial_volume: grid.volume(),
            grid,
            volume_per_charge: growth.volume_per_charge(scene.physics.kinetics.electrons),
            projected_area: 4.0 * g.half_width_m * g.half_width_m,
            mode: g.relief.as_ref().and_then(|r| r.modes.first()).map(|m| m.wavevector_and_phase()),
            backend: backend::open(choice)?,
            start,
            first_volume: None,
            section_row,
            warned: Default::default(),
            totals: [0.0; 3],
        })
    }

    /// Meshes the current surface, solves on it and spreads its deposition onto the grid.
    fn solve(&mut self, t: f64, q: f64) -> Result<Step> {
        let heights: Vec<f64> = self.grid.heights().iter().zip(&self.base_heights).map(|(g, h)| g + h).collect();
        let surface = self.grid.with_heights(heights.clone());
        let meshed = Instant::now();
        let geom = self.base.clone().raised(self.grid.clone(), run::domain::floor_clearance(&self.sizes));
        let mesh = mesh::generate(&geom, &self.sizes)?;
        let mesh_s = meshed.elapsed().as_secs_f64();
        let solved = Instant::now();
        let length_scale = run::length_scale(self.scene);
        let domain = Domain { mesh, geometry: Some(geom), sizes: Some(self.sizes.clone()), length_scale };
        let (result, warnings) =
            progress::hold_warnings(|| run::run_on_backend(self.scene, domain, &mut self.backend, self.start, mesh_s));
        let result = result?;
        // Each kind of warning once per run: the first step's, and later ones that are new.
        for w in warnings {
            let kind: String = w.chars().filter(|c| c.is_alphabetic() || *c == ' ').collect();
            if self.warned.insert(kind) {
                progress::warn(&w);
            }
        }
        let solve_s = solved.elapsed().as_secs_f64();
        let deposited = Instant::now();
        let raw = &result.fields.electrode_raw;
        let rates = deposit::deposition_rates(&result.mesh, &result.electrode_nodes, raw, self.volume_per_charge, &self.grid);
        let deposit_s = deposited.elapsed().as_secs_f64();
        let areas = self.grid.node_areas();
        let speeds: Vec<f64> = rates.iter().zip(&areas).map(|(v, a)| v / a).collect();
        let top = (0..heights.len()).fold(0, |best, k| if heights[k] > heights[best] { k } else { best });
        let bottom = (0..heights.len()).fold(0, |best, k| if heights[k] < heights[best] { k } else { best });
        self.first_volume.get_or_insert(result.mesh.volume());
        let deposited_volume = self.grid.volume() - self.initial_volume;
        self.totals = [self.totals[0] + mesh_s, self.totals[1] + solve_s, self.totals[2] + deposit_s];
        let row = GrowthRow {
            time_s: t,
            plating_charge_c_m2: q,
            deposited_volume_m3: deposited_volume,
            mean_thickness_m: deposited_volume / self.projected_area,
            max_height_m: heights[top],
            min_height_m: heights[bottom],
            rms_roughness_m: surface.rms_roughness(),
            mode_amplitude_m: self.mode.map(|(k, phase)| surface.mode_amplitude(k, phase)),
            mode_growth_rate_1_s: self.mode.map(|(k, phase)| {
                self.grid.with_heights(speeds.clone()).mode_amplitude(k, phase) / surface.mode_amplitude(k, phase)
            }),
            top_speed_m_s: speeds[top],
            tip_to_valley_speed_ratio: speeds[top] / speeds[bottom],
            mean_speed_m_s: rates.iter().sum::<f64>() / self.projected_area,
            total_current_a: result.summary.electrode.total_current,
            nodes: result.mesh.nodes.len(),
            mesh_s,
            solve_s,
            deposit_s,
        };
        Ok(Step { result, rates, speeds, heights, row })
    }

    /// The heights of the cross-section row, m.
    fn section(&self, heights: &[f64]) -> Vec<f64> {
        let n = self.grid.nodes_per_side();
        heights[self.section_row * n..(self.section_row + 1) * n].to_vec()
    }

    /// Refuses a run that would take more than `growth.max_steps` steps: before the first step
    /// from its speed (`estimate` steps), and at any step once the count is reached.
    fn check_steps(&self, taken: usize, estimate: f64, progress_now: f64, end: f64) -> Result<()> {
        let max = self.growth.max_steps as usize;
        if taken == 1 && estimate.ceil() > max as f64 {
            return Err(Error::input(format!(
                "key `growth.max_steps`: the run needs about {:.0} steps at the first step's speed (steps of {:.3e} m), more \
                 than growth.max_steps = {max}; raise it, shorten the run or coarsen mesh.size_near_m",
                estimate.ceil(),
                self.step_height
            )));
        }
        if taken >= max {
            return Err(Error::input(format!(
                "key `growth.max_steps`: {max} steps did not reach the end of the run ({progress_now:e} of {end:e}); the \
                 deposit sped up: raise growth.max_steps"
            )));
        }
        Ok(())
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
        let ratio = if end.deposited_volume_m3 != 0.0 { lost / end.deposited_volume_m3 - 1.0 } else { 0.0 };
        let summary = GrowthSummary {
            steps: rows.len(),
            stopped_by,
            end_time_s: end.time_s,
            plating_charge_c_m2: end.plating_charge_c_m2,
            volume_per_charge_m3_c: self.volume_per_charge,
            deposited_volume_m3: end.deposited_volume_m3,
            expected_volume_m3: expected,
            mass_balance: balance(end.deposited_volume_m3),
            mesh_volume_balance: ratio,
            grid_spacing_m: self.grid.spacing(),
            grid_nodes_per_side: self.grid.nodes_per_side(),
            mesh_s: self.totals[0],
            solve_s: self.totals[1],
            deposit_s: self.totals[2],
        };
        last.summary.growth = Some(summary);
        let n = self.grid.nodes_per_side();
        let section_x = (0..n).map(|i| self.grid.node(i, self.section_row).x).collect();
        let section_y = self.grid.node(0, self.section_row).y;
        GrowthResult { last, rows, snapshots, sections, section_y, section_x, grid: self.grid }
    }
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

/// A spike one grid cell wide rising more than [`NEEDLE_CELLS`] cells above all four of its
/// neighbours, if the surface `heights` on `grid` has one: a feature the grid cannot resolve,
/// whose growth the grid, not the physics, sets. Returns what to tell the user.
fn needle(grid: &Elevation, heights: &[f64]) -> Option<String> {
    let n = grid.nodes_per_side();
    let dx = grid.spacing();
    let mut worst: Option<(usize, f64)> = None;
    for j in 1..n - 1 {
        for i in 1..n - 1 {
            let k = j * n + i;
            let around = heights[k - 1].max(heights[k + 1]).max(heights[k - n]).max(heights[k + n]);
            let rise = heights[k] - around;
            if rise > NEEDLE_CELLS * dx && worst.is_none_or(|(_, r)| rise > r) {
                worst = Some((k, rise));
            }
        }
    }
    worst.map(|(k, rise)| {
        let at = grid.node(k % n, k / n);
        format!(
            "a spike one grid cell wide at (x, y) = ({:.4e}, {:.4e}) m rises {rise:.3e} m above its neighbours ({NEEDLE_CELLS} grid \
             cells of {dx:.3e} m or more): the grid, not the physics, now sets its growth (this model has no length scale \
             that stops short waves: the primary distribution, or transport-limited growth without surface energy); lower \
             growth.grid_spacing_m and mesh.size_near_m to follow it further",
            at.x, at.y
        )
    })
}

/// How many grid cells a one-cell spike may rise above its neighbours before the run stops.
const NEEDLE_CELLS: f64 = 2.0;
