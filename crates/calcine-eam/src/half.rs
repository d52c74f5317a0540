//! The default EAM evaluator: a half neighbor list, each pair evaluated once, its terms
//! added to both atoms in fixed point.
//!
//! The list holds each pair once over all ranks, in the row of the atom with the smaller
//! `AtomId` (`calcine-neighbor`'s half rule), so every pair term is computed from the same
//! two positions on any decomposition and has the same bits. Pass 1 adds, for each pair in
//! the row of owned atom i, ρ_{α_i α_j}(r) to i and ρ_{α_j α_i}(r) to j; pass 2 adds the
//! pair force −ψ′_ij/r_ij · (x_i − x_j) to i and its negative to j,
//!
//! ψ′_ij = F′_i ρ′_{α_i α_j}(r) + F′_j ρ′_{α_j α_i}(r) + φ′(r),
//!
//! with LAMMPS's expressions for every term (`PairEAM::compute`), and the whole pair
//! energy φ_ij and virial r_ij ⊗ f_ij to i. Between the passes ghost densities are
//! reverse-summed and F′ is forwarded; after pass 2 ghost forces are reverse-summed.
//!
//! Order independence: a row is processed by one thread, in its canonical order, so the
//! float sum of atom i's own terms over its row is the same on any decomposition and
//! thread count; it is converted to fixed point (`calcine_core::to_fixed`, quantum 2⁻⁶⁰,
//! truncation) once per atom. The terms scattered to neighbors j (owned or ghost) arrive
//! from many rows, on many threads and ranks, so each is converted to fixed point on its
//! own and added as an integer: every thread scatters into its own array of words (atom
//! order; `calcine_core::CarryWords`, 64 bits per word with the rare carries aside, half
//! the memory of `i128` words and the same integers; the passes add through its
//! `Scatter` view, which has no function call in the loop, so that the accumulators stay
//! in registers), the arrays are added as integers, and ghosts are reverse-summed as
//! integers (`GhostSync::reverse_sum_carry`). Integer addition is associative, so the
//! densities, forces and per-atom energies have the same bits on any rank and thread
//! count; they are rounded to `f64` once, after the reverse sums.
//!
//! The inner loops are those of the full-list kernel (`kernel.rs`): packed tables, sites
//! with position and F′, blocks of row entries with the inside-the-cutoff bits of pass 1
//! reused by pass 2.

