//! The exact validation cases of transport.md §5 through the whole pipeline: frames →
//! unwrapping and drift → correlators → fits.

use calcine_comm::SerialComm;
use calcine_core::SimBox;

use super::walks::{brownian, lattice_walk, reader_of, table, Cubic, Layout};
use crate::spec::{Drift, Method, SpeciesSpec, TransportSpec};
use crate::{analyse_frames, estimate, EstimateOptions, TransportResults};

pub fn spec_of(species: &[(&str, f64)], temperature: f64) -> TransportSpec {
    let mut spec = TransportSpec::new(
        species.iter().map(|(n, z)| SpeciesSpec { name: n.to_string(), charge: *z }).collect(),
        temperature,
    );
    spec.drift = Drift::None;
    spec
}

pub fn analyse(reader: &mut dyn calcine_io::FrameReader, spec: &TransportSpec) -> TransportResults {
    let corr = analyse_frames(reader, spec, &SerialComm::default(), &mut |_| {}).expect("analysis runs");
    let options =
        EstimateOptions { fit_window: spec.fit_window, fit_points: spec.fit_points, reference: spec.reference.clone() };
    estimate(&corr, &options).expect("estimates")
}

fn within(value: f64, exact: f64, se: f64, k: f64) -> bool {
    (value - exact).abs() <= k * se
}

#[test]
fn lattice_random_walks_give_d_equal_z_w_a2_over_2d() {
    let (a, w, dt, frames, walkers) = (2.0, 0.5, 0.2, 1500, 120);
    for (lattice, seed) in [(Cubic::Sc, 11), (Cubic::Bcc, 12), (Cubic::Fcc, 13)] {
        let paths: Vec<Vec<[f64; 3]>> =
            (0..walkers).map(|i| lattice_walk(seed, i, lattice, a, w, dt, frames)).collect();
        let simbox = SimBox::cubic(24.0).unwrap();
        let mut reader =
            reader_of(paths, vec![0; walkers as usize], table(&[("Li", 6.94)]), simbox, dt, Layout::Images);
        let r = analyse(&mut reader, &spec_of(&[("Li", 1.0)], 300.0));
        let d = r.diffusion[0];
        let exact = w * a * a;
        assert!(
            within(d.value, exact, d.std_error, 3.0),
            "{lattice:?}: D = {} ± {}, exact {exact}",
            d.value,
            d.std_error
        );
        assert!(d.std_error < 0.05 * exact, "{lattice:?}: error bar {} too wide to test", d.std_error);
        // Independent walkers: no distinct correlation, Haven ratio 1.
        let dist = r.onsager_distinct[0][0];
        assert!(within(dist.value, 0.0, dist.std_error, 3.0), "{lattice:?}: L distinct {dist:?}");
        let h = r.haven_ratio.unwrap();
        assert!(within(h.value, 1.0, h.std_error, 3.0), "{lattice:?}: Haven ratio {h:?}");
    }
}

#[test]
fn unwrapping_by_images_and_by_minimum_image_agree_with_unwrapped_positions() {
    let (dt, frames, walkers) = (0.1, 400, 20);
    let paths: Vec<Vec<[f64; 3]>> = (0..walkers).map(|i| brownian(21, i, frames, 0.5, dt, [0.3; 3])).collect();
    let simbox = SimBox::cubic(6.0).unwrap();
    let spec = spec_of(&[("Na", 1.0)], 500.0);
    let results: Vec<TransportResults> = [Layout::Unwrapped, Layout::Images, Layout::Wrapped]
        .into_iter()
        .map(|layout| {
            let mut reader = reader_of(
                paths.clone(),
                vec![0; walkers as usize],
                table(&[("Na", 22.99)]),
                simbox.clone(),
                dt,
                layout,
            );
            analyse(&mut reader, &spec)
        })
        .collect();
    for r in &results[1..] {
        let (a, b) = (r.diffusion[0].value, results[0].diffusion[0].value);
        assert!((a - b).abs() < 1e-9 * b, "{a} vs {b}");
        let (a, b) = (r.onsager[0][0].value, results[0].onsager[0][0].value);
        assert!((a - b).abs() < 1e-9 * b.abs(), "{a} vs {b}");
    }
}

