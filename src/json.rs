//! The crate's JSON, both ways: a strict RFC 8259 parser into a small value
//! tree ([`Json`]) and [`FromJson`], the trait the stored and imported
//! records are read through (the page's IndexedDB records and write sets,
//! the recorded actions, exported histories); and [`ToJson`], the trait
//! everything is written through, into a [`JsonOut`] (the views the page
//! draws every frame, narration, stored records, the CLI's trace and
//! history files).
//!
//! # Why not serde
//!
//! DESIGN.md names serde for (de)serialization. Its derived readers and
//! writers compile a visitor, a field-name matcher, an error path and
//! generic `Serializer` plumbing per type and per container into the
//! page's wasm. Replacing the derived readers with plain functions over
//! one parsed tree took the page's wasm from 434,795 to 381,859 bytes after
//! wasm-opt (-12 %), parser and readers included; replacing `Serialize`
//! and serde_json's writer with [`ToJson`] took it from 361,076 to
//! 330,581 bytes (-8.4 %; 151,191 to 140,520 gzipped), and the library no
//! longer depends on serde at all (serde_json remains the tests' oracle).
//!
//! # Writing
//!
//! The writer writes exactly the bytes serde_json's `to_string` wrote for
//! the derived `Serialize` impls it replaces, so that every record stored,
//! every trace written and every fixture made before still compares equal
//! (`tests/json_format.rs`, `tests/web_json.rs` pin them): compact, fields
//! in declaration order, `None` as `null`, enums tagged as serde tagged
//! them (externally, `"Noop"` or `{"Command": …}`, or internally,
//! `{"op": "put", …}`), strings escaped as serde_json escapes them
//! ([`JsonOut::str`]), whole numbers in decimal, floats in the shortest
//! form that reads back to the same bits, by the `zmij` crate that
//! serde_json formats them with ([`JsonOut::f64`]), and `null` for a
//! non-finite float. Each `ToJson` impl sits beside the type's `FromJson`
//! impl.
//!
//! # Reading
//!
//! The readers accept what serde's derived readers accepted, so every record
//! stored by an older page still reads: unknown fields are ignored, an
//! absent or `null` `Option` field is `None`, a missing required field is
//! "missing field `…`", enums are tagged as serde wrote them (externally,
//! `{"Command": …}` or `"Noop"`, or internally, `{"op": "put", …}`).
//! Whole numbers are read exactly into `u64` (a number's text is kept until
//! a reader asks for it), a fraction or an exponent where a whole number is
//! expected is an error, and so is a duplicate field.
//!
//! The whole text becomes a tree before any record is built from it: a
//! document takes several times its own size in memory while it is read
//! (about 6× for a large history), which the page's records (a saved
//! cluster, an imported history of a few MB) afford.
//!
//! Errors name where in the document they happened, as a path
//! (`calls[3].outcome: missing field `existed``) for a value of the wrong
//! shape, or as a line and column for text that is not JSON.

use std::fmt;
use std::sync::Arc;

/// Deepest nesting of arrays and objects accepted (serde_json's limit).
pub const MAX_DEPTH: usize = 128;

/// Fields past which an object is checked for duplicate names by sorting
/// them, rather than by a scan per field.
const WIDE_OBJECT: usize = 16;

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written (valid JSON number syntax).
    Num(Box<str>),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, its fields in document order (no two with one name).
    Obj(Vec<(String, Json)>),
}

/// Why a JSON text could not be read: where, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Where in the value: `calls[3].outcome`, or empty for the top.
    path: String,
    /// What was wrong.
    msg: String,
}

impl JsonError {
    /// An error at the current value.
    pub fn new(msg: impl Into<String>) -> JsonError {
        JsonError {
            path: String::new(),
            msg: msg.into(),
        }
    }

    /// This error, inside field `name` of an object.
    pub fn in_field(self, name: &str) -> JsonError {
        self.under(name)
    }

    /// This error, inside element `i` of an array.
    pub fn in_element(self, i: usize) -> JsonError {
        self.under(&format!("[{i}]"))
    }

    /// `segment` put before the path (`a` + `[1].b` = `a[1].b`).
    fn under(mut self, segment: &str) -> JsonError {
        let sep = if self.path.is_empty() || self.path.starts_with('[') {
            ""
        } else {
            "."
        };
        self.path = format!("{segment}{sep}{}", self.path);
        self
    }

    /// What was wrong, without the path.
    pub fn message(&self) -> &str {
        &self.msg
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.msg)
        } else {
            write!(f, "{}: {}", self.path, self.msg)
        }
    }
}

impl std::error::Error for JsonError {}

/// "missing field `name`", as serde says it.
pub fn missing(name: &str) -> JsonError {
    JsonError::new(format!("missing field `{name}`"))
}

/// An enum tag that names no variant: "unknown variant `found`, expected one
/// of `a`, `b`", as serde says it.
pub fn unknown_variant(found: &str, expected: &[&str]) -> JsonError {
    let mut msg = format!("unknown variant `{found}`, expected one of ");
    for (i, e) in expected.iter().enumerate() {
        if i > 0 {
            msg.push_str(", ");
        }
        msg.push('`');
        msg.push_str(e);
        msg.push('`');
    }
    JsonError::new(msg)
}

// ----- Parsing -------------------------------------------------------------------

/// Parse `text` as one JSON value (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut p = Parser {
        text,
        at: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.skip_ws();
    if p.at < text.len() {
        return Err(p.error("trailing characters after the value"));
    }
    Ok(v)
}