use crate::kernel::{
    add2, diagnose, fill_sites, fill_word_starts, horner2, min_index, mul2, Grid, PackedTables, Site, Sums, BLOCK,
    CHUNK,
};
use crate::table::density_point;
use crate::{EamTables, Scratch};
use calcine_core::{from_fixed, CarryWords, GhostSync, Vec3};
use calcine_potential::{ForceInput, ForceOutput, PotentialError};
use rayon::prelude::*;

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
    let want = input.want;
    let slot_atoms = list.slot_atoms();
    let site_atom = |s: usize| slot_atoms.map_or(s, |order| order[s] as usize);
    fill_sites(input, packed, scratch);
    fill_word_starts(list, n_owned, scratch);
    // Owned atoms are split into as many contiguous parts as there are threads (at least
    // CHUNK atoms each); each part scatters into its own fixed-point array.
    let n_parts = rayon::current_num_threads().clamp(1, n_owned.div_ceil(CHUNK).max(1));
    let bounds: Vec<usize> = (0..=n_parts).map(|k| k * n_owned / n_parts).collect();
    if scratch.parts.len() < n_parts {
        scratch.parts.resize_with(n_parts, CarryWords::default);
    }
    let offsets = std::mem::take(&mut scratch.offsets);
    let mut parts = std::mem::take(&mut scratch.parts);

    // Pass 1: densities, and which row entries lie inside the cutoff.
    let first_bad = {
        let ctx = Context {
            packed,
            grid,
            sites: &scratch.sites,
            positions: &atoms.positions,
            fp: &[],
            offsets: &offsets,
            slot_atoms,
            list,
            species: &atoms.species,
            word_start: &scratch.word_start,
            inside: &[],
            n_total,
        };
        let word_bounds: Vec<usize> = bounds.iter().map(|&b| scratch.word_start[b] as usize).collect();
        let inside = split_at_bounds(&mut scratch.inside, &word_bounds);
        parts[..n_parts]
            .par_iter_mut()
            .zip(inside)
            .enumerate()
            .map(|(k, (buf, bits))| {
                let range = bounds[k]..bounds[k + 1];
                if packed.n_species == 1 {
                    ctx.densities::<true>(range, bits, buf)
                } else {
                    ctx.densities::<false>(range, bits, buf)
                }
            })
            .reduce(|| None, min_index)
    };
    let rho = sum_parts(&mut parts[..n_parts]);
    ghosts.reverse_sum_carry(rho, 1);

    // Embedding energies and F′ of owned atoms, from densities rounded once.
    scratch.fp.clear();
    scratch.fp.resize(n_total, f64::NAN);
    scratch.embedding.clear();
    scratch.embedding.resize(n_owned, 0.0);
    if first_bad.is_none() {
        scratch.fp[..n_owned].par_chunks_mut(CHUNK).zip(scratch.embedding.par_chunks_mut(CHUNK)).enumerate().for_each(
            |(c, (fp, embedding))| {
                for k in 0..fp.len() {
                    let i = c * CHUNK + k;
                    (embedding[k], fp[k]) = embed(tables, atoms.species[i].index(), from_fixed(rho.get(i)));
                }
            },
        );
    }
    // Ghosts get their owners' F′; entries no owner fills stay NaN and are reported. The
    // exchange happens even after a failure, because other ranks are waiting in it.
    ghosts.forward(&mut scratch.fp);
    if let Some(i) = first_bad {
        scratch.offsets = offsets;
        scratch.parts = parts;
        return Err(diagnose(eam.name, input, &grid, i));
    }
    for (s, site) in scratch.sites.iter_mut().enumerate() {
        site.0[3] = scratch.fp[site_atom(s)];
    }

    // Pass 2: forces, energies and virials; per-atom pair energies ride along as a fourth
    // fixed-point word when they are wanted, and per-atom virials as six more.
    let layout = Layout::new(want.per_atom_energy, want.per_atom_virial);
    let width = layout.width;
    let sums = {
        let ctx = Context {
            packed,
            grid,
            sites: &scratch.sites,
            positions: &atoms.positions,
            fp: &scratch.fp,
            offsets: &offsets,
            slot_atoms,
            list,
            species: &atoms.species,
            word_start: &scratch.word_start,
            inside: &scratch.inside,
            n_total,
        };
        let embedding = &scratch.embedding[..];
        let single = packed.n_species == 1;
        // Per-atom virials need the pair virials, so they are computed whenever either is.
        let virial = want.virial || want.per_atom_virial;
        type Pass2<'c> = fn(&Context<'c>, std::ops::Range<usize>, &mut CarryWords, &[f64]) -> Sums;
        macro_rules! pick {
            ($($s:literal $v:literal $e:literal $a:literal),*) => {
                match (single, virial, want.per_atom_energy, want.per_atom_virial) {
                    $(($s, $v, $e, $a) => Context::forces::<$s, $v, $e, $a> as Pass2<'_>,)*
                    _ => unreachable!("per-atom virials imply virials"),
                }
            };
        }
        let pass2 = pick!(
            true false false false, true true false false, true true false true,
            true false true false, true true true false, true true true true,
            false false false false, false true false false, false true false true,
            false false true false, false true true false, false true true true
        );
        parts[..n_parts]
            .par_iter_mut()
            .enumerate()
            .map(|(k, buf)| pass2(&ctx, bounds[k]..bounds[k + 1], buf, embedding))
            .reduce(Sums::default, Sums::merge)
    };
    let words = sum_parts(&mut parts[..n_parts]);
    ghosts.reverse_sum_carry(words, width);
    let word = |k: usize| from_fixed(words.get(k));
    for (i, f) in out.forces[..n_owned].iter_mut().enumerate() {
        *f += Vec3::new(word(width * i), word(width * i + 1), word(width * i + 2));
    }
    if want.per_atom_energy {
        for (i, e) in out.per_atom_energy[..n_owned].iter_mut().enumerate() {
            *e += scratch.embedding[i] + word(width * i + 3);
        }
    }
    if want.per_atom_virial {
        let start = layout.virial;
        for (i, v) in out.per_atom_virial[..n_owned].iter_mut().enumerate() {
            for (c, x) in v.iter_mut().enumerate() {
                *x += word(width * i + start + c);
            }
        }
    }
    scratch.offsets = offsets;
    scratch.parts = parts;
    if let Some(i) = sums.bad {
        return Err(PotentialError::NonFinite { potential: eam.name.to_string(), what: "force", id: atoms.ids[i].0 });
    }
    if want.energy {
        out.energy.merge(&sums.energy);
    }
    if want.virial {
        for k in 0..6 {
            out.virial[k].merge(&sums.virial[k]);
        }
    }
    Ok(())
}

