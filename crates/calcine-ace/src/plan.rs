//! The products of the atomic base as a graph of two-factor products, built once per
//! central element, and the index lists the kernel walks.
//!
//! Every term c̃_{ms,p} Π_t A_{v_t} of the densities becomes one node whose value is the
//! product of two earlier values (leaves are the A-values themselves). The kernel then
//! needs one complex multiplication per node forwards, and two backwards for the adjoint
//! ∂E/∂A (reverse-mode differentiation of the graph), whatever the rank.
//!
//! - [`Algorithm::Product`] gives each m-combination its own chain ((A₁A₂)A₃)…, as
//!   ML-PACE's product evaluator forms it; chains with a common beginning share those
//!   nodes (the values have the same bits either way).
//! - [`Algorithm::Recursive`] merges equal monomials (the same A-values in any order) and
//!   builds each from two parts that are already nodes where it can, so partial products
//!   are shared between functions (the idea of ML-PACE's recursive evaluator and
//!   ACE.jl's DAG; Bachmayr et al., arXiv:1911.03550).

use crate::basis::Basis;
use crate::Algorithm;
use std::collections::HashMap;

/// The graph of one central element.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Number of leaves (A-values, m from −l to l, all neighbor elements).
    pub n_leaves: usize,
    /// Number of values: leaves, then nodes.
    pub n_values: usize,
    /// The graph with 32-bit value ids.
    pub wide: Ids<u32>,
    /// The same with 16-bit ids, when every value id fits (at most [`NARROW`] values):
    /// indexing an array of `NARROW` entries with them needs no bounds check, which saves
    /// a fifth of the instructions of the terms' loops.
    pub narrow: Option<Ids<u16>>,
    /// Construction only: the graph being built (see [`Ids`]).
    nodes: Vec<[u32; 2]>,
    outputs: Vec<u32>,
    leaf_outputs: Vec<[u32; 2]>,
    /// The number of densities ρ_p.
    pub ndensity: usize,
    /// The coefficients of the terms, `outputs` then `leaf_outputs`, term by term
    /// ([term][p]), so that one pass over the terms feeds every density.
    pub term_coefficients: Vec<f64>,
    /// The coefficients of the leaf outputs in the order of [`Ids::partners`], term by term.
    pub partner_coefficients: Vec<f64>,
    /// Construction only: the coefficients of `outputs` and `leaf_outputs`, term by term.
    coefficients: Vec<f64>,
    leaf_coefficients: Vec<f64>,
    /// Rank-1 terms: the index k into A1 (μ·nradbase + n) and their coefficients.
    pub rank1: Vec<u32>,
    pub rank1_coefficients: Vec<f64>,
}

/// The number of values (leaves and nodes) that 16-bit ids can name.
pub const NARROW: usize = 1 << 16;

/// The graph, its value ids in one integer type.
#[derive(Debug, Clone, Default)]
pub struct Ids<I> {
    /// Each node's two factors (ids below `n_leaves` are leaves, others node n_leaves + k).
    pub nodes: Vec<[I; 2]>,
    /// Density terms that are also factors of other nodes: a value id.
    pub outputs: Vec<I>,
    /// Density terms that nothing else uses (most of them): only the real part of the
    /// product of their two factors is needed, and their adjoint is real, which halves
    /// their cost forwards and backwards (as ML-PACE's recursive evaluator treats its
    /// leaves).
    pub leaf_outputs: Vec<[I; 2]>,
    /// The leaf outputs again for the adjoint, grouped by a shared factor: each group is
    /// (the shared factor, the number of terms), and `partners` holds the other factor of
    /// each term, group by group (see [`Plan::partner_coefficients`]).
    pub groups: Vec<(I, u32)>,
    pub partners: Vec<I>,
}

/// A value id: a `u32`, or a `u16` where the graph is small enough.
pub trait Id: Copy {
    fn index(self) -> usize;
    /// The id of value `k` (which fits: see [`Plan::narrow`]).
    fn of(k: usize) -> Self;
}

impl Id for u16 {
    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn of(k: usize) -> Self {
        k as u16
    }
}

impl Id for u32 {
    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn of(k: usize) -> Self {
        k as u32
    }
}

