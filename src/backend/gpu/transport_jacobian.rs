//! The transport Newton Jacobian assembled on the device: the problem's layout is uploaded once
//! ([`JacobianAssembler::prepare`]); each Newton iteration uploads the unknowns, runs
//! `shaders/transport_jacobian.wgsl` (one free node's block rows per invocation, no atomics)
//! and reads the f32 values back for the linear solve.
//!
//! Every value read back is checked: a non-finite entry is reported with its row, never passed
//! on to the solver.

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};

use super::context::GpuContext;
use super::kernels::transport_jacobian;
use super::layout::Dims;
use crate::solve::device_jacobian::{JacobianAssembler, JacobianLayout};
use crate::solve::tertiary::Accumulation;

/// Most species the kernel carries (`MAX_SPECIES` in the shader).
pub const MAX_SPECIES: usize = 8;

/// `JacobianParams` in the shader: sizes, closure, kinetics, and per-species arrays padded to
/// [`MAX_SPECIES`] (two vec4 each).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, Default)]
pub struct JacobianParams {
    pub n_free: u32,
    pub m: u32,
    pub n_species: u32,
    pub independent: u32,
    pub poisson: u32,
    pub reacting: u32,
    pub linear_law: u32,
    pub has_accumulation: u32,
    pub lambda: f32,
    pub anodic: f32,
    pub cathodic: f32,
    pub reaction_order: f32,
    pub gamma: f32,
    pub e: f32,
    pub a0: f32,
    pub stern: f32,
    pub write_jacobian: u32,
    /// 1: a resistive scaffold's phi_s is unknown `independent` of each node.
    pub solid: u32,
    pub _pad1: u32,
    pub _pad2: u32,
    pub charges: [f32; MAX_SPECIES],
    pub diffusivities: [f32; MAX_SPECIES],
    pub bulk: [f32; MAX_SPECIES],
}

impl JacobianParams {
    fn of(layout: &JacobianLayout) -> Self {
        let pad = |v: &[f64]| {
            let mut out = [0.0f32; MAX_SPECIES];
            out.iter_mut().zip(v).for_each(|(o, &x)| *o = x as f32);
            out
        };
        JacobianParams {
            n_free: layout.nodes.len() as u32,
            m: layout.m as u32,
            n_species: layout.charges.len() as u32,
            independent: layout.independent as u32,
            poisson: layout.poisson_lambda.is_some() as u32,
            reacting: layout.reacting as u32,
            linear_law: layout.linear_law as u32,
            lambda: layout.poisson_lambda.unwrap_or(0.0) as f32,
            stern: layout.stern_lambda.unwrap_or(0.0) as f32,
            anodic: layout.anodic as f32,
            cathodic: layout.cathodic as f32,
            reaction_order: layout.reaction_order as f32,
            gamma: layout.gamma as f32,
            solid: layout.solid as u32,
            charges: pad(&layout.charges),
            diffusivities: pad(&layout.diffusivities),
            bulk: pad(&layout.bulk),
            ..Default::default()
        }
    }
}

/// The device assembler of the GPU backend.
pub struct GpuJacobian {
    ctx: Arc<GpuContext>,
    resident: Option<Resident>,
}

/// One prepared problem's buffers.
struct Resident {
    params: JacobianParams,
    params_buf: wgpu::Buffer,
    x: wgpu::Buffer,
    jac: wgpu::Buffer,
    history: wgpu::Buffer,
    residual: wgpu::Buffer,
    group: wgpu::BindGroup,
    dims: Dims,
    nnz: usize,
}

impl GpuJacobian {
    /// An assembler on an open context (nothing uploaded yet).
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        GpuJacobian { ctx, resident: None }
    }
}

