//! `cargo xtask sync` as CI runs it: exit codes 0, 1 and 2, the text and JSON reports, and
//! an untouched registry on failure. Files reach the local Hub through the official Python
//! client, as another publisher's would.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use dev_python::{HubTransfer, Python};
use hub_server::{Action, Fault, Match};
use support::xtask;
use test_support::{CliRun, Filters, LocalHub, TOKEN, cli_snapshot, scratch_dir, workspace_file};

/// `xtask sync --endpoint ENDPOINT ARGS` in `dir`, without a token.
fn sync(dir: &Path, endpoint: &str, args: &[&str]) -> Command {
    let mut command = xtask(dir);
    command
        .arg("sync")
        .args(["--endpoint", endpoint])
        .args(args);
    command
}

/// Like [`sync`], with `HF_TOKEN` set and trace logging on: what it prints is not shown to
/// users as is, but must never hold the token.
fn sync_with_token(dir: &Path, endpoint: &str, args: &[&str]) -> CliRun {
    let mut command = sync(dir, endpoint, args);
    command.env("HF_TOKEN", TOKEN).env("RUST_LOG", "trace");
    let run = CliRun::of(&mut command);
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token was printed"
    );
    run
}

/// The snapshot filters of a run in `dir`: the folder as `[DIR]`, the defaults, and commit
/// ids (the Python client's commits carry the time) as `[COMMIT]`.
fn filters(dir: &Path) -> Filters {
    support::filters(dir).regex(r"\b[0-9a-f]{40}\b", "[COMMIT]")
}

/// Uploads `files` (path in repo, contents) with the official Python client in `mode`.
fn python_upload(
    hub: &LocalHub,
    mode: HubTransfer,
    dir: &Path,
    repo: &str,
    files: &[(&str, &[u8])],
) {
    let mut run = Python::find()
        .script(workspace_file("crates/ruvltra-sync/tests/python/upload.py"))
        .arg(repo);
    for (n, (path, bytes)) in files.iter().enumerate() {
        let local = dir.join(format!("upload-{n}"));
        fs::write(&local, bytes).unwrap();
        run = run.arg(format!("{path}={}", local.display()));
    }
    run.hub_transfer(mode, dir)
        .env("HF_ENDPOINT", hub.url())
        .env("HF_TOKEN", TOKEN)
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HOME", dir.join("hf-home"))
        .run();
}

const REGISTRY: &str = r#"{
  "schema_version": 1,
  "repo": "ruv/ruvltra",
  "revision": "main",
  "models": [
    {
      "id": "ruvltra-small-0.5b-q4_k_m",
      "file": "ruvltra-small-0.5b-q4_k_m.gguf",
      "quant": "q4_k_m",
      "size": "0.5b",
      "variant": "small",
      "description": "Hand-written.",
      "x-unknown": true
    }
  ]
}
"#;

#[test]
fn exit_codes_follow_the_registry_and_the_hub() {
    // The files come from both kinds of official client: through Xet and through LFS.
    // Both runs must print the same thing, which the one set of inline snapshots checks.
    for mode in HubTransfer::BOTH {
        insta::allow_duplicates! {
            exit_codes_follow_the_registry_and_the_hub_in(mode);
        }
    }
}

