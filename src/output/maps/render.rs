//! Drawing maps and plots with plotters, as PNG (an in-memory bitmap) or SVG.
//!
//! Every figure carries a title, axes labelled with quantity and unit, and, for maps, a colour bar
//! with the field's unit. Maps are drawn one data pixel per image pixel, so the picture keeps the
//! geometry's aspect ratio, and the axes in micrometres are the length scale. The colour map is
//! viridis (perceptually uniform, readable in grey and by colour-blind readers); pixels outside
//! the electrolyte are light grey. Text uses the DejaVu Sans font shipped in `assets/fonts`, so
//! nothing is taken from the system.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::overlay;
use super::sample::PixelGrid;
use super::units::{shown, Shown};
use super::view3d::Raster;
use crate::error::{Error, Result};
use crate::scene::figures::FigureUnits;

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

pub(super) const FAMILY: &str = "sans-serif";
pub(super) const TITLE_HEIGHT: u32 = 44;
const COLOUR_BAR_WIDTH: u32 = 150;
pub(super) const Y_LABELS: u32 = 78;
pub(super) const X_LABELS: u32 = 52;
pub(super) const MARGIN: u32 = 12;
const TITLE_SIZE: u32 = 20;
/// Colour of pixels where the plane misses the electrolyte (zinc, solid scaffold, outside).
const EMPTY: RGBColor = RGBColor(205, 205, 205);
/// Colour of the outlines of surfaces and coating layers.
const OUTLINE: RGBColor = RGBColor(25, 25, 25);
/// Line plots mark each point of a series with at most this many points.
pub(super) const MAX_MARKED_POINTS: usize = 60;
/// About this many isolines on a map that has them.
const ISOLINES: usize = 8;

fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in; a failure here is a broken build, reported when drawing text.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

pub(super) fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::Plot(e.to_string())
}

/// A number with about three significant figures, in plain or scientific notation as suits.
pub fn number(v: f64) -> String {
    let magnitude = if v == 0.0 { 0.0 } else { v.abs().log10().floor() };
    let text = tick_label(v, 10f64.powf(magnitude - 2.0));
    if text.contains('.') && !text.contains('e') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A tick label for `v` on an axis whose ticks are `step` apart: as many decimals as tell
/// neighbouring ticks apart (a narrow colour range around 97.2 gets 97.196, 97.198, ...).
fn tick_label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor();
    let step = if step > 0.0 { step } else { v.abs() * 1e-3 };
    let step_magnitude = step.log10().floor();
    if (-3.0..5.0).contains(&magnitude) {
        let decimals = (-step_magnitude).clamp(0.0, 9.0) as usize;
        format!("{v:.decimals$}")
    } else {
        let decimals = (magnitude - step_magnitude).clamp(1.0, 9.0) as usize;
        format!("{v:.decimals$e}")
    }
}

/// The tick formatter of an axis over `range` with at most `count` ticks. Like plotters, it
/// assumes ticks 1, 2 or 5 times a power of ten apart: the smallest such step that fits.
pub(super) fn ticks(range: [f64; 2], count: usize) -> impl Fn(&f64) -> String {
    let fine = (range[1] - range[0]).abs() / count.max(1) as f64;
    let step = if fine > 0.0 {
        let power = 10f64.powf(fine.log10().floor());
        [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= fine * (1.0 - 1e-9)).unwrap_or(10.0 * power)
    } else {
        0.0
    };
    let span = (range[1] - range[0]).abs();
    move |v| {
        let magnitude = if *v == 0.0 { 0.0 } else { v.abs().log10().floor() };
        if !(-3.0..5.0).contains(&magnitude) {
            return tick_label(*v, step);
        }
        // Plotters picks the tick positions (its step can be finer than `step`): each label
        // gets the fewest decimals that write its value exactly, so neighbours never read
        // alike (1999.5 next to 2000, not 2000 twice).
        let exact = |d: usize| (v - format!("{v:.d$}").parse::<f64>().unwrap_or(*v)).abs() <= 1e-6 * span;
        let decimals = (0..=9).find(|&d| exact(d)).unwrap_or(9);
        format!("{v:.decimals$}")
    }
}

