//! Compute backends: the f64 CPU reference and the wgpu GPU backend, and the choice between them.

pub mod cpu;
pub mod gpu;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::solve::device_jacobian::{JacobianAssembler, TransportBackend};
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

/// The kind of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The f64 CPU reference backend.
    Cpu,
    /// The wgpu backend (hardware or software adapter).
    Gpu,
}

impl BackendKind {
    /// "cpu" or "gpu", as in summary.json.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Gpu => "gpu",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which backend ran, for summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct BackendInfo {
    /// "cpu" or "gpu".
    pub kind: BackendKind,
    /// Adapter name, or the CPU description.
    pub adapter: String,
    /// Arithmetic used by the kernels.
    pub precision: String,
    /// How the backend ran the model (absent when there is nothing to add).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `--backend auto` only: why the GPU backend was not used (no hardware adapter) or was
    /// abandoned (a device fault during the run, which then ran again on the CPU backend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// With `ZNFIELD_AUTO_SOFTWARE_GPU=1`, `--backend auto` also takes a software adapter (lavapipe,
/// llvmpipe) when no hardware one is found.
pub const AUTO_SOFTWARE_ENV: &str = "ZNFIELD_AUTO_SOFTWARE_GPU";

/// An open backend and its capabilities: its linear solvers (SPD and general), the assembler of
/// transport Jacobians where it has a device, and its description.
pub struct Backend {
    pub kind: BackendKind,
    /// Solver of the potential models' SPD systems.
    pub solver: Box<dyn LinearSolver>,
    /// Solver of the transport models' Newton systems.
    pub general: Box<dyn GeneralLinearSolver>,
    /// The device that assembles transport Jacobians and residuals (None: the host does).
    pub assembler: Option<Box<dyn JacobianAssembler>>,
    pub info: BackendInfo,
}

impl Backend {
    /// Forget the preconditioners the solvers keep from earlier systems, so that the next solves
    /// depend only on their own matrices (each growth step; a resumed run then repeats them).
    pub fn forget_preconditioners(&mut self) {
        self.solver.forget_preconditioners();
        self.general.new_nonlinear_solve();
    }

    /// What a transport solve runs on: the general solver and the assembler.
    pub fn transport(&mut self) -> TransportBackend<'_> {
        TransportBackend {
            solver: self.general.as_mut(),
            assembler: self.assembler.as_mut().map(|a| a.as_mut() as &mut dyn JacobianAssembler),
        }
    }
}

/// Opens the backend the user chose.
pub fn open(choice: BackendChoice) -> Result<Backend> {
    match choice {
        BackendChoice::Cpu => Ok(cpu_backend(None)),
        BackendChoice::Gpu => {
            let ctx = gpu::GpuContext::new(false).map_err(Error::Device)?;
            Ok(gpu_backend(ctx))
        }
        BackendChoice::Auto => {
            let hardware_only = std::env::var(AUTO_SOFTWARE_ENV).map_or(true, |v| v != "1");
            match gpu::GpuContext::new(hardware_only) {
                Ok(ctx) => Ok(gpu_backend(ctx)),
                Err(reason) => Ok(cpu_backend(Some(format!("GPU backend not used: {reason}")))),
            }
        }
    }
}

/// The CPU backend after a GPU fault under `--backend auto`, with the reason recorded.
pub fn cpu_fallback(reason: &str) -> Backend {
    cpu_backend(Some(format!("the GPU backend failed during the run and the run was repeated on the CPU backend: {reason}")))
}

fn cpu_backend(fallback: Option<String>) -> Backend {
    Backend {
        kind: BackendKind::Cpu,
        solver: Box::new(cpu::CpuPcg::default()),
        general: Box::new(cpu::CpuGmres::default()),
        assembler: None,
        info: BackendInfo {
            kind: BackendKind::Cpu,
            adapter: format!("CPU, {} threads (rayon)", rayon::current_num_threads()),
            precision: "f64".into(),
            note: None,
            fallback,
        },
    }
}

fn gpu_backend(ctx: gpu::GpuContext) -> Backend {
    let adapter = ctx.adapter_summary();
    let ctx = std::sync::Arc::new(ctx);
    Backend {
        kind: BackendKind::Gpu,
        solver: Box::new(gpu::GpuPcg::new(ctx.clone())),
        general: Box::new(gpu::GpuBicgstab::new(ctx.clone())),
        assembler: Some(Box::new(gpu::GpuJacobian::new(ctx))),
        info: BackendInfo {
            kind: BackendKind::Gpu,
            adapter,
            precision: "f32 kernels with f64 defect correction".into(),
            note: None,
            fallback: None,
        },
    }
}
