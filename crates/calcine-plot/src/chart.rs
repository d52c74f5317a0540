//! Drawing a [`Figure`] with plotters into an RGB buffer.
//!
//! Logarithmic axes are drawn as linear axes over log10 of the data, with tick labels
//! written back as plain numbers, so every panel has the same coordinate type.

use crate::{register_font, Axis, Colour, Corner, Figure, Image, Mark, Panel, Series, SPAN_GREY};
use plotters::coord::Shift;
use plotters::prelude::*;

const FONT: &str = "sans-serif";

pub(crate) fn render(fig: &Figure) -> Result<Image, String> {
    assert!(fig.width >= 64 && fig.height >= 64, "a figure of at least 64 × 64 pixels");
    register_font()?;
    let mut rgb = vec![255u8; 3 * fig.width as usize * fig.height as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (fig.width, fig.height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let area = match &fig.title {
            Some(t) => root.titled(t, (FONT, 18)).map_err(|e| e.to_string())?,
            None => root.clone(),
        };
        if !fig.panels.is_empty() {
            for (panel, cell) in fig.panels.iter().zip(area.split_evenly((1, fig.panels.len()))) {
                draw_panel(panel, &cell)?;
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(Image { width: fig.width, height: fig.height, rgb })
}

pub(crate) fn rgb(c: Colour) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// A value as drawn on an axis: log10 for a log axis (None for a value it cannot show).
fn to_axis(axis: &Axis, v: f64) -> Option<f64> {
    let t = if axis.log {
        if v > 0.0 {
            v.log10()
        } else {
            f64::NAN
        }
    } else {
        v
    };
    t.is_finite().then_some(t)
}

fn point(x: &Axis, y: &Axis, (a, b): (f64, f64)) -> Option<(f64, f64)> {
    Some((to_axis(x, a)?, to_axis(y, b)?))
}

/// The padded range of `values`, or (0, 1) when there are none.
fn range(values: impl Iterator<Item = f64>, pad: bool) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    if lo == hi {
        let d = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        return (lo - d, hi + d);
    }
    let d = if pad { 0.04 * (hi - lo) } else { 0.0 };
    (lo - d, hi + d)
}

fn series_y<'a>(series: &'a [Series], y: &'a Axis) -> impl Iterator<Item = f64> + 'a {
    series.iter().flat_map(move |s| {
        s.points.iter().enumerate().flat_map(move |(k, &(_, v))| {
            let e = s.errors.as_ref().map_or(0.0, |e| e[k].abs());
            let e = if e.is_finite() { e } else { 0.0 };
            [to_axis(y, v - e).or(to_axis(y, v)), to_axis(y, v + e)].into_iter().flatten()
        })
    })
}

fn label_of(axis: &Axis, v: f64) -> String {
    let v = if axis.log { 10f64.powf(v) } else { v };
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-3 {
        format!("{v:.1e}")
    } else {
        // Log-axis ticks fall between round numbers: two significant digits are enough.
        let decimals = if axis.log { (1 - v.abs().log10().floor() as i32).max(0) as usize } else { 4 };
        let s = format!("{v:.decimals$}");
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
        s.to_string()
    }
}

fn draw_panel(panel: &Panel, area: &DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let (px, py) = (&panel.x, &panel.y);
    let xs = panel
        .series
        .iter()
        .chain(panel.secondary.iter().flat_map(|s| &s.series))
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(panel.bands.iter().flat_map(|b| b.x.iter().copied()))
        .chain(panel.bars.iter().flat_map(|b| b.edges.iter().copied()))
        .chain(panel.spans.iter().flat_map(|s| [s.0, s.1]))
        .filter_map(|v| to_axis(px, v));
    // Markers at the ends of the data need room; curves and histograms run edge to edge.
    let markers = panel.series.iter().any(|s| s.mark == Mark::Points);
    let x_range = range(xs, markers);
    let bar_ys = panel.bars.iter().flat_map(|b| b.heights.iter().copied().chain(std::iter::once(0.0)));
    let ys = series_y(&panel.series, py)
        .chain(panel.bands.iter().flat_map(|b| b.lower.iter().chain(&b.upper).copied()).filter_map(|v| to_axis(py, v)))
        .chain(bar_ys.filter_map(|v| to_axis(py, v)));
    let y_range = range(ys, true);

    let mut builder = ChartBuilder::on(area);
    builder.margin(12).x_label_area_size(42).y_label_area_size(72);
    if panel.secondary.is_some() {
        builder.right_y_label_area_size(72);
    }
    if let Some(t) = &panel.title {
        builder.caption(t, (FONT, 15));
    }
    let chart = builder.build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1).map_err(e)?;
    // The secondary coordinates are set before the primary mesh is drawn: setting them
    // hands the right label area to the secondary axis (plotters draws the primary labels
    // into every label area it still holds). A panel without a second axis has no right
    // label area, so its unused secondary range draws nothing.
    let y2 = panel.secondary.as_ref().map_or((0.0, 1.0), |s| range(series_y(&s.series, &s.axis), true));
    let mut chart = chart.set_secondary_coord(x_range.0..x_range.1, y2.0..y2.1);
    chart
        .configure_mesh()
        .x_desc(px.label.as_str())
        .y_desc(py.label.as_str())
        .x_label_formatter(&|v| label_of(px, *v))
        .y_label_formatter(&|v| label_of(py, *v))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(RGBColor(245, 245, 245))
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(e)?;

    for &(a, b) in &panel.spans {
        let (Some(a), Some(b)) = (to_axis(px, a), to_axis(px, b)) else { continue };
        let (a, b) = (a.max(x_range.0), b.min(x_range.1));
        if a < b {
            chart
                .draw_series(std::iter::once(Rectangle::new([(a, y_range.0), (b, y_range.1)], rgb(SPAN_GREY).filled())))
                .map_err(e)?;
        }
    }
    for band in &panel.bands {
        let upper = band.x.iter().zip(&band.upper).filter_map(|(&x, &u)| point(px, py, (x, u)));
        let lower: Vec<_> = band
            .x
            .iter()
            .zip(&band.lower)
            .filter_map(|(&x, &l)| point(px, py, (x, l)).or_else(|| Some((to_axis(px, x)?, y_range.0))))
            .collect();
        let outline: Vec<_> = upper.chain(lower.into_iter().rev()).collect();
        if outline.len() >= 3 {
            let style = rgb(band.colour).mix(0.3).filled();
            chart.draw_series(std::iter::once(Polygon::new(outline, style))).map_err(e)?;
        }
    }
    for bars in &panel.bars {
        let c = rgb(bars.colour);
        let base = if py.log { y_range.0 } else { 0.0 };
        let rects: Vec<_> = bars
            .heights
            .iter()
            .enumerate()
            .filter_map(|(k, &h)| {
                let (a, b) = (to_axis(px, bars.edges[k])?, to_axis(px, bars.edges[k + 1])?);
                let h = to_axis(py, h)?;
                (h != base).then_some([(a, base), (b, h)])
            })
            .collect();
        let anno = chart.draw_series(rects.iter().map(|r| Rectangle::new(*r, c.mix(0.35).filled()))).map_err(e)?;
        if let Some(l) = &bars.label {
            anno.label(l.as_str()).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], c.filled()));
        }
        chart.draw_series(rects.iter().map(|r| Rectangle::new(*r, c.stroke_width(1)))).map_err(e)?;
    }
    for s in &panel.series {
        draw_series(&mut chart, s, px, py)?;
    }
    if let Some(sec) = &panel.secondary {
        chart
            .configure_secondary_axes()
            .y_desc(sec.axis.label.as_str())
            .y_label_formatter(&|v| label_of(&sec.axis, *v))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()
            .map_err(e)?;
        for s in &sec.series {
            let pts: Vec<_> = s.points.iter().filter_map(|&p| point(px, &sec.axis, p)).collect();
            let c = rgb(s.colour);
            let anno =
                chart.draw_secondary_series(std::iter::once(PathElement::new(pts, c.stroke_width(2)))).map_err(e)?;
            if let Some(l) = &s.label {
                anno.label(l.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
            }
        }
    }
    let labelled = panel.series.iter().chain(panel.secondary.iter().flat_map(|s| &s.series)).any(|s| s.label.is_some())
        || panel.bars.iter().any(|b| b.label.is_some());
    if labelled {
        chart
            .configure_series_labels()
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .position(position(panel.legend))
            .draw()
            .map_err(e)?;
    }
    Ok(())
}