/// Where pass 2's words sit for each atom: three force components, then the half pair
/// energies when per-atom energies are wanted, then six virial components (xx yy zz xy xz
/// yz) when per-atom virials are.
#[derive(Debug, Clone, Copy)]
struct Layout {
    width: usize,
    virial: usize,
}

impl Layout {
    const fn new(energy: bool, virial: bool) -> Self {
        let start = 3 + energy as usize;
        Self { width: start + if virial { 6 } else { 0 }, virial: start }
    }
}

/// F(ρ) and F′(ρ) as LAMMPS evaluates them, extended linearly above the table.
#[inline]
fn embed(tables: &EamTables, species: usize, rho: f64) -> (f64, f64) {
    let (m, p) = density_point(rho, tables.rdrho(), tables.nrho());
    let c = tables.embedding_table(species).row(m);
    let fp = (c[0] * p + c[1]) * p + c[2];
    let mut f = ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
    if rho > tables.rhomax() {
        f += fp * (rho - tables.rhomax());
    }
    (f, fp)
}

/// Splits `slice` into the pieces `bounds[k]..bounds[k + 1]` (bounds ascending, from 0).
fn split_at_bounds<'a, T>(mut slice: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut pieces = Vec::with_capacity(bounds.len().saturating_sub(1));
    for w in bounds.windows(2) {
        let (piece, rest) = slice.split_at_mut(w[1] - w[0]);
        pieces.push(piece);
        slice = rest;
    }
    pieces
}

/// Adds the parts' fixed-point words into the first one (in parallel, integer sums) and
/// returns it, settled.
fn sum_parts(parts: &mut [CarryWords]) -> &mut CarryWords {
    let (first, rest) = parts.split_first_mut().expect("at least one part");
    if !rest.is_empty() {
        let carries: Vec<Vec<(usize, i64)>> = first
            .low_words_mut()
            .par_chunks_mut(4096)
            .enumerate()
            .map(|(c, chunk)| {
                let mut carries = Vec::new();
                for other in rest.iter() {
                    let words = &other.low_words()[c * 4096..c * 4096 + chunk.len()];
                    CarryWords::add_low_words(chunk, words, c * 4096, &mut carries);
                }
                carries
            })
            .collect();
        first.extend_carries(carries.into_iter().flatten());
        for other in rest.iter() {
            first.extend_carries(other.high_parts().collect::<Vec<_>>());
        }
    }
    first.settle();
    first
}

/// Pass 1's entries to evaluate in one block of a row: those inside the cutoff, and those
/// at a NaN distance (flagged by the caller; they poison ρ), in row order with their
/// squared distances. Eight entries of slack for whole-register stores.
struct Selected {
    j: [u32; BLOCK + 8],
    rsq: [f64; BLOCK + 8],
}

