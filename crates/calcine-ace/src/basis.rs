//! A model made ready to evaluate: lookup tables of g_k, R_nl and the core repulsion for
//! every ordered element pair (ML-PACE `setuplookupRadspline`), the spherical-harmonic
//! recursion coefficients and the global sizes.

use crate::harmonics::Harmonics;
use crate::model::{AceModel, InnerCutoffKind};
use crate::radial::{atomic_number, core_repulsion, radial_basis, radial_functions, zbl};
use crate::table::Table;
use calcine_potential::PotentialError;

/// The radial functions of one ordered element pair in one table, so that a lookup reads
/// one stretch of memory: g_k (k < nradbase), then R_nl (row-major [n][l], n < nradmax,
/// l ≤ lmax), then the core repulsion (or ZBL) pair term. Each function's coefficients
/// depend only on its own node values, so this is ML-PACE's three tables side by side.
#[derive(Debug, Clone)]
pub struct BondTables {
    pub table: Table,
    pub nradbase: usize,
    pub n_rl: usize,
}

/// The values of one lookup, split into g_k, R_nl and the core term.
pub struct Lookup<'a> {
    pub g: &'a [f64],
    pub r_nl: &'a [f64],
    pub core: f64,
}

impl BondTables {
    /// The number of functions of the table.
    pub fn width(&self) -> usize {
        self.nradbase + self.n_rl + 1
    }

    /// The smallest distance the table accepts.
    pub fn min_distance(&self) -> f64 {
        self.table.min_distance()
    }

    /// Splits a row of [`BondTables::width`] values.
    pub fn split<'a>(&self, row: &'a [f64]) -> Lookup<'a> {
        Lookup {
            g: &row[..self.nradbase],
            r_nl: &row[self.nradbase..self.nradbase + self.n_rl],
            core: row[self.nradbase + self.n_rl],
        }
    }
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
                let n_rl = nradmax * (lmax + 1);
                let z = match inner {
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
                        Some((z(mu_i)?, z(mu_j)?))
                    }
                    _ => None,
                };
                let mut gk = vec![0.0; nradbase];
                let mut dgk = vec![0.0; nradbase];
                let table = Table::new(nradbase + n_rl + 1, bond.rcut, bin, |r, v, d| {
                    radial_basis(bond, inner, nradbase, r, &mut gk, &mut dgk);
                    v[..nradbase].copy_from_slice(&gk);
                    d[..nradbase].copy_from_slice(&dgk);
                    radial_functions(
                        bond,
                        nradmax,
                        lmax,
                        &gk,
                        &dgk,
                        &mut v[nradbase..nradbase + n_rl],
                        &mut d[nradbase..nradbase + n_rl],
                    );
                    let (cr, dcr) = match z {
                        None => core_repulsion(bond, inner, r),
                        Some((zi, zj)) => zbl(r, zi, zj, bond.rcut, bond.rcut - bond.dcut, bond.prehc),
                    };
                    v[nradbase + n_rl] = cr;
                    d[nradbase + n_rl] = dcr;
                });
                tables.push(BondTables { table, nradbase, n_rl });
            }
        }
        let bytes: usize = tables.iter().map(|t| t.table.memory_bytes()).sum();
        tracing::debug!(
            path = %model.path.display(),
            elements = n,
            lmax,
            nradmax,
            nradbase,
            table_megabytes = bytes as f64 / 1e6,
            "ace radial tables built"
        );
        Ok(Self { harmonics: Harmonics::new(lmax), model, lmax, nradmax, nradbase, tables })
    }

    #[inline]
    pub fn tables(&self, mu_i: usize, mu_j: usize) -> &BondTables {
        &self.tables[mu_i * self.model.n_elements() + mu_j]
    }
}
