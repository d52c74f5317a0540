use super::walks::brownian;
use crate::correlate::{self, direct, FftPlan, SelfSpectrum};
use crate::multitau::MultiTau;

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-3 * scale)).fold(0.0, f64::max)
}

#[test]
fn fast_lengths_are_5_smooth_and_minimal() {
    assert_eq!(correlate::fast_len(1), 1);
    assert_eq!(correlate::fast_len(7), 8);
    assert_eq!(correlate::fast_len(1999), 2000);
    assert_eq!(correlate::fast_len(39999), 40000);
    assert_eq!(correlate::fast_len(1025), 1080);
    for n in 1..3000 {
        let l = correlate::fast_len(n);
        assert!(l >= n);
        let mut r = l;
        for p in [2, 3, 5] {
            while r.is_multiple_of(p) {
                r /= p;
            }
        }
        assert_eq!(r, 1, "{l} is not 5-smooth");
    }
}

#[test]
fn fft_cross_displacement_equals_direct_windowed_sums() {
    for n in [1, 2, 3, 17, 300, 1001] {
        let a = brownian(1, 0, n, 0.5, 0.1, [3.0, -2.0, 40.0]);
        let b = brownian(1, 1, n, 1.5, 0.1, [-7.0, 1.0, 0.5]);
        let fft = correlate::cross_msd(&a, &b);
        let exact = direct::cross_msd(&a, &b);
        // Cross terms change sign: compare with the scale of the curve.
        let scale = exact.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
        let err = fft.iter().zip(&exact).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale;
        assert!(err < 1e-12, "n = {n}: cross MSD differs from the direct sum by {err:e} of its scale");
        let fft = correlate::msd(&a);
        let exact = direct::cross_msd(&a, &a);
        let err = max_rel(&fft, &exact);
        assert!(err < 1e-12, "n = {n}: MSD differs from the direct sum by {err:e} (relative)");
        let fft = correlate::correlation(&a, &b);
        let exact = direct::correlation(&a, &b);
        let scale = exact.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
        let err = fft.iter().zip(&exact).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale;
        assert!(err < 1e-12, "n = {n}: correlation differs from the direct sum by {err:e}");
    }
}

#[test]
fn cross_msd_matrix_holds_every_pair_in_order() {
    let series: Vec<Vec<[f64; 3]>> = (0..3).map(|i| brownian(2, i, 64, 1.0, 0.1, [0.0; 3])).collect();
    let refs: Vec<&[[f64; 3]]> = series.iter().map(Vec::as_slice).collect();
    let m = correlate::cross_msd_matrix(&refs);
    assert_eq!(m.len(), 6);
    for i in 0..3 {
        for j in i..3 {
            let exact = direct::cross_msd(&series[i], &series[j]);
            let got = &m[correlate::pair_index(i, j, 3)];
            assert_eq!(correlate::pair_index(j, i, 3), correlate::pair_index(i, j, 3));
            let scale = exact.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
            let err = got.iter().zip(&exact).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale;
            assert!(err < 1e-12, "pair ({i}, {j}): {err:e}");
        }
    }
}

