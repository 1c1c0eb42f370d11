//! The Hub's edges (issue 19) at the HTTP level: status, `X-Error-Code`, `X-Request-Id` and
//! message of the answers where the Hub is less common (unqualified and case-varied ids, short
//! commit ids, gating, `.gitignore`, cards, Spaces, `expand[]`, pull requests, tags). The
//! Python suite checks what the official client makes of the same answers.

use hub_server::ServerConfig;
use serde_json::{Value, json};

use super::fixture::{Hub, TOKEN, file, header};

/// Status, `X-Error-Code`, `X-Request-Id` and the body's `error` of an answer.
async fn answer(r: reqwest::Response) -> (u16, String, String, Value) {
    let status = r.status().as_u16();
    let code = r
        .headers()
        .get("x-error-code")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, code, request_id, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unqualified_and_unknown_ids_are_repo_not_found_with_a_request_id() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("there").await;
    for (method, path) in [
        (reqwest::Method::GET, "/api/models/nobody"),
        (reqwest::Method::GET, "/api/datasets/nobody/revision/main"),
        (reqwest::Method::GET, "/api/models/nobody/tree/main"),
        (reqwest::Method::GET, "/api/models/nobody/commits/main"),
        (reqwest::Method::POST, "/api/models/nobody/paths-info/main"),
        (reqwest::Method::POST, "/api/models/nobody/preupload/main"),
        (reqwest::Method::POST, "/api/models/nobody/commit/main"),
        (reqwest::Method::GET, "/api/models/local/nobody/tree/main"),
        (reqwest::Method::PUT, "/api/models/local/nobody/settings"),
        (reqwest::Method::GET, "/nobody/resolve/main/config.json"),
        (reqwest::Method::GET, "/spaces/nobody/resolve/main/app.py"),
        (reqwest::Method::POST, "/nobody.git/info/lfs/objects/batch"),
    ] {
        let r = hub.send(method.clone(), path, None).await;
        let (status, code, request_id, body) = answer(r).await;
        assert_eq!(
            (status, code.as_str()),
            (404, "RepoNotFound"),
            "{method} {path}"
        );
        assert!(request_id.starts_with("Root=1-"), "{request_id}");
        assert_eq!(body["error"], "Repository not found", "{path}");
    }
    // Anonymous callers get 401 with the same code, as on the Hub.
    let r = hub
        .http
        .get(hub.url("/api/models/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(r).await.0, 401);
    // An existing repo's unknown sub-path is still a plain 404.
    let r = hub
        .send(
            reqwest::Method::GET,
            &format!("/api/models/{repo}/nothing"),
            None,
        )
        .await;
    let (status, code, _, _) = answer(r).await;
    assert_eq!((status, code.as_str()), (404, "NotFound"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_and_error_message_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("ids").await;
    let a = hub.send(reqwest::Method::GET, "/api/whoami-v2", None).await;
    let b = hub.send(reqwest::Method::GET, "/api/whoami-v2", None).await;
    let (a, b) = (&a.headers()["x-request-id"], &b.headers()["x-request-id"]);
    assert_ne!(a, b, "every request has its own id");
    // The client's trace id is the request id.
    let r = hub
        .http
        .get(hub.url(&format!("/api/models/{repo}/revision/nope")))
        .bearer_auth(TOKEN)
        .header("x-amzn-trace-id", "Root=1-abc-def")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "Root=1-abc-def");
    assert_eq!(r.headers()["x-error-code"], "RevisionNotFound");
    assert_eq!(r.headers()["x-error-message"], "Invalid rev id: nope");
    // A HEAD answer has no body: the message is in the header.
    let r = hub
        .http
        .head(hub.url(&format!("/{repo}/resolve/main/missing.txt")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.headers()["x-error-message"],
        "Entry not found: missing.txt"
    );
    assert!(r.headers().contains_key("x-request-id"));
    // A message that is not ASCII stays in the body only.
    let r = hub
        .http
        .get(hub.url(&format!("/api/models/{repo}/tree/main/d%C3%A9j%C3%A0")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(!r.headers().contains_key("x-error-message"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gated_settings_round_trip_and_gate_downloads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path());
    config.guest_tokens = vec!["hf_guest".into()];
    let hub = Hub::start(config).await;
    let repo = hub.create_repo("gated").await;
    let settings = format!("/api/models/{repo}/settings");
    for (value, shown) in [
        (json!("manual"), json!("manual")),
        (json!("auto"), json!("auto")),
        (json!(false), json!(false)),
        (json!("manual"), json!("manual")),
    ] {
        let r = hub
            .send(
                reqwest::Method::PUT,
                &settings,
                Some(json!({"gated": value})),
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            hub.get_json(&format!("/api/models/{repo}")).await["gated"],
            shown
        );
    }
    for bad in [json!(true), json!("sometimes"), json!(3)] {
        let r = hub
            .send(reqwest::Method::PUT, &settings, Some(json!({"gated": bad})))
            .await;
        let (status, code, _, body) = answer(r).await;
        assert_eq!((status, code.as_str()), (400, "BadRequest"), "{bad}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("\"auto\", \"manual\" or false")
        );
    }
    let r = hub
        .send(
            reqwest::Method::PUT,
            &settings,
            Some(json!({"visibility": "protected"})),
        )
        .await;
    assert_eq!(r.status(), 400, "protected is for Spaces");
    // The owner downloads; another user gets 403 GatedRepo, an anonymous caller 401.
    let resolve = hub.url(&format!("/{repo}/resolve/main/.gitattributes"));
    assert_eq!(
        hub.http
            .get(&resolve)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = hub
        .http
        .get(&resolve)
        .bearer_auth("hf_guest")
        .send()
        .await
        .unwrap();
    let (status, code, _, body) = answer(r).await;
    assert_eq!((status, code.as_str()), (403, "GatedRepo"));
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not in the authorized list")
    );
    let r = hub.http.get(&resolve).send().await.unwrap();
    let (status, code, _, _) = answer(r).await;
    assert_eq!((status, code.as_str()), (401, "GatedRepo"));
    let batch = hub
        .http
        .post(hub.url(&format!("/{repo}.git/info/lfs/objects/batch")))
        .bearer_auth("hf_guest")
        .json(&json!({"operation": "download", "objects": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.headers()["x-error-code"], "GatedRepo");
    // The info and the tree stay visible to everyone.
    let r = hub
        .http
        .get(hub.url(&format!("/api/models/{repo}/tree/main")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preupload_reads_gitignore_and_ids_ignore_case() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let r = hub
        .send(
            reqwest::Method::POST,
            "/api/repos/create",
            Some(json!({"name": "Me-MyRepo"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = hub
        .commit(
            "local/Me-MyRepo",
            "main",
            &[header("ignore", None), file(".gitignore", b"nested/*\n")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let files = json!({"files": [
        {"path": "nested/file.bin", "sample": "", "size": 1},
        {"path": "top.bin", "sample": "", "size": 1},
    ]});
    // The lower-cased id reaches the same repo.
    let preupload = "/api/models/LOCAL/me-myrepo/preupload/main";
    let v: Value = hub
        .send(reqwest::Method::POST, preupload, Some(files.clone()))
        .await
        .json()
        .await
        .unwrap();
    let ignored: Vec<bool> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["shouldIgnore"].as_bool().unwrap())
        .collect();
    assert_eq!(ignored, [true, false]);
    // The commit's own .gitignore (gitIgnore in the body) wins over the stored one.
    let mut with_rules = files.clone();
    with_rules["gitIgnore"] = json!("*.bin\n!nested/\n");
    let v: Value = hub
        .send(reqwest::Method::POST, preupload, Some(with_rules))
        .await
        .json()
        .await
        .unwrap();
    let ignored: Vec<bool> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["shouldIgnore"].as_bool().unwrap())
        .collect();
    assert_eq!(ignored, [true, true]);
    // The info shows the stored case; a create in another case is 409 with that URL.
    assert_eq!(
        hub.get_json("/api/models/local/ME-MYREPO").await["id"],
        "local/Me-MyRepo"
    );
    let r = hub
        .send(
            reqwest::Method::POST,
            "/api/repos/create",
            Some(json!({"name": "me-myrepo"})),
        )
        .await;
    let (status, code, _, body) = answer(r).await;
    assert_eq!((status, code.as_str()), (409, "RepoExists"));
    assert!(
        body["url"].as_str().unwrap().ends_with("/local/Me-MyRepo"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_commit_ids_resolve_and_a_hex_named_branch_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("short").await;
    let first = hub.head(&repo).await;
    let r = hub
        .commit(&repo, "main", &[header("two", None), file("a.txt", b"2")])
        .await;
    assert_eq!(r.status(), 200);
    let second = hub.head(&repo).await;
    let info = hub
        .get_json(&format!("/api/models/{repo}/revision/{}", &first[..7]))
        .await;
    assert_eq!(info["sha"], first.as_str());
    let upper = first[..12].to_ascii_uppercase();
    let info = hub
        .get_json(&format!("/api/models/{repo}/revision/{upper}"))
        .await;
    assert_eq!(
        info["sha"],
        first.as_str(),
        "prefixes are read in either case"
    );
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/api/models/{repo}/tag/{}", &first[..7]),
            Some(json!({"tag": "v0"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let refs = hub.get_json(&format!("/api/models/{repo}/refs")).await;
    assert_eq!(refs["tags"][0]["targetCommit"], first.as_str());
    // A branch named like a prefix of `first`, pointing at `second`: the ref wins.
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/api/models/{repo}/branch/{}", &first[..8]),
            Some(json!({"startingPoint": second})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let info = hub
        .get_json(&format!("/api/models/{repo}/revision/{}", &first[..8]))
        .await;
    assert_eq!(info["sha"], second.as_str());
    // Too short, or naming no commit: RevisionNotFound.
    for rev in [&first[..3], "0000000"] {
        let r = hub
            .send(
                reqwest::Method::GET,
                &format!("/api/models/{repo}/revision/{rev}"),
                None,
            )
            .await;
        let (status, code, _, _) = answer(r).await;
        assert_eq!((status, code.as_str()), (404, "RevisionNotFound"), "{rev}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_delete_folders_without_a_slash_and_pull_requests_need_a_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("ops").await;
    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("files", None),
                file("dir/a.txt", b"a"),
                file("dir/b/c.txt", b"c"),
                file("dir.txt", b"d"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let delete = json!({"key": "deletedFile", "value": {"path": "dir"}});
    let r = hub
        .commit(&repo, "main", &[header("drop", None), delete.clone()])
        .await;
    assert_eq!(r.status(), 200);
    let tree = hub
        .get_json(&format!("/api/models/{repo}/tree/main?recursive=true"))
        .await;
    let paths: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [".gitattributes", "dir.txt"]);
    let (status, code, _, body) = answer(
        hub.commit(&repo, "main", &[header("again", None), delete])
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "EntryNotFound"));
    assert_eq!(body["error"], "A file with this name doesn't exist: dir");
    // A pull request's base must be a branch.
    let head = hub.head(&repo).await;
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/api/models/{repo}/tag/main"),
            Some(json!({"tag": "t"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    for base in [head.as_str(), &head[..7], "t"] {
        let r = hub
            .http
            .post(hub.url(&format!("/api/models/{repo}/commit/{base}?create_pr=1")))
            .bearer_auth(TOKEN)
            .header("content-type", "application/x-ndjson")
            .body(format!("{}\n{}\n", header("pr", None), file("p.txt", b"p")))
            .send()
            .await
            .unwrap();
        let (status, code, _, body) = answer(r).await;
        assert_eq!((status, code.as_str()), (404, "RevisionNotFound"), "{base}");
        assert!(
            body["error"].as_str().unwrap().contains("must be a branch"),
            "{body}"
        );
    }
    // Tagging checks the revision before the tag name.
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/api/models/{repo}/tag/foobar"),
            Some(json!({"tag": "invalid tag"})),
        )
        .await;
    let (status, code, _, body) = answer(r).await;
    assert_eq!((status, code.as_str()), (404, "RevisionNotFound"));
    assert_eq!(body["error"], "Invalid rev id: foobar");
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/api/models/{repo}/tag/main"),
            Some(json!({"tag": "invalid tag"})),
        )
        .await;
    assert_eq!(answer(r).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_yaml_warns_without_metadata_and_refuses_unknown_licences() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let v: Value = hub
        .send(
            reqwest::Method::POST,
            "/api/validate-yaml",
            Some(json!({"content": "# Only text\n"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["errors"], json!([]));
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("empty or missing yaml metadata in repo card")
    );
    let r = hub
        .send(
            reqwest::Method::POST,
            "/api/validate-yaml",
            Some(json!({"content": "---\nlicense: asdf\n---\n"})),
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("\"license\" must be one of [apache-2.0, mit,")
    );
    // The text form ModelCard.validate asks for: one `- Error: ` line per error.
    let r = hub
        .http
        .post(hub.url("/api/validate-yaml"))
        .header("accept", "text/plain")
        .json(&json!({"content": "---\nlicense: asdf\ntags: 3\n---\n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("- Error: \"license\" must be one of ["),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "- Error: \"tags\" must be a string or a list of strings, not an integer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spaces_start_with_a_readme_and_info_honours_expand() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let r = hub
        .send(
            reqwest::Method::POST,
            "/api/repos/create",
            Some(json!({"name": "app", "type": "space"})),
        )
        .await;
    let (status, code, _, body) = answer(r).await;
    assert_eq!((status, code.as_str()), (400, "BadRequest"));
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("gradio, streamlit, docker, static")
    );
    let r = hub
        .send(
            reqwest::Method::POST,
            "/api/repos/create",
            Some(json!({"name": "app", "type": "space", "sdk": "gradio"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let info = hub.get_json("/api/spaces/local/app").await;
    assert_eq!(info["sdk"], "gradio");
    assert_eq!(info["cardData"]["app_file"], "app.py");
    assert_eq!(info["cardData"]["title"], "app");
    let commits = hub.get_json("/api/spaces/local/app/commits/main").await;
    assert_eq!(
        commits[0]["authors"][0]["user"], "local",
        "the creator, not system"
    );
    // expand[] narrows the answer to `_id`, `id` and the fields asked for.
    let repo = hub.create_repo("expand").await;
    let info = hub
        .get_json(&format!("/api/models/{repo}?expand[]=sha&expand[]=gated"))
        .await;
    let mut keys: Vec<&str> = info
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["_id", "gated", "id", "sha"]);
    let info = hub
        .get_json(&format!("/api/models/{repo}?expand=siblings"))
        .await;
    assert_eq!(info["siblings"], json!([{"rfilename": ".gitattributes"}]));
    let r = hub
        .send(
            reqwest::Method::GET,
            &format!("/api/models/{repo}?expand=sha&expand=sdk"),
            None,
        )
        .await;
    let (status, code, _, body) = answer(r).await;
    assert_eq!((status, code.as_str()), (400, "BadRequest"));
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("\"expand[1]\" must be one of [author, "),
        "{body}"
    );
    // `sdk` is a Space field.
    let info = hub.get_json("/api/spaces/local/app?expand[]=sdk").await;
    assert_eq!(info["sdk"], "gradio");
}

/// Paths with a backslash are refused on purpose (the Hub stores them; see `store/paths.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backslash_paths_are_a_deliberate_422() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("slashes").await;
    let r = hub
        .commit(&repo, "main", &[header("bs", None), file("a\\b.txt", b"x")])
        .await;
    let (status, code, _, body) = answer(r).await;
    assert_eq!((status, code.as_str()), (422, "InvalidPath"));
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .ends_with("use '/' between folders"),
        "{body}"
    );
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/api/models/{repo}/preupload/main"),
            Some(json!({"files": [{"path": "w\\m.gguf", "sample": "", "size": 1}]})),
        )
        .await;
    assert_eq!(answer(r).await.1, "InvalidPath");
}
