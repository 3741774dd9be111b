//! CLI tests of machine classes, node groups and offline schema validation: bad pools give
//! every located problem at once, exit 2 and write nothing; `plinth validate` exits 0 / 1 / 2;
//! `render --crds` refuses objects that break their CRD.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use plinth_testkit::git::write;

use crate::common::{assert_exit, plinth, stderr, stdout, write_files};

fn specs() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/specs not found");
        None
    }
}

const GOOD: &str = r"
overlays: [stackit-eu01]
machineClasses:
  - name: small
    providerSpec:
      machineType: c1.2
    userDataFile: userdata/worker.yaml
    nodeTemplate:
      capacity: {cpu: 2, memory: 4Gi}
nodeGroups:
  - name: workers
    minNodes: 1
    maxNodes: 3
    datacenterID: dc-fra1
    resourceIdentifier: k8s-1
    project: prj-1
    offeringIDs: [small-2cpu-4gb]
    kubernetesVersion: v1.31.2
";

const BAD: &str = r"
overlays: [stackit-eu01]
machineClasses:
  - name: small
    providerSpec:
      machineType: large
      availabilityZone: eu01
      keypairName: 'my key'
      userData: '#cloud-config with hunter2'
    userDataFile: userdata/worker.yaml
  - name: big
    providerSpec:
      machineType: c1.4
      region: EU01
      networking: {networkId: 6f1e2d3c-4b5a-4978-8c6d-5e4f3a2b1c0d, nicIds: [6f1e2d3c-4b5a-4978-8c6d-5e4f3a2b1c0d]}
nodeGroups:
  - name: workers
    minNodes: 4
    maxNodes: 3
    datacenterID: dc-fra1
    resourceIdentifier: k8s-1
    project: prj-1
    offeringIDs: []
    kubernetesVersion: 1.31.2
";

/// A platform repository with the built-in catalog and one cluster `c1`.
fn repo(cluster: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write_files(
        tmp.path(),
        &[
            ("plinth.yaml", "paths:\n  catalog: builtin\n"),
            ("clusters/c1/cluster.yaml", cluster),
            (
                "clusters/c1/userdata/worker.yaml",
                "#cloud-config\nhostname: w\n",
            ),
        ],
    );
    tmp
}

