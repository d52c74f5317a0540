use std::collections::BTreeMap;
use std::io::Cursor;

use calcine_core::{AtomId, SimBox, SpeciesId, SpeciesTable, Vec3};

use super::*;
use crate::extxyz::{ASE_VELOCITY_TO_ANGSTROM_PER_PS, OPEN_BOX_MARGIN};
use crate::{read_extxyz, ExtxyzReader, ExtxyzWriter, Frame};

fn read_text(text: &str, species: &SpeciesTable) -> Result<Vec<Frame>, IoError> {
    ExtxyzReader::new(Cursor::new(text.to_string()), "mem.xyz", species.clone()).collect()
}

fn read_one(text: &str) -> Result<Frame, IoError> {
    read_text(text, &cu_ni()).map(|mut frames| frames.remove(0))
}

fn write_text(frames: &[Frame]) -> String {
    let mut writer = ExtxyzWriter::new(Vec::new(), "mem.xyz");
    for frame in frames {
        writer.write_frame(frame).unwrap();
    }
    String::from_utf8(writer.into_inner()).unwrap()
}

#[test]
fn ase_velocity_unit_is_derived_from_codata_2014() {
    let (e, amu) = (1.6021766208e-19f64, 1.660539040e-27f64);
    let fs = 1e-15 * (1e10 * (e / amu).sqrt());
    assert_eq!(ASE_VELOCITY_TO_ANGSTROM_PER_PS, fs * 1000.0);
}

#[test]
fn round_trip_orthogonal_is_bit_identical() {
    let structure = sample_structure(orthogonal_box(), 20, 11);
    let forces: Vec<Vec3> = structure.atoms.velocities.iter().map(|v| v * -3.1e-3).collect();
    let text = write_text(&[with_forces(structure.to_frame(1234, 1.234), &forces)]);
    let frame = read_one(&text).unwrap();

    let expected = sorted(&structure);
    let got = frame.clone().into_structure();
    assert_eq!(got.simbox, structure.simbox);
    assert_eq!(got.species, structure.species);
    assert_eq!(got.atoms.ids, expected.atoms.ids);
    assert_eq!(got.atoms.species, expected.atoms.species);
    assert_bits_eq(&got.atoms.positions, &expected.atoms.positions, "positions");
    assert_bits_eq(&got.atoms.velocities, &expected.atoms.velocities, "velocities");
    let mut order: Vec<usize> = (0..20).collect();
    order.sort_by_key(|&k| structure.atoms.ids[k]);
    let expected_forces: Vec<Vec3> = order.iter().map(|&k| forces[k]).collect();
    assert_bits_eq(frame.forces.as_ref().unwrap(), &expected_forces, "forces");
    assert_eq!(frame.step, Some(1234));
    assert_eq!(frame.time, Some(1.234));
    assert_eq!(frame.info.get("Step").map(String::as_str), Some("1234"));
}

#[test]
fn round_trip_triclinic_with_origin_is_bit_identical() {
    let structure = sample_structure(triclinic_box(), 32, 5);
    let text = write_text(&[structure.to_frame(0, 0.0)]);
    assert!(text.lines().nth(1).unwrap().contains("Origin=\"-1.25 0.5 3\""), "{text}");
    assert!(text.lines().nth(1).unwrap().contains("pbc=\"T T F\""), "{text}");
    let frame = read_one(&text).unwrap();
    let expected = sorted(&structure);
    assert_eq!(frame.clone().into_structure().simbox, structure.simbox);
    assert_bits_eq(&frame.clone().into_structure().atoms.positions, &expected.atoms.positions, "positions");
    assert_bits_eq(&frame.clone().into_structure().atoms.velocities, &expected.atoms.velocities, "velocities");
    assert!(frame.forces.is_none());
}

