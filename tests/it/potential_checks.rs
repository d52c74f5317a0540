//! The generic checks (finite-difference forces, strain-derivative virial, invariances) on
//! every potential, on orthogonal and triclinic boxes, and half lists against full lists.

use crate::common::eam_for;
use calcine_core::lattice::{Lattice, LatticeKind};
use calcine_core::rng::{uniform4, Stream};
use calcine_core::{Atoms, SimBox, SpeciesId, Vec3};
use calcine_eam::EamEvaluator;
use calcine_potential::{LennardJones, NeighborKind, Overlay, PairMode, Pairwise, Potential, Zbl};
use calcine_test_support::{check_potential, evaluate, CheckTolerances};

/// A perturbed fcc crystal, 3×3×3 cells, with species alternating at random between 0 and `n_species−1`.
fn perturbed_fcc(a: f64, amplitude: f64, n_species: u32, seed: u64) -> (SimBox, Atoms) {
    perturbed_fcc_cells(a, amplitude, n_species, seed, [3, 3, 3])
}

fn perturbed_fcc_cells(a: f64, amplitude: f64, n_species: u32, seed: u64, cells: [usize; 3]) -> (SimBox, Atoms) {
    let (simbox, mut atoms) = Lattice::new(LatticeKind::Fcc, a).replicate(cells).build(SpeciesId(0));
    for i in 0..atoms.n_owned() {
        let u = uniform4(seed, Stream::Test, i as u64, 0);
        atoms.positions[i] += Vec3::new(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5) * (2.0 * amplitude);
        atoms.species[i] = SpeciesId(((u[3] * n_species as f64) as u32).min(n_species - 1));
    }
    (simbox, atoms)
}

/// The same atoms mapped into a sheared box (fractional coordinates kept).
fn sheared(simbox: &SimBox, atoms: &Atoms, tilt: [f64; 3]) -> (SimBox, Atoms) {
    let t = SimBox::triclinic(simbox.lo(), simbox.lengths(), tilt, [true; 3]).unwrap();
    let mut out = atoms.clone();
    for x in &mut out.positions {
        *x = t.to_cartesian(&simbox.to_fractional(x));
    }
    (t, out)
}

fn check_both_boxes(p: &dyn Potential, simbox: &SimBox, atoms: &Atoms) {
    check_potential(p, simbox, atoms, 1.0, CheckTolerances::default())
        .unwrap_or_else(|e| panic!("{} orthogonal: {e}", p.name()));
    let (t, ta) = sheared(simbox, atoms, [1.1, -0.6, 0.8]);
    check_potential(p, &t, &ta, 1.0, CheckTolerances::default())
        .unwrap_or_else(|e| panic!("{} triclinic: {e}", p.name()));
}

#[test]
fn eam_passes_generic_checks() {
    for evaluator in [EamEvaluator::Kernel, EamEvaluator::FullList] {
        let (simbox, atoms) = perturbed_fcc(3.6, 0.15, 2, 11);
        check_both_boxes(&eam_for("eam", &["Al", "Cu"], evaluator), &simbox, &atoms);
        check_both_boxes(&eam_for("eam/alloy", &["Cu", "Ni"], evaluator), &simbox, &atoms);
        let (simbox, atoms) = perturbed_fcc(4.05, 0.15, 2, 12);
        check_both_boxes(&eam_for("eam/fs", &["Al", "Fe"], evaluator), &simbox, &atoms);
    }
}

#[test]
fn lj_and_zbl_pass_generic_checks() {
    let (simbox, atoms) = perturbed_fcc(5.3, 0.2, 2, 13);
    let lj = LennardJones::new(2, &[(0, 0, 0.0104, 3.4, 8.0), (1, 1, 0.02, 3.6, 8.0)], true).unwrap();
    let zbl = Zbl::new(&[74.0, 4.0], 2.0, 3.0).unwrap();
    for mode in [PairMode::Full, PairMode::Once] {
        check_both_boxes(&Pairwise::with_mode(lj.clone(), mode), &simbox, &atoms);
        let (simbox, atoms) = perturbed_fcc(3.2, 0.2, 2, 14);
        check_both_boxes(&Pairwise::with_mode(zbl.clone(), mode), &simbox, &atoms);
    }
}

