//! PNG maps of a solved scene, for looking at rather than reading.
//!
//! - `electrode_current_density.png`: the current density on the electrode seen from above
//!   (protrusions and coated surfaces included), in the direction of the net current: where the
//!   net current plates, the plating current density (electrode.vtu's
//!   `plating_current_density_A_m2`, minus the anodic-positive normal current density), else
//!   the normal current density (`normal_current_density_A_m2`). The smoothed nodal field of
//!   summary.json, interpolated linearly.
//! - `slice<k>_<field>.png` for each cut plane k = 1, 2, ... (`output.slices`; by default the
//!   plane y = y0 through the first protrusion's axis): `potential` (V), `field_magnitude`
//!   (|E|, V/m, recovered at the nodes from the element values ([`recovery`]); scaled without
//!   a charged layer's Donnan-jump cells), `current_density` (|i|, A/m^2, recovered, with arrows
//!   of the element values' in-plane
//!   direction), `concentration_<species>` (mol/m^3) for the transport models and
//!   `solid_potential` (V, inside the conductive layer) with a resistive scaffold.
//! - `electrode_3d.png` (and `electrode_3d_zoom.png` around the first protrusion): the
//!   electrode surface in perspective, coloured and lit ([`electrode_views`], [`view3d`]).
//! - `zoom<k>_<field>.png`: the same maps of a vertical cut plane through the first protrusion,
//!   over a window around it ([`zoom_window`]), at the full pixel count: the tip's fields at
//!   the resolution of the mesh there.
//! - Transient runs: `transient_electrode_potential.png` and
//!   `transient_min_surface_concentration.png` against time.
//!
//! A [`Map`] holds sampled values, so `compare` can draw several scenes' maps on one colour
//! scale ([`Map::png`] with a shared range).

pub mod overlay;
pub mod plots;
pub mod recovery;
pub mod render;
pub mod sample;
pub mod units;
pub mod view3d;
pub mod view3d_gpu;

use plots::Series;
use recovery::Recovered;
use render::{Arrow, Format, MapSpec};
use sample::{Located, PixelGrid, Plane};

use crate::backend::gpu::GpuContext;
use crate::error::Result;
use crate::mesh::{BoundaryTag, TetMesh};
use crate::output::metrics::Fields;
use crate::physics::porous::Media;
use crate::scene::figures::{ColourRanges, FigureUnits};
use crate::scene::{Axis, OutputControls, Scene, SlicePlane};

/// A sampled map, ready to draw.
#[derive(Clone)]
pub struct Map {
    /// File name, e.g. `electrode_current_density.png`.
    pub file: String,
    pub title: String,
    /// Quantity and unit of the colour bar.
    pub quantity: String,
    pub axes: [&'static str; 2],
    pub grid: PixelGrid,
    /// Value per pixel, row-major from the bottom row; NaN outside the electrolyte.
    pub values: Vec<f64>,
    pub arrows: Vec<Arrow>,
    /// The colour range when it is not the values' own (values outside it are drawn at its
    /// ends): the field magnitude's without the Donnan-jump cells of a charged layer.
    pub scale: Option<[f64; 2]>,
    /// Region id under each pixel ([`overlay::OUTSIDE`] outside the mesh), outlined where it
    /// changes (zinc and solid surfaces, coating tops); empty for no outlines.
    pub regions: Vec<i32>,
    /// Draw isolines at round levels (smooth nodal fields: potentials, concentrations).
    pub isolines: bool,
}

impl Map {
    /// The colour range: [`Map::scale`], else the smallest and largest value shown; None for an
    /// empty map.
    pub fn range(&self) -> Option<[f64; 2]> {
        self.scale.or_else(|| render::finite_range(&self.values))
    }

