//! # Brief overview
//!
//! `calcine-domain` splits the box among ranks and keeps the ghost atoms every potential
//! needs. [`Domain`] owns the [`Communicator`] and the current [`SimBox`]:
//! - [`Domain::migrate`] wraps owned atoms into the box and hands atoms that left this
//!   rank's subdomain to the neighbor rank (LAMMPS `exchange()`);
//! - [`Domain::build_ghosts`] makes ghost copies of every atom within the ghost cutoff of the
//!   subdomain, axis by axis (x, then y, then z, both directions, several hops when the
//!   cutoff exceeds a subdomain), so edges and corners come for free (LAMMPS `borders()`);
//!   it records a [`HaloPlan`];
//! - [`Domain::forward_positions`] replays the plan to refresh ghost positions each step,
//!   and [`GhostSync`] (forward / reverse sums of per-atom values) and
//!   [`Domain::reverse_forces`] use the same plan.
//!
//! Periodic images are ghosts even on one rank: with `SerialComm` the neighbor across a
//! periodic side is the rank itself, so boxes thinner than the cutoff simply take more hops.
//! Ghost positions are made by adding whole box edges, one per boundary crossing, in the
//! same order on any decomposition, so they are bit-identical whatever the rank count.

mod domain;
mod error;

pub use domain::{Domain, HaloPlan};
pub use error::DomainError;

pub use calcine_comm::Communicator;
pub use calcine_core::{GhostSync, SimBox};
