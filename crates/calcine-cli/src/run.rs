//! `calcine run` and `calcine validate`: read the input (calcine-input), start the ranks,
//! hand the engine its hooks (calcine-md, calcine-io), and report.

use crate::report::{error_text, print_load, print_summary, say, sections, Progress};
use anyhow::Result;
use calcine_comm::{Communicator, SerialComm};
use calcine_input::MdJob;
use calcine_io::StepHook;
use calcine_io::{
    Checkpoint, HookError, LoadSummary, MachineSummary, MemorySummary, RunOutputs, RunSummary, Start, ThermoSummary,
    RUN_SUMMARY_SCHEMA,
};
use calcine_md::{LoadReport, Md, MdError, RunStats};
use calcine_transport::{OnTheFlyOutput, OnTheFlyTransport};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
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
    let velocities = match (job.initial_temperature, job.output.trajectory.is_some()) {
        (Some(t), _) => format!("drawn at {t} K ([run] temperature, seed {})", job.seed),
        (None, _) => job.system.velocities.clone(),
    };
    let (potential, cutoff) = (job.potential.name().to_string(), job.potential.cutoff());
    let (integrator, steps, timestep) = (format!("{:?}", job.integrator), job.steps, job.settings.timestep);
    let mut watching = Vec::new();
    if let Some(name) = &job.output.grade {
        let mut text = format!("max_{name} in the thermo");
        if let Some(w) = &job.output.grade_watch {
            text.push_str(&format!(", {name} every {} steps", w.every));
            if let Some(d) = w.dump_above {
                text.push_str(&format!("; structures above {d} to {}", w.file.display()));
            }
            if let Some(h) = w.halt_above {
                text.push_str(&format!("; the run halts above {h} (exit code 3)"));
            }
        }
        watching.push(("grade     ", text));
    }
    if let Some(t) = &job.transport {
        watching.push((
            "transport ",
            format!(
                "on the fly every {} steps ({}; {} at {} K) to {}",
                t.every,
                t.spec.method.name(),
                t.spec.species.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
                t.spec.temperature,
                job.output.directory.display()
            ),
        ));
    }
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
    say(format_args!("  velocities {velocities}"));
    say(format_args!("  integrator {integrator}"));
    say(format_args!("  steps      {steps} × {timestep} ps"));
    for (what, text) in &watching {
        say(format_args!("  {what} {text}"));
    }
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
    /// SIGINT and SIGTERM, caught from the start of the process.
    pub signals: Signals,
}

/// Flags set by SIGINT and SIGTERM: a run then stops after its current step, writes a
/// checkpoint and its summary, and the process exits with 128 + the signal's number.
#[derive(Debug, Clone)]
pub struct Signals {
    /// Set by either signal.
    pub stop: Arc<AtomicBool>,
    /// Set by SIGTERM only.
    pub term: Arc<AtomicBool>,
}

impl Signals {
    pub fn register() -> std::io::Result<Self> {
        let (stop, term) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stop))?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&term))?;
        Ok(Self { stop, term })
    }

    /// The exit status of a failed command: 143 after SIGTERM, 130 after SIGINT, 1
    /// otherwise.
    pub fn exit_code(&self) -> u8 {
        use std::sync::atomic::Ordering::Relaxed;
        match (self.stop.load(Relaxed), self.term.load(Relaxed)) {
            (true, true) => 143,
            (true, false) => 130,
            _ => 1,
        }
    }
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

/// A run that a hook stopped on purpose (an extrapolation grade above `halt_above`): not a
/// failure of the run, but not its end either; the process exits with [`Halted::EXIT_CODE`].
#[derive(Debug)]
pub struct Halted(pub String);

impl Halted {
    pub const EXIT_CODE: u8 = 3;
}

impl std::fmt::Display for Halted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Halted {}

/// An error already reported by rank 0; other ranks exit quietly with it.
#[derive(Debug)]
pub struct ReportedElsewhere;

impl std::fmt::Display for ReportedElsewhere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reported by rank 0")
    }
}

impl std::error::Error for ReportedElsewhere {}

/// How `calcine run` treats the output folder and the terminal.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    pub quiet: bool,
    pub resume: bool,
    pub overwrite: bool,
}

/// `calcine run`.
pub fn run(path: &Path, options: RunOptions, par: &Parallel) -> Result<()> {
    // Every rank reads the input (and the checkpoint); errors here are the same on every rank.
    let job = MdJob::read(path)?;
    let checkpoint = if options.resume {
        let ckpt_path = job.output.checkpoint_path();
        if !ckpt_path.exists() {
            anyhow::bail!(
                "nothing to resume: {} does not exist (set [output] checkpoint_every to write checkpoints)",
                ckpt_path.display()
            );
        }
        Some(Checkpoint::read(&ckpt_path)?)
    } else {
        None
    };
    let size = par.size();
    let dims = job.grid(size, par.grid)?;
    job.check_memory(dims, par.local_ranks())?;
    let periodic = job.system.simbox.periodic();
    #[allow(unused_mut)]
    let mut ctx = Context { options, started: par.started, stop: Arc::clone(&par.signals.stop), checkpoint, io: None };
    #[cfg(feature = "mpi")]
    if let Some(u) = &par.universe {
        // A communicator of its own for outputs that ranks write together (collective H5MD).
        ctx.io = Some(Box::new(u.cartesian([size, 1, 1], [false; 3])));
        if size > 1 {
            return run_with(job, u.cartesian(dims, periodic), ctx);
        }
    }
    run_with(job, SerialComm::new(periodic), ctx)
}

