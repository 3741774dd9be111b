//! The one error mapping and reporter of the binary: every library error (`RenderError`,
//! `GitError`, `DriftError`, I/O, anything with context) becomes a [`CommandError`] here, with
//! its kind and its hints, and the one reporter prints it: `error: …`, each cause as
//! `  Caused by: …`, then `hint: …`; exit code 2. A broken pipe on stdout is success. Every line
//! passes through the one redaction policy ([`Redactor::redact_text`]) before it is printed: an
//! error from any command, crate or library may quote a value (a template filter's message, a
//! YAML parser's snippet, a path named by a parameter), and none of them reaches the terminal
//! in clear. Usage errors and panics are reported here too, redacted the same way.

use std::fmt;
use std::io::{self, Write as _};
use std::process::ExitCode;

use plinth_apply::rbac::RbacError;
use plinth_drift::DriftError;
use plinth_renderer::RenderError;
use plinth_review::ReviewError;
use plinth_review::git::GitError;
use plinth_vocab::redact::Redactor;

/// Who can fix what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The command line asked for something that cannot be (an unknown cluster, a flag that
    /// needs another).
    User,
    /// The platform repository or its settings are wrong (a template, an overlay, a schema).
    Config,
    /// The live cluster could not be reached or read.
    Cluster,
    /// Anything else: a file that cannot be written, a thread that cannot start.
    Internal,
}

/// An error as the binary reports it: the error with its chain of causes, who can fix it, and
/// what to try.
#[derive(Debug)]
pub struct CommandError {
    pub kind: Kind,
    pub error: anyhow::Error,
    pub hints: Vec<String>,
}

impl CommandError {
    /// A mistake of the command line, said in `message`.
    pub fn user(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::User,
            error: anyhow::Error::msg(message.into()),
            hints: Vec::new(),
        }
    }

    /// A mistake in the platform repository, said in `message`.
    pub fn config(message: impl Into<String>) -> Self {
        Self {
            kind: Kind::Config,
            ..Self::user(message)
        }
    }

    /// The same error with one more hint, printed after the causes.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// ``unknown cluster `NAME` ``, hinting at the clusters there are (the one wording of it).
    pub fn unknown_cluster<S: AsRef<str>>(name: &str, known: &[S]) -> Self {
        Self::user(format!("unknown cluster `{name}`")).hint(known_clusters_hint(known))
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

/// A command error may travel inside an `anyhow` chain (raised deep in a command, given
/// context on the way out); [`From<anyhow::Error>`] finds it again and keeps its kind and
/// hints.
impl std::error::Error for CommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// The one hint of an unknown cluster: the clusters there are.
fn known_clusters_hint<S: AsRef<str>>(known: &[S]) -> String {
    let known: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
    format!("the repository's clusters are: {}", known.join(", "))
}

/// The hints the library errors of a chain carry for the user (outermost first).
fn library_hints(err: &anyhow::Error) -> Vec<String> {
    let mut hints = Vec::new();
    for cause in err.chain() {
        let known = match (
            cause.downcast_ref::<RenderError>(),
            cause.downcast_ref::<ReviewError>(),
            drift_error(cause),
        ) {
            (Some(RenderError::UnknownCluster { known, .. }), _, _)
            | (_, Some(ReviewError::UnknownCluster { known, .. }), _)
            | (_, _, Some(DriftError::UnknownCluster { known, .. })) => Some(known),
            (_, _, Some(DriftError::EmptySnapshot { .. })) => {
                hints.push(
                    "check how the snapshot was captured (`kubectl get ... -o yaml --show-managed-fields > FILE`); if the cluster really holds none of the rendered objects, pass `--allow-empty` (every rendered object is then `missing`)".to_owned(),
                );
                None
            }
            (_, _, Some(DriftError::Duplicate { .. })) => {
                hints.push(
                    "keep one copy of the object in the snapshot (capture each kind once, at one time)".to_owned(),
                );
                None
            }
            (_, Some(ReviewError::Dirty { head, .. }), _) => {
                hints.push(format!(
                    "commit them first, or pass `--allow-dirty` to hydrate `HEAD` ({head}) as committed, without them"
                ));
                None
            }
            _ => None,
        };
        if let Some(known) = known {
            hints.push(known_clusters_hint(known));
        }
    }
    hints
}

/// `cause` as a drift error, also where it is boxed inside another (a snapshot's error inside
/// [`DriftError::Snapshot`]).
fn drift_error<'a>(cause: &'a (dyn std::error::Error + 'static)) -> Option<&'a DriftError> {
    cause
        .downcast_ref::<DriftError>()
        .or_else(|| cause.downcast_ref::<Box<DriftError>>().map(AsRef::as_ref))
}

/// The kind of the first library error of the chain that says (a command error's own kind
/// first).
fn kind_of(err: &anyhow::Error) -> Kind {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<CommandError>() {
            return e.kind;
        }
        if let Some(e) = cause.downcast_ref::<RenderError>() {
            return match e {
                RenderError::UnknownCluster { .. } => Kind::User,
                _ => Kind::Config,
            };
        }
        if cause.is::<GitError>() {
            return Kind::User;
        }
        if let Some(e) = cause.downcast_ref::<ReviewError>() {
            return match e {
                ReviewError::Read { .. }
                | ReviewError::Render { .. }
                | ReviewError::RenderCluster { .. } => Kind::Config,
                ReviewError::Metadata(_) => Kind::Internal,
                _ => Kind::User,
            };
        }
        if let Some(e) = drift_error(cause) {
            return match e {
                DriftError::UnknownCluster { .. } => Kind::User,
                DriftError::Render(_) | DriftError::Repository { .. } => Kind::Config,
                _ => Kind::Cluster,
            };
        }
    }
    Kind::Internal
}

impl From<anyhow::Error> for CommandError {
    fn from(error: anyhow::Error) -> Self {
        let kind = kind_of(&error);
        // The outermost command error of the chain holds the hints of those inside it.
        let mut hints = error
            .chain()
            .find_map(|e| e.downcast_ref::<CommandError>())
            .map(|e| e.hints.clone())
            .unwrap_or_default();
        hints.extend(library_hints(&error));
        Self { kind, error, hints }
    }
}

/// The library errors and I/O map through the chain above (kind by error type).
macro_rules! from_error {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for CommandError {
            fn from(error: $t) -> Self {
                anyhow::Error::new(error).into()
            }
        }
    )*};
}
from_error!(
    RenderError,
    GitError,
    ReviewError,
    DriftError,
    io::Error,
    serde_json::Error
);

