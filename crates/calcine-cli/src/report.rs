//! What the binary tells the user: printed lines that survive a closed stdout, the
//! end-of-run report (LAMMPS's "Loop time" breakdown, load and memory), error messages
//! without repeated causes, and the progress bar.

use calcine_comm::Communicator;
use calcine_io::{Needs, StepHook, StepView};
use calcine_md::{LoadReport, Md, Section};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::time::Instant;

/// Prints a line on stdout. A closed or full stdout (`| head`, `/dev/full`) must not stop
/// or crash a run whose results go to files, so write errors are ignored.
pub fn say(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(line).and_then(|()| out.write_all(b"\n"));
}

/// An error with its causes, each said once: a cause whose text the message already holds
/// (an OS error both wrapped and quoted) is not repeated.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

pub fn human(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// The end-of-run report, in the spirit of LAMMPS's "Loop time" breakdown.
pub fn print_summary<C: Communicator>(md: &Md<C>, elapsed: f64, steps: u64) {
    let n = md.n_atoms();
    say(format_args!(
        "Loop time of {elapsed:.4} s on {} rank(s) × {} thread(s) for {steps} steps with {n} atoms",
        md.comm().size(),
        rayon::current_num_threads()
    ));
    if steps > 0 && elapsed > 0.0 {
        let rate = (steps * n) as f64 / elapsed;
        say(format_args!(
            "Performance: {:.4e} atom-steps/s, {:.4} µs per atom-step, {:.2} steps/s",
            rate,
            1e6 / rate,
            steps as f64 / elapsed
        ));
    }
    say(format_args!(
        "Neighbor list builds: {} (with the set-up build, which LAMMPS's count leaves out); dangerous builds: {}",
        md.n_rebuilds(),
        md.dangerous_builds()
    ));
    say(format_args!(""));
    say(format_args!("Section |  time (s)  | %total"));
    say(format_args!("--------+------------+-------"));
    for (label, t) in sections(md, elapsed) {
        say(format_args!("{label:<7} | {t:>10.4} | {:>5.1}", 100.0 * t / elapsed.max(1e-12)));
    }
}

/// Loop time by section, with "Other" for the rest.
pub fn sections<C: Communicator>(md: &Md<C>, elapsed: f64) -> Vec<(&'static str, f64)> {
    let mut rows: Vec<(&'static str, f64)> =
        Section::ALL.iter().map(|&s| (s.label(), md.timers().get(s).as_secs_f64())).collect();
    let accounted: f64 = rows.iter().map(|r| r.1).sum();
    rows.push(("Other", (elapsed - accounted).max(0.0)));
    rows
}

pub fn print_load(load: &LoadReport) {
    let avg = load.mean_atoms();
    say(format_args!(""));
    say(format_args!(
        "Load: {:.0} atoms per rank on average, min {:.0}, max {:.0}; imbalance (max/avg) {:.3}",
        avg,
        load.min_atoms,
        load.max_atoms,
        load.imbalance()
    ));
    if load.peak_rss_bytes > 0 {
        say(format_args!(
            "Memory: peak resident {:.1} MiB over all ranks, {:.0} bytes per atom (atom arrays {:.0}, neighbor lists {:.0})",
            load.peak_rss_bytes as f64 / 1048576.0,
            load.peak_rss_bytes as f64 / load.total_atoms,
            load.atom_bytes as f64 / load.total_atoms,
            load.neighbor_bytes as f64 / load.total_atoms
        ));
    }
}

/// A progress bar with the rate in atom-steps per second, updated every 50 steps. Every
/// rank holds one (hooks are called collectively); only a visible one draws.
pub struct Progress {
    bar: ProgressBar,
    n_atoms: u64,
    first_step: u64,
    last_step: u64,
    start: Instant,
}

impl Progress {
    pub fn new(visible: bool, steps: u64, n_atoms: u64) -> Self {
        let bar = if visible { ProgressBar::new(steps) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} steps  {msg}  ETA {eta}",
            )
            .expect("valid progress template"),
        );
        Self { bar, n_atoms, first_step: 0, last_step: u64::MAX, start: Instant::now() }
    }
}

impl StepHook for Progress {
    fn needs(&self, step: u64) -> Option<Needs> {
        (step.is_multiple_of(50) || step == self.last_step).then_some(Needs::CALL)
    }

    fn setup(&mut self, info: &calcine_io::RunInfo, _view: &StepView<'_>) -> Result<(), calcine_io::HookError> {
        self.first_step = info.first_step;
        self.last_step = info.last_step;
        self.start = Instant::now();
        Ok(())
    }

    fn at_step(&mut self, view: &StepView<'_>) -> Result<(), calcine_io::HookError> {
        let done = view.step - self.first_step;
        self.bar.set_position(done);
        let rate = (done * self.n_atoms) as f64 / self.start.elapsed().as_secs_f64();
        self.bar.set_message(format!("{} atom-steps/s", human(rate)));
        Ok(())
    }

    fn finish(&mut self) -> Result<(), calcine_io::HookError> {
        self.bar.finish_and_clear();
        Ok(())
    }
}
