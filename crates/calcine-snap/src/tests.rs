use super::*;
use crate::site::Neighbor;
use calcine_core::rng::{uniform4, Stream};
use calcine_core::Vec3;
use nalgebra::Rotation3;
use std::path::PathBuf;

fn potential(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/potentials").join(file)
}

/// The line and reason of a parse error, or a panic naming what came instead.
fn parse_error<T: std::fmt::Debug>(result: Result<T, PotentialError>) -> (usize, String) {
    match result {
        Err(PotentialError::Parse { line, reason, .. }) => (line, reason),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn assert_parse_error<T: std::fmt::Debug>(result: Result<T, PotentialError>, line: usize, fragment: &str) {
    let (l, reason) = parse_error(result);
    assert_eq!(l, line, "{reason}");
    assert!(reason.contains(fragment), "'{reason}' does not mention '{fragment}'");
}

fn params(text: &str) -> Result<SnapParams, PotentialError> {
    SnapParams::parse(text, "test.snapparam")
}

fn coefficients(text: &str) -> Result<SnapCoeffFile, PotentialError> {
    SnapCoeffFile::parse(text, "test.snapcoeff")
}

#[test]
fn component_counts() {
    assert_eq!([2, 4, 6, 8, 10, 12, 14].map(n_components), [5, 14, 30, 55, 91, 140, 204]);
    assert_eq!(n_components(0), 1);
}

#[test]
fn parameters_have_lammps_defaults() {
    let mo = SnapParams::read(potential("Mo_Chen_PRM2017.snapparam")).unwrap();
    assert_eq!((mo.rcutfac, mo.two_j_max), (4.615858, 6));
    assert_eq!((mo.rfac0, mo.rmin0), (0.99363, 0.0));
    assert!(mo.switching && mo.subtract_bzero);
    assert!(!(mo.quadratic || mo.chem || mo.normalize_b || mo.self_weight_all));
    assert_eq!(mo.inner_switch, None);
    let inp = SnapParams::read(potential("InP_JCPA2020.snapparam")).unwrap();
    assert!(inp.chem && inp.normalize_b && inp.self_weight_all && inp.subtract_bzero && !inp.quadratic);
}

#[test]
fn parameters_read_every_key() {
    let p = params(
        "# every key\nrcutfac 4.5 # comment\ntwojmax 8\nrfac0 0.98\nrmin0 0.1\nswitchflag 0\nbzeroflag 0\n\
         quadraticflag 1\nchemflag 1\nbnormflag 1\nwselfallflag 1\nswitchinnerflag 1\nsinner 1.5 '1.6'\n\
         dinner \"0.3\" 0.4\nchunksize 2000\nparallelthresh 100\n",
    )
    .unwrap();
    assert_eq!((p.rcutfac, p.two_j_max, p.rfac0, p.rmin0), (4.5, 8, 0.98, 0.1));
    assert!(!p.switching && !p.subtract_bzero);
    assert!(p.quadratic && p.chem && p.normalize_b && p.self_weight_all);
    let inner = p.inner_switch.unwrap();
    assert_eq!((inner.sinner, inner.dinner), (vec![1.5, 1.6], vec![0.3, 0.4]));
    assert_eq!((inner.sinner_line, inner.dinner_line), (13, 14));
}

#[test]
fn parameter_errors_name_the_line() {
    let base = "rcutfac 4.5\ntwojmax 6\n";
    let cases = [
        ("rcutfac 4.5\ntwojmax 6\nfoo 1\n", 3, "unknown keyword 'foo'"),
        ("rcutfac 4.5\ntwojmax 6\nrfac0\n", 3, "no value"),
        ("rcutfac 4.5\ntwojmax 6 7\n", 2, "takes one value"),
        ("rcutfac 4.5\ntwojmax 6\nbzeroflag 2\n", 3, "must be 0 or 1"),
        ("rcutfac four\ntwojmax 6\n", 1, "not a number"),
        ("rcutfac 4.5\ntwojmax 6.5\n", 2, "not an integer"),
        ("rcutfac 4.5\ntwojmax -2\n", 2, "twojmax must be in"),
        ("rcutfac -1\ntwojmax 6\n", 1, "rcutfac must be positive"),
        ("rcutfac 4.5\ntwojmax 6\nrfac0 1.5\n", 3, "rfac0"),
        ("rcutfac 4.5\ntwojmax 6\nchunksize 0\n", 3, "chunksize must be positive"),
        ("rcutfac 4.5\n\n", 2, "'twojmax' is missing"),
        ("twojmax 6\n", 1, "'rcutfac' is missing"),
        ("rcutfac 4.5\ntwojmax 6\nsinner 1.0\ndinner 0.2\n", 4, "need switchinnerflag 1"),
        ("rcutfac 4.5\ntwojmax 6\nswitchinnerflag 1\nsinner 1.0\n", 4, "needs 'dinner'"),
        ("rcutfac 4.5\ntwojmax 6\nswitchinnerflag 1\ndinner 1.0\n", 4, "needs 'sinner'"),
        ("rcutfac 4.5\ntwojmax 6\nswitchinnerflag 1\nsinner 1.0\ndinner 0\n", 5, "dinner values must be positive"),
    ];
    assert!(params(base).is_ok());
    for (text, line, fragment) in cases {
        assert_parse_error(params(text), line, fragment);
    }
}

#[test]
fn coefficient_files_read() {
    let ta = SnapCoeffFile::read(potential("Ta06A.snapcoeff")).unwrap();
    assert_eq!((ta.n_coefficients, ta.elements.len(), ta.header_line), (31, 1, 5));
    let el = &ta.elements[0];
    assert_eq!((el.name.as_str(), el.radius, el.weight, el.coefficients[0]), ("Ta", 0.5, 1.0, -2.92477));
    let inp = SnapCoeffFile::read(potential("InP_JCPA2020.snapcoeff")).unwrap();
    assert_eq!(inp.n_coefficients, 241);
    assert_eq!(inp.elements.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["In", "P"]);
    assert_eq!((inp.elements[1].radius, inp.elements[1].weight, inp.elements[1].line), (3.82945, 0.929316, 246));
    assert!(matches!(inp.element("Ga"), Err(PotentialError::UnknownSpecies { .. })));
}

#[test]
fn coefficient_errors_name_the_line() {
    let cases = [
        ("# header\n1\n", 2, "expected 'nelem ncoeff'"),
        ("x 2\n", 1, "nelem: 'x' is not an integer"),
        ("1 0\n", 1, "ncoeff must be positive"),
        ("1 2\nTa 0.5\n", 2, "expected 'element radius weight'"),
        ("1 2\nTa -0.5 1\n", 2, "radius of Ta must be positive"),
        ("1 2\nTa 0.5 1\n1.0 2.0\n", 3, "coefficient 1 of 2 of element Ta alone"),
        ("1 2\nTa 0.5 1\n1.0\nabc\n", 4, "'abc' is not a number"),
        ("1 3\nTa 0.5 1\n1.0\n2.0\n", 4, "unexpected end of file while reading coefficient 3 of 3"),
        ("2 1\nTa 0.5 1\n1.0\nTa 0.5 1\n1.0\n", 4, "element Ta appears twice (first on line 2)"),
        ("2 1\nTa 0.5 1\n1.0\n", 3, "unexpected end of file while reading the header of element block 2"),
    ];
    assert!(coefficients("1 2\n\nTa 0.5 1 # radius, weight\n# β0\n1.0\n 2.0  # B[1]\n").is_ok());
    for (text, line, fragment) in cases {
        assert_parse_error(coefficients(text), line, fragment);
    }
}

#[test]
fn models_check_coefficient_counts_and_elements() {
    let ta = SnapCoeffFile::read(potential("Ta06A.snapcoeff")).unwrap();
    let p = |text: &str| params(text).unwrap();
    assert_eq!(SnapModel::new(&ta, p("rcutfac 4.6\ntwojmax 6"), &["Ta"]).unwrap().n_descriptors, 30);
    assert_parse_error(SnapModel::new(&ta, p("rcutfac 4.6\ntwojmax 8"), &["Ta"]), 5, "needs 1 + 55 = 56");
    assert_parse_error(
        SnapModel::new(&ta, p("rcutfac 4.6\ntwojmax 6\nquadraticflag 1"), &["Ta"]),
        5,
        "31 coefficients per element, but twojmax 6 with quadraticflag 1 and chemflag 0 needs 1 + 30 + 30·31/2 = 496",
    );
    assert!(matches!(
        SnapModel::new(&ta, p("rcutfac 4.6\ntwojmax 6"), &["W"]),
        Err(PotentialError::UnknownSpecies { ref name, .. }) if name == "W"
    ));
    assert!(matches!(
        SnapModel::new(&ta, p("rcutfac 4.6\ntwojmax 6\nrmin0 5"), &["Ta"]),
        Err(PotentialError::Invalid { ref reason, .. }) if reason.contains("rmin0 5 must be below")
    ));
    let inp = SnapCoeffFile::read(potential("InP_JCPA2020.snapcoeff")).unwrap();
    let chem = || SnapParams::read(potential("InP_JCPA2020.snapparam")).unwrap();
    let model = SnapModel::new(&inp, chem(), &["In", "P", "In"]).unwrap();
    assert_eq!((model.n_descriptors, model.species_element.clone()), (240, vec![0, 1, 0]));
    assert!(matches!(
        SnapModel::new(&inp, chem(), &["In"]),
        Err(PotentialError::Invalid { ref reason, .. }) if reason.contains("not mapped: P")
    ));
    assert_parse_error(
        SnapModel::new(&inp, p("rcutfac 1\ntwojmax 4\nchemflag 1"), &["In", "P"]),
        3,
        "twojmax 4 with quadraticflag 0 and chemflag 1 over 2 elements needs 1 + 14·2³ = 113",
    );
    assert_parse_error(
        SnapModel::new(
            &inp,
            p("rcutfac 1\ntwojmax 6\nchemflag 1\nswitchinnerflag 1\nsinner 1\ndinner 1 2"),
            &["In", "P"],
        ),
        5,
        "sinner has 1 values, but 2 elements are mapped (In P)",
    );
    let wbe =
        SnapModel::read(potential("WBe_Wood_PRB2019.snapcoeff"), potential("WBe_Wood_PRB2019.snapparam"), &["Be", "W"])
            .unwrap();
    assert_eq!(wbe.elements.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["Be", "W"]);
    assert_eq!(wbe.max_cutoff(), 2.0 * 0.5 * 4.8123);
}

#[test]
fn include_files_read() {
    let w = SnapInclude::read(potential("W_2940_2017_2.snap")).unwrap();
    assert_eq!(w.type_elements, ["W"]);
    assert_eq!(w.coeff_file, potential("W_2940_2017_2.snapcoeff"));
    assert_eq!(w.zbl, Some(ZblSettings { inner: 4.0, outer: 4.8, z_by_type: vec![74.0] }));
    let wbe = SnapInclude::read(potential("WBe_Wood_PRB2019.snap")).unwrap();
    assert_eq!((wbe.zbl_charge("W").unwrap(), wbe.zbl_charge("Be").unwrap()), (74.0, 4.0));
    let mo = SnapInclude::read(potential("Mo_Chen_PRM2017.snap")).unwrap();
    assert_eq!((mo.type_elements.clone(), mo.zbl.clone()), (vec!["Mo".to_string()], None));
    assert!(mo.build(&["Mo"], Evaluator::Kernel).is_ok());
    let text = "variable a index 1.5\nvariable a index 9\nvariable z string 26\n\
                pair_style hybrid/overlay snap zbl $a 2.0\npair_coeff * * snap c p Fe Fe\n\
                pair_coeff 1* *2 zbl ${z} ${z}\n";
    let fe = SnapInclude::parse(text, "fe.snap", "/pot").unwrap();
    assert_eq!(fe.zbl, Some(ZblSettings { inner: 1.5, outer: 2.0, z_by_type: vec![26.0, 26.0] }));
    assert_eq!(fe.param_file, Path::new("/pot/p"));
}

#[test]
fn include_errors_name_the_line() {
    let snap = "pair_coeff * * snap c p A B\n";
    let cases = [
        ("pair_style snap\nmass 1 1.0\n".to_string(), 2, "command 'mass' is not supported"),
        ("pair_style hybrid/overlay zbl ${x} 4 snap\n".into(), 1, "variable 'x' is not defined"),
        ("pair_style lj/cut 2.5\n".into(), 1, "not a SNAP potential"),
        ("pair_style hybrid/overlay lj/cut 2.5 snap\n".into(), 1, "sub-style 'lj/cut' is not supported"),
        ("pair_style hybrid/overlay zbl 4 snap\n".into(), 1, "zbl: 'snap' is not a number"),
        (
            format!("pair_style hybrid/overlay zbl 4 5 snap\npair_coeff 1 1 zbl 5 5\npair_coeff 1 2 zbl 6 7\n{snap}"),
            3,
            "type 1 gets Z = 6",
        ),
        (format!("pair_style hybrid/overlay zbl 4 5 snap\npair_coeff 1 1 zbl 5 6\n{snap}"), 2, "needs Z_I = Z_J"),
        (format!("pair_style hybrid/overlay zbl 4 5 snap\npair_coeff 1 3 zbl 5 6\n{snap}"), 2, "type range '3'"),
        (format!("pair_style hybrid/overlay zbl 4 5 snap\npair_coeff 1 1 zbl 5 5\n{snap}"), 3, "no Z for type 2"),
        (format!("pair_style hybrid/overlay zbl 4 5 snap\npair_coeff 2 1 zbl 5 5\n{snap}"), 2, "no pair with I <= J"),
        ("pair_style snap\npair_coeff 1 1 c p A\n".into(), 2, "must be 'pair_coeff * * …'"),
        ("pair_style snap\npair_coeff * * c p A NULL\n".into(), 2, "type 2 is NULL"),
        ("pair_coeff * * c p A\n".into(), 1, "pair_coeff before pair_style"),
        ("pair_style snap\n# nothing else\n".into(), 2, "no 'pair_coeff * * snap …' line"),
        ("variable x equal 1 + 2\n".into(), 1, "expected one value"),
        ("pair_style hybrid/overlay zbl 4 5 snap\npair_coeff 1 1\n".into(), 2, "expected 'pair_coeff I J SUB-STYLE …'"),
        (format!("pair_style hybrid/overlay zbl 4 5 snap\n{snap}"), 1, "zbl has no pair_coeff lines"),
    ];
    for (text, line, fragment) in cases {
        assert_parse_error(SnapInclude::parse(&text, "test.snap", "."), line, fragment);
    }
}

#[test]
fn clebsch_gordan_coefficients_are_orthonormal() {
    let basis = Basis::new(6);
    // C^{1 0}_{½ ½, ½ −½} = C^{0 0}_{½ ½, ½ −½} = 1/√2 (Condon–Shortley phases).
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert!((basis.cg_block(1, 1, 2)[2] - h).abs() < 1e-15);
    assert!((basis.cg_block(1, 1, 0)[2] - h).abs() < 1e-15);
    assert!((basis.cg_block(1, 1, 0)[1] + h).abs() < 1e-15);
    for j1 in 0..=6 {
        for j2 in 0..=j1 {
            let js: Vec<usize> = (j1 - j2..=6.min(j1 + j2)).step_by(2).collect();
            for &j in &js {
                for &jp in &js {
                    let (c, cp) = (basis.cg_block(j1, j2, j), basis.cg_block(j1, j2, jp));
                    // Σ over m1, m2 with m1 + m2 = M, for every M (doubled: 2M = 2m1 − j1 + 2m2 − j2).
                    for two_m in (-(j.min(jp) as i64)..=j.min(jp) as i64).step_by(2) {
                        let mut sum = 0.0;
                        for m1 in 0..=j1 {
                            for m2 in 0..=j2 {
                                if (2 * m1 + 2 * m2) as i64 - (j1 + j2) as i64 == two_m {
                                    sum += c[m1 * (j2 + 1) + m2] * cp[m1 * (j2 + 1) + m2];
                                }
                            }
                        }
                        let want = if j == jp { 1.0 } else { 0.0 };
                        assert!((sum - want).abs() < 1e-14, "({j1} {j2}) j = {j}, {jp}, 2M = {two_m}: {sum}");
                    }
                }
            }
        }
    }
}

/// `n` neighbors at pseudo-random positions within 1.2–4.5 Å, elements alternating
/// between 0 and `n_elements − 1`.
fn random_neighbors(model: &SnapModel, n: usize, n_elements: usize, seed: u64) -> Vec<Neighbor> {
    (0..n)
        .map(|k| {
            let u = uniform4(seed, Stream::Test, k as u64, 3);
            let dir = Vec3::new(u[0] - 0.5, u[1] - 0.5, u[2] - 0.5).normalize();
            let r = 1.2 + 3.3 * u[3];
            let element = k % n_elements;
            let inner = model.elements[0]
                .inner
                .zip(model.elements[element].inner)
                .map(|(a, b)| (0.5 * (a.0 + b.0), 0.5 * (a.1 + b.1)));
            let weight = (model.elements[element].weight, model.channel(element));
            Neighbor::new(model, k, dir * r, r, model.pair_cutoff(0, element), weight, inner)
        })
        .collect()
}

fn kernel_descriptors(snap: &Snap, element: usize, neighbors: &[Neighbor]) -> Vec<f64> {
    let mut scratch = kernel::Scratch::default();
    scratch.neighbors(0).extend_from_slice(neighbors);
    snap.kernel().descriptors(&[element], &mut scratch).remove(0)
}

fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    let scale = a.iter().chain(b).fold(0.0f64, |m, x| m.max(x.abs())).max(1.0);
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * scale, "{what}: component {k}: {x} vs {y}");
    }
}