impl Plan {
    pub fn new(basis: &Basis, mu_i: usize, algorithm: Algorithm) -> Self {
        let model = &basis.model;
        let ndensity = model.embeddings[mu_i].ndensity;
        let per_n = (basis.lmax + 1) * (basis.lmax + 1);
        let n_leaves = model.n_elements() * basis.nradmax * per_n;
        let leaf = |mu: usize, n: usize, l: usize, m: i32| -> u32 {
            ((mu * basis.nradmax + n - 1) * per_n + l * l + l).wrapping_add_signed(m as isize) as u32
        };
        let mut plan = Plan { n_leaves, ndensity, ..Plan::default() };
        // Rank-1 terms with the same A1 merged, in first-seen order.
        let mut rank1_index: HashMap<u32, usize> = HashMap::new();
        // Higher-rank terms: monomials (sorted leaf lists) with their coefficients.
        let mut monomials: Vec<(Vec<u32>, Vec<f64>)> = Vec::new();
        let mut monomial_index: HashMap<Vec<u32>, usize> = HashMap::new();
        for f in &model.functions[mu_i] {
            for (ms, c) in f.ms_combs.chunks(f.rank).zip(f.ctildes.chunks(ndensity)) {
                if f.rank == 1 {
                    let k = (f.mus[0] * basis.nradbase + f.ns[0] - 1) as u32;
                    let slot = *rank1_index.entry(k).or_insert_with(|| {
                        plan.rank1.push(k);
                        plan.rank1_coefficients.extend(std::iter::repeat_n(0.0, ndensity));
                        plan.rank1.len() - 1
                    });
                    for p in 0..ndensity {
                        plan.rank1_coefficients[slot * ndensity + p] += c[p];
                    }
                    continue;
                }
                let leaves: Vec<u32> = (0..f.rank).map(|t| leaf(f.mus[t], f.ns[t], f.ls[t], ms[t])).collect();
                match algorithm {
                    Algorithm::Product => monomials.push((leaves, c.to_vec())),
                    Algorithm::Recursive => {
                        let mut key = leaves;
                        key.sort_unstable();
                        match monomial_index.get(&key) {
                            Some(&k) => {
                                for p in 0..ndensity {
                                    monomials[k].1[p] += c[p];
                                }
                            }
                            None => {
                                monomial_index.insert(key.clone(), monomials.len());
                                monomials.push((key, c.to_vec()));
                            }
                        }
                    }
                }
            }
        }
        match algorithm {
            Algorithm::Product => {
                // Chains that begin alike share their common prefix: the same factors
                // multiplied in the same order give the same bits, so this only saves work.
                let mut prefixes: HashMap<[u32; 2], u32> = HashMap::new();
                for (leaves, c) in monomials {
                    let mut id = leaves[0];
                    for &v in &leaves[1..] {
                        id = *prefixes.entry([id, v]).or_insert_with(|| plan.push_node(id, v));
                    }
                    plan.outputs.push(id);
                    plan.coefficients.extend(c);
                }
            }
            Algorithm::Recursive => {
                // Shorter monomials first, so that longer ones find their parts.
                let mut order: Vec<usize> = (0..monomials.len()).collect();
                order.sort_by_key(|&k| monomials[k].0.len());
                let mut known: HashMap<Vec<u32>, u32> = HashMap::new();
                let mut ids = vec![0u32; monomials.len()];
                for k in order {
                    ids[k] = plan.build(&monomials[k].0, &mut known);
                }
                for (k, (_, c)) in monomials.into_iter().enumerate() {
                    plan.outputs.push(ids[k]);
                    plan.coefficients.extend(c);
                }
            }
        }
        plan.split_leaf_outputs(ndensity);
        plan.term_coefficients = std::mem::take(&mut plan.coefficients)
            .into_iter()
            .chain(std::mem::take(&mut plan.leaf_coefficients))
            .collect();
        plan.n_values = plan.n_leaves + plan.nodes.len();
        // The adjoint's grouping: each term under whichever of its factors more terms
        // share (the first on a tie), terms of a group in term order.
        let mut uses: HashMap<u32, usize> = HashMap::new();
        for &[a, b] in &plan.leaf_outputs {
            *uses.entry(a).or_default() += 1;
            *uses.entry(b).or_default() += 1;
        }
        let keyed: Vec<(u32, u32)> =
            plan.leaf_outputs.iter().map(|&[a, b]| if uses[&b] > uses[&a] { (b, a) } else { (a, b) }).collect();
        let mut order: Vec<usize> = (0..keyed.len()).collect();
        order.sort_by_key(|&t| (keyed[t].0, t));
        let (mut groups, mut partners) = (Vec::<(u32, u32)>::new(), Vec::new());
        let n_outputs = plan.outputs.len();
        for &t in &order {
            let (key, partner) = keyed[t];
            match groups.last_mut() {
                Some((k, count)) if *k == key => *count += 1,
                _ => groups.push((key, 1)),
            }
            partners.push(partner);
            let c = &plan.term_coefficients[(n_outputs + t) * ndensity..(n_outputs + t + 1) * ndensity];
            plan.partner_coefficients.extend_from_slice(c);
        }
        plan.wide = Ids {
            nodes: std::mem::take(&mut plan.nodes),
            outputs: std::mem::take(&mut plan.outputs),
            leaf_outputs: std::mem::take(&mut plan.leaf_outputs),
            groups,
            partners,
        };
        if plan.n_values <= NARROW {
            let pair = |&[a, b]: &[u32; 2]| [a as u16, b as u16];
            let wide = &plan.wide;
            plan.narrow = Some(Ids {
                nodes: wide.nodes.iter().map(pair).collect(),
                outputs: wide.outputs.iter().map(|&id| id as u16).collect(),
                leaf_outputs: wide.leaf_outputs.iter().map(pair).collect(),
                groups: wide.groups.iter().map(|&(key, count)| (key as u16, count)).collect(),
                partners: wide.partners.iter().map(|&id| id as u16).collect(),
            });
        }
        plan
    }

