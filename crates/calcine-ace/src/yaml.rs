//! Typed access to a parsed YAML document whose every error names the file and the key
//! path (`bonds.[0, 1].rcut`), shared by the `.yace` and pacemaker `.yaml` readers.

use calcine_potential::PotentialError;
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

/// Parses `text` as one YAML document; a syntax error names the file and the line.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Yaml, PotentialError> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        PotentialError::parse(
            path,
            e.marker().line(),
            format!("malformed YAML: {} (column {})", e.info(), e.marker().col() + 1),
        )
    })?;
    match docs.into_iter().next() {
        Some(doc @ Yaml::Hash(_)) => Ok(doc),
        Some(_) => Err(PotentialError::Invalid {
            path: path.to_path_buf(),
            reason: "the YAML document is not a mapping of keys".into(),
        }),
        None => {
            Err(PotentialError::Invalid { path: path.to_path_buf(), reason: "the file holds no YAML document".into() })
        }
    }
}

/// A node of a document with the key path that leads to it.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub path: &'a Path,
    pub key: String,
    pub yaml: &'a Yaml,
}

/// A YAML value as it is written, for messages.
pub(crate) fn show(y: &Yaml) -> String {
    match y {
        Yaml::Real(s) | Yaml::String(s) => format!("'{s}'"),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(", ")),
        Yaml::Hash(_) => "a mapping".into(),
        Yaml::Null => "nothing".into(),
        _ => "an unreadable value".into(),
    }
}

impl<'a> Node<'a> {
    pub fn root(path: &'a Path, yaml: &'a Yaml) -> Self {
        Self { path, key: String::new(), yaml }
    }

    /// An error about this node.
    pub fn error(&self, reason: impl std::fmt::Display) -> PotentialError {
        let reason = if self.key.is_empty() { reason.to_string() } else { format!("key '{}': {reason}", self.key) };
        PotentialError::Invalid { path: self.path.to_path_buf(), reason }
    }

    fn child_key(&self, key: &str) -> String {
        if self.key.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.key)
        }
    }

    /// The value of `key` in this mapping, if present.
    pub fn opt(&self, key: &str) -> Result<Option<Node<'a>>, PotentialError> {
        let Yaml::Hash(h) = self.yaml else { return Err(self.error("expected a mapping")) };
        Ok(h.get(&Yaml::String(key.to_string())).map(|yaml| Node { path: self.path, key: self.child_key(key), yaml }))
    }

    /// The value of `key` in this mapping; a missing key is an error naming it.
    pub fn get(&self, key: &str) -> Result<Node<'a>, PotentialError> {
        self.opt(key)?.ok_or_else(|| {
            let missing = self.child_key(key);
            PotentialError::Invalid { path: self.path.to_path_buf(), reason: format!("missing key '{missing}'") }
        })
    }

    /// The entries of this mapping in file order, keys as nodes.
    pub fn entries(&self) -> Result<Vec<(Node<'a>, Node<'a>)>, PotentialError> {
        let Yaml::Hash(h) = self.yaml else { return Err(self.error("expected a mapping")) };
        Ok(h.iter()
            .map(|(k, v)| {
                let label = match k {
                    Yaml::String(s) => s.clone(),
                    other => show(other).trim_matches('\'').to_string(),
                };
                (
                    Node { path: self.path, key: self.key.clone(), yaml: k },
                    Node { path: self.path, key: self.child_key(&label), yaml: v },
                )
            })
            .collect())
    }

    /// The items of this sequence.
    pub fn seq(&self) -> Result<Vec<Node<'a>>, PotentialError> {
        let Yaml::Array(a) = self.yaml else {
            return Err(self.error(format!("expected a list, found {}", show(self.yaml))));
        };
        Ok(a.iter()
            .enumerate()
            .map(|(k, yaml)| Node { path: self.path, key: format!("{}[{k}]", self.key), yaml })
            .collect())
    }

    pub fn f64(&self) -> Result<f64, PotentialError> {
        let v = match self.yaml {
            Yaml::Real(_) => self.yaml.as_f64(),
            Yaml::Integer(i) => Some(*i as f64),
            _ => None,
        };
        match v {
            Some(v) if v.is_finite() => Ok(v),
            _ => Err(self.error(format!("expected a finite number, found {}", show(self.yaml)))),
        }
    }

    pub fn i64(&self) -> Result<i64, PotentialError> {
        match self.yaml {
            Yaml::Integer(i) => Ok(*i),
            _ => Err(self.error(format!("expected an integer, found {}", show(self.yaml)))),
        }
    }

    pub fn usize(&self) -> Result<usize, PotentialError> {
        let v = self.i64()?;
        usize::try_from(v).map_err(|_| self.error(format!("expected a non-negative integer, found {v}")))
    }

    pub fn str(&self) -> Result<&'a str, PotentialError> {
        match self.yaml {
            Yaml::String(s) => Ok(s),
            _ => Err(self.error(format!("expected text, found {}", show(self.yaml)))),
        }
    }

    pub fn f64_vec(&self) -> Result<Vec<f64>, PotentialError> {
        self.seq()?.iter().map(Node::f64).collect()
    }

    pub fn i64_vec(&self) -> Result<Vec<i64>, PotentialError> {
        self.seq()?.iter().map(Node::i64).collect()
    }

    pub fn usize_vec(&self) -> Result<Vec<usize>, PotentialError> {
        self.seq()?.iter().map(Node::usize).collect()
    }

    pub fn str_vec(&self) -> Result<Vec<String>, PotentialError> {
        self.seq()?.iter().map(|n| n.str().map(str::to_string)).collect()
    }
}
