//! The angular-momentum bookkeeping both evaluators share: which bispectrum components
//! exist for a given 2J_max, the Clebsch–Gordan coefficients that couple them and the
//! square roots the Wigner recursion needs.
//!
//! Angular momenta are doubled, as in LAMMPS, so that every label is an integer: a layer
//! j = 2J holds the (j+1)×(j+1) matrix U^J, whose entries are labelled ma, mb ∈ 0..=j
//! (m = ma − j/2). A coupling (j1, j2, j) is allowed when |j1 − j2| ≤ j ≤ j1 + j2 and
//! j1 + j2 + j is even.
//!
//! Bispectrum components are the couplings with j1 ≥ j2 and j ≥ j1, in the order of the
//! loops j1 = 0..=2J, j2 = 0..=j1, j = j1−j2, j1−j2+2, …, min(2J, j1+j2). Every other
//! ordering of a triple gives the same descriptor up to a factor, so these are all the
//! independent ones (Thompson et al., J. Comput. Phys. 285, 316 (2015), section 2). This
//! order is the order of the coefficients in a `.snapcoeff` file.

/// The number of bispectrum components B(j1, j2, j) for a given 2J_max (per element triple
/// when chemflag is set): 5, 14, 30, 55, 91, 140, 204 for 2J_max = 2, 4, …, 14.
pub fn n_components(two_j_max: usize) -> usize {
    couplings(two_j_max).filter(|&[j1, _, j]| j >= j1).count()
}

/// The largest 2J_max whose Clebsch–Gordan coefficients need only factorials that fit in
/// an `f64` (the largest is ((3·2J_max)/2 + 1)!, and 170! is the last finite one).
pub const MAX_TWO_J_MAX: usize = 112;

/// Every coupling (j1, j2, j) with j1 ≥ j2, in LAMMPS's loop order (`idxcg_block`,
/// `idxz_block`).
fn couplings(two_j_max: usize) -> impl Iterator<Item = [usize; 3]> {
    (0..=two_j_max).flat_map(move |j1| {
        (0..=j1).flat_map(move |j2| ((j1 - j2)..=two_j_max.min(j1 + j2)).step_by(2).map(move |j| [j1, j2, j]))
    })
}

/// Index lists and constant tables for one 2J_max.
#[derive(Debug, Clone)]
pub(crate) struct Basis {
    pub(crate) two_j_max: usize,
    /// The bispectrum components, in file order.
    pub(crate) components: Vec<[usize; 3]>,
    /// Every coupling with j1 ≥ j2 (components and their reorderings), in LAMMPS order.
    pub(crate) couplings: Vec<[usize; 3]>,
    /// Position of (j1, j2, j) in `couplings`, at (j1·(2J_max+1) + j2)·(2J_max+1) + j.
    coupling_slot: Vec<usize>,
    /// Position of (j1, j2, j) in `components`, indexed like `coupling_slot`.
    component_slot: Vec<usize>,
    /// Where the coefficients of each coupling start in `cg`.
    cg_start: Vec<usize>,
    /// Clebsch–Gordan coefficients C^{j m}_{j1 m1, j2 m2}, per coupling a block of
    /// (j1+1)(j2+1) values indexed m1·(j2+1) + m2; zero where m = m1 + m2 is out of range.
    cg: Vec<f64>,
    /// √(p/q) at p·(2J_max+1) + q, for 1 ≤ p, q ≤ 2J_max.
    root_pq: Vec<f64>,
}

const NONE: usize = usize::MAX;

impl Basis {
    pub(crate) fn new(two_j_max: usize) -> Self {
        assert!(two_j_max <= MAX_TWO_J_MAX, "2J_max = {two_j_max} is above {MAX_TWO_J_MAX}");
        let couplings: Vec<[usize; 3]> = couplings(two_j_max).collect();
        let components: Vec<[usize; 3]> = couplings.iter().copied().filter(|&[j1, _, j]| j >= j1).collect();
        let n = two_j_max + 1;
        let mut coupling_slot = vec![NONE; n * n * n];
        let mut component_slot = vec![NONE; n * n * n];
        let mut cg_start = Vec::with_capacity(couplings.len());
        let factorials = factorials(3 * two_j_max / 2 + 2);
        let mut cg = Vec::new();
        for (c, &[j1, j2, j]) in couplings.iter().enumerate() {
            coupling_slot[(j1 * n + j2) * n + j] = c;
            cg_start.push(cg.len());
            for m1 in 0..=j1 {
                for m2 in 0..=j2 {
                    cg.push(clebsch_gordan(&factorials, j1, j2, j, m1, m2));
                }
            }
        }
        for (k, &[j1, j2, j]) in components.iter().enumerate() {
            component_slot[(j1 * n + j2) * n + j] = k;
        }
        let mut root_pq = vec![0.0; n * n];
        for p in 1..n {
            for q in 1..n {
                root_pq[p * n + q] = (p as f64 / q as f64).sqrt();
            }
        }
        Self { two_j_max, components, couplings, coupling_slot, component_slot, cg_start, cg, root_pq }
    }

