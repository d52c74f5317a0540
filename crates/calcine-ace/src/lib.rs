//! # Brief overview
//!
//! `calcine-ace` evaluates atomic cluster expansion potentials (ACE; Drautz, Phys. Rev. B
//! 99, 014104 (2019)) as LAMMPS `pair_style pace` does with ML-PACE (Lysogorskiy et al.,
//! npj Comput. Mater. 7, 97 (2021)), from the same files and with ML-PACE's numerics (its
//! cubic Hermite radial tables on the `deltaSplineBins` grid, its spherical harmonics and
//! embedding functions), so that energies, forces and virials agree with LAMMPS's own
//! unit-test references and with pyace.
//!
//! The energy of atom i is E_i = Σ_p w_p F(ρ_p)·f_cut + ρ_core + E0, where the densities
//! ρ_p are linear combinations (coefficients c̃) of products of the atomic base
//! A[μ][n][l][m] = Σ_j R_nl(r_ij) Y_lm(r̂_ij) over the neighbors j of element μ. Forces use
//! the adjoint ∂E_i/∂A, so that the force on each neighbor is one contraction of
//! ∂A/∂x_j with it.
//!
//! Main types:
//! - [`Ace`], a [`Potential`] on a full neighbor list: ∂E_i/∂x_j is added to atom i and
//!   subtracted from neighbor j (ghosts included) in fixed point by
//!   [`calcine_potential::scatter_exact`], so forces have the same bits on any number of
//!   ranks and threads.
//! - [`AceModel`], the C-tilde basis every reader produces: [`read_yace`] (`.yace`),
//!   [`read_legacy_ace`] (plain-text `.ace`), [`read_bbasis`] (pacemaker's B-basis
//!   `.yaml`, converted with generalised Clebsch–Gordan coefficients); [`read_model`]
//!   chooses by extension.
//! - [`Extrapolation`]: the extrapolation grade γ per atom (LAMMPS `compute
//!   pace/extrapolation`) from a B-basis `.yaml` and its active set (`.asi`).
//! - [`Evaluator`]: the fast kernel (`kernel.rs`, default) or the plain reference
//!   (`reference.rs`), and [`Algorithm`]: the products of the kernel taken one
//!   m-combination at a time (`Product`) or through shared partial products
//!   (`Recursive`, LAMMPS's default).
//!
//! # Performance
//!
//! The kernel (`kernel.rs`) evaluates an atom's neighbors four at a time in SIMD lanes
//! (structure-of-arrays buffers: radial tables, spherical harmonics and their gradients,
//! the atomic base, the force contraction) and runs the product graph (`plan.rs`) on
//! [re, im] pairs. Callgrind instructions per atom of one `Potential::compute` call
//! (energy, forces, virial, the exact scatter included), 256-atom fcc crystals at 300 K
//! (a = 3.615 Å, displacements N(0, 0.08 Å); random species for the alloys), one thread,
//! built with `RUSTFLAGS="-C target-cpu=x86-64-v3"` (valgrind does not decode AVX-512):
//!
//! | case | algorithm | first kernel | SIMD lanes, graph | + terms fused | + 16-bit ids | + grouped adjoint |
//! |---|---|---|---|---|---|---|
//! | Cu, `Cu-PBE-core-rep.ace` (lmax 6, nradmax 5, ~140 neighbors) | recursive | 2.89 M | 0.99 M | 0.91 M | 0.83 M | 0.81 M |
//! | Cu, `Cu-PBE-core-rep.ace` | product | 3.25 M | 1.01 M | 0.93 M | 0.84 M | 0.82 M |
//! | Cu/Ni, the "CuNi-large" potential of `scripts/bench_ace_vs_pyace.py` (~55 neighbors) | recursive | 1.74 M | 0.82 M | 0.68 M | 0.56 M | 0.52 M |
//! | Cu/Ni, "CuNi-large" | product | 2.84 M | 0.99 M | 0.84 M | 0.69 M | 0.64 M |
//! | Al/Cu/Ni, `tests/data/ace/AlCuNi-distance.yace` (lmax 2) | recursive | 150 k | 70 k | – | – | 67 k |
//! | Al/Cu/Ni, `AlCuNi-distance.yace` | product | 159 k | 73 k | – | – | 70 k |
//!
//! (The Al/Cu/Ni row was not counted at the two middle steps; its last column was counted
//! on 2026-12-06 on a new random 256-atom structure (species drawn uniformly: 90 Al, 82 Cu, 84 Ni), made with
//! ASE: `bulk("Cu", "fcc", a=3.615, cubic=True).repeat((4, 4, 4))`, species and
//! N(0, 0.08 Å) displacements from `numpy.random.default_rng(20261206)`.)
//!
//! Measured with
//! ```text
//! valgrind --tool=callgrind target/release/examples/ace_timing POTENTIAL STRUCTURE.xyz \
//!     --repeats 1 --algorithm recursive|product
//! ```
//! as the inclusive count of `<calcine_ace::Ace as Potential>::compute` over the atoms
//! (`ace_timing` also prints a hash of the energy's and forces' bits, to tell whether a
//! change kept them). What moved the numbers (Cu, recursive unless said): neighbors in
//! lanes with harmonics, radial lookups and the A accumulation vectorised (2.89 M →
//! 1.68 M); U and V summed in registers and contracted at once (→ 1.37 M); the graph on
//! split arrays with local slices (→ 1.06 M), then on [re, im] pairs (→ 1.00 M); product
//! chains sharing their common prefixes (product 1.39 M → 1.08 M). Then, for the large
//! two-element basis, where the density terms of rank > 1 (~10⁴ per atom, two densities)
//! are 60 % of the count: each term formed once for all densities and its adjoint θ formed
//! in the adjoint pass, instead of arrays of terms and θ walked once per density (46 → 40
//! instructions per term; same bits); 16-bit ids over fixed-size arrays, so that the
//! four bounds checks per term go (→ 31; same bits); the adjoint by groups of terms
//! sharing a factor (→ ~26; forces change in their last bits).
//! Tried and dropped: partial sums for the densities ρ_p (fewer instructions and shorter
//! chains of additions, but the terms cancel: interleaved sums broke the kernel-vs-reference
//! bound on atom energies, 10⁻¹¹, and blocked ones the LAMMPS run test's 10⁻¹³); the sums
//! over n of the force pass over transposed W and R arrays with iterators (more
//! instructions, not fewer); ids masked with a power of two minus one to drop the bounds
//! checks (the compiler kept them and added the masks: 0.68 M → 0.74 M); the grouped
//! adjoint through `Iterator::take` on shared iterators (26 instructions per term instead
//! of 15: 0.56 M → 0.61 M; sub-slices per group fixed it). Not tried: factoring a shared
//! factor out of the density sums (Σ_t c_t Re(x·y_t) = Re(x·Σ_t c_t y_t)), which would
//! roughly halve the forward terms but changes their order and so the energies' last bits
//! (see the bounds above).
//! Wall-clock times against pyace: `scripts/bench_ace_vs_pyace.py` (compare only on a
//! quiet machine).
//!
//! It does not fit potentials, read ACE.jl radial bases (`radbasename: ACE.jl.*`) or run
//! `pair_style hybrid` with ACE on some types only.
//!
//! ```ignore
//! use calcine_ace::{Ace, Algorithm, Extrapolation};
//! let cu = Ace::read("Cu-PBE-core-rep.ace", &["Cu"])?.with_algorithm(Algorithm::Product);
//! let list = NeighborList::new(cu.neighbor_kind(), cu.cutoff(), 1.0);
//! // Active learning: γ of every owned atom on the steps that want it (no communication;
//! // the driver reduces the maximum over ranks).
//! let grade = Extrapolation::read("pot.yaml", "pot.asi", &["Cu", "Ni"])?;
//! let gamma: Vec<f64> = grade.compute_gamma(&atoms, &list)?;
//! ```

