//! A read-only view of a Bundle (search results, history, batch/transaction responses): its
//! type, total, paging links and one summary per entry, so the result table and the pager can
//! work without walking raw JSON.
//!
//! Paging links are kept as the opaque URLs the server sent (never rebuilt). `total` is often
//! absent (servers skip it unless `_total=accurate`). Entries refer to the bundle by index
//! rather than copying resources, because result bundles can be large.

use serde_json::Value;

use super::util::{list, scalar_text, str_at, text_at};

/// Paging links by relation (`self`, `first`, `previous`/`prev`, `next`, `last`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    pub self_: Option<String>,
    pub first: Option<String>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub last: Option<String>,
}

/// One `Bundle.entry`, summarised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryView {
    /// Position in `Bundle.entry`; use [`BundleView::resource`] or [`EntryView::resource_in`]
    /// to reach the resource.
    pub index: usize,
    pub full_url: Option<String>,
    pub resource_type: Option<String>,
    pub id: Option<String>,
    /// `search.mode`: `match`, `include` or `outcome`.
    pub search_mode: Option<String>,
    pub search_score: Option<f64>,
    /// `response.status` in batch/transaction responses, e.g. `201 Created`.
    pub response_status: Option<String>,
    pub response_location: Option<String>,
    /// `request.method` and `request.url` (transactions, history).
    pub request_method: Option<String>,
    pub request_url: Option<String>,
}

impl EntryView {
    /// The entry's resource inside the bundle it was parsed from.
    pub fn resource_in<'a>(&self, bundle: &'a Value) -> Option<&'a Value> {
        list(bundle, "entry")
            .get(self.index)
            .and_then(|e| e.get("resource"))
            .filter(|r| r.is_object())
    }

    /// Whether this entry is a search match (also when the server gave no mode at all).
    pub fn is_match(&self) -> bool {
        matches!(self.search_mode.as_deref(), None | Some("match"))
    }

    /// Whether this entry carries an OperationOutcome about the search.
    pub fn is_outcome(&self) -> bool {
        self.search_mode.as_deref() == Some("outcome")
            || (self.search_mode.is_none()
                && self.resource_type.as_deref() == Some("OperationOutcome")
                && self.response_status.is_none())
    }
}

/// A parsed Bundle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BundleView {
    pub bundle_type: Option<String>,
    pub total: Option<u64>,
    pub links: Links,
    /// Links with other relations, as (relation, url).
    pub other_links: Vec<(String, String)>,
    pub entries: Vec<EntryView>,
}

/// Whether a JSON value is a Bundle resource.
pub fn is_bundle(v: &Value) -> bool {
    str_at(v, "resourceType") == Some("Bundle")
}

impl BundleView {
    /// Parses a Bundle; `None` when the value is not a Bundle. Anything malformed inside is
    /// skipped or left `None`.
    pub fn parse(v: &Value) -> Option<BundleView> {
        if !is_bundle(v) {
            return None;
        }
        let mut links = Links::default();
        let mut other_links = Vec::new();
        for l in list(v, "link") {
            let (Some(rel), Some(url)) = (str_at(l, "relation"), str_at(l, "url")) else {
                continue;
            };
            let slot = match rel.to_ascii_lowercase().as_str() {
                "self" => &mut links.self_,
                "first" => &mut links.first,
                "previous" | "prev" => &mut links.previous,
                "next" => &mut links.next,
                "last" => &mut links.last,
                _ => {
                    other_links.push((rel.to_string(), url.to_string()));
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(url.to_string());
            }
        }
        let entries = list(v, "entry")
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_object())
            .map(|(index, e)| entry_view(index, e))
            .collect();
        Some(BundleView {
            bundle_type: text_at(v, "type"),
            total: v.get("total").and_then(as_count),
            links,
            other_links,
            entries,
        })
    }

