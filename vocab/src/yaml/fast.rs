//! A fast reader for the plain block YAML that kubectl and plinth itself write.
//!
//! serde-saphyr is exact but costs ~50 µs for a typical Kubernetes object, and plinth parses
//! every rendered document and every live object. Almost all of that text is a small, regular
//! subset of YAML: block mappings and sequences, plain and quoted scalars (kubectl wraps long
//! ones over several lines), literal block scalars, plain folded ones (`>-` lines at one
//! indentation), comments, `---` separators, one-line flow collections as people write them
//! (`[a, b]`, `{name: x, size: 1Gi}`) and JSON. [`documents`] reads that subset straight into
//! `serde_json::Value`s and answers `None` ("not sure") for anything else: anchors, aliases,
//! tags, merge keys, complex keys, folded scalars with more-indented lines, escaped line
//! breaks, tabs in structure, directives, duplicate keys, flow collections over several lines
//! or with empty entries or `:` in a plain scalar, scalars whose type it cannot resolve with
//! certainty, anything near serde-saphyr's budgets. The caller then parses the text with serde-saphyr, so every error,
//! limit and odd case keeps its behaviour.
//!
//! The rule this module keeps: whenever [`documents`] returns `Some`, the values are exactly
//! what serde-saphyr returns for the text with plinth's options (YAML 1.1 booleans, legacy
//! octal numbers, duplicate keys refused), one per document, empty documents as null. Scalar
//! resolution mirrors serde-saphyr's `deserialize_any` (`parse_scalars.rs`): null, then YAML
//! 1.1 boolean, then integer, then float, else string; the spellings whose resolution takes
//! more than a few lines to mirror (radix prefixes, underscores, signed zero, leading zeros
//! that are not octal, numbers out of range, non-finite floats) make the reader bail instead.
//! `tests/yaml_fast.rs` holds it to serde-saphyr.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

/// Deepest nesting read here; serde-saphyr's budget is 200 under plinth's options and
/// `serde_json` stops at 128.
const MAX_DEPTH: usize = 128;
/// Most nodes read here beyond one per byte of text: under plinth's options serde-saphyr
/// allows 250,000 nodes plus one per byte (and three events per byte plus 1,000,000), which
/// no text without aliases can exceed.
const MAX_NODES: usize = 200_000;
/// Most documents read here beyond one per 32 bytes of text; plinth allows serde-saphyr
/// 100,000 plus one per 16 bytes. Bounded by the text's size, not fixed, so one template that
/// renders 100,000 objects is not handed to the far slower serde-saphyr.
const MAX_DOCUMENTS: usize = 50_000;
/// Longest implicit key read here; serde-saphyr's scanner looks 1,024 characters ahead for the
/// `:` of a key.
const MAX_KEY: usize = 512;
/// Longest key of a JSON object read here: even fully escaped (`\u0041` for `A`), its source
/// stays under the scanner's 1,024-character look-ahead.
const MAX_JSON_KEY: usize = 160;

/// The documents of `text` (empty ones as null), or `None` when the text is outside the subset
/// this reader is sure about.
pub fn documents(text: &str) -> Option<Vec<Value>> {
    documents_with(text, None)
}

/// What [`documents_mapping_items`] does to each item of a document's `items`.
pub type ItemMap<'m> = &'m dyn Fn(Value) -> Value;

/// [`documents`], with every item of the sequence under a root mapping's `items` key (a
/// `kind: List` as kubectl writes it) replaced by `items(item)`: in a block sequence as soon as
/// the item is read, so that a list of many objects need not be held as one tree (`items` may
/// make each item small, its compact JSON text for instance); in JSON text once read whole.
/// `None` as [`documents`] answers `None`.
pub fn documents_mapping_items(text: &str, items: ItemMap<'_>) -> Option<Vec<Value>> {
    documents_with(text, Some(items))
}

