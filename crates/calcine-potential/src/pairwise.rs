use crate::{add_outer, AtomVirials, ForceInput, ForceOutput, NeighborKind, Potential, PotentialError, Want};
use calcine_core::{ExactSum, GhostSync, SpeciesId, Vec3, Virial};
use rayon::prelude::*;

/// A pair law u(r) between two species (JAX-MD's `energy` functions, lumol's `Potential`).
pub trait PairFunction: Send + Sync {
    fn name(&self) -> &str;
    /// Interaction cutoff for this species pair.
    fn cutoff(&self, si: SpeciesId, sj: SpeciesId) -> f64;
    /// The largest cutoff over all pairs.
    fn max_cutoff(&self) -> f64;
    /// u(r) in eV and du/dr in eV/Å, for r below the pair's cutoff.
    fn energy_and_derivative(&self, si: SpeciesId, sj: SpeciesId, r: f64) -> (f64, f64);
}

/// Lifts a [`PairFunction`] to a [`Potential`] (JAX-MD's `smap.pair`).
///
/// With [`NeighborKind::Full`] (the default) each owned atom sums its own row in canonical
/// order, threads over atoms, and writes no ghost forces: the result is bit-identical for
/// any rank and thread count. With [`NeighborKind::Half`] it is the textbook LAMMPS loop
/// (each pair once, Newton's third law, ghost forces reverse-summed), kept as a reference.
#[derive(Debug, Clone)]
pub struct Pairwise<F> {
    law: F,
    kind: NeighborKind,
}

/// Owned atoms per rayon task.
const CHUNK: usize = 256;

impl<F: PairFunction> Pairwise<F> {
    pub fn new(law: F) -> Self {
        Self { law, kind: NeighborKind::Full }
    }
    pub fn with_list(law: F, kind: NeighborKind) -> Self {
        Self { law, kind }
    }
    pub fn law(&self) -> &F {
        &self.law
    }

    fn compute_full(&self, input: &ForceInput<'_>, out: &mut ForceOutput) {
        let atoms = input.atoms;
        let list = input.neighbors;
        let law = &self.law;
        accumulate_owned(out, atoms.n_owned(), input.want, |i| {
            let xi = atoms.positions[i];
            let si = atoms.species[i];
            let mut f = Vec3::zeros();
            let mut e = 0.0;
            let mut w = [0.0; 6];
            for j in list.neighbors(i) {
                let j = j as usize;
                let sj = atoms.species[j];
                let d = atoms.positions[j] - xi;
                let rsq = d.norm_squared();
                let cut = law.cutoff(si, sj);
                if rsq >= cut * cut {
                    continue;
                }
                let r = rsq.sqrt();
                let (u, du) = law.energy_and_derivative(si, sj, r);
                let fij = d * (du / r);
                f += fij;
                e += 0.5 * u;
                // Pair virial r_ij ⊗ f_i with r_ij = x_i − x_j, half of it on each atom.
                add_outer(&mut w, &(-d), &fij, 0.5);
            }
            (f, e, w)
        });
    }

    fn compute_half(&self, input: &ForceInput<'_>, ghosts: &mut dyn GhostSync, out: &mut ForceOutput) {
        let atoms = input.atoms;
        let want = input.want;
        let mut virials = AtomVirials::default();
        if want.per_atom_virial {
            virials.reset(atoms.n_total());
        }
        for i in 0..atoms.n_owned() {
            let xi = atoms.positions[i];
            let si = atoms.species[i];
            for j in input.neighbors.neighbors(i) {
                let j = j as usize;
                let sj = atoms.species[j];
                let d = atoms.positions[j] - xi;
                let rsq = d.norm_squared();
                let cut = self.law.cutoff(si, sj);
                if rsq >= cut * cut {
                    continue;
                }
                let r = rsq.sqrt();
                let (u, du) = self.law.energy_and_derivative(si, sj, r);
                let fij = d * (du / r);
                out.forces[i] += fij;
                out.forces[j] -= fij;
                if want.energy {
                    out.energy.add(u);
                }
                if want.per_atom_energy {
                    out.per_atom_energy[i] += 0.5 * u;
                    if j < atoms.n_owned() {
                        out.per_atom_energy[j] += 0.5 * u;
                    }
                }
                if want.virial || want.per_atom_virial {
                    let mut w = [0.0; 6];
                    add_outer(&mut w, &(-d), &fij, 1.0);
                    out.tally_pair_virial(&mut virials, i, j, &w, want);
                }
            }
        }
        if want.per_atom_virial {
            virials.reverse_sum(ghosts);
            virials.add_into(&mut out.per_atom_virial[..atoms.n_owned()]);
        }
        out.ghost_forces = true;
    }
}

