//! `calcine run` and `calcine validate`: read the input (calcine-input), start the ranks,
//! hand the engine its hooks (calcine-md, calcine-io), and report.

use crate::report::{error_text, print_load, print_summary, say, sections, Progress};
use anyhow::Result;
use calcine_comm::{Communicator, SerialComm};
use calcine_input::{MdJob, Outputs};
use calcine_io::{LoadSummary, MachineSummary, MemorySummary, RunSummary, ThermoSummary, RUN_SUMMARY_SCHEMA};
use calcine_md::{LoadReport, Md, RunStats};
use std::path::Path;
use std::time::Instant;

/// `calcine validate`: everything `run` does before the first step (on one process, for
/// `ranks` ranks' memory), then a summary.
pub fn validate(path: &Path, ranks: usize, grid: Option<[usize; 3]>) -> Result<()> {
    let job = MdJob::read(path)?;
    let dims = job.grid(ranks, grid)?;
    let estimate = job.check_memory(dims, 1)?;
    let n_atoms = job.system.atoms.n_atoms();
    let lengths = job.system.simbox.lengths();
    let triclinic = job.system.simbox.is_triclinic();
    let species: Vec<(String, f64)> = job.system.species.iter().map(|(_, s)| (s.name.clone(), s.mass)).collect();
    let (potential, cutoff) = (job.potential.name().to_string(), job.potential.cutoff());
    let (integrator, steps, timestep) = (format!("{:?}", job.integrator), job.steps, job.settings.timestep);
    // The first force call finds what the structure and potential refuse together (atoms
    // too close, non-finite forces), on one process when the whole system fits in it.
    let one_process = job.check_memory([1, 1, 1], 1).is_ok();
    let setup = if one_process {
        let periodic = job.system.simbox.periodic();
        let (mut md, _) = job.into_engine(SerialComm::new(periodic))?;
        md.setup().map_err(|e| anyhow::Error::new(e).context("setting up the run (step 0)"))?;
        "structure, lists and first forces checked on one process"
    } else {
        "the system is too large for one process here: the first forces were not computed"
    };
    say(format_args!("{}: ok", path.display()));
    say(format_args!(
        "  atoms      {n_atoms} in a {:.4} × {:.4} × {:.4} Å box{}",
        lengths[0],
        lengths[1],
        lengths[2],
        if triclinic { " (triclinic)" } else { "" }
    ));
    for (name, mass) in species {
        say(format_args!("  species    {name} (mass {mass} g/mol)"));
    }
    say(format_args!("  potential  {potential} (cutoff {cutoff} Å)"));
    say(format_args!("  integrator {integrator}"));
    say(format_args!("  steps      {steps} × {timestep} ps"));
    say(format_args!("  memory     {} on a {}x{}x{} grid", estimate.describe(), dims[0], dims[1], dims[2]));
    say(format_args!("  set-up     {setup}"));
    Ok(())
}

/// How the ranks of a run are set up.
pub struct Parallel {
    #[cfg(feature = "mpi")]
    pub universe: Option<calcine_comm::MpiUniverse>,
    /// A processor grid forced by the user (`--grid`).
    pub grid: Option<[usize; 3]>,
    /// When the process started, for the whole-process time in `run.json`.
    pub started: Instant,
}

impl Parallel {
    pub fn rank(&self) -> usize {
        #[cfg(feature = "mpi")]
        if let Some(u) = &self.universe {
            return u.rank();
        }
        0
    }
    pub fn size(&self) -> usize {
        #[cfg(feature = "mpi")]
        if let Some(u) = &self.universe {
            return u.size();
        }
        1
    }
    /// Ranks on this node, as the launcher tells them (OpenMPI, MPICH/Hydra, Slurm), for
    /// the memory check; 1 when none does.
    pub fn local_ranks(&self) -> usize {
        ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"]
            .iter()
            .find_map(|v| std::env::var(v).ok()?.parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, self.size())
    }
}

