//! # Brief overview
//!
//! `calcine-transport` computes ionic and atomic transport from trajectories of any
//! origin (calcine runs, LAMMPS dumps, extended XYZ): tracer and collective diffusion, the
//! full Onsager matrix L_ij split into self and distinct parts, Einstein–Helfand and
//! Nernst–Einstein conductivity, the Haven ratio, transference numbers, Green–Kubo
//! integrals from velocities, Arrhenius fits, and kinosons (diffusion as a sum of
//! non-negative per-transition contributions) from hop lists. Every coefficient is an
//! [`Estimate`] with a standard error.
//!
//! The pipeline is pure functions over streamed frames — a trajectory is never loaded
//! whole. [`Analysis`] takes one [`Frame`](calcine_io::Frame) at a time (checks, unwrapping,
//! drift removal, per-species sums, per-atom series or streaming correlators) and
//! [`Analysis::finish`] returns [`Correlations`]: windowed mean squared and
//! cross-displacement curves computed exactly by zero-padded FFT ([`correlate`]) or
//! streamed by the multiple-tau correlator ([`multitau`]). [`estimate`] fits them
//! ([`fit`]: generalised least squares with the random-walk covariance, automatic fit
//! window, block averages) into [`TransportResults`]; [`output`] writes JSON, ReactCA's
//! `TransportDoc` and CSV, and [`plots`] the PNG charts. [`OnTheFlyTransport`] is the same analysis as a
//! [`StepHook`](calcine_io::StepHook) inside a run; [`kinoson`] handles hops.
//!
//! Work is split over ranks by atom ownership and every sum over atoms is kept in fixed
//! point, so results have the same bits on any number of ranks and threads. Transport
//! code never communicates except through the `Communicator` it is handed, and it does
//! not depend on `calcine-md`.
//!
//! ```ignore
//! let spec = TransportSpec::new(vec![SpeciesSpec { name: "Li".into(), charge: 1.0 }], 600.0);
//! let mut frames = calcine_io::open_frames("traj.dump", species)?;
//! let corr = analyse_frames(frames.as_mut(), &spec, &SerialComm::default(), &mut |_| {})?;
//! let results = estimate(&corr, &EstimateOptions { fit_points: 32, ..Default::default() })?;
//! println!("D(Li) = {} ± {} Å²/ps", results.diffusion[0].value, results.diffusion[0].std_error);
//! ```

pub mod analysis;
pub mod correlate;
mod error;
pub mod fit;
mod hook;
pub mod kinoson;
pub mod multitau;
pub mod onsager;
pub mod output;
pub mod plots;
pub mod spec;
mod store;

pub use analysis::{analyse_frames, Analysis, Correlations};
pub use error::TransportError;
pub use hook::{OnTheFlyOutput, OnTheFlyTransport};
pub use multitau::{MultiTau, MultiTauCurves};
pub use onsager::{estimate, EstimateOptions, TransportResults};
pub use spec::{Drift, FitWindow, Method, Reference, SpeciesSpec, TransportSpec, Unwrap};

/// A value with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub value: f64,
    pub std_error: f64,
}

impl Estimate {
    pub fn new(value: f64, std_error: f64) -> Self {
        Self { value, std_error }
    }
}

#[cfg(test)]
mod tests;
