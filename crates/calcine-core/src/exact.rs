//! Order-independent summation.
//!
//! Floating-point addition is not associative, so a sum over atoms depends on the order the
//! atoms are visited in, and so on the number of ranks and threads. [`ExactSum`] converts
//! every term to a fixed-point integer (quantum 2⁻⁶⁰, range ±2⁶⁷ ≈ 1.5·10²⁰) and adds
//! integers, which is associative: any partition of the terms gives the same bits.
//! The conversion truncates each term to the quantum (8.7·10⁻¹⁹), far below the 1e-15
//! relative precision of the terms themselves for energies of order 1e-3 eV and above.

/// A fixed-point accumulator whose result does not depend on the order of the terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExactSum {
    acc: i128,
    non_finite: bool,
}

const SCALE: f64 = (1u64 << 60) as f64;

/// The fixed-point form of a finite `x` used by [`ExactSum`] and [`ExactVectors`]: x·2⁶⁰
/// truncated towards zero, so that `to_fixed(-x) == -to_fixed(x)` (a term added to one
/// atom and subtracted from another cancels exactly). For kernels that keep their own
/// per-atom fixed-point arrays; non-finite values must be caught by the caller (they
/// convert to 0 or the extreme integers).
#[inline(always)]
pub fn to_fixed(x: f64) -> i128 {
    let scaled = x * SCALE;
    match narrow_fixed(scaled) {
        Some(narrow) => narrow as i128,
        None => scaled as i128,
    }
}

/// `scaled` truncated to an integer when that lies within i64's range (|scaled| < 2⁶³):
/// below 2⁶³ the hardware's 64-bit conversion truncates exactly as the (slow, software)
/// 128-bit one does. A plain `as i64` would add the saturation and NaN checks of Rust's
/// casts (six instructions); in the EAM half-list kernel, which converts every term
/// scattered to a neighbor, they cost about a tenth of an MD step (docs/performance.md).
/// The conversion's own out-of-range answer is the test, one comparison; −2⁶³ itself then
/// takes the wide path, which gives the same value.
#[inline(always)]
fn narrow_fixed(scaled: f64) -> Option<i64> {
    let t = truncate_i64(scaled);
    (t != i64::MIN).then_some(t)
}

/// x truncated towards zero when −2⁶³ ≤ x < 2⁶³ (what `x as i64` gives there), and
/// i64::MIN otherwise, NaN included: the bare hardware conversion on x86-64, without the
/// saturation and NaN fix-ups of Rust's cast. For inner loops that test or clamp the result
/// themselves.
#[inline(always)]
pub fn truncate_i64(x: f64) -> i64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of x86-64.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_mm_cvttsd_si64(std::arch::x86_64::_mm_set_sd(x))
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    if (-9.223_372_036_854_775_808e18..9.223_372_036_854_775_808e18).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// A fixed-point value of [`to_fixed`]'s scale, rounded once to the nearest `f64`.
#[inline]
pub fn from_fixed(w: i128) -> f64 {
    // Both conversions round the same integer to the nearest f64, so they agree; the 64-bit
    // one is one instruction, the 128-bit one a software routine.
    let narrow = w as i64;
    if narrow as i128 == w {
        narrow as f64 / SCALE
    } else {
        wide_to_f64(w) / SCALE
    }
}

/// `w as f64` (round to nearest, ties to even) for |w| ≥ 2⁶³, in a few instructions
/// instead of the 128-bit software routine (`__floattidf`, about 45): the top 63 bits of
/// |w|, with a sticky 1 in their lowest bit if any bit below them is set, round to 53 bits
/// exactly as |w| does (the round bit is among the 10 bits dropped from the 63, and the
/// sticky bit only says "more below"); the power of two 2^shift then scales exactly.
#[inline]
fn wide_to_f64(w: i128) -> f64 {
    let a = w.unsigned_abs();
    let shift = (128 - a.leading_zeros()).saturating_sub(63);
    let top = (a >> shift) as u64 | u64::from(a & ((1u128 << shift) - 1) != 0);
    let scale = f64::from_bits(((1023 + shift) as u64) << 52);
    let magnitude = top as f64 * scale;
    if w < 0 {
        -magnitude
    } else {
        magnitude
    }
}

