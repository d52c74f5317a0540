//! EAM potential files (DYNAMO funcfl and setfl, and the Finnis–Sinclair variant) and the
//! per-species tables built from them.
//!
//! Reading follows LAMMPS's `PotentialFileReader`: the comment lines at the top are skipped
//! whole; after them, `#` starts a comment; a header record (`Z mass …`, `Nrho drho Nr dr
//! cutoff`) may continue over several lines until it has enough words; an array of N values
//! may span any number of lines, each array starts on a new line, and words left on the
//! line of an array's last value are ignored.

use crate::table::{regrid, Spline, MIN_KNOTS};
use calcine_potential::text::{PotentialReader, Separators};
use calcine_potential::{read_potential_text, PotentialError};
use std::path::{Path, PathBuf};

/// One DYNAMO funcfl file (`pair_style eam`): a single element.
///
/// Layout: a comment line; `Z mass a lattice`; `Nrho drho Nr dr cutoff`; F(ρ) (Nrho values);
/// Z(r) (Nr values, effective charge in √(Hartree·Bohr)); ρ(r) (Nr values).
#[derive(Debug, Clone, PartialEq)]
pub struct Funcfl {
    pub path: PathBuf,
    pub mass: f64,
    pub drho: f64,
    pub dr: f64,
    pub cutoff: f64,
    /// F at ρ = (k−1)·drho, k = 1 … Nrho.
    pub embedding: Vec<f64>,
    /// Z at r = (k−1)·dr.
    pub charge: Vec<f64>,
    /// ρ at r = (k−1)·dr.
    pub density: Vec<f64>,
}

/// Which multi-element layout a setfl-style file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetflKind {
    /// `eam/alloy`: one density function per element.
    Alloy,
    /// `eam/fs`: per element block, one density function for each element it contributes to.
    FinnisSinclair,
}

/// One multi-element DYNAMO setfl file (`pair_style eam/alloy`) or its Finnis–Sinclair
/// variant (`pair_style eam/fs`).
///
/// Layout: 3 comment lines; `N El₁ … El_N`; `Nrho drho Nr dr cutoff`; per element I:
/// `Z mass a lattice`, F_I(ρ) (Nrho values) and either ρ_I(r) (Nr values, alloy) or
/// ρ_{I,1}(r) … ρ_{I,N}(r) (fs); then r·φ_{IJ}(r) for I ≥ J in the order 11, 21, 22, 31, …
#[derive(Debug, Clone, PartialEq)]
pub struct Setfl {
    pub path: PathBuf,
    pub kind: SetflKind,
    pub elements: Vec<String>,
    pub masses: Vec<f64>,
    pub drho: f64,
    pub dr: f64,
    pub cutoff: f64,
    /// F_I at ρ = (k−1)·drho.
    pub embedding: Vec<Vec<f64>>,
    /// Alloy: `density[I][0]` is ρ_I(r), the density an atom of element I puts on its
    /// neighbors. Fs: `density[I][J]` is the density an atom of element I puts on a neighbor
    /// of element J.
    pub density: Vec<Vec<Vec<f64>>>,
    /// r·φ_{IJ}(r) for I ≥ J, in file order (index I(I+1)/2 + J).
    pub r_phi: Vec<Vec<f64>>,
}

impl Funcfl {
    /// Reads a funcfl file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, PotentialError> {
        let path = path.as_ref();
        let text = read_potential_text(path)?;
        let mut r = PotentialReader::new(path, &text, Separators::Whitespace);
        r.skip_lines(1)?;
        let rec = r.record(2, "'Z mass a lattice'")?;
        rec.int(0, "Z")?;
        let mass = rec.float(1, "mass")?;
        let grid = Grid::read(&mut r)?;
        let embedding = r.array(grid.nrho, "F(rho)")?;
        let charge = r.array(grid.nr, "Z(r)")?;
        let density = r.array(grid.nr, "rho(r)")?;
        Ok(Self {
            path: path.to_path_buf(),
            mass,
            drho: grid.drho,
            dr: grid.dr,
            cutoff: grid.cutoff,
            embedding,
            charge,
            density,
        })
    }
}

