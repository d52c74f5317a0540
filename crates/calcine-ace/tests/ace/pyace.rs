//! Multi-element ACE potentials against pyace (python-ace 0.4.0rc1), on the structures and
//! values `scripts/ace_pyace_reference.py` wrote into `tests/data/ace/`: four random
//! potentials (two and three elements; every radial basis; distance, density and ZBL
//! inner cutoffs; both embeddings; elements with different ndensity) on a perturbed
//! crystal, a random liquid packing and a crystal with pairs inside the inner cutoffs
//! (220–256 atoms each). The reference values are pyace's product evaluator on the
//! `.yace` file.
//!
//! Bounds: energy 10⁻¹² relative; per-atom energies 10⁻¹², forces and virial components
//! 10⁻¹⁰ relative to max(|value|, 1) (eV, eV/Å), so that components that nearly cancel are
//! held to an absolute bound instead of failing on rounding alone. Most cases agree to
//! 10⁻¹² in forces; AlCuNi-distance (a FinnisSinclair exponent of 0.75, whose derivative
//! |ρ|^−¼ amplifies the rounding of small densities) to 5·10⁻¹¹.

use crate::common::Worst;
use calcine_ace::{Ace, Algorithm, Evaluator};
use calcine_core::{Species, SpeciesTable, Vec3};
use calcine_io::{read_extxyz, Frame};
use calcine_test_support::{data_path, evaluate};

pub const POTENTIALS: [&str; 4] = ["AlNi-distance", "AlCuNi-zbl", "CuNi-density", "AlCuNi-distance"];
pub const STRUCTURES: [&str; 3] = ["crystal", "liquid", "close"];

const ENERGY: f64 = 1e-12;
const ATOM_ENERGY: f64 = 1e-12;
const VIRIAL: f64 = 1e-10;
const FORCE: f64 = 1e-10;

/// One reference case: the structure and pyace's values.
pub struct Case {
    pub name: String,
    pub frame: Frame,
    pub elements: Vec<String>,
    pub energy: f64,
    pub atom_energies: Vec<f64>,
    pub virial: [f64; 6],
    pub forces: Vec<Vec3>,
}

impl Case {
    pub fn read(potential: &str, structure: &str) -> Self {
        let name = format!("{potential}-{structure}");
        let path = data_path(&format!("ace/{name}.xyz"));
        let text = std::fs::read_to_string(&path).expect("reference file reads");
        let header = text.lines().nth(1).expect("a comment line").to_string();
        let value = |key: &str| -> String {
            let start = header.find(&format!(" {key}=")).unwrap_or_else(|| panic!("no {key}")) + key.len() + 2;
            let rest = &header[start..];
            match rest.strip_prefix('"') {
                Some(q) => q[..q.find('"').unwrap()].to_string(),
                None => rest.split_whitespace().next().unwrap().to_string(),
            }
        };
        let numbers = |key: &str| -> Vec<f64> { value(key).split_whitespace().map(|v| v.parse().unwrap()).collect() };
        let elements: Vec<String> = value("elements").split_whitespace().map(str::to_string).collect();
        let species = SpeciesTable::new(elements.iter().map(|e| Species { name: e.clone(), mass: f64::NAN }).collect());
        let frame = read_extxyz(&path, &species).expect("reference file parses");
        Self {
            name,
            energy: numbers("energy")[0],
            atom_energies: numbers("atom_energies"),
            virial: numbers("virial").try_into().unwrap(),
            forces: frame.forces.clone().expect("forces"),
            elements,
            frame,
        }
    }

    pub fn potential_path(&self) -> std::path::PathBuf {
        let potential = self.name.rsplit_once('-').unwrap().0;
        data_path(&format!("ace/{potential}.yace"))
    }
}

