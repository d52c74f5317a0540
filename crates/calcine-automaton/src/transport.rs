//! Onsager transport coefficients for diffusion-limited scoring: ReactCA's `TransportDoc`
//! JSON (as written by `calcine transport` and bundled with ReactCA as
//! `transport_db/<chemsys>.json`), and L(T) between the tabulated temperatures.
//!
//! ReactCA's `DiffusionScorer` takes the L tensor at the nearest tabulated temperature,
//! so its scores jump halfway between two tabulated temperatures. [`TransportTable::at`]
//! offers both that and an Arrhenius interpolation: each tensor element is fitted as
//! `ln|L_ij| = a − b/T` by least squares over the tabulated temperatures when it keeps one
//! sign, and interpolated linearly in 1/T (clamped at the ends) when its sign changes, so
//! L(T) is continuous in T.

use crate::error::{AutomatonError, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One `TransportDoc`: the Onsager tensor of a phase at a temperature.
#[derive(Debug, Clone, Deserialize)]
pub struct TransportDoc {
    pub reduced_formula: String,
    pub temperature: f64,
    pub species: Vec<String>,
    #[serde(rename = "L_tensor")]
    pub l_tensor: Vec<Vec<f64>>,
    #[serde(rename = "L_tensor_self", default)]
    pub l_tensor_self: Option<Vec<Vec<f64>>>,
    #[serde(default)]
    pub volume: Option<f64>,
}

/// How L is taken between tabulated temperatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interpolation {
    /// ReactCA: the tensor at the nearest tabulated temperature.
    Nearest,
    /// Arrhenius fit per element (see the module documentation).
    Arrhenius,
}

/// An Onsager tensor, rows and columns in the order of the phase's species.
pub type Tensor = Vec<Vec<f64>>;
/// A phase's species and its tensors by temperature (sorted).
pub type PhaseTensors = (Vec<String>, Vec<(f64, Tensor)>);

/// The tensors of each phase, by temperature (duplicates averaged, as ReactCA does).
#[derive(Debug, Clone)]
pub struct TransportTable {
    /// formula → (species, [(T, L)] sorted by T)
    pub phases: BTreeMap<String, PhaseTensors>,
}

impl TransportTable {
    /// Reads a JSON list of `TransportDoc`s.
    pub fn read(path: &Path) -> Result<TransportTable> {
        let text = std::fs::read_to_string(path).map_err(|source| AutomatonError::Io { path: path.into(), source })?;
        let docs: Vec<TransportDoc> = serde_json::from_str(&text).map_err(|e| AutomatonError::Parse {
            path: path.into(),
            reason: format!("not a list of TransportDocs: {e}"),
        })?;
        // Per phase: species and (T, summed tensor, number of entries summed).
        type Summed = (Vec<String>, Vec<(f64, Tensor, usize)>);
        let mut phases: BTreeMap<String, Summed> = BTreeMap::new();
        for (i, d) in docs.into_iter().enumerate() {
            let n = d.species.len();
            if d.l_tensor.len() != n || d.l_tensor.iter().any(|r| r.len() != n) {
                return Err(AutomatonError::Key {
                    path: path.into(),
                    key: format!("[{i}].L_tensor"),
                    reason: format!("expected {n}×{n} for species {:?}", d.species),
                });
            }
            let entry = phases.entry(d.reduced_formula.clone()).or_insert_with(|| (d.species.clone(), Vec::new()));
            if entry.0 != d.species {
                return Err(AutomatonError::Key {
                    path: path.into(),
                    key: format!("[{i}].species"),
                    reason: format!(
                        "{:?} differs from {:?} of an earlier entry of {}",
                        d.species, entry.0, d.reduced_formula
                    ),
                });
            }
            match entry.1.iter_mut().find(|x| x.0 == d.temperature) {
                Some(x) => {
                    for (a, b) in x.1.iter_mut().flatten().zip(d.l_tensor.iter().flatten()) {
                        *a += b;
                    }
                    x.2 += 1;
                }
                None => entry.1.push((d.temperature, d.l_tensor, 1)),
            }
        }
        let phases = phases
            .into_iter()
            .map(|(f, (species, mut ts))| {
                ts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let ts = ts
                    .into_iter()
                    .map(|(t, l, k)| {
                        (t, l.into_iter().map(|r| r.into_iter().map(|x| x / k as f64).collect()).collect())
                    })
                    .collect();
                (f, (species, ts))
            })
            .collect();
        Ok(TransportTable { phases })
    }

    /// The species order and L tensor of `formula` at `t`, or `None` without data.
    pub fn at(&self, formula: &str, t: f64, how: Interpolation) -> Option<(&[String], Vec<Vec<f64>>)> {
        let (species, ts) = self.phases.get(formula)?;
        let n = species.len();
        let l = match how {
            Interpolation::Nearest => {
                // Ties go to the lower temperature.
                let k =
                    (0..ts.len()).min_by(|&a, &b| (ts[a].0 - t).abs().total_cmp(&(ts[b].0 - t).abs())).expect("data");
                ts[k].1.clone()
            }
            Interpolation::Arrhenius => {
                let mut out = vec![vec![0.0; n]; n];
                for i in 0..n {
                    for j in 0..n {
                        let pts: Vec<(f64, f64)> = ts.iter().map(|(temp, l)| (1.0 / temp, l[i][j])).collect();
                        out[i][j] = arrhenius(&pts, 1.0 / t);
                    }
                }
                out
            }
        };
        Some((species, l))
    }
}

/// Value at `x = 1/T` from points `(1/T_k, L_k)`.
fn arrhenius(pts: &[(f64, f64)], x: f64) -> f64 {
    if pts.len() == 1 {
        return pts[0].1;
    }
    let same_sign = pts.iter().all(|p| p.1 > 0.0) || pts.iter().all(|p| p.1 < 0.0);
    if same_sign {
        // Least squares of ln|L| against 1/T.
        let sign = pts[0].1.signum();
        let n = pts.len() as f64;
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1.abs().ln()));
        let (mx, my) = (sx / n, sy / n);
        let (sxy, sxx) =
            pts.iter().fold((0.0, 0.0), |(a, b), p| (a + (p.0 - mx) * (p.1.abs().ln() - my), b + (p.0 - mx).powi(2)));
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        return sign * (my + slope * (x - mx)).exp();
    }
    // Linear in 1/T between neighbors, clamped outside.
    let mut sorted = pts.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    if x <= sorted[0].0 {
        return sorted[0].1;
    }
    if x >= sorted[sorted.len() - 1].0 {
        return sorted[sorted.len() - 1].1;
    }
    let k = sorted.partition_point(|p| p.0 < x);
    let (a, b) = (sorted[k - 1], sorted[k]);
    a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0)
}

/// The flux `J = L·Δμ` (per species of `species`) for chemical-potential differences
/// `delta_mu` given per element.
pub fn flux(species: &[String], l: &[Vec<f64>], delta_mu: &BTreeMap<String, f64>) -> Vec<f64> {
    let dm: Vec<f64> = species.iter().map(|s| *delta_mu.get(s).unwrap_or(&0.0)).collect();
    l.iter().map(|row| row.iter().zip(&dm).map(|(a, b)| a * b).sum()).collect()
}
