use crate::integrate::{Integrator, ThermostatState};
use crate::thermo::Thermo;
use crate::timers::{Section, Timers};
use crate::MdError;
use calcine_comm::Communicator;
use calcine_core::{AtomId, Atoms, SimBox, SpeciesId, SpeciesTable, Vec3};
use calcine_domain::Domain;
use calcine_neighbor::{spatial_order, ListStorage, NeighborList};
use calcine_potential::{ForceInput, ForceOutput, Potential, Want};
use std::time::Instant;

/// Run settings that are not the integrator's.
#[derive(Debug, Clone, PartialEq)]
pub struct MdSettings {
    /// Timestep in ps.
    pub timestep: f64,
    /// Neighbor-list skin in Å; lists are rebuilt when an atom moved more than skin/2.
    pub skin: f64,
    /// Sort owned atoms spatially every this many list rebuilds (0: never).
    pub sort_every: u64,
    /// An atom moving farther than this in one step (Å) stops the run with an error.
    pub max_step_displacement: f64,
    /// How neighbor rows are stored (packed: about 2.5× less list memory, a few percent
    /// slower; identical results). See `calcine_neighbor::NeighborList`.
    pub list_storage: ListStorage,
}

impl Default for MdSettings {
    fn default() -> Self {
        Self { timestep: 0.001, skin: 1.0, sort_every: 10, max_step_displacement: 2.0, list_storage: ListStorage::Auto }
    }
}

/// Owned atoms of the whole system, gathered on rank 0 and sorted by [`AtomId`].
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub step: u64,
    pub time: f64,
    pub simbox: SimBox,
    pub ids: Vec<AtomId>,
    pub species: Vec<SpeciesId>,
    pub positions: Vec<Vec3>,
    pub velocities: Vec<Vec3>,
    pub forces: Vec<Vec3>,
    pub images: Vec<[i32; 3]>,
}

/// A molecular-dynamics run on one rank's share of the system.
pub struct Md<C: Communicator> {
    domain: Domain<C>,
    atoms: Atoms,
    species: SpeciesTable,
    masses: Vec<f64>,
    potential: Box<dyn Potential>,
    neighbors: NeighborList,
    out: ForceOutput,
    integrator: Integrator,
    thermostat: ThermostatState,
    settings: MdSettings,
    step: u64,
    n_atoms: u64,
    n_rebuilds: u64,
    timers: Timers,
}

impl<C: Communicator> Md<C> {
    /// Sets up a run and computes the first forces: [`Md::build`] then [`Md::setup`].
    /// Collective.
    pub fn new(
        domain: Domain<C>,
        atoms: Atoms,
        species: SpeciesTable,
        potential: Box<dyn Potential>,
        integrator: Integrator,
        settings: MdSettings,
    ) -> Result<Self, MdError> {
        let mut md = Self::build(domain, atoms, species, potential, integrator, settings)?;
        md.setup()?;
        Ok(md)
    }

    /// Checks the settings and keeps this rank's part of `atoms` (all ranks may pass the
    /// whole system). Errors here are the same on every rank. Call [`Md::setup`] next.
    /// Collective.
    pub fn build(
        domain: Domain<C>,
        mut atoms: Atoms,
        species: SpeciesTable,
        potential: Box<dyn Potential>,
        integrator: Integrator,
        settings: MdSettings,
    ) -> Result<Self, MdError> {
        if !(settings.timestep > 0.0 && settings.timestep.is_finite()) {
            return Err(MdError::Setup(format!("timestep must be positive, got {} ps", settings.timestep)));
        }
        if !(settings.skin >= 0.0) {
            return Err(MdError::Setup(format!("neighbor skin must be >= 0, got {} Å", settings.skin)));
        }
        let masses = species.masses();
        if let Some((id, s)) = species.iter().find(|(_, s)| !(s.mass > 0.0 && s.mass.is_finite())) {
            return Err(MdError::Setup(format!("species '{}' (id {}) has no positive mass", s.name, id.0)));
        }
        domain.retain_local(&mut atoms);
        let mut n = [atoms.n_owned() as u64];
        domain.comm().sum_u64(&mut n);
        let mut neighbors = NeighborList::new(potential.neighbor_kind(), potential.cutoff(), settings.skin);
        neighbors.set_storage(settings.list_storage);
        let thermostat = integrator.init_state(n[0]);
        let md = Self {
            domain,
            atoms,
            species,
            masses,
            potential,
            neighbors,
            out: ForceOutput::default(),
            integrator,
            thermostat,
            settings,
            step: 0,
            n_atoms: n[0],
            n_rebuilds: 0,
            timers: Timers::default(),
        };
        Ok(md)
    }

    /// Builds ghosts and lists and computes the first forces. An error on any rank is an
    /// error on every rank; the engine (and its communicator) stays usable for reporting.
    /// Collective.
    pub fn setup(&mut self) -> Result<(), MdError> {
        self.rebuild(0)?;
        self.compute_forces(Want::ALL)
    }

