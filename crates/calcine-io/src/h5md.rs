//! H5MD trajectories (the HDF5 format for molecular data, h5md.nongnu.org, version 1.1):
//! a writer that appends frames and observables, and a streaming reader.
//!
//! Layout written (read back bit for bit by [`H5mdReader`], and by h5py and MDAnalysis):
//!
//! ```text
//! /h5md                      version = [1, 1]; author (name), creator (name, version)
//! /particles/all
//!     box                    dimension = 3, boundary = periodic | none per axis
//!         edges/{step,time,value}   value: (frames, 3) for an orthogonal box, (frames, 3, 3)
//!                                   (rows are the edge vectors) for a triclinic one; Å
//!         offset             (3,) the box's lower corner (calcine; other readers ignore it)
//!     id                     (N,) atom ids, the order of every per-atom row
//!     species                (N,) species index; attribute `names` (species names), `masses`
//!     position/{step,time,value}    value (frames, N, 3) Å, time ps
//!     velocity/{step,time,value}    Å ps-1            } the fields of [`H5mdContents`]
//!     image/{step,time,value}       (frames, N, 3)    } (`[output] h5md_fields`; velocity
//!     force/{step,time,value}       eV Angstrom-1     } and image unless told otherwise)
//!     virial/{step,time,value}      (frames, N, 6) eV } per-atom virial xx yy zz xy xz yz
//! /observables/<name>/{step,time,value}   the thermo of every frame: temperature (K),
//!     potential_energy, kinetic_energy, total_energy, conserved_energy (eV), pressure
//!     and pressure_pair (bar), volume (Angstrom3), max_<grade> (e.g. max_gamma, when the
//!     run computes a per-atom grade), pressure_tensor (frames, 6) (bar, xx yy zz xy xz yz)
//! ```
//!
//! Time-dependent datasets are chunked (per-atom data in chunks of one frame and at most
//! [`CHUNK_ATOMS`] atoms, whatever the number of ranks), gzip-compressed and grow by one
//! frame per append; the file is flushed after every frame. Under MPI a frame is written
//! either gathered on rank 0 ([`H5mdWriter`]) or collectively through parallel HDF5, each
//! rank writing one contiguous block of rows (`CollectiveH5md`, feature `mpio`); both
//! write the same chunks with the same compressed bytes.
//! A resumed run cuts every time-dependent dataset back to the frames its checkpoint
//! recorded.
//!
//! Per-atom datasets are made with fill time "never": every chunk of a frame is written
//! whole, so fill values are never read, and HDF5 then writes no fill chunks when a
//! dataset grows. (A corrupted collective file once held a stale fill chunk written back
//! over new data; the writer was OpenMPI's MPI-IO, see `calcine-comm`'s `MpiUniverse::init`
//! and docs/parallel.md.)

use std::path::{Path, PathBuf};

use calcine_core::{AtomId, SimBox, Species, SpeciesId, SpeciesTable, Vec3, Virial};
use hdf5::types::VarLenUnicode;
use ndarray::{s, Array2, Array3};

use crate::{Frame, FrameReader, IoError, PositionKind, Thermo};

/// Atoms per chunk of a per-atom dataset (192 KiB of positions): the same for every writer
/// and rank count, so a frame's compressed chunks do not depend on how it was written, and
/// under collective writes the chunks (and their compression) are shared among ranks.
pub const CHUNK_ATOMS: usize = 1 << 13;

/// Which per-atom quantities a writer stores besides positions (`[output] h5md_fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H5mdContents {
    pub velocity: bool,
    pub force: bool,
    pub image: bool,
    /// Per-atom virials (`particles/all/virial`, eV, xx yy zz xy xz yz).
    pub virial: bool,
}

impl Default for H5mdContents {
    /// Velocities and image flags, no forces: what every H5MD trajectory held before
    /// `h5md_fields` existed.
    fn default() -> Self {
        Self { velocity: true, force: false, image: true, virial: false }
    }
}

impl H5mdContents {
    /// The names `h5md_fields` accepts, in the order [`H5mdContents::fields`] lists them.
    pub const FIELDS: [&'static str; 4] = ["velocity", "image", "force", "virial"];

    /// The fields named in `names` (any subset of [`H5mdContents::FIELDS`], any order).
    pub fn from_fields<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut c = Self { velocity: false, force: false, image: false, virial: false };
        for name in names {
            let flag = match name.as_ref() {
                "velocity" => &mut c.velocity,
                "image" => &mut c.image,
                "force" => &mut c.force,
                "virial" => &mut c.virial,
                other => {
                    return Err(format!(
                    "h5md_fields: unknown field \"{other}\": use any of \"velocity\", \"image\", \"force\", \"virial\""
                ))
                }
            };
            if *flag {
                return Err(format!("h5md_fields: \"{}\" is named twice", name.as_ref()));
            }
            *flag = true;
        }
        Ok(c)
    }

