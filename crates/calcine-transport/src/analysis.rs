//! The streaming pass over a trajectory: frames are checked, unwrapped, freed of drift and
//! reduced to what the estimators need, one frame at a time, and [`Analysis::finish`] turns
//! the accumulated state into correlation curves ([`Correlations`]).
//!
//! Distribution: every rank reads every frame (parsing is replicated) and computes the
//! per-frame collective quantities — drift, the per-species sums X_s(t) = Σ_{a∈s} Δr_a(t)
//! — over all atoms in id order, so they have the same bits on every rank. The per-atom
//! work (the self terms: stored series and their FFTs, or per-atom multiple-tau
//! correlators) is split by atom ownership: the atoms of each species are taken in pairs
//! (the FFT packs two atoms into three complex transforms) and the pairs are dealt to the
//! ranks in contiguous blocks. Per-atom sums are added in fixed point, so the totals have
//! the same bits on any number of ranks and threads.

use std::path::PathBuf;

use calcine_comm::Communicator;
use calcine_core::{ExactSum, SimBox, Vec3};
use calcine_io::{Frame, FrameReader, Pending};
use rayon::prelude::*;

use crate::correlate::{self, FftPlan, SelfSpectrum};
use crate::multitau::MultiTau;
use crate::spec::{Drift, Method, SpeciesSpec, TransportSpec, Unwrap};
use crate::store::{Reference, SeriesStore};
use crate::TransportError;

/// Correlation curves of a trajectory, the input of the estimators.
#[derive(Debug, Clone)]
pub struct Correlations {
    pub species: Vec<SpeciesSpec>,
    /// Atoms of each species.
    pub counts: Vec<usize>,
    /// Atoms in the whole system.
    pub n_atoms: usize,
    /// Atoms of every species of the trajectory: the analysed ones first, in order.
    pub composition: Vec<(String, usize)>,
    pub n_frames: usize,
    /// Time between frames in ps.
    pub interval: f64,
    /// Mean box volume in Å³.
    pub volume: f64,
    pub temperature: f64,
    /// "fft" or "multi-tau".
    pub method: &'static str,
    /// Lags in frames, increasing, starting at 0.
    pub lags: Vec<u64>,
    /// Time origins averaged at each lag (per atom).
    pub origins: Vec<u64>,
    /// Per species, the mean over its atoms of ⟨|Δr|²⟩ at each lag (Å²).
    pub self_msd: Vec<Vec<f64>>,
    /// Per pair (i ≤ j, in `correlate::pair_index` order), ⟨ΔX_i·ΔX_j⟩ (Å²).
    pub collective: Vec<Vec<f64>>,
    /// The same for each block of consecutive frames (FFT method, lags 0..frames per block).
    pub blocks: Vec<Vec<Vec<f64>>>,
    /// Frames per block.
    pub block_frames: usize,
    /// Per species, per-atom moments of the one-frame increments: ⟨|δ|²⟩, ⟨|δ|⁴⟩.
    pub increments: Vec<[f64; 2]>,
    /// Green–Kubo: per species the mean over atoms of ⟨v(0)·v(t)⟩ (Å²/ps²), lags 0..N−1.
    pub self_vacf: Option<Vec<Vec<f64>>>,
    /// Green–Kubo: per pair ½[⟨V_i(0)·V_j(t)⟩ + ⟨V_j(0)·V_i(t)⟩] of the species-summed velocities.
    pub collective_vcf: Option<Vec<Vec<f64>>>,
    /// The drift that was removed, at the last frame (Å).
    pub final_drift: [f64; 3],
    /// Whether per-atom series went to a scratch file.
    pub spilled: bool,
}

impl Correlations {
    pub fn n_species(&self) -> usize {
        self.species.len()
    }

    /// Lag times in ps.
    pub fn lag_times(&self) -> Vec<f64> {
        self.lags.iter().map(|&l| l as f64 * self.interval).collect()
    }
}

