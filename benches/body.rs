//! Response body viewer benchmarks on a ~50 MB FHIR searchset Bundle.
//!
//! Run: `cargo bench --bench body` (takes a couple of minutes).

// A measuring or generating tool: what it prints is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use fhirside::tui::bench::BodyBench;
use fhirside::view_body::{
    BodyKind, BodyText, FoldRegions, LazyHighlighter, LineIndex, SearchOptions, detect_kind,
    find_all, generate_searchset, pretty_json, pretty_json_body, pretty_json_preview,
    validate_json,
};
use std::hint::black_box;
use std::time::Duration;

const PATIENTS: usize = 20_000;
const VISIBLE: usize = 50;

fn bench(c: &mut Criterion) {
    let input = generate_searchset(PATIENTS);
    let bytes = input.as_bytes();
    let pretty = pretty_json_body(bytes).expect("generated JSON is valid");
    let lines = pretty.line_count();
    eprintln!(
        "input: {} bytes compact, {} bytes pretty, {} lines",
        bytes.len(),
        pretty.text().len(),
        lines
    );

    let mut g = c.benchmark_group("pretty");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("pretty_json", |b| b.iter(|| pretty_json(black_box(bytes))));
    g.bench_function("pretty_json_body (text + line index)", |b| {
        b.iter(|| pretty_json_body(black_box(bytes)))
    });
    g.bench_function("validate_json", |b| {
        b.iter(|| validate_json(black_box(bytes)))
    });
    g.bench_function("serde_json Value round trip (reference)", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_slice(black_box(bytes)).unwrap();
            serde_json::to_string_pretty(&v).unwrap()
        })
    });
    g.bench_function("detect_kind", |b| {
        b.iter(|| detect_kind(Some("application/fhir+json"), black_box(bytes)))
    });
    g.finish();

    let mut g = c.benchmark_group("index");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(pretty.text().len() as u64));
    let whole = pretty.text().into_owned();
    g.bench_function("LineIndex::new (pretty text)", |b| {
        b.iter(|| LineIndex::new(black_box(&whole)))
    });
    g.bench_function("FoldRegions::compute", |b| {
        b.iter(|| FoldRegions::compute(black_box(&pretty)))
    });
    g.finish();

    // Same text, but not known to be pretty output: the highlighter must use
    // (and build) its line-state checkpoints.
    let raw_indexed = BodyText::new(pretty.text().to_string());
    let mut g = c.benchmark_group("highlight_50_lines");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, start) in [
        ("top", 0),
        ("middle", lines / 2),
        ("end", lines.saturating_sub(VISIBLE)),
    ] {
        g.bench_with_input(
            BenchmarkId::new("pretty body, cold", name),
            &start,
            |b, &s| {
                b.iter(|| {
                    let mut h = LazyHighlighter::new(BodyKind::Json);
                    h.spans_for_lines(&pretty, s..s + VISIBLE)
                })
            },
        );
        let mut warm = LazyHighlighter::new(BodyKind::Json);
        warm.spans_for_lines(&raw_indexed, start..start + VISIBLE);
        g.bench_with_input(
            BenchmarkId::new("unflagged body, warm checkpoints", name),
            &start,
            |b, &s| b.iter(|| warm.spans_for_lines(&raw_indexed, s..s + VISIBLE)),
        );
    }
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.bench_function("unflagged body, cold checkpoints/middle", |b| {
        b.iter(|| {
            let mut h = LazyHighlighter::new(BodyKind::Json);
            h.spans_for_lines(&raw_indexed, lines / 2..lines / 2 + VISIBLE)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("first_frame");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("preview 60 lines + index + highlight 50", |b| {
        b.iter(|| {
            let p = pretty_json_preview(black_box(bytes), 60);
            let body = BodyText::new(p.text);
            let mut h = LazyHighlighter::new(BodyKind::Json);
            h.spans_for_lines(&body, 0..VISIBLE)
        })
    });
    g.bench_function("compact body, single 50 MB line, highlight (capped)", |b| {
        let raw = BodyText::new(input.clone());
        b.iter(|| {
            let mut h = LazyHighlighter::new(BodyKind::Json);
            h.spans_for_lines(&raw, 0..VISIBLE)
        })
    });
    g.finish();

    // The Response pane as the program draws it (App::update + ui::draw on a TestBackend).
    let shared = bytes::Bytes::from(input.clone());
    let mut g = c.benchmark_group("tui");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("bytes in hand -> first highlighted frame (120x40)", |b| {
        b.iter_batched(
            || BodyBench::new(120, 40).expect("temp workspace"),
            |mut bench| {
                let finish = bench.receive("application/fhir+json", shared.clone());
                bench.draw();
                (bench, finish)
            },
            criterion::BatchSize::PerIteration,
        )
    });
    let mut bench = BodyBench::new(120, 40).expect("temp workspace");
    if let Some(f) = bench.receive("application/fhir+json", shared.clone())
        && let Some(whole) = f.run()
    {
        bench.body_ready(whole);
    }
    bench.draw();
    let mut flip = false;
    g.sampling_mode(SamplingMode::Auto);
    g.bench_function("jump frame: G / g + redraw, whole body", |b| {
        b.iter(|| {
            flip = !flip;
            bench.key(if flip { "G" } else { "g" });
            bench.draw();
        })
    });
    g.bench_function("scroll frame: j + redraw, whole body", |b| {
        b.iter(|| {
            bench.key("j");
            bench.draw();
        })
    });
    g.finish();

    let mut g = c.benchmark_group("search");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(pretty.text().len() as u64));
    for (needle, ci) in [("Smith", false), ("smith", true), ("system", false)] {
        let n = find_all(
            &pretty,
            needle,
            SearchOptions {
                case_insensitive: ci,
                max_matches: 0,
            },
        )
        .len();
        eprintln!("search {needle:?} ci={ci}: {n} matches");
        g.bench_function(format!("{needle} ci={ci}"), |b| {
            b.iter(|| {
                find_all(
                    &pretty,
                    black_box(needle),
                    SearchOptions {
                        case_insensitive: ci,
                        max_matches: 0,
                    },
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
