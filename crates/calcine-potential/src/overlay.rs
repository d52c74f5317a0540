use crate::{ForceInput, ForceOutput, NeighborKind, Potential, PotentialError};
use calcine_core::GhostSync;

/// The sum of several potentials evaluated on one neighbor list (LAMMPS
/// `pair_style hybrid/overlay` with every style on all pairs), e.g. SNAP + ZBL.
///
/// All members must request the same kind of list; terms are added in member order, so
/// the result is as deterministic as the members.
pub struct Overlay {
    name: String,
    members: Vec<Box<dyn Potential>>,
}

impl Overlay {
    pub fn new(members: Vec<Box<dyn Potential>>) -> Result<Self, PotentialError> {
        if members.is_empty() {
            return Err(PotentialError::Config("overlay needs at least one potential".into()));
        }
        let kind = members[0].neighbor_kind();
        if members.iter().any(|m| m.neighbor_kind() != kind) {
            return Err(PotentialError::Config("overlay members must all use the same kind of neighbor list".into()));
        }
        let name = members.iter().map(|m| m.name().to_string()).collect::<Vec<_>>().join("+");
        Ok(Self { name, members })
    }

    pub fn members(&self) -> &[Box<dyn Potential>] {
        &self.members
    }
}

impl Potential for Overlay {
    fn name(&self) -> &str {
        &self.name
    }
    fn cutoff(&self) -> f64 {
        self.members.iter().map(|m| m.cutoff()).fold(0.0, f64::max)
    }
    fn neighbor_kind(&self) -> NeighborKind {
        self.members[0].neighbor_kind()
    }
    fn compute(
        &self,
        input: &ForceInput<'_>,
        ghosts: &mut dyn GhostSync,
        out: &mut ForceOutput,
    ) -> Result<(), PotentialError> {
        let mut ghost_forces = false;
        for m in &self.members {
            m.compute(input, ghosts, out)?;
            ghost_forces |= out.ghost_forces;
        }
        out.ghost_forces = ghost_forces;
        Ok(())
    }
    fn masses(&self) -> Option<Vec<f64>> {
        self.members.iter().find_map(|m| m.masses())
    }
    fn writes_ghost_forces(&self) -> bool {
        self.members.iter().any(|m| m.writes_ghost_forces())
    }
    fn release_scratch(&self) {
        for m in &self.members {
            m.release_scratch();
        }
    }
}