/// Streams a trajectory through an [`Analysis`] and finishes it: the whole of `calcine
/// transport`'s reading, on every rank. `progress` is called after each frame with the
/// number of frames read.
pub fn analyse_frames(
    reader: &mut dyn FrameReader,
    spec: &TransportSpec,
    comm: &dyn Communicator,
    progress: &mut dyn FnMut(usize),
) -> Result<Correlations, TransportError> {
    let mut analysis = Analysis::new(spec.clone(), comm.rank(), comm.size())?;
    if rayon::current_num_threads() < 2 {
        while let Some(frame) = reader.read_frame()? {
            analysis.push(&frame)?;
            progress(analysis.n_frames());
        }
        return analysis.finish(comm);
    }
    if rayon::current_num_threads() == 2 {
        return analyse_on_two_threads(reader, analysis, comm, progress);
    }
    // With threads to spare, parsing (this thread) overlaps the analysis (a worker fed
    // through a short queue); the frames reach the analysis in the same order either way.
    let analysis = std::thread::scope(|scope| -> Result<Analysis, TransportError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Frame>(4);
        let worker = scope.spawn(move || -> Result<Analysis, TransportError> {
            for frame in rx {
                analysis.push(&frame)?;
            }
            Ok(analysis)
        });
        let mut read = 0;
        let mut failure = None;
        loop {
            match reader.read_frame() {
                Ok(Some(frame)) => {
                    if tx.send(frame).is_err() {
                        break;
                    }
                    read += 1;
                    progress(read);
                }
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        worker_then_reader(worker, failure)
    })?;
    analysis.finish(comm)
}

/// The analysis the worker returns, else its error, else the reader's: frames before
/// the reader's failure were analysed first, so their errors come first, as on one thread.
fn worker_then_reader(
    worker: std::thread::ScopedJoinHandle<'_, Result<Analysis, TransportError>>,
    failure: Option<calcine_io::IoError>,
) -> Result<Analysis, TransportError> {
    let analysis = worker.join().expect("the analysis thread does not panic")?;
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(analysis),
    }
}

/// Two threads and no pool: this one reads every frame and parses three in five, a
/// worker parses the rest and analyses them all in order. Each thread then does about
/// half of the work (the parse is most of it), and neither waits on the other's pool. A
/// frame the reader has not parsed travels as text ([`Pending`]). Frames go in batches of
/// 16, so that the threads wake each other rarely; the first error in file order is the
/// one reported, as on one thread.
fn analyse_on_two_threads(
    reader: &mut dyn FrameReader,
    mut analysis: Analysis,
    comm: &dyn Communicator,
    progress: &mut dyn FnMut(usize),
) -> Result<Correlations, TransportError> {
    const BATCH: usize = 16;
    let analysis = std::thread::scope(|scope| -> Result<Analysis, TransportError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Pending>>(2);
        let worker = scope.spawn(move || -> Result<Analysis, TransportError> {
            for batch in rx {
                for pending in batch {
                    analysis.push(&pending.frame()?)?;
                }
            }
            Ok(analysis)
        });
        let mut read = 0;
        let mut failure = None;
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let pending = match reader.read_pending() {
                Ok(Some(pending)) => pending,
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            // This thread parses three frames in five: it also reads them all, the worker
            // analyses them all (as measured: parse ≈ 35 % of the time, analysis ≈ 13 %,
            // reading ≈ 7 %).
            let pending = if matches!(read % 5, 1 | 3 | 4) {
                match pending.frame() {
                    Ok(frame) => Pending::Ready(Box::new(frame)),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            } else {
                pending
            };
            batch.push(pending);
            read += 1;
            progress(read);
            if batch.len() == BATCH && tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
                break;
            }
        }
        // The frames before a failure are analysed first: an error of theirs comes first.
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        worker_then_reader(worker, failure)
    })?;
    analysis.finish(comm)
}

/// The streaming state of one analysis (on one rank).
#[derive(Debug)]
pub struct Analysis {
    spec: TransportSpec,
    rank: usize,
    size: usize,
    state: Option<State>,
}

#[derive(Debug)]
enum SelfTerms {
    Fft { store: Box<SeriesStore>, velocities: Option<Box<SeriesStore>> },
    MultiTau(Vec<MultiTau>),
}

