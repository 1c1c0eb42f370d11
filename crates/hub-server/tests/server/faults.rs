//! Every fault-injection action, on the resolve and commit routes.

use std::time::{Duration, Instant};

use hub_server::{Action, Fault, Match, ServerConfig};

use super::fixture::{Hub, TOKEN, file, header, lfs_file, pseudo_random, sha256_hex};

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
