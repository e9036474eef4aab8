//! Delaunay flips: the tetrahedra of a mesh reconnected, nodes and boundary untouched, until every
//! interior face is locally Delaunay (the fourth node of neither tetrahedron lies inside the
//! other's circumsphere), where bistellar flips can make it so.
//!
//! On a Delaunay mesh the circumcentric (Voronoi-box) weight `|dual face| / |edge|` of every
//! interior edge is non-negative, which makes the two-point flux transport operator an M-matrix
//! there ([`crate::fem::element::circumcentric_stiffness`]). The built-in mesher's graded
//! bisection levels and the cut band near the electrode are not Delaunay; Lawson's flip algorithm
//! (Joe, "Construction of three-dimensional Delaunay triangulations using local transformations",
//! CAGD 8, 1991) mends most of them:
//!
//! - 2-3 flip: two tetrahedra `abcd`, `abce` whose shared face `abc` is not locally Delaunay and
//!   whose union is convex (the segment `de` pierces `abc`) become `abed`, `bced`, `caed`;
//! - 3-2 flip: where `de` passes outside `abc` across the edge `ab` and exactly three tetrahedra
//!   `abcd`, `abce`, `abde` surround `ab`, they become the two tetrahedra on the face `cde`;
//! - 4-4 flip: where `de` passes through the edge `ab` (the four nodes coplanar, as everywhere on
//!   the Kuhn lattice) and exactly four tetrahedra surround `ab`, they become the four around
//!   `de`: the 2D Delaunay flip of the plane's quadrilateral, on both sides of it at once.
//!
//! A flip may not make the worst dihedral angle of the tetrahedra it replaces worse than
//! [`SLIVER_GUARD_DEG`] or than it was: Delaunay meshes have slivers (four nearly cospherical
//! nodes in a flat tetrahedron), harmless to the circumcentric weights but not to the gradients
//! that field maps and the potential's post-processing take per element. On the hemisphere_tertiary
//! mesh the guard leaves 3.7% of the circumcentric weights negative (16% before the flips); without
//! it 1.2% would be, with tetrahedra down to 0.0006 degrees.
//!
//! Faces on the boundary and between regions (coating interfaces) are never flipped, and a 3-2 flip
//! only removes an edge whose three tetrahedra are of one region, so boundary faces, interfaces and
//! node positions stay exactly as they were. Each flip lowers the triangulation lifted onto the
//! paraboloid by a set margin (cospherical sets, such as a Kuhn cube's eight corners, are left as
//! they are), so the algorithm terminates; faces that no flip can mend (a non-convex union with no
//! degree-3 edge) are left and counted. In 3D such faces can remain, so a mesh is not guaranteed to
//! end Delaunay: the share of negative circumcentric weights in `mesh_report.json` says how close it
//! came.

use glam::DVec3;
use rustc_hash::FxHashMap as HashMap;

use super::quality::dihedral_angles;

/// A circumsphere violation counts when the fourth node lies inside by more than this fraction of
/// the squared edge length (power distance): below it a configuration is taken as cospherical.
const INSPHERE_TOLERANCE: f64 = 1e-9;

/// Tetrahedra a flip would create with a volume below this fraction of the cubed edge length are
/// refused (the flip would make a flat element).
const VOLUME_TOLERANCE: f64 = 1e-9;

/// A flip may not make the worst dihedral angle of the tetrahedra it replaces worse than this
/// (degrees) or than it was: Delaunay flips of nearly cospherical nodes make slivers, harmless to
/// the circumcentric weights but not to the P1 elements of the potential models.
const SLIVER_GUARD_DEG: f64 = 15.0;

/// At most this many flips per tetrahedron (a guard; Lawson's algorithm needs far fewer).
const MAX_FLIPS_PER_TET: usize = 20;

/// What the flips did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlipCounts {
    pub two_to_three: usize,
    pub three_to_two: usize,
    pub four_to_four: usize,
    /// Interior faces of one region left not locally Delaunay: no single flip mends them, the
    /// sliver guard refused the flip, or the flip budget ran out.
    pub unflippable: usize,
}

