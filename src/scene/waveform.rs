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
    /// Applied value at time t given the operation's value `on`.
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

    /// Times where the value jumps or its slope changes, up to `end` (s).
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
