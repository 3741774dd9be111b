//! The order `plinth apply` walks objects in: the reconcile order (sync wave, then within a
//! wave CRDs and Namespaces, RBAC and `ServiceAccount`s, `*Class` kinds, the rest, each stage
//! in Flux's fixed kind order, then kind, namespace, name) and the prune order (its reverse,
//! Namespaces last of all). DESIGN §7; FACTS (b).

use std::cmp::Ordering;

use plinth_vocab::ObjectRef;

/// The API group of `CustomResourceDefinition`.
pub const CRD_GROUP: &str = "apiextensions.k8s.io";
/// The API group of the RBAC kinds.
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Flux's `ReconcileOrder` (fluxcd/pkg `ssa/sort.go`): these kinds first, in this order; other
/// kinds after them; [`LAST_KINDS`] last.
const KIND_ORDER: &[&str] = &[
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds applied after every other kind of their stage: admission webhooks would otherwise
/// judge objects whose webhook service is not running yet.
const LAST_KINDS: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The stages of one wave, in reconcile order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// `CustomResourceDefinition`s and `Namespace`s: what other objects need to exist.
    Definitions,
    /// `ClusterRole`, `ClusterRoleBinding`, `Role`, `RoleBinding` and `ServiceAccount`.
    Rbac,
    /// Kinds whose name ends in `Class` (`StorageClass`, `IngressClass`, `GatewayClass`, ...).
    Classes,
    /// Everything else.
    Rest,
}

/// Whether `key` is a `CustomResourceDefinition`.
pub fn is_crd(key: &ObjectRef) -> bool {
    key.group == CRD_GROUP && key.kind == "CustomResourceDefinition"
}

/// Whether `key` is a `Namespace`.
pub fn is_namespace(key: &ObjectRef) -> bool {
    key.group.is_empty() && key.kind == "Namespace"
}

/// The stage of an object of `group` and `kind`. Built-in kinds are recognised with their
/// group: a custom resource named `Role` is not RBAC.
pub fn stage(group: &str, kind: &str) -> Stage {
    match (group, kind) {
        (CRD_GROUP, "CustomResourceDefinition") | ("", "Namespace") => Stage::Definitions,
        (RBAC_GROUP, "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding")
        | ("", "ServiceAccount") => Stage::Rbac,
        (_, k) if k.ends_with("Class") => Stage::Classes,
        _ => Stage::Rest,
    }
}

/// The rank of `kind` in the fixed kind order of a stage: Flux's order, then other kinds,
/// then the webhook configurations.
pub fn kind_rank(kind: &str) -> usize {
    if let Some(i) = KIND_ORDER.iter().position(|k| *k == kind) {
        i
    } else if let Some(i) = LAST_KINDS.iter().position(|k| *k == kind) {
        KIND_ORDER.len() + 1 + i
    } else {
        KIND_ORDER.len()
    }
}

/// The reconcile order of two objects given with their sync waves: wave (lower first),
/// [`Stage`], [`kind_rank`], kind, namespace (cluster-scoped first), name, group. A total
/// order: two objects compare equal only when wave and reference are equal.
pub fn reconcile_cmp(a: (i64, &ObjectRef), b: (i64, &ObjectRef)) -> Ordering {
    sort_key(a).cmp(&sort_key(b))
}

/// The tuple [`reconcile_cmp`] compares.
fn sort_key((wave, r): (i64, &ObjectRef)) -> (i64, Stage, usize, &str, Option<&str>, &str, &str) {
    (
        wave,
        stage(&r.group, &r.kind),
        kind_rank(&r.kind),
        r.kind.as_str(),
        r.namespace.as_deref(),
        r.name.as_str(),
        r.group.as_str(),
    )
}

/// The prune order: Namespaces after everything else (deleting one deletes what it holds),
/// the rest in reverse reconcile order (highest wave first, custom resources before their
/// `CustomResourceDefinition`).
pub fn prune_cmp(a: (i64, &ObjectRef), b: (i64, &ObjectRef)) -> Ordering {
    is_namespace(a.1)
        .cmp(&is_namespace(b.1))
        .then_with(|| reconcile_cmp(b, a))
}

/// Sorts `items` into reconcile order; `at` gives an item's wave and reference.
pub fn sort_reconcile<T>(items: &mut [T], at: impl Fn(&T) -> (i64, &ObjectRef)) {
    items.sort_by(|x, y| reconcile_cmp(at(x), at(y)));
}