#[test]
fn overlay_of_zbl_and_eam_passes_generic_checks_and_adds_up() {
    let (simbox, atoms) = perturbed_fcc(3.6, 0.25, 2, 17);
    let zbl = || Box::new(Pairwise::new(Zbl::new(&[28.0, 29.0], 1.5, 2.3).unwrap())) as Box<dyn Potential>;
    // Beside a full-list potential EAM takes its full-list kernel; the half-list kernel
    // cannot share the list.
    let eam = || Box::new(eam_for("eam/alloy", &["Ni", "Cu"], EamEvaluator::FullList)) as Box<dyn Potential>;
    let half = Box::new(eam_for("eam/alloy", &["Ni", "Cu"], EamEvaluator::Kernel)) as Box<dyn Potential>;
    assert!(Overlay::new(vec![zbl(), half]).is_err());
    let overlay = Overlay::new(vec![zbl(), eam()]).unwrap();
    check_both_boxes(&overlay, &simbox, &atoms);
    let total = evaluate(&overlay, &simbox, &atoms, 1.0).unwrap();
    let parts = [
        evaluate(zbl().as_ref(), &simbox, &atoms, 1.0).unwrap(),
        evaluate(eam().as_ref(), &simbox, &atoms, 1.0).unwrap(),
    ];
    assert!((total.energy - parts[0].energy - parts[1].energy).abs() < 1e-10 * total.energy.abs());
    for (id, f) in &total.forces {
        assert!((f - parts[0].forces[id] - parts[1].forces[id]).norm() < 1e-11 * (1.0 + f.norm()));
    }
}

fn assert_agree(a: &dyn Potential, b: &dyn Potential, simbox: &SimBox, atoms: &Atoms) {
    let ea = evaluate(a, simbox, atoms, 0.7).unwrap();
    let eb = evaluate(b, simbox, atoms, 0.7).unwrap();
    assert!((ea.energy - eb.energy).abs() <= 1e-12 * ea.energy.abs(), "energy {} vs {}", ea.energy, eb.energy);
    for k in 0..6 {
        assert!((ea.virial[k] - eb.virial[k]).abs() <= 1e-11 * (1.0 + ea.virial[k].abs()), "virial {k}");
    }
    for (id, f) in &ea.forces {
        assert!((f - eb.forces[id]).norm() <= 1e-11 * (1.0 + f.norm()), "force on {id}: {f:?} vs {:?}", eb.forces[id]);
    }
}

#[test]
fn half_and_full_lists_agree() {
    let (simbox, atoms) = perturbed_fcc(5.3, 0.2, 2, 15);
    let lj = LennardJones::new(2, &[(0, 0, 0.0104, 3.4, 8.0), (1, 1, 0.02, 3.6, 7.0)], false).unwrap();
    let (t, ta) = sheared(&simbox, &atoms, [0.9, 0.4, -1.2]);
    for (b, a) in [(&simbox, &atoms), (&t, &ta)] {
        let half = Pairwise::with_list(lj.clone(), NeighborKind::Half);
        assert_agree(&Pairwise::with_list(lj.clone(), NeighborKind::Full), &half, b, a);
        assert_agree(&Pairwise::with_mode(lj.clone(), PairMode::Once), &half, b, a);
    }
    // ZBL each pair once against both sides of every pair, inside its switching region too.
    let (simbox, atoms) = perturbed_fcc(3.2, 0.25, 2, 18);
    let zbl = Zbl::new(&[74.0, 4.0], 2.0, 3.0).unwrap();
    let (t, ta) = sheared(&simbox, &atoms, [0.9, 0.4, -1.2]);
    for (b, a) in [(&simbox, &atoms), (&t, &ta)] {
        let full = Pairwise::with_mode(zbl.clone(), PairMode::Full);
        assert_agree(&Pairwise::with_mode(zbl.clone(), PairMode::Once), &full, b, a);
    }
    let (simbox, atoms) = perturbed_fcc(3.6, 0.15, 2, 16);
    let (t, ta) = sheared(&simbox, &atoms, [0.9, 0.4, -1.2]);
    for (b, a) in [(&simbox, &atoms), (&t, &ta)] {
        for (style, names) in [("eam", ["Al", "Cu"]), ("eam/alloy", ["Cu", "Ni"])] {
            for kernel in [EamEvaluator::Kernel, EamEvaluator::FullList] {
                assert_agree(&eam_for(style, &names, kernel), &eam_for(style, &names, EamEvaluator::Reference), b, a);
            }
        }
    }
}

/// ZBL with each pair evaluated once scatters its forces in fixed point: the same bits on
/// one, two and three threads (ranks: `scripts/test-mpi.sh`, the SNAP + ZBL example).
#[test]
fn pairs_once_give_the_same_bits_on_any_thread_count() {
    // 864 atoms: the threads' parts (256 atoms at least) split the rows.
    let (simbox, atoms) = perturbed_fcc_cells(3.2, 0.25, 2, 19, [6, 6, 6]);
    let zbl = Pairwise::with_mode(Zbl::new(&[74.0, 4.0], 2.0, 3.0).unwrap(), PairMode::Once);
    let bits = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
        let e = pool.install(|| evaluate(&zbl, &simbox, &atoms, 0.7).unwrap());
        let mut words = vec![e.energy.to_bits()];
        words.extend(e.virial.iter().map(|v| v.to_bits()));
        words.extend(e.forces.values().flat_map(|f| [f.x.to_bits(), f.y.to_bits(), f.z.to_bits()]));
        words.extend(e.per_atom_energy.values().map(|v| v.to_bits()));
        words
    };
    let one = bits(1);
    assert!(one.len() > 100);
    for n in [2, 3] {
        assert!(bits(n) == one, "bits differ between 1 and {n} threads");
    }
}
