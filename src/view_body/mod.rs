//! Response body viewer: data layer.
//!
//! Holds a body once ([`BodyText`]), pretty-prints JSON fast ([`pretty_json`],
//! [`pretty_json_body`], [`pretty_json_preview`]), highlights only the lines
//! the UI asks for ([`LazyHighlighter`]), and provides search, folding and a
//! hex preview. The UI maps [`TokenKind`] to theme colours.
//!
//! Typical flow for a large JSON body:
//! 1. `detect_kind(content_type, &bytes)` → `BodyKind::Json`;
//! 2. show `pretty_json_preview(&bytes, screen_rows)` immediately;
//! 3. on a background thread, `pretty_json_body(&bytes)` (falls back to
//!    `BodyText::new(raw)` on error, showing the error position);
//! 4. each frame, `LazyHighlighter::spans_for_lines(&body, visible_rows)`.

pub mod ansi;
mod detect;
pub mod fhirpath;
pub mod filter;
mod fold;
mod generate;
mod hex;
mod highlight_json;
mod lazy;
mod pretty;
mod pretty_lines;
mod search;
mod swar;
mod text;
mod unescape;

#[cfg(test)]
mod proptests;

pub use detect::{BodyKind, detect_kind};
pub use fold::{FoldMap, FoldRegion, FoldRegions};
#[doc(hidden)]
pub use generate::{generate_observations, generate_searchset};
pub use hex::{HEX_BYTES_PER_LINE, hex_preview};
pub use highlight_json::{
    JsonLineState, Span, TokenKind, advance_json_state, highlight_json_line,
    highlight_json_line_capped, highlight_json_line_into,
};
pub use lazy::{
    CHECKPOINT_EVERY, DEFAULT_MAX_LINE_BYTES, LazyHighlighter, SYNTECT_MAX_BYTES, syntax_set,
};
pub use pretty::{
    MAX_DEPTH, PrettyError, PrettyPreview, Progress, check_ndjson, line_col, pretty_json,
    pretty_json_body, pretty_json_body_shared, pretty_json_body_with_progress, pretty_json_preview,
    validate_json,
};
pub use search::{Match, SearchOptions, find_all, next_match_after, prev_match_before};
pub(crate) use text::scan_newlines;
pub use text::{BodyText, LineIndex};
pub use unescape::{decode_unicode_escapes, escaped_spelling};
