//! An input file with its text, so that every error can point at a line, and the errors
//! of this crate.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::Spanned;

/// Why an input cannot be run.
///
/// Every variant displays as `where: what is wrong`, where `where` is `file:line` of the
/// offending key when there is one. A cause (a potential or structure file that does not
/// load) is part of the message and is not repeated as a source.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A value, a missing key or a combination of keys is wrong.
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
    /// A file named by the input does not load.
    #[error("{at}: {what}: {cause}")]
    Load { at: String, what: String, cause: String },
    /// The run would not fit in memory (checked before anything large is allocated).
    #[error("{at}: {message}")]
    TooLarge { at: String, message: String },
}

/// An input file: its path, its text and the parsed document.
#[derive(Debug)]
pub struct InputFile<T> {
    pub path: PathBuf,
    pub text: String,
    pub doc: T,
    /// Files the input names, in the order they were resolved (for the inputs hash), and
    /// whether each defines the potential (rather than the structure).
    named: RefCell<Vec<(PathBuf, bool)>>,
}

impl<T: DeserializeOwned> InputFile<T> {
    /// Reads and parses `path`; syntax and schema errors (unknown keys included) name the
    /// file and line.
    pub fn read(path: &Path) -> Result<Self, InputError> {
        let text = std::fs::read_to_string(path).map_err(|e| InputError::Load {
            at: path.display().to_string(),
            what: "cannot read the input file".into(),
            cause: e.to_string(),
        })?;
        Self::parse(path, text)
    }

    /// Parses `text` as the contents of `path`.
    pub fn parse(path: &Path, text: String) -> Result<Self, InputError> {
        match toml::from_str(&text) {
            Ok(doc) => Ok(Self { path: path.to_path_buf(), text, doc, named: RefCell::new(Vec::new()) }),
            Err(e) => {
                let line = e.span().map(|s| line_of_offset(&text, s.start)).unwrap_or(0);
                let message = e.message().trim_end_matches('.').to_string();
                Err(InputError::Invalid { at: format!("{}:{line}", path.display()), message })
            }
        }
    }
}

impl<T> InputFile<T> {
    /// The folder relative paths in the input are taken from.
    pub fn base_dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// A path of a potential file given in the input, resolved against the input file's
    /// folder, and recorded as one of the files the input names.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        self.resolve_as(p, true)
    }

    /// The same for a structure file.
    pub fn resolve_structure(&self, p: &Path) -> PathBuf {
        self.resolve_as(p, false)
    }

    fn resolve_as(&self, p: &Path, potential: bool) -> PathBuf {
        let resolved = if p.is_absolute() { p.to_path_buf() } else { self.base_dir().join(p) };
        self.named.borrow_mut().push((resolved.clone(), potential));
        resolved
    }

    /// The files resolved so far, in order.
    pub fn named_files(&self) -> Vec<PathBuf> {
        self.named.borrow().iter().map(|(p, _)| p.clone()).collect()
    }

    /// The potential files resolved so far, in order.
    pub fn potential_files(&self) -> Vec<PathBuf> {
        self.named.borrow().iter().filter(|(_, pot)| *pot).map(|(p, _)| p.clone()).collect()
    }

    /// `file:line` for a spanned value.
    pub fn at<V>(&self, v: &Spanned<V>) -> String {
        format!("{}:{}", self.path.display(), line_of_offset(&self.text, v.span().start))
    }

    /// `file:line` of the first line that sets `key`, or just the file.
    pub fn at_key(&self, key: &str) -> String {
        for (k, line) in self.text.lines().enumerate() {
            let t = line.trim_start();
            if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
                return format!("{}:{}", self.path.display(), k + 1);
            }
        }
        self.path.display().to_string()
    }

    /// `file:line` of `key` in the `index`-th (from 0) `[[table]]` entry, e.g.
    /// `at_table("kinosons.lists", 2, "hops")`; the entry's header line when the key is
    /// not set there, the line of the array's key when it is written inline, or the file.
    pub fn at_table(&self, table: &str, index: usize, key: &str) -> String {
        let header = format!("[[{table}]]");
        let lines: Vec<&str> = self.text.lines().collect();
        let Some(start) = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.split('#').next().unwrap_or("").trim() == header)
            .map(|(k, _)| k)
            .nth(index)
        else {
            let last = table.rsplit('.').next().unwrap_or(table);
            return self.at_key(last);
        };
        for (k, line) in lines.iter().enumerate().skip(start + 1) {
            let t = line.trim_start();
            if t.starts_with('[') {
                break;
            }
            if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
                return format!("{}:{}", self.path.display(), k + 1);
            }
        }
        format!("{}:{}", self.path.display(), start + 1)
    }

    /// An [`InputError::Invalid`] about `key` of the `index`-th `[[table]]` entry, at its
    /// line; the message starts with `table[index].key`.
    pub fn invalid_in(&self, table: &str, index: usize, key: &str, message: impl std::fmt::Display) -> InputError {
        InputError::Invalid {
            at: self.at_table(table, index, key),
            message: format!("{table}[{index}].{key}: {message}"),
        }
    }

    /// An [`InputError::Load`] about the file named by `key` of the `index`-th
    /// `[[table]]` entry.
    pub fn load_error_in(
        &self,
        table: &str,
        index: usize,
        key: &str,
        what: impl std::fmt::Display,
        cause: impl std::fmt::Display,
    ) -> InputError {
        InputError::Load {
            at: self.at_table(table, index, key),
            what: format!("{table}[{index}].{key}: {what}"),
            cause: cause.to_string(),
        }
    }

    /// The file alone, for errors about the input as a whole.
    pub fn at_file(&self) -> String {
        self.path.display().to_string()
    }

    /// An [`InputError::Invalid`] at the line of `key`.
    pub fn invalid(&self, key: &str, message: impl Into<String>) -> InputError {
        InputError::Invalid { at: self.at_key(key), message: message.into() }
    }

    /// An [`InputError::Load`] at the line of `key`.
    pub fn load_error(&self, key: &str, what: impl Into<String>, cause: impl std::fmt::Display) -> InputError {
        InputError::Load { at: self.at_key(key), what: what.into(), cause: cause.to_string() }
    }
}

/// The 1-based line of byte `offset` of `text`.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}
