//! Redaction of secrets in objects and text: secret values become keyed fingerprints.
//!
//! A value is secret by *position* (Secret `data`/`stringData`, `MachineClass` `userData`,
//! keys named like credentials) or by *content* (PEM blocks, bearer tokens, JWTs and long
//! high-entropy strings). Secret values are replaced by `<redacted hmac-sha256:…>`, the
//! first 16 hex digits of an HMAC-SHA256 under a key that is never printed, so equal
//! secrets get equal fingerprints and a reviewer sees *that* and *which* secret changed
//! without seeing the value.

use std::fmt;

use hmac::{KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Environment variable holding the redaction key (any string; hashed to 32 bytes).
pub const KEY_ENV: &str = "PLINTH_REDACTION_KEY";

/// The prefix every fingerprint starts with; a value that starts with it is already redacted.
pub const FINGERPRINT_PREFIX: &str = "<redacted hmac-sha256:";

/// Minimum length of a string judged secret by entropy alone.
const ENTROPY_MIN_LEN: usize = 24;
/// Minimum Shannon entropy (bits per character) of a string judged secret by entropy alone.
const ENTROPY_MIN_BITS: f64 = 4.0;

/// Replaces secret values by keyed fingerprints. The key is never printed.
#[derive(Clone)]
pub struct Redactor {
    key: [u8; 32],
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor").finish_non_exhaustive()
    }
}

impl Redactor {
    /// Key from env var `PLINTH_REDACTION_KEY` (any string, hashed to 32 bytes) or random per run.
    pub fn from_env() -> Self {
        match std::env::var_os(KEY_ENV) {
            Some(key) if !key.is_empty() => Self::with_key(key.as_encoded_bytes()),
            _ => {
                let mut key = [0_u8; 32];
                if getrandom::fill(&mut key).is_err() {
                    // No system randomness: fall back to the process's hash seed mixed with
                    // the time, still unknown to a reader of the output.
                    let seed = format!(
                        "{:?}{:?}{}",
                        std::collections::hash_map::RandomState::new(),
                        std::time::SystemTime::now(),
                        std::process::id()
                    );
                    key = Sha256::digest(seed.as_bytes()).into();
                }
                Self { key }
            }
        }
    }

    /// A redactor whose key is SHA-256 of `key` (the same as `PLINTH_REDACTION_KEY=key`).
    pub fn with_key(key: &[u8]) -> Self {
        Self {
            key: Sha256::digest(key).into(),
        }
    }

    /// `"<redacted hmac-sha256:0123456789abcdef>"` (first 16 hex of HMAC-SHA256(key, value)).
    pub fn fingerprint(&self, value: &str) -> String {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("{FINGERPRINT_PREFIX}{}>", hex::encode(&digest[..8]))
    }

    /// Whether the value at `pointer` (RFC 6901) of `obj` is secret by position: Secret
    /// `/data/*`, `/stringData/*`; `MachineClass` `/providerSpec/userData` (and any `userData`
    /// under a `MachineClass`); values of keys that look like credentials (password, token,
    /// secret, apiKey, privateKey, credentials… case-insensitive) anywhere.
    pub fn is_secret_path(obj: &Value, pointer: &str) -> bool {
        let segments = parse_pointer(pointer);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        secret_by_path(kind_of(obj), &segments)
    }

    /// Whether a string looks like a credential by content: PEM blocks, `Bearer <token>`,
    /// JWTs, long high-entropy strings (>= 24 chars, Shannon entropy >= 4.0 bits/char, no
    /// whitespace, letters and digits) — used for env values and `ConfigMap` data.
    pub fn looks_secret(value: &str) -> bool {
        let trimmed = value.trim();
        if trimmed.starts_with(FINGERPRINT_PREFIX) {
            return false;
        }
        contains_pem(trimmed)
            || find_bearer(trimmed, 0).is_some()
            || is_jwt(trimmed)
            || is_high_entropy(trimmed)
    }

