//! What a run shows the code that watches it: the [`StepHook`] trait (lumol's `Output`,
//! LAMMPS's fixes and dumps at their `end_of_step`), the read-only [`StepView`] of a step,
//! and [`Needs`], through which a hook asks for thermo or a gathered frame at a step.
//!
//! The trait sits here, below the engine, so that writers (this crate), checkpoints,
//! on-the-fly correlators (`calcine-transport`) and potential-specific dumps implement it
//! without depending on `calcine-md`; the engine calls every hook at its own cadence.

use calcine_core::{Atoms, SimBox, SpeciesTable, Vec3, Virial};

use crate::{Checkpoint, Frame, IoError, Thermo};

/// What a hook needs at a step besides being called.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Needs {
    /// Energies, pressure and temperature of the step (the force call then also computes
    /// energy and virial).
    pub thermo: bool,
    /// All atoms gathered on rank 0 in `AtomId` order (a collective operation).
    pub frame: bool,
    /// The run's whole state gathered on rank 0 (a [`Checkpoint`]; collective).
    pub checkpoint: bool,
    /// Per-atom potential energies in the frame (the force call then computes them).
    pub atom_energies: bool,
    /// Per-atom virials in the frame, and in [`StepView::atom_virials`] (the force call
    /// then computes them).
    pub atom_virials: bool,
    /// The run's per-atom grade (ACE's extrapolation grade γ), when it has one: its values
    /// in [`StepView::grade`] and its maximum in the thermo (a collective maximum).
    pub grade: bool,
    /// The frame, with the grade as a per-atom column, when the grade's maximum at the
    /// step exceeds this value (the engine decides after computing it; implies `grade`).
    pub frame_if_grade_above: Option<f64>,
}

impl Needs {
    /// Only the call.
    pub const CALL: Needs = Needs {
        thermo: false,
        frame: false,
        checkpoint: false,
        atom_energies: false,
        atom_virials: false,
        grade: false,
        frame_if_grade_above: None,
    };
    pub const THERMO: Needs = Needs { thermo: true, ..Needs::CALL };
    pub const FRAME: Needs = Needs { frame: true, ..Needs::CALL };

    /// What either of two needs asks for.
    pub fn union(self, other: Needs) -> Needs {
        Needs {
            thermo: self.thermo || other.thermo,
            frame: self.frame || other.frame,
            checkpoint: self.checkpoint || other.checkpoint,
            atom_energies: self.atom_energies || other.atom_energies,
            atom_virials: self.atom_virials || other.atom_virials,
            grade: self.grade || other.grade,
            frame_if_grade_above: match (self.frame_if_grade_above, other.frame_if_grade_above) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// The span of steps a run covers, given to hooks at its start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunInfo {
    /// The step the run starts from (0, or a restart's step).
    pub first_step: u64,
    /// The last step the run will compute.
    pub last_step: u64,
    /// Timestep in ps.
    pub timestep: f64,
    /// Atoms in the whole system.
    pub n_atoms: u64,
    /// This process's rank and the number of ranks.
    pub rank: usize,
    pub n_ranks: usize,
}

impl RunInfo {
    /// Whether `step` is `every`-periodic or the run's last step (the LAMMPS rule for
    /// thermo output).
    pub fn is_output_step(&self, step: u64, every: u64) -> bool {
        step.is_multiple_of(every) || step == self.last_step
    }
}

/// A read-only view of the state after a step (or at the start, for [`StepHook::setup`]).
#[derive(Debug, Clone, Copy)]
pub struct StepView<'a> {
    pub step: u64,
    /// Simulated time in ps.
    pub time: f64,
    pub simbox: &'a SimBox,
    pub species: &'a SpeciesTable,
    /// This rank's atoms (owned first, then ghosts).
    pub atoms: &'a Atoms,
    /// Forces on this rank's owned atoms (and ghosts, zeroed), in eV/Å.
    pub forces: &'a [Vec3],
    /// Virials of this rank's owned atoms (eV, xx yy zz xy xz yz) when some hook asked for
    /// them at this step ([`Needs::atom_virials`]), else empty.
    pub atom_virials: &'a [Virial],
    /// Present when some hook asked for thermo at this step (on every rank).
    pub thermo: Option<&'a Thermo>,
    /// Present on rank 0 when some hook asked for a frame at this step.
    pub frame: Option<&'a Frame>,
    /// Present on rank 0 when some hook asked for a checkpoint at this step, and when the
    /// run is interrupted.
    pub checkpoint: Option<&'a Checkpoint>,
    /// Present on every rank when some hook asked for the grade at this step and the run
    /// has one.
    pub grade: Option<GradeView<'a>>,
}

/// The per-atom grade of a step (ACE's extrapolation grade γ).
#[derive(Debug, Clone, Copy)]
pub struct GradeView<'a> {
    /// The grade's name (`gamma`).
    pub name: &'static str,
    /// The largest value over all atoms of all ranks.
    pub max: f64,
    /// The values of this rank's owned atoms, in atom order.
    pub values: &'a [f64],
    /// On rank 0, when the step's frame was gathered: every atom's value in the frame's
    /// (`AtomId`) order.
    pub gathered: Option<&'a [f64]>,
}

/// Why a hook stops a run.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Writing an output failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// The hook asks the run to end here (e.g. an extrapolation grade above its halt
    /// threshold); outputs up to this step are complete.
    #[error("{0}")]
    Stop(String),
}

/// Code that watches a run: outputs, checkpoints, on-the-fly analysis.
///
/// Every rank holds the same hooks and the engine asks each of them, on every rank, what
/// it needs at each step; the answer must be the same on every rank (it usually depends
/// on the step alone), because thermo and frames are collective. Hooks that write files
/// do so on rank 0 only. An error returned by a hook on any rank ends the run on every
/// rank, with that hook's message.
pub trait StepHook {
    /// What the hook needs at `step`, or `None` if it is not to be called at that step.
    fn needs(&self, step: u64) -> Option<Needs>;

    /// Called once before the first step, with the state at `info.first_step` (its thermo
    /// and frame present as [`StepHook::needs`] asked for that step).
    fn setup(&mut self, info: &RunInfo, view: &StepView<'_>) -> Result<(), HookError> {
        let _ = (info, view);
        Ok(())
    }

    /// Called after each step for which [`StepHook::needs`] returned `Some`.
    fn at_step(&mut self, view: &StepView<'_>) -> Result<(), HookError>;

    /// Called when the run is interrupted (SIGINT, SIGTERM) after the step it was on, with
    /// a checkpoint of that step: what must be saved is saved here. The run then ends
    /// (with [`StepHook::finish`]).
    fn on_interrupt(&mut self, view: &StepView<'_>) -> Result<(), HookError> {
        let _ = view;
        Ok(())
    }

    /// Called once when the run ends, normally or not.
    fn finish(&mut self) -> Result<(), HookError> {
        Ok(())
    }
}
