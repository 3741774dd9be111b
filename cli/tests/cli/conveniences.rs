//! The conveniences of issue 15 (items 4 and 5): shell completions and man pages for every
//! command (the command list is read from `plinth --help`, so a new command is covered
//! without touching this file), logs on stderr (`-v`, `RUST_LOG`, `--log-format json`,
//! `PLINTH_LOG_FORMAT`, `-q`) with stdout left to data, and no progress bar when stderr is
//! not a terminal (the decision itself is tested in `progress.rs`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{
    assert_exit, example_copy, one_configmap_repo, plinth, plinth_command, stderr, stdout,
    write_files,
};

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

/// The commands `plinth --help` lists (clap's own `help` left out).
fn commands() -> Vec<String> {
    let out = plinth(Path::new("."), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    let list = help
        .split("Commands:\n")
        .nth(1)
        .expect("a list of commands")
        .split("\n\n")
        .next()
        .unwrap_or_default();
    let names: Vec<String> = list
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    for expected in ["render", "drift", "apply", "completions", "man"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    names
}

/// Every shell's script names every command.
#[test]
fn completions_cover_every_command_in_every_shell() {
    let commands = commands();
    for shell in SHELLS {
        let out = plinth(Path::new("."), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.len() > 1000, "{shell}: {script}");
        for command in &commands {
            assert!(
                script.contains(command.as_str()),
                "{shell}: `{command}` missing"
            );
        }
        // A flag of a command, not only the command names.
        assert!(script.contains("log-format"), "{shell}: no global flag");
    }
    let out = plinth(Path::new("."), &["completions", "tcsh"]);
    assert_exit(&out, 2, &["tcsh"]);
    assert_eq!(stdout(&out), "");
}

/// The requests and escapes clap's roff generator writes; anything else is not a man page
/// of ours.
fn assert_roff(name: &str, text: &str) {
    const REQUESTS: [&str; 11] = [
        "TH", "SH", "SS", "TP", "IP", "PP", "RS", "RE", "br", "ie", "el",
    ];
    let mut th = None;
    for (n, line) in text.lines().enumerate() {
        if let Some(request) = line.strip_prefix('.').or_else(|| line.strip_prefix('\'')) {
            let word = request.split_whitespace().next().unwrap_or_default();
            assert!(
                REQUESTS.contains(&word),
                "{name}:{}: unknown request `{line}`",
                n + 1
            );
            if word == "TH" {
                th.get_or_insert(request.to_owned());
            }
        }
        // Every escape is one roff knows: fonts, the minus sign, special characters,
        // strings, registers and the backslash itself.
        let mut rest = line;
        while let Some(at) = rest.find('\\') {
            let next = rest[at + 1..].chars().next().unwrap_or(' ');
            assert!(
                matches!(
                    next,
                    'f' | '-' | '(' | '*' | 'n' | '\\' | 'e' | '&' | '[' | ' '
                ),
                "{name}:{}: escape `\\{next}` in `{line}`",
                n + 1
            );
            rest = &rest[at + 1 + next.len_utf8()..];
        }
    }
    let th = th.unwrap_or_else(|| panic!("{name}: no .TH"));
    let title = name.trim_end_matches(".1");
    assert!(
        th.starts_with(&format!("TH {title} 1")),
        "{name}: .TH names `{th}`"
    );
    let after_name = text.split(".SH NAME\n").nth(1).expect(".SH NAME");
    assert!(
        after_name.starts_with(&format!("{} \\- ", title.replace('-', "\\-"))),
        "{name}: NAME section `{}`",
        after_name.lines().next().unwrap_or_default()
    );
}

/// One page per command plus `plinth.1`, each valid roff naming its command; without a folder
/// the main page goes to stdout.
#[test]
fn man_pages_cover_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let out = plinth(tmp.path(), &["man", "--output-dir", "pages"]);
    assert_exit(&out, 0, &["man pages"]);
    assert_eq!(stdout(&out), "", "files only");
    let mut expected: BTreeSet<String> =
        commands().iter().map(|c| format!("plinth-{c}.1")).collect();
    expected.insert("plinth.1".to_owned());
    let written: BTreeSet<String> = fs_err::read_dir(tmp.path().join("pages"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, expected);
    for name in &written {
        let text = fs_err::read_to_string(tmp.path().join("pages").join(name)).unwrap();
        assert_roff(name, &text);
        if name != "plinth.1" {
            // The page documents the command's own flags and the global ones.
            assert!(text.contains("\\-\\-log\\-format"), "{name}");
        }
    }
    let out = plinth(tmp.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let main = fs_err::read_to_string(tmp.path().join("pages/plinth.1")).unwrap();
    assert_eq!(stdout(&out), main);
    // Where groff is installed, it reads every page without a warning.
    let groff = std::process::Command::new("groff")
        .arg("--version")
        .output();
    if groff.is_ok_and(|o| o.status.success()) {
        for name in &written {
            let out = std::process::Command::new("groff")
                // `-k`: through preconv, as man reads a UTF-8 page
                .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
                .arg(tmp.path().join("pages").join(name))
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{name}: {}",
                stderr(&out)
            );
        }
    } else {
        println!("groff is not installed: the pages were checked without it");
    }
}

/// `plinth ARGS` in `dir` with `env` set.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    plinth_command(dir, args)
        .envs(env.iter().copied())
        .output()
        .expect("the plinth binary runs")
}

/// Nine clusters rendering one ConfigMap each (`prod`, `c0`…`c7`): more than a progress
/// bar's handful.
fn fleet_of_nine(dir: &Path) {
    one_configmap_repo(dir);
    for i in 0..8 {
        let path = format!("clusters/c{i}/cluster.yaml");
        write_files(dir, &[(&path, &format!("name: c{i}\n"))]);
    }
}

/// Nothing a terminal would draw: no carriage return, no escape sequence.
fn assert_no_terminal_codes(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains('\r') && !text.contains("\x1b["),
            "{what}: {stream} holds terminal codes: {text:?}"
        );
    }
}

