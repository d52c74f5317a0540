//! Integration tests of calcine-ace against outside references (LAMMPS unit tests, pyace).

mod common;
mod gamma;
mod lammps;
mod nve;
mod pyace;
