//! The headless commands: one module per verb, parsing in `args`, the exit-code convention in
//! `exit`, and every line they print through `out`. `main.rs` only parses and dispatches here
//! (and starts the TUI).
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod args;
pub mod bulk;
pub mod check;
pub mod complete;
pub mod demo;
pub mod duration;
pub mod exit;
pub mod fhirpath;
pub mod fmt;
pub mod history;
pub mod import;
pub mod jobs;
pub mod json;
pub mod keygen;
pub mod list;
pub mod open;
pub mod out;
pub mod pages;
pub mod run;
pub mod schema;
pub mod serve;
pub mod token;

use args::{Cli, Cmd};
use exit::{CliError, CliResult, Exit};
use open::{OpenOptions, Opened, open_workspace};
use out::Stdout;

/// Runs a headless command; the exit code follows [`exit::Exit`]. Errors are printed here.
pub async fn dispatch(cli: &Cli, command: Cmd) -> Exit {
    let mut stdout = Stdout::new();
    match command_result(cli, command, &mut stdout).await {
        Ok(code) => code,
        Err(e) => exit::report(&e),
    }
}

/// How clap's own errors end: help and version on stdout with 0, usage errors with 64.
pub fn parse_error(e: clap::Error) -> Exit {
    // Printing help to a closed pipe is not worth a panic or a message.
    let _ = e.print();
    if e.use_stderr() {
        Exit::Usage
    } else {
        Exit::Ok
    }
}

async fn command_result(cli: &Cli, command: Cmd, stdout: &mut Stdout) -> CliResult {
    // Commands without a workspace.
    match &command {
        Cmd::Init { dir } => return open::init(dir.as_deref(), cli.workspace.as_deref()),
        Cmd::Fmt {
            file,
            compact,
            fhirpath,
            color,
        } => {
            let args = fmt::FmtArgs {
                file: file.clone(),
                compact: *compact,
                fhirpath: fhirpath.clone(),
                color: color.clone(),
            };
            return fmt::run(&args, stdout);
        }
        Cmd::Completions { shell } => {
            let mut buf = Vec::new();
            complete::registration(shell, &mut buf).map_err(CliError::Usage)?;
            stdout.data(&buf)?;
            stdout.flush()?;
            return Ok(Exit::Ok);
        }
        Cmd::Man => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(args::command())
                .render(&mut buf)
                .map_err(|e| CliError::Failed(format!("the man page did not render: {e}")))?;
            stdout.data(&buf)?;
            stdout.flush()?;
            return Ok(Exit::Ok);
        }
        Cmd::DemoServer { port } => return serve::run(*port, &cli.demo_args, stdout).await,
        Cmd::Keygen {
            key_for,
            alg,
            out: dir,
            name,
            days,
        } => {
            let args = keygen::KeygenArgs {
                key_for: *key_for,
                algorithm: alg.clone(),
                dir: dir
                    .clone()
                    .unwrap_or_else(|| crate::workspace::location::user_config_dir().join("keys")),
                name: name.clone(),
                days: *days,
            };
            let report = keygen::run(&args).map_err(CliError::Failed)?;
            stdout.text(report.text)?;
            stdout.flush()?;
            return Ok(Exit::Ok);
        }
        _ => {}
    }
    let opened = open_workspace(OpenOptions {
        workspace: cli.workspace.as_deref(),
        env: cli.env.as_deref(),
        demo: cli.demo.then_some(&cli.demo_args),
        seed: false,
    })
    .await?;
    let mut opened = opened;
    let result = with_workspace(command, &mut opened, stdout).await;
    let Opened {
        server, temp_dir, ..
    } = opened;
    if let Some(s) = server {
        s.shutdown().await;
    }
    drop(temp_dir);
    result
}

