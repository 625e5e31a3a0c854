//! Bringing requests in from other tools and giving them back: Postman collections and
//! environments, REST Client `.http` files, curl commands.
//!
//! Every importer turns foreign data into the workspace model and writes down, in an
//! [`ImportReport`], what it converted, what it kept without running, and what it could not
//! bring over, so nothing is lost silently. Importers never panic on bad input: a file that
//! cannot be read at all gives an [`ImportError`] naming the file and the place.

mod checks;
pub mod curl;
pub mod har;
pub mod http_file;
pub mod insomnia;
pub mod into_workspace;
pub mod postman;
pub mod postman_env;
pub mod postman_export;
mod scripts;
pub mod sign_in;

use std::fmt;
use std::path::Path;

use crate::workspace::{Collection, Environment, KeyValue};

/// The kinds of file fhirside can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    PostmanCollection,
    PostmanEnvironment,
    HttpFile,
    Curl,
    /// Insomnia's v4 JSON export.
    Insomnia,
    /// An HTTP Archive (browsers' developer tools, proxies).
    Har,
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImportFormat::PostmanCollection => "Postman collection",
            ImportFormat::PostmanEnvironment => "Postman environment",
            ImportFormat::HttpFile => "REST Client .http file",
            ImportFormat::Curl => "curl command",
            ImportFormat::Insomnia => "Insomnia v4 export",
            ImportFormat::Har => "HAR file",
        })
    }
}

/// What an import produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub format: ImportFormat,
    pub collections: Vec<Collection>,
    pub environments: Vec<Environment>,
    pub report: ImportReport,
}

pub use crate::workspace::OAuth2Settings;

/// One OAuth2 configuration found in an import (Postman `auth.type = oauth2`), and where.
/// Equal configurations found in several places are one entry; configurations that differ
/// (another scope, another client) are separate entries, each given its own sign-in
/// environment, never merged silently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoundOAuth2 {
    /// Where: `collection`, `folder 'X'`, `request 'Y'`.
    pub found_on: Vec<String>,
    /// As found (a literal client secret included: it goes to the sign-in environment's
    /// secrets, and is shown redacted). The collection keeps a copy without it for export.
    pub settings: OAuth2Settings,
    /// Settings of the block that fhirside does not carry over (e.g. `refreshTokenUrl`).
    pub not_carried: Vec<String>,
}

/// A client-credentials sign-in found in a collection-level pre-request script that calls
/// `pm.sendRequest`. Values are templates as far as they could be read from the script
/// (`pm.environment.get("clientId")` becomes `{{clientId}}`); empty when not found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    pub token_url: String,
    pub client_id: String,
    /// As written: usually a `{{variable}}`; a literal value is shown redacted.
    pub client_secret: String,
    pub scope: String,
    /// `resource` or `audience` when the script sends one (Entra ID v1, Auth0).
    pub resource: String,
    /// The variable the script stores the access token in, e.g. `bearerToken`.
    pub token_variable: String,
    /// `basic` when the script sends the client id and secret as HTTP Basic authentication
    /// (`Authorization: 'Basic ' + btoa(id + ':' + secret)`), else empty (form fields).
    pub client_authentication: String,
    /// Defaults the script falls back on (`pm.environment.get('client_id') || 'my-app'`):
    /// the sign-in environment gets them as variables.
    pub defaults: Vec<KeyValue>,
}

/// What happened during an import, shown to the user at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Number of requests imported.
    pub imported: usize,
    /// Script idioms turned into capture rules and other conversions, e.g.
    /// `bearerToken ← $.access_token on 'Get token'`.
    pub converted: Vec<String>,
    /// Things kept in the workspace that fhirside does not run (script lines, `setNextRequest`).
    pub kept_not_run: Vec<String>,
    /// Things that could not be brought over, or need a decision.
    pub warnings: Vec<String>,
    pub oauth2: Vec<FoundOAuth2>,
    pub client_credentials: Option<ClientCredentials>,
}

impl ImportReport {
    /// Adds another report's findings (for importing several things at once).
    pub fn merge(&mut self, other: ImportReport) {
        self.imported += other.imported;
        self.converted.extend(other.converted);
        self.kept_not_run.extend(other.kept_not_run);
        self.warnings.extend(other.warnings);
        self.oauth2.extend(other.oauth2);
        if self.client_credentials.is_none() {
            self.client_credentials = other.client_credentials;
        }
    }
}

