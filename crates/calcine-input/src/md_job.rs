//! An MD input made ready to run: `calcine run` and `calcine validate`.

use std::path::Path;

use calcine_comm::{Communicator, ProcGrid};
use calcine_core::{AtomRecord, Atoms};
use calcine_domain::Domain;
use calcine_io::{Checkpoint, Compatibility, GradeWatch, H5mdContents, H5mdWrite, OutputSpec, TrajectoryFormat};
use calcine_md::{Integrator, Md, MdSettings, ThermostatState};
use calcine_potential::{AtomGrade, NeighborKind, Potential};
use sha2::{Digest, Sha256};

use crate::budget::{available_memory, human_bytes, MemoryEstimate, RunShape};
use crate::registry::{build_grade, build_potential};
use crate::sections::{IntegratorSection, MdDocument};
use crate::system::{apply_masses, build_system, AtomSource, System};
use crate::transport::{read_on_the_fly, OnTheFly};
use crate::{InputError, InputFile};

/// Everything a run needs, checked: the whole system (a lattice not yet made), the
/// potential, the integrator and settings, and where outputs go.
pub struct MdJob {
    pub file: InputFile<MdDocument>,
    pub system: System,
    pub potential: Box<dyn Potential>,
    /// A per-atom grade to compute (ACE's extrapolation grade, with `active_set`).
    pub grade: Option<Box<dyn AtomGrade>>,
    pub integrator: Integrator,
    pub settings: MdSettings,
    pub steps: u64,
    /// Initial velocities are drawn at this temperature (K) when set.
    pub initial_temperature: Option<f64>,
    pub seed: u64,
    pub output: OutputSpec,
    /// Transport analysed during the run.
    pub transport: Option<OnTheFly>,
}

impl std::fmt::Debug for MdJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MdJob")
            .field("path", &self.file.path)
            .field("atoms", &self.system.atoms.n_atoms())
            .field("potential", &self.potential.name())
            .field("integrator", &self.integrator)
            .field("steps", &self.steps)
            .finish()
    }
}

