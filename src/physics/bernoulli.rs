//! The Bernoulli function B(x) = x / (e^x - 1) of the Scharfetter–Gummel flux, evaluated stably
//! for all x, and its derivative.

/// B(x) = x / (e^x - 1), B(0) = 1; positive for all x.
pub fn bernoulli(x: f64) -> f64 {
    if x.abs() < 1e-3 {
        1.0 - x / 2.0 + x * x / 12.0
    } else if x > 700.0 {
        x * (-x).exp()
    } else {
        x / x.exp_m1()
    }
}

/// dB/dx = (B - x B - B^2) / x, -1/2 at 0.
pub fn bernoulli_derivative(x: f64) -> f64 {
    if x.abs() < 1e-2 {
        -0.5 + x / 6.0 - x * x * x / 180.0
    } else {
        let b = bernoulli(x);
        (b - x * b - b * b) / x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_derivative_are_consistent() {
        assert_eq!(bernoulli(0.0), 1.0);
        for x in [-800.0, -30.0, -2.0, -0.011, -0.009, -1e-4, 1e-4, 0.009, 0.011, 1.0, 30.0, 800.0] {
            // B(-x) = B(x) + x.
            assert!((bernoulli(-x) - bernoulli(x) - x).abs() <= 1e-12 * (1.0 + x.abs()), "x {x}");
            assert!(bernoulli(x) > 0.0 || x > 700.0);
            if x.abs() < 100.0 {
                let h = 1e-6 * (1.0 + x.abs());
                let fd = (bernoulli(x + h) - bernoulli(x - h)) / (2.0 * h);
                assert!((fd - bernoulli_derivative(x)).abs() < 1e-6, "x {x}: {fd} vs {}", bernoulli_derivative(x));
            }
        }
    }
}
