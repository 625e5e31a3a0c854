//! `fhirside demo-server`: the built-in demo service alone, for curl or other clients.

use super::demo::DemoArgs;
use super::exit::{CliError, CliResult, Exit};
use super::out::Stdout;
use crate::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_TENANT_ID, DemoServer};

pub async fn run(port: u16, args: &DemoArgs, stdout: &mut Stdout) -> CliResult {
    let options = args.options().map_err(CliError::Usage)?;
    let server = DemoServer::start(port, options)
        .await
        .map_err(|e| CliError::Failed(format!("the demo service did not start: {e}")))?;
    let fhir = server.fhir_url();
    let authority = server.authority();
    let text = format!(
        "fhirside demo FHIR service (a local stand-in, not Azure) is running.
  FHIR base     {fhir}
  authority     {authority}   (stands in for https://login.microsoftonline.com)
  tenant id     {DEMO_TENANT_ID}
  client id     {DEMO_CLIENT_ID}
  client secret {DEMO_CLIENT_SECRET}
  SMART token   {fhir}/smart/token   (Backend Services; register a JWKS with --smart-jwks)

Try:
  curl {fhir}/metadata
  curl -d grant_type=client_credentials -d client_id={DEMO_CLIENT_ID} -d client_secret='{DEMO_CLIENT_SECRET}' -d resource={fhir} {authority}/{DEMO_TENANT_ID}/oauth2/token
Ctrl-C stops it."
    );
    // A closed stdout does not stop the server: it runs until Ctrl-C either way.
    let _ = stdout.line(text).and_then(|()| stdout.flush());
    let stopped = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    stopped.map_err(|e| CliError::Failed(format!("waiting for Ctrl-C failed: {e}")))?;
    Ok(Exit::Ok)
}
