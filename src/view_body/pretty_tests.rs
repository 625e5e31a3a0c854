//! Tests of the pretty-printer and of the pretty lines it builds.

use super::*;

fn pp(s: &str) -> String {
    pretty_json(s.as_bytes()).unwrap()
}

#[test]
fn formats_like_serde() {
    let src = r#"{"a":1,"b":[true,false,null,{},[]],"c":{"d":"x\"y\u00e9","e":-1.5e+3}}"#;
    let v: serde_json::Value = serde_json::from_str(src).unwrap();
    let compact = serde_json::to_string(&v).unwrap();
    assert_eq!(pp(&compact), serde_json::to_string_pretty(&v).unwrap());
    // Escapes and numbers are copied verbatim, not normalised.
    assert!(pp(src).contains(r#""x\"y\u00e9""#));
    assert!(pp(src).contains("-1.5e+3"));
}

#[test]
fn whitespace_in_input_is_normalised() {
    assert_eq!(pp(" [ 1 ,\n\t2 ]\r\n "), "[\n  1,\n  2\n]");
    assert_eq!(pp("{ }"), "{}");
    assert_eq!(pp("[ \n ]"), "[]");
    assert_eq!(pp("\"s\""), "\"s\"");
    assert_eq!(pp("\u{feff}{\"a\" : [ ]}"), "{\n  \"a\": []\n}");
}

#[test]
fn errors_have_positions() {
    let e = pretty_json(b"{\"a\":1,}").unwrap_err();
    assert_eq!((e.offset, e.line, e.column), (7, 1, 8));
    let e = pretty_json(b"[1,\n  2\n  x]").unwrap_err();
    assert_eq!((e.line, e.column), (3, 3));
    let e = pretty_json(b"[1] 2").unwrap_err();
    assert!(e.message.contains("trailing"));
    let e = pretty_json("[\"é\", x]".as_bytes()).unwrap_err();
    assert_eq!(e.column, 7);
    assert!(pretty_json(b"").is_err());
    assert!(pretty_json(b"  ").is_err());
    assert!(pretty_json(b"01").is_err());
    assert!(pretty_json(b"1.").is_err());
    assert!(pretty_json(b"-").is_err());
    assert!(pretty_json(b"1e").is_err());
    assert!(pretty_json(b"\"\\x\"").is_err());
    assert!(pretty_json(b"\"\\u12g4\"").is_err());
    assert!(pretty_json(b"\"a\nb\"").is_err());
    assert!(pretty_json(b"[\"\xff\"]").is_err());
    assert!(pretty_json(b"tru").is_err());
    assert!(pretty_json(b"{\"a\" 1}").is_err());
    assert!(pretty_json(b"{1:2}").is_err());
    let e = pretty_json(b"[1,\xff x]").unwrap_err();
    assert_eq!(e.message, "invalid UTF-8");
    let e = pretty_json(b"[x, \xff]").unwrap_err();
    assert_ne!(e.message, "invalid UTF-8");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let s = "[".repeat(100_000);
    assert!(pretty_json(s.as_bytes()).is_err());
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(pretty_json(ok.as_bytes()).is_ok());
    // MAX_DEPTH counts non-empty containers; the innermost `[]` is free.
    let bad = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
    assert!(pretty_json(bad.as_bytes()).is_err());
}

#[test]
fn index_matches_fresh_index() {
    let src = br#"{"a":[1,2,{"b":null}],"c":{}}"#;
    let want = pretty_json(src).unwrap();
    let shared = Bytes::from_static(src);
    let bodies = [
        pretty_json_body(src).unwrap(),
        pretty_json_body_shared(&shared, None).unwrap(),
    ];
    for body in bodies {
        assert_same_lines(&body, &want);
    }
}

/// `body` holds the pretty text `want`, line for line.
fn assert_same_lines(body: &BodyText, want: &str) {
    let fresh = LineIndex::new(want);
    assert!(body.is_pretty_json());
    assert_eq!(body.text(), want);
    assert_eq!(body.len(), want.len());
    assert_eq!(body.line_count(), fresh.len());
    for n in 0..fresh.len() {
        assert_eq!(body.line(n), fresh.line(want, n));
    }
}

#[test]
fn preview_stops_early() {
    let src = br#"{"a":[1,2,3,4,5,6,7,8,9]}"#;
    let p = pretty_json_preview(src, 4);
    assert!(!p.complete);
    assert_eq!(p.text, "{\n  \"a\": [\n    1,\n    2,");
    let full = pretty_json_preview(src, 1000);
    assert!(full.complete);
    assert_eq!(full.text, pretty_json(src).unwrap());
    let bad = pretty_json_preview(b"[1, ?]", 1000);
    assert!(bad.error.is_some());
}

#[test]
fn ndjson_reports_bad_lines() {
    let src = b"{\"a\":1}\n\n{\"b\":}\r\n[1]\n{\n";
    let errs = check_ndjson(src);
    assert_eq!(errs.len(), 2);
    assert_eq!(errs[0].0, 3);
    assert_eq!(errs[0].1.line, 3);
    assert_eq!(errs[0].1.column, 6);
    assert_eq!(errs[1].0, 5);
    assert!(check_ndjson(b"{}\r\n{}\r\n").is_empty());
}

/// Every way of building the pretty body gives the same lines as the whole pretty text.
#[test]
fn stripped_and_borrowed_lines_equal_the_pretty_text() {
    let compact = crate::view_body::generate_observations(30);
    let spaced = pretty_json(compact.as_bytes()).unwrap();
    let inputs: Vec<(Vec<u8>, bool)> = vec![
        (compact.clone().into_bytes(), true),
        (spaced.clone().into_bytes(), false),
        (format!("\u{feff}{compact}").into_bytes(), true),
        (format!("{compact}\n").into_bytes(), false),
        (br#"{"k\"ey":{"a":[],"b":{}},"\\":"x:y"}"#.to_vec(), true),
        (b"\"a scalar\"".to_vec(), true),
        (b" [1 ,2]".to_vec(), false),
    ];
    for (input, expect_borrowed) in inputs {
        let want = pretty_json(&input).unwrap();
        let shared = Bytes::from(input.clone());
        let borrowed = pretty_json_body_shared(&shared, None).unwrap();
        let content = borrowed.pretty_content().unwrap();
        // A compact body is not copied: the lines are the received bytes.
        let offset = (content.as_ptr() as usize).wrapping_sub(shared.as_ptr() as usize);
        let borrowed_here = offset <= 3 && content.len() + 3 >= shared.len();
        assert_eq!(
            borrowed_here,
            expect_borrowed,
            "{}",
            String::from_utf8_lossy(&input)
        );
        for body in [
            pretty_json_body(&input).unwrap(),
            pretty_json_body_shared(&shared, None).unwrap(),
        ] {
            assert_same_lines(&body, &want);
        }
    }
}

#[test]
fn shared_bodies_report_the_same_errors() {
    for bad in [
        &b"{\"a\":1,}"[..],
        b"[1,\n  2\n  x]",
        b"[1] 2",
        b"[1,\xff x]",
        b"{\"a\" 1}",
    ] {
        let shared = Bytes::copy_from_slice(bad);
        assert_eq!(
            pretty_json_body_shared(&shared, None).unwrap_err(),
            pretty_json_body(bad).unwrap_err()
        );
        assert_eq!(
            pretty_json_body(bad).unwrap_err(),
            pretty_json(bad).unwrap_err()
        );
    }
}
