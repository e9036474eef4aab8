//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod convergence;

use serde_json::Value;
use znfield::backend::gpu::GpuContext;

/// A small valid scene the command-line tests start from (primary model, coarse mesh).
pub const TINY_SCENE: &str = r#"{
  "name": "tiny",
  "geometry": { "half_width_m": 4e-6, "height_m": 4e-6,
                "protrusions": [ { "shape": "hemisphere", "center_m": [0.0, 0.0], "radius_m": 1e-6 } ] },
  "physics": { "model": "primary" },
  "mesh": { "size_near_m": 2.5e-7, "size_far_m": 1e-6 }
}"#;

/// A GPU context on any adapter (software included). Without one the test is skipped with a
/// printed notice, unless ZNFIELD_REQUIRE_GPU=1, in which case it fails.
pub fn gpu_or_skip(test: &str) -> Option<GpuContext> {
    match GpuContext::new(false) {
        Ok(ctx) => Some(ctx),
        Err(reason) => {
            if std::env::var("ZNFIELD_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("{test}: ZNFIELD_REQUIRE_GPU=1 but no GPU adapter: {reason}");
            }
            eprintln!("SKIPPED {test}: no GPU adapter ({reason}); set ZNFIELD_REQUIRE_GPU=1 to make this a failure");
            None
        }
    }
}

/// Relative difference |a - b| / max(|a|, |b|, tiny).
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

