//! A height field over the box's footprint: the vertical displacement g(x, y) of the electrode,
//! sampled at the nodes of a regular n x n grid over `[-w, w]^2` and bilinear between them.
//!
//! The electrode of a relief or growth run is the flat electrode and its protrusions raised by
//! g: a point p lies on it when `p - g(p.x, p.y) e_z` lies on the initial surface. g starts as the
//! scene's relief (cosine modes) and grows by the deposited thickness ([`Elevation::scatter`]).
//! Integrals use the trapezoid weights of the grid, the exact integral of the bilinear surface,
//! so a volume scattered onto the grid is the volume under the raised surface, to rounding.

use glam::{DVec2, DVec3};

use crate::scene::CosineMode;

/// Most grid nodes per side (a 2049 x 2049 grid holds 34 MB of heights).
pub const MAX_NODES_PER_SIDE: usize = 2049;

/// The displacement of the electrode, m, on a regular grid over the box's footprint.
#[derive(Debug, Clone)]
pub struct Elevation {
    half_width: f64,
    /// Nodes per side.
    n: usize,
    /// Heights at the nodes, row by row (index `j * n + i` for node (x_i, y_j)), m.
    heights: Vec<f64>,
    /// Opposite walls are periodic images: node 0 and node n - 1 of a row are one point.
    periodic: bool,
}

impl Elevation {
    /// A flat displacement `height` on a grid of spacing at most `spacing` (m), capped at
    /// [`MAX_NODES_PER_SIDE`] nodes per side.
    pub fn flat(half_width: f64, spacing: f64, height: f64, periodic: bool) -> Self {
        // (Rounding must not add a cell: 2 x 6e-6 / 1e-7 is 120.00000000000001, and 121 cells put
        // no node on the box's axis, where protrusions usually stand.)
        let cells = ((2.0 * half_width / spacing * (1.0 - 1e-12)).ceil() as usize).clamp(2, MAX_NODES_PER_SIDE - 1);
        let n = cells + 1;
        Elevation { half_width, n, heights: vec![height; n * n], periodic }
    }

    /// The surface `sum_k a_k cos(k_k . (x, y) + phase_k)` of cosine `modes` on a grid of spacing
    /// at most `spacing`, m.
    pub fn of_modes(half_width: f64, spacing: f64, modes: &[CosineMode], periodic: bool) -> Self {
        let mut e = Elevation::flat(half_width, spacing, 0.0, periodic);
        e.add(|xy| modes.iter().map(|m| m.height_at(xy)).sum());
        e
    }

    /// Raises every node by `height(x, y)`, m.
    pub fn add(&mut self, height: impl Fn(DVec2) -> f64) {
        for j in 0..self.n {
            for i in 0..self.n {
                let xy = self.node(i, j);
                self.heights[j * self.n + i] += height(xy);
            }
        }
    }

    /// Periodic sides: gives each wall node and its image(s) their mean height, so that the
    /// surface matches across the walls (a surface that is not periodic, a scan, gets a seam one
    /// cell wide instead of a step); a no-op on other sides.
    pub fn match_periodic_images(&mut self) {
        if self.periodic {
            let areas = self.node_areas();
            let mut volumes: Vec<f64> = self.heights.iter().zip(&areas).map(|(h, a)| h * a).collect();
            self.share_periodic_images(&mut volumes);
            self.heights = volumes.iter().zip(&areas).map(|(v, a)| v / a).collect();
        }
    }

    /// The same grid with other node heights (m, row by row).
    pub fn with_heights(&self, heights: Vec<f64>) -> Self {
        assert_eq!(heights.len(), self.heights.len(), "one height per grid node");
        Elevation { heights, ..self.clone() }
    }

    /// Grid spacing, m.
    pub fn spacing(&self) -> f64 {
        2.0 * self.half_width / (self.n - 1) as f64
    }

    /// Whether opposite walls are periodic images.
    pub fn is_periodic(&self) -> bool {
        self.periodic
    }

    /// Nodes per side.
    pub fn nodes_per_side(&self) -> usize {
        self.n
    }

