//! Drawing maps and plots as PNG with plotters on an in-memory bitmap.
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

use super::overlay;
use super::sample::PixelGrid;
use super::view3d::Raster;
use crate::error::{Error, Result};

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

const FAMILY: &str = "sans-serif";
const TITLE_HEIGHT: u32 = 44;
const COLOUR_BAR_WIDTH: u32 = 150;
const Y_LABELS: u32 = 78;
const X_LABELS: u32 = 52;
const MARGIN: u32 = 12;
const TITLE_SIZE: u32 = 20;
/// Colour of pixels where the plane misses the electrolyte (zinc, solid scaffold, outside).
const EMPTY: RGBColor = RGBColor(205, 205, 205);
/// Colour of the outlines of surfaces and coating layers.
const OUTLINE: RGBColor = RGBColor(25, 25, 25);
/// Line plots mark each point of a series with at most this many points.
const MAX_MARKED_POINTS: usize = 60;
/// About this many isolines on a map that has them.
const ISOLINES: usize = 8;

fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in; a failure here is a broken build, reported when drawing text.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

fn plot_error(e: impl std::fmt::Display) -> Error {
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
fn ticks(range: [f64; 2], count: usize) -> impl Fn(&f64) -> String {
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

/// The colour bar's quantity and range in a readable unit: a potential whose largest magnitude
/// is below 0.1 V in mV, below 0.1 mV in µV (ticks read 12.5 mV, not 0.0125 or 1.25e-2 V).
fn readable_unit(quantity: &str, range: [f64; 2]) -> (String, [f64; 2]) {
    let largest = range[0].abs().max(range[1].abs());
    match quantity.strip_suffix("(V)") {
        Some(stem) if largest > 0.0 && largest < 0.1 => {
            let (factor, unit) = if largest < 1e-4 { (1e6, "µV") } else { (1e3, "mV") };
            (format!("{stem}({unit})"), range.map(|v| v * factor))
        }
        _ => (quantity.to_string(), range),
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
fn colour(value: f64, range: [f64; 2]) -> RGBColor {
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
}

/// RGB buffer of a figure, encoded to PNG at the end.
struct Canvas {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Self {
        register_font();
        Self { width, height, rgb: vec![255; (width * height * 3) as usize] }
    }

    fn png(&self) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(plot_error)?;
        writer.write_image_data(&self.rgb).map_err(plot_error)?;
        writer.finish().map_err(plot_error)?;
        Ok(bytes)
    }
}

/// Renders a field map (`values` per pixel of `grid`, NaN where empty) with its colour bar.
pub fn map_png(grid: &PixelGrid, values: &[f64], spec: &MapSpec) -> Result<Vec<u8>> {
    let (data_w, data_h) = (grid.width as u32, grid.height as u32);
    let map_w = data_w + Y_LABELS + 2 * MARGIN;
    let stretch = grid.stretch();
    let mut title = if (stretch - 1.0).abs() > 0.01 {
        let direction = if stretch > 1.0 { "horizontally" } else { "vertically" };
        format!("{} (stretched {direction} x{})", spec.title, number(stretch.max(1.0 / stretch)))
    } else {
        spec.title.to_string()
    };
    let (bar_quantity, bar_range) = readable_unit(spec.quantity, spec.range);
    if let Some(note) = spread_note(&bar_quantity, bar_range) {
        title = format!("{title} ({note})");
    }
    let width = (map_w + COLOUR_BAR_WIDTH).max(title_width(&title));
    let height = TITLE_HEIGHT + data_h + X_LABELS + 2 * MARGIN;
    let mut canvas = Canvas::new(width, height);
    {
        let root = BitMapBackend::with_buffer(&mut canvas.rgb, (width, height)).into_drawing_area();
        let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
        draw_title(&title_area, &title)?;
        let (map_area, rest) = body.split_horizontally(map_w);
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
            .x_labels((data_w / 70).clamp(2, 10) as usize)
            .x_label_formatter(&ticks([u0, u1], 10))
            .y_label_formatter(&ticks([v0, v1], 10))
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 17))
            .draw()
            .map_err(plot_error)?;
        let pixels = chart.plotting_area().strip_coord_spec();
        for j in 0..grid.height {
            for i in 0..grid.width {
                let value = values[j * grid.width + i];
                let c = if value.is_finite() { colour(value, spec.range) } else { EMPTY };
                pixels.draw_pixel((i as i32, (grid.height - 1 - j) as i32), &c).map_err(plot_error)?;
            }
        }
        if spec.isolines {
            draw_isolines(&pixels, grid, values, spec.range)?;
        }
        if !spec.regions.is_empty() {
            for (k, _) in overlay::outline(grid.width, grid.height, spec.regions).iter().enumerate().filter(|(_, on)| **on) {
                let (i, j) = (k % grid.width, k / grid.width);
                pixels.draw_pixel((i as i32, (grid.height - 1 - j) as i32), &OUTLINE).map_err(plot_error)?;
            }
        }
        draw_arrows(&pixels, grid, spec.arrows, values)?;
        draw_colour_bar(&bar_area, &bar_quantity, bar_range, data_h)?;
        root.present().map_err(plot_error)?;
    }
    canvas.png()
}

/// A rendered 3D view ([`super::view3d`]) as PNG: each pixel the viridis colour of its value
/// over `range` times its light, white background, with the title and a colour bar.
pub fn view_png(title: &str, raster: &Raster, quantity: &str, range: [f64; 2]) -> Result<Vec<u8>> {
    let (w, h) = (raster.width as u32, raster.height as u32);
    let (bar_quantity, bar_range) = readable_unit(quantity, range);
    let title = match spread_note(&bar_quantity, bar_range) {
        Some(note) => format!("{title} ({note})"),
        None => title.to_string(),
    };
    let width = (w + COLOUR_BAR_WIDTH).max(title_width(&title));
    let height = TITLE_HEIGHT + h + X_LABELS + 2 * MARGIN;
    let mut canvas = Canvas::new(width, height);
    {
        let root = BitMapBackend::with_buffer(&mut canvas.rgb, (width, height)).into_drawing_area();
        let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
        draw_title(&title_area, &title)?;
        let (image, rest) = body.split_horizontally(w);
        for (k, (&v, &light)) in raster.value.iter().zip(&raster.light).enumerate() {
            if v.is_finite() {
                let RGBColor(r, g, b) = colour(v, range);
                let shade = |c: u8| (f64::from(c) * light).round() as u8;
                let at = ((k % raster.width) as i32, (k / raster.width) as i32 + MARGIN as i32);
                image.draw_pixel(at, &RGBColor(shade(r), shade(g), shade(b))).map_err(plot_error)?;
            }
        }
        let (bar_area, _) = rest.split_horizontally(COLOUR_BAR_WIDTH);
        draw_colour_bar(&bar_area, &bar_quantity, bar_range, h)?;
        root.present().map_err(plot_error)?;
    }
    canvas.png()
}

/// Image width that fits `title` with margins, pixels.
fn title_width(title: &str) -> u32 {
    register_font();
    let measured = (FAMILY, TITLE_SIZE).into_font().box_size(title).map(|(w, _)| w);
    measured.unwrap_or(12 * title.len() as u32) + 3 * MARGIN
}

fn draw_title<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, title: &str) -> Result<()> {
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

/// Isolines of `values` at about eight round levels of `range`: pixels blended 60% toward
/// white, so the colours stay readable beneath them.
fn draw_isolines<DB: DrawingBackend>(
    pixels: &DrawingArea<DB, Shift>,
    grid: &PixelGrid,
    values: &[f64],
    range: [f64; 2],
) -> Result<()> {
    let levels = overlay::levels(range, ISOLINES);
    for (k, _) in overlay::isolines(grid.width, grid.height, values, &levels).iter().enumerate().filter(|(_, on)| **on) {
        let RGBColor(r, g, b) = colour(values[k], range);
        let lighten = |c: u8| (f64::from(c) + 0.6 * (255.0 - f64::from(c))).round() as u8;
        let (i, j) = (k % grid.width, k / grid.width);
        pixels
            .draw_pixel((i as i32, (grid.height - 1 - j) as i32), &RGBColor(lighten(r), lighten(g), lighten(b)))
            .map_err(plot_error)?;
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

/// One curve of a line plot.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// A line plot of `series` against a common x axis, with a legend when there is more than one.
pub fn line_png(title: &str, x_quantity: &str, y_quantity: &str, series: &[Series]) -> Result<Vec<u8>> {
    let (width, height) = (900, 560);
    let mut canvas = Canvas::new(width, height);
    {
        let root = BitMapBackend::with_buffer(&mut canvas.rgb, (width, height)).into_drawing_area();
        let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
        draw_title(&title_area, title)?;
        let xs: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
        let ys: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).collect();
        let [x0, x1] = padded(finite_range(&xs).unwrap_or([0.0, 1.0]), 0.0);
        let [y0, mut y1] = padded(finite_range(&ys).unwrap_or([0.0, 1.0]), 0.06);
        if series.len() > 1 {
            // headroom for the legend in the upper right corner
            y1 += (y1 - y0) * 0.08 * (series.len() as f64 + 1.0);
        }
        let mut chart = ChartBuilder::on(&body)
            .margin(MARGIN)
            .margin_right(3 * MARGIN)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS + 12)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .set_all_tick_mark_size(5)
            .x_desc(x_quantity)
            .y_desc(y_quantity)
            .x_label_formatter(&ticks([x0, x1], 10))
            .y_label_formatter(&ticks([y0, y1], 10))
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 17))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(plot_error)?;
        for (k, s) in series.iter().enumerate() {
            let c = colour(k as f64, [0.0, (series.len().max(2) - 1) as f64 * 1.15]);
            // Earlier curves wider, so that a later one drawn over it leaves it visible where
            // they coincide.
            let width = 2 + 2 * (series.len() - 1 - k).min(3) as u32;
            let style = ShapeStyle::from(&c).stroke_width(width);
            let points: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
            let drawn = chart
                .draw_series(LineSeries::new(points.clone(), style))
                .map_err(plot_error)?
                .label(s.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            let _ = drawn;
            // Markers show where the values are, unless they are so many that they hide the line.
            if points.len() <= MAX_MARKED_POINTS {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled()))).map_err(plot_error)?;
            }
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .label_font((FAMILY, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(plot_error)?;
        }
        root.present().map_err(plot_error)?;
    }
    canvas.png()
}

/// `range` widened by `fraction` of its span on each side (and made non-empty).
fn padded(range: [f64; 2], fraction: f64) -> [f64; 2] {
    let [lo, hi] = range;
    let span = hi - lo;
    if span > 0.0 {
        [lo - fraction * span, hi + fraction * span]
    } else {
        let half = if lo == 0.0 { 1.0 } else { 0.05 * lo.abs() };
        [lo - half, hi + half]
    }
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
    fn small_potentials_read_in_millivolts_and_narrow_ranges_are_called_nearly_uniform() {
        let (q, r) = readable_unit("potential (V)", [-0.0125, 0.002]);
        assert_eq!((q.as_str(), r), ("potential (mV)", [-12.5, 2.0]));
        let (q, r) = readable_unit("potential (V)", [0.0, 2e-5]);
        assert_eq!(q, "potential (µV)");
        assert!((r[1] - 20.0).abs() < 1e-9);
        assert_eq!(readable_unit("potential (V)", [0.0, 0.5]).0, "potential (V)");
        assert_eq!(readable_unit("|E| (V/m)", [0.0, 0.01]).0, "|E| (V/m)", "only volts are rescaled");
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
