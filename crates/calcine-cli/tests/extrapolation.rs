//! ACE's extrapolation grade during `calcine run` (`[potential] active_set`,
//! `[extrapolation]`): the thermo's `max_gamma` column against pyace's γ, the structures
//! dumped above `dump_above` with γ per atom, the clean halt above `halt_above`, a resumed
//! run's files equal to an uninterrupted run's, and the refusals.
//!
//! The potential, active set and structures are `tests/data/ace/CuNi-gamma*` (made with
//! pyace by `scripts/ace_pyace_reference.py`; pyace's per-atom γ of each structure is in
//! `CuNi-gamma-gamma.json`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn calcine() -> Command {
    Command::new(env!("CARGO_BIN_EXE_calcine"))
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/ace").join(rel).canonicalize().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A 256-atom CuNi crystal heated by a Langevin thermostat at 3000 K: γ starts at pyace's
/// 1.1247 and rises above 2 within 20 steps.
fn input(steps: u64, potential_extra: &str, rest: &str) -> String {
    format!(
        r#"[system]
file = "{crystal}"
masses = {{ Cu = 63.546, Ni = 58.6934 }}

[potential]
style = "ace"
file = "{yaml}"
{potential_extra}

[run]
steps = {steps}
timestep = 0.002
temperature = 3000.0
seed = 11

[integrator]
style = "langevin"
temperature = 3000.0
damping = 0.05

[output]
thermo_every = 10
{rest}
"#,
        crystal = data("CuNi-gamma-crystal.xyz").display(),
        yaml = data("CuNi-gamma.yaml").display(),
    )
}

fn active_set() -> String {
    format!("active_set = \"{}\"", data("CuNi-gamma-linear.asi").display())
}

fn run(dir: &Path, text: &str, options: &[&str]) -> Output {
    let p = dir.join("in.toml");
    std::fs::write(&p, text).unwrap();
    calcine().arg("--quiet").arg("run").args(options).arg(&p).current_dir(dir).output().unwrap()
}

/// The `max_gamma` column of a thermo CSV, by step.
fn max_gamma(dir: &Path) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(dir.join("thermo.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == "max_gamma").expect("a max_gamma column");
    assert_eq!(col, header.len() - 1, "max_gamma is the last column");
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[col].to_string())
        })
        .collect()
}

/// The frames of an extended XYZ file: (comment line, per-atom γ in file order).
fn dumped(path: &Path) -> Vec<(String, Vec<f64>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let mut frames = Vec::new();
    while let Some(n) = lines.next() {
        let n: usize = n.trim().parse().unwrap();
        let comment = lines.next().unwrap().to_string();
        assert!(comment.contains(":gamma:R:1:id:I:1"), "{comment}");
        // species, pos 3, velo 3, forces 3, gamma, id
        let gamma = (0..n).map(|_| lines.next().unwrap().split_whitespace().nth(10).unwrap().parse().unwrap());
        frames.push((comment, gamma.collect()));
    }
    frames
}

fn info(comment: &str, key: &str) -> String {
    let k = format!(" {key}=");
    let start = comment.find(&k).unwrap_or_else(|| panic!("no {key} in {comment}")) + k.len();
    comment[start..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn max_gamma_column_matches_pyace_and_dumps_hold_gamma_per_atom() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &input(40, &active_set(), "[extrapolation]\nevery = 5\ndump_above = 1.5"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));

    let column = max_gamma(dir.path());
    assert_eq!(column.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [0, 10, 20, 30, 40]);
    // Step 0 is the reference structure: pyace's largest γ of it.
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("CuNi-gamma-gamma.json")).unwrap()).unwrap();
    let pyace: Vec<f64> =
        reference["linear"]["crystal"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let pyace_max = pyace.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let first: f64 = column[0].1.parse().unwrap();
    assert!((first - pyace_max).abs() <= 1e-10 * pyace_max, "max γ at step 0: calcine {first}, pyace {pyace_max}");

    // Every fifth step is watched; those above 1.5 are dumped, whole, with γ per atom.
    let frames = dumped(&dir.path().join("extrapolative.extxyz"));
    assert!(!frames.is_empty(), "the crystal heated to 3000 K goes above γ = 1.5");
    let mut steps = Vec::new();
    for (comment, gamma) in &frames {
        let step: u64 = info(comment, "Step").parse().unwrap();
        assert_eq!(step % 5, 0);
        let max = gamma.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(max > 1.5);
        assert_eq!(
            info(comment, "max_gamma"),
            max.to_string(),
            "the comment's max_gamma is the largest γ of the frame"
        );
        if let Some((_, row)) = column.iter().find(|(s, _)| *s == step) {
            assert_eq!(*row, max.to_string(), "thermo's max_gamma at step {step} is the dumped frame's");
        }
        steps.push(step);
    }
    // Thermo rows above 1.5 are all dumped too.
    for (step, value) in &column {
        assert_eq!(value.parse::<f64>().unwrap() > 1.5, steps.contains(step), "step {step}: max γ {value}");
    }
    // The trajectory-free run writes no other file for frames.
    assert!(!dir.path().join("trajectory.xyz").exists());
}

