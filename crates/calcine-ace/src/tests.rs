use super::*;
use calcine_comm::SerialComm;
use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::rng::{uniform4, Stream};
use calcine_core::{SimBox, SpeciesId, Vec3};
use calcine_domain::Domain;
use calcine_potential::{ForceInput, ForceOutput, Want};
use calcine_test_support::{check_potential, data_path, evaluate, CheckTolerances};
use std::path::PathBuf;

fn cu_file() -> PathBuf {
    data_path("potentials/Cu-PBE-core-rep.ace")
}

/// fcc Cu with every atom displaced by up to `amplitude` Å per axis.
fn perturbed_cu(cells: usize, amplitude: f64, seed: u64) -> (SimBox, Atoms) {
    let (simbox, mut atoms) = Lattice::new(LatticeKind::Fcc, 3.62).replicate([cells; 3]).build(SpeciesId(0));
    for k in 0..atoms.n_owned() {
        let u = uniform4(seed, Stream::Test, atoms.ids[k].0, 0);
        atoms.positions[k] += Vec3::new(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5) * (2.0 * amplitude);
    }
    (simbox, atoms)
}

#[test]
// The numbers are written as the file writes them.
#[allow(clippy::excessive_precision)]
fn legacy_file_reads_as_the_lammps_tests_describe_it() {
    let m = read_model(cu_file()).unwrap();
    assert_eq!(m.elements, ["Cu"]);
    assert_eq!((m.lmax(), m.nradmax(), m.nradbase()), (6, 5, 16));
    assert_eq!(m.bonds[0].radial_basis, RadialBasisKind::ChebPow);
    assert_eq!((m.bonds[0].rcut, m.bonds[0].dcut), (7.4, 0.01));
    assert_eq!((m.bonds[0].prehc, m.bonds[0].lambdahc), (400.0, 7.0));
    assert_eq!(m.embeddings[0].kind, EmbeddingKind::FinnisSinclairShiftedScaled);
    assert_eq!(m.embeddings[0].fs_parameters, [1.0, 1.0, 1.0, 0.5]);
    assert_eq!(m.inner_cutoff, InnerCutoffKind::Density);
    let f = &m.functions[0];
    assert_eq!(f.iter().filter(|f| f.rank == 1).count(), 16);
    assert_eq!(f.len(), 16 + 726);
    // crad is stored k-major in the file: its first line holds k = 0 for (n, l) = (0, 0..=6).
    assert_eq!(m.bonds[0].crad(0, 0, 0), 1.620882954168367363);
    assert_eq!(m.bonds[0].crad(0, 1, 0), 1.226870698977090335);
    assert_eq!(m.bonds[0].crad(1, 0, 0), -0.010015984641177847);
    let last = f.last().unwrap();
    assert_eq!((last.ns.clone(), last.ls.clone(), last.n_ms_combs()), (vec![5, 5], vec![6, 6], 7));
    assert_eq!(last.ctildes[13], 0.125820906632077067);
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A small valid `.yace` text; `edit` changes it before it is written.
fn yace_text(edit: impl Fn(String) -> String) -> String {
    let text = "elements: [Al, Ni]
E0: [0.5, -0.25]
deltaSplineBins: 0.001
embeddings:
  0: {ndensity: 1, FS_parameters: [1, 1], npoti: FinnisSinclair, rho_core_cutoff: 100000, drho_core_cutoff: 250}
  1: {ndensity: 2, FS_parameters: [1, 1, 1, 0.5], npoti: FinnisSinclairShiftedScaled, rho_core_cutoff: 100000, drho_core_cutoff: 250}
bonds:
  [0, 0]: {nradmax: 1, lmax: 1, nradbasemax: 2, radbasename: ChebExpCos, radparameters: [3.0], radcoefficients: [[[1, 0.5], [0.25, -0.5]]], prehc: 0, lambdahc: 1, rcut: 4.5, dcut: 0.01}
  [0, 1]: {nradmax: 1, lmax: 1, nradbasemax: 2, radbasename: ChebPow, radparameters: [2.0], radcoefficients: [[[1, 0.5], [0.25, -0.5]]], prehc: 0, lambdahc: 1, rcut: 4.0, dcut: 0.01}
  [1, 0]: {nradmax: 1, lmax: 1, nradbasemax: 2, radbasename: ChebPow, radparameters: [2.0], radcoefficients: [[[1, 0.5], [0.25, -0.5]]], prehc: 0, lambdahc: 1, rcut: 4.0, dcut: 0.01}
  [1, 1]: {nradmax: 1, lmax: 1, nradbasemax: 2, radbasename: SBessel, radparameters: [3.0], radcoefficients: [[[1, 0.5], [0.25, -0.5]]], prehc: 0, lambdahc: 1, rcut: 4.2, dcut: 0.01}
functions:
  0:
    - {mu0: 0, rank: 1, ndensity: 1, num_ms_combs: 1, mus: [1], ns: [2], ls: [0], ms_combs: [0], ctildes: [0.3]}
    - {mu0: 0, rank: 2, ndensity: 1, num_ms_combs: 2, mus: [0, 1], ns: [1, 1], ls: [1, 1], ms_combs: [0, 0, 1, -1], ctildes: [0.2, -0.4]}
  1:
    - {mu0: 1, rank: 2, ndensity: 2, num_ms_combs: 1, mus: [0, 0], ns: [1, 1], ls: [0, 0], ms_combs: [0, 0], ctildes: [0.2, 0.7]}
";
    edit(text.to_string())
}

#[test]
fn yace_reads_every_key_and_old_files_default_to_density() {
    let dir = tempfile::tempdir().unwrap();
    let m = read_model(write(dir.path(), "a.yace", &yace_text(|t| t))).unwrap();
    assert_eq!(m.elements, ["Al", "Ni"]);
    assert_eq!(m.e0, [0.5, -0.25]);
    assert_eq!(m.embeddings[1].ndensity, 2);
    assert_eq!(m.bond(0, 1).rcut, 4.0);
    assert_eq!(m.bond(1, 1).radial_basis, RadialBasisKind::SBessel);
    assert_eq!(m.bond(0, 0).crad(0, 1, 1), -0.5);
    assert_eq!(m.inner_cutoff, InnerCutoffKind::Density);
    assert_eq!(m.functions[0][1].ms_combs, [0, 0, 1, -1]);
    let with_distance =
        yace_text(|t| t.replace("dcut: 0.01}", "dcut: 0.01, rcut_in: 1.0, dcut_in: 0.2, inner_cutoff_type: distance}"));
    let m = read_model(write(dir.path(), "b.yace", &with_distance)).unwrap();
    assert_eq!(m.inner_cutoff, InnerCutoffKind::Distance);
    assert_eq!((m.bond(1, 0).rcut_in, m.bond(1, 0).dcut_in), (1.0, 0.2));
}

#[test]
fn bad_files_are_reported_with_file_and_key_or_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed.yace", yace_text(|t| t.replace("E0: [0.5, -0.25]", "E0: [0.5, -0.25")), "malformed.yace:"),
        ("missing.yace", yace_text(|t| t.replace("deltaSplineBins: 0.001\n", "")), "missing key 'deltaSplineBins'"),
        (
            "radial.yace",
            yace_text(|t| t.replacen("ChebPow", "Gaussian", 1)),
            "key 'bonds.[0, 1].radbasename': unknown radial basis 'Gaussian'",
        ),
        (
            "embedding.yace",
            yace_text(|t| t.replace("npoti: FinnisSinclair,", "npoti: Tanh,")),
            "key 'embeddings.0.npoti': unknown embedding 'Tanh'",
        ),
        (
            "crad.yace",
            yace_text(|t| t.replacen("[[[1, 0.5], [0.25, -0.5]]]", "[[[1, 0.5], [0.25]]]", 1)),
            "values for nradbasemax 2",
        ),
        ("bond.yace", yace_text(|t| t.replacen("  [1, 1]:", "  [1, 2]:", 1)), "bond key [1, 2] is not a pair"),
        (
            "ctildes.yace",
            yace_text(|t| t.replace("ctildes: [0.2, -0.4]", "ctildes: [0.2]")),
            "key 'functions.0[1].ctildes': 1 values",
        ),
        (
            "inner.yace",
            yace_text(|t| t.replacen("dcut: 0.01}", "dcut: 0.01, inner_cutoff_type: zbl}", 1)),
            "inner_cutoff_type differs",
        ),
    ];
    for (name, text, want) in cases {
        let err = read_model(write(dir.path(), name, &text)).unwrap_err().to_string();
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.contains(want), "{name}: '{err}' does not say '{want}'");
    }
    let legacy = std::fs::read_to_string(cu_file()).unwrap();
    let bad = legacy.replacen("radbasename=ChebPow", "radbasename=Spline", 1);
    let err = read_model(write(dir.path(), "bad.ace", &bad)).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}:13: unknown radial basis 'Spline': expected ChebExpCos, ChebPow, ChebLinear or SBessel",
            dir.path().join("bad.ace").display()
        )
    );
    let cut = &legacy[..legacy.len() / 2];
    let err = read_model(write(dir.path(), "short.ace", cut)).unwrap_err().to_string();
    assert!(err.contains("short.ace:") && err.contains("unexpected end of file"), "{err}");
    let err = Ace::read(cu_file(), &["Cu", "Ni"]).unwrap_err().to_string();
    assert!(err.contains("species 'Ni' is not in this potential (it has: Cu)"), "{err}");
}

