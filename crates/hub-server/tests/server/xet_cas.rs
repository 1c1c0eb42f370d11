//! The Xet token routes and CAS uploads: tokens are scoped to one repository and expire, bad
//! xorbs and shards get a clear 4xx and leave nothing behind, good ones are stored once and a
//! commit may then name the file by its sha256.

use std::time::Duration;

use hub_server::ServerConfig;
use serde_json::{Value, json};
use xet_format::{FileTerm, XetHash};

use super::fixture::{Hub, TOKEN, header, lfs_file, pseudo_random, sha256_hex};
use super::xet_fixture::{
    XetUpload, post_shard, post_xorb, read_token, store_files, write_token, xet_token,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_routes_scope_tokens_to_a_repo() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.read_tokens = vec!["hf_read".into()];
    let hub = Hub::start(config).await;
    let public = hub.create_repo("pub").await;
    let r = hub
        .send(
            reqwest::Method::POST,
            "/api/repos/create",
            Some(json!({"name": "priv", "private": true})),
        )
        .await;
    assert_eq!(r.status(), 200);

    // JSON and headers carry the same token, expiry and CAS URL (this server).
    let r = hub
        .send(
            reqwest::Method::GET,
            &format!("/api/models/{public}/xet-write-token/main"),
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["casUrl"], hub.server.url());
    assert_eq!(h["x-xet-cas-url"], hub.server.url().as_str());
    assert_eq!(h["x-xet-access-token"], v["accessToken"].as_str().unwrap());
    assert_eq!(
        h["x-xet-token-expiration"],
        v["exp"].as_u64().unwrap().to_string().as_str()
    );
    assert!(!v["accessToken"].as_str().unwrap().contains(TOKEN));

    let status = |path: String, token: Option<&'static str>| {
        let mut req = hub.http.get(hub.url(&path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // Read tokens of public repos need no Hub token; private ones do.
    xet_token(&hub, &public, "read", None).await;
    let private = "/api/models/local/priv";
    assert_eq!(
        status(format!("{private}/xet-read-token/main"), None).await,
        401
    );
    assert_eq!(
        status(format!("{private}/xet-read-token/main"), Some("hf_read")).await,
        200
    );
    // Write tokens need a Hub write token.
    let write = format!("/api/models/{public}/xet-write-token/main");
    assert_eq!(status(write.clone(), None).await, 401);
    assert_eq!(status(write.clone(), Some("hf_read")).await, 403);
    assert_eq!(status(write, Some("hf_wrong")).await, 401);
    // Missing repos and revisions; a pull request's upload names no revision.
    let missing = "/api/models/local/nope/xet-read-token/main".to_owned();
    assert_eq!(status(missing, Some(TOKEN)).await, 404);
    let no_rev = format!("/api/models/{public}/xet-read-token/no-such-branch");
    assert_eq!(status(no_rev, Some(TOKEN)).await, 404);
    let pr = format!("/api/models/{public}/xet-write-token/None?create_pr=1");
    assert_eq!(status(pr, Some(TOKEN)).await, 200);

    // A read token cannot upload; a token of this server's is needed at all.
    let read = read_token(&hub, &public).await;
    let up = XetUpload::of(&pseudo_random(50_000, 1));
    let r = post_xorb(&hub, &read, &up.xorb_hash, up.xorb.clone()).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("xet-write-token"));
    let r = post_xorb(&hub, TOKEN, &up.xorb_hash, up.xorb.clone()).await;
    assert_eq!(r.status(), 401);
    hub.server.shutdown().await;

    // Tokens expire; the client must ask again.
    let mut config = ServerConfig::new(tmp.path());
    config.xet_token_ttl = Duration::from_secs(1);
    let hub = Hub::start(config).await;
    let token = write_token(&hub, &public).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = post_xorb(&hub, &token, &up.xorb_hash, up.xorb.clone()).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("expired"));
    // A restart keeps tokens valid (the signing key is in the data directory).
    let token = write_token(&hub, &public).await;
    hub.server.shutdown().await;
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let r = post_xorb(&hub, &token, &up.xorb_hash, up.xorb).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_xorbs_and_shards_are_refused_and_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("cas").await;
    let token = write_token(&hub, &repo).await;
    let data = pseudo_random(700_000, 2);
    let up = XetUpload::of(&data);
    assert!(up.chunks.len() > 3);
    let empty = store_files(tmp.path());

    let refused = |r: reqwest::Response, needle: &'static str| async move {
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(needle), "{needle:?} not in {text}");
    };
    // A xorb under another hash, a truncated one, bytes that are no xorb.
    let other = XetHash::from_words([1, 2, 3, 4]);
    refused(
        post_xorb(&hub, &token, &other, up.xorb.clone()).await,
        "hash",
    )
    .await;
    let cut = up.xorb[..up.xorb.len() - 10].to_vec();
    refused(
        post_xorb(&hub, &token, &up.xorb_hash, cut).await,
        "truncated",
    )
    .await;
    let junk = vec![9u8; 1000];
    refused(
        post_xorb(&hub, &token, &up.xorb_hash, junk).await,
        "refused",
    )
    .await;
    let r = hub
        .http
        .post(hub.url("/v1/xorbs/default/not-a-hash"))
        .bearer_auth(&token)
        .body(up.xorb.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A shard whose xorb was never uploaded.
    refused(
        post_shard(&hub, &token, up.shard_bytes()).await,
        "not stored",
    )
    .await;
    assert_eq!(store_files(tmp.path()), empty);

    // The xorb, once; again is harmless.
    let r = post_xorb(&hub, &token, &up.xorb_hash, up.xorb.clone()).await;
    assert_eq!(r.json::<Value>().await.unwrap()["was_inserted"], true);
    let r = post_xorb(&hub, &token, &up.xorb_hash, up.xorb.clone()).await;
    assert_eq!(r.json::<Value>().await.unwrap()["was_inserted"], false);
    let with_xorb = store_files(tmp.path());
    assert_eq!(with_xorb.len(), empty.len() + 1, "{with_xorb:?}");

    // A term over a xorb that is not stored, a wrong verification hash, a wrong sha256, a
    // file hash that is not its chunks', an entry that misdescribes the xorb.
    let mut s = up.shard.clone();
    s.files[0].terms.push(FileTerm {
        xorb: other,
        unpacked_bytes: 10,
        chunk_start: 0,
        chunk_end: 1,
    });
    s.files[0].verification.as_mut().unwrap().push(other);
    s.xorbs.clear();
    refused(
        post_shard(&hub, &token, s.encode().unwrap()).await,
        "not stored",
    )
    .await;
    let mut s = up.shard.clone();
    s.files[0].verification = Some(vec![other]);
    refused(
        post_shard(&hub, &token, s.encode().unwrap()).await,
        "verification",
    )
    .await;
    let mut s = up.shard.clone();
    s.files[0].sha256 = Some([7; 32]);
    refused(
        post_shard(&hub, &token, s.encode().unwrap()).await,
        "hash to",
    )
    .await;
    let mut s = up.shard.clone();
    s.files[0].hash = other;
    refused(
        post_shard(&hub, &token, s.encode().unwrap()).await,
        "chunks",
    )
    .await;
    let mut s = up.shard.clone();
    s.xorbs[0].chunks[1].raw_len += 1;
    refused(
        post_shard(&hub, &token, s.encode().unwrap()).await,
        "does not list",
    )
    .await;
    let mut s = up.shard.clone();
    s.files[0].sha256 = None;
    refused(
        post_shard(&hub, &token, s.encode().unwrap()).await,
        "sha256",
    )
    .await;
    refused(post_shard(&hub, &token, vec![1, 2, 3]).await, "refused").await;
    assert_eq!(store_files(tmp.path()), with_xorb);
    // Nothing of the file is visible to commits.
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("f.bin", &data)],
        )
        .await;
    assert_eq!(r.status(), 400);

    // The shard, once; again is harmless (`result` 0).
    let r = post_shard(&hub, &token, up.shard_bytes()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["result"], 1);
    let r = post_shard(&hub, &token, up.shard_bytes()).await;
    assert_eq!(r.json::<Value>().await.unwrap()["result"], 0);
    let stats = hub.server.stats();
    assert_eq!((stats.xorbs_inserted, stats.shards_inserted), (1, 1));
    assert!(hub.server.has_lfs_object(&sha256_hex(&data)));
    // Now the commit names it by its sha256, and a plain GET returns its bytes.
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("f.bin", &data)],
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = hub
        .http
        .get(hub.url(&format!("/{repo}/resolve/main/f.bin")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-xet-hash"], up.file_hash.to_hex().as_str());
    assert_eq!(r.bytes().await.unwrap(), data);
    assert_eq!(
        hub_server::verify_stored_objects(tmp.path()),
        Ok(1),
        "every stored object reassembles to its sha256"
    );
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_xet_the_server_speaks_lfs_only() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.xet = false;
    let hub = Hub::start(config).await;
    let repo = hub.create_repo("no-xet").await;
    let r = hub
        .send(
            reqwest::Method::GET,
            &format!("/api/models/{repo}/xet-write-token/main"),
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("HF_HUB_DISABLE_XET"));
    let data = pseudo_random(300_000, 9);
    let body = json!({"operation": "upload", "transfers": ["basic", "multipart", "xet"],
        "objects": [{"oid": sha256_hex(&data), "size": data.len()}]});
    let v: Value = hub
        .send(
            reqwest::Method::POST,
            &format!("/{repo}.git/info/lfs/objects/batch"),
            Some(body),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["transfer"], "basic");
    hub.upload_lfs(&repo, &data).await;
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("f.bin", &data)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = hub
        .http
        .get(hub.url(&format!("/{repo}/resolve/main/f.bin")))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("x-xet-hash").is_none());
    assert!(r.headers().get("link").is_none());
    assert_eq!(r.bytes().await.unwrap(), data);
    let tree = hub.get_json(&format!("/api/models/{repo}/tree/main")).await;
    assert!(
        tree.as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("xetHash").is_none())
    );
    let r = hub.http.post(hub.url("/v1/shards")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    hub.server.shutdown().await;
}
