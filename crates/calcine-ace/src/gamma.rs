//! The extrapolation grade γ of ACE (Lysogorskiy et al., Phys. Rev. Materials 7, 043801
//! (2023)), as LAMMPS `compute pace/extrapolation` and pyace compute it with ML-PACE's
//! `ACEBEvaluator`: for an atom of element μ, the vector b of its B-basis projections
//! (linear grade: b_k = B_k, the value of each B-function of μ without its coefficients;
//! full grade: b_{p,k} = ∂F/∂ρ_p · B_k) times the inverse of μ's active-set matrix A⁻¹
//! from the `.asi` file, and γ = max_j |Σ_k b_k (A⁻¹)_{kj}|. γ ≤ 1 interpolates within the
//! training set's active set; pacemaker's practice is to collect structures above about 5
//! and to stop above about 25.

use crate::asi::{read_asi, Matrix};
use crate::basis::Basis;
use crate::bbasis::{read_bbasis, BFunction};
use crate::complex::Complex;
use crate::embedding::embed;
use crate::harmonics::{lm, n_lm};
use crate::reference::Close;
use crate::site::{self, Neighbor};
use crate::{Ace, Algorithm};
use calcine_core::Atoms;
use calcine_neighbor::{NeighborKind, NeighborList};
use calcine_potential::{Potential, PotentialError};
use rayon::prelude::*;
use std::path::Path;

impl calcine_potential::AtomGrade for Extrapolation {
    fn name(&self) -> &'static str {
        "gamma"
    }

    fn neighbor_kind(&self) -> NeighborKind {
        NeighborKind::Full
    }

    fn grade(&self, input: &calcine_potential::ForceInput<'_>) -> Result<Vec<f64>, PotentialError> {
        self.compute_gamma(input.atoms, input.neighbors)
    }
}

/// Which projections the active set was built from (told apart by the matrix size, as
/// ML-PACE does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradeKind {
    /// b = the B-functions' values (pacemaker's default).
    Linear,
    /// b = ∂F/∂ρ_p times the B-functions' values, density by density (`pace_activeset -f`).
    Full,
}

/// A B-basis potential with its active set: evaluates per-atom γ.
///
/// The potential itself ([`Extrapolation::potential`]) is the same as reading the
/// `.yaml` with [`Ace::read`]; γ needs no communication (only the atoms' own neighbor
/// rows, ghosts included), so a driver computes it on the steps it wants and reduces the
/// maximum over ranks itself.
#[derive(Debug, Clone)]
pub struct Extrapolation {
    potential: Ace,
    functions: Vec<Vec<BFunction>>,
    /// A⁻¹ of each element, indexed by element.
    active_set: Vec<Matrix>,
    kind: GradeKind,
}

impl Extrapolation {
    /// Reads a pacemaker `.yaml` and its `.asi` for the run's species names (LAMMPS
    /// `pair_coeff * * pot.yaml pot.asi El…`).
    pub fn read<S: AsRef<str>>(
        yaml: impl AsRef<Path>,
        asi: impl AsRef<Path>,
        species: &[S],
    ) -> Result<Self, PotentialError> {
        let (yaml, asi) = (yaml.as_ref(), asi.as_ref());
        let bbasis = read_bbasis(yaml)?;
        let matrices = read_asi(asi)?;
        let model = &bbasis.model;
        let invalid = |reason: String| PotentialError::Invalid { path: asi.to_path_buf(), reason };
        if matrices.len() != model.n_elements() {
            return Err(invalid(format!(
                "{} arrays for the {} elements of {} ({})",
                matrices.len(),
                model.n_elements(),
                yaml.display(),
                model.elements.join(", ")
            )));
        }
        let mut kinds = Vec::new();
        let mut active_set = Vec::with_capacity(model.n_elements());
        for (mu, element) in model.elements.iter().enumerate() {
            let m = matrices.get(element).ok_or_else(|| invalid(format!("no array for element {element}")))?;
            let n_funcs = bbasis.functions[mu].len();
            let ndensity = model.embeddings[mu].ndensity;
            let kind = if m.n == n_funcs {
                GradeKind::Linear
            } else if m.n == n_funcs * ndensity {
                GradeKind::Full
            } else {
                return Err(invalid(format!(
                    "the {element} array is {n}×{n}; {n_funcs} (linear) or {full} (full) were expected from {yaml}",
                    n = m.n,
                    full = n_funcs * ndensity,
                    yaml = yaml.display()
                )));
            };
            kinds.push(kind);
            active_set.push(m.clone());
        }
        if kinds.windows(2).any(|w| w[0] != w[1]) {
            return Err(invalid("the arrays mix linear and full active sets".into()));
        }
        let potential = Ace::new(bbasis.model.clone(), species)?;
        Ok(Self { potential, functions: bbasis.functions, active_set, kind: kinds[0] })
    }

