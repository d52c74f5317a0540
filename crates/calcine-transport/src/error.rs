//! The errors of this crate.

use std::path::PathBuf;

use calcine_io::IoError;

/// Why a transport analysis cannot go on. Frame numbers count from 0 in file order.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Reading the trajectory failed.
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("the trajectory has no frames")]
    Empty,
    #[error("the trajectory has {frames} frame(s): at least {needed} are needed")]
    TooFewFrames { frames: usize, needed: usize },
    #[error("frame {frame}: {found} atoms, but the first frame has {expected}")]
    AtomCount { frame: usize, expected: usize, found: usize },
    #[error("frame {frame}: atom id {found} where the first frame has id {expected} (position {index} in id order)")]
    AtomIds { frame: usize, index: usize, expected: u64, found: u64 },
    #[error("frame {frame}: atom id {id} has species {found}, but species {expected} in the first frame")]
    SpeciesChanged { frame: usize, id: u64, expected: String, found: String },
    #[error("frame {frame}: time {time} ps does not increase (the frame before is at {previous} ps)")]
    NonMonotonicTime { frame: usize, time: f64, previous: f64 },
    #[error(
        "frame {frame}: frames are not equally spaced in time ({interval} ps after the frame before, the first interval is {first} ps)"
    )]
    UnevenTime { frame: usize, interval: f64, first: f64 },
    #[error("frame {frame}: frames carry neither a time nor a step (with a timestep): give the time between frames")]
    NoTime { frame: usize },
    #[error("frame {frame}: the box changed (volume {volume} Å³, the first frame's {first} Å³), but the input says it is fixed")]
    BoxChanged { frame: usize, volume: f64, first: f64 },
    #[error("species '{name}' is not in the trajectory (its species are: {present})")]
    MissingSpecies { name: String, present: String },
    #[error("species '{name}' has no mass: give it in the input (the centre-of-mass drift needs it)")]
    MissingMass { name: String },
    #[error("frame {frame}: the frame has no velocities, which Green-Kubo needs")]
    MissingVelocities { frame: usize },
    #[error("fit window {start} to {end} ps is outside the data (lags from {min} to {max} ps)")]
    FitWindow { start: f64, end: f64, min: f64, max: f64 },
    #[error("{0}")]
    Invalid(String),
    #[error("scratch file in {dir}: {source}")]
    Scratch { dir: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {reason}")]
    HopList { path: PathBuf, line: usize, reason: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    /// A chart could not be drawn or written (the error names the file).
    #[error("plot {0}")]
    Plot(calcine_plot::PlotError),
}
