//! pacemaker's B-basis `.yaml` (the file a fit writes) and its conversion to the C-tilde
//! form the evaluators use, as ML-PACE's `ACEBBasisSet` reads and converts it.
//!
//! A B-basis function of rank r (central element μ₀, neighbor elements μ_t, radial indices
//! n_t, angular momenta l_t and, for r > 2, intermediate couplings L (`lint`)) is the
//! rotation invariant
//!   B = Σ_ms C^{ls,L}_{ms} Π_t A[μ_t][n_t][l_t][m_t],
//! whose generalised Clebsch–Gordan coefficients C are products of ordinary ones along a
//! fixed binary coupling tree (leaves paired in order, then intermediates, the last
//! coupling to L = 0; see [`coupling_tree`]). Only half of the m-combinations are kept:
//! those whose first non-zero m is positive count twice, as their mirror images give the
//! complex conjugate product and the densities take the real part. The C-tilde
//! coefficients of a potential are then c̃_{ms,p} = Σ_B c_{B,p}·C_{B,ms}, summed over the
//! B-functions with the same (μ, n, l).

use crate::model::{AceModel, Bond, CTildeFunction, Embedding, EmbeddingKind, InnerCutoffKind, RadialBasisKind};
use crate::yaml::{self, Node};
use calcine_potential::PotentialError;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One B-basis function: its indices and its m-combinations with their generalised
/// Clebsch–Gordan coefficients (half basis, already doubled), merged as ML-PACE merges
/// them (factors sorted by (μ, n, l, m)).
#[derive(Debug, Clone, PartialEq)]
pub struct BFunction {
    pub rank: usize,
    pub mus: Vec<usize>,
    /// 1-based, as in the files.
    pub ns: Vec<usize>,
    pub ls: Vec<usize>,
    pub ms_combs: Vec<i32>,
    pub gen_cgs: Vec<f64>,
    /// c_p, one per density of the central element.
    pub coeffs: Vec<f64>,
}

/// A B-basis potential: the C-tilde model it converts to, and the B-functions of each
/// element in ML-PACE's order (rank 1 first, then the others, each group sorted), which
/// is the order of the columns of an active set (`.asi`).
#[derive(Debug, Clone)]
pub struct BBasis {
    pub model: AceModel,
    pub functions: Vec<Vec<BFunction>>,
}

/// Reads a pacemaker `.yaml` potential.
pub fn read_bbasis(path: &Path) -> Result<BBasis, PotentialError> {
    let text = calcine_potential::read_potential_text(path)?;
    parse_bbasis(path, &text)
}

/// The indices of a generalised coupling: for each coupling, the two nodes coupled and the
/// node they couple to. Nodes 0..r are the factors, r..2r−2 the intermediates (L), and
/// 2r−2 the final L = 0 (ML-PACE `generate_coupling_tree`).
pub fn coupling_tree(rank: usize) -> Vec<[usize; 3]> {
    let mut tree = Vec::new();
    if rank < 2 {
        return tree;
    }
    let last = 2 * rank - 2;
    let mut leaves: std::collections::VecDeque<usize> = (0..rank).collect();
    let mut free: std::collections::VecDeque<usize> = (rank..rank + rank - 2).collect();
    let mut interm = std::collections::VecDeque::new();
    let mut i_int = None;
    for _ in 0..rank / 2 {
        let (a, b) = (leaves.pop_front().unwrap(), leaves.pop_front().unwrap());
        i_int = free.pop_front();
        tree.push([a, b, i_int.unwrap_or(last)]);
        interm.push_back(i_int);
    }
    while interm.len() > 1 && i_int.is_some() {
        let a = interm.pop_front().unwrap().unwrap();
        let b = interm.pop_front().unwrap().unwrap();
        i_int = free.pop_front();
        tree.push([a, b, i_int.unwrap_or(last)]);
        interm.push_back(i_int);
    }
    if i_int.is_some() {
        let a = interm.pop_front().unwrap().unwrap();
        let b = leaves.pop_front().unwrap();
        tree.push([a, b, last]);
    }
    tree
}

fn factorial(n: i64) -> f64 {
    (1..=n).fold(1.0, |f, k| f * k as f64)
}