fn exit_codes_follow_the_registry_and_the_hub_in(mode: HubTransfer) {
    let dir = scratch_dir!(format!("xtask-sync/codes-{mode}"));
    let hub = LocalHub::start();
    let url = hub.url();
    python_upload(
        &hub,
        mode,
        &dir,
        "ruv/ruvltra",
        &[("ruvltra-small-0.5b-q4_k_m.gguf", b"first GGUF contents")],
    );
    let registry = dir.join("registry.json");
    fs::write(&registry, REGISTRY).unwrap();

    // Before the first sync the check fails, listing the differences, and changes nothing.
    cli_snapshot!(filters(&dir), &mut sync(&dir, &url, &["--check"]), @r"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    change  ruv/ruvltra@main ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): sha256 set to 5b4a458263424e8ef6e7221d575ec9ab71af43bbfc93ddc58fe63a0f0523260e
    change  ruv/ruvltra@main ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): bytes set to 19
    change  ruv/ruvltra@main (model ruvltra-small-0.5b-q4_k_m): hub commit set to [COMMIT]
    registry.json does not match the Hub: 3 differences; run `cargo xtask sync` and commit the result
    ");
    assert_eq!(fs::read_to_string(&registry).unwrap(), REGISTRY);

    // Sync fills the facts (exit 0); then the check passes and a re-sync is a no-op.
    cli_snapshot!(filters(&dir), &mut sync(&dir, &url, &[]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    change  ruv/ruvltra@main ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): sha256 set to 5b4a458263424e8ef6e7221d575ec9ab71af43bbfc93ddc58fe63a0f0523260e
    change  ruv/ruvltra@main ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): bytes set to 19
    change  ruv/ruvltra@main (model ruvltra-small-0.5b-q4_k_m): hub commit set to [COMMIT]
    updated registry.json: 3 changes
    ----- stderr -----
    ");
    let synced = fs::read_to_string(&registry).unwrap();
    assert!(synced.contains(r#""bytes": 19"#), "{synced}");
    assert!(synced.contains(r#""x-unknown": true"#), "{synced}");
    // The endpoint may come from HF_ENDPOINT instead of --endpoint.
    cli_snapshot!(
        filters(&dir),
        xtask(&dir).args(["sync", "--check"]).env("HF_ENDPOINT", &url),
        @r"
        success: true
        exit_code: 0
        ----- stdout -----
        registry.json matches the Hub
        ----- stderr -----
        "
    );
    cli_snapshot!(filters(&dir), &mut sync(&dir, &url, &[]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    registry.json is up to date
    ----- stderr -----
    ");
    assert_eq!(fs::read_to_string(&registry).unwrap(), synced);

    // Someone replaces the file: check and sync exit 1 and say DRIFT; the JSON report too.
    python_upload(
        &hub,
        mode,
        &dir,
        "ruv/ruvltra",
        &[("ruvltra-small-0.5b-q4_k_m.gguf", b"replaced GGUF contents")],
    );
    cli_snapshot!(filters(&dir), &mut sync(&dir, &url, &["--check"]), @r"
    success: false
    exit_code: 1
    ----- stdout -----

    ----- stderr -----
    DRIFT   ruv/ruvltra@main ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): the Hub's sha256 ee9f7e5c4a4abb22e769558a5d6ae80cacc92f1f2c3c02fd13d2a785b03d2465 (22 bytes) differs from the registry's 5b4a458263424e8ef6e7221d575ec9ab71af43bbfc93ddc58fe63a0f0523260e (19 bytes); the file was replaced on the Hub or the registry is wrong; the registry keeps its value: check the file, then run `cargo xtask sync --accept` to take the Hub's value or re-publish the registry's file
    DRIFT: 1 file on the Hub differ from the sha256 in registry.json; the registry kept its values. Check the files, then run `cargo xtask sync --accept` to take the Hub's
    registry.json does not match the Hub: 1 difference; run `cargo xtask sync` and commit the result
    ");
    // With a token (and trace logging), which never shows in any output.
    let run = sync_with_token(&dir, &url, &["--json"]);
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["summary"]["drift"], 1);
    let drift = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "drift")
        .unwrap();
    assert_eq!(drift["file"], "ruvltra-small-0.5b-q4_k_m.gguf");
    assert_eq!(drift["accepted"], false);
    assert_eq!(fs::read_to_string(&registry).unwrap(), synced);

    // --accept takes the Hub's value.
    cli_snapshot!(filters(&dir), &mut sync(&dir, &url, &["--accept"]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    change  ruv/ruvltra@main (model ruvltra-small-0.5b-q4_k_m): hub commit [COMMIT] -> [COMMIT]
    updated registry.json: 2 changes
    ----- stderr -----
    DRIFT   ruv/ruvltra@main ruvltra-small-0.5b-q4_k_m.gguf (model ruvltra-small-0.5b-q4_k_m): the Hub's sha256 ee9f7e5c4a4abb22e769558a5d6ae80cacc92f1f2c3c02fd13d2a785b03d2465 (22 bytes) differs from the registry's 5b4a458263424e8ef6e7221d575ec9ab71af43bbfc93ddc58fe63a0f0523260e (19 bytes); the file was replaced on the Hub or the registry is wrong; the Hub's value was accepted (--accept)
    ");
    assert!(
        fs::read_to_string(&registry)
            .unwrap()
            .contains(r#""bytes": 22"#)
    );

    // A server error beyond the retries: exit 2, the registry untouched.
    let before = fs::read(&registry).unwrap();
    hub.server.faults().add(Fault {
        when: Match::any().path_contains("/refs"),
        times: 100,
        action: Action::Status(404),
    });
    let run = sync_with_token(&dir, &url, &["--json"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["exit_code"], 2);
    assert!(run.stderr.contains("left untouched"), "{}", run.stderr);
    cli_snapshot!(filters(&dir), &mut sync(&dir, &url, &[]), @r"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot read ruv/ruvltra from the Hub: HTTP 404 (GET http://127.0.0.1:[PORT]/api/models/ruv/ruvltra/refs): injected fault: status 404
    registry.json was left untouched
    ");
    assert_eq!(fs::read(&registry).unwrap(), before);
    hub.server.faults().clear();
}

#[test]
fn an_unreadable_registry_or_unreachable_hub_exits_2() {
    let dir = scratch_dir!("xtask-sync/unreadable");
    // Port 9 (discard) on loopback is closed: the connection is refused.
    let closed = "http://127.0.0.1:9";
    cli_snapshot!(filters(&dir), &mut sync(&dir, closed, &["--check"]), @r"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot read registry registry.json: No such file or directory (os error 2) (check that the file exists and is readable)
    registry.json was left untouched
    ");

    fs::write(dir.join("registry.json"), REGISTRY).unwrap();
    cli_snapshot!(filters(&dir), &mut sync(&dir, closed, &[]), @r"
    success: false
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: cannot read ruv/ruvltra from the Hub: network error (GET http://127.0.0.1:[PORT]/api/models/ruv/ruvltra/refs, after 5 retries): could not connect: client error (Connect): tcp connect error: Connection refused (os error 111); check the network and the endpoint, then try again: error sending request
    registry.json was left untouched
    ");
    assert_eq!(
        fs::read_to_string(dir.join("registry.json")).unwrap(),
        REGISTRY
    );
}
