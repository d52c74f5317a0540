//! The fast evaluator: the reference's equations (see `reference.rs`) restructured for
//! speed and held to the reference by tests.
//!
//! - The neighbors of an atom are grouped by element and evaluated `LANES` at a time, one
//!   per SIMD lane, in structure-of-arrays buffers (`[f64; LANES]` per quantity): the
//!   radial tables are read into lanes, the spherical harmonics and their gradients are
//!   computed for all lanes at once (`Harmonics::compute_lanes`), the atomic base is
//!   accumulated per lane, and the force contraction runs over lanes. Every lane does the
//!   scalar operations in the scalar order, so a neighbor's harmonics, radial values and
//!   force terms do not depend on which neighbors share its batch.
//! - The atomic base A is summed per lane (neighbor k of an element group goes to lane
//!   k mod `LANES`) and the lanes are added in lane order at the end. That order is fixed
//!   by the atom's neighbor list alone, so results are the same on any number of ranks and
//!   threads. A1, ρ_core and the nearest-neighbor search of the ZBL switch run over the
//!   neighbors in list order, as before.
//! - The products of the atomic base and their adjoint run over a precomputed graph of
//!   two-factor products (`plan.rs`): one complex multiplication per node forwards and two
//!   backwards, with partial products shared between functions (`Recursive`) or not
//!   (`Product`).
//! - The adjoint W = ∂E/∂A is folded onto m ≥ 0 once per atom (W_lm + (−1)^m conj W_{l,−m}),
//!   so the force on a neighbor needs no −m terms.
//! - The force on a neighbor is contracted over n first: U_lm = Σ_n W_nlm R_nl and
//!   V_lm = Σ_n W_nlm R'_nl, then ∂E/∂x_j = r̂ (Σ_lm Re(V_lm Y_lm) + Σ_k W1_k g'_k + ∂E/∂ρ_core
//!   cr') + Σ_lm Re(U_lm ∇Y_lm): the n·l·m gradient terms of the direct sum become l·m.
//! - Radial values and harmonics (with gradients) are computed once, in the density pass,
//!   and kept for the force pass (a few hundred kB per atom, which stay in cache). In the
//!   force pass U_lm and V_lm are summed over n in registers and contracted with Y and ∇Y
//!   at once, never stored.
//! - The graph passes run on [re, im] pairs (one load per factor, complex products in
//!   SIMD registers with the scalar formula's bits), with local slices so that the compiler
//!   does not reload the buffers' addresses after every store. The densities ρ_p sum the
//!   terms in term order (ML-PACE's order): the terms reach ~10³ and cancel to a few eV,
//!   and blocked or interleaved partial sums broke the tests' bounds (10⁻¹³ relative on
//!   the LAMMPS run energy, 10⁻¹¹ on atom energies against the reference).
//! - Most of the time of a large basis goes to the density terms of rank > 1 whose
//!   product nothing else uses (the plan's leaf outputs: ~10⁴ per atom for CuNi-large).
//!   Each term's real part is formed once and added to every density (the chains side by
//!   side, each still in term order, so the same bits); its adjoint θ = Σ_p ∂E/∂ρ_p c_p is
//!   formed in the adjoint pass itself. That pass takes the terms grouped by a shared
//!   factor, whose adjoint is summed over its group in registers.
//! - Graphs of at most 65,536 values (all potentials we have seen) are walked with 16-bit
//!   ids over arrays of 65,536 entries, which the compiler indexes without bounds checks;
//!   larger ones with 32-bit ids over slices (same bits; a test runs both).
//!
//! Cost: see "Performance" in the crate documentation (`lib.rs`).

use crate::basis::Basis;
use crate::embedding::{core_density_switch, embed};
use crate::harmonics::{lanes, lm, n_lm, DX_IM, DX_RE, DY_IM, DY_RE, DZ_IM, DZ_RE, Y_IM, Y_RE};
use crate::model::InnerCutoffKind;
use crate::plan::{Id, Ids, Plan, NARROW};
use crate::radial::cutoff_poly;
use crate::reference::Close;
use crate::site::Neighbor;
use calcine_core::Vec3;
use calcine_potential::AtomTerms;
use std::ops::{Index, IndexMut};

