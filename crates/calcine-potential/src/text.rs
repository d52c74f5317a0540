//! Reading potential files the way LAMMPS does: the text of a file, and numbers as
//! LAMMPS's `utils::is_double` admits them. Shared by every file format.

use crate::PotentialError;
use std::path::Path;

/// The text of a potential file. Potential files are ASCII; a stray Latin-1 byte in a
/// comment must not stop a run, so invalid UTF-8 is replaced rather than refused.
pub fn read_potential_text(path: &Path) -> Result<String, PotentialError> {
    let bytes = std::fs::read(path).map_err(|source| PotentialError::Io { path: path.to_path_buf(), source })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Parses a number the way LAMMPS's `utils::is_double` admits it: digits with an optional
/// sign, point and exponent; no `inf`, `nan` or Fortran `D` exponents.
pub fn parse_lammps_float(s: &str) -> Option<f64> {
    if !s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')) {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Word `word` on line `line` of `path` as a LAMMPS number, or an error naming the file,
/// the line and `what` the number was to be.
pub fn number_at(path: &Path, line: usize, word: &str, what: &str) -> Result<f64, PotentialError> {
    parse_lammps_float(word)
        .ok_or_else(|| PotentialError::parse(path, line, format!("{what}: '{word}' is not a number")))
}

/// The same for an integer.
pub fn integer_at(path: &Path, line: usize, word: &str, what: &str) -> Result<i64, PotentialError> {
    word.parse::<i64>().map_err(|_| PotentialError::parse(path, line, format!("{what}: '{word}' is not an integer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_lammps_reads_them() {
        assert_eq!(parse_lammps_float("-1.5e-3"), Some(-1.5e-3));
        assert_eq!(parse_lammps_float("42"), Some(42.0));
        for bad in ["inf", "nan", "1.0D0", "0x10", "1,5", "", "1e999"] {
            assert_eq!(parse_lammps_float(bad), None, "{bad}");
        }
    }
}
