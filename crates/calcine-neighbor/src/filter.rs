//! The candidate test of a list build: which atoms of a stretch of cells belong in a row.
//!
//! A row's candidates are the atoms of the stencil's cells, about two and a half times as
//! many as its neighbors; each needs a distance test and, for a half list, the half rule.
//! Where the build targets AVX-512 (`-C target-cpu=native` on a processor that has it),
//! eight candidates are tested at once: coordinates and ids are read from the cells'
//! structure-of-arrays copies, the two tests give a lane mask, and the passing lanes'
//! entries (atom indices, or slot offsets narrowed to bytes) are compressed in a register
//! (`vpcompressd`; its memory form is microcoded on Zen 4) and written into the row with
//! one store. Where it targets AVX2 but not AVX-512 (Zen 3, Haswell to Alder Lake), four
//! candidates are tested at once and the passing lanes are moved to the front by a byte
//! shuffle from a table indexed by the four-bit mask (AVX2 has no compress; the last
//! one to three candidates of a span are read with masked loads). Elsewhere a scalar loop
//! does the same tests without a branch on their outcome. Each lane computes the squared
//! distance with the scalar loop's operations in the scalar loop's order (three
//! differences, three products, two sums left to right, no fused multiply-add), so both
//! give the same rows; a test checks this on every build that has both.

use crate::list::NeighborKind;

/// Candidate atoms of consecutive cells, in canonical order, as structure of arrays.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span<'a> {
    /// Atom index of each candidate.
    pub atoms: &'a [u32],
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub z: &'a [f64],
    /// `AtomId` of each candidate.
    pub ids: &'a [u64],
}

impl Span<'_> {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.atoms.len()
    }
}

/// What [`filter`] appends for each kept candidate.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values {
    /// Its atom index.
    Atoms,
    /// Its position in the span plus this offset.
    Positions(u32),
}

/// A row entry the filter writes: 32-bit atom indices (plain rows) or bytes (the slot
/// offsets of packed rows, which are below 256).
pub(crate) trait Entry: Copy + Default {
    /// Its size, for the vector store.
    #[cfg_attr(not(all(target_arch = "x86_64", target_feature = "avx2")), allow(dead_code))]
    const BYTES: usize;
    fn narrow(v: u32) -> Self;
}

impl Entry for u32 {
    const BYTES: usize = 4;
    #[inline(always)]
    fn narrow(v: u32) -> Self {
        v
    }
}

impl Entry for u8 {
    const BYTES: usize = 1;
    #[inline(always)]
    fn narrow(v: u32) -> Self {
        v as u8
    }
}

/// The atom whose row is being built.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Centre {
    pub x: [f64; 3],
    pub id: u64,
    pub atom: u32,
}

/// Appends to `keep` the atom indices (or positions, see [`Values`]) of the candidates of
/// `span` that belong in the row of `centre`: within `radius_sq`, not the atom itself
/// (full lists), and on its side of the half rule (half lists, below), in span order.
///
/// The half-list rule: the pair of owned atom i and atom j (owned or ghost) is kept in i's
/// row if j's `AtomId` is larger, or, for a periodic image of i itself, if the image lies
/// above i (by z, then y, then x). The other representation of the same pair (the row of
/// j's owner, with i's image as the neighbor) then fails the test, on whatever rank it is
/// built: each pair is held exactly once over all ranks, by the owner of its smaller id,
/// with the same two positions whatever the decomposition (owned positions, and ghost
/// positions that are owner positions plus whole box edges). For images of one atom the
/// shift is ±n·edges, and the (z, y, x) order of a restricted triclinic box's edges makes
/// exactly one of the two "above". LAMMPS's rule (keep every owned pair with j > i by
/// index and a ghost if it lies above) also holds each pair once, but which side holds it
/// depends on local indices and on which atoms are ghosts, so the float values of the
/// terms would depend on the decomposition.
#[inline]
pub(crate) fn filter<E: Entry>(
    span: Span<'_>,
    centre: &Centre,
    radius_sq: f64,
    kind: NeighborKind,
    values: Values,
    keep: &mut Vec<E>,
) {
    // SAFETY: this build targets AVX-512F and VL (the `cfg`), so the processor has them.
    #[cfg(all(target_arch = "x86_64", target_feature = "avx512f", target_feature = "avx512vl"))]
    #[allow(unsafe_code)]
    unsafe {
        avx512::filter(span, centre, radius_sq, kind, values, keep)
    };
    // SAFETY: this build targets AVX2 (the `cfg`), so the processor has it.
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        not(all(target_feature = "avx512f", target_feature = "avx512vl"))
    ))]
    #[allow(unsafe_code)]
    unsafe {
        avx2::filter(span, centre, radius_sq, kind, values, keep)
    };
    #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
    filter_scalar(span, centre, radius_sq, kind, values, keep);
}

