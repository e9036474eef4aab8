//! Point location for maps: which element each pixel of a map falls in, and where in it.
//!
//! A map is a regular grid of square pixels over a rectangle of a plane. Locating once gives, per
//! pixel, the element and its barycentric coordinates; any nodal field (P1, interpolated) or
//! element field (constant per element) is then read off without searching again.
//!
//! - [`from_above`]: the electrode seen along -z. Each pixel takes the highest electrode
//!   triangle above it (a z-buffer), so protrusions hide the plane beneath them and an overhang
//!   hides its stem.
//! - [`slice`]: a plane normal to x, y or z through the electrolyte (and coating) tetrahedra.
//!   Pixels outside every tetrahedron (zinc, resolved scaffold solids) stay empty.

use glam::{DMat3, DVec3};

use crate::mesh::{BoundaryTag, TetMesh};

/// A regular pixel grid over the rectangle `[u0, u0 + width*du] x [v0, v0 + height*dv]` of
/// plane coordinates (m). Pixel (i, j) is centred at `(u0 + (i+0.5) du, v0 + (j+0.5) dv)`; row
/// j = 0 is at the bottom. Pixels are square unless the rectangle is more than
/// [`MAX_ASPECT`] times longer one way than the other; then the short side is stretched.
#[derive(Debug, Clone, Copy)]
pub struct PixelGrid {
    pub u0: f64,
    pub v0: f64,
    /// Pixel width and height, m.
    pub du: f64,
    pub dv: f64,
    pub width: usize,
    pub height: usize,
}

/// Longest side over shortest side of a map, in pixels.
pub const MAX_ASPECT: f64 = 3.0;

impl PixelGrid {
    /// The grid over `[u0, u1] x [v0, v1]` whose longer side has `long_side` pixels.
    pub fn covering(u: [f64; 2], v: [f64; 2], long_side: usize) -> Self {
        let (lu, lv) = (u[1] - u[0], v[1] - v[0]);
        let long = long_side as f64;
        let short = |l: f64, other: f64| (long * (l / other).max(1.0 / MAX_ASPECT)).round().max(1.0);
        let (width, height) = if lu >= lv { (long, short(lv, lu)) } else { (short(lu, lv), long) };
        Self { u0: u[0], v0: v[0], du: lu / width, dv: lv / height, width: width as usize, height: height as usize }
    }

    /// Plane coordinates of the centre of pixel (i, j), m.
    pub fn centre(&self, i: usize, j: usize) -> [f64; 2] {
        [self.u0 + (i as f64 + 0.5) * self.du, self.v0 + (j as f64 + 0.5) * self.dv]
    }

    /// How much wider than tall a pixel stands for (1 for square pixels).
    pub fn stretch(&self) -> f64 {
        self.dv / self.du
    }

    /// The pixel range `[first, last]` whose centres lie in `[a, b]` along one axis of `n`
    /// pixels of size `pixel` starting at `origin`; None when no centre does.
    fn span(origin: f64, pixel: f64, n: usize, a: f64, b: f64) -> Option<(usize, usize)> {
        let first = ((a - origin) / pixel - 0.5).ceil().max(0.0);
        let last = ((b - origin) / pixel - 0.5).floor().min(n as f64 - 1.0);
        (first <= last).then_some((first as usize, last as usize))
    }

    /// The extent `[u0, u1, v0, v1]`, m.
    pub fn extent(&self) -> [f64; 4] {
        [self.u0, self.u0 + self.width as f64 * self.du, self.v0, self.v0 + self.height as f64 * self.dv]
    }
}

/// Where a pixel lies: an element (tetrahedron or electrode triangle) and the barycentric
/// weights of its nodes.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub element: u32,
    pub nodes: [u32; 4],
    pub weights: [f64; 4],
}

/// Located pixels of a map, row-major from the bottom row; None where the plane misses the mesh.
pub struct Located {
    pub grid: PixelGrid,
    pub probes: Vec<Option<Probe>>,
}

impl Located {
    /// A nodal field interpolated linearly at every pixel (NaN where empty).
    pub fn nodal(&self, values: &[f64]) -> Vec<f64> {
        self.probes
            .iter()
            .map(|p| p.map_or(f64::NAN, |p| p.nodes.iter().zip(p.weights).map(|(&n, w)| w * values[n as usize]).sum()))
            .collect()
    }

    /// A nodal field interpolated where `keep` holds for the pixel's element (NaN elsewhere).
    pub fn nodal_within(&self, values: &[f64], keep: &[bool]) -> Vec<f64> {
        let mut out = self.nodal(values);
        for (v, p) in out.iter_mut().zip(&self.probes) {
            if p.is_some_and(|p| !keep[p.element as usize]) {
                *v = f64::NAN;
            }
        }
        out
    }

