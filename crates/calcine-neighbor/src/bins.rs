use calcine_core::Vec3;

/// Atoms sorted into a regular grid of cubic-ish cells covering their bounding box.
#[derive(Debug, Clone, Default)]
pub struct Bins {
    pub lo: Vec3,
    pub width: [f64; 3],
    pub inv_width: [f64; 3],
    pub n: [usize; 3],
    /// `start[b]..start[b+1]` indexes `atoms` for bin `b`.
    pub start: Vec<u32>,
    pub atoms: Vec<u32>,
}

impl Bins {
    /// Bins `positions` with cells about `target_width` wide (never more than ~4 cells per atom).
    pub fn build(positions: &[Vec3], target_width: f64) -> Bins {
        assert!(target_width > 0.0);
        let mut lo = Vec3::repeat(f64::INFINITY);
        let mut hi = Vec3::repeat(f64::NEG_INFINITY);
        for x in positions {
            lo = lo.inf(x);
            hi = hi.sup(x);
        }
        if positions.is_empty() {
            lo = Vec3::zeros();
            hi = Vec3::zeros();
        }
        let extent = hi - lo;
        let mut width = target_width;
        let max_bins = (4 * positions.len()).max(64) as f64;
        loop {
            let total: f64 = (0..3).map(|a| (extent[a] / width).floor().max(1.0)).product();
            if total <= max_bins {
                break;
            }
            width *= 1.26;
        }
        let mut n = [1usize; 3];
        let mut w = [width; 3];
        for a in 0..3 {
            n[a] = ((extent[a] / width).floor() as usize).max(1);
            // Widen the cells slightly so the farthest atom lands in the last cell.
            w[a] = (extent[a] / n[a] as f64).max(width) * (1.0 + 1e-12) + 1e-300;
        }
        let inv = [1.0 / w[0], 1.0 / w[1], 1.0 / w[2]];
        let total = n[0] * n[1] * n[2];
        let mut bins =
            Bins { lo, width: w, inv_width: inv, n, start: vec![0; total + 1], atoms: vec![0; positions.len()] };
        let cell: Vec<u32> = positions.iter().map(|x| bins.bin_of(x) as u32).collect();
        for &c in &cell {
            bins.start[c as usize + 1] += 1;
        }
        for b in 0..total {
            bins.start[b + 1] += bins.start[b];
        }
        let mut fill = bins.start.clone();
        for (i, &c) in cell.iter().enumerate() {
            bins.atoms[fill[c as usize] as usize] = i as u32;
            fill[c as usize] += 1;
        }
        bins
    }

    #[inline]
    pub fn coords_of(&self, x: &Vec3) -> [usize; 3] {
        let mut c = [0usize; 3];
        for a in 0..3 {
            let f = ((x[a] - self.lo[a]) * self.inv_width[a]).max(0.0) as usize;
            c[a] = f.min(self.n[a] - 1);
        }
        c
    }

    #[inline]
    pub fn index(&self, c: [usize; 3]) -> usize {
        (c[2] * self.n[1] + c[1]) * self.n[0] + c[0]
    }

    #[inline]
    pub fn bin_of(&self, x: &Vec3) -> usize {
        self.index(self.coords_of(x))
    }

    #[inline]
    pub fn atoms_in(&self, b: usize) -> &[u32] {
        &self.atoms[self.start[b] as usize..self.start[b + 1] as usize]
    }

    /// Offsets of the cells that can hold an atom within `radius` of some point in the
    /// central cell.
    pub fn stencil(&self, radius: f64) -> Vec<[i64; 3]> {
        let reach: Vec<i64> = (0..3).map(|a| (radius * self.inv_width[a]).ceil() as i64).collect();
        let mut out = Vec::new();
        for dz in -reach[2]..=reach[2] {
            for dy in -reach[1]..=reach[1] {
                for dx in -reach[0]..=reach[0] {
                    let d = [dx, dy, dz];
                    let mut min_sq = 0.0;
                    for a in 0..3 {
                        let gap = (d[a].abs() - 1).max(0) as f64 * self.width[a];
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
}

/// An ordering of `positions` by cell (z, then y, then x), for cache locality: new index `k`
/// takes old index `order[k]`. Atoms in one cell keep their relative order.
pub fn spatial_order(positions: &[Vec3], cell_width: f64) -> Vec<usize> {
    let bins = Bins::build(positions, cell_width);
    bins.atoms.iter().map(|&i| i as usize).collect()
}
