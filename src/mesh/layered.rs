//! Layered background meshes: a tensor lattice of graded axes split into Kuhn tetrahedra.
//!
//! Each axis is graded on its own (fine around each protrusion's extent and in the layer above
//! the electrode plane, coarse far away), so cells far from a protrusion but inside the fine layer
//! are flat: thin in z, wide in x and y. That anisotropy is what a boundary layer over a flat
//! electrode wants (a one-dimensional diffusion or Debye layer resolved in z with few nodes in x
//! and y), and what a three-dimensional tip does not: its dihedral angles can fall far below the
//! isotropic mesher's. Use it for flat-electrode boundary-layer problems (the validation cases).
//! A Kuhn cell whose sides differ by a factor r has a smallest dihedral angle of atan(1 / r)
//! (5.7 degrees at r = 10): the one-dimensional validation fixtures are narrow columns, one cell
//! wide, whose width stays within a factor 7 of both the finest and the coarsest layer.

use glam::DVec3;

use super::bisection::{kuhn_grid, Background};
use super::graded_axis::{graded_axis, FineInterval};
use super::sizing::SizeField;
use crate::error::{Error, Result};
use crate::geometry::ElectrodeGeometry;

/// Most lattice cells the layered mesher builds.
const MAX_CELLS: usize = 40_000_000;

/// The layered Kuhn lattice of the electrolyte box of `geom` for the size field `size`.
pub fn lattice(geom: &ElectrodeGeometry, size: &SizeField) -> Result<Background> {
    let margin = 2.0 * size.near;
    let mut fine: [Vec<FineInterval>; 3] = Default::default();
    let mut top = 0.0_f64;
    for s in &geom.shapes {
        let (lo, hi) = s.bounds();
        for d in 0..2 {
            fine[d].push(FineInterval { lo: lo[d] - margin, hi: hi[d] + margin, size: size.near });
        }
        top = top.max(hi.z);
    }
    fine[2].push(FineInterval { lo: 0.0, hi: top + margin, size: size.near });
    for &(lo, hi, h) in &size.boxes {
        for d in 0..3 {
            fine[d].push(FineInterval { lo: lo[d], hi: hi[d], size: h });
        }
    }
    let w = geom.half_width;
    let too_many = |cells: String| {
        Error::input(format!(
            "mesh: {cells} lattice cells requested (mesh.size_near_m = {:.3e} m, mesh.size_far_m = {:.3e} m); \
             that exceeds the layered mesher's limit of {MAX_CELLS} cells: coarsen the mesh or lower mesh.refine",
            size.near, size.far
        ))
    };
    let axis = |lo: f64, hi: f64, fine: &[FineInterval]| {
        graded_axis(lo, hi, fine, size.far, size.growth, MAX_CELLS).ok_or_else(|| too_many(format!("more than {MAX_CELLS}")))
    };
    let (xs, ys, zs) = (axis(-w, w, &fine[0])?, axis(-w, w, &fine[1])?, axis(0.0, geom.height, &fine[2])?);
    let (nx, ny, nz) = (xs.len() - 1, ys.len() - 1, zs.len() - 1);
    let cells = nx.saturating_mul(ny).saturating_mul(nz);
    if cells > MAX_CELLS {
        return Err(too_many(cells.to_string()));
    }
    // Six tetrahedra per cell.
    if 6 * nx * ny * nz > size.limit.max_tets {
        return Err(Error::input(format!(
            "mesh: {} lattice cells requested (mesh.size_near_m = {:.3e} m, mesh.size_far_m = {:.3e} m) make {} \
             tetrahedra, more than {} ({}): coarsen the mesh or lower mesh.refine",
            nx * ny * nz,
            size.near,
            size.far,
            6 * nx * ny * nz,
            size.limit.max_tets,
            size.limit.reason
        )));
    }
    let mut nodes = Vec::with_capacity(xs.len() * ys.len() * zs.len());
    for &z in &zs {
        for &y in &ys {
            for &x in &xs {
                nodes.push(DVec3::new(x, y, z));
            }
        }
    }
    let tets = kuhn_grid([nx, ny, nz]);
    Ok(Background { nodes, tets })
}