/// Below this spread (colour range over its mean magnitude) a map is called nearly uniform.
const NEARLY_UNIFORM: f64 = 0.01;

/// A note for the title of a map whose colour range is narrower than [`NEARLY_UNIFORM`] of its
/// mean, so that a 0.15% ripple drawn from purple to yellow is not read as a hot spot. Not for
/// potentials, whose zero is a choice of reference.
fn spread_note(quantity: &str, range: [f64; 2]) -> Option<String> {
    let (mean, span) = (0.5 * (range[0] + range[1]), range[1] - range[0]);
    let potential = quantity.ends_with("V)");
    (!potential && mean != 0.0 && span < NEARLY_UNIFORM * mean.abs())
        .then(|| format!("nearly uniform: the colours span {}% of the mean", number(100.0 * span / mean.abs())))
}

/// The colour of `value` on a viridis scale over `range`.
pub(super) fn colour(value: f64, range: [f64; 2]) -> RGBColor {
    let [lo, hi] = range;
    let s = if hi > lo { ((value - lo) / (hi - lo)).clamp(0.0, 1.0) } else { 0.5 };
    ViridisRGB.get_color_normalized(s, 0.0, 1.0)
}

/// The viridis colour map in 256 steps, for viewers that colour on their own (view.html).
pub fn viridis_table() -> Vec<[u8; 3]> {
    (0..256).map(|k| colour(k as f64, [0.0, 255.0])).map(|c| [c.0, c.1, c.2]).collect()
}

/// Finite minimum and maximum of `values`, or None when none is finite.
pub fn finite_range(values: &[f64]) -> Option<[f64; 2]> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    lo.is_finite().then_some([lo, hi])
}

/// An arrow in plane coordinates (m): tail and in-plane vector, drawn with a length relative to
/// the longest arrow of the map.
#[derive(Debug, Clone, Copy)]
pub struct Arrow {
    pub tail: [f64; 2],
    pub vector: [f64; 2],
}

/// What a map shows.
pub struct MapSpec<'a> {
    pub title: &'a str,
    /// Quantity and unit of the colour bar, e.g. "potential (V)".
    pub quantity: &'a str,
    /// Names of the horizontal and vertical axes, e.g. ["x", "z"].
    pub axes: [&'a str; 2],
    /// Colour range; values outside are clamped to the ends.
    pub range: [f64; 2],
    pub arrows: &'a [Arrow],
    /// Region per pixel, outlined where it changes (empty: no outlines).
    pub regions: &'a [i32],
    /// Isolines at round levels of the colour range.
    pub isolines: bool,
    /// Units the colour bar shows.
    pub units: &'a FigureUnits,
    /// The range is the user's (`output.colour_range`), not the values' own.
    pub fixed_range: bool,
}

/// The file formats of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    /// Text, axes, arrows and lines as vectors; a map's or view's pixels as an embedded PNG.
    Svg,
}

impl Format {
    /// The file name ending, with its dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => ".png",
            Format::Svg => ".svg",
        }
    }
}

/// PNG of an RGB buffer, top row first.
fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(plot_error)?;
    writer.write_image_data(rgb).map_err(plot_error)?;
    writer.finish().map_err(plot_error)?;
    Ok(bytes)
}

/// Pixels of a figure drawn as an image (a map's field, a rendered view): RGB, top row first,
/// placed with its upper left corner at `at` (figure pixels).
pub(super) struct Layer {
    at: (i32, i32),
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Layer {
    /// Paints the pixels on `area` (whose upper left corner is `at`).
    fn paint<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        for (k, c) in self.rgb.chunks_exact(3).enumerate() {
            let (i, j) = (k as u32 % self.width, k as u32 / self.width);
            area.draw_pixel((i as i32, j as i32), &RGBColor(c[0], c[1], c[2])).map_err(plot_error)?;
        }
        Ok(())
    }