/// `plinth rbac`'s errors: those of the libraries it calls map as they do everywhere; a kind
/// without a resource name, or an invalid name, is the repository's or the command line's.
impl From<RbacError> for CommandError {
    fn from(error: RbacError) -> Self {
        match error {
            RbacError::Drift(e) => e.into(),
            RbacError::Render(e) => e.into(),
            e @ RbacError::UnknownResources { .. } => Self {
                kind: Kind::Config,
                error: anyhow::Error::new(e),
                hints: vec![
                    "put the kind's CustomResourceDefinition in the `schemas` folder of plinth.yaml or pass `--crds DIR` (or render the CRD with the cluster): plinth never guesses a resource name".to_owned(),
                ],
            },
            e @ RbacError::InvalidName { .. } => Self {
                kind: Kind::User,
                error: anyhow::Error::new(e),
                hints: Vec::new(),
            },
        }
    }
}

impl CommandError {
    /// Prints the error (redacted) and returns the exit code for it. A reader closing stdout
    /// (`plinth … | head`) is not an error: the printer already answers that with success, so
    /// a broken pipe that reaches here came from elsewhere (a connection to a cluster) and
    /// fails the command like any other error.
    pub fn report(&self) -> ExitCode {
        let text = self.render(Redactor::shared());
        let _ = io::stderr().lock().write_all(text.as_bytes());
        ExitCode::from(2)
    }

    /// `error: …`, `  Caused by: …` lines and the hints, each redacted.
    pub fn render(&self, redactor: &Redactor) -> String {
        let mut out = String::new();
        for (i, cause) in self.error.chain().enumerate() {
            let label = if i == 0 { "error: " } else { "  Caused by: " };
            out.push_str(label);
            out.push_str(&redactor.redact_text(&cause.to_string()));
            out.push('\n');
        }
        for hint in &self.hints {
            out.push_str("hint: ");
            out.push_str(&redactor.redact_text(hint));
            out.push('\n');
        }
        out
    }
}