impl Default for Selected {
    fn default() -> Self {
        Self { j: [0; BLOCK + 8], rsq: [0.0; BLOCK + 8] }
    }
}

impl Selected {
    /// Selects the entries of `block` (at most [`BLOCK`]) to evaluate for an atom at `xi`:
    /// returns the inside-the-cutoff bits (entry t in bit t) and how many were selected.
    /// r² = (dx² + dy²) + dz², as the other passes compute it.
    #[inline(always)]
    fn select(&mut self, block: &[u32], sites: &[Site], xi: [f64; 3], cutoff_sq: f64) -> (u64, usize) {
        let mut n = 0;
        let mut word = 0u64;
        // Entries before `t` are done (four at a time where AVX2 or AVX-512 is there).
        #[cfg_attr(not(all(target_arch = "x86_64", target_feature = "avx2")), allow(unused_mut))]
        let mut t = 0;
        #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
        while t + 4 <= block.len() {
            let four: &[u32; 4] = block[t..t + 4].try_into().expect("four entries");
            let sites = four.map(|j| &sites[j as usize]);
            // SAFETY: the target has AVX2, or AVX-512 F and VL (compile-time features,
            // `lanes` is the module for them); the sites are references, `n + 4 ≤ BLOCK + 8`
            // (n ≤ t < BLOCK).
            #[allow(unsafe_code)]
            let (keep, near) = unsafe { lanes::select4(self, n, four, sites, xi, cutoff_sq) };
            word |= u64::from(keep) << t;
            n += near.count_ones() as usize;
            t += 4;
        }
        for (k, &j) in block.iter().enumerate().skip(t) {
            let xj = &sites[j as usize].0;
            let (dx, dy, dz) = (xi[0] - xj[0], xi[1] - xj[1], xi[2] - xj[2]);
            let rsq = dx * dx + dy * dy + dz * dz;
            self.j[n] = j;
            self.rsq[n] = rsq;
            let keep = rsq < cutoff_sq;
            word |= (keep as u64) << k;
            n += (keep | rsq.is_nan()) as usize;
        }
        (word, n)
    }
}

#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    not(all(target_feature = "avx512f", target_feature = "avx512vl"))
))]
use avx2 as lanes;
#[cfg(all(target_arch = "x86_64", target_feature = "avx512f", target_feature = "avx512vl"))]
use avx512 as lanes;

/// r² from `xi` to four sites, lane by lane with the scalar loop's operations in its order
/// (three differences, three products, two sums left to right): the sites' (x, y, z, F′)
/// rows are transposed into x, y and z registers first.
///
/// # Safety
/// The processor must have AVX2 (both vector paths' targets do).
#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
#[allow(unsafe_code)]
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn rsq4(sites: [&Site; 4], xi: [f64; 3]) -> std::arch::x86_64::__m256d {
    use std::arch::x86_64::*;
    let [a, b, c, d] = sites.map(|s| _mm256_load_pd(s.0.as_ptr()));
    let (ab_lo, ab_hi) = (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
    let (cd_lo, cd_hi) = (_mm256_unpacklo_pd(c, d), _mm256_unpackhi_pd(c, d));
    let x = _mm256_permute2f128_pd::<0x20>(ab_lo, cd_lo);
    let z = _mm256_permute2f128_pd::<0x31>(ab_lo, cd_lo);
    let y = _mm256_permute2f128_pd::<0x20>(ab_hi, cd_hi);
    let dx = _mm256_sub_pd(_mm256_set1_pd(xi[0]), x);
    let dy = _mm256_sub_pd(_mm256_set1_pd(xi[1]), y);
    let dz = _mm256_sub_pd(_mm256_set1_pd(xi[2]), z);
    _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(dx, dx), _mm256_mul_pd(dy, dy)), _mm256_mul_pd(dz, dz))
}

