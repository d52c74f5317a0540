use crate::bins::Bins;
use crate::filter::{filter, Centre, Span, Values};
use calcine_core::{Atoms, Vec3};
use rayon::prelude::*;

/// A list cannot be built when an atom (owned or ghost) has a NaN or infinite coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("atom at index {atom_idx} has a non-finite position")]
pub struct NonFinitePosition {
    pub atom_idx: usize,
}

/// How a list stores its rows (see [`NeighborList`]); results do not depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListStorage {
    /// Packed when the rank holds at least [`AUTO_PACKED_MIN_ATOMS`] atoms (owned and
    /// ghost), where list memory matters; plain, and a little faster, below.
    #[default]
    Auto,
    /// Packed whenever the atoms fit a dense cell grid.
    Packed,
    /// Always 32-bit atom indices.
    Plain,
}

/// From this many atoms on a rank (owned and ghost), [`ListStorage::Auto`] packs rows.
pub const AUTO_PACKED_MIN_ATOMS: usize = 131_072;

/// Which pairs a list holds: the "neighbor request" of a potential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighborKind {
    /// Each pair once over all ranks, in the row of the atom with the smaller `AtomId`
    /// (a periodic image of the atom itself: if it lies above, by z, then y, then x), so
    /// the same pairs are held, with the same positions, on any decomposition. Ghosts get
    /// forces (LAMMPS `newton on`).
    Half,
    /// Each pair in both atoms' rows.
    Full,
}

/// A Verlet list over owned atoms.
///
/// Rows are stored in one of two forms. The *packed* form, used whenever the atoms fit a
/// dense cell grid, keeps the cell grid of the build (each cell's first slot, and which
/// atom sits in each slot) and stores a row as the count of each stencil run (how many of
/// the run's atoms are neighbors: four bits, two runs to a byte, or a byte each once some
/// run has held more than 15) followed by one byte per neighbor (its slot within its run):
/// about a quarter of the memory of 32-bit indices, which is what lets a million-atom run
/// fit in LAMMPS's memory per atom. The *plain* form (compressed rows of 32-bit atom
/// indices) is the fallback for sparse systems and for runs of more than 255 atoms.
/// Both forms give the same rows in the same (canonical) order.
#[derive(Debug, Clone)]
pub struct NeighborList {
    kind: NeighborKind,
    cutoff: f64,
    skin: f64,
    offsets: Vec<u32>,
    neighbors: Vec<u32>,
    packed: Option<Packed>,
    storage: ListStorage,
    reference_positions: Vec<Vec3>,
    n_builds: u64,
}

/// The packed form of a list (see [`NeighborList`]).
#[derive(Debug, Clone, Default)]
struct Packed {
    /// Row `i` is `bytes[row_start[i]..row_start[i + 1]]`.
    row_start: Vec<u32>,
    bytes: Vec<u8>,
    /// Index of the cell each owned atom was binned into.
    home: Vec<u32>,
    /// Cell `c` holds slots `cell_start[c]..cell_start[c + 1]`.
    cell_start: Vec<u32>,
    /// The atom in each slot: atoms in cell order, within a cell by `AtomId`.
    slot_atom: Vec<u32>,
    /// Cell-index offset of the first cell of each stencil run, relative to the home cell.
    run_offset: Vec<isize>,
    /// A row's counts are a byte per run (set, for this and later builds, once a run has
    /// held more than 15 neighbors); otherwise four bits per run, the even run's in the
    /// low half of a byte.
    byte_counts: bool,
}

impl Packed {
    /// Bytes of a row's counts.
    #[inline]
    fn counts_len(&self) -> usize {
        counts_len(self.run_offset.len(), self.byte_counts)
    }

    /// The count of run `run` in the counts starting at `bytes[at]`.
    #[inline]
    fn count(&self, at: usize, run: usize) -> u8 {
        if self.byte_counts {
            self.bytes[at + run]
        } else {
            self.bytes[at + run / 2] >> (4 * (run % 2)) & 15
        }
    }
}

/// Bytes of a packed row's counts for `n_runs` stencil runs.
#[inline]
fn counts_len(n_runs: usize, byte_counts: bool) -> usize {
    if byte_counts {
        n_runs
    } else {
        n_runs.div_ceil(2)
    }
}

/// The neighbors of one owned atom (atom indices, canonical order); see [`NeighborList::neighbors`].
pub struct Neighbors<'a> {
    inner: RowIter<'a>,
}

enum RowIter<'a> {
    Plain(std::slice::Iter<'a, u32>),
    Packed { p: &'a Packed, home: isize, counts: usize, pos: usize, run: usize, left: u8, base: u32 },
}

impl Iterator for Neighbors<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match &mut self.inner {
            RowIter::Plain(it) => it.next().copied(),
            RowIter::Packed { p, home, counts, pos, run, left, base } => loop {
                if *left > 0 {
                    let slot = *base + p.bytes[*pos] as u32;
                    *pos += 1;
                    *left -= 1;
                    return Some(p.slot_atom[slot as usize]);
                }
                if *run == p.run_offset.len() {
                    return None;
                }
                *left = p.count(*counts, *run);
                if *left > 0 {
                    *base = p.cell_start[(*home + p.run_offset[*run]) as usize];
                }
                *run += 1;
            },
        }
    }
}

/// Rows are built in chunks of this many atoms per rayon task.
const CHUNK: usize = 512;

/// Entries a packed run decodes at once (see [`NeighborList::row_slots`]).
const RUN_SLACK: usize = 16;

impl NeighborList {
    pub fn new(kind: NeighborKind, cutoff: f64, skin: f64) -> Self {
        assert!(cutoff > 0.0 && skin >= 0.0);
        Self {
            kind,
            cutoff,
            skin,
            offsets: vec![0],
            neighbors: Vec::new(),
            packed: None,
            storage: ListStorage::Auto,
            reference_positions: Vec::new(),
            n_builds: 0,
        }
    }