type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn position(corner: Corner) -> SeriesLabelPosition {
    match corner {
        Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
        Corner::UpperRight => SeriesLabelPosition::UpperRight,
        Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
        Corner::LowerRight => SeriesLabelPosition::LowerRight,
    }
}

fn draw_series(chart: &mut Chart<'_, '_>, s: &Series, px: &Axis, py: &Axis) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let c = rgb(s.colour);
    let pts: Vec<(f64, f64)> = s.points.iter().filter_map(|&p| point(px, py, p)).collect();
    let anno = match s.mark {
        Mark::Line => chart.draw_series(std::iter::once(PathElement::new(pts, c.stroke_width(2)))).map_err(e)?,
        Mark::Dashed => chart
            .draw_series(std::iter::once(plotters::element::DashedPathElement::new(pts, 6, 4, c.stroke_width(2))))
            .map_err(e)?,
        Mark::Points => {
            if let Some(errors) = &s.errors {
                let bars: Vec<_> = s
                    .points
                    .iter()
                    .zip(errors)
                    .filter_map(|(&(x, y), &err)| {
                        let top = point(px, py, (x, y + err.abs()))?;
                        let bottom = point(px, py, (x, y - err.abs())).unwrap_or((top.0, f64::MIN));
                        Some((top, bottom))
                    })
                    .collect();
                let lo = chart.y_range().start;
                chart
                    .draw_series(
                        bars.iter().map(|&(t, b)| PathElement::new(vec![t, (b.0, b.1.max(lo))], c.stroke_width(1))),
                    )
                    .map_err(e)?;
            }
            chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled()))).map_err(e)?
        }
    };
    if let Some(l) = &s.label {
        match s.mark {
            Mark::Points => anno.label(l.as_str()).legend(move |(x, y)| Circle::new((x + 9, y), 4, c.filled())),
            _ => anno
                .label(l.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))),
        };
    }
    Ok(())
}
