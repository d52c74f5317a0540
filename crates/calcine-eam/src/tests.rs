use crate::table::{cubic_derivative, cubic_value, Spline};
use crate::{Eam, EamEvaluator, Funcfl, Setfl, SetflKind};
use calcine_core::rng::{uniform4, Stream};
use calcine_core::{AtomId, Atoms, GhostSync, NoGhosts, SpeciesId, Vec3};
use calcine_neighbor::{ListStorage, NeighborList};
use calcine_potential::{ForceInput, ForceOutput, Potential, PotentialError, Want};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn potential(file: &str) -> PathBuf {
    data(&format!("potentials/{file}"))
}

fn al_cu() -> Eam {
    Eam::funcfl(&[potential("Al_jnp.eam"), potential("Cu_u3.eam")], &["Al", "Cu"]).unwrap()
}
fn cu_ni() -> Eam {
    Eam::setfl(potential("CuNi.eam.alloy"), &["Cu", "Ni"]).unwrap()
}
fn al_fe() -> Eam {
    Eam::fs(potential("AlFe_mm.eam.fs"), &["Al", "Fe"]).unwrap()
}

/// Ghosts that are periodic images of owned atoms: `owner[g]` owns ghost `n_owned + g`.
struct Images {
    owner: Vec<usize>,
}

impl GhostSync for Images {
    fn forward(&mut self, v: &mut [f64]) {
        let n_owned = v.len() - self.owner.len();
        for (g, &o) in self.owner.iter().enumerate() {
            v[n_owned + g] = v[o];
        }
    }
    fn reverse_sum(&mut self, v: &mut [f64]) {
        let n_owned = v.len() - self.owner.len();
        for (g, &o) in self.owner.iter().enumerate() {
            v[o] += v[n_owned + g];
        }
    }
    fn reverse_sum_exact(&mut self, v: &mut [i128], width: usize) {
        let n_owned = v.len() / width - self.owner.len();
        for (g, &o) in self.owner.iter().enumerate() {
            for c in 0..width {
                v[width * o + c] += v[width * (n_owned + g) + c];
            }
        }
    }
}

/// Evaluates `pot` with a freshly built list; ghost forces, if any, are summed into owners.
fn evaluate(
    pot: &Eam,
    atoms: &Atoms,
    ghosts: &mut dyn GhostSync,
    owner: &[usize],
) -> Result<ForceOutput, PotentialError> {
    let mut list = NeighborList::new(pot.neighbor_kind(), pot.cutoff(), 1.0);
    // A NaN position stops the list build, as it stops an MD step.
    list.build(atoms).map_err(|e| PotentialError::NonFinite {
        potential: "neighbor list".into(),
        what: "position",
        id: atoms.ids[e.atom_idx].0,
    })?;
    let mut out = ForceOutput::default();
    out.reset(atoms.n_owned(), atoms.n_total(), Want::ALL);
    pot.compute(&ForceInput { atoms, neighbors: &list, want: Want::ALL }, ghosts, &mut out)?;
    if out.ghost_forces {
        for (g, &o) in owner.iter().enumerate() {
            let f = out.forces[atoms.n_owned() + g];
            out.forces[o] += f;
        }
    }
    out.forces.truncate(atoms.n_owned());
    Ok(out)
}

fn evaluate_cluster(pot: &Eam, atoms: &Atoms) -> Result<ForceOutput, PotentialError> {
    evaluate(pot, atoms, &mut NoGhosts, &[])
}