impl MdJob {
    /// Reads an input and checks everything that does not depend on the number of ranks:
    /// keys and values, the structure (a lattice's size with checked arithmetic, without
    /// making its atoms), the potential files and species, masses, and that the output
    /// folder can be written.
    pub fn read(path: &Path) -> Result<Self, InputError> {
        let file: InputFile<MdDocument> = InputFile::read(path)?;
        let doc = &file.doc;
        let mut system = build_system(&file, &doc.system)?;
        let potential = build_potential(&file, &doc.potential, &system.species)?;
        let grade = build_grade(&file, &doc.potential, &system.species)?;
        apply_masses(&file, &doc.system, &mut system, potential.masses())?;

        let run = &doc.run;
        if !(run.timestep > 0.0 && run.timestep.is_finite()) {
            return Err(
                file.invalid("timestep", format!("timestep must be a positive number of ps, got {}", run.timestep))
            );
        }
        if let Some(t) = run.temperature {
            if !(t >= 0.0 && t.is_finite()) {
                return Err(file.invalid("temperature", format!("temperature must be >= 0 K, got {t}")));
            }
        }
        if !(run.max_step_displacement > 0.0) {
            return Err(file.invalid(
                "max_step_displacement",
                format!("max_step_displacement must be a positive distance in Å, got {}", run.max_step_displacement),
            ));
        }
        let integrator = match &doc.integrator {
            IntegratorSection::Nve => Integrator::Nve,
            IntegratorSection::Langevin { temperature, damping } => {
                check_thermostat(&file, *temperature, *damping)?;
                Integrator::Langevin { temperature: *temperature, damping: *damping, seed: run.seed }
            }
            IntegratorSection::NoseHoover { temperature, damping, chain } => {
                check_thermostat(&file, *temperature, *damping)?;
                if *chain == 0 {
                    return Err(file.invalid("chain", "a Nosé–Hoover chain needs at least one thermostat"));
                }
                Integrator::NoseHoover { temperature: *temperature, damping: *damping, chain: *chain }
            }
        };
        let nb = &doc.neighbor;
        if !(nb.skin >= 0.0 && nb.skin.is_finite()) {
            return Err(file.invalid("skin", format!("skin must be >= 0 Å, got {}", nb.skin)));
        }
        if nb.every == 0 {
            return Err(file.invalid("every", "lists can be rebuilt every 1 step at most often: every must be >= 1"));
        }
        let out = &doc.output;
        if out.thermo_every == 0 || out.trajectory_every == 0 {
            let key = if out.thermo_every == 0 { "thermo_every" } else { "trajectory_every" };
            return Err(file.invalid(key, "output intervals must be at least 1 step"));
        }
        if let Some(t) = &out.trajectory {
            TrajectoryFormat::of(t).map_err(|_| {
                file.invalid(
                    "trajectory",
                    format!("trajectory '{}': unknown format: use {}", t.display(), TrajectoryFormat::KNOWN),
                )
            })?;
        }
        if out.checkpoint_every == Some(0) {
            return Err(file.invalid("checkpoint_every", "checkpoint_every must be at least 1 step"));
        }
        let h5md_write = match out.h5md_write.as_str() {
            "auto" => H5mdWrite::Auto,
            "gathered" => H5mdWrite::Gathered,
            "collective" => H5mdWrite::Collective,
            other => {
                return Err(file.invalid(
                    "h5md_write",
                    format!("h5md_write = \"{other}\": use \"auto\", \"gathered\" or \"collective\""),
                ))
            }
        };
        if h5md_write == H5mdWrite::Collective {
            if !H5mdWrite::AVAILABLE {
                return Err(file.invalid(
                    "h5md_write",
                    "h5md_write = \"collective\" needs calcine built with parallel HDF5 (cargo build --features mpio; see docs/parallel.md)",
                ));
            }
            if out.trajectory.as_deref().map(TrajectoryFormat::of).and_then(Result::ok) != Some(TrajectoryFormat::H5md)
            {
                return Err(file.invalid(
                    "h5md_write",
                    "h5md_write = \"collective\" applies to an H5MD trajectory (trajectory = \"….h5\" or \"….h5md\")",
                ));
            }
        }
        let h5md_fields = H5mdContents::from_fields(&out.h5md_fields).map_err(|m| file.invalid("h5md_fields", m))?;
        if out.trajectory_virials
            && out.trajectory.as_deref().map(TrajectoryFormat::of).and_then(Result::ok) == Some(TrajectoryFormat::H5md)
        {
            return Err(file.invalid(
                "trajectory_virials",
                "an H5MD trajectory stores per-atom virials when h5md_fields names \"virial\" (particles/all/virial): add it there",
            ));
        }
        check_output_directory(&out.directory).map_err(|message| file.invalid("directory", message))?;
        let settings = MdSettings {
            timestep: run.timestep,
            skin: nb.skin,
            sort_every: nb.sort_every,
            max_step_displacement: run.max_step_displacement,
            list_storage: nb.storage.into(),
            rebuild: calcine_md::RebuildPolicy { every: nb.every, delay: nb.delay, check: nb.check },
        };
        let output = OutputSpec {
            directory: out.directory.clone(),
            thermo: out.thermo.clone(),
            thermo_every: out.thermo_every,
            trajectory: out.trajectory.clone(),
            trajectory_every: out.trajectory_every,
            checkpoint_every: out.checkpoint_every,
            trajectory_energies: out.trajectory_energies,
            trajectory_virials: out.trajectory_virials,
            grade: grade.as_ref().map(|g| g.name().to_string()),
            grade_watch: None,
            h5md_write,
            h5md_fields,
            plots: out.plots,
        };
        let output = match &doc.extrapolation {
            None => output,
            Some(x) => {
                if grade.is_none() {
                    return Err(file.invalid(
                        "extrapolation",
                        "[extrapolation] needs the extrapolation grade: give the ace potential an active_set (the .asi of its .yaml)",
                    ));
                }
                if x.every == Some(0) {
                    return Err(file.invalid("every", "the grade's interval must be at least 1 step"));
                }
                for (key, value) in [("dump_above", x.dump_above), ("halt_above", x.halt_above)] {
                    if value.is_some_and(|v| !(v >= 0.0 && v.is_finite())) {
                        return Err(
                            file.invalid(key, format!("{key} must be a grade >= 0, got {}", value.unwrap_or(0.0)))
                        );
                    }
                }
                if let (Some(d), Some(h)) = (x.dump_above, x.halt_above) {
                    if h < d {
                        return Err(file.invalid(
                            "halt_above",
                            format!("halt_above = {h} is below dump_above = {d}: no structure could be dumped before the run stops"),
                        ));
                    }
                }
                let file_name = x.file.clone().unwrap_or_else(|| GradeWatch::DEFAULT_FILE.into());
                if [Some(&output.thermo), output.trajectory.as_ref()].into_iter().flatten().any(|f| *f == file_name) {
                    return Err(
                        file.invalid("file", format!("'{}' is already another output of the run", file_name.display()))
                    );
                }
                OutputSpec {
                    grade_watch: Some(GradeWatch {
                        every: x.every.unwrap_or(output.thermo_every),
                        file: file_name,
                        dump_above: x.dump_above,
                        halt_above: x.halt_above,
                    }),
                    ..output
                }
            }
        };
        let (steps, initial_temperature, seed) = (run.steps, run.temperature, run.seed);
        let transport = match &doc.transport {
            None => None,
            Some(t) => {
                let thermostat = match &integrator {
                    Integrator::Nve => None,
                    Integrator::Langevin { temperature, .. } | Integrator::NoseHoover { temperature, .. } => {
                        Some(*temperature)
                    }
                };
                let on_the_fly = read_on_the_fly(&file, t, thermostat, &system.species.names())?;
                let taken = [Some(&output.thermo), output.trajectory.as_ref()].into_iter().flatten();
                if let Some(clash) =
                    taken.map(|p| p.display().to_string()).find(|n| ON_THE_FLY_FILES.contains(&n.as_str()))
                {
                    return Err(
                        file.invalid("transport", format!("'{clash}' is both an output of the run and of [transport]"))
                    );
                }
                Some(on_the_fly)
            }
        };
        Ok(Self {
            file,
            system,
            potential,
            grade,
            integrator,
            settings,
            steps,
            initial_temperature,
            seed,
            output,
            transport,
        })
    }

