//! The fast evaluator: the reference's equations (see `reference.rs`) restructured for
//! speed and held to the reference by tests.
//!
//! - The products of the atomic base and their adjoint run over a precomputed graph of
//!   two-factor products (`plan.rs`): one complex multiplication per node forwards and two
//!   backwards, with partial products shared between functions (`Recursive`) or not
//!   (`Product`).
//! - The adjoint W = ∂E/∂A is folded onto m ≥ 0 once per atom (W_lm + (−1)^m conj W_{l,−m}),
//!   so the force on a neighbor needs no −m terms.
//! - The force on a neighbor is contracted over n first: U_lm = Σ_n W_nlm R_nl and
//!   V_lm = Σ_n W_nlm R'_nl, then ∂E/∂x_j = r̂ (Σ_lm Re(V_lm Y_lm) + Σ_k W1_k g'_k + ∂E/∂ρ_core
//!   cr') + Σ_lm Re(U_lm ∇Y_lm): the n·l·m gradient terms of the direct sum become l·m.
//! - Per-neighbor radial values are kept from the density pass; the harmonics are
//!   recomputed in the force pass, which is cheaper than keeping their gradients.

use crate::basis::Basis;
use crate::complex::Complex;
use crate::embedding::{core_density_switch, embed};
use crate::harmonics::{lm, n_lm};
use crate::model::InnerCutoffKind;
use crate::plan::Plan;
use crate::radial::cutoff_poly;
use crate::reference::Close;
use crate::site::Neighbor;
use calcine_core::Vec3;
use calcine_potential::AtomTerms;

