//! STACKIT worker pools (`machineClasses` in `cluster.yaml`) rendered into Gardener
//! machine-controller-manager `MachineClass` objects: overlay defaults, the provider's
//! validation rules, userData moved into the Secret MCM reads, and the replacement key.

use plinth_vocab::labels::ANNOTATION_REPLACEMENT_KEY;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::{Pool, Pools, Report, labels_without_nulls, null_as_default};
use crate::overlay::OneOf;
use crate::source::{Source, join_beside};
use plinth_vocab::Problem;
use plinth_vocab::names::{is_cidr, is_dns_subdomain, is_uuid};
use plinth_vocab::quantity::Quantity;

/// API version of the rendered machine classes.
pub const API_VERSION: &str = "machine.sapcloud.io/v1alpha1";
/// Kind of the rendered machine classes.
pub const KIND: &str = "MachineClass";
/// The asset name machine classes (and their userData Secrets) are rendered under.
pub const ASSET: &str = "machine-classes";
/// The sync wave of machine classes: after the platform baseline.
pub const WAVE: i64 = 10;
/// The `provider` of every rendered machine class.
pub const PROVIDER: &str = "stackit";
/// Namespace of a pool that names none (and whose defaults name none).
pub const DEFAULT_NAMESPACE: &str = "machine-controller-manager";
/// Key of the Secret data that MCM hands to the provider as cloud-init.
pub const USER_DATA_KEY: &str = "userData";
/// Where pool defaults sit in the merged overlay values / cluster params.
pub const DEFAULTS_PATH: [&str; 2] = ["stackit", "machineClassDefaults"];

/// providerSpec fields whose change makes machine-controller-manager replace servers: every
/// field the STACKIT API fixes at creation. `labels` and `metadata` are left out because the
/// API updates them in place (`UpdateServerPayload`).
pub const REPLACEMENT_FIELDS: [&str; 14] = [
    "affinityGroup",
    "agent",
    "allowedAddresses",
    "availabilityZone",
    "bootVolume",
    "imageId",
    "keypairName",
    "machineType",
    "networking",
    "region",
    "securityGroups",
    "serviceAccountMails",
    "userData",
    "volumes",
];

/// A reference to a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Exactly one of `networkId` or `nicIds`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Networking {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nic_ids: Option<Vec<String>>,
}

/// Where a boot volume comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BootVolumeSource {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// The server's boot volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct BootVolume {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_on_termination: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance_class: Option<String>,
    /// Size in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<BootVolumeSource>,
}

/// STACKIT server agent options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Agent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<bool>,
}

/// The STACKIT provider's `providerSpec`. Every field is optional here because overlay
/// defaults fill them in; [`validate`] says which are required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(
        deserialize_with = "labels_without_nulls",
        skip_serializing_if = "Option::is_none"
    )]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networking: Option<Networking>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_addresses: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    /// Inline cloud-init (plain text); rendered into the userData Secret, never left here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_volume: Option<BootVolume>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keypair_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity_group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_mails: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// What the cluster autoscaler needs to scale a pool from zero. `instanceType`, `region` and
/// `zone` default to the providerSpec's machine type, region and availability zone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeTemplate {
    #[serde(deserialize_with = "null_as_default")]
    pub capacity: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_capacity: Option<BTreeMap<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
}

/// One STACKIT worker pool as declared under `machineClasses:` in `cluster.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MachineClassPool {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub provider_spec: ProviderSpec,
    /// A Secret you manage (credentials and/or userData). Not allowed together with userData,
    /// since plinth then renders the Secret itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_template: Option<NodeTemplate>,
    /// cloud-init from a file, relative to the cluster's folder, inside the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data_file: Option<String>,
}

/// Pool defaults carried by overlays (`values.stackit.machineClassDefaults`) or the cluster's
/// `params`; deep-merged under every pool, the pool winning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MachineClassDefaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_spec: Option<ProviderSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_template: Option<NodeTemplate>,
}

