//! Extended XYZ in ASE's dialect: a streaming multi-frame reader and a writer.
//!
//! A frame is an atom count, a comment line of `key=value` pairs and one line per atom:
//!
//! ```text
//! 2
//! Lattice="4.0 0 0 0 4.0 0 0 0 4.0" Properties=species:S:1:pos:R:3:velo:R:3:id:I:1 pbc="T T T" Time=0.01 Step=10
//! Cu 0 0 0 1.5 -2 0.25 1
//! Cu 2 2 0 0 0 0 2
//! ```
//!
//! # Reading
//!
//! * `Lattice="ax ay az bx by bz cx cy cz"` gives the cell rows a, b, c (brackets and
//!   commas are accepted too). A lattice already in LAMMPS's restricted form (a along +x,
//!   b in the xy plane with `by > 0`, `cz > 0`) is taken as is, bit for bit. Any other
//!   lattice is rotated into that form, and positions, velocities and forces with it,
//!   by the standard LAMMPS conversion: `lx = |a|`, `xy = b·â`, `ly = |â×b|`, `xz = c·â`,
//!   `yz = (b·c − xy·xz)/ly`, `lz = √(|c|² − xz² − yz²)`. It is carried out as the one
//!   proper rotation that takes â to x̂ and the normal a×b to ẑ, applied to the lattice
//!   and to every vector alike, so fractional coordinates, lengths and angles are kept
//!   (to rounding). A left-handed cell (`a·(b×c) < 0`) is first replaced by the same
//!   parallelepiped spanned by `a, b, −c` from the corner `origin + c`, which leaves every
//!   atom where it was.
//! * `pbc="T T F"` sets the periodic axes; with a lattice and no `pbc`, every axis is
//!   periodic (ASE's rule). Without a lattice the box is non-periodic and encloses the
//!   atoms with [`OPEN_BOX_MARGIN`] on every side.
//! * `Origin="x y z"` (written by calcine when the box does not start at 0) sets the box's
//!   lower corner; ASE keeps it as an ordinary info key.
//! * `Properties=` names the per-atom columns as `name:kind:count` triples (kind `S`, `R`,
//!   `I` or `L`); without it the columns are `species:S:1:pos:R:3`. calcine reads
//!   `species`, `pos`, `velo`/`vel`/`velocities` (all three in Å/ps; GPUMD writes `vel`
//!   in Å/fs, so scale such velocities by 1000), `momenta` (ASE units, amu·Å per
//!   ASE time unit, converted with the atom's mass), `forces` (eV/Å), `id` (atom ids,
//!   `1..=n` in file order without it) and `masses` (amu). Other columns are skipped by
//!   their declared count.
//! * Every other key (`energy=-1.2`, `step=10`, `Time=...`) is kept as a string in
//!   [`Frame::info`]; `step` and `time` (any case) are also parsed into
//!   [`Frame::step`] and [`Frame::time`] (ps).
//! * A species name is looked up in the reader's species table. A name that is not there
//!   is added with the mass from the `masses` column if the file has one, and is an
//!   error otherwise; where both exist the table's mass wins.
//!
//! # Writing
//!
//! [`ExtxyzWriter`] writes `Lattice`, `Properties=species:S:1:pos:R:3[:velo:R:3][:forces:R:3]:id:I:1`
//! (velocities and forces where the frame has them), `pbc`, `Origin` (only for a box whose
//! lower corner is not 0), `Time` (ps) and `Step` (where the frame has them),
//! with every number in shortest round-trip form so that ASE's `ase.io.read` and this
//! reader get back bit-identical positions and velocities. ASE keeps `velo` as a plain
//! per-atom array (`atoms.arrays["velo"]`, Å/ps), not as momenta.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use calcine_core::{AtomId, SpeciesTable, Vec3};

use crate::lines::{sort_order, LineReader, Loc, MAX_RESERVED_ATOMS};
use crate::numbers::push_shortest;
use crate::structure::check_species_names;
use crate::{Frame, FrameReader, IoError, PositionKind};

