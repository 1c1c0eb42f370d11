//! Sync from the ModelScope mirror (`--from modelscope`, `--from all`) against the local
//! server's ModelScope mode: sample GGUFs published with `modelscope-client` (and one with the
//! official `modelscope` SDK), then synced into `model.modelscope`; drift, missing files,
//! repositories not published yet, server errors, and the request budget.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Hub, hub, model};
use hub_client::Token;
use hub_server::{Action, Fault, Match};
use modelscope_client::{LocalFile, ModelId, ModelScopeClient, Visibility, resolve_endpoint_with};
use ruvltra_gguf::writer::SampleModel;
use ruvltra_sync::{AnySource, Finding, FindingKind, Mode, Origin, Outcome, Severity, SyncError};
use serde_json::{Value, json};
use test_support::{TOKEN, fast_retries, sha256_file_hex, sha256_hex};

const T0: &str = "2026-01-01T00:00:00Z";
const T1: &str = "2026-01-02T00:00:00Z";
const T2: &str = "2026-01-03T00:00:00Z";
const SYNC: Mode = Mode::Sync { accept: false };
const ACCEPT: Mode = Mode::Sync { accept: true };
const MS_REPO: &str = "ruvnet/ruvltra-ms";
const SMALL: &str = "ruvltra-small-0.5b-q4_k_m.gguf";
const MEDIUM: &str = "ruvltra-medium-1.1b-q4_k_m.gguf";

/// The local server (both modes) with a Hub client and a ModelScope client.
struct Mirror {
    hub: Hub,
    ms: ModelScopeClient,
}

fn mirror() -> Mirror {
    let hub = hub();
    let ms = ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&hub.server.url()), |_| None).unwrap())
        .token(Token::new(TOKEN))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    Mirror { hub, ms }
}

impl Mirror {
    /// Writes a sample GGUF (a real header and tensors) of about `params` parameters; the
    /// seed goes into its name, so that two seeds never give the same bytes.
    fn gguf(&self, name: &str, params: u64, seed: u32) -> PathBuf {
        let path = self.hub.files().join(format!("{seed}-{name}"));
        let mut sample = SampleModel::new("qwen2", 15, params);
        sample.name = format!("RuvLTRA Sample {seed}");
        sample.build().unwrap().write_file(&path).unwrap();
        path
    }

    /// Publishes `files` (path in repo, local file) to `repo` on `master` in one commit,
    /// creating the model first when needed; returns the commit.
    async fn publish(&self, repo: &str, files: &[(&str, &Path)]) -> String {
        let id = ModelId::new(repo).unwrap();
        self.ms
            .create_model(&id, Visibility::Public, "apache-2.0")
            .await
            .unwrap();
        let files: Vec<LocalFile> = files
            .iter()
            .map(|(path, local)| LocalFile {
                path_in_repo: (*path).to_owned(),
                local: local.to_path_buf(),
            })
            .collect();
        self.ms
            .upload_files(&id, "master", &files, "publish from the test")
            .await
            .unwrap()
            .commit
    }

    async fn sync(&self, path: &Path, mode: Mode, now: &str) -> Result<Outcome, SyncError> {
        ruvltra_sync::sync_registry_file(path, &self.ms, mode, 4, now.to_owned()).await
    }
}

/// A registry in `ruv/ruvltra` at `main`, mirrored to [`MS_REPO`].
fn registry_json(models: Vec<Value>) -> Value {
    json!({
        "$schema": "./registry.schema.json",
        "schema_version": 1,
        "repo": "ruv/ruvltra",
        "revision": "main",
        "catalog": {"title": "RuvLTRA test", "modelscope_repo": MS_REPO, "x-catalog": 1},
        "models": models,
        "x-top": ["kept"],
    })
}