/// A piped run of long work draws no progress bar, whatever the verbosity.
#[test]
fn piped_runs_draw_no_progress() {
    let tmp = tempfile::tempdir().unwrap();
    fleet_of_nine(tmp.path());
    for args in [
        &["render", ".", "--force"][..],
        &["-v", "render", ".", "--force"],
        &["-vvv", "render", ".", "--force", "--jobs", "1"],
        &["render", ".", "--check"],
    ] {
        let out = run(tmp.path(), args, &[]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_no_terminal_codes(&format!("{args:?}"), &out);
    }
    let example = example_copy();
    let out = run(
        example.path(),
        &[
            "-vv",
            "drift",
            ".",
            "--cluster",
            "plain-west",
            "--snapshot",
            "live",
        ],
        &[],
    );
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_no_terminal_codes("drift", &out);
}

/// The JSON objects among `out`'s stderr lines; every line that starts like one is one.
fn json_lines(out: &Output) -> Vec<Value> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `-v` shows the command's start and end, `-vv` the clusters rendered; nothing without a
/// flag; stdout stays data.
#[test]
fn verbosity_chooses_the_log_lines() {
    let tmp = tempfile::tempdir().unwrap();
    fleet_of_nine(tmp.path());
    let quiet = run(tmp.path(), &["render", ".", "--force"], &[]);
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    assert!(!stderr(&quiet).contains("INFO"), "{}", stderr(&quiet));
    let info = run(tmp.path(), &["-v", "render", ".", "--force"], &[]);
    let err = stderr(&info);
    assert!(
        err.contains("INFO plinth: command started command=render"),
        "{err}"
    );
    assert!(
        err.contains("command finished") && err.contains("elapsed_ms="),
        "{err}"
    );
    assert!(
        err.contains("clusters rendered") && err.contains("rendered=9"),
        "{err}"
    );
    assert!(!err.contains("DEBUG"), "{err}");
    let debug = run(tmp.path(), &["-vv", "render", ".", "--force"], &[]);
    assert!(
        stderr(&debug).contains("cluster rendered cluster=c7"),
        "{}",
        stderr(&debug)
    );
    // `render --explain` writes data: the logs stay out of it.
    let explain = run(tmp.path(), &["-vvv", "render", ".", "--explain"], &[]);
    assert!(
        stdout(&explain).starts_with("cluster c0\n"),
        "{}",
        stdout(&explain)
    );
    assert!(!stdout(&explain).contains("plinth"), "{}", stdout(&explain));
    // `-q` silences the logs below error, unless `RUST_LOG` says otherwise: it wins.
    let out = run(tmp.path(), &["-q", "-vv", "render", ".", "--force"], &[]);
    assert_eq!(stderr(&out), "");
    let out = run(
        tmp.path(),
        &["-q", "render", ".", "--force"],
        &[("RUST_LOG", "plinth=debug")],
    );
    assert!(stderr(&out).contains("DEBUG"), "{}", stderr(&out));
    let out = run(
        tmp.path(),
        &["-vvv", "render", ".", "--force"],
        &[("RUST_LOG", "plinth=warn")],
    );
    assert!(!stderr(&out).contains("INFO"), "{}", stderr(&out));
}

/// `--log-format json` (or `PLINTH_LOG_FORMAT=json`): one JSON object per log line, with the
/// event's level, target, message and fields; the flag wins over the variable.
#[test]
fn json_logs_are_one_object_per_line() {
    let tmp = tempfile::tempdir().unwrap();
    fleet_of_nine(tmp.path());
    for (args, env) in [
        (
            &["--log-format", "json", "-vv", "render", ".", "--force"][..],
            &[][..],
        ),
        (
            &["-vv", "render", ".", "--force"],
            &[("PLINTH_LOG_FORMAT", "json")],
        ),
    ] {
        let out = run(tmp.path(), args, env);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let lines = json_lines(&out);
        let finished = lines
            .iter()
            .find(|l| l["message"] == "command finished")
            .unwrap_or_else(|| panic!("{lines:?}"));
        assert_eq!(finished["level"], "INFO");
        assert_eq!(finished["target"], "plinth");
        assert_eq!(finished["command"], "render");
        assert_eq!(finished["outcome"], "clean");
        assert!(finished["elapsed_ms"].is_u64() && finished["timestamp"].is_string());
        let rendered = lines
            .iter()
            .find(|l| l["message"] == "clusters rendered")
            .unwrap_or_else(|| panic!("{lines:?}"));
        assert_eq!(rendered["rendered"], 9);
        assert!(lines.iter().any(|l| l["level"] == "DEBUG"));
        assert_no_terminal_codes("json logs", &out);
    }
    let out = run(
        tmp.path(),
        &["--log-format", "text", "-v", "render", ".", "--force"],
        &[("PLINTH_LOG_FORMAT", "json")],
    );
    assert!(json_lines(&out).is_empty() && stderr(&out).contains("INFO plinth"));
}

/// A log setting that cannot be understood stops the run before it starts (exit 2).
#[test]
fn bad_log_settings_stop_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    fleet_of_nine(tmp.path());
    let out = run(
        tmp.path(),
        &["render", "."],
        &[("PLINTH_LOG_FORMAT", "yaml")],
    );
    assert_exit(&out, 2, &["`PLINTH_LOG_FORMAT` names no log format"]);
    let out = run(tmp.path(), &["render", "."], &[("RUST_LOG", "plinth=[{")]);
    assert_exit(&out, 2, &["`RUST_LOG` is not a valid log filter"]);
    assert!(
        !tmp.path().join("rendered").exists(),
        "nothing was rendered"
    );
    let out = run(tmp.path(), &["--log-format", "yaml", "render", "."], &[]);
    assert_exit(&out, 2, &["yaml"]);
}

