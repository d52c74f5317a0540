//! `calcine transport`: read the input (calcine-input), stream each trajectory through the
//! analysis on every rank (calcine-transport), write the outputs on rank 0, and report.

use crate::report::say;
use crate::run::Parallel;
use anyhow::{Context, Result};
use calcine_comm::{Communicator, SerialComm};
use calcine_input::{KinosonJob, TransportJob};
use calcine_transport::kinoson::{detect_hops, kinosons, Hop, KinosonOptions};
use calcine_transport::output::{
    write_arrhenius_outputs, write_kinoson_outputs, write_kinoson_report_outputs, write_run_outputs, ArrheniusReport,
    KinosonReport, KinosonRun,
};
use calcine_transport::{analyse_frames, estimate, Estimate, TransportResults};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

/// `calcine transport`.
pub fn transport(path: &Path, quiet: bool, par: &Parallel) -> Result<()> {
    let job = TransportJob::read(path)?;
    #[cfg(feature = "mpi")]
    if let Some(u) = &par.universe {
        if par.size() > 1 {
            return transport_with(&job, &u.cartesian([par.size(), 1, 1], [true; 3]), quiet);
        }
    }
    let _ = par;
    transport_with(&job, &SerialComm::default(), quiet)
}

fn pm(e: Estimate) -> String {
    if e.std_error.is_finite() {
        format!("{:.5e} ± {:.2e}", e.value, e.std_error)
    } else {
        format!("{:.5e}", e.value)
    }
}

