//! The kernel against the reference evaluator on whole systems (energy, per-atom energy,
//! forces, virial and bispectrum components, for every kind of potential), the
//! bispectrum against the energy it defines, and the independence of the results from
//! the number of threads.

use crate::common::{perturbed_crystal, potential_file, synthetic_potential, with_ghosts};
use calcine_core::lattice::LatticeKind;
use calcine_core::{Atoms, SimBox, SpeciesId};
use calcine_potential::{ForceInput, ForceOutput, Potential, PotentialError, Want};
use calcine_snap::{Evaluator, Snap};
use calcine_test_support::{evaluate, Evaluation};

/// Largest |a − b| relative to the largest |a|.
fn worst(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>) -> f64 {
    let (mut diff, mut scale) = (0.0f64, 0.0f64);
    for (x, y) in a.into_iter().zip(b) {
        diff = diff.max((x - y).abs());
        scale = scale.max(x.abs());
    }
    diff / scale.max(f64::MIN_POSITIVE)
}

fn compare(what: &str, kernel: &Evaluation, reference: &Evaluation) {
    let forces = |e: &Evaluation| e.forces.values().flat_map(|f| [f.x, f.y, f.z]).collect::<Vec<_>>();
    let checks = [
        ("energy", worst([kernel.energy], [reference.energy]), 1e-14),
        (
            "per-atom energy",
            worst(kernel.per_atom_energy.values().copied(), reference.per_atom_energy.values().copied()),
            1e-13,
        ),
        ("forces", worst(forces(kernel), forces(reference)), 1e-13),
        ("virial", worst(kernel.virial, reference.virial), 1e-13),
    ];
    for (quantity, err, tol) in checks {
        assert!(err <= tol, "{what}: {quantity} differ by {err:.2e} (relative), more than {tol:.0e}");
    }
    eprintln!("{what}: kernel vs reference {:?}", checks.map(|(q, e, _)| format!("{q} {e:.1e}")));
}

/// A name, the potential with a given evaluator, and a configuration.
type Case = (String, Box<dyn Fn(Evaluator) -> Snap>, SimBox, Atoms);

/// A case for every kind of potential.
fn cases(dir: &std::path::Path) -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    let file = |name: &'static str, species: &'static [&'static str]| -> Box<dyn Fn(Evaluator) -> Snap> {
        Box::new(move |e| {
            Snap::read(
                potential_file(&format!("{name}.snapcoeff")),
                potential_file(&format!("{name}.snapparam")),
                species,
            )
            .unwrap()
            .with_evaluator(e)
        })
    };
    let (b, a) = perturbed_crystal(LatticeKind::Bcc, 3.3, [3, 3, 3], 0.2, |_| SpeciesId(0));
    out.push(("Ta06A".into(), file("Ta06A", &["Ta"]), b, a));
    let (b, a) = perturbed_crystal(LatticeKind::Bcc, 3.1652, [3, 3, 3], 0.2, |_| SpeciesId(0));
    out.push(("W_2940_2017_2".into(), file("W_2940_2017_2", &["W"]), b, a));
    let (b, a) = perturbed_crystal(LatticeKind::Bcc, 3.1652, [3, 3, 3], 0.2, |k| SpeciesId(u32::from(k % 4 == 1)));
    out.push(("WBe_Wood_PRB2019".into(), file("WBe_Wood_PRB2019", &["W", "Be"]), b, a));
    let (b, a) = perturbed_crystal(LatticeKind::Diamond, 5.87, [2, 2, 2], 0.2, |k| SpeciesId((k % 8 >= 4) as u32));
    out.push(("InP_JCPA2020".into(), file("InP_JCPA2020", &["In", "P"]), b, a));
    let elements = [("A", 0.5, 1.0), ("B", 0.45, 0.8)];
    for (k, (params, two_j_max, quadratic, chem)) in [
        ("rcutfac 4.6\nquadraticflag 1", 4, true, false),
        ("rcutfac 4.6\nrmin0 0.3\nswitchinnerflag 1\nsinner 2.0 1.8\ndinner 0.4 0.5\nbzeroflag 0", 8, false, false),
        ("rcutfac 4.6\nchemflag 1\nbnormflag 1\nwselfallflag 1", 4, false, true),
        ("rcutfac 4.6\nchemflag 1\nquadraticflag 1\nbzeroflag 0", 2, true, true),
        ("rcutfac 4.6\nswitchflag 0\nbnormflag 1", 5, false, false),
    ]
    .into_iter()
    .enumerate()
    {
        let sub = dir.join(k.to_string());
        std::fs::create_dir_all(&sub).unwrap();
        let (coeff, param) = synthetic_potential(&sub, params, &elements, two_j_max, quadratic, chem);
        let (b, a) = perturbed_crystal(LatticeKind::Bcc, 3.2, [3, 3, 3], 0.2, |k| SpeciesId(u32::from(k % 3 == 0)));
        let potential: Box<dyn Fn(Evaluator) -> Snap> =
            Box::new(move |e| Snap::read(&coeff, &param, &["A", "B"]).unwrap().with_evaluator(e));
        out.push((format!("synthetic ({})", params.replace('\n', ", ")), potential, b, a));
    }
    out
}

