//! The body parsed into jq values whose strings are slices of the body itself.
//!
//! jaq's own parser (`jaq_json::read::parse_single`) copies every string into a buffer of its
//! own and grows each array and object by doubling. For a FHIR searchset that is millions of
//! small allocations, and on a large body most of the whole-tree filter's time is the kernel
//! handing out the pages they land on. Here a string without escapes is a slice of the body
//! (one shared reference count), so only its box is allocated, and every array and object is
//! made at its final size. For the 46.7 MiB searchset of `examples/filter_speed` that is
//! ~400 MiB of values instead of ~620 MiB. The nesting is bounded on the way, so no separate
//! pass over the body is needed for that.
//!
//! The grammar is JSON's. Anything else jaq reads (its `#` comments, `NaN`, byte strings) and
//! every syntax error is [`Refused::NotPlain`]: the caller then asks jaq's parser, which reads
//! it or reports the error exactly as before.

use bytes::Bytes;
use hifijson::token::Lex;
use hifijson::{Read as _, SliceLexer, num::LexWrite as _, str::LexWrite as _};
use jaq_json::{Map, Rc, Val};

/// Why [`parse_shared`] gave no value.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refused {
    /// Nested deeper than the limit: the byte offset (in the part) of the bracket too many.
    TooDeep(usize),
    /// Not plain JSON, or not JSON at all: for jaq's parser to read or to explain.
    NotPlain,
}

/// `part` (the whole `body`, or a slice of it) parsed into one value, nested at most
/// `max_depth` levels (the parse recurses once per level).
pub(super) fn parse_shared(body: &Bytes, part: &[u8], max_depth: usize) -> Result<Val, Refused> {
    let mut lexer = SliceLexer::new(part);
    let mut cx = Cx {
        body,
        part_len: part.len(),
        max_depth,
        depth: 0,
        items: Vec::new(),
        members: Vec::new(),
    };
    lexer
        .exactly_one(Lex::ws_peek, |next, lexer| cx.value(next, lexer))
        .map_err(|stop| match stop {
            Stop::TooDeep(at) => Refused::TooDeep(at),
            Stop::Lex => Refused::NotPlain,
        })
}

/// Why a value's parse stopped. Which syntax error it was is jaq's parser's to say.
enum Stop {
    Lex,
    TooDeep(usize),
}

impl From<hifijson::Error> for Stop {
    fn from(_: hifijson::Error) -> Self {
        Stop::Lex
    }
}

impl From<hifijson::Expect> for Stop {
    fn from(_: hifijson::Expect) -> Self {
        Stop::Lex
    }
}

impl From<hifijson::str::Error> for Stop {
    fn from(_: hifijson::str::Error) -> Self {
        Stop::Lex
    }
}

/// What a value's parse needs besides the lexer: the body its strings are sliced from, the
/// depth so far, and the elements and members read so far of the arrays and objects still
/// open (each is then made at its final size).
struct Cx<'b> {
    body: &'b Bytes,
    part_len: usize,
    max_depth: usize,
    depth: usize,
    items: Vec<Val>,
    members: Vec<(Val, Val)>,
}

/// A string as lexed: nothing yet, one run of the body, or bytes copied around escapes.
enum Piece<'a> {
    Empty,
    Body(&'a [u8]),
    Copied(Vec<u8>),
}

impl Piece<'_> {
    /// The string as bytes of its own, copied from the body the first time it is asked.
    fn copied(&mut self) -> &mut Vec<u8> {
        let bytes = match self {
            Piece::Copied(bytes) => return bytes,
            Piece::Body(run) => run.to_vec(),
            Piece::Empty => Vec::new(),
        };
        *self = Piece::Copied(bytes);
        match self {
            Piece::Copied(bytes) => bytes,
            // Made `Copied` just above.
            Piece::Empty | Piece::Body(_) => unreachable!(),
        }
    }
}

