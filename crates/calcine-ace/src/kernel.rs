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
    /// Per neighbor: g'_k (nradbase), then R_nl and R'_nl (nradmax·(lmax+1) each).
    radial: Vec<f64>,
    dcr: Vec<f64>,
    g: Vec<f64>,
    a1: Vec<f64>,
    /// Values of the graph: the A-leaves, then the nodes.
    values: Vec<Complex>,
    adjoint: Vec<Complex>,
    /// The folded adjoint on m ≥ 0, [μ][n][lm].
    folded: Vec<Complex>,
    w1: Vec<f64>,
    p: Vec<f64>,
    dp: Vec<f64>,
    y: Vec<Complex>,
    dy: Vec<[Complex; 3]>,
    u: Vec<Complex>,
    v: Vec<Complex>,
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
    let stride = nradbase + 2 * n_rl;
    let embedding = &model.embeddings[mu_i];
    let ndensity = embedding.ndensity;
    let zbl = model.inner_cutoff == InnerCutoffKind::Zbl;
    let n_nb = s.neighbors.len();

    s.radial.resize(n_nb * stride, 0.0);
    s.dcr.resize(n_nb, 0.0);
    s.g.resize(nradbase, 0.0);
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
    for jj in 0..n_nb {
        let nb = s.neighbors[jj];
        let tables = basis.tables(mu_i, nb.mu);
        let close = |_| Close { atom_idx: nb.atom_idx, r: nb.r, min_distance: tables.g.min_distance() };
        let row = &mut s.radial[jj * stride..(jj + 1) * stride];
        let (dg, rest) = row.split_at_mut(nradbase);
        let (r_nl, dr_nl) = rest.split_at_mut(n_rl);
        tables.g.eval(nb.r, &mut s.g, dg).map_err(close)?;
        tables.rnl.eval(nb.r, r_nl, dr_nl).map_err(close)?;
        let (mut cr, mut dcr) = ([0.0], [0.0]);
        tables.core.eval(nb.r, &mut cr, &mut dcr).map_err(close)?;
        s.dcr[jj] = dcr[0];
        rho_core += cr[0];
        let inv_r = 1.0 / nb.r;
        basis.harmonics.compute(
            nb.d.x * inv_r,
            nb.d.y * inv_r,
            nb.d.z * inv_r,
            &mut s.p,
            &mut s.dp,
            &mut s.y,
            &mut s.dy,
        );
        let a1 = &mut s.a1[nb.mu * nradbase..(nb.mu + 1) * nradbase];
        for k in 0..nradbase {
            a1[k] += s.g[k];
        }
        for n in 0..nradmax {
            let a = &mut s.values[(nb.mu * nradmax + n) * per_n..][..per_n];
            for l in 0..=lmax {
                let r = r_nl[n * (lmax + 1) + l];
                let base = l * l + l;
                for m in 0..=l {
                    let y = s.y[lm(l, m)];
                    let slot = &mut a[base + m];
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
    let (leaves, nodes) = s.values.split_at_mut(plan.n_leaves);
    for (k, &[a, b]) in plan.nodes.iter().enumerate() {
        let value = |id: u32, nodes: &[Complex]| {
            let id = id as usize;
            if id < plan.n_leaves {
                leaves[id]
            } else {
                nodes[id - plan.n_leaves]
            }
        };
        let product = value(a, nodes) * value(b, nodes);
        nodes[k] = product;
    }
    s.rho.clear();
    s.rho.resize(ndensity, 0.0);
    for (t, &k) in plan.rank1.iter().enumerate() {
        let a = s.a1[k as usize];
        for p in 0..ndensity {
            s.rho[p] += plan.rank1_coefficients[t * ndensity + p] * a;
        }
    }
    for (t, &id) in plan.outputs.iter().enumerate() {
        let b = s.values[id as usize].re;
        let c = &plan.coefficients[t * ndensity..(t + 1) * ndensity];
        for p in 0..ndensity {
            s.rho[p] += b * c[p];
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
    for (t, &id) in plan.outputs.iter().enumerate() {
        let c = &plan.coefficients[t * ndensity..(t + 1) * ndensity];
        let mut theta = 0.0;
        for p in 0..ndensity {
            theta += s.d_f[p] * c[p];
        }
        s.adjoint[id as usize].re += theta;
    }
    for (k, &[a, b]) in plan.nodes.iter().enumerate().rev() {
        let w = s.adjoint[plan.n_leaves + k];
        let (va, vb) = (s.values[a as usize], s.values[b as usize]);
        s.adjoint[a as usize] += w * vb;
        s.adjoint[b as usize] += w * va;
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
    s.folded.resize(n_el * nradmax * nlm, Complex::ZERO);
    for (block, folded) in s.adjoint[..plan.n_leaves].chunks(per_n).zip(s.folded.chunks_mut(nlm)) {
        for l in 0..=lmax {
            let base = l * l + l;
            folded[lm(l, 0)] = block[base];
            for m in 1..=l {
                folded[lm(l, m)] = block[base + m] + block[base - m].conj().scale(parity(m));
            }
        }
    }

    // Forces.
    s.u.resize(nlm, Complex::ZERO);
    s.v.resize(nlm, Complex::ZERO);
    let mut forces = Vec::with_capacity(n_nb);
    for jj in 0..n_nb {
        let nb = s.neighbors[jj];
        let row = &s.radial[jj * stride..(jj + 1) * stride];
        let (dg, rest) = row.split_at(nradbase);
        let (r_nl, dr_nl) = rest.split_at(n_rl);
        let inv_r = 1.0 / nb.r;
        let rhat = [nb.d.x * inv_r, nb.d.y * inv_r, nb.d.z * inv_r];
        basis.harmonics.compute(rhat[0], rhat[1], rhat[2], &mut s.p, &mut s.dp, &mut s.y, &mut s.dy);
        s.u.fill(Complex::ZERO);
        s.v.fill(Complex::ZERO);
        for n in 0..nradmax {
            let w = &s.folded[(nb.mu * nradmax + n) * nlm..][..nlm];
            for l in 0..=lmax {
                let (r, dr) = (r_nl[n * (lmax + 1) + l], dr_nl[n * (lmax + 1) + l]);
                for k in lm(l, 0)..=lm(l, l) {
                    let wk = w[k];
                    s.u[k].re += wk.re * r;
                    s.u[k].im += wk.im * r;
                    s.v[k].re += wk.re * dr;
                    s.v[k].im += wk.im * dr;
                }
            }
        }
        let mut radial_part = d_e_d_rho_core * s.dcr[jj];
        let w1 = &s.w1[nb.mu * nradbase..(nb.mu + 1) * nradbase];
        for k in 0..nradbase {
            radial_part += w1[k] * dg[k];
        }
        let mut tangent = [0.0; 3];
        for k in 0..nlm {
            radial_part += s.v[k].re_mul(s.y[k]);
            let u = s.u[k];
            for c in 0..3 {
                tangent[c] += u.re_mul(s.dy[k][c]);
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
