//! znfield command line: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use znfield::backend::{gpu, BackendChoice};
use znfield::scene::Scene;

#[derive(Parser)]
#[command(name = "znfield", version, about = "3D finite-element fields at zinc-metal anodes (GPU and CPU)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where a solving command writes and what it computes on.
#[derive(clap::Args)]
struct Target {
    /// Output directory (each command's help gives its default).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compute backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendChoice,
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
    /// Print the JSON Schema of the scene format (every key with its description, default,
    /// range; units are the key suffixes).
    Schema {
        /// Print the key reference as Markdown (docs/scenes.md) instead.
        #[arg(long)]
        markdown: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let outcome = match cli.command {
        Command::Run { scene, target, sets } => run(scene, target.out, target.backend, &sets),
        Command::Mesh { scene, out, sets } => mesh(scene, out, &sets),
        Command::Sweep { scene, target, sets } => sweep(scene, target.out, target.backend, &sets),
        Command::Compare { scenes, target, sets } => compare(&scenes, target.out, target.backend, &sets),
        Command::Validate { backend, json, cases } => validate(backend, json, &cases),
        Command::Devices => {
            print!("{}", gpu::describe_adapters());
            Ok(())
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
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn load(scene_path: Option<PathBuf>, out: Option<PathBuf>, sets: &[String]) -> znfield::Result<(Scene, PathBuf)> {
    let scene = match &scene_path {
        Some(p) => Scene::load(p, sets)?,
        None => Scene::builtin_default(sets)?,
    };
    let dir = out.unwrap_or_else(|| PathBuf::from("znfield-out").join(&scene.name));
    Ok((scene, dir))
}

fn sweep(scene_path: Option<PathBuf>, out: Option<PathBuf>, backend: BackendChoice, sets: &[String]) -> znfield::Result<()> {
    let axes = sets.iter().map(|s| znfield::sweep::Axis::parse(s)).collect::<znfield::Result<Vec<_>>>()?;
    let base = match &scene_path {
        Some(p) => Scene::load(p, &[])?,
        None => Scene::builtin_default(&[])?,
    };
    let dir = out.unwrap_or_else(|| PathBuf::from("znfield-out").join(format!("{}-sweep", base.name)));
    let mut progress =
        |k: usize, n: usize, point: &[String]| eprintln!("znfield: sweep point {}/{n}: {}", k + 1, point.join(" "));
    let s = znfield::sweep::run_sweep(scene_path.as_deref(), &axes, backend, &dir, &mut progress)?;
    eprintln!(
        "znfield: {} points; wrote {} and {}",
        s.points.len(),
        dir.join("sweep.csv").display(),
        dir.join("sweep.json").display()
    );
    Ok(())
}

fn compare(scenes: &[PathBuf], out: Option<PathBuf>, backend: BackendChoice, sets: &[String]) -> znfield::Result<()> {
    let dir = out.unwrap_or_else(|| PathBuf::from("znfield-out").join("compare"));
    let paths: Vec<&std::path::Path> = scenes.iter().map(|p| p.as_path()).collect();
    let mut progress = |k: usize, n: usize, name: &str| eprintln!("znfield: compare {}/{n}: {name}", k + 1);
    znfield::compare::run_compare(&paths, sets, backend, &dir, &mut progress)?;
    eprintln!("znfield: wrote {} and {}", dir.join("report.md").display(), dir.join("report.html").display());
    Ok(())
}

fn validate(backend: BackendChoice, json: bool, cases: &[String]) -> znfield::Result<()> {
    let mut checks = Vec::new();
    let all: Vec<String> = znfield::validate::CASES.iter().map(|c| c.to_string()).collect();
    for case in if cases.is_empty() { &all } else { cases } {
        checks.extend(znfield::validate::run_case(case, backend)?);
    }
    if json {
        let text = serde_json::to_string_pretty(&checks).map_err(|e| znfield::Error::Solve(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", znfield::validate::table(&checks));
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    if failed > 0 {
        return Err(znfield::Error::Validation(format!("{failed} of {} checks failed", checks.len())));
    }
    eprintln!("znfield: all {} checks passed", checks.len());
    Ok(())
}

fn mesh(scene_path: Option<PathBuf>, out: Option<PathBuf>, sets: &[String]) -> znfield::Result<()> {
    let (scene, dir) = load(scene_path, out, sets)?;
    eprintln!("znfield: meshing scene `{}`", scene.name);
    let report = znfield::run::write_mesh(&scene, &dir)?;
    eprintln!(
        "znfield: {} nodes, {} tets; dihedral angles {:.2}..{:.2} deg (mean {:.1}); {} tets below 5 deg",
        report.nodes,
        report.tets,
        report.min_dihedral_deg,
        report.max_dihedral_deg,
        report.mean_dihedral_deg,
        report.tets_below_5_deg
    );
    eprintln!("znfield: wrote {}", dir.join("mesh_report.json").display());
    Ok(())
}

fn run(scene_path: Option<PathBuf>, out: Option<PathBuf>, backend: BackendChoice, sets: &[String]) -> znfield::Result<()> {
    let (scene, dir) = load(scene_path, out, sets)?;
    eprintln!("znfield: running scene `{}`", scene.name);
    let result = znfield::run::run(&scene, backend)?;
    znfield::run::write_outputs(&result, &dir)?;
    let s = &result.summary;
    eprintln!(
        "znfield: {} nodes, {} tets, backend {} ({}); {} linear / {} Newton iterations",
        s.mesh.nodes, s.mesh.tets, s.backend.kind, s.backend.adapter, s.solver.linear_iterations, s.solver.nonlinear_iterations
    );
    eprintln!(
        "znfield: tip_enhancement {}, nonuniformity {}, mean |i| {:.4} A/m^2 ({}), E = {:.5} V, max field {:.4e} V/m",
        s.electrode.tip_enhancement.map_or("n/a (no net current)".to_string(), |v| format!("{v:.4}")),
        s.electrode.nonuniformity.map_or("n/a".to_string(), |v| format!("{v:.4}")),
        s.electrode.current_density.mean,
        s.electrode.direction,
        s.electrode.potential,
        s.electrolyte.max_field
    );
    if let Some(c) = &s.coating {
        let percent = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.1}%", 100.0 * v));
        let lower = c.deposition_by_depth.map(|bins| bins[..bins.len() / 2].iter().sum::<f64>());
        eprintln!(
            "znfield: coating: total {:.4e} A, {} on the scaffold, {} on the base electrode, {} in the lower half of {:.3e} m{}{}",
            c.total_current,
            percent(c.current_to_scaffold_fraction),
            percent(c.current_to_base_fraction),
            percent(lower),
            c.thickness,
            c.penetration_ratio.map_or(String::new(), |v| format!(", L/lambda {v:.3}")),
            c.effective_transference_number.map_or(String::new(), |v| format!(", t+ in the coating {v:.3}")),
        );
    }
    eprintln!("znfield: wrote {}", dir.join("summary.json").display());
    Ok(())
}
