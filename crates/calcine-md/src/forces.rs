//! Atoms with their ghosts and neighbor list, and the force call over them: the sequence
//! "migrate, ghosts, list, compute, reverse-sum" written once, for the engine's steps and
//! for every one-shot evaluation (tests, benchmarks, descriptors).

use crate::timers::{Section, Timers};
use crate::MdError;
use calcine_comm::{Communicator, SerialComm};
use calcine_core::{Atoms, SimBox};
use calcine_domain::Domain;
use calcine_neighbor::{spatial_order, ListStorage, NeighborKind, NeighborList};
use calcine_potential::{ForceInput, ForceOutput, Potential, Want};
use std::time::Instant;

/// One rank's atoms (owned, then ghosts), the domain that made the ghosts, a neighbor list
/// over them and the output of the last force call.
pub struct ForceState<C: Communicator> {
    domain: Domain<C>,
    atoms: Atoms,
    neighbors: NeighborList,
    out: ForceOutput,
    n_rebuilds: u64,
}

impl<C: Communicator> ForceState<C> {
    /// Keeps this rank's part of `atoms` (every rank may pass the whole system) and
    /// prepares a list of `kind` for interactions up to `cutoff` with `skin`. Call
    /// [`ForceState::rebuild`] before the first force call.
    pub fn new(
        domain: Domain<C>,
        mut atoms: Atoms,
        kind: NeighborKind,
        cutoff: f64,
        skin: f64,
        storage: ListStorage,
    ) -> Self {
        domain.retain_local(&mut atoms);
        let mut neighbors = NeighborList::new(kind, cutoff, skin);
        neighbors.set_storage(storage);
        Self { domain, atoms, neighbors, out: ForceOutput::default(), n_rebuilds: 0 }
    }

    pub fn atoms(&self) -> &Atoms {
        &self.atoms
    }
    /// Mutable atoms (integrators move them); rebuild or forward ghosts afterwards.
    pub fn atoms_mut(&mut self) -> &mut Atoms {
        &mut self.atoms
    }
    /// The atoms to move together with the forces of the last call and the communicator,
    /// for an integrator.
    pub fn parts_mut(&mut self) -> (&mut Atoms, &[calcine_core::Vec3], &C) {
        (&mut self.atoms, &self.out.forces, self.domain.comm())
    }
    pub fn domain(&self) -> &Domain<C> {
        &self.domain
    }
    pub fn comm(&self) -> &C {
        self.domain.comm()
    }
    pub fn neighbors(&self) -> &NeighborList {
        &self.neighbors
    }
    /// The output of the last force call (forces of owned atoms reverse-summed).
    pub fn output(&self) -> &ForceOutput {
        &self.out
    }
    pub fn n_rebuilds(&self) -> u64 {
        self.n_rebuilds
    }

    /// Sets the count of list builds (a restarted run continues the count).
    pub fn set_n_rebuilds(&mut self, n: u64) {
        self.n_rebuilds = n;
    }

    /// Migrates atoms to their ranks, sorts them spatially when `sort` is set, rebuilds
    /// ghosts and the neighbor list. `step` labels errors. Collective.
    pub fn rebuild(&mut self, step: u64, sort: bool, timers: &mut Timers) -> Result<(), MdError> {
        let t = Instant::now();
        self.domain.migrate(&mut self.atoms, step)?;
        timers.add(Section::Comm, t);
        let t = Instant::now();
        if sort {
            let n = self.atoms.n_owned();
            let order = spatial_order(&self.atoms.positions[..n], 0.5 * self.neighbors.list_radius());
            self.atoms.permute_owned(&order);
        }
        timers.add(Section::Neighbor, t);
        let t = Instant::now();
        self.domain.build_ghosts(&mut self.atoms, self.neighbors.list_radius());
        timers.add(Section::Comm, t);
        let t = Instant::now();
        let built = self.neighbors.build(&self.atoms);
        let local =
            built.err().map(|e| MdError::NonFinite { step, what: "position", id: self.atoms.ids[e.atom_idx].0 });
        if self.domain.comm().any(local.is_some()) {
            return Err(local.unwrap_or(MdError::OtherRank));
        }
        timers.add(Section::Neighbor, t);
        self.n_rebuilds += 1;
        tracing::debug!(
            step,
            n_ghost = self.atoms.n_ghost(),
            n_entries = self.neighbors.n_entries(),
            "neighbor rebuild"
        );
        Ok(())
    }