    /// The processor grid for `ranks` ranks: the one forced by the user (which must have
    /// `ranks` cells) or the one with the least subdomain surface for the box.
    pub fn grid(&self, ranks: usize, forced: Option<[usize; 3]>) -> Result<[usize; 3], InputError> {
        match forced {
            Some(g) if g.iter().product::<usize>() != ranks => Err(InputError::Invalid {
                at: "--grid".into(),
                message: format!(
                    "{}x{}x{} needs {} ranks, but the run has {ranks}",
                    g[0],
                    g[1],
                    g[2],
                    g.iter().product::<usize>()
                ),
            }),
            Some(g) => Ok(g),
            None => Ok(ProcGrid::choose(ranks, self.system.simbox.lengths())),
        }
    }

    /// Estimates the memory of one rank on `grid` and refuses the run when `local_ranks`
    /// ranks of it would not fit in the memory this machine has available.
    pub fn check_memory(&self, grid: [usize; 3], local_ranks: usize) -> Result<MemoryEstimate, InputError> {
        let estimate = MemoryEstimate::of(RunShape {
            n_atoms: self.system.atoms.n_atoms() as f64,
            simbox: &self.system.simbox,
            grid,
            list_radius: self.potential.cutoff() + self.settings.skin,
            full_list: self.potential.neighbor_kind() == NeighborKind::Full,
            read_whole: matches!(self.system.atoms, AtomSource::Given(_)),
            packed: match self.settings.list_storage {
                calcine_md::ListStorage::Packed => Some(true),
                calcine_md::ListStorage::Plain => Some(false),
                calcine_md::ListStorage::Auto => None,
            },
        });
        if let Some(available) = available_memory() {
            let per_rank = available / local_ranks.max(1) as f64;
            if estimate.bytes_per_rank > per_rank {
                return Err(InputError::TooLarge {
                    at: self.file.at_file(),
                    message: format!(
                        "the run needs {}, more than the {} this machine has available{}: use more ranks (on more nodes), a smaller system or a shorter cutoff",
                        estimate.describe(),
                        human_bytes(per_rank),
                        if local_ranks > 1 { format!(" per rank ({local_ranks} ranks here)") } else { String::new() }
                    ),
                });
            }
        }
        Ok(estimate)
    }

