//! The radial functions of a bond, evaluated exactly (the lookup tables of `table.rs` are
//! made from them): the radial basis g_k(r), the radial functions R_nl = Σ_k crad·g_k and
//! the core repulsion, with the expressions of ML-PACE's `ace_radial.cpp` so that the
//! tables have the same nodes to the last bit.

use crate::model::{Bond, InnerCutoffKind, RadialBasisKind};
use std::f64::consts::PI;

/// Coulomb's constant e²/(4πε₀) in eV·Å, as ML-PACE's ZBL takes it.
const ZBL_K: f64 = 14.399645351950543;
const ZBL_PHI_COEFS: [f64; 4] = [0.18175, 0.50986, 0.28022, 0.02817];
const ZBL_PHI_EXPS: [f64; 4] = [-3.19980, -0.94229, -0.40290, -0.20162];

/// The polynomial switch from 1 (r ≤ r_in − δ) to 0 (r ≥ r_in) and its derivative:
/// x = 1 − 2(1 + (r − r_in)/δ), f = ½ + 3.75(x/4 − x³/6 + x⁵/20) (ML-PACE
/// `cutoff_func_poly`).
pub fn cutoff_poly(r: f64, r_in: f64, delta: f64) -> (f64, f64) {
    if r <= r_in - delta {
        (1.0, 0.0)
    } else if r >= r_in {
        (0.0, 0.0)
    } else {
        let x = 1.0 - 2.0 * (1.0 + (r - r_in) / delta);
        let f = 0.5 + 7.5 / 2.0 * (x / 4.0 - x.powf(3.0) / 6.0 + x.powf(5.0) / 20.0);
        let df = -7.5 / delta * (0.25 - x * x / 2.0 + x.powf(4.0) / 4.0);
        (f, df)
    }
}

/// Chebyshev polynomials of the first kind T_0..=T_n at x and their derivatives
/// (n·U_{n−1} from the second kind).
fn chebyshev(n: usize, x: f64, t: &mut Vec<f64>, dt: &mut Vec<f64>) {
    t.clear();
    dt.clear();
    t.resize(n + 1, 0.0);
    dt.resize(n + 1, 0.0);
    let mut u = vec![0.0; n + 1];
    let twox = 2.0 * x;
    t[0] = 1.0;
    u[0] = 1.0;
    if n >= 1 {
        t[1] = x;
        u[1] = twox;
    }
    for m in 1..n {
        t[m + 1] = twox * t[m] - t[m - 1];
        u[m + 1] = twox * u[m] - u[m - 1];
    }
    for m in 1..=n {
        dt[m] = m as f64 * u[m - 1];
    }
}

fn sinc(x: f64) -> f64 {
    if x != 0.0 {
        x.sin() / x
    } else {
        1.0
    }
}

fn dsinc(x: f64) -> f64 {
    if x != 0.0 {
        (x.cos() * x - x.sin()) / (x * x)
    } else {
        0.0
    }
}

/// The n-th auxiliary function of the simplified spherical Bessel basis and its derivative
/// (Kocer et al., J. Chem. Phys. 150, 154102 (2019)).
fn bessel_aux(x: f64, rc: f64, n: usize) -> (f64, f64) {
    let nf = n as f64;
    let sign = if n & 1 == 0 { 1.0 } else { -1.0 };
    let pre = sign * 2f64.sqrt() * PI / rc.powf(1.5) * (nf + 1.0) * (nf + 2.0)
        / ((nf + 1.0) * (nf + 1.0) + (nf + 2.0) * (nf + 2.0)).sqrt();
    let a = x * (nf + 1.0) * PI / rc;
    let b = x * (nf + 2.0) * PI / rc;
    let f = pre * (sinc(a) + sinc(b));
    let df = pre * (dsinc(a) * (nf + 1.0) * PI / rc + dsinc(b) * (nf + 2.0) * PI / rc);
    (f, df)
}

