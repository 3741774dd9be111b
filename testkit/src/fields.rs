//! Field sets in the structured-merge-diff notation of `managedFields` (`FieldsV1`): `f:<field>`
//! for a field, `k:{"name":"x"}` for a list item keyed by its merge key, `v:<value>` for a
//! value of a set list, `.` for a keyed item itself; the keyed list kinds the fake knows; the
//! merge that applies a configuration item by item on those keys.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// One path element in `FieldsV1` notation (`f:spec`, `k:{"name":"app"}`, `v:"x"`).
pub type Element = String;
/// A path to one owned field or item.
pub type FieldPath = Vec<Element>;
/// The fields one manager owns.
pub type FieldSet = BTreeSet<FieldPath>;

/// Lists whose items are values of a set (`v:` elements).
const SET_LISTS: &[&str] = &["finalizers"];

/// The merge key of an item of the list stored under `field` (`None`: the list is atomic).
/// Container ports key on `containerPort`+`protocol`, Service ports on `port`+`protocol`
/// (`protocol` defaulted to `TCP`), volume mounts on `mountPath`, tolerations on whichever of
/// `key`, `operator`, `value`, `effect` they carry, PrometheusRule rules on `alert` or
/// `record`; containers, init containers, env, volumes, KubeVirt disks/interfaces/networks,
/// PrometheusRule groups and any other list whose items all carry a string `name` on `name`.
fn item_key(field: &str, item: &Value) -> Option<Value> {
    let o = item.as_object()?;
    let pick = |names: &[&str]| -> Option<Value> {
        let m: Map<String, Value> = names
            .iter()
            .filter_map(|n| Some(((*n).to_owned(), o.get(*n)?.clone())))
            .collect();
        (!m.is_empty()).then_some(Value::Object(m))
    };
    let with_protocol = |port: &str| -> Option<Value> {
        let mut m = Map::new();
        m.insert(port.to_owned(), o.get(port)?.clone());
        let protocol = o.get("protocol").cloned().unwrap_or_else(|| "TCP".into());
        m.insert("protocol".into(), protocol);
        Some(Value::Object(m))
    };
    match field {
        "ports" if o.contains_key("containerPort") => with_protocol("containerPort"),
        "ports" if o.contains_key("port") => with_protocol("port"),
        "volumeMounts" => pick(&["mountPath"]),
        "tolerations" => pick(&["key", "operator", "value", "effect"]),
        "rules" if o.contains_key("alert") => pick(&["alert"]),
        "rules" if o.contains_key("record") => pick(&["record"]),
        _ => o
            .get("name")
            .filter(|n| n.is_string())
            .and_then(|_| pick(&["name"])),
    }
}

/// How a list under `field` is tracked.
enum ListKind {
    /// Items keyed by their merge key.
    Keyed,
    /// Values of a set.
    Set,
    /// The whole list is one field.
    Atomic,
}

fn list_kind(field: &str, items: &[Value]) -> ListKind {
    if SET_LISTS.contains(&field) && items.iter().all(|i| !i.is_object() && !i.is_array()) {
        ListKind::Set
    } else if !items.is_empty() && items.iter().all(|i| item_key(field, i).is_some()) {
        ListKind::Keyed
    } else {
        ListKind::Atomic
    }
}

/// The `k:` element of an item of the keyed list under `field`.
fn key_element(field: &str, item: &Value) -> Option<Element> {
    item_key(field, item).map(|k| format!("k:{k}"))
}

