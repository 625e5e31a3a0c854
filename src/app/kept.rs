//! Limits on what the session keeps in memory: each saved request keeps only its last response,
//! and at most [`MAX_KEPT_RESPONSES`] responses holding at most [`MAX_KEPT_BODY_BYTES`] of body
//! are kept in all. The oldest go first; the open request's response is never dropped.

use super::response::{Outcome, ResponseView};
use super::state::App;
use crate::workspace::NodePath;

/// Responses kept across all requests (one per request at most).
pub const MAX_KEPT_RESPONSES: usize = 24;

/// Body bytes kept across all responses (one body alone may be larger; it is then the only one
/// kept besides the open request's).
pub const MAX_KEPT_BODY_BYTES: usize = 768 * 1024 * 1024;

fn body_bytes(view: &ResponseView) -> usize {
    match &view.outcome {
        Outcome::Received { response, .. } => response.body.len(),
        Outcome::Failed(_) => 0,
    }
}

impl App {
    /// Keeps `view` as `path`'s response (replacing its previous one) and drops the oldest
    /// others while over the limits.
    pub fn keep_response(&mut self, path: NodePath, view: ResponseView) {
        self.responses.insert(path.clone(), view);
        self.trim_responses(&path, MAX_KEPT_RESPONSES, MAX_KEPT_BODY_BYTES);
    }

    fn trim_responses(&mut self, newest: &NodePath, max_count: usize, max_bytes: usize) {
        loop {
            let count = self.responses.len();
            let bytes: usize = self.responses.values().map(body_bytes).sum();
            if count <= max_count && bytes <= max_bytes {
                break;
            }
            let oldest = self
                .responses
                .iter()
                .filter(|(p, _)| *p != newest && Some(*p) != self.open.as_ref())
                .min_by_key(|(_, v)| v.received_at)
                .map(|(p, _)| p.clone());
            match oldest {
                Some(p) => {
                    self.responses.remove(&p);
                }
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::tests::{response, seeded_app};
    use crate::worker::body;

    fn view(bytes: usize) -> ResponseView {
        let mut r = *response(200, "text/plain", "");
        r.response.body = vec![b'x'; bytes].into();
        r.body = body::prepare(&r.response);
        ResponseView::new(
            "GET http://x".into(),
            Outcome::Received {
                response: Box::new(r.response),
                body: Box::new(r.body),
            },
            Vec::new(),
        )
    }

    fn p(i: usize) -> NodePath {
        NodePath(vec!["C".into(), format!("r{i}")])
    }

    #[test]
    fn at_most_so_many_responses_are_kept_and_the_oldest_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = seeded_app(dir.path());
        app.open = Some(p(0));
        for i in 0..MAX_KEPT_RESPONSES * 3 {
            app.keep_response(p(i), view(10));
            // The same request again replaces its own response.
            app.keep_response(p(i), view(10));
        }
        assert_eq!(app.responses.len(), MAX_KEPT_RESPONSES);
        assert!(
            app.responses.contains_key(&p(0)),
            "the open request's stays"
        );
        let last = MAX_KEPT_RESPONSES * 3 - 1;
        assert!(app.responses.contains_key(&p(last)));
        assert!(!app.responses.contains_key(&p(1)), "the oldest went");
    }

    #[test]
    fn body_bytes_are_bounded_too() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = seeded_app(dir.path());
        // The same rule as the real limit, on a small scale.
        let limit = 3000;
        for i in 0..4 {
            app.responses.insert(p(i), view(limit / 3 + 1));
            app.trim_responses(&p(i), MAX_KEPT_RESPONSES, limit);
        }
        let kept: usize = app.responses.values().map(body_bytes).sum();
        assert!(kept <= limit, "{kept}");
        assert_eq!(app.responses.len(), 2);
        assert!(app.responses.contains_key(&p(3)), "the newest stays");
    }
}
