//! The token reaches the endpoint's own origin only: a download redirected to another origin
//! (ModelScope's object storage) gets neither the `Authorization` header nor the cookie.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use hub_client::Token;
use modelscope_client::{ModelId, ModelScopeClient, resolve_endpoint_with};

const SECRET: &str = "ms_secret_token_for_redirects";

async fn listen(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_stays_on_the_endpoint_origin() {
    let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let record = |who: &'static str, seen: Arc<Mutex<Vec<(String, bool)>>>| {
        move |headers: HeaderMap| {
            let leaked = headers.get(header::AUTHORIZATION).is_some()
                || headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains(SECRET));
            seen.lock().unwrap().push((who.to_owned(), leaked));
            leaked
        }
    };
    let storage_seen = record("storage", seen.clone());
    let storage = listen(Router::new().route(
        "/blob",
        get(move |headers: HeaderMap| async move {
            storage_seen(headers);
            "the bytes"
        }),
    ))
    .await;
    let api_seen = record("api", seen.clone());
    let target = format!("{storage}/blob?signature=abc");
    let api = listen(Router::new().route(
        "/api/v1/models/{owner}/{name}/repo",
        get(move |headers: HeaderMap| async move {
            api_seen(headers);
            (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
        }),
    ))
    .await;

    let client = ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&api), |_| None).unwrap())
        .token(Token::new(SECRET))
        .build()
        .unwrap();
    let id = ModelId::new("ruvnet/ruvltra").unwrap();
    let (sha, size) = client
        .download_sha256(&id, "master", "model.gguf")
        .await
        .unwrap();
    assert_eq!(size, 9);
    assert_eq!(sha.len(), 64);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [("api".to_owned(), true), ("storage".to_owned(), false)],
        "the token must go to the API host and never to the storage host"
    );
}

/// A download that is redirected without end stops after `MAX_REDIRECTS` hops with a
/// `Redirect` error instead of looping forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_download_redirects_stop() {
    let hits: Arc<Mutex<usize>> = Arc::default();
    let counted = hits.clone();
    let api = listen(Router::new().route(
        "/api/v1/models/{owner}/{name}/repo",
        get(move || async move {
            *counted.lock().unwrap() += 1;
            (
                StatusCode::FOUND,
                [(
                    header::LOCATION,
                    "/api/v1/models/ruvnet/ruvltra/repo?again=1",
                )],
            )
                .into_response()
        }),
    ))
    .await;
    let client = ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&api), |_| None).unwrap())
        .build()
        .unwrap();
    let id = ModelId::new("ruvnet/ruvltra").unwrap();
    let err = client
        .download_sha256(&id, "master", "model.gguf")
        .await
        .unwrap_err();
    assert!(
        matches!(err, modelscope_client::ModelScopeError::Redirect { .. }),
        "expected a redirect error, got {err:?}"
    );
    assert_eq!(*hits.lock().unwrap(), modelscope_client::MAX_REDIRECTS + 1);
}
