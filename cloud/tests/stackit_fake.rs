//! The STACKIT client against the loopback fake STACKIT API: both label forms, v1 and v2, the
//! key flow with token caching, refresh and one retry on `401`, static tokens, and every fault
//! the HTTP layer must survive or report (429 with Retry-After, 5xx with secret bodies, slow
//! responses, oversized bodies, untrusted certificates), and that no planted secret reaches
//! an error.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use plinth_cloud::http::HttpConfig;
use plinth_cloud::stackit::{
    ApiVersion, Credentials, LabelForm, LabelSelector, Server, ServiceAccountKey, StackitClient,
    StackitConfig,
};
use plinth_cloud::tls::CaBundle;
use plinth_cloud::{Clock, CloudError, Deadline, RetryPolicy, Secret};
use plinth_testkit::stackit::{
    Endpoint, FakeStackit, StackitFault, StackitFaultKind, StackitScenario, TestKey,
};
use serde_json::{Value, json};

const PROJECT: &str = "d61a8564-c8dd-4ffb-bc15-143e7d0c85ed";
const REGION: &str = "eu01";
/// Planted secrets: none may appear in any error.
const STATIC_TOKEN: &str = "stackit-static-TOKEN-7f3a9c2e1b";
const SECRET_IN_5XX: &str = "db-password=Xy9!kQ2#mN7$vB4";
const SECRET_IN_4XX: &str = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";

/// A clock the test moves.
#[derive(Debug)]
struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(SystemTime::now())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().expect("test setup") += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().expect("test setup")
    }
}

fn server(name: &str, form: LabelForm, class: &str, status: &str, power: &str) -> Value {
    json!({
        "id": format!("00000000-0000-4000-8000-{:0>12}", name.len()),
        "name": name,
        "machineType": "c1.2",
        "imageId": "11111111-2222-4333-8444-555555555555",
        "availabilityZone": "eu01-1",
        "labels": {form.class_key(): class, form.machine_key(): name, "team": "platform"},
        "status": status,
        "powerStatus": power,
        "nics": [{"nicId": "n1", "networkId": "net-1", "ipv4": "10.0.0.4"}],
        "serviceAccountMails": ["sa@example.invalid"],
        "userData": "I2Nsb3VkLWNvbmZpZw==",
        "volumes": [],
    })
}

fn scenario() -> StackitScenario {
    StackitScenario::new(PROJECT, REGION)
        .server(server(
            "w-current",
            LabelForm::Current,
            "workers",
            "ACTIVE",
            "RUNNING",
        ))
        .server(server(
            "w-legacy",
            LabelForm::Legacy,
            "workers",
            "ERROR",
            "CRASHED",
        ))
        .server(server(
            "db-1",
            LabelForm::Current,
            "db",
            "ACTIVE",
            "RUNNING",
        ))
        .server(json!({"name": "not-ours", "machineType": "t1.1", "labels": {"team": "x"}}))
        .static_token(STATIC_TOKEN)
}

/// Fast retries (a few ms apart), every attempt limited to 2 s, the fake's CA trusted alone.
fn http_config(fake: &FakeStackit) -> HttpConfig {
    HttpConfig {
        policy: RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            timeout: Duration::from_secs(2),
        },
        ca_bundle: fake.ca_pem().map(|pem| CaBundle {
            origin: "fake CA".to_owned(),
            pem: pem.as_bytes().to_vec(),
        }),
        system_roots: false,
        allow_http_loopback: fake.ca_pem().is_none(),
        ..HttpConfig::default()
    }
}

fn config(fake: &FakeStackit, api_version: ApiVersion, http: HttpConfig) -> StackitConfig {
    StackitConfig {
        project_id: PROJECT.to_owned(),
        region: REGION.to_owned(),
        endpoint: fake.url(),
        api_version,
        http,
    }
}

fn key_credentials(fake: &FakeStackit, key: &TestKey) -> Credentials {
    let json = key.key_json(&fake.token_url(), true);
    let key = ServiceAccountKey::parse("sa.json", json.as_bytes(), None).expect("test setup");
    Credentials::service_account_key(key, None)
}

fn key_client(fake: &FakeStackit, clock: Arc<ManualClock>) -> StackitClient {
    StackitClient::new(
        config(fake, ApiVersion::V2, http_config(fake)),
        key_credentials(fake, &TestKey::primary()),
        clock,
    )
    .expect("test setup")
}

