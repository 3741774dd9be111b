//! The minijinja environment that renders asset templates: strict undefined (a missing
//! variable is an error with file and line), no autoescape, a fuel limit against runaway
//! loops, a bound on the bytes a template may produce (enforced while it renders),
//! templates loaded only from inside the catalog's repository, and the field's filters
//! (`to_yaml`, `to_json`, `b64encode`, `sha256`, `quantity`).

use std::cell::Cell;
use std::fmt::Write as _;

use base64::Engine as _;
use minijinja::value::Serde;
use minijinja::{Environment, ErrorKind, Output, State, UndefinedBehavior, Value};
use sha2::{Digest as _, Sha256};

use crate::error::{RenderError, Result};
use crate::source::{Source, join_beside};
use plinth_vocab::quantity::Quantity;
use plinth_vocab::yaml;

/// Compiled templates of one catalog.
pub struct Templates {
    env: Environment<'static>,
    /// The catalog file's path within its source; template names are relative to its folder.
    catalog_path: String,
    /// Prefix shown before paths in messages (`builtin:` for the shipped baseline).
    shown: String,
    fuel: u64,
    /// Bytes one render may produce (`limits.maxFileBytes`).
    output_limit: u64,
}

/// What the render running on this thread has produced so far, against its limit. A render
/// runs on one thread from start to end, so the writer and the formatter (which minijinja
/// shares between threads) keep their counts here.
#[derive(Debug, Clone, Copy)]
struct Budget {
    limit: u64,
    /// Bytes of the template's output so far (template text and expressions).
    written: u64,
    /// Bytes every `{{ expression }}` produced so far, also into `set` blocks, `filter`
    /// blocks and macro calls that do not reach the output directly.
    formatted: u64,
    /// Whether the output went past the limit.
    exceeded: bool,
    /// The address of the text whose writing went past the limit (0 for an expression's).
    at: usize,
}

impl Budget {
    const UNLIMITED: Self = Self {
        limit: u64::MAX,
        written: 0,
        formatted: 0,
        exceeded: false,
        at: 0,
    };
}

thread_local! {
    static BUDGET: Cell<Budget> = const { Cell::new(Budget::UNLIMITED) };
}

/// Sets the budget of one render on this thread and puts the previous one back when dropped.
struct BudgetGuard(Budget);

impl BudgetGuard {
    fn start(limit: u64) -> Self {
        Self(BUDGET.with(|b| {
            b.replace(Budget {
                limit,
                ..Budget::UNLIMITED
            })
        }))
    }

    /// Where the render went past its limit: the address of the text written then (0 for an
    /// expression's text), or `None` when it stayed within.
    #[allow(clippy::unused_self)] // consumes the guard: read before the previous budget returns
    fn stopped_at(self) -> Option<usize> {
        BUDGET.with(|b| {
            let budget = b.get();
            budget.exceeded.then_some(budget.at)
        })
    }
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        BUDGET.with(|b| b.set(self.0));
    }
}

/// The render's output: keeps bytes up to the budget's limit and fails the write that would
/// go past it, remembering where that text was (minijinja replaces the located error with
/// its own when a write fails).
struct LimitedWriter {
    buf: Vec<u8>,
}

impl std::io::Write for LimitedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let within = BUDGET.with(|b| {
            let mut budget = b.get();
            let len = data.len() as u64;
            if budget.exceeded || budget.written.saturating_add(len) > budget.limit {
                if !budget.exceeded {
                    budget.exceeded = true;
                    budget.at = data.as_ptr() as usize;
                }
                b.set(budget);
                return false;
            }
            budget.written += len;
            b.set(budget);
            true
        });
        if !within {
            return Err(std::io::Error::other(OUTPUT_LIMIT));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The innermost minijinja error of a chain that knows its line (an error in an included
/// template is the source of the error at the `include`).
fn innermost(err: &minijinja::Error) -> &minijinja::Error {
    let mut found = err;
    let mut at = err;
    while let Some(inner) =
        std::error::Error::source(at).and_then(|s| s.downcast_ref::<minijinja::Error>())
    {
        if inner.line().is_some() {
            found = inner;
        }
        at = inner;
    }
    found
}

/// Counts the bytes a value formats to, without keeping them.
struct Counter(u64);

impl std::fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len() as u64;
        Ok(())
    }
}

