//! Boundary faces: extraction (faces used by one tetrahedron) and tagging by geometry.

use glam::DVec3;
use rayon::prelude::*;

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
/// tetrahedra is an error (non-manifold mesh). The faces come in the order of their sorted node
/// triples.
///
/// Faces are bucketed by their smallest node (a counting sort, linear in the number of faces) and
/// each bucket, a few dozen faces, is sorted on its own: the same order as one global sort at a
/// fraction of its cost, and the buckets are independent, so they are scanned in parallel.
pub fn boundary_faces(tets: &[[u32; 4]]) -> Result<Vec<[u32; 3]>> {
    let nodes = tets.iter().flatten().max().map_or(0, |&m| m as usize + 1);
    let sorted = |f: [u32; 3]| {
        let mut key = f;
        key.sort_unstable();
        key
    };
    let mut start = vec![0usize; nodes + 1];
    for t in tets {
        for f in OUTWARD_FACES {
            start[sorted(f.map(|i| t[i]))[0] as usize + 1] += 1;
        }
    }
    for k in 0..nodes {
        start[k + 1] += start[k];
    }
    // (the two larger nodes of the sorted triple, the face as oriented in its tetrahedron)
    let mut slots: Vec<([u32; 2], [u32; 3])> = vec![([0; 2], [0; 3]); 4 * tets.len()];
    let mut next = start.clone();
    for t in tets {
        for f in OUTWARD_FACES {
            let face = f.map(|i| t[i]);
            let key = sorted(face);
            let at = &mut next[key[0] as usize];
            slots[*at] = ([key[1], key[2]], face);
            *at += 1;
        }
    }
    let buckets: Vec<&mut [([u32; 2], [u32; 3])]> = split_at_offsets(&mut slots, &start);
    let per_bucket: Vec<Result<Vec<[u32; 3]>>> = buckets
        .into_par_iter()
        .with_min_len(1024)
        .map(|bucket| {
            bucket.sort_unstable_by_key(|&(k, _)| k);
            let mut faces = Vec::new();
            for run in bucket.chunk_by(|a, b| a.0 == b.0) {
                match run.len() {
                    1 => faces.push(run[0].1),
                    2 => {}
                    n => {
                        return Err(Error::Mesh(format!(
                            "face {:?} is shared by {n} tetrahedra (non-manifold mesh)",
                            sorted(run[0].1)
                        )))
                    }
                }
            }
            Ok(faces)
        })
        .collect();
    let mut faces = Vec::new();
    for bucket in per_bucket {
        faces.extend(bucket?);
    }
    Ok(faces)
}

/// `slots` cut into the consecutive pieces `offsets[k]..offsets[k + 1]`.
fn split_at_offsets<'a, T>(mut slots: &'a mut [T], offsets: &[usize]) -> Vec<&'a mut [T]> {
    let mut pieces = Vec::with_capacity(offsets.len().saturating_sub(1));
    for w in offsets.windows(2) {
        let (piece, rest) = slots.split_at_mut(w[1] - w[0]);
        pieces.push(piece);
        slots = rest;
    }
    pieces
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
            if geom.scaffold.level(c).abs() < geom.electrode_distance(c).abs() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The cube [0,1]^3 as six Kuhn tetrahedra around the diagonal 0-7 (node = x + 2y + 4z).
    fn kuhn_cube() -> Vec<[u32; 4]> {
        let paths = [[1, 2, 4], [1, 4, 2], [2, 1, 4], [2, 4, 1], [4, 1, 2], [4, 2, 1]];
        paths.iter().map(|p| [0, p[0], p[0] + p[1], 7]).collect()
    }

    #[test]
    fn a_cube_has_twelve_boundary_faces_in_sorted_order() {
        let faces = boundary_faces(&kuhn_cube()).expect("manifold");
        assert_eq!(faces.len(), 12, "two triangles per side");
        let keys: Vec<[u32; 3]> = faces
            .iter()
            .map(|f| {
                let mut k = *f;
                k.sort_unstable();
                k
            })
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted and distinct: {keys:?}");
        // Every boundary face lies on a side of the cube: its three nodes share a coordinate bit.
        assert!(keys.iter().all(|k| (0..3).any(|b| k.iter().all(|n| n >> b & 1 == k[0] >> b & 1))));
    }

    #[test]
    fn a_face_in_three_tetrahedra_is_an_error() {
        let tets = [[0, 1, 2, 3], [0, 1, 2, 4], [0, 1, 2, 5]];
        let err = boundary_faces(&tets).expect_err("non-manifold").to_string();
        assert!(err.contains("[0, 1, 2]") && err.contains("shared by 3"), "{err}");
    }
}
