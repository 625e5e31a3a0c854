//! Checking signed client assertions (RFC 7523) for the demo's token endpoints: the signature
//! against a registered certificate (Entra) or JWKS key (SMART), with `jsonwebtoken`. The
//! claim checks and error wording live with each endpoint, since Entra and SMART word them
//! differently.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// A certificate the demo's Entra knows for an app: its thumbprints and public key.
pub(super) struct RegisteredCert {
    pub x5t: String,
    pub x5t_s256: String,
    pub thumbprint_hex: String,
    key: DecodingKey,
}

/// Reads a PEM certificate (RSA, as Entra's app registrations take).
pub(super) fn register_certificate(pem: &str) -> Result<RegisteredCert, String> {
    let der = crate::worker::auth::keys::certificate_der(pem)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| format!("the certificate does not parse: {e}"))?;
    let spk = cert.public_key().subject_public_key.data.to_vec();
    Ok(RegisteredCert {
        x5t: crate::worker::auth::keys::x5t(&der),
        x5t_s256: crate::worker::auth::keys::x5t_s256(&der),
        thumbprint_hex: crate::worker::auth::keys::thumbprint_hex(&der),
        key: DecodingKey::from_rsa_der(&spk),
    })
}

impl RegisteredCert {
    pub(super) fn matches(&self, header: &jsonwebtoken::Header) -> bool {
        header.x5t_s256.as_deref() == Some(self.x5t_s256.as_str())
            || header.x5t.as_deref() == Some(self.x5t.as_str())
    }

    /// The claims, when the signature is this certificate's.
    pub(super) fn verify(&self, token: &str, alg: Algorithm) -> Option<Value> {
        verify_with(token, alg, &self.key)
    }
}

/// The claims of `token` if `key` signed it with `alg`; times and audience are the caller's
/// to check (so each endpoint can answer with its own error).
pub(super) fn verify_with(token: &str, alg: Algorithm, key: &DecodingKey) -> Option<Value> {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, key, &v)
        .ok()
        .map(|d| d.claims)
}

/// The keys of a JWKS with this `kid`, usable for verifying.
pub(super) fn jwks_keys(jwks: &Value, kid: &str) -> Vec<(DecodingKey, Option<String>)> {
    jwks.get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        .filter(|k| {
            k.get("key_ops")
                .and_then(Value::as_array)
                .is_none_or(|ops| ops.iter().any(|o| o == "verify"))
        })
        .filter_map(|k| {
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(k.clone()).ok()?;
            let alg = k.get("alg").and_then(Value::as_str).map(str::to_string);
            DecodingKey::from_jwk(&jwk).ok().map(|d| (d, alg))
        })
        .collect()
}
