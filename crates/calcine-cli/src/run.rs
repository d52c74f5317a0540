//! `calcine run` and `calcine validate`.

use crate::input::{InputFile, IntegratorInput, StorageInput};
use crate::registry::build_potential;
use crate::system::{apply_masses, build_system, System};
use anyhow::{bail, Context, Result};
use calcine_comm::{Communicator, SerialComm};
use calcine_domain::Domain;
use calcine_md::{Frame, Integrator, ListStorage, Md, MdSettings, Section};
use calcine_potential::{Potential, Want};
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Everything a run needs, checked.
struct Prepared {
    system: System,
    potential: Box<dyn Potential>,
    integrator: Integrator,
    settings: MdSettings,
}

fn prepare(file: &InputFile) -> Result<Prepared> {
    let mut system = build_system(file)?;
    let potential = build_potential(file, &file.input.potential, &system.species)?;
    apply_masses(file, &mut system, potential.masses())?;
    let run = &file.input.run;
    if !(run.timestep > 0.0 && run.timestep.is_finite()) {
        bail!("{}: timestep must be a positive number of ps, got {}", file.at_key("timestep"), run.timestep);
    }
    if let Some(t) = run.temperature {
        if !(t >= 0.0 && t.is_finite()) {
            bail!("{}: temperature must be >= 0 K, got {t}", file.at_key("temperature"));
        }
    }
    let integrator = match &file.input.integrator {
        IntegratorInput::Nve => Integrator::Nve,
        IntegratorInput::Langevin { temperature, damping } => {
            check_thermostat(file, *temperature, *damping)?;
            Integrator::Langevin { temperature: *temperature, damping: *damping, seed: run.seed }
        }
        IntegratorInput::NoseHoover { temperature, damping, chain } => {
            check_thermostat(file, *temperature, *damping)?;
            if *chain == 0 {
                bail!("{}: a Nosé–Hoover chain needs at least one thermostat", file.at_key("chain"));
            }
            Integrator::NoseHoover { temperature: *temperature, damping: *damping, chain: *chain }
        }
    };
    let nb = &file.input.neighbor;
    if !(nb.skin >= 0.0 && nb.skin.is_finite()) {
        bail!("{}: skin must be >= 0 Å, got {}", file.at_key("skin"), nb.skin);
    }
    let out = &file.input.output;
    if out.thermo_every == 0 || out.trajectory_every == 0 {
        bail!(
            "{}: output intervals must be at least 1 step",
            file.at_key(if out.thermo_every == 0 { "thermo_every" } else { "trajectory_every" })
        );
    }
    let settings = MdSettings {
        timestep: run.timestep,
        skin: nb.skin,
        sort_every: nb.sort_every,
        max_step_displacement: run.max_step_displacement,
        list_storage: match nb.storage {
            StorageInput::Auto => ListStorage::Auto,
            StorageInput::Packed => ListStorage::Packed,
            StorageInput::Plain => ListStorage::Plain,
        },
    };
    Ok(Prepared { system, potential, integrator, settings })
}

fn check_thermostat(file: &InputFile, temperature: f64, damping: f64) -> Result<()> {
    if !(temperature > 0.0 && temperature.is_finite()) {
        bail!("{}: thermostat temperature must be positive, got {temperature}", file.at_key("temperature"));
    }
    if !(damping > 0.0 && damping.is_finite()) {
        bail!("{}: damping must be a positive time in ps, got {damping}", file.at_key("damping"));
    }
    Ok(())
}

/// `calcine validate`: everything `run` does before the first step, then a summary.
pub fn validate(path: &Path) -> Result<()> {
    let file = InputFile::read(path)?;
    let p = prepare(&file)?;
    let lengths = p.system.simbox.lengths();
    println!("{}: ok", path.display());
    println!(
        "  atoms      {} in a {:.4} × {:.4} × {:.4} Å box{}",
        p.system.atoms.n_atoms(),
        lengths[0],
        lengths[1],
        lengths[2],
        if p.system.simbox.is_triclinic() { " (triclinic)" } else { "" }
    );
    for (_, s) in p.system.species.iter() {
        println!("  species    {} (mass {} g/mol)", s.name, s.mass);
    }
    println!("  potential  {} (cutoff {} Å)", p.potential.name(), p.potential.cutoff());
    println!("  integrator {:?}", p.integrator);
    println!("  steps      {} × {} ps", file.input.run.steps, p.settings.timestep);
    Ok(())
}

