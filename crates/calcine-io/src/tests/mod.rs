//! Unit tests: round trips (bit-identical positions and velocities) and one test per kind
//! of malformed input, checking the `path:line` of the error.

mod dump;
mod extxyz;
mod h5md;
mod lammps_data;
mod lammps_dumps;

use std::path::PathBuf;

use calcine_core::{AtomId, Atoms, SimBox, Species, SpeciesId, SpeciesTable, Vec3};

use crate::{Frame, IoError, PositionKind, Structure};

fn cu_ni() -> SpeciesTable {
    SpeciesTable::new(vec![
        Species { name: "Cu".to_string(), mass: 63.546 },
        Species { name: "Ni".to_string(), mass: 58.6934 },
    ])
}

/// A species table of `n` species (named T1, T2, …) for dumps with `n` atom types.
fn types(n: usize) -> SpeciesTable {
    SpeciesTable::new((1..=n).map(|k| Species { name: format!("T{k}"), mass: 1.0 }).collect())
}

/// A frame of the given atoms at step 0, time 0, with velocities and no forces or images.
fn frame_of(
    simbox: &SimBox,
    species_table: &SpeciesTable,
    ids: &[AtomId],
    species: &[SpeciesId],
    positions: &[Vec3],
    velocities: &[Vec3],
) -> Frame {
    Frame {
        step: Some(0),
        time: Some(0.0),
        simbox: simbox.clone(),
        species_table: species_table.clone(),
        ids: ids.to_vec(),
        species: species.to_vec(),
        positions: positions.to_vec(),
        position_kind: PositionKind::Wrapped,
        velocities: Some(velocities.to_vec()),
        forces: None,
        images: None,
        per_atom_energy: None,
        per_atom_virial: None,
        extra: Vec::new(),
        info: Default::default(),
    }
}

/// `frame` with forces.
fn with_forces(mut frame: Frame, forces: &[Vec3]) -> Frame {
    frame.forces = Some(forces.to_vec());
    frame
}

/// A deterministic stream of awkward doubles in [0, 1) (xorshift64*).
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` atoms with ids given out of order, awkward coordinates and velocities (some tiny,
/// some negative), inside `simbox`.
fn sample_structure(simbox: SimBox, n: usize, seed: u64) -> Structure {
    let mut numbers = Numbers(seed | 1);
    let mut atoms = Atoms::new();
    for k in 0..n {
        let s = Vec3::new(numbers.next(), numbers.next(), numbers.next());
        let mut v = Vec3::new(numbers.next() - 0.5, numbers.next() - 0.5, numbers.next() - 0.5) * 13.7;
        if k % 3 == 0 {
            v.x *= 1e-9;
        }
        let id = AtomId(((k * 7) % n) as u64 + 1);
        let image = [k as i32 % 3 - 1, 0, (k as i32) % 2];
        atoms.push_owned(id, SpeciesId((k % 2) as u32), simbox.to_cartesian(&s), v, image);
    }
    Structure { simbox, species: cu_ni(), atoms }
}

fn orthogonal_box() -> SimBox {
    SimBox::orthogonal(Vec3::zeros(), Vec3::new(7.23, 8.1, 9.0000000001), [true; 3]).unwrap()
}

fn triclinic_box() -> SimBox {
    SimBox::triclinic(Vec3::new(-1.25, 0.5, 3.0), [7.23, 8.1, 9.3], [1.7, -0.9, 0.35], [true, true, false]).unwrap()
}

/// Sorts a structure's atoms by id, as every reader returns them.
fn sorted(structure: &Structure) -> Structure {
    let mut sorted = structure.clone();
    let mut order: Vec<usize> = (0..sorted.atoms.n_owned()).collect();
    order.sort_by_key(|&k| sorted.atoms.ids[k]);
    sorted.atoms.permute_owned(&order);
    sorted
}

fn assert_bits_eq(actual: &[Vec3], expected: &[Vec3], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
        for axis in 0..3 {
            assert_eq!(a[axis].to_bits(), e[axis].to_bits(), "{what}[{k}][{axis}]: {} != {}", a[axis], e[axis]);
        }
    }
}

/// Asserts a parse-like error at `line` whose message contains `needle`, and that its
/// display starts with `path:line: `.
fn assert_error_at(error: IoError, path: &str, line: usize, needle: &str) {
    let message = error.to_string();
    assert_eq!(error.line(), Some(line), "wrong line in: {message}");
    assert!(message.starts_with(&format!("{path}:{line}: ")), "not 'path:line: ...': {message}");
    assert!(message.contains(needle), "'{needle}' not in: {message}");
    assert!(!message.ends_with('.'), "trailing period: {message}");
}

fn unittest_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/lammps-unittest").join(name)
}

#[test]
fn wrap_into_box_keeps_unwrapped_positions() {
    let mut structure = sample_structure(triclinic_box(), 10, 8);
    let simbox = structure.simbox.clone();
    for (k, x) in structure.atoms.positions.iter_mut().enumerate() {
        *x += simbox.edge(0) * (k as f64 - 4.0) + simbox.edge(1) * 2.0;
    }
    let before: Vec<Vec3> = (0..10).map(|k| structure.atoms.unwrapped_position(k, &simbox)).collect();
    structure.wrap_into_box();
    for k in 0..10 {
        let s = simbox.to_fractional(&structure.atoms.positions[k]);
        assert!((0.0..1.0).contains(&s.x) && (0.0..1.0).contains(&s.y), "{s:?}");
        let after = structure.atoms.unwrapped_position(k, &simbox);
        assert!((after - before[k]).norm() < 1e-12);
    }
}