/// Shows a secret-ish value: templates as written, literals redacted.
fn show_secret(v: &str) -> &str {
    if v.is_empty() {
        "(not set)"
    } else if v.trim_start().starts_with("{{") && v.trim_end().ends_with("}}") {
        v
    } else {
        "<redacted>"
    }
}

/// A setting's value for the report: redacted when its key looks like a credential.
pub(crate) fn show_secret_or_value(key: &str, value: &str) -> String {
    let k = key.to_ascii_lowercase();
    let address = k.ends_with("url") || k.ends_with("uri");
    if !address && (crate::workspace::looks_secret(key) || k.contains("password")) {
        show_secret(value).to_string()
    } else {
        value.to_string()
    }
}

fn show(v: &str) -> &str {
    if v.is_empty() { "(not set)" } else { v }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.imported == 1 { "" } else { "s" };
        writeln!(f, "Imported {} request{plural}.", self.imported)?;
        let list = |f: &mut fmt::Formatter<'_>, title: &str, items: &[String]| -> fmt::Result {
            if items.is_empty() {
                return Ok(());
            }
            writeln!(f, "{title} ({}):", items.len())?;
            for i in items {
                writeln!(f, "  {i}")?;
            }
            Ok(())
        };
        list(f, "Converted", &self.converted)?;
        list(f, "Kept, not run", &self.kept_not_run)?;
        if let Some(cc) = &self.client_credentials {
            writeln!(
                f,
                "This collection signs in with client credentials (found in its pre-request script); \
                 set these on the environment's sign-in:"
            )?;
            writeln!(f, "  token URL: {}", show(&cc.token_url))?;
            writeln!(f, "  client id: {}", show(&cc.client_id))?;
            writeln!(f, "  client secret: {}", show_secret(&cc.client_secret))?;
            writeln!(f, "  scope: {}", show(&cc.scope))?;
            if !cc.resource.is_empty() {
                writeln!(f, "  resource: {}", cc.resource)?;
            }
            if !cc.client_authentication.is_empty() {
                writeln!(f, "  client authentication: {}", cc.client_authentication)?;
            }
            for d in &cc.defaults {
                writeln!(f, "  default: {} = {}", d.key, d.value)?;
            }
            if !cc.token_variable.is_empty() {
                writeln!(f, "  token saved in: {{{{{}}}}}", cc.token_variable)?;
            }
        }
        for found in &self.oauth2 {
            write_oauth2(f, found)?;
        }
        list(f, "Warnings", &self.warnings)?;
        Ok(())
    }
}

fn write_oauth2(f: &mut fmt::Formatter<'_>, found: &FoundOAuth2) -> fmt::Result {
    let o = &found.settings;
    let grant = if o.grant_type.is_empty() {
        "OAuth2"
    } else {
        o.grant_type.as_str()
    };
    let places = match found.found_on.as_slice() {
        [] => "collection".to_string(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    };
    writeln!(
        f,
        "OAuth2 sign-in ({grant}) on the {places}; set these on the environment's sign-in:"
    )?;
    // The authorization endpoint and redirect only matter to user sign-in.
    let user_sign_in = !matches!(
        o.grant_type.as_str(),
        "client_credentials" | "password_credentials"
    );
    if user_sign_in || !o.auth_url.is_empty() {
        writeln!(f, "  auth URL: {}", show(&o.auth_url))?;
    }
    writeln!(f, "  token URL: {}", show(&o.access_token_url))?;
    if user_sign_in || !o.redirect_uri.is_empty() {
        writeln!(f, "  redirect URI: {}", show(&o.redirect_uri))?;
    }
    writeln!(f, "  client id: {}", show(&o.client_id))?;
    writeln!(f, "  client secret: {}", show_secret(&o.client_secret))?;
    writeln!(f, "  scope: {}", show(&o.scope))?;
    if !o.state.is_empty() {
        writeln!(f, "  state: {}", o.state)?;
    }
    if !o.client_authentication.is_empty() {
        writeln!(f, "  client authentication: {}", o.client_authentication)?;
    }
    if o.use_pkce {
        let alg = if o.challenge_algorithm.is_empty() {
            "S256"
        } else {
            o.challenge_algorithm.as_str()
        };
        writeln!(f, "  PKCE: yes ({alg})")?;
    }
    let param = |f: &mut fmt::Formatter<'_>, kind: &str, p: &KeyValue| {
        if p.enabled {
            writeln!(f, "  {kind} parameter: {}={}", p.key, p.value)
        } else {
            writeln!(
                f,
                "  {kind} parameter: {}={} (disabled: not sent)",
                p.key, p.value
            )
        }
    };
    for p in &o.auth_request_params {
        param(f, "authorization request", p)?;
    }
    for p in &o.token_request_params {
        param(f, "token request", p)?;
    }
    for n in &found.not_carried {
        writeln!(f, "  not carried over: {n}")?;
    }
    Ok(())
}

