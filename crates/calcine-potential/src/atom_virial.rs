//! Per-atom virials accumulated in fixed point, for potentials that add a pair's virial
//! to both of its atoms (ghosts included): each share is converted to fixed point
//! (`calcine_core::to_fixed`) on its own and added as an integer, and ghost shares are
//! reverse-summed into their owners as integers, so every atom's virial has the same bits
//! on any number of ranks and threads.

use calcine_core::{from_fixed, to_fixed, GhostSync, Virial};

/// Six fixed-point words (xx yy zz xy xz yz) per atom, owned then ghost.
#[derive(Debug, Clone, Default)]
pub struct AtomVirials {
    words: Vec<i128>,
    non_finite: bool,
}

impl AtomVirials {
    /// Zeroes the accumulator for `n_total` atoms.
    pub fn reset(&mut self, n_total: usize) {
        self.words.clear();
        self.words.resize(6 * n_total, 0);
        self.non_finite = false;
    }

    /// Adds `scale·v` to atom `i`'s virial, each component truncated to the quantum.
    #[inline]
    pub fn add(&mut self, i: usize, v: &Virial, scale: f64) {
        for (w, x) in self.words[6 * i..6 * i + 6].iter_mut().zip(v) {
            let x = scale * x;
            if x.is_finite() {
                *w = w.wrapping_add(to_fixed(x));
            } else {
                self.non_finite = true;
            }
        }
    }

    /// Adds each ghost's words into its owner (collective: every rank calls it).
    pub fn reverse_sum(&mut self, ghosts: &mut dyn GhostSync) {
        ghosts.reverse_sum_exact(&mut self.words, 6);
    }

    /// Adds the owned atoms' virials, rounded once, into `out` (one entry per owned atom);
    /// NaN where a non-finite share was added anywhere.
    pub fn add_into(&self, out: &mut [Virial]) {
        for (i, v) in out.iter_mut().enumerate() {
            for (k, c) in v.iter_mut().enumerate() {
                *c += if self.non_finite { f64::NAN } else { from_fixed(self.words[6 * i + k]) };
            }
        }
    }
}
