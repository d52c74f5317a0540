//! Readers for the two files of a SNAP potential, with LAMMPS's keys, defaults and
//! checks (`PairSNAP::read_files`, LAMMPS 19 Nov 2024).
//!
//! Both files are read line by line: `#` starts a comment, words are separated by white
//! space, and single or double quotes around a word are dropped. Lines that are blank
//! after removing the comment are skipped everywhere (LAMMPS skips them only at the top of
//! the coefficient file and anywhere in the parameter file; every file LAMMPS reads is read
//! the same way here). Every error names the file and the line.

use crate::basis::MAX_TWO_J_MAX;
use calcine_potential::text::{PotentialReader, Separators};
use calcine_potential::{read_potential_text, PotentialError};
use std::path::{Path, PathBuf};

/// The `.snapcoeff` file: per element a radius, a weight and the coefficients.
///
/// Layout: `nelem ncoeff`, then for each of the `nelem` elements a line `Name R w`
/// followed by `ncoeff` lines of one number each. Coefficient 0 is β₀, the energy of an
/// atom without neighbors; then come the linear coefficients β_k of the bispectrum
/// components (per element triple with chemflag), then for a quadratic potential the
/// upper triangle of α row by row, diagonal first. Which layout applies, and how many
/// coefficients that needs, depends on the parameter file; [`crate::SnapModel`] checks it.
/// Unlike LAMMPS, which skips the blocks of elements a run does not use without reading
/// them, every block is read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapCoeffFile {
    pub path: PathBuf,
    /// The line of the `nelem ncoeff` header.
    pub header_line: usize,
    /// `ncoeff`: coefficients per element.
    pub n_coefficients: usize,
    pub elements: Vec<CoeffElement>,
}

/// One element block of a `.snapcoeff` file.
#[derive(Debug, Clone, PartialEq)]
pub struct CoeffElement {
    pub name: String,
    /// R: the cutoff of a pair of elements is (R_i + R_j)·rcutfac.
    pub radius: f64,
    /// w: the weight of a neighbor of this element in the density.
    pub weight: f64,
    pub coefficients: Vec<f64>,
    /// The line of the `Name R w` header of the block.
    pub line: usize,
}

/// The `.snapparam` file: one `keyword value` per line (`sinner` and `dinner` take one
/// value per element). Field docs give the keyword and LAMMPS's default.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapParams {
    pub path: PathBuf,
    /// `rcutfac` (required): the cutoff of a pair of elements is (R_i + R_j)·rcutfac.
    pub rcutfac: f64,
    /// `twojmax` (required): 2J_max, twice the largest angular momentum of the expansion.
    pub two_j_max: usize,
    /// `rfac0` (0.99363): the polar angle θ0 = rfac0·π·(r − rmin0)/(r_c − rmin0) of the
    /// map onto the 3-sphere reaches rfac0·π at the cutoff.
    pub rfac0: f64,
    /// `rmin0` (0): the distance at which θ0 is zero and the switching function starts.
    pub rmin0: f64,
    /// `switchflag` (1): multiply each neighbor's contribution by the switching function
    /// f_c(r) = ½(cos(π(r − rmin0)/(r_c − rmin0)) + 1).
    pub switching: bool,
    /// `bzeroflag` (1): subtract from every component its value for an atom without
    /// neighbors, so that an isolated atom has B = 0.
    pub subtract_bzero: bool,
    /// `quadraticflag` (0): add ½ BᵀαB to the energy (Wood & Thompson, J. Chem. Phys. 148,
    /// 241721 (2018)).
    pub quadratic: bool,
    /// `chemflag` (0): explicit multi-element components, one per ordered triple of
    /// neighbor elements (Cusentino et al., J. Phys. Chem. A 124, 5456 (2020)).
    pub chem: bool,
    /// `bnormflag` (0): divide each component B(j1, j2, j) by j + 1.
    pub normalize_b: bool,
    /// `wselfallflag` (0): put the self term of the density in every element channel,
    /// not only in the central atom's (matters with chemflag only).
    pub self_weight_all: bool,
    /// `switchinnerflag` (0) with `sinner` and `dinner`: an inner switching function.
    pub inner_switch: Option<InnerSwitch>,
}