/// Flips `tets` (positively oriented, with their `regions`) toward a Delaunay mesh of `nodes`:
/// see the module documentation. The tetrahedra stay positively oriented; boundary faces, region
/// interfaces and the node set are unchanged.
pub fn flip_toward_delaunay(nodes: &[DVec3], tets: &mut Vec<[u32; 4]>, regions: &mut Vec<u8>) -> FlipCounts {
    let mut mesh = FlipMesh::new(nodes, std::mem::take(tets), std::mem::take(regions));
    let mut counts = FlipCounts::default();
    let mut stack: Vec<[u32; 3]> = mesh.faces.iter().filter(|(_, t)| t[1] != NONE).map(|(f, _)| *f).collect();
    stack.sort_unstable();
    let budget = MAX_FLIPS_PER_TET * mesh.tets.len();
    while let Some(face) = stack.pop() {
        if counts.two_to_three + counts.three_to_two + counts.four_to_four >= budget {
            break;
        }
        match mesh.try_flip(face) {
            Flip::None => {}
            Flip::Stuck => counts.unflippable += 1,
            Flip::Done { created, removed } => {
                match removed {
                    2 => counts.two_to_three += 1,
                    3 => counts.three_to_two += 1,
                    _ => counts.four_to_four += 1,
                }
                for t in created {
                    stack.extend(faces_of(mesh.tets[t as usize]));
                }
            }
        }
    }
    // A face found stuck may have been mended by later flips: count what is left.
    counts.unflippable = mesh.faces.keys().filter(|&&f| matches!(mesh.violation(f), Some((_, _, true)))).count();
    let (t, r) = mesh.into_live();
    *tets = t;
    *regions = r;
    counts
}

/// No tetrahedron on that side of a face.
const NONE: u32 = u32::MAX;

enum Flip {
    /// Locally Delaunay, on the boundary or an interface.
    None,
    /// Not locally Delaunay, and no flip mends it.
    Stuck,
    /// Flipped: the new tetrahedra, and how many it replaced (2, 3 or 4).
    Done { created: Vec<u32>, removed: usize },
}

struct FlipMesh<'a> {
    nodes: &'a [DVec3],
    tets: Vec<[u32; 4]>,
    regions: Vec<u8>,
    alive: Vec<bool>,
    /// Sorted face -> the (one or two) tetrahedra holding it.
    faces: HashMap<[u32; 3], [u32; 2]>,
}

impl<'a> FlipMesh<'a> {
    fn new(nodes: &'a [DVec3], tets: Vec<[u32; 4]>, regions: Vec<u8>) -> Self {
        let mut mesh =
            FlipMesh { nodes, alive: vec![true; tets.len()], tets: Vec::new(), regions: Vec::new(), faces: HashMap::default() };
        mesh.faces.reserve(2 * tets.len() + 16);
        for (tet, region) in tets.into_iter().zip(regions) {
            mesh.push(tet, region);
        }
        mesh
    }

    fn point(&self, n: u32) -> DVec3 {
        self.nodes[n as usize]
    }

    fn push(&mut self, tet: [u32; 4], region: u8) -> u32 {
        let t = self.tets.len() as u32;
        self.tets.push(tet);
        self.regions.push(region);
        if self.alive.len() < self.tets.len() {
            self.alive.push(true);
        }
        for f in faces_of(tet) {
            let slot = self.faces.entry(f).or_insert([NONE, NONE]);
            if slot[0] == NONE {
                slot[0] = t;
            } else {
                slot[1] = t;
            }
        }
        t
    }

    fn remove(&mut self, t: u32) {
        self.alive[t as usize] = false;
        for f in faces_of(self.tets[t as usize]) {
            if let Some(slot) = self.faces.get_mut(&f) {
                if slot[0] == t {
                    slot[0] = slot[1];
                }
                slot[1] = NONE;
                if slot[0] == NONE {
                    self.faces.remove(&f);
                }
            }
        }
    }

