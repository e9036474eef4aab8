//! Every shipped scene runs (on a coarse mesh) to a finite, complete summary: the quick guard
//! that a scene file and the code it exercises still agree. The physics of each scene is checked
//! by its own tests (hemisphere_primary, validation, coatings, geometry, ...).

use std::path::Path;

use znfield::backend::BackendChoice;
use znfield::run::run;
use znfield::scene::Scene;

#[test]
fn every_shipped_scene_runs_on_a_coarse_mesh() {
    let mut paths: Vec<_> = std::fs::read_dir("scenes")
        .expect("scenes/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 18, "expected the shipped scenes, found {}", paths.len());
    for path in &paths {
        let sets = vec!["mesh.refine=0.35".to_string()];
        let scene = Scene::load(Path::new(path), &sets).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(scene.description.len() > 80, "{}: the description should say what it shows and what to expect", path.display());
        let r = run(&scene, BackendChoice::Cpu).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let s = &r.summary;
        let finite =
            [s.electrode.potential, s.electrode.total_current, s.electrode.current_density.mean, s.electrolyte.max_field];
        assert!(finite.iter().all(|v| v.is_finite()), "{}: non-finite headline metric {finite:?}", path.display());
        assert!(r.fields.potential.iter().all(|v| v.is_finite()), "{}: non-finite potential", path.display());
        for (name, c) in &r.fields.concentrations {
            assert!(c.iter().all(|&v| v > 0.0 && v.is_finite()), "{}: {name} not positive", path.display());
        }
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
