//! Gmsh import: the committed Gmsh-made hemisphere mesh against the analytic tip enhancement,
//! identical meshes from the three encodings, bad files rejected with exit 2 and a message
//! naming the element or group, and `znfield mesh --msh` exports that read back to the same mesh
//! and the same solution.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use znfield::backend::BackendChoice;
use znfield::mesh::gmsh;
use znfield::mesh::import::to_tet_mesh;
use znfield::run::{build_domain, run};
use znfield::scene::{BoundaryGroups, RegionGroups, Scene};

fn groups() -> (BoundaryGroups, RegionGroups) {
    (
        BoundaryGroups { electrode: vec!["electrode".into()], bulk: vec!["top".into()], insulating: vec!["sides".into()] },
        RegionGroups { electrolyte: vec!["electrolyte".into()] },
    )
}

#[test]
fn gmsh_hemisphere_gives_tip_enhancement_three_on_both_backends() {
    let scene = Scene::load(Path::new("scenes/hemisphere_gmsh.json"), &[]).expect("scene");
    let cpu = run(&scene, BackendChoice::Cpu).expect("run").summary;
    let te = cpu.electrode.tip_enhancement.expect("net current");
    assert!((te - 3.0).abs() < 0.03, "tip enhancement on the Gmsh mesh {te}");
    // A quarter of the 20 x 20 um box: projected area 100 um^2, current -100 A/m^2 x area.
    assert!(common::rel(cpu.electrode.projected_area, 1e-10) < 1e-12);
    assert!(common::rel(cpu.electrode.total_current, -1e-8) < 1e-12);
    if common::gpu_or_skip("gmsh hemisphere on the GPU").is_some() {
        let gpu = run(&scene, BackendChoice::Gpu).expect("gpu run").summary;
        assert!(common::rel(gpu.electrode.tip_enhancement.expect("net current"), te) < 1e-4);
    }
}

#[test]
fn ascii_binary_and_v22_encodings_give_identical_meshes() {
    let read = |f: &str| gmsh::read(Path::new(&format!("meshes/{f}")), u64::MAX, "").expect("read");
    let ascii = read("hemisphere_coarse.msh");
    let binary = read("hemisphere_coarse_binary.msh");
    // Same connectivity and groups; coordinates agree to the 16 digits Gmsh prints in ASCII.
    assert_eq!(ascii.tets, binary.tets);
    assert_eq!(ascii.triangles, binary.triangles);
    assert_eq!(ascii.physical_names, binary.physical_names);
    assert_eq!(ascii.nodes.len(), binary.nodes.len());
    let worst = ascii.nodes.iter().zip(&binary.nodes).map(|(a, b)| a.distance(*b)).fold(0.0, f64::max);
    assert!(worst < 1e-13, "ASCII and binary coordinates differ by {worst}");
    let v22 = read("hemisphere_coarse_v22.msh");
    let (b, r) = groups();
    let m41 = to_tet_mesh(&ascii, &b, &r, 1e-6, "ascii").expect("import 4.1");
    let m22 = to_tet_mesh(&v22, &b, &r, 1e-6, "v22").expect("import 2.2");
    assert_eq!(m41.nodes.len(), m22.nodes.len());
    assert!(m41.nodes.iter().zip(&m22.nodes).all(|(a, b)| a.distance(*b) < 1e-18));
    assert_eq!(m41.tets, m22.tets);
    assert_eq!(m41.face_tags, m22.face_tags);
    assert!(m41.tets.len() > 1000);
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("znfield-msh-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

/// Writes `msh` and a scene naming `electrode_group`, runs the CLI, returns (exit code, stderr,
/// output dir existed).
fn run_cli(name: &str, msh: &[u8], electrode_group: &str) -> (Option<i32>, String, bool) {
    let dir = scratch(name);
    std::fs::write(dir.join("mesh.msh"), msh).expect("write msh");
    let scene = format!(
        r#"{{ "name": "{name}", "geometry": {{ "mesh_file": "mesh.msh", "length_unit_m": 1e-6,
            "boundaries": {{ "electrode": ["{electrode_group}"], "bulk": ["top"], "insulating": ["sides"] }},
            "regions": {{ "electrolyte": ["electrolyte"] }} }},
            "physics": {{ "model": "primary" }} }}"#
    );
    std::fs::write(dir.join("scene.json"), scene).expect("write scene");
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_znfield"))
        .args(["run", &dir.join("scene.json").display().to_string(), "--out", &out.display().to_string(), "--backend", "cpu"])
        .output()
        .expect("run");
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned(), out.exists())
}

