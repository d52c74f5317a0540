//! `calcine react`: parses the arguments, calls `calcine-automaton` and reports.

use crate::report::say;
use crate::run::Parallel;
use anyhow::{bail, Context, Result};
use calcine_automaton::{output, Library, Recipe};
use calcine_comm::{Communicator, SerialComm};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `calcine react` beyond the recipe.
#[derive(Debug)]
pub struct ReactArgs {
    pub recipe: PathBuf,
    /// The reaction library for a ReactCA JSON recipe (a TOML recipe names its own).
    pub library: Option<PathBuf>,
    pub output: PathBuf,
    pub realisations: Option<usize>,
    pub seed: Option<u64>,
    /// No PNG charts, whatever the recipe says.
    pub no_plots: bool,
}

/// `calcine react`.
pub fn react(args: &ReactArgs, quiet: bool, par: &Parallel) -> Result<()> {
    let mut recipe = Recipe::read(&args.recipe)?;
    if let Some(lib) = &args.library {
        recipe.library = Some(lib.clone());
    }
    if let Some(n) = args.realisations {
        recipe.realisations = n;
    }
    if let Some(s) = args.seed {
        recipe.seed = s;
    }
    if args.no_plots {
        recipe.plots = false;
    }
    recipe.check(&args.recipe)?;
    if recipe.library.is_none() && recipe.phase_table.is_none() {
        bail!("{}: a ReactCA JSON recipe names no library; give one with --library", args.recipe.display())
    }
    let library = recipe.load_library()?;
    let size = par.size();
    let l = recipe.size as f64;
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
        None => calcine_comm::ProcGrid::choose(size, [l, l, l]),
    };
    #[cfg(feature = "mpi")]
    if let Some(u) = &par.universe {
        if size > 1 {
            return react_with(args, &recipe, &library, &u.cartesian(dims, [true; 3]), quiet);
        }
    }
    let _ = dims;
    react_with(args, &recipe, &library, &SerialComm::new([true; 3]), quiet)
}

fn react_with(
    args: &ReactArgs,
    recipe: &Recipe,
    library: &Library,
    comm: &dyn Communicator,
    quiet: bool,
) -> Result<()> {
    let rank0 = comm.rank() == 0;
    let bar = if rank0 && !quiet {
        let bar = indicatif::ProgressBar::new(1000);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed_precise} (eta {eta})")
                .expect("a valid template"),
        );
        Some(bar)
    } else {
        None
    };
    let start = Instant::now();
    let progress = |p: calcine_automaton::Progress| {
        if let Some(b) = &bar {
            b.set_position((1000.0 * p.done / p.total.max(1e-300)).min(1000.0) as u64);
        }
    };
    let result = calcine_automaton::run(recipe, library, comm, &progress)?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if !rank0 {
        return Ok(());
    }
    output::write_all(&args.output, recipe, library, &result)
        .with_context(|| format!("writing the results into {}", args.output.display()))?;
    report(&args.output, recipe, library, &result, seconds, comm.size());
    Ok(())
}

fn report(
    dir: &Path,
    recipe: &Recipe,
    library: &Library,
    result: &calcine_automaton::RunResult,
    seconds: f64,
    ranks: usize,
) {
    let visits: u64 = result.realisations.iter().map(|r| r.visits).sum();
    say(format_args!(
        "calcine react: {} realisation(s) of {}^3 cells, mode {:?}, {} sweeps each, on {ranks} rank(s) x {} thread(s)",
        result.realisations.len(),
        recipe.size,
        recipe.mode,
        recipe.total_sweeps(),
        rayon::current_num_threads()
    ));
    say(format_args!("Loop time {seconds:.3} s, {:.4e} cell updates/s", visits as f64 / seconds.max(1e-9)));
    say(format_args!("Final mole fractions (mean and standard deviation over realisations):"));
    let seen = output::phases_seen(library, result);
    let finals: Vec<output::Fractions> = result
        .realisations
        .iter()
        .filter_map(|r| r.records.last().map(|rec| output::fractions(library, rec)))
        .collect();
    for p in seen {
        let v: Vec<f64> = finals.iter().map(|f| f.mole[p]).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std =
            if v.len() > 1 { (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() } else { 0.0 };
        say(format_args!("  {:<14} {mean:.6} ± {std:.6}", library.phases.phases[p].name));
    }
    let (pooled, total) =
        result.realisations.iter().filter_map(|r| r.records.last()).fold((0i128, 0i128), |acc, rec| {
            (acc.0 + rec.pooled.iter().sum::<i128>(), acc.1 + rec.amounts.iter().sum::<i128>())
        });
    if pooled > 0 {
        say(format_args!(
            "Pooled (placed after each sweep): {:.3e} of all moles at the end",
            pooled as f64 / total as f64
        ));
    }
    let charts = if recipe.plots { ", fractions.png and slice.png" } else { "" };
    say(format_args!("Wrote fractions.csv, summary.csv, result.json, slice.csv{charts} in {}", dir.display()));
}
