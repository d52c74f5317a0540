//! Numbered line input and the number parsing every reader shares, so that every error
//! carries `path:line`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::numbers::{parse_f64, parse_i64, parse_u64};
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

    /// Appends the next `n` lines, terminators included, to `out` as raw bytes, without
    /// checking them (a caller that reads them reports what is wrong with them by line
    /// number: the first of them is line `line_no() + 1` before the call). Returns how
    /// many lines were read: fewer than `n` only at the end of the file. This is the bulk
    /// path of the trajectory readers: one counting pass and one copy per buffer.
    pub(crate) fn read_raw_lines(&mut self, n: usize, out: &mut Vec<u8>) -> Result<usize, IoError> {
        let start = out.len();
        let mut read = 0;
        while read < n {
            let available = match self.inner.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(IoError::io(&self.path, e)),
            };
            if available.is_empty() {
                // A last line without a terminator is still a line.
                if out.len() > start && out.last() != Some(&b'\n') {
                    read += 1;
                }
                break;
            }
            let (lines, taken) = take_lines(available, n - read);
            read += lines;
            out.extend_from_slice(&available[..taken]);
            self.inner.consume(taken);
        }
        self.line_no += read;
        Ok(read)
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
        self.f64_bytes(token.as_bytes(), what)
    }

    /// [`Loc::f64`] of a token given as bytes (the same value as `str::parse`, bit for bit).
    #[inline]
    pub(crate) fn f64_bytes(&self, token: &[u8], what: &str) -> Result<f64, IoError> {
        match parse_f64(token) {
            Some(value) if value.is_finite() => Ok(value),
            Some(_) => Err(self.err(format!("{what} is '{}', it must be finite", String::from_utf8_lossy(token)))),
            None => Err(self.err(format!("{what} is '{}', which is not a number", String::from_utf8_lossy(token)))),
        }
    }

    /// Parses a signed integer given as bytes; `what` names the field in the message.
    #[inline]
    pub(crate) fn i64_bytes(&self, token: &[u8], what: &str) -> Result<i64, IoError> {
        parse_i64(token)
            .ok_or_else(|| self.err(format!("{what} is '{}', which is not an integer", String::from_utf8_lossy(token))))
    }

    /// Parses an image flag given as bytes.
    #[inline]
    pub(crate) fn i32_bytes(&self, token: &[u8], what: &str) -> Result<i32, IoError> {
        parse_i64(token)
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| self.err(format!("{what} is '{}', which is not an integer", String::from_utf8_lossy(token))))
    }

    /// Parses an atom id given as bytes, which must be a positive integer.
    #[inline]
    pub(crate) fn atom_id_bytes(&self, token: &[u8]) -> Result<u64, IoError> {
        match parse_u64(token) {
            Some(id) if id > 0 => Ok(id),
            _ => {
                Err(self.err(format!("atom id is '{}', it must be a positive integer", String::from_utf8_lossy(token))))
            }
        }
    }

    /// Parses three consecutive finite numbers given as bytes.
    #[inline]
    pub(crate) fn vec3_bytes(&self, tokens: [&[u8]; 3], what: [&str; 3]) -> Result<calcine_core::Vec3, IoError> {
        Ok(calcine_core::Vec3::new(
            self.f64_bytes(tokens[0], what[0])?,
            self.f64_bytes(tokens[1], what[1])?,
            self.f64_bytes(tokens[2], what[2])?,
        ))
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

/// Whether `c` is whitespace to `str::split_whitespace` (the ASCII part of it).
#[inline]
pub(crate) fn is_ascii_space(c: u8) -> bool {
    c == b' ' || (b'\t'..=b'\r').contains(&c)
}

/// Appends the whitespace-separated fields of an ASCII `line` to `out`: the fields
/// `str::split_whitespace` gives.
#[inline]
pub(crate) fn split_ascii_fields<'a>(line: &'a [u8], out: &mut Vec<&'a [u8]>) {
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_ascii_space(line[i]) {
            i += 1;
        }
        if i == n {
            return;
        }
        let start = i;
        while i < n && !is_ascii_space(line[i]) {
            i += 1;
        }
        out.push(&line[start..i]);
    }
}

/// The line feeds in `bytes`, up to `need` of them, and the bytes up to and including the
/// last one counted (all of `bytes` when there are fewer than `need`). Blocks are counted
/// whole with byte compares the compiler vectorises, and only the block holding the
/// `need`-th line feed is searched feed by feed: a frame of short atom lines costs a few
/// vector passes instead of a search call per line.
fn take_lines(bytes: &[u8], need: usize) -> (usize, usize) {
    const BLOCK: usize = 255;
    let mut found = 0;
    for (k, block) in bytes.chunks(BLOCK).enumerate() {
        let here = count_line_feeds(block);
        if found + here >= need {
            let end = memchr::memchr_iter(b'\n', block).nth(need - found - 1).expect("counted");
            return (need, k * BLOCK + end + 1);
        }
        found += here;
    }
    (found, bytes.len())
}

/// The line feeds in a block of at most 255 bytes (so that a byte counts them).
#[inline]
fn count_line_feeds(block: &[u8]) -> usize {
    debug_assert!(block.len() <= 255);
    usize::from(block.iter().fold(0u8, |n, &c| n.wrapping_add(u8::from(c == b'\n'))))
}

#[cfg(test)]
mod tests {
    use super::take_lines;

    /// `take_lines` against a search feed by feed, on texts whose feeds fall on, before
    /// and after the 255-byte block edges, for every count asked up to past the last feed.
    #[test]
    fn take_lines_is_a_search_feed_by_feed() {
        for (len, every) in [(0, 1), (1, 1), (254, 7), (255, 1), (256, 255), (600, 3), (2000, 31), (1021, 254)] {
            for offset in [0, 1, 254] {
                let text: Vec<u8> = (0..len).map(|k| if (k + offset) % every == 0 { b'\n' } else { b'x' }).collect();
                let feeds: Vec<usize> = memchr::memchr_iter(b'\n', &text).collect();
                for need in 1..=feeds.len() + 2 {
                    let expected =
                        if need <= feeds.len() { (need, feeds[need - 1] + 1) } else { (feeds.len(), text.len()) };
                    assert_eq!(
                        take_lines(&text, need),
                        expected,
                        "len {len}, every {every}, offset {offset}, need {need}"
                    );
                }
            }
        }
    }
}
