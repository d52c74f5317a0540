//! Straight-line fits of displacement curves with honest error bars, the automatic fit
//! window, block averages and Arrhenius fits.
//!
//! **Error model.** A curve Ĉ(n) = ⟨ΔA·ΔB⟩ averaged over the N−n time origins of an
//! N-frame trajectory is treated as the estimate from a random walk with independent,
//! identically distributed one-frame increments (the model kinisi uses, McCluskey, Coles
//! and Morgan, JCTC 21, 79 (2025), here with its covariance written out exactly). For
//! windows of n and m increments that overlap in o increments, pairing the increments gives
//!
//! Cov(|ΔA_n|², |ΔA_m|²) = 2d·s⁴·o² + κ·o,
//!
//! with s² the variance of one increment per dimension and κ = ⟨|δ|⁴⟩ − (d²+2d)s⁴ its
//! excess fourth moment (zero for Gaussian increments; for a lattice walk it is what makes
//! short lags noisier than a Gaussian walk of the same D). Summing over all pairs of
//! origins, Cov(Ĉ(n), Ĉ(m)) = [A·S₂(n, m) + κ·S₁(n, m)] / ((N−n)(N−m)·W), where
//! S_p = Σ_origins o^p, W is the number of independent walkers averaged (atoms for a
//! tracer MSD, 1 for a collective one) and A = 2β²/d for an MSD of slope β per frame, or
//! A = (β_AA·β_BB + β_AB²)/d for a cross term (Gaussian increments). For Brownian motion
//! the diagonal reduces to the exact variance of Qian, Sheetz and Elson (Biophys. J. 60,
//! 910 (1991), eq. B4). The slope enters A, so the generalised least-squares fit is
//! iterated with the covariance from the previous slope.
//!
//! The multiple-tau correlator averages over fewer origins at long lags (one in factorᵏ);
//! its fits use the dense-origin covariance, which underestimates their variance by at
//! most a factor (1 + factorᵏ/n) at lag n, where n ≥ (points/factor)·factorᵏ.

use nalgebra::{DMatrix, DVector};

use crate::spec::FitWindow;
use crate::{Estimate, TransportError};

/// A straight line fitted to a curve: slope per ps and intercept, with standard errors and
/// their covariance, and the window it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LineFit {
    pub slope: Estimate,
    pub intercept: Estimate,
    /// Covariance of (slope, intercept).
    pub covariance: [[f64; 2]; 2],
    /// Fit window in ps.
    pub start: f64,
    pub end: f64,
    /// Lags used.
    pub points: usize,
}

/// What the noise of a curve is made of (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// A mean squared displacement averaged over `walkers` independent walkers whose
    /// one-frame increments have excess fourth moment `excess` (Å⁴).
    Msd { walkers: f64, excess: f64 },
    /// A cross term ⟨ΔA·ΔB⟩ of two collective walkers whose own MSDs have slopes
    /// `slope_aa`, `slope_bb` (per ps in [`gls_fit`], per frame in [`covariance`]).
    Cross { slope_aa: f64, slope_bb: f64 },
}

/// Σ_origins o and Σ_origins o² over all pairs of origins of windows of n and m increments
/// in a trajectory of `frames` frames.
pub fn overlap_sums(frames: usize, n: usize, m: usize) -> (f64, f64) {
    let (n, m) = (n as i64, m as i64);
    let last = frames as i64 - 1;
    let (mut s1, mut s2) = (0.0, 0.0);
    for delta in (1 - m)..n {
        let overlap = (n.min(delta + m) - delta.max(0)).max(0);
        let count = ((last - n).min(last - m - delta) - (-delta).max(0) + 1).max(0);
        let (o, c) = (overlap as f64, count as f64);
        s1 += c * o;
        s2 += c * o * o;
    }
    (s1, s2)
}

/// The dimensionality of the displacements.
pub const DIMENSIONS: usize = 3;

/// The covariance matrix of a curve at the given lags (frames) under `noise` (its slopes
/// per frame), for a current slope estimate `slope` (per frame).
pub fn covariance(frames: usize, lags: &[u64], noise: Noise, slope: f64) -> DMatrix<f64> {
    covariance_from(&overlaps(frames, lags), frames, lags, noise, slope)
}

