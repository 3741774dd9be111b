//! Offline schema validation: rendered objects checked against the `openAPIV3Schema` of the
//! `CustomResourceDefinitions` in a folder of CRD files, the way the API server would check
//! them (types, required, enum, pattern, formats, bounds, nullable, items, properties,
//! additionalProperties, list types, `x-kubernetes-preserve-unknown-fields`,
//! `x-kubernetes-int-or-string`, `x-kubernetes-embedded-resource`, allOf/anyOf/oneOf).
//! CEL rules (`x-kubernetes-validations`) are not evaluated.
//!
//! Messages never quote a value of the checked object (it may be a token, a URL with a
//! password, a JWT): they name the field path, the value's type (a string by its length), and
//! what the *schema* allows (enum options, pattern, bounds). Only `true`, `false` and `null`
//! are shown as they are. See docs/security.md.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use regex::Regex;
use serde_json::Value;

use crate::error::{RenderError, Result};
use plinth_vocab::Problem;
use plinth_vocab::yaml;

/// Deepest schema nesting followed (a hostile CRD cannot recurse forever).
const MAX_DEPTH: usize = 128;

/// One served version of one CRD.
#[derive(Debug, Clone)]
struct Entry {
    /// Where the CRD came from, for messages.
    file: String,
    schema: Value,
}

/// The schemas of a folder of CRD files, by API group, version and kind.
#[derive(Debug, Clone, Default)]
pub struct Schemas {
    entries: BTreeMap<(String, String, String), Entry>,
    patterns: BTreeMap<String, Regex>,
    /// The resource each CRD defines, by API group and kind.
    resources: BTreeMap<(String, String), CrdResource>,
}

/// What a `CustomResourceDefinition` says about the resource it defines: the API group and
/// kind, the plural (the resource's name in request paths and RBAC rules) and the scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdResource {
    pub group: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl CrdResource {
    /// The resource `doc` defines, when it is a CRD naming its group, `spec.names.kind`,
    /// `spec.names.plural` and a `spec.scope` of `Namespaced` or `Cluster`; else `None`.
    pub fn of(doc: &Value) -> Option<Self> {
        if doc.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
            return None;
        }
        let spec = doc.get("spec")?;
        let text = |pointer: &str| spec.pointer(pointer).and_then(Value::as_str);
        let namespaced = match text("/scope")? {
            "Namespaced" => true,
            "Cluster" => false,
            _ => return None,
        };
        Some(Self {
            group: text("/group")?.to_owned(),
            kind: text("/names/kind")?.to_owned(),
            plural: text("/names/plural").filter(|p| !p.is_empty())?.to_owned(),
            namespaced,
        })
    }
}

