//! The PNG charts: written beside the numbers when asked, readable, of the stated size,
//! showing each curve in its colour, never changing a number, and failing with the file's
//! name.

use calcine_comm::SerialComm;
use calcine_core::SimBox;
use calcine_plot::{curve_colour, Colour, Image, SPAN_GREY};

use super::estimators::spec_of;
use super::walks::{brownian, reader_of, table, Layout};
use crate::fit::arrhenius;
use crate::kinoson::{HopRecord, KinosonResults};
use crate::output::{write_arrhenius_outputs, write_kinoson_outputs, write_run_outputs, ArrheniusReport};
use crate::{analyse_frames, estimate, Estimate, EstimateOptions};

fn count(image: &Image, c: Colour, x: (u32, u32)) -> usize {
    image.count(c, (x.0, 0), (x.1, image.height))
}

#[test]
fn msd_png_shows_each_curve_fit_window_and_band_and_changes_no_number() {
    let (dt, frames) = (0.01, 400);
    let mut paths = Vec::new();
    let mut species = Vec::new();
    for i in 0..24u64 {
        let d = if i % 2 == 0 { 0.2 } else { 0.05 };
        paths.push(brownian(7, i, frames, d, dt, [1.0 + i as f64 * 0.4; 3]));
        species.push((i % 2) as u32);
    }
    let tab = table(&[("Li", 6.94), ("Na", 22.99)]);
    let mut reader = reader_of(paths, species, tab, SimBox::cubic(12.0).unwrap(), dt, Layout::Images);
    let spec = spec_of(&[("Li", 1.0), ("Na", 1.0)], 500.0);
    let corr = analyse_frames(&mut reader, &spec, &SerialComm::default(), &mut |_| {}).unwrap();
    let options =
        EstimateOptions { fit_window: spec.fit_window, fit_points: spec.fit_points, reference: spec.reference.clone() };
    let results = estimate(&corr, &options).unwrap();

    let with = tempfile::tempdir().unwrap();
    let without = tempfile::tempdir().unwrap();
    let written = write_run_outputs(with.path(), "_500K", &corr, &results, "t", true).unwrap();
    let plain = write_run_outputs(without.path(), "_500K", &corr, &results, "t", false).unwrap();
    assert_eq!(written.len(), 4);
    assert_eq!(plain.len(), 3);
    for (a, b) in written.iter().zip(&plain) {
        assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap(), "{} changed", a.display());
    }
    let png = with.path().join("msd_500K.png");
    assert_eq!(written[3], png);
    let image = Image::read_png(&png).unwrap();
    assert_eq!((image.width, image.height), (1400, 560));
    let (left, right) = ((0, 700), (700, 1400));
    // Tracer panel: Li and Na; collective panel: Li–Li, Li–Na, Na–Na.
    for k in 0..2 {
        assert!(count(&image, curve_colour(k), left) > 300, "tracer curve {k}");
    }
    for k in 0..3 {
        assert!(count(&image, curve_colour(k), right) > 300, "collective curve {k}");
    }
    assert_eq!(count(&image, curve_colour(3), (0, 1400)), 0, "no fourth curve");
    assert!(count(&image, SPAN_GREY, left) > 1000 && count(&image, SPAN_GREY, right) > 1000, "fit windows");
    // The ±1σ bands are translucent: blends of a curve colour that are not the colour itself.
    let c = curve_colour(0);
    let blue = image.rgb.chunks(3).filter(|p| p[2] > p[0] + 25 && Colour(p[0], p[1], p[2]) != c).count();
    assert!(blue > 50, "Li's band ({blue} pixels)");
}

#[test]
fn arrhenius_png_has_a_marker_per_temperature_and_the_fit() {
    let temperatures = vec![500.0, 600.0, 800.0, 1000.0];
    let kb = calcine_core::units::BOLTZ;
    let d: Vec<Estimate> = temperatures
        .iter()
        .map(|t| Estimate::new(2.0 * (-0.4 / (kb * t)).exp(), 1e-3 * (-0.4 / (kb * t)).exp()))
        .collect();
    let fit = arrhenius(&temperatures, &d).unwrap();
    assert!((fit.activation_energy.value - 0.4).abs() < 1e-9);
    let report = ArrheniusReport {
        temperatures,
        species: vec!["Li".into()],
        diffusion: vec![d],
        diffusion_fits: vec![Some(fit)],
        conductivity: None,
        conductivity_fit: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let written = write_arrhenius_outputs(dir.path(), &report, true).unwrap();
    assert_eq!(written, vec![dir.path().join("arrhenius.json"), dir.path().join("arrhenius.png")]);
    let image = Image::read_png(&written[1]).unwrap();
    assert_eq!((image.width, image.height), (720, 560));
    // Four markers of radius 4 (≈ 50 pixels each) and the fitted line.
    assert!(count(&image, curve_colour(0), (0, 720)) > 4 * 40 + 200);
    assert_eq!(write_arrhenius_outputs(dir.path(), &report, false).unwrap().len(), 1);
}

#[test]
fn kinosons_png_has_a_histogram_per_species_with_hops() {
    let hop = |k: usize, species: &str, kinoson: f64| HopRecord {
        time: k as f64,
        atom: k,
        species: species.into(),
        from: 0,
        to: 1,
        displacement: [1.0, 0.0, 0.0],
        kinoson,
    };
    let hops: Vec<HopRecord> = (0..200).map(|k| hop(k, "Li", 1e-3 * (1.0 + (k % 17) as f64))).collect();
    let e = Estimate::new(0.1, 0.01);
    let results = KinosonResults {
        species: vec!["Li".into(), "Na".into()],
        diffusion: vec![e, e],
        diffusion_training: vec![0.1, 0.0],
        uncorrelated: vec![e, e],
        correlation_factor: vec![e, e],
        n_hops: vec![200, 0],
        atoms: vec![10, 10],
        duration: 200.0,
        basis_size: 3,
        blocks: 5,
        kinosons: vec![],
        hops,
    };
    let dir = tempfile::tempdir().unwrap();
    let written = write_kinoson_outputs(dir.path(), &results, Some(700.0), true).unwrap();
    let image = Image::read_png(&dir.path().join("kinosons.png")).unwrap();
    assert_eq!(written.len(), 3);
    assert_eq!((image.width, image.height), (620, 520), "one panel: Na has no hops");
    assert!(count(&image, curve_colour(0), (0, 620)) > 200, "bar outlines");
}

#[test]
fn a_plot_that_cannot_be_written_is_an_error_naming_the_file() {
    let report = ArrheniusReport {
        temperatures: vec![500.0, 600.0],
        species: vec!["Li".into()],
        diffusion: vec![vec![Estimate::new(1.0, 0.1), Estimate::new(2.0, 0.1)]],
        diffusion_fits: vec![None],
        conductivity: None,
        conductivity_fit: None,
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("arrhenius.png")).unwrap();
    let err = write_arrhenius_outputs(dir.path(), &report, true).unwrap_err().to_string();
    assert!(err.contains("arrhenius.png"), "{err}");
}
