//! This rank's block of the periodic lattice, one ghost layer on each face, the
//! colouring of sites into conflict-free classes, and the halo exchanges of one class.
//!
//! A visit reads a site's six face neighbors and may write the site and one of them. Two
//! visits can run at the same time, in any order, with the same result, when their sites
//! are at graph distance ≥ 3: then neither writes a cell the other reads or writes. Each
//! axis of the ring of `L` cells is coloured `0,1,2,0,1,2,…` with the `L mod 3` last cells
//! given the extra colours 3 and 4, so equal colours are ≥ 3 apart around the ring; a site's
//! colour is the triple of its axis colours (27 classes when 3 divides L, at most 125).
//!
//! Before a class is visited, [`Lattice::forward`] fills the ghosts its boundary sites will
//! read; afterwards [`Lattice::reverse`] sends the ghosts they wrote back to their owners.
//! With one rank the neighbor on every side is the rank itself and the same code makes the
//! periodic images.

use crate::library::PhaseId;
use calcine_comm::{Axis, Communicator, Dir};

/// The colour of coordinate `x` on a ring of `l` cells.
pub fn axis_colour(x: usize, l: usize) -> usize {
    let full = l - l % 3;
    if x < full {
        x % 3
    } else {
        3 + (x - full)
    }
}

/// Number of colours on a ring of `l` cells.
pub fn axis_colours(l: usize) -> usize {
    3 + l % 3
}

/// This rank's block with one ghost layer.
#[derive(Debug, Clone)]
pub struct Lattice {
    /// Cells along each global axis.
    pub edge: usize,
    /// First owned global coordinate per axis.
    pub lo: [usize; 3],
    /// Owned cells per axis.
    pub n: [usize; 3],
    stride: [usize; 3],
    pub phase: Vec<PhaseId>,
    pub amount: Vec<u64>,
    written: Vec<bool>,
}

impl Lattice {
    /// The block of the rank at `coords` in a grid of `dims` ranks.
    pub fn new(edge: usize, dims: [usize; 3], coords: [usize; 3]) -> Lattice {
        let lo = std::array::from_fn(|a| coords[a] * edge / dims[a]);
        let n: [usize; 3] = std::array::from_fn(|a| (coords[a] + 1) * edge / dims[a] - coords[a] * edge / dims[a]);
        let stride = [(n[1] + 2) * (n[2] + 2), n[2] + 2, 1];
        let len = (n[0] + 2) * (n[1] + 2) * (n[2] + 2);
        Lattice { edge, lo, n, stride, phase: vec![0; len], amount: vec![0; len], written: vec![false; len] }
    }

    /// Local index of local coordinates (−1 ..= n on each axis).
    pub fn index(&self, x: isize, y: isize, z: isize) -> usize {
        (x + 1) as usize * self.stride[0] + (y + 1) as usize * self.stride[1] + (z + 1) as usize
    }

    /// Local index of an owned cell.
    pub fn owned(&self, c: [usize; 3]) -> usize {
        self.index(c[0] as isize, c[1] as isize, c[2] as isize)
    }

    /// Global cell number (row-major over x, y, z) of an owned cell.
    pub fn global_id(&self, c: [usize; 3]) -> u64 {
        let l = self.edge as u64;
        (((self.lo[0] + c[0]) as u64 * l) + (self.lo[1] + c[1]) as u64) * l + (self.lo[2] + c[2]) as u64
    }

    /// Neighbors of a local index: −x, +x, −y, +y, −z, +z.
    pub fn neighbors(&self, i: usize) -> [usize; 6] {
        let [sx, sy, sz] = self.stride;
        [i - sx, i + sx, i - sy, i + sy, i - sz, i + sz]
    }

    /// Owned coordinates along `axis` whose colour is `c`.
    pub fn coords_of_colour(&self, axis: usize, c: usize) -> Vec<usize> {
        (0..self.n[axis]).filter(|&x| axis_colour(self.lo[axis] + x, self.edge) == c).collect()
    }

    /// Every owned coordinate of a block of `n` cells, in local order (borrows nothing, so
    /// the lattice can be changed while iterating).
    pub fn coords(n: [usize; 3]) -> impl Iterator<Item = [usize; 3]> {
        (0..n[0]).flat_map(move |x| (0..n[1]).flat_map(move |y| (0..n[2]).map(move |z| [x, y, z])))
    }

    /// Every owned cell, as (local index, global id), in local order.
    pub fn owned_cells(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        let n = self.n;
        (0..n[0]).flat_map(move |x| {
            (0..n[1]).flat_map(move |y| (0..n[2]).map(move |z| (self.owned([x, y, z]), self.global_id([x, y, z]))))
        })
    }

    /// Records that a ghost was written by a visit.
    pub fn mark_written(&mut self, i: usize) {
        self.written[i] = true;
    }

