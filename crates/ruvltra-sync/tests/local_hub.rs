//! Sync against the local Hub-compatible server: files published by another client (the
//! official Python client, or hub-client), replaced files, faults, and the request budget.

mod common;

use std::fs;

use common::{Hub, hub, hub_with, model, python_upload};
use dev_python::HubTransfer;
use hub_server::{Action, Fault, Match};
use ruvltra_sync::{FindingKind, Mode, SyncError};
use serde_json::{Value, json};
use test_support::{pseudo_random, sha256_hex};

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-02T00:00:00Z";
const T2: &str = "2026-01-03T00:00:00Z";
const SYNC: Mode = Mode::Sync { accept: false };
const ACCEPT: Mode = Mode::Sync { accept: true };

/// A registry of `repo` with hand-written fields and unknown keys everywhere.
fn registry_json(repo: &str, models: Vec<Value>) -> Value {
    json!({
        "$schema": "./registry.schema.json",
        "schema_version": 1,
        "repo": repo,
        "revision": "main",
        "catalog": {"title": "RuvLTRA test", "x-catalog": {"kept": true}},
        "models": models,
        "x-top": ["kept", 1],
    })
}

fn with(mut model: Value, extra: Value) -> Value {
    for (key, value) in extra.as_object().unwrap() {
        model[key] = value.clone();
    }
    model
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_uploaded_by_the_python_client_are_synced_exactly() {
    // Both kinds of official client: through Xet and through LFS.
    for mode in HubTransfer::BOTH {
        files_uploaded_by_the_python_client_are_synced_exactly_in(mode).await;
    }
}

async fn files_uploaded_by_the_python_client_are_synced_exactly_in(mode: HubTransfer) {
    let hub = hub();
    let small = pseudo_random(300_000, 1);
    let medium = pseudo_random(1_200_000, 2);
    let small_path = hub.files().join("small.gguf");
    let medium_path = hub.files().join("medium.gguf");
    fs::write(&small_path, &small).unwrap();
    fs::write(&medium_path, &medium).unwrap();
    let readme = hub.files().join("README.md");
    fs::write(&readme, "# card\n").unwrap();
    let commit = python_upload(
        &hub,
        mode,
        "ruv/ruvltra",
        Some("v1.0"),
        &[
            ("ruvltra-small-0.5b-q4_k_m.gguf", &small_path),
            ("ruvltra-medium-1.1b-q4_k_m.gguf", &medium_path),
            ("README.md", &readme),
        ],
    );
    assert_eq!(commit.len(), 40, "{commit}");

    let hand_written = with(
        model("small", "0.5b", "q4_k_m"),
        json!({
            "description": "Written by a person.",
            "hardware": {"min_ram_mib": 512, "x-hw": "kept"},
            "benchmarks": [{"name": "speed", "value": 12.5, "unit": "tok/s", "x-b": 1}],
            "fallback_urls": ["https://mirror.example.com/small.gguf"],
            "x-model": {"kept": [1, 2, 3]},
        }),
    );
    let planned = with(model("small", "0.5b", "q8_0"), json!({"status": "planned"}));
    let path = hub.write_registry(
        "registry.json",
        &registry_json("ruv/ruvltra", vec![hand_written, planned]),
    );
    let before = read_json(&path);

    let outcome = hub.sync(&path, SYNC, T0).await.unwrap();
    assert!(
        outcome.written && outcome.in_sync(),
        "{:#?}",
        outcome.report
    );
    let after = read_json(&path);
    let synced = &after["models"][0];
    assert_eq!(synced["bytes"], small.len());
    assert_eq!(synced["sha256"], sha256_hex(&small));
    assert_eq!(
        synced["hub"],
        json!({"commit": commit, "synced_at": T0, "tags": ["v1.0"]})
    );
    // Hand-written fields and unknown keys survive; only sync's own keys were added.
    let mut stripped = after.clone();
    for key in ["bytes", "sha256", "hub"] {
        stripped["models"][0].as_object_mut().unwrap().remove(key);
    }
    stripped["models"].as_array_mut().unwrap().truncate(2);
    assert_eq!(stripped, before);
    // The planned model is untouched; the medium file was added for review.
    assert_eq!(after["models"][1], before["models"][1]);
    let added = &after["models"][2];
    assert_eq!(added["id"], "ruvltra-medium-1.1b-q4_k_m");
    assert_eq!(
        (&added["variant"], &added["size"], &added["quant"]),
        (&json!("medium"), &json!("1.1b"), &json!("q4_k_m"))
    );
    assert_eq!(added["needs_review"], true);
    assert_eq!(added["bytes"], medium.len());
    assert_eq!(added["sha256"], sha256_hex(&medium));

    // A second sync, later, changes nothing: the file is byte-identical.
    let bytes = fs::read(&path).unwrap();
    let again = hub.sync(&path, SYNC, T1).await.unwrap();
    assert!(!again.written && again.in_sync(), "{:#?}", again.report);
    assert_eq!(fs::read(&path).unwrap(), bytes);
    // And the check passes.
    let check = hub.sync(&path, Mode::Check, T2).await.unwrap();
    assert!(check.in_sync() && !check.written, "{:#?}", check.report);
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

/// Publishes a synced registry of one model and returns the registry path.
async fn synced_registry(hub: &Hub, bytes: &[u8]) -> std::path::PathBuf {
    hub.create_repo("ruv/ruvltra").await;
    hub.publish("ruv/ruvltra", &[("ruvltra-small-0.5b-q4_k_m.gguf", bytes)])
        .await;
    let path = hub.write_registry(
        "registry.json",
        &registry_json(
            "ruv/ruvltra",
            vec![with(
                model("small", "0.5b", "q4_k_m"),
                json!({"description": "Hand-written.", "x-keep": 7}),
            )],
        ),
    );
    let outcome = hub.sync(&path, SYNC, T0).await.unwrap();
    assert!(outcome.written && outcome.in_sync());
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_file_is_drift_that_check_names_and_accept_takes() {
    let hub = hub();
    let original = pseudo_random(50_000, 3);
    let path = synced_registry(&hub, &original).await;
    let synced = fs::read(&path).unwrap();

    // Someone replaces the file on the Hub.
    let replacement = pseudo_random(60_000, 4);
    let new_commit = hub
        .publish(
            "ruv/ruvltra",
            &[("ruvltra-small-0.5b-q4_k_m.gguf", &replacement)],
        )
        .await;

    let check = hub.sync(&path, Mode::Check, T1).await.unwrap();
    assert!(!check.in_sync());
    let differences: Vec<String> = check.report.differences().map(|f| f.to_string()).collect();
    assert!(
        differences
            .iter()
            .any(|d| d.starts_with("DRIFT") && d.contains("ruvltra-small-0.5b-q4_k_m.gguf")),
        "{differences:#?}"
    );
    assert_eq!(fs::read(&path).unwrap(), synced, "--check changes nothing");

    // Sync without --accept reports the drift, fails, and keeps the registry's values.
    let held = hub.sync(&path, SYNC, T1).await.unwrap();
    assert!(!held.in_sync());
    let drift: Vec<_> = held.report.drift().collect();
    assert_eq!(drift.len(), 1);
    assert!(matches!(
        &drift[0].kind,
        FindingKind::Drift { registry, hub: hub_sha, accepted: false, .. }
            if *registry == sha256_hex(&original) && *hub_sha == sha256_hex(&replacement)
    ));
    assert_eq!(fs::read(&path).unwrap(), synced);

    // With --accept the registry takes the Hub's file facts and commit.
    let taken = hub.sync(&path, ACCEPT, T2).await.unwrap();
    assert!(taken.written && taken.in_sync(), "{:#?}", taken.report);
    let after = read_json(&path);
    let m = &after["models"][0];
    assert_eq!(m["sha256"], sha256_hex(&replacement));
    assert_eq!(m["bytes"], replacement.len());
    assert_eq!(m["hub"]["commit"], new_commit);
    assert_eq!(m["hub"]["synced_at"], T2);
    assert_eq!(
        (&m["description"], &m["x-keep"]),
        (&json!("Hand-written."), &json!(7))
    );
    assert!(hub.sync(&path, Mode::Check, T2).await.unwrap().in_sync());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_convention_named_file_is_added_for_review() {
    let hub = hub();
    let path = synced_registry(&hub, &pseudo_random(1000, 5)).await;
    let shard1 = pseudo_random(700, 6);
    let shard2 = pseudo_random(800, 7);
    hub.publish(
        "ruv/ruvltra",
        &[
            ("ruvltra-large-3b-f16-00001-of-00002.gguf", &shard1),
            ("ruvltra-large-3b-f16-00002-of-00002.gguf", &shard2),
            ("notes.txt", b"not a model"),
        ],
    )
    .await;
    assert!(!hub.sync(&path, Mode::Check, T1).await.unwrap().in_sync());
    let outcome = hub.sync(&path, SYNC, T1).await.unwrap();
    assert!(
        outcome.written && outcome.in_sync(),
        "{:#?}",
        outcome.report
    );
    let after = read_json(&path);
    assert_eq!(after["models"].as_array().unwrap().len(), 2);
    let large = &after["models"][1];
    assert_eq!(large["id"], "ruvltra-large-3b-f16");
    assert_eq!(large["kind"], "gguf-full-precision");
    assert_eq!(large["needs_review"], true);
    assert_eq!(large["sha256"], sha256_hex(&shard1));
    assert_eq!(
        large["extra_files"],
        json!([{"file": "ruvltra-large-3b-f16-00002-of-00002.gguf", "bytes": 800,
                "sha256": sha256_hex(&shard2)}])
    );
    // The first model's Hub state moved to the new commit.
    assert_eq!(
        after["models"][0]["hub"]["commit"],
        hub.head("ruv/ruvltra").await
    );
    assert!(hub.sync(&path, Mode::Check, T2).await.unwrap().in_sync());
}

/// Installs `faults`, runs a sync and asserts it failed and left the file byte-identical.
async fn fails_untouched(hub: &Hub, path: &std::path::Path, faults: Vec<Fault>) -> SyncError {
    let before = fs::read(path).unwrap();
    for fault in faults {
        hub.server.faults().add(fault);
    }
    let err = hub.sync(path, ACCEPT, T2).await.unwrap_err();
    hub.server.faults().clear();
    assert_eq!(fs::read(path).unwrap(), before, "{err}");
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_mid_sync_leaves_the_registry_untouched() {
    let hub = hub();
    let path = synced_registry(&hub, &pseudo_random(1000, 8)).await;
    // Changes on the Hub that a successful sync would write.
    hub.publish(
        "ruv/ruvltra",
        &[
            ("ruvltra-small-0.5b-q4_k_m.gguf", &pseudo_random(1100, 9)),
            ("ruvltra-new-1b-q4_0.gguf", &pseudo_random(10, 10)),
        ],
    )
    .await;

    // A 500 burst on the tree call, longer than the retries.
    let err = fails_untouched(
        &hub,
        &path,
        vec![Fault {
            when: Match::any().path_contains("/tree/"),
            times: 10,
            action: Action::Status(500),
        }],
    )
    .await;
    let text = anyhow_like(&err);
    assert!(
        text.contains("ruv/ruvltra") && text.contains("500"),
        "{text}"
    );

    // A captive portal's HTML page with status 200, on the refs and on the tree.
    for needle in ["/refs", "/tree/", "/revision/"] {
        let err = fails_untouched(
            &hub,
            &path,
            vec![Fault {
                when: Match::any().path_contains(needle),
                times: 10,
                action: Action::Html200,
            }],
        )
        .await;
        assert!(matches!(err, SyncError::Hub { .. }), "{needle}: {err}");
    }

    // A connection dropped in the middle of the tree answer, every time.
    fails_untouched(
        &hub,
        &path,
        vec![Fault {
            when: Match::any().path_contains("/tree/"),
            times: 10,
            action: Action::DropAfter(20),
        }],
    )
    .await;

    // A 429 asking for a wait beyond the client's limit fails fast.
    let err = fails_untouched(
        &hub,
        &path,
        vec![Fault::once(
            Match::any().path_contains("/refs"),
            Action::StatusRetryAfter(429, 3600),
        )],
    )
    .await;
    assert!(anyhow_like(&err).contains("3600"), "{}", anyhow_like(&err));

    // A burst shorter than the retries is absorbed: the sync succeeds.
    hub.server.faults().add(Fault {
        when: Match::any().path_contains("/tree/"),
        times: 2,
        action: Action::Status(503),
    });
    let outcome = hub.sync(&path, ACCEPT, T2).await.unwrap();
    assert!(outcome.written, "{:#?}", outcome.report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_repo_or_revision_leaves_the_registry_untouched() {
    let hub = hub();
    let path = synced_registry(&hub, &pseudo_random(1000, 11)).await;
    let before = fs::read(&path).unwrap();

    // A second model in a repository that does not exist.
    let mut reg = read_json(&path);
    reg["models"].as_array_mut().unwrap().push(with(
        model("tiny", "1b", "q4_0"),
        json!({"repo": "ruv/missing"}),
    ));
    let missing_repo = hub.write_registry("missing-repo.json", &reg);
    let bytes = fs::read(&missing_repo).unwrap();
    let err = hub.sync(&missing_repo, SYNC, T1).await.unwrap_err();
    assert!(err.to_string().contains("ruv/missing"), "{err}");
    assert_eq!(fs::read(&missing_repo).unwrap(), bytes);

    // A pin to a revision that does not exist.
    let mut reg = read_json(&path);
    reg["models"][0]["revision"] = json!("v9.9");
    let missing_rev = hub.write_registry("missing-rev.json", &reg);
    let bytes = fs::read(&missing_rev).unwrap();
    let err = hub.sync(&missing_rev, SYNC, T1).await.unwrap_err();
    assert!(err.to_string().contains("v9.9"), "{err}");
    assert_eq!(fs::read(&missing_rev).unwrap(), bytes);

    // An unreadable registry is an error too.
    fs::write(&missing_rev, b"{ not json").unwrap();
    let err = hub.sync(&missing_rev, SYNC, T1).await.unwrap_err();
    assert!(matches!(err, SyncError::Registry(_)), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_models_in_ten_repos_cost_a_handful_of_requests_per_repo() {
    let hub = hub();
    let mut models = Vec::new();
    let mut expected = Vec::new();
    for r in 0..10 {
        let repo = format!("ruv/repo-{r}");
        hub.create_repo(&repo).await;
        let mut files = Vec::new();
        for m in 0..10 {
            let variant = format!("r{r}-m{m}");
            let mut entry = model(&variant, "1b", "q4_k_m");
            if r > 0 {
                entry["repo"] = json!(repo);
            }
            let bytes = pseudo_random(100 + r * 10 + m, (r * 10 + m) as u64);
            expected.push((entry["id"].as_str().unwrap().to_owned(), sha256_hex(&bytes)));
            files.push((entry["file"].as_str().unwrap().to_owned(), bytes));
            models.push(entry);
        }
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_slice()))
            .collect();
        hub.publish(&repo, &refs).await;
    }
    let path = hub.write_registry("registry.json", &registry_json("ruv/repo-0", models));

    let before = hub.server.stats().api_requests;
    let outcome = hub.sync(&path, SYNC, T0).await.unwrap();
    let requests = hub.server.stats().api_requests - before;
    assert!(
        outcome.written && outcome.in_sync(),
        "{:#?}",
        outcome.report
    );
    assert!(
        requests <= 5 * 10,
        "{requests} requests for 10 repositories"
    );
    // Exactly: refs, repository info and one tree page per repository.
    assert_eq!(requests, 30);
    let after = read_json(&path);
    let models = after["models"].as_array().unwrap();
    assert_eq!(models.len(), 100);
    for (model, (id, sha)) in models.iter().zip(&expected) {
        assert_eq!((&model["id"], &model["sha256"]), (&json!(id), &json!(sha)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_a_long_tree_is_read() {
    let hub = hub_with(|config| config.tree_page_size = 10);
    hub.create_repo("ruv/ruvltra").await;
    let mut models = Vec::new();
    let mut files = Vec::new();
    for n in 0..25 {
        let entry = model(&format!("m{n}"), "1b", "q8_0");
        files.push((
            entry["file"].as_str().unwrap().to_owned(),
            pseudo_random(50 + n, n as u64),
        ));
        models.push(entry);
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    hub.publish("ruv/ruvltra", &refs).await;
    let path = hub.write_registry("registry.json", &registry_json("ruv/ruvltra", models));

    let before = hub.server.stats().api_requests;
    let outcome = hub.sync(&path, SYNC, T0).await.unwrap();
    let requests = hub.server.stats().api_requests - before;
    assert!(
        outcome.written && outcome.in_sync(),
        "{:#?}",
        outcome.report
    );
    // 25 files and .gitattributes in pages of 10: refs, repository info, 3 tree pages.
    assert_eq!(requests, 5);
    let after = read_json(&path);
    for (model, (_, bytes)) in after["models"].as_array().unwrap().iter().zip(&files) {
        assert_eq!(model["sha256"], sha256_hex(bytes));
        assert_eq!(model["bytes"], bytes.len());
    }
}

/// Formats an error with its whole source chain, the way the CLI prints it.
fn anyhow_like(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
