//! The site-update rule: ReactCA's interaction list, and the two ways of applying a chosen
//! reaction (exact pair events, or ReactCA's independent per-cell conversions).
//!
//! A visit to an occupied cell first tries a melt swap with a random neighbor (probability
//! [`swap_chance`](crate::scoring::swap_chance) of `T/Tm`). Otherwise it lists ReactCA's
//! interactions in ReactCA's order: the no-op (`inertia`); per neighbor, the solid–solid–gas
//! reactions with the atmosphere, the solid + atmosphere reactions when the neighbor is Free
//! Space, and the solid–solid reactions of the pair (the reactant set `{a}` when both cells
//! hold `a`); the decompositions of the cell's own phase; the no-op again. An interaction's
//! weight is its best reaction's score; one is drawn by weight and a reaction within it by
//! score.
//!
//! Amounts are integers: a cell holds `n` quanta of its phase, `n / Q` formula units per
//! "cell volume" unit, with `Q = 2⁴⁰` (a fresh cell of volume 1 holds `round(Q / V_m)`).
//! An exact event consumes `ν_r ξ` quanta of each reactant and creates `ν_p ξ` of each
//! product with the integer coefficients `ν` of the balanced reaction, so every element
//! balances in integers. See [`Rules::visit`] for where products go.

use crate::error::{AutomatonError, Result};
use crate::library::{Library, PhaseId, PhaseSet, Reaction, FREE_SPACE};
use crate::recipe::Mode;
use crate::scoring::swap_chance;
use calcine_core::rng::{philox4x32_10, Stream};
use std::collections::HashMap;

/// Amount quanta per (cell volume / molar volume in Å³).
pub const QUANTA: f64 = 1_099_511_627_776.0; // 2^40

/// Quanta of a fresh cell of volume 1 of a phase with molar volume `vm`.
pub fn fresh_amount(vm: f64) -> u64 {
    (QUANTA / vm).round() as u64
}

/// Volume (in cell units) of `n` quanta of a phase with molar volume `vm`.
pub fn cell_volume(n: u64, vm: f64) -> f64 {
    n as f64 * vm / QUANTA
}

const NONE: u32 = u32::MAX;
/// Most interactions one visit can list (two no-ops, a decomposition, six neighbors × (one
/// solid–solid–gas, one solid–solid and up to eight atmosphere interactions)).
const MAX_INTERACTIONS: usize = 3 + 6 * 10;
/// Most gases in the atmosphere.
pub const MAX_ATMOSPHERE: usize = 8;

#[derive(Debug, Clone)]
struct Group {
    reactions: Vec<u32>,
    cumulative: Vec<f64>,
    /// The interaction weight: the first (best) reaction's score.
    weight: f64,
}

#[derive(Debug, Clone)]
struct Compiled {
    identity: bool,
    /// (phase, ν, library volume coefficient)
    solid_reactants: Vec<(PhaseId, u64, f64)>,
    gas_reactants: Vec<(PhaseId, u64)>,
    solid_products: Vec<(PhaseId, u64, f64)>,
    gas_products: Vec<(PhaseId, u64)>,
    /// All products with their volume coefficients and gas flag (ReactCA draws among all).
    all_products: Vec<(PhaseId, f64, bool)>,
    sum_solid_reactant_volume: f64,
    sum_solid_product_volume: f64,
    /// Extent (quanta) that consumes one cell volume of solid reactants.
    target_extent: f64,
}

/// A visit's changes: new cell contents and integer changes of the pooled and gas ledgers.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// (local cell index, phase, amount)
    pub writes: Vec<(usize, PhaseId, u64)>,
    /// Quanta per phase that could not be placed in a cell (see [`Rules::visit`]).
    pub pool: Vec<i128>,
    /// Gas quanta evolved (positive) or taken from the atmosphere (negative), per phase.
    pub gas: Vec<i128>,
}

impl Changes {
    pub fn new(n_phases: usize) -> Changes {
        Changes { writes: Vec::new(), pool: vec![0; n_phases], gas: vec![0; n_phases] }
    }
    pub fn absorb(&mut self, other: Changes) {
        self.writes.extend(other.writes);
        for (a, b) in self.pool.iter_mut().zip(other.pool) {
            *a += b;
        }
        for (a, b) in self.gas.iter_mut().zip(other.gas) {
            *a += b;
        }
    }
}

/// Counter-based uniform numbers for one visit, drawn four at a time on demand.
pub struct Draws {
    key: [u32; 2],
    id: u64,
    step: u64,
    buf: [u32; 4],
    used: usize,
}