fn models() -> Vec<(&'static str, Snap)> {
    let read = |name: &str, species: &[&str]| {
        Snap::read(potential(&format!("{name}.snapcoeff")), potential(&format!("{name}.snapparam")), species).unwrap()
    };
    vec![
        ("Ta06A", read("Ta06A", &["Ta"])),
        ("W_2940_2017_2", read("W_2940_2017_2", &["W"])),
        ("WBe_Wood_PRB2019", read("WBe_Wood_PRB2019", &["W", "Be"])),
        ("InP_JCPA2020", read("InP_JCPA2020", &["In", "P"])),
    ]
}

#[test]
fn descriptors_are_rotation_and_inversion_invariant_and_agree() {
    let rotation = Rotation3::from_euler_angles(0.3, -1.1, 2.4);
    for (name, snap) in models() {
        let model = snap.model();
        let basis = Basis::new(model.params.two_j_max);
        let n_el = model.elements.len();
        let neighbors = random_neighbors(model, 17, n_el, 5);
        let b = reference::descriptors(model, &basis, 0, &neighbors);
        let moved = |f: &dyn Fn(Vec3) -> Vec3| -> Vec<Neighbor> {
            neighbors.iter().map(|n| Neighbor { d: f(n.d), ..*n }).collect()
        };
        let rotated = reference::descriptors(model, &basis, 0, &moved(&|d| rotation * d));
        let inverted = reference::descriptors(model, &basis, 0, &moved(&|d| -d));
        assert_close(&format!("{name} rotated"), &b, &rotated, 1e-13);
        assert_close(&format!("{name} inverted"), &b, &inverted, 1e-13);
        assert_close(&format!("{name} kernel"), &b, &kernel_descriptors(&snap, 0, &neighbors), 1e-13);
    }
}

