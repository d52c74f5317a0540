//! # Brief overview
//!
//! `calcine-eam` evaluates embedded-atom method potentials read from the files of LAMMPS
//! `pair_style eam` (DYNAMO funcfl, one file per species), `eam/alloy` (DYNAMO setfl) and
//! `eam/fs` (Finnis–Sinclair setfl), with the same tables and arithmetic as LAMMPS, so
//! energies, forces and virials agree with LAMMPS's own unit-test references to 1e-13
//! relative or better (their tolerance is 5e-12).
//!
//! Its main type is [`Eam`], a [`Potential`]. The files are parsed by [`model`] into
//! [`EamTables`] (one 7-coefficient cubic table per function and species pair, see
//! [`table`]), which three evaluators ([`EamEvaluator`]) read:
//! - the default kernel (`half.rs`, [`EamEvaluator::Kernel`]) runs on a half neighbor list
//!   (each pair once over all ranks, held by the atom with the smaller `AtomId`), adds each
//!   pair's density and force terms to both atoms in fixed point and reverse-sums ghost
//!   contributions as integers, so it gives the same bits for any number of threads or
//!   ranks while evaluating each pair once;
//! - the full-list kernel (`kernel.rs`, [`EamEvaluator::FullList`]) threads over owned
//!   atoms and sums every atom's terms over its own full row: each pair twice, but no
//!   reverse communication and no fixed point; also the same bits on any decomposition
//!   (other bits than the half-list kernel's: the rounding differs);
//! - the reference (`reference.rs`, [`EamEvaluator::Reference`]) is the plain serial
//!   LAMMPS algorithm on a half list with Newton's third law, kept as the oracle.
//!
//! It does not fit potentials, write files, or convert units (files must be in `metal`
//! units).
//!
//! ```ignore
//! use calcine_eam::Eam;
//! let cu_ni = Eam::setfl("CuNi.eam.alloy", &["Cu", "Ni"])?;
//! let al_cu = Eam::funcfl(&["Al_jnp.eam", "Cu_u3.eam"], &["Al", "Cu"])?;
//! let reference = Eam::fs("AlFe_mm.eam.fs", &["Al", "Fe"])?.with_evaluator(EamEvaluator::Reference);
//! let list = NeighborList::new(cu_ni.neighbor_kind(), cu_ni.cutoff(), 1.0);
//! ```

mod half;
mod kernel;
pub mod model;
mod reference;
pub mod table;

pub use model::{EamTables, Funcfl, Setfl, SetflKind};

use calcine_core::GhostSync;
/// The evaluator choice shared by all families (kernel or reference); it converts into an
/// [`EamEvaluator`].
pub use calcine_potential::Evaluator;
use calcine_potential::{ForceInput, ForceOutput, NeighborKind, Potential, PotentialError};
use std::path::Path;
use std::sync::Mutex;

/// An embedded-atom method potential (LAMMPS `pair_style eam`, `eam/alloy`, `eam/fs`).
///
/// The energy of atom i is
///
/// E_i = F_{α_i}(ρ_i) + ½ Σ_{j≠i} φ_{α_i α_j}(r_ij),  ρ_i = Σ_{j≠i} ρ_{α_i α_j}(r_ij),
///
/// with F the embedding energy of an atom of species α in the host electron density ρ, φ
/// a pair repulsion and ρ_{αβ}(r) the density an atom of species α receives from a
/// neighbor of species β at distance r (Daw & Baskes, Phys. Rev. B 29, 6443 (1984)). In the
/// original form (funcfl and setfl/alloy; Foiles, Baskes & Daw, Phys. Rev. B 33, 7983
/// (1986)) ρ_{αβ} = ρ_β depends only on the neighbor; the Finnis–Sinclair form (Finnis &
/// Sinclair, Phil. Mag. A 50, 45 (1984); LAMMPS `eam/fs`) lets it depend on both. Funcfl
/// files give φ through effective charges, φ_{αβ}(r) = 27.2·0.529·Z_α(r)Z_β(r)/r eV.
///
/// The force on atom i is
///
/// f_i = Σ_j [F′_{α_i}(ρ_i) ρ′_{α_i α_j}(r_ij) + F′_{α_j}(ρ_j) ρ′_{α_j α_i}(r_ij) + φ′(r_ij)] (x_j − x_i)/r_ij,
///
/// and the virial is Σ_pairs r_ij ⊗ f_ij. F, ρ and r·φ are tabulated on uniform grids and
/// interpolated by the cubic tables of [`table`]; above the last density knot ρ_max the
/// energy is extended linearly, F(ρ) += F′(ρ)(ρ − ρ_max), as in LAMMPS.
///
/// The cutoff is the file's (the largest of the files' for funcfl). [`Potential::masses`]
/// returns the files' masses, which LAMMPS puts in place of the data file's.
///
/// Errors at evaluation time: two atoms closer than the radial grid spacing Δr
/// ([`PotentialError::TooClose`]), a non-finite position, density or force
/// ([`PotentialError::NonFinite`]; a force is also non-finite when the [`GhostSync`] left
/// a ghost without its owner's F′), and an atom whose species the potential was not built
/// for ([`PotentialError::Config`]).
pub struct Eam {
    name: &'static str,
    tables: EamTables,
    evaluator: EamEvaluator,
    kernel_tables: kernel::PackedTables,
    scratch: Mutex<Scratch>,
}

