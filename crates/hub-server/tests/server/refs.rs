//! Branch and tag names, one set of rules in both modes.

use hub_server::ServerConfig;
use serde_json::{Value, json};

use super::fixture::Hub;

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