/// Parse `text` and read it as a `T`.
pub fn from_str<T: FromJson>(text: &str) -> Result<T, JsonError> {
    T::from_json(&parse(text)?)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    /// `msg` at the current position, as "line L column C".
    fn error(&self, msg: &str) -> JsonError {
        let before = &self.text.as_bytes()[..self.at.min(self.text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        JsonError::new(format!("{msg} at line {line} column {column}"))
    }

    /// Consume `b` (after whitespace) or fail with `msg`.
    fn expect(&mut self, b: u8, msg: &str) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(msg))
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        self.skip_ws();
        let Some(b) = self.peek() else {
            return Err(self.error("unexpected end of input, expected a value"));
        };
        match b {
            b'n' => self.literal("null", Json::Null),
            b't' => self.literal("true", Json::Bool(true)),
            b'f' => self.literal("false", Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'-' | b'0'..=b'9' => self.number(),
            b'[' | b'{' => {
                if self.depth >= MAX_DEPTH {
                    return Err(self.error("nested too deeply"));
                }
                self.depth += 1;
                self.at += 1;
                let v = if b == b'[' {
                    self.array()
                } else {
                    self.object()
                };
                self.depth -= 1;
                v
            }
            _ => Err(self.error("expected a value")),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, JsonError> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(v)
        } else {
            Err(self.error("expected a value"))
        }
    }

    /// After `[`.
    fn array(&mut self) -> Result<Json, JsonError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Json::Arr(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Arr(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    /// After `{`.
    fn object(&mut self) -> Result<Json, JsonError> {
        let mut fields: Vec<(String, Json)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Json::Obj(fields));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a field name in double quotes"));
            }
            let name = self.string()?;
            // Records have a handful of fields: a scan. A wide object (only
            // crafted input has one) is checked once, sorted, at its end,
            // so that it cannot take quadratic time.
            if fields.len() < WIDE_OBJECT && fields.iter().any(|(n, _)| *n == name) {
                return Err(self.error(&format!("duplicate field `{name}`")));
            }
            self.expect(b':', "expected `:`")?;
            let v = self.value()?;
            fields.push((name, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    if fields.len() > WIDE_OBJECT {
                        let mut names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                        crate::sort::sort(&mut names);
                        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
                            return Err(self.error(&format!("duplicate field `{}`", w[0])));
                        }
                    }
                    self.at += 1;
                    return Ok(Json::Obj(fields));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    /// At `"`: the string, unescaped.
    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            // Stopped at an ASCII byte or the end: a char boundary.
            out.push_str(&self.text[start..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unexpected end of input in a string")),
            }
        }
    }

    /// After `\`.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let b = self.peek();
        self.at += 1;
        out.push(match b {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4()?;
                let c = if (0xD800..0xDC00).contains(&hi) {
                    if !self.text[self.at..].starts_with("\\u") {
                        return Err(self.error("lone leading surrogate in a \\u escape"));
                    }
                    self.at += 2;
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(self.error("invalid trailing surrogate in a \\u escape"));
                    }
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else {
                    hi
                };
                char::from_u32(c)
                    .ok_or_else(|| self.error("lone trailing surrogate in a \\u escape"))?
            }
            _ => return Err(self.error("invalid escape")),
        });
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits after \\u"))?;
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("expected four hex digits"))
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number: expected a digit after `.`"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number: expected a digit in the exponent"));
            }
            self.digits();
        }
        Ok(Json::Num(self.text[start..self.at].into()))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }
}

// ----- Reading values -------------------------------------------------------------

impl Json {
    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Num(_) => "a number",
            Json::Str(_) => "a string",
            Json::Arr(_) => "an array",
            Json::Obj(_) => "an object",
        }
    }

    fn expected(&self, what: &str) -> JsonError {
        JsonError::new(format!("expected {what}, found {}", self.kind()))
    }

    /// This value as an object's fields.
    pub fn obj(&self) -> Result<Obj<'_>, JsonError> {
        match self {
            Json::Obj(fields) => Ok(Obj(fields)),
            _ => Err(self.expected("an object")),
        }
    }

    /// This value as a string.
    pub fn str(&self) -> Result<&str, JsonError> {
        match self {
            Json::Str(s) => Ok(s),
            _ => Err(self.expected("a string")),
        }
    }

    /// An externally tagged enum value as serde writes it: `"Name"` for a
    /// variant without data, `{"Name": data}` for one with.
    pub fn variant(&self) -> Result<(&str, Option<&Json>), JsonError> {
        match self {
            Json::Str(s) => Ok((s, None)),
            Json::Obj(fields) if fields.len() == 1 => Ok((&fields[0].0, Some(&fields[0].1))),
            _ => Err(self.expected("a variant name or an object with one field")),
        }
    }
}

/// An object's fields, read by name.
#[derive(Clone, Copy, Debug)]
pub struct Obj<'a>(&'a [(String, Json)]);

impl<'a> Obj<'a> {
    /// The fields' names, in the order written.
    pub fn names(&self) -> impl Iterator<Item = &'a str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }

    /// The field `name`, if present.
    pub fn get(&self, name: &str) -> Option<&'a Json> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The required field `name`.
    pub fn req<T: FromJson>(&self, name: &str) -> Result<T, JsonError> {
        let v = self.get(name).ok_or_else(|| missing(name))?;
        T::from_json(v).map_err(|e| e.in_field(name))
    }

    /// The optional field `name`: absent or `null` is `None`.
    pub fn opt<T: FromJson>(&self, name: &str) -> Result<Option<T>, JsonError> {
        match self.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(v) => T::from_json(v).map(Some).map_err(|e| e.in_field(name)),
        }
    }

    /// The field `name`, or `T`'s default when absent (serde's
    /// `#[serde(default)]`).
    pub fn or_default<T: FromJson + Default>(&self, name: &str) -> Result<T, JsonError> {
        match self.get(name) {
            None => Ok(T::default()),
            Some(_) => self.req(name),
        }
    }

    /// The required string field `name`, borrowed (for enum tags).
    pub fn tag(&self, name: &str) -> Result<&'a str, JsonError> {
        self.get(name)
            .ok_or_else(|| missing(name))?
            .str()
            .map_err(|e| e.in_field(name))
    }
}

/// A type read from a parsed JSON value.
pub trait FromJson: Sized {
    /// Read `v` as a `Self`; the error says what did not fit.
    fn from_json(v: &Json) -> Result<Self, JsonError>;
}

impl FromJson for u64 {
    fn from_json(v: &Json) -> Result<u64, JsonError> {
        match v {
            Json::Num(text) => text.parse().map_err(|_| {
                JsonError::new(format!(
                    "expected a whole number from 0 to {}, found {text}",
                    u64::MAX
                ))
            }),
            _ => Err(v.expected("a whole number")),
        }
    }
}