/// Why an import failed, in plain words, naming the file and where possible the place.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("could not read {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} is not valid JSON: {message} (line {line}, column {column})")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: at {at}: {message}")]
    Shape {
        file: String,
        /// A JSON path such as `$.item[3].request.url`.
        at: String,
        message: String,
    },
    #[error("{file}: line {line}, column {column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{file}: not a file fhirside can import (expected a Postman collection (v2.0 or v2.1) or environment, an Insomnia v4 export, a HAR file, a .http/.rest file, or a curl command)"
    )]
    Unrecognised { file: String },
    #[error("{file}: {what}: {advice}")]
    NotImportable {
        file: String,
        what: String,
        advice: String,
    },
}

impl ImportError {
    pub(crate) fn json(file: &str, e: &serde_json::Error) -> Self {
        let full = e.to_string();
        // serde_json appends " at line L column C"; the fields carry that already.
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        ImportError::Json {
            file: file.into(),
            line: e.line(),
            column: e.column(),
            message,
        }
    }

    pub(crate) fn shape(file: &str, at: &str, message: impl Into<String>) -> Self {
        ImportError::Shape {
            file: file.into(),
            at: at.into(),
            message: message.into(),
        }
    }
}

/// What a file was recognised as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Detected {
    Format(ImportFormat),
    /// A format fhirside recognises but does not import: what it is and what to do.
    Refused {
        what: String,
        advice: String,
    },
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Guesses the format from the file name and contents (`None` for a file fhirside does not
/// import, including formats it recognises only to explain them).
pub fn detect(path: &Path, bytes: &[u8]) -> Option<ImportFormat> {
    let (text, _) = decode_text("", bytes).ok()?;
    match classify(path, &text, None) {
        Some(Detected::Format(f)) => Some(f),
        _ => None,
    }
}

/// What `text` is; `json` is the already parsed JSON when the text is JSON.
fn classify(path: &Path, text: &str, json: Option<&serde_json::Value>) -> Option<Detected> {
    let ext = extension(path);
    if ext == "http" || ext == "rest" {
        return Some(Detected::Format(ImportFormat::HttpFile));
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return match json {
            Some(v) => detect_json(v),
            None => serde_json::from_str::<serde_json::Value>(trimmed)
                .ok()
                .and_then(|v| detect_json(&v)),
        };
    }
    if let Some(d) = detect_yaml(trimmed) {
        return Some(d);
    }
    if curl::looks_like_curl(trimmed) {
        return Some(Detected::Format(ImportFormat::Curl));
    }
    if http_file::looks_like_http(trimmed) {
        return Some(Detected::Format(ImportFormat::HttpFile));
    }
    None
}

fn refused(what: &str, advice: &str) -> Option<Detected> {
    Some(Detected::Refused {
        what: what.into(),
        advice: advice.into(),
    })
}

const OPENAPI_ADVICE: &str = "fhirside imports requests, not API descriptions (an operation in it has no values to send); import a Postman collection generated from it (Postman: Import → OpenAPI) or explore the server's own CapabilityStatement with C";

fn detect_json(value: &serde_json::Value) -> Option<Detected> {
    let obj = value.as_object()?;
    if obj.contains_key("openapi") || obj.contains_key("swagger") {
        let version = obj
            .get("openapi")
            .or_else(|| obj.get("swagger"))
            .map(value_text)
            .unwrap_or_default();
        return refused(
            &format!("OpenAPI {version} description (JSON)"),
            OPENAPI_ADVICE,
        );
    }
    if obj.get("_type").and_then(|t| t.as_str()) == Some("export") && obj.contains_key("resources")
    {
        let format = obj
            .get("__export_format")
            .map(value_text)
            .unwrap_or_default();
        if format == "4" {
            return Some(Detected::Format(ImportFormat::Insomnia));
        }
        return refused(
            &format!("Insomnia export (format {format})"),
            "export it again from Insomnia as 'Insomnia v4 (JSON)' or as HAR",
        );
    }
    if let Some(log) = obj.get("log").and_then(|l| l.as_object())
        && log.contains_key("entries")
    {
        return Some(Detected::Format(ImportFormat::Har));
    }
    if obj.contains_key("requests")
        && (obj.contains_key("order") || obj.contains_key("folders"))
        && !obj.contains_key("item")
    {
        return refused(
            "Postman v1 collection",
            "export it as v2.1 from Postman (… on the collection → Export → Collection v2.1)",
        );
    }
    if obj.contains_key("info") || (obj.contains_key("item") && !obj.contains_key("values")) {
        return Some(Detected::Format(ImportFormat::PostmanCollection));
    }
    if obj.contains_key("values") || obj.contains_key("_postman_variable_scope") {
        return Some(Detected::Format(ImportFormat::PostmanEnvironment));
    }
    None
}

/// YAML files fhirside recognises (it reads no YAML): OpenAPI and Insomnia's newer exports.
fn detect_yaml(text: &str) -> Option<Detected> {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---")?;
    let key = first
        .split(':')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches(['"', '\'']);
    let value = first
        .split_once(':')
        .map(|(_, v)| v.trim().trim_matches(['"', '\'']))
        .unwrap_or("");
    match key {
        "openapi" | "swagger" if !value.is_empty() => refused(
            &format!("OpenAPI {value} description (YAML)"),
            OPENAPI_ADVICE,
        ),
        "type" if value.starts_with("collection.insomnia.rest") => refused(
            "Insomnia collection (YAML)",
            "export it from Insomnia as 'Insomnia v4 (JSON)' or as HAR",
        ),
        "_type" if value == "export" => refused(
            "Insomnia export (YAML)",
            "export it from Insomnia as 'Insomnia v4 (JSON)' or as HAR",
        ),
        _ => None,
    }
}

/// Reads and imports one file, detecting its format.
pub fn import_file(path: &Path) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        file: path.display().to_string(),
        source,
    })?;
    import_bytes(path, &bytes)
}

