//! Memory per rank, estimated from the input before anything large is allocated, so that
//! a system too large for the machine is refused with the estimate and the limit instead
//! of growing until the kernel kills the process.

use calcine_core::SimBox;

/// Bytes per owned atom: id, species, position, velocity, image (72), force (24), the
/// potential's per-atom scratch and the list's per-row index (~64).
const OWNED_BYTES: f64 = 160.0;
/// Bytes per ghost: id, species, position (36), force (24), scratch (16).
const GHOST_BYTES: f64 = 76.0;
/// Bytes per atom of a structure read whole by every rank before it keeps its own part.
const READ_BYTES: f64 = 72.0;
/// Bytes per neighbor-list entry: plain rows (4-byte indices); packed rows take ~1.3.
const ENTRY_BYTES_PLAIN: f64 = 4.0;
const ENTRY_BYTES_PACKED: f64 = 1.3;
/// Atoms per rank (owned and ghost) from which `storage = "auto"` packs rows.
const AUTO_PACK_ATOMS: f64 = 131_072.0;
/// What a process takes before any atom: code, MPI, thread stacks.
const BASE_BYTES: f64 = 64.0 * 1024.0 * 1024.0;

/// An estimate of one rank's memory.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    pub atoms: f64,
    pub ranks: usize,
    pub owned_per_rank: f64,
    pub ghosts_per_rank: f64,
    pub neighbors_per_atom: f64,
    pub bytes_per_rank: f64,
}

/// What the estimate needs to know about a run.
#[derive(Debug, Clone, Copy)]
pub struct RunShape<'a> {
    pub n_atoms: f64,
    pub simbox: &'a SimBox,
    pub grid: [usize; 3],
    /// Interaction cutoff plus skin (Å): the ghost shell and list radius.
    pub list_radius: f64,
    /// Full lists hold each pair twice.
    pub full_list: bool,
    /// Whether every rank reads the whole structure (a structure file) first.
    pub read_whole: bool,
    /// `Some(true)` packed rows, `Some(false)` plain, `None` auto.
    pub packed: Option<bool>,
}

impl MemoryEstimate {
    /// The estimate for a run of this shape.
    pub fn of(shape: RunShape<'_>) -> Self {
        let ranks = shape.grid.iter().product::<usize>().max(1);
        let volume = shape.simbox.volume();
        let density = shape.n_atoms / volume;
        let owned = shape.n_atoms / ranks as f64;
        // The ghost shell of a subdomain: the slab of width r around it on every side
        // (several boxes deep when r exceeds the box: periodic images are ghosts too).
        let r = shape.list_radius;
        let widths: [f64; 3] = std::array::from_fn(|a| shape.simbox.plane_spacing(a) / shape.grid[a] as f64);
        let inner: f64 = widths.iter().product();
        let outer: f64 = widths.iter().map(|w| w + 2.0 * r).product();
        let ghosts = density * (outer - inner) * (volume / ranks as f64 / inner);
        let sphere = 4.0 / 3.0 * std::f64::consts::PI * r.powi(3);
        let neighbors = density * sphere * if shape.full_list { 1.0 } else { 0.5 };
        let packed = shape.packed.unwrap_or(owned + ghosts >= AUTO_PACK_ATOMS);
        let entry = if packed { ENTRY_BYTES_PACKED } else { ENTRY_BYTES_PLAIN };
        let read = if shape.read_whole { READ_BYTES * shape.n_atoms } else { 0.0 };
        let bytes = BASE_BYTES + OWNED_BYTES * owned + GHOST_BYTES * ghosts + entry * neighbors * owned + read;
        Self {
            atoms: shape.n_atoms,
            ranks,
            owned_per_rank: owned,
            ghosts_per_rank: ghosts,
            neighbors_per_atom: neighbors,
            bytes_per_rank: bytes,
        }
    }

    /// One line for reports: "2.1 GB per rank: 4.0e6 atoms per rank, …".
    pub fn describe(&self) -> String {
        format!(
            "about {} per rank ({} atoms, {} ghosts and {} neighbors per atom on each of {} rank(s))",
            human_bytes(self.bytes_per_rank),
            human_count(self.owned_per_rank),
            human_count(self.ghosts_per_rank),
            human_count(self.neighbors_per_atom),
            self.ranks
        )
    }
}

/// Memory this process may still use, in bytes: the smaller of the kernel's
/// `MemAvailable` and what the cgroup (a Slurm job, a container) has left; `None` where
/// neither can be read.
pub fn available_memory() -> Option<f64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|k| k.parse::<f64>().ok())
            .map(|kib| kib * 1024.0)
    });
    let read_number = |p: &str| std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse::<f64>().ok());
    let cgroup = match (read_number("/sys/fs/cgroup/memory.max"), read_number("/sys/fs/cgroup/memory.current")) {
        (Some(max), Some(current)) => Some((max - current).max(0.0)),
        _ => None,
    };
    match (meminfo, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub(crate) fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = b;
    for unit in UNITS {
        if v < 1000.0 {
            return format!("{v:.1} {unit}");
        }
        v /= 1000.0;
    }
    format!("{b:.2e} B")
}

fn human_count(x: f64) -> String {
    if x < 1e5 {
        format!("{x:.0}")
    } else {
        format!("{x:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calcine_core::Vec3;

    #[test]
    fn estimate_grows_with_atoms_cutoff_and_ghost_shell() {
        // 4,000 fcc Cu atoms in a 36.15 Å cube with a 5.95 Å list radius.
        let simbox = SimBox::cubic(36.15).unwrap();
        let shape = |n: f64, r: f64, grid: [usize; 3]| RunShape {
            n_atoms: n,
            simbox: &simbox,
            grid,
            list_radius: r,
            full_list: true,
            read_whole: false,
            packed: Some(false),
        };
        let e = MemoryEstimate::of(shape(4000.0, 5.95, [1, 1, 1]));
        // Density 0.0847 Å⁻³: 74.7 neighbors in the 5.95 Å sphere; the ghost shell of a
        // 36.15 Å cube is (48.05³ − 36.15³) × density.
        assert!((e.neighbors_per_atom - 74.7).abs() < 0.2, "{e:?}");
        let shell = (48.05f64.powi(3) - 36.15f64.powi(3)) * 4000.0 / 36.15f64.powi(3);
        assert!((e.ghosts_per_rank - shell).abs() < 1e-6 * shell, "{e:?}");
        assert!(e.bytes_per_rank > BASE_BYTES && e.bytes_per_rank < BASE_BYTES + 3e6, "{e:?}");
        // Two ranks split the atoms; each has a thinner subdomain and relatively more ghosts.
        let two = MemoryEstimate::of(shape(4000.0, 5.95, [2, 1, 1]));
        assert_eq!(two.owned_per_rank, 2000.0);
        assert!(two.ghosts_per_rank > e.ghosts_per_rank / 2.0);
        // An absurd cutoff or atom count is astronomically large, and still finite.
        let huge = MemoryEstimate::of(shape(4000.0, 1e6, [1, 1, 1]));
        assert!(huge.bytes_per_rank > 1e18 && huge.bytes_per_rank.is_finite());
        let big = SimBox::orthogonal(Vec3::zeros(), Vec3::new(7230.0, 7230.0, 7230.0), [true; 3]).unwrap();
        let many = MemoryEstimate::of(RunShape { simbox: &big, ..shape(3.2e10, 5.95, [1, 1, 1]) });
        assert!(many.bytes_per_rank > 3.2e10 * OWNED_BYTES);
    }
}