    /// For an interior face of one region that is not locally Delaunay: its two tetrahedra and
    /// whether the violation is real (beyond [`INSPHERE_TOLERANCE`]).
    fn violation(&self, face: [u32; 3]) -> Option<(u32, u32, bool)> {
        let &[t1, t2] = self.faces.get(&face)?;
        if t2 == NONE || self.regions[t1 as usize] != self.regions[t2 as usize] {
            return None;
        }
        let d = opposite(self.tets[t1 as usize], face);
        let e = opposite(self.tets[t2 as usize], face);
        let p = [face[0], face[1], face[2], d].map(|n| self.point(n));
        let scale = p.iter().map(|q| q.distance_squared(self.point(e))).fold(0.0, f64::max);
        Some((t1, t2, inside_power(p, self.point(e)) > INSPHERE_TOLERANCE * scale))
    }

    fn try_flip(&mut self, face: [u32; 3]) -> Flip {
        let Some((t1, t2, true)) = self.violation(face) else { return Flip::None };
        let region = self.regions[t1 as usize];
        let d = opposite(self.tets[t1 as usize], face);
        let e = opposite(self.tets[t2 as usize], face);
        let [mut a, mut b, c] = face;
        if orient(self.point(a), self.point(b), self.point(c), self.point(d)) < 0.0 {
            std::mem::swap(&mut a, &mut b);
        }
        let (pd, pe) = (self.point(d), self.point(e));
        let length = [a, b, c].iter().map(|&n| self.point(n).distance(pd).max(self.point(n).distance(pe))).fold(0.0, f64::max);
        let tol = VOLUME_TOLERANCE * length.powi(3);
        let sides = [(a, b, c), (b, c, a), (c, a, b)].map(|(u, v, w)| (u, v, w, orient(self.point(u), self.point(v), pe, pd)));
        if sides.iter().all(|s| s.3 > tol) {
            return self.replace(&[t1, t2], &sides.map(|(u, v, _, _)| [u, v, e, d]), region, tol);
        }
        let convex = sides.iter().filter(|s| s.3 > tol).count();
        if convex != 2 {
            return Flip::Stuck;
        }
        let &(u, v, w, side) = sides.iter().find(|s| s.3 <= tol).expect("one side not convex");
        if side < -tol {
            self.flip_three_two([t1, t2], [u, v, w], [d, e], region, tol)
        } else {
            self.flip_four_four([t1, t2], [u, v, w], [d, e], region, tol)
        }
    }

    /// The segment `de` passes outside the face `uvw` across the edge `uv`: where exactly three
    /// tetrahedra `uvwd` (`t[0]`), `uvwe` (`t[1]`) and `uvde` surround `uv`, they become the two
    /// on the face `wde`.
    fn flip_three_two(&mut self, t: [u32; 2], [u, v, w]: [u32; 3], [d, e]: [u32; 2], region: u8, tol: f64) -> Flip {
        let Some(t3) = self.across(t[0], [u, v, d]) else { return Flip::Stuck };
        if !self.tets[t3 as usize].contains(&e) {
            return Flip::Stuck;
        }
        self.replace(&[t[0], t[1], t3], &[[u, w, d, e], [v, w, d, e]], region, tol)
    }

    /// The segment `de` passes through the edge `uv` (the four nodes are coplanar): where exactly
    /// four tetrahedra `uvwd` (`t[0]`), `uvwe` (`t[1]`), `uvfd` and `uvfe` surround `uv`, they
    /// become the four around `de` (the 4-4 flip: the plane's quadrilateral `udve` takes its other
    /// diagonal, as a 2D Delaunay flip would, on both sides of the plane at once).
    fn flip_four_four(&mut self, t: [u32; 2], [u, v, w]: [u32; 3], [d, e]: [u32; 2], region: u8, tol: f64) -> Flip {
        let (Some(t3), Some(t4)) = (self.across(t[0], [u, v, d]), self.across(t[1], [u, v, e])) else { return Flip::Stuck };
        let f = opposite(self.tets[t3 as usize], sorted([u, v, d]));
        if f == w || !self.tets[t4 as usize].contains(&f) {
            return Flip::Stuck;
        }
        self.replace(&[t[0], t[1], t3, t4], &[[u, w, d, e], [v, w, d, e], [u, f, d, e], [v, f, d, e]], region, tol)
    }