    /// The pixels as an SVG image element, one image pixel per figure pixel, not smoothed.
    fn svg_image(&self) -> Result<String> {
        let png = encode_png(self.width, self.height, &self.rgb)?;
        Ok(format!(
            "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" \
             style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{}\"/>",
            self.at.0,
            self.at.1,
            self.width,
            self.height,
            BASE64.encode(png)
        ))
    }
}

/// A figure that draws itself on any plotters backend.
pub(super) trait Drawing {
    /// Size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws on `root`. A figure with a pixel layer paints it where `paint` holds (bitmaps)
    /// and returns it (an SVG embeds it as an image beneath the vector drawing).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, paint: bool) -> Result<Option<Layer>>;
}

/// `drawing` in `format`.
pub(super) fn figure(drawing: &impl Drawing, format: Format) -> Result<Vec<u8>> {
    register_font();
    let (width, height) = drawing.size();
    match format {
        Format::Png => {
            let mut rgb = vec![255; (width * height * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
                drawing.draw(&root, true)?;
                root.present().map_err(plot_error)?;
            }
            encode_png(width, height, &rgb)
        }
        Format::Svg => {
            let mut svg = String::new();
            let layer = {
                let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
                let layer = drawing.draw(&root, false)?;
                root.present().map_err(plot_error)?;
                layer
            };
            // A white page, then the layer, then everything plotters drew (which has no
            // background of its own), right after the opening tag.
            let open =
                svg.find("<svg").and_then(|a| svg[a..].find('>').map(|b| a + b + 1)).ok_or_else(|| plot_error("no <svg> tag"))?;
            let mut under = format!("\n<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n");
            if let Some(layer) = layer {
                under.push_str(&layer.svg_image()?);
            }
            svg.insert_str(open, &under);
            Ok(svg.into_bytes())
        }
    }
}

/// The map's title with its notes, its colour bar's quantity and range in the shown unit, and
/// the figure's size.
struct MapLayout {
    title: String,
    bar: Shown,
    bar_range: [f64; 2],
    map_w: u32,
    size: (u32, u32),
}

/// A field map: `values` per pixel of `grid` (NaN where empty) and its colour bar.
struct MapDrawing<'a> {
    grid: &'a PixelGrid,
    values: &'a [f64],
    spec: &'a MapSpec<'a>,
    layout: MapLayout,
}

impl<'a> MapDrawing<'a> {
    fn new(grid: &'a PixelGrid, values: &'a [f64], spec: &'a MapSpec<'a>) -> Self {
        let (data_w, data_h) = (grid.width as u32, grid.height as u32);
        let map_w = data_w + Y_LABELS + 2 * MARGIN;
        let stretch = grid.stretch();
        let mut title = if (stretch - 1.0).abs() > 0.01 {
            let direction = if stretch > 1.0 { "horizontally" } else { "vertically" };
            format!("{} (stretched {direction} x{})", spec.title, number(stretch.max(1.0 / stretch)))
        } else {
            spec.title.to_string()
        };
        let bar = shown(spec.quantity, spec.range, spec.units);
        let bar_range = spec.range.map(|v| v * bar.factor);
        if let Some(note) = spread_note(&bar.quantity, bar_range) {
            title = format!("{title} ({note})");
        }
        if spec.fixed_range && finite_range(values).is_some_and(|[lo, hi]| lo < spec.range[0] || hi > spec.range[1]) {
            title = format!("{title} (values beyond the fixed colour range are drawn at its ends)");
        }
        let width = (map_w + COLOUR_BAR_WIDTH).max(title_width(&title));
        let height = TITLE_HEIGHT + data_h + X_LABELS + 2 * MARGIN;
        MapDrawing { grid, values, spec, layout: MapLayout { title, bar, bar_range, map_w, size: (width, height) } }
    }

