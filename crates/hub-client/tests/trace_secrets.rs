//! Runs a traced publish and download (with retries and a cross-origin redirect) and checks
//! that the trace output never holds the token or a presigned URL's query string. It lives in
//! its own test binary so that no concurrent test touches the tracing callsites first.

use std::sync::Arc;

use futures_util::StreamExt;
use hub_client::{CommitOp, Endpoint, HubClient, NewCommit, RepoId, Sha256, Token};
use hub_server::{Action, Fault, Match};
use test_support::{LocalHub, TOKEN};

/// A writer collecting trace output in memory.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn trace_output_never_contains_the_token_or_presigned_queries() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "hub_client=trace,http_transport=trace",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let LocalHub { server, dir } = LocalHub::start_with(|config| config.lfs_redirect = true);
    let client = |token: &str| {
        HubClient::builder()
            .endpoint(Endpoint::parse(&server.url()).unwrap())
            .token(Token::new(token))
            .retry_policy(hub_client::RetryPolicy {
                base_delay: std::time::Duration::from_millis(10),
                ..Default::default()
            })
            .build()
            .unwrap()
    };
    let hub = client(TOKEN);
    let repo = RepoId::new("local/traced").unwrap();
    hub.create_repo(&repo, false).await.unwrap();
    let bytes: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = Sha256::digest(&bytes);
    let file = dir.path().join("t.bin");
    std::fs::write(&file, &bytes).unwrap();
    // A dropped basic PUT is re-sent from the start of the file; a 503 is retried.
    server.faults().add(Fault::once(
        Match::any().method("PUT").path_contains("/lfs-upload/"),
        Action::DropAfter(1000),
    ));
    server.faults().add(Fault::once(
        Match::any().path_contains("/tree/"),
        Action::Status(503),
    ));
    hub.upload_lfs_object(&repo, "main", &file, sha, 3000, None)
        .await
        .unwrap();
    let commit = NewCommit {
        summary: "traced".into(),
        description: String::new(),
        parent_commit: Some(hub.resolve_revision(&repo, "main").await.unwrap()),
        operations: vec![CommitOp::AddLfs {
            path: "t.bin".into(),
            sha256: sha,
            size: 3000,
        }],
    };
    hub.commit(&repo, "main", &commit).await.unwrap();
    hub.list_tree(&repo, "main", None, true).await.unwrap();
    let mut download = hub.download_range(&repo, "main", "t.bin", 0).await.unwrap();
    let mut body = Vec::new();
    while let Some(chunk) = download.next().await {
        body.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(body, bytes);
    assert_eq!(server.stats().faults_fired, 2);
    assert!(client("hf_wrong_secret_token").whoami().await.is_err());

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("hub answer"), "nothing was traced:\n{text}");
    assert!(
        text.contains("retrying"),
        "the retry was not traced:\n{text}"
    );
    assert!(
        text.contains("following redirect") && text.contains("/lfs-cdn/"),
        "the CDN redirect was not traced:\n{text}"
    );
    for secret in [
        TOKEN,
        "hf_wrong_secret_token",
        "Bearer",
        "signature=",
        "expires=",
    ] {
        assert!(
            !text.contains(secret),
            "{secret:?} leaked into the trace:\n{text}"
        );
    }
}
