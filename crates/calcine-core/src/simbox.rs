//! The periodic simulation box, orthogonal or triclinic, in LAMMPS's convention.

use crate::Vec3;

/// Why a box could not be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BoxError {
    #[error("box length along {axis} is {length}, it must be positive and finite")]
    NonPositiveLength { axis: char, length: f64 },
    #[error("tilt factor {name} = {value} is not finite")]
    BadTilt { name: &'static str, value: f64 },
}

/// A parallelepiped box in the LAMMPS restricted-triclinic form.
///
/// The edge vectors are `a = (lx, 0, 0)`, `b = (xy, ly, 0)`, `c = (xz, yz, lz)` and the box
/// starts at `lo`. Fractional ("lamda") coordinates `s` satisfy `x = lo + H s` with
/// `H = [a b c]`. Each axis is periodic or not on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct SimBox {
    lo: Vec3,
    lengths: [f64; 3],
    /// Tilt factors xy, xz, yz.
    tilt: [f64; 3],
    periodic: [bool; 3],
    /// H⁻¹ in LAMMPS order: (0,0) (1,1) (2,2) (1,2) (0,2) (0,1).
    h_inv: [f64; 6],
}

impl SimBox {
    /// An orthogonal box from `lo` to `hi`.
    pub fn orthogonal(lo: Vec3, hi: Vec3, periodic: [bool; 3]) -> Result<Self, BoxError> {
        Self::triclinic(lo, [hi.x - lo.x, hi.y - lo.y, hi.z - lo.z], [0.0; 3], periodic)
    }

    /// A cubic periodic box `[0, l)³`.
    pub fn cubic(l: f64) -> Result<Self, BoxError> {
        Self::orthogonal(Vec3::zeros(), Vec3::new(l, l, l), [true; 3])
    }

    /// A triclinic box with edge lengths `lx ly lz` and tilts `xy xz yz`.
    pub fn triclinic(lo: Vec3, lengths: [f64; 3], tilt: [f64; 3], periodic: [bool; 3]) -> Result<Self, BoxError> {
        for (axis, &length) in ['x', 'y', 'z'].iter().zip(&lengths) {
            if !(length > 0.0 && length.is_finite()) {
                return Err(BoxError::NonPositiveLength { axis: *axis, length });
            }
        }
        for (name, &value) in ["xy", "xz", "yz"].iter().zip(&tilt) {
            if !value.is_finite() {
                return Err(BoxError::BadTilt { name, value });
            }
        }
        let [lx, ly, lz] = lengths;
        let [xy, xz, yz] = tilt;
        let h_inv =
            [1.0 / lx, 1.0 / ly, 1.0 / lz, -yz / (ly * lz), (yz * xy - ly * xz) / (lx * ly * lz), -xy / (lx * ly)];
        Ok(Self { lo, lengths, tilt, periodic, h_inv })
    }

    pub fn lo(&self) -> Vec3 {
        self.lo
    }
    /// The upper corner of the orthogonal bounding parallelepiped's reference box (`lo + (lx, ly, lz)`).
    pub fn hi(&self) -> Vec3 {
        self.lo + Vec3::new(self.lengths[0], self.lengths[1], self.lengths[2])
    }
    pub fn lengths(&self) -> [f64; 3] {
        self.lengths
    }
    pub fn tilt(&self) -> [f64; 3] {
        self.tilt
    }
    pub fn periodic(&self) -> [bool; 3] {
        self.periodic
    }
    pub fn is_triclinic(&self) -> bool {
        self.tilt != [0.0; 3]
    }
    pub fn volume(&self) -> f64 {
        self.lengths[0] * self.lengths[1] * self.lengths[2]
    }

    /// Edge vector `a`, `b` or `c` (axis 0, 1, 2).
    pub fn edge(&self, axis: usize) -> Vec3 {
        let [lx, ly, lz] = self.lengths;
        let [xy, xz, yz] = self.tilt;
        match axis {
            0 => Vec3::new(lx, 0.0, 0.0),
            1 => Vec3::new(xy, ly, 0.0),
            2 => Vec3::new(xz, yz, lz),
            _ => panic!("axis {axis} out of range"),
        }
    }

    /// Fractional coordinates of a Cartesian point.
    #[inline]
    pub fn to_fractional(&self, x: &Vec3) -> Vec3 {
        let d = x - self.lo;
        let h = &self.h_inv;
        Vec3::new(h[0] * d.x + h[5] * d.y + h[4] * d.z, h[1] * d.y + h[3] * d.z, h[2] * d.z)
    }