fn token_client(fake: &FakeStackit, http: HttpConfig) -> StackitClient {
    StackitClient::new(
        config(fake, ApiVersion::V2, http),
        Credentials::static_token(Secret::new(STATIC_TOKEN)).expect("test setup"),
        ManualClock::new(),
    )
    .expect("test setup")
}

fn selector(form: LabelForm, class: &str) -> LabelSelector {
    LabelSelector::new()
        .equals(form.class_key(), class)
        .expect("test setup")
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_mins(1))
}

/// A fault on the list endpoint for the next `times` requests.
fn on_list(times: u32, kind: StackitFaultKind) -> StackitFault {
    StackitFault::new(Endpoint::List, times, kind)
}

/// Every server of the project.
async fn list_all(client: &StackitClient, details: bool) -> Result<Vec<Server>, CloudError> {
    client
        .list_servers(&LabelSelector::new(), details, deadline())
        .await
}

fn start(scenario: StackitScenario) -> FakeStackit {
    FakeStackit::start(scenario).expect("test setup")
}

#[tokio::test]
async fn lists_servers_of_both_label_forms_over_https_with_a_service_account_key() {
    let fake = start(scenario());
    let client = key_client(&fake, ManualClock::new());
    let current = client
        .list_servers(&selector(LabelForm::Current, "workers"), true, deadline())
        .await
        .unwrap();
    let legacy = client
        .list_servers(&selector(LabelForm::Legacy, "workers"), true, deadline())
        .await
        .unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].name, "w-current");
    assert_eq!(
        current[0].machine_class(),
        Some((LabelForm::Current, "workers"))
    );
    assert_eq!(current[0].nics.len(), 1, "details=true returns the NICs");
    assert!(!current[0].is_unhealthy());
    assert_eq!(legacy.len(), 1);
    assert_eq!(
        legacy[0].machine_class(),
        Some((LabelForm::Legacy, "workers"))
    );
    assert!(legacy[0].is_unhealthy());

    let lists = fake.list_requests();
    assert_eq!(lists.len(), 2);
    assert_eq!(
        lists[0].path,
        format!("/v2/projects/{PROJECT}/regions/{REGION}/servers")
    );
    assert_eq!(
        lists[0].query.get("label_selector").map(String::as_str),
        Some("kubernetes.io/machineclass=workers")
    );
    assert_eq!(
        lists[1].query.get("label_selector").map(String::as_str),
        Some("mcm.gardener.cloud/machineclass=workers")
    );
    assert_eq!(
        lists[0].query.get("details").map(String::as_str),
        Some("true")
    );
    assert!(lists.iter().all(|r| r.bearer.is_some() && r.status == 200));
    let tokens = fake.token_requests();
    assert_eq!(tokens.len(), 1, "the token is cached: {tokens:?}");
    assert_eq!(tokens[0].refusal, None);
    assert_eq!(
        tokens[0].bearer, None,
        "the token request carries no bearer token"
    );
}

#[tokio::test]
async fn the_v1_path_and_details_false_leave_out_nics() {
    let fake = start(scenario());
    let client = StackitClient::new(
        config(&fake, ApiVersion::V1, http_config(&fake)),
        Credentials::static_token(Secret::new(STATIC_TOKEN)).unwrap(),
        ManualClock::new(),
    )
    .unwrap();
    let servers = list_all(&client, false).await.unwrap();
    assert_eq!(servers.len(), 4);
    assert!(
        servers
            .iter()
            .all(|s| s.nics.is_empty() && s.raw.get("userData").is_none())
    );
    let lists = fake.list_requests();
    assert_eq!(lists[0].path, format!("/v1/projects/{PROJECT}/servers"));
    assert_eq!(lists[0].query.get("label_selector"), None);
    assert_eq!(
        lists[0].query.get("details").map(String::as_str),
        Some("false")
    );
    assert_eq!(lists[0].bearer.as_deref(), Some(STATIC_TOKEN));
    assert!(fake.token_requests().is_empty());
}

