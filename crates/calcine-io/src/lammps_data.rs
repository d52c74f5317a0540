//! LAMMPS data files for `atom_style atomic`: a reader and a writer.
//!
//! The reader understands the header keywords `atoms`, `atom types`, `xlo xhi`, `ylo yhi`,
//! `zlo zhi` and `xy xz yz` (counts of bonds, angles and the like are accepted when they
//! are 0), and the sections `Masses`, `Atoms` (optionally `Atoms # atomic`; lines are
//! `id type x y z` with 3 optional integer image flags) and `Velocities` (Å/ps).
//! Force-field sections (`Pair Coeffs`, `PairIJ Coeffs`, …) are skipped with a warning;
//! any other section is an error. `#` starts a comment anywhere.
//!
//! LAMMPS types become species through a list of names given by the caller, as in
//! `pair_coeff * * Cu_u3.eam Cu Ni`: type `k` is species `names[k-1]`, and several types
//! may share one name if their masses agree. An empty list takes the names from the
//! comments of the `Masses` lines (`1 63.546 # Cu`), which is what the writer puts there.
//!
//! A data file does not record periodicity; the reader returns a box periodic along every
//! axis (the LAMMPS default `boundary p p p`).
//!
//! The writer prints every number as `%.16e`, like LAMMPS `write_data`, so positions and
//! velocities read back bit for bit. Box lengths go through `xhi − xlo`, which is exact
//! for a box starting at 0 and may differ in the last bit otherwise.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use calcine_core::{SimBox, SpeciesTable, Vec3};

use crate::lines::{sort_order, LineReader, Loc};
use crate::numbers::push_c_exp16;
use crate::structure::{atoms_sorted_by_id, check_species_names};
use crate::{Frame, IoError, Structure};

/// Reads a LAMMPS data file (`atom_style atomic`); see the module documentation.
pub fn read_lammps_data(path: impl AsRef<Path>, species_names: &[&str]) -> Result<Structure, IoError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| IoError::io(path, e))?;
    parse_lammps_data(BufReader::new(file), path, species_names)
}

/// Reads a LAMMPS data file from any buffered input; `path` only labels error messages.
pub fn parse_lammps_data(
    inner: impl BufRead,
    path: impl Into<PathBuf>,
    species_names: &[&str],
) -> Result<Structure, IoError> {
    let mut lines = LineReader::new(inner, path.into());
    if !lines.advance()? {
        return Err(IoError::Empty { path: lines.path().to_path_buf() });
    }
    let (header, first_section) = read_header(&mut lines)?;
    let sections = read_sections(&mut lines, first_section)?;
    build_structure(lines.path(), &header, &sections, species_names)
}

/// Writes a LAMMPS data file (`atom_style atomic`, with image flags when the frame has
/// them) at `path`.
pub fn write_lammps_data(path: impl AsRef<Path>, frame: &Frame) -> Result<(), IoError> {
    let path = path.as_ref();
    let text = format_lammps_data(frame, path)?;
    let mut file = File::create(path).map_err(|e| IoError::io(path, e))?;
    file.write_all(text.as_bytes()).map_err(|e| IoError::io(path, e))?;
    file.flush().map_err(|e| IoError::io(path, e))
}

/// Writes a LAMMPS data file into any output; `path` only labels error messages.
pub fn write_lammps_data_to(mut out: impl Write, path: impl AsRef<Path>, frame: &Frame) -> Result<(), IoError> {
    let path = path.as_ref();
    let text = format_lammps_data(frame, path)?;
    out.write_all(text.as_bytes()).map_err(|e| IoError::io(path, e))?;
    out.flush().map_err(|e| IoError::io(path, e))
}

