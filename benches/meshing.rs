//! Criterion benchmark of the built-in mesher: the hemisphere scene at about 1.2M tetrahedra
//! (background bisection, warp, cut and smoothing, boundary tagging), reported in tetrahedra per
//! second. `cargo bench --bench meshing`; ZNFIELD_BENCH_REFINE overrides the refine factor (2).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use znfield::geometry::ElectrodeGeometry;
use znfield::mesh;
use znfield::run::size_field;
use znfield::scene::Scene;

fn meshing(c: &mut Criterion) {
    let refine = std::env::var("ZNFIELD_BENCH_REFINE").unwrap_or_else(|_| "2".into());
    let scene = Scene::load(Path::new("scenes/hemisphere_primary.json"), &[format!("mesh.refine={refine}")]).expect("scene");
    let geom = ElectrodeGeometry::from_scene(&scene.geometry);
    let sizes = size_field(&scene);
    let tets = mesh::generate(&geom, &sizes).expect("mesh").tets.len();
    eprintln!("meshing benchmark: {tets} tetrahedra (refine {refine})");
    let mut group = c.benchmark_group("meshing");
    group.sample_size(10);
    group.throughput(Throughput::Elements(tets as u64));
    group.bench_function(format!("hemisphere_{tets}_tets"), |b| {
        b.iter(|| black_box(mesh::generate(&geom, &sizes).expect("mesh")))
    });
    group.finish();
}

criterion_group!(benches, meshing);
criterion_main!(benches);
