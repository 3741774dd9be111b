//! Optional RBAC checks ([`RbacRule`], `Scenario::with_rbac`): every resource request is
//! matched against a ClusterRole-like rule list, and a request no rule allows gets `403` with
//! the real server's `Forbidden` message (`<resource>.<group> "<name>" is forbidden: User
//! "<user>" cannot <verb> resource "<resource>" in API group "<group>" in the namespace
//! "<ns>"` or `... at the cluster scope`). Discovery (`/api`, `/apis`, group versions) is
//! always allowed, as `system:discovery` allows it to every authenticated user.

use std::collections::BTreeMap;

use http::Method;
use serde_json::Value;

use crate::reply::{Reply, forbidden};

/// One rule of a `ClusterRole` (any namespace and the cluster scope) or of a `Role` (only its
/// namespaces): API groups, resources (`<plural>` or `<plural>/<subresource>`, `*`,
/// `*/<subresource>`) and verbs (`get`, `list`, `watch`, `create`, `update`, `patch`,
/// `delete`, `deletecollection`, `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacRule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    /// `None`: every namespace and cluster-scoped requests (a `ClusterRole`); otherwise only
    /// namespaced requests in these namespaces (a `Role` bound there).
    pub namespaces: Option<Vec<String>>,
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl RbacRule {
    /// A cluster-wide rule.
    pub fn new(api_groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        Self {
            api_groups: owned(api_groups),
            resources: owned(resources),
            verbs: owned(verbs),
            namespaces: None,
        }
    }

    /// The same rule limited to namespaced requests in `namespaces`.
    #[must_use]
    pub fn in_namespaces(mut self, namespaces: &[&str]) -> Self {
        self.namespaces = Some(owned(namespaces));
        self
    }

    /// The rules of a `ClusterRole` or a `Role` object (a Role's rules hold in its
    /// namespace only); `resourceNames` and `nonResourceURLs` rules are not modelled and
    /// left out.
    pub fn from_role(role: &Value) -> Vec<Self> {
        let namespace = (role.get("kind").and_then(Value::as_str) == Some("Role")).then(|| {
            role.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        });
        let strings = |rule: &Value, field: &str| -> Vec<String> {
            rule.get(field)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        role.get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|rule| rule.get("resourceNames").is_none() && rule.get("resources").is_some())
            .map(|rule| Self {
                api_groups: strings(rule, "apiGroups"),
                resources: strings(rule, "resources"),
                verbs: strings(rule, "verbs"),
                namespaces: namespace.clone().map(|n| vec![n]),
            })
            .collect()
    }

    fn allows(&self, r: &Attributes) -> bool {
        let has = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
        let resource_ok = self.resources.iter().any(|x| {
            x == "*"
                || *x == r.resource
                || r.resource
                    .split_once('/')
                    .is_some_and(|(_, sub)| x.strip_prefix("*/") == Some(sub))
        });
        let namespace_ok = match (&self.namespaces, &r.namespace) {
            (None, _) => true,
            (Some(list), Some(ns)) => list.contains(ns),
            (Some(_), None) => false,
        };
        has(&self.verbs, r.verb) && has(&self.api_groups, &r.group) && resource_ok && namespace_ok
    }
}

/// What a resource request asks, as the authorizer sees it.
#[derive(Debug)]
pub(crate) struct Attributes {
    pub(crate) verb: &'static str,
    group: String,
    /// `<plural>` or `<plural>/<subresource>`.
    resource: String,
    namespace: Option<String>,
    name: Option<String>,
}

/// The attributes of a request; `None` for discovery and paths that name no resource.
pub(crate) fn attributes(
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
) -> Option<Attributes> {
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let (group, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, _, rest @ ..] => (*group, rest),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(*ns), tail),
        ["namespaces", ns] => (Some(*ns), rest),
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return None,
    };
    let verb = match (method, name) {
        (&Method::GET, _) if query.get("watch").is_some_and(|w| w == "true" || w == "1") => "watch",
        (&Method::GET, Some(_)) => "get",
        (&Method::GET, None) => "list",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, Some(_)) => "delete",
        (&Method::DELETE, None) => "deletecollection",
        _ => return None,
    };
    Some(Attributes {
        verb,
        group: group.to_owned(),
        resource: match sub {
            Some(sub) => format!("{plural}/{sub}"),
            None => plural.to_owned(),
        },
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
    })
}

/// `403` when no rule allows the request of `user`.
pub(crate) fn check(rules: &[RbacRule], user: &str, r: &Attributes) -> Option<Reply> {
    if rules.iter().any(|rule| rule.allows(r)) {
        return None;
    }
    let plural = r.resource.split('/').next().unwrap_or_default();
    let qualified = if r.group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{}", r.group)
    };
    let what = match &r.name {
        Some(name) => format!("{qualified} \"{name}\""),
        None => qualified,
    };
    let scope = match &r.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    let message = format!(
        "{what} is forbidden: User \"{user}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
        r.verb, r.resource, r.group
    );
    Some(forbidden(
        &message,
        &r.group,
        plural,
        r.name.as_deref().unwrap_or(""),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(method: &Method, path: &str) -> Attributes {
        attributes(method, path, &BTreeMap::new()).unwrap()
    }

    #[test]
    fn paths_give_verb_group_resource_and_namespace() {
        let a = attrs(&Method::PATCH, "/apis/apps/v1/namespaces/x/deployments/web");
        assert_eq!(
            (a.verb, a.group.as_str(), a.resource.as_str()),
            ("patch", "apps", "deployments")
        );
        assert_eq!(a.namespace.as_deref(), Some("x"));
        let ns = attrs(&Method::GET, "/api/v1/namespaces/x");
        assert_eq!(
            (ns.verb, ns.resource.as_str(), ns.name.as_deref()),
            ("get", "namespaces", Some("x"))
        );
        let scale = attrs(
            &Method::PATCH,
            "/apis/apps/v1/namespaces/x/deployments/web/scale",
        );
        assert_eq!(scale.resource, "deployments/scale");
        assert!(attributes(&Method::GET, "/apis/apps/v1", &BTreeMap::new()).is_none());
    }

    #[test]
    fn roles_hold_in_their_namespace_wildcards_match() {
        let role = RbacRule::new(&["apps"], &["deployments"], &["get"]).in_namespaces(&["x"]);
        let any_scale = RbacRule::new(&["*"], &["*/scale"], &["*"]);
        let cases = [
            (
                &role,
                Method::GET,
                "/apis/apps/v1/namespaces/x/deployments/a",
                true,
            ),
            (
                &role,
                Method::GET,
                "/apis/apps/v1/namespaces/y/deployments/a",
                false,
            ),
            (&role, Method::GET, "/apis/apps/v1/deployments", false),
            (
                &any_scale,
                Method::PATCH,
                "/apis/apps/v1/namespaces/x/deployments/w/scale",
                true,
            ),
            (
                &any_scale,
                Method::PATCH,
                "/apis/apps/v1/namespaces/x/deployments/w",
                false,
            ),
        ];
        for (rule, method, path, allowed) in cases {
            assert_eq!(
                rule.allows(&attrs(&method, path)),
                allowed,
                "{method} {path}"
            );
        }
    }
}