    /// Position of node (i, j), m.
    pub fn node(&self, i: usize, j: usize) -> DVec2 {
        let h = self.spacing();
        DVec2::new(-self.half_width + i as f64 * h, -self.half_width + j as f64 * h)
    }

    /// Heights at the nodes, row by row, m.
    pub fn heights(&self) -> &[f64] {
        &self.heights
    }

    /// Lowest and highest node heights, m.
    pub fn range(&self) -> (f64, f64) {
        self.heights.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &h| (lo.min(h), hi.max(h)))
    }

    /// Cell (i, j) holding `xy` (clamped to the box) and the local coordinates in it, in [0, 1].
    fn locate(&self, xy: DVec2) -> (usize, usize, f64, f64) {
        let h = self.spacing();
        let cell = |v: f64| {
            let s = ((v + self.half_width) / h).clamp(0.0, (self.n - 1) as f64);
            let c = (s.floor() as usize).min(self.n - 2);
            (c, s - c as f64)
        };
        let ((i, u), (j, v)) = (cell(xy.x), cell(xy.y));
        (i, j, u, v)
    }

    /// Displacement at `xy` (bilinear), m.
    pub fn at(&self, xy: DVec2) -> f64 {
        let (i, j, u, v) = self.locate(xy);
        let g = |a: usize, b: usize| self.heights[b * self.n + a];
        (1.0 - v) * ((1.0 - u) * g(i, j) + u * g(i + 1, j)) + v * ((1.0 - u) * g(i, j + 1) + u * g(i + 1, j + 1))
    }

    /// Gradient of the bilinear displacement at `xy` (within its cell).
    pub fn gradient(&self, xy: DVec2) -> DVec2 {
        let (i, j, u, v) = self.locate(xy);
        let g = |a: usize, b: usize| self.heights[b * self.n + a];
        let h = self.spacing();
        DVec2::new(
            ((1.0 - v) * (g(i + 1, j) - g(i, j)) + v * (g(i + 1, j + 1) - g(i, j + 1))) / h,
            ((1.0 - u) * (g(i, j + 1) - g(i, j)) + u * (g(i + 1, j + 1) - g(i + 1, j))) / h,
        )
    }

    /// Trapezoid weight (area) of each node, m^2: the integral of the bilinear interpolant is
    /// the weighted sum of the node values.
    pub fn node_areas(&self) -> Vec<f64> {
        let h = self.spacing();
        let edge = |i: usize| if i == 0 || i == self.n - 1 { 0.5 } else { 1.0 };
        (0..self.n * self.n).map(|k| h * h * edge(k % self.n) * edge(k / self.n)).collect()
    }

    /// Integral of the displacement over the footprint, m^3.
    pub fn volume(&self) -> f64 {
        self.node_areas().iter().zip(&self.heights).map(|(a, g)| a * g).sum()
    }

    /// Raises the surface by `volumes` (m^3 per node, as [`Elevation::scatter`] returns) times
    /// `scale`: node k rises by scale volumes[k] / area[k].
    pub fn raise(&mut self, volumes: &[f64], scale: f64) {
        let areas = self.node_areas();
        for ((g, v), a) in self.heights.iter_mut().zip(volumes).zip(areas) {
            *g += scale * v / a;
        }
    }

    /// Raises node k by `rises[k]`, m.
    pub fn raise_by(&mut self, rises: &[f64]) {
        self.heights.iter_mut().zip(rises).for_each(|(g, r)| *g += r);
    }

    /// Spreads point volumes (position, m^3) onto the grid nodes with bilinear weights (cloud in
    /// cell): the returned per-node volumes sum to the points' total (see
    /// [`Elevation::share_periodic_images`] for periodic sides).
    pub fn scatter(&self, points: impl Iterator<Item = (DVec2, f64)>) -> Vec<f64> {
        let mut out = vec![0.0; self.n * self.n];
        for (xy, volume) in points {
            let (i, j, u, v) = self.locate(xy);
            let n = self.n;
            out[j * n + i] += volume * (1.0 - u) * (1.0 - v);
            out[j * n + i + 1] += volume * u * (1.0 - v);
            out[(j + 1) * n + i] += volume * (1.0 - u) * v;
            out[(j + 1) * n + i + 1] += volume * u * v;
        }
        out
    }

    /// Periodic sides: each wall node and its image(s) get the same share of their summed volume
    /// (their trapezoid areas are equal), so heights stay equal at the images; a no-op on other
    /// sides.
    pub fn share_periodic_images(&self, volumes: &mut [f64]) {
        if !self.periodic {
            return;
        }
        let n = self.n;
        for j in 0..n {
            let (a, b) = (j * n, j * n + n - 1);
            let s = 0.5 * (volumes[a] + volumes[b]);
            volumes[a] = s;
            volumes[b] = s;
        }
        for i in 0..n {
            let (a, b) = (i, (n - 1) * n + i);
            let s = 0.5 * (volumes[a] + volumes[b]);
            volumes[a] = s;
            volumes[b] = s;
        }
    }

    /// Root-mean-square deviation of the surface from its mean, m (trapezoid weights).
    pub fn rms_roughness(&self) -> f64 {
        let areas = self.node_areas();
        let total: f64 = areas.iter().sum();
        let mean = self.volume() / total;
        (areas.iter().zip(&self.heights).map(|(a, g)| a * (g - mean) * (g - mean)).sum::<f64>() / total).sqrt()
    }

    /// Amplitude of the cosine mode of wavevector `k` (rad/m) and phase `phase` (rad) in the
    /// surface: 2 <g, cos(k.x + phase)> / |footprint| (exact for a mode that fits the box), m.
    pub fn mode_amplitude(&self, k: DVec2, phase: f64) -> f64 {
        let areas = self.node_areas();
        let mut num = 0.0;
        let mut den = 0.0;
        for (idx, (a, g)) in areas.iter().zip(&self.heights).enumerate() {
            let c = (k.dot(self.node(idx % self.n, idx / self.n)) + phase).cos();
            num += a * g * c;
            den += a * c * c;
        }
        if den > 0.0 {
            num / den
        } else {
            0.0
        }
    }

    /// `p` moved down by the displacement under it: the point of the initial surface's frame.
    pub fn lowered(&self, p: DVec3) -> DVec3 {
        DVec3::new(p.x, p.y, p.z - self.at(p.truncate()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_reproduces_a_plane_and_its_gradient() {
        let mut e = Elevation::flat(1.0, 0.1, 0.0, false);
        for j in 0..e.n {
            for i in 0..e.n {
                let p = e.node(i, j);
                e.heights[j * e.n + i] = 0.3 * p.x - 0.2 * p.y + 0.5;
            }
        }
        let q = DVec2::new(0.237, -0.611);
        assert!((e.at(q) - (0.3 * 0.237 + 0.2 * 0.611 + 0.5)).abs() < 1e-12);
        assert!((e.gradient(q) - DVec2::new(0.3, -0.2)).length() < 1e-12);
    }

    #[test]
    fn scattered_volume_is_the_volume_under_the_raised_surface() {
        for periodic in [false, true] {
            let mut e = Elevation::flat(1.0, 0.1, 0.0, periodic);
            let points = [(DVec2::new(0.93, -0.99), 2.0), (DVec2::new(-1.0, 0.3), 1.5), (DVec2::new(0.01, 0.02), 0.25)];
            let mut v = e.scatter(points.into_iter());
            e.share_periodic_images(&mut v);
            e.raise(&v, 1.0);
            assert!((e.volume() - 3.75).abs() < 1e-12, "{} (periodic {periodic})", e.volume());
            if periodic {
                let n = e.n;
                assert!((0..n).all(|j| e.heights[j * n] == e.heights[j * n + n - 1]));
            }
        }
    }

    #[test]
    fn a_fitting_mode_is_measured_exactly() {
        let mode = CosineMode { amplitude_m: 0.02, wavelength_m: 1.0, direction_deg: 0.0, phase_deg: 30.0 };
        let e = Elevation::of_modes(1.0, 0.05, &[mode.clone()], true);
        let (k, phase) = mode.wavevector_and_phase();
        assert!((e.mode_amplitude(k, phase) - 0.02).abs() < 1e-12, "{}", e.mode_amplitude(k, phase));
        assert!((e.rms_roughness() - 0.02 / 2f64.sqrt()).abs() < 1e-12);
    }
}
