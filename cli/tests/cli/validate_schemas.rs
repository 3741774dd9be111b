//! `plinth validate` names the rendered kinds no CRD schema covers, and `--require-schemas`
//! turns an unchecked custom-resource kind into exit 2 (issue 9 item 17).

use std::path::Path;

use crate::common::{fixture_repo, plinth, stderr};

/// One cluster rendering a `ConfigMap` (built-in), a `Thing` (CRD in `crds/`) and a `Widget`
/// (no CRD).
fn repo(dir: &Path) {
    fixture_repo("crd-coverage", dir);
}

#[test]
fn unchecked_kinds_are_named_and_fail_with_require_schemas() {
    let tmp = tempfile::tempdir().expect("tempdir");
    repo(tmp.path());
    let out = plinth(tmp.path(), &["validate", ".", "--crds", "crds"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: 1 rendered kind has no CRD schema in `crds` and went unchecked: Widget.widgets.example.org/v2 (1 object)"),
        "{err}"
    );
    assert!(
        !err.contains("Thing.example.io") && !err.contains("ConfigMap"),
        "{err}"
    );

    let out = plinth(
        tmp.path(),
        &["validate", ".", "--crds", "crds", "--require-schemas"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("\nerror: 1 rendered kind has no CRD schema in `crds` and went unchecked: Widget.widgets.example.org/v2"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");

    // With the Widget's CRD added, every custom kind is covered: exit 0, no warning.
    fs_err::write(
        tmp.path().join("crds/widget.yaml"),
        fs_err::read_to_string(tmp.path().join("crds/thing.yaml"))
            .expect("read")
            .replace("things.example.io", "widgets.widgets.example.org")
            .replace("group: example.io", "group: widgets.example.org")
            .replace(
                "kind: Thing, plural: things",
                "kind: Widget, plural: widgets",
            )
            .replace("name: v1\n", "name: v2\n"),
    )
    .expect("write");
    let out = plinth(
        tmp.path(),
        &["validate", ".", "--crds", "crds", "--require-schemas"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("unchecked"), "{err}");
}

#[test]
fn require_schemas_without_a_crd_folder_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    repo(tmp.path());
    let out = plinth(tmp.path(), &["validate", ".", "--require-schemas"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--require-schemas"), "{err}");
}
