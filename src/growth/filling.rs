//! Pore filling of a conductive porous layer (a homogenized scaffold) as a growth run plates.
//!
//! Zinc plates inside the first coating layer where its solid conducts, at the volumetric
//! plating current r (A/m^3, deposition positive:
//! [`crate::output::coating::volumetric_plating_cells`]), and fills the pores there: the fraction
//! f of the initial pore space that holds zinc rises at
//!
//! ```text
//!     df/dt = r M / (n F rho eps0),
//! ```
//!
//! eps0 the layer's initial porosity at the point. The pores left, eps = eps0 (1 - f), set the
//! media of the next step ([`Filling::media`]):
//!
//! - the transport factor: Bruggeman `eps^b`, or `eps / tau` with the layer's tortuosity kept;
//! - the porosity;
//! - the specific area, `a = a0 (1 - f)^p`: pores that narrow as they fill (p = 1/2 for
//!   cylindrical pores, 2/3 for spherical ones; `growth.pore_area_exponent`); the exchange current
//!   density and the solid's conductivity stay as laid (see docs/growth.md for what that leaves
//!   out). Each tetrahedron's plating goes to its samples' cells in proportion to their reacting
//!   area, so none lands in a closed cell.
//!
//! A pore space filled to within [`CLOSED`] of full is closed: it reacts no more, and keeps
//! [`CLOSED`] of its porosity for transport (a floor that keeps the conductivity positive).
//!
//! The state f lives on cells that stay fixed while the mesh changes every step: columns of the
//! footprint (about two elements wide) by equal bins of depth fraction in the layer (0 at its base, 1 at its top; planar or
//! conformal, as [`crate::physics::porous::depth_fraction`] measures it). Each step samples every
//! tetrahedron of the layer at five points (the centroids of its four corner sub-tetrahedra,
//! weight 1/8 each, and its own centroid, weight 1/2: exact for linear functions) and averages
//! r / eps0 over each cell, weighted by pore volume; the media read f back at the same points.
//!
//! The plated base (the electrode's own front) rises through the layer by its deposit's volume
//! over the pores left there (see `Stepper::pore_fractions`); where it meets closed cells it passes
//! through them, since the dense zinc there joins it ([`Filling::lift`]). When the pores of a
//! layer's top bin close the layer is sealed from above: zinc would go on plating on its top
//! surface, which growth does not follow, and the run stops ([`Filling::sealed`]).

use glam::{DVec2, DVec3};

use crate::geometry::ElectrodeGeometry;
use crate::mesh::{SizeField, TetMesh};
use crate::physics::porous::{depth_fraction, Media};
use crate::scene::{CoatingLayer, GrowthControls};

/// Fraction of the initial pores left below which a cell is closed.
pub const CLOSED: f64 = 0.02;

/// Most columns of cells per side of the footprint.
const MAX_COLUMNS: usize = 32;

/// Fewest and most depth bins.
const BINS: (usize, usize) = (6, 20);

/// The filling state of the first coating layer's pores.
#[derive(Debug, Clone)]
pub struct Filling {
    layer: CoatingLayer,
    half_width: f64,
    /// Columns per side and depth bins per column.
    columns: usize,
    bins: usize,
    area_exponent: f64,
    max_fill_step: f64,
    /// Fraction of each cell's initial pores that holds zinc (index `column * bins + bin`).
    filled: Vec<f64>,
    /// Initial pore volume of each cell, m^3: sampled on the first step's mesh.
    pore_volume: Vec<f64>,
    /// Each column's bin boundaries along the vertical through its centre, m (bins + 1 heights
    /// per column, from the layer's base up).
    bounds: Vec<f64>,
    /// Zinc plated inside the layer so far (the volumetric deposition integrated), m^3.
    pub zinc_volume: f64,
}

/// What of a filling changes over a run (a checkpoint holds it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FillingState {
    pub filled: Vec<f64>,
    pub pore_volume: Vec<f64>,
    pub zinc_volume_m3: f64,
}

/// One step's filling rates.
#[derive(Debug, Clone)]
pub struct FillRates {
    /// df/dt of each cell, 1/s.
    pub per_cell: Vec<f64>,
    /// Zinc plated in the layer per second, m^3/s.
    pub zinc: f64,
}

/// The five sample points of the tetrahedron `v` and their weights (see the module notes).
fn samples(v: [DVec3; 4]) -> [(DVec3, f64); 5] {
    let sum = v[0] + v[1] + v[2] + v[3];
    let corner = |i: usize| (0.5 * v[i] + 0.125 * sum, 0.125);
    [corner(0), corner(1), corner(2), corner(3), (0.25 * sum, 0.5)]
}

