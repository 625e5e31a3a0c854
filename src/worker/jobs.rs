//! The worker's job commands: kick-off, watching, cancelling and downloading asynchronous jobs
//! (`export` does the protocol; this runs it on the worker's tasks with its tokens).

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::export::{self, TokenSource};
use super::{AuthPlan, Internal, NO_SIGN_IN, Worker, WorkerCommand, WorkerEvent};
use super::{credentials, guard, need_token};

/// What every job task needs: a client (the environment's TLS choice), the event channel, the
/// job's credential policy and its token source.
struct JobSetup {
    client: reqwest::Client,
    events: mpsc::UnboundedSender<WorkerEvent>,
    policy: credentials::CredentialPolicy,
    tokens: JobTokens,
}

impl Worker {
    fn job_setup(&mut self, insecure: bool, auth: Option<AuthPlan>, home_url: &str) -> JobSetup {
        JobSetup {
            client: self.client_for(insecure),
            events: self.events.clone(),
            policy: job_policy(auth.as_ref(), home_url),
            tokens: JobTokens {
                internal: self.internal_tx.clone(),
                plan: auth,
            },
        }
    }

    pub(super) fn handle_job(&mut self, cmd: WorkerCommand) {
        match cmd {
            WorkerCommand::WatchJob { job, auth } => {
                let stop = CancellationToken::new();
                if let Some(old) = self.watching.insert(job.id.clone(), stop.clone()) {
                    old.cancel();
                }
                let JobSetup {
                    client,
                    events,
                    policy,
                    mut tokens,
                } = self.job_setup(job.params.insecure, auth, &job.kickoff_url);
                tokio::spawn(async move {
                    let mut job = *job;
                    let watch =
                        export::wait_until_done(&client, &mut job, &policy, &mut tokens, |j, _| {
                            let _ = events.send(WorkerEvent::Job(Box::new(j.clone())));
                        });
                    tokio::select! {
                        _ = watch => {}
                        _ = stop.cancelled() => {}
                    }
                });
            }
            WorkerCommand::StartExport {
                env,
                base,
                params,
                auth,
            } => {
                let JobSetup {
                    client,
                    events,
                    policy,
                    mut tokens,
                } = self.job_setup(params.insecure, auth.clone(), &base);
                let internal = self.internal_tx.clone();
                tokio::spawn(async move {
                    let kickoff =
                        export::kickoff_with(&client, &env, &base, &params, &policy, &mut tokens);
                    let kicked = guard::guarded("The export kick-off", kickoff).await;
                    report_kickoff(kicked, &events, &internal, auth);
                });
            }
            WorkerCommand::StartOperation {
                env,
                base,
                start,
                insecure,
                auth,
            } => {
                let JobSetup {
                    client,
                    events,
                    policy,
                    mut tokens,
                } = self.job_setup(insecure, auth.clone(), &base);
                let internal = self.internal_tx.clone();
                tokio::spawn(async move {
                    let kickoff = export::start_with(
                        &client,
                        &env,
                        &base,
                        &start,
                        insecure,
                        &policy,
                        &mut tokens,
                    );
                    let kicked = guard::guarded("The kick-off", kickoff).await;
                    report_kickoff(kicked, &events, &internal, auth);
                });
            }
            WorkerCommand::CancelJob { job, auth } => {
                if let Some(stop) = self.watching.remove(&job.id) {
                    stop.cancel();
                }
                let JobSetup {
                    client,
                    events,
                    policy,
                    mut tokens,
                } = self.job_setup(job.params.insecure, auth, &job.kickoff_url);
                tokio::spawn(async move {
                    let mut job = *job;
                    // No sign-in for a status URL the token may not go to.
                    let token = match policy.status_url(&job.status_url) {
                        Ok(_) => tokens.token(None).await.ok().flatten(),
                        Err(_) => None,
                    };
                    let cancel = export::cancel(&client, &mut job, &policy, token.as_deref());
                    if let Err(e) = cancel.await {
                        job.last_error = Some(format!("Cancelling failed: {e}"));
                    }
                    let _ = events.send(WorkerEvent::Job(Box::new(job)));
                });
            }
            WorkerCommand::DownloadJob { job, dir, auth } => {
                let JobSetup {
                    client,
                    events,
                    policy,
                    mut tokens,
                } = self.job_setup(job.params.insecure, auth, &job.kickoff_url);
                tokio::spawn(async move {
                    let id = job.id.clone();
                    let opts = export::DownloadOptions::default();
                    let result = match &job.manifest {
                        None => Err("The job has no manifest yet.".to_string()),
                        Some(manifest) => {
                            // A token only when some file may have it.
                            let (token, storage) = export::tokens_for(
                                &mut tokens,
                                &policy,
                                manifest,
                                opts.include_error_files,
                            )
                            .await;
                            let creds = export::DownloadCredentials::with(
                                &policy,
                                token.as_deref(),
                                storage.as_ref(),
                            );
                            let ev = events.clone();
                            let job_id = id.clone();
                            let on_event = move |e: export::DownloadEvent| {
                                let _ = ev.send(WorkerEvent::Download {
                                    job: job_id.clone(),
                                    event: Box::new(e),
                                });
                            };
                            // The job's own folder holds patient data: private, also if it
                            // was made before.
                            match export::download::make_private(&dir).await {
                                Ok(()) => {
                                    export::download_all(
                                        &client, manifest, &dir, creds, &opts, &on_event,
                                    )
                                    .await
                                }
                                Err(e) => Err(e),
                            }
                            .map(Box::new)
                            .map_err(|e| format!("Download into {} failed: {e}", dir.display()))
                        }
                    };
                    let _ = events.send(WorkerEvent::DownloadDone { job: id, result });
                });
            }
            _ => {}
        }
    }
}

