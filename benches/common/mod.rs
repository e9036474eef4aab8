//! What the criterion benches share: the hemisphere tip scene's mesh.

use std::path::Path;

use znfield::geometry::ElectrodeGeometry;
use znfield::mesh::{self, TetMesh};
use znfield::run::{length_scale, size_field};
use znfield::scene::Scene;

/// The mesh of `scenes/hemisphere_primary.json` at `mesh.refine` = ZNFIELD_BENCH_REFINE (default
/// 1), and the scene's length scale, m.
pub fn hemisphere() -> (TetMesh, f64) {
    let refine = std::env::var("ZNFIELD_BENCH_REFINE").unwrap_or_else(|_| "1".into());
    let scene = Scene::load(Path::new("scenes/hemisphere_primary.json"), &[format!("mesh.refine={refine}")]).expect("scene");
    let geom = ElectrodeGeometry::from_scene(&scene.geometry);
    (mesh::generate(&geom, &size_field(&scene)).expect("mesh"), length_scale(&scene))
}
