//! `calcine`: molecular dynamics with machine-learning and classical interatomic potentials.

mod descriptors;
mod inspect;
mod react;
mod report;
mod run;
mod transport;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  calcine run examples/cu-eam/input.toml
      Run the bundled example: 4,000 Cu atoms with the EAM potential of Foiles et al.
  calcine validate my-run.toml
      Check an input (structure, potential files, species, settings, memory, the first
      forces) without running it.
  calcine validate md.toml --ranks 512
      The same, with the memory per rank of a 512-rank run.
  calcine inspect traj.dump --types Li,P,S
      What a trajectory holds (frames, atoms per species, steps and times, box,
      columns), read frame by frame whatever its size.
  calcine descriptors snap.toml -o sna.csv
      Per-atom SNAP bispectrum components of the input's structure (compute sna/atom).
  calcine run md.toml --threads 4
      Use 4 threads (default: RAYON_NUM_THREADS, else the cores this rank may run
      on, shared among the ranks of its node when the launcher did not bind them).
  calcine run md.toml --resume
      Continue a run that was killed or stopped (Ctrl-C, SIGTERM, a job's time limit)
      from its last checkpoint ([output] checkpoint_every = N).
  RUST_LOG=debug calcine run md.toml
      Show neighbor-list rebuilds and other details on stderr.

A minimal input file (all keys: docs/input.md):
  [system]
  lattice = \"fcc\"
  a = 3.615
  cells = [10, 10, 10]
  species = \"Cu\"

  [potential]
  style = \"eam\"
  files = { Cu = \"Cu_u3.eam\" }   # paths are relative to the input file

  [run]
  steps = 1000
  timestep = 0.001              # ps (LAMMPS metal units)
  temperature = 300             # K, initial velocities

  [output]
  directory = \"runs/cu\"
  thermo_every = 10
  trajectory = \"traj.xyz\"        # or traj.dump for a LAMMPS dump
  checkpoint_every = 1000         # for --resume after a crash or a time limit
";

/// Molecular dynamics for materials: ACE, SNAP, EAM, LJ, ZBL, LAMMPS units and
/// LAMMPS-identical numbers, bit-identical results on any number of ranks and threads.
#[derive(Debug, Parser)]
#[command(name = "calcine", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Number of threads per rank (default: RAYON_NUM_THREADS, else the cores this rank may
    /// run on, shared among the ranks of its node when the launcher did not bind them).
    #[arg(long, global = true, value_parser = parse_threads)]
    threads: Option<usize>,
    /// No progress bar and only warnings on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Force the processor grid, e.g. 4x2x1 (default: the grid with the least subdomain
    /// surface for the box). Under mpirun the product must equal the number of ranks.
    #[arg(long, global = true, value_parser = parse_grid)]
    grid: Option<[usize; 3]>,
}

fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("a run needs at least 1 thread".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("'{s}': {e}")),
    }
}