/// The message of the error that stops a render at its output limit (the budget, not the
/// message, tells [`Templates::render`] why the render stopped).
const OUTPUT_LIMIT: &str = "plinth: template output limit reached";

/// Runs `check` on the render's budget (keeping what it changes): the output-limit error when
/// it says the render is not within the budget.
fn within_budget(check: impl FnOnce(&mut Budget) -> bool) -> Result<(), minijinja::Error> {
    let within = BUDGET.with(|b| {
        let mut budget = b.get();
        let within = check(&mut budget);
        b.set(budget);
        within
    });
    if within {
        Ok(())
    } else {
        Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            OUTPUT_LIMIT,
        ))
    }
}

/// minijinja's formatter with the budget checked before each expression's text is written,
/// so one expression cannot put more than the limit into memory through the output.
fn limited_formatter(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let len = if let Some(s) = value.as_str() {
        s.len() as u64
    } else {
        let mut counter = Counter(0);
        let _ = write!(counter, "{value}");
        counter.0
    };
    within_budget(|budget| {
        budget.formatted = budget.formatted.saturating_add(len);
        let stop = budget.exceeded
            || budget.formatted > budget.limit
            || budget.written.saturating_add(len) > budget.limit;
        budget.exceeded |= stop;
        !stop
    })?;
    minijinja::escape_formatter(out, state, value)
}

/// Refuses, before any memory is taken, a string filter whose result would be larger than the
/// render's output limit (`replace` and `join` can multiply their input's size: a separator
/// of 100 MB joined 100,000 times would abort the process on allocation failure).
fn check_result_size(len: u64) -> Result<(), minijinja::Error> {
    within_budget(|budget| {
        let over = len > budget.limit;
        if over {
            budget.exceeded = true;
            budget.at = 0;
        }
        !over
    })
}

/// The length `value` formats to.
fn display_len(value: &Value) -> u64 {
    value.as_str().map_or_else(
        || {
            let mut counter = Counter(0);
            let _ = write!(counter, "{value}");
            counter.0
        },
        |s| s.len() as u64,
    )
}

/// minijinja's `replace`, refused when its result would pass the output limit.
fn bounded_replace(
    state: &mut State,
    value: minijinja::value::StringInput<'_>,
    from: minijinja::value::StringInput<'_>,
    to: minijinja::value::StringInput<'_>,
) -> Result<Value, minijinja::Error> {
    let (text, pattern, with) = (value.as_str(), from.as_str(), to.as_str());
    let count = if pattern.is_empty() {
        text.chars().count() as u64 + 1
    } else {
        text.matches(pattern).count() as u64
    };
    let grows = (with.len() as u64).saturating_sub(pattern.len() as u64);
    check_result_size((text.len() as u64).saturating_add(count.saturating_mul(grows)))?;
    minijinja::filters::replace(state, value, from, to)
}

/// minijinja's `join`, refused when its result would pass the output limit.
fn bounded_join(
    state: &mut State,
    value: &Value,
    joiner: Option<minijinja::value::StringInput<'_>>,
    attribute: Option<&str>,
    kwargs: minijinja::value::Kwargs,
) -> Result<Value, minijinja::Error> {
    let sep = joiner.as_ref().map_or(0, |j| j.as_str().len() as u64);
    // Only a sequence of known length is measured (iterating a one-shot iterator here would
    // empty it for `join`).
    if value.len().is_some()
        && let Ok(items) = value.try_iter()
    {
        let mut len = 0u64;
        for (i, item) in items.enumerate() {
            if i > 0 {
                len = len.saturating_add(sep);
            }
            if attribute.is_none() {
                len = len.saturating_add(display_len(&item));
            }
            check_result_size(len)?;
        }
    }
    minijinja::filters::join(state, value, joiner, attribute, kwargs)
}

