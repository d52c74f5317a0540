use crate::{PairFunction, PotentialError};
use calcine_core::SpeciesId;

/// Lennard-Jones 12-6: u(r) = 4ε[(σ/r)¹² − (σ/r)⁶] − u(r_c) if shifted, zero beyond r_c
/// (LAMMPS `pair_style lj/cut`, with `pair_modify shift yes` for the shift).
///
/// Parameters are per species pair; pairs not given explicitly are mixed geometrically
/// (ε_ij = √(ε_i ε_j), σ_ij = √(σ_i σ_j)), LAMMPS's default for `lj/cut`.
#[derive(Debug, Clone)]
pub struct LennardJones {
    n_species: usize,
    epsilon: Vec<f64>,
    sigma: Vec<f64>,
    cutoff: Vec<f64>,
    offset: Vec<f64>,
    max_cutoff: f64,
}

impl LennardJones {
    /// One (ε, σ, r_c) per species pair, indexed `[i * n + j]`, symmetric.
    pub fn new(n_species: usize, pairs: &[(usize, usize, f64, f64, f64)], shift: bool) -> Result<Self, PotentialError> {
        let n = n_species;
        let mut epsilon = vec![f64::NAN; n * n];
        let mut sigma = vec![f64::NAN; n * n];
        let mut cutoff = vec![f64::NAN; n * n];
        for &(i, j, eps, sig, rc) in pairs {
            if i >= n || j >= n {
                return Err(PotentialError::Config(format!(
                    "lj: species index {i} or {j} out of range (there are {n})"
                )));
            }
            if !(eps >= 0.0 && sig > 0.0 && rc > 0.0) {
                return Err(PotentialError::Config(format!(
                    "lj: need epsilon >= 0, sigma > 0, cutoff > 0 (got {eps}, {sig}, {rc})"
                )));
            }
            for (a, b) in [(i, j), (j, i)] {
                epsilon[a * n + b] = eps;
                sigma[a * n + b] = sig;
                cutoff[a * n + b] = rc;
            }
        }
        for i in 0..n {
            for j in 0..n {
                if epsilon[i * n + j].is_nan() {
                    let (ii, jj) = (i * n + i, j * n + j);
                    if epsilon[ii].is_nan() || epsilon[jj].is_nan() {
                        return Err(PotentialError::Config(format!(
                            "lj: no parameters for species pair ({i}, {j}) and none to mix from"
                        )));
                    }
                    epsilon[i * n + j] = (epsilon[ii] * epsilon[jj]).sqrt();
                    sigma[i * n + j] = (sigma[ii] * sigma[jj]).sqrt();
                    cutoff[i * n + j] = cutoff[ii].max(cutoff[jj]);
                }
            }
        }
        let mut lj = Self { n_species: n, epsilon, sigma, cutoff, offset: vec![0.0; n * n], max_cutoff: 0.0 };
        lj.max_cutoff = lj.cutoff.iter().cloned().fold(0.0, f64::max);
        if shift {
            for k in 0..n * n {
                lj.offset[k] = lj.raw(k, lj.cutoff[k]).0;
            }
        }
        Ok(lj)
    }

    #[inline]
    fn raw(&self, k: usize, r: f64) -> (f64, f64) {
        let sr6 = (self.sigma[k] / r).powi(6);
        let eps4 = 4.0 * self.epsilon[k];
        let u = eps4 * (sr6 * sr6 - sr6);
        let du = -eps4 * (12.0 * sr6 * sr6 - 6.0 * sr6) / r;
        (u, du)
    }
}

impl PairFunction for LennardJones {
    fn name(&self) -> &str {
        "lj"
    }
    fn cutoff(&self, si: SpeciesId, sj: SpeciesId) -> f64 {
        self.cutoff[si.index() * self.n_species + sj.index()]
    }
    fn max_cutoff(&self) -> f64 {
        self.max_cutoff
    }
    #[inline]
    fn energy_and_derivative(&self, si: SpeciesId, sj: SpeciesId, r: f64) -> (f64, f64) {
        let k = si.index() * self.n_species + sj.index();
        let (u, du) = self.raw(k, r);
        (u - self.offset[k], du)
    }
}

/// Ziegler–Biersack–Littmark universal screened nuclear repulsion with LAMMPS's smooth
/// switching to zero between `inner` and `outer` (LAMMPS `pair_style zbl inner outer`).
///
/// u(r) = K Z_i Z_j / r · φ(r/a) + S(r), a = 0.46850 / (Z_i^0.23 + Z_j^0.23),
/// φ(x) = 0.18175 e^(−3.19980x) + 0.50986 e^(−0.94229x) + 0.28022 e^(−0.40290x) + 0.02817 e^(−0.20162x),
/// with S(r) = A/3 t³ + B/4 t⁴ + C (t = r − inner) chosen so that u, u′ and u″ vanish at
/// `outer`, and K = 14.399645 eV·Å (LAMMPS `qqr2e` in metal units).
/// J. F. Ziegler, J. P. Biersack, U. Littmark, *The Stopping and Range of Ions in Solids* (1985).
#[derive(Debug, Clone)]
pub struct Zbl {
    n_species: usize,
    inner: f64,
    outer: f64,
    params: Vec<ZblPair>,
}

#[derive(Debug, Clone, Copy, Default)]
struct ZblPair {
    d: [f64; 4],
    zze: f64,
    sw1: f64,
    sw2: f64,
    sw3: f64,
    sw4: f64,
    sw5: f64,
}

const PZBL: f64 = 0.23;
const A0: f64 = 0.46850;
const C: [f64; 4] = [0.02817, 0.28022, 0.50986, 0.18175];
const D: [f64; 4] = [0.20162, 0.40290, 0.94229, 3.19980];

