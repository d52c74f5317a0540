//! # Brief overview
//!
//! `calcine-transport` computes transport coefficients from trajectories.
//!
//! It deliberately does not run dynamics or depend on `calcine-md`.

pub mod correlate;
pub mod multitau;

pub use multitau::{MultiTau, MultiTauCurves};

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