/// A whole number that must fit a narrower type.
fn narrow<T: TryFrom<u64>>(v: &Json) -> Result<T, JsonError> {
    let n = u64::from_json(v)?;
    T::try_from(n).map_err(|_| JsonError::new(format!("number {n} is out of range")))
}

impl FromJson for u32 {
    fn from_json(v: &Json) -> Result<u32, JsonError> {
        narrow(v)
    }
}

impl FromJson for usize {
    fn from_json(v: &Json) -> Result<usize, JsonError> {
        narrow(v)
    }
}

impl FromJson for f64 {
    fn from_json(v: &Json) -> Result<f64, JsonError> {
        match v {
            Json::Num(text) => Some(parse_f64(text))
                .filter(|x| x.is_finite())
                .ok_or_else(|| JsonError::new(format!("number {text} is out of range"))),
            _ => Err(v.expected("a number")),
        }
    }
}

/// `text`, in JSON number syntax, as an `f64`.
///
/// Correctly rounded (to nearest, ties to even) for up to 19 significant
/// digits and a decimal exponent, once the point is taken out, from -31 to
/// about 26 (10^e = 5^e × 2^e: the digits are multiplied or divided by 5^e
/// exactly in `u128`, 2^e scales the float exactly, and only the
/// conversion to `f64` rounds). That covers every `f64` serde_json writes
/// (at most 17 digits) from about 1e-15 to 1e42, so every probability and
/// time this crate stores reads back to the bit. Further out the result is
/// approximate (several units in the last place), and numbers at the very
/// ends of `f64`'s range may be read as infinite (and refused) or as zero:
/// nothing this crate stores is there. The standard library's parser,
/// correctly rounded everywhere, would add about 15 KB of code and tables
/// to the page's wasm.
fn parse_f64(text: &str) -> f64 {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (digits, exponent) = match digits.find(['e', 'E']) {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, "0"),
    };
    // Exponents past ±10^6 saturate: the value is 0 or infinite anyway.
    let mut exp: i32 =
        exponent
            .trim_start_matches('+')
            .parse()
            .unwrap_or(if exponent.starts_with('-') {
                -1_000_000
            } else {
                1_000_000
            });
    exp = exp.clamp(-1_000_000, 1_000_000);
    let mut mantissa: u64 = 0;
    let mut fraction = false;
    // Whether a nonzero digit past the 19th was dropped.
    let mut dropped = false;
    for b in digits.bytes() {
        match b {
            b'.' => fraction = true,
            b'0'..=b'9' if mantissa < (u64::MAX - 9) / 10 => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                exp -= i32::from(fraction);
            }
            // A digit past 19: dropped, only its place kept.
            _ => {
                dropped |= b != b'0';
                exp += i32::from(!fraction);
            }
        }
    }
    let value = if mantissa == 0 {
        0.0
    } else {
        scale(mantissa, exp, dropped)
    };
    if negative {
        -value
    } else {
        value
    }
}

/// `m` × 10^`exp` (a little more if `dropped`), as an `f64` (see
/// [`parse_f64`]). 10^`exp` is 5^`exp` × 2^`exp`: the power of five is
/// applied exactly in `u128` and the power of two, exactly, to the float.
fn scale(m: u64, exp: i32, dropped: bool) -> f64 {
    let bits = |x: u128| 128 - x.leading_zeros();
    let m = u128::from(m);
    let k = exp.unsigned_abs();
    let two_to = |e: i32| 2f64.powi(e);
    if (0..=55).contains(&exp) {
        let p = 5u128.pow(k);
        if bits(m) + bits(p) + 2 <= 128 {
            // The exact product, with the dropped digits as a bit below it.
            return ((m * p) << 2 | u128::from(dropped)) as f64 * two_to(exp - 2);
        }
    } else if (-55..0).contains(&exp) {
        let d = 5u128.pow(k);
        if 55 + bits(d) <= 127 {
            // A quotient of at least 55 bits, its remainder (and the
            // dropped digits) folded into its lowest bit: converting it
            // rounds as converting the exact quotient would.
            let shift = (55 + bits(d)).saturating_sub(bits(m));
            let n = m << shift;
            let q = (n / d) | u128::from(n % d != 0 || dropped);
            return q as f64 * two_to(exp - shift as i32);
        }
    }
    // Out of that range: approximate.
    let m = m as f64;
    if exp >= 0 {
        m * 10f64.powi(exp.min(400))
    } else {
        // Two steps, so that 10^-exp does not overflow before the result
        // would underflow.
        m / 1e30 / 10f64.powi((-exp - 30).min(400))
    }
}

impl FromJson for bool {
    fn from_json(v: &Json) -> Result<bool, JsonError> {
        match v {
            Json::Bool(b) => Ok(*b),
            _ => Err(v.expected("a boolean")),
        }
    }
}

impl FromJson for String {
    fn from_json(v: &Json) -> Result<String, JsonError> {
        v.str().map(str::to_string)
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: &Json) -> Result<Option<T>, JsonError> {
        match v {
            Json::Null => Ok(None),
            _ => T::from_json(v).map(Some),
        }
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: &Json) -> Result<Vec<T>, JsonError> {
        match v {
            Json::Arr(items) => {
                // A plain loop: `collect` into a `Result` compiled to ~1-3 KB
                // per element type in the page's wasm.
                let mut out = Vec::with_capacity(items.len());
                for (i, x) in items.iter().enumerate() {
                    out.push(T::from_json(x).map_err(|e| e.in_element(i))?);
                }
                Ok(out)
            }
            _ => Err(v.expected("an array")),
        }
    }
}

impl<T: FromJson> FromJson for Arc<T> {
    fn from_json(v: &Json) -> Result<Arc<T>, JsonError> {
        T::from_json(v).map(Arc::new)
    }
}

impl FromJson for Json {
    fn from_json(v: &Json) -> Result<Json, JsonError> {
        Ok(v.clone())
    }
}

