//! Downloads: conditional requests, the batch download operation, and redirects to the signed
//! CDN origin.

use hub_server::ServerConfig;
use serde_json::{Value, json};

use super::fixture::{Hub, file, header, lfs_file, pseudo_random, xet_hash};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_requests_batch_downloads_and_cdn_redirects() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.lfs_redirect = true;
    let hub = Hub::start(config).await;
    let repo = hub.create_repo("dl").await;
    let data = pseudo_random(50_000, 7);
    let sha = hub.upload_lfs(&repo, &data).await;
    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("m", None),
                lfs_file("m.gguf", &data),
                file("t.txt", b"text\n"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);

    // Regular file: 200 with the git blob id as ETag, 304 when it matches.
    let r = hub
        .send(
            reqwest::Method::GET,
            &format!("/{repo}/resolve/main/t.txt"),
            None,
        )
        .await;
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", hub_server::git_blob_id(b"text\n")));
    let r = hub
        .http
        .get(hub.url(&format!("/{repo}/resolve/main/t.txt")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    // LFS file: 302 to another port, carrying the metadata; the CDN URL needs no token but
    // a valid signature.
    let r = hub
        .send(
            reqwest::Method::GET,
            &format!("/{repo}/resolve/main/m.gguf"),
            None,
        )
        .await;
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["x-linked-etag"], format!("\"{sha}\"").as_str());
    assert_eq!(
        r.headers()["x-linked-size"],
        data.len().to_string().as_str()
    );
    // The file is stored in xorbs: a Xet client may fetch it from the CAS instead.
    assert_eq!(r.headers()["x-xet-hash"], xet_hash(&data).as_str());
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let port = hub.server.cdn_port().unwrap();
    assert!(
        location.starts_with(&format!("http://127.0.0.1:{port}/lfs-cdn/{sha}/")),
        "{location}"
    );
    let r = hub
        .http
        .get(&location)
        .header("range", "bytes=-100")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[data.len() - 100..]);
    let forged = location.replace("signature=", "signature=0");
    assert_eq!(hub.http.get(&forged).send().await.unwrap().status(), 403);

    // The batch API's download operation.
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/{repo}.git/info/lfs/objects/batch"),
            Some(json!({"operation": "download", "objects": [
                {"oid": sha, "size": data.len()}, {"oid": "0".repeat(64), "size": 1}]})),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    let href = v["objects"][0]["actions"]["download"]["href"]
        .as_str()
        .unwrap();
    assert_eq!(
        hub.http
            .get(href)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        &data[..]
    );
    assert_eq!(v["objects"][1]["error"]["code"], 404);
    assert!(!hub.server.stats().auth_on_presigned);
    hub.server.shutdown().await;
}
