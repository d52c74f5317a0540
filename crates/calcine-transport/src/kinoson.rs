//! Kinosons: diffusion as a sum of non-negative contributions of individual transitions
//! (Chattopadhyay and Trinkle, Phys. Rev. Lett. 132, 186301 (2024)), from the variational
//! principle for mass transport (Trinkle, Phys. Rev. Lett. 121, 235901 (2018)).
//!
//! **Input.** Sites of a reference structure, the site each atom starts on, and a list of
//! hops (time, atom, from site, to site): from kinetic Monte Carlo, or detected in a
//! trajectory by [`HopDetector`] (each atom assigned to its nearest site; a change of site
//! becomes a hop once the atom has stayed on the new site for a residence time or moved on
//! to a third site, so that recrossings — visits followed by a return — are filtered out).
//!
//! **Estimator.** For a tracer of species s, over a run of duration T with N_s such atoms,
//! and any vector field y(χ) of the state,
//!
//! D_s[y] = 1/(2d·T·N_s) · Σ_transitions Σ_{a∈s} |δx_a + y_a(χ') − y_a(χ)|²  ≥  D_s,
//!
//! with equality for the relaxation vector y*; y = 0 gives the uncorrelated D₀ and
//! f = D/D₀ is the correlation factor. Every transition — including a hop of another atom
//! that changes a's environment, δx_a = 0 — contributes a non-negative term, its kinoson.
//! Here y is linear in a basis, y_a(χ) = Σ_k θ_k φ_k,a(χ), with one basis function per
//! star of site-to-site vectors within a cutoff (vectors of equal length and equal sorted
//! absolute components): φ_k,a = Σ_{empty sites e, v = e − site(a) in star k} v. The
//! functional is then quadratic in θ, minimised in closed form by θ = −A⁻¹c with
//! A_kl = Σ Δφ_k·Δφ_l and c_k = Σ δx·Δφ_k. Because θ is fitted on the data, its own value
//! is optimistically low; D is reported by two-fold cross-fitting (θ from the even hops
//! scores the odd ones and the reverse). Errors are delete-one-block jackknife errors over
//! blocks in time, θ refitted for each replicate, so the noise of the fitted θ is included.
//! With one vacancy in a lattice every transition is equivalent: each adds the same scalar
//! products to A and c, θ and f are the same for any hop sequence, and f has no
//! statistical error at all. The basis itself biases D and f upwards (the functional is an
//! upper bound); that bias is not in the error bar — it shrinks as `cutoff` grows.
//! **Normalisation.** A kinoson is a transition's share of D, so the kinosons of a species
//! sum to its D; the factor 1/(2d·T·N_s) above is fixed by that and by exact results, not
//! by the paper (only its abstract was reachable): the tests recover the uncorrelated
//! D₀ = z·w·ℓ²/(2d·N) of vacancy KMC to 2 % and the exact correlation factors of fcc
//! (0.78145) and bcc (0.72719) vacancy diffusion to 1 %, by this route and by the MSD. The
//! paper's analytic model of how the density of kinosons changes with temperature is not
//! implemented: D(T) across temperatures is fitted by Arrhenius laws instead.

use std::collections::BTreeMap;
use std::path::Path;

use calcine_core::{SimBox, Vec3};
use nalgebra::{DMatrix, DVector};

use crate::{Estimate, TransportError};

/// One hop: at `time` (ps) atom `atom` (an index into the atoms) moves from site `from`
/// to site `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hop {
    pub time: f64,
    pub atom: usize,
    pub from: usize,
    pub to: usize,
}

/// A hop with its displacement and kinoson, for reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HopRecord {
    pub time: f64,
    pub atom: usize,
    pub species: String,
    pub from: usize,
    pub to: usize,
    pub displacement: [f64; 3],
    /// The transition's kinoson for the hopping atom's species (Å²/ps), summed over every
    /// atom of that species whose environment it changed.
    pub kinoson: f64,
}

/// Sites of a reference structure with the vectors to the sites within the basis cutoff.
#[derive(Debug, Clone)]
pub struct Sites {
    positions: Vec<Vec3>,
    simbox: SimBox,
    /// Per site: (other site, vector from this site to it, star).
    near: Vec<Vec<(usize, [f64; 3], usize)>>,
    n_stars: usize,
}

