//! Running a recipe: lattice set-up, the heating schedule, sweeps, realisations, records.

use crate::error::{AutomatonError, Result};
use crate::lattice::{axis_colours, Lattice};
use crate::library::{Library, PhaseId, FREE_SPACE};
use crate::recipe::{Mode, Recipe, Stage};
use crate::rules::{fresh_amount, Changes, Draws, Rules};
use calcine_comm::{Communicator, SerialComm};
use rayon::prelude::*;
use std::collections::HashMap;

/// Phase amounts at one moment of one realisation. Amounts are quanta (see
/// [`crate::rules::QUANTA`]): cells plus the pool, per phase; gases separately (negative
/// when taken from the atmosphere).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// Sweeps (visits per site) since the start.
    pub sweep: f64,
    pub temperature: f64,
    pub amounts: Vec<i128>,
    pub gases: Vec<i128>,
    /// The part of `amounts` held in the pool (exact mode; see [`crate::rules::Rules::visit`]).
    pub pooled: Vec<i128>,
}

/// One realisation's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Realisation {
    pub index: usize,
    pub records: Vec<Record>,
    /// Site visits performed.
    pub visits: u64,
}

/// What a run returns (complete on rank 0).
#[derive(Debug, Clone)]
pub struct RunResult {
    pub realisations: Vec<Realisation>,
    /// The element symbols of the library.
    pub elements: Vec<String>,
    /// The phase of each cell of the middle z plane of realisation 0 at the end, row-major
    /// over (x, y).
    pub final_slice: Vec<PhaseId>,
    pub slice_edge: usize,
}

/// Progress reports: sweeps done out of the total over all realisations this rank runs.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: f64,
    pub total: f64,
}

