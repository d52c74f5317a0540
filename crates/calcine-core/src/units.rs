//! LAMMPS `metal` units and LAMMPS's own conversion constants.
//!
//! Lengths Å, energies eV, times ps, masses g/mol (amu), temperatures K, pressures bar,
//! velocities Å/ps, forces eV/Å. The constants are the ones LAMMPS assigns in
//! `Update::set_units("metal")`; CODATA values differ from them by 1e-8 to 1e-6 relative,
//! which would make kinetic energies, temperatures and pressures disagree with LAMMPS.

/// Boltzmann constant in eV/K (LAMMPS `force->boltz`).
pub const BOLTZ: f64 = 8.617343e-5;
/// Converts m·v² (amu·Å²/ps²) to eV (LAMMPS `force->mvv2e`).
pub const MVV2E: f64 = 1.0364269e-4;
/// Converts force/mass (eV/Å/amu) to Å/ps² (LAMMPS `force->ftm2v = 1/mvv2e`).
pub const FTM2V: f64 = 1.0 / 1.0364269e-4;
/// Converts N·k·T/V (eV/Å³) to bar (LAMMPS `force->nktv2p`).
pub const NKTV2P: f64 = 1.6021765e6;
/// Coulomb constant e²/(4πε₀) in eV·Å (LAMMPS `force->qqr2e` in metal units).
pub const QQR2E: f64 = 14.399645;
/// Default timestep of LAMMPS metal units, in ps.
pub const DEFAULT_TIMESTEP: f64 = 0.001;
/// One femtosecond in ps.
pub const FEMTOSECOND: f64 = 1.0e-3;
