//! The standard outputs of a run: the thermo CSV, the trajectory and checkpoints, as one
//! [`StepHook`] ([`RunOutputs`]) that writes them in a fixed order and keeps them
//! consistent with each other.
//!
//! Files are written on rank 0 only (other ranks hold the same hook without files, so that
//! every rank asks for the same thermo, frames and checkpoints). A row or a frame is
//! appended whole; a write that fails (a full disk) is cut back to the last complete row
//! or frame before the error is reported, so every file stays readable. A checkpoint
//! records the length of every file at its step after flushing them to disk; a resumed run
//! cuts each file back to that length (dropping what a killed run wrote after the
//! checkpoint, a torn frame included) and appends from there, so the files of a resumed
//! run are those of an uninterrupted one. A lock file keeps a second run out of the
//! folder; the lock is the operating system's, so a killed run never leaves a stale one.
//!
//! An H5MD trajectory is the exception to "rank 0 only" when it is written collectively
//! ([`H5mdWrite::Collective`], parallel HDF5): then every rank opens the file and writes
//! its block of rows, and no frame is gathered.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use calcine_comm::Communicator;

use crate::hooks::{GradeView, HookError, Needs, RunInfo, StepHook, StepView};
use crate::{Checkpoint, Compatibility, Frame, H5mdContents, H5mdWriter, IoError, Thermo, TrajectoryFormat};

/// A file that only grows by whole records, and shrinks back if a record could not be
/// written whole.
#[derive(Debug)]
pub struct AppendFile {
    path: PathBuf,
    file: File,
    len: u64,
}

impl AppendFile {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<Self, IoError> {
        let file = File::create(path).map_err(|e| IoError::io(path, e))?;
        Ok(Self { path: path.to_path_buf(), file, len: 0 })
    }

    /// Opens `path` cut back to `len` bytes, for appending. The file must hold at least
    /// `len` bytes.
    pub fn resume(path: &Path, len: u64) -> Result<Self, IoError> {
        let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(|e| IoError::io(path, e))?;
        let on_disk = file.metadata().map_err(|e| IoError::io(path, e))?.len();
        if on_disk < len {
            return Err(IoError::Checkpoint {
                path: path.to_path_buf(),
                reason: format!(
                    "the file holds {on_disk} bytes, fewer than the {len} the checkpoint recorded: it was changed since"
                ),
            });
        }
        file.set_len(len).and_then(|()| file.seek(SeekFrom::Start(len))).map_err(|e| IoError::io(path, e))?;
        Ok(Self { path: path.to_path_buf(), file, len })
    }

    /// Appends `bytes` whole, or leaves the file as it was and returns the error.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut back to the last whole record, so what is on disk stays readable.
                let _ =
                    self.file.set_len(self.len).and_then(|()| self.file.seek(SeekFrom::Start(self.len)).map(|_| ()));
                Err(IoError::io(&self.path, e))
            }
        }
    }

    /// Flushes the file's data to disk.
    pub fn sync(&self) -> Result<(), IoError> {
        self.file.sync_data().map_err(|e| IoError::io(&self.path, e))
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Where a run's outputs go and how often.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSpec {
    pub directory: PathBuf,
    /// File names inside `directory`.
    pub thermo: PathBuf,
    pub thermo_every: u64,
    pub trajectory: Option<PathBuf>,
    pub trajectory_every: u64,
    /// Steps between checkpoints (`None`: only when the run is interrupted).
    pub checkpoint_every: Option<u64>,
    /// Per-atom potential energies as a trajectory column (`energies` in extended XYZ,
    /// `c_pe` in dumps).
    pub trajectory_energies: bool,
    /// Per-atom virials as trajectory columns of a text trajectory (`virial:R:6` in
    /// extended XYZ, `c_virial[1]` … `c_virial[6]` in dumps); an H5MD trajectory stores
    /// them when `h5md_fields` has `virial`.
    pub trajectory_virials: bool,
    /// The name of the run's per-atom grade (ACE's extrapolation grade, `gamma`), when it
    /// has one: the thermo then ends with a `max_<name>` column.
    pub grade: Option<String>,
    /// What to do with the grade between thermo rows (active learning's practice).
    pub grade_watch: Option<GradeWatch>,
    /// How an H5MD trajectory is written under MPI.
    pub h5md_write: H5mdWrite,
    /// The per-atom fields an H5MD trajectory stores besides positions.
    pub h5md_fields: H5mdContents,
    /// Draw the thermo as a PNG beside its CSV (`thermo.png`) when the run ends.
    pub plots: bool,
}

