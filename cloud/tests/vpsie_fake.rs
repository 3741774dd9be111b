//! The VPSie client against the loopback fake VPSie API: the form-encoded token request with
//! reserved characters, token caching, renewal 5 minutes before expiry and one retry on `401`,
//! both auth headers and base paths, pagination, node groups, the `error: true` envelope, and
//! every fault the HTTP layer must survive or report (429, 5xx with secret bodies, slow and
//! oversized answers, untrusted certificates) — and that no credential reaches an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use plinth_cloud::http::HttpConfig;
use plinth_cloud::tls::CaBundle;
use plinth_cloud::vpsie::{AuthHeader, Credentials, NodeGroupInfo, Vm, VpsieClient, VpsieConfig};
use plinth_cloud::{Clock, CloudError, Deadline, Secret};
use plinth_testkit::vpsie::{
    AuthKind, FakeVpsie, Route, VpsieFault, VpsieFaultKind, VpsieScenario,
};
use serde_json::{Value, json};

/// The client's clock, in whole seconds since the epoch: starts where the fake's does and
/// moves only when the test says.
#[derive(Debug)]
struct TestClock(AtomicU64);

fn vm(n: u32) -> Value {
    json!({"id": n, "identifier": format!("00000000-0000-4000-8000-{n:012}"),
        "hostname": format!("workers-{n}"), "status": "running",
        "default_ip": format!("10.0.0.{n}"), "boxsize_id": 7,
        "created_on": "2026-11-30T10:00:00Z"})
}

fn scenario() -> VpsieScenario {
    VpsieScenario::new(CLIENT_ID, CLIENT_SECRET)
        .with(|s| s.vms = vec![vm(1), vm(2), vm(3)])
        .with(|s| {
            s.node_groups
                .entry(CLUSTER.to_owned())
                .or_default()
                .push(json!({"id": 4, "group_name": "workers", "boxsize_id": 7, "nodes_count": 3}));
        })
        .with(|s| s.static_tokens.push(PRE_ISSUED.to_owned()))
}

/// The fake of [`scenario`] with `fault`.
fn start_faulty(fault: VpsieFault) -> FakeVpsie {
    start(scenario().with(|s| s.faults.push(fault)))
}

fn start(scenario: VpsieScenario) -> FakeVpsie {
    FakeVpsie::start(scenario).expect("test setup")
}

/// Fast retries (4 attempts a few ms apart), every attempt limited to 2 s, the fake's CA
/// trusted alone, plain HTTP allowed when the fake serves it.
fn http_config(fake: &FakeVpsie) -> HttpConfig {
    let mut http = HttpConfig::default().with_timeout(Duration::from_secs(2));
    http.policy.attempts = 4;
    http.policy.base_delay = Duration::from_millis(5);
    http.policy.max_delay = Duration::from_millis(20);
    http.system_roots = false;
    http.allow_http_loopback = fake.ca_pem().is_none();
    http.ca_bundle = fake.ca_pem().map(|pem| CaBundle {
        origin: "fake CA".to_owned(),
        pem: pem.as_bytes().to_vec(),
    });
    http
}

fn config(fake: &FakeVpsie) -> VpsieConfig {
    VpsieConfig {
        base_url: fake.url(),
        http: http_config(fake),
        auth_header: AuthHeader::default(),
    }
}

fn client_credentials() -> Credentials {
    Credentials::client(Secret::new(CLIENT_ID), Secret::new(CLIENT_SECRET))
}

impl TestClock {
    fn at(start: SystemTime) -> Arc<Self> {
        let secs = start
            .duration_since(UNIX_EPOCH)
            .expect("test setup")
            .as_secs();
        Arc::new(Self(AtomicU64::new(secs)))
    }