    /// A copy of a Kubernetes object with every secret value replaced by its fingerprint (by
    /// path and, for strings in env values / `ConfigMap` data / annotations, by content).
    pub fn redact_object(&self, obj: &Value) -> Value {
        let kind = kind_of(obj);
        let mut path = Vec::new();
        self.walk(kind, obj, &mut path, false)
    }

    /// Redacts free text (a unified diff, an error message): PEM blocks, bearer tokens, JWTs,
    /// and the values of `key: value` / `key=value` pairs whose key looks like a credential.
    pub fn redact_text(&self, text: &str) -> String {
        let text = self.redact_pem_blocks(text);
        let text = self.redact_bearer(&text);
        let text = self.redact_jwts(&text);
        let text = self.redact_url_passwords(&text);
        self.redact_key_values(&text)
    }

    /// `scheme://user:password@host`: the password is replaced.
    fn redact_url_passwords(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("://") {
            let (head, tail) = rest.split_at(at + 3);
            out.push_str(head);
            // The authority ends at the first `/`, `?`, `#` or whitespace.
            let end = tail
                .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
                .unwrap_or(tail.len());
            let authority = &tail[..end];
            match authority
                .rfind('@')
                .and_then(|a| authority[..a].find(':').map(|c| (c, a)))
            {
                Some((colon, at_sign)) if colon + 1 < at_sign => {
                    let password = &authority[colon + 1..at_sign];
                    out.push_str(&authority[..=colon]);
                    if password.starts_with(FINGERPRINT_PREFIX) {
                        out.push_str(password);
                    } else {
                        out.push_str(&self.fingerprint(password));
                    }
                    out.push_str(&authority[at_sign..]);
                }
                _ => out.push_str(authority),
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    fn walk(&self, kind: &str, value: &Value, path: &mut Vec<String>, secret: bool) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (key, child) in map {
                    path.push(key.clone());
                    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
                    let child_secret = secret || secret_by_path(kind, &segments);
                    let redacted = self.walk(kind, child, path, child_secret);
                    path.pop();
                    out.insert(key.clone(), redacted);
                }
                // An env entry `{name: DB_PASSWORD, value: …}`: the name says it is a credential.
                if let (Some(Value::String(name)), Some(Value::String(v))) =
                    (map.get("name"), map.get("value"))
                    && is_env_entry(path)
                    && is_credential_key(name)
                    && !v.starts_with(FINGERPRINT_PREFIX)
                {
                    out.insert("value".to_owned(), Value::String(self.fingerprint(v)));
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, child) in items.iter().enumerate() {
                    path.push(index.to_string());
                    out.push(self.walk(kind, child, path, secret));
                    path.pop();
                }
                // `args: [--db-password, hunter2]`: the item after a credential flag.
                if matches!(path.last().map(String::as_str), Some("args" | "command")) {
                    for (i, pair) in items.windows(2).enumerate() {
                        if let [Value::String(flag), Value::String(v)] = pair
                            && flag.starts_with('-')
                            && !flag.contains('=')
                            && is_credential_key(flag.trim_start_matches('-'))
                            && !v.starts_with('-')
                            && !v.starts_with(FINGERPRINT_PREFIX)
                        {
                            out[i + 1] = Value::String(self.fingerprint(v));
                        }
                    }
                }
                Value::Array(out)
            }
            Value::String(s) => {
                if s.starts_with(FINGERPRINT_PREFIX) {
                    return value.clone();
                }
                if secret {
                    return Value::String(self.fingerprint(s));
                }
                let segments: Vec<&str> = path.iter().map(String::as_str).collect();
                Value::String(self.redact_string_by_content(kind, &segments, s))
            }
            Value::Number(n) if secret => Value::String(self.fingerprint(&n.to_string())),
            Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        }
    }

