//! The README's screenshots, taken from the real binary: each shot starts `fhirside --demo` in a
//! pseudo-terminal, presses keys like a user, reads the screen back with its colours (`vt100`)
//! and draws it to a PNG with a TrueType font. Nothing is mocked up.
//!
//! Run `scripts/screenshots.sh` (it builds fhirside and checks the fonts), or by hand:
//!
//! ```sh
//! cargo build && cargo run --example screenshots -- --bin target/debug/fhirside --out screenshots
//! ```
//!
//! Options: `--bin PATH`, `--out DIR`, `--font TTF`, `--bold-font TTF`, `--fallback-font TTF`,
//! `--px N` (font size in pixels), `--size COLSxROWS`, `--only NAME` (one shot).

// A measuring or generating tool: what it prints is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod pty;
mod render;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use pty::{Result, Term};
use render::{Fonts, Palette};

const FONT_DIR: &str = "/usr/share/fonts/truetype/dejavu";
const CTRL_R: &str = "\x12";
const DOWN: &str = "\x1b[B";
const LONG: Duration = Duration::from_secs(20);
const SHORT: Duration = Duration::from_secs(5);

struct Options {
    bin: PathBuf,
    out: PathBuf,
    font: PathBuf,
    bold: PathBuf,
    fallback: PathBuf,
    px: f32,
    cols: u16,
    rows: u16,
    only: Option<String>,
}

fn parse_args() -> std::result::Result<Options, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut o = Options {
        bin: root.join("target/debug/fhirside"),
        out: root.join("screenshots"),
        font: Path::new(FONT_DIR).join("DejaVuSansMono.ttf"),
        bold: Path::new(FONT_DIR).join("DejaVuSansMono-Bold.ttf"),
        fallback: Path::new(FONT_DIR).join("DejaVuSans.ttf"),
        px: 17.0,
        cols: 120,
        rows: 35,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bin" => o.bin = value()?.into(),
            "--out" => o.out = value()?.into(),
            "--font" => o.font = value()?.into(),
            "--bold-font" => o.bold = value()?.into(),
            "--fallback-font" => o.fallback = value()?.into(),
            "--px" => {
                o.px = value()?
                    .parse()
                    .map_err(|_| "--px takes a number".to_string())?
            }
            "--size" => {
                let v = value()?;
                let (c, r) = v
                    .split_once('x')
                    .and_then(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)))
                    .ok_or(format!("--size takes COLSxROWS, not {v}"))?;
                (o.cols, o.rows) = (c, r);
            }
            "--only" => o.only = Some(value()?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// One picture: the demo's arguments, the terminal's colours, and the keys that get there.
struct Shot {
    name: &'static str,
    args: &'static [&'static str],
    light: bool,
    drive: fn(&mut Term) -> Result<()>,
}

const SHOTS: &[Shot] = &[
    Shot {
        name: "main",
        args: &["--demo"],
        light: false,
        drive: main_screen,
    },
    Shot {
        name: "lookup",
        args: &["--demo"],
        light: false,
        drive: lookup,
    },
    Shot {
        name: "chart",
        args: &["--demo"],
        light: false,
        drive: chart,
    },
    Shot {
        name: "export-job",
        args: &["--demo", "--export-duration", "60s", "--progress-headers"],
        light: false,
        drive: export_job,
    },
    Shot {
        name: "token",
        args: &["--demo"],
        light: false,
        drive: token_viewer,
    },
    Shot {
        name: "history",
        args: &["--demo"],
        light: false,
        drive: history_diff,
    },
    Shot {
        name: "light-theme",
        args: &["--demo", "--theme", "light"],
        light: true,
        drive: light_theme,
    },
];

/// Opens the `n`-th request (0-based) of the demo collection from the Collections pane.
fn open_request(t: &mut Term, n: usize, title: &str) -> Result<()> {
    t.wait_for("Azure FHIR service", LONG)?;
    t.send("2")?;
    t.send("g")?;
    for _ in 0..=n {
        t.send("j")?;
    }
    t.send("\r")?;
    t.wait_for(title, SHORT)
}

/// GET /Patient sent and answered, the response pane focused.
fn main_screen(t: &mut Term) -> Result<()> {
    open_request(t, 3, "Azure FHIR service/List patients")?;
    t.send(CTRL_R)?;
    t.wait_for("200 OK", LONG)?;
    t.send("4")?;
    t.settle(Duration::from_millis(600));
    Ok(())
}

/// `f`, a name typed, the matches in a table.
fn lookup(t: &mut Term) -> Result<()> {
    t.wait_for("Azure FHIR service", LONG)?;
    t.send("f")?;
    t.wait_for("Find a patient", SHORT)?;
    t.send("smith")?;
    t.wait_for("MRN-", LONG)?;
    t.send(DOWN)?;
    t.send(DOWN)?;
    t.settle(Duration::from_millis(600));
    Ok(())
}