    fn forward(&self, by: Duration) {
        self.0.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// Credentials with every character a form or a URL treats specially.
const CLIENT_ID: &str = "plinth-ID-4e1f&role=admin";
const CLIENT_SECRET: &str = "s3cr3t&clientId=evil=+% /é€🔑%2B";
/// Planted in server answers: none may appear in an error.
const SECRET_IN_BODY: &str = "db-password=Xy9!kQ2#mN7$vB4";
const PRE_ISSUED: &str = "vpsie-preissued-TOKEN-c0ffee42";
const CLUSTER: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

fn client_with(config: VpsieConfig, clock: Arc<TestClock>) -> VpsieClient {
    VpsieClient::new(config, client_credentials(), clock).expect("test setup")
}

fn client(fake: &FakeVpsie) -> VpsieClient {
    client_with(config(fake), TestClock::at(fake.now()))
}

fn token_client(fake: &FakeVpsie) -> VpsieClient {
    VpsieClient::new(
        config(fake),
        Credentials::token(Secret::new(PRE_ISSUED)),
        TestClock::at(fake.now()),
    )
    .expect("test setup")
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_mins(1))
}

fn on(route: Route, times: u32, kind: VpsieFaultKind) -> VpsieFault {
    VpsieFault::new(route, kind).times(times)
}

/// `err` is an `error: true` envelope with `code`, and says the code only.
fn assert_refused(err: &CloudError, code: i64) {
    assert!(
        matches!(err, CloudError::Refused { code: Some(c), .. } if *c == code),
        "{err}"
    );
    let suffix = format!(": the API reported an error (code {code})");
    assert!(err.to_string().ends_with(&suffix), "{err}");
}

fn statuses(fake: &FakeVpsie, route: Route) -> Vec<u16> {
    fake.requests_to(route).iter().map(|r| r.status).collect()
}

fn hostnames(vms: &[Vm]) -> Vec<&str> {
    vms.iter().map(|v| v.hostname.as_str()).collect()
}

#[tokio::test]
async fn a_secret_with_reserved_characters_arrives_byte_exact_and_injects_no_field() {
    let fake = start(scenario());
    let vms = client(&fake).list_vms(deadline()).await.unwrap();
    assert_eq!(vms.len(), 3);
    let tokens = fake.requests_to(Route::Token);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].refusal, None, "{tokens:?}");
    assert_eq!(tokens[0].method, "POST");
    assert_eq!(tokens[0].auth, AuthKind::None);
    // Exactly the two fields, decoded to the very bytes given: no `role` or second
    // `clientId` field, `+` not turned into a space, `%2B` not decoded twice.
    assert_eq!(
        tokens[0].form.as_deref(),
        Some(
            &[
                ("clientId".to_owned(), CLIENT_ID.to_owned()),
                ("clientSecret".to_owned(), CLIENT_SECRET.to_owned()),
            ][..]
        )
    );
}