#[derive(Debug)]
struct State {
    ids: Vec<u64>,
    composition: Vec<(String, usize)>,
    species_of: Vec<u32>,
    names: Vec<String>,
    groups: Vec<Vec<usize>>,
    masses: Vec<f64>,
    drift_atoms: Vec<usize>,
    /// Owned atoms (indices into the frame), species by species, in pairs.
    owned: Vec<usize>,
    /// For each owned pair: species and the two local indices (the second may be absent).
    owned_pairs: Vec<(usize, usize, Option<usize>)>,
    images: bool,
    first_box: SimBox,
    prev_wrapped: Vec<Vec3>,
    unwrapped: Vec<Vec3>,
    origin: Vec<Vec3>,
    first_time: f64,
    last_time: f64,
    first_interval: Option<f64>,
    n_frames: usize,
    volume: ExactSum,
    collective: Vec<Vec<[f64; 3]>>,
    collective_mt: Option<MultiTau>,
    velocities: Option<Vec<Vec<[f64; 3]>>>,
    self_terms: SelfTerms,
    prev_owned: Vec<[f64; 3]>,
    inc2: Vec<ExactSum>,
    inc4: Vec<ExactSum>,
    max_disp: f64,
    max_vel: f64,
    drift: [f64; 3],
    warned_unwrap: bool,
    row: Vec<[f64; 3]>,
    vrow: Vec<[f64; 3]>,
    /// The owned atoms' unwrapped positions and velocities as the store keeps them.
    urow: Vec<[f64; 3]>,
    vraw: Vec<[f64; 3]>,
    /// Drift-free displacements (or velocities) of every atom at the current frame.
    disp: Vec<[f64; 3]>,
}

impl Analysis {
    /// A new analysis for rank `rank` of `size`.
    pub fn new(spec: TransportSpec, rank: usize, size: usize) -> Result<Self, TransportError> {
        if spec.species.is_empty() {
            return Err(TransportError::Invalid("no species to analyse".into()));
        }
        if !(spec.temperature > 0.0) {
            return Err(TransportError::Invalid(format!("temperature must be positive, not {}", spec.temperature)));
        }
        if spec.green_kubo == Some(true) && matches!(spec.method, Method::MultiTau { .. }) {
            return Err(TransportError::Invalid("Green-Kubo needs the FFT method, not multi-tau".into()));
        }
        Ok(Self { spec, rank, size, state: None })
    }

    pub fn n_frames(&self) -> usize {
        self.state.as_ref().map_or(0, |s| s.n_frames)
    }

    fn frame_time(&self, frame: &Frame, k: usize) -> Result<f64, TransportError> {
        if let Some(dt) = self.spec.frame_interval {
            return Ok(k as f64 * dt);
        }
        if let Some(t) = frame.time {
            return Ok(t);
        }
        match (frame.step, self.spec.timestep) {
            (Some(step), Some(ts)) => Ok(step as f64 * ts),
            _ => Err(TransportError::NoTime { frame: k }),
        }
    }

