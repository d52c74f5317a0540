//! Complex spherical harmonics of a unit vector, normalised as ML-PACE does (Y_00 = 1,
//! i.e. √(4π) times the orthonormal ones, with the Condon–Shortley phase), for m ≥ 0
//! (Y_{l,−m} = (−1)^m conj Y_lm), and their gradients with respect to the unit vector
//! projected on the tangent plane (so that ∇_x Y(x/|x|) = dY/|x|).
//!
//! They are built as ML-PACE's `ACECartesianSphericalHarmonics` builds them: the
//! associated Legendre functions without the sin^m θ factor, P̄_lm(z), by the recursion
//! P̄_lm = a_lm (z P̄_{l−1,m} + b_lm P̄_{l−2,m}) with a_lm = √((4l² − 1)/(l² − m²)),
//! b_lm = −√(((l−1)² − m²)/(4(l−1)² − 1)), P̄_{l,l−1} = √(2l+1) z P̄_{l−1,l−1},
//! P̄_ll = −√(1 + 1/(2l)) P̄_{l−1,l−1}, from P̄_00 = 1, P̄_10 = √3 z, P̄_11 = −√(3/2); then
//! Y_lm = (x + iy)^m P̄_lm(z).

use crate::complex::Complex;

/// √3 and √(3/2) as ML-PACE writes them (`ace_types.h`).
#[allow(clippy::excessive_precision)]
const SQ3: f64 = 1.73205080756887719318;
#[allow(clippy::excessive_precision)]
const SQ3O2: f64 = 1.22474487139158894067;

/// Index of (l, m), 0 ≤ m ≤ l, in the arrays of one l-triangle.
#[inline]
pub const fn lm(l: usize, m: usize) -> usize {
    l * (l + 1) / 2 + m
}

/// Number of (l, m ≥ 0) up to lmax.
#[inline]
pub const fn n_lm(lmax: usize) -> usize {
    (lmax + 1) * (lmax + 2) / 2
}

/// The recursion coefficients up to lmax.
#[derive(Debug, Clone)]
pub struct Harmonics {
    pub lmax: usize,
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    d: Vec<f64>,
}

impl Harmonics {
    pub fn new(lmax: usize) -> Self {
        let mut a = vec![0.0; n_lm(lmax)];
        let mut b = vec![0.0; n_lm(lmax)];
        let mut c = vec![0.0; lmax + 1];
        let mut d = vec![0.0; lmax + 1];
        for l in 1..=lmax {
            let lsq = (l * l) as f64;
            let ld = (2 * l) as f64;
            let l1 = 4.0 * lsq - 1.0;
            let l2 = lsq - ld + 1.0;
            for m in 0..(l.saturating_sub(1)) {
                let msq = (m * m) as f64;
                a[lm(l, m)] = (l1 / (lsq - msq)).sqrt();
                b[lm(l, m)] = -((l2 - msq) / (4.0 * l2 - 1.0)).sqrt();
            }
            c[l] = -(1.0 + 0.5 / l as f64).sqrt();
            d[l] = ((2 * (l - 1) + 3) as f64).sqrt();
        }
        Self { lmax, a, b, c, d }
    }

