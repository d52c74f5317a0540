//! # Brief overview
//!
//! `calcine-transport` computes transport coefficients from trajectories.
//!
//! It deliberately does not run dynamics or depend on `calcine-md`.

pub mod analysis;
pub mod correlate;
mod error;
pub mod fit;
pub mod kinoson;
pub mod multitau;
pub mod onsager;
pub mod spec;
mod store;

pub use analysis::{analyse_frames, Analysis, Correlations};
pub use error::TransportError;
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
