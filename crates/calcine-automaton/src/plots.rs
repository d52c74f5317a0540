//! PNG charts of a run (drawn by `calcine-plot`): mole fractions against sweeps, mean over
//! realisations with a ±1 standard deviation band, with the temperature on a second axis
//! (`fractions.png`), and the final middle z plane of realisation 0 coloured by phase
//! (`slice.png`). A phase has the same colour in both. Charts only picture numbers that the
//! CSV and JSON files hold.

use crate::engine::RunResult;
use crate::library::{Library, FREE_SPACE};
use crate::output::{fractions, phases_seen};
use calcine_plot::{category_colour, Axis, Band, CategoryMap, Colour, Corner, Figure, Panel, SecondaryAxis, Series};

/// Free Space in the slice: a light grey that no phase colour takes.
pub const FREE_SPACE_COLOUR: Colour = Colour(245, 245, 245);
/// The temperature profile.
pub const TEMPERATURE_COLOUR: Colour = Colour(40, 40, 40);
/// Phases whose mean mole fraction never reaches this are left out of `fractions.png`.
pub const MIN_FRACTION: f64 = 1e-4;

/// Each phase's colour: phases seen in the records in library order, then any other phase
/// of the slice; Free Space has [`FREE_SPACE_COLOUR`].
pub fn phase_colours(library: &Library, result: &RunResult) -> Vec<(usize, Colour)> {
    let mut phases = phases_seen(library, result);
    for &p in &result.final_slice {
        let p = p as usize;
        if p != FREE_SPACE as usize && !phases.contains(&p) {
            phases.push(p);
        }
    }
    let mut colours: Vec<(usize, Colour)> =
        phases.into_iter().enumerate().map(|(k, p)| (p, category_colour(k))).collect();
    colours.push((FREE_SPACE as usize, FREE_SPACE_COLOUR));
    colours
}

fn colour_of(colours: &[(usize, Colour)], phase: usize) -> Colour {
    colours.iter().find(|(p, _)| *p == phase).map(|c| c.1).expect("every phase has a colour")
}

/// `fractions.png`.
pub fn fractions_figure(library: &Library, result: &RunResult) -> Figure {
    let colours = phase_colours(library, result);
    let n_rec = result.realisations.iter().map(|r| r.records.len()).min().unwrap_or(0);
    let records = &result.realisations[0].records[..n_rec];
    let sweeps: Vec<f64> = records.iter().map(|r| r.sweep).collect();
    let per_record: Vec<Vec<Vec<f64>>> = (0..n_rec)
        .map(|k| result.realisations.iter().map(|r| fractions(library, &r.records[k]).mole).collect())
        .collect();
    let mut panel = Panel::new(Axis::linear("sweeps (site visits per site)"), Axis::log("mole fraction"));
    panel.legend = Corner::LowerRight;
    for p in phases_seen(library, result) {
        let (mut mean, mut std) = (Vec::with_capacity(n_rec), Vec::with_capacity(n_rec));
        for reals in &per_record {
            let v: Vec<f64> = reals.iter().map(|f| f[p]).collect();
            let n = v.len() as f64;
            let m = v.iter().sum::<f64>() / n;
            let var = if v.len() > 1 { v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
            mean.push(m);
            std.push(var.sqrt());
        }
        if mean.iter().all(|&m| m < MIN_FRACTION) {
            continue;
        }
        let c = colour_of(&colours, p);
        panel.bands.push(Band {
            x: sweeps.clone(),
            lower: mean.iter().zip(&std).map(|(m, s)| m - s).collect(),
            upper: mean.iter().zip(&std).map(|(m, s)| m + s).collect(),
            colour: c,
        });
        let name = &library.phases.phases[p].name;
        panel.series.push(Series::line(name.as_str(), sweeps.iter().copied().zip(mean).collect(), c));
    }
    // The temperature holds from one record to the next: a step line.
    let mut steps = Vec::with_capacity(2 * n_rec);
    for (k, r) in records.iter().enumerate() {
        if k > 0 {
            steps.push((r.sweep, records[k - 1].temperature));
        }
        steps.push((r.sweep, r.temperature));
    }
    panel.secondary = Some(SecondaryAxis {
        axis: Axis::linear("temperature (K), dark grey"),
        series: vec![Series {
            label: None,
            points: steps,
            colour: TEMPERATURE_COLOUR,
            mark: calcine_plot::Mark::Line,
            errors: None,
        }],
    });
    let mut fig = Figure::new(960, 600, vec![panel]);
    fig.title = Some(format!(
        "mole fractions, mean and ±1 standard deviation over {} realisation(s)",
        result.realisations.len()
    ));
    fig
}

/// `slice.png`: the final middle z plane of realisation 0, x to the right and y up, with a
/// legend of the phases it holds.
pub fn slice_map(library: &Library, result: &RunResult) -> CategoryMap {
    let colours = phase_colours(library, result);
    let l = result.slice_edge;
    let mut present: Vec<usize> = Vec::new();
    for &p in &result.final_slice {
        if !present.contains(&(p as usize)) {
            present.push(p as usize);
        }
    }
    // Legend in the colour order (the order of the fractions chart), Free Space last.
    present.sort_by_key(|p| colours.iter().position(|c| c.0 == *p));
    let cells =
        result.final_slice.iter().map(|&p| present.iter().position(|&q| q == p as usize).expect("listed")).collect();
    let categories = present.iter().map(|&p| (library.phases.phases[p].name.clone(), colour_of(&colours, p))).collect();
    CategoryMap::new(Some(format!("final lattice, middle z plane ({l}×{l}), realisation 0")), l, l, cells, categories)
}