impl<F: PairFunction> Potential for Pairwise<F> {
    fn name(&self) -> &str {
        self.law.name()
    }
    fn cutoff(&self) -> f64 {
        self.law.max_cutoff()
    }
    fn neighbor_kind(&self) -> NeighborKind {
        self.kind
    }
    fn compute(
        &self,
        input: &ForceInput<'_>,
        ghosts: &mut dyn GhostSync,
        out: &mut ForceOutput,
    ) -> Result<(), PotentialError> {
        assert_eq!(input.neighbors.kind(), self.kind, "neighbor list kind does not match the potential's request");
        match self.kind {
            NeighborKind::Full => self.compute_full(input, out),
            NeighborKind::Half => self.compute_half(input, ghosts, out),
        }
        Ok(())
    }
}

/// Runs `per_atom(i) -> (force, energy, virial)` for every owned atom in parallel, adds the
/// force into `out.forces[i]` and tallies energy and virial exactly. The virial returned
/// is the atom's own share (half of each of its pair terms, LAMMPS's `vatom`), which is
/// also what `out.per_atom_virial[i]` receives when it is wanted. The result is the same
/// for any number of threads.
pub fn accumulate_owned<K>(out: &mut ForceOutput, n_owned: usize, want: Want, per_atom: K)
where
    K: Fn(usize) -> (Vec3, f64, Virial) + Sync,
{
    type Sums = (ExactSum, [ExactSum; 6]);
    let zero = || (ExactSum::new(), [ExactSum::new(); 6]);
    let merge = |mut a: Sums, b: Sums| {
        a.0.merge(&b.0);
        for k in 0..6 {
            a.1[k].merge(&b.1[k]);
        }
        a
    };
    let tally = |s: &mut Sums, e: f64, w: &Virial| {
        if want.energy {
            s.0.add(e);
        }
        if want.virial {
            for k in 0..6 {
                s.1[k].add(w[k]);
            }
        }
    };
    // Per chunk of owned atoms, its per-atom energies and virials where they are wanted.
    let n_chunks = n_owned.div_ceil(CHUNK);
    fn chunks<T>(values: &mut [T], on: bool, n_chunks: usize) -> Vec<Option<&mut [T]>> {
        if on {
            values.chunks_mut(CHUNK).map(Some).collect()
        } else {
            (0..n_chunks).map(|_| None).collect()
        }
    }
    let energies = chunks(&mut out.per_atom_energy[..], want.per_atom_energy, n_chunks);
    let virials = chunks(&mut out.per_atom_virial[..], want.per_atom_virial, n_chunks);
    let sums: Sums = out.forces[..n_owned]
        .par_chunks_mut(CHUNK)
        .zip(energies)
        .zip(virials)
        .enumerate()
        .map(|(c, ((fc, mut ec), mut vc))| {
            let mut s = zero();
            for k in 0..fc.len() {
                let (f, e, w) = per_atom(c * CHUNK + k);
                fc[k] += f;
                if let Some(ec) = ec.as_deref_mut() {
                    ec[k] += e;
                }
                if let Some(vc) = vc.as_deref_mut() {
                    for (v, w) in vc[k].iter_mut().zip(&w) {
                        *v += w;
                    }
                }
                tally(&mut s, e, &w);
            }
            s
        })
        .reduce(zero, merge);
    out.energy.merge(&sums.0);
    for k in 0..6 {
        out.virial[k].merge(&sums.1[k]);
    }
}
