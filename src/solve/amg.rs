//! Smoothed-aggregation algebraic multigrid (Vaněk, Mandel, Brezina 1996) for the SPD systems of
//! the potential problem, used as the preconditioner of conjugate gradients.
//!
//! Setup, level by level, until at most [`AmgParams::max_coarse`] unknowns remain:
//! 1. strength: j is strongly coupled to i when `|a_ij| >= theta sqrt(|a_ii a_jj|)`, theta
//!    halving from level to level;
//! 2. aggregation: greedy, over the strength graph: a node whose strong neighbours are all free
//!    starts an aggregate with them; the nodes left join a neighbouring aggregate; what is still
//!    left forms aggregates of its own (the node-block variant leaves nodes without any strong
//!    neighbour out instead: [`aggregate`]);
//! 3. tentative prolongator T: one column per aggregate, constant on it (the near-null space of
//!    a Laplacian is the constant), scaled to unit norm;
//! 4. smoothed prolongator `P = (I - omega D^-1 A) T` with `omega = 4 / (3 rho(D^-1 A))`, rho by
//!    power iteration;
//! 5. Galerkin coarse operator `A_c = P^T A P`.
//!
//! The coarsest system is factorised densely (Cholesky). One application of the preconditioner
//! is a V-cycle from a zero guess with `sweeps` damped-Jacobi sweeps before and after each
//! coarse correction (the same weight omega): a symmetric operator, as CG needs. Every step is a
//! sparse matrix-vector product or a vector update, which is what makes the cycle portable to
//! the GPU kernels.

use rayon::prelude::*;

use crate::fem::CsrMatrix;

/// Setup parameters.
#[derive(Debug, Clone, Copy)]
pub struct AmgParams {
    /// Strength-of-connection threshold theta on the finest level (halved on each coarser one).
    pub strength: f64,
    /// Stop coarsening at this many unknowns.
    pub max_coarse: usize,
    /// At most this many levels.
    pub max_levels: usize,
    /// Damped-Jacobi sweeps before and after each coarse correction.
    pub sweeps: usize,
}

impl Default for AmgParams {
    fn default() -> Self {
        AmgParams { strength: 0.08, max_coarse: 300, max_levels: 12, sweeps: 2 }
    }
}

/// A sparse matrix with its column count (CsrMatrix keeps only the row count).
#[derive(Debug, Clone)]
pub struct Sparse {
    pub m: CsrMatrix,
    pub cols: usize,
}

impl Sparse {
    /// y = M x (rayon over rows).
    pub fn apply(&self, x: &[f64], y: &mut [f64]) {
        debug_assert_eq!(x.len(), self.cols);
        let m = &self.m;
        y.par_iter_mut().enumerate().with_min_len(2048).for_each(|(i, yi)| *yi = m.row_dot(i, x));
    }

    /// y += M x (rayon over rows).
    pub fn apply_add(&self, x: &[f64], y: &mut [f64]) {
        debug_assert_eq!(x.len(), self.cols);
        let m = &self.m;
        y.par_iter_mut().enumerate().with_min_len(2048).for_each(|(i, yi)| *yi += m.row_dot(i, x));
    }

    /// The transpose.
    pub fn transpose(&self) -> Sparse {
        let m = &self.m;
        let mut count = vec![0u32; self.cols + 1];
        for &j in &m.col_idx {
            count[j as usize + 1] += 1;
        }
        for k in 0..self.cols {
            count[k + 1] += count[k];
        }
        let mut next = count.clone();
        let mut col_idx = vec![0u32; m.col_idx.len()];
        let mut values = vec![0.0; m.values.len()];
        for i in 0..m.n {
            for k in m.row_ptr[i] as usize..m.row_ptr[i + 1] as usize {
                let j = m.col_idx[k] as usize;
                let slot = next[j] as usize;
                col_idx[slot] = i as u32;
                values[slot] = m.values[k];
                next[j] += 1;
            }
        }
        Sparse { m: CsrMatrix { n: self.cols, row_ptr: count, col_idx, values }, cols: m.n }
    }

