use crate::forces::ForceState;
use crate::integrate::{Integrator, ThermostatState};
use crate::thermo::compute_thermo;
use crate::timers::{Section, Timers};
use crate::MdError;
use calcine_comm::Communicator;
use calcine_core::{AtomRecord, Atoms, SpeciesTable, Vec3};
use calcine_domain::Domain;
use calcine_io::{Checkpoint, Frame, GradeView, HookError, Needs, PositionKind, RunInfo, StepHook, StepView, Thermo};
use calcine_neighbor::{ListStorage, NeighborList};
use calcine_potential::{AtomGrade, ForceInput, ForceOutput, Potential, Want};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
    /// When lists may be rebuilt, as LAMMPS `neigh_modify every M delay N check yes|no`:
    /// only on steps at least `delay` steps after the last build and a multiple of
    /// `every` steps after it; then, with `check`, only if an atom moved more than half the
    /// skin since (without `check`, always).
    pub rebuild: RebuildPolicy,
}

/// LAMMPS's `neigh_modify every/delay/check` (its defaults: every 1, delay 0, check yes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildPolicy {
    pub every: u64,
    pub delay: u64,
    pub check: bool,
}

impl Default for RebuildPolicy {
    fn default() -> Self {
        Self { every: 1, delay: 0, check: true }
    }
}

impl RebuildPolicy {
    /// Whether a build may happen `ago` steps after the last one.
    pub fn allows(&self, ago: u64) -> bool {
        ago >= self.delay && ago.is_multiple_of(self.every.max(1))
    }

    /// Whether a build triggered by the check `ago` steps after the last one is
    /// "dangerous" as LAMMPS counts it: it came on the first step a build was allowed
    /// (`ago == max(every, delay)`), so an atom may have crossed half the skin earlier,
    /// when no check was made. (With every 1 delay 0, LAMMPS counts a build one step after
    /// another too, although nothing was missed there.)
    pub fn is_dangerous(&self, ago: u64) -> bool {
        self.check && ago == self.every.max(self.delay).max(1)
    }
}

impl Default for MdSettings {
    fn default() -> Self {
        Self {
            timestep: calcine_core::units::DEFAULT_TIMESTEP,
            skin: 1.0,
            sort_every: 10,
            max_step_displacement: 2.0,
            list_storage: ListStorage::Auto,
            rebuild: RebuildPolicy::default(),
        }
    }
}

/// What [`Md::run`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStats {
    /// Wall-clock seconds of the step loop (hooks' set-up excluded, their per-step work
    /// included, as LAMMPS's "Loop time").
    pub loop_seconds: f64,
    /// Steps computed.
    pub steps: u64,
    /// The thermo at the first step and the last thermo computed.
    pub first_thermo: Thermo,
    pub last_thermo: Thermo,
}

/// Where a run stands when it fails: the error, and what had been done.
#[derive(Debug)]
pub struct RunFailure {
    pub error: MdError,
    /// The last step completed.
    pub step: u64,
    pub loop_seconds: f64,
}

/// A molecular-dynamics run on one rank's share of the system.
pub struct Md<C: Communicator> {
    state: ForceState<C>,
    species: SpeciesTable,
    masses: Vec<f64>,
    potential: Box<dyn Potential>,
    /// A per-atom grade computed when hooks ask for it (ACE's extrapolation grade).
    grade: Option<Box<dyn AtomGrade>>,
    integrator: Integrator,
    thermostat: ThermostatState,
    settings: MdSettings,
    step: u64,
    n_atoms: u64,
    timers: Timers,
    /// What the last force call computed (`None`: none has, or it failed); the same on
    /// every rank, so decisions taken on it are collective.
    computed: Option<Want>,
    /// Set (by a signal handler) to ask the run to stop after the current step.
    stop: Option<Arc<AtomicBool>>,
    /// Whether any rank's stop flag was seen set at the last step (collective).
    stop_requested: bool,
    /// The step of the last neighbor-list build.
    last_build: u64,
    /// Builds the check triggered on the first step a build was allowed.
    dangerous_builds: u64,
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
    /// whole system). The run starts at step 0 with a fresh thermostat unless
    /// [`Md::start_at`] says otherwise. Errors here are the same on every rank. Call
    /// [`Md::setup`] next. Collective.
    pub fn build(
        domain: Domain<C>,
        atoms: Atoms,
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
        let state = ForceState::new(
            domain,
            atoms,
            potential.neighbor_kind(),
            potential.cutoff(),
            settings.skin,
            settings.list_storage,
        );
        let mut n = [state.atoms().n_owned() as u64];
        state.comm().sum_u64(&mut n);
        let thermostat = integrator.init_state(n[0]);
        Ok(Self {
            state,
            species,
            masses,
            potential,
            grade: None,
            integrator,
            thermostat,
            settings,
            step: 0,
            n_atoms: n[0],
            timers: Timers::default(),
            computed: None,
            stop: None,
            stop_requested: false,
            last_build: 0,
            dangerous_builds: 0,
        })
    }

