//! What an atom's energy sees: its neighbors inside the pair cutoffs r_c(μ_i, μ_j), in
//! list order (ML-PACE keeps r < r_c).

use crate::basis::Basis;
use calcine_core::{Atoms, Vec3};

/// One neighbor j of atom i inside their pair cutoff.
#[derive(Debug, Clone, Copy)]
pub struct Neighbor {
    pub atom_idx: usize,
    /// x_j − x_i.
    pub d: Vec3,
    pub r: f64,
    /// The element of j.
    pub mu: usize,
}

/// Fills `out` with the neighbors of atom `i` (element `mu_i`) from its list row `row`
/// (atom indices); `element` maps species to elements.
pub fn gather(
    basis: &Basis,
    element: &[usize],
    atoms: &Atoms,
    i: usize,
    mu_i: usize,
    row: &[u32],
    out: &mut Vec<Neighbor>,
) {
    out.clear();
    let xi = atoms.positions[i];
    let n = basis.model.n_elements();
    for &j in row {
        let j = j as usize;
        let d = atoms.positions[j] - xi;
        let r = (d.x * d.x + d.y * d.y + d.z * d.z).sqrt();
        let mu = element[atoms.species[j].index()];
        if r < basis.model.bonds[mu_i * n + mu].rcut {
            out.push(Neighbor { atom_idx: j, d, r, mu });
        }
    }
}
