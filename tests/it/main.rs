//! calcine's integration tests, one module per area.

mod architecture;
mod common;
mod determinism;
mod lammps_eam;
mod md_physics;
mod potential_checks;