    /// The tetrahedron across `face` from `t`, if it is of `t`'s region.
    fn across(&self, t: u32, face: [u32; 3]) -> Option<u32> {
        let &[s1, s2] = self.faces.get(&sorted(face))?;
        let other = if s1 == t { s2 } else { s1 };
        (other != NONE && self.regions[other as usize] == self.regions[t as usize]).then_some(other)
    }

    /// Replaces the tetrahedra `old` by `new` (oriented here) where every new one has a volume
    /// above `tol` and together they fill the same volume.
    fn replace(&mut self, old: &[u32], new: &[[u32; 4]], region: u8, tol: f64) -> Flip {
        let volume = |t: [u32; 4]| orient(self.point(t[0]), self.point(t[1]), self.point(t[2]), self.point(t[3]));
        let new: Vec<[u32; 4]> = new.iter().map(|&t| oriented(self.nodes, t)).collect();
        let before: f64 = old.iter().map(|&t| volume(self.tets[t as usize])).sum();
        let after: f64 = new.iter().map(|&t| volume(t)).sum();
        if new.iter().any(|&t| volume(t) <= tol) || (after - before).abs() > 1e-9 * before {
            return Flip::Stuck;
        }
        let worst = |t: [u32; 4]| dihedral_angles(t.map(|n| self.point(n))).into_iter().fold(180.0, f64::min);
        let worst_before = old.iter().map(|&t| worst(self.tets[t as usize])).fold(180.0, f64::min);
        let worst_after = new.iter().map(|&t| worst(t)).fold(180.0, f64::min);
        if worst_after < worst_before.min(SLIVER_GUARD_DEG) {
            return Flip::Stuck;
        }
        for &t in old {
            self.remove(t);
        }
        let created = new.iter().map(|&t| self.push(t, region)).collect();
        Flip::Done { created, removed: old.len() }
    }

    fn into_live(self) -> (Vec<[u32; 4]>, Vec<u8>) {
        let alive = self.alive;
        let keep = |i: &usize| alive[*i];
        let tets = (0..self.tets.len()).filter(keep).map(|i| self.tets[i]).collect();
        let regions = (0..self.regions.len()).filter(keep).map(|i| self.regions[i]).collect();
        (tets, regions)
    }
}

/// Six times the signed volume of `abcd` (positive for the mesh's orientation).
fn orient(a: DVec3, b: DVec3, c: DVec3, d: DVec3) -> f64 {
    (b - a).cross(c - a).dot(d - a)
}

/// `t` with two nodes swapped where that makes it positively oriented.
fn oriented(nodes: &[DVec3], t: [u32; 4]) -> [u32; 4] {
    let [a, b, c, d] = t.map(|n| nodes[n as usize]);
    if orient(a, b, c, d) < 0.0 {
        [t[1], t[0], t[2], t[3]]
    } else {
        t
    }
}

/// `r^2 - |e - centre|^2` for the circumsphere of `p`: positive where `e` lies inside it. The
/// lifted determinant over the plain one, both with coordinates relative to `e`: the lifted
/// column is the plain one times `r^2 - |e - centre|^2` plus a combination of the others.
fn inside_power(p: [DVec3; 4], e: DVec3) -> f64 {
    let rows = p.map(|q| q - e);
    let lifted = det4(rows.map(|r| [r.x, r.y, r.z, r.length_squared()]));
    let plain = det4(rows.map(|r| [r.x, r.y, r.z, 1.0]));
    lifted / plain
}

fn det4(m: [[f64; 4]; 4]) -> f64 {
    let minor = |skip: usize| {
        let cols: Vec<usize> = (0..4).filter(|&c| c != skip).collect();
        let r = |i: usize| DVec3::new(m[i][cols[0]], m[i][cols[1]], m[i][cols[2]]);
        r(1).dot(r(2).cross(r(3)))
    };
    (0..4).map(|c| if c % 2 == 0 { m[0][c] * minor(c) } else { -m[0][c] * minor(c) }).sum()
}

fn sorted(mut f: [u32; 3]) -> [u32; 3] {
    f.sort_unstable();
    f
}

fn faces_of(t: [u32; 4]) -> [[u32; 3]; 4] {
    [[t[1], t[2], t[3]], [t[0], t[2], t[3]], [t[0], t[1], t[3]], [t[0], t[1], t[2]]].map(sorted)
}

