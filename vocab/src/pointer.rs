//! RFC 6901 JSON pointers: escaping and splitting segments.

/// Escapes one pointer segment: `~` → `~0`, `/` → `~1`.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one pointer segment: `~1` → `/`, `~0` → `~`.
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The pointer of a path of segments (`["a", "b/c"]` → `/a/b~1c`).
pub fn of<S: AsRef<str>>(path: &[S]) -> String {
    let mut out = String::new();
    for segment in path {
        out.push('/');
        out.push_str(&escape(segment.as_ref()));
    }
    out
}

/// The unescaped segments of a pointer (`""`, the whole document, has none).
pub fn segments(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .map(unescape)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let path = ["metadata", "annotations", "a/b~c"];
        let p = of(&path);
        assert_eq!(p, "/metadata/annotations/a~1b~0c");
        assert_eq!(segments(&p), path);
        assert_eq!(segments(""), Vec::<String>::new());
        // `~01` is `~1` unescaped, not `/`.
        assert_eq!(unescape("~01"), "~1");
    }
}