/// An fcc cluster of `cells³` cubic cells, positions jittered by up to `jitter` Å, species
/// alternating between 0 and 1 (or all 0).
fn cluster(cells: usize, a: f64, jitter: f64, two_species: bool, seed: u64) -> Atoms {
    let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let mut atoms = Atoms::new();
    let mut id = 1u64;
    for i in 0..cells {
        for j in 0..cells {
            for k in 0..cells {
                for b in &basis {
                    let u = uniform4(seed, Stream::Test, id, 0);
                    let x = Vec3::new(
                        (i as f64 + b[0]) * a + jitter * (2.0 * u[0] - 1.0),
                        (j as f64 + b[1]) * a + jitter * (2.0 * u[1] - 1.0),
                        (k as f64 + b[2]) * a + jitter * (2.0 * u[2] - 1.0),
                    );
                    let s = if two_species && u[3] < 0.5 { 1 } else { 0 };
                    atoms.push_owned(AtomId(id), SpeciesId(s), x, Vec3::zeros(), [0; 3]);
                    id += 1;
                }
            }
        }
    }
    atoms
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A small valid funcfl text with `n` points per table.
fn funcfl_text(n: usize) -> String {
    let mut s = String::from("test funcfl\n29 63.55 3.615 FCC\n");
    s += &format!("{n} 0.01 {n} 0.01 {}\n", 0.01 * (n - 1) as f64);
    for f in 0..3 {
        let v: Vec<String> = (0..n).map(|k| format!("{}", (k + f) as f64 * 0.1)).collect();
        s += &v.join(" ");
        s += "\n";
    }
    s
}

fn expect_parse(err: PotentialError, path: &Path, line: usize, needle: &str) {
    match &err {
        PotentialError::Parse { path: p, line: l, reason } => {
            assert_eq!(p, path, "{err}");
            assert_eq!(*l, line, "{err}");
            assert!(reason.contains(needle), "'{reason}' does not mention '{needle}'");
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&format!("{}:{line}", path.display())), "{msg}");
}

#[test]
fn parser_reports_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.eam", &funcfl_text(8));
    let f = Funcfl::read(&good).unwrap();
    assert_eq!((f.embedding.len(), f.charge.len(), f.density.len()), (8, 8, 8));
    assert_eq!(f.mass, 63.55);

    let missing = dir.path().join("missing.eam");
    match Funcfl::read(&missing).unwrap_err() {
        PotentialError::Io { path, .. } => assert_eq!(path, missing),
        other => panic!("{other:?}"),
    }

    let bad = write(dir.path(), "bad.eam", &funcfl_text(8).replace("0.30000000000000004", "0.3x"));
    expect_parse(Funcfl::read(&bad).unwrap_err(), &bad, 4, "'0.3x' is not a number");
    let nan = write(dir.path(), "nan.eam", &funcfl_text(8).replacen(" 0.2 ", " nan ", 1));
    expect_parse(Funcfl::read(&nan).unwrap_err(), &nan, 4, "'nan'");

    let mut short_text = funcfl_text(8);
    short_text.truncate(short_text.trim_end().rfind(' ').unwrap());
    let short = write(dir.path(), "short.eam", &short_text);
    expect_parse(Funcfl::read(&short).unwrap_err(), &short, 6, "expected 8 values, found 7");

    let zero = write(dir.path(), "zero.eam", &funcfl_text(8).replacen("8 0.01 8 0.01", "8 0.01 8 0.0", 1));
    expect_parse(Funcfl::read(&zero).unwrap_err(), &zero, 3, "dr = 0 must be positive");
    let tiny = write(dir.path(), "tiny.eam", &funcfl_text(8).replacen("8 0.01 8 0.01", "-8 0.01 8 0.01", 1));
    expect_parse(Funcfl::read(&tiny).unwrap_err(), &tiny, 3, "Nrho = -8");
    let header = write(dir.path(), "header.eam", "comment\n29\n");
    expect_parse(Funcfl::read(&header).unwrap_err(), &header, 2, "end of file");
    let z = write(dir.path(), "z.eam", &funcfl_text(8).replacen("29 63.55", "29.5 63.55", 1));
    expect_parse(Funcfl::read(&z).unwrap_err(), &z, 2, "not an integer");

    // Values may be spread over lines in any way, and header records may continue.
    let spread = funcfl_text(8).replace(" 0.5 ", "\n0.5\n\n").replacen("29 63.55", "29\n 63.55", 1);
    let spread = write(dir.path(), "spread.eam", &spread);
    let g = Funcfl::read(&spread).unwrap();
    assert_eq!((g.embedding, g.charge, g.density), (f.embedding, f.charge, f.density));
}

fn setfl_text(elements: &[&str], n: usize, kind: SetflKind) -> String {
    let mut s = String::from("c1\nc2\nc3\n");
    s += &format!("{} {}\n{n} 0.01 {n} 0.01 {}\n", elements.len(), elements.join(" "), 0.01 * (n - 1) as f64);
    let row = |scale: f64| -> String {
        let v: Vec<String> = (0..n).map(|k| format!("{:?}", scale * (k + 1) as f64)).collect();
        v.join(" ") + "\n"
    };
    for (e, _) in elements.iter().enumerate() {
        s += &format!("{} {} 3.5 fcc\n", 10 + e, 50.0 + e as f64);
        s += &row(-0.1 * (e + 1) as f64);
        let n_rho = if kind == SetflKind::Alloy { 1 } else { elements.len() };
        for k in 0..n_rho {
            s += &row(0.01 * (1 + e * 10 + k) as f64);
        }
    }
    for i in 0..elements.len() {
        for j in 0..=i {
            s += &row(0.5 * (1 + i * 10 + j) as f64);
        }
    }
    s
}

#[test]
fn setfl_parser_and_species_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let alloy = write(dir.path(), "x.eam.alloy", &setfl_text(&["A", "B"], 6, SetflKind::Alloy));
    let f = Setfl::read(&alloy, SetflKind::Alloy).unwrap();
    assert_eq!(f.elements, ["A", "B"]);
    assert_eq!(f.masses, [50.0, 51.0]);
    assert_eq!(f.r_phi.len(), 3);
    assert_eq!(f.r_phi[1][0], 0.5 * 11.0);

    let eam = Eam::setfl(&alloy, &["B", "A", "B"]).unwrap();
    assert_eq!(eam.masses().unwrap(), [51.0, 50.0, 51.0]);
    let t = eam.tables();
    // Density at any atom from a B neighbor is B's function.
    let knot = |scale: f64, m: usize| scale * m as f64;
    assert_eq!(t.density_table(1, 0).knot_value(1), knot(0.01 * 11.0, 1));
    assert_eq!(t.density_table(0, 1).knot_value(3), knot(0.01 * 1.0, 3));
    assert_eq!(t.r_phi_table(0, 1).knot_value(2), 0.5 * 11.0 * 2.0);
    assert_eq!(t.r_phi_table(0, 2).knot_value(2), 0.5 * 12.0 * 2.0);

    match Eam::setfl(&alloy, &["A", "Xx"]).unwrap_err() {
        PotentialError::UnknownSpecies { path, name, available } => {
            assert_eq!((path, name.as_str()), (alloy.clone(), "Xx"));
            assert_eq!(available, ["A", "B"]);
        }
        other => panic!("{other:?}"),
    }

    // Fs: the density at an atom of element I from a neighbor of element J is block J's I-th array.
    let fs = write(dir.path(), "x.eam.fs", &setfl_text(&["A", "B"], 6, SetflKind::FinnisSinclair));
    let eam = Eam::fs(&fs, &["A", "B"]).unwrap();
    let t = eam.tables();
    for (a, b, block, array) in [(0, 0, 0, 0), (1, 0, 0, 1), (0, 1, 1, 0), (1, 1, 1, 1)] {
        assert_eq!(t.density_table(a, b).knot_value(4), knot(0.01 * (1 + block * 10 + array) as f64, 4));
    }
    // Read as an alloy file the same text is misaligned and runs out of values.
    assert!(matches!(Eam::setfl(&fs, &["A"]).unwrap_err(), PotentialError::Parse { .. }));

    let names =
        write(dir.path(), "names.eam.alloy", &setfl_text(&["A", "B"], 6, SetflKind::Alloy).replace("2 A B", "3 A B"));
    expect_parse(Setfl::read(&names, SetflKind::Alloy).unwrap_err(), &names, 4, "expected 3 element names");
    let grid = write(
        dir.path(),
        "grid.eam.alloy",
        &setfl_text(&["A"], 6, SetflKind::Alloy).replace("6 0.01 6 0.01", "6 -0.01 6 0.01"),
    );
    expect_parse(Setfl::read(&grid, SetflKind::Alloy).unwrap_err(), &grid, 5, "drho = -0.01 must be positive");
    assert!(matches!(Eam::funcfl(&[&alloy], &["A", "B"]).unwrap_err(), PotentialError::Config(_)));
}

