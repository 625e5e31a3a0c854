//! Property tests across the module.

use super::*;
use proptest::prelude::*;
use serde_json::Value;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        "[\"\\\\\n\t\u{0}-\u{1f}é𝄞a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"\\\\é ]{0,6}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Re-serialise `v` compactly with arbitrary (valid) JSON whitespace mixed in.
fn with_whitespace(v: &Value, ws: &mut impl Iterator<Item = u8>, out: &mut String) {
    let space = |out: &mut String, ws: &mut dyn Iterator<Item = u8>| {
        let k = ws.next().unwrap_or(0);
        for _ in 0..(k % 3) {
            out.push([' ', '\n', '\t', '\r'][(k as usize / 3) % 4]);
        }
    };
    match v {
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                space(out, ws);
                with_whitespace(x, ws, out);
                space(out, ws);
            }
            space(out, ws);
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                space(out, ws);
                out.push_str(&serde_json::to_string(k).unwrap());
                space(out, ws);
                out.push(':');
                space(out, ws);
                with_whitespace(x, ws, out);
                space(out, ws);
            }
            out.push('}');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

fn reference_spans(body: &BodyText) -> Vec<Vec<Span>> {
    let mut st = JsonLineState::default();
    (0..body.line_count())
        .map(|l| highlight_json_line(&body.line(l), &mut st))
        .collect()
}

