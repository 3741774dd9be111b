//! The binary's logs (`tracing`): events of the binary and the libraries on stderr, as text
//! or as one JSON object per line (`--log-format json`, for in-cluster runs). Which events
//! are shown: `RUST_LOG` when it is set (it wins), else the verbosity flags — errors only
//! with `-q`, warnings by default, `-v` info, `-vv` debug, `-vvv` trace — for plinth's own
//! crates; errors of the other crates by default, their warnings with `-v` and more.
//!
//! Every line is redacted before it is written ([`Redactor::redact_text`] for text, every
//! string of the object with [`Redactor::redact_object`] for JSON): events log names, counts,
//! kinds and durations, never values, and whatever a dependency logs at `trace` passes the
//! same policy. Lines hide a progress bar while they are written (`printer::to_stderr`).

use std::ffi::OsStr;
use std::io;

use plinth_vocab::redact::Redactor;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::args::LogFormat;
use crate::command_error::CommandError;
use crate::printer;

/// The variable naming the log format when `--log-format` is not given.
pub const FORMAT_ENV: &str = "PLINTH_LOG_FORMAT";

/// How the logs are filtered and written, resolved once (see `settings.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `EnvFilter` directives: `RUST_LOG`'s, else the verbosity flags'.
    pub filter: String,
    /// Whether `filter` came from `RUST_LOG` (its errors name it).
    pub from_env: bool,
    pub format: LogFormat,
    /// A `PLINTH_LOG_FORMAT` that names no format (the run stops, exit 2).
    pub problem: Option<String>,
}

impl LogSettings {
    /// From the flags (`-q`, `-v` count, `--log-format`) and the environment's `RUST_LOG` and
    /// `PLINTH_LOG_FORMAT` (each unset or empty: not given).
    pub fn resolve(
        quiet: bool,
        verbose: u8,
        format: Option<LogFormat>,
        rust_log: Option<&OsStr>,
        env_format: Option<&OsStr>,
    ) -> Self {
        let mut problem = None;
        let format = format.unwrap_or_else(|| {
            match env_format
                .as_ref()
                .map(|v| v.to_string_lossy().trim().to_owned())
            {
                None => LogFormat::Text,
                Some(v) if v.is_empty() || v == "text" => LogFormat::Text,
                Some(v) if v == "json" => LogFormat::Json,
                Some(_) => {
                    problem = Some(format!(
                        "`{FORMAT_ENV}` names no log format (`text` or `json`)"
                    ));
                    LogFormat::Text
                }
            }
        });
        let rust_log = rust_log
            .map(|v| v.to_string_lossy().trim().to_owned())
            .filter(|v| !v.is_empty());
        let (filter, from_env) = match rust_log {
            Some(directives) => (directives, true),
            None => (flag_filter(quiet, verbose), false),
        };
        Self {
            filter,
            from_env,
            format,
            problem,
        }
    }

    /// Whether lines are JSON objects.
    pub fn is_json(&self) -> bool {
        self.format == LogFormat::Json
    }
}

/// The directives of the verbosity flags: plinth's crates (every target starting with
/// `plinth`) at the asked level, every other crate at `error` by default and `warn` with
/// `-v` or more (errors only, of every crate, with `-q`).
fn flag_filter(quiet: bool, verbose: u8) -> String {
    if quiet {
        return "error".to_owned();
    }
    let (others, level) = match verbose {
        0 => ("error", "warn"),
        1 => ("warn", "info"),
        2 => ("warn", "debug"),
        _ => ("warn", "trace"),
    };
    format!("{others},plinth={level}")
}