#[test]
fn brownian_ions_give_nernst_einstein_transference_numbers() {
    // Independent Brownian cations (D = 0.8) and anions (D = 0.3): no distinct terms,
    // t_i = z_i² N_i D_i / Σ_k z_k² N_k D_k, Haven ratio 1.
    let (dt, frames, n) = (0.05, 1200, 60u64);
    let mut paths = Vec::new();
    let mut species = Vec::new();
    for i in 0..n {
        paths.push(brownian(31, i, frames, 0.8, dt, [0.0; 3]));
        species.push(0);
        paths.push(brownian(31, n + i, frames, 0.3, dt, [1.0; 3]));
        species.push(1);
    }
    let simbox = SimBox::cubic(30.0).unwrap();
    let mut reader = reader_of(paths, species, table(&[("Li", 6.94), ("F", 19.0)]), simbox, dt, Layout::Unwrapped);
    let mut spec = spec_of(&[("Li", 1.0), ("F", -1.0)], 400.0);
    spec.blocks = 8;
    let r = analyse(&mut reader, &spec);
    for (i, exact) in [0.8, 0.3].into_iter().enumerate() {
        let d = r.diffusion[i];
        assert!(within(d.value, exact, d.std_error, 3.0), "species {i}: D = {d:?}, exact {exact}");
    }
    let t = r.transference.as_ref().unwrap();
    let t_exact = 0.8 / 1.1;
    assert!(within(t[0].value, t_exact, t[0].std_error, 3.5), "t+ = {:?}, exact {t_exact}", t[0]);
    assert!((t[0].value + t[1].value - 1.0).abs() < 1e-9, "transference numbers sum to 1");
    let h = r.haven_ratio.unwrap();
    assert!(within(h.value, 1.0, h.std_error, 3.0), "Haven ratio {h:?}");
    let l_cross = r.onsager[0][1];
    assert!(within(l_cross.value, 0.0, l_cross.std_error, 3.0), "L+- = {l_cross:?}");
    // Onsager reciprocity and the self/distinct split.
    assert_eq!(r.onsager[0][1], r.onsager[1][0]);
    for i in 0..2 {
        let sum = r.onsager_self[i][i].value + r.onsager_distinct[i][i].value;
        assert!((sum - r.onsager[i][i].value).abs() <= 1e-12 * r.onsager[i][i].value.abs());
    }
}

#[test]
fn rigidly_bound_ion_pairs_do_not_conduct() {
    // Each cation moves with its anion: ΔQ = 0 at every lag, so σ = 0 while σ_NE > 0.
    let (dt, frames, n) = (0.05, 600, 40u64);
    let mut paths = Vec::new();
    let mut species = Vec::new();
    for i in 0..n {
        let p = brownian(41, i, frames, 0.5, dt, [0.0; 3]);
        paths.push(p.iter().map(|x| [x[0] + 1.2, x[1], x[2]]).collect());
        species.push(0);
        paths.push(p);
        species.push(1);
    }
    let simbox = SimBox::cubic(25.0).unwrap();
    let mut reader = reader_of(paths, species, table(&[("Na", 22.99), ("Cl", 35.45)]), simbox, dt, Layout::Images);
    // No drift removal: with the centre of mass of pairs alone removed, X+ and X- vanish.
    let spec = spec_of(&[("Na", 1.0), ("Cl", -1.0)], 350.0);
    let r = analyse(&mut reader, &spec);
    let sigma = r.conductivity.unwrap();
    let ne = r.conductivity_nernst_einstein.unwrap();
    assert!(ne.value > 0.0 && ne.value > 10.0 * ne.std_error, "σ_NE = {ne:?}");
    assert!(sigma.value.abs() < 1e-9 * ne.value, "σ = {sigma:?} for bound pairs (σ_NE {ne:?})");
    // L++ = L-- = L+-.
    let l = &r.onsager;
    assert!(l[0][0].value > 10.0 * l[0][0].std_error, "L++ = {:?}", l[0][0]);
    assert!((l[0][0].value - l[1][1].value).abs() < 1e-9 * l[0][0].value);
    assert!((l[0][0].value - l[0][1].value).abs() < 1e-9 * l[0][0].value);
}

