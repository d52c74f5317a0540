//! # Brief overview
//!
//! `calcine-snap` evaluates spectral neighbor analysis potentials (SNAP; Thompson et al.,
//! J. Comput. Phys. 285, 316 (2015)) as LAMMPS `pair_style snap` does, from the same files
//! and with LAMMPS's numerics (its recursions, index conventions, switching functions and
//! order of sums), so that energies, forces and virials agree with LAMMPS's own unit-test
//! references within their 5·10⁻¹³ tolerance. Linear, quadratic (Wood &
//! Thompson, J. Chem. Phys. 148, 241721 (2018)) and explicit multi-element ("chem";
//! Cusentino et al., J. Phys. Chem. A 124, 5456 (2020)) potentials are supported, with
//! every option of the parameter file.
//!
//! The energy of atom i is a function of the bispectrum components B of its neighbor
//! density, E_i = β₀ + β·B_i (+ ½ B_iᵀαB_i). The density of neighbors within the cutoff is
//! expanded in the hyperspherical harmonics U^j (Wigner matrices of the rotation a point on
//! the 3-sphere represents), and B(j1, j2, j) contracts three of them with
//! Clebsch–Gordan coefficients. Forces use the adjoint Y = Σ dE/dB·∂B/∂U, so that the
//! force on each neighbor is one contraction of dU/dr with Y instead of one per component.
//!
//! Main types:
//! - [`Snap`], a [`Potential`] on a full neighbor list. An atom's energy depends on its
//!   neighbors, so dE_i/dx_j is added to atom i and subtracted from neighbor j, ghosts
//!   included, in fixed point ([`ExactVectors`]); ghosts' sums are reverse-summed into
//!   their owners as integers, so forces have the same bits on any number of ranks.
//!   [`Snap::compute_bispectrum`] gives the per-atom components (LAMMPS `compute sna/atom`).
//! - [`Evaluator`]: the fast kernel (`kernel.rs`, default) or the plain reference
//!   (`reference.rs`), which the kernel is tested against.
//! - [`SnapCoeffFile`], [`SnapParams`], [`SnapModel`]: the `.snapcoeff` and `.snapparam`
//!   files and their combination for a run's species; [`SnapInclude`]: the LAMMPS
//!   include files (`X.snap`) that pair SNAP with ZBL.
//!
//! Per-atom work runs in parallel; forces are then added in atom order, neighbor by
//! neighbor, in fixed point, so the result depends neither on the number of threads nor
//! on the decomposition.
//!
//! It does not fit potentials, support `pair_style hybrid` with SNAP on some types only
//! (`NULL` in the element list), or the ML-IAP interface.
//!
//! ```ignore
//! use calcine_snap::{Evaluator, Snap, SnapInclude};
//! let ta = Snap::read("Ta06A.snapcoeff", "Ta06A.snapparam", &["Ta"])?;
//! let w_with_zbl = SnapInclude::read("W_2940_2017_2.snap")?.build(&["W"], Evaluator::Kernel)?;
//! let list = NeighborList::new(ta.neighbor_kind(), ta.cutoff(), 1.0);
//! ```

mod basis;
mod files;
mod include;
mod kernel;
mod model;
mod reference;
mod site;
mod source;
mod trig;

pub use basis::n_components;
pub use files::{CoeffElement, InnerSwitch, SnapCoeffFile, SnapParams};
pub use include::{SnapInclude, ZblSettings};
pub use model::{Element, SnapModel};
pub use source::SnapFiles;

use basis::Basis;
use calcine_core::{Atoms, GhostSync};
use calcine_neighbor::NeighborList;
pub use calcine_potential::Evaluator;
use calcine_potential::{scatter_exact, AtomTerms, ForceInput, ForceOutput, NeighborKind, Potential, PotentialError};
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;