    /// Fails if two atoms are closer than `limit` (Å): overlapping atoms, from which no
    /// potential can start. Scans the neighbor rows of owned atoms. Collective.
    pub fn check_separation(&self, limit: f64, step: u64) -> Result<(), MdError> {
        let atoms = &self.atoms;
        let mut local = None;
        let mut row = Vec::new();
        'atoms: for i in 0..atoms.n_owned() {
            for &j in self.neighbors.row_atoms(i, &mut row) {
                let j = j as usize;
                let d = (atoms.positions[j] - atoms.positions[i]).norm();
                if d < limit {
                    let (a, b) = (atoms.ids[i].0.min(atoms.ids[j].0), atoms.ids[i].0.max(atoms.ids[j].0));
                    local = Some(MdError::Overlap { step, id_i: a, id_j: b, distance: d, limit });
                    break 'atoms;
                }
            }
        }
        if self.domain.comm().any(local.is_some()) {
            return Err(local.unwrap_or(MdError::OtherRank));
        }
        Ok(())
    }

    /// Copies owned positions to their ghosts (between rebuilds). Collective.
    pub fn forward_positions(&mut self, timers: &mut Timers) {
        let t = Instant::now();
        self.domain.forward_positions(&mut self.atoms);
        timers.add(Section::Comm, t);
    }

    /// Computes forces (and what `want` asks for) with `potential`, reverse-sums ghost
    /// forces, and checks that forces and energy are finite. An error on any rank is an
    /// error on every rank. `step` labels errors. Collective.
    pub fn compute(
        &mut self,
        potential: &dyn Potential,
        want: Want,
        step: u64,
        timers: &mut Timers,
    ) -> Result<(), MdError> {
        let t = Instant::now();
        let n_forces = if potential.writes_ghost_forces() { self.atoms.n_total() } else { self.atoms.n_owned() };
        self.out.reset(self.atoms.n_owned(), n_forces, want);
        let input = ForceInput { atoms: &self.atoms, neighbors: &self.neighbors, want };
        let result = potential.compute(&input, &mut self.domain, &mut self.out);
        timers.add(Section::Pair, t);
        if self.domain.comm().any(result.is_err()) {
            return Err(match result {
                Err(e) => e.into(),
                Ok(()) => MdError::OtherRank,
            });
        }
        if self.out.ghost_forces {
            let t = Instant::now();
            self.domain.reverse_forces(&mut self.out.forces);
            timers.add(Section::Comm, t);
        }
        // A NaN anywhere must stop every rank at this step.
        let n = self.atoms.n_owned();
        let bad = self.out.forces[..n].iter().position(|f| !(f.x.is_finite() && f.y.is_finite() && f.z.is_finite()));
        let bad_energy = want.energy && !self.out.energy.value().is_finite();
        let local = bad.map(|i| (self.atoms.ids[i].0, "force")).or(bad_energy.then_some((0, "energy")));
        if self.domain.comm().any(local.is_some()) {
            return Err(match local {
                Some((id, what)) => MdError::NonFinite { step, what, id },
                None => MdError::OtherRank,
            });
        }
        Ok(())
    }
}

/// Energy, forces, virial and per-atom energies of one configuration on one rank, through
/// the engine's own migration, ghost, list and force code (list skin `skin`). The state it
/// returns holds the atoms (owned atoms in the engine's order, their ids in `atoms().ids`),
/// the list and the output.
pub fn single_point(
    potential: &dyn Potential,
    simbox: &SimBox,
    atoms: &Atoms,
    skin: f64,
) -> Result<ForceState<SerialComm>, MdError> {
    let mut state = prepare_single(simbox, atoms, potential.neighbor_kind(), potential.cutoff(), skin)?;
    state.compute(potential, Want::ALL, 0, &mut Timers::default())?;
    Ok(state)
}

/// Atoms of one configuration on one rank with ghosts and a neighbor list of `kind` and
/// radius `cutoff + skin`, ready for a force call or a descriptor computation.
pub fn prepare_single(
    simbox: &SimBox,
    atoms: &Atoms,
    kind: NeighborKind,
    cutoff: f64,
    skin: f64,
) -> Result<ForceState<SerialComm>, MdError> {
    let mut atoms = atoms.clone();
    atoms.clear_ghosts();
    let domain = Domain::new(SerialComm::new(simbox.periodic()), simbox.clone());
    let mut state = ForceState::new(domain, atoms, kind, cutoff, skin, ListStorage::Auto);
    state.rebuild(0, false, &mut Timers::default())?;
    Ok(state)
}