#[test]
fn tables_reproduce_the_tabulated_values() {
    let file = Setfl::read(potential("CuNi.eam.alloy"), SetflKind::Alloy).unwrap();
    let eam = cu_ni();
    let t = eam.tables();
    // Species 0 is Cu, the file's second element.
    let cu = 1;
    assert_eq!(eam.masses().unwrap(), [file.masses[1], file.masses[0]]);
    for m in 1..=t.nr() {
        assert_eq!(t.density_table(1, 0).knot_value(m).to_bits(), file.density[cu][0][m - 1].to_bits());
        assert_eq!(t.r_phi_table(0, 1).knot_value(m).to_bits(), file.r_phi[1][m - 1].to_bits());
        // The cubic at p = 0 is the knot value, at p = 1 the next one (up to rounding).
        let c = t.density_table(1, 0).row(m);
        assert_eq!(cubic_value(c, 0.0), c[6]);
        if m < t.nr() {
            let next = t.density_table(1, 0).knot_value(m + 1);
            assert!((cubic_value(c, 1.0) - next).abs() <= 1e-14 * next.abs().max(1e-3));
        }
    }
    for m in 1..=t.nrho() {
        assert_eq!(t.embedding_table(0).knot_value(m).to_bits(), file.embedding[cu][m - 1].to_bits());
    }
    // Table lookups at knot positions give the knot values.
    for m in [2usize, 10, 137, 400] {
        let r = (m - 1) as f64 * t.dr();
        let (rho, _) = t.density(0, 0, r);
        let want = file.density[cu][0][m - 1];
        assert!((rho - want).abs() <= 1e-13 * want.abs(), "m {m}: {rho} vs {want}");
    }

    // A single funcfl file re-gridded onto its own grid keeps its values (up to the
    // rounding of r/dr) and, as in LAMMPS, loses its last point: Nr = ⌊(Nr−1)Δr/Δr + ½⌋.
    let f = Funcfl::read(potential("Cu_u3.eam")).unwrap();
    let eam = Eam::funcfl(&[potential("Cu_u3.eam")], &["Cu"]).unwrap();
    let t = eam.tables();
    assert_eq!((t.nr(), t.nrho(), t.dr(), t.cutoff()), (f.density.len() - 1, f.embedding.len() - 1, f.dr, f.cutoff));
    let max_abs = |v: &[f64]| v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    let r_phi: Vec<f64> = f.charge.iter().map(|z| 27.2 * 0.529 * z * z).collect();
    for m in 1..=t.nr() {
        assert!((t.density_table(0, 0).knot_value(m) - f.density[m - 1]).abs() <= 1e-15 * max_abs(&f.density));
        assert!((t.r_phi_table(0, 0).knot_value(m) - r_phi[m - 1]).abs() <= 1e-15 * max_abs(&r_phi));
    }
    for m in 1..=t.nrho() {
        assert!((t.embedding_table(0).knot_value(m) - f.embedding[m - 1]).abs() <= 1e-15 * max_abs(&f.embedding));
    }
}

#[test]
fn spline_matches_lammps_interpolate_on_a_polynomial() {
    // The 5-point slopes are exact for cubics, so the table reproduces one exactly inside.
    let delta = 0.25;
    let f = |x: f64| 1.0 + x * (0.5 - x * (0.25 - 0.125 * x));
    let df = |x: f64| 0.5 - 0.5 * x + 0.375 * x * x;
    let values: Vec<f64> = (0..20).map(|k| f(k as f64 * delta)).collect();
    let s = Spline::new(&values, delta);
    for m in 3..17 {
        for p in [0.0, 0.3, 0.77] {
            let x = (m as f64 - 1.0 + p) * delta;
            assert!((cubic_value(s.row(m), p) - f(x)).abs() < 1e-13);
            assert!((cubic_derivative(s.row(m), p) - df(x)).abs() < 1e-12);
        }
    }
}

/// Largest |a − b| over forces, relative to the largest force.
fn max_force_error(a: &[Vec3], b: &[Vec3]) -> f64 {
    let scale = a.iter().map(|f| f.amax()).fold(0.0, f64::max);
    a.iter().zip(b).map(|(x, y)| (x - y).amax()).fold(0.0, f64::max) / scale
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().min(b.abs())
    }
}