mod asi;
mod basis;
mod bbasis;
mod complex;
mod embedding;
mod gamma;
mod harmonics;
mod kernel;
mod legacy;
mod model;
mod plan;
mod radial;
mod reference;
mod site;
mod table;
mod yace;
mod yaml;

pub use asi::{read_asi, Matrix};
pub use bbasis::{clebsch_gordan, coupling_tree, ms_cg_list, parse_bbasis, read_bbasis, BBasis, BFunction};
pub use gamma::{Extrapolation, GradeKind};
pub use legacy::{parse_legacy_ace, read_legacy_ace};
pub use model::{AceModel, Bond, CTildeFunction, Embedding, EmbeddingKind, InnerCutoffKind, RadialBasisKind};
pub use yace::{parse_yace, read_yace};

pub use calcine_potential::Evaluator;

use basis::Basis;
use calcine_core::{Atoms, GhostSync};
use calcine_neighbor::NeighborList;
use calcine_potential::{scatter_exact, AtomTerms, ForceInput, ForceOutput, NeighborKind, Potential, PotentialError};
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// How the kernel forms the products of the atomic base (LAMMPS `pair_style pace
/// product|recursive`). Both give the same numbers to rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// Each m-combination's product on its own.
    Product,
    /// Products built from shared partial products (LAMMPS's default).
    #[default]
    Recursive,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Product => "product",
            Algorithm::Recursive => "recursive",
        }
    }
}

