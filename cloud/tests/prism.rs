//! The STACKIT client's requests validated by Prism against the real `IaaS` `OpenAPI` documents
//! (v1 and v2): Prism runs `mock --errors`, so a request that violates the document (path,
//! parameters) gets a `4xx` instead of a mock answer and the test fails. A deliberately
//! invalid request shows that Prism does reject. Skipped (saying so) when Prism or the
//! specifications are absent. The documents declare no `securitySchemes`, so Prism does not
//! check authentication: the fake STACKIT server does.

use std::sync::Arc;

use http::Method;
use plinth_cloud::http::{Call, HttpClient, HttpConfig};
use plinth_cloud::stackit::{
    ApiVersion, Credentials, LabelForm, LabelSelector, StackitClient, StackitConfig,
};
use plinth_cloud::{CloudError, Deadline, RetryPolicy, Secret, SystemClock};
use plinth_testkit::prism::{Prism, shared_spec};

const PROJECT: &str = "d61a8564-c8dd-4ffb-bc15-143e7d0c85ed";

fn http() -> HttpConfig {
    HttpConfig {
        policy: RetryPolicy::new(1, std::time::Duration::from_secs(30)),
        allow_http_loopback: true,
        ..HttpConfig::default()
    }
}

fn prism(file: &str) -> Option<Prism> {
    let prism = Prism::start(&shared_spec(&format!("stackit-iaas/{file}")));
    if prism.is_none() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: Prism validation of `{file}`");
        }
    }
    prism
}

#[tokio::test]
async fn the_clients_list_requests_pass_prism_validation_against_the_real_specs() {
    for (file, api_version) in [
        ("iaas-v2.json", ApiVersion::V2),
        ("iaas-v1.json", ApiVersion::V1),
    ] {
        let Some(prism) = prism(file) else {
            return;
        };
        let client = StackitClient::new(
            StackitConfig {
                project_id: PROJECT.to_owned(),
                region: "eu01".to_owned(),
                endpoint: prism.url(),
                api_version,
                http: http(),
            },
            Credentials::static_token(Secret::new("prism-does-not-check-auth")).unwrap(),
            Arc::new(SystemClock),
        )
        .unwrap();
        let selectors = [
            LabelSelector::new()
                .equals(LabelForm::Current.class_key(), "workers-a1b2c")
                .unwrap(),
            LabelSelector::new()
                .equals(LabelForm::Legacy.class_key(), "workers")
                .unwrap()
                .equals("role", "node")
                .unwrap(),
            LabelSelector::new(),
        ];
        for selector in &selectors {
            for details in [true, false] {
                let listed = client
                    .list_servers(
                        selector,
                        details,
                        Deadline::after(std::time::Duration::from_mins(2)),
                    )
                    .await;
                if let Err(err) = listed {
                    panic!(
                        "{file}: Prism refused `{}` (details={details}): {err}\n{}",
                        selector.to_query(),
                        prism.log_text()
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn prism_rejects_a_request_that_violates_the_spec() {
    let Some(prism) = prism("iaas-v2.json") else {
        return;
    };
    let client = HttpClient::new(http()).unwrap();
    let token = Secret::new("t");
    let send = |path: &str, query: Vec<(&'static str, String)>| {
        let url = client
            .check_url("test", &format!("{}{path}", prism.url()))
            .unwrap();
        let client = client.clone();
        let token = token.clone();
        async move {
            client
                .send(
                    &Call {
                        method: Method::GET,
                        url,
                        operation: "ListServers",
                        query,
                        bearer: Some(&token),
                        form: None,
                        form_each: None,
                    },
                    Deadline::none(),
                )
                .await
        }
    };
    // The valid request first, so a rejection below is Prism's validation.
    let path = format!("/v2/projects/{PROJECT}/regions/eu01/servers");
    send(&path, vec![("details", "true".to_owned())])
        .await
        .unwrap();
    for (path, query) in [
        // A project id that is not a UUID.
        (
            "/v2/projects/not-a-uuid/regions/eu01/servers".to_owned(),
            vec![],
        ),
        // `details` that is not a boolean.
        (path.clone(), vec![("details", "yes please".to_owned())]),
    ] {
        let err = send(&path, query).await.unwrap_err();
        match &err {
            CloudError::Status { status, .. } if status.is_client_error() => {}
            other => panic!("expected a 4xx rejection, got: {other}"),
        }
    }
}
