//! Transport coefficients from correlation curves (Fong, Self, McCloskey and Persson,
//! Macromolecules 53, 9503 (2020); reference-frame transform after Shao et al., JACS 144,
//! 7583 (2022)), in d = 3 dimensions:
//!
//! * tracer diffusion D_i = slope⟨|Δr|²⟩_i/(2d);
//! * Onsager L_ij = slope⟨ΔX_i·ΔX_j⟩/(2d·V·k_B·T), X_i = Σ_{a∈i} r_a (number basis,
//!   1/(eV·Å·ps)); L_ii^self = N_i·D_i/(V·k_B·T); L^distinct = L − L^self;
//! * collective (jump) diffusion D_J,i = slope⟨|ΔX_i|²⟩/(2d·N_i);
//! * conductivity, Einstein–Helfand: σ = e²·slope⟨|ΔQ|²⟩/(2d·V·k_B·T), Q = Σ_i z_i X_i;
//!   Nernst–Einstein: σ_NE = e²/(V·k_B·T)·Σ_i N_i z_i² D_i; Haven ratio H = σ_NE/σ;
//! * transference numbers t_i = z_i Σ_j z_j L_ij / Σ_kl z_k z_l L_kl;
//! * Green–Kubo: D_i = (1/d)∫⟨v(0)·v(t)⟩dt and L_ij = 1/(d·V·k_B·T)∫⟨V_i(0)·V_j(t)⟩dt.
//!
//! Slopes come from the generalised least-squares fits of [`crate::fit`] on one window for
//! every curve; transference numbers take their error bars from block averages.

use calcine_core::units::BOLTZ;

use crate::analysis::Correlations;
use crate::correlate::pair_index;
use crate::fit::{self, LineFit, Noise, DIMENSIONS};
use crate::spec::{FitWindow, Reference};
use crate::{Estimate, TransportError};

/// e²/(eV·Å·ps) in S/m: conductivities computed in e²/(eV·Å·ps) times this are in S/m.
pub const SIEMENS_PER_METRE: f64 = 1.602_176_634e-19 / 1e-22;
/// Å²/ps in cm²/s.
pub const CM2_PER_S: f64 = 1e-4;
/// 1/(eV·Å·ps) in 1/(eV·cm·s) (ReactCA's unit for L).
pub const PER_EV_CM_S: f64 = 1e20;

/// How the estimators are to be run.
#[derive(Debug, Clone, Default)]
pub struct EstimateOptions {
    pub fit_window: FitWindow,
    pub fit_points: usize,
    pub reference: Reference,
}

/// A named fit, for reports and plots.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NamedFit {
    pub name: String,
    pub fit: LineFit,
}

/// Green–Kubo results (no error bars: the plateau of a running integral has none that
/// this crate can state honestly; compare with the Einstein values).
#[derive(Debug, Clone, serde::Serialize)]
pub struct GreenKubo {
    /// Plateau window of the running integrals in ps.
    pub window_ps: [f64; 2],
    /// Tracer D per species in Å²/ps.
    pub diffusion: Vec<f64>,
    /// L_ij in 1/(eV·Å·ps).
    pub onsager: Vec<Vec<f64>>,
    /// σ in S/m (when some species is charged).
    pub conductivity: Option<f64>,
}

/// Everything `calcine transport` reports. Units are in the field names' documentation and
/// in `units`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransportResults {
    pub units: Units,
    pub species: Vec<String>,
    pub charges: Vec<f64>,
    pub counts: Vec<usize>,
    pub n_atoms: usize,
    pub n_frames: usize,
    pub frame_interval: f64,
    pub temperature: f64,
    pub volume: f64,
    pub method: String,
    pub reference_frame: String,
    pub fit_window: [f64; 2],
    pub fit_window_automatic: [bool; 2],
    pub fit_points: usize,
    pub blocks: usize,
    /// Tracer diffusion coefficients (Å²/ps).
    pub diffusion: Vec<Estimate>,
    /// The same in cm²/s.
    pub diffusion_cm2_per_s: Vec<Estimate>,
    /// Collective (jump) diffusion coefficients per species (Å²/ps).
    pub jump_diffusion: Vec<Estimate>,
    /// Onsager coefficients L_ij, 1/(eV·Å·ps).
    pub onsager: Vec<Vec<Estimate>>,
    pub onsager_self: Vec<Vec<Estimate>>,
    pub onsager_distinct: Vec<Vec<Estimate>>,
    /// L_ij from block averages (mean and standard error over blocks), when there are blocks.
    pub onsager_blocks: Option<Vec<Vec<Estimate>>>,
    /// Einstein–Helfand conductivity (S/m).
    pub conductivity: Option<Estimate>,
    /// Nernst–Einstein conductivity (S/m).
    pub conductivity_nernst_einstein: Option<Estimate>,
    pub haven_ratio: Option<Estimate>,
    /// Transference numbers (value from the whole trajectory, error from the blocks).
    pub transference: Option<Vec<Estimate>>,
    pub green_kubo: Option<GreenKubo>,
    pub fits: Vec<NamedFit>,
    /// Drift removed at the last frame (Å).
    pub final_drift: [f64; 3],
}