use comment::{Header, Role};
use lattice::{box_from_lattice, open_box};

mod comment;
mod lattice;

/// Space left around the atoms, in Å on each side, when a file gives no lattice.
pub const OPEN_BOX_MARGIN: f64 = 5.0;

/// Converts ASE velocities (Å per ASE time unit, `Å·√(amu/eV)`) to Å/ps.
///
/// It is `0.01·√(e/amu)` with ASE's default CODATA 2014 constants
/// (`e = 1.6021766208e-19 C`, `amu = 1.660539040e-27 kg`), i.e. `1000 * ase.units.fs`
/// in ASE's own floating-point evaluation.
pub const ASE_VELOCITY_TO_ANGSTROM_PER_PS: f64 = 98.22694788464064;

/// Reads the first frame of an extended XYZ file.
///
/// What follows the frame must be the start of another frame (an atom count) or nothing:
/// an atom line there means the frame's count is smaller than its atoms, an error rather
/// than a silently truncated structure.
pub fn read_extxyz(path: impl AsRef<Path>, species: &SpeciesTable) -> Result<Frame, IoError> {
    read_first(ExtxyzReader::open(path.as_ref(), species.clone())?, path.as_ref())
}

fn read_first<R: BufRead>(mut reader: ExtxyzReader<R>, path: &Path) -> Result<Frame, IoError> {
    let frame = reader.read_frame()?.ok_or_else(|| IoError::Empty { path: path.to_path_buf() })?;
    reader.check_frame_start()?;
    Ok(frame)
}

/// Reads the first frame of an extended XYZ file, taking every species name it meets into a
/// new species table (in order of first appearance). Species without a `masses` column get a
/// NaN mass, for the caller to fill in (from a potential file or the input).
/// The frame must be followed by another frame or nothing, as for [`read_extxyz`].
pub fn read_extxyz_any_species(path: impl AsRef<Path>) -> Result<Frame, IoError> {
    let path = path.as_ref();
    read_first(ExtxyzReader::open(path, SpeciesTable::default())?.allow_new_species(), path)
}

/// Streams the frames of an extended XYZ file, one at a time.
///
/// The reader owns a species table that grows as new species (with masses) appear, so
/// a [`SpeciesId`](calcine_core::SpeciesId) means the same species in every frame. After an error the iterator ends.
pub struct ExtxyzReader<R> {
    lines: LineReader<R>,
    species: SpeciesTable,
    failed: bool,
    new_species: bool,
    /// The count line and atom count of the last frame read, for the error when more atom
    /// lines follow than it declares.
    last_frame: Option<(usize, usize)>,
}

impl ExtxyzReader<BufReader<File>> {
    pub fn open(path: impl AsRef<Path>, species: SpeciesTable) -> Result<Self, IoError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| IoError::io(path, e))?;
        Ok(Self::new(BufReader::new(file), path, species))
    }
}

impl<R: BufRead> ExtxyzReader<R> {
    /// A reader over any buffered input; `path` only labels error messages.
    pub fn new(inner: R, path: impl Into<PathBuf>, species: SpeciesTable) -> Self {
        Self {
            lines: LineReader::new(inner, path.into()),
            species,
            failed: false,
            new_species: false,
            last_frame: None,
        }
    }

    /// Accepts species names that are not in the table yet, adding them with a NaN mass
    /// when the file has no `masses` column.
    pub fn allow_new_species(mut self) -> Self {
        self.new_species = true;
        self
    }

    /// The species seen so far (the caller's table plus species added from `masses`).
    pub fn species(&self) -> &SpeciesTable {
        &self.species
    }

    /// The next frame, or `None` at the end of the file.
    pub fn read_frame(&mut self) -> Result<Option<Frame>, IoError> {
        if self.failed {
            return Ok(None);
        }
        let result = self.read_frame_inner();
        self.failed = result.is_err();
        result
    }

