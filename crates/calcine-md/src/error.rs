use calcine_domain::DomainError;
use calcine_potential::PotentialError;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum MdError {
    #[error(transparent)]
    Potential(#[from] PotentialError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Hook(#[from] calcine_io::HookError),
    #[error("step {step}: non-finite {what} on atom {id} (the system has exploded: check the timestep and the starting structure)")]
    NonFinite { step: u64, what: &'static str, id: u64 },
    #[error("step {step}: atom {id} moved {distance:.3} Å in one step (limit {limit} Å): the timestep is too large or forces have exploded")]
    MovedTooFar { step: u64, id: u64, distance: f64, limit: f64 },
    #[error("step {step}: atoms {id_i} and {id_j} are {distance:.4} Å apart, closer than {limit} Å: they overlap (check the structure)")]
    Overlap { step: u64, id_i: u64, id_j: u64, distance: f64, limit: f64 },
    #[error("interrupted after step {step}: a checkpoint of that step was written where the run writes them (continue with --resume)")]
    Interrupted { step: u64 },
    #[error("an error occurred on another rank (see its message)")]
    OtherRank,
    #[error("{0}")]
    Setup(String),
}