/// Neighbors evaluated side by side, one per SIMD lane (four f64 fill an AVX2 register).
const LANES: usize = 4;
type Lanes = [f64; LANES];

/// Up to `LANES` neighbors of one element, evaluated together; lanes from `len` on are
/// padding (zero radial functions, r̂ = ẑ) whose results are dropped.
#[derive(Debug, Clone, Copy)]
struct Batch {
    mu: usize,
    len: usize,
    /// The index in `Scratch::neighbors` of each lane's neighbor.
    members: [usize; LANES],
}

/// Reusable buffers of one thread.
#[derive(Debug, Default)]
pub struct Scratch {
    pub neighbors: Vec<Neighbor>,
    batches: Vec<Batch>,
    /// Each neighbor's place: batch · `LANES` + lane.
    slot: Vec<usize>,
    /// Per batch: r̂ (x, y, z) and 1/r.
    rhat: Vec<[Lanes; 3]>,
    inv_r: Vec<Lanes>,
    /// Per batch: the table's values (g_k, R_nl, core), then its derivatives.
    radial: Vec<Lanes>,
    /// Per batch: Y and ∇Y, the eight blocks of `Harmonics::compute_lanes`.
    harmonics: Vec<Lanes>,
    p: Vec<Lanes>,
    dp: Vec<Lanes>,
    /// The atomic base [μ][n][lm ≥ 0], summed per lane.
    a_re: Vec<Lanes>,
    a_im: Vec<Lanes>,
    a1: Vec<f64>,
    /// Values of the graph (the A-leaves, then the nodes) and their adjoints, [re, im].
    values: Vec<[f64; 2]>,
    adjoint: Vec<[f64; 2]>,
    /// The folded adjoint on m ≥ 0, [μ][n][lm], real and imaginary parts apart.
    folded_re: Vec<f64>,
    folded_im: Vec<f64>,
    w1: Vec<f64>,
    /// ∂E_i/∂x_j by slot.
    slot_forces: Vec<Vec3>,
    rho: Vec<f64>,
    d_f: Vec<f64>,
}

fn parity(m: usize) -> f64 {
    if m & 1 == 0 {
        1.0
    } else {
        -1.0
    }
}

/// Groups the neighbors by element into batches of `LANES`, in list order within an
/// element, and records each neighbor's slot.
fn build_batches(s: &mut Scratch, n_el: usize) {
    let n_nb = s.neighbors.len();
    s.batches.clear();
    s.slot.clear();
    s.slot.resize(n_nb, 0);
    for mu in 0..n_el {
        let first = s.batches.len();
        for (jj, nb) in s.neighbors.iter().enumerate() {
            if nb.mu != mu {
                continue;
            }
            if s.batches.len() == first || s.batches.last().is_some_and(|b| b.len == LANES) {
                s.batches.push(Batch { mu, len: 0, members: [usize::MAX; LANES] });
            }
            let b = s.batches.len() - 1;
            let batch = &mut s.batches[b];
            batch.members[batch.len] = jj;
            s.slot[jj] = b * LANES + batch.len;
            batch.len += 1;
        }
    }
}