/// The radial basis g_k(r), k < `nradbase`, and its derivative, of a bond (ML-PACE
/// `radbase`): zero at and beyond the cutoff and, with a distance or ZBL inner cutoff,
/// switched off towards `rcut_in`.
pub fn radial_basis(bond: &Bond, inner: InnerCutoffKind, nradbase: usize, r: f64, g: &mut [f64], dg: &mut [f64]) {
    let (lam, cut, dcut) = (bond.lambda, bond.rcut, bond.dcut);
    // With ZBL ML-PACE resets the inner cutoff of the basis to (dcut_in == 0), i.e. 1 or 0.
    let cut_in = if inner == InnerCutoffKind::Zbl { f64::from(u8::from(bond.dcut_in == 0.0)) } else { bond.rcut_in };
    let dcut_in = bond.dcut_in;
    g[..nradbase].fill(0.0);
    dg[..nradbase].fill(0.0);
    if r <= cut_in - dcut_in || r >= cut {
        return;
    }
    let (mut t, mut dt) = (Vec::new(), Vec::new());
    match bond.radial_basis {
        RadialBasisKind::ChebExpCos => {
            let y1 = (-lam * r / cut).exp();
            let y2 = (-lam).exp();
            let x = 1.0 - 2.0 * ((y1 - y2) / (1.0 - y2));
            let dx = 2.0 * (lam / cut) * (y1 / (1.0 - y2));
            chebyshev(nradbase, x, &mut t, &mut dt);
            g[0] = t[0];
            dg[0] = dt[0] * dx;
            for n in 2..=nradbase {
                g[n - 1] = 0.5 - 0.5 * t[n - 1];
                dg[n - 1] = -0.5 * dt[n - 1] * dx;
            }
            let env = 0.5 * (1.0 + (PI * r / cut).cos());
            let denv = -0.5 * (PI * r / cut).sin() * PI / cut;
            for n in 0..nradbase {
                dg[n] = g[n] * denv + dg[n] * env;
                g[n] *= env;
            }
            let start = cut - dcut;
            if r > start {
                let fcut = 0.5 * (1.0 + (PI * (r - start) / dcut).cos());
                let dfcut = -0.5 * (PI * (r - start) / dcut).sin() * PI / dcut;
                for n in 0..nradbase {
                    dg[n] = g[n] * dfcut + dg[n] * fcut;
                    g[n] *= fcut;
                }
            }
        }
        RadialBasisKind::ChebPow => {
            let y0 = 1.0 - r / cut;
            let dy0 = y0.powf(lam - 1.0);
            let y = dy0 * y0;
            let dy = -lam / cut * dy0;
            let x = 2.0 * (1.0 - y) - 1.0;
            let dx = -2.0 * dy;
            chebyshev(nradbase, x, &mut t, &mut dt);
            for n in 1..=nradbase {
                g[n - 1] = 0.5 - 0.5 * t[n];
                dg[n - 1] = -0.5 * dt[n] * dx;
            }
        }
        RadialBasisKind::ChebLinear => {
            let x = 1.0 - r / cut;
            let dx = -1.0 / cut;
            chebyshev(nradbase, x, &mut t, &mut dt);
            for n in 1..=nradbase {
                g[n - 1] = 0.5 - 0.5 * t[n];
                dg[n - 1] = -0.5 * dt[n] * dx;
            }
        }
        RadialBasisKind::SBessel => {
            if r < cut {
                (g[0], dg[0]) = bessel_aux(r, cut, 0);
                let mut d_prev = 1.0;
                for n in 1..nradbase {
                    let nf = n as f64;
                    let en = nf * nf * (nf + 2.0) * (nf + 2.0) / (4.0 * (nf + 1.0).powf(4.0) + 1.0);
                    let dn = 1.0 - en / d_prev;
                    let (f, df) = bessel_aux(r, cut, n);
                    g[n] = 1.0 / dn.sqrt() * (f + (en / d_prev).sqrt() * g[n - 1]);
                    dg[n] = 1.0 / dn.sqrt() * (df + (en / d_prev).sqrt() * dg[n - 1]);
                    d_prev = dn;
                }
            }
        }
    }
    if matches!(inner, InnerCutoffKind::Distance | InnerCutoffKind::Zbl) {
        let (fc, dfc) = cutoff_poly(r, cut_in, dcut_in);
        let (fc, dfc) = (1.0 - fc, -dfc);
        for n in 0..nradbase {
            let new_g = g[n] * fc;
            let new_dg = dg[n] * fc + g[n] * dfc;
            g[n] = new_g;
            dg[n] = new_dg;
        }
    }
}

/// R_nl(r) = Σ_k crad[n][l][k]·g_k(r) and its derivative for n < `nradmax`, l ≤ `lmax`
/// (the global sizes; coefficients beyond the bond's own are zero), row-major [n][l].
pub fn radial_functions(
    bond: &Bond,
    nradmax: usize,
    lmax: usize,
    g: &[f64],
    dg: &[f64],
    fr: &mut [f64],
    dfr: &mut [f64],
) {
    for n in 0..nradmax {
        for l in 0..=lmax {
            let (mut f, mut df) = (0.0, 0.0);
            if n < bond.nradmax && l <= bond.lmax {
                for k in 0..bond.nradbasemax {
                    let c = bond.crad(n, l, k);
                    f += c * g[k];
                    df += c * dg[k];
                }
            }
            fr[n * (lmax + 1) + l] = f;
            dfr[n * (lmax + 1) + l] = df;
        }
    }
}