/// Which algorithm evaluates an [`Eam`] (input key `evaluator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EamEvaluator {
    /// Half list, each pair evaluated once, terms added to both atoms in fixed point with
    /// integer reverse sums; threaded, the same bits on any decomposition (`half.rs`).
    #[default]
    Kernel,
    /// Full list, each pair evaluated from both sides and summed by the owner; threaded,
    /// the same bits on any decomposition, no reverse communication (`kernel.rs`). What an
    /// overlay with full-list potentials (ZBL, SNAP) needs.
    FullList,
    /// LAMMPS's half-list algorithm, serial, float reverse sums (`reference.rs`): the oracle.
    Reference,
}

impl EamEvaluator {
    /// The name used in input files: `kernel`, `full-list` or `reference`.
    pub fn name(self) -> &'static str {
        match self {
            EamEvaluator::Kernel => "kernel",
            EamEvaluator::FullList => "full-list",
            EamEvaluator::Reference => "reference",
        }
    }

    /// The neighbor list this evaluator runs on.
    pub fn neighbor_kind(self) -> NeighborKind {
        match self {
            EamEvaluator::Kernel | EamEvaluator::Reference => NeighborKind::Half,
            EamEvaluator::FullList => NeighborKind::Full,
        }
    }
}

impl From<Evaluator> for EamEvaluator {
    fn from(e: Evaluator) -> Self {
        match e {
            Evaluator::Kernel => EamEvaluator::Kernel,
            Evaluator::Reference => EamEvaluator::Reference,
        }
    }
}

impl std::str::FromStr for EamEvaluator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "kernel" => Ok(EamEvaluator::Kernel),
            "full-list" | "full" => Ok(EamEvaluator::FullList),
            "reference" => Ok(EamEvaluator::Reference),
            _ => Err(format!("unknown evaluator '{s}': expected 'kernel', 'full-list' or 'reference'")),
        }
    }
}

/// Per-atom work arrays kept between calls so that a force call does not allocate.
#[derive(Debug, Default)]
struct Scratch {
    rho: Vec<f64>,
    fp: Vec<f64>,
    embedding: Vec<f64>,
    sites: Vec<kernel::Site>,
    offsets: Vec<u32>,
    /// Pass 1's inside-the-cutoff bits per row entry, and where each row's words start.
    inside: Vec<u64>,
    word_start: Vec<u32>,
    /// The half-list kernel's fixed-point scatter words, one array per thread (atom order).
    parts: Vec<calcine_core::CarryWords>,
}

impl Eam {
    /// `pair_style eam`: one DYNAMO funcfl file per species (`paths[k]` for species k,
    /// whose name is `species[k]`). Several files are re-gridded onto a common grid exactly
    /// as LAMMPS does ([`EamTables::from_funcfl`]).
    pub fn funcfl<P: AsRef<Path>, S: AsRef<str>>(paths: &[P], species: &[S]) -> Result<Self, PotentialError> {
        if paths.len() != species.len() || paths.is_empty() {
            return Err(PotentialError::Config(format!(
                "eam: need one funcfl file per species, got {} files for {} species",
                paths.len(),
                species.len()
            )));
        }
        let mut files: Vec<Funcfl> = Vec::new();
        for p in paths {
            let p = p.as_ref();
            if !files.iter().any(|f| f.path == p) {
                files.push(Funcfl::read(p)?);
            }
        }
        let per_species: Vec<&Funcfl> =
            paths.iter().map(|p| files.iter().find(|f| f.path == p.as_ref()).expect("read above")).collect();
        Ok(Self::from_tables("eam", EamTables::from_funcfl(&per_species)))
    }

    /// `pair_style eam/alloy`: a DYNAMO setfl file, species mapped to its elements by name.
    pub fn setfl<S: AsRef<str>>(path: impl AsRef<Path>, species: &[S]) -> Result<Self, PotentialError> {
        Self::multi(path.as_ref(), species, SetflKind::Alloy, "eam/alloy")
    }