/// [`overlap_sums`] for every pair of `lags` (i ≤ j, row by row): what [`covariance`]
/// needs that does not depend on the slope, so a fit that iterates computes it once.
fn overlaps(frames: usize, lags: &[u64]) -> Vec<(f64, f64)> {
    let k = lags.len();
    let mut out = Vec::with_capacity(k * (k + 1) / 2);
    for i in 0..k {
        for j in i..k {
            out.push(overlap_sums(frames, lags[i] as usize, lags[j] as usize));
        }
    }
    out
}

/// [`covariance`] from the overlap sums of [`overlaps`].
fn covariance_from(overlaps: &[(f64, f64)], frames: usize, lags: &[u64], noise: Noise, slope: f64) -> DMatrix<f64> {
    let d = DIMENSIONS as f64;
    let (a, excess, walkers) = match noise {
        Noise::Msd { walkers, excess } => (2.0 * slope * slope / d, excess, walkers),
        Noise::Cross { slope_aa, slope_bb } => ((slope_aa.max(0.0) * slope_bb.max(0.0) + slope * slope) / d, 0.0, 1.0),
    };
    let k = lags.len();
    let mut cov = DMatrix::zeros(k, k);
    let mut sums = overlaps.iter();
    for i in 0..k {
        for j in i..k {
            let (n, m) = (lags[i] as usize, lags[j] as usize);
            let &(s1, s2) = sums.next().expect("one pair of sums per pair of lags");
            let v = (a * s2 + excess * s1) / ((frames - n) as f64 * (frames - m) as f64 * walkers);
            cov[(i, j)] = v;
            cov[(j, i)] = v;
        }
    }
    cov
}

/// Up to `points` lag indices evenly spread over the lags within [start, end] ps (lag 0 is
/// never used).
pub fn window_indices(lag_times: &[f64], start: f64, end: f64, points: usize) -> Vec<usize> {
    let inside: Vec<usize> =
        (0..lag_times.len()).filter(|&i| lag_times[i] > 0.0 && lag_times[i] >= start && lag_times[i] <= end).collect();
    if inside.len() <= points {
        return inside;
    }
    let mut out: Vec<usize> = (0..points)
        .map(|p| inside[((p as f64) * (inside.len() - 1) as f64 / (points - 1).max(1) as f64).round() as usize])
        .collect();
    out.dedup();
    out
}

/// The automatic fit window (ps) of a mean squared displacement: it ends at half the
/// longest lag (beyond which few origins remain) and starts where the curve has become
/// diffusive — the first lag t of the doubling sequence 1, 2, 4, … frames at which the
/// local exponent log₂(C(2t)/C(t)) is within 0.15 of 1 — but no later than a quarter of
/// the end, so that the window always covers three quarters of it.
pub fn auto_window(lag_times: &[f64], curve: &[f64]) -> (f64, f64) {
    let t_max = *lag_times.last().unwrap_or(&0.0);
    let end = 0.5 * t_max;
    let value_at = |t: f64| -> Option<f64> {
        let i = lag_times.iter().position(|&x| x >= t * (1.0 - 1e-9))?;
        Some(curve[i])
    };
    let first = lag_times.iter().copied().find(|&t| t > 0.0).unwrap_or(0.0);
    let mut start = first;
    let mut t = first;
    while t > 0.0 && 2.0 * t <= end {
        if let (Some(a), Some(b)) = (value_at(t), value_at(2.0 * t)) {
            if a > 0.0 && b > 0.0 && ((b / a).log2() - 1.0).abs() <= 0.15 {
                start = t;
                break;
            }
        }
        t *= 2.0;
        start = t;
    }
    (start.min(0.25 * end).max(first), end)
}