    /// The map in `format`, coloured over the user's fixed range for its quantity, else
    /// `range`, else its own.
    pub fn figure(&self, range: Option<[f64; 2]>, look: &Look, format: Format) -> Result<Vec<u8>> {
        let (range, fixed) = look.colour_range(&self.quantity, range, self.range());
        let spec = MapSpec {
            title: &self.title,
            quantity: &self.quantity,
            axes: self.axes,
            range,
            arrows: &self.arrows,
            regions: &self.regions,
            isolines: self.isolines,
            units: &look.units,
            fixed_range: fixed,
        };
        render::map_figure(&self.grid, &self.values, &spec, format)
    }
}

/// A figure sampled from a run that can be drawn over any colour range: a [`Map`] or a [`View`].
/// `compare` draws the same picture of several runs over one range.
pub trait Picture {
    /// File name of its PNG, e.g. `slice1_potential.png`.
    fn file(&self) -> &str;
    /// Quantity and SI unit of its colour bar, e.g. "potential (V)".
    fn quantity(&self) -> &str;
    /// The colour range of its own values (or its [`Map::scale`]); None when empty.
    fn range(&self) -> Option<[f64; 2]>;
    /// The picture in `format`, coloured over the user's fixed range for its quantity, else
    /// `range`, else its own.
    fn figure(&self, range: Option<[f64; 2]>, look: &Look, format: Format) -> Result<Vec<u8>>;
    /// Its files ([`Look::files`]).
    fn files(&self, range: Option<[f64; 2]>, look: &Look) -> Result<Vec<(String, Vec<u8>)>> {
        look.files(self.file().trim_end_matches(".png"), |format| self.figure(range, look, format))
    }
}

impl Picture for Map {
    fn file(&self) -> &str {
        &self.file
    }

    fn quantity(&self) -> &str {
        &self.quantity
    }

    fn range(&self) -> Option<[f64; 2]> {
        Map::range(self)
    }

    fn figure(&self, range: Option<[f64; 2]>, look: &Look, format: Format) -> Result<Vec<u8>> {
        Map::figure(self, range, look, format)
    }
}

/// A rendered 3D view of the electrode ([`view3d`]), ready to colour.
pub struct View {
    /// File name, e.g. `electrode_3d.png`.
    pub file: String,
    pub title: String,
    /// Quantity and unit of the colour bar.
    pub quantity: &'static str,
    pub raster: view3d::Raster,
}

impl Picture for View {
    fn file(&self) -> &str {
        &self.file
    }

    fn quantity(&self) -> &str {
        self.quantity
    }

    fn range(&self) -> Option<[f64; 2]> {
        render::finite_range(&self.raster.value)
    }

    fn figure(&self, range: Option<[f64; 2]>, look: &Look, format: Format) -> Result<Vec<u8>> {
        let (range, _) = look.colour_range(self.quantity, range, self.range());
        render::view_figure(&self.title, &self.raster, self.quantity, range, &look.units, format)
    }
}

/// How figures are drawn beyond their data: the units they show (`output.units`), the user's
/// fixed colour ranges (`output.colour_range`) and whether SVG files come beside the PNGs
/// (`output.svg`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Look {
    pub units: FigureUnits,
    pub ranges: ColourRanges,
    pub svg: bool,
}

impl Look {
    /// The look a scene's `output` block asks for.
    pub fn of(output: &OutputControls) -> Look {
        Look { units: output.units, ranges: output.colour_range, svg: output.svg }
    }

    /// The colour range of a picture of `quantity`: the user's fixed one for it, else `given`
    /// (a range shared by several pictures), else the picture's `own`; and whether it is the
    /// user's.
    pub fn colour_range(&self, quantity: &str, given: Option<[f64; 2]>, own: Option<[f64; 2]>) -> ([f64; 2], bool) {
        match units::fixed_range(quantity, &self.ranges) {
            Some(fixed) => (fixed, true),
            None => (given.or(own).unwrap_or([0.0, 1.0]), false),
        }
    }

    /// The files of one figure: `<stem>.png` and, when SVG is asked for, `<stem>.svg`, each
    /// drawn by `draw` in its format.
    pub fn files(&self, stem: &str, draw: impl Fn(Format) -> Result<Vec<u8>>) -> Result<Vec<(String, Vec<u8>)>> {
        let formats: &[Format] = if self.svg { &[Format::Png, Format::Svg] } else { &[Format::Png] };
        formats.iter().map(|&f| Ok((format!("{stem}{}", f.extension()), draw(f)?))).collect()
    }

