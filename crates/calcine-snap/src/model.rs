//! A SNAP model for a run: the parameters, and the coefficients of the elements the run's
//! species map to, checked against each other.

use crate::basis::{n_components, MAX_TWO_J_MAX};
use crate::files::{SnapCoeffFile, SnapParams};
use calcine_potential::PotentialError;
use std::path::Path;

/// One element of a run: its radius, weight and coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    /// R: pairs of elements a and b interact below (R_a + R_b)·rcutfac.
    pub radius: f64,
    /// w: the weight of a neighbor of this element in the density.
    pub weight: f64,
    /// β₀, the energy of an atom of this element without neighbors.
    pub beta0: f64,
    /// β_k, one per descriptor.
    pub linear: Vec<f64>,
    /// α, the upper triangle of the symmetric matrix row by row (diagonal first), for a
    /// quadratic potential; empty otherwise.
    pub quadratic: Vec<f64>,
    /// `sinner` and `dinner` of the inner switching function, if it is on.
    pub inner: Option<(f64, f64)>,
}

/// A SNAP potential as a run uses it (LAMMPS `pair_coeff * * X.snapcoeff X.snapparam El…`).
///
/// Elements are numbered in the order they first appear in the species list (LAMMPS's
/// `map_element2type`). With chemflag these numbers index the element triples of the
/// descriptors, and `sinner`/`dinner` values are read in this order too, both as LAMMPS
/// does; a species list that names the elements in another order than the coefficient
/// file therefore gives another potential, in LAMMPS as here.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapModel {
    pub params: SnapParams,
    pub elements: Vec<Element>,
    /// The element of each species (by species index).
    pub species_element: Vec<usize>,
    /// K: bispectrum components per element triple.
    pub n_components: usize,
    /// Descriptors per atom: K, or K·N³ with chemflag over N elements.
    pub n_descriptors: usize,
}

impl SnapModel {
    /// Reads both files and maps species `k` to the element named `species[k]`.
    pub fn read<S: AsRef<str>>(
        coeff_path: impl AsRef<Path>,
        param_path: impl AsRef<Path>,
        species: &[S],
    ) -> Result<Self, PotentialError> {
        let coeff = SnapCoeffFile::read(coeff_path)?;
        let params = SnapParams::read(param_path)?;
        Self::new(&coeff, params, species)
    }

    /// Combines a coefficient file and parameters for the given species names, checking
    /// that every species is an element of the file, that the number of coefficients is
    /// the one twojmax, quadraticflag and chemflag call for, and (with chemflag) that every
    /// element of the file is used, as LAMMPS requires.
    pub fn new<S: AsRef<str>>(
        coeff: &SnapCoeffFile,
        params: SnapParams,
        species: &[S],
    ) -> Result<Self, PotentialError> {
        if species.is_empty() {
            return Err(PotentialError::Config("snap: no species given".into()));
        }
        if params.two_j_max > MAX_TWO_J_MAX {
            return Err(PotentialError::Config(format!("snap: twojmax {} is above {MAX_TWO_J_MAX}", params.two_j_max)));
        }
        let mut names: Vec<&str> = Vec::new();
        let mut species_element = Vec::with_capacity(species.len());
        for s in species {
            let s = s.as_ref();
            let e = match names.iter().position(|n| *n == s) {
                Some(e) => e,
                None => {
                    names.push(s);
                    names.len() - 1
                }
            };
            species_element.push(e);
        }
        let blocks = names.iter().map(|n| coeff.element(n)).collect::<Result<Vec<_>, _>>()?;
        let n_el = names.len();
        if params.chem && n_el != coeff.elements.len() {
            let unused: Vec<&str> =
                coeff.elements.iter().map(|e| e.name.as_str()).filter(|n| !names.contains(n)).collect();
            return Err(PotentialError::Invalid {
                path: coeff.path.clone(),
                reason: format!(
                    "chemflag 1 needs every element of the file mapped to a species; not mapped: {}",
                    unused.join(", ")
                ),
            });
        }
        let n_components = n_components(params.two_j_max);
        let n_descriptors = if params.chem { n_components * n_el * n_el * n_el } else { n_components };
        let n_quadratic = if params.quadratic { n_descriptors * (n_descriptors + 1) / 2 } else { 0 };
        let needed = 1 + n_descriptors + n_quadratic;
        if coeff.n_coefficients != needed {
            let mut how = format!("1 + {n_components}");
            if params.chem {
                how.push_str(&format!("·{n_el}³"));
            }
            if params.quadratic {
                how.push_str(&format!(" + {n_descriptors}·{}/2", n_descriptors + 1));
            }
            return Err(PotentialError::parse(
                &coeff.path,
                coeff.header_line,
                format!(
                    "{} coefficients per element, but twojmax {} with quadraticflag {} and chemflag {}{} needs {how} = {needed}",
                    coeff.n_coefficients,
                    params.two_j_max,
                    u8::from(params.quadratic),
                    u8::from(params.chem),
                    if params.chem { format!(" over {n_el} elements") } else { String::new() },
                ),
            ));
        }
        if let Some(inner) = &params.inner_switch {
            for (key, values, line) in
                [("sinner", &inner.sinner, inner.sinner_line), ("dinner", &inner.dinner, inner.dinner_line)]
            {
                if values.len() != n_el {
                    return Err(PotentialError::parse(
                        &params.path,
                        line,
                        format!(
                            "{key} has {} values, but {n_el} elements are mapped ({})",
                            values.len(),
                            names.join(" ")
                        ),
                    ));
                }
            }
        }
        let smallest = blocks.iter().map(|b| b.radius).fold(f64::INFINITY, f64::min) * 2.0 * params.rcutfac;
        if !(smallest > params.rmin0) {
            return Err(PotentialError::Invalid {
                path: params.path.clone(),
                reason: format!("rmin0 {} must be below every pair cutoff (the smallest is {smallest})", params.rmin0),
            });
        }
        if params.normalize_b != params.chem {
            // LAMMPS warns about this too: fitted potentials use both or neither.
            tracing::warn!(
                param_file = %params.path.display(),
                "snap: bnormflag {} and chemflag {} differ; this is probably not what was intended",
                u8::from(params.normalize_b),
                u8::from(params.chem)
            );
        }
        let elements = blocks
            .iter()
            .enumerate()
            .map(|(e, b)| Element {
                name: b.name.clone(),
                radius: b.radius,
                weight: b.weight,
                beta0: b.coefficients[0],
                linear: b.coefficients[1..1 + n_descriptors].to_vec(),
                quadratic: b.coefficients[1 + n_descriptors..].to_vec(),
                inner: params.inner_switch.as_ref().map(|s| (s.sinner[e], s.dinner[e])),
            })
            .collect();
        Ok(Self { params, elements, species_element, n_components, n_descriptors })
    }

