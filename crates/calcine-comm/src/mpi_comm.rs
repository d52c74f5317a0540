//! The MPI communicator (feature `mpi`): the only code in calcine that names `mpi`.

use crate::{Axis, Communicator, Dir, ProcGrid};
use mpi::collective::SystemOperation;
use mpi::datatype::{Equivalence, PartitionMut};
use mpi::point_to_point as p2p;
use mpi::topology::{CartesianCommunicator, SimpleCommunicator};
#[allow(unused_imports)]
use mpi::traits::Communicator as _;
use mpi::traits::*;
use mpi::{Count, Rank};

/// OpenMPI's MPI-IO (ompio) before 4.1.7 and 5.0.6 takes no byte-range locks on a local
/// file system, yet in a collective write its aggregators may read, modify and write back
/// blocks with gaps ("data sieving"); two of them can then overwrite each other's bytes
/// (open-mpi/ompi#12718, fixed upstream by locking ranges by default). Parallel HDF5
/// trajectories written on 3 ranks came out with such damaged chunks now and then (zlib:
/// "filter returned failure during read"). The fixed versions' default, set before MPI
/// starts unless the user has chosen otherwise; other MPIs ignore the variable.
const OMPIO_LOCKING: (&str, &str) = ("OMPI_MCA_fs_ufs_lock_algorithm", "3");

/// The MPI environment. Create it first thing in `main` and keep it for the whole run:
/// dropping it finalizes MPI. Communicators made from it must be dropped before it.
pub struct MpiUniverse {
    world: SimpleCommunicator,
    // Declared last so it is dropped (finalizing MPI) after `world`.
    _universe: mpi::environment::Universe,
}

impl MpiUniverse {
    /// Initializes MPI (threads: only the main thread calls MPI; rayon workers never do).
    /// `None` if MPI was already initialized.
    pub fn init() -> Option<Self> {
        if std::env::var_os(OMPIO_LOCKING.0).is_none() {
            // Before MPI reads its parameters, and before this process starts a thread.
            std::env::set_var(OMPIO_LOCKING.0, OMPIO_LOCKING.1);
        }
        let (universe, _threading) = mpi::initialize_with_threading(mpi::Threading::Funneled)?;
        let world = universe.world();
        Some(Self { world, _universe: universe })
    }

