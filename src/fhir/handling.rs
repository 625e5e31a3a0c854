//! Search handling: which requests are searches (they get `Prefer: handling=strict` from a
//! `strict = true` environment), and what a lenient server's searchset says it did with the
//! parameters it was sent.
//!
//! Azure's FHIR service is lenient by default: a search parameter it does not know is dropped
//! without an error, and the only traces are the Bundle's `self` link (built from the
//! parameters it used) and an OperationOutcome entry (microsoft/fhir-server
//! `SearchOptionsFactory.cs` collects them as unsupported parameters; `BundleFactory.cs` leaves
//! them out of the `self` link). With `Prefer: handling=strict` it answers 400 instead.

use serde_json::Value;

use super::bundle::BundleView;
use super::outcome::{parse_outcome, summary};
use super::util::R4_RESOURCE_TYPES;

/// Parameters that a `self` link need not repeat even when the server used them: paging
/// state (`ct`, `_getpages*`, `_page*`), the page size (a server may clamp it or leave its
/// default out) and the response format.
const NOT_FILTERS: &[&str] = &["ct", "_count", "_format", "_pretty", "_getpages", "_page"];

/// Whether `method url` is a search: a GET whose last path segment is a resource type
/// (`[base]/Observation?…`, `[base]/Patient/1/Observation`), or a GET of `base` itself with a
/// query (`[base]?_type=…`).
pub fn is_search_get(method: &str, url: &str, base: Option<&str>) -> bool {
    if !method.eq_ignore_ascii_case("GET") {
        return false;
    }
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let last = u
        .path_segments()
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()));
    if last.is_some_and(|seg| R4_RESOURCE_TYPES.contains(&seg)) {
        return true;
    }
    let system = base
        .and_then(|b| url::Url::parse(b.trim()).ok())
        .is_some_and(|b| {
            b.origin() == u.origin()
                && b.path().trim_end_matches('/') == u.path().trim_end_matches('/')
        });
    system && u.query().is_some_and(|q| !q.is_empty())
}

/// Adds `handling=strict` to the request's `Prefer` (a header of its own, or appended to the
/// one there); a `Prefer` that already says `handling=` is the user's choice and stays.
pub fn add_strict_handling(headers: &mut Vec<(String, String)>) {
    let prefer = headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case("prefer"));
    match prefer {
        Some((_, v)) if v.to_ascii_lowercase().contains("handling") => {}
        Some((_, v)) if v.trim().is_empty() => *v = "handling=strict".into(),
        Some((_, v)) => v.push_str(", handling=strict"),
        None => headers.push(("Prefer".into(), "handling=strict".into())),
    }
}

/// The parameter names of a URL's query, decoded, in order, once each.
fn param_names(url: &str) -> Vec<String> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split('#').next().unwrap_or("");
    let mut names: Vec<String> = Vec::new();
    for (k, _) in url::form_urlencoded::parse(query.as_bytes()) {
        let k = k.trim().to_string();
        if !k.is_empty() && !names.contains(&k) {
            names.push(k);
        }
    }
    names
}

/// The search parameters sent in `sent_url` that the searchset's `self` link no longer has:
/// what a lenient server ignored. Names as sent (with their modifier, `name:exact`); a
/// parameter whose name the link keeps with another modifier counts as kept (servers
/// normalise modifiers). Empty when the answer is not a searchset or has no `self` link.
pub fn ignored_params(sent_url: &str, bundle: &Value) -> Vec<String> {
    let Some(view) = BundleView::parse(bundle) else {
        return Vec::new();
    };
    if view.bundle_type.as_deref() != Some("searchset") {
        return Vec::new();
    }
    let Some(self_link) = view.links.self_.as_deref() else {
        return Vec::new();
    };
    let kept = param_names(self_link);
    let base = |n: &str| n.split(':').next().unwrap_or(n).to_string();
    let kept_bases: Vec<String> = kept.iter().map(|k| base(k.as_str())).collect();
    param_names(sent_url)
        .into_iter()
        .filter(|n| {
            let b = base(n.as_str());
            !NOT_FILTERS.contains(&b.as_str())
                && !b.starts_with("_getpages")
                && !kept.contains(n)
                && !kept_bases.contains(&b)
        })
        .collect()
}

/// The Response pane's and `fhirside run`'s sentence for ignored parameters.
pub fn ignored_note(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| {
        format!(
            "the server ignored: {} — set strict = true to be told",
            names.join(", ")
        )
    })
}