fn format_lammps_data(frame: &Frame, path: &Path) -> Result<String, IoError> {
    let order = frame.write_order(path)?;
    check_species_names(&frame.species_table, path)?;
    let simbox = &frame.simbox;
    let (lo, hi) = (simbox.lo(), simbox.hi());
    let mut out = String::with_capacity(512 + 160 * order.len());
    out.push_str(&format!("LAMMPS data file written by calcine, timestep = {}\n\n", frame.step.unwrap_or(0)));
    out.push_str(&format!("{} atoms\n{} atom types\n\n", order.len(), frame.species_table.len()));
    for (axis, name) in ["x", "y", "z"].iter().enumerate() {
        push_numbers(&mut out, &[lo[axis], hi[axis]]);
        out.push_str(&format!(" {name}lo {name}hi\n"));
    }
    if simbox.is_triclinic() {
        push_numbers(&mut out, &simbox.tilt());
        out.push_str(" xy xz yz\n");
    }
    out.push_str("\nMasses\n\n");
    for (id, species) in frame.species_table.iter() {
        out.push_str(&format!("{} ", id.0 + 1));
        push_c_exp16(&mut out, species.mass);
        out.push_str(&format!(" # {}\n", species.name));
    }
    out.push_str("\nAtoms # atomic\n\n");
    for &k in &order {
        let lammps_type = frame.species[k].0 + 1;
        out.push_str(&format!("{} {lammps_type} ", frame.ids[k].0));
        push_numbers(&mut out, frame.positions[k].as_slice());
        if let Some(images) = &frame.images {
            let [ix, iy, iz] = images[k];
            out.push_str(&format!(" {ix} {iy} {iz}"));
        }
        out.push('\n');
    }
    if let Some(velocities) = &frame.velocities {
        out.push_str("\nVelocities\n\n");
        for &k in &order {
            out.push_str(&format!("{} ", frame.ids[k].0));
            push_numbers(&mut out, velocities[k].as_slice());
            out.push('\n');
        }
    }
    Ok(out)
}

fn push_numbers(out: &mut String, values: &[f64]) {
    for (k, value) in values.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        push_c_exp16(out, *value);
    }
}

/// Header values with the lines they came from.
#[derive(Default)]
struct Header {
    n_atoms: Option<(usize, usize)>,
    n_types: Option<(usize, usize)>,
    bounds: [Option<(f64, f64)>; 3],
    tilt: Option<[f64; 3]>,
    /// The line of the first section keyword, where the header ends.
    end_line: usize,
}

/// Header keywords calcine reads (or rejects with a specific message).
const KNOWN_KEYWORDS: [&str; 10] =
    ["atoms", "atom types", "xlo xhi", "ylo yhi", "zlo zhi", "xy xz yz", "avec", "bvec", "cvec", "abc origin"];

/// Header keywords that name features atom_style atomic does not have: accepted with a
/// count of 0, an error otherwise.
const ZERO_ONLY_KEYWORDS: [&str; 17] = [
    "bonds",
    "angles",
    "dihedrals",
    "impropers",
    "bond types",
    "angle types",
    "dihedral types",
    "improper types",
    "extra bond per atom",
    "extra angle per atom",
    "extra dihedral per atom",
    "extra improper per atom",
    "extra special per atom",
    "ellipsoids",
    "lines",
    "triangles",
    "bodies",
];

