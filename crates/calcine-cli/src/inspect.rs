//! `calcine inspect`: what a trajectory file holds, read frame by frame (calcine-io's
//! `scan_frames`), reported as text or JSON.

use crate::report::say;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

/// `calcine inspect FILE`.
pub fn inspect(path: &Path, types: &[String], json: bool, quiet: bool) -> Result<()> {
    let bar = (!quiet && !json).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]").expect("valid template"));
        bar
    });
    let mut progress = |n: u64| {
        if let Some(bar) = &bar {
            if n.is_multiple_of(16) {
                bar.set_message(format!("{}: {n} frames", path.display()));
                bar.tick();
            }
        }
    };
    let started = std::time::Instant::now();
    let scan = calcine_io::scan_file(path, types, &mut progress)
        .with_context(|| format!("reading {}", path.display()))?
        .with_context(|| format!("{} holds no frame", path.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if json {
        say(format_args!("{}", scan.to_json()));
        return Ok(());
    }
    let seconds = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    say(format_args!(
        "{}: {} frame(s) of {} atoms ({}); read in {seconds:.2} s ({:.1} MB/s)",
        path.display(),
        scan.frames,
        scan.atoms,
        scan.species.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", "),
        bytes as f64 / 1e6 / seconds.max(1e-9)
    ));
    let span = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "not stated".into(),
    };
    let times = match (scan.first_time, scan.last_time) {
        (Some(a), Some(b)) => format!("{a} to {b} ps"),
        _ => "not stated".into(),
    };
    say(format_args!("Steps: {}; times: {times}", span(scan.first_step, scan.last_step)));
    let b = |v: [f64; 6]| format!("{} x {} x {} Å, tilt {} {} {}", v[0], v[1], v[2], v[3], v[4], v[5]);
    say(format_args!(
        "Box: {}{}",
        b(scan.first_box),
        if scan.box_changes { format!(" (changes; last: {})", b(scan.last_box)) } else { " (fixed)".into() }
    ));
    let present = [
        (scan.images, "image flags"),
        (scan.velocities, "velocities"),
        (scan.forces, "forces"),
        (scan.energies, "per-atom energies"),
    ];
    let columns: Vec<&str> = present.iter().filter(|p| p.0).map(|p| p.1).collect();
    say(format_args!(
        "Columns: {} positions{}{}",
        scan.positions,
        if columns.is_empty() { String::new() } else { format!(", {}", columns.join(", ")) },
        if scan.atoms_change { "; the atoms change between frames" } else { "" }
    ));
    Ok(())
}
