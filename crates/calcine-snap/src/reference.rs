//! The reference evaluator: SNAP written the way the equations read, with whole complex
//! matrices and no storage tricks. It is the oracle the kernel is tested against.
//!
//! For atom i with neighbors j inside their cutoffs (Thompson et al., J. Comput. Phys.
//! 285, 316 (2015); doubled labels as in [`crate::basis`]):
//!
//! 1. Each neighbor is a point on the 3-sphere: θ0 = rfac0·π·(r − rmin0)/(r_c − rmin0),
//!    z0 = r·cot θ0, r0 = √(r² + z0²), with Cayley–Klein parameters a = (z0 − i z)/r0 and
//!    b = (y − i x)/r0 for x_j − x_i = (x, y, z).
//! 2. The Wigner matrices U^j(a, b) follow layer by layer from U^0 = 1 (Varshalovich et al.
//!    eq. 4.8.2; LAMMPS `compute_uarray`):
//!    u^j(ma, mb) = √((j−ma)/(j−mb))·a*·u^{j−1}(ma, mb) − √(ma/(j−mb))·b*·u^{j−1}(ma−1, mb)
//!    for rows mb ≤ j/2, and the other rows from the symmetry
//!    u^j(j−ma, j−mb) = (−1)^{ma−mb}·u^j(ma, mb)*.
//! 3. The density of each element channel μ is U^j_μ = w_self·δ_{ma,mb}·[μ is the atom's
//!    channel or wselfallflag] + Σ_{j∈μ} w_j·f_c(r_ij)·U^j(a_ij, b_ij).
//! 4. Couplings Z^j_{κλ}(j1, j2)(ma, mb) = Σ_{mb1} C^{j mb}_{j1 mb1, j2 mb2}
//!    Σ_{ma1} C^{j ma}_{j1 ma1, j2 ma2} U^{j1}_κ(ma1, mb1)·U^{j2}_λ(ma2, mb2), with
//!    ma2, mb2 fixed by m = m1 + m2, divided by j + 1 with bnormflag.
//! 5. Components B^{κλμ}(j1, j2, j) = Σ_{ma,mb} Re[U^j_μ(ma, mb)*·Z^j_{κλ}(j1, j2)(ma, mb)],
//!    less B_0 = w_self³·(j+1) (w_self³ with bnormflag) with bzeroflag on the atom's own
//!    channel triple (on every triple with wselfallflag).
//! 6. E_i = β₀ + β·B (+ ½ BᵀαB); β̃ = dE_i/dB = β (+ αB).
//! 7. The adjoint (Wood & Thompson, J. Chem. Phys. 148, 241721 (2018)): dB/dx_j is a sum
//!    of three terms, one per factor U of the triple product, and each can be written as
//!    Re[dU^{j'}*·Z^{j'}] with Z^{j'} the coupling of the other two. So
//!    dE_i/dx_j = Σ_{j'} Σ_{ma,mb} Re[(∂(w_j f_c U^{j'}(a_ij, b_ij))/∂x_j)*·Y^{j'}_μ(ma, mb)],
//!    μ the channel of j, where Y^j_μ gathers every Z^j_{κλ}(j1, j2) (j1 ≥ j2) with the
//!    coefficient of the component it came from (see `basis::AdjointRule`).
//!
//! Sums are over whole matrices, in plain loops. What the reference shares with the kernel
//! is the bookkeeping of [`crate::basis`] (components, Clebsch–Gordan coefficients, the
//! adjoint rules), the radial functions of [`crate::site`] and the energy of
//! [`SnapModel::energy_and_gradient`].

use crate::basis::{parity_sign, Basis};
use crate::model::SnapModel;
use crate::site::{self, Neighbor};
use calcine_core::Vec3;
use calcine_potential::AtomTerms;
use nalgebra::Complex;

type C = Complex<f64>;

/// U^j for one j: a (j+1)×(j+1) complex matrix, entry (ma, mb) at mb·(j+1) + ma.
#[derive(Debug, Clone)]
struct Layer {
    j: usize,
    v: Vec<C>,
}

/// U^0 … U^{2J_max}.
type Layers = Vec<Layer>;

impl Layer {
    fn zeros(j: usize) -> Self {
        Self { j, v: vec![C::new(0.0, 0.0); (j + 1) * (j + 1)] }
    }

