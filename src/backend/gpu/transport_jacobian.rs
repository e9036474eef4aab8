//! The transport Newton Jacobian assembled on the device: the problem's layout is uploaded once
//! ([`JacobianAssembler::prepare`]); each Newton iteration uploads the unknowns, runs
//! `shaders/transport_jacobian.wgsl` (one free node's block rows per invocation, no atomics)
//! and keeps the f32 values on the device for a solver that takes them there
//! ([`JacobianValues`]; the GPU BiCGStab), or reads them back.
//!
//! Past the adapter's storage binding limit the free nodes are split into row blocks
//! ([`node_blocks`]), each with its own slices of the neighbour lists, edge weights and Jacobian
//! values and one dispatch; the per-node vectors (unknowns, residual, node data) stay whole.
//!
//! Every value read back is checked: a non-finite entry is reported with its row, never passed
//! on to the solver. Values kept on the device are not read: a non-finite entry there makes the
//! device solve break down, and the hand-over to the host's solver reads them back and reports it.

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};

use super::context::GpuContext;
use super::kernels::transport_jacobian;
use super::layout::Dims;
use crate::solve::device_jacobian::{JacobianAssembler, JacobianLayout, JacobianOut};
use crate::solve::linear::DeviceMatrixValues;
use crate::solve::transport::Accumulation;

/// Most species the kernel carries (`MAX_SPECIES` in the shader).
pub const MAX_SPECIES: usize = 8;

/// Most electrode reactions the kernel carries (`MAX_REACTIONS` in the shader).
pub const MAX_REACTIONS: usize = 4;

/// `ReactionParams` in the shader (keep in sync): one electrode reaction's species and
/// Butler–Volmer kinetics, padded to 32 bytes (the uniform array stride).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, Default)]
pub struct ReactionParams {
    pub species: u32,
    pub linear_law: u32,
    pub anodic: f32,
    pub cathodic: f32,
    pub cathodic_order: f32,
    pub gamma: f32,
    pub _pad0: u32,
    pub _pad1: u32,
}

/// `JacobianParams` in the shader (keep in sync): sizes, closure, the per-call values, per-species
/// arrays padded to [`MAX_SPECIES`] (two vec4 each) and the reactions padded to [`MAX_REACTIONS`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, Default)]
pub struct JacobianParams {
    pub n_free: u32,
    pub m: u32,
    pub n_species: u32,
    pub independent: u32,
    pub poisson: u32,
    pub n_reactions: u32,
    pub has_accumulation: u32,
    pub write_jacobian: u32,
    pub lambda: f32,
    pub e: f32,
    pub a0: f32,
    pub stern: f32,
    /// 1: a resistive scaffold's phi_s is unknown `independent` of each node.
    pub solid: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
    pub charges: [f32; MAX_SPECIES],
    pub diffusivities: [f32; MAX_SPECIES],
    pub bulk: [f32; MAX_SPECIES],
    pub reactions: [ReactionParams; MAX_REACTIONS],
}

// The shader's uniform layout: 16 scalars, three vec4 pairs, four 32-byte reactions.
const _: () = assert!(std::mem::size_of::<ReactionParams>() == 32);
const _: () = assert!(std::mem::size_of::<JacobianParams>() == 64 + 96 + 32 * MAX_REACTIONS);

impl JacobianParams {
    fn of(layout: &JacobianLayout) -> Self {
        let pad = |v: &[f64]| {
            let mut out = [0.0f32; MAX_SPECIES];
            out.iter_mut().zip(v).for_each(|(o, &x)| *o = x as f32);
            out
        };
        let mut reactions = [ReactionParams::default(); MAX_REACTIONS];
        for (slot, r) in reactions.iter_mut().zip(&layout.reactions) {
            *slot = ReactionParams {
                species: r.species.unwrap_or(0) as u32,
                linear_law: r.law.linear as u32,
                anodic: r.law.anodic as f32,
                cathodic: r.law.cathodic as f32,
                cathodic_order: r.cathodic_order as f32,
                gamma: r.gamma as f32,
                ..Default::default()
            };
        }
        JacobianParams {
            n_free: layout.nodes.len() as u32,
            m: layout.m as u32,
            n_species: layout.charges.len() as u32,
            independent: layout.independent as u32,
            poisson: layout.poisson_lambda.is_some() as u32,
            n_reactions: layout.reactions.len().min(MAX_REACTIONS) as u32,
            lambda: layout.poisson_lambda.unwrap_or(0.0) as f32,
            stern: layout.stern_lambda.unwrap_or(0.0) as f32,
            solid: layout.solid as u32,
            charges: pad(&layout.charges),
            diffusivities: pad(&layout.diffusivities),
            bulk: pad(&layout.bulk),
            reactions,
            ..Default::default()
        }
    }
}

