//! # Brief overview
//!
//! `calcine-md` runs molecular dynamics: the [`Md`] engine holds the atoms, the
//! [`Domain`](calcine_domain::Domain), the neighbor list and a
//! [`Potential`](calcine_potential::Potential), and advances them one step at a time in
//! LAMMPS's order (see `docs/timestep.md`):
//! first half-kick and drift, rebuild-or-forward, forces, reverse sum, second half-kick.
//! The [`Integrator`] is velocity Verlet (NVE), Langevin (BAOAB splitting) or a Nosé–Hoover
//! chain (MTK/Trotter, LAMMPS `fix nvt`). [`Thermo`] gives temperature, energies and the
//! pressure tensor in LAMMPS's conventions.
//!
//! Everything that is summed over atoms uses exact sums and every random number is keyed by
//! (seed, `AtomId`, step), so a run gives the same bits on any number of ranks and threads.
//! The engine never writes files: the command-line driver asks for thermo and frames.

mod engine;
mod error;
mod integrate;
mod thermo;
mod timers;
mod velocity;

pub use calcine_neighbor::ListStorage;
pub use engine::{Frame, Md, MdSettings};
pub use error::MdError;
pub use integrate::{Integrator, ThermostatState};
pub use thermo::Thermo;
pub use timers::{Section, Timers};
pub use velocity::{create_velocities, global_sums};