impl Setfl {
    /// Reads a setfl (`kind = Alloy`) or Finnis–Sinclair (`kind = FinnisSinclair`) file.
    pub fn read(path: impl AsRef<Path>, kind: SetflKind) -> Result<Self, PotentialError> {
        let path = path.as_ref();
        let text = read_potential_text(path)?;
        let mut r = PotentialReader::new(path, &text, Separators::Whitespace);
        r.skip_lines(3)?;
        let rec = r.record(1, "'N El1 ... ElN'")?;
        let n = rec.int(0, "number of elements")?;
        if n <= 0 {
            return Err(rec.error(format!("number of elements must be positive, got {n}")));
        }
        let n = n as usize;
        if rec.len() != n + 1 {
            return Err(rec.error(format!("expected {n} element names after the count, found {}", rec.len() - 1)));
        }
        let elements: Vec<String> = (1..=n).map(|k| rec.word(k).to_string()).collect();
        let grid = Grid::read(&mut r)?;
        let mut masses = Vec::with_capacity(n);
        let mut embedding = Vec::with_capacity(n);
        let mut density = Vec::with_capacity(n);
        for el in &elements {
            let rec = r.record(2, "'Z mass a lattice'")?;
            rec.int(0, "Z")?;
            masses.push(rec.float(1, "mass")?);
            embedding.push(r.array(grid.nrho, &format!("F(rho) of {el}"))?);
            let n_density = match kind {
                SetflKind::Alloy => 1,
                SetflKind::FinnisSinclair => n,
            };
            let mut rows = Vec::with_capacity(n_density);
            for k in 0..n_density {
                let what = match kind {
                    SetflKind::Alloy => format!("rho(r) of {el}"),
                    SetflKind::FinnisSinclair => format!("rho(r) of {el} on {}", elements[k]),
                };
                rows.push(r.array(grid.nr, &what)?);
            }
            density.push(rows);
        }
        let mut r_phi = Vec::with_capacity(n * (n + 1) / 2);
        for i in 0..n {
            for j in 0..=i {
                r_phi.push(r.array(grid.nr, &format!("r*phi(r) of {}-{}", elements[i], elements[j]))?);
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            kind,
            elements,
            masses,
            drho: grid.drho,
            dr: grid.dr,
            cutoff: grid.cutoff,
            embedding,
            density,
            r_phi,
        })
    }

    /// Index of element `name`, or `UnknownSpecies`.
    fn element_index(&self, name: &str) -> Result<usize, PotentialError> {
        self.elements.iter().position(|e| e == name).ok_or_else(|| PotentialError::UnknownSpecies {
            path: self.path.clone(),
            name: name.to_string(),
            available: self.elements.clone(),
        })
    }
}

/// Hartree·Bohr in eV·Å as LAMMPS writes it: r·φ = 27.2 · 0.529 · Z_i Z_j.
const HARTREE_BOHR: f64 = 27.2 * 0.529;

/// Tables for the run's species, on one grid: what the evaluators read.
///
/// Indices are species indices ([`calcine_core::SpeciesId::index`]), `n` species:
/// `density(a, b)` is the density an atom of species `a` receives from a neighbor of
/// species `b` (LAMMPS `rhor_spline[type2rhor[b][a]]`); `r_phi(a, b)` is r·φ
/// (`z2r_spline[type2z2r[a][b]]`); `embedding(a)` is F (`frho_spline[type2frho[a]]`).
#[derive(Debug, Clone)]
pub struct EamTables {
    n_species: usize,
    nr: usize,
    nrho: usize,
    dr: f64,
    drho: f64,
    rdr: f64,
    rdrho: f64,
    rhomax: f64,
    cutoff: f64,
    masses: Vec<f64>,
    embedding: Vec<Spline>,
    density: Vec<Spline>,
    r_phi: Vec<Spline>,
}