#[tokio::test]
async fn lists_vms_over_https_with_one_cached_token() {
    let fake = start(scenario());
    let client = client(&fake);
    for _ in 0..3 {
        let vms = client.list_vms(deadline()).await.unwrap();
        assert_eq!(hostnames(&vms), ["workers-1", "workers-2", "workers-3"]);
        assert_eq!(vms[1].default_ip.as_deref(), Some("10.0.0.2"));
        assert_eq!(vms[1].id, Some(2));
    }
    assert_eq!(
        fake.requests_to(Route::Token).len(),
        1,
        "the token is cached"
    );
    let lists = fake.requests_to(Route::Vms);
    assert_eq!(lists.len(), 3);
    assert!(lists.iter().all(|r| r.path == "/v2/vm"
        && r.auth == AuthKind::Bearer
        && r.status == 200
        && r.query.is_empty()));
    assert_eq!(client.requests_made(), 4);
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request() {
    let fake = start(scenario());
    let client = client(&fake);
    let (a, b, c, d) = tokio::join!(
        client.list_vms(deadline()),
        client.list_vms(deadline()),
        client.list_node_groups(CLUSTER, deadline()),
        client.list_vms(deadline()),
    );
    assert_eq!(a.unwrap().len() + b.unwrap().len() + d.unwrap().len(), 9);
    assert_eq!(c.unwrap().len(), 1);
    assert_eq!(fake.requests_to(Route::Token).len(), 1);
}

#[tokio::test]
async fn the_vpsie_auth_header_and_the_apps_v2_base_path() {
    let fake = start(
        scenario()
            .with(|s| s.base_path = "/apps/v2".to_owned())
            .with(|s| s.tls = false),
    );
    let config = VpsieConfig {
        auth_header: AuthHeader::VpsieAuth,
        ..config(&fake)
    };
    assert!(config.base_url.ends_with("/apps/v2"));
    let client = client_with(config, TestClock::at(fake.now()));
    client.list_vms(deadline()).await.unwrap();
    let requests = fake.requests();
    let seen: Vec<(&str, AuthKind, u16)> = requests
        .iter()
        .map(|r| (r.path.as_str(), r.auth, r.status))
        .collect();
    assert_eq!(
        seen,
        [
            ("/apps/v2/auth/from/api", AuthKind::None, 200),
            ("/apps/v2/vm", AuthKind::VpsieAuth, 200),
        ]
    );
    assert_eq!(fake.issued_tokens(), [requests[1].token.clone().unwrap()]);
}

#[tokio::test]
async fn plain_http_works_only_behind_the_loopback_flag() {
    let fake = start(scenario().with(|s| s.tls = false));
    let mut config = config(&fake);
    config.http.allow_http_loopback = false;
    let err = VpsieClient::new(config, client_credentials(), TestClock::at(fake.now()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`url` must be an `https://` URL"), "{err}");
}

#[tokio::test]
async fn the_token_is_renewed_five_minutes_before_it_expires() {
    let fake = start(scenario().with(|s| s.token_lifetime = Duration::from_hours(1)));
    let clock = TestClock::at(fake.now());
    let client = client_with(config(&fake), Arc::clone(&clock));
    client.list_vms(deadline()).await.unwrap();
    clock.forward(Duration::from_secs(54 * 60 + 59));
    client.list_vms(deadline()).await.unwrap();
    assert_eq!(
        fake.requests_to(Route::Token).len(),
        1,
        "5 min 1 s left: still used"
    );
    clock.forward(Duration::from_secs(2));
    client.list_vms(deadline()).await.unwrap();
    assert_eq!(
        fake.requests_to(Route::Token).len(),
        2,
        "4 min 59 s left: renewed"
    );
    let used: Vec<Option<String>> = fake
        .requests_to(Route::Vms)
        .into_iter()
        .map(|r| r.token)
        .collect();
    assert_eq!(used[0], used[1]);
    assert_ne!(used[1], used[2], "the new token is used");
}

#[tokio::test]
async fn a_401_gets_one_renewal_and_one_retry() {
    let fake = start(scenario());
    let client = client(&fake);
    client.list_vms(deadline()).await.unwrap();
    // The server's clock passes the token's expiry; the client's does not.
    fake.advance(Duration::from_hours(2));
    assert_eq!(client.list_vms(deadline()).await.unwrap().len(), 3);
    assert_eq!(statuses(&fake, Route::Vms), [200, 401, 200]);
    assert_eq!(statuses(&fake, Route::Token), [200, 200]);

    // A 401 by call number, then success.
    fake.inject(VpsieFault::new(
        Route::NodeGroups,
        VpsieFaultKind::Unauthorized,
    ));
    let groups = client.list_node_groups(CLUSTER, deadline()).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(statuses(&fake, Route::NodeGroups), [401, 200]);
    assert_eq!(fake.requests_to(Route::Token).len(), 3);
}

#[tokio::test]
async fn a_second_401_fails_as_unauthorized_without_quoting_the_body() {
    let fake = start_faulty(on(Route::Vms, 10, VpsieFaultKind::Unauthorized));
    let err = client(&fake).list_vms(deadline()).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    let text = err.to_string();
    assert!(text.starts_with("`GET` `ListVMs` at `127.0.0.1:"), "{text}");
    assert!(text.ends_with("HTTP 401 Unauthorized"), "{text}");
    assert_eq!(statuses(&fake, Route::Vms), [401, 401]);
    assert_eq!(fake.requests_to(Route::Token).len(), 2);
}

#[tokio::test]
async fn a_pre_issued_token_is_sent_as_given_and_not_renewed() {
    let fake = start_faulty(on(Route::Vms, 1, VpsieFaultKind::Unauthorized));
    let client = token_client(&fake);
    let err = client.list_vms(deadline()).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(client.list_vms(deadline()).await.unwrap().len(), 3);
    let lists = fake.requests_to(Route::Vms);
    assert!(lists.iter().all(|r| r.token.as_deref() == Some(PRE_ISSUED)));
    assert!(fake.requests_to(Route::Token).is_empty());
}

#[tokio::test]
async fn a_429_and_a_5xx_are_retried_then_succeed() {
    let fake = start(
        scenario()
            .with(|s| {
                s.faults.push(on(
                    Route::Vms,
                    1,
                    VpsieFaultKind::TooManyRequests {
                        retry_after: "1".to_owned(),
                    },
                ));
            })
            .with(|s| {
                s.faults.push(
                    VpsieFault::new(
                        Route::Vms,
                        VpsieFaultKind::ServerError {
                            status: 503,
                            body: SECRET_IN_BODY.to_owned(),
                        },
                    )
                    .at_call(2),
                );
            })
            .with(|s| {
                s.faults.push(on(
                    Route::Token,
                    1,
                    VpsieFaultKind::ServerError {
                        status: 502,
                        body: SECRET_IN_BODY.to_owned(),
                    },
                ));
            }),
    );
    let started = std::time::Instant::now();
    assert_eq!(client(&fake).list_vms(deadline()).await.unwrap().len(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(statuses(&fake, Route::Token), [502, 200]);
    assert_eq!(statuses(&fake, Route::Vms), [429, 503, 200]);
}

#[tokio::test]
async fn a_5xx_body_with_a_secret_never_reaches_the_error() {
    let fake = start(scenario().with(|s| {
        s.faults.push(on(
            Route::Vms,
            10,
            VpsieFaultKind::ServerError {
                status: 500,
                body: json!({"error": "internal", "message": SECRET_IN_BODY}).to_string(),
            },
        ));
    }));
    let err = client(&fake).list_vms(deadline()).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        err.to_string().contains(
            "failed after 4 attempt(s): HTTP 500 Internal Server Error (request id `vpsie-req-"
        ),
        "{err}"
    );
    assert!(!text.contains(SECRET_IN_BODY), "{text}");
}

#[tokio::test]
async fn a_refused_token_request_reports_the_status_or_code_only_never_the_message() {
    // Wrong secret: the fake answers 401 with a message repeating the secret it received.
    let fake = start(scenario());
    let client = VpsieClient::new(
        config(&fake),
        Credentials::client(Secret::new(CLIENT_ID), Secret::new("wrong-s3cr3t-value")),
        TestClock::at(fake.now()),
    )
    .unwrap();
    let err = client.list_vms(deadline()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("`POST` `token request` at `127.0.0.1:"),
        "{text}"
    );
    assert!(text.ends_with("HTTP 401 Unauthorized"), "{text}");
    assert_eq!(
        fake.requests_to(Route::Token)[0].refusal.as_deref(),
        Some("the client id or secret is wrong")
    );
    assert!(fake.requests_to(Route::Vms).is_empty());

    // `error: true` with 200, the message naming the secret.
    let fake = start(scenario().with(|s| {
        s.faults.push(on(
            Route::Token,
            1,
            VpsieFaultKind::ErrorEnvelope {
                code: 403,
                message: format!("client {CLIENT_ID} secret {CLIENT_SECRET} disabled"),
            },
        ));
    }));
    let err = client_with(config(&fake), TestClock::at(fake.now()))
        .list_vms(deadline())
        .await
        .unwrap_err();
    assert_refused(&err, 403);
}

#[tokio::test]
async fn an_error_true_envelope_with_200_is_a_failure_naming_the_code_only() {
    let envelope = |code| VpsieFaultKind::ErrorEnvelope {
        code,
        message: format!("quota exceeded for {SECRET_IN_BODY}"),
    };
    let fake = start(
        scenario()
            .with(|s| s.faults.push(on(Route::Vms, 1, envelope(429))))
            .with(|s| s.faults.push(on(Route::NodeGroups, 1, envelope(500)))),
    );
    let client = client(&fake);
    let err = client.list_vms(deadline()).await.unwrap_err();
    assert_refused(&err, 429);
    let err = client
        .list_node_groups(CLUSTER, deadline())
        .await
        .unwrap_err();
    assert_refused(&err, 500);
    assert!(err.to_string().contains("`ListK8sNodeGroups`"), "{err}");
    assert_eq!(statuses(&fake, Route::Vms), [200], "not retried");
}

#[tokio::test]
async fn an_oversized_body_is_a_bounded_error() {
    for kind in [
        VpsieFaultKind::Oversized { bytes: 1 << 20 },
        VpsieFaultKind::Endless,
    ] {
        let fake = start(scenario().with(|s| s.faults.push(on(Route::Vms, 1, kind))));
        let mut config = config(&fake);
        config.http.max_body_bytes = 64 * 1024;
        let err = client_with(config, TestClock::at(fake.now()))
            .list_vms(deadline())
            .await
            .unwrap_err();
        assert!(
            matches!(err, CloudError::TooLarge { limit: 65_536, .. }),
            "{err}"
        );
        assert_eq!(fake.requests_to(Route::Vms).len(), 1, "not retried");
    }
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let fake = start(scenario().with(|s| {
        s.faults.push(on(
            Route::Vms,
            1,
            VpsieFaultKind::Slow {
                delay: Duration::from_secs(5),
            },
        ));
    }));
    let mut config = config(&fake);
    config.http.policy.timeout = Duration::from_millis(300);
    let client = client_with(config, TestClock::at(fake.now()));
    assert_eq!(client.list_vms(deadline()).await.unwrap().len(), 3);
    assert_eq!(fake.requests_to(Route::Vms).len(), 2);
}

#[tokio::test]
async fn pages_are_followed_while_pagination_announces_more() {
    let fake = start(VpsieScenario::new(CLIENT_ID, CLIENT_SECRET).with(|s| {
        s.page_size = Some(3);
        s.vms = (1..=7).map(vm).collect();
    }));
    let vms = client(&fake).list_vms(deadline()).await.unwrap();
    assert_eq!(
        vms.iter().filter_map(|v| v.id).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 7]
    );
    let pages: Vec<Option<String>> = fake
        .requests_to(Route::Vms)
        .into_iter()
        .map(|r| r.query.get("page").cloned())
        .collect();
    assert_eq!(pages, [None, Some("2".to_owned()), Some("3".to_owned())]);

    // Without `pagination` (govpsie's shape), one request.
    let fake = start(scenario());
    client(&fake).list_vms(deadline()).await.unwrap();
    assert_eq!(fake.requests_to(Route::Vms).len(), 1);
}

#[tokio::test]
async fn node_groups_of_a_cluster_with_the_identifier_path_escaped() {
    let odd = "team a/b?c#d%";
    let fake = start(
        scenario()
            .with(|s| {
                s.node_groups
                    .entry(odd.to_owned())
                    .or_default()
                    .push(json!({"id": 9, "group_name": "odd", "is_deleted": 1}));
            })
            .with(|s| {
                s.node_groups.entry("empty".to_owned()).or_default();
            }),
    );
    let client = client(&fake);
    let groups = client.list_node_groups(CLUSTER, deadline()).await.unwrap();
    assert_eq!(
        groups,
        [NodeGroupInfo::from_value(
            &json!({"id": 4, "group_name": "workers", "boxsize_id": 7, "nodes_count": 3})
        )
        .unwrap()]
    );
    let groups = client.list_node_groups(odd, deadline()).await.unwrap();
    assert!(groups[0].is_deleted());
    assert!(
        client
            .list_node_groups("empty", deadline())
            .await
            .unwrap()
            .is_empty()
    );
    let paths: Vec<String> = fake
        .requests_to(Route::NodeGroups)
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths[1],
        "/v2/k8s/node/groups/byClusterId/team%20a%2Fb%3Fc%23d%25"
    );
    let err = client
        .list_node_groups("no-such-cluster", deadline())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND), "{err}");
}

