//! Sine and cosine of several arguments at once, for the radial terms of a batch of
//! neighbors (two angles per neighbor: LAMMPS's θ0 and the switching function's).
//!
//! libm's `sincos` takes one argument per call and branches on its size; here every lane
//! runs the same straight-line code, so the compiler keeps all lanes in one vector
//! register. The method is the classic one (as in Cephes and in Muller, *Elementary
//! Functions*, ch. 11): reduce by multiples of π/4 with π/4 split into three parts
//! (Cody–Waite, so that the reduction is exact for the multiples that occur), then
//! evaluate minimax polynomials of degree 13 (sine) and 14 (cosine) on [−π/4, π/4]
//! (coefficients of Moshier's Cephes library). Results agree with a correctly rounded
//! sine and cosine to within one unit in the last place on |x| ≤ [`REDUCED_UP_TO`]
//! (tested against libm); lanes beyond that, and non-finite ones, take libm's answer.

/// The largest |x| the three-part reduction handles exactly enough (the number of π/4
/// steps stays below 2²⁰, well within the bits that the split's first two parts leave free).
pub(crate) const REDUCED_UP_TO: f64 = 8.0e5;

/// π/4 = P1 + P2 + P3, P1 and P2 with trailing zero bits so that k·P1 and k·P2 are exact.
const P1: f64 = 0.7853981256484985;
const P2: f64 = 3.774894707930798e-08;
const P3: f64 = 2.6951514290790595e-15;
const FOUR_OVER_PI: f64 = 1.2732395447351628;

/// sin z = z + z³·S(z²) on |z| ≤ π/4, S's coefficients from the highest power down.
const SIN: [f64; 6] = [
    1.5896230157654656e-10,
    -2.5050747762857807e-08,
    2.7557313621385722e-06,
    -0.0001984126982958954,
    0.008333333333322118,
    -0.1666666666666663,
];
/// cos z = 1 − z²/2 + z⁴·C(z²) on |z| ≤ π/4.
const COS: [f64; 6] = [
    -1.1358536521387682e-11,
    2.087570084197473e-09,
    -2.755731417929674e-07,
    2.4801587288851704e-05,
    -0.0013888888888873056,
    0.041666666666666595,
];

#[inline(always)]
fn horner(c: &[f64; 6], x: f64) -> f64 {
    c.iter().fold(0.0, |acc, &k| acc * x + k)
}

/// (sin x, cos x) for every lane.
#[inline]
pub(crate) fn sin_cos<const N: usize>(x: [f64; N]) -> ([f64; N], [f64; N]) {
    let mut s = [0.0; N];
    let mut c = [0.0; N];
    for l in 0..N {
        let a = x[l].abs();
        // The even multiple k of π/4 nearest below or at a, rounded up to even, so that
        // z = a − k·π/4 lies in [−π/4, π/4]; k/2 mod 4 is the quadrant. The clamp keeps
        // the conversion defined for the lanes that libm answers below.
        let octant = (a.min(REDUCED_UP_TO) * FOUR_OVER_PI) as i64;
        let k = octant + (octant & 1);
        let kf = k as f64;
        let z = ((a - kf * P1) - kf * P2) - kf * P3;
        let zz = z * z;
        let sin_z = z + z * (zz * horner(&SIN, zz));
        let cos_z = 1.0 - 0.5 * zz + zz * zz * horner(&COS, zz);
        let quadrant = (k >> 1) & 3;
        let (sv, cv) = if quadrant & 1 == 1 { (cos_z, sin_z) } else { (sin_z, cos_z) };
        // sin is negative in quadrants 2 and 3 (and for negative x), cos in 1 and 2.
        let sv = if (quadrant >= 2) != (x[l] < 0.0) { -sv } else { sv };
        let cv = if quadrant == 1 || quadrant == 2 { -cv } else { cv };
        s[l] = sv;
        c[l] = cv;
    }
    for l in 0..N {
        // Not `a ≤ REDUCED_UP_TO`: NaN lanes go to libm as well.
        if !(x[l].abs() <= REDUCED_UP_TO) {
            (s[l], c[l]) = x[l].sin_cos();
        }
    }
    (s, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place of the larger of the two magnitudes.
    fn ulps(a: f64, b: f64) -> f64 {
        let scale = a.abs().max(b.abs()).max(f64::MIN_POSITIVE);
        let ulp = f64::from_bits(scale.to_bits() + 1) - scale;
        (a - b).abs() / ulp
    }

    #[test]
    fn sine_and_cosine_agree_with_libm_to_an_ulp() {
        // Dense on [0, π] (the angles SNAP takes), sparse beyond, both signs, the
        // octant boundaries, and the lanes libm answers.
        let mut xs: Vec<f64> = (0..=400_000).map(|k| k as f64 * std::f64::consts::PI / 400_000.0).collect();
        xs.extend((0..20_000).map(|k| -50.0 + k as f64 * 0.0050003));
        xs.extend((1..64).map(|k| k as f64 * std::f64::consts::FRAC_PI_4));
        xs.extend([1e-300, 5e-324, 1e-8, 1e3, 1e5, REDUCED_UP_TO, 1e6, 1e300, f64::INFINITY]);
        let negated: Vec<f64> = xs.iter().map(|x| -x).collect();
        xs.extend(negated);
        let mut worst: f64 = 0.0;
        for chunk in xs.chunks(8) {
            let mut lanes = [0.0; 8];
            lanes[..chunk.len()].copy_from_slice(chunk);
            let (s, c) = sin_cos(lanes);
            for (l, &x) in chunk.iter().enumerate() {
                // The cosine's error is relative to 1 where it is small only near odd
                // multiples of π/2; an absolute error of an ulp of 1 bounds both there.
                let (ls, lc) = x.sin_cos();
                let es = ulps(s[l], ls).min((s[l] - ls).abs() / f64::EPSILON);
                let ec = ulps(c[l], lc).min((c[l] - lc).abs() / f64::EPSILON);
                if x.is_finite() {
                    worst = worst.max(es).max(ec);
                    assert!(es <= 1.0 && ec <= 1.0, "x = {x:e}: sin {} vs {ls}, cos {} vs {lc}", s[l], c[l]);
                } else {
                    assert!(s[l].is_nan() && c[l].is_nan(), "x = {x}");
                }
            }
        }
        assert!(worst > 0.0, "the polynomials differ from libm somewhere; a zero means libm answered");
        let (s, c) = sin_cos([f64::NAN, 0.0]);
        assert!(s[0].is_nan() && c[0].is_nan());
        assert_eq!((s[1], c[1]), (0.0, 1.0));
    }
}
