//! In-memory versioned resource store. Every write appends a version, so
//! vread/history/ETags behave like the real service; writes live as long as
//! the process.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::{Map, Value, json};

use super::util::fhir_instant;

/// Resource types the demo serves. Group is read-only.
pub(super) const TYPES: &[&str] = &[
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "Encounter",
    "Observation",
    "Condition",
    "Procedure",
    "MedicationRequest",
    "AllergyIntolerance",
    "DiagnosticReport",
    "Group",
];
/// Types that accept create/update/delete: all but Group (the last).
pub(super) const WRITABLE: &[&str] = match TYPES.split_last() {
    Some((_, rest)) => rest,
    None => &[],
};

pub(super) fn is_supported(rtype: &str) -> bool {
    TYPES.contains(&rtype)
}

/// One version of a resource; `resource == None` marks a delete.
#[derive(Debug, Clone)]
pub(super) struct Version {
    pub vid: u64,
    pub last_updated: DateTime<Utc>,
    pub resource: Option<Arc<Value>>,
    pub method: &'static str,
}

impl Version {
    pub(super) fn etag(&self) -> String {
        format!("W/\"{}\"", self.vid)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Entry {
    pub versions: Vec<Version>,
}

impl Entry {
    pub(super) fn current(&self) -> Option<&Version> {
        self.versions.last()
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Store {
    pub types: BTreeMap<String, BTreeMap<String, Entry>>,
    clock: Option<DateTime<Utc>>,
}

/// Rebuilds a resource with `resourceType`, `id`, `meta` first and the
/// server-owned meta fields set.
pub(super) fn stamp(resource: Value, rtype: &str, id: &str, vid: u64, at: DateTime<Utc>) -> Value {
    let mut src = match resource {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    let mut out = Map::new();
    out.insert("resourceType".into(), json!(rtype));
    out.insert("id".into(), json!(id));
    let mut meta = match src.remove("meta") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    meta.insert("versionId".into(), json!(vid.to_string()));
    meta.insert("lastUpdated".into(), json!(fhir_instant(at)));
    out.insert("meta".into(), Value::Object(meta));
    for (k, v) in src {
        if k != "resourceType" && k != "id" {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

impl Store {
    /// Strictly increasing timestamps so versions and `_since` are ordered.
    pub(super) fn tick(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let t = match self.clock {
            Some(prev) if now <= prev => prev + ChronoDuration::milliseconds(1),
            _ => now,
        };
        self.clock = Some(t);
        t
    }

    pub(super) fn entry(&self, rtype: &str, id: &str) -> Option<&Entry> {
        self.types.get(rtype)?.get(id)
    }

    /// Current live version of a resource (None if absent or deleted).
    pub(super) fn live(&self, rtype: &str, id: &str) -> Option<Arc<Value>> {
        self.entry(rtype, id)?.current()?.resource.clone()
    }

    /// Inserts a seeded resource at a given time (used by the generator).
    pub(super) fn seed(&mut self, rtype: &str, id: &str, resource: Value, at: DateTime<Utc>) {
        let stamped = stamp(resource, rtype, id, 1, at);
        self.types.entry(rtype.to_string()).or_default().insert(
            id.to_string(),
            Entry {
                versions: vec![Version {
                    vid: 1,
                    last_updated: at,
                    resource: Some(Arc::new(stamped)),
                    method: "POST",
                }],
            },
        );
    }

    /// Appends a version (create or update). Returns the new version and
    /// whether the resource was (re)created.
    pub(super) fn put(
        &mut self,
        rtype: &str,
        id: &str,
        resource: &Value,
        method: &'static str,
    ) -> (Version, bool) {
        let at = self.tick();
        let entry = self
            .types
            .entry(rtype.to_string())
            .or_default()
            .entry(id.to_string())
            .or_default();
        let (vid, created) = match entry.current() {
            Some(v) => (v.vid + 1, v.resource.is_none()),
            None => (1, true),
        };
        let version = Version {
            vid,
            last_updated: at,
            resource: Some(Arc::new(stamp(resource.clone(), rtype, id, vid, at))),
            method,
        };
        entry.versions.push(version.clone());
        (version, created)
    }

    /// Soft delete; returns the delete version if something was deleted.
    pub(super) fn delete(&mut self, rtype: &str, id: &str) -> Option<Version> {
        let live = self.live(rtype, id).is_some();
        if !live {
            return None;
        }
        let at = self.tick();
        let entry = self.types.get_mut(rtype)?.get_mut(id)?;
        let vid = entry.current().map(|v| v.vid + 1).unwrap_or(1);
        let version = Version {
            vid,
            last_updated: at,
            resource: None,
            method: "DELETE",
        };
        entry.versions.push(version.clone());
        Some(version)
    }

    /// Keeps only the current version (`$bulk-delete?_purgeHistory=true`).
    pub(super) fn purge_history(&mut self, rtype: &str, id: &str) {
        if let Some(e) = self.types.get_mut(rtype).and_then(|t| t.get_mut(id)) {
            let keep = e.versions.len().saturating_sub(1);
            e.versions.drain(..keep);
        }
    }

    /// Removes a resource with all its history (`?hardDelete=true`).
    pub(super) fn hard_delete(&mut self, rtype: &str, id: &str) {
        if let Some(t) = self.types.get_mut(rtype) {
            t.remove(id);
        }
    }

    /// Versions an export adds with `includeAssociatedData`: earlier versions
    /// of every resource (`_history`) and the last version of deleted ones
    /// (`_deleted`).
    pub(super) fn associated_versions(
        &self,
        rtype: &str,
        history: bool,
        deleted: bool,
    ) -> Vec<(DateTime<Utc>, Arc<Value>)> {
        let Some(t) = self.types.get(rtype) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in t.values() {
            let Some((current, earlier)) = e.versions.split_last() else {
                continue;
            };
            let is_deleted = current.resource.is_none();
            if history {
                out.extend(
                    earlier
                        .iter()
                        .filter_map(|v| Some((v.last_updated, v.resource.clone()?))),
                );
            } else if deleted && is_deleted {
                out.extend(
                    earlier
                        .iter()
                        .rev()
                        .find_map(|v| Some((v.last_updated, v.resource.clone()?))),
                );
            }
        }
        out
    }

    /// All live resources of a type with their last-updated time.
    pub(super) fn all_live(&self, rtype: &str) -> Vec<(DateTime<Utc>, Arc<Value>)> {
        let Some(t) = self.types.get(rtype) else {
            return Vec::new();
        };
        t.values()
            .filter_map(|e| {
                let v = e.current()?;
                Some((v.last_updated, v.resource.clone()?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_delete() {
        let mut s = Store::default();
        let (v1, created) = s.put("Patient", "a", &json!({"resourceType": "Patient"}), "POST");
        assert!(created);
        assert_eq!(v1.vid, 1);
        let (v2, created) = s.put(
            "Patient",
            "a",
            &json!({"resourceType": "Patient", "active": true}),
            "PUT",
        );
        assert!(!created);
        assert_eq!(v2.etag(), "W/\"2\"");
        assert!(v2.last_updated > v1.last_updated);
        let live = s.live("Patient", "a").expect("live");
        assert_eq!(live["meta"]["versionId"], "2");
        assert_eq!(live["active"], true);
        assert_eq!(s.delete("Patient", "a").map(|v| v.vid), Some(3));
        assert!(s.live("Patient", "a").is_none());
        assert!(s.delete("Patient", "a").is_none());
        let (v4, created) = s.put("Patient", "a", &json!({"resourceType": "Patient"}), "PUT");
        assert!(created);
        assert_eq!(v4.vid, 4);
    }
}