fn v22() -> String {
    std::fs::read_to_string("meshes/hemisphere_coarse_v22.msh").expect("v22 mesh")
}

/// The first tetrahedron line of the 2.2 file (`id 4 ntags tags... n1 n2 n3 n4`), split into fields.
fn first_tet(text: &str) -> (String, Vec<String>) {
    let elements = &text[text.find("$Elements").expect("$Elements")..];
    let line = elements
        .lines()
        .find(|l| l.split_whitespace().count() >= 8 && l.split_whitespace().nth(1) == Some("4"))
        .expect("a tet line")
        .to_string();
    let fields = line.split_whitespace().map(String::from).collect();
    (line, fields)
}

#[test]
fn unmodified_file_runs() {
    let (code, err, _) = run_cli("ok", v22().as_bytes(), "electrode");
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn truncated_file_is_rejected() {
    let bytes = std::fs::read("meshes/hemisphere_coarse.msh").expect("msh");
    for cut in [bytes.len() / 3, bytes.len() * 9 / 10] {
        let (code, err, out) = run_cli(&format!("truncated-{cut}"), &bytes[..cut], "electrode");
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("mesh.msh") && (err.contains("truncated") || err.contains("end of file")), "{err}");
        assert!(!out);
    }
    let bin = std::fs::read("meshes/hemisphere_coarse_binary.msh").expect("msh");
    let (code, err, _) = run_cli("truncated-binary", &bin[..bin.len() / 2], "electrode");
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn unknown_element_type_names_the_element() {
    let text = v22();
    let (line, f) = first_tet(&text);
    let changed = format!("{} 11 {}", f[0], f[2..].join(" "));
    let (code, err, out) = run_cli("type11", text.replacen(&line, &changed, 1).as_bytes(), "electrode");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("element {}", f[0])) && err.contains("type 11"), "{err}");
    assert!(!out);
}

#[test]
fn missing_physical_group_names_the_group_and_lists_the_known_ones() {
    let (code, err, out) = run_cli("missing-group", v22().as_bytes(), "cathode");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`cathode`") && err.contains("geometry.boundaries.electrode") && err.contains("`electrode`"), "{err}");
    assert!(!out);
}

#[test]
fn degenerate_tetrahedron_names_the_element() {
    let text = v22();
    let (line, mut f) = first_tet(&text);
    let n = f.len();
    f[n - 1] = f[n - 2].clone();
    let (code, err, out) = run_cli("degenerate", text.replacen(&line, &f.join(" "), 1).as_bytes(), "electrode");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("element {}", f[0])) && err.contains("degenerate"), "{err}");
    assert!(!out);
}

#[test]
fn negatively_oriented_tetrahedra_are_reoriented() {
    let text = v22();
    // Swap two nodes of every tetrahedron: all become negatively oriented.
    let flipped: Vec<String> = text
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split_whitespace().collect();
            if f.len() > 5 && f[1] == "4" {
                let n = f.len();
                f.swap(n - 1, n - 2);
                f.join(" ")
            } else {
                l.to_string()
            }
        })
        .collect();
    let flipped = flipped.join("\n") + "\n";
    let (b, r) = groups();
    let a = to_tet_mesh(&gmsh::parse(text.as_bytes()).expect("parse"), &b, &r, 1e-6, "a").expect("import");
    let f = to_tet_mesh(&gmsh::parse(flipped.as_bytes()).expect("parse"), &b, &r, 1e-6, "f").expect("import flipped");
    assert!((0..f.tets.len()).all(|t| f.tet_volume(t) > 0.0));
    assert!(common::rel(a.volume(), f.volume()) < 1e-12);
    let (code, err, _) = run_cli("flipped", flipped.as_bytes(), "electrode");
    assert_eq!(code, Some(0), "{err}");
}

