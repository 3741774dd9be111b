//! Settings resolved once: the global flags and every environment variable the binary reads
//! (the cloud ones in [`CloudEnv`]) become a [`GlobalSettings`] in `main`, before any command
//! runs (`RUST_LOG` and `PLINTH_LOG_FORMAT` for `logging.rs` too). No other module of the
//! binary, and no library, reads the environment.

use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::SystemTime;

use plinth_cloud::Secret;

use plinth_drift::source::kube::KubeEnv;
use plinth_vocab::redact::{self, Redactor};

use crate::args::GlobalArgs;
use crate::logging::{self, LogSettings};
use crate::printer::Printer;
use crate::progress;

/// The environment a Kubernetes client consults when no kubeconfig is named (as kubectl
/// reads it), read once here and handed to the drift library, which never reads it.
fn kube_env() -> KubeEnv {
    KubeEnv {
        kubeconfig: std::env::var_os("KUBECONFIG"),
        // `HOME`, or the user's home directory from the password database when it is unset.
        home: std::env::home_dir(),
        in_cluster: std::env::var_os("KUBERNETES_SERVICE_HOST").is_some(),
    }
}

/// The cloud settings of the environment (cloud drift), read once here: the libraries never
/// read them. Tokens are [`Secret`]s (`Debug` prints `<redacted>`).
#[derive(Debug, Clone, Default)]
pub struct CloudEnv {
    /// `STACKIT_API_ENDPOINT`: the `IaaS` API's base URL (wins over `clouds.stackit.endpoint`).
    pub stackit_endpoint: Option<String>,
    /// `STACKIT_API_TIMEOUT`: seconds (`--cloud-timeout` wins).
    pub stackit_timeout: Option<OsString>,
    /// `STACKIT_SERVICE_ACCOUNT_KEY_PATH`: a service-account key file (wins over a token).
    pub stackit_key_path: Option<PathBuf>,
    /// `STACKIT_SERVICE_ACCOUNT_TOKEN`: a static token.
    pub stackit_token: Option<Secret>,
    /// `SSL_CERT_FILE`: a CA bundle trusted besides the system's.
    pub ssl_cert_file: Option<PathBuf>,
    /// `VPSIE_API_URL`: the VPSie API's base URL (wins over `clouds.vpsie.endpoint`).
    pub vpsie_url: Option<String>,
    /// `VPSIE_CLIENT_ID` and `VPSIE_CLIENT_SECRET`: client credentials (win over a token).
    pub vpsie_client_id: Option<Secret>,
    pub vpsie_client_secret: Option<Secret>,
    /// `VPSIE_TOKEN`: a pre-issued access token.
    pub vpsie_token: Option<Secret>,
}

impl CloudEnv {
    fn read() -> Self {
        let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let secret = |name: &str| set(name).map(|v| Secret::new(v.to_string_lossy().into_owned()));
        Self {
            stackit_endpoint: set("STACKIT_API_ENDPOINT").map(|v| v.to_string_lossy().into_owned()),
            stackit_timeout: set("STACKIT_API_TIMEOUT"),
            stackit_key_path: set("STACKIT_SERVICE_ACCOUNT_KEY_PATH").map(PathBuf::from),
            stackit_token: secret("STACKIT_SERVICE_ACCOUNT_TOKEN"),
            ssl_cert_file: set("SSL_CERT_FILE").map(PathBuf::from),
            vpsie_url: set("VPSIE_API_URL").map(|v| v.to_string_lossy().into_owned()),
            vpsie_client_id: secret("VPSIE_CLIENT_ID"),
            vpsie_client_secret: secret("VPSIE_CLIENT_SECRET"),
            vpsie_token: secret("VPSIE_TOKEN"),
        }
    }
}

/// What every command may use, resolved once from the global flags and the environment.
#[derive(Debug, Clone)]
pub struct GlobalSettings {
    /// Verbosity (`-q`/`-v`) and colour: all terminal output goes through it.
    pub printer: Printer,
    /// `SOURCE_DATE_EPOCH`: the time reports are stamped with, for reproducible output.
    pub source_date_epoch: Option<i64>,
    /// The Kubernetes client environment (`KUBECONFIG`, `HOME`, in-cluster).
    pub kube_env: KubeEnv,
    /// Who emits `plinth apply`'s Events (`reportingInstance`): `POD_NAME` (the downward
    /// API in the `CronJob`), else `HOSTNAME`, else `plinth`; at most 128 characters.
    pub reporting_instance: String,
    /// The cloud settings of the environment (`STACKIT_*`, `SSL_CERT_FILE`).
    pub cloud_env: CloudEnv,
    /// The logs: `RUST_LOG`, `PLINTH_LOG_FORMAT` and the flags (see `logging.rs`).
    pub log: LogSettings,
}

impl GlobalSettings {
    /// Reads the global flags and the environment. Installs the run's one redaction key
    /// (`PLINTH_REDACTION_KEY`) first, so everything printed afterwards can be redacted with it.
    pub fn resolve(args: GlobalArgs) -> Self {
        let GlobalArgs {
            quiet,
            verbose,
            log_format,
        } = args;
        let log = LogSettings::resolve(
            quiet,
            verbose,
            log_format,
            std::env::var_os("RUST_LOG").as_deref(),
            std::env::var_os(logging::FORMAT_ENV).as_deref(),
        );
        let progress = progress::enabled(std::io::stderr().is_terminal(), quiet, log.is_json());
        if let Some(key) = std::env::var_os(redact::KEY_ENV).filter(|k| !k.is_empty()) {
            Redactor::install_shared(Redactor::with_key(key.as_encoded_bytes()));
        }
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = !no_color && std::io::stdout().is_terminal();
        Self {
            printer: Printer::new(quiet, verbose, color).with_progress(progress),
            log,
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok()),
            kube_env: kube_env(),
            cloud_env: CloudEnv::read(),
            reporting_instance: ["POD_NAME", "HOSTNAME"]
                .iter()
                .filter_map(|name| std::env::var(name).ok())
                .map(|v| v.trim().chars().take(128).collect::<String>())
                .find(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_graphic()))
                .unwrap_or_else(|| "plinth".to_owned()),
        }
    }

    /// Seconds since the epoch: `SOURCE_DATE_EPOCH` when set (reproducible reports), else now.
    pub fn now_epoch(&self) -> i64 {
        self.source_date_epoch.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        })
    }
}