impl ExactSum {
    pub const fn new() -> Self {
        Self { acc: 0, non_finite: false }
    }

    /// Adds one term. A NaN or infinite term poisons the sum: [`ExactSum::value`] is then NaN.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if x.is_finite() {
            self.acc = self.acc.wrapping_add(to_fixed(x));
        } else {
            self.non_finite = true;
        }
    }

    /// Adds another partial sum (from another thread or rank).
    #[inline]
    pub fn merge(&mut self, other: &ExactSum) {
        self.acc = self.acc.wrapping_add(other.acc);
        self.non_finite |= other.non_finite;
    }

    /// The sum, rounded once to the nearest `f64`.
    pub fn value(&self) -> f64 {
        if self.non_finite {
            f64::NAN
        } else {
            from_fixed(self.acc)
        }
    }

    /// The raw state, for sending to other ranks: (fixed-point value, non-finite flag).
    pub fn to_parts(&self) -> (i128, bool) {
        (self.acc, self.non_finite)
    }

    pub fn from_parts(acc: i128, non_finite: bool) -> Self {
        Self { acc, non_finite }
    }
}

/// Per-atom vectors accumulated in the fixed point of [`ExactSum`], for potentials that
/// scatter pair terms to both atoms of a pair (SNAP with Newton's third law): the sums
/// have the same bits whatever the order of the terms, the thread count or the
/// decomposition, once ghosts are reverse-summed with
/// [`GhostSync::reverse_sum_exact`](crate::GhostSync::reverse_sum_exact).
#[derive(Debug, Clone, Default)]
pub struct ExactVectors {
    words: Vec<i128>,
    non_finite: bool,
}

impl ExactVectors {
    /// Zeroes the accumulator for `n` atoms.
    pub fn reset(&mut self, n: usize) {
        self.words.clear();
        self.words.resize(3 * n, 0);
        self.non_finite = false;
    }

    pub fn len(&self) -> usize {
        self.words.len() / 3
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Adds `v` to atom `i`'s vector. Each component is truncated to the quantum 2⁻⁶⁰, so
    /// adding `v` to one atom and `-v` to another cancels exactly.
    #[inline]
    pub fn add(&mut self, i: usize, v: [f64; 3]) {
        for (w, x) in self.words[3 * i..3 * i + 3].iter_mut().zip(v) {
            if x.is_finite() {
                *w = w.wrapping_add(to_fixed(x));
            } else {
                self.non_finite = true;
            }
        }
    }

    /// Adds fixed-point integers (sums of [`to_fixed`] values) to atom `i`'s words
    /// (modulo 2¹²⁸, as [`ExactVectors::add`] adds them).
    #[inline]
    pub fn add_fixed(&mut self, i: usize, t: [i128; 3]) {
        for (w, t) in self.words[3 * i..3 * i + 3].iter_mut().zip(t) {
            *w = w.wrapping_add(t);
        }
    }

    /// Subtracts `v` from atom `i`'s vector (the exact negative of [`ExactVectors::add`]).
    #[inline]
    pub fn sub(&mut self, i: usize, v: [f64; 3]) {
        self.add(i, [-v[0], -v[1], -v[2]]);
    }

    /// Atom `i`'s vector, each component rounded once to the nearest `f64`; NaN if a
    /// non-finite term was added anywhere.
    pub fn value(&self, i: usize) -> [f64; 3] {
        if self.non_finite {
            return [f64::NAN; 3];
        }
        std::array::from_fn(|k| from_fixed(self.words[3 * i + k]))
    }

    /// Adds another accumulator of the same length, word by word (integer sums: the result
    /// does not depend on how terms were split between the two).
    pub fn merge(&mut self, other: &ExactVectors) {
        assert_eq!(self.words.len(), other.words.len(), "merging accumulators of different lengths");
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w = w.wrapping_add(*o);
        }
        self.non_finite |= other.non_finite;
    }

    /// Whether a non-finite term was added.
    pub fn non_finite(&self) -> bool {
        self.non_finite
    }

