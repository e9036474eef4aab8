//! Physics: constants, electrode kinetics and the scaling that keeps the discrete problem O(1).

pub mod constants;
pub mod edge_flux;
pub mod electrolyte;
pub mod kinetics;
pub mod porous;
pub mod roots;
pub mod scaling;
pub mod transport;
