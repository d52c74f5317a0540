//! The comment line of an extended XYZ frame: `key=value` pairs and the `Properties`
//! column list.

use std::collections::BTreeMap;

use calcine_core::Vec3;

use crate::lines::Loc;
use crate::IoError;

/// What a per-atom column means to calcine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Species,
    Position,
    Velocity,
    Momentum,
    Force,
    Id,
    Mass,
    Skip,
}

pub(super) struct Column {
    pub(super) role: Role,
    /// Index of the first whitespace-separated field of this column on an atom line.
    pub(super) start: usize,
    pub(super) count: usize,
}

/// The parsed comment line of a frame.
pub(super) struct Header {
    pub(super) lattice: Option<[Vec3; 3]>,
    pub(super) origin: Vec3,
    pub(super) pbc: Option<[bool; 3]>,
    pub(super) columns: Vec<Column>,
    pub(super) properties_text: String,
    pub(super) step: Option<u64>,
    pub(super) time: Option<f64>,
    pub(super) info: BTreeMap<String, String>,
}

impl Header {
    pub(super) fn parse(line: &str, loc: Loc<'_>) -> Result<Self, IoError> {
        let pairs = match split_key_values(line) {
            Ok(pairs) => pairs,
            Err(reason) => {
                let lower = line.to_ascii_lowercase();
                if lower.contains("lattice=") || lower.contains("properties=") {
                    return Err(loc.err(format!("comment line: {reason}")));
                }
                vec![("comment".to_string(), line.trim().to_string())]
            }
        };
        let mut header = Header {
            lattice: None,
            origin: Vec3::zeros(),
            pbc: None,
            columns: Vec::new(),
            properties_text: "species:S:1:pos:R:3".to_string(),
            step: None,
            time: None,
            info: BTreeMap::new(),
        };
        for (key, value) in pairs {
            match key.to_ascii_lowercase().as_str() {
                "lattice" => {
                    let numbers = number_list(&value, loc, "Lattice")?;
                    if numbers.len() != 9 {
                        return Err(loc.err(format!("Lattice has {} components, expected 9", numbers.len())));
                    }
                    let row = |k: usize| Vec3::new(numbers[3 * k], numbers[3 * k + 1], numbers[3 * k + 2]);
                    header.lattice = Some([row(0), row(1), row(2)]);
                }
                "origin" => {
                    let numbers = number_list(&value, loc, "Origin")?;
                    if numbers.len() != 3 {
                        return Err(loc.err(format!("Origin has {} components, expected 3", numbers.len())));
                    }
                    header.origin = Vec3::new(numbers[0], numbers[1], numbers[2]);
                }
                "pbc" => header.pbc = Some(parse_pbc(&value, loc)?),
                "properties" => header.properties_text = value,
                lower => {
                    if lower == "step" {
                        let step = value
                            .parse::<u64>()
                            .map_err(|_| loc.err(format!("{key} is '{value}', which is not a non-negative integer")))?;
                        header.step = Some(step);
                    } else if lower == "time" {
                        header.time = Some(loc.f64(&value, &key)?);
                    }
                    header.info.insert(key, value);
                }
            }
        }
        header.columns = parse_properties(&header.properties_text, loc)?;
        if header.lattice.is_none() && header.pbc.is_some_and(|pbc| pbc.contains(&true)) {
            return Err(loc.err("pbc has periodic axes but the Lattice key is missing"));
        }
        Ok(header)
    }

    pub(super) fn has(&self, role: Role) -> bool {
        self.columns.iter().any(|c| c.role == role)
    }
}

/// Splits a comment line into `key=value` pairs: values may be bare words, quoted with
/// `"` or `'` (backslash escapes the quote and itself), or bracketed with `{}`/`[]`. A key
/// without `=` stands for `key=T`, as in ASE. A line without any `=` is not key=value
/// pairs at all.
fn split_key_values(line: &str) -> Result<Vec<(String, String)>, String> {
    if !line.contains('=') {
        return Err("no key=value pairs".to_string());
    }
    let chars: Vec<char> = line.chars().collect();
    let mut pos = 0;
    let mut pairs = Vec::new();
    let skip_space = |pos: &mut usize| {
        while *pos < chars.len() && chars[*pos].is_whitespace() {
            *pos += 1;
        }
    };
    loop {
        skip_space(&mut pos);
        if pos == chars.len() {
            return Ok(pairs);
        }
        let key = if matches!(chars[pos], '"' | '\'') {
            read_quoted(&chars, &mut pos)?
        } else {
            let start = pos;
            while pos < chars.len() && !chars[pos].is_whitespace() && chars[pos] != '=' {
                pos += 1;
            }
            chars[start..pos].iter().collect()
        };
        if key.is_empty() {
            return Err(format!("'=' without a key at character {}", pos + 1));
        }
        skip_space(&mut pos);
        if pos < chars.len() && chars[pos] == '=' {
            pos += 1;
            skip_space(&mut pos);
            let value = if pos == chars.len() {
                return Err(format!("key '{key}' has no value"));
            } else if matches!(chars[pos], '"' | '\'') {
                read_quoted(&chars, &mut pos)?
            } else if matches!(chars[pos], '{' | '[') {
                read_bracketed(&chars, &mut pos)?
            } else {
                let start = pos;
                while pos < chars.len() && !chars[pos].is_whitespace() {
                    pos += 1;
                }
                chars[start..pos].iter().collect()
            };
            pairs.push((key, value));
        } else {
            pairs.push((key, "T".to_string()));
        }
    }
}

