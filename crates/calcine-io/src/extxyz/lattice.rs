//! Turning an extended XYZ lattice into a LAMMPS restricted-triclinic [`SimBox`].

use calcine_core::{SimBox, Vec3};

use super::OPEN_BOX_MARGIN;
use crate::lines::Loc;
use crate::IoError;

/// A proper rotation given by its rows: `v ↦ (u₁·v, u₂·v, u₃·v)`.
pub(super) struct Rotation([Vec3; 3]);

impl Rotation {
    pub(super) fn apply(&self, v: &Vec3) -> Vec3 {
        Vec3::new(self.0[0].dot(v), self.0[1].dot(v), self.0[2].dot(v))
    }
}

/// The restricted-triclinic box of a lattice, and the rotation applied to get it (`None`
/// when the lattice already has that form and nothing moves).
pub(super) fn box_from_lattice(
    rows: &[Vec3; 3],
    origin: Vec3,
    pbc: Option<[bool; 3]>,
    loc: Loc<'_>,
) -> Result<(SimBox, Option<Rotation>), IoError> {
    let periodic = pbc.unwrap_or([true; 3]);
    let [a, b, c] = *rows;
    let make = |lo: Vec3, lengths: [f64; 3], tilt: [f64; 3]| {
        SimBox::triclinic(lo, lengths, tilt, periodic).map_err(|e| loc.err(format!("Lattice gives no valid box: {e}")))
    };
    if a.y == 0.0 && a.z == 0.0 && b.z == 0.0 && a.x > 0.0 && b.y > 0.0 && c.z > 0.0 {
        return Ok((make(origin, [a.x, b.y, c.z], [b.x, c.x, c.y])?, None));
    }
    let volume = a.dot(&b.cross(&c));
    let scale = a.norm() * b.norm() * c.norm();
    if volume.abs() <= 1e-12 * scale || !volume.is_finite() {
        return Err(loc.err(format!("Lattice vectors are degenerate (cell volume {volume})")));
    }
    // A left-handed cell cannot be rotated into LAMMPS form; the parallelepiped spanned by
    // a, b, −c from the corner origin + c is the same region of space, and right-handed.
    let (c, origin) = if volume < 0.0 { (-c, origin + c) } else { (c, origin) };
    let u1 = a / a.norm();
    let u3 = a.cross(&b).normalize();
    let u2 = u3.cross(&u1);
    let rotation = Rotation([u1, u2, u3]);
    let (a, b, c) = (rotation.apply(&a), rotation.apply(&b), rotation.apply(&c));
    let simbox = make(rotation.apply(&origin), [a.x, b.y, c.z], [b.x, c.x, c.y])?;
    Ok((simbox, Some(rotation)))
}

/// A non-periodic orthogonal box around the atoms.
pub(super) fn open_box(positions: &[Vec3], loc: Loc<'_>) -> Result<SimBox, IoError> {
    let margin = Vec3::repeat(OPEN_BOX_MARGIN);
    let (lo, hi) = match positions.first() {
        None => (-margin, margin),
        Some(first) => {
            let (lo, hi) = positions.iter().fold((*first, *first), |(lo, hi), x| (lo.inf(x), hi.sup(x)));
            (lo - margin, hi + margin)
        }
    };
    SimBox::orthogonal(lo, hi, [false; 3]).map_err(|e| loc.err(format!("cannot build a box around the atoms: {e}")))
}