/// An error already reported by rank 0; other ranks exit quietly with it.
#[derive(Debug)]
pub struct ReportedElsewhere;

impl std::fmt::Display for ReportedElsewhere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reported by rank 0")
    }
}

impl std::error::Error for ReportedElsewhere {}

/// `calcine run`.
pub fn run(path: &Path, quiet: bool, par: &Parallel) -> Result<()> {
    // Every rank reads the input; errors here are the same on every rank.
    let job = MdJob::read(path)?;
    let size = par.size();
    let dims = job.grid(size, par.grid)?;
    job.check_memory(dims, par.local_ranks())?;
    let periodic = job.system.simbox.periodic();
    #[cfg(feature = "mpi")]
    if let Some(u) = &par.universe {
        if size > 1 {
            return run_with(job, u.cartesian(dims, periodic), quiet, par.started);
        }
    }
    run_with(job, SerialComm::new(periodic), quiet, par.started)
}

/// Turns an error every rank has (each perhaps only knowing "another rank failed") into
/// one message on rank 0. Collective.
fn collective_error<C: Communicator>(comm: &C, e: anyhow::Error) -> anyhow::Error {
    let text = error_text(&e);
    let all = comm.gather_bytes(text.as_bytes());
    if comm.rank() != 0 {
        return anyhow::Error::new(ReportedElsewhere);
    }
    let messages: Vec<String> = all.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
    let best = messages
        .iter()
        .enumerate()
        .find(|(_, m)| !m.contains("on another rank"))
        .map(|(rank, m)| if comm.size() > 1 { format!("{m} [rank {rank}]") } else { m.clone() })
        .unwrap_or_else(|| messages[0].clone());
    anyhow::anyhow!(best)
}

/// What the summary needs from before the engine was built.
struct Facts {
    input: String,
    inputs_sha256: String,
    potential: String,
    steps: u64,
    timestep: f64,
    started: Instant,
}