/// At most this many issues of a searchset's OperationOutcomes are said.
const MAX_NOTES: usize = 5;

/// The issues of a searchset's OperationOutcome entries, one line each ("information: The
/// '_count' parameter exceeds…"): how Azure says it clamped `_count` above 1000 or skipped a
/// parameter. One line per issue, so a clamp is not hidden behind another issue's "+1 more".
pub fn bundle_notes(bundle: &Value) -> Vec<String> {
    let Some(view) = BundleView::parse(bundle) else {
        return Vec::new();
    };
    view.outcomes()
        .filter_map(|e| view.resource(bundle, e))
        .filter_map(parse_outcome)
        .flat_map(|issues| {
            issues
                .iter()
                .map(|i| summary(std::slice::from_ref(i)))
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .take(MAX_NOTES)
        .collect()
}

/// Bodies larger than this are not read for notes (the pane shows big ones in parts).
const NOTES_MAX_BODY: usize = 4 * 1024 * 1024;

/// What a search's answer says of the search, read once where the body is prepared (the
/// worker's blocking thread, never the UI's): the parameters its `self` link dropped and its
/// OperationOutcome issues. Empty for anything but a searchset Bundle of JSON within the size
/// limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchNotes {
    /// Sent parameters the `self` link does not have.
    pub ignored: Vec<String>,
    /// The searchset's OperationOutcome issues, a line each.
    pub server: Vec<String>,
}

impl SearchNotes {
    /// Reads `body`, the answer to `sent_url`.
    pub fn of(body: &[u8], sent_url: &str) -> SearchNotes {
        let head = body.get(..body.len().min(4096)).unwrap_or(&[]);
        if body.len() > NOTES_MAX_BODY || !head.windows(9).any(|w| w == b"searchset") {
            return SearchNotes::default();
        }
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return SearchNotes::default();
        };
        SearchNotes {
            ignored: ignored_params(sent_url, &v),
            server: bundle_notes(&v),
        }
    }

    /// A sentence each: unless the environment is strict, the dropped parameters first (on a
    /// narrow pane they are what stays in view); then "server note: …" (Azure clamping `_count`
    /// to 1000, say).
    pub fn lines(&self, strict: bool) -> Vec<String> {
        let mut notes: Vec<String> = Vec::new();
        if !strict {
            notes.extend(ignored_note(&self.ignored));
        }
        notes.extend(self.server.iter().map(|n| format!("server note: {n}")));
        notes
    }
}

