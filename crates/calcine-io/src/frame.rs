//! The one frame type every reader returns and every writer takes, and the trait through
//! which trajectories of any format are streamed.

use std::collections::BTreeMap;
use std::path::Path;

use calcine_core::{AtomId, SimBox, SpeciesId, SpeciesTable, Vec3, Virial};

use crate::lines::sort_order;
use crate::structure::atoms_sorted_by_id;
use crate::{DumpReader, ExtxyzReader, IoError, Structure};

/// Whether positions are wrapped into the box (LAMMPS `x`, `xs`; also what extended XYZ
/// files without image flags are taken to hold) or unwrapped (`xu`, `xsu`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionKind {
    Wrapped,
    Unwrapped,
}

/// One configuration of a trajectory: atoms of the whole system in [`AtomId`] order with
/// whatever per-atom data the source has, the box, the species, and the step and time
/// where the source states them.
///
/// Readers return frames sorted by id; a frame gathered from the ranks of a run is too.
/// Writers sort by id if a frame is not. All per-atom vectors have one entry per atom (a
/// mismatch is a bug in the caller and panics in a writer).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub step: Option<u64>,
    /// Simulated time in ps.
    pub time: Option<f64>,
    pub simbox: SimBox,
    /// The species `species` refers to (names and masses).
    pub species_table: SpeciesTable,
    pub ids: Vec<AtomId>,
    pub species: Vec<SpeciesId>,
    /// Positions in Å.
    pub positions: Vec<Vec3>,
    pub position_kind: PositionKind,
    /// Velocities in Å/ps.
    pub velocities: Option<Vec<Vec3>>,
    /// Forces in eV/Å.
    pub forces: Option<Vec<Vec3>>,
    /// Periodic image counts: unwrapped = wrapped + Σ image[k]·edge(k).
    pub images: Option<Vec<[i32; 3]>>,
    /// Per-atom potential energies in eV (LAMMPS `compute pe/atom`).
    pub per_atom_energy: Option<Vec<f64>>,
    /// Per-atom virials in eV, xx yy zz xy xz yz: each atom's half of the r_ij ⊗ f_ij of
    /// every pair or many-body term it takes part in, adding up to the run's virial.
    /// LAMMPS's `compute stress/atom NULL virial` (bar·Å³, metal units) is −`nktv2p`
    /// (1.6021765e6) times this.
    pub per_atom_virial: Option<Vec<Virial>>,
    /// Further per-atom real columns, (name, one value per atom), such as ACE's
    /// extrapolation grade `gamma`. Extended XYZ writes them as `name:R:1` properties.
    pub extra: Vec<(String, Vec<f64>)>,
    /// Further per-frame keys of the source (extended XYZ comment keys other than
    /// `Lattice`, `Properties`, `pbc` and `Origin`), with quotes removed.
    pub info: BTreeMap<String, String>,
}

impl Frame {
    pub fn n_atoms(&self) -> usize {
        self.ids.len()
    }

    /// Sets the step and time (ps).
    pub fn at(mut self, step: u64, time: f64) -> Self {
        self.step = Some(step);
        self.time = Some(time);
        self
    }

    /// Unwrapped positions: as given for unwrapped positions, `x + Σ image[k]·edge(k)`
    /// with image flags, `None` for wrapped positions without image flags (a reader of a
    /// trajectory then unwraps by minimum-image increments between frames).
    pub fn unwrapped_positions(&self) -> Option<Vec<Vec3>> {
        match (self.position_kind, &self.images) {
            (PositionKind::Unwrapped, _) => Some(self.positions.clone()),
            (PositionKind::Wrapped, Some(images)) => Some(
                self.positions
                    .iter()
                    .zip(images)
                    .map(|(x, image)| {
                        x + (0..3).map(|axis| self.simbox.edge(axis) * f64::from(image[axis])).sum::<Vec3>()
                    })
                    .collect(),
            ),
            (PositionKind::Wrapped, None) => None,
        }
    }

    /// This frame as a starting configuration (missing velocities and image flags are
    /// zeros; positions are not wrapped).
    pub fn into_structure(self) -> Structure {
        let n = self.n_atoms();
        let order: Vec<usize> = (0..n).collect();
        let ids: Vec<u64> = self.ids.iter().map(|id| id.0).collect();
        let velocities = self.velocities.unwrap_or_else(|| vec![Vec3::zeros(); n]);
        let images = self.images.unwrap_or_else(|| vec![[0; 3]; n]);
        let atoms = atoms_sorted_by_id(&order, &ids, &self.species, &self.positions, &velocities, &images);
        Structure { simbox: self.simbox, species: self.species_table, atoms }
    }