    /// The files of an outline plot: a line plot with every curve drawn thin.
    pub fn outline_plot(&self, stem: &str, title: &str, x: &str, y: &str, series: &[Series]) -> Result<Vec<(String, Vec<u8>)>> {
        self.files(stem, |format| plots::lines(title, [x, y], series, &self.units, format, true))
    }

    /// The files of a line plot ([`plots::line_figure`]).
    pub fn line_plot(&self, stem: &str, title: &str, x: &str, y: &str, series: &[Series]) -> Result<Vec<(String, Vec<u8>)>> {
        self.files(stem, |format| plots::line_figure(title, x, y, series, &self.units, format))
    }
}

/// Sign that turns anodic-positive current densities into ones positive along the net current.
pub fn along_net_current(total_current_a: f64) -> f64 {
    if total_current_a < 0.0 {
        -1.0
    } else {
        1.0
    }
}

/// The maps of a solved scene: the electrode from above and each slice's fields.
/// `net_sign` is [`along_net_current`] of the run's total current.
pub fn field_maps(
    mesh: &TetMesh,
    fields: &Fields,
    media: &Media,
    electrode_nodes: &[u32],
    scene: &Scene,
    net_sign: f64,
) -> Vec<Map> {
    let pixels = scene.output.map_pixels;
    let (lo, hi) = mesh.bounding_box();
    let mut maps = vec![electrode_map(
        mesh,
        fields,
        electrode_nodes,
        scene,
        net_sign,
        PixelGrid::covering([lo[0], hi[0]], [lo[1], hi[1]], pixels),
    )];
    let data = (fields, media, mesh.regions.as_slice());
    // The cells of a Donnan jump (`Fields::charge_interface`) recover the field on their own.
    let mut field_regions = mesh.regions.clone();
    for (r, _) in field_regions.iter_mut().zip(&fields.charge_interface).filter(|(_, jump)| **jump) {
        *r = u8::MAX;
    }
    let recovered =
        (Recovered::new(mesh, &fields.field, field_regions), Recovered::new(mesh, &fields.current_density, mesh.regions.clone()));
    let recovered = (&recovered.0, &recovered.1);
    for (k, plane) in slice_planes(scene, mesh).iter().enumerate() {
        let plane = Plane { normal_axis: plane.normal.index(), at: plane.at_m };
        let [a, b] = plane.axes();
        let located = sample::slice(mesh, plane, PixelGrid::covering([lo[a], hi[a]], [lo[b], hi[b]], pixels));
        maps.extend(slice_maps(&located, plane, (&format!("slice{}", k + 1), ""), data, recovered, &scene.name));
        if let Some((u, v)) = zoom_window(scene, mesh, plane) {
            let located = sample::slice(mesh, plane, PixelGrid::covering(u, v, pixels));
            maps.extend(slice_maps(&located, plane, (&format!("zoom{}", k + 1), ZOOM_TITLE), data, recovered, &scene.name));
        }
    }
    maps
}

/// The cut planes of a scene: its own, or one through the first protrusion's axis (the mesh's
/// centre when there is none), normal to y.
pub fn slice_planes(scene: &Scene, mesh: &TetMesh) -> Vec<SlicePlane> {
    if !scene.output.slices.is_empty() {
        return scene.output.slices.clone();
    }
    let at_m = match scene.geometry.all_protrusions().first() {
        Some((_, p)) => p.center()[1],
        None => {
            let (lo, hi) = mesh.bounding_box();
            0.5 * (lo[1] + hi[1])
        }
    };
    vec![SlicePlane { normal: Axis::Y, at_m }]
}

/// The electrode map alone (`electrode_current_density.png` of [`field_maps`]), over the mesh's
/// footprint: a growth run's animation frames.
pub fn electrode_footprint_map(mesh: &TetMesh, fields: &Fields, electrode_nodes: &[u32], scene: &Scene, net_sign: f64) -> Map {
    let (lo, hi) = mesh.bounding_box();
    let grid = PixelGrid::covering([lo[0], hi[0]], [lo[1], hi[1]], scene.output.map_pixels);
    electrode_map(mesh, fields, electrode_nodes, scene, net_sign, grid)
}

