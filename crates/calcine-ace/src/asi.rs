//! The active-set file (`.asi`) pacemaker's `pace_activeset` writes: a NumPy `.npz` archive
//! (a zip of `.npy` arrays, stored without compression by `numpy.savez`) holding, per
//! element symbol, the square pseudo-inverse of that element's active-set matrix.

use calcine_potential::PotentialError;
use std::collections::BTreeMap;
use std::path::Path;

/// A square matrix of f64, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub n: usize,
    pub values: Vec<f64>,
}

fn invalid(path: &Path, reason: impl Into<String>) -> PotentialError {
    PotentialError::Invalid { path: path.to_path_buf(), reason: reason.into() }
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]) as u64)
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u64)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8).map(|s| u64::from_le_bytes(s.try_into().expect("eight bytes")))
}

/// The members of a zip archive stored without compression, by name.
fn zip_members<'a>(path: &Path, bytes: &'a [u8]) -> Result<BTreeMap<String, &'a [u8]>, PotentialError> {
    let bad = |what: &str| invalid(path, format!("not a readable .npz archive: {what}"));
    // The end-of-central-directory record, searched from the end (a comment may follow it).
    let eocd = (0..bytes.len().saturating_sub(21))
        .rev()
        .find(|&k| bytes[k..k + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or_else(|| bad("no end of central directory"))?;
    let mut count = u16_at(bytes, eocd + 10).ok_or_else(|| bad("truncated"))?;
    let mut offset = u32_at(bytes, eocd + 16).ok_or_else(|| bad("truncated"))?;
    if count == 0xffff || offset == 0xffff_ffff {
        // ZIP64: the locator just before the record points at the ZIP64 end record.
        let loc = eocd
            .checked_sub(20)
            .filter(|&l| bytes[l..l + 4] == [0x50, 0x4b, 0x06, 0x07])
            .ok_or_else(|| bad("no ZIP64 locator"))?;
        let end64 = u64_at(bytes, loc + 8).ok_or_else(|| bad("truncated"))? as usize;
        count = u64_at(bytes, end64 + 32).ok_or_else(|| bad("truncated"))?;
        offset = u64_at(bytes, end64 + 48).ok_or_else(|| bad("truncated"))?;
    }
    let mut members = BTreeMap::new();
    let mut at = offset as usize;
    for _ in 0..count {
        if bytes.get(at..at + 4) != Some(&[0x50, 0x4b, 0x01, 0x02]) {
            return Err(bad("broken central directory"));
        }
        let method = u16_at(bytes, at + 10).ok_or_else(|| bad("truncated"))?;
        let mut size = u32_at(bytes, at + 20).ok_or_else(|| bad("truncated"))?;
        let mut usize_ = u32_at(bytes, at + 24).ok_or_else(|| bad("truncated"))?;
        let name_len = u16_at(bytes, at + 28).ok_or_else(|| bad("truncated"))? as usize;
        let extra_len = u16_at(bytes, at + 30).ok_or_else(|| bad("truncated"))? as usize;
        let comment_len = u16_at(bytes, at + 32).ok_or_else(|| bad("truncated"))? as usize;
        let mut local = u32_at(bytes, at + 42).ok_or_else(|| bad("truncated"))?;
        let name = String::from_utf8_lossy(bytes.get(at + 46..at + 46 + name_len).ok_or_else(|| bad("truncated"))?)
            .into_owned();
        // ZIP64 extra field: the 64-bit values of those fields that hold 0xffffffff, in order.
        let extra = bytes.get(at + 46 + name_len..at + 46 + name_len + extra_len).ok_or_else(|| bad("truncated"))?;
        let mut e = 0;
        while e + 4 <= extra.len() {
            let (id, len) = (u16_at(extra, e).unwrap(), u16_at(extra, e + 2).unwrap() as usize);
            if id == 1 {
                let mut f = e + 4;
                for field in [&mut usize_, &mut size, &mut local] {
                    if *field == 0xffff_ffff {
                        *field = u64_at(extra, f).ok_or_else(|| bad("truncated ZIP64 field"))?;
                        f += 8;
                    }
                }
            }
            e += 4 + len;
        }
        if method != 0 {
            return Err(invalid(
                path,
                format!("member {name} is compressed (method {method}); numpy.savez writes stored members"),
            ));
        }
        let l = local as usize;
        if bytes.get(l..l + 4) != Some(&[0x50, 0x4b, 0x03, 0x04]) {
            return Err(bad("broken local header"));
        }
        let start = l
            + 30
            + u16_at(bytes, l + 26).ok_or_else(|| bad("truncated"))? as usize
            + u16_at(bytes, l + 28).ok_or_else(|| bad("truncated"))? as usize;
        let data = bytes.get(start..start + size as usize).ok_or_else(|| bad("truncated member"))?;
        members.insert(name, data);
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(members)
}

/// A square float64 array from the bytes of a `.npy` file.
fn npy_matrix(path: &Path, name: &str, b: &[u8]) -> Result<Matrix, PotentialError> {
    let bad = |what: String| invalid(path, format!("array '{name}': {what}"));
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy array".into()));
    }
    let (header_len, start) = match b[6] {
        1 => (u16_at(b, 8).unwrap() as usize, 10),
        2 | 3 => (u32_at(b, 8).ok_or_else(|| bad("truncated".into()))? as usize, 12),
        v => return Err(bad(format!(".npy version {v} is not supported"))),
    };
    let header = std::str::from_utf8(b.get(start..start + header_len).ok_or_else(|| bad("truncated header".into()))?)
        .map_err(|_| bad("header is not text".into()))?;
    let field = |key: &str| -> Option<&str> {
        let k = header.find(&format!("'{key}'"))?;
        Some(header[k + key.len() + 2..].trim_start().trim_start_matches(':').trim_start())
    };
    let descr = field("descr").ok_or_else(|| bad("no 'descr'".into()))?;
    if !descr.starts_with("'<f8'") {
        return Err(bad(format!(
            "values must be little-endian float64 ('<f8'), found {}",
            descr.split(',').next().unwrap_or("")
        )));
    }
    let fortran = field("fortran_order").is_some_and(|v| v.starts_with("True"));
    let shape = field("shape").ok_or_else(|| bad("no 'shape'".into()))?;
    let dims: Vec<usize> = shape
        .trim_start_matches('(')
        .split(')')
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad(format!("unreadable shape {shape}")))?;
    if dims.len() != 2 || dims[0] != dims[1] {
        return Err(bad(format!("must be a square matrix, has shape {dims:?}")));
    }
    let n = dims[0];
    let data = b.get(start + header_len..start + header_len + 8 * n * n).ok_or_else(|| bad("truncated data".into()))?;
    let mut values: Vec<f64> =
        data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("eight bytes"))).collect();
    if fortran {
        let mut t = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                t[i * n + j] = values[j * n + i];
            }
        }
        values = t;
    }
    Ok(Matrix { n, values })
}

/// Reads an `.asi` file: one square matrix per element symbol.
pub fn read_asi(path: &Path) -> Result<BTreeMap<String, Matrix>, PotentialError> {
    let bytes = std::fs::read(path).map_err(|source| PotentialError::Io { path: path.to_path_buf(), source })?;
    let mut out = BTreeMap::new();
    for (name, data) in zip_members(path, &bytes)? {
        let element = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        out.insert(element.clone(), npy_matrix(path, &element, data)?);
    }
    Ok(out)
}