    /// Checks the per-atom vectors and species and returns the atom indices in increasing
    /// id order.
    pub(crate) fn write_order(&self, path: &Path) -> Result<Vec<usize>, IoError> {
        let n = self.ids.len();
        assert_eq!(self.species.len(), n, "frame has {n} ids but {} species", self.species.len());
        assert_eq!(self.positions.len(), n, "frame has {n} ids but {} positions", self.positions.len());
        for (what, len) in [
            ("velocities", self.velocities.as_ref().map(Vec::len)),
            ("forces", self.forces.as_ref().map(Vec::len)),
            ("image flags", self.images.as_ref().map(Vec::len)),
            ("per-atom energies", self.per_atom_energy.as_ref().map(Vec::len)),
            ("per-atom virials", self.per_atom_virial.as_ref().map(Vec::len)),
        ] {
            if let Some(len) = len {
                assert_eq!(len, n, "frame has {n} ids but {len} {what}");
            }
        }
        for (name, values) in &self.extra {
            assert_eq!(values.len(), n, "frame has {n} ids but {} values of '{name}'", values.len());
        }
        let unwritable = |reason: String| IoError::Unwritable { path: path.to_path_buf(), reason };
        if let Some(bad) = self.species.iter().find(|s| s.index() >= self.species_table.len()) {
            return Err(unwritable(format!(
                "species id {} is not in the species table ({} species)",
                bad.0,
                self.species_table.len()
            )));
        }
        if let Some(zero) = self.ids.iter().find(|id| id.0 == 0) {
            return Err(unwritable(format!("atom id {} is not positive", zero.0)));
        }
        let raw: Vec<u64> = self.ids.iter().map(|id| id.0).collect();
        sort_order(&raw).map_err(|(a, _)| unwritable(format!("atom id {} appears twice", raw[a])))
    }
}

/// A trajectory read one frame at a time, whatever its format: memory stays that of one
/// frame however long the file is.
pub trait FrameReader {
    /// The next frame, or `None` at the end. After an error the reader returns `None`.
    fn read_frame(&mut self) -> Result<Option<Frame>, IoError>;

    /// The next frame, perhaps read but not yet parsed: [`Pending::frame`] finishes it on
    /// whichever thread calls it, so that a caller can share the parsing out among its
    /// own threads. Errors found while reading come here; errors of the parse come from
    /// `frame`, and a caller that meets one should read no further. Readers that parse
    /// as they read hand out parsed frames (the default).
    fn read_pending(&mut self) -> Result<Option<Pending>, IoError> {
        Ok(self.read_frame()?.map(|frame| Pending::Ready(Box::new(frame))))
    }
}

/// A frame from [`FrameReader::read_pending`]: parsed, or its text and the parse to come.
pub enum Pending {
    Ready(Box<Frame>),
    Unparsed(Box<dyn FnOnce() -> Result<Frame, IoError> + Send>),
}

impl Pending {
    /// The frame, parsed here if it is not yet.
    pub fn frame(self) -> Result<Frame, IoError> {
        match self {
            Pending::Ready(frame) => Ok(*frame),
            Pending::Unparsed(parse) => parse(),
        }
    }
}

/// The trajectory formats calcine reads and writes, told by a file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrajectoryFormat {
    /// Extended XYZ in ASE's dialect (`.xyz`, `.extxyz`).
    Extxyz,
    /// LAMMPS `dump custom` text (`.dump`, `.lammpstrj`).
    Dump,
    /// H5MD (`.h5`, `.h5md`).
    H5md,
}

impl TrajectoryFormat {
    /// What to write to name a format: the extensions calcine knows.
    pub const KNOWN: &'static str = ".xyz/.extxyz (.gz to read), .dump/.lammpstrj or .h5/.h5md";

    /// The format of `path` by its extension (case-insensitive), or an error naming the
    /// extensions calcine knows.
    pub fn of(path: &Path) -> Result<Self, IoError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "xyz" | "extxyz" => Ok(TrajectoryFormat::Extxyz),
            "dump" | "lammpstrj" => Ok(TrajectoryFormat::Dump),
            "h5" | "h5md" => Ok(TrajectoryFormat::H5md),
            _ => Err(IoError::UnknownFormat { path: path.to_path_buf(), known: Self::KNOWN }),
        }
    }
}

/// Opens a trajectory of any known format for streaming; text formats may be gzipped
/// (`traj.xyz.gz`, `dump.lammpstrj.gz`). `species` names the species: extended XYZ frames
/// may add species it lacks (with their masses, or NaN); LAMMPS dump type k is `species`
/// entry k − 1; an H5MD file's own species names win.
pub fn open_frames(path: impl AsRef<Path>, species: SpeciesTable) -> Result<Box<dyn FrameReader>, IoError> {
    let path = path.as_ref();
    let gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let format = TrajectoryFormat::of(&if gz { path.with_extension("") } else { path.to_path_buf() })?;
    if gz {
        let file = std::fs::File::open(path).map_err(|e| IoError::io(path, e))?;
        let text = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file));
        return Ok(match format {
            TrajectoryFormat::Extxyz => Box::new(ExtxyzReader::new(text, path, species).allow_new_species()),
            TrajectoryFormat::Dump => Box::new(DumpReader::new(text, path, species)),
            TrajectoryFormat::H5md => {
                return Err(IoError::UnknownFormat { path: path.to_path_buf(), known: TrajectoryFormat::KNOWN })
            }
        });
    }
    Ok(match format {
        TrajectoryFormat::Extxyz => Box::new(ExtxyzReader::open(path, species)?.allow_new_species()),
        TrajectoryFormat::Dump => Box::new(DumpReader::open(path, species)?),
        TrajectoryFormat::H5md => Box::new(crate::H5mdReader::open(path, species)?),
    })
}