    fn start(&mut self, frame: &Frame) -> Result<(), TransportError> {
        let spec = &self.spec;
        let n = frame.n_atoms();
        let names: Vec<String> = frame.species_table.names();
        let species_of: Vec<u32> = frame.species.iter().map(|s| s.0).collect();
        let present = || {
            let mut used: Vec<&str> = species_of.iter().map(|&s| names[s as usize].as_str()).collect();
            used.sort_unstable();
            used.dedup();
            used.join(", ")
        };
        let mut groups = Vec::new();
        for s in &spec.species {
            let group: Vec<usize> = (0..n).filter(|&a| names[species_of[a] as usize] == s.name).collect();
            if group.is_empty() {
                return Err(TransportError::MissingSpecies { name: s.name.clone(), present: present() });
            }
            groups.push(group);
        }
        let mass_of = |name: &str| -> Option<f64> {
            spec.masses.iter().find(|(n, _)| n == name).map(|(_, m)| *m).or_else(|| {
                frame.species_table.find(name).map(|id| frame.species_table.get(id).mass).filter(|m| m.is_finite())
            })
        };
        let drift_atoms: Vec<usize> = match &spec.drift {
            Drift::None => Vec::new(),
            Drift::CentreOfMass => (0..n).collect(),
            Drift::Framework(framework) => {
                for f in framework {
                    if !names.iter().any(|n| n == f) || !species_of.iter().any(|&s| &names[s as usize] == f) {
                        return Err(TransportError::MissingSpecies { name: f.clone(), present: present() });
                    }
                }
                (0..n).filter(|&a| framework.contains(&names[species_of[a] as usize])).collect()
            }
        };
        let mut species_mass = Vec::new();
        for name in &names {
            species_mass.push(mass_of(name));
        }
        let mut masses = vec![0.0; n];
        for &a in &drift_atoms {
            let s = species_of[a] as usize;
            masses[a] = species_mass[s].ok_or_else(|| TransportError::MissingMass { name: names[s].clone() })?;
        }
        // Pairs of atoms per species, dealt to ranks in contiguous blocks.
        let mut pairs = Vec::new();
        for (s, g) in groups.iter().enumerate() {
            for p in g.chunks(2) {
                pairs.push((s, p[0], p.get(1).copied()));
            }
        }
        let (lo, hi) = (pairs.len() * self.rank / self.size, pairs.len() * (self.rank + 1) / self.size);
        let mut owned = Vec::new();
        let mut owned_pairs = Vec::new();
        for &(s, a, b) in &pairs[lo..hi] {
            let ia = owned.len();
            owned.push(a);
            let ib = b.map(|b| {
                owned.push(b);
                ia + 1
            });
            owned_pairs.push((s, ia, ib));
        }
        let images = match spec.unwrap {
            Unwrap::MinimumImage => false,
            Unwrap::Images => {
                if frame.unwrapped_positions().is_none() {
                    return Err(TransportError::Invalid(
                        "frame 0 has neither unwrapped positions nor image flags (unwrap = \"images\")".into(),
                    ));
                }
                true
            }
            Unwrap::Auto => frame.unwrapped_positions().is_some(),
        };
        let green_kubo = match spec.green_kubo {
            Some(g) => g,
            None => frame.velocities.is_some() && matches!(spec.method, Method::Fft),
        };
        if green_kubo && frame.velocities.is_none() {
            return Err(TransportError::MissingVelocities { frame: 0 });
        }
        let scratch: PathBuf = spec.scratch_dir.clone().unwrap_or_else(std::env::temp_dir);
        let n_owned = owned.len();
        let self_terms = match spec.method {
            Method::Fft => SelfTerms::Fft {
                store: Box::new(SeriesStore::new(n_owned, spec.memory_budget, &scratch, Reference::FirstFrame)),
                velocities: green_kubo
                    .then(|| Box::new(SeriesStore::new(n_owned, spec.memory_budget, &scratch, Reference::Zero))),
            },
            Method::MultiTau { points, factor } => {
                if factor < 2 || points < 2 * factor || !points.is_multiple_of(factor) {
                    return Err(TransportError::Invalid(format!(
                        "multi-tau needs factor >= 2 and points a multiple of factor, at least 2 x factor (points {points}, factor {factor})"
                    )));
                }
                SelfTerms::MultiTau((0..n_owned).map(|_| MultiTau::msd(points, factor)).collect())
            }
        };
        let n_species = spec.species.len();
        let collective_mt = match spec.method {
            Method::MultiTau { points, factor } => {
                let pairs: Vec<(usize, usize)> =
                    (0..n_species).flat_map(|i| (i..n_species).map(move |j| (i, j))).collect();
                Some(MultiTau::new(n_species, pairs, points, factor))
            }
            Method::Fft => None,
        };
        let mut composition: Vec<(String, usize)> = spec.species.iter().map(|s| (s.name.clone(), 0)).collect();
        for name in &names {
            if !composition.iter().any(|(n, _)| n == name) {
                composition.push((name.clone(), 0));
            }
        }
        for &s in &species_of {
            let name = &names[s as usize];
            if let Some(entry) = composition.iter_mut().find(|(n, _)| n == name) {
                entry.1 += 1;
            }
        }
        composition.retain(|(_, n)| *n > 0);
        self.state = Some(State {
            composition,
            ids: frame.ids.iter().map(|id| id.0).collect(),
            species_of,
            names,
            groups,
            masses,
            drift_atoms,
            owned,
            owned_pairs,
            images,
            first_box: frame.simbox.clone(),
            prev_wrapped: Vec::new(),
            unwrapped: Vec::new(),
            origin: Vec::new(),
            first_time: 0.0,
            last_time: 0.0,
            first_interval: None,
            n_frames: 0,
            volume: ExactSum::new(),
            collective: vec![Vec::new(); n_species],
            collective_mt,
            velocities: green_kubo.then(|| vec![Vec::new(); n_species]),
            self_terms,
            prev_owned: vec![[0.0; 3]; n_owned],
            inc2: vec![ExactSum::new(); n_species],
            inc4: vec![ExactSum::new(); n_species],
            max_disp: 0.0,
            max_vel: 0.0,
            drift: [0.0; 3],
            warned_unwrap: false,
            row: vec![[0.0; 3]; n_owned],
            vrow: vec![[0.0; 3]; n_owned],
            urow: vec![[0.0; 3]; n_owned],
            vraw: vec![[0.0; 3]; n_owned],
            disp: Vec::with_capacity(n),
        });
        Ok(())
    }

