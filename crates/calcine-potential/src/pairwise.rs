use crate::{add_outer, AtomVirials, ForceInput, ForceOutput, NeighborKind, Potential, PotentialError, Want};
use calcine_core::{ExactSum, ExactVectors, GhostSync, SpeciesId, Vec3, Virial};
use rayon::prelude::*;
use std::sync::Mutex;

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
/// Three ways to evaluate it ([`PairMode`]); the first two give the same bits on any rank
/// and thread count.
#[derive(Debug)]
pub struct Pairwise<F> {
    law: F,
    mode: PairMode,
    /// Per-thread fixed-point force arrays of [`PairMode::Once`], reused between calls.
    scratch: Mutex<Vec<ExactVectors>>,
}

/// How [`Pairwise`] evaluates its pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairMode {
    /// A full list; each owned atom sums its own row in canonical order, every pair thus
    /// twice (once from each side), threads over atoms, no ghost forces. Cheapest for
    /// cheap laws (LJ).
    Full,
    /// A full list, each pair evaluated once, in the row of the atom with the smaller
    /// `AtomId` (an image of the atom itself: the one above, by z, then y, then x), as a
    /// half list holds it: its force is added to that atom in its row's float sum (the row
    /// order is canonical) and subtracted from the other in fixed point (`ExactVectors`,
    /// integer sums over threads, integer reverse sums over ranks). Half the law
    /// evaluations, for laws dearer than the fixed-point scatter (ZBL's four
    /// exponentials), on the full list a many-body potential beside it needs.
    Once,
    /// A half list, the textbook LAMMPS loop (each pair once, Newton's third law, ghost
    /// forces reverse-summed in float): kept as a reference; its bits depend on the
    /// decomposition.
    Half,
}

impl<F: Clone> Clone for Pairwise<F> {
    fn clone(&self) -> Self {
        Self { law: self.law.clone(), mode: self.mode, scratch: Mutex::default() }
    }
}

/// Owned atoms per rayon task.
const CHUNK: usize = 256;

impl<F: PairFunction> Pairwise<F> {
    pub fn new(law: F) -> Self {
        Self::with_mode(law, PairMode::Full)
    }
    pub fn with_mode(law: F, mode: PairMode) -> Self {
        Self { law, mode, scratch: Mutex::default() }
    }
    /// [`PairMode::Full`] for a full list, [`PairMode::Half`] for a half one.
    pub fn with_list(law: F, kind: NeighborKind) -> Self {
        Self::with_mode(law, if kind == NeighborKind::Full { PairMode::Full } else { PairMode::Half })
    }
    pub fn law(&self) -> &F {
        &self.law
    }

