use crate::filter::Span;
use calcine_core::{AtomId, Vec3};

/// Atoms sorted into cubic cells of a grid anchored at the origin of space.
///
/// Cell `(a, b, c)` holds the points with `floor(x / width) = a` and so on, whatever rank
/// builds it: with a width that is the same everywhere, a point falls into the same cell
/// on every rank. Only the cells spanned by the given points are stored. Within a cell,
/// atoms are ordered by `AtomId`, then by position (two images of one atom can share a
/// cell in a box thinner than a cell), so the contents of a cell are listed in the same
/// order on any decomposition.
#[derive(Debug, Clone, Default)]
pub struct Bins {
    pub width: f64,
    inv_width: f64,
    /// Global index of the first stored cell along each axis.
    pub first: [i64; 3],
    pub n: [usize; 3],
    /// `start[b]..start[b+1]` indexes `atoms` and `xs` for cell `b`.
    pub start: Vec<u32>,
    pub atoms: Vec<u32>,
    /// Coordinates and `AtomId`s of `atoms`, in cell order, for contiguous reads.
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub z: Vec<f64>,
    pub ids: Vec<u64>,
}

impl Bins {
    /// Bins `positions` into cells of exactly `width`; `None` when the points span so many
    /// cells that the grid would take much more memory than the points.
    pub fn build(positions: &[Vec3], ids: &[AtomId], width: f64) -> Option<Bins> {
        Self::build_padded(positions, ids, width, 0)
    }

    /// The same, with `pad` empty cells added on every side of the grid, so that a stencil
    /// of that reach around any binned point stays inside the grid.
    pub fn build_padded(positions: &[Vec3], ids: &[AtomId], width: f64, pad: usize) -> Option<Bins> {
        assert!(width > 0.0);
        assert_eq!(positions.len(), ids.len());
        let inv_width = 1.0 / width;
        let mut lo = [i64::MAX; 3];
        let mut hi = [i64::MIN; 3];
        for x in positions {
            for a in 0..3 {
                let c = (x[a] * inv_width).floor() as i64;
                lo[a] = lo[a].min(c);
                hi[a] = hi[a].max(c);
            }
        }
        if positions.is_empty() {
            lo = [0; 3];
            hi = [0; 3];
        }
        let pad = pad as i64;
        lo = lo.map(|c| c - pad);
        hi = hi.map(|c| c + pad);
        let n: [usize; 3] = std::array::from_fn(|a| (hi[a] - lo[a] + 1) as usize);
        let total = n[0].checked_mul(n[1])?.checked_mul(n[2])?;
        let padding = (0..3).map(|a| 2 * pad as usize * n[(a + 1) % 3] * n[(a + 2) % 3]).sum::<usize>();
        if total > 8 * positions.len() + 4096 + padding {
            return None;
        }
        let mut bins = Bins { width, inv_width, first: lo, n, start: vec![0; total + 1], ..Default::default() };
        let cell: Vec<u32> = positions.iter().map(|x| bins.index(bins.coords_of(x)) as u32).collect();
        for &c in &cell {
            bins.start[c as usize + 1] += 1;
        }
        for b in 0..total {
            bins.start[b + 1] += bins.start[b];
        }
        let mut fill = bins.start.clone();
        bins.atoms = vec![0; positions.len()];
        for (i, &c) in cell.iter().enumerate() {
            bins.atoms[fill[c as usize] as usize] = i as u32;
            fill[c as usize] += 1;
        }
        for b in 0..total {
            let cell_atoms = &mut bins.atoms[bins.start[b] as usize..bins.start[b + 1] as usize];
            if cell_atoms.len() > 1 {
                cell_atoms.sort_unstable_by(|&p, &q| canonical_cmp(ids, positions, p as usize, q as usize));
            }
        }
        bins.x = bins.atoms.iter().map(|&i| positions[i as usize].x).collect();
        bins.y = bins.atoms.iter().map(|&i| positions[i as usize].y).collect();
        bins.z = bins.atoms.iter().map(|&i| positions[i as usize].z).collect();
        bins.ids = bins.atoms.iter().map(|&i| ids[i as usize].0).collect();
        Some(bins)
    }

    /// The atoms of slots `lo..hi` (consecutive cells).
    #[inline]
    pub(crate) fn span(&self, lo: usize, hi: usize) -> Span<'_> {
        Span {
            atoms: &self.atoms[lo..hi],
            x: &self.x[lo..hi],
            y: &self.y[lo..hi],
            z: &self.z[lo..hi],
            ids: &self.ids[lo..hi],
        }
    }

    /// Local cell coordinates of a point (which must lie within the binned points' cells).
    #[inline]
    pub fn coords_of(&self, x: &Vec3) -> [usize; 3] {
        std::array::from_fn(|a| ((x[a] * self.inv_width).floor() as i64 - self.first[a]) as usize)
    }

    /// Where a point sits inside its cell, in cell widths along each axis: x/width less
    /// its floor, in [0, 1) (the cell is the floor, as [`Bins::coords_of`] takes it).
    #[inline]
    pub fn fraction_in_cell(&self, x: &Vec3) -> [f64; 3] {
        std::array::from_fn(|a| {
            let u = x[a] * self.inv_width;
            u - u.floor()
        })
    }

    #[inline]
    pub fn index(&self, c: [usize; 3]) -> usize {
        (c[2] * self.n[1] + c[1]) * self.n[0] + c[0]
    }

    /// Offsets of the cells that can hold a point within `radius` of some point of the
    /// central cell, in a fixed order (z, then y, then x).
    pub fn stencil(&self, radius: f64) -> Vec<[i64; 3]> {
        stencil(self.width, radius)
    }
}

/// The cell offsets within `radius` for cells of `width`, in z, y, x order.
pub fn stencil(width: f64, radius: f64) -> Vec<[i64; 3]> {
    let reach = (radius / width).ceil() as i64;
    let mut out = Vec::new();
    for dz in -reach..=reach {
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let d = [dx, dy, dz];
                let mut min_sq = 0.0;
                for a in 0..3 {
                    let gap = (d[a].abs() - 1).max(0) as f64 * width;
                    min_sq += gap * gap;
                }
                if min_sq < radius * radius {
                    out.push(d);
                }
            }
        }
    }
    out
}

/// Order of two atoms within a cell: by id, then by position.
#[inline]
pub(crate) fn canonical_cmp(ids: &[AtomId], positions: &[Vec3], p: usize, q: usize) -> std::cmp::Ordering {
    ids[p].cmp(&ids[q]).then_with(|| {
        let (a, b) = (positions[p], positions[q]);
        a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)).then(a.z.total_cmp(&b.z))
    })
}

/// An ordering of `positions` by cell, for cache locality: new index `k` takes old index
/// `order[k]`. Atoms in one cell keep their relative order.
pub fn spatial_order(positions: &[Vec3], cell_width: f64) -> Vec<usize> {
    let mut width = cell_width;
    let ids: Vec<AtomId> = (0..positions.len()).map(|i| AtomId(i as u64)).collect();
    loop {
        if let Some(bins) = Bins::build(positions, &ids, width) {
            return bins.atoms.iter().map(|&i| i as usize).collect();
        }
        width *= 2.0;
    }
}
