//! Shared set-up for calcine's criterion benchmarks: inputs are generated in code.

use calcine_comm::SerialComm;
use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::rng::{uniform4, Stream};
use calcine_core::{Atoms, SimBox, SpeciesId, Vec3};
use calcine_domain::Domain;

/// A thermalised-looking fcc Cu crystal (random displacements of 0.1 Å) of `cells`³ cells.
pub fn cu_atoms(cells: usize) -> (SimBox, Atoms) {
    let (simbox, mut atoms) = Lattice::new(LatticeKind::Fcc, 3.615).replicate([cells; 3]).build(SpeciesId(0));
    for i in 0..atoms.n_owned() {
        let u = uniform4(1, Stream::Test, i as u64, 0);
        atoms.positions[i] += Vec3::new(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5) * 0.2;
    }
    (simbox, atoms)
}

/// [`cu_atoms`] with ghosts for `ghost_cutoff`, ready for list building.
pub fn cu_crystal(cells: usize, ghost_cutoff: f64) -> (Domain<SerialComm>, Atoms) {
    let (simbox, mut atoms) = cu_atoms(cells);
    let mut domain = Domain::new(SerialComm::default(), simbox);
    domain.migrate(&mut atoms, 0).expect("atoms stay in the box");
    domain.build_ghosts(&mut atoms, ghost_cutoff);
    (domain, atoms)
}

/// Path of a potential file under tests/data/potentials.
pub fn potential_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/potentials").join(name)
}
