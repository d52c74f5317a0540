//! The on-the-fly route: a [`StepHook`] that feeds the frames of a running simulation to
//! a streaming [`Analysis`] (multiple-tau by default, so memory does not grow with the
//! run) and writes the results when the run ends. Frames are gathered on rank 0, which
//! alone analyses them.

use std::path::PathBuf;

use calcine_comm::SerialComm;
use calcine_io::{HookError, Needs, RunInfo, StepHook, StepView};

use crate::output::write_run_outputs;
use crate::spec::TransportSpec;
use crate::{estimate, Analysis, EstimateOptions, TransportError, TransportResults};

/// Where the on-the-fly analysis writes, when the run ends: `transport.json`,
/// `transport_doc.json`, `curves.csv` and with `plots` `msd.png` in `directory`, as
/// `calcine transport` does.
#[derive(Debug, Clone, PartialEq)]
pub struct OnTheFlyOutput {
    pub directory: PathBuf,
    /// Free text for the TransportDoc's `metadata`.
    pub metadata: String,
    pub plots: bool,
}

/// Transport analysis during a run, every `every` steps.
#[derive(Debug)]
pub struct OnTheFlyTransport {
    spec: TransportSpec,
    every: u64,
    output: Option<OnTheFlyOutput>,
    analysis: Option<Analysis>,
    results: Option<TransportResults>,
    written: Vec<PathBuf>,
    rank: usize,
}

fn stop(e: TransportError) -> HookError {
    HookError::Stop(format!("transport analysis: {e}"))
}

impl OnTheFlyTransport {
    /// Analyses every `every`-th step with `spec`; the results are written to `output`
    /// if given.
    pub fn new(spec: TransportSpec, every: u64, output: Option<OnTheFlyOutput>) -> Self {
        assert!(every > 0, "a sampling interval of 0 steps");
        Self { spec, every, output, analysis: None, results: None, written: Vec::new(), rank: 0 }
    }

    /// The files written when the run ended (rank 0).
    pub fn written(&self) -> &[PathBuf] {
        &self.written
    }

    /// The results, after the run (rank 0).
    pub fn results(&self) -> Option<&TransportResults> {
        self.results.as_ref()
    }
}

impl StepHook for OnTheFlyTransport {
    fn needs(&self, step: u64) -> Option<Needs> {
        step.is_multiple_of(self.every).then_some(Needs::FRAME)
    }

    fn setup(&mut self, info: &RunInfo, view: &StepView<'_>) -> Result<(), HookError> {
        self.rank = info.rank;
        if self.rank == 0 {
            let mut spec = self.spec.clone();
            spec.frame_interval = Some(self.every as f64 * info.timestep);
            self.analysis = Some(Analysis::new(spec, 0, 1).map_err(stop)?);
            if info.first_step.is_multiple_of(self.every) {
                return self.at_step(view);
            }
        }
        Ok(())
    }

    fn at_step(&mut self, view: &StepView<'_>) -> Result<(), HookError> {
        if let (Some(analysis), Some(frame)) = (&mut self.analysis, view.frame) {
            analysis.push(frame).map_err(stop)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), HookError> {
        let Some(analysis) = self.analysis.take() else { return Ok(()) };
        let corr = analysis.finish(&SerialComm::default()).map_err(stop)?;
        let options = EstimateOptions {
            fit_window: self.spec.fit_window,
            fit_points: self.spec.fit_points,
            reference: self.spec.reference.clone(),
        };
        let results = estimate(&corr, &options).map_err(stop)?;
        if let Some(out) = &self.output {
            self.written =
                write_run_outputs(&out.directory, "", &corr, &results, &out.metadata, out.plots).map_err(stop)?;
        }
        self.results = Some(results);
        Ok(())
    }
}
