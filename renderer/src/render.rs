//! The render pipeline of one cluster: load its facts, decide every asset, render the
//! HyperConverged first (later templates and conditions see it as `hco`), then the rest in
//! reconcile order; apply overlay and cluster patches; stamp plinth's labels and the sync
//! wave; refuse two objects with one identity.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::builtin;
use crate::catalog::{Asset, Catalog};
use crate::cluster::Cluster;
use crate::decide::{Decision, Facts};
use crate::error::{RenderError, Result};
use crate::inventory::Inventory;
use crate::overlay::{Overlay, Patch, deep_merge};
use crate::pools::{self, stackit, vpsie};
use crate::settings::{BUILTIN, Settings};
use crate::source::Source;
use crate::template::Templates;
use plinth_vocab::ObjectRef;
use plinth_vocab::labels::{
    ANNOTATION_SYNC_WAVE, LABEL_ASSET, LABEL_CLUSTER, LABEL_MANAGED_BY, MANAGED_BY_PLINTH,
};
use plinth_vocab::yaml;

/// plinth's version, recorded in every index and input digest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One rendered object.
#[derive(Debug, Clone)]
pub struct RenderedObject {
    pub asset: String,
    pub wave: i64,
    pub identity: ObjectRef,
    pub value: Value,
}

/// Everything rendered for one cluster.
#[derive(Debug, Clone)]
pub struct RenderedCluster {
    pub name: String,
    /// Objects in render order (apply order is decided by the output).
    pub objects: Vec<RenderedObject>,
    /// Every asset's decision, in catalog order.
    pub decisions: Vec<Decision>,
    pub input_digest: String,
}

/// A cluster's inputs, read and parsed, before anything is rendered.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub cluster: Cluster,
    pub inventory: Option<Inventory>,
    pub overlays: Vec<Arc<Overlay>>,
    pub input_digest: String,
}

impl Prepared {
    /// The cluster's `clouds.stackit`, composed: each overlay's in order (a later one wins),
    /// then `cluster.yaml`'s, field by field; with the file each field came from. `None` when
    /// neither sets it.
    pub fn stackit_cloud(&self) -> Option<crate::clouds::Sourced<crate::clouds::StackitCloud>> {
        self.cloud(|c| c.stackit.as_ref())
    }

    /// The cluster's `clouds.vpsie`, composed as [`Prepared::stackit_cloud`] is.
    pub fn vpsie_cloud(&self) -> Option<crate::clouds::Sourced<crate::clouds::VpsieCloud>> {
        self.cloud(|c| c.vpsie.as_ref())
    }

    fn cloud<T: crate::clouds::CloudSettings>(
        &self,
        of: impl Fn(&crate::clouds::Clouds) -> Option<&T>,
    ) -> Option<crate::clouds::Sourced<T>> {
        let layers = self
            .overlays
            .iter()
            .map(|o| (o.path.as_str(), of(&o.clouds)))
            .chain([(self.cluster.path.as_str(), of(&self.cluster.spec.clouds))]);
        T::compose(layers)
    }
}

/// A platform repository opened for rendering: settings, catalog and templates.
#[derive(Debug)]
pub struct Fleet {
    pub settings: Settings,
    pub source: Source,
    pub catalog: Catalog,
    catalog_source: Source,
    templates: Templates,
    shared_digest: Vec<u8>,
    /// Overlays are shared by many clusters: each is read, parsed and hashed once per fleet.
    overlays: Mutex<BTreeMap<String, LoadedOverlay>>,
    /// Each asset's `asset` template value, by asset name: the same for every cluster.
    asset_contexts: BTreeMap<String, minijinja::Value>,
}

/// An overlay and the sha256 of its file.
type LoadedOverlay = (Arc<Overlay>, [u8; 32]);

/// Converts a serialisable value into a template value.
fn template_value<T: serde::Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