#[test]
fn a_pair_closer_than_the_first_table_node_is_an_error() {
    let ace = Ace::read(cu_file(), &["Cu"]).unwrap();
    let (simbox, mut atoms) = perturbed_cu(3, 0.0, 1);
    atoms.positions[1] = atoms.positions[0] + Vec3::new(0.0005, 0.0, 0.0);
    let err = evaluate(&ace, &simbox, &atoms, 1.0).unwrap_err().to_string();
    assert!(err.contains("atoms 1 and 2 are 0.000500 Å apart, closer than ace allows"), "{err}");
}

/// Kernel (both algorithms) and reference agree on energies, per-atom energies and forces.
fn assert_evaluators_agree(ace: &Ace, simbox: &SimBox, atoms: &Atoms) {
    let reference = evaluate(&ace.clone().with_evaluator(Evaluator::Reference), simbox, atoms, 1.0).unwrap();
    for algorithm in [Algorithm::Product, Algorithm::Recursive] {
        let kernel =
            evaluate(&ace.clone().with_evaluator(Evaluator::Kernel).with_algorithm(algorithm), simbox, atoms, 1.0)
                .unwrap();
        let e_scale = reference.energy.abs().max(1.0);
        assert!(
            (kernel.energy - reference.energy).abs() < 1e-11 * e_scale,
            "{algorithm:?}: {} vs {}",
            kernel.energy,
            reference.energy
        );
        // The densities sum thousands of terms of up to ~10³ that cancel to a few eV, in a
        // different order in the kernel (merged monomials, leaves last): per-atom energies
        // agree to ~10⁻¹², the total to the same absolute amount.
        for (id, e) in &reference.per_atom_energy {
            let got = kernel.per_atom_energy[id];
            assert!((got - e).abs() < 1e-11 * e.abs().max(1.0), "{algorithm:?} atom {id}: {got} vs {e}");
        }
        for (id, f) in &reference.forces {
            let d = (kernel.forces[id] - f).norm();
            assert!(d < 1e-11 * f.norm().max(1.0), "{algorithm:?} atom {id}: {:?} vs {f:?}", kernel.forces[id]);
        }
        for k in 0..6 {
            assert!((kernel.virial[k] - reference.virial[k]).abs() < 1e-10 * reference.virial[k].abs().max(1.0));
        }
    }
}