#[test]
fn forces_are_minus_the_energy_gradient() {
    for (pot, a, two) in [(al_cu(), 3.9, true), (cu_ni(), 3.55, true), (al_fe(), 3.7, true), (cu_ni(), 3.3, false)] {
        for evaluator in EVALUATORS {
            let pot = pot.clone().with_evaluator(evaluator);
            let atoms = cluster(2, a, 0.25, two, 7);
            let out = evaluate_cluster(&pot, &atoms).unwrap();
            let h = 1e-5;
            let mut worst = 0.0f64;
            for i in [0, 5, 13, 21, 31] {
                for d in 0..3 {
                    let mut moved = atoms.clone();
                    moved.positions[i][d] += h;
                    let up = evaluate_cluster(&pot, &moved).unwrap().energy.value();
                    moved.positions[i][d] -= 2.0 * h;
                    let down = evaluate_cluster(&pot, &moved).unwrap().energy.value();
                    let fd = -(up - down) / (2.0 * h);
                    worst = worst.max((fd - out.forces[i][d]).abs() / (1.0 + out.forces[i][d].abs()));
                }
            }
            assert!(worst < 1e-6, "{} {evaluator:?}: finite differences off by {worst:e}", pot.name());
        }
    }
}

const EVALUATORS: [EamEvaluator; 3] = [EamEvaluator::Kernel, EamEvaluator::FullList, EamEvaluator::Reference];

#[test]
fn kernels_match_reference() {
    for (pot, a, kernel) in [
        (al_cu(), 3.9, EamEvaluator::Kernel),
        (cu_ni(), 3.55, EamEvaluator::Kernel),
        (al_fe(), 3.7, EamEvaluator::Kernel),
        (al_cu(), 3.9, EamEvaluator::FullList),
        (cu_ni(), 3.55, EamEvaluator::FullList),
        (al_fe(), 3.7, EamEvaluator::FullList),
    ] {
        let atoms = cluster(4, a, 0.3, true, 11);
        let k = evaluate_cluster(&pot.clone().with_evaluator(kernel), &atoms).unwrap();
        let r = evaluate_cluster(&pot.clone().with_evaluator(EamEvaluator::Reference), &atoms).unwrap();
        assert!(!k.ghost_forces && r.ghost_forces);
        assert!(rel(k.energy.value(), r.energy.value()) < 1e-12, "{}", pot.name());
        for c in 0..6 {
            assert!(rel(k.virial[c].value(), r.virial[c].value()) < 1e-12, "{} virial {c}", pot.name());
        }
        let e = max_force_error(&k.forces, &r.forces);
        assert!(e < 1e-12, "{}: forces differ by {e:e}", pot.name());
        for (pk, pr) in k.per_atom_energy.iter().zip(&r.per_atom_energy) {
            // Absolute for near-zero energies, where F(ρ) and ½Σφ cancel.
            assert!((pk - pr).abs() < 1e-12 * pk.abs().max(1.0), "per-atom energy {pk} vs {pr}");
        }
        let total: f64 = k.per_atom_energy.iter().sum();
        assert!(rel(total, k.energy.value()) < 1e-12);
        // Per-atom virials: the same halves of the same pair terms, and they add up to the
        // virial (each kernel's own, and the reference's).
        for (vk, vr) in k.per_atom_virial.iter().zip(&r.per_atom_virial) {
            for c in 0..6 {
                assert!((vk[c] - vr[c]).abs() < 1e-12 * vk[c].abs().max(1.0), "per-atom virial {vk:?} vs {vr:?}");
            }
        }
        for out in [&k, &r] {
            for c in 0..6 {
                let total: f64 = out.per_atom_virial.iter().map(|v| v[c]).sum();
                assert!(
                    (total - out.virial[c].value()).abs() < 1e-12 * out.virial[c].value().abs().max(1.0),
                    "{} per-atom virials {c} add up to {total}, the virial is {}",
                    pot.name(),
                    out.virial[c].value()
                );
            }
        }
    }
}

#[test]
fn kernels_are_independent_of_the_thread_count() {
    for kernel in [EamEvaluator::Kernel, EamEvaluator::FullList] {
        let pot = cu_ni().with_evaluator(kernel);
        let atoms = cluster(7, 3.55, 0.2, true, 3);
        assert!(atoms.n_owned() > 4 * 128);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| evaluate_cluster(&pot, &atoms).unwrap())
        };
        same_bits(&run(1), &run(2), &format!("{kernel:?}, 2 threads"));
        same_bits(&run(1), &run(3), &format!("{kernel:?}, 3 threads"));
    }
}

/// Asserts that two outputs have the same bits (energy, virial, forces, per-atom energies).
fn same_bits(one: &ForceOutput, other: &ForceOutput, what: &str) {
    assert_eq!(one.energy.to_parts(), other.energy.to_parts(), "{what}: energy");
    for c in 0..6 {
        assert_eq!(one.virial[c].to_parts(), other.virial[c].to_parts(), "{what}: virial {c}");
    }
    assert_eq!(one.forces.len(), other.forces.len());
    for (a, b) in one.forces.iter().zip(&other.forces) {
        assert_eq!(
            [a.x.to_bits(), a.y.to_bits(), a.z.to_bits()],
            [b.x.to_bits(), b.y.to_bits(), b.z.to_bits()],
            "{what}"
        );
    }
    let bits = |v: &[f64]| v.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.per_atom_energy), bits(&other.per_atom_energy), "{what}: per-atom energies");
    let bits6 = |v: &[[f64; 6]]| v.iter().map(|w| w.map(f64::to_bits)).collect::<Vec<_>>();
    assert_eq!(bits6(&one.per_atom_virial), bits6(&other.per_atom_virial), "{what}: per-atom virials");
}