#[test]
fn an_imposed_common_drift_is_removed() {
    let (dt, frames, walkers) = (0.1, 500, 30u64);
    let v = [0.7, -0.4, 0.2];
    let mobile: Vec<Vec<[f64; 3]>> = (0..walkers).map(|i| brownian(51, i, frames, 0.6, dt, [0.0; 3])).collect();
    // A framework of 10 static atoms.
    let framework: Vec<Vec<[f64; 3]>> = (0..10).map(|i| vec![[i as f64, 1.0, 2.0]; frames]).collect();
    let drifted = |paths: &[Vec<[f64; 3]>]| -> Vec<Vec<[f64; 3]>> {
        paths
            .iter()
            .map(|p| {
                p.iter()
                    .enumerate()
                    .map(|(k, x)| {
                        let t = k as f64 * dt;
                        [x[0] + v[0] * t, x[1] + v[1] * t, x[2] + v[2] * t]
                    })
                    .collect()
            })
            .collect()
    };
    let species: Vec<u32> = (0..walkers).map(|_| 0).chain((0..10).map(|_| 1)).collect();
    let tab = table(&[("Li", 6.94), ("Fe", 55.85)]);
    let simbox = SimBox::cubic(40.0).unwrap();
    let run = |paths: Vec<Vec<[f64; 3]>>, drift: Drift| {
        let mut spec = spec_of(&[("Li", 1.0)], 300.0);
        spec.drift = drift;
        let mut reader = reader_of(paths, species.clone(), tab.clone(), simbox.clone(), dt, Layout::Images);
        analyse(&mut reader, &spec)
    };
    let plain: Vec<Vec<[f64; 3]>> = mobile.iter().chain(&framework).cloned().collect();
    let moved = drifted(&plain);
    let reference = run(plain, Drift::None);
    let removed = run(moved.clone(), Drift::Framework(vec!["Fe".into()]));
    let (a, b) = (removed.diffusion[0].value, reference.diffusion[0].value);
    assert!((a - b).abs() < 1e-9 * b, "framework drift removal: D = {a}, without drift {b}");
    let kept = run(moved, Drift::None);
    let k = kept.diffusion[0];
    assert!(k.value - b > 5.0 * k.std_error, "the drift is visible when not removed: {k:?} vs {b}");
    assert!((removed.final_drift[0] - v[0] * (frames - 1) as f64 * dt).abs() < 1e-9);
}

#[test]
fn centre_of_mass_removal_scales_d_by_one_minus_one_over_n() {
    // For N identical independent walkers, removing their centre of mass leaves each
    // displacement with variance (1 − 1/N) of the original.
    let (dt, frames, walkers) = (0.1, 800, 8u64);
    let mut ratio = 0.0;
    let trials = 10;
    for t in 0..trials {
        let paths: Vec<Vec<[f64; 3]>> = (0..walkers).map(|i| brownian(60 + t, i, frames, 1.0, dt, [0.0; 3])).collect();
        let run = |drift: Drift| {
            let mut spec = spec_of(&[("Ar", 0.0)], 100.0);
            spec.drift = drift;
            let mut reader = reader_of(
                paths.clone(),
                vec![0; walkers as usize],
                table(&[("Ar", 39.95)]),
                SimBox::cubic(50.0).unwrap(),
                dt,
                Layout::Unwrapped,
            );
            analyse(&mut reader, &spec)
        };
        let com = run(Drift::CentreOfMass);
        // The collective displacement of all atoms is exactly zero in the centre-of-mass frame.
        assert!(com.onsager[0][0].value.abs() < 1e-9 * com.onsager_self[0][0].value);
        ratio += com.diffusion[0].value / run(Drift::None).diffusion[0].value / trials as f64;
    }
    let exact = 1.0 - 1.0 / walkers as f64;
    assert!((ratio - exact).abs() < 0.02, "ratio {ratio}, exact {exact}");
}