fn run_with<C: Communicator>(job: MdJob, comm: C, quiet: bool, started: Instant) -> Result<()> {
    let rank0 = comm.rank() == 0;
    let facts = Facts {
        input: job.file.path.display().to_string(),
        inputs_sha256: job.inputs_sha256(),
        potential: job.potential.name().to_string(),
        steps: job.steps,
        timestep: job.settings.timestep,
        started,
    };
    let (mut md, plan) = job.into_engine(comm)?;
    let setup_start = Instant::now();
    if let Err(e) = md.setup() {
        let e = anyhow::Error::new(e).context("setting up the run (step 0)");
        return Err(collective_error(md.comm(), e));
    }
    if let Some(t) = plan.initial_temperature {
        md.create_velocities(t, plan.seed);
    }
    let outputs = Outputs::create(&plan.output, rank0);
    if md.comm().any(outputs.is_err()) {
        let e = match outputs {
            Err(e) => anyhow::Error::new(e).context("creating the outputs"),
            Ok(_) => anyhow::anyhow!("creating the outputs failed on another rank"),
        };
        return Err(collective_error(md.comm(), e));
    }
    let mut outputs = outputs.expect("checked on every rank");
    let setup_s = setup_start.elapsed().as_secs_f64();
    if rank0 {
        tracing::info!(
            atoms = md.n_atoms(),
            potential = md.potential().name(),
            ranks = md.comm().size(),
            grid = ?md.comm().grid().dims,
            threads = rayon::current_num_threads(),
            setup_s,
            "starting {} steps",
            plan.steps
        );
    }

    let mut progress = Progress::new(rank0 && !quiet, plan.steps, md.n_atoms());
    let mut hooks = outputs.hooks();
    hooks.push(&mut progress);
    let result = md.run(plan.steps, &mut hooks);
    drop(hooks);
    let (stats, failure) = match result {
        Ok(stats) => (Some(stats), None),
        Err(f) => {
            let step = f.step;
            let e = anyhow::Error::new(f.error)
                .context(format!("run stopped at step {} (outputs up to there are complete)", step + 1));
            (None, Some(collective_error(md.comm(), e)))
        }
    };
    let load = LoadReport::gather(&md);
    if rank0 {
        let summary = summary(&md, &facts, &load, stats.as_ref(), failure.as_ref(), setup_s);
        if let Err(e) = summary.write(&plan.output.summary) {
            tracing::warn!("{e}");
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let stats = stats.expect("a run that did not fail has statistics");
    if rank0 {
        print_summary(&md, stats.loop_seconds, plan.steps);
        print_load(&load);
        let n = md.n_atoms() as f64;
        let (first, last) = (&stats.first_thermo, &stats.last_thermo);
        say(format_args!(
            "Thermo: step {} -> {}: T {:.2} -> {:.2} K, PE {:.6} -> {:.6} eV/atom, conserved energy changed by {:.3e} eV/atom",
            first.step,
            last.step,
            first.temperature,
            last.temperature,
            first.potential_energy / n,
            last.potential_energy / n,
            (last.conserved - first.conserved) / n
        ));
        say(format_args!("Thermo written to {}", outputs.thermo.path().display()));
        if let Some(t) = &outputs.trajectory {
            say(format_args!("Trajectory written to {}", t.path().display()));
        }
        say(format_args!("Run summary written to {}", plan.output.summary.display()));
    }
    Ok(())
}

/// `run.json`.
fn summary<C: Communicator>(
    md: &Md<C>,
    facts: &Facts,
    load: &LoadReport,
    stats: Option<&RunStats>,
    failure: Option<&anyhow::Error>,
    setup_s: f64,
) -> RunSummary {
    let loop_s = stats.map_or(0.0, |s| s.loop_seconds);
    let steps_done = md.step() - stats.map_or(0, |s| s.first_thermo.step);
    let atom_steps = (steps_done * md.n_atoms()) as f64;
    let per_atom = |b: u64| b as f64 / load.total_atoms;
    RunSummary {
        schema: RUN_SUMMARY_SCHEMA,
        status: if failure.is_some() { "failed".into() } else { "completed".into() },
        error: failure.map(error_text),
        calcine_version: env!("CARGO_PKG_VERSION").into(),
        commit: env!("CALCINE_COMMIT").into(),
        input: facts.input.clone(),
        inputs_sha256: facts.inputs_sha256.clone(),
        ranks: md.comm().size(),
        threads: rayon::current_num_threads(),
        grid: md.comm().grid().dims,
        atoms: md.n_atoms(),
        steps: facts.steps,
        last_step: md.step(),
        timestep: facts.timestep,
        potential: facts.potential.clone(),
        setup_s,
        loop_s,
        wall_s: facts.started.elapsed().as_secs_f64(),
        sections_s: sections(md, loop_s).into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        atom_steps_per_s: if loop_s > 0.0 { atom_steps / loop_s } else { 0.0 },
        us_per_atom_step: if atom_steps > 0.0 { 1e6 * loop_s / atom_steps } else { 0.0 },
        neighbor_builds: md.n_rebuilds(),
        memory: MemorySummary {
            peak_rss_bytes: load.peak_rss_bytes,
            bytes_per_atom: per_atom(load.peak_rss_bytes),
            atom_arrays_bytes_per_atom: per_atom(load.atom_bytes),
            neighbor_list_bytes_per_atom: per_atom(load.neighbor_bytes),
        },
        load: LoadSummary {
            min_atoms_per_rank: load.min_atoms,
            max_atoms_per_rank: load.max_atoms,
            mean_atoms_per_rank: load.mean_atoms(),
            imbalance: load.imbalance(),
        },
        machine: MachineSummary::this_machine(),
        first_thermo: stats.map(|s| ThermoSummary::from(&s.first_thermo)),
        final_thermo: stats.map(|s| ThermoSummary::from(&s.last_thermo)),
    }
}
