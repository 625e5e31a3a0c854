//! CapabilityStatement reading (`GET [base]/metadata`): which resource types, interactions,
//! search parameters and operations a server declares, so the workbench can complete names
//! and warn before sending a search with parameters the server would ignore or reject.
//!
//! A statement that says nothing is not a "no": [`Capabilities::supports_search_param`]
//! answers `None` when the statement does not list the type or its parameters.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::util::{R4_RESOURCE_TYPES, list, looks_like_type, str_at, text_at};

/// Result and control parameters every search accepts, declared or not.
pub const COMMON_PARAMS: &[&str] = &[
    "_id",
    "_lastUpdated",
    "_count",
    "_sort",
    "_include",
    "_revinclude",
    "_total",
    "_summary",
    "_elements",
    "_format",
    "_pretty",
    "_contained",
    "_containedType",
];

/// A declared search parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParam {
    pub name: String,
    /// `string`, `token`, `date`, `reference`, … (as declared).
    pub type_: Option<String>,
    pub documentation: Option<String>,
}

/// What the statement says about one resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceCaps {
    pub type_: String,
    /// Interaction codes: `read`, `vread`, `search-type`, `create`, …
    pub interactions: Vec<String>,
    /// Declared search parameters; `None` when the statement gives no list at all.
    pub search_params: Option<Vec<SearchParam>>,
    /// Operation names without `$`.
    pub operations: Vec<String>,
    pub search_include: Vec<String>,
    pub search_rev_include: Vec<String>,
}

/// A parsed CapabilityStatement (server `rest` entries merged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub fhir_version: Option<String>,
    /// `software.name` and `software.version`.
    pub software: Option<String>,
    pub resources: Vec<ResourceCaps>,
    /// System-level operations without `$` (e.g. `export`).
    pub system_operations: Vec<String>,
    /// System-level interactions (`transaction`, `batch`, `search-system`, …).
    pub system_interactions: Vec<String>,
    /// Parameters declared for every type (`rest.searchParam`).
    pub common_search_params: Vec<SearchParam>,
}

fn op_name(o: &Value) -> Option<String> {
    text_at(o, "name").map(|n| n.trim_start_matches('$').to_string())
}

fn search_param(p: &Value) -> Option<SearchParam> {
    Some(SearchParam {
        name: text_at(p, "name")?,
        type_: text_at(p, "type"),
        documentation: text_at(p, "documentation"),
    })
}

fn push_unique(into: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for i in items {
        if !into.contains(&i) {
            into.push(i);
        }
    }
}

impl Capabilities {
    /// Parses a CapabilityStatement (also an R3 `Conformance`); `None` for anything else.
    pub fn parse(v: &Value) -> Option<Capabilities> {
        if !matches!(
            str_at(v, "resourceType"),
            Some("CapabilityStatement") | Some("Conformance")
        ) {
            return None;
        }
        let software =
            v.get("software")
                .and_then(|s| match (text_at(s, "name"), text_at(s, "version")) {
                    (Some(n), Some(ver)) => Some(format!("{n} {ver}")),
                    (Some(n), None) => Some(n),
                    (None, Some(ver)) => Some(ver),
                    (None, None) => None,
                });
        let mut caps = Capabilities {
            fhir_version: text_at(v, "fhirVersion"),
            software,
            ..Capabilities::default()
        };
        let rests = list(v, "rest");
        // Client-mode entries describe what the server does as a client: skip them unless
        // nothing says "server".
        let any_server = rests.iter().any(|r| str_at(r, "mode") == Some("server"));
        for rest in rests
            .iter()
            .filter(|r| !any_server || str_at(r, "mode") == Some("server"))
        {
            push_unique(
                &mut caps.system_operations,
                list(rest, "operation").iter().filter_map(op_name),
            );
            push_unique(
                &mut caps.system_interactions,
                list(rest, "interaction")
                    .iter()
                    .filter_map(|i| text_at(i, "code")),
            );
            for p in list(rest, "searchParam").iter().filter_map(search_param) {
                if !caps.common_search_params.iter().any(|q| q.name == p.name) {
                    caps.common_search_params.push(p);
                }
            }
            for r in list(rest, "resource") {
                let Some(type_) = text_at(r, "type") else {
                    continue;
                };
                let declared = match r.get("searchParam") {
                    Some(Value::Array(_)) | Some(Value::Object(_)) => Some(
                        list(r, "searchParam")
                            .iter()
                            .filter_map(search_param)
                            .collect::<Vec<_>>(),
                    ),
                    _ => None,
                };
                let idx = match caps.resources.iter().position(|x| x.type_ == type_) {
                    Some(i) => i,
                    None => {
                        caps.resources.push(ResourceCaps {
                            type_,
                            ..ResourceCaps::default()
                        });
                        caps.resources.len() - 1
                    }
                };
                let Some(rc) = caps.resources.get_mut(idx) else {
                    continue;
                };
                push_unique(
                    &mut rc.interactions,
                    list(r, "interaction")
                        .iter()
                        .filter_map(|i| text_at(i, "code")),
                );
                push_unique(
                    &mut rc.operations,
                    list(r, "operation").iter().filter_map(op_name),
                );
                push_unique(
                    &mut rc.search_include,
                    list(r, "searchInclude")
                        .iter()
                        .filter_map(super::util::scalar_text),
                );
                push_unique(
                    &mut rc.search_rev_include,
                    list(r, "searchRevInclude")
                        .iter()
                        .filter_map(super::util::scalar_text),
                );
                if let Some(params) = declared {
                    let list = rc.search_params.get_or_insert_with(Vec::new);
                    for p in params {
                        if !list.iter().any(|q| q.name == p.name) {
                            list.push(p);
                        }
                    }
                }
            }
        }
        Some(caps)
    }

