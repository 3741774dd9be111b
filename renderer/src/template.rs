//! The minijinja environment that renders asset templates: strict undefined (a missing
//! variable is an error with file and line), no autoescape, a fuel limit against runaway
//! loops, templates loaded only from inside the catalog's repository, and the field's
//! filters (`to_yaml`, `to_json`, `b64encode`, `sha256`, `quantity`).

use base64::Engine as _;
use minijinja::value::Serde;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use sha2::{Digest as _, Sha256};

use crate::error::{RenderError, Result};
use crate::quantity::Quantity;
use crate::source::{Source, join_beside};
use crate::yaml;

/// Compiled templates of one catalog.
pub struct Templates {
    env: Environment<'static>,
    /// The catalog file's path within its source; template names are relative to its folder.
    catalog_path: String,
    /// Prefix shown before paths in messages (`builtin:` for the shipped baseline).
    shown: String,
    fuel: u64,
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
) -> std::result::Result<minijinja::Value, minijinja::Error> {
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
    Ok(q.as_i64().map_or_else(
        || minijinja::Value::from(q.as_f64()),
        minijinja::Value::from,
    ))
}

impl Templates {
    /// An environment whose templates are read from `source`, relative to `catalog_path`.
    pub fn new(source: Source, catalog_path: &str, shown: &str, fuel: u64, limit: u64) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_fuel(Some(fuel));
        env.set_recursion_limit(64);
        // Python-style methods templates expect: `m.get(k, d)`, `m.items()`, `s.startswith(x)`.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .unwrap_or_default(),
        );
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
        }
    }

    /// The path of a template as users see it in messages.
    pub fn display_path(&self, name: &str) -> String {
        let rel = join_beside(&self.catalog_path, name).unwrap_or_else(|_| name.to_owned());
        format!("{}{rel}", self.shown)
    }

    /// Renders template `name` (relative to the catalog's folder) with `ctx`.
    pub fn render(&self, asset: &str, name: &str, ctx: minijinja::Value) -> Result<String> {
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
        template.render(ctx).map_err(|err| self.convert(&err, name))
    }

    fn convert(&self, err: &minijinja::Error, name: &str) -> RenderError {
        let at = err.name().unwrap_or(name);
        let path = self.display_path(at);
        if err.kind() == ErrorKind::OutOfFuel {
            return RenderError::FuelExhausted {
                path,
                fuel: self.fuel,
            };
        }
        let mut message = err.kind().to_string();
        if let Some(detail) = err.detail() {
            message = format!("{message}: {detail}");
        }
        // Name the expression at fault (template text only, never a value).
        if let (Some(range), Ok(t)) = (err.range(), self.env.get_template(at))
            && let Some(expr) = t.source().get(range)
        {
            let expr = expr.trim();
            if !expr.is_empty()
                && expr.len() < 120
                && !expr.contains('\n')
                && !message.contains(&format!("`{expr}`"))
            {
                message = format!("{message} in `{expr}`");
            }
        }
        RenderError::Template {
            path,
            line: err.line().unwrap_or(0),
            message,
        }
    }
}
