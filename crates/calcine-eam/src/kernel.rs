//! The fast EAM evaluator: a full neighbor list, threads over owned atoms, no ghost forces.
//!
//! Pass 1 sums, for each owned atom i, ρ_i = Σ_j ρ_{α_i α_j}(r_ij) over its full row in row
//! order and evaluates F(ρ_i) and F′(ρ_i) right away: with a full list the density is
//! complete without reverse communication. One `forward` exchange gives ghosts their
//! owners' F′. Pass 2 sums each owned atom's force over its row,
//!
//! f_i = Σ_j −ψ′_ij/r_ij · (x_i − x_j),  ψ′_ij = F′_i ρ′_{α_i α_j}(r) + F′_j ρ′_{α_j α_i}(r) + φ′(r),
//!
//! with LAMMPS's expressions for every term (`PairEAM::compute`), its energy
//! E_i = F(ρ_i) + ½ Σ_j φ_ij and half of each pair's virial r_ij ⊗ f_ij. Each pair is thus
//! evaluated twice, once from each side, in exchange for no write conflicts: every value
//! depends only on the atom's row, which is sorted canonically, so the result has the same
//! bits for any number of threads or ranks.
//!
//! For speed:
//! - tables are packed per species pair and knot, so that one pair reads one 32-byte row
//!   in pass 1 and one 64-byte row in pass 2 (interleaved for two-lane arithmetic);
//! - positions and F′ are packed per atom, so a neighbor is one 32-byte load;
//! - both passes keep the neighbors inside the cutoff without branching (no per-pair
//!   storage between the passes: memory per atom matters at a million atoms);
//! - rows are processed in blocks, distances first and table terms after, which breaks the
//!   long sqrt → lookup → cubic → force dependency chain and lets the processor overlap
//!   many pairs.
//!
//! None of this changes an operation or the order of a sum, so the kernel agrees with the
//! reference evaluator to rounding in the order of summation only.

use crate::table::density_point;
use crate::{EamTables, Scratch};
use calcine_core::{ExactSum, GhostSync, Vec3, Virial};
use calcine_potential::{owned_chunks, ForceInput, ForceOutput, PotentialError, Want};
use rayon::prelude::*;

/// Owned atoms per rayon task.
pub(crate) const CHUNK: usize = 128;

/// c₃ c₄ c₅ c₆ of the density an atom receives from its neighbor.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub(crate) struct DensityRow(pub(crate) [f64; 4]);

/// For the half-list kernel: c₃ c₄ c₅ c₆ of the density an atom receives from its neighbor
/// (lane 0) and of the density the neighbor receives from the atom (lane 1), interleaved.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct DensityPairRow(pub(crate) [f64; 8]);

/// Everything pass 2 reads for one pair at one knot, interleaved for two-lane arithmetic:
/// the derivative coefficients c₀ c₁ c₂ of ρ′ at j from i (lane 0) and of ρ′ at i from j
/// (lane 1), then r·φ's derivative coefficients c₀ c₁ c₂ (lane 0) beside its value
/// coefficients c₃ c₄ c₅ (lane 1), then c₆.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct PairRow(pub(crate) [f64; 16]);

/// The tables of [`EamTables`] rearranged for the kernel, indexed
/// `[(a·n + b)·(nr + 1) + m]` for an atom of species a and a neighbor of species b.
#[derive(Debug, Clone)]
pub(crate) struct PackedTables {
    pub(crate) n_species: usize,
    pub(crate) stride: usize,
    pub(crate) density: Vec<DensityRow>,
    /// Both directions of the density per pair (half-list kernel; empty with one species,
    /// where the two are the same table).
    pub(crate) density_pair: Vec<DensityPairRow>,
    pub(crate) pair: Vec<PairRow>,
}

impl PackedTables {
    pub(crate) fn new(t: &EamTables) -> Self {
        let n = t.n_species();
        let stride = t.nr() + 1;
        let mut density = Vec::with_capacity(n * n * stride);
        let mut density_pair = Vec::new();
        let mut pair = Vec::with_capacity(n * n * stride);
        for a in 0..n {
            for b in 0..n {
                let at_i = t.density_table(a, b);
                let at_j = t.density_table(b, a);
                let r_phi = t.r_phi_table(a, b);
                for m in 0..stride {
                    let (ci, cj, cz) = (at_i.row(m), at_j.row(m), r_phi.row(m));
                    density.push(DensityRow([ci[3], ci[4], ci[5], ci[6]]));
                    if n > 1 {
                        density_pair.push(DensityPairRow([ci[3], cj[3], ci[4], cj[4], ci[5], cj[5], ci[6], cj[6]]));
                    }
                    pair.push(PairRow([
                        cj[0], ci[0], cj[1], ci[1], cj[2], ci[2], cz[0], cz[3], cz[1], cz[4], cz[2], cz[5], cz[6], 0.0,
                        0.0, 0.0,
                    ]));
                }
            }
        }
        Self { n_species: n, stride, density, density_pair, pair }
    }
}

