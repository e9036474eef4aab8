//! One-dimensional graded node distributions, the building block of the tensor lattice.
//!
//! The target spacing at x is `h(x) = min(h_far, min_k [h_k + (growth - 1) dist(x, I_k)])` over
//! fine intervals I_k with their own sizes h_k, i.e. cell sizes grow geometrically by `growth` per
//! cell away from each fine interval. Nodes are placed at
//! equal increments of `N(x) = integral dx / h(x)`, so neighbouring cells differ smoothly and both
//! ends are hit exactly.

/// A fine interval [lo, hi] of an axis with its target spacing.
#[derive(Debug, Clone, Copy)]
pub struct FineInterval {
    pub lo: f64,
    pub hi: f64,
    pub size: f64,
}

/// Nodes on [lo, hi] graded toward the `fine` intervals (which may reach outside [lo, hi]);
/// None, before the nodes are allocated, where that takes more than `max_cells` cells.
pub fn graded_axis(lo: f64, hi: f64, fine: &[FineInterval], h_far: f64, growth: f64, max_cells: usize) -> Option<Vec<f64>> {
    debug_assert!(hi > lo && h_far > 0.0 && growth > 1.0);
    let spacing = |x: f64| -> f64 {
        fine.iter()
            .map(|f| {
                let d = if x < f.lo {
                    f.lo - x
                } else if x > f.hi {
                    x - f.hi
                } else {
                    0.0
                };
                f.size + (growth - 1.0) * d
            })
            .fold(h_far, f64::min)
    };
    const SAMPLES: usize = 20_000;
    let dx = (hi - lo) / SAMPLES as f64;
    let mut cumulative = Vec::with_capacity(SAMPLES + 1);
    cumulative.push(0.0);
    for k in 0..SAMPLES {
        let x0 = lo + k as f64 * dx;
        let step = 0.5 * dx * (1.0 / spacing(x0) + 1.0 / spacing(x0 + dx));
        cumulative.push(cumulative[k] + step);
    }
    let total = cumulative[SAMPLES];
    // A hair below the integer so an exact fit (10.000000001 cells of 0.1 on [0, 1]) is not rounded up.
    let cells = (total - 1e-6).ceil().max(1.0);
    if cells.is_nan() || cells > max_cells as f64 {
        return None;
    }
    let cells = cells as usize;
    let mut nodes = Vec::with_capacity(cells + 1);
    nodes.push(lo);
    let mut k = 0;
    for c in 1..cells {
        let target = total * c as f64 / cells as f64;
        while cumulative[k + 1] < target {
            k += 1;
        }
        let frac = (target - cumulative[k]) / (cumulative[k + 1] - cumulative[k]);
        nodes.push(lo + (k as f64 + frac) * dx);
    }
    nodes.push(hi);
    Some(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_without_fine_intervals() {
        let x = graded_axis(0.0, 1.0, &[], 0.1, 1.2, 1000).expect("within the cap");
        assert_eq!(x.len(), 11);
        for w in x.windows(2) {
            assert!((w[1] - w[0] - 0.1).abs() < 1e-9);
        }
    }

    #[test]
    fn grading_ratio_is_bounded() {
        let x =
            graded_axis(-10.0, 10.0, &[FineInterval { lo: -1.0, hi: 1.0, size: 0.1 }], 2.0, 1.25, 1000).expect("within the cap");
        let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let hmin = h.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(hmin > 0.09 && hmin <= 0.101, "finest cell {hmin}");
        for w in h.windows(2) {
            let ratio = (w[1] / w[0]).max(w[0] / w[1]);
            assert!(ratio < 1.3, "neighbour ratio {ratio}");
        }
    }
}
