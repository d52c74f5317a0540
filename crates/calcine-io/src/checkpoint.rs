//! Checkpoints: everything a run needs to continue bit for bit, on any number of ranks.
//!
//! A checkpoint holds the step, the box, the species, the thermostat's variables, every
//! atom's record (id, species, position, velocity, image) and its position at the last
//! neighbor-list build (so the restarted run rebuilds the very same lists and sums every
//! force in the same order), what the input must agree on to continue it, and the byte
//! length of every output file at that step (so a resumed run cuts off whatever was
//! written after the checkpoint, a torn frame included, and appends from there).
//!
//! The file is a text header (one JSON line, readable with `head -c 2000`) followed by
//! little-endian `u64` words holding the exact bits of every number, and a SHA-256 of all
//! of it: a truncated or damaged checkpoint is refused rather than half-read. It is
//! written to a temporary file, flushed to disk, and renamed into place, so a checkpoint
//! on disk is always a whole one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use calcine_core::{AtomRecord, SimBox, Species, SpeciesTable, Vec3};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::IoError;

/// The first bytes of every checkpoint.
const MAGIC: &[u8] = b"CALCINE-CHECKPOINT\n";
/// Raised when the layout changes; a checkpoint of another version is refused.
pub const CHECKPOINT_VERSION: u32 = 1;

/// What a run's input must agree on with the checkpoint it continues, by name; each value
/// is a short description (compared as text, shown when they differ).
pub type Compatibility = BTreeMap<String, String>;

/// One run's state at a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub step: u64,
    pub simbox: SimBox,
    pub species: SpeciesTable,
    /// The thermostat's variables, as the engine flattens them.
    pub thermostat: Vec<f64>,
    /// Neighbor-list builds so far (the engine's sorting cadence counts them).
    pub n_rebuilds: u64,
    /// The step of the last neighbor-list build (the `every`/`delay` policy counts from it).
    pub last_build: u64,
    /// Every atom, sorted by id.
    pub atoms: Vec<AtomRecord>,
    /// Each atom's position at the last neighbor-list build, in the order of `atoms`.
    pub build_positions: Vec<Vec3>,
    pub compatibility: Compatibility,
    /// Output file name (relative to the output folder) → its length in bytes at `step`.
    pub outputs: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    version: u32,
    calcine: String,
    step: u64,
    n_atoms: u64,
    species: Vec<String>,
    n_thermostat: usize,
    n_rebuilds: u64,
    /// Absent from checkpoints written before the `every`/`delay` policy existed (their
    /// runs checked every step, for which the last build's step does not matter).
    #[serde(default)]
    last_build: u64,
    compatibility: Compatibility,
    outputs: BTreeMap<String, u64>,
}