fn check_cover(body: &BodyText, spans: &[Vec<Span>], first_line: usize) {
    for (k, line_spans) in spans.iter().enumerate() {
        let line = body.line(first_line + k);
        let mut pos = 0;
        for s in line_spans {
            assert_eq!(s.range.start, pos);
            assert!(s.range.end > s.range.start);
            assert!(line.get(s.range.clone()).is_some());
            pos = s.range.end;
        }
        assert_eq!(pos, line.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn pretty_is_exact(v in arb_json(), ws in prop::collection::vec(any::<u8>(), 0..64)) {
        let compact = serde_json::to_string(&v).unwrap();
        let pretty = pretty_json(compact.as_bytes()).unwrap();
        prop_assert_eq!(&pretty, &serde_json::to_string_pretty(&v).unwrap());
        let a: Value = serde_json::from_str(&pretty).unwrap();
        let b: Value = serde_json::from_str(&compact).unwrap();
        prop_assert_eq!(a, b);
        // Idempotent, and whitespace in the input does not matter.
        prop_assert_eq!(pretty_json(pretty.as_bytes()).unwrap(), pretty.clone());
        let mut spaced = String::new();
        let mut it = ws.into_iter().cycle();
        with_whitespace(&v, &mut it, &mut spaced);
        prop_assert_eq!(pretty_json(spaced.as_bytes()).unwrap(), pretty.clone());
        // The body built in the same pass has a correct index.
        let body = pretty_json_body(compact.as_bytes()).unwrap();
        let std_lines: Vec<&str> = pretty.lines().collect();
        prop_assert_eq!(body.line_count(), std_lines.len());
        for (n, l) in std_lines.iter().enumerate() {
            prop_assert_eq!(body.line(n), *l);
        }
        prop_assert!(validate_json(compact.as_bytes()).is_ok());
        // Preview of the whole thing equals the full output.
        let p = pretty_json_preview(compact.as_bytes(), usize::MAX);
        prop_assert!(p.complete);
        prop_assert_eq!(p.text, pretty);
    }

    #[test]
    fn malformed_never_panics(v in arb_json(), edits in prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..4)) {
        let mut bytes = serde_json::to_string(&v).unwrap().into_bytes();
        for (pos, b, op) in edits {
            let len = bytes.len();
            let p = if len == 0 { 0 } else { pos % (len + 1) };
            let b = b"{}[]:,\"\\ 0-e.tnf\xff\xc3x"[b as usize % 19];
            match op {
                0 => bytes.insert(p, b),
                1 if p < len => { bytes.remove(p); }
                _ => if p < len { bytes[p] = b },
            }
        }
        let ours = pretty_json(&bytes);
        let serde: Result<Value, _> = serde_json::from_slice(&bytes);
        if let Ok(sv) = &serde {
            let pretty = ours.as_ref().expect("serde accepted but we rejected");
            let pv: Value = serde_json::from_str(pretty).unwrap();
            prop_assert_eq!(&pv, sv);
        }
        if let Err(e) = &ours {
            prop_assert!(e.offset <= bytes.len());
            prop_assert!(e.line >= 1 && e.column >= 1);
            prop_assert!(validate_json(&bytes).is_err());
        } else {
            prop_assert!(validate_json(&bytes).is_ok());
        }
        let _ = pretty_json_preview(&bytes, 7);
        let _ = check_ndjson(&bytes);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = BodyText::new(text);
        let mut h = LazyHighlighter::new(BodyKind::Json);
        let spans = h.spans_for_lines(&body, 0..body.line_count());
        check_cover(&body, &spans, 0);
        let _ = FoldRegions::compute(&body);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = pretty_json(&bytes);
        let _ = pretty_json_preview(&bytes, 3);
        let _ = check_ndjson(&bytes);
        let _ = detect_kind(None, &bytes);
        let _ = hex_preview(&bytes, 64);
    }

    #[test]
    fn lazy_equals_reference(
        frags in prop::collection::vec(prop_oneof![
            Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just(" "),
            Just("\n"), Just("\r\n"), Just("\""), Just("\\"), Just("\\\""), Just("\"key\": "),
            Just("\"multi\nline\n string\""), Just("12.5e-3"), Just("true"), Just("null"),
            Just("é"), Just("bogus"),
        ], 0..400),
        windows in prop::collection::vec((0usize..150, 0usize..60), 1..6),
    ) {
        let text: String = frags.concat();
        let body = BodyText::new(text);
        let want = reference_spans(&body);
        check_cover(&body, &want, 0);
        // One highlighter reused across windows (checkpoints from earlier
        // windows are reused) and a fresh one per window.
        let mut shared = LazyHighlighter::new(BodyKind::Json);
        for (a, len) in windows {
            let end = (a + len).min(body.line_count());
            let start = a.min(end);
            let got = shared.spans_for_lines(&body, a..a + len);
            prop_assert_eq!(&got[..], &want[start..end]);
            let mut fresh = LazyHighlighter::new(BodyKind::Json);
            prop_assert_eq!(&fresh.spans_for_lines(&body, a..a + len)[..], &want[start..end]);
        }
        // Capped highlighting keeps states identical to uncapped.
        let mut capped = LazyHighlighter::new(BodyKind::Json).with_max_line_bytes(5);
        let got = capped.spans_for_lines(&body, 0..body.line_count());
        check_cover(&body, &got, 0);
    }

    #[test]
    fn lazy_on_pretty_body_equals_reference(v in arb_json(), a in 0usize..200, len in 0usize..50) {
        let compact = serde_json::to_string(&v).unwrap();
        let body = pretty_json_body(compact.as_bytes()).unwrap();
        let want = reference_spans(&body);
        let mut h = LazyHighlighter::new(BodyKind::Json);
        let end = (a + len).min(body.line_count());
        let start = a.min(end);
        prop_assert_eq!(&h.spans_for_lines(&body, a..a + len)[..], &want[start..end]);
    }

    #[test]
    fn line_index_matches_std(s in "[a\r\né\n]{0,60}") {
        let idx = LineIndex::new(&s);
        let ours: Vec<&str> = (0..idx.len()).map(|n| idx.line(&s, n)).collect();
        let std: Vec<&str> = s.lines().collect();
        prop_assert_eq!(ours, std);
    }

    #[test]
    fn fold_map_matches_naive(v in arb_json(), picks in prop::collection::vec(any::<usize>(), 0..8)) {
        let compact = serde_json::to_string(&v).unwrap();
        let body = pretty_json_body(compact.as_bytes()).unwrap();
        let fr = FoldRegions::compute(&body);
        let n = body.line_count();
        let regions: Vec<_> = fr.regions().collect();
        let folded: Vec<usize> = if regions.is_empty() {
            vec![]
        } else {
            picks.iter().map(|p| regions[p % regions.len()].start).collect()
        };
        let fm = FoldMap::new(&fr, folded.iter().copied(), n);
        let mut hidden = vec![false; n];
        for &s in &folded {
            let r = fr.region_at(s).unwrap();
            for h in hidden.iter_mut().take(r.end + 1).skip(s + 1) {
                *h = true;
            }
        }
        let visible: Vec<usize> = (0..n).filter(|&l| !hidden[l]).collect();
        prop_assert_eq!(fm.row_count(), visible.len());
        for (r, &l) in visible.iter().enumerate() {
            prop_assert_eq!(fm.line_for_row(r), Some(l));
            prop_assert_eq!(fm.row_for_line(l), r);
        }
        for (l, &h) in hidden.iter().enumerate() {
            prop_assert_eq!(fm.is_hidden(l), h);
        }
        // Regions match brackets exactly on pretty text.
        for r in regions {
            let open = body.line(r.start);
            let open = open.trim_end();
            let close = body.line(r.end);
            let close = close.trim_start();
            let o = open.chars().last().unwrap();
            let c = close.chars().next().unwrap();
            let paired = (o == '{' && c == '}') || (o == '[' && c == ']');
            prop_assert!(paired, "unpaired region {:?}", r);
            prop_assert_eq!(
                open.len() - open.trim_start().len(),
                body.line(r.end).len() - close.len()
            );
        }
    }
}