impl Filling {
    /// The filling of a scene whose first layer has a conductive solid, on the coated geometry
    /// `geom` (the initial electrode with its layers); None otherwise.
    pub fn of(layers: &[CoatingLayer], growth: &GrowthControls, sizes: &SizeField, geom: &ElectrodeGeometry) -> Option<Self> {
        let layer = layers.first().filter(|l| l.solid.is_some())?;
        let size = sizes.interfaces.first().copied().unwrap_or(sizes.near).max(sizes.near);
        let columns = ((geom.half_width / size).ceil() as usize).clamp(1, MAX_COLUMNS);
        let bins = ((2.0 * layer.thickness_m / size).ceil() as usize).clamp(BINS.0, BINS.1);
        let mut filling = Filling {
            layer: layer.clone(),
            half_width: geom.half_width,
            columns,
            bins,
            area_exponent: growth.pore_area_exponent,
            max_fill_step: growth.max_fill_step,
            filled: vec![0.0; columns * columns * bins],
            pore_volume: Vec::new(),
            bounds: Vec::new(),
            zinc_volume: 0.0,
        };
        filling.bounds = (0..columns * columns).flat_map(|c| filling.column_bounds(geom, c)).collect();
        Some(filling)
    }

    /// The centre of column `c`, m.
    fn column_centre(&self, c: usize) -> DVec2 {
        let width = 2.0 * self.half_width / self.columns as f64;
        DVec2::new(
            -self.half_width + width * ((c % self.columns) as f64 + 0.5),
            -self.half_width + width * ((c / self.columns) as f64 + 0.5),
        )
    }

