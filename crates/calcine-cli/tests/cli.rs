//! The `calcine` binary end to end: a good run, `validate`, and one test per kind of bad
//! input. Each bad input must give a clear message naming what is wrong (file and line where
//! there is one) and a non-zero exit, never a panic; outputs written before a failure stay
//! complete and readable.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn calcine() -> Command {
    Command::new(env!("CARGO_BIN_EXE_calcine"))
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel).canonicalize().unwrap()
}

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn run(&self, input: &str) -> Output {
        let p = self.write("in.toml", input);
        calcine().arg("--quiet").arg("run").arg(&p).current_dir(self.dir.path()).output().unwrap()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a clean failure whose message contains every one of `needles`.
fn assert_fails_with(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success; stderr:\n{err}");
    assert_eq!(o.status.code(), Some(1), "exit code; stderr:\n{err}");
    assert!(!err.contains("panicked"), "panic instead of an error:\n{err}");
    for n in needles {
        assert!(err.contains(n), "message lacks '{n}':\n{err}");
    }
}

fn cu_input(extra_system: &str, potential: &str, rest: &str) -> String {
    format!("[system]\n{extra_system}\n\n[potential]\n{potential}\n\n{rest}\n")
}

fn lattice_cu() -> &'static str {
    "lattice = \"fcc\"\na = 3.615\ncells = [3, 3, 3]\nspecies = \"Cu\""
}

fn eam_cu() -> String {
    format!("style = \"eam\"\nfiles = {{ Cu = \"{}\" }}", data("potentials/Cu_u3.eam").display())
}

#[test]
fn good_run_writes_thermo_and_trajectory() {
    let c = Case::new();
    let o = c.run(&cu_input(
        lattice_cu(),
        &eam_cu(),
        "[run]\nsteps = 30\ntemperature = 300\n[output]\nthermo_every = 10\ntrajectory = \"t.dump\"\ntrajectory_every = 10",
    ));
    assert!(o.status.success(), "{}", stderr(&o));
    let thermo = std::fs::read_to_string(c.path("thermo.csv")).unwrap();
    assert_eq!(thermo.lines().count(), 1 + 4, "{thermo}");
    let frames = calcine_io::DumpReader::open(c.path("t.dump"), 1).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[3].step, 30);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Loop time of") && stdout.contains("Pair"), "{stdout}");
}

#[test]
fn validate_checks_without_running() {
    let c = Case::new();
    let p = c.write("in.toml", &cu_input(lattice_cu(), &eam_cu(), "[run]\nsteps = 100000000"));
    let o = calcine().arg("validate").arg(&p).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("atoms      108"));
    assert!(!c.path("thermo.csv").exists());
}

/// The bundled examples stay valid inputs (the EAM one is run by `scripts/run-example.sh`).
#[test]
fn bundled_examples_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for (example, atoms, potential) in [("cu-eam", "4000", "eam"), ("w-snap", "1024", "zbl+snap")] {
        let o = calcine().arg("validate").arg(root.join(example).join("input.toml")).output().unwrap();
        assert!(o.status.success(), "{example}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(&format!("atoms      {atoms}")) && out.contains(potential), "{example}: {out}");
    }
}

#[test]
fn malformed_input_names_file_and_line() {
    let c = Case::new();
    let o = c.run("[system]\nlattice = \"fcc\"\na = 3.6.1\n");
    assert_fails_with(&o, &["in.toml:3:"]);
    let o = c.run(&cu_input(lattice_cu(), &eam_cu(), "[run]\nstepz = 10"));
    assert_fails_with(&o, &["in.toml:12:", "unknown field `stepz`"]);
    let o = c.run(&cu_input(lattice_cu(), &eam_cu(), "[run]\ntimestep = -1.0"));
    assert_fails_with(&o, &["in.toml:12:", "timestep must be a positive"]);
}