    pub fn step(&self) -> u64 {
        self.step
    }
    /// Simulated time in ps.
    pub fn time(&self) -> f64 {
        self.step as f64 * self.settings.timestep
    }
    pub fn n_atoms(&self) -> u64 {
        self.n_atoms
    }
    pub fn atoms(&self) -> &Atoms {
        &self.atoms
    }
    /// Mutable access to the atoms (for tests and tools); call [`Md::refresh`] afterwards.
    pub fn atoms_mut(&mut self) -> &mut Atoms {
        &mut self.atoms
    }
    pub fn species(&self) -> &SpeciesTable {
        &self.species
    }
    pub fn domain(&self) -> &Domain<C> {
        &self.domain
    }
    pub fn comm(&self) -> &C {
        self.domain.comm()
    }
    pub fn forces(&self) -> &ForceOutput {
        &self.out
    }
    pub fn neighbors(&self) -> &NeighborList {
        &self.neighbors
    }
    pub fn potential(&self) -> &dyn Potential {
        self.potential.as_ref()
    }
    pub fn timers(&self) -> &Timers {
        &self.timers
    }
    pub fn timers_mut(&mut self) -> &mut Timers {
        &mut self.timers
    }
    pub fn n_rebuilds(&self) -> u64 {
        self.n_rebuilds
    }
    pub fn settings(&self) -> &MdSettings {
        &self.settings
    }

    /// Draws velocities at `temperature` K (see [`crate::create_velocities`]). Collective.
    pub fn create_velocities(&mut self, temperature: f64, seed: u64) {
        crate::create_velocities(&mut self.atoms, &self.masses, temperature, seed, self.domain.comm());
    }

    /// Re-migrates, rebuilds ghosts and lists and recomputes forces after the atoms were
    /// changed from outside. Collective.
    pub fn refresh(&mut self) -> Result<(), MdError> {
        self.rebuild(self.step)?;
        self.compute_forces(Want::ALL)
    }

    /// Advances one timestep. `want` says what the force call should also compute (energy
    /// and virial are needed on steps whose thermo is written). Collective.
    pub fn advance(&mut self, want: Want) -> Result<(), MdError> {
        let step = self.step + 1;
        let dt = self.settings.timestep;
        let t = Instant::now();
        self.integrator.first_half(
            &mut self.thermostat,
            &mut self.atoms,
            &self.out.forces,
            &self.masses,
            dt,
            step,
            self.domain.comm(),
        );
        self.check_step_length(step)?;
        self.timers.add(Section::Modify, t);

        let t = Instant::now();
        let moved = self.neighbors.needs_rebuild(&self.atoms);
        let rebuild = self.domain.comm().any(moved);
        self.timers.add(Section::Comm, t);
        if rebuild {
            self.rebuild(step)?;
        } else {
            let t = Instant::now();
            self.domain.forward_positions(&mut self.atoms);
            self.timers.add(Section::Comm, t);
        }
        self.compute_forces(want)?;

        let t = Instant::now();
        self.integrator.second_half(
            &mut self.thermostat,
            &mut self.atoms,
            &self.out.forces,
            &self.masses,
            dt,
            self.domain.comm(),
        );
        self.timers.add(Section::Modify, t);
        self.step = step;
        Ok(())
    }

    /// Global observables of the current step. Energies and virial are those of the last
    /// force call, so that call must have wanted them. Collective.
    pub fn thermo(&self) -> Thermo {
        let e_thermostat = self.integrator.thermostat_energy(&self.thermostat, self.n_atoms);
        Thermo::compute(
            self.domain.comm(),
            self.step,
            self.time(),
            &self.atoms,
            &self.masses,
            &self.out.energy,
            &self.out.virial,
            self.domain.simbox().volume(),
            e_thermostat,
        )
    }

