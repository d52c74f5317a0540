//! Diffusion-limited scoring (ReactCA's `DiffusionScorer`, Karan, Gallant, Fei, Ceder,
//! Persson, arXiv 2501.08560, §4.5) for libraries built from a phase table.
//!
//! For a reaction between reactants A and B with products p at temperature T:
//! 1. `Δμ` is the difference between the closest vertices of A's and B's stability domains
//!    in the elemental chemical-potential diagram of the phase table at T (μ_e ≤ 0, bounded
//!    below at −100 eV as reaction-network's `ChemicalPotentialDiagram`); a reactant above
//!    the hull takes its metastable domain (see [`domains`]);
//! 2. for each product, the flux `J = L(p, T)·Δμ` (L from a `TransportDoc` table, by
//!    [`Interpolation`]; `1e15·I` where the table has no data), and
//!    `K(p) = Σ_s |J_s / x_s(p)| · V_p` with `x_s` the atomic fraction of species s in p;
//!    a product above its melting point also offers `1e-3 · V_p`;
//! 3. `score = f_T(T/Tm_min) · softplus(max_p K(p) · g(ΔG) / (d² · scale · N_A · k_B · T))`,
//!    capped at 20, with `d` the precursor size (m) and `softplus(x) = ⅓ ln(1 + e^{3x})`.
//!
//! Checked against ReactCA's own `DiffusionScorer` reaction by reaction
//! (`diffusion_scores_match_reactca`, `tests/data/reactca/diffusion_reference.json`).

use crate::builder::PhaseRow;
use crate::library::{PhaseId, PhaseSet};
use crate::scoring::ScoreParams;
use crate::transport::{Interpolation, TransportTable};
use std::collections::BTreeMap;

const KB_EV: f64 = 8.617_333_262e-5;
const AVOGADRO: f64 = 6.022_140_76e23;
/// The lower bound of μ_e: reaction-network's `ChemicalPotentialDiagram` default, which
/// ReactCA's `DiffusionScorer` is given.
const MU_MIN: f64 = -100.0;
/// The lower bound of the diagram a metastable domain is computed in (reaction-network).
const MU_MIN_METASTABLE: f64 = -500.0;
/// Energy (eV per formula unit) a metastable phase is lowered below the hull to give it a
/// domain (reaction-network's `get_stabilized_entry` tolerance there).
const STABILIZE_TOL: f64 = 1e-5;

/// Settings of the diffusion scorer (`[transport]` of a recipe).
#[derive(Debug, Clone)]
pub struct DiffusionScorer {
    pub table: TransportTable,
    pub interpolation: Interpolation,
    /// Precursor particle size d (m).
    pub precursor_size: f64,
    pub scale_factor: f64,
}

/// The vertices of each phase's stability domain at one temperature.
#[derive(Debug, Clone)]
pub struct Domains {
    pub elements: Vec<String>,
    pub vertices: Vec<Vec<Vec<f64>>>,
}