    /// The raw words, three per atom, for [`GhostSync::reverse_sum_exact`](crate::GhostSync::reverse_sum_exact).
    pub fn words_mut(&mut self) -> &mut [i128] {
        &mut self.words
    }
}

/// Fixed-point words of [`to_fixed`]'s scale held in half the memory of `i128`: a 64-bit
/// word each, with the rare multiples of 2⁶⁴ (carries out of a word) kept aside.
///
/// For per-atom scatter arrays, which at a million atoms per rank are among the largest
/// arrays of a step. Word k's value is `low[k] + 2⁶⁴·high(k)` modulo 2¹²⁸, exactly the
/// `i128` that wrapping additions of the same terms give, in any order: a term is added
/// to the low word with a signed overflow check, and an overflow (the word's sum leaving
/// ±2⁶³ quanta, ±8 in the units of the terms) or a term that is itself wider records its
/// high part in a list. Integer addition is associative, so the words and the list have
/// the same sums whatever the order of the terms, the thread or the rank that added them.
///
/// Terms are added with [`CarryWords::add`] (or `add_fixed`); [`CarryWords::settle`] then
/// merges the carries by word, after which [`CarryWords::get`] reads a word and
/// [`CarryWords::add_settled`] adds to one (as ghost reverse sums do).
#[derive(Debug, Clone, Default)]
pub struct CarryWords {
    low: Vec<i64>,
    /// (word, multiple of 2⁶⁴) in the order they arose; merged into `high` by `settle`.
    carries: Vec<(usize, i64)>,
    /// Settled high parts: sorted by word, one entry per word with a non-zero one.
    high: Vec<(usize, i64)>,
    /// [`Scatter`]'s terms outside the narrow range, (word, term), until the view ends
    /// (empty otherwise; kept for its allocation).
    wide: Vec<(usize, f64)>,
}

impl CarryWords {
    /// Zeroes the accumulator for `len` words, keeping its allocation.
    pub fn reset(&mut self, len: usize) {
        self.low.clear();
        self.low.resize(len, 0);
        self.carries.clear();
        self.high.clear();
    }

    pub fn len(&self) -> usize {
        self.low.len()
    }

    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    /// Adds `to_fixed(x)` to word `k`; adding `-x` subtracts exactly the same integer.
    /// A non-finite `x` must be caught by the caller, as for [`to_fixed`]. One term through
    /// a [`Scatter`] view; loops over many terms take the view once instead.
    pub fn add(&mut self, k: usize, x: f64) {
        let mut view = self.scatter();
        view.reserve(1);
        view.add(k, x);
    }