impl Sites {
    /// Sites at `positions` in `simbox`; the basis uses the vectors to sites within
    /// `cutoff` Å.
    pub fn new(positions: Vec<Vec3>, simbox: SimBox, cutoff: f64) -> Self {
        let n = positions.len();
        let mut stars: BTreeMap<[i64; 4], usize> = BTreeMap::new();
        let key = |v: &Vec3| {
            let q = |x: f64| (x * 1e5).round() as i64;
            let mut a = [q(v.x.abs()), q(v.y.abs()), q(v.z.abs())];
            a.sort_unstable();
            [q(v.norm_squared()), a[0], a[1], a[2]]
        };
        let mut near = vec![Vec::new(); n];
        let mut vectors = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let v = simbox.minimum_image(&(positions[j] - positions[i]));
                if v.norm() <= cutoff {
                    vectors.push((i, j, v));
                }
            }
        }
        for (_, _, v) in &vectors {
            let next = stars.len();
            stars.entry(key(v)).or_insert(next);
        }
        // Number stars by (length, components) so that the basis order is reproducible.
        let order: BTreeMap<[i64; 4], usize> = stars.keys().enumerate().map(|(i, k)| (*k, i)).collect();
        for (i, j, v) in vectors {
            near[i].push((j, [v.x, v.y, v.z], order[&key(&v)]));
        }
        Self { positions, simbox, near, n_stars: order.len() }
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Number of basis functions (stars).
    pub fn n_stars(&self) -> usize {
        self.n_stars
    }

    /// The nearest site to `x` (minimum image), by a search over all sites.
    pub fn nearest(&self, x: &Vec3) -> usize {
        let mut best = (f64::INFINITY, 0);
        for (i, p) in self.positions.iter().enumerate() {
            let d = self.simbox.minimum_image(&(x - p)).norm_squared();
            if d < best.0 {
                best = (d, i);
            }
        }
        best.1
    }

    /// The nearest site to `x` among `site` and the sites near it.
    fn nearest_around(&self, x: &Vec3, site: usize) -> usize {
        let mut best = (self.simbox.minimum_image(&(x - self.positions[site])).norm_squared(), site);
        for &(j, _, _) in &self.near[site] {
            let d = self.simbox.minimum_image(&(x - self.positions[j])).norm_squared();
            if d < best.0 {
                best = (d, j);
            }
        }
        best.1
    }

    fn displacement(&self, from: usize, to: usize) -> [f64; 3] {
        let v = self.simbox.minimum_image(&(self.positions[to] - self.positions[from]));
        [v.x, v.y, v.z]
    }
}

/// Turns frames into hops: atoms are assigned to their nearest site; a new site becomes a
/// hop when the atom has stayed there for `residence` ps, or when it moves on from there to
/// a third site. A shorter visit followed by a return is a recrossing and no hop. A hop
/// is dated at the first frame that shows the atom on its new site.
#[derive(Debug, Clone)]
pub struct HopDetector {
    residence: f64,
    committed: Vec<usize>,
    candidate: Vec<Option<(usize, f64)>>,
    hops: Vec<Hop>,
    start: Option<f64>,
    last: f64,
}

impl HopDetector {
    pub fn new(residence: f64) -> Self {
        Self { residence, committed: Vec::new(), candidate: Vec::new(), hops: Vec::new(), start: None, last: 0.0 }
    }

    /// Adds the positions of every atom at `time`.
    pub fn push(&mut self, sites: &Sites, time: f64, positions: &[Vec3]) {
        if self.start.is_none() {
            self.start = Some(time);
            self.committed = positions.iter().map(|x| sites.nearest(x)).collect();
            self.candidate = vec![None; positions.len()];
            self.last = time;
            return;
        }
        self.last = time;
        for (a, x) in positions.iter().enumerate() {
            let current = self.committed[a];
            let near = match self.candidate[a] {
                Some((c, _)) => sites.nearest_around(x, c),
                None => sites.nearest_around(x, current),
            };
            if near == current {
                self.candidate[a] = None;
                continue;
            }
            let since = match self.candidate[a] {
                Some((c, since)) if c == near => since,
                Some((c, since)) => {
                    // The atom moved on from the site it was trying to a third site: the
                    // short visit was a hop (only a return is a recrossing). One hop
                    // from the old site to the third would be a jump the lattice lacks,
                    // out of order with the hops of the atoms around it.
                    self.hops.push(Hop { time: since, atom: a, from: current, to: c });
                    self.committed[a] = c;
                    time
                }
                None => time,
            };
            let current = self.committed[a];
            if time - since >= self.residence {
                self.hops.push(Hop { time: since, atom: a, from: current, to: near });
                self.committed[a] = near;
                self.candidate[a] = None;
            } else {
                self.candidate[a] = Some((near, since));
            }
        }
    }