/// The per-realisation seed.
pub fn realisation_seed(seed: u64, r: usize) -> u64 {
    splitmix(seed ^ splitmix(r as u64 + 0x5EED))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per-element totals (quanta × atoms per formula unit) of a record.
pub fn element_totals(library: &Library, record: &Record) -> Vec<i128> {
    let ph = &library.phases;
    ph.elements
        .iter()
        .map(|el| {
            (0..ph.len())
                .map(|p| {
                    let k = *ph.phases[p].composition.get(el).unwrap_or(&0) as i128;
                    (record.amounts[p] + record.gases[p]) * k
                })
                .sum()
        })
        .collect()
}

/// The initial cell contents: ReactCA's `SetupRandomNoise` (each precursor gets
/// `round(volume fraction × L³ × packing)` cells of volume 1, shuffled; the rest is Free
/// Space), shuffled with the counter-based generator.
pub fn initial_lattice(recipe: &Recipe, library: &Library, seed: u64) -> Result<Vec<PhaseId>> {
    let n_cells = recipe.size.pow(3);
    let mut cells = Vec::with_capacity(n_cells);
    let mut vols = Vec::new();
    for (f, moles) in &recipe.precursors {
        let id = library.phases.require(f, " (recipe: precursors)")?;
        if library.phases.get(id).is_gas {
            return Err(AutomatonError::Composition { reason: format!("precursor {f} is a gas") });
        }
        vols.push((id, f, moles * library.phases.get(id).molar_volume));
    }
    let total: f64 = vols.iter().map(|v| v.2).sum();
    for (id, f, v) in vols {
        let count = (v / total * n_cells as f64 * recipe.packing_fraction).round() as usize;
        if count == 0 {
            return Err(AutomatonError::Composition {
                reason: format!("precursor {f} gets no cell of a {0}³ lattice (raise size)", recipe.size),
            });
        }
        cells.extend(std::iter::repeat_n(id, count));
    }
    if cells.len() > n_cells {
        return Err(AutomatonError::Composition {
            reason: format!(
                "the rounded cell counts add up to {} cells, more than the {n_cells} of the lattice",
                cells.len()
            ),
        });
    }
    cells.resize(n_cells, FREE_SPACE);
    shuffle(&mut cells, &mut Draws::new(seed, u64::MAX - 1, 0));
    Ok(cells)
}

fn shuffle<T>(v: &mut [T], draws: &mut Draws) {
    for i in (1..v.len()).rev() {
        let j = draws.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// Runs every realisation of `recipe`. Exact mode decomposes each realisation over the
/// ranks of `comm` (and runs realisations one after the other, or side by side on threads
/// when there is one rank); ReactCA-compatible mode runs whole realisations, spread over
/// ranks and threads. Records are complete on rank 0.
pub fn run(
    recipe: &Recipe,
    library: &Library,
    comm: &dyn Communicator,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<RunResult> {
    let library = library.filtered(&recipe.exclude_phases, recipe.exact_phase_set.as_deref())?;
    let atmosphere: Vec<PhaseId> = recipe
        .atmosphere
        .iter()
        .map(|g| {
            let id = library.phases.require(g, " (recipe: atmosphere)")?;
            if !library.phases.get(id).is_gas {
                return Err(AutomatonError::Setting {
                    key: "atmosphere".into(),
                    reason: format!("{g} is not a gas of the library"),
                });
            }
            Ok(id)
        })
        .collect::<Result<_>>()?;
    let mut rules: HashMap<i64, Rules> = HashMap::new();
    for s in &recipe.schedule {
        if let Stage::Heat { temperature, .. } = s {
            let key = temperature.to_bits() as i64;
            if let std::collections::hash_map::Entry::Vacant(e) = rules.entry(key) {
                let rx = match &recipe.rescore {
                    None => library.at(*temperature)?.to_vec(),
                    Some(params) => library.rescored(params, *temperature)?,
                };
                e.insert(Rules::new(&library, &rx, *temperature, recipe.mode, recipe.inertia, &atmosphere)?);
            }
        }
    }
    // Fail early, on every rank alike, on a composition that cannot fill the lattice.
    initial_lattice(recipe, &library, 0)?;
    let ctx = Ctx { recipe, library: &library, rules: &rules };
    let n_real = recipe.realisations;
    let sweeps_each = recipe.total_sweeps();
    let done = std::sync::atomic::AtomicU64::new(0);
    let report = |sweeps: f64| {
        let d = done.fetch_add((sweeps * 1000.0) as u64, std::sync::atomic::Ordering::Relaxed) as f64 / 1000.0 + sweeps;
        progress(Progress { done: d, total: sweeps_each * n_real as f64 });
    };
    let slice = std::sync::Mutex::new(Vec::new());
    let realisations: Vec<Realisation> = match (recipe.mode, comm.size()) {
        (Mode::Exact, 1) => (0..n_real)
            .into_par_iter()
            .map(|r| ctx.run_exact(r, &SerialComm::new([true; 3]), &report, &slice))
            .collect::<Result<_>>()?,
        (Mode::Exact, _) => (0..n_real).map(|r| ctx.run_exact(r, comm, &report, &slice)).collect::<Result<_>>()?,
        (Mode::ReactcaCompatible, _) => {
            let mine: Vec<usize> = (0..n_real).filter(|r| r % comm.size() == comm.rank()).collect();
            let local: Vec<Realisation> =
                mine.into_par_iter().map(|r| ctx.run_compatible(r, &report, &slice)).collect::<Result<_>>()?;
            let bytes = serde_json::to_vec(&local).expect("records serialise");
            let mut all: Vec<Realisation> = Vec::new();
            for b in comm.gather_bytes(&bytes) {
                all.extend(serde_json::from_slice::<Vec<Realisation>>(&b).expect("records deserialise"));
            }
            all.sort_by_key(|r| r.index);
            // Realisation 0 runs on rank 0, which holds its slice.
            all
        }
    };
    let final_slice = slice.into_inner().expect("no thread panicked");
    Ok(RunResult { realisations, elements: library.phases.elements.clone(), final_slice, slice_edge: recipe.size })
}

struct Ctx<'a> {
    recipe: &'a Recipe,
    library: &'a Library,
    rules: &'a HashMap<i64, Rules>,
}

impl Ctx<'_> {
    fn rules_at(&self, t: f64) -> &Rules {
        &self.rules[&(t.to_bits() as i64)]
    }

    fn n_phases(&self) -> usize {
        self.library.phases.len()
    }

    /// One realisation in exact mode, decomposed over `comm`.
    fn run_exact(
        &self,
        r: usize,
        comm: &dyn Communicator,
        report: &(dyn Fn(f64) + Sync),
        slice: &std::sync::Mutex<Vec<PhaseId>>,
    ) -> Result<Realisation> {
        let seed = realisation_seed(self.recipe.seed, r);
        let l = self.recipe.size;
        let grid = comm.grid().clone();
        if grid.dims.iter().any(|&d| d > l) {
            return Err(AutomatonError::Setting {
                key: "size".into(),
                reason: format!("a {l}³ lattice cannot be split over a {:?} grid of ranks", grid.dims),
            });
        }
        let mut lat = Lattice::new(l, grid.dims, grid.coords);
        let global = initial_lattice(self.recipe, self.library, seed)?;
        for c in Lattice::coords(lat.n) {
            let (i, gid) = (lat.owned(c), lat.global_id(c));
            let p = global[gid as usize];
            lat.phase[i] = p;
            lat.amount[i] = if p == FREE_SPACE { 0 } else { fresh_amount(self.library.phases.get(p).molar_volume) };
        }
        drop(global);
        let np = self.n_phases();
        let mut pool = vec![0i128; np];
        let mut gas = vec![0i128; np];
        let mut records = Vec::new();
        let first_t = self.recipe.schedule.iter().find_map(|s| {
            if let Stage::Heat { temperature, .. } = s {
                Some(*temperature)
            } else {
                None
            }
        });
        let rec0 = self.record_exact(&lat, &pool, &gas, comm, 0.0, first_t.unwrap_or(0.0));
        let initial_elements = element_totals(self.library, &rec0);
        records.push(rec0);
        let every = self.recipe.record_every.round().max(1.0) as u64;
        let k = axis_colours(l);
        let colours: Vec<[usize; 3]> =
            (0..k).flat_map(|a| (0..k).flat_map(move |b| (0..k).map(move |c| [a, b, c]))).collect();
        let mut sweep: u64 = 0;
        let mut elapsed = 0.0;
        let mut regrinds: u64 = 0;
        let mut visits: u64 = 0;
        for stage in &self.recipe.schedule {
            match *stage {
                Stage::Regrind => {
                    regrinds += 1;
                    regrind(&mut lat, comm, seed, regrinds);
                }
                Stage::Heat { temperature, duration } => {
                    let rules = self.rules_at(temperature);
                    let mut left = duration;
                    while left > 1e-12 {
                        let fraction = left.min(1.0);
                        left -= fraction;
                        let mut order = colours.clone();
                        shuffle(&mut order, &mut Draws::new(seed, u64::MAX, sweep << 10));
                        for &colour in &order {
                            lat.forward(comm, colour);
                            let ch = visit_colour(&lat, rules, colour, seed, sweep, fraction);
                            visits += ch.1;
                            let ch = ch.0;
                            let n_own = lat.n;
                            for &(i, p, a) in &ch.writes {
                                lat.phase[i] = p;
                                lat.amount[i] = a;
                                if !is_owned(i, n_own) {
                                    lat.mark_written(i);
                                }
                            }
                            lat.reverse(comm, colour);
                            for k in 0..np {
                                pool[k] += ch.pool[k];
                                gas[k] += ch.gas[k];
                            }
                        }
                        sweep += 1;
                        elapsed += fraction;
                        redeposit(&mut lat, &mut pool, comm);
                        report(fraction);
                        if sweep.is_multiple_of(every) || left <= 1e-12 {
                            let rec = self.record_exact(&lat, &pool, &gas, comm, elapsed, temperature);
                            let now = element_totals(self.library, &rec);
                            for (e, (a, b)) in initial_elements.iter().zip(&now).enumerate() {
                                if a != b {
                                    return Err(AutomatonError::Conservation {
                                        element: self.library.phases.elements[e].clone(),
                                        sweep,
                                        before: *a,
                                        after: *b,
                                    });
                                }
                            }
                            if records.last().map(|x: &Record| x.sweep) != Some(rec.sweep) {
                                records.push(rec);
                            }
                        }
                    }
                }
            }
        }
        let mut v = [visits];
        comm.sum_u64(&mut v);
        if r == 0 {
            // The middle z plane, gathered on rank 0 in global order.
            let z = l / 2;
            let mut mine = Vec::new();
            for (i, gid) in lat.owned_cells() {
                if gid as usize % l == z {
                    mine.extend_from_slice(&gid.to_le_bytes());
                    mine.extend_from_slice(&lat.phase[i].to_le_bytes());
                }
            }
            let mut plane = vec![FREE_SPACE; l * l];
            for b in comm.gather_bytes(&mine) {
                for rec in b.chunks_exact(10) {
                    let gid = u64::from_le_bytes(rec[..8].try_into().expect("8 bytes")) as usize;
                    plane[gid / l] = PhaseId::from_le_bytes(rec[8..].try_into().expect("2 bytes"));
                }
            }
            *slice.lock().expect("no thread panicked") = plane;
        }
        Ok(Realisation { index: r, records, visits: v[0] })
    }

    #[allow(clippy::too_many_arguments)]
    fn record_exact(
        &self,
        lat: &Lattice,
        pool: &[i128],
        gas: &[i128],
        comm: &dyn Communicator,
        sweep: f64,
        temperature: f64,
    ) -> Record {
        let np = self.n_phases();
        let mut buf = vec![0i128; 3 * np];
        for (i, _) in lat.owned_cells() {
            buf[lat.phase[i] as usize] += lat.amount[i] as i128;
        }
        for (b, p) in buf.iter_mut().zip(pool) {
            *b += p;
        }
        buf[np..2 * np].copy_from_slice(gas);
        buf[2 * np..].copy_from_slice(pool);
        comm.sum_i128(&mut buf);
        Record {
            sweep,
            temperature,
            amounts: buf[..np].to_vec(),
            gases: buf[np..2 * np].to_vec(),
            pooled: buf[2 * np..].to_vec(),
        }
    }

    /// One realisation in ReactCA-compatible mode: random sites in sequence.
    fn run_compatible(
        &self,
        r: usize,
        report: &(dyn Fn(f64) + Sync),
        slice: &std::sync::Mutex<Vec<PhaseId>>,
    ) -> Result<Realisation> {
        let seed = realisation_seed(self.recipe.seed, r);
        let l = self.recipe.size;
        let n_cells = l * l * l;
        let mut phase = initial_lattice(self.recipe, self.library, seed)?;
        let mut amount: Vec<u64> = phase
            .iter()
            .map(|&p| if p == FREE_SPACE { 0 } else { fresh_amount(self.library.phases.get(p).molar_volume) })
            .collect();
        let np = self.n_phases();
        let mut gas = vec![0i128; np];
        let record = |phase: &[PhaseId], amount: &[u64], gas: &[i128], sweep: f64, t: f64| {
            let mut amounts = vec![0i128; np];
            for (p, a) in phase.iter().zip(amount) {
                amounts[*p as usize] += *a as i128;
            }
            Record { sweep, temperature: t, amounts, gases: gas.to_vec(), pooled: vec![0; np] }
        };
        let first_t = self.recipe.schedule.iter().find_map(|s| {
            if let Stage::Heat { temperature, .. } = s {
                Some(*temperature)
            } else {
                None
            }
        });
        let mut records = vec![record(&phase, &amount, &gas, 0.0, first_t.unwrap_or(0.0))];
        let every = ((self.recipe.record_every * n_cells as f64).round() as u64).max(1);
        let mut update: u64 = 0;
        let mut regrinds = 0;
        let mut out = Changes::new(np);
        let wrap = |x: usize, d: isize| ((x as isize + d).rem_euclid(l as isize)) as usize;
        for stage in &self.recipe.schedule {
            match *stage {
                Stage::Regrind => {
                    regrinds += 1;
                    let mut both: Vec<(PhaseId, u64)> = phase.iter().copied().zip(amount.iter().copied()).collect();
                    shuffle(&mut both, &mut Draws::new(seed, u64::MAX - 2 - regrinds, 0));
                    for (k, (p, a)) in both.into_iter().enumerate() {
                        phase[k] = p;
                        amount[k] = a;
                    }
                }
                Stage::Heat { temperature: t, duration } => {
                    let rules = self.rules_at(t);
                    // ReactCA: int(N × duration) updates at this temperature.
                    let steps = (n_cells as f64 * duration) as u64;
                    for _ in 0..steps {
                        let mut draws = Draws::new(seed, update, 0);
                        let i = draws.below(n_cells as u64) as usize;
                        let (x, y, z) = (i / (l * l), (i / l) % l, i % l);
                        let idx = |x: usize, y: usize, z: usize| (x * l + y) * l + z;
                        let nb = [
                            idx(wrap(x, -1), y, z),
                            idx(wrap(x, 1), y, z),
                            idx(x, wrap(y, -1), z),
                            idx(x, wrap(y, 1), z),
                            idx(x, y, wrap(z, -1)),
                            idx(x, y, wrap(z, 1)),
                        ];
                        rules.visit(i, &nb, &phase, &amount, &mut draws, &mut out);
                        for &(c, p, a) in &out.writes {
                            phase[c] = p;
                            amount[c] = a;
                        }
                        out.writes.clear();
                        for k in 0..np {
                            gas[k] += out.gas[k];
                            out.gas[k] = 0;
                        }
                        update += 1;
                        if update.is_multiple_of(every) {
                            records.push(record(&phase, &amount, &gas, update as f64 / n_cells as f64, t));
                            report(every as f64 / n_cells as f64);
                        }
                    }
                    let last = update as f64 / n_cells as f64;
                    if records.last().map(|x| x.sweep) != Some(last) {
                        records.push(record(&phase, &amount, &gas, last, t));
                    }
                }
            }
        }
        if r == 0 {
            *slice.lock().expect("no thread panicked") = (0..l * l).map(|k| phase[k * l + l / 2]).collect();
        }
        Ok(Realisation { index: r, records, visits: update })
    }
}

/// Whether local index `i` of a block of `n` owned cells (one ghost layer) is owned.
fn is_owned(i: usize, n: [usize; 3]) -> bool {
    let sx = (n[1] + 2) * (n[2] + 2);
    let sy = n[2] + 2;
    let (x, y, z) = (i / sx, (i % sx) / sy, i % sy);
    (1..=n[0]).contains(&x) && (1..=n[1]).contains(&y) && (1..=n[2]).contains(&z)
}

/// Visits the owned sites of one colour class (read-only), returning their changes.
fn visit_colour(
    lat: &Lattice,
    rules: &Rules,
    colour: [usize; 3],
    seed: u64,
    sweep: u64,
    fraction: f64,
) -> (Changes, u64) {
    let xs = lat.coords_of_colour(0, colour[0]);
    let ys = lat.coords_of_colour(1, colour[1]);
    let zs = lat.coords_of_colour(2, colour[2]);
    let np = rules.n_phases();
    let work = |x: usize, acc: &mut (Changes, u64)| {
        for &y in &ys {
            for &z in &zs {
                let c = [x, y, z];
                let i = lat.owned(c);
                let gid = lat.global_id(c);
                if fraction < 1.0 && Draws::new(seed, gid, (sweep << 4) | 15).uniform() >= fraction {
                    continue;
                }
                let mut draws = Draws::new(seed, gid, sweep << 4);
                rules.visit(i, &lat.neighbors(i), &lat.phase, &lat.amount, &mut draws, &mut acc.0);
                acc.1 += 1;
            }
        }
    };
    if xs.len() * ys.len() * zs.len() < 512 {
        let mut acc = (Changes::new(np), 0);
        for &x in &xs {
            work(x, &mut acc);
        }
        acc
    } else {
        xs.par_iter()
            .fold(
                || (Changes::new(np), 0u64),
                |mut acc, &x| {
                    work(x, &mut acc);
                    acc
                },
            )
            .reduce(
                || (Changes::new(np), 0),
                |mut a, b| {
                    a.0.absorb(b.0);
                    a.1 += b.1;
                    a
                },
            )
    }
}

/// Spreads each phase's pool evenly over the cells of that phase (whole quanta; the
/// remainder stays pooled, held by rank 0).
fn redeposit(lat: &mut Lattice, pool: &mut [i128], comm: &dyn Communicator) {
    let np = pool.len();
    let mut counts = vec![0u64; np];
    for (i, _) in lat.owned_cells() {
        counts[lat.phase[i] as usize] += 1;
    }
    comm.sum_u64(&mut counts);
    let mut total = pool.to_vec();
    comm.sum_i128(&mut total);
    let mut share = vec![0u64; np];
    for p in 1..np {
        if counts[p] > 0 && total[p] > 0 {
            share[p] = (total[p] / counts[p] as i128) as u64;
        }
    }
    for c in Lattice::coords(lat.n) {
        let i = lat.owned(c);
        let p = lat.phase[i] as usize;
        lat.amount[i] += share[p];
    }
    for p in 0..np {
        let left = total[p] - share[p] as i128 * counts[p] as i128;
        pool[p] = if comm.rank() == 0 { left } else { 0 };
    }
}

/// A random reshuffle of every cell of the lattice (gathered on rank 0, shuffled with the
/// counter-based generator, sent back).
fn regrind(lat: &mut Lattice, comm: &dyn Communicator, seed: u64, k: u64) {
    let mut mine = Vec::with_capacity(lat.n.iter().product::<usize>() * 18);
    for (i, gid) in lat.owned_cells() {
        mine.extend_from_slice(&gid.to_le_bytes());
        mine.extend_from_slice(&lat.phase[i].to_le_bytes());
        mine.extend_from_slice(&lat.amount[i].to_le_bytes());
    }
    let gathered = comm.gather_bytes(&mine);
    let n_cells = lat.edge.pow(3);
    let mut all = Vec::new();
    if comm.rank() == 0 {
        let mut cells = vec![(0 as PhaseId, 0u64); n_cells];
        for b in gathered {
            for rec in b.chunks_exact(18) {
                let gid = u64::from_le_bytes(rec[0..8].try_into().expect("8 bytes"));
                let p = PhaseId::from_le_bytes(rec[8..10].try_into().expect("2 bytes"));
                let a = u64::from_le_bytes(rec[10..18].try_into().expect("8 bytes"));
                cells[gid as usize] = (p, a);
            }
        }
        shuffle(&mut cells, &mut Draws::new(seed, u64::MAX - 2 - k, 0));
        all.reserve(n_cells * 10);
        for (p, a) in cells {
            all.extend_from_slice(&p.to_le_bytes());
            all.extend_from_slice(&a.to_le_bytes());
        }
    }
    comm.broadcast_bytes(&mut all);
    for c in Lattice::coords(lat.n) {
        let (i, gid) = (lat.owned(c), lat.global_id(c));
        let o = gid as usize * 10;
        lat.phase[i] = PhaseId::from_le_bytes(all[o..o + 2].try_into().expect("2 bytes"));
        lat.amount[i] = u64::from_le_bytes(all[o + 2..o + 10].try_into().expect("8 bytes"));
    }
}
