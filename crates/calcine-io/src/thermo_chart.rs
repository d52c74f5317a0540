//! `thermo.png`: a run's thermo CSV as a chart (drawn by `calcine-plot`), written beside
//! the CSV when the run ends. Panels against time: the temperature; the change of the
//! total and of the conserved energy from their first values, per atom; the pressure (total
//! and pair part); and `max_<grade>` when the run computes a grade. The chart pictures the
//! CSV's numbers only, so turning it off (`[output] plots = false`) changes no other byte.

use std::path::Path;

use calcine_plot::{curve_colour, Axis, Corner, Figure, Panel, Series};

use crate::IoError;

/// The columns of a thermo CSV, by name.
struct Columns {
    names: Vec<String>,
    values: Vec<Vec<f64>>,
}

impl Columns {
    fn read(path: &Path) -> Result<Self, IoError> {
        let text = std::fs::read_to_string(path).map_err(|e| IoError::io(path, e))?;
        let mut lines = text.lines();
        let header = lines.next().ok_or_else(|| IoError::Empty { path: path.to_path_buf() })?;
        let names: Vec<String> = header.split(',').map(str::to_string).collect();
        let mut values = vec![Vec::new(); names.len()];
        for (k, line) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != names.len() {
                return Err(IoError::Parse {
                    path: path.to_path_buf(),
                    line: k + 2,
                    reason: format!("{} values for the header's {} columns", fields.len(), names.len()),
                });
            }
            for (column, field) in values.iter_mut().zip(fields) {
                column.push(field.parse().map_err(|_| IoError::Parse {
                    path: path.to_path_buf(),
                    line: k + 2,
                    reason: format!("'{field}' is not a number"),
                })?);
            }
        }
        Ok(Self { names, values })
    }

    fn get(&self, name: &str) -> Option<&[f64]> {
        self.names.iter().position(|n| n == name).map(|k| &self.values[k][..])
    }
}

/// The chart of the thermo CSV at `csv` of a run of `atoms` atoms (see the module docs);
/// `None` when the file holds fewer than two rows or lacks the standard columns.
pub(crate) fn thermo_figure(csv: &Path, atoms: u64) -> Result<Option<Figure>, IoError> {
    let c = Columns::read(csv)?;
    let (Some(t), Some(temp), Some(etotal), Some(econs), Some(press), Some(pair)) = (
        c.get("time_ps"),
        c.get("temp_K"),
        c.get("etotal_eV"),
        c.get("econserved_eV"),
        c.get("press_bar"),
        c.get("press_pair_bar"),
    ) else {
        return Ok(None);
    };
    if t.len() < 2 {
        return Ok(None);
    }
    let time = Axis::linear("time (ps)");
    let curve = |y: &[f64], scale: f64, shift: f64| -> Vec<(f64, f64)> {
        t.iter().zip(y).map(|(&t, &y)| (t, (y - shift) * scale)).collect()
    };

    let mut temperature = Panel::new(time.clone(), Axis::linear("temperature (K)"));
    temperature.title = Some("temperature".into());
    temperature.series.push(Series::line("T", curve(temp, 1.0, 0.0), curve_colour(3)));

    let mut energy = Panel::new(time.clone(), Axis::linear("change from the first row (meV/atom)"));
    energy.title = Some("energy".into());
    let per_atom = 1e3 / atoms.max(1) as f64;
    // The conserved energy under the total (dashed): they coincide without a thermostat.
    energy.series.push(Series::line("conserved", curve(econs, per_atom, econs[0]), curve_colour(1)));
    let total = curve(etotal, per_atom, etotal[0]);
    energy.series.push(Series { label: Some("total".into()), ..Series::dashed(total, curve_colour(0)) });
    energy.legend = Corner::LowerLeft;

    let mut pressure = Panel::new(time.clone(), Axis::linear("pressure (kbar)"));
    pressure.title = Some("pressure".into());
    pressure.series.push(Series::line("total", curve(press, 1e-3, 0.0), curve_colour(2)));
    pressure.series.push(Series::line("pair part", curve(pair, 1e-3, 0.0), curve_colour(4)));

    let mut panels = vec![temperature, energy, pressure];
    if let Some((name, grade)) = c.names.iter().zip(&c.values).find(|(n, _)| n.starts_with("max_")) {
        let mut g = Panel::new(time, Axis::linear(name.clone()));
        g.title = Some(format!("largest per-atom {}", &name[4..]));
        g.series.push(Series::line(name.clone(), curve(grade, 1.0, 0.0), curve_colour(5)));
        panels.push(g);
    }
    let mut figure = Figure::new(480 * panels.len() as u32, 420, panels);
    figure.title = Some(format!("{} ({} rows)", csv.display(), t.len()));
    Ok(Some(figure))
}

/// Writes `png`, the chart of the thermo CSV `csv` of a run of `atoms` atoms (nothing when
/// it has fewer than two rows).
pub(crate) fn write_thermo_png(csv: &Path, atoms: u64, png: &Path) -> Result<(), IoError> {
    if let Some(figure) = thermo_figure(csv, atoms)? {
        figure.write_png(png).map_err(|e| IoError::Unwritable { path: png.to_path_buf(), reason: e.to_string() })?;
    }
    Ok(())
}