    #[inline]
    fn at(&self, ma: usize, mb: usize) -> C {
        self.v[mb * (self.j + 1) + ma]
    }

    #[inline]
    fn at_mut(&mut self, ma: usize, mb: usize) -> &mut C {
        &mut self.v[mb * (self.j + 1) + ma]
    }

    /// Rows mb > j/2 from u(j−ma, j−mb) = (−1)^{ma−mb}·u(ma, mb)*.
    fn fill_by_symmetry(&mut self) {
        let j = self.j;
        for mb in j / 2 + 1..=j {
            for ma in 0..=j {
                *self.at_mut(ma, mb) = self.at(j - ma, j - mb).conj() * parity_sign(ma + mb);
            }
        }
    }

    /// Σ_{ma,mb} Re[self(ma, mb)*·other(ma, mb)].
    fn dot(&self, other: &Layer) -> f64 {
        self.v.iter().zip(&other.v).map(|(u, z)| u.re * z.re + u.im * z.im).sum()
    }
}

/// The descriptors B of one atom of element `element` with neighbors `neighbors`.
pub(crate) fn descriptors(model: &SnapModel, basis: &Basis, element: usize, neighbors: &[Neighbor]) -> Vec<f64> {
    let density = density(model, basis, element, neighbors);
    let z = couplings(model, basis, &density);
    bispectrum(model, basis, element, &density, &z)
}

/// Energy of one atom and dE_i/dx_j for each of its neighbors.
pub(crate) fn atom_terms(model: &SnapModel, basis: &Basis, element: usize, neighbors: &[Neighbor]) -> AtomTerms {
    let density = density(model, basis, element, neighbors);
    let z = couplings(model, basis, &density);
    let b = bispectrum(model, basis, element, &density, &z);
    let (energy, beta) = model.energy_and_gradient(element, &b);
    let y = adjoint(model, basis, &z, &beta);
    let forces = neighbors.iter().map(|n| (n.atom_idx, pair_gradient(model, basis, n, &y[n.channel]))).collect();
    AtomTerms { energy, forces }
}

/// The Cayley–Klein parameters (a, b) of a neighbor at d = x_j − x_i.
fn cayley_klein(d: &Vec3, r: f64, z0: f64) -> (C, C) {
    let r0inv = 1.0 / (r * r + z0 * z0).sqrt();
    (C::new(r0inv * z0, -r0inv * d.z), C::new(r0inv * d.y, -r0inv * d.x))
}

/// U^0 … U^{2J_max} at (a, b) by the recursion of step 2.
fn wigner(basis: &Basis, a: C, b: C) -> Layers {
    let mut layers = vec![Layer { j: 0, v: vec![C::new(1.0, 0.0)] }];
    for j in 1..=basis.two_j_max {
        let prev = &layers[j - 1];
        let mut cur = Layer::zeros(j);
        for mb in 0..=j / 2 {
            for ma in 0..=j {
                let mut u = C::new(0.0, 0.0);
                if ma < j {
                    u += (a.conj() * prev.at(ma, mb)) * basis.root_pq(j - ma, j - mb);
                }
                if ma > 0 {
                    u -= (b.conj() * prev.at(ma - 1, mb)) * basis.root_pq(ma, j - mb);
                }
                *cur.at_mut(ma, mb) = u;
            }
        }
        cur.fill_by_symmetry();
        layers.push(cur);
    }
    layers
}

