//! GPU backend (stub while the kernels land).
use crate::fem::CsrMatrix;
use crate::solve::linear::{LinearError, LinearInfo, LinearParams, LinearSolver};
pub struct GpuContext;
impl GpuContext {
    pub fn new(_hardware_only: bool) -> Result<Self, String> { Err("not yet".into()) }
    pub fn adapter_summary(&self) -> String { String::new() }
}
pub fn describe_adapters() -> String { String::new() }
pub struct GpuPcg;
impl GpuPcg { pub fn new(_c: GpuContext) -> Self { GpuPcg } }
impl LinearSolver for GpuPcg {
    fn solve(&mut self, _a: &CsrMatrix, _b: &[f64], _x: &mut [f64], _p: &LinearParams) -> Result<LinearInfo, LinearError> { Err(LinearError::Device("stub".into())) }
}