    /// A string not secret by position: redacted whole when it looks secret where secrets
    /// are expected by content (env values, `ConfigMap` data, annotations, labels, args);
    /// elsewhere only PEM blocks, bearer tokens and JWTs inside it are replaced.
    fn redact_string_by_content(&self, kind: &str, segments: &[&str], s: &str) -> String {
        if content_checked(kind, segments) {
            if Self::looks_secret(s) {
                return self.fingerprint(s);
            }
            if is_args_item(segments)
                && let Some((flag, _)) = s.split_once('=')
                && is_credential_key(flag.trim_start_matches('-'))
            {
                return self.fingerprint(s);
            }
            // A configuration file inside a ConfigMap: redact credential-looking lines.
            return self.redact_text(s);
        }
        // Anywhere else, credentials inside the text (PEM, bearer, JWT, URL passwords,
        // `key: value` pairs, JSON kept in a string) are replaced; the rest stays readable.
        if contains_pem(s)
            || s.contains("eyJ")
            || s.contains("://")
            || s.contains(':')
            || s.contains('=')
            || find_bearer(s, 0).is_some()
        {
            return self.redact_text(s);
        }
        s.to_owned()
    }

    fn redact_pem_blocks(&self, text: &str) -> String {
        const BEGIN: &str = "-----BEGIN ";
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(BEGIN) {
            out.push_str(&rest[..start]);
            let block = &rest[start..];
            // The block ends at the END line's closing dashes; an unterminated block runs to
            // the end of the text (never leak half a key).
            let end = block.find("-----END ").map_or(block.len(), |end_at| {
                let after = &block[end_at + 9..];
                after
                    .find("-----")
                    .map_or(block.len(), |close| end_at + 9 + close + 5)
            });
            // Diff prefixes (`+`, `-`, ` `) and YAML indentation inside the block are part
            // of the text; fingerprint the block's key material only.
            let material: String = block[..end]
                .lines()
                .map(|line| line.trim_start_matches(['+', '-', ' ', '\t']))
                .collect::<Vec<_>>()
                .join("\n");
            let lines = block[..end].lines().count();
            out.push_str(&self.fingerprint(&material));
            // Keep the line count of a diff stable-ish: one line stands for the block.
            if lines > 1 && block[..end].ends_with('\n') {
                out.push('\n');
            }
            rest = &block[end..];
        }
        out.push_str(rest);
        out
    }

    fn redact_bearer(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut from = 0;
        while let Some((start, end)) = find_bearer(text, from) {
            out.push_str(&text[from..start]);
            out.push_str("Bearer ");
            out.push_str(&self.fingerprint(&text[start + 7..end]));
            from = end;
        }
        out.push_str(&text[from..]);
        out
    }

    fn redact_jwts(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut from = 0;
        while let Some(found) = text[from..].find("eyJ") {
            let start = from + found;
            let end = start
                + text[start..]
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '='))
                    })
                    .unwrap_or(text.len() - start);
            let candidate = &text[start..end];
            let preceded_by_word = start > 0
                && text[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
            out.push_str(&text[from..start]);
            if !preceded_by_word && is_jwt(candidate) {
                out.push_str(&self.fingerprint(candidate));
            } else {
                out.push_str(candidate);
            }
            from = end.max(start + 3);
        }
        out.push_str(&text[from..]);
        out
    }

    /// `password: value`, `"token": "value"`, `API_KEY=value` lines: the value is replaced.
    /// A YAML block scalar (`password: |`) has its more-indented following lines replaced.
    fn redact_key_values(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        // Indentation of a credential key whose block scalar lines are being redacted.
        let mut block_indent: Option<usize> = None;
        for line in text.split_inclusive('\n') {
            let (body, newline) = line
                .strip_suffix('\n')
                .map_or((line, ""), |body| (body, "\n"));
            let (marker, content) = split_diff_marker(body);
            let indent = content.len() - content.trim_start().len();
            if let Some(key_indent) = block_indent {
                if !content.trim().is_empty() && indent > key_indent {
                    let value = content.trim();
                    if value.starts_with(FINGERPRINT_PREFIX) {
                        out.push_str(line);
                    } else {
                        out.push_str(marker);
                        out.push_str(&content[..indent]);
                        out.push_str(&self.fingerprint(value));
                        out.push_str(newline);
                    }
                    continue;
                }
                if !content.trim().is_empty() {
                    block_indent = None;
                }
            }
            match credential_assignment(content) {
                Some((value_start, value)) => {
                    if matches!(value.trim_end(), "|" | ">" | "|-" | ">-" | "|+" | ">+") {
                        block_indent = Some(indent);
                        out.push_str(line);
                        continue;
                    }
                    out.push_str(marker);
                    out.push_str(&content[..value_start]);
                    out.push_str(&self.fingerprint(value));
                    out.push_str(newline);
                }
                None => out.push_str(line),
            }
        }
        out
    }
}

