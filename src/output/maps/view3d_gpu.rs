//! The 3D view of the electrode rasterized by the GPU's render pipeline
//! (`shaders/render/view3d.wgsl`), off-screen: the same [`Camera`], light and window as the CPU
//! z-buffer of [`super::view3d`], drawn into an `Rg32Float` target (value, light) with a
//! `Depth32Float` depth test and read back as a [`Raster`]. Runs on the GPU backend; the CPU
//! rasterizer is the fallback where no adapter is open or this one fails (tests/gpu_parity.rs
//! holds the two to the same picture).
//!
//! Precision: vertices go up in f32 camera coordinates relative to the eye, scaled by the
//! eye's distance to the view's centre, so micrometre-sized surfaces keep their digits.

use bytemuck::{Pod, Zeroable};
use glam::DVec3;

use super::view3d::{Camera, Disc, Raster, AMBIENT};
use crate::backend::gpu::GpuContext;

/// The render shader.
pub const VIEW3D_WGSL: &str = include_str!("../../../shaders/render/view3d.wgsl");

/// The shader's `View` uniform.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct ViewUniform {
    pub focal: f32,
    pub offset_x: f32,
    pub offset_y: f32,
    pub width: f32,
    pub height: f32,
    pub near: f32,
    pub far: f32,
    pub disc_radius: f32,
    pub light: [f32; 4],
}

/// One vertex: camera coordinates (right, up, forward) over the scale, the value, and the
/// position relative to the window disc in its radii.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct ViewVertex {
    pub camera: [f32; 3],
    pub value: f32,
    pub plane: [f32; 2],
}

/// Bytes per pixel of the (value, light) target.
const TEXEL: u32 = 8;

/// Renders `tris` of `points` with nodal `values` as `camera` sees them, within `window` (the
/// whole surface when None), on the GPU of `ctx`.
pub fn render(
    ctx: &GpuContext,
    points: &[DVec3],
    tris: &[[u32; 3]],
    values: &[f64],
    camera: &Camera,
    window: Option<Disc>,
) -> Result<Raster, String> {
    let (w, h) = (camera.width as u32, camera.height as u32);
    if tris.is_empty() || w == 0 || h == 0 {
        return Ok(Raster {
            width: camera.width,
            height: camera.height,
            value: vec![f64::NAN; (w * h) as usize],
            light: vec![0.0; (w * h) as usize],
        });
    }
    let depths: Vec<f64> = points.iter().map(|p| (*p - camera.eye).dot(camera.forward)).collect();
    let scale = depths.iter().fold(0.0f64, |m, d| m.max(d.abs())).max(f64::MIN_POSITIVE);
    let nearest = depths.iter().copied().filter(|d| *d > 0.0).fold(f64::INFINITY, f64::min);
    if !nearest.is_finite() {
        return Err("the surface is behind the camera".into());
    }
    let vertices: Vec<ViewVertex> = points
        .iter()
        .zip(values)
        .map(|(p, v)| {
            let q = (*p - camera.eye) / scale;
            let plane =
                window.map_or([0.0, 0.0], |d| [((p.x - d.centre[0]) / d.radius) as f32, ((p.y - d.centre[1]) / d.radius) as f32]);
            ViewVertex {
                camera: [q.dot(camera.right) as f32, q.dot(camera.up) as f32, q.dot(camera.forward) as f32],
                value: *v as f32,
                plane,
            }
        })
        .collect();
    let light = DVec3::new(-0.4, 0.6, -1.0).normalize();
    let uniform = ViewUniform {
        focal: camera.focal as f32,
        offset_x: camera.offset[0] as f32,
        offset_y: camera.offset[1] as f32,
        width: w as f32,
        height: h as f32,
        near: (0.5 * nearest / scale) as f32,
        far: 2.0,
        disc_radius: if window.is_some() { 1.0 } else { 0.0 },
        light: [light.x as f32, light.y as f32, light.z as f32, AMBIENT as f32],
    };
    let indices: Vec<u32> = tris.iter().flatten().copied().collect();
    let texels = draw(ctx, &vertices, &indices, &uniform, (w, h))?;
    let mut raster = Raster { width: camera.width, height: camera.height, value: Vec::new(), light: Vec::new() };
    for (value, light) in texels {
        let (value, light) = if light < 0.0 { (f64::NAN, 0.0) } else { (f64::from(value), f64::from(light)) };
        raster.value.push(value);
        raster.light.push(light);
    }
    Ok(raster)
}