/// Tells the screen what a kick-off came to; an accepted job is watched from then on.
fn report_kickoff<E: std::fmt::Display>(
    kicked: Result<Result<export::ExportJob, E>, String>,
    events: &mpsc::UnboundedSender<WorkerEvent>,
    internal: &mpsc::UnboundedSender<Internal>,
    auth: Option<AuthPlan>,
) {
    match kicked {
        Err(panicked) => {
            let _ = events.send(WorkerEvent::ExportRefused(panicked));
        }
        Ok(Ok(job)) => {
            let _ = events.send(WorkerEvent::Job(Box::new(job.clone())));
            let _ = internal.send(Internal::Watch(Box::new(job), auth));
        }
        Ok(Err(e)) => {
            let _ = events.send(WorkerEvent::ExportRefused(e.to_string()));
        }
    }
}

/// The credential policy of a job: its environment's, or (no sign-in known) the origin of
/// `home_url` only (its kick-off URL or FHIR base).
pub(super) fn job_policy(plan: Option<&AuthPlan>, home_url: &str) -> credentials::CredentialPolicy {
    match plan {
        Some(p) => p.policy.clone(),
        None => credentials::CredentialPolicy::for_origin_of(home_url),
    }
}

/// Tokens for export polling and downloads, from the worker's per-environment cache.
pub(super) struct JobTokens {
    internal: mpsc::UnboundedSender<Internal>,
    plan: Option<AuthPlan>,
}

impl export::TokenSource for JobTokens {
    fn token(
        &mut self,
        refused: Option<&str>,
    ) -> impl std::future::Future<Output = Result<Option<String>, String>> + Send {
        let internal = self.internal.clone();
        let plan = self.plan.clone();
        let refused = refused.map(str::to_string);
        async move {
            match plan {
                None => Ok(None),
                Some(plan) => need_token(&internal, &plan, refused).await.map(Some),
            }
        }
    }

    /// A token for Azure Storage by the environment's own sign-in, cached apart from the FHIR
    /// token; `Err` says why there is none.
    async fn storage_token(&mut self) -> Result<String, String> {
        let plan = self.plan.as_ref().ok_or(NO_SIGN_IN)?;
        need_token(&self.internal, &plan.for_storage()?, None).await
    }
}
