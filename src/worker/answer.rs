//! An exchange's answer made ready for the view, on a blocking thread: the body prepared, what
//! a searchset says of its search, what redirects left behind, and (for the FHIR browser) the
//! page read. The UI thread only takes the result.

use super::{HttpError, HttpRequest, HttpResponse, Received};

/// Sends and prepares the body on a blocking thread.
pub async fn exchange(
    client: &reqwest::Client,
    request: &HttpRequest,
) -> Result<Box<Received>, HttpError> {
    let progress = super::RECEIVING.try_with(std::sync::Arc::clone).ok();
    let (response, hops) = super::http::send_traced(client, request, progress.as_deref()).await?;
    tokio::task::spawn_blocking(move || {
        let body = super::body::prepare_for_view(&response);
        let search = crate::fhir::handling::SearchNotes::of(&response.body, &response.final_url);
        Box::new(Received {
            response,
            body,
            auth_note: redirect_note(&hops),
            search,
            fhir: None,
        })
    })
    .await
    .map_err(|e| HttpError::Other(format!("Preparing the body failed: {e}.")))
}

/// `response` read for the FHIR browser on a blocking thread (`None` only if that thread died).
pub(super) async fn read_page(response: &HttpResponse) -> Option<Box<crate::fhir::page::FhirPage>> {
    let (body, url) = (response.body.clone(), response.final_url.clone());
    let today = chrono::Local::now().date_naive();
    tokio::task::spawn_blocking(move || {
        Box::new(crate::fhir::page::FhirPage::read(&body, &url, today))
    })
    .await
    .ok()
}

/// What redirects to another origin left behind, when they left anything (shown with the answer).
fn redirect_note(hops: &[super::http::Hop]) -> Option<String> {
    let notes: Vec<String> = hops
        .iter()
        .filter(|h| !h.dropped.is_empty())
        .map(|h| {
            let to = super::credentials::Origin::of(&h.to)
                .map_or_else(|| h.to.clone(), |o| o.host_port());
            format!(
                "Redirected ({}) to {to}, another origin: {} not sent there.",
                h.status,
                h.dropped.join(", ")
            )
        })
        .collect();
    (!notes.is_empty()).then(|| notes.join(" "))
}

/// Adds `note` after any note the answer already has.
pub(super) fn add_note(received: &mut Received, note: String) {
    received.auth_note = Some(match received.auth_note.take() {
        Some(first) => format!("{first} {note}"),
        None => note,
    });
}