#[test]
fn malformed_potential_file_names_file_and_line() {
    let c = Case::new();
    let good = std::fs::read_to_string(data("potentials/Cu_u3.eam")).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines[7] = "0.1 0.2 zero 0.4";
    let bad = c.write("bad.eam", &lines.join("\n"));
    let o = c.run(&cu_input(lattice_cu(), &format!("style = \"eam\"\nfiles = {{ Cu = \"{}\" }}", bad.display()), ""));
    assert_fails_with(&o, &["bad.eam:8:"]);
    let truncated = c.write("short.eam", &good.lines().take(20).collect::<Vec<_>>().join("\n"));
    let o =
        c.run(&cu_input(lattice_cu(), &format!("style = \"eam\"\nfiles = {{ Cu = \"{}\" }}", truncated.display()), ""));
    assert_fails_with(&o, &["short.eam"]);
    let o = c.run(&cu_input(lattice_cu(), "style = \"eam/alloy\"\nfile = \"missing.eam.alloy\"", ""));
    assert_fails_with(&o, &["missing.eam.alloy"]);
}

#[test]
fn malformed_snap_files_are_named() {
    let c = Case::new();
    let bcc_ta = "lattice = \"bcc\"\na = 3.316\ncells = [3, 3, 3]\nspecies = \"Ta\"\nmasses = { Ta = 180.88 }";
    let coeff = std::fs::read_to_string(data("potentials/Ta06A.snapcoeff")).unwrap();
    let param = data("potentials/Ta06A.snapparam");
    let snap = |coeff: &Path, param: &Path| {
        format!("style = \"snap\"\ncoeff = \"{}\"\nparam = \"{}\"", coeff.display(), param.display())
    };
    // The good files run.
    let o = c.run(&cu_input(bcc_ta, &snap(&data("potentials/Ta06A.snapcoeff"), &param), "[run]\nsteps = 2"));
    assert!(o.status.success(), "{}", stderr(&o));
    // One coefficient too few for twojmax = 6 (31 per element).
    let mut lines: Vec<&str> = coeff.lines().collect();
    lines.pop();
    let short = c.write("short.snapcoeff", &lines.join("\n"));
    assert_fails_with(&c.run(&cu_input(bcc_ta, &snap(&short, &param), "")), &["short.snapcoeff", "31"]);
    // A coefficient that is not a number names its line.
    let mut lines: Vec<String> = coeff.lines().map(String::from).collect();
    lines[8] = "-0.0113x".into();
    let bad = c.write("bad.snapcoeff", &lines.join("\n"));
    assert_fails_with(&c.run(&cu_input(bcc_ta, &snap(&bad, &param), "")), &["bad.snapcoeff:9"]);
    // An unknown keyword in the parameter file.
    let p = c.write("bad.snapparam", "rcutfac 4.67637\ntwojmax 6\nfrobnicate 1\n");
    assert_fails_with(
        &c.run(&cu_input(bcc_ta, &snap(&data("potentials/Ta06A.snapcoeff"), &p), "")),
        &["bad.snapparam:3", "frobnicate"],
    );
    // A species the coefficient file has no element for.
    let bcc_w = bcc_ta.replace("Ta", "W");
    assert_fails_with(&c.run(&cu_input(&bcc_w, &snap(&data("potentials/Ta06A.snapcoeff"), &param), "")), &["W"]);
    // Neither an include file nor both coefficient and parameter files.
    let o = c.run(&cu_input(bcc_ta, &format!("style = \"snap\"\nparam = \"{}\"", param.display()), ""));
    assert_fails_with(&o, &["in.toml:", "snap needs either file"]);
}

#[test]
fn malformed_structure_file_names_file_and_line() {
    let c = Case::new();
    c.write(
        "s.xyz",
        "2\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\nCu 0 0 0\nCu 1.8 1.8 x\n",
    );
    let o = c.run(&cu_input("file = \"s.xyz\"", &eam_cu(), ""));
    assert_fails_with(&o, &["s.xyz:4:"]);
}

#[test]
fn unknown_species_is_an_error() {
    let c = Case::new();
    c.write(
        "s.xyz",
        "2\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\nCu 0 0 0\nAu 1.8 1.8 0\n",
    );
    let pot = format!("style = \"eam/alloy\"\nfile = \"{}\"", data("potentials/CuNi.eam.alloy").display());
    let o = c.run(&cu_input("file = \"s.xyz\"", &pot, ""));
    assert_fails_with(&o, &["Au", "CuNi.eam.alloy"]);
    let o = c.run(&cu_input("file = \"s.xyz\"", &eam_cu(), ""));
    assert_fails_with(&o, &["no funcfl file for species 'Au'"]);
}

