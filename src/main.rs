//! znfield command line: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use znfield::backend::{gpu, BackendChoice};
use znfield::output::outdir::{OutputDir, Reuse};
use znfield::progress::{self, Event, Listener};
use znfield::scene::Scene;

#[derive(Parser)]
#[command(name = "znfield", version, about = "3D finite-element fields at zinc-metal anodes (GPU and CPU)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print only warnings and errors on stderr (no progress, no summary lines).
    #[arg(long, global = true)]
    quiet: bool,
}

/// What the command line shows on stderr: a progress spinner or bar (on a terminal only), info
/// lines unless --quiet, warnings and errors always.
struct Console {
    bar: ProgressBar,
    quiet: bool,
}

static CONSOLE: OnceLock<Console> = OnceLock::new();

impl Console {
    fn install(quiet: bool) -> &'static Console {
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(Self::spinner());
        bar.enable_steady_tick(Duration::from_millis(120));
        let console = CONSOLE.get_or_init(|| Console { bar, quiet });
        progress::listen(Box::new(console));
        console
    }

    fn spinner() -> ProgressStyle {
        ProgressStyle::with_template("{spinner} [{elapsed}] {prefix}{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
    }

    fn time_bar() -> ProgressStyle {
        ProgressStyle::with_template("{spinner} [{elapsed}] {prefix}{msg} [{bar:20}] {percent}% of t_end")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
    }

    /// An informational line (not with --quiet), printed above the progress line.
    fn info(&self, line: &str) {
        if !self.quiet {
            self.print(line);
        }
    }

    fn print(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    /// Where a sweep or comparison stands, shown before each progress message.
    fn set_point(&self, text: String) {
        self.bar.set_prefix(text);
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}

impl Listener for &'static Console {
    fn event(&self, event: Event) {
        match event {
            Event::Stage(name) => {
                self.bar.set_style(Console::spinner());
                self.bar.set_message(name.to_string());
            }
            Event::Newton { iteration, residual } => {
                self.bar.set_message(format!("Newton {iteration}, residual {residual:.1e}"));
            }
            Event::TimeStep { step, fraction } => {
                if self.bar.length() != Some(1000) {
                    self.bar.set_length(1000);
                    self.bar.set_style(Console::time_bar());
                }
                self.bar.set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
                self.bar.set_message(format!("time step {step}"));
            }
            Event::Warning(message) => self.print(&format!("znfield: warning: {message}")),
        }
    }
}

fn console() -> &'static Console {
    CONSOLE.get_or_init(|| Console { bar: ProgressBar::hidden(), quiet: false })
}

/// Where a solving command writes and what it computes on.
#[derive(clap::Args)]
struct Target {
    /// Output directory (each command's help gives its default).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the output of an earlier run in the output directory (the files its summary.json
    /// lists go first). Without it such an --out is refused, and the default directory moves on
    /// to <name>-2, <name>-3, ...
    #[arg(long)]
    overwrite: bool,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
    /// Also print the result as JSON on stdout (run: summary.json; sweep: sweep.json; compare:
    /// the metrics table).
    #[arg(long)]
    json: bool,
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> znfield::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| znfield::Error::output("JSON on stdout", e))?;
    println!("{text}");
    Ok(())
}