    /// A view for inner loops that add many terms: see [`Scatter`].
    pub fn scatter(&mut self) -> Scatter<'_> {
        Scatter { low: &mut self.low, carries: &mut self.carries, wide: &mut self.wide }
    }

    /// Adds a fixed-point integer to word `k` (modulo 2¹²⁸, as `i128::wrapping_add`).
    #[cold]
    #[inline(never)]
    pub fn add_fixed(&mut self, k: usize, t: i128) {
        if let Some(c) = self.add_low(k, t) {
            self.carries.push((k, c));
        }
    }

    /// Adds `t` to the low word; the multiple of 2⁶⁴ left over, if any.
    #[inline]
    fn add_low(&mut self, k: usize, t: i128) -> Option<i64> {
        add_to_word(&mut self.low[k], t)
    }

    /// The low words, for adding accumulators in parallel with [`CarryWords::add_low_words`].
    pub fn low_words(&self) -> &[i64] {
        &self.low
    }

    pub fn low_words_mut(&mut self) -> &mut [i64] {
        &mut self.low
    }

    /// Adds `other` word by word into `words`, whose first word is word `first` of its
    /// accumulator; the carries go to `carries`, to be handed to [`CarryWords::extend_carries`].
    pub fn add_low_words(words: &mut [i64], other: &[i64], first: usize, carries: &mut Vec<(usize, i64)>) {
        for (k, (w, &o)) in words.iter_mut().zip(other).enumerate() {
            let (sum, overflow) = w.overflowing_add(o);
            *w = sum;
            if overflow {
                carries.push((first + k, o.signum()));
            }
        }
    }

    /// Takes carries found by [`CarryWords::add_low_words`], or another accumulator's high
    /// parts (with [`CarryWords::high_parts`]).
    pub fn extend_carries(&mut self, carries: impl IntoIterator<Item = (usize, i64)>) {
        self.carries.extend(carries);
    }

    /// The high parts of every word, settled or not, in no particular order.
    pub fn high_parts(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        self.high.iter().chain(&self.carries).copied()
    }

    /// Adds another accumulator of the same length (integer sums, so the result does not
    /// depend on how terms were split between the two).
    pub fn merge(&mut self, other: &CarryWords) {
        assert_eq!(self.low.len(), other.low.len(), "merging accumulators of different lengths");
        let mut carries = std::mem::take(&mut self.carries);
        Self::add_low_words(&mut self.low, &other.low, 0, &mut carries);
        carries.extend(other.high_parts());
        self.carries = carries;
    }

    /// Merges the carries into one high part per word.
    pub fn settle(&mut self) {
        if self.carries.is_empty() {
            return;
        }
        let mut all = std::mem::take(&mut self.high);
        all.append(&mut self.carries);
        all.sort_unstable_by_key(|&(k, _)| k);
        let mut merged: Vec<(usize, i64)> = Vec::with_capacity(all.len());
        for (k, c) in all {
            match merged.last_mut() {
                Some(last) if last.0 == k => last.1 = last.1.wrapping_add(c),
                _ => merged.push((k, c)),
            }
        }
        merged.retain(|&(_, c)| c != 0);
        self.high = merged;
    }

    /// Word `k`'s value (settled accumulators only).
    #[inline]
    pub fn get(&self, k: usize) -> i128 {
        debug_assert!(self.carries.is_empty(), "CarryWords::get before settle");
        let low = self.low[k] as i128;
        if self.high.is_empty() {
            return low;
        }
        match self.high.binary_search_by_key(&k, |&(w, _)| w) {
            Ok(h) => low.wrapping_add((self.high[h].1 as i128) << 64),
            Err(_) => low,
        }
    }

    /// Adds `t` to word `k` of a settled accumulator, which stays settled.
    pub fn add_settled(&mut self, k: usize, t: i128) {
        debug_assert!(self.carries.is_empty(), "CarryWords::add_settled before settle");
        if let Some(c) = self.add_low(k, t) {
            match self.high.binary_search_by_key(&k, |&(w, _)| w) {
                Ok(h) => {
                    self.high[h].1 = self.high[h].1.wrapping_add(c);
                    if self.high[h].1 == 0 {
                        self.high.remove(h);
                    }
                }
                Err(h) => self.high.insert(h, (k, c)),
            }
        }
    }

    /// Sets word `k` of a settled accumulator to `v`.
    pub fn set_settled(&mut self, k: usize, v: i128) {
        let old = self.get(k);
        self.add_settled(k, v.wrapping_sub(old));
    }
}

impl std::iter::FromIterator<f64> for ExactSum {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        let mut s = ExactSum::new();
        for x in iter {
            s.add(x);
        }
        s
    }
}

/// Sums a slice exactly in any order and returns the rounded result.
pub fn exact_sum(values: &[f64]) -> f64 {
    values.iter().copied().collect::<ExactSum>().value()
}

/// [`CarryWords::add`] for inner loops, with no function call on any path: terms outside
/// the narrow range (and NaN) are set aside and added when the view ends, and carries are
/// recorded in room reserved beforehand ([`Scatter::reserve`], outside the innermost loop).
///
/// A call on a rare path still costs the common one: every vector register is
/// caller-saved, so a loop that may call keeps its floating-point accumulators on the
/// stack and reloads them after each term (five loads per neighbor in the EAM force pass).
/// Integer addition is associative, so setting the wide terms aside changes no bit.
pub struct Scatter<'a> {
    low: &'a mut [i64],
    carries: &'a mut Vec<(usize, i64)>,
    wide: &'a mut Vec<(usize, f64)>,
}