/// Every number of `a` within `rtol` of the same number of `b`, everything else equal; the
/// paths of the differences.
pub fn differences(a: &Value, b: &Value, rtol: f64, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            if (x - y).abs() > rtol * x.abs().max(y.abs()) {
                out.push(format!("{path}: {x:e} vs {y:e}"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => differences(v, w, rtol, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (k, (v, w)) in x.iter().zip(y).enumerate() {
                differences(v, w, rtol, &format!("{path}.{k}"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: {a} vs {b}")),
    }
}

/// The manufactured-solution tests' mesh: the unit box [-1, 1]^2 x [0, 1] over a hemisphere of
/// radius 0.45 at the origin, from the built-in mesher with `size`.
pub fn unit_box_hemisphere(size: &znfield::mesh::SizeField) -> znfield::mesh::TetMesh {
    let geom = znfield::geometry::ElectrodeGeometry {
        half_width: 1.0,
        height: 1.0,
        shapes: vec![znfield::geometry::Shape::Spheroid { center: glam::DVec3::ZERO, base_radius: 0.45, height: 0.45 }],
        layers: vec![],
        scaffold: Default::default(),
        periodic: false,
        ground: None,
    };
    znfield::mesh::generate(&geom, size).expect("mesh")
}

/// An empty scratch directory for one test, unique to this process.
pub fn scratch(prefix: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("znfield-{prefix}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The transport fixtures' mesh: a unit spheroid on a 6 x 6 x 4 box, graded from 0.4 to 1.2.
pub fn spheroid_mesh() -> znfield::mesh::TetMesh {
    use glam::DVec3;
    use znfield::geometry::{ElectrodeGeometry, Shape};
    use znfield::mesh::{generate, SizeField};
    let geom = ElectrodeGeometry {
        half_width: 3.0,
        height: 4.0,
        shapes: vec![Shape::Spheroid { center: DVec3::ZERO, base_radius: 1.0, height: 1.0 }],
        layers: vec![],
        scaffold: Default::default(),
        periodic: false,
        ground: None,
    };
    generate(&geom, &SizeField::graded(0.4, 1.2, 1.3)).expect("mesh")
}

/// The GPU parity tests' mesh: a spheroid (footprint radius 0.4, height 0.6) on a 2 x 2 x 1
/// box, `near` at the spheroid growing by 1.3 to 0.3.
pub fn small_spheroid_mesh(near: f64) -> znfield::mesh::TetMesh {
    use glam::DVec3;
    use znfield::geometry::{ElectrodeGeometry, Shape};
    use znfield::mesh::{generate, SizeField};
    let geom = ElectrodeGeometry {
        half_width: 1.0,
        height: 1.0,
        shapes: vec![Shape::Spheroid { center: DVec3::ZERO, base_radius: 0.4, height: 0.6 }],
        layers: vec![],
        scaffold: Default::default(),
        periodic: false,
        ground: None,
    };
    generate(&geom, &SizeField::graded(near, 0.3, 1.3)).expect("mesh")
}

/// The transport fixtures' discrete system on [`spheroid_mesh`] (length scale 1) and its edges.
pub fn spheroid_system() -> (znfield::solve::system::PotentialSystem, znfield::fem::edges::Edges) {
    let sys = znfield::solve::system::PotentialSystem::new(&spheroid_mesh(), 1.0);
    let edges = znfield::fem::edges::Edges::from_stiffness(&sys.k);
    (sys, edges)
}

/// Three species (2+, 1+, 2-) under electroneutrality with Butler-Volmer kinetics (scaled).
pub fn three_species_electroneutral() -> znfield::solve::transport::TransportParams {
    use znfield::physics::kinetics::ButlerVolmer;
    use znfield::solve::transport::{Closure, TransportParams};
    TransportParams {
        charges: vec![2.0, 1.0, -2.0],
        diffusivities: vec![0.36, 1.0, 0.54],
        bulk: vec![0.5, 1.0, 1.0],
        reactions: vec![znfield::physics::kinetics::Reaction {
            species: Some(0),
            law: ButlerVolmer { anodic: 1.0, cathodic: 1.0, linear: false },
            cathodic_order: 1.0,
            gamma: 0.8,
        }],
        closure: Closure::Electroneutral,
        concentration_scale: 1.0,
        conductivity_unit: 1.0,
        donnan_start: true,
    }
}

/// Address space a hostile-input case may use: a run that tries to take more is refused by the
/// memory budget (which reads this limit) long before the kernel would kill it.
pub const CASE_ADDRESS_SPACE_BYTES: u64 = 2 << 30;

/// Wall-clock seconds a hostile-input case may take before it counts as a hang.
pub const CASE_SECONDS: u32 = 120;

/// Runs the znfield binary with `args` under the case limits (`ulimit -v`, and `timeout`, which
/// kills a hang with exit 137). The stdin is empty.
pub fn run_bounded(args: &[String], envs: &[(&str, &str)]) -> std::process::Output {
    let script = format!("ulimit -v {}; exec timeout -s KILL {} \"$0\" \"$@\"", CASE_ADDRESS_SPACE_BYTES / 1024, CASE_SECONDS);
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c").arg(script).arg(env!("CARGO_BIN_EXE_znfield")).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::null()).output().expect("run znfield under bash")
}

/// Files in `dir` (recursively) that would make it look like a finished or failed run, or a
/// temporary file left behind; empty when `dir` does not exist.
pub fn complete_looking(dir: &std::path::Path) -> Vec<String> {
    const MARKERS: [&str; 6] = ["summary.json", "sweep.json", "sweep.csv", "report.md", "report.html", "mesh_report.json"];
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            found.extend(complete_looking(&entry.path()));
        } else if MARKERS.contains(&name.as_str()) || name.ends_with(".partial") {
            found.push(entry.path().display().to_string());
        }
    }
    found
}

/// Loads `page` in headless Chromium (its own profile in `profile`, no network, a virtual
/// time budget of 10 s for scripts) and returns the DOM after scripts ran and Chromium's log.
/// None when no Chromium is on PATH (the caller skips), unless ZNFIELD_REQUIRE_BROWSER=1, in
/// which case it panics.
pub fn headless_chromium_dom(page: &std::path::Path, profile: &std::path::Path) -> Option<(String, String)> {
    use std::process::Command;
    let chromium = ["chromium", "chromium-browser"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok());
    let Some(chromium) = chromium else {
        assert!(
            !std::env::var("ZNFIELD_REQUIRE_BROWSER").is_ok_and(|v| v == "1"),
            "ZNFIELD_REQUIRE_BROWSER=1 but no chromium on PATH"
        );
        eprintln!("skipped: no chromium on PATH");
        return None;
    };
    let o = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    Some((String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned()))
}

/// The console messages in a Chromium log.
pub fn console_messages(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// Names of the visible files in `dir` (not the hidden temporaries of atomic writes), sorted.
pub fn visible_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Starts znfield with `args` and a checkpoint as often as it can, held after its `hold`-th
/// checkpoint (`ZNFIELD_HOLD_AFTER_CHECKPOINT`); waits until `dir/checkpoint.json` is the one
/// `saved` recognizes (it returns Some; the file appears whole, written under a temporary name and
/// renamed, so any readable version parses), kills the run with SIGKILL and returns that value.
pub fn kill_at_checkpoint<T>(args: &[String], dir: &std::path::Path, hold: u32, saved: impl Fn(&Value) -> Option<T>) -> T {
    use std::time::{Duration, Instant};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_znfield"))
        .args(args)
        .args(["--checkpoint-every", "0"])
        .env("ZNFIELD_HOLD_AFTER_CHECKPOINT", hold.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let checkpoint = dir.join("checkpoint.json");
    let began = Instant::now();
    let found = loop {
        if let Ok(text) = std::fs::read_to_string(&checkpoint) {
            if let Some(found) = saved(&serde_json::from_str(&text).expect("a checkpoint parses")) {
                break found;
            }
        }
        assert!(child.try_wait().expect("wait").is_none(), "the run ended before its checkpoint {hold}");
        assert!(began.elapsed() < Duration::from_secs(300), "no checkpoint {hold} after 300 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    found
}

/// Deterministic pseudo-random values in [-1, 1) (xorshift; no crate needed for test data).
pub fn random(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}