    /// The product self * other (Gustavson's row-by-row algorithm): rows in parallel chunks,
    /// each written straight into flat column and value arrays. With `sorted` the column indices
    /// of each row come out increasing (what `CsrMatrix::find` needs); products that are only
    /// multiplied or transposed further skip the sort.
    pub fn multiply(&self, other: &Sparse, sorted: bool) -> Sparse {
        assert_eq!(self.cols, other.m.n);
        const CHUNK: usize = 512;
        let (a, b) = (&self.m, &other.m);
        let chunks: Vec<(Vec<u32>, Vec<u32>, Vec<f64>)> = (0..a.n.div_ceil(CHUNK))
            .into_par_iter()
            .map_init(
                || (vec![usize::MAX; other.cols], Vec::<(u32, f64)>::new()),
                |(slot, row), c| {
                    let rows = c * CHUNK..((c + 1) * CHUNK).min(a.n);
                    let (mut lengths, mut cols, mut values) = (Vec::with_capacity(rows.len()), Vec::new(), Vec::new());
                    for i in rows {
                        row.clear();
                        for ka in a.row_ptr[i] as usize..a.row_ptr[i + 1] as usize {
                            let (k, av) = (a.col_idx[ka] as usize, a.values[ka]);
                            for kb in b.row_ptr[k] as usize..b.row_ptr[k + 1] as usize {
                                let j = b.col_idx[kb] as usize;
                                if slot[j] == usize::MAX {
                                    slot[j] = row.len();
                                    row.push((j as u32, av * b.values[kb]));
                                } else {
                                    row[slot[j]].1 += av * b.values[kb];
                                }
                            }
                        }
                        if sorted {
                            row.sort_unstable_by_key(|e| e.0);
                        }
                        for &(j, v) in row.iter() {
                            slot[j as usize] = usize::MAX;
                            cols.push(j);
                            values.push(v);
                        }
                        lengths.push(row.len() as u32);
                    }
                    (lengths, cols, values)
                },
            )
            .collect();
        let nnz = chunks.iter().map(|c| c.1.len()).sum();
        let mut m = CsrMatrix {
            n: a.n,
            row_ptr: Vec::with_capacity(a.n + 1),
            col_idx: Vec::with_capacity(nnz),
            values: Vec::with_capacity(nnz),
        };
        m.row_ptr.push(0);
        for (lengths, cols, values) in chunks {
            for len in lengths {
                let last = *m.row_ptr.last().unwrap_or(&0);
                m.row_ptr.push(last + len);
            }
            m.col_idx.extend(cols);
            m.values.extend(values);
        }
        Sparse { m, cols: other.cols }
    }
}

/// One level of the hierarchy: its operator, the prolongator to it from the next coarser level
/// and the restriction (its transpose), and the smoother's inverse diagonal and weight.
#[derive(Debug, Clone)]
pub struct Level {
    pub a: CsrMatrix,
    pub p: Sparse,
    pub r: Sparse,
    pub dinv: Vec<f64>,
    pub omega: f64,
}

/// The multigrid hierarchy of one matrix.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    pub levels: Vec<Level>,
    pub coarse: DenseCholesky,
    pub sweeps: usize,
}

/// Why a hierarchy could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AmgError {
    #[error("the matrix has a non-positive diagonal entry at row {0}")]
    NonPositiveDiagonal(usize),
    #[error("the coarsest operator ({0} unknowns) is not positive definite")]
    CoarseNotSpd(usize),
}