/// How an H5MD trajectory is written when a run has several ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum H5mdWrite {
    /// Collective where the build and the run allow it and it is the faster (see
    /// [`H5mdWrite::AUTO_COLLECTIVE`]), gathered otherwise (also when resuming a file the
    /// gathered writer made).
    #[default]
    Auto,
    /// Every frame gathered on rank 0 in `AtomId` order and written there.
    Gathered,
    /// Written by every rank through parallel HDF5, each its block of rows (needs a build
    /// with the `mpio` feature and a run under MPI).
    Collective,
}

impl H5mdWrite {
    /// Whether this build can write collectively (feature `mpio`: parallel HDF5).
    pub const AVAILABLE: bool = cfg!(feature = "mpio");
    /// What `auto` picks on several ranks where collective writing is available: the
    /// faster of the two in the measurements of docs/parallel.md (collective: the ranks
    /// compress their own chunks, where the gathered writer compresses every chunk on rank
    /// 0; on one rank `auto` writes gathered, which was ~8% faster there).
    pub const AUTO_COLLECTIVE: bool = true;

    pub fn name(self) -> &'static str {
        match self {
            H5mdWrite::Auto => "auto",
            H5mdWrite::Gathered => "gathered",
            H5mdWrite::Collective => "collective",
        }
    }

    /// Whether a run on `ranks` ranks writes collectively, or why it cannot.
    pub fn collective(self, ranks: usize, mpi: bool) -> Result<bool, String> {
        match self {
            H5mdWrite::Gathered => Ok(false),
            H5mdWrite::Auto => Ok(Self::AVAILABLE && Self::AUTO_COLLECTIVE && mpi && ranks > 1),
            H5mdWrite::Collective if !Self::AVAILABLE => Err(
                "h5md_write = \"collective\" needs calcine built with parallel HDF5 (the `mpio` feature of calcine-cli)".into(),
            ),
            H5mdWrite::Collective if !mpi => Err(
                "h5md_write = \"collective\" needs a run under MPI (mpirun; CALCINE_MPI=1 for one rank)".into(),
            ),
            H5mdWrite::Collective => Ok(true),
        }
    }
}

/// Watching a per-atom grade during a run, as active learning with ACE does (pacemaker's
/// dump-at-5, halt-at-25): the grade every `every` steps; the whole structure appended to
/// an extended XYZ file, with the grade as a per-atom column, whenever its maximum
/// exceeds `dump_above`; the run ended cleanly (outputs complete up to that step) when
/// the maximum exceeds `halt_above`.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeWatch {
    pub every: u64,
    /// File name inside the output folder.
    pub file: PathBuf,
    pub dump_above: Option<f64>,
    pub halt_above: Option<f64>,
}

impl GradeWatch {
    /// The structures' file name, unless the input says otherwise.
    pub const DEFAULT_FILE: &'static str = "extrapolative.extxyz";
}

impl OutputSpec {
    /// The thermo file name of a run whose input names none.
    pub const DEFAULT_THERMO: &'static str = "thermo.csv";
    /// Steps between thermo rows, unless the input says otherwise.
    pub const DEFAULT_THERMO_EVERY: u64 = 100;
    /// Steps between frames, unless the input says otherwise.
    pub const DEFAULT_TRAJECTORY_EVERY: u64 = 1000;
    /// The checkpoint's file name.
    pub const CHECKPOINT: &'static str = "checkpoint.ckpt";
    /// The lock file's name.
    pub const LOCK: &'static str = ".calcine.lock";
    /// The run summary's file name.
    pub const SUMMARY: &'static str = "run.json";

