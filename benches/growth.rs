//! Criterion benchmark of a growth run: the shipped growth_hemisphere scene (primary
//! distribution) at about 50k nodes, grown through 20 remeshes (21 meshes and solves: the start
//! and 20 output marks), with each step's meshing, solve and deposition time printed from its
//! growth.csv rows. `cargo bench --bench growth`; ZNFIELD_BENCH_REFINE overrides the refine
//! factor (1.25).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use znfield::backend::BackendChoice;
use znfield::scene::Scene;

fn growth(c: &mut Criterion) {
    let refine = std::env::var("ZNFIELD_BENCH_REFINE").unwrap_or_else(|_| "1.25".into());
    let sets = [
        format!("mesh.refine={refine}"),
        r#"growth={"end_charge_C_m2": 2000, "outputs": 20}"#.to_string(),
        "output.maps=false".to_string(),
    ];
    let scene = Scene::load(Path::new("scenes/growth_hemisphere.json"), &sets).expect("scene");
    let grown = znfield::growth::run(&scene, BackendChoice::Cpu).expect("growth");
    let rows = &grown.rows;
    let mean = |pick: fn(&znfield::growth::GrowthRow) -> f64| rows.iter().map(pick).sum::<f64>() / rows.len() as f64;
    eprintln!(
        "growth benchmark: {} steps, {:.0} nodes per mesh on average; per step: mesh {:.3} s, solve {:.3} s, deposition {:.4} s",
        rows.len(),
        mean(|r| r.nodes as f64),
        mean(|r| r.mesh_s),
        mean(|r| r.solve_s),
        mean(|r| r.deposit_s)
    );
    let mut group = c.benchmark_group("growth");
    group.sample_size(10);
    group.bench_function(format!("hemisphere_{}_steps", rows.len()), |b| {
        b.iter(|| black_box(znfield::growth::run(&scene, BackendChoice::Cpu).expect("growth")))
    });
    group.finish();
}

criterion_group!(benches, growth);
criterion_main!(benches);