/// [`filter`] one candidate at a time.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "avx2"), allow(dead_code))]
pub(crate) fn filter_scalar<E: Entry>(
    span: Span<'_>,
    c: &Centre,
    radius_sq: f64,
    kind: NeighborKind,
    values: Values,
    keep: &mut Vec<E>,
) {
    let first = keep.len();
    keep.resize(first + span.len(), E::default());
    let mut n = first;
    for k in 0..span.len() {
        let (dx, dy, dz) = (span.x[k] - c.x[0], span.y[k] - c.x[1], span.z[k] - c.x[2]);
        keep[n] = E::narrow(match values {
            Values::Atoms => span.atoms[k],
            Values::Positions(offset) => offset + k as u32,
        });
        let inside = dx * dx + dy * dy + dz * dz < radius_sq;
        n += usize::from(match kind {
            NeighborKind::Full => inside & (span.atoms[k] != c.atom),
            // The rule's outcome is a coin toss to a branch predictor: no branch on it.
            NeighborKind::Half => inside & in_half_row(c.id, c.x, span.ids[k], [span.x[k], span.y[k], span.z[k]]),
        });
    }
    keep.truncate(n);
}

/// Whether point `a` lies above point `b`: by z, then y, then x.
#[inline]
fn lies_above(a: [f64; 3], b: [f64; 3]) -> bool {
    if a[2] != b[2] {
        return a[2] > b[2];
    }
    if a[1] != b[1] {
        return a[1] > b[1];
    }
    a[0] > b[0]
}

/// The half-list rule (as `filter` applies it) for one pair: whether the pair of atom i (`AtomId`
/// `id_i` at `xi`) and atom j belongs in i's row. For kernels that evaluate each pair of a
/// full list once, in the row a half list would hold it in.
#[inline]
pub fn in_half_row(id_i: u64, xi: [f64; 3], id_j: u64, xj: [f64; 3]) -> bool {
    (id_j > id_i) | ((id_j == id_i) && lies_above(xj, xi))
}

#[cfg(all(target_arch = "x86_64", target_feature = "avx512f", target_feature = "avx512vl"))]
#[allow(unsafe_code)]
mod avx512 {
    use super::{lies_above, Centre, Entry, NeighborKind, Span, Values};
    use std::arch::x86_64::*;