/// The fit window in ps: the user's bounds where given, automatic ones otherwise; an
/// error when the window is outside the data or holds fewer than two lags.
pub fn resolve_window(lag_times: &[f64], curve: &[f64], user: FitWindow) -> Result<(f64, f64), TransportError> {
    let (auto_start, auto_end) = auto_window(lag_times, curve);
    let start = user.start.unwrap_or(auto_start);
    let end = user.end.unwrap_or(auto_end);
    let first = lag_times.iter().copied().find(|&t| t > 0.0).unwrap_or(0.0);
    let last = *lag_times.last().unwrap_or(&0.0);
    let count = lag_times.iter().filter(|&&t| t > 0.0 && t >= start && t <= end).count();
    if !(start < end) || start < 0.0 || end > last * (1.0 + 1e-9) || count < 2 {
        return Err(TransportError::FitWindow { start, end, min: first, max: last });
    }
    Ok((start, end))
}

/// Ordinary least squares of y = a + b·t (no error bars; the first guess of GLS).
pub fn ols(t: &[f64], y: &[f64]) -> (f64, f64) {
    let n = t.len() as f64;
    let (mt, my) = (t.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = t.iter().map(|x| (x - mt).powi(2)).sum();
    let sxy: f64 = t.iter().zip(y).map(|(x, v)| (x - mt) * (v - my)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - b * mt, b)
}

/// Generalised least squares of the curve on the lags `indices` with the covariance of
/// `noise`, iterated three times from the OLS slope.
pub fn gls_fit(
    lags: &[u64],
    curve: &[f64],
    interval: f64,
    frames: usize,
    indices: &[usize],
    noise: Noise,
) -> Result<LineFit, TransportError> {
    if indices.len() < 2 {
        return Err(TransportError::Invalid("a fit needs at least two lags in its window".into()));
    }
    // The model's slopes are per frame.
    let noise = match noise {
        Noise::Cross { slope_aa, slope_bb } => {
            Noise::Cross { slope_aa: slope_aa * interval, slope_bb: slope_bb * interval }
        }
        other => other,
    };
    let fit_lags: Vec<u64> = indices.iter().map(|&i| lags[i]).collect();
    let t: Vec<f64> = fit_lags.iter().map(|&l| l as f64 * interval).collect();
    let y: Vec<f64> = indices.iter().map(|&i| curve[i]).collect();
    let (mut intercept, mut slope) = ols(&t, &y);
    let k = t.len();
    let x = DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { t[i] });
    let yv = DVector::from_vec(y.clone());
    let mut cov_beta = DMatrix::zeros(2, 2);
    let sums = overlaps(frames, &fit_lags);
    for _ in 0..3 {
        // The model's covariance for the current slope; a flat or negative diagonal
        // slope still has the noise of its own size, so use its magnitude.
        let per_frame = slope.abs() * interval;
        let floor = 1e-300_f64.max(y.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 1e-12 / t[k - 1].max(1e-300));
        let cov = covariance_from(&sums, frames, &fit_lags, noise, per_frame.max(floor * interval));
        // A curve that is zero to rounding (the solvent in its own frame) has no noise in
        // the model: fit it without weights and state no error bar.
        let scale = cov.diagonal().max();
        if !(scale > 1e-250) || !scale.is_finite() {
            let (a, b) = ols(&t, &y);
            return Ok(LineFit {
                slope: Estimate::new(b, f64::NAN),
                intercept: Estimate::new(a, f64::NAN),
                covariance: [[f64::NAN; 2]; 2],
                start: t[0],
                end: t[k - 1],
                points: k,
            });
        }
        let chol = cholesky_with_jitter(cov)?;
        let wx = chol.solve(&x);
        let wy = chol.solve(&yv);
        let normal = x.transpose() * &wx;
        let rhs = x.transpose() * &wy;
        let inv = normal
            .try_inverse()
            .ok_or_else(|| TransportError::Invalid("the fit's normal equations are singular".into()))?;
        let beta = &inv * rhs;
        intercept = beta[0];
        slope = beta[1];
        cov_beta = inv;
    }
    Ok(LineFit {
        slope: Estimate::new(slope, cov_beta[(1, 1)].max(0.0).sqrt()),
        intercept: Estimate::new(intercept, cov_beta[(0, 0)].max(0.0).sqrt()),
        covariance: [[cov_beta[(1, 1)], cov_beta[(1, 0)]], [cov_beta[(0, 1)], cov_beta[(0, 0)]]],
        start: t[0],
        end: t[k - 1],
        points: k,
    })
}

