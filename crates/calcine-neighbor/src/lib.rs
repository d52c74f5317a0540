//! # Brief overview
//!
//! `calcine-neighbor` builds Verlet neighbor lists over owned and ghost atoms by cell
//! binning ([`NeighborList`], rows packed to about a byte per neighbor, see there): row `i` lists, for owned atom `i`,
//! the atoms within `cutoff + skin`. A [`NeighborKind::Full`] list holds every pair in both
//! rows; a [`NeighborKind::Half`] list holds each pair once over all ranks, in the row of
//! the atom with the smaller `AtomId`, so that the same pairs are evaluated from the same
//! positions on any decomposition. Lists are rebuilt when some atom has moved more than `skin/2` since the build.
//!
//! Every row comes out in a canonical order (cells of width radius/2 anchored at the
//! origin of space, visited in a fixed stencil order, each cell's atoms by `AtomId`, images
//! of one atom by position), so the order in which a kernel sums a row does not depend on
//! how atoms are stored or distributed over ranks: the root of calcine's bit-identical
//! results on any rank and thread count.
//!
//! It does not know about periodicity: periodic images are ghost atoms made by
//! `calcine-domain`, and kernels use `x[j] - x[i]` as it is.
//!
//! ```ignore
//! let mut list = NeighborList::new(NeighborKind::Full, cutoff, skin);
//! list.build(&atoms);
//! for j in list.neighbors(i) { /* ... */ }
//! ```

mod bins;
mod filter;
mod list;

pub use bins::{spatial_order, Bins};
pub use filter::in_half_row;
pub use list::{ListStorage, NeighborKind, NeighborList, Neighbors, NonFinitePosition, AUTO_PACKED_MIN_ATOMS};