impl std::str::FromStr for Algorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "product" => Ok(Algorithm::Product),
            "recursive" => Ok(Algorithm::Recursive),
            _ => Err(format!("unknown ACE algorithm '{s}': expected 'product' or 'recursive'")),
        }
    }
}

/// Reads a potential file by its extension as LAMMPS does: `.yaml` as pacemaker's B-basis
/// (converted to C-tilde), `.yace` as YAML C-tilde, anything else as legacy `.ace` text.
pub fn read_model(path: impl AsRef<Path>) -> Result<AceModel, PotentialError> {
    let path = path.as_ref();
    match path.extension().and_then(|e| e.to_str()) {
        Some("yaml") | Some("yml") => Ok(read_bbasis(path)?.model),
        Some("yace") => read_yace(path),
        _ => read_legacy_ace(path),
    }
}

/// An ACE potential (LAMMPS `pair_style pace`).
///
/// E = Σ_i E_i with E_i = Σ_p w_p F(ρ_p^i)·f_cut + ρ_core^i + E0[μ_i] (see `reference.rs`
/// for the densities), computed from the neighbors j with r_ij < r_c(μ_i, μ_j). The force
/// is f_j = −Σ_i ∂E_i/∂x_j and the virial Σ_i Σ_j (x_i − x_j) ⊗ ∂E_i/∂x_j (LAMMPS's
/// convention).
///
/// Errors at evaluation time: an atom whose species the potential was not built for
/// ([`PotentialError::Config`]), a pair closer than the tables' first node
/// ([`PotentialError::TooClose`]) and a non-finite energy or force
/// ([`PotentialError::NonFinite`]).
#[derive(Clone)]
pub struct Ace {
    basis: Arc<Basis>,
    /// The element of each species (by species index).
    species_element: Vec<usize>,
    evaluator: Evaluator,
    algorithm: Algorithm,
    /// The kernel's product graph of each element for `algorithm`.
    plans: Arc<Vec<plan::Plan>>,
}

impl std::fmt::Debug for Ace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ace")
            .field("path", &self.basis.model.path)
            .field("elements", &self.basis.model.elements)
            .field("evaluator", &self.evaluator)
            .field("algorithm", &self.algorithm)
            .field("cutoff", &self.basis.model.max_cutoff())
            .finish()
    }
}

impl Ace {
    /// Reads a potential file (see [`read_model`]) and maps species `k` to the element
    /// named `species[k]` (LAMMPS `pair_coeff * * file El…`).
    pub fn read<S: AsRef<str>>(path: impl AsRef<Path>, species: &[S]) -> Result<Self, PotentialError> {
        Self::new(read_model(path)?, species)
    }

    /// A potential for a model and the run's species names.
    pub fn new<S: AsRef<str>>(model: AceModel, species: &[S]) -> Result<Self, PotentialError> {
        if species.is_empty() {
            return Err(PotentialError::Config("ace: no species given".into()));
        }
        let species_element = model.species_elements(species)?;
        let basis = Arc::new(Basis::new(model)?);
        let algorithm = Algorithm::default();
        let plans = Arc::new(Self::plans(&basis, algorithm));
        Ok(Self { basis, species_element, evaluator: Evaluator::default(), algorithm, plans })
    }

    fn plans(basis: &Basis, algorithm: Algorithm) -> Vec<plan::Plan> {
        (0..basis.model.n_elements()).map(|mu| plan::Plan::new(basis, mu, algorithm)).collect()
    }

