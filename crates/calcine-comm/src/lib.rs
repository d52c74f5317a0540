//! # Brief overview
//!
//! `calcine-comm` is the only place that knows how ranks talk. It defines the
//! [`Communicator`] trait (a Cartesian grid of ranks, shifts along an axis, exact
//! collectives), the [`SerialComm`] that runs everything on one rank, and the pure
//! [`ProcGrid::choose`] that picks the processor grid with the least subdomain surface.
//!
//! Code above this crate never branches on the number of ranks: with [`SerialComm`] the
//! neighbor on every periodic side is the rank itself and a shift is a copy, so periodic
//! images are made by the same halo exchange that talks to other ranks under MPI.
//!
//! ```ignore
//! let comm = SerialComm::new([true; 3]);
//! let mut recv = Vec::new();
//! comm.shift_f64(Axis::X, Dir::Lower, &[1.0, 2.0], &mut recv);
//! assert_eq!(recv, [1.0, 2.0]);
//! ```

mod grid;
#[cfg(feature = "mpi")]
mod mpi_comm;
mod serial;

pub use grid::ProcGrid;
#[cfg(feature = "mpi")]
pub use mpi_comm::{MpiComm, MpiUniverse};
pub use serial::SerialComm;

/// The raw MPI communicator of an [`MpiComm`], handed to libraries that take an
/// `MPI_Comm` (parallel HDF5's `H5Pset_fapl_mpio`, which duplicates it). This is the one
/// seam through which MPI reaches code outside this crate; see docs/ARCHITECTURE.md.
#[derive(Debug, Clone, Copy)]
pub struct MpiHandle {
    #[cfg(feature = "mpi")]
    raw: mpi::ffi::MPI_Comm,
    #[cfg(not(feature = "mpi"))]
    _none: (),
}

impl MpiHandle {
    /// The C handle (`MPI_Comm`); valid while the communicator it came from lives.
    #[cfg(feature = "mpi")]
    pub fn raw(self) -> mpi::ffi::MPI_Comm {
        self.raw
    }
    #[cfg(feature = "mpi")]
    pub(crate) fn new(raw: mpi::ffi::MPI_Comm) -> Self {
        Self { raw }
    }
}

/// A Cartesian axis of the processor grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    X = 0,
    Y = 1,
    Z = 2,
}

impl Axis {
    pub const ALL: [Axis; 3] = [Axis::X, Axis::Y, Axis::Z];
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A direction along an axis: towards the lower or the upper neighbor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Lower,
    Upper,
}

impl Dir {
    pub fn opposite(self) -> Dir {
        match self {
            Dir::Lower => Dir::Upper,
            Dir::Upper => Dir::Lower,
        }
    }
}

/// How ranks exchange data. Implemented by [`SerialComm`] and, with the `mpi` feature, by
/// an MPI communicator.
///
/// Every method is collective over the ranks that take part: all ranks call it in the same
/// order. Shifts send to the neighbor in direction `dir` along `axis` and receive from the
/// opposite neighbor; at a non-periodic wall there is no neighbor, nothing is sent there and
/// `recv` comes back empty.
pub trait Communicator {
    fn rank(&self) -> usize;
    fn size(&self) -> usize;
    fn grid(&self) -> &ProcGrid;

    /// The rank one step along `axis` in direction `dir`, or `None` at a non-periodic wall.
    fn neighbor(&self, axis: Axis, dir: Dir) -> Option<usize> {
        self.grid().neighbor_coords(axis, dir).map(|c| self.grid().rank_of(c))
    }

    fn shift_f64(&self, axis: Axis, dir: Dir, send: &[f64], recv: &mut Vec<f64>);
    fn shift_u64(&self, axis: Axis, dir: Dir, send: &[u64], recv: &mut Vec<u64>);

    /// Element-wise sum over ranks of integers; exact, so the order of ranks does not matter.
    fn sum_i128(&self, values: &mut [i128]);
    /// Element-wise sum over ranks of `u64` counts.
    fn sum_u64(&self, values: &mut [u64]);
    /// Maximum over ranks.
    fn max_f64(&self, value: f64) -> f64;
    /// True on every rank if `flag` is true on any rank: how an error on one rank becomes an
    /// error on all of them.
    fn any(&self, flag: bool) -> bool;
    /// Gathers a byte message from every rank to rank 0 (others get an empty vector), in rank order.
    fn gather_bytes(&self, send: &[u8]) -> Vec<Vec<u8>>;
    /// Sends a byte message from rank 0 to every rank.
    fn broadcast_bytes(&self, data: &mut Vec<u8>);
    /// Sends `send[r]` to rank `r` for every rank and returns what each rank sent here, in
    /// rank order (MPI's all-to-all with counts per rank).
    fn all_to_all_u64(&self, send: &[Vec<u64>]) -> Vec<Vec<u64>>;
    /// The MPI communicator under this one, for a library that runs collectives of its own
    /// (parallel HDF5); `None` for [`SerialComm`].
    fn mpi_handle(&self) -> Option<MpiHandle> {
        None
    }
    fn barrier(&self);
    /// Ends every rank at once with `code`. Only the command-line driver calls this, when one
    /// rank fails outside a collective phase.
    fn abort(&self, code: i32) -> !;
}
