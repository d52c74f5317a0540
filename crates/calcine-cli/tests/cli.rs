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
    /// Runs `input` in this case's folder, replacing an earlier run's outputs there.
    fn run(&self, input: &str) -> Output {
        self.run_with(input, &["--overwrite"])
    }
    fn run_with(&self, input: &str, options: &[&str]) -> Output {
        let p = self.write("in.toml", input);
        calcine().arg("--quiet").arg("run").args(options).arg(&p).current_dir(self.dir.path()).output().unwrap()
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
    let cu = calcine_core::SpeciesTable::new(vec![calcine_core::Species { name: "Cu".into(), mass: 63.55 }]);
    let frames = calcine_io::DumpReader::open(c.path("t.dump"), cu).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[3].step, Some(30));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Loop time of") && stdout.contains("Pair"), "{stdout}");
}

#[test]
fn a_run_draws_its_thermo_and_plots_false_changes_nothing_else() {
    let rest = "[run]\nsteps = 40\ntemperature = 300\n[output]\nthermo_every = 10";
    let drawn = Case::new();
    let o = drawn.run(&cu_input(lattice_cu(), &eam_cu(), rest));
    assert!(o.status.success(), "{}", stderr(&o));
    let image = calcine_plot::Image::read_png(&drawn.path("thermo.png")).unwrap();
    assert_eq!((image.width, image.height), (1440, 420));
    // Temperature, the two energies and the two pressures, each in its panel and colour.
    let panel = |k: u32| (k * 480, 0);
    let ends = |k: u32| ((k + 1) * 480, image.height);
    for (k, colours) in [(0, vec![3]), (1, vec![0, 1]), (2, vec![2, 4])] {
        for c in colours {
            let n = image.count(calcine_plot::curve_colour(c), panel(k), ends(k));
            assert!(n > 100, "panel {k}, curve colour {c}: {n} pixels");
        }
    }
    let plain = Case::new();
    let o = plain.run(&cu_input(lattice_cu(), &eam_cu(), &format!("{rest}\nplots = false")));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!plain.path("thermo.png").exists());
    let read = |c: &Case| std::fs::read(c.path("thermo.csv")).unwrap();
    assert!(read(&drawn) == read(&plain), "the chart changed the thermo");
    // The chart is an output: a new run does not replace it without --overwrite.
    let o = drawn.run_with(&cu_input(lattice_cu(), &eam_cu(), rest), &[]);
    assert_fails_with(&o, &["thermo.png"]);
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
    for (example, atoms, potential) in
        [("cu-eam", "4000", "eam"), ("w-snap", "1024", "zbl+snap"), ("cu-ace", "864", "ace")]
    {
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
        assert_eq!(r.split(',').count(), 16, "complete row: {r}");
    }
    let mut reader = calcine_io::ExtxyzReader::open(c.path("t.xyz"), calcine_core::SpeciesTable::default())
        .unwrap()
        .allow_new_species();
    let mut n_frames = 0;
    while let Some(f) = reader.read_frame().unwrap() {
        assert_eq!(f.n_atoms(), 3);
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

/// Runs `validate` and `run` on the same input; both must fail with every needle in their
/// message (exit code 1, no panic).
fn assert_both_refuse(c: &Case, input: &str, needles: &[&str]) {
    let p = c.write("in.toml", input);
    let validate = calcine().arg("validate").arg(&p).current_dir(c.dir.path()).output().unwrap();
    assert_fails_with(&validate, needles);
    let run =
        calcine().arg("--quiet").arg("run").arg("--overwrite").arg(&p).current_dir(c.dir.path()).output().unwrap();
    assert_fails_with(&run, needles);
}

/// Runs the command and returns its output and its peak resident memory in kB, measured
/// by the kernel for this child alone (`wait4`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
// The child is reaped by wait4, which `Child` does not know about.
#[allow(clippy::zombie_processes)]
fn output_with_peak_rss(cmd: &mut Command) -> (Output, i64) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // The outputs of these cases are short: read them after the child ends.
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, zeroed before the call; wait4 waits for our own child
    // and fills both out-parameters.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 on the child");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    let status = std::os::unix::process::ExitStatusExt::from_raw(if code >= 0 { code << 8 } else { status });
    (Output { status, stdout: out, stderr: err }, usage.ru_maxrss)
}

