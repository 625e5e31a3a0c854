//! Load through the real App and worker: twenty bulk-export jobs polling against the demo
//! server while a request hangs on a server that never answers. The other requests (a saved
//! request and a browser page) still complete while the slow one is pending, keys keep being
//! handled and the screen keeps drawing in between, and every job ends. No timing thresholds:
//! the test checks the order of events, not how long they took.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fhirside::app::{App, Command, Msg};
use fhirside::cli::demo::demo_environment;
use fhirside::demo::{DemoOptions, DemoServer};
use fhirside::tui::style::Theme;
use fhirside::worker::export::{ExportParams, JobState};
use fhirside::worker::{self, WorkerCommand, WorkerEvent, WorkerHandle};
use fhirside::workspace::{NodePath, RequestSpec, Store};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

const JOBS: usize = 20;

fn forward(worker: &WorkerHandle, cmds: Vec<Command>) -> usize {
    let mut sent = 0;
    for c in cmds {
        if let Command::Worker(cmd) = c {
            sent += 1;
            worker.send(cmd);
        }
    }
    sent
}

fn key(app: &mut App, c: char) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

fn ctrl_r(app: &mut App) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('r'),
        KeyModifiers::CONTROL,
    )))
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
    let mut app = App::new(store, ws, problems, Some(env.name.clone()));
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
    app.open_request(&slow_path);
    assert_eq!(forward(&worker, ctrl_r(&mut app)), 1);
    let slow_ids: Vec<_> = app.in_flight.keys().copied().collect();
    app.open_request(&fast_path);
    assert_eq!(forward(&worker, ctrl_r(&mut app)), 1);
    forward(&worker, app.browse_to(format!("{base}/Patient?_count=3")));
    app.browsing = false;

    let mut term = Terminal::new(TestBackend::new(140, 40)).unwrap();
    let theme = Theme::dark();
    let mut keys_handled = 0;
    let mut fast_done_while_slow_pending = false;
    let done = |app: &App| {
        app.responses.contains_key(&fast_path)
            && app
                .browser
                .as_ref()
                .and_then(|b| b.pages.first())
                .is_some_and(|p| {
                    matches!(p.content, fhirside::app::browser::PageContent::Loaded(_))
                })
            && app.jobs.len() == JOBS
            && app.jobs.iter().all(|j| j.state.is_terminal())
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !done(&app) {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "not done in time: {} jobs, states {:?}, fast answered: {}",
                    app.jobs.len(),
                    app.jobs.iter().map(|j| j.state).collect::<Vec<_>>(),
                    app.responses.contains_key(&fast_path)
                )
            })
            .expect("the worker runs");
        if let WorkerEvent::Response { id, .. } = &ev {
            assert!(!slow_ids.contains(id), "the hanging server never answers");
        }
        let cmds = app.update(Msg::Worker(ev));
        forward(&worker, cmds);
        if app.responses.contains_key(&fast_path)
            && slow_ids.iter().all(|id| app.in_flight.contains_key(id))
        {
            fast_done_while_slow_pending = true;
        }
        // The UI between events: a key is handled and the screen is drawn.
        let before = app.tree_selected;
        key(&mut app, 'j');
        key(&mut app, 'k');
        assert_eq!(app.tree_selected, before);
        keys_handled += 1;
        term.draw(|f| fhirside::ui::draw(f, &mut app, &theme))
            .unwrap();
    }

    assert!(fast_done_while_slow_pending);
    match &app.responses[&fast_path].outcome {
        fhirside::app::response::Outcome::Received { response, .. } => {
            assert_eq!(response.status, 200)
        }
        fhirside::app::response::Outcome::Failed(e) => panic!("the fast request failed: {e}"),
    }
    let page = &app.browser.as_ref().unwrap().pages[0];
    let fhirside::app::browser::PageContent::Loaded(loaded) = &page.content else {
        unreachable!()
    };
    assert_eq!(loaded.status, 200);
    assert!(keys_handled >= JOBS, "{keys_handled}");
    assert!(
        app.jobs.iter().all(|j| j.state == JobState::Complete),
        "{:?}",
        app.jobs
            .iter()
            .map(|j| (&j.state, &j.outcome))
            .collect::<Vec<_>>()
    );
    assert!(app.jobs.iter().all(|j| j.polls >= 1));
    // Still hanging, and still the only request in flight: Esc cancels it.
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(app.in_flight.keys().copied().collect::<Vec<_>>(), slow_ids);
    app.open_request(&slow_path);
    forward(
        &worker,
        app.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE))),
    );
    assert!(app.in_flight.is_empty());
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
