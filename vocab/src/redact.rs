//! Redaction of secrets in objects and text: secret values become keyed fingerprints.
//!
//! This module is plinth's one redaction policy: every command, output format, error and log
//! line goes through it (objects through [`Redactor::redact_object`], text through
//! [`Redactor::redact_text`]). A value is secret by *position* (Secret `data`/`stringData`,
//! `MachineClass` `userData`, keys named like credentials, env entries named like
//! credentials, the value after a `--password` flag) or by *content*: PEM blocks, bearer and
//! basic authorization values, JWTs, passwords in URLs, tokens with a well-known provider
//! prefix ([`SHAPES`]: AWS access key ids, GitHub, GitLab, Slack, Stripe, Google, npm, `PyPI`,
//! …) and long random-looking strings (see [`Redactor::looks_secret`] for the entropy rule).
//! Secret values are replaced by `<redacted hmac-sha256:…>`, the first 16 hex digits of an
//! HMAC-SHA256 under a key that is never printed, so equal secrets get equal fingerprints and
//! a reviewer sees *that* and *which* secret changed without seeing the value.

use std::fmt;

use hmac::{KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Environment variable holding the redaction key (any string; hashed to 32 bytes).
pub const KEY_ENV: &str = "PLINTH_REDACTION_KEY";

/// The prefix every fingerprint starts with; a value that starts with it is already redacted.
pub const FINGERPRINT_PREFIX: &str = "<redacted hmac-sha256:";

/// What stands for a secret where a keyed fingerprint would make a committed file
/// non-deterministic (the index's condition texts); never redacted again.
pub const SECRET_PLACEHOLDER: &str = "<secret value>";

/// No rule recognises a text shorter than this without a `:` or `=` (the shortest shapes:
/// `Bearer ` and 8 characters, a Slack prefix and 10).
const SHORTEST_MATCH: usize = 15;

/// Minimum length of a string judged secret by entropy alone.
const ENTROPY_MIN_LEN: usize = 20;
/// Minimum Shannon entropy (bits per character) of a string judged secret by entropy alone.
const ENTROPY_MIN_BITS: f64 = 3.5;

/// One rule of the policy. Every rule can be switched off ([`Redactor::without`]) so that a
/// test can prove the leak corpus needs each of them; plinth itself never switches one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Secret `data` / `stringData` values.
    SecretData,
    /// `userData` anywhere under a `MachineClass`.
    UserData,
    /// Values of keys named like credentials (`password`, `apiKey`, `sig`, …), in objects.
    CredentialKey,
    /// Env entries `{name: DB_PASSWORD, value: …}`.
    EnvName,
    /// Container args after or in a credential flag (`--token x`, `--token=x`).
    ArgFlag,
    /// PEM blocks (private keys, certificates).
    Pem,
    /// `Bearer <token>`.
    Bearer,
    /// `Basic <base64 of user:password>`.
    Basic,
    /// JSON Web Tokens.
    Jwt,
    /// `scheme://user:password@host`.
    UrlPassword,
    /// `password: value` / `token=value` in free text (diffs, errors, config files).
    TextKeyValue,
    /// The annotation `kubectl.kubernetes.io/last-applied-configuration` (a whole object).
    LastApplied,
    /// Long random-looking strings (the entropy rule).
    Entropy,
    /// One family of [`SHAPES`] (its index).
    Shape(usize),
}

impl Rule {
    /// Every rule, for tests that switch each off in turn.
    pub fn all() -> Vec<Self> {
        let mut out = vec![
            Self::SecretData,
            Self::UserData,
            Self::CredentialKey,
            Self::EnvName,
            Self::ArgFlag,
            Self::Pem,
            Self::Bearer,
            Self::Basic,
            Self::Jwt,
            Self::UrlPassword,
            Self::TextKeyValue,
            Self::LastApplied,
            Self::Entropy,
        ];
        out.extend((0..SHAPES.len()).map(Self::Shape));
        out
    }

    fn bit(self) -> u64 {
        let index = match self {
            Self::SecretData => 0,
            Self::UserData => 1,
            Self::CredentialKey => 2,
            Self::EnvName => 3,
            Self::ArgFlag => 4,
            Self::Pem => 5,
            Self::Bearer => 6,
            Self::Basic => 7,
            Self::Jwt => 8,
            Self::UrlPassword => 9,
            Self::TextKeyValue => 10,
            Self::LastApplied => 11,
            Self::Entropy => 12,
            Self::Shape(i) => 16 + i,
        };
        1_u64 << index
    }
}

/// Which characters a token of a [`Shape`] is made of after its prefix.
#[derive(Debug, Clone, Copy)]
enum Charset {
    /// `A-Z a-z 0-9`
    Alnum,
    /// `A-Z 0-9`
    UpperAlnum,
    /// `A-Z a-z 0-9 _ -`
    Token,
    /// `A-Z a-z 0-9 _ - .`
    DottedToken,
    /// `A-Z a-z 0-9 _ - /`
    PathToken,
    /// `0-9 a-f`
    LowerHex,
}

impl Charset {
    fn allows(self, c: char) -> bool {
        match self {
            Self::Alnum => c.is_ascii_alphanumeric(),
            Self::UpperAlnum => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Self::Token => c.is_ascii_alphanumeric() || matches!(c, '_' | '-'),
            Self::DottedToken => c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'),
            Self::PathToken => c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/'),
            Self::LowerHex => c.is_ascii_digit() || matches!(c, 'a'..='f'),
        }
    }
}

/// A credential with a well-known prefix: the token is the prefix and at least `min`
/// characters of `charset` right after it, and it starts at a word boundary.
#[derive(Debug)]
pub struct Shape {
    /// What issues such tokens.
    pub what: &'static str,
    prefixes: &'static [&'static str],
    min: usize,
    charset: Charset,
}

