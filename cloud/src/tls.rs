//! The TLS settings of every cloud client: rustls with the `ring` provider, TLS 1.2 or newer,
//! the server certificate always verified against the system's roots plus an optional CA
//! bundle. There is no switch that disables verification.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, RootCertStore};

use crate::error::CloudError;

/// Certificate authorities to trust besides the system's (a corporate proxy's, a test
/// server's): PEM certificates, and where they came from for errors (a file name, a setting).
#[derive(Clone, PartialEq, Eq)]
pub struct CaBundle {
    /// Where the bundle came from, for errors: `SSL_CERT_FILE`, a file name, `caFile`.
    pub origin: String,
    /// One or more PEM `CERTIFICATE` blocks.
    pub pem: Vec<u8>,
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaBundle")
            .field("origin", &self.origin)
            .field("bytes", &self.pem.len())
            .finish()
    }
}

/// The rustls client settings: TLS 1.3 and 1.2, the roots of the system (when `system_roots`)
/// and of `bundle`, no client certificate. No root at all is an error unless `allow_no_roots`
/// (a client for plain `http` loopback tests, which may run where the system has none).
pub(crate) fn client_config(
    bundle: Option<&CaBundle>,
    system_roots: bool,
    allow_no_roots: bool,
) -> Result<ClientConfig, CloudError> {
    let mut roots = RootCertStore::empty();
    if system_roots {
        // Certificates the platform store holds that rustls cannot parse are skipped, as
        // every rustls client does; an empty store is refused below.
        roots.add_parsable_certificates(platform_roots());
    }
    if let Some(bundle) = bundle {
        let field = format!("CA bundle `{}`", bundle.origin);
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bundle.pem)
            .collect::<Result<_, _>>()
            .map_err(|_| CloudError::config(&field, "is not a PEM certificate bundle"))?;
        if certs.is_empty() {
            return Err(CloudError::config(&field, "holds no PEM certificate"));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|_| CloudError::config(&field, "holds a certificate rustls rejects"))?;
        }
    }
    if roots.is_empty() && !allow_no_roots {
        return Err(CloudError::config(
            "CA bundle",
            "is needed: no trusted certificate authority was found in the system store",
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|_| CloudError::config("TLS", "versions 1.2 and 1.3 are not available"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// The CA bundles of Linux distributions (Debian and Ubuntu, Fedora and RHEL, openSUSE,
/// Alpine), the first that holds certificates wins; else the certificate folder.
#[cfg(target_os = "linux")]
const PLATFORM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The platform's trusted roots, never chosen by the environment: on Linux from the
/// distribution's bundle ([`PLATFORM_BUNDLES`]) or `/etc/ssl/certs`. (`load_native_certs`
/// lets `SSL_CERT_FILE`/`SSL_CERT_DIR` replace the platform store; here `SSL_CERT_FILE` is the
/// extra CA bundle the command line passes in, on top of the platform's roots.) Elsewhere the
/// platform's own store.
fn platform_roots() -> Vec<CertificateDer<'static>> {
    #[cfg(target_os = "linux")]
    {
        use std::path::Path;
        for bundle in PLATFORM_BUNDLES {
            let found = rustls_native_certs::load_certs_from_paths(Some(Path::new(bundle)), None);
            if !found.certs.is_empty() {
                return found.certs;
            }
        }
        rustls_native_certs::load_certs_from_paths(None, Some(Path::new("/etc/ssl/certs"))).certs
    }
    #[cfg(not(target_os = "linux"))]
    {
        rustls_native_certs::load_native_certs().certs
    }
}

/// Whether `err` (or a cause of it) is rustls refusing the server's certificate.
pub(crate) fn certificate_rejected(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(c) = cause {
        if is_certificate_error(c) {
            return true;
        }
        // `io::Error::source` skips the error it wraps: look inside it too.
        if let Some(inner) = c
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && (is_certificate_error(inner) || certificate_rejected(inner))
        {
            return true;
        }
        cause = c.source();
    }
    false
}

fn is_certificate_error(err: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        err.downcast_ref::<rustls::Error>(),
        Some(
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::UnsupportedNameType
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_that_is_not_pem_is_refused_naming_its_origin() {
        let bundle = CaBundle {
            origin: "ca.pem".to_owned(),
            pem: b"not a certificate".to_vec(),
        };
        let err = client_config(Some(&bundle), false, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cloud configuration: CA bundle `ca.pem` holds no PEM certificate"
        );
    }

    #[test]
    fn no_roots_at_all_is_refused() {
        let err = client_config(None, false, false).unwrap_err();
        assert!(
            err.to_string().contains("no trusted certificate authority"),
            "{err}"
        );
    }
}
