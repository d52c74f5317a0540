//! Collective H5MD writing over parallel HDF5 (feature `mpio`): every rank sends its owned
//! atoms (their records, and their forces and virials when the file stores them) to the rank that
//! writes their rows (one all-to-all), and every rank then writes one contiguous block of
//! rows of each per-atom dataset in one collective transfer.
//!
//! The blocks are whole chunks of [`CHUNK_ATOMS`] rows (rank `r` of `P` writes chunks
//! `r·C/P .. (r+1)·C/P` of the `C` chunks), so each chunk is compressed by the one rank
//! that holds it and no chunk is shared. The file's layout, chunks and compressed bytes
//! are those of the gathered [`H5mdWriter`]: the same rows, in `AtomId` order, with the
//! same deflate settings.
//!
//! HDF5 writes filtered (compressed) datasets in parallel only with collective transfers,
//! which hdf5-metno does not expose: [`Transfer`] makes the transfer property list and calls
//! `H5Dwrite` itself, the only `unsafe` code of this crate.
#![allow(unsafe_code)]

use std::ops::Range;
use std::path::Path;

use calcine_comm::Communicator;
use calcine_core::{AtomId, AtomRecord, SimBox, SpeciesId, SpeciesTable, Vec3, Virial};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::{H5FD_mpio_xfer_t, H5Pclose, H5Pcreate, H5Pset_dxpl_mpio};

use crate::h5md::{Header, Rows};
use crate::{H5mdContents, H5mdWriter, IoError, Thermo, CHUNK_ATOMS};

/// A collective data-transfer property list (`H5FD_MPIO_COLLECTIVE`).
pub(crate) struct Transfer {
    dxpl: hid_t,
}

impl Transfer {
    fn new() -> hdf5::Result<Self> {
        hdf5::sync::sync(|| {
            // SAFETY: plain calls into the HDF5 C library under its global lock; the
            // property list is closed in `Drop`.
            let dxpl = unsafe { H5Pcreate(*hdf5::globals::H5P_DATASET_XFER) };
            if dxpl < 0 {
                return Err("cannot create a dataset transfer property list".into());
            }
            if unsafe { H5Pset_dxpl_mpio(dxpl, H5FD_mpio_xfer_t::H5FD_MPIO_COLLECTIVE) } < 0 {
                unsafe { H5Pclose(dxpl) };
                return Err("cannot set collective transfers (is HDF5 built with MPI?)".into());
            }
            Ok(Self { dxpl })
        })
    }

    /// Writes `values` (row-major) into `selection` of `d`, or nothing when `selection`
    /// is `None`. Collective: every rank calls it, in the same order.
    pub(crate) fn write<T: hdf5::H5Type>(
        &self,
        d: &hdf5::Dataset,
        selection: Option<hdf5::Selection>,
        values: &[T],
    ) -> hdf5::Result<()> {
        let space = d.space()?;
        let (file_space, memory) = match selection {
            Some(selection) => (space.select(selection)?, hdf5::Dataspace::try_new(values.len())?),
            None => {
                let memory = hdf5::Dataspace::try_new(1)?;
                // SAFETY: selects nothing in two dataspaces this function owns.
                let code = hdf5::sync::sync(|| unsafe {
                    hdf5_sys::h5s::H5Sselect_none(space.id()).min(hdf5_sys::h5s::H5Sselect_none(memory.id()))
                });
                if code < 0 {
                    return Err("cannot select nothing".into());
                }
                (space, memory)
            }
        };
        let dtype = hdf5::Datatype::from_type::<T>()?;
        let anchor = [0u64; 1];
        let buf = if values.is_empty() { anchor.as_ptr().cast() } else { values.as_ptr().cast() };
        let code = hdf5::sync::sync(|| {
            // SAFETY: `buf` holds `values.len()` elements of `T` (or is unread: an empty
            // selection), the ids are live objects of this file, `dtype` describes `T`.
            unsafe { hdf5_sys::h5d::H5Dwrite(d.id(), dtype.id(), memory.id(), file_space.id(), self.dxpl, buf) }
        });
        if code < 0 {
            return Err(format!("collective write to {} failed", d.name()).into());
        }
        Ok(())
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        // SAFETY: closes the list made in `new`, once.
        hdf5::sync::sync(|| unsafe { H5Pclose(self.dxpl) });
    }
}

/// An H5MD trajectory written collectively by every rank (see the module docs). Every
/// method is collective: all ranks call it, in the same order.
pub struct CollectiveH5md {
    comm: Box<dyn Communicator>,
    writer: H5mdWriter,
    /// The file's ids in row order, unless they are 1..=N (then the row is id − 1).
    ids: Option<Vec<u64>>,
    /// Row boundaries of the ranks' blocks (`size + 1` of them).
    starts: Vec<usize>,
    /// Whether forces travel with the records (the file stores them).
    forces: bool,
    /// Whether per-atom virials travel with the records (the file stores them).
    virials: bool,
}

impl std::fmt::Debug for CollectiveH5md {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectiveH5md").field("writer", &self.writer).field("starts", &self.starts).finish()
    }
}

