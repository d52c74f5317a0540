//! The LAMMPS include files that define a SNAP potential (`potentials/*.snap`), such as
//!
//! ```text
//! variable zblcutinner equal 4
//! variable zblcutouter equal 4.8
//! variable zblz equal 73
//! pair_style hybrid/overlay &
//! zbl ${zblcutinner} ${zblcutouter} &
//! snap
//! pair_coeff 1 1 zbl ${zblz} ${zblz}
//! pair_coeff * * snap Ta06A.snapcoeff Ta06A.snapparam Ta
//! ```
//!
//! The subset of the LAMMPS input language these files use is understood: `#` comments,
//! `&` at the end of a line to continue it, `variable NAME index|equal|string VALUE` with
//! `${NAME}` and `$X` substitution (an `equal` value is taken as written, so it must be a
//! number, not a formula), and the commands `pair_style snap`,
//! `pair_style hybrid/overlay zbl INNER OUTER snap` (sub-styles in either order),
//! `pair_coeff * * [snap] COEFF PARAM El…` and `pair_coeff I J zbl Z_I Z_J` with LAMMPS
//! type ranges (`*`, `n`, `n*`, `*m`, `n*m`). Anything else is an error naming the line.

use crate::{Evaluator, Snap};
use calcine_potential::text::command_words as words;
use calcine_potential::{parse_lammps_float, read_potential_text};
use calcine_potential::{Overlay, PairMode, Pairwise, Potential, PotentialError, Zbl};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a SNAP include file defines.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapInclude {
    pub path: PathBuf,
    /// The coefficient file; a relative name is taken relative to the include file's
    /// directory (LAMMPS looks in the current directory, then in `LAMMPS_POTENTIALS`).
    pub coeff_file: PathBuf,
    /// The parameter file, found the same way.
    pub param_file: PathBuf,
    /// The SNAP element of each LAMMPS atom type, in type order.
    pub type_elements: Vec<String>,
    /// The ZBL part of `pair_style hybrid/overlay zbl INNER OUTER snap`, if there is one.
    pub zbl: Option<ZblSettings>,
}

/// `pair_style zbl INNER OUTER` and the nuclear charges of its `pair_coeff` lines.
#[derive(Debug, Clone, PartialEq)]
pub struct ZblSettings {
    /// Where the switch to zero starts, in Å.
    pub inner: f64,
    /// The cutoff, in Å.
    pub outer: f64,
    /// The nuclear charge Z of each LAMMPS atom type, in type order.
    pub z_by_type: Vec<f64>,
}

/// A `pair_coeff I J zbl Z_I Z_J` line before its type ranges are resolved.
struct ZblCoeff {
    line: usize,
    types: [String; 2],
    z: [f64; 2],
}