/// Constants the inner loops read.
#[derive(Clone, Copy)]
pub(crate) struct Grid {
    pub(crate) cutoff_sq: f64,
    pub(crate) min_distance_sq: f64,
    pub(crate) rdr: f64,
    /// nr − 1, the last interval a distance may use.
    pub(crate) last: i64,
}

impl Grid {
    pub(crate) fn new(tables: &EamTables) -> Self {
        Grid {
            cutoff_sq: tables.cutoff() * tables.cutoff(),
            min_distance_sq: tables.dr() * tables.dr(),
            rdr: tables.rdr(),
            last: tables.nr() as i64 - 1,
        }
    }
}

impl Grid {
    /// LAMMPS's interval and fraction of distance r: p = r·(1/Δr) + 1, m = min(⌊p⌋, nr − 1),
    /// p ← min(p − m, 1). A NaN distance gives m = 0, the NaN sentinel row.
    #[inline(always)]
    pub(crate) fn point(&self, r: f64) -> (usize, f64) {
        let p = r * self.rdr + 1.0;
        // The bare conversion (a NaN gives i64::MIN, clamped to row 0, the NaN sentinel):
        // four instructions fewer per pair in both passes than `p as i64`.
        let m = calcine_core::truncate_i64(p).clamp(0, self.last);
        (m as usize, (p - m as f64).min(1.0))
    }
}

pub(crate) fn compute(
    eam: &crate::Eam,
    input: &ForceInput<'_>,
    ghosts: &mut dyn GhostSync,
    out: &mut ForceOutput,
    scratch: &mut Scratch,
) -> Result<(), PotentialError> {
    let atoms = input.atoms;
    let list = input.neighbors;
    let tables = &eam.tables;
    let packed = &eam.kernel_tables;
    let n_owned = atoms.n_owned();
    let n_total = atoms.n_total();
    let grid = Grid::new(tables);
    let slot_atoms = list.slot_atoms();
    let site_atom = |s: usize| slot_atoms.map_or(s, |order| order[s] as usize);
    fill_sites(input, packed, scratch);
    // Pass 1: densities, embedding energies and F′ of owned atoms. Which neighbors lie
    // inside the cutoff is also recorded, one bit per row entry (word b of a row covers its
    // entries 64b..64b+63), so that pass 2 skips the skin without storing pairs.
    scratch.fp.resize(n_total, 0.0);
    scratch.embedding.resize(n_owned, 0.0);
    fill_word_starts(list, n_owned, scratch);
    let offsets = std::mem::take(&mut scratch.offsets);
    let ctx = Context {
        packed,
        tables,
        grid,
        sites: &scratch.sites,
        positions: &atoms.positions,
        fp: &[],
        offsets: &offsets,
        list,
        species: &atoms.species,
        word_start: &scratch.word_start,
        inside: &[],
    };
    let pass1 = Pass1 {
        first: 0,
        fp: &mut scratch.fp[..n_owned],
        embedding: &mut scratch.embedding[..],
        inside: &mut scratch.inside[..],
    };
    let first_bad = pass1.run(&ctx);

    // Ghosts get their owners' F′. Entries no owner fills stay NaN and are reported. The
    // exchange happens even after a failure, because other ranks are waiting in it.
    scratch.fp[n_owned..].fill(f64::NAN);
    ghosts.forward(&mut scratch.fp);
    if let Some(i) = first_bad {
        scratch.offsets = offsets;
        return Err(diagnose(eam.name, input, &grid, i));
    }
    for (s, site) in scratch.sites.iter_mut().enumerate() {
        site.0[3] = scratch.fp[site_atom(s)];
    }

    // Pass 2: forces, pair energies and virials of owned atoms.
    let ctx = Context {
        packed,
        tables,
        grid,
        sites: &scratch.sites,
        positions: &atoms.positions,
        fp: &scratch.fp,
        offsets: &offsets,
        list,
        species: &atoms.species,
        word_start: &scratch.word_start,
        inside: &scratch.inside,
    };
    let embedding = &scratch.embedding[..];
    let want = input.want;
    let single = packed.n_species == 1;
    // Per-atom virials need the pair virials, so they are computed whenever either is wanted.
    let virial = want.virial || want.per_atom_virial;
    let chunk = |start: usize,
                 forces: &mut [Vec3],
                 per_atom: Option<&mut [f64]>,
                 atom_virials: Option<&mut [Virial]>| match (single, virial) {
        (true, true) => ctx.forces::<true, true>(start, forces, per_atom, atom_virials, embedding, want),
        (true, false) => ctx.forces::<true, false>(start, forces, per_atom, atom_virials, embedding, want),
        (false, true) => ctx.forces::<false, true>(start, forces, per_atom, atom_virials, embedding, want),
        (false, false) => ctx.forces::<false, false>(start, forces, per_atom, atom_virials, embedding, want),
    };
    let energies = owned_chunks(&mut out.per_atom_energy, want.per_atom_energy, n_owned, CHUNK);
    let virials = owned_chunks(&mut out.per_atom_virial, want.per_atom_virial, n_owned, CHUNK);
    let sums = out.forces[..n_owned]
        .par_chunks_mut(CHUNK)
        .zip(energies)
        .zip(virials)
        .enumerate()
        .map(|(c, ((f_chunk, e_chunk), v_chunk))| chunk(c * CHUNK, f_chunk, e_chunk, v_chunk))
        .reduce(Sums::default, Sums::merge);
    scratch.offsets = offsets;
    if let Some(i) = sums.bad {
        return Err(PotentialError::NonFinite { potential: eam.name.to_string(), what: "force", id: atoms.ids[i].0 });
    }
    out.energy.merge(&sums.energy);
    if want.virial {
        for k in 0..6 {
            out.virial[k].merge(&sums.virial[k]);
        }
    }
    Ok(())
}