/// Packed and plain neighbor rows hold the same neighbors in the same order, so the kernel
/// gives the same bits on either (with one species and with two, with periodic ghosts).
#[test]
fn kernels_give_the_same_bits_on_packed_and_plain_lists() {
    for (pot, two, kernel) in [
        (cu_ni(), true, EamEvaluator::Kernel),
        (Eam::funcfl(&[potential("Cu_u3.eam")], &["Cu"]).unwrap(), false, EamEvaluator::Kernel),
        (cu_ni(), true, EamEvaluator::FullList),
        (Eam::funcfl(&[potential("Cu_u3.eam")], &["Cu"]).unwrap(), false, EamEvaluator::FullList),
    ] {
        let pot = pot.with_evaluator(kernel);
        let mut atoms = cluster(4, 3.55, 0.25, two, 11);
        // Periodic images along x as ghosts, so that rows mix owned atoms and ghosts.
        let n = atoms.n_owned();
        for i in 0..n {
            let x = atoms.positions[i];
            if x.x < 6.0 {
                atoms.push_ghost(atoms.ids[i], atoms.species[i], x + Vec3::new(4.0 * 3.55, 0.0, 0.0));
            }
        }
        let run = |packed: bool| {
            let mut list = NeighborList::new(pot.neighbor_kind(), pot.cutoff(), 1.0);
            list.set_storage(if packed { ListStorage::Packed } else { ListStorage::Plain });
            list.build(&atoms).unwrap();
            assert_eq!(list.is_packed(), packed);
            let mut out = ForceOutput::default();
            out.reset(atoms.n_owned(), atoms.n_total(), Want::ALL);
            let mut fp_owner = Images { owner: (0..atoms.n_ghost()).map(|g| ghost_owner(&atoms, g)).collect() };
            pot.compute(&ForceInput { atoms: &atoms, neighbors: &list, want: Want::ALL }, &mut fp_owner, &mut out)
                .unwrap();
            out
        };
        let (packed, plain) = (run(true), run(false));
        assert_eq!(packed.energy.value().to_bits(), plain.energy.value().to_bits());
        for c in 0..6 {
            assert_eq!(packed.virial[c].value().to_bits(), plain.virial[c].value().to_bits());
        }
        for (a, b) in packed.forces.iter().zip(&plain.forces) {
            assert_eq!([a.x.to_bits(), a.y.to_bits(), a.z.to_bits()], [b.x.to_bits(), b.y.to_bits(), b.z.to_bits()]);
        }
        assert!(packed.forces[..n].iter().any(|f| f.norm() > 0.1));
    }
}

fn ghost_owner(atoms: &Atoms, g: usize) -> usize {
    let id = atoms.ids[atoms.n_owned() + g];
    (0..atoms.n_owned()).find(|&i| atoms.ids[i] == id).expect("owner")
}

#[test]
fn forces_do_not_depend_on_what_else_is_wanted() {
    for (pot, two, kernel) in [
        (cu_ni(), true, EamEvaluator::Kernel),
        (Eam::funcfl(&[potential("Cu_u3.eam")], &["Cu"]).unwrap(), false, EamEvaluator::Kernel),
        (cu_ni(), true, EamEvaluator::FullList),
        (Eam::funcfl(&[potential("Cu_u3.eam")], &["Cu"]).unwrap(), false, EamEvaluator::FullList),
    ] {
        let pot = pot.with_evaluator(kernel);
        let atoms = cluster(3, 3.55, 0.3, two, 5);
        let mut list = NeighborList::new(pot.neighbor_kind(), pot.cutoff(), 1.0);
        list.build(&atoms).unwrap();
        let run = |want: Want| {
            let mut out = ForceOutput::default();
            out.reset(atoms.n_owned(), atoms.n_total(), want);
            pot.compute(&ForceInput { atoms: &atoms, neighbors: &list, want }, &mut NoGhosts, &mut out).unwrap();
            out
        };
        let all = run(Want::ALL);
        let bare = run(Want::FORCES_ONLY);
        assert_eq!(bare.energy.value(), 0.0);
        for (a, b) in all.forces.iter().zip(&bare.forces) {
            assert_eq!([a.x.to_bits(), a.y.to_bits(), a.z.to_bits()], [b.x.to_bits(), b.y.to_bits(), b.z.to_bits()]);
        }
        // Per-atom virials alone, or with the rest, change neither the forces nor the virial.
        let atom_virials = run(Want { per_atom_virial: true, ..Want::FORCES_ONLY });
        let no_atom_virials = run(Want { per_atom_virial: false, ..Want::ALL });
        assert_eq!(atom_virials.virial[0].value(), 0.0);
        for (a, b) in atom_virials.forces.iter().zip(&bare.forces) {
            assert_eq!([a.x.to_bits(), a.y.to_bits(), a.z.to_bits()], [b.x.to_bits(), b.y.to_bits(), b.z.to_bits()]);
        }
        for c in 0..6 {
            assert_eq!(all.virial[c].to_parts(), no_atom_virials.virial[c].to_parts());
        }
        let bits6 = |v: &[[f64; 6]]| v.iter().map(|w| w.map(f64::to_bits)).collect::<Vec<_>>();
        assert_eq!(bits6(&all.per_atom_virial), bits6(&atom_virials.per_atom_virial));
    }
}

#[test]
fn species_sharing_a_file_share_its_tables() {
    // Two species on the same funcfl file: the multi-species kernel path must give the
    // single-species bits.
    let cu = potential("Cu_u3.eam");
    let one = Eam::funcfl(&[&cu], &["Cu"]).unwrap();
    let two = Eam::funcfl(&[&cu, &cu], &["Cu", "Cu2"]).unwrap();
    assert_eq!(two.masses().unwrap(), [63.55, 63.55]);
    let mixed = cluster(3, 3.6, 0.2, true, 9);
    let mut plain = mixed.clone();
    plain.species.iter_mut().for_each(|s| *s = SpeciesId(0));
    assert!(mixed.species.iter().any(|s| s.0 == 1));
    for evaluator in EVALUATORS {
        let a = evaluate_cluster(&one.clone().with_evaluator(evaluator), &plain).unwrap();
        let b = evaluate_cluster(&two.clone().with_evaluator(evaluator), &mixed).unwrap();
        assert_eq!(a.energy.value().to_bits(), b.energy.value().to_bits());
        assert_eq!(a.forces, b.forces);
    }
}

