//! Tests of `job.rs`: kick-off requests and the interpretation of status answers.
use super::*;

fn params(scope: ExportScope) -> ExportParams {
    ExportParams {
        scope,
        ..Default::default()
    }
}

#[test]
fn kickoff_urls_and_headers() {
    let r = kickoff_request("http://h/fhir/", &params(ExportScope::System));
    assert_eq!(r.url, "http://h/fhir/$export");
    assert_eq!(r.method, "GET");
    assert!(
        r.headers
            .contains(&("Accept".into(), "application/fhir+json".into()))
    );
    assert!(
        r.headers
            .contains(&("Prefer".into(), "respond-async".into()))
    );
    assert!(!r.headers.iter().any(|(k, _)| k == "Authorization"));
    assert_eq!(
        kickoff_request("http://h", &params(ExportScope::Patient)).url,
        "http://h/Patient/$export"
    );
    assert_eq!(
        kickoff_request("http://h", &params(ExportScope::Group("a b/c".into()))).url,
        "http://h/Group/a%20b%2Fc/$export"
    );
    let p = ExportParams {
        scope: ExportScope::Group("demo-cohort".into()),
        types: vec!["Patient".into(), " Observation ".into(), "".into()],
        since: Some("2024-01-01T00:00:00Z".into()),
        type_filter: vec!["Observation?code=8867-4".into()],
        container: Some("exports".into()),
        output_format: Some("application/fhir+ndjson".into()),
        insecure: false,
        ..Default::default()
    };
    let r = kickoff_request("http://h", &p);
    let u = url::Url::parse(&r.url).unwrap();
    assert_eq!(u.path(), "/Group/demo-cohort/$export");
    let q: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    assert_eq!(
        q,
        vec![
            ("_type".into(), "Patient,Observation".into()),
            ("_since".into(), "2024-01-01T00:00:00Z".into()),
            ("_typeFilter".into(), "Observation?code=8867-4".into()),
            ("_container".into(), "exports".into()),
            ("_outputFormat".into(), "application/fhir+ndjson".into()),
        ]
    );
}

#[test]
fn anonymized_export_is_system_level_with_a_container() {
    use crate::workspace::export_job::anonymization_problem;
    let anon = |scope| ExportParams {
        scope,
        container: Some("deid".into()),
        anonymization_config: Some("safe-harbor.json".into()),
        anonymization_config_etag: Some("\"0x8D9\"".into()),
        ..Default::default()
    };
    let p = anon(ExportScope::System);
    assert_eq!(anonymization_problem(&p), None);
    let u = url::Url::parse(&kickoff_request("http://h", &p).url).unwrap();
    let q: Vec<(String, String)> = u.query_pairs().into_owned().collect();
    assert_eq!(
        q,
        vec![
            ("_container".into(), "deid".into()),
            ("_anonymizationConfig".into(), "safe-harbor.json".into()),
            ("_anonymizationConfigEtag".into(), "\"0x8D9\"".into()),
        ]
    );
    for scope in [ExportScope::Patient, ExportScope::Group("g".into())] {
        let why = anonymization_problem(&anon(scope)).expect("refused");
        assert!(why.contains("system level only"), "{why}");
    }
    let no_container = ExportParams {
        container: None,
        ..anon(ExportScope::System)
    };
    assert!(
        anonymization_problem(&no_container)
            .unwrap()
            .contains("_container")
    );
    let etag_only = ExportParams {
        anonymization_config: Some(" ".into()),
        ..anon(ExportScope::System)
    };
    assert!(
        anonymization_problem(&etag_only)
            .unwrap()
            .contains("_anonymizationConfig")
    );
    assert_eq!(
        anonymization_problem(&params(ExportScope::Group("g".into()))),
        None
    );
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        spool: None,
        status,
        reason: String::new(),
        version: "HTTP/1.1".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec().into(),
        elapsed: Duration::ZERO,
        final_url: "http://h/status/1".into(),
    }
}

fn job() -> ExportJob {
    ExportJob::accepted(
        "e",
        "http://h/$export",
        "http://h/status/1",
        Default::default(),
    )
}

#[test]
fn status_answers() {
    let now = SystemTime::now();
    let mut j = job();
    let r = interpret(
        &mut j,
        &response(202, &[("X-Progress", "42%"), ("Retry-After", "2")], ""),
        now,
    );
    assert_eq!(r, PollResult::Running);
    assert_eq!(j.state, JobState::InProgress);
    assert_eq!(j.progress, Some(Progress::Percent(42.0)));
    assert_eq!(j.next_poll_at, Some(now + Duration::from_secs(2)));

    // Azure-like bare 202: no progress invented, our own pace.
    let r = interpret(&mut j, &response(202, &[], ""), now);
    assert_eq!(r, PollResult::Running);
    assert_eq!(j.progress, None);
    let wait = j.next_poll_at.unwrap().duration_since(now).unwrap();
    assert!(wait >= Duration::from_secs(1));

    let oo = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled","diagnostics":"Too many requests"}]}"#;
    let r = interpret(&mut j, &response(429, &[("Retry-After", "1")], oo), now);
    assert!(matches!(r, PollResult::Throttled(ref m) if m.contains("Too many requests")));
    assert_eq!(j.state, JobState::InProgress);
    assert!(j.last_error.is_some());
    let r = interpret(&mut j, &response(502, &[], "<html>Bad gateway</html>"), now);
    assert!(matches!(r, PollResult::Throttled(_)));
    let transient500 = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient","diagnostics":"busy"}]}"#;
    assert!(matches!(
        interpret(&mut j, &response(500, &[], transient500), now),
        PollResult::Throttled(_)
    ));
    // A good answer clears the shown error.
    interpret(&mut j, &response(202, &[], ""), now);
    assert_eq!(j.last_error, None);

    assert_eq!(
        interpret(&mut j, &response(401, &[], ""), now),
        PollResult::Unauthorized
    );
    assert_eq!(j.state, JobState::InProgress);

    let failed = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"storage unreachable"}]}"#;
    let r = interpret(&mut j, &response(500, &[], failed), now);
    assert!(matches!(r, PollResult::Failed(ref m) if m.contains("storage unreachable")));
    assert_eq!(j.state, JobState::Failed);
    assert!(
        j.outcome
            .as_deref()
            .unwrap_or("")
            .contains("error: storage unreachable")
    );
    assert_eq!(j.next_poll_at, None);
}

#[test]
fn completion_and_odd_manifests() {
    let now = SystemTime::now();
    let mut j = job();
    let r = interpret(
        &mut j,
        &response(
            200,
            &[],
            r#"{"transactionTime":"t","output":[{"type":"Patient","url":"http://h/p.ndjson","count":3}]}"#,
        ),
        now,
    );
    assert_eq!(r, PollResult::Complete);
    assert_eq!(j.state, JobState::Complete);
    assert_eq!(j.manifest.as_ref().map(|m| m.output.len()), Some(1));
    let mut j = job();
    let r = interpret(&mut j, &response(200, &[], "not json"), now);
    assert!(matches!(r, PollResult::Failed(ref m) if m.contains("not json")));
    let mut j = job();
    assert!(matches!(
        interpret(&mut j, &response(404, &[], ""), now),
        PollResult::Failed(_)
    ));
    let mut j = job();
    j.state = JobState::Cancelled;
    assert_eq!(
        interpret(&mut j, &response(404, &[], ""), now),
        PollResult::Gone
    );
}
