//! Tests of the VPSie matching, one per rule (named after the node-discovery plan's acceptance
//! criteria where it has one), then of the report's VPSie section in every format.

use plinth_vocab::redact::Redactor;
use serde_json::{Value, json};

use super::*;
use crate::core::report::{Format, Mode, Report, Verdict, rfc3339};

/// The time of every run: 2026-11-30T12:00:00Z.
const NOW: i64 = 1_796_040_000;

/// `secs` seconds before [`NOW`], as RFC 3339.
fn ago(secs: i64) -> String {
    rfc3339(NOW - secs)
}

fn group(name: &str, min: i64, max: i64) -> GroupSpec {
    GroupSpec {
        name: name.to_owned(),
        min_nodes: min,
        max_nodes: max,
        offering_ids: vec!["7".to_owned()],
        ..GroupSpec::default()
    }
}

/// A running VM created `age` seconds ago, of offering 7.
fn vm(id: i64, hostname: &str, ip: &str, age: i64) -> Vm {
    Vm::from_value(&json!({"id": id, "hostname": hostname, "status": "running",
        "default_ip": ip, "boxsize_id": 7, "created_on": ago(age)}))
    .unwrap()
}

/// The three labels the autoscaler sets on a Node it joined.
fn labelled(group: &str, vpsienode: &str) -> Value {
    json!({"autoscaler.vpsie.com/managed": "true", "autoscaler.vpsie.com/nodegroup": group,
        "autoscaler.vpsie.com/vpsienode": vpsienode})
}