impl EamTables {
    /// Tables for `pair_style eam` with one funcfl file per species, re-gridded as LAMMPS
    /// does: Δr = max Δr, Δρ = max Δρ, r_max = max (Nr−1)Δr, ρ_max = max (Nrho−1)Δρ over
    /// the files, Nr = ⌊r_max/Δr + ½⌋, Nrho = ⌊ρ_max/Δρ + ½⌋, every function resampled by
    /// [`regrid`], and r·φ_ij = 27.2·0.529·Z_i(r)·Z_j(r) with i the file read later.
    ///
    /// `files[k]` is the file of species k; files are told apart by path, and their order
    /// (which decides the rounding of r·φ) is the order in which they first appear, as with
    /// LAMMPS `pair_coeff` lines given in type order.
    pub fn from_funcfl(files: &[&Funcfl]) -> Self {
        assert!(!files.is_empty(), "at least one species");
        let mut unique: Vec<&Funcfl> = Vec::new();
        let mut file_of = Vec::with_capacity(files.len());
        for f in files {
            let k = match unique.iter().position(|u| u.path == f.path) {
                Some(k) => k,
                None => {
                    unique.push(f);
                    unique.len() - 1
                }
            };
            file_of.push(k);
        }
        let (mut dr, mut drho, mut rmax, mut rhomax) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for f in &unique {
            dr = dr.max(f.dr);
            drho = drho.max(f.drho);
            rmax = rmax.max((f.charge.len() - 1) as f64 * f.dr);
            rhomax = rhomax.max((f.embedding.len() - 1) as f64 * f.drho);
        }
        let nr = (rmax / dr + 0.5) as usize;
        let nrho = (rhomax / drho + 0.5) as usize;
        let cutoff = unique.iter().map(|f| f.cutoff).fold(0.0, f64::max);

        let frho: Vec<Spline> =
            unique.iter().map(|f| Spline::new(&regrid(&f.embedding, f.drho, nrho, drho), drho)).collect();
        let rhor: Vec<Spline> = unique.iter().map(|f| Spline::new(&regrid(&f.density, f.dr, nr, dr), dr)).collect();
        let charge: Vec<Vec<f64>> = unique.iter().map(|f| regrid(&f.charge, f.dr, nr, dr)).collect();
        // z2r for file pairs i >= j, LAMMPS's lower-triangle order.
        let mut z2r = Vec::new();
        for i in 0..unique.len() {
            for j in 0..=i {
                let v: Vec<f64> = charge[i].iter().zip(&charge[j]).map(|(zi, zj)| HARTREE_BOHR * zi * zj).collect();
                z2r.push(Spline::new(&v, dr));
            }
        }
        let n = files.len();
        let mut t = Self::empty(n, nr, nrho, dr, drho, rhomax, cutoff);
        t.masses = file_of.iter().map(|&k| unique[k].mass).collect();
        for a in 0..n {
            t.embedding.push(frho[file_of[a]].clone());
        }
        // The density at a due to b is b's file's function, whatever a is.
        for _a in 0..n {
            for b in 0..n {
                t.density.push(rhor[file_of[b]].clone());
            }
        }
        for a in 0..n {
            for b in 0..n {
                t.r_phi.push(z2r[lower_triangle(file_of[a], file_of[b])].clone());
            }
        }
        t
    }

    /// Tables for `pair_style eam/alloy` or `eam/fs`, species mapped to elements by name.
    pub fn from_setfl<S: AsRef<str>>(file: &Setfl, species: &[S]) -> Result<Self, PotentialError> {
        assert!(!species.is_empty(), "at least one species");
        let element_of = species.iter().map(|s| file.element_index(s.as_ref())).collect::<Result<Vec<_>, _>>()?;
        let nrho = file.embedding[0].len();
        let nr = file.r_phi[0].len();
        let rhomax = (nrho - 1) as f64 * file.drho;
        let n = species.len();
        let mut t = Self::empty(n, nr, nrho, file.dr, file.drho, rhomax, file.cutoff);
        t.masses = element_of.iter().map(|&e| file.masses[e]).collect();
        for &e in &element_of {
            t.embedding.push(Spline::new(&file.embedding[e], file.drho));
        }
        for a in 0..n {
            for b in 0..n {
                let (ea, eb) = (element_of[a], element_of[b]);
                // Density at an atom of element ea from a neighbor of element eb: alloy uses
                // eb's function; fs uses eb's block, ea-th function (type2rhor[j][i] =
                // map[j]·N + map[i]).
                let v = match file.kind {
                    SetflKind::Alloy => &file.density[eb][0],
                    SetflKind::FinnisSinclair => &file.density[eb][ea],
                };
                t.density.push(Spline::new(v, file.dr));
            }
        }
        for a in 0..n {
            for b in 0..n {
                t.r_phi.push(Spline::new(&file.r_phi[lower_triangle(element_of[a], element_of[b])], file.dr));
            }
        }
        Ok(t)
    }

    fn empty(n: usize, nr: usize, nrho: usize, dr: f64, drho: f64, rhomax: f64, cutoff: f64) -> Self {
        Self {
            n_species: n,
            nr,
            nrho,
            dr,
            drho,
            rdr: 1.0 / dr,
            rdrho: 1.0 / drho,
            rhomax,
            cutoff,
            masses: Vec::new(),
            embedding: Vec::with_capacity(n),
            density: Vec::with_capacity(n * n),
            r_phi: Vec::with_capacity(n * n),
        }
    }