/// minijinja's `indent`, refused when its result would pass the output limit.
#[allow(clippy::needless_pass_by_value)] // minijinja hands filter arguments over by value
fn bounded_indent(
    state: &mut State,
    value: &Value,
    args: minijinja::value::Rest<Value>,
    kwargs: minijinja::value::Kwargs,
) -> Result<Value, minijinja::Error> {
    let width = args
        .first()
        .cloned()
        .or_else(|| kwargs.get::<Value>("width").ok())
        .and_then(|w| u64::try_from(w).ok())
        .unwrap_or(0);
    if let Some(text) = value.as_str() {
        let lines = text.matches('\n').count() as u64 + 1;
        check_result_size((text.len() as u64).saturating_add(lines.saturating_mul(width)))?;
    }
    call_builtin(state, minijinja::filters::indent, value, &args, kwargs)
}

/// minijinja's `format` (printf style), refused when the widths and precisions of its
/// conversions (`%2000000000s`) would take its result past the output limit.
#[allow(clippy::needless_pass_by_value)] // minijinja hands filter arguments over by value
fn bounded_format(
    state: &mut State,
    value: &Value,
    args: minijinja::value::Rest<Value>,
    kwargs: minijinja::value::Kwargs,
) -> Result<Value, minijinja::Error> {
    if let Some(text) = value.as_str() {
        let mut len = text.len() as u64;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                continue;
            }
            while chars.next_if(|c| "-+ #0".contains(*c)).is_some() {}
            for _ in 0..2 {
                let mut n = 0u64;
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    n = n
                        .saturating_mul(10)
                        .saturating_add(u64::from(d.to_digit(10).unwrap_or(0)));
                }
                len = len.saturating_add(n);
                if chars.next_if_eq(&'.').is_none() {
                    break;
                }
            }
        }
        for arg in args.iter() {
            len = len.saturating_add(display_len(arg));
        }
        check_result_size(len)?;
    }
    call_builtin(state, minijinja::filters::format, value, &args, kwargs)
}

/// Calls one of minijinja's built-in filters with the arguments a wrapper received.
fn call_builtin<F, Rv, Args>(
    state: &mut State,
    filter: F,
    value: &Value,
    args: &[Value],
    kwargs: minijinja::value::Kwargs,
) -> Result<Value, minijinja::Error>
where
    F: minijinja::functions::Function<Rv, Args>,
    Rv: minijinja::value::FunctionResult,
    Args: for<'a> minijinja::value::FunctionArgs<'a>,
{
    let mut all = Vec::with_capacity(args.len() + 1);
    all.push(value.clone());
    all.extend(args.iter().cloned());
    if kwargs.args().next().is_some() {
        all.push(Value::from(kwargs));
    }
    Value::from_function(filter).call(state, &all)
}

/// minijinja's `tojson`, refused when its indentation would take its result past the output
/// limit (`tojson(indent=2000000000)`): every value of the JSON text may get its own line,
/// indented at most as deep as the value nests.
fn bounded_tojson(
    value: &Value,
    indent: Option<Value>,
    kwargs: minijinja::value::Kwargs,
) -> Result<Value, minijinja::Error> {
    let width = indent
        .clone()
        .or_else(|| kwargs.get::<Option<Value>>("indent").ok().flatten())
        .and_then(|w| u64::try_from(w).ok())
        .unwrap_or(0);
    if width > 2 {
        let compact = display_len(value);
        check_result_size(compact.saturating_mul(width.saturating_add(1)))?;
    }
    minijinja::filters::tojson(value, indent, kwargs)
}