    pub fn thermo_path(&self) -> PathBuf {
        self.directory.join(&self.thermo)
    }
    pub fn trajectory_path(&self) -> Option<PathBuf> {
        self.trajectory.as_ref().map(|t| self.directory.join(t))
    }
    pub fn checkpoint_path(&self) -> PathBuf {
        self.directory.join(Self::CHECKPOINT)
    }
    /// The thermo chart, `thermo.png` beside `thermo.csv`, when the run draws it.
    pub fn thermo_chart_path(&self) -> Option<PathBuf> {
        self.plots.then(|| self.thermo_path().with_extension("png"))
    }
    pub fn summary_path(&self) -> PathBuf {
        self.directory.join(Self::SUMMARY)
    }
    pub fn grade_structures_path(&self) -> Option<PathBuf> {
        self.grade_watch.as_ref().filter(|w| w.dump_above.is_some()).map(|w| self.directory.join(&w.file))
    }
}

/// How a run treats outputs already in its folder.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// A new run: refuses a folder that holds another run's outputs unless `overwrite`.
    Fresh { overwrite: bool },
    /// Continues from a checkpoint: every file is cut back to the length it recorded.
    Resume(&'a Checkpoint),
}

/// The thermo CSV, the trajectory and checkpoints of a run, as one hook.
pub struct RunOutputs {
    spec: OutputSpec,
    /// Present on the rank that writes (rank 0).
    files: Option<Files>,
    compatibility: Compatibility,
    first_step: u64,
    last_step: u64,
    resumed: bool,
    format: Option<TrajectoryFormat>,
    /// On every rank, when the H5MD trajectory is written collectively.
    collective: Option<Collective>,
    /// Atoms of the run (from its thermo), for the per-atom energies of `thermo.png`.
    atoms: u64,
}

/// A collectively written H5MD trajectory, opened at the run's first hook call (every rank
/// has opened its outputs by then). Never made without the `mpio` feature.
#[cfg_attr(not(feature = "mpio"), allow(dead_code))]
struct Collective {
    comm: Option<Box<dyn Communicator>>,
    path: PathBuf,
    contents: H5mdContents,
    /// Frames to keep of an existing file (a resumed run).
    resume: Option<usize>,
    #[cfg(feature = "mpio")]
    writer: Option<crate::CollectiveH5md>,
}

impl Collective {
    fn frames(&self) -> u64 {
        #[cfg(feature = "mpio")]
        if let Some(w) = &self.writer {
            return w.frames() as u64;
        }
        self.resume.unwrap_or(0) as u64
    }

    /// Opens a resumed run's file (collective).
    #[cfg(feature = "mpio")]
    fn open_resumed(&mut self) -> Result<(), IoError> {
        if let (Some(frames), None) = (self.resume, &self.writer) {
            let comm = self.comm.take().expect("a communicator until the file is open");
            self.writer = Some(crate::CollectiveH5md::resume(&self.path, comm, frames, self.contents)?);
        }
        Ok(())
    }

    /// Appends the step of `view` (collective; the file is made at the first frame).
    #[cfg(feature = "mpio")]
    fn append(&mut self, view: &StepView<'_>) -> Result<(), IoError> {
        let atoms = view.atoms;
        let n = atoms.n_owned();
        let thermo = view.thermo.expect("an H5MD trajectory asks for thermo with every frame");
        if self.writer.is_none() {
            let comm = self.comm.take().expect("a communicator until the file is open");
            self.writer = Some(crate::CollectiveH5md::create(
                &self.path,
                comm,
                &atoms.ids[..n],
                &atoms.species[..n],
                view.species,
                view.simbox,
                thermo,
                self.contents,
            )?);
        }
        let records: Vec<calcine_core::AtomRecord> = (0..n).map(|i| atoms.record(i)).collect();
        let forces = &view.forces[..n];
        let virials = if self.contents.virial { &view.atom_virials[..n] } else { &[] };
        self.writer.as_mut().expect("made above").append(
            view.step,
            view.time,
            view.simbox,
            &records,
            forces,
            virials,
            thermo,
        )
    }

    #[cfg(not(feature = "mpio"))]
    fn open_resumed(&mut self) -> Result<(), IoError> {
        unreachable!("collective writing is refused at open without the mpio feature")
    }

    #[cfg(not(feature = "mpio"))]
    fn append(&mut self, _view: &StepView<'_>) -> Result<(), IoError> {
        unreachable!("collective writing is refused at open without the mpio feature")
    }
}

struct Files {
    /// Held (and locked) for the whole run.
    _lock: File,
    thermo: AppendFile,
    trajectory: Option<Trajectory>,
    /// Structures whose grade exceeded the watch's `dump_above`.
    grade_structures: Option<AppendFile>,
}

