//! Writes to the fake server's store besides server-side apply: create (`POST`), update
//! (`PUT`) and delete, the immutable-field check every write makes, and CRDs: storing a
//! `CustomResourceDefinition` serves its kinds (with its plural and scope), deleting it stops
//! serving them and deletes their objects.

use serde_json::{Value, json};

use crate::store::{ApplyError, ResourceType, Store, StoreKey, str_at};
use crate::validate::immutable_causes;

const CRD_GROUP: &str = "apiextensions.k8s.io";

/// What a delete did.
#[derive(Debug)]
pub enum Deletion {
    /// The object is gone; as it was.
    Removed(Value),
    /// The object has finalizers: marked with `deletionTimestamp`, still stored.
    Marked(Value),
}

/// The counters a dry-run must leave as they were.
struct Counters(u64, u64, u64);

impl Store {
    fn counters(&self) -> Counters {
        Counters(self.resource_version, self.uid_counter, self.clock)
    }

    fn restore(&mut self, Counters(rv, uid, clock): Counters) {
        (self.resource_version, self.uid_counter, self.clock) = (rv, uid, clock);
    }

    /// `422` when `new` changes a field of `kind` that is immutable and `old` sets.
    pub(crate) fn check_immutable(
        &self,
        kind: &str,
        old: &Value,
        new: &Value,
    ) -> Result<(), ApplyError> {
        let Some(paths) = self.immutable.get(kind) else {
            return Ok(());
        };
        let causes = immutable_causes(paths, old, new);
        if causes.is_empty() {
            Ok(())
        } else {
            Err(ApplyError::Invalid(causes))
        }
    }

    /// `400` unless `body` is an object of type `t` (`apiVersion`, `kind`).
    fn check_type(&self, t: usize, body: &Value) -> Result<(), ApplyError> {
        let ty = &self.types[t];
        if str_at(body, "/kind") == ty.kind && str_at(body, "/apiVersion") == ty.api_version() {
            Ok(())
        } else {
            Err(ApplyError::BadRequest(format!(
                "body is not a {} {}",
                ty.api_version(),
                ty.kind
            )))
        }
    }