/// Python's `str.format` (from `minijinja-contrib`) and the other Python-style methods,
/// with `format` refused when the widths and precisions in its fields (`{:>2000000000}`)
/// would take its result past the output limit.
fn bounded_methods(
    state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, minijinja::Error> {
    if method == "format"
        && let Some(text) = value.as_str()
    {
        let mut len = text.len() as u64;
        // Every run of digits after a `:` inside a `{...}` field may be a width or precision.
        let mut in_spec = false;
        let mut n = 0u64;
        for c in text.chars() {
            match c {
                '{' | '}' => in_spec = false,
                ':' => in_spec = true,
                _ => {}
            }
            if in_spec && let Some(d) = c.to_digit(10) {
                n = n.saturating_mul(10).saturating_add(u64::from(d));
            } else {
                len = len.saturating_add(n);
                n = 0;
            }
        }
        len = len.saturating_add(n);
        for arg in args {
            len = len.saturating_add(display_len(arg));
        }
        check_result_size(len)?;
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("catalog_path", &self.catalog_path)
            .finish_non_exhaustive()
    }
}

// minijinja hands filter arguments over by value.
#[allow(clippy::needless_pass_by_value)]
fn filter_to_yaml(value: Serde<serde_json::Value>) -> String {
    let text = yaml::to_string(&value.0);
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

#[allow(clippy::needless_pass_by_value)]
fn filter_to_json(value: Serde<serde_json::Value>) -> String {
    serde_json::to_string(&value.0).unwrap_or_default()
}

fn filter_b64encode(value: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
}

fn filter_sha256(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

#[allow(clippy::needless_pass_by_value)]
fn filter_quantity(
    value: Serde<serde_json::Value>,
) -> std::result::Result<Value, minijinja::Error> {
    let text = match &value.0 {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        other => {
            return Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("`quantity` needs a string or a number, not {other}"),
            ));
        }
    };
    let q = Quantity::parse(&text).ok_or_else(|| {
        minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("`{text}` is not a Kubernetes quantity"),
        )
    })?;
    Ok(q.as_i64()
        .map_or_else(|| Value::from(q.as_f64()), Value::from))
}