fn electrode_map(mesh: &TetMesh, fields: &Fields, electrode_nodes: &[u32], scene: &Scene, net_sign: f64, grid: PixelGrid) -> Map {
    let mut nodal = vec![f64::NAN; mesh.nodes.len()];
    for (&n, v) in electrode_nodes.iter().zip(&fields.electrode_smoothed) {
        nodal[n as usize] = net_sign * v;
    }
    let located = sample::from_above(mesh, grid);
    let quantity = electrode_quantity(net_sign);
    Map {
        file: "electrode_current_density.png".into(),
        title: format!("{}: electrode current density, seen from above", scene.name),
        quantity: quantity.into(),
        axes: ["x", "y"],
        grid,
        values: located.nodal(&nodal),
        arrows: Vec::new(),
        scale: None,
        regions: Vec::new(),
        isolines: false,
    }
}

/// What the electrode pictures show: the current density along the net current.
pub fn electrode_quantity(net_sign: f64) -> &'static str {
    match net_sign < 0.0 {
        true => "plating current density, −i·n (A/m²)",
        false => "normal current density i·n, anodic positive (A/m²)",
    }
}

/// Size of the 3D view's image, pixels.
const VIEW_SIZE: (usize, usize) = (900, 600);

/// `electrode_3d.png`: the electrode surface in perspective ([`view3d`]), coloured by the same
/// current density as the electrode map (along the net current), lit; and
/// `electrode_3d_zoom.png`: the surface within [`ZOOM_SPAN`] reaches of the first protrusion's
/// axis, where that disc is less than half the electrode's width. Both share one colour range
/// when drawn from one run ([`views_range`]). Rasterized by the render pipeline of `gpu` where
/// one is given ([`view3d_gpu`]), else (or if that fails, with a warning) on the CPU.
pub fn electrode_views(
    mesh: &TetMesh,
    fields: &Fields,
    electrode_nodes: &[u32],
    scene: &Scene,
    net_sign: f64,
    gpu: Option<&GpuContext>,
) -> Vec<View> {
    let mut local = vec![u32::MAX; mesh.nodes.len()];
    for (i, &n) in electrode_nodes.iter().enumerate() {
        local[n as usize] = i as u32;
    }
    let points: Vec<glam::DVec3> = electrode_nodes.iter().map(|&n| mesh.nodes[n as usize]).collect();
    let tris: Vec<[u32; 3]> = mesh.faces_with(BoundaryTag::Electrode).map(|f| mesh.faces[f].map(|n| local[n as usize])).collect();
    let values: Vec<f64> = fields.electrode_smoothed.iter().map(|v| net_sign * v).collect();
    let view = |file: &str, tris: &[[u32; 3]], what: &str, window: Option<view3d::Disc>| {
        let keep = |p: glam::DVec3| window.is_none_or(|d| d.contains(p));
        let used: Vec<glam::DVec3> = tris.iter().flatten().map(|&n| points[n as usize]).filter(|p| keep(*p)).collect();
        let camera = view3d::Camera::framing(&used, VIEW_SIZE.0, VIEW_SIZE.1);
        let on_gpu = gpu.map(|ctx| view3d_gpu::render(ctx, &points, tris, &values, &camera, window));
        let raster = match on_gpu {
            Some(Ok(raster)) => raster,
            Some(Err(e)) => {
                crate::progress::warn(&format!("{file}: the GPU render failed ({e}); drawn on the CPU"));
                view3d::render(&points, tris, &values, &camera, &keep)
            }
            None => view3d::render(&points, tris, &values, &camera, &keep),
        };
        View {
            file: file.to_string(),
            title: format!("{}: {what}, coloured by the current density", scene.name),
            quantity: electrode_quantity(net_sign),
            raster,
        }
    };
    let mut views = vec![view("electrode_3d.png", &tris, "electrode surface", None)];
    if let Some((_, p)) = scene.geometry.all_protrusions().into_iter().next() {
        let disc = view3d::Disc { centre: p.center(), radius: ZOOM_SPAN * p.reach() };
        let (lo, hi) = mesh.bounding_box();
        // The surface within the disc (the triangles touching it, cut at its rim).
        let near = |t: &[u32; 3]| {
            let x = t.map(|n| points[n as usize]);
            let c = (x[0] + x[1] + x[2]) / 3.0;
            let [cx, cy] = disc.centre;
            (c.x - cx).hypot(c.y - cy) <= disc.radius + x.iter().map(|p| (*p - c).length()).fold(0.0, f64::max)
        };
        let zoomed: Vec<[u32; 3]> = tris.iter().copied().filter(near).collect();
        if 2.0 * disc.radius < 0.5 * (hi[0] - lo[0]).min(hi[1] - lo[1]) && !zoomed.is_empty() {
            views.push(view("electrode_3d_zoom.png", &zoomed, "the first protrusion", Some(disc)));
        }
    }
    views
}

