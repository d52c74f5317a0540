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

    /// Y_lm for m ≥ 0 at the unit vector (x, y, z), without gradients: the same values
    /// [`Harmonics::compute`] gives, for the density pass.
    pub fn compute_values(&self, rx: f64, ry: f64, rz: f64, p: &mut [f64], y: &mut [Complex]) {
        let lmax = self.lmax;
        p[0] = 1.0;
        if lmax > 0 {
            p[lm(1, 0)] = SQ3 * rz;
            p[lm(1, 1)] = -SQ3O2;
            for l in 2..=lmax {
                for m in 0..l - 1 {
                    let (a, b) = (self.a[lm(l, m)], self.b[lm(l, m)]);
                    p[lm(l, m)] = a * (rz * p[lm(l - 1, m)] + b * p[lm(l - 2, m)]);
                }
                let t = self.d[l] * p[lm(l - 1, l - 1)];
                p[lm(l, l - 1)] = t * rz;
                p[lm(l, l)] = self.c[l] * p[lm(l - 1, l - 1)];
            }
        }
        for l in 0..=lmax {
            y[lm(l, 0)] = Complex::new(p[lm(l, 0)], 0.0);
        }
        for l in 1..=lmax {
            let k = lm(l, 1);
            y[k] = Complex::new(rx * p[k], ry * p[k]);
        }
        let phase = Complex::new(rx, ry);
        let mut phasem = phase;
        for m in 2..=lmax {
            phasem = phasem * phase;
            for l in m..=lmax {
                let k = lm(l, m);
                y[k] = Complex::new(phasem.re * p[k], phasem.im * p[k]);
            }
        }
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
}