/// [`SearchNotes::of`] then [`SearchNotes::lines`]: what `fhirside run` prints.
pub fn answer_notes(body: &[u8], sent_url: &str, strict: bool) -> Vec<String> {
    SearchNotes::of(body, sent_url).lines(strict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn searchset(self_link: &str) -> Value {
        json!({"resourceType": "Bundle", "type": "searchset",
               "link": [{"relation": "self", "url": self_link}], "entry": []})
    }

    #[test]
    fn searches_are_gets_of_a_type_or_of_the_base_with_a_query() {
        let base = Some("https://fhir.test/r4/");
        for (m, u, yes) in [
            ("GET", "https://fhir.test/r4/Patient?name=x", true),
            ("GET", "https://fhir.test/r4/Patient", true),
            ("get", "https://fhir.test/r4/Patient/", true),
            (
                "GET",
                "https://fhir.test/r4/Patient/123/Observation?code=1",
                true,
            ),
            ("GET", "https://fhir.test/r4?_type=Patient", true),
            ("GET", "https://fhir.test/r4/?_type=Patient", true),
            ("GET", "https://fhir.test/r4/", false),
            ("GET", "https://fhir.test/r4/Patient/123", false),
            ("GET", "https://fhir.test/r4/Patient/123/_history", false),
            ("GET", "https://fhir.test/r4/metadata", false),
            ("GET", "https://fhir.test/r4/$export?_type=Patient", false),
            ("GET", "https://other.test/r4?_type=Patient", false),
            ("POST", "https://fhir.test/r4/Patient", false),
            ("GET", "not a url", false),
        ] {
            assert_eq!(is_search_get(m, u, base), yes, "{m} {u}");
        }
        assert!(!is_search_get("GET", "https://fhir.test/r4?x=1", None));
    }

    #[test]
    fn strict_handling_is_added_once_and_a_users_choice_stays() {
        let mut h = vec![("Accept".to_string(), "application/fhir+json".to_string())];
        add_strict_handling(&mut h);
        assert_eq!(h[1], ("Prefer".into(), "handling=strict".into()));
        add_strict_handling(&mut h);
        assert_eq!(h.len(), 2);
        let mut h = vec![("prefer".to_string(), "return=minimal".to_string())];
        add_strict_handling(&mut h);
        assert_eq!(h[0].1, "return=minimal, handling=strict");
        let mut h = vec![("Prefer".to_string(), "handling=lenient".to_string())];
        add_strict_handling(&mut h);
        assert_eq!(h[0].1, "handling=lenient");
    }

    #[test]
    fn dropped_parameters_are_named_as_sent() {
        let sent = "https://h/Patient?name:exact=Ann&foo=1&gender=female&bar%5Fbaz=2";
        let b = searchset("https://h/Patient?name:exact=Ann&gender=female");
        assert_eq!(ignored_params(sent, &b), ["foo", "bar_baz"]);
        assert_eq!(
            ignored_note(&ignored_params(sent, &b)).as_deref(),
            Some("the server ignored: foo, bar_baz — set strict = true to be told")
        );
        // Everything kept: nothing to say.
        assert!(ignored_params(sent, &searchset(sent)).is_empty());
        assert_eq!(ignored_note(&[]), None);
    }

    #[test]
    fn modifiers_paging_and_count_are_handled_sensibly() {
        // A modifier the server wrote back differently still counts as kept; a dropped one is
        // named with its modifier.
        let b = searchset("https://h/Patient?name=Ann");
        assert!(ignored_params("https://h/Patient?name:exact=Ann", &b).is_empty());
        let b = searchset("https://h/Patient?gender=female");
        assert_eq!(
            ignored_params("https://h/Patient?name:exact=Ann&gender=female", &b),
            ["name:exact"]
        );
        // Paging and page size need not come back: a clamped or default _count, a ct.
        let b = searchset("https://h/Observation?code=1");
        assert!(
            ignored_params(
                "https://h/Observation?code=1&_count=5000&ct=abc&_format=json",
                &b
            )
            .is_empty()
        );
        // A dropped _sort or _summary is said.
        assert_eq!(
            ignored_params("https://h/Observation?code=1&_sort=-foo", &b),
            ["_sort"]
        );
    }

    #[test]
    fn only_searchsets_with_a_self_link_are_judged() {
        let sent = "https://h/Patient?foo=1";
        let batch = json!({"resourceType": "Bundle", "type": "batch-response",
                           "link": [{"relation": "self", "url": "https://h/Patient"}]});
        assert!(ignored_params(sent, &batch).is_empty());
        let no_link = json!({"resourceType": "Bundle", "type": "searchset"});
        assert!(ignored_params(sent, &no_link).is_empty());
        assert!(ignored_params(sent, &json!({"resourceType": "Patient"})).is_empty());
        assert!(ignored_params(sent, &json!([1, 2])).is_empty());
    }

    #[test]
    fn answers_get_notes_only_when_lenient_and_a_searchset() {
        let sent = "https://h/Patient?foo=1";
        let body = searchset("https://h/Patient").to_string();
        assert_eq!(
            answer_notes(body.as_bytes(), sent, false),
            ["the server ignored: foo — set strict = true to be told"]
        );
        assert!(answer_notes(body.as_bytes(), sent, true).is_empty());
        assert!(answer_notes(b"{\"resourceType\":\"Patient\"}", sent, false).is_empty());
        assert!(answer_notes(b"not json searchset", sent, false).is_empty());
    }

    #[test]
    fn outcome_entries_become_notes() {
        let b = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"resourceType": "OperationOutcome", "issue": [
                {"severity": "information", "code": "informational",
                 "diagnostics": "The '_count' parameter exceeds limit configured for server."}]},
             "search": {"mode": "outcome"}},
            {"resource": {"resourceType": "Patient", "id": "1"}, "search": {"mode": "match"}}]});
        let notes = bundle_notes(&b);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("'_count' parameter exceeds"), "{notes:?}");
        // Each issue is said: a clamp next to an unsupported parameter is not "+1 more".
        let two = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"resourceType": "OperationOutcome", "issue": [
                {"severity": "warning", "code": "not-supported", "diagnostics": "foo"},
                {"severity": "information", "code": "informational", "diagnostics": "clamped"}]},
             "search": {"mode": "outcome"}}]});
        assert_eq!(bundle_notes(&two), ["warning: foo", "information: clamped"]);
        assert!(bundle_notes(&searchset("https://h/Patient")).is_empty());
    }
}