/// One colour range over all `views` (the whole electrode's, which holds the zoom's).
pub fn views_range(views: &[View]) -> Option<[f64; 2]> {
    views.iter().filter_map(|v| v.range()).reduce(|a, b| [a[0].min(b[0]), a[1].max(b[1])])
}

pub use crate::scene::file_safe;

/// Arrows on a lattice every 32 pixels, from the element vector field `cell` projected on the
/// plane.
fn arrows(located: &Located, plane: Plane, cell: &[glam::DVec3]) -> Vec<Arrow> {
    let grid = located.grid;
    let [a, b] = plane.axes();
    let step = 32;
    let mut out = Vec::new();
    for j in (step / 2..grid.height).step_by(step) {
        for i in (step / 2..grid.width).step_by(step) {
            if let Some(p) = located.at(i, j) {
                let v = cell[p.element as usize].to_array();
                out.push(Arrow { tail: grid.centre(i, j), vector: [v[a], v[b]] });
            }
        }
    }
    out
}

/// Title ending of the zoomed maps.
const ZOOM_TITLE: &str = ", near the first protrusion";

/// The zoom window spans this many reaches of the first protrusion on each side of its axis,
/// and this many heights (or its height plus this many coating thicknesses) above the plane.
const ZOOM_SPAN: f64 = 2.5;

/// The window of the zoomed maps of a vertical cut plane through the first protrusion, in plane
/// coordinates (m): `ZOOM_SPAN` reaches either side of its axis, from the bottom of the domain to
/// `ZOOM_SPAN` times its height or its height and `ZOOM_SPAN` times the coating's thickness,
/// whichever is higher. None for a horizontal plane, a plane that misses the protrusion, no
/// protrusion, or a window that would not be less than half the slice either way.
fn zoom_window(scene: &Scene, mesh: &TetMesh, plane: Plane) -> Option<([f64; 2], [f64; 2])> {
    let [a, b] = plane.axes();
    if b != 2 {
        return None; // a horizontal plane
    }
    let (_, p) = scene.geometry.all_protrusions().into_iter().next()?;
    let centre = p.center();
    if (centre[plane.normal_axis] - plane.at).abs() >= p.reach() {
        return None;
    }
    let (lo, hi) = mesh.bounding_box();
    let coating: f64 = scene.geometry.layers.iter().map(|l| l.thickness_m).sum();
    let top = (ZOOM_SPAN * p.height()).max(p.height() + ZOOM_SPAN * coating);
    let half = (ZOOM_SPAN * p.reach()).max(0.5 * top);
    let u = [(centre[a] - half).max(lo[a]), (centre[a] + half).min(hi[a])];
    let v = [lo[2], (lo[2] + top).min(hi[2])];
    let smaller = (u[1] - u[0]) < 0.5 * (hi[a] - lo[a]) || (v[1] - v[0]) < 0.5 * (hi[2] - lo[2]);
    smaller.then_some((u, v))
}

