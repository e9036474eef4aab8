//! Smoothed aggregation for the node-block systems of the transport models: `m` unknowns per
//! node, interleaved (row `a m + i` is unknown i of node a), nonsymmetric. A preconditioner for
//! GMRES.
//!
//! Setup per level: the node graph of per-unknown strengths ([`node_graph`]) is aggregated as in
//! [`super::amg`], nodes without strong connections left out of every aggregate; the tentative
//! prolongator is `T (x) I_m` (each aggregate carries every unknown of its nodes); it is smoothed by one damped block-Jacobi step,
//! `P = (I - omega D^-1 A) T`, omega = 4 / (3 rho(D^-1 A)); `R = P^T` and `A_c = R A P`. The
//! coarsest operator is factorised densely (LU with partial pivoting). The V-cycle smooths with
//! damped block Jacobi before and after the coarse correction; it applies each level's operator
//! as m x m blocks stored in f32 ([`BlockCsr`]; f64 where a value would overflow f32), the
//! precision the device hierarchy has, which the preconditioner tolerates and which moves 2.7
//! times fewer bytes than the f64 scalar form at m = 3.

use rayon::prelude::*;

use super::amg::{aggregate, dense_inverse, AmgParams, Sparse, ISOLATED};
use crate::fem::block_csr::{block_multiply_add, BlockCsr};
use crate::fem::dense::inverse_block;
use crate::fem::CsrMatrix;

/// One level as the V-cycle applies it: operator, prolongator and restriction (f32 blocks; the
/// f64 ones the setup formed them from are dropped), inverse diagonal blocks, smoother weight.
struct BlockLevel {
    a: CycleOperator,
    p: CycleOperator,
    r: CycleOperator,
    dinv: Vec<f64>,
    omega: f64,
}

/// The block hierarchy of one matrix.
pub struct BlockHierarchy {
    levels: Vec<BlockLevel>,
    coarse: DenseLu,
    m: usize,
    sweeps: usize,
}

/// Most unknowns of a coarsest level that coarsening left above [`AmgParams::max_coarse`] nodes,
/// factorised densely (about a gigaflop at this size).
const MAX_DENSE_COARSE: usize = 1500;

impl BlockHierarchy {
    /// Builds the hierarchy of `a` with `m` unknowns per node; None if the coarsest operator is
    /// singular, if coarsening stopped above `max_coarse` nodes with more than
    /// [`MAX_DENSE_COARSE`] unknowns, or if `m` does not divide the size. Every product of the
    /// setup is formed on m x m blocks ([`BlockCsr::multiply`]): one index operation per block
    /// pair instead of one per scalar pair.
    pub fn build(a: &CsrMatrix, m: usize, params: &AmgParams) -> Option<Self> {
        if m == 0 || a.n % m != 0 {
            return None;
        }
        let mut levels = Vec::new();
        let mut current = BlockCsr::<f64>::from_csr(a, m);
        while current.rows() > params.max_coarse && levels.len() + 1 < params.max_levels {
            let dinv = inverse_diagonal_blocks(&current);
            let a = CycleOperator::new(&current);
            let rho = spectral_radius(&a, &dinv, m);
            let omega = 4.0 / (3.0 * rho);
            let theta = params.strength * 0.5f64.powi(levels.len() as i32);
            let (aggregates, count) = aggregate(&node_graph(&current), theta, true);
            if count == 0 || count == current.rows() {
                break;
            }
            let p = smoothed_prolongator(&current, &dinv, omega, &aggregates, count);
            let r = p.transpose();
            let coarse = r.multiply(&current.multiply(&p));
            let (p, r) = (CycleOperator::new(&p), CycleOperator::new(&r));
            levels.push(BlockLevel { a, p, r, dinv, omega });
            current = coarse;
        }
        if current.rows() > params.max_coarse && current.rows() * m > MAX_DENSE_COARSE {
            // Coarsening stopped early (every node isolated: a matrix dominated by its diagonal);
            // the caller's fallback (ILU or banded LU) serves such a matrix better than a large
            // dense factorisation.
            return None;
        }
        let coarse = DenseLu::factor(&current.to_csr())?;
        Some(BlockHierarchy { levels, coarse, m, sweeps: params.sweeps })
    }

    /// Unknowns per level, finest first, the coarsest last.
    pub fn sizes(&self) -> Vec<usize> {
        self.levels.iter().map(|l| l.a.n()).chain([self.coarse.n]).collect()
    }