#[test]
fn summed_self_spectrum_equals_the_sum_of_direct_msds_in_any_partition() {
    let n = 257;
    let atoms: Vec<Vec<[f64; 3]>> =
        (0..7).map(|i| correlate::centred(&brownian(3, i, n, 0.2 + i as f64, 0.05, [i as f64; 3]))).collect();
    let mut exact = vec![0.0; n];
    for a in &atoms {
        for (e, x) in exact.iter_mut().zip(direct::cross_msd(a, a)) {
            *e += x;
        }
    }
    let plan = FftPlan::new(n);
    let bound = atoms.iter().flatten().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
    let whole = {
        let mut s = SelfSpectrum::new(&plan, bound, 7);
        for pair in atoms.chunks(2) {
            s.add_pair(&plan, &pair[0], pair.get(1).map(Vec::as_slice));
        }
        s
    };
    let got = whole.msd_sum(&plan);
    assert!(max_rel(&got, &exact) < 1e-12, "{:e}", max_rel(&got, &exact));
    // The same pairs added in another order and split in two partial sums: same bits.
    let mut first = SelfSpectrum::new(&plan, bound, 7);
    let mut second = SelfSpectrum::new(&plan, bound, 7);
    let pairs: Vec<&[Vec<[f64; 3]>]> = atoms.chunks(2).collect();
    for pair in pairs.iter().rev().take(2) {
        second.add_pair(&plan, &pair[0], pair.get(1).map(Vec::as_slice));
    }
    for pair in pairs.iter().take(2) {
        first.add_pair(&plan, &pair[0], pair.get(1).map(Vec::as_slice));
    }
    second.merge(&first);
    assert_eq!(second.n_series(), 7);
    let split = second.msd_sum(&plan);
    assert!(split.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn multiple_tau_level_zero_equals_the_fft_and_long_lags_are_unbiased() {
    let n = 4096;
    let walkers = 64;
    let d = 0.7;
    let dt = 0.1;
    let mut fft_sum = vec![0.0; n];
    let mut mt = MultiTau::msd(16, 2);
    let mut curves = Vec::new();
    for w in 0..walkers {
        let path = brownian(4, w, n, d, dt, [0.0; 3]);
        for (s, x) in fft_sum.iter_mut().zip(correlate::msd(&path)) {
            *s += x / walkers as f64;
        }
        let mut one = MultiTau::msd(16, 2);
        for x in &path {
            one.push(std::slice::from_ref(x));
        }
        curves.push(one.curves());
        if w == 0 {
            mt = one;
        }
    }
    // Level 0 (lags 1..15) uses every origin: the same sums as the FFT of one walker.
    let one = mt.curves();
    let fft0 = correlate::msd(&brownian(4, 0, n, d, dt, [0.0; 3]));
    for (i, &lag) in one.lags.iter().enumerate().take(16) {
        let m = one.sums[0][i] / one.counts[i] as f64;
        assert!((m - fft0[lag as usize]).abs() <= 1e-12 * fft0[lag as usize].max(fft0[1]), "lag {lag}");
        assert_eq!(one.counts[i], (n as u64) - lag, "lag {lag} counts every origin");
    }
    // Longer lags: the average over walkers agrees with the FFT average within the
    // statistical resolution sqrt(factor^level) of the decimated origins.
    let lags = &curves[0].lags;
    for (i, &lag) in lags.iter().enumerate().skip(1) {
        if lag as usize >= n / 2 {
            break;
        }
        let values: Vec<f64> = curves.iter().map(|c| c.sums[0][i] / c.counts[i] as f64).collect();
        let mean = values.iter().sum::<f64>() / walkers as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (walkers - 1) as f64;
        let sem = (var / walkers as f64).sqrt();
        let exact = 6.0 * d * dt * lag as f64;
        assert!((mean - fft_sum[lag as usize]).abs() < 4.0 * sem, "lag {lag}: {mean} vs FFT {}", fft_sum[lag as usize]);
        assert!((mean - exact).abs() < 4.0 * sem, "lag {lag}: {mean} vs exact {exact}");
    }
    // Memory grows with the logarithm of the length.
    assert!(mt.memory_bytes() < 16 * 1024, "{} bytes", mt.memory_bytes());
}

#[test]
fn multiple_tau_is_exact_for_ballistic_motion_at_every_level() {
    let v = [0.3, -1.2, 2.0];
    let mut mt = MultiTau::new(2, vec![(0, 0), (0, 1), (1, 1)], 8, 2);
    for k in 0..1000 {
        let t = k as f64;
        mt.push(&[[v[0] * t, v[1] * t, v[2] * t], [2.0 * t, 0.0, 1.0]]);
    }
    let c = mt.curves();
    let v2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    for (i, &lag) in c.lags.iter().enumerate() {
        let l = lag as f64;
        let means = [c.mean(0)[i], c.mean(1)[i], c.mean(2)[i]];
        let exact = [v2 * l * l, 2.0 * v[0] * l * l, 4.0 * l * l];
        for (m, e) in means.iter().zip(exact) {
            assert!((m - e).abs() <= 1e-9 * e.abs().max(1.0), "lag {lag}: {m} vs {e}");
        }
    }
    assert!(*c.lags.last().unwrap() >= 500);
}