/// Reads header lines up to the first section keyword, which it returns with its line.
fn read_header<R: BufRead>(lines: &mut LineReader<R>) -> Result<(Header, Option<(usize, String)>), IoError> {
    let mut header = Header::default();
    while lines.advance()? {
        let loc = lines.loc();
        let content = strip_comment(lines.line()).trim();
        if content.is_empty() {
            continue;
        }
        if content.starts_with(|c: char| c.is_ascii_alphabetic()) {
            header.end_line = loc.line;
            return Ok((header, Some((loc.line, lines.line().to_string()))));
        }
        let tokens: Vec<&str> = content.split_whitespace().collect();
        let known = KNOWN_KEYWORDS
            .iter()
            .chain(&ZERO_ONLY_KEYWORDS)
            .filter(|k| {
                let words: Vec<&str> = k.split(' ').collect();
                tokens.len() > words.len() && tokens.ends_with(&words)
            })
            .max_by_key(|k| k.len());
        let n_numbers = match known {
            Some(k) => tokens.len() - k.split(' ').count(),
            None => {
                tokens.iter().take_while(|t| t.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c))).count()
            }
        };
        let keyword = tokens[n_numbers..].join(" ");
        let numbers = &tokens[..n_numbers];
        let expect = |n: usize| {
            if numbers.len() == n {
                Ok(())
            } else {
                Err(loc.err(format!("header line '{keyword}' needs {n} numbers, found {}", numbers.len())))
            }
        };
        match keyword.as_str() {
            "atoms" => {
                expect(1)?;
                header.n_atoms = Some((loc.count(numbers[0], "number of atoms")?, loc.line));
            }
            "atom types" => {
                expect(1)?;
                header.n_types = Some((loc.count(numbers[0], "number of atom types")?, loc.line));
            }
            "xlo xhi" | "ylo yhi" | "zlo zhi" => {
                expect(2)?;
                let axis = usize::from(keyword.as_bytes()[0] - b'x');
                let lo = loc.f64(numbers[0], &format!("{}lo", &keyword[..1]))?;
                let hi = loc.f64(numbers[1], &format!("{}hi", &keyword[..1]))?;
                header.bounds[axis] = Some((lo, hi));
            }
            "xy xz yz" => {
                expect(3)?;
                header.tilt =
                    Some([loc.f64(numbers[0], "xy")?, loc.f64(numbers[1], "xz")?, loc.f64(numbers[2], "yz")?]);
            }
            "avec" | "bvec" | "cvec" | "abc origin" => {
                return Err(loc.err(format!(
                    "general triclinic header '{keyword}' is not supported; write the box as xlo xhi, ylo yhi, zlo zhi, xy xz yz"
                )));
            }
            k if ZERO_ONLY_KEYWORDS.contains(&k) => {
                expect(1)?;
                if loc.count(numbers[0], k)? != 0 {
                    return Err(loc.err(format!("'{content}' is not possible with atom_style atomic")));
                }
            }
            "" => return Err(loc.err(format!("header line '{content}' has no keyword"))),
            _ => return Err(loc.err(format!("unknown header keyword '{keyword}'"))),
        }
    }
    header.end_line = lines.line_no();
    Ok((header, None))
}

/// A section: its keyword line, the text after `#` on that line, and its non-blank lines.
struct Section {
    keyword_line: usize,
    style: Option<String>,
    lines: Vec<(usize, String)>,
}

#[derive(Default)]
struct Sections {
    masses: Option<Section>,
    atoms: Option<Section>,
    velocities: Option<Section>,
}

fn read_sections<R: BufRead>(
    lines: &mut LineReader<R>,
    mut keyword: Option<(usize, String)>,
) -> Result<Sections, IoError> {
    let mut sections = Sections::default();
    while let Some((keyword_line, text)) = keyword.take() {
        let name = strip_comment(&text).trim().to_string();
        let style = text.split_once('#').and_then(|(_, comment)| comment.split_whitespace().next().map(str::to_string));
        let mut section = Section { keyword_line, style, lines: Vec::new() };
        while lines.advance()? {
            let content = strip_comment(lines.line()).trim();
            if content.is_empty() {
                continue;
            }
            if content.starts_with(|c: char| c.is_ascii_alphabetic()) {
                keyword = Some((lines.line_no(), lines.line().to_string()));
                break;
            }
            section.lines.push((lines.line_no(), lines.line().to_string()));
        }
        let loc = Loc::new(lines.path(), keyword_line);
        let slot = match name.as_str() {
            "Masses" => &mut sections.masses,
            "Atoms" => &mut sections.atoms,
            "Velocities" => &mut sections.velocities,
            coeffs if coeffs.ends_with("Coeffs") => {
                tracing::warn!(path = %lines.path().display(), line = keyword_line, section = coeffs, "skipping force-field section of a data file");
                continue;
            }
            other => {
                return Err(loc.err(format!(
                    "section '{other}' is not supported (calcine reads atom_style atomic: Masses, Atoms, Velocities)"
                )))
            }
        };
        if slot.is_some() {
            return Err(loc.err(format!("section '{name}' appears twice")));
        }
        *slot = Some(section);
    }
    Ok(sections)
}

