//! The store behind both transfers: a file that arrives through LFS is chunked into xorbs and
//! deduplicated against what is stored (a header edit adds about one chunk), served by a plain
//! `GET` and by the CAS, across restarts; whole objects of an older data directory keep being
//! served and move into xorbs; the fault rules reach the CAS routes.

use std::time::Duration;

use hub_server::{Action, Fault, Match, ServerConfig};
use serde_json::Value;

use super::fixture::{Hub, header, lfs_file, pseudo_random, sha256_hex, xet_hash};
use super::xet_fixture::{
    XetUpload, cas_get, post_shard, post_xorb, read_token, store_bytes, write_token,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lfs_uploads_are_chunked_deduplicated_and_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("lfs-dedup").await;
    let v1 = pseudo_random(6 << 20, 6);
    hub.upload_lfs(&repo, &v1).await;
    let after_v1 = store_bytes(tmp.path());
    // Stored once, as xorbs: about the file's size plus chunk headers and records.
    assert!(after_v1 >= v1.len() as u64 && after_v1 < v1.len() as u64 + 100_000);

    // The same file with a changed header: a few chunks more, not a second copy.
    let mut v2 = b"another header, longer than the first one".to_vec();
    v2.extend_from_slice(&v1[16..]);
    hub.upload_lfs(&repo, &v2).await;
    let grown = store_bytes(tmp.path()) - after_v1;
    eprintln!(
        "a header edit of a {}-byte file through LFS grew the store by {grown} bytes",
        v2.len()
    );
    assert!(grown < 300_000, "{grown}");
    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("x", None),
                lfs_file("v1.bin", &v1),
                lfs_file("v2.bin", &v2),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(hub.server.stats().lfs_files_chunked, 2);

    // Served by a plain GET (with ranges) and through the CAS, before and after a restart.
    check_served(&hub, &repo, &[("v1.bin", &v1), ("v2.bin", &v2)]).await;
    hub.server.shutdown().await;
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    check_served(&hub, &repo, &[("v1.bin", &v1), ("v2.bin", &v2)]).await;
    // The chunk index is rebuilt from the shards: a third variant still deduplicates.
    let before = store_bytes(tmp.path());
    let mut v3 = v1.clone();
    v3[3_000_000] ^= 1;
    hub.upload_lfs(&repo, &v3).await;
    let grown = store_bytes(tmp.path()) - before;
    assert!(grown < 300_000, "{grown}");
    assert_eq!(hub_server::verify_stored_objects(tmp.path()), Ok(3));
    hub.server.shutdown().await;
}

