//! The tables of an input file, each a type of its own so that every kind of input
//! composes the ones it needs (an MD run uses all of these; a descriptor computation
//! `[system]` and `[potential]`; later inputs their own tables beside them). Defaults come
//! from the engine's own `Default`s and constants, so each lives in one place. See
//! `docs/input.md` for every key.

use std::collections::BTreeMap;
use std::path::PathBuf;

use calcine_io::{H5mdContents, H5mdWrite, OutputSpec};
use calcine_md::{Integrator, MdSettings};
use serde::Deserialize;
use toml::Spanned;

/// `[system]`: where the atoms come from, a lattice or a structure file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSection {
    /// sc, bcc, fcc, hcp or diamond.
    pub lattice: Option<Spanned<String>>,
    /// Lattice constant in Å.
    pub a: Option<f64>,
    /// c/a for hcp.
    pub c_over_a: Option<f64>,
    /// Replication of the conventional cell.
    pub cells: Option<[u64; 3]>,
    /// Species name of a lattice's atoms.
    pub species: Option<Spanned<String>>,
    /// A structure or trajectory file: extended XYZ (`.xyz`, `.extxyz`), LAMMPS dump
    /// (`.dump`, `.lammpstrj`), either gzipped, H5MD (`.h5`, `.h5md`), or a LAMMPS data
    /// file (`.data`, `.lmp`, `.lammps`).
    pub file: Option<Spanned<PathBuf>>,
    /// Species names of atom types 1, 2, …: required for LAMMPS data files and dumps; for
    /// other files, the order of the species (dump type numbers, H5MD species indices).
    pub types: Option<Spanned<Vec<String>>>,
    /// Which frame of a trajectory file to start from (0: the first; negative: from the
    /// end, -1 the last).
    pub frame: Option<i64>,
    /// Masses in g/mol by species name, overriding the structure file and the potential.
    #[serde(default)]
    pub masses: BTreeMap<String, f64>,
}

/// `[potential]`: the potential, by LAMMPS style name. (No `Spanned` here: serde buffers
/// internally tagged enums, which loses spans; errors point at the key's line with
/// `InputFile::at_key`.)
#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "style", deny_unknown_fields)]
pub enum PotentialSection {
    /// DYNAMO funcfl files, one per species (LAMMPS `pair_style eam`).
    #[serde(rename = "eam")]
    EamFuncfl {
        files: BTreeMap<String, PathBuf>,
        #[serde(default)]
        evaluator: Option<EamEvaluatorKey>,
    },
    /// DYNAMO setfl file (LAMMPS `pair_style eam/alloy`).
    #[serde(rename = "eam/alloy")]
    EamAlloy {
        file: PathBuf,
        #[serde(default)]
        evaluator: Option<EamEvaluatorKey>,
    },
    /// Finnis–Sinclair setfl file (LAMMPS `pair_style eam/fs`).
    #[serde(rename = "eam/fs")]
    EamFs {
        file: PathBuf,
        #[serde(default)]
        evaluator: Option<EamEvaluatorKey>,
    },
    /// Lennard-Jones 12-6 (LAMMPS `pair_style lj/cut`).
    #[serde(rename = "lj")]
    Lj {
        pairs: Vec<LjPair>,
        #[serde(default)]
        shift: bool,
    },
    /// ZBL screened nuclear repulsion (LAMMPS `pair_style zbl inner outer`).
    #[serde(rename = "zbl")]
    Zbl { inner: f64, outer: f64, z: BTreeMap<String, f64> },
    /// SNAP (LAMMPS `pair_style snap`): `file`, a LAMMPS include such as
    /// `W_2940_2017_2.snap` (ZBL + SNAP, as published), or `coeff` and `param`, the
    /// `.snapcoeff` and `.snapparam` files alone.
    #[serde(rename = "snap")]
    Snap {
        file: Option<PathBuf>,
        coeff: Option<PathBuf>,
        param: Option<PathBuf>,
        #[serde(default)]
        evaluator: EvaluatorKey,
    },
    /// The atomic cluster expansion (LAMMPS `pair_style pace`): a `.yace` file, a legacy
    /// `.ace` file, or pacemaker's B-basis `.yaml`.
    #[serde(rename = "ace")]
    Ace {
        file: PathBuf,
        /// The active set (`.asi`, from pacemaker's `pace_activeset`) of a B-basis `.yaml`:
        /// the run then computes the extrapolation grade γ (see `[extrapolation]`).
        active_set: Option<PathBuf>,
        #[serde(default)]
        algorithm: AlgorithmKey,
        #[serde(default)]
        evaluator: EvaluatorKey,
    },
    /// Several potentials added together (LAMMPS `pair_style hybrid/overlay`, also accepted
    /// under that name).
    #[serde(rename = "overlay", alias = "hybrid/overlay")]
    Overlay { members: Vec<PotentialSection> },
}