// ---------------------------------------------------------------------------------------------
// Rules of the STACKIT API.

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in pattern compiles")
}

static REGION: LazyLock<Regex> = LazyLock::new(|| re(r"^[a-z0-9]+$"));
static MACHINE_TYPE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[a-z]+\d+[a-z]*\.\d+[a-z]*(\.[a-z]+\d+)*$"));
static AVAILABILITY_ZONE: LazyLock<Regex> = LazyLock::new(|| re(r"^[a-z0-9]+-(?:\d+|m)$"));
static KEYPAIR: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z0-9@._-]*$"));
static GENERIC_NAME: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[A-Za-z0-9]+([ /._-]*[A-Za-z0-9]+)*$"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^[a-z0-9-]+(?:\.[a-z0-9]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
    )
});
static METADATA_KEY: LazyLock<Regex> = LazyLock::new(|| re(r"^[a-zA-Z0-9\-_:. ]{1,255}$"));
static STACKIT_LABEL_KEY: LazyLock<Regex> =
    LazyLock::new(|| re(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"));
static STACKIT_LABEL_VALUE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])*$"));

// ---------------------------------------------------------------------------------------------
// Validation.

/// The userData of a pool, read and decided.
#[derive(Clone, PartialEq, Eq)]
pub struct UserData(pub Vec<u8>);

impl std::fmt::Debug for UserData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserData(<{} bytes redacted>)", self.0.len())
    }
}

fn uuid_rule(r: &mut Report<'_>, field: &str, value: &str) {
    if !is_uuid(value) {
        r.add(
            field,
            format!("`{value}` is not a lowercase UUID (8-4-4-4-12 hex digits, e.g. `d61a8564-c8dd-4ffb-bc15-143e7d0c85ed`)"),
        );
    }
}

fn secret_ref_rule(r: &mut Report<'_>, field: &str, sref: &SecretRef) {
    if !is_dns_subdomain(&sref.name, 253) {
        r.add(
            format!("{field}.name"),
            format!(
                "`{}` is not a valid Secret name (a DNS subdomain)",
                sref.name
            ),
        );
    }
    r.namespace(format!("{field}.namespace"), sref.namespace.as_deref());
}

