use std::io::Cursor;

use calcine_core::{AtomId, SimBox, SpeciesId, Vec3};

use super::*;
use crate::{DumpReader, DumpWriter, Frame, PositionKind};

fn read_text(text: &str, n_types: usize) -> Result<Vec<Frame>, IoError> {
    DumpReader::new(Cursor::new(text.to_string()), "mem.dump", types(n_types)).collect()
}

fn write_text(frames: &[Frame], with_time: bool) -> String {
    let mut writer = DumpWriter::new(Vec::new(), "mem.dump").with_time(with_time);
    for frame in frames {
        writer.write_frame(frame).unwrap();
    }
    String::from_utf8(writer.into_inner()).unwrap()
}

const TWO_ATOMS: &str = "ITEM: TIMESTEP\n5\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n\
                         0 4\n0 4\n0 4\nITEM: ATOMS id type x y z\n1 1 0 0 0\n2 2 1 1 1\n";

fn with_line(line: usize, replacement: &str) -> String {
    let mut lines: Vec<&str> = TWO_ATOMS.lines().collect();
    lines[line - 1] = replacement;
    lines.join("\n") + "\n"
}

#[test]
fn orthogonal_layout_is_exactly_lammps() {
    let simbox = SimBox::orthogonal(Vec3::zeros(), Vec3::new(7.0, 7.0, 7.5), [true, true, false]).unwrap();
    let species = cu_ni();
    let ids = [AtomId(2), AtomId(1)];
    let kinds = [SpeciesId(1), SpeciesId(0)];
    let positions = [Vec3::new(1.0, 2.0, 3.0), Vec3::new(0.5, 0.25, 6.925180602620905)];
    let velocities = [Vec3::new(-0.1, 0.0, 0.0), Vec3::new(0.0, 1e-9, 2.0)];
    let forces = [Vec3::new(0.0, 0.0, -1.0), Vec3::new(3.0, 0.0, 0.0)];
    let frame = with_forces(frame_of(&simbox, &species, &ids, &kinds, &positions, &velocities), &forces).at(100, 0.1);
    assert_eq!(
        write_text(&[frame], false),
        "ITEM: TIMESTEP\n100\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp ff\n\
         0.0000000000000000e+00 7.0000000000000000e+00\n\
         0.0000000000000000e+00 7.0000000000000000e+00\n\
         0.0000000000000000e+00 7.5000000000000000e+00\n\
         ITEM: ATOMS id type element x y z vx vy vz fx fy fz\n\
         1 1 Cu 0.5 0.25 6.925180602620905 0 1e-9 2 3 0 0\n\
         2 2 Ni 1 2 3 -0.1 0 0 0 0 -1\n"
    );
}

#[test]
fn triclinic_bounds_follow_the_lammps_bounding_box() {
    let simbox = SimBox::triclinic(Vec3::new(0.0, 0.0, 0.0), [7.0, 7.0, 7.0], [1.0, -2.0, -0.5], [true; 3]).unwrap();
    let species = cu_ni();
    let frame = frame_of(&simbox, &species, &[], &[], &[], &[]);
    let text = write_text(&[frame], false);
    let header: Vec<&str> = text.lines().skip(4).take(4).collect();
    assert_eq!(
        header,
        vec![
            "ITEM: BOX BOUNDS xy xz yz pp pp pp",
            "-2.0000000000000000e+00 8.0000000000000000e+00 1.0000000000000000e+00",
            "-5.0000000000000000e-01 7.0000000000000000e+00 -2.0000000000000000e+00",
            "0.0000000000000000e+00 7.0000000000000000e+00 -5.0000000000000000e-01",
        ]
    );
    let back = read_text(&text, 2).unwrap().remove(0);
    assert_eq!(back.simbox, simbox);
    assert_eq!(back.n_atoms(), 0);
}