    /// Per level, finest first, in scalar CSR form (for a device upload, in f32 there too): the
    /// operator, prolongator, restriction, the inverse diagonal blocks (m x m, row-major per
    /// node) and the smoother's weight.
    pub fn levels(&self) -> impl Iterator<Item = (CsrMatrix, Sparse, Sparse, &[f64], f64)> {
        let sparse = |b: &CycleOperator| Sparse { m: b.to_csr(), cols: b.cols() };
        self.levels.iter().map(move |l| (l.a.to_csr(), sparse(&l.p), sparse(&l.r), l.dinv.as_slice(), l.omega))
    }

    /// Unknowns per node.
    pub fn block(&self) -> usize {
        self.m
    }

    /// Smoothing sweeps before and after each coarse correction.
    pub fn sweeps(&self) -> usize {
        self.sweeps
    }

    /// The coarsest operator's inverse as a dense CSR matrix (one LU solve per unit vector).
    pub fn coarse_inverse(&self) -> CsrMatrix {
        dense_inverse(self.coarse.n, |e| self.coarse.solve(e))
    }

    /// z = M^-1 r: one V-cycle from zero.
    pub fn apply(&self, r: &[f64], z: &mut [f64]) {
        self.cycle(0, r, z);
    }

    fn cycle(&self, level: usize, b: &[f64], x: &mut [f64]) {
        let Some(l) = self.levels.get(level) else {
            x.copy_from_slice(&self.coarse.solve(b));
            return;
        };
        // From x = 0 the first sweep's residual is b itself (A 0 = 0 exactly): one product saved.
        x.fill(0.0);
        let mut r = b.to_vec();
        for sweep in 0..self.sweeps {
            if sweep > 0 {
                residual(&l.a, b, x, &mut r);
            }
            self.correct(l, &r, x);
        }
        residual(&l.a, b, x, &mut r);
        let mut bc = vec![0.0; l.r.n()];
        l.r.spmv(&r, &mut bc);
        let mut xc = vec![0.0; bc.len()];
        self.cycle(level + 1, &bc, &mut xc);
        l.p.spmv_add(&xc, x);
        for _ in 0..self.sweeps {
            residual(&l.a, b, x, &mut r);
            self.correct(l, &r, x);
        }
    }

    /// One block-Jacobi sweep given the residual r = b - A x: x += omega D^-1 r with the inverse
    /// diagonal blocks.
    fn correct(&self, l: &BlockLevel, r: &[f64], x: &mut [f64]) {
        let m = self.m;
        x.par_chunks_mut(m).zip(r.par_chunks(m)).zip(l.dinv.par_chunks(m * m)).with_min_len(1024).for_each(|((x, r), block)| {
            for i in 0..m {
                let s: f64 = (0..m).map(|j| block[i * m + j] * r[j]).sum();
                x[i] += l.omega * s;
            }
        });
    }
}

/// `a` in the scalar pattern of the hierarchy's finest level: its m x m node blocks expanded
/// (zeros within a block stored), the form [`BlockHierarchy::levels`] gives the device.
pub fn expanded(a: &CsrMatrix, m: usize) -> CsrMatrix {
    BlockCsr::<f64>::from_csr(a, m).to_csr()
}

/// A level's matrix as the V-cycle applies it: f32 blocks unless a value would overflow f32.
enum CycleOperator {
    Single(BlockCsr<f32>),
    Double(BlockCsr<f64>),
}

impl CycleOperator {
    /// f32 blocks unless a value would overflow f32.
    fn new(a: &BlockCsr<f64>) -> Self {
        if a.fits_f32() {
            CycleOperator::Single(a.convert())
        } else {
            CycleOperator::Double(a.clone())
        }
    }

    fn spmv(&self, x: &[f64], y: &mut [f64]) {
        match self {
            CycleOperator::Single(a) => a.spmv(x, y),
            CycleOperator::Double(a) => a.spmv(x, y),
        }
    }

    fn spmv_add(&self, x: &[f64], y: &mut [f64]) {
        match self {
            CycleOperator::Single(a) => a.spmv_add(x, y),
            CycleOperator::Double(a) => a.spmv_add(x, y),
        }
    }

    /// Scalar rows.
    fn n(&self) -> usize {
        match self {
            CycleOperator::Single(a) => a.n(),
            CycleOperator::Double(a) => a.n(),
        }
    }

    /// Scalar columns.
    fn cols(&self) -> usize {
        match self {
            CycleOperator::Single(a) => a.cols * a.m,
            CycleOperator::Double(a) => a.cols * a.m,
        }
    }

    fn to_csr(&self) -> CsrMatrix {
        match self {
            CycleOperator::Single(a) => a.to_csr(),
            CycleOperator::Double(a) => a.to_csr(),
        }
    }
}