fn parse_grid(s: &str) -> Result<[usize; 3], String> {
    let parts: Vec<&str> = s.split(['x', 'X']).collect();
    let dims: Vec<usize> =
        parts.iter().map(|p| p.trim().parse::<usize>()).collect::<Result<_, _>>().map_err(|e| format!("'{s}': {e}"))?;
    match dims[..] {
        [a, b, c] if a > 0 && b > 0 && c > 0 => Ok([a, b, c]),
        _ => Err(format!("'{s}': expected three positive numbers like 2x2x1")),
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the simulation described by a TOML input file.
    #[command(after_help = EXAMPLES)]
    Run {
        /// The input file.
        input: PathBuf,
        /// Continue the run from the checkpoint in its output folder: outputs are cut back
        /// to the checkpoint's step and appended to, so they end up as an uninterrupted
        /// run's would. Works on any number of ranks and threads.
        #[arg(long, conflicts_with = "overwrite")]
        resume: bool,
        /// Replace the outputs of an earlier run in the output folder (refused otherwise).
        #[arg(long)]
        overwrite: bool,
    },
    /// Check an input file without running it: parses it, reads the structure and the
    /// potential files, maps species, estimates the memory per rank, computes the first
    /// forces (when the system fits in one process) and reports what the run would do.
    /// Whatever `run` would refuse before its first step, `validate` refuses too.
    #[command(after_help = EXAMPLES)]
    Validate {
        /// The input file.
        input: PathBuf,
        /// Estimate memory per rank for a run on this many ranks.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        ranks: u64,
    },
    /// What a trajectory or structure file holds: frames, atoms per species, first and
    /// last step and time, the box and whether it changes, which columns are present.
    /// Reads extended XYZ, LAMMPS dumps (either gzipped) and H5MD frame by frame, so any
    /// size works in constant memory.
    Inspect {
        /// The file (.xyz/.extxyz, .dump/.lammpstrj, .gz of either, .h5/.h5md).
        file: PathBuf,
        /// Species of LAMMPS dump types 1, 2, … (e.g. Li,P,S); without it, types are
        /// named type1, type2, …
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Per-atom SNAP bispectrum components of the input's structure (LAMMPS `compute
    /// sna/atom`), with the parameters of its `snap` potential, as CSV: id, species, x, y,
    /// z, B1…BK (and Q… for a quadratic potential). One rank.
    Descriptors {
        /// The input file (its [system] and a [potential] of style "snap").
        input: PathBuf,
        /// The CSV file to write.
        #[arg(long, short, default_value = "descriptors.csv")]
        output: PathBuf,
    },
    /// Transport coefficients from trajectories (a `[transport]` input): diffusion, Onsager
    /// L_ij (self and distinct), conductivity, Haven ratio, transference numbers, kinosons.
    Transport {
        /// The input file.
        input: PathBuf,
    },
    /// Run the reaction cellular automaton (ReactCA class) on a recipe: calcine's TOML
    /// recipe or ReactCA's JSON recipe (with --library); writes fractions, their spread over
    /// realisations, a JSON result and a lattice slice, with PNG charts of both.
    React {
        /// The recipe (.toml, or ReactCA's .json).
        recipe: PathBuf,
        /// ReactCA's JSON reaction library, for a JSON recipe (overrides a TOML recipe's).
        #[arg(long)]
        library: Option<PathBuf>,
        /// The output folder.
        #[arg(long, short, default_value = "react-out")]
        output: PathBuf,
        /// Number of realisations (overrides the recipe's).
        #[arg(long)]
        realisations: Option<usize>,
        /// Random seed (overrides the recipe's).
        #[arg(long)]
        seed: Option<u64>,
        /// Write no PNG charts (as `plots = false` in a TOML recipe).
        #[arg(long)]
        no_plots: bool,
    },
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // Caught from the very start, so a run stopped during its set-up still ends cleanly.
    let signals = match run::Signals::register() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    pin_mmap_threshold();
    let cli = Cli::parse();
    let par = run::Parallel {
        #[cfg(feature = "mpi")]
        universe: if calcine_comm::MpiUniverse::launched() { calcine_comm::MpiUniverse::init() } else { None },
        grid: cli.grid,
        started,
        signals: signals.clone(),
    };
    init_logging(cli.quiet || par.rank() != 0);
    let threads = cli.threads.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let env = std::env::var("RAYON_NUM_THREADS").ok();
        default_threads(env.as_deref(), cores, online_cores().unwrap_or(cores), par.local_ranks())
    });
    if let Err(e) = thread_pool(threads).build_global() {
        eprintln!("error: cannot start {threads} threads: {e}");
        return ExitCode::FAILURE;
    }
    let result: Result<()> = match &cli.command {
        Command::Run { input, resume, overwrite } => {
            run::run(input, run::RunOptions { quiet: cli.quiet, resume: *resume, overwrite: *overwrite }, &par)
        }
        Command::Validate { input, ranks } => run::validate(input, *ranks as usize, cli.grid),
        Command::Transport { input } => transport::transport(input, cli.quiet, &par),
        Command::Inspect { file, types, json } => inspect::inspect(file, types, *json, cli.quiet),
        Command::React { recipe, library, output, realisations, seed, no_plots } => react::react(
            &react::ReactArgs {
                recipe: recipe.clone(),
                library: library.clone(),
                output: output.clone(),
                realisations: *realisations,
                seed: *seed,
                no_plots: *no_plots,
            },
            cli.quiet,
            &par,
        ),
        Command::Descriptors { input, output } => {
            if par.size() > 1 {
                Err(anyhow::anyhow!("calcine descriptors runs on one rank (started on {})", par.size()))
            } else {
                descriptors::descriptors(input, output)
            }
        }
    };
    let code = ExitCode::from(signals.exit_code());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<run::ReportedElsewhere>() => code,
        Err(e) if e.is::<run::Halted>() => {
            if par.rank() == 0 {
                eprintln!("halted: {e}");
            }
            ExitCode::from(run::Halted::EXIT_CODE)
        }
        Err(e) => {
            // Errors found while reading the input are the same on every rank: say them once.
            if par.rank() == 0 {
                eprintln!("error: {}", report::error_text(&e));
            }
            code
        }
    }
}