fn read_quoted(chars: &[char], pos: &mut usize) -> Result<String, String> {
    let quote = chars[*pos];
    let start = *pos;
    *pos += 1;
    let mut text = String::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        *pos += 1;
        if c == quote {
            return Ok(text);
        }
        if c == '\\' && *pos < chars.len() && matches!(chars[*pos], '"' | '\'' | '\\') {
            text.push(chars[*pos]);
            *pos += 1;
        } else {
            text.push(c);
        }
    }
    Err(format!("quote {quote} opened at character {} is never closed", start + 1))
}

fn read_bracketed(chars: &[char], pos: &mut usize) -> Result<String, String> {
    let start = *pos;
    let mut depth = 0usize;
    while *pos < chars.len() {
        match chars[*pos] {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
        *pos += 1;
        if depth == 0 {
            return Ok(chars[start..*pos].iter().collect());
        }
    }
    Err(format!("bracket opened at character {} is never closed", start + 1))
}

fn number_list(value: &str, loc: Loc<'_>, what: &str) -> Result<Vec<f64>, IoError> {
    let cleaned: String =
        value.chars().map(|c| if matches!(c, '[' | ']' | '{' | '}' | ',') { ' ' } else { c }).collect();
    cleaned.split_whitespace().map(|token| loc.f64(token, &format!("{what} component"))).collect()
}

fn parse_pbc(value: &str, loc: Loc<'_>) -> Result<[bool; 3], IoError> {
    let cleaned: String =
        value.chars().map(|c| if matches!(c, '[' | ']' | '{' | '}' | ',') { ' ' } else { c }).collect();
    let flags: Vec<bool> = cleaned
        .split_whitespace()
        .map(|token| match token.to_ascii_lowercase().as_str() {
            "t" | "true" | "1" => Ok(true),
            "f" | "false" | "0" => Ok(false),
            _ => Err(loc.err(format!("pbc flag is '{token}', expected T or F"))),
        })
        .collect::<Result<_, _>>()?;
    match flags.as_slice() {
        [p] => Ok([*p; 3]),
        [x, y, z] => Ok([*x, *y, *z]),
        _ => Err(loc.err(format!("pbc has {} flags, expected 3", flags.len()))),
    }
}

fn parse_properties(text: &str, loc: Loc<'_>) -> Result<Vec<Column>, IoError> {
    let parts: Vec<&str> = text.split(':').collect();
    if !parts.chunks_exact(3).remainder().is_empty() {
        return Err(loc.err(format!("Properties '{text}' is not a list of name:kind:count triples")));
    }
    let mut columns: Vec<Column> = Vec::new();
    let mut start = 0;
    for triple in parts.chunks(3) {
        let (name, kind, count) = (triple[0], triple[1], triple[2]);
        if !matches!(kind, "S" | "R" | "I" | "L") {
            return Err(loc.err(format!("Properties column '{name}' has kind '{kind}', expected S, R, I or L")));
        }
        let count: usize = match count.parse() {
            Ok(count) if count > 0 => count,
            _ => {
                return Err(
                    loc.err(format!("Properties column '{name}' has count '{count}', expected a positive integer"))
                )
            }
        };
        let (role, expected) = match name.to_ascii_lowercase().as_str() {
            "species" => (Role::Species, Some(("S", 1))),
            "pos" | "positions" => (Role::Position, Some(("R", 3))),
            "velo" | "vel" | "velocities" => (Role::Velocity, Some(("R", 3))),
            "momenta" => (Role::Momentum, Some(("R", 3))),
            "forces" | "force" => (Role::Force, Some(("R", 3))),
            "id" => (Role::Id, Some(("I", 1))),
            "masses" | "mass" => (Role::Mass, Some(("R", 1))),
            _ => (Role::Skip, None),
        };
        if let Some((want_kind, want_count)) = expected {
            if kind != want_kind || count != want_count {
                return Err(
                    loc.err(format!("Properties column '{name}' is {kind}:{count}, expected {want_kind}:{want_count}"))
                );
            }
        }
        if role != Role::Skip {
            let clash = |c: &Column| {
                c.role == role
                    || matches!((c.role, role), (Role::Velocity, Role::Momentum) | (Role::Momentum, Role::Velocity))
            };
            if columns.iter().any(clash) {
                return Err(loc.err(format!("Properties gives '{name}' twice (or both velocities and momenta)")));
            }
        }
        columns.push(Column { role, start, count });
        start += count;
    }
    for (role, name) in [(Role::Species, "species"), (Role::Position, "pos")] {
        if !columns.iter().any(|c| c.role == role) {
            return Err(loc.err(format!("Properties '{text}' has no {name} column")));
        }
    }
    Ok(columns)
}
