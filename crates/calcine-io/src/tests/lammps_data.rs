use std::io::Cursor;

use calcine_core::{AtomId, SpeciesId, Vec3};

use super::*;
use crate::{parse_lammps_data, read_lammps_data, write_lammps_data, write_lammps_data_to};

const MINIMAL: &str = "title line\n\n2 atoms\n2 atom types\n0 4 xlo xhi\n0 4 ylo yhi\n0 4 zlo zhi\n\n\
                       Masses\n\n1 63.546\n2 58.6934\n\nAtoms # atomic\n\n1 1 0 0 0\n2 2 2 2 2\n";

fn parse(text: &str, names: &[&str]) -> Result<Structure, IoError> {
    parse_lammps_data(Cursor::new(text.to_string()), "mem.data", names)
}

/// `MINIMAL` with one line replaced (lines counted from 1).
fn with_line(line: usize, replacement: &str) -> String {
    let mut lines: Vec<&str> = MINIMAL.lines().collect();
    lines[line - 1] = replacement;
    lines.join("\n") + "\n"
}

#[test]
fn reads_lammps_unittest_data_metal() {
    let structure = read_lammps_data(unittest_data("data.metal"), &["Ni", "Cu"]).unwrap();
    assert_eq!(structure.atoms.n_owned(), 32);
    assert_eq!(structure.species.names(), vec!["Ni", "Cu"]);
    assert_eq!(structure.species.masses(), vec![58.71, 63.55]);
    assert_eq!(structure.simbox.lengths(), [7.0; 3]);
    assert_eq!(structure.simbox.periodic(), [true; 3]);
    let atoms = &structure.atoms;
    assert_eq!(atoms.ids[0], AtomId(1));
    assert_eq!(atoms.ids[31], AtomId(32));
    assert_eq!(atoms.species[0], SpeciesId(0));
    assert_eq!(atoms.species[1], SpeciesId(1));
    let x1: f64 = "6.9251806026209053e+00".parse().unwrap();
    assert_eq!(atoms.positions[0].x.to_bits(), x1.to_bits());
    assert_eq!(atoms.images[0], [-1, -1, -1]);
    assert_eq!(atoms.images[1], [0, 0, -1]);
    let v32: f64 = "8.3222169277389901e-02".parse().unwrap();
    assert_eq!(atoms.velocities[31].z.to_bits(), v32.to_bits());
}

#[test]
fn reads_data_manybody_with_shared_species_and_skips_pair_coeffs() {
    let structure = read_lammps_data(unittest_data("data.manybody"), &["Si"; 8]).unwrap();
    assert_eq!(structure.atoms.n_owned(), 64);
    assert_eq!(structure.species.names(), vec!["Si"]);
    assert!(structure.atoms.species.iter().all(|s| *s == SpeciesId(0)));
    assert_eq!(structure.simbox.lengths(), [10.862; 3]);
    assert_eq!(structure.atoms.images[0], [-1, -1, 0]);
}

#[test]
fn round_trip_orthogonal_is_bit_identical_and_names_come_back_from_masses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.data");
    let structure = sample_structure(orthogonal_box(), 20, 21);
    write_lammps_data(&path, &structure.to_frame(77, 0.0)).unwrap();
    let back = read_lammps_data(&path, &[]).unwrap();
    let expected = sorted(&structure);
    assert_eq!(back.simbox, structure.simbox);
    assert_eq!(back.species, structure.species);
    assert_eq!(back.atoms.ids, expected.atoms.ids);
    assert_eq!(back.atoms.species, expected.atoms.species);
    assert_eq!(back.atoms.images, expected.atoms.images);
    assert_bits_eq(&back.atoms.positions, &expected.atoms.positions, "positions");
    assert_bits_eq(&back.atoms.velocities, &expected.atoms.velocities, "velocities");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("LAMMPS data file written by calcine, timestep = 77\n\n20 atoms\n2 atom types\n\n"));
    assert!(text.contains("0.0000000000000000e+00 7.2300000000000004e+00 xlo xhi\n"), "{text}");
    assert!(text.contains("\nMasses\n\n1 6.3545999999999999e+01 # Cu\n2 5.8693399999999997e+01 # Ni\n"), "{text}");
}

#[test]
fn round_trip_triclinic_is_bit_identical() {
    let simbox =
        calcine_core::SimBox::triclinic(Vec3::zeros(), [7.23, 8.1, 9.3], [1.7, -0.9, 0.35], [true; 3]).unwrap();
    let structure = sample_structure(simbox, 13, 2);
    let mut out = Vec::new();
    write_lammps_data_to(&mut out, "mem.data", &structure.to_frame(0, 0.0)).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("1.7000000000000000e+00 -9.0000000000000002e-01 3.4999999999999998e-01 xy xz yz\n"),
        "{text}"
    );
    let back = parse(&text, &["Cu", "Ni"]).unwrap();
    let expected = sorted(&structure);
    assert_eq!(back.simbox, structure.simbox);
    assert_bits_eq(&back.atoms.positions, &expected.atoms.positions, "positions");
    assert_bits_eq(&back.atoms.velocities, &expected.atoms.velocities, "velocities");
}