/// A Ready Node created `age` seconds ago.
fn node(name: &str, ip: &str, labels: &Value, age: i64) -> Value {
    json!({"metadata": {"name": name, "labels": labels, "creationTimestamp": ago(age)},
        "status": {"addresses": [{"type": "InternalIP", "address": ip},
            {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True"}]}})
}

/// A run over the group `workers` (0 to 5 nodes) only.
fn workers(vms: &[Vm], nodes: &[Value]) -> VpsieResults {
    run(&[group("workers", 0, 5)], vms, nodes)
}

/// The VM most tests match: `workers-abc` at 10.0.0.5, a minute old.
fn the_vm() -> Vm {
    vm(1, "workers-abc", "10.0.0.5", 60)
}

/// A Node of the group `workers` claimed by the `VPSieNode` `vpsienode`, a minute old.
fn claimed(name: &str, ip: &str, vpsienode: &str) -> Value {
    node(name, ip, &labelled("workers", vpsienode), 60)
}

fn run(groups: &[GroupSpec], vms: &[Vm], nodes: &[Value]) -> VpsieResults {
    run_with(groups, &[], vms, nodes)
}

fn run_with(
    groups: &[GroupSpec],
    api_groups: &[NodeGroupInfo],
    vms: &[Vm],
    nodes: &[Value],
) -> VpsieResults {
    compare(&VpsieInput {
        groups,
        api_groups,
        groups_listed: !api_groups.is_empty(),
        vms,
        nodes,
        now_epoch: NOW,
        discovery_timeout_secs: DEFAULT_DISCOVERY_TIMEOUT_SECS,
    })
}

fn vm_of<'a>(r: &'a VpsieResults, hostname: &str) -> &'a VmResult {
    r.vms
        .iter()
        .find(|v| v.hostname == hostname)
        .unwrap_or_else(|| panic!("no VM `{hostname}` in {r:#?}"))
}

fn node_of<'a>(r: &'a VpsieResults, name: &str) -> &'a NodeResult {
    r.nodes
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no Node `{name}` in {r:#?}"))
}

fn api_group(name: &str, deleted: i64) -> NodeGroupInfo {
    NodeGroupInfo::from_value(
        &json!({"id": 4, "group_name": name, "nodes_count": 1, "is_deleted": deleted}),
    )
    .unwrap()
}

#[test]
fn a_rendered_node_group_is_read() {
    let g = GroupSpec::of_object(&json!({"apiVersion": "autoscaler.vpsie.com/v1alpha1",
        "kind": "NodeGroup", "metadata": {"name": "workers", "namespace": "kube-system"},
        "spec": {"minNodes": 1, "maxNodes": 5, "offeringIDs": ["7", 8], "osImageID": "12",
            "datacenterID": "dc-1", "resourceIdentifier": "k8s-4711"}}))
    .unwrap();
    assert_eq!(g.name, "workers");
    assert_eq!(g.namespace.as_deref(), Some("kube-system"));
    assert_eq!((g.min_nodes, g.max_nodes), (1, 5));
    assert_eq!(g.offering_ids, ["7", "8"]);
    assert_eq!(g.os_image_id.as_deref(), Some("12"));
    assert_eq!(g.resource_identifier.as_deref(), Some("k8s-4711"));
    assert!(g.live_status.is_none());
    let other = json!({"apiVersion": "v1", "kind": "NodeGroup", "metadata": {"name": "x"}});
    assert!(GroupSpec::of_object(&other).is_none());
    let unbounded = GroupSpec::of_object(&json!({"apiVersion": "autoscaler.vpsie.com/v1alpha1",
        "kind": "NodeGroup", "metadata": {"name": "w"}}))
    .unwrap();
    assert_eq!((unbounded.min_nodes, unbounded.max_nodes), (0, i64::MAX));
}

#[test]
fn rfc3339_timestamps_parse_with_offsets_and_fractions() {
    assert_eq!(rfc3339_epoch("2026-11-30T12:00:00Z"), Some(NOW));
    assert_eq!(rfc3339_epoch("2026-11-30 13:00:00.123+01:00"), Some(NOW));
    assert_eq!(rfc3339_epoch("2026-11-30T11:30:00-00:30"), Some(NOW));
    assert_eq!(ago(0), "2026-11-30T12:00:00Z");
    for bad in [
        "",
        "2026-11-30",
        "2026-11-30T12:00:00",
        "2026-13-30T12:00:00Z",
        "yesterday!!!!!!!!!!!!",
    ] {
        assert_eq!(rfc3339_epoch(bad), None, "{bad}");
    }
}

#[test]
fn m1_node_matched_by_ip_first() {
    let r = workers(
        &[the_vm()],
        &[
            // The hostname names one Node, the IP another: the IP wins.
            node("workers-abc", "10.0.0.9", &json!({}), 30),
            claimed("n-ip", "10.0.0.5", "workers-abc"),
        ],
    );
    let v = vm_of(&r, "workers-abc");
    assert_eq!(v.node.as_deref(), Some("n-ip"));
    assert_eq!(v.matched_by.as_deref(), Some("ip"));
    assert_eq!(v.status, VpsieStatus::InSync);
    assert_eq!(node_of(&r, "n-ip").status, VpsieStatus::InSync);
    assert!(
        r.nodes.iter().all(|n| n.name != "workers-abc"),
        "an unlabelled Node is not listed"
    );
}

#[test]
fn m1_an_external_ip_matches_too() {
    let mut n = claimed("n1", "192.168.0.1", "workers-abc");
    n["status"]["addresses"][0]["type"] = json!("ExternalIP");
    let r = workers(&[vm(1, "workers-abc", "192.168.0.1", 60)], &[n]);
    assert_eq!(vm_of(&r, "workers-abc").matched_by.as_deref(), Some("ip"));
}

#[test]
fn m2_node_matched_by_hostname_when_no_ip_matches() {
    for (name, labels) in [
        ("workers-abc", json!({})),
        ("WORKERS-ABC.example.com", json!({})),
        ("some-node", labelled("workers", "workers-ab")),
    ] {
        let r = workers(&[the_vm()], &[node(name, "10.9.9.9", &labels, 60)]);
        let v = vm_of(&r, "workers-abc");
        assert_eq!(v.node.as_deref(), Some(name), "{name}: {r:#?}");
        assert_eq!(v.matched_by.as_deref(), Some("hostname"));
    }
    // A prefix without a `.` boundary is not the same host.
    let r = workers(
        &[the_vm()],
        &[node("workers-abcd", "10.9.9.9", &json!({}), 60)],
    );
    assert_eq!(vm_of(&r, "workers-abc").node, None);
}

#[test]
fn m2_a_hostname_address_matches() {
    let mut n = node("ip-10-9-9-9", "10.9.9.9", &json!({}), 60);
    n["status"]["addresses"][1]["address"] = json!("workers-abc");
    let r = workers(&[vm(1, "workers-abc", "", 60)], &[n]);
    assert_eq!(
        vm_of(&r, "workers-abc").node.as_deref(),
        Some("ip-10-9-9-9")
    );
}

#[test]
fn m3_the_vm_names_its_node() {
    let r = workers(&[the_vm()], &[claimed("n1", "10.0.0.5", "workers-abc")]);
    assert_eq!(vm_of(&r, "workers-abc").node.as_deref(), Some("n1"));
    assert_eq!(node_of(&r, "n1").vm.as_deref(), Some("workers-abc"));
    assert_eq!(node_of(&r, "n1").group.as_deref(), Some("workers"));
}

#[test]
fn m4_node_joined_before_discovery_is_matched_by_ip() {
    let r = workers(
        &[the_vm()],
        // Joined, named by the OS, not yet claimed: no vpsienode label.
        &[node(
            "ubuntu-host",
            "10.0.0.5",
            &json!({"autoscaler.vpsie.com/managed": "true"}),
            30,
        )],
    );
    let v = vm_of(&r, "workers-abc");
    assert_eq!(v.node.as_deref(), Some("ubuntu-host"));
    assert_eq!(v.matched_by.as_deref(), Some("ip"));
    let n = node_of(&r, "ubuntu-host");
    assert_eq!(n.status, VpsieStatus::MissingLabels);
    assert_eq!(
        n.missing_labels,
        [
            "autoscaler.vpsie.com/nodegroup",
            "autoscaler.vpsie.com/vpsienode"
        ]
    );
}

#[test]
fn d5_ip_match_skips_a_node_claimed_by_another_vpsienode() {
    let r = workers(&[the_vm()], &[claimed("n1", "10.0.0.5", "workers-xyz")]);
    assert_eq!(vm_of(&r, "workers-abc").node, None, "{r:#?}");
    assert_eq!(node_of(&r, "n1").status, VpsieStatus::OrphanedNode);
    // Claimed by the VM's own VPSieNode (a prefix of its hostname): accepted.
    let r = workers(
        &[vm(1, "workers-abc-1a2b", "10.0.0.5", 60)],
        &[claimed("n1", "10.0.0.5", "workers-abc")],
    );
    assert_eq!(
        vm_of(&r, "workers-abc-1a2b").matched_by.as_deref(),
        Some("ip")
    );
}

#[test]
fn d9_concurrent_provisioning_ips_decide() {
    let vms = [
        vm(2, "workers-abcd", "10.0.0.2", 60),
        vm(1, "workers-abc", "10.0.0.1", 120),
    ];
    // `node-a` (newer) is workers-abc's: by hostname alone the newer VM `workers-abcd`, whose
    // hostname starts with `workers-abc`, would take it.
    let nodes = [
        node(
            "node-a",
            "10.0.0.1",
            &labelled("workers", "workers-abc"),
            10,
        ),
        node(
            "node-b",
            "10.0.0.2",
            &labelled("workers", "workers-abcd"),
            50,
        ),
    ];
    let r = workers(&vms, &nodes);
    assert_eq!(vm_of(&r, "workers-abc").node.as_deref(), Some("node-a"));
    assert_eq!(vm_of(&r, "workers-abcd").node.as_deref(), Some("node-b"));
    assert!(
        r.nodes.iter().all(|n| n.status == VpsieStatus::InSync),
        "{r:#?}"
    );
    // Without IPs, hostnames alone mis-pair: what the IP rule prevents.
    let blind: Vec<Vm> = vms
        .iter()
        .cloned()
        .map(|mut v| {
            v.default_ip = None;
            v
        })
        .collect();
    let r = workers(&blind, &nodes);
    assert_eq!(vm_of(&r, "workers-abcd").node.as_deref(), Some("node-a"));
}

/// IP first for every VM, then hostname: a newer VM whose hostname resembles a Node's claim
/// never takes the Node an older VM has by address.
#[test]
fn d9_ip_matches_of_every_vm_come_before_hostname_matches() {
    let vms = [
        vm(2, "workers-ab-x", "10.0.0.9", 60),
        vm(1, "workers-ab", "10.0.0.1", 120),
    ];
    let nodes = [node(
        "node-x",
        "10.0.0.1",
        &labelled("workers", "workers-ab"),
        10,
    )];
    let r = workers(&vms, &nodes);
    assert_eq!(vm_of(&r, "workers-ab").node.as_deref(), Some("node-x"));
    assert_eq!(vm_of(&r, "workers-ab").matched_by.as_deref(), Some("ip"));
    assert_eq!(vm_of(&r, "workers-ab-x").node, None);
}

#[test]
fn d9_one_node_is_never_matched_to_two_vms() {
    let r = workers(
        &[vm(1, "workers-a1", "", 60), vm(2, "workers-a2", "", 30)],
        &[claimed("n1", "10.0.0.1", "workers-a")],
    );
    // The newest VM takes it; the other has none.
    assert_eq!(vm_of(&r, "workers-a2").node.as_deref(), Some("n1"));
    assert_eq!(vm_of(&r, "workers-a1").node, None);
    assert_eq!(vm_of(&r, "workers-a1").status, VpsieStatus::Joining);
    assert_eq!(r.nodes.len(), 1);
}

#[test]
fn candidates_newest_first_unknown_creation_time_last() {
    let mut unknown = vm(9, "workers-a9", "", 0);
    unknown.created_on = Some("last Tuesday".to_owned());
    let r = workers(
        &[unknown, vm(1, "workers-a1", "", 3000)],
        &[claimed("n1", "10.0.0.1", "workers-a")],
    );
    assert_eq!(vm_of(&r, "workers-a1").node.as_deref(), Some("n1"));
    let v = vm_of(&r, "workers-a9");
    assert_eq!(v.status, VpsieStatus::FailedToJoin);
    assert!(
        v.notes.iter().any(|n| n.contains("age is unknown")),
        "{v:?}"
    );
}

#[test]
fn the_newest_node_wins_when_several_qualify() {
    let r = workers(
        &[the_vm()],
        &[
            node("old", "10.0.0.5", &json!({}), 600),
            node("new", "10.0.0.5", &json!({}), 60),
            node("stamp-less", "10.0.0.5", &json!({}), 0),
        ]
        .map(|mut n| {
            if n["metadata"]["name"] == "stamp-less" {
                n["metadata"]
                    .as_object_mut()
                    .unwrap()
                    .remove("creationTimestamp");
            }
            n
        }),
    );
    assert_eq!(vm_of(&r, "workers-abc").node.as_deref(), Some("new"));
}

#[test]
fn control_plane_nodes_are_never_matched() {
    for role in ["control-plane", "master"] {
        let labels = json!({format!("node-role.kubernetes.io/{role}"): ""});
        let r = workers(&[the_vm()], &[node("workers-abc", "10.0.0.5", &labels, 60)]);
        assert_eq!(vm_of(&r, "workers-abc").node, None, "{role}");
        assert!(r.nodes.is_empty());
    }
}

#[test]
fn d1_a_vm_without_node_is_joining_then_failed_to_join() {
    let r = workers(
        &[
            vm(1, "workers-young", "10.0.0.1", 899),
            vm(2, "workers-old", "10.0.0.2", 900),
        ],
        &[],
    );
    assert_eq!(vm_of(&r, "workers-young").status, VpsieStatus::Joining);
    assert_eq!(vm_of(&r, "workers-old").status, VpsieStatus::FailedToJoin);
    let r = compare(&VpsieInput {
        groups: &[group("workers", 0, 5)],
        api_groups: &[],
        groups_listed: false,
        vms: &[vm(1, "workers-old", "10.0.0.2", 900)],
        nodes: &[],
        now_epoch: NOW,
        discovery_timeout_secs: 1800,
    });
    assert_eq!(vm_of(&r, "workers-old").status, VpsieStatus::Joining);
}

#[test]
fn d1_unknown_creation_time_is_failed_to_join() {
    let mut v = vm(1, "workers-abc", "10.0.0.1", 0);
    v.created_on = None;
    let r = workers(&[v], &[]);
    let v = vm_of(&r, "workers-abc");
    assert_eq!(v.status, VpsieStatus::FailedToJoin);
    assert_eq!(v.age_secs, None);
    assert!(
        v.notes.iter().any(|n| n.contains("age is unknown")),
        "{v:?}"
    );
}

#[test]
fn a_vm_that_is_not_running_is_reported_and_never_matched() {
    let mut v = the_vm();
    v.status = Some("stopped".to_owned());
    let r = run(
        &[group("workers", 1, 5)],
        &[v],
        &[claimed("n1", "10.0.0.5", "workers-abc")],
    );
    assert_eq!(vm_of(&r, "workers-abc").status, VpsieStatus::NotRunning);
    assert_eq!(vm_of(&r, "workers-abc").node, None);
    assert_eq!(node_of(&r, "n1").status, VpsieStatus::OrphanedNode);
    assert_eq!(r.groups[0].current, 0);
    assert_eq!(r.groups[0].status, VpsieStatus::OutOfBounds);
}

#[test]
fn l1_l3_a_matched_node_without_the_labels_is_missing_labels() {
    let r = workers(
        &[the_vm()],
        &[node(
            "n1",
            "10.0.0.5",
            &json!({"autoscaler.vpsie.com/managed": "false",
                "autoscaler.vpsie.com/nodegroup": "other", "autoscaler.vpsie.com/vpsienode": ""}),
            60,
        )],
    );
    let n = node_of(&r, "n1");
    assert_eq!(n.status, VpsieStatus::MissingLabels);
    assert_eq!(
        n.missing_labels,
        [
            "autoscaler.vpsie.com/managed",
            "autoscaler.vpsie.com/nodegroup",
            "autoscaler.vpsie.com/vpsienode",
        ]
    );
    assert!(
        n.notes
            .iter()
            .any(|l| l.contains("is `other`, expected `workers`")),
        "{n:?}"
    );
    // The VM itself is fine.
    assert_eq!(vm_of(&r, "workers-abc").status, VpsieStatus::InSync);
}

#[test]
fn an_unmatched_labelled_node_is_orphaned_an_unlabelled_one_not_listed() {
    let nodes: Vec<Value> = [
        ("managed", json!({"autoscaler.vpsie.com/managed": "true"})),
        (
            "grouped",
            json!({"autoscaler.vpsie.com/nodegroup": "workers"}),
        ),
        ("claimed", json!({"autoscaler.vpsie.com/vpsienode": "x-1"})),
        (
            "foreign",
            json!({"autoscaler.vpsie.com/nodegroup": "other"}),
        ),
        ("plain", json!({"team": "a"})),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, labels))| node(name, &format!("10.0.0.{i}"), labels, 60))
    .collect();
    let r = workers(&[], &nodes);
    let names: Vec<&str> = r.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["managed", "grouped", "claimed"]);
    assert!(
        r.nodes
            .iter()
            .all(|n| n.status == VpsieStatus::OrphanedNode)
    );
    assert_eq!(node_of(&r, "grouped").group.as_deref(), Some("workers"));
}

