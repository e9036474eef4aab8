//! Fuzz targets (proptest): the scene parser, `--set` parsing (of a run, and of a sweep's and a
//! comparison's axes and overrides) and the Gmsh reader must answer
//! every input, however mangled, with a value or an error, never a panic. Inputs are mutations of
//! the shipped scenes and meshes (numbers swapped for edge values, bytes flipped, spans deleted
//! or duplicated, truncation) and random text.
//!
//! `cargo test` runs proptest's default 256 cases per target; `bash fuzz/run.sh [SECONDS]` runs
//! each target for a bounded time with far more. A failure proptest finds is saved under
//! `proptest-regressions/` (committed, replayed first on every run); each one fixed also gets a
//! named regression test at the end of this file.

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::Index;
use znfield::scene::Scene;

/// Values that break careless parsers and validators.
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1e308",
    "-1e308",
    "1e999",
    "1e-320",
    "NaN",
    "Infinity",
    "18446744073709551616",
    "-9223372036854775809",
    "4294967296",
    "0.5",
    "3",
    "1e-30",
    "[]",
    "{}",
    "null",
    "true",
    "\"x\"",
    "[1,2]",
    "[1e308, -1e308]",
];

fn shipped_scenes() -> Vec<String> {
    let mut texts: Vec<String> = std::fs::read_dir("scenes")
        .expect("scenes/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| std::fs::read_to_string(p).expect("scene"))
        .collect();
    texts.sort();
    texts
}

/// One mutation of a byte string, at positions picked by `at` and `len`.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the number (or token) starting at the position with an edge value.
    Number(Index, usize),
    /// Flip one byte to a random value.
    Byte(Index, u8),
    /// Delete a span.
    Delete(Index, usize),
    /// Duplicate a span in place.
    Duplicate(Index, usize),
    /// Cut everything after the position.
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0..EDGE_NUMBERS.len()).prop_map(|(i, k)| Mutation::Number(i, k)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Byte(i, b)),
        2 => (any::<Index>(), 1usize..200).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<Index>(), 1usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match m {
            Mutation::Number(i, k) => {
                // The next run of number characters at or after the position.
                let start = (i.index(len)..len).find(|&p| bytes[p].is_ascii_digit() || bytes[p] == b'-');
                if let Some(start) = start {
                    let end =
                        (start..len).find(|&p| !(bytes[p].is_ascii_alphanumeric() || b"-+.".contains(&bytes[p]))).unwrap_or(len);
                    bytes.splice(start..end, EDGE_NUMBERS[*k].bytes());
                }
            }
            Mutation::Byte(i, b) => bytes[i.index(len)] = *b,
            Mutation::Delete(i, n) => {
                let start = i.index(len);
                bytes.drain(start..(start + n).min(len));
            }
            Mutation::Duplicate(i, n) => {
                let start = i.index(len);
                let span: Vec<u8> = bytes[start..(start + n).min(len)].to_vec();
                bytes.splice(start..start, span);
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(len)),
        }
    }
    bytes
}

/// Everything done with a parsed scene short of meshing must not panic either.
fn exercise(scene: &Scene) {
    let _ = znfield::run::scene_warnings(scene);
    let _ = znfield::run::size_field(scene);
    let _ = znfield::run::length_scale(scene);
    let _ = serde_json::to_string(scene);
}