/// How the ranks of a run are set up.
pub struct Parallel {
    #[cfg(feature = "mpi")]
    pub universe: Option<calcine_comm::MpiUniverse>,
    /// A processor grid forced by the user (`--grid`).
    pub grid: Option<[usize; 3]>,
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
    // Every rank reads the input and builds the whole system; each keeps its own part.
    let file = InputFile::read(path)?;
    let prepared = prepare(&file)?;
    let size = par.size();
    let lengths = prepared.system.simbox.lengths();
    let dims = match par.grid {
        Some(g) if g.iter().product::<usize>() != size => {
            bail!(
                "--grid {}x{}x{} needs {} ranks, but the run has {size}",
                g[0],
                g[1],
                g[2],
                g.iter().product::<usize>()
            )
        }
        Some(g) => g,
        None => calcine_comm::ProcGrid::choose(size, lengths),
    };
    let periodic = prepared.system.simbox.periodic();
    #[cfg(feature = "mpi")]
    if let Some(u) = &par.universe {
        if size > 1 {
            return run_with(&file, prepared, u.cartesian(dims, periodic), quiet);
        }
    }
    let _ = dims;
    run_with(&file, prepared, SerialComm::new(periodic), quiet)
}

/// Prints an error found on this rank alone outside any collective phase and ends every
/// rank (LAMMPS's `Error::one`).
fn or_abort<C: Communicator, T>(comm: &C, r: Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error (rank {}): {e:#}", comm.rank());
            comm.abort(1)
        }
    }
}

/// Turns an error every rank has (each perhaps only knowing "another rank failed") into
/// one message on rank 0. Collective.
fn collective_error<C: Communicator>(comm: &C, e: anyhow::Error) -> anyhow::Error {
    let text = format!("{e:#}");
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

fn run_with<C: Communicator>(file: &InputFile, prepared: Prepared, comm: C, quiet: bool) -> Result<()> {
    let Prepared { system, potential, integrator, settings } = prepared;
    let run = &file.input.run;
    let out = &file.input.output;
    let rank0 = comm.rank() == 0;
    let made = if rank0 {
        std::fs::create_dir_all(&out.directory)
            .with_context(|| format!("creating output folder {}", out.directory.display()))
    } else {
        Ok(())
    };
    if comm.any(made.is_err()) {
        return Err(made.err().unwrap_or_else(|| anyhow::Error::new(ReportedElsewhere)));
    }

    let domain = Domain::new(comm, system.simbox.clone());
    let simbox = system.simbox;
    let atoms = system.atoms.into_atoms(|x| domain.owns_fractional(&simbox.to_fractional(x)));
    let setup_start = Instant::now();
    // Errors of `build` are the same on every rank (all read the same input).
    let mut md = Md::build(domain, atoms, system.species, potential, integrator, settings)?;
    if let Err(e) = md.setup() {
        let e = anyhow::Error::new(e).context("setting up the run (step 0)");
        return Err(collective_error(md.comm(), e));
    }
    if let Some(t) = run.temperature {
        md.create_velocities(t, run.seed);
    }
    if rank0 {
        tracing::info!(
            atoms = md.n_atoms(),
            potential = md.potential().name(),
            ranks = md.comm().size(),
            grid = ?md.comm().grid().dims,
            threads = rayon::current_num_threads(),
            setup_s = setup_start.elapsed().as_secs_f64(),
            "starting {} steps",
            run.steps
        );
    }

    let mut thermo = or_abort(md.comm(), ThermoWriter::create(&out.directory.join(&out.thermo), rank0));
    let mut trajectory = match &out.trajectory {
        Some(t) => Some(or_abort(md.comm(), Trajectory::create(&out.directory.join(t), rank0))),
        None => None,
    };
    let first = md.thermo();
    or_abort(md.comm(), thermo.write(&first));
    let mut last = first.clone();
    if let Some(traj) = &mut trajectory {
        let frame = md.gather_frame();
        or_abort(md.comm(), traj.write(frame, md.species()));
    }

    let progress = if rank0 && !quiet { ProgressBar::new(run.steps) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} steps  {msg}  ETA {eta}")
            .expect("valid progress template"),
    );
    md.timers_mut().reset();
    let loop_start = Instant::now();
    let n_atoms = md.n_atoms();
    let mut result = Ok(());
    for k in 1..=run.steps {
        let thermo_step = k % out.thermo_every == 0 || k == run.steps;
        let want =
            if thermo_step { Want { energy: true, virial: true, per_atom_energy: false } } else { Want::FORCES_ONLY };
        if let Err(e) = md.advance(want) {
            result = Err(e);
            break;
        }
        let t = Instant::now();
        if thermo_step {
            let row = md.thermo();
            or_abort(md.comm(), thermo.write(&row));
            last = row;
        }
        if let Some(traj) = &mut trajectory {
            if k % out.trajectory_every == 0 {
                let frame = md.gather_frame();
                or_abort(md.comm(), traj.write(frame, md.species()));
            }
        }
        md.timers_mut().add(Section::Output, t);
        if k % 50 == 0 || k == run.steps {
            progress.set_position(k);
            let rate = (k * n_atoms) as f64 / loop_start.elapsed().as_secs_f64();
            progress.set_message(format!("{} atom-steps/s", human(rate)));
        }
    }
    progress.finish_and_clear();
    or_abort(md.comm(), thermo.flush());
    if let Err(e) = result {
        let e = anyhow::Error::new(e)
            .context(format!("run stopped at step {} (outputs up to there are complete)", md.step() + 1));
        return Err(collective_error(md.comm(), e));
    }

    let elapsed = loop_start.elapsed().as_secs_f64();
    let load = LoadReport::gather(&md);
    if rank0 {
        print_summary(&md, elapsed, run.steps);
        load.print();
        let n = md.n_atoms() as f64;
        println!(
            "Thermo: step {} -> {}: T {:.2} -> {:.2} K, PE {:.6} -> {:.6} eV/atom, conserved energy changed by {:.3e} eV/atom",
            first.step,
            last.step,
            first.temperature,
            last.temperature,
            first.potential_energy / n,
            last.potential_energy / n,
            (last.conserved - first.conserved) / n
        );
        println!("Thermo written to {}", thermo.path.display());
        if let Some(traj) = &trajectory {
            println!("Trajectory written to {}", traj.path.display());
        }
    }
    Ok(())
}

