use super::*;
use std::collections::HashMap;

fn ramp(n: usize, f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
    (0..n).map(|k| (k as f64 * 0.1, f(k as f64 * 0.1))).collect()
}

/// A figure written to disk decodes back to the size asked for, and its curves, band and
/// window are on it in their colours; without the curve, its colour is absent.
#[test]
fn a_line_chart_with_band_and_window_round_trips_through_png() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("msd.png");
    let mut panel = Panel::new(Axis::linear("lag time (ps)"), Axis::linear("MSD (Å²)"));
    panel.spans.push((2.0, 6.0));
    let x: Vec<f64> = (20..=60).map(|k| k as f64 * 0.1).collect();
    panel.bands.push(Band {
        lower: x.iter().map(|t| 1.8 * t).collect(),
        upper: x.iter().map(|t| 2.2 * t).collect(),
        x,
        colour: PALETTE[1],
    });
    panel.series.push(Series::line("Li: D = 0.33", ramp(100, |t| 2.0 * t), PALETTE[0]));
    panel.series.push(Series::dashed(ramp(100, |t| 2.0 * t + 0.5), PALETTE[2]));
    let mut fig = Figure::new(900, 450, vec![panel.clone(), panel.clone()]);
    fig.title = Some("300 K".into());
    fig.write_png(&path).unwrap();
    let image = Image::read_png(&path).unwrap();
    assert_eq!((image.width, image.height), (900, 450));
    let whole = ((0, 0), (900, 450));
    assert!(image.count(PALETTE[0], whole.0, whole.1) > 400, "the curve is drawn");
    assert!(image.count(PALETTE[2], whole.0, whole.1) > 100, "the dashed line is drawn");
    assert!(image.count(SPAN_GREY, whole.0, whole.1) > 2000, "the fit window is shaded");
    // Each half of the image (one panel each) has the curve.
    assert!(image.count(PALETTE[0], (0, 0), (450, 450)) > 200);
    assert!(image.count(PALETTE[0], (450, 0), (900, 450)) > 200);
    // The band is a translucent fill: not the opaque colour, but something orange-ish.
    let orange = |p: &[u8]| p[0] > 200 && p[0] > p[1] + 20 && p[1] > p[2] + 20;
    let tinted = image.rgb.chunks(3).filter(|p| orange(p) && Colour(p[0], p[1], p[2]) != PALETTE[1]).count();
    assert!(tinted > 1000, "the band is filled ({tinted} pixels)");

    panel.series.clear();
    let empty = Figure::new(900, 450, vec![panel]).render().unwrap();
    assert_eq!(empty.count(PALETTE[0], whole.0, whole.1), 0);
}

#[test]
fn points_with_error_bars_on_a_log_axis_and_a_secondary_axis() {
    let mut panel = Panel::new(Axis::linear("1000 / T (1/K)"), Axis::log("D (Å²/ps)"));
    let pts = vec![(1.0, 1e-2), (1.5, 1e-3), (2.0, 1e-4), (2.5, -1.0)];
    panel.series.push(Series::points_with_errors("Li", pts, vec![1e-3, 2e-4, 5e-5, 1.0], PALETTE[3]));
    panel.secondary = Some(SecondaryAxis {
        axis: Axis::linear("temperature (K)"),
        series: vec![Series::line("T", ramp(30, |t| 300.0 + 100.0 * t), PALETTE[4])],
    });
    let image = Figure::new(600, 450, vec![panel]).render().unwrap();
    assert!(image.count(PALETTE[3], (0, 0), (600, 450)) > 3 * 30, "three markers (the negative value is not drawable)");
    assert!(image.count(PALETTE[4], (0, 0), (600, 450)) > 200, "the secondary curve");
}

#[test]
fn histograms_count_every_value_in_its_bin() {
    let v = [0.0, 0.1, 0.9, 1.0, 0.5, f64::NAN];
    let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let h = Bars::histogram("k", &v, &w, 2, PALETTE[0]);
    assert_eq!(h.edges, vec![0.0, 0.5, 1.0]);
    assert_eq!(h.heights, vec![3.0, 12.0]);
    let mut panel = Panel::new(Axis::linear("x"), Axis::linear("weight"));
    panel.bars.push(h);
    let image = Figure::new(500, 400, vec![panel]).render().unwrap();
    assert!(image.count(PALETTE[0], (0, 0), (500, 400)) > 100, "bar outlines");
}

/// Every cell's pixels carry its category's colour, and the colours of categories differ,
/// so the picture can be read back into the grid.
#[test]
fn a_category_map_reads_back_cell_by_cell() {
    let (nx, ny) = (13, 9);
    let cells: Vec<usize> = (0..nx * ny).map(|k| (k * 7 + k / 5) % 23).collect();
    let categories: Vec<(String, Colour)> = (0..23).map(|k| (format!("phase {k}"), category_colour(k))).collect();
    let map = CategoryMap::new(Some("mid-z slice".into()), nx, ny, cells.clone(), categories.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slice.png");
    map.write_png(&path).unwrap();
    let image = Image::read_png(&path).unwrap();
    assert_eq!((image.width, image.height), map.size());
    let by_colour: HashMap<Colour, usize> = categories.iter().enumerate().map(|(k, (_, c))| (*c, k)).collect();
    for x in 0..nx {
        for y in 0..ny {
            let ((x0, y0), (x1, y1)) = map.cell_rect(x, y);
            for (px, py) in [(x0, y0), (x1 - 1, y1 - 1), ((x0 + x1) / 2, (y0 + y1) / 2)] {
                assert_eq!(by_colour.get(&image.pixel(px, py)), Some(&cells[x * ny + y]), "cell ({x}, {y})");
            }
        }
    }
    // y grows upwards: cell (0, 0) is at the bottom left.
    assert!(map.cell_rect(0, 0).0 .1 > map.cell_rect(0, 1).0 .1);
}

#[test]
fn category_colours_are_distinct() {
    let mut seen = std::collections::HashSet::new();
    for k in 0..4116 {
        let c = category_colour(k);
        assert!(seen.insert(c), "category {k} repeats {c:?}");
        assert_ne!(c, Colour(255, 255, 255));
    }
}

#[test]
fn a_file_that_cannot_be_written_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-folder").join("msd.png");
    let err = Figure::new(300, 200, vec![]).write_png(&path).unwrap_err();
    assert!(matches!(err, PlotError::Write { .. }));
    assert!(err.to_string().contains("missing-folder/msd.png"), "{err}");
    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, "not a png").unwrap();
    assert!(Image::read_png(&bad).unwrap_err().to_string().contains("bad.png"));
}