fn init_logging(quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).try_init();
}

/// Threads per rank when `--threads` is not given: 0 (rayon's default) where
/// RAYON_NUM_THREADS names a count; else the `cores` this process may run on. When those are
/// all the `online` cores of the node, the launcher did not bind the ranks (MPICH's default,
/// `--bind-to none`, or an oversubscribed OpenMPI), and they are shared among the node's
/// `local_ranks`: otherwise every rank would start a thread per core of the node.
fn default_threads(env: Option<&str>, cores: usize, online: usize, local_ranks: usize) -> usize {
    if env.and_then(|v| v.trim().parse::<usize>().ok()).is_some_and(|n| n > 0) {
        return 0;
    }
    if cores >= online {
        (cores / local_ranks.max(1)).max(1)
    } else {
        cores.max(1)
    }
}

/// The processors online in this machine, whatever this process's affinity.
#[cfg(unix)]
#[allow(unsafe_code)]
fn online_cores() -> Option<usize> {
    // SAFETY: sysconf only reads a system setting.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).ok().filter(|&n| n > 0)
}

#[cfg(not(unix))]
fn online_cores() -> Option<usize> {
    None
}

/// The pool of `threads` threads (0: RAYON_NUM_THREADS, or all cores) whose first worker is
/// the calling thread. A parallel loop that thread starts runs on it and on the other
/// workers, instead of being handed to the pool while the caller sleeps until woken; on one
/// thread there is no hand-off at all (before: a futex wake and a context switch per
/// parallel loop, 7 % of a one-thread 32,000-atom EAM run on a VM). MPI stays on the thread
/// that initialised it.
fn thread_pool(threads: usize) -> rayon::ThreadPoolBuilder {
    rayon::ThreadPoolBuilder::new().num_threads(threads).use_current_thread()
}

/// Keeps large arrays in their own memory mappings.
///
/// glibc raises its mmap threshold (up to 32 MiB) each time a large block is freed; after
/// that, the arrays a big run reallocates at every neighbor-list build come from the heap,
/// whose freed holes stay resident. A million-atom EAM run on 2 ranks then peaks at 501
/// instead of 423 bytes per atom (`scripts/bench-million.sh`). Pinning the threshold at its
/// initial 128 KiB returns every large array to the system when it is freed. A user's own
/// `MALLOC_MMAP_THRESHOLD_` takes precedence.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn pin_mmap_threshold() {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only sets an allocator tuning parameter; it is called once,
        // before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn pin_mmap_threshold() {}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    #[test]
    fn default_threads_share_an_unbound_node_among_its_ranks() {
        use super::default_threads;
        // RAYON_NUM_THREADS with a count: rayon reads it (0).
        assert_eq!(default_threads(Some("3"), 64, 64, 4), 0);
        // One rank: all the cores it may use.
        assert_eq!(default_threads(None, 64, 64, 1), 64);
        // Unbound ranks share the node; never fewer than one thread.
        assert_eq!(default_threads(None, 64, 64, 4), 16);
        assert_eq!(default_threads(None, 2, 2, 4), 1);
        // A count rayon would not take counts as no count.
        assert_eq!(default_threads(Some("0"), 8, 8, 2), 4);
        assert_eq!(default_threads(Some("many"), 8, 8, 2), 4);
        // Ranks bound to their own cores keep them.
        assert_eq!(default_threads(None, 1, 64, 64), 1);
        assert_eq!(default_threads(None, 32, 64, 2), 32);
    }

    #[test]
    fn the_calling_thread_is_the_pools_first_worker() {
        // On a thread of its own, which becomes the first worker of a pool that is leaked.
        std::thread::spawn(|| {
            let _pool = super::thread_pool(1).build().unwrap();
            assert_eq!(rayon::current_thread_index(), Some(0));
            let me = std::thread::current().id();
            let ran_on: Vec<_> = (0..64).into_par_iter().map(|_| std::thread::current().id()).collect();
            assert!(ran_on.iter().all(|&id| id == me), "one thread: the loop runs on the caller");
        })
        .join()
        .unwrap();
    }
}