impl Hierarchy {
    /// Builds the hierarchy of the SPD matrix `a`.
    pub fn build(a: &CsrMatrix, params: &AmgParams) -> Result<Hierarchy, AmgError> {
        let mut levels = Vec::new();
        let mut current = a.clone();
        while current.n > params.max_coarse && levels.len() + 1 < params.max_levels {
            let dinv = inverse_diagonal(&current)?;
            let rho = spectral_radius(&current, &dinv);
            let omega = 4.0 / (3.0 * rho);
            // theta halves on each coarser level (Vanek et al.): Galerkin operators spread their
            // couplings, and a fixed threshold would leave most coarse nodes isolated.
            let theta = params.strength * 0.5f64.powi(levels.len() as i32);
            let (aggregate, count) = aggregate(&current, theta, false);
            if count == current.n || count == 0 {
                break; // no coarsening possible
            }
            let t = tentative(&aggregate, count);
            let p = smooth_prolongator(&current, &dinv, omega, &t);
            let r = p.transpose();
            let a_sparse = Sparse { m: current.clone(), cols: current.n };
            let coarse = r.multiply(&a_sparse.multiply(&p, false), true).m;
            levels.push(Level { a: current, p, r, dinv, omega });
            current = coarse;
        }
        let coarse = DenseCholesky::factor(&current).ok_or(AmgError::CoarseNotSpd(current.n))?;
        Ok(Hierarchy { levels, coarse, sweeps: params.sweeps })
    }

    /// Unknowns per level, finest first (the coarsest, solved directly, last).
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self.levels.iter().map(|l| l.a.n).collect();
        sizes.push(self.coarse.n);
        sizes
    }

    /// Non-zeros of all operators over those of the finest: the work of a cycle relative to a
    /// fine-grid sweep.
    pub fn operator_complexity(&self) -> f64 {
        let fine = self.levels.first().map_or(1, |l| l.a.nnz()).max(1);
        let total: usize = self.levels.iter().map(|l| l.a.nnz()).sum::<usize>() + self.coarse.n * self.coarse.n;
        total as f64 / fine as f64
    }

    /// Scratch vectors for [`Hierarchy::apply_with`].
    pub fn workspace(&self) -> Workspace {
        let levels = self
            .levels
            .iter()
            .map(|l| LevelWork {
                residual: vec![0.0; l.a.n],
                next: vec![0.0; l.a.n],
                coarse_b: vec![0.0; l.r.m.n],
                coarse_x: vec![0.0; l.r.m.n],
            })
            .collect();
        Workspace { levels }
    }

    /// z = M^-1 r: one V-cycle from a zero guess (allocates its scratch; see
    /// [`Hierarchy::apply_with`] for repeated use).
    pub fn apply(&self, r: &[f64], z: &mut [f64]) {
        self.apply_with(&mut self.workspace(), r, z);
    }

    /// z = M^-1 r with the scratch vectors of `work` (from [`Hierarchy::workspace`]).
    pub fn apply_with(&self, work: &mut Workspace, r: &[f64], z: &mut [f64]) {
        self.cycle(0, r, z, &mut work.levels);
    }

    fn cycle(&self, level: usize, b: &[f64], x: &mut [f64], work: &mut [LevelWork]) {
        let (Some(l), Some((w, coarser))) = (self.levels.get(level), work.split_first_mut()) else {
            x.copy_from_slice(&self.coarse.solve(b));
            return;
        };
        // The first sweep from x = 0 is x = omega D^-1 b.
        x.par_iter_mut().zip(b).zip(&l.dinv).for_each(|((xi, bi), di)| *xi = l.omega * di * bi);
        for _ in 1..self.sweeps {
            jacobi_sweep(l, b, x, &mut w.next);
        }
        compute_residual(&l.a, b, x, &mut w.residual);
        l.r.apply(&w.residual, &mut w.coarse_b);
        self.cycle(level + 1, &w.coarse_b, &mut w.coarse_x, coarser);
        l.p.apply_add(&w.coarse_x, x);
        for _ in 0..self.sweeps {
            jacobi_sweep(l, b, x, &mut w.next);
        }
    }
}

/// Scratch vectors of one level of a V-cycle.
#[derive(Debug, Clone)]
pub struct LevelWork {
    residual: Vec<f64>,
    next: Vec<f64>,
    coarse_b: Vec<f64>,
    coarse_x: Vec<f64>,
}

/// Scratch vectors of a whole V-cycle, allocated once per hierarchy.
#[derive(Debug, Clone)]
pub struct Workspace {
    levels: Vec<LevelWork>,
}