/// Imports `bytes` as if read from `path` (the path names the file in messages, decides the
/// format by extension, and anchors relative `< file` includes of `.http` files).
pub fn import_bytes(path: &Path, bytes: &[u8]) -> Result<Imported, ImportError> {
    let file = path.display().to_string();
    let (text, encoding) = decode_text(&file, bytes)?;
    let trimmed = text.trim_start();
    let json = if extension(path) != "http"
        && extension(path) != "rest"
        && (trimmed.starts_with('{') || trimmed.starts_with('['))
    {
        Some(
            serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|e| ImportError::json(&file, &e))?,
        )
    } else {
        None
    };
    let format = match classify(path, &text, json.as_ref()) {
        Some(Detected::Format(f)) => f,
        Some(Detected::Refused { what, advice }) => {
            return Err(ImportError::NotImportable { file, what, advice });
        }
        None => return Err(ImportError::Unrecognised { file }),
    };
    let one = |(collection, report)| (vec![collection], Vec::new(), report);
    let (mut collections, environments, mut report) = match (format, &json) {
        (ImportFormat::PostmanCollection, Some(v)) => {
            one(postman::import_collection_value(&file, v)?)
        }
        (ImportFormat::PostmanEnvironment, Some(v)) => {
            let (env, report) = postman_env::import_environment_value(&file, v)?;
            (Vec::new(), vec![env], report)
        }
        (ImportFormat::Insomnia, Some(v)) => insomnia::import_export(&file, v)?,
        (ImportFormat::Har, Some(v)) => one(har::import_har(&file, v)?),
        (ImportFormat::HttpFile, _) => one(http_file::import_http_file(path, &text)?),
        (ImportFormat::Curl, _) => {
            let (mut spec, notes) = curl::parse_curl_with_notes(&text)?;
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("curl");
            let mut root = crate::workspace::Folder::titled(name);
            let stem = root.free_name(&spec.name);
            spec.seq = 1;
            root.requests.push(crate::workspace::SavedRequest {
                file_stem: stem,
                spec,
            });
            let report = ImportReport {
                imported: 1,
                warnings: notes,
                ..ImportReport::default()
            };
            one((
                Collection {
                    root,
                    ..Collection::default()
                },
                report,
            ))
        }
        _ => return Err(ImportError::Unrecognised { file }),
    };
    let env_values: Vec<KeyValue> = environments
        .iter()
        .flat_map(|e: &Environment| &e.variables)
        .filter(|v| v.enabled)
        .map(|v| KeyValue::new(&v.key, &v.value))
        .collect();
    for c in &mut collections {
        checks::check_collection(c, &env_values, &mut report);
    }
    if let Some(note) = encoding {
        report.converted.insert(0, note);
    }
    Ok(Imported {
        format,
        collections,
        environments,
        report,
    })
}