    /// Where layer j starts in a flat array of all layers (LAMMPS `idxu_block`).
    pub(crate) fn layer_start(j: usize) -> usize {
        (0..j).map(|l| (l + 1) * (l + 1)).sum()
    }

    /// √(p/q) (LAMMPS `rootpqarray`).
    #[inline]
    pub(crate) fn root_pq(&self, p: usize, q: usize) -> f64 {
        self.root_pq[p * (self.two_j_max + 1) + q]
    }

    /// The Clebsch–Gordan block of coupling (j1, j2, j), j1 ≥ j2: entry m1·(j2+1) + m2 is
    /// C^{j m}_{j1 m1, j2 m2} with m = m1 + m2 in half-integer labels.
    pub(crate) fn cg_block(&self, j1: usize, j2: usize, j: usize) -> &[f64] {
        let start = self.cg_start[self.coupling_index(j1, j2, j)];
        &self.cg[start..start + (j1 + 1) * (j2 + 1)]
    }

    /// The position of coupling (j1, j2, j), j1 ≥ j2, in `couplings`.
    pub(crate) fn coupling_index(&self, j1: usize, j2: usize, j: usize) -> usize {
        let n = self.two_j_max + 1;
        let c = self.coupling_slot[(j1 * n + j2) * n + j];
        assert!(c != NONE, "({j1}, {j2}, {j}) is not a coupling with j1 >= j2");
        c
    }

    /// The rule of each coupling, in `couplings` order (see [`AdjointRule`]).
    pub(crate) fn adjoint_rules(&self, normalize_b: bool) -> Vec<AdjointRule> {
        self.couplings
            .iter()
            .map(|&[j1, j2, j]| {
                let ([c1, c2, c3], order, multiplicity) = if j >= j1 {
                    let m = if j1 == j && j2 == j {
                        3.0
                    } else if j1 == j {
                        2.0
                    } else {
                        1.0
                    };
                    ([j1, j2, j], [0, 1, 2], m)
                } else if j >= j2 {
                    ([j, j2, j1], [2, 1, 0], if j2 == j { 2.0 } else { 1.0 })
                } else {
                    ([j2, j, j1], [1, 2, 0], 1.0)
                };
                let ratio = (!normalize_b && j1 > j).then(|| (j1 + 1) as f64 / (j as f64 + 1.0));
                AdjointRule { component: self.component_index(c1, c2, c3), order, multiplicity, ratio }
            })
            .collect()
    }

    /// The position of component (j1, j2, j) in file order.
    pub(crate) fn component_index(&self, j1: usize, j2: usize, j: usize) -> usize {
        let n = self.two_j_max + 1;
        let k = self.component_slot[(j1 * n + j2) * n + j];
        assert!(k != NONE, "({j1}, {j2}, {j}) is not a bispectrum component");
        k
    }
}

/// (−1)^n.
#[inline]
pub(crate) fn parity_sign(n: usize) -> f64 {
    if n.is_multiple_of(2) {
        1.0
    } else {
        -1.0
    }
}

/// How the coupling Z^j(j1, j2) (j1 ≥ j2) enters the adjoint Y^j (LAMMPS `compute_yi`).
///
/// dB/dx of a component is a sum of three terms, one per factor U of its triple product;
/// each is Re[dU^{j'}*·Z^{j'}] with Z^{j'} the coupling of the other two factors. So the
/// coupling Z^j_{κλ}(j1, j2) is the partner of the factor U^j_μ of the component that
/// sorts (j1, j2, j) into j' ≥ j1' ≥ j2', with the elements permuted along:
/// (j1, j2, j; κλμ) if j ≥ j1; (j, j2, j1; μλκ) if j2 ≤ j < j1; (j2, j, j1; λμκ) if j < j2.
/// Going from the factor U^{j'} of B to the factor U^j brings the ratio (j1+1)/(j+1) when
/// j1 > j, because C^{j m}_{j1 m1, j2 m2}² changes by (j+1)/(j1+1) when j and j1 swap
/// roles (none with bnormflag, where each Z is already divided by its own j + 1). When
/// two or three of j1, j2, j are equal, one coupling stands for two or three factors of
/// the same component, hence a multiplicity of 2 or 3.
///
/// For multi-element potentials the multiplicity takes the coefficients of components that
/// are equal by symmetry (B^{κλμ}(j, j2, j) = B^{μλκ}(j, j2, j) and
/// B^{κλμ}(j1, j1, j) = B^{λκμ}(j1, j1, j)) to be equal, as LAMMPS does: the force is the
/// exact gradient of the energy only when they are, which fitted files satisfy to the
/// precision they are printed with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AdjointRule {
    /// The component whose factor U^j this coupling is the partner of.
    pub component: usize,
    /// The component's element triple is `(e[order[0]], e[order[1]], e[order[2]])` for
    /// e = (κ, λ, μ).
    pub order: [usize; 3],
    pub multiplicity: f64,
    /// (j1+1)/(j+1), when j1 > j without bnormflag.
    pub ratio: Option<f64>,
}