    pub fn kind(&self) -> NeighborKind {
        self.kind
    }
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }
    pub fn skin(&self) -> f64 {
        self.skin
    }
    /// Radius of the list: cutoff plus skin.
    pub fn list_radius(&self) -> f64 {
        self.cutoff + self.skin
    }
    pub fn n_owned(&self) -> usize {
        match &self.packed {
            Some(p) => p.row_start.len() - 1,
            None => self.offsets.len() - 1,
        }
    }
    /// Number of stored (i, j) entries.
    pub fn n_entries(&self) -> usize {
        match &self.packed {
            Some(p) => p.bytes.len() - RUN_SLACK - p.counts_len() * (p.row_start.len() - 1),
            None => self.neighbors.len(),
        }
    }
    pub fn n_builds(&self) -> u64 {
        self.n_builds
    }
    /// How rows are stored from the next build on. Both forms give the same rows, so
    /// results do not change; plain rows cost about 2.5 times the memory and save the
    /// decoding (about a tenth of an EAM step).
    pub fn set_storage(&mut self, storage: ListStorage) {
        self.storage = storage;
    }

    /// Whether the last build stored rows in the packed form (see [`NeighborList`]).
    pub fn is_packed(&self) -> bool {
        self.packed.is_some()
    }

    /// The neighbors of owned atom `atom_idx` (indices into the atom arrays), in canonical order.
    #[inline]
    pub fn neighbors(&self, atom_idx: usize) -> Neighbors<'_> {
        let inner = match &self.packed {
            Some(p) => RowIter::Packed {
                p,
                home: p.home[atom_idx] as isize,
                counts: p.row_start[atom_idx] as usize,
                pos: p.row_start[atom_idx] as usize + p.counts_len(),
                run: 0,
                left: 0,
                base: 0,
            },
            None => RowIter::Plain(
                self.neighbors[self.offsets[atom_idx] as usize..self.offsets[atom_idx + 1] as usize].iter(),
            ),
        };
        Neighbors { inner }
    }

    /// Number of neighbors of owned atom `atom_idx`.
    #[inline]
    pub fn row_len(&self, atom_idx: usize) -> usize {
        match &self.packed {
            Some(p) => (p.row_start[atom_idx + 1] - p.row_start[atom_idx]) as usize - p.counts_len(),
            None => (self.offsets[atom_idx + 1] - self.offsets[atom_idx]) as usize,
        }
    }

    /// For kernels that keep their own per-atom array in slot order: the atom in each slot
    /// of a packed list (`None` for a plain list, whose rows hold atom indices).
    pub fn slot_atoms(&self) -> Option<&[u32]> {
        self.packed.as_ref().map(|p| &p.slot_atom[..])
    }

    /// The row of owned atom `atom_idx` in canonical order: slots (see
    /// [`NeighborList::slot_atoms`]) of a packed list, decoded into `buf`, or the atom
    /// indices of a plain one, in place (no copy).
    ///
    /// A packed row is decoded without a data-dependent branch per stencil run (runs hold a
    /// handful of neighbors, so loop exits would mispredict): every run writes 16 entries
    /// and advances by its count; the byte array and `buf` carry 16 entries of slack. The
    /// counts come first in a row, so that no load waits for the one before it.
    #[inline]
    pub fn row_slots<'b>(&'b self, atom_idx: usize, buf: &'b mut Vec<u32>) -> &'b [u32] {
        match &self.packed {
            Some(p) if p.byte_counts => decode_row::<false>(p, atom_idx, buf),
            Some(p) => decode_row::<true>(p, atom_idx, buf),
            None => &self.neighbors[self.offsets[atom_idx] as usize..self.offsets[atom_idx + 1] as usize],
        }
    }

    /// The row of owned atom `atom_idx` in canonical order as atom indices: a plain row in
    /// place (no copy), a packed one decoded into `buf` and its slots mapped to atoms. For
    /// kernels that walk rows by atom index: a slice, not [`NeighborList::neighbors`]'s
    /// iterator, whose storage form is matched at every entry.
    #[inline]
    pub fn row_atoms<'b>(&'b self, atom_idx: usize, buf: &'b mut Vec<u32>) -> &'b [u32] {
        match &self.packed {
            Some(p) => {
                let n = self.row_slots(atom_idx, buf).len();
                let row = &mut buf[..n];
                for s in row.iter_mut() {
                    *s = p.slot_atom[*s as usize];
                }
                row
            }
            None => self.row_slots(atom_idx, buf),
        }
    }

    /// The positions of the owned atoms at the last build, in their storage order then
    /// (which does not change until the next build): what the rebuild rule measures
    /// displacements from, and what a checkpoint saves to rebuild the same rows.
    pub fn reference_positions(&self) -> &[Vec3] {
        &self.reference_positions
    }

    /// Largest squared displacement of an owned atom since the last build (this rank only).
    pub fn max_displacement_sq(&self, atoms: &Atoms) -> f64 {
        if self.reference_positions.len() != atoms.n_owned() {
            return f64::INFINITY;
        }
        atoms.positions[..atoms.n_owned()]
            .par_iter()
            .zip(&self.reference_positions)
            .map(|(x, x0)| (x - x0).norm_squared())
            .reduce(|| 0.0, f64::max)
    }

    /// True if some owned atom on this rank has moved more than skin/2 since the build.
    /// The engine combines this over ranks with `Communicator::any`.
    pub fn needs_rebuild(&self, atoms: &Atoms) -> bool {
        let half_skin = 0.5 * self.skin;
        self.max_displacement_sq(atoms) > half_skin * half_skin
    }

    /// Rebuilds the list for the current owned and ghost atoms.
    ///
    /// Cells are `radius/2` wide and anchored at the origin of space, the same on every
    /// rank; a row visits the cells of a fixed stencil in a fixed order, and each cell lists
    /// its atoms by `AtomId`. So every row comes out in the same order whichever rank owns
    /// the atom and however atoms are stored, without sorting rows.
    pub fn build(&mut self, atoms: &Atoms) -> Result<(), NonFinitePosition> {
        if let Some(atom_idx) =
            atoms.positions.iter().position(|x| !(x.x.is_finite() && x.y.is_finite() && x.z.is_finite()))
        {
            return Err(NonFinitePosition { atom_idx });
        }
        let radius = self.list_radius();
        let width = 0.5 * radius;
        let stencil = crate::bins::stencil(width, radius);
        let n_owned = atoms.n_owned();
        let runs = stencil_runs(&stencil);
        let reach = (radius / width).ceil() as usize;
        let bins = Bins::build_padded(&atoms.positions, &atoms.ids, width, reach);
        self.reference_positions.clear();
        self.reference_positions.extend_from_slice(&atoms.positions[..n_owned]);
        self.n_builds += 1;
        let try_packed = match self.storage {
            ListStorage::Packed => true,
            ListStorage::Plain => false,
            ListStorage::Auto => atoms.n_total() >= AUTO_PACKED_MIN_ATOMS,
        };
        if let (Some(bins), true) = (&bins, try_packed) {
            let mut packed = self.packed.take().unwrap_or_default();
            loop {
                match build_packed(atoms, bins, &runs, radius, self.kind, &mut packed) {
                    PackedBuild::Done => {
                        self.packed = Some(packed);
                        self.offsets = vec![0];
                        self.neighbors = Vec::new();
                        return Ok(());
                    }
                    PackedBuild::CountsNeedBytes => packed.byte_counts = true,
                    PackedBuild::RunTooCrowded => break,
                }
            }
        }
        self.packed = None;
        self.offsets.clear();
        self.offsets.reserve(n_owned + 1);
        self.offsets.push(0);
        self.neighbors.clear();
        // Candidates come from a dense cell grid, or from a map of cells when the atoms are
        // too spread out for one; the rows are the same either way.
        match &bins {
            Some(bins) => {
                let window = Window::new(radius, width);
                self.append_rows(atoms, radius, &DenseVisit { bins, runs: &runs, window: &window });
            }
            None => {
                let cells = SparseCells::new(atoms, width);
                self.append_rows(atoms, radius, &SparseVisit { cells: &cells, stencil: &stencil, width });
            }
        }
        Ok(())
    }

    /// Appends the plain rows of all owned atoms, built in parallel a block of atoms at a
    /// time, so the transient copy is one block, not a second whole list.
    fn append_rows(&mut self, atoms: &Atoms, radius: f64, visit: &impl Visit) {
        let n_owned = atoms.n_owned();
        let block = (CHUNK * 4 * rayon::current_num_threads()).max(CHUNK);
        let mut acc = 0u32;
        for start in (0..n_owned).step_by(block) {
            let end = (start + block).min(n_owned);
            for (counts, nbrs) in build_rows(atoms, start..end, radius, self.kind, visit) {
                for c in counts {
                    acc = acc.checked_add(c).expect("neighbor list larger than 2^32 entries on one rank");
                    self.offsets.push(acc);
                }
                self.neighbors.extend_from_slice(&nbrs);
            }
        }
    }

    /// Bytes held by the list (for memory reports).
    pub fn memory_bytes(&self) -> usize {
        let packed = self.packed.as_ref().map_or(0, |p| {
            p.row_start.capacity() * 4
                + p.bytes.capacity()
                + p.home.capacity() * 4
                + p.cell_start.capacity() * 4
                + p.slot_atom.capacity() * 4
        });
        self.offsets.capacity() * 4 + self.neighbors.capacity() * 4 + self.reference_positions.capacity() * 24 + packed
    }
}