#[tokio::test]
async fn an_element_that_does_not_parse_is_an_error_naming_its_index_and_field() {
    let fake =
        start(scenario().with(|s| s.vms.push(json!({"id": 9, "default_ip": SECRET_IN_BODY}))));
    let err = client(&fake).list_vms(deadline()).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        err.to_string()
            .ends_with("unexpected response: `data[3]` has neither `hostname` nor `name`"),
        "{err}"
    );
    assert!(!text.contains(SECRET_IN_BODY));
}

#[tokio::test]
async fn an_untrusted_ca_fails_and_the_trusted_bundle_succeeds() {
    let fake = start(scenario());
    let other = start(scenario());
    let mut config = config(&fake);
    config.http.ca_bundle = Some(CaBundle {
        origin: "another CA".to_owned(),
        pem: other.ca_pem().unwrap().as_bytes().to_vec(),
    });
    let err = client_with(config, TestClock::at(fake.now()))
        .list_vms(deadline())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("failed after 1 attempt(s): the server certificate was not accepted"),
        "{err}"
    );
    assert!(fake.requests().is_empty(), "nothing was sent");
    assert_eq!(client(&fake).list_vms(deadline()).await.unwrap().len(), 3);
}

/// Every fault path, every error and every client printed: no client id, secret or token
/// (issued, pre-issued) and no planted body secret appears.
#[tokio::test]
async fn no_credential_reaches_any_error_display_or_debug() {
    let server_error = |times| {
        on(
            Route::Vms,
            times,
            VpsieFaultKind::ServerError {
                status: 500,
                body: json!({"message": SECRET_IN_BODY, "clientSecret": CLIENT_SECRET}).to_string(),
            },
        )
    };
    let leaky = |code| VpsieFaultKind::ErrorEnvelope {
        code,
        message: format!("{CLIENT_ID} {CLIENT_SECRET} {SECRET_IN_BODY} {PRE_ISSUED}"),
    };
    let mut shown = Vec::new();
    let mut errors = 0;
    let mut show = |err: Result<Vec<Vm>, CloudError>| {
        let err = err.expect_err("every path here fails");
        errors += 1;
        shown.push(format!("{err} {err:?}"));
    };

    let fake = start(scenario());
    let client = client(&fake);
    let plain = start(scenario().with(|s| s.tls = false));
    // 5xx with secret bodies, retried out.
    fake.inject(server_error(4));
    show(client.list_vms(deadline()).await);
    // error: true with the credentials in the message, on the API and the token request.
    fake.inject(on(Route::Vms, 1, leaky(401)).at_call(5));
    show(client.list_vms(deadline()).await);
    let fresh = client_with(config(&fake), TestClock::at(fake.now()));
    fake.inject(on(Route::Token, 1, leaky(403)).at_call(2));
    show(fresh.list_vms(deadline()).await);
    // 401 twice; a wrong secret echoed by the token endpoint.
    fake.inject(on(Route::Vms, 2, VpsieFaultKind::Unauthorized).at_call(6));
    show(client.list_vms(deadline()).await);
    let wrong = VpsieClient::new(
        config(&fake),
        Credentials::client(
            Secret::new(CLIENT_ID),
            Secret::new(format!("{CLIENT_SECRET}x")),
        ),
        TestClock::at(fake.now()),
    )
    .unwrap();
    show(wrong.list_vms(deadline()).await);
    // A pre-issued token refused; oversized; slow past the timeout; untrusted CA; plain http.
    let pre = token_client(&fake);
    fake.inject(on(Route::Vms, 1, VpsieFaultKind::Unauthorized).at_call(8));
    show(pre.list_vms(deadline()).await);
    fake.inject(on(Route::Vms, 1, VpsieFaultKind::Oversized { bytes: 1 << 20 }).at_call(9));
    let mut small = config(&fake);
    small.http.max_body_bytes = 1024;
    let small = client_with(small, TestClock::at(fake.now()));
    show(small.list_vms(deadline()).await);
    let mut quick = config(&fake);
    quick.http.policy.timeout = Duration::from_millis(200);
    quick.http.policy.attempts = 1;
    fake.inject(
        on(
            Route::Vms,
            1,
            VpsieFaultKind::Slow {
                delay: Duration::from_secs(3),
            },
        )
        .at_call(10),
    );
    show(
        client_with(quick, TestClock::at(fake.now()))
            .list_vms(deadline())
            .await,
    );
    let mut untrusted = config(&fake);
    untrusted.http.ca_bundle = Some(CaBundle {
        origin: "another CA".to_owned(),
        pem: start(scenario()).ca_pem().unwrap().as_bytes().to_vec(),
    });
    show(
        client_with(untrusted, TestClock::at(fake.now()))
            .list_vms(deadline())
            .await,
    );
    let mut no_flag = config(&plain);
    no_flag.http.allow_http_loopback = false;
    let err =
        VpsieClient::new(no_flag, client_credentials(), TestClock::at(fake.now())).unwrap_err();
    shown.push(format!("{err} {err:?}"));
    let err = VpsieClient::new(
        config(&fake),
        Credentials::token(Secret::new(format!("{PRE_ISSUED} x"))),
        TestClock::at(fake.now()),
    )
    .unwrap_err();
    shown.push(format!("{err} {err:?}"));
    shown.push(format!(
        "{client:?} {pre:?} {wrong:?} {:?}",
        client_credentials()
    ));

    assert_eq!(errors, 9);
    let mut planted = vec![
        CLIENT_ID.to_owned(),
        CLIENT_SECRET.to_owned(),
        SECRET_IN_BODY.to_owned(),
        PRE_ISSUED.to_owned(),
        "s3cr3t".to_owned(),
        "plinth-ID".to_owned(),
        "vpsie-token-".to_owned(),
    ];
    planted.extend(fake.issued_tokens());
    assert!(fake.issued_tokens().len() >= 3, "{:?}", fake.requests());
    for text in &shown {
        for secret in &planted {
            assert!(
                !text.contains(secret.as_str()),
                "`{secret}` leaked into: {text}"
            );
        }
    }
}