/// A trajectory file: text that grows by whole frames, or H5MD (made at its first frame).
enum Trajectory {
    Text(AppendFile),
    H5md { path: PathBuf, contents: H5mdContents, writer: Option<H5mdWriter> },
}

impl Trajectory {
    fn create(path: &Path, format: TrajectoryFormat, contents: H5mdContents) -> Result<Self, IoError> {
        Ok(match format {
            TrajectoryFormat::H5md => {
                // Made at the first frame; an old file must not survive until then.
                if path.exists() {
                    std::fs::remove_file(path).map_err(|e| IoError::io(path, e))?;
                }
                Trajectory::H5md { path: path.to_path_buf(), contents, writer: None }
            }
            _ => Trajectory::Text(AppendFile::create(path)?),
        })
    }

    fn resume(path: &Path, format: TrajectoryFormat, len: u64, contents: H5mdContents) -> Result<Self, IoError> {
        Ok(match format {
            TrajectoryFormat::H5md => Trajectory::H5md {
                path: path.to_path_buf(),
                contents,
                writer: Some(H5mdWriter::resume(path, len as usize, contents)?),
            },
            _ => Trajectory::Text(AppendFile::resume(path, len)?),
        })
    }

    fn append(&mut self, format: TrajectoryFormat, frame: &Frame, thermo: Option<&Thermo>) -> Result<(), IoError> {
        match self {
            Trajectory::Text(file) => {
                let text = format.format_frame(frame, file.path())?;
                file.append(text.as_bytes())
            }
            Trajectory::H5md { path, contents, writer } => {
                let thermo = thermo.expect("an H5MD trajectory asks for thermo with every frame");
                if writer.is_none() {
                    *writer = Some(H5mdWriter::create(path, frame, thermo, *contents)?);
                }
                writer.as_mut().expect("made above").append(frame, thermo)
            }
        }
    }

    /// Bytes (text) or frames (H5MD) written: what a checkpoint records.
    fn len(&self) -> u64 {
        match self {
            Trajectory::Text(file) => file.len(),
            Trajectory::H5md { writer, .. } => writer.as_ref().map_or(0, |w| w.frames() as u64),
        }
    }

    fn sync(&self) -> Result<(), IoError> {
        match self {
            Trajectory::Text(file) => file.sync(),
            // The H5MD writer flushes after every frame.
            Trajectory::H5md { .. } => Ok(()),
        }
    }
}

impl std::fmt::Debug for RunOutputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOutputs").field("spec", &self.spec).field("writes", &self.files.is_some()).finish()
    }
}

impl RunOutputs {
    /// Opens the outputs: on the writing rank (`write`), creates the folder, takes its
    /// lock, and creates the files (a fresh run) or cuts them back to the checkpoint (a
    /// resumed one). `compatibility` is stored in every checkpoint.
    ///
    /// `comm` is the communicator a collective H5MD trajectory is written through (every
    /// rank passes one over all ranks, or none: then the trajectory is gathered, and
    /// `h5md_write = "collective"` is refused).
    pub fn open(
        spec: &OutputSpec,
        start: Start<'_>,
        compatibility: Compatibility,
        write: bool,
        comm: Option<Box<dyn Communicator>>,
    ) -> Result<Self, IoError> {
        let format = spec.trajectory.as_deref().map(TrajectoryFormat::of).transpose()?;
        let collective = match (format, spec.trajectory_path()) {
            (Some(TrajectoryFormat::H5md), Some(path)) => {
                let ranks = comm.as_ref().map_or(1, |c| c.size());
                let mpi = comm.as_ref().is_some_and(|c| c.mpi_handle().is_some());
                let on = spec
                    .h5md_write
                    .collective(ranks, mpi)
                    .map_err(|reason| IoError::Unwritable { path: path.clone(), reason })?;
                let resume = match start {
                    Start::Resume(c) => {
                        Some(Files::recorded(spec, c, spec.trajectory.as_deref().expect("a trajectory"))?)
                    }
                    Start::Fresh { .. } => None,
                };
                // `auto` continues a file made by the gathered writer gathered (parallel
                // HDF5 cannot append to it collectively), so a run resumes on any rank count.
                // Rank 0 alone looks at the file and every rank follows its answer: rank 0
                // opens the file for writing next, and HDF5's file lock refuses that open
                // while another rank still holds the file for reading (seen on 4 ranks).
                #[cfg(feature = "mpio")]
                let on = on
                    && !(spec.h5md_write == H5mdWrite::Auto && resume.is_some() && {
                        let lead = comm.as_ref().map_or(0, |c| c.rank()) == 0;
                        let gathered = lead && !crate::CollectiveH5md::appendable(&path);
                        comm.as_ref().map_or(gathered, |c| c.any(gathered))
                    });
                on.then(|| Collective {
                    comm,
                    path,
                    contents: spec.h5md_fields,
                    resume: resume.map(|n| n as usize),
                    #[cfg(feature = "mpio")]
                    writer: None,
                })
            }
            _ => None,
        };
        let files = if write { Some(Files::open(spec, start, format, collective.is_some())?) } else { None };
        Ok(Self {
            spec: spec.clone(),
            files,
            compatibility,
            first_step: 0,
            last_step: u64::MAX,
            resumed: matches!(start, Start::Resume(_)),
            format,
            collective,
            atoms: 0,
        })
    }