fn hash(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

impl Fleet {
    /// Opens the repository in `source`: reads `plinth.yaml` and the catalog.
    pub fn open(source: Source) -> Result<Self> {
        let (settings, settings_bytes) = Settings::load(&source)?;
        let limit = settings.limits.max_file_bytes;
        let (catalog_source, catalog_path, shown) = match settings.paths.catalog.as_deref() {
            Some(BUILTIN) => (
                builtin::source(),
                builtin::CATALOG.to_owned(),
                builtin::PREFIX,
            ),
            Some(path) => (source.clone(), crate::source::normalize(path)?, ""),
            None if source.is_file("assets/metadata.yaml")? => {
                (source.clone(), "assets/metadata.yaml".to_owned(), "")
            }
            None => (
                builtin::source(),
                builtin::CATALOG.to_owned(),
                builtin::PREFIX,
            ),
        };
        let catalog = Catalog::load(&catalog_source, &catalog_path, limit, shown)?;
        let templates = Templates::new(
            catalog_source.clone(),
            &catalog_path,
            shown,
            settings.limits.template_fuel,
            limit,
        );
        let mut digest = Sha256::new();
        digest.update(format!("plinth {VERSION}\n").as_bytes());
        digest.update(hash(&settings_bytes));
        let catalog_dir = catalog_path.rsplit_once('/').map_or("", |(d, _)| d);
        // Everything beside the catalog (templates, includes) is an input of every cluster,
        // except the repository's own output, clusters and overlays, which are not templates
        // (clusters and overlays are hashed per cluster).
        let skip: Vec<String> = [
            &settings.paths.output,
            &settings.paths.clusters,
            &settings.paths.overlays,
        ]
        .iter()
        .filter_map(|p| crate::source::normalize(p).ok())
        .map(|p| format!("{p}/"))
        .collect();
        for file in catalog_source
            .files_under(catalog_dir)?
            .into_iter()
            .filter(|f| !skip.iter().any(|s| f.starts_with(s.as_str())))
        {
            digest.update(file.as_bytes());
            digest.update(hash(&catalog_source.read(&file, limit)?));
        }
        let asset_contexts = catalog
            .assets
            .iter()
            .map(|a| (a.name.clone(), template_value(a.to_context())))
            .collect();
        Ok(Self {
            settings,
            source,
            catalog,
            catalog_source,
            templates,
            shared_digest: digest.finalize().to_vec(),
            overlays: Mutex::default(),
            asset_contexts,
        })
    }

    /// The clusters of the repository, sorted by name.
    pub fn cluster_names(&self) -> Result<Vec<String>> {
        let dir = &self.settings.paths.clusters;
        let names = self.source.subdirs(dir)?;
        for n in &names {
            let path = format!("{dir}/{n}/cluster.yaml");
            if !self.source.is_file(&path)? {
                return Err(RenderError::Invalid {
                    path: format!("`{dir}/{n}`"),
                    message: "a cluster folder needs a `cluster.yaml`".into(),
                });
            }
        }
        Ok(names)
    }

    /// An overlay and the hash of its file, read once per fleet.
    fn overlay(&self, cluster: &Cluster, name: &str) -> Result<LoadedOverlay> {
        if let Some(hit) = self.overlays.lock().ok().and_then(|m| m.get(name).cloned()) {
            return Ok(hit);
        }
        let overlay = self.load_overlay(cluster, name)?;
        let limit = self.settings.limits.max_file_bytes;
        let (src, rel) = match overlay.path.strip_prefix(builtin::PREFIX) {
            Some(rel) => (builtin::source(), rel.to_owned()),
            None => (self.source.clone(), overlay.path.clone()),
        };
        let loaded = (Arc::new(overlay), hash(&src.read(&rel, limit)?));
        if let Ok(mut map) = self.overlays.lock() {
            map.insert(name.to_owned(), loaded.clone());
        }
        Ok(loaded)
    }

    fn load_overlay(&self, cluster: &Cluster, name: &str) -> Result<Overlay> {
        let limit = self.settings.limits.max_file_bytes;
        let dir = &self.settings.paths.overlays;
        crate::source::normalize(name)?;
        if name.contains('/') {
            return Err(RenderError::Invalid {
                path: format!("`{}`", cluster.path),
                message: format!("overlay name `{name}` must not contain `/`"),
            });
        }
        if self.source.is_file(&format!("{dir}/{name}/overlay.yaml"))? {
            return Overlay::load(&self.source, dir, name, limit, "");
        }
        let builtin = builtin::source();
        if builtin.is_file(&format!("overlays/{name}/overlay.yaml"))? {
            return Overlay::load(&builtin, "overlays", name, limit, builtin::PREFIX);
        }
        let known = builtin.subdirs("overlays")?.join(", ");
        Err(RenderError::Invalid {
            path: format!("`{}`", cluster.path),
            message: format!(
                "overlay `{name}` not found: no `{dir}/{name}/overlay.yaml` and no built-in overlay of that name (built-in: {known})"
            ),
        })
    }

    /// Reads and parses a cluster's inputs and computes its input digest; each file is read
    /// once.
    pub fn prepare(&self, name: &str) -> Result<Prepared> {
        self.read_inputs(name, true)
    }

    /// The input digest of a cluster alone (its inventory is hashed, not parsed): what
    /// `render` compares with the index to skip unchanged clusters.
    pub fn input_digest(&self, name: &str) -> Result<String> {
        Ok(self.read_inputs(name, false)?.input_digest)
    }

    fn read_inputs(&self, name: &str, parse_inventory: bool) -> Result<Prepared> {
        let limit = self.settings.limits.max_file_bytes;
        let clusters = &self.settings.paths.clusters;
        let dir = format!("{clusters}/{name}");
        let mut digest = Sha256::new();
        digest.update(&self.shared_digest);
        let mut read = |path: &str| -> Result<String> {
            let text = self.source.read_text(path, limit)?;
            digest.update(path.as_bytes());
            digest.update(hash(text.as_bytes()));
            Ok(text)
        };
        let cluster_path = format!("{dir}/cluster.yaml");
        let cluster = Cluster::parse(&read(&cluster_path)?, cluster_path, name)?;
        let inventory_path = format!("{dir}/inventory.yaml");
        let inventory = if !self.source.is_file(&inventory_path)? {
            None
        } else if parse_inventory {
            Some(yaml::from_str_data::<Inventory>(
                &read(&inventory_path)?,
                &inventory_path,
            )?)
        } else {
            read(&inventory_path)?;
            None
        };
        let user_data: Vec<String> = cluster
            .spec
            .machine_classes
            .iter()
            .filter_map(|mc| {
                mc.user_data_file
                    .as_deref()
                    .and_then(|f| crate::source::join_beside(&cluster.path, f).ok())
            })
            .collect();
        for path in user_data {
            if self.source.is_file(&path)? {
                read(&path)?;
            }
        }
        let mut overlays = Vec::with_capacity(cluster.spec.overlays.len());
        for name in &cluster.spec.overlays {
            let (overlay, file_hash) = self.overlay(&cluster, name)?;
            digest.update(overlay.path.as_bytes());
            digest.update(file_hash);
            overlays.push(overlay);
        }
        Ok(Prepared {
            cluster,
            inventory,
            overlays,
            input_digest: format!("sha256:{}", hex::encode(digest.finalize())),
        })
    }

    /// Decides and renders every asset for a prepared cluster.
    pub fn render(&self, prepared: &Prepared) -> Result<RenderedCluster> {
        let Prepared {
            cluster,
            inventory,
            overlays,
            input_digest,
        } = prepared;
        let spec = &cluster.spec;
        let context = ClusterContext::new(prepared);

        let mut patches: Vec<(String, &Patch, bool)> = Vec::new();
        for o in overlays {
            for (i, p) in o.patches.iter().enumerate() {
                patches.push((o.patch_label(i), p, false));
            }
        }
        for (i, p) in spec.patches.iter().enumerate() {
            p.validate(&cluster.patch_label(i))?;
            patches.push((cluster.patch_label(i), p, false));
        }

        let mut hco: Option<Value> = None;
        let mut hco_ctx: Option<minijinja::Value> = None;
        let mut decisions = Vec::with_capacity(self.catalog.assets.len());
        let mut objects: Vec<RenderedObject> = Vec::new();
        let mut seen: BTreeMap<ObjectRef, String> = BTreeMap::new();
        for asset in self.catalog.render_order() {
            let facts = Facts {
                cluster,
                inventory: inventory.as_ref(),
                hco: hco.as_ref(),
            };
            let decision = facts.decide(&self.catalog, asset);
            let included = decision.included;
            decisions.push(decision);
            if !included {
                continue;
            }
            let ctx = context.for_asset(asset, self.asset_context(asset), hco_ctx.as_ref());
            let text = self.asset_text(asset, ctx)?;
            let docs =
                yaml::from_str_multi(&text).map_err(|message| RenderError::RenderedYaml {
                    cluster: cluster.name.clone(),
                    asset: asset.name.clone(),
                    path: self.templates.display_path(&asset.path),
                    message,
                })?;
            for (i, doc) in docs.into_iter().enumerate() {
                let bad = |message: String| RenderError::RenderedYaml {
                    cluster: cluster.name.clone(),
                    asset: asset.name.clone(),
                    path: self.templates.display_path(&asset.path),
                    message: format!("document {}: {message}", i + 1),
                };
                if !doc.is_object() {
                    return Err(bad("is not a mapping".into()));
                }
                if ObjectRef::of(&doc).is_none() {
                    return Err(bad(
                        "needs `apiVersion`, `kind` and `metadata.name` (non-empty strings)".into(),
                    ));
                }
                let object = finish_object(
                    &cluster.name,
                    doc,
                    &asset.name,
                    asset.reconcile_order,
                    &mut patches,
                    &mut seen,
                )?;
                if asset.is_hco() && object.identity.kind == "HyperConverged" && hco.is_none() {
                    hco_ctx = Some(template_value(&object.value));
                    hco = Some(object.value.clone());
                }
                objects.push(object);
            }
        }
        // Machine classes and node groups: validated all at once, then stamped, patched and
        // checked for duplicates like any asset's objects.
        let mut problems = Vec::new();
        let limit = self.settings.limits.max_file_bytes;
        let pools = stackit::render(
            &cluster.machine_classes(overlays),
            &self.source,
            limit,
            &mut problems,
        )
        .into_iter()
        .map(|o| (stackit::ASSET, stackit::WAVE, o));
        let groups = vpsie::render(&cluster.node_groups(overlays), &mut problems)
            .into_iter()
            .map(|o| (vpsie::ASSET, vpsie::WAVE, o));
        let pool_objects: Vec<_> = pools.chain(groups).collect();
        pools::problems_error(problems)?;
        let first_pool_object = objects.len();
        for (asset, wave, doc) in pool_objects {
            objects.push(finish_object(
                &cluster.name,
                doc,
                asset,
                wave,
                &mut patches,
                &mut seen,
            )?);
        }
        let mut pool_values: Vec<Value> = objects[first_pool_object..]
            .iter()
            .map(|o| o.value.clone())
            .collect();
        stackit::restamp_replacement_keys(&mut pool_values);
        for (o, v) in objects[first_pool_object..].iter_mut().zip(pool_values) {
            o.value = v;
        }
        if let Some((what, patch, _)) = patches.iter().find(|(_, _, matched)| !matched) {
            if let Some(annotation) = self.catalog.unmet_opt_in(cluster) {
                return Err(RenderError::OptInMissing {
                    cluster: cluster.name.clone(),
                    what: what.clone(),
                    annotation,
                    catalog: self.catalog.path.clone(),
                    path: cluster.path.clone(),
                });
            }
            return Err(RenderError::PatchTargetNoMatch {
                cluster: cluster.name.clone(),
                what: what.clone(),
                target: patch.target.to_string(),
            });
        }
        // Decisions are reported in catalog order, whatever the render order was.
        self.sort_by_catalog(&mut decisions);
        Ok(RenderedCluster {
            name: cluster.name.clone(),
            objects,
            decisions,
            input_digest: input_digest.clone(),
        })
    }

    /// The `asset` template value of an asset of the catalog.
    fn asset_context(&self, asset: &Asset) -> minijinja::Value {
        self.asset_contexts
            .get(&asset.name)
            .cloned()
            .unwrap_or_else(|| template_value(asset.to_context()))
    }

    fn asset_text(&self, asset: &Asset, ctx: minijinja::Value) -> Result<String> {
        if std::path::Path::new(&asset.path)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("j2"))
        {
            return self.templates.render(&asset.name, &asset.path, ctx);
        }
        if !self.catalog_source.is_file(&asset.resolved_path)? {
            return Err(RenderError::MissingTemplate {
                asset: asset.name.clone(),
                path: self.templates.display_path(&asset.path),
            });
        }
        self.catalog_source
            .read_text(&asset.resolved_path, self.settings.limits.max_file_bytes)
    }

    /// Every asset's decision for a prepared cluster, even when the cluster does not render.
    ///
    /// A full render is tried first. When it fails (a template error, a missing template), the
    /// assets are decided without rendering, except the HyperConverged, which is rendered on
    /// its own when it can be since `hco-field-unconfigured` conditions read it; the render
    /// error is returned beside the decisions.
    pub fn explain(&self, prepared: &Prepared) -> (Vec<Decision>, Option<RenderError>) {
        let error = match self.render(prepared) {
            Ok(rendered) => return (rendered.decisions, None),
            Err(err) => err,
        };
        let context = ClusterContext::new(prepared);
        let mut hco: Option<Value> = None;
        let mut decisions = Vec::new();
        for asset in self.catalog.render_order() {
            let facts = Facts {
                cluster: &prepared.cluster,
                inventory: prepared.inventory.as_ref(),
                hco: hco.as_ref(),
            };
            let decision = facts.decide(&self.catalog, asset);
            if decision.included && asset.is_hco() && hco.is_none() {
                hco = self
                    .asset_text(
                        asset,
                        context.for_asset(asset, self.asset_context(asset), None),
                    )
                    .ok()
                    .and_then(|text| yaml::from_str_multi(&text).ok())
                    .and_then(|docs| {
                        docs.into_iter().find(|d| {
                            d.get("kind").and_then(Value::as_str) == Some("HyperConverged")
                        })
                    });
            }
            decisions.push(decision);
        }
        self.sort_by_catalog(&mut decisions);
        (decisions, Some(error))
    }

    fn sort_by_catalog(&self, decisions: &mut [Decision]) {
        let position: BTreeMap<&str, usize> = self
            .catalog
            .assets
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.as_str(), i))
            .collect();
        decisions.sort_by_key(|d| position.get(d.asset.as_str()).copied());
    }

    /// Prepares and renders one cluster.
    pub fn render_cluster(&self, name: &str) -> Result<RenderedCluster> {
        self.render(&self.prepare(name)?)
    }

    /// Whether the template of every asset exists, per asset (for `plinth catalog`).
    pub fn missing_templates(&self) -> Result<Vec<(String, String)>> {
        let mut missing = Vec::new();
        for a in &self.catalog.assets {
            if !self.catalog_source.is_file(&a.resolved_path)? {
                missing.push((a.name.clone(), self.templates.display_path(&a.path)));
            }
        }
        Ok(missing)
    }
}

