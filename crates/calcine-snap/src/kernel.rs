//! The fast evaluator: the reference's equations (see `reference.rs`) restructured as in
//! LAMMPS's `SNA` class and TestSNAP/KOKKOS SNAP (Gayatri et al., arXiv:2011.12875), with
//! atoms and neighbors batched across SIMD lanes (as Blanco & Kim batch atoms on CPUs),
//! and held to the reference by tests.
//!
//! - Index lists are built once ([`Plan`]): for every coupling (j1, j2, j) and entry
//!   (ma, mb) of Z, where its sums start in U^{j1} and U^{j2}, how many terms they have,
//!   and its Clebsch–Gordan factors as contiguous rows.
//! - Only the rows mb ≤ j/2 of each matrix are computed: the others follow from
//!   u(j−ma, j−mb) = (−1)^{ma−mb}·u(ma, mb)*, and every contraction of two symmetric
//!   matrices is twice the sum over rows mb < j/2, plus the middle row of an even j with
//!   entries ma < j/2 counted twice and the centre once. Those weights (2, 1, 0) are kept
//!   per entry and folded into B and Y; entries of weight 0 are never formed. The
//!   neighbor recursion fills one mirrored row of each odd layer, the one the next layer
//!   needs; the density is mirrored once.
//! - The density, Z, B and Y of [`ATOMS`] atoms are computed together, one atom per SIMD
//!   lane: the index lists are the same for every atom, so each operation acts on all
//!   lanes at once, and each lane does exactly the arithmetic of one atom alone (a lane's
//!   result does not depend on the other atoms of the batch). The density recursion runs
//!   over the k-th neighbors of all the batch's atoms at once; a lane whose atom has fewer
//!   neighbors adds zeros.
//! - Y is built Z entry by Z entry with the descriptor coefficients folded in (LAMMPS
//!   `compute_yi`); Z is never stored. For a linear potential B comes from the same Z in
//!   the same pass; a quadratic one needs B (and so the Z of the components) first.
//! - The force pass never forms dU (LAMMPS `compute_duarray`). U of [`PAIRS`] neighbors
//!   at once, one per lane, is made layer by layer, and since ∂U^j with respect to each
//!   of a, a*, b, b* is a √-weighted entry of U^{j−1}, Σ Y·∂U collapses to
//!   Re[P·∂a + Q·∂b] with P, Q sums of Y*·U^{j−1} (see `Kernel::recurse`): per entry,
//!   one U and four complex products instead of U and its three derivatives. Only two
//!   layers are kept.
//! - B is computed only when the energy is wanted or the potential is quadratic.

use crate::basis::{parity_sign, AdjointRule, Basis};
use crate::model::SnapModel;
use crate::site::{self, Neighbor};
use calcine_core::Vec3;
use calcine_potential::AtomTerms;
use std::ops::Range;

/// Atoms per batch: the lanes of the density, Z, B and Y computations.
pub(crate) const ATOMS: usize = 8;
/// Neighbors per batch: the lanes of the force pass's recursion of U.
const PAIRS: usize = 8;

type AtomLanes = [f64; ATOMS];
type PairLanes = [f64; PAIRS];

/// One entry (ma, mb), mb ≤ j/2, of a coupling's Z with nonzero weight.
#[derive(Debug, Clone, Copy)]
struct ZEntry {
    /// Index of (ma, mb) in the flat array of all layers.
    jju: u32,
    /// Index of (ma1min, mb1min) in U^{j1}; the sums move forwards from it.
    u1: u32,
    /// Index of (ma2max, mb2max) in U^{j2}; the sums move backwards from it.
    u2: u32,
    na: u32,
    nb: u32,
    /// Where the Clebsch–Gordan factors of the ma and the mb sums start in `cg_rows`.
    cga: u32,
    cgb: u32,
}

/// A coupling (j1, j2, j), j1 ≥ j2, with its entries.
#[derive(Debug, Clone)]
struct Block {
    j1: usize,
    j2: usize,
    j: usize,
    entries: Range<usize>,
    /// The component index when the coupling is a component (j ≥ j1).
    component: Option<usize>,
    rule: AdjointRule,
}

/// The precomputed index lists of one potential.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    two_j_max: usize,
    n_u: usize,
    layer_start: Vec<usize>,
    blocks: Vec<Block>,
    entries: Vec<ZEntry>,
    cg_rows: Vec<f64>,
    /// Weight of each entry of the flat layers in a contraction over rows mb ≤ j/2:
    /// 2 below the middle, 1 at the centre of an even layer, 0 right of it and beyond.
    half_weight: Vec<f64>,
    /// For each layer j ≥ 1 (from `recursion_start[j]`) and row mb ≤ j/2, the factors
    /// √((j−ma)/(j−mb)) for ma = 0..j, then √(ma/(j−mb)) for ma = 1..=j.
    recursion_start: Vec<usize>,
    recursion_roots: Vec<f64>,
}