/// The inner switching function of `switchinnerflag 1`: a neighbor's contribution is
/// multiplied by ½(1 − cos(π/2 + π/2·(r − s)/d)), which rises from 0 at s − d to 1 at
/// s + d, with s and d the means of the two elements' `sinner` and `dinner`.
#[derive(Debug, Clone, PartialEq)]
pub struct InnerSwitch {
    /// `sinner`: one value per element, in the order the elements are mapped (LAMMPS reads
    /// them in the order of its `pair_coeff` element list, not of the coefficient file).
    pub sinner: Vec<f64>,
    /// `dinner`, in the same order.
    pub dinner: Vec<f64>,
    pub sinner_line: usize,
    pub dinner_line: usize,
}

impl SnapCoeffFile {
    pub fn read(path: impl AsRef<Path>) -> Result<Self, PotentialError> {
        let path = path.as_ref();
        Self::parse(&read_potential_text(path)?, path)
    }

    /// Parses the text of a coefficient file; `path` labels errors.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Self, PotentialError> {
        let path = path.as_ref();
        let mut lines = PotentialReader::new(path, text, Separators::WhitespaceAndQuotes);
        let header = lines.expect_line("the 'nelem ncoeff' header")?;
        if header.words.len() != 2 {
            return Err(header.error(format!("expected 'nelem ncoeff', found {} words", header.words.len())));
        }
        let header_line = header.number;
        let n_elements = header.positive_int(0, "nelem")?;
        let n_coefficients = header.positive_int(1, "ncoeff")?;
        let mut elements: Vec<CoeffElement> = Vec::with_capacity(n_elements);
        for e in 0..n_elements {
            let block = lines.expect_line(&format!("the header of element block {} of {n_elements}", e + 1))?;
            if block.words.len() != 3 {
                return Err(block.error(format!("expected 'element radius weight', found {} words", block.words.len())));
            }
            let name = block.words[0].to_string();
            if let Some(first) = elements.iter().find(|el| el.name == name) {
                return Err(block.error(format!("element {name} appears twice (first on line {})", first.line)));
            }
            let radius = block.float(1, "radius")?;
            if !(radius > 0.0) {
                return Err(block.error(format!("radius of {name} must be positive, got {radius}")));
            }
            let weight = block.float(2, "weight")?;
            let mut coefficients = Vec::with_capacity(n_coefficients);
            for k in 0..n_coefficients {
                let what = format!("coefficient {} of {n_coefficients} of element {name}", k + 1);
                let c = lines.expect_line(&what)?;
                if c.words.len() != 1 {
                    return Err(c.error(format!("expected {what} alone on the line, found {} words", c.words.len())));
                }
                coefficients.push(c.float(0, &what)?);
            }
            elements.push(CoeffElement { name, radius, weight, coefficients, line: block.number });
        }
        Ok(Self { path: path.to_path_buf(), header_line, n_coefficients, elements })
    }

    /// The block of element `name`.
    pub fn element(&self, name: &str) -> Result<&CoeffElement, PotentialError> {
        self.elements.iter().find(|e| e.name == name).ok_or_else(|| PotentialError::UnknownSpecies {
            path: self.path.clone(),
            name: name.to_string(),
            available: self.elements.iter().map(|e| e.name.clone()).collect(),
        })
    }
}

impl SnapParams {
    /// The parameters with LAMMPS's defaults and the two required values.
    pub fn new(rcutfac: f64, two_j_max: usize) -> Self {
        Self {
            path: PathBuf::new(),
            rcutfac,
            two_j_max,
            rfac0: 0.99363,
            rmin0: 0.0,
            switching: true,
            subtract_bzero: true,
            quadratic: false,
            chem: false,
            normalize_b: false,
            self_weight_all: false,
            inner_switch: None,
        }
    }

    pub fn read(path: impl AsRef<Path>) -> Result<Self, PotentialError> {
        let path = path.as_ref();
        Self::parse(&read_potential_text(path)?, path)
    }

