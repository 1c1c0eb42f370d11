//! Restarts keep everything, and a spawned server serves blocking callers and stops even with
//! a stalled request.

use std::time::{Duration, Instant};

use hub_server::{Action, Fault, HubServer, Match, ServerConfig};
use serde_json::json;

use super::fixture::{Hub, TOKEN, addr_of, file, header, lfs_file, pseudo_random};

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