#[test]
fn embedding_is_extended_linearly_above_the_table() {
    let eam = cu_ni();
    let t = eam.tables();
    let top = t.rhomax();
    let (f1, fp1) = t.embedding(0, top + 0.5);
    let (f2, fp2) = t.embedding(0, top + 1.5);
    assert_eq!(fp1, fp2);
    assert!((f2 - f1 - fp1).abs() < 1e-12 * f1.abs().max(1.0));
    // Below the table end the cubic is used as is.
    let (m, p) = crate::table::density_point(0.3 * top, t.rdrho(), t.nrho());
    assert_eq!(t.embedding(0, 0.3 * top).0, cubic_value(t.embedding_table(0).row(m), p));
}

#[test]
fn ghosts_without_their_owners_values_are_reported() {
    // The periodic system with a GhostSync that does nothing: ghost F′ stays unknown.
    let (atoms, owner) = metal_system();
    for evaluator in EVALUATORS {
        let err = evaluate(&cu_ni().with_evaluator(evaluator), &atoms, &mut NoGhosts, &owner).unwrap_err();
        assert!(matches!(err, PotentialError::NonFinite { what: "force", .. }), "{evaluator:?}: {err:?}");
    }
}

#[test]
fn close_pairs_and_bad_positions_are_errors() {
    for evaluator in EVALUATORS {
        let pot = Eam::funcfl(&[potential("Cu_u3.eam")], &["Cu"]).unwrap().with_evaluator(evaluator);
        let mut atoms = cluster(2, 3.6, 0.0, false, 1);
        atoms.positions[7] = atoms.positions[3] + Vec3::new(0.003, 0.004, 0.0);
        match evaluate_cluster(&pot, &atoms).unwrap_err() {
            PotentialError::TooClose { id_i, id_j, distance, min_distance, .. } => {
                let mut ids = [id_i, id_j];
                ids.sort();
                assert_eq!(ids, [4, 8]);
                assert!((distance - 0.005).abs() < 1e-12 && min_distance == pot.tables().dr());
            }
            other => panic!("{other:?}"),
        }
        let mut atoms = cluster(2, 3.6, 0.0, false, 1);
        atoms.positions[5].y = f64::NAN;
        let err = evaluate_cluster(&pot, &atoms).unwrap_err();
        assert!(matches!(err, PotentialError::NonFinite { what: "position", id: 6, .. }), "{err:?}");
    }
    // Species the potential was not built for.
    let mut atoms = cluster(2, 3.6, 0.0, false, 1);
    atoms.species[3] = SpeciesId(2);
    assert!(matches!(evaluate_cluster(&cu_ni(), &atoms).unwrap_err(), PotentialError::Config(_)));
}

