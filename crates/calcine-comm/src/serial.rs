use crate::{Axis, Communicator, Dir, ProcGrid};

/// The communicator of a one-rank run: a 1×1×1 grid whose neighbor on every periodic side
/// is itself, so a shift is a copy and a collective is the identity.
#[derive(Debug, Clone)]
pub struct SerialComm {
    grid: ProcGrid,
}

impl SerialComm {
    pub fn new(periodic: [bool; 3]) -> Self {
        Self { grid: ProcGrid::single(periodic) }
    }
}

impl Default for SerialComm {
    fn default() -> Self {
        Self::new([true; 3])
    }
}

impl SerialComm {
    fn shift<T: Copy>(&self, axis: Axis, dir: Dir, send: &[T], recv: &mut Vec<T>) {
        recv.clear();
        // We receive from the opposite side, which exists exactly when the axis is periodic.
        if self.grid.neighbor_coords(axis, dir.opposite()).is_some() {
            recv.extend_from_slice(send);
        }
    }
}

impl Communicator for SerialComm {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn grid(&self) -> &ProcGrid {
        &self.grid
    }
    fn shift_f64(&self, axis: Axis, dir: Dir, send: &[f64], recv: &mut Vec<f64>) {
        self.shift(axis, dir, send, recv)
    }
    fn shift_u64(&self, axis: Axis, dir: Dir, send: &[u64], recv: &mut Vec<u64>) {
        self.shift(axis, dir, send, recv)
    }
    fn sum_i128(&self, _values: &mut [i128]) {}
    fn sum_u64(&self, _values: &mut [u64]) {}
    fn max_f64(&self, value: f64) -> f64 {
        value
    }
    fn any(&self, flag: bool) -> bool {
        flag
    }
    fn gather_bytes(&self, send: &[u8]) -> Vec<Vec<u8>> {
        vec![send.to_vec()]
    }
    fn broadcast_bytes(&self, _data: &mut Vec<u8>) {}
    fn all_to_all_u64(&self, send: &[Vec<u64>]) -> Vec<Vec<u64>> {
        assert_eq!(send.len(), 1, "one rank: one message");
        send.to_vec()
    }
    fn barrier(&self) {}
    fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}