impl Plan {
    pub(crate) fn new(basis: &Basis, normalize_b: bool) -> Self {
        let two_j_max = basis.two_j_max;
        let layer_start: Vec<usize> = (0..=two_j_max + 1).map(Basis::layer_start).collect();
        let n_u = layer_start[two_j_max + 1];
        let mut half_weight = vec![0.0; n_u];
        for j in 0..=two_j_max {
            for mb in 0..=j / 2 {
                for ma in 0..=j {
                    half_weight[layer_start[j] + mb * (j + 1) + ma] = if 2 * mb < j || 2 * ma < j {
                        2.0
                    } else if 2 * ma == j {
                        1.0
                    } else {
                        0.0
                    };
                }
            }
        }
        let rules = basis.adjoint_rules(normalize_b);
        let mut blocks = Vec::with_capacity(basis.couplings.len());
        let mut entries = Vec::new();
        let mut cg_rows = Vec::new();
        for (c, &[j1, j2, j]) in basis.couplings.iter().enumerate() {
            let cg = basis.cg_block(j1, j2, j);
            // For m ∈ 0..=j: the first m1 of the sum, the matching m2, the number of terms
            // and where the row of factors C^{j m}_{j1 m1, j2 m2} starts.
            let sums: Vec<(usize, usize, usize, usize)> = (0..=j)
                .map(|m| {
                    let lo = (2 * m + j1) as i64 - (j + j2) as i64;
                    let m1_min = if lo > 0 { lo as usize / 2 } else { 0 };
                    let m2_max = (2 * m + j1 + j2 - j - 2 * m1_min) / 2;
                    let m1_max = j1.min((2 * m + j1 + j2 - j) / 2);
                    let n = m1_max + 1 - m1_min;
                    let start = cg_rows.len();
                    cg_rows.extend((0..n).map(|t| cg[(m1_min + t) * (j2 + 1) + m2_max - t]));
                    (m1_min, m2_max, n, start)
                })
                .collect();
            let first = entries.len();
            for mb in 0..=j / 2 {
                for ma in 0..=j {
                    let jju = layer_start[j] + mb * (j + 1) + ma;
                    if half_weight[jju] == 0.0 {
                        continue;
                    }
                    let (ma1_min, ma2_max, na, cga) = sums[ma];
                    let (mb1_min, mb2_max, nb, cgb) = sums[mb];
                    entries.push(ZEntry {
                        jju: jju as u32,
                        u1: (layer_start[j1] + mb1_min * (j1 + 1) + ma1_min) as u32,
                        u2: (layer_start[j2] + mb2_max * (j2 + 1) + ma2_max) as u32,
                        na: na as u32,
                        nb: nb as u32,
                        cga: cga as u32,
                        cgb: cgb as u32,
                    });
                }
            }
            let component = (j >= j1).then(|| basis.component_index(j1, j2, j));
            blocks.push(Block { j1, j2, j, entries: first..entries.len(), component, rule: rules[c] });
        }
        let mut recursion_start = vec![0; two_j_max + 1];
        let mut recursion_roots = Vec::new();
        for (j, slot) in recursion_start.iter_mut().enumerate().skip(1) {
            *slot = recursion_roots.len();
            for mb in 0..=j / 2 {
                recursion_roots.extend((0..j).map(|ma| basis.root_pq(j - ma, j - mb)));
                recursion_roots.extend((1..=j).map(|ma| basis.root_pq(ma, j - mb)));
            }
        }
        Self { two_j_max, n_u, layer_start, blocks, entries, cg_rows, half_weight, recursion_start, recursion_roots }
    }
}

/// Complex numbers of a batch of atoms: entry t of lane l at `[t][l]`.
#[derive(Debug, Clone, Default)]
struct LaneArray {
    re: Vec<AtomLanes>,
    im: Vec<AtomLanes>,
}

impl LaneArray {
    fn zeroed(&mut self, n: usize) {
        self.re.clear();
        self.re.resize(n, [0.0; ATOMS]);
        self.im.clear();
        self.im.resize(n, [0.0; ATOMS]);
    }
}

/// Work arrays of one thread, reused from batch to batch.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    neighbors: [Vec<Neighbor>; ATOMS],
    /// Two layers of the recursion of U, one neighbor per lane, and each lane's weight
    /// w·f_c in every channel.
    u_layers: [Vec<(AtomLanes, AtomLanes)>; 2],
    channel_weights: Vec<AtomLanes>,
    /// The density of every channel, all rows.
    density: LaneArray,
    /// Y of every channel, times the half weights.
    y: LaneArray,
    /// The descriptors, and dE/dB.
    b: Vec<AtomLanes>,
    beta: [Vec<f64>; ATOMS],
    weights: Vec<AtomLanes>,
    /// Two layers of the force pass's recursion of U, one neighbor per lane.
    layers: [Vec<(PairLanes, PairLanes)>; 2],
    /// The weighted Y of the force pass's atom, in each lane that of its neighbor's
    /// channel (rows mb ≤ j/2), and the channel all lanes have when they share one.
    y_pairs: Vec<(PairLanes, PairLanes)>,
    y_pairs_channel: Option<usize>,
}

