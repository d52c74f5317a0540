//! # Brief overview
//!
//! `calcine-io` reads and writes the files calcine exchanges with other codes: extended
//! XYZ in ASE's dialect ([`extxyz`]), LAMMPS data files for `atom_style atomic`
//! ([`lammps_data`]) and LAMMPS `dump custom` trajectories ([`dump`]). Readers return a
//! [`Structure`] (box, species, owned atoms sorted by [`AtomId`](calcine_core::AtomId)) or
//! stream frames one at a time, so a long trajectory never sits in memory. Writers take a
//! [`FrameRef`] of borrowed per-atom slices and write each frame with a single
//! `write_all` and a flush, so a later failure never leaves half a frame behind. Numbers
//! are written so that they read back bit for bit. Every malformed input is an
//! [`IoError`] displayed as `path:line: what is wrong`.
//!
//! Units are LAMMPS `metal` throughout (Å, Å/ps, eV/Å, amu, ps); the only conversion is
//! of ASE momenta ([`extxyz::ASE_VELOCITY_TO_ANGSTROM_PER_PS`]).
//!
//! It deliberately does not gather atoms from several ranks (the caller hands over slices
//! already gathered in id order), wrap positions into the box on reading (see
//! [`Structure::wrap_into_box`]), or read binary, compressed or molecular formats.
//!
//! ```ignore
//! use calcine_io::{read_lammps_data, DumpWriter, ExtxyzReader};
//!
//! let structure = read_lammps_data("data.metal", &["Ni", "Cu"])?;
//! let mut dump = DumpWriter::create("dump.custom")?;
//! dump.write_frame(&structure.frame(0, 0.0))?;
//!
//! for frame in ExtxyzReader::open("traj.xyz", structure.species.clone())? {
//!     let frame = frame?;
//!     println!("step {:?}: {} atoms", frame.step, frame.structure.atoms.n_owned());
//! }
//! ```

pub mod dump;
mod error;
pub mod extxyz;
pub mod lammps_data;
mod lines;
mod numbers;
mod structure;

pub use dump::{DumpFrame, DumpReader, DumpWriter, PositionKind};
pub use error::IoError;
pub use extxyz::{read_extxyz, read_extxyz_any_species, ExtxyzFrame, ExtxyzReader, ExtxyzWriter};
pub use lammps_data::{parse_lammps_data, read_lammps_data, write_lammps_data, write_lammps_data_to};
pub use structure::{FrameRef, Structure};

#[cfg(test)]
mod tests;