async fn with_workspace(command: Cmd, o: &mut Opened, stdout: &mut Stdout) -> CliResult {
    let root_buf = o.store.root().to_path_buf();
    let root = root_buf.as_path();
    match command {
        Cmd::List => list::run(&o.ws, &o.problems, stdout),
        Cmd::Job { cmd } => match cmd {
            args::JobCmd::Watch { status_url, env } => {
                jobs::watch(&o.ws, root, &env, &status_url, stdout).await
            }
            args::JobCmd::List => jobs::list(root, stdout),
        },
        Cmd::BulkDelete {
            env,
            target,
            hard,
            purge_history,
            exclude,
            remove_references,
            yes,
        } => {
            let args = jobs::BulkDeleteArgs {
                env,
                target,
                hard,
                purge_history,
                excluded_types: exclude
                    .iter()
                    .flat_map(|t| t.split(','))
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect(),
                remove_references,
                yes,
            };
            jobs::bulk_delete(&o.ws, root, args, stdout).await
        }
        Cmd::ImportData {
            import_env,
            inputs,
            mode,
            watch,
        } => {
            let args = jobs::ImportDataArgs {
                env: import_env,
                inputs,
                mode,
                watch,
            };
            jobs::import_data(&o.ws, root, args, stdout).await
        }
        Cmd::Check => check::run(root, stdout),
        Cmd::Run(r) => {
            if r.fhirpath.is_some() && !matches!(r.output, run::Output::Body) {
                return Err(CliError::Usage(
                    "--fhirpath selects from the body: use it with --output body (the default)"
                        .into(),
                ));
            }
            warn_problems(o);
            let env = open::choose_environment(
                &o.ws,
                root,
                r.run_env.as_deref().or(o.active_env.as_deref()),
            )
            .announce();
            if r.all_pages {
                let args = pages::PagesArgs {
                    request: r.request,
                    env,
                    vars: r.vars,
                    out: r.out,
                    max: r.max,
                    history_root: Some(root.to_path_buf()),
                };
                return pages::run(&o.ws, args, stdout).await;
            }
            let args = run::RunArgs {
                request: r.request,
                env,
                vars: r.vars,
                output: r.output,
                fail: r.fail,
                allow_unsigned: r.allow_unsigned,
                raw: r.raw,
                fhirpath: r.fhirpath,
                color: out::colour_wanted(stdout.is_terminal()),
                history_root: Some(root.to_path_buf()),
            };
            run::run(&o.ws, args, stdout).await
        }
        Cmd::Import { files } => {
            import::import_command(&mut o.store, &mut o.ws, files, stdout).await
        }
        Cmd::Export(e) => match e.postman {
            Some(postman) => {
                let Some(collection) = e.collection else {
                    return Err(CliError::Usage(
                        "name the collection to write with --postman".into(),
                    ));
                };
                import::export_postman(&o.ws, &collection, &postman).map_err(CliError::Failed)?;
                out::note(format_args!("wrote {}", postman.display()));
                Ok(Exit::Ok)
            }
            None => {
                warn_problems(o);
                let env = open::choose_environment(
                    &o.ws,
                    root,
                    e.export_env.as_deref().or(o.active_env.as_deref()),
                )
                .announce()
                .ok_or_else(|| {
                    CliError::Usage(
                        "bulk export needs --env NAME (or --postman OUT.json to write a collection)"
                            .into(),
                    )
                })?;
                let args = bulk::BulkArgs {
                    env,
                    types: e.types,
                    since: e.since,
                    group: e.group,
                    patient: e.patient,
                    container: e.container,
                    type_filter: e.type_filter,
                    anonymization_config: e.anonymization_config,
                    anonymization_config_etag: e.anonymization_config_etag,
                    wait: e.wait,
                    download: e.download,
                };
                bulk::run(&o.ws, root, args, stdout).await
            }
        },
        Cmd::History {
            limit,
            grep,
            json,
            show,
        } => {
            let args = history::HistoryArgs {
                limit,
                grep,
                json,
                show,
            };
            history::run(root, &args, stdout)
        }
        Cmd::Token { token_env, raw } => {
            let env = open::choose_environment(
                &o.ws,
                root,
                token_env.as_deref().or(o.active_env.as_deref()),
            )
            .announce()
            .ok_or_else(|| CliError::Usage("token needs --env NAME".into()))?;
            let args = token::TokenArgs { env, raw };
            let printed = token::run(&o.ws, &args, stdout.is_terminal())
                .await
                .map_err(CliError::Unreachable)?;
            for line in &printed.stderr {
                out::note(line);
            }
            // --raw is the token itself, byte for byte, for piping into curl.
            if raw {
                stdout.data(printed.stdout.as_bytes())?;
            } else {
                stdout.text(printed.stdout)?;
            }
            stdout.flush()?;
            Ok(Exit::Ok)
        }
        Cmd::Init { .. }
        | Cmd::Keygen { .. }
        | Cmd::Fmt { .. }
        | Cmd::Completions { .. }
        | Cmd::Man
        | Cmd::DemoServer { .. } => Ok(Exit::Ok),
    }
}

fn warn_problems(o: &Opened) {
    for p in &o.problems {
        out::warning(p);
    }
}