    /// The interaction cutoff (R_a + R_b)·rcutfac of elements a and b.
    #[inline]
    pub fn pair_cutoff(&self, a: usize, b: usize) -> f64 {
        (self.elements[a].radius + self.elements[b].radius) * self.params.rcutfac
    }

    /// The largest pair cutoff.
    pub fn max_cutoff(&self) -> f64 {
        let n = self.elements.len();
        (0..n).flat_map(|a| (0..n).map(move |b| (a, b))).map(|(a, b)| self.pair_cutoff(a, b)).fold(0.0, f64::max)
    }

    /// Number of element channels of the density: the elements with chemflag, else 1.
    pub fn n_channels(&self) -> usize {
        if self.params.chem {
            self.elements.len()
        } else {
            1
        }
    }

    /// The density channel a neighbor of element `e` contributes to.
    #[inline]
    pub fn channel(&self, e: usize) -> usize {
        if self.params.chem {
            e
        } else {
            0
        }
    }

    /// Number of columns of [`crate::Snap::compute_bispectrum`]: the descriptors, and for a
    /// quadratic potential their products too (LAMMPS `compute sna/atom`).
    pub fn n_bispectrum_columns(&self) -> usize {
        let n = self.n_descriptors;
        if self.params.quadratic {
            n + n * (n + 1) / 2
        } else {
            n
        }
    }

    /// Energy of an atom of element `e` with descriptors `b`, E = β₀ + β·B + ½ BᵀαB, and
    /// dE/dB = β + αB (LAMMPS `compute_beta`), in LAMMPS's order of operations.
    pub fn energy_and_gradient(&self, e: usize, b: &[f64]) -> (f64, Vec<f64>) {
        let el = &self.elements[e];
        let n = self.n_descriptors;
        let mut energy = el.beta0;
        for k in 0..n {
            energy += el.linear[k] * b[k];
        }
        let mut beta = el.linear.clone();
        if self.params.quadratic {
            let mut q = 0;
            for k in 0..n {
                energy += 0.5 * el.quadratic[q] * b[k] * b[k];
                beta[k] += el.quadratic[q] * b[k];
                q += 1;
                for l in k + 1..n {
                    energy += el.quadratic[q] * b[k] * b[l];
                    beta[k] += el.quadratic[q] * b[l];
                    beta[l] += el.quadratic[q] * b[k];
                    q += 1;
                }
            }
        }
        (energy, beta)
    }

    /// The bispectrum row of `compute sna/atom`: B, then for a quadratic potential
    /// ½B_k² and B_k·B_l (l > k) in the order of α.
    pub fn bispectrum_columns(&self, b: &[f64]) -> Vec<f64> {
        let mut row = b.to_vec();
        if self.params.quadratic {
            for k in 0..b.len() {
                row.push(0.5 * b[k] * b[k]);
                for l in k + 1..b.len() {
                    row.push(b[k] * b[l]);
                }
            }
        }
        row
    }
}
