//! Unit tests of the schema and checks that need no engine run.

use super::*;
use std::path::PathBuf;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data").join(rel)
}

fn write_input(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("in.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn cu(cells: &str, rest: &str) -> String {
    format!(
        "[system]\nlattice = \"fcc\"\na = 3.615\ncells = {cells}\nspecies = \"Cu\"\n\n[potential]\nstyle = \"eam\"\nfiles = {{ Cu = \"{}\" }}\n{rest}\n",
        data("potentials/Cu_u3.eam").display()
    )
}

#[test]
fn defaults_come_from_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let job = MdJob::read(&write_input(dir.path(), &cu("[2, 2, 2]", ""))).unwrap();
    let md = calcine_md::MdSettings::default();
    assert_eq!(job.settings, md);
    assert_eq!(job.seed, calcine_md::Integrator::DEFAULT_SEED);
    assert_eq!(job.output.thermo_every, calcine_io::OutputSpec::DEFAULT_THERMO_EVERY);
    assert_eq!(job.output.thermo_path(), PathBuf::from(".").join("thermo.csv"));
    assert_eq!(job.system.atoms.n_atoms(), 32);
    // The Cu mass comes from the funcfl file, as in LAMMPS.
    assert_eq!(job.system.species.get(calcine_core::SpeciesId(0)).mass, 63.55);
}

#[test]
fn huge_replications_are_refused_without_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_input(dir.path(), &cu("[100000000000, 100000000000, 100000000000]", ""));
    let e = MdJob::read(&p).unwrap_err().to_string();
    assert!(
        e.contains("in.toml:4: cells = [100000000000, 100000000000, 100000000000] makes more than 2^64 atoms"),
        "{e}"
    );
    // A large but countable replication reads without making atoms, and the memory check
    // refuses it with the estimate.
    let p = write_input(dir.path(), &cu("[2000, 2000, 2000]", ""));
    let job = MdJob::read(&p).unwrap();
    assert_eq!(job.system.atoms.n_atoms(), 32_000_000_000);
    let e = job.check_memory([1, 1, 1], 1).unwrap_err().to_string();
    assert!(e.contains("the run needs about") && e.contains("3.20e10 atoms"), "{e}");
    assert!(e.contains("available"), "{e}");
}

#[test]
fn bad_values_name_their_key() {
    let dir = tempfile::tempdir().unwrap();
    for (rest, needle) in [
        ("[run]\nmax_step_displacement = -1", "in.toml:11: max_step_displacement must be a positive distance"),
        (
            "[output]\ntrajectory = \"t.pdb\"",
            "in.toml:11: trajectory 't.pdb': unknown format: use .xyz/.extxyz (.gz to read), .dump/.lammpstrj or .h5/.h5md",
        ),
        ("[run]\ntimestep = 0", "in.toml:11: timestep must be a positive number of ps"),
    ] {
        let e = MdJob::read(&write_input(dir.path(), &cu("[1, 1, 1]", rest))).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    }
    std::fs::write(dir.path().join("a-file"), "").unwrap();
    let rest = format!("[output]\ndirectory = \"{}\"", dir.path().join("a-file/sub").display());
    let e = MdJob::read(&write_input(dir.path(), &cu("[1, 1, 1]", &rest))).unwrap_err().to_string();
    assert!(e.contains("in.toml:11: output folder") && e.contains("is a file, not a folder"), "{e}");
}

#[test]
fn inputs_hash_covers_the_named_files() {
    let dir = tempfile::tempdir().unwrap();
    let pot = dir.path().join("Cu.eam");
    std::fs::copy(data("potentials/Cu_u3.eam"), &pot).unwrap();
    let text = cu("[1, 1, 1]", "").replace(&data("potentials/Cu_u3.eam").display().to_string(), "Cu.eam");
    let p = write_input(dir.path(), &text);
    let first = MdJob::read(&p).unwrap().inputs_sha256();
    assert_eq!(first.len(), 64);
    assert_eq!(MdJob::read(&p).unwrap().inputs_sha256(), first);
    let mut bytes = std::fs::read(&pot).unwrap();
    bytes.push(b'\n');
    std::fs::write(&pot, bytes).unwrap();
    assert_ne!(MdJob::read(&p).unwrap().inputs_sha256(), first);
}

#[test]
fn eam_evaluator_picks_the_list_and_overlays_fall_back_to_the_full_list() {
    use calcine_potential::NeighborKind;
    let dir = tempfile::tempdir().unwrap();
    let kind =
        |rest: &str| MdJob::read(&write_input(dir.path(), &cu("[2, 2, 2]", rest))).map(|j| j.potential.neighbor_kind());
    assert_eq!(kind("").unwrap(), NeighborKind::Half);
    assert_eq!(kind("evaluator = \"kernel\"").unwrap(), NeighborKind::Half);
    assert_eq!(kind("evaluator = \"full-list\"").unwrap(), NeighborKind::Full);
    assert_eq!(kind("evaluator = \"full\"").unwrap(), NeighborKind::Full);
    assert_eq!(kind("evaluator = \"reference\"").unwrap(), NeighborKind::Half);
    let err = kind("evaluator = \"fast\"").unwrap_err().to_string();
    assert!(err.contains("full-list"), "{err}");

    // EAM beside ZBL (a full-list pair style): no evaluator picks the full-list kernel, an
    // explicit half-list one is refused with a message that says what to write.
    let pot = data("potentials/Cu_u3.eam").display().to_string();
    let overlay = |eam_extra: &str| {
        format!(
            "[system]\nlattice = \"fcc\"\na = 3.615\ncells = [2, 2, 2]\nspecies = \"Cu\"\n\n[potential]\nstyle = \"overlay\"\n\
             members = [{{ style = \"zbl\", inner = 1.0, outer = 1.5, z = {{ Cu = 29.0 }} }}, \
             {{ style = \"eam\", files = {{ Cu = \"{pot}\" }}{eam_extra} }}]\n"
        )
    };
    let read = |text: String| MdJob::read(&write_input(dir.path(), &text)).map(|j| j.potential.neighbor_kind());
    assert_eq!(read(overlay("")).unwrap(), NeighborKind::Full);
    assert_eq!(read(overlay(", evaluator = \"full-list\"")).unwrap(), NeighborKind::Full);
    let err = read(overlay(", evaluator = \"kernel\"")).unwrap_err().to_string();
    assert!(err.contains("evaluator = \"full-list\"") && err.contains("half list"), "{err}");
}
