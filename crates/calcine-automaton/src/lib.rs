//! # Brief overview
//!
//! `calcine-automaton` is a cellular automaton of solid-state reactions in the class of
//! ReactCA (Gallant, McDermott, Li, Persson, Chem. Mater. 37, 210 (2025)): precursor
//! powders on a periodic cubic lattice, one phase and an amount per cell, react under a
//! heating schedule through scored pairwise reactions, and the run reports which phases
//! form, in what order and amounts.
//!
//! It reads ReactCA's JSON reaction library and recipe unchanged ([`Library`],
//! [`Recipe`]), or calcine's TOML recipe. Two update modes ([`Mode`]):
//! - `exact` (default): every neighbor considered, every element conserved exactly (integer
//!   amounts, balanced integer coefficients, checked after every sweep), and sweeps over
//!   conflict-free colour classes, so a lattice is split over ranks with ghost layers
//!   ([`lattice`]) and the results are bit-identical on any rank and thread count;
//! - `reactca-compatible`: ReactCA's published scheme, for statistical comparison with it.
//!
//! It deliberately does not enumerate reactions from thermochemical databases or fetch
//! anything: a library comes from ReactCA or from a table of phases.
//!
//! ```ignore
//! let recipe = Recipe::read(Path::new("recipe.toml"))?;
//! let library = Library::read_reactca(recipe.library.as_deref().unwrap())?;
//! let result = engine::run(&recipe, &library, &SerialComm::new([true; 3]), &|_| {})?;
//! output::write_all(Path::new("out"), &recipe, &library, &result)?;
//! ```

mod balance;
pub mod builder;
pub mod diffusion;
pub mod engine;
pub mod error;
pub mod formula;
pub mod lattice;
pub mod library;
pub mod output;
pub mod plots;
pub mod recipe;
pub mod rules;
pub mod scoring;
pub mod transport;

pub use engine::{run, Progress, Realisation, Record, RunResult};
pub use error::{AutomatonError, Result};
pub use library::{Library, Phase, PhaseId, PhaseSet, Reaction, Term, FREE_SPACE};
pub use recipe::{Mode, Recipe, Stage};
pub use scoring::ScoreParams;

#[cfg(test)]
mod tests;
