//! Secondary current distribution: Laplace with Butler–Volmer kinetics, solved by damped Newton.
//!
//! Strong form (scaled): `-lap phi = 0`; on the electrode `grad phi . n_out = Gamma f(E - phi)`
//! with f the scaled Butler–Volmer law (anodic current leaving the metal), `phi = 0` on the bulk
//! boundary, zero flux on the sides. Weak form: for all v vanishing on the bulk boundary
//!
//! ```text
//!     integral grad phi . grad v dx - Gamma integral_electrode f(E - phi) v ds = 0,
//! ```
//!
//! with the boundary integral lumped at the nodes (`A_j f(E - phi_j)`), which keeps the Jacobian
//! `K + diag(Gamma A_j f'(eta_j))` symmetric positive definite, so each Newton step is a CG solve.
//! Galvanostatic operation adds the unknown E and the constraint `sum_j Gamma A_j f(E - phi_j) = I`;
//! the bordered Newton system is solved by block elimination with two CG solves per step
//! ([`super::newton`], the loop every nonlinear model shares).

use super::failure::{nodal_residual, Failure};
use super::linear::{LinearError, LinearParams, LinearSolver};
pub use super::newton::NewtonParams;
use super::newton::{self, Evaluation, NewtonSystem, State};
use super::primary::Drive;
use super::system::PotentialSystem;
use super::PotentialSolution;
use crate::error::Error;
use crate::fem::boundary_flux::residual_flux;
use crate::fem::CsrMatrix;
use crate::physics::kinetics::{self, Reaction};

/// The kinetic boundary term in scaled form.
#[derive(Debug, Clone)]
pub struct KineticBoundary {
    /// The electrode reactions (each `gamma` = L i0 / (kappa V_T)); their currents add at every
    /// reaction site.
    pub reactions: Vec<Reaction>,
    /// Electrolyte conductivity kappa, S/m: the solid stiffness (weighted by sigma_eff in S/m)
    /// is divided by it to join the kappa-scaled system.
    pub conductivity_s_m: f64,
}

/// A reaction site of the discrete system: at electrolyte unknown `l`, against the
/// solid-potential unknown `s` (None: the electrode potential E), with scaled (equivalent) area
/// `area`; each reaction draws `gamma area f(eta)` there.
struct Site {
    l: usize,
    s: Option<usize>,
    area: f64,
}

impl Site {
    /// The overpotential at (x, E).
    fn eta(&self, x: &[f64], e: f64) -> f64 {
        self.s.map_or(e, |s| x[s]) - x[self.l]
    }
}

/// The unknowns' layout: electrolyte potential at the free nodes, then the solid potential at
/// the scaffold nodes off the electrode (where it is E).
struct Layout {
    free: Vec<u32>,
    solid_free: Vec<u32>,
    /// Block-diagonal operator diag(K_ff, K_s) in the pattern of the Jacobian.
    base: CsrMatrix,
    /// Row sums of K_s over the electrode columns (the solid's Dirichlet coupling to E).
    solid_dirichlet: Vec<f64>,
    sites: Vec<Site>,
    /// The first `electrode_sites` sites are the electrode's nodes (in `sys.electrode` order).
    electrode_sites: usize,
    /// Positions of the Jacobian's reaction entries: (l,l), (l,s), (s,l), (s,s).
    slots: Vec<[Option<usize>; 4]>,
    /// A given source on the right-hand side of each electrolyte row (empty: none).
    source: Vec<f64>,
}

