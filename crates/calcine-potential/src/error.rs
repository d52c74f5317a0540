use std::path::PathBuf;

/// Everything that can go wrong reading or evaluating a potential.
#[derive(Debug, thiserror::Error)]
pub enum PotentialError {
    #[error("{}: cannot read: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}: {reason}", path.display())]
    Parse { path: PathBuf, line: usize, reason: String },
    #[error("{}: species '{name}' is not in this potential (it has: {})", path.display(), available.join(", "))]
    UnknownSpecies { path: PathBuf, name: String, available: Vec<String> },
    #[error("{}: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error("atoms {id_i} and {id_j} are {distance:.6} Å apart, closer than {potential} allows ({min_distance} Å)")]
    TooClose { potential: String, id_i: u64, id_j: u64, distance: f64, min_distance: f64 },
    #[error("{potential} produced a non-finite {what} on atom {id}")]
    NonFinite { potential: String, what: &'static str, id: u64 },
    #[error("{0}")]
    Config(String),
}

impl PotentialError {
    pub fn parse(path: impl Into<PathBuf>, line: usize, reason: impl Into<String>) -> Self {
        PotentialError::Parse { path: path.into(), line, reason: reason.into() }
    }
}