#[tokio::test]
async fn plain_http_works_only_behind_the_loopback_flag() {
    let fake = start(scenario().plain_http());
    let mut http = http_config(&fake);
    http.allow_http_loopback = false;
    let err = StackitClient::new(
        config(&fake, ApiVersion::V2, http),
        Credentials::static_token(Secret::new(STATIC_TOKEN)).unwrap(),
        ManualClock::new(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("`endpoint` must be an `https://` URL"),
        "{err}"
    );
    let client = token_client(&fake, http_config(&fake));
    assert_eq!(
        client
            .list_servers(&selector(LabelForm::Current, "db"), true, deadline())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_cached_token_is_replaced_before_it_expires() {
    let fake = start(scenario().token_lifetime(Duration::from_hours(1)));
    let clock = ManualClock::new();
    let client = key_client(&fake, Arc::clone(&clock));
    let all = LabelSelector::new();
    client.list_servers(&all, false, deadline()).await.unwrap();
    clock.advance(Duration::from_mins(30));
    client.list_servers(&all, false, deadline()).await.unwrap();
    assert_eq!(
        fake.token_requests().len(),
        1,
        "still fresh after 30 minutes"
    );
    // 59m30s in: less than the 60 s leeway is left.
    clock.advance(Duration::from_secs(29 * 60 + 30));
    client.list_servers(&all, false, deadline()).await.unwrap();
    assert_eq!(fake.token_requests().len(), 2, "replaced within the leeway");
    let lists = fake.list_requests();
    assert_eq!(lists[0].bearer, lists[1].bearer);
    assert_ne!(lists[1].bearer, lists[2].bearer, "the new token is used");
}

#[tokio::test]
async fn a_401_gets_one_fresh_token_and_one_retry() {
    let fake = start(scenario());
    let client = key_client(&fake, ManualClock::new());
    list_all(&client, false).await.unwrap();
    // The token is revoked on the server side before it expires.
    fake.expire_tokens();
    let servers = list_all(&client, false).await.unwrap();
    assert_eq!(servers.len(), 4);
    let statuses: Vec<u16> = fake.list_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 401, 200]);
    // The fake verified both assertions (RS512 signature, kid, iss, sub, aud, the one-hour
    // lifetime) and refuses a jti it has seen: each assertion is fresh.
    let tokens = fake.token_requests();
    assert_eq!(tokens.len(), 2);
    assert!(
        tokens
            .iter()
            .all(|t| t.status == 200 && t.refusal.is_none()),
        "{tokens:?}"
    );
}

/// The token endpoint spends an assertion and its answer is lost (a `502` on the way back):
/// the retry signs a new assertion (a fresh `jti`), which the endpoint accepts, instead of
/// sending the spent one again (`invalid_grant`, never retried).
#[tokio::test]
async fn a_token_request_retried_after_a_lost_answer_sends_a_fresh_assertion() {
    let fake = start(scenario().fault(StackitFault::new(
        Endpoint::Token,
        1,
        StackitFaultKind::ProcessedThenLost { status: 502 },
    )));
    let client = key_client(&fake, ManualClock::new());
    let servers = list_all(&client, false).await.unwrap();
    assert_eq!(servers.len(), 4);
    let tokens = fake.token_requests();
    let answered: Vec<(u16, bool)> = tokens
        .iter()
        .map(|t| (t.status, t.refusal.is_none()))
        .collect();
    assert_eq!(answered, [(502, true), (200, true)], "{tokens:?}");
}

#[tokio::test]
async fn a_401_that_a_fresh_token_does_not_mend_is_reported_after_one_retry() {
    let fake = start(scenario().fault(on_list(10, StackitFaultKind::Unauthorized)));
    let client = key_client(&fake, ManualClock::new());
    let err = list_all(&client, false).await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert!(
        err.to_string()
            .starts_with("`GET` `ListServers` at `127.0.0.1:"),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("HTTP 401 Unauthorized: unauthorized"),
        "{err}"
    );
    assert_eq!(fake.list_requests().len(), 2);
    assert_eq!(fake.token_requests().len(), 2);
}

#[tokio::test]
async fn a_static_token_is_not_retried_on_401() {
    let fake = start(scenario().fault(on_list(1, StackitFaultKind::Unauthorized)));
    let client = token_client(&fake, http_config(&fake));
    let err = list_all(&client, false).await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!(fake.list_requests().len(), 1);
    assert!(fake.token_requests().is_empty());
}

#[tokio::test]
async fn an_assertion_the_token_endpoint_refuses_is_reported_with_its_redacted_reason() {
    let fake = start(scenario());
    let client = StackitClient::new(
        config(&fake, ApiVersion::V2, http_config(&fake)),
        key_credentials(&fake, &TestKey::other()),
        ManualClock::new(),
    )
    .unwrap();
    let err = list_all(&client, false).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("`POST` `token request` at `127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.ends_with("HTTP 400 Bad Request: kid is not the key's"),
        "{text}"
    );
    assert_eq!(
        fake.token_requests()[0].refusal.as_deref(),
        Some("kid is not the key's")
    );
    assert!(fake.list_requests().is_empty());
}

#[tokio::test]
async fn a_private_key_given_separately_is_used() {
    let fake = start(scenario());
    let key = TestKey::primary();
    let json = key.key_json(&fake.token_url(), false);
    let sa = ServiceAccountKey::parse(
        "sa.json",
        json.as_bytes(),
        Some(&Secret::new(key.private_pem)),
    )
    .unwrap();
    let client = StackitClient::new(
        config(&fake, ApiVersion::V2, http_config(&fake)),
        Credentials::service_account_key(sa, Some(fake.token_url())),
        ManualClock::new(),
    )
    .unwrap();
    list_all(&client, false).await.unwrap();
    assert_eq!(fake.token_requests().len(), 1);
}

#[tokio::test]
async fn a_429_is_retried_after_the_retry_after_wait() {
    let fake = start(scenario().fault(on_list(
        1,
        StackitFaultKind::TooManyRequests {
            retry_after: "1".to_owned(),
        },
    )));
    let client = token_client(&fake, http_config(&fake));
    let started = std::time::Instant::now();
    list_all(&client, false).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let statuses: Vec<u16> = fake.list_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
}

#[tokio::test]
async fn a_retry_after_past_the_deadline_ends_the_call_at_once() {
    let date = httpdate_in(Duration::from_mins(10));
    for retry_after in ["120".to_owned(), date] {
        let fake = start(scenario().fault(on_list(
            5,
            StackitFaultKind::TooManyRequests { retry_after },
        )));
        let client = token_client(&fake, http_config(&fake));
        let started = std::time::Instant::now();
        let err = client
            .list_servers(
                &LabelSelector::new(),
                false,
                Deadline::after(Duration::from_secs(5)),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, CloudError::Deadline { .. }), "{err}");
        assert!(
            err.to_string().contains("the server asked to retry after"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(fake.list_requests().len(), 1);
    }
}

/// An HTTP-date `ahead` from now.
fn httpdate_in(ahead: Duration) -> String {
    httpdate::fmt_http_date(SystemTime::now() + ahead)
}

#[tokio::test]
async fn a_5xx_is_retried_and_then_reported_without_its_body_but_with_the_request_id() {
    let fault = |times| {
        on_list(
            times,
            StackitFaultKind::ServerError {
                status: 503,
                body: format!("upstream failed: {SECRET_IN_5XX}"),
                request_id: "req-5f2a".to_owned(),
            },
        )
    };
    let fake = start(scenario().fault(fault(2)));
    let client = token_client(&fake, http_config(&fake));
    list_all(&client, false).await.unwrap();
    assert_eq!(fake.list_requests().len(), 3);

    let fake = start(scenario().fault(fault(10)));
    let client = token_client(&fake, http_config(&fake));
    let err = list_all(&client, false).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.ends_with(
            "failed after 4 attempt(s): HTTP 503 Service Unavailable (request id `req-5f2a`)"
        ),
        "{text}"
    );
    assert!(!format!("{text} {err:?}").contains("upstream failed"));
    assert_eq!(fake.list_requests().len(), 4, "at most 3 retries");
}

#[tokio::test]
async fn a_slow_response_times_out_and_is_retried_then_reported() {
    let slow = |times| {
        on_list(
            times,
            StackitFaultKind::Slow {
                delay: Duration::from_secs(5),
            },
        )
    };
    let fast_timeout = |fake: &FakeStackit| {
        let mut http = http_config(fake);
        http.policy.timeout = Duration::from_millis(300);
        http
    };
    let fake = start(scenario().fault(slow(1)));
    let client = token_client(&fake, fast_timeout(&fake));
    list_all(&client, false).await.unwrap();

    let fake = start(scenario().fault(slow(10)));
    let client = token_client(&fake, fast_timeout(&fake));
    let err = list_all(&client, false).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("failed after 4 attempt(s): no response within 300ms"),
        "{err}"
    );
}

