//! The command line's shape (clap): every verb and option, in the library so the man page, the
//! shell completions and the tests see the same definition the binary parses.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCompleter;

use super::complete;
use super::demo::DemoArgs;
use super::exit::EXIT_CODES_HELP;

/// `0.1.0 (commit abc1234)`: the version and the git commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("FHIRSIDE_GIT_COMMIT"),
    ")"
);

#[derive(Parser, Debug)]
#[command(
    name = "fhirside",
    version = VERSION,
    about = "A keyboard-driven terminal workbench for FHIR servers",
    after_help = EXIT_CODES_HELP,
)]
pub struct Cli {
    /// Workspace folder (default: ./.fhirside if present, else ~/.config/fhirside). It must
    /// exist: `fhirside init DIR` creates one.
    #[arg(long, global = true, value_hint = clap::ValueHint::DirPath)]
    pub workspace: Option<PathBuf>,
    /// Environment to make active at start.
    #[arg(long, add = ArgValueCompleter::new(complete::environments))]
    pub env: Option<String>,
    /// Run against the built-in demo FHIR service (a temporary workspace unless --workspace).
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub demo_args: DemoArgs,
    /// Colour theme (built-in: dark, light, high-contrast, catppuccin-mocha, solarized-light,
    /// or one in the workspace's themes/); remembered when chosen from the palette.
    #[arg(long)]
    pub theme: Option<String>,
    /// Do not capture the mouse (keeps the terminal's own text selection).
    #[arg(long)]
    pub no_mouse: bool,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create a workspace in DIR (default ./.fhirside) with the Azure template environment and
    /// the walkthrough's collection.
    Init {
        #[arg(value_hint = clap::ValueHint::DirPath)]
        dir: Option<PathBuf>,
    },
    /// List collections, requests and environments of the workspace.
    List,
    /// Send a saved request and print the answer.
    Run(RunCmd),
    /// Check every file of the workspace (environments, requests, collections, settings,
    /// keys.toml, themes); prints each problem as file:line:column: message, exit 1 on any.
    Check,
    /// Import Postman collections or environments, REST Client .http files, or curl commands.
    Import {
        #[arg(required = true, value_hint = clap::ValueHint::FilePath)]
        files: Vec<PathBuf>,
    },
    /// Bulk $export from an environment's FHIR service (--env), or, with --postman, a
    /// collection as a Postman v2.1 file (secrets are not exported).
    Export(ExportCmd),
    /// Asynchronous jobs ($export, $import, $bulk-delete, $reindex): watch one, list them.
    Job {
        #[command(subcommand)]
        cmd: JobCmd,
    },
    /// $bulk-delete what a search matches ('Observation?status=cancelled'; '?…' for every type):
    /// counts first (_summary=count), asks for the type (or the count) typed back, then runs.
    BulkDelete {
        /// The environment whose FHIR service deletes.
        #[arg(long = "env", add = ArgValueCompleter::new(complete::environments))]
        env: String,
        /// TYPE?search (or ?search for all types).
        target: String,
        /// _hardDelete=true: no history kept (Azure: FHIR Data Contributor).
        #[arg(long)]
        hard: bool,
        /// _purgeHistory=true: also delete old versions.
        #[arg(long)]
        purge_history: bool,
        /// excludedResourceTypes (system level), comma separated or repeated.
        #[arg(long = "exclude")]
        exclude: Vec<String>,
        /// _remove-references=true.
        #[arg(long)]
        remove_references: bool,
        /// Do not ask (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// $import NDJSON files from storage into an environment's FHIR service: POSTs the
    /// Parameters (inputFormat application/fhir+ndjson, mode, input url/type) and prints the
    /// status URL; --watch follows it like `job watch` (Azure: FHIR Data Importer).
    ImportData {
        /// The environment whose FHIR service imports.
        #[arg(long = "env", id = "import_env", value_name = "NAME", add = ArgValueCompleter::new(complete::environments))]
        import_env: String,
        /// A file to import and its resource type, URL:Type
        /// (https://acct.blob.core.windows.net/import/Patient.ndjson:Patient); repeatable.
        #[arg(long = "input", value_name = "URL:Type", required = true)]
        inputs: Vec<String>,
        /// IncrementalLoad (the default: the service keeps taking writes) or InitialLoad (the
        /// service refuses every other write while the import runs).
        #[arg(long, default_value = "IncrementalLoad", value_parser = ["InitialLoad", "IncrementalLoad"], ignore_case = true)]
        mode: String,
        /// Follow the job to its end: exit 0 done, 1 failed, 2 could not watch; the counts per
        /// type and the error files on stdout.
        #[arg(long)]
        watch: bool,
    },
    /// Print the recorded exchanges, newest first (the history screen's data, for scripts).
    History {
        /// At most this many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Filter, as on the history screen: words, GET, 4xx, err, env:NAME, since:2h, until:DATE.
        #[arg(long, value_name = "TEXT")]
        grep: Option<String>,
        /// JSON instead of a line each.
        #[arg(long)]
        json: bool,
        /// One entry in full: request, response headers and body.
        #[arg(long, value_name = "ID")]
        show: Option<i64>,
    },
    /// Pretty-print JSON or NDJSON (each record in turn) from a file or stdin, optionally
    /// highlighted.
    Fmt {
        /// The file; none or `-` reads stdin.
        #[arg(value_hint = clap::ValueHint::FilePath)]
        file: Option<PathBuf>,
        /// NDJSON: keep one record a line (compact) instead of pretty-printing each.
        #[arg(long, conflicts_with = "fhirpath")]
        compact: bool,
        /// Print what this FHIRPath expression selects instead of the whole document (for
        /// NDJSON, from each record): `Bundle.entry.resource.ofType(Patient).id`.
        #[arg(long, value_name = "EXPR")]
        fhirpath: Option<String>,
        /// auto: colour when writing to a terminal and NO_COLOR is not set.
        #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
        color: String,
    },
    /// Print a shell completion script (it also completes request paths and environment
    /// names from the workspace). Bash: `source <(fhirside completions bash)`.
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish", "elvish", "powershell"])]
        shell: String,
    },
    /// Print the man page (roff): `fhirside man | man -l -`.
    Man,
    /// Print the token an environment's requests send, decoded and explained (--raw: the
    /// token itself, for curl).
    Token {
        #[arg(long = "env", id = "token_env")]
        token_env: Option<String>,
        /// Print the token itself.
        #[arg(long)]
        raw: bool,
    },
    /// Make a key pair for signed client assertions, and the certificate (Entra) or JWKS
    /// (SMART) to register.
    Keygen {
        /// Which server the key is for.
        #[arg(long = "for", value_enum)]
        key_for: super::keygen::KeyFor,
        /// SMART: ES384 (default) or RS384; Entra: PS256 (default) or RS256.
        #[arg(long)]
        alg: Option<String>,
        /// Folder for the files (default: keys/ in the user's config folder).
        #[arg(long, value_hint = clap::ValueHint::DirPath)]
        out: Option<PathBuf>,
        /// File name stem.
        #[arg(long, default_value = "fhirside")]
        name: String,
        /// Certificate lifetime (Entra).
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Run the built-in demo FHIR service and Entra stand-in alone, for curl or other clients.
    DemoServer {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

#[derive(Args, Debug)]
pub struct RunCmd {
    /// The request: "Collection/Folder/Request".
    #[arg(add = ArgValueCompleter::new(complete::requests))]
    pub request: String,
    /// Environment to use (default: the only one, or the one active in the TUI's session).
    #[arg(long = "env", id = "run_env", add = ArgValueCompleter::new(complete::environments))]
    pub run_env: Option<String>,
    /// Set a variable for this run (wins over the environment): --var name=value.
    #[arg(long = "var", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    #[arg(long, value_enum, default_value = "body")]
    pub output: super::run::Output,
    /// Exit 1 when the answer is HTTP 400 or above.
    #[arg(long)]
    pub fail: bool,
    /// Send even when the environment's sign-in fails (without a token).
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Print the body as it came even when stdout is a terminal and it holds control bytes.
    #[arg(long)]
    pub raw: bool,
    /// Print what this FHIRPath expression selects from the body instead of the body
    /// (`--output body` only): `Bundle.entry.resource.name.family`.
    #[arg(long, value_name = "EXPR", conflicts_with = "all_pages")]
    pub fhirpath: Option<String>,
    /// Follow the Bundle's `next` links and write every entry's resource as NDJSON.
    #[arg(long)]
    pub all_pages: bool,
    /// With --all-pages: write the NDJSON here (created 0600) instead of stdout.
    #[arg(long, value_name = "FILE", requires = "all_pages", value_hint = clap::ValueHint::FilePath)]
    pub out: Option<PathBuf>,
    /// With --all-pages: stop after this many resources.
    #[arg(long, value_name = "N", requires = "all_pages")]
    pub max: Option<u64>,
}

#[derive(Args, Debug)]
pub struct ExportCmd {
    /// With --postman: the collection to write.
    #[arg(add = ArgValueCompleter::new(complete::collections))]
    pub collection: Option<String>,
    /// Where to write the Postman JSON.
    #[arg(long, value_name = "OUT.json", value_hint = clap::ValueHint::FilePath)]
    pub postman: Option<PathBuf>,
    /// The environment whose FHIR service exports (default: the only one, or the active one).
    #[arg(long = "env", id = "export_env", add = ArgValueCompleter::new(complete::environments))]
    pub export_env: Option<String>,
    /// Resource types (_type), comma separated or repeated.
    #[arg(long = "type")]
    pub types: Vec<String>,
    /// _since (a FHIR instant, e.g. 2024-01-01T00:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Export a Group's patients (Group/ID/$export).
    #[arg(long)]
    pub group: Option<String>,
    /// Export all patients' data (Patient/$export).
    #[arg(long)]
    pub patient: bool,
    /// _container (Azure: the storage container to write to).
    #[arg(long)]
    pub container: Option<String>,
    /// _typeFilter, repeatable.
    #[arg(long)]
    pub type_filter: Vec<String>,
    /// _anonymizationConfig: Azure's de-identified export with the configuration NAME from the
    /// storage account's `anonymization` container (system level only; needs --container).
    #[arg(long, value_name = "NAME")]
    pub anonymization_config: Option<String>,
    /// _anonymizationConfigEtag: the configuration blob's ETag, to pin its version.
    #[arg(long, value_name = "ETAG", requires = "anonymization_config")]
    pub anonymization_config_etag: Option<String>,
    /// Poll until the job ends, printing a progress line at each poll (on stderr).
    #[arg(long)]
    pub wait: bool,
    /// Download the files into DIR when done (implies --wait; DIR is checked first).
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub download: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum JobCmd {
    /// Follow a job's status URL to its end: exit 0 done, 1 failed or cancelled, 2 could not
    /// watch. The result goes to stdout, progress to stderr.
    Watch {
        status_url: String,
        #[arg(long = "env", add = ArgValueCompleter::new(complete::environments))]
        env: String,
    },
    /// The workspace's jobs: operation, state, kick-off time, environment, status URL.
    List,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("'{s}' is not name=value")),
    }
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn vars_are_name_value() {
        assert_eq!(parse_var("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_var("=x").is_err());
    }
}
