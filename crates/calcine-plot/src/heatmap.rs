//! Categorical heat maps: a 2D grid of cells, each drawn as a square of its category's
//! colour, with a legend naming the categories.

use crate::chart::rgb;
use crate::{register_font, Colour, Image, PlotError};
use plotters::prelude::*;
use std::path::Path;

/// A grid of `nx × ny` cells, each holding a category index into `categories`; cell
/// (x, y) is `cells[x * ny + y]` and is drawn with x to the right and y upwards.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryMap {
    pub title: Option<String>,
    pub nx: usize,
    pub ny: usize,
    pub cells: Vec<usize>,
    /// Name and colour of each category (all listed in the legend).
    pub categories: Vec<(String, Colour)>,
}

const LEFT: u32 = 40;
const TOP: u32 = 36;
const BOTTOM: u32 = 36;
const LEGEND: u32 = 220;
/// The map's target edge in pixels.
const TARGET: u32 = 600;

impl CategoryMap {
    /// Checks the sizes (a bug if they disagree).
    pub fn new(
        title: Option<String>,
        nx: usize,
        ny: usize,
        cells: Vec<usize>,
        categories: Vec<(String, Colour)>,
    ) -> Self {
        assert_eq!(cells.len(), nx * ny, "one category per cell");
        assert!(nx > 0 && ny > 0, "a non-empty grid");
        assert!(cells.iter().all(|&c| c < categories.len()), "every cell's category is listed");
        Self { title, nx, ny, cells, categories }
    }

    /// Pixels per cell edge: about [`TARGET`] pixels for the longer side, at least 1.
    pub fn cell_px(&self) -> u32 {
        (TARGET / self.nx.max(self.ny) as u32).clamp(1, 40)
    }

    /// The image size.
    pub fn size(&self) -> (u32, u32) {
        let c = self.cell_px();
        let w = LEFT + c * self.nx as u32 + 16 + LEGEND;
        let legend_h = TOP + 22 * self.categories.len() as u32 + 12;
        let h = (TOP + c * self.ny as u32 + BOTTOM).max(legend_h);
        (w, h)
    }

    /// The pixel rectangle `[x0, x1) × [y0, y1)` of cell (x, y).
    pub fn cell_rect(&self, x: usize, y: usize) -> ((u32, u32), (u32, u32)) {
        let c = self.cell_px();
        let x0 = LEFT + c * x as u32;
        let y0 = TOP + c * (self.ny - 1 - y) as u32;
        ((x0, y0), (x0 + c, y0 + c))
    }

    /// Draws the map into an image.
    pub fn render(&self) -> Result<Image, String> {
        register_font()?;
        let (w, h) = self.size();
        let mut buf = vec![255u8; 3 * w as usize * h as usize];
        {
            let e = |e: DrawingAreaErrorKind<_>| e.to_string();
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(e)?;
            for x in 0..self.nx {
                for y in 0..self.ny {
                    let ((x0, y0), (x1, y1)) = self.cell_rect(x, y);
                    let colour = rgb(self.categories[self.cells[x * self.ny + y]].1);
                    root.draw(&Rectangle::new([(x0 as i32, y0 as i32), (x1 as i32, y1 as i32)], colour.filled()))
                        .map_err(e)?;
                }
            }
            let font = ("sans-serif", 14).into_font();
            if let Some(t) = &self.title {
                root.draw(&Text::new(t.as_str(), (LEFT as i32, 10), ("sans-serif", 16).into_font())).map_err(e)?;
            }
            let ((_, _), (right, bottom)) = self.cell_rect(self.nx - 1, 0);
            root.draw(&Text::new("x →", (LEFT as i32, bottom as i32 + 10), font.clone())).map_err(e)?;
            root.draw(&Text::new("y", (12, TOP as i32 + 2), font.clone())).map_err(e)?;
            root.draw(&Text::new("↑", (14, TOP as i32 + 20), font.clone())).map_err(e)?;
            let lx = right as i32 + 16;
            for (k, (name, colour)) in self.categories.iter().enumerate() {
                let y = TOP as i32 + 22 * k as i32;
                root.draw(&Rectangle::new([(lx, y), (lx + 15, y + 15)], rgb(*colour).filled())).map_err(e)?;
                root.draw(&Rectangle::new([(lx, y), (lx + 15, y + 15)], BLACK.stroke_width(1))).map_err(e)?;
                root.draw(&Text::new(name.as_str(), (lx + 22, y), font.clone())).map_err(e)?;
            }
            root.present().map_err(e)?;
        }
        Ok(Image { width: w, height: h, rgb: buf })
    }

    /// Draws the map and writes it as a PNG file.
    pub fn write_png(&self, path: &Path) -> Result<(), PlotError> {
        let image = self.render().map_err(|reason| PlotError::Draw { path: path.into(), reason })?;
        image.write_png(path)
    }
}
