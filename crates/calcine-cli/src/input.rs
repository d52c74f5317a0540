//! The TOML input file (see `docs/input.md` for every key).

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A whole input file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub system: SystemInput,
    pub potential: PotentialInput,
    #[serde(default)]
    pub run: RunInput,
    #[serde(default)]
    pub integrator: IntegratorInput,
    #[serde(default)]
    pub neighbor: NeighborInput,
    #[serde(default)]
    pub output: OutputInput,
}

/// Where the atoms come from: a lattice, or a structure file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemInput {
    /// sc, bcc, fcc, hcp or diamond.
    pub lattice: Option<Spanned<String>>,
    /// Lattice constant in Å.
    pub a: Option<f64>,
    /// c/a for hcp.
    pub c_over_a: Option<f64>,
    /// Replication of the conventional cell.
    pub cells: Option<[usize; 3]>,
    /// Species name of a lattice's atoms.
    pub species: Option<Spanned<String>>,
    /// Extended XYZ (`.xyz`, `.extxyz`) or LAMMPS data file (`.data`, `.lmp`, `.lammps`).
    pub file: Option<Spanned<PathBuf>>,
    /// For LAMMPS data files: species names of atom types 1, 2, …
    pub types: Option<Spanned<Vec<String>>>,
    /// Masses in g/mol by species name, overriding the structure file and the potential.
    #[serde(default)]
    pub masses: BTreeMap<String, f64>,
}

/// The potential, by LAMMPS style name. (No `Spanned` here: serde buffers internally
/// tagged enums, which loses spans; errors point at the key's line with `InputFile::at_key`.)
#[derive(Debug, Deserialize, Clone)]
#[serde(tag = "style", deny_unknown_fields)]
pub enum PotentialInput {
    /// DYNAMO funcfl files, one per species (LAMMPS `pair_style eam`).
    #[serde(rename = "eam")]
    EamFuncfl {
        files: BTreeMap<String, PathBuf>,
        #[serde(default)]
        evaluator: EvaluatorInput,
    },
    /// DYNAMO setfl file (LAMMPS `pair_style eam/alloy`).
    #[serde(rename = "eam/alloy")]
    EamAlloy {
        file: PathBuf,
        #[serde(default)]
        evaluator: EvaluatorInput,
    },
    /// Finnis–Sinclair setfl file (LAMMPS `pair_style eam/fs`).
    #[serde(rename = "eam/fs")]
    EamFs {
        file: PathBuf,
        #[serde(default)]
        evaluator: EvaluatorInput,
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
        evaluator: EvaluatorInput,
    },
    /// Several potentials added together (LAMMPS `pair_style hybrid/overlay`).
    #[serde(rename = "overlay")]
    Overlay { members: Vec<PotentialInput> },
}

/// Which algorithm runs: the fast kernel (default) or the plain reference it is tested
/// against (for EAM, LAMMPS's half-list algorithm; for SNAP, the equations as written).
#[derive(Debug, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EvaluatorInput {
    #[default]
    Kernel,
    Reference,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LjPair {
    pub species: [String; 2],
    pub epsilon: f64,
    pub sigma: f64,
    pub cutoff: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// Number of steps.
    #[serde(default = "default_steps")]
    pub steps: u64,
    /// Timestep in ps (LAMMPS metal units; 0.001 = 1 fs).
    #[serde(default = "default_timestep")]
    pub timestep: f64,
    /// Seed for initial velocities and thermostat noise.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Initial temperature in K: velocities are drawn at it when set.
    pub temperature: Option<f64>,
    /// An atom moving farther than this (Å) in one step stops the run.
    #[serde(default = "default_max_displacement")]
    pub max_step_displacement: f64,
}

