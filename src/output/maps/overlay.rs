//! Overlays computed on a map's pixel grid, drawn over its colours by [`super::render`]:
//!
//! - [`outline`]: the pixels where the region under the map changes: the zinc surface and a
//!   resolved scaffold's solids (where the plane leaves the mesh), a coating layer's top (where
//!   the region id changes);
//! - [`isolines`]: the pixels where a nodal field crosses one of the round [`levels`], found
//!   like an outline of the bands between levels (marching-squares segments drawn as 1-pixel
//!   lines came out dotted).
//!
//! Values and regions are per pixel, row-major from the bottom row, as in
//! [`super::sample::Located`]; each function returns a per-pixel mask.

/// Region of a pixel outside the mesh (zinc, a resolved solid).
pub const OUTSIDE: i32 = -1;

/// The pixels on an outline: those whose right or upper neighbour lies in another region, so
/// that each change of region gives a line one pixel wide.
pub fn outline(width: usize, height: usize, regions: &[i32]) -> Vec<bool> {
    debug_assert_eq!(regions.len(), width * height);
    let at = |i: usize, j: usize| regions[j * width + i];
    let mut on = vec![false; regions.len()];
    for j in 0..height {
        for i in 0..width {
            let right = i + 1 < width && at(i + 1, j) != at(i, j);
            let up = j + 1 < height && at(i, j + 1) != at(i, j);
            on[j * width + i] = right || up;
        }
    }
    on
}

/// About `count` round levels strictly inside `range` (steps of 1, 2 or 5 times a power of ten),
/// the values a reader can name: 0.5, 1.0, 1.5 mV rather than 0.4871.
pub fn levels(range: [f64; 2], count: usize) -> Vec<f64> {
    let [lo, hi] = range;
    let span = hi - lo;
    if !(span > 0.0) || !span.is_finite() || count == 0 {
        return Vec::new();
    }
    let rough = span / count as f64;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= rough).unwrap_or(10.0 * power);
    let first = (lo / step).floor() as i64 + 1;
    (first..).map(|k| k as f64 * step).take_while(|&v| v < hi).filter(|&v| v > lo).collect()
}

/// The pixels on an isoline: those where a level lies between the pixel's value and its right or
/// upper neighbour's (both inside the mesh), one pixel wide, like an [`outline`] of the bands
/// between consecutive levels. Drawn pixel by pixel, the lines stay continuous at any slope.
pub fn isolines(width: usize, height: usize, values: &[f64], levels: &[f64]) -> Vec<bool> {
    debug_assert_eq!(values.len(), width * height);
    let band = |v: f64| if v.is_finite() { Some(levels.partition_point(|&l| l < v)) } else { None };
    let bands: Vec<Option<usize>> = values.iter().map(|&v| band(v)).collect();
    let at = |i: usize, j: usize| bands[j * width + i];
    let differs = |a: Option<usize>, b: Option<usize>| matches!((a, b), (Some(a), Some(b)) if a != b);
    let mut on = vec![false; values.len()];
    for j in 0..height {
        for i in 0..width {
            let right = i + 1 < width && differs(at(i, j), at(i + 1, j));
            let up = j + 1 < height && differs(at(i, j), at(i, j + 1));
            on[j * width + i] = right || up;
        }
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_follow_region_changes_one_pixel_wide() {
        // Three rows: outside, electrolyte, coating (from the bottom).
        let (w, h) = (4, 3);
        let regions: Vec<i32> = (0..h).flat_map(|j| std::iter::repeat([OUTSIDE, 0, 1][j]).take(w)).collect();
        let on = outline(w, h, &regions);
        let rows: Vec<Vec<bool>> = on.chunks(w).map(|r| r.to_vec()).collect();
        assert_eq!(rows, [vec![true; w], vec![true; w], vec![false; w]]);
        assert!(outline(w, h, &[0; 12]).iter().all(|&b| !b), "one region has no outline");
    }

    #[test]
    fn levels_are_round_and_inside_the_range() {
        assert_eq!(levels([0.0, 1.0], 5), [0.2, 0.4, 0.6000000000000001, 0.8]);
        assert_eq!(levels([-12.5, 2.0], 6), [-10.0, -5.0, 0.0]);
        assert!(levels([1.0, 1.0], 5).is_empty());
        assert!(levels([0.0, f64::NAN], 5).is_empty());
    }

    #[test]
    fn isolines_of_a_linear_field_are_continuous_and_where_the_level_is() {
        // v = x + 2 y on a 20 x 12 grid: the level 10.5 crosses every column i <= 10 once (an
        // isoline of slope -1/2 marks one pixel per column, continuous), beside the crossing.
        let (w, h) = (20, 12);
        let values: Vec<f64> = (0..h).flat_map(|j| (0..w).map(move |i| i as f64 + 2.0 * j as f64)).collect();
        let on = isolines(w, h, &values, &[10.5]);
        for (k, _) in on.iter().enumerate().filter(|(_, on)| **on) {
            let (i, j) = ((k % w) as f64, (k / w) as f64);
            assert!((i + 2.0 * j - 10.5).abs() <= 2.0, "pixel ({i}, {j}) far from the level");
        }
        for i in 0..=10 {
            assert!((0..h).any(|j| on[j * w + i]), "column {i} has no isoline pixel");
        }
        let mut holed = values.clone();
        let k = on.iter().position(|&b| b).expect("a pixel on the line");
        holed[k] = f64::NAN;
        assert!(!isolines(w, h, &holed, &[10.5])[k], "no isoline at an empty pixel");
        assert!(isolines(w, h, &values, &[]).iter().all(|&b| !b));
    }
}
