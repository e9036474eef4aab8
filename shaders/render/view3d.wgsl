// The 3D view of the electrode surface (electrode_3d.png), rasterized by the GPU's render
// pipeline: the twin of the CPU z-buffer in src/output/maps/view3d.rs, same camera, same light.
//
// Vertices come in camera coordinates (right, up, forward; any common scale), so the vertex
// stage only projects: pixel = offset + focal * (x, -y) / z, with depth z / w = a - a near / z
// (a = far / (far - near)), linear in screen space as the depth test needs. The fragment stage
// writes (value, light): the nodal value interpolated perspective-correctly, and Lambert
// shading AMBIENT + (1 - AMBIENT) |n . l| of the face normal n, the cross product of the
// screen-space derivatives of the camera position (both lie in the triangle's plane). A
// fragment outside the window disc (radius 1 in the `plane` coordinates) is discarded.

struct View {
    focal: f32,
    offset_x: f32,
    offset_y: f32,
    width: f32,
    height: f32,
    near: f32,
    far: f32,
    // > 0: keep only |plane| <= disc_radius; 0: keep everything
    disc_radius: f32,
    // towards the light in camera coordinates (xyz, unit), and the ambient share (w)
    light: vec4<f32>,
}

@group(0) @binding(0) var<uniform> view: View;

struct VertexIn {
    @location(0) camera: vec3<f32>,
    @location(1) value: f32,
    @location(2) plane: vec2<f32>,
}

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) camera: vec3<f32>,
    @location(1) value: f32,
    @location(2) plane: vec2<f32>,
}

@vertex
fn vs_main(v: VertexIn) -> VertexOut {
    let z = v.camera.z;
    // pixel coordinates (from the upper left) times z
    let px = view.offset_x * z + view.focal * v.camera.x;
    let py = view.offset_y * z - view.focal * v.camera.y;
    let a = view.far / (view.far - view.near);
    var out: VertexOut;
    out.clip = vec4<f32>(2.0 * px / view.width - z, z - 2.0 * py / view.height, a * (z - view.near), z);
    out.camera = v.camera;
    out.value = v.value;
    out.plane = v.plane;
    return out;
}

@fragment
fn fs_main(f: VertexOut) -> @location(0) vec2<f32> {
    // Derivatives first: they need uniform control flow.
    let n = cross(dpdx(f.camera), dpdy(f.camera));
    if view.disc_radius > 0.0 && length(f.plane) > view.disc_radius {
        discard;
    }
    let size = length(n);
    var shade = view.light.w;
    if size > 0.0 {
        shade = view.light.w + (1.0 - view.light.w) * abs(dot(n / size, view.light.xyz));
    }
    return vec2<f32>(f.value, shade);
}