    /// The potential the `.yaml` defines (recursive kernel by default).
    pub fn potential(&self) -> &Ace {
        &self.potential
    }

    /// The same, as a potential with the given algorithm, for the run's force calls.
    pub fn into_potential(self, algorithm: Algorithm) -> Ace {
        self.potential.with_algorithm(algorithm)
    }

    pub fn kind(&self) -> GradeKind {
        self.kind
    }

    /// γ of every owned atom, in atom order. `neighbors` must be a full list of radius at
    /// least the potential's cutoff, with ghosts, as for a force call.
    pub fn compute_gamma(&self, atoms: &Atoms, neighbors: &NeighborList) -> Result<Vec<f64>, PotentialError> {
        assert_eq!(neighbors.kind(), NeighborKind::Full, "ace gamma needs a full neighbor list");
        assert_eq!(neighbors.n_owned(), atoms.n_owned(), "neighbor list is stale: owned atom counts differ");
        assert!(
            neighbors.list_radius() >= self.potential.cutoff(),
            "neighbor list radius is below the potential's cutoff"
        );
        let basis = &self.potential.basis;
        let elements = &self.potential.species_element;
        if let Some(s) = atoms.species.iter().find(|s| s.index() >= elements.len()) {
            return Err(PotentialError::Config(format!("ace: species index {} is out of range", s.index())));
        }
        (0..atoms.n_owned())
            .into_par_iter()
            .map_init(<(Vec<_>, Vec<u32>)>::default, |(sites, row), i| {
                let mu_i = elements[atoms.species[i].index()];
                site::gather(basis, elements, atoms, i, mu_i, neighbors.row_atoms(i, row), sites);
                self.atom_gamma(basis, mu_i, sites).map_err(|c| PotentialError::TooClose {
                    potential: "ace".into(),
                    id_i: atoms.ids[i].0,
                    id_j: atoms.ids[c.atom_idx].0,
                    distance: c.r,
                    min_distance: c.min_distance,
                })
            })
            .collect()
    }

