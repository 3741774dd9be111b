//! MachineConfig ignition file contents for people: the RFC 2397 `data:` URLs of
//! `spec.config.storage.files[*].contents.source` (and `append[*].source`) decoded, shown as
//! a line diff of the two texts, and never shown (not even encoded) when the decoded content
//! looks secret. Used by [`Report::redacted`](super::Report::redacted) only, so that every
//! format gets the same, already redacted, view.

use base64::Engine as _;
use serde_json::Value;

use plinth_vocab::ObjectRef;
use plinth_vocab::pointer;
use plinth_vocab::redact::Redactor;

/// The API group of `MachineConfig`.
const GROUP: &str = "machineconfiguration.openshift.io";

/// `data:` URLs longer than this are not decoded (an object in etcd is at most 1.5 MiB).
const MAX_URL_BYTES: usize = 4 << 20;

/// Decoded contents longer than this (either side) are not diffed: shown as they are.
const MAX_DIFF_BYTES: usize = 256 << 10;

/// The decoded line diff of one changed file source of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDiff {
    pub key: ObjectRef,
    /// The change's pointer.
    pub pointer: String,
    /// A unified diff (`--- desired`, `+++ live`, 3 lines of context) of the decoded texts.
    pub diff: String,
}

/// Whether objects of `key`'s kind hold ignition files.
pub fn holds_files(key: &ObjectRef) -> bool {
    key.group == GROUP && key.kind == "MachineConfig"
}

/// Whether `path` (unescaped segments) is a file source: `/spec/config/storage/files/N/
/// contents/source` or `/spec/config/storage/files/N/append/M/source`.
fn is_source(path: &[String]) -> bool {
    let index = |s: &String| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        [
            "spec",
            "config",
            "storage",
            "files",
            _,
            "contents",
            "source",
        ] => index(&path[4]),
        [
            "spec",
            "config",
            "storage",
            "files",
            _,
            "append",
            _,
            "source",
        ] => index(&path[4]) && index(&path[6]),
        _ => false,
    }
}

/// The bytes of an RFC 2397 `data:` URL (`data:,percent%20encoded`,
/// `data:text/plain;charset=utf-8;base64,aGk=`); `None` for anything else, an invalid
/// encoding or a URL longer than [`MAX_URL_BYTES`].
pub fn decode(url: &str) -> Option<Vec<u8>> {
    if url.len() > MAX_URL_BYTES {
        return None;
    }
    let rest = url
        .get(..5)?
        .eq_ignore_ascii_case("data:")
        .then(|| &url[5..])?;
    let (header, data) = rest.split_once(',')?;
    let bytes = percent_decode(data)?;
    let is_base64 = header
        .rsplit(';')
        .next()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("base64"));
    if !is_base64 {
        return Some(bytes);
    }
    let compact: Vec<u8> = bytes
        .into_iter()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
        .ok()
}

/// `%XX` escapes decoded; `None` for a `%` not followed by two hex digits.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The decoded content of a file source value when it is text (UTF-8 without control
/// characters other than tab, line feed, carriage return and form feed).
fn text_of(value: &Value) -> Option<String> {
    let text = String::from_utf8(decode(value.as_str()?)?).ok()?;
    let printable = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r' | '\u{c}'));
    printable.then_some(text)
}

/// Whether decoded content looks secret under plinth's redaction policy: some rule of
/// [`Redactor::redact_text`] rewrites it, or it looks like a credential as a whole.
fn looks_secret(redactor: &Redactor, content: &[u8]) -> bool {
    let text = String::from_utf8_lossy(content);
    Redactor::looks_secret(&text) || redactor.redact_text(&text) != text
}

/// Replaces by its fingerprint every file source in `value` (found at `at`, an RFC 6901
/// pointer into a `MachineConfig`) whose decoded content looks secret, so that no format
/// shows it, decoded or encoded.
pub fn hide_secret_contents(redactor: &Redactor, at: &str, value: &mut Value) {
    fn walk(redactor: &Redactor, path: &mut Vec<String>, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    path.push(k.clone());
                    walk(redactor, path, child);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    path.push(i.to_string());
                    walk(redactor, path, child);
                    path.pop();
                }
            }
            Value::String(url)
                if is_source(path)
                    && decode(url).is_some_and(|content| looks_secret(redactor, &content)) =>
            {
                *url = redactor.fingerprint(url);
            }
            _ => {}
        }
    }
    walk(redactor, &mut pointer::segments(at), value);
}

/// A file source change whose two sides are decoded text (an absent side counts as empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The line diff of the two texts; `None` when a side looked secret (it is now a
    /// fingerprint) or is larger than [`MAX_DIFF_BYTES`].
    pub diff: Option<String>,
}

