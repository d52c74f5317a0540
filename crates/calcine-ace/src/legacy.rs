//! The legacy plain-text C-tilde format (`.ace`, e.g. `Cu-PBE-core-rep.ace` of the LAMMPS
//! unit tests), as ML-PACE's `ACECTildeBasisSet::load` reads it: a stream of
//! `key=value` words, one element only, the inner cutoff by core density, and `crad` in
//! the order k, then n, then l (the opposite of `.yace`).

use crate::model::{AceModel, Bond, CTildeFunction, Embedding, EmbeddingKind, InnerCutoffKind, RadialBasisKind};
use calcine_potential::text::{PotentialReader, Separators};
use calcine_potential::{parse_lammps_float, PotentialError};
use std::path::Path;

/// Reads a legacy `.ace` file.
pub fn read_legacy_ace(path: &Path) -> Result<AceModel, PotentialError> {
    let text = calcine_potential::read_potential_text(path)?;
    parse_legacy_ace(path, &text)
}

/// The words of the file from its `nelements=` line on, each with its line: `key=`, `(`,
/// `)`, `<`, `>` and `:` after `>` are words of their own.
struct Words<'a> {
    path: &'a Path,
    words: Vec<(usize, String)>,
    next: usize,
}

impl<'a> Words<'a> {
    fn new(path: &'a Path, text: &'a str) -> Result<Self, PotentialError> {
        let mut reader = PotentialReader::new(path, text, Separators::Whitespace);
        let mut words = Vec::new();
        let mut started = false;
        while let Some(line) = reader.next_line() {
            if !started {
                if line.words.first().is_some_and(|w| w.starts_with("nelements=")) {
                    started = true;
                } else {
                    continue;
                }
            }
            let spaced = line
                .words
                .join(" ")
                .replace('=', "= ")
                .replace('(', " ( ")
                .replace(')', " ) ")
                .replace('<', " < ")
                .replace('>', " > ");
            words.extend(spaced.split_whitespace().map(|w| (line.number, w.to_string())));
        }
        if !started {
            return Err(PotentialError::parse(
                path,
                reader.last_line(),
                "no 'nelements=' line: not a legacy .ace file",
            ));
        }
        Ok(Self { path, words, next: 0 })
    }

    fn line(&self) -> usize {
        self.words.get(self.next).or(self.words.last()).map_or(0, |w| w.0)
    }

    fn error(&self, reason: impl Into<String>) -> PotentialError {
        PotentialError::parse(self.path, self.line(), reason)
    }

    fn peek(&self) -> Option<&str> {
        self.words.get(self.next).map(|w| w.1.as_str())
    }

    fn word(&mut self, what: &str) -> Result<String, PotentialError> {
        let w = self
            .words
            .get(self.next)
            .ok_or_else(|| self.error(format!("unexpected end of file while reading {what}")))?;
        self.next += 1;
        Ok(w.1.clone())
    }

    /// Consumes the literal words of `literal` (split at white space).
    fn expect(&mut self, literal: &str) -> Result<(), PotentialError> {
        for want in literal.split_whitespace() {
            let line = self.line();
            let got = self.word(&format!("'{literal}'"))?;
            if got != want {
                return Err(PotentialError::parse(self.path, line, format!("expected '{literal}', found '{got}'")));
            }
        }
        Ok(())
    }

    fn float(&mut self, what: &str) -> Result<f64, PotentialError> {
        let line = self.line();
        let w = self.word(what)?;
        parse_lammps_float(&w)
            .ok_or_else(|| PotentialError::parse(self.path, line, format!("{what}: '{w}' is not a number")))
    }

    fn int(&mut self, what: &str) -> Result<i64, PotentialError> {
        let line = self.line();
        let w = self.word(what)?;
        w.parse::<i64>().map_err(|_| PotentialError::parse(self.path, line, format!("{what}: '{w}' is not an integer")))
    }

    fn count(&mut self, what: &str) -> Result<usize, PotentialError> {
        let line = self.line();
        let v = self.int(what)?;
        usize::try_from(v).map_err(|_| PotentialError::parse(self.path, line, format!("{what}: {v} is negative")))
    }

    fn floats(&mut self, n: usize, what: &str) -> Result<Vec<f64>, PotentialError> {
        (0..n).map(|_| self.float(what)).collect()
    }
}