    /// Whether the trajectory is written collectively (every rank writes its rows).
    pub fn writes_collectively(&self) -> bool {
        self.collective.is_some()
    }

    pub fn spec(&self) -> &OutputSpec {
        &self.spec
    }

    fn trajectory_due(&self, step: u64) -> bool {
        self.spec.trajectory.is_some() && (step.is_multiple_of(self.spec.trajectory_every) || step == self.last_step)
    }

    fn grade_due(&self, step: u64) -> bool {
        self.spec.grade_watch.as_ref().is_some_and(|w| step.is_multiple_of(w.every))
    }

    fn checkpoint_due(&self, step: u64) -> bool {
        step != self.first_step && self.spec.checkpoint_every.is_some_and(|every| step.is_multiple_of(every))
    }

    fn write_thermo(&mut self, thermo: Option<&Thermo>) -> Result<(), IoError> {
        if let (Some(files), Some(t)) = (&mut self.files, thermo) {
            files.thermo.append(format!("{}\n", t.csv_row()).as_bytes())?;
            self.atoms = t.n_atoms;
        }
        Ok(())
    }

    fn write_frame(&mut self, view: &StepView<'_>) -> Result<(), IoError> {
        if let Some(c) = &mut self.collective {
            return c.append(view);
        }
        let (frame, thermo) = (view.frame, view.thermo);
        if let (Some(files), Some(frame), Some(format)) = (&mut self.files, frame, self.format) {
            if let Some(traj) = &mut files.trajectory {
                traj.append(format, frame, thermo)?;
            }
        }
        Ok(())
    }

