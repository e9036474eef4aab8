//! Every shipped scene runs (on a coarse mesh) to a finite, complete summary and writes its PNG
//! maps: the quick guard that a scene file and the code it exercises still agree. The physics of
//! each scene is checked by its own tests (hemisphere_primary, validation, coatings, geometry, ...).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use znfield::backend::BackendChoice;
use znfield::output::maps::file_safe;
use znfield::run::{run, write_outputs};
use znfield::scene::Scene;

/// Decoded RGB pixels of a PNG file with its size.
fn decode(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    let pixels = buf[..info.buffer_size()].chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    (info.width, info.height, pixels)
}

/// The PNG files a run of `scene` should have written.
fn expected_pictures(scene: &Scene, species: &[String]) -> Vec<String> {
    let mut files = vec!["electrode_current_density.png".to_string(), "electrode_3d.png".to_string()];
    for field in ["potential", "field_magnitude", "current_density"] {
        files.push(format!("slice1_{field}.png"));
    }
    files.extend(species.iter().map(|s| format!("slice1_concentration_{}.png", file_safe(s))));
    if scene.time.is_some() {
        files.push("transient_electrode_potential.png".into());
        files.push("transient_min_surface_concentration.png".into());
    }
    files.extend(["profile_electrode_current_density.png".to_string(), "profile_z_potential.png".to_string()]);
    let reacting = &scene.physics.kinetics.reacting_species;
    if species.contains(reacting) {
        files.push(format!("profile_z_concentration_{}.png", file_safe(reacting)));
        files.push(format!("profile_electrode_concentration_{}.png", file_safe(reacting)));
    }
    files
}

/// Every expected picture decodes, is at least 400 x 300 pixels and is not blank: many colours,
/// and a map (not a line plot) is coloured over at least a fifth of its pixels (not white, not
/// the grey of empty pixels).
fn check_pictures(dir: &Path, expected: &[String], scene: &str) {
    for file in expected {
        let path: PathBuf = dir.join(file);
        assert!(path.exists(), "{scene}: {file} was not written");
        let (w, h, pixels) = decode(&path);
        assert!(w >= 400 && h >= 300, "{scene}: {file} is only {w} x {h}");
        let colours: HashSet<[u8; 3]> = pixels.iter().copied().collect();
        assert!(colours.len() >= 30, "{scene}: {file} has only {} colours", colours.len());
        let line_plot = file.starts_with("transient_") || file.starts_with("profile_");
        if !line_plot {
            let coloured = pixels.iter().filter(|p| **p != [255, 255, 255] && **p != [205, 205, 205]).count();
            let share = coloured as f64 / pixels.len() as f64;
            assert!(share > 0.2, "{scene}: {file} is coloured over only {:.0}% of its pixels", 100.0 * share);
        }
    }
}

#[test]
fn every_shipped_scene_runs_on_a_coarse_mesh_and_draws_its_maps() {
    let mut paths: Vec<_> = std::fs::read_dir("scenes")
        .expect("scenes/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 18, "expected the shipped scenes, found {}", paths.len());
    for path in &paths {
        let as_shipped = Scene::load(Path::new(path), &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let warnings = znfield::run::scene_warnings(&as_shipped);
        assert!(warnings.is_empty(), "{}: the shipped scene should not warn: {warnings:?}", path.display());
        let sets = vec!["mesh.refine=0.35".to_string()];
        let scene = Scene::load(Path::new(path), &sets).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(scene.description.len() > 80, "{}: the description should say what it shows and what to expect", path.display());
        let mut r = run(&scene, BackendChoice::Cpu).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let dir = std::env::temp_dir().join(format!("znfield-scenes-{}-{}", std::process::id(), scene.name));
        write_outputs(&mut r, &dir).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let s = &r.summary;
        let finite =
            [s.electrode.potential, s.electrode.total_current, s.electrode.current_density.mean, s.electrolyte.max_field];
        assert!(finite.iter().all(|v| v.is_finite()), "{}: non-finite headline metric {finite:?}", path.display());
        assert!(r.fields.potential.iter().all(|v| v.is_finite()), "{}: non-finite potential", path.display());
        for (name, c) in &r.fields.concentrations {
            assert!(c.iter().all(|&v| v > 0.0 && v.is_finite()), "{}: {name} not positive", path.display());
        }
        let species: Vec<String> = r.fields.concentrations.iter().map(|(name, _)| name.clone()).collect();
        let mut expected = expected_pictures(&scene, &species);
        if !r.fields.electrode_overpotential.is_empty() {
            expected.push("profile_electrode_overpotential.png".into());
        }
        check_pictures(&dir, &expected, &scene.name);
        // The zoomed maps around the first protrusion, where the scene has them.
        let zooms: Vec<String> = std::fs::read_dir(&dir)
            .expect("output dir")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| (n.starts_with("zoom") || n.starts_with("electrode_3d_zoom")) && n.ends_with(".png"))
            .collect();
        check_pictures(&dir, &zooms, &scene.name);
        if scene.name == "hemisphere_primary" {
            for zoom in ["zoom1_potential.png", "electrode_3d_zoom.png"] {
                assert!(zooms.contains(&zoom.to_string()), "a 1 um hemisphere in a 20 um cell is zoomed on: {zooms:?}");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
        let coated = !scene.geometry.layers.is_empty() || scene.geometry.scaffold.is_some();
        assert_eq!(s.coating.is_some(), coated, "{}: coating block present iff layers or a scaffold", path.display());
        eprintln!(
            "{}: {} nodes, E = {:.4} V, mean |i| = {:.4} A/m^2",
            path.display(),
            s.mesh.nodes,
            s.electrode.potential,
            s.electrode.current_density.mean
        );
    }
}