#[cfg(all(target_arch = "x86_64", target_feature = "avx512f", target_feature = "avx512vl"))]
#[allow(unsafe_code)]
mod avx512 {
    use super::{Selected, Site};
    use std::arch::x86_64::*;

    /// [`Selected::select`] for four entries at once: their sites transposed into x, y and z
    /// registers, r² with the scalar operations in their order, and the selected entries
    /// compressed in registers and stored at `n`. Returns the inside bits and the selected
    /// bits (inside, or NaN) of the four.
    ///
    /// # Safety
    /// The processor must have AVX-512 F and VL, and `n + 4 ≤ BLOCK + 8`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl")]
    pub(super) unsafe fn select4(
        near: &mut Selected,
        n: usize,
        j: &[u32; 4],
        sites: [&Site; 4],
        xi: [f64; 3],
        cutoff_sq: f64,
    ) -> (u8, u8) {
        let rsq = super::rsq4(sites, xi);
        let keep = _mm256_cmp_pd_mask::<_CMP_LT_OQ>(rsq, _mm256_set1_pd(cutoff_sq));
        let selected = keep | _mm256_cmp_pd_mask::<_CMP_UNORD_Q>(rsq, rsq);
        let ids = _mm_loadu_si128(j.as_ptr() as *const __m128i);
        _mm256_storeu_pd(near.rsq.as_mut_ptr().add(n), _mm256_maskz_compress_pd(selected, rsq));
        _mm_storeu_si128(near.j.as_mut_ptr().add(n) as *mut __m128i, _mm_maskz_compress_epi32(selected, ids));
        (keep, selected)
    }
}

#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    not(all(target_feature = "avx512f", target_feature = "avx512vl"))
))]
#[allow(unsafe_code)]
mod avx2 {
    use super::{Selected, Site};
    use std::arch::x86_64::*;

    /// For each four-bit mask, the 32-bit element indices that move the set lanes of four
    /// 64-bit lanes to the front, in order (`vpermps` over eight 32-bit elements); the
    /// rest repeat element 0 (the stores' slack).
    const PERMUTE64: [[i32; 8]; 16] = {
        let mut table = [[0i32; 8]; 16];
        let mut mask = 0;
        while mask < 16 {
            let (mut out, mut lane) = (0, 0usize);
            while lane < 4 {
                if (mask >> lane) & 1 == 1 {
                    table[mask][2 * out] = 2 * lane as i32;
                    table[mask][2 * out + 1] = 2 * lane as i32 + 1;
                    out += 1;
                }
                lane += 1;
            }
            mask += 1;
        }
        table
    };

    /// [`Selected::select`] for four entries at once, as `avx512::select4` (the sites
    /// transposed, r² with the scalar operations in their order) with the selected
    /// entries moved to the front by a permutation from a table indexed by the mask.
    ///
    /// # Safety
    /// The processor must have AVX2, and `n + 4 ≤ BLOCK + 8`.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn select4(
        near: &mut Selected,
        n: usize,
        j: &[u32; 4],
        sites: [&Site; 4],
        xi: [f64; 3],
        cutoff_sq: f64,
    ) -> (u8, u8) {
        let rsq = super::rsq4(sites, xi);
        let keep = _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(rsq, _mm256_set1_pd(cutoff_sq))) as usize;
        let selected = keep | _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_UNORD_Q>(rsq, rsq)) as usize;
        let order = _mm256_loadu_si256(PERMUTE64[selected].as_ptr() as *const __m256i);
        let rsq = _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(rsq), order));
        _mm256_storeu_pd(near.rsq.as_mut_ptr().add(n), rsq);
        // The 32-bit entries: the even elements of the same permutation, halved.
        let ids = _mm256_castsi128_si256(_mm_loadu_si128(j.as_ptr() as *const __m128i));
        let ids = _mm256_permutevar8x32_epi32(ids, _mm256_srli_epi32::<1>(order));
        let ids = _mm256_permutevar8x32_epi32(ids, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
        _mm_storeu_si128(near.j.as_mut_ptr().add(n) as *mut __m128i, _mm256_castsi256_si128(ids));
        (keep as u8, selected as u8)
    }
}