impl Checkpoint {
    /// The file's bytes: header line, words, checksum.
    fn encode(&self) -> Vec<u8> {
        let header = Header {
            version: CHECKPOINT_VERSION,
            calcine: env!("CARGO_PKG_VERSION").to_string(),
            step: self.step,
            n_atoms: self.atoms.len() as u64,
            species: self.species.names(),
            n_thermostat: self.thermostat.len(),
            n_rebuilds: self.n_rebuilds,
            last_build: self.last_build,
            compatibility: self.compatibility.clone(),
            outputs: self.outputs.clone(),
        };
        let mut words: Vec<u64> = Vec::with_capacity(16 + self.atoms.len() * (AtomRecord::WORDS + 3));
        let b = &self.simbox;
        let lengths = b.lengths();
        for v in [b.lo().x, b.lo().y, b.lo().z, lengths[0], lengths[1], lengths[2]].into_iter().chain(b.tilt()) {
            words.push(v.to_bits());
        }
        words.extend(b.periodic().iter().map(|&p| p as u64));
        words.extend(self.species.iter().map(|(_, s)| s.mass.to_bits()));
        words.extend(self.thermostat.iter().map(|v| v.to_bits()));
        for (r, x) in self.atoms.iter().zip(&self.build_positions) {
            r.encode(&mut words);
            words.extend(x.iter().map(|c| c.to_bits()));
        }
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(serde_json::to_string(&header).expect("a header serializes").as_bytes());
        bytes.push(b'\n');
        for w in words {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        let digest = Sha256::digest(&bytes);
        bytes.extend_from_slice(&digest);
        bytes
    }

    /// Writes the checkpoint to `path` through `path.tmp`, flushed to disk and renamed,
    /// and flushes the folder, so that `path` is always a whole checkpoint.
    pub fn write(&self, path: &Path) -> Result<(), IoError> {
        let bytes = self.encode();
        let tmp = tmp_path(path);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            IoError::io(path, e)
        })
    }

    /// Reads a checkpoint; a damaged, truncated or foreign file, or one of another
    /// version, is an error saying so.
    pub fn read(path: &Path) -> Result<Self, IoError> {
        let bytes = std::fs::read(path).map_err(|e| IoError::io(path, e))?;
        let bad = |reason: String| IoError::Checkpoint { path: path.to_path_buf(), reason };
        if !bytes.starts_with(MAGIC) {
            return Err(bad("not a calcine checkpoint".into()));
        }
        if bytes.len() < MAGIC.len() + 32 {
            return Err(bad("the file is truncated".into()));
        }
        let (body, digest) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != digest {
            return Err(bad("the checksum does not match: the file is truncated or damaged".into()));
        }
        let rest = &body[MAGIC.len()..];
        let end = rest.iter().position(|&b| b == b'\n').ok_or_else(|| bad("the header has no end".into()))?;
        let header: Header =
            serde_json::from_slice(&rest[..end]).map_err(|e| bad(format!("the header does not parse: {e}")))?;
        if header.version != CHECKPOINT_VERSION {
            return Err(bad(format!(
                "it was written by calcine {} in checkpoint format {}, this calcine reads format {CHECKPOINT_VERSION}",
                header.calcine, header.version
            )));
        }
        let data = &rest[end + 1..];
        if data.len() % 8 != 0 {
            return Err(bad("the data is not whole words".into()));
        }
        let words: Vec<u64> =
            data.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
        let n_species = header.species.len();
        let per_atom = AtomRecord::WORDS + 3;
        let expected = 12 + n_species + header.n_thermostat + header.n_atoms as usize * per_atom;
        if words.len() != expected {
            return Err(bad(format!("it holds {} words, its header says {expected}", words.len())));
        }
        let f = |k: usize| f64::from_bits(words[k]);
        let periodic = [words[9] != 0, words[10] != 0, words[11] != 0];
        let simbox = SimBox::triclinic(Vec3::new(f(0), f(1), f(2)), [f(3), f(4), f(5)], [f(6), f(7), f(8)], periodic)
            .map_err(|e| bad(format!("its box is invalid: {e}")))?;
        let species = SpeciesTable::new(
            header
                .species
                .iter()
                .enumerate()
                .map(|(k, name)| Species { name: name.clone(), mass: f(12 + k) })
                .collect(),
        );
        let t0 = 12 + n_species;
        let thermostat = (0..header.n_thermostat).map(|k| f(t0 + k)).collect();
        let a0 = t0 + header.n_thermostat;
        let mut atoms = Vec::with_capacity(header.n_atoms as usize);
        let mut build_positions = Vec::with_capacity(header.n_atoms as usize);
        for chunk in words[a0..].chunks_exact(per_atom) {
            atoms.push(AtomRecord::decode(chunk));
            let x = &chunk[AtomRecord::WORDS..];
            build_positions.push(Vec3::new(f64::from_bits(x[0]), f64::from_bits(x[1]), f64::from_bits(x[2])));
        }
        Ok(Self {
            step: header.step,
            simbox,
            species,
            thermostat,
            n_rebuilds: header.n_rebuilds,
            last_build: header.last_build,
            atoms,
            build_positions,
            compatibility: header.compatibility,
            outputs: header.outputs,
        })
    }

    /// Whether an input described by `current` may continue this checkpoint: every entry
    /// must match, and the error lists each one that does not.
    pub fn check_compatible(&self, path: &Path, current: &Compatibility) -> Result<(), IoError> {
        let mut differences = Vec::new();
        for key in self.compatibility.keys().chain(current.keys().filter(|k| !self.compatibility.contains_key(*k))) {
            let (old, new) = (self.compatibility.get(key), current.get(key));
            if old != new {
                let show = |v: Option<&String>| v.map_or_else(|| "(none)".to_string(), |s| format!("'{s}'"));
                differences.push(format!("{key}: checkpoint {} vs input {}", show(old), show(new)));
            }
        }
        if differences.is_empty() {
            Ok(())
        } else {
            Err(IoError::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("it belongs to a different input ({})", differences.join("; ")),
            })
        }
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calcine_core::{AtomId, SpeciesId};

    fn sample() -> Checkpoint {
        let simbox =
            SimBox::triclinic(Vec3::new(-1.0, 0.5, 0.0), [7.0, 8.0, 9.0], [0.3, -0.2, 0.1], [true, true, false])
                .unwrap();
        let atoms = (0..5)
            .map(|k| AtomRecord {
                id: AtomId(k + 1),
                species: SpeciesId((k % 2) as u32),
                position: Vec3::new(k as f64 * 0.1 + 1e-17, -0.0, 3.0),
                velocity: Vec3::new(1.0 / 3.0, k as f64, -2.5),
                image: [k as i32 - 2, 0, 1],
            })
            .collect();
        let mut compatibility = Compatibility::new();
        compatibility.insert("integrator".into(), "nve".into());
        compatibility.insert("timestep".into(), "0.001".into());
        Checkpoint {
            step: 1234,
            simbox,
            species: SpeciesTable::new(vec![
                Species { name: "Cu".into(), mass: 63.546 },
                Species { name: "Ni".into(), mass: 58.6934 },
            ]),
            thermostat: vec![0.1, -0.25, 1e-300],
            n_rebuilds: 17,
            last_build: 1230,
            atoms,
            build_positions: (0..5).map(|k| Vec3::new(k as f64, 0.5, f64::MIN_POSITIVE)).collect(),
            compatibility,
            outputs: [("thermo.csv".to_string(), 4321u64)].into_iter().collect(),
        }
    }

    #[test]
    fn checkpoints_round_trip_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ckpt");
        let c = sample();
        c.write(&path).unwrap();
        assert!(!tmp_path(&path).exists());
        let back = Checkpoint::read(&path).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.atoms[0].position.y.to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn damaged_truncated_or_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ckpt");
        sample().write(&path).unwrap();
        let good = std::fs::read(&path).unwrap();
        std::fs::write(&path, &good[..good.len() - 100]).unwrap();
        let e = Checkpoint::read(&path).unwrap_err().to_string();
        assert!(e.contains("checksum does not match"), "{e}");
        let mut flipped = good.clone();
        let k = flipped.len() / 2;
        flipped[k] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(Checkpoint::read(&path).unwrap_err().to_string().contains("damaged"));
        std::fs::write(&path, b"hello").unwrap();
        assert!(Checkpoint::read(&path).unwrap_err().to_string().contains("not a calcine checkpoint"));
    }

    #[test]
    fn an_incompatible_input_is_named_key_by_key() {
        let c = sample();
        let mut other = c.compatibility.clone();
        other.insert("integrator".into(), "langevin 300 K".into());
        other.insert("potential".into(), "eam".into());
        let e = c.check_compatible(Path::new("run.ckpt"), &other).unwrap_err().to_string();
        assert!(e.contains("integrator: checkpoint 'nve' vs input 'langevin 300 K'"), "{e}");
        assert!(e.contains("potential: checkpoint (none) vs input 'eam'"), "{e}");
        assert!(c.check_compatible(Path::new("run.ckpt"), &c.compatibility).is_ok());
    }
}