/// `algorithm = "recursive" | "product"` (ACE; LAMMPS `pair_style pace recursive|product`).
#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AlgorithmKey {
    #[default]
    Recursive,
    Product,
}

impl From<AlgorithmKey> for calcine_ace::Algorithm {
    fn from(k: AlgorithmKey) -> Self {
        match k {
            AlgorithmKey::Recursive => calcine_ace::Algorithm::Recursive,
            AlgorithmKey::Product => calcine_ace::Algorithm::Product,
        }
    }
}

/// `evaluator = "kernel" | "reference"`: see `calcine_potential::Evaluator`.
#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EvaluatorKey {
    #[default]
    Kernel,
    Reference,
}

impl From<EvaluatorKey> for calcine_potential::Evaluator {
    fn from(k: EvaluatorKey) -> Self {
        match k {
            EvaluatorKey::Kernel => calcine_potential::Evaluator::Kernel,
            EvaluatorKey::Reference => calcine_potential::Evaluator::Reference,
        }
    }
}

/// `evaluator = "kernel" | "full-list" | "reference"` of the EAM styles: see
/// `calcine_eam::EamEvaluator`. Left out (`None`), EAM takes the half-list kernel, or the
/// full-list kernel in an overlay with potentials that need a full list.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
pub enum EamEvaluatorKey {
    #[serde(rename = "kernel")]
    Kernel,
    #[serde(rename = "full-list", alias = "full")]
    FullList,
    #[serde(rename = "reference")]
    Reference,
}

impl From<EamEvaluatorKey> for calcine_eam::EamEvaluator {
    fn from(k: EamEvaluatorKey) -> Self {
        match k {
            EamEvaluatorKey::Kernel => calcine_eam::EamEvaluator::Kernel,
            EamEvaluatorKey::FullList => calcine_eam::EamEvaluator::FullList,
            EamEvaluatorKey::Reference => calcine_eam::EamEvaluator::Reference,
        }
    }
}

/// One `[[potential.pairs]]` entry of `lj`.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LjPair {
    pub species: [String; 2],
    pub epsilon: f64,
    pub sigma: f64,
    pub cutoff: f64,
}

/// `[run]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSection {
    /// Number of steps.
    pub steps: u64,
    /// Timestep in ps (LAMMPS metal units; 0.001 = 1 fs).
    pub timestep: f64,
    /// Seed for initial velocities and thermostat noise.
    pub seed: u64,
    /// Initial temperature in K: velocities are drawn at it when set.
    pub temperature: Option<f64>,
    /// An atom moving farther than this (Å) in one step stops the run.
    pub max_step_displacement: f64,
}

impl RunSection {
    /// Steps of a run whose input does not say.
    pub const DEFAULT_STEPS: u64 = 1000;
}

impl Default for RunSection {
    fn default() -> Self {
        let md = MdSettings::default();
        Self {
            steps: Self::DEFAULT_STEPS,
            timestep: md.timestep,
            seed: Integrator::DEFAULT_SEED,
            temperature: None,
            max_step_displacement: md.max_step_displacement,
        }
    }
}

/// `[integrator]`.
#[derive(Debug, Default, Deserialize)]
#[serde(tag = "style", deny_unknown_fields)]
pub enum IntegratorSection {
    #[default]
    #[serde(rename = "nve")]
    Nve,
    #[serde(rename = "langevin")]
    Langevin {
        temperature: f64,
        #[serde(default = "default_damping")]
        damping: f64,
    },
    #[serde(rename = "nose-hoover")]
    NoseHoover {
        temperature: f64,
        #[serde(default = "default_damping")]
        damping: f64,
        #[serde(default = "default_chain")]
        chain: usize,
    },
}

fn default_damping() -> f64 {
    Integrator::DEFAULT_DAMPING
}

fn default_chain() -> usize {
    Integrator::DEFAULT_CHAIN
}