/// Every field and item `value` sets, as `managedFields` records them: leaves (scalars, empty
/// objects, atomic lists), keyed items themselves and set values.
pub fn fields_of(value: &Value) -> FieldSet {
    let mut out = FieldSet::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn walk(value: &Value, path: &mut FieldPath, out: &mut FieldSet) {
    match value {
        Value::Object(o) if !o.is_empty() => {
            for (k, child) in o {
                path.push(format!("f:{k}"));
                walk_field(k, child, path, out);
                path.pop();
            }
        }
        _ => {
            if !path.is_empty() {
                out.insert(path.clone());
            }
        }
    }
}

fn walk_field(field: &str, value: &Value, path: &mut FieldPath, out: &mut FieldSet) {
    let Value::Array(items) = value else {
        return walk(value, path, out);
    };
    match list_kind(field, items) {
        ListKind::Atomic => {
            out.insert(path.clone());
        }
        ListKind::Set => {
            for item in items {
                path.push(format!("v:{item}"));
                out.insert(path.clone());
                path.pop();
            }
        }
        ListKind::Keyed => {
            for item in items {
                path.push(key_element(field, item).expect("keyed items have keys"));
                out.insert(path.clone());
                walk(item, path, out);
                path.pop();
            }
        }
    }
}

/// The value a field path names in `value` (a keyed item, a set value, a field).
pub fn value_at<'a>(value: &'a Value, path: &[Element]) -> Option<&'a Value> {
    let mut node = value;
    let mut field = "";
    for element in path {
        if let Some(name) = element.strip_prefix("f:") {
            node = node.get(name)?;
            field = name;
        } else {
            let f = field;
            node = node
                .as_array()?
                .iter()
                .find(|i| is_element(f, element, i))?;
        }
    }
    Some(node)
}