impl Scatter<'_> {
    /// Makes room for the rare cases of the next `n` terms.
    #[inline]
    pub fn reserve(&mut self, n: usize) {
        self.carries.reserve(n);
        self.wide.reserve(n);
    }

    /// Adds `to_fixed(x)` to word `k`, as [`CarryWords::add`] does. At most `n` terms may
    /// be added after a [`Scatter::reserve`]`(n)`; more panics.
    #[inline(always)]
    pub fn add(&mut self, k: usize, x: f64) {
        let word = &mut self.low[k];
        match narrow_fixed(x * SCALE) {
            Some(t) => {
                let (sum, overflow) = word.overflowing_add(t);
                *word = sum;
                if overflow {
                    push_reserved(self.carries, (k, t.signum()));
                }
            }
            None => push_reserved(self.wide, (k, x)),
        }
    }
}

impl Drop for Scatter<'_> {
    /// Adds the terms set aside, as [`CarryWords::add_fixed`] does.
    fn drop(&mut self) {
        for (k, x) in self.wide.drain(..) {
            if let Some(c) = add_to_word(&mut self.low[k], to_fixed(x)) {
                self.carries.push((k, c));
            }
        }
    }
}

/// Adds `t` to a low word (modulo 2¹²⁸ with its high part); the multiple of 2⁶⁴ left over,
/// if any.
#[inline]
fn add_to_word(word: &mut i64, t: i128) -> Option<i64> {
    // t = high·2⁶⁴ + low with low in i64's range (mod 2¹²⁸).
    let low = t as i64;
    let high = (t.wrapping_sub(low as i128) >> 64) as i64;
    let (sum, overflow) = word.overflowing_add(low);
    *word = sum;
    let c = high.wrapping_add(if overflow { low.signum() } else { 0 });
    (c != 0).then_some(c)
}

/// Pushes into room reserved before: no call to grow the vector, only a panic (which does
/// not return, so it costs the loop no saved registers) if the room was not reserved.
#[inline(always)]
fn push_reserved<T>(v: &mut Vec<T>, x: T) {
    let len = v.len();
    match v.spare_capacity_mut().first_mut() {
        Some(slot) => {
            slot.write(x);
            // SAFETY: the slot at `len` is within the capacity and was just initialised.
            #[allow(unsafe_code)]
            unsafe {
                v.set_len(len + 1)
            };
        }
        None => reserve_exceeded(),
    }
}