/// The units of [`TransportResults`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Units {
    pub time: &'static str,
    pub length: &'static str,
    pub volume: &'static str,
    pub temperature: &'static str,
    pub diffusion: &'static str,
    pub onsager: &'static str,
    pub conductivity: &'static str,
    pub charge: &'static str,
    pub slope: &'static str,
}

impl Default for Units {
    fn default() -> Self {
        Self {
            time: "ps",
            length: "Å",
            volume: "Å^3",
            temperature: "K",
            diffusion: "Å^2/ps (diffusion_cm2_per_s: cm^2/s)",
            onsager: "1/(eV·Å·ps), number basis",
            conductivity: "S/m",
            charge: "e",
            slope: "Å^2/ps",
        }
    }
}

/// The collective curves in the chosen reference frame (the blocks likewise).
pub(crate) fn transformed(curves: &[Vec<f64>], counts: &[usize], s: usize, reference: Option<usize>) -> Vec<Vec<f64>> {
    let Some(r) = reference else { return curves.to_vec() };
    let ratio: Vec<f64> = counts.iter().map(|&c| c as f64 / counts[r] as f64).collect();
    let c = |i: usize, j: usize| &curves[pair_index(i, j, s)];
    let mut out = Vec::with_capacity(curves.len());
    for i in 0..s {
        for j in i..s {
            let len = c(i, j).len();
            out.push(
                (0..len)
                    .map(|k| {
                        c(i, j)[k] - ratio[i] * c(r, j)[k] - ratio[j] * c(i, r)[k] + ratio[i] * ratio[j] * c(r, r)[k]
                    })
                    .collect(),
            );
        }
    }
    out
}

/// Σ_ij w_i w_j C_ij of the pair curves.
fn combined(curves: &[Vec<f64>], w: &[f64]) -> Vec<f64> {
    let s = w.len();
    let len = curves[0].len();
    let mut out = vec![0.0; len];
    for i in 0..s {
        for j in 0..s {
            let c = &curves[pair_index(i, j, s)];
            for k in 0..len {
                out[k] += w[i] * w[j] * c[k];
            }
        }
    }
    out
}

/// Σ_j w_i a_i b_j C_ij for one i: the cross term of a_i X_i with Σ_j b_j X_j.
fn row_combined(curves: &[Vec<f64>], i: usize, a: f64, b: &[f64]) -> Vec<f64> {
    let s = b.len();
    let len = curves[0].len();
    let mut out = vec![0.0; len];
    for j in 0..s {
        let c = &curves[pair_index(i, j, s)];
        for k in 0..len {
            out[k] += a * b[j] * c[k];
        }
    }
    out
}

