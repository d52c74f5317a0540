//! Windowed correlators of time series by zero-padded FFT (the "FCA" algorithm of Kneller
//! et al., Comput. Phys. Commun. 91, 191 (1995); Calandrini et al., JDN 12, 201 (2011)),
//! and their direct O(N²) definitions in [`direct`] as the reference they are tested against.
//!
//! For series A(k), B(k) of vectors, k = 0..N−1, and a lag m:
//!
//! * cross-displacement ⟨ΔA·ΔB⟩(m) = 1/(N−m) Σ_{k=0}^{N−m−1} [A(k+m)−A(k)]·[B(k+m)−B(k)]
//!   (A = B gives the mean squared displacement);
//! * correlation C_AB(m) = 1/(N−m) Σ_{k=0}^{N−m−1} A(k)·B(k+m) (Green–Kubo).
//!
//! The cross-displacement expands to 1/(N−m)[Σ_k (A·B)(k+m) + (A·B)(k)] − C_AB(m) − C_BA(m):
//! the first sum comes from prefix sums of A·B (kept in fixed point, so differences of
//! prefix sums are exact), the correlations from one inverse FFT of
//! conj(F_A)F_B + conj(F_B)F_A, with the series zero-padded to at least 2N−1 points so that
//! the circular correlation does not wrap round. Displacements do not change when a
//! constant is added to a series, so each series is first centred on its mean, which keeps
//! the terms that cancel small.
//!
//! [`SelfSpectrum`] sums mean squared displacements over many atoms with a single inverse
//! FFT: it accumulates the power spectra of the atoms' series (in fixed point, so that the
//! sum does not depend on the order of atoms, threads or ranks) and the per-frame Σ|r|².

use std::sync::Arc;

use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

/// The smallest 2^a·3^b·5^c ≥ n (lengths rustfft transforms fastest).
pub fn fast_len(n: usize) -> usize {
    let mut best = n.next_power_of_two();
    let mut p5 = 1;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            let mut p = p35;
            while p < n {
                p *= 2;
            }
            best = best.min(p);
            p35 *= 3;
        }
        p5 *= 5;
    }
    best.max(1)
}

/// FFT plans for series of `n` frames, zero-padded to a fast length of at least 2n−1.
#[derive(Clone)]
pub struct FftPlan {
    n: usize,
    len: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
}

impl std::fmt::Debug for FftPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FftPlan").field("n", &self.n).field("len", &self.len).finish()
    }
}

impl FftPlan {
    pub fn new(n: usize) -> Self {
        let len = fast_len((2 * n).saturating_sub(1).max(1));
        let mut planner = FftPlanner::new();
        Self { n, len, forward: planner.plan_fft_forward(len), inverse: planner.plan_fft_inverse(len) }
    }

    pub fn n_frames(&self) -> usize {
        self.n
    }

    pub fn padded_len(&self) -> usize {
        self.len
    }

    /// The spectrum of the real series `re` packed with the real series `im` as re + i·im,
    /// zero-padded (either may be shorter than n; missing values are zeros).
    pub fn forward_packed(&self, re: impl Iterator<Item = f64>, im: impl Iterator<Item = f64>) -> Vec<Complex64> {
        let mut buf = vec![Complex64::new(0.0, 0.0); self.len];
        for (z, x) in buf.iter_mut().zip(re.take(self.n)) {
            z.re = x;
        }
        for (z, y) in buf.iter_mut().zip(im.take(self.n)) {
            z.im = y;
        }
        self.forward.process(&mut buf);
        buf
    }

    /// Transforms `buf` (of [`FftPlan::padded_len`] points) in place, with `scratch` as
    /// the transform's work space (grown as needed and kept for the next call): the same
    /// arithmetic as [`FftPlan::forward_packed`], without its allocations.
    pub fn forward_in_place(&self, buf: &mut [Complex64], scratch: &mut Vec<Complex64>) {
        let need = self.forward.get_inplace_scratch_len();
        if scratch.len() < need {
            scratch.resize(need, Complex64::new(0.0, 0.0));
        }
        self.forward.process_with_scratch(buf, &mut scratch[..need]);
    }

    /// The spectrum of one real series.
    pub fn forward_real(&self, x: impl Iterator<Item = f64>) -> Vec<Complex64> {
        self.forward_packed(x, std::iter::empty())
    }

