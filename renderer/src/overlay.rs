//! Reusable overlay layers (`overlays/<name>/overlay.yaml`): `values` deep-merged into the
//! template parameters and `patches` (RFC 6902 JSON patch or RFC 7386 merge patch) applied
//! to the rendered objects they target. A patch whose target matches nothing is an error.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{RenderError, Result};
use crate::source::Source;
use plinth_vocab::labels::selector_terms;
use plinth_vocab::yaml;

/// What a patch applies to; every given field must match.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Target {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// A Kubernetes label selector: `a=b,c!=d,e,!f,g in (x,y),h notin (z)`.
    pub label_selector: Option<String>,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (k, v) in [
            ("apiVersion", &self.api_version),
            ("kind", &self.kind),
            ("namespace", &self.namespace),
            ("name", &self.name),
            ("labelSelector", &self.label_selector),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        if parts.is_empty() {
            f.write_str("every object")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// Parses a label selector; the error says which term is malformed.
fn parse_selector(sel: &str) -> std::result::Result<Vec<Requirement>, String> {
    let terms = selector_terms(sel);
    let mut out = Vec::new();
    for term in terms.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
        let set = |rest: &str| -> std::result::Result<Vec<String>, String> {
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("`{term}`: expected a parenthesised value list"))?;
            Ok(inner.split(',').map(|v| v.trim().to_owned()).collect())
        };
        let req = if let Some((k, v)) = term.split_once("!=") {
            Requirement::NotEquals(k.trim().into(), v.trim().into())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            Requirement::Equals(k.trim().into(), v.trim().into())
        } else if let Some((k, rest)) = term.split_once(" notin ") {
            Requirement::NotIn(k.trim().into(), set(rest)?)
        } else if let Some((k, rest)) = term.split_once(" in ") {
            Requirement::In(k.trim().into(), set(rest)?)
        } else if let Some(k) = term.strip_prefix('!') {
            Requirement::NotExists(k.trim().into())
        } else if term.contains(char::is_whitespace) {
            return Err(format!("`{term}` is not a label selector term"));
        } else {
            Requirement::Exists(term.into())
        };
        out.push(req);
    }
    Ok(out)
}

fn labels_match(reqs: &[Requirement], labels: Option<&Map<String, Value>>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    reqs.iter().all(|r| match r {
        Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
        Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
        Requirement::Exists(k) => get(k).is_some(),
        Requirement::NotExists(k) => get(k).is_none(),
        Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
    })
}

impl Target {
    /// Whether `obj` (a rendered Kubernetes object) is targeted.
    pub fn matches(&self, obj: &Value) -> bool {
        let field = |p: &str| obj.pointer(p).and_then(Value::as_str);
        let eq = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == got)
        };
        if !(eq(&self.api_version, field("/apiVersion"))
            && eq(&self.kind, field("/kind"))
            && eq(&self.namespace, field("/metadata/namespace"))
            && eq(&self.name, field("/metadata/name")))
        {
            return false;
        }
        match &self.label_selector {
            None => true,
            Some(sel) => parse_selector(sel).is_ok_and(|reqs| {
                labels_match(
                    &reqs,
                    obj.pointer("/metadata/labels").and_then(Value::as_object),
                )
            }),
        }
    }
}

/// One patch: a target and exactly one of `jsonPatch` or `mergePatch`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Patch {
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub json_patch: Option<json_patch::Patch>,
    #[serde(default)]
    pub merge_patch: Option<Value>,
}

impl Patch {
    /// Checks the patch's shape; `what` names it in errors (`overlay `x` patch 2`).
    pub fn validate(&self, what: &str) -> Result<()> {
        let invalid = |message: String| RenderError::Invalid {
            path: what.to_owned(),
            message,
        };
        match (&self.json_patch, &self.merge_patch) {
            (Some(_), Some(_)) => Err(invalid(
                "has both `jsonPatch` and `mergePatch`; give exactly one".into(),
            )),
            (None, None) => Err(invalid("has neither `jsonPatch` nor `mergePatch`".into())),
            (None, Some(m)) if !m.is_object() => {
                Err(invalid("`mergePatch` must be a mapping".into()))
            }
            _ => match &self.target.label_selector {
                Some(sel) => parse_selector(sel)
                    .map(|_| ())
                    .map_err(|e| invalid(format!("`target.labelSelector`: {e}"))),
                None => Ok(()),
            },
        }
    }