/// The transport coefficients of a trajectory's correlation curves.
pub fn estimate(corr: &Correlations, options: &EstimateOptions) -> Result<TransportResults, TransportError> {
    let d = DIMENSIONS as f64;
    let s = corr.n_species();
    let names: Vec<String> = corr.species.iter().map(|x| x.name.clone()).collect();
    let charges: Vec<f64> = corr.species.iter().map(|x| x.charge).collect();
    let kt = BOLTZ * corr.temperature;
    let vkt = corr.volume * kt;
    let reference = match &options.reference {
        Reference::Barycentric => None,
        Reference::Relative(name) => Some(names.iter().position(|n| n == name).ok_or_else(|| {
            TransportError::Invalid(format!(
                "the reference species '{name}' must be one of the analysed species ({})",
                names.join(", ")
            ))
        })?),
    };
    let lag_times = corr.lag_times();
    let n_total: usize = corr.counts.iter().sum();
    let total: Vec<f64> = (0..corr.lags.len())
        .map(|k| (0..s).map(|i| corr.counts[i] as f64 * corr.self_msd[i][k]).sum::<f64>() / n_total as f64)
        .collect();
    let (start, end) = fit::resolve_window(&lag_times, &total, options.fit_window)?;
    let points = options.fit_points.max(2);
    let indices = fit::window_indices(&lag_times, start, end, points);
    let gls =
        |curve: &[f64], noise: Noise| fit::gls_fit(&corr.lags, curve, corr.interval, corr.n_frames, &indices, noise);
    let mut fits = Vec::new();

    // Tracer diffusion.
    let mut diffusion = Vec::with_capacity(s);
    for i in 0..s {
        let [m2, m4] = corr.increments[i];
        let s2 = m2 / d;
        let excess = (m4 - (d * d + 2.0 * d) * s2 * s2).max(0.0);
        let f = gls(&corr.self_msd[i], Noise::Msd { walkers: corr.counts[i] as f64, excess })?;
        diffusion.push(scale(f.slope, 1.0 / (2.0 * d)));
        fits.push(NamedFit { name: format!("msd {}", names[i]), fit: f });
    }

    // Onsager coefficients in the chosen frame.
    let collective = transformed(&corr.collective, &corr.counts, s, reference);
    let mut slopes = vec![vec![Estimate::new(0.0, 0.0); s]; s];
    for i in 0..s {
        let f = gls(&collective[pair_index(i, i, s)], Noise::Msd { walkers: 1.0, excess: 0.0 })?;
        slopes[i][i] = f.slope;
        fits.push(NamedFit { name: format!("collective {} {}", names[i], names[i]), fit: f });
    }
    for i in 0..s {
        for j in i + 1..s {
            let noise = Noise::Cross { slope_aa: slopes[i][i].value, slope_bb: slopes[j][j].value };
            let f = gls(&collective[pair_index(i, j, s)], noise)?;
            slopes[i][j] = f.slope;
            slopes[j][i] = f.slope;
            fits.push(NamedFit { name: format!("collective {} {}", names[i], names[j]), fit: f });
        }
    }
    let onsager: Vec<Vec<Estimate>> =
        slopes.iter().map(|row| row.iter().map(|e| scale(*e, 1.0 / (2.0 * d * vkt))).collect()).collect();
    let onsager_self: Vec<Vec<Estimate>> =
        (0..s)
            .map(|i| {
                (0..s)
                    .map(|j| {
                        if i == j {
                            scale(diffusion[i], corr.counts[i] as f64 / vkt)
                        } else {
                            Estimate::new(0.0, 0.0)
                        }
                    })
                    .collect()
            })
            .collect();
    let onsager_distinct: Vec<Vec<Estimate>> = (0..s)
        .map(|i| {
            (0..s)
                .map(|j| {
                    let (a, b) = (onsager[i][j], onsager_self[i][j]);
                    Estimate::new(a.value - b.value, a.std_error.hypot(b.std_error))
                })
                .collect()
        })
        .collect();
    let jump_diffusion: Vec<Estimate> =
        (0..s).map(|i| scale(slopes[i][i], 1.0 / (2.0 * d * corr.counts[i] as f64))).collect();

    // Conductivity, Haven ratio, transference numbers.
    let charged = charges.iter().any(|&z| z != 0.0);
    let (mut conductivity, mut conductivity_ne, mut haven, mut transference) = (None, None, None, None);
    if charged {
        let q = combined(&collective, &charges);
        let f = gls(&q, Noise::Msd { walkers: 1.0, excess: 0.0 })?;
        let q_slope = f.slope;
        let sigma = scale(f.slope, SIEMENS_PER_METRE / (2.0 * d * vkt));
        fits.push(NamedFit { name: "charge".into(), fit: f });
        let factor = SIEMENS_PER_METRE / vkt;
        let ne_value: f64 = (0..s).map(|i| corr.counts[i] as f64 * charges[i].powi(2) * diffusion[i].value).sum();
        let ne_var: f64 =
            (0..s).map(|i| (corr.counts[i] as f64 * charges[i].powi(2) * diffusion[i].std_error).powi(2)).sum();
        let ne = Estimate::new(factor * ne_value, factor * ne_var.sqrt());
        let rel = |e: Estimate| e.std_error / e.value.abs();
        haven = Some(Estimate::new(ne.value / sigma.value, (ne.value / sigma.value).abs() * rel(ne).hypot(rel(sigma))));
        conductivity = Some(sigma);
        conductivity_ne = Some(ne);
        let mut t = Vec::with_capacity(s);
        for i in 0..s {
            let row = row_combined(&collective, i, charges[i], &charges);
            let noise = Noise::Cross { slope_aa: charges[i].powi(2) * slopes[i][i].value, slope_bb: q_slope.value };
            let f = gls(&row, noise)?;
            t.push(Estimate::new(f.slope.value / q_slope.value, f64::NAN));
        }
        transference = Some(t);
    }

    // Block averages of the collective terms.
    let mut onsager_blocks = None;
    if !corr.blocks.is_empty() {
        let block_times: Vec<f64> = (0..corr.block_frames).map(|k| k as f64 * corr.interval).collect();
        let b_end = end.min(0.5 * block_times[corr.block_frames - 1]);
        let b_start = start.min(0.25 * b_end);
        let b_idx = fit::window_indices(&block_times, b_start, b_end, points);
        if b_idx.len() >= 2 {
            let bt: Vec<f64> = b_idx.iter().map(|&k| block_times[k]).collect();
            let slope_of = |curve: &[f64]| {
                let y: Vec<f64> = b_idx.iter().map(|&k| curve[k]).collect();
                fit::ols(&bt, &y).1
            };
            let mut per_block_l = vec![vec![Vec::new(); s]; s];
            let mut per_block_t = vec![Vec::new(); s];
            for block in &corr.blocks {
                let c = transformed(block, &corr.counts, s, reference);
                for i in 0..s {
                    for j in 0..s {
                        per_block_l[i][j].push(slope_of(&c[pair_index(i, j, s)]) / (2.0 * d * vkt));
                    }
                }
                if charged {
                    let qs = slope_of(&combined(&c, &charges));
                    for i in 0..s {
                        per_block_t[i].push(slope_of(&row_combined(&c, i, charges[i], &charges)) / qs);
                    }
                }
            }
            onsager_blocks =
                Some(per_block_l.iter().map(|row| row.iter().map(|v| fit::block_estimate(v)).collect()).collect());
            if let Some(t) = &mut transference {
                for (ti, values) in t.iter_mut().zip(&per_block_t) {
                    ti.std_error = fit::block_estimate(values).std_error;
                }
            }
        }
    }

    // Green–Kubo.
    let green_kubo = match (&corr.self_vacf, &corr.collective_vcf) {
        (Some(vacf), Some(vcf)) => {
            let g_start = start;
            let g_end = end.min(2.0 * start).max(start);
            let plateau = |c: &[f64]| plateau_mean(&running_integral(c, corr.interval), &lag_times, g_start, g_end);
            let diffusion: Vec<f64> = vacf.iter().map(|c| plateau(c) / d).collect();
            let vcf_t = transformed(vcf, &corr.counts, s, reference);
            let onsager: Vec<Vec<f64>> =
                (0..s).map(|i| (0..s).map(|j| plateau(&vcf_t[pair_index(i, j, s)]) / (d * vkt)).collect()).collect();
            let conductivity = charged.then(|| {
                let mut sum = 0.0;
                for i in 0..s {
                    for j in 0..s {
                        sum += charges[i] * charges[j] * onsager[i][j];
                    }
                }
                sum * SIEMENS_PER_METRE
            });
            Some(GreenKubo { window_ps: [g_start, g_end], diffusion, onsager, conductivity })
        }
        _ => None,
    };

    Ok(TransportResults {
        units: Units::default(),
        species: names,
        charges,
        counts: corr.counts.clone(),
        n_atoms: corr.n_atoms,
        n_frames: corr.n_frames,
        frame_interval: corr.interval,
        temperature: corr.temperature,
        volume: corr.volume,
        method: corr.method.to_string(),
        reference_frame: match &options.reference {
            Reference::Barycentric => "barycentric".into(),
            Reference::Relative(n) => format!("relative to {n}"),
        },
        fit_window: [start, end],
        fit_window_automatic: [options.fit_window.start.is_none(), options.fit_window.end.is_none()],
        fit_points: indices.len(),
        blocks: corr.blocks.len(),
        diffusion_cm2_per_s: diffusion.iter().map(|e| scale(*e, CM2_PER_S)).collect(),
        diffusion,
        jump_diffusion,
        onsager,
        onsager_self,
        onsager_distinct,
        onsager_blocks,
        conductivity,
        conductivity_nernst_einstein: conductivity_ne,
        haven_ratio: haven,
        transference,
        green_kubo,
        fits,
        final_drift: corr.final_drift,
    })
}

fn scale(e: Estimate, f: f64) -> Estimate {
    Estimate::new(e.value * f, e.std_error * f.abs())
}

/// ∫_0^τ c(t) dt by the trapezoidal rule, at every lag τ (c sampled every `interval` ps).
pub fn running_integral(c: &[f64], interval: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(c.len());
    let mut acc = 0.0;
    out.push(0.0);
    for k in 1..c.len() {
        acc += 0.5 * (c[k - 1] + c[k]) * interval;
        out.push(acc);
    }
    out
}

fn plateau_mean(integral: &[f64], times: &[f64], start: f64, end: f64) -> f64 {
    let values: Vec<f64> =
        integral.iter().zip(times).filter(|(_, &t)| t >= start && t <= end).map(|(v, _)| *v).collect();
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}