/// A diff line's marker (`+`, `-`, ` `) when the line looks like a unified-diff body line
/// whose content is indented YAML; otherwise no marker.
fn split_diff_marker(line: &str) -> (&str, &str) {
    if line.starts_with("+++") || line.starts_with("---") {
        return ("", line);
    }
    match line.as_bytes().first() {
        Some(b'+' | b'-') => (&line[..1], &line[1..]),
        _ => ("", line),
    }
}

/// In a line of text, a credential-named key followed by `:` or `=` and a non-empty value
/// that is not already redacted: where the value starts and the value.
fn credential_assignment(content: &str) -> Option<(usize, &str)> {
    // Any `key:` / `key=` on the line counts, not only the first (`error at line 3:
    // password: x`, `url?token=x`); the key is the identifier right before the separator.
    for (separator, _) in content.match_indices([':', '=']) {
        // Quotes, and the backslashes of JSON escaped inside a string (`{\"token\": …}`).
        let before = content[..separator].trim_end_matches(['"', '\'', '`', '\\']);
        let key_start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let key = before[key_start..].trim_start_matches(['-', '.']);
        if key.is_empty() || !is_credential_key(key) {
            continue;
        }
        let after = &content[separator + 1..];
        let value = after.trim();
        if value.is_empty()
            || value.starts_with(FINGERPRINT_PREFIX)
            || value.starts_with("\"<redacted")
            || value.starts_with("(absent)")
            || matches!(
                value,
                "\"\"" | "\'\'" | "null" | "~" | "{}" | "[]" | "{" | "[" | "true" | "false"
            )
            || value.starts_with("//")
        {
            continue;
        }
        let value_start = separator + 1 + (after.len() - after.trim_start().len());
        return Some((value_start, value));
    }
    None
}

