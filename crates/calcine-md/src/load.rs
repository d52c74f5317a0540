//! Atoms per rank and memory, gathered at the end of a run.

use crate::Md;
use calcine_comm::Communicator;

/// How the atoms and memory of a run are spread over its ranks.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    pub n_ranks: usize,
    pub min_atoms: f64,
    pub max_atoms: f64,
    pub total_atoms: f64,
    /// Peak resident memory summed over ranks (0 where the OS does not tell).
    pub peak_rss_bytes: u64,
    /// Bytes of neighbor lists and of per-atom arrays, summed over ranks.
    pub neighbor_bytes: u64,
    pub atom_bytes: u64,
}

impl LoadReport {
    /// Gathers the report. Collective.
    pub fn gather<C: Communicator>(md: &Md<C>) -> Self {
        let comm = md.comm();
        let n = md.atoms().n_owned() as f64;
        let mut sums = [
            md.atoms().n_owned() as u64,
            calcine_io::peak_rss_bytes(),
            md.neighbors().memory_bytes() as u64,
            md.atoms().memory_bytes() as u64,
        ];
        comm.sum_u64(&mut sums);
        Self {
            n_ranks: comm.size(),
            max_atoms: comm.max_f64(n),
            min_atoms: -comm.max_f64(-n),
            total_atoms: sums[0] as f64,
            peak_rss_bytes: sums[1],
            neighbor_bytes: sums[2],
            atom_bytes: sums[3],
        }
    }

    pub fn mean_atoms(&self) -> f64 {
        self.total_atoms / self.n_ranks as f64
    }

    /// max/mean atoms per rank.
    pub fn imbalance(&self) -> f64 {
        self.max_atoms / self.mean_atoms()
    }
}
