//! Roots of monotone scalar functions (equilibrium potentials, the overpotential that draws a
//! current).

/// The root of a decreasing function `g` by bisection, on a bracket grown from [-1, 1] by
/// doubling up to +-`limit` (scaled potentials: `limit` keeps `exp` finite). 200 halvings reach
/// the f64 resolution of any bracket.
pub fn root_of_decreasing(g: impl Fn(f64) -> f64, limit: f64) -> f64 {
    let (mut lo, mut hi) = (-1.0, 1.0);
    while g(lo) < 0.0 && lo > -limit {
        lo *= 2.0;
    }
    while g(hi) > 0.0 && hi < limit {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_roots_inside_and_far_out() {
        assert!((root_of_decreasing(|x| 3.0 - x, 700.0) - 3.0).abs() < 1e-13);
        assert!((root_of_decreasing(|x| -(x + 300.0).powi(3), 700.0) + 300.0).abs() < 1e-9);
    }
}