    /// The fields stored, in the order of [`H5mdContents::FIELDS`].
    pub fn fields(&self) -> Vec<&'static str> {
        Self::FIELDS
            .into_iter()
            .zip([self.velocity, self.image, self.force, self.virial])
            .filter(|(_, on)| *on)
            .map(|(n, _)| n)
            .collect()
    }

    /// The fields a file stores (the per-atom groups it has besides `position`).
    fn of_file(file: &hdf5::File) -> Self {
        let has = |name: &str| file.group(&format!("particles/all/{name}")).is_ok();
        Self { velocity: has("velocity"), force: has("force"), image: has("image"), virial: has("virial") }
    }

    /// `["velocity", "image"]`, as the input writes it.
    fn display(&self) -> String {
        let names: Vec<String> = self.fields().iter().map(|n| format!("\"{n}\"")).collect();
        format!("[{}]", names.join(", "))
    }
}

/// The scalar observables written with every frame besides the pressure tensor, and their
/// units; a run with a per-atom grade adds `max_<grade>` (no unit: γ is a ratio).
const OBSERVABLES: [(&str, &str); 8] = [
    ("temperature", "K"),
    ("potential_energy", "eV"),
    ("kinetic_energy", "eV"),
    ("total_energy", "eV"),
    ("conserved_energy", "eV"),
    ("pressure", "bar"),
    ("pressure_pair", "bar"),
    ("volume", "Angstrom3"),
];

/// The value of observable `name` in `t` (`None`: the thermo has no such quantity).
fn observable(t: &Thermo, name: &str) -> Option<f64> {
    Some(match name {
        "temperature" => t.temperature,
        "potential_energy" => t.potential_energy,
        "kinetic_energy" => t.kinetic_energy,
        "total_energy" => t.total_energy,
        "conserved_energy" => t.conserved,
        "pressure" => t.pressure,
        "pressure_pair" => t.pressure_pair,
        "volume" => t.volume,
        _ => match (name.strip_prefix("max_"), t.max_grade) {
            (Some(grade), Some((g, max))) if grade == g => max,
            _ => return None,
        },
    })
}

fn h5_error(path: &Path, what: &str, e: hdf5::Error) -> IoError {
    IoError::H5md { path: path.to_path_buf(), reason: format!("{what}: {e}") }
}

fn unicode(s: &str) -> VarLenUnicode {
    s.parse().expect("ASCII text is valid UTF-8")
}

/// Appends frames to an H5MD file.
pub struct H5mdWriter {
    path: PathBuf,
    file: hdf5::File,
    n_atoms: usize,
    frames: usize,
    contents: H5mdContents,
    /// The scalar observables of the file, in the order they are written (the pressure
    /// tensor comes after them).
    observables: Vec<String>,
    triclinic: bool,
    /// Whether this process writes the datasets every rank shares (ids, species, box,
    /// steps, times, observables): always, except on ranks other than 0 of a collective
    /// writer.
    #[cfg_attr(not(feature = "mpio"), allow(dead_code))]
    leader: bool,
    /// Per-atom rows go through a collective transfer (parallel HDF5).
    #[cfg(feature = "mpio")]
    collective: Option<crate::h5md_mpio::Transfer>,
}

/// What a file's header is made of: the atoms (in `AtomId` order) and their box.
pub(crate) struct Header<'a> {
    pub ids: &'a [AtomId],
    pub species: &'a [SpeciesId],
    pub species_table: &'a SpeciesTable,
    pub simbox: &'a SimBox,
}

/// Per-atom rows of one frame: all atoms, or a contiguous block of them.
pub(crate) struct Rows<'a> {
    /// File row of the first.
    pub first: usize,
    pub positions: &'a [Vec3],
    pub velocities: Option<&'a [Vec3]>,
    pub forces: Option<&'a [Vec3]>,
    pub images: Option<&'a [[i32; 3]]>,
    pub virials: Option<&'a [Virial]>,
}

impl std::fmt::Debug for H5mdWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5mdWriter").field("path", &self.path).field("frames", &self.frames).finish()
    }
}

impl H5mdWriter {
    /// Creates (or truncates) `path` for the atoms of `frame` (ids, species, box) and the
    /// observables of `thermo` (its grade's maximum too, when it has one), writing no
    /// frame yet.
    pub fn create(path: &Path, frame: &Frame, thermo: &Thermo, contents: H5mdContents) -> Result<Self, IoError> {
        let file = hdf5::File::create(path).map_err(|e| h5_error(path, "creating the file", e))?;
        let header = Header {
            ids: &frame.ids,
            species: &frame.species,
            species_table: &frame.species_table,
            simbox: &frame.simbox,
        };
        Self::create_in(file, path, &header, thermo, contents, true)
    }