/// Written back as it was read: whole numbers exactly (`u64`, or `i64`
/// when negative), any other number through `f64`, as [`JsonOut::f64`]
/// writes it (`1e30` as `1e+30`, `-0` as `-0.0`, out of range as
/// `null`), so a value can be kept and stored again.
impl ToJson for Json {
    fn write_json(&self, out: &mut JsonOut) {
        match self {
            Json::Null => out.null(),
            Json::Bool(b) => out.bool(*b),
            Json::Num(text) => {
                if let Ok(n) = text.parse::<u64>() {
                    out.u64(n)
                } else if let Some(n) = text.parse::<i64>().ok().filter(|&n| n != 0) {
                    // (`-0` goes on as a float, as serde_json read it.)
                    out.i64(n)
                } else {
                    out.f64(parse_f64(text))
                }
            }
            Json::Str(text) => out.str(text),
            Json::Arr(items) => items.write_json(out),
            Json::Obj(fields) => {
                out.begin_obj();
                for (k, v) in fields {
                    out.entry(k, v);
                }
                out.end_obj();
            }
        }
    }
}

// ----- Writing --------------------------------------------------------------------

/// A type written as JSON: the counterpart of [`FromJson`].
///
/// An impl writes one value with [`JsonOut`]'s methods; a struct as an
/// object with its fields in declaration order:
///
/// ```
/// use raftlab::json::{self, JsonOut, ToJson};
///
/// struct Point { x: u64, label: Option<String> }
///
/// impl ToJson for Point {
///     fn write_json(&self, out: &mut JsonOut) {
///         out.begin_obj();
///         out.field("x", &self.x);
///         out.field("label", &self.label);
///         out.end_obj();
///     }
/// }
///
/// let p = Point { x: 3, label: Some("a\"b".into()) };
/// assert_eq!(json::to_string(&p), r#"{"x":3,"label":"a\"b"}"#);
/// ```
pub trait ToJson {
    /// Write `self` as one JSON value.
    fn write_json(&self, out: &mut JsonOut);
}

/// `v` as compact JSON text.
pub fn to_string<T: ToJson + ?Sized>(v: &T) -> String {
    let mut out = JsonOut::new();
    v.write_json(&mut out);
    out.into_string()
}

/// JSON text being written, compactly (no whitespace), as serde_json's
/// `to_string` writes it.
///
/// Commas are placed by one flag: whether the next value or field is the
/// first in its container (or a field's value, after its `:`). A
/// container must be closed before its parent goes on.
#[derive(Debug)]
pub struct JsonOut {
    text: String,
    /// No comma before the next value: it opens a container, or is a
    /// field's value.
    first: bool,
}

/// For each byte, the letter of its escape after a backslash (`u` for
/// `\u00xx`), or 0 if it stands as it is: serde_json's table, for
/// [`JsonOut::str`].
static ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Two ASCII digits for each of 0 to 99, for [`JsonOut::u64`].
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

impl Default for JsonOut {
    fn default() -> JsonOut {
        JsonOut::new()
    }
}

impl JsonOut {
    /// An empty text.
    pub fn new() -> JsonOut {
        JsonOut {
            text: String::with_capacity(128),
            first: true,
        }
    }

    /// The text written.
    pub fn into_string(self) -> String {
        self.text
    }

    /// A comma, unless this is the first value in its container.
    fn sep(&mut self) {
        if !self.first {
            self.text.push(',');
        }
        self.first = false;
    }

    /// Open an object: `{`. Then [`field`](Self::field)s (or
    /// [`key`](Self::key)s each followed by a value), then
    /// [`end_obj`](Self::end_obj).
    pub fn begin_obj(&mut self) {
        self.sep();
        self.text.push('{');
        self.first = true;
    }

    /// Close an object: `}`.
    pub fn end_obj(&mut self) {
        self.text.push('}');
        self.first = false;
    }

    /// Open an array: `[`. Then values, then [`end_arr`](Self::end_arr).
    pub fn begin_arr(&mut self) {
        self.sep();
        self.text.push('[');
        self.first = true;
    }

    /// Close an array: `]`.
    pub fn end_arr(&mut self) {
        self.text.push(']');
        self.first = false;
    }

    /// A field's name, escaped, and `:`; its value must follow.
    pub fn key(&mut self, name: &str) {
        self.str(name);
        self.text.push(':');
        self.first = true;
    }

    /// A field whose name comes from data (a map's key): `"name":value`,
    /// the name escaped.
    pub fn entry<T: ToJson + ?Sized>(&mut self, name: &str, v: &T) {
        self.key(name);
        v.write_json(self);
    }

    /// A field with a fixed name: `"name":value`. The name is written as
    /// it is, unescaped (which is what makes writing a struct as fast as
    /// serde_json, whose inlined writer escaped constant names at compile
    /// time): it must need no escaping, as a Rust field name or a variant
    /// tag does (checked in debug builds). A name from data goes through
    /// [`entry`](Self::entry).
    pub fn field<T: ToJson + ?Sized>(&mut self, name: &str, v: &T) {
        self.name(name);
        v.write_json(self);
    }

    /// A fixed field name and `:` (see [`field`](Self::field)).
    fn name(&mut self, name: &str) {
        debug_assert!(
            name.bytes().all(|b| ESCAPES[usize::from(b)] == 0),
            "field name {name:?} needs escaping: use `entry`"
        );
        self.sep();
        self.text.push('"');
        self.text.push_str(name);
        self.text.push_str("\":");
        self.first = true;
    }

    /// An externally tagged enum variant with data, as serde writes it:
    /// `{"Name":` … `}`; the data must follow, then
    /// [`end_obj`](Self::end_obj).
    pub fn begin_variant(&mut self, name: &str) {
        self.begin_obj();
        self.name(name);
    }

    /// `null`.
    pub fn null(&mut self) {
        self.sep();
        self.text.push_str("null");
    }

    /// `true` or `false`.
    pub fn bool(&mut self, b: bool) {
        self.sep();
        self.text.push_str(if b { "true" } else { "false" });
    }

    /// A whole number, in decimal.
    pub fn u64(&mut self, n: u64) {
        self.sep();
        self.digits(n);
    }

    /// A whole number that may be negative.
    pub fn i64(&mut self, n: i64) {
        self.sep();
        if n < 0 {
            self.text.push('-');
        }
        self.digits(n.unsigned_abs());
    }