#[test]
fn group_membership_by_hostname_prefix_longest_name_wins() {
    let r = run(
        &[group("gpu", 0, 5), group("gpu-large", 0, 5)],
        &[
            vm(1, "GPU-Large-x1", "10.0.0.1", 60),
            vm(2, "gpu-x2", "10.0.0.2", 60),
            vm(3, "gpux-3", "10.0.0.3", 60),
        ],
        &[],
    );
    assert_eq!(
        vm_of(&r, "GPU-Large-x1").group.as_deref(),
        Some("gpu-large")
    );
    assert_eq!(vm_of(&r, "gpu-x2").group.as_deref(), Some("gpu"));
    assert!(
        r.vms.iter().all(|v| v.hostname != "gpux-3"),
        "not plinth's business"
    );
}

#[test]
fn a_vm_of_no_group_is_listed_when_a_node_of_a_group_matched_it() {
    let r = workers(
        &[
            vm(1, "k8s-node-17", "10.0.0.5", 60),
            vm(2, "db-1", "10.0.0.6", 60),
        ],
        &[claimed("n1", "10.0.0.5", "k8s-node")],
    );
    assert_eq!(vm_of(&r, "k8s-node-17").group.as_deref(), Some("workers"));
    assert_eq!(r.vms.len(), 1, "{r:#?}");
    assert_eq!(r.groups[0].current, 1);
}

