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
//! [`Md::run`] is the run loop: it calls [`StepHook`](calcine_io::StepHook)s (the thermo
//! and trajectory writers of `calcine-io`, checkpoints, on-the-fly analysis) at the steps
//! they ask for, computing energies and gathering frames only where one of them needs it.
//! [`Md::start_at`] starts a run at a given step with a saved thermostat (restarts).
//! [`ForceState`] is the "migrate, ghosts, list, compute, reverse-sum" sequence the engine
//! steps through, and [`single_point`] evaluates one configuration with it.
//!
//! Everything that is summed over atoms uses exact sums and every random number is keyed by
//! (seed, `AtomId`, step), so a run gives the same bits on any number of ranks and threads.
//! The engine never writes files: hooks do.

mod engine;
mod error;
mod forces;
mod integrate;
mod load;
mod thermo;
mod timers;
mod velocity;

pub use calcine_io::{Frame, Thermo};
pub use calcine_neighbor::ListStorage;
pub use engine::{Md, MdSettings, RebuildPolicy, RunFailure, RunStats};
pub use error::MdError;
pub use forces::{prepare_single, single_point, ForceState};
pub use integrate::{Integrator, ThermostatState};
pub use load::LoadReport;
pub use timers::{Section, Timers};
pub use velocity::{create_velocities, global_sums};