/// The maps of one cut plane, files `<prefix>_<field>.png` (`region_ids`: the mesh's region
/// per tetrahedron, for outlines).
fn slice_maps(
    located: &Located,
    plane: Plane,
    (prefix, title_tail): (&str, &str),
    (fields, media, region_ids): (&Fields, &Media, &[u8]),
    (field, current): (&Recovered, &Recovered),
    scene: &str,
) -> Vec<Map> {
    let axis_names = ["x", "y", "z"];
    let [a, b] = plane.axes();
    let place = format!("{} = {} µm", axis_names[plane.normal_axis], render::number(plane.at * 1e6));
    let regions = located.regions(region_ids);
    let map = |field: &str, what: &str, quantity: &str, values: Vec<f64>, arrows: Vec<Arrow>| Map {
        file: format!("{prefix}_{field}.png"),
        title: format!("{scene}: {what}, plane {place}{title_tail}"),
        quantity: quantity.into(),
        axes: [axis_names[a], axis_names[b]],
        grid: located.grid,
        values,
        arrows,
        scale: None,
        regions: regions.clone(),
        isolines: false,
    };
    let smooth = |m: Map| Map { isolines: true, ..m };
    let mut maps = vec![
        smooth(map("potential", "electrolyte potential", "potential (V)", located.nodal(&fields.potential), Vec::new())),
        field_magnitude_map(located, fields, field.magnitude_at(located), map),
        map(
            "current_density",
            "current density and its direction",
            "|i| (A/m²)",
            current.magnitude_at(located),
            arrows(located, plane, &fields.current_density),
        ),
    ];
    for (name, c) in &fields.concentrations {
        maps.push(smooth(map(
            &format!("concentration_{}", file_safe(name)),
            &format!("{name} concentration"),
            &format!("c({name}) (mol/m³)"),
            located.nodal(c),
            Vec::new(),
        )));
    }
    if let (Some(solid), Some(layer)) = (&fields.solid_potential, &media.solid) {
        let values = located.nodal_within(solid, &layer.in_layer);
        maps.push(smooth(map("solid_potential", "scaffold (solid) potential", "potential (V)", values, Vec::new())));
    }
    maps
}

/// |E| (`values`: recovered, per pixel). Where a charged layer's faces carry a Donnan jump
/// within a cell (a 1/h field, `Fields::charge_interface`), the colour range is that of the
/// pixels in other cells, the jump's cells are drawn at its top, and the title says so:
/// otherwise those few cells would set the scale and leave the rest of the map one colour.
fn field_magnitude_map(
    located: &Located,
    fields: &Fields,
    values: Vec<f64>,
    map: impl Fn(&str, &str, &str, Vec<f64>, Vec<Arrow>) -> Map,
) -> Map {
    if fields.charge_interface.is_empty() {
        return map("field_magnitude", "electric field", "|E| (V/m)", values, Vec::new());
    }
    let at_interface = located.per_element(&fields.charge_interface.iter().map(|&b| f64::from(u8::from(b))).collect::<Vec<_>>());
    let away: Vec<f64> = values.iter().zip(&at_interface).map(|(&v, &i)| if i == 0.0 { v } else { f64::NAN }).collect();
    let what = "electric field (charged-layer interface cells above the scale)";
    Map { scale: render::finite_range(&away), ..map("field_magnitude", what, "|E| (V/m)", values, Vec::new()) }
}

/// Line plots of a transient run: electrode potential and the smallest surface concentration of
/// each species against time. `rows` are (time s, electrode potential V, min surface
/// concentrations mol/m^3 in the order of `species`). Returns (file name, bytes).
pub fn transient_plots(
    scene: &str,
    species: &[String],
    rows: &[(f64, f64, &[f64])],
    look: &Look,
) -> Result<Vec<(String, Vec<u8>)>> {
    let potential = [Series { name: "E", points: rows.iter().map(|r| (r.0, r.1)).collect() }];
    let concentrations: Vec<Series> = species
        .iter()
        .enumerate()
        .map(|(k, name)| Series { name, points: rows.iter().map(|r| (r.0, r.2[k])).collect() })
        .collect();
    let mut files = look.line_plot(
        "transient_electrode_potential",
        &format!("{scene}: electrode potential"),
        "time (s)",
        "electrode potential (V)",
        &potential,
    )?;
    files.extend(look.line_plot(
        "transient_min_surface_concentration",
        &format!("{scene}: lowest concentration on the electrode"),
        "time (s)",
        "min surface concentration (mol/m³)",
        &concentrations,
    )?);
    Ok(files)
}