/// The template context of one cluster; [`ClusterContext::for_asset`] adds the per-asset part.
struct ClusterContext {
    cluster: minijinja::Value,
    hardware: minijinja::Value,
    features: minijinja::Value,
    /// Overlay values in order, then the cluster's params.
    params: Map<String, Value>,
    /// `params` as a template value, for the assets without `template_params`.
    params_value: minijinja::Value,
    /// `hco` before the HyperConverged has rendered: an empty mapping.
    no_hco: minijinja::Value,
}

impl ClusterContext {
    fn new(prepared: &Prepared) -> Self {
        let spec = &prepared.cluster.spec;
        let mut params = Map::new();
        for o in &prepared.overlays {
            deep_merge(&mut params, &o.values);
        }
        deep_merge(&mut params, &spec.params);
        let empty = Inventory::default();
        let inventory = prepared.inventory.as_ref().unwrap_or(&empty);
        let mut topology: BTreeMap<String, bool> = inventory
            .detectors()
            .into_iter()
            .filter(|(k, _)| *k == "hasSchedulableMasters")
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        topology.extend(spec.topology.clone());
        // Converted to template values once per cluster, not once per asset.
        Self {
            cluster: template_value(json!({
                "name": prepared.cluster.name,
                "labels": spec.labels,
                "annotations": spec.annotations,
                "featureGates": spec.feature_gates,
                "topology": topology,
                "images": spec.images,
                "params": spec.params,
            })),
            hardware: template_value(inventory.to_context()),
            features: template_value(&spec.feature_gates),
            params_value: template_value(&params),
            params,
            no_hco: template_value(json!({})),
        }
    }

