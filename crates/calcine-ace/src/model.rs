//! The C-tilde basis as ML-PACE holds it (`ACECTildeBasisSet`): elements, embeddings,
//! bonds (radial bases and cutoffs per ordered element pair) and the C-tilde functions of
//! each central element. Every reader (`.yace`, legacy `.ace`, pacemaker `.yaml`) produces
//! this one type, and [`AceModel::check`] holds them all to the same rules.

use calcine_potential::PotentialError;
use std::path::PathBuf;

/// The embedding function F(ρ) of one density (ML-PACE `npoti`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingKind {
    /// F = sgn(ρ)[(1 − g)|ρ|^m + w^{1−m} g|ρ|], g = exp(−(w|ρ|)³), w = 10⁶.
    FinnisSinclair,
    /// F = ρ for m = 1, else sgn(ρ)((x₀ + |ρ|)^m − y₀) with x₀, y₀ ∝ e^{−|ρ|}.
    FinnisSinclairShiftedScaled,
}

impl EmbeddingKind {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "FinnisSinclair" => Some(Self::FinnisSinclair),
            "FinnisSinclairShiftedScaled" => Some(Self::FinnisSinclairShiftedScaled),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::FinnisSinclair => "FinnisSinclair",
            Self::FinnisSinclairShiftedScaled => "FinnisSinclairShiftedScaled",
        }
    }
}

/// The embedding of one central element: E_F = Σ_p w_p F(ρ_p; m_p).
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    pub ndensity: usize,
    /// [w₁, m₁, w₂, m₂, …], two per density.
    pub fs_parameters: Vec<f64>,
    pub kind: EmbeddingKind,
    /// The core-repulsion density above which the ACE energy is switched off.
    pub rho_core_cutoff: f64,
    pub drho_core_cutoff: f64,
}

/// The radial basis g_k(r) of a bond (ML-PACE `radbasename`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RadialBasisKind {
    ChebExpCos,
    ChebPow,
    ChebLinear,
    SBessel,
}

impl RadialBasisKind {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ChebExpCos" => Some(Self::ChebExpCos),
            "ChebPow" => Some(Self::ChebPow),
            "ChebLinear" => Some(Self::ChebLinear),
            "SBessel" => Some(Self::SBessel),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::ChebExpCos => "ChebExpCos",
            Self::ChebPow => "ChebPow",
            Self::ChebLinear => "ChebLinear",
            Self::SBessel => "SBessel",
        }
    }
}

/// How short distances are handled (ML-PACE `inner_cutoff_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InnerCutoffKind {
    /// The ACE energy is switched off by the core-repulsion density (old files).
    Density,
    /// The radial basis is switched off below `rcut_in` and the core repulsion on.
    Distance,
    /// As `Distance` for the basis, with ZBL instead of the exponential core repulsion,
    /// switched by the nearest neighbor's distance.
    Zbl,
}

impl InnerCutoffKind {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "density" => Some(Self::Density),
            "distance" => Some(Self::Distance),
            "zbl" => Some(Self::Zbl),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Density => "density",
            Self::Distance => "distance",
            Self::Zbl => "zbl",
        }
    }
}

/// The radial part of one ordered element pair (μ_i, μ_j).
#[derive(Debug, Clone, PartialEq)]
pub struct Bond {
    /// n runs over 0..nradmax in R_nl.
    pub nradmax: usize,
    pub lmax: usize,
    /// k runs over 0..nradbasemax in g_k.
    pub nradbasemax: usize,
    pub radial_basis: RadialBasisKind,
    /// λ = radparameters[0].
    pub lambda: f64,
    /// crad[n][l][k], row-major with shape nradmax × (lmax+1) × nradbasemax.
    pub radcoefficients: Vec<f64>,
    pub prehc: f64,
    pub lambdahc: f64,
    pub rcut: f64,
    pub dcut: f64,
    pub rcut_in: f64,
    pub dcut_in: f64,
}

impl Bond {
    /// crad[n][l][k].
    #[inline]
    pub fn crad(&self, n: usize, l: usize, k: usize) -> f64 {
        self.radcoefficients[(n * (self.lmax + 1) + l) * self.nradbasemax + k]
    }
}

