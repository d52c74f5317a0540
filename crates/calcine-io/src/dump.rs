//! LAMMPS text dumps (`dump custom`): a writer and a streaming multi-frame reader.
//!
//! The writer produces exactly the layout of LAMMPS `dump custom … id type x y z vx vy vz
//! fx fy fz`:
//!
//! ```text
//! ITEM: TIMESTEP
//! 100
//! ITEM: NUMBER OF ATOMS
//! 32
//! ITEM: BOX BOUNDS xy xz yz pp pp pp
//! -1.0000000000000000e+00 8.0000000000000000e+00 1.0000000000000000e+00
//! 0.0000000000000000e+00 7.0000000000000000e+00 -5.0000000000000000e-01
//! 0.0000000000000000e+00 7.0000000000000000e+00 0.0000000000000000e+00
//! ITEM: ATOMS id type x y z vx vy vz fx fy fz
//! 1 1 6.925180602620905 6.810388249559509 6.895310346663608 0.831 0.530 0.236 0 0 0
//! ```
//!
//! Orthogonal boxes give `ITEM: BOX BOUNDS pp pp pp` and two numbers per line. For a
//! triclinic box the bounds are LAMMPS's bounding box: `xlo_bound = xlo + min(0, xy, xz,
//! xy+xz)`, `xhi_bound = xhi + max(0, xy, xz, xy+xz)`, `ylo_bound = ylo + min(0, yz)`,
//! `yhi_bound = yhi + max(0, yz)`, with the tilt as third number. Non-periodic axes are
//! written `ff`. Atoms are written sorted by id, with numbers in shortest round-trip form
//! (LAMMPS's default `%g` would lose digits), so positions and velocities read back bit
//! for bit; box bounds are `%.16e` as in LAMMPS, and a triclinic box reads back to within
//! rounding of the bound arithmetic. `fx fy fz` are written when the frame has forces,
//! and `ix iy iz` (after them) when it has image flags, then `c_pe` (per-atom energy, eV)
//! and `c_virial[1]` … `c_virial[6]` (per-atom virial xx yy zz xy xz yz, eV; LAMMPS's
//! `compute stress/atom NULL virial` is −nktv2p = −1.6021765e6 times these) when it has
//! them. `ITEM: TIME` (LAMMPS
//! `dump_modify time yes`) is written on request.
//!
//! The reader takes any `dump custom`/`dump atom` text file: `ITEM: UNITS` (must be
//! `metal`) and `ITEM: TIME` are understood, positions come from `x y z`, `xu yu zu`,
//! `xs ys zs` or `xsu ysu zsu` (in that order of preference), and `id`, `type`,
//! `ix iy iz`, `vx vy vz`, `fx fy fz` are read when present; other columns are ignored.
//! Atoms come back sorted by id.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use calcine_core::{AtomId, SimBox, SpeciesId, SpeciesTable, Vec3};
use rayon::prelude::*;

use crate::lines::{is_ascii_space, sort_order, split_ascii_fields, LineReader, Loc, MAX_RESERVED_ATOMS};
use crate::numbers::{parse_f64, parse_f64_prefix};
use crate::numbers::{push_c_exp16, push_shortest};
use crate::structure::check_species_names;
use crate::{Frame, FrameReader, IoError, Pending, PositionKind};

/// Streams the frames of a LAMMPS text dump. After an error the iterator ends.
///
/// Each frame's header is read line by line, its atom lines as one block of bytes (one
/// `memchr` pass and one copy), which is then parsed without a per-line allocation and
/// with [`parse_f64`](crate::numbers) (bit for bit `str::parse`). With more than one
/// rayon thread, a batch of frames (at most two per thread and [`BATCH_BYTES`] of text)
/// is read ahead and parsed in parallel; the frames come out in file order either way, and
/// an error comes out where the frame it belongs to would have.
pub struct DumpReader<R> {
    lines: LineReader<R>,
    species: SpeciesTable,
    failed: bool,
    /// Frames parsed ahead, in file order; an error is last.
    ready: VecDeque<Result<Frame, IoError>>,
    /// Buffers of parsed frames, kept for the next ones.
    spare: Vec<Vec<u8>>,
}