#[test]
fn kernel_matches_reference_for_cu() {
    let ace = Ace::read(cu_file(), &["Cu"]).unwrap();
    let (simbox, atoms) = perturbed_cu(3, 0.4, 7);
    assert_evaluators_agree(&ace, &simbox, &atoms);
}

#[test]
fn forces_and_virial_are_derivatives_of_the_energy() {
    let ace = Ace::read(cu_file(), &["Cu"]).unwrap();
    let (simbox, atoms) = perturbed_cu(2, 0.3, 11);
    // Atom energies carry rounding of ~10⁻¹² eV (large c̃ and A with cancellation), so the
    // differences use steps of 10⁻⁴ Å and a bound well below any real error in a derivative.
    let tol =
        CheckTolerances { steps: [1e-4, 3e-5, 1e-5], force_abs: 1e-5, n_fd_atoms: 4, ..CheckTolerances::default() };
    check_potential(&ace, &simbox, &atoms, 1.0, tol).unwrap();
}

#[test]
fn forces_have_the_same_bits_on_any_thread_count() {
    let ace = Ace::read(cu_file(), &["Cu"]).unwrap();
    let (simbox, atoms) = perturbed_cu(3, 0.3, 3);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut atoms = atoms.clone();
            let mut domain = Domain::new(SerialComm::new(simbox.periodic()), simbox.clone());
            domain.migrate(&mut atoms, 0).unwrap();
            domain.build_ghosts(&mut atoms, ace.cutoff() + 1.0);
            let mut list = NeighborList::new(NeighborKind::Full, ace.cutoff(), 1.0);
            list.build(&atoms).unwrap();
            let mut out = ForceOutput::default();
            out.reset(atoms.n_owned(), atoms.n_total(), Want::ALL);
            ace.compute(&ForceInput { atoms: &atoms, neighbors: &list, want: Want::ALL }, &mut domain, &mut out)
                .unwrap();
            let bits: Vec<u64> =
                out.forces[..atoms.n_owned()].iter().flat_map(|f| [f.x, f.y, f.z]).map(f64::to_bits).collect();
            (bits, out.energy.value().to_bits(), out.virial_value().map(f64::to_bits))
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        assert_eq!(run(threads), one, "{threads} threads");
    }
}