/// A packed row's slots (see [`NeighborList::row_slots`]); `NIBBLES`: counts in four bits.
#[inline(always)]
fn decode_row<'b, const NIBBLES: bool>(p: &Packed, atom_idx: usize, buf: &'b mut Vec<u32>) -> &'b [u32] {
    let home = p.home[atom_idx] as isize;
    let row_start = p.row_start[atom_idx] as usize;
    let n_runs = p.run_offset.len();
    let counts_len = counts_len(n_runs, !NIBBLES);
    let n = p.row_start[atom_idx + 1] as usize - row_start - counts_len;
    if buf.len() < n + RUN_SLACK {
        buf.resize(n + RUN_SLACK, 0);
    }
    let counts = &p.bytes[row_start..row_start + counts_len];
    // The row's slots and their slack, and as much of `buf`: a run writes at k ≤ n (k is
    // clamped, so that the compiler sees it; the counts sum to n), so neither access
    // needs a check of its own.
    let slots = &p.bytes[row_start + counts_len..row_start + counts_len + n + RUN_SLACK];
    let out = &mut buf[..n + RUN_SLACK];
    let mut k = 0;
    let mut run = |k: &mut usize, offset: isize, count: usize| {
        let at = (*k).min(n);
        let base = p.cell_start[(home + offset) as usize];
        let src: &[u8; RUN_SLACK] = slots[at..at + RUN_SLACK].try_into().expect("slack");
        let dst: &mut [u32; RUN_SLACK] = (&mut out[at..at + RUN_SLACK]).try_into().expect("slack");
        *dst = src.map(|o| base + o as u32);
        // Only byte counts exceed the 16 entries written above.
        if !NIBBLES {
            for t in RUN_SLACK..count {
                out[at + t] = base + slots[at + t] as u32;
            }
        }
        *k = at + count;
    };
    if NIBBLES {
        // Two runs per count byte, the even run in the low half.
        let pairs = p.run_offset.chunks_exact(2);
        let last = pairs.remainder().first().copied();
        for (&c, pair) in counts.iter().zip(pairs) {
            run(&mut k, pair[0], (c & 15) as usize);
            run(&mut k, pair[1], (c >> 4) as usize);
        }
        if let Some(offset) = last {
            run(&mut k, offset, (counts[counts_len - 1] & 15) as usize);
        }
    } else {
        for (&c, &offset) in counts.iter().zip(&p.run_offset) {
            run(&mut k, offset, c as usize);
        }
    }
    &buf[..n]
}

/// A chunk's rows from a packed build: their lengths, their bytes (a byte per count), the
/// largest count.
type ChunkRows = (Vec<u32>, Vec<u8>, u8);

/// How a packed build ended.
enum PackedBuild {
    Done,
    /// A stencil run holds more than 255 atoms: rows must be plain.
    RunTooCrowded,
    /// A run has more than 15 neighbors and the counts were four bits: build again with a
    /// byte per count.
    CountsNeedBytes,
}

