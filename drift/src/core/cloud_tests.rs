//! Tests of the server comparison, one per rule.

use plinth_vocab::redact::Redactor;
use serde_json::{Value, json};

use super::*;

const NET: &str = "6f1e2d3c-4b5a-4978-8c6d-5e4f3a2b1c0d";
const IMAGE: &str = "2a0c9d1e-4b7f-4e36-9a51-8f3d6c2b7e10";

fn class() -> ClassSpec {
    ClassSpec::of_object(&json!({
        "apiVersion": "machine.sapcloud.io/v1alpha1",
        "kind": "MachineClass",
        "provider": "stackit",
        "metadata": {"name": "workers", "namespace": "mcm",
            "annotations": {"plinth.dev/replacement-key": "abcdef0123456789"}},
        "providerSpec": {
            "machineType": "c1.4", "imageId": IMAGE, "availabilityZone": "eu01-1",
            "region": "eu01", "labels": {"pool": "workers"},
            "networking": {"networkId": NET}, "securityGroups": ["k8s"],
            "bootVolume": {"deleteOnTermination": true, "size": 100},
            "keypairName": "ops", "serviceAccountMails": ["a@sa.stackit.cloud"],
            "metadata": {"team": "platform"},
        },
        "secretRef": {"name": "workers-userdata", "namespace": "mcm"},
    }))
    .unwrap()
}

/// A server built from [`class`], in the current label form, listed with details.
fn server_json() -> Value {
    json!({
        "id": "d61a8564-c8dd-4ffb-bc15-143e7d0c85ed",
        "name": "workers-abc",
        "machineType": "c1.4", "imageId": IMAGE, "availabilityZone": "eu01-1",
        "labels": {"kubernetes.io/machineclass": "workers", "kubernetes.io/machine": "workers-abc",
            "pool": "workers"},
        "bootVolume": {"id": "b", "deleteOnTermination": true},
        "keypairName": "ops", "serviceAccountMails": ["a@sa.stackit.cloud"],
        "metadata": {"team": "platform"},
        "nics": [{"nicId": "n1", "networkId": NET}],
        "status": "ACTIVE", "powerStatus": "RUNNING",
    })
}

fn server(edit: impl FnOnce(&mut Value)) -> Server {
    let mut raw = server_json();
    edit(&mut raw);
    Server::from_value(raw).unwrap()
}

fn one(server: Server) -> ServerResult {
    let mut results = compare(&[class()], &[server]);
    assert_eq!(results.len(), 1, "{results:?}");
    results.remove(0)
}

#[test]
fn in_sync_when_every_comparable_field_matches() {
    let r = one(server(|_| {}));
    assert_eq!(r.status, ServerStatus::InSync, "{r:?}");
    assert!(r.changes.is_empty());
    assert_eq!(r.machine_class.as_deref(), Some("workers"));
    assert_eq!(r.machine, "workers-abc");
    assert_eq!(r.replacement_key.as_deref(), Some("abcdef0123456789"));
}

#[test]
fn write_only_fields_are_not_comparable_never_passed() {
    let r = one(server(|_| {}));
    assert_eq!(
        r.not_comparable,
        [
            "securityGroups (write-only)",
            "bootVolume.size (write-only)",
            "userData (not returned in a comparable form)",
        ]
    );
}

#[test]
fn drifted_when_a_label_the_class_sets_differs() {
    let r = one(server(|s| s["labels"]["pool"] = json!("other")));
    assert_eq!(r.status, ServerStatus::Drifted);
    assert_eq!(r.changes[0].pointer, "/labels/pool");
    assert_eq!(r.changes[0].before, Some(json!("workers")));
    assert_eq!(r.changes[0].after, Some(json!("other")));
    assert!(r.replacement.is_empty(), "labels change in place");
}

#[test]
fn drifted_when_metadata_differs_and_lists_what_a_replacement_would_change() {
    let r = one(server(|s| {
        s["metadata"] = json!({});
        s["machineType"] = json!("c1.2");
    }));
    assert_eq!(r.status, ServerStatus::Drifted);
    let pointers: Vec<&str> = r.changes.iter().map(|c| c.pointer.as_str()).collect();
    assert_eq!(pointers, ["/machineType", "/metadata/team"]);
    assert_eq!(r.replacement, ["/machineType"]);
    assert_eq!(
        r.replacement_line().unwrap(),
        "a replacement would change /machineType (class replacement key `abcdef0123456789`)"
    );
}

