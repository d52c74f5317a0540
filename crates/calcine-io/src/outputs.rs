//! The standard outputs of a run as [`StepHook`]s: the thermo CSV and the trajectory.
//! Both write on rank 0 only (other ranks hold the same hook without a file, so that
//! every rank asks for the same thermo and frames), one whole row or frame per write,
//! flushed, so a run that stops leaves complete files behind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::hooks::{HookError, Needs, RunInfo, StepHook, StepView};
use crate::{DumpWriter, ExtxyzWriter, Frame, IoError, Thermo, TrajectoryFormat};

/// Thermo rows in CSV ([`Thermo::COLUMNS`]) at the first step, every `every` steps and at
/// the last step.
#[derive(Debug)]
pub struct ThermoCsv {
    path: PathBuf,
    every: u64,
    last_step: u64,
    file: Option<BufWriter<File>>,
}

impl ThermoCsv {
    /// The file name of a run's thermo, unless the input names another.
    pub const DEFAULT_FILE: &'static str = "thermo.csv";
    /// Steps between thermo rows, unless the input says otherwise.
    pub const DEFAULT_EVERY: u64 = 100;

    /// Creates (or truncates) the file on rank 0 (`write` true) and writes the header.
    pub fn create(path: impl AsRef<Path>, every: u64, write: bool) -> Result<Self, IoError> {
        assert!(every > 0, "thermo interval must be at least one step");
        let path = path.as_ref().to_path_buf();
        let file = if write {
            let mut f = BufWriter::new(File::create(&path).map_err(|e| IoError::io(&path, e))?);
            writeln!(f, "{}", Thermo::csv_header()).map_err(|e| IoError::io(&path, e))?;
            Some(f)
        } else {
            None
        };
        Ok(Self { path, every, last_step: u64::MAX, file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, view: &StepView<'_>) -> Result<(), HookError> {
        let (Some(f), Some(thermo)) = (&mut self.file, view.thermo) else { return Ok(()) };
        writeln!(f, "{}", thermo.csv_row()).and_then(|()| f.flush()).map_err(|e| IoError::io(&self.path, e))?;
        Ok(())
    }
}

impl StepHook for ThermoCsv {
    fn needs(&self, step: u64) -> Option<Needs> {
        (step.is_multiple_of(self.every) || step == self.last_step).then_some(Needs::THERMO)
    }

    fn setup(&mut self, info: &RunInfo, view: &StepView<'_>) -> Result<(), HookError> {
        self.last_step = info.last_step;
        self.write(view)
    }

    fn at_step(&mut self, view: &StepView<'_>) -> Result<(), HookError> {
        self.write(view)
    }

    fn finish(&mut self) -> Result<(), HookError> {
        if let Some(f) = &mut self.file {
            f.flush().map_err(|e| IoError::io(&self.path, e))?;
        }
        Ok(())
    }
}

/// A trajectory in the format its extension names ([`TrajectoryFormat`]): the frame at
/// the first step and every `every` steps, with velocities, forces and (in LAMMPS dumps)
/// image flags.
pub struct TrajectoryOutput {
    path: PathBuf,
    every: u64,
    writer: Option<TrajectoryWriter>,
}

impl std::fmt::Debug for TrajectoryOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrajectoryOutput").field("path", &self.path).field("every", &self.every).finish()
    }
}

/// A writer of one of the trajectory formats.
pub enum TrajectoryWriter {
    Extxyz(ExtxyzWriter<File>),
    Dump(DumpWriter<File>),
}

impl TrajectoryWriter {
    /// Creates (or truncates) `path` in the format its extension names.
    pub fn create(path: &Path) -> Result<Self, IoError> {
        Ok(match TrajectoryFormat::of(path)? {
            TrajectoryFormat::Extxyz => TrajectoryWriter::Extxyz(ExtxyzWriter::create(path)?),
            TrajectoryFormat::Dump => TrajectoryWriter::Dump(DumpWriter::create(path)?),
        })
    }

    pub fn write_frame(&mut self, frame: &Frame) -> Result<(), IoError> {
        match self {
            TrajectoryWriter::Extxyz(w) => w.write_frame(frame),
            TrajectoryWriter::Dump(w) => w.write_frame(frame),
        }
    }
}

impl TrajectoryOutput {
    /// Steps between frames, unless the input says otherwise.
    pub const DEFAULT_EVERY: u64 = 1000;

    /// Creates (or truncates) the file on rank 0 (`write` true). An unknown extension is
    /// an error on every rank.
    pub fn create(path: impl AsRef<Path>, every: u64, write: bool) -> Result<Self, IoError> {
        assert!(every > 0, "trajectory interval must be at least one step");
        let path = path.as_ref().to_path_buf();
        TrajectoryFormat::of(&path)?;
        let writer = if write { Some(TrajectoryWriter::create(&path)?) } else { None };
        Ok(Self { path, every, writer })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, view: &StepView<'_>) -> Result<(), HookError> {
        if let (Some(w), Some(frame)) = (&mut self.writer, view.frame) {
            w.write_frame(frame)?;
        }
        Ok(())
    }
}

impl StepHook for TrajectoryOutput {
    fn needs(&self, step: u64) -> Option<Needs> {
        step.is_multiple_of(self.every).then_some(Needs::FRAME)
    }

    fn setup(&mut self, _info: &RunInfo, view: &StepView<'_>) -> Result<(), HookError> {
        self.write(view)
    }

    fn at_step(&mut self, view: &StepView<'_>) -> Result<(), HookError> {
        self.write(view)
    }
}