    /// The map's pixels: the field's colours (light grey where empty), isolines blended 60%
    /// toward white so that the colours stay readable beneath them, and outlines.
    fn pixels(&self) -> Vec<u8> {
        let (grid, values, spec) = (self.grid, self.values, self.spec);
        let mut rgb = vec![0u8; grid.width * grid.height * 3];
        let mut set = |k: usize, RGBColor(r, g, b): RGBColor| {
            // value k counts rows from the bottom; the layer's rows run from the top
            let (i, j) = (k % grid.width, grid.height - 1 - k / grid.width);
            rgb[3 * (j * grid.width + i)..3 * (j * grid.width + i) + 3].copy_from_slice(&[r, g, b]);
        };
        for (k, &value) in values.iter().enumerate() {
            set(k, if value.is_finite() { colour(value, spec.range) } else { EMPTY });
        }
        if spec.isolines {
            let levels = overlay::levels(spec.range, ISOLINES);
            for (k, _) in overlay::isolines(grid.width, grid.height, values, &levels).iter().enumerate().filter(|(_, on)| **on) {
                let RGBColor(r, g, b) = colour(values[k], spec.range);
                let lighten = |c: u8| (f64::from(c) + 0.6 * (255.0 - f64::from(c))).round() as u8;
                set(k, RGBColor(lighten(r), lighten(g), lighten(b)));
            }
        }
        if !spec.regions.is_empty() {
            for (k, _) in overlay::outline(grid.width, grid.height, spec.regions).iter().enumerate().filter(|(_, on)| **on) {
                set(k, OUTLINE);
            }
        }
        rgb
    }
}

impl Drawing for MapDrawing<'_> {
    fn size(&self) -> (u32, u32) {
        self.layout.size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, paint: bool) -> Result<Option<Layer>> {
        let (grid, spec, layout) = (self.grid, self.spec, &self.layout);
        let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
        draw_title(&title_area, &layout.title)?;
        let (map_area, rest) = body.split_horizontally(layout.map_w);
        let (bar_area, _) = rest.split_horizontally(COLOUR_BAR_WIDTH);
        let [u0, u1, v0, v1] = grid.extent().map(|m| m * 1e6);
        let mut chart = ChartBuilder::on(&map_area)
            .margin(MARGIN)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(u0..u1, v0..v1)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(format!("{} (µm)", spec.axes[0]))
            .y_desc(format!("{} (µm)", spec.axes[1]))
            .x_labels((grid.width / 70).clamp(2, 10))
            .x_label_formatter(&ticks([u0, u1], 10))
            .y_label_formatter(&ticks([v0, v1], 10))
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 17))
            .draw()
            .map_err(plot_error)?;
        let pixels = chart.plotting_area().strip_coord_spec();
        let (x, y) = pixels.get_base_pixel();
        let layer = Layer { at: (x, y), width: grid.width as u32, height: grid.height as u32, rgb: self.pixels() };
        if paint {
            layer.paint(&pixels)?;
        }
        draw_arrows(&pixels, grid, spec.arrows, self.values)?;
        draw_colour_bar(&bar_area, &layout.bar.quantity, layout.bar_range, grid.height as u32)?;
        Ok(Some(layer))
    }
}

/// A field map (`values` per pixel of `grid`, NaN where empty) with its colour bar, in `format`.
pub fn map_figure(grid: &PixelGrid, values: &[f64], spec: &MapSpec, format: Format) -> Result<Vec<u8>> {
    figure(&MapDrawing::new(grid, values, spec), format)
}

/// A rendered 3D view ([`super::view3d`]): each pixel the viridis colour of its value over
/// `range` times its light, white background, with the title and a colour bar.
struct ViewDrawing<'a> {
    title: String,
    raster: &'a Raster,
    bar: Shown,
    range: [f64; 2],
}

impl Drawing for ViewDrawing<'_> {
    fn size(&self) -> (u32, u32) {
        let (w, h) = (self.raster.width as u32, self.raster.height as u32);
        ((w + COLOUR_BAR_WIDTH).max(title_width(&self.title)), TITLE_HEIGHT + h + X_LABELS + 2 * MARGIN)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, paint: bool) -> Result<Option<Layer>> {
        let raster = self.raster;
        let (w, h) = (raster.width as u32, raster.height as u32);
        let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
        draw_title(&title_area, &self.title)?;
        let (left, rest) = body.split_horizontally(w);
        let (_, area) = left.split_vertically(MARGIN);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        for (k, (&v, &light)) in raster.value.iter().zip(&raster.light).enumerate() {
            if v.is_finite() {
                let RGBColor(r, g, b) = colour(v, self.range);
                let shade = |c: u8| (f64::from(c) * light).round() as u8;
                rgb[3 * k..3 * k + 3].copy_from_slice(&[shade(r), shade(g), shade(b)]);
            }
        }
        let layer = Layer { at: area.get_base_pixel(), width: w, height: h, rgb };
        if paint {
            layer.paint(&area)?;
        }
        let (bar_area, _) = rest.split_horizontally(COLOUR_BAR_WIDTH);
        draw_colour_bar(&bar_area, &self.bar.quantity, self.range.map(|v| v * self.bar.factor), h)?;
        Ok(Some(layer))
    }
}