    /// The declared resource types, in statement order.
    pub fn resource_types(&self) -> Vec<&str> {
        self.resources.iter().map(|r| r.type_.as_str()).collect()
    }

    /// What the statement says about a type.
    pub fn resource(&self, type_: &str) -> Option<&ResourceCaps> {
        self.resources.iter().find(|r| r.type_ == type_)
    }

    /// Whether the type is supported: `None` when the statement lists no types at all.
    pub fn supports_resource(&self, type_: &str) -> Option<bool> {
        if self.resources.is_empty() {
            None
        } else {
            Some(self.resource(type_).is_some())
        }
    }

    /// Whether `name` may be used to search `type_`. Modifiers and chains are ignored
    /// (`name:exact`, `subject:Patient.name` → `name`, `subject`). Common result parameters
    /// (see [`COMMON_PARAMS`]) and system-wide declared ones are always allowed; `None` when
    /// the statement does not list the type or does not list its parameters.
    pub fn supports_search_param(&self, type_: &str, name: &str) -> Option<bool> {
        let base = base_param_name(name);
        if base.is_empty() {
            return None;
        }
        if COMMON_PARAMS.contains(&base) || self.common_search_params.iter().any(|p| p.name == base)
        {
            return Some(true);
        }
        if base == "_has" {
            // Reverse chaining is rarely declared; let the server decide.
            return None;
        }
        let params = self.resource(type_)?.search_params.as_ref()?;
        Some(params.iter().any(|p| p.name == base))
    }

    /// Whether the type declares the operation (`everything` or `$everything`).
    pub fn has_operation(&self, type_: &str, operation: &str) -> bool {
        let op = operation.trim_start_matches('$');
        self.resource(type_)
            .is_some_and(|r| r.operations.iter().any(|o| o == op))
    }

    /// Whether the server declares a system-level operation (`export`).
    pub fn has_system_operation(&self, operation: &str) -> bool {
        let op = operation.trim_start_matches('$');
        self.system_operations.iter().any(|o| o == op)
    }

    /// Resource types starting with `prefix` (case-insensitive), sorted. Without declared
    /// types, the R4 list is used.
    pub fn complete_resource_type(&self, prefix: &str) -> Vec<String> {
        let prefix = prefix.to_ascii_lowercase();
        let mut out: Vec<String> = if self.resources.is_empty() {
            R4_RESOURCE_TYPES
                .iter()
                .filter(|t| t.to_ascii_lowercase().starts_with(&prefix))
                .map(|t| t.to_string())
                .collect()
        } else {
            self.resources
                .iter()
                .filter(|r| r.type_.to_ascii_lowercase().starts_with(&prefix))
                .map(|r| r.type_.clone())
                .collect()
        };
        out.sort();
        out.dedup();
        out
    }