#[test]
fn stale_when_only_fields_fixed_at_creation_differ() {
    for (field, value) in [
        ("/machineType", json!("c1.2")),
        ("/imageId", json!("11111111-2222-4333-8444-555555555555")),
        ("/availabilityZone", json!("eu01-2")),
        ("/keypairName", json!("old")),
        ("/bootVolume/deleteOnTermination", json!(false)),
        ("/serviceAccountMails", json!(["b@sa.stackit.cloud"])),
    ] {
        let r = one(server(|s| *s.pointer_mut(field).unwrap() = value.clone()));
        assert_eq!(r.status, ServerStatus::Stale, "{field}: {r:?}");
        assert_eq!(r.replacement, [field]);
    }
}

#[test]
fn stale_when_the_network_or_volumes_differ() {
    let r = one(server(|s| {
        s["nics"][0]["networkId"] = json!("00000000-0000-4000-8000-000000000000");
    }));
    assert_eq!(r.status, ServerStatus::Stale);
    assert_eq!(r.replacement, ["/networking/networkId"]);
    let mut with_volumes = class();
    with_volumes.provider_spec["volumes"] = json!(["v1", "v2"]);
    let results = compare(&[with_volumes], &[server(|s| s["volumes"] = json!(["v2"]))]);
    assert_eq!(results[0].replacement, ["/volumes"]);
    let same = compare(
        &[{
            let mut c = class();
            c.provider_spec["volumes"] = json!(["v1", "v2"]);
            c
        }],
        &[server(|s| s["volumes"] = json!(["v2", "v1"]))],
    );
    assert_eq!(same[0].status, ServerStatus::InSync, "volumes are a set");
}

#[test]
fn without_details_networking_and_mails_are_not_comparable() {
    let r = one(server(|s| {
        let o = s.as_object_mut().unwrap();
        o.remove("nics");
        o.remove("serviceAccountMails");
    }));
    assert_eq!(r.status, ServerStatus::InSync);
    assert!(
        r.not_comparable
            .contains(&"networking (listed without details)".to_owned())
    );
    assert!(
        r.not_comparable
            .contains(&"serviceAccountMails (listed without details)".to_owned())
    );
}

#[test]
fn unhealthy_when_status_error_or_power_crashed_or_error() {
    for (status, power) in [
        ("ERROR", "RUNNING"),
        ("ACTIVE", "CRASHED"),
        ("ACTIVE", "ERROR"),
    ] {
        let r = one(server(|s| {
            s["status"] = json!(status);
            s["powerStatus"] = json!(power);
            s["errorMessage"] = json!("host failed");
            s["labels"]["pool"] = json!("other");
        }));
        assert_eq!(r.status, ServerStatus::Unhealthy, "{status} {power}");
        assert_eq!(r.changes.len(), 1, "its differences are still listed");
        assert_eq!(
            r.notes,
            [format!(
                "unhealthy: status {status}, powerStatus {power}: host failed"
            )]
        );
    }
}

#[test]
fn orphaned_when_the_class_is_no_longer_rendered() {
    let r = one(server(|s| {
        s["labels"]["kubernetes.io/machineclass"] = json!("gone");
    }));
    assert_eq!(r.status, ServerStatus::Orphaned);
    assert_eq!(r.machine_class.as_deref(), Some("gone"));
    assert_eq!(
        r.notes,
        ["its class `gone` is not rendered for the cluster"]
    );
}

#[test]
fn orphaned_when_a_machine_label_has_no_class_label() {
    let r = one(server(|s| {
        s["labels"] = json!({"mcm.gardener.cloud/machine": "m-1"});
    }));
    assert_eq!(r.status, ServerStatus::Orphaned);
    assert_eq!(r.machine_class, None);
    assert_eq!(r.label, "mcm.gardener.cloud/machine");
    assert_eq!(r.machine, "m-1");
}

