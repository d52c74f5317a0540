//! The candidate test of a list build, eight candidates at a time without a branch on the
//! data.
//!
//! A build looks at every atom of the stencil's cells (about 280 per atom with cells of
//! radius/2 in a metal) and keeps those within the list radius (about a quarter) that pass
//! the list's rule (for a half list, the larger `AtomId`: half of them). Both outcomes are
//! coin tosses, so a test written with branches mispredicts about once every three
//! candidates, and a test written as flag arithmetic on one candidate at a time costs more
//! instructions than the mispredictions it saves (`docs/performance.md`). Here the
//! candidates are held as structure-of-arrays, padded so that a block of eight may read
//! past a run's end; a block's tests compile to vector compares and a bit mask, and the
//! kept candidates are written by a branch-free compaction of the mask.
//!
//! The distance is computed as the scalar builds always have, `(dx·dx + dy·dy) + dz·dz`
//! with `dx = x_j − x_i` and no fused multiply-add, so the same atoms are kept.

use calcine_core::{AtomId, Vec3};

/// Entries past the last candidate that a block may read.
pub(crate) const PAD: usize = 8;

/// Candidate atoms in structure-of-arrays form (local index, coordinates, id), in the
/// order the build visits them, followed by [`PAD`] entries no test accepts.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub atoms: Vec<u32>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub z: Vec<f64>,
    pub ids: Vec<u64>,
}

impl Candidates {
    /// The atoms `order` (local indices) with their positions and ids, padded.
    pub(crate) fn gather(order: &[u32], positions: &[Vec3], ids: &[AtomId]) -> Self {
        let n = order.len() + PAD;
        let mut c = Candidates {
            atoms: Vec::with_capacity(n),
            x: Vec::with_capacity(n),
            y: Vec::with_capacity(n),
            z: Vec::with_capacity(n),
            ids: Vec::with_capacity(n),
        };
        for &i in order {
            let p = positions[i as usize];
            c.atoms.push(i);
            c.x.push(p.x);
            c.y.push(p.y);
            c.z.push(p.z);
            c.ids.push(ids[i as usize].0);
        }
        // Padding: infinitely far away, so never within the radius.
        for _ in 0..PAD {
            c.atoms.push(u32::MAX);
            c.x.push(f64::INFINITY);
            c.y.push(f64::INFINITY);
            c.z.push(f64::INFINITY);
            c.ids.push(0);
        }
        c
    }

    /// Number of real candidates (without the padding).
    pub(crate) fn len(&self) -> usize {
        self.atoms.len() - PAD
    }
}

/// Which rule a list applies beyond the distance.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rule {
    /// Every atom but atom `i` itself (local index).
    Full { i: u32 },
    /// The half-list rule, for owned atom i of id `id`: the pair of owned atom i and atom j (owned or ghost) is kept in i's
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
    Half { id: u64 },
}