    /// [`super::filter`], eight candidates at a time.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vl")]
    pub(crate) fn filter<E: Entry>(
        span: Span<'_>,
        c: &Centre,
        radius_sq: f64,
        kind: NeighborKind,
        values: Values,
        keep: &mut Vec<E>,
    ) {
        let len = span.len();
        let first = keep.len();
        // Every step stores eight entries into the spare capacity, not zeroed first (a
        // span is a handful of candidates, so filling it would cost as much as the test).
        keep.reserve(len + 8);
        let spare = keep.spare_capacity_mut();
        let mut n = 0;
        let (cx, cy, cz) = (_mm512_set1_pd(c.x[0]), _mm512_set1_pd(c.x[1]), _mm512_set1_pd(c.x[2]));
        let r2 = _mm512_set1_pd(radius_sq);
        let id = _mm512_set1_epi64(c.id as i64);
        let atom = _mm256_set1_epi32(c.atom as i32);
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let mut k = 0;
        while k < len {
            let m: __mmask8 = if len - k >= 8 { 0xff } else { (1u8 << (len - k)) - 1 };
            // SAFETY: the masked loads touch only the lanes set in `m`, which lie within
            // the slices (`k + lane < len`, and every slice of a span has `len` entries).
            let (x, y, z) = unsafe {
                (
                    _mm512_maskz_loadu_pd(m, span.x.as_ptr().add(k)),
                    _mm512_maskz_loadu_pd(m, span.y.as_ptr().add(k)),
                    _mm512_maskz_loadu_pd(m, span.z.as_ptr().add(k)),
                )
            };
            let (dx, dy, dz) = (_mm512_sub_pd(x, cx), _mm512_sub_pd(y, cy), _mm512_sub_pd(z, cz));
            let rsq = _mm512_add_pd(_mm512_add_pd(_mm512_mul_pd(dx, dx), _mm512_mul_pd(dy, dy)), _mm512_mul_pd(dz, dz));
            let inside = _mm512_mask_cmp_pd_mask::<_CMP_LT_OQ>(m, rsq, r2);
            // SAFETY: as above.
            let atoms = unsafe { _mm256_maskz_loadu_epi32(m, span.atoms.as_ptr().add(k) as *const i32) };
            let pass = match kind {
                NeighborKind::Full => _mm256_mask_cmpneq_epi32_mask(inside, atoms, atom),
                NeighborKind::Half => {
                    // SAFETY: as above.
                    let ids = unsafe { _mm512_maskz_loadu_epi64(m, span.ids.as_ptr().add(k) as *const i64) };
                    let mut pass = _mm512_mask_cmpgt_epu64_mask(inside, ids, id);
                    let mut same = _mm512_mask_cmpeq_epu64_mask(inside, ids, id);
                    // Images of the atom itself (and the atom): rare, decided one by one.
                    while same != 0 {
                        let t = same.trailing_zeros() as usize;
                        same &= same - 1;
                        let j = k + t;
                        pass |= u8::from(lies_above([span.x[j], span.y[j], span.z[j]], c.x)) << t;
                    }
                    pass
                }
            };
            let v = match values {
                Values::Atoms => atoms,
                Values::Positions(offset) => _mm256_add_epi32(lanes, _mm256_set1_epi32((offset as usize + k) as i32)),
            };
            let kept = _mm256_maskz_compress_epi32(pass, v);
            let out = &mut spare[n..n + 8];
            if E::BYTES == 4 {
                // SAFETY: `out` holds eight 4-byte entries, the 32 bytes written (unaligned).
                unsafe { _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, kept) };
            } else {
                debug_assert_eq!(E::BYTES, 1);
                // SAFETY: `out` holds eight 1-byte entries, the 8 bytes written (unaligned):
                // each lane truncated to its low byte, as `E::narrow` does.
                unsafe { _mm_storel_epi64(out.as_mut_ptr() as *mut __m128i, _mm256_cvtepi32_epi8(kept)) };
            }
            n += pass.count_ones() as usize;
            k += 8;
        }
        // SAFETY: the stores above wrote the spare entries before `n` (each wrote eight
        // from the `n` of its step, which then grew by at most eight).
        unsafe { keep.set_len(first + n) };
    }
}

#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    not(all(target_feature = "avx512f", target_feature = "avx512vl"))
))]
#[allow(unsafe_code)]
mod avx2 {
    use super::{lies_above, Centre, Entry, NeighborKind, Span, Values};
    use std::arch::x86_64::*;

    /// For each four-bit lane mask, the `pshufb` control that moves the set lanes' low
    /// `width` bytes to the front, in lane order (0x80: a zero byte).
    const fn compress_table(width: usize) -> [[u8; 16]; 16] {
        let mut table = [[0x80u8; 16]; 16];
        let mut mask = 0;
        while mask < 16 {
            let (mut out, mut lane) = (0, 0);
            while lane < 4 {
                if (mask >> lane) & 1 == 1 {
                    let mut b = 0;
                    while b < width {
                        table[mask][out * width + b] = (lane * 4 + b) as u8;
                        b += 1;
                    }
                    out += 1;
                }
                lane += 1;
            }
            mask += 1;
        }
        table
    }
    static WORDS: [[u8; 16]; 16] = compress_table(4);
    static BYTES: [[u8; 16]; 16] = compress_table(1);