    /// The two face slabs along `axis`: the cross-section cells (owned coordinates on the
    /// other two axes with the colours of `colour`) at local coordinate `at`.
    fn slab(&self, axis: usize, at: isize, colour: [usize; 3]) -> Vec<usize> {
        let (b, c) = match axis {
            0 => (1, 2),
            1 => (0, 2),
            _ => (0, 1),
        };
        let ub = self.coords_of_colour(b, colour[b]);
        let uc = self.coords_of_colour(c, colour[c]);
        let mut out = Vec::with_capacity(ub.len() * uc.len());
        for &p in &ub {
            for &q in &uc {
                let mut x = [0isize; 3];
                x[axis] = at;
                x[b] = p as isize;
                x[c] = q as isize;
                out.push(self.index(x[0], x[1], x[2]));
            }
        }
        out
    }

    /// Whether the ghost below (`lower`) or above this block along `axis` is read by the
    /// boundary sites of `colour`.
    fn ghost_in_play(&self, axis: usize, lower: bool, colour: [usize; 3]) -> bool {
        let x = if lower { self.lo[axis] } else { self.lo[axis] + self.n[axis] - 1 };
        axis_colour(x % self.edge, self.edge) == colour[axis]
    }

    /// Whether the neighbor's ghost facing this block's upper (`upper`) or lower face is in
    /// play for `colour`.
    fn neighbor_ghost_in_play(&self, axis: usize, upper: bool, colour: [usize; 3]) -> bool {
        let x = if upper {
            (self.lo[axis] + self.n[axis]) % self.edge
        } else {
            (self.lo[axis] + self.edge - 1) % self.edge
        };
        axis_colour(x, self.edge) == colour[axis]
    }

    /// Owner values → the ghosts that the sites of `colour` read.
    pub fn forward(&mut self, comm: &dyn Communicator, colour: [usize; 3]) {
        let mut send = Vec::new();
        let mut recv = Vec::new();
        for axis in 0..3 {
            let ax = Axis::ALL[axis];
            let top = self.n[axis] as isize - 1;
            for (dir, src, dst, send_ok, recv_ok) in [
                (
                    Dir::Upper,
                    top,
                    -1,
                    self.neighbor_ghost_in_play(axis, true, colour),
                    self.ghost_in_play(axis, true, colour),
                ),
                (
                    Dir::Lower,
                    0,
                    top + 1,
                    self.neighbor_ghost_in_play(axis, false, colour),
                    self.ghost_in_play(axis, false, colour),
                ),
            ] {
                send.clear();
                if send_ok {
                    for i in self.slab(axis, src, colour) {
                        send.push(self.phase[i] as u64);
                        send.push(self.amount[i]);
                    }
                }
                comm.shift_u64(ax, dir, &send, &mut recv);
                if recv_ok {
                    let cells = self.slab(axis, dst, colour);
                    assert_eq!(recv.len(), 2 * cells.len(), "halo sizes agree between neighbors");
                    for (k, &i) in cells.iter().enumerate() {
                        self.phase[i] = recv[2 * k] as PhaseId;
                        self.amount[i] = recv[2 * k + 1];
                    }
                }
            }
        }
    }

    /// Ghosts written by the sites of `colour` → their owners.
    pub fn reverse(&mut self, comm: &dyn Communicator, colour: [usize; 3]) {
        let mut send = Vec::new();
        let mut recv = Vec::new();
        for axis in 0..3 {
            let ax = Axis::ALL[axis];
            let top = self.n[axis] as isize - 1;
            // The ghost below goes back down to the rank that owns it, into its top slab;
            // the ghost above goes up into the upper rank's bottom slab.
            for (dir, src, dst, send_ok, recv_ok) in [
                (
                    Dir::Lower,
                    -1,
                    top,
                    self.ghost_in_play(axis, true, colour),
                    self.neighbor_ghost_in_play(axis, true, colour),
                ),
                (
                    Dir::Upper,
                    top + 1,
                    0,
                    self.ghost_in_play(axis, false, colour),
                    self.neighbor_ghost_in_play(axis, false, colour),
                ),
            ] {
                send.clear();
                if send_ok {
                    for i in self.slab(axis, src, colour) {
                        send.push(self.phase[i] as u64 | (self.written[i] as u64) << 32);
                        send.push(self.amount[i]);
                        self.written[i] = false;
                    }
                }
                comm.shift_u64(ax, dir, &send, &mut recv);
                if recv_ok {
                    let cells = self.slab(axis, dst, colour);
                    assert_eq!(recv.len(), 2 * cells.len(), "halo sizes agree between neighbors");
                    for (k, &i) in cells.iter().enumerate() {
                        if recv[2 * k] >> 32 != 0 {
                            self.phase[i] = (recv[2 * k] & 0xffff) as PhaseId;
                            self.amount[i] = recv[2 * k + 1];
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_colours_are_three_apart_on_every_ring() {
        for l in 3..40 {
            for x in 0..l {
                for y in 0..l {
                    if x != y && axis_colour(x, l) == axis_colour(y, l) {
                        let d = (x as isize - y as isize).unsigned_abs();
                        assert!(d.min(l - d) >= 3, "L = {l}: {x} and {y}");
                    }
                }
            }
            assert_eq!((0..l).map(|x| axis_colour(x, l)).max().unwrap() + 1, axis_colours(l));
        }
    }
}
