//! Node-to-node adjacency of a tetrahedral mesh in compressed form: the pattern of the P1
//! matrices and the graph that node orderings walk.

use rayon::prelude::*;

/// For each node, the sorted nodes that share a tetrahedron with it, itself included:
/// `neighbours[first[i]..first[i + 1]]`.
pub struct Adjacency {
    pub first: Vec<u32>,
    pub neighbours: Vec<u32>,
}

impl Adjacency {
    /// The adjacency of `nodes` nodes under `tets`: each node's row gathered from its
    /// tetrahedra ([`Incidence`]), sorted and deduplicated, in parallel.
    pub fn of(nodes: usize, tets: &[[u32; 4]]) -> Self {
        let incidence = Incidence::of(nodes, tets);
        let rows: Vec<Vec<u32>> = (0..nodes)
            .into_par_iter()
            .with_min_len(256)
            .map(|i| {
                let mut row: Vec<u32> = incidence.tets_at(i).iter().flat_map(|&t| tets[t as usize]).collect();
                row.sort_unstable();
                row.dedup();
                row
            })
            .collect();
        let mut first = Vec::with_capacity(nodes + 1);
        let mut neighbours = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        first.push(0u32);
        for row in &rows {
            neighbours.extend_from_slice(row);
            // Meshes are capped far below this (60M background tetrahedra, or the memory budget).
            first.push(u32::try_from(neighbours.len()).expect("fewer than 2^32 adjacency entries"));
        }
        Adjacency { first, neighbours }
    }

    /// Node `i`'s row (itself included), sorted.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.neighbours[self.first[i] as usize..self.first[i + 1] as usize]
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.first.len() - 1
    }
}

/// For each node, the tetrahedra that contain it (in increasing order):
/// `tets[first[i]..first[i + 1]]`, built by a counting sort.
pub struct Incidence {
    first: Vec<usize>,
    tets: Vec<u32>,
}

impl Incidence {
    pub fn of(nodes: usize, tets: &[[u32; 4]]) -> Self {
        let mut first = vec![0usize; nodes + 1];
        for &a in tets.iter().flatten() {
            first[a as usize + 1] += 1;
        }
        for i in 0..nodes {
            first[i + 1] += first[i];
        }
        let mut next = first.clone();
        let mut touching = vec![0u32; first[nodes]];
        for (t, tet) in tets.iter().enumerate() {
            for &a in tet {
                touching[next[a as usize]] = t as u32;
                next[a as usize] += 1;
            }
        }
        Incidence { first, tets: touching }
    }

    /// The tetrahedra at node `i`.
    pub fn tets_at(&self, i: usize) -> &[u32] {
        &self.tets[self.first[i]..self.first[i + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_tets_sharing_a_face() {
        let a = Adjacency::of(6, &[[0, 1, 2, 3], [1, 2, 3, 4]]);
        assert_eq!(a.row(0), [0, 1, 2, 3]);
        assert_eq!(a.row(1), [0, 1, 2, 3, 4]);
        assert_eq!(a.row(4), [1, 2, 3, 4]);
        assert!(a.row(5).is_empty(), "a node in no tetrahedron has no row entries");
        assert_eq!(a.nodes(), 6);
        let incidence = Incidence::of(6, &[[0, 1, 2, 3], [1, 2, 3, 4]]);
        assert_eq!([0, 1, 4, 5].map(|i| incidence.tets_at(i).to_vec()), [vec![0], vec![0, 1], vec![1], vec![]]);
    }
}