impl Draws {
    /// Draws for `id` (a global cell, or an update number) starting at counter `step`.
    pub fn new(seed: u64, id: u64, step: u64) -> Draws {
        let key = [seed as u32, ((seed >> 32) as u32) ^ (Stream::Automaton as u32).wrapping_mul(0x9E37_79B9)];
        Draws { key, id, step, buf: [0; 4], used: 4 }
    }
    fn raw(&mut self) -> u32 {
        if self.used == 4 {
            self.buf = philox4x32_10(
                [self.id as u32, (self.id >> 32) as u32, self.step as u32, (self.step >> 32) as u32],
                self.key,
            );
            self.step += 1;
            self.used = 0;
        }
        self.used += 1;
        self.buf[self.used - 1]
    }
    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.raw() as f64 + 0.5) * (1.0 / 4_294_967_296.0)
    }
    /// Uniform integer in `[0, n)` from 64 random bits.
    pub fn below(&mut self, n: u64) -> u64 {
        let r = ((self.raw() as u64) << 32) | self.raw() as u64;
        ((r as u128 * n as u128) >> 64) as u64
    }
}

/// The reactions at one temperature compiled into lookup tables.
#[derive(Debug, Clone)]
pub struct Rules {
    pub temperature: f64,
    pub mode: Mode,
    n: usize,
    inertia: f64,
    molar_volume: Vec<f64>,
    swap: Vec<f64>,
    reactions: Vec<Compiled>,
    groups: Vec<Group>,
    pair: Vec<u32>,
    ssg: Vec<u32>,
    single: Vec<u32>,
    /// Per phase, the groups `{a, gas}` for each atmospheric gas that has reactions.
    atmo: Vec<Vec<u32>>,
}

#[derive(Clone, Copy)]
enum Pick {
    NoOp,
    Single(u32),
    Pair(u32, usize),
}

