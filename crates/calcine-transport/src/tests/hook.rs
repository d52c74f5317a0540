//! The on-the-fly correlator driven as the engine drives a hook, against the same frames
//! analysed from a file, and the outputs' layouts.

use calcine_comm::SerialComm;
use calcine_core::{Atoms, SimBox};
use calcine_io::{RunInfo, StepHook, StepView};

use super::estimators::spec_of;
use super::walks::{brownian, frame_of, table, Layout};
use crate::output::{curves_csv, reduced_formula, TransportDoc};
use crate::spec::Method;
use crate::{analyse_frames, estimate, EstimateOptions, OnTheFlyOutput, OnTheFlyTransport};

#[test]
fn the_step_hook_gives_the_streaming_results_of_the_same_frames() {
    let (dt, every, frames, n) = (0.002, 5u64, 1200usize, 16u64);
    let sample_dt = dt * every as f64;
    let paths: Vec<Vec<[f64; 3]>> = (0..n).map(|i| brownian(101, i, frames, 0.3, sample_dt, [2.0; 3])).collect();
    let species = vec![0u32; n as usize];
    let tab = table(&[("Li", 6.94)]);
    let simbox = SimBox::cubic(12.0).unwrap();
    let mut spec = spec_of(&[("Li", 1.0)], 600.0);
    spec.method = Method::multi_tau();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("transport.json");
    let output = OnTheFlyOutput { directory: dir.path().to_path_buf(), metadata: "test".into(), plots: true };
    let mut hook = OnTheFlyTransport::new(spec.clone(), every, Some(output));
    let atoms = Atoms::new();
    let last_step = (frames as u64 - 1) * every;
    let info = RunInfo { first_step: 0, last_step, timestep: dt, n_atoms: n, rank: 0, n_ranks: 1 };
    for step in 0..=last_step {
        let needs = hook.needs(step);
        assert_eq!(needs.is_some(), step % every == 0);
        let frame = needs
            .map(|_| frame_of(&paths, &species, &tab, &simbox, (step / every) as usize, sample_dt, Layout::Images));
        let view = StepView {
            step,
            time: step as f64 * dt,
            simbox: &simbox,
            species: &tab,
            atoms: &atoms,
            forces: &[],
            atom_virials: &[],
            thermo: None,
            frame: frame.as_ref(),
            checkpoint: None,
            grade: None,
        };
        if step == 0 {
            hook.setup(&info, &view).unwrap();
        } else if needs.is_some() {
            hook.at_step(&view).unwrap();
        }
    }
    hook.finish().unwrap();
    let live = hook.results().unwrap();
    // The same frames read as a trajectory.
    let mut reader =
        super::walks::reader_of(paths.clone(), species.clone(), tab.clone(), simbox.clone(), sample_dt, Layout::Images);
    let corr = analyse_frames(&mut reader, &spec, &SerialComm::default(), &mut |_| {}).unwrap();
    let options =
        EstimateOptions { fit_window: spec.fit_window, fit_points: spec.fit_points, reference: spec.reference.clone() };
    let offline = estimate(&corr, &options).unwrap();
    assert_eq!(live.diffusion[0].value.to_bits(), offline.diffusion[0].value.to_bits());
    assert!((live.frame_interval - sample_dt).abs() < 1e-15);
    let d = live.diffusion[0];
    assert!((d.value - 0.3).abs() < 3.0 * d.std_error, "D = {d:?}, exact 0.3");
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["method"], "multi-tau");
    assert_eq!(written["units"]["diffusion"], "Å^2/ps (diffusion_cm2_per_s: cm^2/s)");
    assert_eq!(written["diffusion"][0]["value"].as_f64().unwrap(), d.value);
    assert_eq!(hook.written().len(), 4, "results, TransportDoc, curves and msd.png, as calcine transport writes");
    assert!(dir.path().join("msd.png").exists());

    // Outputs: the TransportDoc layout and the curves table.
    let doc = TransportDoc::new(&offline, &corr.composition, "test");
    let v = serde_json::to_value(&doc).unwrap();
    for key in ["reduced_formula", "temperature", "species", "L_tensor", "L_tensor_self", "L_tensor_dis", "volume"] {
        assert!(v.get(key).is_some(), "TransportDoc lacks {key}");
    }
    assert_eq!(v["reduced_formula"], "Li");
    let l = v["L_tensor"][0][0].as_f64().unwrap();
    assert!((l - offline.onsager[0][0].value * 1e20).abs() <= 1e-12 * l.abs());
    let csv = curves_csv(&corr);
    let mut lines = csv.lines();
    assert_eq!(lines.next().unwrap(), "time_ps,lag_frames,origins,msd_Li_A2,collective_Li_Li_A2,charge_msd_e2A2");
    assert_eq!(lines.count(), corr.lags.len());
}

#[test]
fn reduced_formulas_divide_by_the_common_factor() {
    let c = |v: &[(&str, usize)]| v.iter().map(|(s, n)| (s.to_string(), *n)).collect::<Vec<_>>();
    assert_eq!(reduced_formula(&c(&[("Ba", 8), ("Ti", 36), ("O", 80)])), "Ba2Ti9O20");
    assert_eq!(reduced_formula(&c(&[("Li", 32), ("P", 32)])), "LiP");
    assert_eq!(reduced_formula(&c(&[("Li", 3), ("O", 0)])), "Li");
}
