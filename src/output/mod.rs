//! Outputs: metrics and summary.json, VTU export, Gmsh export,
//! PNG maps, atomic writes.
//!
//! Conventions every output follows:
//! - SI units, named by the suffix of each array, column or key (`_V`, `_A_m2`, `_mol_m3`);
//!   coordinates in metres (each VTU says so in its field data, `coordinate_unit_m` = 1);
//! - current: anodic positive (the scene's convention), so zinc plating is a negative normal
//!   current density; an array or map of the plating rate says so in its name
//!   (`plating_current_density_A_m2` = minus the normal current density);
//! - species by [`crate::scene::file_safe`] (`Zn2+` -> `Zn2p`), concentrations as
//!   [`concentration_name`]; the electrolyte potential is `electrolyte_potential_V`, a
//!   scaffold's solid potential `solid_potential_V`.

pub mod atomic;
pub mod coating;
pub mod growth;
pub mod maps;
pub mod mesh_report;
pub mod metrics;
pub mod msh;
pub mod outdir;
pub mod profiles;
pub mod summary;
pub mod view_html;
pub mod vtu;

/// The name of a species' concentration array or column: `c_<species>_mol_m3`.
pub fn concentration_name(species: &str) -> String {
    format!("c_{}_mol_m3", crate::scene::file_safe(species))
}
