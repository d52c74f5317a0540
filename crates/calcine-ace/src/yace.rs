//! The `.yace` reader: the C-tilde basis as pacemaker's `pace_yaml2yace` and ML-PACE's
//! `ACECTildeBasisSet::save_yaml` write it (keys as `ACECTildeBasisSet::load_yaml` and
//! `ACEBondSpecification::from_YAML` read them).

use crate::model::{AceModel, Bond, CTildeFunction, Embedding, EmbeddingKind, InnerCutoffKind, RadialBasisKind};
use crate::yaml::{self, Node};
use calcine_potential::PotentialError;
use std::path::Path;

/// Reads a `.yace` file.
pub fn read_yace(path: &Path) -> Result<AceModel, PotentialError> {
    let text = calcine_potential::read_potential_text(path)?;
    parse_yace(path, &text)
}

/// Parses the text of a `.yace` file; `path` labels errors.
pub fn parse_yace(path: &Path, text: &str) -> Result<AceModel, PotentialError> {
    let doc = yaml::parse(path, text)?;
    let root = Node::root(path, &doc);
    let elements = root.get("elements")?.str_vec()?;
    let n = elements.len();
    if n == 0 {
        return Err(root.get("elements")?.error("no elements"));
    }
    let e0_node = root.get("E0")?;
    let e0 = e0_node.f64_vec()?;
    if e0.len() != n {
        return Err(e0_node.error(format!("{} values for {n} elements", e0.len())));
    }
    let delta_spline_bins = root.get("deltaSplineBins")?.f64()?;

    let mut embeddings: Vec<Option<Embedding>> = vec![None; n];
    for (key, value) in root.get("embeddings")?.entries()? {
        let mu = element_key(&key, n)?;
        embeddings[mu] = Some(read_embedding(&value)?);
    }
    let embeddings = embeddings
        .into_iter()
        .enumerate()
        .map(|(mu, e)| e.ok_or_else(|| root.error(format!("embeddings: no entry for element {mu} ({})", elements[mu]))))
        .collect::<Result<Vec<_>, _>>()?;

    let mut bonds: Vec<Option<(Bond, InnerCutoffKind)>> = vec![None; n * n];
    for (key, value) in root.get("bonds")?.entries()? {
        let pair = key.usize_vec().map_err(|_| key.error("bond keys must be pairs of element indices like [0, 1]"))?;
        if pair.len() != 2 || pair[0] >= n || pair[1] >= n {
            return Err(key.error(format!("bond key {pair:?} is not a pair of element indices below {n}")));
        }
        bonds[pair[0] * n + pair[1]] = Some(read_bond(&value)?);
    }
    let mut inner_cutoff = None;
    let mut bond_list = Vec::with_capacity(n * n);
    for (k, b) in bonds.into_iter().enumerate() {
        let (bond, kind) = b.ok_or_else(|| root.error(format!("bonds: no entry for [{}, {}]", k / n, k % n)))?;
        match inner_cutoff {
            None => inner_cutoff = Some(kind),
            Some(first) if first != kind => {
                return Err(root.error(format!(
                    "bonds: inner_cutoff_type differs between bonds ({} and {}); ML-PACE applies one type to all",
                    first.name(),
                    kind.name()
                )))
            }
            Some(_) => {}
        }
        bond_list.push(bond);
    }

    let mut functions = vec![Vec::new(); n];
    for (key, value) in root.get("functions")?.entries()? {
        let mu = element_key(&key, n)?;
        let ndensity = embeddings[mu].ndensity;
        functions[mu] = value.seq()?.iter().map(|f| read_function(f, mu, ndensity)).collect::<Result<_, _>>()?;
    }

    let model = AceModel {
        path: path.to_path_buf(),
        elements,
        e0,
        delta_spline_bins,
        embeddings,
        bonds: bond_list,
        inner_cutoff: inner_cutoff.unwrap_or(InnerCutoffKind::Density),
        functions,
    };
    model.check()?;
    Ok(model)
}

fn element_key(key: &Node<'_>, n: usize) -> Result<usize, PotentialError> {
    let mu =
        key.usize().map_err(|_| key.error(format!("keys must be element indices, found {}", yaml::show(key.yaml))))?;
    if mu >= n {
        return Err(key.error(format!("element index {mu} is not below the number of elements {n}")));
    }
    Ok(mu)
}

fn read_embedding(node: &Node<'_>) -> Result<Embedding, PotentialError> {
    let npoti = node.get("npoti")?;
    let kind = EmbeddingKind::parse(npoti.str()?).ok_or_else(|| {
        npoti.error(format!(
            "unknown embedding '{}': expected FinnisSinclair or FinnisSinclairShiftedScaled",
            npoti.str().unwrap_or("")
        ))
    })?;
    let ndensity = node.get("ndensity")?.usize()?;
    let fs = node.get("FS_parameters")?;
    let fs_parameters = fs.f64_vec()?;
    if ndensity == 0 || fs_parameters.len() != 2 * ndensity {
        return Err(fs.error(format!("{} values, ndensity {ndensity} needs {}", fs_parameters.len(), 2 * ndensity)));
    }
    Ok(Embedding {
        ndensity,
        fs_parameters,
        kind,
        rho_core_cutoff: node.get("rho_core_cutoff")?.f64()?,
        drho_core_cutoff: node.get("drho_core_cutoff")?.f64()?,
    })
}