/// The nodes of a VPSie-managed cluster from its info (`GET /k8s/cluster/byId/{id}`): every
/// list read, each node once, its role from the list it came from; an unknown cluster is an
/// error, an element without hostname names its place.
#[tokio::test]
async fn cluster_nodes_from_the_cluster_info_each_once() {
    let fake = start(scenario().with(|s| {
        s.clusters.insert(
            CLUSTER.to_owned(),
            json!({"identifier": CLUSTER, "cluster_name": "c",
                "nodes": [{"identifier": "n-1", "hostname": "w1", "ip": "10.0.0.1", "status": "running", "role": "slave"},
                          {"identifier": "m-1", "hostname": "m1", "ip": "10.0.0.9", "status": "running", "role": "master"}],
                "slaves": [{"identifier": "n-1", "hostname": "w1", "ip": "10.0.0.1"},
                           {"identifier": "n-2", "hostname": "w2", "ip": "10.0.0.2"}],
                "masters": [{"identifier": "m-1", "hostname": "m1"}]}),
        );
        s.clusters.insert("broken".to_owned(), json!({"nodes": [{"ip": "10.0.0.3"}]}));
    }));
    let client = client(&fake);
    let nodes = client.cluster_nodes(CLUSTER, deadline()).await.unwrap();
    let names: Vec<(&str, Option<&str>)> = nodes
        .iter()
        .map(|n| (n.hostname.as_str(), n.role.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("w1", Some("slave")),
            ("m1", Some("master")),
            ("w2", Some("slave"))
        ]
    );
    assert!(nodes[1].is_master());
    let err = client
        .cluster_nodes("broken", deadline())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`data.nodes[0]` has no `hostname`"),
        "{err}"
    );
    assert!(client.cluster_nodes("unknown", deadline()).await.is_err());
}
