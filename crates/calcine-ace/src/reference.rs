//! The plain evaluator: the equations of the atomic cluster expansion (Drautz, Phys. Rev.
//! B 99, 014104 (2019); Lysogorskiy et al., npj Comput. Mater. 7, 97 (2021)) in the C-tilde
//! form, written the way they read, with the product algorithm. The kernel is tested
//! against it.
//!
//! For atom i of element μ_i with neighbors j (element μ_j, r_ij = x_j − x_i, r < r_c):
//! - A1[μ][k] = Σ_{j∈μ} g_k(r_ij) and A[μ][n][l][m] = Σ_{j∈μ} R_nl(r_ij) Y_lm(r̂_ij), with
//!   A[μ][n][l][−m] = (−1)^m conj A[μ][n][l][m];
//! - ρ_p = Σ_{rank 1} c̃_p A1[μ][n−1] + Σ_{rank > 1} Σ_ms Re(c̃_{ms,p} Π_t A[μ_t][n_t−1][l_t][m_t]);
//! - ρ_core = Σ_j cr(r_ij); E_i = F(ρ)·f_cut + ρ_core + E0[μ_i], where f_cut switches by
//!   ρ_core (or, with ZBL, by the nearest neighbor's distance, and then the pair energy is
//!   weighted by 1 − f_cut);
//! - ∂E_i/∂x_j by the chain rule through A: with W[v] = ∂E_i/∂A_v (holomorphic, one per
//!   A-value v including the −m ones), ∂E_i/∂x_j = Σ_v Re(W[v]·∂A_v/∂x_j), where
//!   ∂A_lm/∂x_j = R'_nl Y_lm r̂ + R_nl ∇Y_lm and ∂A_{l,−m}/∂x_j = (−1)^m conj ∂A_lm/∂x_j.

use crate::basis::Basis;
use crate::complex::Complex;
use crate::embedding::{core_density_switch, embed};
use crate::harmonics::{lm, n_lm};
use crate::model::InnerCutoffKind;
use crate::radial::cutoff_poly;
use crate::site::Neighbor;
use calcine_core::Vec3;
use calcine_potential::AtomTerms;

/// A neighbor closer than the first node of the tables.
#[derive(Debug, Clone, Copy)]
pub struct Close {
    pub atom_idx: usize,
    pub r: f64,
    pub min_distance: f64,
}

/// What one neighbor contributes, kept for the force pass.
struct NeighborValues {
    dg: Vec<f64>,
    r_nl: Vec<f64>,
    dr_nl: Vec<f64>,
    dcr: f64,
    y: Vec<Complex>,
    dy: Vec<[Complex; 3]>,
}

/// The index of A[μ][n][l][m], m from −l to l.
fn a_index(basis: &Basis, mu: usize, n: usize, l: usize, m: i32) -> usize {
    let per_n = (basis.lmax + 1) * (basis.lmax + 1);
    ((mu * basis.nradmax + n) * per_n + l * l + l).wrapping_add_signed(m as isize)
}

fn parity(m: i32) -> f64 {
    if m % 2 == 0 {
        1.0
    } else {
        -1.0
    }
}