fn is_crd_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>, depth: usize) -> Result<()> {
    let entries = fs_err::read_dir(dir).map_err(|source| RenderError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| RenderError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let path = entry.path();
        if path.is_dir() {
            if depth < 8 {
                collect_files(&path, out, depth + 1)?;
            }
        } else if is_crd_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn walk_patterns(v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "pattern"
                    && let Value::String(p) = child
                {
                    out.push(p.clone());
                } else {
                    walk_patterns(child, out, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for child in items {
                walk_patterns(child, out, depth + 1);
            }
        }
        _ => {}
    }
}

impl Schemas {
    /// Loads every CRD of the `*.yaml`, `*.yml` and `*.json` files under `dir` (documents of
    /// other kinds are ignored). Files larger than `limit` bytes are refused.
    pub fn load_dir(dir: &Path, limit: u64) -> Result<Self> {
        let mut files = Vec::new();
        collect_files(dir, &mut files, 0)?;
        files.sort();
        let mut schemas = Self::default();
        for file in files {
            let shown = file.display().to_string();
            let size = fs_err::metadata(&file)
                .map_err(|source| RenderError::Io {
                    path: shown.clone(),
                    source,
                })?
                .len();
            if size > limit {
                return Err(RenderError::TooLarge {
                    path: shown,
                    size,
                    limit,
                });
            }
            let text = fs_err::read_to_string(&file).map_err(|source| RenderError::Io {
                path: shown.clone(),
                source,
            })?;
            schemas.add_text(&text, &shown)?;
        }
        Ok(schemas)
    }

    /// Adds the CRDs of one (multi-document) YAML or JSON text; `origin` names it in errors.
    pub fn add_text(&mut self, text: &str, origin: &str) -> Result<()> {
        let docs = yaml::from_str_multi(text).map_err(|message| yaml::error(origin, &message))?;
        for doc in docs {
            self.add_crd(&doc, origin)?;
        }
        Ok(())
    }

    /// Adds one CRD object (anything else is ignored).
    pub fn add_crd(&mut self, doc: &Value, origin: &str) -> Result<()> {
        if doc.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
            return Ok(());
        }
        let invalid = |message: String| RenderError::Invalid {
            path: format!("`{origin}`"),
            message,
        };
        let spec = doc
            .get("spec")
            .ok_or_else(|| invalid("CustomResourceDefinition without `spec`".into()))?;
        let group = spec
            .get("group")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = spec
            .pointer("/names/kind")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("CustomResourceDefinition without `spec.names.kind`".into()))?;
        if let Some(resource) = CrdResource::of(doc) {
            self.resources
                .insert((group.to_owned(), kind.to_owned()), resource);
        }
        let mut found = Vec::new();
        for v in spec
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = v.get("name").and_then(Value::as_str) else {
                continue;
            };
            // apiextensions v1 keeps the schema per version; v1beta1 may keep one for all.
            let schema = v
                .pointer("/schema/openAPIV3Schema")
                .or_else(|| spec.pointer("/validation/openAPIV3Schema"));
            if let Some(s) = schema {
                found.push((name.to_owned(), s.clone()));
            }
        }
        if found.is_empty()
            && let (Some(name), Some(s)) = (
                spec.get("version").and_then(Value::as_str),
                spec.pointer("/validation/openAPIV3Schema"),
            )
        {
            found.push((name.to_owned(), s.clone()));
        }
        for (version, schema) in found {
            let mut patterns = Vec::new();
            walk_patterns(&schema, &mut patterns, 0);
            for p in patterns {
                if let std::collections::btree_map::Entry::Vacant(slot) =
                    self.patterns.entry(p.clone())
                {
                    let re = Regex::new(&p).map_err(|e| {
                        invalid(format!(
                            "{kind}.{group} {version}: pattern `{p}` does not compile: {e}"
                        ))
                    })?;
                    slot.insert(re);
                }
            }
            self.entries.insert(
                (group.to_owned(), version, kind.to_owned()),
                Entry {
                    file: origin.to_owned(),
                    schema,
                },
            );
        }
        Ok(())
    }

    /// How many (group, version, kind) schemas are loaded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no schema is loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The loaded kinds, as `Kind.group/version`.
    pub fn kinds(&self) -> Vec<String> {
        self.entries
            .keys()
            .map(|(g, v, k)| format!("{k}.{g}/{v}"))
            .collect()
    }

    fn entry_for(&self, obj: &Value) -> Option<&Entry> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?;
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.entries
            .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
    }

    /// The resource (plural and scope) a loaded CRD defines for `group` and `kind`.
    pub fn resource(&self, group: &str, kind: &str) -> Option<&CrdResource> {
        self.resources.get(&(group.to_owned(), kind.to_owned()))
    }

    /// The file the CRD covering `obj` came from, when one does.
    pub fn origin(&self, obj: &Value) -> Option<&str> {
        self.entry_for(obj).map(|e| e.file.as_str())
    }

    /// Whether a CRD covers `obj`'s apiVersion and kind.
    pub fn covers(&self, obj: &Value) -> bool {
        self.entry_for(obj).is_some()
    }

    /// Validates `obj` against its CRD's schema. `None` when no CRD covers it; otherwise every
    /// violation, located at `location` with the field path (`spec.foo[2].bar`).
    pub fn validate(&self, obj: &Value, location: &str) -> Option<Vec<Problem>> {
        let entry = self.entry_for(obj)?;
        let mut out = Vec::new();
        let mut checker = Checker {
            patterns: &self.patterns,
            out: &mut out,
        };
        checker.check(&entry.schema, obj, "", 0, true);
        Some(
            out.into_iter()
                .map(|(field, message)| Problem {
                    location: location.to_owned(),
                    field,
                    message,
                })
                .collect(),
        )
    }
}

struct Checker<'a> {
    patterns: &'a BTreeMap<String, Regex>,
    out: &'a mut Vec<(String, String)>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn flag(schema: &Value, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

