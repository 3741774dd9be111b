//! The single error reporter: `error: …`, each cause as `  Caused by: …`, an optional
//! `hint: …`; exit code 2. A broken pipe on stdout is treated as success. Every line passes
//! through the one redaction policy ([`Redactor::redact_text`]) before it is printed: an error
//! from any command, crate or library may quote a value (a template filter's message, a YAML
//! parser's snippet, a path named by a parameter), and none of them reaches the terminal in
//! clear.

use std::io::{self, Write as _};
use std::process::ExitCode;

use plinth_renderer::RenderError;
use plinth_vocab::redact::Redactor;

/// An error that carries a hint for the user; the reporter prints the hint last.
#[derive(Debug)]
pub struct Hinted {
    pub message: String,
    pub hint: String,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

/// Prints `err` (redacted) and returns the exit code for it.
pub fn error(err: &anyhow::Error) -> ExitCode {
    if err
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
    {
        return ExitCode::SUCCESS;
    }
    let text = format_error(err, Redactor::shared());
    let _ = io::stderr().lock().write_all(text.as_bytes());
    ExitCode::from(2)
}

/// `error: …`, `  Caused by: …` lines and the last hint, each redacted.
pub fn format_error(err: &anyhow::Error, redactor: &Redactor) -> String {
    let mut out = String::new();
    let mut hint = None;
    for (i, cause) in err.chain().enumerate() {
        if let Some(h) = cause.downcast_ref::<Hinted>() {
            hint = Some(h.hint.clone());
        }
        if let Some(RenderError::UnknownCluster { known, .. }) = cause.downcast_ref() {
            hint = Some(format!(
                "the repository's clusters are: {}",
                known.join(", ")
            ));
        }
        let label = if i == 0 { "error: " } else { "  Caused by: " };
        out.push_str(label);
        out.push_str(&redactor.redact_text(&cause.to_string()));
        out.push('\n');
    }
    if let Some(h) = hint {
        out.push_str("hint: ");
        out.push_str(&redactor.redact_text(&h));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the chain and the hint is redacted, whatever error type carries it.
    #[test]
    fn every_cause_and_the_hint_are_redacted() {
        let r = Redactor::with_key(b"k");
        let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let err = anyhow::Error::new(Hinted {
            message: format!("cannot use `{token}`"),
            hint: "set password: hunter2 somewhere else".to_owned(),
        })
        .context("template `a.j2` line 3: include of postgres://u:S3cr3tPw@db/x failed")
        .context(format!("cluster `c`: AKIAIOSFODNN7EXAMPLE in {token}"));
        let text = format_error(&err, &r);
        for secret in [token, "hunter2", "S3cr3tPw", "AKIAIOSFODNN7EXAMPLE"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.starts_with("error: cluster `c`: <redacted"), "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("template `a.j2` line 3"), "{text}");
    }
}
