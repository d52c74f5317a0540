use crate::bins::Bins;
use calcine_core::{Atoms, Vec3};
use rayon::prelude::*;

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

    #[inline]
    pub fn neighbors_of(&self, atom_idx: usize) -> &[u32] {
        &self.neighbors[self.offsets[atom_idx] as usize..self.offsets[atom_idx + 1] as usize]
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
    pub fn build(&mut self, atoms: &Atoms) {
        let radius = self.list_radius();
        let radius_sq = radius * radius;
        let n_owned = atoms.n_owned();
        let positions = &atoms.positions;
        let ids = &atoms.ids;
        let bins = Bins::build(positions, 0.5 * radius);
        let stencil = bins.stencil(radius);
        let kind = self.kind;

        let chunks: Vec<(Vec<u32>, Vec<u32>)> = (0..n_owned)
            .into_par_iter()
            .step_by(CHUNK)
            .map(|start| {
                let end = (start + CHUNK).min(n_owned);
                let mut counts = Vec::with_capacity(end - start);
                let mut out = Vec::new();
                let mut row: Vec<(u64, u32)> = Vec::new();
                for i in start..end {
                    row.clear();
                    let xi = positions[i];
                    let c = bins.coords_of(&xi);
                    for d in &stencil {
                        let mut cc = [0usize; 3];
                        let mut inside = true;
                        for a in 0..3 {
                            let v = c[a] as i64 + d[a];
                            if v < 0 || v >= bins.n[a] as i64 {
                                inside = false;
                                break;
                            }
                            cc[a] = v as usize;
                        }
                        if !inside {
                            continue;
                        }
                        for &j in bins.atoms_in(bins.index(cc)) {
                            let j = j as usize;
                            if j == i {
                                continue;
                            }
                            let xj = positions[j];
                            let dx = xj - xi;
                            if dx.norm_squared() >= radius_sq {
                                continue;
                            }
                            if kind == NeighborKind::Half && !keep_in_half(i, j, n_owned, &xi, &xj) {
                                continue;
                            }
                            row.push((ids[j].0, j as u32));
                        }
                    }
                    // Canonical order: by AtomId, images of one atom by separation vector.
                    row.sort_unstable_by(|a, b| {
                        a.0.cmp(&b.0).then_with(|| {
                            let (pa, pb) = (positions[a.1 as usize], positions[b.1 as usize]);
                            pa.x.total_cmp(&pb.x).then(pa.y.total_cmp(&pb.y)).then(pa.z.total_cmp(&pb.z))
                        })
                    });
                    counts.push(row.len() as u32);
                    out.extend(row.iter().map(|&(_, j)| j));
                }
                (counts, out)
            })
            .collect();

        self.offsets.clear();
        self.offsets.reserve(n_owned + 1);
        self.offsets.push(0);
        let total: usize = chunks.iter().map(|c| c.1.len()).sum();
        assert!(total < u32::MAX as usize, "neighbor list larger than 2^32 entries on one rank");
        self.neighbors.clear();
        self.neighbors.reserve(total);
        let mut acc = 0u32;
        for (counts, nbrs) in &chunks {
            for &c in counts {
                acc += c;
                self.offsets.push(acc);
            }
            self.neighbors.extend_from_slice(nbrs);
        }
        self.reference_positions.clear();
        self.reference_positions.extend_from_slice(&positions[..n_owned]);
        self.n_builds += 1;
    }

    /// Bytes held by the list (for memory reports).
    pub fn memory_bytes(&self) -> usize {
        self.offsets.capacity() * 4 + self.neighbors.capacity() * 4 + self.reference_positions.capacity() * 24
    }
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
        list.build(&atoms);
        for i in 0..atoms.n_owned() {
            let mut brute: Vec<u32> = (0..atoms.n_owned())
                .filter(|&j| j != i && (atoms.positions[j] - atoms.positions[i]).norm() < 3.0)
                .map(|j| j as u32)
                .collect();
            brute.sort_by_key(|&j| atoms.ids[j as usize]);
            assert_eq!(list.neighbors_of(i), &brute[..]);
        }
    }

    #[test]
    fn half_list_holds_each_pair_once() {
        let atoms = random_atoms(400, 10.0, 2);
        let mut full = NeighborList::new(NeighborKind::Full, 2.0, 0.3);
        let mut half = NeighborList::new(NeighborKind::Half, 2.0, 0.3);
        full.build(&atoms);
        half.build(&atoms);
        assert_eq!(full.n_entries(), 2 * half.n_entries());
        for i in 0..atoms.n_owned() {
            for &j in half.neighbors_of(i) {
                assert!(full.neighbors_of(i).contains(&j));
                assert!(!half.neighbors_of(j as usize).contains(&(i as u32)));
            }
        }
    }

    #[test]
    fn rebuild_rule() {
        let mut atoms = random_atoms(50, 5.0, 3);
        let mut list = NeighborList::new(NeighborKind::Full, 2.0, 0.4);
        list.build(&atoms);
        atoms.positions[7].x += 0.19;
        assert!(!list.needs_rebuild(&atoms));
        atoms.positions[7].x += 0.02;
        assert!(list.needs_rebuild(&atoms));
    }
}