/// Each file of `main` downloads byte-exact through a plain `GET` (whole and a range), is
/// advertised to Xet clients, and has a reconstruction.
async fn check_served(hub: &Hub, repo: &str, files: &[(&str, &Vec<u8>)]) {
    let token = read_token(hub, repo).await;
    for (name, data) in files {
        let url = hub.url(&format!("/{repo}/resolve/main/{name}"));
        let r = hub.http.get(&url).send().await.unwrap();
        assert_eq!(r.headers()["x-xet-hash"], xet_hash(data).as_str());
        assert_eq!(r.bytes().await.unwrap(), &data[..], "{name}");
        let r = hub
            .http
            .get(&url)
            .header("range", "bytes=4000000-4000099")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206);
        assert_eq!(r.bytes().await.unwrap(), &data[4_000_000..4_000_100]);
        let path = format!("/v1/reconstructions/{}", xet_hash(data));
        assert_eq!(cas_get(hub, &token, &path, None).await.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_objects_of_an_older_store_are_served_and_moved_into_xorbs() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("old").await;
    hub.server.shutdown().await;
    // What an older version wrote: the whole object under objects/lfs/.
    let data = pseudo_random(2_000_000, 7);
    let sha = sha256_hex(&data);
    let old = tmp.path().join("objects/lfs").join(&sha[..2]).join(&sha);
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::write(&old, &data).unwrap();

    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    // Whether or not the move has happened yet, the object is there for commits and reads.
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("old.bin", &data)],
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let url = hub.url(&format!("/{repo}/resolve/main/old.bin"));
    assert_eq!(
        hub.http
            .get(&url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        data
    );
    // The move ends with the whole file gone and the object in xorbs.
    for _ in 0..100 {
        if !old.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!old.exists(), "the whole object was not moved");
    let r = hub.http.get(&url).send().await.unwrap();
    assert_eq!(r.headers()["x-xet-hash"], xet_hash(&data).as_str());
    assert_eq!(r.bytes().await.unwrap(), data);
    assert_eq!(hub_server::verify_stored_objects(tmp.path()), Ok(1));
    // Readable through the CAS with the repo's token (its commit references it).
    let token = read_token(&hub, &repo).await;
    let path = format!("/v1/reconstructions/{}", xet_hash(&data));
    assert_eq!(cas_get(&hub, &token, &path, None).await.status(), 200);
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_reach_the_cas_routes() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("faulty").await;
    let token = write_token(&hub, &repo).await;
    let data = pseudo_random(500_000, 8);
    let up = XetUpload::of(&data);
    let faults = hub.server.faults();

    // A burst of 5xx, then 429 with Retry-After, on xorb uploads; then it goes through.
    faults.add(Fault::new(
        Match::any().method("POST").path_contains("/v1/xorbs/"),
        2,
        Action::Status(503),
    ));
    faults.add(Fault::once(
        Match::any().method("POST").path_contains("/v1/xorbs/"),
        Action::StatusRetryAfter(429, 2),
    ));
    for want in [503, 503] {
        let r = post_xorb(&hub, &token, &up.xorb_hash, up.xorb.clone()).await;
        assert_eq!(r.status(), want);
    }
    let r = post_xorb(&hub, &token, &up.xorb_hash, up.xorb.clone()).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(hub.server.stats().xorbs_inserted, 0);

    // A body dropped half way: nothing stored, and the next attempt works.
    faults.add(Fault::once(
        Match::any().method("POST").path_contains("/v1/xorbs/"),
        Action::DropAfter(100_000),
    ));
    let r = hub
        .http
        .post(hub.url(&format!("/v1/xorbs/default/{}", up.xorb_hash)))
        .bearer_auth(&token)
        .body(up.xorb.clone())
        .send()
        .await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hub.server.stats().xorbs_inserted, 0);
    let r = post_xorb(&hub, &token, &up.xorb_hash, up.xorb.clone()).await;
    assert_eq!(r.json::<Value>().await.unwrap()["was_inserted"], true);

    // An expired token on one call: 401 as at the real expiry; a fresh token works.
    faults.add(Fault::once(
        Match::any().path_contains("/v1/shards"),
        Action::ExpireToken,
    ));
    let r = post_shard(&hub, &token, up.shard_bytes()).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("expired"));
    // The answer to a shard upload is lost: the shard was stored, sending it again is harmless.
    faults.add(Fault::once(
        Match::any().path_contains("/v1/shards"),
        Action::DropResponseAfter(0),
    ));
    let lost = hub
        .http
        .post(hub.url("/v1/shards"))
        .bearer_auth(&token)
        .body(up.shard_bytes())
        .send()
        .await;
    let lost_ok = match lost {
        Ok(r) => r.bytes().await.is_ok(),
        Err(_) => false,
    };
    assert!(!lost_ok, "the answer should have been lost");
    let r = post_shard(&hub, &token, up.shard_bytes()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["result"], 0);
    // Faults on reads: 5xx on a reconstruction, a xorb range cut short.
    let read = read_token(&hub, &repo).await;
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("f.bin", &data)],
        )
        .await;
    assert_eq!(r.status(), 200);
    faults.add(Fault::once(
        Match::any().path_contains("/v1/reconstructions/"),
        Action::Status(500),
    ));
    let path = format!("/v1/reconstructions/{}", up.file_hash);
    assert_eq!(cas_get(&hub, &read, &path, None).await.status(), 500);
    let answer: Value = cas_get(&hub, &read, &path, None)
        .await
        .json()
        .await
        .unwrap();
    let url = answer["fetch_info"][up.xorb_hash.to_hex()][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    faults.add(Fault::once(
        Match::any().path_contains("/xet-xorb/"),
        Action::TruncateBody(1000),
    ));
    let got = hub
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.len(), 1000);
    assert_eq!(faults.pending(), 0);
    hub.server.shutdown().await;
}