    /// The full context of one asset: its `template_params` win over the cluster's params.
    /// `asset_value` is the asset's own template value ([`Fleet::asset_context`]).
    fn for_asset(
        &self,
        asset: &Asset,
        asset_value: minijinja::Value,
        hco: Option<&minijinja::Value>,
    ) -> minijinja::Value {
        let params = if asset.template_params.is_empty() {
            self.params_value.clone()
        } else {
            let mut params = self.params.clone();
            deep_merge(&mut params, &asset.template_params);
            template_value(&params)
        };
        minijinja::context! {
            cluster => self.cluster.clone(),
            hardware => self.hardware.clone(),
            features => self.features.clone(),
            params => params,
            asset => asset_value,
            hco => hco.unwrap_or(&self.no_hco).clone(),
        }
    }
}

/// Makes a rendered document an object of the cluster: stamps plinth's labels and the sync
/// wave, applies every patch whose target matches (stamping again, so a patch cannot remove
/// them), and refuses a second object with the same identity.
fn finish_object(
    cluster: &str,
    mut doc: Value,
    asset: &str,
    wave: i64,
    patches: &mut [(String, &Patch, bool)],
    seen: &mut BTreeMap<ObjectRef, String>,
) -> Result<RenderedObject> {
    stamp(&mut doc, cluster, asset, wave);
    for (what, patch, matched) in patches.iter_mut() {
        if patch.target.matches(&doc) {
            *matched = true;
            let object = ObjectRef::of(&doc)
                .map(|i| i.quoted().to_string())
                .unwrap_or_default();
            patch
                .apply(&mut doc)
                .map_err(|message| RenderError::PatchFailed {
                    cluster: cluster.to_owned(),
                    what: what.clone(),
                    object,
                    message,
                })?;
        }
    }
    stamp(&mut doc, cluster, asset, wave);
    let identity = ObjectRef::of(&doc).ok_or_else(|| RenderError::Invalid {
        path: format!("cluster `{cluster}`"),
        message: format!(
            "a patch removed `apiVersion`, `kind` or `metadata.name` of an object of asset `{asset}`"
        ),
    })?;
    if let Some(first) = seen.insert(identity.clone(), asset.to_owned()) {
        return Err(RenderError::DuplicateObject {
            cluster: cluster.to_owned(),
            identity: identity.quoted().to_string(),
            first,
            second: asset.to_owned(),
        });
    }
    Ok(RenderedObject {
        asset: asset.to_owned(),
        wave,
        identity,
        value: doc,
    })
}

/// Sets plinth's labels and the sync-wave annotation on an object.
fn stamp(doc: &mut Value, cluster: &str, asset: &str, wave: i64) {
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    for (key, entries) in [
        (
            "labels",
            vec![
                (LABEL_MANAGED_BY, MANAGED_BY_PLINTH.to_owned()),
                (LABEL_CLUSTER, cluster.to_owned()),
                (LABEL_ASSET, asset.to_owned()),
            ],
        ),
        (
            "annotations",
            vec![(ANNOTATION_SYNC_WAVE, wave.to_string())],
        ),
    ] {
        let map = meta.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !map.is_object() {
            *map = Value::Object(Map::new());
        }
        if let Some(map) = map.as_object_mut() {
            for (k, v) in entries {
                map.insert(k.to_owned(), Value::String(v));
            }
        }
    }
}
