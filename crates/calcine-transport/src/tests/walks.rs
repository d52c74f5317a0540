//! Generators of trajectories with exact transport coefficients (transport.md §5), made in
//! the tests, never by our own MD.

use std::collections::BTreeMap;

use calcine_core::rng::{gaussian3, uniform4, Stream};
use calcine_core::{AtomId, SimBox, Species, SpeciesId, SpeciesTable, Vec3};
use calcine_io::{Frame, FrameReader, IoError, PositionKind};

/// Three standard normal numbers for (seed, id, step).
pub fn normal3(seed: u64, id: u64, step: u64) -> [f64; 3] {
    gaussian3(seed, Stream::Test, id, step)
}

/// A Brownian path with diffusion coefficient `d` (per axis variance 2·d·dt per frame),
/// starting at `start`.
pub fn brownian(seed: u64, id: u64, frames: usize, d: f64, dt: f64, start: [f64; 3]) -> Vec<[f64; 3]> {
    let s = (2.0 * d * dt).sqrt();
    let mut x = start;
    let mut out = Vec::with_capacity(frames);
    for k in 0..frames {
        out.push(x);
        let g = normal3(seed, id, k as u64);
        for c in 0..3 {
            x[c] += s * g[c];
        }
    }
    out
}

/// Cubic lattices and their nearest-neighbour jump vectors (in units of the lattice
/// constant): z = 6, 8, 12 with lengths 1, √3/2, 1/√2, so D = z·w·ℓ²/6 = w·a² for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cubic {
    Sc,
    Bcc,
    Fcc,
}

impl Cubic {
    pub fn jumps(self) -> Vec<[f64; 3]> {
        match self {
            Cubic::Sc => vec![[1., 0., 0.], [-1., 0., 0.], [0., 1., 0.], [0., -1., 0.], [0., 0., 1.], [0., 0., -1.]],
            Cubic::Bcc => {
                let mut v = Vec::new();
                for sx in [-0.5, 0.5] {
                    for sy in [-0.5, 0.5] {
                        for sz in [-0.5, 0.5] {
                            v.push([sx, sy, sz]);
                        }
                    }
                }
                v
            }
            Cubic::Fcc => {
                let mut v = Vec::new();
                for (i, j) in [(0, 1), (0, 2), (1, 2)] {
                    for si in [-0.5, 0.5] {
                        for sj in [-0.5, 0.5] {
                            let mut x = [0.0; 3];
                            x[i] = si;
                            x[j] = sj;
                            v.push(x);
                        }
                    }
                }
                v
            }
        }
    }
}

/// A continuous-time random walk on a cubic lattice (constant `a`, rate `w` per jump
/// vector), sampled every `dt` for `frames` frames: exponential waiting times at total
/// rate z·w, jump vectors uniform among the z. The exact MSD is z·w·ℓ²·t = 6·w·a²·t.
pub fn lattice_walk(seed: u64, id: u64, lattice: Cubic, a: f64, w: f64, dt: f64, frames: usize) -> Vec<[f64; 3]> {
    let jumps = lattice.jumps();
    let rate = jumps.len() as f64 * w;
    let mut out = Vec::with_capacity(frames);
    let mut x = [0.0; 3];
    let mut event = 0u64;
    let mut next = -uniform4(seed, Stream::Test, id, 0)[0].ln() / rate;
    for k in 0..frames {
        let t = k as f64 * dt;
        while next <= t {
            let u = uniform4(seed, Stream::Test, id, event);
            let j = ((u[1] * jumps.len() as f64) as usize).min(jumps.len() - 1);
            for c in 0..3 {
                x[c] += a * jumps[j][c];
            }
            event += 1;
            next += -uniform4(seed, Stream::Test, id, event)[0].ln() / rate;
        }
        out.push(x);
    }
    out
}

/// A species table from (name, mass) pairs.
pub fn table(species: &[(&str, f64)]) -> SpeciesTable {
    SpeciesTable::new(species.iter().map(|(n, m)| Species { name: n.to_string(), mass: *m }).collect())
}

/// How a generated trajectory presents its positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Unwrapped positions (LAMMPS `xu`).
    Unwrapped,
    /// Wrapped positions with image flags.
    Images,
    /// Wrapped positions alone (minimum-image unwrapping).
    Wrapped,
}

/// Frame `k` of atoms with the given species (indices into `table`) and unwrapped paths.
pub fn frame_of(
    paths: &[Vec<[f64; 3]>],
    species: &[u32],
    table: &SpeciesTable,
    simbox: &SimBox,
    k: usize,
    dt: f64,
    layout: Layout,
) -> Frame {
    let n = paths.len();
    let mut positions: Vec<Vec3> = paths.iter().map(|p| Vec3::from(p[k])).collect();
    let mut images = None;
    if layout != Layout::Unwrapped {
        let mut im = Vec::with_capacity(n);
        for x in &mut positions {
            im.push(simbox.wrap(x));
        }
        if layout == Layout::Images {
            images = Some(im);
        }
    }
    Frame {
        step: Some(k as u64),
        time: Some(k as f64 * dt),
        simbox: simbox.clone(),
        species_table: table.clone(),
        ids: (1..=n as u64).map(AtomId).collect(),
        species: species.iter().map(|&s| SpeciesId(s)).collect(),
        positions,
        position_kind: if layout == Layout::Unwrapped { PositionKind::Unwrapped } else { PositionKind::Wrapped },
        velocities: None,
        forces: None,
        per_atom_energy: None,
        per_atom_virial: None,
        extra: Vec::new(),
        images,
        info: BTreeMap::new(),
    }
}

/// A trajectory handed out frame by frame from a closure (frame index → frame).
pub struct Generated<F: FnMut(usize) -> Option<Frame>> {
    next: usize,
    make: F,
}

impl<F: FnMut(usize) -> Option<Frame>> Generated<F> {
    pub fn new(make: F) -> Self {
        Self { next: 0, make }
    }
}

impl<F: FnMut(usize) -> Option<Frame>> FrameReader for Generated<F> {
    fn read_frame(&mut self) -> Result<Option<Frame>, IoError> {
        let f = (self.make)(self.next);
        self.next += 1;
        Ok(f)
    }
}

/// A reader over whole paths.
pub fn reader_of(
    paths: Vec<Vec<[f64; 3]>>,
    species: Vec<u32>,
    table: SpeciesTable,
    simbox: SimBox,
    dt: f64,
    layout: Layout,
) -> impl FrameReader {
    let frames = paths.first().map_or(0, Vec::len);
    Generated::new(move |k| (k < frames).then(|| frame_of(&paths, &species, &table, &simbox, k, dt, layout)))
}
