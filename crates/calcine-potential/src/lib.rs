//! # Brief overview
//!
//! `calcine-potential` defines how a potential meets the engine: the [`Potential`] trait,
//! evaluated over a neighbor list ([`ForceInput`]) into a [`ForceOutput`] (energy, forces,
//! virial), with a [`GhostSync`] for the halo exchanges a many-body potential needs in the
//! middle of a force call. It also holds the pair laws: a [`PairFunction`] gives u(r) and
//! du/dr, and [`Pairwise`] lifts it to a `Potential` (Lennard-Jones [`LennardJones`], the
//! Ziegler–Biersack–Littmark screened nuclear repulsion [`Zbl`]); [`Overlay`] adds several
//! potentials together (SNAP + ZBL, as LAMMPS `pair_style hybrid/overlay`).
//!
//! Conventions every potential keeps:
//! - `compute` *adds* into `out` (the engine zeroes it first), so overlays compose.
//! - Energies and virials are accumulated per owned atom into [`ExactSum`]s, so totals do
//!   not depend on the number of ranks or threads.
//! - A potential on a full list sums each owned atom's terms over its neighbor row in the
//!   row's (canonical) order and leaves ghost forces at zero (`out.ghost_forces == false`);
//!   one that writes forces on ghosts sets `out.ghost_forces = true` and the engine
//!   reverse-sums them into their owners.
//! - The virial is Σ r_ij ⊗ f_ij over pairs in eV (LAMMPS's `virial`), xx yy zz xy xz yz.
//! - The per-atom virial (`Want::per_atom_virial`) gives each owned atom half of every
//!   term r_ij ⊗ f_ij it takes part in (LAMMPS's `vatom`); shares of ghosts reach their
//!   owners through integer reverse sums ([`AtomVirials`]), so they have the same bits on
//!   any rank and thread count.
//!
//! Shared plumbing for potential families: [`text::PotentialReader`] reads LAMMPS-style
//! potential files with `file:line` errors, [`scatter_exact`] adds atom-centred many-body
//! terms (SNAP, ACE) to both atoms of each pair in fixed point with an integer reverse sum,
//! and [`Evaluator`] chooses between a family's fast kernel and its plain reference.
//!
//! [`GhostSync`]: calcine_core::GhostSync

mod atom_virial;
mod error;
mod evaluator;
mod overlay;
mod pair;
mod pairwise;
mod scatter;
pub mod text;

pub use atom_virial::AtomVirials;
pub use error::PotentialError;
pub use evaluator::Evaluator;
pub use overlay::Overlay;
pub use pair::{LennardJones, Zbl};
pub use pairwise::{accumulate_owned, owned_chunks, PairFunction, PairMode, Pairwise};
pub use scatter::{scatter_exact, AtomTerms, SCATTER_BLOCK};
pub use text::{parse_lammps_float, read_potential_text};

pub use calcine_neighbor::NeighborKind;

use calcine_core::{Atoms, ExactSum, GhostSync, Vec3, Virial};
use calcine_neighbor::NeighborList;

/// What the caller needs from a force call besides forces (LAMMPS `eflag`/`vflag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    pub energy: bool,
    pub virial: bool,
    pub per_atom_energy: bool,
    /// Each owned atom's share of the virial (LAMMPS's `vatom`, what `compute stress/atom`
    /// reports negated and scaled): every pair or many-body term r_ij ⊗ f_ij split half to
    /// i and half to j, as LAMMPS's `ev_tally` and `ev_tally_xyz` do.
    pub per_atom_virial: bool,
}

impl Want {
    pub const ALL: Want = Want { energy: true, virial: true, per_atom_energy: true, per_atom_virial: true };
    /// Everything but per-atom virials: what a run's set-up force call computes, and what
    /// benchmarks time (per-atom virials are computed only on steps that write them).
    pub const ALL_BUT_ATOM_VIRIALS: Want =
        Want { energy: true, virial: true, per_atom_energy: true, per_atom_virial: false };
    pub const FORCES_ONLY: Want = Want { energy: false, virial: false, per_atom_energy: false, per_atom_virial: false };
}

/// The state a potential reads.
#[derive(Debug, Clone, Copy)]
pub struct ForceInput<'a> {
    pub atoms: &'a Atoms,
    pub neighbors: &'a NeighborList,
    pub want: Want,
}

/// What a potential produces. Forces cover owned and ghost atoms.
#[derive(Debug, Clone, Default)]
pub struct ForceOutput {
    pub energy: ExactSum,
    pub virial: [ExactSum; 6],
    pub forces: Vec<Vec3>,
    /// Per owned atom, when `Want::per_atom_energy`.
    pub per_atom_energy: Vec<f64>,
    /// Per owned atom, when `Want::per_atom_virial`: its share of the virial in eV, xx yy
    /// zz xy xz yz, the shares of all atoms adding up to `virial`. LAMMPS's
    /// `compute stress/atom NULL virial` is −`nktv2p` times this (bar·Å³).
    pub per_atom_virial: Vec<Virial>,
    /// Set by a potential that wrote forces on ghost atoms; the engine then reverse-sums them.
    pub ghost_forces: bool,
}

