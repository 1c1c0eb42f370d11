//! Sync (`cargo xtask sync`, `ruvltra_sync::sync_registry_file`) under the faults its crate's
//! tests do not cover (issue 11, "Faults"): a 429 within the limit, a corrupted, a truncated
//! and an HTML tree answer. Each run either writes exactly what a clean sync writes or fails
//! with registry.json byte-identical and no temporary file left.

mod support;

use std::path::Path;

use hub_client::{Endpoint, HubClient, Token};
use hub_server::{Action, Fault, HubServer, Match};
use ruvltra_sync::Mode;
use ruvltra_uploader::{ModelUploader, PublishOptions};
use support::{QUANTS, catalog};
use test_support::{LocalHub, TOKEN};

fn client(server: &HubServer) -> HubClient {
    HubClient::builder()
        .endpoint(Endpoint::parse(&server.url()).unwrap())
        .token(Token::new(TOKEN))
        .build()
        .unwrap()
}

fn tmp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp") || n.starts_with('.'))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_writes_the_clean_result_or_nothing_under_faults() {
    let LocalHub { server, dir: tmp } = LocalHub::start();
    let (files, registry) = (tmp.path().join("files"), tmp.path().join("registry.json"));
    catalog(&files, &registry, &QUANTS[..2], 200_000, "sync");
    let reg = ruvltra_registry::load(&registry).unwrap();
    let opts = PublishOptions {
        card: false,
        ..PublishOptions::default()
    };
    let report = ModelUploader::with_client(client(&server))
        .xet_cache(Some(tmp.path().join("xet-cache")))
        .publish(&reg, &files, &opts)
        .await
        .unwrap();
    assert!(report.verified());
    let original = std::fs::read(&registry).unwrap();
    let now = "2026-01-01T00:00:00Z";

    // The clean result, from a copy.
    let clean_dir = tmp.path().join("clean");
    std::fs::create_dir_all(&clean_dir).unwrap();
    let clean_path = clean_dir.join("registry.json");
    std::fs::write(&clean_path, &original).unwrap();
    let clean = ruvltra_sync::sync_registry_file(
        &clean_path,
        &client(&server),
        Mode::Sync { accept: true },
        4,
        now.to_owned(),
    )
    .await
    .unwrap();
    assert!(clean.written, "the clean sync adds sizes and sha256s");
    let clean_bytes = std::fs::read(&clean_path).unwrap();
    assert_ne!(clean_bytes, original);

    let tree = || Match::any().method("GET").path_contains("/tree/");
    let api = || Match::any().method("GET").path_contains("/api/models/");
    let cases: Vec<(&str, Fault, bool)> = vec![
        (
            "429 with Retry-After 1",
            Fault::once(api(), Action::StatusRetryAfter(429, 1)),
            true,
        ),
        (
            "corrupted tree answer",
            Fault::new(tree(), 10, Action::CorruptBody),
            false,
        ),
        (
            "truncated tree answer",
            Fault::new(tree(), 10, Action::TruncateBody(100)),
            false,
        ),
        (
            "HTML tree answer",
            Fault::new(tree(), 10, Action::Html200),
            false,
        ),
    ];
    let mut outcomes = Vec::new();
    for (i, (what, fault, must_succeed)) in cases.into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("registry.json");
        std::fs::write(&path, &original).unwrap();
        server.faults().clear();
        server.faults().add(fault);
        let result = ruvltra_sync::sync_registry_file(
            &path,
            &client(&server),
            Mode::Sync { accept: true },
            4,
            now.to_owned(),
        )
        .await;
        let after = std::fs::read(&path).unwrap();
        match result {
            Ok(_) => {
                assert_eq!(
                    after, clean_bytes,
                    "{what}: wrote something else than a clean sync"
                );
                outcomes.push(format!("{what}: synced"));
            }
            Err(e) => {
                assert!(!must_succeed, "{what}: {e}");
                assert_eq!(after, original, "{what}: registry.json changed on failure");
                let text = e.to_string();
                assert!(!text.contains(TOKEN), "{what}: {text}");
                outcomes.push(format!("{what}: failed: {text}"));
            }
        }
        assert!(tmp_files(&dir).is_empty(), "{what}: temporary files left");
    }
    eprintln!("{}", outcomes.join("\n"));
    server.stop();
}