    /// The heights of column `c`'s bin boundaries at its centre, from the layer's base up, m:
    /// where the depth fraction passes k / bins, by bisection along the vertical.
    fn column_bounds(&self, geom: &ElectrodeGeometry, c: usize) -> Vec<f64> {
        let xy = self.column_centre(c);
        let s = |z: f64| depth_fraction(geom, 0, DVec3::new(xy.x, xy.y, z));
        let (bottom, top) = (geom.floor(), geom.height);
        (0..=self.bins)
            .map(|k| {
                // (The base: where the depth fraction leaves 0, not the box floor below it.)
                let target = (k as f64 / self.bins as f64).max(1e-9);
                let (mut lo, mut hi) = (bottom, top);
                for _ in 0..48 {
                    let mid = 0.5 * (lo + hi);
                    if s(mid) < target * (1.0 - 1e-12) {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                hi
            })
            .collect()
    }

    /// The cell at `p` in the layer (its depth fraction clamped), by column and depth bin.
    fn cell_of(&self, geom: &ElectrodeGeometry, p: DVec3) -> usize {
        let s = depth_fraction(geom, 0, p);
        let bin = ((s * self.bins as f64) as usize).min(self.bins - 1);
        let column = |v: f64| {
            let u = (v + self.half_width) / (2.0 * self.half_width) * self.columns as f64;
            (u.floor().max(0.0) as usize).min(self.columns - 1)
        };
        (column(p.y) * self.columns + column(p.x)) * self.bins + bin
    }

    /// The specific area left in cell `c` over the initial, `(1 - f)^p` (0 once closed).
    fn reacting(&self, c: usize) -> f64 {
        let open = 1.0 - self.filled[c];
        if open >= CLOSED {
            open.powf(self.area_exponent)
        } else {
            0.0
        }
    }

    /// The cell holding `p`, if `p` lies in the layer.
    fn cell_holding(&self, geom: &ElectrodeGeometry, p: DVec3) -> Option<usize> {
        (geom.interface_level(0, p) < 0.0).then(|| self.cell_of(geom, p))
    }

    /// The fraction of the initial pores left at `p`, at least [`CLOSED`] (1 outside the layer).
    pub fn pores_left(&self, geom: &ElectrodeGeometry, p: DVec3) -> f64 {
        self.cell_holding(geom, p).map_or(1.0, |c| (1.0 - self.filled[c]).max(CLOSED))
    }

    /// The media of `mesh` (on the raised geometry `geom`) with the pores filled so far, and the
    /// layers' initial porosity of each tetrahedron.
    pub fn media(&self, mesh: &TetMesh, geom: &ElectrodeGeometry, layers: &[CoatingLayer]) -> (Media, Vec<f64>) {
        let mut media = Media::from_layers(mesh, geom, layers);
        let initial = media.porosity.clone();
        for (t, nodes) in mesh.tets.iter().enumerate().filter(|&(t, _)| mesh.regions[t] == 1) {
            let (mut left, mut reacting) = (0.0, 0.0);
            for (p, w) in samples(nodes.map(|n| mesh.nodes[n as usize])) {
                let c = self.cell_of(geom, p);
                left += w * (1.0 - self.filled[c]).max(CLOSED);
                reacting += w * self.reacting(c);
            }
            media.porosity[t] *= left;
            media.transport_factor[t] *= match self.layer.tortuosity {
                Some(_) => left,
                None => left.powf(self.layer.bruggeman_exponent),
            };
            if let Some(solid) = media.solid.as_mut() {
                solid.volumetric_exchange[t] *= reacting;
            }
        }
        (media, initial)
    }

    /// The filling rates of a solved step: `plating` the volumetric plating current of each
    /// tetrahedron (A/m^3, deposition positive), `initial` the initial porosity of each,
    /// `volume_per_charge` M / (n F rho) in m^3/C. The first call records each cell's initial
    /// pore volume.
    pub fn rates(
        &mut self,
        mesh: &TetMesh,
        geom: &ElectrodeGeometry,
        plating: &[f64],
        initial: &[f64],
        volume_per_charge: f64,
    ) -> FillRates {
        let mut zinc = vec![0.0; self.filled.len()];
        let mut pores = vec![0.0; self.filled.len()];
        let mut total = 0.0;
        for (t, nodes) in mesh.tets.iter().enumerate().filter(|&(t, _)| mesh.regions[t] == 1) {
            let volume = mesh.tet_volume(t);
            let rate = plating.get(t).copied().unwrap_or(0.0) * volume * volume_per_charge;
            total += rate;
            let points = samples(nodes.map(|n| mesh.nodes[n as usize])).map(|(p, w)| (self.cell_of(geom, p), w));
            // The zinc goes where the tetrahedron reacts: split by the samples' reacting area (the
            // weights its exchange was lumped with), not into closed cells.
            let reacting = points.map(|(c, w)| w * self.reacting(c));
            let sum: f64 = reacting.iter().sum();
            for ((c, w), r) in points.into_iter().zip(reacting) {
                zinc[c] += rate * if sum > 0.0 { r / sum } else { w };
                pores[c] += w * volume * initial[t];
            }
        }
        let per_cell = zinc.iter().zip(&pores).map(|(z, v)| if *v > 0.0 { z / v } else { 0.0 }).collect();
        // A cell's pores as first sampled (a cell thinner than the elements may be missed by the
        // first mesh's samples and met by a later one's).
        self.pore_volume.resize(pores.len(), 0.0);
        for (kept, now) in self.pore_volume.iter_mut().zip(pores) {
            if *kept == 0.0 {
                *kept = now;
            }
        }
        FillRates { per_cell, zinc: total }
    }

    /// The longest step (s) that fills no open cell by more than `growth.max_fill_step` of its
    /// pores nor past full, and empties none below zero; infinite when nothing fills.
    pub fn step_limit(&self, rates: &FillRates) -> f64 {
        let limit = |(&rate, &f): (&f64, &f64)| {
            if rate > 0.0 && 1.0 - f >= CLOSED {
                self.max_fill_step.min(1.0 - f) / rate
            } else if rate < 0.0 && f > 0.0 {
                self.max_fill_step.min(f) / -rate
            } else {
                f64::INFINITY
            }
        };
        rates.per_cell.iter().zip(&self.filled).map(limit).fold(f64::INFINITY, f64::min)
    }

    /// Fills the cells by `rates` over `dt` (s).
    pub fn advance(&mut self, rates: &FillRates, dt: f64) {
        for (f, rate) in self.filled.iter_mut().zip(&rates.per_cell) {
            *f = (*f + rate * dt).clamp(0.0, 1.0);
        }
        self.zinc_volume += rates.zinc * dt;
    }

    /// The height to which a front at `p` rises through the closed cells above it (m; `p.z`
    /// where the cell at `p` is open or `p` lies outside the layer).
    pub fn lift(&self, geom: &ElectrodeGeometry, p: DVec3) -> f64 {
        let mut z = p.z;
        for _ in 0..self.bins {
            let here = DVec3::new(p.x, p.y, z);
            let Some(c) = self.cell_holding(geom, here).filter(|&c| 1.0 - self.filled[c] < CLOSED) else { break };
            if c % self.bins == self.bins - 1 {
                // Never through the top bin: the layer is sealed there, and the run stops.
                break;
            }
            // The top of the closed bin along this vertical, by bisection on the depth fraction.
            let target = ((c % self.bins) + 1) as f64 / self.bins as f64;
            let (mut lo, mut hi) = (z, geom.height);
            for _ in 0..48 {
                let mid = 0.5 * (lo + hi);
                if depth_fraction(geom, 0, DVec3::new(p.x, p.y, mid)) < target * (1.0 - 1e-12) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            z = hi + 1e-6 * self.layer.thickness_m / self.bins as f64;
        }
        z
    }

    /// The centre (x, y) of a column whose top bin has closed, if one has.
    pub fn sealed(&self) -> Option<DVec2> {
        (0..self.columns * self.columns)
            .find(|&c| 1.0 - self.filled[c * self.bins + self.bins - 1] < CLOSED)
            .map(|c| self.column_centre(c))
    }

    /// Fraction of the initial pore space in each depth bin (bottom to top) that holds zinc,
    /// counting the pores under the plated base's front (`front(x, y)`, m) as full.
    pub fn profile(&self, front: impl Fn(DVec2) -> f64) -> Vec<f64> {
        let mut held = vec![0.0; self.bins];
        let mut total = vec![0.0; self.bins];
        for c in 0..self.columns * self.columns {
            let h = front(self.column_centre(c));
            let bounds = &self.bounds[c * (self.bins + 1)..(c + 1) * (self.bins + 1)];
            for b in 0..self.bins {
                let k = c * self.bins + b;
                let pores = self.pore_volume.get(k).copied().unwrap_or(0.0);
                let span = bounds[b + 1] - bounds[b];
                let under = if span > 0.0 { ((h - bounds[b]) / span).clamp(0.0, 1.0) } else { 0.0 };
                held[b] += pores * (under + (1.0 - under) * self.filled[k]);
                total[b] += pores;
            }
        }
        held.iter().zip(&total).map(|(h, t)| if *t > 0.0 { h / t } else { 0.0 }).collect()
    }

    /// The initial pore volume of each depth bin (bottom to top), m^3.
    pub fn bin_pores(&self) -> Vec<f64> {
        let mut pores = vec![0.0; self.bins];
        self.pore_volume.iter().enumerate().for_each(|(k, v)| pores[k % self.bins] += v);
        pores
    }

    /// Fraction of the initial pore volume that is closed.
    pub fn closed_fraction(&self) -> f64 {
        let total = self.pore_volume.iter().fold(0.0, |a, v| a + v);
        let closed = self.pore_volume.iter().zip(&self.filled).filter(|(_, f)| 1.0 - **f < CLOSED).fold(0.0, |a, (v, _)| a + v);
        if total > 0.0 {
            closed / total
        } else {
            0.0
        }
    }

    /// Zinc the cells hold (each cell's filled fraction times its initial pore volume), m^3: the
    /// record of [`Filling::zinc_volume`] on the cells, which differs from it by the sampling.
    pub fn zinc_in_cells(&self) -> f64 {
        self.pore_volume.iter().zip(&self.filled).map(|(v, f)| v * f).sum()
    }

    /// The layer's name, its thickness (m) and the number of depth bins.
    pub fn layout(&self) -> (&str, f64, usize) {
        (&self.layer.name, self.layer.thickness_m, self.bins)
    }

    /// The state a checkpoint keeps.
    pub fn state(&self) -> FillingState {
        FillingState { filled: self.filled.clone(), pore_volume: self.pore_volume.clone(), zinc_volume_m3: self.zinc_volume }
    }

    /// Takes up a checkpoint's state, if it fits these cells.
    pub fn restore(&mut self, state: &FillingState) -> std::result::Result<(), String> {
        let cells = self.filled.len();
        let fits = state.filled.len() == cells && (state.pore_volume.is_empty() || state.pore_volume.len() == cells);
        let valid = state.filled.iter().all(|f| (0.0..=1.0).contains(f))
            && state.pore_volume.iter().all(|v| v.is_finite() && *v >= 0.0)
            && state.zinc_volume_m3.is_finite();
        if !fits || !valid {
            return Err(format!(
                "the record of the pores ({} cells) does not fit the scene's {cells} cells, or holds a fraction outside 0 to 1",
                state.filled.len()
            ));
        }
        self.filled = state.filled.clone();
        self.pore_volume = state.pore_volume.clone();
        self.zinc_volume = state.zinc_volume_m3;
        Ok(())
    }

    /// Columns of cells per side.
    pub fn columns(&self) -> usize {
        self.columns
    }
}

/// The filling record of summary.json from the filling state and the last row.
pub fn summary(f: &Filling, end: &crate::output::growth::GrowthRow) -> crate::output::growth::FillingSummary {
    let (layer, _, bins) = f.layout();
    let profile = &end.filled_by_depth;
    // Zinc per bin: its filled fraction times its pores.
    let zinc: Vec<f64> = profile.iter().zip(f.bin_pores()).map(|(x, p)| x * p).collect();
    let held: f64 = zinc.iter().sum();
    let centroid = zinc.iter().enumerate().map(|(b, z)| z * (b as f64 + 0.5) / bins as f64).sum::<f64>();
    crate::output::growth::FillingSummary {
        layer: layer.to_string(),
        columns_per_side: f.columns(),
        depth_bins: bins,
        filled_fraction_by_depth: profile.clone(),
        filled_depth_centroid: (held > 0.0).then(|| centroid / held),
        closed_pore_fraction: f.closed_fraction(),
        pore_zinc_volume_m3: f.zinc_volume,
        pore_zinc_in_cells_m3: f.zinc_in_cells(),
    }
}
