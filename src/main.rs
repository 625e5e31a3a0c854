//! `fhirside`: picks the full-screen workbench or a headless command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use fhirside::app::App;
use fhirside::cli::demo::{DEMO_ENV, DemoArgs, prepare_workspace};
use fhirside::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, DemoServer};
use fhirside::tui::event_loop::{self, LoopOptions};
use fhirside::worker;
use fhirside::workspace::Store;
use fhirside::workspace::location::resolve_workspace_dir;
use fhirside::workspace::seed::seed_if_new;

#[derive(Parser)]
#[command(
    name = "fhirside",
    version,
    about = "A keyboard-driven terminal workbench for FHIR servers"
)]
struct Cli {
    /// Workspace folder (default: ./.fhirside if present, else ~/.config/fhirside).
    #[arg(long, global = true)]
    workspace: Option<PathBuf>,
    /// Environment to make active at start.
    #[arg(long)]
    env: Option<String>,
    /// Run against the built-in demo FHIR service (a temporary workspace unless --workspace).
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    demo_args: DemoArgs,
    /// Colour theme (built-in: dark, light, high-contrast, catppuccin-mocha, solarized-light,
    /// or one in the workspace's themes/); remembered when chosen from the palette.
    #[arg(long)]
    theme: Option<String>,
    /// Do not capture the mouse (keeps the terminal's own text selection).
    #[arg(long)]
    no_mouse: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// List collections, requests and environments of the workspace.
    List,
    /// Send a saved request and print the answer (exit 2 if it could not be sent).
    Run {
        /// The request: "Collection/Folder/Request".
        request: String,
        /// Environment to use.
        #[arg(long = "env", id = "run_env")]
        run_env: Option<String>,
        /// Set a variable for this run (wins over the environment): --var name=value.
        #[arg(long = "var", value_parser = parse_var)]
        vars: Vec<(String, String)>,
        #[arg(long, value_enum, default_value = "body")]
        output: fhirside::cli::run::Output,
        /// Exit 1 when the answer is HTTP 400 or above.
        #[arg(long)]
        fail: bool,
    },
    /// Import Postman collections or environments, REST Client .http files, or curl commands.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Bulk $export from an environment's FHIR service (--env), or, with --postman, a
    /// collection as a Postman v2.1 file (secrets are not exported).
    Export {
        /// With --postman: the collection to write.
        collection: Option<String>,
        /// Where to write the Postman JSON.
        #[arg(long, value_name = "OUT.json")]
        postman: Option<PathBuf>,
        /// The environment whose FHIR service exports.
        #[arg(long = "env", id = "export_env")]
        export_env: Option<String>,
        /// Resource types (_type), comma separated or repeated.
        #[arg(long = "type")]
        types: Vec<String>,
        /// _since (a FHIR instant, e.g. 2024-01-01T00:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// Export a Group's patients (Group/ID/$export).
        #[arg(long)]
        group: Option<String>,
        /// Export all patients' data (Patient/$export).
        #[arg(long)]
        patient: bool,
        /// _container (Azure: the storage container to write to).
        #[arg(long)]
        container: Option<String>,
        /// _typeFilter, repeatable.
        #[arg(long)]
        type_filter: Vec<String>,
        /// Poll until the job ends, printing a line at each poll.
        #[arg(long)]
        wait: bool,
        /// Download the files into DIR when done (implies --wait).
        #[arg(long, value_name = "DIR")]
        download: Option<PathBuf>,
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
    /// Pretty-print a JSON (or NDJSON) file fast, optionally highlighted.
    Fmt {
        file: PathBuf,
        /// auto: colour when writing to a terminal.
        #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
        color: String,
    },
    /// Run the built-in demo FHIR service and Entra stand-in alone, for curl or other clients.
    DemoServer {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fhirside: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fhirside: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(Cmd::DemoServer { port }) = cli.command {
        return demo_server(port, &cli.demo_args).await;
    }
    if let Some(Cmd::Fmt { file, color }) = &cli.command {
        return fmt_file(file, color);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    // The demo keeps its workspace in a temporary folder unless told otherwise.
    let temp_dir = if cli.demo && cli.workspace.is_none() {
        Some(tempfile::tempdir()?)
    } else {
        None
    };
    let dir = match &temp_dir {
        Some(t) => t.path().to_path_buf(),
        None => resolve_workspace_dir(cli.workspace.as_deref(), &cwd),
    };
    let (mut store, mut ws, problems) = Store::load(&dir);
    let mut server = None;
    let mut active_env = cli.env.clone();
    if cli.demo {
        let options = cli.demo_args.options().map_err(anyhow::Error::msg)?;
        let s = DemoServer::start(0, options).await?;
        prepare_workspace(&mut store, &mut ws, &s)?;
        active_env = active_env.or_else(|| Some(DEMO_ENV.to_string()));
        server = Some(s);
    } else if problems.is_empty() {
        seed_if_new(&mut store, &mut ws)?;
    }
    let code = match cli.command {
        Some(Cmd::List) => {
            for p in &problems {
                eprintln!("warning: {p}");
            }
            for env in &ws.environments {
                println!("environment  {}", env.name);
            }
            for (path, r) in ws.all_requests() {
                println!("request      {:<7} {}", r.spec.method, path.display());
            }
            ExitCode::SUCCESS
        }
        Some(Cmd::Run {
            request,
            run_env,
            vars,
            output,
            fail,
        }) => {
            for p in &problems {
                eprintln!("warning: {p}");
            }
            let args = fhirside::cli::run::RunArgs {
                request,
                env: run_env.or(active_env),
                vars,
                output,
                fail,
                color: fhirside::cli::run::want_color(),
                history_root: Some(store.root().to_path_buf()),
            };
            match fhirside::cli::run::run(&ws, args).await {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("fhirside: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some(Cmd::Import { files }) => {
            ExitCode::from(fhirside::cli::import::import_command(&mut store, &mut ws, files).await)
        }
        Some(Cmd::Export {
            collection,
            postman: Some(postman),
            ..
        }) => {
            let Some(collection) = collection else {
                eprintln!("fhirside: name the collection to write with --postman");
                return Ok(ExitCode::from(2));
            };
            match fhirside::cli::import::export_postman(&ws, &collection, &postman) {
                Ok(()) => {
                    println!("wrote {}", postman.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("fhirside: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Cmd::Export {
            export_env,
            types,
            since,
            group,
            patient,
            container,
            type_filter,
            wait,
            download,
            ..
        }) => {
            let Some(env) = export_env.or(active_env) else {
                eprintln!(
                    "fhirside: bulk export needs --env NAME (or --postman OUT.json to write a collection)"
                );
                return Ok(ExitCode::from(2));
            };
            let args = fhirside::cli::bulk::BulkArgs {
                env,
                types,
                since,
                group,
                patient,
                container,
                type_filter,
                wait,
                download,
            };
            match fhirside::cli::bulk::run(&ws, store.root(), args).await {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("fhirside: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some(Cmd::History {
            limit,
            grep,
            json,
            show,
        }) => {
            let args = fhirside::cli::history::HistoryArgs {
                limit,
                grep,
                json,
                show,
            };
            let mut out = String::new();
            match fhirside::cli::history::run(store.root(), &args, &mut out) {
                Ok(code) => {
                    print!("{out}");
                    ExitCode::from(code)
                }
                Err(e) => {
                    eprintln!("fhirside: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some(Cmd::DemoServer { .. }) | Some(Cmd::Fmt { .. }) => ExitCode::SUCCESS,
        None => {
            let mut app = App::new(store, ws, problems, active_env);
            let depth = fhirside::ui::theme_file::detect_color_depth(|k| std::env::var(k).ok());
            let theme_problems = app.init_themes(cli.theme.as_deref(), depth);
            app.init_keys(Some(&fhirside::workspace::location::user_config_dir()));
            if let Some(s) = &server {
                app.info(format!(
                    "Demo at {}: Enter opens a request, Ctrl-R sends it (sign-in is automatic); f finds patients; ? lists keys.",
                    s.fhir_url()
                ));
            }
            if !theme_problems.is_empty() {
                app.error(theme_problems.join(" · "));
            }
            let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
            let history = match fhirside::worker::history::open_workspace_history(
                app.store.root(),
                events_tx.clone(),
            ) {
                Ok(h) => h,
                Err(e) => {
                    app.history_problem = Some(e.clone());
                    app.error(e);
                    None
                }
            };
            app.history_enabled = history.is_some();
            let handle = worker::spawn_recording(events_tx, history.clone());
            event_loop::run(
                app,
                handle,
                events_rx,
                LoopOptions {
                    mouse: !cli.no_mouse,
                    history: history.clone(),
                    env_given: cli.env.is_some(),
                },
            )
            .await?;
            if let Some(h) = history {
                h.flush(std::time::Duration::from_secs(3));
            }
            ExitCode::SUCCESS
        }
    };
    if let Some(s) = server {
        s.shutdown().await;
    }
    Ok(code)
}

async fn demo_server(port: u16, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let options = args.options().map_err(anyhow::Error::msg)?;
    let server = DemoServer::start(port, options).await?;
    println!("fhirside demo FHIR service (a local stand-in, not Azure) is running.");
    println!("  FHIR base     {}", server.fhir_url());
    println!(
        "  authority     {}   (stands in for https://login.microsoftonline.com)",
        server.authority()
    );
    println!("  tenant id     {DEMO_TENANT_ID}");
    println!("  client id     {DEMO_CLIENT_ID}");
    println!("  client secret {DEMO_CLIENT_SECRET}");
    println!();
    println!("Try:");
    println!("  curl {}/metadata", server.fhir_url());
    println!(
        "  curl -d grant_type=client_credentials -d client_id={DEMO_CLIENT_ID} -d client_secret='{DEMO_CLIENT_SECRET}' -d resource={} {}/{DEMO_TENANT_ID}/oauth2/token",
        server.fhir_url(),
        server.authority()
    );
    println!("Ctrl-C stops it.");
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("'{s}' is not name=value")),
    }
}

/// `fhirside fmt`: the body viewer's pretty-printer as a command, for comparisons with `jq .`.
fn fmt_file(file: &std::path::Path, color: &str) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let color = match color {
        "always" => true,
        "never" => false,
        _ => fhirside::cli::run::want_color(),
    };
    let text = match fhirside::view_body::pretty_json(&bytes) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "fhirside: {}:{}:{}: {}",
                file.display(),
                e.line,
                e.column,
                e.message
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut out = std::io::stdout().lock();
    if color {
        let mut s = String::with_capacity(text.len() + text.len() / 2);
        fhirside::view_body::ansi::write_json_ansi(&text, &mut s);
        out.write_all(s.as_bytes())?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
