//! `fhirside`: parses the command line, then starts the full-screen workbench or hands a
//! headless command to `fhirside::cli`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::Parser;

use fhirside::cli::args::Cli;
use fhirside::cli::complete::COMPLETE_VAR;
use fhirside::cli::exit::report;
use fhirside::cli::open::{OpenOptions, Opened, open_workspace};
use fhirside::cli::out;

fn main() -> ExitCode {
    // `COMPLETE=bash fhirside -- …` (what the completion scripts run at each Tab) answers with
    // candidates and exits here.
    clap_complete::CompleteEnv::with_factory(fhirside::cli::args::command)
        .var(COMPLETE_VAR)
        .complete();
    let mut cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return fhirside::cli::parse_error(e).into(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            out::error(format_args!("could not start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let code = match cli.command.take() {
        Some(command) => runtime
            .block_on(fhirside::cli::dispatch(&cli, command))
            .into(),
        None => match runtime.block_on(tui(cli)) {
            Ok(code) => code,
            Err(e) => {
                out::error(format_args!("{e:#}"));
                ExitCode::FAILURE
            }
        },
    };
    // Everything worth keeping was awaited above. Dropping the runtime would wait for blocking
    // work nobody needs any more (the demo still generating its patients when q is pressed
    // early kept the process alive for seconds), so it gets a short grace, then is left.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

async fn tui(cli: Cli) -> anyhow::Result<ExitCode> {
    let opened = open_workspace(OpenOptions {
        workspace: cli.workspace.as_deref(),
        env: cli.env.as_deref(),
        demo: cli.demo.then_some(&cli.demo_args),
        seed: true,
    })
    .await;
    let Opened {
        store,
        ws,
        problems,
        active_env,
        server,
        temp_dir: _temp_dir,
    } = match opened {
        Ok(o) => o,
        Err(e) => return Ok(ExitCode::from(report(&e).code())),
    };
    // The workbench.
    fhirside::tui::run(fhirside::tui::Start {
        store,
        ws,
        problems,
        active_env,
        env_given: cli.env.is_some(),
        theme: cli.theme.clone(),
        mouse: !cli.no_mouse,
        demo_url: server.as_ref().map(|s| s.fhir_url()),
    })
    .await?;
    let code = ExitCode::SUCCESS;
    if let Some(s) = server {
        s.shutdown().await;
    }
    Ok(code)
}
