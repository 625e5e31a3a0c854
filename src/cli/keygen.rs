//! `fhirside keygen`: a key pair for signed client assertions, and what to register with the
//! server — a self-signed certificate for an Entra app registration, or a JWKS for a SMART
//! Backend Services server. The private key is written 0600 in a 0700 folder that keeps itself
//! out of git; existing files are never overwritten.

use std::path::{Path, PathBuf};

use crate::worker::auth::keys;
use crate::workspace::atomic::write_atomic;

/// Which server the key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyFor {
    /// An Entra ID app registration (RSA key and a self-signed certificate).
    Entra,
    /// SMART Backend Services (a JWKS to register; ES384 or RS384).
    Smart,
}

pub struct KeygenArgs {
    pub key_for: KeyFor,
    /// ES384 (default for SMART) or RS384 (SMART); Entra always RSA.
    pub algorithm: Option<String>,
    pub dir: PathBuf,
    pub name: String,
    /// Certificate lifetime in days (Entra).
    pub days: u32,
}

/// What was written, and the text to show.
pub struct KeygenReport {
    pub key_file: PathBuf,
    pub public_file: PathBuf,
    pub text: String,
}

fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{} already exists; fhirside does not overwrite keys (choose another --name)",
            path.display()
        ));
    }
    write_atomic(path, bytes, private)
        .map_err(|e| format!("writing {} failed: {e}", path.display()))
}

/// Makes the folder (0700, with a `.gitignore` of `*`) when it is new.
fn prepare_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {} failed: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    write_atomic(
        &dir.join(".gitignore"),
        b"# private keys: never commit them\n*\n",
        false,
    )
    .map_err(|e| format!("writing {}/.gitignore failed: {e}", dir.display()))
}

pub fn run(args: &KeygenArgs) -> Result<KeygenReport, String> {
    let alg = args
        .algorithm
        .as_deref()
        .map(str::to_ascii_uppercase)
        .unwrap_or_else(|| match args.key_for {
            KeyFor::Entra => "PS256".into(),
            KeyFor::Smart => "ES384".into(),
        });
    let ec = match (args.key_for, alg.as_str()) {
        (KeyFor::Smart, "ES384") => true,
        (KeyFor::Smart, "RS384") | (KeyFor::Entra, "PS256" | "RS256") => false,
        (KeyFor::Smart, other) => {
            return Err(format!(
                "SMART Backend Services signs with ES384 or RS384, not {other}"
            ));
        }
        (KeyFor::Entra, other) => {
            return Err(format!(
                "Entra certificates sign with PS256 or RS256, not {other}"
            ));
        }
    };
    let name = args.name.trim();
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(format!("'{name}' is not a usable file name"));
    }
    prepare_dir(&args.dir)?;
    let key = keys::generate(ec)?;
    let key_file = args.dir.join(format!("{name}.key.pem"));
    let key_pem = key.to_pem()?;
    let mut text = String::new();
    let key_shown = key_file.display().to_string();
    let public_file;
    match args.key_for {
        KeyFor::Entra => {
            let cert = keys::self_signed_certificate(&key, &format!("fhirside {name}"), args.days)?;
            let der = keys::certificate_der(&cert)?;
            public_file = args.dir.join(format!("{name}.cert.pem"));
            write_new(&key_file, key_pem.as_bytes(), true)?;
            write_new(&public_file, cert.as_bytes(), false)?;
            text.push_str(&format!(
                "Private key  {key_shown} (0600: keep it secret, never commit it)\nCertificate  {} (valid {} days; upload it to the app registration)\nThumbprint   {} (what the portal shows)\nx5t#S256     {}\n\nRegister it: Entra admin center → App registrations → your app → Certificates & secrets → Certificates → Upload, or\n  az ad app credential reset --id <client id> --cert @{} --append\n\n[auth] for the environment (the tenant, client id and fhirurl come from its variables):\n  kind = \"private_key_jwt\"\n  flavor = \"entra_v2\"\n  key_file = \"{key_shown}\"\n  certificate_file = \"{}\"\n  algorithm = \"{alg}\"\n",
                public_file.display(),
                args.days,
                keys::thumbprint_hex(&der),
                keys::x5t_s256(&der),
                public_file.display(),
                public_file.display(),
            ));
        }
        KeyFor::Smart => {
            let kid = key.thumbprint();
            let jwks = serde_json::json!({"keys": [key.public_jwk(&alg, &kid)]});
            let jwks_text = serde_json::to_string_pretty(&jwks).unwrap_or_default();
            public_file = args.dir.join(format!("{name}.jwks.json"));
            write_new(&key_file, key_pem.as_bytes(), true)?;
            write_new(&public_file, format!("{jwks_text}\n").as_bytes(), false)?;
            text.push_str(&format!(
                "Private key  {key_shown} (0600: keep it secret, never commit it)\nJWKS         {} (register it with the server for your client id)\nkid          {kid}\n\n{jwks_text}\n\n[auth] for the environment (clientid and fhirurl from its variables):\n  kind = \"private_key_jwt\"\n  flavor = \"oauth2\"\n  token_url = \"https://…/token\"   # the server's token endpoint\n  key_file = \"{key_shown}\"\n  algorithm = \"{alg}\"\n  scope = \"system/*.read\"\n",
                public_file.display()
            ));
        }
    }
    Ok(KeygenReport {
        key_file,
        public_file,
        text,
    })
}