/// U^j and ∂U^j/∂d_k (k = x, y, z) from (a, b) and their derivatives: the recursion of
/// step 2 differentiated term by term.
fn wigner_with_derivative(basis: &Basis, a: C, b: C, da: &[C; 3], db: &[C; 3]) -> (Layers, [Layers; 3]) {
    let mut u = vec![Layer { j: 0, v: vec![C::new(1.0, 0.0)] }];
    let mut du: [Layers; 3] = std::array::from_fn(|_| vec![Layer::zeros(0)]);
    for j in 1..=basis.two_j_max {
        let mut cur = Layer::zeros(j);
        let mut dcur = [Layer::zeros(j), Layer::zeros(j), Layer::zeros(j)];
        for mb in 0..=j / 2 {
            for ma in 0..=j {
                let mut v = C::new(0.0, 0.0);
                let mut dv = [C::new(0.0, 0.0); 3];
                if ma < j {
                    let (p, q) = (u[j - 1].at(ma, mb), basis.root_pq(j - ma, j - mb));
                    v += (a.conj() * p) * q;
                    for k in 0..3 {
                        dv[k] += (da[k].conj() * p + a.conj() * du[k][j - 1].at(ma, mb)) * q;
                    }
                }
                if ma > 0 {
                    let (p, q) = (u[j - 1].at(ma - 1, mb), basis.root_pq(ma, j - mb));
                    v -= (b.conj() * p) * q;
                    for k in 0..3 {
                        dv[k] -= (db[k].conj() * p + b.conj() * du[k][j - 1].at(ma - 1, mb)) * q;
                    }
                }
                *cur.at_mut(ma, mb) = v;
                for k in 0..3 {
                    *dcur[k].at_mut(ma, mb) = dv[k];
                }
            }
        }
        cur.fill_by_symmetry();
        u.push(cur);
        for (k, mut d) in dcur.into_iter().enumerate() {
            d.fill_by_symmetry();
            du[k].push(d);
        }
    }
    (u, du)
}

/// Step 3: the density U^j_μ of every channel μ.
fn density(model: &SnapModel, basis: &Basis, element: usize, neighbors: &[Neighbor]) -> Vec<Layers> {
    let own = model.channel(element);
    let mut density: Vec<Layers> = (0..model.n_channels())
        .map(|mu| {
            (0..=basis.two_j_max)
                .map(|j| {
                    let mut layer = Layer::zeros(j);
                    if mu == own || model.params.self_weight_all {
                        for m in 0..=j {
                            *layer.at_mut(m, m) = C::new(site::W_SELF, 0.0);
                        }
                    }
                    layer
                })
                .collect()
        })
        .collect();
    for n in neighbors {
        let (a, b) = cayley_klein(&n.d, n.r, site::z0(model, n));
        let (s, _) = site::switching(model, n);
        for (total, u) in density[n.channel].iter_mut().zip(wigner(basis, a, b)) {
            for (t, v) in total.v.iter_mut().zip(&u.v) {
                *t += v * s;
            }
        }
    }
    density
}

/// Step 4: Z^j_{κλ}(j1, j2) for every coupling (j1 ≥ j2) and channel pair, at
/// `[(κ·n + λ)·n_couplings + c]`.
fn couplings(model: &SnapModel, basis: &Basis, density: &[Layers]) -> Vec<Layer> {
    let n = model.n_channels();
    let mut out = Vec::with_capacity(n * n * basis.couplings.len());
    for kappa in 0..n {
        for lambda in 0..n {
            for &[j1, j2, j] in &basis.couplings {
                let mut z = couple(basis, &density[kappa][j1], &density[lambda][j2], j);
                if model.params.normalize_b {
                    for v in &mut z.v {
                        *v /= (j + 1) as f64;
                    }
                }
                out.push(z);
            }
        }
    }
    out
}

/// The coupling of two layers U^{j1} and U^{j2} (j1 ≥ j2) to total angular momentum j.
fn couple(basis: &Basis, u1: &Layer, u2: &Layer, j: usize) -> Layer {
    let (j1, j2) = (u1.j, u2.j);
    let cg = basis.cg_block(j1, j2, j);
    // m1 + m2 = m in half-integer labels: m2 = (2·m − j − 2·m1 + j1 + j2)/2 when that is
    // in 0..=j2.
    let partner = |m: usize, m1: usize| -> Option<usize> {
        let twice = (2 * m + j1 + j2) as i64 - (j + 2 * m1) as i64;
        (twice >= 0 && twice / 2 <= j2 as i64).then_some(twice as usize / 2)
    };
    let mut z = Layer::zeros(j);
    for mb in 0..=j {
        for ma in 0..=j {
            let mut sum = C::new(0.0, 0.0);
            for mb1 in 0..=j1 {
                let Some(mb2) = partner(mb, mb1) else { continue };
                let mut inner = C::new(0.0, 0.0);
                for ma1 in 0..=j1 {
                    let Some(ma2) = partner(ma, ma1) else { continue };
                    inner += (u1.at(ma1, mb1) * u2.at(ma2, mb2)) * cg[ma1 * (j2 + 1) + ma2];
                }
                sum += inner * cg[mb1 * (j2 + 1) + mb2];
            }
            *z.at_mut(ma, mb) = sum;
        }
    }
    z
}

