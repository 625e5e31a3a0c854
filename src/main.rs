//! `fhirside`: picks the full-screen workbench or a headless command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use fhirside::app::App;
use fhirside::tui::event_loop::{self, LoopOptions};
use fhirside::ui::Theme;
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
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fhirside: could not start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fhirside: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let dir = resolve_workspace_dir(cli.workspace.as_deref(), &cwd);
    let (mut store, mut ws, problems) = Store::load(&dir);
    if problems.is_empty() {
        seed_if_new(&mut store, &mut ws)?;
    }
    match cli.command {
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
            Ok(std::process::ExitCode::SUCCESS)
        }
        None => {
            let app = App::new(store, ws, problems, cli.env);
            let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
            let handle = worker::spawn(events_tx);
            event_loop::run(
                app,
                Theme::dark(),
                handle,
                events_rx,
                LoopOptions {
                    mouse: !cli.no_mouse,
                },
            )
            .await?;
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}