/// Parses the text of a legacy `.ace` file; `path` labels errors.
pub fn parse_legacy_ace(path: &Path, text: &str) -> Result<AceModel, PotentialError> {
    let mut w = Words::new(path, text)?;
    w.expect("nelements=")?;
    let n = w.count("nelements")?;
    if n != 1 {
        return Err(
            w.error(format!("nelements={n}: legacy .ace files hold one element (as ML-PACE reads them); use .yace"))
        );
    }
    w.expect("elements:")?;
    let elements = vec![w.word("the element name")?];
    w.expect("lmax=")?;
    let lmax = w.count("lmax")?;
    let kind = if w.peek() == Some("embedding-function:") {
        w.expect("embedding-function:")?;
        let line = w.line();
        let name = w.word("the embedding function")?;
        Some(EmbeddingKind::parse(&name).ok_or_else(|| {
            PotentialError::parse(
                path,
                line,
                format!("unknown embedding '{name}': expected FinnisSinclair or FinnisSinclairShiftedScaled"),
            )
        })?)
    } else {
        None
    };
    let n_fs = w.count("the number of FS parameters")?;
    w.expect("FS parameters:")?;
    let fs_line = w.line();
    let fs_parameters = w.floats(n_fs, "FS parameter")?;
    // Without a named embedding ML-PACE accepts only linear ones, as FinnisSinclair.
    let kind =
        match kind {
            Some(k) => k,
            None if fs_parameters.iter().skip(1).step_by(2).all(|&m| m == 1.0) => EmbeddingKind::FinnisSinclair,
            None => return Err(PotentialError::parse(
                path,
                fs_line,
                "a non-linear embedding needs an 'embedding-function: FinnisSinclair|FinnisSinclairShiftedScaled' line",
            )),
        };
    w.expect("core energy-cutoff parameters:")?;
    let rho_core_cutoff = w.float("rho_core_cutoff")?;
    let drho_core_cutoff = w.float("drho_core_cutoff")?;
    let e0 = if w.peek() == Some("E0:") {
        w.expect("E0:")?;
        w.floats(n, "E0")?
    } else {
        vec![0.0; n]
    };
    w.expect("radbasename=")?;
    let line = w.line();
    let name = w.word("radbasename")?;
    let radial_basis = RadialBasisKind::parse(&name).ok_or_else(|| {
        PotentialError::parse(
            path,
            line,
            format!("unknown radial basis '{name}': expected ChebExpCos, ChebPow, ChebLinear or SBessel"),
        )
    })?;
    w.expect("nradbase=")?;
    let nradbase = w.count("nradbase")?;
    w.expect("nradmax=")?;
    let nradmax = w.count("nradmax")?;
    w.expect("cutoffmax=")?;
    w.float("cutoffmax")?;
    w.expect("deltaSplineBins=")?;
    let delta_spline_bins = w.float("deltaSplineBins")?;
    w.expect("core repulsion parameters:")?;
    let prehc = w.float("prehc")?;
    let lambdahc = w.float("lambdahc")?;
    w.expect("radparameter=")?;
    let lambda = w.float("radparameter")?;
    w.expect("cutoff=")?;
    let rcut = w.float("cutoff")?;
    w.expect("dcut=")?;
    let dcut = w.float("dcut")?;
    w.expect("crad=")?;
    let mut radcoefficients = vec![0.0; nradmax * (lmax + 1) * nradbase];
    for k in 0..nradbase {
        for nr in 0..nradmax {
            for l in 0..=lmax {
                radcoefficients[(nr * (lmax + 1) + l) * nradbase + k] = w.float("crad")?;
            }
        }
    }
    w.expect("rankmax=")?;
    w.count("rankmax")?;
    w.expect("ndensitymax=")?;
    let ndensity = w.count("ndensitymax")?;
    w.expect("num_c_tilde_max=")?;
    w.count("num_c_tilde_max")?;
    w.expect("num_ms_combinations_max=")?;
    w.count("num_ms_combinations_max")?;
    let mut functions = Vec::new();
    for header in ["total_basis_size_rank1:", "total_basis_size:"] {
        w.expect(header)?;
        let count = w.count(header)?;
        for _ in 0..count {
            functions.push(read_function(&mut w, ndensity)?);
        }
    }
    if let Some(extra) = w.peek() {
        return Err(w.error(format!("unexpected '{extra}' after the last basis function")));
    }
    let model = AceModel {
        path: path.to_path_buf(),
        elements,
        e0,
        delta_spline_bins,
        embeddings: vec![Embedding { ndensity, fs_parameters, kind, rho_core_cutoff, drho_core_cutoff }],
        bonds: vec![Bond {
            nradmax,
            lmax,
            nradbasemax: nradbase,
            radial_basis,
            lambda,
            radcoefficients,
            prehc,
            lambdahc,
            rcut,
            dcut,
            rcut_in: 0.0,
            dcut_in: 0.0,
        }],
        inner_cutoff: InnerCutoffKind::Density,
        functions: vec![functions],
    };
    model.check()?;
    Ok(model)
}

fn read_function(w: &mut Words<'_>, ndensity: usize) -> Result<CTildeFunction, PotentialError> {
    w.expect("ctilde_basis_func:")?;
    w.expect("rank=")?;
    let rank = w.count("rank")?;
    if rank == 0 {
        return Err(w.error("rank must be at least 1"));
    }
    w.expect("ndens=")?;
    let nd = w.count("ndens")?;
    if nd != ndensity {
        return Err(w.error(format!("ndens={nd} differs from ndensitymax={ndensity}")));
    }
    w.expect("mu0=")?;
    let mu0 = w.count("mu0")?;
    if mu0 != 0 {
        return Err(w.error(format!("mu0={mu0} in a one-element file")));
    }
    let list = |w: &mut Words<'_>, key: &str| -> Result<Vec<usize>, PotentialError> {
        w.expect(&format!("{key} ("))?;
        let v = (0..rank).map(|_| w.count(key)).collect::<Result<Vec<_>, _>>()?;
        w.expect(")")?;
        Ok(v)
    };
    let mus = list(w, "mu=")?;
    let ns = list(w, "n=")?;
    let ls = list(w, "l=")?;
    w.expect("num_ms=")?;
    let num_ms = w.count("num_ms")?;
    let mut ms_combs = Vec::with_capacity(num_ms * rank);
    let mut ctildes = Vec::with_capacity(num_ms * ndensity);
    for _ in 0..num_ms {
        w.expect("<")?;
        for _ in 0..rank {
            let line = w.line();
            let m = w.int("m")?;
            ms_combs.push(
                i32::try_from(m)
                    .map_err(|_| PotentialError::parse(w.path, line, format!("m = {m} is out of range")))?,
            );
        }
        w.expect("> :")?;
        ctildes.extend(w.floats(ndensity, "ctilde")?);
    }
    Ok(CTildeFunction { rank, mus, ns, ls, ms_combs, ctildes })
}
