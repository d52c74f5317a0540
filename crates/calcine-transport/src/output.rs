//! What an analysis writes: the results as JSON with units, the same Onsager tensors in
//! ReactCA's `TransportDoc` layout, every correlation curve as CSV, kinoson tables, and
//! (unless turned off) their PNG charts ([`crate::plots`]).
//! Numbers are written in Rust's shortest round-trip form; each file is written whole
//! with one `write_all`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use crate::analysis::Correlations;
use crate::correlate::pair_index;
use crate::kinoson::KinosonResults;
use crate::onsager::{running_integral, TransportResults, PER_EV_CM_S};
use crate::TransportError;

fn write_file(path: &Path, text: &str) -> Result<(), TransportError> {
    let err = |source| TransportError::Write { path: path.to_path_buf(), source };
    let mut file = std::fs::File::create(path).map_err(err)?;
    file.write_all(text.as_bytes()).and_then(|()| file.flush()).map_err(err)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("results serialise");
    s.push('\n');
    s
}

/// Writes the results as pretty JSON.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), TransportError> {
    write_file(path, &json(value))
}

/// Onsager tensors in the layout of ReactCA's `TransportDoc` (L in 1/(eV·cm·s), number
/// basis; volume in Å³).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransportDoc {
    pub reduced_formula: String,
    pub temperature: f64,
    pub species: Vec<String>,
    pub mapping: std::collections::BTreeMap<String, usize>,
    #[serde(rename = "L_tensor")]
    pub l_tensor: Vec<Vec<f64>>,
    #[serde(rename = "L_tensor_self")]
    pub l_tensor_self: Vec<Vec<f64>>,
    #[serde(rename = "L_tensor_dis")]
    pub l_tensor_dis: Vec<Vec<f64>>,
    pub volume: f64,
    pub metadata: String,
}

/// The reduced formula of a composition (counts divided by their greatest common divisor,
/// in the order given, counts of 1 omitted).
pub fn reduced_formula(composition: &[(String, usize)]) -> String {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = composition.iter().fold(0, |g, (_, n)| gcd(g, *n)).max(1);
    composition
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| if n / g == 1 { s.clone() } else { format!("{s}{}", n / g) })
        .collect()
}

impl TransportDoc {
    pub fn new(results: &TransportResults, composition: &[(String, usize)], metadata: &str) -> Self {
        let m = |l: &Vec<Vec<crate::Estimate>>| -> Vec<Vec<f64>> {
            l.iter().map(|row| row.iter().map(|e| e.value * PER_EV_CM_S).collect()).collect()
        };
        Self {
            reduced_formula: reduced_formula(composition),
            temperature: results.temperature,
            species: results.species.clone(),
            mapping: results.species.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect(),
            l_tensor: m(&results.onsager),
            l_tensor_self: m(&results.onsager_self),
            l_tensor_dis: m(&results.onsager_distinct),
            volume: results.volume,
            metadata: metadata.to_string(),
        }
    }
}