#[test]
fn writer_layout_matches_ase_conventions() {
    let simbox = SimBox::cubic(4.0).unwrap();
    let species = cu_ni();
    let ids = [AtomId(2), AtomId(1)];
    let kinds = [SpeciesId(1), SpeciesId(0)];
    let positions = [Vec3::new(2.0, 2.0, 0.0), Vec3::new(0.1, 0.0, 1e-20)];
    let velocities = [Vec3::new(0.0, 0.0, 0.0), Vec3::new(1.5, -2.0, 0.25)];
    let frame = frame_of(&simbox, &species, &ids, &kinds, &positions, &velocities).at(10, 0.01);
    let mut info = BTreeMap::new();
    info.insert("energy".to_string(), "-1.25".to_string());
    info.insert("config_type".to_string(), "bulk fcc".to_string());
    info.insert("step".to_string(), "ignored because calcine writes Step".to_string());
    let mut writer = ExtxyzWriter::new(Vec::new(), "mem.xyz");
    writer.write_frame_with_info(&frame, &info).unwrap();
    let text = String::from_utf8(writer.into_inner()).unwrap();
    assert_eq!(
        text,
        "2\n\
         Lattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3:velo:R:3:id:I:1 pbc=\"T T T\" \
         Time=0.01 Step=10 config_type=\"bulk fcc\" energy=-1.25\n\
         Cu 0.1 0 1e-20 1.5 -2 0.25 1\n\
         Ni 2 2 0 0 0 0 2\n"
    );
    let back = read_one(&text).unwrap();
    assert_eq!(back.info["config_type"], "bulk fcc");
    assert_eq!(back.info["energy"], "-1.25");
}

#[test]
fn multi_frame_file_streams_frame_by_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traj.xyz");
    let mut structure = sample_structure(orthogonal_box(), 10, 3);
    {
        let mut writer = ExtxyzWriter::create(&path).unwrap();
        for step in 0..3u64 {
            for x in &mut structure.atoms.positions {
                x.x += 0.01;
            }
            writer.write_frame(&structure.to_frame(step * 100, step as f64 * 0.1)).unwrap();
        }
    }
    let reader = ExtxyzReader::open(&path, cu_ni()).unwrap();
    let frames: Vec<Frame> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(frames.iter().map(|f| f.step.unwrap()).collect::<Vec<_>>(), vec![0, 100, 200]);
    let expected = sorted(&structure);
    assert_bits_eq(
        &frames[2].clone().into_structure().atoms.positions,
        &expected.atoms.positions,
        "last frame positions",
    );
    assert_eq!(read_extxyz(&path, &cu_ni()).unwrap().step, Some(0));
}

#[test]
fn reads_ase_momenta_and_keeps_info() {
    let text = "2\n\
        Lattice=\"5.0 0.0 0.0 0.0 5.0 0.0 0.0 0.0 5.0\" Properties=species:S:1:pos:R:3:momenta:R:3 energy=-7.5 pbc=\"T T T\" free_flag\n\
        Cu 0.0 0.0 0.0 63.546 0.0 0.0\n\
        Ni 2.5 2.5 0.0 0.0 -1.0 0.0\n";
    let frame = read_one(text).unwrap();
    let v = &frame.clone().into_structure().atoms.velocities;
    assert_eq!(v[0], Vec3::new(ASE_VELOCITY_TO_ANGSTROM_PER_PS, 0.0, 0.0));
    assert_eq!(v[1].y, -ASE_VELOCITY_TO_ANGSTROM_PER_PS / 58.6934);
    assert_eq!(frame.info["energy"], "-7.5");
    assert_eq!(frame.info["free_flag"], "T");
    assert!(frame.step.is_none());
    assert_eq!(frame.clone().into_structure().simbox.periodic(), [true; 3]);
    assert_eq!(frame.clone().into_structure().atoms.ids, vec![AtomId(1), AtomId(2)]);
}

#[test]
fn default_properties_and_plain_comment() {
    let frame = read_one("1\nmade by hand\nNi 1 2 3\n").unwrap();
    assert_eq!(frame.info["comment"], "made by hand");
    assert_eq!(frame.clone().into_structure().atoms.positions[0], Vec3::new(1.0, 2.0, 3.0));
    assert_eq!(frame.clone().into_structure().atoms.velocities[0], Vec3::zeros());
}

