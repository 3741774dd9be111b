//! One place that decides what reaches the terminal: data goes to stdout, progress and
//! warnings to stderr, both subject to `-q` / `-v`. Every status, detail and warning line is
//! redacted ([`Redactor::redact_text`]) before it is printed; data is redacted by the command
//! that makes it (it knows its format: a JSON document is redacted string by string).

use std::io::{self, Write as _};

use plinth_vocab::redact::Redactor;

/// Verbosity chosen once from the global flags.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    level: i8,
}

impl Printer {
    pub fn new(quiet: bool, verbose: u8) -> Self {
        let level = if quiet {
            -1
        } else {
            i8::try_from(verbose).unwrap_or(i8::MAX)
        };
        Self { level }
    }

    /// A status line on stderr (suppressed by `-q`).
    pub fn status(self, message: &str) {
        if self.level >= 0 {
            let _ = writeln!(io::stderr(), "{}", Redactor::shared().redact_text(message));
        }
    }

    /// A detail line on stderr (only with `-v`).
    pub fn detail(self, message: &str) {
        if self.level >= 1 {
            let _ = writeln!(io::stderr(), "{}", Redactor::shared().redact_text(message));
        }
    }

    /// A warning on stderr (always, even with `-q`).
    #[allow(clippy::unused_self)] // a method, so that all terminal output goes through the printer
    pub fn warn(self, message: &str) {
        let _ = writeln!(
            io::stderr(),
            "warning: {}",
            Redactor::shared().redact_text(message)
        );
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
