//! # Brief overview
//!
//! Helpers shared by calcine's tests (a dev-only crate):
//! - [`LammpsYaml`] reads LAMMPS force-style reference files (`unittest/force-styles/tests/*.yaml`);
//! - [`evaluate`] computes energy, forces (keyed by `AtomId`) and virial of one
//!   configuration with any [`Potential`], through the real domain and neighbor code;
//! - [`check_potential`] runs the generic checks every potential must pass: forces are
//!   −∇E by central differences, the virial is the strain derivative, and results are
//!   invariant under translation, rotation, permutation and periodic image shifts;
//! - [`rel_err`] is LAMMPS's error measure.

mod checks;
mod evaluate;
mod lammps_yaml;

pub use checks::{check_potential, CheckTolerances};
pub use evaluate::{evaluate, Evaluation};
pub use lammps_yaml::LammpsYaml;

pub use calcine_potential::Potential;

/// LAMMPS's relative error: |a − b| / min(|a|, |b|), or |a − b| when either is zero.
pub fn rel_err(a: f64, b: f64) -> f64 {
    let d = (a - b).abs();
    let m = a.abs().min(b.abs());
    if a == 0.0 || b == 0.0 {
        d
    } else {
        d / m
    }
}

/// Path of a file under the repository's `tests/data/`.
pub fn data_path(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}