/// A SNAP potential (LAMMPS `pair_style snap`).
///
/// E = Σ_i E_i with E_i = β₀^{μ_i} + Σ_k β_k^{μ_i} B_k^i (+ ½ Σ_kl α_kl^{μ_i} B_k^i B_l^i),
/// where μ_i is the element of atom i and B^i its bispectrum components (see
/// `reference.rs` for their definition), computed from the neighbors j with
/// r_ij < (R_{μ_i} + R_{μ_j})·rcutfac. The force is f_j = −Σ_i ∂E_i/∂x_j, and the virial
/// Σ_i Σ_j (x_i − x_j) ⊗ ∂E_i/∂x_j (LAMMPS's convention).
///
/// Errors at evaluation time: an atom whose species the potential was not built for
/// ([`PotentialError::Config`]) and a non-finite energy or force
/// ([`PotentialError::NonFinite`]).
#[derive(Clone)]
pub struct Snap {
    model: SnapModel,
    basis: Basis,
    plan: kernel::Plan,
    evaluator: Evaluator,
}

impl std::fmt::Debug for Snap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snap")
            .field("evaluator", &self.evaluator)
            .field("elements", &self.model.elements.iter().map(|e| e.name.as_str()).collect::<Vec<_>>())
            .field("two_j_max", &self.model.params.two_j_max)
            .field("n_descriptors", &self.model.n_descriptors)
            .field("cutoff", &self.model.max_cutoff())
            .finish()
    }
}

/// Per-atom bispectrum components, one row per owned atom (LAMMPS `compute sna/atom`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bispectrum {
    /// Columns per atom: the descriptors B_k, then for a quadratic potential ½B_k² and
    /// B_k·B_l (l > k) in the order of the quadratic coefficients.
    pub n_columns: usize,
    /// Row-major values, `n_columns` per owned atom.
    pub values: Vec<f64>,
}

impl Bispectrum {
    /// The columns of owned atom `atom_idx`.
    pub fn row(&self, atom_idx: usize) -> &[f64] {
        &self.values[atom_idx * self.n_columns..(atom_idx + 1) * self.n_columns]
    }
}

impl Snap {
    /// Reads a coefficient and a parameter file and maps species `k` to the element named
    /// `species[k]` (LAMMPS `pair_coeff * * COEFF PARAM El…`).
    pub fn read<S: AsRef<str>>(
        coeff_path: impl AsRef<Path>,
        param_path: impl AsRef<Path>,
        species: &[S],
    ) -> Result<Self, PotentialError> {
        Ok(Self::new(SnapModel::read(coeff_path, param_path, species)?))
    }

    /// A potential for a checked model.
    pub fn new(model: SnapModel) -> Self {
        let basis = Basis::new(model.params.two_j_max);
        let plan = kernel::Plan::new(&basis, model.params.normalize_b);
        Self { model, basis, plan, evaluator: Evaluator::default() }
    }

    /// Chooses the evaluator (the kernel by default).
    pub fn with_evaluator(mut self, evaluator: Evaluator) -> Self {
        self.evaluator = evaluator;
        self
    }

    pub fn evaluator(&self) -> Evaluator {
        self.evaluator
    }

    pub fn model(&self) -> &SnapModel {
        &self.model
    }

    /// The bispectrum components of every owned atom, as the energy uses them (LAMMPS
    /// `compute sna/atom` with the potential's parameters: bzeroflag, bnormflag, chemflag
    /// and the inner switch as in the parameter file). `neighbors` must be a full list.
    ///
    /// LAMMPS's compute takes x_i − x_j where the pair style takes x_j − x_i; the
    /// components are invariant under that inversion, so the two agree to rounding.
    pub fn compute_bispectrum(&self, atoms: &Atoms, neighbors: &NeighborList) -> Result<Bispectrum, PotentialError> {
        self.check_input(atoms, neighbors)?;
        let rows: Vec<Vec<f64>> = match self.evaluator {
            Evaluator::Reference => (0..atoms.n_owned())
                .into_par_iter()
                .map_init(<(Vec<_>, Vec<u32>)>::default, |(sites, row), i| {
                    site::gather(&self.model, atoms, i, neighbors.row_atoms(i, row), sites);
                    reference::descriptors(&self.model, &self.basis, self.element(atoms, i), sites)
                })
                .collect(),
            Evaluator::Kernel => self.kernel_batches(0..atoms.n_owned(), atoms, neighbors, |elements, scratch| {
                self.kernel().descriptors(elements, scratch)
            }),
        };
        let rows: Vec<Vec<f64>> = rows.iter().map(|b| self.model.bispectrum_columns(b)).collect();
        Ok(Bispectrum { n_columns: self.model.n_bispectrum_columns(), values: rows.concat() })
    }