impl JacobianAssembler for GpuJacobian {
    fn prepare(&mut self, layout: &JacobianLayout) -> Result<(), String> {
        if layout.charges.len() > MAX_SPECIES {
            return Err(format!(
                "{} species; the device kernel carries at most {MAX_SPECIES} (use --backend cpu)",
                layout.charges.len()
            ));
        }
        let ctx = &self.ctx;
        ctx.fits("transport Jacobian values", 4 * layout.nnz as u64)?;
        ctx.fits("transport neighbour lists", 8 * layout.neighbours.len() as u64)?;
        let params = JacobianParams::of(layout);
        let flat_nodes: Vec<u32> = layout.nodes.iter().flatten().copied().collect();
        let flat_neighbours: Vec<u32> = layout.neighbours.iter().flatten().copied().collect();
        let node_data: Vec<f64> = (0..layout.area.len())
            .flat_map(|a| {
                let free = if layout.solid_free[a] { 1.0 } else { 0.0 };
                [layout.area[a], layout.volume[a], layout.fixed[a], layout.solid_area[a], free]
            })
            .collect();
        let pairs: Vec<f64> = layout.weights.iter().zip(&layout.solid_weights).flat_map(|(&w, &s)| [w, s]).collect();
        let params_buf = ctx.uniform("jacobian params", &params);
        let nodes = ctx.storage_u32("jacobian nodes", &flat_nodes);
        let neighbours = ctx.storage_u32("jacobian neighbours", &flat_neighbours);
        let weights = ctx.storage_f32("jacobian edge weights", &pairs);
        let node_data = ctx.storage_f32("jacobian node data", &node_data);
        let x = ctx.storage_zeroed("jacobian unknowns", layout.nodes.len() * layout.m);
        let jac = ctx.storage_zeroed("jacobian values", layout.nnz);
        let history = ctx.storage_zeroed("time-step history", layout.nodes.len() * layout.independent);
        let residual = ctx.storage_zeroed("residual", layout.nodes.len() * layout.m);
        let group = transport_jacobian::bind(
            &ctx.kernels.transport_jacobian,
            &ctx.device,
            &params_buf,
            &nodes,
            &neighbours,
            &weights,
            &node_data,
            &x,
            &jac,
            &history,
            &residual,
        );
        let dims = Dims::for_len(layout.nodes.len());
        self.resident = Some(Resident { params, params_buf, x, jac, history, residual, group, dims, nnz: layout.nnz });
        Ok(())
    }

    fn assemble(
        &mut self,
        x: &[f64],
        e: f64,
        acc: Option<&Accumulation>,
        values: Option<&mut [f64]>,
        residual: Option<&mut [f64]>,
    ) -> Result<(), String> {
        let ctx = &self.ctx;
        let r = self.resident.as_mut().ok_or("the device Jacobian was not prepared for this problem")?;
        let unknowns = (r.params.n_free * r.params.m) as usize;
        if values.as_ref().is_some_and(|v| v.len() != r.nnz)
            || residual.as_ref().is_some_and(|v| v.len() != unknowns)
            || x.len() != unknowns
        {
            return Err(format!("size mismatch: {} unknowns for a layout of {unknowns} and {} entries", x.len(), r.nnz));
        }
        r.params.e = e as f32;
        r.params.has_accumulation = acc.is_some() as u32;
        r.params.a0 = acc.map_or(0.0, |a| a.a0 as f32);
        r.params.write_jacobian = values.is_some() as u32;
        ctx.queue.write_buffer(&r.params_buf, 0, bytemuck::bytes_of(&r.params));
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        ctx.queue.write_buffer(&r.x, 0, bytemuck::cast_slice(&x32));
        if let Some(acc) = acc {
            let expected = (r.params.n_free * r.params.independent) as usize;
            if acc.history.len() != expected {
                return Err(format!("size mismatch: {} history values for {expected}", acc.history.len()));
            }
            let h32: Vec<f32> = acc.history.iter().map(|&v| v as f32).collect();
            ctx.queue.write_buffer(&r.history, 0, bytemuck::cast_slice(&h32));
        }
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            ctx.kernels.transport_jacobian.dispatch(&mut pass, &r.group, &r.dims);
        }
        ctx.queue.submit([enc.finish()]);
        let m = r.params.m as usize;
        if let Some(values) = values {
            let out = ctx.read_f32(&r.jac, r.nnz)?;
            if let Some(at) = out.iter().position(|v| !v.is_finite()) {
                return Err(format!("non-finite Jacobian entry {at} (value {}) in the rows of a free node (m = {m})", out[at]));
            }
            values.copy_from_slice(&out);
        }
        if let Some(residual) = residual {
            let out = ctx.read_f32(&r.residual, unknowns)?;
            if let Some(at) = out.iter().position(|v| !v.is_finite()) {
                return Err(format!("non-finite residual in row {} of free node {} (value {})", at % m, at / m, out[at]));
            }
            residual.copy_from_slice(&out);
        }
        Ok(())
    }
}