/// Every correlation curve against lag time: self MSDs per species, the collective
/// ⟨ΔX_i·ΔX_j⟩ of every pair (in the trajectory's frame), the charge MSD, and with
/// velocities the velocity correlations and their running Green–Kubo integrals.
pub fn curves_csv(corr: &Correlations) -> String {
    let s = corr.n_species();
    let names: Vec<&str> = corr.species.iter().map(|x| x.name.as_str()).collect();
    let charges: Vec<f64> = corr.species.iter().map(|x| x.charge).collect();
    let charged = charges.iter().any(|&z| z != 0.0);
    let mut header = vec!["time_ps".to_string(), "lag_frames".into(), "origins".into()];
    header.extend(names.iter().map(|n| format!("msd_{n}_A2")));
    for i in 0..s {
        for j in i..s {
            header.push(format!("collective_{}_{}_A2", names[i], names[j]));
        }
    }
    if charged {
        header.push("charge_msd_e2A2".into());
    }
    let gk = corr.self_vacf.as_ref().zip(corr.collective_vcf.as_ref());
    let mut integrals = Vec::new();
    if let Some((vacf, vcf)) = gk {
        header.extend(names.iter().map(|n| format!("vacf_{n}_A2_per_ps2")));
        header.extend(names.iter().map(|n| format!("gk_integral_{n}_A2_per_ps")));
        for i in 0..s {
            for j in i..s {
                header.push(format!("vcf_{}_{}_A2_per_ps2", names[i], names[j]));
            }
        }
        integrals = vacf.iter().chain(vcf.iter()).map(|c| running_integral(c, corr.interval)).collect();
    }
    let mut out = header.join(",");
    out.push('\n');
    let times = corr.lag_times();
    for k in 0..corr.lags.len() {
        let _ = write!(out, "{:?},{},{}", times[k], corr.lags[k], corr.origins[k]);
        for c in &corr.self_msd {
            let _ = write!(out, ",{:?}", c[k]);
        }
        for c in &corr.collective {
            let _ = write!(out, ",{:?}", c[k]);
        }
        if charged {
            let mut q = 0.0;
            for i in 0..s {
                for j in 0..s {
                    q += charges[i] * charges[j] * corr.collective[pair_index(i, j, s)][k];
                }
            }
            let _ = write!(out, ",{q:?}");
        }
        if let Some((vacf, vcf)) = gk {
            for c in vacf {
                let _ = write!(out, ",{:?}", c[k]);
            }
            for c in &integrals[..s] {
                let _ = write!(out, ",{:?}", c[k]);
            }
            for c in vcf {
                let _ = write!(out, ",{:?}", c[k]);
            }
        }
        out.push('\n');
    }
    out
}

pub fn write_curves_csv(path: &Path, corr: &Correlations) -> Result<(), TransportError> {
    write_file(path, &curves_csv(corr))
}

/// Per-hop records: time, atom, species, sites, displacement, kinoson.
pub fn hops_csv(results: &KinosonResults) -> String {
    let mut out = String::from("time_ps,atom,species,from,to,dx_A,dy_A,dz_A,kinoson_A2_per_ps\n");
    for h in &results.hops {
        let d = h.displacement;
        let _ = writeln!(
            out,
            "{:?},{},{},{},{},{:?},{:?},{:?},{:?}",
            h.time, h.atom, h.species, h.from, h.to, d[0], d[1], d[2], h.kinoson
        );
    }
    out
}

pub fn write_hops_csv(path: &Path, results: &KinosonResults) -> Result<(), TransportError> {
    write_file(path, &hops_csv(results))
}

/// Writes one run's outputs into `dir` (created if needed): `transport<tag>.json`,
/// `transport_doc<tag>.json`, `curves<tag>.csv` and with `plots` `msd<tag>.png`. Returns
/// the paths written.
pub fn write_run_outputs(
    dir: &Path,
    tag: &str,
    corr: &Correlations,
    results: &TransportResults,
    metadata: &str,
    plots: bool,
) -> Result<Vec<std::path::PathBuf>, TransportError> {
    std::fs::create_dir_all(dir).map_err(|source| TransportError::Write { path: dir.to_path_buf(), source })?;
    let json_path = dir.join(format!("transport{tag}.json"));
    let doc_path = dir.join(format!("transport_doc{tag}.json"));
    let csv_path = dir.join(format!("curves{tag}.csv"));
    write_json(&json_path, results)?;
    write_json(&doc_path, &TransportDoc::new(results, &corr.composition, metadata))?;
    write_curves_csv(&csv_path, corr)?;
    let mut written = vec![json_path, doc_path, csv_path];
    if plots {
        let png = dir.join(format!("msd{tag}.png"));
        crate::plots::write_figure(&png, &crate::plots::msd_figure(corr, results))?;
        written.push(png);
    }
    Ok(written)
}