/// The LAMMPS unit-test configuration: 32 owned atoms of data.metal and their periodic
/// images within ±2 boxes as ghosts.
fn metal_system() -> (Atoms, Vec<usize>) {
    let text = std::fs::read_to_string(data("lammps-unittest/data.metal")).unwrap();
    let mut atoms = Atoms::new();
    let mut in_atoms = false;
    for line in text.lines() {
        if line.starts_with("Atoms") {
            in_atoms = true;
            continue;
        }
        if in_atoms && line.starts_with("Velocities") {
            break;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        if in_atoms && w.len() >= 5 {
            let id: u64 = w[0].parse().unwrap();
            let ty: u32 = w[1].parse().unwrap();
            let x = Vec3::new(w[2].parse().unwrap(), w[3].parse().unwrap(), w[4].parse().unwrap());
            atoms.push_owned(AtomId(id), SpeciesId(ty - 1), x, Vec3::zeros(), [0; 3]);
        }
    }
    assert_eq!(atoms.n_owned(), 32);
    let l = 7.0;
    let mut owner = Vec::new();
    for ix in -2i32..=2 {
        for iy in -2i32..=2 {
            for iz in -2i32..=2 {
                if (ix, iy, iz) == (0, 0, 0) {
                    continue;
                }
                let shift = Vec3::new(ix as f64 * l, iy as f64 * l, iz as f64 * l);
                for i in 0..32 {
                    atoms.push_ghost(atoms.ids[i], atoms.species[i], atoms.positions[i] + shift);
                    owner.push(i);
                }
            }
        }
    }
    (atoms, owner)
}

/// `init_vdwl`, `init_stress` and `init_forces` (by id) of a LAMMPS force-style YAML file.
struct Reference {
    epsilon: f64,
    energy: f64,
    stress: [f64; 6],
    forces: Vec<(u64, Vec3)>,
}

fn read_reference(name: &str) -> Reference {
    let text = std::fs::read_to_string(data(&format!("lammps-unittest/{name}"))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let value = |key: &str| -> &str {
        let line = lines.iter().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("{key} missing"));
        line[key.len()..].trim()
    };
    let block = |key: &str| -> Vec<Vec<f64>> {
        let start = lines.iter().position(|l| l.starts_with(key)).unwrap() + 1;
        lines[start..]
            .iter()
            .take_while(|l| l.starts_with(' '))
            .map(|l| l.split_whitespace().map(|w| w.parse().unwrap()).collect())
            .collect()
    };
    let stress = block("init_stress:");
    Reference {
        epsilon: value("epsilon:").parse().unwrap(),
        energy: value("init_vdwl:").parse().unwrap(),
        stress: std::array::from_fn(|k| stress[0][k]),
        forces: block("init_forces:").iter().map(|r| (r[0] as u64, Vec3::new(r[1], r[2], r[3]))).collect(),
    }
}

/// Compares with the LAMMPS test harness's measure |a − b| / min(|a|, |b|); returns the
/// largest relative errors of energy, stress and forces.
fn compare_with_lammps(pot: &Eam, yaml: &str, masses: &[f64]) -> [f64; 3] {
    let reference = read_reference(yaml);
    let (atoms, owner) = metal_system();
    let out = evaluate(pot, &atoms, &mut Images { owner: owner.clone() }, &owner).unwrap();
    assert_eq!(pot.masses().unwrap(), masses);
    let e_err = rel(out.energy.value(), reference.energy);
    let s_err = (0..6).map(|k| rel(out.virial[k].value(), reference.stress[k])).fold(0.0, f64::max);
    let mut f_err = 0.0f64;
    for (id, f) in &reference.forces {
        let i = atoms.ids.iter().position(|x| x.0 == *id).unwrap();
        for d in 0..3 {
            f_err = f_err.max(rel(out.forces[i][d], f[d]));
        }
    }
    let eps = reference.epsilon;
    assert!(
        e_err <= eps && s_err <= eps && f_err <= eps,
        "{yaml} {:?}: energy {e_err:e}, stress {s_err:e}, forces {f_err:e}",
        pot.evaluator()
    );
    [e_err, s_err, f_err]
}

#[test]
fn matches_lammps_eam() {
    for evaluator in EVALUATORS {
        let errors = compare_with_lammps(&al_cu().with_evaluator(evaluator), "atomic-pair-eam.yaml", &[26.982, 63.55]);
        eprintln!("eam {evaluator:?}: {:.2e} {:.2e} {:.2e}", errors[0], errors[1], errors[2]);
    }
}

#[test]
fn matches_lammps_eam_alloy() {
    for evaluator in EVALUATORS {
        let errors =
            compare_with_lammps(&cu_ni().with_evaluator(evaluator), "atomic-pair-eam_alloy.yaml", &[63.546, 58.689]);
        eprintln!("eam/alloy {evaluator:?}: {:.2e} {:.2e} {:.2e}", errors[0], errors[1], errors[2]);
    }
}

#[test]
fn matches_lammps_eam_fs() {
    for evaluator in EVALUATORS {
        let errors =
            compare_with_lammps(&al_fe().with_evaluator(evaluator), "atomic-pair-eam_fs.yaml", &[26.98154, 55.845]);
        eprintln!("eam/fs {evaluator:?}: {:.2e} {:.2e} {:.2e}", errors[0], errors[1], errors[2]);
    }
}

/// Simulated ranks: each rank runs on its own thread, and a `Board` shared by all stands in
/// for the halo exchanges, matching ghosts to owners by `AtomId`.
struct Board {
    barrier: std::sync::Barrier,
    values: std::sync::Mutex<std::collections::HashMap<u64, f64>>,
    words: std::sync::Mutex<std::collections::HashMap<u64, Vec<i128>>>,
}

/// One simulated rank's view of the board.
struct RankSync<'a> {
    board: &'a Board,
    atoms: &'a Atoms,
}

impl RankSync<'_> {
    /// Waits for every rank; the last one to arrive runs `clear` before anyone goes on.
    fn sync_and_clear(&self) {
        if self.board.barrier.wait().is_leader() {
            self.board.values.lock().unwrap().clear();
            self.board.words.lock().unwrap().clear();
        }
        self.board.barrier.wait();
    }
}

impl GhostSync for RankSync<'_> {
    fn forward(&mut self, v: &mut [f64]) {
        let n_owned = self.atoms.n_owned();
        {
            let mut values = self.board.values.lock().unwrap();
            for i in 0..n_owned {
                values.insert(self.atoms.ids[i].0, v[i]);
            }
        }
        self.board.barrier.wait();
        {
            let values = self.board.values.lock().unwrap();
            for g in n_owned..self.atoms.n_total() {
                v[g] = values[&self.atoms.ids[g].0];
            }
        }
        self.sync_and_clear();
    }
    fn reverse_sum(&mut self, _v: &mut [f64]) {
        unreachable!("the kernels reverse-sum in fixed point only")
    }
    fn reverse_sum_exact(&mut self, v: &mut [i128], width: usize) {
        let n_owned = self.atoms.n_owned();
        {
            let mut words = self.board.words.lock().unwrap();
            for g in n_owned..self.atoms.n_total() {
                let sum = words.entry(self.atoms.ids[g].0).or_insert_with(|| vec![0; width]);
                for c in 0..width {
                    sum[c] += v[width * g + c];
                }
            }
        }
        self.board.barrier.wait();
        {
            let words = self.board.words.lock().unwrap();
            for i in 0..n_owned {
                if let Some(sum) = words.get(&self.atoms.ids[i].0) {
                    for c in 0..width {
                        v[width * i + c] += sum[c];
                    }
                }
            }
        }
        self.sync_and_clear();
    }
}