/// Refused by both commands, and without allocating more than `max_mb` MB on the way.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn assert_both_refuse_small(c: &Case, input: &str, needles: &[&str], max_mb: i64) {
    let p = c.write("in.toml", input);
    for command in ["validate", "run"] {
        let (o, peak_kb) = output_with_peak_rss(calcine().arg(command).arg(&p).current_dir(c.dir.path()));
        // (Nothing is written before these are refused, so no --overwrite is needed.)
        assert_fails_with(&o, needles);
        assert!(peak_kb < max_mb * 1024, "{command}: peak resident memory {peak_kb} kB (limit {max_mb} MB)");
        eprintln!("{command}: refused at a peak of {:.1} MB: {}", peak_kb as f64 / 1024.0, stderr(&o).trim());
    }
}

#[test]
fn overlapping_atoms_are_refused_by_validate_and_run() {
    let c = Case::new();
    c.write(
        "s.xyz",
        "3\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\nAr 1 1 1\nAr 5 5 5\nAr 5.02 5 5\n",
    );
    let lj = "style = \"lj\"\npairs = [{ species = [\"Ar\", \"Ar\"], epsilon = 0.0104, sigma = 3.4, cutoff = 4.0 }]";
    let input = format!("[system]\nfile = \"s.xyz\"\nmasses = {{ Ar = 39.95 }}\n[potential]\n{lj}\n");
    assert_both_refuse(&c, &input, &["setting up the run", "atoms 2 and 3 are 0.0200 Å apart", "they overlap"]);
}

#[test]
fn unsupported_trajectory_extension_is_refused_by_validate_and_run() {
    let c = Case::new();
    let input = cu_input(lattice_cu(), &eam_cu(), "[output]\ntrajectory = \"traj.pdb\"");
    assert_both_refuse(&c, &input, &["in.toml:12:", "trajectory 'traj.pdb': unknown format", ".dump/.lammpstrj"]);
}

#[test]
fn negative_max_step_displacement_is_refused_by_validate_and_run() {
    let c = Case::new();
    let input = cu_input(lattice_cu(), &eam_cu(), "[run]\nmax_step_displacement = -0.5");
    assert_both_refuse(&c, &input, &["in.toml:12:", "max_step_displacement must be a positive distance", "-0.5"]);
}

