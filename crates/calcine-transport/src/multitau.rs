//! The streaming multiple-tau correlator (Ramírez, Sukumaran, Vorselaars and Likhtman,
//! J. Chem. Phys. 133, 154103 (2010); LAMMPS `fix ave/correlate/long`), for runs too long
//! to store: memory grows with the logarithm of the run length, not with it.
//!
//! Level 0 keeps the last `points` samples and accumulates every lag 1…points−1 over every
//! time origin, so there it equals the FFT correlator exactly (up to rounding). Level k+1
//! receives every `factor`-th sample of level k (decimation: the sample itself, not a block
//! average, because averaging positions over a window shifts each level's mean squared
//! displacement by a different motion-blur offset), and accumulates lags
//! j·factorᵏ⁺¹ for j = ⌈points/factor⌉…points−1. At level k the time origins are the
//! multiples of factorᵏ, so a lag L at level k averages over about (N−L)/factorᵏ origins
//! instead of N−L: the estimate is unbiased and its statistical error grows by about
//! √(factorᵏ·(1 + L/N)) at most. That is the documented resolution the tests check.
//!
//! What is correlated: for channels X_c (3-vectors fed together at each sample) and a list
//! of pairs (a, b), the windowed cross-displacement ⟨[X_a(t+L)−X_a(t)]·[X_b(t+L)−X_b(t)]⟩.

/// Default points per level (LAMMPS `nlen`).
pub const DEFAULT_POINTS: usize = 16;
/// Default decimation factor between levels (LAMMPS `ncount`).
pub const DEFAULT_FACTOR: usize = 2;

#[derive(Debug, Clone)]
struct Level {
    /// Ring of the last `points` samples, `channels` vectors each.
    ring: Vec<[f64; 3]>,
    head: usize,
    /// Samples stored in the ring (at most `points`).
    filled: usize,
    /// Samples received by this level.
    received: u64,
    /// Sums per (pair, lag index j).
    sums: Vec<f64>,
    counts: Vec<u64>,
}

/// A multiple-tau correlator of cross-displacements between channels.
#[derive(Debug, Clone)]
pub struct MultiTau {
    points: usize,
    factor: usize,
    channels: usize,
    pairs: Vec<(usize, usize)>,
    levels: Vec<Level>,
}

/// What a [`MultiTau`] has accumulated: for each lag (in samples, increasing), the sum over
/// origins per pair and the number of origins.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiTauCurves {
    pub lags: Vec<u64>,
    /// `sums[pair][lag]`.
    pub sums: Vec<Vec<f64>>,
    pub counts: Vec<u64>,
}

impl MultiTauCurves {
    /// The mean of pair `p` at each lag (0 where no origin contributed).
    pub fn mean(&self, p: usize) -> Vec<f64> {
        self.sums[p].iter().zip(&self.counts).map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 }).collect()
    }
}

impl MultiTau {
    /// A correlator of `channels` vector channels for the given pairs, with `points` per level
    /// (a multiple of `factor`, at least 2·factor) and decimation `factor` (at least 2).
    pub fn new(channels: usize, pairs: Vec<(usize, usize)>, points: usize, factor: usize) -> Self {
        assert!(
            factor >= 2 && points >= 2 * factor && points.is_multiple_of(factor),
            "points {points}, factor {factor}"
        );
        assert!(pairs.iter().all(|&(a, b)| a < channels && b < channels));
        Self { points, factor, channels, pairs, levels: Vec::new() }
    }

    /// The self correlator of one channel (a mean squared displacement).
    pub fn msd(points: usize, factor: usize) -> Self {
        Self::new(1, vec![(0, 0)], points, factor)
    }

    pub fn points(&self) -> usize {
        self.points
    }

    pub fn factor(&self) -> usize {
        self.factor
    }

    fn first_lag(&self, level: usize) -> usize {
        if level == 0 {
            1
        } else {
            self.points / self.factor
        }
    }

    /// Feeds one sample: `channels` vectors.
    pub fn push(&mut self, sample: &[[f64; 3]]) {
        assert_eq!(sample.len(), self.channels, "sample has the wrong number of channels");
        if self.levels.is_empty() {
            self.add_level();
        }
        self.push_at(0, sample);
    }

    fn add_level(&mut self) {
        self.levels.push(Level {
            ring: vec![[0.0; 3]; self.points * self.channels],
            head: 0,
            filled: 0,
            received: 0,
            sums: vec![0.0; self.pairs.len() * self.points],
            counts: vec![0; self.points],
        });
    }

    fn push_at(&mut self, level: usize, sample: &[[f64; 3]]) {
        let first = self.first_lag(level);
        let (points, channels, factor) = (self.points, self.channels, self.factor as u64);
        let l = &mut self.levels[level];
        for j in first..=l.filled.min(points - 1) {
            let slot = (l.head + points - j) % points;
            let old = &l.ring[slot * channels..(slot + 1) * channels];
            for (p, &(a, b)) in self.pairs.iter().enumerate() {
                let da = [sample[a][0] - old[a][0], sample[a][1] - old[a][1], sample[a][2] - old[a][2]];
                let db = if a == b {
                    da
                } else {
                    [sample[b][0] - old[b][0], sample[b][1] - old[b][1], sample[b][2] - old[b][2]]
                };
                l.sums[p * points + j] += da[0] * db[0] + da[1] * db[1] + da[2] * db[2];
            }
            l.counts[j] += 1;
        }
        l.ring[l.head * channels..(l.head + 1) * channels].copy_from_slice(sample);
        l.head = (l.head + 1) % points;
        l.filled = (l.filled + 1).min(points);
        let index = l.received;
        l.received += 1;
        if !index.is_multiple_of(factor) {
            return;
        }
        // Every factor-th sample goes on to the next level. That level is made when it
        // gets its second sample, and is first given its first one, sample 0 of this level
        // (still in slot 0 of the ring, which holds at least 2·factor samples).
        if level + 1 == self.levels.len() {
            if index == 0 {
                return;
            }
            self.add_level();
            let seed = self.levels[level].ring[..channels].to_vec();
            self.push_at(level + 1, &seed);
        }
        self.push_at(level + 1, sample);
    }

    /// Bytes held by this correlator.
    pub fn memory_bytes(&self) -> usize {
        self.levels.iter().map(|l| l.ring.len() * 24 + l.sums.len() * 8 + l.counts.len() * 8).sum::<usize>()
            + std::mem::size_of::<Self>()
    }

    /// The accumulated sums by lag (in samples). Lag 0 is included (zero displacement).
    pub fn curves(&self) -> MultiTauCurves {
        let mut lags = vec![0u64];
        let mut sums: Vec<Vec<f64>> = vec![vec![0.0]; self.pairs.len()];
        let received = self.levels.first().map_or(0, |l| l.received);
        let mut counts = vec![received];
        for (k, l) in self.levels.iter().enumerate() {
            let stride = (self.factor as u64).pow(k as u32);
            for j in self.first_lag(k)..self.points {
                if l.counts[j] == 0 {
                    continue;
                }
                lags.push(j as u64 * stride);
                counts.push(l.counts[j]);
                for (p, s) in sums.iter_mut().enumerate() {
                    s.push(l.sums[p * self.points + j]);
                }
            }
        }
        MultiTauCurves { lags, sums, counts }
    }
}
