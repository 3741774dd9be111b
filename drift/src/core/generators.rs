//! Proptest generators the core's property tests share.

use proptest::prelude::*;

/// Object keys: one of `named` (each as likely as any other key) or a key matching `other`.
pub fn keys(
    named: &[&'static str],
    other: &'static str,
) -> impl Strategy<Value = String> + Clone + use<> {
    let weight = u32::try_from(named.len()).unwrap_or(u32::MAX);
    prop_oneof![
        weight => prop::sample::select(named.to_vec()).prop_map(str::to_owned),
        1 => other,
    ]
}