#[test]
fn graphs_on_32_bit_ids_give_the_bits_of_16_bit_ones() {
    let (simbox, mut atoms) = perturbed_cu(3, 0.3, 5);
    for k in 0..atoms.n_owned() {
        atoms.species[k] = SpeciesId((k % 3) as u32);
    }
    let alloy = Ace::read(data_path("ace/AlCuNi-distance.yace"), &["Al", "Cu", "Ni"]).unwrap();
    let cu = Ace::read(cu_file(), &["Cu"]).unwrap();
    let cu_atoms = perturbed_cu(3, 0.3, 5).1;
    for (ace, atoms) in [(alloy, &atoms), (cu, &cu_atoms)] {
        for algorithm in [Algorithm::Product, Algorithm::Recursive] {
            let narrow = ace.clone().with_algorithm(algorithm);
            assert!(narrow.plans.iter().all(|p| p.narrow.is_some()), "small graphs use 16-bit ids");
            let wide = narrow.clone().with_wide_ids();
            let (a, b) =
                (evaluate(&narrow, &simbox, atoms, 1.0).unwrap(), evaluate(&wide, &simbox, atoms, 1.0).unwrap());
            assert_eq!(a.energy.to_bits(), b.energy.to_bits(), "{algorithm:?}");
            for (id, f) in &a.forces {
                let g = b.forces[id];
                assert_eq!(
                    [f.x, f.y, f.z].map(f64::to_bits),
                    [g.x, g.y, g.z].map(f64::to_bits),
                    "{algorithm:?} atom {id}"
                );
            }
        }
    }
}

#[test]
fn clebsch_gordan_and_coupling_trees() {
    let third = (1.0f64 / 3.0).sqrt();
    assert!((clebsch_gordan(1, 0, 1, 0, 0, 0) + third).abs() < 1e-15);
    assert!((clebsch_gordan(1, 1, 1, -1, 0, 0) - third).abs() < 1e-15);
    assert!((clebsch_gordan(1, 1, 1, 0, 2, 1) - 0.5f64.sqrt()).abs() < 1e-15);
    assert_eq!(clebsch_gordan(1, 1, 1, 1, 0, 0), 0.0);
    // Leaves paired in order, then intermediates; the last coupling goes to node 2r − 2.
    assert_eq!(coupling_tree(2), vec![[0, 1, 2]]);
    assert_eq!(coupling_tree(3), vec![[0, 1, 3], [3, 2, 4]]);
    assert_eq!(coupling_tree(4), vec![[0, 1, 4], [2, 3, 5], [4, 5, 6]]);
    assert_eq!(coupling_tree(5), vec![[0, 1, 5], [2, 3, 6], [5, 6, 7], [7, 4, 8]]);
    assert_eq!(coupling_tree(6), vec![[0, 1, 6], [2, 3, 7], [4, 5, 8], [6, 7, 9], [8, 9, 10]]);
    // B(l=1, l=1) in the half basis, the first m varying fastest: (1, −1) doubled, then
    // (0, 0) once, with ⟨1 m 1 −m|0 0⟩.
    let list = ms_cg_list(&[1, 1], &[]);
    assert_eq!(list.iter().map(|(ms, _)| ms.clone()).collect::<Vec<_>>(), vec![vec![1, -1], vec![0, 0]]);
    assert!((list[0].1 - 2.0 * third).abs() < 1e-15 && (list[1].1 + third).abs() < 1e-15);
}

