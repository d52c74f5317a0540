//! Readers for the two files of a SNAP potential, with LAMMPS's keys, defaults and
//! checks (`PairSNAP::read_files`, LAMMPS 19 Nov 2024).
//!
//! Both files are read line by line: `#` starts a comment, words are separated by white
//! space, and single or double quotes around a word are dropped. Lines that are blank
//! after removing the comment are skipped everywhere (LAMMPS skips them only at the top of
//! the coefficient file and anywhere in the parameter file; every file LAMMPS reads is read
//! the same way here). Every error names the file and the line.

use crate::basis::MAX_TWO_J_MAX;
use calcine_potential::{integer_at, number_at, read_potential_text, PotentialError};
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
        let mut lines = Lines::new(path, text);
        let (header_line, words) = lines.next().ok_or_else(|| lines.error_eof("the 'nelem ncoeff' header"))?;
        if words.len() != 2 {
            return Err(lines.error(header_line, format!("expected 'nelem ncoeff', found {} words", words.len())));
        }
        let n_elements = lines.positive_integer(header_line, words[0], "nelem")?;
        let n_coefficients = lines.positive_integer(header_line, words[1], "ncoeff")?;
        let mut elements: Vec<CoeffElement> = Vec::with_capacity(n_elements);
        for e in 0..n_elements {
            let what = format!("the header of element block {} of {n_elements}", e + 1);
            let (line, words) = lines.next().ok_or_else(|| lines.error_eof(&what))?;
            if words.len() != 3 {
                return Err(lines.error(line, format!("expected 'element radius weight', found {} words", words.len())));
            }
            let name = words[0].to_string();
            if let Some(first) = elements.iter().find(|el| el.name == name) {
                return Err(lines.error(line, format!("element {name} appears twice (first on line {})", first.line)));
            }
            let radius = lines.float(line, words[1], "radius")?;
            if !(radius > 0.0) {
                return Err(lines.error(line, format!("radius of {name} must be positive, got {radius}")));
            }
            let weight = lines.float(line, words[2], "weight")?;
            let mut coefficients = Vec::with_capacity(n_coefficients);
            for k in 0..n_coefficients {
                let what = format!("coefficient {} of {n_coefficients} of element {name}", k + 1);
                let (cline, words) = lines.next().ok_or_else(|| lines.error_eof(&what))?;
                if words.len() != 1 {
                    return Err(
                        lines.error(cline, format!("expected {what} alone on the line, found {} words", words.len()))
                    );
                }
                coefficients.push(lines.float(cline, words[0], &what)?);
            }
            elements.push(CoeffElement { name, radius, weight, coefficients, line });
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
        let mut lines = Lines::new(path, text);
        let mut p = Self::new(f64::NAN, 0);
        p.path = path.to_path_buf();
        let (mut rcutfac_seen, mut two_j_max_seen, mut switch_inner) = (false, false, false);
        let mut sinner: Option<(Vec<f64>, usize)> = None;
        let mut dinner: Option<(Vec<f64>, usize)> = None;
        while let Some((line, words)) = lines.next() {
            if words.len() < 2 {
                return Err(lines.error(line, format!("keyword '{}' has no value", words[0])));
            }
            let key = words[0];
            if key == "sinner" || key == "dinner" {
                let values = words[1..]
                    .iter()
                    .map(|w| {
                        let v = lines.float(line, w, key)?;
                        if !(v > 0.0) {
                            return Err(lines.error(line, format!("{key} values must be positive, got {v}")));
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
                return Err(lines.error(line, format!("keyword '{key}' takes one value, found {}", words.len() - 1)));
            }
            let value = words[1];
            let flag = |lines: &Lines<'_>| -> Result<bool, PotentialError> {
                match value {
                    "0" => Ok(false),
                    "1" => Ok(true),
                    _ => Err(lines.error(line, format!("{key} must be 0 or 1, got '{value}'"))),
                }
            };
            match key {
                "rcutfac" => {
                    p.rcutfac = lines.float(line, value, key)?;
                    if !(p.rcutfac > 0.0) {
                        return Err(lines.error(line, format!("rcutfac must be positive, got {}", p.rcutfac)));
                    }
                    rcutfac_seen = true;
                }
                "twojmax" => {
                    let v = lines.integer(line, value, key)?;
                    if v < 0 || v as usize > MAX_TWO_J_MAX {
                        return Err(lines.error(line, format!("twojmax must be in 0..={MAX_TWO_J_MAX}, got {v}")));
                    }
                    p.two_j_max = v as usize;
                    two_j_max_seen = true;
                }
                "rfac0" => {
                    p.rfac0 = lines.float(line, value, key)?;
                    if !(p.rfac0 > 0.0 && p.rfac0 <= 1.0) {
                        return Err(lines.error(line, format!("rfac0 must be in (0, 1], got {}", p.rfac0)));
                    }
                }
                "rmin0" => {
                    p.rmin0 = lines.float(line, value, key)?;
                    if !(p.rmin0 >= 0.0) {
                        return Err(lines.error(line, format!("rmin0 must not be negative, got {}", p.rmin0)));
                    }
                }
                "switchflag" => p.switching = flag(&lines)?,
                "bzeroflag" => p.subtract_bzero = flag(&lines)?,
                "quadraticflag" => p.quadratic = flag(&lines)?,
                "chemflag" => p.chem = flag(&lines)?,
                "bnormflag" => p.normalize_b = flag(&lines)?,
                "wselfallflag" => p.self_weight_all = flag(&lines)?,
                "switchinnerflag" => switch_inner = flag(&lines)?,
                "chunksize" | "parallelthresh" => {
                    lines.positive_integer(line, value, key)?;
                }
                _ => return Err(lines.error(line, format!("unknown keyword '{key}'"))),
            }
        }
        let last = lines.last_line;
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

/// The words of a line: the comment removed, split at white space and quotes (LAMMPS's
/// `Tokenizer(trim_comment(line), "\"' \t\n\r\f")`).
pub(crate) fn words(line: &str) -> Vec<&str> {
    let line = line.split('#').next().unwrap_or("");
    line.split(|c: char| c.is_whitespace() || c == '\'' || c == '"').filter(|w| !w.is_empty()).collect()
}

/// Non-blank lines of a file with their 1-based numbers.
struct Lines<'a> {
    path: &'a Path,
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
    last_line: usize,
}

impl<'a> Lines<'a> {
    fn new(path: &'a Path, text: &'a str) -> Self {
        Self { path, lines: text.lines().enumerate(), last_line: 0 }
    }

    fn next(&mut self) -> Option<(usize, Vec<&'a str>)> {
        for (k, line) in self.lines.by_ref() {
            self.last_line = k + 1;
            let w = words(line);
            if !w.is_empty() {
                return Some((k + 1, w));
            }
        }
        None
    }

    fn error(&self, line: usize, reason: impl Into<String>) -> PotentialError {
        PotentialError::parse(self.path, line, reason)
    }

    fn error_eof(&self, what: &str) -> PotentialError {
        self.error(self.last_line, format!("unexpected end of file while reading {what}"))
    }

    fn float(&self, line: usize, word: &str, what: &str) -> Result<f64, PotentialError> {
        number_at(self.path, line, word, what)
    }

    fn integer(&self, line: usize, word: &str, what: &str) -> Result<i64, PotentialError> {
        integer_at(self.path, line, word, what)
    }

    fn positive_integer(&self, line: usize, word: &str, what: &str) -> Result<usize, PotentialError> {
        match self.integer(line, word, what)? {
            v if v > 0 => Ok(v as usize),
            v => Err(self.error(line, format!("{what} must be positive, got {v}"))),
        }
    }
}