#[test]
fn round_trip_triclinic_is_bit_identical_for_atoms() {
    let structure = sample_structure(triclinic_box(), 32, 77);
    let forces: Vec<Vec3> = structure.atoms.positions.iter().map(|x| x * 0.013).collect();
    let frames = [with_forces(structure.to_frame(10, 0.01), &forces), structure.to_frame(20, 0.02)];
    let text = write_text(&frames, true);
    let back = read_text(&text, 2).unwrap();
    assert_eq!(back.len(), 2);
    let expected = sorted(&structure);
    for (k, frame) in back.iter().enumerate() {
        assert_eq!(frame.step, Some(10 * (k as u64 + 1)));
        assert_eq!(frame.time, Some(0.01 * (k as f64 + 1.0)));
        assert_eq!(frame.ids, expected.atoms.ids);
        assert_eq!(frame.species, expected.atoms.species);
        assert_eq!(frame.position_kind, PositionKind::Wrapped);
        assert_bits_eq(&frame.positions, &expected.atoms.positions, "positions");
        assert_bits_eq(frame.velocities.as_ref().unwrap(), &expected.atoms.velocities, "velocities");
        assert_eq!(frame.images.as_ref().unwrap(), &expected.atoms.images);
        let (a, b) = (&frame.simbox, &structure.simbox);
        assert_eq!(a.periodic(), b.periodic());
        assert_eq!(a.tilt(), b.tilt());
        assert!((a.lo() - b.lo()).norm() < 1e-14 && (a.hi() - b.hi()).norm() < 1e-14);
    }
    assert!(back[0].forces.is_some() && back[1].forces.is_none());
    let unwrapped = back[0].unwrapped_positions().unwrap();
    for (k, x) in unwrapped.iter().enumerate() {
        let expected_x = expected.atoms.unwrapped_position(k, &structure.simbox);
        assert!((x - expected_x).norm() < 1e-12);
    }
    let restored = back[1].clone().into_structure();
    assert_bits_eq(&restored.atoms.positions, &expected.atoms.positions, "into_structure positions");
}

#[test]
fn round_trip_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.custom");
    let structure = sample_structure(orthogonal_box(), 20, 4);
    let mut writer = DumpWriter::create(&path).unwrap();
    writer.write_frame(&structure.to_frame(0, 0.0)).unwrap();
    // The frame is on disk as soon as write_frame returns.
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert_eq!(on_disk.lines().count(), 9 + 20);
    let frames: Vec<Frame> = DumpReader::open(&path, cu_ni()).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(frames[0].simbox, structure.simbox);
    assert_bits_eq(&frames[0].positions, &sorted(&structure).atoms.positions, "positions");
}

#[test]
fn reads_lammps_style_dumps_with_extra_items_and_columns() {
    let text = "ITEM: UNITS\nmetal\nITEM: TIME\n0.5\nITEM: TIMESTEP\n500\nITEM: NUMBER OF ATOMS\n3\n\
                ITEM: BOX BOUNDS ss pm pp\n0 10\n-5 5\n0 2\nITEM: ATOMS id type xs ys zs c_pe vx vy vz\n\
                3 2 0.5 0.5 0.5 -3.5 1 2 3\n1 1 0 0 0 -3.4 4 5 6\n2 1 0.1 0.9 0.25 -3.3 7 8 9\n";
    let frame = read_text(text, 2).unwrap().remove(0);
    assert_eq!(frame.step, Some(500));
    assert_eq!(frame.time, Some(0.5));
    assert_eq!(frame.simbox.periodic(), [false, false, true]);
    assert_eq!(frame.ids, vec![AtomId(1), AtomId(2), AtomId(3)]);
    assert_eq!(frame.species, vec![SpeciesId(0), SpeciesId(0), SpeciesId(1)]);
    assert_eq!(frame.positions[0], Vec3::new(0.0, -5.0, 0.0));
    assert_eq!(frame.positions[2], Vec3::new(5.0, 0.0, 1.0));
    assert_eq!(frame.velocities.as_ref().unwrap()[1], Vec3::new(7.0, 8.0, 9.0));
    assert!(frame.forces.is_none() && frame.images.is_none());
    assert!(frame.unwrapped_positions().is_none());

    let unwrapped = "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n1\nITEM: BOX BOUNDS\n0 1\n0 1\n0 1\n\
                     ITEM: ATOMS type xu yu zu\n1 -3 4 5\n";
    let frame = read_text(unwrapped, 1).unwrap().remove(0);
    assert_eq!(frame.position_kind, PositionKind::Unwrapped);
    assert_eq!(frame.ids, vec![AtomId(1)]);
    assert_eq!(frame.unwrapped_positions().unwrap(), vec![Vec3::new(-3.0, 4.0, 5.0)]);
}