/// One C-tilde basis function of a central element: Σ over its m-combinations of
/// c̃_{ms,p} Π_t A[μ_t][n_t][l_t][m_t] (rank > 1), or c̃_p A1[μ][n] (rank 1).
#[derive(Debug, Clone, PartialEq)]
pub struct CTildeFunction {
    pub rank: usize,
    /// Neighbor element of each factor.
    pub mus: Vec<usize>,
    /// Radial index of each factor, 1-based as in the files.
    pub ns: Vec<usize>,
    pub ls: Vec<usize>,
    /// The m-combinations, `rank` values each.
    pub ms_combs: Vec<i32>,
    /// c̃, `ndensity` values per m-combination.
    pub ctildes: Vec<f64>,
}

impl CTildeFunction {
    pub fn n_ms_combs(&self) -> usize {
        self.ms_combs.len() / self.rank
    }
}

/// An ACE potential in the C-tilde form (ML-PACE `ACECTildeBasisSet`).
#[derive(Debug, Clone, PartialEq)]
pub struct AceModel {
    /// Where it was read from, for error messages.
    pub path: PathBuf,
    pub elements: Vec<String>,
    /// Energy shift per element.
    pub e0: Vec<f64>,
    /// Spacing of the radial lookup tables in Å.
    pub delta_spline_bins: f64,
    pub embeddings: Vec<Embedding>,
    /// Bonds by (μ_i, μ_j), index μ_i·n_elements + μ_j.
    pub bonds: Vec<Bond>,
    pub inner_cutoff: InnerCutoffKind,
    /// The functions of each central element, in file order.
    pub functions: Vec<Vec<CTildeFunction>>,
}

impl AceModel {
    pub fn n_elements(&self) -> usize {
        self.elements.len()
    }

    pub fn bond(&self, mu_i: usize, mu_j: usize) -> &Bond {
        &self.bonds[mu_i * self.elements.len() + mu_j]
    }

    /// The largest pair cutoff.
    pub fn max_cutoff(&self) -> f64 {
        self.bonds.iter().map(|b| b.rcut).fold(0.0, f64::max)
    }

    /// The largest l of any bond (ML-PACE's global `lmax`).
    pub fn lmax(&self) -> usize {
        self.bonds.iter().map(|b| b.lmax).max().unwrap_or(0)
    }

    /// The largest nradmax of any bond.
    pub fn nradmax(&self) -> usize {
        self.bonds.iter().map(|b| b.nradmax).max().unwrap_or(0)
    }

    /// The largest nradbasemax of any bond.
    pub fn nradbase(&self) -> usize {
        self.bonds.iter().map(|b| b.nradbasemax).max().unwrap_or(0)
    }

