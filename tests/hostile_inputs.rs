//! Hostile and careless inputs beyond the scene catalogue (tests/bad_inputs.rs), one test per
//! class: files that are not files (devices, FIFOs, directories) or are too large, sweeps too
//! large or contradictory, output directories that are files, shared, planted with links or
//! left by an earlier run, and comparisons whose names collide or carry markup. Every case runs
//! under the case limits of memory and time (`common::run_bounded`) and must end with its exit
//! code, a message naming the culprit, and nothing complete-looking written.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{complete_looking, run_bounded, TINY_SCENE};

fn scratch(name: &str) -> PathBuf {
    common::scratch("hostile", name)
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code 2, one `error:` line holding every word, and nothing complete-looking under `out`.
fn refused(out: &Output, words: &[&str], dir: &Path) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    for w in words {
        assert!(errors[0].contains(w), "`{w}` missing from: {}", errors[0]);
    }
    assert!(complete_looking(dir).is_empty(), "left behind: {:?}", complete_looking(dir));
}

#[test]
fn files_that_are_not_regular_files_are_refused_without_reading_them() {
    let dir = scratch("special");
    let out = dir.join("out");
    let fifo = dir.join("scene.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let o = |scene: &Path| run_bounded(&args(&["run", &scene.display().to_string(), "--out", &out.display().to_string()]), &[]);
    refused(&o(Path::new("/dev/zero")), &["/dev/zero", "a device, not a regular file"], &out);
    refused(&o(&fifo), &["scene.fifo", "a FIFO"], &out);
    refused(&o(&dir), &["a directory"], &out);
    // The same for a scene's mesh file.
    let gmsh = std::fs::read_to_string("scenes/hemisphere_gmsh.json").expect("scene");
    let scene = dir.join("gmsh.json");
    for (target, words) in [("/dev/zero", "a device"), (fifo.to_str().expect("utf-8"), "a FIFO")] {
        std::fs::write(&scene, gmsh.replace("../meshes/hemisphere.msh", target)).expect("scene");
        refused(&o(&scene), &[target, "cannot read mesh file", words], &out);
    }
    assert!(!out.exists(), "a refused run creates no output directory");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_mesh_file_larger_than_the_memory_allows_is_refused_before_it_is_read() {
    let dir = scratch("big-mesh");
    // A sparse 3 GB file: its size alone is over a third of the case's 2 GiB budget.
    let big = dir.join("big.msh");
    std::fs::File::create(&big).and_then(|f| f.set_len(3 << 30)).expect("sparse file");
    let scene = dir.join("scene.json");
    let text = std::fs::read_to_string("scenes/hemisphere_gmsh.json").expect("scene");
    std::fs::write(&scene, text.replace("../meshes/hemisphere.msh", "big.msh")).expect("scene");
    let out = dir.join("out");
    let o = run_bounded(&args(&["run", &scene.display().to_string(), "--out", &out.display().to_string()]), &[]);
    refused(&o, &["big.msh", "3221225472 bytes", "more than the"], &out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sweeps_too_large_or_contradictory_are_refused_before_any_point_is_built() {
    let dir = scratch("sweep");
    let scene = dir.join("tiny.json");
    std::fs::write(&scene, TINY_SCENE).expect("scene");
    let out = dir.join("out");
    let values = (1..=1000).map(|k| format!("{}", 1.0 + k as f64 * 1e-3)).collect::<Vec<_>>().join(",");
    let mut a = args(&["sweep", &scene.display().to_string(), "--out", &out.display().to_string()]);
    for key in ["mesh.refine", "mesh.grading", "physics.temperature_K"] {
        a.extend(["--set".to_string(), format!("{key}={values}")]);
    }
    refused(&run_bounded(&a, &[]), &["1000 x 1000 x 1000", "10000 points"], &out);
    let conflicting = args(&[
        "sweep",
        &scene.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--set",
        "mesh.refine=1",
        "--set",
        "mesh.refine=0.5,1",
    ]);
    refused(&run_bounded(&conflicting, &[]), &["mesh.refine", "replaces"], &out);
    // A whole block after one of its keys replaces that key too.
    let replacing = args(&[
        "sweep",
        &scene.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--set",
        "mesh.refine=0.5,1",
        "--set",
        r#"mesh={"refine": 2}"#,
    ]);
    refused(&run_bounded(&replacing, &[]), &["--set mesh: replaces --set mesh.refine"], &out);
    assert!(!out.exists());
    // An older sweep is refused without --overwrite and left as it was; with it, its tables and
    // points' summaries go before the new sweep checks its points, so a sweep refused there
    // leaves nothing that looks finished.
    std::fs::create_dir_all(out.join("point_000")).expect("old point");
    for old in ["sweep.json", "sweep.csv", "point_000/summary.json"] {
        std::fs::write(out.join(old), "{}").expect("old file");
    }
    let (scene_arg, out_arg) = (scene.display().to_string(), out.display().to_string());
    let o = run_bounded(&args(&["sweep", &scene_arg, "--out", &out_arg, "--set", "mesh.refine=1,2"]), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds the output of an earlier run (point_000, sweep.csv, sweep.json)"), "{}", stderr(&o));
    assert!(out.join("sweep.json").exists(), "the refused sweep left the earlier one alone");
    let bad_value = args(&["sweep", &scene_arg, "--overwrite", "--out", &out_arg, "--set", "mesh.refine=1,-1"]);
    refused(&run_bounded(&bad_value, &[]), &["mesh.refine", "-1"], &out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_output_directory_that_cannot_be_one_is_refused_before_meshing() {
    let dir = scratch("out-file");
    let scene = dir.join("tiny.json");
    std::fs::write(&scene, TINY_SCENE).expect("scene");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").expect("file");
    // The box is one the mesher would refuse too (too many tetrahedra): the --out error comes
    // first, so the target is checked before meshing.
    for (out, words) in
        [(file.as_path(), ["a-file", "exists and is not a directory"]), (Path::new("/proc/znfield"), ["/proc/znfield", "cannot"])]
    {
        let (scene, out) = (scene.display().to_string(), out.display().to_string());
        let o = run_bounded(&args(&["run", &scene, "--out", &out, "--set", "geometry.half_width_m=1e-3"]), &[]);
        refused(&o, &words, &dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A transient run that holds (sleeps) after its first checkpoint, so the directory stays held.
fn held_run(out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_znfield"))
        .args(["run", "scenes/hemisphere_tertiary_transient.json", "--set", "mesh.refine=0.4", "--set", "output.maps=false"])
        .args(["--backend", "cpu", "--checkpoint-every", "0", "--quiet", "--out"])
        .arg(out)
        .env("ZNFIELD_HOLD_AFTER_CHECKPOINT", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
}

#[test]
fn a_second_run_into_a_directory_in_use_is_refused_naming_the_holder() {
    let dir = scratch("shared");
    let out = dir.join("out");
    let mut first = held_run(&out);
    let began = Instant::now();
    while !out.join("checkpoint.json").exists() {
        assert!(first.try_wait().expect("wait").is_none(), "the first run ended early");
        assert!(began.elapsed() < Duration::from_secs(120), "no checkpoint after 120 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    let scene = dir.join("tiny.json");
    std::fs::write(&scene, TINY_SCENE).expect("scene");
    let second = run_bounded(&args(&["run", &scene.display().to_string(), "--out", &out.display().to_string()]), &[]);
    let text = stderr(&second);
    assert_eq!(second.status.code(), Some(2), "{text}");
    assert!(text.contains("another znfield command") && text.contains(&format!("process {}", first.id())), "{text}");
    assert!(!out.join("summary.json").exists() && !out.join("fields.vtu").exists(), "the second run wrote nothing");
    first.kill().expect("kill");
    first.wait().expect("reap");
    // The lock dies with its holder: the directory is free again (its checkpoint is an earlier
    // run's output, replaced only on request).
    let third = run_bounded(&args(&["run", &scene.display().to_string(), "--out", &out.display().to_string()]), &[]);
    let text = stderr(&third);
    assert_eq!(third.status.code(), Some(2), "{text}");
    assert!(text.contains("holds the output of an earlier run (checkpoint.json") && text.contains("--overwrite"), "{text}");
    let third =
        run_bounded(&args(&["run", &scene.display().to_string(), "--overwrite", "--out", &out.display().to_string()]), &[]);
    assert!(third.status.success(), "{}", stderr(&third));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_run_never_stands_beside_an_older_complete_one() {
    let dir = scratch("failed");
    let out = dir.join("out");
    let scene = dir.join("tiny.json");
    std::fs::write(&scene, TINY_SCENE).expect("scene");
    let run = |sets: &[&str]| {
        let out = out.display().to_string();
        let mut a = args(&["run", &scene.display().to_string(), "--backend", "cpu", "--overwrite", "--out", &out]);
        for s in sets {
            a.extend(["--set".to_string(), s.to_string()]);
        }
        run_bounded(&a, &[])
    };
    assert!(run(&[]).status.success());
    assert!(out.join("summary.json").exists());
    // A transient whose Newton may take one iteration: every step fails, the step size
    // underflows, and the run ends with exit 3 (no hang, no memory growth).
    let failed = run(&["physics.model=tertiary", r#"time={"end_s": 0.05}"#, "solver.newton_max_iterations=1"]);
    let text = stderr(&failed);
    assert_eq!(failed.status.code(), Some(3), "{text}");
    assert!(text.contains("step size underflow"), "{text}");
    assert!(!out.join("summary.json").exists(), "the older run's summary.json was removed");
    assert!(out.join("failed_solve.json").exists(), "the failure's diagnostics are there");
    // A later successful run removes the failure's report.
    assert!(run(&[]).status.success());
    assert!(out.join("summary.json").exists() && !out.join("failed_solve.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn links_planted_in_an_output_directory_are_never_written_through() {
    let dir = scratch("links");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).expect("out");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "keep").expect("victim");
    // The old fixed temporary names, and the final names themselves.
    for name in [".summary.json.partial", ".fields.vtu.partial", "summary.json", "fields.vtu"] {
        std::os::unix::fs::symlink(&victim, out.join(name)).expect("symlink");
    }
    let scene = dir.join("tiny.json");
    std::fs::write(&scene, TINY_SCENE).expect("scene");
    let out_arg = out.display().to_string();
    let o = run_bounded(&args(&["run", &scene.display().to_string(), "--backend", "cpu", "--overwrite", "--out", &out_arg]), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep", "the victim file is untouched");
    assert!(!out.join("summary.json").is_symlink() && !out.join("fields.vtu").is_symlink(), "the outputs replaced the links");
    // A link planted at a directory a sweep makes (a point's) is refused, not written through.
    let sweep_out = dir.join("sweep");
    std::fs::create_dir_all(&sweep_out).expect("sweep dir");
    let victim_dir = dir.join("victim-dir");
    std::fs::create_dir_all(&victim_dir).expect("victim dir");
    std::os::unix::fs::symlink(&victim_dir, sweep_out.join("point_000")).expect("symlink");
    let (scene_arg, out_arg) = (scene.display().to_string(), sweep_out.display().to_string());
    let sweep = ["sweep", &scene_arg, "--backend", "cpu", "--set", "mesh.refine=1,1.1", "--overwrite", "--out", &out_arg];
    let o = run_bounded(&args(&sweep), &[]);
    refused(&o, &["point_000", "symbolic link"], &sweep_out);
    assert_eq!(std::fs::read_dir(&victim_dir).expect("victim dir").count(), 0, "nothing written through the link");
    // A link at the lock file's name is refused.
    let other = scratch("links-lock");
    std::fs::create_dir_all(&other).expect("dir");
    std::os::unix::fs::symlink(&victim, other.join(".znfield.lock")).expect("symlink");
    let o = run_bounded(&args(&["run", &scene.display().to_string(), "--out", &other.display().to_string()]), &[]);
    refused(&o, &[".znfield.lock", "not a regular file"], &other);
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep");
    let _ = (std::fs::remove_dir_all(&dir), std::fs::remove_dir_all(&other));
}

#[test]
fn compare_refuses_overrides_that_replace_one_another() {
    let dir = scratch("compare-sets");
    let out = dir.join("out");
    let list = args(&[
        "compare",
        "scenes/hemisphere_primary.json",
        "scenes/cone_array.json",
        "--out",
        &out.display().to_string(),
        "--set",
        "mesh.refine=0.5",
        "--set",
        "mesh.refine=2",
    ]);
    refused(&run_bounded(&list, &[]), &["--set mesh.refine: replaces --set mesh.refine"], &out);
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compared_scenes_with_equal_or_marked_up_names_get_their_own_directories_and_escaped_reports() {
    let dir = scratch("compare");
    let named = |name: &str, file: &str| {
        let path = dir.join(file);
        let text = TINY_SCENE.replace(r#""name": "tiny""#, &format!(r#""name": {}"#, serde_json::to_string(name).expect("json")));
        std::fs::write(&path, text).expect("scene");
        path.display().to_string()
    };
    let (a, b, c) = (named("same", "a.json"), named("same", "b.json"), named("x#<em>1", "c.json"));
    let out = dir.join("out");
    let mut list = args(&["compare", &a, &b, &c, "--backend", "cpu", "--out", &out.display().to_string()]);
    list.extend(args(&["--set", "output.maps=false"]));
    let o = run_bounded(&list, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    for d in ["same", "same-2", "x#<em>1"] {
        assert!(out.join(d).join("summary.json").exists(), "{d}/summary.json");
    }
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.contains("](maps/x%23%3Cem%3E1_electrode_current_density.png)"), "links percent-encoded: {md}");
    assert!(out.join("maps/x#<em>1_electrode_current_density.png").exists());
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(md.contains("| same | same-2 | x\\#&lt;em&gt;1 |"), "{md}");
    assert!(!html.contains("<em>1") && html.contains("x#&lt;em&gt;1"), "names escaped in report.html");
    let _ = std::fs::remove_dir_all(&dir);
}