#[test]
fn multiple_tau_agrees_with_the_fft_within_errors() {
    let (dt, frames, walkers) = (0.1, 3000, 50u64);
    let paths: Vec<Vec<[f64; 3]>> = (0..walkers).map(|i| brownian(71, i, frames, 0.4, dt, [0.0; 3])).collect();
    let run = |method: Method| {
        let mut spec = spec_of(&[("K", 1.0)], 300.0);
        spec.method = method;
        let mut reader = reader_of(
            paths.clone(),
            vec![0; walkers as usize],
            table(&[("K", 39.1)]),
            SimBox::cubic(20.0).unwrap(),
            dt,
            Layout::Images,
        );
        analyse(&mut reader, &spec)
    };
    let fft = run(Method::Fft);
    let mt = run(Method::multi_tau());
    assert_eq!(mt.method, "multi-tau");
    let (a, b) = (mt.diffusion[0], fft.diffusion[0]);
    assert!((a.value - b.value).abs() < 3.0 * a.std_error.max(b.std_error), "multi-tau {a:?} vs FFT {b:?}");
    assert!(within(a.value, 0.4, a.std_error, 3.0), "multi-tau D {a:?}");
}

#[test]
fn the_solvent_fixed_frame_is_the_linear_transform_of_the_barycentric_one() {
    // L^0_ij = L_ij − r_i L_0j − r_j L_i0 + r_i r_j L_00, r_i = N_i/N_0; the solvent has no
    // flux in its own frame. Every fit uses a covariance of the same shape, so the fitted
    // slopes transform exactly like the curves.
    use crate::spec::Reference;
    let (dt, frames) = (0.1, 400);
    let mut paths = Vec::new();
    let mut species = Vec::new();
    for i in 0..30u64 {
        paths.push(brownian(111, i, frames, if i < 10 { 0.2 } else { 0.6 }, dt, [0.0; 3]));
        species.push(u32::from(i >= 10));
    }
    let run = |reference: Reference| {
        let mut spec = spec_of(&[("O", 0.0), ("Li", 1.0)], 500.0);
        spec.reference = reference;
        let mut reader = reader_of(
            paths.clone(),
            species.clone(),
            table(&[("O", 16.0), ("Li", 6.94)]),
            SimBox::cubic(20.0).unwrap(),
            dt,
            Layout::Unwrapped,
        );
        analyse(&mut reader, &spec)
    };
    let bary = run(Reference::Barycentric);
    let rel = run(Reference::Relative("O".into()));
    let r = 20.0 / 10.0;
    let l = |i: usize, j: usize| bary.onsager[i][j].value;
    let expected = l(1, 1) - 2.0 * r * l(0, 1) + r * r * l(0, 0);
    let got = rel.onsager[1][1].value;
    assert!((got - expected).abs() < 1e-9 * expected.abs(), "L'(Li,Li) = {got}, transform gives {expected}");
    assert!(rel.onsager[0][0].value.abs() < 1e-12 * l(0, 0), "the solvent's own L is {}", rel.onsager[0][0].value);
    assert!(rel.onsager[0][1].value.abs() < 1e-12 * l(0, 0));
    assert_eq!(rel.reference_frame, "relative to O");
}

#[test]
fn a_scratch_file_gives_the_same_bits_as_memory() {
    let (dt, frames, walkers) = (0.1, 300, 9u64);
    let paths: Vec<Vec<[f64; 3]>> = (0..walkers).map(|i| brownian(121, i, frames, 0.5, dt, [1.0; 3])).collect();
    let run = |budget: usize| {
        let mut spec = spec_of(&[("Li", 1.0)], 300.0);
        spec.memory_budget = budget;
        let mut reader = reader_of(
            paths.clone(),
            vec![0; walkers as usize],
            table(&[("Li", 6.94)]),
            SimBox::cubic(10.0).unwrap(),
            dt,
            Layout::Images,
        );
        let corr = crate::analyse_frames(&mut reader, &spec, &SerialComm::default(), &mut |_| {}).unwrap();
        (corr.spilled, corr.self_msd[0].clone())
    };
    let (spilled_big, in_memory) = run(1 << 28);
    // 2 kB: the frames go to a scratch file after a few frames, and atoms are read back
    // two at a time.
    let (spilled, from_file) = run(2048);
    assert!(!spilled_big && spilled);
    assert!(in_memory.iter().zip(&from_file).all(|(a, b)| a.to_bits() == b.to_bits()));
}