/// The atoms of slab `lo..hi` (in x) of a periodic cube of side `l`: the atoms inside as
/// owned, and as ghosts every other periodic image (shifts of −1, 0, 1 box lengths) within
/// `reach` of the slab in x. Image positions are computed the same way on every rank.
fn slab(whole: &Atoms, l: f64, lo: f64, hi: f64, reach: f64) -> Atoms {
    let inside = |x: &Vec3| x.x >= lo && x.x < hi;
    let mut atoms = Atoms::new();
    for i in (0..whole.n_owned()).filter(|&i| inside(&whole.positions[i])) {
        atoms.push_owned(whole.ids[i], whole.species[i], whole.positions[i], Vec3::zeros(), [0; 3]);
    }
    // Ghosts in reverse id order, so that storage order differs from the owned atoms'.
    for i in (0..whole.n_owned()).rev() {
        for n in 0..27 {
            let s = [n % 3, n / 3 % 3, n / 9].map(|k| k as f64 - 1.0);
            let x = whole.positions[i] + Vec3::new(s[0] * l, s[1] * l, s[2] * l);
            if (s != [0.0; 3] || !inside(&x)) && x.x >= lo - reach && x.x < hi + reach {
                atoms.push_ghost(whole.ids[i], whole.species[i], x);
            }
        }
    }
    atoms
}

/// Evaluates the periodic cube `whole` split into `ranks` slabs along x, `threads` threads
/// per rank; returns the total energy and virial and the forces and per-atom energies by id.
fn evaluate_on_ranks(pot: &Eam, whole: &Atoms, l: f64, ranks: usize, threads: usize) -> ForceOutput {
    let reach = pot.cutoff() + 1.0;
    let board =
        Board { barrier: std::sync::Barrier::new(ranks), values: Default::default(), words: Default::default() };
    let parts: Vec<(Atoms, ForceOutput)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..ranks)
            .map(|r| {
                let board = &board;
                scope.spawn(move || {
                    // Each rank has its own potential (a shared one would share its scratch
                    // lock across ranks that wait for each other).
                    let pot = pot.clone();
                    let (lo, hi) = (r as f64 * l / ranks as f64, (r + 1) as f64 * l / ranks as f64);
                    let atoms = slab(whole, l, lo, hi, reach);
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let out = pool.install(|| {
                        let mut list = NeighborList::new(pot.neighbor_kind(), pot.cutoff(), 1.0);
                        list.build(&atoms).unwrap();
                        let mut out = ForceOutput::default();
                        out.reset(atoms.n_owned(), atoms.n_total(), Want::ALL);
                        let mut sync = RankSync { board, atoms: &atoms };
                        pot.compute(
                            &ForceInput { atoms: &atoms, neighbors: &list, want: Want::ALL },
                            &mut sync,
                            &mut out,
                        )
                        .unwrap();
                        out
                    });
                    (atoms, out)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Reassemble in id order (ids are 1..=n).
    let n = whole.n_owned();
    let mut total = ForceOutput::default();
    total.reset(n, n, Want::ALL);
    for (atoms, out) in &parts {
        assert!(!out.ghost_forces);
        total.energy.merge(&out.energy);
        for c in 0..6 {
            total.virial[c].merge(&out.virial[c]);
        }
        for i in 0..atoms.n_owned() {
            let k = atoms.ids[i].0 as usize - 1;
            total.forces[k] = out.forces[i];
            total.per_atom_energy[k] = out.per_atom_energy[i];
            total.per_atom_virial[k] = out.per_atom_virial[i];
        }
    }
    total
}

/// The kernels give the same bits, energy, virial, every force and per-atom energy, when a
/// periodic crystal is split into 1, 2 or 3 simulated ranks with 1 or 2 threads each; and
/// the half-list kernel agrees with the full-list kernel to round-off.
#[test]
fn kernels_give_the_same_bits_on_any_decomposition() {
    let a = 3.55;
    let cells = 5;
    let l = cells as f64 * a;
    for (pot, two) in [(cu_ni(), true), (Eam::funcfl(&[potential("Cu_u3.eam")], &["Cu"]).unwrap(), false)] {
        // A jittered crystal wrapped into the cube.
        let mut whole = cluster(cells, a, 0.3, two, 21);
        for x in whole.positions.iter_mut() {
            for d in 0..3 {
                x[d] = x[d].rem_euclid(l);
            }
        }
        let mut results = Vec::new();
        for kernel in [EamEvaluator::Kernel, EamEvaluator::FullList] {
            let pot = pot.clone().with_evaluator(kernel);
            let one = evaluate_on_ranks(&pot, &whole, l, 1, 1);
            for (ranks, threads) in [(1, 2), (2, 1), (3, 1), (3, 2)] {
                let other = evaluate_on_ranks(&pot, &whole, l, ranks, threads);
                same_bits(&one, &other, &format!("{} {kernel:?} on {ranks} ranks x {threads} threads", pot.name()));
            }
            results.push(one);
        }
        let (half, full) = (&results[0], &results[1]);
        assert!(rel(half.energy.value(), full.energy.value()) < 1e-12);
        for c in 0..6 {
            assert!(rel(half.virial[c].value(), full.virial[c].value()) < 1e-11, "virial {c}");
        }
        let e = max_force_error(&half.forces, &full.forces);
        assert!(e < 1e-12, "forces differ by {e:e}");
        // Per-atom virials of periodic images reach their owners through the reverse sum.
        for (vh, vf) in half.per_atom_virial.iter().zip(&full.per_atom_virial) {
            for c in 0..6 {
                assert!((vh[c] - vf[c]).abs() < 1e-12 * vh[c].abs().max(1.0), "per-atom virial {vh:?} vs {vf:?}");
            }
        }
        for c in 0..6 {
            let total: f64 = half.per_atom_virial.iter().map(|v| v[c]).sum();
            assert!(rel(total, half.virial[c].value()) < 1e-11, "per-atom virials {c} add up to {total}");
        }
        // The rounding differs between the two kernels, so the bits do.
        assert!(half.forces.iter().zip(&full.forces).any(|(x, y)| x != y));
    }
}