#[test]
fn unwritable_output_directory_is_refused_by_validate_and_run() {
    let c = Case::new();
    c.write("taken", "a file where the output folder should go");
    let input = cu_input(lattice_cu(), &eam_cu(), "[output]\ndirectory = \"taken/run1\"");
    assert_both_refuse(&c, &input, &["in.toml:12:", "output folder 'taken/run1' cannot be made", "is a file"]);
    assert!(!c.path("thermo.csv").exists());
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn atom_counts_that_overflow_are_refused_without_allocating() {
    let c = Case::new();
    let lattice = "lattice = \"fcc\"\na = 3.615\ncells = [100000000000, 100000000000, 100000000000]\nspecies = \"Cu\"";
    assert_both_refuse_small(&c, &cu_input(lattice, &eam_cu(), ""), &["in.toml:4:", "2^64 atoms", "overflows"], 64);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn systems_too_large_for_memory_are_refused_with_the_estimate() {
    let c = Case::new();
    let lattice = "lattice = \"fcc\"\na = 3.615\ncells = [2000, 2000, 2000]\nspecies = \"Cu\"";
    let needles = ["the run needs about", "3.20e10 atoms", "available"];
    assert_both_refuse_small(&c, &cu_input(lattice, &eam_cu(), ""), &needles, 64);
    // A cutoff of a million Å: the ghost shell and the neighbor lists are the problem.
    let lj = "style = \"lj\"\npairs = [{ species = [\"Cu\", \"Cu\"], epsilon = 0.4, sigma = 2.3, cutoff = 1e6 }]";
    let input = cu_input(&format!("{}\nmasses = {{ Cu = 63.5 }}", lattice_cu()), lj, "");
    assert_both_refuse_small(&c, &input, &["the run needs about", "neighbors per atom", "available"], 64);
}

#[test]
fn an_xyz_count_smaller_than_its_atoms_is_refused_by_validate_and_run() {
    let c = Case::new();
    c.write(
        "s.xyz",
        "2\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\nCu 0 0 0\nCu 1.8 1.8 0\nCu 0 1.8 1.8\n",
    );
    let input = cu_input("file = \"s.xyz\"", &eam_cu(), "");
    assert_both_refuse(&c, &input, &["s.xyz:5:", "declares 2 atoms, but more atom lines follow"]);
}

#[test]
fn zero_threads_is_an_error() {
    let c = Case::new();
    let p = c.write("in.toml", &cu_input(lattice_cu(), &eam_cu(), "[run]\nsteps = 2"));
    for command in ["validate", "run"] {
        let o = calcine().args(["--threads", "0", command]).arg(&p).current_dir(c.dir.path()).output().unwrap();
        assert!(!o.status.success(), "{command} accepted --threads 0");
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert!(stderr(&o).contains("a run needs at least 1 thread"), "{}", stderr(&o));
    }
}

#[test]
fn a_closed_or_full_stdout_never_panics() {
    let c = Case::new();
    let p = c.write("in.toml", &cu_input(lattice_cu(), &eam_cu(), "[run]\nsteps = 20\n[output]\nthermo_every = 10"));
    for command in ["validate", "run"] {
        // A full device: every write fails with ENOSPC.
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let args: &[&str] = if command == "run" { &["run", "--overwrite"] } else { &["validate"] };
        let o = calcine().args(args).arg(&p).current_dir(c.dir.path()).stdout(full).output().unwrap();
        assert!(o.status.success(), "{command} to /dev/full: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        // A closed pipe (`| head -c 0`): every write fails with EPIPE.
        let mut child = calcine()
            .args(args)
            .arg(&p)
            .current_dir(c.dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{command} into a closed pipe: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(c.path("thermo.csv")).unwrap().lines().count(), 1 + 3);
}

#[test]
fn each_os_error_appears_once() {
    let c = Case::new();
    let cases = [
        cu_input("file = \"missing.xyz\"", &eam_cu(), ""),
        cu_input(lattice_cu(), "style = \"eam/alloy\"\nfile = \"missing.eam.alloy\"", ""),
    ];
    for input in cases {
        let o = c.run(&input);
        let err = stderr(&o);
        assert_fails_with(&o, &["No such file or directory"]);
        assert_eq!(err.matches("No such file or directory").count(), 1, "repeated cause: {err}");
    }
    let o = calcine().arg("validate").arg(c.path("nothing.toml")).output().unwrap();
    assert_fails_with(&o, &["nothing.toml", "cannot read the input file"]);
    assert_eq!(stderr(&o).matches("No such file or directory").count(), 1, "{}", stderr(&o));
}

#[test]
fn every_run_writes_a_machine_readable_summary() {
    let c = Case::new();
    let o =
        c.run(&cu_input(lattice_cu(), &eam_cu(), "[run]\nsteps = 20\ntemperature = 300\n[output]\nthermo_every = 10"));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(c.path("run.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["status"], "completed");
    assert_eq!(json["atoms"], 108);
    assert_eq!(json["steps"], 20);
    assert_eq!(json["ranks"], 1);
    assert_eq!(json["inputs_sha256"].as_str().unwrap().len(), 64);
    assert!(json["loop_s"].as_f64().unwrap() > 0.0 && json["atom_steps_per_s"].as_f64().unwrap() > 0.0);
    assert!(json["memory"]["peak_rss_bytes"].as_u64().unwrap() > 0);
    // The machine, with what a bare model name leaves out (on Linux x86, family and model).
    let identity = json["machine"]["cpu_identity"].as_str().unwrap();
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        assert!(identity.starts_with("family ") && identity.contains(" model "), "{identity}");
    }
    // The final thermo is the last row of the thermo file, to the last digit.
    let thermo = std::fs::read_to_string(c.path("thermo.csv")).unwrap();
    let last: Vec<f64> = thermo.lines().last().unwrap().split(',').map(|v| v.parse().unwrap()).collect();
    assert_eq!(json["final_thermo"]["pe_eV"].as_f64().unwrap(), last[3]);
    assert_eq!(json["final_thermo"]["step"].as_f64().unwrap(), 20.0);
    // A failed run says so, with its error.
    c.write(
        "s.xyz",
        "2\nLattice=\"20 0 0 0 20 0 0 0 20\" Properties=species:S:1:pos:R:3:velo:R:3 pbc=\"T T T\"\nCu 1 1 1 0 0 0\nCu 9 9 9 5000 0 0\n",
    );
    let o = c.run(&cu_input("file = \"s.xyz\"", &eam_cu(), "[run]\nsteps = 10"));
    assert!(!o.status.success());
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(c.path("run.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "failed");
    assert!(json["error"].as_str().unwrap().contains("atom 2 moved"), "{json}");
}

/// A hot Langevin EAM crystal whose atoms cross the box often, with checkpoints.
fn restart_input(steps: u64, checkpoint_every: &str) -> String {
    cu_input(
        lattice_cu(),
        &eam_cu(),
        &format!(
            "[run]\nsteps = {steps}\ntimestep = 0.002\ntemperature = 2500\nseed = 5\n[integrator]\nstyle = \"langevin\"\ntemperature = 2000\n[neighbor]\nskin = 0.4\n[output]\nthermo_every = 10\ntrajectory = \"t.dump\"\ntrajectory_every = 25\n{checkpoint_every}"
        ),
    )
}

#[test]
fn a_resumed_run_is_byte_identical_to_an_uninterrupted_one() {
    let whole = Case::new();
    assert!(whole.run(&restart_input(300, "")).status.success());
    for threads in ["1", "2"] {
        let c = Case::new();
        // Stopped at step 140 (checkpoints every 40 steps: the last at 120), then resumed.
        let o = c.run(&restart_input(140, "checkpoint_every = 40"));
        assert!(o.status.success(), "{}", stderr(&o));
        let p = c.write("in.toml", &restart_input(300, "checkpoint_every = 40"));
        let o = calcine()
            .args(["--quiet", "--threads", threads, "run", "--resume"])
            .arg(&p)
            .current_dir(c.dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        for file in ["thermo.csv", "t.dump"] {
            let (a, b) = (std::fs::read(whole.path(file)).unwrap(), std::fs::read(c.path(file)).unwrap());
            assert!(a == b, "{file} of the resumed run ({threads} threads) differs from the uninterrupted run");
        }
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(c.path("run.json")).unwrap()).unwrap();
        assert_eq!((json["status"].as_str(), json["resumed_from"].as_u64()), (Some("completed"), Some(120)));
    }
}

#[test]
fn a_run_does_not_replace_another_runs_outputs_unless_told() {
    let c = Case::new();
    let input = cu_input(lattice_cu(), &eam_cu(), "[run]\nsteps = 5");
    assert!(c.run_with(&input, &[]).status.success());
    let before = std::fs::read(c.path("thermo.csv")).unwrap();
    let o = c.run_with(&input, &[]);
    assert_fails_with(&o, &["already holds a run's outputs", "thermo.csv", "--resume", "--overwrite"]);
    assert_eq!(std::fs::read(c.path("thermo.csv")).unwrap(), before, "the refused run changed the thermo");
    assert!(c.run_with(&input, &["--overwrite"]).status.success());
}

#[test]
fn resuming_needs_a_checkpoint_of_the_same_input() {
    let c = Case::new();
    let o = c.run_with(&restart_input(60, "checkpoint_every = 20"), &["--resume"]);
    assert_fails_with(&o, &["nothing to resume", "checkpoint.ckpt does not exist"]);
    assert!(c.run(&restart_input(50, "checkpoint_every = 20")).status.success());
    // Another thermostat temperature: the run would not continue the same trajectory.
    let other = restart_input(100, "checkpoint_every = 20").replace("temperature = 2000", "temperature = 1000");
    let o = c.run_with(&other, &["--resume"]);
    assert_fails_with(&o, &["belongs to a different input", "integrator: checkpoint 'Langevin", "temperature: 1000"]);
    // A damaged checkpoint.
    let ckpt = c.path("checkpoint.ckpt");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..bytes.len() / 2]).unwrap();
    let o = c.run_with(&restart_input(100, "checkpoint_every = 20"), &["--resume"]);
    assert_fails_with(&o, &["checkpoint.ckpt: cannot continue from this checkpoint", "truncated or damaged"]);
    // A run that is already done.
    std::fs::write(&ckpt, &bytes).unwrap();
    let o = c.run_with(&restart_input(40, "checkpoint_every = 20"), &["--resume"]);
    assert_fails_with(&o, &["nothing to resume: the checkpoint is at step 40, and the input asks for 40 steps"]);
}

#[test]
fn a_second_run_into_a_locked_folder_is_refused() {
    let c = Case::new();
    let p = c.write("in.toml", &restart_input(100000, ""));
    let mut first = calcine().args(["--quiet", "run"]).arg(&p).current_dir(c.dir.path()).spawn().unwrap();
    // Wait until the first run has taken the lock and started writing.
    let thermo = c.path("thermo.csv");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&thermo).map_or(0, |t| t.lines().count()) < 3 {
        assert!(start.elapsed().as_secs() < 60, "the first run did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = calcine().args(["--quiet", "run", "--overwrite"]).arg(&p).current_dir(c.dir.path()).output().unwrap();
    assert_fails_with(&second, &["another calcine run is writing into this folder"]);
    // SIGTERM: the first run stops after its step, writes a checkpoint and its summary.
    let status = Command::new("kill").args(["-TERM", &first.id().to_string()]).status().unwrap();
    assert!(status.success());
    let status = first.wait().unwrap();
    assert_eq!(status.code(), Some(143), "exit status after SIGTERM");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(c.path("run.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "interrupted");
    assert!(c.path("checkpoint.ckpt").exists());
    let rows = std::fs::read_to_string(&thermo).unwrap();
    assert!(rows.lines().skip(1).all(|r| r.split(',').count() == 16), "complete rows");
    // The lock died with the run: it can be resumed.
    let o = c.run_with(&restart_input(100000, "").replace("steps = 100000", "steps = 1"), &["--resume"]);
    assert_fails_with(&o, &["nothing to resume: the checkpoint is at step"]);
}

#[test]
fn a_full_disk_leaves_every_output_readable() {
    // Files may not grow past 256 kB (as on a full disk; SIGXFSZ ignored, so writes fail
    // with EFBIG). The trajectory reaches the limit first, in the middle of a frame.
    let c = Case::new();
    let input = restart_input(2000, "").replace("trajectory = \"t.dump\"", "trajectory = \"t.xyz\"");
    let p = c.write("in.toml", &input);
    let script = "trap '' XFSZ; ulimit -f 256; exec \"$0\" \"$@\"";
    let o = Command::new("bash")
        .args(["-c", script, env!("CARGO_BIN_EXE_calcine"), "--quiet", "run"])
        .arg(&p)
        .current_dir(c.dir.path())
        .output()
        .unwrap();
    assert_fails_with(&o, &["t.xyz", "File too large", "outputs up to there are complete"]);
    let size = std::fs::metadata(c.path("t.xyz")).unwrap().len();
    assert!(size > 100_000 && size <= 256 * 1024, "the trajectory grew to {size} bytes");
    // Every frame on disk is whole: the file reads to its end.
    let mut reader = calcine_io::ExtxyzReader::open(c.path("t.xyz"), calcine_core::SpeciesTable::default())
        .unwrap()
        .allow_new_species();
    let mut frames = 0;
    while let Some(frame) = reader.read_frame().unwrap() {
        assert_eq!(frame.n_atoms(), 108);
        frames += 1;
    }
    assert!(frames > 5, "{frames} frames");
    let thermo = std::fs::read_to_string(c.path("thermo.csv")).unwrap();
    assert!(thermo.ends_with('\n') && thermo.lines().skip(1).all(|r| r.split(',').count() == 16));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(c.path("run.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "failed");
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
    for f in ["fractions.csv", "summary.csv", "result.json", "slice.csv", "fractions.png", "slice.png"] {
        assert!(c.path("json").join(f).is_file(), "{f}");
    }
    let p = c.write("r.toml", &react_toml("", "BaO = 1\nTiO2 = 1"));
    let o = react(&c, &[p.to_str().unwrap(), "-o", "toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(c.path("toml/slice.csv")).unwrap().lines().count(), 1 + 81);
    let png = calcine_plot::Image::read_png(&c.path("toml/fractions.png")).unwrap();
    assert_eq!((png.width, png.height), (960, 600));
    // No charts with plots = false in the recipe, or with --no-plots.
    let p = c.write("bare.toml", &react_toml("plots = false", "BaO = 1\nTiO2 = 1"));
    let o = react(&c, &[p.to_str().unwrap(), "-o", "bare"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = react(
        &c,
        &[
            recipe.to_str().unwrap(),
            "--library",
            lib.to_str().unwrap(),
            "-o",
            "flag",
            "--no-plots",
            "--realisations",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for dir in ["bare", "flag"] {
        assert!(c.path(dir).join("slice.csv").is_file());
        assert!(!c.path(dir).join("slice.png").exists() && !c.path(dir).join("fractions.png").exists(), "{dir}");
    }
    let same = std::fs::read(c.path("toml/result.json")).unwrap() == std::fs::read(c.path("bare/result.json")).unwrap();
    assert!(same, "result.json depends on plots");
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

#[test]
fn an_h5md_trajectory_resumes_to_the_frames_of_an_uninterrupted_run() {
    let input = |steps| restart_input(steps, "checkpoint_every = 40").replace("t.dump", "t.h5");
    let whole = Case::new();
    assert!(whole.run(&input(300)).status.success());
    let c = Case::new();
    assert!(c.run(&input(150)).status.success());
    let o = c.run_with(&input(300), &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let frames = |case: &Case| -> Vec<calcine_io::Frame> {
        let mut r = calcine_io::open_frames(case.path("t.h5"), calcine_core::SpeciesTable::default()).unwrap();
        std::iter::from_fn(|| r.read_frame().unwrap()).collect()
    };
    let (a, b) = (frames(&whole), frames(&c));
    assert_eq!(a.len(), 13);
    assert_eq!(a, b, "the resumed H5MD trajectory differs from the uninterrupted one");
}

#[test]
fn outputs_a_lammps_user_expects() {
    let c = Case::new();
    // Ni appears first in the file; types puts Cu first, as the dump's type 1.
    c.write(
        "s.xyz",
        "4\nLattice=\"7.2 0 0 0 7.2 0 0 0 7.2\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\nNi 0 0 0\nCu 1.8 1.8 0\nCu 1.8 0 1.8\nNi 0 1.8 1.8\n",
    );
    let pot = format!(
        "style = \"hybrid/overlay\"\nmembers = [{{ style = \"eam/alloy\", file = \"{}\" }}]",
        data("potentials/CuNi.eam.alloy").display()
    );
    let input = cu_input(
        "file = \"s.xyz\"\ntypes = [\"Cu\", \"Ni\"]",
        &pot,
        "[run]\nsteps = 10\ntemperature = 300\n[output]\nthermo_every = 5\ntrajectory = \"t.dump\"\ntrajectory_every = 7\ntrajectory_energies = true",
    );
    let o = c.run(&input);
    assert!(o.status.success(), "{}", stderr(&o));
    let dump = std::fs::read_to_string(c.path("t.dump")).unwrap();
    assert!(dump.contains("ITEM: ATOMS id type element x y z vx vy vz fx fy fz ix iy iz c_pe"), "{dump}");
    assert!(dump.lines().any(|l| l.starts_with("1 2 Ni ")) && dump.lines().any(|l| l.starts_with("2 1 Cu ")), "{dump}");
    // Frames at 0, 7 and the last step, 10; per-atom energies add up to the thermo's PE.
    let steps: Vec<&str> = dump.lines().skip_while(|l| *l != "ITEM: TIMESTEP").skip(1).step_by(13).collect();
    assert_eq!(steps, vec!["0", "7", "10"], "{dump}");
    let thermo = std::fs::read_to_string(c.path("thermo.csv")).unwrap();
    let header: Vec<&str> = thermo.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let last: Vec<f64> = thermo.lines().last().unwrap().split(',').map(|v| v.parse().unwrap()).collect();
    let pe_sum: f64 =
        dump.lines().rev().take(4).map(|l| l.split_whitespace().last().unwrap().parse::<f64>().unwrap()).sum();
    assert!((pe_sum - last[col("pe_eV")]).abs() < 1e-12, "per-atom energies {pe_sum} vs PE {}", last[col("pe_eV")]);
    // The pair part of the pressure: the total less the kinetic part N k T / V.
    let (p, v, t) = (last[col("press_bar")], last[col("volume_A3")], last[col("temp_K")]);
    // 3N − 3 degrees of freedom (N = 4), LAMMPS metal units (boltz, nktv2p).
    let kinetic = 9.0 * 8.617343e-5 * t / (3.0 * v) * 1.6021765e6;
    let pair = last[col("press_pair_bar")];
    assert!((p - kinetic - pair).abs() < 1e-6 * p.abs().max(1.0), "pair pressure {pair}, total {p}, kinetic {kinetic}");
}

#[test]
fn inspect_reports_what_a_trajectory_holds() {
    let dump = data("lammps-dump/wrapped.dump");
    let o = calcine().args(["inspect", "--json", "--types", "Ar"]).arg(&dump).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let scan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(scan["frames"], 9);
    assert_eq!(scan["atoms"], 108);
    assert_eq!(scan["species"]["Ar"], 108);
    assert_eq!((scan["first_step"].as_u64(), scan["last_step"].as_u64()), (Some(0), Some(400)));
    assert_eq!(scan["positions"], "wrapped");
    assert_eq!((scan["images"].as_bool(), scan["box_changes"].as_bool()), (Some(true), Some(false)));
    // Text, with type names made up when none are given.
    let o = calcine().args(["--quiet", "inspect"]).arg(data("lammps-dump/unwrapped.dump")).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("9 frame(s) of 108 atoms (108 type1)"), "{text}");
    assert!(text.contains("Columns: unwrapped positions"), "{text}");
    // An empty file and a missing one are errors.
    let c = Case::new();
    let empty = c.write("empty.xyz", "");
    assert_fails_with(&calcine().arg("inspect").arg(&empty).output().unwrap(), &["empty.xyz holds no frame"]);
    assert_fails_with(&calcine().arg("inspect").arg(c.path("none.dump")).output().unwrap(), &["none.dump"]);
}

fn run_json(c: &Case) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(c.path("run.json")).unwrap()).unwrap()
}

#[test]
fn neighbor_rebuild_policy_follows_lammps_every_delay_check() {
    // every 10, no check: a build every 10 steps exactly, and no dangerous ones.
    let c = Case::new();
    let o = c.run(&restart_input(100, "").replace("skin = 0.4", "skin = 0.4\nevery = 10\ncheck = false"));
    assert!(o.status.success(), "{}", stderr(&o));
    let json = run_json(&c);
    assert_eq!((json["neighbor_builds"].as_u64(), json["dangerous_builds"].as_u64()), (Some(11), Some(0)));
    // A delay far longer than an atom takes to cross half the skin at 2000 K: every build
    // comes on the first step allowed, and LAMMPS would call each dangerous.
    let o = c.run(&restart_input(200, "").replace("skin = 0.4", "skin = 0.4\ndelay = 40"));
    assert!(o.status.success(), "{}", stderr(&o));
    let json = run_json(&c);
    let builds = json["neighbor_builds"].as_u64().unwrap();
    assert_eq!(builds, 1 + 200 / 40);
    assert_eq!(json["dangerous_builds"].as_u64(), Some(builds - 1));
    // The default checks every step: nothing is dangerous.
    let o = c.run(&restart_input(200, ""));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(run_json(&c)["dangerous_builds"].as_u64(), Some(0));
    assert_both_refuse(
        &c,
        &restart_input(10, "").replace("skin = 0.4", "skin = 0.4\nevery = 0"),
        &["every must be >= 1"],
    );
}

#[test]
fn a_resumed_run_keeps_the_rebuild_delay() {
    // The checkpoint (step 120) falls between builds: the resumed run must count the
    // delay from the last build before it, as the uninterrupted run does.
    let policy = |text: String| text.replace("skin = 0.4", "skin = 0.4\nevery = 3\ndelay = 7");
    let whole = Case::new();
    assert!(whole.run(&policy(restart_input(300, ""))).status.success());
    let c = Case::new();
    let o = c.run(&policy(restart_input(140, "checkpoint_every = 40")));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = c.run_with(&policy(restart_input(300, "checkpoint_every = 40")), &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["thermo.csv", "t.dump"] {
        let (a, b) = (std::fs::read(whole.path(file)).unwrap(), std::fs::read(c.path(file)).unwrap());
        assert!(a == b, "{file} of the resumed run differs from the uninterrupted run");
    }
    assert_eq!(run_json(&c)["neighbor_builds"], run_json(&whole)["neighbor_builds"]);
}

/// Per-atom virials as trajectory columns: the same values in a dump (`c_virial[1..6]`),
/// extended XYZ (`virial:R:6`) and H5MD (`h5md_fields` with "virial",
/// `particles/all/virial`), whose traces add up to the thermo's pair pressure; an H5MD
/// trajectory asked for them through `trajectory_virials` is refused with the key to use.
#[test]
fn per_atom_virials_are_trajectory_columns() {
    let c = Case::new();
    let run = |trajectory: &str, key: &str| {
        let input = cu_input(
            lattice_cu(),
            &eam_cu(),
            &format!(
                "[run]\nsteps = 6\ntemperature = 600\n[output]\nthermo = \"{trajectory}.csv\"\nthermo_every = 3\ntrajectory = \"{trajectory}\"\ntrajectory_every = 3\n{key}"
            ),
        );
        let o = c.run(&input);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    run("t.dump", "trajectory_virials = true");
    run("t.xyz", "trajectory_virials = true");
    run("t.h5", "h5md_fields = [\"velocity\", \"virial\"]");
    let dump = std::fs::read_to_string(c.path("t.dump")).unwrap();
    assert!(
        dump.contains(
            "ITEM: ATOMS id type element x y z vx vy vz fx fy fz ix iy iz c_virial[1] c_virial[2] c_virial[3] c_virial[4] c_virial[5] c_virial[6]\n"
        ),
        "{dump}"
    );
    let xyz = std::fs::read_to_string(c.path("t.xyz")).unwrap();
    assert!(xyz.contains("Properties=species:S:1:pos:R:3:velo:R:3:forces:R:3:virial:R:6:id:I:1"), "{xyz}");
    // The last frame's virials, by atom (ids 1..=108 in order in both text files).
    let n = 108;
    let last_rows = |text: &str, skip_front: usize| -> Vec<[f64; 6]> {
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len() - n..]
            .iter()
            .map(|l| {
                let t: Vec<f64> = l.split_whitespace().skip(skip_front).filter_map(|v| v.parse().ok()).collect();
                std::array::from_fn(|k| t[t.len() - 6 + k])
            })
            .collect()
    };
    let from_dump = last_rows(&dump, 3);
    // In extended XYZ the id follows the virial.
    let from_xyz: Vec<[f64; 6]> = {
        let lines: Vec<&str> = xyz.lines().collect();
        lines[lines.len() - n..]
            .iter()
            .map(|l| {
                let t: Vec<&str> = l.split_whitespace().collect();
                std::array::from_fn(|k| t[t.len() - 7 + k].parse().unwrap())
            })
            .collect()
    };
    assert_eq!(from_dump, from_xyz);
    let mut r = calcine_io::open_frames(c.path("t.h5"), calcine_core::SpeciesTable::default()).unwrap();
    let mut last = None;
    while let Some(f) = r.read_frame().unwrap() {
        last = Some(f);
    }
    let last = last.unwrap();
    assert_eq!(last.step, Some(6));
    assert_eq!(last.per_atom_virial.as_deref(), Some(&from_dump[..]));
    // Σ_i tr(W_i) / (3V) · nktv2p is the pair pressure.
    let thermo = std::fs::read_to_string(c.path("t.dump.csv")).unwrap();
    let header: Vec<&str> = thermo.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row: Vec<f64> = thermo.lines().last().unwrap().split(',').map(|v| v.parse().unwrap()).collect();
    let trace: f64 = from_dump.iter().map(|w| w[0] + w[1] + w[2]).sum();
    let pair = trace / (3.0 * row[col("volume_A3")]) * 1.6021765e6;
    let want = row[col("press_pair_bar")];
    assert!(
        (pair - want).abs() < 1e-9 * want.abs().max(1.0),
        "pair pressure from per-atom virials {pair}, thermo {want}"
    );
    // Asked for in the wrong key for H5MD.
    let input = cu_input(
        lattice_cu(),
        &eam_cu(),
        "[run]\nsteps = 1\n[output]\ntrajectory = \"u.h5\"\ntrajectory_virials = true",
    );
    let o = c.run(&input);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("h5md_fields names \"virial\""), "{}", stderr(&o));
}
