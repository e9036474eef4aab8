//! `znfield bench`: how the primary solve of the hemisphere tip scene scales with the mesh, and
//! how close its sparse matrix-vector product comes to the machine's memory bandwidth.
//!
//! For each refinement factor it meshes `scenes/hemisphere_primary.json` (built in; `--scene`
//! takes another, an imported Gmsh mesh included, whose solve is then the primary one), assembles
//! the reduced primary system (free nodes; electrode at 1, bulk at 0) and solves it to a 1e-8
//! relative residual from zero, reporting:
//! - unknowns and non-zeros; meshing and assembly times;
//! - preconditioner setup time (multigrid hierarchy), iterations, solve time and time per
//!   iteration;
//! - SpMV effective bandwidth: bytes a CSR product must move at least, over the measured time of
//!   one product (f64 on the CPU: 12 bytes per non-zero for value and column index, 20 per row for
//!   the row pointer, the x entry and the y entry; f32 on the GPU: 8 per non-zero, 12 per row);
//! - the copy bandwidth measured in the same run (CPU: a 256 MiB memcpy; GPU: a device-to-device
//!   buffer copy of 256 MiB), counted as bytes read plus bytes written, and the SpMV/copy ratio.
//!
//! Times are wall-clock medians of repeated runs; they belong in docs/performance.md with the
//! machine and the date, never in a test.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::backend::cpu::CpuPcg;
use crate::backend::gpu::timing::KernelTime;
use crate::backend::gpu::{GpuContext, GpuPcg};
use crate::error::{Error, Result};
use crate::fem::CsrMatrix;
use crate::run::build_domain;
use crate::scene::Scene;
use crate::solve::amg::{AmgParams, Hierarchy};
use crate::solve::linear::{LinearParams, LinearSolver, Preconditioner};
use crate::solve::system::PotentialSystem;

/// The benchmark scene (the same file as scenes/hemisphere_primary.json).
const SCENE: &str = include_str!("../scenes/hemisphere_primary.json");

/// Which solver a bench row measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BenchBackend {
    /// f64 CG on the CPU with the chosen preconditioner.
    Cpu,
    /// The GPU backend's CG (f32 kernels, f64 defect correction) with the chosen preconditioner.
    Gpu,
}

/// One mesh size.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub refine: f64,
    pub unknowns: usize,
    pub nonzeros: usize,
    pub mesh_s: f64,
    pub assembly_s: f64,
    pub setup_s: f64,
    pub iterations: u32,
    pub solve_s: f64,
    pub time_per_iteration_s: f64,
    pub spmv_s: f64,
    pub spmv_bandwidth_gb_s: f64,
    pub copy_bandwidth_gb_s: f64,
    pub spmv_over_copy: f64,
    /// Meshing + assembly + setup + solve.
    pub end_to_end_s: f64,
    /// GPU backend: the GPU time per dispatch of each kernel from timestamp queries (absent
    /// where the adapter has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_times: Option<Vec<KernelTime>>,
}

/// A whole bench run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub backend: BenchBackend,
    pub preconditioner: Preconditioner,
    pub device: String,
    pub rows: Vec<BenchRow>,
}