    /// Adds one frame.
    pub fn push(&mut self, frame: &Frame) -> Result<(), TransportError> {
        if self.state.is_none() {
            self.start(frame)?;
        }
        let k = self.n_frames();
        let time = self.frame_time(frame, k)?;
        let fixed_box = self.spec.fixed_box;
        let st = self.state.as_mut().expect("started");
        check_atoms(&*st, frame, k)?;
        if k == 0 {
            st.first_time = time;
        } else {
            let interval = time - st.last_time;
            if !(interval > 0.0) {
                return Err(TransportError::NonMonotonicTime { frame: k, time, previous: st.last_time });
            }
            match st.first_interval {
                None => st.first_interval = Some(interval),
                Some(first) => {
                    if (interval - first).abs() > 1e-6 * first {
                        return Err(TransportError::UnevenTime { frame: k, interval, first });
                    }
                }
            }
        }
        st.last_time = time;
        if fixed_box && !same_box(&st.first_box, &frame.simbox) {
            return Err(TransportError::BoxChanged {
                frame: k,
                volume: frame.simbox.volume(),
                first: st.first_box.volume(),
            });
        }
        st.volume.add(frame.simbox.volume());
        // Unwrapped positions.
        if st.images {
            let u = frame.unwrapped_positions().ok_or_else(|| {
                TransportError::Invalid(format!(
                    "frame {k} has neither unwrapped positions nor image flags, but frame 0 had them"
                ))
            })?;
            st.unwrapped = u;
        } else if k == 0 {
            st.unwrapped = frame.positions.clone();
        } else {
            let half = (0..3).map(|a| frame.simbox.plane_spacing(a)).fold(f64::INFINITY, f64::min) * 0.5;
            let mut largest = 0.0f64;
            for ((u, prev), x) in st.unwrapped.iter_mut().zip(&st.prev_wrapped).zip(&frame.positions) {
                let d = frame.simbox.minimum_image(&(x - prev));
                largest = largest.max(d.norm());
                *u += d;
            }
            if largest > 0.8 * half && !st.warned_unwrap {
                st.warned_unwrap = true;
                tracing::warn!(
                    frame = k,
                    "an atom moved {largest:.3} Å between frames, close to half the box ({half:.3} Å): minimum-image unwrapping may be wrong; write image flags or frames closer in time"
                );
            }
        }
        if !st.images {
            st.prev_wrapped.clone_from(&frame.positions);
        }
        if k == 0 {
            st.origin.clone_from(&st.unwrapped);
        }
        // Drift: centre of mass of the drift group.
        let drift = {
            let (u, o) = (&st.unwrapped, &st.origin);
            mass_weighted_mean(&st.drift_atoms, &st.masses, |a| u[a] - o[a])
        };
        st.drift = drift;
        st.disp.clear();
        st.disp.extend(st.unwrapped.iter().zip(&st.origin).map(|(u, o)| {
            let d = u - o;
            [d.x - drift[0], d.y - drift[1], d.z - drift[2]]
        }));
        for (s, g) in st.groups.iter().enumerate() {
            st.collective[s].push(group_sum(g, &st.disp));
        }
        for ((r, u), &a) in st.row.iter_mut().zip(st.urow.iter_mut()).zip(&st.owned) {
            *r = st.disp[a];
            let x = st.unwrapped[a];
            *u = [x.x, x.y, x.z];
        }
        if let Some(mt) = &mut st.collective_mt {
            let sample: Vec<[f64; 3]> = st.collective.iter().map(|c| *c.last().expect("pushed")).collect();
            mt.push(&sample);
        }
        // Increments over one frame, for the error model.
        if k > 0 {
            let mut local = 0;
            for &(s, ia, ib) in &st.owned_pairs {
                for i in std::iter::once(ia).chain(ib) {
                    let d = st.row[i];
                    let p = st.prev_owned[i];
                    let q = (d[0] - p[0]).powi(2) + (d[1] - p[1]).powi(2) + (d[2] - p[2]).powi(2);
                    st.inc2[s].add(q);
                    st.inc4[s].add(q * q);
                    local += 1;
                }
            }
            debug_assert_eq!(local, st.owned.len());
        }
        st.prev_owned.clone_from(&st.row);
        for r in &st.row {
            st.max_disp = st.max_disp.max(r[0].abs()).max(r[1].abs()).max(r[2].abs());
        }
        // Velocities (Green–Kubo), less the drift group's mass-weighted mean.
        let mut vdrift = [0.0; 3];
        if let Some(collective_v) = &mut st.velocities {
            let v = frame.velocities.as_ref().ok_or(TransportError::MissingVelocities { frame: k })?;
            let vd = mass_weighted_mean(&st.drift_atoms, &st.masses, |a| v[a]);
            vdrift = vd;
            st.disp.clear();
            st.disp.extend(v.iter().map(|v| [v.x - vd[0], v.y - vd[1], v.z - vd[2]]));
            for (s, g) in st.groups.iter().enumerate() {
                collective_v[s].push(group_sum(g, &st.disp));
            }
            for ((r, raw), &a) in st.vrow.iter_mut().zip(st.vraw.iter_mut()).zip(&st.owned) {
                *raw = [v[a].x, v[a].y, v[a].z];
                *r = st.disp[a];
                st.max_vel = st.max_vel.max(r[0].abs()).max(r[1].abs()).max(r[2].abs());
            }
        }
        match &mut st.self_terms {
            SelfTerms::Fft { store, velocities } => {
                // The store subtracts the first frame and the drift as `row` did.
                store.push(&st.urow, drift)?;
                if let Some(vs) = velocities {
                    vs.push(&st.vraw, vdrift)?;
                }
            }
            SelfTerms::MultiTau(mts) => {
                mts.par_iter_mut().zip(st.row.par_iter()).for_each(|(mt, r)| mt.push(std::slice::from_ref(r)));
            }
        }
        st.n_frames += 1;
        Ok(())
    }

