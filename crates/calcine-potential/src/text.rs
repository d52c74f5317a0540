//! Reading potential files the way LAMMPS does (`PotentialFileReader`): the text of a
//! file, its lines with comments removed, numbers as LAMMPS's `utils::is_double` admits
//! them, multi-line records and arrays. Every potential family reads its files through
//! [`PotentialReader`], so every malformed file is reported the same way: `file:line:
//! what was expected and what was found`.

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

/// The words of a LAMMPS command or parameter line: the `#` comment removed, split at
/// white space and quotes (LAMMPS's `Tokenizer(trim_comment(line), "\"' \t\n\r\f")`).
pub fn command_words(line: &str) -> Vec<&str> {
    let line = line.split('#').next().unwrap_or("");
    line.split(|c: char| c.is_whitespace() || c == '\'' || c == '"').filter(|w| !w.is_empty()).collect()
}

/// How a [`PotentialReader`] splits lines into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separators {
    /// White space only (tabulated files: EAM's DYNAMO formats).
    Whitespace,
    /// White space and quotes (parameter and coefficient files: SNAP), as LAMMPS's
    /// tokenizer for such files.
    WhitespaceAndQuotes,
}

/// One line of a potential file: its 1-based number and its words (comment removed).
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub path: &'a Path,
    pub number: usize,
    pub words: Vec<&'a str>,
}

impl Line<'_> {
    /// An error on this line.
    pub fn error(&self, reason: impl Into<String>) -> PotentialError {
        PotentialError::parse(self.path, self.number, reason)
    }

    /// Word `k` as a LAMMPS number; `what` names the value in the error.
    pub fn float(&self, k: usize, what: &str) -> Result<f64, PotentialError> {
        self.float_word(self.words[k], what)
    }

    /// Word `k` as an integer.
    pub fn int(&self, k: usize, what: &str) -> Result<i64, PotentialError> {
        self.int_word(self.words[k], what)
    }

    /// Word `k` as an integer of at least 1.
    pub fn positive_int(&self, k: usize, what: &str) -> Result<usize, PotentialError> {
        match self.int(k, what)? {
            v if v > 0 => Ok(v as usize),
            v => Err(self.error(format!("{what} must be positive, got {v}"))),
        }
    }

    /// Any word of this line as a LAMMPS number.
    pub fn float_word(&self, word: &str, what: &str) -> Result<f64, PotentialError> {
        parse_lammps_float(word).ok_or_else(|| self.error(format!("{what}: '{word}' is not a number")))
    }

    /// Any word of this line as an integer.
    pub fn int_word(&self, word: &str, what: &str) -> Result<i64, PotentialError> {
        word.parse::<i64>().map_err(|_| self.error(format!("{what}: '{word}' is not an integer")))
    }
}

/// A record that may continue over several lines (LAMMPS reads such headers as one stream
/// of words): each word keeps the line it is on.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    path: &'a Path,
    pub words: Vec<(usize, &'a str)>,
}

impl Record<'_> {
    /// An error at the record's first line.
    pub fn error(&self, reason: impl Into<String>) -> PotentialError {
        PotentialError::parse(self.path, self.words.first().map_or(0, |w| w.0), reason)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The text of word `k`.
    pub fn word(&self, k: usize) -> &str {
        self.words[k].1
    }

    /// Word `k` as a LAMMPS number.
    pub fn float(&self, k: usize, what: &str) -> Result<f64, PotentialError> {
        let (line, word) = self.words[k];
        parse_lammps_float(word)
            .ok_or_else(|| PotentialError::parse(self.path, line, format!("{what}: '{word}' is not a number")))
    }

    /// Word `k` as an integer.
    pub fn int(&self, k: usize, what: &str) -> Result<i64, PotentialError> {
        let (line, word) = self.words[k];
        word.parse::<i64>()
            .map_err(|_| PotentialError::parse(self.path, line, format!("{what}: '{word}' is not an integer")))
    }
}

/// Reads a potential file line by line, with LAMMPS `PotentialFileReader` semantics:
/// comments after `#` are dropped, records and arrays may run over several lines, and
/// every error names the file and the line.
#[derive(Debug)]
pub struct PotentialReader<'a> {
    path: &'a Path,
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
    separators: Separators,
    /// Number of the last line read, for end-of-file messages.
    last_line: usize,
}

impl<'a> PotentialReader<'a> {
    /// A reader over `text` (see [`read_potential_text`]); `path` labels errors.
    pub fn new(path: &'a Path, text: &'a str, separators: Separators) -> Self {
        Self { path, lines: text.lines().enumerate(), separators, last_line: 0 }
    }

