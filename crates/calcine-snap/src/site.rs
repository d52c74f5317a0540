//! What an atom's descriptors see: its neighbors inside the pair cutoffs, and the radial
//! functions of each neighbor (the map onto the 3-sphere and the switching functions),
//! with LAMMPS's expressions (`SNA::compute_ui`, `compute_duidrj`, `compute_sfac`,
//! `compute_dsfac`).

use crate::model::SnapModel;
use crate::trig;
use calcine_core::{Atoms, Vec3};
use std::f64::consts::{FRAC_PI_2, PI};

/// The weight w_self of the central atom's own term δ_{ma,mb} in the density (LAMMPS
/// `SNA::wself`).
pub(crate) const W_SELF: f64 = 1.0;

/// The value B_0(j) of every component (j1, j2, j) of an atom without neighbors, which
/// bzeroflag subtracts: w_self³·(j+1), or w_self³ with bnormflag.
#[inline]
pub(crate) fn bzero(model: &SnapModel, j: usize) -> f64 {
    let w3 = W_SELF * W_SELF * W_SELF;
    if model.params.normalize_b {
        w3
    } else {
        w3 * (j + 1) as f64
    }
}

/// One neighbor j of an atom i inside their pair cutoff.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Neighbor {
    pub atom_idx: usize,
    /// x_j − x_i.
    pub d: Vec3,
    pub r: f64,
    /// The pair cutoff r_c = (R_i + R_j)·rcutfac.
    pub cutoff: f64,
    /// w_j, the weight of j's element.
    pub weight: f64,
    /// The density channel j contributes to (its element with chemflag, else 0).
    pub channel: usize,
    /// The means of the two elements' `sinner` and `dinner`, with the inner switch on.
    pub inner: Option<(f64, f64)>,
    /// z0 and dz0/dr ([`z0_and_derivative`]), and the weight w_j·f_c(r) and its derivative
    /// ([`switching`]): evaluated once here for the kernel's density and force passes,
    /// which both need them (four trigonometric calls per neighbor instead of six).
    pub z0: f64,
    pub dz0dr: f64,
    pub sfac: f64,
    pub dsfac: f64,
}

impl Neighbor {
    /// Neighbor j at `d` = x_j − x_i (|d| = `r`) within pair cutoff `cutoff`, with j's
    /// element weight and density channel, and the mean inner switch.
    #[cfg(test)]
    pub(crate) fn new(
        model: &SnapModel,
        atom_idx: usize,
        d: Vec3,
        r: f64,
        cutoff: f64,
        (weight, channel): (f64, usize),
        inner: Option<(f64, f64)>,
    ) -> Self {
        let mut n = Self::without_radial_terms(atom_idx, d, r, cutoff, (weight, channel), inner);
        radial_terms(model, std::slice::from_mut(&mut n));
        n
    }

    /// The neighbor with z0, dz0/dr and the weights still zero, for [`radial_terms`].
    fn without_radial_terms(
        atom_idx: usize,
        d: Vec3,
        r: f64,
        cutoff: f64,
        (weight, channel): (f64, usize),
        inner: Option<(f64, f64)>,
    ) -> Self {
        Neighbor { atom_idx, d, r, cutoff, weight, channel, inner, z0: 0.0, dz0dr: 0.0, sfac: 0.0, dsfac: 0.0 }
    }
}