    /// The correlation curves, after the last frame (collective over ranks).
    pub fn finish(self, comm: &dyn Communicator) -> Result<Correlations, TransportError> {
        let Some(mut st) = self.state else { return Err(TransportError::Empty) };
        let spec = self.spec;
        let n = st.n_frames;
        if n < 3 {
            return Err(TransportError::TooFewFrames { frames: n, needed: 3 });
        }
        let n_species = spec.species.len();
        let interval = spec.frame_interval.unwrap_or((st.last_time - st.first_time) / (n - 1) as f64);
        let counts: Vec<usize> = st.groups.iter().map(Vec::len).collect();
        let volume = st.volume.value() / n as f64;
        // Moments of one-frame increments, summed over ranks.
        let mut words: Vec<i128> = Vec::new();
        for s in 0..n_species {
            words.push(st.inc2[s].to_parts().0);
            words.push(st.inc4[s].to_parts().0);
        }
        comm.sum_i128(&mut words);
        let increments: Vec<[f64; 2]> = (0..n_species)
            .map(|s| {
                let samples = (counts[s] * (n - 1)) as f64;
                [
                    ExactSum::from_parts(words[2 * s], false).value() / samples,
                    ExactSum::from_parts(words[2 * s + 1], false).value() / samples,
                ]
            })
            .collect();
        let refs: Vec<&[[f64; 3]]> = st.collective.iter().map(Vec::as_slice).collect();
        let method;
        let (lags, origins, self_msd, collective, blocks, block_frames);
        let mut self_vacf = None;
        let mut collective_vcf = None;
        let mut spilled = false;
        match &mut st.self_terms {
            SelfTerms::Fft { store, velocities } => {
                method = "fft";
                lags = (0..n as u64).collect::<Vec<_>>();
                origins = (0..n as u64).map(|m| n as u64 - m).collect();
                collective = correlate::cross_msd_matrix(&refs);
                let n_blocks = if spec.blocks >= 2 && n / spec.blocks >= 4 { spec.blocks } else { 0 };
                block_frames = n.checked_div(n_blocks).unwrap_or(0);
                blocks = (0..n_blocks)
                    .map(|b| {
                        let part: Vec<&[[f64; 3]]> =
                            refs.iter().map(|r| &r[b * block_frames..(b + 1) * block_frames]).collect();
                        correlate::cross_msd_matrix(&part)
                    })
                    .collect();
                let plan = FftPlan::new(n);
                let bound = 2.0 * comm.max_f64(st.max_disp);
                spilled = comm.any(store.spilled());
                let sums = self_spectra(store, &st.owned_pairs, &counts, &plan, bound, true, comm)?;
                self_msd = sums.iter().zip(&counts).map(|(s, &c)| scaled(&s.msd_sum(&plan), c)).collect();
                if let (Some(vs), Some(cv)) = (velocities, &st.velocities) {
                    let bound = comm.max_f64(st.max_vel);
                    let sums = self_spectra(vs, &st.owned_pairs, &counts, &plan, bound, false, comm)?;
                    self_vacf =
                        Some(sums.iter().zip(&counts).map(|(s, &c)| scaled(&s.correlation_sum(&plan), c)).collect());
                    let mut vcf = Vec::new();
                    for i in 0..n_species {
                        for j in i..n_species {
                            let a = correlate::correlation(&cv[i], &cv[j]);
                            let b = correlate::correlation(&cv[j], &cv[i]);
                            vcf.push(a.iter().zip(&b).map(|(x, y)| 0.5 * (x + y)).collect());
                        }
                    }
                    collective_vcf = Some(vcf);
                }
            }
            SelfTerms::MultiTau(mts) => {
                method = "multi-tau";
                let curves = st.collective_mt.as_ref().expect("multi-tau collective").curves();
                lags = curves.lags.clone();
                origins = curves.counts.clone();
                collective = (0..curves.sums.len()).map(|p| curves.mean(p)).collect();
                blocks = Vec::new();
                block_frames = 0;
                let n_lags = lags.len();
                let mut words = vec![0i128; n_species * n_lags];
                for &(s, ia, ib) in &st.owned_pairs {
                    for i in std::iter::once(ia).chain(ib) {
                        let c = mts[i].curves();
                        assert_eq!(c.lags, lags, "every correlator has seen the same samples");
                        for (l, x) in c.sums[0].iter().enumerate() {
                            let mut e = ExactSum::from_parts(words[s * n_lags + l], false);
                            e.add(*x);
                            words[s * n_lags + l] = e.to_parts().0;
                        }
                    }
                }
                comm.sum_i128(&mut words);
                self_msd = (0..n_species)
                    .map(|s| {
                        (0..n_lags)
                            .map(|l| {
                                let total = ExactSum::from_parts(words[s * n_lags + l], false).value();
                                if origins[l] == 0 {
                                    0.0
                                } else {
                                    total / (origins[l] as f64 * counts[s] as f64)
                                }
                            })
                            .collect()
                    })
                    .collect();
            }
        }
        Ok(Correlations {
            species: spec.species.clone(),
            counts,
            n_atoms: st.ids.len(),
            composition: st.composition.clone(),
            n_frames: n,
            interval,
            volume,
            temperature: spec.temperature,
            method,
            lags,
            origins,
            self_msd,
            collective,
            blocks,
            block_frames,
            increments,
            self_vacf,
            collective_vcf,
            final_drift: st.drift,
            spilled,
        })
    }
}

