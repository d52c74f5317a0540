//! What a trajectory file holds, found by reading it frame by frame (`calcine inspect`):
//! memory does not grow with the file's length, so this is also how a reader's flat
//! memory is measured on files larger than the machine's memory.

use std::collections::BTreeMap;

use serde::Serialize;

use calcine_core::{Species, SpeciesTable};

use crate::{open_frames, Frame, FrameReader, IoError, PositionKind};

/// Names given to LAMMPS dump types when the caller names none.
const UNNAMED_TYPES: usize = 99;

/// [`scan_frames`] of the file at `path`; `types` names the species of LAMMPS dump types
/// 1, 2, … (when empty they are called `type1`, `type2`, …).
pub fn scan_file(
    path: &std::path::Path,
    types: &[String],
    progress: &mut dyn FnMut(u64),
) -> Result<Option<TrajectoryScan>, IoError> {
    let names: Vec<String> =
        if types.is_empty() { (1..=UNNAMED_TYPES).map(|t| format!("type{t}")).collect() } else { types.to_vec() };
    let species = SpeciesTable::new(names.into_iter().map(|name| Species { name, mass: f64::NAN }).collect());
    let mut reader = open_frames(path, species)?;
    scan_frames(reader.as_mut(), progress)
}

/// A trajectory's frames summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrajectoryScan {
    pub frames: u64,
    /// Atoms of the first frame.
    pub atoms: usize,
    /// Atoms per species name in the first frame.
    pub species: BTreeMap<String, usize>,
    pub first_step: Option<u64>,
    pub last_step: Option<u64>,
    /// Times in ps, as the frames state them.
    pub first_time: Option<f64>,
    pub last_time: Option<f64>,
    /// Box edge lengths (Å) and tilts xy xz yz of the first and last frames.
    pub first_box: [f64; 6],
    pub last_box: [f64; 6],
    /// Whether the box differs between any two frames.
    pub box_changes: bool,
    /// Whether the atom count or the atoms' ids differ between frames.
    pub atoms_change: bool,
    /// "wrapped" (with or without image flags) or "unwrapped", of the first frame.
    pub positions: &'static str,
    pub images: bool,
    pub velocities: bool,
    pub forces: bool,
    pub energies: bool,
}

impl TrajectoryScan {
    /// As pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scan serializes")
    }
}

fn box_of(frame: &Frame) -> [f64; 6] {
    let [a, b, c] = frame.simbox.lengths();
    let [xy, xz, yz] = frame.simbox.tilt();
    [a, b, c, xy, xz, yz]
}

/// Reads every frame of `reader`, calling `progress` with the number of frames read so
/// far after each; `None` for a file without frames.
pub fn scan_frames(
    reader: &mut dyn FrameReader,
    progress: &mut dyn FnMut(u64),
) -> Result<Option<TrajectoryScan>, IoError> {
    let Some(first) = reader.read_frame()? else { return Ok(None) };
    let mut species = BTreeMap::new();
    for s in &first.species {
        *species.entry(first.species_table.get(*s).name.clone()).or_insert(0) += 1;
    }
    let first_box = box_of(&first);
    let mut scan = TrajectoryScan {
        frames: 1,
        atoms: first.n_atoms(),
        species,
        first_step: first.step,
        last_step: first.step,
        first_time: first.time,
        last_time: first.time,
        first_box,
        last_box: first_box,
        box_changes: false,
        atoms_change: false,
        positions: match first.position_kind {
            PositionKind::Wrapped => "wrapped",
            PositionKind::Unwrapped => "unwrapped",
        },
        images: first.images.is_some(),
        velocities: first.velocities.is_some(),
        forces: first.forces.is_some(),
        energies: first.per_atom_energy.is_some(),
    };
    let ids = first.ids;
    progress(1);
    while let Some(frame) = reader.read_frame()? {
        scan.frames += 1;
        scan.last_step = frame.step;
        scan.last_time = frame.time;
        let b = box_of(&frame);
        scan.box_changes |= b != scan.last_box;
        scan.last_box = b;
        scan.atoms_change |= frame.ids != ids;
        progress(scan.frames);
    }
    Ok(Some(scan))
}
