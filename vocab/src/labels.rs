//! Label and annotation names plinth writes and reads on Kubernetes objects, and the terms of
//! a label selector.

/// Label naming the tool that manages an object; plinth sets it to [`MANAGED_BY_PLINTH`].
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The value of [`LABEL_MANAGED_BY`] on every object plinth renders.
pub const MANAGED_BY_PLINTH: &str = "plinth";
/// Label naming the cluster an object was rendered for.
pub const LABEL_CLUSTER: &str = "plinth.dev/cluster";
/// Label naming the asset that rendered an object.
pub const LABEL_ASSET: &str = "plinth.dev/asset";
/// Argo CD's sync-wave annotation, set from the asset's reconcile order.
pub const ANNOTATION_SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// The digest of what makes a STACKIT machine class replace its servers.
pub const ANNOTATION_REPLACEMENT_KEY: &str = "plinth.dev/replacement-key";

/// The terms of a label selector (`a=b,c in (x,y)`): the text split on the commas outside
/// parentheses, untrimmed and empty terms kept.
#[must_use]
pub fn selector_terms(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0_i32, 0_usize);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
}
