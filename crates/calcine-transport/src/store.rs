//! Per-atom series kept for the FFT: frames arrive one at a time (frame-major) but the FFT
//! wants each atom's whole series (atom-major). The store keeps frames in memory up to a
//! budget, then moves them to a scratch file and appends there; atoms are read back in
//! batches that fit the budget.
//!
//! **What is stored.** Each frame's values x (unwrapped positions, or velocities) and a
//! shift s per frame; a read gives (x − x₀) − s, x₀ the first frame's values (positions)
//! or zero (velocities): the same operations as computing the displacement before storing
//! it, so the same bits.
//!
//! **Decimal chunks.** Frames are kept in chunks of consecutive frames. Values read from
//! text are usually decimals with a few digits after the point (`12.34567`); such a value
//! is exactly `m / 10^k` in floating point for an integer m (both exact, one correctly
//! rounded division, as the parser itself computes it). A chunk whose every value passes
//! that check, bit for bit, for one k ≤ 9 stores per value the integer m of its first
//! frame (i64) and, for every frame, m minus that base as an i32: half the bytes of f64,
//! so twice the frames fit the budget and half the bytes go to the scratch file. Any value
//! that fails (more digits, −0, far from the base) ends the chunk; the next one is
//! plain f64 if no k fits. The values read back are identical either way.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::TransportError;

/// The largest number of decimals a decimal chunk takes.
const MAX_DECIMALS: usize = 9;

/// Frames of a plain chunk after a failed search, at first.
const RETRY: usize = 1;

/// What a read subtracts from the stored values besides each frame's shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// The values of the first frame (positions: reads give displacements).
    FirstFrame,
    /// Nothing (velocities).
    Zero,
}

/// How a chunk's values are written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Code {
    Float,
    /// Values m / scale, scale = 10^k.
    Decimal {
        scale: f64,
    },
}

#[derive(Debug)]
enum Payload {
    Float(Vec<f64>),
    /// The first frame's integers, then every frame's differences from them.
    Decimal(Vec<i64>, Vec<i32>),
    /// In the scratch file from `offset`: a decimal chunk's base (i64) first, then the
    /// frames' values (f64 or i32).
    File(u64),
}

#[derive(Debug)]
struct Chunk {
    frames: usize,
    /// The most frames it takes.
    limit: usize,
    code: Code,
    payload: Payload,
}

/// Frames of `width` 3-vectors (one per owned atom).
#[derive(Debug)]
pub struct SeriesStore {
    width: usize,
    n_frames: usize,
    budget: usize,
    reference: Reference,
    origin: Vec<f64>,
    shifts: Vec<[f64; 3]>,
    chunks: Vec<Chunk>,
    chunk_frames: usize,
    /// Bytes of chunk payloads in memory.
    in_memory: usize,
    /// The smallest number of decimals the next decimal chunk tries.
    decimals: usize,
    /// Frames a plain chunk opened by a failed search takes before the next search: one,
    /// doubling with each failure in a row (so values that are never decimals cost few
    /// searches), back to one after a success.
    retry: usize,
    spill: Option<Spill>,
    dir: PathBuf,
    /// Work space of one frame.
    mantissas: Vec<i64>,
    deltas: Vec<i32>,
}

#[derive(Debug)]
struct Spill {
    writer: BufWriter<File>,
    file: File,
    /// Bytes written so far.
    end: u64,
}

fn scratch_error(dir: &Path, source: std::io::Error) -> TransportError {
    TransportError::Scratch { dir: dir.to_path_buf(), source }
}

fn pow10(k: usize) -> f64 {
    10f64.powi(k as i32)
}

/// The bits of −0.0, which text gives for "-0.00000" and no integer over a power of ten
/// is: a decimal chunk writes it as the difference [`NEGATIVE_ZERO`].
const NEGATIVE_ZERO_BITS: u64 = 1 << 63;
const NEGATIVE_ZERO: i32 = i32::MIN;

/// The integers m nearest to x·scale into `out`; whether `m as f64 / scale == x` bit for
/// bit for every value (−0 counts as 0).
fn mantissas(values: &[f64], scale: f64, out: &mut Vec<i64>) -> bool {
    out.clear();
    let mut ok = true;
    out.extend(values.iter().map(|&x| {
        let m = (x * scale).round_ties_even() as i64;
        ok &= ((m as f64 / scale).to_bits() == x.to_bits()) | (x.to_bits() == NEGATIVE_ZERO_BITS);
        m
    }));
    ok
}

