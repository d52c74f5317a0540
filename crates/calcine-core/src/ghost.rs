//! The halo-exchange interface that potentials see.

use crate::CarryWords;

/// Exchanges per-atom values between owned atoms and their ghost copies.
///
/// Arrays cover owned atoms `[0, n_owned)` followed by ghosts. `calcine-domain` implements
/// this over a `Communicator`, so a potential can ask for a mid-step exchange (EAM's
/// embedding derivative, for example) without knowing how many ranks there are.
pub trait GhostSync {
    /// Copies each owned atom's value to all of its ghost images.
    fn forward(&mut self, per_atom: &mut [f64]);
    /// Adds each ghost's value into its owner and leaves the ghost entries unspecified.
    fn reverse_sum(&mut self, per_atom: &mut [f64]);
    /// The same for fixed-point values (see [`crate::ExactVectors`]), `width` integers per
    /// atom. Integer addition is associative, so the owners' sums do not depend on how the
    /// atoms are distributed over ranks.
    fn reverse_sum_exact(&mut self, per_atom: &mut [i128], width: usize);
    /// The same for fixed-point words held as [`CarryWords`] (settled; they stay settled).
    /// This default widens every word to `i128` and back; `calcine-domain` sends the
    /// ghosts' words without the copy.
    fn reverse_sum_carry(&mut self, words: &mut CarryWords, width: usize) {
        let mut wide: Vec<i128> = (0..words.len()).map(|k| words.get(k)).collect();
        self.reverse_sum_exact(&mut wide, width);
        for (k, &v) in wide.iter().enumerate() {
            words.set_settled(k, v);
        }
    }
}

/// A `GhostSync` for systems that have no ghosts (a cluster in a non-periodic box).
#[derive(Debug, Default)]
pub struct NoGhosts;

impl GhostSync for NoGhosts {
    fn forward(&mut self, _per_atom: &mut [f64]) {}
    fn reverse_sum(&mut self, _per_atom: &mut [f64]) {}
    fn reverse_sum_exact(&mut self, _per_atom: &mut [i128], _width: usize) {}
}