/// Installs the logger for the whole process.
///
/// # Errors
/// `PLINTH_LOG_FORMAT` names no format, or `RUST_LOG` is not a valid filter (exit 2).
pub fn init(settings: &LogSettings) -> Result<(), CommandError> {
    if let Some(problem) = &settings.problem {
        return Err(CommandError::user(problem.clone()).hint("use `text` or `json`"));
    }
    let filter = EnvFilter::builder()
        .parse(&settings.filter)
        .map_err(|err| {
            let what = if settings.from_env {
                "`RUST_LOG` is not a valid log filter"
            } else {
                "the log filter is not valid"
            };
            CommandError::user(format!("{what}: {err}"))
                .hint("e.g. `RUST_LOG=info` or `RUST_LOG=plinth_drift=debug,warn`")
        })?;
    let writer = RedactingWriter {
        json: settings.is_json(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_target(true);
    // A logger already installed (none is, outside tests) stays.
    let _ = if settings.is_json() {
        builder
            .json()
            .with_current_span(false)
            .flatten_event(true)
            .try_init()
    } else {
        builder.try_init()
    };
    Ok(())
}

/// Makes one [`LineBuffer`] per event.
#[derive(Debug, Clone, Copy)]
struct RedactingWriter {
    json: bool,
}

impl<'a> MakeWriter<'a> for RedactingWriter {
    type Writer = LineBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        LineBuffer {
            json: self.json,
            bytes: Vec::new(),
        }
    }
}

/// One event's formatted line(s), redacted and written to stderr when dropped (the formatter
/// writes an event and drops its writer).
struct LineBuffer {
    json: bool,
    bytes: Vec<u8>,
}

impl io::Write for LineBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineBuffer {
    fn drop(&mut self) {
        if !self.bytes.is_empty() {
            let text = redact_lines(&String::from_utf8_lossy(&self.bytes), self.json);
            printer::to_stderr(text.as_bytes());
        }
    }
}

/// `text` with every line redacted: a JSON object string by string (it stays one valid
/// object), anything else as text.
fn redact_lines(text: &str, json: bool) -> String {
    let redactor = Redactor::shared();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let parsed = json
            .then(|| serde_json::from_str::<serde_json::Value>(line).ok())
            .flatten();
        match parsed {
            Some(value) => {
                let redacted = redactor.redact_object(&value);
                out.push_str(&serde_json::to_string(&redacted).unwrap_or_default());
            }
            None => out.push_str(&redactor.redact_text(line)),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &str) -> &OsStr {
        OsStr::new(v)
    }

    /// The flags choose the level of plinth's crates; `RUST_LOG` wins when set.
    #[test]
    fn flags_choose_the_level_and_rust_log_wins() {
        let filter = |quiet, verbose, rust_log: Option<&OsStr>| {
            LogSettings::resolve(quiet, verbose, None, rust_log, None).filter
        };
        assert_eq!(filter(false, 0, None), "error,plinth=warn");
        assert_eq!(filter(false, 1, None), "warn,plinth=info");
        assert_eq!(filter(false, 2, None), "warn,plinth=debug");
        assert_eq!(filter(false, 3, None), "warn,plinth=trace");
        assert_eq!(filter(false, 9, None), "warn,plinth=trace");
        assert_eq!(filter(true, 2, None), "error");
        assert_eq!(filter(true, 0, Some(os("trace"))), "trace");
        assert_eq!(filter(false, 0, Some(os(" "))), "error,plinth=warn");
        assert!(LogSettings::resolve(false, 0, None, Some(os("debug")), None).from_env);
    }

    /// `--log-format` wins over `PLINTH_LOG_FORMAT`; an unknown format is a problem.
    #[test]
    fn the_flag_wins_over_the_environment_format() {
        let format = |flag, env: Option<&OsStr>| LogSettings::resolve(false, 0, flag, None, env);
        assert_eq!(format(None, None).format, LogFormat::Text);
        assert!(format(None, Some(os("json"))).is_json());
        assert!(!format(Some(LogFormat::Text), Some(os("json"))).is_json());
        assert!(format(Some(LogFormat::Json), None).is_json());
        let bad = format(None, Some(os("yaml")));
        assert!(bad.problem.is_some());
        assert!(init(&bad).is_err());
        let bad_filter = LogSettings::resolve(false, 0, None, Some(os("plinth=[{")), None);
        assert!(init(&bad_filter).is_err());
    }

    /// JSON lines stay JSON, and both formats lose the secrets they carry.
    #[test]
    fn lines_are_redacted_and_json_stays_json() {
        let token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        let json = format!(
            "{{\"level\":\"INFO\",\"message\":\"sent Authorization: Bearer {token}\",\"token\":\"{token}\"}}\n"
        );
        let out = redact_lines(&json, true);
        assert!(!out.contains(token), "{out}");
        let value: serde_json::Value = serde_json::from_str(out.trim_end()).expect("json");
        assert_eq!(value["level"], "INFO");
        let text = format!("INFO plinth: password={token}\n");
        let out = redact_lines(&text, false);
        assert!(!out.contains(token) && out.starts_with("INFO plinth: password="));
    }
}