/// Differences of the values' integers from `base` as i32 (−0 as [`NEGATIVE_ZERO`],
/// which no difference takes), or `false` if a value is not an integer over `scale` or
/// too far from its base.
fn encode(values: &[f64], base: &[i64], scale: f64, out: &mut [i32]) -> bool {
    let mut ok = true;
    for ((&x, &b), d) in values.iter().zip(base).zip(out.iter_mut()) {
        let m = (x * scale).round_ties_even() as i64;
        let delta = m.wrapping_sub(b);
        let negative_zero = x.to_bits() == NEGATIVE_ZERO_BITS;
        let exact = (m as f64 / scale).to_bits() == x.to_bits();
        ok &= negative_zero | (exact & (delta > i32::MIN as i64) & (delta <= i32::MAX as i64));
        *d = if negative_zero { NEGATIVE_ZERO } else { delta as i32 };
    }
    ok
}

/// The values `(base + delta) / scale` into `out`.
fn decode(base: &[i64], deltas: &[i32], scale: f64, out: &mut [f64]) {
    for ((o, &b), &d) in out.iter_mut().zip(base).zip(deltas) {
        let x = (b + d as i64) as f64 / scale;
        *o = if d == NEGATIVE_ZERO { -0.0 } else { x };
    }
}

impl SeriesStore {
    /// A store for `width` atoms per frame that keeps at most `budget` bytes in memory;
    /// a scratch file, if needed, goes in `dir`.
    pub fn new(width: usize, budget: usize, dir: &Path, reference: Reference) -> Self {
        // Chunks of about 2 MiB of decimal frames, and never so few frames that the base
        // row of a decimal chunk weighs much.
        let chunk_frames = ((2 << 20) / (12 * width.max(1))).max(32);
        Self {
            width,
            n_frames: 0,
            budget,
            reference,
            origin: Vec::new(),
            shifts: Vec::new(),
            chunks: Vec::new(),
            chunk_frames,
            in_memory: 0,
            decimals: 0,
            retry: RETRY,
            spill: None,
            dir: dir.to_path_buf(),
            mantissas: Vec::new(),
            deltas: Vec::new(),
        }
    }

    /// Whether the frames went to a scratch file.
    pub fn spilled(&self) -> bool {
        self.spill.is_some()
    }

    /// Frames kept in decimal chunks.
    #[cfg(test)]
    pub fn decimal_frames(&self) -> usize {
        self.chunks.iter().filter(|c| matches!(c.code, Code::Decimal { .. })).map(|c| c.frames).sum()
    }

