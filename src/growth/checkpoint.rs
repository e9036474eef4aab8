//! Checkpoints of growth runs, so a long growth killed overnight continues where it stopped.
//!
//! A growth checkpoint is `checkpoint.json` in the run's output directory (the name a transient
//! run's checkpoint has; its `format` tells them apart), written atomically after a step once
//! the wall-clock interval has passed (`growth.checkpoint_wall_interval_s` or
//! `--checkpoint-every`). It holds the resolved scene and the loop's whole [`State`]: time,
//! charge, the elevation grid, the pores' filling, the rows, cross-sections and records so far.
//! Each step's mesh is built from that state, so nothing of the mesh is saved. The snapshots
//! taken so far are kept beside it, each written once: `checkpoint_snapshot_NNNN_fields.vtu`,
//! `..._electrode.vtu` and, for an animation frame, `..._frame.bin` (a JSON header line, then
//! the map's values as little-endian f64 and its regions as i32). Numbers round-trip bit for bit
//! (serde_json's shortest form read back with `float_roundtrip`), so a resumed CPU run ends with
//! the result of an uninterrupted one. The checkpoint and its snapshot files are removed once
//! the outputs, with summary.json last, are in place.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::filling::FillingState;
use crate::error::{Error, Result};
use crate::output::atomic;
use crate::output::growth::{GrowthRow, Snapshot};
use crate::output::maps::render::Arrow;
use crate::output::maps::sample::PixelGrid;
use crate::output::maps::Map;
use crate::scene::Scene;

/// Identifies the file format (the transient checkpoint's is "znfield transient checkpoint").
pub const FORMAT: &str = "znfield growth checkpoint";
const VERSION: u32 = 1;

/// Prefix of the snapshot files kept beside the checkpoint.
const SNAPSHOT_PREFIX: &str = "checkpoint_snapshot_";

/// The growth loop's state between two steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// Time, s, and plating charge per projected area, C/m^2, reached.
    pub time_s: f64,
    pub plating_charge_c_m2: f64,
    /// Output marks passed.
    pub marks_passed: usize,
    /// The elevation grid's heights, m.
    pub elevation: Vec<f64>,
    /// Zinc deposited on the electrode's surface so far, m^3.
    pub zinc_volume_m3: f64,
    /// Electrolyte volume of the first step's mesh, m^3.
    pub first_volume_m3: Option<f64>,
    /// The first step's rise speeds at the grid nodes, m/s.
    pub first_speeds: Vec<f64>,
    /// Wall seconds spent meshing, solving and depositing so far.
    pub totals_s: [f64; 3],
    /// The kinds of warning reported so far, and the warnings themselves.
    pub warned: Vec<String>,
    pub notes: Vec<String>,
    pub rows: Vec<GrowthRow>,
    /// The cross-section at every step: (time, heights).
    pub sections: Vec<(f64, Vec<f64>)>,
    /// A conductive layer's pores.
    pub filling: Option<FillingState>,
    /// A resolved scaffold's deposit: each fibre's thickness grid (m), each particle's radius
    /// (m), and the metal plated on it (m^3).
    #[serde(default)]
    pub scaffold: Option<(Vec<Vec<f64>>, Vec<f64>, f64)>,
    /// Times of the snapshots taken, and whether each carries an animation frame.
    pub snapshots: Vec<(f64, bool)>,
}

/// A saved growth run.
#[derive(Serialize, Deserialize)]
pub struct GrowthCheckpoint {
    pub format: String,
    pub version: u32,
    /// The znfield version that wrote it.
    pub znfield_version: String,
    /// The scene as resolved (defaults filled, --set overrides applied).
    pub scene: Scene,
    /// Directory the scene's files (a height map) are resolved against.
    pub source_dir: Option<PathBuf>,
    /// Backend kind that computed it ("cpu" or "gpu").
    pub backend: String,
    /// Wall-clock seconds the run had taken up to this checkpoint.
    pub wall_time_s: f64,
    pub state: State,
    /// The file it was read from (not written).
    #[serde(skip)]
    pub path: PathBuf,
}

/// Whether `dir/checkpoint.json` is a growth checkpoint (false when it is another kind or
/// absent; an unreadable file is left to the loader that reports it).
pub fn is_growth_checkpoint(dir: &Path) -> bool {
    #[derive(Deserialize)]
    struct Head {
        format: String,
    }
    let path = dir.join(crate::run::checkpoint::FILE_NAME);
    let Ok((max_bytes, why)) = crate::run::resources::file_read_limit() else { return false };
    let Ok(text) = crate::input::read_text(&path, "checkpoint", max_bytes, &why) else { return false };
    serde_json::from_str::<Head>(&text).is_ok_and(|h| h.format == FORMAT)
}

