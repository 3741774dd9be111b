//! Kubernetes name rules: DNS labels and subdomains (object names, namespaces), label keys and
//! values, and the generic identifiers (lowercase UUIDs, CIDR prefixes) provider specs carry.

use std::net::IpAddr;
use std::sync::LazyLock;

use regex::Regex;

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        .expect("built-in pattern compiles")
});
static K8S_NAME_PART: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$").expect("built-in pattern compiles")
});

/// RFC 1123 label: lowercase letters, digits and `-`, at most 63 characters, neither beginning
/// nor ending with `-` (namespaces, cluster folder names).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// An RFC 1123 subdomain of at most `max` characters (Kubernetes object names).
pub fn is_dns_subdomain(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.split('.').all(is_dns_label)
}

/// A lowercase UUID (`8-4-4-4-12` hex digits).
pub fn is_uuid(s: &str) -> bool {
    UUID.is_match(s)
}

/// An IPv4 or IPv6 prefix in CIDR notation (`10.0.0.0/8`, `fd00::/64`).
pub fn is_cidr(s: &str) -> bool {
    let Some((addr, len)) = s.split_once('/') else {
        return false;
    };
    let Ok(addr) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    !len.is_empty()
        && len.bytes().all(|b| b.is_ascii_digit())
        && (len == "0" || !len.starts_with('0'))
        && len.parse::<u32>().is_ok_and(|n| n <= max)
}

/// A Kubernetes label key (`[prefix/]name`) problem, if any.
pub fn k8s_label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix
        && !is_dns_subdomain(p, 253)
    {
        return Some(format!(
            "label key `{key}`: the prefix must be a DNS subdomain of at most 253 characters"
        ));
    }
    if name.is_empty() || name.len() > 63 || !K8S_NAME_PART.is_match(name) {
        return Some(format!(
            "label key `{key}`: the name must be 1 to 63 characters of letters, digits, `-`, `_`, `.`, beginning and ending with a letter or digit"
        ));
    }
    None
}

/// A Kubernetes label value problem, if any.
pub fn k8s_label_value_problem(key: &str, value: &str) -> Option<String> {
    if value.is_empty() || (value.len() <= 63 && K8S_NAME_PART.is_match(value)) {
        None
    } else {
        Some(format!(
            "label `{key}`: value `{value}` must be at most 63 characters of letters, digits, `-`, `_`, `.`, beginning and ending with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        for ok in ["10.0.0.0/8", "0.0.0.0/0", "fd00::/64", "192.168.1.1/32"] {
            assert!(is_cidr(ok), "{ok}");
        }
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "fd00::/129",
            "x/8",
            "10.0.0.0/08",
            "10.0.0.0/",
        ] {
            assert!(!is_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn label_keys() {
        assert!(k8s_label_key_problem("example.com/tier").is_none());
        assert!(k8s_label_key_problem("tier").is_none());
        assert!(k8s_label_key_problem("-tier").is_some());
        assert!(k8s_label_key_problem("Example_.com/tier").is_some());
        assert!(k8s_label_value_problem("k", "").is_none());
        assert!(k8s_label_value_problem("k", "a b").is_some());
    }
}