/// Fills the per-site data the inner loops gather, packed so that a neighbor costs one
/// load stream: position and (in pass 2) F′ (NaN until then), and the offset of its
/// species' tables (with several species). Rows hold slots of the list's cell order when
/// the list is packed, atom indices otherwise; `slot_atoms` maps the one to the other.
pub(crate) fn fill_sites(input: &ForceInput<'_>, packed: &PackedTables, scratch: &mut Scratch) {
    let atoms = input.atoms;
    let slot_atoms = input.neighbors.slot_atoms();
    let site_atom = |s: usize| slot_atoms.map_or(s, |order| order[s] as usize);
    let n_sites = slot_atoms.map_or(atoms.n_total(), |order| order.len());
    scratch.sites.clear();
    scratch.sites.extend((0..n_sites).map(|s| {
        let x = atoms.positions[site_atom(s)];
        Site([x.x, x.y, x.z, f64::NAN])
    }));
    scratch.offsets.clear();
    if packed.n_species > 1 {
        scratch.offsets.extend((0..n_sites).map(|s| (atoms.species[site_atom(s)].index() * packed.stride) as u32));
    }
}

/// Sizes the inside-the-cutoff bits: owned atom i's are words `word_start[i]..word_start[i + 1]`,
/// one bit per row entry (64 entries a word, so 32-bit offsets reach 2³⁸ entries).
pub(crate) fn fill_word_starts(list: &calcine_neighbor::NeighborList, n_owned: usize, scratch: &mut Scratch) {
    scratch.word_start.clear();
    scratch.word_start.reserve(n_owned + 1);
    scratch.word_start.push(0);
    let mut n_words = 0usize;
    for i in 0..n_owned {
        n_words += list.row_len(i).div_ceil(BLOCK);
        scratch.word_start.push(u32::try_from(n_words).expect("inside bits beyond 2^32 words on one rank"));
    }
    scratch.inside.clear();
    scratch.inside.resize(n_words, 0);
}

/// Pass 1's outputs for owned atoms `first .. first + fp.len()`.
struct Pass1<'a> {
    first: usize,
    fp: &'a mut [f64],
    embedding: &'a mut [f64],
    /// The inside-the-cutoff bits of these atoms' rows.
    inside: &'a mut [u64],
}