/// The credential shapes recognised by content, whatever key or place they are found under.
pub static SHAPES: &[Shape] = &[
    Shape {
        what: "AWS access key id",
        prefixes: &[
            "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA",
            "ASCA",
        ],
        min: 16,
        charset: Charset::UpperAlnum,
    },
    Shape {
        what: "GitHub token",
        prefixes: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        min: 30,
        charset: Charset::Alnum,
    },
    Shape {
        what: "GitHub fine-grained token",
        prefixes: &["github_pat_"],
        min: 22,
        charset: Charset::Token,
    },
    Shape {
        what: "GitLab token",
        prefixes: &[
            "glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glsoat-", "glft-", "glimt-",
            "glagent-",
        ],
        min: 20,
        charset: Charset::Token,
    },
    Shape {
        what: "Slack token",
        prefixes: &[
            "xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "xoxe-", "xapp-",
        ],
        min: 10,
        charset: Charset::Token,
    },
    Shape {
        what: "Slack or Discord webhook",
        prefixes: &[
            "hooks.slack.com/services/",
            "hooks.slack.com/workflows/",
            "discord.com/api/webhooks/",
            "discordapp.com/api/webhooks/",
        ],
        min: 20,
        charset: Charset::PathToken,
    },
    Shape {
        what: "Stripe key",
        prefixes: &["sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_"],
        min: 16,
        charset: Charset::Alnum,
    },
    Shape {
        what: "Google API key",
        prefixes: &["AIza"],
        min: 30,
        charset: Charset::Token,
    },
    Shape {
        what: "Google OAuth token or client secret",
        prefixes: &["ya29.", "GOCSPX-", "1//0"],
        min: 20,
        charset: Charset::DottedToken,
    },
    Shape {
        what: "npm token",
        prefixes: &["npm_"],
        min: 30,
        charset: Charset::Alnum,
    },
    Shape {
        what: "PyPI token",
        prefixes: &["pypi-"],
        min: 40,
        charset: Charset::Token,
    },
    Shape {
        what: "OpenAI or Anthropic key",
        prefixes: &["sk-ant-", "sk-proj-", "sk-svcacct-", "sk-"],
        min: 32,
        charset: Charset::Token,
    },
    Shape {
        what: "Hugging Face token",
        prefixes: &["hf_"],
        min: 30,
        charset: Charset::Alnum,
    },
    Shape {
        what: "SendGrid key",
        prefixes: &["SG."],
        min: 40,
        charset: Charset::DottedToken,
    },
    Shape {
        what: "DigitalOcean, Shopify, Doppler or Vault token",
        prefixes: &[
            "dop_v1_", "doo_v1_", "dor_v1_", "shpat_", "shpss_", "shpca_", "shppa_", "dp.pt.",
            "hvs.", "hvb.",
        ],
        min: 20,
        charset: Charset::DottedToken,
    },
    Shape {
        what: "Twilio or Databricks key",
        prefixes: &["SK", "dapi"],
        min: 32,
        charset: Charset::LowerHex,
    },
    Shape {
        what: "Atlassian token",
        prefixes: &["ATATT3", "ATCTT3"],
        min: 40,
        charset: Charset::Token,
    },
    Shape {
        what: "age secret key",
        prefixes: &["AGE-SECRET-KEY-1"],
        min: 40,
        charset: Charset::UpperAlnum,
    },
];

/// The redactor of the process ([`Redactor::shared`]).
static SHARED: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();

/// Replaces secret values by keyed fingerprints. The key is never printed.
#[derive(Clone)]
pub struct Redactor {
    key: [u8; 32],
    /// Rules switched off ([`Rule::bit`]); always 0 outside tests.
    disabled: u64,
}

/// The passes over free text, in order, each behind its rule (none: the shapes, each family
/// of which is switched on its own).
type TextPass = (Option<Rule>, fn(&Redactor, &str) -> String);
const TEXT_PASSES: [TextPass; 10] = [
    (Some(Rule::Pem), Redactor::redact_pem_blocks),
    (Some(Rule::Bearer), Redactor::redact_bearer),
    (Some(Rule::Basic), Redactor::redact_basic),
    (Some(Rule::Jwt), Redactor::redact_jwts),
    (Some(Rule::UrlPassword), Redactor::redact_url_passwords),
    (None, Redactor::redact_shapes),
    (Some(Rule::Entropy), Redactor::redact_random_words),
    (Some(Rule::ArgFlag), Redactor::redact_flag_values),
    (Some(Rule::TextKeyValue), Redactor::redact_xml_elements),
    (Some(Rule::TextKeyValue), Redactor::redact_key_values),
];

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor").finish_non_exhaustive()
    }
}

impl Redactor {
    /// A redactor with a random key, unknown to any reader of the output.
    pub fn random() -> Self {
        let mut key = [0_u8; 32];
        if getrandom::fill(&mut key).is_err() {
            // No system randomness: fall back to the process's hash seed mixed with the time,
            // still unknown to a reader of the output.
            let seed = format!(
                "{:?}{:?}{}",
                std::collections::hash_map::RandomState::new(),
                std::time::SystemTime::now(),
                std::process::id()
            );
            key = Sha256::digest(seed.as_bytes()).into();
        }
        Self { key, disabled: 0 }
    }

    /// Makes `redactor` the one [`Redactor::shared`] returns for the rest of the process, so
    /// that the same secret gets the same fingerprint in every output of a run. The binary
    /// calls this once, before anything is redacted, with the key of `PLINTH_REDACTION_KEY`
    /// ([`KEY_ENV`]); the library never reads the environment. Returns `false` (and changes
    /// nothing) when the shared redactor was already chosen.
    pub fn install_shared(redactor: Self) -> bool {
        SHARED.set(redactor).is_ok()
    }