    /// Checks that what follows the last frame is the start of another frame or the end
    /// of the file (consuming that line).
    fn check_frame_start(&mut self) -> Result<(), IoError> {
        if self.lines.advance_non_blank()? {
            self.frame_count()?;
        }
        Ok(())
    }

    /// The atom count on the current line.
    fn frame_count(&self) -> Result<usize, IoError> {
        let loc = self.lines.loc();
        let token = self.lines.line().trim();
        token.parse::<usize>().map_err(|_| match self.last_frame {
            Some((start, n)) if token.split_whitespace().count() >= 4 => loc.err(format!(
                "the frame starting at line {start} declares {n} atoms, but more atom lines follow (found '{}' where the next frame's atom count should be)",
                truncate(token)
            )),
            _ => loc.err(format!("expected the number of atoms of a frame, found '{}'", truncate(token))),
        })
    }

    fn read_frame_inner(&mut self) -> Result<Option<Frame>, IoError> {
        if !self.lines.advance_non_blank()? {
            return Ok(None);
        }
        let count_loc_line = self.lines.line_no();
        let n_atoms = self.frame_count()?;
        self.last_frame = Some((count_loc_line, n_atoms));
        if !self.lines.advance()? {
            return Err(IoError::parse(self.lines.path(), count_loc_line, "file ends before the frame's comment line"));
        }
        let header = Header::parse(self.lines.line(), self.lines.loc())?;
        let comment_line = self.lines.line_no();

        let n_columns: usize = header.columns.iter().map(|c| c.count).sum();
        // The count comes from the file; reserve no more than a sane amount up front.
        let capacity = n_atoms.min(MAX_RESERVED_ATOMS);
        let mut ids = Vec::with_capacity(capacity);
        let mut species = Vec::with_capacity(capacity);
        let mut positions = Vec::with_capacity(capacity);
        let mut velocities = Vec::with_capacity(capacity);
        let mut forces = Vec::new();
        let mut masses = Vec::new();
        for atom_idx in 0..n_atoms {
            if !self.lines.advance()? {
                return Err(IoError::parse(
                    self.lines.path(),
                    self.lines.line_no(),
                    format!("frame declares {n_atoms} atoms but the file ends after {atom_idx}"),
                ));
            }
            let loc = self.lines.loc();
            let tokens: Vec<&str> = self.lines.line().split_whitespace().collect();
            if tokens.len() != n_columns {
                return Err(loc.err(format!(
                    "atom line has {} columns, Properties={} declares {n_columns}",
                    tokens.len(),
                    header.properties_text
                )));
            }
            let mut id = atom_idx as u64 + 1;
            let mut mass = None;
            let mut name = "";
            for column in &header.columns {
                let fields = &tokens[column.start..column.start + column.count];
                match column.role {
                    Role::Species => name = fields[0],
                    Role::Position => positions.push(loc.vec3(fields, ["x", "y", "z"])?),
                    Role::Velocity | Role::Momentum => velocities.push(loc.vec3(fields, ["vx", "vy", "vz"])?),
                    Role::Force => forces.push(loc.vec3(fields, ["fx", "fy", "fz"])?),
                    Role::Id => id = loc.atom_id(fields[0])?,
                    Role::Mass => {
                        let value = loc.f64(fields[0], "mass")?;
                        if value <= 0.0 {
                            return Err(loc.err(format!("mass is {value}, it must be positive")));
                        }
                        mass = Some(value);
                        masses.push(value);
                    }
                    Role::Skip => {}
                }
            }
            let species_id = match (self.species.find(name), mass) {
                (Some(id), _) => id,
                (None, Some(mass)) => self.species.find_or_add(name, mass),
                (None, None) if self.new_species => self.species.find_or_add(name, f64::NAN),
                (None, None) => {
                    return Err(IoError::UnknownSpecies {
                        path: loc.path.to_path_buf(),
                        line: loc.line,
                        name: name.to_string(),
                        known: known_names(&self.species),
                    })
                }
            };
            ids.push(id);
            species.push(species_id);
        }

        if header.has(Role::Momentum) {
            for (atom_idx, v) in velocities.iter_mut().enumerate() {
                let mass = masses.get(atom_idx).copied().unwrap_or_else(|| self.species.get(species[atom_idx]).mass);
                *v *= ASE_VELOCITY_TO_ANGSTROM_PER_PS / mass;
            }
        }
        if !header.has(Role::Velocity) && !header.has(Role::Momentum) {
            velocities = vec![Vec3::zeros(); n_atoms];
        }

        let header_loc = Loc::new(self.lines.path(), comment_line);
        let simbox = match &header.lattice {
            Some(rows) => {
                let (simbox, rotation) = box_from_lattice(rows, header.origin, header.pbc, header_loc)?;
                if let Some(rotation) = rotation {
                    for v in positions.iter_mut().chain(velocities.iter_mut()).chain(forces.iter_mut()) {
                        *v = rotation.apply(v);
                    }
                }
                simbox
            }
            None => open_box(&positions, header_loc)?,
        };

        let order = sort_order(&ids).map_err(|(_, second)| IoError::DuplicateId {
            path: self.lines.path().to_path_buf(),
            line: comment_line + 1 + second,
            id: ids[second],
        })?;
        fn permute<T: Copy>(values: &[T], order: &[usize]) -> Vec<T> {
            order.iter().map(|&k| values[k]).collect()
        }
        let has_velocities = header.has(Role::Velocity) || header.has(Role::Momentum);
        Ok(Some(Frame {
            step: header.step,
            time: header.time,
            simbox,
            species_table: self.species.clone(),
            ids: order.iter().map(|&k| AtomId(ids[k])).collect(),
            species: permute(&species, &order),
            positions: permute(&positions, &order),
            position_kind: PositionKind::Wrapped,
            velocities: has_velocities.then(|| permute(&velocities, &order)),
            forces: header.has(Role::Force).then(|| permute(&forces, &order)),
            images: None,
            per_atom_energy: None,
            per_atom_virial: None,
            extra: Vec::new(),
            info: header.info,
        }))
    }
}