fn transport_with(job: &TransportJob, comm: &dyn Communicator, quiet: bool) -> Result<()> {
    let rank0 = comm.rank() == 0;
    let mut all = Vec::new();
    let several = job.runs.len() > 1;
    for run in &job.runs {
        let spec = job.spec_for(run);
        let path = run.trajectory_for(comm.rank());
        let mut reader = calcine_io::open_frames(&path, job.species_table.clone())
            .with_context(|| format!("opening {}", path.display()))?;
        let bar = (rank0 && !quiet).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]").expect("valid template"));
            bar
        });
        let mut progress = |n: usize| {
            if let Some(bar) = &bar {
                if n.is_multiple_of(64) {
                    bar.set_message(format!("{}: {n} frames", run.trajectory.display()));
                    bar.tick();
                }
            }
        };
        let started = std::time::Instant::now();
        let corr = analyse_frames(reader.as_mut(), &spec, comm, &mut progress)
            .with_context(|| format!("analysing {}", run.trajectory.display()))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let results = estimate(&corr, &job.estimate_options())
            .with_context(|| format!("fitting the curves of {}", run.trajectory.display()))?;
        if rank0 {
            let tag = if several { format!("_{}K", run.temperature) } else { String::new() };
            let written = write_run_outputs(&job.directory, &tag, &corr, &results, &job.metadata, job.plots)?;
            report(&run.trajectory, &results, started.elapsed().as_secs_f64(), comm.size(), corr.spilled);
            say(format_args!(
                "Written: {}",
                written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ));
        }
        all.push(results);
    }
    if several && rank0 {
        let arrhenius = ArrheniusReport::new(&all);
        for (i, fit) in arrhenius.diffusion_fits.iter().enumerate() {
            if let Some(f) = fit {
                say(format_args!(
                    "Arrhenius D({}): Ea = {} eV, D0 = {} Å²/ps, cov(Ea, ln D0) = {:.3e}",
                    arrhenius.species[i],
                    pm(f.activation_energy),
                    pm(f.prefactor),
                    f.covariance[0][1]
                ));
            }
        }
        if let Some(f) = arrhenius.conductivity_fit {
            say(format_args!("Arrhenius σ: Ea = {} eV, σ0 = {} S/m", pm(f.activation_energy), pm(f.prefactor)));
        }
        let written = write_arrhenius_outputs(&job.directory, &arrhenius, job.plots)?;
        say(format_args!(
            "Written: {}",
            written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    if let (Some(k), true) = (&job.kinosons, rank0) {
        kinoson_outputs(job, k)?;
    }
    Ok(())
}

/// The hops of one temperature, from a hop list or found in a trajectory; `what` names
/// the source in messages.
struct HopSet {
    what: String,
    temperature: Option<f64>,
    initial: Vec<usize>,
    hops: Vec<Hop>,
    species: Vec<usize>,
    names: Vec<String>,
    duration: Option<f64>,
}

/// Kinosons of every hop list, or of the hops found in every trajectory (on rank 0): at
/// one temperature `kinosons.json` and `hops.csv`, at several the [`KinosonReport`] with
/// Arrhenius fits of D and D₀ and `hops_<T>K.csv` per temperature.
fn kinoson_outputs(job: &TransportJob, k: &KinosonJob) -> Result<()> {
    let mut sets: Vec<HopSet> = Vec::new();
    if k.hop_lists.is_empty() {
        for run in &job.runs {
            let mut reader = calcine_io::open_frames(run.trajectory_for(0), job.species_table.clone())?;
            let found = detect_hops(reader.as_mut(), &k.sites, k.residence, job.spec.frame_interval, job.spec.timestep)
                .with_context(|| format!("finding hops in {}", run.trajectory.display()))?;
            let duration = Some(k.duration.unwrap_or(found.duration));
            let what = format!("the hops found in {}", run.trajectory.display());
            sets.push(HopSet {
                what,
                temperature: Some(run.temperature),
                initial: found.initial,
                hops: found.hops,
                species: found.species,
                names: found.names,
                duration,
            });
        }
    } else {
        for (i, list) in k.hop_lists.iter().enumerate() {
            let what = match list.temperature {
                Some(t) => format!("kinosons.lists[{i}] ({t} K)"),
                None => "the hop list".to_string(),
            };
            sets.push(HopSet {
                what,
                temperature: list.temperature,
                initial: list.initial.clone(),
                hops: list.hops.clone(),
                species: list.species.clone(),
                names: list.names.clone(),
                duration: list.duration,
            });
        }
    }
    let several = sets.len() > 1;
    let mut runs = Vec::new();
    for HopSet { what, temperature, initial, hops, species, names, duration } in sets {
        let options = KinosonOptions { duration, blocks: k.blocks };
        let results = kinosons(&k.sites, &initial, &species, &names, &hops, options)
            .with_context(|| format!("kinosons of {what}"))?;
        for (i, name) in results.species.iter().enumerate() {
            if results.n_hops[i] == 0 {
                continue;
            }
            let at = match (several, temperature) {
                (true, Some(t)) => format!(" at {t} K"),
                _ => String::new(),
            };
            say(format_args!(
                "Kinosons {name}{at}: {} hops of {} atoms over {:.4} ps, D = {} Å²/ps, D0 = {}, f = {} ({} basis functions)",
                results.n_hops[i],
                results.atoms[i],
                results.duration,
                pm(results.diffusion[i]),
                pm(results.uncorrelated[i]),
                pm(results.correlation_factor[i]),
                results.basis_size
            ));
        }
        runs.push((temperature, results));
    }
    let written = if several {
        let runs = runs
            .into_iter()
            .map(|(t, results)| KinosonRun {
                temperature: t.expect("several kinoson runs each have a temperature"),
                results,
            })
            .collect();
        let report = KinosonReport::new(runs).context("kinosons at several temperatures")?;
        for (i, name) in report.species.iter().enumerate() {
            for (what, fit) in [("D", &report.diffusion_fits[i]), ("D0", &report.uncorrelated_fits[i])] {
                if let Some(f) = fit {
                    say(format_args!(
                        "Arrhenius kinoson {what}({name}): Ea = {} eV, prefactor = {} Å²/ps, cov(Ea, ln prefactor) = {:.3e}",
                        pm(f.activation_energy),
                        pm(f.prefactor),
                        f.covariance[0][1]
                    ));
                }
            }
        }
        write_kinoson_report_outputs(&job.directory, &report, job.plots)?
    } else {
        let (temperature, results) = runs.pop().expect("one kinoson run");
        write_kinoson_outputs(&job.directory, &results, temperature, job.plots)?
    };
    say(format_args!("Written: {}", written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")));
    Ok(())
}

pub(crate) fn report(trajectory: &Path, r: &TransportResults, seconds: f64, ranks: usize, spilled: bool) {
    say(format_args!(
        "{}: {} frames every {} ps, {} atoms, {:.1} K, volume {:.3} Å³ ({}, {} frame; {:.2} s on {ranks} rank(s){})",
        trajectory.display(),
        r.n_frames,
        r.frame_interval,
        r.n_atoms,
        r.temperature,
        r.volume,
        r.method,
        r.reference_frame,
        seconds,
        if spilled { ", per-atom series in a scratch file" } else { "" }
    ));
    let how = |auto: bool| if auto { "automatic" } else { "given" };
    say(format_args!(
        "Fit window: {:.6} to {:.6} ps ({} start, {} end; {} lags; override with fit_start/fit_end)",
        r.fit_window[0],
        r.fit_window[1],
        how(r.fit_window_automatic[0]),
        how(r.fit_window_automatic[1]),
        r.fit_points
    ));
    for (i, s) in r.species.iter().enumerate() {
        say(format_args!(
            "  {s:<4} N {:<6} z {:+.2}  D* {} Å²/ps ({} cm²/s)  D_J {}",
            r.counts[i],
            r.charges[i],
            pm(r.diffusion[i]),
            pm(r.diffusion_cm2_per_s[i]),
            pm(r.jump_diffusion[i])
        ));
    }
    say(format_args!("Onsager L_ij (1/(eV·Å·ps)), total | distinct:"));
    for (i, s) in r.species.iter().enumerate() {
        let row: Vec<String> = r.onsager[i].iter().map(|e| pm(*e)).collect();
        let dis: Vec<String> = r.onsager_distinct[i].iter().map(|e| format!("{:.4e}", e.value)).collect();
        say(format_args!("  {s:<4} {} | {}", row.join("  "), dis.join("  ")));
    }
    if let Some(s) = r.conductivity {
        say(format_args!("Conductivity (Einstein-Helfand): {} S/m", pm(s)));
    }
    if let Some(s) = r.conductivity_nernst_einstein {
        say(format_args!("Conductivity (Nernst-Einstein): {} S/m", pm(s)));
    }
    if let Some(h) = r.haven_ratio {
        say(format_args!("Haven ratio: {}", pm(h)));
    }
    if let Some(t) = &r.transference {
        let parts: Vec<String> = r.species.iter().zip(t).map(|(s, e)| format!("{s} {}", pm(*e))).collect();
        say(format_args!("Transference numbers: {}", parts.join(", ")));
    }
    if let Some(g) = &r.green_kubo {
        let parts: Vec<String> = r.species.iter().zip(&g.diffusion).map(|(s, d)| format!("{s} {d:.5e}")).collect();
        say(format_args!(
            "Green-Kubo (plateau {:.4} to {:.4} ps): D {} Å²/ps{}",
            g.window_ps[0],
            g.window_ps[1],
            parts.join(", "),
            g.conductivity.map_or(String::new(), |s| format!(", σ {s:.5e} S/m"))
        ));
    }
}