/// On a terminal (util-linux `script` gives the run one), long work draws its bar — unless
/// `-q` or JSON logs say otherwise — and small work draws none. Skipped, saying so, where
/// `script` is not installed.
#[test]
fn a_terminal_shows_the_bar_unless_quiet_or_json() {
    let available = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        println!("skipped: `script` (util-linux) is not installed, no terminal to run in");
        return;
    }
    let on_terminal = |dir: &Path, flags: &str| {
        let line = format!(
            "{} {flags} render . --force --jobs 1",
            env!("CARGO_BIN_EXE_plinth")
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .env_remove("PLINTH_LOG_FORMAT")
            .output()
            .expect("script runs");
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        stdout(&out)
    };
    let nine = tempfile::tempdir().unwrap();
    fleet_of_nine(nine.path());
    let shown = on_terminal(nine.path(), "");
    assert!(shown.contains("rendering clusters ["), "{shown:?}");
    assert!(shown.contains("rendered 9 clusters"), "{shown:?}");
    for flags in ["-q", "--log-format json"] {
        let out = on_terminal(nine.path(), flags);
        assert!(!out.contains("rendering clusters"), "{flags}: {out:?}");
    }
    let one = tempfile::tempdir().unwrap();
    one_configmap_repo(one.path());
    let out = on_terminal(one.path(), "");
    assert!(!out.contains("rendering clusters"), "{out:?}");
}
