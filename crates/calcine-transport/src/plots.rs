//! PNG charts of an analysis (drawn by `calcine-plot`): the tracer MSDs and the collective
//! cross-displacement curves with their fitted lines, the fit window shaded and the ±1σ
//! band of the fitted slope (`msd.png`); D against 1000/T with error bars and the Arrhenius
//! fits (`arrhenius.png`); the distribution of kinosons per species, at one temperature or
//! several (`kinosons.png`), and their D and D₀ against 1000/T (`kinosons_arrhenius.png`).
//! Charts only picture numbers that the JSON and CSV files hold.

use std::path::Path;

use calcine_plot::{curve_colour, Axis, Band, Bars, Corner, Figure, Mark, Panel, Series};

use crate::analysis::Correlations;
use crate::correlate::pair_index;
use crate::fit::LineFit;
use crate::kinoson::KinosonResults;
use crate::onsager::{transformed, TransportResults};
use crate::output::{ArrheniusReport, KinosonReport};
use crate::{Estimate, TransportError};

fn pm(e: Estimate) -> String {
    if e.std_error.is_finite() {
        format!("{:.4e} ± {:.1e}", e.value, e.std_error)
    } else {
        format!("{:.4e}", e.value)
    }
}

/// The fitted line over its window (dashed) and the band of slopes ±1 standard error.
fn add_fit(panel: &mut Panel, times: &[f64], fit: &LineFit, colour: calcine_plot::Colour) {
    let x: Vec<f64> = times.iter().copied().filter(|&t| t >= fit.start && t <= fit.end).collect();
    let line = |slope: f64| -> Vec<f64> { x.iter().map(|t| fit.intercept.value + slope * t).collect() };
    let (s, e) = (fit.slope.value, fit.slope.std_error);
    if e.is_finite() {
        panel.bands.push(Band { x: x.clone(), lower: line(s - e), upper: line(s + e), colour });
    }
    panel.series.push(Series::dashed(x.iter().copied().zip(line(s)).collect(), colour));
}

fn fit_named<'a>(results: &'a TransportResults, name: &str) -> Option<&'a LineFit> {
    results.fits.iter().find(|f| f.name == name).map(|f| &f.fit)
}

/// `msd.png`: tracer MSDs (left) and collective ⟨ΔX_i·ΔX_j⟩ in the reference frame of the
/// Onsager fits (right), each with its fit, band and the fit window.
pub fn msd_figure(corr: &Correlations, results: &TransportResults) -> Figure {
    let times = corr.lag_times();
    let names = &results.species;
    let s = names.len();
    let window = (results.fit_window[0], results.fit_window[1]);

    let mut tracer = Panel::new(Axis::linear("lag time (ps)"), Axis::linear("tracer MSD (Å²)"));
    tracer.title = Some("tracer".into());
    tracer.spans.push(window);
    for (i, name) in names.iter().enumerate() {
        let c = curve_colour(i);
        let label = format!("{name}: D* = {} Å²/ps", pm(results.diffusion[i]));
        tracer.series.push(Series::line(
            label,
            times.iter().copied().zip(corr.self_msd[i].iter().copied()).collect(),
            c,
        ));
        if let Some(f) = fit_named(results, &format!("msd {name}")) {
            add_fit(&mut tracer, &times, f, c);
        }
    }

    let reference =
        results.reference_frame.strip_prefix("relative to ").and_then(|r| names.iter().position(|n| n == r));
    let collective = transformed(&corr.collective, &corr.counts, s, reference);
    let mut cross = Panel::new(Axis::linear("lag time (ps)"), Axis::linear("⟨ΔX_i·ΔX_j⟩ (Å²)"));
    cross.title = Some(format!("collective ({} frame)", results.reference_frame));
    cross.spans.push(window);
    let mut k = 0;
    for i in 0..s {
        for j in i..s {
            let c = curve_colour(k);
            k += 1;
            let curve = &collective[pair_index(i, j, s)];
            let label = format!("{}–{}: L = {} /(eV·Å·ps)", names[i], names[j], pm(results.onsager[i][j]));
            cross.series.push(Series::line(label, times.iter().copied().zip(curve.iter().copied()).collect(), c));
            if let Some(f) = fit_named(results, &format!("collective {} {}", names[i], names[j])) {
                add_fit(&mut cross, &times, f, c);
            }
        }
    }
    let mut fig = Figure::new(1400, 560, vec![tracer, cross]);
    let how = if results.fit_window_automatic.iter().all(|&a| a) { "automatic" } else { "given" };
    fig.title = Some(format!(
        "{} K, {} frames, fit window {:.4} to {:.4} ps ({how}), ±1σ bands of the fitted slopes",
        results.temperature, results.n_frames, window.0, window.1
    ));
    fig
}

/// Values against 1000/T with error bars, labelled with the fit's activation energy, and
/// the fitted line over the temperatures' range.
fn add_arrhenius(
    panel: &mut Panel,
    x: &[f64],
    name: &str,
    values: &[Estimate],
    fit: Option<&crate::fit::ArrheniusFit>,
    colour: calcine_plot::Colour,
) {
    let kb = calcine_core::units::BOLTZ;
    let pts = x.iter().copied().zip(values.iter().map(|d| d.value)).collect();
    let err = values.iter().map(|d| d.std_error).collect();
    let label = match fit {
        Some(f) => format!("{name}: Ea = {:.4} ± {:.4} eV", f.activation_energy.value, f.activation_energy.std_error),
        None => name.to_string(),
    };
    panel.series.push(Series::points_with_errors(label, pts, err, colour));
    if let Some(f) = fit {
        let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let line = (0..=40)
            .map(|k| lo + (hi - lo) * k as f64 / 40.0)
            .map(|v| (v, f.prefactor.value * (-f.activation_energy.value * v / (1000.0 * kb)).exp()))
            .collect();
        panel.series.push(Series { label: None, points: line, colour, mark: Mark::Line, errors: None });
    }
}