    /// Σ_k a(k)·b(k+m) for m = 0..n−1, from the spectra of a and b (one per component).
    pub fn lagged_sums(&self, fa: &[Vec<Complex64>], fb: &[Vec<Complex64>]) -> Vec<f64> {
        let mut acc = vec![Complex64::new(0.0, 0.0); self.len];
        for (a, b) in fa.iter().zip(fb) {
            for ((z, x), y) in acc.iter_mut().zip(a).zip(b) {
                *z += x.conj() * y;
            }
        }
        self.inverse.process(&mut acc);
        let scale = 1.0 / self.len as f64;
        acc[..self.n].iter().map(|z| z.re * scale).collect()
    }

    /// Σ_k [a(k)·b(k+m) + b(k)·a(k+m)] for m = 0..n−1, from the spectra of a and b.
    pub fn symmetric_lagged_sums(&self, fa: &[Vec<Complex64>], fb: &[Vec<Complex64>]) -> Vec<f64> {
        let mut acc = vec![Complex64::new(0.0, 0.0); self.len];
        for (a, b) in fa.iter().zip(fb) {
            for ((z, x), y) in acc.iter_mut().zip(a).zip(b) {
                z.re += 2.0 * (x.re * y.re + x.im * y.im);
            }
        }
        self.inverse.process(&mut acc);
        let scale = 1.0 / self.len as f64;
        acc[..self.n].iter().map(|z| z.re * scale).collect()
    }

    /// The inverse transform of a real spectrum, first n points, scaled by 1/len.
    fn inverse_real(&self, spectrum: &[f64]) -> Vec<f64> {
        let mut buf: Vec<Complex64> = spectrum.iter().map(|&x| Complex64::new(x, 0.0)).collect();
        self.inverse.process(&mut buf);
        let scale = 1.0 / self.len as f64;
        buf[..self.n].iter().map(|z| z.re * scale).collect()
    }
}

/// A series of 3-vectors, one per frame.
pub type Series = [[f64; 3]];

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// The series minus its mean (per component).
pub fn centred(series: &Series) -> Vec<[f64; 3]> {
    let mean = series_mean(series);
    series.iter().map(|x| [x[0] - mean[0], x[1] - mean[1], x[2] - mean[2]]).collect()
}

/// Subtracts the series' mean (per component), as [`centred`] does.
pub fn centre_in_place(series: &mut [[f64; 3]]) {
    let mean = series_mean(series);
    for x in series.iter_mut() {
        *x = [x[0] - mean[0], x[1] - mean[1], x[2] - mean[2]];
    }
}

/// The mean of each component, summed in frame order.
fn series_mean(series: &Series) -> [f64; 3] {
    let n = series.len().max(1) as f64;
    let mut mean = [0.0; 3];
    for x in series {
        for c in 0..3 {
            mean[c] += x[c];
        }
    }
    mean.map(|m| m / n)
}

/// The three component spectra of a series.
pub fn spectra(plan: &FftPlan, series: &Series) -> Vec<Vec<Complex64>> {
    (0..3).map(|c| plan.forward_real(series.iter().map(move |x| x[c]))).collect()
}

/// Prefix sums of `d` in fixed point: `window_sums(m)` = Σ_{k=0}^{N−m−1} [d(k+m) + d(k)],
/// exact up to one rounding of each term to a quantum far below its f64 precision.
pub struct PrefixSums {
    prefix: Vec<i128>,
    scale: f64,
}

impl PrefixSums {
    pub fn new(d: &[f64]) -> Self {
        let bound = d.iter().fold(0.0f64, |m, x| m.max(x.abs())) * d.len().max(1) as f64;
        let exp = fixed_exponent(bound);
        let scale = (2.0f64).powi(-exp);
        let mut prefix = Vec::with_capacity(d.len() + 1);
        let mut acc = 0i128;
        prefix.push(0);
        for &x in d {
            acc += to_fixed(x, scale);
            prefix.push(acc);
        }
        Self { prefix, scale }
    }

    /// Σ_{k=0}^{N−m−1} [d(k+m) + d(k)].
    pub fn window_sum(&self, m: usize) -> f64 {
        let n = self.prefix.len() - 1;
        let total = (self.prefix[n] - self.prefix[m]) + self.prefix[n - m];
        total as f64 / self.scale
    }
}

/// The exponent e such that values up to `bound` fit in fixed point with quantum 2^e and
/// 7 bits to spare in an i128.
pub(crate) fn fixed_exponent(bound: f64) -> i32 {
    if !(bound > 0.0) || !bound.is_finite() {
        return -60;
    }
    bound.log2().ceil() as i32 - 120
}

