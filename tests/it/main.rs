//! calcine's integration tests, one module per area.

mod architecture;
mod atom_virial;
mod common;
mod determinism;
mod lammps_eam;
mod md_physics;
mod potential_checks;