impl GrowthCheckpoint {
    /// Reads `dir/checkpoint.json` and the snapshots it lists.
    pub fn load(dir: &Path) -> Result<(Self, Vec<Snapshot>)> {
        let path = dir.join(crate::run::checkpoint::FILE_NAME);
        let origin = path.display().to_string();
        let mut ck: GrowthCheckpoint = crate::run::checkpoint::read_json(&path)?;
        if ck.format != FORMAT || ck.version != VERSION {
            return Err(Error::input(format!(
                "{origin}: not a version {VERSION} znfield growth checkpoint (format `{}`, version {})",
                ck.format, ck.version
            )));
        }
        ck.path = path;
        ck.check().map_err(|why| Error::input(format!("{origin}: {why}")))?;
        let snapshots = ck
            .state
            .snapshots
            .iter()
            .enumerate()
            .map(|(k, &(time_s, framed))| read_snapshot(dir, k, time_s, framed))
            .collect::<Result<Vec<_>>>()?;
        Ok((ck, snapshots))
    }

    /// The checks the checkpoint's own fields allow: the scene inside passes the scene checks and
    /// has a growth block, the numbers are in range, the rows match the snapshots and sections.
    fn check(&self) -> std::result::Result<(), String> {
        crate::scene::checks::check(&self.scene).map_err(|msg| format!("the scene inside: {msg}"))?;
        if self.scene.growth.is_none() {
            return Err("the scene inside has no `growth` block".into());
        }
        let s = &self.state;
        let finite = [self.wall_time_s, s.time_s, s.plating_charge_c_m2, s.zinc_volume_m3].iter().all(|v| v.is_finite());
        if !finite || self.wall_time_s < 0.0 || s.time_s < 0.0 {
            return Err("wall_time_s, time_s, plating_charge_C_m2 and zinc_volume_m3 must be finite, the times >= 0".into());
        }
        if s.rows.is_empty() || s.sections.len() != s.rows.len() || s.snapshots.is_empty() || s.snapshots.len() > s.rows.len() + 1
        {
            return Err(format!(
                "{} rows, {} cross-sections and {} snapshots do not make a run in progress",
                s.rows.len(),
                s.sections.len(),
                s.snapshots.len()
            ));
        }
        if s.elevation.iter().any(|h| !h.is_finite()) {
            return Err("the elevation grid holds a number that is not finite".into());
        }
        if !["cpu", "gpu"].contains(&self.backend.as_str()) {
            return Err(format!("backend `{}` is neither cpu nor gpu", self.backend));
        }
        Ok(())
    }

    /// The scene to run again, with its files resolved as when the checkpoint was written.
    pub fn scene(&self) -> Scene {
        let mut scene = self.scene.clone();
        scene.source_dir = self.source_dir.clone();
        scene
    }
}