impl Layout {
    fn new(sys: &PotentialSystem, kin: &KineticBoundary, source: Option<&[f64]>) -> Self {
        let n = sys.n();
        let free = sys.free_nodes(&[&sys.bulk]);
        let (k_ff, _) = sys.k.split(&free);
        let mut position = vec![u32::MAX; n];
        free.iter().enumerate().for_each(|(i, &nd)| position[nd as usize] = i as u32);
        let mut on_electrode = vec![false; n];
        sys.electrode.iter().for_each(|&nd| on_electrode[nd as usize] = true);
        let nf = free.len();
        let (solid_free, k_ss, solid_dirichlet) = match &sys.solid {
            Some(solid) => {
                let sf: Vec<u32> = solid.nodes.iter().copied().filter(|&nd| !on_electrode[nd as usize]).collect();
                let (mut k_ss, _) = solid.k.split(&sf);
                k_ss.values.iter_mut().for_each(|v| *v /= kin.conductivity_s_m);
                let dirichlet = sf
                    .iter()
                    .map(|&nd| {
                        let (lo, hi) = (solid.k.row_ptr[nd as usize] as usize, solid.k.row_ptr[nd as usize + 1] as usize);
                        (lo..hi).filter(|&p| on_electrode[solid.k.col_idx[p] as usize]).map(|p| solid.k.values[p]).sum::<f64>()
                            / kin.conductivity_s_m
                    })
                    .collect();
                (sf, Some(k_ss), dirichlet)
            }
            None => (Vec::new(), None, Vec::new()),
        };
        let mut solid_pos = vec![u32::MAX; n];
        solid_free.iter().enumerate().for_each(|(i, &nd)| solid_pos[nd as usize] = (nf + i) as u32);
        let mut sites: Vec<Site> = Vec::new();
        if sys.electrode_reacts {
            for (&nd, &a) in sys.electrode.iter().zip(&sys.electrode_area) {
                sites.push(Site { l: position[nd as usize] as usize, s: None, area: a });
            }
        }
        let electrode_sites = sites.len();
        for site in &sys.sites {
            let sp = solid_pos[site.node as usize];
            sites.push(Site {
                l: position[site.node as usize] as usize,
                s: (sp != u32::MAX).then_some(sp as usize),
                area: site.equivalent_area,
            });
        }
        // Rows: K_ff with the solid column of each node that has one; K_ss shifted, with the
        // electrolyte column of its node.
        let mut rows: Vec<Vec<(u32, f64)>> = (0..nf)
            .map(|i| {
                (k_ff.row_ptr[i] as usize..k_ff.row_ptr[i + 1] as usize).map(|p| (k_ff.col_idx[p], k_ff.values[p])).collect()
            })
            .collect();
        if let Some(k_ss) = &k_ss {
            for (i, &nd) in solid_free.iter().enumerate() {
                let l = position[nd as usize];
                rows[l as usize].push(((nf + i) as u32, 0.0));
                let mut row: Vec<(u32, f64)> = (k_ss.row_ptr[i] as usize..k_ss.row_ptr[i + 1] as usize)
                    .map(|p| ((nf as u32) + k_ss.col_idx[p], k_ss.values[p]))
                    .collect();
                row.push((l, 0.0));
                rows.push(row);
            }
        }
        let base = CsrMatrix::from_rows(rows);
        let slots = sites
            .iter()
            .map(|r| {
                let at = |i: usize, j: usize| base.find(i, j as u32);
                match r.s {
                    None => [at(r.l, r.l), None, None, None],
                    Some(s) => [at(r.l, r.l), at(r.l, s), at(s, r.l), at(s, s)],
                }
            })
            .collect();
        let source = source.map_or(Vec::new(), |b| free.iter().map(|&nd| b[nd as usize]).collect());
        Layout { free, solid_free, base, solid_dirichlet, sites, electrode_sites, slots, source }
    }

    fn nf(&self) -> usize {
        self.free.len()
    }

    /// Residual and total reaction at (x, E).
    fn residual(&self, reactions: &[Reaction], x: &[f64], e: f64) -> (Vec<f64>, f64) {
        let mut r = vec![0.0; x.len()];
        self.base.spmv(x, &mut r);
        let nf = self.nf();
        for (ri, d) in r[nf..].iter_mut().zip(&self.solid_dirichlet) {
            *ri += d * e;
        }
        r.iter_mut().zip(&self.source).for_each(|(ri, b)| *ri -= b);
        let mut total = 0.0;
        for (re, rx) in self.sites.iter().flat_map(|site| reactions.iter().map(move |rx| (site, rx))) {
            let g = rx.gamma * re.area * rx.law.current(re.eta(x, e));
            r[re.l] -= g;
            if let Some(s) = re.s {
                r[s] += g;
            }
            total += g;
        }
        (r, total)
    }

    /// The electrolyte potential at every mesh node (0 on the bulk boundary) from the unknowns.
    fn scatter(&self, n: usize, x: &[f64]) -> Vec<f64> {
        let mut phi = vec![0.0; n];
        self.free.iter().zip(x).for_each(|(&nd, &v)| phi[nd as usize] = v);
        phi
    }

