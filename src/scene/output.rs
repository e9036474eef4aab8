//! The scene's `output` block: which maps znfield writes, where it cuts them, and how its
//! figures show their quantities ([`super::figures`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Axis;

/// PNG maps that `znfield run` writes (see `output::maps` for what each shows).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OutputControls {
    /// Write the PNG maps (true by default).
    pub maps: bool,
    /// Pixels along the longer side of each map (64 to 4096; default 640).
    #[schemars(range(min = 64, max = 4096))]
    pub map_pixels: usize,
    /// Cut planes for slice maps. Default: the plane y = y0 through the first protrusion's axis
    /// (its centre, or the domain's centre without protrusions). At most 16.
    pub slices: Vec<SlicePlane>,
    /// Units of the figures' colour bars and axes, e.g. {"potential": "mV", "current_density":
    /// "mA/cm^2", "concentration": "mM"}; data files stay in SI units.
    pub units: super::figures::FigureUnits,
    /// Fixed colour ranges, e.g. {"current_density_A_m2": [0, 200]}, in the SI unit the key
    /// names, so that figures of separate runs share one scale.
    pub colour_range: super::figures::ColourRanges,
    /// Also write every figure as SVG beside its PNG (false by default): axes, text, arrows and
    /// plot lines as vectors; a map's field is embedded as an image, one data pixel per map
    /// pixel, as in the PNG.
    pub svg: bool,
}

impl Default for OutputControls {
    fn default() -> Self {
        OutputControls {
            maps: true,
            map_pixels: 640,
            slices: Vec::new(),
            units: super::figures::FigureUnits::default(),
            colour_range: super::figures::ColourRanges::default(),
            svg: false,
        }
    }
}

/// A cut plane normal to a coordinate axis: `{"normal": "y", "at_m": 0.0}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlicePlane {
    pub normal: Axis,
    /// Position of the plane along its normal, m.
    pub at_m: f64,
}