    /// Cartesian coordinates of a fractional point.
    #[inline]
    pub fn to_cartesian(&self, s: &Vec3) -> Vec3 {
        let [lx, ly, lz] = self.lengths;
        let [xy, xz, yz] = self.tilt;
        Vec3::new(self.lo.x + lx * s.x + xy * s.y + xz * s.z, self.lo.y + ly * s.y + yz * s.z, self.lo.z + lz * s.z)
    }

    /// Distance between the two lattice planes of constant fractional coordinate along
    /// `axis`: a ghost shell `cutoff` thick needs `cutoff / plane_spacing` in fractional units.
    pub fn plane_spacing(&self, axis: usize) -> f64 {
        let h = &self.h_inv;
        let row = match axis {
            0 => Vec3::new(h[0], h[5], h[4]),
            1 => Vec3::new(0.0, h[1], h[3]),
            _ => Vec3::new(0.0, 0.0, h[2]),
        };
        1.0 / row.norm()
    }

    /// Maps a point back into the box along periodic axes and returns the image shift that
    /// was removed (the unwrapped position is `x + Σ image[k]·edge(k)` of the result).
    ///
    /// Only atoms outside `[0, 1)` in some fractional coordinate are touched, by subtracting
    /// whole edge vectors in the order z, y, x; the result is a pure function of `x`, so every
    /// rank decomposition wraps identically.
    pub fn wrap(&self, x: &mut Vec3) -> [i32; 3] {
        let mut image = [0i32; 3];
        for axis in (0..3).rev() {
            if !self.periodic[axis] {
                continue;
            }
            let s = self.to_fractional(x)[axis];
            if (0.0..1.0).contains(&s) {
                continue;
            }
            let n = s.floor();
            let edge = self.edge(axis);
            *x -= edge * n;
            let mut shift = n as i32;
            // Round-off can leave s at exactly 1.0 or just below 0.0; settle it.
            let s2 = self.to_fractional(x)[axis];
            if s2 >= 1.0 {
                *x -= edge;
                shift += 1;
            } else if s2 < 0.0 {
                *x += edge;
                shift -= 1;
            }
            image[axis] += shift;
        }
        image
    }

    /// Shortest image of a separation vector (for tests and analysis; kernels never use it).
    pub fn minimum_image(&self, d: &Vec3) -> Vec3 {
        let mut d = *d;
        for axis in (0..3).rev() {
            if !self.periodic[axis] {
                continue;
            }
            let s = self.to_fractional(&(d + self.lo))[axis];
            let n = s.round();
            d -= self.edge(axis) * n;
        }
        d
    }

    /// Replaces the box shape (used by strain-derivative tests and barostats).
    pub fn with_lengths_and_tilt(&self, lengths: [f64; 3], tilt: [f64; 3]) -> Result<Self, BoxError> {
        Self::triclinic(self.lo, lengths, tilt, self.periodic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_round_trip_triclinic() {
        let b = SimBox::triclinic(Vec3::new(-1.0, 0.5, 2.0), [4.0, 5.0, 6.0], [1.0, -0.5, 0.7], [true; 3]).unwrap();
        let x = Vec3::new(1.3, 2.7, 5.1);
        let back = b.to_cartesian(&b.to_fractional(&x));
        assert!((back - x).norm() < 1e-14);
        assert!((b.volume() - 120.0).abs() < 1e-12);
    }

    #[test]
    fn wrap_returns_image() {
        let b = SimBox::triclinic(Vec3::zeros(), [4.0, 5.0, 6.0], [1.0, -0.5, 0.7], [true; 3]).unwrap();
        let inside = Vec3::new(1.0, 1.0, 1.0);
        let mut x = inside + b.edge(0) * 2.0 - b.edge(2);
        let image = b.wrap(&mut x);
        assert_eq!(image, [2, 0, -1]);
        assert!((x - inside).norm() < 1e-12);
        let s = b.to_fractional(&x);
        assert!((0.0..1.0).contains(&s.x) && (0.0..1.0).contains(&s.y) && (0.0..1.0).contains(&s.z));
    }

    #[test]
    fn plane_spacing_orthogonal() {
        let b = SimBox::orthogonal(Vec3::zeros(), Vec3::new(2.0, 3.0, 4.0), [true; 3]).unwrap();
        assert!((b.plane_spacing(1) - 3.0).abs() < 1e-15);
        let t = SimBox::triclinic(Vec3::zeros(), [2.0, 3.0, 4.0], [1.0, 0.0, 0.0], [true; 3]).unwrap();
        // Planes of constant s_x are spanned by b=(1,3,0) and c=(0,0,4): spacing = 2*3/sqrt(10).
        assert!((t.plane_spacing(0) - 6.0 / 10f64.sqrt()).abs() < 1e-14);
    }

    #[test]
    fn bad_boxes_are_errors() {
        assert!(SimBox::cubic(0.0).is_err());
        assert!(SimBox::cubic(f64::NAN).is_err());
    }
}
