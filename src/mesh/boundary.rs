//! Boundary faces: extraction (faces used by one tetrahedron) and tagging by geometry.

use glam::DVec3;

use crate::error::{Error, Result};
use crate::geometry::ElectrodeGeometry;

/// Role of a boundary face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoundaryTag {
    /// Zinc surface (flat part and protrusions): Dirichlet (primary) or kinetics (secondary).
    Electrode,
    /// Top face z = height: bulk electrolyte, potential reference phi = 0.
    Bulk,
    /// Box sides: insulating / symmetry, zero normal current.
    Insulating,
    /// Surface of a resolved scaffold (fibres, particles): insulating for now; a later model may
    /// make it a deposition surface.
    Scaffold,
}

impl BoundaryTag {
    /// Numeric id written to VTU files.
    pub fn id(self) -> u8 {
        match self {
            BoundaryTag::Electrode => 1,
            BoundaryTag::Bulk => 2,
            BoundaryTag::Scaffold => 4,
            BoundaryTag::Insulating => 3,
        }
    }

    /// The role's name as scene keys spell it (`geometry.boundaries.electrode`).
    pub fn name(self) -> &'static str {
        match self {
            BoundaryTag::Electrode => "electrode",
            BoundaryTag::Bulk => "bulk",
            BoundaryTag::Insulating => "insulating",
            BoundaryTag::Scaffold => "scaffold",
        }
    }
}

/// Outward-oriented faces of a positively oriented tetrahedron, by local node index.
const OUTWARD_FACES: [[usize; 3]; 4] = [[1, 2, 3], [0, 3, 2], [0, 1, 3], [0, 2, 1]];

/// The faces used by exactly one tetrahedron, oriented outward; a face shared by more than two
/// tetrahedra is an error (non-manifold mesh).
pub fn boundary_faces(tets: &[[u32; 4]]) -> Result<Vec<[u32; 3]>> {
    let mut all: Vec<([u32; 3], [u32; 3])> = Vec::with_capacity(4 * tets.len());
    for t in tets {
        for f in OUTWARD_FACES {
            let face = f.map(|i| t[i]);
            let mut key = face;
            key.sort_unstable();
            all.push((key, face));
        }
    }
    all.sort_unstable_by_key(|&(k, _)| k);
    let mut faces = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let mut j = i + 1;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        match j - i {
            1 => faces.push(all[i].1),
            2 => {}
            n => return Err(Error::Mesh(format!("face {:?} is shared by {n} tetrahedra (non-manifold mesh)", all[i].0))),
        }
        i = j;
    }
    Ok(faces)
}

/// Finds the boundary faces of a built-in mesh and tags them by where they lie.
pub fn extract_and_tag(
    geom: &ElectrodeGeometry,
    nodes: &[DVec3],
    tets: &[[u32; 4]],
) -> Result<(Vec<[u32; 3]>, Vec<BoundaryTag>)> {
    let faces = boundary_faces(tets)?;
    let scale = geom.half_width.max(geom.height);
    let tol = 1e-9 * scale;
    let mut tags = Vec::with_capacity(faces.len());
    for f in &faces {
        let p = f.map(|n| nodes[n as usize]);
        let all_near = |g: &dyn Fn(DVec3) -> f64| p.iter().all(|&q| g(q).abs() <= tol);
        let tag = if all_near(&|q| q.z - geom.height) {
            BoundaryTag::Bulk
        } else if all_near(&|q| q.x - geom.half_width)
            || all_near(&|q| q.x + geom.half_width)
            || all_near(&|q| q.y - geom.half_width)
            || all_near(&|q| q.y + geom.half_width)
        {
            BoundaryTag::Insulating
        } else if p.iter().all(|&q| geom.on_electrode(q, 1e-7 * scale)) {
            BoundaryTag::Electrode
        } else if p.iter().all(|&q| geom.on_scaffold(q, 1e-7 * scale) || geom.on_electrode(q, 1e-7 * scale)) {
            // Where a scaffold solid touches the electrode, the face goes to the nearer surface.
            let c = (p[0] + p[1] + p[2]) / 3.0;
            if geom.scaffold.level(c).abs() < c.z.min(geom.level(c)).abs() {
                BoundaryTag::Scaffold
            } else {
                BoundaryTag::Electrode
            }
        } else {
            return Err(Error::Mesh(format!("boundary face {f:?} at {:?} lies on no known boundary (internal error)", p)));
        };
        tags.push(tag);
    }
    Ok((faces, tags))
}
