use std::time::{Duration, Instant};

/// The phases of a step whose time is reported at the end of a run (LAMMPS's breakdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Pair,
    Neighbor,
    Comm,
    Output,
    Modify,
}

impl Section {
    pub const ALL: [Section; 5] = [Section::Pair, Section::Neighbor, Section::Comm, Section::Output, Section::Modify];
    pub fn label(self) -> &'static str {
        match self {
            Section::Pair => "Pair",
            Section::Neighbor => "Neigh",
            Section::Comm => "Comm",
            Section::Output => "Output",
            Section::Modify => "Modify",
        }
    }
}

/// Wall-clock time per [`Section`].
#[derive(Debug, Clone, Default)]
pub struct Timers {
    totals: [Duration; 5],
}

impl Timers {
    pub fn add(&mut self, section: Section, since: Instant) {
        self.totals[section as usize] += since.elapsed();
    }
    /// Forgets all times (the driver calls this when the timed loop starts).
    pub fn reset(&mut self) {
        self.totals = Default::default();
    }
    pub fn get(&self, section: Section) -> Duration {
        self.totals[section as usize]
    }
    /// Runs `f` and charges its time to `section`.
    pub fn time<T>(&mut self, section: Section, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.add(section, t);
        out
    }
}
