//! # Brief overview
//!
//! `calcine-core` holds the types every other calcine crate speaks: the simulation box
//! ([`SimBox`], orthogonal or triclinic, per-axis periodicity), the atom arrays ([`Atoms`],
//! structure of arrays, owned atoms first and ghosts after), LAMMPS `metal` units
//! ([`units`]), order-independent sums ([`ExactSum`]), counter-based random numbers
//! ([`rng`]), lattice builders ([`lattice`]) and the [`GhostSync`] trait through which
//! potentials ask for halo exchanges without knowing about ranks.
//!
//! It deliberately knows nothing about neighbor lists, communication or potentials.
//!
//! ```ignore
//! use calcine_core::{lattice::{Lattice, LatticeKind}, units};
//! let (simbox, atoms) = Lattice::new(LatticeKind::Fcc, 3.615).replicate([4, 4, 4]).build(0);
//! assert_eq!(atoms.n_owned(), 256);
//! let kt = units::BOLTZ * 300.0;
//! ```

pub mod atoms;
pub mod exact;
pub mod ghost;
pub mod lattice;
pub mod rng;
pub mod simbox;
pub mod units;

pub use atoms::{AtomId, AtomRecord, Atoms, Species, SpeciesId, SpeciesTable};
pub use exact::{from_fixed, to_fixed, truncate_i64, CarryWords, ExactSum, ExactVectors, Scatter};
pub use ghost::{GhostSync, NoGhosts};
pub use simbox::{BoxError, SimBox};

/// A Cartesian vector in Å, Å/ps or eV/Å depending on context (always metal units).
pub type Vec3 = nalgebra::Vector3<f64>;

/// A symmetric tensor in Voigt order `xx yy zz xy xz yz` (LAMMPS order), in eV for the virial.
pub type Virial = [f64; 6];