/// Sorts `items` into prune order; `at` gives an item's wave and reference.
pub fn sort_prune<T>(items: &mut [T], at: impl Fn(&T) -> (i64, &ObjectRef)) {
    items.sort_by(|x, y| prune_cmp(at(x), at(y)));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn r(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef::new(api_version, kind, namespace, name)
    }

    fn names(items: &[(i64, ObjectRef)]) -> Vec<String> {
        items.iter().map(|(w, k)| format!("{w} {k}")).collect()
    }

    #[test]
    fn stages_then_flux_kind_order_then_webhooks_last() {
        let mut items = vec![
            (0, r("apps/v1", "Deployment", Some("ns"), "web")),
            (
                0,
                r(
                    "admissionregistration.k8s.io/v1",
                    "ValidatingWebhookConfiguration",
                    None,
                    "v",
                ),
            ),
            (0, r("example.com/v1", "Widget", Some("ns"), "w")),
            (0, r("v1", "ServiceAccount", Some("ns"), "sa")),
            (
                0,
                r(
                    "rbac.authorization.k8s.io/v1",
                    "RoleBinding",
                    Some("ns"),
                    "rb",
                ),
            ),
            (0, r("storage.k8s.io/v1", "StorageClass", None, "fast")),
            (0, r("v1", "Namespace", None, "ns")),
            (
                0,
                r(
                    "apiextensions.k8s.io/v1",
                    "CustomResourceDefinition",
                    None,
                    "widgets.example.com",
                ),
            ),
            (
                0,
                r("rbac.authorization.k8s.io/v1", "ClusterRole", None, "cr"),
            ),
            (0, r("v1", "ConfigMap", Some("ns"), "cm")),
            (0, r("example.com/v1", "Role", Some("ns"), "not-rbac")),
            (-1, r("v1", "ConfigMap", Some("ns"), "early")),
        ];
        sort_reconcile(&mut items, |(w, k)| (*w, k));
        assert_eq!(
            names(&items),
            [
                "-1 ConfigMap/ns/early",
                "0 CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com",
                "0 Namespace/ns",
                "0 ClusterRole.rbac.authorization.k8s.io/cr",
                "0 ServiceAccount/ns/sa",
                "0 RoleBinding.rbac.authorization.k8s.io/ns/rb",
                "0 StorageClass.storage.k8s.io/fast",
                "0 Role.example.com/ns/not-rbac",
                "0 ConfigMap/ns/cm",
                "0 Deployment.apps/ns/web",
                "0 Widget.example.com/ns/w",
                "0 ValidatingWebhookConfiguration.admissionregistration.k8s.io/v",
            ]
        );
        sort_prune(&mut items, |(w, k)| (*w, k));
        assert_eq!(
            names(&items),
            [
                "0 ValidatingWebhookConfiguration.admissionregistration.k8s.io/v",
                "0 Widget.example.com/ns/w",
                "0 Deployment.apps/ns/web",
                "0 ConfigMap/ns/cm",
                "0 Role.example.com/ns/not-rbac",
                "0 StorageClass.storage.k8s.io/fast",
                "0 RoleBinding.rbac.authorization.k8s.io/ns/rb",
                "0 ServiceAccount/ns/sa",
                "0 ClusterRole.rbac.authorization.k8s.io/cr",
                "0 CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com",
                "-1 ConfigMap/ns/early",
                "0 Namespace/ns",
            ]
        );
    }

    fn any_object() -> impl Strategy<Value = (i64, ObjectRef)> {
        let kinds = prop::sample::select(vec![
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            ("v1", "Namespace"),
            ("v1", "ServiceAccount"),
            ("v1", "ConfigMap"),
            ("rbac.authorization.k8s.io/v1", "Role"),
            ("storage.k8s.io/v1", "StorageClass"),
            ("apps/v1", "Deployment"),
            ("a.example.com/v1", "Widget"),
            ("a.example.com/v1", "WidgetClass"),
            ("b.example.com/v1", "Role"),
            ("b.example.com/v1", "Namespace"),
            (
                "admissionregistration.k8s.io/v1",
                "MutatingWebhookConfiguration",
            ),
        ]);
        (
            -2_i64..3,
            kinds,
            prop::option::of(prop::sample::select(vec!["a", "b"])),
            prop::sample::select(vec!["x", "y", "z"]),
        )
            .prop_map(|(w, (av, kind), ns, name)| (w, r(av, kind, ns, name)))
    }

    proptest! {
        /// Both orders are total (antisymmetric, transitive, equal only for equal items) and
        /// deterministic (the input order does not matter).
        #[test]
        fn orders_are_total_and_deterministic(items in prop::collection::vec(any_object(), 0..30)) {
            for cmp in [reconcile_cmp, prune_cmp] {
                for a in &items {
                    for b in &items {
                        let ab = cmp((a.0, &a.1), (b.0, &b.1));
                        prop_assert_eq!(ab, cmp((b.0, &b.1), (a.0, &a.1)).reverse());
                        prop_assert_eq!(ab == Ordering::Equal, a == b);
                        for c in &items {
                            if ab != Ordering::Greater && cmp((b.0, &b.1), (c.0, &c.1)) != Ordering::Greater {
                                prop_assert_ne!(cmp((a.0, &a.1), (c.0, &c.1)), Ordering::Greater);
                            }
                        }
                    }
                }
            }
            let mut forward = items.clone();
            let mut backward: Vec<_> = items.iter().rev().cloned().collect();
            sort_reconcile(&mut forward, |(w, k)| (*w, k));
            sort_reconcile(&mut backward, |(w, k)| (*w, k));
            prop_assert_eq!(&forward, &backward);
            sort_prune(&mut forward, |(w, k)| (*w, k));
            sort_prune(&mut backward, |(w, k)| (*w, k));
            prop_assert_eq!(forward, backward);
        }

        /// Within a wave, the CRD (any CRD) comes before every custom resource, and in prune
        /// order after them; Namespaces are pruned last.
        #[test]
        fn crds_come_before_their_custom_resources(items in prop::collection::vec(any_object(), 0..30)) {
            let mut sorted = items.clone();
            sort_reconcile(&mut sorted, |(w, k)| (*w, k));
            let custom = |k: &ObjectRef| k.group.ends_with("example.com");
            for (i, (w, k)) in sorted.iter().enumerate() {
                if is_crd(k) {
                    prop_assert!(!sorted[..i].iter().any(|(w2, k2)| w2 == w && custom(k2)), "{:?}", sorted);
                }
            }
            sort_prune(&mut sorted, |(w, k)| (*w, k));
            for (i, (w, k)) in sorted.iter().enumerate() {
                if is_crd(k) {
                    prop_assert!(!sorted[i..].iter().any(|(w2, k2)| w2 == w && custom(k2)), "{:?}", sorted);
                }
                if is_namespace(k) {
                    prop_assert!(sorted[i..].iter().all(|(_, k2)| is_namespace(k2)), "{:?}", sorted);
                }
            }
        }
    }
}