/// Decodes a change at `at` of a `MachineConfig` when it is a file source whose sides are
/// both text `data:` URLs (or absent): each side whose content looks secret is replaced by its
/// fingerprint, and the other sides are diffed line by line. `None` (and nothing changed) for
/// anything else, which is redacted as any other value: its secrecy is the comparison's
/// verdict on the raw value.
pub fn decode_change(
    redactor: &Redactor,
    at: &str,
    desired: &mut Option<Value>,
    live: &mut Option<Value>,
) -> Option<Decoded> {
    if !is_source(&pointer::segments(at)) {
        return None;
    }
    let side = |v: &Option<Value>| match v {
        None => Some(String::new()),
        Some(v) => text_of(v),
    };
    let (old, new) = (side(desired)?, side(live)?);
    let mut hidden = false;
    for (text, value) in [(&old, desired), (&new, live)] {
        if let Some(Value::String(url)) = value
            && looks_secret(redactor, text.as_bytes())
        {
            *url = redactor.fingerprint(url);
            hidden = true;
        }
    }
    let small = old.len() <= MAX_DIFF_BYTES && new.len() <= MAX_DIFF_BYTES;
    let diff = (!hidden && small).then(|| {
        similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header("desired", "live")
            .to_string()
    });
    Some(Decoded { diff })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SOURCE: &str = "/spec/config/storage/files/0/contents/source";

    #[test]
    fn data_urls_decode_in_both_encodings() {
        let cases: [(&str, Option<&[u8]>); 9] = [
            ("data:,hello%20world%0A", Some(b"hello world\n")),
            ("data:,", Some(b"")),
            ("DATA:text/plain,a%2Cb,c", Some(b"a,b,c")),
            ("data:;base64,aGk=", Some(b"hi")),
            (
                "data:text/plain;charset=utf-8;base64,dmZpby1wY2kK",
                Some(b"vfio-pci\n"),
            ),
            ("data:;base64,aGk", Some(b"hi")),
            ("data:,bad%zz", None),
            ("data:;base64,@@@", None),
            ("https://example.com/file", None),
        ];
        for (url, want) in cases {
            assert_eq!(decode(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn only_file_sources_of_machine_configs_are_decoded() {
        assert!(holds_files(&ObjectRef::new(
            "machineconfiguration.openshift.io/v1",
            "MachineConfig",
            None,
            "99-worker"
        )));
        assert!(!holds_files(&ObjectRef::new(
            "v1",
            "ConfigMap",
            Some("n"),
            "c"
        )));
        let seg = |p: &str| pointer::segments(p);
        assert!(is_source(&seg(SOURCE)));
        assert!(is_source(&seg(
            "/spec/config/storage/files/12/append/3/source"
        )));
        assert!(!is_source(&seg(
            "/spec/config/storage/files/x/contents/source"
        )));
        assert!(!is_source(&seg("/spec/config/storage/files/0/contents")));
        assert!(!is_source(&seg("/spec/config/systemd/units/0/contents")));
    }

    fn diff(desired: Option<&Value>, live: Option<&Value>) -> Option<Decoded> {
        let r = Redactor::with_key(b"k");
        let (mut desired, mut live) = (desired.cloned(), live.cloned());
        decode_change(&r, SOURCE, &mut desired, &mut live)
    }

    #[test]
    fn text_sides_become_a_line_diff() {
        let url = |t: &str| {
            json!(format!(
                "data:text/plain;charset=utf-8;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(t)
            ))
        };
        let desired = url("options vfio-pci ids=10de:20b7\nsoftdep nouveau pre: vfio-pci\n");
        let live = url("options vfio-pci ids=10de:1eb8\nsoftdep nouveau pre: vfio-pci\n");
        assert_eq!(
            diff(Some(&desired), Some(&live)),
            Some(Decoded {
                diff: Some(
                    "--- desired\n+++ live\n@@ -1,2 +1,2 @@\n-options vfio-pci ids=10de:20b7\n\
                     +options vfio-pci ids=10de:1eb8\n softdep nouveau pre: vfio-pci\n"
                        .to_owned()
                )
            })
        );
        // An absent side is empty; a percent-encoded side is text too.
        let added = diff(None, Some(&json!("data:,a%0Ab%0A")))
            .and_then(|d| d.diff)
            .unwrap();
        assert!(added.ends_with("@@ -0,0 +1,2 @@\n+a\n+b\n"), "{added}");
        // Binary content, an invalid encoding: not decoded, redacted as any value.
        assert_eq!(
            diff(Some(&json!("data:;base64,AAECAw==")), Some(&live)),
            None
        );
        assert_eq!(diff(Some(&json!("data:,%")), Some(&live)), None);
        // Another field of the file.
        let r = Redactor::with_key(b"k");
        let (mut d, mut l) = (Some(desired.clone()), Some(live.clone()));
        assert_eq!(
            decode_change(&r, "/spec/config/storage/files/0/path", &mut d, &mut l),
            None
        );
        // Too large to diff: decoded (and checked) but shown as it is.
        let big = url(&"x\n".repeat(MAX_DIFF_BYTES));
        assert_eq!(diff(Some(&big), Some(&live)), Some(Decoded { diff: None }));
    }

    #[test]
    fn secret_contents_are_fingerprinted_wherever_they_sit() {
        let r = Redactor::with_key(b"k");
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
        let pem = format!(
            "data:;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        );
        let password = "data:,user%3Dadmin%0Apassword%3Dhunter2-hunter2%0A";
        let plain = "data:,hello%0A";
        let mut whole = json!({"files": [
            {"path": "/etc/k", "contents": {"source": pem}},
            {"path": "/etc/p", "contents": {"source": password}},
            {"path": "/etc/h", "contents": {"source": plain}, "append": [{"source": password}]},
        ]});
        hide_secret_contents(&r, "/spec/config/storage", &mut whole);
        let files = &whole["files"];
        for hidden in [
            &files[0]["contents"]["source"],
            &files[1]["contents"]["source"],
            &files[2]["append"][0]["source"],
        ] {
            assert!(
                hidden
                    .as_str()
                    .unwrap()
                    .starts_with("<redacted hmac-sha256:"),
                "{hidden}"
            );
        }
        assert_eq!(files[2]["contents"]["source"], plain);
        // A leaf change: the secret side is a fingerprint, the other stays, and no diff.
        let (mut desired, mut live) = (Some(json!(plain)), Some(json!(password)));
        let decoded = decode_change(&r, SOURCE, &mut desired, &mut live);
        assert_eq!(decoded, Some(Decoded { diff: None }));
        assert_eq!(desired, Some(json!(plain)));
        assert_eq!(live, Some(json!(r.fingerprint(password))));
    }
}