#[derive(Subcommand)]
enum Command {
    /// Run a scene (the built-in default scene when none is given) into --out [default:
    /// znfield-out/<scene name>/].
    Run {
        /// Scene file (JSON).
        scene: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
        /// Override a scene key by its dotted path, e.g. --set mesh.refine=2 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Transient and growth runs: wall-clock seconds between checkpoints (transient: 0 at
        /// every preconditioner rebuild, every time.preconditioner_reuse_steps steps; growth: 0
        /// after every step) [default: the scene's time.checkpoint_wall_interval_s or
        /// growth.checkpoint_wall_interval_s, 600].
        #[arg(long, value_name = "SECONDS")]
        checkpoint_every: Option<f64>,
        /// Continue the transient or growth run whose checkpoint.json is in DIR, into DIR (the
        /// scene comes from the checkpoint).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["scene", "sets", "out"])]
        resume: Option<PathBuf>,
    },
    /// Mesh a scene without solving: writes mesh.vtu and mesh_report.json.
    Mesh {
        /// Scene file (JSON); the built-in default scene when omitted.
        scene: Option<PathBuf>,
        /// Output directory [default: znfield-out/<scene name>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override a scene key by its dotted path (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Also write mesh.msh (Gmsh MSH 2.2 ASCII, metres; physical surfaces electrode, bulk,
        /// insulating, scaffold; physical volumes electrolyte and each coating layer by its name)
        /// for Gmsh, meshio and other solvers.
        #[arg(long)]
        msh: bool,
        /// Replace an earlier output in the output directory (see `run --help`).
        #[arg(long)]
        overwrite: bool,
    },
    /// Run a scene over the Cartesian product of key values: sweep.csv, sweep.json and every
    /// point's outputs in point_NNN/ under --out [default: znfield-out/<scene name>-sweep/].
    Sweep {
        /// Scene file (JSON); the built-in default scene when omitted.
        scene: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
        /// A swept key and its values, e.g. --set operation.mean_current_density_A_m2=-50,-100
        /// (repeatable; one value is a fixed override; JSON arrays and objects stay whole).
        #[arg(long = "set", value_name = "KEY=V1,V2,...")]
        sets: Vec<String>,
    },
    /// Run two or more scenes alike and compare their metrics: report.md and report.html, each
    /// scene's outputs in its own directory under --out [default: znfield-out/compare/].
    Compare {
        /// Scene files (JSON), two or more.
        #[arg(required = true, num_args = 2..)]
        scenes: Vec<PathBuf>,
        #[command(flatten)]
        target: Target,
        /// Override a key in every scene (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// Run the analytic validation suite; exit 0 only if every check passes.
    Validate {
        /// Compute backend.
        #[arg(long, value_enum, default_value = "auto")]
        backend: BackendChoice,
        /// Print the checks as a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Run only these cases (repeatable).
        #[arg(long = "case")]
        cases: Vec<String>,
    },
    /// List the GPU adapters wgpu finds and the one `--backend auto` would use.
    Devices,
    /// Benchmark the primary solve of the hemisphere tip scene over mesh sizes: unknowns,
    /// iterations, time per iteration, SpMV and copy bandwidth, end-to-end time (a Markdown
    /// table on stdout; --json for JSON).
    Bench {
        /// Solver to measure: cpu (f64 CG) or gpu (the device's f32 CG with f64 defect correction,
        /// and per-kernel GPU times where the adapter has timestamp queries).
        #[arg(long, value_enum, default_value = "cpu")]
        backend: znfield::bench::BenchBackend,
        /// Preconditioner of the CG (both backends).
        #[arg(long, value_enum, default_value = "amg")]
        preconditioner: znfield::solve::linear::Preconditioner,
        /// Scene whose geometry and mesh are solved [default: the hemisphere tip scene].
        #[arg(long)]
        scene: Option<PathBuf>,
        /// Mesh refinement factors (mesh.refine), comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [0.5, 1.0, 2.0])]
        sizes: Vec<f64>,
        /// Print the rows as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the scene format (every key with its description, default,
    /// range; units are the key suffixes).
    Schema {
        /// Print the key reference as Markdown (docs/scenes.md) instead.
        #[arg(long)]
        markdown: bool,
    },
}

/// Gives the Vulkan loader's window-system libraries a private runtime directory when the
/// session has none (a login over ssh, a container, CI): without one, probing for a GPU prints
/// "error: XDG_RUNTIME_DIR is invalid or not set" on every run, which reads as a failure though
/// znfield draws no window. Runs before any thread starts, so setting the variable is sound.
fn ensure_runtime_dir() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let usable = std::env::var_os("XDG_RUNTIME_DIR")
        .and_then(|dir| std::fs::metadata(dir).ok())
        .is_some_and(|m| m.is_dir() && m.mode() & 0o777 == 0o700);
    if usable {
        return;
    }
    // The process's user: the owner of /proc/self (no unsafe call needed).
    let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else { return };
    let dir = std::env::temp_dir().join(format!("znfield-runtime-{uid}"));
    let _ = std::fs::create_dir(&dir);
    // Only a real directory of ours (not a link planted by another user), made private.
    let ours = std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid);
    let private = ours && std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).is_ok();
    if private {
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}