    /// A create (`POST`) of `body` as type `t` in `namespace` by `manager`: one `Update` entry
    /// of `manager` owns every field, as after `kubectl create`. `metadata.generateName` is
    /// completed when there is no name. The created object (nothing stored when `dry_run`).
    pub fn create(
        &mut self,
        t: usize,
        namespace: Option<&str>,
        body: &Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApplyError> {
        self.check_type(t, body)?;
        let mut value = body.clone();
        crate::store::strip_server_fields(&mut value);
        let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(ApplyError::BadRequest("the object has no metadata".into()));
        };
        if meta
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            let Some(prefix) = meta.get("generateName").and_then(Value::as_str) else {
                return Err(ApplyError::Invalid(vec![crate::reply::Cause {
                    message: "Required value: name or generateName is required".into(),
                    ..crate::reply::Cause::required("metadata.name")
                }]));
            };
            let name = format!("{prefix}{:05x}", self.uid_counter + 1);
            meta.insert("name".into(), name.into());
        }
        if let Some(ns) = namespace.filter(|_| self.types[t].namespaced) {
            meta.insert("namespace".into(), ns.into());
        }
        let name = str_at(&value, "/metadata/name").to_owned();
        let key = (t, namespace.map(str::to_owned), name);
        if self.objects.contains_key(&key) {
            return Err(ApplyError::AlreadyExists);
        }
        let before = self.counters();
        let key = self.insert_new(value, Some(manager));
        if dry_run {
            let created = self.objects.remove(&key).map(|s| s.value);
            self.restore(before);
            return Ok(created.unwrap_or_default());
        }
        self.after_write(&key);
        Ok(self.objects[&key].value.clone())
    }

    /// An update (`PUT`) of the object at `key` to `body` by `manager`: the object is
    /// replaced (status, `uid` and creation time kept), the fields that changed move to
    /// `manager`'s `Update` entry. `409` when `body` carries a stale `resourceVersion`, `422`
    /// when it changes an immutable field. The updated object (nothing stored when `dry_run`).
    pub fn replace(
        &mut self,
        key: &StoreKey,
        body: &Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApplyError> {
        self.check_type(key.0, body)?;
        let old = self.objects.get(key).cloned().ok_or(ApplyError::NotFound)?;
        if str_at(body, "/metadata/name") != key.2 {
            return Err(ApplyError::BadRequest(
                "the name of the object does not match the name in the URL".into(),
            ));
        }
        let want = str_at(body, "/metadata/resourceVersion");
        if !want.is_empty() && want != str_at(&old.value, "/metadata/resourceVersion") {
            return Err(ApplyError::Conflict(
                "the object has been modified; please apply your changes to the latest version and try again"
                    .into(),
            ));
        }
        let kind = self.types[key.0].kind.clone();
        let mut new = self.with_defaults(&kind, body.clone());
        for field in ["uid", "creationTimestamp"] {
            if let Some(v) = old.value.pointer(&format!("/metadata/{field}")) {
                new["metadata"][field] = v.clone();
            }
        }
        match old.value.get("status") {
            Some(status) => new["status"] = status.clone(),
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        self.check_immutable(&kind, &old.value, &new)?;
        let before = self.counters();
        self.edit(key, manager, "", |v| *v = new);
        let updated = self.objects[key].value.clone();
        if dry_run {
            self.objects.insert(key.clone(), old);
            self.restore(before);
        } else {
            self.after_write(key);
        }
        Ok(updated)
    }

    /// A delete of the object at `key` (`NotFound` when absent, `Conflict` when the
    /// `preconditions` of the request, `uid` and `resourceVersion`, do not hold). An object
    /// with finalizers is only marked (`deletionTimestamp` from the scenario clock) and stays
    /// until a write leaves its finalizers empty: `Deletion::Marked` with it. Otherwise it is
    /// removed: `Deletion::Removed` with the object as it was. Deleting a CRD stops serving its
    /// kinds and deletes their objects. Nothing changes when `dry_run`.
    pub fn delete(
        &mut self,
        key: &StoreKey,
        preconditions: &Value,
        dry_run: bool,
    ) -> Result<Deletion, ApplyError> {
        let old = self.objects.get(key).ok_or(ApplyError::NotFound)?;
        for field in ["uid", "resourceVersion"] {
            let want = str_at(preconditions, &format!("/{field}"));
            let have = str_at(&old.value, &format!("/metadata/{field}"));
            if !want.is_empty() && want != have {
                let name = if field == "uid" {
                    "UID"
                } else {
                    "ResourceVersion"
                };
                return Err(ApplyError::Conflict(format!(
                    "Precondition failed: {name} in precondition: {want}, {name} in object meta: {have}"
                )));
            }
        }
        let finalizers = old
            .value
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if finalizers {
            let mut marked = old.value.clone();
            if marked.pointer("/metadata/deletionTimestamp").is_none() && !dry_run {
                let time = crate::store::clock_time(self.clock);
                let rv = self.next_rv();
                let meta = &mut marked["metadata"];
                meta["deletionTimestamp"] = time.into();
                meta["deletionGracePeriodSeconds"] = 0.into();
                meta["resourceVersion"] = rv.into();
                if let Some(stored) = self.objects.get_mut(key) {
                    stored.value = marked.clone();
                }
            }
            return Ok(Deletion::Marked(marked));
        }
        if dry_run {
            return Ok(Deletion::Removed(old.value.clone()));
        }
        let gone = self.objects.remove(key).ok_or(ApplyError::NotFound)?;
        self.forget_crd(key, &gone.value);
        Ok(Deletion::Removed(gone.value))
    }

    /// Removes the object at `key` when it is marked for deletion and a write left it
    /// without finalizers, as the real server does once the last finalizer is gone.
    pub(crate) fn reap(&mut self, key: &StoreKey) {
        let done = self.objects.get(key).is_some_and(|s| {
            s.value.pointer("/metadata/deletionTimestamp").is_some()
                && s.value
                    .pointer("/metadata/finalizers")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
        });
        if done && let Some(gone) = self.objects.remove(key) {
            self.forget_crd(key, &gone.value);
        }
    }

    /// After the object at `key` (`value`) was removed: when it is a CRD, its kinds are no
    /// longer served and their objects go.
    fn forget_crd(&mut self, key: &StoreKey, value: &Value) {
        if self.is_crd(key.0) {
            self.pending_crds.retain(|(k, _)| k != key);
            let (group, kind) = (
                str_at(value, "/spec/group"),
                str_at(value, "/spec/names/kind"),
            );
            let types: Vec<usize> = (0..self.types.len())
                .filter(|&i| self.types[i].group == group && self.types[i].kind == kind)
                .collect();
            self.objects.retain(|(t, _, _), _| !types.contains(t));
            self.unserved.extend(types);
        }
    }

    /// Whether type `t` is `CustomResourceDefinition`.
    pub(crate) fn is_crd(&self, t: usize) -> bool {
        self.types[t].group == CRD_GROUP && self.types[t].kind == "CustomResourceDefinition"
    }

    /// After a client wrote the object at `key`: a CRD's kinds are served now, or after
    /// [`Store::crd_delay`] more requests when one of them is not served yet.
    pub(crate) fn after_write(&mut self, key: &StoreKey) {
        self.reap(key);
        if !self.is_crd(key.0) || !self.objects.contains_key(key) {
            return;
        }
        let types = self.crd_types(key);
        let waiting = types.iter().any(|(t, _)| self.unserved.contains(t));
        if self.crd_delay > 0 && waiting {
            for (t, _) in types {
                self.unserved.insert(t);
            }
            self.pending_crds.retain(|(k, _)| k != key);
            self.pending_crds.push((key.clone(), self.crd_delay));
            self.set_established(key, false);
        } else {
            self.serve_crd_kinds(key, true);
            self.set_established(key, true);
        }
    }

    /// One more request was received: CRDs waiting to be established count it down.
    pub(crate) fn request_seen(&mut self) {
        let mut ready = Vec::new();
        for (key, left) in &mut self.pending_crds {
            *left = left.saturating_sub(1);
            if *left == 0 {
                ready.push(key.clone());
            }
        }
        self.pending_crds.retain(|(_, left)| *left > 0);
        for key in ready {
            self.serve_crd_kinds(&key, true);
            self.set_established(&key, true);
        }
    }

    /// Serves (or stops serving) the kinds of the stored CRD at `key`, each version as its
    /// `served` flag says.
    pub(crate) fn serve_crd_kinds(&mut self, key: &StoreKey, serve: bool) {
        for (t, served) in self.crd_types(key) {
            if serve && served {
                self.unserved.remove(&t);
            } else {
                self.unserved.insert(t);
            }
        }
    }

    /// The types of the versions of the stored CRD at `key` (registered, with the CRD's plural
    /// and scope, when new) and whether each version is served.
    fn crd_types(&mut self, key: &StoreKey) -> Vec<(usize, bool)> {
        let Some(crd) = self.objects.get(key).map(|s| s.value.clone()) else {
            return Vec::new();
        };
        let group = str_at(&crd, "/spec/group");
        let kind = str_at(&crd, "/spec/names/kind");
        let plural = str_at(&crd, "/spec/names/plural");
        let namespaced = str_at(&crd, "/spec/scope") != "Cluster";
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut out = Vec::new();
        for v in &versions {
            let version = str_at(v, "/name");
            if group.is_empty() || kind.is_empty() || version.is_empty() {
                continue;
            }
            let api_version = format!("{group}/{version}");
            let known = self.types.len();
            let t = self.type_for(&api_version, kind, namespaced);
            if t >= known {
                // A new kind is served once its CRD is established.
                self.unserved.insert(t);
            }
            let ty: &mut ResourceType = &mut self.types[t];
            ty.namespaced = namespaced;
            if !plural.is_empty() {
                plural.clone_into(&mut ty.plural);
            }
            out.push((t, v.get("served").and_then(Value::as_bool).unwrap_or(true)));
        }
        out
    }

    /// Sets the CRD's `NamesAccepted` and `Established` conditions and `acceptedNames`, as
    /// the API server's CRD controllers do.
    fn set_established(&mut self, key: &StoreKey, established: bool) {
        let Some(stored) = self.objects.get_mut(key) else {
            return;
        };
        let names = stored
            .value
            .pointer("/spec/names")
            .cloned()
            .unwrap_or_default();
        let status = if established { "True" } else { "False" };
        stored.value["status"] = json!({
            "acceptedNames": names,
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
                {"type": "Established", "status": status,
                    "reason": if established { "InitialNamesAccepted" } else { "Installing" }},
            ],
        });
    }
}
