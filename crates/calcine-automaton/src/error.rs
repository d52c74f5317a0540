use std::path::PathBuf;

/// Everything that can go wrong in `calcine-automaton`: bad inputs (named by file and key),
/// chemistry that does not add up, and broken invariants found while running.
#[derive(Debug, thiserror::Error)]
pub enum AutomatonError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("{path}: key '{key}': {reason}")]
    Key { path: PathBuf, key: String, reason: String },
    #[error("formula '{formula}': {reason}")]
    Formula { formula: String, reason: String },
    #[error("phase '{phase}' is not in the library{context}")]
    MissingPhase { phase: String, context: String },
    #[error("reaction {reaction} is not balanced: {reason}")]
    Unbalanced { reaction: String, reason: String },
    #[error("the library has no reactions scored at {temperature} K (it has {available})")]
    MissingTemperature { temperature: f64, available: String },
    #[error("the composition cannot fill the lattice: {reason}")]
    Composition { reason: String },
    #[error("invalid setting '{key}': {reason}")]
    Setting { key: String, reason: String },
    #[error("element {element} not conserved after sweep {sweep}: {before} -> {after} quanta (a bug)")]
    Conservation { element: String, sweep: u64, before: i128, after: i128 },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    /// A chart could not be drawn or written (the error names the file).
    #[error("plot {0}")]
    Plot(calcine_plot::PlotError),
}

pub type Result<T> = std::result::Result<T, AutomatonError>;