fn residual(a: &CycleOperator, b: &[f64], x: &[f64], r: &mut [f64]) {
    a.spmv(x, r);
    r.par_iter_mut().zip(b).with_min_len(4096).for_each(|(ri, bi)| *ri = bi - *ri);
}

/// Inverses of the diagonal blocks (m x m, row-major per node).
fn inverse_diagonal_blocks(a: &BlockCsr<f64>) -> Vec<f64> {
    (0..a.rows()).into_par_iter().with_min_len(1024).flat_map_iter(|node| inverse_block(&a.diagonal_block(node), a.m)).collect()
}

/// The node graph the strength test reads: 1 on the diagonal and, for nodes a != b,
///
/// ```text
///     -max_r |A_ab[r][r]| / sqrt(|A_aa[r][r]| |A_bb[r][r]|)
/// ```
///
/// over the unknowns r whose diagonal entries are nonzero: a is strongly connected to b when one
/// unknown is, on the scale of that unknown's own equation. A norm of the whole block instead
/// lets the largest equation decide: at a short time step the concentration rows' accumulation
/// `V / dt` outweighs every coupling, so every node looked isolated, and the potential's equation
/// (which has no time derivative) lost its coarse space.
fn node_graph(a: &BlockCsr<f64>) -> CsrMatrix {
    let (m, mm) = (a.m, a.m * a.m);
    let diagonal: Vec<f64> = (0..a.rows())
        .into_par_iter()
        .with_min_len(1024)
        .flat_map_iter(|node| {
            let block = a.diagonal_block(node);
            (0..m).map(move |r| block[r * m + r].abs())
        })
        .collect();
    let values = (0..a.rows())
        .into_par_iter()
        .with_min_len(1024)
        .flat_map_iter(|node| {
            let diagonal = &diagonal;
            (a.row_ptr[node] as usize..a.row_ptr[node + 1] as usize).map(move |k| {
                let b = a.col_idx[k] as usize;
                if b == node {
                    return 1.0;
                }
                let block = &a.values[k * mm..(k + 1) * mm];
                let strength = (0..m)
                    .map(|r| (block[r * m + r].abs(), diagonal[node * m + r] * diagonal[b * m + r]))
                    .filter(|&(_, scale)| scale > 0.0)
                    .map(|(v, scale)| v / scale.sqrt())
                    .fold(0.0, f64::max);
                -strength
            })
        })
        .collect();
    CsrMatrix { n: a.rows(), row_ptr: a.row_ptr.clone(), col_idx: a.col_idx.clone(), values }
}

/// P = (I - omega D^-1 A)(T (x) I_m), T the aggregation (node a to its aggregate): node row a of
/// P has, in the column of each aggregate g it touches, the sum over a's neighbours b in g of
/// `delta_ab I - omega Dinv_a A_ab`.
fn smoothed_prolongator(a: &BlockCsr<f64>, dinv: &[f64], omega: f64, aggregates: &[u32], count: usize) -> BlockCsr<f64> {
    let m = a.m;
    let mm = m * m;
    let rows = (0..a.rows())
        .into_par_iter()
        .with_min_len(256)
        .map_init(
            || vec![u32::MAX; count],
            |slot, node| {
                let inverse = &dinv[node * mm..(node + 1) * mm];
                let (mut cols, mut acc): (Vec<u32>, Vec<f64>) = (Vec::new(), Vec::new());
                let mut scaled = vec![0.0; mm];
                for k in a.row_ptr[node] as usize..a.row_ptr[node + 1] as usize {
                    let b = a.col_idx[k] as usize;
                    if aggregates[b] == ISOLATED {
                        continue;
                    }
                    let g = aggregates[b] as usize;
                    if slot[g] == u32::MAX {
                        slot[g] = cols.len() as u32;
                        cols.push(g as u32);
                        acc.extend(std::iter::repeat_n(0.0, mm));
                    }
                    let target = &mut acc[slot[g] as usize * mm..(slot[g] as usize + 1) * mm];
                    scaled.fill(0.0);
                    block_multiply_add(m, inverse, &a.values[k * mm..(k + 1) * mm], &mut scaled);
                    for (t, s) in target.iter_mut().zip(&scaled) {
                        *t -= omega * s;
                    }
                    if b == node {
                        (0..m).for_each(|i| target[i * m + i] += 1.0);
                    }
                }
                cols.iter().for_each(|&g| slot[g as usize] = u32::MAX);
                let mut order: Vec<usize> = (0..cols.len()).collect();
                order.sort_unstable_by_key(|&t| cols[t]);
                let values = order.iter().flat_map(|&t| acc[t * mm..(t + 1) * mm].iter().copied()).collect();
                (order.iter().map(|&t| cols[t]).collect(), values)
            },
        )
        .collect();
    BlockCsr::from_block_rows(m, count, rows)
}

