//! Outputs: metrics and summary.json, VTU export, Gmsh export,
//! PNG maps, atomic writes.

pub mod atomic;
pub mod coating;
pub mod maps;
pub mod mesh_report;
pub mod metrics;
pub mod msh;
pub mod outdir;
pub mod summary;
pub mod vtu;
