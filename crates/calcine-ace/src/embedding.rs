//! The embedding functions F(ρ) and the core-density switch, with ML-PACE's expressions
//! (`Fexp`, `FexpShiftedScaled`, `ACEAbstractBasisSet::inner_cutoff`).

use crate::model::{Embedding, EmbeddingKind};
use crate::radial::cutoff_poly;

/// F(x) = sgn(x)[(1 − g)|x|^m + w^{1−m} g |x|], g = exp(−(w|x|)³), w = 10⁶ (g taken as 0
/// once (w|x|)³ > 30), and F = w^{1−m}x for |x| ≤ 10⁻¹⁰: a signed power smoothed at 0.
pub fn finnis_sinclair(x: f64, m: f64) -> (f64, f64) {
    let w: f64 = 1.0e6;
    let lambda = (1.0 / w).powf(m - 1.0);
    if x.abs() > 1e-10 {
        let a = x.abs();
        let am = a.powf(m);
        let w3x3 = (w * a).powf(3.0);
        let sign = if x.is_sign_negative() { -1.0 } else { 1.0 };
        let g = if w3x3 > 30.0 { 0.0 } else { (-w3x3).exp() };
        let omg = 1.0 - g;
        let f = sign * (omg * am + lambda * g * a);
        let dg = -3.0 * w * w * w * a * a * g;
        let df = m * a.powf(m - 1.0) * omg - am * dg + lambda * dg * a + lambda * g;
        (f, df)
    } else {
        (lambda * x, lambda)
    }
}

/// F(ρ) = ρ for m = 1, else sgn(ρ)((x₀ + |ρ|)^m − y₀) with x₀ = (1/m)^{(1/m)/(1−1/m)}e^{−|ρ|}
/// and y₀ = (1/m)^{1/(1−1/m)}e^{−|ρ|}, smooth through 0 with slope 1 there.
pub fn finnis_sinclair_shifted_scaled(rho: f64, m: f64) -> (f64, f64) {
    if (m - 1.0).abs() < 1e-10 {
        return (rho, 1.0);
    }
    let a = rho.abs();
    let exprho = (-a).exp();
    let nx = 1.0 / m;
    let xoff = nx.powf(nx / (1.0 - nx)) * exprho;
    let yoff = nx.powf(1.0 / (1.0 - nx)) * exprho;
    let sign = if rho.is_sign_negative() { -1.0 } else { 1.0 };
    let f = sign * ((xoff + a).powf(m) - yoff);
    let df = yoff + m * (-xoff + 1.0) * (xoff + a).powf(m - 1.0);
    (f, df)
}

/// E_F = Σ_p w_p F(ρ_p; m_p); writes dE_F/dρ_p into `d_rho`.
pub fn embed(e: &Embedding, rho: &[f64], d_rho: &mut [f64]) -> f64 {
    let mut value = 0.0;
    for p in 0..e.ndensity {
        let (w, m) = (e.fs_parameters[2 * p], e.fs_parameters[2 * p + 1]);
        let (f, df) = match e.kind {
            EmbeddingKind::FinnisSinclair => finnis_sinclair(rho[p], m),
            EmbeddingKind::FinnisSinclairShiftedScaled => finnis_sinclair_shifted_scaled(rho[p], m),
        };
        value += f * w;
        d_rho[p] = df * w;
    }
    value
}

/// The switch of the ACE energy by the core-repulsion density: 1 below ρ_cut − Δρ, 0 above
/// ρ_cut, the polynomial switch between; and its derivative.
pub fn core_density_switch(rho_core: f64, rho_cut: f64, drho_cut: f64) -> (f64, f64) {
    if rho_core >= rho_cut {
        (0.0, 0.0)
    } else if rho_core <= rho_cut - drho_cut {
        (1.0, 0.0)
    } else {
        cutoff_poly(rho_core, rho_cut, drho_cut)
    }
}