/// Step 5: the descriptors, at `[((κ·n + λ)·n + μ)·K + k]`.
fn bispectrum(model: &SnapModel, basis: &Basis, element: usize, density: &[Layers], z: &[Layer]) -> Vec<f64> {
    let n = model.n_channels();
    let n_couplings = basis.couplings.len();
    let mut b = Vec::with_capacity(model.n_descriptors);
    for kappa in 0..n {
        for lambda in 0..n {
            for mu in 0..n {
                for &[j1, j2, j] in &basis.components {
                    let c = basis.coupling_index(j1, j2, j);
                    b.push(density[mu][j].dot(&z[(kappa * n + lambda) * n_couplings + c]));
                }
            }
        }
    }
    if model.params.subtract_bzero {
        let own = model.channel(element);
        let k_len = basis.components.len();
        for t in 0..n * n * n {
            let (kappa, lambda, mu) = (t / (n * n), (t / n) % n, t % n);
            if model.params.self_weight_all || (kappa == own && lambda == own && mu == own) {
                for (k, &[_, _, j]) in basis.components.iter().enumerate() {
                    b[t * k_len + k] -= site::bzero(model, j);
                }
            }
        }
    }
    b
}

/// Step 7: Y^j_μ for every channel μ.
fn adjoint(model: &SnapModel, basis: &Basis, z: &[Layer], beta: &[f64]) -> Vec<Layers> {
    let n = model.n_channels();
    let rules = basis.adjoint_rules(model.params.normalize_b);
    let mut y: Vec<Layers> = (0..n).map(|_| (0..=basis.two_j_max).map(Layer::zeros).collect()).collect();
    for kappa in 0..n {
        for lambda in 0..n {
            for (c, &[_, _, j]) in basis.couplings.iter().enumerate() {
                let zc = &z[(kappa * n + lambda) * basis.couplings.len() + c];
                for (mu, y_mu) in y.iter_mut().enumerate() {
                    let weight = rules[c].weight(beta, n, basis.components.len(), [kappa, lambda, mu]);
                    for (t, v) in y_mu[j].v.iter_mut().zip(&zc.v) {
                        *t += v * weight;
                    }
                }
            }
        }
    }
    y
}

/// dE_i/dx_j for one neighbor j: Σ_j' Re[(∂(s·U^{j'})/∂d)*·Y^{j'}] with s = w_j f_c(r),
/// ∂(s·U)/∂d_k = s′(r)·(d_k/r)·U + s·∂U/∂d_k.
fn pair_gradient(model: &SnapModel, basis: &Basis, n: &Neighbor, y: &Layers) -> Vec3 {
    let (z0, dz0dr) = site::z0_and_derivative(model, n);
    let d = n.d;
    let r = n.r;
    let r0inv = 1.0 / (r * r + z0 * z0).sqrt();
    let (a, b) = cayley_klein(&d, r, z0);
    // ∂(1/r0)/∂d_k = −r0⁻³ (r + z0·dz0/dr)·d_k/r, ∂z0/∂d_k = dz0/dr·d_k/r.
    let dr0inv_dr = -r0inv.powi(3) * (r + z0 * dz0dr);
    let unit = d / r;
    let da: [C; 3] = std::array::from_fn(|k| {
        let (dr0inv, dz0) = (dr0inv_dr * unit[k], dz0dr * unit[k]);
        C::new(dz0 * r0inv + z0 * dr0inv, -d.z * dr0inv - if k == 2 { r0inv } else { 0.0 })
    });
    let db: [C; 3] = std::array::from_fn(|k| {
        let dr0inv = dr0inv_dr * unit[k];
        C::new(d.y * dr0inv + if k == 1 { r0inv } else { 0.0 }, -d.x * dr0inv - if k == 0 { r0inv } else { 0.0 })
    });
    let (u, du) = wigner_with_derivative(basis, a, b, &da, &db);
    let (s, ds) = site::switching(model, n);
    let mut f = Vec3::zeros();
    for k in 0..3 {
        for j in 0..=basis.two_j_max {
            let scaled =
                Layer { j, v: u[j].v.iter().zip(&du[k][j].v).map(|(uv, dv)| uv * (ds * unit[k]) + dv * s).collect() };
            f[k] += scaled.dot(&y[j]);
        }
    }
    f
}
