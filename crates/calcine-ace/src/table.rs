//! Radial lookup tables with ML-PACE's cubic Hermite interpolation (`SplineInterpolator`):
//! for a cutoff r_c and bin width Δ, n_lut = ⌊r_c/Δ⌋ segments of width h = 1/(n_lut/r_c)
//! with nodes r_n = n·h; segment n holds c0 = f_n, c1 = h·f'_n,
//! c2 = 3(f_{n+1} − f_n) − h·f'_{n+1} − 2h·f'_n, c3 = −2(f_{n+1} − f_n) + h·f'_{n+1} + h·f'_n,
//! with f and f' zero at r_{n_lut+1}. A distance r is looked up at x = r·n_lut/r_c in
//! segment ⌊x⌋ with w = x − ⌊x⌋: f = c0 + c1·w + c2·w² + c3·w³ and
//! f' = (c1 + 2c2·w + 3c3·w²)·n_lut/r_c. Segment 0 (r < h) is refused and segments from
//! n_lut on give zero, as in ML-PACE.

/// Several functions of r tabulated on one grid; the coefficients of all functions of a
/// segment are contiguous (c0 of every function, then c1, c2, c3), so one lookup touches
/// one stretch of memory and evaluates all functions in SIMD lanes.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    n_functions: usize,
    n_lut: usize,
    /// n_lut / r_c.
    scale: f64,
    /// coefficients[(segment·4 + c)·n_functions + function].
    coefficients: Vec<f64>,
}

/// A table lookup that fell into the first segment, where ML-PACE stops ("Encountered
/// very small distance").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TooClose;

impl Table {
    /// Tabulates `n_functions` functions: `eval(r, values, derivatives)` fills both slices.
    pub fn new(n_functions: usize, cutoff: f64, bin: f64, mut eval: impl FnMut(f64, &mut [f64], &mut [f64])) -> Self {
        let n_lut = (cutoff / bin) as usize;
        let scale = n_lut as f64 / cutoff;
        let inv_scale = 1.0 / scale;
        let mut coefficients = vec![0.0; (n_lut + 1) * n_functions * 4];
        let mut values = vec![0.0; n_functions];
        let mut derivatives = vec![0.0; n_functions];
        // The right end of the segment being built: zero beyond the last node.
        let mut f1 = vec![0.0; n_functions];
        let mut f1d1 = vec![0.0; n_functions];
        for n in (1..=n_lut).rev() {
            let r = inv_scale * n as f64;
            eval(r, &mut values, &mut derivatives);
            let segment = &mut coefficients[n * 4 * n_functions..(n + 1) * 4 * n_functions];
            for k in 0..n_functions {
                let f0 = values[k];
                let f0d1 = derivatives[k] * inv_scale;
                segment[k] = f0;
                segment[n_functions + k] = f0d1;
                segment[2 * n_functions + k] = 3.0 * (f1[k] - f0) - f1d1[k] - 2.0 * f0d1;
                segment[3 * n_functions + k] = -2.0 * (f1[k] - f0) + f1d1[k] + f0d1;
                f1[k] = f0;
                f1d1[k] = f0d1;
            }
        }
        Self { n_functions, n_lut, scale, coefficients }
    }

    /// The memory the coefficients take.
    pub fn memory_bytes(&self) -> usize {
        self.coefficients.len() * std::mem::size_of::<f64>()
    }

    /// The smallest distance the table accepts (one bin).
    pub fn min_distance(&self) -> f64 {
        1.0 / self.scale
    }

    /// Where r falls: the segment's coefficients and w, or `None` beyond the table.
    #[inline]
    pub fn locate(&self, r: f64) -> Result<Option<(&[f64], f64)>, TooClose> {
        let x = r * self.scale;
        let floor = x.floor();
        if !(floor > 0.0) {
            return Err(TooClose);
        }
        if floor >= self.n_lut as f64 {
            return Ok(None);
        }
        let n = floor as usize;
        Ok(Some((&self.coefficients[n * self.n_functions * 4..(n + 1) * self.n_functions * 4], x - floor)))
    }

    /// Values and derivatives of all functions at r.
    #[inline]
    pub fn eval(&self, r: f64, values: &mut [f64], derivatives: &mut [f64]) -> Result<(), TooClose> {
        match self.locate(r)? {
            None => {
                values[..self.n_functions].fill(0.0);
                derivatives[..self.n_functions].fill(0.0);
            }
            Some((c, w)) => {
                let w2 = w * w;
                let w3 = w2 * w;
                let two_w = 2.0 * w;
                let three_w2 = 3.0 * w2;
                let n = self.n_functions;
                let (c0, rest) = c.split_at(n);
                let (c1, rest) = rest.split_at(n);
                let (c2, c3) = rest.split_at(n);
                for (k, (v, d)) in values[..n].iter_mut().zip(&mut derivatives[..n]).enumerate() {
                    *v = c0[k] + c1[k] * w + c2[k] * w2 + c3[k] * w3;
                    *d = (c1[k] + c2[k] * two_w + c3[k] * three_w2) * self.scale;
                }
            }
        }
        Ok(())
    }

    /// [`Table::eval`] into lane `lane` of structure-of-arrays buffers (function k's value
    /// in `values[k][lane]`), with the same operations and bits.
    #[inline]
    pub fn eval_lane<const N: usize>(
        &self,
        r: f64,
        lane: usize,
        values: &mut [[f64; N]],
        derivatives: &mut [[f64; N]],
    ) -> Result<(), TooClose> {
        let n = self.n_functions;
        let (values, derivatives) = (&mut values[..n], &mut derivatives[..n]);
        match self.locate(r)? {
            None => {
                for (v, d) in values.iter_mut().zip(derivatives.iter_mut()) {
                    v[lane] = 0.0;
                    d[lane] = 0.0;
                }
            }
            Some((c, w)) => {
                let w2 = w * w;
                let w3 = w2 * w;
                let two_w = 2.0 * w;
                let three_w2 = 3.0 * w2;
                let (c0, rest) = c.split_at(n);
                let (c1, rest) = rest.split_at(n);
                let (c2, c3) = rest.split_at(n);
                for k in 0..n {
                    values[k][lane] = c0[k] + c1[k] * w + c2[k] * w2 + c3[k] * w3;
                    derivatives[k][lane] = (c1[k] + c2[k] * two_w + c3[k] * three_w2) * self.scale;
                }
            }
        }
        Ok(())
    }
}
