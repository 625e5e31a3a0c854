//! What a request says and whether it may: the `Prefer` header, ETags, content type, the JSON
//! body, resource ids and the store's rules for a resource.

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::demo::outcome::FhirError;
use crate::demo::util::parse_date_range;

/// Parsed `Prefer` header.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prefer {
    pub strict: bool,
    pub minimal: bool,
    pub respond_async: bool,
}

pub(crate) fn prefer(headers: &HeaderMap) -> Prefer {
    let mut p = Prefer::default();
    for v in headers.get_all("prefer") {
        let Ok(s) = v.to_str() else { continue };
        for part in s.split([',', ';']) {
            let part = part.trim().to_ascii_lowercase();
            match part.replace(' ', "").as_str() {
                "handling=strict" => p.strict = true,
                "return=minimal" => p.minimal = true,
                "respond-async" => p.respond_async = true,
                _ => {}
            }
        }
    }
    p
}

/// Parses `W/"3"` or `"3"` from If-Match.
pub(super) fn parse_etag(v: &str) -> Result<u64, FhirError> {
    let t = v.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.trim_matches('"').parse().map_err(|_| {
        FhirError::bad_request(format!(
            "The If-Match header value '{v}' is not a valid ETag."
        ))
    })
}

pub(super) fn content_type_ok(headers: &HeaderMap) -> Result<(), FhirError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/fhir+json" || mime == "application/json" {
        Ok(())
    } else {
        Err(FhirError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            format!(
                "The content type '{ct}' is not supported. Supported content types are application/fhir+json and application/json."
            ),
        ))
    }
}

pub(crate) fn parse_json(body: &[u8]) -> Result<Value, FhirError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FhirError::bad_request("The request body is empty."));
    }
    serde_json::from_slice(body).map_err(|e| {
        FhirError::bad_request(format!("The request body could not be parsed as JSON: {e}"))
    })
}

/// The resource as an object and its `resourceType`, or the 400 for neither.
pub(crate) fn typed_object(
    res: &Value,
) -> Result<(&serde_json::Map<String, Value>, &str), FhirError> {
    let obj = res
        .as_object()
        .ok_or_else(|| FhirError::bad_request("The resource must be a JSON object."))?;
    let rt = obj
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            FhirError::bad_request("The resource is missing the required 'resourceType' element.")
        })?;
    Ok((obj, rt))
}

/// Minimal structural validation of a resource about to be stored.
pub(crate) fn validate(rtype: &str, res: &Value) -> Result<(), FhirError> {
    let (obj, rt) = typed_object(res)?;
    if rt != rtype {
        return Err(FhirError::bad_request(format!(
            "Resource type in the URL must match resourceType in the resource. Expected '{rtype}', found '{rt}'."
        )));
    }
    if let Some(id) = obj.get("id")
        && !id.as_str().is_some_and(valid_id)
    {
        return Err(FhirError::bad_request(
            "The resource id is invalid: ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'.",
        ));
    }
    if let Some(g) = obj.get("gender")
        && !matches!(g.as_str(), Some("male" | "female" | "other" | "unknown"))
    {
        return Err(FhirError::bad_request(format!(
            "The value {g} of Patient.gender is invalid; expected one of male, female, other, unknown."
        )));
    }
    for field in ["birthDate", "effectiveDateTime", "onsetDateTime"] {
        if let Some(d) = obj.get(field)
            && d.as_str().and_then(parse_date_range).is_none()
        {
            return Err(FhirError::bad_request(format!(
                "The value {d} of {rtype}.{field} is not a valid date."
            )));
        }
    }
    Ok(())
}

pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}