/// Words sent per atom: its file row, then its [`AtomRecord`], then (when the file stores
/// forces) the bits of its force's three components, then (when it stores virials) the
/// bits of its virial's six.
const WORDS: usize = 1 + AtomRecord::WORDS;
const FORCE_WORDS: usize = 3;
const VIRIAL_WORDS: usize = 6;

fn open_file(path: &Path, comm: &dyn Communicator, create: bool) -> Result<hdf5::File, IoError> {
    let handle = comm.mpi_handle().ok_or_else(|| IoError::H5md {
        path: path.to_path_buf(),
        reason: "collective writing needs a run under MPI (mpirun; or CALCINE_MPI=1 for one rank)".into(),
    })?;
    let raw = handle.raw();
    let mut builder = hdf5::File::with_options();
    builder.with_fapl(|p| p.mpio(raw, None));
    if create { builder.create(path) } else { builder.open_rw(path) }
        .map_err(|e| IoError::H5md { path: path.to_path_buf(), reason: format!("opening for collective writing: {e}") })
}

impl CollectiveH5md {
    /// Creates (or truncates) `path` for the atoms all ranks own together (this rank's are
    /// `ids` and `species`) and the observables of `thermo`, with no frame yet.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        path: &Path,
        comm: Box<dyn Communicator>,
        ids: &[AtomId],
        species: &[SpeciesId],
        species_table: &SpeciesTable,
        simbox: &SimBox,
        thermo: &Thermo,
        contents: H5mdContents,
    ) -> Result<Self, IoError> {
        // Rank 0 sorts every (id, species) pair; every rank learns the ids.
        let mut words: Vec<u8> = Vec::with_capacity(ids.len() * 12);
        for (id, s) in ids.iter().zip(species) {
            words.extend_from_slice(&id.0.to_le_bytes());
            words.extend_from_slice(&s.0.to_le_bytes());
        }
        let all = comm.gather_bytes(&words);
        let mut pairs: Vec<(u64, u32)> = all
            .iter()
            .flat_map(|m| m.chunks_exact(12))
            .map(|c| (u64::from_le_bytes(c[..8].try_into().unwrap()), u32::from_le_bytes(c[8..].try_into().unwrap())))
            .collect();
        pairs.sort_unstable();
        let mut bytes: Vec<u8> =
            pairs.iter().flat_map(|(id, s)| [id.to_le_bytes().to_vec(), s.to_le_bytes().to_vec()].concat()).collect();
        comm.broadcast_bytes(&mut bytes);
        let pairs: Vec<(u64, u32)> = bytes
            .chunks_exact(12)
            .map(|c| (u64::from_le_bytes(c[..8].try_into().unwrap()), u32::from_le_bytes(c[8..].try_into().unwrap())))
            .collect();
        let all_ids: Vec<AtomId> = pairs.iter().map(|&(id, _)| AtomId(id)).collect();
        let all_species: Vec<SpeciesId> = pairs.iter().map(|&(_, s)| SpeciesId(s)).collect();
        let file = open_file(path, comm.as_ref(), true)?;
        let header = Header { ids: &all_ids, species: &all_species, species_table, simbox };
        let writer = H5mdWriter::create_in(file, path, &header, thermo, contents, comm.rank() == 0)?;
        Self::finish(path, comm, writer, all_ids.iter().map(|id| id.0).collect(), contents)
    }

    /// Opens a file this writer (or the gathered one) made, cut back to its first `frames`
    /// frames, to append to.
    pub fn resume(
        path: &Path,
        comm: Box<dyn Communicator>,
        frames: usize,
        contents: H5mdContents,
    ) -> Result<Self, IoError> {
        let file = open_file(path, comm.as_ref(), false)?;
        if !Self::can_append(&file) {
            return Err(IoError::H5md {
                path: path.to_path_buf(),
                reason: "it was written gathered (on rank 0), and parallel HDF5 cannot append to it \
                         collectively: resume with [output] h5md_write = \"gathered\""
                    .into(),
            });
        }
        let ids: Vec<u64> = file
            .dataset("particles/all/id")
            .and_then(|d| d.read_raw::<i64>())
            .map_err(|e| IoError::H5md { path: path.to_path_buf(), reason: format!("particles/all/id: {e}") })?
            .iter()
            .map(|&i| i as u64)
            .collect();
        let writer = H5mdWriter::resume_in(file, path, frames, contents, comm.rank() == 0)?;
        Self::finish(path, comm, writer, ids, contents)
    }

    /// Whether a collective writer can append to `file`: one made through parallel HDF5,
    /// whose chunks are allocated early. HDF5 1.10.8 deadlocks in a collective filtered
    /// write into chunks a serial writer allocated incrementally (seen on 2 ranks resuming
    /// a gathered file), so such a file is continued by the writer that made it.
    fn can_append(file: &hdf5::File) -> bool {
        file.dataset("particles/all/position/value")
            .and_then(|d| d.dcpl()?.get_alloc_time())
            .is_ok_and(|t| t == hdf5::dataset::AllocTime::Early)
    }

    /// [`CollectiveH5md::can_append`] for the file at `path`, opened by this process alone
    /// (false if it cannot be read).
    pub fn appendable(path: &Path) -> bool {
        hdf5::File::open(path).is_ok_and(|f| Self::can_append(&f))
    }

    fn finish(
        path: &Path,
        comm: Box<dyn Communicator>,
        mut writer: H5mdWriter,
        ids: Vec<u64>,
        contents: H5mdContents,
    ) -> Result<Self, IoError> {
        let n = ids.len();
        let chunks = n.div_ceil(CHUNK_ATOMS);
        let size = comm.size();
        let starts = (0..=size).map(|r| (r * chunks / size * CHUNK_ATOMS).min(n)).collect();
        let dense = ids.iter().enumerate().all(|(k, &id)| id == k as u64 + 1);
        let transfer =
            Transfer::new().map_err(|e| IoError::H5md { path: path.to_path_buf(), reason: e.to_string() })?;
        writer.set_collective(transfer);
        Ok(Self {
            comm,
            writer,
            ids: (!dense).then_some(ids),
            starts,
            forces: contents.force,
            virials: contents.virial,
        })
    }

    /// Frames written so far.
    pub fn frames(&self) -> usize {
        self.writer.frames()
    }

    pub fn path(&self) -> &Path {
        self.writer.path()
    }

    /// This rank's rows.
    pub fn block(&self) -> Range<usize> {
        let r = self.comm.rank();
        self.starts[r]..self.starts[r + 1]
    }

    fn row(&self, id: AtomId) -> Option<usize> {
        match &self.ids {
            None => (id.0 >= 1 && id.0 <= self.starts[self.starts.len() - 1] as u64).then(|| id.0 as usize - 1),
            Some(ids) => ids.binary_search(&id.0).ok(),
        }
    }

    /// Appends a frame of which this rank owns the atoms `owned` (any order), with their
    /// `forces` and `virials` (in the same order; read when the file stores them), the
    /// step's box and thermo (the same on every rank), and flushes the file.
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        &mut self,
        step: u64,
        time: f64,
        simbox: &SimBox,
        owned: &[AtomRecord],
        forces: &[Vec3],
        virials: &[Virial],
        thermo: &Thermo,
    ) -> Result<(), IoError> {
        assert!(!self.forces || forces.len() >= owned.len(), "a force for every owned atom");
        assert!(!self.virials || virials.len() >= owned.len(), "a virial for every owned atom");
        let size = self.comm.size();
        let force_words = if self.forces { FORCE_WORDS } else { 0 };
        let width = WORDS + force_words + if self.virials { VIRIAL_WORDS } else { 0 };
        let mut send = vec![Vec::new(); size];
        let mut unknown = None;
        for (i, r) in owned.iter().enumerate() {
            let Some(row) = self.row(r.id) else {
                unknown = Some(r.id);
                continue;
            };
            let dest = self.starts.partition_point(|&s| s <= row) - 1;
            send[dest].push(row as u64);
            r.encode(&mut send[dest]);
            if self.forces {
                send[dest].extend(forces[i].iter().map(|c| c.to_bits()));
            }
            if self.virials {
                send[dest].extend(virials[i].iter().map(|c| c.to_bits()));
            }
        }
        let received = self.comm.all_to_all_u64(&send);
        drop(send);
        let block = self.block();
        let m = block.len();
        let mut positions = vec![Vec3::zeros(); m];
        let mut velocities = vec![Vec3::zeros(); m];
        let mut images = vec![[0i32; 3]; m];
        let mut block_forces = vec![Vec3::zeros(); if self.forces { m } else { 0 }];
        let mut block_virials = vec![[0.0; 6]; if self.virials { m } else { 0 }];
        let mut filled = vec![false; m];
        for w in received.iter().flat_map(|msg| msg.chunks_exact(width)) {
            let k = w[0] as usize - block.start;
            let r = AtomRecord::decode(&w[1..]);
            positions[k] = r.position;
            velocities[k] = r.velocity;
            images[k] = r.image;
            if self.forces {
                let f = |j: usize| f64::from_bits(w[WORDS + j]);
                block_forces[k] = Vec3::new(f(0), f(1), f(2));
            }
            if self.virials {
                block_virials[k] = std::array::from_fn(|j| f64::from_bits(w[WORDS + force_words + j]));
            }
            filled[k] = true;
        }
        let missing = filled.iter().filter(|&&f| !f).count();
        if self.comm.any(unknown.is_some() || missing > 0) {
            return Err(IoError::Unwritable {
                path: self.writer.path().to_path_buf(),
                reason: match unknown {
                    Some(id) => format!("atom id {} is not in the file", id.0),
                    None if missing > 0 => format!("{missing} atoms of rows {block:?} are missing from the frame"),
                    None => "the frame does not match the file's atoms on another rank".into(),
                },
            });
        }
        let rows = Rows {
            first: block.start,
            positions: &positions,
            velocities: Some(&velocities),
            forces: self.forces.then_some(&block_forces[..]),
            images: Some(&images),
            virials: self.virials.then_some(&block_virials[..]),
        };
        let comm = &self.comm;
        self.writer.append_rows(step, time, simbox, thermo, &rows, &|failed| comm.any(failed))
    }
}
