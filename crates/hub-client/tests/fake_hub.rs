//! Tests against tiny hand-written servers that misbehave on purpose: cross-origin redirects
//! (recording who received `Authorization`), redirect loops, hostile tree listings, and
//! pagination loops.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hub_client::{Endpoint, HubClient, HubError, RangeAnswer, RepoId, RetryPolicy, Token};

const TOKEN: &str = "hf_fake_secret_token";

/// What one listener saw: `(path and query, had Authorization)`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, bool)>>>);

impl Seen {
    fn record(&self, uri: &Uri, headers: &HeaderMap) {
        let auth = headers.get("authorization").is_some();
        self.0.lock().unwrap().push((uri.to_string(), auth));
    }

    fn all(&self) -> Vec<(String, bool)> {
        self.0.lock().unwrap().clone()
    }
}

#[derive(Clone)]
struct Ctx {
    seen: Seen,
    other_origin: String,
    handler: fn(&Ctx, &Uri) -> Response,
}

async fn serve(handler: fn(&Ctx, &Uri) -> Response, other_origin: String) -> (String, Seen) {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Seen::default();
    let ctx = Ctx {
        seen: seen.clone(),
        other_origin,
        handler,
    };
    let app = Router::new().fallback(
        |State(ctx): State<Ctx>, uri: Uri, headers: HeaderMap| async move {
            ctx.seen.record(&uri, &headers);
            (ctx.handler)(&ctx, &uri)
        },
    );
    let app = app.with_state(ctx);
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, seen)
}

