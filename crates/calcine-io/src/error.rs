//! The one error type of `calcine-io`.

use std::path::{Path, PathBuf};

/// Why a file could not be read or written.
///
/// Every variant about file content names the file and the 1-based line, and displays as
/// `path:line: what is wrong`, the form editors and terminals turn into links.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The operating system refused to open, read or write the file.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A line does not say what the format requires there.
    #[error("{}:{line}: {reason}", path.display())]
    Parse { path: PathBuf, line: usize, reason: String },

    /// A species name that is neither in the caller's table nor given a mass by the file.
    #[error("{}:{line}: unknown species '{name}' (known: {known}); add it to the species table or give a masses column", path.display())]
    UnknownSpecies { path: PathBuf, line: usize, name: String, known: String },

    /// The same atom id appears twice in one frame.
    #[error("{}:{line}: atom id {id} appears twice", path.display())]
    DuplicateId { path: PathBuf, line: usize, id: u64 },

    /// A LAMMPS atom type outside `1..=n_types`.
    #[error("{}:{line}: atom type {lammps_type} is out of range 1..={n_types}", path.display())]
    TypeOutOfRange { path: PathBuf, line: usize, lammps_type: i64, n_types: usize },

    /// The file holds no frame at all.
    #[error("{}: file holds no frame", path.display())]
    Empty { path: PathBuf },

    /// A checkpoint that cannot be used: damaged, of another version, or of another input.
    #[error("{}: cannot continue from this checkpoint: {reason}", path.display())]
    Checkpoint { path: PathBuf, reason: String },

    /// An H5MD file that cannot be read or written.
    #[error("{}: {reason}", path.display())]
    H5md { path: PathBuf, reason: String },

    /// Another run holds the output folder's lock.
    #[error("{}: another calcine run is writing into this folder (it holds the lock file {}); wait for it or choose another directory", path.display(), crate::OutputSpec::LOCK)]
    Locked { path: PathBuf },

    /// The output folder holds another run's outputs.
    #[error("{}: the folder already holds a run's outputs ({}): use --resume to continue it, --overwrite to replace it, or another directory", path.display(), files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "))]
    Occupied { path: PathBuf, files: Vec<PathBuf> },

    /// A file name whose extension names no format calcine knows.
    #[error("{}: unknown format: use {known}", path.display())]
    UnknownFormat { path: PathBuf, known: &'static str },

    /// The frame handed to a writer cannot be expressed in the format.
    #[error("{}: cannot write frame: {reason}", path.display())]
    Unwritable { path: PathBuf, reason: String },
}

impl IoError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn parse(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        Self::Parse { path: path.to_path_buf(), line, reason: reason.into() }
    }

    /// The line the error points at, for errors about file content.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Parse { line, .. }
            | Self::UnknownSpecies { line, .. }
            | Self::DuplicateId { line, .. }
            | Self::TypeOutOfRange { line, .. } => Some(*line),
            Self::Io { .. }
            | Self::Empty { .. }
            | Self::Unwritable { .. }
            | Self::UnknownFormat { .. }
            | Self::Checkpoint { .. }
            | Self::Locked { .. }
            | Self::H5md { .. }
            | Self::Occupied { .. } => None,
        }
    }
}