    /// `n` in decimal, two digits at a time from the right (as the itoa
    /// crate, serde_json's, does).
    fn digits(&mut self, mut n: u64) {
        let mut buf = [0u8; 20];
        let mut at = buf.len();
        while n >= 100 {
            let pair = (n % 100) as usize * 2;
            n /= 100;
            at -= 2;
            buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        if n >= 10 {
            let pair = n as usize * 2;
            at -= 2;
            buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else {
            at -= 1;
            buf[at] = b'0' + n as u8;
        }
        // ASCII digits: always UTF-8.
        self.text
            .push_str(std::str::from_utf8(&buf[at..]).unwrap_or_default());
    }

    /// A number, in the shortest form that reads back to the same `f64`
    /// (the `zmij` crate's, which serde_json uses: `0.1`, `1e-7`, `1e+21`,
    /// `-0.0`, `3.0`); `null` if it is infinite or NaN, as serde_json
    /// writes those.
    pub fn f64(&mut self, x: f64) {
        if x.is_finite() {
            self.sep();
            self.text.push_str(zmij::Buffer::new().format_finite(x));
        } else {
            self.null();
        }
    }

    /// A string, in quotes, escaped as serde_json escapes it: `"` and `\`
    /// with a backslash; backspace, form feed, newline, carriage return and
    /// tab as `\b`, `\f`, `\n`, `\r`, `\t`; other control characters
    /// (below U+0020) as `\u00xx` in lowercase hex; everything else,
    /// U+007F and non-ASCII included, as it is.
    pub fn str(&mut self, s: &str) {
        self.sep();
        self.text.push('"');
        let mut run = 0;
        for (i, &b) in s.as_bytes().iter().enumerate() {
            let escape = ESCAPES[usize::from(b)];
            if escape == 0 {
                continue;
            }
            // Escapes are ASCII: `run..i` is whole characters.
            self.text.push_str(&s[run..i]);
            run = i + 1;
            self.text.push('\\');
            self.text.push(char::from(escape));
            if escape == b'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.text.push_str("00");
                self.text.push(char::from(HEX[usize::from(b >> 4)]));
                self.text.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        self.text.push_str(&s[run..]);
        self.text.push('"');
    }

    /// `json`, already JSON text (one whole value), as it is.
    pub fn raw(&mut self, json: &str) {
        self.sep();
        self.text.push_str(json);
    }
}

impl ToJson for u64 {
    fn write_json(&self, out: &mut JsonOut) {
        out.u64(*self)
    }
}

impl ToJson for u32 {
    fn write_json(&self, out: &mut JsonOut) {
        out.u64(u64::from(*self))
    }
}

impl ToJson for usize {
    fn write_json(&self, out: &mut JsonOut) {
        out.u64(*self as u64)
    }
}

impl ToJson for f64 {
    fn write_json(&self, out: &mut JsonOut) {
        out.f64(*self)
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut JsonOut) {
        out.bool(*self)
    }
}

impl ToJson for str {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(self)
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut JsonOut) {
        out.str(self)
    }
}

/// `null` for `None`.
impl<T: ToJson> ToJson for Option<T> {
    fn write_json(&self, out: &mut JsonOut) {
        match self {
            Some(v) => v.write_json(out),
            None => out.null(),
        }
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write_json(&self, out: &mut JsonOut) {
        out.begin_arr();
        for x in self {
            x.write_json(out);
        }
        out.end_arr();
    }
}

impl<T: ToJson, const N: usize> ToJson for [T; N] {
    fn write_json(&self, out: &mut JsonOut) {
        self[..].write_json(out)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut JsonOut) {
        self[..].write_json(out)
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json(&self, out: &mut JsonOut) {
        (**self).write_json(out)
    }
}

impl<T: ToJson + ?Sized> ToJson for Arc<T> {
    fn write_json(&self, out: &mut JsonOut) {
        (**self).write_json(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Json {
        Json::Num(s.into())
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn parses_every_kind_of_value() {
        let v =
            parse(" {\"a\": [1, -2.5e3, true, false, null], \"b\": {\"c\": \"d\"}, \"e\": {}} ")
                .unwrap();
        assert_eq!(
            v,
            Json::Obj(vec![
                (
                    "a".into(),
                    Json::Arr(vec![
                        num("1"),
                        num("-2.5e3"),
                        Json::Bool(true),
                        Json::Bool(false),
                        Json::Null
                    ])
                ),
                (
                    "b".into(),
                    Json::Obj(vec![("c".into(), Json::Str("d".into()))])
                ),
                ("e".into(), Json::Obj(vec![])),
            ])
        );
        assert_eq!(parse("[]").unwrap(), Json::Arr(vec![]));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unescapes_strings() {
        let v = parse(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 é""#).unwrap();
        assert_eq!(v, Json::Str("a\"b\\c/d\u{8}\u{c}\n\r\té😀 é".into()));
        // Whatever serde_json writes, this reads back.
        for s in [
            "",
            "plain",
            "\u{0}\u{1f}\u{7f}",
            "\"quoted\"",
            "tab\there",
            "日本語 😀",
        ] {
            let text = serde_json::to_string(s).unwrap();
            assert_eq!(from_str::<String>(&text).unwrap(), s, "{text}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn rejects_what_is_not_json() {
        for (text, why) in [
            ("", "unexpected end of input"),
            ("{", "expected a field name"),
            ("[1,]", "expected a value"),
            ("[1 2]", "expected `,` or `]`"),
            ("{\"a\" 1}", "expected `:`"),
            ("{\"a\": 1,}", "expected a field name"),
            ("{'a': 1}", "expected a field name"),
            ("01", "trailing characters"),
            ("1.", "expected a digit after `.`"),
            ("1e", "expected a digit in the exponent"),
            ("-", "invalid number"),
            ("+1", "expected a value"),
            (".5", "expected a value"),
            ("tru", "expected a value"),
            ("nul", "expected a value"),
            ("\"abc", "end of input in a string"),
            ("\"a\nb\"", "control character"),
            ("\"\\x\"", "invalid escape"),
            ("\"\\u12\"", "four hex digits"),
            ("\"\\ud800\"", "lone leading surrogate"),
            ("\"\\ud800\\u0041\"", "invalid trailing surrogate"),
            ("\"\\udc00\"", "lone trailing surrogate"),
            ("{\"a\": 1, \"a\": 2}", "duplicate field `a`"),
            ("null x", "trailing characters"),
        ] {
            let e = parse(text).expect_err(text).to_string();
            assert!(e.contains(why), "{text:?}: {e}");
        }
        let e = parse("{\n  \"a\": [1,\n   x]}").unwrap_err().to_string();
        assert!(e.ends_with("at line 3 column 4"), "{e}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// A duplicate in a wide object is found too, in one sort rather than a
    /// scan per field (50,000 fields: quadratic would take seconds).
    fn wide_objects_are_checked_for_duplicates() {
        let wide = |dup: bool| {
            let mut t = String::from("{");
            for i in 0..50_000 {
                t.push_str(&format!("\"f{i}\": {i},"));
            }
            t.push_str(if dup { "\"f123\": 0}" } else { "\"last\": 0}" });
            t
        };
        assert!(parse(&wide(false)).is_ok());
        let e = parse(&wide(true)).unwrap_err().to_string();
        assert!(e.contains("duplicate field `f123`"), "{e}");
        for n in [WIDE_OBJECT - 1, WIDE_OBJECT, WIDE_OBJECT + 1] {
            let mut t: String = (0..n).map(|i| format!("\"f{i}\":0,")).collect();
            t.insert(0, '{');
            t.push_str("\"f0\":1}");
            assert!(
                parse(&t)
                    .unwrap_err()
                    .to_string()
                    .contains("duplicate field `f0`"),
                "{n}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep)
            .unwrap_err()
            .to_string()
            .contains("nested too deeply"));
        // Far deeper input fails the same way, without exhausting the stack.
        let deeper = "{\"a\":".repeat(100_000);
        assert!(parse(&deeper)
            .unwrap_err()
            .to_string()
            .contains("nested too deeply"));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn numbers_read_exactly_and_by_kind() {
        assert_eq!(from_str::<u64>("18446744073709551615").unwrap(), u64::MAX);
        assert_eq!(from_str::<u64>("9007199254740993").unwrap(), (1 << 53) + 1);
        for bad in ["18446744073709551616", "-1", "1.0", "1e3", "\"1\"", "null"] {
            assert!(from_str::<u64>(bad).is_err(), "{bad}");
        }
        assert_eq!(from_str::<u32>("4294967295").unwrap(), u32::MAX);
        let e = from_str::<u32>("4294967296").unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
        assert_eq!(from_str::<f64>("0.25").unwrap(), 0.25);
        assert_eq!(from_str::<f64>("0").unwrap(), 0.0);
        assert!(from_str::<f64>("-0.0").unwrap().is_sign_negative());
        assert!(from_str::<f64>("1e400")
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        assert!(from_str::<f64>("-1e400").is_err());
        assert_eq!(from_str::<f64>("1e-400").unwrap(), 0.0);
        assert_eq!(from_str::<f64>("1e-99999999999").unwrap(), 0.0);
        assert_eq!(from_str::<f64>("1").unwrap(), 1.0);
        assert_eq!(from_str::<f64>("-1.5E-2").unwrap(), -0.015);
        assert!(from_str::<f64>("true").is_err());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn floats_read_as_written() {
        // Correctly rounded for what serde_json writes in the exact range:
        // thousandths, slider-like sums, and random values, uniform in
        // [0, 1) (`Math.random()` from the console) and spread over 1e-14 to
        // 1e40.
        let mut xs: Vec<f64> = (0..=1000).map(|i| f64::from(i) / 1000.0).collect();
        xs.extend((0..=1000).map(|i| f64::from(i) * 0.001));
        xs.extend([
            0.1 + 0.2,
            1.0 / 3.0,
            2.0 / 3.0,
            123_456.789,
            1e-5,
            0.9856906946328695,
        ]);
        let mut rng = crate::rng::Rng::new(11);
        for _ in 0..50_000 {
            xs.push(rng.unit());
            xs.push((0.1 + rng.unit()) * 10f64.powi(rng.index(54) as i32 - 14));
        }
        for x in xs {
            let text = to_string(&x);
            assert_eq!(
                from_str::<f64>(&text).unwrap().to_bits(),
                x.to_bits(),
                "{text}"
            );
        }
        // More than 19 digits: the dropped ones still count in the rounding.
        let pi = from_str::<f64>("3.141592653589793238462643383279").unwrap();
        assert_eq!(pi, std::f64::consts::PI);
        // Far out: close, not exact.
        for x in [1.7e308, 2.5e-300, 1e100, 6.02214076e123, 1.5e-100] {
            let text = to_string(&x);
            let back = from_str::<f64>(&text).unwrap();
            assert!(((back - x) / x).abs() < 1e-14, "{text}: {back}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn errors_name_the_path() {
        struct P {
            xs: Vec<Option<u32>>,
        }
        impl FromJson for P {
            fn from_json(v: &Json) -> Result<P, JsonError> {
                Ok(P {
                    xs: v.obj()?.req("xs")?,
                })
            }
        }
        #[derive(Debug)]
        struct Outer(Vec<u64>);
        impl FromJson for Outer {
            fn from_json(v: &Json) -> Result<Outer, JsonError> {
                let p: Vec<P> = v.obj()?.req("ps")?;
                Ok(Outer(p.iter().map(|p| p.xs.len() as u64).collect()))
            }
        }
        let e = from_str::<Outer>(r#"{"ps": [{"xs": [1, null]}, {"xs": [2, "3"]}]}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "ps[1].xs[1]: expected a whole number, found a string");
        let e = from_str::<Outer>(r#"{"ps": [{}]}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "ps[0]: missing field `xs`");
        let e = from_str::<Outer>("[]").unwrap_err().to_string();
        assert_eq!(e, "expected an object, found an array");
        assert_eq!(
            from_str::<Outer>(r#"{"ps": [{"xs": []}], "extra": 1}"#)
                .unwrap()
                .0,
            vec![0]
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn optional_and_default_fields() {
        let v = parse(r#"{"a": null, "b": 2}"#).unwrap();
        let o = v.obj().unwrap();
        assert_eq!(o.opt::<u64>("a").unwrap(), None);
        assert_eq!(o.opt::<u64>("b").unwrap(), Some(2));
        assert_eq!(o.opt::<u64>("c").unwrap(), None);
        assert_eq!(o.or_default::<Vec<u64>>("c").unwrap(), Vec::<u64>::new());
        assert!(o.or_default::<Vec<u64>>("a").is_err());
        assert_eq!(o.req::<Option<u64>>("a").unwrap(), None);
        assert_eq!(
            o.req::<u64>("c").unwrap_err().to_string(),
            "missing field `c`"
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn written_back_as_read() {
        let text = r#"{"b":[1,-2,0.5,25e-4,"x\"y"],"a":{"n":null,"t":true}}"#;
        let v = parse(text).unwrap();
        let back = to_string(&v);
        assert_eq!(
            back,
            r#"{"b":[1,-2,0.5,0.0025,"x\"y"],"a":{"n":null,"t":true}}"#
        );
        assert_eq!(from_str::<Json>(&back).unwrap(), parse(&back).unwrap());
    }

    /// A random JSON text: valid, then damaged by a few random edits half
    /// the time.
    fn random_text(rng: &mut crate::rng::Rng) -> String {
        fn value(rng: &mut crate::rng::Rng, depth: u32, out: &mut String) {
            const ATOMS: [&str; 16] = [
                "null",
                "true",
                "false",
                "0",
                "-0",
                "7",
                "-12",
                "0.5",
                "1e3",
                "2.5E-2",
                "18446744073709551615",
                "\"\"",
                "\"k\"",
                "\"a\\\"b\"",
                "\"\\u00e9\\n\"",
                "\"\\ud83d\\ude00\"",
            ];
            match rng.index(if depth > 4 { 1 } else { 4 }) {
                0 => out.push_str(ATOMS[rng.index(ATOMS.len())]),
                1 => {
                    out.push('[');
                    for i in 0..rng.index(4) {
                        if i > 0 {
                            out.push(',');
                        }
                        value(rng, depth + 1, out);
                    }
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for i in 0..rng.index(4) {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        // Few names, so that duplicates happen.
                        out.push_str(["\"a\"", "\"b\"", "\"c\"", "\"d\"", "\"e\""][rng.index(5)]);
                        out.push(':');
                        value(rng, depth + 1, out);
                    }
                    out.push('}');
                }
            }
        }
        let mut text = String::new();
        value(rng, 0, &mut text);
        if rng.chance(0.5) {
            const NOISE: &[u8] = b" \t\n{}[],:\"\\0123456789.eE+-abfnrtu/x";
            let mut bytes = text.into_bytes();
            for _ in 0..1 + rng.index(3) {
                let at = rng.index(bytes.len() + 1);
                match rng.index(3) {
                    0 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    1 if at < bytes.len() => bytes[at] = NOISE[rng.index(NOISE.len())],
                    _ => bytes.insert(at, NOISE[rng.index(NOISE.len())]),
                }
            }
            // Edits at ASCII positions of ASCII bytes; a cut multi-byte
            // character is not what this test is about.
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    }

    /// Equal values, floats beyond the fast path to within 1e-14 (see
    /// [`parse_f64`]; neither reader is exact there).
    fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match (a, b) {
            (V::Number(x), V::Number(y)) if x.is_f64() || y.is_f64() => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                x == y || ((x - y) / y).abs() < 1e-14
            }
            (V::Array(x), V::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
            }
            (V::Object(x), V::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// Differential test against serde_json on 20,000 random texts, half
    /// of them damaged: the same texts are accepted, except that a
    /// duplicate field is refused here (serde_json's `Value` keeps the
    /// last one), and what is accepted is the same value.
    fn agrees_with_serde_json() {
        let mut rng = crate::rng::Rng::new(7);
        let (mut accepted, mut refused, mut duplicates, mut big) = (0, 0, 0, 0);
        for _ in 0..20_000 {
            let text = random_text(&mut rng);
            let ours = parse(&text);
            let theirs = serde_json::from_str::<serde_json::Value>(&text);
            match (ours, theirs) {
                (Ok(v), Ok(w)) => {
                    accepted += 1;
                    let v: serde_json::Value = serde_json::from_str(&to_string(&v)).unwrap();
                    assert!(same(&v, &w), "{text}: {v} against {w}");
                }
                (Err(_), Err(_)) => refused += 1,
                (Err(e), Ok(_)) if e.to_string().contains("duplicate field") => duplicates += 1,
                // Number syntax is all the parser checks; a number too
                // large for `f64` fails when read as one
                // (`numbers_read_exactly_and_by_kind`).
                (Ok(_), Err(e)) if e.to_string().contains("number out of range") => big += 1,
                (ours, theirs) => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
            }
        }
        // The generator reaches every outcome often.
        assert!(
            accepted > 5_000 && refused > 5_000 && duplicates > 500,
            "{accepted} {refused} {duplicates} {big}"
        );
    }

    // ----- Writing ------------------------------------------------------------

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// Every escape serde_json writes, checked by hand: `"` and `\`, the
    /// five short ones, `\u00xx` in lowercase hex for the other control
    /// characters; U+007F, `/` and non-ASCII as they are.
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let cases: [(&str, &str); 14] = [
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("a\"b", r#""a\"b""#),
            ("a\\b", r#""a\\b""#),
            ("\u{8}\u{c}\n\r\t", r#""\b\f\n\r\t""#),
            ("\u{0}", r#""\u0000""#),
            ("\u{1}x\u{1f}", r#""\u0001x\u001f""#),
            ("\u{b}\u{1a}", r#""\u000b\u001a""#),
            ("\u{7f}", "\"\u{7f}\""),
            ("a/b", r#""a/b""#),
            ("é日本😀", "\"é日本😀\""),
            ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
            ("é\"😀\n", "\"é\\\"😀\\n\""),
            ("\\\\\"\"", r#""\\\\\"\"""#),
        ];
        for (s, want) in cases {
            assert_eq!(to_string(s), want, "{s:?}");
            assert_eq!(from_str::<String>(want).unwrap(), s, "{want}");
        }
        // Every character up to U+0100, and random strings, as serde_json
        // writes them.
        let mut all: Vec<String> = (0u32..0x100)
            .filter_map(char::from_u32)
            .map(String::from)
            .collect();
        let mut rng = crate::rng::Rng::new(5);
        const PARTS: [&str; 8] = ["a", "\"", "\\", "\n", "\u{1}", "é", "😀", "\u{7f}"];
        for _ in 0..2_000 {
            all.push((0..rng.index(12)).map(|_| PARTS[rng.index(8)]).collect());
        }
        for s in &all {
            assert_eq!(to_string(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
        // Names from data are escaped the same way.
        let mut out = JsonOut::new();
        out.begin_obj();
        out.entry("a\"\n", &1u64);
        out.key("\\");
        out.u64(2);
        out.end_obj();
        assert_eq!(out.into_string(), r#"{"a\"\n":1,"\\":2}"#);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// Whole numbers in decimal: each length of one and two digits at a
    /// time, the ends of the range, and random ones, against `Display`.
    fn whole_numbers_are_written_in_decimal() {
        for (n, want) in [
            (0, "0"),
            (7, "7"),
            (10, "10"),
            (99, "99"),
            (100, "100"),
            (105, "105"),
            (1000, "1000"),
            (12345, "12345"),
            (u64::from(u32::MAX), "4294967295"),
            (u64::MAX, "18446744073709551615"),
        ] {
            assert_eq!(to_string(&n), want);
        }
        let mut out = JsonOut::new();
        out.begin_arr();
        for n in [0, -1, -10, 5, i64::MIN, i64::MAX] {
            out.i64(n);
        }
        out.end_arr();
        assert_eq!(
            out.into_string(),
            "[0,-1,-10,5,-9223372036854775808,9223372036854775807]"
        );
        let mut rng = crate::rng::Rng::new(3);
        for _ in 0..10_000 {
            let n = rng.next_u64() >> rng.index(64);
            assert_eq!(to_string(&n), n.to_string());
        }
        assert_eq!(to_string(&7u32), "7");
        assert_eq!(to_string(&7usize), "7");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// Floats as serde_json writes them (checked by hand, then against
    /// serde_json on random bit patterns), non-finite ones as `null`; and
    /// read back to the same bits.
    fn floats_are_written_as_serde_json_writes_them() {
        for (x, want) in [
            (0.1, "0.1"),
            (1e-7, "1e-7"),
            (0.9856906946328695, "0.9856906946328695"),
            (1e21, "1e+21"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (5e-324, "5e-324"),
            (3.0, "3.0"),
            (-1.5, "-1.5"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (0.000015, "0.000015"),
            (1e-6, "1e-6"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
            (f64::NEG_INFINITY, "null"),
        ] {
            assert_eq!(to_string(&x), want, "{x:?}");
            // (Read back exactly where the reader is exact: see `parse_f64`.)
            if x == 0.0 || (1e-15..1e40).contains(&x.abs()) {
                assert_eq!(
                    from_str::<f64>(want).unwrap().to_bits(),
                    x.to_bits(),
                    "{want}"
                );
            }
        }
        let mut rng = crate::rng::Rng::new(9);
        for _ in 0..20_000 {
            let x = f64::from_bits(rng.next_u64());
            assert_eq!(to_string(&x), serde_json::to_string(&x).unwrap(), "{x:?}");
        }
        assert_eq!(to_string(&[Some(1.0), None]), "[1.0,null]");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// Commas go between values and fields, never after `[`, `{` or `:`;
    /// empty containers, variants and raw text nest.
    fn containers_nest_with_commas_between() {
        let mut out = JsonOut::new();
        out.begin_obj();
        out.field("a", &Vec::<u64>::new());
        out.key("b");
        out.begin_obj();
        out.end_obj();
        out.field("c", &[[1u32, 2], [3, 4]]);
        out.key("d");
        out.begin_variant("Node");
        out.u64(2);
        out.end_obj();
        out.key("e");
        out.begin_arr();
        out.raw(r#"{"x":[]}"#);
        out.null();
        out.bool(true);
        out.bool(false);
        out.str("s");
        out.f64(0.5);
        out.begin_obj();
        out.end_obj();
        out.end_arr();
        out.field("f", &Some("x"));
        out.field("g", &None::<u64>);
        out.end_obj();
        assert_eq!(
            out.into_string(),
            r#"{"a":[],"b":{},"c":[[1,2],[3,4]],"d":{"Node":2},"e":[{"x":[]},null,true,false,"s",0.5,{}],"f":"x","g":null}"#
        );
        assert_eq!(to_string(&Arc::new(vec![true])), "[true]");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    /// Writing what was read gives text that reads back to the same value
    /// and writes again to the same text (on random documents); and it is
    /// the text serde_json writes for the same value.
    fn written_text_reads_back() {
        let mut rng = crate::rng::Rng::new(13);
        let mut checked = 0;
        for _ in 0..5_000 {
            let src = random_text(&mut rng);
            let Ok(v) = parse(&src) else {
                continue;
            };
            let text = to_string(&v);
            let back = parse(&text).unwrap();
            // Numbers written with an exponent may be beyond where the
            // reader is exact (see `parse_f64`).
            if text.contains("e+") || text.contains("e-") {
                continue;
            }
            assert_eq!(to_string(&back), text);
            // Whole numbers as they were, and the rest.
            if !src.contains(['.', 'e', 'E']) && !text.contains('.') {
                assert_eq!(back, v, "{text}");
            }
            checked += 1;
        }
        assert!(checked > 1_500, "{checked}");
        let v = parse(r#"{"n":[1,-2,0.5,-0,25e-4,1e30,1e400,18446744073709551616],"s":"\u0001"}"#)
            .unwrap();
        assert_eq!(
            to_string(&v),
            r#"{"n":[1,-2,0.5,-0.0,0.0025,1e+30,null,1.8446744073709552e+19],"s":"\u0001"}"#
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn externally_tagged_variants() {
        let v = parse(r#""Noop""#).unwrap();
        assert_eq!(v.variant().unwrap(), ("Noop", None));
        let v = parse(r#"{"Command": 1}"#).unwrap();
        assert_eq!(v.variant().unwrap().0, "Command");
        assert!(parse(r#"{"A": 1, "B": 2}"#).unwrap().variant().is_err());
        assert!(unknown_variant("x", &["a", "b"])
            .to_string()
            .contains("unknown variant `x`, expected one of `a`, `b`"));
    }
}