/// A rendered 3D view ([`super::view3d`]) with its title and a colour bar over `range`, in
/// `format`.
pub fn view_figure(
    title: &str,
    raster: &Raster,
    quantity: &str,
    range: [f64; 2],
    units: &FigureUnits,
    format: Format,
) -> Result<Vec<u8>> {
    let bar = shown(quantity, range, units);
    let title = match spread_note(&bar.quantity, range.map(|v| v * bar.factor)) {
        Some(note) => format!("{title} ({note})"),
        None => title.to_string(),
    };
    figure(&ViewDrawing { title, raster, bar, range }, format)
}

/// Image width that fits `title` with margins, pixels.
fn title_width(title: &str) -> u32 {
    register_font();
    let measured = (FAMILY, TITLE_SIZE).into_font().box_size(title).map(|(w, _)| w);
    measured.unwrap_or(12 * title.len() as u32) + 3 * MARGIN
}

pub(super) fn draw_title<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str) -> Result<()> {
    let style = TextStyle::from((FAMILY, TITLE_SIZE).into_font()).color(&BLACK);
    area.draw_text(title, &style, (MARGIN as i32, 12)).map_err(plot_error)
}

/// Arrows in pixel units (so they point along the field on a stretched map too), scaled so the
/// longest is 28 pixels; those shorter than 2 pixels are left out.
fn draw_arrows<DB: DrawingBackend>(
    pixels: &DrawingArea<DB, Shift>,
    grid: &PixelGrid,
    arrows: &[Arrow],
    values: &[f64],
) -> Result<()> {
    let in_pixels = |a: &Arrow| (a.vector[0] / grid.du, -a.vector[1] / grid.dv);
    let longest = arrows.iter().map(|a| in_pixels(a).0.hypot(in_pixels(a).1)).fold(0.0, f64::max);
    if longest <= 0.0 {
        return Ok(());
    }
    let to_pixel = |p: [f64; 2]| ((p[0] - grid.u0) / grid.du, grid.height as f64 - (p[1] - grid.v0) / grid.dv);
    let style = ShapeStyle::from(&WHITE).stroke_width(1);
    let scale = 28.0 / longest;
    for a in arrows {
        let (dx, dy) = in_pixels(a);
        let (dx, dy) = (dx * scale, dy * scale);
        let length = dx.hypot(dy);
        if length < 2.0 {
            continue;
        }
        let (x0, y0) = to_pixel(a.tail);
        // Clipped to the electrolyte: an arrow pointing into the zinc (or a fibre) ends where
        // the map's values end.
        let eighths = (0..=8).map(|k| f64::from(k) / 8.0);
        let shown = eighths.take_while(|f| inside(grid, values, x0 + f * dx, y0 + f * dy)).last();
        let Some(shown) = shown else { continue };
        let (dx, dy, length) = (dx * shown, dy * shown, length * shown);
        if length < 2.0 {
            continue;
        }
        let (x1, y1) = (x0 + dx, y0 + dy);
        let (ux, uy) = (dx / length, dy / length);
        let head = 5.0_f64.min(0.5 * length);
        let barb =
            |side: f64| ((x1 - head * ux + side * 0.5 * head * uy) as i32, (y1 - head * uy - side * 0.5 * head * ux) as i32);
        let tip = (x1 as i32, y1 as i32);
        for path in [vec![(x0 as i32, y0 as i32), tip], vec![barb(1.0), tip, barb(-1.0)]] {
            pixels.draw(&PathElement::new(path, style)).map_err(plot_error)?;
        }
    }
    Ok(())
}