    /// The redactor of this process: the one given to [`Redactor::install_shared`], or one
    /// with a random key chosen on first use.
    pub fn shared() -> &'static Self {
        SHARED.get_or_init(Self::random)
    }

    /// A redactor whose key is SHA-256 of `key` (the same as `PLINTH_REDACTION_KEY=key`).
    pub fn with_key(key: &[u8]) -> Self {
        Self {
            key: Sha256::digest(key).into(),
            disabled: 0,
        }
    }

    /// The same redactor with `rule` switched off. Only for tests that prove each rule is
    /// needed by the leak corpus; no command ever calls it.
    #[doc(hidden)]
    #[must_use]
    pub fn without(mut self, rule: Rule) -> Self {
        self.disabled |= rule.bit();
        self
    }

    fn on(&self, rule: Rule) -> bool {
        self.disabled & rule.bit() == 0
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
        let segments = crate::pointer::segments(pointer);
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        secret_by_path(0, kind_of(obj), &segments)
    }

    /// Whether a string looks like a credential by content: PEM blocks, `Bearer`/`Basic`
    /// authorization values, JWTs, tokens of a known shape ([`SHAPES`]) anywhere in it, or the
    /// whole string is random-looking. The entropy rule: at least 20 characters, letters and
    /// digits, no whitespace or `:`, not a path, URL or image reference, not hexadecimal
    /// (digests, checksums and UUIDs stay readable), not a lower-case name of short parts
    /// (`worker-7d9f8b6c5d-x2x4z`), Shannon entropy at least 3.5 bits per
    /// character, and the character class changing between neighbours (lower to upper case,
    /// letter to digit or back; upper to lower case starts a word and does not count) at
    /// least every fourth character — random tokens and base64 change class about every other
    /// character, names and identifiers (`nodeHealthCheckMinHealthy2`,
    /// `kubevirt-hyperconverged-v1.14.0`) rarely.
    pub fn looks_secret(value: &str) -> bool {
        Self {
            key: [0; 32],
            disabled: 0,
        }
        .looks_secret_by_rules(value)
    }

    fn looks_secret_by_rules(&self, value: &str) -> bool {
        let trimmed = value.trim();
        if trimmed.len() < SHORTEST_MATCH || trimmed.starts_with(FINGERPRINT_PREFIX) {
            return false;
        }
        (self.on(Rule::Pem) && contains_pem(trimmed))
            || (self.on(Rule::Bearer) && find_bearer(trimmed, 0).is_some())
            || (self.on(Rule::Basic) && find_basic(trimmed, 0).is_some())
            || (self.on(Rule::Jwt) && is_jwt(trimmed))
            || self.find_shape(trimmed, 0).is_some()
            || (self.on(Rule::Entropy) && is_high_entropy(trimmed))
    }

    /// A copy of a Kubernetes object with every secret value replaced by its fingerprint: by
    /// position, and every other string by content — a string that looks secret as a whole
    /// is replaced whole, credentials inside longer text are replaced where they stand. Only
    /// object names, namespaces and other `metadata` fields (not annotation and label values)
    /// are left alone.
    pub fn redact_object(&self, obj: &Value) -> Value {
        let kind = kind_of(obj);
        let mut path = Vec::new();
        self.walk(kind, obj, &mut path, false)
    }

    /// Redacts `value` found at `pointer` (RFC 6901) of an object of `kind` exactly as
    /// [`Redactor::redact_object`] redacts it there: the same code, so that a report that
    /// holds only changed values (drift) agrees with one that holds whole objects (diff).
    pub fn redact_value_at(&self, kind: &str, pointer: &str, value: &Value) -> Value {
        let mut path = crate::pointer::segments(pointer);
        let secret = {
            let segments: Vec<&str> = path.iter().map(String::as_str).collect();
            secret_by_path(self.disabled, kind, &segments)
        };
        self.walk(kind, value, &mut path, secret)
    }

    /// Redacts free text (a unified diff, an error message, a log line): PEM blocks, bearer
    /// and basic authorization values, JWTs, URL passwords, tokens of a known shape,
    /// random-looking words (the entropy rule of [`Redactor::looks_secret`]), and the values
    /// of `key: value` / `key=value` pairs whose key looks like a credential.
    ///
    /// JSON text inside a value may spell a credential with escapes (`\u0070assword: x`,
    /// `ghp\u005f…`): a line whose decoded form some rule touches is shown decoded and
    /// redacted; other lines keep their escapes.
    pub fn redact_text(&self, text: &str) -> String {
        let out = self.redact_text_once(text);
        if !out.contains("\\u") {
            return out;
        }
        let mut result = String::with_capacity(out.len());
        for line in out.split_inclusive('\n') {
            if line.contains("\\u") {
                let decoded = decode_unicode_escapes(line);
                if decoded != line {
                    let redacted = self.redact_text_once(&decoded);
                    if redacted != decoded {
                        result.push_str(&redacted);
                        continue;
                    }
                }
            }
            result.push_str(line);
        }
        result
    }

    fn redact_text_once(&self, text: &str) -> String {
        // Nothing any rule recognises is this short and without a separator.
        if text.len() < SHORTEST_MATCH && !text.contains([':', '=']) {
            return text.to_owned();
        }
        TEXT_PASSES
            .iter()
            .fold(text.to_owned(), |text, (rule, pass)| {
                if rule.is_none_or(|rule| self.on(rule)) {
                    pass(self, &text)
                } else {
                    text
                }
            })
    }

    /// A command line inside text (`sh -c "psql --password x"`, a `command` string): the word
    /// after a credential flag (`--password x`, `-token 'x y'`) is replaced; `--flag=x` is the
    /// key-value rule's.
    fn redact_flag_values(&self, text: &str) -> String {
        splice(text, '-', |before, tail, out| {
            let at_word_start = before
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '[' | ','));
            let flag_len = tail
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '=' | ','))
                .unwrap_or(tail.len());
            let flag = &tail[..flag_len];
            let name = flag.trim_start_matches('-');
            let after = &tail[flag_len..];
            // Only spaces or tabs between the flag and its value, on the same line.
            let gap = after.len() - after.trim_start_matches([' ', '\t']).len();
            let value_text = &after[gap..];
            if !at_word_start || name.is_empty() || gap == 0 || !is_credential_key(name) {
                out.push_str(&tail[..flag_len.max(1)]);
                return Some(flag_len.max(1));
            }
            let (value, len) = if let Some(q @ ('"' | '\'')) = value_text.chars().next() {
                match value_text[1..].find(q) {
                    Some(end) => (&value_text[1..=end], end + 2),
                    None => (&value_text[1..], value_text.len()),
                }
            } else {
                let end = value_text
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ','))
                    .unwrap_or(value_text.len());
                (&value_text[..end], end)
            };
            out.push_str(&tail[..flag_len + gap]);
            if value.is_empty() || value.starts_with('-') || value.starts_with('<') {
                return Some(flag_len + gap);
            }
            let quoted = len > value.len();
            if quoted {
                out.push_str(&value_text[..1]);
            }
            out.push_str(&self.fingerprint(value));
            if quoted && len == value.len() + 2 {
                out.push_str(&value_text[len - 1..len]);
            }
            Some(flag_len + gap + len)
        })
    }

    /// XML configuration (Maven `settings.xml`, Tomcat, .NET `app.config`):
    /// `<password>value</password>` and `<add key="Password" value="value"/>` (an element
    /// whose `name` or `key` attribute is credential-like) have the value replaced.
    fn redact_xml_elements(&self, text: &str) -> String {
        splice(text, '<', |_, element, out| {
            let gt = element.find('>')?;
            out.push_str(&element[..=gt]);
            let tag = &element[1..gt];
            let name_end = tag
                .find(|c: char| c.is_whitespace() || c == '/')
                .unwrap_or(tag.len());
            let name = tag[..name_end].rsplit(':').next().unwrap_or_default();
            let attrs = &tag[name_end..];
            let tail = &element[gt + 1..];
            if !name.is_empty()
                && !tag.starts_with(['/', '?', '!'])
                && !tag.ends_with('/')
                && is_credential_key(name)
            {
                // `<password>value</password>`: the text up to its closing tag.
                let end = tail.find('<').unwrap_or(tail.len());
                let value = tail[..end].trim();
                if value.is_empty()
                    || value.starts_with(FINGERPRINT_PREFIX)
                    || !tail[end..].starts_with("</")
                {
                    return Some(gt + 1);
                }
                let lead = tail.len() - tail.trim_start().len();
                out.push_str(&tail[..lead]);
                out.push_str(&self.fingerprint(value));
                return Some(gt + 1 + lead + value.len());
            }
            if let Some(redacted) = self.redact_xml_named_value(attrs) {
                out.truncate(out.len() - (gt + 1));
                out.push('<');
                out.push_str(&tag[..name_end]);
                out.push_str(&redacted);
                out.push('>');
            }
            Some(gt + 1)
        })
    }

    /// The attributes of an element `name="password" value="…"` (or `key=`) with the
    /// `value` replaced, or `None` when the element names no credential.
    fn redact_xml_named_value(&self, attrs: &str) -> Option<String> {
        let attr = |name: &str| -> Option<(usize, usize)> {
            let mut from = 0;
            while let Some(i) = attrs[from..].find(name).map(|i| from + i) {
                from = i + name.len();
                let boundary = attrs[..i]
                    .chars()
                    .next_back()
                    .is_none_or(char::is_whitespace);
                let after = attrs[from..].trim_start();
                if boundary && let Some(after) = after.strip_prefix('=') {
                    let after = after.trim_start();
                    let quote = after.chars().next().filter(|c| matches!(c, '"' | '\''))?;
                    let start = attrs.len() - after.len() + 1;
                    let len = attrs[start..].find(quote)?;
                    return Some((start, start + len));
                }
            }
            None
        };
        let named = ["name", "key"]
            .iter()
            .filter_map(|a| attr(a))
            .any(|(s, e)| is_credential_key(&attrs[s..e]));
        let (start, end) = attr("value")?;
        let value = &attrs[start..end];
        if !named || value.is_empty() || value.starts_with(FINGERPRINT_PREFIX) {
            return None;
        }
        Some(format!(
            "{}{}{}",
            &attrs[..start],
            self.fingerprint(value),
            &attrs[end..]
        ))
    }

    /// The first token of a known shape at or after byte `from`: (start, end).
    fn find_shape(&self, text: &str, from: usize) -> Option<(usize, usize)> {
        static FIRST_BYTES: std::sync::LazyLock<[bool; 256]> = std::sync::LazyLock::new(|| {
            let mut first = [false; 256];
            for shape in SHAPES {
                for prefix in shape.prefixes {
                    first[usize::from(prefix.as_bytes()[0])] = true;
                }
            }
            first
        });
        let bytes = text.as_bytes();
        let mut i = from;
        while i < bytes.len() {
            let boundary =
                i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
            if boundary && FIRST_BYTES[usize::from(bytes[i])] {
                for (index, shape) in SHAPES.iter().enumerate() {
                    if !self.on(Rule::Shape(index)) {
                        continue;
                    }
                    for prefix in shape.prefixes {
                        if text[i..].starts_with(prefix) {
                            let body_start = i + prefix.len();
                            let body_len = text[body_start..]
                                .find(|c: char| !shape.charset.allows(c))
                                .unwrap_or(text.len() - body_start);
                            if body_len >= shape.min {
                                return Some((i, body_start + body_len));
                            }
                        }
                    }
                }
            }
            i += 1;
            while i < bytes.len() && !text.is_char_boundary(i) {
                i += 1;
            }
        }
        None
    }

    fn redact_shapes(&self, text: &str) -> String {
        replace_each(
            text,
            |text, from| self.find_shape(text, from),
            |token| self.fingerprint(token),
        )
    }

    /// Words of free text that the entropy rule judges random (a `key=` before the word and
    /// trailing `.` are not part of it).
    fn redact_random_words(&self, text: &str) -> String {
        let is_word = |c: char| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '_' | '-' | '.' | '~' | '=')
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(is_word) {
            out.push_str(&rest[..start]);
            let tail = &rest[start..];
            let len = tail.find(|c: char| !is_word(c)).unwrap_or(tail.len());
            let word = &tail[..len];
            // `key=value`: only the value; `value==` keeps its padding.
            let core = word.trim_end_matches('=');
            let value_from = core.rfind('=').map_or(0, |i| i + 1);
            let value = word[value_from..].trim_end_matches('.');
            if is_high_entropy(value) {
                out.push_str(&word[..value_from]);
                out.push_str(&self.fingerprint(value));
                out.push_str(&word[value_from + value.len()..]);
            } else if word.contains('/') {
                // A URL path or a path: each random-looking segment (a webhook's token).
                let mut first = true;
                for segment in word.split('/') {
                    if !first {
                        out.push('/');
                    }
                    first = false;
                    let core = segment.trim_end_matches(['.', '=']);
                    if is_high_entropy(core) {
                        out.push_str(&self.fingerprint(core));
                        out.push_str(&segment[core.len()..]);
                    } else {
                        out.push_str(segment);
                    }
                }
            } else {
                out.push_str(word);
            }
            rest = &tail[len..];
        }
        out.push_str(rest);
        out
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
                // `https://<token>@host`: a user name alone in a web URL is a token (git
                // credentials, basic auth without password); ssh-like schemes keep theirs.
                None if is_web_scheme(head)
                    && let Some(at_sign) = authority.rfind('@')
                    && at_sign > 0
                    && !authority[..at_sign].starts_with(FINGERPRINT_PREFIX) =>
                {
                    out.push_str(&self.fingerprint(&authority[..at_sign]));
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
                    let child_secret = secret || secret_by_path(self.disabled, kind, &segments);
                    let redacted = self.walk(kind, child, path, child_secret);
                    path.pop();
                    out.insert(key.clone(), redacted);
                }
                // An env entry `{name: DB_PASSWORD, value: …}`: the name says it is a credential.
                if let (Some(Value::String(name)), Some(Value::String(v))) =
                    (map.get("name"), map.get("value"))
                    && self.on(Rule::EnvName)
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
                if self.on(Rule::ArgFlag)
                    && matches!(path.last().map(String::as_str), Some("args" | "command"))
                {
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
                Value::String(self.redact_string_by_content(&segments, s))
            }
            Value::Number(n) if secret => Value::String(self.fingerprint(&n.to_string())),
            Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        }
    }

    /// A string not secret by position: redacted whole when it looks secret as a whole (or
    /// is a `--password=value` argument); otherwise the credentials inside it are replaced
    /// where they stand ([`Redactor::redact_text`]). Object names and other `metadata` fields
    /// (not annotation or label values) are left alone.
    fn redact_string_by_content(&self, segments: &[&str], s: &str) -> String {
        if matches!(segments, ["metadata", ..])
            && !matches!(segments, ["metadata", "annotations" | "labels", _, ..])
        {
            return s.to_owned();
        }
        if self.looks_secret_by_rules(s) {
            return self.fingerprint(s);
        }
        if self.on(Rule::ArgFlag)
            && is_args_item(segments)
            && let Some((flag, _)) = s.split_once('=')
            && flag.starts_with('-')
            && is_credential_key(flag.trim_start_matches('-'))
        {
            return self.fingerprint(s);
        }
        self.redact_text(s)
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
        replace_each(text, find_bearer, |token| {
            format!("Bearer {}", self.fingerprint(&token[7..]))
        })
    }

    fn redact_basic(&self, text: &str) -> String {
        replace_each(text, find_basic, |token| {
            format!("{}{}", &token[..6], self.fingerprint(&token[6..]))
        })
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
        // Indentation of a credential key with nothing after it (`password:`): its value may
        // continue on more-indented lines (a YAML plain scalar split across lines, a list);
        // a nested `key: value` line is judged by its own key.
        let mut plain_indent: Option<usize> = None;
        for line in text.split_inclusive('\n') {
            let (body, newline) = line
                .strip_suffix('\n')
                .map_or((line, ""), |body| (body, "\n"));
            let (marker, content) = split_diff_marker(body);
            let indent = content.len() - content.trim_start().len();
            // A value line under a credential key: its value replaced (a fingerprint stays).
            let more_indented = |out: &mut String, value: &str| {
                if value.starts_with(FINGERPRINT_PREFIX) {
                    out.push_str(line);
                } else {
                    out.push_str(marker);
                    out.push_str(&content[..indent]);
                    out.push_str(&self.fingerprint(value));
                    out.push_str(newline);
                }
            };
            if let Some(key_indent) = plain_indent {
                let value = content.trim();
                if value.is_empty() {
                    out.push_str(line);
                    continue;
                }
                let mapping = value.ends_with(':') || value.contains(": ");
                if indent > key_indent && !mapping {
                    more_indented(&mut out, value);
                    continue;
                }
                if indent <= key_indent {
                    plain_indent = None;
                }
            }
            if let Some(key_indent) = block_indent {
                if !content.trim().is_empty() && indent > key_indent {
                    let value = content.trim();
                    more_indented(&mut out, value);
                    continue;
                }
                if !content.trim().is_empty() {
                    block_indent = None;
                }
            }
            if let Some((value_start, value)) = credential_assignment(content) {
                if matches!(value.trim_end(), "|" | ">" | "|-" | ">-" | "|+" | ">+") {
                    block_indent = Some(indent);
                    out.push_str(line);
                    continue;
                }
                out.push_str(marker);
                out.push_str(&content[..value_start]);
                out.push_str(&self.fingerprint(value));
                out.push_str(newline);
            } else {
                if credential_key_alone(content) {
                    plain_indent = Some(indent);
                }
                out.push_str(line);
            }
        }
        out
    }
}