fn scaled(v: &[f64], count: usize) -> Vec<f64> {
    v.iter().map(|x| x / count as f64).collect()
}

/// Per species, the summed power spectra of the owned atoms' series (centred when
/// `centre`), reduced over ranks.
fn self_spectra(
    store: &mut SeriesStore,
    pairs: &[(usize, usize, Option<usize>)],
    counts: &[usize],
    plan: &FftPlan,
    bound: f64,
    centre: bool,
    comm: &dyn Communicator,
) -> Result<Vec<SelfSpectrum>, TransportError> {
    let fresh = || counts.iter().map(|&c| SelfSpectrum::new(plan, bound, c as u64)).collect::<Vec<_>>();
    // One set of sums per thread for the whole run, each thread taking an equal share of
    // every batch's pairs (the sums are exact integers: any split gives the same words),
    // so that no transform buffer or sum is allocated, and faulted in, more than once.
    let threads = rayon::current_num_threads().max(1);
    let mut parts: Vec<Vec<SelfSpectrum>> = (0..threads).map(|_| fresh()).collect();
    let batch = store.batch_atoms();
    let mut series = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        // Whole pairs whose atoms fit a batch.
        let first_atom = pairs[start].1;
        let mut end = start;
        while end < pairs.len() && pairs[end].2.unwrap_or(pairs[end].1) - first_atom < batch {
            end += 1;
        }
        let end = end.max(start + 1);
        let last_atom = pairs[end - 1].2.unwrap_or(pairs[end - 1].1) + 1;
        store.read_atoms_into(first_atom..last_atom, &mut series)?;
        if centre {
            series.par_iter_mut().for_each(|s| correlate::centre_in_place(s));
        }
        let share = (end - start).div_ceil(threads);
        parts.par_iter_mut().zip(pairs[start..end].par_chunks(share)).for_each(|(acc, chunk)| {
            for &(s, ia, ib) in chunk {
                let a = &series[ia - first_atom];
                let b = ib.map(|ib| series[ib - first_atom].as_slice());
                acc[s].add_pair(plan, a, b);
            }
        });
        start = end;
    }
    let mut sums = fresh();
    for part in &parts {
        for (x, y) in sums.iter_mut().zip(part) {
            x.merge(y);
        }
    }
    for s in &mut sums {
        let (power, squares, n_series) = s.words_mut();
        comm.sum_i128(power);
        comm.sum_i128(squares);
        let mut n = [*n_series];
        comm.sum_u64(&mut n);
        *n_series = n[0];
    }
    Ok(sums)
}