/// A stepper's state in and out of a checkpoint.
impl super::Stepper<'_> {
    /// The loop's state after a step, at time and charge `at` (s, C/m^2), for a checkpoint.
    pub(super) fn state(
        &self,
        at: [f64; 2],
        marks_passed: usize,
        rows: &[GrowthRow],
        sections: &[(f64, Vec<f64>)],
        snapshots: &[Snapshot],
    ) -> State {
        let mut warned: Vec<String> = self.warned.iter().cloned().collect();
        warned.sort();
        State {
            time_s: at[0],
            plating_charge_c_m2: at[1],
            marks_passed,
            elevation: self.grid.heights().to_vec(),
            zinc_volume_m3: self.zinc_volume,
            first_volume_m3: self.first_volume,
            first_speeds: self.first_speeds.clone(),
            totals_s: self.totals,
            warned,
            notes: self.notes.clone(),
            rows: rows.to_vec(),
            sections: sections.to_vec(),
            filling: self.filling.as_ref().map(|f| f.state()),
            scaffold: self.scaffold.as_ref().map(|s| {
                let fibres = s.deposits.iter().map(|d| d.thickness.clone()).collect();
                (fibres, s.particles.iter().map(|p| p.radius).collect(), self.scaffold_volume)
            }),
            snapshots: snapshots.iter().map(|s| (s.time_s, s.frame.is_some())).collect(),
        }
    }

    /// Takes up a checkpoint's state (read from `path`), after checking that it fits this
    /// scene's grid and layers.
    pub(super) fn restore(&mut self, state: &State, path: &std::path::Path) -> Result<()> {
        let nodes = self.grid.heights().len();
        if state.elevation.len() != nodes || (!state.first_speeds.is_empty() && state.first_speeds.len() != nodes) {
            return Err(Error::input(format!(
                "{}: the elevation grid holds {} heights, the scene's grid {nodes}",
                path.display(),
                state.elevation.len()
            )));
        }
        self.grid = self.grid.with_heights(state.elevation.clone());
        self.zinc_volume = state.zinc_volume_m3;
        self.first_volume = state.first_volume_m3;
        self.first_speeds = state.first_speeds.clone();
        self.totals = state.totals_s;
        self.warned = state.warned.iter().cloned().collect();
        self.notes = state.notes.clone();
        self.resumed_after = Some(state.rows.len());
        self.restore_scaffold(state).map_err(|why| Error::input(format!("{}: {why}", path.display())))?;
        match (self.filling.as_mut(), &state.filling) {
            (Some(f), Some(saved)) => f.restore(saved).map_err(|why| Error::input(format!("{}: {why}", path.display()))),
            (None, None) => Ok(()),
            _ => Err(Error::input(format!(
                "{}: the checkpoint's record of a conductive layer's pores does not match the scene's layers",
                path.display()
            ))),
        }
    }

    /// Takes up a checkpoint's record of a resolved scaffold's deposit, if it fits the scene's.
    fn restore_scaffold(&mut self, state: &State) -> std::result::Result<(), String> {
        match (self.scaffold.as_mut(), &state.scaffold) {
            (None, None) => Ok(()),
            (Some(scaffold), Some((fibres, radii, volume))) => {
                let fits = fibres.len() == scaffold.deposits.len()
                    && fibres.iter().zip(&scaffold.deposits).all(|(t, d)| t.len() == d.thickness.len())
                    && radii.len() == scaffold.particles.len()
                    && fibres.iter().flatten().chain(radii).chain([volume]).all(|v| v.is_finite())
                    && fibres.iter().zip(&scaffold.fibres).all(|(t, f)| t.iter().all(|&t| t > -f.radius))
                    && radii.iter().all(|&r| r > 0.0);
                if !fits {
                    return Err("the record of the scaffold's deposit does not fit the scene's scaffold".into());
                }
                scaffold.deposits.iter_mut().zip(fibres).for_each(|(d, t)| d.thickness.clone_from(t));
                scaffold.particles.iter_mut().zip(radii).for_each(|(p, r)| p.radius = *r);
                self.scaffold_volume = *volume;
                Ok(())
            }
            _ => Err("the checkpoint's record of a resolved scaffold does not match the scene's geometry".into()),
        }
    }
}

/// Where and how often a growth run writes checkpoints.
#[derive(Debug, Clone)]
pub struct Plan {
    pub dir: PathBuf,
    /// Wall-clock time between checkpoints (zero: after every step).
    pub interval: Duration,
}

/// Writes checkpoints of one run.
pub struct Saver<'a> {
    plan: &'a Plan,
    scene: &'a Scene,
    backend: String,
    started: Instant,
    earlier_wall_s: f64,
    last: Instant,
    written: u32,
    /// Snapshots already written beside the checkpoint.
    snapshots_kept: usize,
}

impl<'a> Saver<'a> {
    /// `earlier_wall_s`: the wall time a resumed run had taken before; `snapshots_kept`: the
    /// snapshots already on disk (a resumed run's).
    pub fn new(plan: &'a Plan, scene: &'a Scene, backend: &str, earlier_wall_s: f64, snapshots_kept: usize) -> Self {
        Saver {
            plan,
            scene,
            backend: backend.to_string(),
            started: Instant::now(),
            earlier_wall_s,
            last: Instant::now(),
            written: 0,
            snapshots_kept,
        }
    }

    /// Writes a checkpoint of the state `state` gives (with the snapshots not yet on disk) if
    /// the interval has passed since the last.
    pub fn after_step(&mut self, state: impl FnOnce() -> State, snapshots: &[Snapshot]) -> Result<()> {
        if self.last.elapsed() < self.plan.interval {
            return Ok(());
        }
        let dir = &self.plan.dir;
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // The directory now holds an unfinished run: an older summary.json must not stand
        // beside it looking complete.
        atomic::remove(&dir.join("summary.json"))?;
        for (k, s) in snapshots.iter().enumerate().skip(self.snapshots_kept) {
            write_snapshot(dir, k, s)?;
        }
        self.snapshots_kept = snapshots.len();
        let ck = GrowthCheckpoint {
            format: FORMAT.into(),
            version: VERSION,
            znfield_version: env!("CARGO_PKG_VERSION").into(),
            scene: self.scene.clone(),
            source_dir: self.scene.source_dir.clone(),
            backend: self.backend.clone(),
            wall_time_s: self.earlier_wall_s + self.started.elapsed().as_secs_f64(),
            state: state(),
            path: PathBuf::new(),
        };
        let json = serde_json::to_vec(&ck).map_err(|e| Error::output("checkpoint.json", e))?;
        atomic::write(&dir.join(crate::run::checkpoint::FILE_NAME), &json)?;
        self.last = Instant::now();
        self.written += 1;
        crate::run::checkpoint::hold_if_asked(self.written);
        Ok(())
    }
}

