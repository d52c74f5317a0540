//! Crystal builders: sc, bcc, fcc, hcp and diamond, replicated nx×ny×nz.

use crate::{AtomId, Atoms, SimBox, SpeciesId, Vec3};

/// The crystal structures calcine can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatticeKind {
    Sc,
    Bcc,
    Fcc,
    /// Hexagonal close packed in an orthorhombic cell `a × √3·a × c` with 4 atoms.
    Hcp,
    Diamond,
}

impl std::str::FromStr for LatticeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "sc" => Self::Sc,
            "bcc" => Self::Bcc,
            "fcc" => Self::Fcc,
            "hcp" => Self::Hcp,
            "diamond" => Self::Diamond,
            other => return Err(format!("unknown lattice '{other}' (expected sc, bcc, fcc, hcp or diamond)")),
        })
    }
}

/// A lattice with its constants and replication.
#[derive(Debug, Clone, PartialEq)]
pub struct Lattice {
    pub kind: LatticeKind,
    /// Lattice constant a in Å.
    pub a: f64,
    /// c/a ratio for hcp (ideal √(8/3) by default).
    pub c_over_a: f64,
    pub cells: [usize; 3],
}

impl Lattice {
    pub fn new(kind: LatticeKind, a: f64) -> Self {
        Self { kind, a, c_over_a: (8.0f64 / 3.0).sqrt(), cells: [1, 1, 1] }
    }

    pub fn replicate(mut self, cells: [usize; 3]) -> Self {
        self.cells = cells;
        self
    }

    /// Edge lengths of one conventional cell.
    pub fn cell_lengths(&self) -> [f64; 3] {
        match self.kind {
            LatticeKind::Hcp => [self.a, 3f64.sqrt() * self.a, self.c_over_a * self.a],
            _ => [self.a; 3],
        }
    }

    /// Basis in fractional coordinates of one conventional cell.
    pub fn basis(&self) -> Vec<[f64; 3]> {
        match self.kind {
            LatticeKind::Sc => vec![[0.0, 0.0, 0.0]],
            LatticeKind::Bcc => vec![[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]],
            LatticeKind::Fcc => vec![[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]],
            LatticeKind::Hcp => vec![[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 5.0 / 6.0, 0.5], [0.0, 1.0 / 3.0, 0.5]],
            LatticeKind::Diamond => vec![
                [0.0, 0.0, 0.0],
                [0.5, 0.5, 0.0],
                [0.5, 0.0, 0.5],
                [0.0, 0.5, 0.5],
                [0.25, 0.25, 0.25],
                [0.75, 0.75, 0.25],
                [0.75, 0.25, 0.75],
                [0.25, 0.75, 0.75],
            ],
        }
    }

    /// Number of atoms of the replicated crystal.
    pub fn n_atoms(&self) -> usize {
        self.checked_n_atoms().expect("lattice atom count overflows")
    }

    /// The number of atoms, or `None` if it does not fit in 64 bits (a replication too
    /// large to be meant).
    pub fn checked_n_atoms(&self) -> Option<usize> {
        self.cells.iter().try_fold(self.basis().len(), |n, &c| n.checked_mul(c))
    }

    /// The periodic orthogonal box of the replicated crystal.
    pub fn simbox(&self) -> SimBox {
        let cl = self.cell_lengths();
        let [nx, ny, nz] = self.cells;
        let hi = Vec3::new(cl[0] * nx as f64, cl[1] * ny as f64, cl[2] * nz as f64);
        SimBox::orthogonal(Vec3::zeros(), hi, [true; 3]).expect("lattice box has positive lengths")
    }

    /// Builds a periodic orthogonal box filled with the replicated crystal, every atom of
    /// species `species`, ids 1..=N in cell order, zero velocities.
    pub fn build(&self, species: SpeciesId) -> (SimBox, Atoms) {
        (self.simbox(), self.build_where(species, |_| true))
    }

    /// The atoms of [`Lattice::build`] for which `keep(position)` holds, with the ids they
    /// have in the whole crystal: each rank of a parallel run makes only its own atoms.
    pub fn build_where(&self, species: SpeciesId, keep: impl Fn(&Vec3) -> bool) -> Atoms {
        let cl = self.cell_lengths();
        let [nx, ny, nz] = self.cells;
        let basis = self.basis();
        let mut atoms = Atoms::new();
        let mut id = 1u64;
        for k in 0..nz {
            for j in 0..ny {
                for i in 0..nx {
                    for b in &basis {
                        let x =
                            Vec3::new((i as f64 + b[0]) * cl[0], (j as f64 + b[1]) * cl[1], (k as f64 + b[2]) * cl[2]);
                        if keep(&x) {
                            atoms.push_owned(AtomId(id), species, x, Vec3::zeros(), [0; 3]);
                        }
                        id += 1;
                    }
                }
            }
        }
        atoms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nearest_distance(simbox: &SimBox, atoms: &Atoms) -> f64 {
        let mut best = f64::INFINITY;
        for i in 0..atoms.n_owned() {
            for j in 0..i {
                let d = simbox.minimum_image(&(atoms.positions[j] - atoms.positions[i])).norm();
                best = best.min(d);
            }
        }
        best
    }

    #[test]
    fn counts_and_nearest_neighbors() {
        let a = 3.0;
        let cases = [
            (LatticeKind::Sc, 1, a),
            (LatticeKind::Bcc, 2, a * 3f64.sqrt() / 2.0),
            (LatticeKind::Fcc, 4, a / 2f64.sqrt()),
            (LatticeKind::Hcp, 4, a),
            (LatticeKind::Diamond, 8, a * 3f64.sqrt() / 4.0),
        ];
        for (kind, per_cell, d_nn) in cases {
            let (simbox, atoms) = Lattice::new(kind, a).replicate([3, 3, 3]).build(SpeciesId(0));
            assert_eq!(atoms.n_owned(), 27 * per_cell, "{kind:?}");
            assert!((nearest_distance(&simbox, &atoms) - d_nn).abs() < 1e-12, "{kind:?}");
        }
    }
}