#[inline]
pub(crate) fn to_fixed(x: f64, scale: f64) -> i128 {
    integral_to_i128((x * scale).round())
}

/// `y as i128` for a `y` without a fraction (as `round` leaves it), without the software
/// 128-bit conversion: the 53-bit significand shifted into place, which is exact because
/// the bits shifted out to the right are zeros. NaN, and magnitudes from 2^127 on that
/// saturate, take the plain cast.
#[inline]
fn integral_to_i128(y: f64) -> i128 {
    let bits = y.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased < 1023 {
        return 0; // |y| < 1: y is ±0
    }
    let shift = biased - 1075;
    if shift > 73 {
        return y as i128;
    }
    let significand = i128::from((bits & ((1u64 << 52) - 1)) | (1u64 << 52));
    let magnitude = if shift >= 0 { significand << shift } else { significand >> -shift };
    if bits >> 63 == 1 {
        -magnitude
    } else {
        magnitude
    }
}

/// ⟨ΔA·ΔB⟩(m) for m = 0..N−1 by FFT (see the module docs).
pub fn cross_msd(a: &Series, b: &Series) -> Vec<f64> {
    assert_eq!(a.len(), b.len(), "series of different lengths");
    let plan = FftPlan::new(a.len());
    let (a, b) = (centred(a), centred(b));
    let (fa, fb) = (spectra(&plan, &a), spectra(&plan, &b));
    cross_msd_from(&plan, &a, &b, &fa, &fb)
}

/// ⟨ΔA·ΔB⟩ from centred series and their spectra.
pub fn cross_msd_from(
    plan: &FftPlan,
    a: &Series,
    b: &Series,
    fa: &[Vec<Complex64>],
    fb: &[Vec<Complex64>],
) -> Vec<f64> {
    let n = a.len();
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| dot(x, y)).collect();
    let sums = PrefixSums::new(&d);
    let lagged = plan.symmetric_lagged_sums(fa, fb);
    (0..n).map(|m| (sums.window_sum(m) - lagged[m]) / (n - m) as f64).collect()
}

/// The mean squared displacement ⟨|ΔA|²⟩(m), m = 0..N−1, by FFT.
pub fn msd(a: &Series) -> Vec<f64> {
    cross_msd(a, a)
}

/// C_AB(m) = 1/(N−m) Σ_k A(k)·B(k+m), m = 0..N−1, by FFT.
pub fn correlation(a: &Series, b: &Series) -> Vec<f64> {
    assert_eq!(a.len(), b.len(), "series of different lengths");
    let n = a.len();
    let plan = FftPlan::new(n);
    let lagged = plan.lagged_sums(&spectra(&plan, a), &spectra(&plan, b));
    lagged.iter().enumerate().map(|(m, s)| s / (n - m) as f64).collect()
}

/// ⟨ΔX_i·ΔX_j⟩(m) for every pair i ≤ j of the given series, in the order of
/// [`pair_index`]: S spectra and S(S+1)/2 inverse transforms.
pub fn cross_msd_matrix(series: &[&Series]) -> Vec<Vec<f64>> {
    let Some(first) = series.first() else { return Vec::new() };
    let plan = FftPlan::new(first.len());
    let centred: Vec<Vec<[f64; 3]>> = series.iter().map(|s| centred(s)).collect();
    let spec: Vec<Vec<Vec<Complex64>>> = centred.iter().map(|s| spectra(&plan, s)).collect();
    let s = series.len();
    let mut out = Vec::with_capacity(s * (s + 1) / 2);
    for i in 0..s {
        for j in i..s {
            out.push(cross_msd_from(&plan, &centred[i], &centred[j], &spec[i], &spec[j]));
        }
    }
    out
}

/// Index of the pair (i, j), i ≤ j, among the S(S+1)/2 pairs of S series in row order.
pub fn pair_index(i: usize, j: usize, s: usize) -> usize {
    let (i, j) = if i <= j { (i, j) } else { (j, i) };
    i * (2 * s - i + 1) / 2 + (j - i)
}