/// The Clebsch–Gordan coefficient ⟨j1 m1 j2 m2 | J M⟩ (Condon–Shortley), by Racah's formula;
/// zero where the momenta do not couple.
pub fn clebsch_gordan(j1: i64, m1: i64, j2: i64, m2: i64, j: i64, m: i64) -> f64 {
    if m1 + m2 != m || m1.abs() > j1 || m2.abs() > j2 || m.abs() > j || j < (j1 - j2).abs() || j > j1 + j2 {
        return 0.0;
    }
    let pre = ((2 * j + 1) as f64
        * factorial(j1 + j2 - j)
        * factorial(j1 - j2 + j)
        * factorial(-j1 + j2 + j)
        * factorial(j + m)
        * factorial(j - m)
        * factorial(j1 + m1)
        * factorial(j1 - m1)
        * factorial(j2 + m2)
        * factorial(j2 - m2)
        / factorial(j1 + j2 + j + 1))
    .sqrt();
    let lo = 0.max(j2 - j - m1).max(j1 - j + m2);
    let hi = (j1 + j2 - j).min(j1 - m1).min(j2 + m2);
    let mut sum = 0.0;
    for z in lo..=hi {
        let sign = if z % 2 == 0 { 1.0 } else { -1.0 };
        sum += sign
            / (factorial(z)
                * factorial(j1 + j2 - j - z)
                * factorial(j1 - m1 - z)
                * factorial(j2 + m2 - z)
                * factorial(j - j2 + m1 + z)
                * factorial(j - j1 - m2 + z));
    }
    pre * sum
}

/// The m-combinations of (ls, LS) coupled to L = 0 with their generalised Clebsch–Gordan
/// coefficients, half basis (ML-PACE `generate_ms_cg_list`), in ML-PACE's order.
pub fn ms_cg_list(ls: &[usize], lint: &[usize]) -> Vec<(Vec<i32>, f64)> {
    let rank = ls.len();
    let tree = coupling_tree(rank);
    let mut l_nodes: Vec<i64> = ls.iter().map(|&l| l as i64).collect();
    l_nodes.extend(lint.iter().map(|&l| l as i64));
    l_nodes.push(0);
    let sizes: Vec<i64> = ls.iter().map(|&l| 2 * l as i64 + 1).collect();
    let total: i64 = sizes.iter().product();
    let mut out = Vec::new();
    for index in 0..total {
        // m of factor 0 varies fastest.
        let mut rest = index;
        let ms: Vec<i64> = (0..rank)
            .map(|t| {
                let m = rest % sizes[t] - ls[t] as i64;
                rest /= sizes[t];
                m
            })
            .collect();
        if ms.iter().sum::<i64>() != 0 {
            continue;
        }
        let sign = ms.iter().find(|&&m| m != 0).map_or(0, |&m| m.signum());
        if sign < 0 {
            continue;
        }
        let mut m_nodes = vec![0i64; 2 * rank - 1];
        m_nodes[..rank].copy_from_slice(&ms);
        let mut cg = 1.0;
        let mut valid = true;
        for &[a, b, c] in &tree {
            m_nodes[c] = m_nodes[a] + m_nodes[b];
            if m_nodes[a].abs() > l_nodes[a] || m_nodes[b].abs() > l_nodes[b] || m_nodes[c].abs() > l_nodes[c] {
                valid = false;
                break;
            }
            cg *= clebsch_gordan(l_nodes[a], m_nodes[a], l_nodes[b], m_nodes[b], l_nodes[c], m_nodes[c]);
            if cg == 0.0 {
                break;
            }
        }
        if !valid || cg == 0.0 {
            continue;
        }
        if sign > 0 {
            cg *= 2.0;
        }
        out.push((ms.iter().map(|&m| m as i32).collect(), cg));
    }
    out
}

/// Checks the relations pacemaker's couplings obey (ML-PACE `validate_ls_LS`).
fn validate_ls_lint(ls: &[usize], lint: &[usize]) -> Result<(), String> {
    let rank = ls.len();
    let want = rank.saturating_sub(2);
    if lint.len() != want {
        return Err(format!("rank {rank} needs {want} lint values, found {}", lint.len()));
    }
    match rank {
        1 if ls[0] != 0 => return Err("a rank-1 function must have nl = [0]".into()),
        2 if ls[0] != ls[1] => return Err("a rank-2 function must have equal nl".into()),
        3 | 5 if lint[lint.len() - 1] != ls[rank - 1] => return Err("the last lint must equal the last nl".into()),
        4 | 6 if lint[lint.len() - 1] != lint[lint.len() - 2] => {
            return Err("the last two lint values must be equal".into())
        }
        _ => {}
    }
    if ls.iter().sum::<usize>() % 2 != 0 {
        return Err("the sum of nl must be even".into());
    }
    Ok(())
}

