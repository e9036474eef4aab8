//! A perspective 3D view of the electrode surface, coloured by a nodal field and lit, rasterized
//! on the CPU (a z-buffer over the surface triangles; deterministic, no adapter needed): the
//! picture behind `electrode_3d.png` of a CPU run, and the twin of the GPU render pipeline
//! ([`super::view3d_gpu`]) that draws it for a GPU run.
//!
//! The camera looks at the centre of the surface's bounding box from azimuth [`AZIMUTH_DEG`]
//! and elevation [`ELEVATION_DEG`], at [`DISTANCE`] bounding radii, and the projected surface
//! fills [`FILL`] of the image. A pixel's colour is the field's viridis colour at the visible point (linear
//! within each triangle) times Lambert shading, `AMBIENT + (1 - AMBIENT) |n . l|` with the
//! light from over the viewer's left shoulder (the face normal's sign is ignored: a surface is
//! lit from whichever side is seen).

use glam::DVec3;

/// Camera direction: azimuth from +x towards +y and elevation above the electrode plane, deg.
pub const AZIMUTH_DEG: f64 = -60.0;
pub const ELEVATION_DEG: f64 = 35.0;
/// Camera distance from the box centre in bounding radii.
pub const DISTANCE: f64 = 3.0;
/// Share of the image's width or height the projected points fill.
pub const FILL: f64 = 0.92;
/// Share of the light that does not depend on the surface's orientation: high enough that a
/// shaded mid-range colour is not read as the low end of the colour map (0.35 made the foot of a
/// dome look like the smallest current).
pub const AMBIENT: f64 = 0.6;

/// A perspective camera: eye, orthonormal right/up/forward axes and the focal length in pixels
/// for an image of `width` x `height`.
#[derive(Debug, Clone, Copy)]
pub struct Camera {
    pub eye: DVec3,
    pub right: DVec3,
    pub up: DVec3,
    pub forward: DVec3,
    pub focal: f64,
    /// Image position of the view axis, pixels from the upper left.
    pub offset: [f64; 2],
    pub width: usize,
    pub height: usize,
}

impl Camera {
    /// The camera that frames the points (see the module documentation): it looks at their
    /// bounding box's centre, and their projection is scaled and centred to fill
    /// [`FILL`] of the image.
    pub fn framing(points: &[DVec3], width: usize, height: usize) -> Camera {
        let lo = points.iter().fold(DVec3::splat(f64::INFINITY), |m, p| m.min(*p));
        let hi = points.iter().fold(DVec3::splat(f64::NEG_INFINITY), |m, p| m.max(*p));
        let centre = 0.5 * (lo + hi);
        let radius = (0.5 * (hi - lo).length()).max(f64::MIN_POSITIVE);
        let (az, el) = (AZIMUTH_DEG.to_radians(), ELEVATION_DEG.to_radians());
        let towards_eye = DVec3::new(el.cos() * az.cos(), el.cos() * az.sin(), el.sin());
        let eye = centre + DISTANCE * radius * towards_eye;
        let forward = -towards_eye;
        let right = forward.cross(DVec3::Z).normalize();
        let up = right.cross(forward);
        let mut camera = Camera { eye, right, up, forward, focal: 1.0, offset: [0.0, 0.0], width, height };
        // The projection at focal length 1, then scaled and shifted to fill the image.
        let (mut u, mut v) = ([f64::INFINITY, f64::NEG_INFINITY], [f64::INFINITY, f64::NEG_INFINITY]);
        for p in points {
            if let Some([x, y, _]) = camera.project(*p) {
                (u[0], u[1], v[0], v[1]) = (u[0].min(x), u[1].max(x), v[0].min(y), v[1].max(y));
            }
        }
        let span = |r: [f64; 2]| (r[1] - r[0]).max(f64::MIN_POSITIVE);
        camera.focal = FILL * (width as f64 / span(u)).min(height as f64 / span(v));
        camera.offset =
            [0.5 * width as f64 - camera.focal * 0.5 * (u[0] + u[1]), 0.5 * height as f64 - camera.focal * 0.5 * (v[0] + v[1])];
        camera
    }