impl Templates {
    /// An environment whose templates are read from `source`, relative to `catalog_path`.
    /// `limit` bounds both the template files read and the bytes one render may produce.
    pub fn new(source: Source, catalog_path: &str, shown: &str, fuel: u64, limit: u64) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_fuel(Some(fuel));
        env.set_recursion_limit(64);
        // Python-style methods templates expect: `m.get(k, d)`, `m.items()`, `s.startswith(x)`.
        env.set_unknown_method_callback(bounded_methods);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .unwrap_or_default(),
        );
        env.set_formatter(limited_formatter);
        env.add_filter("replace", bounded_replace);
        env.add_filter("join", bounded_join);
        env.add_filter("indent", bounded_indent);
        env.add_filter("format", bounded_format);
        env.add_filter("tojson", bounded_tojson);
        env.add_filter("to_yaml", filter_to_yaml);
        env.add_filter("to_json", filter_to_json);
        env.add_filter("b64encode", filter_b64encode);
        env.add_filter("sha256", filter_sha256);
        env.add_filter("quantity", filter_quantity);
        let base = catalog_path.to_owned();
        env.set_loader(move |name| {
            let rel = join_beside(&base, name)
                .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
            if !source
                .is_file(&rel)
                .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?
            {
                return Ok(None);
            }
            source
                .read_text(&rel, limit)
                .map(Some)
                .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))
        });
        Self {
            env,
            catalog_path: catalog_path.to_owned(),
            shown: shown.to_owned(),
            fuel,
            output_limit: limit,
        }
    }

    /// The path of a template as users see it in messages.
    pub fn display_path(&self, name: &str) -> String {
        let rel = join_beside(&self.catalog_path, name).unwrap_or_else(|_| name.to_owned());
        format!("{}{rel}", self.shown)
    }

    /// Renders template `name` (relative to the catalog's folder) with `ctx`. Its output is
    /// bounded by the limit while it renders: past it the render stops with a located error.
    pub fn render(&self, asset: &str, name: &str, ctx: Value) -> Result<String> {
        let template = self
            .env
            .get_template(name)
            .map_err(|err| match err.kind() {
                ErrorKind::TemplateNotFound if err.name().is_none_or(|n| n == name) => {
                    RenderError::MissingTemplate {
                        asset: asset.to_owned(),
                        path: self.display_path(name),
                    }
                }
                _ => self.convert(&err, name),
            })?;
        let budget = BudgetGuard::start(self.output_limit);
        let mut out = LimitedWriter { buf: Vec::new() };
        let result = template.render_captured_to(ctx, &mut out).map(drop);
        let stopped = budget.stopped_at();
        match (result, stopped) {
            (Ok(()), None) => String::from_utf8(out.buf).map_err(|_| RenderError::Template {
                path: self.display_path(name),
                line: 0,
                message: "the output is not valid UTF-8".into(),
                expr: None,
            }),
            (result, Some(at)) => Err(self.too_large(asset, name, result.err().as_ref(), at)),
            (Err(err), None) => Err(self.convert(&err, name)),
        }
    }

    /// The output-limit error, located at the expression that went past the limit, or at the
    /// template text that did (found by its address in the template's source).
    fn too_large(
        &self,
        asset: &str,
        name: &str,
        err: Option<&minijinja::Error>,
        at: usize,
    ) -> RenderError {
        let (at_name, line) = match err.map(innermost) {
            Some(e) if e.kind() != ErrorKind::WriteFailure && e.line().is_some() => {
                (e.name().unwrap_or(name).to_owned(), e.line())
            }
            _ => (name.to_owned(), self.line_of_text(name, at)),
        };
        RenderError::TemplateOutputTooLarge {
            asset: asset.to_owned(),
            path: self.display_path(&at_name),
            line,
            limit: self.output_limit,
        }
    }

    /// The line of template `name` whose text starts at memory address `at`, when the text
    /// written last is a piece of that template's source.
    fn line_of_text(&self, name: &str, at: usize) -> Option<usize> {
        let template = self.env.get_template(name).ok()?;
        let source = template.source();
        let offset = at.checked_sub(source.as_ptr() as usize)?;
        let before = source.as_bytes().get(..offset)?;
        Some(before.split(|b| *b == b'\n').count())
    }

    fn convert(&self, err: &minijinja::Error, name: &str) -> RenderError {
        // An error inside an `include` is wrapped by one at the `include`: name the innermost
        // template and line, where the problem is.
        let err = innermost(err);
        let at = err.name().unwrap_or(name);
        let path = self.display_path(at);
        if err.kind() == ErrorKind::OutOfFuel {
            return RenderError::FuelExhausted {
                path,
                line: err.line(),
                fuel: self.fuel,
            };
        }
        // The expression at fault (template text only, never a value).
        let expr = err
            .range()
            .zip(self.env.get_template(at).ok())
            .and_then(|(range, t)| t.source().get(range).map(|e| e.trim().to_owned()))
            .filter(|e| !e.is_empty() && e.len() < 120 && !e.contains('\n'));
        if err.kind() == ErrorKind::TemplateNotFound {
            // The missing name may come from a parameter: show the template's own text only.
            let what = expr.as_ref().map_or_else(
                || "an include, import or extends".to_owned(),
                |e| format!("`{e}`"),
            );
            return RenderError::Template {
                path,
                line: err.line().unwrap_or(0),
                message: format!(
                    "{what} names a template that does not exist (templates are found beside the catalog)"
                ),
                expr,
            };
        }
        let mut message = err.kind().to_string();
        if let Some(detail) = err.detail() {
            message = format!("{message}: {detail}");
        }
        RenderError::Template {
            path,
            line: err.line().unwrap_or(0),
            message,
            expr,
        }
    }
}
