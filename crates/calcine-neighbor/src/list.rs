use crate::bins::Bins;
use calcine_core::{Atoms, Vec3};
use rayon::prelude::*;

/// A list cannot be built when an atom (owned or ghost) has a NaN or infinite coordinate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("atom at index {atom_idx} has a non-finite position")]
pub struct NonFinitePosition {
    pub atom_idx: usize,
}

/// Which pairs a list holds: the "neighbor request" of a potential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighborKind {
    /// Each pair once. A pair with a ghost is kept only if the ghost lies above the owned
    /// atom (by z, then y, then x), as in LAMMPS with `newton on`.
    Half,
    /// Each pair in both atoms' rows.
    Full,
}

/// A Verlet list in compressed-row form over owned atoms.
#[derive(Debug, Clone)]
pub struct NeighborList {
    kind: NeighborKind,
    cutoff: f64,
    skin: f64,
    offsets: Vec<u32>,
    neighbors: Vec<u32>,
    reference_positions: Vec<Vec3>,
    n_builds: u64,
}

/// Rows are built in chunks of this many atoms per rayon task.
const CHUNK: usize = 512;

impl NeighborList {
    pub fn new(kind: NeighborKind, cutoff: f64, skin: f64) -> Self {
        assert!(cutoff > 0.0 && skin >= 0.0);
        Self {
            kind,
            cutoff,
            skin,
            offsets: vec![0],
            neighbors: Vec::new(),
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
        self.offsets.len() - 1
    }
    /// Number of stored (i, j) entries.
    pub fn n_entries(&self) -> usize {
        self.neighbors.len()
    }
    pub fn n_builds(&self) -> u64 {
        self.n_builds
    }

    /// The neighbors of owned atom `atom_idx` (indices into the atom arrays), in canonical order.
    #[inline]
    pub fn row(&self, atom_idx: usize) -> &[u32] {
        &self.neighbors[self.offsets[atom_idx] as usize..self.offsets[atom_idx + 1] as usize]
    }

    /// The same, as an iterator.
    #[inline]
    pub fn neighbors(&self, atom_idx: usize) -> std::iter::Copied<std::slice::Iter<'_, u32>> {
        self.row(atom_idx).iter().copied()
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
        self.offsets.clear();
        self.offsets.reserve(n_owned + 1);
        self.offsets.push(0);
        self.neighbors.clear();
        // Rows are built in parallel a block of atoms at a time and appended, so the
        // transient copy is one block, not a second whole list.
        let block = (CHUNK * 4 * rayon::current_num_threads()).max(CHUNK);
        // Candidates come from a dense cell grid, or from a map of cells when the atoms are
        // too spread out for one; the rows are the same either way.
        let bins = Bins::build(&atoms.positions, &atoms.ids, width);
        let sparse = bins.is_none().then(|| SparseCells::new(atoms, width));
        let runs = stencil_runs(&stencil);
        let dense_visit = |xi: &Vec3, push: &mut dyn FnMut(&[u32], &[Vec3])| {
            let bins = bins.as_ref().expect("dense grid");
            let [n0, n1, n2] = bins.n.map(|n| n as i64);
            let c = bins.coords_of(xi).map(|v| v as i64);
            for r in &runs {
                let (y, z) = (c[1] + r.dy, c[2] + r.dz);
                if y < 0 || y >= n1 || z < 0 || z >= n2 {
                    continue;
                }
                // Cells beyond the grid are empty: clamp the run to it.
                let x_lo = (c[0] + r.dx_lo).max(0);
                let x_hi = (c[0] + r.dx_hi).min(n0 - 1);
                if x_lo > x_hi {
                    continue;
                }
                let first = bins.index([x_lo as usize, y as usize, z as usize]);
                let last = first + (x_hi - x_lo) as usize;
                let (s, e) = (bins.start[first] as usize, bins.start[last + 1] as usize);
                push(&bins.atoms[s..e], &bins.xs[s..e]);
            }
        };
        let sparse_visit = |xi: &Vec3, push: &mut dyn FnMut(&[u32], &[Vec3])| {
            let cells = sparse.as_ref().expect("sparse cells");
            let c = global_cell(xi, width);
            for d in &stencil {
                if let Some((idx, xs)) = cells.cells.get(&[c[0] + d[0], c[1] + d[1], c[2] + d[2]]) {
                    push(idx, xs);
                }
            }
        };
        let visit: &Visit = if bins.is_some() { &dense_visit } else { &sparse_visit };
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
        self.reference_positions.clear();
        self.reference_positions.extend_from_slice(&atoms.positions[..n_owned]);
        self.n_builds += 1;
        Ok(())
    }