/// Splits an RFC 6901 pointer into unescaped segments (`""` is the whole document).
fn parse_pointer(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn kind_of(obj: &Value) -> &str {
    obj.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// Whether a path (object keys and array indices) of an object of `kind` is secret by
/// position alone.
fn secret_by_path(kind: &str, segments: &[&str]) -> bool {
    match (kind, segments.first()) {
        ("Secret", Some(&("data" | "stringData"))) if segments.len() >= 2 => return true,
        ("MachineClass", _) if segments.iter().any(|s| s.eq_ignore_ascii_case("userData")) => {
            return true;
        }
        _ => {}
    }
    // Metadata names, labels' and annotations' keys are not values; an annotation's *value*
    // is checked by content and by its key.
    if segments.first() == Some(&"metadata") {
        return match segments {
            ["metadata", "annotations", key, ..] => {
                *key == "kubectl.kubernetes.io/last-applied-configuration"
                    || is_credential_key(key.rsplit('/').next().unwrap_or(key))
            }
            _ => false,
        };
    }
    // The innermost key (array indices skipped) names the value: `password`, `apiKey`,
    // `passwords/0`. Outer keys do not: `secret/secretName` is a reference, not a value.
    segments
        .iter()
        .rev()
        .find(|segment| segment.parse::<usize>().is_err())
        .is_some_and(|key| is_credential_key(key))
}

/// Whether a key names a credential: password, token, secret, apiKey, privateKey,
/// credentials, … (case-insensitive, `-`/`_`/`.` ignored) — but not a *reference* to one
/// (`secretRef`, `secretName`, `tokenPath`, `serviceAccountToken`, …).
pub fn is_credential_key(key: &str) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "token",
        "secret",
        "apikey",
        "privatekey",
        "credential",
        "accesskey",
        "userdata",
        "authkey",
        "bearer",
        "clientkey",
        "sessionkey",
        "encryptionkey",
        "signingkey",
        "dockerconfig",
        "authorization",
    ];
    const NOT_VALUES: &[&str] = &[
        "ref",
        "refs",
        "name",
        "names",
        "namespace",
        "path",
        "paths",
        "file",
        "files",
        "dir",
        "selector",
        "mode",
        "type",
        "id",
        "ids",
        "seconds",
        "ttl",
        "length",
        "url",
        "uri",
        "endpoint",
        "audience",
        "format",
        "policy",
        "store",
        "provider",
        "generation",
        "version",
        "count",
        "enabled",
        "required",
    ];
    const EXACT_NOT_VALUES: &[&str] = &[
        "serviceaccounttoken",
        "automountserviceaccounttoken",
        "secrets",
        "imagepullsecrets",
        "secretkeyref",
        "tokenrequests",
    ];
    if key.parse::<usize>().is_ok() {
        return false;
    }
    let normalised: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if !WORDS.iter().any(|word| normalised.contains(word)) {
        return false;
    }
    if EXACT_NOT_VALUES.contains(&normalised.as_str()) {
        return false;
    }
    !NOT_VALUES.iter().any(|suffix| normalised.ends_with(suffix))
}

/// Whether the path is an env entry (`…/env/<i>`).
fn is_env_entry(path: &[String]) -> bool {
    path.len() >= 2
        && path[path.len() - 2] == "env"
        && path[path.len() - 1].parse::<usize>().is_ok()
}

/// Whether a container `args`/`command` item (`…/args/<i>`).
fn is_args_item(segments: &[&str]) -> bool {
    segments.len() >= 2
        && matches!(segments[segments.len() - 2], "args" | "command")
        && segments[segments.len() - 1].parse::<usize>().is_ok()
}

/// Where strings are checked by content as a whole (entropy included): env values,
/// `ConfigMap` data, annotations and labels, container args.
fn content_checked(kind: &str, segments: &[&str]) -> bool {
    match segments {
        ["data" | "binaryData", _, ..] if kind == "ConfigMap" => true,
        ["metadata", "annotations" | "labels", _] => true,
        [.., "env", index, "value"] if index.parse::<usize>().is_ok() => true,
        _ => is_args_item(segments),
    }
}

fn contains_pem(s: &str) -> bool {
    s.contains("-----BEGIN ")
}

/// The next `Bearer <token>` at or after byte `from`: (start of `Bearer`, end of token).
fn find_bearer(text: &str, from: usize) -> Option<(usize, usize)> {
    let mut search = from;
    while let Some(found) = text[search..].find("Bearer ") {
        let start = search + found;
        let token_start = start + 7;
        let token_len = text[token_start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';'))
            .unwrap_or(text.len() - token_start);
        let token = &text[token_start..token_start + token_len];
        if token.len() >= 8 && !text[token_start..].starts_with(FINGERPRINT_PREFIX) {
            return Some((start, token_start + token_len));
        }
        search = token_start;
    }
    None
}

fn is_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[0].len() >= 10
        && parts[1].len() >= 4
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '='))
        })
}