#[test]
fn an_isolated_atom_has_the_descriptors_of_the_self_term() {
    for (name, snap) in models() {
        let model = snap.model();
        let basis = Basis::new(model.params.two_j_max);
        // Neighbors beyond the cutoff are not neighbors.
        let b = reference::descriptors(model, &basis, 0, &[]);
        let k = kernel_descriptors(&snap, 0, &[]);
        assert_eq!(b.len(), model.n_descriptors);
        for (t, (x, y)) in b.iter().zip(&k).enumerate() {
            let [_, _, j] = basis.components[t % model.n_components];
            // The self term alone is w_self·δ in the atom's own channel (in every channel
            // with wselfallflag), which gives B(j1, j2, j) = j + 1 (1 with bnormflag) on
            // the triples of those channels: exactly what bzeroflag subtracts.
            let present = t / model.n_components == 0 || model.params.self_weight_all;
            let want = match (model.params.subtract_bzero, present) {
                (false, true) if model.params.normalize_b => 1.0,
                (false, true) => (j + 1) as f64,
                _ => 0.0,
            };
            assert!((x - want).abs() < 1e-13 && (y - want).abs() < 1e-13, "{name} component {t}: {x} {y} vs {want}");
        }
        let (energy, _) = model.energy_and_gradient(0, &b);
        if model.params.subtract_bzero {
            assert!((energy - model.elements[0].beta0).abs() < 1e-12, "{name}");
        }
    }
}