impl ForceOutput {
    /// Zeroes everything: forces for the first `n_forces` atoms (owned and ghost atoms, or
    /// the owned ones for a potential that writes no ghost forces), per-atom quantities
    /// for the `n_owned` owned ones.
    pub fn reset(&mut self, n_owned: usize, n_forces: usize, want: Want) {
        self.energy = ExactSum::new();
        self.virial = [ExactSum::new(); 6];
        self.forces.clear();
        self.forces.resize(n_forces, Vec3::zeros());
        self.per_atom_energy.clear();
        if want.per_atom_energy {
            self.per_atom_energy.resize(n_owned, 0.0);
        }
        self.per_atom_virial.clear();
        if want.per_atom_virial {
            self.per_atom_virial.resize(n_owned, [0.0; 6]);
        }
        self.ghost_forces = false;
    }

    /// This rank's part of the virial, rounded.
    pub fn virial_value(&self) -> Virial {
        std::array::from_fn(|k| self.virial[k].value())
    }

    /// Adds a pair's virial `w` (r_ij ⊗ f_ij, computed once for the pair) to the total when
    /// `want.virial`, and half of it to each of atoms `i` and `j` in `virials` when
    /// `want.per_atom_virial` (LAMMPS's `ev_tally`).
    #[inline]
    pub fn tally_pair_virial(&mut self, virials: &mut AtomVirials, i: usize, j: usize, w: &Virial, want: Want) {
        if want.virial {
            for k in 0..6 {
                self.virial[k].add(w[k]);
            }
        }
        if want.per_atom_virial {
            virials.add(i, w, 0.5);
            virials.add(j, w, 0.5);
        }
    }

    /// Adds one owned atom's energy and virial contributions.
    #[inline]
    pub fn tally_atom(&mut self, atom_idx: usize, energy: f64, virial: &Virial, want: Want) {
        if want.energy {
            self.energy.add(energy);
        }
        if want.per_atom_energy {
            self.per_atom_energy[atom_idx] += energy;
        }
        if want.virial {
            for k in 0..6 {
                self.virial[k].add(virial[k]);
            }
        }
    }
}

/// An interatomic potential evaluated over a neighbor list (LAMMPS's `Pair`).
pub trait Potential: Send + Sync {
    /// A short name for logs, e.g. `eam/alloy` or `lj`.
    fn name(&self) -> &str;
    /// The largest interaction distance in Å; ghosts and lists extend to this plus the skin.
    fn cutoff(&self) -> f64;
    /// The list this potential wants.
    fn neighbor_kind(&self) -> NeighborKind;
    /// Adds energy, forces and virial of the current configuration into `out`.
    fn compute(
        &self,
        input: &ForceInput<'_>,
        ghosts: &mut dyn GhostSync,
        out: &mut ForceOutput,
    ) -> Result<(), PotentialError>;
    /// Masses (g/mol) the potential file prescribes for the run's species, if it does
    /// (EAM files do; LAMMPS then overrides the data file's masses).
    fn masses(&self) -> Option<Vec<f64>> {
        None
    }
    /// Frees the per-atom work arrays kept from one force call to the next. The engine
    /// calls it before rebuilding the neighbor list, whose own transient arrays would
    /// otherwise come on top of them at the run's peak memory; the next force call
    /// allocates them afresh. Results do not depend on it.
    fn release_scratch(&self) {}
    /// Whether `compute` may add forces on ghost atoms, for the engine to reverse-sum
    /// (LAMMPS's `newton on`). A potential that reduces its ghost terms itself (the fixed-
    /// point kernels) returns false; the engine then holds forces for owned atoms only.
    fn writes_ghost_forces(&self) -> bool {
        true
    }
}

/// A per-atom quantity of a configuration that a potential family defines beside its
/// energy (ACE's extrapolation grade γ), computed from the same atoms and neighbor list
/// as a force call, without communication.
///
/// Each atom's value must depend only on its own neighborhood, computed in a fixed order,
/// so the values (and their maximum over ranks) are the same on any rank and thread
/// count.
pub trait AtomGrade: Send + Sync {
    /// The quantity's short name, used for columns (`gamma` gives `max_gamma`).
    fn name(&self) -> &'static str;
    /// The list kind the quantity reads (the potential's own).
    fn neighbor_kind(&self) -> NeighborKind;
    /// One value per owned atom, in atom order; `input.want` is ignored.
    fn grade(&self, input: &ForceInput<'_>) -> Result<Vec<f64>, PotentialError>;
}

/// Adds the outer product scale·(d ⊗ f) into a virial accumulator in Voigt order.
#[inline]
pub fn add_outer(v: &mut Virial, d: &Vec3, f: &Vec3, scale: f64) {
    v[0] += scale * d.x * f.x;
    v[1] += scale * d.y * f.y;
    v[2] += scale * d.z * f.z;
    v[3] += scale * d.x * f.y;
    v[4] += scale * d.x * f.z;
    v[5] += scale * d.y * f.z;
}
