//! The worker: the only place with network I/O. An actor task owns the HTTP client and the table
//! of requests in flight; the UI sends it commands and gets events back, so it never blocks.

pub mod body;
pub mod build;
pub mod capture;
pub mod http;

use std::collections::HashMap;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use http::{HttpError, HttpRequest, HttpResponse};

/// Names one request in flight, so its answer (or its cancellation) finds its way back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

#[derive(Debug)]
pub enum WorkerCommand {
    Send { id: RequestId, request: HttpRequest },
    Cancel { id: RequestId },
}

#[derive(Debug)]
pub enum WorkerEvent {
    Response {
        id: RequestId,
        result: Result<Box<Received>, HttpError>,
    },
}

/// A response with its body already prepared for display.
pub struct Received {
    pub response: HttpResponse,
    pub body: body::PreparedBody,
}

impl std::fmt::Debug for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Received")
            .field("status", &self.response.status)
            .finish()
    }
}

/// Sends and prepares the body on a blocking thread.
pub async fn exchange(
    client: &reqwest::Client,
    request: &HttpRequest,
) -> Result<Box<Received>, HttpError> {
    let response = http::send(client, request).await?;
    tokio::task::spawn_blocking(move || {
        let body = body::prepare(&response);
        Box::new(Received { response, body })
    })
    .await
    .map_err(|e| HttpError::Other(format!("Preparing the body failed: {e}.")))
}

/// The UI's end of the worker. Cloning is cheap; dropping every handle stops the worker.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    tx: mpsc::UnboundedSender<WorkerCommand>,
}

impl WorkerHandle {
    pub fn send(&self, cmd: WorkerCommand) {
        // The worker outlives the UI; a failed send means we are shutting down.
        let _ = self.tx.send(cmd);
    }
}

/// Starts the worker on the current tokio runtime.
pub fn spawn(events: mpsc::UnboundedSender<WorkerEvent>) -> WorkerHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(Worker::new(events).run(rx));
    WorkerHandle { tx }
}

struct Worker {
    client: reqwest::Client,
    events: mpsc::UnboundedSender<WorkerEvent>,
    in_flight: HashMap<RequestId, CancellationToken>,
    done_tx: mpsc::UnboundedSender<RequestId>,
    done_rx: mpsc::UnboundedReceiver<RequestId>,
}

impl Worker {
    fn new(events: mpsc::UnboundedSender<WorkerEvent>) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Self {
            client: http::client(),
            events,
            in_flight: HashMap::new(),
            done_tx,
            done_rx,
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<WorkerCommand>) {
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                Some(id) = self.done_rx.recv() => {
                    self.in_flight.remove(&id);
                }
            }
        }
        for token in self.in_flight.values() {
            token.cancel();
        }
    }

    fn handle(&mut self, cmd: WorkerCommand) {
        match cmd {
            WorkerCommand::Send { id, request } => {
                let token = CancellationToken::new();
                self.in_flight.insert(id, token.clone());
                let client = self.client.clone();
                let events = self.events.clone();
                let done = self.done_tx.clone();
                tokio::spawn(async move {
                    let result = tokio::select! {
                        r = exchange(&client, &request) => r,
                        _ = token.cancelled() => Err(HttpError::Cancelled),
                    };
                    let _ = events.send(WorkerEvent::Response { id, result });
                    let _ = done.send(id);
                });
            }
            WorkerCommand::Cancel { id } => {
                if let Some(token) = self.in_flight.remove(&id) {
                    token.cancel();
                }
            }
        }
    }
}