    /// A per-atom grade (ACE's extrapolation grade γ) to compute on the steps where a hook
    /// asks for it ([`Needs::grade`]): its values and maximum go to the hooks
    /// ([`StepView::grade`]) and its maximum into the thermo. It must read the list the
    /// potential reads.
    pub fn set_grade(&mut self, grade: Box<dyn AtomGrade>) -> Result<(), MdError> {
        let kind = self.potential.neighbor_kind();
        if grade.neighbor_kind() != kind {
            return Err(MdError::Setup(format!(
                "the per-atom grade '{}' needs a {:?} neighbor list, but the potential '{}' uses a {:?} one",
                grade.name(),
                grade.neighbor_kind(),
                self.potential.name(),
                kind
            )));
        }
        self.grade = Some(grade);
        Ok(())
    }

    /// The name of the run's per-atom grade, if it has one.
    pub fn grade_name(&self) -> Option<&'static str> {
        self.grade.as_ref().map(|g| g.name())
    }

    /// The grade of every owned atom and its maximum over all ranks (`None` without a
    /// grade). An error on any rank is an error on every rank. Collective.
    pub fn compute_grade(&mut self) -> Result<Option<(Vec<f64>, f64)>, MdError> {
        let Some(grade) = &self.grade else { return Ok(None) };
        let t = Instant::now();
        let input =
            ForceInput { atoms: self.state.atoms(), neighbors: self.state.neighbors(), want: Want::FORCES_ONLY };
        let result = grade.grade(&input);
        let failed = self.comm().any(result.is_err());
        let values = match (result, failed) {
            (Ok(values), false) => values,
            (Err(e), _) => return Err(e.into()),
            (Ok(_), true) => return Err(MdError::OtherRank),
        };
        let local = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let max = self.comm().max_f64(local);
        self.timers.add(Section::Pair, t);
        Ok(Some((values, max)))
    }

    /// A flag that, once set on any rank (by a SIGINT or SIGTERM handler), makes
    /// [`Md::run`] stop after the current step, hand its hooks a checkpoint of it
    /// ([`StepHook::on_interrupt`]) and return [`MdError::Interrupted`]. Checked at every
    /// step in the same collective as the rebuild decision, so it costs nothing extra.
    pub fn set_stop_flag(&mut self, flag: Arc<AtomicBool>) {
        self.stop = Some(flag);
    }

    /// Starts the run at `step` (instead of 0) with the given thermostat state (instead of
    /// a fresh one): what a restart needs. Random numbers are keyed by (seed, `AtomId`,
    /// step), so they continue where the interrupted run would have gone on. Call before
    /// [`Md::setup`].
    pub fn start_at(&mut self, step: u64, thermostat: Option<ThermostatState>) {
        self.step = step;
        if let Some(state) = thermostat {
            self.thermostat = state;
        }
    }

    /// Sets up a run that continues `checkpoint`: the engine must have been built from its
    /// atoms placed at their positions of the last list build ([`Md::build`] with
    /// `checkpoint.build_positions`) and started at its step and thermostat
    /// ([`Md::start_at`]). The ghosts and neighbor lists are rebuilt from those positions,
    /// exactly as the interrupted run built them, then every atom is moved to where it was
    /// at the checkpoint and the forces are computed: the run continues bit for bit as the
    /// interrupted one would have, on any number of ranks and threads. Collective.
    pub fn setup_resumed(&mut self, checkpoint: &Checkpoint) -> Result<(), MdError> {
        self.state.rebuild(self.step, false, &mut self.timers)?;
        let atoms = self.state.atoms_mut();
        let mut missing = None;
        for i in 0..atoms.n_owned() {
            match checkpoint.atoms.binary_search_by_key(&atoms.ids[i], |r| r.id) {
                Ok(k) => atoms.positions[i] = checkpoint.atoms[k].position,
                Err(_) => missing = Some(atoms.ids[i].0),
            }
        }
        if self.comm().any(missing.is_some()) {
            return Err(MdError::Setup(match missing {
                Some(id) => format!("atom {id} is not in the checkpoint"),
                None => "an atom is missing from the checkpoint on another rank".into(),
            }));
        }
        self.state.forward_positions(&mut self.timers);
        self.state.set_n_rebuilds(checkpoint.n_rebuilds);
        self.last_build = checkpoint.last_build;
        self.compute_forces(Self::SETUP_WANT)
    }

    /// The run's whole state gathered on rank 0 (`None` on other ranks): step, box,
    /// species, thermostat, every atom's record and its position at the last list build,
    /// sorted by id. The caller adds what the input must agree on and the outputs'
    /// lengths. Collective.
    pub fn gather_checkpoint(&self) -> Option<Checkpoint> {
        const WORDS: usize = AtomRecord::WORDS + 3;
        let atoms = self.atoms();
        let reference = self.neighbors().reference_positions();
        let n = atoms.n_owned();
        assert_eq!(reference.len(), n, "the neighbor list's reference positions cover the owned atoms");
        let mut words = Vec::with_capacity(n * WORDS);
        for i in 0..n {
            atoms.record(i).encode(&mut words);
            words.extend(reference[i].iter().map(|c| c.to_bits()));
        }
        let mut rows = self.gather_words(&words, WORDS)?;
        rows.sort_by_key(|w| w[0]);
        let f = |w: u64| f64::from_bits(w);
        Some(Checkpoint {
            step: self.step,
            simbox: self.domain().simbox().clone(),
            species: self.species.clone(),
            thermostat: self.thermostat.to_words(),
            n_rebuilds: self.n_rebuilds(),
            last_build: self.last_build,
            atoms: rows.iter().map(|w| AtomRecord::decode(w)).collect(),
            build_positions: rows.iter().map(|w| Vec3::new(f(w[11]), f(w[12]), f(w[13]))).collect(),
            compatibility: Default::default(),
            outputs: Default::default(),
        })
    }

    /// Gathers `width` words per owned atom on rank 0 (`None` elsewhere). Collective.
    fn gather_words(&self, words: &[u64], width: usize) -> Option<Vec<Vec<u64>>> {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let parts = self.comm().gather_bytes(&bytes);
        if self.comm().rank() != 0 {
            return None;
        }
        let mut rows = Vec::with_capacity(self.n_atoms as usize);
        for part in &parts {
            let all: Vec<u64> =
                part.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))).collect();
            rows.extend(all.chunks_exact(width).map(|c| c.to_vec()));
        }
        Some(rows)
    }

    /// Builds ghosts and lists and computes the first forces. An error on any rank is an
    /// error on every rank; the engine (and its communicator) stays usable for reporting.
    /// Collective.
    pub fn setup(&mut self) -> Result<(), MdError> {
        self.state.rebuild(self.step, self.settings.sort_every > 0, &mut self.timers)?;
        self.last_build = self.step;
        self.state.check_separation(Self::MIN_SEPARATION, self.step)?;
        self.compute_forces(Self::SETUP_WANT)
    }

    /// What set-up force calls compute: energy and virial. Per-atom energies and virials
    /// are computed only for the steps a hook asks for them ([`Md::run`] recomputes step 0
    /// when one does): asking at set-up would keep a potential's per-atom scratch (the EAM
    /// kernel's fourth fixed-point word, 16 bytes per atom and ghost) for the whole run.
    const SETUP_WANT: Want = Want { energy: true, virial: true, per_atom_energy: false, per_atom_virial: false };

    /// Atoms closer than this (Å) at the start of a run overlap: no structure a run can
    /// start from has them, and no potential gives finite forces there.
    pub const MIN_SEPARATION: f64 = 0.1;

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
        self.state.atoms()
    }
    /// Mutable access to the atoms (for tests and tools); call [`Md::refresh`] afterwards.
    pub fn atoms_mut(&mut self) -> &mut Atoms {
        self.state.atoms_mut()
    }
    pub fn species(&self) -> &SpeciesTable {
        &self.species
    }
    pub fn domain(&self) -> &Domain<C> {
        self.state.domain()
    }
    pub fn comm(&self) -> &C {
        self.state.comm()
    }
    pub fn forces(&self) -> &ForceOutput {
        self.state.output()
    }
    pub fn neighbors(&self) -> &NeighborList {
        self.state.neighbors()
    }
    pub fn potential(&self) -> &dyn Potential {
        self.potential.as_ref()
    }
    pub fn integrator(&self) -> &Integrator {
        &self.integrator
    }
    /// The thermostat's own variables (what a checkpoint saves).
    pub fn thermostat_state(&self) -> &ThermostatState {
        &self.thermostat
    }
    pub fn timers(&self) -> &Timers {
        &self.timers
    }
    pub fn timers_mut(&mut self) -> &mut Timers {
        &mut self.timers
    }
    pub fn n_rebuilds(&self) -> u64 {
        self.state.n_rebuilds()
    }
    /// Builds that came on the first step one was allowed (see [`RebuildPolicy`]); always
    /// 0 when lists are checked every step.
    pub fn dangerous_builds(&self) -> u64 {
        self.dangerous_builds
    }
    pub fn settings(&self) -> &MdSettings {
        &self.settings
    }

    /// Draws velocities at `temperature` K (see [`crate::create_velocities`]). Collective.
    pub fn create_velocities(&mut self, temperature: f64, seed: u64) {
        let (atoms, _, comm) = self.state.parts_mut();
        crate::create_velocities(atoms, &self.masses, temperature, seed, comm);
    }

    /// Re-migrates, rebuilds ghosts and lists and recomputes forces after the atoms were
    /// changed from outside. Collective.
    pub fn refresh(&mut self) -> Result<(), MdError> {
        self.state.rebuild(self.step, self.sort_now(), &mut self.timers)?;
        self.last_build = self.step;
        self.compute_forces(Self::SETUP_WANT)
    }

    /// Runs `steps` steps, calling `hooks` at the cadence each asks for (see [`StepHook`]):
    /// `setup` with the state at the current step, `at_step` after each step a hook
    /// needs, `finish` at the end, also when the run fails. Energies are computed only at
    /// steps where some hook wants thermo. An error on any rank (in a step or a hook) ends
    /// the run on every rank. When the stop flag ([`Md::set_stop_flag`]) is set, the run
    /// ends after the current step: hooks get a checkpoint of it through
    /// [`StepHook::on_interrupt`], and the run returns [`MdError::Interrupted`]. Collective.
    pub fn run(&mut self, steps: u64, hooks: &mut [&mut dyn StepHook]) -> Result<RunStats, RunFailure> {
        let info = RunInfo {
            first_step: self.step,
            last_step: self.step + steps,
            timestep: self.settings.timestep,
            n_atoms: self.n_atoms,
            rank: self.comm().rank(),
            n_ranks: self.comm().size(),
        };
        let start = Instant::now();
        let fail =
            |error, step, start: Instant| RunFailure { error, step, loop_seconds: start.elapsed().as_secs_f64() };
        let needs = hooks.iter().filter_map(|h| h.needs(info.first_step)).fold(Needs::THERMO, Needs::union);
        let computed = self.computed.unwrap_or(Want::FORCES_ONLY);
        if !(computed.energy && computed.virial)
            || (needs.atom_energies && !computed.per_atom_energy)
            || (needs.atom_virials && !computed.per_atom_virial)
        {
            let want =
                Want { per_atom_energy: needs.atom_energies, per_atom_virial: needs.atom_virials, ..Self::SETUP_WANT };
            if let Err(e) = self.compute_forces(want) {
                return Err(self.finish_hooks(hooks, fail(e, self.step, start)));
            }
        }
        let observed = match self.observe(Needs { thermo: true, ..needs }) {
            Ok(o) => o,
            Err(e) => return Err(self.finish_hooks(hooks, fail(e, self.step, start))),
        };
        let first_thermo = observed.thermo.clone().expect("asked for");
        let view = self.view(&observed);
        let result = Self::agree(self.comm(), hooks.iter_mut().map(|h| h.setup(&info, &view)).find_map(Result::err));
        drop(observed);
        if let Err(e) = result {
            return Err(self.finish_hooks(hooks, fail(e, self.step, start)));
        }

        self.timers.reset();
        let loop_start = Instant::now();
        let mut last_thermo = first_thermo.clone();
        let mut called = vec![false; hooks.len()];
        for step in info.first_step + 1..=info.last_step {
            let mut needs: Option<Needs> = None;
            for (k, hook) in hooks.iter().enumerate() {
                let n = hook.needs(step);
                called[k] = n.is_some();
                needs = match (needs, n) {
                    (Some(a), Some(b)) => Some(a.union(b)),
                    (a, b) => a.or(b),
                };
            }
            let want = match needs {
                Some(n) => Want {
                    energy: n.thermo,
                    virial: n.thermo,
                    per_atom_energy: n.atom_energies,
                    per_atom_virial: n.atom_virials,
                },
                None => Want::FORCES_ONLY,
            };
            if let Err(e) = self.advance(want) {
                return Err(self.finish_hooks(hooks, fail(e, self.step, loop_start)));
            }
            if let Some(needs) = needs {
                let t = Instant::now();
                let observed = match self.observe(needs) {
                    Ok(o) => o,
                    Err(e) => return Err(self.finish_hooks(hooks, fail(e, self.step, loop_start))),
                };
                let view = self.view(&observed);
                let local = hooks
                    .iter_mut()
                    .zip(&called)
                    .filter(|(_, &c)| c)
                    .map(|(h, _)| h.at_step(&view))
                    .find_map(Result::err);
                let result = Self::agree(self.comm(), local);
                self.timers.add(Section::Output, t);
                if let Some(t) = observed.thermo {
                    last_thermo = t;
                }
                if let Err(e) = result {
                    return Err(self.finish_hooks(hooks, fail(e, self.step, loop_start)));
                }
            }
            if self.stop_requested && step < info.last_step {
                let observed = Observed { checkpoint: self.gather_checkpoint(), ..Observed::default() };
                let view = self.view(&observed);
                let saved = hooks.iter_mut().map(|h| h.on_interrupt(&view)).find_map(Result::err);
                let error = match Self::agree(self.comm(), saved) {
                    Ok(()) => MdError::Interrupted { step: self.step },
                    Err(e) => e,
                };
                return Err(self.finish_hooks(hooks, fail(error, self.step, loop_start)));
            }
        }
        let loop_seconds = loop_start.elapsed().as_secs_f64();
        let finished = hooks.iter_mut().map(|h| h.finish()).find_map(Result::err);
        if let Err(e) = Self::agree(self.comm(), finished) {
            return Err(fail(e, self.step, loop_start));
        }
        Ok(RunStats { loop_seconds, steps, first_thermo, last_thermo })
    }

    /// Lets every hook finish after a failure (their own errors then matter less than the
    /// one that stopped the run).
    fn finish_hooks(&self, hooks: &mut [&mut dyn StepHook], failure: RunFailure) -> RunFailure {
        let finished = hooks.iter_mut().map(|h| h.finish()).find_map(Result::err);
        let _ = Self::agree(self.comm(), finished);
        failure
    }

    /// An error of a hook on any rank as an error on every rank. Collective.
    fn agree(comm: &C, local: Option<HookError>) -> Result<(), MdError> {
        if comm.any(local.is_some()) {
            return Err(local.map(MdError::Hook).unwrap_or(MdError::OtherRank));
        }
        Ok(())
    }

    /// What `needs` asks for at the current step: thermo (with the grade's maximum),
    /// frame (also when the grade's maximum exceeds `needs.frame_if_grade_above`, with the
    /// grade gathered beside it), checkpoint. Collective.
    fn observe(&mut self, needs: Needs) -> Result<Observed, MdError> {
        let grade_wanted = needs.grade || needs.frame_if_grade_above.is_some();
        let grade = if grade_wanted { self.compute_grade()? } else { None };
        let max = grade.as_ref().map(|(_, max)| *max);
        let mut thermo = needs.thermo.then(|| self.thermo());
        if let (Some(t), Some(name), Some(max)) = (&mut thermo, self.grade_name(), max) {
            t.max_grade = Some((name, max));
        }
        let frame_for_grade = matches!((needs.frame_if_grade_above, max), (Some(limit), Some(max)) if max > limit);
        let (frame, gathered) = if needs.frame || frame_for_grade {
            let values = grade.as_ref().map(|(v, _)| v.as_slice());
            match self.gather_frame_full(needs.atom_energies, needs.atom_virials, values) {
                Some((frame, gathered)) => (Some(frame), gathered),
                None => (None, None),
            }
        } else {
            (None, None)
        };
        let checkpoint = if needs.checkpoint { self.gather_checkpoint() } else { None };
        Ok(Observed { thermo, frame, checkpoint, grade, gathered })
    }

    fn view<'a>(&'a self, observed: &'a Observed) -> StepView<'a> {
        StepView {
            step: self.step,
            time: self.time(),
            simbox: self.domain().simbox(),
            species: &self.species,
            atoms: self.atoms(),
            forces: &self.forces().forces,
            atom_virials: &self.forces().per_atom_virial,
            thermo: observed.thermo.as_ref(),
            frame: observed.frame.as_ref(),
            checkpoint: observed.checkpoint.as_ref(),
            grade: match (&observed.grade, self.grade_name()) {
                (Some((values, max)), Some(name)) => {
                    Some(GradeView { name, max: *max, values, gathered: observed.gathered.as_deref() })
                }
                _ => None,
            },
        }
    }

    /// Advances one timestep. `want` says what the force call should also compute (energy
    /// and virial are needed on steps whose thermo is written). Collective.
    pub fn advance(&mut self, want: Want) -> Result<(), MdError> {
        let step = self.step + 1;
        let dt = self.settings.timestep;
        let t = Instant::now();
        let (atoms, forces, comm) = self.state.parts_mut();
        self.integrator.first_half(&mut self.thermostat, atoms, forces, &self.masses, dt, step, comm);
        self.check_step_length(step)?;
        self.timers.add(Section::Modify, t);

        let t = Instant::now();
        // One collective decides both whether to rebuild and whether to stop.
        let policy = self.settings.rebuild;
        let ago = step - self.last_build;
        let moved = policy.allows(ago) && (!policy.check || self.neighbors().needs_rebuild(self.atoms()));
        let stop = self.stop.as_ref().is_some_and(|f| f.load(Ordering::Relaxed));
        let mut flags = [moved as u64, stop as u64];
        self.comm().sum_u64(&mut flags);
        let rebuild = flags[0] > 0;
        self.stop_requested = flags[1] > 0;
        self.timers.add(Section::Comm, t);
        if rebuild {
            let sort = self.sort_now();
            self.potential.release_scratch();
            self.state.rebuild(step, sort, &mut self.timers)?;
            self.last_build = step;
            self.dangerous_builds += policy.is_dangerous(ago) as u64;
        } else {
            self.state.forward_positions(&mut self.timers);
        }
        self.compute_forces(want)?;

        let t = Instant::now();
        let (atoms, forces, comm) = self.state.parts_mut();
        self.integrator.second_half(&mut self.thermostat, atoms, forces, &self.masses, dt, comm);
        self.timers.add(Section::Modify, t);
        self.step = step;
        Ok(())
    }

    /// Global observables of the current step. Energies and virial are those of the last
    /// force call, so that call must have wanted them. Collective.
    pub fn thermo(&self) -> Thermo {
        let e_thermostat = self.integrator.thermostat_energy(&self.thermostat, self.n_atoms);
        let out = self.state.output();
        compute_thermo(
            self.comm(),
            self.step,
            self.time(),
            self.atoms(),
            &self.masses,
            &out.energy,
            &out.virial,
            self.domain().simbox().volume(),
            e_thermostat,
        )
    }

    /// All owned atoms gathered on rank 0 in `AtomId` order, with velocities, forces and
    /// image flags (`None` on other ranks). Collective.
    pub fn gather_frame(&self) -> Option<Frame> {
        self.gather_frame_with(false)
    }

    /// [`Md::gather_frame`] with per-atom energies when `energies` is set (the last force
    /// call must have computed them: `Want::per_atom_energy`). Collective.
    pub fn gather_frame_with(&self, energies: bool) -> Option<Frame> {
        self.gather_frame_full(energies, false, None).map(|(frame, _)| frame)
    }

    /// [`Md::gather_frame`] with per-atom energies and virials where asked for (the last
    /// force call must have computed them: `Want::per_atom_energy`,
    /// `Want::per_atom_virial`). Collective.
    pub fn gather_frame_per_atom(&self, energies: bool, virials: bool) -> Option<Frame> {
        self.gather_frame_full(energies, virials, None).map(|(frame, _)| frame)
    }

    /// [`Md::gather_frame_with`], also gathering one value per owned atom (`extra`) into
    /// the frame's order. Collective.
    fn gather_frame_full(
        &self,
        energies: bool,
        virials: bool,
        extra: Option<&[f64]>,
    ) -> Option<(Frame, Option<Vec<f64>>)> {
        let atoms = self.atoms();
        let out = self.forces();
        let n = atoms.n_owned();
        assert!(!energies || out.per_atom_energy.len() == n, "the last force call computed no per-atom energies");
        assert!(!virials || out.per_atom_virial.len() == n, "the last force call computed no per-atom virials");
        let base = AtomRecord::WORDS + 3;
        let virial_start = base + energies as usize;
        let width = virial_start + 6 * virials as usize + extra.is_some() as usize;
        let mut words = Vec::with_capacity(n * width);
        for i in 0..n {
            atoms.record(i).encode(&mut words);
            words.extend(out.forces[i].iter().map(|c| c.to_bits()));
            if energies {
                words.push(out.per_atom_energy[i].to_bits());
            }
            if virials {
                words.extend(out.per_atom_virial[i].iter().map(|c| c.to_bits()));
            }
            if let Some(values) = extra {
                words.push(values[i].to_bits());
            }
        }
        let mut rows = self.gather_words(&words, width)?;
        rows.sort_by_key(|w| w[0]);
        let records: Vec<AtomRecord> = rows.iter().map(|w| AtomRecord::decode(w)).collect();
        let f = |w: u64| f64::from_bits(w);
        let per_atom_energy = energies.then(|| rows.iter().map(|w| f(w[base])).collect());
        let per_atom_virial =
            virials.then(|| rows.iter().map(|w| std::array::from_fn(|k| f(w[virial_start + k]))).collect());
        let gathered = extra.map(|_| rows.iter().map(|w| f(w[width - 1])).collect());
        let frame = Frame {
            step: Some(self.step),
            time: Some(self.time()),
            simbox: self.domain().simbox().clone(),
            species_table: self.species.clone(),
            ids: records.iter().map(|r| r.id).collect(),
            species: records.iter().map(|r| r.species).collect(),
            positions: records.iter().map(|r| r.position).collect(),
            position_kind: PositionKind::Wrapped,
            velocities: Some(records.iter().map(|r| r.velocity).collect()),
            forces: Some(rows.iter().map(|w| Vec3::new(f(w[11]), f(w[12]), f(w[13]))).collect()),
            images: Some(records.iter().map(|r| r.image).collect()),
            per_atom_energy,
            per_atom_virial,
            extra: Vec::new(),
            info: Default::default(),
        };
        Some((frame, gathered))
    }

    /// Whether the rebuild about to happen sorts atoms (every `sort_every` rebuilds).
    fn sort_now(&self) -> bool {
        self.settings.sort_every > 0 && self.state.n_rebuilds().is_multiple_of(self.settings.sort_every)
    }

    fn compute_forces(&mut self, want: Want) -> Result<(), MdError> {
        self.computed = None;
        self.state.compute(self.potential.as_ref(), want, self.step, &mut self.timers)?;
        self.computed = Some(want);
        Ok(())
    }

    fn check_step_length(&self, step: u64) -> Result<(), MdError> {
        let dt = self.settings.timestep;
        let limit = self.settings.max_step_displacement;
        let atoms = self.atoms();
        let mut local = None;
        for i in 0..atoms.n_owned() {
            let d = atoms.velocities[i].norm() * dt;
            if !(d <= limit) {
                local = Some(if d.is_finite() {
                    MdError::MovedTooFar { step, id: atoms.ids[i].0, distance: d, limit }
                } else {
                    MdError::NonFinite { step, what: "velocity", id: atoms.ids[i].0 }
                });
                break;
            }
        }
        if self.comm().any(local.is_some()) {
            return Err(local.unwrap_or(MdError::OtherRank));
        }
        Ok(())
    }
}

/// What the hooks of a step asked for, computed.
#[derive(Default)]
struct Observed {
    thermo: Option<Thermo>,
    frame: Option<Frame>,
    checkpoint: Option<Checkpoint>,
    /// The grade of every owned atom and its maximum over all ranks.
    grade: Option<(Vec<f64>, f64)>,
    /// On rank 0 with a frame: the grade in the frame's order.
    gathered: Option<Vec<f64>>,
}