fn documents_with(text: &str, items: Option<ItemMap<'_>>) -> Option<Vec<Value>> {
    let has_tab = printable(text.as_bytes())?;
    if text.trim_start_matches([' ', '\n']).starts_with(['{', '[']) {
        if has_tab {
            return None;
        }
        let mut nodes = 0;
        return json(text, 0, &mut nodes, MAX_NODES + text.len())
            .map(|value| vec![map_root_items(items, value)]);
    }
    let newline = text.ends_with('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut lines: Vec<Line<'_>> = if text.is_empty() {
        Vec::new()
    } else {
        body.split('\n')
            .map(|raw| Line::new(raw, has_tab))
            .collect()
    };
    if !newline && let Some(last) = lines.last_mut() {
        last.unterminated = true;
    }
    Reader {
        lines,
        pos: 0,
        inline: None,
        depth: 0,
        nodes: 0,
        max_nodes: MAX_NODES + text.len(),
        text_len: text.len(),
        items,
        mapping_items: false,
    }
    .stream()
}

/// Checks that `bytes` holds only characters YAML calls printable and that serde-saphyr reads
/// the same way everywhere (no CR, BOM, NEL or line separators); answers whether it holds a tab.
fn printable(bytes: &[u8]) -> Option<bool> {
    // Most text is printable ASCII: check it 32 bytes at a time, without branches, and look
    // closer only at the chunks that hold anything else.
    let plain = |b: u8| (0x20..0x7f).contains(&b) || b == b'\n';
    let mut tab = false;
    for (n, chunk) in bytes.chunks(32).enumerate() {
        if chunk.iter().fold(true, |all, &b| all & plain(b)) {
            continue;
        }
        for (k, &b) in chunk.iter().enumerate() {
            let i = n * 32 + k;
            let next = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
            let refused = match b {
                b'\t' => {
                    tab = true;
                    false
                }
                // C1 controls, U+0085 among them.
                0xc2 => (0x80..=0x9f).contains(&next(1)),
                // U+2028, U+2029.
                0xe2 => next(1) == 0x80 && matches!(next(2), 0xa8 | 0xa9),
                // U+FEFF, U+FFFE, U+FFFF.
                0xef => matches!((next(1), next(2)), (0xbb, 0xbf) | (0xbf, 0xbe | 0xbf)),
                // Other C0 controls (CR among them) and DEL.
                0..=0x1f | 0x7f => b != b'\n',
                _ => false,
            };
            if refused {
                return None;
            }
        }
    }
    Some(tab)
}

/// `doc` with the items under its root `items` key mapped by `items` (when it is a mapping
/// with an `items` array, and there is a map).
pub fn map_root_items(items: Option<ItemMap<'_>>, mut doc: Value) -> Value {
    if let Some(list) = doc.get_mut("items") {
        *list = map_items(items, list.take());
    }
    doc
}

/// `value` with each item mapped by `items` when it is an array (and there is a map).
pub fn map_items(items: Option<ItemMap<'_>>, value: Value) -> Value {
    match (items, value) {
        (Some(map), Value::Array(values)) => Value::Array(values.into_iter().map(map).collect()),
        (_, value) => value,
    }
}

/// What a line is to the block structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Spaces only.
    Blank,
    /// A comment, possibly indented.
    Comment,
    /// Anything else without a tab.
    Content,
    /// `---` with nothing but a comment after it.
    Start,
    /// `...` with nothing but a comment after it.
    End,
    /// A line this reader does not take: a directive, a tab, content after a marker.
    Bad,
}

#[derive(Debug)]
struct Line<'a> {
    /// The line without its line break.
    raw: &'a str,
    /// Leading spaces.
    indent: usize,
    kind: Kind,
    /// The last line of a text that does not end with a line break.
    unterminated: bool,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str, has_tab: bool) -> Self {
        let rest = raw.trim_start_matches(' ');
        let indent = raw.len() - rest.len();
        let kind = if indent == 0 && (raw.starts_with("---") || raw.starts_with("...")) {
            let after = &raw[3..];
            let trimmed = after.trim_start_matches(' ');
            let marker = after.is_empty()
                || (after.starts_with(' ') && (trimmed.is_empty() || trimmed.starts_with('#')));
            match (marker, raw.starts_with('-')) {
                (true, true) => Kind::Start,
                (true, false) => Kind::End,
                (false, _) => Kind::Bad,
            }
        } else {
            match rest.as_bytes().first() {
                None => Kind::Blank,
                Some(b'#') => Kind::Comment,
                Some(b'%') if indent == 0 => Kind::Bad,
                _ if has_tab && rest.contains('\t') => Kind::Bad,
                _ => Kind::Content,
            }
        };
        Self {
            raw,
            indent,
            kind,
            unterminated: false,
        }
    }

    /// The line without trailing spaces.
    fn text(&self) -> &'a str {
        self.raw.trim_end_matches(' ')
    }
}

/// The next line that matters to the block structure.
enum Next<'a> {
    /// The end of the document: a marker or the end of the text.
    End,
    /// A content line (or the rest of one, after `- `) starting at column `indent`.
    Line { indent: usize, text: &'a str },
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    /// The current line.
    pos: usize,
    /// Set when the current line's node starts after a `- ` on it, at this column.
    inline: Option<usize>,
    depth: usize,
    nodes: usize,
    max_nodes: usize,
    /// The text's length in bytes, which bounds the documents read.
    text_len: usize,
    /// What the items of a root mapping's `items` sequence become ([`documents_mapping_items`]).
    items: Option<ItemMap<'a>>,
    /// Set while the value of a root mapping's `items` key is read.
    mapping_items: bool,
}