/// A patient opened from the lookup, then `V`: the chart, vitals first.
fn chart(t: &mut Term) -> Result<()> {
    t.wait_for("Azure FHIR service", LONG)?;
    t.send("f")?;
    t.wait_for("Find a patient", SHORT)?;
    t.send("smith")?;
    t.wait_for("MRN-", LONG)?;
    t.send("\r")?;
    t.wait_for("V chart", LONG)?;
    t.send("V")?;
    t.wait_for("Blood pressure (mmHg)", LONG)?;
    t.settle(Duration::from_millis(600));
    Ok(())
}

/// A bulk export kicked off from the jobs screen and polled for a while.
fn export_job(t: &mut Term) -> Result<()> {
    t.wait_for("Azure FHIR service", LONG)?;
    t.send("J")?;
    t.wait_for("No jobs yet", SHORT)?;
    t.send("n")?;
    t.wait_for("Start which operation?", SHORT)?;
    t.send("\r")?;
    t.wait_for("Start a bulk export", SHORT)?;
    t.send(CTRL_R)?;
    t.wait_for("status URL", LONG)?;
    t.wait_for("%", LONG)?;
    // Long enough for the server's X-Progress to have moved on, far from done.
    t.settle(Duration::from_secs(25));
    Ok(())
}

/// A request sent (the demo signs in by itself), then `T`.
fn token_viewer(t: &mut Term) -> Result<()> {
    open_request(t, 1, "Azure FHIR service/Capability statement")?;
    t.send(CTRL_R)?;
    t.wait_for("200 OK", LONG)?;
    t.send("T")?;
    t.wait_for("aud", SHORT)?;
    t.settle(Duration::from_millis(600));
    Ok(())
}

/// A search, a create, the same search again; then `p` (this request's earlier answers) and
/// `d` (compare the two).
fn history_diff(t: &mut Term) -> Result<()> {
    open_request(t, 3, "Azure FHIR service/List patients")?;
    t.send(CTRL_R)?;
    t.wait_for("200 OK", LONG)?;
    open_request(t, 4, "Azure FHIR service/Create patient")?;
    t.send(CTRL_R)?;
    t.wait_for("201 Created", LONG)?;
    open_request(t, 3, "Azure FHIR service/List patients")?;
    t.send(CTRL_R)?;
    // The first answer is still on screen until the new one replaces it.
    t.settle(Duration::from_millis(1500));
    t.wait_for("200 OK", LONG)?;
    t.send("4")?;
    t.send("p")?;
    t.wait_for("2 entries", SHORT)?;
    t.send("d")?;
    t.wait_for("@@", SHORT)?;
    t.settle(Duration::from_millis(600));
    Ok(())
}

/// The main screen again, in the light theme on a light terminal.
fn light_theme(t: &mut Term) -> Result<()> {
    open_request(t, 1, "Azure FHIR service/Capability statement")?;
    t.send(CTRL_R)?;
    t.wait_for("200 OK", LONG)?;
    t.send("4")?;
    t.settle(Duration::from_millis(600));
    Ok(())
}

fn take(shot: &Shot, o: &Options, fonts: &Fonts, config: &Path) -> Result<PathBuf> {
    let mut term = Term::spawn(&o.bin, shot.args, o.cols, o.rows, config)?;
    (shot.drive)(&mut term).map_err(|e| format!("{}: {e}", shot.name))?;
    let palette = if shot.light {
        Palette::light()
    } else {
        Palette::dark()
    };
    let image = render::render(term.screen(), &palette, fonts);
    let path = o.out.join(format!("{}.png", shot.name));
    image.write_png(&path)?;
    Ok(path)
}

fn run() -> std::result::Result<(), String> {
    let o = parse_args()?;
    if !o.bin.is_file() {
        return Err(format!(
            "{} does not exist: build it first (cargo build)",
            o.bin.display()
        ));
    }
    let fallback = o.fallback.is_file().then_some(o.fallback.as_path());
    let fonts = Fonts::load(&o.font, &o.bold, fallback, o.px)?;
    std::fs::create_dir_all(&o.out)
        .map_err(|e| format!("cannot create {}: {e}", o.out.display()))?;
    // An empty config folder, so the user's own keys.toml cannot change the pictures.
    let config = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    let mut taken = 0;
    for shot in SHOTS {
        if o.only.as_deref().is_some_and(|n| n != shot.name) {
            continue;
        }
        let path = take(shot, &o, &fonts, config.path())?;
        println!("wrote {}", path.display());
        taken += 1;
    }
    if taken == 0 {
        return Err("no shot has that name".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("screenshots: {e}");
            ExitCode::FAILURE
        }
    }
}
