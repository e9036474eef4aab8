//! Turning an imported Gmsh file into a [`TetMesh`]: physical groups mapped to roles by name,
//! units applied, tetrahedra re-oriented, degenerate ones rejected, every boundary face tagged.

use std::collections::HashMap;

use super::boundary::{boundary_faces, BoundaryTag};
use super::gmsh::MshFile;
use super::TetMesh;
use crate::error::{Error, Result};
use crate::scene::{BoundaryGroups, RegionGroups};

/// Builds the mesh; `origin` names the file in messages, `unit` converts file units to metres.
pub fn to_tet_mesh(
    msh: &MshFile,
    boundaries: &BoundaryGroups,
    regions: &RegionGroups,
    unit: f64,
    origin: &str,
) -> Result<TetMesh> {
    let find = |names: &[String], dim: i32, key: &str| -> Result<Vec<i32>> {
        names
            .iter()
            .map(|name| {
                msh.physical_names.iter().find(|((d, _), n)| *d == dim && *n == name).map(|((_, t), _)| *t).ok_or_else(|| {
                    let mut known: Vec<String> =
                        msh.physical_names.iter().filter(|((d, _), _)| *d == dim).map(|(_, n)| format!("`{n}`")).collect();
                    known.sort();
                    Error::input(format!(
                        "{origin}: physical group `{name}` named in {key} is not a {dim}D physical group of the mesh file; it has: {}",
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    ))
                })
            })
            .collect()
    };
    let electrolyte = find(&regions.electrolyte, 3, "geometry.regions.electrolyte")?;
    let mut role_of_group: HashMap<i32, BoundaryTag> = HashMap::new();
    for (names, tag, key) in [
        (&boundaries.electrode, BoundaryTag::Electrode, "geometry.boundaries.electrode"),
        (&boundaries.bulk, BoundaryTag::Bulk, "geometry.boundaries.bulk"),
        (&boundaries.insulating, BoundaryTag::Insulating, "geometry.boundaries.insulating"),
    ] {
        for g in find(names, 2, key)? {
            assign_role(&mut role_of_group, g, tag, msh, origin)?;
        }
    }

    check_extent(msh, unit, origin)?;
    let mut used = vec![u32::MAX; msh.nodes.len()];
    let mut nodes = Vec::new();
    let mut tets = Vec::new();
    for (t, groups, id) in &msh.tets {
        if !groups.iter().any(|g| electrolyte.contains(g)) {
            continue;
        }
        let p = t.map(|n| msh.nodes[n as usize]);
        let vol = (p[1] - p[0]).cross(p[2] - p[0]).dot(p[3] - p[0]);
        let edge = (p[1] - p[0]).length().max((p[2] - p[0]).length()).max((p[3] - p[0]).length());
        if !vol.is_finite() || vol.abs() <= 1e-12 * edge.powi(3) {
            return Err(Error::input(format!(
                "{origin}: element {id} is a degenerate (zero-volume) tetrahedron at ({:.6e}, {:.6e}, {:.6e})",
                p[0].x, p[0].y, p[0].z
            )));
        }
        let mut t = *t;
        if vol < 0.0 {
            t.swap(2, 3);
        }
        tets.push(t.map(|n| {
            if used[n as usize] == u32::MAX {
                used[n as usize] = nodes.len() as u32;
                nodes.push(msh.nodes[n as usize] * unit);
            }
            used[n as usize]
        }));
    }
    if tets.is_empty() {
        return Err(Error::input(format!(
            "{origin}: no tetrahedra in the physical volumes named in geometry.regions.electrolyte"
        )));
    }
    let mut tri_role: HashMap<[u32; 3], BoundaryTag> = HashMap::new();
    for (tri, groups, _) in &msh.triangles {
        if let Some(role) = groups.iter().find_map(|g| role_of_group.get(g)) {
            if tri.iter().all(|&n| used[n as usize] != u32::MAX) {
                let mut key = tri.map(|n| used[n as usize]);
                key.sort_unstable();
                tri_role.insert(key, *role);
            }
        }
    }
    // A non-manifold file is bad input (exit 2), not a failure of the built-in mesher.
    let faces = boundary_faces(&tets).map_err(|e| match e {
        Error::Mesh(msg) => Error::input(format!("{origin}: {msg}")),
        other => other,
    })?;
    let mut face_tags = Vec::with_capacity(faces.len());
    let mut untagged = Vec::new();
    for f in &faces {
        let mut key = *f;
        key.sort_unstable();
        match tri_role.get(&key) {
            Some(&tag) => face_tags.push(tag),
            None => untagged.push(*f),
        }
    }
    if let Some(f) = untagged.first() {
        let c = (nodes[f[0] as usize] + nodes[f[1] as usize] + nodes[f[2] as usize]) / 3.0;
        return Err(Error::input(format!(
            "{origin}: {} boundary face(s) belong to no physical surface named in geometry.boundaries, e.g. the face centred at \
             ({:.6e}, {:.6e}, {:.6e}) m; give every boundary surface a physical group and map it to electrode, bulk or insulating",
            untagged.len(),
            c.x,
            c.y,
            c.z
        )));
    }
    for (tag, name) in [(BoundaryTag::Electrode, "electrode"), (BoundaryTag::Bulk, "bulk")] {
        if !face_tags.contains(&tag) {
            return Err(Error::input(format!("{origin}: no boundary faces are tagged {name} (geometry.boundaries.{name})")));
        }
    }
    let regions = vec![0u8; tets.len()];
    Ok(TetMesh { nodes, tets, regions, faces, face_tags })
}

/// Refuses a mesh whose extent in metres (its largest side times `length_unit_m`) is not that of
/// an electrode's surroundings: a wrong unit, not a geometry to solve.
fn check_extent(msh: &MshFile, unit: f64, origin: &str) -> Result<()> {
    let (lo, hi) =
        msh.nodes.iter().fold((glam::DVec3::INFINITY, glam::DVec3::NEG_INFINITY), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
    let extent = (hi - lo).max_element() * unit;
    let [min, max] = crate::scene::checks::DOMAIN_LENGTH_M;
    if msh.nodes.is_empty() || !(extent >= min && extent <= 2.0 * max) {
        return Err(Error::input(format!(
            "{origin}: the mesh spans {extent:e} m (its largest side in file units times geometry.length_unit_m = {unit:e} m), \
             outside the accepted {min:e} to {:e} m: is geometry.length_unit_m right?",
            2.0 * max
        )));
    }
    Ok(())
}

/// Gives physical surface `group` its role; a surface already given another role is an error.
fn assign_role(roles: &mut HashMap<i32, BoundaryTag>, group: i32, tag: BoundaryTag, msh: &MshFile, origin: &str) -> Result<()> {
    match roles.insert(group, tag) {
        Some(other) if other != tag => Err(Error::input(format!(
            "{origin}: physical surface `{}` is mapped to two roles, {} and {}, in geometry.boundaries; a surface has one role",
            msh.physical_names.get(&(2, group)).map_or("?", String::as_str),
            other.name(),
            tag.name()
        ))),
        _ => Ok(()),
    }
}