#[test]
fn atoms_too_close_are_an_error() {
    let c = Case::new();
    c.write(
        "s.xyz",
        "2\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\nCu 1 1 1\nCu 1.001 1 1\n",
    );
    let o = c.run(&cu_input("file = \"s.xyz\"", &eam_cu(), ""));
    assert_fails_with(&o, &["atoms 1 and 2", "closer than"]);
}

#[test]
fn non_finite_forces_are_an_error() {
    let c = Case::new();
    let lj = "style = \"lj\"\npairs = [{ species = [\"Cu\", \"Cu\"], epsilon = 1e308, sigma = 2.5, cutoff = 5.0 }]";
    let o = c.run(&cu_input(&format!("{}\nmasses = {{ Cu = 63.5 }}", lattice_cu()), lj, ""));
    assert_fails_with(&o, &["non-finite"]);
}

#[test]
fn absurd_step_is_an_error() {
    let c = Case::new();
    c.write(
        "s.xyz",
        "2\nLattice=\"20 0 0 0 20 0 0 0 20\" Properties=species:S:1:pos:R:3:velo:R:3 pbc=\"T T T\"\nCu 1 1 1 0 0 0\nCu 9 9 9 5000 0 0\n",
    );
    let o = c.run(&cu_input("file = \"s.xyz\"", &eam_cu(), "[run]\nsteps = 10"));
    assert_fails_with(&o, &["atom 2 moved", "in one step"]);
}

#[test]
fn failure_mid_run_keeps_outputs_complete() {
    let c = Case::new();
    // An atom flies out of a box that is not periodic along z; the run stops at a rebuild.
    c.write(
        "s.xyz",
        "3\nLattice=\"20 0 0 0 20 0 0 0 20\" Properties=species:S:1:pos:R:3:velo:R:3 pbc=\"T T F\"\nCu 5 5 5 0 0 0\nCu 15 15 10 0 0 0\nCu 10 10 19 0 0 40\n",
    );
    let o = c.run(&cu_input(
        "file = \"s.xyz\"",
        &eam_cu(),
        "[run]\nsteps = 1000\n[output]\nthermo_every = 5\ntrajectory = \"t.xyz\"\ntrajectory_every = 5",
    ));
    assert_fails_with(&o, &["atom 3 left the box", "non-periodic z boundary", "outputs up to there are complete"]);
    let thermo = std::fs::read_to_string(c.path("thermo.csv")).unwrap();
    let rows: Vec<&str> = thermo.lines().collect();
    assert!(rows.len() > 3, "some thermo rows were written: {thermo}");
    assert!(thermo.ends_with('\n'));
    for r in &rows {
        assert_eq!(r.split(',').count(), 15, "complete row: {r}");
    }
    let mut reader = calcine_io::ExtxyzReader::open(c.path("t.xyz"), calcine_core::SpeciesTable::default())
        .unwrap()
        .allow_new_species();
    let mut n_frames = 0;
    while let Some(f) = reader.read_frame().unwrap() {
        assert_eq!(f.structure.atoms.n_owned(), 3);
        n_frames += 1;
    }
    assert_eq!(n_frames, rows.len() - 1, "one frame per thermo row");
}