#[test]
fn unknown_columns_are_skipped_by_count() {
    let text = "2\n\
        Lattice=\"4 0 0 0 4 0 0 0 4\" Properties=tags:I:2:species:S:1:charge:R:1:pos:R:3:fixed:L:1:velo:R:3:id:I:1 pbc=\"T T T\"\n\
        7 8 Ni 0.5 1 2 3 T 0.1 0.2 0.3 9\n\
        7 8 Cu -0.5 1.5 2.5 3.5 F 0.4 0.5 0.6 4\n";
    let frame = read_one(text).unwrap();
    let atoms = &frame.clone().into_structure().atoms;
    assert_eq!(atoms.ids, vec![AtomId(4), AtomId(9)]);
    assert_eq!(atoms.species, vec![SpeciesId(0), SpeciesId(1)]);
    assert_eq!(atoms.positions[0], Vec3::new(1.5, 2.5, 3.5));
    assert_eq!(atoms.velocities[1], Vec3::new(0.1, 0.2, 0.3));
}

#[test]
fn new_species_take_their_mass_from_the_masses_column() {
    let text = "2\nProperties=species:S:1:pos:R:3:masses:R:1\nAl 0 0 0 26.98\nCu 1 1 1 99.0\n";
    let frames = read_text(text, &cu_ni()).unwrap();
    let species = &frames[0].clone().into_structure().species;
    assert_eq!(species.names(), vec!["Cu", "Ni", "Al"]);
    assert_eq!(species.masses(), vec![63.546, 58.6934, 26.98]);
}

#[test]
fn general_lattice_is_rotated_into_lammps_form() {
    // Primitive fcc cell: no edge lies along x.
    let half = 1.8075;
    let text = format!(
        "2\nLattice=\"0 {half} {half} {half} 0 {half} {half} {half} 0\" Properties=species:S:1:pos:R:3:velo:R:3:forces:R:3\n\
         Cu 0 0 0 1 2 3 0 0 1\n\
         Cu {q} {q} {q} 0 0 0 0 0 0\n",
        q = half / 2.0
    );
    let frame = read_one(&text).unwrap();
    let simbox = &frame.clone().into_structure().simbox;
    let (a, b, c) = (Vec3::new(0.0, half, half), Vec3::new(half, 0.0, half), Vec3::new(half, half, 0.0));
    let lx = a.norm();
    let xy = b.dot(&a) / lx;
    let ly = (a / lx).cross(&b).norm();
    let xz = c.dot(&a) / lx;
    let yz = (b.dot(&c) - xy * xz) / ly;
    let lz = (c.norm_squared() - xz * xz - yz * yz).sqrt();
    let close = |x: f64, y: f64| (x - y).abs() < 1e-12;
    let [glx, gly, glz] = simbox.lengths();
    let [gxy, gxz, gyz] = simbox.tilt();
    assert!(close(glx, lx) && close(gly, ly) && close(glz, lz), "{:?}", simbox.lengths());
    assert!(close(gxy, xy) && close(gxz, xz) && close(gyz, yz), "{:?}", simbox.tilt());
    // Rotation keeps fractional coordinates, lengths and angles.
    let s = simbox.to_fractional(&frame.clone().into_structure().atoms.positions[1]);
    assert!((s - Vec3::repeat(0.25)).norm() < 1e-12, "{s:?}");
    let v = frame.clone().into_structure().atoms.velocities[0];
    assert!(close(v.norm(), 14f64.sqrt()));
    let f = frame.forces.as_ref().unwrap()[0];
    assert!(close(v.dot(&f), 3.0));
}

#[test]
fn left_handed_lattice_keeps_atoms_in_place() {
    let text = "2\nLattice=\"4 0 0 0 0 5 0 6 0\" Properties=species:S:1:pos:R:3\nCu 1 1 1\nNi 3 4 2\n";
    let frame = read_one(text).unwrap();
    let simbox = &frame.clone().into_structure().simbox;
    assert!((simbox.volume() - 120.0).abs() < 1e-9);
    let positions = &frame.clone().into_structure().atoms.positions;
    let original = (Vec3::new(3.0, 4.0, 2.0) - Vec3::new(1.0, 1.0, 1.0)).norm();
    assert!(((positions[1] - positions[0]).norm() - original).abs() < 1e-12);
    for x in positions {
        let s = simbox.to_fractional(x);
        assert!(s.iter().all(|c| (-1e-12..1.0).contains(c)), "atom left the box: {s:?}");
    }
}

