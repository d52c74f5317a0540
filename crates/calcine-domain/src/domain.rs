use crate::DomainError;
use calcine_comm::{Axis, Communicator, Dir};
use calcine_core::{AtomRecord, Atoms, CarryWords, GhostSync, SimBox, Vec3};

/// One halo exchange: the atoms sent in direction `dir` along `axis`, and where the atoms
/// received from the opposite side were placed.
#[derive(Debug, Clone)]
struct Swap {
    axis: Axis,
    dir: Dir,
    send: Vec<u32>,
    /// Added to positions on the way out (a box edge when crossing a periodic boundary).
    shift: Option<Vec3>,
    recv_start: usize,
    recv_len: usize,
}

/// The exchanges that built the current ghosts, replayed every step until the next rebuild.
#[derive(Debug, Clone, Default)]
pub struct HaloPlan {
    swaps: Vec<Swap>,
    n_owned: usize,
    n_total: usize,
}

impl HaloPlan {
    pub fn n_swaps(&self) -> usize {
        self.swaps.len()
    }
    /// Atoms sent per replay of the plan (the communication volume of a forward step).
    pub fn n_sent(&self) -> usize {
        self.swaps.iter().map(|s| s.send.len()).sum()
    }
    pub fn n_ghost(&self) -> usize {
        self.n_total - self.n_owned
    }
}

/// This rank's part of the box and the ghost machinery around it.
pub struct Domain<C: Communicator> {
    comm: C,
    simbox: SimBox,
    plan: HaloPlan,
    send_f64: Vec<f64>,
    recv_f64: Vec<f64>,
    send_u64: Vec<u64>,
    recv_u64: Vec<u64>,
}

impl<C: Communicator> Domain<C> {
    pub fn new(comm: C, simbox: SimBox) -> Self {
        Self {
            comm,
            simbox,
            plan: HaloPlan::default(),
            send_f64: Vec::new(),
            recv_f64: Vec::new(),
            send_u64: Vec::new(),
            recv_u64: Vec::new(),
        }
    }

    pub fn comm(&self) -> &C {
        &self.comm
    }
    pub fn simbox(&self) -> &SimBox {
        &self.simbox
    }
    pub fn plan(&self) -> &HaloPlan {
        &self.plan
    }

    /// This rank's subdomain in fractional coordinates, per axis `[lo, hi)`.
    pub fn fractional_bounds(&self) -> [(f64, f64); 3] {
        std::array::from_fn(|a| self.comm.grid().fractional_bounds(a))
    }

    /// True if the fractional point `s` belongs to this rank.
    pub fn owns_fractional(&self, s: &Vec3) -> bool {
        let grid = self.comm.grid();
        (0..3).all(|a| slab_of(s[a], grid.dims[a]) == grid.coords[a])
    }

    /// Keeps only the owned atoms of a whole system that fall in this rank's subdomain
    /// (used once at start-up, when every rank has read the same structure).
    pub fn retain_local(&self, atoms: &mut Atoms) {
        atoms.clear_ghosts();
        let mut i = 0;
        while i < atoms.n_owned() {
            let s = self.simbox.to_fractional(&atoms.positions[i]);
            if self.owns_fractional(&s) {
                i += 1;
            } else {
                atoms.swap_remove_owned(i);
            }
        }
    }