/// Median of `runs` timings of `f`, s.
fn median_time(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Bytes a CSR SpMV must move at least, with `value` bytes per matrix and vector entry.
fn spmv_bytes(a: &CsrMatrix, value: usize) -> f64 {
    (a.nnz() * (value + 4) + a.n * (4 + 2 * value)) as f64
}

/// The host's copy bandwidth (read + write), GB/s.
fn host_copy_bandwidth() -> f64 {
    let len = 32 << 20; // 32 Mi f64 = 256 MiB
    let src = vec![1.0f64; len];
    let mut dst = vec![0.0f64; len];
    let t = median_time(5, || dst.copy_from_slice(std::hint::black_box(&src)));
    std::hint::black_box(&dst);
    2.0 * (len * 8) as f64 / t / 1e9
}

/// The reduced primary system of the scene (the hemisphere when None) at `refine`, with the
/// meshing (or mesh import) and assembly times.
fn system(scene: Option<&Path>, refine: f64) -> Result<(CsrMatrix, Vec<f64>, f64, f64)> {
    let sets = [format!("mesh.refine={refine}")];
    let scene = match scene {
        Some(path) => Scene::load(path, &sets)?,
        None => Scene::parse(SCENE, "<bench scene>", &sets)?,
    };
    let t = Instant::now();
    let domain = build_domain(&scene)?;
    let mesh_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (a, b, _) = PotentialSystem::new(&domain.mesh, domain.length_scale).reduced_primary();
    let assembly_s = t.elapsed().as_secs_f64();
    Ok((a, b, mesh_s, assembly_s))
}

/// Runs the bench over `refines` on `backend`; `progress` is told each size as it starts.
pub fn run_bench(
    scene: Option<&Path>,
    refines: &[f64],
    backend: BenchBackend,
    preconditioner: Preconditioner,
    progress: &mut dyn FnMut(f64),
) -> Result<BenchReport> {
    let params = LinearParams { rtol: 1e-8, max_iterations: 100_000, preconditioner, ..Default::default() };
    let gpu = match backend {
        BenchBackend::Gpu => Some(std::sync::Arc::new(GpuContext::new(false).map_err(Error::Device)?)),
        BenchBackend::Cpu => None,
    };
    let (device, copy_bandwidth) = match &gpu {
        Some(ctx) => (ctx.adapter_summary(), ctx.copy_bandwidth(256 << 20).map_err(Error::Device)? / 1e9),
        None => (format!("CPU, {} threads (rayon)", rayon::current_num_threads()), host_copy_bandwidth()),
    };
    let mut rows = Vec::new();
    for &refine in refines {
        progress(refine);
        let (a, b, mesh_s, assembly_s) = system(scene, refine)?;
        let mut kernel_times = None;
        let (setup_s, iterations, solve_s, spmv_s, bytes) = match &gpu {
            None => {
                // The first solve builds the multigrid hierarchy; the second, of the same
                // system from zero, reuses it: their difference is the setup.
                let mut solver = CpuPcg::default();
                let mut x = vec![0.0; a.n];
                let t = Instant::now();
                solver.solve(&a, &b, &mut x, &params)?;
                let first_s = t.elapsed().as_secs_f64();
                x.fill(0.0);
                let t = Instant::now();
                let info = solver.solve(&a, &b, &mut x, &params)?;
                let solve_s = t.elapsed().as_secs_f64();
                let mut y = vec![0.0; a.n];
                let spmv_s = median_time(9, || a.spmv(std::hint::black_box(&x), &mut y));
                ((first_s - solve_s).max(0.0), info.iterations, solve_s, spmv_s, spmv_bytes(&a, 8))
            }
            Some(ctx) => {
                // The device solve includes the hierarchy's host setup and upload.
                let mut x = vec![0.0; a.n];
                let t = Instant::now();
                let info = GpuPcg::new(ctx.clone()).solve(&a, &b, &mut x, &params)?;
                let solve_s = t.elapsed().as_secs_f64();
                let spmv_s = ctx.time_spmv(&a, 50).map_err(Error::Device)?;
                let hierarchy = match preconditioner {
                    Preconditioner::Amg => Hierarchy::build(&a, &AmgParams::default()).ok(),
                    Preconditioner::Jacobi => None,
                };
                kernel_times = ctx.kernel_times(&a, hierarchy.as_ref()).map_err(Error::Device)?;
                (0.0, info.iterations, solve_s, spmv_s, spmv_bytes(&a, 4))
            }
        };
        let spmv_bandwidth = bytes / spmv_s / 1e9;
        rows.push(BenchRow {
            refine,
            unknowns: a.n,
            nonzeros: a.nnz(),
            mesh_s,
            assembly_s,
            setup_s,
            iterations,
            solve_s,
            time_per_iteration_s: solve_s / iterations.max(1) as f64,
            spmv_s,
            spmv_bandwidth_gb_s: spmv_bandwidth,
            copy_bandwidth_gb_s: copy_bandwidth,
            spmv_over_copy: spmv_bandwidth / copy_bandwidth,
            end_to_end_s: mesh_s + assembly_s + setup_s + solve_s,
            kernel_times,
        });
    }
    Ok(BenchReport { backend, preconditioner, device, rows })
}

impl BenchReport {
    /// The report as a Markdown table (for docs/performance.md).
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "Backend {:?}, preconditioner {:?}, device: {}\n\n\
             | refine | unknowns | non-zeros | mesh s | assembly s | setup s | iterations | solve s | s/iteration | SpMV ms | SpMV GB/s | copy GB/s | SpMV/copy | end-to-end s |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            self.backend, self.preconditioner, self.device
        );
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {} | {:.3} | {:.2e} | {:.3} | {:.1} | {:.1} | {:.2} | {:.3} |\n",
                r.refine,
                r.unknowns,
                r.nonzeros,
                r.mesh_s,
                r.assembly_s,
                r.setup_s,
                r.iterations,
                r.solve_s,
                r.time_per_iteration_s,
                r.spmv_s * 1e3,
                r.spmv_bandwidth_gb_s,
                r.copy_bandwidth_gb_s,
                r.spmv_over_copy,
                r.end_to_end_s
            ));
        }
        let timed: Vec<&BenchRow> = self.rows.iter().filter(|r| r.kernel_times.is_some()).collect();
        if let Some(first) = timed.first().and_then(|r| r.kernel_times.as_ref()) {
            out.push_str("\nGPU time per dispatch from timestamp queries, us:\n\n| refine | unknowns |");
            first.iter().for_each(|k| out.push_str(&format!(" {} |", k.kernel)));
            out.push_str(&format!("\n|---|---|{}\n", "---|".repeat(first.len())));
            for r in timed {
                out.push_str(&format!("| {} | {} |", r.refine, r.unknowns));
                r.kernel_times.iter().flatten().for_each(|k| out.push_str(&format!(" {:.1} |", k.seconds * 1e6)));
                out.push('\n');
            }
        } else if self.backend == BenchBackend::Gpu {
            out.push_str("\n(no per-kernel GPU times: the adapter has no timestamp queries)\n");
        }
        out
    }
}