#[test]
fn missing_lattice_gives_an_open_box_around_the_atoms() {
    let frame = read_one("2\nProperties=species:S:1:pos:R:3 pbc=\"F F F\"\nCu -1 0 2\nNi 3 4 2\n").unwrap();
    let simbox = &frame.clone().into_structure().simbox;
    assert_eq!(simbox.periodic(), [false; 3]);
    assert_eq!(simbox.lo(), Vec3::new(-1.0, 0.0, 2.0) - Vec3::repeat(OPEN_BOX_MARGIN));
    assert_eq!(simbox.hi(), Vec3::new(3.0, 4.0, 2.0) + Vec3::repeat(OPEN_BOX_MARGIN));
}

#[test]
fn error_bad_atom_count() {
    let e = read_one("two\nProperties=species:S:1:pos:R:3\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 1, "expected the number of atoms");
}

#[test]
fn error_wrong_column_count() {
    let e = read_one("2\nProperties=species:S:1:pos:R:3\nCu 0 0 0\nCu 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 4, "atom line has 3 columns, Properties=species:S:1:pos:R:3 declares 4");
}

#[test]
fn error_bad_number() {
    let e = read_one("1\nProperties=species:S:1:pos:R:3\nCu 0 0x1 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 3, "y is '0x1', which is not a number");
    let e = read_one("1\nProperties=species:S:1:pos:R:3\nCu 0 nan 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 3, "must be finite");
}

#[test]
fn error_atom_count_mismatch() {
    let e = read_one("3\nProperties=species:S:1:pos:R:3\nCu 0 0 0\nCu 1 1 1\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 4, "frame declares 3 atoms but the file ends after 2");
    let e = read_one("99999999999999\nProperties=species:S:1:pos:R:3\nCu 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 3, "frame declares 99999999999999 atoms but the file ends after 1");
    let e = read_one("1\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 1, "file ends before the frame's comment line");
}

#[test]
fn error_unknown_species() {
    let e = read_one("2\nProperties=species:S:1:pos:R:3\nCu 0 0 0\nXx 1 1 1\n").unwrap_err();
    assert!(matches!(&e, IoError::UnknownSpecies { name, .. } if name == "Xx"));
    assert_error_at(e, "mem.xyz", 4, "unknown species 'Xx' (known: Cu, Ni)");
}

#[test]
fn error_lattice_components() {
    let e = read_one("1\nLattice=\"4 0 0 0 4 0 0 0\" Properties=species:S:1:pos:R:3\nCu 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "Lattice has 8 components, expected 9");
    let e = read_one("1\nLattice=\"4 0 0 0 4 0 0 0 four\"\nCu 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "Lattice component is 'four'");
    let e = read_one("1\nLattice=\"4 0 0 0 4 0 8 0 0\"\nCu 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "degenerate");
    let e = read_one("1\nLattice=\"4 0 0 0 4 0 0 0 4\nCu 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "never closed");
    let e = read_one("1\nProperties=species:S:1:pos:R:3 pbc=\"T T T\"\nCu 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "Lattice key is missing");
}

#[test]
fn error_duplicate_ids() {
    let text = "3\nProperties=species:S:1:pos:R:3:id:I:1\nCu 0 0 0 5\nCu 1 1 1 6\nNi 2 2 2 5\n";
    let e = read_one(text).unwrap_err();
    assert!(matches!(e, IoError::DuplicateId { id: 5, .. }));
    assert_error_at(e, "mem.xyz", 5, "atom id 5 appears twice");
    let e = read_one("1\nProperties=species:S:1:pos:R:3:id:I:1\nCu 0 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 3, "atom id is '0', it must be a positive integer");
}

#[test]
fn error_bad_properties() {
    let e = read_one("1\nProperties=species:S:1:pos:R\nCu 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "not a list of name:kind:count triples");
    let e = read_one("1\nProperties=species:S:1:pos:R:2\nCu 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "'pos' is R:2, expected R:3");
    let e = read_one("1\nProperties=species:S:1\nCu\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "has no pos column");
    let e = read_one("1\nProperties=species:S:1:pos:R:3:velo:R:3:momenta:R:3\nCu 0 0 0 0 0 0 0 0 0\n").unwrap_err();
    assert_error_at(e, "mem.xyz", 2, "twice");
}

#[test]
fn errors_in_later_frames_point_at_their_line_and_end_the_stream() {
    let text =
        "1\nProperties=species:S:1:pos:R:3\nCu 0 0 0\n1\nProperties=species:S:1:pos:R:3\nCu 0 zero 0\n1\nx\nCu 0 0 0\n";
    let mut reader = ExtxyzReader::new(Cursor::new(text), "mem.xyz", cu_ni());
    assert!(reader.next().unwrap().is_ok());
    assert_error_at(reader.next().unwrap().unwrap_err(), "mem.xyz", 6, "'zero'");
    assert!(reader.next().is_none());
}

#[test]
fn empty_file_is_an_error_for_read_extxyz() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.xyz");
    std::fs::write(&path, "\n\n").unwrap();
    assert!(matches!(read_extxyz(&path, &cu_ni()), Err(IoError::Empty { .. })));
    let missing = read_extxyz(dir.path().join("missing.xyz"), &cu_ni()).unwrap_err();
    assert!(matches!(missing, IoError::Io { .. }));
    assert!(missing.to_string().contains("missing.xyz: "), "{missing}");
}

#[test]
fn a_failed_write_leaves_no_partial_frame() {
    let structure = sample_structure(orthogonal_box(), 5, 9);
    let mut writer = ExtxyzWriter::new(Vec::new(), "out.xyz");
    writer.write_frame(&structure.to_frame(1, 0.0)).unwrap();
    let after_first = writer.into_inner();

    let duplicated = [AtomId(1), AtomId(1)];
    let kinds = [SpeciesId(0), SpeciesId(0)];
    let xs = [Vec3::zeros(); 2];
    let bad = frame_of(&structure.simbox, &structure.species, &duplicated, &kinds, &xs, &xs);
    let mut writer = ExtxyzWriter::new(after_first.clone(), "out.xyz");
    let e = writer.write_frame(&bad).unwrap_err();
    assert_eq!(e.to_string(), "out.xyz: cannot write frame: atom id 1 appears twice");
    assert_eq!(writer.into_inner(), after_first);

    let mut species = cu_ni();
    species.find_or_add("bad name", 1.0);
    let ids = [AtomId(1)];
    let one = [SpeciesId(2)];
    let frame = frame_of(&structure.simbox, &species, &ids, &one, &xs[..1], &xs[..1]);
    let e = ExtxyzWriter::new(Vec::new(), "out.xyz").write_frame(&frame).unwrap_err();
    assert!(matches!(e, IoError::Unwritable { .. }), "{e}");
}

#[test]
fn a_count_smaller_than_the_atoms_that_follow_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.xyz");
    std::fs::write(&path, "2\nProperties=species:S:1:pos:R:3\nCu 0 0 0\nCu 1 1 1\nCu 2 2 2\n").unwrap();
    let e = read_extxyz(&path, &cu_ni()).unwrap_err();
    let message = e.to_string();
    assert!(message.starts_with(&format!("{}:5: ", path.display())), "{message}");
    assert!(message.contains("the frame starting at line 1 declares 2 atoms, but more atom lines follow"), "{message}");
    // A count that matches is fine, and so is a second frame after it.
    std::fs::write(&path, "1\nProperties=species:S:1:pos:R:3\nCu 0 0 0\n\n1\n\nNi 1 1 1\n").unwrap();
    assert_eq!(read_extxyz(&path, &cu_ni()).unwrap().n_atoms(), 1);
}

#[test]
fn open_frames_picks_the_reader_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let structure = sample_structure(orthogonal_box(), 6, 21);
    let xyz = dir.path().join("t.extxyz");
    let dump = dir.path().join("t.lammpstrj");
    ExtxyzWriter::create(&xyz).unwrap().write_frame(&structure.to_frame(3, 0.003)).unwrap();
    crate::DumpWriter::create(&dump).unwrap().write_frame(&structure.to_frame(3, 0.003)).unwrap();
    for path in [&xyz, &dump] {
        let mut reader = crate::open_frames(path, cu_ni()).unwrap();
        let frame = reader.read_frame().unwrap().unwrap();
        assert_eq!(frame.step, Some(3));
        assert_bits_eq(&frame.positions, &sorted(&structure).atoms.positions, "positions");
        assert!(reader.read_frame().unwrap().is_none());
    }
    let e = crate::open_frames(dir.path().join("t.pdb"), cu_ni()).err().unwrap();
    assert!(
        e.to_string().ends_with("t.pdb: unknown format: use .xyz/.extxyz (.gz to read), .dump/.lammpstrj or .h5/.h5md"),
        "{e}"
    );
}