/// `arrhenius.png`: tracer D per species against 1000/T (log scale) with error bars and the
/// Arrhenius fits.
pub fn arrhenius_figure(report: &ArrheniusReport) -> Figure {
    let x: Vec<f64> = report.temperatures.iter().map(|t| 1000.0 / t).collect();
    let mut panel = Panel::new(Axis::linear("1000 / T (1/K)"), Axis::log("D* (Å²/ps)"));
    // D falls with 1000/T: the upper right corner is free.
    panel.legend = Corner::UpperRight;
    for (i, name) in report.species.iter().enumerate() {
        add_arrhenius(&mut panel, &x, name, &report.diffusion[i], report.diffusion_fits[i].as_ref(), curve_colour(i));
    }
    Figure::new(720, 560, vec![panel])
}

/// `kinosons_arrhenius.png`: per species with hops at every temperature, the kinoson D
/// (colour 2i) and the uncorrelated D₀ (colour 2i + 1) against 1000/T with error bars and
/// their Arrhenius fits.
pub fn kinosons_arrhenius_figure(report: &KinosonReport) -> Figure {
    let x: Vec<f64> = report.temperatures.iter().map(|t| 1000.0 / t).collect();
    let mut panel = Panel::new(Axis::linear("1000 / T (1/K)"), Axis::log("D (Å²/ps)"));
    panel.legend = Corner::UpperRight;
    panel.title = Some("kinosons: D (correlated) and D0 (uncorrelated)".into());
    for (i, name) in report.species.iter().enumerate() {
        if report.runs.iter().any(|r| r.results.n_hops[i] == 0) {
            continue;
        }
        let d: Vec<Estimate> = report.runs.iter().map(|r| r.results.diffusion[i]).collect();
        let d0: Vec<Estimate> = report.runs.iter().map(|r| r.results.uncorrelated[i]).collect();
        add_arrhenius(&mut panel, &x, &format!("{name} D"), &d, report.diffusion_fits[i].as_ref(), curve_colour(2 * i));
        let fit0 = report.uncorrelated_fits[i].as_ref();
        add_arrhenius(&mut panel, &x, &format!("{name} D0"), &d0, fit0, curve_colour(2 * i + 1));
    }
    Figure::new(720, 560, vec![panel])
}

/// `kinosons.png` at several temperatures: per species with hops, one histogram of log10 κ
/// weighted by κ per temperature (colour = the temperature's index); `None` without hops.
pub fn kinosons_temperatures_figure(report: &KinosonReport) -> Option<Figure> {
    let mut panels = Vec::new();
    for name in &report.species {
        let mut panel = Panel::new(Axis::linear("log10 kinoson (Å²/ps)"), Axis::linear("contribution to D (Å²/ps)"));
        panel.title = Some(format!("{name}: kinosons by temperature"));
        for (t, run) in report.runs.iter().enumerate() {
            let k: Vec<f64> =
                run.results.hops.iter().filter(|h| &h.species == name && h.kinoson > 0.0).map(|h| h.kinoson).collect();
            if k.is_empty() {
                continue;
            }
            let logs: Vec<f64> = k.iter().map(|v| v.log10()).collect();
            let bins = (k.len() as f64).sqrt().ceil().clamp(5.0, 60.0) as usize;
            let i = report.species.iter().position(|s| s == name).expect("a species of the report");
            let label = format!("{} K: {} hops, D = {} Å²/ps", run.temperature, k.len(), pm(run.results.diffusion[i]));
            panel.bars.push(Bars::histogram(label, &logs, &k, bins, curve_colour(t)));
        }
        if !panel.bars.is_empty() {
            panels.push(panel);
        }
    }
    let width = 620 * panels.len() as u32;
    (!panels.is_empty()).then(|| Figure::new(width, 520, panels))
}

/// `kinosons.png`: per species, the histogram of log10 of the hops' kinosons weighted by
/// the kinoson (each bin's contribution to D, which the bins sum to); `None` without hops.
pub fn kinosons_figure(results: &KinosonResults, temperature: Option<f64>) -> Option<Figure> {
    let mut panels = Vec::new();
    for (i, name) in results.species.iter().enumerate() {
        let k: Vec<f64> =
            results.hops.iter().filter(|h| &h.species == name && h.kinoson > 0.0).map(|h| h.kinoson).collect();
        if k.is_empty() {
            continue;
        }
        let logs: Vec<f64> = k.iter().map(|v| v.log10()).collect();
        let total: f64 = k.iter().sum();
        let bins = (k.len() as f64).sqrt().ceil().clamp(5.0, 60.0) as usize;
        let label = format!("{} hops, Σκ = {total:.4e} Å²/ps", k.len());
        let mut panel = Panel::new(Axis::linear("log10 kinoson (Å²/ps)"), Axis::linear("contribution to D (Å²/ps)"));
        panel.title = Some(match temperature {
            Some(t) => format!("{name} at {t} K: D = {} Å²/ps", pm(results.diffusion[i])),
            None => format!("{name}: D = {} Å²/ps", pm(results.diffusion[i])),
        });
        panel.bars.push(Bars::histogram(label, &logs, &k, bins, curve_colour(i)));
        panels.push(panel);
    }
    let width = 620 * panels.len() as u32;
    (!panels.is_empty()).then(|| Figure::new(width, 520, panels))
}

/// Writes a figure, mapping a failure to an error naming the file.
pub fn write_figure(path: &Path, figure: &Figure) -> Result<(), TransportError> {
    figure.write_png(path).map_err(TransportError::Plot)
}