    /// The resource of an entry in `bundle` (the value this view was parsed from).
    pub fn resource<'a>(&self, bundle: &'a Value, entry: &EntryView) -> Option<&'a Value> {
        entry.resource_in(bundle)
    }

    /// Entries that are search matches (no mode counts as a match).
    pub fn matches(&self) -> impl Iterator<Item = &EntryView> {
        self.entries.iter().filter(|e| e.is_match())
    }

    /// Entries carrying an OperationOutcome about the search.
    pub fn outcomes(&self) -> impl Iterator<Item = &EntryView> {
        self.entries.iter().filter(|e| e.is_outcome())
    }

    /// Distinct resource types of the entries, in order of first appearance (outcome entries
    /// left out).
    pub fn resource_types(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in self.entries.iter().filter(|e| !e.is_outcome()) {
            if let Some(t) = e.resource_type.as_deref()
                && !out.contains(&t)
            {
                out.push(t);
            }
        }
        out
    }

    /// The type to pick table columns for: the single type of the entries, or `"mixed"` when
    /// there are several (e.g. `_include`, `$everything`). `None` for an empty bundle.
    pub fn table_type(&self) -> Option<&str> {
        match self.resource_types().as_slice() {
            [] => None,
            [one] => Some(one),
            _ => Some("mixed"),
        }
    }

    /// Short paging text: `20 of 143`, `20 (more available)`, `20`.
    pub fn count_label(&self) -> String {
        let n = self.matches().count();
        match (self.total, &self.links.next) {
            (Some(t), _) => format!("{n} of {t}"),
            (None, Some(_)) => format!("{n} (more available)"),
            (None, None) => n.to_string(),
        }
    }
}

fn entry_view(index: usize, e: &Value) -> EntryView {
    let resource = e.get("resource").filter(|r| r.is_object());
    let search = e.get("search");
    let response = e.get("response");
    let request = e.get("request");
    EntryView {
        index,
        full_url: text_at(e, "fullUrl"),
        resource_type: resource.and_then(|r| text_at(r, "resourceType")),
        id: resource.and_then(|r| text_at(r, "id")),
        search_mode: search.and_then(|s| text_at(s, "mode")),
        search_score: search
            .and_then(|s| s.get("score"))
            .and_then(|s| s.as_f64().or_else(|| s.as_str()?.trim().parse().ok())),
        response_status: response.and_then(|r| text_at(r, "status")),
        response_location: response.and_then(|r| text_at(r, "location")),
        request_method: request.and_then(|r| text_at(r, "method")),
        request_url: request.and_then(|r| text_at(r, "url")),
    }
}