impl Pass1<'_> {
    /// Runs pass 1, splitting the atoms in halves over rayon tasks down to `CHUNK` atoms;
    /// returns the first atom whose density could not be evaluated.
    fn run(self, ctx: &Context<'_>) -> Option<usize> {
        let n = self.fp.len();
        if n > CHUNK {
            let mid = n / 2;
            let (fp_a, fp_b) = self.fp.split_at_mut(mid);
            let (e_a, e_b) = self.embedding.split_at_mut(mid);
            let split = ctx.word_start[self.first + mid] as usize - ctx.word_start[self.first] as usize;
            let (in_a, in_b) = self.inside.split_at_mut(split);
            let a = Pass1 { first: self.first, fp: fp_a, embedding: e_a, inside: in_a };
            let b = Pass1 { first: self.first + mid, fp: fp_b, embedding: e_b, inside: in_b };
            let (bad_a, bad_b) = rayon::join(|| a.run(ctx), || b.run(ctx));
            return min_index(bad_a, bad_b);
        }
        let tables = ctx.tables;
        let mut bad = None;
        let mut near = [(0u32, 0.0f64); BLOCK];
        let mut row_buf = Vec::new();
        let base = ctx.word_start[self.first] as usize;
        for k in 0..n {
            let i = self.first + k;
            let bits = &mut self.inside[ctx.word_start[i] as usize - base..ctx.word_start[i + 1] as usize - base];
            let row = ctx.list.row_slots(i, &mut row_buf);
            let (rho, suspect) = if ctx.packed.n_species == 1 {
                ctx.density::<true>(i, row, &mut near, bits)
            } else {
                ctx.density::<false>(i, row, &mut near, bits)
            };
            if suspect || !rho.is_finite() {
                bad.get_or_insert(i);
                continue;
            }
            let (m, p) = density_point(rho, tables.rdrho(), tables.nrho());
            let c = tables.embedding_table(ctx.species[i].index()).row(m);
            let fp = (c[0] * p + c[1]) * p + c[2];
            let mut f = ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
            if rho > tables.rhomax() {
                f += fp * (rho - tables.rhomax());
            }
            self.fp[k] = fp;
            self.embedding[k] = f;
        }
        bad
    }
}

/// Position and F′ of an atom (F′ is NaN during pass 1).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
pub(crate) struct Site(pub(crate) [f64; 4]);

pub(crate) fn min_index(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Names the problem found at owned atom `i` in pass 1: its first neighbor (in row order)
/// at a non-finite or too short distance, or else its non-finite density.
pub(crate) fn diagnose(name: &str, input: &ForceInput<'_>, grid: &Grid, i: usize) -> PotentialError {
    let atoms = input.atoms;
    let xi = atoms.positions[i];
    for j in input.neighbors.neighbors(i) {
        let j = j as usize;
        let xj = atoms.positions[j];
        let (dx, dy, dz) = (xi.x - xj.x, xi.y - xj.y, xi.z - xj.z);
        let rsq = dx * dx + dy * dy + dz * dz;
        if rsq.is_nan() {
            let id = if xi.iter().all(|v| v.is_finite()) { atoms.ids[j].0 } else { atoms.ids[i].0 };
            return PotentialError::NonFinite { potential: name.to_string(), what: "position", id };
        }
        if rsq < grid.cutoff_sq && rsq < grid.min_distance_sq {
            return PotentialError::TooClose {
                potential: name.to_string(),
                id_i: atoms.ids[i].0,
                id_j: atoms.ids[j].0,
                distance: rsq.sqrt(),
                min_distance: grid.min_distance_sq.sqrt(),
            };
        }
    }
    PotentialError::NonFinite { potential: name.to_string(), what: "density", id: atoms.ids[i].0 }
}

/// Partial sums of one chunk of atoms (energy, virial, and the first atom with a bad value).
#[derive(Default)]
pub(crate) struct Sums {
    pub(crate) energy: ExactSum,
    pub(crate) virial: [ExactSum; 6],
    pub(crate) bad: Option<usize>,
}

impl Sums {
    pub(crate) fn merge(mut self, other: Sums) -> Sums {
        self.energy.merge(&other.energy);
        for k in 0..6 {
            self.virial[k].merge(&other.virial[k]);
        }
        self.bad = min_index(self.bad, other.bad);
        self
    }
}

/// What the passes read.
#[derive(Clone, Copy)]
struct Context<'a> {
    packed: &'a PackedTables,
    tables: &'a EamTables,
    grid: Grid,
    /// Position and F′ per site (slot of a packed list, or atom).
    sites: &'a [Site],
    /// Positions and (pass 2) F′ by atom index.
    positions: &'a [Vec3],
    fp: &'a [f64],
    /// Table offset of each site's species; empty with one species.
    offsets: &'a [u32],
    list: &'a calcine_neighbor::NeighborList,
    species: &'a [calcine_core::SpeciesId],
    /// Owned atom i's inside bits are `inside[word_start[i]..word_start[i + 1]]`.
    word_start: &'a [u32],
    /// Pass 2 only: which row entries pass 1 found inside the cutoff.
    inside: &'a [u64],
}