impl Default for RunInput {
    fn default() -> Self {
        Self {
            steps: default_steps(),
            timestep: default_timestep(),
            seed: default_seed(),
            temperature: None,
            max_step_displacement: default_max_displacement(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(tag = "style", deny_unknown_fields)]
pub enum IntegratorInput {
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborInput {
    /// Skin in Å.
    #[serde(default = "default_skin")]
    pub skin: f64,
    /// Sort atoms spatially every this many list rebuilds (0: never).
    #[serde(default = "default_sort_every")]
    pub sort_every: u64,
    /// How list rows are stored: "auto", "packed" or "plain" (same results either way).
    #[serde(default)]
    pub storage: StorageInput,
}

/// `[neighbor] storage`; see `calcine_neighbor::ListStorage`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageInput {
    #[default]
    Auto,
    Packed,
    Plain,
}

impl Default for NeighborInput {
    fn default() -> Self {
        Self { skin: default_skin(), sort_every: default_sort_every(), storage: StorageInput::Auto }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputInput {
    /// Folder for all outputs, relative to the current directory.
    #[serde(default = "default_directory")]
    pub directory: PathBuf,
    /// Thermo CSV file name.
    #[serde(default = "default_thermo")]
    pub thermo: PathBuf,
    #[serde(default = "default_thermo_every")]
    pub thermo_every: u64,
    /// Trajectory file: `.xyz`/`.extxyz` (extended XYZ) or `.dump`/`.lammpstrj` (LAMMPS dump).
    pub trajectory: Option<PathBuf>,
    #[serde(default = "default_trajectory_every")]
    pub trajectory_every: u64,
}

impl Default for OutputInput {
    fn default() -> Self {
        Self {
            directory: default_directory(),
            thermo: default_thermo(),
            thermo_every: default_thermo_every(),
            trajectory: None,
            trajectory_every: default_trajectory_every(),
        }
    }
}

fn default_steps() -> u64 {
    1000
}
fn default_timestep() -> f64 {
    calcine_core::units::DEFAULT_TIMESTEP
}
fn default_seed() -> u64 {
    12345
}
fn default_max_displacement() -> f64 {
    2.0
}
fn default_damping() -> f64 {
    0.1
}
fn default_chain() -> usize {
    3
}
fn default_skin() -> f64 {
    1.0
}
fn default_sort_every() -> u64 {
    10
}
fn default_directory() -> PathBuf {
    PathBuf::from(".")
}
fn default_thermo() -> PathBuf {
    PathBuf::from("thermo.csv")
}
fn default_thermo_every() -> u64 {
    100
}
fn default_trajectory_every() -> u64 {
    1000
}

/// An input file with its text, for error messages that point at lines.
#[derive(Debug)]
pub struct InputFile {
    pub path: PathBuf,
    pub text: String,
    pub input: Input,
}

impl InputFile {
    /// Reads and parses `path`; syntax and schema errors name the file and line.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the input file", path.display()))?;
        let input: Input = match toml::from_str(&text) {
            Ok(input) => input,
            Err(e) => {
                let line = e.span().map(|s| line_of_offset(&text, s.start)).unwrap_or(0);
                let message = e.message().trim_end_matches('.').to_string();
                bail!("{}:{line}: {message}", path.display());
            }
        };
        Ok(Self { path: path.to_path_buf(), text, input })
    }

    /// The folder relative paths in the input are taken from.
    pub fn base_dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// A path given in the input, resolved against the input file's folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir().join(p)
        }
    }

    /// `file:line` for a spanned value.
    pub fn at<T>(&self, v: &Spanned<T>) -> String {
        format!("{}:{}", self.path.display(), line_of_offset(&self.text, v.span().start))
    }

    /// `file:line` of the first line that sets `key`, or just the file.
    pub fn at_key(&self, key: &str) -> String {
        for (k, line) in self.text.lines().enumerate() {
            let t = line.trim_start();
            if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
                return format!("{}:{}", self.path.display(), k + 1);
            }
        }
        self.path.display().to_string()
    }
}

pub fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}