/// `JacobianBlock` in the shader: one dispatch's free nodes and the starts of its slices.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct JacobianBlock {
    pub node_begin: u32,
    pub node_count: u32,
    pub neighbour_offset: u32,
    pub pattern_offset: u32,
}

/// Consecutive free-node ranges whose Jacobian values (4 bytes an entry) and neighbour entries
/// (8 bytes each, in the neighbour list and in the edge weights) each fit `limit` bytes. Node a
/// owns neighbour entries `nodes[a][0]..nodes[a][1]` and node-pattern entries
/// `nodes[a][2]..nodes[a][2] + nodes[a][3]` (m^2 values each); both must run on contiguously.
pub fn node_blocks(nodes: &[[u32; 5]], m: usize, limit: u64) -> Result<Vec<std::ops::Range<usize>>, String> {
    for (a, w) in nodes.windows(2).enumerate() {
        if w[1][0] != w[0][1] || w[1][2] != w[0][2] + w[0][3] {
            return Err(format!("transport layout: free node {} does not continue node {a}'s entries", a + 1));
        }
    }
    let fits = |range: std::ops::Range<usize>| {
        let (first, last) = (&nodes[range.start], &nodes[range.end - 1]);
        let values = 4 * (m * m) as u64 * u64::from(last[2] + last[3] - first[2]);
        let neighbours = 8 * u64::from(last[1] - first[0]);
        values <= limit && neighbours <= limit
    };
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < nodes.len() {
        let mut end = start;
        while end < nodes.len() && fits(start..end + 1) {
            end += 1;
        }
        if end == start {
            return Err(format!(
                "free node {start}'s Jacobian rows ({} neighbours, m = {m}) are over the storage binding limit of {limit} bytes",
                nodes[start][3]
            ));
        }
        blocks.push(start..end);
        start = end;
    }
    Ok(blocks)
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
    history: wgpu::Buffer,
    residual: wgpu::Buffer,
    blocks: Vec<ResidentBlock>,
    /// The Jacobian values of every row block.
    values: JacobianValues,
    /// Whether a Jacobian was assembled since the layout was prepared.
    assembled: bool,
}

/// One row block's dispatch: its bind group and size.
struct ResidentBlock {
    group: wgpu::BindGroup,
    dims: Dims,
}

/// A Jacobian assembled on the device, where it stays: each row block's f32 value buffer with the
/// range of the host pattern's entries it holds (in order, covering them all).
pub struct JacobianValues {
    ctx: Arc<GpuContext>,
    pub parts: Vec<(std::ops::Range<usize>, wgpu::Buffer)>,
    m: usize,
}

impl JacobianValues {
    /// A host matrix's values put on the device as the assembler leaves a Jacobian there, in one
    /// buffer (tests of the device-kept path with matrices of their own).
    pub fn upload(ctx: Arc<GpuContext>, a: &crate::fem::CsrMatrix, m: usize) -> Self {
        let buffer = ctx.storage_f32("kept values", &a.values);
        JacobianValues { parts: vec![(0..a.nnz(), buffer)], m, ctx }
    }

    /// Stored entries (the host pattern's).
    pub fn nnz(&self) -> usize {
        self.parts.last().map_or(0, |(range, _)| range.end)
    }
}