impl Context<'_> {
    /// ρ of owned atom `i`, and whether some neighbor is closer than Δr or at a NaN distance.
    /// Blocked like [`Context::atom`].
    #[inline(always)]
    fn density<const SINGLE: bool>(
        &self,
        i: usize,
        row: &[u32],
        near: &mut [(u32, f64); BLOCK],
        bits: &mut [u64],
    ) -> (f64, bool) {
        let packed = self.packed;
        let g = self.grid;
        let table = if SINGLE { &packed.density[..] } else { &packed.density[self.table_start(i)..] };
        let xi = self.positions[i];
        let mut rho = 0.0;
        let mut suspect = false;
        for (block, word) in row.chunks(BLOCK).zip(bits.iter_mut()) {
            // Keep the entries inside the cutoff without a branch (in a thermal system the
            // test is a coin flip); a NaN distance is kept, flagged below and poisons ρ.
            let mut n = 0;
            let mut w = 0u64;
            for (t, &j) in block.iter().enumerate() {
                let xj = &self.sites[j as usize].0;
                let (dx, dy, dz) = (xi[0] - xj[0], xi[1] - xj[1], xi[2] - xj[2]);
                let rsq = dx * dx + dy * dy + dz * dz;
                near[n] = (j, rsq);
                let keep = rsq < g.cutoff_sq;
                w |= (keep as u64) << t;
                n += (keep | rsq.is_nan()) as usize;
            }
            *word = w;
            for &(j, rsq) in &near[..n] {
                suspect |= rsq.is_nan() | (rsq < g.min_distance_sq);
                let (m, p) = g.point(rsq.sqrt());
                let row = if SINGLE { m } else { self.offsets[j as usize] as usize + m };
                let c = &table[row].0;
                rho += ((c[0] * p + c[1]) * p + c[2]) * p + c[3];
            }
        }
        (rho, suspect)
    }

    /// Start of the tables of owned atom `i`'s species.
    #[inline(always)]
    fn table_start(&self, i: usize) -> usize {
        self.species[i].index() * self.packed.n_species * self.packed.stride
    }

    /// Forces, energies and virials of owned atoms `start .. start + forces.len()`.
    fn forces<const SINGLE: bool, const VIRIAL: bool>(
        &self,
        start: usize,
        forces: &mut [Vec3],
        mut per_atom: Option<&mut [f64]>,
        mut atom_virials: Option<&mut [Virial]>,
        embedding: &[f64],
        want: Want,
    ) -> Sums {
        let mut sums = Sums::default();
        let mut near = [Near::default(); BLOCK];
        let mut row_buf = Vec::new();
        for k in 0..forces.len() {
            let i = start + k;
            let row = self.list.row_slots(i, &mut row_buf);
            let (f, phi_sum, w) = self.atom::<SINGLE, VIRIAL>(i, row, &mut near);
            if !(f[0].is_finite() && f[1].is_finite() && f[2].is_finite()) {
                sums.bad.get_or_insert(i);
            }
            forces[k] += Vec3::new(f[0], f[1], f[2]);
            let e = embedding[i] + 0.5 * phi_sum;
            if let Some(pe) = per_atom.as_deref_mut() {
                pe[k] += e;
            }
            if want.energy {
                sums.energy.add(e);
            }
            if VIRIAL {
                for c in 0..6 {
                    sums.virial[c].add(0.5 * w[c]);
                }
                // The atom's share: half of each of its pairs' virials.
                if let Some(v) = atom_virials.as_deref_mut() {
                    for c in 0..6 {
                        v[k][c] += 0.5 * w[c];
                    }
                }
            }
        }
        sums
    }

    /// Force on owned atom `i`, Σ_j φ_ij, and Σ_j r_ij ⊗ f_ij (when `VIRIAL`).
    ///
    /// The neighbors are processed in blocks: first their separation, table interval and
    /// 1/r are collected, then the table terms are evaluated two lanes at a time. Splitting
    /// the long sqrt → lookup → cubic → force chain this way lets the processor overlap
    /// many pairs. Every lane computes exactly LAMMPS's expression, and the summation order
    /// stays the row order.
    #[inline(always)]
    fn atom<const SINGLE: bool, const VIRIAL: bool>(
        &self,
        i: usize,
        row: &[u32],
        near: &mut [Near; BLOCK],
    ) -> ([f64; 3], f64, [f64; 6]) {
        let packed = self.packed;
        let g = self.grid;
        let table = if SINGLE { &packed.pair[..] } else { &packed.pair[self.table_start(i)..] };
        let (x, fp_i) = (self.positions[i], self.fp[i]);
        let [xi, yi, zi] = [x.x, x.y, x.z];
        let mut f_xy = [0.0f64; 2];
        let mut f_z = 0.0;
        let mut phi_sum = 0.0;
        // Virial sums Σ (d_a d_b)·fpair, paired (xx, yy), (zz, xy), (xz, yz) as in LAMMPS's ev_tally.
        let mut w = [[0.0f64; 2]; 3];
        let bits = &self.inside[self.word_start[i] as usize..self.word_start[i + 1] as usize];
        for (block, &word) in row.chunks(BLOCK).zip(bits) {
            // The entries pass 1 found inside the cutoff, in row order.
            let mut n = 0;
            let mut bits_left = word;
            while bits_left != 0 {
                let t = bits_left.trailing_zeros() as usize;
                bits_left &= bits_left - 1;
                let j = block[t] as usize;
                let sj = &self.sites[j].0;
                let d = [xi - sj[0], yi - sj[1]];
                let dz = zi - sj[2];
                let sq = mul2(d, d);
                let r = (sq[0] + sq[1] + dz * dz).sqrt();
                let (m, p) = g.point(r);
                let row = if SINGLE { m } else { self.offsets[j] as usize + m };
                let q = if VIRIAL { [sq, [dz * dz, d[0] * d[1]], mul2([d[0], d[1]], [dz, dz])] } else { [[0.0; 2]; 3] };
                near[n] = Near { d, dz, p, recip: 1.0 / r, fp: [sj[3], fp_i], row, q };
                n += 1;
            }
            for e in &near[..n] {
                let c = &table[e.row].0;
                let p = e.p;
                let recip = e.recip;
                // Lane 0: rhoip = ρ′ at j from i; lane 1: rhojp = ρ′ at i from j.
                let rho_p = horner2(horner2([c[0], c[1]], p, [c[2], c[3]]), p, [c[4], c[5]]);
                // Lane 0: z2p = (r·φ)′; lane 1: the first two steps of z2 = r·φ.
                let z = horner2(horner2([c[6], c[7]], p, [c[8], c[9]]), p, [c[10], c[11]]);
                let (z2p, z2) = (z[0], z[1] * p + c[12]);
                let phi = z2 * recip;
                let phip = z2p * recip - phi * recip;
                // fp_i·rhojp + fp_j·rhoip, as LAMMPS adds them (the sum of two terms commutes).
                let s = mul2(e.fp, rho_p);
                let psip = s[1] + s[0] + phip;
                let fpair = -psip * recip;
                f_xy = add2(f_xy, mul2(e.d, [fpair, fpair]));
                f_z += e.dz * fpair;
                phi_sum += phi;
                if VIRIAL {
                    for k in 0..3 {
                        w[k] = add2(w[k], mul2(e.q[k], [fpair, fpair]));
                    }
                }
            }
        }
        ([f_xy[0], f_xy[1], f_z], phi_sum, [w[0][0], w[0][1], w[1][0], w[1][1], w[2][0], w[2][1]])
    }
}

#[inline(always)]
pub(crate) fn mul2(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0] * b[0], a[1] * b[1]]
}

#[inline(always)]
pub(crate) fn add2(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0] + b[0], a[1] + b[1]]
}

/// One Horner step in both lanes: a·p + b.
#[inline(always)]
pub(crate) fn horner2(a: [f64; 2], p: f64, b: [f64; 2]) -> [f64; 2] {
    [a[0] * p + b[0], a[1] * p + b[1]]
}

/// Row entries handled per block in pass 2.
pub(crate) const BLOCK: usize = 64;

/// A neighbor inside the cutoff, ready for the table terms.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(16))]
struct Near {
    /// x_i − x_j, y_i − y_j.
    d: [f64; 2],
    /// z_i − z_j.
    dz: f64,
    p: f64,
    recip: f64,
    /// F′ of the neighbor and of the atom.
    fp: [f64; 2],
    row: usize,
    /// Products d_a·d_b for the virial: (xx, yy), (zz, xy), (xz, yz).
    q: [[f64; 2]; 3],
}