#[test]
fn bad_bbasis_files_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(data_path("ace/CuNi-density.yaml")).unwrap();
    let cases = [
        ("nodelta.yaml", good.replacen("DeltaSplineBins", "Delta", 1), "missing key 'global.DeltaSplineBins'"),
        ("radbase.yaml", good.replacen("radbase: SBessel", "radbase: Bessel", 1), "unknown radial basis 'Bessel'"),
        ("npoti.yaml", good.replacen("npoti: FinnisSinclair", "npoti: Exp", 1), "unknown embedding 'Exp'"),
    ];
    for (name, text, want) in cases {
        let err = read_model(write(dir.path(), name, &text)).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(want), "{name}: '{err}' does not say '{want}'");
    }
}

#[test]
fn harmonics_in_lanes_have_the_bits_of_the_scalar_routine() {
    use crate::complex::Complex;
    use crate::harmonics::{n_lm, Harmonics};
    let h = Harmonics::new(6);
    let nlm = n_lm(6);
    let dirs: Vec<[f64; 3]> = (0..4)
        .map(|k| {
            let u = uniform4(9, Stream::Test, k, 0);
            let v = [u[0] - 0.5, u[1] - 0.5, u[2] - 0.5];
            let r = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            [v[0] / r, v[1] / r, v[2] / r]
        })
        .collect();
    let lane = |c: usize| std::array::from_fn::<f64, 4, _>(|i| dirs[i][c]);
    let (mut p, mut dp, mut out) = (vec![[0.0; 4]; nlm], vec![[0.0; 4]; nlm], vec![[0.0; 4]; 8 * nlm]);
    h.compute_lanes(&lane(0), &lane(1), &lane(2), &mut p, &mut dp, &mut out);
    for (i, d) in dirs.iter().enumerate() {
        let (mut p, mut dp) = (vec![0.0; nlm], vec![0.0; nlm]);
        let (mut y, mut dy) = (vec![Complex::ZERO; nlm], vec![[Complex::ZERO; 3]; nlm]);
        h.compute(d[0], d[1], d[2], &mut p, &mut dp, &mut y, &mut dy);
        for k in 0..nlm {
            let want = [y[k], dy[k][0], dy[k][1], dy[k][2]].map(|c| [c.re, c.im]).concat();
            let got: Vec<f64> = (0..8).map(|q| out[q * nlm + k][i]).collect();
            assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "lane {i} lm {k}"
            );
        }
    }
}

/// A cluster of perturbed fcc Cu (2×2×2 cells, 32 atoms) inside a non-periodic box, so
/// that every pair is seen once, without periodic images.
fn cu_cluster(amplitude: f64, seed: u64) -> (SimBox, Atoms) {
    let (_, mut atoms) = perturbed_cu(2, amplitude, seed);
    for x in atoms.positions.iter_mut() {
        *x += Vec3::new(10.0, 10.0, 10.0);
    }
    let simbox = SimBox::orthogonal(Vec3::zeros(), Vec3::new(27.0, 27.0, 27.0), [false; 3]).unwrap();
    (simbox, atoms)
}

