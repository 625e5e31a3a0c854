//! The chart's work off the UI thread: reading a fetched page into facts, and building the
//! chart from the facts of every page (see [`crate::fhir::chart`]). The pages themselves are
//! fetched like any browser GET (`WorkerCommand::Send`), so sign-in, the credential policy and
//! history apply to them.

use bytes::Bytes;

use super::RequestId;
use crate::fhir::chart::{Fact, PageFacts, PatientChart, build, read_page_for};

/// One step of building a chart, run on a blocking thread.
#[derive(Debug)]
pub enum ChartJob {
    /// Read the page answered to request `id`; with `patient`, only that patient's resources
    /// are kept (search pages: see [`read_page_for`]).
    Read {
        id: RequestId,
        body: Bytes,
        patient: Option<String>,
    },
    /// Build the chart from every fact read; `id` names the build.
    Build { id: RequestId, facts: Vec<Fact> },
}

/// What a step gave.
#[derive(Debug)]
pub enum ChartStep {
    Read(Box<PageFacts>),
    Built(Box<PatientChart>),
}

impl ChartJob {
    pub fn id(&self) -> RequestId {
        match self {
            ChartJob::Read { id, .. } | ChartJob::Build { id, .. } => *id,
        }
    }

    /// Runs the step; a page that cannot be read is a sentence.
    pub fn run(self) -> Result<ChartStep, String> {
        match self {
            ChartJob::Read { body, patient, .. } => read_page_for(&body, patient.as_deref())
                .map(|p| ChartStep::Read(Box::new(p)))
                .map_err(|e| e.to_string()),
            ChartJob::Build { facts, .. } => Ok(ChartStep::Built(Box::new(build(facts)))),
        }
    }
}