#[test]
fn the_legacy_label_form_is_compared_too() {
    let r = one(server(|s| {
        s["labels"] = json!({"mcm.gardener.cloud/machineclass": "workers", "pool": "workers"});
    }));
    assert_eq!(r.status, ServerStatus::InSync, "{r:?}");
    assert_eq!(r.label, "mcm.gardener.cloud/machineclass");
}

#[test]
fn servers_without_the_providers_labels_are_not_listed() {
    let other = server(|s| s["labels"] = json!({"team": "x"}));
    assert!(compare(&[class()], &[other]).is_empty());
}

#[test]
fn a_server_listed_once_per_label_form_counts_once_and_order_is_deterministic() {
    let a = server(|_| {});
    let b = server(|s| {
        s["id"] = json!("00000000-0000-4000-8000-000000000001");
        s["name"] = json!("workers-aaa");
    });
    let results = compare(&[class()], &[a.clone(), b.clone(), a]);
    assert_eq!(results.len(), 2);
    let report = CloudReport::new(
        CloudOrigin {
            source: "snapshot".into(),
            project_id: None,
            region: None,
        },
        results,
    );
    let names: Vec<&str> = report.servers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["workers-aaa", "workers-abc"]);
    assert_eq!(report.summary_line(), "2 servers: 2 in-sync");
}

#[test]
fn secrets_in_server_labels_and_metadata_are_redacted() {
    let mut class = class();
    class.provider_spec["metadata"]["token"] = json!("plain");
    let r = compare(
        &[class],
        &[server(|s| {
            s["metadata"]["token"] = json!("ghp_0123456789abcdefghijABCDEFGHIJ012345");
            s["errorMessage"] = json!("password=hunter2hunter2");
            s["status"] = json!("ERROR");
        })],
    );
    let report = CloudReport::new(
        CloudOrigin {
            source: "api".into(),
            project_id: None,
            region: None,
        },
        r,
    )
    .redacted(&Redactor::with_key(b"k"));
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("ghp_0123456789"), "{text}");
    assert!(!text.contains("hunter2hunter2"), "{text}");
}

/// A report with every server status, a secret in a server's metadata and in an error message.
fn report_with_cloud() -> super::super::report::Report {
    use super::super::report::{Mode, Report, rfc3339};
    let secret = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    let servers = [
        server(|_| {}),
        server(|s| {
            s["id"] = json!("00000000-0000-4000-8000-000000000002");
            s["name"] = json!("drifted");
            s["metadata"]["team"] = json!(secret);
        }),
        server(|s| {
            s["id"] = json!("00000000-0000-4000-8000-000000000003");
            s["name"] = json!("stale");
            s["machineType"] = json!("c1.2");
        }),
        server(|s| {
            s["id"] = json!("00000000-0000-4000-8000-000000000004");
            s["name"] = json!("broken");
            s["status"] = json!("ERROR");
            s["errorMessage"] = json!(format!("token {secret}"));
        }),
        server(|s| {
            s["id"] = json!("00000000-0000-4000-8000-000000000005");
            s["name"] = json!("orphan");
            s["labels"]["kubernetes.io/machineclass"] = json!("gone");
        }),
    ];
    let cloud = CloudReport::new(
        CloudOrigin {
            source: "api".into(),
            project_id: Some("p".into()),
            region: Some("eu01".into()),
        },
        compare(&[class()], &servers),
    );
    Report::new("c", rfc3339(0), Mode::Client, "snapshot", vec![], vec![])
        .with_cloud(cloud)
        .redacted(&Redactor::with_key(b"k"))
}

#[test]
fn every_format_shows_every_server_and_no_secret() {
    use super::super::report::{Format, Verdict};
    let report = report_with_cloud();
    assert_eq!(report.verdict(), Verdict::Drift);
    for format in Format::ALL {
        let out = format.render(&report);
        assert!(!out.contains("ghp_0123456789"), "{}: {out}", format.name());
        if format != Format::Prometheus {
            for name in ["workers-abc", "drifted", "stale", "broken", "orphan"] {
                assert!(out.contains(name), "{} lacks {name}: {out}", format.name());
            }
        }
    }
    let prometheus = Format::Prometheus.render(&report);
    assert!(prometheus.contains(
        "plinth_drift_cloud_servers{cluster=\"c\",class=\"workers\",status=\"stale\"} 1\n"
    ));
    assert!(prometheus.contains(
        "plinth_drift_cloud_servers{cluster=\"c\",class=\"gone\",status=\"orphaned\"} 1\n"
    ));
    let junit = Format::Junit.render(&report);
    assert!(junit.contains("tests=\"5\" failures=\"4\""), "{junit}");
    assert!(
        junit.contains("<testcase classname=\"c.Server\" name=\"server/workers/workers-abc\">"),
        "{junit}"
    );
}