    pub fn path(&self) -> &'a Path {
        self.path
    }

    /// The number of the last line read.
    pub fn last_line(&self) -> usize {
        self.last_line
    }

    /// An error on line `line`.
    pub fn error(&self, line: usize, reason: impl Into<String>) -> PotentialError {
        PotentialError::parse(self.path, line, reason)
    }

    /// "unexpected end of file while reading `what`", at the last line read.
    pub fn eof(&self, what: &str) -> PotentialError {
        self.error(self.last_line, format!("unexpected end of file while reading {what}"))
    }

    /// Skips `n` lines whatever they hold (the comment lines of DYNAMO files).
    pub fn skip_lines(&mut self, n: usize) -> Result<(), PotentialError> {
        for _ in 0..n {
            let (k, _) = self.lines.next().ok_or_else(|| self.eof("the comment lines"))?;
            self.last_line = k + 1;
        }
        Ok(())
    }

    /// The next line, blank or not, or `None` at the end of the file.
    pub fn next_line(&mut self) -> Option<Line<'a>> {
        let (k, text) = self.lines.next()?;
        self.last_line = k + 1;
        let words = match self.separators {
            Separators::Whitespace => text.split('#').next().unwrap_or("").split_whitespace().collect(),
            Separators::WhitespaceAndQuotes => command_words(text),
        };
        Some(Line { path: self.path, number: k + 1, words })
    }

    /// The next line that has words, or `None` at the end of the file.
    pub fn next_nonblank(&mut self) -> Option<Line<'a>> {
        while let Some(line) = self.next_line() {
            if !line.words.is_empty() {
                return Some(line);
            }
        }
        None
    }

    /// The next line that has words; the end of the file is an error naming `what`.
    pub fn expect_line(&mut self, what: &str) -> Result<Line<'a>, PotentialError> {
        self.next_nonblank().ok_or_else(|| self.eof(what))
    }

    /// A record of at least `min_words` words, continued over lines as needed.
    pub fn record(&mut self, min_words: usize, what: &str) -> Result<Record<'a>, PotentialError> {
        let mut words = Vec::new();
        while words.len() < min_words {
            let line = self.next_line().ok_or_else(|| self.eof(what))?;
            words.extend(line.words.iter().map(|&w| (line.number, w)));
        }
        Ok(Record { path: self.path, words })
    }

    /// An array of exactly `n` numbers starting on the next line; extra words on its last
    /// line are ignored (as LAMMPS's `next_dvector` does).
    pub fn array(&mut self, n: usize, what: &str) -> Result<Vec<f64>, PotentialError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some(line) = self.next_line() else {
                return Err(self.error(
                    self.last_line,
                    format!("unexpected end of file in {what}: expected {n} values, found {}", out.len()),
                ));
            };
            for text in &line.words {
                if out.len() == n {
                    break;
                }
                let v = parse_lammps_float(text)
                    .ok_or_else(|| line.error(format!("{what}: value {} '{text}' is not a number", out.len() + 1)))?;
                out.push(v);
            }
        }
        Ok(out)
    }
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

    #[test]
    fn records_arrays_and_errors_name_lines() {
        let text = "comment\n\n3 0.5 # grid\n 2\n1 2\n3 4 5 extra\n1 x\n";
        let path = Path::new("t.eam");
        let mut r = PotentialReader::new(path, text, Separators::Whitespace);
        r.skip_lines(1).unwrap();
        let rec = r.record(3, "'n dx m'").unwrap();
        assert_eq!(rec.words, vec![(3, "3"), (3, "0.5"), (4, "2")]);
        assert_eq!(rec.int(0, "n").unwrap(), 3);
        assert_eq!(r.array(5, "table").unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        let err = r.array(2, "second table").unwrap_err().to_string();
        assert_eq!(err, "t.eam:7: second table: value 2 'x' is not a number");
        let err = r.array(1, "third").unwrap_err().to_string();
        assert_eq!(err, "t.eam:7: unexpected end of file in third: expected 1 values, found 0");
    }

    #[test]
    fn quotes_separate_words_in_parameter_files() {
        let text = "\n  rcutfac \"4.7\" # cutoff\n'twojmax' 8\n";
        let mut r = PotentialReader::new(Path::new("p"), text, Separators::WhitespaceAndQuotes);
        let line = r.expect_line("a keyword").unwrap();
        assert_eq!((line.number, line.words.clone()), (2, vec!["rcutfac", "4.7"]));
        assert_eq!(line.float(1, "rcutfac").unwrap(), 4.7);
        let line = r.expect_line("a keyword").unwrap();
        assert_eq!(line.positive_int(1, "twojmax").unwrap(), 8);
        assert_eq!(r.expect_line("more").unwrap_err().to_string(), "p:3: unexpected end of file while reading more");
    }
}