    /// Owned atom i's force, half pair energies and half pair virials over its full row.
    fn row_terms(&self, input: &ForceInput<'_>, i: usize) -> (Vec3, f64, Virial) {
        let atoms = input.atoms;
        let law = &self.law;
        let xi = atoms.positions[i];
        let si = atoms.species[i];
        let mut f = Vec3::zeros();
        let mut e = 0.0;
        let mut w = [0.0; 6];
        for j in input.neighbors.neighbors(i) {
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
    }

    fn compute_full(&self, input: &ForceInput<'_>, out: &mut ForceOutput) {
        accumulate_owned(out, input.atoms.n_owned(), input.want, |i| self.row_terms(input, i));
    }

    /// [`PairMode::Once`]: forces, energy and virial with each pair evaluated once; per-atom
    /// energies and virials, when wanted, from the full rows as [`PairMode::Full`] tallies
    /// them (they do not feed back into forces, whose bits thus never depend on them).
    fn compute_once(
        &self,
        input: &ForceInput<'_>,
        ghosts: &mut dyn GhostSync,
        out: &mut ForceOutput,
    ) -> Result<(), PotentialError> {
        let atoms = input.atoms;
        let (n_owned, n_total) = (atoms.n_owned(), atoms.n_total());
        let law = &self.law;
        // The pair virials are summed only when they are wanted (they are read only then).
        let want_virial = input.want.virial;
        let n_parts = rayon::current_num_threads().clamp(1, n_owned.div_ceil(CHUNK).max(1));
        let mut parts = std::mem::take(&mut *self.scratch.lock().expect("scratch"));
        parts.resize_with(n_parts, ExactVectors::default);
        type Sums = (ExactSum, [ExactSum; 6], Option<usize>);
        let sums: Vec<Sums> = parts
            .par_iter_mut()
            .enumerate()
            .map(|(k, forces)| {
                forces.reset(n_total);
                let mut s: Sums = (ExactSum::new(), [ExactSum::new(); 6], None);
                let mut near: Vec<(usize, Vec3, f64)> = Vec::new();
                let mut row_buf = Vec::new();
                for i in k * n_owned / n_parts..(k + 1) * n_owned / n_parts {
                    let (xi, si, id_i) = (atoms.positions[i], atoms.species[i], atoms.ids[i]);
                    // The row's pairs inside the cutoff that this row holds, kept without
                    // a branch on either test (both are coin tosses to a predictor).
                    let row = input.neighbors.row_atoms(i, &mut row_buf);
                    near.resize(row.len(), (0, Vec3::zeros(), 0.0));
                    let mut n = 0;
                    for &j in row {
                        let j = j as usize;
                        let xj = atoms.positions[j];
                        let d = xj - xi;
                        let rsq = d.norm_squared();
                        let cut = law.cutoff(si, atoms.species[j]);
                        let holds = calcine_neighbor::in_half_row(id_i.0, xi.into(), atoms.ids[j].0, xj.into());
                        near[n] = (j, d, rsq);
                        n += usize::from((rsq < cut * cut) & holds);
                    }
                    let mut f = Vec3::zeros();
                    let mut e = 0.0;
                    let mut w = [0.0; 6];
                    for &(j, d, rsq) in &near[..n] {
                        let r = rsq.sqrt();
                        let (u, du) = law.energy_and_derivative(si, atoms.species[j], r);
                        let fij = d * (du / r);
                        f += fij;
                        e += u;
                        if want_virial {
                            add_outer(&mut w, &(-d), &fij, 1.0);
                        }
                        forces.sub(j, [fij.x, fij.y, fij.z]);
                    }
                    if !(f.x.is_finite() && f.y.is_finite() && f.z.is_finite() && e.is_finite()) {
                        s.2.get_or_insert(i);
                    }
                    forces.add(i, [f.x, f.y, f.z]);
                    s.0.add(e);
                    for c in 0..6 {
                        s.1[c].add(w[c]);
                    }
                }
                s
            })
            .collect();
        let (total, rest) = parts.split_first_mut().expect("at least one part");
        for other in rest.iter() {
            total.merge(other);
        }
        // Every rank joins the reverse sum, also after a failure (the others wait in it).
        ghosts.reverse_sum_exact(total.words_mut(), 3);
        let bad = sums.iter().find_map(|s| s.2);
        if bad.is_none() {
            for (i, f) in out.forces[..n_owned].iter_mut().enumerate() {
                let [x, y, z] = total.value(i);
                *f += Vec3::new(x, y, z);
            }
        }
        *self.scratch.lock().expect("scratch") = parts;
        if let Some(i) = bad {
            return Err(PotentialError::NonFinite {
                potential: self.law.name().to_string(),
                what: "force",
                id: atoms.ids[i].0,
            });
        }
        for (e, w, _) in &sums {
            if input.want.energy {
                out.energy.merge(e);
            }
            if input.want.virial {
                for c in 0..6 {
                    out.virial[c].merge(&w[c]);
                }
            }
        }
        if input.want.per_atom_energy || input.want.per_atom_virial {
            let want = Want { energy: false, virial: false, ..input.want };
            tally_owned(out, n_owned, want, |i| {
                let (_, e, w) = self.row_terms(input, i);
                (e, w)
            });
        }
        Ok(())
    }

    fn compute_half(&self, input: &ForceInput<'_>, ghosts: &mut dyn GhostSync, out: &mut ForceOutput) {
        let atoms = input.atoms;
        let want = input.want;
        let mut virials = AtomVirials::default();
        if want.per_atom_virial {
            virials.reset(atoms.n_total());
        }
        let mut row_buf = Vec::new();
        for i in 0..atoms.n_owned() {
            let xi = atoms.positions[i];
            let si = atoms.species[i];
            for &j in input.neighbors.row_atoms(i, &mut row_buf) {
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
    fn writes_ghost_forces(&self) -> bool {
        self.mode == PairMode::Half
    }
    fn neighbor_kind(&self) -> NeighborKind {
        match self.mode {
            PairMode::Full | PairMode::Once => NeighborKind::Full,
            PairMode::Half => NeighborKind::Half,
        }
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
        match self.mode {
            PairMode::Full => self.compute_full(input, out),
            PairMode::Once => return self.compute_once(input, ghosts, out),
            PairMode::Half => self.compute_half(input, ghosts, out),
        }
        Ok(())
    }
}

/// A per-owned-atom output array in chunks of `chunk` atoms, to zip with the chunks of a
/// parallel loop over owned atoms: `Some(chunk)` each when `on`, else as many `None`.
pub fn owned_chunks<T>(values: &mut [T], on: bool, n_owned: usize, chunk: usize) -> Vec<Option<&mut [T]>> {
    if on {
        values[..n_owned].chunks_mut(chunk).map(Some).collect()
    } else {
        (0..n_owned.div_ceil(chunk)).map(|_| None).collect()
    }
}

/// Runs `per_atom(i) -> (energy, virial)` for every owned atom in parallel and writes them
/// into `out.per_atom_energy` and `out.per_atom_virial` as `want` asks (adding to what is
/// there), touching neither forces nor totals.
fn tally_owned<K>(out: &mut ForceOutput, n_owned: usize, want: Want, per_atom: K)
where
    K: Fn(usize) -> (f64, Virial) + Sync,
{
    let energies = owned_chunks(&mut out.per_atom_energy, want.per_atom_energy, n_owned, CHUNK);
    let virials = owned_chunks(&mut out.per_atom_virial, want.per_atom_virial, n_owned, CHUNK);
    energies.into_par_iter().zip(virials).enumerate().for_each(|(c, (mut ec, mut vc))| {
        for k in 0..CHUNK.min(n_owned - c * CHUNK) {
            let (e, w) = per_atom(c * CHUNK + k);
            if let Some(ec) = ec.as_deref_mut() {
                ec[k] += e;
            }
            if let Some(vc) = vc.as_deref_mut() {
                for (v, w) in vc[k].iter_mut().zip(&w) {
                    *v += w;
                }
            }
        }
    });
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
    let energies = owned_chunks(&mut out.per_atom_energy, want.per_atom_energy, n_owned, CHUNK);
    let virials = owned_chunks(&mut out.per_atom_virial, want.per_atom_virial, n_owned, CHUNK);
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
