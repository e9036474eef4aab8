//! Checkpoints of transient runs, so a run killed overnight continues where it stopped.
//!
//! A checkpoint is one JSON file, `checkpoint.json` in the run's output directory, written
//! atomically (temporary name, then rename) after an accepted time step once the wall-clock
//! interval has passed, at the first step after which the linear solver rebuilds its
//! preconditioner ([`crate::solve::transient::TimeParams::fresh_after`]). It holds the resolved
//! scene, a fingerprint of the mesh, and the time loop's whole [`Progress`]: the Newton state,
//! the BDF2 history, the step size, the rows and snapshots so far. Numbers are written in serde_json's shortest round-trip form and read back
//! with `float_roundtrip`, so every f64 comes back bit for bit and a resumed CPU run ends with
//! the same result as an uninterrupted one. The file is removed once the run's outputs, with
//! summary.json last, are in place.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mesh::TetMesh;
use crate::output::atomic;
use crate::scene::Scene;
use crate::solve::transient::{Progress, StepObserver};

/// File name of the checkpoint in the output directory.
pub const FILE_NAME: &str = "checkpoint.json";

/// Identifies the file format.
const FORMAT: &str = "znfield transient checkpoint";
const VERSION: u32 = 1;

/// Test hook: with `ZNFIELD_HOLD_AFTER_CHECKPOINT=N` the run stops advancing (sleeps) after
/// writing its N-th checkpoint, so a test can kill it at a known point.
const HOLD_ENV: &str = "ZNFIELD_HOLD_AFTER_CHECKPOINT";

/// A saved transient run (borrowed while written, owned when read back).
#[derive(Serialize, Deserialize)]
pub struct Checkpoint<'a> {
    pub format: String,
    pub version: u32,
    /// The znfield version that wrote it.
    pub znfield_version: String,
    /// The scene as resolved (defaults filled, --set overrides applied).
    pub scene: Cow<'a, Scene>,
    /// Directory the scene's mesh file is resolved against.
    pub source_dir: Option<PathBuf>,
    /// Backend kind that computed it ("cpu" or "gpu").
    pub backend: String,
    pub mesh: MeshFingerprint,
    /// Wall-clock seconds the run had taken up to this checkpoint.
    pub wall_time_s: f64,
    /// Simulated time reached, s (the progress holds it scaled).
    pub time_s: f64,
    pub progress: Cow<'a, Progress>,
    /// The file it was read from (not written).
    #[serde(skip)]
    pub path: PathBuf,
}

/// Enough of a mesh to tell that a rebuilt one is the same: sizes and a checksum of the node
/// coordinates' bits and the connectivity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeshFingerprint {
    pub nodes: usize,
    pub tets: usize,
    /// FNV-1a (64 bit) of the coordinates and tetrahedra, hexadecimal.
    pub checksum: String,
}

impl MeshFingerprint {
    pub fn of(mesh: &TetMesh) -> Self {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |word: u64| {
            for byte in word.to_le_bytes() {
                hash = (hash ^ byte as u64).wrapping_mul(PRIME);
            }
        };
        mesh.nodes.iter().for_each(|p| [p.x, p.y, p.z].iter().for_each(|v| feed(v.to_bits())));
        mesh.tets.iter().for_each(|t| t.iter().for_each(|&n| feed(n as u64)));
        MeshFingerprint { nodes: mesh.nodes.len(), tets: mesh.tets.len(), checksum: format!("{hash:016x}") }
    }
}

impl Checkpoint<'static> {
    /// Reads `dir/checkpoint.json`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            let why = if dir.join("summary.json").exists() {
                "the run there finished (summary.json exists); nothing to resume"
            } else if dir.exists() {
                "no checkpoint was written there (checkpoints: time.checkpoint_wall_interval_s or --checkpoint-every)"
            } else {
                "no such directory"
            };
            return Err(Error::input(format!("--resume {}: no {FILE_NAME}: {why}", dir.display())));
        }
        let mut ck: Checkpoint = read_json(&path)?;
        if ck.format != FORMAT || ck.version != VERSION {
            return Err(Error::input(format!(
                "{}: not a version {VERSION} znfield checkpoint (format `{}`, version {})",
                path.display(),
                ck.format,
                ck.version
            )));
        }
        ck.path = path;
        ck.check_header().map_err(|why| Error::input(format!("{}: {why}", ck.path.display())))?;
        Ok(ck)
    }

    /// The checks a checkpoint's own fields allow before the run is set up: the embedded scene
    /// goes through the same validation as a scene file, the wall time and simulated time are
    /// numbers in range, and the scene is a transient one.
    fn check_header(&self) -> std::result::Result<(), String> {
        crate::scene::checks::check(&self.scene).map_err(|msg| format!("the scene inside: {msg}"))?;
        let end = self.scene.time.as_ref().map(|t| t.end_s).ok_or("the scene inside has no `time` block")?;
        if !(self.wall_time_s.is_finite() && self.wall_time_s >= 0.0) {
            return Err(format!("wall_time_s {} is not a number of seconds >= 0", self.wall_time_s));
        }
        if !(self.time_s.is_finite() && self.time_s >= 0.0 && self.time_s <= end * (1.0 + 1e-9)) {
            return Err(format!("time_s {} is outside the run, 0 to time.end_s = {end} s", self.time_s));
        }
        if !["cpu", "gpu"].contains(&self.backend.as_str()) {
            return Err(format!("backend `{}` is neither cpu nor gpu", self.backend));
        }
        Ok(())
    }

    /// Checks the simulated time against the saved progress's (scaled) time; `time_scale_s`:
    /// seconds per unit of scaled time.
    pub fn check_time(&self, time_scale_s: f64) -> Result<()> {
        let t = self.progress.t * time_scale_s;
        if (t - self.time_s).abs() > 1e-9 * t.abs().max(self.time_s.abs()) {
            return Err(Error::input(format!(
                "{}: time_s {} s disagrees with the saved progress, which is at {t} s",
                self.path.display(),
                self.time_s
            )));
        }
        Ok(())
    }

    /// The scene to run again, with its mesh file resolved as when the checkpoint was written.
    pub fn scene(&self) -> Scene {
        let mut scene = self.scene.clone().into_owned();
        scene.source_dir = self.source_dir.clone();
        scene
    }

    /// Checks that the mesh rebuilt for the resumed run is the one the checkpoint was made on.
    pub fn check_mesh(&self, mesh: &TetMesh) -> Result<()> {
        let now = MeshFingerprint::of(mesh);
        if now != self.mesh {
            return Err(Error::input(format!(
                "{}: the mesh rebuilt from the checkpoint's scene ({} nodes, {} tets, checksum {}) differs from the one \
                 it was computed on ({} nodes, {} tets, checksum {}): was the mesh file changed?",
                self.path.display(),
                now.nodes,
                now.tets,
                now.checksum,
                self.mesh.nodes,
                self.mesh.tets,
                self.mesh.checksum
            )));
        }
        Ok(())
    }
}

