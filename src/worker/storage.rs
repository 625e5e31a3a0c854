//! Azure Storage, where the Azure FHIR service writes export files (`requiresAccessToken:
//! false`, URLs like `https://ACCOUNT.blob.core.windows.net/export/…`): the storage-audience
//! sign-in derived from the environment's own, the `x-ms-version` a bearer token needs, and the
//! service's refusals as sentences.
//!
//! Follows "Authorize with Microsoft Entra ID" (learn.microsoft.com/rest/api/storageservices/
//! authorize-with-azure-active-directory: resource `https://storage.azure.com/`, a bearer token
//! with `x-ms-version` 2017-11-09 or later) and "Blob service error codes"
//! (learn.microsoft.com/rest/api/storageservices/blob-service-error-codes: `x-ms-error-code`
//! header, `<Error><Code>…</Code><Message>…</Message></Error>` body).

use super::auth::ResolvedAuth;
use crate::workspace::{AuthKind, TokenFlavor};

/// The Entra audience of Azure Storage.
pub const STORAGE_AUDIENCE: &str = "https://storage.azure.com";
/// The service version sent with a storage token (bearer tokens need 2017-11-09 or later).
pub const X_MS_VERSION: &str = "2021-08-06";

/// The token cache key of `env`'s storage token: distinct from the FHIR token's (an environment
/// name is a file stem and never holds this character).
pub fn storage_key(env: &str) -> String {
    format!("{env}\u{1f}storage")
}

/// The environment a cache key belongs to, and whether it is the storage token's.
pub fn key_env(key: &str) -> (&str, bool) {
    match key.strip_suffix("\u{1f}storage") {
        Some(env) => (env, true),
        None => (key, false),
    }
}

/// The environment's sign-in with the audience replaced by Azure Storage's: v1
/// `resource=https://storage.azure.com/`, v2 (and user sign-in) scope
/// `https://storage.azure.com/.default`. The token never lands in a `{{variable}}`.
pub fn storage_auth(fhir: &ResolvedAuth) -> Result<ResolvedAuth, String> {
    let mut a = fhir.clone();
    a.token_variable = String::new();
    let user_flow = matches!(a.kind, AuthKind::AuthorizationCode | AuthKind::DeviceCode);
    match a.kind {
        AuthKind::None => return Err("the environment has no sign-in".into()),
        AuthKind::Bearer => {
            return Err("a fixed bearer token is for the FHIR service only; Azure Storage needs a token of its own (client credentials, device code, browser sign-in or a command)".into());
        }
        AuthKind::Command => {
            // `az account get-access-token --resource {{fhirurl}}`: ask the same command for
            // storage instead.
            let storage = format!("{STORAGE_AUDIENCE}/");
            let mut command = a.command.clone();
            for fhir_audience in [&fhir.audience, &fhir.fhir_base] {
                let trimmed = fhir_audience.trim_end_matches('/');
                if !trimmed.is_empty() {
                    command = command
                        .replace(&format!("{trimmed}/"), &storage)
                        .replace(trimmed, &storage);
                }
            }
            if command == a.command {
                return Err("the sign-in command does not name the FHIR audience, so fhirside cannot ask it for a storage token".into());
            }
            a.command = command;
        }
        AuthKind::ClientCredentials
        | AuthKind::PrivateKeyJwt
        | AuthKind::AuthorizationCode
        | AuthKind::DeviceCode => {}
    }
    if a.flavor == TokenFlavor::EntraV1 && !user_flow {
        a.audience = format!("{STORAGE_AUDIENCE}/");
        a.scopes = Vec::new();
    } else {
        a.audience = STORAGE_AUDIENCE.into();
        a.scopes = vec![format!("{STORAGE_AUDIENCE}/.default")];
        if user_flow {
            a.scopes.push("offline_access".into());
        }
    }
    Ok(a)
}

impl super::AuthPlan {
    /// This plan for Azure Storage: the same sign-in for the storage audience, cached under
    /// [`storage_key`].
    pub fn for_storage(&self) -> Result<super::AuthPlan, String> {
        Ok(super::AuthPlan {
            env: storage_key(&self.env),
            auth: Box::new(storage_auth(&self.auth)?),
            policy: self.policy.clone(),
            // The user's own token in `{{bearerToken}}` is for the FHIR service, not storage.
            given: None,
            refuse_unsigned: self.refuse_unsigned,
        })
    }
}