    /// The sites the atoms started on, the hops in time order and the duration.
    pub fn finish(mut self) -> (Vec<usize>, Vec<Hop>, f64) {
        self.hops.sort_by(|a, b| a.time.total_cmp(&b.time));
        let mut initial = self.committed.clone();
        for h in self.hops.iter().rev() {
            initial[h.atom] = h.from;
        }
        let hops = order_simultaneous(&initial, self.hops);
        (initial, hops, self.last - self.start.unwrap_or(0.0))
    }
}

/// Orders hops that share a time so that a site is left before another atom enters it.
/// Hops first seen in the same frame happened in some order between two frames: when an
/// atom fills a vacancy and a second atom fills the site the first one left, the first
/// hop must come first, or the replay would put two atoms on one site and see the wrong
/// environments. Within each group of equal times the first hop (in atom order) whose
/// target is empty goes next; a cycle with no empty target keeps atom order. `hops` is
/// sorted by time, each atom at most once per time.
fn order_simultaneous(initial: &[usize], hops: Vec<Hop>) -> Vec<Hop> {
    let n_sites = hops.iter().map(|h| h.from.max(h.to) + 1).chain(initial.iter().map(|&s| s + 1)).max().unwrap_or(0);
    let mut occupancy = vec![0u32; n_sites];
    for &s in initial {
        occupancy[s] += 1;
    }
    let mut out = Vec::with_capacity(hops.len());
    let mut start = 0;
    while start < hops.len() {
        let end = start + hops[start..].iter().take_while(|h| h.time == hops[start].time).count();
        let mut pending: Vec<Hop> = hops[start..end].to_vec();
        while !pending.is_empty() {
            let i = pending.iter().position(|h| occupancy[h.to] == 0).unwrap_or(0);
            let h = pending.remove(i);
            occupancy[h.from] -= 1;
            occupancy[h.to] += 1;
            out.push(h);
        }
        start = end;
    }
    out
}

/// Kinoson results per species.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KinosonResults {
    pub species: Vec<String>,
    /// Tracer D from kinosons, cross-fitted (Å²/ps).
    pub diffusion: Vec<Estimate>,
    /// The same with θ fitted on all hops (optimistically low).
    pub diffusion_training: Vec<f64>,
    /// Uncorrelated D₀ = Σ|δx|²/(2d·T·N_s) (Å²/ps).
    pub uncorrelated: Vec<Estimate>,
    /// f = D/D₀.
    pub correlation_factor: Vec<Estimate>,
    /// Hops made by atoms of each species.
    pub n_hops: Vec<usize>,
    pub atoms: Vec<usize>,
    pub duration: f64,
    pub basis_size: usize,
    pub blocks: usize,
    /// Per transition, the kinoson of each species.
    #[serde(skip)]
    pub kinosons: Vec<Vec<f64>>,
    #[serde(skip)]
    pub hops: Vec<HopRecord>,
}

/// Options of [`kinosons`].
#[derive(Debug, Clone, Copy)]
pub struct KinosonOptions {
    /// Duration of the run in ps (the hops' time span if not given).
    pub duration: Option<f64>,
    /// Blocks in time for the error bars.
    pub blocks: usize,
}

impl Default for KinosonOptions {
    fn default() -> Self {
        Self { duration: None, blocks: 10 }
    }
}

/// A sparse Δφ: (star, vector) entries.
type Change = Vec<(usize, [f64; 3])>;

/// The replay of hops over the occupancy of the sites.
struct Replay<'a> {
    sites: &'a Sites,
    site_of: Vec<usize>,
    occupants: Vec<Vec<usize>>,
    spectators: Vec<Spectator>,
    slot: Vec<u32>,
}