/// Per-atom virials against their definition, from finite differences of the atom energies
/// E_k (an outside reference: it uses neither the pair terms nor their split): with
/// ∂E_k/∂x_j by central differences, atom a's virial is
///
/// W_a = ½ Σ_j (x_a − x_j) ⊗ ∂E_a/∂x_j + ½ Σ_k (x_k − x_a) ⊗ ∂E_k/∂x_a,
///
/// half of each term r_kj ⊗ ∂E_k/∂x_j on each of its two atoms (LAMMPS `pair pace`'s
/// `ev_tally_xyz`). Also: the per-atom virials add up to the virial, both evaluators
/// agree, and thread counts do not change their bits.
#[test]
fn per_atom_virials_split_each_term_half_and_half() {
    let ace = Ace::read(cu_file(), &["Cu"]).unwrap();
    let (simbox, atoms) = cu_cluster(0.3, 17);
    let n = atoms.n_owned();
    let base = evaluate(&ace, &simbox, &atoms, 1.0).unwrap();
    // grad[k][j] = ∂E_k/∂x_j (ids are 1..=n in atom order).
    let h = 1e-4;
    let mut grad = vec![vec![[0.0f64; 3]; n]; n];
    for j in 0..n {
        for c in 0..3 {
            let energies = |step: f64| {
                let mut moved = atoms.clone();
                moved.positions[j][c] += step;
                evaluate(&ace, &simbox, &moved, 1.0).unwrap().per_atom_energy
            };
            let (plus, minus) = (energies(h), energies(-h));
            for k in 0..n {
                let id = atoms.ids[k].0;
                grad[k][j][c] = (plus[&id] - minus[&id]) / (2.0 * h);
            }
        }
    }
    let outer = |d: Vec3, f: [f64; 3]| [d.x * f[0], d.y * f[1], d.z * f[2], d.x * f[1], d.x * f[2], d.y * f[2]];
    let x = &atoms.positions;
    let (mut worst, mut unsplit): (f64, f64) = (0.0, 0.0);
    for a in 0..n {
        let (mut want, mut own_only) = ([0.0; 6], [0.0; 6]);
        for j in (0..n).filter(|&j| j != a) {
            let (own, other) = (outer(x[a] - x[j], grad[a][j]), outer(x[j] - x[a], grad[j][a]));
            for c in 0..6 {
                want[c] += 0.5 * (own[c] + other[c]);
                own_only[c] += own[c];
            }
        }
        let got = base.per_atom_virial[&atoms.ids[a].0];
        for c in 0..6 {
            worst = worst.max((got[c] - want[c]).abs());
            unsplit = unsplit.max((got[c] - own_only[c]).abs());
        }
    }
    eprintln!(
        "per-atom virials vs finite differences: {worst:.1e} eV (whole terms on their centre atom: {unsplit:.1e} eV)"
    );
    // The differences carry ~1e-8 eV/Å of rounding and truncation; the virials are ~1 eV,
    // and another split (each term wholly on its centre atom) differs by far more.
    assert!(worst < 1e-6, "per-atom virials differ from the finite-difference split by {worst:e} eV");
    assert!(unsplit > 1e-3, "the test tells splits apart ({unsplit:e} eV)");
    for c in 0..6 {
        let total: f64 = base.per_atom_virial.values().map(|v| v[c]).sum();
        assert!((total - base.virial[c]).abs() < 1e-12 * base.virial[c].abs().max(1.0), "component {c}");
    }
    // Periodic: the reference evaluator and the thread count.
    let (simbox, atoms) = perturbed_cu(3, 0.3, 5);
    let kernel = evaluate(&ace, &simbox, &atoms, 1.0).unwrap();
    let reference = evaluate(&ace.clone().with_evaluator(Evaluator::Reference), &simbox, &atoms, 1.0).unwrap();
    for (id, v) in &reference.per_atom_virial {
        for c in 0..6 {
            let got = kernel.per_atom_virial[id][c];
            assert!((got - v[c]).abs() < 1e-10 * v[c].abs().max(1.0), "atom {id} component {c}: {got} vs {}", v[c]);
        }
    }
    for c in 0..6 {
        let total: f64 = kernel.per_atom_virial.values().map(|v| v[c]).sum();
        assert!((total - kernel.virial[c]).abs() < 1e-12 * kernel.virial[c].abs().max(1.0), "component {c}");
    }
    let bits = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let eval = pool.install(|| evaluate(&ace, &simbox, &atoms, 1.0).unwrap());
        eval.per_atom_virial.values().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>()
    };
    assert_eq!(bits(1), bits(3));
}
