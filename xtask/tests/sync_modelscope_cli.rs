//! `cargo xtask sync --from modelscope|all` as CI runs it against the local server's ModelScope
//! mode: exit codes 0, 1 and 2 with `--check`, the endpoint from `--modelscope-endpoint` or
//! `MODELSCOPE_ENDPOINT`, drift, a mirror repository not published yet, and both sites read
//! before one save.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use hub_client::{RepoId, Token};
use hub_server::{Action, Fault, Match};
use modelscope_client::{LocalFile, ModelId, ModelScopeClient, Visibility, resolve_endpoint_with};
use ruvltra_gguf::writer::SampleModel;
use test_support::{CliRun, Filters, LocalHub, TOKEN, cli_snapshot, scratch_dir};

const SMALL: &str = "ruvltra-small-0.5b-q4_k_m.gguf";
const MS_REPO: &str = "ruvnet/ruvltra-ms";

/// The snapshot filters: the scratch folder, the defaults, and commit ids.
fn filters(dir: &Path) -> Filters {
    support::filters(dir).regex(r"\b[0-9a-f]{40}\b", "[COMMIT]")
}

/// A sample GGUF whose bytes depend on `seed`.
fn gguf(dir: &Path, seed: u32) -> PathBuf {
    let path = dir.join(format!("sample-{seed}.gguf"));
    let mut sample = SampleModel::new("qwen2", 15, 300_000);
    sample.name = format!("RuvLTRA Sample {seed}");
    sample.build().unwrap().write_file(&path).unwrap();
    path
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Publishes `local` as [`SMALL`] to `repo` on ModelScope's `master`; returns the commit.
fn publish_ms(hub: &LocalHub, repo: &str, local: &Path) -> String {
    let ms = ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&hub.url()), |_| None).unwrap())
        .token(Token::new(TOKEN))
        .build()
        .unwrap();
    let id = ModelId::new(repo).unwrap();
    runtime().block_on(async {
        ms.create_model(&id, Visibility::Public, "apache-2.0")
            .await
            .unwrap();
        let files = [LocalFile {
            path_in_repo: SMALL.to_owned(),
            local: local.to_owned(),
        }];
        ms.upload_files(&id, "master", &files, "publish")
            .await
            .unwrap()
            .commit
    })
}

/// Publishes `local` as [`SMALL`] to `repo` on the Hub's `main`; returns the commit.
fn publish_hub(hub: &LocalHub, repo: &str, local: &Path) -> String {
    let client = hub.client();
    let bytes = fs::read(local).unwrap();
    runtime().block_on(async {
        client
            .create_repo(&RepoId::new(repo).unwrap(), false)
            .await
            .unwrap();
        hub.commit_files(&client, repo, "publish", &[(SMALL, &bytes, true)])
            .await
    })
}

fn registry(modelscope_repo: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "schema_version": 1,
        "repo": "ruv/ruvltra",
        "revision": "main",
        "catalog": {"title": "RuvLTRA", "modelscope_repo": modelscope_repo},
        "models": [{
            "id": "ruvltra-small-0.5b-q4_k_m", "file": SMALL, "quant": "q4_k_m",
            "size": "0.5b", "variant": "small", "description": "Hand-written."
        }]
    }))
    .unwrap()
}

/// `xtask sync ARGS` in `dir`, with no token or endpoint from the environment but `env`.
fn sync(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = support::xtask(dir);
    command.arg("sync").args(args).envs(env.iter().copied());
    command
}

