//! LFS uploads through the one intake: interrupted, wrong or short uploads leave nothing
//! visible; multipart parts, ETags and the whole sha256 are checked.

use std::time::Duration;

use hub_server::{Action, Fault, Match, ServerConfig};
use serde_json::{Value, json};

use super::fixture::{Hub, header, lfs_file, object_path, pseudo_random, sha256_hex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_or_wrong_uploads_leave_no_visible_object() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("interrupted").await;
    let data = pseudo_random(2_000_000, 2);
    let obj = hub.batch(&repo, &data).await;
    let href = obj["actions"]["upload"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(href.starts_with(&hub.server.url()));

    // The connection drops after 100 kB of the body.
    hub.server.faults().add(Fault::once(
        Match::any().method("PUT").path_contains("/lfs-upload/"),
        Action::DropAfter(100_000),
    ));
    let result = hub.http.put(&href).body(data.clone()).send().await;
    assert!(result.is_err() || !result.unwrap().status().is_success());
    let sha = sha256_hex(&data);
    assert!(!object_path(tmp.path(), &sha).exists());
    assert!(!hub.server.has_lfs_object(&sha));
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("m.bin", &data)],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("does not exist"));

    // Wrong bytes with the right length: sha256 mismatch, no object.
    let mut wrong = data.clone();
    wrong[12345] ^= 1;
    let r = hub.http.put(&href).body(wrong).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("sha256"));
    assert!(!object_path(tmp.path(), &sha).exists());
    // Too few bytes.
    let r = hub
        .http
        .put(&href)
        .body(data[..1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(!object_path(tmp.path(), &sha).exists());
    // No temporary files are left behind.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("tmp")).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The right bytes, then the object is visible and a second batch has no actions.
    let r = hub.http.put(&href).body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(object_path(tmp.path(), &sha).exists());
    assert!(hub.server.has_lfs_object(&sha));
    assert_eq!(
        hub.server.lfs_object_path(&sha),
        Some(object_path(tmp.path(), &sha))
    );
    assert!(hub.batch(&repo, &data).await.get("actions").is_none());
    assert!(!hub.server.stats().auth_on_presigned);
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_checks_parts_and_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.multipart_threshold = 1_000_000;
    config.multipart_chunk_size = 400_000;
    let hub = Hub::start(config).await;
    let repo = hub.create_repo("parts").await;
    let data = pseudo_random(1_000_001, 3);
    let obj = hub.batch(&repo, &data).await;
    let header = obj["actions"]["upload"]["header"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(header["chunk_size"], "400000");
    let complete = obj["actions"]["upload"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let parts: Vec<String> = (1..=3)
        .map(|n| header[&format!("{n:05}")].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(header.len(), 4);

    // A part of the wrong size is refused.
    let r = hub
        .http
        .put(&parts[0])
        .body(vec![0u8; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut etags = Vec::new();
    for (i, url) in parts.iter().enumerate() {
        let chunk = &data[i * 400_000..((i + 1) * 400_000).min(data.len())];
        let r = hub.http.put(url).body(chunk.to_vec()).send().await.unwrap();
        assert_eq!(r.status(), 200);
        etags.push(r.headers()["etag"].to_str().unwrap().to_owned());
    }
    let oid = sha256_hex(&data);
    // Missing a part.
    let r = hub
        .http
        .post(&complete)
        .json(&json!({"oid": oid, "parts": [{"partNumber": 1, "etag": etags[0]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A wrong ETag.
    let r = hub
        .http
        .post(&complete)
        .json(&json!({"oid": oid, "parts": [
            {"partNumber": 1, "etag": etags[0]}, {"partNumber": 2, "etag": "\"nope\""}, {"partNumber": 3, "etag": etags[2]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(!object_path(tmp.path(), &oid).exists());
    let parts_json: Vec<Value> = etags
        .iter()
        .enumerate()
        .map(|(i, e)| json!({"partNumber": i + 1, "etag": e}))
        .collect();
    let r = hub
        .http
        .post(&complete)
        .json(&json!({"oid": oid, "parts": parts_json}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(object_path(tmp.path(), &oid).exists());
    assert_eq!(hub.server.read_lfs_object(&oid).unwrap().unwrap(), data);
    assert_eq!(hub.server.stats().multipart_uploads, 1);
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_with_corrupt_part_is_rejected_on_completion() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.multipart_threshold = 100;
    config.multipart_chunk_size = 600;
    let hub = Hub::start(config).await;
    let repo = hub.create_repo("corrupt").await;
    let data = pseudo_random(1000, 4);
    let obj = hub.batch(&repo, &data).await;
    let header = obj["actions"]["upload"]["header"].clone();
    let mut parts = Vec::new();
    for (n, range) in [(1usize, 0..600), (2, 600..1000)] {
        let mut chunk = data[range].to_vec();
        chunk[0] ^= 0xff;
        let url = header[format!("{n:05}")].as_str().unwrap();
        let r = hub.http.put(url).body(chunk).send().await.unwrap();
        parts.push(json!({"partNumber": n, "etag": r.headers()["etag"].to_str().unwrap()}));
    }
    let oid = sha256_hex(&data);
    let r = hub
        .http
        .post(obj["actions"]["upload"]["href"].as_str().unwrap())
        .json(&json!({"oid": oid, "parts": parts}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("sha256"));
    assert!(!object_path(tmp.path(), &oid).exists());
    hub.server.shutdown().await;
}