#[test]
fn stale_when_offering_or_image_is_not_the_groups() {
    let mut g = group("workers", 0, 5);
    g.offering_ids = vec!["7".to_owned(), "8".to_owned()];
    g.os_image_id = Some("12".to_owned());
    let mut other_size = vm(1, "workers-a", "10.0.0.1", 60);
    other_size.boxsize_id = Some(9);
    let mut other_image = vm(2, "workers-b", "10.0.0.2", 60);
    other_image.boximage_id = Some(13);
    let mut fine = vm(3, "workers-c", "10.0.0.3", 60);
    fine.boxsize_id = Some(8);
    fine.boximage_id = Some(12);
    let nodes = [
        claimed("na", "10.0.0.1", "workers-a"),
        claimed("nb", "10.0.0.2", "workers-b"),
        claimed("nc", "10.0.0.3", "workers-c"),
    ];
    let r = run(&[g], &[other_size, other_image, fine], &nodes);
    let a = vm_of(&r, "workers-a");
    assert_eq!(a.status, VpsieStatus::Stale);
    assert!(a.notes[0].contains("boxsize_id 9"), "{a:?}");
    let b = vm_of(&r, "workers-b");
    assert_eq!(b.status, VpsieStatus::Stale);
    assert!(b.notes[0].contains("boximage_id 13"), "{b:?}");
    assert_eq!(vm_of(&r, "workers-c").status, VpsieStatus::InSync);
    assert_eq!(r.groups[0].current, 3, "a stale VM still counts");
}