impl Rules {
    /// Compiles the library's reactions at `temperature`.
    pub fn new(
        library: &Library,
        reactions: &[Reaction],
        temperature: f64,
        mode: Mode,
        inertia: f64,
        atmosphere: &[PhaseId],
    ) -> Result<Rules> {
        let phases = &library.phases;
        let n = phases.len();
        if atmosphere.len() > MAX_ATMOSPHERE {
            return Err(AutomatonError::Setting {
                key: "atmosphere".into(),
                reason: format!("at most {MAX_ATMOSPHERE} gases"),
            });
        }
        let mut compiled = Vec::with_capacity(reactions.len());
        let mut by_set: HashMap<Vec<PhaseId>, Vec<u32>> = HashMap::new();
        let mut order: Vec<Vec<PhaseId>> = Vec::new();
        for (k, r) in reactions.iter().enumerate() {
            compiled.push(compile(phases, r));
            let mut set: Vec<PhaseId> = r.reactants.iter().map(|t| t.phase).collect();
            set.sort_unstable();
            set.dedup();
            let entry = by_set.entry(set.clone()).or_insert_with(|| {
                order.push(set);
                Vec::new()
            });
            entry.push(k as u32);
        }
        let mut groups = Vec::new();
        let mut group_of: HashMap<Vec<PhaseId>, u32> = HashMap::new();
        let make_group = |mut members: Vec<u32>| -> Group {
            // ReactCA keeps each reactant set's list sorted by score, highest first; the
            // sort is stable, so ties keep the library's order.
            members.sort_by(|&a, &b| reactions[b as usize].score.total_cmp(&reactions[a as usize].score));
            group_from(members, reactions)
        };
        for set in &order {
            group_of.insert(set.clone(), groups.len() as u32);
            groups.push(make_group(by_set[set].clone()));
        }
        let lookup = |set: &[PhaseId]| -> u32 {
            let mut s = set.to_vec();
            s.sort_unstable();
            s.dedup();
            group_of.get(&s).copied().unwrap_or(NONE)
        };
        let mut pair = vec![NONE; n * n];
        let mut ssg = vec![NONE; n * n];
        let mut single = vec![NONE; n];
        let mut atmo = vec![Vec::new(); n];
        for a in 1..n as PhaseId {
            single[a as usize] = lookup(&[a]);
            for &g in atmosphere {
                let grp = lookup(&[a, g]);
                if grp != NONE {
                    atmo[a as usize].push(grp);
                }
            }
            for b in 1..n as PhaseId {
                pair[a as usize * n + b as usize] = lookup(&[a, b]);
                // ReactCA concatenates the solid–solid–gas reactions of every atmospheric gas
                // into one interaction weighted by the first reaction of the list.
                let members: Vec<u32> = atmosphere
                    .iter()
                    .flat_map(|&g| {
                        let grp = lookup(&[a, b, g]);
                        if grp == NONE {
                            Vec::new()
                        } else {
                            groups[grp as usize].reactions.clone()
                        }
                    })
                    .collect();
                if !members.is_empty() {
                    ssg[a as usize * n + b as usize] = groups.len() as u32;
                    let mut g = group_from(members, reactions);
                    g.weight = reactions[g.reactions[0] as usize].score;
                    groups.push(g);
                }
            }
        }
        let swap = phases
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| if i == FREE_SPACE as usize { 0.0 } else { swap_chance(temperature / p.melting_point) })
            .collect();
        Ok(Rules {
            temperature,
            mode,
            n,
            inertia,
            molar_volume: phases.phases.iter().map(|p| p.molar_volume).collect(),
            swap,
            reactions: compiled,
            groups,
            pair,
            ssg,
            single,
            atmo,
        })
    }

    pub fn n_phases(&self) -> usize {
        self.n
    }

    /// One visit to cell `i` with neighbors `nb` (−x, +x, −y, +y, −z, +z).
    ///
    /// In [`Mode::Exact`], all six neighbors are listed and a reaction between two cells
    /// proceeds (probability `min(1, ξ*/ξ)`, with ξ the limiting extent and ξ* the extent
    /// that consumes one cell volume, so the expected consumption is ReactCA's) at the
    /// limiting extent: the limiting cell is used up and takes a product, the other keeps
    /// its remainder. One-reactant reactions act on each participating cell alone
    /// (probability `min(1, 1/V)`). Products are placed one per emptied cell, drawn by
    /// volume; a product that finds no emptied cell, and the remainder (fewer than ν quanta)
    /// of a used-up cell, go to the pool, which the engine spreads over the cells of that
    /// phase after each sweep. Everything is integer, so every element is conserved.
    ///
    /// In [`Mode::ReactcaCompatible`], one random neighbor is listed, and each participating
    /// cell converts independently as in ReactCA `11fa2cd` (probability `(r/ΣR)/V`; product
    /// drawn by volume among all products; a gas product is credited without consuming the
    /// cell).
    pub fn visit(
        &self,
        i: usize,
        nb: &[usize; 6],
        phase: &[PhaseId],
        amount: &[u64],
        draws: &mut Draws,
        out: &mut Changes,
    ) {
        let a = phase[i];
        if a == FREE_SPACE {
            return;
        }
        let n = self.n;
        if draws.uniform() < self.swap[a as usize] {
            let j = nb[draws.below(6) as usize];
            if phase[j] != a || amount[j] != amount[i] {
                out.writes.push((i, phase[j], amount[j]));
                out.writes.push((j, a, amount[i]));
            }
            return;
        }
        let mut picks = [Pick::NoOp; MAX_INTERACTIONS];
        let mut weights = [0.0f64; MAX_INTERACTIONS];
        let mut len = 0;
        let mut push = |p: Pick, w: f64| {
            picks[len] = p;
            weights[len] = w;
            len += 1;
        };
        push(Pick::NoOp, self.inertia);
        let mut one = [0usize; 1];
        let neighbors: &[usize] = match self.mode {
            Mode::Exact => nb,
            Mode::ReactcaCompatible => {
                one[0] = nb[draws.below(6) as usize];
                &one
            }
        };
        for (slot, &j) in neighbors.iter().enumerate() {
            let slot = if self.mode == Mode::Exact { slot } else { nb.iter().position(|&x| x == j).unwrap_or(0) };
            let b = phase[j];
            if b != FREE_SPACE {
                let g = self.ssg[a as usize * n + b as usize];
                if g != NONE {
                    push(Pick::Pair(g, slot), self.groups[g as usize].weight);
                }
            } else {
                for &g in &self.atmo[a as usize] {
                    push(Pick::Single(g), self.groups[g as usize].weight);
                }
            }
            if b != FREE_SPACE {
                let g = self.pair[a as usize * n + b as usize];
                if g != NONE {
                    push(Pick::Pair(g, slot), self.groups[g as usize].weight);
                }
            }
        }
        let g = self.single[a as usize];
        if g != NONE {
            push(Pick::Single(g), self.groups[g as usize].weight);
        }
        push(Pick::NoOp, self.inertia);
        let total: f64 = weights[..len].iter().sum();
        let mut r = draws.uniform() * total;
        let mut chosen = Pick::NoOp;
        for k in 0..len {
            if r < weights[k] || k + 1 == len {
                chosen = picks[k];
                break;
            }
            r -= weights[k];
        }
        let (group, partner) = match chosen {
            Pick::NoOp => return,
            Pick::Single(g) => (g, None),
            Pick::Pair(g, slot) => (g, Some(nb[slot])),
        };
        let grp = &self.groups[group as usize];
        let total = *grp.cumulative.last().expect("groups are not empty");
        let u = draws.uniform() * total;
        let k = grp.cumulative.partition_point(|&c| c <= u).min(grp.reactions.len() - 1);
        let rx = &self.reactions[grp.reactions[k] as usize];
        if rx.identity {
            return;
        }
        let cells: &[usize] = match partner {
            Some(j) => &[i, j],
            None => &[i],
        };
        match self.mode {
            Mode::ReactcaCompatible => {
                for &c in cells {
                    self.convert_independently(c, rx, phase, amount, draws, out);
                }
            }
            Mode::Exact => {
                if rx.solid_reactants.len() == 1 {
                    for &c in cells {
                        if phase[c] == rx.solid_reactants[0].0 {
                            self.single_event(c, rx, amount, draws, out);
                        }
                    }
                } else if let (Some(j), 2) = (partner, rx.solid_reactants.len()) {
                    self.pair_event(i, j, rx, phase, amount, draws, out);
                }
            }
        }
    }

    fn molar_volume(&self, p: PhaseId) -> f64 {
        self.molar_volume[p as usize]
    }

    /// ReactCA's `ReactionCalculator` per-cell step.
    fn convert_independently(
        &self,
        c: usize,
        rx: &Compiled,
        phase: &[PhaseId],
        amount: &[u64],
        draws: &mut Draws,
        out: &mut Changes,
    ) {
        let p = phase[c];
        let Some(&(_, _, r_vol)) = rx.solid_reactants.iter().find(|t| t.0 == p) else { return };
        let vol = cell_volume(amount[c], self.molar_volume(p));
        if !(draws.uniform() < (r_vol / rx.sum_solid_reactant_volume) / vol) {
            return;
        }
        let total: f64 = rx.all_products.iter().map(|x| x.1).sum();
        let mut u = draws.uniform() * total;
        let mut pick = rx.all_products[rx.all_products.len() - 1];
        for &x in &rx.all_products {
            if u < x.1 {
                pick = x;
                break;
            }
            u -= x.1;
        }
        let product_volume = vol * rx.sum_solid_product_volume / rx.sum_solid_reactant_volume;
        let quanta = (product_volume * QUANTA / self.molar_volume(pick.0)).round() as u64;
        if pick.2 {
            out.gas[pick.0 as usize] += quanta as i128;
        } else {
            out.writes.push((c, pick.0, quanta));
        }
    }

    /// Draws one of `products` (phase, ν, volume) by volume, skipping `taken`.
    fn draw_product(products: &[(PhaseId, u64, f64)], taken: Option<usize>, draws: &mut Draws) -> usize {
        let total: f64 = products.iter().enumerate().filter(|(k, _)| Some(*k) != taken).map(|(_, p)| p.2).sum();
        let mut u = draws.uniform() * total;
        let mut last = 0;
        for (k, p) in products.iter().enumerate() {
            if Some(k) == taken {
                continue;
            }
            last = k;
            if u < p.2 {
                return k;
            }
            u -= p.2;
        }
        last
    }

    fn gases(&self, rx: &Compiled, extent: u64, out: &mut Changes) {
        for &(g, nu) in &rx.gas_reactants {
            out.gas[g as usize] -= (nu * extent) as i128;
        }
        for &(g, nu) in &rx.gas_products {
            out.gas[g as usize] += (nu * extent) as i128;
        }
    }

    fn single_event(&self, c: usize, rx: &Compiled, amount: &[u64], draws: &mut Draws, out: &mut Changes) {
        let (a, nu, _) = rx.solid_reactants[0];
        let n = amount[c];
        let vol = cell_volume(n, self.molar_volume(a));
        if !(draws.uniform() < 1.0 / vol) {
            return;
        }
        let extent = n / nu;
        if extent == 0 {
            return;
        }
        out.pool[a as usize] += (n - nu * extent) as i128;
        self.gases(rx, extent, out);
        self.place(&[c], rx, extent, &[1.0], draws, out);
    }

    fn pair_event(
        &self,
        i: usize,
        j: usize,
        rx: &Compiled,
        phase: &[PhaseId],
        amount: &[u64],
        draws: &mut Draws,
        out: &mut Changes,
    ) {
        let (ri, rj) = if rx.solid_reactants[0].0 == phase[i] {
            (rx.solid_reactants[0], rx.solid_reactants[1])
        } else {
            (rx.solid_reactants[1], rx.solid_reactants[0])
        };
        debug_assert!(ri.0 == phase[i] && rj.0 == phase[j]);
        let (ni, nj) = (amount[i], amount[j]);
        let extent = (ni / ri.1).min(nj / rj.1);
        if extent == 0 {
            return;
        }
        if !(draws.uniform() < rx.target_extent / extent as f64) {
            return;
        }
        let (rem_i, rem_j) = (ni - ri.1 * extent, nj - rj.1 * extent);
        let emptied_i = rem_i < ri.1;
        let emptied_j = rem_j < rj.1;
        let mut emptied = Vec::with_capacity(2);
        let mut consumed = Vec::with_capacity(2);
        for (cell, rem, r, e) in [(i, rem_i, ri, emptied_i), (j, rem_j, rj, emptied_j)] {
            if e {
                out.pool[r.0 as usize] += rem as i128;
                emptied.push(cell);
                consumed.push((r.1 * extent) as f64 * self.molar_volume(r.0));
            } else {
                out.writes.push((cell, r.0, rem));
            }
        }
        self.gases(rx, extent, out);
        self.place(&emptied, rx, extent, &consumed, draws, out);
    }

    /// Puts the solid products of `extent` into the emptied `cells` (one product per cell,
    /// drawn by volume; a single product is split between two cells in proportion to the
    /// volume each gave up); what does not fit goes to the pool.
    fn place(
        &self,
        cells: &[usize],
        rx: &Compiled,
        extent: u64,
        consumed: &[f64],
        draws: &mut Draws,
        out: &mut Changes,
    ) {
        let prods = &rx.solid_products;
        if prods.is_empty() {
            for &c in cells {
                out.writes.push((c, FREE_SPACE, 0));
            }
            return;
        }
        if prods.len() == 1 && cells.len() == 2 {
            let total = prods[0].1 * extent;
            let share = consumed[0] / (consumed[0] + consumed[1]);
            let first = ((total as f64 * share).round() as u64).min(total);
            out.writes.push((cells[0], prods[0].0, first));
            out.writes.push((cells[1], prods[0].0, total - first));
            return;
        }
        let mut placed: [Option<usize>; 2] = [None, None];
        for (k, &c) in cells.iter().enumerate() {
            let taken = if k == 1 { placed[0] } else { None };
            let p = Self::draw_product(prods, taken, draws);
            placed[k] = Some(p);
            out.writes.push((c, prods[p].0, prods[p].1 * extent));
        }
        for (k, p) in prods.iter().enumerate() {
            if !placed.contains(&Some(k)) {
                out.pool[p.0 as usize] += (p.1 * extent) as i128;
            }
        }
    }
}