fn read_bond(node: &Node<'_>) -> Result<(Bond, InnerCutoffKind), PotentialError> {
    let name = node.get("radbasename")?;
    let radial_basis = RadialBasisKind::parse(name.str()?).ok_or_else(|| {
        name.error(format!(
            "unknown radial basis '{}': expected ChebExpCos, ChebPow, ChebLinear or SBessel",
            name.str().unwrap_or("")
        ))
    })?;
    let nradmax = node.get("nradmax")?.usize()?;
    let lmax = node.get("lmax")?.usize()?;
    let nradbasemax = node.get("nradbasemax")?.usize()?;
    let params = node.get("radparameters")?;
    let lambda = *params.f64_vec()?.first().ok_or_else(|| params.error("needs at least one value"))?;
    let crad = node.get("radcoefficients")?;
    let mut radcoefficients = Vec::with_capacity(nradmax * (lmax + 1) * nradbasemax);
    let rows = crad.seq()?;
    if rows.len() != nradmax {
        return Err(crad.error(format!("{} rows for nradmax {nradmax}", rows.len())));
    }
    for row in &rows {
        let ls = row.seq()?;
        if ls.len() != lmax + 1 {
            return Err(row.error(format!("{} entries for lmax {lmax}", ls.len())));
        }
        for l in &ls {
            let ks = l.f64_vec()?;
            if ks.len() != nradbasemax {
                return Err(l.error(format!("{} values for nradbasemax {nradbasemax}", ks.len())));
            }
            radcoefficients.extend(ks);
        }
    }
    // Files written before inner cutoffs existed switch the energy by the core density.
    let inner = match node.opt("inner_cutoff_type")? {
        None => InnerCutoffKind::Density,
        Some(t) => InnerCutoffKind::parse(t.str()?).ok_or_else(|| {
            t.error(format!("unknown inner cutoff type '{}': expected distance, density or zbl", t.str().unwrap_or("")))
        })?,
    };
    let opt_f64 = |key: &str| -> Result<f64, PotentialError> { node.opt(key)?.map_or(Ok(0.0), |v| v.f64()) };
    let bond = Bond {
        nradmax,
        lmax,
        nradbasemax,
        radial_basis,
        lambda,
        radcoefficients,
        prehc: node.get("prehc")?.f64()?,
        lambdahc: node.get("lambdahc")?.f64()?,
        rcut: node.get("rcut")?.f64()?,
        dcut: node.get("dcut")?.f64()?,
        rcut_in: opt_f64("rcut_in")?,
        dcut_in: opt_f64("dcut_in")?,
    };
    Ok((bond, inner))
}

fn read_function(node: &Node<'_>, mu: usize, ndensity: usize) -> Result<CTildeFunction, PotentialError> {
    let mu0 = node.get("mu0")?.usize()?;
    if mu0 != mu {
        return Err(node.get("mu0")?.error(format!("is {mu0} in the list of element {mu}")));
    }
    let rank = node.get("rank")?.usize()?;
    if rank == 0 {
        return Err(node.get("rank")?.error("must be at least 1"));
    }
    let nd = node.get("ndensity")?.usize()?;
    if nd != ndensity {
        return Err(node.get("ndensity")?.error(format!("is {nd}, the embedding of element {mu} has {ndensity}")));
    }
    let num_ms = node.get("num_ms_combs")?.usize()?;
    let vector = |key: &str, len: usize| -> Result<Vec<i64>, PotentialError> {
        let v = node.get(key)?;
        let values = v.i64_vec()?;
        if values.len() != len {
            return Err(v.error(format!("{} values, expected {len}", values.len())));
        }
        Ok(values)
    };
    let non_negative = |key: &str, values: Vec<i64>| -> Result<Vec<usize>, PotentialError> {
        values
            .into_iter()
            .map(|v| usize::try_from(v).map_err(|_| node.error(format!("{key}: negative value {v}"))))
            .collect()
    };
    let mus = non_negative("mus", vector("mus", rank)?)?;
    let ns = non_negative("ns", vector("ns", rank)?)?;
    let ls = non_negative("ls", vector("ls", rank)?)?;
    let ms_combs = vector("ms_combs", rank * num_ms)?
        .into_iter()
        .map(|m| i32::try_from(m).map_err(|_| node.error(format!("ms_combs: {m} is out of range"))))
        .collect::<Result<Vec<_>, _>>()?;
    let c = node.get("ctildes")?;
    let ctildes = c.f64_vec()?;
    if ctildes.len() != num_ms * ndensity {
        return Err(c.error(format!("{} values, num_ms_combs × ndensity = {}", ctildes.len(), num_ms * ndensity)));
    }
    Ok(CTildeFunction { rank, mus, ns, ls, ms_combs, ctildes })
}