impl Scratch {
    /// The neighbor list of lane `lane`, to be filled before an evaluation.
    pub(crate) fn neighbors(&mut self, lane: usize) -> &mut Vec<Neighbor> {
        &mut self.neighbors[lane]
    }
}

/// The evaluator of one potential: the model, its basis and its plan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kernel<'a> {
    pub model: &'a SnapModel,
    pub basis: &'a Basis,
    pub plan: &'a Plan,
}

impl Kernel<'_> {
    /// The descriptors of a batch of atoms of elements `elements` (one per lane) whose
    /// neighbors are in `scratch`.
    pub(crate) fn descriptors(&self, elements: &[usize], s: &mut Scratch) -> Vec<Vec<f64>> {
        self.density(elements, s);
        self.couplings(elements, true, false, s);
        (0..elements.len()).map(|l| s.b.iter().map(|b| b[l]).collect()).collect()
    }

    /// Energies (when `energy`) and dE_i/dx_j of a batch of atoms of elements `elements`
    /// (one per lane) whose neighbors are in `scratch`.
    pub(crate) fn atom_terms(&self, elements: &[usize], energy: bool, s: &mut Scratch) -> Vec<AtomTerms> {
        let model = self.model;
        self.density(elements, s);
        let lane_b = |s: &Scratch, l: usize| -> Vec<f64> { s.b.iter().map(|b| b[l]).collect() };
        let mut energies = vec![0.0; elements.len()];
        if model.params.quadratic {
            self.couplings(elements, true, false, s);
            for (l, &e) in elements.iter().enumerate() {
                let (energy, beta) = model.energy_and_gradient(e, &lane_b(s, l));
                energies[l] = energy;
                s.beta[l] = beta;
            }
            self.couplings(elements, false, true, s);
        } else {
            for (l, &e) in elements.iter().enumerate() {
                s.beta[l].clone_from(&model.elements[e].linear);
            }
            self.couplings(elements, energy, true, s);
            if energy {
                for (l, &e) in elements.iter().enumerate() {
                    energies[l] = model.energy_and_gradient(e, &lane_b(s, l)).0;
                }
            }
        }
        energies
            .into_iter()
            .enumerate()
            .map(|(l, energy)| AtomTerms { energy, forces: self.pair_gradients(l, s) })
            .collect()
    }

    /// The density of every channel and lane: the self term, plus w·f_c·U over the
    /// neighbors in rows mb ≤ j/2, then mirrored. The k-th neighbors of all lanes are
    /// handled together; a lane with fewer neighbors adds zeros.
    fn density(&self, elements: &[usize], s: &mut Scratch) {
        let plan = self.plan;
        let n_u = plan.n_u;
        let n_ch = self.model.n_channels();
        let two_j_max = plan.two_j_max;
        s.density.zeroed(n_ch * n_u);
        for (l, &element) in elements.iter().enumerate() {
            let own = self.model.channel(element);
            for ch in 0..n_ch {
                if ch == own || self.model.params.self_weight_all {
                    for j in 0..=two_j_max {
                        for m in 0..=j {
                            s.density.re[ch * n_u + plan.layer_start[j] + m * (j + 1) + m][l] = site::W_SELF;
                        }
                    }
                }
            }
        }
        let size = (two_j_max / 2 + 2) * (two_j_max + 1);
        let [mut prev, mut cur] = std::mem::take(&mut s.u_layers);
        prev.resize(size, ([0.0; ATOMS], [0.0; ATOMS]));
        cur.resize(size, ([0.0; ATOMS], [0.0; ATOMS]));
        let n_max = s.neighbors[..elements.len()].iter().map(Vec::len).max().unwrap_or(0);
        for k in 0..n_max {
            // Lanes without a k-th neighbor get a = 1, b = 0 (a finite U) and weight 0.
            let (mut a_re, mut a_im) = ([1.0; ATOMS], [0.0; ATOMS]);
            let (mut b_re, mut b_im) = ([0.0; ATOMS], [0.0; ATOMS]);
            let weight = &mut s.channel_weights;
            weight.clear();
            weight.resize(n_ch, [0.0; ATOMS]);
            for (l, neighbors) in s.neighbors[..elements.len()].iter().enumerate() {
                let Some(n) = neighbors.get(k) else { continue };
                // z0 in the force pass's form (r·cos θ0 / sin θ0, LAMMPS `compute_duidrj`),
                // not `compute_ui`'s r / tan θ0: one evaluation serves both passes; the two
                // differ in the last bit at most (the reference evaluator keeps both).
                let z0 = n.z0;
                let r0inv = 1.0 / (n.r * n.r + z0 * z0).sqrt();
                (a_re[l], a_im[l]) = (r0inv * z0, -r0inv * n.d.z);
                (b_re[l], b_im[l]) = (r0inv * n.d.y, -r0inv * n.d.x);
                weight[n.channel][l] = n.sfac;
            }
            // U^0 = 1.
            prev[0] = ([1.0; ATOMS], [0.0; ATOMS]);
            for (ch, w) in weight.iter().enumerate() {
                let total = &mut s.density.re[ch * n_u];
                for l in 0..ATOMS {
                    total[l] += w[l];
                }
            }
            for j in 1..=two_j_max {
                let start = plan.layer_start[j];
                let q_layer = &plan.recursion_roots[plan.recursion_start[j]..][..(j / 2 + 1) * 2 * j];
                for mb in 0..=j / 2 {
                    // Rows as slices, taken once: no bounds checks in the loop over ma.
                    let p_row = &prev[mb * j..][..j];
                    let u_row = &mut cur[mb * (j + 1)..][..j + 1];
                    let (q1, q2) = q_layer[mb * 2 * j..][..2 * j].split_at(j);
                    let row = start + mb * (j + 1);
                    for (ma, u) in u_row.iter_mut().enumerate() {
                        let (mut re, mut im) = ([0.0; ATOMS], [0.0; ATOMS]);
                        if ma < j {
                            let (q, (pr, pi)) = (q1[ma], &p_row[ma]);
                            for l in 0..ATOMS {
                                re[l] += q * (a_re[l] * pr[l] + a_im[l] * pi[l]);
                                im[l] += q * (a_re[l] * pi[l] - a_im[l] * pr[l]);
                            }
                        }
                        if ma > 0 {
                            let (q, (pr, pi)) = (q2[ma - 1], &p_row[ma - 1]);
                            for l in 0..ATOMS {
                                re[l] -= q * (b_re[l] * pr[l] + b_im[l] * pi[l]);
                                im[l] -= q * (b_re[l] * pi[l] - b_im[l] * pr[l]);
                            }
                        }
                        *u = (re, im);
                        for (ch, w) in weight.iter().enumerate() {
                            add_product(&mut s.density.re[ch * n_u + row + ma], w, &re);
                            add_product(&mut s.density.im[ch * n_u + row + ma], w, &im);
                        }
                    }
                }
                if j % 2 == 1 && j < two_j_max {
                    for (target, source, sign) in mirrored_row(j) {
                        let (re, im) = cur[source];
                        cur[target] = (re.map(|x| sign * x), im.map(|x| -sign * x));
                    }
                }
                std::mem::swap(&mut prev, &mut cur);
            }
        }
        s.u_layers = [prev, cur];
        for ch in 0..n_ch {
            let (re, im) = (&mut s.density.re[ch * n_u..][..n_u], &mut s.density.im[ch * n_u..][..n_u]);
            for j in 0..=two_j_max {
                let start = plan.layer_start[j];
                for mb in j / 2 + 1..=j {
                    for ma in 0..=j {
                        let src = start + (j - mb) * (j + 1) + (j - ma);
                        let sign = parity_sign(ma + mb);
                        re[start + mb * (j + 1) + ma] = re[src].map(|x| sign * x);
                        im[start + mb * (j + 1) + ma] = im[src].map(|x| -sign * x);
                    }
                }
            }
        }
    }

    /// Z of one entry for channels κ (`u1`) and λ (`u2`), every lane, divided by j + 1
    /// with bnormflag: Σ_{mb1} C·Σ_{ma1} C·u1(ma1, mb1)·u2(ma2, mb2) in LAMMPS's order.
    #[inline(always)]
    fn z_entry(
        &self,
        block: &Block,
        e: &ZEntry,
        u1: (&[AtomLanes], &[AtomLanes]),
        u2: (&[AtomLanes], &[AtomLanes]),
    ) -> (AtomLanes, AtomLanes) {
        let cg = &self.plan.cg_rows;
        let (na, nb) = (e.na as usize, e.nb as usize);
        let cga = &cg[e.cga as usize..][..na];
        let cgb = &cg[e.cgb as usize..][..nb];
        let (mut zr, mut zi) = ([0.0; ATOMS], [0.0; ATOMS]);
        for ib in 0..nb {
            let o1 = e.u1 as usize + ib * (block.j1 + 1);
            let o2 = e.u2 as usize - ib * (block.j2 + 1);
            // The ma sum reads U^{j1} forwards from o1 and U^{j2} backwards from o2; the
            // slices are taken once so that the loop has no bounds checks.
            let x = u1.0[o1..][..na].iter().zip(&u1.1[o1..][..na]);
            let y = u2.0[o2 + 1 - na..=o2].iter().zip(&u2.1[o2 + 1 - na..=o2]).rev();
            let (mut sr, mut si) = ([0.0; ATOMS], [0.0; ATOMS]);
            for ((&c, (xr, xi)), (yr, yi)) in cga.iter().zip(x).zip(y) {
                for l in 0..ATOMS {
                    sr[l] += c * (xr[l] * yr[l] - xi[l] * yi[l]);
                    si[l] += c * (xr[l] * yi[l] + xi[l] * yr[l]);
                }
            }
            for l in 0..ATOMS {
                zr[l] += cgb[ib] * sr[l];
                zi[l] += cgb[ib] * si[l];
            }
        }
        if self.model.params.normalize_b {
            let norm = (block.j + 1) as f64;
            for l in 0..ATOMS {
                zr[l] /= norm;
                zi[l] /= norm;
            }
        }
        (zr, zi)
    }

    /// One pass over the couplings. With `with_b`, the descriptors into `s.b`:
    /// B = Σ_half w·Re[U*·Z] over the component couplings, less B_0 where bzeroflag asks
    /// for it. With `with_y`, Y of every channel into `s.y`, times the half weights:
    /// Y^j_μ = Σ_{κλ} Σ_{couplings} weight·Z^j_{κλ}(j1, j2) (see [`AdjointRule`]), with
    /// the coefficients dE/dB of `s.beta`.
    fn couplings(&self, elements: &[usize], with_b: bool, with_y: bool, s: &mut Scratch) {
        let model = self.model;
        let plan = self.plan;
        let n_ch = model.n_channels();
        let n_k = model.n_components;
        let n_u = plan.n_u;
        let mut b = std::mem::take(&mut s.b);
        let mut y = std::mem::take(&mut s.y);
        let mut weights = std::mem::take(&mut s.weights);
        if with_b {
            b.clear();
            b.resize(model.n_descriptors, [0.0; ATOMS]);
        }
        if with_y {
            y.zeroed(n_ch * n_u);
        }
        weights.resize(n_ch, [0.0; ATOMS]);
        let density = &s.density;
        for kappa in 0..n_ch {
            for lambda in 0..n_ch {
                let u1 = (&density.re[kappa * n_u..][..n_u], &density.im[kappa * n_u..][..n_u]);
                let u2 = (&density.re[lambda * n_u..][..n_u], &density.im[lambda * n_u..][..n_u]);
                for block in &plan.blocks {
                    let b_slot = block.component.filter(|_| with_b);
                    let mut y_needed = false;
                    if with_y {
                        for (mu, w) in weights.iter_mut().enumerate() {
                            *w = [0.0; ATOMS];
                            for (l, beta) in s.beta.iter().enumerate().take(elements.len()) {
                                w[l] = block.rule.weight(beta, n_ch, n_k, [kappa, lambda, mu]);
                            }
                            y_needed |= w.iter().any(|w| *w != 0.0);
                        }
                    }
                    if b_slot.is_none() && !y_needed {
                        continue;
                    }
                    for e in &plan.entries[block.entries.clone()] {
                        let (zr, zi) = self.z_entry(block, e, u1, u2);
                        let jju = e.jju as usize;
                        if let Some(k) = b_slot {
                            let hw = plan.half_weight[jju];
                            for mu in 0..n_ch {
                                let (ur, ui) = (&density.re[mu * n_u + jju], &density.im[mu * n_u + jju]);
                                let slot = &mut b[((kappa * n_ch + lambda) * n_ch + mu) * n_k + k];
                                let (ur, ui, mut sum) = (*ur, *ui, *slot);
                                for l in 0..ATOMS {
                                    sum[l] += hw * (ur[l] * zr[l] + ui[l] * zi[l]);
                                }
                                *slot = sum;
                            }
                        }
                        if y_needed {
                            for (mu, w) in weights.iter().enumerate() {
                                add_product(&mut y.re[mu * n_u + jju], w, &zr);
                                add_product(&mut y.im[mu * n_u + jju], w, &zi);
                            }
                        }
                    }
                }
            }
        }
        if with_b && model.params.subtract_bzero {
            for (l, &element) in elements.iter().enumerate() {
                let own = model.channel(element);
                for t in 0..n_ch * n_ch * n_ch {
                    if model.params.self_weight_all || t == (own * n_ch + own) * n_ch + own {
                        for (k, &[_, _, j]) in self.basis.components.iter().enumerate() {
                            b[t * n_k + k][l] -= site::bzero(model, j);
                        }
                    }
                }
            }
        }
        if with_y {
            for ch in 0..n_ch {
                let (re, im) = (&mut y.re[ch * n_u..][..n_u], &mut y.im[ch * n_u..][..n_u]);
                for ((re, im), w) in re.iter_mut().zip(im.iter_mut()).zip(&plan.half_weight) {
                    *re = re.map(|x| x * w);
                    *im = im.map(|x| x * w);
                }
            }
        }
        s.b = b;
        s.y = y;
        s.weights = weights;
    }

    /// dE_i/dx_j for every neighbor j of the atom in lane `lane`, [`PAIRS`] at a time.
    fn pair_gradients(&self, lane: usize, s: &mut Scratch) -> Vec<(usize, Vec3)> {
        let neighbors = std::mem::take(&mut s.neighbors[lane]);
        let mut out = Vec::with_capacity(neighbors.len());
        s.y_pairs_channel = None;
        for batch in neighbors.chunks(PAIRS) {
            let f = self.pair_batch(batch, lane, s);
            out.extend(batch.iter().zip(f).map(|(n, f)| (n.atom_idx, f)));
        }
        s.neighbors[lane] = neighbors;
        out
    }

    /// dE_i/dx_j for up to [`PAIRS`] neighbors of the atom in lane `lane`: U made layer
    /// by layer and contracted with the weighted Y of each neighbor's channel as each
    /// layer is done, f_k = s′·(d_k/r)·Σ Y·U + s·Σ Y·∂U/∂d_k.
    fn pair_batch(&self, batch: &[Neighbor], lane: usize, s: &mut Scratch) -> Vec<Vec3> {
        let plan = self.plan;
        let n_u = plan.n_u;
        // The Cayley–Klein parameters a = (z0 − i z)/r0, b = (y − i x)/r0 of each neighbor
        // and their derivatives with respect to its position (LAMMPS `compute_duarray`).
        let mut a = CayleyKlein::default();
        let mut b = CayleyKlein::default();
        let mut scale = [(0.0, 0.0, Vec3::zeros()); PAIRS];
        let mut channel = [0usize; PAIRS];
        for (p, n) in batch.iter().enumerate() {
            let (z0, dz0dr) = (n.z0, n.dz0dr);
            let (d, r) = (n.d, n.r);
            let r0inv = 1.0 / (r * r + z0 * z0).sqrt();
            let dr0inv_dr = -r0inv.powi(3) * (r + z0 * dz0dr);
            let unit = d / r;
            (a.re[p], a.im[p]) = (z0 * r0inv, -d.z * r0inv);
            (b.re[p], b.im[p]) = (d.y * r0inv, -d.x * r0inv);
            for k in 0..3 {
                let dr0inv = dr0inv_dr * unit[k];
                a.d_re[k][p] = dz0dr * unit[k] * r0inv + z0 * dr0inv;
                a.d_im[k][p] = -d.z * dr0inv;
                b.d_re[k][p] = d.y * dr0inv;
                b.d_im[k][p] = -d.x * dr0inv;
            }
            a.d_im[2][p] -= r0inv;
            b.d_re[1][p] += r0inv;
            b.d_im[0][p] -= r0inv;
            let (sfac, dsfac) = (n.sfac, n.dsfac);
            scale[p] = (sfac, dsfac, unit);
            channel[p] = n.channel;
        }
        // Y of the batch's lanes: gathered once per atom while the neighbors share a channel.
        let shared = channel[..batch.len()].iter().all(|c| *c == channel[0]).then_some(channel[0]);
        if shared.is_none() || shared != s.y_pairs_channel {
            let (y, ys) = (&s.y, &mut s.y_pairs);
            ys.resize(n_u, ([0.0; PAIRS], [0.0; PAIRS]));
            for j in 0..=plan.two_j_max {
                let start = plan.layer_start[j];
                for t in start..start + (j / 2 + 1) * (j + 1) {
                    ys[t] = match shared {
                        Some(c) => ([y.re[c * n_u + t][lane]; PAIRS], [y.im[c * n_u + t][lane]; PAIRS]),
                        None => (channel.map(|c| y.re[c * n_u + t][lane]), channel.map(|c| y.im[c * n_u + t][lane])),
                    };
                }
            }
            s.y_pairs_channel = shared;
        }
        let acc = self.recurse(&a, &b, &mut s.layers, &s.y_pairs);
        (0..batch.len())
            .map(|p| {
                let (sfac, dsfac, unit) = scale[p];
                Vec3::new(
                    dsfac * unit.x * acc[0][p] + sfac * acc[1][p],
                    dsfac * unit.y * acc[0][p] + sfac * acc[2][p],
                    dsfac * unit.z * acc[0][p] + sfac * acc[3][p],
                )
            })
            .collect()
    }

    /// The recursion of U for a batch of neighbors with parameters `a`, `b`, returning
    /// Σ Y·U and Σ Y·∂U/∂d_k (k = x, y, z) over the rows mb ≤ j/2, where `ys` holds the
    /// weighted Y of each lane.
    ///
    /// ∂U is never formed. U^j is the j-th symmetric power of g = [[a*, b], [−b*, a]]
    /// (columns (a*, −b*) and (b, a): the recursion below is multiplication by the first
    /// column, the mirror symmetry gives the second), so each entry is a polynomial in
    /// g11 = a*, g21 = −b*, g12 = b, g22 = a whose partial derivatives are entries of
    /// U^{j−1}:
    ///   ∂u^j(ma, mb)/∂g11 = √((j−ma)(j−mb))·u^{j−1}(ma, mb),
    ///   ∂u^j(ma, mb)/∂g21 = √(ma(j−mb))·u^{j−1}(ma−1, mb),
    ///   ∂u^j(ma, mb)/∂g12 = √((j−ma)mb)·u^{j−1}(ma, mb−1),
    ///   ∂u^j(ma, mb)/∂g22 = √(ma·mb)·u^{j−1}(ma−1, mb−1).
    /// With S_ik = Σ Y*·∂u/∂g_ik over the entries,
    /// Σ Y·∂U/∂d_k = Re[S11·∂a_k* − S21·∂b_k* + S12·∂b_k + S22·∂a_k]. Every entry read is
    /// in the rows mb ≤ j/2 of U^{j−1} that the recursion keeps (with the mirrored row of
    /// an odd layer).
    ///
    /// The recursion's own terms give these products: row mb of layer j forms
    /// w1(ma) = √((j−ma)/(j−mb))·u^{j−1}(ma, mb) and w2(ma) = √(ma/(j−mb))·u^{j−1}(ma−1, mb),
    /// and u^j(ma, mb) = a*·w1 − b*·w2. Then S11 and S21 take Y*(ma, mb)·w1 and ·w2 times
    /// (j − mb), and S12 and S22 take Y*(ma, mb+1)·w1 and ·w2 times √((mb+1)(j−mb)).
    #[inline(always)]
    fn recurse(
        &self,
        a: &CayleyKlein,
        b: &CayleyKlein,
        layers: &mut [Vec<(PairLanes, PairLanes)>; 2],
        ys: &[(PairLanes, PairLanes)],
    ) -> [PairLanes; 4] {
        let plan = self.plan;
        let two_j_max = plan.two_j_max;
        let size = (two_j_max / 2 + 2) * (two_j_max + 1);
        let [mut prev, mut cur] = std::mem::take(layers);
        prev.resize(size, ([0.0; PAIRS], [0.0; PAIRS]));
        cur.resize(size, ([0.0; PAIRS], [0.0; PAIRS]));
        prev[0] = ([1.0; PAIRS], [0.0; PAIRS]);
        // Σ Y·U, with U^0 = 1.
        let mut yu = ys[0].0;
        // S11, S21, S12, S22: real parts, imaginary parts.
        let mut s = [[[0.0; PAIRS]; 2]; 4];
        let g = [a.re, a.im, b.re, b.im];
        for j in 1..=two_j_max {
            let start = plan.layer_start[j];
            let half = j / 2;
            let y_layer = &ys[start..][..(half + 1) * (j + 1)];
            let q_layer = &plan.recursion_roots[plan.recursion_start[j]..][..(half + 1) * 2 * j];
            for mb in 0..=half {
                let p_row = &prev[mb * j..][..j];
                let u_row = &mut cur[mb * (j + 1)..][..j + 1];
                let y_row = &y_layer[mb * (j + 1)..][..j + 1];
                // The next row's Y, or zeros beyond the half.
                let y_next = if mb < half { &y_layer[(mb + 1) * (j + 1)..][..j + 1] } else { &y_layer[..0] };
                let (q1, q2) = q_layer[mb * 2 * j..][..2 * j].split_at(j);
                let r = if y_next.is_empty() {
                    recursion_row::<false>(g, q1, q2, p_row, u_row, y_row, y_next, &mut yu)
                } else {
                    recursion_row::<true>(g, q1, q2, p_row, u_row, y_row, y_next, &mut yu)
                };
                let f_same = (j - mb) as f64;
                let f_next = (((mb + 1) * (j - mb)) as f64).sqrt();
                // One call per sum: a loop over the four lets the compiler vectorise
                // across them with gathers.
                let [s11, s21, s12, s22] = &mut s;
                add_scaled(s11, f_same, &r[0]);
                add_scaled(s21, f_same, &r[1]);
                add_scaled(s12, f_next, &r[2]);
                add_scaled(s22, f_next, &r[3]);
            }
            if j % 2 == 1 && j < two_j_max {
                for (target, source, sign) in mirrored_row(j) {
                    let (re, im) = cur[source];
                    cur[target] = (re.map(|x| sign * x), im.map(|x| -sign * x));
                }
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        *layers = [prev, cur];
        let [s11, s21, s12, s22] = s;
        let mut acc = [yu, [0.0; PAIRS], [0.0; PAIRS], [0.0; PAIRS]];
        for k in 0..3 {
            for l in 0..PAIRS {
                // Re[S11·da*] + Re[S22·da] − Re[S21·db*] + Re[S12·db].
                acc[k + 1][l] = (s11[0][l] + s22[0][l]) * a.d_re[k][l]
                    + (s11[1][l] - s22[1][l]) * a.d_im[k][l]
                    + (s12[0][l] - s21[0][l]) * b.d_re[k][l]
                    - (s12[1][l] + s21[1][l]) * b.d_im[k][l];
            }
        }
        acc
    }
}

/// y += w·z, lane by lane.
#[inline(always)]
fn add_product(y: &mut AtomLanes, w: &AtomLanes, z: &AtomLanes) {
    // Whole-array loads and store: with element-wise updates through the references
    // the compiler (fearing overlap) emits eight scalar operations.
    let (w, z, mut t) = (*w, *z, *y);
    for l in 0..ATOMS {
        t[l] += w[l] * z[l];
    }
    *y = t;
}

/// One row mb of layer j of [`Kernel::recurse`]: u^j(·, mb) into `u_row` from the row
/// `p_row` of U^{j−1}, Σ Y·u^j added to `yu`, and the row's sums of Y*(ma, mb)·w1,
/// Y*(ma, mb)·w2, Y*(ma, mb+1)·w1 and Y*(ma, mb+1)·w2 (real and imaginary parts), the
/// last two only with `NEXT` (zeros beyond the half). Kept apart so that the sums live
/// in registers.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn recursion_row<const NEXT: bool>(
    g: [PairLanes; 4],
    q1: &[f64],
    q2: &[f64],
    p_row: &[(PairLanes, PairLanes)],
    u_row: &mut [(PairLanes, PairLanes)],
    y_row: &[(PairLanes, PairLanes)],
    y_next: &[(PairLanes, PairLanes)],
    yu: &mut PairLanes,
) -> [[PairLanes; 2]; 4] {
    let [a_re, a_im, b_re, b_im] = g;
    let j = q1.len();
    let (mut r0, mut r1, mut r2, mut r3) = ([[0.0; PAIRS]; 2], [[0.0; PAIRS]; 2], [[0.0; PAIRS]; 2], [[0.0; PAIRS]; 2]);
    // Entry ma takes a*·w1(ma) (ma < j) less b*·w2(ma) (ma > 0), w1(ma) from
    // u^{j−1}(ma, mb) and w2(ma) from u^{j−1}(ma−1, mb). One pass over the row: each sum
    // still runs over ma in order, and u^j(j, mb) is 0 − b*·w2 as when it was zeroed first.
    let w1_of = |ma: usize| {
        let (q, (pr, pi)) = (q1[ma], &p_row[ma]);
        (pr.map(|x| q * x), pi.map(|x| q * x))
    };
    let w2_of = |ma: usize| {
        let (q, (pr, pi)) = (q2[ma - 1], &p_row[ma - 1]);
        (pr.map(|x| q * x), pi.map(|x| q * x))
    };
    for ma in 0..=j {
        let (mut ur, mut ui) = ([0.0; PAIRS], [0.0; PAIRS]);
        if ma < j {
            let (wr, wi) = w1_of(ma);
            for l in 0..PAIRS {
                ur[l] = a_re[l] * wr[l] + a_im[l] * wi[l];
                ui[l] = a_re[l] * wi[l] - a_im[l] * wr[l];
            }
            conj_mul_add(&mut r0, &y_row[ma], (&wr, &wi));
            if NEXT {
                conj_mul_add(&mut r2, &y_next[ma], (&wr, &wi));
            }
        }
        if ma > 0 {
            let (wr, wi) = w2_of(ma);
            for l in 0..PAIRS {
                ur[l] -= b_re[l] * wr[l] + b_im[l] * wi[l];
                ui[l] -= b_re[l] * wi[l] - b_im[l] * wr[l];
            }
            conj_mul_add(&mut r1, &y_row[ma], (&wr, &wi));
            if NEXT {
                conj_mul_add(&mut r3, &y_next[ma], (&wr, &wi));
            }
        }
        let (yr, yi) = &y_row[ma];
        for l in 0..PAIRS {
            yu[l] += yr[l] * ur[l] + yi[l] * ui[l];
        }
        u_row[ma] = (ur, ui);
    }
    [r0, r1, r2, r3]
}