/// The storage account of a blob URL (`ACCOUNT.blob.core.windows.net` → `ACCOUNT`).
pub fn account_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.split('.').next().unwrap_or(h).to_string())
        })
        .unwrap_or_else(|| "the storage account".into())
}

/// One tag's text in Azure's XML error body (no XML parser needed for two flat fields).
fn xml_field(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let len = body.get(start..)?.find(&format!("</{tag}>"))?;
    Some(body.get(start..start + len)?.trim().to_string())
}

/// Server text made fit for a sentence: control characters removed, one line, at most 200
/// characters.
fn clean(text: &str) -> String {
    let one: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words = one.split_whitespace().collect::<Vec<_>>().join(" ");
    words.chars().take(200).collect()
}

/// What Azure Storage's refusal means, as a sentence, when the answer is one (an
/// `x-ms-error-code` header or an XML `<Error>` body); `None` for other answers. `token_sent`
/// says whether a storage token went with the request; `no_token` why none could be had.
pub fn explain(
    status: u16,
    error_code: Option<&str>,
    body: &str,
    url: &str,
    token_sent: bool,
    no_token: Option<&str>,
) -> Option<String> {
    let code = error_code
        .map(clean)
        .filter(|c| !c.is_empty())
        .or_else(|| xml_field(body, "Code").map(|c| clean(&c)))?;
    let detail = xml_field(body, "AuthenticationErrorDetail")
        .or_else(|| xml_field(body, "Message"))
        .map(|m| clean(m.lines().next().unwrap_or("")))
        .unwrap_or_default();
    let account = account_of(url);
    let why_no_token = match no_token {
        Some(why) => format!(" fhirside could not get a storage token: {why}."),
        None => String::new(),
    };
    let text = match code.as_str() {
        "AuthorizationPermissionMismatch" => format!(
            "Azure Storage refused the file ({status} {code}): the app needs the Storage Blob Data Reader role on {account} (or its container)."
        ),
        "AuthorizationFailure" => format!(
            "Azure Storage refused the file ({status} {code}): this request is not authorized on {account}; check its network rules (firewall, private endpoints) and the app's role."
        ),
        "NoAuthenticationInformation" => format!(
            "Azure Storage wants a token for this file ({status} {code}) and none was sent.{why_no_token}"
        ),
        "PublicAccessNotPermitted" => format!(
            "Public access is not permitted on {account} ({status} {code}): the file needs a storage token.{why_no_token}"
        ),
        "InvalidAuthenticationInfo" => format!(
            "Azure Storage did not accept the token ({status} {code}): it must be for https://storage.azure.com, from the storage account's tenant. {detail}"
        ),
        "ContainerNotFound" => format!(
            "The container is not in {account} ({status} {code}): it was removed, or the export wrote elsewhere."
        ),
        "BlobNotFound" | "ResourceNotFound" => format!(
            "The file is not in {account} ({status} {code}): it was removed or has expired; poll the job again for a fresh manifest."
        ),
        "AuthenticationFailed"
            if detail.contains("expir")
                || detail.contains("time frame")
                || detail.contains("Signed expiry") =>
        {
            format!(
                "The file's signed link (SAS) on {account} has expired ({status} {code}): poll the job again for fresh links."
            )
        }
        "AuthenticationFailed" if detail.contains("not supported in this version") => format!(
            "Azure Storage refused the token because the request named no service version ({status} {code}: {detail})."
        ),
        _ => {
            let sent = if token_sent {
                " (a storage token was sent)"
            } else {
                " (no token was sent)"
            };
            if detail.is_empty() {
                format!("Azure Storage answered {status} {code}{sent}.{why_no_token}")
            } else {
                format!("Azure Storage answered {status} {code}{sent}: {detail}.{why_no_token}")
            }
        }
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn auth(kind: AuthKind, flavor: TokenFlavor) -> ResolvedAuth {
        ResolvedAuth {
            kind,
            flavor,
            token_url: "https://login/t/oauth2/token".into(),
            authorize_url: String::new(),
            device_code_url: String::new(),
            client_id: "c".into(),
            client_secret: Some("s".into()),
            client_secret_command: String::new(),
            audience: "https://ws-svc.fhir.azurehealthcareapis.com".into(),
            scopes: vec!["https://ws-svc.fhir.azurehealthcareapis.com/.default".into()],
            redirect_port: 8400,
            redirect_path: "/".into(),
            command: "az account get-access-token --resource https://ws-svc.fhir.azurehealthcareapis.com --query accessToken -o tsv".into(),
            command_timeout: Duration::from_secs(5),
            static_token: String::new(),
            token_variable: "bearerToken".into(),
            fhir_base: "https://ws-svc.fhir.azurehealthcareapis.com".into(),
            ..ResolvedAuth::default()
        }
    }

    #[test]
    fn the_same_sign_in_with_the_storage_audience() {
        let v1 = storage_auth(&auth(AuthKind::ClientCredentials, TokenFlavor::EntraV1)).unwrap();
        assert_eq!(v1.audience, "https://storage.azure.com/");
        assert!(v1.scopes.is_empty());
        assert_eq!(v1.token_variable, "");
        let v2 = storage_auth(&auth(AuthKind::ClientCredentials, TokenFlavor::EntraV2)).unwrap();
        assert_eq!(v2.scopes, vec!["https://storage.azure.com/.default"]);
        let dc = storage_auth(&auth(AuthKind::DeviceCode, TokenFlavor::EntraV1)).unwrap();
        assert_eq!(
            dc.scopes,
            vec!["https://storage.azure.com/.default", "offline_access"]
        );
        let cmd = storage_auth(&auth(AuthKind::Command, TokenFlavor::EntraV1)).unwrap();
        assert!(
            cmd.command
                .contains("--resource https://storage.azure.com/ --query"),
            "{}",
            cmd.command
        );
        let mut odd = auth(AuthKind::Command, TokenFlavor::EntraV1);
        odd.command = "print-token".into();
        assert!(storage_auth(&odd).is_err());
        assert!(storage_auth(&auth(AuthKind::Bearer, TokenFlavor::EntraV1)).is_err());
        assert_eq!(key_env(&storage_key("prod")), ("prod", true));
        assert_eq!(key_env("prod"), ("prod", false));
    }

    #[test]
    fn refusals_are_sentences() {
        let url = "https://acct.blob.core.windows.net/export/f/Patient-1.ndjson";
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.\nRequestId:1</Message></Error>";
        let s = explain(403, None, body, url, true, None).unwrap();
        assert!(
            s.contains("the app needs the Storage Blob Data Reader role on acct"),
            "{s}"
        );
        let s = explain(
            401,
            Some("NoAuthenticationInformation"),
            "",
            url,
            false,
            Some("a fixed bearer token is for the FHIR service only"),
        )
        .unwrap();
        assert!(
            s.contains("none was sent") && s.contains("fixed bearer"),
            "{s}"
        );
        let s = explain(409, Some("PublicAccessNotPermitted"), "", url, false, None).unwrap();
        assert!(s.contains("Public access is not permitted on acct"), "{s}");
        let s = explain(404, Some("ContainerNotFound"), "", url, true, None).unwrap();
        assert!(s.contains("container is not in acct"), "{s}");
        let s = explain(404, Some("BlobNotFound"), "", url, true, None).unwrap();
        assert!(s.contains("file is not in acct"), "{s}");
        let sas = "<Error><Code>AuthenticationFailed</Code><Message>Server failed</Message><AuthenticationErrorDetail>Signed expiry time [Tue, 01 Jan 2030 00:00:00 GMT] must be after signed start time</AuthenticationErrorDetail></Error>";
        let s = explain(403, None, sas, url, false, None).unwrap();
        assert!(s.contains("(SAS) on acct has expired"), "{s}");
        // Hostile text is cleaned and bounded; other answers are not storage refusals.
        let evil = format!(
            "<Error><Code>Weird\u{1b}[2J</Code><Message>{}</Message></Error>",
            "x".repeat(5000)
        );
        let s = explain(400, None, &evil, url, true, None).unwrap();
        assert!(!s.contains('\u{1b}') && s.len() < 400, "{s}");
        assert_eq!(
            explain(500, None, "<html>oops</html>", url, true, None),
            None
        );
    }
}
