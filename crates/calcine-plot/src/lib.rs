//! # Brief overview
//!
//! `calcine-plot` draws the PNG charts that calcine's commands write beside their numbers:
//! line plots with shaded bands and x windows, points with error bars, histograms, a second
//! y axis ([`Figure`] of [`Panel`]s), and categorical heat maps ([`CategoryMap`]: a lattice
//! slice coloured by phase, with a legend).
//! It knows nothing of transport or reactions: callers hand it plain numbers and labels.
//!
//! Charts are drawn with `plotters` into an RGB buffer and encoded with the `png` crate.
//! Text uses DejaVu Sans embedded in the crate (`fonts/`, with its licence), so drawing needs
//! no system fonts, fontconfig or other system library, on a laptop or a cluster node.
//! It deliberately does not draw to screens, SVG or other formats, and never decides what a
//! result means: a chart is only a picture of numbers written elsewhere.
//!
//! ```ignore
//! let mut panel = Panel::new(Axis::linear("lag time (ps)"), Axis::linear("MSD (Å²)"));
//! panel.spans.push((1.0, 10.0));
//! panel.series.push(Series::line("Li", points, PALETTE[0]));
//! Figure::new(800, 500, vec![panel]).write_png(Path::new("msd.png"))?;
//! ```

mod chart;
mod heatmap;

pub use heatmap::CategoryMap;

use std::path::{Path, PathBuf};

/// An opaque colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Colour(pub u8, pub u8, pub u8);

/// Ten well-separated colours for curves (matplotlib's "tab10" values).
pub const PALETTE: [Colour; 10] = [
    Colour(31, 119, 180),
    Colour(255, 127, 14),
    Colour(44, 160, 44),
    Colour(214, 39, 40),
    Colour(148, 103, 189),
    Colour(140, 86, 75),
    Colour(227, 119, 194),
    Colour(127, 127, 127),
    Colour(188, 189, 34),
    Colour(23, 190, 207),
];

/// The light companions of [`PALETTE`] (matplotlib's "tab20" odd entries).
const PALETTE_LIGHT: [Colour; 10] = [
    Colour(174, 199, 232),
    Colour(255, 187, 120),
    Colour(152, 223, 138),
    Colour(255, 152, 150),
    Colour(197, 176, 213),
    Colour(196, 156, 148),
    Colour(247, 182, 210),
    Colour(199, 199, 199),
    Colour(219, 219, 141),
    Colour(158, 218, 229),
];

/// The colour of curve `k`: [`PALETTE`], repeated.
pub fn curve_colour(k: usize) -> Colour {
    PALETTE[k % PALETTE.len()]
}

/// The colour of category `k` of a categorical map: [`PALETTE`], then its light companions,
/// then further colours that differ from all earlier ones (so every category up to 4096
/// has its own colour and a pixel names its category).
pub fn category_colour(k: usize) -> Colour {
    match k {
        0..=9 => PALETTE[k],
        10..=19 => PALETTE_LIGHT[k - 10],
        _ => {
            // Three 4-bit channels from a scrambled index (an odd multiplier permutes
            // 0..4096), so neighbouring categories differ in every channel.
            let m = ((k - 20) * 2901) % 4096;
            Colour(24 + 13 * (m & 15) as u8, 30 + 13 * ((m >> 4) & 15) as u8, 36 + 13 * ((m >> 8) & 15) as u8)
        }
    }
}

/// One axis: its label and scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub label: String,
    /// Logarithmic (only positive values are drawn).
    pub log: bool,
}

impl Axis {
    pub fn linear(label: impl Into<String>) -> Self {
        Self { label: label.into(), log: false }
    }

    pub fn log(label: impl Into<String>) -> Self {
        Self { label: label.into(), log: true }
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Line,
    Dashed,
    /// Filled circles (with vertical error bars when the series has errors).
    Points,
}

/// A data series: points in data coordinates (non-finite ones are skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: Option<String>,
    pub points: Vec<(f64, f64)>,
    pub colour: Colour,
    pub mark: Mark,
    /// Half-widths of vertical error bars, one per point ([`Mark::Points`] only).
    pub errors: Option<Vec<f64>>,
}

impl Series {
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>, colour: Colour) -> Self {
        Self { label: Some(label.into()), points, colour, mark: Mark::Line, errors: None }
    }

    pub fn dashed(points: Vec<(f64, f64)>, colour: Colour) -> Self {
        Self { label: None, points, colour, mark: Mark::Dashed, errors: None }
    }

    pub fn points_with_errors(
        label: impl Into<String>,
        points: Vec<(f64, f64)>,
        errors: Vec<f64>,
        colour: Colour,
    ) -> Self {
        assert_eq!(points.len(), errors.len(), "one error per point");
        Self { label: Some(label.into()), points, colour, mark: Mark::Points, errors: Some(errors) }
    }
}

/// A translucent band between two curves over the same x values (an error band).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub x: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub colour: Colour,
}

/// A histogram: bin edges (one more than the heights) and heights, drawn as translucent
/// bars with an opaque outline.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    pub label: Option<String>,
    pub edges: Vec<f64>,
    pub heights: Vec<f64>,
    pub colour: Colour,
}

