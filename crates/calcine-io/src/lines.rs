//! Numbered line input and the number parsing every reader shares, so that every error
//! carries `path:line`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::IoError;

/// The most atoms a reader reserves memory for before it has read them, so that a
/// corrupt atom count cannot make it allocate terabytes.
pub(crate) const MAX_RESERVED_ATOMS: usize = 1 << 20;

/// Reads a text file one line at a time, counting lines from 1.
///
/// The current line is kept inside the reader (one reusable buffer) so that streaming a
/// long trajectory allocates nothing per line.
pub(crate) struct LineReader<R> {
    inner: R,
    path: PathBuf,
    line_no: usize,
    buf: String,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R, path: PathBuf) -> Self {
        Self { inner, path, line_no: 0, buf: String::new() }
    }

    /// Moves to the next line; `Ok(false)` at the end of the file.
    pub(crate) fn advance(&mut self) -> Result<bool, IoError> {
        self.buf.clear();
        match self.inner.read_line(&mut self.buf) {
            Ok(0) => Ok(false),
            Ok(_) => {
                self.line_no += 1;
                let trimmed = self.buf.trim_end_matches(['\n', '\r']).len();
                self.buf.truncate(trimmed);
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Err(IoError::parse(&self.path, self.line_no + 1, "line is not valid UTF-8"))
            }
            Err(e) => Err(IoError::io(&self.path, e)),
        }
    }

    /// Moves to the next line that is not blank; `Ok(false)` at the end of the file.
    pub(crate) fn advance_non_blank(&mut self) -> Result<bool, IoError> {
        while self.advance()? {
            if !self.buf.trim().is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The current line without its line terminator.
    pub(crate) fn line(&self) -> &str {
        &self.buf
    }

    pub(crate) fn line_no(&self) -> usize {
        self.line_no
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Where the current line is, for error messages.
    pub(crate) fn loc(&self) -> Loc<'_> {
        Loc { path: &self.path, line: self.line_no }
    }
}

/// A place in a file: the path and a 1-based line number.
#[derive(Clone, Copy)]
pub(crate) struct Loc<'a> {
    pub(crate) path: &'a Path,
    pub(crate) line: usize,
}

impl<'a> Loc<'a> {
    pub(crate) fn new(path: &'a Path, line: usize) -> Self {
        Self { path, line }
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> IoError {
        IoError::parse(self.path, self.line, reason)
    }

    /// Parses a finite floating-point number; `what` names the field in the message.
    pub(crate) fn f64(&self, token: &str, what: &str) -> Result<f64, IoError> {
        match token.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(value),
            Ok(_) => Err(self.err(format!("{what} is '{token}', it must be finite"))),
            Err(_) => Err(self.err(format!("{what} is '{token}', which is not a number"))),
        }
    }

    /// Parses a signed integer; `what` names the field in the message.
    pub(crate) fn i64(&self, token: &str, what: &str) -> Result<i64, IoError> {
        token.parse::<i64>().map_err(|_| self.err(format!("{what} is '{token}', which is not an integer")))
    }

    /// Parses an image flag.
    pub(crate) fn i32(&self, token: &str, what: &str) -> Result<i32, IoError> {
        token.parse::<i32>().map_err(|_| self.err(format!("{what} is '{token}', which is not an integer")))
    }

    /// Parses a count (number of atoms, of types).
    pub(crate) fn count(&self, token: &str, what: &str) -> Result<usize, IoError> {
        token
            .parse::<usize>()
            .map_err(|_| self.err(format!("{what} is '{token}', which is not a non-negative integer")))
    }

    /// Parses an atom id, which must be a positive integer.
    pub(crate) fn atom_id(&self, token: &str) -> Result<u64, IoError> {
        match token.parse::<u64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => Err(self.err(format!("atom id is '{token}', it must be a positive integer"))),
        }
    }

    /// Parses three consecutive finite numbers.
    pub(crate) fn vec3(&self, tokens: &[&str], what: [&str; 3]) -> Result<calcine_core::Vec3, IoError> {
        Ok(calcine_core::Vec3::new(
            self.f64(tokens[0], what[0])?,
            self.f64(tokens[1], what[1])?,
            self.f64(tokens[2], what[2])?,
        ))
    }
}

/// The order that sorts `ids` increasingly, or the positions of two equal ids.
pub(crate) fn sort_order(ids: &[u64]) -> Result<Vec<usize>, (usize, usize)> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    if !ids.windows(2).all(|w| w[0] < w[1]) {
        order.sort_by_key(|&k| ids[k]);
    }
    for w in order.windows(2) {
        if ids[w[0]] == ids[w[1]] {
            return Err((w[0].min(w[1]), w[0].max(w[1])));
        }
    }
    Ok(order)
}