/// Reusable buffers of one thread.
#[derive(Debug, Default)]
pub struct Scratch {
    pub neighbors: Vec<Neighbor>,
    /// Per neighbor: the table's values (g_k, R_nl, core) and derivatives, side by side.
    radial: Vec<f64>,
    a1: Vec<f64>,
    /// Values of the graph: the A-leaves, then the nodes.
    values: Vec<Complex>,
    adjoint: Vec<Complex>,
    /// The folded adjoint on m ≥ 0, [μ][n][lm], real and imaginary parts apart.
    folded_re: Vec<f64>,
    folded_im: Vec<f64>,
    w1: Vec<f64>,
    p: Vec<f64>,
    dp: Vec<f64>,
    y: Vec<Complex>,
    dy: Vec<[Complex; 3]>,
    u_re: Vec<f64>,
    u_im: Vec<f64>,
    v_re: Vec<f64>,
    v_im: Vec<f64>,
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

/// The energy of atom i (element `mu_i`) and ∂E_i/∂x_j for the neighbors in
/// `scratch.neighbors`, in their order.
pub fn atom_terms(basis: &Basis, plan: &Plan, mu_i: usize, s: &mut Scratch) -> Result<AtomTerms, Close> {
    let model = &basis.model;
    let n_el = model.n_elements();
    let (lmax, nradmax, nradbase) = (basis.lmax, basis.nradmax, basis.nradbase);
    let n_rl = nradmax * (lmax + 1);
    let nlm = n_lm(lmax);
    let per_n = (lmax + 1) * (lmax + 1);
    // Per neighbor: the table's values, then its derivatives.
    let width = nradbase + n_rl + 1;
    let stride = 2 * width;
    let embedding = &model.embeddings[mu_i];
    let ndensity = embedding.ndensity;
    let zbl = model.inner_cutoff == InnerCutoffKind::Zbl;
    let n_nb = s.neighbors.len();

    s.radial.resize(n_nb * stride, 0.0);
    s.a1.clear();
    s.a1.resize(n_el * nradbase, 0.0);
    s.values.resize(plan.n_leaves + plan.nodes.len(), Complex::ZERO);
    s.values[..plan.n_leaves].fill(Complex::ZERO);
    s.p.resize(nlm, 0.0);
    s.dp.resize(nlm, 0.0);
    s.y.resize(nlm, Complex::ZERO);
    s.dy.resize(nlm, [Complex::ZERO; 3]);

    // The atomic base.
    let mut rho_core = 0.0;
    let mut nearest: Option<(usize, f64)> = None;
    let mut d_min = model.max_cutoff();
    // All table lookups first, back to back, so that the processor has several neighbors'
    // segments in flight at once: lookups wait on memory, the tables being megabytes.
    for jj in 0..n_nb {
        let nb = s.neighbors[jj];
        let tables = basis.tables(mu_i, nb.mu);
        let close = |_| Close { atom_idx: nb.atom_idx, r: nb.r, min_distance: tables.min_distance() };
        let row = &mut s.radial[jj * stride..(jj + 1) * stride];
        let (values, derivatives) = row.split_at_mut(width);
        tables.table.eval(nb.r, values, derivatives).map_err(close)?;
    }
    for jj in 0..n_nb {
        let nb = s.neighbors[jj];
        let values = &s.radial[jj * stride..jj * stride + width];
        let (g, r_nl) = (&values[..nradbase], &values[nradbase..nradbase + n_rl]);
        rho_core += values[nradbase + n_rl];
        let inv_r = 1.0 / nb.r;
        basis.harmonics.compute_values(nb.d.x * inv_r, nb.d.y * inv_r, nb.d.z * inv_r, &mut s.p, &mut s.y);
        let a1 = &mut s.a1[nb.mu * nradbase..(nb.mu + 1) * nradbase];
        for k in 0..nradbase {
            a1[k] += g[k];
        }
        for n in 0..nradmax {
            let a = &mut s.values[(nb.mu * nradmax + n) * per_n..][..per_n];
            for l in 0..=lmax {
                let r = r_nl[n * (lmax + 1) + l];
                let slots = &mut a[l * l + l..=l * l + 2 * l];
                for (slot, y) in slots.iter_mut().zip(&s.y[lm(l, 0)..=lm(l, l)]) {
                    slot.re += r * y.re;
                    slot.im += r * y.im;
                }
            }
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
    for block in s.values[..plan.n_leaves].chunks_mut(per_n) {
        for l in 1..=lmax {
            let base = l * l + l;
            for m in 1..=l {
                let v = block[base + m];
                block[base - m] = v.conj().scale(parity(m));
            }
        }
    }

    // Products and densities.
    let values = &mut s.values;
    for (k, &[a, b]) in plan.nodes.iter().enumerate() {
        let product = values[a as usize] * values[b as usize];
        values[plan.n_leaves + k] = product;
    }
    s.rho.clear();
    s.rho.resize(ndensity, 0.0);
    for (t, &k) in plan.rank1.iter().enumerate() {
        let a = s.a1[k as usize];
        for p in 0..ndensity {
            s.rho[p] += plan.rank1_coefficients[t * ndensity + p] * a;
        }
    }
    let rho = &mut s.rho[..ndensity];
    for (&id, c) in plan.outputs.iter().zip(plan.coefficients.chunks_exact(ndensity)) {
        let b = s.values[id as usize].re;
        for (r, &c) in rho.iter_mut().zip(c) {
            *r += b * c;
        }
    }
    for (&[a, b], c) in plan.leaf_outputs.iter().zip(plan.leaf_coefficients.chunks_exact(ndensity)) {
        let b = s.values[a as usize].re_mul(s.values[b as usize]);
        for (r, &c) in rho.iter_mut().zip(c) {
            *r += b * c;
        }
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
    s.adjoint.clear();
    s.adjoint.resize(plan.n_leaves + plan.nodes.len(), Complex::ZERO);
    let d_f = &s.d_f[..ndensity];
    for (&id, c) in plan.outputs.iter().zip(plan.coefficients.chunks_exact(ndensity)) {
        let mut theta = 0.0;
        for (&d, &c) in d_f.iter().zip(c) {
            theta += d * c;
        }
        s.adjoint[id as usize].re += theta;
    }
    let (adjoint, values) = (&mut s.adjoint, &s.values);
    for (&[a, b], c) in plan.leaf_outputs.iter().zip(plan.leaf_coefficients.chunks_exact(ndensity)) {
        let mut theta = 0.0;
        for (&d, &c) in d_f.iter().zip(c) {
            theta += d * c;
        }
        let (a, b) = (a as usize, b as usize);
        let (va, vb) = (values[a], values[b]);
        adjoint[a] += vb.scale(theta);
        adjoint[b] += va.scale(theta);
    }
    for (k, &[a, b]) in plan.nodes.iter().enumerate().rev() {
        let w = adjoint[plan.n_leaves + k];
        let (a, b) = (a as usize, b as usize);
        let (va, vb) = (values[a], values[b]);
        adjoint[a] += w * vb;
        adjoint[b] += w * va;
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
            fre[lm(l, 0)] = block[base].re;
            fim[lm(l, 0)] = block[base].im;
            for m in 1..=l {
                let w = block[base + m] + block[base - m].conj().scale(parity(m));
                fre[lm(l, m)] = w.re;
                fim[lm(l, m)] = w.im;
            }
        }
    }

    // Forces.
    for buf in [&mut s.u_re, &mut s.u_im, &mut s.v_re, &mut s.v_im] {
        buf.resize(nlm, 0.0);
    }
    let mut forces = Vec::with_capacity(n_nb);
    for jj in 0..n_nb {
        let nb = s.neighbors[jj];
        let row = &s.radial[jj * stride..(jj + 1) * stride];
        let (values, derivatives) = row.split_at(width);
        let (r_nl, dg, dr_nl) =
            (&values[nradbase..nradbase + n_rl], &derivatives[..nradbase], &derivatives[nradbase..nradbase + n_rl]);
        let dcr = derivatives[nradbase + n_rl];
        let inv_r = 1.0 / nb.r;
        let rhat = [nb.d.x * inv_r, nb.d.y * inv_r, nb.d.z * inv_r];
        basis.harmonics.compute(rhat[0], rhat[1], rhat[2], &mut s.p, &mut s.dp, &mut s.y, &mut s.dy);
        for buf in [&mut s.u_re, &mut s.u_im, &mut s.v_re, &mut s.v_im] {
            buf.fill(0.0);
        }
        for n in 0..nradmax {
            let wre = &s.folded_re[(nb.mu * nradmax + n) * nlm..][..nlm];
            let wim = &s.folded_im[(nb.mu * nradmax + n) * nlm..][..nlm];
            for l in 0..=lmax {
                let (r, dr) = (r_nl[n * (lmax + 1) + l], dr_nl[n * (lmax + 1) + l]);
                let ks = lm(l, 0)..lm(l, l) + 1;
                let (wre, wim) = (&wre[ks.clone()], &wim[ks.clone()]);
                let (ure, uim) = (&mut s.u_re[ks.clone()], &mut s.u_im[ks.clone()]);
                let (vre, vim) = (&mut s.v_re[ks.clone()], &mut s.v_im[ks]);
                for k in 0..wre.len() {
                    ure[k] += wre[k] * r;
                    uim[k] += wim[k] * r;
                    vre[k] += wre[k] * dr;
                    vim[k] += wim[k] * dr;
                }
            }
        }
        let mut radial_part = d_e_d_rho_core * dcr;
        let w1 = &s.w1[nb.mu * nradbase..(nb.mu + 1) * nradbase];
        for k in 0..nradbase {
            radial_part += w1[k] * dg[k];
        }
        let mut tangent = [0.0; 3];
        for k in 0..nlm {
            let (y, dy) = (s.y[k], &s.dy[k]);
            radial_part += s.v_re[k] * y.re - s.v_im[k] * y.im;
            for c in 0..3 {
                tangent[c] += s.u_re[k] * dy[c].re - s.u_im[k] * dy[c].im;
            }
        }
        if nearest.is_some_and(|(k, _)| k == jj) {
            radial_part += d_e_d_fcut;
        }
        let f = Vec3::new(
            radial_part * rhat[0] + tangent[0] * inv_r,
            radial_part * rhat[1] + tangent[1] * inv_r,
            radial_part * rhat[2] + tangent[2] * inv_r,
        );
        forces.push((nb.atom_idx, f));
    }
    Ok(AtomTerms { energy, forces })
}