impl<'a> Replay<'a> {
    fn new(sites: &'a Sites, initial: &[usize]) -> Self {
        let mut occupants = vec![Vec::new(); sites.len()];
        for (a, &s) in initial.iter().enumerate() {
            occupants[s].push(a);
        }
        Self {
            sites,
            site_of: initial.to_vec(),
            occupants,
            spectators: Vec::new(),
            slot: vec![u32::MAX; initial.len()],
        }
    }

    /// φ of an atom on `site`: Σ over empty sites near it of their vectors, by star.
    fn phi(&self, site: usize, out: &mut Change) {
        out.clear();
        for &(j, v, star) in &self.sites.near[site] {
            if self.occupants[j].is_empty() {
                match out.iter_mut().find(|(s, _)| *s == star) {
                    Some((_, w)) => {
                        for c in 0..3 {
                            w[c] += v[c];
                        }
                    }
                    None => out.push((star, v)),
                }
            }
        }
    }

    /// Applies `hop` and calls `visit(atom, δx, Δφ)` for the mover and every atom whose
    /// φ changes.
    fn apply(
        &mut self,
        n: usize,
        hop: &Hop,
        visit: &mut dyn FnMut(usize, [f64; 3], &Change),
    ) -> Result<(), TransportError> {
        let (b, p, q) = (hop.atom, hop.from, hop.to);
        if b >= self.site_of.len() || p >= self.sites.len() || q >= self.sites.len() {
            return Err(TransportError::Invalid(format!("hop {n}: atom {b} or site {p} or {q} does not exist")));
        }
        if self.site_of[b] != p {
            return Err(TransportError::Invalid(format!(
                "hop {n} at {} ps: atom {b} is on site {}, not on site {p}",
                hop.time, self.site_of[b]
            )));
        }
        let mut before = Change::new();
        self.phi(p, &mut before);
        let p_empties = self.occupants[p].len() == 1;
        let q_was_empty = self.occupants[q].is_empty();
        self.occupants[p].retain(|&a| a != b);
        self.occupants[q].push(b);
        self.site_of[b] = q;
        let mut after = Change::new();
        self.phi(q, &mut after);
        let mut change = after;
        for (star, v) in before {
            match change.iter_mut().find(|(s, _)| *s == star) {
                Some((_, w)) => {
                    for c in 0..3 {
                        w[c] -= v[c];
                    }
                }
                None => change.push((star, [-v[0], -v[1], -v[2]])),
            }
        }
        visit(b, self.sites.displacement(p, q), &change);
        // Spectators: p became empty (+ its vector), q stopped being empty (− its vector).
        // An atom near both gets both entries, in one change.
        let zero = [0.0; 3];
        self.spectators.clear();
        if p_empties {
            for &(s, v, star) in &self.sites.near[p] {
                for &a in &self.occupants[s] {
                    add_spectator(&mut self.spectators, &mut self.slot, a, star, [-v[0], -v[1], -v[2]]);
                }
            }
        }
        if q_was_empty {
            for &(s, v, star) in &self.sites.near[q] {
                for &a in &self.occupants[s] {
                    if a != b {
                        add_spectator(&mut self.spectators, &mut self.slot, a, star, v);
                    }
                }
            }
        }
        let mut change = Change::with_capacity(2);
        for (a, n, entries) in &self.spectators {
            self.slot[*a] = u32::MAX;
            if *a == b {
                continue;
            }
            change.clear();
            change.extend_from_slice(&entries[..*n]);
            merge_stars(&mut change);
            visit(*a, zero, &change);
        }
        Ok(())
    }
}

type Spectator = (usize, usize, [(usize, [f64; 3]); 2]);

fn add_spectator(list: &mut Vec<Spectator>, slot: &mut [u32], atom: usize, star: usize, v: [f64; 3]) {
    if slot[atom] == u32::MAX {
        slot[atom] = list.len() as u32;
        list.push((atom, 1, [(star, v), (0, [0.0; 3])]));
    } else {
        let e = &mut list[slot[atom] as usize];
        e.2[e.1] = (star, v);
        e.1 += 1;
    }
}