/// Atoms per rank and memory, gathered at the end of a run.
struct LoadReport {
    n_ranks: usize,
    max_atoms: f64,
    min_atoms: f64,
    total_atoms: f64,
    peak_rss_total: u64,
    neighbor_bytes: u64,
    atom_bytes: u64,
}

impl LoadReport {
    fn gather<C: Communicator>(md: &Md<C>) -> Self {
        let comm = md.comm();
        let n = md.atoms().n_owned() as f64;
        let mut sums = [
            md.atoms().n_owned() as u64,
            peak_rss_bytes(),
            md.neighbors().memory_bytes() as u64,
            atoms_bytes(md.atoms()) as u64,
        ];
        comm.sum_u64(&mut sums);
        Self {
            n_ranks: comm.size(),
            max_atoms: comm.max_f64(n),
            min_atoms: -comm.max_f64(-n),
            total_atoms: sums[0] as f64,
            peak_rss_total: sums[1],
            neighbor_bytes: sums[2],
            atom_bytes: sums[3],
        }
    }

    fn print(&self) {
        let avg = self.total_atoms / self.n_ranks as f64;
        println!();
        println!(
            "Load: {:.0} atoms per rank on average, min {:.0}, max {:.0}; imbalance (max/avg) {:.3}",
            avg,
            self.min_atoms,
            self.max_atoms,
            self.max_atoms / avg
        );
        if self.peak_rss_total > 0 {
            println!(
                "Memory: peak resident {:.1} MiB over all ranks, {:.0} bytes per atom (atom arrays {:.0}, neighbor lists {:.0})",
                self.peak_rss_total as f64 / 1048576.0,
                self.peak_rss_total as f64 / self.total_atoms,
                self.atom_bytes as f64 / self.total_atoms,
                self.neighbor_bytes as f64 / self.total_atoms
            );
        }
    }
}

