//! Compute backends: the f64 CPU reference and the wgpu GPU backend, and the choice between them.

pub mod cpu;
pub mod gpu;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::solve::linear::{GeneralLinearSolver, LinearSolver};

/// What the user asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// A hardware GPU when there is one, else the CPU backend.
    Auto,
    /// The f64 CPU backend.
    Cpu,
    /// The GPU backend on any adapter (hardware or software).
    Gpu,
}

/// Which backend ran, for summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct BackendInfo {
    /// "cpu" or "gpu".
    pub kind: String,
    /// Adapter name, or the CPU description.
    pub adapter: String,
    /// Arithmetic used by the kernels.
    pub precision: String,
    /// Why `auto` chose what it chose (absent for explicit choices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Ready linear solvers (SPD and general) and their description.
pub struct Backend {
    pub solver: Box<dyn LinearSolver>,
    pub general: Box<dyn GeneralLinearSolver>,
    pub info: BackendInfo,
}

/// Opens the backend the user chose.
pub fn open(choice: BackendChoice) -> Result<Backend> {
    match choice {
        BackendChoice::Cpu => Ok(cpu_backend(None)),
        BackendChoice::Gpu => {
            let ctx = gpu::GpuContext::new(false).map_err(Error::Device)?;
            Ok(gpu_backend(ctx))
        }
        BackendChoice::Auto => match gpu::GpuContext::new(true) {
            Ok(ctx) => Ok(gpu_backend(ctx)),
            Err(reason) => Ok(cpu_backend(Some(format!("auto: no hardware GPU used ({reason}); CPU backend")))),
        },
    }
}

fn cpu_backend(note: Option<String>) -> Backend {
    Backend {
        solver: Box::new(cpu::CpuPcg::default()),
        general: Box::new(cpu::CpuGmres),
        info: BackendInfo {
            kind: "cpu".into(),
            adapter: format!("CPU, {} threads (rayon)", rayon::current_num_threads()),
            precision: "f64".into(),
            note,
        },
    }
}

fn gpu_backend(ctx: gpu::GpuContext) -> Backend {
    let adapter = ctx.adapter_summary();
    let ctx = std::sync::Arc::new(ctx);
    Backend {
        solver: Box::new(gpu::GpuPcg::new(ctx.clone())),
        general: Box::new(gpu::GpuBicgstab::new(ctx)),
        info: BackendInfo { kind: "gpu".into(), adapter, precision: "f32 kernels with f64 defect correction".into(), note: None },
    }
}