impl SnapInclude {
    /// Reads an include file; file names in it are relative to its directory.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, PotentialError> {
        let path = path.as_ref();
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&read_potential_text(path)?, path, base)
    }

    /// Parses `pair_style`/`pair_coeff`/`variable` commands; `path` labels errors and
    /// relative file names are taken relative to `base_dir`.
    pub fn parse(text: &str, path: impl AsRef<Path>, base_dir: impl AsRef<Path>) -> Result<Self, PotentialError> {
        let path = path.as_ref();
        let err = |line: usize, reason: String| PotentialError::parse(path, line, reason);
        let mut variables: BTreeMap<String, String> = BTreeMap::new();
        let mut style: Option<(usize, Option<(f64, f64)>)> = None;
        let mut snap: Option<(usize, String, String, Vec<String>)> = None;
        let mut zbl_coeffs: Vec<ZblCoeff> = Vec::new();
        for (line, command) in commands(text) {
            let command = substitute(&command, &variables).map_err(|reason| err(line, reason))?;
            let w = words(&command);
            let Some(&name) = w.first() else { continue };
            match name {
                "variable" => {
                    if w.len() < 4 {
                        return Err(err(line, "expected 'variable NAME STYLE VALUE'".into()));
                    }
                    match w[2] {
                        // LAMMPS ignores a new definition of an existing index variable.
                        "index" => {
                            variables.entry(w[1].to_string()).or_insert_with(|| w[3].to_string());
                        }
                        "equal" | "string" if w.len() == 4 => {
                            variables.insert(w[1].to_string(), w[3].to_string());
                        }
                        "equal" | "string" => {
                            return Err(err(
                                line,
                                format!("variable {}: expected one value, found {}", w[1], w.len() - 3),
                            ))
                        }
                        other => return Err(err(line, format!("variable style '{other}' is not supported"))),
                    }
                }
                "pair_style" => {
                    if style.is_some() {
                        return Err(err(line, "a second pair_style".into()));
                    }
                    style = Some((line, parse_pair_style(&w[1..]).map_err(|r| err(line, r))?));
                }
                "pair_coeff" => {
                    let Some((_, zbl_style)) = style else {
                        return Err(err(line, "pair_coeff before pair_style".into()));
                    };
                    let hybrid = zbl_style.is_some();
                    if w.len() < if hybrid { 4 } else { 3 } {
                        let form = if hybrid { "'pair_coeff I J SUB-STYLE …'" } else { "'pair_coeff I J …'" };
                        return Err(err(line, format!("expected {form}")));
                    }
                    let (sub, args) = if hybrid { (w[3], &w[4..]) } else { ("snap", &w[3..]) };
                    match sub {
                        "snap" => {
                            if w[1] != "*" || w[2] != "*" {
                                return Err(err(line, "the snap pair_coeff must be 'pair_coeff * * …'".into()));
                            }
                            if snap.is_some() {
                                return Err(err(line, "a second snap pair_coeff".into()));
                            }
                            if args.len() < 3 {
                                return Err(err(line, "expected 'COEFF_FILE PARAM_FILE ELEMENT…'".into()));
                            }
                            if let Some(k) = args[2..].iter().position(|e| *e == "NULL") {
                                return Err(err(line, format!("type {} is NULL: snap must cover every type", k + 1)));
                            }
                            let elements = args[2..].iter().map(|e| e.to_string()).collect();
                            snap = Some((line, args[0].to_string(), args[1].to_string(), elements));
                        }
                        "zbl" if hybrid => {
                            if args.len() != 2 {
                                return Err(err(line, format!("expected 'zbl Z_I Z_J', found {} values", args.len())));
                            }
                            let charge = |s: &str| {
                                parse_lammps_float(s)
                                    .filter(|z| *z > 0.0)
                                    .ok_or_else(|| err(line, format!("zbl: '{s}' is not a positive charge")))
                            };
                            let z = [charge(args[0])?, charge(args[1])?];
                            zbl_coeffs.push(ZblCoeff { line, types: [w[1].into(), w[2].into()], z });
                        }
                        other => return Err(err(line, format!("pair_coeff for sub-style '{other}' is not supported"))),
                    }
                }
                other => return Err(err(line, format!("command '{other}' is not supported in a SNAP include file"))),
            }
        }
        let last_line = text.lines().count();
        let Some((style_line, zbl_style)) = style else {
            return Err(err(last_line, "no pair_style".into()));
        };
        let Some((snap_line, coeff, param, type_elements)) = snap else {
            return Err(err(last_line, "no 'pair_coeff * * snap …' line".into()));
        };
        let n_types = type_elements.len();
        let zbl = match zbl_style {
            None => None,
            Some((inner, outer)) => {
                if zbl_coeffs.is_empty() {
                    return Err(err(style_line, "zbl has no pair_coeff lines".into()));
                }
                let z_by_type = zbl_charges(&zbl_coeffs, n_types, snap_line).map_err(|(line, r)| err(line, r))?;
                Some(ZblSettings { inner, outer, z_by_type })
            }
        };
        let base = base_dir.as_ref();
        let resolve = |f: &str| if Path::new(f).is_absolute() { PathBuf::from(f) } else { base.join(f) };
        Ok(Self {
            path: path.to_path_buf(),
            coeff_file: resolve(&coeff),
            param_file: resolve(&param),
            type_elements,
            zbl,
        })
    }

    /// The ZBL nuclear charge of element `name`: that of the types mapped to it, which
    /// must agree.
    pub fn zbl_charge(&self, name: &str) -> Result<f64, PotentialError> {
        let zbl = self.zbl.as_ref().ok_or_else(|| self.invalid("it has no zbl part".into()))?;
        let mut charges = self.type_elements.iter().zip(&zbl.z_by_type).filter(|(e, _)| *e == name).map(|(_, z)| *z);
        let z = charges.next().ok_or_else(|| self.invalid(format!("element {name} is not mapped to any type")))?;
        if charges.any(|other| other != z) {
            return Err(self.invalid(format!("types of element {name} have different ZBL charges")));
        }
        Ok(z)
    }

    /// The potential the file defines, for species named `species` (species k is the
    /// element `species[k]`): SNAP alone, or ZBL + SNAP in the order of `pair_style`
    /// (LAMMPS `hybrid/overlay`).
    pub fn build<S: AsRef<str>>(
        &self,
        species: &[S],
        evaluator: Evaluator,
    ) -> Result<Box<dyn Potential>, PotentialError> {
        let snap = Snap::read(&self.coeff_file, &self.param_file, species)?.with_evaluator(evaluator);
        let Some(zbl) = &self.zbl else { return Ok(Box::new(snap)) };
        let z = species.iter().map(|s| self.zbl_charge(s.as_ref())).collect::<Result<Vec<f64>, _>>()?;
        let zbl = Zbl::new(&z, zbl.inner, zbl.outer)?;
        // The kernel evaluates each ZBL pair once (its exponentials cost more than the
        // fixed-point scatter); the reference keeps the plain per-atom rows.
        let mode = if evaluator == Evaluator::Kernel { PairMode::Once } else { PairMode::Full };
        Ok(Box::new(Overlay::new(vec![Box::new(Pairwise::with_mode(zbl, mode)), Box::new(snap)])?))
    }

    fn invalid(&self, reason: String) -> PotentialError {
        PotentialError::Invalid { path: self.path.clone(), reason }
    }
}

