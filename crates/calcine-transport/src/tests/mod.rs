//! Tests against exact results: direct sums, random walks with known D, Ornstein–Uhlenbeck
//! velocities, bound pairs, vacancy kinetic Monte Carlo with known correlation factors.

mod correlators;
mod errors;
mod estimators;
mod green_kubo;
mod hook;
mod kmc;
mod plots;
mod store;
mod uncertainty;
pub(crate) mod walks;