/// Writes `arrhenius.json` and with `plots` `arrhenius.png` into `dir`.
pub fn write_arrhenius_outputs(
    dir: &Path,
    report: &ArrheniusReport,
    plots: bool,
) -> Result<Vec<std::path::PathBuf>, TransportError> {
    std::fs::create_dir_all(dir).map_err(|source| TransportError::Write { path: dir.to_path_buf(), source })?;
    let json_path = dir.join("arrhenius.json");
    write_json(&json_path, report)?;
    let mut written = vec![json_path];
    if plots {
        let png = dir.join("arrhenius.png");
        crate::plots::write_figure(&png, &crate::plots::arrhenius_figure(report))?;
        written.push(png);
    }
    Ok(written)
}

/// An Arrhenius fit per species of the tracer D (and of σ when every run has one).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArrheniusReport {
    pub temperatures: Vec<f64>,
    pub species: Vec<String>,
    /// Per species: the D values (Å²/ps) and their fit.
    pub diffusion: Vec<Vec<crate::Estimate>>,
    pub diffusion_fits: Vec<Option<crate::fit::ArrheniusFit>>,
    /// σ (S/m) and its fit.
    pub conductivity: Option<Vec<crate::Estimate>>,
    pub conductivity_fit: Option<crate::fit::ArrheniusFit>,
}

impl ArrheniusReport {
    /// Fits the results of several runs; a quantity that cannot be fitted (a value that is
    /// not positive) gets no fit.
    pub fn new(results: &[TransportResults]) -> Self {
        let temperatures: Vec<f64> = results.iter().map(|r| r.temperature).collect();
        let species = results[0].species.clone();
        let diffusion: Vec<Vec<crate::Estimate>> =
            (0..species.len()).map(|i| results.iter().map(|r| r.diffusion[i]).collect()).collect();
        let diffusion_fits = diffusion.iter().map(|d| crate::fit::arrhenius(&temperatures, d).ok()).collect();
        let conductivity: Option<Vec<crate::Estimate>> = results.iter().map(|r| r.conductivity).collect();
        let conductivity_fit = conductivity.as_ref().and_then(|c| crate::fit::arrhenius(&temperatures, c).ok());
        Self { temperatures, species, diffusion, diffusion_fits, conductivity, conductivity_fit }
    }
}

/// Writes kinoson results: `kinosons.json`, `hops.csv` and with `plots` (and hops)
/// `kinosons.png` in `dir`; `temperature` titles the histograms.
pub fn write_kinoson_outputs(
    dir: &Path,
    results: &KinosonResults,
    temperature: Option<f64>,
    plots: bool,
) -> Result<Vec<std::path::PathBuf>, TransportError> {
    std::fs::create_dir_all(dir).map_err(|source| TransportError::Write { path: dir.to_path_buf(), source })?;
    let json_path = dir.join("kinosons.json");
    let csv_path = dir.join("hops.csv");
    write_json(&json_path, results)?;
    write_hops_csv(&csv_path, results)?;
    let mut written = vec![json_path, csv_path];
    if let (true, Some(figure)) = (plots, crate::plots::kinosons_figure(results, temperature)) {
        let png = dir.join("kinosons.png");
        crate::plots::write_figure(&png, &figure)?;
        written.push(png);
    }
    Ok(written)
}

/// Kinosons of one run (a hop list or a trajectory) at its temperature.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KinosonRun {
    /// K.
    pub temperature: f64,
    #[serde(flatten)]
    pub results: KinosonResults,
}

/// The units of a [`KinosonReport`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct KinosonUnits {
    pub temperature: &'static str,
    pub diffusion: &'static str,
    pub kinoson: &'static str,
    pub duration: &'static str,
    pub activation_energy: &'static str,
    pub covariance: &'static str,
}

impl Default for KinosonUnits {
    fn default() -> Self {
        Self {
            temperature: "K",
            diffusion: "Å²/ps (D, D0, the prefactors and the kinosons); f is dimensionless",
            kinoson: "Å²/ps",
            duration: "ps",
            activation_energy: "eV",
            covariance: "of (Ea in eV, ln prefactor)",
        }
    }
}

