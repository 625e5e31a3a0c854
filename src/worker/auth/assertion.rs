//! Signed client assertions (RFC 7523 `private_key_jwt`): the key comes from a PEM file (never
//! readable by others) or a command that prints it; the JWT follows the two presets —
//! Entra certificates (PS256/RS256 with `x5t#S256` and `x5t`, see Microsoft's "certificate
//! credentials" page) and SMART Backend Services (RS384/ES384, `kid`, `iss` = `sub` =
//! client id, `aud` = token URL, `exp` five minutes out, a unique `jti`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::keys::{self, KeyFile};
use super::resolve::{AuthError, ResolvedAuth};
use crate::workspace::TokenFlavor;

/// RFC 7523's assertion type.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// An assertion lives this long (SMART: at most five minutes).
pub const LIFETIME: Duration = Duration::from_secs(300);

/// Reads the key (file or command) and the certificate for `cfg`.
pub async fn load(cfg: &ResolvedAuth) -> Result<KeyFile, AuthError> {
    let text = if !cfg.key_file.is_empty() {
        read_private_file(&cfg.key_file)?
    } else {
        super::command::run_full(&cfg.key_command, cfg.command_timeout, "key command").await?
    };
    let mut file = keys::parse_pem(&text).map_err(|e| {
        AuthError::Flow(format!(
            "The private key for signing in cannot be used: {e}."
        ))
    })?;
    if !cfg.certificate_file.is_empty() {
        let path = expand(&cfg.certificate_file);
        let pem = std::fs::read_to_string(&path).map_err(|e| {
            AuthError::Flow(format!(
                "The certificate {} cannot be read: {e}.",
                path.display()
            ))
        })?;
        file.certificate_der = Some(keys::certificate_der(&pem).map_err(|e| {
            AuthError::Flow(format!("The certificate {} holds {e}.", path.display()))
        })?);
    }
    Ok(file)
}

fn expand(path: &str) -> std::path::PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join(rest))
            .unwrap_or_else(|| path.into()),
        None => path.into(),
    }
}

/// Reads a key file, refusing one that other users can read (as ssh does).
fn read_private_file(path: &str) -> Result<String, AuthError> {
    let path = expand(path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&path).map_err(|e| {
            AuthError::Flow(format!(
                "The key file {} cannot be read: {e}.",
                path.display()
            ))
        })?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(AuthError::Flow(format!(
                "The key file {} can be read by other users, so fhirside will not use it: chmod 600 it.",
                path.display()
            )));
        }
    }
    std::fs::read_to_string(&path).map_err(|e| {
        AuthError::Flow(format!(
            "The key file {} cannot be read: {e}.",
            path.display()
        ))
    })
}

/// Which algorithm signs: the configured one, else the preset's for this kind of key.
pub fn algorithm(
    cfg: &ResolvedAuth,
    key: &keys::PrivateKey,
) -> Result<jsonwebtoken::Algorithm, AuthError> {
    use jsonwebtoken::Algorithm::*;
    let entra = cfg.flavor != TokenFlavor::Oauth2;
    let alg = match cfg.algorithm.as_str() {
        "" if !key.is_rsa() => ES384,
        "" if entra => PS256,
        "" => RS384,
        "RS256" => RS256,
        "RS384" => RS384,
        "RS512" => RS512,
        "PS256" => PS256,
        "PS384" => PS384,
        "ES384" => ES384,
        other => {
            return Err(AuthError::Flow(format!(
                "The algorithm '{other}' is not one fhirside signs with: use RS256, RS384, PS256 or ES384."
            )));
        }
    };
    let fits = matches!(alg, ES384) != key.is_rsa();
    if !fits {
        return Err(AuthError::Flow(format!(
            "The algorithm {alg:?} does not fit the key ({} key): {}.",
            if key.is_rsa() { "an RSA" } else { "a P-384" },
            if key.is_rsa() {
                "use RS384, RS256 or PS256"
            } else {
                "use ES384"
            }
        )));
    }
    Ok(alg)
}

/// A fresh assertion for one token request.
pub fn sign(cfg: &ResolvedAuth, file: &KeyFile, now: SystemTime) -> Result<String, AuthError> {
    let alg = algorithm(cfg, &file.key)?;
    let entra = cfg.flavor != TokenFlavor::Oauth2;
    let mut header = jsonwebtoken::Header::new(alg);
    header.typ = Some("JWT".into());
    match &file.certificate_der {
        Some(der) => {
            header.x5t_s256 = Some(keys::x5t_s256(der));
            header.x5t = Some(keys::x5t(der));
        }
        None if entra => {
            return Err(AuthError::Flow(
                "Entra needs the certificate registered for the app: set certificate_file (or put the certificate in the key file).".into(),
            ));
        }
        None => {}
    }
    header.kid = Some(if cfg.key_id.is_empty() {
        file.key.thumbprint()
    } else {
        cfg.key_id.clone()
    });
    let iat = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = json!({
        "iss": cfg.client_id,
        "sub": cfg.client_id,
        "aud": cfg.token_url,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": iat,
        "nbf": iat,
        "exp": iat + LIFETIME.as_secs(),
    });
    let key = file
        .key
        .encoding_key()
        .map_err(|e| AuthError::Flow(format!("The private key cannot sign: {e}.")))?;
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| AuthError::Flow(format!("Signing the client assertion failed: {e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_assertions_carry_the_required_claims() {
        let key = keys::generate(true).unwrap();
        let cfg = ResolvedAuth {
            flavor: TokenFlavor::Oauth2,
            client_id: "app".into(),
            token_url: "https://ehr.example/token".into(),
            ..Default::default()
        };
        let file = KeyFile {
            key,
            certificate_der: None,
        };
        let a = sign(&cfg, &file, SystemTime::now()).unwrap();
        let b = sign(&cfg, &file, SystemTime::now()).unwrap();
        let d = super::super::jwt::decode(&a).unwrap();
        assert_eq!(d.header["alg"], "ES384");
        assert_eq!(d.header["kid"], file.key.thumbprint());
        assert_eq!(d.claims["iss"], "app");
        assert_eq!(d.claims["sub"], "app");
        assert_eq!(d.claims["aud"], "https://ehr.example/token");
        let life = d.claims["exp"].as_u64().unwrap() - d.claims["iat"].as_u64().unwrap();
        assert!(life <= 300);
        let d2 = super::super::jwt::decode(&b).unwrap();
        assert_ne!(d.claims["jti"], d2.claims["jti"], "a unique jti each time");
        // Entra needs the certificate.
        let entra = ResolvedAuth {
            flavor: TokenFlavor::EntraV2,
            ..cfg
        };
        assert!(sign(&entra, &file, SystemTime::now()).is_err());
    }
}