fn with(mut model: Value, extra: Value) -> Value {
    for (key, value) in extra.as_object().unwrap() {
        model[key] = value.clone();
    }
    model
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn findings<'a>(outcome: &'a Outcome, model: &str) -> Vec<&'a Finding> {
    outcome
        .report
        .findings
        .iter()
        .filter(|f| f.model.as_deref() == Some(model))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_fills_facts_and_modelscope_state_then_a_second_sync_is_byte_identical() {
    let m = mirror();
    let small = m.gguf(SMALL, 400_000, 1);
    let medium = m.gguf(MEDIUM, 700_000, 2);
    let tiny = m.gguf("tiny", 10_000, 3);
    let readme = m.hub.files().join("README.md");
    fs::write(&readme, "# card\n").unwrap();
    let commit = m
        .publish(
            MS_REPO,
            &[
                (SMALL, &small),
                (MEDIUM, &medium),
                // Convention-named, but in no registry model: reported, never added.
                ("ruvltra-tiny-1b-q4_0.gguf", &tiny),
                ("README.md", &readme),
            ],
        )
        .await;
    let id = ModelId::new(MS_REPO).unwrap();
    assert!(m.ms.create_tag(&id, "v1.0", "master").await.unwrap());

    let path = m.hub.write_registry(
        "registry.json",
        &registry_json(vec![
            with(
                model("small", "0.5b", "q4_k_m"),
                json!({"description": "Hand-written.", "x-model": [1]}),
            ),
            model("medium", "1.1b", "q4_k_m"),
            with(model("small", "0.5b", "q8_0"), json!({"status": "planned"})),
        ]),
    );

    let outcome = m.sync(&path, SYNC, T0).await.unwrap();
    assert!(outcome.in_sync(), "{:#?}", outcome.report);
    assert!(outcome.written);
    let after = read_json(&path);
    for (n, local) in [(0, &small), (1, &medium)] {
        let entry = &after["models"][n];
        assert_eq!(entry["bytes"], fs::metadata(local).unwrap().len());
        assert_eq!(entry["sha256"], sha256_file_hex(local));
        assert_eq!(
            entry["modelscope"],
            json!({"commit": commit, "synced_at": T0, "tags": ["v1.0"]})
        );
        // The Hub state belongs to the Hub sync.
        assert!(entry.get("hub").is_none(), "{entry}");
    }
    assert_eq!(after["models"][0]["description"], "Hand-written.");
    assert_eq!(after["models"][0]["x-model"], json!([1]));
    assert_eq!(after["catalog"]["x-catalog"], 1);
    assert_eq!(
        after["models"].as_array().unwrap().len(),
        3,
        "nothing added"
    );
    assert!(after["models"][2].get("modelscope").is_none());

    // Every finding is about ModelScope's master branch of the mirror repository.
    assert!(
        outcome
            .report
            .findings
            .iter()
            .all(|f| f.source == Origin::ModelScope && f.repo == MS_REPO && f.revision == "master"),
        "{:#?}",
        outcome.report
    );
    let planned = findings(&outcome, "ruvltra-small-0.5b-q8_0");
    assert_eq!(planned.len(), 1);
    assert_eq!(
        (&planned[0].kind, planned[0].severity),
        (&FindingKind::PlannedAbsent, Severity::Info)
    );
    assert!(planned[0].to_string().contains("not on ModelScope yet"));
    let only = findings(&outcome, "ruvltra-tiny-1b-q4_0");
    assert_eq!(only.len(), 1, "{:#?}", outcome.report);
    assert_eq!(only[0].kind, FindingKind::OnlyOnModelScope);
    assert_eq!(only[0].severity, Severity::Notice);
    assert!(!only[0].difference && !only[0].remaining);
    let state = findings(&outcome, "ruvltra-small-0.5b-q4_k_m")
        .into_iter()
        .find(|f| matches!(f.kind, FindingKind::HubStateUpdated { .. }))
        .unwrap()
        .to_string();
    assert!(
        state.contains(&format!("modelscope:{MS_REPO}@master"))
            && state.contains(&format!("modelscope commit set to {commit}")),
        "{state}"
    );

    // A check now passes; a second sync changes nothing, not even synced_at, and reads
    // ModelScope in three requests (revisions, listing, revisions again).
    let synced = fs::read(&path).unwrap();
    let check = m.sync(&path, Mode::Check, T1).await.unwrap();
    assert!(check.in_sync(), "{:#?}", check.report);
    let before = m.hub.server.stats().api_requests;
    let again = m.sync(&path, SYNC, T2).await.unwrap();
    assert_eq!(m.hub.server.stats().api_requests - before, 3);
    assert!(again.in_sync() && !again.written);
    assert!(!again.report.changes_registry());
    assert_eq!(fs::read(&path).unwrap(), synced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_replaced_on_modelscope_is_drift_until_accepted() {
    let m = mirror();
    let first = m.gguf(SMALL, 300_000, 1);
    m.publish(MS_REPO, &[(SMALL, &first)]).await;
    let path = m.hub.write_registry(
        "registry.json",
        &registry_json(vec![model("small", "0.5b", "q4_k_m")]),
    );
    m.sync(&path, SYNC, T0).await.unwrap();
    let synced = fs::read(&path).unwrap();
    let old_commit = read_json(&path)["models"][0]["modelscope"]["commit"].clone();

    let second = m.gguf(SMALL, 350_000, 2);
    let new_commit = m.publish(MS_REPO, &[(SMALL, &second)]).await;
    assert_ne!(sha256_file_hex(&first), sha256_file_hex(&second));

    // --check fails on it and lists it.
    let check = m.sync(&path, Mode::Check, T1).await.unwrap();
    assert!(!check.in_sync());
    let drift: Vec<_> = check.report.drift().collect();
    assert_eq!(drift.len(), 1, "{:#?}", check.report);
    assert_eq!(drift[0].source, Origin::ModelScope);
    assert_eq!(drift[0].severity, Severity::Drift);
    let line = drift[0].to_string();
    assert!(
        line.contains(&sha256_file_hex(&first))
            && line.contains(&sha256_file_hex(&second))
            && line.contains("ModelScope's sha256")
            && line.contains("cargo xtask sync --from modelscope --accept"),
        "{line}"
    );
    assert_eq!(fs::read(&path).unwrap(), synced);

    // A plain sync keeps the registry's values (and the old state) and fails.
    let held = m.sync(&path, SYNC, T1).await.unwrap();
    assert!(!held.in_sync() && !held.written);
    assert_eq!(fs::read(&path).unwrap(), synced);

    // --accept takes ModelScope's file and state.
    let taken = m.sync(&path, ACCEPT, T2).await.unwrap();
    assert!(taken.in_sync() && taken.written, "{:#?}", taken.report);
    let after = read_json(&path);
    let entry = &after["models"][0];
    assert_eq!(entry["sha256"], sha256_file_hex(&second));
    assert_eq!(entry["bytes"], fs::metadata(&second).unwrap().len());
    assert_eq!(entry["modelscope"]["commit"], new_commit.as_str());
    assert_ne!(entry["modelscope"]["commit"], old_commit);
    assert_eq!(entry["modelscope"]["synced_at"], T2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_files_repositories_and_revisions_are_reported_with_what_to_do() {
    let m = mirror();
    let small = m.gguf(SMALL, 300_000, 1);
    m.publish(MS_REPO, &[(SMALL, &small)]).await;
    let path = m.hub.write_registry(
        "registry.json",
        &registry_json(vec![
            model("small", "0.5b", "q4_k_m"),
            // Published, but its file is not on the mirror.
            model("medium", "1.1b", "q4_k_m"),
            with(model("small", "0.5b", "q8_0"), json!({"status": "planned"})),
            // A mirror repository nobody published to yet.
            with(
                model("large", "7b", "q4_k_m"),
                json!({"modelscope_repo": "ruvnet/not-yet"}),
            ),
            with(
                model("large", "7b", "q8_0"),
                json!({"modelscope_repo": "ruvnet/not-yet", "status": "planned"}),
            ),
            // A Hub tag the mirror does not have.
            with(model("tiny", "1b", "q4_0"), json!({"revision": "v2"})),
        ]),
    );
    let before = fs::read(&path).unwrap();

    let check = m.sync(&path, Mode::Check, T0).await.unwrap();
    assert!(!check.in_sync());
    assert_eq!(fs::read(&path).unwrap(), before);

    let outcome = m.sync(&path, SYNC, T0).await.unwrap();
    assert!(!outcome.in_sync());
    // The file facts that could be synced are written anyway.
    assert!(outcome.written);
    let after = read_json(&path);
    assert_eq!(after["models"][0]["sha256"], sha256_file_hex(&small));
    for n in 1..6 {
        assert!(after["models"][n].get("modelscope").is_none());
        assert!(after["models"][n].get("sha256").is_none());
    }
    ruvltra_registry::validate(&ruvltra_registry::load(&path).unwrap()).unwrap();

    let one = |id: &str| -> Finding {
        let found = findings(&outcome, id);
        assert_eq!(found.len(), 1, "{id}: {found:#?}");
        found[0].clone()
    };
    let medium = one("ruvltra-medium-1.1b-q4_k_m");
    assert_eq!(
        (&medium.kind, medium.severity, medium.remaining),
        (
            &FindingKind::MissingOnHub {
                status: "published".into()
            },
            Severity::Error,
            true
        )
    );
    let line = medium.to_string();
    assert!(
        line.contains("is not on ModelScope")
            && line.contains("cargo xtask publish --to modelscope"),
        "{line}"
    );
    assert_eq!(
        one("ruvltra-small-0.5b-q8_0").kind,
        FindingKind::PlannedAbsent
    );

    let large = one("ruvltra-large-7b-q4_k_m");
    assert_eq!(large.repo, "ruvnet/not-yet");
    assert_eq!(
        (
            &large.kind,
            large.severity,
            large.difference,
            large.remaining
        ),
        (
            &FindingKind::RepoNotFound {
                status: "published".into()
            },
            Severity::Error,
            true,
            true
        )
    );
    let line = large.to_string();
    assert!(
        line.contains("does not exist on ModelScope")
            && line.contains("publish it first with `cargo xtask publish --to modelscope`"),
        "{line}"
    );
    let planned = one("ruvltra-large-7b-q8_0");
    assert_eq!(
        (planned.severity, planned.difference),
        (Severity::Info, false)
    );

    let tiny = one("ruvltra-tiny-1b-q4_0");
    assert_eq!(
        (tiny.repo.as_str(), tiny.revision.as_str()),
        (MS_REPO, "v2")
    );
    assert_eq!(
        (&tiny.kind, tiny.severity),
        (
            &FindingKind::RevisionNotFound {
                status: "published".into()
            },
            Severity::Error
        )
    );
    assert!(tiny.to_string().contains("--tag"), "{tiny}");
    assert_eq!(outcome.report.remaining().count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_leaves_the_registry_byte_identical() {
    let m = mirror();
    let small = m.gguf(SMALL, 300_000, 1);
    m.publish(MS_REPO, &[(SMALL, &small)]).await;
    let path = m.hub.write_registry(
        "registry.json",
        &registry_json(vec![model("small", "0.5b", "q4_k_m")]),
    );
    let before = fs::read(&path).unwrap();
    for needle in ["/revisions", "/repo/files"] {
        // More 500s than the client retries.
        m.hub.server.faults().add(Fault::new(
            Match::any().method("GET").path_contains(needle),
            10,
            Action::Status(500),
        ));
        let err = m.sync(&path, SYNC, T0).await.unwrap_err();
        assert!(
            matches!(err, SyncError::ModelScope { .. }),
            "{needle}: {err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("from ModelScope") && text.contains(MS_REPO),
            "{text}"
        );
        assert!(!format!("{err:?}").contains(TOKEN));
        assert_eq!(fs::read(&path).unwrap(), before, "{needle}");
        m.hub.server.faults().clear();
    }
    // Without faults the same sync works.
    assert!(m.sync(&path, SYNC, T0).await.unwrap().written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_all_reads_both_sites_and_saves_once() {
    let m = mirror();
    let small = m.gguf(SMALL, 300_000, 1);
    m.hub.create_repo("ruv/ruvltra").await;
    let bytes = fs::read(&small).unwrap();
    let hub_commit = m.hub.publish("ruv/ruvltra", &[(SMALL, &bytes)]).await;
    let ms_commit = m.publish(MS_REPO, &[(SMALL, &small)]).await;
    let path = m.hub.write_registry(
        "registry.json",
        &registry_json(vec![model("small", "0.5b", "q4_k_m")]),
    );
    let before = fs::read(&path).unwrap();
    let sources = [AnySource::Hub(&m.hub.client), AnySource::ModelScope(&m.ms)];
    let run = |mode: Mode, now: &'static str| {
        ruvltra_sync::sync_registry_file_from(&path, &sources, mode, 4, now.to_owned())
    };

    // ModelScope failing after the Hub was read: nothing is written, not even the Hub's facts.
    m.hub.server.faults().add(Fault::new(
        Match::any().method("GET").path_contains("/api/v1/models/"),
        10,
        Action::Status(500),
    ));
    let err = run(SYNC, T0).await.unwrap_err();
    assert!(matches!(err, SyncError::ModelScope { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);
    m.hub.server.faults().clear();

    let outcome = run(SYNC, T0).await.unwrap();
    assert!(
        outcome.in_sync() && outcome.written,
        "{:#?}",
        outcome.report
    );
    let entry = &read_json(&path)["models"][0];
    assert_eq!(entry["sha256"], sha256_hex(&bytes));
    assert_eq!(entry["hub"]["commit"], hub_commit.as_str());
    assert_eq!(entry["modelscope"]["commit"], ms_commit.as_str());
    assert_ne!(hub_commit, ms_commit);
    let sources: Vec<Origin> = outcome.report.findings.iter().map(|f| f.source).collect();
    assert!(sources.contains(&Origin::Hub) && sources.contains(&Origin::ModelScope));
    // Hub findings first, then ModelScope's.
    assert!(sources.is_sorted(), "{sources:?}");

    let synced = fs::read(&path).unwrap();
    let again = run(SYNC, T1).await.unwrap();
    assert!(again.in_sync() && !again.written);
    assert_eq!(fs::read(&path).unwrap(), synced);
    assert!(run(Mode::Check, T1).await.unwrap().in_sync());
}

/// The workspace's python with the official `modelscope` SDK; panics (never skips) when it
/// is missing.
fn python_with_modelscope() -> PathBuf {
    dev_python::Python::with_modules(&["modelscope"])
        .path()
        .to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_by_the_official_modelscope_sdk_is_synced_exactly() {
    let m = mirror();
    let small = m.gguf(SMALL, 300_000, 7);
    let config = m.hub.files().join("config.json");
    fs::write(&config, "{\"model_type\": \"qwen2\"}\n").unwrap();
    let home = m.hub.dir.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let out = Command::new(python_with_modelscope())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ms_upload.py"))
        .arg(MS_REPO)
        .arg(format!("{SMALL}={}", small.display()))
        .arg(format!("config.json={}", config.display()))
        .env_remove("MODELSCOPE_DOMAIN")
        .env("MODELSCOPE_ENDPOINT", m.hub.server.url())
        .env("MODELSCOPE_API_TOKEN", TOKEN)
        .env("MODELSCOPE_CACHE", m.hub.dir.path().join("ms-cache"))
        .env("MODELSCOPE_HOME", m.hub.dir.path().join("ms-home"))
        // The SDK keeps credentials under ~/.modelscope: a temporary home keeps the real one out.
        .env("HOME", &home)
        .env("MODELSCOPE_LOG_LEVEL", "40")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ms_upload.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The SDK's own listing gives the sha256 computed here.
    let expected = sha256_file_hex(&small);
    assert!(
        stdout.lines().any(|l| l == format!("{SMALL} {expected}")),
        "{stdout}"
    );

    let path = m.hub.write_registry(
        "registry.json",
        &registry_json(vec![model("small", "0.5b", "q4_k_m")]),
    );
    let outcome = m.sync(&path, SYNC, T0).await.unwrap();
    assert!(outcome.in_sync(), "{:#?}", outcome.report);
    let entry = &read_json(&path)["models"][0];
    assert_eq!(entry["sha256"], expected.as_str());
    assert_eq!(entry["bytes"], fs::metadata(&small).unwrap().len());
    let head =
        m.ms.revisions(&ModelId::new(MS_REPO).unwrap())
            .await
            .unwrap()
            .branches["master"]
            .clone();
    assert_eq!(entry["modelscope"]["commit"], head.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_repository_is_read_even_when_no_model_is_mirrored_there() {
    let m = mirror();
    // Every model of the registry is mirrored to its own ModelScope repository; the catalog's
    // (MS_REPO) holds a GGUF that the registry does not list.
    let own = m.gguf(SMALL, 20_000, 1);
    m.publish("ruvnet/small-only", &[(SMALL, own.as_path())])
        .await;
    let stray = m.gguf(MEDIUM, 20_000, 2);
    m.publish(MS_REPO, &[(MEDIUM, stray.as_path())]).await;
    let small = with(
        model("small", "0.5b", "q4_k_m"),
        json!({"status": "published", "modelscope_repo": "ruvnet/small-only"}),
    );
    let path = m.hub.dir.path().join("registry.json");
    fs::write(
        &path,
        serde_json::to_vec_pretty(&registry_json(vec![small])).unwrap(),
    )
    .unwrap();

    let targets =
        ruvltra_sync::targets_of(Origin::ModelScope, &ruvltra_registry::load(&path).unwrap());
    assert_eq!(
        targets.keys().map(String::as_str).collect::<Vec<_>>(),
        ["ruvnet/ruvltra-ms", "ruvnet/small-only"]
    );
    let outcome = m.sync(&path, Mode::Check, T0).await.unwrap();
    let stray_findings: Vec<&Finding> = outcome
        .report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::OnlyOnModelScope)
        .collect();
    assert_eq!(stray_findings.len(), 1, "{:#?}", outcome.report);
    assert_eq!(stray_findings[0].repo, MS_REPO);
    assert_eq!(stray_findings[0].file.as_deref(), Some(MEDIUM));
    assert_eq!(stray_findings[0].severity, Severity::Notice);
}
