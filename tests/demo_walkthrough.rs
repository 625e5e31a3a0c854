//! The seed walkthrough end to end through fhirside's own request building, worker and capture
//! rules, against the built-in demo service: token → metadata → health → patients → create → export.

use std::time::Duration;

use fhirside::cli::demo::demo_environment;
use fhirside::demo::{DemoOptions, DemoServer};
use fhirside::worker::build::{Inherited, build_request};
use fhirside::worker::capture::{self, CaptureOutcome};
use fhirside::worker::{self, RequestId, WorkerCommand, WorkerEvent};
use fhirside::workspace::seed::seed_collection;
use fhirside::workspace::template::Context;
use tokio::sync::mpsc;

#[tokio::test]
async fn the_seed_collection_walks_the_whole_flow() {
    let server = DemoServer::start(
        0,
        DemoOptions {
            patients: 50,
            ..DemoOptions::default()
        },
    )
    .await
    .unwrap();
    let env = demo_environment(&server);
    let collection = seed_collection();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = worker::spawn(tx);
    let mut session: Vec<(String, String)> = Vec::new();
    let mut statuses = Vec::new();
    for (i, saved) in collection.root.requests.iter().enumerate() {
        let ctx = Context {
            overrides: &session,
            environment: Some(&env),
            collection: &collection.variables,
        };
        let built = build_request(
            &saved.spec,
            &ctx,
            Inherited::default(),
            Duration::from_secs(10),
        );
        assert!(
            built.unresolved.is_empty(),
            "{}: {:?}",
            saved.spec.name,
            built.unresolved
        );
        let id = RequestId(i as u64);
        handle.send(WorkerCommand::Send {
            id,
            request: built.request,
            auth: None,
            record: None,
            read_fhir: false,
        });
        let Some(WorkerEvent::Response { id: got, result }) =
            tokio::time::timeout(Duration::from_secs(15), rx.recv())
                .await
                .unwrap()
        else {
            panic!("worker stopped")
        };
        assert_eq!(got, id);
        let received = result.unwrap_or_else(|e| panic!("{}: {e}", saved.spec.name));
        for outcome in capture::apply(&saved.spec.captures, &received.response) {
            match outcome {
                CaptureOutcome::Set { variable, value } => session.push((variable, value)),
                CaptureOutcome::Missing { rule, reason } => panic!("{rule}: {reason}"),
            }
        }
        statuses.push((
            saved.spec.name.clone(),
            received.response.status,
            received
                .response
                .header("content-location")
                .map(str::to_string),
        ));
    }
    let codes: Vec<(&str, u16)> = statuses.iter().map(|(n, s, _)| (n.as_str(), *s)).collect();
    assert_eq!(
        codes,
        vec![
            ("Get token", 200),
            ("Capability statement", 200),
            ("Health check", 200),
            ("List patients", 200),
            ("Create patient", 201),
            ("Export", 202),
        ]
    );
    let location = statuses[5]
        .2
        .clone()
        .expect("export answers with Content-Location");
    assert!(
        location.starts_with(&format!("{}/_operations/export/", server.fhir_url())),
        "{location}"
    );
    assert!(
        session
            .iter()
            .any(|(k, v)| k == "bearerToken" && v.starts_with("eyJ"))
    );
    server.shutdown().await;
}
