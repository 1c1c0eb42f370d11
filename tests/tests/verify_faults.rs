//! Verify (`cargo xtask verify --deep`, `ModelUploader::verify_registry`) under every fault of
//! the local server (issue 11, "Faults"): each run either verifies, having ridden the fault
//! out, or fails with a clear message; a damaged download is never taken as a match, and
//! verifying never writes to the Hub. Publish, sync and download have their own fault tests
//! in their crates (see docs/RELIABILITY.md); a stalled answer (30 s client timeout) is
//! covered by the uploader's `a_stalled_answer_times_out_and_is_retried`, the same client.

mod support;

use std::time::Duration;

use hub_client::{Endpoint, HubClient, Token};
use hub_server::{Action, Fault, HubServer, Match};
use ruvltra_uploader::{ModelUploader, PublishOptions, Transfer, VerifyOptions};
use support::{QUANTS, catalog};
use test_support::{LocalHub, TOKEN};

fn uploader(server: &HubServer) -> ModelUploader {
    let client = HubClient::builder()
        .endpoint(Endpoint::parse(&server.url()).unwrap())
        .token(Token::new(TOKEN))
        .build()
        .unwrap();
    // The Git LFS path, so that "verify uploaded" is measured by the server's upload bytes.
    ModelUploader::with_client(client).transfer(Transfer::Lfs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_verify_rides_out_faults_or_fails_clearly_and_never_writes() {
    let LocalHub { server, dir: tmp } = LocalHub::start();
    let (files, registry) = (tmp.path().join("files"), tmp.path().join("registry.json"));
    catalog(&files, &registry, &QUANTS[..2], 200_000, "verify");
    let reg = ruvltra_registry::load(&registry).unwrap();
    let opts = PublishOptions {
        card: false,
        ..PublishOptions::default()
    };
    let report = uploader(&server)
        .publish(&reg, &files, &opts)
        .await
        .unwrap();
    assert!(report.verified());
    // The registry now knows sizes and sha256s, as after a sync.
    let published = server.stats();

    let api = || Match::any().method("GET").path_contains("/api/models/");
    let resolve = || Match::any().method("GET").path_contains("/resolve/");
    let cases: Vec<(&str, Fault)> = vec![
        (
            "503 burst on the API",
            Fault::new(api(), 3, Action::Status(503)),
        ),
        (
            "500 burst on downloads",
            Fault::new(resolve(), 2, Action::Status(500)),
        ),
        (
            "429 with Retry-After 1",
            Fault::new(api(), 1, Action::StatusRetryAfter(429, 1)),
        ),
        (
            "429 with Retry-After 3600",
            Fault::new(api(), 1, Action::StatusRetryAfter(429, 3600)),
        ),
        (
            "dropped download body",
            Fault::once(resolve(), Action::DropAfter(1000)),
        ),
        (
            "corrupted download body",
            Fault::once(resolve(), Action::CorruptBody),
        ),
        (
            "truncated download body",
            Fault::once(resolve(), Action::TruncateBody(1000)),
        ),
        (
            "HTML page with 200 on the API",
            Fault::once(api(), Action::Html200),
        ),
        (
            "HTML page with 200 on a download",
            Fault::once(resolve(), Action::Html200),
        ),
        (
            "200 to a Range request",
            Fault::once(resolve(), Action::IgnoreRange),
        ),
    ];
    let mut outcomes = Vec::new();
    for (what, fault) in cases {
        server.faults().clear();
        let fired = server.stats().faults_fired;
        server.faults().add(fault);
        let started = std::time::Instant::now();
        let result = uploader(&server)
            .verify_registry(
                &reg,
                &VerifyOptions {
                    branch: None,
                    deep: true,
                },
            )
            .await;
        let outcome = match &result {
            Ok(reports) if reports.iter().all(|r| r.ok()) => "verified".to_owned(),
            Ok(reports) => {
                let problems: Vec<String> = reports
                    .iter()
                    .flat_map(|r| r.problems.iter().map(|p| format!("{p:?}")))
                    .collect();
                format!("reported {}", problems.join("; "))
            }
            Err(e) => {
                let text = e.to_string();
                assert!(!text.is_empty() && !text.contains(TOKEN), "{what}: {text}");
                format!("failed: {text}")
            }
        };
        // Damaged bytes never verify silently: a run that verified despite a body fault
        // read the file again.
        let stats = server.stats();
        if what.contains("body") && outcome == "verified" {
            assert!(stats.faults_fired > fired, "{what}: the fault never fired");
        }
        if what == "429 with Retry-After 3600" {
            assert!(outcome.starts_with("failed"), "{what}: {outcome}");
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{what}: did not fail fast"
            );
        }
        if what.contains("503") || what.contains("500") || what.contains("Retry-After 1") {
            assert_eq!(
                outcome, "verified",
                "{what}: a transient fault must be ridden out"
            );
        }
        assert_eq!(
            stats.commits, published.commits,
            "{what}: verify wrote to the Hub"
        );
        assert_eq!(
            stats.upload_bytes, published.upload_bytes,
            "{what}: verify uploaded"
        );
        outcomes.push(format!("{what}: {outcome}"));
    }
    eprintln!("{}", outcomes.join("\n"));
    server.stop();
}