/// Largest |eigenvalue| of D^-1 A by power iteration (20 steps from a fixed start).
fn spectral_radius(a: &CycleOperator, dinv: &[f64], m: usize) -> f64 {
    let n = dinv.len() / m;
    let mut x: Vec<f64> = (0..n).map(|i| 1.0 + 0.1 * ((i * 7919) % 13) as f64).collect();
    let start = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    x.iter_mut().for_each(|v| *v /= start);
    let mut y = vec![0.0; n];
    let mut rho = 1.0;
    for _ in 0..20 {
        a.spmv(&x, &mut y);
        for (node, block) in dinv.chunks_exact(m * m).enumerate() {
            let r: Vec<f64> = y[node * m..(node + 1) * m].to_vec();
            for i in 0..m {
                x[node * m + i] = (0..m).map(|j| block[i * m + j] * r[j]).sum();
            }
        }
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            break;
        }
        rho = norm;
        x.iter_mut().for_each(|v| *v /= norm);
    }
    rho.max(1e-12)
}

/// Dense LU with partial pivoting of a small matrix.
struct DenseLu {
    n: usize,
    lu: Vec<f64>,
    pivot: Vec<usize>,
}

impl DenseLu {
    fn factor(a: &CsrMatrix) -> Option<Self> {
        let n = a.n;
        let mut lu = vec![0.0; n * n];
        for i in 0..n {
            for k in a.row_ptr[i] as usize..a.row_ptr[i + 1] as usize {
                lu[i * n + a.col_idx[k] as usize] += a.values[k];
            }
        }
        let scale = lu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut pivot = vec![0; n];
        for c in 0..n {
            let p = (c..n).max_by(|&i, &j| lu[i * n + c].abs().total_cmp(&lu[j * n + c].abs()))?;
            if lu[p * n + c].abs() <= 1e-14 * scale {
                return None;
            }
            pivot[c] = p;
            if p != c {
                for j in 0..n {
                    lu.swap(c * n + j, p * n + j);
                }
            }
            let d = lu[c * n + c];
            for i in c + 1..n {
                let f = lu[i * n + c] / d;
                lu[i * n + c] = f;
                if f != 0.0 {
                    for j in c + 1..n {
                        lu[i * n + j] -= f * lu[c * n + j];
                    }
                }
            }
        }
        Some(DenseLu { n, lu, pivot })
    }

    fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.n;
        let mut x = b.to_vec();
        for c in 0..n {
            x.swap(c, self.pivot[c]);
        }
        for i in 0..n {
            let s: f64 = (0..i).map(|j| self.lu[i * n + j] * x[j]).sum();
            x[i] -= s;
        }
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|j| self.lu[i * n + j] * x[j]).sum();
            x[i] = (x[i] - s) / self.lu[i * n + i];
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1D two-species convection-diffusion system, nonsymmetric, coupled within each node.
    fn block_system(nodes: usize) -> CsrMatrix {
        let m = 2;
        let rows = (0..nodes * m)
            .map(|row| {
                let (node, i) = (row / m, row % m);
                let mut r = vec![(row as u32, 2.1 + 0.1 * i as f64)];
                r.push(((node * m + 1 - i) as u32, -0.05)); // coupling within the node
                if node > 0 {
                    r.push((((node - 1) * m + i) as u32, -1.2));
                }
                if node + 1 < nodes {
                    r.push((((node + 1) * m + i) as u32, -0.8));
                }
                r
            })
            .collect();
        CsrMatrix::from_rows(rows)
    }

    #[test]
    fn dense_lu_solves_a_pivoting_system() {
        let a = CsrMatrix::from_rows(vec![vec![(1, 2.0), (2, 1.0)], vec![(0, 1.0), (1, 1.0)], vec![(0, 3.0), (2, 1.0)]]);
        let x_true = [1.0, -2.0, 0.5];
        let mut b = vec![0.0; 3];
        a.spmv(&x_true, &mut b);
        let x = DenseLu::factor(&a).expect("nonsingular").solve(&b);
        assert!(x.iter().zip(&x_true).all(|(x, t)| (x - t).abs() < 1e-14), "{x:?}");
    }

    #[test]
    fn a_v_cycle_reduces_the_error_of_a_block_system() {
        v_cycles_reduce_the_error(block_system(2000), &AmgParams { max_coarse: 50, ..Default::default() }, 10);
    }

    #[test]
    fn values_beyond_f32_keep_f64_operators() {
        // Scaled past f32::MAX (3.4e38) an f32 copy would be infinite; the cycle keeps f64.
        let mut a = block_system(2000);
        a.values.iter_mut().for_each(|v| *v *= 1e50);
        v_cycles_reduce_the_error(a, &AmgParams { max_coarse: 50, ..Default::default() }, 10);
    }

    /// A transport-like Jacobian at a short time step on a cut hemisphere mesh: per node a
    /// concentration unknown dominated by its accumulation term (1e3 times its diffusion
    /// diagonal) and a potential unknown with the bare Laplacian (shifted by 1% so the system is
    /// nonsingular), weakly coupled within the node.
    fn short_step_system() -> CsrMatrix {
        use crate::geometry::{ElectrodeGeometry, Shape};
        let geom = ElectrodeGeometry {
            half_width: 1.0,
            height: 1.0,
            shapes: vec![Shape::Spheroid { center: glam::DVec3::ZERO, base_radius: 0.45, height: 0.45 }],
            layers: vec![],
            scaffold: Default::default(),
            periodic: false,
            ground: None,
        };
        let mesh = crate::mesh::generate(&geom, &crate::mesh::SizeField::graded(0.1, 0.2, 1.3)).expect("mesh");
        let k = crate::fem::assembly::laplacian(&mesh, 1.0);
        let rows = (0..2 * k.n)
            .map(|row| {
                let (node, i) = (row / 2, row % 2);
                let mut r = Vec::new();
                for p in k.row_ptr[node] as usize..k.row_ptr[node + 1] as usize {
                    let (col, v) = (k.col_idx[p] as usize, k.values[p]);
                    let diagonal = if col == node { [1e3 * v, 0.01 * v][i] } else { 0.0 };
                    r.push(((2 * col + i) as u32, v + diagonal));
                    if col == node {
                        r.push(((2 * col + 1 - i) as u32, 0.01 * v));
                    }
                }
                r
            })
            .collect();
        CsrMatrix::from_rows(rows)
    }

    /// Strength is judged per unknown: the mass-dominated concentrations would make every node
    /// look isolated by a block norm, leaving the potential without a coarse space (each node a
    /// singleton aggregate before isolated nodes were left out: levels that coarsened by 2.3x
    /// with Galerkin operators of thousands of nonzeros per row).
    #[test]
    fn a_short_step_system_coarsens_fast_and_keeps_a_coarse_space() {
        let a = short_step_system();
        let h = BlockHierarchy::build(&a, 2, &AmgParams::default()).expect("hierarchy");
        let sizes = h.sizes();
        let nnz: Vec<usize> = h.levels().map(|l| l.0.nnz()).collect();
        // Nonzeros of every level's operator (the coarsest dense) over the finest's.
        let complexity = (nnz.iter().sum::<usize>() + sizes.last().unwrap().pow(2)) as f64 / nnz[0] as f64;
        assert!(sizes.len() >= 2 && sizes[1] * 4 <= sizes[0], "levels {sizes:?}");
        assert!(complexity < 2.0, "operator complexity {complexity:.2}, levels {sizes:?}, nonzeros {nnz:?}");
        v_cycles_reduce_the_error(a, &AmgParams::default(), 16);
    }

    /// `cycles` V-cycles of the hierarchy of `a` (two unknowns per node, at least two levels) as
    /// a stationary iteration reduce the error by 1e6.
    fn v_cycles_reduce_the_error(a: CsrMatrix, params: &AmgParams, cycles: usize) {
        let h = BlockHierarchy::build(&a, 2, params).expect("hierarchy");
        assert!(h.sizes().len() >= 2, "levels {:?}", h.sizes());
        // Stationary iteration x += M^-1 (b - A x): converges when the V-cycle is a good
        // approximate inverse.
        let x_true: Vec<f64> = (0..a.n).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
        let mut b = vec![0.0; a.n];
        a.spmv(&x_true, &mut b);
        let (mut x, mut r, mut z) = (vec![0.0; a.n], vec![0.0; a.n], vec![0.0; a.n]);
        let error = |x: &[f64]| x.iter().zip(&x_true).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
        let e0 = error(&x);
        for _ in 0..cycles {
            a.spmv(&x, &mut r);
            r.iter_mut().zip(&b).for_each(|(ri, bi)| *ri = bi - *ri);
            h.apply(&r, &mut z);
            x.iter_mut().zip(&z).for_each(|(xi, zi)| *xi += zi);
        }
        assert!(error(&x) < 1e-6 * e0, "{cycles} V-cycles reduced the error only to {:e} of {e0:e}", error(&x));
    }
}