/// The energy of atom i (element `mu_i`) and ∂E_i/∂x_j for the neighbors in
/// `scratch.neighbors`, in their order.
pub fn atom_terms(basis: &Basis, plan: &Plan, mu_i: usize, s: &mut Scratch) -> Result<AtomTerms, Close> {
    let model = &basis.model;
    let n_el = model.n_elements();
    let (lmax, nradmax, nradbase) = (basis.lmax, basis.nradmax, basis.nradbase);
    let n_rl = nradmax * (lmax + 1);
    let nlm = n_lm(lmax);
    let per_n = (lmax + 1) * (lmax + 1);
    // Per batch: the table's values, then its derivatives.
    let width = nradbase + n_rl + 1;
    let stride = 2 * width;
    let embedding = &model.embeddings[mu_i];
    let ndensity = embedding.ndensity;
    let zbl = model.inner_cutoff == InnerCutoffKind::Zbl;
    let n_nb = s.neighbors.len();

    build_batches(s, n_el);
    let n_batches = s.batches.len();
    s.radial.resize(n_batches * stride, [0.0; LANES]);
    s.harmonics.resize(n_batches * 8 * nlm, [0.0; LANES]);
    s.rhat.resize(n_batches, [[0.0; LANES]; 3]);
    s.inv_r.resize(n_batches, [0.0; LANES]);
    s.p.resize(nlm, [0.0; LANES]);
    s.dp.resize(nlm, [0.0; LANES]);
    for (b, batch) in s.batches.iter().enumerate() {
        // Padding lanes: no radial functions, any unit vector.
        for lane in batch.len..LANES {
            for v in &mut s.radial[b * stride..(b + 1) * stride] {
                v[lane] = 0.0;
            }
            s.rhat[b][0][lane] = 0.0;
            s.rhat[b][1][lane] = 0.0;
            s.rhat[b][2][lane] = 1.0;
            s.inv_r[b][lane] = 1.0;
        }
    }

    // The atomic base.
    let mut rho_core = 0.0;
    let mut nearest: Option<(usize, f64)> = None;
    let mut d_min = model.max_cutoff();
    s.a1.clear();
    s.a1.resize(n_el * nradbase, 0.0);
    // All table lookups first, back to back, in list order, so that the processor has
    // several neighbors' segments in flight at once: lookups wait on memory, the tables
    // being megabytes.
    for jj in 0..n_nb {
        let nb = s.neighbors[jj];
        let (b, lane) = (s.slot[jj] / LANES, s.slot[jj] % LANES);
        let tables = basis.tables(mu_i, nb.mu);
        let close = |_| Close { atom_idx: nb.atom_idx, r: nb.r, min_distance: tables.min_distance() };
        let (values, derivatives) = s.radial[b * stride..(b + 1) * stride].split_at_mut(width);
        tables.table.eval_lane(nb.r, lane, values, derivatives).map_err(close)?;
        let inv_r = 1.0 / nb.r;
        s.inv_r[b][lane] = inv_r;
        s.rhat[b][0][lane] = nb.d.x * inv_r;
        s.rhat[b][1][lane] = nb.d.y * inv_r;
        s.rhat[b][2][lane] = nb.d.z * inv_r;
    }
    for jj in 0..n_nb {
        let nb = s.neighbors[jj];
        let (b, lane) = (s.slot[jj] / LANES, s.slot[jj] % LANES);
        let values = &s.radial[b * stride..b * stride + width];
        rho_core += values[nradbase + n_rl][lane];
        let a1 = &mut s.a1[nb.mu * nradbase..(nb.mu + 1) * nradbase];
        for (a, g) in a1.iter_mut().zip(&values[..nradbase]) {
            *a += g[lane];
        }
        if zbl {
            let bond = model.bond(mu_i, nb.mu);
            let d = nb.r - (bond.rcut_in - bond.dcut_in);
            if d < d_min {
                d_min = d;
                nearest = Some((jj, bond.dcut_in));
            }
        }
    }
    let n_a = n_el * nradmax * nlm;
    for buf in [&mut s.a_re, &mut s.a_im] {
        buf.clear();
        buf.resize(n_a, [0.0; LANES]);
    }
    for (b, batch) in s.batches.iter().enumerate() {
        let [rx, ry, rz] = s.rhat[b];
        let h = &mut s.harmonics[b * 8 * nlm..(b + 1) * 8 * nlm];
        basis.harmonics.compute_lanes(&rx, &ry, &rz, &mut s.p, &mut s.dp, h);
        let (y_re, y_im) = (&h[Y_RE * nlm..][..nlm], &h[Y_IM * nlm..][..nlm]);
        let r_nl = &s.radial[b * stride + nradbase..][..n_rl];
        for n in 0..nradmax {
            let base = (batch.mu * nradmax + n) * nlm;
            let (a_re, a_im) = (&mut s.a_re[base..base + nlm], &mut s.a_im[base..base + nlm]);
            for l in 0..=lmax {
                let r = r_nl[n * (lmax + 1) + l];
                for k in lm(l, 0)..=lm(l, l) {
                    // Whole lanes read before any is written, so that the compiler needs no
                    // aliasing proof to use SIMD.
                    a_re[k] = mul_add(a_re[k], r, y_re[k]);
                    a_im[k] = mul_add(a_im[k], r, y_im[k]);
                }
            }
        }
    }
    // The leaves: the lanes added in order, and m < 0 from m > 0.
    s.values.resize(if plan.narrow.is_some() { NARROW } else { plan.n_values }.max(s.values.len()), [0.0; 2]);
    for (block, (a_re, a_im)) in
        s.values[..plan.n_leaves].chunks_mut(per_n).zip(s.a_re.chunks(nlm).zip(s.a_im.chunks(nlm)))
    {
        for l in 0..=lmax {
            let base = l * l + l;
            for m in 0..=l {
                let k = lm(l, m);
                let (re, im) = (sum_lanes(&a_re[k]), sum_lanes(&a_im[k]));
                block[base + m] = [re, im];
                if m > 0 {
                    let sign = parity(m);
                    block[base - m] = [re * sign, -im * sign];
                }
            }
        }
    }

    // Products and densities.
    s.rho.clear();
    s.rho.resize(ndensity, 0.0);
    for (t, &k) in plan.rank1.iter().enumerate() {
        let a = s.a1[k as usize];
        for p in 0..ndensity {
            s.rho[p] += plan.rank1_coefficients[t * ndensity + p] * a;
        }
    }
    match &plan.narrow {
        Some(ids) => forward(plan, ids, narrow(&mut s.values), &mut s.rho),
        None => forward(plan, &plan.wide, &mut s.values[..plan.n_values], &mut s.rho),
    }

    // Embedding and the inner switch.
    s.d_f.resize(ndensity, 0.0);
    let e_f = embed(embedding, &s.rho, &mut s.d_f);
    let (energy, d_e_d_rho_core, d_e_d_fcut, fcut) = if zbl {
        let (fcut, dfcut) = match nearest {
            Some((_, dcut_in)) => {
                let (f, df) = cutoff_poly(dcut_in - d_min, dcut_in, dcut_in);
                (f, -df)
            }
            None => (1.0, 0.0),
        };
        (e_f * fcut + rho_core * (1.0 - fcut), 1.0 - fcut, e_f * dfcut - rho_core * dfcut, fcut)
    } else {
        let (fcut, dfcut) = core_density_switch(rho_core, embedding.rho_core_cutoff, embedding.drho_core_cutoff);
        (e_f * fcut + rho_core, e_f * dfcut + 1.0, 0.0, fcut)
    };
    for df in &mut s.d_f {
        *df *= fcut;
    }
    let energy = energy + model.e0[mu_i];

    // The adjoint through the graph.
    s.adjoint.resize(s.values.len(), [0.0; 2]);
    s.adjoint[..plan.n_values].fill([0.0; 2]);
    match &plan.narrow {
        Some(ids) => backward(plan, ids, narrow(&mut s.values), narrow(&mut s.adjoint), &s.d_f),
        None => backward(plan, &plan.wide, &s.values[..plan.n_values], &mut s.adjoint[..plan.n_values], &s.d_f),
    }
    s.w1.clear();
    s.w1.resize(n_el * nradbase, 0.0);
    for (t, &k) in plan.rank1.iter().enumerate() {
        let mut theta = 0.0;
        for p in 0..ndensity {
            theta += s.d_f[p] * plan.rank1_coefficients[t * ndensity + p];
        }
        s.w1[k as usize] += theta;
    }
    s.folded_re.resize(n_el * nradmax * nlm, 0.0);
    s.folded_im.resize(n_el * nradmax * nlm, 0.0);
    for (b, block) in s.adjoint[..plan.n_leaves].chunks(per_n).enumerate() {
        let (fre, fim) = (&mut s.folded_re[b * nlm..(b + 1) * nlm], &mut s.folded_im[b * nlm..(b + 1) * nlm]);
        for l in 0..=lmax {
            let base = l * l + l;
            [fre[lm(l, 0)], fim[lm(l, 0)]] = block[base];
            for m in 1..=l {
                let sign = parity(m);
                let ([pr, pi], [qr, qi]) = (block[base + m], block[base - m]);
                fre[lm(l, m)] = pr + qr * sign;
                fim[lm(l, m)] = pi + -qi * sign;
            }
        }
    }

    // Forces. U and V of one lm are summed over n in registers and contracted at once.
    s.slot_forces.resize(n_batches * LANES, Vec3::zeros());
    for (b, batch) in s.batches.iter().enumerate() {
        let row = &s.radial[b * stride..(b + 1) * stride];
        let (values, derivatives) = row.split_at(width);
        let r_nl = &values[nradbase..nradbase + n_rl];
        let (dg, dr_nl) = (&derivatives[..nradbase], &derivatives[nradbase..nradbase + n_rl]);
        let dcr = derivatives[nradbase + n_rl];
        let h = &s.harmonics[b * 8 * nlm..(b + 1) * 8 * nlm];
        let block = |q: usize| &h[q * nlm..(q + 1) * nlm];
        let (y_re, y_im) = (block(Y_RE), block(Y_IM));
        let (dx_re, dx_im, dy_re, dy_im, dz_re, dz_im) =
            (block(DX_RE), block(DX_IM), block(DY_RE), block(DY_IM), block(DZ_RE), block(DZ_IM));
        let w_re = &s.folded_re[batch.mu * nradmax * nlm..(batch.mu + 1) * nradmax * nlm];
        let w_im = &s.folded_im[batch.mu * nradmax * nlm..(batch.mu + 1) * nradmax * nlm];
        let mut radial_part: Lanes = lanes(|i| d_e_d_rho_core * dcr[i]);
        let w1 = &s.w1[batch.mu * nradbase..(batch.mu + 1) * nradbase];
        for (&w, g) in w1.iter().zip(dg) {
            radial_part = lanes(|i| radial_part[i] + w * g[i]);
        }
        let mut tangent = [[0.0; LANES]; 3];
        for l in 0..=lmax {
            for k in lm(l, 0)..=lm(l, l) {
                let (mut u_re, mut u_im, mut v_re, mut v_im) = ([0.0; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
                for n in 0..nradmax {
                    let (r, dr) = (r_nl[n * (lmax + 1) + l], dr_nl[n * (lmax + 1) + l]);
                    let (wr, wi) = (w_re[n * nlm + k], w_im[n * nlm + k]);
                    u_re = lanes(|i| u_re[i] + wr * r[i]);
                    u_im = lanes(|i| u_im[i] + wi * r[i]);
                    v_re = lanes(|i| v_re[i] + wr * dr[i]);
                    v_im = lanes(|i| v_im[i] + wi * dr[i]);
                }
                let (yr, yi) = (y_re[k], y_im[k]);
                radial_part = lanes(|i| radial_part[i] + (v_re[i] * yr[i] - v_im[i] * yi[i]));
                for (t, (d_re, d_im)) in tangent.iter_mut().zip([(dx_re, dx_im), (dy_re, dy_im), (dz_re, dz_im)]) {
                    let (dr, di) = (d_re[k], d_im[k]);
                    *t = lanes(|i| t[i] + (u_re[i] * dr[i] - u_im[i] * di[i]));
                }
            }
        }
        let (rhat, inv_r) = (&s.rhat[b], &s.inv_r[b]);
        for lane in 0..batch.len {
            let mut radial_part = radial_part[lane];
            if nearest.is_some_and(|(k, _)| k == batch.members[lane]) {
                radial_part += d_e_d_fcut;
            }
            s.slot_forces[b * LANES + lane] = Vec3::new(
                radial_part * rhat[0][lane] + tangent[0][lane] * inv_r[lane],
                radial_part * rhat[1][lane] + tangent[1][lane] * inv_r[lane],
                radial_part * rhat[2][lane] + tangent[2][lane] * inv_r[lane],
            );
        }
    }
    let forces = s.neighbors.iter().zip(&s.slot).map(|(nb, &slot)| (nb.atom_idx, s.slot_forces[slot])).collect();
    Ok(AtomTerms { energy, forces })
}

/// The first `NARROW` entries of a buffer as an array, which 16-bit ids index without
/// bounds checks.
fn narrow(buffer: &mut [[f64; 2]]) -> &mut [[f64; 2]; NARROW] {
    (&mut buffer[..NARROW]).try_into().expect("buffer of NARROW values")
}

/// The products forwards (one complex multiplication per node), then the densities: each
/// term's real part, times its coefficients, added to ρ_p in term order.
#[inline(always)]
fn forward<I: Id, V: IndexMut<usize, Output = [f64; 2]> + ?Sized>(
    plan: &Plan,
    ids: &Ids<I>,
    values: &mut V,
    rho: &mut [f64],
) {
    for (k, &[a, b]) in ids.nodes.iter().enumerate() {
        let ([ar, ai], [br, bi]) = (values[a.index()], values[b.index()]);
        values[I::of(plan.n_leaves + k).index()] = [ar * br - ai * bi, ar * bi + ai * br];
    }
    // In term order, one chain of additions per density (ML-PACE's order): the terms are
    // up to ~10³ and cancel to a few eV, and the partial sums tried instead (blocked or
    // interleaved) moved energies past the tests' bounds. Each term's real part is formed
    // once and added to every density (the chains side by side, each in term order).
    let mut first = 0;
    while first < plan.ndensity {
        first += match plan.ndensity - first {
            1 => add_terms::<1, I, V>(plan, ids, values, first, rho),
            2 => add_terms::<2, I, V>(plan, ids, values, first, rho),
            3 => add_terms::<3, I, V>(plan, ids, values, first, rho),
            _ => add_terms::<4, I, V>(plan, ids, values, first, rho),
        };
    }
}

/// Adds the terms to the densities `first..first + ND`; returns `ND`.
#[inline(always)]
fn add_terms<const ND: usize, I: Id, V: Index<usize, Output = [f64; 2]> + ?Sized>(
    plan: &Plan,
    ids: &Ids<I>,
    values: &V,
    first: usize,
    rho: &mut [f64],
) -> usize {
    let nd = plan.ndensity;
    let (c_outputs, c_leaves) = plan.term_coefficients.split_at(ids.outputs.len() * nd);
    let mut sum: [f64; ND] = std::array::from_fn(|q| rho[first + q]);
    for (&id, c) in ids.outputs.iter().zip(c_outputs.chunks_exact(nd)) {
        let t = values[id.index()][0];
        for q in 0..ND {
            sum[q] += t * c[first + q];
        }
    }
    for (&[a, b], c) in ids.leaf_outputs.iter().zip(c_leaves.chunks_exact(nd)) {
        let ([ar, ai], [br, bi]) = (values[a.index()], values[b.index()]);
        let t = ar * br - ai * bi;
        for q in 0..ND {
            sum[q] += t * c[first + q];
        }
    }
    rho[first..first + ND].copy_from_slice(&sum);
    ND
}

/// The adjoint through the graph (`adjoint` zero on entry): each term's (real) adjoint
/// θ = Σ_p d_f[p] c_p (from 0, in p order) added to its value (outputs) or passed on to its
/// two factors (leaf outputs), then the nodes backwards.
#[inline(always)]
fn backward<I: Id, V: IndexMut<usize, Output = [f64; 2]> + ?Sized>(
    plan: &Plan,
    ids: &Ids<I>,
    values: &V,
    adjoint: &mut V,
    d_f: &[f64],
) {
    match plan.ndensity {
        1 => adjoint_terms::<1, I, V>(plan, ids, values, adjoint, d_f),
        2 => adjoint_terms::<2, I, V>(plan, ids, values, adjoint, d_f),
        3 => adjoint_terms::<3, I, V>(plan, ids, values, adjoint, d_f),
        4 => adjoint_terms::<4, I, V>(plan, ids, values, adjoint, d_f),
        _ => adjoint_terms::<0, I, V>(plan, ids, values, adjoint, d_f),
    }
    for (k, &[a, b]) in ids.nodes.iter().enumerate().rev() {
        let [w_re, w_im] = adjoint[I::of(plan.n_leaves + k).index()];
        let (a, b) = (a.index(), b.index());
        let ([ar, ai], [br, bi]) = (values[a], values[b]);
        let [wr, wi] = adjoint[a];
        adjoint[a] = [wr + (w_re * br - w_im * bi), wi + (w_re * bi + w_im * br)];
        let [wr, wi] = adjoint[b];
        adjoint[b] = [wr + (w_re * ar - w_im * ai), wi + (w_re * ai + w_im * ar)];
    }
}

/// The terms' part of [`backward`]. `ND` is the number of densities, or 0 for any number.
#[inline(always)]
fn adjoint_terms<const ND: usize, I: Id, V: IndexMut<usize, Output = [f64; 2]> + ?Sized>(
    plan: &Plan,
    ids: &Ids<I>,
    values: &V,
    adjoint: &mut V,
    d_f: &[f64],
) {
    let nd = if ND == 0 { plan.ndensity } else { ND };
    let d_f = &d_f[..nd];
    let theta = |c: &[f64]| {
        let mut theta = 0.0;
        for (&d, &c) in d_f.iter().zip(&c[..nd]) {
            theta += d * c;
        }
        theta
    };
    for (&id, c) in ids.outputs.iter().zip(plan.term_coefficients.chunks_exact(nd)) {
        adjoint[id.index()][0] += theta(c);
    }
    // The leaf outputs by groups that share a factor x: x's adjoint summed over its
    // group in registers, each partner's added to at once.
    let mut first = 0;
    for &(x, count) in &ids.groups {
        let (x, end) = (x.index(), first + count as usize);
        let [xr, xi] = values[x];
        let (mut sr, mut si) = (0.0, 0.0);
        let (partners, coefficients) = (&ids.partners[first..end], &plan.partner_coefficients[first * nd..end * nd]);
        first = end;
        for (&y, c) in partners.iter().zip(coefficients.chunks_exact(nd)) {
            let theta = theta(c);
            let y = y.index();
            let [yr, yi] = values[y];
            sr += yr * theta;
            si += yi * theta;
            let [wr, wi] = adjoint[y];
            adjoint[y] = [wr + xr * theta, wi + xi * theta];
        }
        let [wr, wi] = adjoint[x];
        adjoint[x] = [wr + sr, wi + si];
    }
}

/// acc + a·b in every lane.
#[inline(always)]
fn mul_add(acc: Lanes, a: Lanes, b: Lanes) -> Lanes {
    lanes(|i| acc[i] + a[i] * b[i])
}

/// The lanes of a per-lane sum added in lane order.
#[inline]
fn sum_lanes(x: &Lanes) -> f64 {
    let mut sum = x[0];
    for v in &x[1..] {
        sum += v;
    }
    sum
}