/// The nuclear charge of each of `n_types` types from the `pair_coeff I J zbl Z_I Z_J`
/// lines: every type of the I range gets Z_I and every type of the J range Z_J (over the
/// pairs I ≤ J), and each type must get one charge only. Errors carry their line.
fn zbl_charges(coeffs: &[ZblCoeff], n_types: usize, snap_line: usize) -> Result<Vec<f64>, (usize, String)> {
    let mut z: Vec<Option<(f64, usize)>> = vec![None; n_types];
    for c in coeffs {
        let (ilo, ihi) = type_range(&c.types[0], n_types).map_err(|r| (c.line, r))?;
        let (jlo, jhi) = type_range(&c.types[1], n_types).map_err(|r| (c.line, r))?;
        let mut count = 0;
        for i in ilo..=ihi {
            for j in jlo.max(i)..=jhi {
                if i == j && c.z[0] != c.z[1] {
                    return Err((c.line, format!("type {i} with itself needs Z_I = Z_J")));
                }
                for (t, zt) in [(i, c.z[0]), (j, c.z[1])] {
                    match z[t - 1] {
                        Some((old, old_line)) if old != zt => {
                            return Err((
                                c.line,
                                format!("type {t} gets Z = {zt} here but Z = {old} on line {old_line}"),
                            ))
                        }
                        _ => z[t - 1] = Some((zt, c.line)),
                    }
                }
                count += 1;
            }
        }
        if count == 0 {
            return Err((c.line, "the type ranges hold no pair with I <= J".into()));
        }
    }
    z.iter()
        .enumerate()
        .map(|(t, z)| z.map(|z| z.0).ok_or_else(|| (snap_line, format!("zbl: no Z for type {}", t + 1))))
        .collect()
}