/// What `run_with` needs besides the job and the communicator.
struct Context {
    options: RunOptions,
    started: Instant,
    /// Set by SIGINT and SIGTERM.
    stop: Arc<AtomicBool>,
    checkpoint: Option<Checkpoint>,
    /// Over all ranks, for outputs written collectively; `None` without MPI.
    io: Option<Box<dyn Communicator>>,
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

fn run_with<C: Communicator>(job: MdJob, comm: C, ctx: Context) -> Result<()> {
    let rank0 = comm.rank() == 0;
    let facts = Facts {
        input: job.file.path.display().to_string(),
        inputs_sha256: job.inputs_sha256(),
        potential: job.potential.name().to_string(),
        steps: job.steps,
        timestep: job.settings.timestep,
        started: ctx.started,
    };
    let compatibility = job.compatibility();
    let setup_start = Instant::now();
    let (mut md, plan) = match &ctx.checkpoint {
        Some(checkpoint) => {
            let (mut md, plan) = job.into_resumed_engine(comm, checkpoint)?;
            if let Err(e) = md.setup_resumed(checkpoint) {
                let e = anyhow::Error::new(e).context(format!("resuming the run at step {}", checkpoint.step));
                return Err(collective_error(md.comm(), e));
            }
            (md, plan)
        }
        None => {
            let (mut md, plan) = job.into_engine(comm)?;
            if let Err(e) = md.setup() {
                let e = anyhow::Error::new(e).context("setting up the run (step 0)");
                return Err(collective_error(md.comm(), e));
            }
            if let Some(t) = plan.initial_temperature {
                md.create_velocities(t, plan.seed);
            }
            (md, plan)
        }
    };
    md.set_stop_flag(Arc::clone(&ctx.stop));
    let start = match &ctx.checkpoint {
        Some(c) => Start::Resume(c),
        None => Start::Fresh { overwrite: ctx.options.overwrite },
    };
    let outputs = RunOutputs::open(&plan.output, start, compatibility, rank0, ctx.io);
    if md.comm().any(outputs.is_err()) {
        let e = match outputs {
            Err(e) => anyhow::Error::new(e).context("opening the outputs"),
            Ok(_) => anyhow::anyhow!("opening the outputs failed on another rank"),
        };
        return Err(collective_error(md.comm(), e));
    }
    let mut outputs = outputs.expect("checked on every rank");
    let quiet = ctx.options.quiet;
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
    let mut transport = plan.transport.as_ref().map(|t| {
        let output =
            OnTheFlyOutput { directory: plan.output.directory.clone(), metadata: t.metadata.clone(), plots: t.plots };
        OnTheFlyTransport::new(t.spec.clone(), t.every, Some(output))
    });
    if let (Some(step), Some(_), true) = (plan.resumed_from, &transport, rank0) {
        tracing::warn!(
            "[transport]: the on-the-fly analysis is not part of a checkpoint; this resumed run analyses its frames from step {step} on"
        );
    }
    let mut hooks: Vec<&mut dyn StepHook> = vec![&mut outputs, &mut progress];
    if let Some(t) = &mut transport {
        hooks.push(t);
    }
    let result = md.run(plan.steps, &mut hooks);
    drop(hooks);
    let mut interrupted = false;
    let mut halted = false;
    let (stats, failure) = match result {
        Ok(stats) => (Some(stats), None),
        Err(f) => {
            let e = match f.error {
                MdError::Interrupted { step } => {
                    interrupted = true;
                    anyhow::anyhow!(
                        "interrupted after step {step}: a checkpoint of that step is in {}; continue with `calcine run --resume`",
                        plan.output.checkpoint_path().display()
                    )
                }
                MdError::Hook(HookError::Stop(reason)) => {
                    halted = true;
                    anyhow::anyhow!("{reason} (outputs up to step {} are complete)", f.step)
                }
                error => anyhow::Error::new(error)
                    .context(format!("run stopped at step {} (outputs up to there are complete)", f.step + 1)),
            };
            (None, Some(collective_error(md.comm(), e)))
        }
    };
    let load = LoadReport::gather(&md);
    if rank0 {
        let mut summary = summary(&md, &facts, &load, stats.as_ref(), failure.as_ref(), setup_s);
        if interrupted {
            summary.status = "interrupted".into();
        }
        if halted {
            summary.status = "halted".into();
        }
        summary.resumed_from = plan.resumed_from;
        if let Err(e) = summary.write(&plan.output.summary_path()) {
            tracing::warn!("{e}");
        }
    }
    if let Some(e) = failure {
        // Every rank halts on the same grade; each exits with the halt's status.
        return Err(if halted { anyhow::Error::new(Halted(error_text(&e))) } else { e });
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
        let spec = outputs.spec();
        say(format_args!("Thermo written to {}", spec.thermo_path().display()));
        if let Some(png) = spec.thermo_chart_path().filter(|p| p.exists()) {
            say(format_args!("Thermo chart drawn in {}", png.display()));
        }
        if let Some(t) = spec.trajectory_path() {
            say(format_args!("Trajectory written to {}", t.display()));
        }
        say(format_args!("Run summary written to {}", spec.summary_path().display()));
        if let Some(t) = &transport {
            if let Some(results) = t.results() {
                crate::transport::report(Path::new("on the fly"), results, stats.loop_seconds, 1, false);
                say(format_args!(
                    "Transport written to {}",
                    t.written().iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
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
    let steps_done = stats.map_or(0, |s| s.steps);
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
        dangerous_builds: md.dangerous_builds(),
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
        resumed_from: None,
        first_thermo: stats.map(|s| ThermoSummary::from(&s.first_thermo)),
        final_thermo: stats.map(|s| ThermoSummary::from(&s.last_thermo)),
    }
}