/// Stability domains of every phase of `set` (rows give ΔG_f per atom) at `t`.
///
/// A phase above the hull gets its metastable domain as reaction-network's
/// `ChemicalPotentialDiagram._get_metastable_domain` makes it (ReactCA's `mu_distance`
/// takes it for such a reactant): the phase's energy lowered until it is just stable
/// (by its energy above the hull and 1e-5 eV per formula unit more), in a diagram bounded
/// below at −500 eV.
pub fn domains(set: &PhaseSet, rows: &[PhaseRow], t: f64) -> Domains {
    let elements = set.elements.clone();
    let d = elements.len();
    // Constraints a·μ ≤ b: every phase, then μ_e ≤ 0 and −μ_e ≤ −μ_min.
    let mut a: Vec<Vec<f64>> = Vec::new();
    let mut b: Vec<f64> = Vec::new();
    for (k, row) in rows.iter().enumerate() {
        let p = set.get(k as PhaseId + 1);
        let atoms: u32 = p.composition.values().sum();
        a.push(elements.iter().map(|e| *p.composition.get(e).unwrap_or(&0) as f64).collect());
        b.push(row.delta_g_at(t) * atoms as f64);
    }
    let n_phase = a.len();
    let with_bounds = |b: &[f64], mu_min: f64| -> (Vec<Vec<f64>>, Vec<f64>) {
        let (mut a2, mut b2) = (a.clone(), b.to_vec());
        for e in 0..d {
            let mut up = vec![0.0; d];
            up[e] = 1.0;
            a2.push(up.clone());
            b2.push(0.0);
            up[e] = -1.0;
            a2.push(up);
            b2.push(-mu_min);
        }
        (a2, b2)
    };
    let (a_all, b_all) = with_bounds(&b, MU_MIN);
    let mut vertices = vec![Vec::new(); set.len()];
    for (p, v) in vertices.iter_mut().skip(1).enumerate() {
        *v = facet_vertices(&a_all, &b_all, p);
    }
    for p in 0..n_phase {
        if !vertices[p + 1].is_empty() {
            continue;
        }
        // The hull at p's composition: the largest a_p·μ over the diagram without p.
        let mut b_meta = b.clone();
        b_meta[p] = f64::INFINITY;
        let (a_m, b_m) = with_bounds(&b_meta, MU_MIN_METASTABLE);
        let hull = region_vertices(&a_m, &b_m)
            .iter()
            .map(|mu| a[p].iter().zip(mu).map(|(x, y)| x * y).sum::<f64>())
            .fold(f64::NEG_INFINITY, f64::max);
        b_meta[p] = hull - STABILIZE_TOL;
        let (a_m, b_m) = with_bounds(&b_meta, MU_MIN_METASTABLE);
        vertices[p + 1] = facet_vertices(&a_m, &b_m, p);
    }
    Domains { elements, vertices }
}

/// Feasibility tolerance of a vertex of `a·μ ≤ b`.
fn tolerance(b: &[f64]) -> f64 {
    1e-12 * (1.0 + b.iter().filter(|x| x.is_finite()).map(|x| x.abs()).fold(0.0, f64::max))
}

fn feasible(a: &[Vec<f64>], b: &[f64], mu: &[f64], tol: f64) -> bool {
    a.iter().zip(b).all(|(row, bb)| row.iter().zip(mu).map(|(x, y)| x * y).sum::<f64>() <= bb + tol)
}

fn push_new(found: &mut Vec<Vec<f64>>, mu: Vec<f64>) {
    if !found.iter().any(|v| v.iter().zip(&mu).all(|(x, y)| (x - y).abs() < 1e-9)) {
        found.push(mu);
    }
}

/// The vertices of `a·μ ≤ b` on the facet of constraint `p`.
fn facet_vertices(a: &[Vec<f64>], b: &[f64], p: usize) -> Vec<Vec<f64>> {
    let d = a[p].len();
    let tol = tolerance(b);
    let others: Vec<usize> = (0..a.len()).filter(|&q| q != p && b[q].is_finite()).collect();
    let mut found: Vec<Vec<f64>> = Vec::new();
    for_each_subset(others.len(), d - 1, &mut |idx| {
        let mut m: Vec<Vec<f64>> = vec![a[p].clone()];
        let mut r = vec![b[p]];
        for &i in idx {
            m.push(a[others[i]].clone());
            r.push(b[others[i]]);
        }
        if let Some(mu) = solve(m, r) {
            if feasible(a, b, &mu, tol) {
                push_new(&mut found, mu);
            }
        }
    });
    found
}

/// Every vertex of `a·μ ≤ b` (constraints with `b = ∞` left out).
fn region_vertices(a: &[Vec<f64>], b: &[f64]) -> Vec<Vec<f64>> {
    let d = a[0].len();
    let tol = tolerance(b);
    let rows: Vec<usize> = (0..a.len()).filter(|&q| b[q].is_finite()).collect();
    let mut found: Vec<Vec<f64>> = Vec::new();
    for_each_subset(rows.len(), d, &mut |idx| {
        let m: Vec<Vec<f64>> = idx.iter().map(|&i| a[rows[i]].clone()).collect();
        let r: Vec<f64> = idx.iter().map(|&i| b[rows[i]]).collect();
        if let Some(mu) = solve(m, r) {
            if feasible(a, b, &mu, tol) {
                push_new(&mut found, mu);
            }
        }
    });
    found
}

