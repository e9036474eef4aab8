//! Butler–Volmer electrode kinetics in scaled form, and electrode reactions as a list.
//!
//! `i / i0 = exp(alpha_a n eta_hat) - exp(-alpha_c n eta_hat)` with `eta_hat = eta F / (R T)`,
//! anodic positive; the linearized form is `i / i0 = (alpha_a + alpha_c) n eta_hat`. With a
//! concentration dependence (the transport models) the cathodic branch is multiplied by
//! `(c_r / c_r,bulk)^gamma`.
//!
//! The solvers take the electrode's reactions as a slice of [`Reaction`]s: every electrode node
//! (and scaffold site) carries the sum of their currents. Scenes declare one reaction today (zinc
//! plating, `physics.kinetics`); a second one (hydrogen evolution beside plating) is a further
//! entry, with its own law, exchange current and species.

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

/// One electrode reaction in scaled form.
#[derive(Debug, Clone, Copy)]
pub struct Reaction {
    /// Index of the species it consumes and produces, whose concentration enters the cathodic
    /// branch: required by the transport models (their problem asserts it); None for the
    /// potential models. At scaffold sites the reaction acts on the site's equivalent area
    /// (scaled by the site's exchange current relative to the electrode's plating one): a
    /// second reaction with other site kinetics needs a site weight per reaction.
    pub species: Option<usize>,
    /// The Butler–Volmer law (alpha n products).
    pub law: ButlerVolmer,
    /// Cathodic reaction order gamma in `(c_r / c_r,bulk)^gamma`.
    pub cathodic_order: f64,
    /// Scaled exchange current density: `L i0 / (kappa V_T)` for the potential models,
    /// `i0 L / (n F D_ref c_ref)` for the transport models.
    pub gamma: f64,
}

/// The scaled overpotential at which the reactions together draw the scaled current `target`
/// at bulk concentrations: `sum_r W_r f_r(eta) = target`, with `weight(r)` = W_r the reaction's
/// total weight (Gamma times the reacting area, summed as the caller's discretization sums it).
/// One reaction inverts its law; several are solved by bisection on the increasing sum
/// ([`super::roots`]).
pub fn overpotential_for(reactions: &[Reaction], weight: impl Fn(&Reaction) -> f64, target: f64) -> f64 {
    if let [only] = reactions {
        return only.law.overpotential_for(target / weight(only));
    }
    // The total current increases with eta: its excess over the target, negated, decreases.
    let shortfall = |eta: f64| target - reactions.iter().map(|r| weight(r) * r.law.current(eta)).sum::<f64>();
    super::roots::root_of_decreasing(shortfall, 700.0)
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

    #[test]
    fn two_reactions_share_the_drawn_current() {
        let law = ButlerVolmer { anodic: 0.5, cathodic: 1.5, linear: false };
        let plating = Reaction { species: Some(0), law, cathodic_order: 1.0, gamma: 2.0 };
        let side = Reaction { gamma: 0.5, ..plating };
        let area = 3.0;
        let eta = overpotential_for(&[plating, side], |r| r.gamma * area, -40.0);
        let drawn = (2.0 * area) * law.current(eta) + (0.5 * area) * law.current(eta);
        assert!((drawn + 40.0).abs() < 1e-9 * 40.0, "drawn {drawn}");
        // One reaction: the law's own inverse.
        assert_eq!(overpotential_for(&[plating], |r| r.gamma * area, -40.0), law.overpotential_for(-40.0 / 6.0));
    }
}
