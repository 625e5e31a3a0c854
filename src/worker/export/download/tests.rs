//! The download engine's unit tests.

use super::*;

#[test]
fn names_are_safe() {
    assert_eq!(
        file_name_for(
            "https://acct.blob.core.windows.net/c/job/Patient-1.ndjson",
            "x"
        ),
        "Patient-1.ndjson"
    );
    assert_eq!(
        file_name_for("http://h/files/Obs%20v2.ndjson?sig=abc", "x"),
        "Obs_v2.ndjson"
    );
    assert_eq!(
        file_name_for("http://h/a/..%2F..%2Fetc%2Fpasswd", "x"),
        "passwd"
    );
    assert_eq!(
        file_name_for("http://h/a/..%5C..%5Cboot.ini", "x"),
        "boot.ini"
    );
    assert_eq!(
        file_name_for("http://h/..", "Patient-1.ndjson"),
        "Patient-1.ndjson"
    );
    assert_eq!(file_name_for("http://h/.bashrc", "x"), "bashrc");
    assert_eq!(
        file_name_for("http://h/", "Patient-3.ndjson"),
        "Patient-3.ndjson"
    );
    assert_eq!(file_name_for("not a url", "../../x"), "x");
    assert_eq!(file_name_for("http://h/%2e%2e", "///"), "export.ndjson");
    assert!(file_name_for(&format!("http://h/{}", "a".repeat(500)), "x").len() <= 120);
}

#[test]
fn names_are_unique() {
    let m = Manifest {
        output: vec![
            ManifestOutput {
                type_: "Patient".into(),
                url: "http://h/1/Patient.ndjson".into(),
                count: None,
            },
            ManifestOutput {
                type_: "Patient".into(),
                url: "http://h/2/patient.ndjson".into(),
                count: None,
            },
            ManifestOutput {
                type_: "Observation".into(),
                url: "http://h/".into(),
                count: None,
            },
        ],
        error: vec![ManifestOutput {
            type_: "OperationOutcome".into(),
            url: "http://h/3/Patient.ndjson".into(),
            count: None,
        }],
        ..Default::default()
    };
    let names: Vec<String> = plan(&m, true).into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(
        names,
        [
            "Patient.ndjson",
            "patient-2.ndjson",
            "Observation-3.ndjson",
            "Patient-3.ndjson"
        ]
    );
    assert_eq!(plan(&m, false).len(), 3);
}

#[test]
fn content_ranges() {
    assert_eq!(
        content_range("bytes 100-199/200"),
        Some((Some(100), Some(200)))
    );
    assert_eq!(content_range("bytes 5-9/*"), Some((Some(5), None)));
    assert_eq!(content_range("bytes */42"), Some((None, Some(42))));
    assert_eq!(content_range("items 1-2/3"), None);
}

#[test]
fn lines_are_counted_as_chunks_arrive() {
    let text = b"{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}";
    for split in 0..text.len() {
        let mut c = LineCounter::default();
        let (a, b) = text.split_at(split);
        c.feed(a);
        c.feed(b);
        assert_eq!(c.total(), 3, "split at {split}");
    }
    let mut c = LineCounter::default();
    c.feed(b"{}\n");
    assert_eq!(c.total(), 1);
    c.feed(b"   ");
    assert_eq!(c.total(), 1, "a blank tail is not a line");
}

#[test]
fn backoff_doubles_with_jitter_up_to_a_ceiling() {
    let base = Duration::from_millis(500);
    for attempt in 1..40 {
        let d = backoff(base, attempt);
        let full = base
            .mul_f64(2f64.powi(attempt.saturating_sub(1).min(16) as i32))
            .min(MAX_BACKOFF);
        assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
    }
    assert!(backoff(base, 30) <= MAX_BACKOFF);
}

#[test]
fn lines_are_counted_without_blank_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    for (text, n) in [
        ("", 0),
        ("{}", 1),
        ("{}\n", 1),
        ("{}\n{}\n\n  \n{}", 3),
        ("{}\r\n{}\r\n", 2),
    ] {
        std::fs::write(&p, text).unwrap();
        assert_eq!(count_lines(&p).unwrap(), n, "{text:?}");
    }
}
