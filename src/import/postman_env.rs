//! Postman environment (and globals) import and export. Teams keep server URLs, client ids and
//! secrets in Postman environments; bringing them over with their secret flags lets the
//! workspace keep secrets out of the environment files from the first import.

use serde_json::{Map, Value, json};

use super::{ImportError, ImportReport, value_text};
use crate::workspace::{Environment, Variable, file_safe_name, looks_secret};

/// Parses and imports a Postman environment; `file` names it in messages.
pub fn import_environment(
    file: &str,
    text: &str,
) -> Result<(Environment, ImportReport), ImportError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ImportError::json(file, &e))?;
    import_environment_value(file, &value)
}

/// Imports an already parsed Postman environment. `type: secret`, or a key that looks like a
/// credential, makes the variable secret; non-text values are written as JSON text.
pub fn import_environment_value(
    file: &str,
    value: &Value,
) -> Result<(Environment, ImportReport), ImportError> {
    let Some(top) = value.as_object() else {
        return Err(ImportError::shape(
            file,
            "$",
            "a Postman environment is a JSON object with \"name\" and \"values\"",
        ));
    };
    let mut report = ImportReport::default();
    let name = top
        .get("name")
        .map(value_text)
        .filter(|n| !n.trim().is_empty())
        .or_else(|| {
            std::path::Path::new(file)
                .file_stem()
                .and_then(|s| s.to_str())
                .map(|s| s.trim_end_matches(".postman_environment").to_string())
        })
        .unwrap_or_else(|| "imported".into());
    let mut env = Environment::new(&file_safe_name(&name));
    let values = match top.get("values") {
        Some(Value::Array(v)) => v.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => {
            return Err(ImportError::shape(
                file,
                "$.values",
                "\"values\" should be a list of {key, value} entries",
            ));
        }
    };
    for (i, v) in values.iter().enumerate() {
        let Some(o) = v.as_object() else {
            report
                .warnings
                .push(format!("$.values[{i}] is not an object; skipped"));
            continue;
        };
        let Some(key) = o.get("key").map(value_text).filter(|k| !k.is_empty()) else {
            report
                .warnings
                .push(format!("$.values[{i}] has no key; skipped"));
            continue;
        };
        if env.variables.iter().any(|x| x.key == key) {
            report.warnings.push(format!(
                "environment '{}': '{key}' appears twice; the later value is kept",
                env.name
            ));
            env.variables.retain(|x| x.key != key);
        }
        let typed_secret = o.get("type").and_then(Value::as_str) == Some("secret");
        env.variables.push(Variable {
            secret: typed_secret || looks_secret(&key),
            value: o.get("value").map(value_text).unwrap_or_default(),
            enabled: match o.get("enabled") {
                Some(Value::Bool(b)) => *b,
                _ => true,
            },
            key,
        });
    }
    let secrets = env.variables.iter().filter(|v| v.secret).count();
    if secrets > 0 {
        report.converted.push(format!(
            "environment '{}': {} variable{} kept as secret{} (stored apart from the environment file)",
            env.name,
            secrets,
            if secrets == 1 { "" } else { "s" },
            if secrets == 1 { "" } else { "s" },
        ));
    }
    Ok((env, report))
}

/// The environment as Postman environment JSON. Secret values are never written: a secret
/// variable is exported with its key, `type: secret` and an empty value.
pub fn export_environment(env: &Environment) -> Value {
    let values: Vec<Value> = env
        .variables
        .iter()
        .map(|v| {
            let mut o = Map::new();
            o.insert("key".into(), Value::String(v.key.clone()));
            o.insert(
                "value".into(),
                Value::String(if v.secret {
                    String::new()
                } else {
                    v.value.clone()
                }),
            );
            o.insert(
                "type".into(),
                Value::String(if v.secret { "secret" } else { "default" }.into()),
            );
            o.insert("enabled".into(), Value::Bool(v.enabled));
            Value::Object(o)
        })
        .collect();
    json!({
        "name": env.name,
        "values": values,
        "_postman_variable_scope": "environment",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_secrets() {
        let v = json!({"name": "Dev / EU", "values": [
            {"key": "fhirurl", "value": "https://x", "enabled": true},
            {"key": "clientSecret", "value": "s3", "type": "default"},
            {"key": "pin", "value": "1234", "type": "secret", "enabled": false},
            {"key": "n", "value": 5},
            {"key": "obj", "value": {"a": [1]}},
            {"key": "nothing", "value": null},
            7,
            {"value": "no key"}
        ]});
        let (env, rep) = import_environment_value("e.json", &v).unwrap();
        assert_eq!(env.name, "Dev - EU");
        assert_eq!(env.variables.len(), 6);
        assert!(env.variables[1].secret);
        assert!(env.variables[2].secret && !env.variables[2].enabled);
        assert_eq!(env.variables[3].value, "5");
        assert_eq!(env.variables[4].value, "{\"a\":[1]}");
        assert_eq!(env.variables[5].value, "");
        assert_eq!(rep.warnings.len(), 2);
    }

    #[test]
    fn export_never_writes_secret_values() {
        let mut env = Environment::new("dev");
        env.variables.push(Variable::plain("fhirurl", "https://x"));
        env.variables
            .push(Variable::secret("clientsecret", "top-secret"));
        let out = export_environment(&env).to_string();
        assert!(!out.contains("top-secret"));
        let (back, _) = import_environment_value("e.json", &export_environment(&env)).unwrap();
        assert_eq!(back.variables[0], env.variables[0]);
        assert_eq!(back.variables[1].value, "");
        assert!(back.variables[1].secret);
    }
}