    /// Wraps owned atoms back into the periodic box and moves atoms that left this rank's
    /// subdomain to the neighboring rank (LAMMPS `pbc()` + `exchange()`). Drops all ghosts.
    /// An error on any rank is an error on every rank.
    pub fn migrate(&mut self, atoms: &mut Atoms, step: u64) -> Result<(), DomainError> {
        atoms.clear_ghosts();
        let mut local_error: Option<DomainError> = None;
        let periodic = self.simbox.periodic();
        for i in 0..atoms.n_owned() {
            let image = self.simbox.wrap(&mut atoms.positions[i]);
            for a in 0..3 {
                atoms.images[i][a] += image[a];
            }
            if local_error.is_none() {
                let s = self.simbox.to_fractional(&atoms.positions[i]);
                for a in 0..3 {
                    if !periodic[a] && !(0.0..1.0).contains(&s[a]) || !s[a].is_finite() {
                        let p = atoms.positions[i];
                        local_error = Some(DomainError::LeftBox {
                            id: atoms.ids[i].0,
                            axis: ['x', 'y', 'z'][a],
                            step,
                            position: [p.x, p.y, p.z],
                        });
                        break;
                    }
                }
            }
        }
        if self.comm.any(local_error.is_some()) {
            return Err(local_error.unwrap_or(DomainError::OtherRank));
        }
        for axis in Axis::ALL {
            let a = axis.index();
            let grid = self.comm.grid().clone();
            let (n, c) = (grid.dims[a], grid.coords[a]);
            if n == 1 {
                continue;
            }
            for dir in [Dir::Lower, Dir::Upper] {
                self.send_u64.clear();
                let mut i = 0;
                while i < atoms.n_owned() {
                    let t = slab_of(self.simbox.to_fractional(&atoms.positions[i])[a], n);
                    let leaves = migration_dir(t, c, n, periodic[a]) == Some(dir);
                    if leaves {
                        atoms.swap_remove_owned(i).encode(&mut self.send_u64);
                    } else {
                        i += 1;
                    }
                }
                self.comm.shift_u64(axis, dir, &self.send_u64, &mut self.recv_u64);
                for words in self.recv_u64.chunks_exact(AtomRecord::WORDS) {
                    atoms.push_record(&AtomRecord::decode(words));
                }
            }
            // An atom that crossed more than one subdomain along this axis is still outside.
            for i in 0..atoms.n_owned() {
                if slab_of(self.simbox.to_fractional(&atoms.positions[i])[a], n) != c {
                    let p = atoms.positions[i];
                    local_error = Some(DomainError::MovedTooFar {
                        id: atoms.ids[i].0,
                        rank: self.comm.rank(),
                        position: [p.x, p.y, p.z],
                    });
                    break;
                }
            }
            if self.comm.any(local_error.is_some()) {
                return Err(local_error.unwrap_or(DomainError::OtherRank));
            }
        }
        Ok(())
    }

    /// Makes ghost copies of every atom within `ghost_cutoff` of this subdomain (LAMMPS
    /// `borders()`), replacing the old ghosts, and records the plan for later exchanges.
    pub fn build_ghosts(&mut self, atoms: &mut Atoms, ghost_cutoff: f64) {
        atoms.clear_ghosts();
        self.plan.swaps.clear();
        let grid = self.comm.grid().clone();
        let periodic = self.simbox.periodic();
        // A hair of extra width so round-off never leaves out an atom at the edge.
        let cutoff = ghost_cutoff * (1.0 + 1e-9);
        for axis in Axis::ALL {
            let a = axis.index();
            let (lo, hi) = grid.fractional_bounds(a);
            if grid.dims[a] == 1 && !periodic[a] {
                continue;
            }
            let width = self.simbox.plane_spacing(a);
            let w = cutoff / width;
            let n_hops = ((w / (hi - lo)).ceil() as usize).max(1);
            let n_before = atoms.n_total();
            let mut previous: [(usize, usize); 2] = [(0, n_before), (0, n_before)];
            for _hop in 0..n_hops {
                for (d, dir) in [Dir::Lower, Dir::Upper].into_iter().enumerate() {
                    let (start, len) = previous[d];
                    let mut send = Vec::new();
                    if self.comm.neighbor(axis, dir).is_some() {
                        for i in start..start + len {
                            let s = self.simbox.to_fractional(&atoms.positions[i])[a];
                            let inside = match dir {
                                Dir::Lower => s < lo + w,
                                Dir::Upper => s >= hi - w,
                            };
                            if inside {
                                send.push(i as u32);
                            }
                        }
                    }
                    let shift = (periodic[a] && grid.crosses_boundary(axis, dir)).then(|| {
                        let edge = self.simbox.edge(a);
                        match dir {
                            Dir::Lower => edge,
                            Dir::Upper => -edge,
                        }
                    });
                    self.send_u64.clear();
                    for &i in &send {
                        let i = i as usize;
                        let x = shifted(atoms.positions[i], shift);
                        AtomRecord::encode_ghost(atoms.ids[i], atoms.species[i], &x, &mut self.send_u64);
                    }
                    self.comm.shift_u64(axis, dir, &self.send_u64, &mut self.recv_u64);
                    let recv_start = atoms.n_total();
                    for words in self.recv_u64.chunks_exact(AtomRecord::GHOST_WORDS) {
                        let (id, species, x) = AtomRecord::decode_ghost(words);
                        atoms.push_ghost(id, species, x);
                    }
                    let recv_len = atoms.n_total() - recv_start;
                    previous[d] = (recv_start, recv_len);
                    self.plan.swaps.push(Swap { axis, dir, send, shift, recv_start, recv_len });
                }
            }
        }
        self.plan.n_owned = atoms.n_owned();
        self.plan.n_total = atoms.n_total();
    }