#[test]
fn in_sync_servers_are_not_a_finding() {
    use super::super::report::{Mode, Report, Verdict, rfc3339};
    let cloud = CloudReport::new(
        CloudOrigin {
            source: "snapshot".into(),
            project_id: None,
            region: None,
        },
        compare(&[class()], &[server(|_| {})]),
    );
    let report =
        Report::new("c", rfc3339(0), Mode::Client, "snapshot", vec![], vec![]).with_cloud(cloud);
    assert_eq!(report.verdict(), Verdict::InSync);
}

/// An `errorMessage` is redacted before it is cut to one short line: a secret across the cut
/// is never shown in part.
#[test]
fn an_error_message_is_redacted_before_it_is_shortened() {
    let token = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";
    for at in 270..300 {
        let broken = server(|s| {
            s["status"] = json!("ERROR");
            s["errorMessage"] = json!(format!("{} {token}", "x".repeat(at)));
        });
        let results = compare(&[class()], &[broken]);
        let notes = results[0].notes.join(" ");
        assert!(!notes.contains("ghp_aB3dE5"), "at {at}: {notes}");
    }
}

/// A server booted from a volume may come back without `imageId`: not comparable, never a
/// false `stale`; an `imageId` that is there and differs is still stale.
#[test]
fn an_image_absent_on_a_server_booted_from_a_volume_is_not_comparable() {
    let result = one(server(|s| {
        s.as_object_mut().unwrap().remove("imageId");
    }));
    assert_eq!(result.status, ServerStatus::InSync, "{result:#?}");
    assert!(
        result
            .not_comparable
            .iter()
            .any(|n| n.starts_with("imageId")),
        "{result:#?}"
    );
    let other = one(server(|s| {
        s["imageId"] = json!("00000000-0000-4000-8000-0000000000ff");
    }));
    assert_eq!(other.status, ServerStatus::Stale, "{other:#?}");
}

/// What the API answers is redacted and printable in the report: a secret-shaped
/// `powerStatus`, an escape sequence in a name or an error message.
#[test]
fn server_answers_are_redacted_and_never_carry_control_characters() {
    let token = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";
    let broken = server(|s| {
        s["name"] = json!("workers-\u{1b}[2Jabc");
        s["status"] = json!("ERROR");
        s["powerStatus"] = json!(token);
        s["errorMessage"] = json!("x\u{1b}]0;pwned\u{7} y");
    });
    let report = CloudReport::new(
        CloudOrigin {
            source: "api".into(),
            project_id: Some("p".into()),
            region: Some("eu01".into()),
        },
        compare(&[class()], &[broken]),
    )
    .redacted(&Redactor::with_key(b"k"));
    let shown = format!("{report:?}");
    assert!(!shown.contains("ghp_aB3dE5"), "{shown}");
    let server = &report.servers[0];
    let texts = [&server.name, &server.machine]
        .into_iter()
        .chain(server.power_status.as_ref())
        .chain(&server.notes);
    for text in texts {
        assert!(!text.chars().any(char::is_control), "{text:?}");
    }
}

/// Listed from the API (always with details), a server without `nics` and
/// `serviceAccountMails` has none: compared as such, never called in sync for want of them.
#[test]
fn listed_with_details_missing_lists_are_empty_not_unknown() {
    let bare = server(|s| {
        let o = s.as_object_mut().unwrap();
        o.remove("nics");
        o.remove("serviceAccountMails");
    });
    let results = compare_listed(&[class()], &[bare], Some(true));
    let r = &results[0];
    assert_eq!(r.status, ServerStatus::Stale, "{r:#?}");
    assert!(
        r.changes
            .iter()
            .any(|c| c.pointer == "/serviceAccountMails"),
        "{r:#?}"
    );
}
