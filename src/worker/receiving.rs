//! What a request in flight reports to the UI while its body arrives: bytes received (a few
//! times a second) and, once, the top lines of a large JSON body.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{RequestId, WorkerEvent, body, spool};

/// Sends `Receiving` events for request `id` five times a second while bytes arrive, and one
/// `BodyHead` as soon as a large body's first bytes are in, until the exchange ends (its
/// progress is dropped by the sender) or is cancelled.
pub(super) fn report_receiving(
    id: RequestId,
    progress: std::sync::Arc<spool::ReceiveProgress>,
    cancelled: CancellationToken,
    events: mpsc::UnboundedSender<WorkerEvent>,
) {
    let progress = std::sync::Arc::downgrade(&progress);
    tokio::spawn(async move {
        let mut last = 0;
        let mut head_sent = false;
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        loop {
            // The sender holds the other reference until the answer has gone out.
            let Some(p) = progress.upgrade() else { break };
            tokio::select! {
                _ = tick.tick() => {}
                _ = p.head_ready(), if !head_sent => {}
                _ = cancelled.cancelled() => break,
            }
            if !head_sent && let Some(head) = p.head() {
                head_sent = true;
                if let Some(text) = body::head_preview(&head) {
                    let ev = WorkerEvent::BodyHead {
                        id,
                        head: Box::new(text),
                    };
                    if events.send(ev).is_err() {
                        break;
                    }
                }
            }
            let received = p.received();
            if received != last {
                last = received;
                let ev = WorkerEvent::Receiving {
                    id,
                    received,
                    total: p.total(),
                    spooling: p.spooling(),
                };
                if events.send(ev).is_err() {
                    break;
                }
            }
        }
    });
}