#[test]
fn accepts_comments_missing_style_and_velocities_before_atoms() {
    let text = "# title\n2 atoms # count\n1 atom types\n0 bonds\n-1 4 xlo xhi\n0 4 ylo yhi\n0 4 zlo zhi\n\
                Velocities\n\n2 1 2 3\n1 -1 -2 -3 # first\n\nMasses\n\n1 40 # Ar\n\nAtoms\n\n2 1 2 2 2\n1 1 0 0 0\n";
    let structure = parse(text, &[]).unwrap();
    assert_eq!(structure.species.names(), vec!["Ar"]);
    assert_eq!(structure.simbox.lo().x, -1.0);
    assert_eq!(structure.atoms.ids, vec![AtomId(1), AtomId(2)]);
    assert_eq!(structure.atoms.velocities[0], Vec3::new(-1.0, -2.0, -3.0));
    assert_eq!(structure.atoms.velocities[1], Vec3::new(1.0, 2.0, 3.0));
}

#[test]
fn minimal_file_parses() {
    let structure = parse(MINIMAL, &["Cu", "Ni"]).unwrap();
    assert_eq!(structure.atoms.positions[1], Vec3::new(2.0, 2.0, 2.0));
    assert_eq!(structure.atoms.velocities[1], Vec3::zeros());
}

#[test]
fn error_wrong_column_count() {
    let e = parse(&with_line(16, "1 1 0 0"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 16, "Atoms line has 4 columns, expected 5 (id type x y z) or 8");
    let e = parse(&with_line(11, "1 63.546 12"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 11, "Masses line has 3 columns");
}

#[test]
fn error_bad_number() {
    let e = parse(&with_line(17, "2 2 2 2.0.0 2"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 17, "y is '2.0.0', which is not a number");
    let e = parse(&with_line(17, "2 2 2 2 2 0 x 0"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 17, "iy is 'x', which is not an integer");
    let e = parse(&with_line(5, "0 four xlo xhi"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 5, "xhi is 'four', which is not a number");
    let e = parse(&with_line(5, "4 xlo xhi"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 5, "header line 'xlo xhi' needs 2 numbers, found 1");
}

#[test]
fn error_atom_count_mismatch() {
    let e = parse(&with_line(3, "3 atoms"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 14, "Atoms section has 2 lines but the header declares 3 atoms");
    let text = MINIMAL.to_string() + "\nVelocities\n\n1 0 0 0\n";
    let e = parse(&text, &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 19, "Velocities section has 1 lines but there are 2 atoms");
}

#[test]
fn error_type_out_of_range() {
    let e = parse(&with_line(17, "2 3 2 2 2"), &["Cu", "Ni"]).unwrap_err();
    assert!(matches!(e, IoError::TypeOutOfRange { lammps_type: 3, n_types: 2, .. }));
    assert_error_at(e, "mem.data", 17, "atom type 3 is out of range 1..=2");
    let e = parse(&with_line(17, "2 0 2 2 2"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 17, "atom type 0 is out of range");
}

#[test]
fn error_duplicate_ids() {
    let e = parse(&with_line(17, "1 2 2 2 2"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 17, "atom id 1 appears twice");
    let text = MINIMAL.to_string() + "\nVelocities\n\n1 0 0 0\n1 0 0 0\n";
    let e = parse(&text, &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 22, "atom id 1 appears twice");
    let text = MINIMAL.to_string() + "\nVelocities\n\n1 0 0 0\n3 0 0 0\n";
    let e = parse(&text, &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 22, "velocity given for atom id 3, which is not in Atoms");
}

#[test]
fn error_species_names() {
    let e = parse(MINIMAL, &["Cu"]).unwrap_err();
    assert_error_at(e, "mem.data", 4, "file has 2 atom types but 1 species names were given");
    let e = parse(MINIMAL, &[]).unwrap_err();
    assert_error_at(e, "mem.data", 11, "the Masses line of type 1 has no '# name' comment");
    let e = parse(MINIMAL, &["Cu", "Cu"]).unwrap_err();
    assert_error_at(
        e,
        "mem.data",
        12,
        "type 2 is species 'Cu' with mass 58.6934, but an earlier type of 'Cu' has mass 63.546",
    );
}

#[test]
fn error_unsupported_content() {
    let e = parse(&with_line(14, "Atoms # charge"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 14, "atom style 'charge' is not supported, only atomic");
    let text = MINIMAL.to_string() + "\nBonds\n\n1 1 1 2\n";
    let e = parse(&text, &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 19, "section 'Bonds' is not supported");
    let e = parse(&with_line(2, "4 bonds"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 2, "'4 bonds' is not possible with atom_style atomic");
    let e = parse(&with_line(2, "3 widgets"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 2, "unknown header keyword 'widgets'");
    let text = MINIMAL.to_string() + "\nMasses\n\n1 1\n2 2\n";
    let e = parse(&text, &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 19, "section 'Masses' appears twice");
}

#[test]
fn error_missing_pieces() {
    let e = parse(&with_line(7, ""), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 9, "header has no 'zlo zhi' line");
    let e = parse(&with_line(9, "Pair Coeffs"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 9, "file has no Masses section");
    let e = parse(&with_line(12, ""), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 9, "Masses section has 1 lines but the header declares 2 atom types");
    let e = parse(&with_line(12, "1 58.6934"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 12, "type 1 has a second mass");
    let e = parse(&with_line(12, "2 -1"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 12, "mass is -1, it must be positive");
    let e = parse(&with_line(6, "0 -4 ylo yhi"), &["Cu", "Ni"]).unwrap_err();
    assert_error_at(e, "mem.data", 9, "header gives no valid box");
    assert!(matches!(parse("", &[]), Err(IoError::Empty { .. })));
}
