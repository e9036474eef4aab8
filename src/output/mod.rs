//! Outputs: metrics and summary.json, smoothed surface flux recovery, VTU export, Gmsh export,
//! PNG maps, atomic writes.

pub mod atomic;
pub mod coating;
pub mod maps;
pub mod mesh_report;
pub mod metrics;
pub mod msh;
pub mod recovery;
pub mod summary;
pub mod vtu;