/// Whether the drawing position (x, y) (pixels from the upper left) falls on a pixel of the map
/// with a value (inside the electrolyte).
fn inside(grid: &PixelGrid, values: &[f64], x: f64, y: f64) -> bool {
    let (i, j) = (x.floor(), grid.height as f64 - 1.0 - y.floor());
    let within = (0.0..grid.width as f64).contains(&i) && (0.0..grid.height as f64).contains(&j);
    within && values[j as usize * grid.width + i as usize].is_finite()
}

/// A vertical colour bar over `range` with ticks and the quantity as its label.
fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    quantity: &str,
    range: [f64; 2],
    data_h: u32,
) -> Result<()> {
    let [lo, hi] = if range[1] > range[0] { range } else { [range[0] - 0.5, range[0] + 0.5] };
    let mut chart = ChartBuilder::on(area)
        .margin_top(MARGIN)
        .margin_bottom(MARGIN + X_LABELS)
        .margin_left(4)
        .margin_right(MARGIN)
        .set_label_area_size(LabelAreaPosition::Right, COLOUR_BAR_WIDTH - 40)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        // Tick marks long enough to stand apart from the labels (plotters sets labels twice the
        // tick length off the axis; the default's 1-2 px made a tick read as a decimal point).
        .set_all_tick_mark_size(5)
        .y_desc(quantity)
        .y_labels(6)
        .y_label_formatter(&ticks([lo, hi], 6))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(plot_error)?;
    let bar = chart.plotting_area().strip_coord_spec();
    let (w, h) = bar.dim_in_pixel();
    let h = h.min(data_h).max(1);
    for y in 0..h {
        let value = hi - (hi - lo) * (y as f64 + 0.5) / h as f64;
        let c = colour(value, [lo, hi]);
        bar.draw(&Rectangle::new([(0, y as i32), (w as i32, y as i32 + 1)], c.filled())).map_err(plot_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_about_three_significant_figures() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1.0), "1");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(-0.0123), "-0.0123");
        assert_eq!(number(250.0), "250");
        assert_eq!(number(1.5e-5), "1.50e-5");
        assert_eq!(number(2.0e6), "2.00e6");
    }

    #[test]
    fn tick_labels_tell_neighbouring_ticks_apart() {
        let label = ticks([97.19, 97.21], 5);
        assert_ne!(label(&97.196), label(&97.2));
        assert_eq!(label(&97.196), "97.196");
        let wide = ticks([0.0, 5e4], 5);
        assert_eq!(wide(&2e4), "20000");
        let huge = ticks([0.0, 5e6], 5);
        assert_eq!(huge(&2e6), "2.0e6");
        let metres = ticks([-4.0, 4.0], 10);
        assert_eq!(metres(&-2.0), "-2", "plotters picks whole micrometres here");
        let coarse = ticks([1995.6, 2001.4], 10);
        assert_eq!((coarse(&1999.5), coarse(&2000.0)), ("1999.5".to_string(), "2000".to_string()), "a finer step than assumed");
    }

    #[test]
    fn narrow_ranges_are_called_nearly_uniform() {
        let note = spread_note("current density (A/m²)", [97.15, 97.29]).expect("0.14% spread");
        assert_eq!(note, "nearly uniform: the colours span 0.144% of the mean");
        assert_eq!(spread_note("current density (A/m²)", [50.0, 150.0]), None);
        assert_eq!(spread_note("potential (mV)", [-12.5, -12.49]), None, "a potential's zero is a choice");
    }

    #[test]
    fn colours_run_from_dark_purple_to_yellow() {
        let low = colour(0.0, [0.0, 1.0]);
        let high = colour(1.0, [0.0, 1.0]);
        assert_eq!((low.0, low.1, low.2), (68, 1, 84));
        assert_eq!((high.0, high.1, high.2), (254, 232, 37));
        assert_eq!(colour(5.0, [0.0, 1.0]), high, "values above the range clamp to its top");
    }
}