impl Zbl {
    /// `z[i]` is the nuclear charge of species `i`.
    pub fn new(z: &[f64], inner: f64, outer: f64) -> Result<Self, PotentialError> {
        if !(inner > 0.0 && outer > inner) {
            return Err(PotentialError::Config(format!("zbl: need 0 < inner < outer (got {inner}, {outer})")));
        }
        let n = z.len();
        let mut params = vec![ZblPair::default(); n * n];
        for i in 0..n {
            for j in 0..n {
                params[i * n + j] = Self::pair(z[i], z[j], inner, outer);
            }
        }
        Ok(Self { n_species: n, inner, outer, params })
    }

    fn pair(zi: f64, zj: f64, inner: f64, outer: f64) -> ZblPair {
        let ainv = (zi.powf(PZBL) + zj.powf(PZBL)) / A0;
        let mut p = ZblPair { d: D.map(|d| d * ainv), zze: zi * zj * calcine_core::units::QQR2E, ..Default::default() };
        let tc = outer - inner;
        let fc = p.e(outer);
        let fcp = p.dedr(outer);
        let fcpp = p.d2edr2(outer);
        let swa = (-3.0 * fcp + tc * fcpp) / (tc * tc);
        let swb = (2.0 * fcp - tc * fcpp) / (tc * tc * tc);
        let swc = -fc + (tc / 2.0) * fcp - (tc * tc / 12.0) * fcpp;
        p.sw1 = swa;
        p.sw2 = swb;
        p.sw3 = swa / 3.0;
        p.sw4 = swb / 4.0;
        p.sw5 = swc;
        p
    }
}

impl ZblPair {
    #[inline]
    fn terms(&self, r: f64) -> ([f64; 4], f64, f64) {
        let e: [f64; 4] = std::array::from_fn(|k| (-self.d[k] * r).exp());
        let sum = C[0] * e[0] + C[1] * e[1] + C[2] * e[2] + C[3] * e[3];
        let sum_p =
            -C[0] * self.d[0] * e[0] - C[1] * self.d[1] * e[1] - C[2] * self.d[2] * e[2] - C[3] * self.d[3] * e[3];
        (e, sum, sum_p)
    }
    fn e(&self, r: f64) -> f64 {
        self.zze * self.terms(r).1 / r
    }
    #[inline]
    fn dedr(&self, r: f64) -> f64 {
        let rinv = 1.0 / r;
        let (_, sum, sum_p) = self.terms(r);
        self.zze * (sum_p - sum * rinv) * rinv
    }
    fn d2edr2(&self, r: f64) -> f64 {
        let rinv = 1.0 / r;
        let (e, sum, sum_p) = self.terms(r);
        let sum_pp: f64 = (0..4).map(|k| C[k] * e[k] * self.d[k] * self.d[k]).sum();
        self.zze * (sum_pp - 2.0 * sum_p * rinv + 2.0 * sum * rinv * rinv) * rinv
    }
}

impl PairFunction for Zbl {
    fn name(&self) -> &str {
        "zbl"
    }
    fn cutoff(&self, _si: SpeciesId, _sj: SpeciesId) -> f64 {
        self.outer
    }
    fn max_cutoff(&self) -> f64 {
        self.outer
    }
    #[inline]
    fn energy_and_derivative(&self, si: SpeciesId, sj: SpeciesId, r: f64) -> (f64, f64) {
        let p = &self.params[si.index() * self.n_species + sj.index()];
        let rinv = 1.0 / r;
        let (_, sum, sum_p) = p.terms(r);
        let mut u = p.zze * sum * rinv + p.sw5;
        let mut du = p.zze * (sum_p - sum * rinv) * rinv;
        if r > self.inner {
            let t = r - self.inner;
            u += t * t * t * (p.sw3 + p.sw4 * t);
            du += t * t * (p.sw1 + p.sw2 * t);
        }
        (u, du)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_derivative(law: &dyn PairFunction, r0: f64, r1: f64) {
        let s = SpeciesId(0);
        let h = 1e-6;
        let mut r = r0;
        while r < r1 {
            let (_, du) = law.energy_and_derivative(s, s, r);
            let num = (law.energy_and_derivative(s, s, r + h).0 - law.energy_and_derivative(s, s, r - h).0) / (2.0 * h);
            assert!((du - num).abs() < 1e-6 * (1.0 + du.abs()), "{} at r={r}: {du} vs {num}", law.name());
            r += 0.037;
        }
    }

    #[test]
    fn lj_minimum_and_shift() {
        let lj = LennardJones::new(1, &[(0, 0, 0.0103, 3.4, 8.5)], true).unwrap();
        let rmin = 2f64.powf(1.0 / 6.0) * 3.4;
        let (_, du) = lj.energy_and_derivative(SpeciesId(0), SpeciesId(0), rmin);
        assert!(du.abs() < 1e-14);
        assert!(lj.energy_and_derivative(SpeciesId(0), SpeciesId(0), 8.5).0.abs() < 1e-18);
        check_derivative(&lj, 3.0, 8.4);
    }

    #[test]
    fn zbl_is_smooth_at_outer_and_derivative_consistent() {
        let zbl = Zbl::new(&[73.0], 4.0, 4.8).unwrap();
        let (u, du) = zbl.energy_and_derivative(SpeciesId(0), SpeciesId(0), 4.8 - 1e-9);
        assert!(u.abs() < 1e-12 && du.abs() < 1e-9, "{u} {du}");
        check_derivative(&zbl, 0.5, 4.79);
    }
}