/// Adds up entries of the same star (in place, keeping the first one's position).
fn merge_stars(change: &mut Change) {
    let mut i = 0;
    while i < change.len() {
        let mut j = i + 1;
        while j < change.len() {
            if change[j].0 == change[i].0 {
                let v = change.swap_remove(j).1;
                for c in 0..3 {
                    change[i].1[c] += v[c];
                }
            } else {
                j += 1;
            }
        }
        i += 1;
    }
}

/// The functional of a set of transitions as a quadratic form in θ:
/// Σ|δx + Σ_k θ_k Δφ_k|² = s0 + 2θ·c + θᵀAθ.
#[derive(Debug, Clone)]
struct Quadratic {
    s0: f64,
    c: DVector<f64>,
    a: DMatrix<f64>,
}

impl Quadratic {
    fn new(k: usize) -> Self {
        Self { s0: 0.0, c: DVector::zeros(k), a: DMatrix::zeros(k, k) }
    }

    fn add(&mut self, other: &Quadratic) {
        self.s0 += other.s0;
        self.c += &other.c;
        self.a += &other.a;
    }

    fn value(&self, theta: &DVector<f64>) -> f64 {
        self.s0 + 2.0 * theta.dot(&self.c) + theta.dot(&(&self.a * theta))
    }
}

/// The delete-one jackknife standard error of replicates θ₍ᵦ₎: √((B−1)/B · Σ(θ₍ᵦ₎ − θ̄)²);
/// NaN with fewer than two finite replicates.
fn jackknife_error(replicates: &[f64]) -> f64 {
    let r: Vec<f64> = replicates.iter().copied().filter(|x| x.is_finite()).collect();
    if r.len() < 2 {
        return f64::NAN;
    }
    let b = r.len() as f64;
    let mean = r.iter().sum::<f64>() / b;
    ((b - 1.0) / b * r.iter().map(|x| (x - mean).powi(2)).sum::<f64>()).sqrt()
}

fn solve_theta(a: &DMatrix<f64>, c: &DVector<f64>) -> DVector<f64> {
    let k = a.nrows();
    if k == 0 {
        return DVector::zeros(0);
    }
    let scale = (0..k).map(|i| a[(i, i)]).fold(0.0f64, f64::max).max(1e-300);
    let mut ridge = 0.0;
    loop {
        let mut m = a.clone();
        for i in 0..k {
            m[(i, i)] += ridge * scale;
        }
        if let Some(ch) = m.cholesky() {
            return -ch.solve(c);
        }
        ridge = if ridge == 0.0 { 1e-12 } else { ridge * 10.0 };
    }
}