    /// SHA-256 of the input file and of every file it names, in the order they were read.
    pub fn inputs_sha256(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.file.text.as_bytes());
        for path in self.file.named_files() {
            hasher.update(path.to_string_lossy().as_bytes());
            match std::fs::read(&path) {
                Ok(bytes) => hasher.update(Sha256::digest(&bytes)),
                Err(_) => hasher.update(b"unreadable"),
            }
        }
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// What a checkpoint of this input records and a resumed run must agree on: the
    /// species and masses, the potential (its style and settings and the bytes of its
    /// files), the integrator (thermostat and seed), the timestep, the neighbor skin (it
    /// decides the lists, so the order of every force sum) and the number of atoms.
    pub fn compatibility(&self) -> Compatibility {
        let mut potential = Sha256::new();
        potential.update(format!("{:?}", self.file.doc.potential).as_bytes());
        for path in self.file.potential_files() {
            potential.update(std::fs::read(&path).unwrap_or_default());
        }
        let species: Vec<String> = self.system.species.iter().map(|(_, s)| format!("{} {}", s.name, s.mass)).collect();
        let digest: String = potential.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
        [
            ("atoms", self.system.atoms.n_atoms().to_string()),
            ("species", species.join(", ")),
            ("potential", format!("{} (files and settings {digest})", self.potential.name())),
            ("integrator", format!("{:?}", self.integrator)),
            ("timestep", self.settings.timestep.to_string()),
            ("skin", self.settings.skin.to_string()),
        ]
        .into_iter()
        .chain((self.settings.rebuild != calcine_md::RebuildPolicy::default()).then(|| {
            let p = self.settings.rebuild;
            ("neighbor", format!("every {} delay {} check {}", p.every, p.delay, if p.check { "yes" } else { "no" }))
        }))
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The engine on `comm`, holding this rank's atoms (a lattice is made only where this
    /// rank owns space): [`Md::build`], not yet [`Md::setup`]. Collective.
    pub fn into_engine<C: Communicator>(self, comm: C) -> Result<(Md<C>, RunPlan), InputError> {
        let MdJob {
            file,
            system,
            potential,
            grade,
            integrator,
            settings,
            steps,
            initial_temperature,
            seed,
            output,
            transport,
        } = self;
        let domain = Domain::new(comm, system.simbox.clone());
        let simbox = system.simbox;
        let atoms = system.atoms.into_atoms(|x| domain.owns_fractional(&simbox.to_fractional(x)));
        let mut md = Md::build(domain, atoms, system.species, potential, integrator, settings)
            .map_err(|e| InputError::Invalid { at: file.at_file(), message: e.to_string() })?;
        if let Some(g) = grade {
            md.set_grade(g).map_err(|e| file.invalid("active_set", e.to_string()))?;
        }
        Ok((md, RunPlan { steps, initial_temperature, seed, output, resumed_from: None, transport }))
    }

    /// The engine on `comm` continuing `checkpoint` (see [`Md::setup_resumed`], which the
    /// caller runs next instead of [`Md::setup`]): its atoms at their positions of the last
    /// list build, its step and thermostat. The checkpoint must belong to this input.
    /// Collective.
    pub fn into_resumed_engine<C: Communicator>(
        self,
        comm: C,
        checkpoint: &Checkpoint,
    ) -> Result<(Md<C>, RunPlan), InputError> {
        let at = self.output.checkpoint_path().display().to_string();
        checkpoint
            .check_compatible(&self.output.checkpoint_path(), &self.compatibility())
            .map_err(|e| InputError::Invalid { at: self.file.at_file(), message: e.to_string() })?;
        if checkpoint.step >= self.steps {
            return Err(InputError::Invalid {
                at,
                message: format!(
                    "nothing to resume: the checkpoint is at step {}, and the input asks for {} steps",
                    checkpoint.step, self.steps
                ),
            });
        }
        let thermostat = ThermostatState::from_words(&checkpoint.thermostat).ok_or_else(|| InputError::Invalid {
            at: at.clone(),
            message: "its thermostat state does not match the integrator".into(),
        })?;
        let MdJob { file, potential, grade, integrator, settings, steps, seed, output, transport, .. } = self;
        let domain = Domain::new(comm, checkpoint.simbox.clone());
        let mut atoms = Atoms::with_capacity(checkpoint.atoms.len());
        for (r, x) in checkpoint.atoms.iter().zip(&checkpoint.build_positions) {
            atoms.push_record(&AtomRecord { position: *x, ..*r });
        }
        let mut md = Md::build(domain, atoms, checkpoint.species.clone(), potential, integrator, settings)
            .map_err(|e| InputError::Invalid { at: file.at_file(), message: e.to_string() })?;
        if let Some(g) = grade {
            md.set_grade(g).map_err(|e| file.invalid("active_set", e.to_string()))?;
        }
        md.start_at(checkpoint.step, Some(thermostat));
        let plan = RunPlan {
            steps: steps - checkpoint.step,
            initial_temperature: None,
            seed,
            output,
            resumed_from: Some(checkpoint.step),
            transport,
        };
        Ok((md, plan))
    }
}

/// What remains of a job once its engine is built.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// Steps still to run.
    pub steps: u64,
    pub initial_temperature: Option<f64>,
    pub seed: u64,
    pub output: OutputSpec,
    /// The step of the checkpoint a resumed run continues.
    pub resumed_from: Option<u64>,
    /// Transport analysed during the run.
    pub transport: Option<OnTheFly>,
}