impl Bars {
    /// The histogram of `values` (each counted with its weight) over `bins` equal bins
    /// spanning their range; non-finite values are left out.
    pub fn histogram(label: impl Into<String>, values: &[f64], weights: &[f64], bins: usize, colour: Colour) -> Self {
        assert_eq!(values.len(), weights.len(), "one weight per value");
        let bins = bins.max(1);
        let finite = || values.iter().zip(weights).filter(|(v, w)| v.is_finite() && w.is_finite());
        let lo = finite().map(|(v, _)| *v).fold(f64::INFINITY, f64::min);
        let hi = finite().map(|(v, _)| *v).fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo > hi {
            (0.0, 1.0)
        } else if lo == hi {
            (lo - 0.5, hi + 0.5)
        } else {
            (lo, hi)
        };
        let width = (hi - lo) / bins as f64;
        let edges: Vec<f64> = (0..=bins).map(|k| lo + width * k as f64).collect();
        let mut heights = vec![0.0; bins];
        for (v, w) in finite() {
            let k = (((v - lo) / width) as usize).min(bins - 1);
            heights[k] += w;
        }
        Self { label: Some(label.into()), edges, heights, colour }
    }
}

/// A second y axis on the right with its own series (sharing the x axis).
#[derive(Debug, Clone, PartialEq)]
pub struct SecondaryAxis {
    pub axis: Axis,
    pub series: Vec<Series>,
}

/// Where a panel's legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corner {
    #[default]
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

/// One chart: axes, shaded x spans (fit windows), bands, histogram bars and series, drawn
/// in that order, with a legend of the labelled series and bars.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: Option<String>,
    pub x: Axis,
    pub y: Axis,
    /// x intervals shaded light grey.
    pub spans: Vec<(f64, f64)>,
    pub bands: Vec<Band>,
    pub bars: Vec<Bars>,
    pub series: Vec<Series>,
    pub secondary: Option<SecondaryAxis>,
    pub legend: Corner,
}

impl Panel {
    pub fn new(x: Axis, y: Axis) -> Self {
        Self {
            title: None,
            x,
            y,
            spans: vec![],
            bands: vec![],
            bars: vec![],
            series: vec![],
            secondary: None,
            legend: Corner::UpperLeft,
        }
    }
}

/// A figure: panels side by side under an optional title.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub width: u32,
    pub height: u32,
    pub title: Option<String>,
    pub panels: Vec<Panel>,
}

impl Figure {
    pub fn new(width: u32, height: u32, panels: Vec<Panel>) -> Self {
        Self { width, height, title: None, panels }
    }

    /// Draws the figure into an image.
    pub fn render(&self) -> Result<Image, String> {
        chart::render(self)
    }

    /// Draws the figure and writes it as a PNG file.
    pub fn write_png(&self, path: &Path) -> Result<(), PlotError> {
        let image = self.render().map_err(|reason| PlotError::Draw { path: path.into(), reason })?;
        image.write_png(path)
    }
}

/// Colour of the shaded x spans.
pub const SPAN_GREY: Colour = Colour(232, 232, 232);

/// An RGB image, row by row from the top, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Image {
    /// The colour of pixel (x, y), counted from the top left.
    pub fn pixel(&self, x: u32, y: u32) -> Colour {
        let k = 3 * (y as usize * self.width as usize + x as usize);
        Colour(self.rgb[k], self.rgb[k + 1], self.rgb[k + 2])
    }

    /// Pixels of exactly `colour` inside the rectangle `[x0, x1) × [y0, y1)`.
    pub fn count(&self, colour: Colour, (x0, y0): (u32, u32), (x1, y1): (u32, u32)) -> usize {
        (y0..y1.min(self.height))
            .flat_map(|y| (x0..x1.min(self.width)).map(move |x| (x, y)))
            .filter(|&(x, y)| self.pixel(x, y) == colour)
            .count()
    }

    /// Encodes the image as an 8-bit RGB PNG and writes it (whole, in one write).
    pub fn write_png(&self, path: &Path) -> Result<(), PlotError> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let encode = |source| PlotError::Encode { path: path.into(), reason: format!("{source}") };
        let mut writer = encoder.write_header().map_err(encode)?;
        writer.write_image_data(&self.rgb).map_err(encode)?;
        writer.finish().map_err(encode)?;
        std::fs::write(path, &bytes).map_err(|source| PlotError::Write { path: path.into(), source })
    }

    /// Reads an 8-bit RGB or RGBA PNG (alpha dropped).
    pub fn read_png(path: &Path) -> Result<Image, PlotError> {
        let file = std::fs::File::open(path).map_err(|source| PlotError::Write { path: path.into(), source })?;
        let decode = |reason: String| PlotError::Decode { path: path.into(), reason };
        let mut reader =
            png::Decoder::new(std::io::BufReader::new(file)).read_info().map_err(|e| decode(e.to_string()))?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).map_err(|e| decode(e.to_string()))?;
        let channels = match (info.color_type, info.bit_depth) {
            (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
            (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
            other => return Err(decode(format!("{other:?}: expected 8-bit RGB or RGBA"))),
        };
        let rgb = buf[..info.buffer_size()].chunks(channels).flat_map(|p| [p[0], p[1], p[2]]).collect();
        Ok(Image { width: info.width, height: info.height, rgb })
    }
}

/// A chart that could not be drawn, encoded or written; each names its file.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{path}: cannot draw the chart: {reason}")]
    Draw { path: PathBuf, reason: String },
    #[error("{path}: cannot encode the PNG: {reason}")]
    Encode { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a readable PNG: {reason}")]
    Decode { path: PathBuf, reason: String },
}

/// Registers the embedded font with plotters once per process.
fn register_font() -> Result<(), String> {
    static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        for style in [plotters::style::FontStyle::Normal, plotters::style::FontStyle::Bold] {
            plotters::style::register_font("sans-serif", style, FONT)
                .map_err(|_| "the embedded DejaVu Sans font does not load".to_string())?;
        }
        Ok(())
    })
    .clone()
}

#[cfg(test)]
mod tests;