    /// Moves output nodes that are no other node's factor out of the graph into
    /// `leaf_outputs`, renumbering the remaining nodes.
    fn split_leaf_outputs(&mut self, ndensity: usize) {
        let n_leaves = self.n_leaves;
        let mut used = vec![false; self.nodes.len()];
        for &[a, b] in &self.nodes {
            for id in [a, b] {
                if id as usize >= n_leaves {
                    used[id as usize - n_leaves] = true;
                }
            }
        }
        let mut is_leaf_output = vec![false; self.nodes.len()];
        let outputs = std::mem::take(&mut self.outputs);
        let coefficients = std::mem::take(&mut self.coefficients);
        for &id in &outputs {
            let k = id as usize - n_leaves;
            if !used[k] {
                is_leaf_output[k] = true;
            }
        }
        // New ids of the nodes that stay.
        let mut new_id = vec![u32::MAX; self.nodes.len()];
        let mut kept = Vec::new();
        let renumber =
            |id: u32, new_id: &[u32]| if (id as usize) < n_leaves { id } else { new_id[id as usize - n_leaves] };
        for (k, &[a, b]) in self.nodes.iter().enumerate() {
            if !is_leaf_output[k] {
                new_id[k] = (n_leaves + kept.len()) as u32;
                kept.push([renumber(a, &new_id), renumber(b, &new_id)]);
            }
        }
        for (t, &id) in outputs.iter().enumerate() {
            let k = id as usize - n_leaves;
            let c = &coefficients[t * ndensity..(t + 1) * ndensity];
            if is_leaf_output[k] {
                let [a, b] = self.nodes[k];
                self.leaf_outputs.push([renumber(a, &new_id), renumber(b, &new_id)]);
                self.leaf_coefficients.extend_from_slice(c);
            } else {
                self.outputs.push(new_id[k]);
                self.coefficients.extend_from_slice(c);
            }
        }
        self.nodes = kept;
    }

    fn push_node(&mut self, a: u32, b: u32) -> u32 {
        self.nodes.push([a, b]);
        (self.n_leaves + self.nodes.len() - 1) as u32
    }

    /// The id of the product of the sorted leaf list `m`, made from known parts if any.
    fn build(&mut self, m: &[u32], known: &mut HashMap<Vec<u32>, u32>) -> u32 {
        if m.len() == 1 {
            return m[0];
        }
        if let Some(&id) = known.get(m) {
            return id;
        }
        let n = m.len();
        // The most balanced split into two known parts (a part of one is a leaf).
        let mut best: Option<(usize, u32, u32)> = None;
        for mask in 1..(1u32 << n) - 1 {
            // Each split once: the part holding the first element.
            if mask & 1 == 0 {
                continue;
            }
            let (a, b): (Vec<u32>, Vec<u32>) = {
                let mut a = Vec::new();
                let mut b = Vec::new();
                for (t, &v) in m.iter().enumerate() {
                    if mask >> t & 1 == 1 {
                        a.push(v);
                    } else {
                        b.push(v);
                    }
                }
                (a, b)
            };
            let find = |p: &Vec<u32>| if p.len() == 1 { Some(p[0]) } else { known.get(p).copied() };
            if let (Some(x), Some(y)) = (find(&a), find(&b)) {
                let balance = a.len().min(b.len());
                if best.is_none_or(|(bal, _, _)| balance > bal) {
                    best = Some((balance, x, y));
                }
            }
        }
        let id = match best {
            Some((_, x, y)) => self.push_node(x, y),
            None => {
                let head = self.build(&m[..n - 1], known);
                self.push_node(head, m[n - 1])
            }
        };
        known.insert(m.to_vec(), id);
        id
    }
}