#[test]
fn offerings_named_not_numbered_are_not_compared() {
    let mut g = group("workers", 0, 5);
    g.offering_ids = vec!["small-2cpu-4gb".to_owned()];
    g.os_image_id = Some("ubuntu-24.04".to_owned());
    let r = run(&[g], &[vm(1, "workers-a", "10.0.0.1", 60)], &[]);
    assert_eq!(vm_of(&r, "workers-a").status, VpsieStatus::Joining);
    assert_eq!(r.groups[0].notes.len(), 2, "{:?}", r.groups[0]);
}

#[test]
fn s1_s2_current_and_ready_counts() {
    let mut not_ready = claimed("nb", "10.0.0.2", "workers-b");
    not_ready["status"]["conditions"][0]["status"] = json!("False");
    let mut stopped = vm(4, "workers-d", "10.0.0.4", 60);
    stopped.status = Some("stopped".to_owned());
    let r = workers(
        &[
            vm(1, "workers-a", "10.0.0.1", 60),
            vm(2, "workers-b", "10.0.0.2", 60),
            vm(3, "workers-c", "10.0.0.3", 60),
            stopped,
        ],
        &[claimed("na", "10.0.0.1", "workers-a"), not_ready],
    );
    let g = &r.groups[0];
    assert_eq!((g.current, g.ready), (3, 1), "{g:?}");
    assert_eq!(g.status, VpsieStatus::InSync);
}