/// The files the on-the-fly transport analysis writes in the output folder.
pub const ON_THE_FLY_FILES: [&str; 4] = ["transport.json", "transport_doc.json", "curves.csv", "msd.png"];

fn check_thermostat<T>(file: &InputFile<T>, temperature: f64, damping: f64) -> Result<(), InputError> {
    if !(temperature > 0.0 && temperature.is_finite()) {
        return Err(file.invalid("temperature", format!("thermostat temperature must be positive, got {temperature}")));
    }
    if !(damping > 0.0 && damping.is_finite()) {
        return Err(file.invalid("damping", format!("damping must be a positive time in ps, got {damping}")));
    }
    Ok(())
}

/// Whether outputs can be written in `dir`: it is a folder that takes a new file, or it
/// does not exist yet and its nearest existing ancestor is such a folder (the run creates
/// the rest). Leaves nothing behind.
fn check_output_directory(dir: &Path) -> Result<(), String> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let mut existing = dir;
    while !existing.exists() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => {
                existing = Path::new(".");
                break;
            }
        }
    }
    if !existing.is_dir() {
        return Err(format!(
            "output folder '{}' cannot be made: '{}' is a file, not a folder",
            dir.display(),
            existing.display()
        ));
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let probe = existing.join(format!(".calcine-write-test-{}-{nanos}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("output folder '{}' cannot be written: {e}", existing.display())),
    }
}
