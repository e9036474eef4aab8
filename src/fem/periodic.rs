//! Periodic side walls by node identification: every node on the wall x = +w is the image of the
//! node at the same (y, z) on x = -w, and likewise for y, so the box becomes one cell of an
//! infinite array. The P1 system on the identified nodes is the fold `P^T K P` of the assembled
//! one: a slave's row and column are added to its representative's, so each edge across the
//! identified walls gets the weights of the tets on both sides.
//!
//! Slaves keep their place in the node numbering with an identity row and no couplings; they are
//! never unknowns, and take their representative's values after a solve.

use std::collections::HashMap;

use super::CsrMatrix;
use crate::mesh::TetMesh;

/// The representative of every node (itself unless it lies on an x = +w or y = +w wall).
/// Fails, naming the node, when a wall node has no image on the opposite wall (the side meshes do
/// not match).
pub fn representatives(mesh: &TetMesh, half_width: f64) -> Result<Vec<u32>, String> {
    let w = half_width;
    let tol = 1e-9 * w;
    let key = |a: f64, b: f64| ((a / tol).round() as i64, (b / tol).round() as i64);
    let mut rep: Vec<u32> = (0..mesh.nodes.len() as u32).collect();
    for axis in 0..2 {
        let other = 1 - axis;
        let mut low: HashMap<(i64, i64), u32> = HashMap::new();
        for (n, p) in mesh.nodes.iter().enumerate() {
            if (p[axis] + w).abs() <= tol {
                low.insert(key(p[other], p.z), n as u32);
            }
        }
        for (n, p) in mesh.nodes.iter().enumerate() {
            if (p[axis] - w).abs() > tol {
                continue;
            }
            let image = low.get(&key(p[other], p.z)).copied().ok_or_else(|| {
                let name = ["x", "y"][axis];
                format!(
                    "geometry.sides = \"periodic\": mesh node {n} at ({:.6e}, {:.6e}, {:.6e}) m on the {name} = +w wall has no \
                     image on the {name} = -w wall (the side meshes do not match); keep protrusions, layers and scaffolds \
                     clear of the side walls, or use mesh.generator = \"layered\"",
                    p.x, p.y, p.z
                )
            })?;
            rep[n] = image;
        }
    }
    // A corner node maps through both walls; resolve chains to their end.
    for n in 0..rep.len() {
        let mut r = rep[n];
        while rep[r as usize] != r {
            r = rep[r as usize];
        }
        rep[n] = r;
    }
    Ok(rep)
}

/// The fold `P^T K P` in the node numbering: entries of slave rows and columns move to their
/// representatives; slave rows become identity rows.
pub fn fold_matrix(k: &CsrMatrix, rep: &[u32]) -> CsrMatrix {
    let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); k.n];
    for i in 0..k.n {
        let r = rep[i] as usize;
        for p in k.row_ptr[i] as usize..k.row_ptr[i + 1] as usize {
            rows[r].push((rep[k.col_idx[p] as usize], k.values[p]));
        }
    }
    let (mut row_ptr, mut col_idx, mut values) = (vec![0u32], Vec::with_capacity(k.nnz()), Vec::with_capacity(k.nnz()));
    for (i, row) in rows.iter_mut().enumerate() {
        if rep[i] as usize != i {
            row.push((i as u32, 1.0));
        }
        row.sort_by_key(|&(j, _)| j);
        for &(j, v) in row.iter() {
            if col_idx.len() > *row_ptr.last().expect("row start") as usize && *col_idx.last().expect("entry") == j {
                *values.last_mut().expect("entry") += v;
            } else {
                col_idx.push(j);
                values.push(v);
            }
        }
        row_ptr.push(col_idx.len() as u32);
    }
    CsrMatrix { n: k.n, row_ptr, col_idx, values }
}

/// Adds each slave's value into its representative's and zeroes the slave's (nodal volumes,
/// lumped areas).
pub fn fold_nodal(values: &mut [f64], rep: &[u32]) {
    for n in 0..values.len() {
        let r = rep[n] as usize;
        if r != n {
            values[r] += values[n];
            values[n] = 0.0;
        }
    }
}

/// Gives every slave its representative's value.
pub fn expand(values: &mut [f64], rep: &[u32]) {
    for n in 0..values.len() {
        values[n] = values[rep[n] as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_sums_rows_and_columns_into_representatives() {
        // Three nodes in a chain 0 - 1 - 2 with node 2 the image of node 0: a ring of two.
        let k = CsrMatrix {
            n: 3,
            row_ptr: vec![0, 2, 5, 7],
            col_idx: vec![0, 1, 0, 1, 2, 1, 2],
            values: vec![1.0, -1.0, -1.0, 2.0, -1.0, -1.0, 1.0],
        };
        let rep = [0, 1, 0];
        let f = fold_matrix(&k, &rep);
        let dense = |i: usize, j: u32| f.find(i, j).map_or(0.0, |p| f.values[p]);
        // The ring Laplacian of two nodes joined by two edges: [[2, -2], [-2, 2]].
        assert_eq!((dense(0, 0), dense(0, 1), dense(1, 0), dense(1, 1)), (2.0, -2.0, -2.0, 2.0));
        assert_eq!((dense(2, 2), dense(2, 0), dense(0, 2)), (1.0, 0.0, 0.0));
        let mut v = vec![1.0, 2.0, 3.0];
        fold_nodal(&mut v, &rep);
        assert_eq!(v, vec![4.0, 2.0, 0.0]);
        expand(&mut v, &rep);
        assert_eq!(v, vec![4.0, 2.0, 4.0]);
    }
}