impl<'a> Reader<'a> {
    fn stream(mut self) -> Option<Vec<Value>> {
        let mut docs = Vec::new();
        // A document without `---` may open the stream or follow `...`.
        let mut bare = true;
        while let Some(line) = self.lines.get(self.pos) {
            match line.kind {
                Kind::Blank | Kind::Comment => {
                    self.pos += 1;
                    continue;
                }
                Kind::End => {
                    self.pos += 1;
                    bare = true;
                    continue;
                }
                Kind::Start => self.pos += 1,
                Kind::Content if bare => {}
                Kind::Content | Kind::Bad => return None,
            }
            docs.push(self.document()?);
            if docs.len() > MAX_DOCUMENTS + self.text_len / 32 {
                return None;
            }
            bare = false;
        }
        Some(docs)
    }

    fn document(&mut self) -> Option<Value> {
        let value = self.node(None, false)?;
        match self.peek()? {
            Next::End => Some(value),
            Next::Line { .. } => None,
        }
    }

    /// The next significant line, skipping blank and comment lines; `None` to bail.
    fn peek(&mut self) -> Option<Next<'a>> {
        if let Some(col) = self.inline {
            let text = self.lines[self.pos].text();
            return Some(Next::Line {
                indent: col,
                text: &text[col..],
            });
        }
        while let Some(line) = self.lines.get(self.pos) {
            match line.kind {
                Kind::Blank | Kind::Comment => self.pos += 1,
                Kind::Content => {
                    return Some(Next::Line {
                        indent: line.indent,
                        text: &line.text()[line.indent..],
                    });
                }
                Kind::Start | Kind::End => return Some(Next::End),
                Kind::Bad => return None,
            }
        }
        Some(Next::End)
    }

    fn advance(&mut self) {
        self.pos += 1;
        self.inline = None;
    }

    fn count(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= self.max_nodes).then_some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        self.count()?;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// The block node below an indicator (a key's `:` or an entry's `-`) at column `parent`,
    /// `None` for the document root; null when there is none. A sequence may sit at the
    /// parent's own column when `seq_at_parent` (the value of a mapping key).
    fn node(&mut self, parent: Option<usize>, seq_at_parent: bool) -> Option<Value> {
        if let Next::Line { indent, text } = self.peek()? {
            let deeper = parent.is_none_or(|p| indent > p);
            if deeper || (seq_at_parent && parent == Some(indent) && is_entry(text)) {
                return if is_entry(text) {
                    self.sequence(indent)
                } else {
                    // A mapping; a scalar on a line of its own (never written by plinth or
                    // kubectl) is not a key, and `mapping` bails on it.
                    self.mapping(indent)
                };
            }
        }
        self.count()?;
        Some(Value::Null)
    }

    /// A block mapping whose keys sit at column `indent`. A line indented deeper than the keys
    /// that no value took (a scalar's continuation, a stray line) makes the reader bail.
    fn mapping(&mut self, indent: usize) -> Option<Value> {
        self.enter()?;
        let mut map = Map::new();
        while let Next::Line { indent: at, text } = self.peek()? {
            if at < indent {
                break;
            }
            if at > indent {
                return None;
            }
            let Split::Key(key, rest) = split_key(text) else {
                return None;
            };
            // Merge keys and duplicate keys are left to serde-saphyr.
            if key == "<<" {
                return None;
            }
            let Entry::Vacant(slot) = map.entry(key) else {
                return None;
            };
            self.count()?;
            let col = indent + text.len() - rest.len();
            self.mapping_items = self.depth == 1 && slot.key() == "items";
            let mut value = self.value(indent, rest, col, true)?;
            // A flow sequence is mapped once read (a block one was, item by item).
            if std::mem::take(&mut self.mapping_items) {
                value = map_items(self.items, value);
            }
            slot.insert(value);
        }
        self.depth -= 1;
        Some(Value::Object(map))
    }

    /// A block sequence whose `-` sit at column `indent`; bails on deeper lines as
    /// [`Self::mapping`] does.
    fn sequence(&mut self, indent: usize) -> Option<Value> {
        // Only the root mapping's `items` sequence itself is mapped, not sequences inside it.
        let map = self
            .items
            .filter(|_| std::mem::take(&mut self.mapping_items));
        self.enter()?;
        let mut items = Vec::new();
        while let Next::Line { indent: at, text } = self.peek()? {
            if at < indent || (at == indent && !is_entry(text)) {
                break;
            }
            if at > indent {
                return None;
            }
            let item = self.value(indent, &text[1..], indent + 1, false)?;
            items.push(match map {
                Some(map) => map(item),
                None => item,
            });
        }
        self.depth -= 1;
        Some(Value::Array(items))
    }

    /// The value after the indicator at column `indent` (`in_map`: a key's `:`, else an
    /// entry's `-`), whose line goes on with `rest` at column `col`.
    fn value(&mut self, indent: usize, rest: &'a str, col: usize, in_map: bool) -> Option<Value> {
        let body = rest.trim_start_matches(' ');
        let col = col + rest.len() - body.len();
        if body.is_empty() || body.starts_with('#') {
            self.advance();
            return self.node(Some(indent), in_map);
        }
        if let Some(rest) = body.strip_prefix(['|', '>']) {
            let header = Header::parse(rest)?;
            self.advance();
            return self.literal(indent, header, body.starts_with('>'));
        }
        if is_entry(body) {
            if in_map {
                return None;
            }
            self.inline = Some(col);
            return self.sequence(col);
        }
        match split_key(body) {
            Split::Key(..) if in_map => None,
            Split::Key(..) => {
                self.inline = Some(col);
                self.mapping(col)
            }
            Split::Scalar => match body.as_bytes()[0] {
                b'[' | b'{' => {
                    let value = self.flow(body)?;
                    self.advance();
                    Some(value)
                }
                b'"' | b'\'' => self.quoted(indent, body),
                _ => self.plain(indent, body),
            },
            Split::Unsure => None,
        }
    }

    /// A plain scalar starting with `body`, below an indicator at column `indent`, with the
    /// lines that continue it (more indented than the indicator), folded: a line break becomes a
    /// space, or as many line breaks as there are empty lines (kubectl wraps long strings so).
    fn plain(&mut self, indent: usize, body: &str) -> Option<Value> {
        self.count()?;
        let (first, mut ended) = plain_part(body)?;
        self.advance();
        let mut folded: Option<String> = None;
        let mut empty = 0usize;
        let mut at = self.pos;
        while !ended && let Some(line) = self.lines.get(at) {
            match line.kind {
                Kind::Blank => empty += 1,
                Kind::Content if line.indent > indent => {
                    let (part, comment) = plain_part(&line.text()[line.indent..])?;
                    let out = folded.get_or_insert_with(|| first.to_owned());
                    if empty == 0 {
                        out.push(' ');
                    }
                    out.extend(std::iter::repeat_n('\n', empty));
                    out.push_str(part);
                    empty = 0;
                    ended = comment;
                    self.pos = at + 1;
                }
                _ => break,
            }
            at += 1;
        }
        resolve(folded.as_deref().unwrap_or(first))
    }

    /// A quoted scalar starting with `body`, below an indicator at column `indent`, closing on
    /// this line or on a later one (more indented than the indicator), folded as a plain scalar
    /// is: kubectl wraps long quoted strings so.
    fn quoted(&mut self, indent: usize, body: &str) -> Option<Value> {
        self.count()?;
        let quote = body.as_bytes()[0];
        let mut out = String::new();
        let mut piece = &body[1..];
        let mut empty = 0usize;
        loop {
            if let Part::Closed(after) = unquote(quote, piece, &mut out)? {
                if !is_line_end(after) {
                    return None;
                }
                break;
            }
            loop {
                self.pos += 1;
                let line = self.lines.get(self.pos)?;
                match line.kind {
                    Kind::Blank => empty += 1,
                    Kind::Content | Kind::Comment if line.indent > indent => {
                        piece = &line.text()[line.indent..];
                        break;
                    }
                    _ => return None,
                }
            }
            if empty == 0 {
                out.push(' ');
            }
            out.extend(std::iter::repeat_n('\n', empty));
            empty = 0;
        }
        self.advance();
        Some(Value::String(out))
    }

    /// A flow collection on one line: the plain YAML flow subset ([`Reader::flow_node`]), or
    /// else JSON that reads the same as YAML.
    fn flow(&mut self, body: &str) -> Option<Value> {
        let (depth, nodes) = (self.depth, self.nodes);
        let mut at = 0;
        if let Some(value) = self.flow_node(body, &mut at)
            && is_line_end(&body[at..])
        {
            return Some(value);
        }
        (self.depth, self.nodes) = (depth, nodes);
        json(body, self.depth, &mut self.nodes, self.max_nodes)
    }

    /// One node of a one-line flow collection starting at `body[*at..]` (spaces first), as
    /// people write them by hand: `[a, b]`, `{name: x, size: 1Gi, tags: [a]}`, with plain or
    /// quoted scalars. Left to serde-saphyr (`None`): empty entries and values, trailing
    /// commas, `?`, `:` or `#` inside a plain scalar, a key without a space after its `:`, a
    /// plain scalar starting with an indicator, duplicate keys, anything over one line.
    fn flow_node(&mut self, body: &str, at: &mut usize) -> Option<Value> {
        self.flow_scalar_or_collection(body, at, false)
    }

    /// [`Reader::flow_node`]; a plain scalar ends at a `:` when it is a mapping's `key`, else
    /// at a `,`, `]` or `}`.
    fn flow_scalar_or_collection(
        &mut self,
        body: &str,
        at: &mut usize,
        key: bool,
    ) -> Option<Value> {
        let bytes = body.as_bytes();
        let skip = |at: &mut usize| {
            while bytes.get(*at) == Some(&b' ') {
                *at += 1;
            }
        };
        skip(at);
        match *bytes.get(*at)? {
            open @ (b'[' | b'{') => {
                self.enter()?;
                *at += 1;
                let close = if open == b'[' { b']' } else { b'}' };
                let mut items = Vec::new();
                let mut map = Map::new();
                skip(at);
                if bytes.get(*at) == Some(&close) {
                    *at += 1;
                } else {
                    loop {
                        if open == b'[' {
                            items.push(self.flow_node(body, at)?);
                        } else {
                            let key = self.flow_key(body, at)?;
                            let value = self.flow_node(body, at)?;
                            if map.insert(key, value).is_some() {
                                return None;
                            }
                        }
                        skip(at);
                        match *bytes.get(*at)? {
                            b',' => *at += 1,
                            b if b == close => {
                                *at += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
                Some(if open == b'[' {
                    Value::Array(items)
                } else {
                    Value::Object(map)
                })
            }
            quote @ (b'"' | b'\'') => {
                self.count()?;
                let mut out = String::new();
                let Part::Closed(after) = unquote(quote, &body[*at + 1..], &mut out)? else {
                    return None;
                };
                *at = body.len() - after.len();
                Some(Value::String(out))
            }
            _ => {
                self.count()?;
                let rest = &body[*at..];
                let end = rest
                    .find([',', '[', ']', '{', '}', ':', '#'])
                    .unwrap_or(rest.len());
                let plain = rest[..end].trim_end_matches(' ');
                let ends_right = match rest.as_bytes().get(end) {
                    Some(b':') => key,
                    Some(b',' | b']' | b'}') => !key,
                    _ => false,
                };
                if !ends_right || !plain_start(plain) || plain.contains('\t') {
                    return None;
                }
                *at += end;
                resolve(plain)
            }
        }
    }

    /// A key of a one-line flow mapping, through its `: `.
    fn flow_key(&mut self, body: &str, at: &mut usize) -> Option<String> {
        let start = *at;
        let Value::String(key) = self.flow_scalar_or_collection(body, at, true)? else {
            return None;
        };
        if *at - start > MAX_KEY {
            return None;
        }
        let rest = body[*at..].strip_prefix(": ")?;
        *at = body.len() - rest.len();
        Some(key)
    }

    /// The content of a literal (or, `folded`, a folded) block scalar below an indicator at
    /// column `indent`, from the current line on. A folded scalar is taken only in its plain
    /// form: lines at the content's indentation without trailing spaces, where a line break
    /// becomes a space and empty lines become line breaks; more-indented lines (kept as they
    /// are by YAML's folding) and empty lines before the first content line are left to
    /// serde-saphyr.
    fn literal(&mut self, indent: usize, header: Header, folded: bool) -> Option<Value> {
        self.count()?;
        let mut content = header.indent.map(|m| indent + m);
        let mut out = String::new();
        let mut any = false;
        // Empty lines seen and not yet written.
        let mut empty = 0usize;
        // The most spaces on an empty line before the first content line.
        let mut leading = 0usize;
        while let Some(line) = self.lines.get(self.pos) {
            let blank = line.indent == line.raw.len();
            let m = match content {
                Some(m) => m,
                None if blank => {
                    if folded {
                        return None;
                    }
                    leading = leading.max(line.indent);
                    empty += 1;
                    if line.unterminated {
                        return None;
                    }
                    self.pos += 1;
                    continue;
                }
                None if line.indent <= indent => break,
                // An empty line before the first content line may not be indented deeper.
                None if leading > line.indent => return None,
                None => *content.insert(line.indent),
            };
            if blank && line.indent <= m {
                empty += 1;
            } else if folded && line.indent > m {
                return None;
            } else if line.indent >= m {
                if folded && line.raw.ends_with([' ', '\t']) {
                    return None;
                }
                if any && !(folded && empty > 0) {
                    out.push(if folded { ' ' } else { '\n' });
                }
                out.extend(std::iter::repeat_n('\n', empty));
                empty = 0;
                out.push_str(&line.raw[m..]);
                any = true;
            } else if line.indent > indent {
                // Less indented than the content but deeper than the indicator: an error to
                // serde-saphyr, even when the line is a comment (which the block structure
                // would otherwise skip).
                return None;
            } else {
                break;
            }
            // serde-saphyr ends an unterminated last line with a line break anyway.
            if line.unterminated {
                return None;
            }
            self.pos += 1;
        }
        match header.chomp {
            Chomp::Strip => {}
            Chomp::Clip => {
                if any {
                    out.push('\n');
                }
            }
            Chomp::Keep => {
                if any {
                    out.push('\n');
                }
                out.extend(std::iter::repeat_n('\n', empty));
            }
        }
        Some(Value::String(out))
    }
}

/// `-` alone or followed by a space: a block sequence entry.
fn is_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Nothing, or a comment after a space.
fn is_line_end(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && rest.starts_with(' '))
}

#[derive(Debug, Clone, Copy)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

#[derive(Debug, Clone, Copy)]
struct Header {
    indent: Option<usize>,
    chomp: Chomp,
}

impl Header {
    /// A literal block scalar's header after the `|`: indentation and chomping indicators in
    /// either order, then nothing or a comment.
    fn parse(text: &str) -> Option<Self> {
        let mut header = Self {
            indent: None,
            chomp: Chomp::Clip,
        };
        let mut chomp_seen = false;
        let mut rest = text;
        while let Some(&b) = rest.as_bytes().first() {
            match b {
                b'1'..=b'9' if header.indent.is_none() => {
                    header.indent = Some(usize::from(b - b'0'));
                }
                b'-' | b'+' if !chomp_seen => {
                    chomp_seen = true;
                    header.chomp = if b == b'-' { Chomp::Strip } else { Chomp::Keep };
                }
                _ => break,
            }
            rest = &rest[1..];
        }
        is_line_end(rest).then_some(header)
    }
}

/// How a line's text starts a node.
enum Split<'a> {
    /// A mapping entry: the key and the text after its `:`.
    Key(String, &'a str),
    /// Not a mapping entry: a scalar or a flow collection.
    Scalar,
    /// Something this reader does not take.
    Unsure,
}

fn split_key(text: &str) -> Split<'_> {
    let bytes = text.as_bytes();
    match bytes.first() {
        None => Split::Unsure,
        Some(b'"' | b'\'') => {
            let mut key = String::new();
            let after = match unquote(bytes[0], &text[1..], &mut key) {
                Some(Part::Closed(after)) => after,
                // A quoted scalar going on on the next line cannot be a key.
                Some(Part::Open) => return Split::Scalar,
                None => return Split::Unsure,
            };
            match after.strip_prefix(':') {
                Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
                    if text.len() - after.len() > MAX_KEY {
                        Split::Unsure
                    } else {
                        Split::Key(key, rest)
                    }
                }
                // A space before the `:`, or text after the closing quote.
                _ if !is_line_end(after) => Split::Unsure,
                _ => Split::Scalar,
            }
        }
        Some(b'[' | b'{') => Split::Scalar,
        Some(_) => {
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b'#' if i > 0 && bytes[i - 1] == b' ' => return Split::Scalar,
                    b':' if bytes.get(i + 1).is_none_or(|&c| c == b' ') => {
                        let key = &text[..i];
                        if i > MAX_KEY || key.ends_with(' ') || !plain_start(key) {
                            return Split::Unsure;
                        }
                        return match resolve(key) {
                            Some(Value::String(key)) => Split::Key(key, &text[i + 1..]),
                            _ => Split::Unsure,
                        };
                    }
                    _ => {}
                }
            }
            Split::Scalar
        }
    }
}