impl DeviceMatrixValues for JacobianValues {
    fn read_back(&self, values: &mut [f64]) -> Result<(), String> {
        if values.len() != self.nnz() {
            return Err(format!("size mismatch: {} values for a Jacobian of {} entries", values.len(), self.nnz()));
        }
        for (range, buffer) in &self.parts {
            let out = self.ctx.read_f32(buffer, range.len())?;
            if let Some(at) = out.iter().position(|v| !v.is_finite()) {
                return Err(format!(
                    "non-finite Jacobian entry {} (value {}) in the rows of a free node (m = {})",
                    range.start + at,
                    out[at],
                    self.m
                ));
            }
            values[range.clone()].copy_from_slice(&out);
        }
        self.ctx.count_jacobian_read_back();
        Ok(())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl GpuJacobian {
    /// An assembler on an open context (nothing uploaded yet).
    pub fn new(ctx: Arc<GpuContext>) -> Self {
        GpuJacobian { ctx, resident: None }
    }
}

impl JacobianAssembler for GpuJacobian {
    fn prepare(&mut self, layout: &JacobianLayout) -> Result<(), String> {
        if layout.reactions.len() > MAX_REACTIONS {
            return Err(format!(
                "{} electrode reactions; the device kernel carries at most {MAX_REACTIONS} (use --backend cpu)",
                layout.reactions.len()
            ));
        }
        if layout.charges.len() > MAX_SPECIES {
            return Err(format!(
                "{} species; the device kernel carries at most {MAX_SPECIES} (use --backend cpu)",
                layout.charges.len()
            ));
        }
        let ctx = &self.ctx;
        let m = layout.m;
        // The smallest block is one node: its rows must fit (the message says what to do).
        let widest = layout.nodes.iter().map(|n| (4 * (m * m) as u64 * u64::from(n[3])).max(8 * u64::from(n[1] - n[0]))).max();
        ctx.fits("the Jacobian rows of one free node", widest.unwrap_or(0))?;
        let blocks = node_blocks(&layout.nodes, m, ctx.binding_limit())?;
        let params = JacobianParams::of(layout);
        let flat_nodes: Vec<u32> = layout.nodes.iter().flatten().copied().collect();
        let node_data: Vec<f64> = (0..layout.area.len())
            .flat_map(|a| {
                let free = if layout.solid_free[a] { 1.0 } else { 0.0 };
                [layout.area[a], layout.volume[a], layout.fixed[a], layout.solid_area[a], free]
            })
            .collect();
        for (what, len) in [("transport node lists", 20 * layout.nodes.len()), ("transport node data", 20 * layout.nodes.len())] {
            ctx.fits(what, len as u64)?;
        }
        let params_buf = ctx.uniform("jacobian params", &params);
        let nodes = ctx.storage_u32("jacobian nodes", &flat_nodes);
        let node_data = ctx.storage_f32("jacobian node data", &node_data);
        let x = ctx.storage_zeroed("jacobian unknowns", layout.nodes.len() * m);
        let history = ctx.storage_zeroed("time-step history", layout.nodes.len() * layout.independent);
        let residual = ctx.storage_zeroed("residual", layout.nodes.len() * m);
        let mut parts = Vec::new();
        let blocks = blocks
            .into_iter()
            .map(|range| {
                let (first, last) = (layout.nodes[range.start], layout.nodes[range.end - 1]);
                let entries = first[0] as usize..last[1] as usize;
                let pattern = first[2] as usize..(last[2] + last[3]) as usize;
                let values = pattern.start * m * m..pattern.end * m * m;
                let neighbours: Vec<u32> = layout.neighbours[entries.clone()].iter().flatten().copied().collect();
                let pairs: Vec<f64> = layout.weights[entries.clone()]
                    .iter()
                    .zip(&layout.solid_weights[entries.clone()])
                    .flat_map(|(&w, &s)| [w, s])
                    .collect();
                // Bindings may not be empty: a block without neighbours gets one unused entry.
                let neighbours =
                    ctx.storage_u32("jacobian neighbours", if neighbours.is_empty() { &[0, 0] } else { &neighbours });
                let weights = ctx.storage_f32("jacobian edge weights", if pairs.is_empty() { &[0.0, 0.0] } else { &pairs });
                let jac = ctx.storage_zeroed("jacobian values", values.len().max(1));
                let block = ctx.uniform(
                    "jacobian block",
                    &JacobianBlock {
                        node_begin: range.start as u32,
                        node_count: range.len() as u32,
                        neighbour_offset: first[0],
                        pattern_offset: first[2],
                    },
                );
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
                    &block,
                );
                parts.push((values, jac));
                ResidentBlock { group, dims: Dims::for_len(range.len()) }
            })
            .collect();
        let values = JacobianValues { ctx: ctx.clone(), parts, m };
        if values.nnz() != layout.nnz {
            return Err(format!("transport layout: {} Jacobian entries in the row blocks for {}", values.nnz(), layout.nnz));
        }
        self.resident = Some(Resident { params, params_buf, x, history, residual, blocks, values, assembled: false });
        Ok(())
    }

    fn assemble(
        &mut self,
        x: &[f64],
        e: f64,
        acc: Option<&Accumulation>,
        jacobian: JacobianOut<'_>,
        residual: Option<&mut [f64]>,
    ) -> Result<(), String> {
        let ctx = &self.ctx;
        let r = self.resident.as_mut().ok_or("the device Jacobian was not prepared for this problem")?;
        let unknowns = (r.params.n_free * r.params.m) as usize;
        let nnz = r.values.nnz();
        if matches!(&jacobian, JacobianOut::Host(v) if v.len() != nnz)
            || residual.as_ref().is_some_and(|v| v.len() != unknowns)
            || x.len() != unknowns
        {
            return Err(format!("size mismatch: {} unknowns for a layout of {unknowns} and {nnz} entries", x.len()));
        }
        r.params.e = e as f32;
        r.params.has_accumulation = acc.is_some() as u32;
        r.params.a0 = acc.map_or(0.0, |a| a.a0 as f32);
        r.params.write_jacobian = !matches!(jacobian, JacobianOut::Skip) as u32;
        ctx.write(&r.params_buf, 0, bytemuck::bytes_of(&r.params));
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        ctx.write(&r.x, 0, bytemuck::cast_slice(&x32));
        if let Some(acc) = acc {
            let expected = (r.params.n_free * r.params.independent) as usize;
            if acc.history.len() != expected {
                return Err(format!("size mismatch: {} history values for {expected}", acc.history.len()));
            }
            let h32: Vec<f32> = acc.history.iter().map(|&v| v as f32).collect();
            ctx.write(&r.history, 0, bytemuck::cast_slice(&h32));
        }
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            for b in &r.blocks {
                ctx.kernels.transport_jacobian.dispatch(&mut pass, &b.group, &b.dims);
            }
        }
        ctx.queue.submit([enc.finish()]);
        let m = r.params.m as usize;
        r.assembled |= !matches!(jacobian, JacobianOut::Skip);
        if let JacobianOut::Host(values) = jacobian {
            r.values.read_back(values)?;
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

    fn device_values(&self) -> Option<&dyn DeviceMatrixValues> {
        self.resident.as_ref().filter(|r| r.assembled).map(|r| &r.values as &dyn DeviceMatrixValues)
    }
}

#[cfg(test)]
mod tests {
    use super::node_blocks;

    /// Nodes with `deg` pattern entries and `deg` neighbour entries each, laid out contiguously.
    fn layout(degrees: &[u32]) -> Vec<[u32; 5]> {
        let mut at = 0;
        degrees
            .iter()
            .map(|&d| {
                let node = [at, at + d, at, d, 0];
                at += d;
                node
            })
            .collect()
    }

    #[test]
    fn blocks_cover_the_nodes_once_within_the_limit() {
        let nodes = layout(&[3, 5, 2, 7, 4, 4, 1, 6]);
        let m = 2;
        // 16 bytes of values per pattern entry (m = 2) and 8 per neighbour: 10 entries = 160 bytes.
        let blocks = node_blocks(&nodes, m, 160).expect("blocks");
        assert_eq!(blocks.first().map(|b| b.start), Some(0));
        assert_eq!(blocks.last().map(|b| b.end), Some(nodes.len()));
        assert!(blocks.windows(2).all(|w| w[0].end == w[1].start), "{blocks:?}");
        for b in &blocks {
            let entries: u32 = nodes[b.clone()].iter().map(|n| n[3]).sum();
            assert!(entries <= 10, "{b:?} holds {entries} entries");
        }
        // Greedy: each block but the last would overflow with the next node.
        for w in blocks.windows(2) {
            let entries: u32 = nodes[w[0].start..=w[1].start].iter().map(|n| n[3]).sum();
            assert!(entries > 10, "{:?} could take the next node", w[0]);
        }
        assert_eq!(node_blocks(&nodes, m, 1 << 20).expect("one block"), vec![0..nodes.len()]);
    }

    #[test]
    fn a_node_over_the_limit_and_a_broken_layout_are_errors() {
        let nodes = layout(&[3, 12, 2]);
        let err = node_blocks(&nodes, 2, 160).expect_err("node 1 alone is 192 bytes");
        assert!(err.contains("free node 1") && err.contains("160 bytes"), "{err}");
        let mut broken = layout(&[3, 4]);
        broken[1][2] += 1;
        assert!(node_blocks(&broken, 2, 1 << 20).expect_err("gap").contains("free node 1"));
    }
}