#[test]
fn kernel_matches_reference() {
    let dir = tempfile::tempdir().unwrap();
    for (name, snap, simbox, atoms) in cases(dir.path()) {
        let kernel = evaluate(&snap(Evaluator::Kernel), &simbox, &atoms, 1.0).unwrap();
        let reference = evaluate(&snap(Evaluator::Reference), &simbox, &atoms, 1.0).unwrap();
        compare(&name, &kernel, &reference);
    }
}

#[test]
fn bispectrum_matches_reference_and_energy() {
    let dir = tempfile::tempdir().unwrap();
    for (name, snap, simbox, atoms) in cases(dir.path()) {
        let kernel = snap(Evaluator::Kernel);
        let (ghosted, list) = with_ghosts(&simbox, &atoms, kernel.cutoff());
        let b = kernel.compute_bispectrum(&ghosted, &list).unwrap();
        let b_ref = snap(Evaluator::Reference).compute_bispectrum(&ghosted, &list).unwrap();
        assert_eq!(
            (b.n_columns, b.values.len()),
            (kernel.model().n_bispectrum_columns(), b.n_columns * atoms.n_owned())
        );
        let err = worst(b.values.iter().copied(), b_ref.values.iter().copied());
        assert!(err < 1e-13, "{name}: bispectrum kernel vs reference {err:.2e}");
        // E_i = β₀ + β·B + α·(the quadratic columns), as the columns of compute sna/atom.
        let energies = evaluate(&kernel, &simbox, &atoms, 1.0).unwrap().per_atom_energy;
        let model = kernel.model();
        for i in 0..ghosted.n_owned() {
            let element = &model.elements[model.species_element[ghosted.species[i].index()]];
            let coefficients = element.linear.iter().chain(&element.quadratic);
            let e = element.beta0 + coefficients.zip(b.row(i)).map(|(c, x)| c * x).sum::<f64>();
            let want = energies[&ghosted.ids[i].0];
            assert!((e - want).abs() < 1e-10 * want.abs().max(1.0), "{name}: atom {i}: {e} vs {want}");
        }
    }
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let snap = Snap::read(potential_file("W_2940_2017_2.snapcoeff"), potential_file("W_2940_2017_2.snapparam"), &["W"])
        .unwrap();
    let (simbox, atoms) = perturbed_crystal(LatticeKind::Bcc, 3.1652, [4, 4, 4], 0.2, |_| SpeciesId(0));
    let (atoms, list) = with_ghosts(&simbox, &atoms, snap.cutoff());
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut out = ForceOutput::default();
        out.reset(atoms.n_owned(), atoms.n_total(), Want::ALL);
        let input = ForceInput { atoms: &atoms, neighbors: &list, want: Want::ALL };
        pool.install(|| snap.compute(&input, &mut calcine_core::NoGhosts, &mut out)).unwrap();
        out
    };
    let (one, three) = (run(1), run(3));
    // Forces on ghosts are reverse-summed inside the call (here: no ghosts to sum into).
    assert!(!one.ghost_forces);
    assert!(one.forces[..atoms.n_owned()].iter().any(|f| f.norm() > 0.1));
    assert_eq!(one.energy, three.energy);
    assert_eq!(one.virial, three.virial);
    assert_eq!(one.per_atom_energy, three.per_atom_energy);
    let bits = |o: &ForceOutput| o.forces.iter().flat_map(|f| [f.x, f.y, f.z]).map(f64::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(&one), bits(&three));
}

#[test]
fn unknown_species_is_an_error() {
    let snap = Snap::read(potential_file("Ta06A.snapcoeff"), potential_file("Ta06A.snapparam"), &["Ta"]).unwrap();
    let (simbox, atoms) = perturbed_crystal(LatticeKind::Bcc, 3.3, [2, 2, 2], 0.1, |k| SpeciesId(u32::from(k == 3)));
    assert!(matches!(
        evaluate(&snap, &simbox, &atoms, 1.0),
        Err(calcine_md::MdError::Potential(PotentialError::Config(_)))
    ));
}