/// What an offending value is, without quoting it: the value comes from a rendered object and
/// may be a credential, so only `true`, `false` and `null` (never secret) are shown as they
/// are; anything else by its type (and a string by its length).
fn described(v: &Value) -> String {
    match v {
        Value::Null | Value::Bool(_) => v.to_string(),
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Number(_) if is_integer(v) => "an integer".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// A value *of the schema* (an enum option), shortened; never used for an object's values.
fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn is_date_time(s: &str) -> bool {
    static RE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
            .expect("built-in pattern compiles")
    });
    RE.is_match(s)
}

impl Checker<'_> {
    fn push(&mut self, path: &str, message: String) {
        self.out.push((path.to_owned(), message));
    }

    /// Checks `value` at `path` against `schema`; `root` marks the object's top level, where
    /// `apiVersion`, `kind` and `metadata` are always allowed.
    fn check(&mut self, schema: &Value, value: &Value, path: &str, depth: usize, root: bool) {
        if depth > MAX_DEPTH || !schema.is_object() {
            return;
        }
        if value.is_null() {
            // The API server prunes nulls of non-nullable fields; `required` catches the gap.
            return;
        }
        let int_or_string = flag(schema, "x-kubernetes-int-or-string");
        if int_or_string {
            if !(is_integer(value) || value.is_string()) {
                self.push(
                    path,
                    format!("must be an integer or a string, not {}", type_name(value)),
                );
                return;
            }
        } else if let Some(ty) = schema.get("type").and_then(Value::as_str) {
            let ok = match ty {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => is_integer(value),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                _ => true,
            };
            if !ok {
                self.push(
                    path,
                    format!("must be of type {ty}, not {}", type_name(value)),
                );
                return;
            }
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.iter().any(|o| o == value)
        {
            let list: Vec<String> = options.iter().map(short).collect();
            self.push(
                path,
                format!(
                    "{} is not one of the allowed values: {}",
                    described(value),
                    list.join(", ")
                ),
            );
        }
        match value {
            Value::String(s) => self.check_string(schema, s, path),
            Value::Number(_) => self.check_number(schema, value, path),
            Value::Array(items) => self.check_array(schema, items, path, depth),
            Value::Object(map) => self.check_object(schema, map, path, depth, root),
            _ => {}
        }
        for sub in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check(sub, value, path, depth + 1, root);
        }
        for (key, exactly_one) in [("anyOf", false), ("oneOf", true)] {
            let Some(subs) = schema.get(key).and_then(Value::as_array) else {
                continue;
            };
            let passing = subs
                .iter()
                .filter(|sub| {
                    let mut scratch = Vec::new();
                    let mut inner = Checker {
                        patterns: self.patterns,
                        out: &mut scratch,
                    };
                    inner.check(sub, value, path, depth + 1, root);
                    scratch.is_empty()
                })
                .count();
            if passing == 0 {
                self.push(path, format!("matches none of the `{key}` alternatives"));
            } else if exactly_one && passing > 1 {
                self.push(
                    path,
                    format!(
                        "matches {passing} of the `oneOf` alternatives; exactly one must match"
                    ),
                );
            }
        }
    }

    /// The `[min, max]` keywords of `schema` against a count `n` (characters, items, fields);
    /// `says` words a violation from the count and the bound (`at least 2 are required`).
    fn check_bounds(
        &mut self,
        schema: &Value,
        path: &str,
        n: u64,
        keys: [&str; 2],
        says: impl Fn(u64, String) -> String,
    ) {
        if let Some(min) = schema.get(keys[0]).and_then(Value::as_u64)
            && n < min
        {
            self.push(path, says(n, format!("at least {min} are required")));
        }
        if let Some(max) = schema.get(keys[1]).and_then(Value::as_u64)
            && n > max
        {
            self.push(path, says(n, format!("at most {max} are allowed")));
        }
    }

    fn check_string(&mut self, schema: &Value, s: &str, path: &str) {
        let len = s.chars().count() as u64;
        self.check_bounds(
            schema,
            path,
            len,
            ["minLength", "maxLength"],
            |len, bound| format!("is {len} characters long; {bound}"),
        );
        if let Some(p) = schema.get("pattern").and_then(Value::as_str)
            && let Some(re) = self.patterns.get(p)
            && !re.is_match(s)
        {
            self.push(path, format!("does not match the pattern `{p}`"));
        }
        match schema.get("format").and_then(Value::as_str) {
            Some("date-time") if !is_date_time(s) => {
                self.push(path, "is not an RFC 3339 date-time".to_owned());
            }
            Some("byte") if base64::engine::general_purpose::STANDARD.decode(s).is_err() => {
                self.push(path, "is not base64 (format `byte`)".to_owned());
            }
            _ => {}
        }
    }

    fn check_number(&mut self, schema: &Value, value: &Value, path: &str) {
        let Some(n) = value.as_f64() else {
            return;
        };
        let exclusive = |k: &str| flag(schema, k);
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && (n < min || (exclusive("exclusiveMinimum") && n <= min))
        {
            self.push(path, format!("is below the minimum {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && (n > max || (exclusive("exclusiveMaximum") && n >= max))
        {
            self.push(path, format!("is above the maximum {max}"));
        }
        let bounds = match schema.get("format").and_then(Value::as_str) {
            Some("int32") => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
            _ => None,
        };
        if let Some((lo, hi)) = bounds
            && (n < lo || n > hi)
        {
            self.push(path, "does not fit format int32".to_owned());
        }
    }

    fn check_array(&mut self, schema: &Value, items: &[Value], path: &str, depth: usize) {
        let n = items.len() as u64;
        self.check_bounds(schema, path, n, ["minItems", "maxItems"], |n, bound| {
            format!("has {n} items; {bound}")
        });
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{path}[{i}]"), depth + 1, false);
            }
        }
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => {
                let mut seen = BTreeMap::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some(first) = seen.insert(item.to_string(), i) {
                        seen.insert(item.to_string(), first);
                        self.push(
                            &format!("{path}[{i}]"),
                            format!("duplicates item [{first}] in a set"),
                        );
                    }
                }
            }
            Some("map") => {
                let keys: Vec<&str> = schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let mut seen = BTreeMap::new();
                for (i, item) in items.iter().enumerate() {
                    let id: Vec<String> = keys
                        .iter()
                        .map(|k| item.get(*k).map(Value::to_string).unwrap_or_default())
                        .collect();
                    if keys.is_empty() {
                        continue;
                    }
                    if let Some(first) = seen.insert(id.clone(), i) {
                        seen.insert(id, first);
                        self.push(
                            &format!("{path}[{i}]"),
                            format!(
                                "duplicates item [{first}] on the list-map key ({})",
                                keys.join(", ")
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn check_object(
        &mut self,
        schema: &Value,
        map: &serde_json::Map<String, Value>,
        path: &str,
        depth: usize,
        root: bool,
    ) {
        let n = map.len() as u64;
        self.check_bounds(
            schema,
            path,
            n,
            ["minProperties", "maxProperties"],
            |n, bound| format!("has {n} fields; {bound}"),
        );
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(req) = req.as_str()
                && map.get(req).is_none_or(Value::is_null)
            {
                self.push(&join(path, req), "is required".to_owned());
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
        let embedded = root || flag(schema, "x-kubernetes-embedded-resource");
        for (key, child) in map {
            let child_path = join(path, key);
            if embedded && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                if let Some(sub) = properties.and_then(|p| p.get(key))
                    && key != "metadata"
                {
                    self.check(sub, child, &child_path, depth + 1, false);
                } else if key == "metadata" && !child.is_object() {
                    self.push(
                        &child_path,
                        format!("must be of type object, not {}", type_name(child)),
                    );
                }
                continue;
            }
            if let Some(sub) = properties.and_then(|p| p.get(key)) {
                self.check(sub, child, &child_path, depth + 1, false);
                continue;
            }
            match additional {
                Some(sub @ Value::Object(_)) => {
                    self.check(sub, child, &child_path, depth + 1, false);
                }
                Some(Value::Bool(true)) => {}
                _ if preserve => {}
                _ if properties.is_none()
                    && additional.is_none()
                    && schema.get("type").is_none() => {}
                _ => self.push(
                    &child_path,
                    "is not a field of this schema (unknown field)".to_owned(),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(clippy::needless_pass_by_value)]
    fn schemas(schema: Value) -> Schemas {
        let crd = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {"group": "ex.io", "names": {"kind": "Thing"},
                     "versions": [{"name": "v1", "schema": {"openAPIV3Schema": schema}}]},
        });
        let mut s = Schemas::default();
        s.add_crd(&crd, "crd.yaml").unwrap();
        s
    }

    #[allow(clippy::needless_pass_by_value)]
    fn fields(s: &Schemas, obj: Value) -> Vec<String> {
        s.validate(&obj, "x")
            .unwrap()
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    }

    #[allow(clippy::needless_pass_by_value)]
    fn thing(spec: Value) -> Value {
        json!({"apiVersion": "ex.io/v1", "kind": "Thing", "metadata": {"name": "a"}, "spec": spec})
    }

    #[test]
    fn each_keyword_catches_its_violation() {
        let s = schemas(
            json!({"type": "object", "properties": {"spec": {"type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 10, "format": "int32"},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "maybe": {"type": "string", "nullable": true},
                "when": {"type": "string", "format": "date-time"},
            }}}}),
        );
        assert!(fields(&s, thing(json!({"size": 3, "mode": "a", "name": "abc", "tags": ["x"], "port": "http",
            "free": {"any": {"thing": 1}}, "labels": {"a": "b"}, "maybe": null, "when": "2024-01-02T03:04:05Z"}))).is_empty());
        let got = fields(
            &s,
            thing(
                json!({"mode": "c", "name": "ABCDEFG", "tags": ["x", "x", "y"], "port": true,
            "labels": {"a": 1}, "extra": 1, "when": "yesterday"}),
            ),
        );
        let want = [
            "spec.size: is required",
            "spec.mode: a string of 1 characters is not one of the allowed values: \"a\", \"b\"",
            "spec.name: is 7 characters long; at most 5 are allowed",
            "spec.name: does not match the pattern `^[a-z]+$`",
            "spec.tags: has 3 items; at most 2 are allowed",
            "spec.tags[1]: duplicates item [0] in a set",
            "spec.port: must be an integer or a string, not boolean",
            "spec.labels.a: must be of type string, not integer",
            "spec.extra: is not a field of this schema (unknown field)",
            "spec.when: is not an RFC 3339 date-time",
        ];
        for w in want {
            assert!(got.iter().any(|g| g == w), "missing {w:?} in {got:#?}");
        }
        assert_eq!(got.len(), want.len(), "{got:#?}");
        let got = fields(&s, thing(json!({"size": 11})));
        assert_eq!(got, ["spec.size: is above the maximum 10"]);
        let got = fields(&s, thing(json!({"size": 5_000_000_000_i64})));
        assert_eq!(got.len(), 2, "{got:#?}");
    }

    #[test]
    fn uncovered_kinds_are_not_checked() {
        let s = schemas(json!({"type": "object"}));
        assert!(
            s.validate(&json!({"apiVersion": "v1", "kind": "ConfigMap"}), "x")
                .is_none()
        );
        assert!(s.covers(&thing(json!({}))));
        assert_eq!(s.origin(&thing(json!({}))), Some("crd.yaml"));
    }

    #[test]
    fn a_bad_pattern_is_an_error_naming_the_file() {
        let crd = json!({"kind": "CustomResourceDefinition", "spec": {"group": "g", "names": {"kind": "K"},
            "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"pattern": "("}}}]}});
        let err = Schemas::default()
            .add_crd(&crd, "bad.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.yaml") && err.contains("does not compile"),
            "{err}"
        );
    }

    #[test]
    fn a_crd_names_its_plural_and_scope() {
        let crd = |scope: &str, plural: &str| {
            json!({"kind": "CustomResourceDefinition", "spec": {"group": "ex.io", "scope": scope,
                "names": {"kind": "Thing", "plural": plural},
                "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object"}}}]}})
        };
        let mut s = Schemas::default();
        s.add_crd(&crd("Cluster", "things"), "crd.yaml").unwrap();
        assert_eq!(
            s.resource("ex.io", "Thing"),
            Some(&CrdResource {
                group: "ex.io".into(),
                kind: "Thing".into(),
                plural: "things".into(),
                namespaced: false,
            })
        );
        assert_eq!(s.resource("ex.io", "Other"), None);
        assert!(CrdResource::of(&crd("Namespaced", "things")).is_some_and(|r| r.namespaced));
        // No guessing: an unknown scope or a missing plural names no resource.
        assert_eq!(CrdResource::of(&crd("Somewhere", "things")), None);
        assert_eq!(CrdResource::of(&crd("Cluster", "")), None);
        assert_eq!(CrdResource::of(&json!({"kind": "ConfigMap"})), None);
    }
}