    /// The grade of a watched step, if it is one.
    fn watched<'v>(&self, view: &StepView<'v>) -> Option<(&GradeWatch, GradeView<'v>)> {
        let watch = self.spec.grade_watch.as_ref()?;
        let grade = view.grade?;
        view.step.is_multiple_of(watch.every).then_some((watch, grade))
    }

    /// On the watch's steps, appends the structure when its grade is above `dump_above`.
    fn dump_graded(&mut self, view: &StepView<'_>) -> Result<(), IoError> {
        let Some((watch, grade)) = self.watched(view) else { return Ok(()) };
        if !watch.dump_above.is_some_and(|l| grade.max > l) {
            return Ok(());
        }
        if let (Some(files), Some(frame), Some(values)) = (&mut self.files, view.frame, grade.gathered) {
            if let Some(file) = &mut files.grade_structures {
                let mut info = BTreeMap::new();
                info.insert(format!("max_{}", grade.name), grade.max.to_string());
                let mut frame = frame.clone();
                frame.extra.push((grade.name.to_string(), values.to_vec()));
                let text = crate::extxyz::format_frame(&frame, &info, file.path())?;
                file.append(text.as_bytes())?;
            }
        }
        Ok(())
    }

    /// On the watch's steps, ends the run when the grade is above `halt_above` (called
    /// after every other output of the step is written).
    fn halt_on_grade(&self, view: &StepView<'_>) -> Result<(), HookError> {
        let Some((watch, grade)) = self.watched(view) else { return Ok(()) };
        if let Some(limit) = watch.halt_above.filter(|&l| grade.max > l) {
            return Err(HookError::Stop(format!(
                "max {name} = {max} at step {step} is above halt_above = {limit}: the run stops here{dumped}",
                name = grade.name,
                max = grade.max,
                step = view.step,
                dumped = match self.spec.grade_structures_path() {
                    Some(p) => format!(" (structures above dump_above are in {})", p.display()),
                    None => String::new(),
                }
            )));
        }
        Ok(())
    }

    /// Flushes every file to disk, then writes the checkpoint with their lengths.
    fn write_checkpoint(&mut self, checkpoint: Option<&Checkpoint>) -> Result<(), IoError> {
        let (Some(files), Some(checkpoint)) = (&self.files, checkpoint) else { return Ok(()) };
        let mut lengths = BTreeMap::new();
        files.thermo.sync()?;
        lengths.insert(self.spec.thermo.display().to_string(), files.thermo.len());
        if let (Some(traj), Some(name)) = (&files.trajectory, &self.spec.trajectory) {
            traj.sync()?;
            lengths.insert(name.display().to_string(), traj.len());
        }
        if let (Some(c), Some(name)) = (&self.collective, &self.spec.trajectory) {
            lengths.insert(name.display().to_string(), c.frames());
        }
        if let (Some(file), Some(watch)) = (&files.grade_structures, &self.spec.grade_watch) {
            file.sync()?;
            lengths.insert(watch.file.display().to_string(), file.len());
        }
        let mut c = checkpoint.clone();
        c.compatibility = self.compatibility.clone();
        c.outputs = lengths;
        c.write(&self.spec.checkpoint_path())
    }
}

impl Files {
    /// The length of output `name` that `checkpoint` recorded.
    fn recorded(spec: &OutputSpec, checkpoint: &Checkpoint, name: &Path) -> Result<u64, IoError> {
        checkpoint.outputs.get(&name.display().to_string()).copied().ok_or_else(|| IoError::Checkpoint {
            path: spec.checkpoint_path(),
            reason: format!("it records no output named '{}'", name.display()),
        })
    }

    /// `collective`: the trajectory is written by every rank, not here.
    fn open(
        spec: &OutputSpec,
        start: Start<'_>,
        format: Option<TrajectoryFormat>,
        collective: bool,
    ) -> Result<Self, IoError> {
        let format = format.filter(|_| !collective);
        std::fs::create_dir_all(&spec.directory).map_err(|e| IoError::io(&spec.directory, e))?;
        let lock_path = spec.directory.join(OutputSpec::LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| IoError::io(&lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(IoError::Locked { path: spec.directory.clone() });
        }
        let thermo_path = spec.thermo_path();
        let trajectory_path = spec.trajectory_path();
        let structures_path = spec.grade_structures_path();
        match start {
            Start::Fresh { overwrite } => {
                let existing: Vec<PathBuf> = [
                    Some(thermo_path.clone()),
                    trajectory_path.clone(),
                    structures_path.clone(),
                    Some(spec.checkpoint_path()),
                    spec.thermo_chart_path(),
                ]
                .into_iter()
                .flatten()
                .filter(|p| p.exists())
                .collect();
                if !overwrite && !existing.is_empty() {
                    return Err(IoError::Occupied { path: spec.directory.clone(), files: existing });
                }
                let checkpoint = spec.checkpoint_path();
                // An earlier run's checkpoint and chart go (the new run writes its own).
                for old in [Some(checkpoint), spec.thermo_chart_path()].into_iter().flatten() {
                    if old.exists() {
                        std::fs::remove_file(&old).map_err(|e| IoError::io(&old, e))?;
                    }
                }
                let mut thermo = AppendFile::create(&thermo_path)?;
                thermo.append(format!("{}\n", Thermo::csv_header(spec.grade.as_deref())).as_bytes())?;
                let trajectory = match (&trajectory_path, format) {
                    (Some(path), Some(format)) => Some(Trajectory::create(path, format, spec.h5md_fields)?),
                    _ => None,
                };
                let grade_structures = structures_path.as_deref().map(AppendFile::create).transpose()?;
                Ok(Self { _lock: lock, thermo, trajectory, grade_structures })
            }
            Start::Resume(checkpoint) => {
                let length = |name: &Path| Self::recorded(spec, checkpoint, name);
                let thermo = AppendFile::resume(&thermo_path, length(&spec.thermo)?)?;
                let trajectory = match (&spec.trajectory, &trajectory_path, format) {
                    (Some(name), Some(path), Some(format)) => {
                        Some(Trajectory::resume(path, format, length(name)?, spec.h5md_fields)?)
                    }
                    _ => None,
                };
                let grade_structures = match (&spec.grade_watch, &structures_path) {
                    (Some(watch), Some(path)) => Some(AppendFile::resume(path, length(&watch.file)?)?),
                    _ => None,
                };
                Ok(Self { _lock: lock, thermo, trajectory, grade_structures })
            }
        }
    }
}

impl StepHook for RunOutputs {
    fn needs(&self, step: u64) -> Option<Needs> {
        let thermo = step.is_multiple_of(self.spec.thermo_every) || step == self.last_step;
        let frame = self.trajectory_due(step) && self.collective.is_none();
        // H5MD stores the thermo of every frame beside it (as its observables).
        let thermo = thermo || (frame && self.format == Some(TrajectoryFormat::H5md));
        let atom_energies = frame && self.spec.trajectory_energies;
        let atom_virials = self.trajectory_due(step)
            && match self.format {
                Some(TrajectoryFormat::H5md) => self.spec.h5md_fields.virial,
                _ => self.spec.trajectory_virials,
            };
        let thermo = thermo || (self.trajectory_due(step) && self.collective.is_some());
        let watch = self.spec.grade_watch.as_ref().filter(|_| self.grade_due(step));
        let needs = Needs {
            thermo,
            frame,
            checkpoint: self.checkpoint_due(step),
            atom_energies,
            atom_virials,
            grade: (thermo && self.spec.grade.is_some()) || watch.is_some(),
            frame_if_grade_above: watch.and_then(|w| w.dump_above),
        };
        (needs != Needs::CALL).then_some(needs)
    }