    /// Applies the patch to `obj` in place.
    pub fn apply(&self, obj: &mut Value) -> std::result::Result<(), String> {
        if let Some(p) = &self.json_patch {
            json_patch::patch(obj, p).map_err(|e| e.to_string())?;
        }
        if let Some(m) = &self.merge_patch {
            json_patch::merge(obj, m);
        }
        Ok(())
    }
}

/// An overlay file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Overlay {
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub path: String,
    pub values: Map<String, Value>,
    pub patches: Vec<Patch>,
    /// Cloud accounts for the clusters that compose it (`clouds.stackit`, `clouds.vpsie`, as in `cluster.yaml`,
    /// which wins field by field; a later overlay wins over an earlier one).
    pub clouds: crate::clouds::Clouds,
    /// The line of each of `patches` in the file (0 when unknown).
    #[serde(skip)]
    pub patch_lines: Vec<usize>,
}

impl Overlay {
    /// Loads `<dir>/<name>/overlay.yaml` from `source`; `shown` prefixes the path in errors.
    pub fn load(source: &Source, dir: &str, name: &str, limit: u64, shown: &str) -> Result<Self> {
        let path = format!("{dir}/{name}/overlay.yaml");
        let display = format!("{shown}{path}");
        let text = source.read_text(&path, limit)?;
        let mut overlay: Self = yaml::from_str(&text, &display)?;
        name.clone_into(&mut overlay.name);
        overlay.path = display;
        if !overlay.patches.is_empty() {
            overlay.patch_lines = patch_lines(&text, overlay.patches.len());
        }
        for i in 0..overlay.patches.len() {
            overlay.patches[i].validate(&overlay.patch_label(i))?;
        }
        Ok(overlay)
    }

    /// Names patch `i` in errors: its file, line and index.
    pub fn patch_label(&self, i: usize) -> String {
        patch_label(&self.path, &self.patch_lines, i)
    }
}

/// Names patch `i` of `file` in errors: `` the patch at `file` line 12 (`patches[1]`) ``;
/// `lines` are the lines of the file's patches ([`patch_lines`]), the line is left out when
/// unknown.
pub fn patch_label(file: &str, lines: &[usize], i: usize) -> String {
    match lines.get(i).copied().filter(|l| *l > 0) {
        Some(line) => format!("the patch at `{file}` line {line} (`patches[{i}]`)"),
        None => format!("the patch at `{file}` (`patches[{i}]`)"),
    }
}

/// The lines of the entries of a top-level block list `patches:` found by looking at the lines
/// alone (`- ` items at one indentation below `patches:`); `None` for anything else (flow
/// style, anchors, a document marker), which serde-saphyr then reads.
fn scan_patch_lines(text: &str) -> Option<Vec<usize>> {
    let mut lines = text.lines().enumerate();
    lines.find(|(_, l)| {
        l.strip_prefix("patches:")
            .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
    })?;
    let mut items = Vec::new();
    let mut indent = None;
    for (i, line) in lines {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let at = line.len() - body.len();
        let item = body == "-" || body.starts_with("- ");
        match indent {
            None if item => indent = Some(at),
            None => return None,
            Some(d) if at == d && item => {}
            Some(d) if at > d => continue,
            Some(_) => break,
        }
        if body.starts_with("---") || body.contains('&') || body.contains('*') {
            return None;
        }
        items.push(i + 1);
    }
    Some(items)
}

/// The line of each of the `count` entries of the top-level `patches` list of a YAML text
/// (empty when the text does not read; its errors are reported by the typed reading).
pub fn patch_lines(text: &str, count: usize) -> Vec<usize> {
    #[derive(Deserialize)]
    struct Lines {
        #[serde(default)]
        patches: Vec<serde_saphyr::Spanned<serde::de::IgnoredAny>>,
    }
    if let Some(lines) = scan_patch_lines(text).filter(|l| l.len() == count) {
        return lines;
    }
    yaml::from_str::<Lines>(text, "")
        .map(|l| {
            l.patches
                .iter()
                .map(|p| usize::try_from(p.referenced.line()).unwrap_or(0))
                .collect()
        })
        .unwrap_or_default()
}

