//! znfield: a GPU-accelerated 3D finite-element solver for the electrochemical fields at
//! zinc-metal battery anodes.
//!
//! Data flows one way: [`scene`] (JSON) -> [`geometry`] -> [`mesh`] -> [`fem`] discrete problem
//! -> [`backend`] solve ([`solve`] drivers) -> [`output`] metrics and exports. [`run`] strings
//! the steps together.

pub mod backend;
pub mod bench;
pub mod compare;
pub mod error;
pub mod fem;
pub mod geometry;
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