/// Builds the packed rows (see [`NeighborList`]) over `bins`, a grid padded by the stencil's
/// reach, with the count width `packed.byte_counts` says. Leaves `packed` unspecified if
/// some stencil run holds more than 255 atoms (a byte cannot address it; the caller then
/// builds plain rows) or some count does not fit four bits (the caller builds again).
fn build_packed(
    atoms: &Atoms,
    bins: &Bins,
    runs: &[Run],
    radius: f64,
    kind: NeighborKind,
    packed: &mut Packed,
) -> PackedBuild {
    let n_owned = atoms.n_owned();
    let ids = &atoms.ids[..];
    let [n0, n1, _] = bins.n.map(|n| n as isize);
    let run_offset: Vec<isize> =
        runs.iter().map(|r| r.dx_lo as isize + n0 * (r.dy as isize + n1 * r.dz as isize)).collect();
    let run_len: Vec<usize> = runs.iter().map(|r| (r.dx_hi - r.dx_lo + 1) as usize).collect();
    let radius_sq = radius * radius;
    let window = Window::new(radius, bins.width);
    let positions = &atoms.positions;
    packed.row_start.clear();
    packed.row_start.reserve(n_owned + 1);
    packed.row_start.push(0);
    packed.bytes.clear();
    packed.home.clear();
    packed.home.extend(positions[..n_owned].iter().map(|x| bins.index(bins.coords_of(x)) as u32));
    let home = &packed.home;
    let start = &bins.start;
    let block = (CHUNK * 4 * rayon::current_num_threads()).max(CHUNK);
    let mut acc = 0u32;
    for first in (0..n_owned).step_by(block) {
        let end = (first + block).min(n_owned);
        let chunks: Vec<Option<ChunkRows>> = (first..end)
            .into_par_iter()
            .step_by(CHUNK)
            .map(|chunk_start| {
                let chunk_end = (chunk_start + CHUNK).min(end);
                let mut lens = Vec::with_capacity(chunk_end - chunk_start);
                let mut out: Vec<u8> = Vec::with_capacity((chunk_end - chunk_start) * (run_len.len() + 96));
                let mut most = 0u8;
                for i in chunk_start..chunk_end {
                    let before = out.len();
                    let xi = positions[i];
                    let window = window.at(&bins.fraction_in_cell(&xi));
                    let centre = Centre { x: [xi.x, xi.y, xi.z], id: ids[i].0, atom: i as u32 };
                    let h = home[i] as isize;
                    // The run counts first, then the slots of all runs.
                    out.resize(before + run_offset.len(), 0);
                    for (r, ((&offset, &len), run)) in run_offset.iter().zip(&run_len).zip(runs).enumerate() {
                        let c = (h + offset) as usize;
                        let lo = start[c] as usize;
                        if start[c + len] as usize - lo > 255 {
                            return None;
                        }
                        // Slots are stored relative to the run's first cell; only the cells
                        // of the window are searched.
                        let Some((dx_lo, dx_hi)) = window.cells(run) else { continue };
                        let (from, to) = ((dx_lo - run.dx_lo) as usize, (dx_hi - run.dx_lo) as usize);
                        let (scan_lo, hi) = (start[c + from] as usize, start[c + to + 1] as usize);
                        let values = Values::Positions((scan_lo - lo) as u32);
                        let first = out.len();
                        filter(bins.span(scan_lo, hi), &centre, radius_sq, kind, values, &mut out);
                        let count = (out.len() - first) as u8;
                        out[before + r] = count;
                        most = most.max(count);
                    }
                    lens.push((out.len() - before) as u32);
                }
                Some((lens, out, most))
            })
            .collect();
        for chunk in chunks {
            let Some((lens, bytes, most)) = chunk else { return PackedBuild::RunTooCrowded };
            if !packed.byte_counts && most > 15 {
                return PackedBuild::CountsNeedBytes;
            }
            // The chunk's rows have a byte per count; with four-bit counts each row's
            // counts are folded in pairs on the way in.
            let n_runs = run_offset.len();
            let fold = n_runs - counts_len(n_runs, packed.byte_counts);
            let mut at = 0;
            for len in lens {
                let row = &bytes[at..at + len as usize];
                at += len as usize;
                if packed.byte_counts {
                    packed.bytes.extend_from_slice(row);
                } else {
                    let (counts, slots) = row.split_at(n_runs);
                    packed.bytes.extend(counts.chunks(2).map(|c| c[0] | c.get(1).map_or(0, |h| h << 4)));
                    packed.bytes.extend_from_slice(slots);
                }
                acc = acc.checked_add(len - fold as u32).expect("neighbor list larger than 2^32 bytes on one rank");
                packed.row_start.push(acc);
            }
        }
    }
    packed.bytes.extend_from_slice(&[0; RUN_SLACK]);
    // The rows grew by doubling; what is left past them was never touched (not resident),
    // but the memory report counts capacity. Large blocks shrink in place (mremap).
    packed.bytes.shrink_to_fit();
    packed.cell_start.clear();
    packed.cell_start.extend_from_slice(&bins.start);
    packed.slot_atom.clear();
    packed.slot_atom.extend_from_slice(&bins.atoms);
    packed.run_offset = run_offset;
    PackedBuild::Done
}

/// Cells in a hash map, for points so spread out that a dense grid would not fit.
struct SparseCells {
    cells: std::collections::HashMap<[i64; 3], SparseCell>,
}

/// The atoms of one sparse cell in canonical order, as structure of arrays.
#[derive(Default)]
struct SparseCell {
    atoms: Vec<u32>,
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    ids: Vec<u64>,
}

impl SparseCell {
    fn span(&self) -> Span<'_> {
        Span { atoms: &self.atoms, x: &self.x, y: &self.y, z: &self.z, ids: &self.ids }
    }
}

impl SparseCells {
    fn new(atoms: &Atoms, width: f64) -> Self {
        let mut cells: std::collections::HashMap<[i64; 3], SparseCell> = Default::default();
        for (i, x) in atoms.positions.iter().enumerate() {
            cells.entry(global_cell(x, width)).or_default().atoms.push(i as u32);
        }
        for cell in cells.values_mut() {
            cell.atoms.sort_unstable_by(|&p, &q| {
                crate::bins::canonical_cmp(&atoms.ids, &atoms.positions, p as usize, q as usize)
            });
            let at = |i: &u32| atoms.positions[*i as usize];
            cell.x = cell.atoms.iter().map(|i| at(i).x).collect();
            cell.y = cell.atoms.iter().map(|i| at(i).y).collect();
            cell.z = cell.atoms.iter().map(|i| at(i).z).collect();
            cell.ids = cell.atoms.iter().map(|&i| atoms.ids[i as usize].0).collect();
        }
        Self { cells }
    }
}

#[inline]
fn global_cell(x: &Vec3, width: f64) -> [i64; 3] {
    let inv = 1.0 / width;
    std::array::from_fn(|a| (x[a] * inv).floor() as i64)
}

/// One x-run of the stencil: cells (dx_lo..=dx_hi, dy, dz), contiguous in a dense grid.
#[derive(Debug, Clone, Copy)]
struct Run {
    dz: i64,
    dy: i64,
    dx_lo: i64,
    dx_hi: i64,
}