    /// Refreshes ghost positions from their owners (LAMMPS `forward_comm()`).
    pub fn forward_positions(&mut self, atoms: &mut Atoms) {
        assert_eq!(atoms.n_total(), self.plan.n_total, "ghosts changed since the halo plan was built");
        for s in 0..self.plan.swaps.len() {
            let swap = &self.plan.swaps[s];
            self.send_f64.clear();
            for &i in &swap.send {
                let x = shifted(atoms.positions[i as usize], swap.shift);
                self.send_f64.extend_from_slice(&[x.x, x.y, x.z]);
            }
            self.comm.shift_f64(swap.axis, swap.dir, &self.send_f64, &mut self.recv_f64);
            debug_assert_eq!(self.recv_f64.len(), 3 * swap.recv_len);
            for (k, x) in self.recv_f64.chunks_exact(3).enumerate() {
                atoms.positions[swap.recv_start + k] = Vec3::new(x[0], x[1], x[2]);
            }
        }
    }

    /// Adds forces on ghosts into their owners (LAMMPS `reverse_comm()`), then zeroes the
    /// ghost entries.
    pub fn reverse_forces(&mut self, forces: &mut [Vec3]) {
        assert_eq!(forces.len(), self.plan.n_total);
        for s in (0..self.plan.swaps.len()).rev() {
            let swap = &self.plan.swaps[s];
            self.send_f64.clear();
            for f in &forces[swap.recv_start..swap.recv_start + swap.recv_len] {
                self.send_f64.extend_from_slice(&[f.x, f.y, f.z]);
            }
            self.comm.shift_f64(swap.axis, swap.dir.opposite(), &self.send_f64, &mut self.recv_f64);
            for (k, &i) in swap.send.iter().enumerate() {
                let r = &self.recv_f64[3 * k..3 * k + 3];
                forces[i as usize] += Vec3::new(r[0], r[1], r[2]);
            }
        }
        for f in &mut forces[self.plan.n_owned..] {
            *f = Vec3::zeros();
        }
    }

    /// Replaces the box (a barostat or a strain test); ghosts must be rebuilt afterwards.
    pub fn set_simbox(&mut self, simbox: SimBox) {
        self.simbox = simbox;
    }
}

/// Which exchange takes an atom now in slab `t` from slab `c` (of `n` along an axis), or
/// `None` if it stays. Neighbors across the wall exist only on a periodic axis; with two
/// ranks on a periodic axis both neighbors are the same rank, reached by the lower exchange.
/// An atom more than one slab away is not moved (the caller reports it).
fn migration_dir(t: usize, c: usize, n: usize, periodic: bool) -> Option<Dir> {
    if t == c {
        return None;
    }
    let lower = if periodic { Some((c + n - 1) % n) } else { c.checked_sub(1) };
    let upper = if periodic { Some((c + 1) % n) } else { Some(c + 1).filter(|&u| u < n) };
    if Some(t) == lower {
        Some(Dir::Lower)
    } else if Some(t) == upper {
        Some(Dir::Upper)
    } else {
        None
    }
}