/// `text` with each token `find(text, from)` finds (its start and end, at or after byte
/// `from`) replaced by `replace(token)`.
fn replace_each(
    text: &str,
    find: impl Fn(&str, usize) -> Option<(usize, usize)>,
    mut replace: impl FnMut(&str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some((start, end)) = find(text, from) {
        out.push_str(&text[from..start]);
        out.push_str(&replace(&text[start..end]));
        from = end;
    }
    out.push_str(&text[from..]);
    out
}

/// `text` scanned for `needle`: at each one, what came since the last step (`before`) is
/// copied to `out`, and `step(before, tail, out)`, `tail` the text from the needle on, writes
/// what the start of `tail` becomes and says how many of its bytes it took; `None` leaves the
/// rest as it is.
fn splice(
    text: &str,
    needle: char,
    mut step: impl FnMut(&str, &str, &mut String) -> Option<usize>,
) -> String {
    if !text.contains(needle) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(needle) {
        let (before, tail) = rest.split_at(start);
        out.push_str(before);
        let Some(taken) = step(before, tail, &mut out) else {
            out.push_str(tail);
            return out;
        };
        rest = &tail[taken..];
    }
    out.push_str(rest);
    out
}

/// A line that is only a credential-named key and its `:` (`password:`, `- token:`), whose
/// value follows on the next lines.
fn credential_key_alone(content: &str) -> bool {
    let Some(key) = content.trim().strip_suffix(':') else {
        return false;
    };
    let key = key.trim_start_matches(['-', ' ']).trim_matches(['"', '\'']);
    !key.is_empty()
        && !key.contains([' ', ':', '='])
        && is_credential_key(key.rsplit(['.', '/']).next().unwrap_or(key))
}

/// `\uXXXX` escapes (JSON, YAML double quotes) decoded, but for control characters, which
/// keep their escape.
fn decode_unicode_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\\u") {
        out.push_str(&rest[..at]);
        let hex = rest.get(at + 2..at + 6);
        let decoded = hex
            .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .filter(|c| !c.is_control());
        if let Some(c) = decoded {
            out.push(c);
            rest = &rest[at + 6..];
        } else {
            out.push_str("\\u");
            rest = &rest[at + 2..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether the text before `://` ends in a web scheme (`http`, `https`, `ws`, `wss`, also as
/// `git+https`), where a user name alone in the authority is a credential.
fn is_web_scheme(head: &str) -> bool {
    let before = head.strip_suffix("://").unwrap_or(head);
    let scheme_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .map_or(0, |i| i + 1);
    let scheme = before[scheme_start..].to_ascii_lowercase();
    let last = scheme.rsplit('+').next().unwrap_or_default();
    matches!(last, "http" | "https" | "ws" | "wss")
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
        // `key = value` too.
        let before = content[..separator]
            .trim_end()
            .trim_end_matches(['"', '\'', '`', '\\']);
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
            || value.starts_with(SECRET_PLACEHOLDER)
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

fn kind_of(obj: &Value) -> &str {
    obj.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// Whether a path (object keys and array indices) of an object of `kind` is secret by
/// position alone, with the rules whose bits are set in `disabled` switched off.
fn secret_by_path(disabled: u64, kind: &str, segments: &[&str]) -> bool {
    let on = |rule: Rule| disabled & rule.bit() == 0;
    match (kind, segments.first()) {
        ("Secret", Some(&("data" | "stringData")))
            if segments.len() >= 2 && on(Rule::SecretData) =>
        {
            return true;
        }
        ("MachineClass", _)
            if on(Rule::UserData)
                && segments.iter().any(|s| s.eq_ignore_ascii_case("userData")) =>
        {
            return true;
        }
        _ => {}
    }
    // Metadata names, labels' and annotations' keys are not values; an annotation's *value*
    // is checked by content and by its key.
    if segments.first() == Some(&"metadata") {
        return match segments {
            ["metadata", "annotations", key, ..] => {
                (on(Rule::LastApplied)
                    && *key == "kubectl.kubernetes.io/last-applied-configuration")
                    || (on(Rule::CredentialKey)
                        && is_credential_key(key.rsplit('/').next().unwrap_or(key)))
            }
            _ => false,
        };
    }
    // The innermost key (array indices skipped) names the value: `password`, `apiKey`,
    // `passwords/0`. Outer keys do not: `secret/secretName` is a reference, not a value.
    on(Rule::CredentialKey)
        && segments
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
        "accountkey",
        "masterkey",
        "sharedkey",
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
    /// Short names that are credentials only as the whole key (`sig=` of an Azure SAS URL,
    /// `pwd=` of a connection string, `auth` of a Docker config).
    const EXACT_WORDS: &[&str] = &[
        "sig",
        "pwd",
        "pass",
        "pat",
        "auth",
        "psk",
        "otp",
        "pin",
        "apipass",
        "accountkey",
        "sharedkey",
        "masterkey",
        "licensekey",
        "x-api-key",
        "xapikey",
    ];
    if key.parse::<usize>().is_ok() {
        return false;
    }
    let normalised: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if EXACT_WORDS.contains(&normalised.as_str()) {
        return true;
    }
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

/// The next `Basic <base64 of user:password>` at or after byte `from`: (start of `Basic`,
/// end of the credential). Only a value that decodes to text with a `:` counts, so prose
/// ("basic settings") is left alone.
fn find_basic(text: &str, from: usize) -> Option<(usize, usize)> {
    use base64::Engine as _;
    let mut search = from;
    while let Some(found) = text[search..]
        .find("Basic ")
        .or_else(|| text[search..].find("basic "))
    {
        let start = search + found;
        let token_start = start + 6;
        let token_len = text[token_start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
            .unwrap_or(text.len() - token_start);
        let token = &text[token_start..token_start + token_len];
        if token.len() >= 8
            && base64::engine::general_purpose::STANDARD
                .decode(token)
                .is_ok_and(|plain| plain.contains(&b':'))
        {
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
    let len = s.chars().count();
    if len < ENTROPY_MIN_LEN
        || s.chars().any(|c| c.is_whitespace() || c == ':')
        // A path, unless it has base64's `+` or `=` (a base64 token may start with `/`).
        || (s.starts_with('/') && !s.contains(['+', '=']))
        // A host, image or file reference (`registry.example/app:v1`), not a token.
        || (s.contains('.') && s.contains('/'))
    {
        return false;
    }
    // Hex digests, checksums and UUIDs are not judged by entropy; a hex credential is still
    // caught by its key name or its shape.
    if s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return false;
    }
    let letters = s.chars().any(|c| c.is_ascii_alphabetic());
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if !letters || digits == 0 {
        return false;
    }
    // A Kubernetes-style name (lower case, short parts between `-`, `.`, `_`:
    // `worker-pool-eu01-7d9f8b6c5d-x2x4z`), not a token.
    if !s.chars().any(|c| c.is_ascii_uppercase())
        && s.contains(['-', '.', '_'])
        && s.split(['-', '.', '_']).all(|part| part.len() <= 12)
    {
        return false;
    }
    // Neighbours of different classes (upper, lower, digit); other characters break a run.
    let class = |c: char| {
        if c.is_ascii_uppercase() {
            1
        } else if c.is_ascii_lowercase() {
            2
        } else if c.is_ascii_digit() {
            3
        } else {
            0
        }
    };
    let chars: Vec<u8> = s.chars().map(class).collect();
    // Upper to lower case is how a word starts (`Health`), not a sign of randomness.
    let changes = chars
        .windows(2)
        .filter(|w| w[0] != 0 && w[1] != 0 && w[0] != w[1] && !(w[0] == 1 && w[1] == 2))
        .count();
    changes >= 5 && changes * 4 >= len && shannon_entropy(s) >= ENTROPY_MIN_BITS
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
    /// XML configuration files (Maven `settings.xml`, .NET `app.config`) carry credentials
    /// as element text or as the `value` of an element named by its `key`/`name` attribute;
    /// a web URL's user name alone is a token (`https://<token>@github.com`). Names,
    /// references and ssh user names stay readable.
    #[test]
    fn credentials_in_xml_and_url_user_names_are_redacted() {
        let r = Redactor::with_key(b"k");
        for (text, secret) in [
            (
                "<server>\n  <password>hunter5</password>\n</server>",
                "hunter5",
            ),
            ("<ns:Password a=\"1\"> hunter6 </ns:Password>", "hunter6"),
            ("<add key=\"DbPassword\" value=\"hunter7\" />", "hunter7"),
            ("<property name='db.token' value='hunter8'/>", "hunter8"),
            ("https://hunter9@github.com/o/r.git", "hunter9"),
            ("git+https://hunter10@host:8443/x", "hunter10"),
            ("see HTTPS://hunter11@host/x for details", "hunter11"),
        ] {
            let red = r.redact_text(text);
            assert!(!red.contains(secret), "{text} -> {red}");
            assert!(red.contains(FINGERPRINT_PREFIX), "{text} -> {red}");
        }
        for text in [
            "ssh://git@github.com/o/r.git",
            "git@github.com:o/r.git",
            "<name>db</name> <tokenPath>/x</tokenPath>",
            "<passwordFile>/etc/pw</passwordFile>",
            "<add key=\"user\" value=\"bob\"/>",
            "<password/> </password>x a < b > c",
            "is `<secret value>` and <token>unterminated",
            "annotation example.io/password=<secret value>",
            "https://github.com/o/r",
        ] {
            assert_eq!(r.redact_text(text), text);
        }
    }

    /// JSON inside a value may spell a key or a token with `\u` escapes; the decoded form is
    /// judged, and lines without anything secret keep their escapes.
    #[test]
    fn unicode_escaped_credentials_are_redacted() {
        let r = Redactor::with_key(b"k");
        for (text, secret) in [
            (r#"{"\u0070assword": "hunter12"}"#, "hunter12"),
            (
                r#"{"note": "ghp\u005fPl4nt3dGhPT0k3nAbCdEfGhIjKlMnOpQrS0"}"#,
                "Pl4nt3dGhPT0k3n",
            ),
            ("t\\u006fken=hunter13\nplain line", "hunter13"),
        ] {
            let red = r.redact_text(text);
            assert!(!red.contains(secret), "{text} -> {red}");
        }
        let kept = r#"{"html": "\u003cb\u003e bold \u003c/b\u003e"}"#;
        assert_eq!(r.redact_text(kept), kept);
        let obj = json!({"kind": "ConfigMap", "metadata": {"annotations": {
            "example.io/config": r#"{"db": {"\u0070assword": "hunter14"}}"#}}});
        let out = serde_json::to_string(&r.redact_object(&obj)).unwrap();
        assert!(!out.contains("hunter14"), "{out}");
    }

    /// A value on the lines after its credential key (a YAML plain scalar split across lines,
    /// a list) is redacted; nested `key: value` lines keep their own judgement.
    #[test]
    fn credentials_on_the_lines_after_their_key_are_redacted() {
        let r = Redactor::with_key(b"k");
        let text = "db:\n  password:\n    hunter15\n    continued\n  tokens:\n    - hunter16\n  secret:\n    name: my-secret\n  host: db.internal\n";
        let red = r.redact_text(text);
        for secret in ["hunter15", "continued", "hunter16"] {
            assert!(!red.contains(secret), "{red}");
        }
        for kept in ["name: my-secret", "host: db.internal", "  tokens:"] {
            assert!(red.contains(kept), "{red}");
        }
        let obj = json!({"kind": "ConfigMap", "data": {"app.yaml": text}});
        let out = serde_json::to_string(&r.redact_object(&obj)).unwrap();
        assert!(
            !out.contains("hunter15") && !out.contains("hunter16"),
            "{out}"
        );
    }

    /// A command line inside one string (`sh -c "…"`) carries a credential after its flag.
    #[test]
    fn credentials_after_a_flag_inside_text_are_redacted() {
        let r = Redactor::with_key(b"k");
        for (text, secret) in [
            ("psql --password hunter17 -h db", "hunter17"),
            ("app --token \"hunter 18\" --verbose", "hunter 18"),
            ("app -api-key\t'hunter19'", "hunter19"),
        ] {
            let red = r.redact_text(text);
            assert!(!red.contains(secret), "{text} -> {red}");
        }
        let obj = json!({"kind": "Pod", "spec": {"containers": [{"command":
            ["/bin/sh", "-c", "exec app --client-secret hunter20 --port 8080"]}]}});
        let out = serde_json::to_string(&r.redact_object(&obj)).unwrap();
        assert!(
            !out.contains("hunter20") && out.contains("--port 8080"),
            "{out}"
        );
        for kept in [
            "app --verbose --port 8080 -n kube-system",
            "--password-file /etc/pw",
            "a - b -- c",
            "--token <redacted hmac-sha256:0123456789abcdef>",
        ] {
            assert_eq!(r.redact_text(kept), kept);
        }
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

    /// The leak corpus of the CLI test, and where each entry is placed: the same places as
    /// `cli/tests/leaks.rs` (objects of every kind, free text of errors).
    struct Planted {
        name: String,
        forms: Vec<String>,
        objects: Vec<Value>,
        texts: Vec<String>,
    }

    fn planted() -> Vec<Planted> {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        include_str!("../../cli/tests/fixtures/leaks/secrets.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|line| {
                let parts: Vec<&str> = line.splitn(4, '|').collect();
                let secret = parts[1];
                let c = parts[2].replace("\\n", "\n").replace("{}", secret);
                let any = parts[3] == "any";
                let mut forms = vec![secret.to_owned(), b64(secret).trim_end_matches('=').to_owned()];
                if c != secret {
                    forms.push(b64(&c).trim_end_matches('=').to_owned());
                }
                let mut objects = vec![
                    json!({"kind": "Secret", "data": {"d": b64(&c)}, "stringData": {"s": c}}),
                    json!({"kind": "MachineClass", "providerSpec": {"userData": format!("#cloud-config\nx: {c}\n")}}),
                    json!({"kind": "ConfigMap", "data": {"cred.conf": format!("password: {c}\n")}}),
                    json!({"kind": "Deployment", "metadata": {"annotations": {"example.io/password": c}},
                        "spec": {"template": {"spec": {"containers": [{"name": "app",
                        "env": [{"name": "DB_PASSWORD", "value": c}],
                        "args": ["--password", c, format!("--token={c}")]}]}}}}),
                    json!({"kind": "Widget", "metadata": {"annotations": {
                        "kubectl.kubernetes.io/last-applied-configuration": json!({"spec": {"x": c}}).to_string()}},
                        "spec": {"password": c}}),
                ];
                let mut texts = Vec::new();
                if any {
                    objects.push(json!({"kind": "ConfigMap", "data": {"app.conf": format!("setting: {c}\n"), "raw.txt": c}}));
                    objects.push(json!({"kind": "Deployment", "metadata": {"annotations": {"example.io/note": c}},
                        "spec": {"template": {"spec": {"containers": [{"name": "app",
                        "env": [{"name": "NEUTRAL", "value": c}], "args": ["--opt", c]}]}}}}));
                    objects.push(json!({"kind": "Widget", "spec": {"field": c, "list": [c],
                        "nested": {"config": format!("endpoint: https://api.example.invalid\nvalue: {c}\n")}}}));
                    texts.push(format!("error: value {c} is not allowed"));
                }
                Planted {
                    name: parts[0].to_owned(),
                    forms,
                    objects,
                    texts,
                }
            })
            .collect()
    }

    /// The corpus entries some form of which survives redaction by `r`.
    fn leaked(r: &Redactor, corpus: &[Planted]) -> Vec<String> {
        corpus
            .iter()
            .filter(|p| {
                let mut out: Vec<String> = p
                    .objects
                    .iter()
                    .map(|o| serde_json::to_string(&r.redact_object(o)).unwrap())
                    .collect();
                out.extend(p.texts.iter().map(|t| r.redact_text(t)));
                p.forms
                    .iter()
                    .any(|f| out.iter().any(|o| o.contains(f.as_str())))
            })
            .map(|p| p.name.clone())
            .collect()
    }

    /// The meta test of the leak corpus: with every rule the corpus does not leak, and
    /// switching off any one rule (and the entropy rule, the catch-all behind the others)
    /// makes at least one corpus entry leak — so the corpus test fails when a rule is removed.
    #[test]
    fn every_rule_is_needed_by_the_leak_corpus() {
        let corpus = planted();
        assert!(corpus.len() >= 25);
        let full = redactor();
        assert_eq!(leaked(&full, &corpus), Vec::<String>::new());
        for rule in Rule::all() {
            let mut r = redactor().without(rule);
            if rule != Rule::Entropy {
                r = r.without(Rule::Entropy);
            }
            let leaks = leaked(&r, &corpus);
            assert!(!leaks.is_empty(), "no corpus entry needs {rule:?}");
        }
    }

    /// Ordinary values stay readable under the entropy and shape rules.
    #[test]
    fn ordinary_values_are_not_flagged() {
        for plain in [
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "123456789",
            "nodeHealthCheckMinHealthy2",
            "kubevirt-hyperconverged-v1.14.0",
            "openshift-cnv",
            "platform.kubevirt.io/enable-kubelet-performance-settings",
            "worker-pool-eu01-3-7d9f8b6c5d-x2x4z",
            "ip-10-0-1-23.eu-central-1.compute.internal",
            "c1.4",
            "storage_premium_perf6",
            "gpu-workers@sa.stackit.cloud",
            "--task-size=1024",
            "risk-assessment-report-2024",
            "basic settings for the cluster",
            "Bearer",
            "AKIA-style ids are not here",
        ] {
            assert!(!Redactor::looks_secret(plain), "{plain}");
            assert_eq!(redactor().redact_text(plain), plain);
        }
    }

    #[test]
    fn shapes_are_found_inside_text() {
        let r = redactor();
        for (text, secret) in [
            ("key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
            (
                "(ghp_0123456789abcdefghijABCDEFGHIJ012345)",
                "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            ),
            ("x=xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
            (
                "Authorization: Basic YWRtaW46aHVudGVyMg==",
                "YWRtaW46aHVudGVyMg==",
            ),
            (
                "https://a.blob.core.windows.net/c?sv=1&sig=AbCd%2Bef",
                "AbCd%2Bef",
            ),
            // Shapes that no prefix names: caught by key names or by the entropy rule.
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "wJalrXUtnFEMI",
            ),
            (
                "secret h5Wq3Zx9Lk2Vb8Nm4Rt7Yp1Cd6Fg0Js/Aa+Bb9Cc end",
                "h5Wq3Zx9Lk2Vb8Nm4Rt7Yp1Cd6Fg0Js",
            ),
            (
                "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net",
                "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA",
            ),
            (
                r#"{"auths":{"r.example":{"auth":"dXNlcjpodW50ZXIy"}}}"#,
                "dXNlcjpodW50ZXIy",
            ),
            (
                "bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
                "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
            ),
            (
                "https://discord.com/api/webhooks/123/abcdefghijklmnopqrst",
                "abcdefghijklmnopqrst",
            ),
            (
                "https://example.invalid/hook/T9x2Lm8Qp4Zr7Kv3Wn6Ys1Hd",
                "T9x2Lm8Qp4Zr7Kv3Wn6Ys1Hd",
            ),
            (
                "mailgun key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
                "3ax6xnjp29jd6fds4gc373sgvjxteol0",
            ),
        ] {
            let out = r.redact_text(text);
            assert!(!out.contains(secret), "{out}");
            assert_eq!(r.redact_text(&out), out, "idempotent");
        }
    }
}