/// The summed mean squared displacement of many series (atoms) of the same length:
/// Σ_a MSD_a(m) = 1/(N−m) Σ_k [D(k+m) + D(k)] − 2/(N−m)·IFFT(Σ_a |F_a|²)(m), with
/// D(k) = Σ_a |r_a(k)|². Series are added two at a time (their six components packed into
/// three complex transforms) and the sums are kept in fixed point, so the result has the
/// same bits whichever partition of the series over threads or ranks added them, provided
/// the same pairs are added together.
#[derive(Debug, Clone)]
pub struct SelfSpectrum {
    n: usize,
    scale_power: f64,
    scale_square: f64,
    power: Vec<i128>,
    squares: Vec<i128>,
    n_series: u64,
    /// Work space of the transforms, kept between pairs (not part of the sum).
    buf: Vec<Complex64>,
    scratch: Vec<Complex64>,
    pair_power: Vec<f64>,
}

/// Fills `buf` with re + i·im from component `c` of a series (absent: zeros) and zeros
/// after the series' end.
fn fill_packed(buf: &mut [Complex64], re: Option<(&Series, usize)>, im: Option<(&Series, usize)>) {
    let zero = Complex64::new(0.0, 0.0);
    let n = match (re, im) {
        (Some((s, _)), _) | (None, Some((s, _))) => s.len(),
        (None, None) => 0,
    };
    let (head, tail) = buf.split_at_mut(n);
    match (re, im) {
        (Some((a, c)), Some((b, d))) => {
            for ((z, x), y) in head.iter_mut().zip(a).zip(b) {
                *z = Complex64::new(x[c], y[d]);
            }
        }
        (Some((a, c)), None) => {
            for (z, x) in head.iter_mut().zip(a) {
                *z = Complex64::new(x[c], 0.0);
            }
        }
        (None, Some((b, d))) => {
            for (z, y) in head.iter_mut().zip(b) {
                *z = Complex64::new(0.0, y[d]);
            }
        }
        (None, None) => {}
    }
    tail.fill(zero);
}

impl SelfSpectrum {
    /// An empty sum for series of `plan.n_frames()` frames whose centred components are at
    /// most `bound` in magnitude, of which at most `max_series` will be added in total
    /// (over every rank).
    pub fn new(plan: &FftPlan, bound: f64, max_series: u64) -> Self {
        let n = plan.n_frames() as f64;
        let series = max_series.max(1) as f64;
        let power_bound = series * 3.0 * (2.0 * n * bound).powi(2);
        let square_bound = series * 3.0 * n * bound * bound;
        Self {
            n: plan.n_frames(),
            scale_power: (2.0f64).powi(-fixed_exponent(power_bound)),
            scale_square: (2.0f64).powi(-fixed_exponent(square_bound)),
            power: vec![0; plan.padded_len()],
            squares: vec![0; plan.n_frames()],
            n_series: 0,
            buf: Vec::new(),
            scratch: Vec::new(),
            pair_power: Vec::new(),
        }
    }

    /// Adds the centred series `a` and, if given, `b` (a pair of atoms).
    pub fn add_pair(&mut self, plan: &FftPlan, a: &Series, b: Option<&Series>) {
        assert_eq!(a.len(), self.n);
        if let Some(b) = b {
            assert_eq!(b.len(), self.n);
        }
        let n = self.n;
        let packs: [[(usize, usize); 2]; 3] = [[(0, 0), (0, 1)], [(0, 2), (1, 0)], [(1, 1), (1, 2)]];
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(plan.padded_len(), Complex64::new(0.0, 0.0));
        // The pair's power, its packs summed in pack order, is what goes to fixed point
        // (once per frequency and pair: the pair is the unit of every decomposition).
        self.pair_power.clear();
        self.pair_power.resize(plan.padded_len(), 0.0);
        for pack in packs {
            if b.is_none() && pack.iter().all(|p| p.0 == 1) {
                continue;
            }
            let source = |(which, c): (usize, usize)| if which == 0 { Some((a, c)) } else { b.map(|b| (b, c)) };
            // The same values as forward_packed's: the series, then zeros.
            fill_packed(&mut buf, source(pack[0]), source(pack[1]));
            plan.forward_in_place(&mut buf, &mut self.scratch);
            for (p, z) in self.pair_power.iter_mut().zip(&buf) {
                *p += z.norm_sqr();
            }
        }
        for (w, &p) in self.power.iter_mut().zip(&self.pair_power) {
            *w += to_fixed(p, self.scale_power);
        }
        self.buf = buf;
        for k in 0..n {
            let mut s = dot(&a[k], &a[k]);
            if let Some(b) = b {
                s += dot(&b[k], &b[k]);
            }
            self.squares[k] += to_fixed(s, self.scale_square);
        }
        self.n_series += 1 + u64::from(b.is_some());
    }

