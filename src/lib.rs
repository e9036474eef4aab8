//! znfield: a GPU-accelerated 3D finite-element solver for the electrochemical fields at
//! zinc-metal battery anodes.
//!
//! Data flows one way: [`scene`] (JSON) -> [`geometry`] -> [`mesh`] -> [`fem`] discrete problem
//! -> [`solve`] drivers on a [`backend`] -> [`output`] metrics and exports. Each module uses only
//! those before it ([`physics`] sits beside fem: constants, kinetics, scaling, media; [`error`]
//! is used by all); [`run`] strings the stages together (see its module doc), and [`sweep`],
//! [`compare`], [`validate`] and [`growth`] (a run whose electrode moves) drive whole runs.

pub mod backend;
pub mod bench;
pub mod compare;
pub mod error;
pub mod fem;
pub mod geometry;
pub mod growth;
pub mod input;
pub mod mesh;
pub mod output;
pub mod physics;
pub mod progress;
pub mod run;
pub mod scene;
pub mod solve;
pub mod sweep;
pub mod validate;

pub use error::{Error, Result};