    /// Search parameter names for `type_` starting with `prefix` (case-insensitive): the
    /// type's declared ones (sorted), then system-wide and common ones.
    pub fn complete_search_param(&self, type_: &str, prefix: &str) -> Vec<String> {
        let prefix = prefix.to_ascii_lowercase();
        let matches = |n: &str| n.to_ascii_lowercase().starts_with(&prefix);
        let mut declared: Vec<String> = self
            .resource(type_)
            .and_then(|r| r.search_params.as_ref())
            .map(|ps| {
                ps.iter()
                    .filter(|p| matches(&p.name))
                    .map(|p| p.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        declared.sort();
        let mut rest: Vec<String> = self
            .common_search_params
            .iter()
            .map(|p| p.name.as_str())
            .chain(COMMON_PARAMS.iter().copied())
            .filter(|n| matches(n))
            .map(String::from)
            .collect();
        rest.sort();
        let mut out = declared;
        push_unique(&mut out, rest);
        out
    }
}

/// The parameter name without modifier or chain: `name:exact` → `name`,
/// `subject:Patient.name` → `subject`, `subject.name` → `subject`.
pub fn base_param_name(name: &str) -> &str {
    let end = name.find([':', '.']).unwrap_or(name.len());
    name.get(..end).unwrap_or(name).trim()
}

/// The search parameters of a search URL that the statement says the type does not support,
/// in query order without repeats. Accepts `Patient?name=x`, `/Patient?…`,
/// `https://host/fhir/Patient?…`, `Patient/_search?…`. Nothing is reported when the type
/// cannot be told or the statement does not say.
pub fn unsupported_params(caps: &Capabilities, url_or_query: &str) -> Vec<String> {
    let s = url_or_query.trim();
    let s = s.split_once('#').map_or(s, |(a, _)| a);
    let Some((path, query)) = s.split_once('?') else {
        return Vec::new();
    };
    let Some(type_) = type_in_path(path) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for pair in query.split('&') {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        let key = percent_decode_str(&key.replace('+', " "))
            .decode_utf8_lossy()
            .trim()
            .to_string();
        if key.is_empty() {
            continue;
        }
        let base = base_param_name(&key).to_string();
        if caps.supports_search_param(type_, &base) == Some(false) && !out.contains(&base) {
            out.push(base);
        }
    }
    out
}

/// The resource type of a search path: the last segment shaped like a type, allowing a
/// trailing `_search`.
fn type_in_path(path: &str) -> Option<&str> {
    let path = path.split_once("://").map_or(path, |(_, rest)| {
        // Drop the authority.
        rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("")
    });
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.last() == Some(&"_search") {
        segments.pop();
    }
    segments.last().copied().filter(|s| looks_like_type(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::testutil::arb_json;
    use proptest::prelude::*;
    use serde_json::json;

    fn statement() -> Value {
        json!({
            "resourceType": "CapabilityStatement",
            "fhirVersion": "4.0.1",
            "software": {"name": "HAPI FHIR Server", "version": "7.0.0"},
            "rest": [
                {"mode": "client", "resource": [{"type": "Basic"}]},
                {"mode": "server",
                 "resource": [
                    {"type": "Patient",
                     "interaction": [{"code": "read"}, {"code": "search-type"}, "junk"],
                     "searchParam": [
                        {"name": "name", "type": "string", "documentation": "A portion of the name"},
                        {"name": "birthdate", "type": "date"},
                        {"name": "identifier", "type": "token"},
                        {"type": "token"}
                     ],
                     "operation": [{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
                                   {"name": "$match"}],
                     "searchInclude": ["Patient:organization"]},
                    {"type": "Observation", "searchParam": [{"name": "subject", "type": "reference"}, {"name": "code"}]},
                    {"type": "Binary"},
                    {"interaction": [{"code": "read"}]}
                 ],
                 "interaction": [{"code": "transaction"}, {"code": "batch"}],
                 "searchParam": [{"name": "_tag", "type": "token"}],
                 "operation": [{"name": "export"}]}
            ]
        })
    }

    #[test]
    fn parses_statement() {
        let caps = Capabilities::parse(&statement()).expect("caps");
        assert_eq!(caps.fhir_version.as_deref(), Some("4.0.1"));
        assert_eq!(caps.software.as_deref(), Some("HAPI FHIR Server 7.0.0"));
        assert_eq!(
            caps.resource_types(),
            vec!["Patient", "Observation", "Binary"]
        );
        let p = caps.resource("Patient").expect("patient");
        assert_eq!(p.interactions, vec!["read", "search-type"]);
        assert_eq!(p.operations, vec!["everything", "match"]);
        assert_eq!(p.search_include, vec!["Patient:organization"]);
        let params = p.search_params.as_ref().expect("params");
        assert_eq!(params.len(), 3);
        assert_eq!(
            params[0].documentation.as_deref(),
            Some("A portion of the name")
        );
        assert!(caps.has_operation("Patient", "everything"));
        assert!(caps.has_operation("Patient", "$everything"));
        assert!(!caps.has_operation("Observation", "everything"));
        assert!(caps.has_system_operation("$export"));
        assert_eq!(caps.system_interactions, vec!["transaction", "batch"]);
        assert!(Capabilities::parse(&json!({"resourceType": "Patient"})).is_none());
    }

    #[test]
    fn search_param_support() {
        let caps = Capabilities::parse(&statement()).expect("caps");
        assert_eq!(caps.supports_search_param("Patient", "name"), Some(true));
        assert_eq!(
            caps.supports_search_param("Patient", "name:exact"),
            Some(true)
        );
        assert_eq!(caps.supports_search_param("Patient", "foo"), Some(false));
        assert_eq!(caps.supports_search_param("Patient", "_count"), Some(true));
        assert_eq!(caps.supports_search_param("Patient", "_tag"), Some(true));
        assert_eq!(caps.supports_search_param("Binary", "foo"), None);
        assert_eq!(caps.supports_search_param("Binary", "_id"), Some(true));
        assert_eq!(caps.supports_search_param("Unknown", "foo"), None);
        assert_eq!(caps.supports_resource("Unknown"), Some(false));
        assert_eq!(Capabilities::default().supports_resource("Patient"), None);
        assert_eq!(
            caps.supports_search_param("Observation", "subject:Patient.name"),
            Some(true)
        );
    }

    #[test]
    fn unsupported_in_urls() {
        let caps = Capabilities::parse(&statement()).expect("caps");
        assert_eq!(
            unsupported_params(&caps, "Patient?name=x&foo=y"),
            vec!["foo"]
        );
        assert_eq!(
            unsupported_params(
                &caps,
                "https://fhir.example.org/r4/Patient?name:exact=x&fo%6F:missing=true&foo=2&_count=10&bar&=z"
            ),
            vec!["foo", "bar"]
        );
        assert_eq!(
            unsupported_params(
                &caps,
                "Observation?subject:Patient.name=smith&subject.birthdate=1980&value-quantity=5"
            ),
            vec!["value-quantity"]
        );
        assert_eq!(
            unsupported_params(&caps, "/Patient/_search?zzz=1"),
            vec!["zzz"]
        );
        assert!(unsupported_params(&caps, "Binary?anything=1").is_empty());
        assert!(unsupported_params(&caps, "?foo=1").is_empty());
        assert!(unsupported_params(&caps, "Patient").is_empty());
        assert!(unsupported_params(&caps, "https://h/fhir?_type=Patient").is_empty());
        assert!(unsupported_params(&caps, "Patient?_has:Observation:patient:code=1").is_empty());
    }

    #[test]
    fn completion() {
        let caps = Capabilities::parse(&statement()).expect("caps");
        assert_eq!(caps.complete_resource_type("p"), vec!["Patient"]);
        assert_eq!(
            caps.complete_resource_type(""),
            vec!["Binary", "Observation", "Patient"]
        );
        let none = Capabilities::default();
        assert!(
            none.complete_resource_type("Pat")
                .contains(&"Patient".to_string())
        );
        assert_eq!(
            none.complete_resource_type("Observation"),
            vec!["Observation", "ObservationDefinition"]
        );
        assert_eq!(
            caps.complete_search_param("Patient", "b"),
            vec!["birthdate"]
        );
        assert_eq!(
            caps.complete_search_param("Patient", "_c"),
            vec!["_contained", "_containedType", "_count"]
        );
        let all = caps.complete_search_param("Patient", "");
        assert_eq!(&all[..3], &["birthdate", "identifier", "name"]);
        assert!(all.contains(&"_tag".to_string()));
    }

    proptest! {
        #[test]
        fn never_panics(v in arb_json(), url in "\\PC{0,40}") {
            let caps = Capabilities::parse(&v).unwrap_or_default();
            let _ = unsupported_params(&caps, &url);
            let _ = caps.complete_search_param("Patient", &url);
            let mut cs = v.clone();
            if let Some(o) = cs.as_object_mut() {
                o.insert("resourceType".into(), json!("CapabilityStatement"));
                let caps = Capabilities::parse(&cs);
                prop_assert!(caps.is_some());
                let caps = caps.unwrap_or_default();
                let _ = unsupported_params(&caps, &format!("Patient?{url}"));
                let _ = caps.complete_resource_type(&url);
            }
        }
    }
}