    pub fn n_species(&self) -> usize {
        self.n_species
    }
    /// Radial knots Nr.
    pub fn nr(&self) -> usize {
        self.nr
    }
    /// Density knots Nrho.
    pub fn nrho(&self) -> usize {
        self.nrho
    }
    /// Radial spacing Δr; also the closest approach the evaluators accept.
    pub fn dr(&self) -> f64 {
        self.dr
    }
    pub fn drho(&self) -> f64 {
        self.drho
    }
    /// 1/Δr, as LAMMPS's `rdr`.
    pub fn rdr(&self) -> f64 {
        self.rdr
    }
    /// 1/Δρ, as LAMMPS's `rdrho`.
    pub fn rdrho(&self) -> f64 {
        self.rdrho
    }
    /// Above this density F is extended linearly.
    pub fn rhomax(&self) -> f64 {
        self.rhomax
    }
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }
    /// Masses of the species in g/mol, from the file(s).
    pub fn masses(&self) -> &[f64] {
        &self.masses
    }
    /// F of species `a`.
    pub fn embedding_table(&self, a: usize) -> &Spline {
        &self.embedding[a]
    }
    /// Density received by species `a` from a neighbor of species `b`.
    pub fn density_table(&self, a: usize, b: usize) -> &Spline {
        &self.density[a * self.n_species + b]
    }
    /// r·φ between species `a` and `b`.
    pub fn r_phi_table(&self, a: usize, b: usize) -> &Spline {
        &self.r_phi[a * self.n_species + b]
    }

    /// F(ρ) and F′(ρ) of species `a`, with the linear extension above ρ_max in the energy.
    #[inline]
    pub fn embedding(&self, a: usize, rho: f64) -> (f64, f64) {
        let (m, p) = crate::table::density_point(rho, self.rdrho, self.nrho);
        let c = self.embedding[a].row(m);
        let fp = crate::table::cubic_derivative(c, p);
        let mut f = crate::table::cubic_value(c, p);
        if rho > self.rhomax {
            f += fp * (rho - self.rhomax);
        }
        (f, fp)
    }

    /// ρ and dρ/dr received by species `a` from species `b` at distance `r`.
    #[inline]
    pub fn density(&self, a: usize, b: usize, r: f64) -> (f64, f64) {
        let (m, p) = crate::table::radial_point(r, self.rdr, self.nr);
        let c = self.density_table(a, b).row(m);
        (crate::table::cubic_value(c, p), crate::table::cubic_derivative(c, p))
    }

    /// φ and dφ/dr between species `a` and `b` at distance `r` (LAMMPS: φ = z2/r,
    /// φ′ = z2′/r − φ/r).
    #[inline]
    pub fn pair(&self, a: usize, b: usize, r: f64) -> (f64, f64) {
        let (m, p) = crate::table::radial_point(r, self.rdr, self.nr);
        let c = self.r_phi_table(a, b).row(m);
        let z2 = crate::table::cubic_value(c, p);
        let z2p = crate::table::cubic_derivative(c, p);
        let recip = 1.0 / r;
        let phi = z2 * recip;
        (phi, z2p * recip - phi * recip)
    }
}

/// Index of (i, j) in a lower-triangle list 00, 10, 11, 20, … (LAMMPS `type2z2r`).
fn lower_triangle(i: usize, j: usize) -> usize {
    let (row, col) = if i >= j { (i, j) } else { (j, i) };
    row * (row + 1) / 2 + col
}

/// `Nrho drho Nr dr cutoff`.
struct Grid {
    nrho: usize,
    drho: f64,
    nr: usize,
    dr: f64,
    cutoff: f64,
}

impl Grid {
    fn read(r: &mut PotentialReader<'_>) -> Result<Self, PotentialError> {
        let rec = r.record(5, "'Nrho drho Nr dr cutoff'")?;
        let nrho = rec.int(0, "Nrho")?;
        let drho = rec.float(1, "drho")?;
        let nr = rec.int(2, "Nr")?;
        let dr = rec.float(3, "dr")?;
        let cutoff = rec.float(4, "cutoff")?;
        for (name, v) in [("Nrho", nrho), ("Nr", nr)] {
            if v < MIN_KNOTS as i64 {
                return Err(rec.error(format!("{name} = {v}: a table needs at least {MIN_KNOTS} points")));
            }
        }
        for (name, v) in [("drho", drho), ("dr", dr), ("cutoff", cutoff)] {
            if v <= 0.0 {
                return Err(rec.error(format!("{name} = {v} must be positive")));
            }
        }
        Ok(Self { nrho: nrho as usize, drho, nr: nr as usize, dr, cutoff })
    }
}
