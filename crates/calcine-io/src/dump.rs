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

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use calcine_core::{AtomId, SimBox, SpeciesId, SpeciesTable, Vec3};

use crate::lines::{sort_order, LineReader, Loc, MAX_RESERVED_ATOMS};
use crate::numbers::{push_c_exp16, push_shortest};
use crate::structure::check_species_names;
use crate::{Frame, FrameReader, IoError, PositionKind};

/// Streams the frames of a LAMMPS text dump. After an error the iterator ends.
pub struct DumpReader<R> {
    lines: LineReader<R>,
    species: SpeciesTable,
    failed: bool,
}

impl DumpReader<BufReader<File>> {
    /// Opens a dump whose atom type k is species k − 1 of `species`.
    pub fn open(path: impl AsRef<Path>, species: SpeciesTable) -> Result<Self, IoError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| IoError::io(path, e))?;
        Ok(Self::new(BufReader::new(file), path, species))
    }
}

impl<R: BufRead> DumpReader<R> {
    /// A reader over any buffered input; `path` only labels error messages.
    pub fn new(inner: R, path: impl Into<PathBuf>, species: SpeciesTable) -> Self {
        Self { lines: LineReader::new(inner, path.into()), species, failed: false }
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

    fn read_frame_inner(&mut self) -> Result<Option<Frame>, IoError> {
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

        // The count comes from the file; reserve no more than a sane amount up front.
        let capacity = n_atoms.min(MAX_RESERVED_ATOMS);
        let mut ids = Vec::with_capacity(capacity);
        let mut species = Vec::with_capacity(capacity);
        let mut positions = Vec::with_capacity(capacity);
        let mut images = Vec::new();
        let mut velocities = Vec::new();
        let mut forces = Vec::new();
        let first_atom_line = columns_loc.line + 1;
        for atom_idx in 0..n_atoms {
            self.next_line(&format!("atom {} of {n_atoms}", atom_idx + 1))?;
            let loc = self.lines.loc();
            let line = self.lines.line();
            if line.starts_with("ITEM:") {
                return Err(loc.err(format!("found '{}' after {atom_idx} of {n_atoms} atoms", line.trim())));
            }
            let tokens: Vec<&str> = line.split_whitespace().collect();
            if tokens.len() != names.len() {
                return Err(loc.err(format!(
                    "atom line has {} columns, ITEM: ATOMS declares {}",
                    tokens.len(),
                    names.len()
                )));
            }
            ids.push(match columns.id {
                Some(k) => loc.atom_id(tokens[k])?,
                None => atom_idx as u64 + 1,
            });
            let lammps_type = loc.i64(tokens[columns.lammps_type], "atom type")?;
            if lammps_type < 1 || lammps_type as usize > self.species.len() {
                return Err(IoError::TypeOutOfRange {
                    path: loc.path.to_path_buf(),
                    line: loc.line,
                    lammps_type,
                    n_types: self.species.len(),
                });
            }
            species.push(SpeciesId(lammps_type as u32 - 1));
            let [i, j, k] = columns.position;
            let x = loc.vec3(&[tokens[i], tokens[j], tokens[k]], [&names[i], &names[j], &names[k]])?;
            positions.push(if columns.scaled { simbox.to_cartesian(&x) } else { x });
            if let Some([i, j, k]) = columns.image {
                images.push([loc.i32(tokens[i], "ix")?, loc.i32(tokens[j], "iy")?, loc.i32(tokens[k], "iz")?]);
            }
            if let Some([i, j, k]) = columns.velocity {
                velocities.push(loc.vec3(&[tokens[i], tokens[j], tokens[k]], ["vx", "vy", "vz"])?);
            }
            if let Some([i, j, k]) = columns.force {
                forces.push(loc.vec3(&[tokens[i], tokens[j], tokens[k]], ["fx", "fy", "fz"])?);
            }
        }

        let order = sort_order(&ids).map_err(|(_, second)| IoError::DuplicateId {
            path: self.lines.path().to_path_buf(),
            line: first_atom_line + second,
            id: ids[second],
        })?;
        fn permute<T: Copy>(values: &[T], order: &[usize]) -> Vec<T> {
            order.iter().map(|&k| values[k]).collect()
        }
        Ok(Some(Frame {
            step: Some(step),
            time,
            simbox,
            species_table: self.species.clone(),
            ids: order.iter().map(|&k| AtomId(ids[k])).collect(),
            species: permute(&species, &order),
            positions: permute(&positions, &order),
            position_kind: columns.position_kind,
            images: columns.image.map(|_| permute(&images, &order)),
            per_atom_energy: None,
            per_atom_virial: None,
            extra: Vec::new(),
            velocities: columns.velocity.map(|_| permute(&velocities, &order)),
            forces: columns.force.map(|_| permute(&forces, &order)),
            info: Default::default(),
        }))
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

impl<R: BufRead> FrameReader for DumpReader<R> {
    fn read_frame(&mut self) -> Result<Option<Frame>, IoError> {
        DumpReader::read_frame(self)
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