/// A panic message may quote a value: it is redacted like every other line.
pub fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let location = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let _ = writeln!(
        io::stderr(),
        "error: plinth panicked{location}: {}",
        Redactor::shared().redact_text(&message)
    );
}

/// Argument errors echo the offending argument: redacted too (help and version are not).
pub fn report_usage(err: &clap::Error) -> ExitCode {
    let text = err.render().to_string();
    let _ = if err.use_stderr() {
        write!(io::stderr(), "{}", Redactor::shared().redact_text(&text))
    } else {
        write!(io::stdout(), "{text}")
    };
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of the chain and the hint is redacted, whatever error type carries it.
    #[test]
    fn every_cause_and_the_hint_are_redacted() {
        let r = Redactor::with_key(b"k");
        let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let err = anyhow::Error::new(
            CommandError::user(format!("cannot use `{token}`"))
                .hint("set password: hunter2 somewhere else"),
        )
        .context("template `a.j2` line 3: include of postgres://u:S3cr3tPw@db/x failed")
        .context(format!("cluster `c`: AKIAIOSFODNN7EXAMPLE in {token}"));
        let text = CommandError::from(err).render(&r);
        for secret in [token, "hunter2", "S3cr3tPw", "AKIAIOSFODNN7EXAMPLE"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.starts_with("error: cluster `c`: <redacted"), "{text}");
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("template `a.j2` line 3"), "{text}");
    }

    /// A message holding something that looks like a credential (a template line quoted by
    /// a parser, say) is printed with that value fingerprinted; other messages as they are.
    #[test]
    fn errors_holding_credentials_are_redacted() {
        let r = Redactor::with_key(b"k");
        let err = anyhow::anyhow!("line 3: password: hunter2").context("cannot render");
        let text = CommandError::from(err).render(&r);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.starts_with("error: cannot render\n  Caused by: line 3: password: <redacted"),
            "{text}"
        );
        let plain = anyhow::anyhow!("plain").context("outer");
        assert_eq!(
            CommandError::from(plain).render(&r),
            "error: outer\n  Caused by: plain\n"
        );
    }

    #[test]
    fn kinds_follow_the_library_error() {
        let unknown = CommandError::unknown_cluster("x", &["a", "b"]);
        assert_eq!(unknown.kind, Kind::User);
        assert_eq!(unknown.hints, ["the repository's clusters are: a, b"]);
        let wrapped = CommandError::from(anyhow::Error::new(unknown).context("outer"));
        assert_eq!(wrapped.kind, Kind::User);
        assert_eq!(wrapped.hints.len(), 1);
        let io = CommandError::from(io::Error::other("disk"));
        assert_eq!(io.kind, Kind::Internal);
        // An unknown cluster is the user's, whichever library found it, with the one hint.
        let known = vec!["a".to_owned(), "b".to_owned()];
        for err in [
            CommandError::from(RenderError::UnknownCluster {
                name: "x".into(),
                known: known.clone(),
            }),
            CommandError::from(DriftError::UnknownCluster {
                cluster: "x".into(),
                known: known.clone(),
            }),
        ] {
            assert_eq!(err.kind, Kind::User, "{}", err.error);
            assert_eq!(err.hints, ["the repository's clusters are: a, b"]);
        }
    }

    /// A broken pipe that reaches the reporter did not come from stdout (the printer answers
    /// that with success): the command fails, with its message.
    #[test]
    fn a_broken_pipe_from_elsewhere_fails_the_command() {
        let err = CommandError::from(
            anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe))
                .context("cannot read from the cluster"),
        );
        assert_eq!(err.report(), ExitCode::from(2));
    }

    /// A command error that travels inside another chain keeps its own causes.
    #[test]
    fn a_nested_command_error_keeps_its_causes() {
        let leaf = anyhow::Error::new(CommandError::user("root").hint("try this"));
        let inner = CommandError::from(leaf.context("middle"));
        let outer = CommandError::from(anyhow::Error::new(inner).context("outer"));
        assert_eq!(
            outer.render(&Redactor::with_key(b"k")),
            "error: outer\n  Caused by: middle\n  Caused by: root\nhint: try this\n"
        );
    }
}