/// The energy of atom i (element `mu_i`) and ∂E_i/∂x_j for its neighbors, in their order.
pub fn atom_terms(basis: &Basis, mu_i: usize, neighbors: &[Neighbor]) -> Result<AtomTerms, Close> {
    let model = &basis.model;
    let n_el = model.n_elements();
    let (lmax, nradmax, nradbase) = (basis.lmax, basis.nradmax, basis.nradbase);
    let n_rl = nradmax * (lmax + 1);
    let embedding = &model.embeddings[mu_i];
    let ndensity = embedding.ndensity;
    let zbl = model.inner_cutoff == InnerCutoffKind::Zbl;

    // The atomic base.
    let mut a1 = vec![0.0; n_el * nradbase];
    let mut a = vec![Complex::ZERO; n_el * nradmax * (lmax + 1) * (lmax + 1)];
    let mut rho_core = 0.0;
    let mut values = Vec::with_capacity(neighbors.len());
    let mut p = vec![0.0; n_lm(lmax)];
    let mut dp = vec![0.0; n_lm(lmax)];
    let mut g = vec![0.0; nradbase];
    // With ZBL: the neighbor nearest the inner cutoff, r − (r_in − δ_in).
    let mut nearest: Option<(usize, f64)> = None;
    let mut d_min = model.max_cutoff();
    for (jj, nb) in neighbors.iter().enumerate() {
        let tables = basis.tables(mu_i, nb.mu);
        let close = |_| Close { atom_idx: nb.atom_idx, r: nb.r, min_distance: tables.min_distance() };
        let mut v = NeighborValues {
            dg: vec![0.0; nradbase],
            r_nl: vec![0.0; n_rl],
            dr_nl: vec![0.0; n_rl],
            dcr: 0.0,
            y: vec![Complex::ZERO; n_lm(lmax)],
            dy: vec![[Complex::ZERO; 3]; n_lm(lmax)],
        };
        let (mut table_values, mut table_derivatives) = (vec![0.0; tables.width()], vec![0.0; tables.width()]);
        tables.table.eval(nb.r, &mut table_values, &mut table_derivatives).map_err(close)?;
        let (val, der) = (tables.split(&table_values), tables.split(&table_derivatives));
        g.copy_from_slice(val.g);
        v.dg.copy_from_slice(der.g);
        v.r_nl.copy_from_slice(val.r_nl);
        v.dr_nl.copy_from_slice(der.r_nl);
        v.dcr = der.core;
        rho_core += val.core;
        let inv_r = 1.0 / nb.r;
        let rhat = [nb.d.x * inv_r, nb.d.y * inv_r, nb.d.z * inv_r];
        basis.harmonics.compute(rhat[0], rhat[1], rhat[2], &mut p, &mut dp, &mut v.y, &mut v.dy);
        for k in 0..nradbase {
            a1[nb.mu * nradbase + k] += g[k];
        }
        for n in 0..nradmax {
            for l in 0..=lmax {
                let r_nl = v.r_nl[n * (lmax + 1) + l];
                for m in 0..=l {
                    a[a_index(basis, nb.mu, n, l, m as i32)] += v.y[lm(l, m)].scale(r_nl);
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
        values.push(v);
    }
    for mu in 0..n_el {
        for n in 0..nradmax {
            for l in 0..=lmax {
                for m in 1..=l as i32 {
                    let v = a[a_index(basis, mu, n, l, m)];
                    a[a_index(basis, mu, n, l, -m)] = v.conj().scale(parity(m));
                }
            }
        }
    }
    let a_of = |mu: usize, n: usize, l: usize, m: i32| a[a_index(basis, mu, n - 1, l, m)];

    // Densities.
    let mut rho = vec![0.0; ndensity];
    for f in &model.functions[mu_i] {
        for (ms, c) in f.ms_combs.chunks(f.rank).zip(f.ctildes.chunks(ndensity)) {
            if f.rank == 1 {
                let a_cur = a1[f.mus[0] * nradbase + f.ns[0] - 1];
                for q in 0..ndensity {
                    rho[q] += c[q] * a_cur;
                }
            } else {
                let mut b = Complex::ONE;
                for t in 0..f.rank {
                    b = b * a_of(f.mus[t], f.ns[t], f.ls[t], ms[t]);
                }
                for q in 0..ndensity {
                    rho[q] += b.re * c[q];
                }
            }
        }
    }

    // Embedding and the inner switch.
    let mut d_f = vec![0.0; ndensity];
    let e_f = embed(embedding, &rho, &mut d_f);
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
    for df in &mut d_f {
        *df *= fcut;
    }
    let energy = energy + model.e0[mu_i];

    // The adjoint: W1 = ∂E/∂A1 and W = ∂E/∂A.
    let mut w1 = vec![0.0; n_el * nradbase];
    let mut w = vec![Complex::ZERO; a.len()];
    for f in &model.functions[mu_i] {
        for (ms, c) in f.ms_combs.chunks(f.rank).zip(f.ctildes.chunks(ndensity)) {
            let theta: f64 = (0..ndensity).map(|q| d_f[q] * c[q]).sum();
            if f.rank == 1 {
                w1[f.mus[0] * nradbase + f.ns[0] - 1] += theta;
                continue;
            }
            for t in 0..f.rank {
                let mut db = Complex::ONE;
                for s in (0..f.rank).filter(|&s| s != t) {
                    db = db * a_of(f.mus[s], f.ns[s], f.ls[s], ms[s]);
                }
                w[a_index(basis, f.mus[t], f.ns[t] - 1, f.ls[t], ms[t])] += db.scale(theta);
            }
        }
    }

    // Forces.
    let mut forces = Vec::with_capacity(neighbors.len());
    for (jj, (nb, v)) in neighbors.iter().zip(&values).enumerate() {
        let inv_r = 1.0 / nb.r;
        let rhat = Vec3::new(nb.d.x * inv_r, nb.d.y * inv_r, nb.d.z * inv_r);
        let mut f = Vec3::zeros();
        for k in 0..nradbase {
            f += rhat * (w1[nb.mu * nradbase + k] * v.dg[k]);
        }
        for n in 0..nradmax {
            for l in 0..=lmax {
                let (r_nl, dr_nl) = (v.r_nl[n * (lmax + 1) + l], v.dr_nl[n * (lmax + 1) + l]);
                for m in 0..=l {
                    let y = v.y[lm(l, m)];
                    let dy = v.dy[lm(l, m)];
                    // ∂A_lm/∂x_j, component by component.
                    let grad: [Complex; 3] =
                        std::array::from_fn(|c| y.scale(dr_nl * rhat[c]) + dy[c].scale(r_nl * inv_r));
                    let wp = w[a_index(basis, nb.mu, n, l, m as i32)];
                    for c in 0..3 {
                        f[c] += wp.re_mul(grad[c]);
                    }
                    if m > 0 {
                        let wm = w[a_index(basis, nb.mu, n, l, -(m as i32))];
                        for c in 0..3 {
                            f[c] += wm.re_mul(grad[c].conj().scale(parity(m as i32)));
                        }
                    }
                }
            }
        }
        f += rhat * (d_e_d_rho_core * v.dcr);
        if nearest.is_some_and(|(k, _)| k == jj) {
            f += rhat * d_e_d_fcut;
        }
        forces.push((nb.atom_idx, f));
    }
    Ok(AtomTerms { energy, forces })
}