fn main() -> ExitCode {
    ensure_runtime_dir();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    Console::install(cli.quiet);
    let outcome = match cli.command {
        Command::Run { scene, target, sets, checkpoint_every, resume } => run(scene, target, &sets, checkpoint_every, resume),
        Command::Mesh { scene, out, sets, msh, overwrite } => mesh(scene, out, &sets, msh, overwrite),
        Command::Sweep { scene, target, sets } => sweep(scene, target, &sets),
        Command::Compare { scenes, target, sets } => compare(&scenes, target, &sets),
        Command::Validate { backend, json, cases } => validate(backend, json, &cases),
        Command::Devices => {
            print!("{}", gpu::describe_adapters());
            Ok(())
        }
        Command::Bench { backend, preconditioner, scene, sizes, json } => {
            let mut progress = |refine: f64| console().info(&format!("znfield: bench mesh.refine={refine}"));
            znfield::bench::run_bench(scene.as_deref(), &sizes, backend, preconditioner, &mut progress).and_then(|report| {
                if json {
                    print_json(&report)
                } else {
                    print!("{}", report.markdown());
                    Ok(())
                }
            })
        }
        Command::Schema { markdown } => {
            let schema = znfield::scene::schema::scene_schema();
            if markdown {
                print!("{}", znfield::scene::schema::markdown(&schema));
            } else {
                println!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
            }
            Ok(())
        }
    };
    console().done();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the message quotes (a name with a newline or an escape code).
            let text: String = e
                .to_string()
                .chars()
                .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
                .collect();
            eprintln!("error: {text}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn load(scene_path: Option<PathBuf>, sets: &[String]) -> znfield::Result<Scene> {
    match &scene_path {
        Some(p) => Scene::load(p, sets),
        None => Scene::builtin_default(sets),
    }
}

/// Tells the user every file a command wrote (names relative to `dir`).
fn report_written(dir: &std::path::Path, files: &[String]) {
    console().info(&format!("znfield: wrote into {}: {}", dir.display(), files.join(", ")));
}

/// Claims a command's output directory: `out` (refused while it holds an earlier output, unless
/// `overwrite`) or, without one, the first of `znfield-out/<default_name>`, `-2`, `-3`, ... that
/// holds nothing.
fn claim_out(
    out: Option<PathBuf>,
    default_name: &str,
    overwrite: bool,
    markers: &[&str],
    sub_markers: &[&str],
) -> znfield::Result<OutputDir> {
    let default = PathBuf::from("znfield-out").join(default_name);
    match out {
        Some(dir) => OutputDir::claim(&dir, markers, sub_markers, Reuse::from_flag(overwrite)),
        None if overwrite => OutputDir::claim(&default, markers, sub_markers, Reuse::Replace),
        None => {
            let claim = OutputDir::claim_fresh(&default, markers, sub_markers)?;
            if claim.path() != default {
                console().info(&format!(
                    "znfield: {} holds an earlier run; writing to {} (--overwrite replaces the earlier one)",
                    default.display(),
                    claim.path().display()
                ));
            }
            Ok(claim)
        }
    }
}

fn sweep(scene_path: Option<PathBuf>, target: Target, sets: &[String]) -> znfield::Result<()> {
    let axes = sets.iter().map(|s| znfield::sweep::SweptKey::parse(s)).collect::<znfield::Result<Vec<_>>>()?;
    znfield::sweep::check_axes(&axes)?;
    let base = match &scene_path {
        Some(p) => Scene::load(p, &[])?,
        None => Scene::builtin_default(&[])?,
    };
    znfield::growth::only_in_run(&base, "sweep")?;
    let claim = claim_out(
        target.out,
        &format!("{}-sweep", base.name),
        target.overwrite,
        &["sweep.csv", "sweep.json"],
        &znfield::run::RUN_MARKERS,
    )?;
    let dir = claim.path().to_path_buf();
    let mut progress = |k: usize, n: usize, point: &[String]| {
        console().info(&format!("znfield: sweep point {}/{n}: {}", k + 1, point.join(" ")));
        console().set_point(format!("point {}/{n}: ", k + 1));
    };
    let s = znfield::sweep::run_sweep(scene_path.as_deref(), &axes, target.backend, &dir, &mut progress)?;
    console().info(&format!("znfield: {} points", s.points.len()));
    report_written(&dir, &s.files);
    if target.json {
        print_json(&s)?;
    }
    Ok(())
}

fn compare(scenes: &[PathBuf], target: Target, sets: &[String]) -> znfield::Result<()> {
    znfield::scene::overrides::check_order(sets)?;
    let claim = claim_out(target.out, "compare", target.overwrite, &znfield::compare::MARKERS, &znfield::run::RUN_MARKERS)?;
    let dir = claim.path().to_path_buf();
    let paths: Vec<&std::path::Path> = scenes.iter().map(|p| p.as_path()).collect();
    let mut progress = |k: usize, n: usize, name: &str| {
        console().info(&format!("znfield: compare {}/{n}: {name}", k + 1));
        console().set_point(format!("{name} ({}/{n}): ", k + 1));
    };
    let comparison = znfield::compare::run_compare(&paths, sets, target.backend, &dir, &mut progress)?;
    report_written(&dir, &comparison.files());
    if target.json {
        print_json(&comparison.to_json())?;
    }
    Ok(())
}

fn validate(backend: BackendChoice, json: bool, cases: &[String]) -> znfield::Result<()> {
    let mut checks = Vec::new();
    let all: Vec<String> = znfield::validate::CASES.iter().map(|c| c.to_string()).collect();
    for case in if cases.is_empty() { &all } else { cases } {
        checks.extend(znfield::validate::run_case(case, backend)?);
    }
    if json {
        let text = serde_json::to_string_pretty(&checks).map_err(|e| znfield::Error::output("validation JSON", e))?;
        println!("{text}");
    } else {
        print!("{}", znfield::validate::table(&checks));
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    if failed > 0 {
        return Err(znfield::Error::Validation(format!("{failed} of {} checks failed", checks.len())));
    }
    console().info(&format!("znfield: all {} checks passed", checks.len()));
    Ok(())
}

fn mesh(scene_path: Option<PathBuf>, out: Option<PathBuf>, sets: &[String], gmsh: bool, overwrite: bool) -> znfield::Result<()> {
    let scene = load(scene_path, sets)?;
    // A mesh written into a run's directory leaves no older run looking complete beside it.
    let markers = [&["mesh_report.json"][..], &znfield::run::RUN_MARKERS].concat();
    let claim = claim_out(out, &scene.name, overwrite, &markers, &[])?;
    let dir = claim.path().to_path_buf();
    console().info(&format!("znfield: meshing scene `{}`", scene.name));
    let report = znfield::run::write_mesh(&scene, &dir, gmsh)?;
    console().info(&format!(
        "znfield: {} nodes, {} tets; dihedral angles {:.2}..{:.2} deg (mean {:.1}); {} tets below 5 deg",
        report.nodes,
        report.tets,
        report.min_dihedral_deg,
        report.max_dihedral_deg,
        report.mean_dihedral_deg,
        report.tets_below_5_deg
    ));
    report_written(&dir, &report.files);
    Ok(())
}

fn run(
    scene_path: Option<PathBuf>,
    target: Target,
    sets: &[String],
    checkpoint_every: Option<f64>,
    resume: Option<PathBuf>,
) -> znfield::Result<()> {
    use znfield::run::checkpoint::{Checkpoint, CheckpointPlan};
    // A fresh run also removes an older run's checkpoint (a later --resume would continue that
    // run, not this one); a resumed run keeps its own, in the directory it continues.
    let (scene, claim, resume) = match resume {
        Some(dir) if znfield::growth::checkpoint::is_growth_checkpoint(&dir) => {
            let (ck, snapshots) = znfield::growth::checkpoint::GrowthCheckpoint::load(&dir)?;
            let scene = ck.scene();
            console().info(&format!(
                "znfield: resuming growth scene `{}` from {} (after step {}, t = {:.6e} s, {:.1} s of wall time so far)",
                scene.name,
                ck.path.display(),
                ck.state.rows.len(),
                ck.state.time_s,
                ck.wall_time_s
            ));
            let _claim = OutputDir::claim(&dir, &znfield::run::RUN_MARKERS, &[], Reuse::Replace)?;
            let interval = checkpoint_every.unwrap_or(scene.growth.as_ref().map_or(600.0, |g| g.checkpoint_wall_interval_s));
            let options = growth_options(&dir, interval, Some((ck, snapshots)))?;
            return grow(&scene, target.backend, target.json, &dir, options);
        }
        Some(dir) => {
            let ck = Checkpoint::load(&dir)?;
            let scene = ck.scene();
            console().info(&format!(
                "znfield: resuming scene `{}` from {} (after step {}, t = {:.6e} s, {:.1} s of wall time so far)",
                scene.name,
                ck.path.display(),
                ck.progress.steps,
                ck.time_s,
                ck.wall_time_s
            ));
            (scene, OutputDir::claim(&dir, &znfield::run::RUN_MARKERS, &[], Reuse::Replace)?, Some(ck))
        }
        None => {
            let scene = load(scene_path, sets)?;
            console().info(&format!("znfield: running scene `{}`", scene.name));
            let markers = [&znfield::run::RUN_MARKERS[..], &[znfield::run::checkpoint::FILE_NAME]].concat();
            let claim = claim_out(target.out, &scene.name, target.overwrite, &markers, &[])?;
            (scene, claim, None)
        }
    };
    let dir = claim.path().to_path_buf();
    if let Some(growth) = &scene.growth {
        let interval = checkpoint_every.unwrap_or(growth.checkpoint_wall_interval_s);
        return grow(&scene, target.backend, target.json, &dir, growth_options(&dir, interval, None)?);
    }
    let interval = match (checkpoint_every, &scene.time) {
        (Some(s), _) if !(s.is_finite() && s >= 0.0) => {
            return Err(znfield::Error::input(format!("--checkpoint-every: {s} is not a number of seconds >= 0")))
        }
        (Some(_), None) => {
            return Err(znfield::Error::input(
                "--checkpoint-every: checkpoints are for transient and growth runs; the scene has neither a `time` nor a `growth` block",
            ))
        }
        (Some(s), Some(_)) => Some(s),
        (None, time) => time.as_ref().map(|t| t.checkpoint_wall_interval_s),
    };
    let checkpoints = interval.map(|s| CheckpointPlan { dir: dir.clone(), interval: Duration::from_secs_f64(s) });
    let options = znfield::run::RunOptions { checkpoints, resume, diagnostics: Some(dir.clone()), media: None };
    let mut result = znfield::run::run_with(&scene, target.backend, options)?;
    znfield::run::write_outputs(&mut result, &dir)?;
    let s = &result.summary;
    console().info(&format!(
        "znfield: {} nodes, {} tets, backend {} ({}); {} linear / {} Newton iterations",
        s.mesh.nodes, s.mesh.tets, s.backend.kind, s.backend.adapter, s.solver.linear_iterations, s.solver.nonlinear_iterations
    ));
    console().info(&format!(
        "znfield: tip_enhancement {}, nonuniformity {}, mean |i| {:.4} A/m^2 ({}), E = {:.5} V, max field {:.4e} V/m",
        s.electrode.tip_enhancement.map_or("n/a (no net current)".to_string(), |v| format!("{v:.4}")),
        s.electrode.nonuniformity.map_or("n/a".to_string(), |v| format!("{v:.4}")),
        s.electrode.current_density.mean,
        s.electrode.direction,
        s.electrode.potential,
        s.electrolyte.max_field
    ));
    if let Some(c) = &s.coating {
        let percent = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.1}%", 100.0 * v));
        let lower = c.deposition_by_depth.map(|bins| bins[..bins.len() / 2].iter().sum::<f64>());
        console().info(&format!(
            "znfield: coating: total {:.4e} A, {} on the scaffold, {} on the base electrode, {} in the lower half of {:.3e} m{}{}",
            c.total_current,
            percent(c.current_to_scaffold_fraction),
            percent(c.current_to_base_fraction),
            percent(lower),
            c.thickness,
            c.penetration_ratio.map_or(String::new(), |v| format!(", L/lambda {v:.3}")),
            c.effective_transference_number.map_or(String::new(), |v| format!(", t+ in the coating {v:.3}")),
        ));
    }
    report_written(&dir, &s.files);
    if target.json {
        print_json(&result.summary)?;
    }
    Ok(())
}

/// How a growth run into `dir` checkpoints (every `interval` wall seconds) and what it resumes.
fn growth_options(
    dir: &std::path::Path,
    interval: f64,
    resume: Option<(znfield::growth::checkpoint::GrowthCheckpoint, Vec<znfield::growth::Snapshot>)>,
) -> znfield::Result<znfield::growth::GrowthOptions> {
    if !(interval.is_finite() && interval >= 0.0) {
        return Err(znfield::Error::input(format!("--checkpoint-every: {interval} is not a number of seconds >= 0")));
    }
    let plan = znfield::growth::checkpoint::Plan { dir: dir.to_path_buf(), interval: Duration::from_secs_f64(interval) };
    Ok(znfield::growth::GrowthOptions { checkpoints: Some(plan), resume })
}

/// A growth run ([`znfield::growth`]) into `dir`: the final surface's outputs with the growth
/// series and plots.
fn grow(
    scene: &znfield::scene::Scene,
    backend: BackendChoice,
    json: bool,
    dir: &std::path::Path,
    options: znfield::growth::GrowthOptions,
) -> znfield::Result<()> {
    let mut grown = znfield::growth::run_with(scene, backend, options)?;
    znfield::growth::write_outputs(scene, &mut grown, dir)?;
    let s = &grown.last.summary;
    if let (Some(g), Some(last)) = (&s.growth, grown.rows.last()) {
        console().info(&format!(
            "znfield: growth: {} steps to t = {:.4e} s ({}), {:.4e} C/m^2 plated, mean thickness {:.4e} m, highest point \
             {:.4e} m, rms roughness {:.4e} m, mass balance {:.2e}",
            g.steps,
            g.end_time_s,
            g.stopped_by,
            g.plating_charge_c_m2,
            last.mean_thickness_m,
            last.max_height_m,
            last.rms_roughness_m,
            g.mass_balance
        ));
    }
    report_written(dir, &s.files);
    if json {
        print_json(&s)?;
    }
    Ok(())
}