#[test]
fn a_gamma_above_halt_above_stops_the_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let text = input(200, &active_set(), "[extrapolation]\nevery = 10\ndump_above = 1.0\nhalt_above = 1.6");
    // validate says what the run will do with the grade.
    std::fs::write(dir.path().join("in.toml"), &text).unwrap();
    let o = calcine().arg("validate").arg(dir.path().join("in.toml")).output().unwrap();
    let said = String::from_utf8_lossy(&o.stdout);
    let expected = "max_gamma in the thermo, gamma every 10 steps; structures above 1 to extrapolative.extxyz; the run halts above 1.6 (exit code 3)";
    assert!(said.contains(expected), "{said}");
    let o = run(dir.path(), &text, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "a halt exits with 3:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for needle in ["halted: max gamma = ", "is above halt_above = 1.6", "extrapolative.extxyz"] {
        assert!(err.contains(needle), "message lacks '{needle}':\n{err}");
    }
    let column = max_gamma(dir.path());
    let (last_step, last) = column.last().unwrap();
    assert!(last.parse::<f64>().unwrap() > 1.6, "the last thermo row is the halting step's");
    assert!(column[..column.len() - 1].iter().all(|(_, v)| v.parse::<f64>().unwrap() <= 1.6));
    assert!(*last_step < 200);
    // Every watched step was above dump_above = 1.0, so every one of them was dumped.
    let frames = dumped(&dir.path().join("extrapolative.extxyz"));
    assert_eq!(frames.len(), column.len());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(json["status"], "halted");
    assert_eq!(json["last_step"].as_u64(), Some(*last_step));
}

#[test]
fn a_resumed_run_dumps_what_an_uninterrupted_one_dumps() {
    let watch = "[extrapolation]\nevery = 5\ndump_above = 1.2";
    let whole = tempfile::tempdir().unwrap();
    let o = run(whole.path(), &input(60, &active_set(), watch), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let parts = tempfile::tempdir().unwrap();
    let with_checkpoints = |steps| input(steps, &active_set(), &format!("checkpoint_every = 20\n{watch}"));
    let o = run(parts.path(), &with_checkpoints(30), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A frame dumped after the checkpoint (step 25) is cut away and written again.
    let o = run(parts.path(), &with_checkpoints(60), &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in ["thermo.csv", "extrapolative.extxyz"] {
        let a = std::fs::read(whole.path().join(file)).unwrap();
        let b = std::fs::read(parts.path().join(file)).unwrap();
        assert!(a == b, "{file} of the resumed run differs from the uninterrupted run");
    }
}

#[test]
fn extrapolation_inputs_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(String, &[&str]); 5] = [
        (
            input(10, "", "[extrapolation]\ndump_above = 5"),
            &["[extrapolation] needs the extrapolation grade", "active_set"],
        ),
        (
            input(10, &active_set(), "[extrapolation]\ndump_above = 5\nhalt_above = 2"),
            &["halt_above = 2 is below dump_above = 5"],
        ),
        (input(10, &active_set(), "[extrapolation]\nevery = 0"), &["in.toml:", "at least 1 step"]),
        (input(10, &active_set(), "[extrapolation]\nhalt = 25"), &["in.toml:", "unknown field `halt`"]),
        (
            input(10, &active_set(), "").replace("CuNi-gamma.yaml", "CuNi-gamma.yace"),
            &["active_set", "B-basis .yaml", "CuNi-gamma.yace"],
        ),
    ];
    for (text, needles) in cases {
        for command in ["validate", "run"] {
            let p = dir.path().join("in.toml");
            std::fs::write(&p, &text).unwrap();
            let o = calcine().arg("--quiet").arg(command).arg(&p).current_dir(dir.path()).output().unwrap();
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{command}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            for n in needles {
                assert!(err.contains(n), "{command}: message lacks '{n}':\n{err}");
            }
        }
    }
}
