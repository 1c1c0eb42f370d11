//! Behaviour the Python suite cannot show: restarts, interrupted uploads, serialised commits,
//! fault injection, payload validation, auth and URL handling, over real HTTP.

use std::time::{Duration, Instant};

use base64::Engine as _;
use hub_server::{Action, Fault, HubServer, Match, ServerConfig};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const TOKEN: &str = "hf_test_write";

struct Hub {
    server: HubServer,
    http: reqwest::Client,
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn pseudo_random(n: usize, seed: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 32);
    let mut i = 0u64;
    while out.len() < n {
        out.extend_from_slice(&Sha256::digest(format!("{seed}:{i}").as_bytes()));
        i += 1;
    }
    out.truncate(n);
    out
}

impl Hub {
    async fn start(config: ServerConfig) -> Hub {
        let server = HubServer::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Hub { server, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    async fn create_repo(&self, name: &str) -> String {
        let r = self
            .send(
                reqwest::Method::POST,
                "/api/repos/create",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        format!("local/{name}")
    }

    /// Asks the batch endpoint for an upload; returns the object's JSON.
    async fn batch(&self, repo: &str, data: &[u8]) -> Value {
        let r = self
            .send(
                reqwest::Method::POST,
                &format!("/{repo}.git/info/lfs/objects/batch"),
                Some(
                    json!({"operation": "upload", "transfers": ["basic", "multipart"],
                    "objects": [{"oid": sha256_hex(data), "size": data.len()}]}),
                ),
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        v["objects"][0].clone()
    }

    /// Uploads an LFS object through batch and a basic PUT (no token on the PUT).
    async fn upload_lfs(&self, repo: &str, data: &[u8]) -> String {
        let obj = self.batch(repo, data).await;
        if let Some(href) = obj["actions"]["upload"]["href"].as_str() {
            let r = self
                .http
                .put(href)
                .body(data.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        sha256_hex(data)
    }

    async fn commit(&self, repo: &str, rev: &str, lines: &[Value]) -> reqwest::Response {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.http
            .post(self.url(&format!("/api/models/{repo}/commit/{rev}")))
            .bearer_auth(TOKEN)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn get_json(&self, path: &str) -> Value {
        let r = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    async fn head(&self, repo: &str) -> String {
        self.get_json(&format!("/api/models/{repo}")).await["sha"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

fn header(summary: &str, parent: Option<&str>) -> Value {
    let mut v = json!({"key": "header", "value": {"summary": summary, "description": ""}});
    if let Some(p) = parent {
        v["value"]["parentCommit"] = json!(p);
    }
    v
}

fn file(path: &str, content: &[u8]) -> Value {
    json!({"key": "file", "value": {"path": path, "encoding": "base64",
        "content": base64::engine::general_purpose::STANDARD.encode(content)}})
}

fn lfs_file(path: &str, data: &[u8]) -> Value {
    json!({"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": sha256_hex(data), "size": data.len()}})
}

fn object_path(dir: &std::path::Path, sha: &str) -> std::path::PathBuf {
    dir.join("objects/lfs").join(&sha[..2]).join(sha)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_repos_refs_and_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let data = pseudo_random(300_000, 1);
    let (repo, head, tree_before) = {
        let hub = Hub::start(ServerConfig::new(tmp.path())).await;
        let repo = hub.create_repo("keep").await;
        hub.upload_lfs(&repo, &data).await;
        let r = hub
            .commit(
                &repo,
                "main",
                &[
                    header("add", None),
                    lfs_file("m.gguf", &data),
                    file("a.txt", b"a\n"),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = hub
            .send(
                reqwest::Method::POST,
                &format!("/api/models/{repo}/tag/main"),
                Some(json!({"tag": "v1"})),
            )
            .await;
        assert_eq!(r.status(), 200);
        let r = hub
            .send(
                reqwest::Method::POST,
                &format!("/api/models/{repo}/branch/dev"),
                Some(json!({})),
            )
            .await;
        assert_eq!(r.status(), 200);
        let head = hub.head(&repo).await;
        let tree = hub
            .get_json(&format!("/api/models/{repo}/tree/main?recursive=true"))
            .await;
        hub.server.shutdown().await;
        (repo, head, tree)
    };
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    assert_eq!(hub.head(&repo).await, head);
    let refs = hub.get_json(&format!("/api/models/{repo}/refs")).await;
    assert_eq!(refs["tags"][0]["name"], "v1");
    assert_eq!(refs["tags"][0]["targetCommit"], head.as_str());
    let branches: Vec<&str> = refs["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(branches, ["dev", "main"]);
    assert_eq!(
        hub.get_json(&format!("/api/models/{repo}/tree/main?recursive=true"))
            .await,
        tree_before
    );
    let body = hub
        .send(
            reqwest::Method::GET,
            &format!("/{repo}/resolve/v1/m.gguf"),
            None,
        )
        .await;
    assert_eq!(body.headers()["x-repo-commit"], head.as_str());
    assert_eq!(body.bytes().await.unwrap().as_ref(), &data[..]);
    let commits = hub
        .get_json(&format!("/api/models/{repo}/commits/main"))
        .await;
    assert_eq!(commits.as_array().unwrap().len(), 2);
    hub.server.shutdown().await;
}

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
    assert_eq!(std::fs::read(object_path(tmp.path(), &oid)).unwrap(), data);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_injection_actions() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("faults").await;
    let data = pseudo_random(1_000_000, 6);
    hub.upload_lfs(&repo, &data).await;
    assert_eq!(
        hub.commit(
            &repo,
            "main",
            &[header("m", None), lfs_file("m.bin", &data)]
        )
        .await
        .status(),
        200
    );
    let resolve = format!("/{repo}/resolve/main/m.bin");
    let faults = hub.server.faults();

    // Status, twice, then normal.
    faults.add(Fault {
        when: Match::any().method("GET").path_contains("/resolve/"),
        times: 2,
        action: Action::Status(503),
    });
    assert_eq!(
        hub.send(reqwest::Method::GET, &resolve, None)
            .await
            .status(),
        503
    );
    assert_eq!(
        hub.send(reqwest::Method::GET, &resolve, None)
            .await
            .status(),
        503
    );
    assert_eq!(
        hub.send(reqwest::Method::GET, &resolve, None)
            .await
            .status(),
        200
    );

    faults.add(Fault::once(
        Match::any().path_contains("/commit/"),
        Action::StatusRetryAfter(429, 7),
    ));
    let r = hub.commit(&repo, "main", &[header("x", None)]).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(hub.server.stats().commits, 1);

    faults.add(Fault::once(
        Match::any().path_contains("/resolve/"),
        Action::Stall(Duration::from_millis(300)),
    ));
    let t = Instant::now();
    assert_eq!(
        hub.send(reqwest::Method::GET, &resolve, None)
            .await
            .status(),
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(300));

    faults.add(Fault::once(
        Match::any().path_contains("/resolve/"),
        Action::CorruptBody,
    ));
    let body = hub
        .send(reqwest::Method::GET, &resolve, None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), data.len());
    assert_ne!(sha256_hex(&body), sha256_hex(&data));

    faults.add(Fault::once(
        Match::any().path_contains("/resolve/"),
        Action::TruncateBody(1000),
    ));
    let r = hub.send(reqwest::Method::GET, &resolve, None).await;
    assert_eq!(
        r.headers()["x-linked-size"],
        data.len().to_string().as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[..1000]);

    faults.add(Fault::once(
        Match::any().path_contains("/resolve/"),
        Action::DropAfter(5000),
    ));
    let mut r = hub.send(reqwest::Method::GET, &resolve, None).await;
    assert_eq!(r.status(), 200);
    let mut got = Vec::new();
    let cut = loop {
        match r.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    assert!(cut, "the body should be cut");
    assert_eq!(got, &data[..5000], "exactly the first 5000 bytes arrive");

    faults.add(Fault::once(
        Match::any().path_contains("/resolve/"),
        Action::IgnoreRange,
    ));
    let r = hub
        .http
        .get(hub.url(&resolve))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), data.len());
    let r = hub
        .http
        .get(hub.url(&resolve))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[10..20]);

    faults.add(Fault::once(
        Match::any().path_contains("/resolve/"),
        Action::Html200,
    ));
    let r = hub.send(reqwest::Method::GET, &resolve, None).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // The commit is applied, but the client never gets the answer.
    faults.add(Fault::once(
        Match::any().path_contains("/commit/"),
        Action::DropResponseAfter(0),
    ));
    let body = format!("{}\n{}\n", header("lost answer", None), file("z.txt", b"z"));
    let r = hub
        .http
        .post(hub.url(&format!("/api/models/{repo}/commit/main")))
        .bearer_auth(TOKEN)
        .body(body)
        .send()
        .await;
    assert!(r.is_err() || r.unwrap().bytes().await.is_err());
    assert_eq!(hub.server.stats().commits, 2);

    // A commit whose request body is cut is not applied.
    faults.add(Fault::once(
        Match::any().path_contains("/commit/"),
        Action::DropAfter(10),
    ));
    let body = format!("{}\n{}\n", header("cut", None), file("cut.txt", b"c"));
    let r = hub
        .http
        .post(hub.url(&format!("/api/models/{repo}/commit/main")))
        .bearer_auth(TOKEN)
        .body(body)
        .send()
        .await;
    assert!(r.is_err(), "the connection should be dropped: {r:?}");
    assert_eq!(hub.server.stats().commits, 2);
    assert_eq!(faults.pending(), 0);
    assert_eq!(hub.server.stats().faults_fired, 11);
    hub.server.shutdown().await;
}

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

#[test]
fn spawned_server_serves_blocking_callers_and_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let server = HubServer::spawn(ServerConfig::new(tmp.path())).unwrap();
    let url = server.url();
    assert!(url.starts_with("http://127.0.0.1:"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/api/whoami-v2"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    // A stalled request does not hold up stopping.
    server.faults().add(Fault::once(
        Match::any(),
        Action::Stall(Duration::from_secs(600)),
    ));
    let stalled = std::thread::spawn(move || {
        let _ = std::net::TcpStream::connect(addr_of(&url)).and_then(|mut s| {
            use std::io::{Read as _, Write as _};
            s.write_all(b"GET /api/whoami-v2 HTTP/1.1\r\nHost: x\r\n\r\n")?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf)
        });
    });
    while server.faults().pending() > 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let addr = server.addr();
    let t = Instant::now();
    server.stop();
    assert!(
        t.elapsed() < Duration::from_secs(60),
        "stop waited for the stall"
    );
    stalled.join().unwrap();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still listening after stop"
    );
}

fn addr_of(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

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
    assert!(r.headers().get("x-xet-hash").is_none());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_yaml_answers_errors_and_warnings_as_huggingface_hub_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let validate = |body: Value| {
        let hub = &hub;
        async move {
            let r = hub
                .send(reqwest::Method::POST, "/api/validate-yaml", Some(body))
                .await;
            let status = r.status().as_u16();
            let v: Value = r.json().await.expect("every answer is JSON");
            (status, v)
        }
    };
    let good = "---\nlicense: apache-2.0\ntags:\n- gguf\nlibrary_name: gguf\n---\n# Card\n";
    let (status, v) = validate(json!({"content": good, "repoType": "model"})).await;
    assert_eq!((status, v), (200, json!({"errors": [], "warnings": []})));
    // No front matter at all is fine; an empty block is a warning.
    let (status, v) = validate(json!({"content": "# Only text\n"})).await;
    assert_eq!((status, &v["errors"]), (200, &json!([])));
    let (status, v) = validate(json!({"content": "---\n---\n# x\n"})).await;
    assert_eq!(status, 200);
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("empty metadata")
    );

    for (card, needle) in [
        ("---\nlicense: [apache-2.0\n---\n", "not valid YAML"),
        ("---\n- a\n- b\n---\n", "must be a mapping"),
        ("---\nlicense: 3\n---\n", "\"license\" must be a string"),
        (
            "---\ntags: {a: b}\n---\n",
            "\"tags\" must be a string or a list of strings",
        ),
        (
            "---\nlanguage: [en, {x: 1}]\n---\n",
            "\"language[1]\" must be a string",
        ),
        (
            "---\nbase_model: 12\n---\n",
            "\"base_model\" must be a string or a list",
        ),
        (
            "---\npipeline_tag: [text-generation]\n---\n",
            "\"pipeline_tag\" must be a string",
        ),
        (
            "---\nmodel-index: [{name: m}]\n---\n",
            "\"model-index[0].results\" is required",
        ),
        ("---\na: 1\na: 2\n---\n", "not valid YAML"),
    ] {
        let (status, v) = validate(json!({"content": card, "repoType": "model"})).await;
        assert_eq!(status, 400, "{card:?}: {v}");
        let message = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{card:?}: {v}");
        assert_eq!(v["warnings"], json!([]));
    }
    // A body the endpoint cannot read is refused in the same JSON shape.
    let (status, v) = validate(json!({"text": "x"})).await;
    assert_eq!(status, 400);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("content")
    );
    let (status, _) = validate(json!({"content": good, "repoType": "bucket"})).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_readme_has_invalid_metadata_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("card").await;
    let head_path = format!("/api/models/{repo}/revision/main");
    let head = async |hub: &Hub| {
        hub.get_json(&head_path).await["sha"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let before = head(&hub).await;
    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("bad card", Some(&before)),
                file("notes.txt", b"kept out too\n"),
                file("README.md", b"---\nlicense: [mit\n---\n# x\n"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-error-code"], "BadRequest");
    let v: Value = r.json().await.unwrap();
    let error = v["error"].as_str().unwrap();
    assert!(
        error.starts_with("Invalid metadata in README.md: the YAML metadata is not valid YAML"),
        "{v}"
    );
    assert_eq!(head(&hub).await, before, "nothing was committed");

    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("types", None),
                file("README.md", b"---\ntags: 5\n---\n"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("\"tags\" must be a string or a list of strings"),
        "{v}"
    );
    assert_eq!(head(&hub).await, before);

    // Only the root card is a card; a valid one, and a README without metadata, commit.
    for (path, content) in [
        ("docs/README.md", &b"---\n- not: a card\n---\n"[..]),
        ("README.md", b"---\nlicense: apache-2.0\n---\n# ok\n"),
        ("README.md", b"# no metadata\n"),
    ] {
        let r = hub
            .commit(&repo, "main", &[header("ok", None), file(path, content)])
            .await;
        assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
    }
    assert_ne!(head(&hub).await, before);
}

/// What huggingface_hub does with the server's validate-yaml answers: `upload_file` of a
/// README.md calls it before uploading and raises ValueError with each error message.
const PYTHON_CARD_CHECK: &str = r#"
import sys, warnings
from huggingface_hub import HfApi, ModelCard
api = HfApi()
repo = api.create_repo("cards").repo_id
try:
    api.upload_file(path_or_fileobj=b"---\nlicense: [mit\n---\n# x\n", path_in_repo="README.md", repo_id=repo)
    sys.exit("an invalid card was accepted")
except ValueError as e:
    assert "Invalid metadata in README.md" in str(e) and "not valid YAML" in str(e), str(e)
try:
    api.upload_file(path_or_fileobj=b"---\ntags: 5\n---\n", path_in_repo="README.md", repo_id=repo)
    sys.exit("a wrong type was accepted")
except ValueError as e:
    assert '"tags" must be a string or a list of strings' in str(e), str(e)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    api.upload_file(path_or_fileobj=b"---\n---\n# empty\n", path_in_repo="README.md", repo_id=repo)
assert any("empty metadata" in str(w.message) for w in caught), [str(w.message) for w in caught]
good = "---\nlicense: apache-2.0\ntags:\n- gguf\n---\n# Card\n"
api.upload_file(path_or_fileobj=good.encode(), path_in_repo="README.md", repo_id=repo)
ModelCard(good).validate()
try:
    ModelCard("---\nlicense: 3\n---\n").validate()
    sys.exit("ModelCard.validate accepted a wrong type")
except ValueError as e:
    assert '"license" must be a string' in str(e), str(e)
print("ok")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_reads_the_validate_yaml_answers() {
    // The venv's python with huggingface_hub; fails (never skips) when it is missing.
    let python = dev_python::Python::with_modules(&["huggingface_hub"]);
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path().join("data"))).await;
    let run = python
        .snippet(PYTHON_CARD_CHECK)
        .env_remove("HUGGINGFACE_CO_STAGING")
        .env_remove("HF_HUB_OFFLINE")
        .env("HF_ENDPOINT", hub.server.url())
        .env("HF_TOKEN", TOKEN)
        .env("HF_HUB_DISABLE_XET", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("HF_HOME", tmp.path().join("hf-home"))
        .env("HF_HUB_CACHE", tmp.path().join("hf-cache"));
    // The server runs on this runtime; the client waits on a blocking thread.
    let out = tokio::task::spawn_blocking(move || run.output())
        .await
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The two refused cards never reached a commit; the empty and the good one did.
    assert_eq!(hub.server.stats().commits, 2);
}

/// Branch and tag names follow one set of rules in both modes (git's, plus no commit-id-like
/// names); each case is one where the two modes' earlier rules disagreed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branch_and_tag_names_follow_one_set_of_rules_in_both_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("names").await;
    let post =
        async |path: String, body: Value| hub.send(reqwest::Method::POST, &path, Some(body)).await;

    // Hub mode: git takes `+`; a 40-hex name would be read as a commit id; git refuses `/.`.
    let r = post(
        format!("/api/models/{repo}/tag/main"),
        json!({"tag": "v1.0+build"}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let sha_like = "0123456789abcdef0123456789abcdef01234567";
    let r = post(format!("/api/models/{repo}/branch/{sha_like}"), json!({})).await;
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.contains("Invalid reference for a branch"), "{text}");
    assert!(text.contains("commit id"), "{text}");
    let r = post(
        format!("/api/models/{repo}/tag/main"),
        json!({"tag": "a/.b"}),
    )
    .await;
    assert_eq!(r.status(), 400);

    // ModelScope mode: the same rules, in its envelope.
    let r = post(
        "/api/v1/models".to_owned(),
        json!({"Path": "local", "Name": "names"}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let tag = |name: &'static str| {
        post(
            "/api/v1/models/local/names/repo/tag".to_owned(),
            json!({"TagName": name, "Ref": "master"}),
        )
    };
    let r = tag("v1.").await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["Success"], false);
    assert!(
        v["Message"].as_str().unwrap().contains("invalid tag name"),
        "{v}"
    );
    assert_eq!(tag("refs/heads/master").await.status(), 400);
    assert_eq!(tag("v1.0+build").await.status(), 200);
    let commit = |branch: &'static str| {
        post(
            format!("/api/v1/repos/models/local/names/commit/{branch}"),
            json!({"commit_message": "x", "actions": [{"action": "create", "path": "a.txt", "content": "a"}]}),
        )
    };
    assert_eq!(commit("x.lock").await.status(), 400);
    assert_eq!(commit(sha_like).await.status(), 400);
    assert_eq!(commit("exp/v1+1").await.status(), 200);
    hub.server.shutdown().await;
}
