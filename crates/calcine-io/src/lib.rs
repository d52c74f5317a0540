//! # Brief overview
//!
//! `calcine-io` holds what calcine exchanges with files and with the code that watches a
//! run. Formats: extended XYZ in ASE's dialect ([`extxyz`]), LAMMPS data files for
//! `atom_style atomic` ([`lammps_data`]) and LAMMPS `dump custom` trajectories ([`dump`]).
//! Every trajectory reader returns the one [`Frame`] type (atoms sorted by
//! [`AtomId`](calcine_core::AtomId), box, species, step and time where the file states
//! them) through the [`FrameReader`] trait, one frame at a time, so a long trajectory never
//! sits in memory; [`open_frames`] picks the reader by extension. Starting configurations
//! are [`Structure`]s. Writers take a `&Frame` and write each frame with a single
//! `write_all` and a flush, so a later failure never leaves half a frame behind. Numbers
//! are written so that they read back bit for bit. Every malformed input is an
//! [`IoError`] displayed as `path:line: what is wrong`.
//!
//! A run meets its outputs through [`hooks`]: the [`StepHook`] trait with its
//! [`StepView`], implemented here by [`RunOutputs`]: the thermo CSV (the schema of
//! [`Thermo`]), the trajectory and [`Checkpoint`]s, written in a fixed order, each file
//! growing by whole rows and frames, under a lock, and cut back to a checkpoint when a run
//! resumes. [`RunSummary`] is `run.json`.
//!
//! Units are LAMMPS `metal` throughout (Å, Å/ps, eV/Å, amu, ps); the only conversion is
//! of ASE momenta ([`extxyz::ASE_VELOCITY_TO_ANGSTROM_PER_PS`]).
//!
//! It deliberately does not gather atoms from several ranks (the engine hands over frames
//! already gathered in id order), wrap positions into the box on reading (see
//! [`Structure::wrap_into_box`]), or read binary, compressed or molecular formats.
//!
//! ```ignore
//! use calcine_io::{open_frames, read_lammps_data, DumpWriter};
//!
//! let structure = read_lammps_data("data.metal", &["Ni", "Cu"])?;
//! let mut dump = DumpWriter::create("dump.custom")?;
//! dump.write_frame(&structure.to_frame(0, 0.0))?;
//!
//! let mut frames = open_frames("traj.xyz", structure.species.clone())?;
//! while let Some(frame) = frames.read_frame()? {
//!     println!("step {:?}: {} atoms", frame.step, frame.n_atoms());
//! }
//! ```

mod checkpoint;
pub mod dump;
mod error;
pub mod extxyz;
mod frame;
mod h5md;
#[cfg(feature = "mpio")]
mod h5md_mpio;
pub mod hooks;
pub mod lammps_data;
mod lines;
mod numbers;
mod outputs;
mod scan;
mod structure;
mod summary;
mod table;
mod thermo;
mod thermo_chart;

pub use checkpoint::{Checkpoint, Compatibility, CHECKPOINT_VERSION};
pub use dump::{DumpReader, DumpWriter};
pub use error::IoError;
pub use extxyz::{read_extxyz, read_extxyz_any_species, ExtxyzReader, ExtxyzWriter};
pub use frame::{open_frames, Frame, FrameReader, Pending, PositionKind, TrajectoryFormat};
pub use h5md::{H5mdContents, H5mdReader, H5mdWriter, CHUNK_ATOMS};
#[cfg(feature = "mpio")]
pub use h5md_mpio::CollectiveH5md;
pub use hooks::{GradeView, HookError, Needs, RunInfo, StepHook, StepView};
pub use lammps_data::{parse_lammps_data, read_lammps_data, write_lammps_data, write_lammps_data_to};
pub use outputs::{AppendFile, GradeWatch, H5mdWrite, OutputSpec, RunOutputs, Start};
pub use scan::{scan_file, scan_frames, TrajectoryScan};
pub use structure::Structure;
pub use summary::{
    cpu_identity, peak_rss_bytes, LoadSummary, MachineSummary, MemorySummary, RunSummary, ThermoSummary,
    RUN_SUMMARY_SCHEMA,
};
pub use table::write_per_atom_csv;
pub use thermo::Thermo;

#[cfg(test)]
mod tests;
