//! Stage 1-2 of a run: the domain. Geometry and mesh from the scene (the built-in mesher with
//! its size field, or a Gmsh file with its groups mapped), the run's length scale, and the checks
//! of the scene against the mesh that the scene's own validation cannot make.

use glam::DVec3;

use super::resources;
use crate::error::{Error, Result};
use crate::geometry::ElectrodeGeometry;
use crate::mesh::{self, BoundaryTag, Domain, SizeField, TetMesh};
use crate::output::maps::render::number;
use crate::scene::Scene;

/// Target element sizes for a scene (defaults documented on [`crate::scene::MeshControls`]).
pub fn size_field(scene: &Scene) -> SizeField {
    let g = &scene.geometry;
    let m = &scene.mesh;
    let feature = g.all_protrusions().iter().map(|(_, p)| p.feature_size()).fold(f64::INFINITY, f64::min);
    let near = m.size_near_m.unwrap_or(if feature.is_finite() { feature / 10.0 } else { g.height_m / 20.0 }) / m.refine;
    let far = (m.size_far_m.unwrap_or(g.height_m / 8.0) / m.refine).max(near);
    let plane = match m.size_electrode_m {
        Some(h) => h / m.refine,
        None if feature.is_finite() => 3.0 * near,
        None => near,
    }
    .clamp(near, far);
    let boxes = m.refine_boxes.iter().map(|b| (DVec3::from(b.min_m), DVec3::from(b.max_m), b.size_m / m.refine)).collect();
    // Each layer top at the flat-electrode size, and at most half the thinner of the two layers
    // it separates, so a layer is at least two elements thick at refine = 1.
    let thickness: Vec<f64> = g.layers.iter().map(|l| l.thickness_m).collect();
    let interfaces = (0..thickness.len())
        .map(|k| {
            let above = thickness.get(k + 1).copied().unwrap_or(f64::INFINITY);
            plane.min(0.5 * thickness[k].min(above) / m.refine)
        })
        .collect();
    SizeField {
        near,
        plane,
        far,
        growth: 1.0 + (m.grading - 1.0) / m.refine,
        // One footprint radius of the smallest protrusion: where a protrusion's current is decided.
        solid_zone: g.all_protrusions().iter().map(|(_, p)| p.reach()).reduce(f64::min).unwrap_or(0.0),
        boxes,
        interfaces,
        curvature_elements: mesh::sizing::CURVATURE_ELEMENTS * m.refine,
        generator: match m.generator {
            crate::scene::MeshGenerator::Bisection => mesh::Generator::Bisection,
            crate::scene::MeshGenerator::Layered => mesh::Generator::Layered,
        },
        delaunay_flips: scene.solver.transport_weights.circumcentric_for(scene.physics.model),
        limit: mesh::TetLimit::default(),
    }
}

/// The implicit geometry of a built-in scene: box, protrusions, layers and scaffold, raised by
/// the relief where the scene has one or grows.
pub fn scene_geometry(scene: &Scene, sizes: &SizeField) -> Result<ElectrodeGeometry> {
    let geom = ElectrodeGeometry::from_scene(&scene.geometry);
    Ok(match initial_elevation(scene, sizes)? {
        Some(elevation) => geom.raised(elevation.clone(), elevation, floor_clearance(sizes)),
        None => geom,
    })
}

/// How far the box's floor lies below a raised electrode's lowest point: one element at the
/// electrode, m.
pub fn floor_clearance(sizes: &SizeField) -> f64 {
    sizes.plane
}

/// The elevation grid of a scene with a relief or a growth block (`None` otherwise): the relief's
/// modes and height map on a grid of `growth.grid_spacing_m`, by default half the element size
/// at the protrusions.
pub fn initial_elevation(scene: &Scene, sizes: &SizeField) -> Result<Option<crate::geometry::Elevation>> {
    let g = &scene.geometry;
    if g.relief.is_none() && scene.growth.is_none() {
        return Ok(None);
    }
    let spacing = scene.growth.as_ref().and_then(|gr| gr.grid_spacing_m).unwrap_or(0.5 * sizes.near);
    let modes = g.relief.as_ref().map_or(&[][..], |r| r.modes.as_slice());
    let mut elevation =
        crate::geometry::Elevation::of_modes(g.half_width_m, spacing, modes, g.sides == crate::scene::Sides::Periodic);
    if let Some(file) = g.relief.as_ref().and_then(|r| r.height_map.as_ref()) {
        let (map, origin) = read_height_map(scene, file)?;
        elevation.add(|xy| map.at(xy));
        elevation.match_periodic_images();
        let (lowest, highest) = elevation.range();
        let tallest = g.all_protrusions().iter().map(|(_, p)| p.height()).fold(0.0, f64::max);
        if highest + tallest >= 0.8 * g.height_m || lowest <= -g.height_m {
            return Err(Error::input(format!(
                "{origin}: the relief spans z = {} to {} m, which with the tallest protrusion ({} m) leaves the box \
                 (it must stay below 80% of geometry.height_m = {} m and above -geometry.height_m); check \
                 geometry.relief.height_map.height_unit_m",
                number(lowest),
                number(highest),
                number(tallest),
                number(g.height_m)
            )));
        }
    }
    Ok(Some(elevation))
}