fn client(url: &str) -> HubClient {
    HubClient::builder()
        .endpoint(Endpoint::parse(url).unwrap())
        .token(Token::new(TOKEN))
        .retry_policy(RetryPolicy {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [("location", to.to_owned())]).into_response()
}

fn json(body: &str, link: Option<String>) -> Response {
    let mut response = (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_owned(),
    )
        .into_response();
    if let Some(link) = link {
        response.headers_mut().insert("link", link.parse().unwrap());
    }
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_goes_to_the_endpoint_and_same_origin_hops_only() {
    // The other origin: a "CDN" on another port serving the bytes.
    let (cdn, cdn_seen) = serve(
        |_, _| {
            (
                StatusCode::OK,
                [("x-repo-commit", "c".repeat(40))],
                "hello cdn",
            )
                .into_response()
        },
        String::new(),
    )
    .await;
    // The endpoint: resolve -> same-origin hop -> cross-origin redirect with a signed query.
    let (hub, hub_seen) = serve(
        |ctx, uri| {
            if uri.path().contains("/resolve/") {
                redirect("/hop/1")
            } else {
                redirect(&format!(
                    "{}/blob?X-Amz-Signature=very-secret",
                    ctx.other_origin
                ))
            }
        },
        cdn.clone(),
    )
    .await;
    let client = client(&hub);
    let repo = RepoId::new("ns/model").unwrap();
    let mut download = client
        .download_range(&repo, "main", "m.gguf", 0)
        .await
        .unwrap();
    assert_eq!(download.answer, RangeAnswer::Full);
    let mut body = Vec::new();
    while let Some(chunk) = download.next().await {
        body.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(body, b"hello cdn");
    assert_eq!(
        hub_seen.all(),
        [
            ("/ns/model/resolve/main/m.gguf".to_owned(), true),
            ("/hop/1".to_owned(), true)
        ]
    );
    assert_eq!(
        cdn_seen.all(),
        [("/blob?X-Amz-Signature=very-secret".to_owned(), false)]
    );

    // A direct download URL never carries the token, not even on the endpoint's origin.
    let direct = url::Url::parse(&format!("{hub}/hop/2")).unwrap();
    let download = client.download_url(&direct, 0).await.unwrap();
    assert_eq!(download.answer, RangeAnswer::Full);
    assert_eq!(hub_seen.all()[2], ("/hop/2".to_owned(), false));
    assert_eq!(cdn_seen.all().len(), 2);
    assert!(cdn_seen.all().iter().all(|(_, auth)| !auth));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_repository_is_retried_and_a_plain_409_means_it_exists() {
    let (hub, seen) = serve(
        |_, _| {
            (
                StatusCode::CONFLICT,
                [("content-type", "application/json")],
                r#"{"error":"Cannot create repo: another conflicting operation is in progress"}"#,
            )
                .into_response()
        },
        String::new(),
    )
    .await;
    let repo = RepoId::new("ns/model").unwrap();
    let err = client(&hub).create_repo(&repo, false).await.unwrap_err();
    assert!(matches!(err, HubError::Conflict { .. }), "{err}");
    assert_eq!(seen.all().len(), 6, "five retries after the first attempt");

    let (hub, _) = serve(
        |_, _| (StatusCode::CONFLICT, r#"{"error":"You already created this model repo","url":"https://x.test/ns/model"}"#).into_response(),
        String::new(),
    )
    .await;
    let created = client(&hub).create_repo(&repo, false).await.unwrap();
    assert!(created.existed);
    assert_eq!(created.url, "https://x.test/ns/model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loops_and_odd_schemes_are_refused_without_leaking_queries() {
    let (hub, seen) = serve(
        |_, uri| redirect(&format!("{}?sig=secret", uri.path())),
        String::new(),
    )
    .await;
    let repo = RepoId::new("ns/model").unwrap();
    let err = client(&hub)
        .download_range(&repo, "main", "m.gguf", 0)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::RedirectRefused { .. }), "{err}");
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
    assert_eq!(seen.all().len(), 11);

    let (hub, _) = serve(|_, _| redirect("file:///etc/passwd"), String::new()).await;
    let err = client(&hub)
        .download_range(&repo, "main", "m.gguf", 0)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::RedirectRefused { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tree_entries_are_refused() {
    let (hub, _) = serve(
        |_, _| json(r#"[{"type":"file","oid":"x","size":1,"path":"ok.txt"},{"type":"file","oid":"x","size":1,"path":"../../etc/passwd"}]"#, None),
        String::new(),
    )
    .await;
    let repo = RepoId::new("ns/model").unwrap();
    let err = client(&hub)
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::UnsafePath { .. }), "{err}");
    assert!(err.to_string().contains("../../etc/passwd"), "{err}");

    // Handlers are plain functions, so each hostile listing gets its own.
    let hostile: [fn(&Ctx, &Uri) -> Response; 4] = [
        |_, _| {
            json(
                r#"[{"type":"file","oid":"x","size":1,"path":"C:\\x"}]"#,
                None,
            )
        },
        |_, _| {
            json(
                r#"[{"type":"file","oid":"x","size":1,"path":"/abs"}]"#,
                None,
            )
        },
        |_, _| {
            json(
                r#"[{"type":"file","oid":"x","size":1,"path":"a\u0001b"}]"#,
                None,
            )
        },
        |_, _| {
            json(
                r#"[{"type":"directory","oid":"x","size":0,"path":"a/../../b"}]"#,
                None,
            )
        },
    ];
    for handler in hostile {
        let (hub, _) = serve(handler, String::new()).await;
        let err = client(&hub)
            .list_tree(&repo, "main", None, true)
            .await
            .unwrap_err();
        assert!(matches!(err, HubError::UnsafePath { .. }), "{err}");
    }

    let (hub, _) = serve(|_, _| json(r#"{"not":"an array"}"#, None), String::new()).await;
    let err = client(&hub)
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::InvalidResponse { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("expected a JSON array of tree entries"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_loops_and_oversized_listings_are_refused() {
    let (hub, seen) = serve(
        |_, uri| {
            let next = if uri.query().is_some_and(|q| q.contains("cursor=2")) {
                "cursor=1"
            } else {
                "cursor=2"
            };
            json(
                r#"[{"type":"file","oid":"x","size":1,"path":"a"}]"#,
                Some(format!("<{}?{next}>; rel=\"next\"", uri.path())),
            )
        },
        String::new(),
    )
    .await;
    let repo = RepoId::new("ns/model").unwrap();
    let err = client(&hub)
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::InvalidResponse { .. }), "{err}");
    assert!(err.to_string().contains("loop"), "{err}");
    assert!(seen.all().len() <= 4, "{:?}", seen.all());

    // An endless listing with fresh cursors stops at the page limit.
    let (hub, _) = serve(
        |_, uri| {
            let n: u64 = uri
                .query()
                .and_then(|q| q.strip_prefix("cursor="))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            json(
                r#"[{"type":"file","oid":"x","size":1,"path":"a"}]"#,
                Some(format!("</p?cursor={}>; rel=\"next\"", n + 1)),
            )
        },
        String::new(),
    )
    .await;
    let limited = HubClient::builder()
        .endpoint(Endpoint::parse(&hub).unwrap())
        .limits(hub_client::Limits {
            max_pages: 20,
            ..Default::default()
        })
        .build()
        .unwrap();
    let err = limited
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::TooLarge { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_never_carry_the_token_or_presigned_queries() {
    let (hub, _) = serve(
        |_, _| {
            (
                StatusCode::BAD_REQUEST,
                [("x-error-message", "bad token hf_fake_secret_token")],
                r#"{"error":"see https://s3.test/b?X-Amz-Signature=very-secret"}"#,
            )
                .into_response()
        },
        String::new(),
    )
    .await;
    let repo = RepoId::new("ns/model").unwrap();
    let err = client(&hub).list_refs(&repo).await.unwrap_err();
    let text = format!("{err} / {err:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("very-secret"), "{text}");
    assert_eq!(err.status(), Some(400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_page_of_ten_thousand_entries_is_read_and_oversized_bodies_are_refused() {
    let (hub, _) = serve(
        |_, _| {
            let entries: Vec<String> = (0..10_000)
                .map(|i| {
                    format!(
                        r#"{{"type":"file","oid":"{i:040x}","size":{i},"path":"d/f{i:05}.bin"}}"#
                    )
                })
                .collect();
            json(&format!("[{}]", entries.join(",")), None)
        },
        String::new(),
    )
    .await;
    let repo = RepoId::new("ns/model").unwrap();
    let tree = client(&hub)
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap();
    assert_eq!(tree.len(), 10_000);
    assert_eq!(tree[9_999].path, "d/f09999.bin");

    let small = HubClient::builder()
        .endpoint(Endpoint::parse(&hub).unwrap())
        .limits(hub_client::Limits {
            max_api_body: 100_000,
            ..Default::default()
        })
        .build()
        .unwrap();
    let err = small
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::TooLarge { .. }), "{err}");

    let few = HubClient::builder()
        .endpoint(Endpoint::parse(&hub).unwrap())
        .limits(hub_client::Limits {
            max_entries: 5_000,
            ..Default::default()
        })
        .build()
        .unwrap();
    let err = few.list_tree(&repo, "main", None, true).await.unwrap_err();
    assert!(matches!(err, HubError::TooLarge { .. }), "{err}");
}
