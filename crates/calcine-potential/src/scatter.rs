//! The exact-scatter driver for many-body potentials whose atom energies depend on their
//! neighbors (SNAP, ACE): each owned atom i yields its energy E_i and the pair terms
//! ∂E_i/∂x_j, which are added to i and subtracted from j (owned or ghost) in fixed point
//! ([`ExactVectors`]), then ghost sums are reverse-summed into their owners as integers.
//! Integer addition is associative, so forces have the same bits on any number of ranks
//! and threads; the per-atom terms themselves are computed in parallel.

use crate::{add_outer, AtomVirials, ForceInput, ForceOutput, PotentialError};
use calcine_core::{to_fixed, Atoms, ExactVectors, GhostSync, Vec3};
use std::ops::Range;

/// What one owned atom contributes: its energy and ∂E_i/∂x_j for each neighbor j inside
/// the cutoff (an atom index, owned or ghost), in row order.
#[derive(Debug, Clone, Default)]
pub struct AtomTerms {
    pub energy: f64,
    pub forces: Vec<(usize, Vec3)>,
}

/// Owned atoms whose terms are computed (in parallel) before they are added (in order):
/// large enough for threads to share, small enough that the terms stay in cache.
pub const SCATTER_BLOCK: usize = 2048;

/// Adds the forces, energy and virial of atom-centred terms into `out`.
///
/// `ready` is the potential's own check of its input; `block_terms(range, energy)` returns
/// the terms of the owned atoms `range` in order (energies only needed when `energy`).
/// Every rank joins the reverse sum even when it has found an error (a bad input or a
/// non-finite term), so no rank is left waiting; the error is returned afterwards.
/// The virial is Σ_i Σ_j (x_i − x_j) ⊗ ∂E_i/∂x_j (LAMMPS's convention). Per-atom
/// virials (`Want::per_atom_virial`) give half of each term to i and half to j, as LAMMPS's
/// `pair snap` and `pair pace` tally them (`ev_tally_xyz`); ghost halves are reverse-summed
/// as integers.
pub fn scatter_exact(
    potential: &str,
    input: &ForceInput<'_>,
    ghosts: &mut dyn GhostSync,
    out: &mut ForceOutput,
    ready: Result<(), PotentialError>,
    block_terms: impl Fn(Range<usize>, bool) -> Vec<AtomTerms>,
) -> Result<(), PotentialError> {
    let atoms = input.atoms;
    assert!(out.forces.len() >= atoms.n_total(), "force output not sized for owned + ghost atoms");
    let mut forces = ExactVectors::default();
    forces.reset(atoms.n_total());
    let mut virials = input.want.per_atom_virial.then(|| {
        let mut v = AtomVirials::default();
        v.reset(atoms.n_total());
        v
    });
    let mut error = ready.err();
    let n_owned = atoms.n_owned();
    let energy = input.want.energy || input.want.per_atom_energy;
    if error.is_none() {
        for start in (0..n_owned).step_by(SCATTER_BLOCK) {
            let block = start..(start + SCATTER_BLOCK).min(n_owned);
            let terms = block_terms(block.clone(), energy);
            debug_assert_eq!(terms.len(), block.len());
            if let Some(e) = block
                .zip(&terms)
                .find_map(|(i, t)| add_terms(potential, atoms, i, t, input, &mut forces, virials.as_mut(), out).err())
            {
                error = Some(e);
                break;
            }
        }
    }
    ghosts.reverse_sum_exact(forces.words_mut(), 3);
    if let Some(v) = &mut virials {
        v.reverse_sum(ghosts);
    }
    if let Some(e) = error {
        return Err(e);
    }
    if let Some(v) = &virials {
        v.add_into(&mut out.per_atom_virial[..n_owned]);
    }
    for (i, f) in out.forces[..n_owned].iter_mut().enumerate() {
        let [x, y, z] = forces.value(i);
        *f += Vec3::new(x, y, z);
    }
    Ok(())
}

/// Adds atom i's terms: +∂E_i/∂x_j on i and −∂E_i/∂x_j on j (the two cancel exactly in
/// fixed point), its energy and its virial (and, into `virials`, half of each term's
/// virial to j and half of their sum to i).
#[allow(clippy::too_many_arguments)]
fn add_terms(
    potential: &str,
    atoms: &Atoms,
    i: usize,
    terms: &AtomTerms,
    input: &ForceInput<'_>,
    forces: &mut ExactVectors,
    virials: Option<&mut AtomVirials>,
    out: &mut ForceOutput,
) -> Result<(), PotentialError> {
    let non_finite = |what| PotentialError::NonFinite { potential: potential.to_string(), what, id: atoms.ids[i].0 };
    if !terms.energy.is_finite() {
        return Err(non_finite("energy"));
    }
    let xi = atoms.positions[i];
    let mut virial = [0.0; 6];
    // i's terms, each in fixed point, summed here as integers and added to its word once:
    // the same integers as adding each to the word (integer addition is associative).
    let mut own = [0i128; 3];
    // The virial sum is only read when it is wanted (or below, with per-atom virials).
    let sum_virial = input.want.virial && virials.is_none();
    for (j, f) in &terms.forces {
        if !(f.x.is_finite() && f.y.is_finite() && f.z.is_finite()) {
            return Err(non_finite("force"));
        }
        for (w, x) in own.iter_mut().zip([f.x, f.y, f.z]) {
            *w = w.wrapping_add(to_fixed(x));
        }
        forces.sub(*j, [f.x, f.y, f.z]);
        if sum_virial {
            add_outer(&mut virial, &(xi - atoms.positions[*j]), f, 1.0);
        }
    }
    forces.add_fixed(i, own);
    if let Some(virials) = virials {
        // The same sum as above, each term also halved onto j.
        for (j, f) in &terms.forces {
            let mut term = [0.0; 6];
            add_outer(&mut term, &(xi - atoms.positions[*j]), f, 1.0);
            for k in 0..6 {
                virial[k] += term[k];
            }
            virials.add(*j, &term, 0.5);
        }
        virials.add(i, &virial, 0.5);
    }
    out.tally_atom(i, terms.energy, &virial, input.want);
    Ok(())
}