impl Cx<'_> {
    fn value(&mut self, next: u8, lexer: &mut SliceLexer<'_>) -> Result<Val, Stop> {
        Ok(match next {
            b'n' if lexer.strip_prefix(b"null") => Val::Null,
            b't' if lexer.strip_prefix(b"true") => Val::Bool(true),
            b'f' if lexer.strip_prefix(b"false") => Val::Bool(false),
            b'0'..=b'9' | b'-' => Val::Num(number(lexer)?),
            b'"' => string(self.body, lexer.discarded())?,
            b'[' => {
                self.enter(lexer)?;
                let start = self.items.len();
                lexer.discarded().seq(b']', Lex::ws_peek, |next, lexer| {
                    let item = self.value(next, lexer)?;
                    self.items.push(item);
                    Ok::<_, Stop>(())
                })?;
                self.depth -= 1;
                Val::Arr(Rc::new(self.items.drain(start..).collect()))
            }
            b'{' => {
                self.enter(lexer)?;
                let start = self.members.len();
                lexer.discarded().seq(b'}', Lex::ws_peek, |next, lexer| {
                    if next != b'"' {
                        return Err(hifijson::Expect::String.into());
                    }
                    let key = string(self.body, lexer.discarded())?;
                    lexer
                        .expect(Lex::ws_peek, b':')
                        .ok_or(hifijson::Expect::Colon)?;
                    let next = lexer.ws_peek().ok_or(hifijson::Expect::Value)?;
                    let value = self.value(next, lexer)?;
                    self.members.push((key, value));
                    Ok::<_, Stop>(())
                })?;
                self.depth -= 1;
                let members = self.members.drain(start..);
                let mut obj = Map::with_capacity_and_hasher(members.len(), Default::default());
                // As jaq's parser: a repeated key keeps its first place and takes the last value.
                obj.extend(members);
                Val::obj(obj)
            }
            _ => Err(hifijson::Expect::Value)?,
        })
    }

    /// One level deeper, at the bracket the lexer is on; refused past the limit.
    fn enter(&mut self, lexer: &SliceLexer<'_>) -> Result<(), Stop> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(Stop::TooDeep(self.part_len - lexer.as_slice().len()));
        }
        Ok(())
    }
}

/// A string (its opening quote already read): a slice of `body` unless it has escapes.
fn string<'a>(body: &Bytes, lexer: &mut SliceLexer<'a>) -> Result<Val, Stop> {
    let piece = lexer.str_fold(
        Piece::Empty,
        |run: &mut &'a [u8], piece: &mut Piece<'a>| {
            match piece {
                _ if run.is_empty() => {}
                Piece::Empty => *piece = Piece::Body(run),
                _ => piece.copied().extend_from_slice(run),
            }
            Ok::<_, Stop>(())
        },
        |lexer, piece| {
            use hifijson::escape::{Error, Lex as _};
            let c = lexer.take_next().ok_or(Error::Eof);
            let c = c
                .and_then(|c| lexer.escape(c))
                .map_err(hifijson::str::Error::from)?;
            piece
                .copied()
                .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            Ok(())
        },
    )?;
    Ok(Val::utf8_str(match piece {
        Piece::Empty => Bytes::new(),
        Piece::Body(run) => slice_of(body, run),
        Piece::Copied(bytes) => Bytes::from(bytes),
    }))
}

/// `run` as a slice of `body` (no copy); copied if it is not inside the body.
fn slice_of(body: &Bytes, run: &[u8]) -> Bytes {
    let start = (run.as_ptr() as usize).checked_sub(body.as_ptr() as usize);
    match start.and_then(|s| Some(s..s.checked_add(run.len())?)) {
        Some(range) if range.end <= body.len() => body.slice(range),
        _ => Bytes::copy_from_slice(run),
    }
}