proptest! {
    #[test]
    fn scene_parser_survives_mutated_scenes(
        which in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let scenes = shipped_scenes();
        let text = &scenes[which.index(scenes.len())];
        let mangled = String::from_utf8_lossy(&mutate(text.clone().into_bytes(), &mutations)).into_owned();
        if let Ok(scene) = Scene::parse(&mangled, "fuzz.json", &[]) {
            exercise(&scene);
        }
    }

    #[test]
    fn scene_parser_survives_random_text(text in "\\PC{0,400}") {
        let _ = Scene::parse(&text, "fuzz.json", &[]);
    }

    #[test]
    fn set_overrides_survive_any_key_and_value(
        key in prop_oneof![
            prop::sample::select(vec![
                "geometry.protrusions.0.radius_m", "geometry.protrusions", "geometry.protrusions.99.radius_m",
                "geometry.layers", "geometry.half_width_m", "physics.species.0", "physics.species",
                "operation.waveform", "time", "time.output_times_s", "mesh.refine", "mesh.refine_boxes.0",
                "output.slices.0.at_m", "solver.preconditioner", "physics.model", "", ".", "..", "a.b.c",
            ]).prop_map(str::to_string),
            "[a-z_.0-9]{0,40}",
        ],
        value in prop_oneof![prop::sample::select(EDGE_NUMBERS.to_vec()).prop_map(str::to_string), "\\PC{0,60}"],
        separator in prop::sample::select(vec!["=", "==", "", " = "]),
    ) {
        let set = format!("{key}{separator}{value}");
        if let Ok(scene) = Scene::builtin_default(&[set]) {
            exercise(&scene);
        }
    }

    #[test]
    fn sweep_and_compare_arguments_survive_anything(
        args in prop::collection::vec(
            (
                prop_oneof![
                    prop::sample::select(vec!["mesh", "mesh.refine", "mesh.refine.x", "geometry.protrusions", "geometry.protrusions.0", "", "."])
                        .prop_map(str::to_string),
                    "[a-z_.0-9]{0,20}",
                ],
                prop::sample::select(vec!["=", "", "=="]),
                prop::collection::vec(prop_oneof![Just("1".to_string()), Just("[1,2]".to_string()), "\\PC{0,8}"], 0..40),
            ),
            0..6,
        ),
    ) {
        let sets: Vec<String> = args.iter().map(|(k, sep, vs)| format!("{k}{sep}{}", vs.join(","))).collect();
        let _ = znfield::scene::overrides::check_order(&sets);
        let axes: Vec<_> = sets.iter().filter_map(|s| znfield::sweep::SweptKey::parse(s).ok()).collect();
        if znfield::sweep::check_axes(&axes).is_ok() {
            let count: usize = axes.iter().map(|a| a.values.len()).product();
            prop_assert!(count <= znfield::sweep::MAX_SWEEP_POINTS);
            prop_assert_eq!(znfield::sweep::points(&axes).len(), count);
        }
    }

    #[test]
    fn msh_reader_survives_mutated_meshes(
        which in 0usize..3,
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let file = ["hemisphere_coarse.msh", "hemisphere_coarse_v22.msh", "hemisphere_coarse_binary.msh"][which];
        let bytes = std::fs::read(Path::new("meshes").join(file)).expect("mesh");
        import(&mutate(bytes, &mutations));
    }

    #[test]
    fn msh_reader_survives_random_sections(body in prop::collection::vec(any::<u8>(), 0..2000), v4 in any::<bool>()) {
        let mut bytes = format!("$MeshFormat\n{} 0 8\n$EndMeshFormat\n", if v4 { "4.1" } else { "2.2" }).into_bytes();
        bytes.extend(body);
        import(&bytes);
    }
}

/// Parses and, when that succeeds, maps the file with the shipped Gmsh scene's groups.
fn import(bytes: &[u8]) {
    let Ok(msh) = znfield::mesh::gmsh::parse(bytes) else {
        return;
    };
    let scene = Scene::load(Path::new("scenes/hemisphere_gmsh.json"), &[]).expect("scene");
    let g = &scene.geometry;
    let _ = znfield::mesh::import::to_tet_mesh(
        &msh,
        &g.boundaries.clone().unwrap_or_default(),
        &g.regions.clone().unwrap_or_default(),
        g.length_unit_m,
        "fuzz.msh",
    );
}

// --- Regressions: inputs the fuzzers broke, fixed -------------------------------------------------

/// A $Nodes header declaring 10^18 nodes made the reader reserve memory for all of them and abort
/// (found by msh_reader_survives_mutated_meshes). Now a clear error.
#[test]
fn msh_node_count_beyond_the_file_is_an_error_not_an_abort() {
    let text = "$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\n1 1000000000000000000 1 1000000000000000000\n3 1 0 1\n1\n0 0 0\n$EndNodes\n";
    assert!(znfield::mesh::gmsh::parse(text.as_bytes()).is_err());
    let text = text.replace(
        "$Nodes\n1 1000000000000000000 1 1000000000000000000\n3 1 0 1\n1\n0 0 0\n$EndNodes\n",
        "$Nodes\n0 0 0 0\n$EndNodes\n$Elements\n1 1000000000000000000 1 1\n3 1 4 1\n1 1 2 3 4\n$EndElements\n",
    );
    assert!(znfield::mesh::gmsh::parse(text.as_bytes()).is_err());
}