    /// Bytes held by the list (for memory reports).
    pub fn memory_bytes(&self) -> usize {
        self.offsets.capacity() * 4 + self.neighbors.capacity() * 4 + self.reference_positions.capacity() * 24
    }
}

/// Cells in a hash map, for points so spread out that a dense grid would not fit.
struct SparseCells {
    cells: std::collections::HashMap<[i64; 3], (Vec<u32>, Vec<Vec3>)>,
}

impl SparseCells {
    fn new(atoms: &Atoms, width: f64) -> Self {
        let mut cells: std::collections::HashMap<[i64; 3], (Vec<u32>, Vec<Vec3>)> = Default::default();
        for (i, x) in atoms.positions.iter().enumerate() {
            cells.entry(global_cell(x, width)).or_default().0.push(i as u32);
        }
        for (idx, xs) in cells.values_mut() {
            idx.sort_unstable_by(|&p, &q| {
                crate::bins::canonical_cmp(&atoms.ids, &atoms.positions, p as usize, q as usize)
            });
            *xs = idx.iter().map(|&i| atoms.positions[i as usize]).collect();
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

/// Rows of all owned atoms, in chunks of (row lengths, neighbors). `visit(i, xi, push)`
/// calls `push(idx, xs)` for the candidate atoms of atom `i` in canonical order.
/// Calls `push(indices, positions)` for the candidate spans around a point, in canonical order.
type Visit<'a> = dyn Fn(&Vec3, &mut dyn FnMut(&[u32], &[Vec3])) + Sync + 'a;

fn build_rows(
    atoms: &Atoms,
    range: std::ops::Range<usize>,
    radius: f64,
    kind: NeighborKind,
    visit: &Visit<'_>,
) -> Vec<(Vec<u32>, Vec<u32>)> {
    let radius_sq = radius * radius;
    let n_owned = atoms.n_owned();
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
                visit(&xi, &mut |idx: &[u32], xs: &[Vec3]| {
                    if kind == NeighborKind::Half {
                        for (&j, xj) in idx.iter().zip(xs) {
                            let dx = xj - xi;
                            if dx.x * dx.x + dx.y * dx.y + dx.z * dx.z < radius_sq
                                && j as usize != i
                                && keep_in_half(i, j as usize, n_owned, &xi, xj)
                            {
                                out.push(j);
                            }
                        }
                        return;
                    }
                    // Full lists: write every candidate and advance only past the accepted
                    // ones, with no unpredictable branch (about a third are accepted).
                    let mut len = out.len();
                    out.resize(len + idx.len(), 0);
                    for (&j, xj) in idx.iter().zip(xs) {
                        let dx = xj - xi;
                        let keep = (dx.x * dx.x + dx.y * dx.y + dx.z * dx.z < radius_sq) & (j as usize != i);
                        out[len] = j;
                        len += keep as usize;
                    }
                    out.truncate(len);
                });
                counts.push((out.len() - before) as u32);
            }
            (counts, out)
        })
        .collect()
}

/// LAMMPS's half-list rule with newton on: an owned pair once (j > i); a ghost only if it
/// lies above the owned atom, so each cross-boundary pair is kept on exactly one side.
#[inline]
fn keep_in_half(i: usize, j: usize, n_owned: usize, xi: &Vec3, xj: &Vec3) -> bool {
    if j < n_owned {
        return j > i;
    }
    if xj.z != xi.z {
        return xj.z > xi.z;
    }
    if xj.y != xi.y {
        return xj.y > xi.y;
    }
    xj.x > xi.x
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
                assert!(full.row(i).contains(&j));
                assert!(!half.row(j as usize).contains(&(i as u32)));
            }
        }
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
