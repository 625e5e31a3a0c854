//! `fhirside fmt [FILE|-]`: the body viewer's pretty-printer as a command. JSON is printed
//! pretty; NDJSON (an export's files, one resource a line) record by record, pretty or, with
//! `--compact`, one a line. Reads stdin when no file (or `-`) is given, so `curl … | fhirside
//! fmt` works.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::exit::{CliError, CliResult, Exit};
use super::out::{self, Stdout};
use crate::text::sanitize::for_terminal;
use crate::view_body::{BodyKind, PrettyError, check_ndjson, detect_kind, pretty_json};

pub struct FmtArgs {
    pub file: Option<PathBuf>,
    pub compact: bool,
    /// Print what this selects instead of the document.
    pub fhirpath: Option<String>,
    /// `auto`, `always` or `never`.
    pub color: String,
}

/// How many bad NDJSON lines are listed before the rest are only counted.
const MAX_LISTED_ERRORS: usize = 20;

pub fn run(args: &FmtArgs, stdout: &mut Stdout) -> CliResult {
    let from_stdin = args.file.as_deref().is_none_or(|f| f == Path::new("-"));
    let (name, bytes) = if from_stdin {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map_err(|e| CliError::Failed(format!("reading stdin failed: {e}")))?;
        ("stdin".to_string(), buf)
    } else {
        let file = args.file.as_deref().unwrap_or(Path::new("-"));
        let bytes = std::fs::read(file)
            .map_err(|e| CliError::Failed(format!("{}: {e}", file.display())))?;
        (file.display().to_string(), bytes)
    };
    let colour = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => out::colour_wanted(stdout.is_terminal()),
    };
    let printer = Printer {
        colour,
        // Strings in JSON may hold C1 and bidi controls: escaped when a terminal shows them.
        sanitise: colour || stdout.is_terminal(),
    };
    let ext = args
        .file
        .as_deref()
        .and_then(|f| f.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let ndjson = matches!(ext.as_deref(), Some("ndjson" | "jsonl"))
        || detect_kind(None, &bytes) == BodyKind::NdJson;
    if let Some(expr) = &args.fhirpath {
        let found = super::fhirpath::filter(&bytes, ndjson, expr).map_err(|e| match e {
            CliError::Failed(m) => CliError::Failed(format!("{name}: {m}")),
            other => other,
        })?;
        if !found.is_empty() {
            printer.write(found.trim_end_matches('\n'), stdout)?;
        }
        stdout.flush()?;
        Ok(Exit::Ok)
    } else if ndjson {
        ndjson_records(&name, &bytes, args.compact, &printer, stdout)
    } else {
        let text = pretty_json(&bytes).map_err(|e| CliError::Failed(position(&name, &e)))?;
        printer.write(&text, stdout)?;
        stdout.flush()?;
        Ok(Exit::Ok)
    }
}

fn position(name: &str, e: &PrettyError) -> String {
    format!("{name}:{}:{}: {}", e.line, e.column, e.message)
}

fn ndjson_records(
    name: &str,
    bytes: &[u8],
    compact: bool,
    printer: &Printer,
    stdout: &mut Stdout,
) -> CliResult {
    // Every record is checked before anything is printed: a bad file gives its errors, not
    // half its records.
    let errors = check_ndjson(bytes);
    if !errors.is_empty() {
        for (_, e) in errors.iter().take(MAX_LISTED_ERRORS) {
            out::error(position(name, e));
        }
        if errors.len() > MAX_LISTED_ERRORS {
            out::error(format_args!(
                "{name}: {} more lines do not parse",
                errors.len() - MAX_LISTED_ERRORS
            ));
        }
        return Ok(Exit::Failed);
    }
    for line in bytes.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if compact {
            let record = minify(line);
            // Checked above: the record is valid JSON, so valid UTF-8.
            let text = String::from_utf8_lossy(&record);
            printer.write(&text, stdout)?;
        } else {
            let text = pretty_json(line).map_err(|e| CliError::Failed(position(name, &e)))?;
            printer.write(&text, stdout)?;
        }
    }
    stdout.flush()?;
    Ok(Exit::Ok)
}

struct Printer {
    colour: bool,
    sanitise: bool,
}

impl Printer {
    /// One document and a newline.
    fn write(&self, text: &str, stdout: &mut Stdout) -> Result<(), out::OutputError> {
        let text = if self.sanitise {
            for_terminal(text)
        } else {
            std::borrow::Cow::Borrowed(text)
        };
        stdout.json(&text, self.colour)?;
        stdout.data(b"\n")
    }
}

/// A JSON value without the whitespace between tokens (strings kept byte for byte, numbers
/// as written: nothing is re-encoded).
pub(super) fn minify(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for &b in json {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !b.is_ascii_whitespace() {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings_and_numbers_as_written() {
        assert_eq!(
            minify(br#" { "a b" : [ 1.50 , "x\" y" ] , "n" : 1e400 } "#),
            br#"{"a b":[1.50,"x\" y"],"n":1e400}"#
        );
    }
}
