//! Load through the real App, runtime (the rig) and worker: twenty bulk-export jobs polling against the demo
//! server while a request hangs on a server that never answers. The other requests (a saved
//! request and a browser page) still complete while the slow one is pending, keys keep being
//! handled and the screen keeps drawing in between, and every job ends. No timing thresholds:
//! the test checks the order of events, not how long they took. The rig keeps the worker
//! commands the runtime gives; the test hands them to the worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use fhirside::cli::demo::demo_environment;
use fhirside::demo::{DemoOptions, DemoServer};
use fhirside::tui::msg::Msg;
use fhirside::tui::screens::Pane;
use fhirside::tui::screens::browser::{PageContent, browse};
use fhirside::tui::screens::response::Outcome;
use fhirside::tui::testing::Rig;
use fhirside::worker::export::{ExportParams, JobState};
use fhirside::worker::{self, WorkerCommand, WorkerEvent, WorkerHandle};
use fhirside::workspace::{NodePath, RequestSpec, Store};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

const JOBS: usize = 20;

fn forward(worker: &WorkerHandle, cmds: Vec<WorkerCommand>) -> usize {
    let sent = cmds.len();
    for cmd in cmds {
        worker.send(cmd);
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_exports_and_a_hanging_request_do_not_hold_up_the_rest() {
    let demo = DemoServer::start(
        0,
        DemoOptions {
            patients: 20,
            export_duration: Duration::from_secs(2),
            ..DemoOptions::default()
        },
    )
    .await
    .expect("demo server");
    // A server that takes the request and never answers within the test.
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let slow = fhirside_slow_server(h).await;

    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = Store::load(dir.path());
    let env = demo_environment(&demo);
    store.create_environment(&env).unwrap();
    store.create_folder(&NodePath(vec!["Load".into()])).unwrap();
    let slow_path = NodePath(vec!["Load".into(), "Slow".into()]);
    let fast_path = NodePath(vec!["Load".into(), "Fast".into()]);
    store
        .save_request(
            &slow_path,
            &RequestSpec::new("Slow", "GET", &format!("http://{slow}/hang")),
        )
        .unwrap();
    store
        .save_request(
            &fast_path,
            &RequestSpec::new("Fast", "GET", "{{fhirurl}}/Patient?_count=5"),
        )
        .unwrap();
    let (store, ws, problems) = Store::load(dir.path());
    assert!(problems.is_empty(), "{problems:?}");
    let mut rig = Rig::new(store, ws, problems, Some(env.name.clone()));
    let (tx, mut events) = mpsc::unbounded_channel();
    let worker = worker::spawn(tx);

    // Twenty exports, kicked off through the worker the UI uses; the worker watches each.
    let base = demo.fhir_url();
    let plan = fhirside::worker::auth::plan_for(
        &env,
        &[],
        &RequestSpec::new("export", "GET", &format!("{base}/$export")),
        &format!("{base}/$export"),
    )
    .unwrap();
    for _ in 0..JOBS {
        worker.send(WorkerCommand::StartExport {
            env: env.name.clone(),
            base: base.clone(),
            params: Box::new(ExportParams::default()),
            auth: plan.clone(),
        });
    }

    // The hanging request first, then the fast one and a browser page.
    rig.open(&slow_path);
    assert_eq!(forward(&worker, rig.key("ctrl-r")), 1);
    let slow_ids: Vec<_> = rig.app.model.in_flight.keys().copied().collect();
    rig.open(&fast_path);
    assert_eq!(forward(&worker, rig.key("ctrl-r")), 1);
    let page = rig.msg(Msg::Intent(browse(format!("{base}/Patient?_count=3"))));
    forward(&worker, page);
    // Back to the panes, the tree focused (opening a request focused the Request pane).
    rig.app.screen = None;
    rig.app.focus = Pane::Collections;

    let mut term = Terminal::new(TestBackend::new(140, 40)).unwrap();
    let mut keys_handled = 0;
    let mut fast_done_while_slow_pending = false;
    let done = |rig: &Rig| {
        let jobs = &rig.app.model.jobs.list;
        rig.app.response.responses.contains_key(&fast_path)
            && rig
                .app
                .browser
                .pages
                .first()
                .is_some_and(|p| matches!(p.content, PageContent::Loaded(_)))
            && jobs.len() == JOBS
            && jobs.iter().all(|j| j.state.is_terminal())
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !done(&rig) {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| {
                let jobs = &rig.app.model.jobs.list;
                panic!(
                    "not done in time: {} jobs, states {:?}, fast answered: {}",
                    jobs.len(),
                    jobs.iter().map(|j| j.state).collect::<Vec<_>>(),
                    rig.app.response.responses.contains_key(&fast_path)
                )
            })
            .expect("the worker runs");
        if let WorkerEvent::Response { id, .. } = &ev {
            assert!(!slow_ids.contains(id), "the hanging server never answers");
        }
        let cmds = rig.worker_event(ev);
        forward(&worker, cmds);
        if rig.app.response.responses.contains_key(&fast_path)
            && slow_ids
                .iter()
                .all(|id| rig.app.model.in_flight.contains_key(id))
        {
            fast_done_while_slow_pending = true;
        }
        // The UI between events: a key is handled and the screen is drawn.
        let before = rig.app.tree.selected;
        forward(&worker, rig.keys(&["j", "k"]));
        assert_eq!(rig.app.tree.selected, before);
        keys_handled += 1;
        rig.draw_on(&mut term);
    }

    assert!(fast_done_while_slow_pending);
    match &rig.app.response.responses[&fast_path].outcome {
        Outcome::Received { response, .. } => assert_eq!(response.status, 200),
        Outcome::Failed(e) => panic!("the fast request failed: {e}"),
    }
    let page = &rig.app.browser.pages[0];
    let PageContent::Loaded(loaded) = &page.content else {
        unreachable!()
    };
    assert_eq!(loaded.status, 200);
    assert!(keys_handled >= JOBS, "{keys_handled}");
    let jobs = &rig.app.model.jobs.list;
    assert!(
        jobs.iter().all(|j| j.state == JobState::Complete),
        "{:?}",
        jobs.iter()
            .map(|j| (&j.state, &j.outcome))
            .collect::<Vec<_>>()
    );
    assert!(jobs.iter().all(|j| j.polls >= 1));
    // Still hanging, and still the only request in flight: Esc cancels it.
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let in_flight: Vec<_> = rig.app.model.in_flight.keys().copied().collect();
    assert_eq!(in_flight, slow_ids);
    rig.open(&slow_path);
    forward(&worker, rig.key("esc"));
    assert!(rig.app.model.in_flight.is_empty());
    // The jobs were written to the workspace, one file each.
    let saved = std::fs::read_dir(dir.path().join("jobs")).unwrap().count();
    assert_eq!(saved, JOBS);
}

async fn fhirside_slow_server(hits: Arc<AtomicUsize>) -> std::net::SocketAddr {
    let app = Router::new().route(
        "/hang",
        get(move || {
            let hits = hits.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(600)).await;
                "too late"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}