/// The bytes as text: UTF-8 (a leading byte-order mark dropped), or UTF-16 (with a byte-order
/// mark, or without one when every other byte is zero, as Windows tools write it) with a note
/// saying so; otherwise an error naming the place of the first bad byte.
pub(crate) fn decode_text<'a>(
    file: &str,
    bytes: &'a [u8],
) -> Result<(std::borrow::Cow<'a, str>, Option<String>), ImportError> {
    use std::borrow::Cow;
    let utf16 = |body: &[u8],
                 little: bool,
                 name: &str|
     -> Result<(Cow<'a, str>, Option<String>), ImportError> {
        let units = body.chunks_exact(2).map(|p| {
            let pair = [p[0], p.get(1).copied().unwrap_or(0)];
            if little {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        let text: Result<String, _> = char::decode_utf16(units).collect();
        match text {
            Ok(t) if body.len().is_multiple_of(2) => Ok((
                Cow::Owned(t),
                Some(format!("the file is {name} text; it was read as such")),
            )),
            _ => Err(ImportError::Syntax {
                file: file.into(),
                line: 1,
                column: 1,
                message: format!("the file starts like {name} text but is not valid {name}"),
            }),
        }
    };
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        return utf16(rest, true, "UTF-16LE");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        return utf16(rest, false, "UTF-16BE");
    }
    if bytes.len() >= 4 && bytes.len().is_multiple_of(2) {
        let sample = &bytes[..bytes.len().min(4096)];
        let zeros_at = |odd: bool| {
            sample
                .iter()
                .enumerate()
                .filter(|(i, b)| (i % 2 == 1) == odd && **b == 0)
                .count()
        };
        let half = sample.len() / 2;
        if zeros_at(true) * 10 >= half * 9 && zeros_at(false) == 0 {
            return utf16(bytes, true, "UTF-16LE");
        }
        if zeros_at(false) * 10 >= half * 9 && zeros_at(true) == 0 {
            return utf16(bytes, false, "UTF-16BE");
        }
    }
    text_of(file, bytes).map(|t| (Cow::Borrowed(t), None))
}

/// The bytes as UTF-8 text (a leading byte-order mark dropped), or an error naming the place.
pub(crate) fn text_of<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok(t.strip_prefix('\u{feff}').unwrap_or(t)),
        Err(e) => {
            let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let column = good.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            Err(ImportError::Syntax {
                file: file.into(),
                line,
                column,
                message: "the file is not UTF-8 text".into(),
            })
        }
    }
}

/// A text body whose kind follows its media type (`…json` is JSON).
pub(crate) fn body_for_media_type(mime: &str, text: String) -> crate::workspace::Body {
    crate::workspace::Body {
        kind: if mime.to_ascii_lowercase().contains("json") {
            crate::workspace::BodyKind::Json
        } else {
            crate::workspace::BodyKind::Text
        },
        text,
        form: Vec::new(),
    }
}

/// A form body of `rows`.
pub(crate) fn form_of(form: Vec<KeyValue>) -> crate::workspace::Body {
    crate::workspace::Body {
        kind: crate::workspace::BodyKind::Form,
        text: String::new(),
        form,
    }
}

/// Turns any JSON value into the text a variable holds: strings as they are, `null` as empty,
/// everything else as compact JSON.
pub(crate) fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}