/// z0, dz0/dr, w_j·f_c and its derivative of every neighbor, with the expressions of
/// [`z0_and_derivative`] and [`switching`] but the sines and cosines of eight neighbors
/// at a time ([`trig::sin_cos`], within an ulp of libm's, which those two call).
///
/// The factors s and k of the angles ([`theta0_of`], [`switch_angle`]) depend only on the
/// pair cutoff, so they are divided out once per run of neighbors with the same cutoff
/// (every neighbor of a one-element potential) instead of four times per neighbor: the
/// same expression on the same cutoff, so the same bits.
pub(crate) fn radial_terms(model: &SnapModel, neighbors: &mut [Neighbor]) {
    const LANES: usize = 8;
    let mut last: Option<(f64, AngleFactors)> = None;
    for chunk in neighbors.chunks_mut(LANES) {
        let mut theta0 = [0.0; LANES];
        let mut switch = [0.0; LANES];
        let mut factors = [AngleFactors { s: 0.0, k: 0.0 }; LANES];
        for (l, n) in chunk.iter().enumerate() {
            let f = match last {
                Some((cutoff, f)) if cutoff == n.cutoff => f,
                _ => {
                    let f = angle_factors(model, n.cutoff);
                    last = Some((n.cutoff, f));
                    f
                }
            };
            factors[l] = f;
            theta0[l] = angle(model, n, f.s);
            switch[l] = angle(model, n, f.k);
        }
        let (sin0, cos0) = trig::sin_cos(theta0);
        let (sin_s, cos_s) = trig::sin_cos(switch);
        for (l, n) in chunk.iter_mut().enumerate() {
            (n.z0, n.dz0dr) = z0_terms(n, (sin0[l], cos0[l]), factors[l].s);
            (n.sfac, n.dsfac) = switching_terms(model, n, (sin_s[l], cos_s[l]), factors[l].k);
        }
    }
}

/// The factors of a pair cutoff's angles: s = rfac0·π/(r_c − rmin0) of θ0 and
/// k = π/(r_c − rmin0) of the switching angle.
#[derive(Debug, Clone, Copy)]
struct AngleFactors {
    s: f64,
    k: f64,
}

#[inline]
fn angle_factors(model: &SnapModel, cutoff: f64) -> AngleFactors {
    let p = &model.params;
    AngleFactors { s: p.rfac0 * PI / (cutoff - p.rmin0), k: PI / (cutoff - p.rmin0) }
}

/// The neighbors of owned atom `i` in its list row `row` (atom indices) that lie inside
/// their pair cutoff (r² < r_c² and r² > 10⁻²⁰, as LAMMPS selects them), in row order.
///
/// The row is read in stretches of [`SELECT`] entries: first the test of every entry,
/// which keeps the passing ones' indices without a branch on the outcome (about half the
/// row passes, in no pattern a predictor could learn), then the neighbors of those.
pub(crate) fn gather(model: &SnapModel, atoms: &Atoms, i: usize, row: &[u32], out: &mut Vec<Neighbor>) {
    const SELECT: usize = 64;
    out.clear();
    let xi = atoms.positions[i];
    let ei = model.species_element[atoms.species[i].index()];
    let element = |j: usize| model.species_element[atoms.species[j].index()];
    let mut kept = [0u32; SELECT];
    for stretch in row.chunks(SELECT) {
        let mut n = 0;
        for &j in stretch {
            let d = atoms.positions[j as usize] - xi;
            let rsq = d.x * d.x + d.y * d.y + d.z * d.z;
            let cutoff = model.pair_cutoff(ei, element(j as usize));
            kept[n] = j;
            n += usize::from((rsq < cutoff * cutoff) & (rsq > 1e-20));
        }
        for &j in &kept[..n] {
            let j = j as usize;
            let d = atoms.positions[j] - xi;
            let rsq = d.x * d.x + d.y * d.y + d.z * d.z;
            let ej = element(j);
            let (a, b) = (&model.elements[ei], &model.elements[ej]);
            let inner = a.inner.zip(b.inner).map(|((si, di), (sj, dj))| (0.5 * (si + sj), 0.5 * (di + dj)));
            let cutoff = model.pair_cutoff(ei, ej);
            out.push(Neighbor::without_radial_terms(j, d, rsq.sqrt(), cutoff, (b.weight, model.channel(ej)), inner));
        }
    }
    radial_terms(model, out);
}

