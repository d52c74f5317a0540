//! The cubic lookup tables of LAMMPS `pair_style eam*`, rebuilt with the same arithmetic.
//!
//! A tabulated function f₁ … fₙ on a uniform grid of spacing Δ becomes, per knot m, seven
//! coefficients (LAMMPS `PairEAM::interpolate`):
//!
//! - c₆ = f_m, the value;
//! - c₅ = s_m, the slope per grid step, from the 5-point stencil
//!   s_m = [(f_{m−2} − f_{m+2}) + 8(f_{m+1} − f_{m−1})] / 12, with the one-sided
//!   s₁ = f₂ − f₁, sₙ = fₙ − fₙ₋₁ and the central s₂, sₙ₋₁ at the ends;
//! - c₄ = 3(f_{m+1} − f_m) − 2s_m − s_{m+1} and c₃ = s_m + s_{m+1} − 2(f_{m+1} − f_m), the
//!   Hermite cubic on [m, m+1] (zero for the last knot);
//! - c₂ = c₅/Δ, c₁ = 2c₄/Δ, c₀ = 3c₃/Δ, its derivative with respect to x.
//!
//! With p ∈ [0, 1] the fractional position inside interval m, the value is
//! ((c₃p + c₄)p + c₅)p + c₆ and the derivative (c₀p + c₁)p + c₂. Every expression here keeps
//! the operand order of the LAMMPS source, so the tables agree with LAMMPS to the bit.

/// Knots a table must have at least (the 5-point stencil and the 4-point regridding need them).
pub const MIN_KNOTS: usize = 5;

/// A 7-coefficient cubic table in LAMMPS layout: row `m` (1-based, `1..=n`) holds knot m.
///
/// Row 0 is a NaN sentinel: LAMMPS never reads it for finite arguments, and a NaN
/// argument lands there, so it poisons the result instead of silently reading knot 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Spline {
    delta: f64,
    rows: Vec<[f64; 7]>,
}

impl Spline {
    /// Builds the table of knot values `values[0] = f₁ … values[n-1] = fₙ` with spacing `delta`.
    pub fn new(values: &[f64], delta: f64) -> Self {
        let n = values.len();
        assert!(n >= MIN_KNOTS, "a spline table needs at least {MIN_KNOTS} knots");
        let mut s = vec![[0.0f64; 7]; n + 1];
        s[0] = [f64::NAN; 7];
        for m in 1..=n {
            s[m][6] = values[m - 1];
        }
        s[1][5] = s[2][6] - s[1][6];
        s[2][5] = 0.5 * (s[3][6] - s[1][6]);
        s[n - 1][5] = 0.5 * (s[n][6] - s[n - 2][6]);
        s[n][5] = s[n][6] - s[n - 1][6];
        for m in 3..=n - 2 {
            s[m][5] = ((s[m - 2][6] - s[m + 2][6]) + 8.0 * (s[m + 1][6] - s[m - 1][6])) / 12.0;
        }
        for m in 1..n {
            s[m][4] = 3.0 * (s[m + 1][6] - s[m][6]) - 2.0 * s[m][5] - s[m + 1][5];
            s[m][3] = s[m][5] + s[m + 1][5] - 2.0 * (s[m + 1][6] - s[m][6]);
        }
        s[n][4] = 0.0;
        s[n][3] = 0.0;
        for row in s.iter_mut().skip(1) {
            row[2] = row[5] / delta;
            row[1] = 2.0 * row[4] / delta;
            row[0] = 3.0 * row[3] / delta;
        }
        Self { delta, rows: s }
    }

    /// Number of knots n.
    #[inline]
    pub fn n_knots(&self) -> usize {
        self.rows.len() - 1
    }

    /// Grid spacing Δ.
    #[inline]
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// The coefficients of knot `m` (1-based; row 0 is the NaN sentinel).
    #[inline]
    pub fn row(&self, m: usize) -> &[f64; 7] {
        &self.rows[m]
    }

    /// All rows, sentinel included.
    pub fn rows(&self) -> &[[f64; 7]] {
        &self.rows
    }

    /// The tabulated value at knot `m` (1-based).
    pub fn knot_value(&self, m: usize) -> f64 {
        self.rows[m][6]
    }
}

/// ((c₃p + c₄)p + c₅)p + c₆: the table value inside an interval.
#[inline(always)]
pub fn cubic_value(c: &[f64; 7], p: f64) -> f64 {
    ((c[3] * p + c[4]) * p + c[5]) * p + c[6]
}

/// (c₀p + c₁)p + c₂: the table derivative inside an interval.
#[inline(always)]
pub fn cubic_derivative(c: &[f64; 7], p: f64) -> f64 {
    (c[0] * p + c[1]) * p + c[2]
}

/// Interval and fraction of a distance on the radial grid: p = r/Δr + 1 (as r·(1/Δr) + 1),
/// m = min(⌊p⌋, nr − 1), p ← min(p − m, 1). A NaN distance gives row 0, the NaN sentinel.
#[inline(always)]
pub fn radial_point(r: f64, rdr: f64, nr: usize) -> (usize, f64) {
    let p = r * rdr + 1.0;
    // `as usize` truncates like C's cast for the non-negative p that a distance gives, and
    // maps NaN to 0.
    let m = (p as usize).min(nr - 1);
    (m, (p - m as f64).min(1.0))
}

/// Interval and fraction of a density on the embedding grid: as [`radial_point`] but with
/// m clamped to [1, nrho − 1], so densities below 0 or above the table extrapolate the end
/// cubics.
#[inline(always)]
pub fn density_point(rho: f64, rdrho: f64, nrho: usize) -> (usize, f64) {
    let p = rho * rdrho + 1.0;
    // C's int cast truncates toward zero; `as i64` does the same (and saturates).
    let m = (p as i64).min(nrho as i64 - 1).max(1) as usize;
    (m, (p - m as f64).min(1.0))
}

/// Resamples a funcfl function onto another grid by 4-point Lagrange interpolation
/// (LAMMPS `PairEAM::file2array`): knot m of the new grid sits at x = (m−1)·Δ_new, and
/// uses the file knots k−1 … k+2 with k = ⌊x/Δ_file + 1⌋ clamped to [2, n_file − 2] and the
/// offset p = x/Δ_file + 1 − k clamped to ≤ 2. Beyond the file's last knot the result is
/// therefore the last value.
pub fn regrid(file_values: &[f64], file_delta: f64, n_new: usize, new_delta: f64) -> Vec<f64> {
    let n_file = file_values.len() as i64;
    assert!(n_file >= 4, "regridding needs at least 4 knots");
    let sixth = 1.0 / 6.0;
    // 1-based access as in the file arrays.
    let f = |k: i64| file_values[(k - 1) as usize];
    (1..=n_new)
        .map(|m| {
            let r = (m - 1) as f64 * new_delta;
            let mut p = r / file_delta + 1.0;
            let k = (p as i64).min(n_file - 2).max(2);
            p -= k as f64;
            p = p.min(2.0);
            let cof1 = -sixth * p * (p - 1.0) * (p - 2.0);
            let cof2 = 0.5 * (p * p - 1.0) * (p - 2.0);
            let cof3 = -0.5 * p * (p + 1.0) * (p - 2.0);
            let cof4 = sixth * p * (p * p - 1.0);
            cof1 * f(k - 1) + cof2 * f(k) + cof3 * f(k + 1) + cof4 * f(k + 2)
        })
        .collect()
}
