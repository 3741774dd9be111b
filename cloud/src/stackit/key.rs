//! A STACKIT service-account key ([`ServiceAccountKey`]): the JSON file the STACKIT portal
//! hands out, parsed and validated, and the RS512-signed JWT assertion made from it for the
//! token endpoint.
//!
//! Errors name the origin and the field (`credentials.kid`), never a value of the key; the
//! RSA private key lives only inside `ring`'s key pair, its PEM and DER bytes are zeroed once
//! parsed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA512, RsaKeyPair};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::error::CloudError;
use crate::secret::Secret;

/// How long an assertion is valid (the `exp` claim is `iat` plus this).
pub const ASSERTION_LIFETIME: Duration = Duration::from_hours(1);
/// The limit on a key file.
const MAX_KEY_BYTES: usize = 64 * 1024;

/// A parsed service-account key: who it is (`iss`, `sub`, `aud`, `kid`), where its tokens come
/// from, and the private key that signs its assertions.
pub struct ServiceAccountKey {
    origin: String,
    kid: String,
    iss: String,
    sub: String,
    aud: String,
    token_endpoint: Option<String>,
    key_pair: RsaKeyPair,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("origin", &self.origin)
            .field("sub", &self.sub)
            .field("private_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Parses the key JSON `text` read from `origin` (a file name or setting, for errors).
    /// `private_key` is the PEM private key when it is supplied separately; otherwise the
    /// key's `credentials.privateKey` must hold it.
    pub fn parse(
        origin: &str,
        text: &[u8],
        private_key: Option<&Secret>,
    ) -> Result<Self, CloudError> {
        let err = |field: &str, message: &str| CloudError::Credentials {
            origin: format!("service-account key `{origin}`"),
            field: field.to_owned(),
            message: message.to_owned(),
        };
        if text.len() > MAX_KEY_BYTES {
            return Err(err(
                "(file)",
                &format!("is larger than {MAX_KEY_BYTES} bytes"),
            ));
        }
        // Parsed as a value first: serde's messages for typed fields can quote the value.
        let value: Zeroizing<String> = Zeroizing::new(
            String::from_utf8(text.to_vec()).map_err(|_| err("(file)", "is not UTF-8 text"))?,
        );
        let mut doc: Value = serde_json::from_str(&value).map_err(|e| {
            err(
                "(file)",
                &format!(
                    "is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        // The inline private key leaves the document at once, into memory zeroed on drop.
        let inline_key = match doc.pointer_mut("/credentials/privateKey").map(Value::take) {
            Some(Value::String(pem)) => Some(Ok(Zeroizing::new(pem))),
            Some(Value::Null) | None => None,
            Some(_) => Some(Err(())),
        };
        let Some(credentials) = doc.get("credentials").filter(|c| c.is_object()) else {
            return Err(err("credentials", "is missing or not an object"));
        };
        let text_field = |name: &str| -> Result<String, CloudError> {
            match credentials.get(name) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                Some(Value::String(_)) => Err(err(&format!("credentials.{name}"), "is empty")),
                Some(_) => Err(err(&format!("credentials.{name}"), "is not a string")),
                None => Err(err(&format!("credentials.{name}"), "is missing")),
            }
        };
        let kid = text_field("kid")?;
        let iss = text_field("iss")?;
        let sub = text_field("sub")?;
        if !super::is_uuid(&sub.to_ascii_lowercase()) {
            return Err(err("credentials.sub", "is not a UUID"));
        }
        let aud = text_field("aud")?;
        let token_endpoint = match credentials.get("tokenEndpoint") {
            None | Some(Value::Null) => None,
            Some(_) => Some(text_field("tokenEndpoint")?),
        };
        if doc.get("active") == Some(&Value::Bool(false)) {
            return Err(err("active", "is false: the key has been deactivated"));
        }
        let pem = match (private_key, &inline_key) {
            (Some(separate), _) => Zeroizing::new(separate.expose().as_bytes().to_vec()),
            (None, Some(Ok(inline))) => Zeroizing::new(inline.as_bytes().to_vec()),
            (None, None) => {
                return Err(err(
                    "credentials.privateKey",
                    "is missing and no private key was given separately",
                ));
            }
            (None, Some(Err(()))) => {
                return Err(err("credentials.privateKey", "is not a string"));
            }
        };
        let field = if private_key.is_some() {
            "private key"
        } else {
            "credentials.privateKey"
        };
        let key_pair = rsa_key_pair(&pem).map_err(|message| err(field, message))?;
        Ok(Self {
            origin: origin.to_owned(),
            kid,
            iss,
            sub,
            aud,
            token_endpoint,
            key_pair,
        })
    }

    /// Where the key came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The service account's id (`credentials.sub`).
    pub fn subject(&self) -> &str {
        &self.sub
    }

    /// The token endpoint the key names (`credentials.tokenEndpoint`), if any.
    pub fn token_endpoint(&self) -> Option<&str> {
        self.token_endpoint.as_deref()
    }

    /// A fresh assertion for the token endpoint, as of `now`: a JWT signed RS512 with header
    /// `kid`, claims `iss`, `sub`, `aud`, a random `jti`, `iat` = now, `exp` = now + 1 h.
    pub fn assertion(&self, now: SystemTime) -> Result<Secret, CloudError> {
        let iat = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| CloudError::config("the clock", "is before 1970"))?
            .as_secs();
        let header = json!({"alg": "RS512", "typ": "JWT", "kid": self.kid});
        let claims = json!({
            "iss": self.iss,
            "sub": self.sub,
            "aud": self.aud,
            "jti": random_uuid()?,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA512,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| CloudError::Credentials {
                origin: format!("service-account key `{}`", self.origin),
                field: "credentials.privateKey".to_owned(),
                message: "could not sign the assertion".to_owned(),
            })?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// The RSA key pair of a PEM private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
fn rsa_key_pair(pem: &[u8]) -> Result<RsaKeyPair, &'static str> {
    let der = PrivateKeyDer::from_pem_slice(pem)
        .map_err(|_| "is not a PEM private key (PKCS#8 or PKCS#1)")?;
    let pair = match &der {
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
        _ => return Err("is not an RSA private key"),
    };
    pair.map_err(|_| "is not a usable RSA private key (2048 to 8192 bits)")
}

/// A random (version 4) UUID, for `jti`.
fn random_uuid() -> Result<String, CloudError> {
    let mut b = [0_u8; 16];
    getrandom::fill(&mut b)
        .map_err(|_| CloudError::config("the random source", "is not available"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = |r: std::ops::Range<usize>| hex::encode(&b[r]);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_random_uuid_is_a_version_4_uuid() {
        let id = random_uuid().unwrap();
        assert!(super::super::is_uuid(&id), "{id}");
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, random_uuid().unwrap());
    }

    fn parse(text: &str) -> String {
        ServiceAccountKey::parse("sa.json", text.as_bytes(), None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_key_with_a_missing_or_bad_field_is_refused_naming_the_field() {
        assert_eq!(
            parse("{"),
            "service-account key `sa.json`: `(file)` is not valid JSON (line 1, column 1)"
        );
        assert_eq!(
            parse(r#"{"id": "x"}"#),
            "service-account key `sa.json`: `credentials` is missing or not an object"
        );
        assert_eq!(
            parse(r#"{"credentials": {"iss": "a", "sub": "b", "aud": "c"}}"#),
            "service-account key `sa.json`: `credentials.kid` is missing"
        );
        assert_eq!(
            parse(
                r#"{"credentials": {"kid": "k", "iss": "a", "sub": "not-a-uuid-s3cr3t", "aud": "c"}}"#
            ),
            "service-account key `sa.json`: `credentials.sub` is not a UUID"
        );
        let sub = "d61a8564-c8dd-4ffb-bc15-143e7d0c85ed";
        assert_eq!(
            parse(&format!(
                r#"{{"credentials": {{"kid": "k", "iss": "a", "sub": "{sub}", "aud": "c"}}}}"#
            )),
            "service-account key `sa.json`: `credentials.privateKey` is missing and no private key was given separately"
        );
        let err = parse(&format!(
            r#"{{"credentials": {{"kid": "k", "iss": "a", "sub": "{sub}", "aud": "c", "privateKey": "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"}}}}"#
        ));
        assert_eq!(
            err,
            "service-account key `sa.json`: `credentials.privateKey` is not a usable RSA private key (2048 to 8192 bits)"
        );
        assert_eq!(
            parse(&format!(
                r#"{{"active": false, "credentials": {{"kid": "k", "iss": "a", "sub": "{sub}", "aud": "c"}}}}"#
            )),
            "service-account key `sa.json`: `active` is false: the key has been deactivated"
        );
    }
}