/// Appends to `out` the label of every candidate `lo..lo + n` of `c` that lies within
/// `sqrt(radius_sq)` of `xi` and passes `rule`, in candidate order. `label(k)` gives the
/// label of candidate `lo + k`; it is also called for some rejected candidates, whose
/// labels are overwritten or cut off.
#[inline(always)]
pub(crate) fn keep<T: Copy + Default>(
    c: &Candidates,
    lo: usize,
    n: usize,
    xi: &Vec3,
    radius_sq: f64,
    rule: Rule,
    label: impl Fn(usize) -> T,
    out: &mut Vec<T>,
) {
    debug_assert!(lo + n <= c.len());
    let base = out.len();
    out.resize(base + n.next_multiple_of(8), T::default());
    let dst = &mut out[base..];
    let mut len = 0;
    let mut k = 0;
    while k < n {
        let at = lo + k;
        let xs: &[f64; 8] = c.x[at..at + 8].try_into().expect("padded");
        let ys: &[f64; 8] = c.y[at..at + 8].try_into().expect("padded");
        let zs: &[f64; 8] = c.z[at..at + 8].try_into().expect("padded");
        let valid = if n - k >= 8 { 0xff } else { (1u32 << (n - k)) - 1 };
        let mut near = 0u32;
        for l in 0..8 {
            let (dx, dy, dz) = (xs[l] - xi.x, ys[l] - xi.y, zs[l] - xi.z);
            near |= ((dx * dx + dy * dy + dz * dz < radius_sq) as u32) << l;
        }
        let mut mask = near & valid;
        match rule {
            Rule::Full { i } => {
                let atoms: &[u32; 8] = c.atoms[at..at + 8].try_into().expect("padded");
                let mut other = 0u32;
                for l in 0..8 {
                    other |= ((atoms[l] != i) as u32) << l;
                }
                mask &= other;
            }
            Rule::Half { id } => {
                let ids: &[u64; 8] = c.ids[at..at + 8].try_into().expect("padded");
                let (mut larger, mut same) = (0u32, 0u32);
                for l in 0..8 {
                    larger |= ((ids[l] > id) as u32) << l;
                    same |= ((ids[l] == id) as u32) << l;
                }
                let mut images = mask & same;
                mask &= larger;
                // Images of atom i itself: rare, so this branch is always predicted.
                while images != 0 {
                    let l = images.trailing_zeros() as usize;
                    images &= images - 1;
                    let xj = Vec3::new(xs[l], ys[l], zs[l]);
                    mask |= (image_above(xi, &xj) as u32) << l;
                }
            }
        }
        for l in 0..8 {
            dst[len] = label(k + l);
            len += ((mask >> l) & 1) as usize;
        }
        k += 8;
    }
    out.truncate(base + len);
}

/// For two images of one atom: whether `xj` lies above `xi` (by z, then y, then x).
#[cold]
#[inline(never)]
pub(crate) fn image_above(xi: &Vec3, xj: &Vec3) -> bool {
    if xj.z != xi.z {
        return xj.z > xi.z;
    }
    if xj.y != xi.y {
        return xj.y > xi.y;
    }
    xj.x > xi.x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block test keeps exactly what the scalar rules keep, for every start and length
    /// (partial blocks, padding), with images (equal ids) and points on the sphere.
    #[test]
    fn blocks_keep_what_the_scalar_rules_keep() {
        let n = 61;
        let mut positions = Vec::new();
        let mut ids = Vec::new();
        for k in 0..n {
            let u = calcine_core::rng::uniform4(7, calcine_core::rng::Stream::Test, k as u64, 0);
            positions.push(Vec3::new(4.0 * u[0] - 2.0, 4.0 * u[1] - 2.0, 4.0 * u[2] - 2.0));
            // Ids 1..=20, so that many candidates share atom i's id (its "images").
            ids.push(AtomId(1 + (u[3] * 20.0) as u64));
        }
        // Exactly on the sphere (not kept: the test is strict), and atom i itself.
        positions[5] = Vec3::new(1.5, 0.0, 0.0);
        let order: Vec<u32> = (0..n as u32).collect();
        let c = Candidates::gather(&order, &positions, &ids);
        let radius_sq = 1.5 * 1.5;
        for i in [0usize, 5, 17, 40] {
            let xi = positions[i];
            for lo in [0, 1, 7, 8, 13] {
                for len in [0, 1, 7, 8, 9, 16, 23, n - lo] {
                    let len = len.min(n - lo);
                    for rule in [Rule::Full { i: i as u32 }, Rule::Half { id: ids[i].0 }] {
                        let mut got = Vec::new();
                        keep(&c, lo, len, &xi, radius_sq, rule, |k| (lo + k) as u32, &mut got);
                        let want: Vec<u32> = (lo..lo + len)
                            .filter(|&j| {
                                let d = positions[j] - xi;
                                let near = d.x * d.x + d.y * d.y + d.z * d.z < radius_sq;
                                near && match rule {
                                    Rule::Full { i } => j as u32 != i,
                                    Rule::Half { id } => {
                                        ids[j].0 > id || (ids[j].0 == id && image_above(&xi, &positions[j]))
                                    }
                                }
                            })
                            .map(|j| j as u32)
                            .collect();
                        assert_eq!(got, want, "i {i}, lo {lo}, len {len}, {rule:?}");
                        assert!(matches!(rule, Rule::Half { .. }) || !got.contains(&(i as u32)));
                    }
                }
            }
        }
    }
}