    /// Moves every chunk in memory to a new scratch file.
    fn start_spill(&mut self) -> Result<(), TransportError> {
        let file = tempfile::tempfile_in(&self.dir).map_err(|e| scratch_error(&self.dir, e))?;
        let reader = file.try_clone().map_err(|e| scratch_error(&self.dir, e))?;
        let mut spill = Spill { writer: BufWriter::with_capacity(1 << 20, file), file: reader, end: 0 };
        for chunk in &mut self.chunks {
            let offset = spill.end;
            let payload = std::mem::replace(&mut chunk.payload, Payload::File(offset));
            let bytes: Vec<u8> = match payload {
                Payload::Float(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                Payload::Decimal(base, deltas) => base
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .chain(deltas.iter().flat_map(|x| x.to_le_bytes()))
                    .collect(),
                Payload::File(_) => unreachable!("nothing is in the file before the spill"),
            };
            spill.writer.write_all(&bytes).map_err(|e| scratch_error(&self.dir, e))?;
            spill.end += bytes.len() as u64;
        }
        self.in_memory = 0;
        self.spill = Some(spill);
        tracing::info!(dir = %self.dir.display(), "per-atom series exceed the memory budget: using a scratch file");
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let spill = self.spill.as_mut().expect("spilled");
        spill.writer.write_all(bytes).map_err(|e| scratch_error(&self.dir, e))?;
        spill.end += bytes.len() as u64;
        Ok(())
    }

    /// Opens a chunk for `values`: decimal with the fewest decimals from `self.decimals`
    /// on that represent them exactly, else plain for `self.retry` frames.
    fn open_chunk(&mut self, values: &[f64]) -> Result<(), TransportError> {
        let mut code = Code::Float;
        let mut m = std::mem::take(&mut self.mantissas);
        for k in self.decimals..=MAX_DECIMALS {
            if mantissas(values, pow10(k), &mut m) {
                code = Code::Decimal { scale: pow10(k) };
                self.decimals = k;
                break;
            }
        }
        self.mantissas = m;
        let limit = match code {
            Code::Decimal { .. } => {
                self.retry = RETRY;
                self.chunk_frames
            }
            Code::Float => {
                let limit = self.retry.min(self.chunk_frames);
                self.retry = (2 * self.retry).min(self.chunk_frames);
                limit
            }
        };
        // Allocated whole when the budget has room for the whole chunk (no doubling).
        let whole = |bytes: usize| {
            if self.in_memory + bytes * values.len() * limit <= self.budget {
                values.len() * limit
            } else {
                0
            }
        };
        let payload = match (code, &self.spill) {
            (_, Some(spill)) => Payload::File(spill.end),
            (Code::Float, None) => Payload::Float(Vec::with_capacity(whole(8))),
            (Code::Decimal { .. }, None) => Payload::Decimal(self.mantissas.clone(), Vec::with_capacity(whole(4))),
        };
        if let (Code::Decimal { .. }, Payload::File(_)) = (code, &payload) {
            let bytes: Vec<u8> = self.mantissas.iter().flat_map(|x| x.to_le_bytes()).collect();
            self.write(&bytes)?;
        } else if let Payload::Decimal(base, _) = &payload {
            self.in_memory += 8 * base.len();
        }
        self.chunks.push(Chunk { frames: 0, limit, code, payload });
        Ok(())
    }

    /// Appends one frame (`width` vectors) and its shift.
    pub fn push(&mut self, frame: &[[f64; 3]], shift: [f64; 3]) -> Result<(), TransportError> {
        assert_eq!(frame.len(), self.width);
        let values = frame.as_flattened();
        if self.n_frames == 0 {
            self.origin = match self.reference {
                Reference::FirstFrame => values.to_vec(),
                Reference::Zero => vec![0.0; values.len()],
            };
        }
        self.shifts.push(shift);
        // The next frame, its chunk's base and the shifts at most, must fit the budget.
        let next = 8 * values.len() * 2 + 24 * (self.n_frames + 1) + 8 * self.origin.len();
        if self.spill.is_none() && self.in_memory + next > self.budget && self.width > 0 {
            self.start_spill()?;
        }
        // Into the open chunk if it has room and its code takes the frame.
        let mut deltas = std::mem::take(&mut self.deltas);
        deltas.resize(values.len(), 0);
        let fits = match self.chunks.last() {
            Some(c) if c.frames < c.limit => match (c.code, &c.payload) {
                (Code::Float, _) => true,
                (Code::Decimal { scale, .. }, Payload::Decimal(base, _)) => encode(values, base, scale, &mut deltas),
                // The base is in the file; `mantissas` still holds it (the integers of
                // the chunk's first frame).
                (Code::Decimal { scale, .. }, Payload::File(_)) => encode(values, &self.mantissas, scale, &mut deltas),
                (Code::Decimal { .. }, Payload::Float(_)) => unreachable!("decimal chunks hold integers"),
            },
            _ => false,
        };
        if !fits {
            // A value that fails the chunk's code (more decimals, far from its base, not
            // a decimal at all) ends it: the next chunk starts from this frame.
            self.open_chunk(values)?;
            if let Some(Chunk { code: Code::Decimal { scale, .. }, .. }) = self.chunks.last() {
                // Zeros, and −0 where the frame has it.
                let exact = encode(values, &self.mantissas, *scale, &mut deltas);
                debug_assert!(exact);
            }
        }
        let chunk = self.chunks.last_mut().expect("a chunk is open");
        chunk.frames += 1;
        match &mut chunk.payload {
            Payload::Float(v) => {
                v.extend_from_slice(values);
                self.in_memory += 8 * values.len();
            }
            Payload::Decimal(_, d) => {
                d.extend_from_slice(&deltas);
                self.in_memory += 4 * values.len();
            }
            Payload::File(_) => {
                let bytes: Vec<u8> = match chunk.code {
                    Code::Float => values.iter().flat_map(|x| x.to_le_bytes()).collect(),
                    Code::Decimal { .. } => deltas.iter().flat_map(|x| x.to_le_bytes()).collect(),
                };
                self.write(&bytes)?;
            }
        }
        self.deltas = deltas;
        self.n_frames += 1;
        Ok(())
    }

    /// Atoms per batch so that a batch's series take a quarter of the budget (at least 2):
    /// with the transforms' buffers the peak then stays near the budget.
    pub fn batch_atoms(&self) -> usize {
        let per_atom = 24 * self.n_frames.max(1);
        (self.budget / 4 / per_atom).max(2)
    }

    /// The series of atoms `range` (one `Vec` of `n_frames` vectors each) into `out`,
    /// whose vectors are reused (batch after batch, no fresh memory to fault in).
    pub fn read_atoms_into(
        &mut self,
        range: std::ops::Range<usize>,
        out: &mut Vec<Vec<[f64; 3]>>,
    ) -> Result<(), TransportError> {
        let n = self.n_frames;
        out.resize_with(range.len(), Vec::new);
        for series in out.iter_mut() {
            series.clear();
            series.reserve_exact(n);
        }
        if let Some(spill) = &mut self.spill {
            spill.writer.flush().map_err(|e| scratch_error(&self.dir, e))?;
        }
        // Each thread decodes (or reads) the series of its share of the atoms.
        let share = range.len().div_ceil(rayon::current_num_threads().max(1)).max(1);
        let this = &*self;
        out.par_chunks_mut(share).enumerate().try_for_each(|(i, part)| {
            let start = range.start + i * share;
            this.read_range(start..start + part.len(), part)
        })
    }

    /// The series of atoms `range` appended to `out` (one per atom).
    fn read_range(&self, range: std::ops::Range<usize>, out: &mut [Vec<[f64; 3]>]) -> Result<(), TransportError> {
        let (lo, hi) = (3 * range.start, 3 * range.end);
        let row = 3 * self.width;
        let origin = &self.origin[lo..hi];
        let mut values = vec![0.0; hi - lo];
        let mut base = vec![0i64; hi - lo];
        let mut deltas = vec![0i32; hi - lo];
        let mut bytes = Vec::new();
        let mut first = 0;
        for chunk in &self.chunks {
            let file_base = match (&chunk.payload, chunk.code) {
                (Payload::File(offset), Code::Decimal { .. }) => {
                    bytes.resize(8 * (hi - lo), 0);
                    self.read_at(&mut bytes, offset + 8 * lo as u64)?;
                    for (b, w) in base.iter_mut().zip(bytes.chunks_exact(8)) {
                        *b = i64::from_le_bytes(w.try_into().expect("8 bytes"));
                    }
                    Some(offset + 8 * row as u64)
                }
                (Payload::File(offset), Code::Float) => Some(*offset),
                _ => None,
            };
            for f in 0..chunk.frames {
                match (&chunk.payload, chunk.code) {
                    (Payload::Float(v), _) => values.copy_from_slice(&v[f * row + lo..f * row + hi]),
                    (Payload::Decimal(b, d), Code::Decimal { scale, .. }) => {
                        decode(&b[lo..hi], &d[f * row + lo..f * row + hi], scale, &mut values)
                    }
                    (Payload::File(_), Code::Float) => {
                        bytes.resize(8 * (hi - lo), 0);
                        self.read_at(&mut bytes, file_base.expect("in the file") + 8 * (f * row + lo) as u64)?;
                        for (x, w) in values.iter_mut().zip(bytes.chunks_exact(8)) {
                            *x = f64::from_le_bytes(w.try_into().expect("8 bytes"));
                        }
                    }
                    (Payload::File(_), Code::Decimal { scale, .. }) => {
                        bytes.resize(4 * (hi - lo), 0);
                        self.read_at(&mut bytes, file_base.expect("in the file") + 4 * (f * row + lo) as u64)?;
                        for (x, w) in deltas.iter_mut().zip(bytes.chunks_exact(4)) {
                            *x = i32::from_le_bytes(w.try_into().expect("4 bytes"));
                        }
                        decode(&base, &deltas, scale, &mut values);
                    }
                    (Payload::Decimal(..), Code::Float) => unreachable!("decimal chunks hold integers"),
                }
                let shift = self.shifts[first + f];
                for ((series, x), o) in out.iter_mut().zip(values.chunks_exact(3)).zip(origin.chunks_exact(3)) {
                    series.push([(x[0] - o[0]) - shift[0], (x[1] - o[1]) - shift[1], (x[2] - o[2]) - shift[2]]);
                }
            }
            first += chunk.frames;
        }
        debug_assert_eq!(first, self.n_frames);
        Ok(())
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), TransportError> {
        let spill = self.spill.as_ref().expect("spilled");
        spill.file.read_exact_at(buf, offset).map_err(|e| scratch_error(&self.dir, e))
    }
}