    /// Parses the text of a parameter file; `path` labels errors.
    ///
    /// Stricter than LAMMPS in three ways: a keyword with one value must have exactly one
    /// (LAMMPS ignores extra words), flags must be 0 or 1, and values must be in range
    /// (rcutfac > 0, 0 < rfac0 ≤ 1, rmin0 ≥ 0, dinner > 0). `chunksize` and
    /// `parallelthresh` only tune LAMMPS's KOKKOS kernels; they are checked and ignored.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Self, PotentialError> {
        let path = path.as_ref();
        let mut lines = PotentialReader::new(path, text, Separators::WhitespaceAndQuotes);
        let mut p = Self::new(f64::NAN, 0);
        p.path = path.to_path_buf();
        let (mut rcutfac_seen, mut two_j_max_seen, mut switch_inner) = (false, false, false);
        let mut sinner: Option<(Vec<f64>, usize)> = None;
        let mut dinner: Option<(Vec<f64>, usize)> = None;
        while let Some(l) = lines.next_nonblank() {
            let (line, words) = (l.number, &l.words);
            if words.len() < 2 {
                return Err(l.error(format!("keyword '{}' has no value", words[0])));
            }
            let key = words[0];
            if key == "sinner" || key == "dinner" {
                let values = words[1..]
                    .iter()
                    .map(|w| {
                        let v = l.float_word(w, key)?;
                        if !(v > 0.0) {
                            return Err(l.error(format!("{key} values must be positive, got {v}")));
                        }
                        Ok(v)
                    })
                    .collect::<Result<Vec<f64>, _>>()?;
                if key == "sinner" {
                    sinner = Some((values, line));
                } else {
                    dinner = Some((values, line));
                }
                continue;
            }
            if words.len() != 2 {
                return Err(l.error(format!("keyword '{key}' takes one value, found {}", words.len() - 1)));
            }
            let value = words[1];
            let flag = || -> Result<bool, PotentialError> {
                match value {
                    "0" => Ok(false),
                    "1" => Ok(true),
                    _ => Err(l.error(format!("{key} must be 0 or 1, got '{value}'"))),
                }
            };
            match key {
                "rcutfac" => {
                    p.rcutfac = l.float(1, key)?;
                    if !(p.rcutfac > 0.0) {
                        return Err(l.error(format!("rcutfac must be positive, got {}", p.rcutfac)));
                    }
                    rcutfac_seen = true;
                }
                "twojmax" => {
                    let v = l.int(1, key)?;
                    if v < 0 || v as usize > MAX_TWO_J_MAX {
                        return Err(l.error(format!("twojmax must be in 0..={MAX_TWO_J_MAX}, got {v}")));
                    }
                    p.two_j_max = v as usize;
                    two_j_max_seen = true;
                }
                "rfac0" => {
                    p.rfac0 = l.float(1, key)?;
                    if !(p.rfac0 > 0.0 && p.rfac0 <= 1.0) {
                        return Err(l.error(format!("rfac0 must be in (0, 1], got {}", p.rfac0)));
                    }
                }
                "rmin0" => {
                    p.rmin0 = l.float(1, key)?;
                    if !(p.rmin0 >= 0.0) {
                        return Err(l.error(format!("rmin0 must not be negative, got {}", p.rmin0)));
                    }
                }
                "switchflag" => p.switching = flag()?,
                "bzeroflag" => p.subtract_bzero = flag()?,
                "quadraticflag" => p.quadratic = flag()?,
                "chemflag" => p.chem = flag()?,
                "bnormflag" => p.normalize_b = flag()?,
                "wselfallflag" => p.self_weight_all = flag()?,
                "switchinnerflag" => switch_inner = flag()?,
                "chunksize" | "parallelthresh" => {
                    l.positive_int(1, key)?;
                }
                _ => return Err(l.error(format!("unknown keyword '{key}'"))),
            }
        }
        let last = lines.last_line();
        if !rcutfac_seen || !two_j_max_seen {
            let missing = if rcutfac_seen { "twojmax" } else { "rcutfac" };
            return Err(PotentialError::parse(path, last, format!("the required keyword '{missing}' is missing")));
        }
        p.inner_switch = match (switch_inner, sinner, dinner) {
            (true, Some((sinner, sinner_line)), Some((dinner, dinner_line))) => {
                Some(InnerSwitch { sinner, dinner, sinner_line, dinner_line })
            }
            (true, s, _) => {
                let missing = if s.is_none() { "sinner" } else { "dinner" };
                return Err(PotentialError::parse(path, last, format!("switchinnerflag 1 needs '{missing}'")));
            }
            (false, None, None) => None,
            (false, s, d) => {
                let line = s.map_or(0, |s| s.1).max(d.map_or(0, |d| d.1));
                return Err(PotentialError::parse(path, line, "sinner and dinner need switchinnerflag 1"));
            }
        };
        Ok(p)
    }
}