    /// Each reaction's scaled current at (x, E).
    fn reaction_currents(&self, reactions: &[Reaction], x: &[f64], e: f64) -> Vec<f64> {
        let current =
            |site: &Site| -> f64 { reactions.iter().map(|rx| rx.gamma * site.area * rx.law.current(site.eta(x, e))).sum() };
        self.sites.iter().map(current).collect()
    }
}

/// The secondary model as Newton sees it: the layout's residual and Jacobian, solved by the
/// backend's SPD solver.
struct SecondaryNewton<'a> {
    sys: &'a PotentialSystem,
    layout: &'a Layout,
    reactions: &'a [Reaction],
    jac: CsrMatrix,
    solver: &'a mut dyn LinearSolver,
    linear: &'a LinearParams,
}

impl NewtonSystem for SecondaryNewton<'_> {
    fn name(&self) -> &'static str {
        "secondary"
    }

    /// The residual and the galvanostatic border: dR/dE (the electrode reactions and the
    /// solid's Dirichlet coupling to E), dI/dx and dI/dE.
    fn evaluate(&mut self, x: &[f64], e: f64, _rough: bool) -> Result<Evaluation, Error> {
        let layout = self.layout;
        let (residual, total) = layout.residual(self.reactions, x, e);
        let nf = layout.nf();
        let mut d_de = vec![0.0; x.len()];
        d_de[nf..].copy_from_slice(&layout.solid_dirichlet);
        let mut c = vec![0.0; x.len()];
        let mut total_de = 0.0;
        for (re, rx) in layout.sites.iter().flat_map(|site| self.reactions.iter().map(move |rx| (site, rx))) {
            let slope = rx.gamma * re.area * rx.law.slope(re.eta(x, e));
            c[re.l] -= slope;
            match re.s {
                Some(k) => c[k] += slope,
                None => {
                    d_de[re.l] -= slope;
                    total_de += slope;
                }
            }
        }
        let total_dx = c.into_iter().enumerate().filter(|&(_, v)| v != 0.0).collect();
        Ok(Evaluation { residual, d_de, total, total_dx, total_de })
    }

    /// `J = diag(K_ff, K_s) + sum_reactions w f'(eta) [[1, -1], [-1, 1]]` (SPD).
    fn linearize(&mut self, st: &State) -> Result<Option<Evaluation>, Error> {
        self.jac.values.copy_from_slice(&self.layout.base.values);
        for (re, slot) in self.layout.sites.iter().zip(&self.layout.slots) {
            let slope: f64 = self.reactions.iter().map(|rx| rx.gamma * re.area * rx.law.slope(re.eta(&st.x, st.e))).sum();
            for (k, sign) in slot.iter().zip([1.0, -1.0, -1.0, 1.0]) {
                if let Some(k) = k {
                    self.jac.values[*k] += sign * slope;
                }
            }
        }
        Ok(None)
    }

    fn solve(&mut self, b: &[f64], u: &mut [f64]) -> Result<u32, Error> {
        self.solver.solve(&self.jac, b, u, self.linear).map(|info| info.iterations).map_err(|e: LinearError| {
            match Error::from(e) {
                Error::Solve(msg) => Error::Solve(format!("secondary Newton linear solve: {msg}")),
                other => other,
            }
        })
    }

    fn failure(&mut self, message: String, st: &State, history: &[f64]) -> Error {
        let (r, _) = self.layout.residual(self.reactions, &st.x, st.e);
        let nf = self.layout.nf();
        Error::NotConverged(Box::new(Failure {
            message,
            residual_history: history.to_vec(),
            phi: self.layout.scatter(self.sys.n(), &st.x),
            concentrations: Vec::new(),
            nodal_residual: nodal_residual(self.sys.n(), &self.layout.free, 1, &r[..nf]),
            iterate: "the last Newton iterate",
        }))
    }
}

/// Solves the secondary problem (with the scaffold's volumetric reactions and solid phase when
/// the system has them).
///
/// With a conductive scaffold the unknowns are phi and the solid potential phi_s on the layer;
/// weak form, for all (v, w) vanishing where phi or phi_s is prescribed:
///
/// ```text
///     integral kappa_eff grad phi . grad v - integral a i(phi_s - phi) v   (electrolyte)
///   + integral sigma_eff grad phi_s . grad w + integral a i(phi_s - phi) w = 0   (solid)
/// ```
///
/// with the reaction lumped at the nodes. The Jacobian stays symmetric positive definite (the
/// reaction couples phi and phi_s through `w f' [[1, -1], [-1, 1]]`), so each Newton step is
/// still a CG solve. phi_s = E on the electrode (the scaffold touches the metal).
pub fn solve(
    sys: &PotentialSystem,
    kin: &KineticBoundary,
    drive: Drive,
    solver: &mut dyn LinearSolver,
    linear: &LinearParams,
    newton: &NewtonParams,
) -> Result<PotentialSolution, Error> {
    solve_with_source(sys, kin, drive, None, solver, linear, newton)
}