/// Runs the render pipeline and reads the (value, light) target back, row-major from the top;
/// background texels have light -1.
fn draw(
    ctx: &GpuContext,
    vertices: &[ViewVertex],
    indices: &[u32],
    uniform: &ViewUniform,
    (w, h): (u32, u32),
) -> Result<Vec<(f32, f32)>, String> {
    use wgpu::util::DeviceExt as _;
    let device = &ctx.device;
    let init = |label: &str, contents: &[u8], usage: wgpu::BufferUsages| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents, usage })
    };
    let vertex_buffer = init("view3d vertices", bytemuck::cast_slice(vertices), wgpu::BufferUsages::VERTEX);
    let index_buffer = init("view3d indices", bytemuck::cast_slice(indices), wgpu::BufferUsages::INDEX);
    let uniform_buffer = init("view3d uniform", bytemuck::bytes_of(uniform), wgpu::BufferUsages::UNIFORM);
    let target = |label: &str, format: wgpu::TextureFormat, usage: wgpu::TextureUsages| {
        device.create_texture(&wgpu::TextureDescriptor {
            label: Some(label),
            size: wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage,
            view_formats: &[],
        })
    };
    let colour = target(
        "view3d target",
        wgpu::TextureFormat::Rg32Float,
        wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
    );
    let depth = target("view3d depth", wgpu::TextureFormat::Depth32Float, wgpu::TextureUsages::RENDER_ATTACHMENT);
    let pipeline = pipeline(device);
    let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("view3d"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry { binding: 0, resource: uniform_buffer.as_entire_binding() }],
    });
    let row_bytes = (w * TEXEL).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let staging = ctx.readback_buffer("view3d readback", u64::from(row_bytes) * u64::from(h));
    let (colour_view, depth_view) = (colour.create_view(&Default::default()), depth.create_view(&Default::default()));
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("view3d"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &colour_view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color { r: 0.0, g: -1.0, b: 0.0, a: 0.0 }),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                view: &depth_view,
                depth_ops: Some(wgpu::Operations { load: wgpu::LoadOp::Clear(1.0), store: wgpu::StoreOp::Discard }),
                stencil_ops: None,
            }),
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &group, &[]);
        pass.set_vertex_buffer(0, vertex_buffer.slice(..));
        pass.set_index_buffer(index_buffer.slice(..), wgpu::IndexFormat::Uint32);
        pass.draw_indexed(0..indices.len() as u32, 0, 0..1);
    }
    encoder.copy_texture_to_buffer(
        wgpu::TexelCopyTextureInfo {
            texture: &colour,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::TexelCopyBufferInfo {
            buffer: &staging,
            layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(row_bytes), rows_per_image: Some(h) },
        },
        wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
    );
    ctx.queue.submit([encoder.finish()]);
    let bytes = ctx.map_read(&staging)?;
    let f32_at = |k: usize| f32::from_le_bytes([bytes[k], bytes[k + 1], bytes[k + 2], bytes[k + 3]]);
    let texel = |i: u32, j: u32| {
        let k = (j * row_bytes + i * TEXEL) as usize;
        (f32_at(k), f32_at(k + 4))
    };
    Ok((0..h).flat_map(|j| (0..w).map(move |i| (i, j))).map(|(i, j)| texel(i, j)).collect())
}

/// The render pipeline of [`VIEW3D_WGSL`]: indexed triangles, both sides, depth test "less".
fn pipeline(device: &wgpu::Device) -> wgpu::RenderPipeline {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("view3d.wgsl"),
        source: wgpu::ShaderSource::Wgsl(VIEW3D_WGSL.into()),
    });
    let attributes = wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32, 2 => Float32x2];
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("view3d"),
        layout: None,
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &[Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<ViewVertex>() as u64,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &attributes,
            })],
        },
        primitive: wgpu::PrimitiveState { cull_mode: None, ..Default::default() },
        depth_stencil: Some(wgpu::DepthStencilState {
            format: wgpu::TextureFormat::Depth32Float,
            depth_write_enabled: Some(true),
            depth_compare: Some(wgpu::CompareFunction::Less),
            stencil: Default::default(),
            bias: Default::default(),
        }),
        multisample: Default::default(),
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format: wgpu::TextureFormat::Rg32Float,
                blend: None,
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        multiview_mask: None,
        cache: None,
    })
}