/// Checks a pool (defaults already merged) against every rule of the STACKIT provider and
/// machine-controller-manager; every problem is added to `r`.
pub(crate) fn validate(pool: &MachineClassPool, r: &mut Report<'_>) {
    // Class names become the value of the `kubernetes.io/machineclass` server label.
    if !is_dns_subdomain(&pool.name, 63) {
        r.add(
            "name",
            format!(
                "`{}` must be a DNS subdomain of at most 63 characters (lowercase letters, digits, `-`, `.`)",
                pool.name
            ),
        );
    }
    r.namespace("namespace", pool.namespace.as_deref());
    let ps = &pool.provider_spec;
    match &ps.region {
        None => r.add("providerSpec.region", "is required (e.g. `eu01`)"),
        Some(v) if !REGION.is_match(v) => r.add(
            "providerSpec.region",
            format!("`{v}` must match `^[a-z0-9]+$` (e.g. `eu01`)"),
        ),
        Some(_) => {}
    }
    match &ps.machine_type {
        None => r.add("providerSpec.machineType", "is required (e.g. `c1.2`)"),
        Some(v) if !MACHINE_TYPE.is_match(v) => r.add(
            "providerSpec.machineType",
            format!(
                "`{v}` is not a STACKIT machine type (`^[a-z]+\\d+[a-z]*\\.\\d+[a-z]*(\\.[a-z]+\\d+)*$`, e.g. `c1.2`, `g1a.8d`)"
            ),
        ),
        Some(_) => {}
    }
    if let Some(v) = &ps.image_id {
        uuid_rule(r, "providerSpec.imageId", v);
    }
    let source = ps.boot_volume.as_ref().and_then(|b| b.source.as_ref());
    if ps.image_id.is_none() && source.is_none() {
        r.add(
            "providerSpec.imageId",
            "either `imageId` or `bootVolume.source` is required",
        );
    }
    if let Some(bv) = &ps.boot_volume {
        if let Some(size) = bv.size
            && size < 1
        {
            r.add(
                "providerSpec.bootVolume.size",
                format!("{size} must be at least 1 (GB)"),
            );
        }
        if let Some(pc) = &bv.performance_class
            && (pc.len() > 127 || !GENERIC_NAME.is_match(pc))
        {
            r.add(
                "providerSpec.bootVolume.performanceClass",
                format!("`{pc}` is not a valid performance class name"),
            );
        }
        if let Some(src) = &bv.source {
            if !matches!(src.kind.as_str(), "image" | "snapshot" | "volume") {
                r.add(
                    "providerSpec.bootVolume.source.type",
                    format!(
                        "`{}` must be one of `image`, `snapshot`, `volume`",
                        src.kind
                    ),
                );
            }
            uuid_rule(r, "providerSpec.bootVolume.source.id", &src.id);
        }
    }
    match &ps.networking {
        None => r.add(
            "providerSpec.networking",
            "is required: give exactly one of `networkId` or `nicIds`",
        ),
        Some(Networking {
            network_id: Some(_),
            nic_ids: Some(_),
        }) => r.add(
            "providerSpec.networking",
            "give exactly one of `networkId` or `nicIds`, not both",
        ),
        Some(Networking {
            network_id: None,
            nic_ids: None,
        }) => r.add(
            "providerSpec.networking",
            "give exactly one of `networkId` or `nicIds`",
        ),
        Some(Networking {
            network_id: Some(id),
            nic_ids: None,
        }) => uuid_rule(r, "providerSpec.networking.networkId", id),
        Some(Networking {
            network_id: None,
            nic_ids: Some(ids),
        }) => {
            if ids.is_empty() {
                r.add(
                    "providerSpec.networking.nicIds",
                    "must name at least one NIC",
                );
            }
            for (i, id) in ids.iter().enumerate() {
                uuid_rule(r, &format!("providerSpec.networking.nicIds[{i}]"), id);
            }
        }
    }
    for (i, cidr) in ps.allowed_addresses.iter().flatten().enumerate() {
        if !is_cidr(cidr) {
            r.add(
                format!("providerSpec.allowedAddresses[{i}]"),
                format!("`{cidr}` is not a CIDR (e.g. `10.96.0.0/12`, `fd00::/64`)"),
            );
        }
    }
    for (i, sg) in ps.security_groups.iter().flatten().enumerate() {
        if sg.len() > 127 || !GENERIC_NAME.is_match(sg) {
            r.add(
                format!("providerSpec.securityGroups[{i}]"),
                format!("`{sg}` is not a valid security group name or id"),
            );
        }
    }
    for (i, v) in ps.volumes.iter().flatten().enumerate() {
        uuid_rule(r, &format!("providerSpec.volumes[{i}]"), v);
    }
    if let Some(k) = &ps.keypair_name {
        if k.chars().count() > 127 {
            r.add(
                "providerSpec.keypairName",
                format!(
                    "is {} characters long; at most 127 are allowed",
                    k.chars().count()
                ),
            );
        }
        if !KEYPAIR.is_match(k) {
            r.add(
                "providerSpec.keypairName",
                format!("`{k}` may only hold letters, digits and `@`, `.`, `_`, `-`"),
            );
        }
    }
    if let Some(az) = &ps.availability_zone
        && !AVAILABILITY_ZONE.is_match(az)
    {
        r.add(
            "providerSpec.availabilityZone",
            format!("`{az}` must look like `eu01-1` or `eu01-m` (`^[a-z0-9]+-(?:\\d+|m)$`)"),
        );
    }
    if let Some(ag) = &ps.affinity_group {
        uuid_rule(r, "providerSpec.affinityGroup", ag);
    }
    if let Some(mails) = &ps.service_account_mails {
        if mails.len() > 1 {
            r.add(
                "providerSpec.serviceAccountMails",
                format!(
                    "names {} service accounts; a server takes at most 1",
                    mails.len()
                ),
            );
        }
        for (i, m) in mails.iter().enumerate() {
            if m.len() > 255 || !EMAIL.is_match(m) {
                r.add(
                    format!("providerSpec.serviceAccountMails[{i}]"),
                    format!("`{m}` is not an e-mail address"),
                );
            }
        }
    }
    for (k, v) in ps.metadata.iter().flatten() {
        if !METADATA_KEY.is_match(k) {
            r.add(
                format!("providerSpec.metadata.{k}"),
                "metadata keys are 1 to 255 characters of letters, digits, `-`, `_`, `:`, `.` and space",
            );
        }
        if let Value::String(s) = v
            && (s.chars().count() > 255 || s.contains('\n'))
        {
            r.add(
                format!("providerSpec.metadata.{k}"),
                "metadata values are single lines of at most 255 characters",
            );
        }
    }
    for (k, v) in ps.labels.iter().flatten() {
        let field = format!("providerSpec.labels.{k}");
        if k.starts_with("stackit-") {
            r.add(
                &field,
                format!("label key `{k}`: the `stackit-` prefix is reserved by STACKIT"),
            );
        } else if k.is_empty() || k.len() > 63 || !STACKIT_LABEL_KEY.is_match(k) {
            r.add(
                &field,
                format!("label key `{k}` must be 1 to 63 characters of letters, digits, `-`, `_`, `.`, beginning and ending with a letter or digit"),
            );
        }
        if v.len() > 63 || !STACKIT_LABEL_VALUE.is_match(v) {
            r.add(
                &field,
                format!("label value `{v}` must be at most 63 characters of letters, digits, `-`, `_`, `.`, beginning and ending with a letter or digit"),
            );
        }
    }
    if ps.user_data.is_some() && pool.user_data_file.is_some() {
        r.add(
            "userDataFile",
            "give userData either inline (`providerSpec.userData`) or from a file (`userDataFile`), not both",
        );
    }
    let has_user_data = ps.user_data.is_some() || pool.user_data_file.is_some();
    if has_user_data && pool.secret_ref.is_some() {
        r.add(
            "secretRef",
            "plinth renders the userData Secret itself; with userData, use `credentialsSecretRef` for the credentials and leave `secretRef` out",
        );
    }
    if pool.secret_ref.is_none() && pool.credentials_secret_ref.is_none() {
        r.add(
            "credentialsSecretRef",
            "the provider needs credentials: give `credentialsSecretRef` (or a `secretRef` that holds them)",
        );
    }
    if let Some(s) = &pool.secret_ref {
        secret_ref_rule(r, "secretRef", s);
    }
    if let Some(s) = &pool.credentials_secret_ref {
        secret_ref_rule(r, "credentialsSecretRef", s);
    }
    if let Some(nt) = &pool.node_template {
        if nt.capacity.is_empty() {
            r.add(
                "nodeTemplate.capacity",
                "is required (e.g. `cpu: 4`, `memory: 16Gi`, `gpu: 0`)",
            );
        }
        for (field, map) in [
            ("capacity", Some(&nt.capacity)),
            ("virtualCapacity", nt.virtual_capacity.as_ref()),
        ] {
            for (k, v) in map.into_iter().flatten() {
                let ok = match v {
                    Value::Number(n) => n.is_i64() || n.is_u64(),
                    Value::String(s) => Quantity::parse(s).is_some(),
                    _ => false,
                };
                if !ok {
                    r.add(
                        format!("nodeTemplate.{field}.{k}"),
                        format!("`{v}` is not a Kubernetes quantity (e.g. `4`, `500m`, `16Gi`)"),
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering.

fn read_user_data(
    cluster_path: &str,
    source: &Source,
    file: &str,
    limit: u64,
    r: &mut Report<'_>,
) -> Option<Vec<u8>> {
    let path = match join_beside(cluster_path, file) {
        Ok(p) => p,
        Err(e) => {
            r.add("userDataFile", e.to_string());
            return None;
        }
    };
    match source.is_file(&path) {
        Ok(true) => {}
        Ok(false) => {
            r.add(
                "userDataFile",
                format!("`{path}` does not exist (paths are relative to the cluster's folder)"),
            );
            return None;
        }
        Err(e) => {
            r.add("userDataFile", e.to_string());
            return None;
        }
    }
    match source.read(&path, limit) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            r.add("userDataFile", e.to_string());
            None
        }
    }
}

/// The name of the Secret plinth renders for a pool's userData.
pub fn user_data_secret_name(pool: &str) -> String {
    format!("{pool}-userdata")
}

/// The exactly-one-of groups of a pool: a layer giving `networkId` drops an inherited
/// `nicIds` and the other way round.
pub const ONE_OF: &[OneOf] = &[OneOf {
    path: &["providerSpec", "networking"],
    keys: &["networkId", "nicIds"],
}];

impl Pool for MachineClassPool {
    type Defaults = MachineClassDefaults;
    const KIND: &'static str = KIND;
    const LIST: &'static str = "machineClasses";
    const DEFAULTS_PATH: [&'static str; 2] = DEFAULTS_PATH;
    const ONE_OF: &'static [OneOf] = ONE_OF;
    const MERGE_FAILURE: (&'static str, &'static str) = ("providerSpec", "pool defaults");
    fn name(&self) -> &str {
        &self.name
    }
}

/// Renders every pool of a cluster: each `MachineClass` and, for pools with userData, the
/// Secret that holds it (a `userDataFile` is read from `source`, at most `limit` bytes).
/// Problems of every pool are added to `problems`; objects are returned only for pools without
/// problems.
pub fn render(
    pools: &Pools<'_, MachineClassPool>,
    source: &Source,
    limit: u64,
    problems: &mut Vec<Problem>,
) -> Vec<Value> {
    pools
        .checked(problems, |pool, r| {
            validate(pool, r);
            match (&pool.provider_spec.user_data, &pool.user_data_file) {
                (Some(inline), None) => Some(inline.clone().into_bytes()),
                (None, Some(file)) => read_user_data(pools.path, source, file, limit, r),
                _ => None,
            }
        })
        .into_iter()
        .flat_map(|(pool, user_data)| objects_of(&pool, user_data.map(UserData).as_ref()))
        .collect()
}

/// The objects of one valid pool: its userData Secret (when it has userData) and its
/// `MachineClass`, stamped with the replacement key.
pub fn objects_of(pool: &MachineClassPool, user_data: Option<&UserData>) -> Vec<Value> {
    let namespace = pool
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    let mut out = Vec::new();
    let mut spec = pool.provider_spec.clone();
    spec.user_data = None;
    let provider_spec = serde_json::to_value(&spec).unwrap_or_else(|_| json!({}));
    let reference = |s: &SecretRef| {
        json!({
            "name": s.name,
            "namespace": s.namespace.clone().unwrap_or_else(|| namespace.clone()),
        })
    };
    let mut class = json!({
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": pool.name, "namespace": namespace},
        "provider": PROVIDER,
        "providerSpec": provider_spec,
    });
    let secret_ref = if let Some(ud) = user_data {
        let name = user_data_secret_name(&pool.name);
        out.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "type": "Opaque",
            "data": {USER_DATA_KEY: base64::engine::general_purpose::STANDARD.encode(&ud.0)},
        }));
        Some(json!({"name": name, "namespace": namespace}))
    } else {
        pool.secret_ref.as_ref().map(reference)
    };
    if let Some(s) = secret_ref {
        class["secretRef"] = s;
    }
    if let Some(c) = &pool.credentials_secret_ref {
        class["credentialsSecretRef"] = reference(c);
    }
    if let Some(nt) = &pool.node_template {
        let mut nt = nt.clone();
        let ps = &pool.provider_spec;
        nt.instance_type = nt.instance_type.or_else(|| ps.machine_type.clone());
        nt.region = nt.region.or_else(|| ps.region.clone());
        nt.zone = nt.zone.or_else(|| ps.availability_zone.clone());
        if let Ok(v) = serde_json::to_value(&nt) {
            class["nodeTemplate"] = v;
        }
    }
    let key = replacement_key(
        &class["providerSpec"],
        user_data
            .map(|u| base64::engine::general_purpose::STANDARD.encode(&u.0))
            .as_deref(),
    );
    class["metadata"]["annotations"] = json!({ANNOTATION_REPLACEMENT_KEY: key});
    out.push(class);
    out
}

/// A stable hash of the providerSpec fields whose change makes machine-controller-manager
/// replace servers ([`REPLACEMENT_FIELDS`]), with the userData (base64, as it sits in the
/// Secret) standing in for `userData`: sha256 of their canonical JSON, first 16 hex digits.
pub fn replacement_key(provider_spec: &Value, user_data_b64: Option<&str>) -> String {
    let mut picked = Map::new();
    for field in REPLACEMENT_FIELDS {
        if let Some(v) = provider_spec.get(field) {
            picked.insert(field.to_owned(), v.clone());
        }
    }
    if let Some(ud) = user_data_b64 {
        picked.insert("userData".to_owned(), Value::String(ud.to_owned()));
    }
    let bytes = serde_json::to_vec(&Value::Object(picked)).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))[..16].to_owned()
}

