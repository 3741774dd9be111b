//! Progress bars on stderr for long work: rendering many clusters, reading many kinds and
//! comparing many objects (drift), applying objects. A bar is drawn only when
//! [`enabled`] says so (stderr is a terminal, no `-q`, text logs) and only for work of at
//! least [`MIN_ITEMS`] items; it is cleared when the work ends, so nothing of it stays on the
//! terminal and nothing of it ever reaches a pipe or a file. The libraries tell counts
//! (`Notice::Progress`, a render's callback); this module is the only one that draws.

use std::cell::RefCell;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use plinth_drift::engine::{Notice, Task};

use crate::printer::{self, Printer};

/// Work of fewer items than this shows no bar (it would only flicker).
pub const MIN_ITEMS: usize = 5;

/// Whether progress bars are drawn: only on a terminal, never with `-q`, never with JSON logs
/// (a log collector reads stderr then).
pub const fn enabled(stderr_is_terminal: bool, quiet: bool, json_logs: bool) -> bool {
    stderr_is_terminal && !quiet && !json_logs
}

/// One progress bar, drawn while the value lives (or nothing, when bars are off or the work
/// is small).
#[derive(Debug)]
pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    /// A bar for `total` items of `label` (`rendering clusters`), when `printer` draws bars
    /// and there are at least [`MIN_ITEMS`].
    pub fn new(printer: Printer, label: &'static str, total: usize) -> Self {
        if !printer.shows_progress() || total < MIN_ITEMS {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(total).unwrap_or(u64::MAX)),
            ProgressDrawTarget::stderr(),
        )
        .with_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        )
        .with_message(label);
        printer::show_bar(Some(bar.clone()));
        // Drawn at once: work that ends within the redraw interval still showed its bar.
        bar.tick();
        Self { bar: Some(bar) }
    }

    /// `done` items are done.
    pub fn set(&self, done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
        }
    }

    /// Whether a bar is drawn.
    #[cfg(test)]
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            printer::show_bar(None);
            bar.finish_and_clear();
        }
    }
}

/// What a command does with the notices of the drift and apply libraries: status, detail and
/// warning lines go to the printer, progress to a bar per task.
#[derive(Debug)]
pub struct Notices {
    printer: Printer,
    bar: RefCell<Option<(Task, Bar)>>,
}

impl Notices {
    pub fn new(printer: Printer) -> Self {
        Self {
            printer,
            bar: RefCell::new(None),
        }
    }

    /// Prints or draws `notice`.
    pub fn hear(&self, notice: Notice) {
        match notice {
            Notice::Status(text) => self.printer.status(&text),
            Notice::Detail(text) => self.printer.detail(&text),
            Notice::Warning(text) => self.printer.warn(&text),
            Notice::Progress(progress) => {
                let mut current = self.bar.borrow_mut();
                if current
                    .as_ref()
                    .is_none_or(|(task, _)| *task != progress.task)
                {
                    // The previous task's bar is cleared before the next one is drawn.
                    *current = None;
                    *current = Some((
                        progress.task,
                        Bar::new(self.printer, progress.task.label(), progress.total),
                    ));
                }
                if progress.done >= progress.total {
                    *current = None;
                } else if let Some((_, bar)) = current.as_ref() {
                    bar.set(progress.done);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use plinth_drift::engine::Progress;

    use super::*;

    /// Bars only on a terminal, never with `-q`, never with JSON logs.
    #[test]
    fn bars_only_on_a_terminal_without_quiet_or_json_logs() {
        for tty in [false, true] {
            for quiet in [false, true] {
                for json in [false, true] {
                    assert_eq!(
                        enabled(tty, quiet, json),
                        tty && !quiet && !json,
                        "tty {tty} quiet {quiet} json {json}"
                    );
                }
            }
        }
    }

    /// A bar is drawn for a handful of items or more, and only when the printer draws bars.
    #[test]
    fn a_bar_needs_enough_items_and_a_printer_that_draws() {
        let on = Printer::new(false, 0, false).with_progress(true);
        let off = Printer::new(false, 0, false);
        assert!(!Bar::new(on, "x", MIN_ITEMS - 1).is_drawn());
        assert!(!Bar::new(off, "x", 1000).is_drawn());
        let bar = Bar::new(on, "x", MIN_ITEMS);
        assert!(bar.is_drawn());
        bar.set(2);
        drop(bar);
        // The finished task's bar is gone; a new task draws its own.
        let notices = Notices::new(on);
        let progress = |task, done| {
            Notice::Progress(Progress {
                task,
                done,
                total: 10,
            })
        };
        notices.hear(progress(Task::Compare, 3));
        assert!(notices.bar.borrow().is_some());
        notices.hear(progress(Task::Compare, 10));
        assert!(notices.bar.borrow().is_none());
        notices.hear(progress(Task::Apply, 1));
        assert!(matches!(*notices.bar.borrow(), Some((Task::Apply, _))));
    }
}
