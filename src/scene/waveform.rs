//! The applied value against time of a transient run: a step, a pulse train or a table.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Applied value against time, in the operation's unit (A/m^2 or V). The operation's own value is
/// the "on" value of a step or pulse.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Waveform {
    /// `before` until `time_s`, then the operation's value.
    Step {
        /// Time of the step, s.
        #[schemars(extend("exclusiveMinimum" = 0))]
        time_s: f64,
        /// Value before the step (A/m^2 or V).
        before: f64,
    },
    /// The operation's value for the first `on_fraction` of every period, `off_value` otherwise.
    Pulse {
        /// Period, s.
        #[schemars(extend("exclusiveMinimum" = 0))]
        period_s: f64,
        /// Share of each period at the operation's value.
        #[schemars(range(min = 1e-6, max = 0.999999))]
        on_fraction: f64,
        /// Value in the off part (A/m^2 or V).
        off_value: f64,
    },
    /// Piecewise linear through (times_s, values), held constant outside.
    Table {
        /// Times, s, increasing.
        times_s: Vec<f64>,
        /// Values at those times (A/m^2 or V).
        values: Vec<f64>,
    },
}

impl Waveform {
    /// The value an implicit time step over `[t0, t1]` (s) applies, given the operation's value
    /// `on`: a piecewise-constant waveform (step, pulse) is evaluated inside the interval, at its
    /// midpoint, so a step that ends on an edge takes the phase it spans whatever the rounding of
    /// its end time; a table (continuous) at the step's end, as backward differences want.
    pub fn value_over(&self, t0: f64, t1: f64, on: f64) -> f64 {
        match self {
            Waveform::Table { .. } => self.value(t1, on),
            _ => self.value(0.5 * (t0 + t1), on),
        }
    }

    /// Applied value at time t given the operation's value `on` (at an edge of a step or pulse,
    /// the value before it).
    pub fn value(&self, t: f64, on: f64) -> f64 {
        match self {
            Waveform::Step { time_s, before } => {
                if t <= *time_s {
                    *before
                } else {
                    on
                }
            }
            Waveform::Pulse { period_s, on_fraction, off_value } => {
                let phase = (t / period_s).fract();
                // The value over a step ending at t: the instant just before t.
                let phase = if phase == 0.0 && t > 0.0 { 1.0 } else { phase };
                if phase <= *on_fraction {
                    on
                } else {
                    *off_value
                }
            }
            Waveform::Table { times_s, values } => {
                let k = times_s.partition_point(|&x| x <= t);
                if k == 0 {
                    values[0]
                } else if k == times_s.len() {
                    values[values.len() - 1]
                } else {
                    let w = (t - times_s[k - 1]) / (times_s[k] - times_s[k - 1]);
                    values[k - 1] + w * (values[k] - values[k - 1])
                }
            }
        }
    }

    /// Times where the value jumps, up to `end` (s): the multistep history restarts there.
    pub fn jumps(&self, end: f64) -> Vec<f64> {
        match self {
            Waveform::Table { .. } => Vec::new(),
            _ => self.breakpoints(end),
        }
    }

    /// Times where the value jumps or its slope changes, up to `end` (s): steps land on them.
    pub fn breakpoints(&self, end: f64) -> Vec<f64> {
        match self {
            Waveform::Step { time_s, .. } => vec![*time_s],
            Waveform::Pulse { period_s, on_fraction, .. } => {
                let mut out = Vec::new();
                let mut k = 0.0;
                while k * period_s < end {
                    out.push(k * period_s + on_fraction * period_s);
                    out.push((k + 1.0) * period_s);
                    k += 1.0;
                }
                out
            }
            Waveform::Table { times_s, .. } => times_s.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step that ends on a pulse edge applies the phase it spans, even when its end time is
    /// off the edge by rounding (as the scaled times of a run are); evaluating the end point,
    /// as runs did, gave the other phase at such edges.
    #[test]
    fn steps_ending_on_pulse_edges_take_the_phase_they_span() {
        let pulse = Waveform::Pulse { period_s: 0.02, on_fraction: 0.3, off_value: -1.0 };
        let edges = pulse.breakpoints(0.2);
        assert_eq!(edges.len(), 20);
        let mut start = 0.0;
        let mut wrong_at_end = 0;
        for (k, &edge) in edges.iter().enumerate() {
            let expected = if k % 2 == 0 { 5.0 } else { -1.0 };
            for end in [edge * (1.0 - 1e-15), edge, edge * (1.0 + 1e-15)] {
                assert_eq!(pulse.value_over(start, end, 5.0), expected, "step {k} ending at {end:e}");
                wrong_at_end += usize::from(pulse.value(end, 5.0) != expected);
            }
            start = edge;
        }
        assert!(wrong_at_end > 0, "the end-point value should be fooled by rounding at some edge");
    }

    #[test]
    fn only_a_step_or_a_pulse_restarts_the_history() {
        let table = Waveform::Table { times_s: vec![0.0, 1.0, 2.0], values: vec![0.0, 1.0, 0.5] };
        assert!(table.jumps(2.0).is_empty());
        assert_eq!(table.breakpoints(2.0), vec![0.0, 1.0, 2.0]);
        assert_eq!(table.value_over(0.5, 1.5, 9.0), table.value(1.5, 9.0));
        let step = Waveform::Step { time_s: 1.0, before: 2.0 };
        assert_eq!(step.jumps(2.0), vec![1.0]);
        assert_eq!(step.value_over(0.5, 1.0, 9.0), 2.0);
        assert_eq!(step.value_over(1.0, 1.5, 9.0), 9.0);
    }
}
