//! Private keys for signed client assertions: reading a PEM (RSA PKCS#1/PKCS#8, P-384
//! PKCS#8/SEC1), the public JWK and its RFC 7638 thumbprint (the default `kid`), certificate
//! thumbprints (`x5t`, `x5t#S256`), and making new keys and self-signed certificates for
//! `fhirside keygen`. Signing itself is `jsonwebtoken`'s; nothing cryptographic is written here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A private key fhirside can sign with.
pub enum PrivateKey {
    Rsa(Box<rsa::PrivateKey>),
    P384(p384::SecretKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PrivateKey::Rsa(_) => "PrivateKey::Rsa(<redacted>)",
            PrivateKey::P384(_) => "PrivateKey::P384(<redacted>)",
        })
    }
}

/// A key file's blocks: the private key, and a certificate when the file holds one too.
pub struct KeyFile {
    pub key: PrivateKey,
    pub certificate_der: Option<Vec<u8>>,
}

/// Reads a PEM text holding a private key (and maybe a certificate). Errors never quote it.
pub fn parse_pem(text: &str) -> Result<KeyFile, String> {
    let blocks = pem::parse_many(text.as_bytes())
        .map_err(|_| "the key is not PEM text (-----BEGIN … KEY-----)".to_string())?;
    let mut key = None;
    let mut certificate_der = None;
    for b in &blocks {
        match b.tag() {
            "PRIVATE KEY" => {
                key = Some(
                    rsa::PrivateKey::from_pkcs8_der(b.contents())
                        .map(|k| PrivateKey::Rsa(Box::new(k)))
                        .or_else(|_| {
                            p384::SecretKey::from_pkcs8_der(b.contents()).map(PrivateKey::P384)
                        })
                        .map_err(|_| {
                            "the PKCS#8 key is neither RSA nor P-384 (or is damaged)".to_string()
                        })?,
                )
            }
            "RSA PRIVATE KEY" => {
                key = Some(PrivateKey::Rsa(Box::new(
                    rsa::PrivateKey::from_pkcs1_der(b.contents())
                        .map_err(|_| "the RSA key is damaged".to_string())?,
                )))
            }
            "EC PRIVATE KEY" => {
                key = Some(PrivateKey::P384(
                    p384::SecretKey::from_sec1_der(b.contents())
                        .map_err(|_| "the EC key is not a P-384 key (or is damaged)".to_string())?,
                ))
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err("the key is encrypted: give key_command a command that prints it decrypted (e.g. from a vault), or decrypt it into a file readable only by you".into());
            }
            "CERTIFICATE" if certificate_der.is_none() => {
                certificate_der = Some(b.contents().to_vec())
            }
            _ => {}
        }
    }
    let key = key.ok_or("no private key in the PEM text")?;
    Ok(KeyFile {
        key,
        certificate_der,
    })
}

/// The first certificate of a PEM text, as DER.
pub fn certificate_der(text: &str) -> Result<Vec<u8>, String> {
    pem::parse_many(text.as_bytes())
        .ok()
        .and_then(|blocks| {
            blocks
                .into_iter()
                .find(|b| b.tag() == "CERTIFICATE")
                .map(|b| b.contents().to_vec())
        })
        .ok_or_else(|| "no certificate (-----BEGIN CERTIFICATE-----) in it".to_string())
}

/// `x5t`: base64url SHA-1 of the certificate's DER (Entra's older header).
pub fn x5t(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(<sha1::Sha1 as sha1::Digest>::digest(der))
}