    /// The same potential with the kernel's graphs on 32-bit ids only, as it runs
    /// potentials too large for 16-bit ones (tests: both must give the same bits).
    #[cfg(test)]
    fn with_wide_ids(mut self) -> Self {
        let mut plans = (*self.plans).clone();
        for plan in &mut plans {
            plan.narrow = None;
        }
        self.plans = Arc::new(plans);
        self
    }

    /// Chooses the evaluator (the kernel by default).
    pub fn with_evaluator(mut self, evaluator: Evaluator) -> Self {
        self.evaluator = evaluator;
        self
    }

    /// Chooses how the kernel forms products (recursive by default).
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        if algorithm != self.algorithm {
            self.algorithm = algorithm;
            self.plans = Arc::new(Self::plans(&self.basis, algorithm));
        }
        self
    }

    pub fn evaluator(&self) -> Evaluator {
        self.evaluator
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn model(&self) -> &AceModel {
        &self.basis.model
    }

    fn check_input(&self, atoms: &Atoms, neighbors: &NeighborList) -> Result<(), PotentialError> {
        assert_eq!(neighbors.kind(), NeighborKind::Full, "ace needs a full neighbor list");
        assert_eq!(neighbors.n_owned(), atoms.n_owned(), "neighbor list is stale: owned atom counts differ");
        assert!(neighbors.list_radius() >= self.cutoff(), "neighbor list radius is below the potential's cutoff");
        let n = self.species_element.len();
        if let Some(s) = atoms.species.iter().find(|s| s.index() >= n) {
            return Err(PotentialError::Config(format!(
                "ace: species index {} is out of range: the potential was built for {n} species",
                s.index()
            )));
        }
        Ok(())
    }

    #[inline]
    fn element(&self, atoms: &Atoms, i: usize) -> usize {
        self.species_element[atoms.species[i].index()]
    }

    /// The terms of owned atoms `block`, computed in parallel, or the first pair that is
    /// too close.
    fn block_terms(
        &self,
        atoms: &Atoms,
        neighbors: &NeighborList,
        block: Range<usize>,
    ) -> Vec<Result<AtomTerms, PotentialError>> {
        block
            .into_par_iter()
            .map_init(<(kernel::Scratch, Vec<u32>)>::default, |(scratch, row), i| {
                let mu_i = self.element(atoms, i);
                site::gather(
                    &self.basis,
                    &self.species_element,
                    atoms,
                    i,
                    mu_i,
                    neighbors.row_atoms(i, row),
                    &mut scratch.neighbors,
                );
                let terms = match self.evaluator {
                    Evaluator::Reference => reference::atom_terms(&self.basis, mu_i, &scratch.neighbors),
                    Evaluator::Kernel => kernel::atom_terms(&self.basis, &self.plans[mu_i], mu_i, scratch),
                };
                terms.map_err(|c| PotentialError::TooClose {
                    potential: "ace".into(),
                    id_i: atoms.ids[i].0,
                    id_j: atoms.ids[c.atom_idx].0,
                    distance: c.r,
                    min_distance: c.min_distance,
                })
            })
            .collect()
    }
}

impl Potential for Ace {
    fn name(&self) -> &str {
        "ace"
    }

    fn cutoff(&self) -> f64 {
        self.basis.model.max_cutoff()
    }

    fn neighbor_kind(&self) -> NeighborKind {
        NeighborKind::Full
    }

    /// Errors are returned only after the reverse sum of ghost forces, which every rank
    /// must join.
    fn compute(
        &self,
        input: &ForceInput<'_>,
        ghosts: &mut dyn GhostSync,
        out: &mut ForceOutput,
    ) -> Result<(), PotentialError> {
        let ready = self.check_input(input.atoms, input.neighbors);
        // A pair that is too close is found inside the parallel block; it is reported after
        // the reverse sum like every other error, with empty terms in its place.
        let first_error = std::sync::Mutex::new(None);
        let result = scatter_exact("ace", input, ghosts, out, ready, |block, _energy| {
            self.block_terms(input.atoms, input.neighbors, block)
                .into_iter()
                .map(|t| {
                    t.unwrap_or_else(|e| {
                        first_error.lock().expect("no panics while holding the lock").get_or_insert(e);
                        AtomTerms { energy: f64::NAN, forces: Vec::new() }
                    })
                })
                .collect()
        });
        match first_error.into_inner().expect("no panics while holding the lock") {
            Some(e) => Err(e),
            None => result,
        }
    }
}

#[cfg(test)]
mod tests;