    /// Whether this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun`
    /// with PMI/PMIx): its environment names a rank. A process started on its own skips
    /// MPI altogether (no start-up cost, no launcher's shared-memory files); `CALCINE_MPI=1`
    /// initializes MPI anyway, `CALCINE_MPI=0` never does.
    pub fn launched() -> bool {
        match std::env::var("CALCINE_MPI").as_deref() {
            Ok("1") => return true,
            Ok("0") => return false,
            _ => {}
        }
        ["OMPI_COMM_WORLD_SIZE", "PMI_RANK", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
    }

    pub fn rank(&self) -> usize {
        self.world.rank() as usize
    }
    pub fn size(&self) -> usize {
        self.world.size() as usize
    }

    /// True on every rank if `flag` is true on any rank (over all ranks of the job).
    pub fn any(&self, flag: bool) -> bool {
        let mut out = 0i32;
        self.world.all_reduce_into(&(flag as i32), &mut out, SystemOperation::max());
        out != 0
    }

    /// A Cartesian communicator over all ranks with the grid `dims` (product = size).
    pub fn cartesian(&self, dims: [usize; 3], periodic: [bool; 3]) -> MpiComm {
        assert_eq!(
            dims.iter().product::<usize>(),
            self.size(),
            "processor grid {dims:?} does not match {} ranks",
            self.size()
        );
        let d: Vec<Count> = dims.iter().map(|&x| x as Count).collect();
        // No reordering: the Cartesian rank of grid point (cx, cy, cz) is then the row-major
        // index that `ProcGrid::rank_of` computes.
        let cart = self.world.create_cartesian_communicator(&d, &periodic, false).expect("every rank is in the grid");
        let coords = cart.rank_to_coordinates(cart.rank());
        let grid = ProcGrid { dims, coords: [coords[0] as usize, coords[1] as usize, coords[2] as usize], periodic };
        let neighbors = std::array::from_fn(|a| {
            let (lower, upper) = cart.shift(a as Count, 1);
            [lower, upper]
        });
        MpiComm { cart, grid, neighbors }
    }

    /// Ends every rank of the job at once.
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}

/// A communicator over a Cartesian grid of MPI ranks.
pub struct MpiComm {
    cart: CartesianCommunicator,
    grid: ProcGrid,
    /// Per axis: the (lower, upper) neighbor ranks; `None` at a non-periodic wall.
    neighbors: [[Option<Rank>; 2]; 3],
}

impl MpiComm {
    fn shift_any<T: Equivalence + Copy + Default>(&self, axis: Axis, dir: Dir, send: &[T], recv: &mut Vec<T>) {
        let [lower, upper] = self.neighbors[axis.index()];
        // Send towards `dir`, receive from the opposite side.
        let (dest, source) = match dir {
            Dir::Lower => (lower, upper),
            Dir::Upper => (upper, lower),
        };
        let n_send = send.len() as u64;
        let mut n_recv = 0u64;
        match (dest, source) {
            (Some(d), Some(s)) => {
                p2p::send_receive_into(
                    &n_send,
                    &self.cart.process_at_rank(d),
                    &mut n_recv,
                    &self.cart.process_at_rank(s),
                );
            }
            (Some(d), None) => self.cart.process_at_rank(d).send(&n_send),
            (None, Some(s)) => {
                self.cart.process_at_rank(s).receive_into(&mut n_recv);
            }
            (None, None) => {}
        }
        recv.clear();
        recv.resize(n_recv as usize, T::default());
        match (dest, source) {
            (Some(d), Some(s)) => {
                p2p::send_receive_into(
                    send,
                    &self.cart.process_at_rank(d),
                    &mut recv[..],
                    &self.cart.process_at_rank(s),
                );
            }
            (Some(d), None) => self.cart.process_at_rank(d).send(send),
            (None, Some(s)) => {
                self.cart.process_at_rank(s).receive_into(&mut recv[..]);
            }
            (None, None) => {}
        }
    }
}

impl Communicator for MpiComm {
    fn rank(&self) -> usize {
        self.cart.rank() as usize
    }
    fn size(&self) -> usize {
        self.cart.size() as usize
    }
    fn grid(&self) -> &ProcGrid {
        &self.grid
    }
    fn shift_f64(&self, axis: Axis, dir: Dir, send: &[f64], recv: &mut Vec<f64>) {
        self.shift_any(axis, dir, send, recv)
    }
    fn shift_u64(&self, axis: Axis, dir: Dir, send: &[u64], recv: &mut Vec<u64>) {
        self.shift_any(axis, dir, send, recv)
    }
    fn sum_i128(&self, values: &mut [i128]) {
        // MPI has no 128-bit integer: gather every rank's values and add them here, which is
        // exact and gives the same bits on every rank.
        let send: Vec<u64> = values.iter().flat_map(|&v| [v as u64, (v >> 64) as u64]).collect();
        let mut all = vec![0u64; send.len() * self.size()];
        self.cart.all_gather_into(&send[..], &mut all[..]);
        for v in values.iter_mut() {
            *v = 0;
        }
        for chunk in all.chunks_exact(send.len().max(1)) {
            for (k, v) in values.iter_mut().enumerate() {
                let x = (chunk[2 * k] as u128 | ((chunk[2 * k + 1] as u128) << 64)) as i128;
                *v = v.wrapping_add(x);
            }
        }
    }
    fn sum_u64(&self, values: &mut [u64]) {
        let send = values.to_vec();
        self.cart.all_reduce_into(&send[..], values, SystemOperation::sum());
    }
    fn max_f64(&self, value: f64) -> f64 {
        let mut out = 0.0;
        self.cart.all_reduce_into(&value, &mut out, SystemOperation::max());
        out
    }
    fn any(&self, flag: bool) -> bool {
        let mut out = 0i32;
        self.cart.all_reduce_into(&(flag as i32), &mut out, SystemOperation::max());
        out != 0
    }
    fn gather_bytes(&self, send: &[u8]) -> Vec<Vec<u8>> {
        let root = self.cart.process_at_rank(0);
        let n = send.len() as Count;
        // An empty Rust slice of bytes points at address 1, which OpenMPI reads as
        // MPI_IN_PLACE: give every buffer a real address, even when it holds nothing.
        let anchor = [0u8; 1];
        let send = if send.is_empty() { &anchor[..0] } else { send };
        if self.cart.rank() == 0 {
            let mut counts = vec![0 as Count; self.size()];
            root.gather_into_root(&n, &mut counts[..]);
            let displs: Vec<Count> = counts
                .iter()
                .scan(0, |acc, &c| {
                    let d = *acc;
                    *acc += c;
                    Some(d)
                })
                .collect();
            let total: Count = counts.iter().sum();
            let mut buf = vec![0u8; total.max(1) as usize];
            {
                let mut partition = PartitionMut::new(&mut buf[..total as usize], &counts[..], &displs[..]);
                root.gather_varcount_into_root(send, &mut partition);
            }
            counts.iter().zip(&displs).map(|(&c, &d)| buf[d as usize..(d + c) as usize].to_vec()).collect()
        } else {
            root.gather_into(&n);
            root.gather_varcount_into(send);
            Vec::new()
        }
    }
    fn broadcast_bytes(&self, data: &mut Vec<u8>) {
        let root = self.cart.process_at_rank(0);
        let mut n = data.len() as u64;
        root.broadcast_into(&mut n);
        if n > 0 {
            data.resize(n as usize, 0);
            root.broadcast_into(&mut data[..]);
        } else {
            data.clear();
        }
    }
    fn all_to_all_u64(&self, send: &[Vec<u64>]) -> Vec<Vec<u64>> {
        let size = self.size();
        assert_eq!(send.len(), size, "one message per rank");
        let send_counts: Vec<Count> = send.iter().map(|m| m.len() as Count).collect();
        let mut recv_counts = vec![0 as Count; size];
        self.cart.all_to_all_into(&send_counts[..], &mut recv_counts[..]);
        let displs = |counts: &[Count]| -> Vec<Count> {
            counts
                .iter()
                .scan(0, |acc, &c| {
                    let d = *acc;
                    *acc += c;
                    Some(d)
                })
                .collect()
        };
        let (send_displs, recv_displs) = (displs(&send_counts), displs(&recv_counts));
        // Real addresses even for empty buffers (see `gather_bytes`).
        let mut flat: Vec<u64> = Vec::with_capacity(send_counts.iter().sum::<Count>() as usize + 1);
        for m in send {
            flat.extend_from_slice(m);
        }
        flat.push(0);
        let total: Count = recv_counts.iter().sum();
        let mut buf = vec![0u64; total as usize + 1];
        {
            let sent = mpi::datatype::Partition::new(&flat[..], &send_counts[..], &send_displs[..]);
            let mut received = PartitionMut::new(&mut buf[..], &recv_counts[..], &recv_displs[..]);
            self.cart.all_to_all_varcount_into(&sent, &mut received);
        }
        recv_counts.iter().zip(&recv_displs).map(|(&c, &d)| buf[d as usize..(d + c) as usize].to_vec()).collect()
    }
    fn mpi_handle(&self) -> Option<crate::MpiHandle> {
        use mpi::raw::AsRaw;
        Some(crate::MpiHandle::new(self.cart.as_raw()))
    }
    fn barrier(&self) {
        self.cart.barrier();
    }
    fn abort(&self, code: i32) -> ! {
        self.cart.abort(code)
    }
}