/// Something built from a matrix (a multigrid hierarchy) and kept across solves of one sparsity
/// pattern (the Jacobians of one Newton solve, repeated solves): rebuilt when the pattern
/// changes or when a solve takes more than twice the iterations the first solve with it took
/// (the matrix has drifted from the one it was built for).
pub struct Kept<T> {
    entry: Option<KeptEntry<T>>,
    /// Builds so far: a new value means a new build (device copies go stale).
    generation: u64,
    /// The pattern whose build failed (None returned) since the last [`Kept::forget`]: not
    /// retried, so a matrix no hierarchy can be built for costs one attempt per Newton solve,
    /// not one per linear solve.
    failed: Option<(usize, usize, u64)>,
    /// Wall-clock seconds spent in builds so far.
    build_seconds: f64,
}

struct KeptEntry<T> {
    pattern: (usize, usize, u64),
    value: T,
    fresh_iterations: Option<u32>,
    last_iterations: Option<u32>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept { entry: None, generation: 0, failed: None, build_seconds: 0.0 }
    }
}

impl<T> Kept<T> {
    /// The kept value if `a` has its pattern, else a new one from `build` (None: none can be
    /// built).
    pub fn get_or_build(&mut self, a: &CsrMatrix, build: impl FnOnce() -> Option<T>) -> Option<&mut T> {
        self.get_or_build_for(pattern_of(a), build)
    }

    /// As [`Kept::get_or_build`] for a matrix whose [`pattern_of`] is `pattern` (computed once
    /// by a caller that needs it again).
    pub fn get_or_build_for(&mut self, pattern: (usize, usize, u64), build: impl FnOnce() -> Option<T>) -> Option<&mut T> {
        if self.needs_build(pattern) {
            self.generation += 1;
            let started = std::time::Instant::now();
            self.entry = build().map(|value| KeptEntry { pattern, value, fresh_iterations: None, last_iterations: None });
            self.build_seconds += started.elapsed().as_secs_f64();
            self.failed = self.entry.is_none().then_some(pattern);
        }
        self.entry.as_mut().filter(|e| e.pattern == pattern).map(|e| &mut e.value)
    }

    /// Whether `get_or_build` with a matrix of this [`pattern_of`] would build (the matrix's
    /// values are needed then; otherwise only its pattern is read).
    pub fn needs_build(&self, pattern: (usize, usize, u64)) -> bool {
        self.entry.as_ref().is_none_or(|e| e.pattern != pattern) && self.failed != Some(pattern)
    }

    /// Counts the builds: equal before and after a `get_or_build` that kept its value.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Wall-clock seconds spent building values so far (failed builds included).
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }

    /// Drops the kept value; the next `get_or_build` builds anew (with a new generation, so
    /// device copies of the old value are not mistaken for current).
    pub fn forget(&mut self) {
        self.entry = None;
        self.failed = None;
    }

    /// The kept value, if any.
    pub fn value(&self) -> Option<&T> {
        self.entry.as_ref().map(|e| &e.value)
    }

    /// Whether a value is kept.
    pub fn is_kept(&self) -> bool {
        self.entry.is_some()
    }

    /// Whether the last solve with the kept value took more than half as many iterations again
    /// as the first (the matrix has drifted from the one it was built for; at twice as many,
    /// [`Kept::record`] drops it).
    pub fn drifted(&self) -> bool {
        self.entry.as_ref().is_some_and(|e| match (e.fresh_iterations, e.last_iterations) {
            (Some(fresh), Some(last)) => 2 * last > 3 * fresh + 2,
            _ => false,
        })
    }

    /// Records the iterations of a solve with the kept value.
    pub fn record(&mut self, iterations: u32) {
        if let Some(e) = self.entry.as_mut() {
            e.last_iterations = Some(iterations);
            match e.fresh_iterations {
                None => e.fresh_iterations = Some(iterations.max(1)),
                Some(fresh) if iterations > 2 * fresh + 2 => self.entry = None,
                Some(_) => {}
            }
        }
    }
}

/// The multigrid hierarchy and its scratch vectors, kept across solves of one pattern.
#[derive(Default)]
pub struct HierarchyCache {
    kept: Kept<(Hierarchy, Workspace)>,
}