/// Kinosons, D, D₀ and f per species from hops over `sites`. `initial[a]` is atom a's
/// first site, `species[a]` its species (an index into `names`).
pub fn kinosons(
    sites: &Sites,
    initial: &[usize],
    species: &[usize],
    names: &[String],
    hops: &[Hop],
    options: KinosonOptions,
) -> Result<KinosonResults, TransportError> {
    let n_species = names.len();
    let k = sites.n_stars();
    let d = crate::fit::DIMENSIONS as f64;
    if hops.is_empty() {
        return Err(TransportError::Invalid("no hops: kinosons need at least one".into()));
    }
    if let Some(w) = hops.windows(2).find(|w| w[1].time < w[0].time) {
        return Err(TransportError::Invalid(format!(
            "hops are not in time order ({} ps after {} ps)",
            w[1].time, w[0].time
        )));
    }
    let t0 = hops[0].time.min(0.0);
    let duration = options.duration.unwrap_or(hops[hops.len() - 1].time - t0);
    if !(duration > 0.0) {
        return Err(TransportError::Invalid(format!("the duration must be positive, not {duration} ps")));
    }
    let atoms: Vec<usize> = (0..n_species).map(|s| species.iter().filter(|&&x| x == s).count()).collect();
    let blocks = options.blocks.max(1);
    let block_of = |time: f64| (((time - t0) / duration * blocks as f64) as usize).min(blocks - 1);
    // Pass 1: the quadratic form of the functional, Σ|δx + Σθ_k Δφ_k|² = s0 + 2θ·c + θᵀAθ,
    // per species, fold and block in time.
    let mut stats = vec![vec![vec![Quadratic::new(k); blocks]; 2]; n_species];
    let mut n_hops = vec![0usize; n_species];
    let mut replay = Replay::new(sites, initial);
    for (n, hop) in hops.iter().enumerate() {
        let (fold, block) = (n % 2, block_of(hop.time));
        n_hops[species[hop.atom]] += 1;
        replay.apply(n, hop, &mut |atom, dx, change| {
            let q = &mut stats[species[atom]][fold][block];
            q.s0 += dx[0] * dx[0] + dx[1] * dx[1] + dx[2] * dx[2];
            for &(i, vi) in change {
                q.c[i] += dx[0] * vi[0] + dx[1] * vi[1] + dx[2] * vi[2];
                for &(j, vj) in change {
                    q.a[(i, j)] += vi[0] * vj[0] + vi[1] * vj[1] + vi[2] * vj[2];
                }
            }
        })?;
    }
    let sum = |s: usize, fold: usize, skip: Option<usize>| {
        let mut q = Quadratic::new(k);
        for (b, part) in stats[s][fold].iter().enumerate() {
            if Some(b) != skip {
                q.add(part);
            }
        }
        q
    };
    let theta_fold: Vec<[DVector<f64>; 2]> = (0..n_species)
        .map(|s| {
            let (q0, q1) = (sum(s, 0, None), sum(s, 1, None));
            [solve_theta(&q0.a, &q0.c), solve_theta(&q1.a, &q1.c)]
        })
        .collect();
    let theta_all: Vec<DVector<f64>> = (0..n_species)
        .map(|s| {
            let mut q = sum(s, 0, None);
            q.add(&sum(s, 1, None));
            solve_theta(&q.a, &q.c)
        })
        .collect();
    // Pass 2: each transition's kinosons with the other fold's θ.
    let mut total_d = vec![0.0; n_species];
    let mut total_d0 = vec![0.0; n_species];
    let mut training = vec![0.0; n_species];
    let mut kinosons = Vec::with_capacity(hops.len());
    let mut records = Vec::with_capacity(hops.len());
    let mut replay = Replay::new(sites, initial);
    for (n, hop) in hops.iter().enumerate() {
        let other = 1 - n % 2;
        let mut kappa = vec![0.0; n_species];
        replay.apply(n, hop, &mut |atom, dx, change| {
            let s = species[atom];
            let norm = 1.0 / (2.0 * d * duration * atoms[s] as f64);
            let term = |theta: &DVector<f64>| {
                let mut v = dx;
                for &(i, vi) in change {
                    for c in 0..3 {
                        v[c] += theta[i] * vi[c];
                    }
                }
                (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) * norm
            };
            let held_out = term(&theta_fold[s][other]);
            kappa[s] += held_out;
            training[s] += term(&theta_all[s]);
            total_d[s] += held_out;
            total_d0[s] += (dx[0] * dx[0] + dx[1] * dx[1] + dx[2] * dx[2]) * norm;
        })?;
        let s = species[hop.atom];
        records.push(HopRecord {
            time: hop.time,
            atom: hop.atom,
            species: names[s].clone(),
            from: hop.from,
            to: hop.to,
            displacement: sites.displacement(hop.from, hop.to),
            kinoson: kappa[s],
        });
        kinosons.push(kappa);
    }
    let mut diffusion = Vec::new();
    let mut uncorrelated = Vec::new();
    let mut factor = Vec::new();
    // Errors: the delete-one-block jackknife of the whole estimator, θ refitted without
    // the block (closed form from the per-block quadratic forms), so that the noise of the
    // fitted θ is included, not only the spread of per-block values at a fixed θ.
    let d_norm = |s: usize| 1.0 / (2.0 * d * duration * atoms[s] as f64);
    for s in 0..n_species {
        let (total, total0) = (total_d[s], total_d0[s]);
        let mut rep_d = Vec::new();
        let mut rep_d0 = Vec::new();
        let mut rep_f = Vec::new();
        if blocks >= 2 {
            // Leaving out one block of B leaves (B−1)/B of the duration.
            let scale = d_norm(s) * blocks as f64 / (blocks - 1) as f64;
            for b in 0..blocks {
                let q = [sum(s, 0, Some(b)), sum(s, 1, Some(b))];
                let theta = [solve_theta(&q[0].a, &q[0].c), solve_theta(&q[1].a, &q[1].c)];
                let held_out = q[0].value(&theta[1]) + q[1].value(&theta[0]);
                let d0_raw = q[0].s0 + q[1].s0;
                rep_d.push(held_out * scale);
                rep_d0.push(d0_raw * scale);
                rep_f.push(if d0_raw > 0.0 { held_out / d0_raw } else { f64::NAN });
            }
        }
        diffusion.push(Estimate::new(total, jackknife_error(&rep_d)));
        uncorrelated.push(Estimate::new(total0, jackknife_error(&rep_d0)));
        factor.push(Estimate::new(if total0 > 0.0 { total / total0 } else { f64::NAN }, jackknife_error(&rep_f)));
    }
    Ok(KinosonResults {
        species: names.to_vec(),
        diffusion,
        diffusion_training: training,
        uncorrelated,
        correlation_factor: factor,
        n_hops,
        atoms,
        duration,
        basis_size: k,
        blocks,
        kinosons,
        hops: records,
    })
}