    /// The index of an element by name.
    pub fn element_index(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e == name)
    }

    /// Maps a run's species names to elements of this potential (LAMMPS
    /// `pair_coeff * * file El1 El2 …`).
    pub fn species_elements<S: AsRef<str>>(&self, species: &[S]) -> Result<Vec<usize>, PotentialError> {
        species
            .iter()
            .map(|s| {
                self.element_index(s.as_ref()).ok_or_else(|| PotentialError::UnknownSpecies {
                    path: self.path.clone(),
                    name: s.as_ref().to_string(),
                    available: self.elements.clone(),
                })
            })
            .collect()
    }

    /// Checks that sizes and indices agree with each other, so evaluation never indexes
    /// out of bounds: what ML-PACE checks while reading, and what it leaves to chance.
    pub fn check(&self) -> Result<(), PotentialError> {
        let invalid = |reason: String| PotentialError::Invalid { path: self.path.clone(), reason };
        let n = self.elements.len();
        if n == 0 {
            return Err(invalid("no elements".into()));
        }
        if self.e0.len() != n {
            return Err(invalid(format!("E0 has {} values for {n} elements", self.e0.len())));
        }
        if !(self.delta_spline_bins > 0.0) || !self.delta_spline_bins.is_finite() {
            return Err(invalid(format!("deltaSplineBins must be positive, got {}", self.delta_spline_bins)));
        }
        if self.embeddings.len() != n {
            return Err(invalid(format!("{} embeddings for {n} elements", self.embeddings.len())));
        }
        for (mu, e) in self.embeddings.iter().enumerate() {
            if e.ndensity == 0 {
                return Err(invalid(format!("embedding of element {mu}: ndensity must be at least 1")));
            }
            if e.fs_parameters.len() != 2 * e.ndensity {
                return Err(invalid(format!(
                    "embedding of element {mu}: FS_parameters has {} values, ndensity {} needs {}",
                    e.fs_parameters.len(),
                    e.ndensity,
                    2 * e.ndensity
                )));
            }
        }
        if self.bonds.len() != n * n {
            return Err(invalid(format!("{} bonds for {n} elements", self.bonds.len())));
        }
        for (k, b) in self.bonds.iter().enumerate() {
            let name = format!("bond [{}, {}]", k / n, k % n);
            if !(b.rcut > 0.0) || !b.rcut.is_finite() {
                return Err(invalid(format!("{name}: rcut must be positive, got {}", b.rcut)));
            }
            if b.rcut / self.delta_spline_bins < 2.0 {
                return Err(invalid(format!("{name}: rcut {} spans fewer than two spline bins", b.rcut)));
            }
            if b.radcoefficients.len() != b.nradmax * (b.lmax + 1) * b.nradbasemax {
                return Err(invalid(format!(
                    "{name}: radcoefficients has {} values, nradmax × (lmax+1) × nradbasemax = {}",
                    b.radcoefficients.len(),
                    b.nradmax * (b.lmax + 1) * b.nradbasemax
                )));
            }
            if b.nradbasemax == 0 {
                return Err(invalid(format!("{name}: nradbasemax must be at least 1")));
            }
        }
        if self.functions.len() != n {
            return Err(invalid(format!(
                "functions given for {} elements, the potential has {n}",
                self.functions.len()
            )));
        }
        let (lmax, nradmax, nradbase) = (self.lmax(), self.nradmax(), self.nradbase());
        for (mu0, funcs) in self.functions.iter().enumerate() {
            let ndensity = self.embeddings[mu0].ndensity;
            for (k, f) in funcs.iter().enumerate() {
                let name = format!("function {k} of element {mu0}");
                if f.rank == 0 || f.mus.len() != f.rank || f.ns.len() != f.rank || f.ls.len() != f.rank {
                    return Err(invalid(format!("{name}: mus, ns and ls must each have rank = {} values", f.rank)));
                }
                if f.ms_combs.is_empty() || f.ms_combs.len() % f.rank != 0 {
                    return Err(invalid(format!("{name}: ms_combs must hold whole combinations of {} values", f.rank)));
                }
                if f.ctildes.len() != f.n_ms_combs() * ndensity {
                    return Err(invalid(format!(
                        "{name}: {} ctildes for {} m-combinations and ndensity {ndensity}",
                        f.ctildes.len(),
                        f.n_ms_combs()
                    )));
                }
                for t in 0..f.rank {
                    if f.mus[t] >= n {
                        return Err(invalid(format!("{name}: neighbor element {} is not in the potential", f.mus[t])));
                    }
                    let limit = if f.rank == 1 { nradbase } else { nradmax };
                    if f.ns[t] == 0 || f.ns[t] > limit {
                        return Err(invalid(format!("{name}: n = {} is outside 1..={limit}", f.ns[t])));
                    }
                    if f.ls[t] > lmax {
                        return Err(invalid(format!("{name}: l = {} is above lmax {lmax}", f.ls[t])));
                    }
                }
                for ms in f.ms_combs.chunks(f.rank) {
                    for (t, &m) in ms.iter().enumerate() {
                        if m.unsigned_abs() as usize > f.ls[t] {
                            return Err(invalid(format!("{name}: m = {m} is outside -l..=l for l = {}", f.ls[t])));
                        }
                    }
                }
                if f.rank == 1 && (f.ls[0] != 0 || f.ms_combs != [0]) {
                    return Err(invalid(format!("{name}: a rank-1 function must have l = 0 and m = 0")));
                }
            }
        }
        Ok(())
    }
}