/// Removes the field, keyed item or set value a field path names from `value`; `false` when it
/// is not there. A map or list left empty stays (as `{}` or `[]`).
pub fn remove_at(value: &mut Value, path: &[Element]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = value;
    let mut field = "";
    for element in parents {
        let next = if let Some(name) = element.strip_prefix("f:") {
            field = name;
            node.get_mut(name)
        } else {
            let f = field;
            node.as_array_mut()
                .and_then(|items| items.iter_mut().find(|i| is_element(f, element, i)))
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    if let Some(name) = last.strip_prefix("f:") {
        return node
            .as_object_mut()
            .is_some_and(|o| o.remove(name).is_some());
    }
    let Some(items) = node.as_array_mut() else {
        return false;
    };
    let before = items.len();
    items.retain(|i| !is_element(field, last, i));
    items.len() != before
}

/// Whether `item` of the list under `field` is the one the `k:` or `v:` `element` names.
fn is_element(field: &str, element: &str, item: &Value) -> bool {
    match element.strip_prefix("v:") {
        Some(want) => serde_json::from_str::<Value>(want).is_ok_and(|w| w == *item),
        None => key_element(field, item).as_deref() == Some(element),
    }
}

/// Whether the path names a keyed item or a set value rather than a field.
pub fn is_item(path: &[Element]) -> bool {
    path.last().is_some_and(|e| !e.starts_with("f:"))
}

/// The `fieldsV1` object of a field set: nested elements, `{}` for a leaf, `".": {}` inside an
/// item that is owned itself and has owned fields.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut tree = Map::new();
    for path in set {
        let mut node = &mut tree;
        for element in path {
            node = node
                .entry(element.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("fieldsV1 nodes are objects");
        }
    }
    mark_items(&mut tree, set, &mut Vec::new());
    Value::Object(tree)
}

fn mark_items(node: &mut Map<String, Value>, set: &FieldSet, path: &mut FieldPath) {
    for (element, child) in node.iter_mut() {
        path.push(element.clone());
        if let Some(child) = child.as_object_mut()
            && !child.is_empty()
        {
            mark_items(child, set, path);
            if set.contains(path.as_slice()) {
                child.insert(".".into(), Value::Object(Map::new()));
            }
        }
        path.pop();
    }
}

/// A field path for messages: `.spec.containers[name="app"].image`.
pub fn display(path: &[Element]) -> String {
    let segment = |element: &Element| {
        if let Some(name) = element.strip_prefix("f:") {
            format!(".{name}")
        } else if let Some(v) = element.strip_prefix("v:") {
            format!("[={v}]")
        } else if let Some(Value::Object(key)) = element
            .strip_prefix("k:")
            .and_then(|k| serde_json::from_str(k).ok())
        {
            let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("[{}]", parts.join(","))
        } else {
            String::new()
        }
    };
    path.iter().map(segment).collect()
}

/// Deep merge: objects merge key by key; keyed lists merge item by item on their merge key,
/// the way associative lists do; everything else is replaced.
pub fn merge(into: &mut Value, from: &Value) {
    merge_field("", into, from);
}

fn merge_field(field: &str, into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot)
                        if (slot.is_object() && v.is_object())
                            || (slot.is_array() && v.is_array()) =>
                    {
                        merge_field(k, slot, v);
                    }
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b))
            if matches!(list_kind(field, a), ListKind::Keyed)
                && matches!(list_kind(field, b), ListKind::Keyed) =>
        {
            for item in b {
                let key = key_element(field, item);
                match a.iter_mut().find(|x| key_element(field, x) == key) {
                    Some(slot) => merge_field("", slot, item),
                    None => a.push(item.clone()),
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// One `metadata.managedFields` entry of `manager` (`operation` `Apply` or `Update`, at the
/// RFC 3339 `time`) owning every field and item `owned` sets, as a test writes one by hand.
pub fn managed_entry(manager: &str, operation: &str, time: &str, owned: &Value) -> Value {
    serde_json::json!({"manager": manager, "operation": operation, "time": time,
        "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(&fields_of(owned))})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keyed_items_set_values_and_atomic_lists() {
        let pod = json!({"metadata": {"finalizers": ["a/b"]}, "spec": {
            "containers": [{"name": "app", "image": "x", "args": ["-v"],
                "ports": [{"containerPort": 80}],
                "volumeMounts": [{"mountPath": "/d", "name": "d"}]}],
            "tolerations": [{"key": "k", "operator": "Exists"}]}});
        let v1 = to_fields_v1(&fields_of(&pod));
        assert_eq!(
            v1,
            json!({"f:metadata": {"f:finalizers": {"v:\"a/b\"": {}}}, "f:spec": {
                "f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {}, "f:args": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}},
                    "f:volumeMounts": {"k:{\"mountPath\":\"/d\"}": {".": {}, "f:mountPath": {}, "f:name": {}}}}},
                "f:tolerations": {"k:{\"key\":\"k\",\"operator\":\"Exists\"}": {".": {}, "f:key": {}, "f:operator": {}}}}})
        );
        let image = vec![
            "f:spec".to_owned(),
            "f:containers".to_owned(),
            "k:{\"name\":\"app\"}".to_owned(),
            "f:image".to_owned(),
        ];
        assert_eq!(value_at(&pod, &image), Some(&json!("x")));
        assert_eq!(display(&image), ".spec.containers[name=\"app\"].image");
    }

    #[test]
    fn service_ports_and_prometheus_rules_have_their_keys() {
        let svc = json!({"ports": [{"port": 53, "protocol": "UDP"}], "rules": [{"alert": "A"}, {"record": "r"}]});
        let set = fields_of(&svc);
        assert!(set.contains(&vec![
            "f:ports".to_owned(),
            "k:{\"port\":53,\"protocol\":\"UDP\"}".to_owned()
        ]));
        assert!(set.contains(&vec![
            "f:rules".to_owned(),
            "k:{\"record\":\"r\"}".to_owned()
        ]));
    }

    #[test]
    fn named_lists_merge_by_name_others_are_replaced() {
        let mut live = json!({"containers": [{"name": "a", "image": "x", "terminationMessagePath": "/dev/t"}, {"name": "b"}], "args": [1, 2]});
        merge(
            &mut live,
            &json!({"containers": [{"name": "a", "image": "y"}, {"name": "c"}], "args": [3]}),
        );
        assert_eq!(
            live,
            json!({"containers": [{"name": "a", "image": "y", "terminationMessagePath": "/dev/t"}, {"name": "b"}, {"name": "c"}], "args": [3]})
        );
    }
}