    /// γ of one atom from its neighbors.
    fn atom_gamma(&self, basis: &Basis, mu_i: usize, neighbors: &[Neighbor]) -> Result<f64, Close> {
        let (a1, a) = atomic_base(basis, mu_i, neighbors)?;
        let per_n = (basis.lmax + 1) * (basis.lmax + 1);
        let a_of = |mu: usize, n: usize, l: usize, m: i32| -> Complex {
            a[((mu * basis.nradmax + n - 1) * per_n + l * l + l).wrapping_add_signed(m as isize)]
        };
        let projections: Vec<f64> = self.functions[mu_i]
            .iter()
            .map(|f| {
                if f.rank == 1 {
                    return a1[f.mus[0] * basis.nradbase + f.ns[0] - 1];
                }
                let mut b = 0.0;
                for (ms, &cg) in f.ms_combs.chunks(f.rank).zip(&f.gen_cgs) {
                    let mut prod = Complex::ONE;
                    for t in 0..f.rank {
                        prod = prod * a_of(f.mus[t], f.ns[t], f.ls[t], ms[t]);
                    }
                    b += prod.re * cg;
                }
                b
            })
            .collect();
        let vector = match self.kind {
            GradeKind::Linear => projections,
            GradeKind::Full => {
                // ∂F/∂ρ_p before the inner-cutoff switch, as ML-PACE takes it.
                let model = &basis.model;
                let embedding = &model.embeddings[mu_i];
                let mut rho = vec![0.0; embedding.ndensity];
                for f in &model.functions[mu_i] {
                    for (ms, c) in f.ms_combs.chunks(f.rank).zip(f.ctildes.chunks(embedding.ndensity)) {
                        let value = if f.rank == 1 {
                            a1[f.mus[0] * basis.nradbase + f.ns[0] - 1]
                        } else {
                            let mut prod = Complex::ONE;
                            for t in 0..f.rank {
                                prod = prod * a_of(f.mus[t], f.ns[t], f.ls[t], ms[t]);
                            }
                            prod.re
                        };
                        for p in 0..embedding.ndensity {
                            rho[p] += value * c[p];
                        }
                    }
                }
                let mut d_f = vec![0.0; embedding.ndensity];
                embed(embedding, &rho, &mut d_f);
                d_f.iter().flat_map(|&d| projections.iter().map(move |&b| d * b)).collect()
            }
        };
        let m = &self.active_set[mu_i];
        let mut gamma: f64 = 0.0;
        for j in 0..m.n {
            let mut g = 0.0;
            for (k, &v) in vector.iter().enumerate() {
                g += v * m.values[k * m.n + j];
            }
            gamma = gamma.max(g.abs());
        }
        Ok(gamma)
    }
}

/// The atomic base of an atom: A1[μ][k] and A[μ][n][l][m] (m from −l to l).
type AtomicBase = (Vec<f64>, Vec<Complex>);

/// The atomic base of an atom, or the first neighbor that is too close.
fn atomic_base(basis: &Basis, mu_i: usize, neighbors: &[Neighbor]) -> Result<AtomicBase, Close> {
    let (lmax, nradmax, nradbase) = (basis.lmax, basis.nradmax, basis.nradbase);
    let n_el = basis.model.n_elements();
    let per_n = (lmax + 1) * (lmax + 1);
    let mut a1 = vec![0.0; n_el * nradbase];
    let mut a = vec![Complex::ZERO; n_el * nradmax * per_n];
    let (mut values, mut derivatives) = (Vec::new(), Vec::new());
    let (mut p, mut dp) = (vec![0.0; n_lm(lmax)], vec![0.0; n_lm(lmax)]);
    let (mut y, mut dy) = (vec![Complex::ZERO; n_lm(lmax)], vec![[Complex::ZERO; 3]; n_lm(lmax)]);
    for nb in neighbors {
        let tables = basis.tables(mu_i, nb.mu);
        let close = |_| Close { atom_idx: nb.atom_idx, r: nb.r, min_distance: tables.min_distance() };
        values.resize(tables.width(), 0.0);
        derivatives.resize(tables.width(), 0.0);
        tables.table.eval(nb.r, &mut values, &mut derivatives).map_err(close)?;
        let lookup = tables.split(&values);
        let (g, r_nl) = (lookup.g, lookup.r_nl);
        let inv_r = 1.0 / nb.r;
        basis.harmonics.compute(nb.d.x * inv_r, nb.d.y * inv_r, nb.d.z * inv_r, &mut p, &mut dp, &mut y, &mut dy);
        for k in 0..nradbase {
            a1[nb.mu * nradbase + k] += g[k];
        }
        for n in 0..nradmax {
            for l in 0..=lmax {
                let r = r_nl[n * (lmax + 1) + l];
                for m in 0..=l {
                    a[(nb.mu * nradmax + n) * per_n + l * l + l + m] += y[lm(l, m)].scale(r);
                }
            }
        }
    }
    for block in a.chunks_mut(per_n) {
        for l in 1..=lmax {
            for m in 1..=l {
                let v = block[l * l + l + m];
                block[l * l + l - m] = v.conj().scale(if m % 2 == 0 { 1.0 } else { -1.0 });
            }
        }
    }
    Ok((a1, a))
}