/// `x5t#S256`: base64url SHA-256 of the certificate's DER.
pub fn x5t_s256(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// The SHA-1 thumbprint as Entra's portal shows it (upper-case hex).
pub fn thumbprint_hex(der: &[u8]) -> String {
    <sha1::Sha1 as sha1::Digest>::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

impl PrivateKey {
    /// The public JWK members that RFC 7638 hashes, in its order.
    fn public_members(&self) -> Value {
        match self {
            PrivateKey::Rsa(k) => json!({
                "e": URL_SAFE_NO_PAD.encode(k.e_bytes()),
                "kty": "RSA",
                "n": URL_SAFE_NO_PAD.encode(k.n_bytes()),
            }),
            PrivateKey::P384(k) => {
                let point = k.public_key().to_sec1_bytes();
                // Uncompressed: 0x04 || x (48) || y (48).
                let (x, y) = if point.len() == 97 {
                    (&point[1..49], &point[49..97])
                } else {
                    (&point[..0], &point[..0])
                };
                json!({
                    "crv": "P-384",
                    "kty": "EC",
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                })
            }
        }
    }

    /// RFC 7638 thumbprint of the public key: the default `kid`.
    pub fn thumbprint(&self) -> String {
        // serde_json keeps insertion order (preserve_order), which is RFC 7638's sorted order.
        let canonical = self.public_members().to_string();
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The public JWK to register (kid, alg, use, key_ops added).
    pub fn public_jwk(&self, alg: &str, kid: &str) -> Value {
        let mut jwk = self.public_members();
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(alg);
        jwk["use"] = json!("sig");
        jwk["key_ops"] = json!(["verify"]);
        jwk
    }

    pub fn is_rsa(&self) -> bool {
        matches!(self, PrivateKey::Rsa(_))
    }

    /// The key for `jsonwebtoken`.
    pub fn encoding_key(&self) -> Result<jsonwebtoken::EncodingKey, String> {
        match self {
            PrivateKey::Rsa(k) => k
                .to_pkcs1_der()
                .map(|d| jsonwebtoken::EncodingKey::from_rsa_der(d.as_bytes()))
                .map_err(|_| "the RSA key could not be encoded".into()),
            PrivateKey::P384(k) => k
                .to_pkcs8_der()
                .map(|d| jsonwebtoken::EncodingKey::from_ec_der(d.as_bytes()))
                .map_err(|_| "the EC key could not be encoded".into()),
        }
    }

    /// PKCS#8 PEM, for writing a new key to its file.
    pub fn to_pem(&self) -> Result<String, String> {
        match self {
            PrivateKey::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF).map(|p| p.to_string()),
            PrivateKey::P384(k) => k.to_pkcs8_pem(LineEnding::LF).map(|p| p.to_string()),
        }
        .map_err(|_| "the key could not be written as PEM".to_string())
    }
}

/// Makes a new key: RSA 2048 (Entra certificates; SMART RS384) or P-384 (SMART ES384).
pub fn generate(ec: bool) -> Result<PrivateKey, String> {
    let mut rng = getrandom::SysRng;
    if ec {
        use rsa::Generate;
        p384::SecretKey::try_generate_from_rng(&mut rng)
            .map(PrivateKey::P384)
            .map_err(|e| format!("no randomness for a new key: {e}"))
    } else {
        rsa::PrivateKey::new(&mut rng, 2048)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("making an RSA key failed: {e}"))
    }
}

/// A self-signed certificate for an RSA key (what Entra's app registration takes), as PEM,
/// valid for `days` from now.
pub fn self_signed_certificate(key: &PrivateKey, name: &str, days: u32) -> Result<String, String> {
    let pem = key.to_pem()?;
    let pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| format!("the key cannot sign a certificate: {e}"))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| format!("certificate parameters: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    // Whole days, from yesterday (a clock a little behind still accepts it).
    use chrono::Datelike;
    let ymd = |d: chrono::NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    let today = chrono::Utc::now().date_naive();
    params.not_before = ymd(today - chrono::Days::new(1));
    params.not_after = ymd(today + chrono::Days::new(u64::from(days.max(1))));
    params
        .self_signed(&pair)
        .map(|c| c.pem())
        .map_err(|e| format!("signing the certificate failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_keys_round_trip_through_pem_with_a_stable_thumbprint() {
        let k = generate(true).unwrap();
        let pem = k.to_pem().unwrap();
        let back = parse_pem(&pem).unwrap().key;
        assert_eq!(k.thumbprint(), back.thumbprint());
        assert!(!format!("{back:?}").contains("BEGIN"));
        let jwk = back.public_jwk("ES384", "k1");
        assert_eq!(jwk["crv"], "P-384");
        assert_eq!(jwk["x"].as_str().unwrap().len(), 64);
        assert!(parse_pem("not a key").is_err());
    }
}