/// s += c·r, lane by lane, both parts.
#[inline(always)]
fn add_scaled(s: &mut [PairLanes; 2], c: f64, r: &[PairLanes; 2]) {
    for part in 0..2 {
        for l in 0..PAIRS {
            s[part][l] += c * r[part][l];
        }
    }
}

/// r += y*·p, lane by lane (r = [re, im]).
#[inline(always)]
fn conj_mul_add(r: &mut [PairLanes; 2], y: &(PairLanes, PairLanes), p: (&PairLanes, &PairLanes)) {
    let ((yr, yi), (pr, pi)) = (y, p);
    for l in 0..PAIRS {
        r[0][l] += yr[l] * pr[l] + yi[l] * pi[l];
        r[1][l] += yr[l] * pi[l] - yi[l] * pr[l];
    }
}

/// For an odd layer j: (target, source, sign) of each entry of row (j+1)/2, which layer
/// j + 1 reads and the recursion does not make, from row (j−1)/2 by
/// u(j−ma, j−mb) = (−1)^{ma−mb}·u(ma, mb)*. Indices are within the layer.
fn mirrored_row(j: usize) -> impl Iterator<Item = (usize, usize, f64)> {
    let (target, source) = (j.div_ceil(2) * (j + 1), (j - 1) / 2 * (j + 1));
    (0..=j).map(move |ma| (target + ma, source + j - ma, parity_sign(j - ma + (j - 1) / 2)))
}

/// A Cayley–Klein parameter and its derivatives along x, y, z, for a batch of neighbors.
#[derive(Debug, Clone, Copy, Default)]
struct CayleyKlein {
    re: PairLanes,
    im: PairLanes,
    d_re: [PairLanes; 3],
    d_im: [PairLanes; 3],
}
