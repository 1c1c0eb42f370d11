//! Who may read and write, and the absolute URLs the server hands out: they follow the Host
//! header, and upload URLs expire.

use std::time::Duration;

use hub_server::ServerConfig;
use serde_json::{Value, json};

use super::fixture::{Hub, TOKEN, header};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.read_tokens = vec!["hf_read".into()];
    config.guest_tokens = vec!["hf_guest".into()];
    let hub = Hub::start(config).await;
    let r = hub
        .send(
            reqwest::Method::POST,
            "/api/repos/create",
            Some(json!({"name": "priv", "private": true})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let public = hub.create_repo("pub").await;
    let get = |token: Option<&'static str>, path: String| {
        let mut req = hub.http.get(hub.url(&path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let info = "/api/models/local/priv".to_owned();
    assert_eq!(
        get(Some("hf_read"), info.clone()).await.unwrap().status(),
        200
    );
    let r = get(Some("hf_guest"), info.clone()).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-error-code"], "RepoNotFound");
    let r = get(None, info.clone()).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-error-code"], "RepoNotFound");
    assert_eq!(
        get(Some("hf_wrong"), format!("/api/models/{public}"))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        get(None, format!("/api/models/{public}"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get(
            Some("hf_guest"),
            format!("/{public}/resolve/main/.gitattributes")
        )
        .await
        .unwrap()
        .status(),
        200
    );
    // Writes: anonymous 401, read-only 403.
    let commit = |token: Option<&'static str>| {
        let mut req = hub
            .http
            .post(hub.url(&format!("/api/models/{public}/commit/main")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.body(format!("{}\n", header("x", None))).send()
    };
    assert_eq!(commit(None).await.unwrap().status(), 401);
    assert_eq!(commit(Some("hf_read")).await.unwrap().status(), 403);
    assert_eq!(commit(Some("hf_test_write")).await.unwrap().status(), 200);
    let who: Value = get(Some("hf_read"), "/api/whoami-v2".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["auth"]["accessToken"]["role"], "read");
    assert_eq!(
        get(None, "/api/whoami-v2".into()).await.unwrap().status(),
        401
    );
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_follow_the_host_header_and_upload_urls_expire() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.upload_url_ttl = Duration::ZERO;
    let hub = Hub::start(config).await;
    let r = hub
        .http
        .post(hub.url("/api/repos/create"))
        .bearer_auth(TOKEN)
        .header("host", "hub.example.test:8443")
        .json(&json!({"name": "hosted"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["url"], "http://hub.example.test:8443/local/hosted");
    let r = hub
        .http
        .post(hub.url("/api/repos/create"))
        .bearer_auth(TOKEN)
        .header("host", "proxy.test")
        .json(&json!({"name": "hosted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["url"], "http://proxy.test/local/hosted");
    let r = hub
        .http
        .post(hub.url("/api/repos/create"))
        .bearer_auth(TOKEN)
        .header("x-forwarded-host", "public.test")
        .header("x-forwarded-proto", "https")
        .json(&json!({"name": "hosted"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["url"], "https://public.test/local/hosted");
    // A Host that cannot be part of a URL is ignored.
    let r = hub
        .http
        .post(hub.url("/api/repos/create"))
        .bearer_auth(TOKEN)
        .header("host", "evil.test/<script>")
        .json(&json!({"name": "hosted"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["url"], format!("{}/local/hosted", hub.server.url()));
    let data = b"expiring".to_vec();
    let obj = hub.batch("local/hosted", &data).await;
    let href = obj["actions"]["upload"]["href"].as_str().unwrap();
    let r = hub.http.put(href).body(data).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Guessing a token does not work either.
    let r = hub
        .http
        .put(hub.url("/lfs-upload/0123456789abcdef"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    hub.server.shutdown().await;
}