/// What the passes read.
#[derive(Clone, Copy)]
struct Context<'a> {
    packed: &'a PackedTables,
    grid: Grid,
    /// Position and F′ per site (slot of a packed list, or atom).
    sites: &'a [crate::kernel::Site],
    /// Positions by atom index.
    positions: &'a [Vec3],
    /// Pass 2: F′ by atom index.
    fp: &'a [f64],
    /// Table offset of each site's species; empty with one species.
    offsets: &'a [u32],
    /// The atom in each slot of a packed list (`None`: rows hold atom indices).
    slot_atoms: Option<&'a [u32]>,
    list: &'a calcine_neighbor::NeighborList,
    species: &'a [calcine_core::SpeciesId],
    /// Owned atom i's inside bits are `inside[word_start[i]..word_start[i + 1]]`.
    word_start: &'a [u32],
    /// Pass 2 only: which row entries pass 1 found inside the cutoff.
    inside: &'a [u64],
    n_total: usize,
}

/// A neighbor inside the cutoff, ready for the table terms of pass 2.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(16))]
struct Near {
    /// x_i − x_j, y_i − y_j.
    d: [f64; 2],
    /// z_i − z_j.
    dz: f64,
    p: f64,
    recip: f64,
    /// F′ of the neighbor.
    fp: f64,
    row: u32,
    /// The neighbor's atom index.
    atom: u32,
}