    /// Lays out a new file (opened by the caller: serial, or collectively on every rank).
    /// Only the `leader` writes the raw data of the shared datasets.
    pub(crate) fn create_in(
        file: hdf5::File,
        path: &Path,
        frame: &Header<'_>,
        thermo: &Thermo,
        contents: H5mdContents,
        leader: bool,
    ) -> Result<Self, IoError> {
        let err = |what: &str| {
            let what = what.to_string();
            move |e: hdf5::Error| h5_error(path, &what, e)
        };
        let n = frame.ids.len();
        let h5md = file.create_group("h5md").map_err(err("h5md group"))?;
        h5md.new_attr::<i32>().shape(2).create("version").and_then(|a| a.write(&[1, 1])).map_err(err("version"))?;
        let author = h5md.create_group("author").map_err(err("author"))?;
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        write_text_attr(&author, "name", &user).map_err(err("author"))?;
        let creator = h5md.create_group("creator").map_err(err("creator"))?;
        write_text_attr(&creator, "name", "calcine").map_err(err("creator"))?;
        write_text_attr(&creator, "version", env!("CARGO_PKG_VERSION")).map_err(err("creator"))?;

        let all = file.create_group("particles/all").map_err(err("particles"))?;
        let b = all.create_group("box").map_err(err("box"))?;
        b.new_attr::<i32>().create("dimension").and_then(|a| a.write_scalar(&3)).map_err(err("box"))?;
        let boundary: Vec<VarLenUnicode> =
            frame.simbox.periodic().iter().map(|&p| unicode(if p { "periodic" } else { "none" })).collect();
        b.new_attr::<VarLenUnicode>()
            .shape(3)
            .create("boundary")
            .and_then(|a| a.write(&boundary))
            .map_err(err("box"))?;
        let lo = frame.simbox.lo();
        let offset = b.new_dataset::<f64>().shape(3).create("offset").map_err(err("box offset"))?;
        if leader {
            offset.write(&[lo.x, lo.y, lo.z]).map_err(err("box offset"))?;
        }
        let triclinic = frame.simbox.is_triclinic();
        let edges = b.create_group("edges").map_err(err("box edges"))?;
        time_datasets(&edges).map_err(err("box edges"))?;
        let value = if triclinic {
            edges.new_dataset::<f64>().chunk((16, 3, 3)).shape((0.., 3, 3)).create("value")
        } else {
            edges.new_dataset::<f64>().chunk((16, 3)).shape((0.., 3)).create("value")
        }
        .map_err(err("box edges"))?;
        write_text_attr(&value, "unit", "Angstrom").map_err(err("box edges"))?;

        let ids: Vec<i64> = frame.ids.iter().map(|id| id.0 as i64).collect();
        let id = all.new_dataset::<i64>().shape(n).create("id").map_err(err("id"))?;
        let species: Vec<i32> = frame.species.iter().map(|s| s.0 as i32).collect();
        let sp = all.new_dataset::<i32>().shape(n).create("species").map_err(err("species"))?;
        if leader {
            id.write(&ids).map_err(err("id"))?;
            sp.write(&species).map_err(err("species"))?;
        }
        let names: Vec<VarLenUnicode> = frame.species_table.iter().map(|(_, s)| unicode(&s.name)).collect();
        sp.new_attr::<VarLenUnicode>()
            .shape(names.len())
            .create("names")
            .and_then(|a| a.write(&names))
            .map_err(err("species"))?;
        let masses: Vec<f64> = frame.species_table.masses();
        sp.new_attr::<f64>()
            .shape(masses.len())
            .create("masses")
            .and_then(|a| a.write(&masses))
            .map_err(err("species"))?;

        for (name, unit, wanted) in [
            ("position", "Angstrom", true),
            ("velocity", "Angstrom ps-1", contents.velocity),
            ("force", "eV Angstrom-1", contents.force),
        ] {
            if wanted {
                let g = all.create_group(name).map_err(err(name))?;
                time_datasets(&g).map_err(err(name))?;
                let v = g
                    .new_dataset::<f64>()
                    .chunk((1, n.clamp(1, CHUNK_ATOMS), 3))
                    .fill_time(hdf5::dataset::FillTime::Never)
                    .deflate(1)
                    .shape((0.., n, 3))
                    .create("value")
                    .map_err(err(name))?;
                write_text_attr(&v, "unit", unit).map_err(err(name))?;
            }
        }
        if contents.virial {
            let g = all.create_group("virial").map_err(err("virial"))?;
            time_datasets(&g).map_err(err("virial"))?;
            let v = g
                .new_dataset::<f64>()
                .chunk((1, n.clamp(1, CHUNK_ATOMS), 6))
                .fill_time(hdf5::dataset::FillTime::Never)
                .deflate(1)
                .shape((0.., n, 6))
                .create("value")
                .map_err(err("virial"))?;
            write_text_attr(&v, "unit", "eV").map_err(err("virial"))?;
        }
        if contents.image {
            let g = all.create_group("image").map_err(err("image"))?;
            time_datasets(&g).map_err(err("image"))?;
            g.new_dataset::<i32>()
                .chunk((1, n.clamp(1, CHUNK_ATOMS), 3))
                .fill_time(hdf5::dataset::FillTime::Never)
                .deflate(1)
                .shape((0.., n, 3))
                .create("value")
                .map_err(err("image"))?;
        }
        let obs = file.create_group("observables").map_err(err("observables"))?;
        let grade = thermo.max_grade.map(|(name, _)| format!("max_{name}"));
        let mut observables = Vec::new();
        for (name, unit) in OBSERVABLES.iter().map(|&(n, u)| (n, Some(u))).chain(grade.as_deref().map(|g| (g, None))) {
            let g = obs.create_group(name).map_err(err(name))?;
            time_datasets(&g).map_err(err(name))?;
            let v = g.new_dataset::<f64>().chunk(256).shape(0..).create("value").map_err(err(name))?;
            if let Some(unit) = unit {
                write_text_attr(&v, "unit", unit).map_err(err(name))?;
            }
            observables.push(name.to_string());
        }
        let g = obs.create_group("pressure_tensor").map_err(err("pressure_tensor"))?;
        time_datasets(&g).map_err(err("pressure_tensor"))?;
        let v =
            g.new_dataset::<f64>().chunk((256, 6)).shape((0.., 6)).create("value").map_err(err("pressure_tensor"))?;
        write_text_attr(&v, "unit", "bar").map_err(err("pressure_tensor"))?;
        file.flush().map_err(err("flushing"))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            n_atoms: n,
            frames: 0,
            contents,
            observables,
            triclinic,
            leader,
            #[cfg(feature = "mpio")]
            collective: None,
        })
    }

    /// Opens a file this writer made, cut back to its first `frames` frames, to append to.
    /// The file must store the per-atom fields `contents` names; its observables are kept
    /// (a file written before an observable existed goes on without it).
    pub fn resume(path: &Path, frames: usize, contents: H5mdContents) -> Result<Self, IoError> {
        let file = hdf5::File::open_rw(path).map_err(|e| h5_error(path, "opening the file", e))?;
        Self::resume_in(file, path, frames, contents, true)
    }

    /// [`H5mdWriter::resume`] on a file the caller opened (serial, or collectively).
    pub(crate) fn resume_in(
        file: hdf5::File,
        path: &Path,
        frames: usize,
        contents: H5mdContents,
        leader: bool,
    ) -> Result<Self, IoError> {
        let err = |what: &'static str| move |e: hdf5::Error| h5_error(path, what, e);
        let ids = file.dataset("particles/all/id").map_err(err("particles/all/id"))?;
        let n_atoms = ids.size();
        let triclinic = file.dataset("particles/all/box/edges/value").map_err(err("box edges"))?.ndim() == 3;
        let stored = H5mdContents::of_file(&file);
        if stored != contents {
            return Err(IoError::H5md {
                path: path.to_path_buf(),
                reason: format!(
                    "it stores h5md_fields = {}, but [output] h5md_fields = {}: resume with the file's fields",
                    stored.display(),
                    contents.display()
                ),
            });
        }
        let observables = file
            .group("observables")
            .and_then(|g| g.member_names())
            .map_err(err("observables"))?
            .into_iter()
            .filter(|n| n != "pressure_tensor")
            .collect();
        let mut w = Self {
            path: path.to_path_buf(),
            file,
            n_atoms,
            frames: 0,
            contents,
            observables,
            triclinic,
            leader,
            #[cfg(feature = "mpio")]
            collective: None,
        };
        let on_disk = w.file.dataset("particles/all/position/step").map_err(err("position"))?.size();
        if on_disk < frames {
            return Err(IoError::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("it holds {on_disk} frames, fewer than the {frames} the checkpoint recorded"),
            });
        }
        for group in w.time_groups() {
            for name in ["step", "time", "value"] {
                let d = w.file.dataset(&format!("{group}/{name}")).map_err(err("a time-dependent dataset"))?;
                let mut shape = d.shape();
                shape[0] = frames;
                d.resize(shape).map_err(err("cutting back to the checkpoint"))?;
            }
        }
        w.frames = frames;
        w.file.flush().map_err(err("flushing"))?;
        Ok(w)
    }

    /// Every time-dependent group of the file.
    fn time_groups(&self) -> Vec<String> {
        let mut groups = vec!["particles/all/box/edges".to_string(), "particles/all/position".to_string()];
        for (name, on) in [
            ("velocity", self.contents.velocity),
            ("force", self.contents.force),
            ("image", self.contents.image),
            ("virial", self.contents.virial),
        ] {
            if on {
                groups.push(format!("particles/all/{name}"));
            }
        }
        groups.extend(self.observables.iter().map(|n| format!("observables/{n}")));
        groups.push("observables/pressure_tensor".into());
        groups
    }

    /// Frames written so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `frame` (atoms in the writer's id order) with the observables of `thermo`,
    /// and flushes the file.
    pub fn append(&mut self, frame: &Frame, thermo: &Thermo) -> Result<(), IoError> {
        let n = self.n_atoms;
        if frame.n_atoms() != n {
            return Err(IoError::Unwritable {
                path: self.path.clone(),
                reason: format!("a frame of {} atoms, the file holds {n}", frame.n_atoms()),
            });
        }
        let rows = Rows {
            first: 0,
            positions: &frame.positions,
            velocities: frame.velocities.as_deref(),
            forces: frame.forces.as_deref(),
            images: frame.images.as_deref(),
            virials: frame.per_atom_virial.as_deref(),
        };
        self.append_rows(frame.step.unwrap_or(0), frame.time.unwrap_or(0.0), &frame.simbox, thermo, &rows, &|failed| {
            failed
        })
    }

    /// Appends a frame of which this process holds the rows `rows` (all of them, or under
    /// collective writes its block), and flushes the file. Under collective writes every
    /// rank calls this with the same step, time, box and thermo, and `agree` says whether
    /// any rank failed (it is given whether this one did); a serial writer's `agree`
    /// returns what it is given.
    pub(crate) fn append_rows(
        &mut self,
        step: u64,
        time: f64,
        b: &SimBox,
        thermo: &Thermo,
        rows: &Rows<'_>,
        agree: &dyn Fn(bool) -> bool,
    ) -> Result<(), IoError> {
        let path = self.path.clone();
        let err = |what: &'static str| {
            let path = path.clone();
            move |e: hdf5::Error| h5_error(&path, what, e)
        };
        let velocities = match (self.contents.velocity, rows.velocities) {
            (true, None) => return Err(self.missing("velocities")),
            (on, v) => v.filter(|_| on),
        };
        let forces = match (self.contents.force, rows.forces) {
            (true, None) => return Err(self.missing("forces")),
            (on, f) => f.filter(|_| on),
        };
        let images = match (self.contents.image, rows.images) {
            (true, None) => return Err(self.missing("image flags")),
            (on, im) => im.filter(|_| on),
        };
        let virials = match (self.contents.virial, rows.virials) {
            (true, None) => return Err(self.missing("per-atom virials")),
            (on, v) => v.filter(|_| on),
        };
        let mut values = Vec::with_capacity(self.observables.len());
        for name in &self.observables {
            values.push(observable(thermo, name).ok_or_else(|| IoError::Unwritable {
                path: self.path.clone(),
                reason: format!("the file has observable {name}, which this run does not compute"),
            })?);
        }
        let k = self.frames;
        let step = step as i64;
        let file = &self.file;
        // Every rank grows every dataset (a collective operation under parallel HDF5); the
        // leader writes the step, time and shared values.
        let one = || hdf5::Selection::try_from(s![k..k + 1]);
        let write_element = |group: &str, value: &dyn Fn(&hdf5::Dataset) -> hdf5::Result<()>| -> hdf5::Result<()> {
            let written = (|| {
                let d = file.dataset(&format!("{group}/step"))?;
                d.resize(k + 1)?;
                self.write_shared(&d, one()?, &[step])?;
                let d = file.dataset(&format!("{group}/time"))?;
                d.resize(k + 1)?;
                self.write_shared(&d, one()?, &[time])?;
                let d = file.dataset(&format!("{group}/value"))?;
                let mut shape = d.shape();
                shape[0] = k + 1;
                d.resize(shape)?;
                value(&d)
            })();
            // A failure on one rank stops every rank here, so that none goes on into a
            // collective call the others never make.
            match (agree(written.is_err()), written) {
                (true, Ok(())) => Err(format!("writing {group} failed on another rank").into()),
                (_, written) => written,
            }
        };
        let edges: Vec<f64> = if self.triclinic {
            (0..3)
                .flat_map(|r| {
                    let e = b.edge(r);
                    [e[0], e[1], e[2]]
                })
                .collect()
        } else {
            b.lengths().to_vec()
        };
        write_element("particles/all/box/edges", &|d| {
            let sel = if self.triclinic { s![k..k + 1, .., ..].try_into() } else { s![k..k + 1, ..].try_into() };
            self.write_shared(d, sel?, &edges)
        })
        .map_err(err("writing the box"))?;
        let flat = |v: &[Vec3]| -> Vec<f64> { v.iter().flat_map(|x| [x.x, x.y, x.z]).collect() };
        let x = flat(rows.positions);
        write_element("particles/all/position", &|d| self.write_rows(d, k, rows.first, 3, &x))
            .map_err(err("writing positions"))?;
        if let Some(v) = velocities {
            let v = flat(v);
            write_element("particles/all/velocity", &|d| self.write_rows(d, k, rows.first, 3, &v))
                .map_err(err("writing velocities"))?;
        }
        if let Some(f) = forces {
            let f = flat(f);
            write_element("particles/all/force", &|d| self.write_rows(d, k, rows.first, 3, &f))
                .map_err(err("writing forces"))?;
        }
        if let Some(im) = images {
            let im: Vec<i32> = im.iter().flatten().copied().collect();
            write_element("particles/all/image", &|d| self.write_rows(d, k, rows.first, 3, &im))
                .map_err(err("writing images"))?;
        }
        if let Some(v) = virials {
            let v: Vec<f64> = v.iter().flatten().copied().collect();
            write_element("particles/all/virial", &|d| self.write_rows(d, k, rows.first, 6, &v))
                .map_err(err("writing per-atom virials"))?;
        }
        for (name, &v) in self.observables.iter().zip(&values) {
            write_element(&format!("observables/{name}"), &|d| self.write_shared(d, one()?, &[v]))
                .map_err(err("writing observables"))?;
        }
        let p = thermo.pressure_tensor;
        write_element("observables/pressure_tensor", &|d| self.write_shared(d, s![k..k + 1, ..].try_into()?, &p[..]))
            .map_err(err("writing observables"))?;
        file.flush().map_err(err("flushing"))?;
        self.frames += 1;
        Ok(())
    }

    /// Writes `values` (rows of `width`) into frame `k` of a per-atom dataset from row
    /// `first` on.
    fn write_rows<T: hdf5::H5Type>(
        &self,
        d: &hdf5::Dataset,
        k: usize,
        first: usize,
        width: usize,
        values: &[T],
    ) -> hdf5::Result<()> {
        let rows = values.len() / width;
        #[cfg(feature = "mpio")]
        if let Some(t) = &self.collective {
            let slab = if rows > 0 { Some(s![k..k + 1, first..first + rows, ..].try_into()?) } else { None };
            return t.write(d, slab, values);
        }
        let a = ndarray::ArrayView2::from_shape((rows, width), values).expect("whole rows");
        d.write_slice(a, s![k, first..first + rows, ..])
    }

    /// Writes `values` (in row-major order) into `selection` of a dataset every rank
    /// shares: by the leader alone, in a collective transfer under parallel HDF5 (where an
    /// independent write could allocate a chunk on one rank only, and the ranks' views of
    /// the file would part).
    fn write_shared<T: hdf5::H5Type>(
        &self,
        d: &hdf5::Dataset,
        selection: hdf5::Selection,
        values: &[T],
    ) -> hdf5::Result<()> {
        #[cfg(feature = "mpio")]
        if let Some(t) = &self.collective {
            return t.write(d, self.leader.then_some(selection), values);
        }
        let shape = selection.out_shape(d.shape())?;
        let a = ndarray::ArrayViewD::from_shape(ndarray::IxDyn(&shape), values)?;
        d.write_slice(a, selection)
    }

    /// Under collective writes: transfers per-atom rows collectively.
    #[cfg(feature = "mpio")]
    pub(crate) fn set_collective(&mut self, transfer: crate::h5md_mpio::Transfer) {
        self.collective = Some(transfer);
    }

    fn missing(&self, what: &str) -> IoError {
        IoError::Unwritable { path: self.path.clone(), reason: format!("the frame has no {what}") }
    }
}

