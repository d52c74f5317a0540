//! `calcine run` and `calcine validate`.

use crate::input::{InputFile, IntegratorInput};
use crate::registry::build_potential;
use crate::system::{apply_masses, build_system, System};
use anyhow::{bail, Context, Result};
use calcine_comm::{Communicator, SerialComm};
use calcine_domain::Domain;
use calcine_md::{Frame, Integrator, Md, MdSettings, Section};
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
        p.system.atoms.n_owned(),
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

/// `calcine run`.
pub fn run(path: &Path, quiet: bool) -> Result<()> {
    let file = InputFile::read(path)?;
    let Prepared { system, potential, integrator, settings } = prepare(&file)?;
    let run = &file.input.run;
    let out = &file.input.output;
    std::fs::create_dir_all(&out.directory)
        .with_context(|| format!("creating output folder {}", out.directory.display()))?;

    let comm = SerialComm::new(system.simbox.periodic());
    let domain = Domain::new(comm, system.simbox.clone());
    let setup_start = Instant::now();
    let mut md = Md::new(domain, system.atoms, system.species, potential, integrator, settings)?;
    if let Some(t) = run.temperature {
        md.create_velocities(t, run.seed);
    }
    let rank0 = md.comm().rank() == 0;
    if rank0 {
        tracing::info!(
            atoms = md.n_atoms(),
            potential = md.potential().name(),
            ranks = md.comm().size(),
            threads = rayon::current_num_threads(),
            setup_s = setup_start.elapsed().as_secs_f64(),
            "starting {} steps",
            run.steps
        );
    }

    let mut thermo = ThermoWriter::create(&out.directory.join(&out.thermo), rank0)?;
    let mut trajectory = match &out.trajectory {
        Some(t) => Some(Trajectory::create(&out.directory.join(t), rank0)?),
        None => None,
    };
    thermo.write(&md.thermo())?;
    if let Some(traj) = &mut trajectory {
        traj.write(md.gather_frame(), md.species())?;
    }

    let progress = if rank0 && !quiet { ProgressBar::new(run.steps) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} steps  {msg}  ETA {eta}")
            .expect("valid progress template"),
    );
    md.timers_mut().reset();
    let loop_start = Instant::now();
    let n_atoms = md.n_atoms();
    let result = (|| -> Result<()> {
        for k in 1..=run.steps {
            let thermo_step = k % out.thermo_every == 0 || k == run.steps;
            let want = if thermo_step {
                Want { energy: true, virial: true, per_atom_energy: false }
            } else {
                Want::FORCES_ONLY
            };
            md.advance(want)?;
            let t = Instant::now();
            if thermo_step {
                thermo.write(&md.thermo())?;
            }
            if let Some(traj) = &mut trajectory {
                if k % out.trajectory_every == 0 {
                    traj.write(md.gather_frame(), md.species())?;
                }
            }
            md.timers_mut().add(Section::Output, t);
            if k % 50 == 0 || k == run.steps {
                progress.set_position(k);
                let rate = (k * n_atoms) as f64 / loop_start.elapsed().as_secs_f64();
                progress.set_message(format!("{} atom-steps/s", human(rate)));
            }
        }
        Ok(())
    })();
    progress.finish_and_clear();
    thermo.flush()?;
    result.with_context(|| format!("run stopped at step {} (outputs up to there are complete)", md.step()))?;

    if rank0 {
        let elapsed = loop_start.elapsed().as_secs_f64();
        print_summary(&md, elapsed, run.steps);
        println!("Thermo written to {}", thermo.path.display());
        if let Some(traj) = &trajectory {
            println!("Trajectory written to {}", traj.path.display());
        }
    }
    Ok(())
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