#[test]
fn two_atom_fixture_parses() {
    let frames = read_text(&(TWO_ATOMS.to_string() + "\n" + TWO_ATOMS), 2).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].positions[1], Vec3::new(1.0, 1.0, 1.0));
}

#[test]
fn error_wrong_column_count() {
    let e = read_text(&with_line(11, "2 2 1 1"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 11, "atom line has 4 columns, ITEM: ATOMS declares 5");
    let e = read_text(&with_line(6, "0 4 1"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 6, "x bounds line has 3 numbers, expected 2");
}

#[test]
fn error_bad_number() {
    let e = read_text(&with_line(11, "2 2 1 1e400 1"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 11, "y is '1e400', it must be finite");
    let e = read_text(&with_line(2, "five"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 2, "timestep is 'five'");
    let e = read_text(&with_line(4, "-2"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 4, "number of atoms is '-2'");
}

#[test]
fn error_atom_count_mismatch() {
    let e = read_text(&with_line(4, "3"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 11, "file ends where atom 3 of 3 should follow");
    let text = with_line(4, "3") + TWO_ATOMS;
    let e = read_text(&text, 2).unwrap_err();
    assert_error_at(e, "mem.dump", 12, "found 'ITEM: TIMESTEP' after 2 of 3 atoms");
    let e = read_text(&with_line(4, "1"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 11, "expected 'ITEM: TIMESTEP', found '2 2 1 1 1'");
}

#[test]
fn error_type_out_of_range() {
    let e = read_text(TWO_ATOMS, 1).unwrap_err();
    assert_error_at(e, "mem.dump", 11, "atom type 2 is out of range 1..=1");
}

#[test]
fn error_duplicate_ids() {
    let e = read_text(&with_line(11, "1 2 1 1 1"), 2).unwrap_err();
    assert!(matches!(e, IoError::DuplicateId { id: 1, .. }));
    assert_error_at(e, "mem.dump", 11, "atom id 1 appears twice");
}

#[test]
fn error_unsupported_headers() {
    let e = read_text(&("ITEM: UNITS\nreal\n".to_string() + TWO_ATOMS), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 2, "dump is in 'real' units");
    let e = read_text(&with_line(9, "ITEM: ATOMS id x y z"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 9, "no type column");
    let e = read_text(&with_line(9, "ITEM: ATOMS id type x y"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 9, "no complete set of position columns");
    let e = read_text(&with_line(5, "ITEM: BOX BOUNDS abc origin pp pp pp"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 5, "general triclinic");
    let e = read_text(&with_line(5, "ITEM: BOX BOUNDS pp qq pp"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 5, "boundary flag 'qq'");
    let e = read_text(&with_line(3, "ITEM: NUMBER OF ATOMZ"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 3, "expected 'ITEM: NUMBER OF ATOMS'");
    let e = read_text(&with_line(6, "4 0"), 2).unwrap_err();
    assert_error_at(e, "mem.dump", 5, "box bounds give no valid box");
}

#[test]
fn reader_stops_after_an_error() {
    let text = TWO_ATOMS.to_string() + &with_line(10, "1 x 0 0 0") + TWO_ATOMS;
    let mut reader = DumpReader::new(Cursor::new(text), "mem.dump", types(2));
    assert!(reader.next().unwrap().is_ok());
    assert_error_at(reader.next().unwrap().unwrap_err(), "mem.dump", 21, "atom type is 'x'");
    assert!(reader.next().is_none());
}

/// Reads `text` on a pool of `threads` rayon threads: one reads frame by frame, more read
/// batches of frames in parallel.
fn read_with_threads(text: &str, threads: usize) -> Vec<Result<Frame, String>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        DumpReader::new(Cursor::new(text.to_string()), "mem.dump", types(2))
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    })
}

#[test]
fn frames_and_errors_are_the_same_on_any_number_of_threads() {
    let structure = sample_structure(triclinic_box(), 37, 9);
    let frames: Vec<Frame> = (0..30).map(|k| structure.to_frame(k, 0.01 * k as f64)).collect();
    let good = write_text(&frames, true);
    let lines: Vec<&str> = good.lines().collect();
    let per_frame = lines.len() / frames.len();
    let edit = |line: usize, replacement: &str| {
        let mut l = lines.clone();
        l[line] = replacement;
        l.join("\n") + "\n"
    };
    let atom_line = 17 * per_frame + 11;
    let mut texts = vec![
        good.clone(),
        good.replace('\n', "\r\n"),
        edit(atom_line, "5 1 Cu 1 2 x"),
        edit(atom_line, "5 1 Cu 1 2"),
        edit(atom_line, "ITEM: TIMESTEP"),
        edit(atom_line, "5 1 Cu 1\u{a0}2 3 0 0 0 0 0 0"),
        edit(atom_line, "5 1 Cu 1 2 3 0 0 0 0 0 0 \u{e9}"),
        edit(23 * per_frame + 1, "ITEM: TIMESTEP"),
        good[..good.len() - 200].to_string(),
    ];
    let mut bad_utf8 = edit(atom_line, "5 1 Cu 1 2 3 0 0 0 0 0 0");
    let at = bad_utf8.find("5 1 Cu 1 2 3 0 0 0 0 0 0").unwrap();
    bad_utf8.replace_range(at..at + 1, "\u{ff}");
    texts.push(bad_utf8);
    for (k, text) in texts.iter().enumerate() {
        let one = read_with_threads(text, 1);
        for threads in [2, 3, 8] {
            assert_eq!(read_with_threads(text, threads), one, "text {k} on {threads} threads");
        }
        if k < 2 {
            assert_eq!(one.len(), frames.len());
            assert!(one.iter().all(Result::is_ok), "text {k}");
        } else {
            assert!(one.last().unwrap().is_err(), "text {k} ends in an error");
        }
    }
}

#[test]
fn numbers_read_as_str_parse_reads_them() {
    let tokens = [
        "0",
        "-0",
        "+1.5",
        ".5",
        "5.",
        "1e-7",
        "1E+03",
        "-2.5e-310",
        "6.925180602620905",
        "12345678901234567890123",
        "0.1000000000000000055511151231257827",
        "9007199254740993",
        "-1.7976931348623157e308",
        "3.14159e+00",
        "000012.5000",
        "1e22",
        "1e23",
        "4.9406564584124654e-324",
    ];
    let mut text = format!(
        "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n{}\nITEM: BOX BOUNDS pp pp pp\n0 1\n0 1\n0 1\nITEM: ATOMS id type x y z\n",
        tokens.len()
    );
    for (k, t) in tokens.iter().enumerate() {
        text += &format!("{} 1 {t} {t}\t{t} \n", k + 1);
    }
    for threads in [1, 2] {
        let frame = read_with_threads(&text, threads).remove(0).unwrap();
        for (k, t) in tokens.iter().enumerate() {
            let expected = t.parse::<f64>().unwrap().to_bits();
            let x = frame.positions[k];
            assert_eq!([x.x.to_bits(), x.y.to_bits(), x.z.to_bits()], [expected; 3], "'{t}'");
        }
    }
}