/// The slab along one axis that owns fractional coordinate `s` when the axis is cut into
/// `n` equal slabs; points outside `[0, 1)` belong to the end slabs.
#[inline]
fn slab_of(s: f64, n: usize) -> usize {
    ((s * n as f64).floor().max(0.0) as usize).min(n - 1)
}

#[inline]
fn shifted(x: Vec3, shift: Option<Vec3>) -> Vec3 {
    match shift {
        Some(s) => x + s,
        None => x,
    }
}

impl<C: Communicator> GhostSync for Domain<C> {
    fn forward(&mut self, per_atom: &mut [f64]) {
        assert_eq!(per_atom.len(), self.plan.n_total);
        for s in 0..self.plan.swaps.len() {
            let swap = &self.plan.swaps[s];
            self.send_f64.clear();
            self.send_f64.extend(swap.send.iter().map(|&i| per_atom[i as usize]));
            self.comm.shift_f64(swap.axis, swap.dir, &self.send_f64, &mut self.recv_f64);
            per_atom[swap.recv_start..swap.recv_start + swap.recv_len].copy_from_slice(&self.recv_f64);
        }
    }

    fn reverse_sum(&mut self, per_atom: &mut [f64]) {
        assert_eq!(per_atom.len(), self.plan.n_total);
        for s in (0..self.plan.swaps.len()).rev() {
            let swap = &self.plan.swaps[s];
            self.send_f64.clear();
            self.send_f64.extend_from_slice(&per_atom[swap.recv_start..swap.recv_start + swap.recv_len]);
            self.comm.shift_f64(swap.axis, swap.dir.opposite(), &self.send_f64, &mut self.recv_f64);
            for (k, &i) in swap.send.iter().enumerate() {
                per_atom[i as usize] += self.recv_f64[k];
            }
        }
    }

    fn reverse_sum_exact(&mut self, per_atom: &mut [i128], width: usize) {
        assert_eq!(per_atom.len(), width * self.plan.n_total);
        for s in (0..self.plan.swaps.len()).rev() {
            let swap = &self.plan.swaps[s];
            // Each i128 travels as two u64 words (low, high); packed and unpacked a slice at
            // a time, without per-word bounds checks or capacity checks.
            let ghosts = &per_atom[width * swap.recv_start..width * (swap.recv_start + swap.recv_len)];
            self.send_u64.clear();
            self.send_u64.resize(2 * ghosts.len(), 0);
            for (words, &v) in self.send_u64.chunks_exact_mut(2).zip(ghosts) {
                [words[0], words[1]] = split_wide(v);
            }
            self.comm.shift_u64(swap.axis, swap.dir.opposite(), &self.send_u64, &mut self.recv_u64);
            assert_eq!(self.recv_u64.len(), 2 * width * swap.send.len(), "reverse message of the wrong length");
            for (&i, words) in swap.send.iter().zip(self.recv_u64.chunks_exact(2 * width)) {
                let owner = &mut per_atom[width * i as usize..width * i as usize + width];
                for (w, v) in owner.iter_mut().zip(words.chunks_exact(2)) {
                    *w = w.wrapping_add(join_wide(v));
                }
            }
        }
    }

    fn reverse_sum_carry(&mut self, words: &mut CarryWords, width: usize) {
        assert_eq!(words.len(), width * self.plan.n_total);
        for s in (0..self.plan.swaps.len()).rev() {
            let swap = &self.plan.swaps[s];
            // The same messages as `reverse_sum_exact`: each ghost word as two u64 words.
            let ghosts = width * swap.recv_start..width * (swap.recv_start + swap.recv_len);
            self.send_u64.clear();
            self.send_u64.resize(2 * ghosts.len(), 0);
            for (pair, k) in self.send_u64.chunks_exact_mut(2).zip(ghosts) {
                [pair[0], pair[1]] = split_wide(words.get(k));
            }
            self.comm.shift_u64(swap.axis, swap.dir.opposite(), &self.send_u64, &mut self.recv_u64);
            assert_eq!(self.recv_u64.len(), 2 * width * swap.send.len(), "reverse message of the wrong length");
            for (&i, received) in swap.send.iter().zip(self.recv_u64.chunks_exact(2 * width)) {
                for (c, v) in received.chunks_exact(2).enumerate() {
                    words.add_settled(width * i as usize + c, join_wide(v));
                }
            }
        }
    }
}