    /// An element field at every pixel (NaN where empty).
    pub fn per_element(&self, values: &[f64]) -> Vec<f64> {
        self.probes.iter().map(|p| p.map_or(f64::NAN, |p| values[p.element as usize])).collect()
    }

    /// The region id of each pixel's element ([`super::overlay::OUTSIDE`] where empty), from
    /// the region per element.
    pub fn regions(&self, per_element: &[u8]) -> Vec<i32> {
        self.probes.iter().map(|p| p.map_or(super::overlay::OUTSIDE, |p| i32::from(per_element[p.element as usize]))).collect()
    }

    /// The element holding pixel (i, j).
    pub fn at(&self, i: usize, j: usize) -> Option<Probe> {
        self.probes[j * self.grid.width + i]
    }
}

/// A cut plane normal to a coordinate axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plane {
    /// 0, 1 or 2 for x, y, z.
    pub normal_axis: usize,
    /// Position along the normal, m.
    pub at: f64,
}

impl Plane {
    /// The two in-plane axes (horizontal, vertical) of the map: for x and y normals the map
    /// shows the other horizontal axis against z; for a z normal, x against y.
    pub fn axes(&self) -> [usize; 2] {
        match self.normal_axis {
            0 => [1, 2],
            1 => [0, 2],
            _ => [0, 1],
        }
    }

    /// The 3D point at plane coordinates (u, v).
    fn point(&self, u: f64, v: f64) -> DVec3 {
        let mut p = [0.0; 3];
        let [a, b] = self.axes();
        p[a] = u;
        p[b] = v;
        p[self.normal_axis] = self.at;
        DVec3::from_array(p)
    }
}

/// Tolerance on barycentric coordinates: a pixel centre on a shared face or edge belongs to
/// whichever neighbour is found first.
const INSIDE: f64 = -1e-10;

/// Locates the pixels of `grid` in the tetrahedra cut by `plane`.
pub fn slice(mesh: &TetMesh, plane: Plane, grid: PixelGrid) -> Located {
    let mut probes = vec![None; grid.width * grid.height];
    let [a, b] = plane.axes();
    for (t, tet) in mesh.tets.iter().enumerate() {
        let x = tet.map(|n| mesh.nodes[n as usize]);
        let along = x.map(|p| p[plane.normal_axis]);
        if along.iter().copied().fold(f64::INFINITY, f64::min) > plane.at
            || along.iter().copied().fold(f64::NEG_INFINITY, f64::max) < plane.at
        {
            continue;
        }
        let lo = |k: usize| x.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min);
        let hi = |k: usize| x.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max);
        let (Some((i0, i1)), Some((j0, j1))) = (
            PixelGrid::span(grid.u0, grid.du, grid.width, lo(a), hi(a)),
            PixelGrid::span(grid.v0, grid.dv, grid.height, lo(b), hi(b)),
        ) else {
            continue;
        };
        let inverse = DMat3::from_cols(x[1] - x[0], x[2] - x[0], x[3] - x[0]).inverse();
        for j in j0..=j1 {
            for i in i0..=i1 {
                let slot = &mut probes[j * grid.width + i];
                if slot.is_some() {
                    continue;
                }
                let [u, v] = grid.centre(i, j);
                let l = inverse * (plane.point(u, v) - x[0]);
                let weights = [1.0 - l.x - l.y - l.z, l.x, l.y, l.z];
                if weights.iter().all(|&w| w >= INSIDE) {
                    *slot = Some(Probe { element: t as u32, nodes: *tet, weights });
                }
            }
        }
    }
    Located { grid, probes }
}