#[test]
fn s3_miscounted_when_the_live_status_lags() {
    let mut g = group("workers", 0, 5);
    g.live_status = Some(json!({"currentNodes": 0, "readyNodes": 0, "vpsieGroupID": 44}));
    let r = run(
        &[g.clone()],
        &[vm(1, "workers-a", "10.0.0.1", 60)],
        &[claimed("na", "10.0.0.1", "workers-a")],
    );
    let result = &r.groups[0];
    assert_eq!(result.status, VpsieStatus::Miscounted);
    assert_eq!(result.notes.len(), 2, "{result:?}");
    assert_eq!(result.vpsie_group_id, Some(44));
    assert_eq!(
        (result.status_current, result.status_ready),
        (Some(0), Some(0))
    );
    g.live_status = Some(json!({"currentNodes": 1, "readyNodes": 1}));
    let r = run(
        &[g],
        &[vm(1, "workers-a", "10.0.0.1", 60)],
        &[claimed("na", "10.0.0.1", "workers-a")],
    );
    assert_eq!(r.groups[0].status, VpsieStatus::InSync);
}

#[test]
fn out_of_bounds_below_min_and_above_max() {
    let r = run(&[group("workers", 1, 5)], &[], &[]);
    assert_eq!(r.groups[0].status, VpsieStatus::OutOfBounds);
    assert!(r.groups[0].notes[0].contains("below minNodes 1"));
    let r = run(
        &[group("workers", 0, 1)],
        &[vm(1, "workers-a", "", 60), vm(2, "workers-b", "", 60)],
        &[],
    );
    assert_eq!(r.groups[0].status, VpsieStatus::OutOfBounds);
    assert!(r.groups[0].notes[0].contains("above maxNodes 1"));
}

#[test]
fn missing_group_when_the_api_lists_none_of_that_name_or_a_deleted_one() {
    let listed = [api_group("WORKERS", 0)];
    let r = run_with(&[group("workers", 0, 5)], &listed, &[], &[]);
    assert_eq!(
        r.groups[0].status,
        VpsieStatus::InSync,
        "names compare in any case"
    );
    assert_eq!(r.groups[0].vpsie_group_id, Some(4));
    assert_eq!(r.groups[0].api_nodes_count, Some(1));
    for listed in [api_group("other", 0), api_group("workers", 1)] {
        let r = run_with(&[group("workers", 0, 5)], &[listed], &[], &[]);
        assert_eq!(r.groups[0].status, VpsieStatus::MissingGroup);
    }
    // Not listed at all: nothing to say.
    let r = run_with(&[group("workers", 0, 5)], &[], &[], &[]);
    assert_eq!(r.groups[0].status, VpsieStatus::InSync);
    // Listed, and the listing is empty: the group is missing at VPSie.
    let r = compare(&VpsieInput {
        groups: &[group("workers", 0, 5)],
        api_groups: &[],
        groups_listed: true,
        vms: &[],
        nodes: &[],
        now_epoch: NOW,
        discovery_timeout_secs: DEFAULT_DISCOVERY_TIMEOUT_SECS,
    });
    assert_eq!(r.groups[0].status, VpsieStatus::MissingGroup);
}

#[test]
fn group_precedence_missing_group_then_out_of_bounds_then_miscounted() {
    let mut g = group("workers", 1, 5);
    g.live_status = Some(json!({"currentNodes": 3}));
    let r = run_with(&[g.clone()], &[api_group("other", 0)], &[], &[]);
    assert_eq!(r.groups[0].status, VpsieStatus::MissingGroup);
    assert_eq!(
        r.groups[0].notes.len(),
        3,
        "every reason noted: {:?}",
        r.groups[0]
    );
    let r = run_with(&[g], &[api_group("workers", 0)], &[], &[]);
    assert_eq!(r.groups[0].status, VpsieStatus::OutOfBounds);
}

#[test]
fn defensive_a_node_with_nothing_never_panics() {
    let nodes = [
        json!({}),
        json!({"metadata": {"name": "bare"}}),
        json!({"metadata": {"name": "odd", "labels": {"autoscaler.vpsie.com/managed": 1},
            "creationTimestamp": 5}, "status": {"addresses": [{"type": "InternalIP"}, 3],
            "conditions": "no"}}),
        json!([1, 2]),
    ];
    let r = workers(&[vm(1, "workers-a", "", 60)], &nodes);
    assert_eq!(vm_of(&r, "workers-a").status, VpsieStatus::Joining);
    assert!(r.nodes.is_empty(), "{r:#?}");
}

/// A run with a finding of every kind and a joining VM.
fn mixed() -> VpsieReport {
    let mut g = group("workers", 0, 5);
    g.live_status = Some(json!({"currentNodes": 3, "readyNodes": 3}));
    let results = run(
        &[g, group("batch", 0, 2)],
        &[
            vm(2, "workers-b", "10.0.0.2", 60),
            vm(1, "workers-a", "10.0.0.1", 60),
            vm(3, "batch-x", "10.0.0.3", 5000),
        ],
        &[
            claimed("zz-orphan", "10.0.0.9", "workers-gone"),
            node("na", "10.0.0.1", &json!({}), 60),
        ],
    );
    VpsieReport::new(
        VpsieOrigin {
            source: "api".to_owned(),
            cluster_identifier: Some("k8s-4711".to_owned()),
        },
        results,
        DEFAULT_DISCOVERY_TIMEOUT_SECS,
    )
}