fn for_each_subset(n: usize, k: usize, f: &mut dyn FnMut(&[usize])) {
    fn rec(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if cur.len() == k {
            f(cur);
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(i + 1, n, k, cur, f);
            cur.pop();
        }
    }
    rec(0, n, k, &mut Vec::new(), f);
}

/// Gaussian elimination with partial pivoting; `None` when singular.
fn solve(mut m: Vec<Vec<f64>>, mut r: Vec<f64>) -> Option<Vec<f64>> {
    let n = r.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))?;
        if m[p][c].abs() < 1e-12 {
            return None;
        }
        m.swap(c, p);
        r.swap(c, p);
        for i in c + 1..n {
            let f = m[i][c] / m[c][c];
            for j in c..n {
                m[i][j] -= f * m[c][j];
            }
            r[i] -= f * r[c];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (r[i] - (i + 1..n).map(|j| m[i][j] * x[j]).sum::<f64>()) / m[i][i];
    }
    Some(x)
}

/// `Δμ` between the closest vertices of the domains of `a` and `b` (zero without a domain).
pub fn delta_mu(dom: &Domains, a: PhaseId, b: PhaseId) -> BTreeMap<String, f64> {
    let (va, vb) = (&dom.vertices[a as usize], &dom.vertices[b as usize]);
    let mut best: Option<(f64, Vec<f64>)> = None;
    for x in va {
        for y in vb {
            let diff: Vec<f64> = x.iter().zip(y).map(|(p, q)| p - q).collect();
            let dist = diff.iter().map(|v| v * v).sum::<f64>();
            if best.as_ref().is_none_or(|b| dist < b.0) {
                best = Some((dist, diff));
            }
        }
    }
    let diff = best.map(|b| b.1).unwrap_or_else(|| vec![0.0; dom.elements.len()]);
    dom.elements.iter().cloned().zip(diff).collect()
}

fn softplus3(x: f64) -> f64 {
    crate::scoring::softplus(3.0 * x) / 3.0
}

impl DiffusionScorer {
    /// The diffusion-limited score of `reactants → products` (products with their
    /// integer coefficients are not needed: ReactCA takes the largest product flux).
    pub fn score(
        &self,
        set: &PhaseSet,
        dom: &Domains,
        params: &ScoreParams,
        reactants: &[PhaseId],
        products: &[PhaseId],
        delta_g: f64,
        t: f64,
    ) -> f64 {
        let solids: Vec<PhaseId> = reactants.iter().copied().filter(|&p| !set.get(p).is_gas).collect();
        let (a, b) = (solids[0], *solids.get(1).unwrap_or(&solids[0]));
        let dmu = delta_mu(dom, a, b);
        let mut selected: f64 = 0.0;
        for &p in products {
            let ph = set.get(p);
            let atoms: u32 = ph.composition.values().sum();
            let (species, l) = match self.table.at(&ph.name, t, self.interpolation) {
                Some((s, l)) => (s.to_vec(), l),
                None => {
                    let s: Vec<String> = dom.elements.clone();
                    let n = s.len();
                    (s, (0..n).map(|i| (0..n).map(|j| if i == j { 1e15 } else { 0.0 }).collect()).collect())
                }
            };
            let j = crate::transport::flux(&species, &l, &dmu);
            let k: f64 = species
                .iter()
                .zip(&j)
                .filter_map(|(s, js)| {
                    let x = *ph.composition.get(s).unwrap_or(&0) as f64 / atoms as f64;
                    (x > 0.0).then(|| (js / x * ph.molar_volume).abs())
                })
                .sum();
            selected = selected.max(k);
            if !ph.is_gas && t > ph.melting_point {
                selected = selected.max(1e-3 * ph.molar_volume);
            }
        }
        let tm_min = solids.iter().map(|&p| set.get(p).melting_point).fold(f64::INFINITY, f64::min);
        let system = 1.0 / self.precursor_size.powi(2) / self.scale_factor / AVOGADRO / KB_EV / t;
        let score = params.tammann(t / tm_min) * softplus3(selected * system * params.gate(delta_g));
        score.min(20.0)
    }
}