/// Size, non-zeros and a checksum of the column indices: equal for the matrices of one
/// discrete problem.
pub fn pattern_of(a: &CsrMatrix) -> (usize, usize, u64) {
    let sum = a.col_idx.iter().enumerate().fold(0u64, |h, (k, &c)| h.wrapping_mul(31).wrapping_add(c as u64 ^ k as u64));
    (a.n, a.nnz(), sum)
}

impl HierarchyCache {
    /// The hierarchy for `a` with its scratch vectors: the kept one if `a` has its pattern, else
    /// a new one; None when none can be built (the caller falls back to Jacobi).
    pub fn get(&mut self, a: &CsrMatrix, params: &AmgParams) -> Option<(&Hierarchy, &mut Workspace)> {
        let built = self.kept.get_or_build(a, || {
            let h = Hierarchy::build(a, params).ok()?;
            let work = h.workspace();
            Some((h, work))
        });
        built.map(|(h, w)| (&*h, w))
    }

    /// Counts the hierarchies built: equal before and after a `get` that kept its hierarchy.
    /// Drops the kept hierarchy; the next `get` builds anew.
    pub fn forget(&mut self) {
        self.kept.forget();
    }

    pub fn generation(&self) -> u64 {
        self.kept.generation()
    }

    /// Wall-clock seconds spent building hierarchies so far.
    pub fn build_seconds(&self) -> f64 {
        self.kept.build_seconds()
    }

    /// Whether a hierarchy is kept.
    pub fn is_kept(&self) -> bool {
        self.kept.is_kept()
    }

    /// Records the iterations of a solve with the kept hierarchy.
    pub fn record(&mut self, iterations: u32) {
        self.kept.record(iterations)
    }
}

/// r = b - A x, one pass over the rows.
fn compute_residual(a: &CsrMatrix, b: &[f64], x: &[f64], r: &mut [f64]) {
    r.par_iter_mut().enumerate().with_min_len(2048).for_each(|(i, ri)| *ri = b[i] - a.row_dot(i, x));
}

/// x <- x + omega D^-1 (b - A x), one pass over the rows into `next`, then copied back.
fn jacobi_sweep(l: &Level, b: &[f64], x: &mut [f64], next: &mut [f64]) {
    let a = &l.a;
    let xr: &[f64] = x;
    next.par_iter_mut().enumerate().with_min_len(2048).for_each(|(i, ni)| {
        *ni = xr[i] + l.omega * l.dinv[i] * (b[i] - a.row_dot(i, xr));
    });
    x.copy_from_slice(next);
}

fn inverse_diagonal(a: &CsrMatrix) -> Result<Vec<f64>, AmgError> {
    a.diagonal()
        .iter()
        .enumerate()
        .map(|(i, &d)| if d > 0.0 && d.is_finite() { Ok(1.0 / d) } else { Err(AmgError::NonPositiveDiagonal(i)) })
        .collect()
}

/// rho(D^-1 A) by 20 power iterations from a fixed, non-constant start (deterministic), with a
/// 5% margin: the estimate approaches rho from below.
fn spectral_radius(a: &CsrMatrix, dinv: &[f64]) -> f64 {
    let n = a.n;
    let mut v: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 7919) % 101) as f64 / 101.0).collect();
    let mut w = vec![0.0; n];
    let mut rho = 1.0;
    for _ in 0..20 {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        a.spmv(&v, &mut w);
        w.iter_mut().zip(dinv).for_each(|(wi, di)| *wi *= di);
        rho = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        std::mem::swap(&mut v, &mut w);
    }
    1.05 * rho
}

/// The aggregate of a node that has no strong connection ([`aggregate`]): it belongs to no
/// aggregate, its row of the tentative prolongator is zero, and the smoother alone treats it.
pub(crate) const ISOLATED: u32 = u32::MAX;