#[test]
fn the_report_is_sorted_and_summarised() {
    let v = mixed();
    let groups: Vec<&str> = v.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(groups, ["batch", "workers"]);
    let vms: Vec<&str> = v.vms.iter().map(|v| v.hostname.as_str()).collect();
    assert_eq!(vms, ["batch-x", "workers-a", "workers-b"]);
    let nodes: Vec<&str> = v.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(nodes, ["na", "zz-orphan"]);
    assert_eq!(v.summary.len(), VpsieStatus::ALL.len(), "zeros included");
    assert_eq!(
        v.summary_line(),
        "2 groups, 3 VMs, 2 Nodes: 2 in-sync, 1 joining, 1 failed-to-join, 1 orphaned-node, \
         1 missing-labels, 1 miscounted"
    );
    assert_eq!(
        v.origin_line(),
        "VPSie nodes (listed from the API, cluster `k8s-4711`, discovery timeout 15m)"
    );
    assert!(v.has_findings());
    // The same inputs in another order give the same report.
    let again = mixed();
    assert_eq!(v, again);
}

#[test]
fn joining_is_not_a_finding_and_findings_are_drift() {
    let origin = VpsieOrigin {
        source: "snapshot".to_owned(),
        cluster_identifier: None,
    };
    let joining = workers(&[vm(1, "workers-a", "", 60)], &[]);
    let v = VpsieReport::new(origin, joining, DEFAULT_DISCOVERY_TIMEOUT_SECS);
    assert!(!v.has_findings());
    assert_eq!(report_of(v).verdict(), Verdict::InSync);
    assert_eq!(full_report().verdict(), Verdict::Drift);
}

#[test]
fn redaction_covers_every_string_and_strips_control_characters() {
    let secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let mut v = vm(1, &format!("workers-a\u{1b} {secret}"), "10.0.0.1", 60);
    v.status = Some(format!("stopped\n{secret}"));
    let results = workers(&[v], &[]);
    let report = VpsieReport::new(
        VpsieOrigin {
            source: "api".to_owned(),
            cluster_identifier: Some(format!("id\u{7}{secret}")),
        },
        results,
        DEFAULT_DISCOVERY_TIMEOUT_SECS,
    )
    .redacted(&Redactor::with_key(b"k"));
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains(secret), "{json}");
    assert!(json.contains("<redacted"), "{json}");
    assert!(
        !json.contains("\\u001b") && !json.contains("\\u0007") && !json.contains("\\n"),
        "{json}"
    );
}

/// A drift report of the cluster `c1` with no object and `vpsie`.
fn report_of(vpsie: VpsieReport) -> Report {
    Report::new(
        "c1",
        "2026-11-30T12:00:00Z".to_owned(),
        Mode::Client,
        "cluster",
        vec![],
        vec![],
    )
    .with_vpsie(vpsie)
}

/// A report with [`mixed`] only.
fn full_report() -> Report {
    report_of(mixed())
}

#[test]
fn text_lists_the_findings_under_the_vpsie_heading() {
    let text = Format::Text.render(&full_report());
    let section = text.split_once("VPSie nodes (").unwrap().1;
    assert!(
        section.contains("2 groups, 3 VMs, 2 Nodes: 2 in-sync"),
        "{text}"
    );
    assert!(
        section.contains("failed-to-join VM `batch-x` (group `batch`)"),
        "{text}"
    );
    assert!(
        section.contains("orphaned-node Node `zz-orphan` (group `workers`)"),
        "{text}"
    );
    assert!(
        section.contains("missing-labels Node `na` (group `workers`)"),
        "{text}"
    );
    assert!(
        section.contains("miscounted node group `workers`"),
        "{text}"
    );
    assert!(
        !section.contains("joining VM"),
        "joining is not a finding: {text}"
    );
    assert!(!section.contains("in-sync   "), "{text}");
}

#[test]
fn markdown_lists_the_findings_under_the_vpsie_heading() {
    let md = Format::Markdown.render(&full_report());
    let section = md.split_once("## VPSie nodes (").unwrap().1;
    assert!(section.contains("| failed-to-join | 1 |"), "{md}");
    assert!(section.contains("| **total** | **7** |"), "{md}");
    assert!(
        section.contains("### orphaned-node Node `zz-orphan` (group `workers`)"),
        "{md}"
    );
    assert!(
        section.contains("- label `autoscaler.vpsie.com/managed` is absent"),
        "{md}"
    );
    assert!(!section.contains("### joining"), "{md}");
}