#[test]
fn from_modelscope_check_exit_codes() {
    let dir = scratch_dir!("xtask-sync-modelscope/codes");
    let hub = LocalHub::start();
    let url = hub.url();
    let first = gguf(&dir, 1);
    publish_ms(&hub, MS_REPO, &first);
    let path = dir.join("registry.json");
    let text = registry(MS_REPO);
    fs::write(&path, &text).unwrap();
    let ms = [
        "--from",
        "modelscope",
        "--modelscope-endpoint",
        url.as_str(),
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        ms.iter().copied().chain(extra.iter().copied()).collect()
    };

    // Before the first sync the check fails, names the file and ModelScope, changes nothing.
    cli_snapshot!(filters(&dir), &mut sync(&dir, &with(&["--check"]), &[]), @r"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    change  modelscope:ruvnet/ruvltra-ms@master ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): sha256 set to d88ee47c5d12e8ee0b6bac105fe62e3261672d8e3094dedebfaa017b1a5816ec
    change  modelscope:ruvnet/ruvltra-ms@master ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): bytes set to 1121376
    change  modelscope:ruvnet/ruvltra-ms@master (model ruvltra-small-0.5b-q4_k_m): modelscope commit set to [COMMIT]
    registry.json does not match ModelScope: 3 differences; run `cargo xtask sync --from modelscope` and commit the result
    ");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);

    // The sync fills the facts and the modelscope state (exit 0); the check then passes, with
    // the endpoint from MODELSCOPE_ENDPOINT too.
    cli_snapshot!(filters(&dir), &mut sync(&dir, &ms, &[]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    change  modelscope:ruvnet/ruvltra-ms@master ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): sha256 set to d88ee47c5d12e8ee0b6bac105fe62e3261672d8e3094dedebfaa017b1a5816ec
    change  modelscope:ruvnet/ruvltra-ms@master ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): bytes set to 1121376
    change  modelscope:ruvnet/ruvltra-ms@master (model ruvltra-small-0.5b-q4_k_m): modelscope commit set to [COMMIT]
    updated registry.json: 3 changes
    ----- stderr -----
    ");
    let synced = fs::read_to_string(&path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&synced).unwrap();
    let model = &value["models"][0];
    assert_eq!(model["bytes"], fs::metadata(&first).unwrap().len());
    assert!(model["modelscope"]["commit"].is_string(), "{synced}");
    assert!(model.get("hub").is_none(), "{synced}");
    assert_eq!(model["description"], "Hand-written.");
    cli_snapshot!(
        filters(&dir),
        &mut sync(
            &dir,
            &["--from", "modelscope", "--check"],
            &[("MODELSCOPE_ENDPOINT", url.as_str())],
        ),
        @r"
        success: true
        exit_code: 0
        ----- stdout -----
        registry.json matches ModelScope
        ----- stderr -----
        "
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), synced);

    // The file is replaced on ModelScope: the check fails with DRIFT, in text and JSON.
    publish_ms(&hub, MS_REPO, &gguf(&dir, 2));
    cli_snapshot!(filters(&dir), &mut sync(&dir, &with(&["--check"]), &[]), @r"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    DRIFT   modelscope:ruvnet/ruvltra-ms@master ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): ModelScope's sha256 f225e42fa405db4985865ef8ae8543e3566c06f449a073367c61b6155a8b8083 (1121376 bytes) differs from the registry's d88ee47c5d12e8ee0b6bac105fe62e3261672d8e3094dedebfaa017b1a5816ec (1121376 bytes); the file was replaced on ModelScope or the registry is wrong; the registry keeps its value: check the file, then run `cargo xtask sync --from modelscope --accept` to take ModelScope's value or re-publish the registry's file (`cargo xtask publish --to modelscope`)
    DRIFT: 1 file on ModelScope differ from the sha256 in registry.json; the registry kept its values. Check the files, then run `cargo xtask sync --from modelscope --accept` to take ModelScope's
    registry.json does not match ModelScope: 1 difference; run `cargo xtask sync --from modelscope` and commit the result
    ");
    let run = CliRun::of(&mut sync(&dir, &with(&["--check", "--json"]), &[]));
    assert_eq!(run.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            &report["from"],
            &report["exit_code"],
            &report["summary"]["drift"]
        ),
        (&"modelscope".into(), &1.into(), &1.into())
    );
    let drift = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "drift")
        .unwrap();
    assert_eq!(drift["source"], "modelscope");
    assert_eq!(fs::read_to_string(&path).unwrap(), synced);
    // --accept takes it; the check passes again.
    cli_snapshot!(filters(&dir), &mut sync(&dir, &with(&["--accept"]), &[]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    change  modelscope:ruvnet/ruvltra-ms@master (model ruvltra-small-0.5b-q4_k_m): modelscope commit [COMMIT] -> [COMMIT]
    updated registry.json: 2 changes
    ----- stderr -----
    DRIFT   modelscope:ruvnet/ruvltra-ms@master ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): ModelScope's sha256 f225e42fa405db4985865ef8ae8543e3566c06f449a073367c61b6155a8b8083 (1121376 bytes) differs from the registry's d88ee47c5d12e8ee0b6bac105fe62e3261672d8e3094dedebfaa017b1a5816ec (1121376 bytes); the file was replaced on ModelScope or the registry is wrong; ModelScope's value was accepted (--accept)
    ");
    cli_snapshot!(filters(&dir), &mut sync(&dir, &with(&["--check"]), &[]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    registry.json matches ModelScope
    ----- stderr -----
    ");

    // A server error: exit 2, the registry untouched.
    let before = fs::read(&path).unwrap();
    hub.server.faults().add(Fault::new(
        Match::any().path_contains("/repo/files"),
        100,
        Action::Status(404),
    ));
    cli_snapshot!(filters(&dir), &mut sync(&dir, &with(&["--check"]), &[]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot read ruvnet/ruvltra-ms at revision master from ModelScope; check MODELSCOPE_ENDPOINT (or MODELSCOPE_DOMAIN) and run sync again: GET http://127.0.0.1:[PORT]/api/v1/models/ruvnet/ruvltra-ms/repo/files?Revision=master&Recursive=True found nothing (HTTP 404: {"error":"injected fault: status 404"}): check the model id, revision and path
    registry.json was left untouched
    "#);
    cli_snapshot!(filters(&dir), &mut sync(&dir, &ms, &[]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot read ruvnet/ruvltra-ms at revision master from ModelScope; check MODELSCOPE_ENDPOINT (or MODELSCOPE_DOMAIN) and run sync again: GET http://127.0.0.1:[PORT]/api/v1/models/ruvnet/ruvltra-ms/repo/files?Revision=master&Recursive=True found nothing (HTTP 404: {"error":"injected fault: status 404"}): check the model id, revision and path
    registry.json was left untouched
    "#);
    assert_eq!(fs::read(&path).unwrap(), before);
    hub.server.faults().clear();

    // A mirror repository nobody published to: exit 1, saying how to publish it.
    fs::write(&path, registry("ruvnet/not-published")).unwrap();
    cli_snapshot!(filters(&dir), &mut sync(&dir, &with(&["--check"]), &[]), @r"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    MISSING modelscope:ruvnet/not-published@master (model ruvltra-small-0.5b-q4_k_m): the published model's repository does not exist on ModelScope (or is private and the token may not read it); publish it first with `cargo xtask publish --to modelscope`, then run `cargo xtask sync --from modelscope`
    registry.json does not match ModelScope: 1 difference; run `cargo xtask sync --from modelscope` and commit the result
    ");
}

#[test]
fn from_all_reads_both_sites_before_one_save() {
    let dir = scratch_dir!("xtask-sync-modelscope/all");
    let hub = LocalHub::start();
    let url = hub.url();
    let file = gguf(&dir, 1);
    let hub_commit = publish_hub(&hub, "ruv/ruvltra", &file);
    let path = dir.join("registry.json");
    let text = registry(MS_REPO);
    fs::write(&path, &text).unwrap();
    let all = [
        "--from",
        "all",
        "--endpoint",
        url.as_str(),
        "--modelscope-endpoint",
        url.as_str(),
    ];

    // The mirror is not published yet: the Hub's facts are written, and the run fails (1)
    // naming the ModelScope repository.
    cli_snapshot!(filters(&dir), &mut sync(&dir, &all, &[]), @r"
    success: false
    exit_code: 1
    ----- stdout -----
    change  ruv/ruvltra@main ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): sha256 set to d88ee47c5d12e8ee0b6bac105fe62e3261672d8e3094dedebfaa017b1a5816ec
    change  ruv/ruvltra@main ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): bytes set to 1121376
    change  ruv/ruvltra@main (model ruvltra-small-0.5b-q4_k_m): hub commit set to [COMMIT]
    updated registry.json: 3 changes
    ----- stderr -----
    MISSING modelscope:ruvnet/ruvltra-ms@master (model ruvltra-small-0.5b-q4_k_m): the published model's repository does not exist on ModelScope (or is private and the token may not read it); publish it first with `cargo xtask publish --to modelscope`, then run `cargo xtask sync --from modelscope`
    registry.json still differs from the Hub and ModelScope in 1 place (listed above)
    ");
    let value: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(value["models"][0]["hub"]["commit"], hub_commit.as_str());
    assert!(value["models"][0].get("modelscope").is_none());

    // Once published there, both states are filled and the check of both passes.
    let ms_commit = publish_ms(&hub, MS_REPO, &file);
    cli_snapshot!(filters(&dir), &mut sync(&dir, &all, &[]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    change  modelscope:ruvnet/ruvltra-ms@master (model ruvltra-small-0.5b-q4_k_m): modelscope commit set to [COMMIT]
    updated registry.json: 1 change
    ----- stderr -----
    ");
    let value: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(value["models"][0]["hub"]["commit"], hub_commit.as_str());
    assert_eq!(
        value["models"][0]["modelscope"]["commit"],
        ms_commit.as_str()
    );
    let checked: Vec<&str> = all.iter().copied().chain(["--check"]).collect();
    cli_snapshot!(filters(&dir), &mut sync(&dir, &checked, &[]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    registry.json matches the Hub and ModelScope
    ----- stderr -----
    ");

    // ModelScope failing after the Hub was read (a 400, which is not retried; a 404 would
    // mean "not published yet"): exit 2 and nothing written, though the Hub changed.
    let before = fs::read(&path).unwrap();
    publish_hub_again(&hub, &dir);
    hub.server.faults().add(Fault::new(
        Match::any().path_contains("/api/v1/models/"),
        100,
        Action::Status(400),
    ));
    cli_snapshot!(filters(&dir), &mut sync(&dir, &all, &[]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot read ruvnet/ruvltra-ms from ModelScope; check MODELSCOPE_ENDPOINT (or MODELSCOPE_DOMAIN) and run sync again: GET http://127.0.0.1:[PORT]/api/v1/models/ruvnet/ruvltra-ms/revisions failed with HTTP 400: {"error":"injected fault: status 400"}; retry later or check the request
    registry.json was left untouched
    "#);
    assert_eq!(fs::read(&path).unwrap(), before);
    hub.server.faults().clear();
    // Without the fault the same run writes the Hub's new model (and exits 1: the mirror
    // does not have it).
    cli_snapshot!(filters(&dir), &mut sync(&dir, &all, &[]), @r"
    success: false
    exit_code: 1
    ----- stdout -----
    change  ruv/ruvltra@main (model ruvltra-small-0.5b-q4_k_m): hub commit [COMMIT] -> [COMMIT]
    change  ruv/ruvltra@main ruvltra-extra-1b-q4_0.gguf (model ruvltra-extra-1b-q4_0): added from the Hub (1 file) with needs_review: review its fields
    updated registry.json: 2 changes
    ----- stderr -----
    MISSING modelscope:ruvnet/ruvltra-ms@master ruvltra-extra-1b-q4_0.gguf (model ruvltra-extra-1b-q4_0): the published model's file is not on ModelScope; publish it (`cargo xtask publish --to modelscope`), fix `file`, or set `status` to `planned` (the model was not deleted)
    registry.json still differs from the Hub and ModelScope in 1 place (listed above)
    ");
    assert!(
        fs::read_to_string(&path)
            .unwrap()
            .contains("ruvltra-extra-1b-q4_0.gguf")
    );
}

/// Adds a convention-named GGUF on the Hub, so that a sync of the Hub would write something.
fn publish_hub_again(hub: &LocalHub, dir: &Path) {
    let client = hub.client();
    let bytes = fs::read(gguf(dir, 3)).unwrap();
    runtime().block_on(hub.commit_files(
        &client,
        "ruv/ruvltra",
        "tag-less change",
        &[("ruvltra-extra-1b-q4_0.gguf", &bytes, true)],
    ));
}
