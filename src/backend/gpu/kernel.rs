//! A compute kernel: one WGSL file (with the shared declarations prepended) compiled into a
//! pipeline whose bind-group layout is derived from the shader. The layout is the kernel's
//! signature; each kernel module documents its bindings in order.

use super::layout::{Dims, WORKGROUP};

/// Shared WGSL declarations prepended to every kernel.
pub const COMMON_WGSL: &str = include_str!("../../../shaders/shared/common.wgsl");

/// How a kernel is dispatched.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// One invocation per row, 2D grid of ceil(n / 256) workgroups.
    Rows,
    /// `Dims::reduce_groups` workgroups, grid-stride loops.
    Reduce,
    /// A single workgroup.
    Single,
}

/// A compiled kernel.
pub struct Kernel {
    pub label: &'static str,
    pub pipeline: wgpu::ComputePipeline,
    pub shape: Shape,
    /// Buffers at group 0 (the kernel module's `BINDINGS`).
    pub bindings: usize,
}

impl Kernel {
    /// Compiles `source` (without the shared prelude) into a pipeline.
    pub fn new(device: &wgpu::Device, label: &'static str, source: &str, shape: Shape, bindings: usize) -> Self {
        let full = format!("{COMMON_WGSL}\n{source}");
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(full.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        Kernel { label, pipeline, shape, bindings }
    }

    /// Bind group with `buffers` at bindings 0, 1, 2, ... in order.
    #[track_caller]
    pub fn bind(&self, device: &wgpu::Device, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        assert_eq!(
            buffers.len(),
            self.bindings,
            "kernel {}: {} buffers for {} bindings",
            self.label,
            buffers.len(),
            self.bindings
        );
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.label),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &entries,
        })
    }

    /// Records one dispatch for vectors described by `dims`.
    pub fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, group: &wgpu::BindGroup, dims: &Dims) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, group, &[]);
        match self.shape {
            Shape::Rows => {
                let groups = dims.n.div_ceil(WORKGROUP).max(1);
                let x = groups.min(65_535);
                pass.dispatch_workgroups(x, groups.div_ceil(x), 1);
            }
            Shape::Reduce => pass.dispatch_workgroups(dims.reduce_groups, 1, 1),
            Shape::Single => pass.dispatch_workgroups(1, 1, 1),
        }
    }
}