/// The cells of a stencil run that can hold a point within the list radius of a given
/// point, from where that point sits in its home cell.
///
/// The stencil holds every cell within the radius of *some* point of the home cell; for
/// one point, cells near the stencil's corners and edges are often farther than the
/// radius. A run at offsets (dy, dz) lies at least the point's gaps g_y, g_z (in cell
/// widths) from it across y and z, so it can hold a point within the radius R only if
/// g_y² + g_z² < R², and then only in the cells whose gap g_x along x has
/// g_x² < R² − g_y² − g_z². Cells outside hold no point within the radius, so leaving
/// them out changes no row, only the number of candidates measured: about a third fewer
/// for cells half the radius wide. Gaps are shrunk and reaches widened by a margin far
/// above the rounding of x/width, so no cell that could hold a neighbor is left out.
struct Window {
    /// R in cell widths, widened by the margin, squared.
    reach_sq: f64,
    /// The stencil's reach in cells; `None` beyond [`WINDOW_MAX_REACH`] (no trimming).
    reach: Option<usize>,
}

/// Margin of the window's geometry, in cell widths.
const WINDOW_MARGIN: f64 = 1e-6;
/// The largest stencil reach the window trims (the list's cells, half the radius wide,
/// have reach 2).
const WINDOW_MAX_REACH: usize = 3;

/// Squared gaps, in cell widths, from one point to the cells at offsets −3..=3 along each
/// axis (index offset + 3).
struct PointWindow {
    gaps_sq: [[f64; 2 * WINDOW_MAX_REACH + 1]; 3],
    reach_sq: f64,
    reach: Option<usize>,
}

impl Window {
    fn new(radius: f64, width: f64) -> Self {
        let cells = radius / width;
        let reach = cells + WINDOW_MARGIN;
        let stencil_reach = cells.ceil() as usize;
        Self { reach_sq: reach * reach, reach: (stencil_reach <= WINDOW_MAX_REACH).then_some(stencil_reach) }
    }

    /// The window of the point at fraction `f` of its home cell ([`Bins::fraction_in_cell`]).
    #[inline]
    fn at(&self, f: &[f64; 3]) -> PointWindow {
        const K: i64 = WINDOW_MAX_REACH as i64;
        PointWindow {
            gaps_sq: std::array::from_fn(|a| {
                std::array::from_fn(|t| {
                    let g = gap(t as i64 - K, f[a]);
                    g * g
                })
            }),
            reach_sq: self.reach_sq,
            reach: self.reach,
        }
    }
}

impl PointWindow {
    /// The x offsets (within `run.dx_lo..=run.dx_hi`) of the run's cells that can hold a
    /// point within the radius; `None` when none can. Gaps grow with |offset|, so the
    /// window's ends are counts of comparisons, without branches.
    #[inline(always)]
    fn cells(&self, run: &Run) -> Option<(i64, i64)> {
        let Some(reach) = self.reach else { return Some((run.dx_lo, run.dx_hi)) };
        const K: i64 = WINDOW_MAX_REACH as i64;
        let rest = self.reach_sq - (self.gaps_sq[1][(run.dy + K) as usize] + self.gaps_sq[2][(run.dz + K) as usize]);
        if rest <= 0.0 {
            return None;
        }
        let x = &self.gaps_sq[0];
        let (mut lo, mut hi) = (0i64, 0i64);
        for k in 1..=reach {
            lo -= i64::from(x[WINDOW_MAX_REACH - k] < rest);
            hi += i64::from(x[WINDOW_MAX_REACH + k] < rest);
        }
        let (lo, hi) = (lo.max(run.dx_lo), hi.min(run.dx_hi));
        (lo <= hi).then_some((lo, hi))
    }
}

/// The least distance, in cell widths and less the window margin, between a point at
/// fraction `f` of its cell and the cells `d` away along one axis.
#[inline]
fn gap(d: i64, f: f64) -> f64 {
    let g = if d > 0 {
        d as f64 - f
    } else if d < 0 {
        f - (d + 1) as f64
    } else {
        0.0
    };
    (g - WINDOW_MARGIN).max(0.0)
}

/// The stencil (in z, y, x order) as runs of consecutive x offsets.
fn stencil_runs(stencil: &[[i64; 3]]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for d in stencil {
        match runs.last_mut() {
            Some(r) if r.dz == d[2] && r.dy == d[1] && r.dx_hi + 1 == d[0] => r.dx_hi = d[0],
            _ => runs.push(Run { dz: d[2], dy: d[1], dx_lo: d[0], dx_hi: d[0] }),
        }
    }
    runs
}

/// The candidate spans around a point: `visit` calls `push(span)` for each, in canonical
/// order. A trait rather than a closure so that each kind of build is compiled with its
/// visits and the filter inlined (two indirect calls per span cost about 7 % of a plain
/// build).
trait Visit: Sync {
    fn visit(&self, xi: &Vec3, push: impl FnMut(Span<'_>));
}

/// Spans of a dense cell grid: the stencil's runs, trimmed to the point's window.
struct DenseVisit<'a> {
    bins: &'a Bins,
    runs: &'a [Run],
    window: &'a Window,
}

impl Visit for DenseVisit<'_> {
    #[inline(always)]
    fn visit(&self, xi: &Vec3, mut push: impl FnMut(Span<'_>)) {
        let bins = self.bins;
        let [n0, n1, n2] = bins.n.map(|n| n as i64);
        let c = bins.coords_of(xi).map(|v| v as i64);
        let window = self.window.at(&bins.fraction_in_cell(xi));
        for r in self.runs {
            let (y, z) = (c[1] + r.dy, c[2] + r.dz);
            if y < 0 || y >= n1 || z < 0 || z >= n2 {
                continue;
            }
            let Some((dx_lo, dx_hi)) = window.cells(r) else { continue };
            // Cells beyond the grid are empty: clamp the run to it.
            let x_lo = (c[0] + dx_lo).max(0);
            let x_hi = (c[0] + dx_hi).min(n0 - 1);
            if x_lo > x_hi {
                continue;
            }
            let first = bins.index([x_lo as usize, y as usize, z as usize]);
            let last = first + (x_hi - x_lo) as usize;
            let (s, e) = (bins.start[first] as usize, bins.start[last + 1] as usize);
            push(bins.span(s, e));
        }
    }
}

/// Spans of a map of cells, for atoms too spread out for a dense grid: one per stencil cell.
struct SparseVisit<'a> {
    cells: &'a SparseCells,
    stencil: &'a [[i64; 3]],
    width: f64,
}