/// The radial part of a block, as read.
#[derive(Debug, Clone, PartialEq)]
struct Radial {
    nradmax: usize,
    lmax: usize,
    nradbase: usize,
    radbase: RadialBasisKind,
    lambda: f64,
    radcoefficients: Vec<f64>,
    rcut: f64,
    dcut: f64,
}

/// One `species` block.
struct Block<'a> {
    node: Node<'a>,
    elements: Vec<String>,
    n_species: usize,
    radial: Option<Radial>,
    core: Option<[f64; 2]>,
    inner: InnerCutoffKind,
    r_in: f64,
    delta_in: f64,
}

fn read_radial(node: &Node<'_>) -> Result<Option<Radial>, PotentialError> {
    let Some(lmax) = node.opt("lmaxi")? else {
        for key in ["nradmaxi", "nradbaseij", "radbase", "radparameters", "radcoefficients"] {
            if node.opt(key)?.is_some() {
                return Err(node.error(format!("the radial basis is partly defined: '{key}' without 'lmaxi'")));
            }
        }
        return Ok(None);
    };
    let lmax = lmax.usize()?;
    let nradmax = node.get("nradmaxi")?.usize()?;
    let nradbase = node.get("nradbaseij")?.usize()?;
    let name = node.get("radbase")?;
    let radbase = RadialBasisKind::parse(name.str()?).ok_or_else(|| {
        name.error(format!(
            "unknown radial basis '{}': expected ChebExpCos, ChebPow, ChebLinear or SBessel",
            name.str().unwrap_or("")
        ))
    })?;
    let params = node.get("radparameters")?;
    let lambda = *params.f64_vec()?.first().ok_or_else(|| params.error("needs at least one value"))?;
    let crad = node.get("radcoefficients")?;
    let size = nradmax * (lmax + 1) * nradbase;
    let mut radcoefficients = vec![0.0; size];
    let items = crad.seq()?;
    if items.first().is_some_and(|i| matches!(i.yaml, yaml_rust2::Yaml::Array(_))) {
        if items.len() != nradmax {
            return Err(crad.error(format!("{} rows for nradmaxi {nradmax}", items.len())));
        }
        let mut k = 0;
        for row in &items {
            let ls = row.seq()?;
            if ls.len() != lmax + 1 {
                return Err(row.error(format!("{} entries for lmaxi {lmax}", ls.len())));
            }
            for l in &ls {
                let ks = l.f64_vec()?;
                if ks.len() != nradbase {
                    return Err(l.error(format!("{} values for nradbaseij {nradbase}", ks.len())));
                }
                radcoefficients[k..k + nradbase].copy_from_slice(&ks);
                k += nradbase;
            }
        }
    } else {
        // The old flat layout, k outermost, then n, then l.
        let flat = crad.f64_vec()?;
        if flat.len() != size {
            return Err(crad.error(format!("{} values, nradmaxi × (lmaxi+1) × nradbaseij = {size}", flat.len())));
        }
        let mut j = 0;
        for k in 0..nradbase {
            for n in 0..nradmax {
                for l in 0..=lmax {
                    radcoefficients[(n * (lmax + 1) + l) * nradbase + k] = flat[j];
                    j += 1;
                }
            }
        }
    }
    Ok(Some(Radial {
        nradmax,
        lmax,
        nradbase,
        radbase,
        lambda,
        radcoefficients,
        rcut: node.get("rcutij")?.f64()?,
        dcut: node.get("dcutij")?.f64()?,
    }))
}