    /// Y_lm and their tangential gradients dY_lm (x, y, z components) for m ≥ 0 at the unit
    /// vector (x, y, z); `y` and `dy` hold `n_lm(lmax)` entries.
    pub fn compute(
        &self,
        rx: f64,
        ry: f64,
        rz: f64,
        p: &mut [f64],
        dp: &mut [f64],
        y: &mut [Complex],
        dy: &mut [[Complex; 3]],
    ) {
        let lmax = self.lmax;
        p[0] = 1.0;
        dp[0] = 0.0;
        if lmax > 0 {
            p[lm(1, 0)] = SQ3 * rz;
            dp[lm(1, 0)] = SQ3;
            p[lm(1, 1)] = -SQ3O2;
            dp[lm(1, 1)] = 0.0;
            for l in 2..=lmax {
                for m in 0..l - 1 {
                    let (a, b) = (self.a[lm(l, m)], self.b[lm(l, m)]);
                    p[lm(l, m)] = a * (rz * p[lm(l - 1, m)] + b * p[lm(l - 2, m)]);
                    dp[lm(l, m)] = a * (p[lm(l - 1, m)] + rz * dp[lm(l - 1, m)] + b * dp[lm(l - 2, m)]);
                }
                let t = self.d[l] * p[lm(l - 1, l - 1)];
                p[lm(l, l - 1)] = t * rz;
                dp[lm(l, l - 1)] = t;
                p[lm(l, l)] = self.c[l] * p[lm(l - 1, l - 1)];
                dp[lm(l, l)] = 0.0;
            }
        }
        for l in 0..=lmax {
            let k = lm(l, 0);
            y[k] = Complex::new(p[k], 0.0);
            let dyz = dp[k];
            let rdy = dyz * rz;
            dy[k] = [Complex::new(-rdy * rx, 0.0), Complex::new(-rdy * ry, 0.0), Complex::new(dyz - rdy * rz, 0.0)];
        }
        for l in 1..=lmax {
            let k = lm(l, 1);
            y[k] = Complex::new(rx * p[k], ry * p[k]);
            let (dyx_re, dyy_im) = (p[k], p[k]);
            let dyz = Complex::new(rx * dp[k], ry * dp[k]);
            let rdy_re = rx * dyx_re + rz * dyz.re;
            let rdy_im = ry * dyy_im + rz * dyz.im;
            dy[k] = [
                Complex::new(dyx_re - rdy_re * rx, -rdy_im * rx),
                Complex::new(-rdy_re * ry, dyy_im - rdy_im * ry),
                Complex::new(dyz.re - rdy_re * rz, dyz.im - rdy_im * rz),
            ];
        }
        let phase = Complex::new(rx, ry);
        let mut phasem = phase;
        for m in 2..=lmax {
            let mphasem1 = phasem.scale(m as f64);
            phasem = phasem * phase;
            for l in m..=lmax {
                let k = lm(l, m);
                y[k] = Complex::new(phasem.re * p[k], phasem.im * p[k]);
                let dyx = mphasem1.scale(p[k]);
                let dyy = Complex::new(-dyx.im, dyx.re);
                let dyz = phasem.scale(dp[k]);
                let rdy_re = rx * dyx.re + ry * dyy.re + rz * dyz.re;
                let rdy_im = rx * dyx.im + ry * dyy.im + rz * dyz.im;
                dy[k] = [
                    Complex::new(dyx.re - rdy_re * rx, dyx.im - rdy_im * rx),
                    Complex::new(dyy.re - rdy_re * ry, dyy.im - rdy_im * ry),
                    Complex::new(dyz.re - rdy_re * rz, dyz.im - rdy_im * rz),
                ];
            }
        }
    }