#[cold]
#[inline(never)]
fn reserve_exceeded() -> ! {
    panic!("Scatter: more terms added than reserved")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A xorshift64 stream of test values from `seed`.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// The fast wide conversion rounds exactly as the compiler's: on random values of every
    /// magnitude, on values one away from and exactly at rounding ties, and at the ends.
    #[test]
    fn wide_to_f64_rounds_as_the_cast_does() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut values = vec![i128::MIN, i128::MAX, i128::MIN + 1, 1 << 63, -(1 << 63), (1 << 64) - 1];
        for _ in 0..20_000 {
            let raw = ((next() as u128) << 64 | next() as u128) as i128;
            let bits = next() % 127;
            values.push(raw >> bits);
            // A 54-bit odd mantissa at some position: a tie, and its two neighbours.
            let m = ((next() >> 10) | 1) as i128 | (1 << 53);
            let at = m << (next() % 70);
            values.extend([at, at + 1, at - 1, -at, -at + 1]);
        }
        for w in values {
            if (w as i64) as i128 != w {
                assert_eq!(wide_to_f64(w).to_bits(), (w as f64).to_bits(), "{w}");
            }
        }
    }

    #[test]
    fn order_does_not_matter() {
        let xs: Vec<f64> = (0..1000).map(|i| ((i as f64) * 0.7123).sin() * 10f64.powi(i % 7 - 3)).collect();
        let forward = exact_sum(&xs);
        let mut rev = xs.clone();
        rev.reverse();
        assert_eq!(forward.to_bits(), exact_sum(&rev).to_bits());
        let (a, b) = xs.split_at(377);
        let mut s = a.iter().copied().collect::<ExactSum>();
        s.merge(&b.iter().copied().collect::<ExactSum>());
        assert_eq!(s.value().to_bits(), forward.to_bits());
        // The naive sums differ in the last bits for this series; the exact one is close to them.
        let naive: f64 = xs.iter().sum();
        assert!((naive - forward).abs() < 1e-12 * naive.abs().max(1.0));
    }

    #[test]
    fn exact_vectors_cancel_and_ignore_order() {
        let terms: Vec<[f64; 3]> = (0..200)
            .map(|k| {
                let x = (k as f64 * 0.731).sin() * 10f64.powi(k % 7 - 3);
                [x, -2.0 * x + 1e-9, 3.3 * x]
            })
            .collect();
        let mut a = ExactVectors::default();
        let mut b = ExactVectors::default();
        a.reset(3);
        b.reset(3);
        for t in &terms {
            a.add(0, *t);
            a.sub(1, *t);
        }
        for t in terms.iter().rev() {
            b.sub(1, *t);
            b.add(0, *t);
        }
        assert_eq!(a.value(0).map(f64::to_bits), b.value(0).map(f64::to_bits));
        for k in 0..3 {
            assert_eq!(a.value(0)[k], -a.value(1)[k]);
            assert_eq!(a.value(2)[k], 0.0);
        }
        assert!(!a.non_finite());
        a.add(2, [0.0, f64::NAN, 0.0]);
        assert!(a.non_finite() && a.value(0)[0].is_nan());
    }

    #[test]
    fn fixed_point_conversions_round_trip_and_round_once() {
        for x in [0.0, 1e-18, -3.25, 7.999, -8.5, 1e3, -2.5e19, 1.234e20] {
            let w = to_fixed(x);
            assert_eq!(to_fixed(-x), -w);
            assert_eq!(from_fixed(w).to_bits(), (w as f64 / SCALE).to_bits());
        }
        for w in [i64::MAX as i128, i64::MAX as i128 + 1, i64::MIN as i128, i64::MIN as i128 - 1, (1 << 70) + 12345] {
            assert_eq!(from_fixed(w).to_bits(), (w as f64 / SCALE).to_bits());
        }
    }

    /// Words of 64 bits with the carries aside hold the same integers as `i128` words
    /// given the same terms, in any order and any split between accumulators: terms of
    /// every size, sums that cross ±2⁶³ back and forth, wide terms, both ends of i128.
    #[test]
    fn carry_words_equal_wide_words_in_any_order() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        const LEN: usize = 7;
        let mut terms: Vec<(usize, f64)> = Vec::new();
        for n in 0..6000 {
            let k = (next() % LEN as u64) as usize;
            // Mostly terms near 8 (2⁶³ quanta), so that word sums cross i64's range often;
            // some tiny, some wide, some exactly at the boundary.
            let u = (next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let x = match n % 9 {
                0 => u * 1e-12,
                1 => u * 1e6,
                2 => {
                    if u < 0.0 {
                        -8.0
                    } else {
                        8.0
                    }
                }
                _ => u * 14.0,
            };
            terms.push((k, x));
        }
        let wide_sum = |order: &mut dyn Iterator<Item = &(usize, f64)>| {
            let mut w = [0i128; LEN];
            for &(k, x) in order {
                w[k] = w[k].wrapping_add(to_fixed(x));
            }
            w
        };
        let expected = wide_sum(&mut terms.iter());
        assert_eq!(expected, wide_sum(&mut terms.iter().rev()));
        // One accumulator, forwards.
        let mut one = CarryWords::default();
        one.reset(LEN);
        for &(k, x) in &terms {
            one.add(k, x);
        }
        assert!(one.carries.len() > 50, "the test should cross the 64-bit range often: {}", one.carries.len());
        one.settle();
        assert_eq!(std::array::from_fn::<i128, LEN, _>(|k| one.get(k)), expected);
        // Three accumulators over an interleaved split, backwards, added with `merge` and
        // with `add_low_words`.
        let mut parts = vec![CarryWords::default(); 3];
        for p in &mut parts {
            p.reset(LEN);
        }
        for (n, &(k, x)) in terms.iter().enumerate().rev() {
            parts[n % 3].add(k, x);
        }
        let mut merged = parts[0].clone();
        merged.merge(&parts[1]);
        merged.merge(&parts[2]);
        merged.settle();
        assert_eq!(std::array::from_fn::<i128, LEN, _>(|k| merged.get(k)), expected);
        let (first, rest) = parts.split_first_mut().unwrap();
        let mut carries = Vec::new();
        for other in rest.iter() {
            CarryWords::add_low_words(&mut first.low_words_mut()[2..], &other.low_words()[2..], 2, &mut carries);
            CarryWords::add_low_words(&mut first.low_words_mut()[..2], &other.low_words()[..2], 0, &mut carries);
            first.extend_carries(other.high_parts().collect::<Vec<_>>());
        }
        first.extend_carries(carries);
        first.settle();
        assert_eq!(std::array::from_fn::<i128, LEN, _>(|k| first.get(k)), expected);
        // Adding to a settled accumulator, as reverse sums do, and the ends of i128.
        let mut wide = expected;
        for (n, t) in [i128::MAX, 1, i128::MIN, -1, 5 << 100, -(5 << 100), 1 << 63, -(1 << 63)].into_iter().enumerate()
        {
            let k = n % LEN;
            wide[k] = wide[k].wrapping_add(t);
            first.add_settled(k, t);
        }
        first.set_settled(6, -12345);
        wide[6] = -12345;
        assert_eq!(std::array::from_fn::<i128, LEN, _>(|k| first.get(k)), wide);
    }

    /// `Scatter` holds the same integers as `i128` words given the same terms (the exact
    /// reference, independent of `CarryWords`, whose `add` is itself a one-term view): sums
    /// that cross ±2⁶³ (carries in reserved room), terms outside the narrow range and NaN
    /// (set aside until the view ends), tiny terms.
    #[test]
    fn scatter_equals_add() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        const LEN: usize = 9;
        let mut viewed = CarryWords::default();
        viewed.reset(LEN);
        let mut wide = [0i128; LEN];
        let edge = [8.0, -8.0, f64::from_bits(8f64.to_bits() - 1), 1e6, -3e-19, -1e30, f64::NAN];
        for round in 0..30 {
            let mut view = viewed.scatter();
            view.reserve(300);
            for n in 0..300 {
                let k = (next() % LEN as u64) as usize;
                let u = (next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let x = if n % 13 == 0 { edge[(round + n / 13) % edge.len()] } else { u * 14.0 };
                view.add(k, x);
                wide[k] = wide[k].wrapping_add((x * SCALE) as i128);
            }
        }
        assert!(viewed.carries.len() > 50, "the test should cross the 64-bit range often: {}", viewed.carries.len());
        assert!(viewed.wide.is_empty());
        viewed.settle();
        assert_eq!(std::array::from_fn::<i128, LEN, _>(|k| viewed.get(k)), wide);
    }

    #[test]
    #[should_panic(expected = "more terms added than reserved")]
    fn scatter_beyond_its_reserve_panics() {
        let mut words = CarryWords::default();
        words.reset(1);
        let mut view = words.scatter();
        view.add(0, 1e6);
    }

    /// The fast conversion is the plain cast `(x·2⁶⁰) as i128` everywhere: around ±8 (the
    /// end of the 64-bit path), at tiny and huge values, and for NaN and infinities.
    #[test]
    fn to_fixed_is_the_wide_cast() {
        let mut values = vec![0.0, -0.0, 1e-300, 1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, 1e30];
        for edge in [8.0f64, 4.0, 16.0] {
            let mut x = edge;
            let mut y = edge;
            for _ in 0..4 {
                x = f64::from_bits(x.to_bits() + 1);
                y = f64::from_bits(y.to_bits() - 1);
                values.extend([x, y]);
            }
            values.push(edge);
        }
        for x in values.clone() {
            values.push(-x);
        }
        for x in values {
            assert_eq!(to_fixed(x), (x * SCALE) as i128, "{x:e}");
            let mut words = CarryWords::default();
            words.reset(1);
            words.add(0, x);
            words.settle();
            assert_eq!(words.get(0), (x * SCALE) as i128, "{x:e}");
        }
    }

    #[test]
    fn nan_poisons() {
        let mut s = ExactSum::new();
        s.add(1.0);
        s.add(f64::NAN);
        assert!(s.value().is_nan());
    }
}