/// Removes the snapshot files a checkpoint kept in `dir` (the run's outputs are written).
pub fn remove_snapshots(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(SNAPSHOT_PREFIX) {
            atomic::remove(&entry.path())?;
        }
    }
    Ok(())
}

fn snapshot_file(dir: &Path, k: usize, part: &str) -> PathBuf {
    dir.join(format!("{SNAPSHOT_PREFIX}{k:04}_{part}"))
}

fn write_snapshot(dir: &Path, k: usize, s: &Snapshot) -> Result<()> {
    atomic::write(&snapshot_file(dir, k, "fields.vtu"), &s.fields_vtu)?;
    atomic::write(&snapshot_file(dir, k, "electrode.vtu"), &s.electrode_vtu)?;
    if let Some(map) = &s.frame {
        atomic::write(&snapshot_file(dir, k, "frame.bin"), &encode_frame(map)?)?;
    }
    Ok(())
}

fn read_snapshot(dir: &Path, k: usize, time_s: f64, framed: bool) -> Result<Snapshot> {
    let (max_bytes, why) = crate::run::resources::file_read_limit()?;
    let read = |part: &str| crate::input::read_bounded(&snapshot_file(dir, k, part), "checkpoint snapshot", max_bytes, &why);
    let frame = match framed {
        true => Some(
            decode_frame(&read("frame.bin")?)
                .map_err(|e| Error::input(format!("{}: {e}", snapshot_file(dir, k, "frame.bin").display())))?,
        ),
        false => None,
    };
    Ok(Snapshot { time_s, fields_vtu: read("fields.vtu")?, electrode_vtu: read("electrode.vtu")?, frame })
}

/// The header of a frame file: the map without its per-pixel arrays.
#[derive(Serialize, Deserialize)]
struct FrameHead {
    file: String,
    title: String,
    quantity: String,
    axes: [String; 2],
    grid: (f64, f64, f64, f64, usize, usize),
    arrows: Vec<([f64; 2], [f64; 2])>,
    scale: Option<[f64; 2]>,
    isolines: bool,
    values: usize,
    regions: usize,
}

fn encode_frame(map: &Map) -> Result<Vec<u8>> {
    let g = &map.grid;
    let head = FrameHead {
        file: map.file.clone(),
        title: map.title.clone(),
        quantity: map.quantity.clone(),
        axes: map.axes.map(String::from),
        grid: (g.u0, g.v0, g.du, g.dv, g.width, g.height),
        arrows: map.arrows.iter().map(|a| (a.tail, a.vector)).collect(),
        scale: map.scale,
        isolines: map.isolines,
        values: map.values.len(),
        regions: map.regions.len(),
    };
    let mut bytes = serde_json::to_vec(&head).map_err(|e| Error::output("checkpoint frame", e))?;
    bytes.push(b'\n');
    map.values.iter().for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
    map.regions.iter().for_each(|r| bytes.extend_from_slice(&r.to_le_bytes()));
    Ok(bytes)
}

fn decode_frame(bytes: &[u8]) -> std::result::Result<Map, String> {
    let line = bytes.iter().position(|&b| b == b'\n').ok_or("no header line")?;
    let head: FrameHead = serde_json::from_slice(&bytes[..line]).map_err(|e| format!("header: {e}"))?;
    let body = &bytes[line + 1..];
    let (w, h) = (head.grid.4, head.grid.5);
    let sizes_agree = w.checked_mul(h) == Some(head.values) && (head.regions == 0 || head.regions == head.values);
    if !sizes_agree || body.len() != 8 * head.values + 4 * head.regions {
        return Err(format!(
            "a {w} x {h} map with {} values and {} regions does not fit its {} bytes",
            head.values,
            head.regions,
            body.len()
        ));
    }
    let (values, regions) = body.split_at(8 * head.values);
    let axis = |name: &str| match name {
        "x" => Ok("x"),
        "y" => Ok("y"),
        "z" => Ok("z"),
        other => Err(format!("axis `{other}` is not x, y or z")),
    };
    Ok(Map {
        file: head.file,
        title: head.title,
        quantity: head.quantity,
        axes: [axis(&head.axes[0])?, axis(&head.axes[1])?],
        grid: PixelGrid { u0: head.grid.0, v0: head.grid.1, du: head.grid.2, dv: head.grid.3, width: w, height: h },
        values: values.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect(),
        arrows: head.arrows.into_iter().map(|(tail, vector)| Arrow { tail, vector }).collect(),
        scale: head.scale,
        regions: regions.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().expect("4 bytes"))).collect(),
        isolines: head.isolines,
    })
}