/// `calcine descriptors` against LAMMPS `compute sna/atom` (W_2940 parameters, a perturbed
/// 128-atom bcc cell; reference from `scripts/sna_atom_reference.py`).
#[test]
fn descriptors_match_lammps_sna_atom() {
    let c = Case::new();
    let input = format!(
        "[system]\nfile = \"{}\"\nmasses = {{ W = 183.84 }}\n[potential]\nstyle = \"snap\"\nfile = \"{}\"\n",
        data("sna-atom/W_2940_128.xyz").display(),
        data("potentials/W_2940_2017_2.snap").display()
    );
    let p = c.write("sna.toml", &input);
    let o = calcine().arg("descriptors").arg(&p).arg("-o").arg(c.path("sna.csv")).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let ours = std::fs::read_to_string(c.path("sna.csv")).unwrap();
    let reference = std::fs::read_to_string(data("sna-atom/W_2940_128.sna.csv")).unwrap();
    let rows = |text: &str, skip_columns: usize| -> Vec<(u64, Vec<f64>)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("id"))
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].parse().unwrap(), f[skip_columns..].iter().map(|v| v.parse().unwrap()).collect())
            })
            .collect()
    };
    let (ours, reference) = (rows(&ours, 5), rows(&reference, 1));
    assert_eq!(ours.len(), 128);
    assert_eq!(ours.len(), reference.len());
    let mut worst: f64 = 0.0;
    for ((id_a, a), (id_b, b)) in ours.iter().zip(&reference) {
        assert_eq!(id_a, id_b);
        assert_eq!(a.len(), 55);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            // Components range from ~1e-3 to ~200; relative error with a floor of 1e-3.
            worst = worst.max((x - y).abs() / y.abs().max(1e-3));
        }
    }
    assert!(worst < 1e-11, "largest relative difference from LAMMPS: {worst:.2e}");
    eprintln!("descriptors vs LAMMPS compute sna/atom: largest relative difference {worst:.2e}");
}

fn react_toml(extra: &str, precursors: &str) -> String {
    format!(
        "library = \"{}\"\nsize = 9\nrealisations = 2\n{extra}\n[precursors]\n{precursors}\n[[schedule]]\nkind = \"hold\"\ntemperature = 1000\nduration = 1\n",
        data("reactca/batio3_library.json").display()
    )
}

fn react(c: &Case, args: &[&str]) -> Output {
    calcine().arg("--quiet").arg("react").args(args).current_dir(c.dir.path()).output().unwrap()
}

#[test]
fn react_runs_reactca_fixture_and_toml_recipe() {
    let c = Case::new();
    let recipe = data("reactca/batio3_recipe.json");
    let lib = data("reactca/batio3_library.json");
    let o =
        react(&c, &[recipe.to_str().unwrap(), "--library", lib.to_str().unwrap(), "-o", "json", "--realisations", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("BaTiO3") && stdout.contains("cell updates/s"), "{stdout}");
    for f in ["fractions.csv", "summary.csv", "result.json", "slice.csv"] {
        assert!(c.path("json").join(f).is_file(), "{f}");
    }
    let p = c.write("r.toml", &react_toml("", "BaO = 1\nTiO2 = 1"));
    let o = react(&c, &[p.to_str().unwrap(), "-o", "toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(c.path("toml/slice.csv")).unwrap().lines().count(), 1 + 81);
}

/// Issue 12, item 7: malformed recipes, phases missing from the library, unbalanced
/// reactions and compositions that cannot fill the lattice each give a clear message.
#[test]
fn react_reports_bad_inputs() {
    let c = Case::new();
    let run = |name: &str, text: &str| {
        let p = c.write(name, text);
        react(&c, &[p.to_str().unwrap(), "-o", "out"])
    };
    assert_fails_with(
        &run("key.toml", &react_toml("inertia = \"high\"", "BaO = 1\nTiO2 = 1")),
        &["key.toml", "inertia"],
    );
    assert_fails_with(
        &run("unknown.toml", &react_toml("sweeps = 3", "BaO = 1\nTiO2 = 1")),
        &["unknown.toml", "sweeps"],
    );
    assert_fails_with(&run("missing.toml", &react_toml("", "BaO = 1\nSrTiO3 = 1")), &["SrTiO3", "not in the library"]);
    assert_fails_with(
        &run("fill.toml", &react_toml("", "BaO = 1\nTiO2 = 0.0001")),
        &["cannot fill the lattice", "TiO2"],
    );
    let text = std::fs::read_to_string(data("reactca/batio3_library.json")).unwrap().replacen(
        "\"BaTiO3\": 65.57}",
        "\"BaTiO3\": 95.57}",
        1,
    );
    let lib = c.write("lib.json", &text);
    let r = react_toml("", "BaO = 1\nTiO2 = 1")
        .replace(data("reactca/batio3_library.json").to_str().unwrap(), lib.to_str().unwrap());
    assert_fails_with(&run("unbalanced.toml", &r), &["not balanced", "BaTiO3"]);
    let json = data("reactca/batio3_recipe.json");
    assert_fails_with(&react(&c, &[json.to_str().unwrap()]), &["--library"]);
}