/// Compares one evaluation with the case; returns the worst errors (energy, atom energies,
/// virial, forces).
pub fn compare(case: &Case, ace: &Ace) -> [f64; 4] {
    let s = &case.frame.clone().into_structure();
    let eval = evaluate(ace, &s.simbox, &s.atoms, 1.0).expect("evaluates");
    let what = format!("{} ({:?}, {:?})", case.name, ace.evaluator(), ace.algorithm());
    let mut energy = Worst::default();
    energy.check(&format!("{what} energy"), eval.energy, case.energy, ENERGY);
    let scaled = |got: f64, want: f64| (got - want).abs() / want.abs().max(1.0);
    let mut worst = [energy.0, 0.0, 0.0, 0.0];
    for (k, id) in s.atoms.ids.iter().enumerate() {
        let e = scaled(eval.per_atom_energy[&id.0], case.atom_energies[k]);
        assert!(e <= ATOM_ENERGY, "{what} atom {} energy: error {e:.3e}", id.0);
        worst[1] = worst[1].max(e);
        let (got, want) = (eval.forces[&id.0], case.forces[k]);
        for c in 0..3 {
            let e = scaled(got[c], want[c]);
            assert!(
                e <= FORCE,
                "{what} atom {} force {c}: calcine {:.17e}, pyace {:.17e}, error {e:.3e}",
                id.0,
                got[c],
                want[c]
            );
            worst[3] = worst[3].max(e);
        }
    }
    for k in 0..6 {
        let e = scaled(eval.virial[k], case.virial[k]);
        assert!(
            e <= VIRIAL,
            "{what} virial {k}: calcine {:.17e}, pyace {:.17e}, error {e:.3e}",
            eval.virial[k],
            case.virial[k]
        );
        worst[2] = worst[2].max(e);
    }
    worst
}

#[test]
fn random_potentials_match_pyace() {
    for potential in POTENTIALS {
        for structure in STRUCTURES {
            let case = Case::read(potential, structure);
            assert!(case.frame.n_atoms() >= 200, "{}: a small structure", case.name);
            let names: Vec<&str> = case.elements.iter().map(String::as_str).collect();
            let ace = Ace::read(case.potential_path(), &names).expect("potential reads");
            for (evaluator, algorithm) in [
                (Evaluator::Kernel, Algorithm::Recursive),
                (Evaluator::Kernel, Algorithm::Product),
                (Evaluator::Reference, Algorithm::Product),
            ] {
                let ace = ace.clone().with_evaluator(evaluator).with_algorithm(algorithm);
                let w = compare(&case, &ace);
                eprintln!(
                    "{} ({evaluator:?}, {algorithm:?}): worst errors energy {:.1e}, atom energies {:.1e}, virial {:.1e}, forces {:.1e}",
                    case.name, w[0], w[1], w[2], w[3]
                );
            }
        }
    }
}

/// The B-basis `.yaml` of each potential, converted by calcine, is the `.yace` pyace
/// converted it to: the same elements, embeddings and bonds, the same C-tilde functions
/// and m-combinations with coefficients equal to rounding, and the same numbers on the
/// reference structures.
#[test]
fn yaml_gives_the_yace_potential() {
    for potential in POTENTIALS {
        let yaml = calcine_ace::read_model(data_path(&format!("ace/{potential}.yaml"))).expect("yaml reads");
        let yace = calcine_ace::read_model(data_path(&format!("ace/{potential}.yace"))).expect("yace reads");
        assert_eq!(yaml.elements, yace.elements, "{potential}");
        assert_eq!(yaml.embeddings, yace.embeddings, "{potential}");
        assert_eq!(yaml.bonds, yace.bonds, "{potential}");
        assert_eq!(yaml.inner_cutoff, yace.inner_cutoff, "{potential}");
        let mut worst: f64 = 0.0;
        for (mu, (a, b)) in yaml.functions.iter().zip(&yace.functions).enumerate() {
            assert_eq!(a.len(), b.len(), "{potential} element {mu}: number of functions");
            let scale = b.iter().flat_map(|f| f.ctildes.iter()).fold(0.0f64, |m, c| m.max(c.abs()));
            for (k, (f, g)) in a.iter().zip(b).enumerate() {
                assert_eq!(
                    (&f.mus, &f.ns, &f.ls, &f.ms_combs),
                    (&g.mus, &g.ns, &g.ls, &g.ms_combs),
                    "{potential} {mu} {k}"
                );
                for (x, y) in f.ctildes.iter().zip(&g.ctildes) {
                    worst = worst.max((x - y).abs() / scale);
                }
            }
        }
        assert!(worst < 1e-14, "{potential}: c̃ differ by {worst:.2e} of the largest");
        for structure in STRUCTURES {
            let case = Case::read(potential, structure);
            let names: Vec<&str> = case.elements.iter().map(String::as_str).collect();
            let ace = Ace::new(yaml.clone(), &names).unwrap();
            let w = compare(&case, &ace);
            eprintln!(
                "{potential}.yaml on {structure}: c̃ within {worst:.1e}; worst errors energy {:.1e}, forces {:.1e}",
                w[0], w[3]
            );
        }
    }
}