/// An i128 as the two u64 words (low, high) it travels as.
#[inline]
fn split_wide(v: i128) -> [u64; 2] {
    [v as u64, (v >> 64) as u64]
}

#[inline]
fn join_wide(words: &[u64]) -> i128 {
    ((words[1] as u128) << 64 | words[0] as u128) as i128
}

#[cfg(test)]
mod tests {
    use super::*;
    use calcine_comm::SerialComm;
    use calcine_core::lattice::{Lattice, LatticeKind};
    use calcine_core::SpeciesId;

    /// Brute-force images: every image of every atom within `cutoff` of the box.
    fn brute_force_images(simbox: &SimBox, atoms: &Atoms, cutoff: f64, reach: i32) -> usize {
        let mut count = 0;
        for i in 0..atoms.n_owned() {
            for nx in -reach..=reach {
                for ny in -reach..=reach {
                    for nz in -reach..=reach {
                        if (nx, ny, nz) == (0, 0, 0) {
                            continue;
                        }
                        let x = atoms.positions[i]
                            + simbox.edge(0) * nx as f64
                            + simbox.edge(1) * ny as f64
                            + simbox.edge(2) * nz as f64;
                        let s = simbox.to_fractional(&x);
                        let inside = (0..3).all(|a| {
                            let w = cutoff / simbox.plane_spacing(a);
                            s[a] >= -w && s[a] < 1.0 + w
                        });
                        if inside {
                            count += 1;
                        }
                    }
                }
            }
        }
        count
    }