/// Σ of `values` over the atoms of a group, in index order.
fn group_sum(group: &[usize], values: &[[f64; 3]]) -> [f64; 3] {
    let mut x = [0.0; 3];
    for &a in group {
        for c in 0..3 {
            x[c] += values[a][c];
        }
    }
    x
}

fn mass_weighted_mean(atoms: &[usize], masses: &[f64], value: impl Fn(usize) -> Vec3) -> [f64; 3] {
    if atoms.is_empty() {
        return [0.0; 3];
    }
    let mut sum = Vec3::zeros();
    let mut total = 0.0;
    for &a in atoms {
        sum += value(a) * masses[a];
        total += masses[a];
    }
    let mean = sum / total;
    [mean.x, mean.y, mean.z]
}

fn same_box(a: &SimBox, b: &SimBox) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
    (0..3).all(|i| close(a.lengths()[i], b.lengths()[i]) && close(a.tilt()[i], b.tilt()[i]))
}

fn check_atoms(st: &State, frame: &Frame, k: usize) -> Result<(), TransportError> {
    if frame.n_atoms() != st.ids.len() {
        return Err(TransportError::AtomCount { frame: k, expected: st.ids.len(), found: frame.n_atoms() });
    }
    if let Some(i) = frame.ids.iter().zip(&st.ids).position(|(a, &b)| a.0 != b) {
        return Err(TransportError::AtomIds { frame: k, index: i, expected: st.ids[i], found: frame.ids[i].0 });
    }
    for (i, (s, &s0)) in frame.species.iter().zip(&st.species_of).enumerate() {
        if s.0 != s0 {
            let found = frame.species_table.names().get(s.index()).cloned().unwrap_or_default();
            let expected = st.names[s0 as usize].clone();
            if found != expected {
                return Err(TransportError::SpeciesChanged { frame: k, id: st.ids[i], expected, found });
            }
        }
    }
    Ok(())
}
