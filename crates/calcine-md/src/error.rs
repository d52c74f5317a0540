use calcine_domain::DomainError;
use calcine_potential::PotentialError;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum MdError {
    #[error(transparent)]
    Potential(#[from] PotentialError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("step {step}: non-finite {what} on atom {id} (the system has exploded: check the timestep and the starting structure)")]
    NonFinite { step: u64, what: &'static str, id: u64 },
    #[error("step {step}: atom {id} moved {distance:.3} Å in one step (limit {limit} Å): the timestep is too large or forces have exploded")]
    MovedTooFar { step: u64, id: u64, distance: f64, limit: f64 },
    #[error("an error occurred on another rank (see its message)")]
    OtherRank,
    #[error("{0}")]
    Setup(String),
}