/// Aggregate of every node and the number of aggregates. Node j is a strong neighbour of i when
/// `|a_ij| >= theta sqrt(|a_ii a_jj|)`.
///
/// A node without strong neighbours becomes an aggregate of its own, or, with `leave_isolated`,
/// belongs to none ([`ISOLATED`]). The node-block multigrid leaves them out: there such a node is
/// dominated by its diagonal (the accumulation term `V / dt` of a short time step against
/// diffusion across large cells), the smoother solves for it, and a coarse unknown of its own
/// only slows the coarsening. As singletons, on a graded Gmsh mesh at the first step of a cold
/// transient start, the levels coarsened by 2.3x instead of 4-9x and the Galerkin products grew
/// to 2500 nonzeros per row (7.5M on a 3000-row level), 6 s per setup on 15k unknowns. The scalar
/// multigrid of the potential problem keeps them: a Laplacian row with many weak couplings still
/// has a zero row sum, and its node needs the constant mode from the coarse space.
pub(crate) fn aggregate(a: &CsrMatrix, theta: f64, leave_isolated: bool) -> (Vec<u32>, usize) {
    let n = a.n;
    let diag = a.diagonal();
    let strong: Vec<Vec<u32>> = (0..n)
        .into_par_iter()
        .map(|i| {
            (a.row_ptr[i] as usize..a.row_ptr[i + 1] as usize)
                .filter(|&k| {
                    let j = a.col_idx[k] as usize;
                    j != i && a.values[k].abs() >= theta * (diag[i] * diag[j]).abs().sqrt()
                })
                .map(|k| a.col_idx[k])
                .collect()
        })
        .collect();
    const FREE: u32 = ISOLATED;
    let mut agg = vec![FREE; n];
    let mut count = 0u32;
    let kept = |i: usize| !(leave_isolated && strong[i].is_empty());
    // 1. roots whose strong neighbourhood is entirely free (and, leaving isolated nodes out, not
    //    empty)
    for i in 0..n {
        if agg[i] == FREE && kept(i) && strong[i].iter().all(|&j| agg[j as usize] == FREE) {
            agg[i] = count;
            strong[i].iter().for_each(|&j| agg[j as usize] = count);
            count += 1;
        }
    }
    // 2. the rest joins the aggregate of a strong neighbour from pass 1
    let first = agg.clone();
    for i in 0..n {
        if agg[i] == FREE {
            if let Some(&j) = strong[i].iter().find(|&&j| first[j as usize] != FREE) {
                agg[i] = first[j as usize];
            }
        }
    }
    // 3. what is left forms aggregates with its free strong neighbours (isolated nodes, when
    //    left out, stay so)
    for i in 0..n {
        if agg[i] == FREE && kept(i) {
            agg[i] = count;
            for &j in &strong[i] {
                if agg[j as usize] == FREE {
                    agg[j as usize] = count;
                }
            }
            count += 1;
        }
    }
    (agg, count as usize)
}

/// Piecewise-constant prolongator with unit-norm columns.
fn tentative(aggregate: &[u32], count: usize) -> Sparse {
    let mut size = vec![0usize; count];
    aggregate.iter().filter(|&&g| g != ISOLATED).for_each(|&g| size[g as usize] += 1);
    let rows = aggregate
        .iter()
        .map(|&g| if g == ISOLATED { vec![] } else { vec![(g, 1.0 / (size[g as usize] as f64).sqrt())] })
        .collect();
    Sparse { m: CsrMatrix::from_rows(rows), cols: count }
}

/// P = (I - omega D^-1 A) T.
fn smooth_prolongator(a: &CsrMatrix, dinv: &[f64], omega: f64, t: &Sparse) -> Sparse {
    let mut scaled = a.clone();
    for i in 0..scaled.n {
        for k in scaled.row_ptr[i] as usize..scaled.row_ptr[i + 1] as usize {
            let identity = if scaled.col_idx[k] as usize == i { 1.0 } else { 0.0 };
            scaled.values[k] = identity - omega * dinv[i] * scaled.values[k];
        }
    }
    Sparse { m: scaled, cols: a.n }.multiply(t, false)
}