/// Cholesky factor of a covariance, with the smallest diagonal jitter that makes it
/// positive definite (neighbouring lags are strongly correlated).
fn cholesky_with_jitter(cov: DMatrix<f64>) -> Result<nalgebra::Cholesky<f64, nalgebra::Dyn>, TransportError> {
    let scale = cov.diagonal().max();
    let mut jitter = 0.0;
    for _ in 0..12 {
        let mut c = cov.clone();
        for i in 0..c.nrows() {
            c[(i, i)] += jitter * scale;
        }
        if let Some(ch) = c.cholesky() {
            return Ok(ch);
        }
        jitter = if jitter == 0.0 { 1e-12 } else { jitter * 10.0 };
    }
    Err(TransportError::Invalid("the covariance of the fitted lags is not positive definite".into()))
}

/// The mean and standard error of block values.
pub fn block_estimate(values: &[f64]) -> Estimate {
    let b = values.len() as f64;
    if values.len() < 2 {
        return Estimate::new(values.first().copied().unwrap_or(f64::NAN), f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / b;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (b - 1.0);
    Estimate::new(mean, (var / b).sqrt())
}

/// An Arrhenius fit ln D = ln D₀ − E_a/(k_B·T).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ArrheniusFit {
    /// Activation energy in eV.
    pub activation_energy: Estimate,
    /// Prefactor D₀ (in the units of the values).
    pub prefactor: Estimate,
    /// ln D₀ and its standard error.
    pub ln_prefactor: Estimate,
    /// Covariance of (E_a, ln D₀).
    pub covariance: [[f64; 2]; 2],
}

/// Weighted least squares of ln D against 1/(k_B·T), with weights from the relative
/// standard errors of the values (σ_lnD = σ_D/D); temperatures in K. Needs two
/// temperatures at least; with exactly two the fit passes through both points.
pub fn arrhenius(temperatures: &[f64], values: &[Estimate]) -> Result<ArrheniusFit, TransportError> {
    if temperatures.len() != values.len() || temperatures.len() < 2 {
        return Err(TransportError::Invalid("an Arrhenius fit needs values at two temperatures at least".into()));
    }
    if let Some(v) = values.iter().find(|v| !(v.value > 0.0) || !(v.std_error > 0.0)) {
        return Err(TransportError::Invalid(format!(
            "an Arrhenius fit needs positive values with positive errors, not {} ± {}",
            v.value, v.std_error
        )));
    }
    let kb = calcine_core::units::BOLTZ;
    let x: Vec<f64> = temperatures.iter().map(|t| -1.0 / (kb * t)).collect();
    let y: Vec<f64> = values.iter().map(|v| v.value.ln()).collect();
    let w: Vec<f64> = values.iter().map(|v| (v.value / v.std_error).powi(2)).collect();
    // Normal equations of y = ln D0 + Ea·x with weights w.
    let (s, sx, sxx) = (w.iter().sum::<f64>(), dotw(&w, &x, None), dotw(&w, &x, Some(&x)));
    let (sy, sxy) = (dotw(&w, &y, None), dotw(&w, &x, Some(&y)));
    let det = s * sxx - sx * sx;
    if !(det > 0.0) {
        return Err(TransportError::Invalid("an Arrhenius fit needs two different temperatures".into()));
    }
    let ln_d0 = (sxx * sy - sx * sxy) / det;
    let ea = (s * sxy - sx * sy) / det;
    let (var_ln, var_ea, cov) = (sxx / det, s / det, -sx / det);
    let d0 = ln_d0.exp();
    Ok(ArrheniusFit {
        activation_energy: Estimate::new(ea, var_ea.sqrt()),
        prefactor: Estimate::new(d0, d0 * var_ln.sqrt()),
        ln_prefactor: Estimate::new(ln_d0, var_ln.sqrt()),
        covariance: [[var_ea, cov], [cov, var_ln]],
    })
}

fn dotw(w: &[f64], a: &[f64], b: Option<&[f64]>) -> f64 {
    (0..w.len()).map(|i| w[i] * a[i] * b.map_or(1.0, |b| b[i])).sum()
}