/// The most text a parallel batch of frames holds (after its first frame).
pub const BATCH_BYTES: usize = 64 << 20;

impl DumpReader<BufReader<File>> {
    /// Opens a dump whose atom type k is species k − 1 of `species`.
    pub fn open(path: impl AsRef<Path>, species: SpeciesTable) -> Result<Self, IoError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| IoError::io(path, e))?;
        Ok(Self::new(BufReader::with_capacity(1 << 20, file), path, species))
    }
}

/// A frame whose header is read and whose atom lines are still text.
struct RawFrame {
    step: u64,
    time: Option<f64>,
    simbox: SimBox,
    n_atoms: usize,
    names: Vec<String>,
    columns: Columns,
    /// The atom lines, terminators included.
    text: Vec<u8>,
    /// The line number of the first atom line.
    first_line: usize,
    /// Atom lines read: fewer than `n_atoms` where the file ended.
    lines: usize,
}

impl<R: BufRead> DumpReader<R> {
    /// A reader over any buffered input; `path` only labels error messages.
    pub fn new(inner: R, path: impl Into<PathBuf>, species: SpeciesTable) -> Self {
        Self {
            lines: LineReader::new(inner, path.into()),
            species,
            failed: false,
            ready: VecDeque::new(),
            spare: Vec::new(),
        }
    }

    /// The next frame, or `None` at the end of the file.
    pub fn read_frame(&mut self) -> Result<Option<Frame>, IoError> {
        if self.ready.is_empty() && !self.failed {
            self.read_ahead();
        }
        match self.ready.pop_front() {
            Some(result) => {
                self.failed |= result.is_err();
                result.map(Some)
            }
            None => Ok(None),
        }
    }