fn write_text_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    loc.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&unicode(value))
}

/// The `step` and `time` datasets of a time-dependent element.
fn time_datasets(g: &hdf5::Group) -> hdf5::Result<()> {
    g.new_dataset::<i64>().chunk(256).shape(0..).create("step")?;
    let t = g.new_dataset::<f64>().chunk(256).shape(0..).create("time")?;
    write_text_attr(&t, "unit", "ps")
}

/// Streams the frames of an H5MD file: the first group of `/particles` (calcine writes
/// `all`, MDAnalysis `trajectory`), atoms in `AtomId` order.
pub struct H5mdReader {
    path: PathBuf,
    group: hdf5::Group,
    species_table: SpeciesTable,
    /// File row of each atom in id order, and the ids.
    order: Vec<usize>,
    ids: Vec<AtomId>,
    species: Vec<SpeciesId>,
    offset: Vec3,
    periodic: [bool; 3],
    n_frames: usize,
    next: usize,
    length_scale: f64,
    velocity_scale: f64,
    time_scale: f64,
    has: [bool; 5],
}

impl std::fmt::Debug for H5mdReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5mdReader").field("path", &self.path).field("frames", &self.n_frames).finish()
    }
}

impl H5mdReader {
    /// Opens `path`. Species come from the file's `species` dataset and its `names`
    /// attribute; a file without names takes them from `species` (type k is entry k).
    pub fn open(path: impl AsRef<Path>, species: SpeciesTable) -> Result<Self, IoError> {
        let path = path.as_ref();
        let bad = |reason: String| IoError::H5md { path: path.to_path_buf(), reason };
        let file =
            hdf5::File::open(path).map_err(|e| bad(format!("cannot open as HDF5 (truncated or not HDF5?): {e}")))?;
        if file.group("h5md").is_err() {
            return Err(bad("not an H5MD file: it has no /h5md group".into()));
        }
        let particles = file.group("particles").map_err(|_| bad("it has no /particles group".into()))?;
        let name = particles
            .member_names()
            .map_err(|e| bad(e.to_string()))?
            .into_iter()
            .next()
            .ok_or_else(|| bad("/particles holds no group".into()))?;
        let group = particles.group(&name).map_err(|e| bad(e.to_string()))?;
        let pos = group.dataset("position/value").map_err(|_| bad(format!("/particles/{name} has no position")))?;
        let shape = pos.shape();
        if shape.len() != 3 || shape[2] != 3 {
            return Err(bad(format!("position/value has shape {shape:?}, expected (frames, atoms, 3)")));
        }
        let (n_frames, n) = (shape[0], shape[1]);
        let ids: Vec<u64> = match group.dataset("id") {
            Ok(d) if d.ndim() == 1 => {
                d.read_raw::<i64>().map_err(|e| bad(e.to_string()))?.iter().map(|&i| i as u64).collect()
            }
            _ => (1..=n as u64).collect(),
        };
        if ids.len() != n {
            return Err(bad(format!("{} ids for {n} atoms", ids.len())));
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&k| ids[k]);
        let (species_table, raw_species) = match group.dataset("species") {
            Ok(d) if d.ndim() == 1 => {
                let raw: Vec<i32> = d.read_raw().map_err(|e| bad(e.to_string()))?;
                let table = match d.attr("names").and_then(|a| a.read_raw::<VarLenUnicode>()) {
                    Ok(names) => {
                        let masses: Vec<f64> = d.attr("masses").and_then(|a| a.read_raw()).unwrap_or_default();
                        SpeciesTable::new(
                            names
                                .iter()
                                .enumerate()
                                .map(|(k, s)| Species {
                                    name: s.as_str().to_string(),
                                    mass: masses.get(k).copied().unwrap_or(f64::NAN),
                                })
                                .collect(),
                        )
                    }
                    Err(_) => species.clone(),
                };
                (table, raw)
            }
            _ => (species.clone(), vec![0; n]),
        };
        if let Some(&t) = raw_species.iter().find(|&&t| t < 0 || t as usize >= species_table.len().max(1)) {
            return Err(bad(format!("species {t} is outside the {} species known", species_table.len())));
        }
        let box_group = group.group("box").map_err(|_| bad("it has no box".into()))?;
        let boundary: Vec<String> = box_group
            .attr("boundary")
            .and_then(|a| a.read_raw::<VarLenUnicode>())
            .map(|v| v.iter().map(|s| s.as_str().to_string()).collect())
            .unwrap_or_else(|_| vec!["periodic".into(); 3]);
        let periodic = [0, 1, 2].map(|a| boundary.get(a).is_none_or(|b| b == "periodic"));
        let offset = match box_group.dataset("offset").and_then(|d| d.read_raw::<f64>()) {
            Ok(o) if o.len() == 3 => Vec3::new(o[0], o[1], o[2]),
            _ => Vec3::zeros(),
        };
        let unit = |element: &str| -> Option<String> {
            group
                .dataset(&format!("{element}/value"))
                .ok()?
                .attr("unit")
                .ok()?
                .read_scalar::<VarLenUnicode>()
                .ok()
                .map(|s| s.as_str().to_string())
        };
        let length_scale = match unit("position").as_deref() {
            None | Some("Angstrom") | Some("angstrom") | Some("A") => 1.0,
            Some("nm") => 10.0,
            Some(u) => return Err(bad(format!("position unit '{u}' is not one calcine converts (Angstrom, nm)"))),
        };
        let velocity_scale = match unit("velocity").as_deref() {
            None | Some("Angstrom ps-1") | Some("A ps-1") => 1.0,
            Some("nm ps-1") => 10.0,
            Some("Angstrom fs-1") | Some("A fs-1") => 1000.0,
            Some(u) => return Err(bad(format!("velocity unit '{u}' is not one calcine converts"))),
        };
        let time_scale = match pos_time_unit(&group).as_deref() {
            None | Some("ps") => 1.0,
            Some("fs") => 1e-3,
            Some("ns") => 1e3,
            Some(u) => return Err(bad(format!("time unit '{u}' is not one calcine converts (ps, fs, ns)"))),
        };
        let has =
            ["velocity", "force", "image", "box/edges", "virial"].map(|e| group.dataset(&format!("{e}/value")).is_ok());
        let species = order.iter().map(|&k| SpeciesId(raw_species[k] as u32)).collect();
        Ok(Self {
            path: path.to_path_buf(),
            group,
            species_table,
            ids: order.iter().map(|&k| AtomId(ids[k])).collect(),
            order,
            species,
            offset,
            periodic,
            n_frames,
            next: 0,
            length_scale,
            velocity_scale,
            time_scale,
            has,
        })
    }