/// The inverse of an n x n operator as a dense CSR matrix, its columns from `solve` applied to
/// the unit vectors (the coarsest level of a hierarchy, uploaded so its solve is one SpMV).
pub fn dense_inverse(n: usize, solve: impl Fn(&[f64]) -> Vec<f64>) -> CsrMatrix {
    let columns: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            solve(&e)
        })
        .collect();
    CsrMatrix::from_rows((0..n).map(|i| (0..n).map(|j| (j as u32, columns[j][i])).collect()).collect())
}

/// Dense Cholesky factor L (row-major, lower) of a small SPD matrix.
#[derive(Debug, Clone)]
pub struct DenseCholesky {
    pub n: usize,
    l: Vec<f64>,
}

impl DenseCholesky {
    /// Factors `a`; None if it is not numerically positive definite.
    pub fn factor(a: &CsrMatrix) -> Option<Self> {
        let n = a.n;
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for k in a.row_ptr[i] as usize..a.row_ptr[i + 1] as usize {
                l[i * n + a.col_idx[k] as usize] = a.values[k];
            }
        }
        let scale = (0..n).map(|i| l[i * n + i].abs()).fold(0.0, f64::max);
        for j in 0..n {
            let mut d = l[j * n + j];
            for k in 0..j {
                d -= l[j * n + k] * l[j * n + k];
            }
            if d <= 1e-14 * scale || !d.is_finite() {
                return None;
            }
            let d = d.sqrt();
            l[j * n + j] = d;
            for i in j + 1..n {
                let mut s = l[i * n + j];
                for k in 0..j {
                    s -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = s / d;
            }
            for k in j + 1..n {
                l[j * n + k] = 0.0;
            }
        }
        Some(DenseCholesky { n, l })
    }