/// Deep-merges `over` into `base` the way RFC 7386 merge patches, kustomize's strategic merge
/// and Helm's values do: maps merge key by key, lists and scalars replace, and `null` removes
/// the key (an inherited default is unset, not set to `null`). A map that replaces a non-map
/// or fills a missing key keeps no `null` either, so merged values never hold `null`.
pub fn deep_merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        if v.is_null() {
            base.remove(k);
            continue;
        }
        match (base.get_mut(k), v) {
            (Some(b), Value::Object(_)) => json_patch::merge(b, v),
            (_, Value::Object(_)) => {
                let mut fresh = Value::Object(Map::new());
                json_patch::merge(&mut fresh, v);
                base.insert(k.clone(), fresh);
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Keys of the map at `path` of which exactly one is given (STACKIT's `networking`: one of
/// `networkId` or `nicIds`). A layer that gives some of them replaces the group: the other
/// keys inherited from the layers below are dropped, so a pool giving `nicIds` overrides an
/// overlay's `networkId` rather than ending up with both.
#[derive(Debug, Clone, Copy)]
pub struct OneOf {
    pub path: &'static [&'static str],
    pub keys: &'static [&'static str],
}

fn at<'a>(map: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(map.get(*first)?, |v, k| v.get(*k))
}

fn at_mut<'a>(map: &'a mut Map<String, Value>, path: &[&str]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    rest.iter()
        .try_fold(map.get_mut(*first)?, |v, k| v.get_mut(*k))
}

/// The keys of `group` that `layer` gives (present and not `null`).
pub fn given(layer: &Map<String, Value>, group: &OneOf) -> Vec<&'static str> {
    let Some(Value::Object(m)) = at(layer, group.path) else {
        return Vec::new();
    };
    group
        .keys
        .iter()
        .copied()
        .filter(|k| m.get(*k).is_some_and(|v| !v.is_null()))
        .collect()
}