/// Locates the pixels of `grid` (x, y coordinates) on the topmost electrode triangle above each.
/// `Probe::element` is the boundary face index; the fourth weight is zero.
pub fn from_above(mesh: &TetMesh, grid: PixelGrid) -> Located {
    let mut probes = vec![None; grid.width * grid.height];
    let mut top = vec![f64::NEG_INFINITY; probes.len()];
    for f in mesh.faces_with(BoundaryTag::Electrode) {
        let face = mesh.faces[f];
        let x = face.map(|n| mesh.nodes[n as usize]);
        let (e1, e2) = (x[1] - x[0], x[2] - x[0]);
        let det = e1.x * e2.y - e1.y * e2.x;
        if det.abs() <= 1e-12 * e1.length_squared().max(e2.length_squared()) {
            continue; // vertical: invisible from above
        }
        let lo = |k: usize| x.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min);
        let hi = |k: usize| x.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max);
        let (Some((i0, i1)), Some((j0, j1))) = (
            PixelGrid::span(grid.u0, grid.du, grid.width, lo(0), hi(0)),
            PixelGrid::span(grid.v0, grid.dv, grid.height, lo(1), hi(1)),
        ) else {
            continue;
        };
        for j in j0..=j1 {
            for i in i0..=i1 {
                let [u, v] = grid.centre(i, j);
                let (du, dv) = (u - x[0].x, v - x[0].y);
                let l1 = (du * e2.y - dv * e2.x) / det;
                let l2 = (e1.x * dv - e1.y * du) / det;
                let weights = [1.0 - l1 - l2, l1, l2, 0.0];
                if weights[..3].iter().any(|&w| w < INSIDE) {
                    continue;
                }
                let z = weights[0] * x[0].z + weights[1] * x[1].z + weights[2] * x[2].z;
                let k = j * grid.width + i;
                if z > top[k] {
                    top[k] = z;
                    probes[k] = Some(Probe { element: f as u32, nodes: [face[0], face[1], face[2], face[0]], weights });
                }
            }
        }
    }
    Located { grid, probes }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unit cube split into six Kuhn tetrahedra, its bottom face the electrode: a linear
    /// field is reproduced exactly on any slice.
    fn cube() -> TetMesh {
        let nodes: Vec<DVec3> =
            (0..8).map(|k| DVec3::new((k & 1) as f64, ((k >> 1) & 1) as f64, ((k >> 2) & 1) as f64)).collect();
        let tets = vec![[0, 1, 3, 7], [0, 1, 7, 5], [0, 4, 5, 7], [0, 2, 7, 3], [0, 2, 6, 7], [0, 4, 7, 6]];
        let mut mesh = TetMesh { nodes, tets, regions: vec![0; 6], faces: vec![], face_tags: vec![] };
        // bottom face z = 0 as the electrode, normals pointing down
        mesh.faces = vec![[0, 3, 1], [0, 2, 3]];
        mesh.face_tags = vec![BoundaryTag::Electrode; 2];
        mesh
    }

    #[test]
    fn slices_reproduce_a_linear_field_and_cover_the_cube() {
        let mesh = cube();
        let field: Vec<f64> = mesh.nodes.iter().map(|p| 1.0 + 2.0 * p.x - 3.0 * p.y + 0.5 * p.z).collect();
        for normal_axis in 0..3 {
            let plane = Plane { normal_axis, at: 0.37 };
            let located = slice(&mesh, plane, PixelGrid::covering([0.0, 1.0], [0.0, 1.0], 16));
            let values = located.nodal(&field);
            assert!(values.iter().all(|v| v.is_finite()), "every pixel of the cube's section is located");
            for j in 0..16 {
                for i in 0..16 {
                    let [u, v] = located.grid.centre(i, j);
                    let p = plane.point(u, v);
                    let exact = 1.0 + 2.0 * p.x - 3.0 * p.y + 0.5 * p.z;
                    assert!((values[j * 16 + i] - exact).abs() < 1e-12);
                }
            }
        }
        let tall = PixelGrid::covering([0.0, 1.0], [0.0, 10.0], 300);
        assert_eq!((tall.width, tall.height), (100, 300), "aspect capped at 3");
        assert!((tall.extent()[1] - 1.0).abs() < 1e-12 && (tall.stretch() - 10.0 / 3.0).abs() < 1e-12);
        let outside = slice(&mesh, Plane { normal_axis: 1, at: 1.5 }, PixelGrid::covering([0.0, 1.0], [0.0, 1.0], 4));
        assert!(outside.probes.iter().all(Option::is_none));
    }

    #[test]
    fn from_above_sees_the_electrode_only_where_it_is() {
        let mesh = cube();
        let field: Vec<f64> = mesh.nodes.iter().map(|p| p.x + 10.0 * p.y).collect();
        let located = from_above(&mesh, PixelGrid::covering([-0.5, 1.5], [-0.5, 1.5], 8));
        let values = located.nodal(&field);
        for j in 0..8 {
            for i in 0..8 {
                let [u, v] = located.grid.centre(i, j);
                let inside = (0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v);
                let value = values[j * 8 + i];
                assert_eq!(value.is_finite(), inside, "pixel at ({u}, {v})");
                if inside {
                    assert!((value - (u + 10.0 * v)).abs() < 1e-12);
                }
            }
        }
    }
}
