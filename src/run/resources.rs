//! Resource bounds: what a run may take of the machine's memory and what a mesh will need, so a
//! scene too large for the machine is refused before meshing allocates it, with the estimate.
//!
//! A run needs about `600 + 100 m^2` bytes per tetrahedron, m the unknowns per node (1 for the
//! potential models, the independent species and the potential for the transport models). Peak
//! resident memory measured on 2026-11-24 (CPU backend, `/usr/bin/time -f %M`): the primary
//! hemisphere scene from 298k to 1.23M tetrahedra grew by 553 bytes per tetrahedron (model: 700),
//! the tertiary one from 48k to 126k by 727 (model: 1000). The mesher's refinement counts its
//! tetrahedra before it allocates them, so the limit bites before the memory is gone.

use crate::error::{Error, Result};
use crate::mesh::TetLimit;
use crate::scene::{Model, Scene};

/// Overrides the memory a run may use, in bytes (a shared machine, a batch job's allowance).
pub const MEMORY_LIMIT_ENV: &str = "ZNFIELD_MEMORY_LIMIT_BYTES";

/// Unknowns per mesh node of the scene's model.
fn unknowns_per_node(scene: &Scene) -> u64 {
    let species = scene.physics.species.len() as u64;
    match scene.physics.model {
        Model::Primary | Model::Secondary => 1,
        // Independent species (one follows from electroneutrality) and the potential.
        Model::Tertiary => species.max(1),
        // Every species and the potential.
        Model::Pnp => species + 1,
    }
}

/// Estimated bytes a run of `scene` needs per tetrahedron.
pub fn bytes_per_tet(scene: &Scene) -> u64 {
    let m = unknowns_per_node(scene);
    600 + 100 * m * m
}

/// The memory a run may use, bytes, and where the figure comes from; None where it is unknown.
pub fn memory_budget() -> Result<Option<(u64, String)>> {
    if let Ok(v) = std::env::var(MEMORY_LIMIT_ENV) {
        let bytes =
            v.trim().parse::<u64>().map_err(|_| Error::input(format!("{MEMORY_LIMIT_ENV}={v}: expected a number of bytes")))?;
        return Ok(Some((bytes, MEMORY_LIMIT_ENV.to_string())));
    }
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return Ok(None);
    };
    let available = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    Ok(available.map(|kb| (kb * 1024, "available memory (MemAvailable)".to_string())))
}

/// Bytes in MB or GB.
fn human(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// The most tetrahedra a run of `scene` fits in memory, as a mesher limit.
pub fn tet_limit(scene: &Scene) -> Result<TetLimit> {
    let per_tet = bytes_per_tet(scene);
    Ok(match memory_budget()? {
        None => TetLimit::default(),
        Some((bytes, source)) => TetLimit {
            max_tets: (bytes / per_tet) as usize,
            reason: format!(
                "at about {per_tet} bytes per tetrahedron for the {} model the run would need more than the {} of {source}",
                model_name(scene),
                human(bytes)
            ),
        },
    })
}

/// Refuses a mesh (imported) whose run would need more memory than there is.
pub fn check_mesh(scene: &Scene, tets: usize, origin: &str) -> Result<()> {
    let per_tet = bytes_per_tet(scene);
    if let Some((bytes, source)) = memory_budget()? {
        let need = tets as u64 * per_tet;
        if need > bytes {
            return Err(Error::input(format!(
                "{origin}: {tets} tetrahedra at about {per_tet} bytes each for the {} model need about {}, more than the \
                 {} of {source}: use a coarser mesh",
                model_name(scene),
                human(need),
                human(bytes)
            )));
        }
    }
    Ok(())
}

fn model_name(scene: &Scene) -> String {
    format!("{:?}", scene.physics.model).to_lowercase()
}
