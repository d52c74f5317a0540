//! # Brief overview
//!
//! `calcine-input` turns input files into ready-to-run objects (as lumol's `lumol-input`):
//! the TOML schema as composable tables ([`sections`]: `[system]`, `[potential]`, `[run]`,
//! `[integrator]`, `[neighbor]`, `[output]`, each with its checks and with defaults taken
//! from the engine's own `Default`s), structure loading (a lattice is counted with checked
//! arithmetic and made only per rank), the potential registry ([`build_potential`], the one
//! `match` that knows every potential family), and a memory estimate per rank
//! ([`MemoryEstimate`]) that refuses a run too large for the machine before anything large
//! is allocated.
//!
//! [`MdJob::read`] reads an MD input; [`MdJob::into_engine`] builds the engine on a
//! communicator, and [`MdJob::into_resumed_engine`] one that continues a checkpoint (after
//! checking that the checkpoint belongs to this input, [`MdJob::compatibility`]). Every
//! error is an [`InputError`] that names the file and the line of the offending key.
//!
//! It does not parse command lines, start MPI, or run anything: the binary does.
//!
//! ```ignore
//! let job = calcine_input::MdJob::read(Path::new("md.toml"))?;
//! job.check_memory(job.grid(1, None)?, 1)?;
//! let compatibility = job.compatibility();
//! let (mut md, plan) = job.into_engine(SerialComm::new(periodic))?;
//! md.setup()?;
//! let mut outputs = RunOutputs::open(&plan.output, Start::Fresh { overwrite: false }, compatibility, true, None)?;
//! md.run(plan.steps, &mut [&mut outputs])?;
//! ```

mod budget;
mod file;
mod md_job;
mod registry;
pub mod sections;
mod system;
pub mod transport;

pub use budget::{available_memory, MemoryEstimate, RunShape};
pub use file::{line_of_offset, InputError, InputFile};
pub use md_job::{MdJob, RunPlan, ON_THE_FLY_FILES};
pub use registry::{build_potential, find_snap};
pub use system::{AtomSource, System};
pub use transport::{HopList, KinosonJob, OnTheFly, TransportJob};

use std::path::Path;

/// The structure and the SNAP part of an input's potential (`calcine descriptors`).
pub fn read_snap_structure(path: &Path) -> Result<(System, calcine_snap::Snap), InputError> {
    let file: InputFile<sections::MdDocument> = InputFile::read(path)?;
    let system = system::build_system(&file, &file.doc.system)?;
    let snap = find_snap(&file, &file.doc.potential, &system.species.names())?
        .ok_or_else(|| file.invalid("style", "descriptors need a snap potential"))?;
    Ok((system, snap))
}

#[cfg(test)]
mod tests;