    /// Adds another partial sum (same plan and bound).
    pub fn merge(&mut self, other: &SelfSpectrum) {
        for (a, b) in self.power.iter_mut().zip(&other.power) {
            *a += b;
        }
        for (a, b) in self.squares.iter_mut().zip(&other.squares) {
            *a += b;
        }
        self.n_series += other.n_series;
    }

    /// The raw words (power spectrum, then squares), for summing over ranks.
    pub fn words_mut(&mut self) -> (&mut [i128], &mut [i128], &mut u64) {
        (&mut self.power, &mut self.squares, &mut self.n_series)
    }

    /// Number of series added.
    pub fn n_series(&self) -> u64 {
        self.n_series
    }

    /// Σ over the series of Σ_k r(k)·r(k+m), from the summed power spectrum.
    fn lagged_sum(&self, plan: &FftPlan) -> Vec<f64> {
        let len = self.power.len();
        // The packed transforms give |A|² + |B|² only after symmetrising k and −k.
        let spectrum: Vec<f64> = (0..len)
            .map(|k| {
                let j = (len - k) % len;
                0.5 * (self.power[k] as f64 + self.power[j] as f64) / self.scale_power
            })
            .collect();
        plan.inverse_real(&spectrum)
    }

    /// Σ over the series of the correlation C(m) = 1/(N−m) Σ_k r(k)·r(k+m), m = 0..N−1
    /// (for velocities: the summed velocity autocorrelation).
    pub fn correlation_sum(&self, plan: &FftPlan) -> Vec<f64> {
        self.lagged_sum(plan).iter().enumerate().map(|(m, s)| s / (self.n - m) as f64).collect()
    }

    /// Σ over the series of MSD(m), m = 0..N−1.
    pub fn msd_sum(&self, plan: &FftPlan) -> Vec<f64> {
        let lagged = self.lagged_sum(plan);
        let d: Vec<f64> = self.squares.iter().map(|&w| w as f64 / self.scale_square).collect();
        let sums = PrefixSums::new(&d);
        (0..self.n).map(|m| (sums.window_sum(m) - 2.0 * lagged[m]) / (self.n - m) as f64).collect()
    }
}

/// The direct O(N²) definitions, the reference the FFT forms are tested against.
pub mod direct {
    use super::{dot, Series};

    /// ⟨ΔA·ΔB⟩(m) summed over windows as defined.
    pub fn cross_msd(a: &Series, b: &Series) -> Vec<f64> {
        let n = a.len();
        (0..n)
            .map(|m| {
                let mut s = 0.0;
                for k in 0..n - m {
                    let da = [a[k + m][0] - a[k][0], a[k + m][1] - a[k][1], a[k + m][2] - a[k][2]];
                    let db = [b[k + m][0] - b[k][0], b[k + m][1] - b[k][1], b[k + m][2] - b[k][2]];
                    s += dot(&da, &db);
                }
                s / (n - m) as f64
            })
            .collect()
    }

    /// C_AB(m) = 1/(N−m) Σ_k A(k)·B(k+m) as defined.
    pub fn correlation(a: &Series, b: &Series) -> Vec<f64> {
        let n = a.len();
        (0..n).map(|m| (0..n - m).map(|k| dot(&a[k], &b[k + m])).sum::<f64>() / (n - m) as f64).collect()
    }
}

#[cfg(test)]
mod conversion_tests {
    use super::integral_to_i128;

    #[test]
    fn integral_conversion_is_the_plain_cast() {
        let mut values = vec![0.0, -0.0, 1.0, -1.0, 2.0, 1e15, -1e15, 2f64.powi(52), 2f64.powi(53) + 2.0, f64::NAN];
        for e in [52, 53, 62, 63, 64, 100, 126, 127, 128, 200, 1023] {
            let p = 2f64.powi(e);
            values.extend([p, -p, p * 1.5, -p * 1.5, p * (1.0 - f64::EPSILON / 2.0)]);
        }
        values.extend([f64::MAX, f64::MIN, f64::INFINITY, f64::NEG_INFINITY]);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = f64::from_bits(state);
            values.push(x.round());
            values.push((x * 1e-200).round());
        }
        for y in values {
            let y = y.round();
            assert_eq!(integral_to_i128(y), y as i128, "{y:e}");
        }
    }
}
