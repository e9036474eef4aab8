//! Butler–Volmer electrode kinetics in scaled form.
//!
//! `i / i0 = exp(alpha_a n eta_hat) - exp(-alpha_c n eta_hat)` with `eta_hat = eta F / (R T)`,
//! anodic positive; the linearized form is `i / i0 = (alpha_a + alpha_c) n eta_hat`.

use crate::scene::Kinetics;

/// Scaled Butler–Volmer law.
#[derive(Debug, Clone, Copy)]
pub struct ButlerVolmer {
    /// alpha_a n.
    pub anodic: f64,
    /// alpha_c n.
    pub cathodic: f64,
    /// Use the linear law.
    pub linear: bool,
}

impl ButlerVolmer {
    /// From the scene's kinetic parameters.
    pub fn from_scene(k: &Kinetics) -> Self {
        let n = k.electrons as f64;
        ButlerVolmer { anodic: k.alpha_a * n, cathodic: k.alpha_c * n, linear: k.linearized }
    }

    /// i / i0 at scaled overpotential `eta`.
    pub fn current(&self, eta: f64) -> f64 {
        if self.linear {
            (self.anodic + self.cathodic) * eta
        } else {
            (self.anodic * eta).exp() - (-self.cathodic * eta).exp()
        }
    }

    /// d(i / i0) / d eta_hat (positive).
    pub fn slope(&self, eta: f64) -> f64 {
        if self.linear {
            self.anodic + self.cathodic
        } else {
            self.anodic * (self.anodic * eta).exp() + self.cathodic * (-self.cathodic * eta).exp()
        }
    }

    /// Scaled overpotential that draws `i / i0 = target` (Newton on a monotone function).
    pub fn overpotential_for(&self, target: f64) -> f64 {
        let mut eta = target / (self.anodic + self.cathodic);
        if self.linear {
            return eta;
        }
        // Start from the Tafel branch when the linear guess is far out.
        if target.abs() > 2.0 {
            eta = if target > 0.0 { target.ln() / self.anodic } else { -(-target).ln() / self.cathodic };
        }
        for _ in 0..100 {
            let step = (self.current(eta) - target) / self.slope(eta);
            eta -= step;
            if step.abs() < 1e-14 * (1.0 + eta.abs()) {
                break;
            }
        }
        eta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_and_slope_are_consistent() {
        let bv = ButlerVolmer { anodic: 1.0, cathodic: 1.0, linear: false };
        for target in [-300.0, -3.0, -0.1, 0.2, 5.0, 1e3] {
            let eta = bv.overpotential_for(target);
            assert!((bv.current(eta) - target).abs() < 1e-9 * target.abs());
        }
        let h = 1e-6;
        let fd = (bv.current(0.3 + h) - bv.current(0.3 - h)) / (2.0 * h);
        assert!((fd - bv.slope(0.3)).abs() < 1e-8);
    }
}
