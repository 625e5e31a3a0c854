//! Editing a body in the user's own editor (`$VISUAL`, `$EDITOR`, else `vi`).

use std::io::Write;
use std::process::Command;

/// Runs the editor on a temp file holding `text` and returns the edited text.
/// The caller must have handed the terminal back first.
pub fn edit(text: &str, extension: &str) -> Result<String, String> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".into());
    let mut file = tempfile::Builder::new()
        .prefix("fhirside-body-")
        .suffix(&format!(".{extension}"))
        .tempfile()
        .map_err(|e| format!("Could not create a temporary file for the editor: {e}."))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.flush())
        .map_err(|e| format!("Could not write the temporary file: {e}."))?;
    let mut parts = editor.split_whitespace();
    let program = parts.next().unwrap_or("vi");
    let status = Command::new(program)
        .args(parts)
        .arg(file.path())
        .status()
        .map_err(|e| {
            format!("Could not start the editor '{editor}': {e}. Set $EDITOR to one you have.")
        })?;
    if !status.success() {
        return Err(format!(
            "The editor '{editor}' exited with {status}; the body was left as it was."
        ));
    }
    std::fs::read_to_string(file.path())
        .map_err(|e| format!("Could not read the edited body back: {e}."))
}