    /// [`Harmonics::compute`] for `N` unit vectors at once, one per SIMD lane: every lane
    /// does the scalar routine's operations in the same order, so each lane's values have
    /// the same bits as a call of `compute` on that vector alone, whatever the other lanes
    /// hold. `p` and `dp` are scratch of `n_lm(lmax)` entries; `out` holds `8·n_lm(lmax)`:
    /// the blocks [`Y_RE`], [`Y_IM`], [`DX_RE`], [`DX_IM`], [`DY_RE`], [`DY_IM`], [`DZ_RE`],
    /// [`DZ_IM`] of `n_lm(lmax)` entries each.
    pub fn compute_lanes<const N: usize>(
        &self,
        rx: &[f64; N],
        ry: &[f64; N],
        rz: &[f64; N],
        p: &mut [[f64; N]],
        dp: &mut [[f64; N]],
        out: &mut [[f64; N]],
    ) {
        let lmax = self.lmax;
        let nlm = n_lm(lmax);
        let (p, dp) = (&mut p[..nlm], &mut dp[..nlm]);
        p[0] = [1.0; N];
        dp[0] = [0.0; N];
        if lmax > 0 {
            p[lm(1, 0)] = lanes::<N>(|i| SQ3 * rz[i]);
            dp[lm(1, 0)] = [SQ3; N];
            p[lm(1, 1)] = [-SQ3O2; N];
            dp[lm(1, 1)] = [0.0; N];
            for l in 2..=lmax {
                for m in 0..l - 1 {
                    let (a, b) = (self.a[lm(l, m)], self.b[lm(l, m)]);
                    let (p1, p2, dp1, dp2) = (p[lm(l - 1, m)], p[lm(l - 2, m)], dp[lm(l - 1, m)], dp[lm(l - 2, m)]);
                    p[lm(l, m)] = lanes::<N>(|i| a * (rz[i] * p1[i] + b * p2[i]));
                    dp[lm(l, m)] = lanes::<N>(|i| a * (p1[i] + rz[i] * dp1[i] + b * dp2[i]));
                }
                let pll = p[lm(l - 1, l - 1)];
                let t = lanes::<N>(|i| self.d[l] * pll[i]);
                p[lm(l, l - 1)] = lanes::<N>(|i| t[i] * rz[i]);
                dp[lm(l, l - 1)] = t;
                p[lm(l, l)] = lanes::<N>(|i| self.c[l] * pll[i]);
                dp[lm(l, l)] = [0.0; N];
            }
        }
        let (y_re, rest) = out[..8 * nlm].split_at_mut(nlm);
        let (y_im, rest) = rest.split_at_mut(nlm);
        let (dx_re, rest) = rest.split_at_mut(nlm);
        let (dx_im, rest) = rest.split_at_mut(nlm);
        let (dy_re, rest) = rest.split_at_mut(nlm);
        let (dy_im, rest) = rest.split_at_mut(nlm);
        let (dz_re, dz_im) = rest.split_at_mut(nlm);
        for l in 0..=lmax {
            let k = lm(l, 0);
            let (pk, dyz) = (p[k], dp[k]);
            let rdy = lanes::<N>(|i| dyz[i] * rz[i]);
            y_re[k] = pk;
            y_im[k] = [0.0; N];
            dx_re[k] = lanes::<N>(|i| -rdy[i] * rx[i]);
            dx_im[k] = [0.0; N];
            dy_re[k] = lanes::<N>(|i| -rdy[i] * ry[i]);
            dy_im[k] = [0.0; N];
            dz_re[k] = lanes::<N>(|i| dyz[i] - rdy[i] * rz[i]);
            dz_im[k] = [0.0; N];
        }
        for l in 1..=lmax {
            let k = lm(l, 1);
            let (pk, dpk) = (p[k], dp[k]);
            y_re[k] = lanes::<N>(|i| rx[i] * pk[i]);
            y_im[k] = lanes::<N>(|i| ry[i] * pk[i]);
            let dyz_re = lanes::<N>(|i| rx[i] * dpk[i]);
            let dyz_im = lanes::<N>(|i| ry[i] * dpk[i]);
            let rdy_re = lanes::<N>(|i| rx[i] * pk[i] + rz[i] * dyz_re[i]);
            let rdy_im = lanes::<N>(|i| ry[i] * pk[i] + rz[i] * dyz_im[i]);
            dx_re[k] = lanes::<N>(|i| pk[i] - rdy_re[i] * rx[i]);
            dx_im[k] = lanes::<N>(|i| -rdy_im[i] * rx[i]);
            dy_re[k] = lanes::<N>(|i| -rdy_re[i] * ry[i]);
            dy_im[k] = lanes::<N>(|i| pk[i] - rdy_im[i] * ry[i]);
            dz_re[k] = lanes::<N>(|i| dyz_re[i] - rdy_re[i] * rz[i]);
            dz_im[k] = lanes::<N>(|i| dyz_im[i] - rdy_im[i] * rz[i]);
        }
        let (mut ph_re, mut ph_im) = (*rx, *ry);
        for m in 2..=lmax {
            let mf = m as f64;
            let (mph_re, mph_im) = (lanes::<N>(|i| ph_re[i] * mf), lanes::<N>(|i| ph_im[i] * mf));
            (ph_re, ph_im) = (
                lanes::<N>(|i| ph_re[i] * rx[i] - ph_im[i] * ry[i]),
                lanes::<N>(|i| ph_re[i] * ry[i] + ph_im[i] * rx[i]),
            );
            for l in m..=lmax {
                let k = lm(l, m);
                let (pk, dpk) = (p[k], dp[k]);
                y_re[k] = lanes::<N>(|i| ph_re[i] * pk[i]);
                y_im[k] = lanes::<N>(|i| ph_im[i] * pk[i]);
                let dyx_re = lanes::<N>(|i| mph_re[i] * pk[i]);
                let dyx_im = lanes::<N>(|i| mph_im[i] * pk[i]);
                // dY/dy = i·dY/dx.
                let (dyy_re, dyy_im) = (lanes::<N>(|i| -dyx_im[i]), dyx_re);
                let dyz_re = lanes::<N>(|i| ph_re[i] * dpk[i]);
                let dyz_im = lanes::<N>(|i| ph_im[i] * dpk[i]);
                let rdy_re = lanes::<N>(|i| rx[i] * dyx_re[i] + ry[i] * dyy_re[i] + rz[i] * dyz_re[i]);
                let rdy_im = lanes::<N>(|i| rx[i] * dyx_im[i] + ry[i] * dyy_im[i] + rz[i] * dyz_im[i]);
                dx_re[k] = lanes::<N>(|i| dyx_re[i] - rdy_re[i] * rx[i]);
                dx_im[k] = lanes::<N>(|i| dyx_im[i] - rdy_im[i] * rx[i]);
                dy_re[k] = lanes::<N>(|i| dyy_re[i] - rdy_re[i] * ry[i]);
                dy_im[k] = lanes::<N>(|i| dyy_im[i] - rdy_im[i] * ry[i]);
                dz_re[k] = lanes::<N>(|i| dyz_re[i] - rdy_re[i] * rz[i]);
                dz_im[k] = lanes::<N>(|i| dyz_im[i] - rdy_im[i] * rz[i]);
            }
        }
    }
}

/// The blocks of [`Harmonics::compute_lanes`]'s output: Y and the x, y, z components of
/// its gradient, real and imaginary parts.
pub const Y_RE: usize = 0;
pub const Y_IM: usize = 1;
pub const DX_RE: usize = 2;
pub const DX_IM: usize = 3;
pub const DY_RE: usize = 4;
pub const DY_IM: usize = 5;
pub const DZ_RE: usize = 6;
pub const DZ_IM: usize = 7;

/// One value per lane; written so that the compiler turns it into SIMD operations.
#[inline(always)]
pub fn lanes<const N: usize>(f: impl Fn(usize) -> f64) -> [f64; N] {
    std::array::from_fn(f)
}
