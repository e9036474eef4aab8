//! Gmsh export: a [`TetMesh`] as an MSH 2.2 ASCII file that Gmsh, meshio and scikit-fem read, and
//! that znfield's own importer ([`crate::mesh::gmsh`]) reads back into the same mesh.
//!
//! Coordinates are written in metres. Every tetrahedron carries the physical volume of its
//! region (`electrolyte` for region 0, a coating layer's name for its region, `region_<id>`
//! where no usable name is given) and every boundary triangle the
//! physical surface of its tag (`electrode`, `bulk`, `insulating`, `scaffold`); an element's
//! first tag is its physical group and its second an elementary entity of the same number.
//! Only groups that have elements are named. A scene that imports the file maps them with
//! `geometry.boundaries` = {"electrode": ["electrode"], "bulk": ["bulk"], "insulating":
//! ["insulating"]} and `geometry.regions` = {"electrolyte": ["electrolyte"]}.

use std::fmt::Write;

use crate::mesh::boundary::BoundaryTag;
use crate::mesh::TetMesh;

/// Gmsh element types.
const TRIANGLE: u32 = 2;
const TETRAHEDRON: u32 = 4;

/// The physical surface name of a boundary tag.
pub fn surface_name(tag: BoundaryTag) -> &'static str {
    match tag {
        BoundaryTag::Electrode => "electrode",
        BoundaryTag::Bulk => "bulk",
        BoundaryTag::Insulating => "insulating",
        BoundaryTag::Scaffold => "scaffold",
    }
}

/// The physical volume name of a region id: `electrolyte` for 0, else the region's entry of
/// `names` (region k is `names[k - 1]`, the coating layers in scene order) unless it is missing,
/// empty, `electrolyte` or holds a double quote, then `region_<id>`.
fn volume_name(region: u8, names: &[&str]) -> String {
    match (region, names.get(usize::from(region).wrapping_sub(1))) {
        (0, _) => "electrolyte".into(),
        (_, Some(name)) if !name.is_empty() && *name != "electrolyte" && !name.contains('"') => name.to_string(),
        _ => format!("region_{region}"),
    }
}

/// The MSH 2.2 ASCII text of `mesh`; `region_names[k - 1]` names region k (see
/// [`volume_name`]). Physical surfaces are numbered by their VTU tag id ([`BoundaryTag::id`]),
/// physical volumes 100 + region id.
pub fn msh(mesh: &TetMesh, region_names: &[&str]) -> String {
    let mut surfaces: Vec<BoundaryTag> = Vec::new();
    for &tag in &mesh.face_tags {
        if !surfaces.contains(&tag) {
            surfaces.push(tag);
        }
    }
    surfaces.sort_by_key(|t| t.id());
    let mut volumes: Vec<u8> = mesh.regions.clone();
    volumes.sort_unstable();
    volumes.dedup();
    let volume_group = |region: u8| 100 + u32::from(region);

    // About 60 bytes per node and per element line.
    let mut out = String::with_capacity(64 * (mesh.nodes.len() + mesh.tets.len() + mesh.faces.len()) + 256);
    out.push_str("$MeshFormat\n2.2 0 8\n$EndMeshFormat\n$PhysicalNames\n");
    let _ = writeln!(out, "{}", surfaces.len() + volumes.len());
    for &tag in &surfaces {
        let _ = writeln!(out, "2 {} \"{}\"", tag.id(), surface_name(tag));
    }
    for &region in &volumes {
        let _ = writeln!(out, "3 {} \"{}\"", volume_group(region), volume_name(region, region_names));
    }
    out.push_str("$EndPhysicalNames\n$Nodes\n");
    let _ = writeln!(out, "{}", mesh.nodes.len());
    for (i, p) in mesh.nodes.iter().enumerate() {
        // Shortest round-trip form: the file reads back to the same f64 coordinates.
        let _ = writeln!(out, "{} {:?} {:?} {:?}", i + 1, p.x, p.y, p.z);
    }
    out.push_str("$EndNodes\n$Elements\n");
    let _ = writeln!(out, "{}", mesh.faces.len() + mesh.tets.len());
    let mut id = 0usize;
    for (face, &tag) in mesh.faces.iter().zip(&mesh.face_tags) {
        id += 1;
        let g = tag.id();
        let _ = writeln!(out, "{id} {TRIANGLE} 2 {g} {g} {} {} {}", face[0] + 1, face[1] + 1, face[2] + 1);
    }
    for (tet, &region) in mesh.tets.iter().zip(&mesh.regions) {
        id += 1;
        let g = volume_group(region);
        let _ = writeln!(out, "{id} {TETRAHEDRON} 2 {g} {g} {} {} {} {}", tet[0] + 1, tet[1] + 1, tet[2] + 1, tet[3] + 1);
    }
    out.push_str("$EndElements\n");
    out
}

#[cfg(test)]
mod tests {
    use super::volume_name;

    #[test]
    fn volumes_are_named_after_their_layers_where_the_name_is_usable() {
        let names = ["cf_scaffold", "", "electrolyte", "a \"quoted\" one"];
        assert_eq!(volume_name(0, &names), "electrolyte");
        assert_eq!(volume_name(1, &names), "cf_scaffold");
        assert_eq!(volume_name(2, &names), "region_2");
        assert_eq!(volume_name(3, &names), "region_3");
        assert_eq!(volume_name(4, &names), "region_4");
        assert_eq!(volume_name(5, &names), "region_5");
    }
}