/// The height z0 = r·cot θ0 of the point (x, y, z, z0) that represents a neighbor on the
/// 3-sphere of radius r0 = √(r² + z0²), with θ0 = rfac0·π·(r − rmin0)/(r_c − rmin0)
/// (LAMMPS `compute_ui`).
#[inline]
pub(crate) fn z0(model: &SnapModel, n: &Neighbor) -> f64 {
    let p = &model.params;
    let theta0 = (n.r - p.rmin0) * p.rfac0 * PI / (n.cutoff - p.rmin0);
    n.r / theta0.tan()
}

/// The factor s = rfac0·π/(r_c − rmin0) and θ0 = (r − rmin0)·s.
#[inline]
fn theta0_of(model: &SnapModel, n: &Neighbor) -> (f64, f64) {
    let scale = angle_factors(model, n.cutoff).s;
    (scale, angle(model, n, scale))
}

/// The angle (r − rmin0)·factor of θ0 or of the switching function.
#[inline]
fn angle(model: &SnapModel, n: &Neighbor, factor: f64) -> f64 {
    (n.r - model.params.rmin0) * factor
}

/// z0 and dz0/dr = z0/r − r·s·(r² + z0²)/r² with s = rfac0·π/(r_c − rmin0), as LAMMPS's
/// `compute_duidrj` evaluates them.
#[inline]
pub(crate) fn z0_and_derivative(model: &SnapModel, n: &Neighbor) -> (f64, f64) {
    let (scale, theta0) = theta0_of(model, n);
    z0_terms(n, theta0.sin_cos(), scale)
}

/// [`z0_and_derivative`] from sin θ0, cos θ0 and θ0's factor s ([`theta0_of`]).
#[inline]
fn z0_terms(n: &Neighbor, (sin0, cos0): (f64, f64), scale: f64) -> (f64, f64) {
    let z0 = n.r * cos0 / sin0;
    let rsq = n.r * n.r;
    (z0, z0 / n.r - (n.r * scale) * (rsq + z0 * z0) / rsq)
}

/// The factor k = π/(r_c − rmin0) and the switching angle x = (r − rmin0)·k.
#[inline]
fn switch_angle(model: &SnapModel, n: &Neighbor) -> (f64, f64) {
    let k = angle_factors(model, n.cutoff).k;
    (k, angle(model, n, k))
}

/// The weight w_j·f_c(r) of a neighbor's contribution to the density and its derivative
/// with respect to r. f_c(r) = ½(cos(π(r − rmin0)/(r_c − rmin0)) + 1) between rmin0 and
/// r_c with `switchflag`, else 1; times the inner switch ½(1 − cos(π/2 + π/2·(r − s)/d))
/// between s − d and s + d (0 below, 1 above) with `switchinnerflag`.
#[inline]
pub(crate) fn switching(model: &SnapModel, n: &Neighbor) -> (f64, f64) {
    let (k, x) = switch_angle(model, n);
    switching_terms(model, n, x.sin_cos(), k)
}

/// [`switching`] from the sine and cosine of the switching angle and its factor k
/// ([`switch_angle`]), which it reads only between rmin0 and r_c.
#[inline]
fn switching_terms(model: &SnapModel, n: &Neighbor, (sin_x, cos_x): (f64, f64), k: f64) -> (f64, f64) {
    let p = &model.params;
    let r = n.r;
    let (mut s, mut ds) = if !p.switching || r <= p.rmin0 {
        (1.0, 0.0)
    } else if r > n.cutoff {
        (0.0, 0.0)
    } else {
        (0.5 * (cos_x + 1.0), -0.5 * sin_x * k)
    };
    if let Some((sinner, dinner)) = n.inner {
        if r < sinner + dinner {
            if r > sinner - dinner {
                let k = FRAC_PI_2 / dinner;
                let phase = FRAC_PI_2 + (r - sinner) * k;
                let inner = 0.5 * (1.0 - phase.cos());
                let d_inner = 0.5 * k * phase.sin();
                ds = ds * inner + s * d_inner;
                s *= inner;
            } else {
                s = 0.0;
                ds = 0.0;
            }
        }
    }
    (s * n.weight, ds * n.weight)
}