    #[test]
    fn ghosts_cover_thin_triclinic_box() {
        let (_, mut atoms) = Lattice::new(LatticeKind::Fcc, 3.0).replicate([2, 2, 1]).build(SpeciesId(0));
        let simbox = SimBox::triclinic(Vec3::zeros(), [6.0, 6.0, 3.0], [1.5, 0.5, -0.7], [true; 3]).unwrap();
        for x in &mut atoms.positions {
            let s = Vec3::new(x.x / 6.0, x.y / 6.0, x.z / 3.0);
            *x = simbox.to_cartesian(&s);
        }
        let mut domain = Domain::new(SerialComm::default(), simbox.clone());
        domain.migrate(&mut atoms, 0).unwrap();
        let cutoff = 7.3; // more than two box heights along z: three hops
        domain.build_ghosts(&mut atoms, cutoff);
        assert_eq!(atoms.n_ghost(), brute_force_images(&simbox, &atoms, cutoff * (1.0 + 1e-9), 4));
        // Every ghost is an image of its owner.
        for g in atoms.n_owned()..atoms.n_total() {
            let owner = atoms.ids[g].0 as usize - 1;
            let owner_idx = (0..atoms.n_owned()).find(|&i| atoms.ids[i].0 as usize - 1 == owner).unwrap();
            let d = simbox.to_fractional(&(atoms.positions[g] - atoms.positions[owner_idx] + simbox.lo()));
            for a in 0..3 {
                assert!((d[a] - d[a].round()).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn forward_and_reverse_follow_the_plan() {
        let (simbox, mut atoms) = Lattice::new(LatticeKind::Bcc, 2.9).replicate([2, 2, 2]).build(SpeciesId(0));
        let mut domain = Domain::new(SerialComm::default(), simbox);
        domain.build_ghosts(&mut atoms, 4.0);
        let n_owned = atoms.n_owned();
        // Forward: ghosts take their owner's value.
        let mut values: Vec<f64> =
            (0..atoms.n_total()).map(|i| if i < n_owned { atoms.ids[i].0 as f64 } else { -1.0 }).collect();
        domain.forward(&mut values);
        for i in 0..atoms.n_total() {
            assert_eq!(values[i], atoms.ids[i].0 as f64);
        }
        // Reverse: each owner receives one unit from each of its ghost copies.
        let mut ones = vec![1.0; atoms.n_total()];
        domain.reverse_sum(&mut ones);
        let total: f64 = ones[..n_owned].iter().sum();
        assert_eq!(total, atoms.n_total() as f64);
        // Exact reverse: the same counts, two words per atom, with values beyond 64 bits.
        let big = 3i128 << 80;
        let mut exact: Vec<i128> = (0..atoms.n_total()).flat_map(|_| [1, -big]).collect();
        domain.reverse_sum_exact(&mut exact, 2);
        for i in 0..n_owned {
            assert_eq!(exact[2 * i], ones[i] as i128);
            assert_eq!(exact[2 * i + 1], -big * ones[i] as i128);
        }
        // The same with 64-bit words and carries: a word just below 2⁶³ quanta overflows
        // when its ghosts' units arrive, and a wide one keeps its high part.
        let mut words = CarryWords::default();
        words.reset(2 * atoms.n_total());
        for i in 0..atoms.n_total() {
            words.add_fixed(2 * i, 1);
            words.add_fixed(2 * i + 1, -big);
        }
        words.add_fixed(0, i64::MAX as i128 - 1);
        words.settle();
        domain.reverse_sum_carry(&mut words, 2);
        for i in 0..n_owned {
            let base = if i == 0 { i64::MAX as i128 - 1 } else { 0 };
            assert_eq!(words.get(2 * i), base + ones[i] as i128);
            assert_eq!(words.get(2 * i + 1), -big * ones[i] as i128);
        }
        assert!(ones[0] > 1.0, "atom 0 has ghosts, so its word crosses 2⁶³");
        // Positions move with their owners.
        atoms.positions[0].x += 0.1;
        domain.forward_positions(&mut atoms);
        for g in n_owned..atoms.n_total() {
            if atoms.ids[g] == atoms.ids[0] {
                let d = atoms.positions[g] - atoms.positions[0];
                assert!(((d.x / 5.8) - (d.x / 5.8).round()).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn migration_directions() {
        // Two ranks on a wall-bounded axis: only across the interior boundary.
        assert_eq!(migration_dir(1, 0, 2, false), Some(Dir::Upper));
        assert_eq!(migration_dir(0, 1, 2, false), Some(Dir::Lower));
        // Two ranks on a periodic axis: the other rank is both neighbors; one exchange.
        assert_eq!(migration_dir(1, 0, 2, true), Some(Dir::Lower));
        assert_eq!(migration_dir(0, 1, 2, true), Some(Dir::Lower));
        // Wrapping across the periodic boundary, and no wrapping at walls.
        assert_eq!(migration_dir(3, 0, 4, true), Some(Dir::Lower));
        assert_eq!(migration_dir(0, 3, 4, true), Some(Dir::Upper));
        assert_eq!(migration_dir(3, 0, 4, false), None);
        // Staying, and too far to move in one exchange.
        assert_eq!(migration_dir(2, 2, 4, true), None);
        assert_eq!(migration_dir(2, 0, 5, true), None);
    }

    #[test]
    fn migrate_wraps_and_counts_images() {
        let (simbox, mut atoms) = Lattice::new(LatticeKind::Sc, 2.0).replicate([3, 3, 3]).build(SpeciesId(0));
        atoms.positions[5].x += 6.5;
        atoms.positions[6].z -= 0.5;
        let mut domain = Domain::new(SerialComm::default(), simbox);
        domain.migrate(&mut atoms, 0).unwrap();
        assert_eq!(atoms.images[5], [1, 0, 0]);
        assert_eq!(atoms.images[6], [0, 0, -1]);
    }

    #[test]
    fn leaving_a_fixed_box_is_an_error() {
        let (_, mut atoms) = Lattice::new(LatticeKind::Sc, 2.0).replicate([2, 2, 2]).build(SpeciesId(0));
        let simbox = SimBox::orthogonal(Vec3::zeros(), Vec3::new(4.0, 4.0, 4.0), [true, true, false]).unwrap();
        atoms.positions[3].z = 4.5;
        let mut domain = Domain::new(SerialComm::new([true, true, false]), simbox);
        let err = domain.migrate(&mut atoms, 17).unwrap_err();
        assert!(err.to_string().contains("step 17"), "{err}");
    }
}