/// Kinosons at several temperatures: per temperature D, D₀ and f = D/D₀ per species with
/// their standard errors, and per species Arrhenius fits of D and of D₀.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KinosonReport {
    pub units: KinosonUnits,
    pub temperatures: Vec<f64>,
    pub species: Vec<String>,
    pub runs: Vec<KinosonRun>,
    /// Per species, the fit of D (none for a species that cannot be fitted: no hops at some
    /// temperature, or fewer than two temperatures).
    pub diffusion_fits: Vec<Option<crate::fit::ArrheniusFit>>,
    /// Per species, the fit of D₀.
    pub uncorrelated_fits: Vec<Option<crate::fit::ArrheniusFit>>,
}

impl KinosonReport {
    /// Gathers runs (the same species in the same order in each) and fits them.
    pub fn new(runs: Vec<KinosonRun>) -> Result<Self, TransportError> {
        let Some(first) = runs.first() else {
            return Err(TransportError::Invalid("no kinoson runs to report".into()));
        };
        let species = first.results.species.clone();
        if let Some(r) = runs.iter().find(|r| r.results.species != species) {
            return Err(TransportError::Invalid(format!(
                "the kinoson run at {} K has species {:?}, the first {:?}: every run needs the same species",
                r.temperature, r.results.species, species
            )));
        }
        let temperatures: Vec<f64> = runs.iter().map(|r| r.temperature).collect();
        for (i, t) in temperatures.iter().enumerate() {
            if !(*t > 0.0 && t.is_finite()) || temperatures[..i].contains(t) {
                return Err(TransportError::Invalid(format!(
                    "kinoson runs need distinct positive temperatures (the outputs are named by them), not {temperatures:?}"
                )));
            }
        }
        let fits = |pick: &dyn Fn(&KinosonResults) -> &Vec<crate::Estimate>| {
            (0..species.len())
                .map(|i| {
                    let values: Vec<crate::Estimate> = runs.iter().map(|r| pick(&r.results)[i]).collect();
                    crate::fit::arrhenius(&temperatures, &values).ok()
                })
                .collect::<Vec<_>>()
        };
        let diffusion_fits = fits(&|r| &r.diffusion);
        let uncorrelated_fits = fits(&|r| &r.uncorrelated);
        Ok(Self { units: KinosonUnits::default(), temperatures, species, runs, diffusion_fits, uncorrelated_fits })
    }

    /// The tag of run `i` in file names: `_<T>K`.
    pub fn tag(&self, i: usize) -> String {
        format!("_{}K", self.temperatures[i])
    }
}

/// Writes kinosons at several temperatures: `kinosons.json` (the [`KinosonReport`]),
/// `hops_<T>K.csv` per temperature and with `plots` `kinosons.png` (per species, one
/// histogram per temperature) and `kinosons_arrhenius.png` (D and D₀ against 1000/T).
pub fn write_kinoson_report_outputs(
    dir: &Path,
    report: &KinosonReport,
    plots: bool,
) -> Result<Vec<std::path::PathBuf>, TransportError> {
    std::fs::create_dir_all(dir).map_err(|source| TransportError::Write { path: dir.to_path_buf(), source })?;
    let json_path = dir.join("kinosons.json");
    write_json(&json_path, report)?;
    let mut written = vec![json_path];
    for (i, run) in report.runs.iter().enumerate() {
        let csv_path = dir.join(format!("hops{}.csv", report.tag(i)));
        write_hops_csv(&csv_path, &run.results)?;
        written.push(csv_path);
    }
    if plots {
        if let Some(figure) = crate::plots::kinosons_temperatures_figure(report) {
            let png = dir.join("kinosons.png");
            crate::plots::write_figure(&png, &figure)?;
            written.push(png);
        }
        let png = dir.join("kinosons_arrhenius.png");
        crate::plots::write_figure(&png, &crate::plots::kinosons_arrhenius_figure(report))?;
        written.push(png);
    }
    Ok(written)
}