impl AdjointRule {
    /// The coefficient of Z^j_{κλ}(j1, j2) in Y^j_μ, for descriptor coefficients `beta`
    /// (dE/dB) over `n_channels` element channels, in LAMMPS's order of operations.
    #[inline]
    pub(crate) fn weight(&self, beta: &[f64], n_channels: usize, n_components: usize, elements: [usize; 3]) -> f64 {
        let [a, b, c] = self.order.map(|o| elements[o]);
        let mut w = self.multiplicity * beta[((a * n_channels + b) * n_channels + c) * n_components + self.component];
        if let Some(ratio) = self.ratio {
            w *= ratio;
        }
        w
    }
}

/// n! for n = 0..len, exact up to 22! and correctly rounded to within an ulp above.
fn factorials(len: usize) -> Vec<f64> {
    let mut f = vec![1.0; len.max(1)];
    for n in 1..f.len() {
        f[n] = f[n - 1] * n as f64;
    }
    f
}

/// C^{j m}_{j1 m1, j2 m2} in doubled labels (m1 ∈ 0..=j1, m2 ∈ 0..=j2, m = (2m1 − j1 + 2m2 −
/// j2 + j)/2), by the Racah formula (Varshalovich, Moskalev & Khersonskii, *Quantum Theory
/// of Angular Momentum* (1988), eq. 8.2.1(3)):
///
/// C = Δ(j1 j2 j) · [(a+α)!(a−α)!(b+β)!(b−β)!(c+γ)!(c−γ)!(2c+1)]^{1/2}
///     · Σ_z (−1)^z / [z!(a+b−c−z)!(a−α−z)!(b+β−z)!(c−b+α+z)!(c−a−β+z)!],
/// Δ(a b c) = [(a+b−c)!(a−b+c)!(−a+b+c)!/(a+b+c+1)!]^{1/2},
///
/// with a = j1/2, α = m1 − j1/2 and so on. The products are taken in the order LAMMPS
/// takes them, so that the coefficients agree to the bit.
fn clebsch_gordan(f: &[f64], j1: usize, j2: usize, j: usize, m1: usize, m2: usize) -> f64 {
    let (j1, j2, j) = (j1 as i64, j2 as i64, j as i64);
    let aa2 = 2 * m1 as i64 - j1;
    let bb2 = 2 * m2 as i64 - j2;
    let m = (aa2 + bb2 + j) / 2;
    if m < 0 || m > j {
        return 0.0;
    }
    let fact = |n: i64| f[n as usize];
    let z_min = 0.max((-(j - j2 + aa2) / 2).max(-(j - j1 - bb2) / 2));
    let z_max = ((j1 + j2 - j) / 2).min(((j1 - aa2) / 2).min((j2 + bb2) / 2));
    let mut sum = 0.0;
    for z in z_min..=z_max {
        let sign = if z % 2 == 0 { 1.0 } else { -1.0 };
        sum += sign
            / (fact(z)
                * fact((j1 + j2 - j) / 2 - z)
                * fact((j1 - aa2) / 2 - z)
                * fact((j2 + bb2) / 2 - z)
                * fact((j - j2 + aa2) / 2 + z)
                * fact((j - j1 - bb2) / 2 + z));
    }
    let cc2 = 2 * m - j;
    let delta = (fact((j1 + j2 - j) / 2) * fact((j1 - j2 + j) / 2) * fact((-j1 + j2 + j) / 2)
        / fact((j1 + j2 + j) / 2 + 1))
    .sqrt();
    let prefactor = (fact((j1 + aa2) / 2)
        * fact((j1 - aa2) / 2)
        * fact((j2 + bb2) / 2)
        * fact((j2 - bb2) / 2)
        * fact((j + cc2) / 2)
        * fact((j - cc2) / 2)
        * (j + 1) as f64)
        .sqrt();
    sum * delta * prefactor
}