impl Context<'_> {
    /// The atom index of a row entry.
    #[inline(always)]
    fn atom_of(&self, site: u32) -> usize {
        match self.slot_atoms {
            Some(order) => order[site as usize] as usize,
            None => site as usize,
        }
    }

    /// Start of the tables of owned atom `i`'s species.
    #[inline(always)]
    fn table_start(&self, i: usize) -> usize {
        self.species[i].index() * self.packed.n_species * self.packed.stride
    }

    /// Pass 1 over owned atoms `range`: densities into `buf` (one word per atom, zeroed
    /// here), inside bits into `bits`. Returns the first atom with a neighbor closer than
    /// Δr or at a NaN distance.
    fn densities<const SINGLE: bool>(
        &self,
        range: std::ops::Range<usize>,
        bits: &mut [u64],
        buf: &mut CarryWords,
    ) -> Option<usize> {
        buf.reset(self.n_total);
        let mut buf = buf.scatter();
        let packed = self.packed;
        let g = self.grid;
        let mut near = Selected::default();
        let mut row_buf = Vec::new();
        let base = self.word_start[range.start] as usize;
        let mut bad = None;
        for i in range {
            let words = &mut bits[self.word_start[i] as usize - base..self.word_start[i + 1] as usize - base];
            let row = self.list.row_slots(i, &mut row_buf);
            buf.reserve(row.len() + 1);
            let xi = self.positions[i];
            let start = if SINGLE { 0 } else { self.table_start(i) };
            let mut rho = 0.0;
            let mut suspect = false;
            for (block, word) in row.chunks(BLOCK).zip(words.iter_mut()) {
                let n;
                (*word, n) = near.select(block, self.sites, [xi.x, xi.y, xi.z], g.cutoff_sq);
                for (&j, &rsq) in near.j[..n].iter().zip(&near.rsq[..n]) {
                    suspect |= rsq.is_nan() | (rsq < g.min_distance_sq);
                    let (m, p) = g.point(rsq.sqrt());
                    let to_j = if SINGLE {
                        let c = &packed.density[m].0;
                        let v = ((c[0] * p + c[1]) * p + c[2]) * p + c[3];
                        rho += v;
                        v
                    } else {
                        let c = &packed.density_pair[start + self.offsets[j as usize] as usize + m].0;
                        let v =
                            horner2(horner2(horner2([c[0], c[1]], p, [c[2], c[3]]), p, [c[4], c[5]]), p, [c[6], c[7]]);
                        rho += v[0];
                        v[1]
                    };
                    buf.add(self.atom_of(j), to_j);
                }
            }
            if suspect || !rho.is_finite() {
                bad.get_or_insert(i);
                continue;
            }
            buf.add(i, rho);
        }
        bad
    }

    /// Pass 2 over owned atoms `range`: forces (and, when `ENERGY`, half pair energies;
    /// when `ATOM_VIRIAL`, which needs `VIRIAL`, half pair virials) into `buf` (words laid
    /// out as [`Layout`] says, zeroed here); energies and virials summed.
    fn forces<const SINGLE: bool, const VIRIAL: bool, const ENERGY: bool, const ATOM_VIRIAL: bool>(
        &self,
        range: std::ops::Range<usize>,
        buf: &mut CarryWords,
        embedding: &[f64],
    ) -> Sums {
        const { assert!(VIRIAL || !ATOM_VIRIAL) };
        let Layout { width, virial: vstart } = Layout::new(ENERGY, ATOM_VIRIAL);
        buf.reset(self.n_total * width);
        let mut buf = buf.scatter();
        let packed = self.packed;
        let g = self.grid;
        let mut sums = Sums::default();
        let mut near = [Near::default(); BLOCK];
        // Products d_a·d_b for the virial, (xx, yy), (zz, xy), (xz, yz), beside `near`
        // (only when virials are wanted: most steps do not store them).
        let mut products = [[[0.0f64; 2]; 3]; BLOCK];
        let mut row_buf = Vec::new();
        for i in range {
            let row = self.list.row_slots(i, &mut row_buf);
            buf.reserve(width * (row.len() + 1));
            let table = if SINGLE { &packed.pair[..] } else { &packed.pair[self.table_start(i)..] };
            let (x, fp_i) = (self.positions[i], self.fp[i]);
            let [xi, yi, zi] = [x.x, x.y, x.z];
            let mut f_xy = [0.0f64; 2];
            let mut f_z = 0.0;
            let mut phi_sum = 0.0;
            let mut w = [[0.0f64; 2]; 3];
            let bits = &self.inside[self.word_start[i] as usize..self.word_start[i + 1] as usize];
            for (block, &word) in row.chunks(BLOCK).zip(bits) {
                let mut n = 0;
                let mut bits_left = word;
                while bits_left != 0 {
                    let t = bits_left.trailing_zeros() as usize;
                    bits_left &= bits_left - 1;
                    let j = block[t];
                    let sj = &self.sites[j as usize].0;
                    let d = [xi - sj[0], yi - sj[1]];
                    let dz = zi - sj[2];
                    let sq = mul2(d, d);
                    let r = (sq[0] + sq[1] + dz * dz).sqrt();
                    let (m, p) = g.point(r);
                    let row = if SINGLE { m } else { self.offsets[j as usize] as usize + m };
                    if VIRIAL {
                        products[n] = [sq, [dz * dz, d[0] * d[1]], mul2([d[0], d[1]], [dz, dz])];
                    }
                    near[n] =
                        Near { d, dz, p, recip: 1.0 / r, fp: sj[3], row: row as u32, atom: self.atom_of(j) as u32 };
                    n += 1;
                }
                for (e, q) in near[..n].iter().zip(&products) {
                    let c = &table[e.row as usize].0;
                    let p = e.p;
                    let recip = e.recip;
                    // Lane 0: rhoip = ρ′ at j from i; lane 1: rhojp = ρ′ at i from j.
                    let rho_p = horner2(horner2([c[0], c[1]], p, [c[2], c[3]]), p, [c[4], c[5]]);
                    // Lane 0: z2p = (r·φ)′; lane 1: the first two steps of z2 = r·φ.
                    let z = horner2(horner2([c[6], c[7]], p, [c[8], c[9]]), p, [c[10], c[11]]);
                    let (z2p, z2) = (z[0], z[1] * p + c[12]);
                    let phi = z2 * recip;
                    let phip = z2p * recip - phi * recip;
                    // fp_i·rhojp + fp_j·rhoip, as LAMMPS adds them.
                    let s = mul2([e.fp, fp_i], rho_p);
                    let psip = s[1] + s[0] + phip;
                    let fpair = -psip * recip;
                    let f = mul2(e.d, [fpair, fpair]);
                    let fz = e.dz * fpair;
                    f_xy = add2(f_xy, f);
                    f_z += fz;
                    phi_sum += phi;
                    // The neighbor's share: −f, and half the pair energy.
                    let b = width * e.atom as usize;
                    buf.add(b, -f[0]);
                    buf.add(b + 1, -f[1]);
                    buf.add(b + 2, -fz);
                    if ENERGY {
                        buf.add(b + 3, 0.5 * phi);
                    }
                    if VIRIAL {
                        for k in 0..3 {
                            let v = mul2(q[k], [fpair, fpair]);
                            w[k] = add2(w[k], v);
                            if ATOM_VIRIAL {
                                // The neighbor's half of the pair's virial.
                                buf.add(b + vstart + 2 * k, 0.5 * v[0]);
                                buf.add(b + vstart + 2 * k + 1, 0.5 * v[1]);
                            }
                        }
                    }
                }
            }
            if !(f_xy[0].is_finite() && f_xy[1].is_finite() && f_z.is_finite()) {
                sums.bad.get_or_insert(i);
            }
            let b = width * i;
            buf.add(b, f_xy[0]);
            buf.add(b + 1, f_xy[1]);
            buf.add(b + 2, f_z);
            if ENERGY {
                buf.add(b + 3, 0.5 * phi_sum);
            }
            sums.energy.add(embedding[i] + phi_sum);
            if VIRIAL {
                for (c, v) in [w[0][0], w[0][1], w[1][0], w[1][1], w[2][0], w[2][1]].into_iter().enumerate() {
                    sums.virial[c].add(v);
                    if ATOM_VIRIAL {
                        // The atom's half of its row's pairs.
                        buf.add(b + vstart + c, 0.5 * v);
                    }
                }
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pass 1's selection (four entries at a time where the build has AVX-512) gives the
    /// plain loop's bits, entries and squared distances: blocks of every length up to
    /// [`BLOCK`], distances on both sides of the cutoff, repeated sites, and NaN positions.
    #[test]
    fn selection_equals_the_plain_loop() {
        let mut state = 0x853c_49e6_748f_ea9bu64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut sites: Vec<Site> =
            (0..300).map(|_| Site([6.0 * next(), 6.0 * next(), 6.0 * next(), f64::NAN])).collect();
        sites[17].0[1] = f64::NAN;
        sites[123].0[0] = f64::NAN;
        let cutoff_sq = 2.4 * 2.4;
        let mut selected = Selected::default();
        for len in 0..=BLOCK {
            let block: Vec<u32> = (0..len).map(|_| (next() * 300.0) as u32).collect();
            let xi = [3.0 + next(), 3.0 + next(), 3.0 + next()];
            let (word, n) = selected.select(&block, &sites, xi, cutoff_sq);
            let (mut want_word, mut want) = (0u64, Vec::new());
            for (t, &j) in block.iter().enumerate() {
                let x = &sites[j as usize].0;
                let (dx, dy, dz) = (xi[0] - x[0], xi[1] - x[1], xi[2] - x[2]);
                let rsq = dx * dx + dy * dy + dz * dz;
                if rsq < cutoff_sq {
                    want_word |= 1 << t;
                }
                if rsq < cutoff_sq || rsq.is_nan() {
                    want.push((j, rsq.to_bits()));
                }
            }
            assert_eq!(word, want_word, "block of {len}");
            let got: Vec<(u32, u64)> = (0..n).map(|k| (selected.j[k], selected.rsq[k].to_bits())).collect();
            assert_eq!(got, want, "block of {len}");
        }
    }
}