    /// Screen position (pixels from the upper left) and depth of `p`; None behind the eye.
    pub fn project(&self, p: DVec3) -> Option<[f64; 3]> {
        let q = p - self.eye;
        let depth = q.dot(self.forward);
        (depth > 0.0).then(|| {
            [self.offset[0] + self.focal * q.dot(self.right) / depth, self.offset[1] - self.focal * q.dot(self.up) / depth, depth]
        })
    }
}

/// A window of the view: the surface within `radius` of the vertical axis through `centre`
/// (x, y; m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Disc {
    pub centre: [f64; 2],
    pub radius: f64,
}

impl Disc {
    /// Whether `p` lies within the disc's cylinder.
    pub fn contains(&self, p: DVec3) -> bool {
        (p.x - self.centre[0]).hypot(p.y - self.centre[1]) <= self.radius
    }
}

/// A rendered view: per pixel (row-major from the top) the field's value at the visible point
/// (NaN on the background) and the light intensity there.
pub struct Raster {
    pub width: usize,
    pub height: usize,
    pub value: Vec<f64>,
    pub light: Vec<f64>,
}

/// Renders the triangles `tris` of `points` with the nodal field `values` as seen by `camera`,
/// only where `keep` holds for the surface point (a window cut out of a larger surface).
pub fn render(points: &[DVec3], tris: &[[u32; 3]], values: &[f64], camera: &Camera, keep: &dyn Fn(DVec3) -> bool) -> Raster {
    let (w, h) = (camera.width, camera.height);
    let mut raster = Raster { width: w, height: h, value: vec![f64::NAN; w * h], light: vec![0.0; w * h] };
    let mut depth = vec![f64::INFINITY; w * h];
    let towards_light = (-camera.forward + 0.6 * camera.up - 0.4 * camera.right).normalize();
    for tri in tris {
        let x = tri.map(|n| points[n as usize]);
        let Some(s) = [camera.project(x[0]), camera.project(x[1]), camera.project(x[2])].into_iter().collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let normal = (x[1] - x[0]).cross(x[2] - x[0]).normalize_or_zero();
        let light = AMBIENT + (1.0 - AMBIENT) * normal.dot(towards_light).abs();
        let v = tri.map(|n| values[n as usize]);
        let area = (s[1][0] - s[0][0]) * (s[2][1] - s[0][1]) - (s[2][0] - s[0][0]) * (s[1][1] - s[0][1]);
        if area.abs() < 1e-12 {
            continue;
        }
        let (i0, i1) = pixel_span(s.iter().map(|p| p[0]), w);
        let (j0, j1) = pixel_span(s.iter().map(|p| p[1]), h);
        for j in j0..j1 {
            for i in i0..i1 {
                let (px, py) = (i as f64 + 0.5, j as f64 + 0.5);
                let edge = |a: usize, b: usize| (s[b][0] - s[a][0]) * (py - s[a][1]) - (s[b][1] - s[a][1]) * (px - s[a][0]);
                let l = [edge(1, 2) / area, edge(2, 0) / area, edge(0, 1) / area];
                if l.iter().any(|&c| c < -1e-9) {
                    continue;
                }
                // Perspective-correct weights: 1/z is linear in screen space.
                let q = [l[0] / s[0][2], l[1] / s[1][2], l[2] / s[2][2]];
                let z = 1.0 / (q[0] + q[1] + q[2]);
                let k = j * w + i;
                if z < depth[k] && keep(z * (q[0] * x[0] + q[1] * x[1] + q[2] * x[2])) {
                    depth[k] = z;
                    raster.value[k] = z * (q[0] * v[0] + q[1] * v[1] + q[2] * v[2]);
                    raster.light[k] = light;
                }
            }
        }
    }
    raster
}