#[tokio::test]
async fn an_oversized_body_stops_at_the_limit_declared_or_not() {
    for kind in [
        StackitFaultKind::Oversized { bytes: 1 << 20 },
        StackitFaultKind::Endless,
    ] {
        let fake = start(scenario().fault(on_list(1, kind)));
        let mut http = http_config(&fake);
        http.max_body_bytes = 64 * 1024;
        let client = token_client(&fake, http);
        let err = list_all(&client, false).await.unwrap_err();
        assert!(
            matches!(err, CloudError::TooLarge { limit: 65_536, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .ends_with("the response body exceeds the limit of 65536 bytes"),
            "{err}"
        );
        assert_eq!(fake.list_requests().len(), 1, "not retried");
    }
}

#[tokio::test]
async fn a_4xx_message_is_kept_and_redacted() {
    let fake = start(scenario().fault(on_list(
        1,
        StackitFaultKind::BadRequest {
            message: format!("label selector invalid near {SECRET_IN_4XX}"),
        },
    )));
    let client = token_client(&fake, http_config(&fake));
    let err = list_all(&client, false).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("HTTP 400 Bad Request: label selector invalid near "),
        "{text}"
    );
    assert!(!format!("{text} {err:?}").contains(SECRET_IN_4XX), "{text}");
}

#[tokio::test]
async fn a_server_certificate_from_an_untrusted_ca_is_refused_without_retrying() {
    let fake = start(scenario());
    let mut http = http_config(&fake);
    http.ca_bundle = Some(CaBundle {
        origin: "another CA".to_owned(),
        pem: start(scenario()).ca_pem().unwrap().as_bytes().to_vec(),
    });
    let client = token_client(&fake, http);
    let err = list_all(&client, false).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("failed after 1 attempt(s): the server certificate was not accepted"),
        "{err}"
    );
    assert!(fake.list_requests().is_empty());
}

