//! Per-atom series kept for the FFT: frames arrive one at a time (frame-major) but the FFT
//! wants each atom's whole series (atom-major). The store keeps frames in memory up to a
//! budget, then moves them to a scratch file and appends there; atoms are read back in
//! batches that fit the budget, each batch in one positional read per frame.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::TransportError;

/// Frames of `width` 3-vectors (one per owned atom).
#[derive(Debug)]
pub struct SeriesStore {
    width: usize,
    n_frames: usize,
    budget: usize,
    /// Frames in memory, in chunks of `chunk_frames` frames (allocated whole, so memory
    /// never overshoots by a doubling).
    memory: Vec<Vec<f64>>,
    chunk_frames: usize,
    spill: Option<Spill>,
    dir: PathBuf,
}

#[derive(Debug)]
struct Spill {
    writer: BufWriter<File>,
    file: File,
}

impl SeriesStore {
    /// A store for `width` atoms per frame that keeps at most `budget` bytes in memory;
    /// a scratch file, if needed, goes in `dir`.
    pub fn new(width: usize, budget: usize, dir: &Path) -> Self {
        let chunk_frames = ((1 << 20) / (24 * width.max(1))).max(1);
        Self { width, n_frames: 0, budget, memory: Vec::new(), chunk_frames, spill: None, dir: dir.to_path_buf() }
    }

    /// Whether the frames went to a scratch file.
    pub fn spilled(&self) -> bool {
        self.spill.is_some()
    }

    fn scratch_error(&self, source: std::io::Error) -> TransportError {
        TransportError::Scratch { dir: self.dir.clone(), source }
    }

    /// Appends one frame (`width` vectors).
    pub fn push(&mut self, frame: &[[f64; 3]]) -> Result<(), TransportError> {
        assert_eq!(frame.len(), self.width);
        let in_memory = 24 * self.width * (self.n_frames + 1);
        if self.spill.is_none() && in_memory > self.budget && self.width > 0 {
            let file = tempfile::tempfile_in(&self.dir).map_err(|e| self.scratch_error(e))?;
            let reader = file.try_clone().map_err(|e| self.scratch_error(e))?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            for chunk in std::mem::take(&mut self.memory) {
                let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
                writer.write_all(&bytes).map_err(|e| self.scratch_error(e))?;
            }
            self.spill = Some(Spill { writer, file: reader });
            tracing::info!(dir = %self.dir.display(), "per-atom series exceed the memory budget: using a scratch file");
        }
        match &mut self.spill {
            None => {
                if self.n_frames.is_multiple_of(self.chunk_frames) {
                    self.memory.push(Vec::with_capacity(3 * self.width * self.chunk_frames));
                }
                self.memory.last_mut().expect("a chunk").extend(frame.iter().flatten());
            }
            Some(spill) => {
                let mut bytes = Vec::with_capacity(24 * frame.len());
                for x in frame.iter().flatten() {
                    bytes.extend_from_slice(&x.to_le_bytes());
                }
                if let Err(e) = spill.writer.write_all(&bytes) {
                    return Err(TransportError::Scratch { dir: self.dir.clone(), source: e });
                }
            }
        }
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
        match &mut self.spill {
            None => {
                for k in 0..n {
                    let (c, i) = (k / self.chunk_frames, k % self.chunk_frames);
                    let row = &self.memory[c][3 * self.width * i..3 * self.width * (i + 1)];
                    for (series, a) in out.iter_mut().zip(range.clone()) {
                        series.push([row[3 * a], row[3 * a + 1], row[3 * a + 2]]);
                    }
                }
            }
            Some(spill) => {
                if let Err(e) = spill.writer.flush() {
                    return Err(TransportError::Scratch { dir: self.dir.clone(), source: e });
                }
                let mut buf = vec![0u8; 24 * range.len()];
                for k in 0..n {
                    let offset = (24 * (self.width * k + range.start)) as u64;
                    if let Err(e) = spill.file.read_exact_at(&mut buf, offset) {
                        return Err(TransportError::Scratch { dir: self.dir.clone(), source: e });
                    }
                    for (series, chunk) in out.iter_mut().zip(buf.chunks_exact(24)) {
                        let v = |i: usize| f64::from_le_bytes(chunk[8 * i..8 * i + 8].try_into().expect("8 bytes"));
                        series.push([v(0), v(1), v(2)]);
                    }
                }
            }
        }
        Ok(())
    }
}
