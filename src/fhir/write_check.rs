//! Checks a create or update before it is sent: the body is JSON, names a `resourceType`, and
//! matches the URL (type, and id for an update), so a typo is caught here rather than by a 400.

use serde_json::Value;

/// Problems with a write, as sentences; empty when it looks right or is not a FHIR write.
pub fn check_write(method: &str, url: &str, body: &str) -> Vec<String> {
    let method = method.to_ascii_uppercase();
    if method != "POST" && method != "PUT" {
        return Vec::new();
    }
    let path = url.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.trim_end_matches('/').rsplit('/').take(3).collect();
    // [.., Type] for a create, [.., Type, id] for an update.
    let (url_type, url_id) = match (method.as_str(), segments.as_slice()) {
        ("POST", [t, ..]) if is_type(t) => (*t, None),
        ("PUT", [id, t, ..]) if is_type(t) => (*t, Some(*id)),
        _ => return Vec::new(), // batches, operations, other APIs
    };
    let json: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            // serde_json says where itself ("… at line 3 column 7"): said once, our way.
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or(&text);
            return vec![format!(
                "The body is not valid JSON (line {}, column {}): {what}.",
                e.line(),
                e.column()
            )];
        }
    };
    let mut problems = Vec::new();
    match json.get("resourceType").and_then(|t| t.as_str()) {
        None => problems.push("The body has no resourceType.".to_string()),
        Some(t) if t != url_type => {
            problems.push(format!("The body is a {t} but the URL is for {url_type}."));
        }
        _ => {}
    }
    if let Some(id) = url_id {
        match json.get("id").and_then(|i| i.as_str()) {
            Some(body_id) if body_id != id => problems.push(format!(
                "The body's id '{body_id}' differs from the URL's '{id}'."
            )),
            None => problems.push(format!("An update needs \"id\": \"{id}\" in the body.")),
            _ => {}
        }
    }
    problems
}

fn is_type(s: &str) -> bool {
    super::R4_RESOURCE_TYPES.contains(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_and_updates() {
        let b = "http://fhir.test";
        assert!(
            check_write(
                "POST",
                &format!("{b}/Patient"),
                r#"{"resourceType":"Patient"}"#
            )
            .is_empty()
        );
        assert_eq!(
            check_write(
                "POST",
                &format!("{b}/Patient"),
                r#"{"resourceType":"Observation"}"#
            ),
            vec!["The body is a Observation but the URL is for Patient."]
        );
        let bad = check_write("POST", &format!("{b}/Patient"), "{\n  \"a\": }");
        assert!(bad[0].contains("not valid JSON (line 2, column"), "{bad:?}");
        assert_eq!(
            bad[0].matches("line").count(),
            1,
            "the position is said once: {bad:?}"
        );
        assert!(
            check_write(
                "PUT",
                &format!("{b}/Patient/1"),
                r#"{"resourceType":"Patient","id":"2"}"#
            )[0]
            .contains("differs")
        );
        assert!(
            check_write(
                "PUT",
                &format!("{b}/Patient/1"),
                r#"{"resourceType":"Patient","id":"1"}"#
            )
            .is_empty()
        );
        // Not FHIR writes: left alone.
        assert!(
            check_write("POST", &format!("{b}/login/t/oauth2/token"), "grant_type=x").is_empty()
        );
        assert!(check_write("POST", b, r#"{"resourceType":"Bundle"}"#).is_empty());
        assert!(check_write("GET", &format!("{b}/Patient"), "").is_empty());
    }
}