#[test]
fn junit_has_one_case_per_group_vm_and_node() {
    let xml = Format::Junit.render(&full_report());
    assert!(xml.contains("tests=\"7\" failures=\"4\""), "{xml}");
    assert_eq!(xml.matches("classname=\"c1.Vpsie\"").count(), 7, "{xml}");
    assert!(
        xml.contains(
            "name=\"vm/batch/batch-x\">\n      <failure message=\"failed-to-join VM `batch-x`"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("name=\"node/zz-orphan\">\n      <failure"),
        "{xml}"
    );
    assert!(
        xml.contains("name=\"vm/workers/workers-b\">\n      <system-out>joining"),
        "{xml}"
    );
    assert!(xml.contains("name=\"group/batch\"/>"), "{xml}");
}

#[test]
fn prometheus_counts_every_kind_and_status() {
    let prom = Format::Prometheus.render(&full_report());
    let lines: Vec<&str> = prom
        .lines()
        .filter(|l| l.starts_with("plinth_drift_vpsie_resources{"))
        .collect();
    assert_eq!(lines.len(), 3 * VpsieStatus::ALL.len(), "{prom}");
    for want in [
        "plinth_drift_vpsie_resources{cluster=\"c1\",kind=\"group\",status=\"miscounted\"} 1",
        "plinth_drift_vpsie_resources{cluster=\"c1\",kind=\"vm\",status=\"joining\"} 1",
        "plinth_drift_vpsie_resources{cluster=\"c1\",kind=\"node\",status=\"orphaned-node\"} 1",
        "plinth_drift_vpsie_resources{cluster=\"c1\",kind=\"node\",status=\"in-sync\"} 0",
    ] {
        assert!(lines.contains(&want), "{want}\n{prom}");
    }
    assert!(prom.contains("# TYPE plinth_drift_vpsie_resources gauge"));
}

#[test]
fn json_carries_the_vpsie_section_in_camel_case() {
    let json: Value = serde_json::from_str(&Format::Json.render(&full_report())).unwrap();
    let v = &json["vpsie"];
    assert_eq!(v["source"], "api");
    assert_eq!(v["clusterIdentifier"], "k8s-4711");
    assert_eq!(v["summary"]["failed-to-join"], 1);
    assert_eq!(v["vms"][1]["matchedBy"], "ip");
    assert_eq!(v["vms"][1]["node"], "na");
    assert_eq!(
        v["nodes"][0]["missingLabels"][0],
        "autoscaler.vpsie.com/managed"
    );
    assert_eq!(v["groups"][1]["minNodes"], 0);
}

/// A creation time far after the run's time (a report time fixed by `SOURCE_DATE_EPOCH`, a
/// clock behind the cloud's) is an unknown age, never a young VM: no Node is `failed-to-join`.
/// A little after (clock skew within the discovery timeout) is still `joining`.
#[test]
fn d1_a_creation_time_after_the_run_is_not_a_young_vm() {
    let r = workers(
        &[
            vm(1, "workers-later", "10.0.0.1", -86_400),
            vm(2, "workers-skewed", "10.0.0.2", -30),
        ],
        &[],
    );
    let later = vm_of(&r, "workers-later");
    assert_eq!(later.status, VpsieStatus::FailedToJoin, "{later:?}");
    assert!(later.notes.iter().any(|n| n.contains("age is unknown")));
    assert_eq!(vm_of(&r, "workers-skewed").status, VpsieStatus::Joining);
}

/// VPSie-managed nodes may be missing from `GET /vm`: the worker nodes of the cluster's info
/// that the list lacks are matched too (the autoscaler's synthetic VM), so their Nodes are not
/// orphaned; masters and nodes the list has are not added twice.
#[test]
fn m4_cluster_nodes_missing_from_the_vm_list_are_matched() {
    use plinth_cloud::vpsie::ClusterNode;
    let info = json!({"nodes": [
        {"identifier": "u-1", "hostname": "workers-k1", "ip": "10.0.0.21", "status": "running", "role": "slave"},
        {"identifier": "u-2", "hostname": "workers-abc", "ip": "10.0.0.1", "role": "slave"},
        {"identifier": "m-1", "hostname": "cp-1", "ip": "10.0.0.2", "role": "master"},
    ]});
    let nodes = ClusterNode::all_of(&info).unwrap();
    let vms = with_cluster_nodes(vec![the_vm()], &nodes);
    let hosts: Vec<&str> = vms.iter().map(|v| v.hostname.as_str()).collect();
    assert_eq!(hosts, ["workers-abc", "workers-k1"], "no copy, no master");
    let r = workers(&vms, &[claimed("k8s-node-21", "10.0.0.21", "workers-k1")]);
    assert_eq!(vm_of(&r, "workers-k1").node.as_deref(), Some("k8s-node-21"));
    assert!(
        r.nodes
            .iter()
            .all(|n| n.status != VpsieStatus::OrphanedNode),
        "{r:#?}"
    );
}