    fn setup(&mut self, info: &RunInfo, view: &StepView<'_>) -> Result<(), HookError> {
        self.first_step = info.first_step;
        self.last_step = info.last_step;
        if let Some(c) = &mut self.collective {
            c.open_resumed()?;
        }
        // A resumed run's files already hold its first step.
        if !self.resumed {
            self.write_thermo(view.thermo)?;
            if self.trajectory_due(view.step) {
                self.write_frame(view)?;
            }
            self.dump_graded(view)?;
            self.halt_on_grade(view)?;
        }
        Ok(())
    }

    fn at_step(&mut self, view: &StepView<'_>) -> Result<(), HookError> {
        // Rows at the thermo cadence only (an H5MD trajectory may ask for thermo at others).
        if view.step.is_multiple_of(self.spec.thermo_every) || view.step == self.last_step {
            self.write_thermo(view.thermo)?;
        }
        if self.trajectory_due(view.step) {
            self.write_frame(view)?;
        }
        self.dump_graded(view)?;
        self.write_checkpoint(view.checkpoint)?;
        self.halt_on_grade(view)
    }

    fn on_interrupt(&mut self, view: &StepView<'_>) -> Result<(), HookError> {
        self.write_checkpoint(view.checkpoint)?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), HookError> {
        if let Some(files) = &self.files {
            files.thermo.sync()?;
            if let Some(t) = &files.trajectory {
                t.sync()?;
            }
            if let Some(f) = &files.grade_structures {
                f.sync()?;
            }
            if let Some(png) = self.spec.thermo_chart_path() {
                crate::thermo_chart::write_thermo_png(&self.spec.thermo_path(), self.atoms, &png)?;
            }
        }
        Ok(())
    }
}

impl TrajectoryFormat {
    /// The text of one frame in this format; `path` labels errors.
    pub fn format_frame(self, frame: &Frame, path: &Path) -> Result<String, IoError> {
        match self {
            TrajectoryFormat::Extxyz => crate::extxyz::format_frame(frame, &BTreeMap::new(), path),
            TrajectoryFormat::Dump => crate::dump::format_frame(frame, false, path),
            TrajectoryFormat::H5md => {
                Err(IoError::Unwritable { path: path.to_path_buf(), reason: "H5MD is not a text format".into() })
            }
        }
    }
}