/// Reads a checkpoint file at `path` (bounded by the read limit) as `T`, with the key and line
/// of any error in the message.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let (max_bytes, why) = crate::run::resources::file_read_limit()?;
    let text = crate::input::read_text(path, "checkpoint", max_bytes, &why)?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let origin = path.display().to_string();
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| crate::scene::describe_error(&origin, &e, true))?;
    de.end().map_err(|e| crate::scene::describe_trailing(&origin, &e))?;
    Ok(value)
}

/// Where and how often to write checkpoints.
#[derive(Debug, Clone)]
pub struct CheckpointPlan {
    pub dir: PathBuf,
    /// Wall-clock time between checkpoints (zero: at every preconditioner rebuild).
    pub interval: Duration,
}

/// Writes a checkpoint after an accepted step once `interval` has passed since the last one.
pub struct CheckpointWriter<'a> {
    plan: &'a CheckpointPlan,
    scene: &'a Scene,
    backend: String,
    mesh: MeshFingerprint,
    /// When this process's run began, and the wall time spent before a resume.
    start: Instant,
    earlier_wall_s: f64,
    /// Seconds per unit of scaled time.
    time_scale_s: f64,
    last: Instant,
    written: u32,
}

impl<'a> CheckpointWriter<'a> {
    /// `start`: when this process's run began; `earlier_wall_s`: the wall time before a resume;
    /// `time_scale_s`: seconds per unit of scaled time.
    pub fn new(
        plan: &'a CheckpointPlan,
        scene: &'a Scene,
        backend: &str,
        mesh: &TetMesh,
        start: Instant,
        earlier_wall_s: f64,
        time_scale_s: f64,
    ) -> Self {
        CheckpointWriter {
            time_scale_s,
            plan,
            scene,
            backend: backend.to_string(),
            mesh: MeshFingerprint::of(mesh),
            start,
            earlier_wall_s,
            last: Instant::now(),
            written: 0,
        }
    }
}

impl StepObserver for CheckpointWriter<'_> {
    fn accepted(&mut self, progress: &Progress, resumable: bool) -> Result<()> {
        // A checkpoint due between two preconditioner rebuilds waits for the next one, so the
        // resumed run repeats this one's arithmetic.
        if !resumable || self.last.elapsed() < self.plan.interval {
            return Ok(());
        }
        let ck = Checkpoint {
            format: FORMAT.into(),
            version: VERSION,
            znfield_version: env!("CARGO_PKG_VERSION").into(),
            scene: Cow::Borrowed(self.scene),
            source_dir: self.scene.source_dir.clone(),
            backend: self.backend.clone(),
            mesh: self.mesh.clone(),
            wall_time_s: self.earlier_wall_s + self.start.elapsed().as_secs_f64(),
            time_s: progress.t * self.time_scale_s,
            progress: Cow::Borrowed(progress),
            path: PathBuf::new(),
        };
        let json = serde_json::to_vec(&ck).map_err(|e| Error::output("checkpoint.json", e))?;
        std::fs::create_dir_all(&self.plan.dir).map_err(|e| Error::io(&self.plan.dir, e))?;
        // The directory now holds an unfinished run: an older run's summary.json must not
        // stand beside it looking complete.
        atomic::remove(&self.plan.dir.join("summary.json"))?;
        atomic::write(&self.plan.dir.join(FILE_NAME), &json)?;
        self.last = Instant::now();
        self.written += 1;
        hold_if_asked(self.written);
        Ok(())
    }
}

/// The test hook [`HOLD_ENV`]: stops the run here (sleeping) after its `written`-th checkpoint
/// when the variable asks for that one.
pub fn hold_if_asked(written: u32) {
    if std::env::var(HOLD_ENV).ok().and_then(|v| v.parse().ok()) == Some(written) {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}
