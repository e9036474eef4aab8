//! Line plots (profiles, transients, sweeps, the compare report's deposition plot): curves
//! against a common x axis in the units `output.units` asks for, a legend where there are
//! several, as PNG or SVG (all vectors).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::render::{
    colour, draw_title, figure, finite_range, plot_error, ticks, Drawing, Format, Layer, FAMILY, MARGIN, MAX_MARKED_POINTS,
    TITLE_HEIGHT, X_LABELS, Y_LABELS,
};
use super::units::{shown, Shown};
use crate::error::Result;
use crate::scene::figures::FigureUnits;

/// One curve of a line plot.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// A line plot of `series` against a common x axis, with a legend when there is more than one.
struct LineDrawing<'a> {
    title: &'a str,
    x: Shown,
    y: Shown,
    series: &'a [Series<'a>],
    /// The y axis starts at zero (shares and fractions, whose differences a cropped axis
    /// would exaggerate).
    from_zero: bool,
    /// Every curve as thin as the last (outlines of a surface, which rarely coincide); else
    /// earlier curves are drawn wider, so that a later one over it leaves it visible.
    thin: bool,
}

impl Drawing for LineDrawing<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, _paint: bool) -> Result<Option<Layer>> {
        let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
        draw_title(&title_area, self.title)?;
        let series: Vec<Vec<(f64, f64)>> = self
            .series
            .iter()
            .map(|s| {
                let shown = s.points.iter().map(|&(x, y)| (x * self.x.factor, y * self.y.factor));
                shown.filter(|p| p.0.is_finite() && p.1.is_finite()).collect()
            })
            .collect();
        let xs: Vec<f64> = series.iter().flatten().map(|p| p.0).collect();
        let ys: Vec<f64> = series.iter().flatten().map(|p| p.1).collect();
        let [x0, x1] = padded(finite_range(&xs).unwrap_or([0.0, 1.0]), 0.0);
        let [mut y0, mut y1] = padded(finite_range(&ys).unwrap_or([0.0, 1.0]), 0.06);
        if self.from_zero && y0 > 0.0 {
            y0 = 0.0;
        }
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
            .x_desc(&self.x.quantity)
            .y_desc(&self.y.quantity)
            .x_label_formatter(&ticks([x0, x1], 10))
            .y_label_formatter(&ticks([y0, y1], 10))
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 17))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(plot_error)?;
        for (k, (s, points)) in self.series.iter().zip(series).enumerate() {
            let c = colour(k as f64, [0.0, (self.series.len().max(2) - 1) as f64 * 1.15]);
            // Earlier curves wider, so that a later one drawn over it leaves it visible where
            // they coincide.
            let width = if self.thin { 2 } else { 2 + 2 * (self.series.len() - 1 - k).min(3) as u32 };
            let style = ShapeStyle::from(&c).stroke_width(width);
            chart
                .draw_series(LineSeries::new(points.clone(), style))
                .map_err(plot_error)?
                .label(s.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            // Markers show where the values are, unless they are so many that they hide the line.
            if points.len() <= MAX_MARKED_POINTS {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled()))).map_err(plot_error)?;
            }
        }
        if self.series.len() > 1 {
            chart
                .configure_series_labels()
                .label_font((FAMILY, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(plot_error)?;
        }
        Ok(None)
    }
}

/// A line plot of `series` (in SI units, as `x_quantity` and `y_quantity` name them) against
/// a common x axis, with a legend when there is more than one, in `format`.
pub fn line_figure(
    title: &str,
    x_quantity: &str,
    y_quantity: &str,
    series: &[Series],
    units: &FigureUnits,
    format: Format,
) -> Result<Vec<u8>> {
    lines(title, [x_quantity, y_quantity], series, units, format, false)
}

/// A line plot of `series` in the units `units` asks for; `thin`: see [`LineDrawing::thin`]
/// (true for outlines of a surface at several times).
pub(super) fn lines(
    title: &str,
    quantities: [&str; 2],
    series: &[Series],
    units: &FigureUnits,
    format: Format,
    thin: bool,
) -> Result<Vec<u8>> {
    let range = |pick: fn(&(f64, f64)) -> f64| {
        finite_range(&series.iter().flat_map(|s| s.points.iter().map(pick)).collect::<Vec<_>>()).unwrap_or([0.0, 1.0])
    };
    let (x, y) = (shown(quantities[0], range(|p| p.0), units), shown(quantities[1], range(|p| p.1), units));
    figure(&LineDrawing { title, x, y, series, from_zero: false, thin }, format)
}

/// [`line_figure`] of shares or fractions: the y axis starts at zero.
pub fn share_figure(title: &str, x_quantity: &str, y_quantity: &str, series: &[Series], format: Format) -> Result<Vec<u8>> {
    let (x, y) = (Shown { quantity: x_quantity.into(), factor: 1.0 }, Shown { quantity: y_quantity.into(), factor: 1.0 });
    figure(&LineDrawing { title, x, y, series, from_zero: true, thin: false }, format)
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