    /// Solves L L^T x = b.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.n;
        let mut y = b.to_vec();
        for i in 0..n {
            let s: f64 = (0..i).map(|k| self.l[i * n + k] * y[k]).sum();
            y[i] = (y[i] - s) / self.l[i * n + i];
        }
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|k| self.l[k * n + i] * y[k]).sum();
            y[i] = (y[i] - s) / self.l[i * n + i];
        }
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed build is tried once per pattern until `forget`, not once per solve; a value
    /// kept for another pattern is never returned.
    #[test]
    fn a_failed_build_is_not_retried_until_forgotten() {
        let (a, b) = (laplacian(4), laplacian(5));
        let mut kept: Kept<u32> = Kept::default();
        let builds = std::cell::Cell::new(0);
        let failing = || {
            builds.set(builds.get() + 1);
            None
        };
        for _ in 0..3 {
            assert!(kept.get_or_build(&a, failing).is_none());
        }
        assert_eq!(builds.get(), 1);
        assert_eq!(kept.get_or_build(&b, || Some(7)).copied(), Some(7));
        assert!(kept.get_or_build(&a, failing).is_none());
        assert_eq!(builds.get(), 2);
        kept.forget();
        assert!(kept.get_or_build(&a, failing).is_none());
        assert_eq!(builds.get(), 3);
    }

    /// A kept value has drifted once a solve took more than 1.5 times (plus one) the first's
    /// iterations, and is dropped above twice (plus two); a fresh build starts a new baseline.
    #[test]
    fn a_kept_value_drifts_at_one_and_a_half_times_and_goes_at_twice() {
        let a = laplacian(4);
        let mut kept: Kept<u32> = Kept::default();
        kept.get_or_build(&a, || Some(1));
        assert!(!kept.drifted(), "no solve yet");
        kept.record(10);
        kept.record(16);
        assert!(!kept.drifted(), "16 against 10 is not past 1.5 x 10 + 1");
        kept.record(17);
        assert!(kept.drifted() && kept.is_kept());
        kept.record(23);
        assert!(!kept.is_kept() && !kept.drifted(), "23 against 10 is past 2 x 10 + 2: dropped");
        kept.get_or_build(&a, || Some(2));
        kept.record(20);
        assert!(!kept.drifted(), "a new build, a new baseline");
    }

    /// The 5-point Laplacian on an m x m grid with Dirichlet walls (SPD, M-matrix).
    fn laplacian(m: usize) -> CsrMatrix {
        let id = |i: usize, j: usize| (i * m + j) as u32;
        let rows = (0..m * m)
            .map(|k| {
                let (i, j) = (k / m, k % m);
                let mut row = vec![(id(i, j), 4.0)];
                if i > 0 {
                    row.push((id(i - 1, j), -1.0));
                }
                if i + 1 < m {
                    row.push((id(i + 1, j), -1.0));
                }
                if j > 0 {
                    row.push((id(i, j - 1), -1.0));
                }
                if j + 1 < m {
                    row.push((id(i, j + 1), -1.0));
                }
                row.sort_unstable_by_key(|e| e.0);
                row
            })
            .collect();
        CsrMatrix::from_rows(rows)
    }

    #[test]
    fn galerkin_operator_is_symmetric_and_coarser() {
        let a = laplacian(40);
        let h = Hierarchy::build(&a, &AmgParams::default()).expect("hierarchy");
        let sizes = h.sizes();
        assert!(sizes.windows(2).all(|w| w[1] * 3 < w[0]), "each level at least 3x coarser: {sizes:?}");
        for l in &h.levels {
            let dense = |i: usize, j: usize| l.a.find(i, j as u32).map_or(0.0, |k| l.a.values[k]);
            for i in (0..l.a.n).step_by(7) {
                for k in l.a.row_ptr[i] as usize..l.a.row_ptr[i + 1] as usize {
                    let j = l.a.col_idx[k] as usize;
                    assert!((dense(i, j) - dense(j, i)).abs() <= 1e-12 * dense(i, i).abs());
                }
            }
        }
    }

    #[test]
    fn the_v_cycle_alone_converges_fast_and_independently_of_the_grid() {
        // Stationary iteration x += M^-1 (b - A x): the contraction factor of the V-cycle.
        for m in [32, 96] {
            let a = laplacian(m);
            let h = Hierarchy::build(&a, &AmgParams::default()).expect("hierarchy");
            let b: Vec<f64> = (0..a.n).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
            let mut x = vec![0.0; a.n];
            let (mut r, mut z) = (vec![0.0; a.n], vec![0.0; a.n]);
            let r0 = b.iter().map(|v| v * v).sum::<f64>().sqrt();
            let mut rel = 1.0;
            for _ in 0..10 {
                compute_residual(&a, &b, &x, &mut r);
                h.apply(&r, &mut z);
                x.iter_mut().zip(&z).for_each(|(xi, zi)| *xi += zi);
                compute_residual(&a, &b, &x, &mut r);
                rel = r.iter().map(|v| v * v).sum::<f64>().sqrt() / r0;
            }
            let factor = rel.powf(0.1);
            eprintln!("m = {m}: levels {:?}, contraction {factor:.3}", h.sizes());
            assert!(factor < 0.35, "m = {m}: V-cycle contraction {factor:.3} per cycle");
        }
    }

    #[test]
    fn the_cache_keeps_a_hierarchy_until_it_stops_paying() {
        let a = laplacian(20);
        let mut cache = HierarchyCache::default();
        assert!(cache.get(&a, &AmgParams::default()).is_some() && cache.is_kept());
        cache.record(8); // fresh
        cache.record(12); // still pays
        assert!(cache.is_kept());
        cache.record(40); // more than twice the fresh count: forget it
        assert!(!cache.is_kept());
        assert!(cache.get(&laplacian(21), &AmgParams::default()).is_some(), "a new pattern builds anew");
    }

    #[test]
    fn dense_cholesky_solves_exactly() {
        let a = laplacian(6);
        let c = DenseCholesky::factor(&a).expect("SPD");
        let x: Vec<f64> = (0..a.n).map(|i| i as f64 * 0.1 - 1.0).collect();
        let mut b = vec![0.0; a.n];
        a.spmv(&x, &mut b);
        let solved = c.solve(&b);
        assert!(solved.iter().zip(&x).all(|(s, e)| (s - e).abs() < 1e-12));
    }
}