    /// `pair_style eam/fs`: a Finnis–Sinclair setfl file, species mapped by name.
    pub fn fs<S: AsRef<str>>(path: impl AsRef<Path>, species: &[S]) -> Result<Self, PotentialError> {
        Self::multi(path.as_ref(), species, SetflKind::FinnisSinclair, "eam/fs")
    }

    fn multi<S: AsRef<str>>(
        path: &Path,
        species: &[S],
        kind: SetflKind,
        name: &'static str,
    ) -> Result<Self, PotentialError> {
        if species.is_empty() {
            return Err(PotentialError::Config(format!("{name}: no species given")));
        }
        let file = Setfl::read(path, kind)?;
        Ok(Self::from_tables(name, EamTables::from_setfl(&file, species)?))
    }

    /// An EAM potential over prepared tables; `name` is what [`Potential::name`] reports.
    pub fn from_tables(name: &'static str, tables: EamTables) -> Self {
        let kernel_tables = kernel::PackedTables::new(&tables);
        Self { name, tables, evaluator: EamEvaluator::Kernel, kernel_tables, scratch: Mutex::new(Scratch::default()) }
    }

    /// Chooses the evaluator (the half-list kernel by default).
    pub fn with_evaluator(mut self, evaluator: impl Into<EamEvaluator>) -> Self {
        self.evaluator = evaluator.into();
        self
    }

    pub fn evaluator(&self) -> EamEvaluator {
        self.evaluator
    }

    pub fn tables(&self) -> &EamTables {
        &self.tables
    }

    fn check_species(&self, input: &ForceInput<'_>) -> Result<(), PotentialError> {
        let n = self.tables.n_species();
        if let Some(s) = input.atoms.species.iter().find(|s| s.index() >= n) {
            return Err(PotentialError::Config(format!(
                "{}: species index {} is out of range: the potential was built for {n} species",
                self.name,
                s.index()
            )));
        }
        Ok(())
    }
}

impl Clone for Eam {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            tables: self.tables.clone(),
            evaluator: self.evaluator,
            kernel_tables: self.kernel_tables.clone(),
            scratch: Mutex::new(Scratch::default()),
        }
    }
}

impl std::fmt::Debug for Eam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Eam")
            .field("name", &self.name)
            .field("evaluator", &self.evaluator)
            .field("n_species", &self.tables.n_species())
            .field("cutoff", &self.tables.cutoff())
            .field("nr", &self.tables.nr())
            .field("nrho", &self.tables.nrho())
            .finish()
    }
}

impl Potential for Eam {
    fn name(&self) -> &str {
        self.name
    }

    fn cutoff(&self) -> f64 {
        self.tables.cutoff()
    }

    fn neighbor_kind(&self) -> NeighborKind {
        self.evaluator.neighbor_kind()
    }

    fn compute(
        &self,
        input: &ForceInput<'_>,
        ghosts: &mut dyn GhostSync,
        out: &mut ForceOutput,
    ) -> Result<(), PotentialError> {
        assert_eq!(
            input.neighbors.kind(),
            self.neighbor_kind(),
            "neighbor list kind does not match the potential's request"
        );
        assert_eq!(
            input.neighbors.n_owned(),
            input.atoms.n_owned(),
            "neighbor list is stale: owned atom counts differ"
        );
        let rows = if self.writes_ghost_forces() { input.atoms.n_total() } else { input.atoms.n_owned() };
        assert!(out.forces.len() >= rows, "force output not sized for the atoms this evaluator writes");
        assert!(input.neighbors.list_radius() >= self.cutoff(), "neighbor list radius is below the potential's cutoff");
        self.check_species(input)?;
        let mut scratch = self.scratch.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match self.evaluator {
            EamEvaluator::Kernel => half::compute(self, input, ghosts, out, &mut scratch),
            EamEvaluator::FullList => kernel::compute(self, input, ghosts, out, &mut scratch),
            EamEvaluator::Reference => reference::compute(self, input, ghosts, out, &mut scratch),
        }
    }

    fn masses(&self) -> Option<Vec<f64>> {
        Some(self.tables.masses().to_vec())
    }

    /// Only the reference evaluator (LAMMPS's float half-list loop) writes ghost forces; the
    /// kernels reverse-sum their ghost terms in fixed point themselves.
    fn writes_ghost_forces(&self) -> bool {
        self.evaluator == EamEvaluator::Reference
    }

    fn release_scratch(&self) {
        *self.scratch.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Scratch::default();
    }
}

#[cfg(test)]
mod tests;