/// Parses the text of a pacemaker `.yaml` file; `path` labels errors.
pub fn parse_bbasis(path: &Path, text: &str) -> Result<BBasis, PotentialError> {
    let doc = yaml::parse(path, text)?;
    let root = Node::root(path, &doc);
    let delta_spline_bins = root.get("global")?.get("DeltaSplineBins")?.f64()?;
    let species = root.get("species")?.seq()?;
    let mut blocks = Vec::with_capacity(species.len());
    for node in species {
        let elements: Vec<String> = node.get("speciesblock")?.str()?.split_whitespace().map(str::to_string).collect();
        if elements.is_empty() {
            return Err(node.get("speciesblock")?.error("names no element"));
        }
        let n_species = elements.iter().collect::<BTreeSet<_>>().len();
        let core = match node.opt("core-repulsion")? {
            None => None,
            Some(c) => {
                let v = c.f64_vec()?;
                if v.len() != 2 {
                    return Err(c.error(format!("needs two values (prefactor, lambda), found {}", v.len())));
                }
                Some([v[0], v[1]])
            }
        };
        let inner = match node.opt("inner_cutoff_type")? {
            None => InnerCutoffKind::Density,
            Some(t) => InnerCutoffKind::parse(t.str()?).ok_or_else(|| {
                t.error(format!(
                    "unknown inner cutoff type '{}': expected distance, density or zbl",
                    t.str().unwrap_or("")
                ))
            })?,
        };
        let opt = |key: &str| -> Result<f64, PotentialError> { node.opt(key)?.map_or(Ok(0.0), |v| v.f64()) };
        let (r_in, delta_in) = (opt("r_in")?, opt("delta_in")?);
        let radial = read_radial(&node)?;
        blocks.push(Block { node, elements, n_species, radial, core, inner, r_in, delta_in });
    }
    // Pair blocks without a radial basis or core repulsion take those of their dual.
    for k in 0..blocks.len() {
        if blocks[k].n_species != 2 {
            continue;
        }
        let dual = [blocks[k].elements[1].clone(), blocks[k].elements[0].clone()];
        let Some(d) = blocks.iter().position(|b| b.elements == dual) else { continue };
        match (&blocks[k].radial, &blocks[d].radial) {
            (None, Some(r)) => blocks[k].radial = Some(r.clone()),
            (None, None) => {
                return Err(blocks[k].node.error(format!(
                    "the radial basis is defined neither in '{}' nor in '{}'",
                    blocks[k].elements.join(" "),
                    dual.join(" ")
                )))
            }
            (Some(a), Some(b)) if a != b => {
                return Err(blocks[k]
                    .node
                    .error(format!("the radial basis differs from that of its dual block '{}'", dual.join(" "))))
            }
            _ => {}
        }
        if blocks[k].core.is_none() && blocks[d].core.is_some() {
            let (core, inner, r_in, delta_in) = (blocks[d].core, blocks[d].inner, blocks[d].r_in, blocks[d].delta_in);
            let b = &mut blocks[k];
            (b.core, b.inner, b.r_in, b.delta_in) = (core, inner, r_in, delta_in);
        }
    }

    // Elements in alphabetical order, as ML-PACE numbers them.
    let names: BTreeSet<String> = blocks.iter().flat_map(|b| b.elements.iter().cloned()).collect();
    let elements: Vec<String> = names.into_iter().collect();
    let n = elements.len();
    let index = |name: &str| elements.iter().position(|e| e == name).expect("every name is an element");

    let mut embeddings: Vec<Option<Embedding>> = vec![None; n];
    let mut bonds: Vec<Option<Bond>> = vec![None; n * n];
    let mut inner_cutoff: Option<InnerCutoffKind> = None;
    for b in &blocks {
        if b.n_species > 2 {
            continue;
        }
        match inner_cutoff {
            None => inner_cutoff = Some(b.inner),
            Some(k) if k != b.inner => {
                return Err(b.node.error(format!(
                    "inner_cutoff_type '{}' differs from '{}' of another block; it must be the same in all one- and two-element blocks",
                    b.inner.name(),
                    k.name()
                )))
            }
            Some(_) => {}
        }
        let mu_i = index(&b.elements[0]);
        let mu_j = if b.n_species == 2 { index(&b.elements[1]) } else { mu_i };
        if b.n_species == 1 {
            let npoti = b.node.get("npoti")?;
            let kind = EmbeddingKind::parse(npoti.str()?).ok_or_else(|| {
                npoti.error(format!(
                    "unknown embedding '{}': expected FinnisSinclair or FinnisSinclairShiftedScaled",
                    npoti.str().unwrap_or("")
                ))
            })?;
            let ndensity = b.node.get("ndensityi")?.usize()?;
            let fs = b.node.get("parameters")?;
            let fs_parameters = fs.f64_vec()?;
            if ndensity == 0 || fs_parameters.len() != 2 * ndensity {
                return Err(fs.error(format!(
                    "{} values, ndensityi {ndensity} needs {}",
                    fs_parameters.len(),
                    2 * ndensity
                )));
            }
            let opt = |key: &str, default: f64| -> Result<f64, PotentialError> {
                b.node.opt(key)?.map_or(Ok(default), |v| v.f64())
            };
            if embeddings[mu_i].is_some() {
                return Err(b.node.error(format!("a second embedding for element {}", b.elements[0])));
            }
            embeddings[mu_i] = Some(Embedding {
                ndensity,
                fs_parameters,
                kind,
                rho_core_cutoff: opt("rho_core_cut", 100000.0)?,
                drho_core_cutoff: opt("drho_core_cut", 250.0)?,
            });
        }
        let Some(r) = &b.radial else {
            return Err(b.node.error(format!("block '{}' defines no radial basis", b.elements.join(" "))));
        };
        let core = b.core.unwrap_or([0.0, 0.0]);
        bonds[mu_i * n + mu_j] = Some(Bond {
            nradmax: r.nradmax,
            lmax: r.lmax,
            nradbasemax: r.nradbase,
            radial_basis: r.radbase,
            lambda: r.lambda,
            radcoefficients: r.radcoefficients.clone(),
            prehc: core[0],
            lambdahc: core[1],
            rcut: r.rcut,
            dcut: r.dcut,
            rcut_in: b.r_in,
            dcut_in: b.delta_in,
        });
    }
    let embeddings = embeddings
        .into_iter()
        .enumerate()
        .map(|(mu, e)| e.ok_or_else(|| root.error(format!("species: no block '{}' with its embedding", elements[mu]))))
        .collect::<Result<Vec<_>, _>>()?;
    let bonds = bonds
        .into_iter()
        .enumerate()
        .map(|(k, b)| {
            b.ok_or_else(|| {
                root.error(format!("species: no radial basis for the pair {} {}", elements[k / n], elements[k % n]))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    // The B-functions of each element.
    let mut functions: Vec<Vec<BFunction>> = vec![Vec::new(); n];
    for b in &blocks {
        let Some(nbody) = b.node.opt("nbody")? else { continue };
        for f in nbody.seq()? {
            if let Some(skip) = f.opt("skip")? {
                if matches!(skip.yaml, yaml_rust2::Yaml::Boolean(true)) {
                    continue;
                }
            }
            let type_node = f.get("type")?;
            let types: Vec<&str> = type_node.str()?.split_whitespace().collect();
            if types.len() < 2 {
                return Err(type_node.error("needs the central element and at least one neighbor element"));
            }
            if types[0] != b.elements[0] {
                return Err(type_node.error(format!(
                    "central element {} in block '{}'",
                    types[0],
                    b.elements.join(" ")
                )));
            }
            if let Some(t) = types[1..].iter().find(|t| !b.elements.iter().any(|e| e == *t)) {
                return Err(type_node.error(format!("element {t} is not in block '{}'", b.elements.join(" "))));
            }
            let rank = types.len() - 1;
            let ns = f.get("nr")?.usize_vec()?;
            let ls = f.get("nl")?.usize_vec()?;
            if ns.len() != rank || ls.len() != rank {
                return Err(f.error(format!("nr and nl must have {rank} values each")));
            }
            let lint = match f.opt("lint")? {
                Some(l) if rank > 2 => l.usize_vec()?,
                _ => Vec::new(),
            };
            validate_ls_lint(&ls, &lint).map_err(|e| f.error(e))?;
            let c = f.get("c")?;
            let coeffs = match c.yaml {
                yaml_rust2::Yaml::Array(_) => c.f64_vec()?,
                _ => vec![c.f64()?],
            };
            let mu0 = index(types[0]);
            let ndensity = embeddings[mu0].ndensity;
            if coeffs.len() != ndensity {
                return Err(c.error(format!(
                    "{} coefficients, the embedding of {} has ndensity {ndensity}",
                    coeffs.len(),
                    types[0]
                )));
            }
            let mus: Vec<usize> = types[1..].iter().map(|t| index(t)).collect();
            for t in 0..rank {
                let bond = &bonds[mu0 * n + mus[t]];
                let limit = if rank == 1 { bond.nradbasemax } else { bond.nradmax };
                if ns[t] == 0 || ns[t] > limit || ls[t] > bond.lmax {
                    return Err(f.error(format!(
                        "nr {} or nl {} is beyond the radial basis of the pair {} {}",
                        ns[t],
                        ls[t],
                        types[0],
                        types[t + 1]
                    )));
                }
            }
            let list = ms_cg_list(&ls, &lint);
            let func = BFunction {
                rank,
                mus,
                ns,
                ls,
                ms_combs: list.iter().flat_map(|(ms, _)| ms.iter().copied()).collect(),
                gen_cgs: list.iter().map(|(_, c)| *c).collect(),
                coeffs,
            };
            if func.gen_cgs.is_empty() {
                return Err(f.error("no m-combination couples these nl and lint to zero"));
            }
            functions[mu0].push(func);
        }
    }
    for list in &mut functions {
        // ML-PACE sorts the functions as generated, then compresses them.
        list.sort_by(order);
        for f in list.iter_mut() {
            compress(f);
        }
        // Rank 1 first, each part in its sorted order.
        let (rank1, rest): (Vec<BFunction>, Vec<BFunction>) = list.drain(..).partition(|f| f.rank == 1);
        list.extend(rank1);
        list.extend(rest);
    }

    let ctilde: Vec<Vec<CTildeFunction>> = functions.iter().map(|list| to_ctilde(list)).collect();
    let model = AceModel {
        path: path.to_path_buf(),
        elements,
        e0: vec![0.0; n],
        delta_spline_bins,
        embeddings,
        bonds,
        inner_cutoff: inner_cutoff.unwrap_or(InnerCutoffKind::Density),
        functions: ctilde,
    };
    model.check()?;
    Ok(BBasis { model, functions })
}

/// ML-PACE's order of basis functions (`compare`): rank, neighbor elements, n, l, the
/// number of m-combinations, then the m-combinations.
fn order(a: &BFunction, b: &BFunction) -> std::cmp::Ordering {
    (a.rank, &a.mus, &a.ns, &a.ls, a.gen_cgs.len(), &a.ms_combs).cmp(&(
        b.rank,
        &b.mus,
        &b.ns,
        &b.ls,
        b.gen_cgs.len(),
        &b.ms_combs,
    ))
}

/// Sorts the factors of each m-combination by (μ, n, l, m) and merges combinations that
/// become equal, dropping coefficients below 10⁻¹⁵ (ML-PACE
/// `order_and_compress_b_basis_function`).
fn compress(f: &mut BFunction) {
    let mut merged: BTreeMap<Vec<i32>, f64> = BTreeMap::new();
    let mut sorted_keys = None;
    for (ms, &cg) in f.ms_combs.chunks(f.rank).zip(&f.gen_cgs) {
        let mut v: Vec<(usize, usize, usize, i32)> = (0..f.rank).map(|t| (f.mus[t], f.ns[t], f.ls[t], ms[t])).collect();
        v.sort();
        sorted_keys.get_or_insert_with(|| v.iter().map(|x| (x.0, x.1, x.2)).collect::<Vec<_>>());
        *merged.entry(v.iter().map(|x| x.3).collect()).or_insert(0.0) += cg;
    }
    merged.retain(|_, cg| cg.abs() >= 1e-15);
    if merged.len() < f.gen_cgs.len() {
        let keys = sorted_keys.expect("at least one combination");
        f.mus = keys.iter().map(|k| k.0).collect();
        f.ns = keys.iter().map(|k| k.1).collect();
        f.ls = keys.iter().map(|k| k.2).collect();
        f.ms_combs = merged.keys().flatten().copied().collect();
        f.gen_cgs = merged.values().copied().collect();
    }
}

/// The C-tilde functions of one element's B-functions: grouped by (μ, n, l), with
/// c̃_{ms,p} = Σ c_p·C_ms over the group (ML-PACE `summation_over_LS`), in ML-PACE's order.
fn to_ctilde(list: &[BFunction]) -> Vec<CTildeFunction> {
    type Key = (Vec<usize>, Vec<usize>, Vec<usize>);
    let mut groups: BTreeMap<Key, BTreeMap<Vec<i32>, Vec<f64>>> = BTreeMap::new();
    for f in list {
        let ms_map = groups.entry((f.mus.clone(), f.ns.clone(), f.ls.clone())).or_default();
        for (ms, &cg) in f.ms_combs.chunks(f.rank).zip(&f.gen_cgs) {
            let c = ms_map.entry(ms.to_vec()).or_insert_with(|| vec![0.0; f.coeffs.len()]);
            for (p, &cp) in f.coeffs.iter().enumerate() {
                c[p] += cp * cg;
            }
        }
    }
    let mut out: Vec<CTildeFunction> = groups
        .into_iter()
        .map(|((mus, ns, ls), ms_map)| CTildeFunction {
            rank: mus.len(),
            ms_combs: ms_map.keys().flatten().copied().collect(),
            ctildes: ms_map.values().flatten().copied().collect(),
            mus,
            ns,
            ls,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.rank, &a.mus, &a.ns, &a.ls, a.n_ms_combs(), &a.ms_combs).cmp(&(
            b.rank,
            &b.mus,
            &b.ns,
            &b.ls,
            b.n_ms_combs(),
            &b.ms_combs,
        ))
    });
    out
}
