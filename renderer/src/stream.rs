//! A cluster's objects as one YAML stream, byte for byte what `kubectl kustomize` prints for
//! the cluster's rendered folder: for `plinth render --stdout`, the Argo CD Config Management
//! Plugin. Nothing is written to disk.
//!
//! kustomize builds the folder's resources in the `kustomization.yaml`'s order (plinth writes
//! `sortOptions: fifo`, so that is plinth's apply order) and prints each object by converting
//! it to JSON and marshalling that with Go's `yaml.v2` (through `sigs.k8s.io/yaml`): keys
//! sorted by `yaml.v2`'s natural order, lines folded at 80 columns, strings plain when they
//! read back as strings, single-quoted when an indicator forbids plain, double-quoted with
//! escapes when they hold special characters, literal blocks for multi-line text, sequences
//! in a mapping not indented; documents joined by `---`. [`Stream`] reproduces that emitter's
//! decisions on the rendered values.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::error::{RenderError, Result};
use crate::output;
use crate::render::{Fleet, RenderedCluster};
use crate::schema::Schemas;

/// Renders cluster `name` of `fleet` in memory (checked against `schemas` when given) and
/// returns its objects as one YAML stream in apply order, as `kubectl kustomize` prints the
/// cluster's rendered folder.
pub fn render_stream(fleet: &Fleet, name: &str, schemas: Option<&Schemas>) -> Result<String> {
    let rendered = fleet.render_cluster(name)?;
    let problems = schemas
        .map(|s| crate::conformance::check(s, &rendered).problems)
        .unwrap_or_default();
    if !problems.is_empty() {
        return Err(RenderError::Problems(problems));
    }
    Ok(to_stream(&rendered))
}

/// The objects of `rendered` in apply order, one YAML document each, separated by `---`.
pub fn to_stream(rendered: &RenderedCluster) -> String {
    let mut out = String::new();
    for (i, o) in output::in_apply_order(&rendered.objects).iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&document(&o.value));
    }
    out
}

/// One value as `yaml.v2` marshals it (as kustomize prints a resource).
pub fn document(value: &Value) -> String {
    let mut s = Stream::new();
    s.node(value, Context::Root);
    // The document end: a final line break unless the value ended with one.
    s.write_indent();
    s.out
}

/// The width past which `yaml.v2` folds a line at the next space.
const BEST_WIDTH: usize = 80;
/// `yaml.v2`'s indentation step.
const BEST_INDENT: i64 = 2;
/// The longest key `yaml.v2` writes as a simple `key:` (longer ones get `? key`).
const SIMPLE_KEY_MAX: usize = 128;

/// Where a node stands, as the emitter tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    Sequence,
    Mapping,
    SimpleKey,
}

/// The styles of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// What the analysis of a scalar allows (the emitter's `scalar_data`).
#[derive(Debug, Clone, Copy)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// The emitter's state: the text so far, the column, the indentation stack and whether the
/// last thing written was whitespace or indentation.
struct Stream {
    out: String,
    column: usize,
    indent: i64,
    indents: Vec<i64>,
    whitespace: bool,
    indention: bool,
    /// The innermost node is a mapping value (a block sequence there is not indented).
    mapping_context: bool,
}

fn byte(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// The length of the UTF-8 character starting with `b`.
fn width(b: u8) -> usize {
    if b & 0x80 == 0 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else if b & 0xF8 == 0xF0 {
        4
    } else {
        1
    }
}

fn is_space(b: &[u8], i: usize) -> bool {
    byte(b, i) == b' '
}

fn is_blank(b: &[u8], i: usize) -> bool {
    matches!(byte(b, i), b' ' | b'\t')
}

fn is_break(b: &[u8], i: usize) -> bool {
    let (c0, c1, c2) = (byte(b, i), byte(b, i + 1), byte(b, i + 2));
    c0 == b'\r'
        || c0 == b'\n'
        || (c0 == 0xC2 && c1 == 0x85)
        || (c0 == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9))
}

