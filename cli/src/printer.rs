//! One place that decides what reaches the terminal: data goes to stdout, progress and
//! warnings to stderr, both subject to `-q` / `-v`; colour is decided here once (a TTY without
//! `NO_COLOR`) and is the only place ANSI codes are written ([`Printer::codes`]). Every status, detail and warning line is
//! redacted ([`Redactor::redact_text`]) before it is printed; data is redacted by the command
//! that makes it (it knows its format: a JSON document is redacted string by string).
//!
//! A progress bar on stderr (see `progress.rs`) is registered here while it is drawn
//! ([`show_bar`]): every line written to stderr ([`to_stderr`], log lines too) hides it while
//! the line is written, so lines and bar never mix.

use std::io::{self, Write as _};
use std::sync::{Mutex, PoisonError};

use indicatif::ProgressBar;
use plinth_vocab::redact::Redactor;

/// The progress bar drawn on stderr now, if any.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Registers `bar` as the one drawn on stderr (`None`: none is).
pub fn show_bar(bar: Option<ProgressBar>) {
    *BAR.lock().unwrap_or_else(PoisonError::into_inner) = bar;
}

/// Writes `bytes` to stderr, hiding the progress bar while it does.
pub fn to_stderr(bytes: &[u8]) {
    let write = || {
        let _ = io::stderr().lock().write_all(bytes);
    };
    let bar = BAR.lock().unwrap_or_else(PoisonError::into_inner).clone();
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// A line of text on stderr, redacted.
fn line_to_stderr(prefix: &str, message: &str) {
    let text = format!("{prefix}{}\n", Redactor::shared().redact_text(message));
    to_stderr(text.as_bytes());
}

/// What a piece of styled text is; the printer turns a role into a colour, or into nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A heading or a file marker (bold).
    Heading,
    /// Something added (green).
    Added,
    /// Something removed (red).
    Removed,
    /// Something changed, or a warning (yellow).
    Changed,
    /// A position marker such as a diff hunk header (cyan).
    Position,
}

impl Role {
    /// The ANSI code that starts the role's colour.
    const fn ansi(self) -> &'static str {
        match self {
            Self::Heading => "\x1b[1m",
            Self::Added => "\x1b[32m",
            Self::Removed => "\x1b[31m",
            Self::Changed => "\x1b[33m",
            Self::Position => "\x1b[36m",
        }
    }
}

/// The ANSI code that ends every role's colour.
const RESET: &str = "\x1b[0m";

/// Verbosity and colour, chosen once from the global flags and the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    level: i8,
    color: bool,
    progress: bool,
}

impl Printer {
    /// `color`: stdout is a terminal and `NO_COLOR` is not set (see `settings.rs`).
    pub fn new(quiet: bool, verbose: u8, color: bool) -> Self {
        let level = if quiet {
            -1
        } else {
            i8::try_from(verbose).unwrap_or(i8::MAX)
        };
        Self {
            level,
            color,
            progress: false,
        }
    }

    /// The same printer, drawing progress bars when `on` (see `progress::enabled`).
    #[must_use]
    pub fn with_progress(self, on: bool) -> Self {
        Self {
            progress: on,
            ..self
        }
    }

    /// Whether progress bars are drawn (stderr is a terminal, no `-q`, text logs).
    pub fn shows_progress(self) -> bool {
        self.progress
    }

    /// The same printer, with colour off (for data written to files instead of stdout).
    #[must_use]
    pub fn without_color(self) -> Self {
        Self {
            color: false,
            ..self
        }
    }

    /// `text` in the colour of `role` when colour is on, else `text` as it is.
    #[cfg(test)]
    pub fn paint(self, role: Role, text: &str) -> String {
        let (start, end) = self.codes(role);
        format!("{start}{text}{end}")
    }

    /// What goes before and after text of `role`: the ANSI codes when colour is on, else
    /// nothing (for a library style made of a prefix and a suffix per role).
    pub fn codes(self, role: Role) -> (&'static str, &'static str) {
        if self.color {
            (role.ansi(), RESET)
        } else {
            ("", "")
        }
    }

    /// A status line on stderr (suppressed by `-q`).
    pub fn status(self, message: &str) {
        if self.level >= 0 {
            line_to_stderr("", message);
        }
    }

    /// A detail line on stderr (only with `-v`).
    pub fn detail(self, message: &str) {
        if self.level >= 1 {
            line_to_stderr("", message);
        }
    }

    /// A warning on stderr (always, even with `-q`).
    #[allow(clippy::unused_self)] // a method, so that all terminal output goes through the printer
    pub fn warn(self, message: &str) {
        line_to_stderr("warning: ", message);
    }

    /// Data on stdout. A closed pipe (`plinth ... | head`) is not an error.
    #[allow(clippy::unused_self)] // a method, so that all terminal output goes through the printer
    pub fn data(self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            // The reader went away (`plinth diff | head`): the command's outcome, and so its
            // exit code, stands.
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact codes the terminal preview has always used, role by role.
    #[test]
    fn paint_colours_only_when_colour_is_on() {
        let on = Printer::new(false, 0, true);
        for (role, code) in [
            (Role::Heading, "\x1b[1m"),
            (Role::Added, "\x1b[32m"),
            (Role::Removed, "\x1b[31m"),
            (Role::Changed, "\x1b[33m"),
            (Role::Position, "\x1b[36m"),
        ] {
            assert_eq!(on.paint(role, "x"), format!("{code}x\x1b[0m"));
        }
        assert_eq!(on.without_color().paint(Role::Added, "+a"), "+a");
        assert_eq!(Printer::new(false, 0, false).paint(Role::Heading, "h"), "h");
    }
}