/// Reads a hop list: CSV with a header naming at least `time`, `atom`, `from` and `to`
/// (atom and site indices from 0, time in ps), one hop per line, `#` comments allowed.
pub fn read_hop_list(path: &Path) -> Result<Vec<Hop>, TransportError> {
    let text = std::fs::read_to_string(path).map_err(|e| TransportError::HopList {
        path: path.to_path_buf(),
        line: 0,
        reason: e.to_string(),
    })?;
    let err = |line: usize, reason: String| TransportError::HopList { path: path.to_path_buf(), line, reason };
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (hl, header) = lines.next().ok_or_else(|| err(1, "the file is empty".into()))?;
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| {
        columns.iter().position(|c| *c == name).ok_or_else(|| err(hl + 1, format!("no '{name}' column in the header")))
    };
    let (ct, ca, cf, cto) = (col("time")?, col("atom")?, col("from")?, col("to")?);
    let mut hops = Vec::new();
    for (i, line) in lines {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let get = |c: usize| {
            fields
                .get(c)
                .copied()
                .ok_or_else(|| err(i + 1, format!("{} fields, expected {}", fields.len(), columns.len())))
        };
        let time: f64 = get(ct)?.parse().map_err(|e| err(i + 1, format!("time: {e}")))?;
        let int = |c: usize, what: &str| -> Result<usize, TransportError> {
            get(c)?.parse().map_err(|e| err(i + 1, format!("{what}: {e}")))
        };
        hops.push(Hop { time, atom: int(ca, "atom")?, from: int(cf, "from")?, to: int(cto, "to")? });
    }
    Ok(hops)
}

/// Hops found in a trajectory, with the atoms' first sites and species.
#[derive(Debug, Clone)]
pub struct DetectedHops {
    pub hops: Vec<Hop>,
    pub initial: Vec<usize>,
    pub species: Vec<usize>,
    pub names: Vec<String>,
    pub duration: f64,
}

/// Streams a trajectory through a [`HopDetector`]. Frame times are `k·frame_interval`
/// when given, else the frames' times, else step × `timestep`.
pub fn detect_hops(
    reader: &mut dyn calcine_io::FrameReader,
    sites: &Sites,
    residence: f64,
    frame_interval: Option<f64>,
    timestep: Option<f64>,
) -> Result<DetectedHops, TransportError> {
    let mut detector = HopDetector::new(residence);
    let mut k = 0usize;
    let mut first: Option<(Vec<usize>, Vec<String>)> = None;
    while let Some(frame) = reader.read_frame()? {
        let time = match (frame_interval, frame.time, frame.step, timestep) {
            (Some(dt), ..) => k as f64 * dt,
            (None, Some(t), ..) => t,
            (None, None, Some(step), Some(ts)) => step as f64 * ts,
            _ => return Err(TransportError::NoTime { frame: k }),
        };
        if first.is_none() {
            first = Some((frame.species.iter().map(|s| s.index()).collect(), frame.species_table.names()));
        }
        detector.push(sites, time, &frame.positions);
        k += 1;
    }
    let Some((species, names)) = first else { return Err(TransportError::Empty) };
    let (initial, hops, duration) = detector.finish();
    Ok(DetectedHops { hops, initial, species, names, duration })
}