/// The node of `t` not on `face`.
fn opposite(t: [u32; 4], face: [u32; 3]) -> u32 {
    *t.iter().find(|n| !face.contains(n)).expect("a face of the tetrahedron")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The power of a point against a circumsphere has the right sign and size: the unit
    /// tetrahedron's sphere is centred at (1/2, 1/2, 1/2) with r^2 = 3/4.
    #[test]
    fn inside_power_of_the_unit_tetrahedron() {
        let p = [DVec3::ZERO, DVec3::X, DVec3::Y, DVec3::Z];
        assert!((inside_power(p, DVec3::splat(0.5)) - 0.75).abs() < 1e-12);
        assert!((inside_power(p, DVec3::splat(2.0)) - (0.75 - 3.0 * 1.5f64.powi(2))).abs() < 1e-12);
        assert!(inside_power(p, DVec3::ONE).abs() < 1e-12, "the cube's far corner is on the sphere");
    }

    /// Two tetrahedra on a face whose far nodes lie inside each other's spheres become three
    /// around the segment joining them (a 2-3 flip), of the same total volume; the reverse
    /// configuration (three around a short edge) flips back to two (3-2).
    #[test]
    fn two_three_and_three_two_flips() {
        // A triangle with nodes far above and below it: each lies outside the other's sphere.
        let tall = |z: f64| vec![DVec3::ZERO, DVec3::X, DVec3::Y, DVec3::new(0.3, 0.3, z), DVec3::new(0.3, 0.3, -z)];
        let volumes = |nodes: &[DVec3], tets: &[[u32; 4]]| -> Vec<f64> {
            tets.iter()
                .map(|t| {
                    let [a, b, c, d] = t.map(|n| nodes[n as usize]);
                    orient(a, b, c, d)
                })
                .collect()
        };
        let nodes = tall(2.0);
        let mut tets = vec![oriented(&nodes, [0, 1, 2, 3]), oriented(&nodes, [0, 1, 2, 4])];
        let mut regions = vec![0, 0];
        assert_eq!(flip_toward_delaunay(&nodes, &mut tets, &mut regions), FlipCounts::default());
        // Close to the triangle, each lies inside the other's sphere: a 2-3 flip.
        let flat = tall(0.05);
        let counts = flip_toward_delaunay(&flat, &mut tets, &mut regions);
        assert_eq!((counts.two_to_three, counts.three_to_two, counts.unflippable, tets.len()), (1, 0, 0, 3));
        assert!(volumes(&flat, &tets).iter().all(|&v| v > 0.0), "positively oriented");
        // Six times the volume of two tetrahedra of base 1/2 and height 0.05.
        assert!((volumes(&flat, &tets).iter().sum::<f64>() - 0.1).abs() < 1e-12, "volume kept");
        assert_eq!(regions.len(), 3);
        // Three tetrahedra around the edge 3-4 (the mesh the 2-3 flip made, with the segment
        // lengthened): the sphere test now prefers the face 0-1-2 and a 3-2 flip restores it.
        let counts = flip_toward_delaunay(&nodes, &mut tets, &mut regions);
        assert_eq!((counts.two_to_three, counts.three_to_two, tets.len()), (0, 1, 2));
        let mut kept: Vec<[u32; 4]> = tets
            .iter()
            .map(|t| {
                let mut s = *t;
                s.sort_unstable();
                s
            })
            .collect();
        kept.sort_unstable();
        assert_eq!(kept, vec![[0, 1, 2, 3], [0, 1, 2, 4]]);
    }

    /// Faces between regions are never flipped.
    #[test]
    fn interfaces_stay() {
        let nodes = vec![DVec3::ZERO, DVec3::X, DVec3::Y, DVec3::new(0.3, 0.3, 0.05), DVec3::new(0.3, 0.3, -0.05)];
        let mut tets = vec![oriented(&nodes, [0, 1, 2, 3]), oriented(&nodes, [0, 1, 2, 4])];
        let mut regions = vec![0, 1];
        assert_eq!(flip_toward_delaunay(&nodes, &mut tets, &mut regions).two_to_three, 0);
        assert_eq!(tets.len(), 2);
    }
}
