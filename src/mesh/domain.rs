//! [`Domain`]: a meshed domain with what is known about it exactly (the implicit geometry and
//! the element sizes it was meshed to, for the built-in mesher).

use super::{SizeField, TetMesh};
use crate::geometry::ElectrodeGeometry;

/// The meshed domain of a scene and what is known about it exactly.
#[derive(Clone)]
pub struct Domain {
    pub mesh: TetMesh,
    /// Implicit geometry (built-in form only).
    pub geometry: Option<ElectrodeGeometry>,
    /// Target element sizes (built-in form only).
    pub sizes: Option<SizeField>,
    /// Length scale L of the scaled problem, m.
    pub length_scale: f64,
}
