//! File names of rendered objects stay within what file systems accept, whatever the length of
//! a valid Kubernetes kind, namespace and name.

use plinth_renderer::output::materialize;

use crate::common::one_asset_fleet;

fn template(name: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata: {{v: \"1\"}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}x\n  namespace: {namespace}\ndata: {{v: \"2\"}}\n"
    )
}

#[test]
fn objects_with_the_longest_valid_names_get_bounded_distinct_file_names() {
    // 253 is the longest object name, 63 the longest namespace.
    let name = "a".repeat(252);
    let namespace = "n".repeat(63);
    let fleet = one_asset_fleet("long", &template(&name, &namespace), &["c1"]);
    let out = materialize(&fleet.render_cluster("c1").unwrap(), &fleet.settings);
    let long: Vec<&String> = out
        .files
        .keys()
        .filter(|f| f.starts_with("configmap_"))
        .collect();
    assert_eq!(long.len(), 2, "{long:?}");
    for f in &long {
        assert!(f.len() <= 200, "`{f}` is {} bytes", f.len());
        assert_eq!(std::path::Path::new(f).extension(), Some("yaml".as_ref()));
    }
    // Written for real: the file system accepts every name.
    let dir = tempfile::tempdir().unwrap();
    for (f, bytes) in &out.files {
        fs_err::write(dir.path().join(f), bytes).unwrap();
    }
    // The index names the file of each object.
    assert!(
        out.index
            .objects
            .iter()
            .all(|o| out.files.contains_key(&o.file))
    );
}
