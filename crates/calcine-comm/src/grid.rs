use crate::{Axis, Dir};

/// A Cartesian grid of ranks and this rank's place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcGrid {
    pub dims: [usize; 3],
    pub coords: [usize; 3],
    pub periodic: [bool; 3],
}

impl ProcGrid {
    /// The one-rank grid.
    pub fn single(periodic: [bool; 3]) -> Self {
        Self { dims: [1, 1, 1], coords: [0, 0, 0], periodic }
    }

    /// Chooses `px·py·pz = n_ranks` minimising the surface of one subdomain of a box with
    /// edge lengths `lengths` (as LAMMPS `Comm::set_proc_grid`). Ties go to the grid with
    /// more ranks along x, then y, so the choice is the same on every rank.
    pub fn choose(n_ranks: usize, lengths: [f64; 3]) -> [usize; 3] {
        assert!(n_ranks > 0);
        let mut best = [n_ranks, 1, 1];
        let mut best_area = f64::INFINITY;
        for px in (1..=n_ranks).rev() {
            if !n_ranks.is_multiple_of(px) {
                continue;
            }
            let rest = n_ranks / px;
            for py in (1..=rest).rev() {
                if !rest.is_multiple_of(py) {
                    continue;
                }
                let pz = rest / py;
                let (a, b, c) = (lengths[0] / px as f64, lengths[1] / py as f64, lengths[2] / pz as f64);
                let area = a * b + b * c + a * c;
                if area < best_area * (1.0 - 1e-12) {
                    best_area = area;
                    best = [px, py, pz];
                }
            }
        }
        best
    }

    pub fn size(&self) -> usize {
        self.dims.iter().product()
    }

    /// Rank of the grid point `coords` in MPI's row-major order: rank = (cx·py + cy)·pz + cz.
    pub fn rank_of(&self, coords: [usize; 3]) -> usize {
        (coords[0] * self.dims[1] + coords[1]) * self.dims[2] + coords[2]
    }

    pub fn coords_of(&self, rank: usize) -> [usize; 3] {
        let cz = rank % self.dims[2];
        let cy = (rank / self.dims[2]) % self.dims[1];
        let cx = rank / (self.dims[1] * self.dims[2]);
        [cx, cy, cz]
    }

    /// Coordinates of the neighbor along `axis` in `dir`, wrapping on periodic axes.
    pub fn neighbor_coords(&self, axis: Axis, dir: Dir) -> Option<[usize; 3]> {
        let a = axis.index();
        let n = self.dims[a];
        let c = self.coords[a];
        let mut out = self.coords;
        match dir {
            Dir::Lower => {
                if c == 0 {
                    if !self.periodic[a] {
                        return None;
                    }
                    out[a] = n - 1;
                } else {
                    out[a] = c - 1;
                }
            }
            Dir::Upper => {
                if c + 1 == n {
                    if !self.periodic[a] {
                        return None;
                    }
                    out[a] = 0;
                } else {
                    out[a] = c + 1;
                }
            }
        }
        Some(out)
    }

    /// True if a step from this rank in `dir` along `axis` crosses the periodic boundary.
    pub fn crosses_boundary(&self, axis: Axis, dir: Dir) -> bool {
        let a = axis.index();
        match dir {
            Dir::Lower => self.coords[a] == 0,
            Dir::Upper => self.coords[a] + 1 == self.dims[a],
        }
    }

    /// This rank's slab `[lo, hi)` along `axis` in fractional coordinates.
    pub fn fractional_bounds(&self, axis: usize) -> (f64, f64) {
        let n = self.dims[axis] as f64;
        let c = self.coords[axis] as f64;
        (c / n, (c + 1.0) / n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_follows_box_shape() {
        assert_eq!(ProcGrid::choose(1, [1.0, 1.0, 1.0]), [1, 1, 1]);
        assert_eq!(ProcGrid::choose(8, [1.0, 1.0, 1.0]), [2, 2, 2]);
        assert_eq!(ProcGrid::choose(4, [10.0, 1.0, 1.0]), [4, 1, 1]);
        assert_eq!(ProcGrid::choose(4, [10.0, 10.0, 1.0]), [2, 2, 1]);
        assert_eq!(ProcGrid::choose(3, [1.0, 1.0, 1.0]), [3, 1, 1]);
        assert_eq!(ProcGrid::choose(12, [2.0, 1.0, 1.0]), [3, 2, 2]);
        assert_eq!(ProcGrid::choose(7, [1.0, 5.0, 1.0]), [1, 7, 1]);
    }

    #[test]
    fn ranks_and_neighbors() {
        let g = ProcGrid { dims: [2, 3, 2], coords: [1, 0, 1], periodic: [true, true, false] };
        let r = g.rank_of(g.coords);
        assert_eq!(g.coords_of(r), g.coords);
        assert_eq!(g.neighbor_coords(Axis::X, Dir::Upper), Some([0, 0, 1]));
        assert_eq!(g.neighbor_coords(Axis::Y, Dir::Lower), Some([1, 2, 1]));
        assert_eq!(g.neighbor_coords(Axis::Z, Dir::Upper), None);
        assert!(g.crosses_boundary(Axis::Y, Dir::Lower));
    }
}
