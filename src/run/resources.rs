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

/// Estimated bytes a run of `scene` needs per tetrahedron: the solve, plus a copy of the
/// fields per output time of a transient run (a vector field and a scalar per tetrahedron, the
/// unknowns at its share of the nodes, about a fifth).
pub fn bytes_per_tet(scene: &Scene) -> u64 {
    let m = unknowns_per_node(scene);
    let snapshots = scene.time.as_ref().map_or(0, |t| t.output_times_s.len() as u64);
    600 + 100 * m * m + snapshots * (56 + 8 * m)
}

/// The memory a run may use, bytes, and where the figure comes from; None where it is unknown.
///
/// The smallest of: the machine's available memory, the room left under the process's
/// address-space limit (`ulimit -v`, a batch system's cap) and under its control group's memory
/// limit (a container). `ZNFIELD_MEMORY_LIMIT_BYTES` overrides them all.
pub fn memory_budget() -> Result<Option<(u64, String)>> {
    if let Ok(v) = std::env::var(MEMORY_LIMIT_ENV) {
        let bytes =
            v.trim().parse::<u64>().map_err(|_| Error::input(format!("{MEMORY_LIMIT_ENV}={v}: expected a number of bytes")))?;
        return Ok(Some((bytes, MEMORY_LIMIT_ENV.to_string())));
    }
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let kib_field = |text: &str, key: &str| {
        text.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    let mut limits: Vec<(u64, String)> = Vec::new();
    if let Some(kib) = read("/proc/meminfo").and_then(|t| kib_field(&t, "MemAvailable:")) {
        limits.push((kib * 1024, "available memory (MemAvailable)".to_string()));
    }
    let in_use = read("/proc/self/status").and_then(|t| kib_field(&t, "VmSize:")).map_or(0, |kib| kib * 1024);
    if let Some(cap) = read("/proc/self/limits").and_then(|t| address_space_limit(&t)) {
        limits.push((cap.saturating_sub(in_use), "the room under the address-space limit (ulimit -v)".to_string()));
    }
    let cgroup = |name: &str| read(&format!("/sys/fs/cgroup/{name}")).and_then(|t| t.trim().parse::<u64>().ok());
    if let (Some(max), Some(current)) = (cgroup("memory.max"), cgroup("memory.current")) {
        limits.push((max.saturating_sub(current), "the room under the control group's memory.max".to_string()));
    }
    Ok(limits.into_iter().min_by_key(|(bytes, _)| *bytes))
}

/// The soft "Max address space" limit in /proc/self/limits, bytes; None when unlimited.
fn address_space_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max address space"))?;
    line.trim_start_matches("Max address space").split_whitespace().next()?.parse().ok()
}

/// Largest mesh file or checkpoint read, bytes, and where the figure comes from (for the
/// message): a sixteenth of the memory budget, or 4 GiB where the budget is unknown. Parsed, a
/// MSH file takes up to about 16 bytes per byte of its text (a point element, 9 bytes of ASCII,
/// becomes a record with two lists), and a mesh needs about 15 bytes per byte of its file for its
/// run (700 bytes per tetrahedron, 40-50 bytes of file each), so a larger file could not run
/// anyway.
pub fn file_read_limit() -> Result<(u64, String)> {
    Ok(match memory_budget()? {
        Some((bytes, source)) => (bytes / 16, format!(" (a sixteenth of the {} of {source})", human(bytes))),
        None => (4 << 30, String::new()),
    })
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
            max_tets: (bytes / per_tet).min(usize::MAX as u64) as usize,
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
        let need = (tets as u64).saturating_mul(per_tet);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_space_limit_is_read_from_proc_limits() {
        let limited = "Limit                     Soft Limit           Hard Limit           Units\n\
                       Max address space         2147483648           unlimited            bytes\n";
        assert_eq!(address_space_limit(limited), Some(2147483648));
        let unlimited = "Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(address_space_limit(unlimited), None);
    }
}