    /// [`super::filter`], four candidates at a time.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn filter<E: Entry>(
        span: Span<'_>,
        c: &Centre,
        radius_sq: f64,
        kind: NeighborKind,
        values: Values,
        keep: &mut Vec<E>,
    ) {
        let len = span.len();
        let first = keep.len();
        // Every step stores four entries into the spare capacity, not zeroed first (as
        // the AVX-512 filter does).
        keep.reserve(len + 4);
        let spare = keep.spare_capacity_mut();
        let mut n = 0;
        let (cx, cy, cz) = (_mm256_set1_pd(c.x[0]), _mm256_set1_pd(c.x[1]), _mm256_set1_pd(c.x[2]));
        let r2 = _mm256_set1_pd(radius_sq);
        // AVX2 compares 64-bit integers as signed: flipping the sign bit of both sides
        // makes that the unsigned order of the ids.
        let sign = _mm256_set1_epi64x(i64::MIN);
        let id = _mm256_xor_si256(_mm256_set1_epi64x(c.id as i64), sign);
        let atom = _mm_set1_epi32(c.atom as i32);
        let lanes = _mm_setr_epi32(0, 1, 2, 3);
        let mut k = 0;
        while k < len {
            // The last one to three candidates: masked loads, the other lanes read as zeros
            // and cleared from the result.
            let valid = if len - k >= 4 { 0b1111 } else { (1 << (len - k)) - 1 };
            let load = _mm256_cmpgt_epi64(_mm256_set1_epi64x((len - k) as i64), _mm256_setr_epi64x(0, 1, 2, 3));
            // SAFETY: full loads only when k + 4 ≤ len (every slice of a span has `len`
            // entries); masked loads touch only the lanes below len − k.
            let (x, y, z, atoms, ids) = unsafe {
                let ids = span.ids.as_ptr().add(k) as *const i64;
                if valid == 0b1111 {
                    (
                        _mm256_loadu_pd(span.x.as_ptr().add(k)),
                        _mm256_loadu_pd(span.y.as_ptr().add(k)),
                        _mm256_loadu_pd(span.z.as_ptr().add(k)),
                        _mm_loadu_si128(span.atoms.as_ptr().add(k) as *const __m128i),
                        _mm256_loadu_si256(ids as *const __m256i),
                    )
                } else {
                    (
                        _mm256_maskload_pd(span.x.as_ptr().add(k), load),
                        _mm256_maskload_pd(span.y.as_ptr().add(k), load),
                        _mm256_maskload_pd(span.z.as_ptr().add(k), load),
                        _mm_maskload_epi32(
                            span.atoms.as_ptr().add(k) as *const i32,
                            _mm_cmpgt_epi32(_mm_set1_epi32((len - k) as i32), lanes),
                        ),
                        _mm256_maskload_epi64(ids, load),
                    )
                }
            };
            let (dx, dy, dz) = (_mm256_sub_pd(x, cx), _mm256_sub_pd(y, cy), _mm256_sub_pd(z, cz));
            let rsq = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(dx, dx), _mm256_mul_pd(dy, dy)), _mm256_mul_pd(dz, dz));
            let inside = valid & _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(rsq, r2)) as usize;
            let pass = match kind {
                NeighborKind::Full => {
                    inside & !(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(atoms, atom))) as usize)
                }
                NeighborKind::Half => {
                    let ids = _mm256_xor_si256(ids, sign);
                    let above = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(ids, id))) as usize;
                    let equal = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(ids, id))) as usize;
                    let mut pass = inside & above;
                    let mut same = inside & equal;
                    // Images of the atom itself (and the atom): rare, decided one by one.
                    while same != 0 {
                        let t = same.trailing_zeros() as usize;
                        same &= same - 1;
                        let j = k + t;
                        pass |= usize::from(lies_above([span.x[j], span.y[j], span.z[j]], c.x)) << t;
                    }
                    pass
                }
            };
            let v = match values {
                Values::Atoms => atoms,
                Values::Positions(offset) => _mm_add_epi32(lanes, _mm_set1_epi32((offset as usize + k) as i32)),
            };
            let out = &mut spare[n..n + 4];
            if E::BYTES == 4 {
                // SAFETY: the table row is 16 bytes; `out` holds four 4-byte entries, the
                // 16 bytes written (unaligned).
                unsafe {
                    let control = _mm_loadu_si128(WORDS[pass].as_ptr() as *const __m128i);
                    _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, _mm_shuffle_epi8(v, control));
                }
            } else {
                debug_assert_eq!(E::BYTES, 1);
                // SAFETY: as above; `out` holds four 1-byte entries, the 4 bytes written
                // (unaligned): each lane's low byte, as `E::narrow` keeps.
                unsafe {
                    let control = _mm_loadu_si128(BYTES[pass].as_ptr() as *const __m128i);
                    let word = _mm_cvtsi128_si32(_mm_shuffle_epi8(v, control));
                    std::ptr::write_unaligned(out.as_mut_ptr() as *mut i32, word);
                }
            }
            n += pass.count_ones() as usize;
            k += 4;
        }
        // SAFETY: the stores above wrote the spare entries before `n` (each wrote four
        // from the `n` of its step, which then grew by at most four).
        unsafe { keep.set_len(first + n) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spans of random points around a centre, some of them images of the centre (equal
    /// ids) at equal coordinates along one or two axes, of every length up to 40: the
    /// dispatched filter (AVX-512 or AVX2 where built for it) keeps exactly what the scalar
    /// one does.
    #[test]
    fn filter_equals_scalar_filter() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for len in 0..40usize {
            for round in 0..20 {
                // Odd rounds: ids around 2⁶³, where a signed comparison would misorder them.
                let id = if round % 2 == 1 { (1u64 << 63) + 1 } else { 50 };
                let c = Centre { x: [1.5, -0.25, 3.0], id, atom: 7 };
                let (mut x, mut y, mut z, mut ids, mut atoms) = (vec![], vec![], vec![], vec![], vec![]);
                for k in 0..len {
                    let r = next();
                    let coord = |shift: u32, centre: f64| {
                        // A quarter of the coordinates equal the centre's.
                        if (r >> shift) & 3 == 0 {
                            centre
                        } else {
                            centre + ((r >> (shift + 2)) % 2001) as f64 / 1000.0 - 1.0
                        }
                    };
                    x.push(coord(0, c.x[0]));
                    y.push(coord(16, c.x[1]));
                    z.push(coord(32, c.x[2]));
                    // Ids around the centre's, often equal (images); atom indices likewise.
                    ids.push(c.id - 2 + (r >> 48) % 5);
                    atoms.push(if (r >> 56) % 4 == 0 { c.atom } else { (k + round) as u32 });
                }
                let span = Span { atoms: &atoms, x: &x, y: &y, z: &z, ids: &ids };
                for kind in [NeighborKind::Full, NeighborKind::Half] {
                    for radius_sq in [0.0, 0.3, 1.0, 4.0] {
                        let (mut a, mut b) = (vec![9u32], vec![9u32]);
                        filter(span, &c, radius_sq, kind, Values::Positions(0), &mut a);
                        filter_scalar(span, &c, radius_sq, kind, Values::Positions(0), &mut b);
                        assert_eq!(a, b, "len {len} round {round} {kind:?} r² {radius_sq}");
                        let (mut atoms_a, mut atoms_b): (Vec<u32>, Vec<u32>) = (vec![], vec![]);
                        filter(span, &c, radius_sq, kind, Values::Atoms, &mut atoms_a);
                        filter_scalar(span, &c, radius_sq, kind, Values::Atoms, &mut atoms_b);
                        assert_eq!(atoms_a, atoms_b);
                        assert_eq!(atoms_a, a[1..].iter().map(|&k| atoms[k as usize]).collect::<Vec<_>>());
                        let mut shifted: Vec<u32> = vec![];
                        filter(span, &c, radius_sq, kind, Values::Positions(100), &mut shifted);
                        assert_eq!(shifted, a[1..].iter().map(|&k| k + 100).collect::<Vec<_>>());
                        let (mut bytes, mut bytes_scalar) = (vec![7u8], vec![7u8]);
                        filter(span, &c, radius_sq, kind, Values::Positions(200), &mut bytes);
                        filter_scalar(span, &c, radius_sq, kind, Values::Positions(200), &mut bytes_scalar);
                        assert_eq!(bytes, bytes_scalar);
                        assert_eq!(bytes[1..], shifted.iter().map(|&k| (k + 100) as u8).collect::<Vec<_>>());
                        let expected: Vec<u32> = std::iter::once(9)
                            .chain(
                                (0..len)
                                    .filter(|&k| {
                                        let d = [x[k] - c.x[0], y[k] - c.x[1], z[k] - c.x[2]];
                                        let inside = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < radius_sq;
                                        inside
                                            && match kind {
                                                NeighborKind::Full => atoms[k] != c.atom,
                                                NeighborKind::Half => {
                                                    ids[k] > c.id
                                                        || (ids[k] == c.id
                                                            && (z[k], y[k], x[k])
                                                                .partial_cmp(&(c.x[2], c.x[1], c.x[0]))
                                                                == Some(std::cmp::Ordering::Greater))
                                                }
                                            }
                                    })
                                    .map(|k| k as u32),
                            )
                            .collect();
                        assert_eq!(a, expected, "len {len} round {round} {kind:?} r² {radius_sq}");
                    }
                }
            }
        }
    }
}