/// Sorted (coordinates, tag) of the boundary faces, vertex order normalised.
fn tagged_faces(mesh: &znfield::mesh::TetMesh) -> Vec<(Vec<[u64; 3]>, u8)> {
    let mut faces: Vec<(Vec<[u64; 3]>, u8)> = mesh
        .faces
        .iter()
        .zip(&mesh.face_tags)
        .map(|(f, t)| {
            let mut corners: Vec<[u64; 3]> = f.iter().map(|&n| mesh.nodes[n as usize].to_array().map(f64::to_bits)).collect();
            corners.sort_unstable();
            (corners, t.id())
        })
        .collect();
    faces.sort_unstable();
    faces
}

#[test]
fn exported_mesh_reads_back_to_the_same_mesh_and_solution() {
    let dir = scratch("export");
    let refine = ["--set", "mesh.refine=0.4"];
    let o = Command::new(env!("CARGO_BIN_EXE_znfield"))
        .args(["mesh", "scenes/hemisphere_primary.json", "--msh", "--quiet", "--out"])
        .arg(&dir)
        .args(refine)
        .output()
        .expect("znfield mesh");
    assert!(o.status.success(), "znfield mesh --msh failed: {}", String::from_utf8_lossy(&o.stderr));
    let built = Scene::load(Path::new("scenes/hemisphere_primary.json"), &["mesh.refine=0.4".to_string()]).expect("scene");
    let original = build_domain(&built).expect("mesh").mesh;

    let (b, r) = (
        BoundaryGroups { electrode: vec!["electrode".into()], bulk: vec!["bulk".into()], insulating: vec!["insulating".into()] },
        RegionGroups { electrolyte: vec!["electrolyte".into()] },
    );
    let read = to_tet_mesh(&gmsh::read(&dir.join("mesh.msh"), u64::MAX, "").expect("read export"), &b, &r, 1.0, "export")
        .expect("import");
    // The importer numbers nodes by first use; compare tetrahedra by their corner coordinates,
    // which the shortest round-trip decimal form keeps bit for bit.
    assert_eq!(read.nodes.len(), original.nodes.len());
    assert_eq!(read.tets.len(), original.tets.len());
    let corners = |m: &znfield::mesh::TetMesh, t: usize| m.tets[t].map(|n| m.nodes[n as usize].to_array().map(f64::to_bits));
    assert!((0..read.tets.len()).all(|t| corners(&read, t) == corners(&original, t)), "tetrahedra differ after export");
    assert_eq!(tagged_faces(&read), tagged_faces(&original), "boundary faces or their tags differ after export");

    // The same primary problem on the exported file: the same tip enhancement (to the linear
    // solver's tolerance; the node numbering differs).
    let scene = format!(
        r#"{{ "name": "exported", "geometry": {{ "mesh_file": "mesh.msh",
            "boundaries": {{ "electrode": ["electrode"], "bulk": ["bulk"], "insulating": ["insulating"] }},
            "regions": {{ "electrolyte": ["electrolyte"] }} }},
            "physics": {{ "model": "primary" }}, "operation": {{ "mode": "current", "mean_current_density_A_m2": {} }} }}"#,
        built.operation.mean_current_density_a_m2.expect("the hemisphere scene is galvanostatic")
    );
    std::fs::write(dir.join("exported.json"), scene).expect("write scene");
    let imported = Scene::load(&dir.join("exported.json"), &[]).expect("exported scene");
    let te = |s: &Scene| run(s, BackendChoice::Cpu).expect("run").summary.electrode.tip_enhancement.expect("net current");
    let (a, c) = (te(&built), te(&imported));
    assert!(common::rel(c, a) < 1e-7, "tip enhancement {c} on the exported mesh, {a} on the built-in one");
    let _ = std::fs::remove_dir_all(&dir);
}