/// The pixels whose centres may fall within the projected coordinates `c` on an axis of `n`.
fn pixel_span(c: impl Iterator<Item = f64> + Clone, n: usize) -> (usize, usize) {
    let lo = c.clone().fold(f64::INFINITY, f64::min).floor().max(0.0);
    let hi = (c.fold(f64::NEG_INFINITY, f64::max).ceil() + 1.0).min(n as f64);
    if lo >= hi {
        (0, 0)
    } else {
        (lo as usize, hi as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(z: f64, value: f64) -> (Vec<DVec3>, Vec<[u32; 3]>, Vec<f64>) {
        let points = vec![DVec3::new(0.0, 0.0, z), DVec3::new(1.0, 0.0, z), DVec3::new(1.0, 1.0, z), DVec3::new(0.0, 1.0, z)];
        (points, vec![[0, 1, 2], [0, 2, 3]], vec![value; 4])
    }

    #[test]
    fn the_framing_camera_sees_the_whole_box_centred() {
        let (points, _, _) = square(0.0, 1.0);
        let camera = Camera::framing(&points, 400, 300);
        let projected: Vec<[f64; 3]> = points.iter().map(|p| camera.project(*p).expect("in front")).collect();
        for (p, [x, y, d]) in points.iter().zip(&projected) {
            assert!((0.0..400.0).contains(x) && (0.0..300.0).contains(y) && *d > 0.0, "{p} at ({x}, {y})");
        }
        let extent = |k: usize| {
            let c = projected.iter().map(|p| p[k]);
            c.clone().fold(f64::NEG_INFINITY, f64::max) - c.fold(f64::INFINITY, f64::min)
        };
        let filled = (extent(0) / 400.0).max(extent(1) / 300.0);
        assert!((filled - FILL).abs() < 1e-9, "the square fills {filled} of the image");
        assert!(camera.project(camera.eye - camera.forward).is_none(), "behind the eye");
    }

    #[test]
    fn the_nearer_surface_hides_the_farther_and_values_interpolate_linearly() {
        let (mut points, mut tris, mut values) = square(0.0, 1.0);
        let (upper, upper_tris, upper_values) = square(0.5, 2.0);
        tris.extend(upper_tris.iter().map(|t| t.map(|n| n + 4)));
        points.extend(upper);
        values.extend(upper_values);
        let camera = Camera::framing(&points, 200, 200);
        let raster = render(&points, &tris, &values, &camera, &|_| true);
        let shown: Vec<f64> = raster.value.iter().copied().filter(|v| v.is_finite()).collect();
        assert!(shown.len() > 2000, "the squares cover the picture");
        let centre = raster.value[100 * 200 + 100];
        assert_eq!(centre, 2.0, "seen from above, the upper square hides the lower one at the centre");
        // A linear field is reproduced at the pixel of a projected point.
        let ramp: Vec<f64> = points.iter().map(|p| p.x + 10.0 * p.y).collect();
        let raster = render(&points[..4], &tris[..2], &ramp[..4], &camera, &|_| true);
        let [x, y, _] = camera.project(DVec3::new(0.3, 0.6, 0.0)).expect("point");
        let k = y.floor() as usize * 200 + x.floor() as usize;
        let expected = 0.3 + 6.0;
        assert!((raster.value[k] - expected).abs() < 0.15, "{} vs {expected} (one pixel of slope)", raster.value[k]);
        assert!(raster.light.iter().all(|&l| (0.0..=1.0).contains(&l)));
        let cut = render(&points[..4], &tris[..2], &ramp[..4], &camera, &|p| p.x < 0.5);
        let (kept, all) =
            (cut.value.iter().filter(|v| v.is_finite()).count(), raster.value.iter().filter(|v| v.is_finite()).count());
        assert!(kept > all / 3 && kept < 2 * all / 3, "half the square is cut away: {kept} of {all} pixels");
        assert!(cut.value.iter().filter(|v| v.is_finite()).all(|v| *v < 0.5 + 10.0 + 0.2), "only x < 0.5 is drawn");
    }
}
