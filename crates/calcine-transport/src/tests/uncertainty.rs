//! The reported standard errors against the spread of estimates over many independent
//! trajectories, and the Arrhenius fit against exact values.

use calcine_core::SimBox;

use super::estimators::{analyse, spec_of};
use super::walks::{brownian, lattice_walk, reader_of, table, Cubic, Layout};
use crate::fit;
use crate::Estimate;

/// (spread of the estimates, mean reported standard error, mean estimate) over `trials`
/// trajectories made by `make`.
fn spread(trials: u64, make: impl Fn(u64) -> (Vec<Vec<[f64; 3]>>, f64)) -> (f64, f64, f64) {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for t in 0..trials {
        let (paths, dt) = make(t);
        let n = paths.len();
        let mut reader =
            reader_of(paths, vec![0; n], table(&[("Li", 6.94)]), SimBox::cubic(30.0).unwrap(), dt, Layout::Unwrapped);
        let r = analyse(&mut reader, &spec_of(&[("Li", 1.0)], 300.0));
        values.push(r.diffusion[0].value);
        errors.push(r.diffusion[0].std_error);
    }
    let n = trials as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (sd, errors.iter().sum::<f64>() / n, mean)
}

fn check(name: &str, (sd, se, mean): (f64, f64, f64), exact: f64, trials: u64) {
    let ratio = se / sd;
    eprintln!("{name}: reported error {se:.4e}, spread {sd:.4e}, ratio {ratio:.3}, mean {mean:.5} (exact {exact})");
    assert!((ratio - 1.0).abs() < 0.2, "{name}: reported error {se:.4e}, spread {sd:.4e} (ratio {ratio:.3})");
    assert!((mean - exact).abs() < 4.0 * sd / (trials as f64).sqrt(), "{name}: mean D {mean}, exact {exact}");
}

#[test]
fn standard_errors_match_the_spread_over_200_lattice_walks() {
    let trials = 200;
    let (a, w, dt) = (1.0, 1.0, 0.25);
    let (walkers, frames) = if std::env::var_os("RUN_SLOW_TESTS").is_some() { (40, 2000) } else { (6, 300) };
    let result = spread(trials, |t| {
        ((0..walkers).map(|i| lattice_walk(1000 + t, i, Cubic::Fcc, a, w, dt, frames)).collect(), dt)
    });
    check("fcc lattice walks", result, w * a * a, trials);
}

#[test]
fn standard_errors_match_the_spread_over_200_brownian_trajectories() {
    let trials = 200;
    let (d, dt) = (0.5, 0.1);
    let (walkers, frames) = if std::env::var_os("RUN_SLOW_TESTS").is_some() { (40, 2000) } else { (6, 300) };
    let result =
        spread(trials, |t| ((0..walkers).map(|i| brownian(5000 + t, i, frames, d, dt, [0.0; 3])).collect(), dt));
    check("Brownian", result, d, trials);
}

#[test]
fn overlap_sums_count_pairs_of_windows() {
    // Brute force over origins.
    for (frames, n, m) in [(10, 1, 1), (10, 2, 5), (12, 5, 2), (30, 7, 11), (30, 14, 14)] {
        let (mut s1, mut s2) = (0.0, 0.0);
        for k in 0..frames - n {
            for l in 0..frames - m {
                let o = ((k + n).min(l + m) as i64 - k.max(l) as i64).max(0) as f64;
                s1 += o;
                s2 += o * o;
            }
        }
        assert_eq!(fit::overlap_sums(frames, n, m), (s1, s2), "N {frames}, n {n}, m {m}");
    }
}

#[test]
fn arrhenius_fit_recovers_activation_energy_and_prefactor() {
    let kb = calcine_core::units::BOLTZ;
    let (ea, d0) = (0.45, 3.2e-2);
    let temps = [600.0, 800.0, 1000.0, 1200.0];
    let exact: Vec<Estimate> = temps
        .iter()
        .map(|t| {
            let v = d0 * (-ea / (kb * t)).exp();
            Estimate::new(v, 0.05 * v)
        })
        .collect();
    let f = fit::arrhenius(&temps, &exact).unwrap();
    assert!((f.activation_energy.value - ea).abs() < 1e-10);
    assert!((f.prefactor.value - d0).abs() < 1e-10 * d0);
    // The errors follow from 5% relative errors: σ(Ea) = 0.05/sqrt(Σ(x−x̄)²) with x = −1/kT.
    let x: Vec<f64> = temps.iter().map(|t| -1.0 / (kb * t)).collect();
    let mx = x.iter().sum::<f64>() / 4.0;
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    assert!((f.activation_energy.std_error - 0.05 / sxx.sqrt()).abs() < 1e-9 * f.activation_energy.std_error);
    // A larger Ea goes with a larger prefactor (compensation): positive covariance.
    assert!(f.covariance[0][1] > 0.0, "Ea and ln D0 are positively correlated");
    // Values with noise: Ea within its error bar's reach over many draws.
    let mut within = 0;
    for trial in 0..200u64 {
        let noisy: Vec<Estimate> = temps
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let g = super::walks::normal3(77, trial, i as u64)[0];
                let v = d0 * (-ea / (kb * t)).exp() * (1.0 + 0.05 * g);
                Estimate::new(v, 0.05 * v)
            })
            .collect();
        let f = fit::arrhenius(&temps, &noisy).unwrap();
        if (f.activation_energy.value - ea).abs() < f.activation_energy.std_error {
            within += 1;
        }
    }
    assert!((120..=155).contains(&within), "{within} of 200 within one standard error (expect ~137)");
    assert!(fit::arrhenius(&[500.0], &exact[..1]).is_err());
}

#[test]
fn cross_term_errors_match_the_spread_over_200_trajectories() {
    // Independent Brownian cations and anions: L+- = 0 on average, and its reported
    // standard error must match the spread of the estimates.
    use super::walks::table;
    let trials = 200u64;
    let (dt, frames, n) = (0.1, 300, 4u64);
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for t in 0..trials {
        let mut paths = Vec::new();
        let mut species = Vec::new();
        for i in 0..2 * n {
            paths.push(brownian(9000 + t, i, frames, if i < n { 0.8 } else { 0.3 }, dt, [0.0; 3]));
            species.push(u32::from(i >= n));
        }
        let mut reader = reader_of(
            paths,
            species,
            table(&[("Li", 6.94), ("F", 19.0)]),
            SimBox::cubic(30.0).unwrap(),
            dt,
            Layout::Unwrapped,
        );
        let r = analyse(&mut reader, &spec_of(&[("Li", 1.0), ("F", -1.0)], 300.0));
        values.push(r.onsager[0][1].value);
        errors.push(r.onsager[0][1].std_error);
    }
    let m = trials as f64;
    let mean = values.iter().sum::<f64>() / m;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0)).sqrt();
    let se = errors.iter().sum::<f64>() / m;
    eprintln!("L+-: reported error {se:.4e}, spread {sd:.4e}, ratio {:.3}, mean {mean:.3e}", se / sd);
    assert!((se / sd - 1.0).abs() < 0.2, "L+-: reported error {se:.4e}, spread {sd:.4e}");
    assert!(mean.abs() < 4.0 * sd / m.sqrt(), "L+- mean {mean} is not 0");
}