    /// All owned atoms gathered on rank 0 in `AtomId` order (`None` on other ranks). Collective.
    pub fn gather_frame(&self) -> Option<Frame> {
        let n = self.atoms.n_owned();
        let mut bytes = Vec::with_capacity(n * 112);
        for i in 0..n {
            bytes.extend_from_slice(&self.atoms.ids[i].0.to_le_bytes());
            bytes.extend_from_slice(&(self.atoms.species[i].0 as u64).to_le_bytes());
            for v in [self.atoms.positions[i], self.atoms.velocities[i], self.out.forces[i]] {
                for c in v.iter() {
                    bytes.extend_from_slice(&c.to_le_bytes());
                }
            }
            for k in self.atoms.images[i] {
                bytes.extend_from_slice(&(k as i64).to_le_bytes());
            }
        }
        let parts = self.domain.comm().gather_bytes(&bytes);
        if self.domain.comm().rank() != 0 {
            return None;
        }
        const RECORD: usize = 8 * 14;
        let mut records: Vec<&[u8]> = parts.iter().flat_map(|p| p.chunks_exact(RECORD)).collect();
        let word = |r: &[u8], k: usize| u64::from_le_bytes(r[8 * k..8 * k + 8].try_into().expect("8 bytes"));
        records.sort_by_key(|r| word(r, 0));
        let f = |r: &[u8], k: usize| f64::from_bits(word(r, k));
        let v3 = |r: &[u8], k: usize| Vec3::new(f(r, k), f(r, k + 1), f(r, k + 2));
        Some(Frame {
            step: self.step,
            time: self.time(),
            simbox: self.domain.simbox().clone(),
            ids: records.iter().map(|r| AtomId(word(r, 0))).collect(),
            species: records.iter().map(|r| SpeciesId(word(r, 1) as u32)).collect(),
            positions: records.iter().map(|r| v3(r, 2)).collect(),
            velocities: records.iter().map(|r| v3(r, 5)).collect(),
            forces: records.iter().map(|r| v3(r, 8)).collect(),
            images: records.iter().map(|r| std::array::from_fn(|k| word(r, 11 + k) as i64 as i32)).collect(),
        })
    }

    fn rebuild(&mut self, step: u64) -> Result<(), MdError> {
        let t = Instant::now();
        self.domain.migrate(&mut self.atoms, step)?;
        self.timers.add(Section::Comm, t);
        let t = Instant::now();
        if self.settings.sort_every > 0 && self.n_rebuilds.is_multiple_of(self.settings.sort_every) {
            let n = self.atoms.n_owned();
            let order = spatial_order(&self.atoms.positions[..n], 0.5 * self.neighbors.list_radius());
            self.atoms.permute_owned(&order);
        }
        self.timers.add(Section::Neighbor, t);
        let t = Instant::now();
        self.domain.build_ghosts(&mut self.atoms, self.neighbors.list_radius());
        self.timers.add(Section::Comm, t);
        let t = Instant::now();
        let built = self.neighbors.build(&self.atoms);
        let local =
            built.err().map(|e| MdError::NonFinite { step, what: "position", id: self.atoms.ids[e.atom_idx].0 });
        if self.domain.comm().any(local.is_some()) {
            return Err(local.unwrap_or(MdError::OtherRank));
        }
        self.timers.add(Section::Neighbor, t);
        self.n_rebuilds += 1;
        tracing::debug!(
            step,
            n_ghost = self.atoms.n_ghost(),
            n_entries = self.neighbors.n_entries(),
            "neighbor rebuild"
        );
        Ok(())
    }

    fn compute_forces(&mut self, want: Want) -> Result<(), MdError> {
        let t = Instant::now();
        self.out.reset(self.atoms.n_owned(), self.atoms.n_total(), want);
        let input = ForceInput { atoms: &self.atoms, neighbors: &self.neighbors, want };
        let result = self.potential.compute(&input, &mut self.domain, &mut self.out);
        self.timers.add(Section::Pair, t);
        if self.domain.comm().any(result.is_err()) {
            return Err(match result {
                Err(e) => e.into(),
                Ok(()) => MdError::OtherRank,
            });
        }
        if self.out.ghost_forces {
            let t = Instant::now();
            self.domain.reverse_forces(&mut self.out.forces);
            self.timers.add(Section::Comm, t);
        }
        // A NaN anywhere must stop every rank at this step.
        let n = self.atoms.n_owned();
        let bad = self.out.forces[..n].iter().position(|f| !(f.x.is_finite() && f.y.is_finite() && f.z.is_finite()));
        let bad_energy = want.energy && !self.out.energy.value().is_finite();
        let local = bad.map(|i| (self.atoms.ids[i].0, "force")).or(bad_energy.then_some((0, "energy")));
        if self.domain.comm().any(local.is_some()) {
            return Err(match local {
                Some((id, what)) => MdError::NonFinite { step: self.step, what, id },
                None => MdError::OtherRank,
            });
        }
        Ok(())
    }

    fn check_step_length(&self, step: u64) -> Result<(), MdError> {
        let dt = self.settings.timestep;
        let limit = self.settings.max_step_displacement;
        let n = self.atoms.n_owned();
        let mut local = None;
        for i in 0..n {
            let v = self.atoms.velocities[i];
            let d = v.norm() * dt;
            if !(d <= limit) {
                local = Some(if d.is_finite() {
                    MdError::MovedTooFar { step, id: self.atoms.ids[i].0, distance: d, limit }
                } else {
                    MdError::NonFinite { step, what: "velocity", id: self.atoms.ids[i].0 }
                });
                break;
            }
        }
        if self.domain.comm().any(local.is_some()) {
            return Err(local.unwrap_or(MdError::OtherRank));
        }
        Ok(())
    }
}