    #[inline]
    fn element(&self, atoms: &Atoms, i: usize) -> usize {
        self.model.species_element[atoms.species[i].index()]
    }

    fn check_input(&self, atoms: &Atoms, neighbors: &NeighborList) -> Result<(), PotentialError> {
        assert_eq!(neighbors.kind(), NeighborKind::Full, "snap needs a full neighbor list");
        assert_eq!(neighbors.n_owned(), atoms.n_owned(), "neighbor list is stale: owned atom counts differ");
        assert!(neighbors.list_radius() >= self.cutoff(), "neighbor list radius is below the potential's cutoff");
        let n = self.model.species_element.len();
        if let Some(s) = atoms.species.iter().find(|s| s.index() >= n) {
            return Err(PotentialError::Config(format!(
                "snap: species index {} is out of range: the potential was built for {n} species",
                s.index()
            )));
        }
        Ok(())
    }

    fn kernel(&self) -> kernel::Kernel<'_> {
        kernel::Kernel { model: &self.model, basis: &self.basis, plan: &self.plan }
    }

    /// The terms of owned atoms `block`, computed in parallel; energies only if `energy`.
    fn block_terms(
        &self,
        atoms: &Atoms,
        neighbors: &NeighborList,
        block: Range<usize>,
        energy: bool,
    ) -> Vec<AtomTerms> {
        match self.evaluator {
            Evaluator::Reference => block
                .into_par_iter()
                .map_init(<(Vec<_>, Vec<u32>)>::default, |(sites, row), i| {
                    site::gather(&self.model, atoms, i, neighbors.row_atoms(i, row), sites);
                    reference::atom_terms(&self.model, &self.basis, self.element(atoms, i), sites)
                })
                .collect(),
            Evaluator::Kernel => self.kernel_batches(block, atoms, neighbors, |elements, scratch| {
                self.kernel().atom_terms(elements, energy, scratch)
            }),
        }
    }

    /// Runs `batch` on the owned atoms `atoms_range` in parallel, [`kernel::ATOMS`] at a
    /// time, and returns its results in atom order.
    fn kernel_batches<T: Send>(
        &self,
        atoms_range: Range<usize>,
        atoms: &Atoms,
        neighbors: &NeighborList,
        batch: impl Fn(&[usize], &mut kernel::Scratch) -> Vec<T> + Sync,
    ) -> Vec<T> {
        let starts: Vec<usize> = atoms_range.clone().step_by(kernel::ATOMS).collect();
        let per_batch: Vec<Vec<T>> = starts
            .into_par_iter()
            .map_init(<(kernel::Scratch, Vec<u32>)>::default, |(scratch, row), start| {
                let lanes = start..(start + kernel::ATOMS).min(atoms_range.end);
                let mut elements = Vec::with_capacity(lanes.len());
                for (lane, i) in lanes.enumerate() {
                    site::gather(&self.model, atoms, i, neighbors.row_atoms(i, row), scratch.neighbors(lane));
                    elements.push(self.element(atoms, i));
                }
                batch(&elements, scratch)
            })
            .collect();
        per_batch.into_iter().flatten().collect()
    }
}

impl Potential for Snap {
    fn name(&self) -> &str {
        "snap"
    }

    fn cutoff(&self) -> f64 {
        self.model.max_cutoff()
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
        scatter_exact("snap", input, ghosts, out, ready, |block, energy| {
            self.block_terms(input.atoms, input.neighbors, block, energy)
        })
    }
}

#[cfg(test)]
mod tests;