/// The commands of a file with the line each starts on: lines ending in `&` are joined
/// with the next one.
fn commands(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (k, line) in text.lines().enumerate() {
        let (start, mut command) = pending.take().unwrap_or((k + 1, String::new()));
        let trimmed = line.trim_end();
        if let Some(head) = trimmed.strip_suffix('&') {
            command.push_str(head);
            command.push(' ');
            pending = Some((start, command));
        } else {
            command.push_str(line);
            out.push((start, command));
        }
    }
    out.extend(pending);
    out
}

/// Replaces `${NAME}` and `$X` by variable values (in the part before a comment).
fn substitute(command: &str, variables: &BTreeMap<String, String>) -> Result<String, String> {
    let text = command.split('#').next().unwrap_or("");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(k) = rest.find('$') {
        out.push_str(&rest[..k]);
        let after = &rest[k + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}').ok_or("unterminated '${'")?;
            (&braced[..end], &braced[end + 1..])
        } else if after.starts_with('(') {
            return Err("immediate variables '$(…)' are not supported".into());
        } else {
            let c = after.chars().next().ok_or("'$' at the end of the line")?;
            after.split_at(c.len_utf8())
        };
        let value = variables.get(name).ok_or_else(|| format!("variable '{name}' is not defined"))?;
        out.push_str(value);
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

/// `pair_style` arguments: `snap`, or `hybrid/overlay` over `zbl INNER OUTER` and `snap`.
/// Returns the ZBL cutoffs when there are any.
fn parse_pair_style(args: &[&str]) -> Result<Option<(f64, f64)>, String> {
    match args {
        ["snap"] => Ok(None),
        ["hybrid/overlay", rest @ ..] => {
            let (mut zbl, mut snap, mut k) = (None, false, 0);
            while k < rest.len() {
                match rest[k] {
                    "snap" if !snap => {
                        snap = true;
                        k += 1;
                    }
                    "zbl" if zbl.is_none() && rest.len() >= k + 3 => {
                        let number =
                            |s: &str| parse_lammps_float(s).ok_or_else(|| format!("zbl: '{s}' is not a number"));
                        let (inner, outer) = (number(rest[k + 1])?, number(rest[k + 2])?);
                        if !(inner > 0.0 && outer >= inner) {
                            return Err(format!("zbl needs 0 < inner <= outer, got {inner} and {outer}"));
                        }
                        zbl = Some((inner, outer));
                        k += 3;
                    }
                    "zbl" if zbl.is_none() => return Err("expected 'zbl INNER OUTER'".into()),
                    other => {
                        return Err(format!(
                            "hybrid/overlay sub-style '{other}' is not supported (only zbl and snap, once each)"
                        ))
                    }
                }
            }
            if !snap {
                return Err("hybrid/overlay without snap".into());
            }
            zbl.map(Some).ok_or_else(|| "hybrid/overlay needs zbl next to snap".into())
        }
        _ => Err(format!("pair_style '{}' is not a SNAP potential", args.join(" "))),
    }
}

/// A LAMMPS type range (`*`, `n`, `n*`, `*m`, `n*m`) over types 1..=n_types.
fn type_range(s: &str, n_types: usize) -> Result<(usize, usize), String> {
    let bound = |t: &str, default: usize| -> Result<usize, String> {
        if t.is_empty() {
            return Ok(default);
        }
        t.parse::<usize>().map_err(|_| format!("'{s}' is not a type or type range"))
    };
    let (lo, hi) = match s.split_once('*') {
        None => {
            let t = bound(s, 0)?;
            (t, t)
        }
        Some((a, b)) => (bound(a, 1)?, bound(b, n_types)?),
    };
    if lo < 1 || hi > n_types || lo > hi {
        return Err(format!("type range '{s}' is not within 1..={n_types}"));
    }
    Ok((lo, hi))
}
