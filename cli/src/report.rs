//! The single error reporter: `error: …`, each cause as `  Caused by: …`, an optional
//! `hint: …`; exit code 2. A broken pipe on stdout is treated as success.

use std::io::{self, Write as _};
use std::process::ExitCode;

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

/// Prints `err` and returns the exit code for it.
pub fn error(err: &anyhow::Error) -> ExitCode {
    if err
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
    {
        return ExitCode::SUCCESS;
    }
    let mut stderr = io::stderr().lock();
    let mut hint = None;
    let mut first = true;
    for cause in err.chain() {
        if let Some(h) = cause.downcast_ref::<Hinted>() {
            hint = Some(h.hint.clone());
        }
        if first {
            let _ = writeln!(stderr, "error: {cause}");
            first = false;
        } else {
            let _ = writeln!(stderr, "  Caused by: {cause}");
        }
    }
    if let Some(h) = hint {
        let _ = writeln!(stderr, "hint: {h}");
    }
    ExitCode::from(2)
}