impl Visit for SparseVisit<'_> {
    fn visit(&self, xi: &Vec3, mut push: impl FnMut(Span<'_>)) {
        let c = global_cell(xi, self.width);
        for d in self.stencil {
            if let Some(cell) = self.cells.cells.get(&[c[0] + d[0], c[1] + d[1], c[2] + d[2]]) {
                push(cell.span());
            }
        }
    }
}

/// Rows of the owned atoms `range`, in chunks of (row lengths, neighbors).
fn build_rows(
    atoms: &Atoms,
    range: std::ops::Range<usize>,
    radius: f64,
    kind: NeighborKind,
    visit: &impl Visit,
) -> Vec<(Vec<u32>, Vec<u32>)> {
    let radius_sq = radius * radius;
    let ids = &atoms.ids[..];
    let positions = &atoms.positions;
    let range_end = range.end;
    range
        .into_par_iter()
        .step_by(CHUNK)
        .map(|start| {
            let end = (start + CHUNK).min(range_end);
            let mut counts = Vec::with_capacity(end - start);
            let mut out = Vec::with_capacity((end - start) * 64);
            for i in start..end {
                let before = out.len();
                let xi = positions[i];
                let centre = Centre { x: [xi.x, xi.y, xi.z], id: ids[i].0, atom: i as u32 };
                visit.visit(&xi, |span: Span<'_>| filter(span, &centre, radius_sq, kind, Values::Atoms, &mut out));
                counts.push((out.len() - before) as u32);
            }
            (counts, out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calcine_core::{AtomId, SpeciesId};

    fn random_atoms(n: usize, l: f64, seed: u64) -> Atoms {
        let mut atoms = Atoms::new();
        for k in 0..n {
            let u = calcine_core::rng::uniform4(seed, calcine_core::rng::Stream::Test, k as u64, 0);
            atoms.push_owned(
                AtomId(k as u64 + 1),
                SpeciesId(0),
                Vec3::new(u[0] * l, u[1] * l, u[2] * l),
                Vec3::zeros(),
                [0; 3],
            );
        }
        atoms
    }

    #[test]
    fn full_list_matches_brute_force() {
        let atoms = random_atoms(500, 12.0, 1);
        let mut list = NeighborList::new(NeighborKind::Full, 2.5, 0.5);
        list.build(&atoms).unwrap();
        for i in 0..atoms.n_owned() {
            let brute: Vec<u32> = (0..atoms.n_owned())
                .filter(|&j| j != i && (atoms.positions[j] - atoms.positions[i]).norm() < 3.0)
                .map(|j| j as u32)
                .collect();
            let mut got: Vec<u32> = list.neighbors(i).collect();
            got.sort_unstable();
            assert_eq!(got, brute);
        }
    }

    /// Pairs a hair inside the list radius, with the partner a hair inside the corner of its
    /// cell nearest the atom, in every direction, stay in the rows (plain and packed, full
    /// and half): the per-point window (`Window`) never leaves out a cell that holds a
    /// neighbor, even one whose gap to the atom is the radius less 1e-13 of it.
    #[test]
    fn window_keeps_pairs_just_inside_the_radius() {
        let (cutoff, skin) = (2.5, 0.5);
        let radius = cutoff + skin;
        let width = radius / 2.0;
        let mut tested = 0;
        for k in 0..3000u64 {
            let u = calcine_core::rng::uniform4(7, calcine_core::rng::Stream::Test, k, 0);
            // A direction with components ≥ 0: a third of the draws along a cell axis, face
            // or body diagonal, the others anywhere; then a sign per axis.
            let mut d = if k % 3 == 0 {
                let c = |t: u64| [0.0, 1.0][(k / 3 / t % 2) as usize];
                Vec3::new(c(1), c(2), c(4))
            } else {
                Vec3::new(u[0], u[1], u[2])
            };
            if d.norm() == 0.0 {
                continue;
            }
            d *= radius * (1.0 - 1e-13) / d.norm();
            // The partner sits a hair inside the corner of its cell that faces the atom:
            // the lower corner when the atom is below along an axis, the upper one above.
            let cell = [5.0 + (u[3] * 8.0).floor(), -3.0, 11.0];
            let mut x1 = Vec3::zeros();
            for a in 0..3 {
                let below = (k >> (a + 4)) & 1 == 0;
                let (corner, inward) = if below { (cell[a], 1e-12) } else { (cell[a] + 1.0, -1e-12) };
                x1[a] = (corner + inward) * width;
                if !below {
                    d[a] = -d[a];
                }
            }
            let x0 = x1 - d;
            let dx = x1 - x0;
            if !(dx.x * dx.x + dx.y * dx.y + dx.z * dx.z < radius * radius) {
                continue;
            }
            tested += 1;
            let mut atoms = Atoms::new();
            for (id, x) in [(1, x0), (2, x1)] {
                atoms.push_owned(AtomId(id), SpeciesId(0), x, Vec3::zeros(), [0; 3]);
            }
            for kind in [NeighborKind::Full, NeighborKind::Half] {
                for storage in [ListStorage::Plain, ListStorage::Packed] {
                    let mut list = NeighborList::new(kind, cutoff, skin);
                    list.set_storage(storage);
                    list.build(&atoms).unwrap();
                    assert_eq!(list.neighbors(0).collect::<Vec<_>>(), vec![1], "draw {k}, {kind:?}, {storage:?}");
                }
            }
        }
        assert!(tested > 2000, "only {tested} draws tested");
    }

    /// The order of every row, as a sequence of neighbor ids, does not depend on how the
    /// atoms are stored, nor on atoms outside the list radius (other ranks' ghost sets).
    #[test]
    fn row_order_is_canonical() {
        let atoms = random_atoms(400, 10.0, 4);
        let rows = |atoms: &Atoms| {
            let mut list = NeighborList::new(NeighborKind::Full, 2.0, 0.5);
            list.build(atoms).unwrap();
            let mut by_id = std::collections::BTreeMap::new();
            for i in 0..atoms.n_owned() {
                let ids: Vec<u64> = list.neighbors(i).map(|j| atoms.ids[j as usize].0).collect();
                by_id.insert(atoms.ids[i].0, ids);
            }
            by_id
        };
        let reference = rows(&atoms);
        let mut reversed = Atoms::new();
        for i in (0..atoms.n_owned()).rev() {
            reversed.push_owned(
                atoms.ids[i],
                atoms.species[i],
                atoms.positions[i],
                atoms.velocities[i],
                atoms.images[i],
            );
        }
        assert_eq!(rows(&reversed), reference);
        // Only the atoms in the inner region as owned, everything else as ghosts.
        let mut inner = Atoms::new();
        let inside = |x: &Vec3| (0..3).all(|a| x[a] > 3.0 && x[a] < 7.0);
        for i in (0..atoms.n_owned()).filter(|&i| inside(&atoms.positions[i])) {
            inner.push_owned(atoms.ids[i], atoms.species[i], atoms.positions[i], atoms.velocities[i], atoms.images[i]);
        }
        for i in (0..atoms.n_owned()).rev().filter(|&i| !inside(&atoms.positions[i])) {
            inner.push_ghost(atoms.ids[i], atoms.species[i], atoms.positions[i]);
        }
        let part = rows(&inner);
        assert!(!part.is_empty());
        for (id, row) in &part {
            assert_eq!(row, &reference[id], "row of atom {id}");
        }
    }

    /// Atoms too spread out for a dense grid (two clusters far apart) are found through the
    /// map of cells; each cluster's rows, full and half, are those of the cluster alone,
    /// which a dense grid holds, in the same order.
    #[test]
    fn sparse_cells_give_the_dense_rows() {
        let near = random_atoms(1500, 9.0, 5);
        let mut spread = near.clone();
        let far = Vec3::new(4000.0, -3000.0, 2500.0);
        for i in 0..near.n_owned() {
            let id = calcine_core::AtomId(near.ids[i].0 + 10_000);
            spread.push_owned(id, near.species[i], near.positions[i] + far, Vec3::zeros(), [0; 3]);
        }
        for kind in [NeighborKind::Full, NeighborKind::Half] {
            let mut dense = NeighborList::new(kind, 2.0, 0.5);
            dense.build(&near).unwrap();
            assert!(Bins::build_padded(&near.positions, &near.ids, 1.25, 2).is_some(), "not dense");
            let mut sparse = NeighborList::new(kind, 2.0, 0.5);
            sparse.build(&spread).unwrap();
            assert!(Bins::build_padded(&spread.positions, &spread.ids, 1.25, 2).is_none(), "not sparse");
            let n = near.n_owned() as u32;
            let mut entries = 0;
            for i in 0..near.n_owned() {
                let want: Vec<u32> = dense.neighbors(i).collect();
                entries += want.len();
                assert_eq!(sparse.neighbors(i).collect::<Vec<_>>(), want, "{kind:?} row {i}");
                let shifted: Vec<u32> = want.iter().map(|j| j + n).collect();
                assert_eq!(
                    sparse.neighbors(i + n as usize).collect::<Vec<_>>(),
                    shifted,
                    "{kind:?} row {}",
                    i + n as usize
                );
            }
            assert!(entries > 1000, "{kind:?}: {entries} entries");
        }
    }

    #[test]
    fn half_list_holds_each_pair_once() {
        let atoms = random_atoms(400, 10.0, 2);
        let mut full = NeighborList::new(NeighborKind::Full, 2.0, 0.3);
        let mut half = NeighborList::new(NeighborKind::Half, 2.0, 0.3);
        full.build(&atoms).unwrap();
        half.build(&atoms).unwrap();
        assert_eq!(full.n_entries(), 2 * half.n_entries());
        for i in 0..atoms.n_owned() {
            for j in half.neighbors(i) {
                assert!(full.neighbors(i).any(|k| k == j));
                assert!(!half.neighbors(j as usize).any(|k| k == i as u32));
            }
        }
    }

    /// A periodic cube of side `l`: `atoms` as owned where `owned(x)`, and as ghosts every
    /// other image (shifts of −2 to 2 box lengths) within `reach` of the owned region
    /// `lo..hi` in x. Returns the rows by owner id, as (neighbor id, neighbor position bits).
    fn half_rows_of_slab(atoms: &Atoms, l: f64, lo: f64, hi: f64, reach: f64) -> HalfRows {
        let mut part = Atoms::new();
        let owned = |x: &Vec3| x.x >= lo && x.x < hi;
        for i in 0..atoms.n_owned() {
            if owned(&atoms.positions[i]) {
                part.push_owned(atoms.ids[i], atoms.species[i], atoms.positions[i], Vec3::zeros(), [0; 3]);
            }
        }
        for i in (0..atoms.n_owned()).rev() {
            for n in 0..125 {
                let s = [n % 5, n / 5 % 5, n / 25].map(|k| k as f64 - 2.0);
                let x = atoms.positions[i] + Vec3::new(s[0] * l, s[1] * l, s[2] * l);
                let image = s != [0.0; 3];
                if (image || !owned(&x)) && x.x >= lo - reach && x.x < hi + reach {
                    part.push_ghost(atoms.ids[i], atoms.species[i], x);
                }
            }
        }
        let mut list = NeighborList::new(NeighborKind::Half, 2.0, 0.4);
        list.build(&part).unwrap();
        let mut rows = HalfRows::new();
        for i in 0..part.n_owned() {
            let row = list
                .neighbors(i)
                .map(|j| {
                    let x = part.positions[j as usize];
                    (part.ids[j as usize].0, [x.x.to_bits(), x.y.to_bits(), x.z.to_bits()])
                })
                .collect();
            rows.insert(part.ids[i].0, row);
        }
        rows
    }

    type HalfRows = std::collections::BTreeMap<u64, Vec<(u64, [u64; 3])>>;

    /// The same pairs, each held once, from the same positions, in the same row order,
    /// whether the periodic box is one rank or split into slabs (simulated ranks).
    #[test]
    fn half_list_does_not_depend_on_the_decomposition() {
        // A box thinner than the list radius too, where atoms neighbor their own images.
        for (n, l) in [(6, 2.2), (300, 7.0)] {
            check_half_list_decomposition(n, l);
        }
    }

    fn check_half_list_decomposition(n: usize, l: f64) {
        let atoms = random_atoms(n, l, 8);
        let whole = half_rows_of_slab(&atoms, l, 0.0, l, 2.4);
        let self_images = whole.iter().any(|(a, row)| row.iter().any(|(b, _)| a == b));
        assert_eq!(self_images, l < 2.4, "images of one atom");
        for ranks in [2, 3, 5] {
            let mut split = HalfRows::new();
            for r in 0..ranks {
                let (lo, hi) = (r as f64 * l / ranks as f64, (r + 1) as f64 * l / ranks as f64);
                split.extend(half_rows_of_slab(&atoms, l, lo, hi, 2.4));
            }
            assert_eq!(whole, split, "{ranks} slabs");
        }
        // Every unordered pair of ids appears as often as it has images within reach: the
        // count of (i, j) with i < j equals the full list's count over both rows.
        let mut full = NeighborList::new(NeighborKind::Full, 2.0, 0.4);
        let mut periodic = Atoms::new();
        for i in 0..atoms.n_owned() {
            periodic.push_owned(atoms.ids[i], atoms.species[i], atoms.positions[i], Vec3::zeros(), [0; 3]);
        }
        for i in 0..atoms.n_owned() {
            for n in (0..125).filter(|&n| n != 62) {
                let s = [n % 5, n / 5 % 5, n / 25].map(|k| k as f64 - 2.0);
                periodic.push_ghost(
                    atoms.ids[i],
                    atoms.species[i],
                    atoms.positions[i] + Vec3::new(s[0] * l, s[1] * l, s[2] * l),
                );
            }
        }
        full.build(&periodic).unwrap();
        assert_eq!(full.n_entries(), 2 * whole.values().map(Vec::len).sum::<usize>());
    }

    /// Packed and plain rows are the same sequences, for full and half lists with ghosts,
    /// and a run too crowded for a byte falls back to plain rows.
    #[test]
    fn packed_rows_equal_plain_rows() {
        let mut wide = random_atoms(600, 9.0, 5);
        for i in 0..wide.n_owned() {
            let x = wide.positions[i];
            if x.y < 3.0 {
                wide.push_ghost(wide.ids[i], wide.species[i], x + Vec3::new(0.0, 9.0, 0.0));
            }
        }
        // A box thinner than the list radius, every image within two boxes a ghost: atoms
        // neighbor their own images (equal ids, where the half rule looks at positions).
        let mut thin = random_atoms(6, 2.2, 8);
        for i in 0..thin.n_owned() {
            for n in (0..125).filter(|&n| n != 62) {
                let s = [n % 5, n / 5 % 5, n / 25].map(|k| k as f64 * 2.2 - 4.4);
                thin.push_ghost(thin.ids[i], thin.species[i], thin.positions[i] + Vec3::new(s[0], s[1], s[2]));
            }
        }
        for (atoms, kind) in [
            (&wide, NeighborKind::Full),
            (&wide, NeighborKind::Half),
            (&thin, NeighborKind::Full),
            (&thin, NeighborKind::Half),
        ] {
            let mut packed = NeighborList::new(kind, 2.0, 0.4);
            let mut plain = NeighborList::new(kind, 2.0, 0.4);
            packed.set_storage(ListStorage::Packed);
            plain.set_storage(ListStorage::Plain);
            packed.build(atoms).unwrap();
            plain.build(atoms).unwrap();
            assert!(packed.is_packed() && !plain.is_packed());
            assert!(!packed.packed.as_ref().unwrap().byte_counts, "these runs fit four-bit counts");
            assert_eq!(packed.n_entries(), plain.n_entries());
            if std::ptr::eq(atoms, &wide) {
                assert!(packed.memory_bytes() < plain.memory_bytes());
            }
            let slots = packed.slot_atoms().unwrap();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for i in 0..atoms.n_owned() {
                let want: Vec<u32> = plain.neighbors(i).collect();
                assert_eq!(packed.neighbors(i).collect::<Vec<_>>(), want, "row {i}");
                assert_eq!(packed.row_len(i), want.len());
                let decoded: Vec<u32> = packed.row_slots(i, &mut a).iter().map(|&s| slots[s as usize]).collect();
                assert_eq!(decoded, want);
                assert_eq!(plain.row_slots(i, &mut b), &want[..]);
                assert_eq!(packed.row_atoms(i, &mut a), &want[..], "row {i}");
                assert_eq!(plain.row_atoms(i, &mut b), &want[..]);
            }
            let self_images =
                (0..atoms.n_owned()).any(|i| plain.neighbors(i).any(|j| atoms.ids[j as usize] == atoms.ids[i]));
            assert_eq!(self_images, std::ptr::eq(atoms, &thin), "rows with images of their own atom");
        }
        // Runs with more than 15 neighbors: counts of a byte each, the same rows.
        let dense = random_atoms(1500, 6.0, 7);
        let mut packed = NeighborList::new(NeighborKind::Full, 2.0, 0.4);
        let mut plain = NeighborList::new(NeighborKind::Full, 2.0, 0.4);
        packed.set_storage(ListStorage::Packed);
        plain.set_storage(ListStorage::Plain);
        packed.build(&dense).unwrap();
        plain.build(&dense).unwrap();
        assert!(packed.packed.as_ref().unwrap().byte_counts, "a dense system needs byte counts");
        let slots = packed.slot_atoms().unwrap();
        let mut a = Vec::new();
        for i in 0..dense.n_owned() {
            let want: Vec<u32> = plain.neighbors(i).collect();
            assert_eq!(packed.neighbors(i).collect::<Vec<_>>(), want, "row {i}");
            assert_eq!(packed.row_len(i), want.len());
            let decoded: Vec<u32> = packed.row_slots(i, &mut a).iter().map(|&s| slots[s as usize]).collect();
            assert_eq!(decoded, want);
            assert_eq!(packed.row_atoms(i, &mut a), &want[..], "row {i}");
        }
        assert_eq!(packed.n_entries(), plain.n_entries());
        // 300 atoms in one small cube: a stencil run holds more than 255 of them.
        let crowded = random_atoms(300, 0.5, 6);
        let mut list = NeighborList::new(NeighborKind::Full, 2.0, 0.4);
        list.set_storage(ListStorage::Packed);
        list.build(&crowded).unwrap();
        assert!(!list.is_packed());
        assert_eq!(list.n_entries(), 300 * 299);
    }

    #[test]
    fn rebuild_rule() {
        let mut atoms = random_atoms(50, 5.0, 3);
        let mut list = NeighborList::new(NeighborKind::Full, 2.0, 0.4);
        list.build(&atoms).unwrap();
        atoms.positions[7].x += 0.19;
        assert!(!list.needs_rebuild(&atoms));
        atoms.positions[7].x += 0.02;
        assert!(list.needs_rebuild(&atoms));
    }
}