#[test]
fn bad_pools_list_every_problem_exit_2_and_write_nothing() {
    let tmp = repo(BAD);
    let out = plinth(tmp.path(), &["render", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for line in [
        "9 problems found:",
        "cluster c1 / MachineClass small: `providerSpec.machineType`: `large` is not a STACKIT machine type",
        "cluster c1 / MachineClass small: `providerSpec.availabilityZone`: `eu01` must look like `eu01-1`",
        "cluster c1 / MachineClass small: `providerSpec.keypairName`: `my key` may only hold",
        "cluster c1 / MachineClass small: `userDataFile`: give userData either inline",
        "cluster c1 / MachineClass big: `providerSpec.region`: `EU01` must match",
        "cluster c1 / MachineClass big: `providerSpec.networking`: give exactly one of `networkId` or `nicIds`, not both",
        "cluster c1 / NodeGroup workers: `maxNodes`: 3 is less than `minNodes` (4)",
        "cluster c1 / NodeGroup workers: `offeringIDs`: must name at least one offering",
        "cluster c1 / NodeGroup workers: `kubernetesVersion`: `1.31.2` is not a semantic version",
    ] {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }
    assert!(!err.contains("hunter2"), "userData leaked:\n{err}");
    insta::assert_snapshot!("bad_pools_stderr", err);
    assert!(
        !tmp.path().join("rendered").exists(),
        "something was written"
    );
    // `validate` cannot run on input that does not render: exit 2 as well.
    let out = plinth(tmp.path(), &["validate", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn good_pools_render_into_machine_classes_node_groups_and_the_index() {
    let tmp = repo(GOOD);
    let out = plinth(tmp.path(), &["render", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = tmp.path().join("rendered/c1");
    let class =
        fs_err::read_to_string(dir.join("machineclass_machine-controller-manager_small.yaml"))
            .unwrap();
    assert!(class.contains("provider: stackit"), "{class}");
    assert!(class.contains("plinth.dev/replacement-key:"), "{class}");
    let secret =
        fs_err::read_to_string(dir.join("secret_machine-controller-manager_small-userdata.yaml"))
            .unwrap();
    assert!(
        secret.contains("userData:") && !secret.contains("hostname: w"),
        "{secret}"
    );
    let group = fs_err::read_to_string(dir.join("nodegroup_kube-system_workers.yaml")).unwrap();
    assert!(
        group.contains("autoscaler.vpsie.com/managed: \"true\""),
        "{group}"
    );
    let index = fs_err::read_to_string(dir.join("plinth-index.json")).unwrap();
    assert!(
        index.contains("\"machineClasses\"") && index.contains("\"replacementKey\""),
        "{index}"
    );
}

#[test]
fn validate_exits_0_on_valid_objects_and_1_on_violations() {
    let Some(specs) = specs() else { return };
    let crds = specs.join("gardener-mcm");
    let crds = crds.to_str().unwrap();
    let tmp = repo(GOOD);
    let out = plinth(tmp.path(), &["validate", ".", "--crds", crds]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("0 violations"), "{}", stderr(&out));
    assert!(
        !tmp.path().join("rendered").exists(),
        "validate wrote something"
    );

    // A cluster patch plants fields the MCM CRD does not know.
    let planted = format!(
        "{GOOD}patches:\n  - target: {{kind: MachineClass, name: small}}\n    mergePatch: {{spec: {{replicas: 2}}, nodeTemplate: {{region: null}}}}\n"
    );
    let tmp = repo(&planted);
    let out = plinth(tmp.path(), &["validate", ".", "--crds", crds]);
    let stdout = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", stderr(&out));
    assert!(
        stdout.contains("cluster c1 / MachineClass machine-controller-manager/small: `spec`: is not a field of this schema (unknown field)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cluster c1 / MachineClass machine-controller-manager/small: `nodeTemplate.region`: is required"),
        "{stdout}"
    );

    // `render --crds` refuses the same objects: exit 2, nothing written.
    let out = plinth(tmp.path(), &["render", ".", "--crds", crds]);
    assert_exit(&out, 2, &["`spec`: is not a field of this schema"]);
    assert!(
        !tmp.path().join("rendered").exists(),
        "render wrote despite violations"
    );

    // The `schemas` setting of plinth.yaml does the same without the flag.
    let mcm = tmp.path().join("crds");
    fs_err::create_dir_all(&mcm).unwrap();
    for entry in fs_err::read_dir(specs.join("gardener-mcm")).unwrap() {
        let entry = entry.unwrap();
        fs_err::copy(entry.path(), mcm.join(entry.file_name())).unwrap();
    }
    write(
        tmp.path(),
        "plinth.yaml",
        "paths:\n  catalog: builtin\nschemas: crds\n",
    );
    let out = plinth(tmp.path(), &["render", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!tmp.path().join("rendered").exists());
}

#[test]
fn validate_without_a_crd_folder_says_so_and_checks_plinths_rules() {
    let tmp = repo(GOOD);
    for (args, code, needle) in [
        (&["validate", "."][..], 0, "no CRD folder given"),
        (
            &["validate", ".", "--cluster", "nope"],
            2,
            "unknown cluster `nope`",
        ),
        (
            &["validate", ".", "--crds", "no-such-folder"],
            2,
            "no-such-folder",
        ),
    ] {
        assert_exit(&plinth(tmp.path(), args), code, &[needle]);
    }
}

/// A pool switches networking variant over the built-in overlay's `networkId` and unsets an
/// inherited default with `null`; a conflict that remains names the overlay file it came from.
#[test]
fn pools_override_overlay_defaults_with_the_other_variant_and_null() {
    let switched = r"
overlays: [stackit-eu01]
machineClasses:
  - name: nics
    providerSpec:
      machineType: c1.2
      networking: {nicIds: [5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a]}
      availabilityZone: null
      labels: {plinth-region: null}
";
    let tmp = repo(switched);
    let out = plinth(tmp.path(), &["render", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let class = fs_err::read_to_string(
        tmp.path()
            .join("rendered/c1/machineclass_machine-controller-manager_nics.yaml"),
    )
    .unwrap();
    assert!(class.contains("nicIds:"), "{class}");
    for gone in ["networkId", "availabilityZone", "plinth-region", "null"] {
        assert!(!class.contains(gone), "{gone} in:\n{class}");
    }

    let conflicting = r"
overlays: [stackit-eu01, legacy-network]
machineClasses:
  - name: nics
    providerSpec:
      machineType: c1.2
";
    let tmp = repo(conflicting);
    write(
        tmp.path(),
        "overlays/legacy-network/overlay.yaml",
        "values:\n  stackit:\n    machineClassDefaults:\n      providerSpec:\n        networking:\n          networkId: 6f1e2d3c-4b5a-4978-8c6d-5e4f3a2b1c0d\n          nicIds: [5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a]\n",
    );
    let out = plinth(tmp.path(), &["render", "."]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    insta::assert_snapshot!("conflicting_default_stderr", err);
    assert!(!tmp.path().join("rendered").exists());
}