/// Bytes held by the per-atom arrays (capacity, owned and ghost).
fn atoms_bytes(a: &calcine_core::Atoms) -> usize {
    a.ids.capacity() * 8
        + a.species.capacity() * 4
        + a.positions.capacity() * 24
        + a.velocities.capacity() * 24
        + a.images.capacity() * 12
}

/// This process's peak resident memory (VmHWM), or 0 where /proc is not available.
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

fn human(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// The end-of-run report, in the spirit of LAMMPS's "Loop time" breakdown.
fn print_summary<C: Communicator>(md: &Md<C>, elapsed: f64, steps: u64) {
    let n = md.n_atoms();
    println!(
        "Loop time of {elapsed:.4} s on {} rank(s) × {} thread(s) for {steps} steps with {n} atoms",
        md.comm().size(),
        rayon::current_num_threads()
    );
    if steps > 0 && elapsed > 0.0 {
        let rate = (steps * n) as f64 / elapsed;
        println!(
            "Performance: {:.4e} atom-steps/s, {:.4} µs per atom-step, {:.2} steps/s",
            rate,
            1e6 / rate,
            steps as f64 / elapsed
        );
    }
    println!("Neighbor list builds: {}", md.n_rebuilds());
    println!();
    println!("Section |  time (s)  | %total");
    println!("--------+------------+-------");
    let timers = md.timers();
    let mut accounted = 0.0;
    for s in Section::ALL {
        let t = timers.get(s).as_secs_f64();
        accounted += t;
        println!("{:<7} | {:>10.4} | {:>5.1}", s.label(), t, 100.0 * t / elapsed.max(1e-12));
    }
    let other = (elapsed - accounted).max(0.0);
    println!("{:<7} | {:>10.4} | {:>5.1}", "Other", other, 100.0 * other / elapsed.max(1e-12));
}

/// Thermo rows in CSV, flushed after each row so a crash never leaves a partial line.
struct ThermoWriter {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl ThermoWriter {
    fn create(path: &Path, rank0: bool) -> Result<Self> {
        let file = if rank0 {
            let mut f = BufWriter::new(File::create(path).with_context(|| format!("creating {}", path.display()))?);
            writeln!(f, "{}", calcine_md::Thermo::CSV_HEADER)?;
            Some(f)
        } else {
            None
        };
        Ok(Self { path: path.to_path_buf(), file })
    }
    fn write(&mut self, t: &calcine_md::Thermo) -> Result<()> {
        if let Some(f) = &mut self.file {
            writeln!(f, "{}", t.csv_row()).with_context(|| format!("writing {}", self.path.display()))?;
            f.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<()> {
        if let Some(f) = &mut self.file {
            f.flush()?;
        }
        Ok(())
    }
}

/// A trajectory file in the format its extension names.
struct Trajectory {
    path: PathBuf,
    writer: Option<TrajectoryWriter>,
}

enum TrajectoryWriter {
    Extxyz(calcine_io::ExtxyzWriter<File>),
    Dump(calcine_io::DumpWriter<File>),
}

impl Trajectory {
    fn create(path: &Path, rank0: bool) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let writer = match (rank0, ext.as_str()) {
            (false, _) => None,
            (true, "xyz" | "extxyz") => Some(TrajectoryWriter::Extxyz(calcine_io::ExtxyzWriter::create(path)?)),
            (true, "dump" | "lammpstrj") => Some(TrajectoryWriter::Dump(calcine_io::DumpWriter::create(path)?)),
            (true, _) => bail!("trajectory {}: unknown format: use .xyz/.extxyz or .dump/.lammpstrj", path.display()),
        };
        Ok(Self { path: path.to_path_buf(), writer })
    }

    fn write(&mut self, frame: Option<Frame>, species: &calcine_core::SpeciesTable) -> Result<()> {
        if let (Some(w), Some(f)) = (&mut self.writer, frame) {
            let fr = calcine_io::FrameRef::new(&f.simbox, species, &f.ids, &f.species, &f.positions, &f.velocities)
                .with_forces(&f.forces)
                .with_images(&f.images)
                .at(f.step, f.time);
            match w {
                TrajectoryWriter::Extxyz(w) => w.write_frame(&fr)?,
                TrajectoryWriter::Dump(w) => w.write_frame(&fr)?,
            }
        }
        Ok(())
    }
}