fn is_blankz(b: &[u8], i: usize) -> bool {
    is_blank(b, i) || is_break(b, i) || byte(b, i) == 0
}

/// Whether the emitter writes the character unescaped (libyaml's set: no control characters,
/// and nothing outside the Basic Multilingual Plane).
fn is_printable(b: &[u8], i: usize) -> bool {
    let (c0, c1, c2) = (byte(b, i), byte(b, i + 1), byte(b, i + 2));
    c0 == 0x0A
        || (0x20..=0x7E).contains(&c0)
        || (c0 == 0xC2 && c1 >= 0xA0)
        || (c0 > 0xC2 && c0 < 0xED)
        || (c0 == 0xED && c1 < 0xA0)
        || c0 == 0xEE
        || (c0 == 0xEF
            && !(c1 == 0xBB && c2 == 0xBF)
            && !(c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)))
}

fn analyze(value: &[u8]) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = value.starts_with(b"---") || value.starts_with(b"...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut i = 0;
    while i < value.len() {
        let w = width(value[i]);
        let followed_by_whitespace = i + w >= value.len() || is_blank(value, i + w);
        let c = value[i];
        if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => block_indicators = true,
                b'?' | b':' | b'-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                b':' if followed_by_whitespace => block_indicators = true,
                b'#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(value, i) {
            special = true;
        }
        if is_space(value, i) {
            leading_space |= i == 0;
            trailing_space |= i + w == value.len();
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(value, i) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i + w == value.len();
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(value, i);
        i += w;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether `yaml.v2` reads the plain text `s` as something other than a string (a bool, a
/// null, a number, a timestamp, a YAML 1.1 base-60 float), so that it must be quoted. Only
/// text starting with a sign, a digit, a dot, `~` or a letter of `yYnNtTfFoO` can be one
/// (`<<` is not looked up).
fn resolves_to_non_string(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null",
        "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF",
    ];
    if SPECIAL.contains(&s) {
        return true;
    }
    match s.as_bytes().first() {
        Some(b'.') => go_float(s),
        Some(b'+' | b'-' | b'0'..=b'9') => {
            if is_timestamp(s) {
                return true;
            }
            let plain = s.replace('_', "");
            go_int(&plain)
                || (float_syntax(&plain) && go_float(&plain))
                || binary_int(&plain)
                || is_base60_float(s)
        }
        _ => false,
    }
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint` succeeds, or the digits only overflow (Go then
/// reads a big integer): decimal, `0x`, `0o`, `0b` or a leading-zero octal, with a sign.
fn go_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (digits, radix) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (d, 16)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (d, 8)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (d, 2)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// `0b…` / `-0b…` binary integers, which `yaml.v2` tries after the rest.
fn binary_int(s: &str) -> bool {
    let body = s.strip_prefix("-0b").or(s.strip_prefix("0b"));
    body.is_some_and(|d| !d.is_empty() && d.chars().all(|c| c == '0' || c == '1'))
}

/// `yaml.v2`'s float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn float_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` accepts `s` (decimal forms, as `yaml.v2` meets them).
fn go_float(s: &str) -> bool {
    float_syntax(s)
        || matches!(
            s.to_ascii_lowercase().trim_start_matches(['+', '-']),
            "inf" | "infinity" | "nan"
        )
}

/// YAML 1.1 base-60 floats (`1:20`), which `yaml.v2` quotes for other parsers' sake.
fn is_base60_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !body.starts_with(|c: char| c.is_ascii_digit()) || !body.contains(':') {
        return false;
    }
    let (main, fraction) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if fraction.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = main.split(':');
    let first = parts.next().unwrap_or_default();
    if first.is_empty() || !first.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    let mut any = false;
    for part in parts {
        any = true;
        let ok = match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, d] => (b'0'..=b'5').contains(a) && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    any
}

/// Reads 1 or 2 digits (Go's `getnum` without the fixed width) in `lo..=hi`.
fn number(s: &mut &[u8], lo: u32, hi: u32) -> Option<u32> {
    let take = match s {
        [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => 2,
        [a, ..] if a.is_ascii_digit() => 1,
        _ => return None,
    };
    let n = s[..take]
        .iter()
        .fold(0, |n, d| n * 10 + u32::from(d - b'0'));
    *s = &s[take..];
    (lo..=hi).contains(&n).then_some(n)
}

fn expect(s: &mut &[u8], c: u8) -> Option<()> {
    let (first, rest) = s.split_first()?;
    (*first == c).then(|| *s = rest)
}

/// Whether `yaml.v2` reads `s` as a timestamp: `2006-1-2`, `2006-1-2 15:4:5[.frac]` or
/// `2006-1-2T15:4:5[.frac](Z|±07:00)` (`t` too), with a valid date.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: u32 = s[..4].parse().unwrap_or(0);
    let mut rest = &b[5..];
    let date = (|| {
        let month = number(&mut rest, 1, 12)?;
        expect(&mut rest, b'-')?;
        let day = number(&mut rest, 1, 31)?;
        let leap =
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (day <= days).then_some(())
    })();
    if date.is_none() {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let separator = rest[0];
    rest = &rest[1..];
    let time = (|| {
        number(&mut rest, 0, 23)?;
        expect(&mut rest, b':')?;
        number(&mut rest, 0, 59)?;
        expect(&mut rest, b':')?;
        number(&mut rest, 0, 59)?;
        if rest.len() >= 2 && (rest[0] == b'.' || rest[0] == b',') && rest[1].is_ascii_digit() {
            rest = &rest[1..];
            while rest.first().is_some_and(u8::is_ascii_digit) {
                rest = &rest[1..];
            }
        }
        Some(())
    })();
    if time.is_none() {
        return false;
    }
    match separator {
        b' ' => rest.is_empty(),
        b'T' | b't' => match rest {
            [b'Z'] => true,
            [b'+' | b'-', h1, h2, b':', m1, m2] => {
                [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit())
            }
            _ => false,
        },
        _ => false,
    }
}

/// A number as kustomize prints it: integers as they are; a float as Go's JSON writes it and
/// `yaml.v2` reads it back (an integer when it has no fraction), then formats it (`%g`).
fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or_default();
    if f.fract() == 0.0 && f.abs() < 1e21 {
        let digits = format!("{f:.0}");
        if let Ok(i) = digits.parse::<i64>() {
            return i.to_string();
        }
        if digits.parse::<u64>().is_ok() {
            return digits;
        }
    }
    go_format_g(f)
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest digits, in exponent form when the
/// exponent is below -4 or at least 6 (with at least two exponent digits).
fn go_format_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        format!("{f}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// `yaml.v2`'s order of map keys (all strings here): letters before other characters, runs
/// of digits compared as numbers.
fn key_less(a: &str, b: &str) -> bool {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0_i64, 0_i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let digit = |c: char| i64::from(u32::from(c).wrapping_sub(u32::from('0')));
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(digit(ar[ai]));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(digit(br[bi]));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

fn sorted_keys(map: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| {
        if key_less(a, b) {
            Ordering::Less
        } else if key_less(b, a) {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    });
    keys
}

impl Stream {
    fn new() -> Self {
        Self {
            out: String::new(),
            column: 0,
            indent: -1,
            indents: Vec::new(),
            whitespace: true,
            indention: true,
            mapping_context: false,
        }
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// Writes the character of `value` at `*i` and moves past it.
    fn write(&mut self, value: &str, i: &mut usize) {
        let w = width(value.as_bytes()[*i]);
        self.out.push_str(&value[*i..*i + w]);
        self.column += 1;
        *i += w;
    }

    /// Writes the line break of `value` at `*i` and moves past it; the next line starts at
    /// the indentation.
    fn write_break(&mut self, value: &str, i: &mut usize) {
        if value.as_bytes()[*i] == b'\n' {
            self.put_break();
            *i += 1;
        } else {
            self.write(value, i);
            self.column = 0;
        }
        self.indention = true;
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent.max(0)).unwrap_or_default();
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn decrease_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, value: &Value, context: Context) {
        self.mapping_context = matches!(context, Context::Mapping | Context::SimpleKey);
        match value {
            Value::Null => self.scalar("null", Style::Plain, context),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, context),
            Value::Number(n) => self.scalar(&number_text(n), Style::Plain, context),
            Value::String(s) => {
                let style = if s.contains('\n') {
                    Style::Literal
                } else if resolves_to_non_string(s) {
                    Style::Double
                } else {
                    Style::Plain
                };
                self.scalar(s, style, context);
            }
            Value::Array(items) if items.is_empty() => self.empty("[", "]"),
            Value::Object(map) if map.is_empty() => self.empty("{", "}"),
            Value::Array(items) => self.sequence(items),
            Value::Object(map) => self.mapping(map),
        }
    }

    /// An empty collection, in flow style (`[]`, `{}`).
    fn empty(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.decrease_indent();
        self.write_indicator(close, false, false, false);
    }

    fn sequence(&mut self, items: &[Value]) {
        let indentless = self.mapping_context && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Context::Sequence);
        }
        self.decrease_indent();
    }

    fn mapping(&mut self, map: &Map<String, Value>) {
        self.increase_indent(false, false);
        for key in sorted_keys(map) {
            self.write_indent();
            let simple = !analyze(key.as_bytes()).multiline && key.len() <= SIMPLE_KEY_MAX;
            let key_value = Value::String(key.clone());
            if simple {
                self.node(&key_value, Context::SimpleKey);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.node(&key_value, Context::Mapping);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(&map[key.as_str()], Context::Mapping);
        }
        self.decrease_indent();
    }

    fn scalar(&mut self, value: &str, style: Style, context: Context) {
        let a = analyze(value.as_bytes());
        let simple_key = context == Context::SimpleKey;
        let mut style = style;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain_allowed || (value.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let breaks = !simple_key;
        match style {
            Style::Plain => self.flowing(value, breaks, false),
            Style::Single => self.flowing(value, breaks, true),
            Style::Double => self.double_quoted(value, breaks),
            Style::Literal => self.literal(value),
        }
        self.decrease_indent();
    }

    /// A plain or single-quoted scalar (`'` doubled inside), folded at a space past the
    /// width when breaks are allowed (never in a simple key).
    fn flowing(&mut self, value: &str, allow_breaks: bool, quoted: bool) {
        if quoted {
            self.write_indicator("'", true, false, false);
        } else if !self.whitespace {
            self.put(' ');
        }
        let b = value.as_bytes();
        let (mut spaces, mut breaks) = (false, false);
        let mut i = 0;
        while i < b.len() {
            if is_space(b, i) {
                // Plain text never starts or ends with a space; quoted text keeps them.
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != b.len() - 1
                    && !is_space(b, i + 1)
                {
                    self.write_indent();
                    i += 1;
                } else {
                    self.write(value, &mut i);
                }
                spaces = true;
            } else if is_break(b, i) {
                if !breaks && b[i] == b'\n' {
                    self.put_break();
                }
                self.write_break(value, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if quoted && b[i] == b'\'' {
                    self.put('\'');
                }
                self.write(value, &mut i);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        if quoted {
            self.write_indicator("'", false, false, false);
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn double_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let bytes = value.as_bytes();
        // libyaml checks the start of the value for a byte-order mark at every character.
        let bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
        let mut spaces = false;
        let mut at = 0;
        while at < bytes.len() {
            if !is_printable(bytes, at)
                || bom
                || is_break(bytes, at)
                || bytes[at] == b'"'
                || bytes[at] == b'\\'
            {
                let len = width(bytes[at]);
                let ch = value[at..].chars().next().unwrap_or_default();
                at += len;
                self.put('\\');
                match u32::from(ch) {
                    0x00 => self.put('0'),
                    0x07 => self.put('a'),
                    0x08 => self.put('b'),
                    0x09 => self.put('t'),
                    0x0A => self.put('n'),
                    0x0B => self.put('v'),
                    0x0C => self.put('f'),
                    0x0D => self.put('r'),
                    0x1B => self.put('e'),
                    0x22 => self.put('"'),
                    0x5C => self.put('\\'),
                    0x85 => self.put('N'),
                    0xA0 => self.put('_'),
                    0x2028 => self.put('L'),
                    0x2029 => self.put('P'),
                    v => {
                        let (letter, digits) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for ch in format!("{v:0digits$X}").chars() {
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if is_space(bytes, at) {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && at != 0
                    && at != bytes.len() - 1
                {
                    self.write_indent();
                    if is_space(bytes, at + 1) {
                        self.put('\\');
                    }
                    at += 1;
                } else {
                    self.write(value, &mut at);
                }
                spaces = true;
            } else {
                self.write(value, &mut at);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        let b = value.as_bytes();
        if is_space(b, 0) || is_break(b, 0) {
            self.write_indicator("2", false, false, false);
        }
        // The chomping indicator: `-` without a final line break, `+` with more than one.
        let mut end = b.len();
        let last_break = |end: &mut usize| {
            *end -= 1;
            while *end > 0 && b[*end] & 0xC0 == 0x80 {
                *end -= 1;
            }
            is_break(b, *end)
        };
        if !last_break(&mut end) {
            self.write_indicator("-", false, false, false);
        } else if end == 0 || last_break(&mut end) {
            self.write_indicator("+", false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < b.len() {
            if is_break(b, i) {
                self.write_break(value, &mut i);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write(value, &mut i);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// Every style, fold, escape, number and key order decision, against what `kubectl
    /// kustomize` (kustomize v5.5.0) printed for the same object (`tests/stream/`).
    #[test]
    fn matches_what_kubectl_kustomize_printed() {
        let object: Value =
            serde_json::from_str(include_str!("../tests/stream/object.json")).unwrap();
        let expected = include_str!("../tests/stream/kustomize.yaml");
        let got = document(&object);
        if got != expected {
            let first = got
                .lines()
                .zip(expected.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "differs from line {}:\n{}\n--- expected ---\n{}",
                first + 1,
                got.lines()
                    .skip(first)
                    .take(5)
                    .collect::<Vec<_>>()
                    .join("\n"),
                expected
                    .lines()
                    .skip(first)
                    .take(5)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,40}",
            // Long text with runs of spaces, quotes and indicators, to fold.
            "[a-z'\"#:,{} -]{60,200}",
            // Multi-line text, with leading, trailing and repeated breaks and spaces.
            "[ a-z\n]{0,60}",
            prop::sample::select(vec![
                "true",
                "yes",
                "~",
                "",
                "0644",
                "1e3",
                "0x1F",
                "-",
                "- a",
                "a: b",
                "#x",
                "*r",
                "2026-11-22",
                "12:30",
                ".inf",
                " lead",
                "trail ",
                "tab\tx",
                "a\u{1F600}",
            ])
            .prop_map(str::to_owned),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let scalar = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            text().prop_map(Value::String),
        ];
        scalar.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(text(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the emitter decides, the text reads back as the value it was given.
        #[test]
        fn every_document_reads_back_as_its_value(v in value()) {
            let doc = document(&json!({"root": v}));
            let back: Value = plinth_vocab::yaml::from_str(&doc, "stream.yaml")
                .map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
            prop_assert_eq!(&back["root"], &v, "{}", doc);
        }
    }

    #[test]
    fn long_lines_fold_after_80_columns() {
        let text = "word ".repeat(30);
        let doc = document(&json!({"k": text.trim_end()}));
        for line in doc.lines() {
            assert!(line.len() <= 85, "{line}");
        }
        assert!(doc.lines().count() > 1);
        assert!(
            doc.lines().skip(1).all(|l| l.starts_with("  word")),
            "{doc}"
        );
    }
}
