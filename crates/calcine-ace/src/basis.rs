//! A model made ready to evaluate: lookup tables of g_k, R_nl and the core repulsion for
//! every ordered element pair (ML-PACE `setuplookupRadspline`), the spherical-harmonic
//! recursion coefficients and the global sizes.

use crate::harmonics::Harmonics;
use crate::model::{AceModel, InnerCutoffKind};
use crate::radial::{atomic_number, core_repulsion, radial_basis, radial_functions, zbl};
use crate::table::Table;
use calcine_potential::PotentialError;

/// The three tables of one ordered element pair.
#[derive(Debug, Clone)]
pub struct BondTables {
    /// g_k, k < nradbase.
    pub g: Table,
    /// R_nl, row-major [n][l] with n < nradmax, l ≤ lmax.
    pub rnl: Table,
    /// The core repulsion (or ZBL) pair term.
    pub core: Table,
}

#[derive(Debug, Clone)]
pub struct Basis {
    pub model: AceModel,
    pub lmax: usize,
    pub nradmax: usize,
    pub nradbase: usize,
    pub tables: Vec<BondTables>,
    pub harmonics: Harmonics,
}

impl Basis {
    pub fn new(model: AceModel) -> Result<Self, PotentialError> {
        model.check()?;
        let (lmax, nradmax, nradbase) = (model.lmax(), model.nradmax(), model.nradbase());
        let n = model.n_elements();
        let inner = model.inner_cutoff;
        let bin = model.delta_spline_bins;
        let mut tables = Vec::with_capacity(n * n);
        for mu_i in 0..n {
            for mu_j in 0..n {
                let bond = model.bond(mu_i, mu_j);
                let g = Table::new(nradbase, bond.rcut, bin, |r, v, d| radial_basis(bond, inner, nradbase, r, v, d));
                let mut gk = vec![0.0; nradbase];
                let mut dgk = vec![0.0; nradbase];
                let rnl = Table::new(nradmax * (lmax + 1), bond.rcut, bin, |r, v, d| {
                    radial_basis(bond, inner, nradbase, r, &mut gk, &mut dgk);
                    radial_functions(bond, nradmax, lmax, &gk, &dgk, v, d);
                });
                let core = match inner {
                    InnerCutoffKind::Density | InnerCutoffKind::Distance => {
                        Table::new(1, bond.rcut, bin, |r, v, d| (v[0], d[0]) = core_repulsion(bond, inner, r))
                    }
                    InnerCutoffKind::Zbl => {
                        let z = |mu: usize| {
                            atomic_number(&model.elements[mu]).map(f64::from).ok_or_else(|| PotentialError::Invalid {
                                path: model.path.clone(),
                                reason: format!(
                                    "ZBL needs the atomic number of '{}', which is not an element symbol",
                                    model.elements[mu]
                                ),
                            })
                        };
                        let (zi, zj) = (z(mu_i)?, z(mu_j)?);
                        Table::new(1, bond.rcut, bin, |r, v, d| {
                            (v[0], d[0]) = zbl(r, zi, zj, bond.rcut, bond.rcut - bond.dcut, bond.prehc)
                        })
                    }
                };
                tables.push(BondTables { g, rnl, core });
            }
        }
        Ok(Self { harmonics: Harmonics::new(lmax), model, lmax, nradmax, nradbase, tables })
    }

    #[inline]
    pub fn tables(&self, mu_i: usize, mu_j: usize) -> &BondTables {
        &self.tables[mu_i * self.model.n_elements() + mu_j]
    }
}
