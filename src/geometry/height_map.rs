//! A measured surface as the electrode's relief: a grid of heights read from CSV (an AFM or
//! profilometer scan), sampled onto the elevation grid.
//!
//! The file holds one row of the scan per line, values separated by commas, semicolons, tabs or
//! spaces; empty lines and lines starting with `#` are skipped. Column i of row j is the height
//! at x = x0 + i p, y = y0 + j p (the first line is the lowest y), p the pixel size, the scan
//! centred on the box. Heights are in units of `height_unit_m` metres and, by default, their mean
//! is subtracted (the flat electrode z = 0 is the scan's mean plane).

use glam::DVec2;

use crate::error::{Error, Result};

/// Most values per row and rows of a height map.
pub const MAX_SIDE: usize = 4096;

/// A parsed scan: heights in metres, row by row.
#[derive(Debug, Clone)]
pub struct HeightMap {
    columns: usize,
    rows: usize,
    pixel: f64,
    heights: Vec<f64>,
}

impl HeightMap {
    /// Parses `text` (the file `origin`) with pixel size `pixel` (m) and heights in units of
    /// `unit` (m); subtracts the mean when `subtract_mean`.
    pub fn parse(text: &str, origin: &str, pixel: f64, unit: f64, subtract_mean: bool) -> Result<HeightMap> {
        let refuse = |line: usize, what: String| Error::input(format!("{origin}: line {line}: {what}"));
        let mut heights = Vec::new();
        let mut columns = 0;
        let mut rows = 0;
        for (k, line) in text.lines().enumerate() {
            let line_no = k + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let values: Vec<&str> =
                line.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|v| !v.is_empty()).collect();
            if rows == 0 {
                columns = values.len();
                if !(2..=MAX_SIDE).contains(&columns) {
                    return Err(refuse(line_no, format!("{columns} values in a row; a height map has 2 to {MAX_SIDE}")));
                }
            } else if values.len() != columns {
                return Err(refuse(line_no, format!("{} values, but the first row has {columns}", values.len())));
            }
            rows += 1;
            if rows > MAX_SIDE {
                return Err(refuse(line_no, format!("more than {MAX_SIDE} rows")));
            }
            for (i, v) in values.iter().enumerate() {
                let h: f64 = v.parse().ok().filter(|h: &f64| h.is_finite()).ok_or_else(|| {
                    let shown: String = v.chars().take(24).collect();
                    refuse(line_no, format!("column {}: `{shown}` is not a finite number", i + 1))
                })?;
                heights.push(h * unit);
            }
        }
        if rows < 2 {
            return Err(Error::input(format!("{origin}: {rows} rows of heights; a height map has at least 2")));
        }
        if subtract_mean {
            let mean = heights.iter().sum::<f64>() / heights.len() as f64;
            heights.iter_mut().for_each(|h| *h -= mean);
        }
        Ok(HeightMap { columns, rows, pixel, heights })
    }

    /// Extent of the scan in x and y, m.
    pub fn extent(&self) -> DVec2 {
        DVec2::new((self.columns - 1) as f64, (self.rows - 1) as f64) * self.pixel
    }

    /// Height at `xy` (m; the scan centred on the origin), bilinear between pixels.
    pub fn at(&self, xy: DVec2) -> f64 {
        let s = (xy + 0.5 * self.extent()) / self.pixel;
        let cell = |v: f64, n: usize| {
            let v = v.clamp(0.0, (n - 1) as f64);
            let c = (v.floor() as usize).min(n - 2);
            (c, v - c as f64)
        };
        let ((i, u), (j, w)) = (cell(s.x, self.columns), cell(s.y, self.rows));
        let h = |a: usize, b: usize| self.heights[b * self.columns + a];
        (1.0 - w) * ((1.0 - u) * h(i, j) + u * h(i + 1, j)) + w * ((1.0 - u) * h(i, j + 1) + u * h(i + 1, j + 1))
    }

    /// Highest and lowest heights, m.
    pub fn range(&self) -> (f64, f64) {
        self.heights.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &h| (lo.min(h), hi.max(h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_is_read_centred_and_interpolated() {
        let text = "# x runs along a row\n0, 1, 2\n\n3 4 5\n6;7;8\n";
        let map = HeightMap::parse(text, "scan.csv", 0.5, 1e-9, false).expect("map");
        assert_eq!(map.extent(), DVec2::new(1.0, 1.0));
        // The centre pixel (4 nm) and a point between pixels: h = 3 y + x in pixel units.
        assert!((map.at(DVec2::ZERO) - 4e-9).abs() < 1e-21);
        assert!((map.at(DVec2::new(0.25, -0.5)) - 1.5e-9).abs() < 1e-21);
        let centred = HeightMap::parse(text, "scan.csv", 0.5, 1e-9, true).expect("map");
        assert!(centred.at(DVec2::ZERO).abs() < 1e-21);
    }

    #[test]
    fn bad_scans_are_refused_with_the_line() {
        for (text, words) in [
            ("1, 2\n3\n", "line 2: 1 values, but the first row has 2"),
            ("1, 2\n3, nan\n", "line 2: column 2: `nan` is not a finite number"),
            ("1, 2\n", "1 rows of heights"),
            ("7\n8\n", "line 1: 1 values in a row"),
        ] {
            let err = HeightMap::parse(text, "scan.csv", 1.0, 1.0, true).expect_err(text).to_string();
            assert!(err.contains("scan.csv") && err.contains(words), "{err}");
        }
    }
}
