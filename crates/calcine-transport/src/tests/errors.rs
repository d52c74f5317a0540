//! Every error the analysis gives for a bad trajectory or input (issue 11, item 7).

use calcine_comm::SerialComm;
use calcine_core::{AtomId, SimBox};

use super::estimators::spec_of;
use super::walks::{brownian, frame_of, table, Generated, Layout};
use crate::spec::FitWindow;
use crate::{analyse_frames, estimate, EstimateOptions, TransportError};

fn paths() -> Vec<Vec<[f64; 3]>> {
    (0..4).map(|i| brownian(81, i, 20, 0.5, 0.1, [1.0; 3])).collect()
}

/// The error from a trajectory whose frame `k` is altered by `alter`.
fn error_with(alter: impl Fn(usize, &mut calcine_io::Frame)) -> TransportError {
    let p = paths();
    let tab = table(&[("Li", 6.94), ("O", 16.0)]);
    let simbox = SimBox::cubic(10.0).unwrap();
    let mut reader = Generated::new(|k| {
        (k < 20).then(|| {
            let mut f = frame_of(&p, &[0, 0, 1, 1], &tab, &simbox, k, 0.1, Layout::Images);
            alter(k, &mut f);
            f
        })
    });
    analyse_frames(&mut reader, &spec_of(&[("Li", 1.0)], 300.0), &SerialComm::default(), &mut |_| {})
        .expect_err("the trajectory is refused")
}

#[test]
fn frames_with_a_different_atom_count_are_refused() {
    let e = error_with(|k, f| {
        if k == 5 {
            f.ids.pop();
            f.species.pop();
            f.positions.pop();
            f.images.as_mut().unwrap().pop();
        }
    });
    assert!(matches!(e, TransportError::AtomCount { frame: 5, expected: 4, found: 3 }), "{e}");
    assert_eq!(e.to_string(), "frame 5: 3 atoms, but the first frame has 4");
}

#[test]
fn frames_with_different_ids_are_refused() {
    let e = error_with(|k, f| {
        if k == 3 {
            f.ids[2] = AtomId(9);
        }
    });
    assert!(matches!(e, TransportError::AtomIds { frame: 3, index: 2, expected: 3, found: 9 }), "{e}");
}

#[test]
fn non_monotonic_and_uneven_time_is_refused() {
    let e = error_with(|k, f| {
        if k == 7 {
            f.time = Some(0.2);
        }
    });
    assert!(matches!(e, TransportError::NonMonotonicTime { frame: 7, .. }), "{e}");
    assert!(e.to_string().contains("does not increase"), "{e}");
    let e = error_with(|k, f| {
        if k >= 7 {
            f.time = Some(k as f64 * 0.1 + 0.05);
        }
    });
    assert!(matches!(e, TransportError::UnevenTime { frame: 7, .. }), "{e}");
}

#[test]
fn a_changing_box_is_refused_when_the_box_is_fixed() {
    let e = error_with(|k, f| {
        if k == 4 {
            f.simbox = SimBox::cubic(10.5).unwrap();
        }
    });
    assert!(matches!(e, TransportError::BoxChanged { frame: 4, .. }), "{e}");
    assert!(e.to_string().contains("the input says it is fixed"), "{e}");
}

#[test]
fn a_species_missing_from_the_trajectory_is_refused() {
    let p = paths();
    let tab = table(&[("Li", 6.94), ("O", 16.0)]);
    let simbox = SimBox::cubic(10.0).unwrap();
    let mut reader =
        Generated::new(|k| (k < 20).then(|| frame_of(&p, &[0, 0, 1, 1], &tab, &simbox, k, 0.1, Layout::Images)));
    let e = analyse_frames(&mut reader, &spec_of(&[("Na", 1.0)], 300.0), &SerialComm::default(), &mut |_| {})
        .expect_err("Na is not there");
    assert_eq!(e.to_string(), "species 'Na' is not in the trajectory (its species are: Li, O)");
}

#[test]
fn a_fit_window_outside_the_data_is_refused() {
    let p = paths();
    let tab = table(&[("Li", 6.94), ("O", 16.0)]);
    let simbox = SimBox::cubic(10.0).unwrap();
    let mut reader =
        Generated::new(|k| (k < 20).then(|| frame_of(&p, &[0, 0, 1, 1], &tab, &simbox, k, 0.1, Layout::Images)));
    let spec = spec_of(&[("Li", 1.0)], 300.0);
    let corr = analyse_frames(&mut reader, &spec, &SerialComm::default(), &mut |_| {}).unwrap();
    for window in [FitWindow { start: Some(0.5), end: Some(3.0) }, FitWindow { start: Some(1.0), end: Some(0.5) }] {
        let options = EstimateOptions { fit_window: window, fit_points: 8, reference: Default::default() };
        let e = estimate(&corr, &options).expect_err("outside");
        assert!(matches!(e, TransportError::FitWindow { .. }), "{e}");
        assert!(e.to_string().contains("is outside the data (lags from 0.1 to 1.9"), "{e}");
    }
}

#[test]
fn too_few_frames_are_refused() {
    let p = paths();
    let tab = table(&[("Li", 6.94), ("O", 16.0)]);
    let simbox = SimBox::cubic(10.0).unwrap();
    let mut reader =
        Generated::new(|k| (k < 2).then(|| frame_of(&p, &[0, 0, 1, 1], &tab, &simbox, k, 0.1, Layout::Images)));
    let e = analyse_frames(&mut reader, &spec_of(&[("Li", 1.0)], 300.0), &SerialComm::default(), &mut |_| {})
        .expect_err("two frames");
    assert!(matches!(e, TransportError::TooFewFrames { frames: 2, .. }), "{e}");
}