/// A number, read as jaq reads it (integers exact, any other kept as its decimal text).
fn number(lexer: &mut SliceLexer<'_>) -> Result<jaq_json::Num, Stop> {
    let (text, _) = lexer
        .num_string_with(hifijson::num::Num::signed_digits())
        .unvalidated();
    jaq_json::read::parse_single_num(text.as_bytes()).ok_or(Stop::Lex)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our value and jaq's for `json`, each as jaq prints it (numbers keep their text).
    fn both(json: &str) -> (String, String) {
        let body = Bytes::copy_from_slice(json.as_bytes());
        let ours = parse_shared(&body, &body, 512).expect("plain JSON");
        let jaqs = jaq_json::read::parse_single(json.as_bytes()).expect("jaq reads it");
        assert!(ours == jaqs, "{json}: {ours} vs {jaqs}");
        (ours.to_string(), jaqs.to_string())
    }

    #[test]
    fn values_are_the_ones_jaq_reads() {
        for json in [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "12",
            "-7",
            "1.50",
            "1e3",
            "-2.5E-3",
            "123456789012345678901234567890",
            "\"\"",
            "\"plain\"",
            r#""tab\tquote\" slash\/ back\\ nl\n""#,
            r#""\u00e9\u4e2d\ud83d\ude00 after""#,
            r#""ünïcödé""#,
            "[]",
            "{}",
            "[1,[2,[3,[]]],{}]",
            r#"{"b":1,"a":2,"b":3}"#,
            r#"{ "k" : [ {"x":null} , "y" ] , "n":{"m":{}} }"#,
        ] {
            let (ours, jaqs) = both(json);
            assert_eq!(ours, jaqs, "{json}");
        }
        // A repeated key keeps its first place and its last value, as in jaq.
        assert_eq!(both(r#"{"b":1,"a":2,"b":3}"#).0, r#"{"b":3,"a":2}"#);
    }

    #[test]
    fn a_whole_searchset_reads_as_jaq_reads_it() {
        let body = Bytes::from(crate::view_body::generate_observations(50));
        let ours = parse_shared(&body, &body, 512).expect("plain JSON");
        let jaqs = jaq_json::read::parse_single(&body).expect("jaq reads it");
        assert_eq!(ours.to_string(), jaqs.to_string());
    }

    #[test]
    fn strings_without_escapes_are_slices_of_the_body() {
        let body = Bytes::from_static(br#"{"family":"Kirk","note":"a\nb"}"#);
        let Ok(Val::Obj(obj)) = parse_shared(&body, &body, 512) else {
            panic!("an object");
        };
        let inside = |v: &Val| match v {
            Val::TStr(b) => body.as_ptr_range().contains(&b.as_ptr()),
            _ => panic!("a string"),
        };
        let (key, family) = obj.get_index(0).expect("two members");
        assert!(inside(key) && inside(family));
        let (_, note) = obj.get_index(1).expect("two members");
        assert!(!inside(note), "an escaped string is its own copy");
        assert_eq!(note.to_string(), r#""a\nb""#);
    }

    #[test]
    fn a_part_is_read_with_its_strings_sliced_from_the_body() {
        let body = Bytes::from_static(br#"[{"id":"a"},{"id":"b"}]"#);
        let second = &body[12..22];
        let v = parse_shared(&body, second, 512).expect("an object");
        assert_eq!(v.to_string(), r#"{"id":"b"}"#);
        // Not inside the body: copied, still right.
        let elsewhere = br#"{"id":"c"}"#.to_vec();
        let v = parse_shared(&body, &elsewhere, 512).expect("an object");
        assert_eq!(v.to_string(), r#"{"id":"c"}"#);
    }

    #[test]
    fn what_is_not_plain_json_is_left_to_jaq() {
        for text in [
            "",
            "nul",
            "[1,]",
            "{1:2}",
            r#"{"a" 1}"#,
            "[1 2]",
            "1 2",
            "NaN",
            "+1",
            "# c\n1",
            r#""open"#,
            "\"a\u{1}b\"",
            r#""\x""#,
            "01x",
            "[",
        ] {
            let body = Bytes::copy_from_slice(text.as_bytes());
            assert_eq!(
                parse_shared(&body, &body, 512).err(),
                Some(Refused::NotPlain),
                "{text:?}"
            );
        }
    }

    #[test]
    fn nesting_is_bounded_where_it_passes_the_limit() {
        let deep = format!("{}{}", "[".repeat(10), "]".repeat(10));
        let body = Bytes::from(deep);
        assert!(parse_shared(&body, &body, 10).is_ok());
        assert_eq!(
            parse_shared(&body, &body, 9).err(),
            Some(Refused::TooDeep(9))
        );
        let body = Bytes::from_static(br#"{"a": {"b": [[1]]}}"#);
        assert_eq!(
            parse_shared(&body, &body, 3).err(),
            Some(Refused::TooDeep(13))
        );
        // Far deeper than the stack would take: refused, not a crash.
        let body = Bytes::from("[".repeat(1_000_000));
        assert_eq!(
            parse_shared(&body, &body, 512).err(),
            Some(Refused::TooDeep(512))
        );
    }
}