/// Reads and parses a scene's height map, checking that it covers the box; returns it with the
/// file's name for messages.
fn read_height_map(
    scene: &Scene,
    file: &crate::scene::HeightMapFile,
) -> Result<(crate::geometry::height_map::HeightMap, String)> {
    let path = scene.source_dir.as_deref().map_or_else(|| std::path::PathBuf::from(&file.file), |d| d.join(&file.file));
    let origin = path.display().to_string();
    let (max_bytes, why) = resources::file_read_limit()?;
    let text = crate::input::read_text(&path, "height map", max_bytes.min(MAX_HEIGHT_MAP_BYTES), &why)?;
    let map =
        crate::geometry::height_map::HeightMap::parse(&text, &origin, file.pixel_size_m, file.height_unit_m, file.subtract_mean)?;
    let extent = map.extent();
    let width = 2.0 * scene.geometry.half_width_m;
    if extent.x < width * (1.0 - 1e-9) || extent.y < width * (1.0 - 1e-9) {
        return Err(Error::input(format!(
            "{origin}: the scan spans {} x {} m at geometry.relief.height_map.pixel_size_m = {} m, less than the box's \
             width 2 geometry.half_width_m = {} m; it must cover the box",
            number(extent.x),
            number(extent.y),
            number(file.pixel_size_m),
            number(width)
        )));
    }
    Ok((map, origin))
}

/// Largest height map read, bytes (a 4096 x 4096 scan in text is about 200 MB).
const MAX_HEIGHT_MAP_BYTES: u64 = 256 << 20;

/// Length scale of the scaled problem: the smallest protrusion feature, or the cell height.
pub fn length_scale(scene: &Scene) -> f64 {
    let g = &scene.geometry;
    g.all_protrusions().iter().map(|(_, p)| p.feature_size()).fold(g.height_m, f64::min)
}

/// Builds the mesh of a scene: the built-in mesher, or a Gmsh file with its groups mapped.
pub fn build_domain(scene: &Scene) -> Result<Domain> {
    let g = &scene.geometry;
    match g.mesh_path(scene.source_dir.as_deref()) {
        Some(path) => {
            let (max_bytes, why) = resources::file_read_limit()?;
            let msh = mesh::gmsh::read(&path, max_bytes, &why)?;
            let origin = path.display().to_string();
            resources::check_mesh(scene, msh.tets.len(), &origin)?;
            imported_domain(scene, &msh, &origin)
        }
        None => {
            if let Some(mat) = g.scaffold.as_ref().and_then(|s| s.fibre_mat.as_ref()) {
                mat.check_reachable(g.half_width_m)?;
            }
            // The machine's memory bounds the mesh: refused while the mesher counts, before it allocates.
            let sizes = SizeField { limit: resources::tet_limit(scene)?, ..size_field(scene) };
            let geom = scene_geometry(scene, &sizes)?;
            let mesh = mesh::generate(&geom, &sizes)?;
            Ok(Domain { mesh, geometry: Some(geom), sizes: Some(sizes), length_scale: length_scale(scene) })
        }
    }
}

/// The domain of a parsed Gmsh file with the scene's group mapping; `origin` names it in messages.
pub fn imported_domain(scene: &Scene, msh: &mesh::gmsh::MshFile, origin: &str) -> Result<Domain> {
    let g = &scene.geometry;
    let boundaries = g.boundaries.clone().unwrap_or_default();
    let regions = g.regions.clone().unwrap_or_default();
    let mesh = mesh::import::to_tet_mesh(msh, &boundaries, &regions, g.length_unit_m, origin)?;
    check_slices(scene, &mesh, origin)?;
    let length_scale = imported_length_scale(&mesh);
    Ok(Domain { mesh, geometry: None, sizes: None, length_scale })
}

/// For an imported mesh: the height of the electrode's relief, or a tenth of the domain height
/// for a flat electrode.
fn imported_length_scale(mesh: &TetMesh) -> f64 {
    let (lo, hi) = mesh.nodes.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.z), hi.max(p.z)));
    let electrode: Vec<f64> =
        mesh.faces_with(BoundaryTag::Electrode).flat_map(|f| mesh.faces[f].map(|n| mesh.nodes[n as usize].z)).collect();
    let relief =
        electrode.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - electrode.iter().cloned().fold(f64::INFINITY, f64::min);
    if relief > 1e-3 * (hi - lo) {
        relief
    } else {
        0.1 * (hi - lo)
    }
}

/// Legal but suspicious settings, found before meshing: an element size at the protrusions
/// coarser than half the smallest feature (the tip field is then under-resolved); species
/// diffusivities scaled by a stated conductivity or transference number.
pub fn scene_warnings(scene: &Scene) -> Vec<String> {
    let mut out = Vec::new();
    if scene.geometry.mesh_file.is_none() {
        let near = size_field(scene).near;
        let smallest =
            scene.geometry.all_protrusions().into_iter().min_by(|a, b| a.1.feature_size().total_cmp(&b.1.feature_size()));
        if let Some((key, p)) = smallest.filter(|(_, p)| near > 0.5 * p.feature_size()) {
            out.push(format!(
                "the element size at the protrusions ({near:.3e} m) is more than half the smallest feature \
                 ({:.3e} m, {key}): the tip field is under-resolved; lower mesh.size_near_m or raise mesh.refine",
                p.feature_size()
            ));
        }
    }
    out.extend(crate::physics::electrolyte::Electrolyte::of(&scene.physics).scaling_warning(&scene.physics));
    out
}

/// Checks that every cut plane of the scene crosses the mesh (the scene's validation cannot know
/// an imported mesh's extent); `origin` names the mesh in the message.
pub fn check_slices(scene: &Scene, mesh: &TetMesh, origin: &str) -> Result<()> {
    let (lo, hi) = mesh.bounding_box();
    for (k, plane) in scene.output.slices.iter().enumerate() {
        let a = plane.normal.index();
        if !(lo[a]..=hi[a]).contains(&plane.at_m) {
            return Err(Error::input(format!(
                "{origin}: key `output.slices.{k}.at_m`: {} m misses the mesh, whose {} runs from {} to {} m",
                number(plane.at_m),
                plane.normal.name(),
                number(lo[a]),
                number(hi[a])
            )));
        }
    }
    Ok(())
}