fn build_structure(
    path: &Path,
    header: &Header,
    sections: &Sections,
    species_names: &[&str],
) -> Result<Structure, IoError> {
    let end = Loc::new(path, header.end_line);
    let (n_atoms, atoms_line) = header.n_atoms.ok_or_else(|| end.err("header has no 'atoms' line"))?;
    let (n_types, types_line) = header.n_types.ok_or_else(|| end.err("header has no 'atom types' line"))?;
    let mut lo = Vec3::zeros();
    let mut lengths = [0.0; 3];
    for (axis, name) in ["x", "y", "z"].iter().enumerate() {
        let (low, high) =
            header.bounds[axis].ok_or_else(|| end.err(format!("header has no '{name}lo {name}hi' line")))?;
        lo[axis] = low;
        lengths[axis] = high - low;
    }
    let simbox = SimBox::triclinic(lo, lengths, header.tilt.unwrap_or([0.0; 3]), [true; 3])
        .map_err(|e| end.err(format!("header gives no valid box: {e}")))?;

    let masses = read_masses(path, sections.masses.as_ref(), n_types, end)?;
    let names: Vec<String> = if species_names.is_empty() {
        masses
            .iter()
            .enumerate()
            .map(|(k, (_, name, line))| {
                name.clone().ok_or_else(|| {
                    Loc::new(path, *line).err(format!(
                        "no species names were given and the Masses line of type {} has no '# name' comment",
                        k + 1
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    } else if species_names.len() == n_types {
        species_names.iter().map(|s| s.to_string()).collect()
    } else {
        return Err(Loc::new(path, types_line)
            .err(format!("file has {n_types} atom types but {} species names were given", species_names.len())));
    };
    let mut species = SpeciesTable::default();
    let mut type_species = Vec::with_capacity(n_types);
    for (k, name) in names.iter().enumerate() {
        let (mass, _, line) = &masses[k];
        let id = species.find_or_add(name, *mass);
        let known = species.get(id).mass;
        if known != *mass {
            return Err(Loc::new(path, *line).err(format!(
                "type {} is species '{name}' with mass {mass}, but an earlier type of '{name}' has mass {known}",
                k + 1
            )));
        }
        type_species.push(id);
    }

    let atoms_section = match &sections.atoms {
        Some(section) => section,
        None if n_atoms == 0 => &Section { keyword_line: atoms_line, style: None, lines: Vec::new() },
        None => {
            return Err(Loc::new(path, atoms_line)
                .err(format!("header declares {n_atoms} atoms but there is no Atoms section")))
        }
    };
    let section_loc = Loc::new(path, atoms_section.keyword_line);
    if let Some(style) = &atoms_section.style {
        if style != "atomic" {
            return Err(section_loc.err(format!("atom style '{style}' is not supported, only atomic")));
        }
    }
    if atoms_section.lines.len() != n_atoms {
        return Err(section_loc.err(format!(
            "Atoms section has {} lines but the header declares {n_atoms} atoms",
            atoms_section.lines.len()
        )));
    }
    let mut ids = Vec::with_capacity(n_atoms);
    let mut atom_species = Vec::with_capacity(n_atoms);
    let mut positions = Vec::with_capacity(n_atoms);
    let mut images = Vec::with_capacity(n_atoms);
    for (line, text) in &atoms_section.lines {
        let loc = Loc::new(path, *line);
        let tokens: Vec<&str> = strip_comment(text).split_whitespace().collect();
        if tokens.len() != 5 && tokens.len() != 8 {
            return Err(loc.err(format!(
                "Atoms line has {} columns, expected 5 (id type x y z) or 8 (id type x y z ix iy iz)",
                tokens.len()
            )));
        }
        ids.push(loc.atom_id(tokens[0])?);
        let lammps_type = loc.i64(tokens[1], "atom type")?;
        if lammps_type < 1 || lammps_type as usize > n_types {
            return Err(IoError::TypeOutOfRange { path: path.to_path_buf(), line: *line, lammps_type, n_types });
        }
        atom_species.push(type_species[lammps_type as usize - 1]);
        positions.push(loc.vec3(&tokens[2..5], ["x", "y", "z"])?);
        images.push(if tokens.len() == 8 {
            [loc.i32(tokens[5], "ix")?, loc.i32(tokens[6], "iy")?, loc.i32(tokens[7], "iz")?]
        } else {
            [0; 3]
        });
    }
    let order = sort_order(&ids).map_err(|(_, second)| IoError::DuplicateId {
        path: path.to_path_buf(),
        line: atoms_section.lines[second].0,
        id: ids[second],
    })?;

    let velocities = read_velocities(path, sections.velocities.as_ref(), &ids, &order)?;
    let atoms = atoms_sorted_by_id(&order, &ids, &atom_species, &positions, &velocities, &images);
    Ok(Structure { simbox, species, atoms })
}

/// Per type (index k for type k+1): mass, the name in the line's comment, and the line.
fn read_masses(
    path: &Path,
    section: Option<&Section>,
    n_types: usize,
    end: Loc<'_>,
) -> Result<Vec<(f64, Option<String>, usize)>, IoError> {
    let section = section.ok_or_else(|| end.err("file has no Masses section, so the species masses are unknown"))?;
    let section_loc = Loc::new(path, section.keyword_line);
    if section.lines.len() != n_types {
        return Err(section_loc.err(format!(
            "Masses section has {} lines but the header declares {n_types} atom types",
            section.lines.len()
        )));
    }
    let mut masses: Vec<Option<(f64, Option<String>, usize)>> = vec![None; n_types];
    for (line, text) in &section.lines {
        let loc = Loc::new(path, *line);
        let tokens: Vec<&str> = strip_comment(text).split_whitespace().collect();
        if tokens.len() != 2 {
            return Err(loc.err(format!("Masses line has {} columns, expected 2 (type mass)", tokens.len())));
        }
        let lammps_type = loc.i64(tokens[0], "atom type")?;
        if lammps_type < 1 || lammps_type as usize > n_types {
            return Err(IoError::TypeOutOfRange { path: path.to_path_buf(), line: *line, lammps_type, n_types });
        }
        let mass = loc.f64(tokens[1], "mass")?;
        if mass <= 0.0 {
            return Err(loc.err(format!("mass is {mass}, it must be positive")));
        }
        let name = text.split_once('#').and_then(|(_, comment)| comment.split_whitespace().next().map(str::to_string));
        let slot = &mut masses[lammps_type as usize - 1];
        if slot.is_some() {
            return Err(loc.err(format!("type {lammps_type} has a second mass")));
        }
        *slot = Some((mass, name, *line));
    }
    masses
        .into_iter()
        .enumerate()
        .map(|(k, m)| m.ok_or_else(|| section_loc.err(format!("Masses section gives no mass for type {}", k + 1))))
        .collect()
}

/// Velocities in the order of `ids` (zeros without a Velocities section).
fn read_velocities(path: &Path, section: Option<&Section>, ids: &[u64], order: &[usize]) -> Result<Vec<Vec3>, IoError> {
    let mut velocities = vec![Vec3::zeros(); ids.len()];
    let Some(section) = section else {
        return Ok(velocities);
    };
    if section.lines.len() != ids.len() {
        return Err(Loc::new(path, section.keyword_line).err(format!(
            "Velocities section has {} lines but there are {} atoms",
            section.lines.len(),
            ids.len()
        )));
    }
    let sorted_ids: Vec<u64> = order.iter().map(|&k| ids[k]).collect();
    let mut seen = vec![false; ids.len()];
    for (line, text) in &section.lines {
        let loc = Loc::new(path, *line);
        let tokens: Vec<&str> = strip_comment(text).split_whitespace().collect();
        if tokens.len() != 4 {
            return Err(loc.err(format!("Velocities line has {} columns, expected 4 (id vx vy vz)", tokens.len())));
        }
        let id = loc.atom_id(tokens[0])?;
        let rank = sorted_ids
            .binary_search(&id)
            .map_err(|_| loc.err(format!("velocity given for atom id {id}, which is not in Atoms")))?;
        if seen[rank] {
            return Err(IoError::DuplicateId { path: path.to_path_buf(), line: *line, id });
        }
        seen[rank] = true;
        velocities[order[rank]] = loc.vec3(&tokens[1..4], ["vx", "vy", "vz"])?;
    }
    Ok(velocities)
}

fn strip_comment(line: &str) -> &str {
    line.split_once('#').map_or(line, |(content, _)| content)
}
