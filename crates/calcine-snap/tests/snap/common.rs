//! Shared set-up: potential files, the LAMMPS unit-test inputs and crystals.

use calcine_comm::SerialComm;
use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::rng::{uniform4, Stream};
use calcine_core::{Atoms, SimBox, SpeciesId, Vec3};
use calcine_domain::Domain;
use calcine_io::Structure;
use calcine_md::{Integrator, Md, MdSettings};
use calcine_neighbor::NeighborList;
use calcine_potential::NeighborKind;
use calcine_potential::Potential;
use calcine_test_support::data_path;
use std::path::{Path, PathBuf};

/// A file of `tests/data/potentials`.
pub fn potential_file(name: &str) -> PathBuf {
    data_path(&format!("potentials/{name}"))
}

/// `data.manybody` with LAMMPS type k named `type_elements[k-1]`, wrapped into the box.
pub fn data_manybody(type_elements: &[String]) -> Structure {
    let names: Vec<&str> = type_elements.iter().map(|s| s.as_str()).collect();
    let mut s =
        calcine_io::read_lammps_data(data_path("lammps-unittest/data.manybody"), &names).expect("data.manybody reads");
    s.wrap_into_box();
    s
}

/// An NVE engine on one rank with LAMMPS's unit-test timestep (0.1 fs).
pub fn serial_md(s: Structure, potential: Box<dyn Potential>) -> Md<SerialComm> {
    let settings =
        MdSettings { timestep: 0.0001, skin: 2.0, sort_every: 0, max_step_displacement: 1.0, ..MdSettings::default() };
    let domain = Domain::new(SerialComm::new(s.simbox.periodic()), s.simbox.clone());
    Md::new(domain, s.atoms, s.species, potential, Integrator::Nve, settings).expect("md set-up")
}

/// A periodic crystal with every atom displaced by up to `amplitude` Å along each axis
/// (the same displacements on every call), species chosen per atom index by `species`.
pub fn perturbed_crystal(
    kind: LatticeKind,
    a: f64,
    cells: [usize; 3],
    amplitude: f64,
    species: impl Fn(usize) -> SpeciesId,
) -> (SimBox, Atoms) {
    let (simbox, mut atoms) = Lattice::new(kind, a).replicate(cells).build(SpeciesId(0));
    for k in 0..atoms.n_owned() {
        let u = uniform4(2024, Stream::Test, atoms.ids[k].0, 0);
        atoms.positions[k] += Vec3::new(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5) * (2.0 * amplitude);
        atoms.species[k] = species(k);
    }
    (simbox, atoms)
}

/// The bispectrum components (j1, j2, j) of 2J_max in file order.
fn components(two_j_max: usize) -> Vec<[usize; 3]> {
    let mut out = Vec::new();
    for j1 in 0..=two_j_max {
        for j2 in 0..=j1 {
            for j in (j1 - j2..=two_j_max.min(j1 + j2)).step_by(2) {
                if j >= j1 {
                    out.push([j1, j2, j]);
                }
            }
        }
    }
    out
}

/// A SNAP potential with pseudo-random coefficients, written into `dir` as
/// `synthetic.snapcoeff` and `synthetic.snapparam` (the latter holding `params` plus
/// `twojmax`); `elements` are (name, radius, weight). Returns the two paths.
///
/// With chemflag, coefficients of components that are equal by symmetry are made equal
/// (symmetric in the first two elements when j1 = j2, in the first and third when
/// j1 = j, in all three when j1 = j2 = j), as fitted files have them: LAMMPS's adjoint
/// is the exact gradient of the energy only then.
pub fn synthetic_potential(
    dir: &Path,
    params: &str,
    elements: &[(&str, f64, f64)],
    two_j_max: usize,
    quadratic: bool,
    chem: bool,
) -> (PathBuf, PathBuf) {
    let comps = components(two_j_max);
    let n = elements.len();
    let n_triples = if chem { n * n * n } else { 1 };
    let n_desc = comps.len() * n_triples;
    let n_coeff = 1 + n_desc + if quadratic { n_desc * (n_desc + 1) / 2 } else { 0 };
    let mut text = format!("# synthetic SNAP potential for tests\n\n{} {n_coeff}\n", n);
    for (e, (name, radius, weight)) in elements.iter().enumerate() {
        text.push_str(&format!("{name} {radius} {weight}\n"));
        let random = |k: u64| uniform4(7, Stream::Test, (e as u64) << 32 | k, 1)[0] - 0.5;
        let linear = |t: usize, k: usize| random((t * comps.len() + k) as u64);
        text.push_str(&format!("{:.17e}\n", -3.0 - random(1 << 30)));
        for t in 0..n_triples {
            let (a, b, c) = (t / (n * n), (t / n) % n, t % n);
            let at = |a: usize, b: usize, c: usize| (a * n + b) * n + c;
            for (k, &[j1, j2, j]) in comps.iter().enumerate() {
                let orbit: Vec<usize> = if j1 == j2 && j2 == j {
                    vec![at(a, b, c), at(a, c, b), at(b, a, c), at(b, c, a), at(c, a, b), at(c, b, a)]
                } else if j1 == j {
                    vec![at(a, b, c), at(c, b, a)]
                } else if j1 == j2 {
                    vec![at(a, b, c), at(b, a, c)]
                } else {
                    vec![t]
                };
                let beta = orbit.iter().map(|&o| linear(o, k)).sum::<f64>() / orbit.len() as f64;
                text.push_str(&format!("{:.17e}\n", 0.02 * beta));
            }
        }
        if quadratic {
            for q in 0..n_desc * (n_desc + 1) / 2 {
                text.push_str(&format!("{:.17e}\n", 1e-6 * random((1 << 31) + q as u64)));
            }
        }
    }
    let coeff = dir.join("synthetic.snapcoeff");
    let param = dir.join("synthetic.snapparam");
    std::fs::write(&coeff, text).unwrap();
    std::fs::write(&param, format!("twojmax {two_j_max}\n{params}\n")).unwrap();
    (coeff, param)
}

/// Owned atoms with their periodic-image ghosts and a full neighbor list of radius
/// `cutoff` + 1 Å, as the engine builds them.
pub fn with_ghosts(simbox: &SimBox, atoms: &Atoms, cutoff: f64) -> (Atoms, NeighborList) {
    let state =
        calcine_md::prepare_single(simbox, atoms, NeighborKind::Full, cutoff, 1.0).expect("atoms are in the box");
    (state.atoms().clone(), state.neighbors().clone())
}
