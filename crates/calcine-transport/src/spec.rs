//! What to analyse and how: the plain settings an input file (`[transport]` in
//! `calcine-input`) or a program fills in.

use std::path::PathBuf;

use crate::multitau;

/// A species whose transport is analysed: its name in the trajectory and its charge (in
/// units of e, for conductivity and transference numbers; 0 for a neutral species).
#[derive(Debug, Clone, PartialEq)]
pub struct SpeciesSpec {
    pub name: String,
    pub charge: f64,
}

/// How positions are unwrapped across periodic boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unwrap {
    /// Unwrapped positions or image flags when the frames have them, minimum-image
    /// increments between consecutive frames otherwise.
    #[default]
    Auto,
    /// Unwrapped positions or image flags; an error when a frame has neither.
    Images,
    /// Minimum-image increments between consecutive frames (image flags ignored).
    MinimumImage,
}

/// Which drift is removed from every displacement at each frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Drift {
    /// None (the trajectory's own frame).
    None,
    /// The centre of mass of the whole system (barycentric frame).
    #[default]
    CentreOfMass,
    /// The centre of mass of the named (framework) species.
    Framework(Vec<String>),
}

/// The reference frame of the collective (Onsager) terms.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Reference {
    /// Barycentric (as the dynamics; after the drift removal chosen).
    #[default]
    Barycentric,
    /// Relative to a named solvent or framework species s₀: ΔX_i − (N_i/N_0)·ΔX_0.
    Relative(String),
}

/// How correlations are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Exact windowed averages over every time origin by zero-padded FFT; the per-atom
    /// series are kept (in memory up to the memory budget, then in a scratch file).
    #[default]
    Fft,
    /// The streaming multiple-tau correlator: memory independent of the run length.
    MultiTau { points: usize, factor: usize },
}

impl Method {
    pub fn multi_tau() -> Self {
        Method::MultiTau { points: multitau::DEFAULT_POINTS, factor: multitau::DEFAULT_FACTOR }
    }

    /// "fft" or "multi-tau", as the input and the results name it.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Fft => "fft",
            Method::MultiTau { .. } => "multi-tau",
        }
    }
}

/// The fit window in ps; a bound left `None` is chosen automatically (see
/// [`crate::fit::auto_window`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FitWindow {
    pub start: Option<f64>,
    pub end: Option<f64>,
}

/// Everything an analysis needs besides the trajectory.
#[derive(Debug, Clone)]
pub struct TransportSpec {
    /// The species analysed (at least one).
    pub species: Vec<SpeciesSpec>,
    /// Masses (g/mol) by species name, overriding the trajectory's.
    pub masses: Vec<(String, f64)>,
    /// Temperature in K (for L_ij and σ).
    pub temperature: f64,
    /// Time between frames in ps, overriding what the frames say.
    pub frame_interval: Option<f64>,
    /// MD timestep in ps: frames with a step and no time are at step × timestep.
    pub timestep: Option<f64>,
    pub unwrap: Unwrap,
    pub drift: Drift,
    pub reference: Reference,
    pub method: Method,
    /// The box may not change between frames (an error if it does).
    pub fixed_box: bool,
    /// Blocks for block-averaged error bars of the collective terms (0 or 1: none).
    pub blocks: usize,
    pub fit_window: FitWindow,
    /// Lags used in the generalised least-squares fits.
    pub fit_points: usize,
    /// Green–Kubo from velocities: `None` when the frames have velocities.
    pub green_kubo: Option<bool>,
    /// Bytes of per-atom series kept in memory (FFT method) before they go to a scratch file.
    pub memory_budget: usize,
    /// Folder for the scratch file (default: the system's temporary folder).
    pub scratch_dir: Option<PathBuf>,
}

impl TransportSpec {
    pub const DEFAULT_BLOCKS: usize = 5;
    pub const DEFAULT_FIT_POINTS: usize = 32;
    pub const DEFAULT_MEMORY_BUDGET: usize = 256 << 20;

    /// Defaults for everything but the species and the temperature.
    pub fn new(species: Vec<SpeciesSpec>, temperature: f64) -> Self {
        Self {
            species,
            masses: Vec::new(),
            temperature,
            frame_interval: None,
            timestep: None,
            unwrap: Unwrap::Auto,
            drift: Drift::CentreOfMass,
            reference: Reference::Barycentric,
            method: Method::Fft,
            fixed_box: true,
            blocks: Self::DEFAULT_BLOCKS,
            fit_window: FitWindow::default(),
            fit_points: Self::DEFAULT_FIT_POINTS,
            green_kubo: None,
            memory_budget: Self::DEFAULT_MEMORY_BUDGET,
            scratch_dir: None,
        }
    }

    /// The species names, in order.
    pub fn names(&self) -> Vec<String> {
        self.species.iter().map(|s| s.name.clone()).collect()
    }
}