/// `[neighbor]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NeighborSection {
    /// Skin in Å.
    pub skin: f64,
    /// Sort atoms spatially every this many list rebuilds (0: never).
    pub sort_every: u64,
    /// How list rows are stored: "auto", "packed" or "plain" (same results either way).
    pub storage: StorageKey,
    /// LAMMPS `neigh_modify every M delay N check yes|no`.
    pub every: u64,
    pub delay: u64,
    pub check: bool,
}

/// `[neighbor] storage`; see `calcine_neighbor::ListStorage`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKey {
    #[default]
    Auto,
    Packed,
    Plain,
}

impl From<StorageKey> for calcine_md::ListStorage {
    fn from(k: StorageKey) -> Self {
        match k {
            StorageKey::Auto => calcine_md::ListStorage::Auto,
            StorageKey::Packed => calcine_md::ListStorage::Packed,
            StorageKey::Plain => calcine_md::ListStorage::Plain,
        }
    }
}

impl Default for NeighborSection {
    fn default() -> Self {
        let md = MdSettings::default();
        Self {
            skin: md.skin,
            sort_every: md.sort_every,
            storage: StorageKey::default(),
            every: md.rebuild.every,
            delay: md.rebuild.delay,
            check: md.rebuild.check,
        }
    }
}

/// `[output]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSection {
    /// Folder for all outputs, relative to the current directory.
    pub directory: PathBuf,
    /// Thermo CSV file name.
    pub thermo: PathBuf,
    pub thermo_every: u64,
    /// Trajectory file: `.xyz`/`.extxyz` (extended XYZ) or `.dump`/`.lammpstrj` (LAMMPS dump).
    pub trajectory: Option<PathBuf>,
    pub trajectory_every: u64,
    /// Steps between checkpoints (none by default; an interrupted run writes one anyway).
    pub checkpoint_every: Option<u64>,
    /// Per-atom potential energies as a trajectory column (LAMMPS `compute pe/atom`).
    pub trajectory_energies: bool,
    /// Per-atom virials as trajectory columns of a text trajectory (LAMMPS
    /// `compute stress/atom NULL virial`, as eV; H5MD: `h5md_fields` with "virial").
    pub trajectory_virials: bool,
    /// How an H5MD trajectory is written under MPI: "auto", "gathered" or "collective".
    pub h5md_write: String,
    /// Per-atom fields of an H5MD trajectory besides positions: any of "velocity",
    /// "image", "force", "virial".
    pub h5md_fields: Vec<String>,
    /// Draw the thermo as a PNG beside its CSV (`thermo.png`) when the run ends.
    pub plots: bool,
}

impl Default for OutputSection {
    fn default() -> Self {
        Self {
            directory: PathBuf::from("."),
            thermo: PathBuf::from(OutputSpec::DEFAULT_THERMO),
            thermo_every: OutputSpec::DEFAULT_THERMO_EVERY,
            trajectory: None,
            trajectory_every: OutputSpec::DEFAULT_TRAJECTORY_EVERY,
            checkpoint_every: None,
            trajectory_energies: false,
            trajectory_virials: false,
            h5md_write: H5mdWrite::default().name().into(),
            h5md_fields: H5mdContents::default().fields().into_iter().map(String::from).collect(),
            plots: true,
        }
    }
}

/// A molecular-dynamics input: `calcine run` and `calcine validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MdDocument {
    pub system: SystemSection,
    pub potential: PotentialSection,
    #[serde(default)]
    pub run: RunSection,
    #[serde(default)]
    pub integrator: IntegratorSection,
    #[serde(default)]
    pub neighbor: NeighborSection,
    #[serde(default)]
    pub output: OutputSection,
    pub extrapolation: Option<ExtrapolationSection>,
    /// Transport analysed on the fly (`every` steps): see `crate::transport::read_on_the_fly`.
    pub transport: Option<crate::transport::TransportSection>,
}

/// `[extrapolation]`: what to do with ACE's extrapolation grade γ during a run (needs
/// `[potential] active_set`); without it, γ is computed at thermo steps only, for the
/// thermo's `max_gamma` column.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ExtrapolationSection {
    /// Steps between evaluations of γ (default: the thermo interval).
    pub every: Option<u64>,
    /// Structures whose largest γ exceeds this are appended to `file` (pacemaker's
    /// practice: 5).
    pub dump_above: Option<f64>,
    /// The run ends cleanly when the largest γ exceeds this (pacemaker's practice: 25).
    pub halt_above: Option<f64>,
    /// File name in the output folder (default `extrapolative.extxyz`).
    pub file: Option<PathBuf>,
}
