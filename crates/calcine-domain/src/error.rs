/// Failures of the decomposition.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("atom {id} left the box through the non-periodic {axis} boundary at step {step} (position {position:?})")]
    LeftBox { id: u64, axis: char, step: u64, position: [f64; 3] },
    #[error("atom {id} moved more than one subdomain in one step (position {position:?} on rank {rank}); the timestep is too large or the system has exploded")]
    MovedTooFar { id: u64, rank: usize, position: [f64; 3] },
    #[error("{n_lost} atom(s) were lost during migration ({n_before} before, {n_after} after)")]
    Lost { n_before: u64, n_after: u64, n_lost: u64 },
    #[error("an atom on another rank left the box or moved too far (see that rank's message)")]
    OtherRank,
}