/// A non-negative count: integers, integral floats, and numeric strings.
fn as_count(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    if let Some(f) = v.as_f64() {
        return (f >= 0.0 && f.fract() == 0.0 && f < 1e18).then_some(f as u64);
    }
    scalar_text(v).and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::testutil::arb_json;
    use proptest::prelude::*;
    use serde_json::json;

    fn searchset() -> Value {
        json!({
            "resourceType": "Bundle",
            "id": "b1",
            "type": "searchset",
            "total": 143,
            "link": [
                {"relation": "self", "url": "https://fhir.example.org/r4/Patient?name=smith"},
                {"relation": "next", "url": "https://fhir.example.org/r4?_getpages=abc&_getpagesoffset=20"},
                {"relation": "prev", "url": "https://fhir.example.org/r4?_getpages=abc&_getpagesoffset=0"},
                {"relation": "alternate", "url": "x"},
                {"relation": "next", "url": "ignored-second-next"},
                {"relation": 5, "url": "bad"},
                "garbage"
            ],
            "entry": [
                {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "processing", "diagnostics": "_count clamped to 100"}]},
                 "search": {"mode": "outcome"}},
                {"fullUrl": "https://fhir.example.org/r4/Patient/1",
                 "resource": {"resourceType": "Patient", "id": "1"}, "search": {"mode": "match", "score": 1}},
                {"fullUrl": "https://fhir.example.org/r4/Patient/2",
                 "resource": {"resourceType": "Patient", "id": 2}, "search": {"mode": "match"}},
                {"resource": {"resourceType": "Organization", "id": "o"}, "search": {"mode": "include"}},
                "not an entry",
                {"fullUrl": "urn:uuid:1"}
            ]
        })
    }

    #[test]
    fn parses_searchset() {
        let b = searchset();
        let v = BundleView::parse(&b).expect("bundle");
        assert_eq!(v.bundle_type.as_deref(), Some("searchset"));
        assert_eq!(v.total, Some(143));
        assert_eq!(
            v.links.next.as_deref(),
            Some("https://fhir.example.org/r4?_getpages=abc&_getpagesoffset=20")
        );
        assert!(v.links.previous.is_some());
        assert!(v.links.first.is_none());
        assert_eq!(
            v.other_links,
            vec![("alternate".to_string(), "x".to_string())]
        );
        assert_eq!(v.entries.len(), 5);
        assert_eq!(v.entries[1].id.as_deref(), Some("1"));
        assert_eq!(v.entries[2].id.as_deref(), Some("2"));
        assert_eq!(v.entries[1].search_score, Some(1.0));
        assert_eq!(v.matches().count(), 3); // two matches and the entry without a mode
        assert_eq!(v.outcomes().count(), 1);
        assert_eq!(v.resource_types(), vec!["Patient", "Organization"]);
        assert_eq!(v.table_type(), Some("mixed"));
        let e = &v.entries[3];
        assert_eq!(e.index, 3);
        assert_eq!(
            v.resource(&b, e).and_then(|r| r.get("id")),
            Some(&json!("o"))
        );
        assert_eq!(v.entries[4].index, 5);
        assert!(v.resource(&b, &v.entries[4]).is_none());
        assert_eq!(v.count_label(), "3 of 143");
    }

    #[test]
    fn bundle_without_total_or_links() {
        let b = json!({"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": {"resourceType": "Observation", "id": "o1"}}]});
        let v = BundleView::parse(&b).expect("bundle");
        assert_eq!(v.total, None);
        assert_eq!(v.links, Links::default());
        assert_eq!(v.table_type(), Some("Observation"));
        assert_eq!(v.count_label(), "1");
        let empty = json!({"resourceType": "Bundle"});
        let v = BundleView::parse(&empty).expect("bundle");
        assert!(v.entries.is_empty());
        assert_eq!(v.table_type(), None);
        assert!(BundleView::parse(&json!({"resourceType": "Patient"})).is_none());
        assert!(BundleView::parse(&json!([1, 2])).is_none());
    }

    #[test]
    fn odd_totals_and_transaction_responses() {
        for (t, want) in [
            (json!("12"), Some(12)),
            (json!(12.0), Some(12)),
            (json!(-1), None),
            (json!(1.5), None),
            (json!(null), None),
            (json!({"value": 3}), None),
        ] {
            let b = json!({"resourceType": "Bundle", "total": t});
            assert_eq!(BundleView::parse(&b).and_then(|v| v.total), want);
        }
        let b = json!({"resourceType": "Bundle", "type": "transaction-response", "link": {"relation": "self", "url": "u"},
            "entry": [{"response": {"status": "201 Created", "location": "Patient/9/_history/1"}},
                      {"response": {"status": "400 Bad Request",
                                    "outcome": {"resourceType": "OperationOutcome"}}}]});
        let v = BundleView::parse(&b).expect("bundle");
        assert_eq!(v.links.self_.as_deref(), Some("u"));
        assert_eq!(v.entries[0].response_status.as_deref(), Some("201 Created"));
        assert_eq!(
            v.entries[0].response_location.as_deref(),
            Some("Patient/9/_history/1")
        );
        assert_eq!(v.count_label(), "2");
    }

    proptest! {
        #[test]
        fn parse_never_panics(v in arb_json()) {
            let _ = is_bundle(&v);
            if let Some(view) = BundleView::parse(&v) {
                for e in &view.entries {
                    let _ = view.resource(&v, e);
                }
                let _ = view.count_label();
                let _ = view.table_type();
            }
            let mut b = v.clone();
            if let Some(o) = b.as_object_mut() {
                o.insert("resourceType".into(), json!("Bundle"));
                prop_assert!(BundleView::parse(&b).is_some());
            }
        }
    }
}