fn is_high_entropy(s: &str) -> bool {
    if s.chars().count() < ENTROPY_MIN_LEN
        || s.chars().any(char::is_whitespace)
        || s.contains("://")
        // A path, unless it has base64's `+` or `=` (a base64 token may start with `/`).
        || (s.starts_with('/') && !s.contains(['+', '=']))
        // A host, image or file reference (`registry.example/app:v1`), not a token.
        || (s.contains('.') && s.contains('/'))
    {
        return false;
    }
    // Hex digests, checksums and UUIDs (at most 4.0 bits/char) are not judged by entropy;
    // a hex credential is still caught by its key name.
    if s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return false;
    }
    let letters = s.chars().any(|c| c.is_ascii_alphabetic());
    let digits = s.chars().any(|c| c.is_ascii_digit());
    letters && digits && shannon_entropy(s) >= ENTROPY_MIN_BITS
}

#[allow(clippy::cast_precision_loss)]
fn shannon_entropy(s: &str) -> f64 {
    let mut counts = std::collections::BTreeMap::<char, usize>::new();
    let mut total = 0_usize;
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
        total += 1;
    }
    let total = total as f64;
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_json_strings_urls_and_flag_pairs_are_redacted() {
        let r = Redactor::with_key(b"k");
        let obj = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
            "spec": {"template": {"metadata": {"annotations": {}}, "spec": {"containers": [{
                "name": "app",
                "args": ["--db-password", "hunter2", "--verbose"],
                "env": [{"name": "DATABASE_URL", "value": "postgres://app:S3cretPw@db:5432/app"}],
                "image": "registry.example/app:v1"
            }]}}},
            "extra": {"config": "{\"token\":\"tok-hunter3\"}"}
        });
        let text = serde_json::to_string(&r.redact_object(&obj)).unwrap();
        for secret in ["hunter2", "S3cretPw", "tok-hunter3"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("--verbose") && text.contains("registry.example/app:v1"),
            "{text}"
        );
        let escaped = r.redact_text(r#"{\"password\":\"hunter4\"}"#);
        assert!(!escaped.contains("hunter4"), "{escaped}");
    }
    use serde_json::json;

    const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAplanted0secret\n-----END RSA PRIVATE KEY-----\n";
    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlcGxhbnRlZA";
    const TOKEN: &str = "Zx8qR2vLp9Tn4WmK7bYc3HdJ6sFa";

    fn redactor() -> Redactor {
        Redactor::with_key(b"test-key")
    }

    #[test]
    fn fingerprint_is_keyed_and_stable() {
        let a = redactor().fingerprint("hunter2");
        assert_eq!(a, redactor().fingerprint("hunter2"));
        assert!(a.starts_with(FINGERPRINT_PREFIX) && a.ends_with('>'));
        assert_eq!(a.len(), FINGERPRINT_PREFIX.len() + 16 + 1);
        assert_ne!(a, redactor().fingerprint("hunter3"));
        assert_ne!(a, Redactor::with_key(b"other").fingerprint("hunter2"));
        assert!(!format!("{:?}", redactor()).contains("key:"));
    }

    #[test]
    fn secret_paths() {
        let secret = json!({"kind": "Secret"});
        assert!(Redactor::is_secret_path(&secret, "/data/password"));
        assert!(Redactor::is_secret_path(&secret, "/stringData/x"));
        assert!(!Redactor::is_secret_path(&secret, "/metadata/name"));
        let class = json!({"kind": "MachineClass"});
        assert!(Redactor::is_secret_path(&class, "/providerSpec/userData"));
        assert!(!Redactor::is_secret_path(&class, "/secretRef/name"));
        assert!(!Redactor::is_secret_path(
            &class,
            "/credentialsSecretRef/name"
        ));
        let cm = json!({"kind": "ConfigMap"});
        assert!(!Redactor::is_secret_path(&cm, "/data/config"));
        assert!(Redactor::is_secret_path(&cm, "/data/apiKey"));
        assert!(Redactor::is_secret_path(&cm, "/spec/credentials"));
        assert!(Redactor::is_secret_path(&cm, "/spec/passwords/0"));
        assert!(Redactor::is_secret_path(&cm, "/spec/db_password"));
        assert!(!Redactor::is_secret_path(
            &cm,
            "/spec/template/spec/serviceAccountName"
        ));
        assert!(!Redactor::is_secret_path(
            &cm,
            "/spec/volumes/0/secret/secretName"
        ));
        assert!(!Redactor::is_secret_path(&cm, "/metadata/name"));
    }

    #[test]
    fn looks_secret_by_content() {
        assert!(Redactor::looks_secret(PEM));
        assert!(Redactor::looks_secret(JWT));
        assert!(Redactor::looks_secret("Bearer abcdefgh12345678"));
        assert!(Redactor::looks_secret(TOKEN));
        for plain in [
            "registry.example.com/platform/controller:v1.2.3",
            "info",
            "0123456789abcdef0123456789abcdef0123456789abcdef",
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "a sentence with several ordinary words in it",
            "https://example.invalid/path?query=value123",
        ] {
            assert!(!Redactor::looks_secret(plain), "{plain}");
        }
    }

    #[test]
    fn redacts_objects() {
        let r = redactor();
        let obj = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "annotations": {"note": TOKEN}},
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"nested": {"deep": "plain-but-secret"}},
        });
        let out = r.redact_object(&obj);
        let text = out.to_string();
        assert!(!text.contains("aHVudGVyMg=="));
        assert!(!text.contains("plain-but-secret"));
        assert!(!text.contains(TOKEN));
        assert_eq!(out["metadata"]["name"], "db");
        assert_eq!(out["data"]["password"], r.fingerprint("aHVudGVyMg=="));
        // Idempotent.
        assert_eq!(r.redact_object(&out), out);
    }

    #[test]
    fn redacts_env_configmap_and_args() {
        let r = redactor();
        let deploy = json!({
            "kind": "Deployment",
            "spec": {"template": {"spec": {"containers": [{
                "name": "app",
                "args": ["--verbose", "--api-token=shortsecret"],
                "env": [
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "DB_PASSWORD", "value": "pw1"},
                    {"name": "OPAQUE", "value": TOKEN},
                ],
            }]}}}
        });
        let text = r.redact_object(&deploy).to_string();
        for leaked in ["shortsecret", "pw1", TOKEN] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        assert!(text.contains("\"info\"") && text.contains("--verbose"));
        let cm = json!({"kind": "ConfigMap", "data": {
            "app.yaml": "listen: 8080\npassword: s3cr3t-in-file\n",
            "key.pem": PEM,
        }});
        let text = r.redact_object(&cm).to_string();
        assert!(!text.contains("s3cr3t-in-file") && !text.contains("planted0secret"));
        assert!(text.contains("listen: 8080"));
    }

    #[test]
    fn redacts_text() {
        let r = redactor();
        let diff = format!(
            "--- a\n+++ b\n-  token: abc123\n+  token: def456\n   name: x\nAuthorization: Bearer {TOKEN}\njwt {JWT} end\n{PEM}privateKey: |\n  multi-line-secret\nafter: 1\n"
        );
        let out = r.redact_text(&diff);
        for leaked in [
            "abc123",
            "def456",
            TOKEN,
            JWT,
            "planted0secret",
            "multi-line-secret",
        ] {
            assert!(!out.contains(leaked), "{leaked} in {out}");
        }
        assert!(out.contains("name: x") && out.contains("after: 1") && out.contains("--- a"));
        // Credentials later on a line, after other separators, and after non-ASCII text.
        for (line, secret) in [
            ("error at line 3: password: hunter2", "hunter2"),
            ("GET /x?user=a&token=abc123def", "abc123def"),
            ("→ `apiKey`: s3cr3t-value", "s3cr3t-value"),
        ] {
            let out = r.redact_text(line);
            assert!(!out.contains(secret), "{out}");
        }
        assert_eq!(
            r.redact_text("url: https://host:8443/path"),
            "url: https://host:8443/path"
        );
        assert_eq!(
            r.redact_text("/spec/secretName: \"a\" → \"b\""),
            "/spec/secretName: \"a\" → \"b\""
        );
        assert_eq!(r.redact_text(&out), out);
    }
}