fn group_from(members: Vec<u32>, reactions: &[Reaction]) -> Group {
    let mut cumulative = Vec::with_capacity(members.len());
    let mut s = 0.0;
    for &m in &members {
        s += reactions[m as usize].score;
        cumulative.push(s);
    }
    let weight = reactions[members[0] as usize].score;
    Group { reactions: members, cumulative, weight }
}

fn compile(phases: &PhaseSet, r: &Reaction) -> Compiled {
    let gas = |p: PhaseId| phases.get(p).is_gas;
    let solid_reactants: Vec<(PhaseId, u64, f64)> =
        r.reactants.iter().filter(|t| !gas(t.phase)).map(|t| (t.phase, t.moles, t.volume)).collect();
    let solid_products: Vec<(PhaseId, u64, f64)> =
        r.products.iter().filter(|t| !gas(t.phase)).map(|t| (t.phase, t.moles, t.volume)).collect();
    let exact_volume: f64 = solid_reactants.iter().map(|t| t.1 as f64 * phases.get(t.0).molar_volume).sum();
    Compiled {
        identity: r.identity,
        sum_solid_reactant_volume: solid_reactants.iter().map(|t| t.2).sum(),
        sum_solid_product_volume: solid_products.iter().map(|t| t.2).sum(),
        target_extent: QUANTA / exact_volume,
        solid_reactants,
        gas_reactants: r.reactants.iter().filter(|t| gas(t.phase)).map(|t| (t.phase, t.moles)).collect(),
        gas_products: r.products.iter().filter(|t| gas(t.phase)).map(|t| (t.phase, t.moles)).collect(),
        all_products: r.products.iter().map(|t| (t.phase, t.volume, gas(t.phase))).collect(),
        solid_products,
    }
}