/// Whether `text` may start a plain scalar in block context (and is not `-` alone).
fn plain_start(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b'-') => bytes.get(1).is_some_and(|b| !matches!(b, b' ' | b':')),
        Some(
            b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
            | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`',
        )
        | None => false,
        Some(_) => true,
    }
}

/// One line's part of a plain scalar: the text before a comment, and whether a comment follows.
fn plain_part(text: &str) -> Option<(&str, bool)> {
    let bytes = text.as_bytes();
    let mut end = text.len();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'#' if i > 0 && bytes[i - 1] == b' ' => {
                end = i;
                break;
            }
            // `a: b: c` and `a: b:` are errors.
            b':' if bytes.get(i + 1).is_none_or(|&c| c == b' ') => return None,
            _ => {}
        }
    }
    let part = text[..end].trim_end_matches(' ');
    // Indicators are left to serde-saphyr.
    plain_start(part).then_some((part, end < text.len()))
}

/// How one line's part of a quoted scalar ends.
enum Part<'t> {
    /// With the closing quote, followed by this text.
    Closed(&'t str),
    /// With the line: the scalar goes on.
    Open,
}

/// Appends the content of one line's part of a `quote`d scalar (after the opening quote on its
/// first line) to `out`; `None` for an escape this reader does not take (an escaped line break
/// among them).
fn unquote<'t>(quote: u8, text: &'t str, out: &mut String) -> Option<Part<'t>> {
    if quote == b'\'' {
        let mut rest = text;
        loop {
            let Some(end) = rest.find('\'') else {
                out.push_str(rest);
                return Some(Part::Open);
            };
            out.push_str(&rest[..end]);
            rest = &rest[end + 1..];
            match rest.strip_prefix('\'') {
                Some(more) => {
                    out.push('\'');
                    rest = more;
                }
                None => return Some(Part::Closed(rest)),
            }
        }
    }
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some(Part::Closed(&text[i + 1..])),
            '\\' => {
                let escaped = match chars.next()?.1 {
                    '0' => '\0',
                    'a' => '\x07',
                    'b' => '\x08',
                    't' => '\t',
                    'n' => '\n',
                    'v' => '\x0b',
                    'f' => '\x0c',
                    'r' => '\r',
                    'e' => '\x1b',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(&mut chars, 2)?,
                    'u' => hex(&mut chars, 4)?,
                    'U' => hex(&mut chars, 8)?,
                    _ => return None,
                };
                out.push(escaped);
            }
            c => out.push(c),
        }
    }
    Some(Part::Open)
}

/// The character of the next `digits` hex digits; `None` for a surrogate or past U+10FFFF.
fn hex(chars: &mut std::str::CharIndices<'_>, digits: usize) -> Option<char> {
    let mut code = 0u32;
    for _ in 0..digits {
        code = code * 16 + chars.next()?.1.to_digit(16)?;
    }
    char::from_u32(code)
}

/// Resolves a plain scalar as serde-saphyr's `deserialize_any` does with plinth's options, or
/// `None` when the spelling is one this reader leaves to serde-saphyr.
fn resolve(text: &str) -> Option<Value> {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Value::Null);
    }
    // YAML 1.1 booleans, any case: `strict_booleans` is off.
    if text.len() <= 5 {
        let is = |words: [&str; 4]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
        if is(["y", "yes", "true", "on"]) {
            return Some(Value::Bool(true));
        }
        if is(["n", "no", "false", "off"]) {
            return Some(Value::Bool(false));
        }
    }
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    // No integer or float spelling starts with anything but a digit or a `.` after its sign
    // (`inf` and `nan` parse as floats, but serde-saphyr keeps non-finite values that do not
    // start with a digit as strings).
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Some(Value::String(text.to_owned()));
    }
    let bytes = unsigned.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        return integer(unsigned, negative);
    }
    // Spellings the integer parser may still take: radix prefixes, legacy octal with
    // underscores, decimal with underscores.
    let after_zero = unsigned.strip_prefix('0');
    if after_zero.is_some_and(|r| {
        r.starts_with(['x', 'X', 'o', 'O', 'b', 'B'])
            || r.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    }) || bytes.iter().all(|&b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    match text.parse::<f64>() {
        Ok(float) if float.is_finite() => Some(Value::from(float)),
        Ok(_) => None,
        // `.inf` and `.nan` in their YAML spellings are non-finite floats: refused.
        Err(_)
            if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") =>
        {
            None
        }
        Err(_) => Some(Value::String(text.to_owned())),
    }
}

/// A plain integer of decimal digits: decimal, or YAML 1.1 octal after a leading zero.
fn integer(digits: &str, negative: bool) -> Option<Value> {
    if digits == "0" {
        // `-0` reads as 0 through serde-saphyr's signed path; left to it.
        return (!negative).then_some(Value::from(0u64));
    }
    if let Some(octal) = digits.strip_prefix('0') {
        // `09` is a float for serde-saphyr; negative octal is left to it too.
        if negative || !octal.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return None;
        }
        return u64::from_str_radix(octal, 8).ok().map(Value::from);
    }
    if negative {
        // Out of range it becomes a float: left to serde-saphyr.
        let magnitude = digits.parse::<u64>().ok()?;
        let value = 0i64.checked_sub_unsigned(magnitude)?;
        return Some(Value::from(value));
    }
    digits.parse::<u64>().ok().map(Value::from)
}

/// A JSON value that YAML reads the same way: no floats (`serde_json` rounds some differently
/// without its `float_roundtrip` feature, and reads `-0` as a float), no duplicate keys, no long
/// keys. Both pair surrogate escapes and refuse lone ones; tabs and CRs never get here.
fn json(text: &str, depth: usize, nodes: &mut usize, max_nodes: usize) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Json {
        depth,
        nodes,
        max_nodes,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    Some(value)
}

/// Builds a `Value` from JSON, refusing what YAML would read differently.
struct Json<'n> {
    depth: usize,
    nodes: &'n mut usize,
    max_nodes: usize,
}

impl Json<'_> {
    fn count<E: de::Error>(&mut self) -> Result<(), E> {
        *self.nodes += 1;
        if *self.nodes > self.max_nodes {
            return Err(E::custom("too many nodes"));
        }
        Ok(())
    }

    /// [`Self::count`] for a sequence or mapping, refused at [`MAX_DEPTH`].
    fn count_collection<E: de::Error>(&mut self) -> Result<(), E> {
        self.count()?;
        if self.depth >= MAX_DEPTH {
            return Err(E::custom("too deep"));
        }
        Ok(())
    }

    fn child(&mut self) -> Json<'_> {
        Json {
            depth: self.depth + 1,
            nodes: &mut *self.nodes,
            max_nodes: self.max_nodes,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Json<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Json<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON that YAML reads the same way")
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<Value, E> {
        self.count()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<Value, E> {
        self.count()?;
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Err(E::custom("floats are left to serde-saphyr"))
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<Value, E> {
        self.count()?;
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        self.count_collection()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<Value, A::Error> {
        self.count_collection()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            self.count()?;
            if key.len() > MAX_JSON_KEY || map.contains_key(&key) {
                return Err(de::Error::custom("key left to serde-saphyr"));
            }
            let value = access.next_value_seed(self.child())?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_kubectl_style_object() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    app: web\n  name: x\n  \
                    finalizers:\n  - a\n  - b\ndata:\n  script: |\n    echo hi\n    exit 0\n  \
                    mode: '0644'\n  empty: \"\"\n  count: 3\n";
        let docs = documents(text).unwrap();
        assert_eq!(
            docs,
            vec![json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"labels": {"app": "web"}, "name": "x", "finalizers": ["a", "b"]},
                "data": {"script": "echo hi\nexit 0\n", "mode": "0644", "empty": "", "count": 3}
            })]
        );
    }

    #[test]
    fn scalars_resolve_as_serde_saphyr_resolves_them() {
        let cases = [
            ("nginx", Some(json!("nginx"))),
            ("2Gi", Some(json!("2Gi"))),
            ("10.0.0.1", Some(json!("10.0.0.1"))),
            ("0.0.0.0", Some(json!("0.0.0.0"))),
            ("Yes", Some(json!(true))),
            ("n", Some(json!(false))),
            ("~", Some(Value::Null)),
            ("0644", Some(json!(420))),
            ("09", None),
            ("1_000", None),
            ("0x1F", None),
            ("-12", Some(json!(-12))),
            ("-0", None),
            ("+1", Some(json!(1))),
            ("1.5", Some(json!(1.5))),
            ("1e400", None),
            (".inf", None),
            ("inf", Some(json!("inf"))),
            ("18446744073709551616", None),
        ];
        for (text, want) in cases {
            assert_eq!(resolve(text), want, "{text}");
        }
    }

    #[test]
    fn bails_on_what_it_does_not_take() {
        for text in [
            "a: &x 1\n",
            "a: *x\n",
            "a: !t 1\n",
            "<<: {}\n",
            "? a\n: b\n",
            "a: >\n   more\n  x\n",
            "a: >\n\n  x\n",
            "a: >\n  x \n  y\n",
            "a: x\n  - y\n",
            "a: \"x\\\n  y\"\n",
            "a: 1\na: 2\n",
            "%YAML 1.2\n---\na: 1\n",
            "a:\n\t- x\n",
            "a: 'x\ny'\n",
            "~: x\n",
        ] {
            assert_eq!(documents(text), None, "{text:?}");
        }
    }
}