/// The exponential core repulsion |pre|·e^{−|λ|r²}/r·½(1 + cos(πr/r_c)), 0 once
/// |λ|r² ≥ 50, switched off above `rcut_in` in distance mode (ML-PACE `radcore`).
pub fn core_repulsion(bond: &Bond, inner: InnerCutoffKind, r: f64) -> (f64, f64) {
    let pre = bond.prehc.abs();
    let lambda = bond.lambdahc.abs();
    let r2 = r * r;
    let lr2 = lambda * r2;
    let (mut cr, mut dcr) = if lr2 < 50.0 {
        let y = (-lr2).exp();
        let cr = pre * y / r;
        let dcr = -pre * y * (2.0 * lr2 + 1.0) / r2;
        let x0 = r / bond.rcut;
        let env = 0.5 * (1.0 + (PI * x0).cos());
        let denv = -0.5 * (PI * x0).sin() * PI / bond.rcut;
        (cr * env, cr * denv + dcr * env)
    } else {
        (0.0, 0.0)
    };
    if inner == InnerCutoffKind::Distance {
        let (fc, dfc) = cutoff_poly(r, bond.rcut_in, bond.dcut_in);
        let new_cr = cr * fc;
        dcr = dcr * fc + cr * dfc;
        cr = new_cr;
    }
    (cr, dcr)
}

/// φ(r/a)/r and its first two derivatives in r.
fn zbl_screened(r: f64, a: f64) -> (f64, f64, f64) {
    let x = r / a;
    let (mut phi, mut dphi, mut d2phi) = (0.0, 0.0, 0.0);
    for k in 0..4 {
        let e = (ZBL_PHI_EXPS[k] * x).exp();
        let mut t = ZBL_PHI_COEFS[k] * e;
        phi += t;
        t *= ZBL_PHI_EXPS[k];
        dphi += t;
        t *= ZBL_PHI_EXPS[k];
        d2phi += t;
    }
    let e = 1.0 / r * phi;
    let de = (-1.0 / (r * r)) * phi + 1.0 / r * dphi / a;
    let d2e = (2.0 / (r * r * r)) * phi + 2.0 * (-1.0 / (r * r)) * dphi / a + (1.0 / r) * d2phi / (a * a);
    (e, de, d2e)
}

/// The ZBL pair energy ½·pre·K·Z_i·Z_j·(φ(r/a)/r + S(r)) with a polynomial shift S between
/// `cut_in` and `cut_out` and the polynomial switch to zero over the same range (ML-PACE
/// `ACERadialFunctions::ZBL`; ML-PACE calls it with `cut_out = rcut` and
/// `cut_in = rcut − dcut`).
pub fn zbl(r: f64, zi: f64, zj: f64, cut_out: f64, cut_in: f64, prefactor: f64) -> (f64, f64) {
    if r >= cut_out {
        return (0.0, 0.0);
    }
    let a = 0.46850 / (zi.powf(0.23) + zj.powf(0.23));
    let (e, de, _) = zbl_screened(r, a);
    let (ec, dec, d2ec) = zbl_screened(cut_out, a);
    let drcut = cut_out - cut_in;
    let big_a = (-3.0 * dec + drcut * d2ec) / (drcut * drcut);
    let big_b = (2.0 * dec - drcut * d2ec) / (drcut * drcut * drcut);
    let big_c = -ec + 1.0 / 2.0 * drcut * dec - 1.0 / 12.0 * (drcut * drcut) * d2ec;
    let s = if r <= cut_in {
        big_c
    } else {
        big_a / 3.0 * (r - cut_in).powf(3.0) + big_b / 4.0 * (r - cut_in).powf(4.0) + big_c
    };
    let scale = prefactor * ZBL_K / 2.0 * zi * zj;
    let cr = scale * (e + s);
    let ds = if cut_in < r { big_a * (r - cut_in).powf(2.0) + big_b * (r - cut_in).powf(3.0) } else { 0.0 };
    let dcr = scale * (de + ds);
    let (fc, dfc) = cutoff_poly(r, cut_out, cut_out - cut_in);
    (cr * fc, dcr * fc + cr * dfc)
}

/// The atomic number of an element symbol (for ZBL), as ML-PACE's table lists them (H to Lr).
pub fn atomic_number(symbol: &str) -> Option<u32> {
    const SYMBOLS: [&str; 103] = [
        "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
        "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",
        "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La",
        "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re",
        "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np",
        "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr",
    ];
    SYMBOLS.iter().position(|s| *s == symbol).map(|k| k as u32 + 1)
}