/// [`deep_merge`] of one more specific layer, honouring `groups`: where `over` gives a key of
/// a group, the group's other keys are first removed from `base`.
pub fn merge_layer(base: &mut Map<String, Value>, over: &Map<String, Value>, groups: &[OneOf]) {
    for group in groups {
        let keep = given(over, group);
        if keep.is_empty() {
            continue;
        }
        if let Some(Value::Object(b)) = at_mut(base, group.path) {
            b.retain(|k, _| !group.keys.contains(&k.as_str()) || keep.contains(&k.as_str()));
        }
    }
    deep_merge(base, over);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_cover_equality_and_sets() {
        let obj = json!({"metadata": {"labels": {"tier": "gpu", "zone": "a"}}});
        let t = |s: &str| Target {
            label_selector: Some(s.into()),
            ..Target::default()
        };
        assert!(t("tier=gpu").matches(&obj));
        assert!(t("tier==gpu,zone").matches(&obj));
        assert!(!t("tier!=gpu").matches(&obj));
        assert!(t("zone in (a, b),!missing").matches(&obj));
        assert!(!t("zone notin (a)").matches(&obj));
        assert!(parse_selector("a b").is_err());
    }

    #[test]
    fn deep_merge_keeps_sibling_keys() {
        let mut base = json!({"a": {"x": 1, "y": 2}, "b": [1]})
            .as_object()
            .unwrap()
            .clone();
        let over = json!({"a": {"y": 3}, "b": [2]})
            .as_object()
            .unwrap()
            .clone();
        deep_merge(&mut base, &over);
        assert_eq!(
            Value::Object(base),
            json!({"a": {"x": 1, "y": 3}, "b": [2]})
        );
    }

    #[test]
    fn patches_are_named_by_file_line_and_index() {
        let text = "# tuning\nvalues: {a: 1}\npatches:\n  - target: {kind: A}\n    mergePatch: {x: 1}\n\n  - target:\n      kind: B\n    mergePatch: {x: 2}\n";
        assert_eq!(scan_patch_lines(text), Some(vec![4, 7]));
        assert_eq!(patch_lines(text, 2), vec![4, 7]);
        // Items at the key's own indentation, a comment between them, keys after the list.
        let text = "patches:\n- target: {kind: A}\n  # second\n  mergePatch: {x: 1}\n- target: {kind: B}\n  mergePatch: {x: 2}\nvalues: {}\n";
        assert_eq!(scan_patch_lines(text), Some(vec![2, 5]));
        // Flow style, anchors: read by serde-saphyr, same lines.
        let flow = "values: {}\npatches: [\n  {target: {kind: A}, mergePatch: {x: 1}},\n  {target: {kind: B}, mergePatch: {x: 2}}]\n";
        assert_eq!(scan_patch_lines(flow), None);
        assert_eq!(patch_lines(flow, 2), vec![3, 4]);
        let anchored = "patches:\n  - &p\n    target: {kind: A}\n    mergePatch: {x: 1}\n  - *p\n";
        assert_eq!(scan_patch_lines(anchored), None);
        assert_eq!(
            patch_label("overlays/t/overlay.yaml", &patch_lines(text, 2), 1),
            "the patch at `overlays/t/overlay.yaml` line 5 (`patches[1]`)"
        );
        assert_eq!(
            patch_label("f.yaml", &[], 0),
            "the patch at `f.yaml` (`patches[0]`)"
        );
    }

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not a map: {other}"),
        }
    }

    #[test]
    fn null_unsets_an_inherited_key_at_any_depth() {
        let mut base = map(json!({"a": {"x": 1, "y": 2}, "b": [1], "c": "keep", "d": 4}));
        deep_merge(
            &mut base,
            &map(
                json!({"a": {"y": null, "z": null}, "b": null, "d": {"n": null, "m": 1}, "e": {"f": null, "g": [null]}, "h": null}),
            ),
        );
        assert_eq!(
            Value::Object(base),
            json!({"a": {"x": 1}, "c": "keep", "d": {"m": 1}, "e": {"g": [null]}})
        );
    }

    #[test]
    fn a_layer_giving_one_key_of_a_group_drops_the_others() {
        const NET: OneOf = OneOf {
            path: &["providerSpec", "networking"],
            keys: &["networkId", "nicIds"],
        };
        let defaults =
            json!({"providerSpec": {"networking": {"networkId": "n"}, "region": "eu01"}});
        let mut base = map(defaults.clone());
        merge_layer(
            &mut base,
            &map(json!({"providerSpec": {"networking": {"nicIds": ["a"]}}})),
            &[NET],
        );
        assert_eq!(
            Value::Object(base),
            json!({"providerSpec": {"networking": {"nicIds": ["a"]}, "region": "eu01"}})
        );
        // Not giving the group, or only unsetting, keeps what is inherited.
        let mut base = map(defaults.clone());
        merge_layer(
            &mut base,
            &map(json!({"providerSpec": {"region": "x"}})),
            &[NET],
        );
        assert_eq!(
            base["providerSpec"]["networking"],
            json!({"networkId": "n"})
        );
        let mut base = map(defaults);
        merge_layer(
            &mut base,
            &map(json!({"providerSpec": {"networking": {"nicIds": null}}})),
            &[NET],
        );
        assert_eq!(
            base["providerSpec"]["networking"],
            json!({"networkId": "n"})
        );
        // One layer giving both keeps both: the conflict is that layer's.
        let mut base = map(json!({}));
        merge_layer(
            &mut base,
            &map(json!({"providerSpec": {"networking": {"networkId": "n", "nicIds": ["a"]}}})),
            &[NET],
        );
        assert_eq!(
            base["providerSpec"]["networking"]
                .as_object()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn a_patch_needs_exactly_one_kind() {
        let p: Patch = yaml::from_str("target: {kind: X}\n", "p").unwrap();
        assert!(p.validate("p").is_err());
    }
}
