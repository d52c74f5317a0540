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

/// The test's walkers as LAMMPS dump text (4 atoms, 20 frames, 13 lines each).
fn dump_text() -> String {
    let p = paths();
    let tab = table(&[("Li", 6.94), ("O", 16.0)]);
    let simbox = SimBox::cubic(10.0).unwrap();
    let mut writer = calcine_io::DumpWriter::new(Vec::new(), "walk.dump");
    for k in 0..20 {
        writer.write_frame(&frame_of(&p, &[0, 0, 1, 1], &tab, &simbox, k, 0.1, Layout::Images)).unwrap();
    }
    String::from_utf8(writer.into_inner()).unwrap()
}

/// Results and errors from a dump file are the same on one, two (the reading thread and
/// the analysis thread each parse half of the frames) and three threads (a parsing
/// pool): a bad number in an odd frame (parsed by the reading thread), in an even one (by
/// the analysis thread), in both (the earlier is reported), a bad header, a file cut
/// short.
#[test]
fn dump_results_and_errors_are_the_same_on_any_number_of_threads() {
    let text = dump_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 20 * 13);
    // The x of frame k's second atom.
    let atom_line = |k: usize| 13 * k + 10;
    let corrupt = |targets: &[usize], replacement: &dyn Fn(&str) -> String| {
        let mut out = String::new();
        for (i, l) in lines.iter().enumerate() {
            out += &if targets.contains(&i) { replacement(l) } else { l.to_string() };
            out.push('\n');
        }
        out
    };
    let bad_x = |l: &str| {
        let mut fields: Vec<&str> = l.split(' ').collect();
        fields[3] = "1.2.3"; // id type element x y z ix iy iz
        fields.join(" ")
    };
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("clean", text.clone(), None),
        ("odd frame", corrupt(&[atom_line(7)], &bad_x), Some(".dump:102: x is")),
        ("even frame", corrupt(&[atom_line(6)], &bad_x), Some(".dump:89: x is")),
        ("both", corrupt(&[atom_line(6), atom_line(11)], &bad_x), Some(".dump:89: x is")),
        ("header", corrupt(&[13 * 9 + 3], &|_| "four".to_string()), Some(".dump:121:")),
        ("cut in a line", text[..text.len() - 40].to_string(), Some(".dump:260: atom line has 5 columns")),
        ("cut short", lines[..lines.len() - 1].join("\n") + "\n", Some("file ends where atom 4 of 4 should follow")),
    ];
    let dir = tempfile::tempdir().unwrap();
    let tab = table(&[("Li", 6.94), ("O", 16.0)]);
    let mut spec = spec_of(&[("Li", 1.0)], 300.0);
    spec.frame_interval = Some(0.1);
    let options =
        EstimateOptions { fit_window: spec.fit_window, fit_points: spec.fit_points, reference: spec.reference.clone() };
    for (name, text, error) in cases {
        let path = dir.path().join(format!("{}.dump", name.replace(' ', "-")));
        std::fs::write(&path, text).unwrap();
        let outcome = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut reader = calcine_io::DumpReader::open(&path, tab.clone()).unwrap();
                match analyse_frames(&mut reader, &spec, &SerialComm::default(), &mut |_| {}) {
                    Ok(corr) => Ok(format!("{:?}", estimate(&corr, &options).unwrap())),
                    Err(e) => Err(e.to_string()),
                }
            })
        };
        let one = outcome(1);
        match (&one, error) {
            (Ok(_), None) => {}
            (Err(e), Some(what)) => assert!(e.contains(what), "{name}: {e}"),
            _ => panic!("{name}: {one:?}"),
        }
        for threads in [2, 3] {
            assert_eq!(outcome(threads), one, "{name} on {threads} threads");
        }
    }
}