/// [`solve`] with a given source on the right-hand side: `source[j]` (scaled, one per mesh node;
/// bulk nodes' entries unused) is added to the weak form's right-hand side at node j,
///
/// ```text
///     integral grad phi . grad v - Gamma integral_electrode f(E - phi) v ds = sum_j source_j v_j,
/// ```
///
/// so a manufactured solution's volume term `(f, v)` and electrode term `(g, v)_electrode` can be
/// imposed (`tests/manufactured_secondary.rs`). The reported electrode flux is the residual flux
/// with that source as the load.
pub fn solve_with_source(
    sys: &PotentialSystem,
    kin: &KineticBoundary,
    drive: Drive,
    source: Option<&[f64]>,
    solver: &mut dyn LinearSolver,
    linear: &LinearParams,
    newton: &NewtonParams,
) -> Result<PotentialSolution, Error> {
    if let Some(b) = source {
        assert_eq!(b.len(), sys.n(), "one source entry per mesh node");
    }
    let layout = Layout::new(sys, &kin, source);
    let nf = layout.nf();
    let reactions = &kin.reactions[..];
    let e0 = match drive {
        Drive::Potential(e) => e,
        Drive::Current(target) => {
            let weight = |rx: &Reaction| layout.sites.iter().map(|site| rx.gamma * site.area).sum::<f64>();
            if reactions.iter().map(weight).sum::<f64>() <= 0.0 {
                return Err(Error::input("operation.mode \"current\": nothing reacts (every exchange current density is zero)"));
            }
            kinetics::overpotential_for(reactions, weight, target)
        }
    };
    let mut x = vec![0.0; nf + layout.solid_free.len()];
    x[nf..].iter_mut().for_each(|v| *v = e0);
    let mut s = State { x, e: e0 };
    let jac = layout.base.clone();
    let mut system = SecondaryNewton { sys, layout: &layout, reactions, jac, solver, linear };
    let stats = newton::solve(&mut system, &mut s, drive, newton)?;
    let phi = layout.scatter(sys.n(), &s.x);
    let solid_potential = sys.solid.as_ref().map(|_| {
        let mut phi_s = vec![s.e; sys.n()];
        for (&nd, &v) in layout.solid_free.iter().zip(&s.x[nf..]) {
            phi_s[nd as usize] = v;
        }
        phi_s
    });
    let currents = layout.reaction_currents(reactions, &s.x, s.e);
    let site_reaction = currents[layout.electrode_sites..].to_vec();
    // Electrode current: the variationally consistent residual flux, less the scaffold reactions
    // at electrode nodes.
    let zero = vec![0.0; sys.n()];
    let mut electrode_flux = residual_flux(&sys.k, &phi, source.unwrap_or(&zero), &sys.electrode);
    subtract_site_reactions(sys, &site_reaction, &mut electrode_flux);
    Ok(PotentialSolution {
        phi,
        electrode_potential: s.e,
        electrode_flux,
        linear_iterations: stats.linear_iterations,
        nonlinear_iterations: stats.iterations,
        residual_history: stats.history,
        site_reaction,
        solid_potential,
    })
}

/// Removes from the electrode nodes' residual flux the part that scaffold reactions at those
/// nodes put into the electrolyte.
pub(crate) fn subtract_site_reactions(sys: &PotentialSystem, site_reaction: &[f64], electrode_flux: &mut [f64]) {
    if site_reaction.is_empty() {
        return;
    }
    let mut at_node = std::collections::HashMap::new();
    for (site, q) in sys.sites.iter().zip(site_reaction) {
        *at_node.entry(site.node).or_insert(0.0) += q;
    }
    for (&nd, flux) in sys.electrode.iter().zip(electrode_flux.iter_mut()) {
        if let Some(q) = at_node.get(&nd) {
            *flux -= q;
        }
    }
}