    /// Frames in the file.
    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// Moves to frame `k` (0-based): the next read returns it.
    pub fn seek(&mut self, k: usize) {
        self.next = k;
    }

    fn read_vec3(&self, element: &str, k: usize, scale: f64) -> Result<Vec<Vec3>, IoError> {
        let d = self.group.dataset(&format!("{element}/value")).map_err(|e| self.bad(e.to_string()))?;
        let a: Array2<f64> =
            d.read_slice(s![k, .., ..]).map_err(|e| self.bad(format!("{element} of frame {k}: {e}")))?;
        Ok(self.order.iter().map(|&i| Vec3::new(a[[i, 0]], a[[i, 1]], a[[i, 2]]) * scale).collect())
    }

    fn bad(&self, reason: String) -> IoError {
        IoError::H5md { path: self.path.clone(), reason }
    }

    fn read_frame_inner(&mut self, k: usize) -> Result<Frame, IoError> {
        let positions = self.read_vec3("position", k, self.length_scale)?;
        let step = self
            .group
            .dataset("position/step")
            .and_then(|d| d.read_slice::<i64, _, ndarray::Ix1>(s![k..k + 1]))
            .ok()
            .map(|a| a[0] as u64);
        let time = self
            .group
            .dataset("position/time")
            .and_then(|d| d.read_slice::<f64, _, ndarray::Ix1>(s![k..k + 1]))
            .ok()
            .map(|a| a[0] * self.time_scale);
        let simbox = if self.has[3] {
            let d = self.group.dataset("box/edges/value").map_err(|e| self.bad(e.to_string()))?;
            let make = |edges: [[f64; 3]; 3]| -> Result<SimBox, IoError> {
                let [a, b, c] = edges.map(|r| Vec3::new(r[0], r[1], r[2]) * self.length_scale);
                if a.y != 0.0 || a.z != 0.0 || b.z != 0.0 {
                    return Err(
                        self.bad("box edges are not in LAMMPS's restricted form (a along x, b in the xy plane)".into())
                    );
                }
                SimBox::triclinic(self.offset, [a.x, b.y, c.z], [b.x, c.x, c.y], self.periodic)
                    .map_err(|e| self.bad(format!("box of frame {k}: {e}")))
            };
            match d.ndim() {
                2 => {
                    let l: Array2<f64> = d.read_slice(s![k..k + 1, ..]).map_err(|e| self.bad(e.to_string()))?;
                    make([[l[[0, 0]], 0.0, 0.0], [0.0, l[[0, 1]], 0.0], [0.0, 0.0, l[[0, 2]]]])?
                }
                _ => {
                    let m: Array3<f64> = d.read_slice(s![k..k + 1, .., ..]).map_err(|e| self.bad(e.to_string()))?;
                    make(std::array::from_fn(|r| std::array::from_fn(|c| m[[0, r, c]])))?
                }
            }
        } else {
            return Err(self.bad("the box has no edges: calcine needs a box".into()));
        };
        let velocities = if self.has[0] { Some(self.read_vec3("velocity", k, self.velocity_scale)?) } else { None };
        let forces = if self.has[1] { Some(self.read_vec3("force", k, 1.0)?) } else { None };
        let images = if self.has[2] {
            let d = self.group.dataset("image/value").map_err(|e| self.bad(e.to_string()))?;
            let a: Array2<i32> = d.read_slice(s![k, .., ..]).map_err(|e| self.bad(e.to_string()))?;
            Some(self.order.iter().map(|&i| [a[[i, 0]], a[[i, 1]], a[[i, 2]]]).collect())
        } else {
            None
        };
        let per_atom_virial = if self.has[4] {
            let d = self.group.dataset("virial/value").map_err(|e| self.bad(e.to_string()))?;
            let a: Array2<f64> =
                d.read_slice(s![k, .., ..]).map_err(|e| self.bad(format!("virial of frame {k}: {e}")))?;
            if a.ncols() != 6 {
                return Err(self.bad(format!("virial has {} components per atom, not 6", a.ncols())));
            }
            Some(self.order.iter().map(|&i| std::array::from_fn(|c| a[[i, c]])).collect())
        } else {
            None
        };
        Ok(Frame {
            step,
            time,
            simbox,
            species_table: self.species_table.clone(),
            ids: self.ids.clone(),
            species: self.species.clone(),
            positions,
            position_kind: PositionKind::Wrapped,
            velocities,
            forces,
            images,
            per_atom_energy: None,
            per_atom_virial,
            extra: Vec::new(),
            info: Default::default(),
        })
    }
}

fn pos_time_unit(group: &hdf5::Group) -> Option<String> {
    group
        .dataset("position/time")
        .ok()?
        .attr("unit")
        .ok()?
        .read_scalar::<VarLenUnicode>()
        .ok()
        .map(|s| s.as_str().to_string())
}

impl FrameReader for H5mdReader {
    fn read_frame(&mut self) -> Result<Option<Frame>, IoError> {
        if self.next >= self.n_frames {
            return Ok(None);
        }
        let k = self.next;
        self.next = self.n_frames; // an error ends the stream
        let frame = self.read_frame_inner(k)?;
        self.next = k + 1;
        Ok(Some(frame))
    }
}
