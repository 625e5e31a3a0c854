//! Looking into a body without building its tree: the resources of a Bundle as slices of the
//! body (so a Bundle shortcut parses one entry at a time), and the body's nesting depth (so the
//! recursive jq parser never meets more than [`MAX_DEPTH`](super::MAX_DEPTH) levels).

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Each `entry[].resource` of `input` when it is a Bundle object whose `entry` is an array of
/// objects (or nulls), as slices of `input` (`null` where an entry has no resource); the whole
/// body is checked as JSON on the way. `None` when the body is anything else — not a Bundle,
/// an unusual shape, or a key written with escapes — and then the caller evaluates the whole
/// tree as before, so the two ways never give different answers.
pub(super) fn bundle_resources(input: &[u8]) -> Option<Vec<&[u8]>> {
    // A struct visitor would also take `["Bundle", …]` positionally; only an object will do.
    let first = input
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
    if *first != b'{' {
        return None;
    }
    // serde_json bounds the depth of what it parses (128), not of a raw value it skips: the
    // caller checks each resource's depth.
    let top: Top = serde_json::from_slice(input).ok()?;
    if top.resource_type.as_deref() != Some("Bundle") {
        return None;
    }
    Some(
        top.entries
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                e.and_then(|e| e.0)
                    .map_or(&b"null"[..], |r| r.get().as_bytes())
            })
            .collect(),
    )
}

/// The top of a Bundle: its `resourceType` and its entries. Later duplicates of a key win, as
/// they do in jq's parse.
struct Top<'a> {
    resource_type: Option<String>,
    entries: Option<Vec<Option<Entry<'a>>>>,
}

/// One entry: its `resource`, if present and not null.
struct Entry<'a>(Option<&'a RawValue>);

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Bundle object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut top = Top {
            resource_type: None,
            entries: None,
        };
        // `&str` keys: a key with escapes fails here, and the caller takes the general path.
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "resourceType" => top.resource_type = Some(map.next_value()?),
                "entry" => top.entries = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(top)
    }
}

impl<'de> Deserialize<'de> for Entry<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Bundle entry object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry<'de>, A::Error> {
        let mut resource = None;
        while let Some(key) = map.next_key::<&'de str>()? {
            if key == "resource" {
                resource = map.next_value()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Entry(resource))
    }
}

/// The byte offset where `input` first opens more than `limit` arrays or objects, if it does.
/// Strings are skipped (with their escapes), and so are jq-style `#` comments, which jaq's
/// parser accepts: a `"` inside a comment must not hide the brackets after it.
pub(super) fn too_deep(input: &[u8], limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                i += 1;
                // To the closing quote, stepping over each escaped character.
                while let Some(&c) = input.get(i) {
                    match c {
                        b'\\' => i += 1,
                        b'"' => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'#' => match memchr::memchr(b'\n', input.get(i..).unwrap_or_default()) {
                Some(n) => i += n,
                None => return None,
            },
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(s: &str) -> Option<Vec<&str>> {
        bundle_resources(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|r| std::str::from_utf8(r).unwrap())
                .collect()
        })
    }

    #[test]
    fn a_bundles_resources_are_slices_of_the_body() {
        let b = r#" {"resourceType":"Bundle","link":[{"x":[1,{"y":"}"}]}],
            "entry":[{"fullUrl":"u","resource":{"id":"a", "n":[1.50]}},{"search":{}},null,
            {"resource":null}]}"#;
        assert_eq!(
            resources(b).unwrap(),
            vec![r#"{"id":"a", "n":[1.50]}"#, "null", "null", "null"]
        );
        assert_eq!(
            resources(r#"{"entry":[],"resourceType":"Bundle"}"#).unwrap(),
            Vec::<&str>::new()
        );
        assert_eq!(
            resources(r#"{"resourceType":"Bundle"}"#).unwrap(),
            Vec::<&str>::new()
        );
        assert_eq!(
            resources(r#"{"resourceType":"Bundle","entry":null}"#).unwrap(),
            Vec::<&str>::new()
        );
        // The last of duplicate keys wins, as in jq.
        let dup = r#"{"resourceType":"Patient","resourceType":"Bundle","entry":[{"resource":1,"resource":2}]}"#;
        assert_eq!(resources(dup).unwrap(), vec!["2"]);
    }

    #[test]
    fn anything_unusual_takes_the_general_path() {
        for s in [
            r#"{"resourceType":"Patient","id":"a"}"#,
            r#"["Bundle",[{"resource":1}]]"#,
            r#"{"resourceType":"Bundle","entry":{"a":{"resource":1}}}"#,
            r#"{"resourceType":"Bundle","entry":[["resource"]]}"#,
            r#"{"resourceType":"Bundle","entry":[1]}"#,
            r#"{"resourceType":"Bundle","entry":[{"resourc\u0065":1}]}"#,
            r#"{"resourceType":1,"entry":[]}"#,
            r#"{"resourceType":"Bundle","entry":[]} # a comment"#,
            r#"{"resourceType":"Bundle","entry":[{"resource":NaN}]}"#,
            r#"{"resourceType":"Bundle","entry":[{"resource":{"a":}}]}"#,
            r#"{"resourceType":"Bundle","entry":[]}{}"#,
            "",
        ] {
            assert_eq!(resources(s), None, "{s}");
        }
        let deep = format!(
            r#"{{"resourceType":"Bundle","entry":[{{"resource":{}{}}}]}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        // serde_json does not bound the depth of a value it skips: the caller checks each one.
        assert_eq!(resources(&deep).map(|r| r.len()), Some(1));
    }

    #[test]
    fn depth_is_counted_outside_strings_and_comments() {
        assert_eq!(too_deep(b"[[[]]]", 3), None);
        assert_eq!(too_deep(b"[[[[]]]]", 3), Some(3));
        assert_eq!(too_deep(br#"["[[[[\"[[[[", {"a": "{{{{"}]"#, 2), None);
        assert_eq!(too_deep(br#"[{"a\\": [[]]}]"#, 3), Some(10));
        assert_eq!(too_deep(b"# \"\n[[[[", 3), Some(7));
        assert_eq!(too_deep(b"# [[[[", 3), None);
        assert_eq!(too_deep(br#""[[[[ unclosed"#, 1), None);
    }
}