    /// Reads and parses the next frame, or a batch of frames in parallel, into `ready`.
    fn read_ahead(&mut self) {
        let threads = rayon::current_num_threads();
        let mut batch = Vec::new();
        let mut bytes = 0;
        let mut failure = None;
        while batch.len() < if threads < 2 { 1 } else { 2 * threads } && bytes < BATCH_BYTES {
            match self.read_raw() {
                Ok(Some(raw)) => {
                    bytes += raw.text.len();
                    let ended = raw.lines < raw.n_atoms;
                    batch.push(raw);
                    if ended {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let path = self.lines.path();
        let species = &self.species;
        let parsed: Vec<Result<Frame, IoError>> = if batch.len() < 2 {
            batch.iter().map(|raw| raw.parse(path, species)).collect()
        } else {
            batch.par_iter().map(|raw| raw.parse(path, species)).collect()
        };
        self.spare.extend(batch.into_iter().map(|raw| raw.text));
        for result in parsed {
            let failed = result.is_err();
            self.ready.push_back(result);
            if failed {
                return;
            }
        }
        if let Some(e) = failure {
            self.ready.push_back(Err(e));
        }
    }

    fn next_line(&mut self, expected: &str) -> Result<(), IoError> {
        if self.lines.advance()? {
            Ok(())
        } else {
            Err(IoError::parse(
                self.lines.path(),
                self.lines.line_no(),
                format!("file ends where {expected} should follow"),
            ))
        }
    }

    fn expect_item(&mut self, item: &str) -> Result<(), IoError> {
        self.next_line(&format!("'ITEM: {item}'"))?;
        let line = self.lines.line().trim();
        if line.strip_prefix("ITEM:").map(str::trim) == Some(item) {
            Ok(())
        } else {
            Err(self.lines.loc().err(format!("expected 'ITEM: {item}', found '{line}'")))
        }
    }

    /// Reads the next frame's header and the text of its atom lines.
    fn read_raw(&mut self) -> Result<Option<RawFrame>, IoError> {
        if !self.lines.advance_non_blank()? {
            return Ok(None);
        }
        let mut time = None;
        let step = loop {
            let loc = self.lines.loc();
            let item = self.lines.line().trim().to_string();
            match item.strip_prefix("ITEM:").map(str::trim) {
                Some("UNITS") => {
                    self.next_line("the unit style")?;
                    let units = self.lines.line().trim();
                    if units != "metal" {
                        return Err(self
                            .lines
                            .loc()
                            .err(format!("dump is in '{units}' units, calcine reads metal only")));
                    }
                }
                Some("TIME") => {
                    self.next_line("the time")?;
                    time = Some(self.lines.loc().f64(self.lines.line().trim(), "time")?);
                }
                Some("TIMESTEP") => {
                    self.next_line("the timestep")?;
                    let token = self.lines.line().trim();
                    let step = token.parse::<u64>().map_err(|_| {
                        self.lines.loc().err(format!("timestep is '{token}', which is not a non-negative integer"))
                    })?;
                    break step;
                }
                _ => return Err(loc.err(format!("expected 'ITEM: TIMESTEP', found '{item}'"))),
            }
            self.next_line("'ITEM: TIMESTEP'")?;
        };

        self.expect_item("NUMBER OF ATOMS")?;
        self.next_line("the number of atoms")?;
        let n_atoms = self.lines.loc().count(self.lines.line().trim(), "number of atoms")?;

        let simbox = self.read_box()?;

        self.next_line("'ITEM: ATOMS'")?;
        let columns_loc = self.lines.loc();
        let header = self.lines.line().trim().to_string();
        let names: Vec<String> = match header.strip_prefix("ITEM: ATOMS") {
            Some(rest) => rest.split_whitespace().map(str::to_string).collect(),
            None => return Err(columns_loc.err(format!("expected 'ITEM: ATOMS', found '{header}'"))),
        };
        let columns = Columns::find(&names, columns_loc)?;
        let first_line = columns_loc.line + 1;
        let mut text = self.spare.pop().unwrap_or_default();
        text.clear();
        let lines = self.lines.read_raw_lines(n_atoms, &mut text)?;
        Ok(Some(RawFrame { step, time, simbox, n_atoms, names, columns, text, first_line, lines }))
    }

    /// Reads `ITEM: BOX BOUNDS …` and its three lines, undoing LAMMPS's bounding box.
    fn read_box(&mut self) -> Result<SimBox, IoError> {
        self.next_line("'ITEM: BOX BOUNDS'")?;
        let loc = self.lines.loc();
        let line = self.lines.line().trim().to_string();
        let Some(rest) = line.strip_prefix("ITEM: BOX BOUNDS") else {
            return Err(loc.err(format!("expected 'ITEM: BOX BOUNDS', found '{line}'")));
        };
        let mut words: Vec<&str> = rest.split_whitespace().collect();
        let triclinic = words.starts_with(&["xy", "xz", "yz"]);
        if triclinic {
            words.drain(..3);
        } else if words.starts_with(&["abc", "origin"]) {
            return Err(loc.err("general triclinic dumps (BOX BOUNDS abc origin) are not supported"));
        }
        let periodic = match words.as_slice() {
            [] => [true; 3],
            [x, y, z] => {
                let mut periodic = [false; 3];
                for (axis, flag) in [x, y, z].iter().enumerate() {
                    if flag.len() != 2 || !flag.chars().all(|c| "pfsm".contains(c)) {
                        return Err(loc.err(format!("boundary flag '{flag}' is not two of p, f, s, m")));
                    }
                    periodic[axis] = **flag == "pp";
                }
                periodic
            }
            _ => return Err(loc.err(format!("BOX BOUNDS has {} boundary flags, expected 3", words.len()))),
        };
        let header_line = loc.line;
        let n_numbers = if triclinic { 3 } else { 2 };
        let mut bounds = [[0.0; 3]; 3];
        for (axis, name) in ["x", "y", "z"].iter().enumerate() {
            self.next_line(&format!("the {name} bounds"))?;
            let loc = self.lines.loc();
            let tokens: Vec<&str> = self.lines.line().split_whitespace().collect();
            if tokens.len() != n_numbers {
                return Err(loc.err(format!("{name} bounds line has {} numbers, expected {n_numbers}", tokens.len())));
            }
            for (k, token) in tokens.iter().enumerate() {
                bounds[axis][k] = loc.f64(token, &format!("{name} bound"))?;
            }
        }
        let tilt = [bounds[0][2], bounds[1][2], bounds[2][2]];
        let [xy, xz, yz] = tilt;
        let x_low = 0f64.min(xy).min(xz).min(xy + xz);
        let x_high = 0f64.max(xy).max(xz).max(xy + xz);
        let lo = Vec3::new(bounds[0][0] - x_low, bounds[1][0] - 0f64.min(yz), bounds[2][0]);
        let hi = Vec3::new(bounds[0][1] - x_high, bounds[1][1] - 0f64.max(yz), bounds[2][1]);
        SimBox::triclinic(lo, [hi.x - lo.x, hi.y - lo.y, hi.z - lo.z], tilt, periodic)
            .map_err(|e| IoError::parse(self.lines.path(), header_line, format!("box bounds give no valid box: {e}")))
    }
}

impl RawFrame {
    /// The frame, from its header and the text of its atom lines; `path` labels errors.
    fn parse(&self, path: &Path, species_table: &SpeciesTable) -> Result<Frame, IoError> {
        let n_atoms = self.n_atoms;
        let columns = &self.columns;
        let names = &self.names;
        let simbox = &self.simbox;
        // The count comes from the file; reserve no more than a sane amount up front.
        let capacity = n_atoms.min(MAX_RESERVED_ATOMS);
        let mut ids = Vec::with_capacity(capacity);
        let mut species = Vec::with_capacity(capacity);
        let mut positions = Vec::with_capacity(capacity);
        let mut images = Vec::new();
        let mut velocities = Vec::new();
        let mut forces = Vec::new();
        let roles = columns.roles(names.len());
        let n_types = species_table.len();
        let mut v = LineValues::default();
        // ASCII text takes the fused fast path line by line, and any line it declines
        // (unusual numbers, wrong column counts, bad values) the careful path, which gives
        // the same values or says what is wrong. Other text is split line by line as
        // `str`, so that Unicode whitespace and invalid UTF-8 are met as a `str` reader
        // meets them.
        let ascii = self.text.is_ascii();
        let mut tokens: Vec<&[u8]> = Vec::with_capacity(names.len() + 1);
        let mut rest: &[u8] = &self.text;
        for atom_idx in 0..self.lines {
            let fast = match (&roles, ascii) {
                (Some(roles), true) => fast_line(rest, roles, n_types, &mut v),
                _ => None,
            };
            if let Some(used) = fast {
                rest = &rest[used..];
            } else {
                let loc = Loc::new(path, self.first_line + atom_idx);
                let (line, next) = match memchr::memchr(b'\n', rest) {
                    Some(end) => (&rest[..end], &rest[end + 1..]),
                    None => (rest, &rest[rest.len()..]),
                };
                rest = next;
                tokens.clear();
                if ascii {
                    split_ascii_fields(line, &mut tokens);
                } else {
                    let line = std::str::from_utf8(line).map_err(|_| loc.err("line is not valid UTF-8"))?;
                    tokens.extend(line.split_whitespace().map(str::as_bytes));
                }
                if line.starts_with(b"ITEM:") {
                    let shown = String::from_utf8_lossy(line);
                    return Err(loc.err(format!("found '{}' after {atom_idx} of {n_atoms} atoms", shown.trim())));
                }
                careful_line(&tokens, names, columns, loc, n_types, &mut v)?;
            }
            ids.push(if columns.id.is_some() { v.id } else { atom_idx as u64 + 1 });
            species.push(SpeciesId(v.lammps_type as u32 - 1));
            let x = Vec3::new(v.reals[0], v.reals[1], v.reals[2]);
            positions.push(if columns.scaled { simbox.to_cartesian(&x) } else { x });
            if columns.image.is_some() {
                images.push(v.image);
            }
            if columns.velocity.is_some() {
                velocities.push(Vec3::new(v.reals[3], v.reals[4], v.reals[5]));
            }
            if columns.force.is_some() {
                forces.push(Vec3::new(v.reals[6], v.reals[7], v.reals[8]));
            }
        }
        if self.lines < n_atoms {
            return Err(IoError::parse(
                path,
                self.first_line - 1 + self.lines,
                format!("file ends where atom {} of {n_atoms} should follow", self.lines + 1),
            ));
        }

        let order = sort_order(&ids).map_err(|(_, second)| IoError::DuplicateId {
            path: path.to_path_buf(),
            line: self.first_line + second,
            id: ids[second],
        })?;
        // Dumps are usually written in id order: then nothing moves.
        let sorted = order.iter().enumerate().all(|(i, &k)| i == k);
        fn permute<T: Copy>(values: Vec<T>, order: &[usize], sorted: bool) -> Vec<T> {
            if sorted {
                values
            } else {
                order.iter().map(|&k| values[k]).collect()
            }
        }
        Ok(Frame {
            step: Some(self.step),
            time: self.time,
            simbox: self.simbox.clone(),
            species_table: species_table.clone(),
            ids: permute(ids, &order, sorted).into_iter().map(AtomId).collect(),
            species: permute(species, &order, sorted),
            positions: permute(positions, &order, sorted),
            position_kind: columns.position_kind,
            images: columns.image.map(|_| permute(images, &order, sorted)),
            per_atom_energy: None,
            per_atom_virial: None,
            extra: Vec::new(),
            velocities: columns.velocity.map(|_| permute(velocities, &order, sorted)),
            forces: columns.force.map(|_| permute(forces, &order, sorted)),
            info: Default::default(),
        })
    }
}

/// The values calcine takes from one atom line.
#[derive(Default)]
struct LineValues {
    id: u64,
    lammps_type: i64,
    /// Position, velocity, force.
    reals: [f64; 9],
    image: [i32; 3],
}

/// What calcine takes from a column of `ITEM: ATOMS`.
#[derive(Clone, Copy)]
enum Role {
    Skip,
    Id,
    Type,
    /// Index into [`LineValues::reals`].
    Real(usize),
    /// Index into [`LineValues::image`].
    Image(usize),
}

/// Whether `c` separates fields within a line (ASCII whitespace but the line feed).
#[inline]
fn is_inline_space(c: u8) -> bool {
    c == b' ' || c == b'\t' || c == b'\r' || c == 0x0b || c == 0x0c
}

/// Digits only, at most `max` of them, as an integer; the bytes taken.
#[inline]
fn plain_digits(s: &[u8], max: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    let mut i = 0;
    while let Some(d) = s.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d < 10) {
        value = 10 * value + u64::from(d);
        i += 1;
        if i > max {
            return None;
        }
    }
    (i > 0).then_some((value, i))
}

/// The fused fast path over one atom line at the start of `text`: splits and parses in
/// one pass and returns the bytes of the line (its line feed included), or `None` for
/// anything out of the ordinary, which the careful path then handles. Where it succeeds
/// it gives exactly the careful path's values: separators are those of
/// `split_whitespace`, and a number is taken only when it ends at a separator, so the
/// token is the number [`parse_f64_prefix`] read (or it is parsed whole by
/// [`parse_f64`]).
#[inline]
fn fast_line(text: &[u8], roles: &[Role], n_types: usize, v: &mut LineValues) -> Option<usize> {
    if text.first() == Some(&b'I') {
        return None; // perhaps "ITEM:"
    }
    let n = text.len();
    let mut i = 0;
    let mut field = 0;
    loop {
        while i < n && is_inline_space(text[i]) {
            i += 1;
        }
        if i == n || text[i] == b'\n' {
            break;
        }
        let token = &text[i..];
        let used = match *roles.get(field)? {
            Role::Real(slot) => {
                // The fast path's values are always finite (Clinger's range).
                let (x, used) = match parse_f64_prefix(token) {
                    Some((x, used)) if token.get(used).is_none_or(|&c| is_ascii_space(c)) => (x, used),
                    _ => {
                        let used = token.iter().position(|&c| is_ascii_space(c)).unwrap_or(token.len());
                        let x = parse_f64(&token[..used])?;
                        if !x.is_finite() {
                            return None;
                        }
                        (x, used)
                    }
                };
                v.reals[slot] = x;
                used
            }
            Role::Id => {
                let (id, used) = plain_digits(token, 19)?;
                if id == 0 {
                    return None;
                }
                v.id = id;
                used
            }
            Role::Type => {
                let (t, used) = plain_digits(token, 18)?;
                if t == 0 || t as usize > n_types {
                    return None;
                }
                v.lammps_type = t as i64;
                used
            }
            Role::Image(k) => {
                let negative = token[0] == b'-';
                let (m, used) = plain_digits(&token[usize::from(negative)..], 9)?;
                v.image[k] = if negative { -(m as i32) } else { m as i32 };
                used + usize::from(negative)
            }
            Role::Skip => token.iter().position(|&c| is_ascii_space(c)).unwrap_or(token.len()),
        };
        i += used;
        if i < n && !is_ascii_space(text[i]) {
            return None;
        }
        field += 1;
    }
    if field != roles.len() {
        return None;
    }
    Some(if i < n { i + 1 } else { i })
}

/// The careful path over one atom line split into `tokens`: the values, or what is wrong
/// with the line, in the order the checks have always been made.
fn careful_line(
    tokens: &[&[u8]],
    names: &[String],
    columns: &Columns,
    loc: Loc<'_>,
    n_types: usize,
    v: &mut LineValues,
) -> Result<(), IoError> {
    if tokens.len() != names.len() {
        return Err(loc.err(format!("atom line has {} columns, ITEM: ATOMS declares {}", tokens.len(), names.len())));
    }
    if let Some(k) = columns.id {
        v.id = loc.atom_id_bytes(tokens[k])?;
    }
    let lammps_type = loc.i64_bytes(tokens[columns.lammps_type], "atom type")?;
    if lammps_type < 1 || lammps_type as usize > n_types {
        return Err(IoError::TypeOutOfRange { path: loc.path.to_path_buf(), line: loc.line, lammps_type, n_types });
    }
    v.lammps_type = lammps_type;
    let [i, j, k] = columns.position;
    let x = loc.vec3_bytes([tokens[i], tokens[j], tokens[k]], [&names[i], &names[j], &names[k]])?;
    v.reals[..3].copy_from_slice(&[x.x, x.y, x.z]);
    if let Some([i, j, k]) = columns.image {
        v.image = [loc.i32_bytes(tokens[i], "ix")?, loc.i32_bytes(tokens[j], "iy")?, loc.i32_bytes(tokens[k], "iz")?];
    }
    if let Some([i, j, k]) = columns.velocity {
        let x = loc.vec3_bytes([tokens[i], tokens[j], tokens[k]], ["vx", "vy", "vz"])?;
        v.reals[3..6].copy_from_slice(&[x.x, x.y, x.z]);
    }
    if let Some([i, j, k]) = columns.force {
        let x = loc.vec3_bytes([tokens[i], tokens[j], tokens[k]], ["fx", "fy", "fz"])?;
        v.reals[6..].copy_from_slice(&[x.x, x.y, x.z]);
    }
    Ok(())
}

impl<R: BufRead> FrameReader for DumpReader<R> {
    fn read_frame(&mut self) -> Result<Option<Frame>, IoError> {
        DumpReader::read_frame(self)
    }

    /// Frames parsed ahead first, then each frame's header read here and its atom lines
    /// left to parse.
    fn read_pending(&mut self) -> Result<Option<Pending>, IoError> {
        if let Some(result) = self.ready.pop_front() {
            self.failed |= result.is_err();
            return result.map(|frame| Some(Pending::Ready(Box::new(frame))));
        }
        if self.failed {
            return Ok(None);
        }
        match self.read_raw() {
            Ok(Some(raw)) => {
                let (path, species) = (self.lines.path().to_path_buf(), self.species.clone());
                Ok(Some(Pending::Unparsed(Box::new(move || raw.parse(&path, &species)))))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }
}

impl<R: BufRead> Iterator for DumpReader<R> {
    type Item = Result<Frame, IoError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_frame().transpose()
    }
}

/// Column indices of the quantities calcine reads.
struct Columns {
    id: Option<usize>,
    lammps_type: usize,
    position: [usize; 3],
    position_kind: PositionKind,
    scaled: bool,
    image: Option<[usize; 3]>,
    velocity: Option<[usize; 3]>,
    force: Option<[usize; 3]>,
}

impl Columns {
    /// The role of each of `n_columns` columns; `None` (no fast path) should a column
    /// have two.
    fn roles(&self, n_columns: usize) -> Option<Vec<Role>> {
        let mut roles = vec![Role::Skip; n_columns];
        let mut clash = false;
        let mut set = |k: usize, role: Role| {
            clash |= !matches!(roles[k], Role::Skip);
            roles[k] = role;
        };
        if let Some(k) = self.id {
            set(k, Role::Id);
        }
        set(self.lammps_type, Role::Type);
        let triples = [(Some(self.position), 0), (self.velocity, 3), (self.force, 6)];
        for (triple, first) in triples {
            if let Some(ks) = triple {
                for (c, k) in ks.into_iter().enumerate() {
                    set(k, Role::Real(first + c));
                }
            }
        }
        if let Some(ks) = self.image {
            for (c, k) in ks.into_iter().enumerate() {
                set(k, Role::Image(c));
            }
        }
        (!clash).then_some(roles)
    }

    fn find(names: &[String], loc: Loc<'_>) -> Result<Self, IoError> {
        let find = |name: &str| names.iter().position(|n| n == name);
        let triple = |a: &str, b: &str, c: &str| Some([find(a)?, find(b)?, find(c)?]);
        let positions = [
            (triple("x", "y", "z"), PositionKind::Wrapped, false),
            (triple("xu", "yu", "zu"), PositionKind::Unwrapped, false),
            (triple("xs", "ys", "zs"), PositionKind::Wrapped, true),
            (triple("xsu", "ysu", "zsu"), PositionKind::Unwrapped, true),
        ];
        let Some((Some(position), position_kind, scaled)) = positions.into_iter().find(|p| p.0.is_some()) else {
            return Err(loc.err(
                "ITEM: ATOMS has no complete set of position columns (x y z, xu yu zu, xs ys zs or xsu ysu zsu)",
            ));
        };
        let lammps_type = find("type").ok_or_else(|| loc.err("ITEM: ATOMS has no type column"))?;
        Ok(Self {
            id: find("id"),
            lammps_type,
            position,
            position_kind,
            scaled,
            image: triple("ix", "iy", "iz"),
            velocity: triple("vx", "vy", "vz"),
            force: triple("fx", "fy", "fz"),
        })
    }
}

/// Writes LAMMPS `dump custom` frames, each with one `write_all` and a flush.
pub struct DumpWriter<W> {
    out: W,
    path: PathBuf,
    write_time: bool,
}

impl DumpWriter<File> {
    /// Creates (or truncates) the file at `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, IoError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|e| IoError::io(path, e))?;
        Ok(Self::new(file, path))
    }
}

impl<W: Write> DumpWriter<W> {
    /// A writer into any output; `path` only labels error messages.
    pub fn new(out: W, path: impl Into<PathBuf>) -> Self {
        Self { out, path: path.into(), write_time: false }
    }

    /// Also writes `ITEM: TIME` (ps) before each frame, as LAMMPS `dump_modify time yes`.
    pub fn with_time(mut self, write_time: bool) -> Self {
        self.write_time = write_time;
        self
    }

    /// Appends one frame.
    pub fn write_frame(&mut self, frame: &Frame) -> Result<(), IoError> {
        let text = format_frame(frame, self.write_time, &self.path)?;
        self.out.write_all(text.as_bytes()).map_err(|e| IoError::io(&self.path, e))?;
        self.out.flush().map_err(|e| IoError::io(&self.path, e))
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The text of one `dump custom` frame (with `ITEM: TIME` first when `write_time`); `path`
/// labels errors.
pub(crate) fn format_frame(frame: &Frame, write_time: bool, path: &Path) -> Result<String, IoError> {
    let order = frame.write_order(path)?;
    check_species_names(&frame.species_table, path)?;
    let simbox = &frame.simbox;
    let mut out = String::with_capacity(512 + 200 * order.len());
    if write_time {
        out.push_str("ITEM: TIME\n");
        push_shortest(&mut out, frame.time.unwrap_or(0.0));
        out.push('\n');
    }
    let step = frame.step.unwrap_or(0);
    out.push_str(&format!("ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{}\n", order.len()));
    let flags: Vec<&str> = simbox.periodic().iter().map(|&p| if p { "pp" } else { "ff" }).collect();
    let (lo, hi) = (simbox.lo(), simbox.hi());
    let mut bounds = [[lo.x, hi.x], [lo.y, hi.y], [lo.z, hi.z]];
    if simbox.is_triclinic() {
        let [xy, xz, yz] = simbox.tilt();
        bounds[0][0] += 0f64.min(xy).min(xz).min(xy + xz);
        bounds[0][1] += 0f64.max(xy).max(xz).max(xy + xz);
        bounds[1][0] += 0f64.min(yz);
        bounds[1][1] += 0f64.max(yz);
        out.push_str(&format!("ITEM: BOX BOUNDS xy xz yz {}\n", flags.join(" ")));
    } else {
        out.push_str(&format!("ITEM: BOX BOUNDS {}\n", flags.join(" ")));
    }
    for (axis, [low, high]) in bounds.iter().enumerate() {
        push_c_exp16(&mut out, *low);
        out.push(' ');
        push_c_exp16(&mut out, *high);
        if simbox.is_triclinic() {
            out.push(' ');
            push_c_exp16(&mut out, simbox.tilt()[axis]);
        }
        out.push('\n');
    }
    out.push_str("ITEM: ATOMS id type element x y z");
    if frame.velocities.is_some() {
        out.push_str(" vx vy vz");
    }
    if frame.forces.is_some() {
        out.push_str(" fx fy fz");
    }
    if frame.images.is_some() {
        out.push_str(" ix iy iz");
    }
    if frame.per_atom_energy.is_some() {
        out.push_str(" c_pe");
    }
    if frame.per_atom_virial.is_some() {
        out.push_str(" c_virial[1] c_virial[2] c_virial[3] c_virial[4] c_virial[5] c_virial[6]");
    }
    out.push('\n');
    for &k in &order {
        let element = &frame.species_table.get(frame.species[k]).name;
        out.push_str(&format!("{} {} {element}", frame.ids[k].0, frame.species[k].0 + 1));
        let mut push3 = |v: &Vec3| {
            for value in v.iter() {
                out.push(' ');
                push_shortest(&mut out, *value);
            }
        };
        push3(&frame.positions[k]);
        if let Some(velocities) = &frame.velocities {
            push3(&velocities[k]);
        }
        if let Some(forces) = &frame.forces {
            push3(&forces[k]);
        }
        if let Some(images) = &frame.images {
            let [ix, iy, iz] = images[k];
            out.push_str(&format!(" {ix} {iy} {iz}"));
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
        out.push('\n');
    }
    Ok(out)
}