impl<R: BufRead> FrameReader for ExtxyzReader<R> {
    fn read_frame(&mut self) -> Result<Option<Frame>, IoError> {
        ExtxyzReader::read_frame(self)
    }
}

impl<R: BufRead> Iterator for ExtxyzReader<R> {
    type Item = Result<Frame, IoError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_frame().transpose()
    }
}

/// Writes frames of extended XYZ, each with one `write_all` and a flush.
pub struct ExtxyzWriter<W> {
    out: W,
    path: PathBuf,
}

impl ExtxyzWriter<File> {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, IoError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|e| IoError::io(path, e))?;
        Ok(Self::new(file, path))
    }
}

impl<W: Write> ExtxyzWriter<W> {
    /// A writer into any output; `path` only labels error messages.
    pub fn new(out: W, path: impl Into<PathBuf>) -> Self {
        Self { out, path: path.into() }
    }

    /// Appends one frame.
    pub fn write_frame(&mut self, frame: &Frame) -> Result<(), IoError> {
        self.write_frame_with_info(frame, &BTreeMap::new())
    }

    /// Appends one frame with extra comment-line keys (for example `energy`). Keys that
    /// calcine writes itself (`Lattice`, `Properties`, `pbc`, `Origin`, `Time`, `Step`)
    /// are skipped.
    pub fn write_frame_with_info(&mut self, frame: &Frame, info: &BTreeMap<String, String>) -> Result<(), IoError> {
        let text = format_frame(frame, info, &self.path)?;
        self.out.write_all(text.as_bytes()).map_err(|e| IoError::io(&self.path, e))?;
        self.out.flush().map_err(|e| IoError::io(&self.path, e))
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The keys calcine interprets itself, compared without case.
const RESERVED_KEYS: [&str; 6] = ["lattice", "properties", "pbc", "origin", "time", "step"];

pub(crate) fn format_frame(frame: &Frame, info: &BTreeMap<String, String>, path: &Path) -> Result<String, IoError> {
    let order = frame.write_order(path)?;
    check_species_names(&frame.species_table, path)?;
    let unwritable = |reason: String| IoError::Unwritable { path: path.to_path_buf(), reason };

    let mut out = String::with_capacity(128 + 160 * order.len());
    out.push_str(&order.len().to_string());
    out.push_str("\nLattice=\"");
    let simbox = &frame.simbox;
    for (axis, edge) in (0..3).map(|axis| (axis, simbox.edge(axis))) {
        for (k, value) in edge.iter().enumerate() {
            if axis + k > 0 {
                out.push(' ');
            }
            push_shortest(&mut out, *value);
        }
    }
    out.push_str("\" Properties=species:S:1:pos:R:3");
    if frame.velocities.is_some() {
        out.push_str(":velo:R:3");
    }
    if frame.forces.is_some() {
        out.push_str(":forces:R:3");
    }
    if frame.per_atom_energy.is_some() {
        out.push_str(":energies:R:1");
    }
    if frame.per_atom_virial.is_some() {
        out.push_str(":virial:R:6");
    }
    for (name, _) in &frame.extra {
        out.push(':');
        out.push_str(name);
        out.push_str(":R:1");
    }
    out.push_str(":id:I:1 pbc=\"");
    let flags: Vec<&str> = simbox.periodic().iter().map(|&p| if p { "T" } else { "F" }).collect();
    out.push_str(&flags.join(" "));
    out.push('"');
    if simbox.lo() != Vec3::zeros() {
        out.push_str(" Origin=\"");
        push_vec3(&mut out, &simbox.lo());
        out.push('"');
    }
    if let Some(time) = frame.time {
        out.push_str(" Time=");
        push_shortest(&mut out, time);
    }
    if let Some(step) = frame.step {
        out.push_str(&format!(" Step={step}"));
    }
    for (key, value) in info {
        if RESERVED_KEYS.iter().any(|r| key.eq_ignore_ascii_case(r)) {
            continue;
        }
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || matches!(c, '=' | '"' | '\'')) {
            return Err(unwritable(format!("info key '{key}' is empty or holds whitespace, '=' or quotes")));
        }
        if value.contains(['\n', '\r']) {
            return Err(unwritable(format!("info value of '{key}' holds a line break")));
        }
        out.push(' ');
        out.push_str(key);
        out.push('=');
        push_value(&mut out, value);
    }
    out.push('\n');

    for &k in &order {
        out.push_str(&frame.species_table.get(frame.species[k]).name);
        out.push(' ');
        push_vec3(&mut out, &frame.positions[k]);
        if let Some(velocities) = &frame.velocities {
            out.push(' ');
            push_vec3(&mut out, &velocities[k]);
        }
        if let Some(forces) = &frame.forces {
            out.push(' ');
            push_vec3(&mut out, &forces[k]);
        }
        if let Some(pe) = &frame.per_atom_energy {
            out.push(' ');
            push_shortest(&mut out, pe[k]);
        }
        if let Some(virials) = &frame.per_atom_virial {
            for value in &virials[k] {
                out.push(' ');
                push_shortest(&mut out, *value);
            }
        }
        for (_, values) in &frame.extra {
            out.push(' ');
            push_shortest(&mut out, values[k]);
        }
        out.push(' ');
        out.push_str(&frame.ids[k].0.to_string());
        out.push('\n');
    }
    Ok(out)
}

fn push_vec3(out: &mut String, v: &Vec3) {
    push_shortest(out, v.x);
    out.push(' ');
    push_shortest(out, v.y);
    out.push(' ');
    push_shortest(out, v.z);
}

/// Appends a value, quoted and escaped when a bare word would not read back.
fn push_value(out: &mut String, value: &str) {
    let bare = !value.is_empty()
        && !value.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '=' | '\\' | '{' | '[' | '}' | ']'));
    if bare {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn known_names(table: &SpeciesTable) -> String {
    if table.is_empty() {
        "none".to_string()
    } else {
        table.names().join(", ")
    }
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