/// Recomputes the replacement key of every rendered `MachineClass` from its final
/// providerSpec and the userData of the Secret its `secretRef` names (patches may have
/// changed either), and stamps it again.
pub fn restamp_replacement_keys(objects: &mut [Value]) {
    let mut user_data: BTreeMap<(String, String), String> = BTreeMap::new();
    for o in objects.iter() {
        if o["kind"] == "Secret"
            && let (Some(ns), Some(name), Some(ud)) = (
                o.pointer("/metadata/namespace").and_then(Value::as_str),
                o.pointer("/metadata/name").and_then(Value::as_str),
                o.pointer("/data/userData").and_then(Value::as_str),
            )
        {
            user_data.insert((ns.to_owned(), name.to_owned()), ud.to_owned());
        }
    }
    for o in objects.iter_mut() {
        if o["kind"] != KIND || o["apiVersion"] != API_VERSION {
            continue;
        }
        let reference = o.get("secretRef").and_then(|s| {
            Some((
                s.get("namespace")?.as_str()?.to_owned(),
                s.get("name")?.as_str()?.to_owned(),
            ))
        });
        let ud = reference
            .and_then(|k| user_data.get(&k).cloned())
            .or_else(|| {
                o.pointer("/providerSpec/userData")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        let key = replacement_key(&o["providerSpec"], ud.as_deref());
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            let ann = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(ann) = ann.as_object_mut() {
                ann.insert(ANNOTATION_REPLACEMENT_KEY.to_owned(), Value::String(key));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_key_ignores_labels_and_metadata() {
        let a = json!({"machineType": "c1.2", "labels": {"a": "1"}, "metadata": {"x": "y"}});
        let b = json!({"machineType": "c1.2", "labels": {"a": "2"}});
        let c = json!({"machineType": "c1.3"});
        assert_eq!(replacement_key(&a, None), replacement_key(&b, None));
        assert_ne!(replacement_key(&a, None), replacement_key(&c, None));
        assert_ne!(replacement_key(&a, None), replacement_key(&a, Some("eA==")));
        assert_eq!(replacement_key(&a, None).len(), 16);
    }

    #[test]
    fn user_data_is_redacted_in_debug_output() {
        let ud = UserData(b"password: hunter2".to_vec());
        assert!(!format!("{ud:?}").contains("hunter2"));
    }
}
