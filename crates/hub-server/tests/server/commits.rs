//! The NDJSON commit: concurrent commits are serialised, payloads are validated, bodies are
//! bounded.

use hub_server::ServerConfig;
use serde_json::{Value, json};

use super::fixture::{Hub, file, header, pseudo_random, sha256_hex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_to_a_branch_are_serialised() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = std::sync::Arc::new(Hub::start(ServerConfig::new(tmp.path())).await);
    let repo = hub.create_repo("race").await;
    let base = hub.head(&repo).await;

    // Eight commits from the same parent: exactly one wins, the others get 412.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let hub = hub.clone();
        let (repo, base) = (repo.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            hub.commit(
                &repo,
                "main",
                &[
                    header("racer", Some(&base)),
                    file(&format!("f{i}.txt"), b"x"),
                ],
            )
            .await
            .status()
            .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412, 412, 412, 412, 412, 412, 412]);
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("stale", Some(&base)), file("g.txt", b"x")],
        )
        .await;
    assert_eq!(r.status(), 412);
    assert!(r.text().await.unwrap().contains("The branch was updated"));

    // Without parentCommit all eight land, none lost.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let hub = hub.clone();
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            hub.commit(
                &repo,
                "main",
                &[header("free", None), file(&format!("free{i}.txt"), b"y")],
            )
            .await
            .status()
            .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let tree = hub.get_json(&format!("/api/models/{repo}/tree/main")).await;
    let frees = tree
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with("free"))
        .count();
    assert_eq!(frees, 8);
    let commits = hub
        .get_json(&format!("/api/models/{repo}/commits/main"))
        .await;
    assert_eq!(commits.as_array().unwrap().len(), 1 + 1 + 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_payloads_are_validated() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("validate").await;
    for bad in [
        "../x",
        "a/../../b",
        "/etc/passwd",
        "a\\b",
        "a\u{0}b",
        "a\nb",
        ".git/config",
    ] {
        let r = hub
            .commit(&repo, "main", &[header("bad", None), file(bad, b"x")])
            .await;
        assert_eq!(r.status(), 422, "{bad:?}");
    }
    let binary = {
        let mut v = pseudo_random(1_500_000, 5);
        v[0] = 0;
        v
    };
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("bin", None), file("m.gguf", &binary)],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("binary files"));
    let big_text = vec![b'a'; 10 * 1024 * 1024 + 1];
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("big", None), file("big.txt", &big_text)],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("larger than 10 MiB"));
    // A 9 MB text file is fine inline.
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("ok", None), file("ok.txt", &vec![b'b'; 9_000_000])],
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("del", None),
                json!({"key": "deletedFile", "value": {"path": "nope"}}),
            ],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-error-code"], "EntryNotFound");
    let r = hub
        .commit(&repo, "nobranch", &[header("x", None), file("x", b"x")])
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-error-code"], "RevisionNotFound");
    let r = hub
        .commit(&repo, "main", &[json!({"key": "copyFile", "value": {}})])
        .await;
    assert_eq!(r.status(), 400);
    let r = hub.commit(&repo, "main", &[json!("not an object")]).await;
    assert_eq!(r.status(), 400);
    // deletedFolder with the trailing slash the client sends.
    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("d", None),
                file("dir/a", b"a"),
                file("dir/b/c", b"c"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("d", None),
                json!({"key": "deletedFolder", "value": {"path": "dir/"}}),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let tree = hub.get_json(&format!("/api/models/{repo}/tree/main")).await;
    assert!(tree.as_array().unwrap().iter().all(|e| e["path"] != "dir"));
    // Oversized batch requests are refused.
    let objects: Vec<Value> = (0..1001)
        .map(|i| json!({"oid": sha256_hex(&[i as u8, (i >> 8) as u8]), "size": 1}))
        .collect();
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/{repo}.git/info/lfs/objects/batch"),
            Some(json!({"operation": "upload", "objects": objects})),
        )
        .await;
    assert_eq!(r.status(), 413);
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_body_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.max_commit_lines = 5;
    config.max_commit_bytes = 10_000;
    let hub = Hub::start(config).await;
    let repo = hub.create_repo("limits").await;
    let mut lines = vec![header("many", None)];
    lines.extend((0..5).map(|i| file(&format!("{i}"), b"x")));
    assert_eq!(hub.commit(&repo, "main", &lines).await.status(), 413);
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("big", None), file("a", &[b'a'; 20_000])],
        )
        .await;
    assert_eq!(r.status(), 413);
    assert_eq!(hub.server.stats().commits, 0);
    hub.server.shutdown().await;
}