#[tokio::test]
async fn no_planted_secret_reaches_an_error_or_a_debug_print() {
    let key = TestKey::primary();
    let planted = [
        STATIC_TOKEN,
        SECRET_IN_5XX,
        SECRET_IN_4XX,
        "MIIEv",                  // the start of every PKCS#8 RSA private key's base64
        "client-SECRET-9d8c7b6a", // a client secret inside the key file
        "fake-signature-",        // an issued access token
    ];
    let mut shown = Vec::new();
    let mut show = |what: String| shown.push(what);

    // A key file with a bad field, a client secret and the private key inline.
    let mut doc: Value =
        serde_json::from_str(&key.key_json("https://t.invalid/token", true)).unwrap();
    doc["credentials"]["clientSecret"] = planted[4].into();
    doc["credentials"]["sub"] = "not-a-uuid".into();
    let err = ServiceAccountKey::parse("sa.json", doc.to_string().as_bytes(), None).unwrap_err();
    show(format!("{err} {err:?}"));
    // A private key that is not one, given separately.
    let json = key.key_json("https://t.invalid/token", false);
    let broken = key.private_pem.replace("MIIEv", "MIIEw");
    let err = ServiceAccountKey::parse("sa.json", json.as_bytes(), Some(&Secret::new(broken)))
        .unwrap_err();
    show(format!("{err} {err:?}"));
    let sa = ServiceAccountKey::parse(
        "sa.json",
        json.as_bytes(),
        Some(&Secret::new(key.private_pem)),
    )
    .unwrap();
    show(format!("{sa:?}"));

    // 5xx and 4xx bodies with secrets, through the key flow (a cached token in the client).
    let fake = start(
        scenario()
            .fault(on_list(
                4,
                StackitFaultKind::ServerError {
                    status: 500,
                    body: json!({"msg": SECRET_IN_5XX, "token": STATIC_TOKEN}).to_string(),
                    request_id: "r1".to_owned(),
                },
            ))
            .fault(on_list(
                1,
                StackitFaultKind::BadRequest {
                    message: format!("Authorization: Bearer {SECRET_IN_4XX}"),
                },
            )),
    );
    let client = key_client(&fake, ManualClock::new());
    for _ in 0..2 {
        let err = list_all(&client, true).await.unwrap_err();
        show(format!("{err} {err:?}"));
    }
    show(format!("{client:?}"));
    // A static token refused.
    fake.inject(on_list(1, StackitFaultKind::Unauthorized));
    let client = token_client(&fake, http_config(&fake));
    let err = list_all(&client, true).await.unwrap_err();
    show(format!("{err} {err:?} {client:?}"));
    // A token endpoint that refuses the assertion.
    let other = StackitClient::new(
        config(&fake, ApiVersion::V2, http_config(&fake)),
        key_credentials(&fake, &TestKey::other()),
        ManualClock::new(),
    )
    .unwrap();
    let err = list_all(&other, true).await.unwrap_err();
    show(format!("{err} {err:?}"));

    assert!(shown.len() >= 8);
    for text in &shown {
        for secret in planted {
            assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
        }
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }
}
