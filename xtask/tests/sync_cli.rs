//! `cargo xtask sync` as CI runs it: exit codes 0, 1 and 2, the text and JSON reports, and
//! an untouched registry on failure. Files reach the local Hub through the official Python
//! client, as another publisher's would.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use dev_python::{HubTransfer, Python};
use hub_server::{Action, Fault, HubServer, Match, ServerConfig};

const TOKEN: &str = "hf_test_write";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("xtask-sync")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `xtask sync` with `args` against `endpoint` without a token; returns the exit code,
/// stdout and stderr.
fn sync(dir: &Path, endpoint: &str, args: &[&str]) -> (i32, String, String) {
    sync_as(dir, endpoint, None, args)
}

/// Like [`sync`], with `HF_TOKEN` set to `token` and trace logging on when given.
fn sync_as(
    dir: &Path,
    endpoint: &str,
    token: Option<&str>,
    args: &[&str],
) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("sync")
        .args(["--endpoint", endpoint])
        .args(args)
        .current_dir(dir)
        .env_remove("HF_TOKEN")
        .env_remove("HF_ENDPOINT")
        .env("HF_HOME", dir.join("hf-home"));
    if let Some(token) = token {
        cmd.env("HF_TOKEN", token).env("RUST_LOG", "trace");
    }
    let output = cmd.output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Uploads `files` (path in repo, contents) with the official Python client in `mode`.
fn python_upload(
    server: &HubServer,
    mode: HubTransfer,
    dir: &Path,
    repo: &str,
    files: &[(&str, &[u8])],
) {
    let mut run = Python::find()
        .script(workspace_root().join("crates/ruvltra-sync/tests/python/upload.py"))
        .arg(repo);
    for (n, (path, bytes)) in files.iter().enumerate() {
        let local = dir.join(format!("upload-{n}"));
        fs::write(&local, bytes).unwrap();
        run = run.arg(format!("{path}={}", local.display()));
    }
    run.hub_transfer(mode, dir)
        .env("HF_ENDPOINT", server.url())
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
    for mode in HubTransfer::BOTH {
        exit_codes_follow_the_registry_and_the_hub_in(mode);
    }
}

fn exit_codes_follow_the_registry_and_the_hub_in(mode: HubTransfer) {
    let dir = scratch(&format!("codes-{mode}"));
    let server = HubServer::spawn(ServerConfig::new(dir.join("data"))).unwrap();
    let url = server.url();
    python_upload(
        &server,
        mode,
        &dir,
        "ruv/ruvltra",
        &[("ruvltra-small-0.5b-q4_k_m.gguf", b"first GGUF contents")],
    );
    let registry = dir.join("registry.json");
    fs::write(&registry, REGISTRY).unwrap();

    // Before the first sync the check fails, listing the differences, and changes nothing.
    let (code, _, stderr) = sync(&dir, &url, &["--check"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("ruvltra-small-0.5b-q4_k_m.gguf"),
        "{stderr}"
    );
    assert!(stderr.contains("does not match the Hub"), "{stderr}");
    assert_eq!(fs::read_to_string(&registry).unwrap(), REGISTRY);

    // Sync fills the facts (exit 0); then the check passes and a re-sync is a no-op.
    let (code, stdout, stderr) = sync(&dir, &url, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("updated registry.json"), "{stdout}");
    let synced = fs::read_to_string(&registry).unwrap();
    assert!(synced.contains(r#""bytes": 19"#), "{synced}");
    assert!(synced.contains(r#""x-unknown": true"#), "{synced}");
    // The endpoint may come from HF_ENDPOINT instead of --endpoint.
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["sync", "--check"])
        .current_dir(&dir)
        .env_remove("HF_TOKEN")
        .env("HF_ENDPOINT", &url)
        .env("HF_HOME", dir.join("hf-home"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        (output.status.code(), stdout.trim_end()),
        (Some(0), "registry.json matches the Hub")
    );
    let (code, stdout, _) = sync(&dir, &url, &[]);
    assert_eq!(
        (code, stdout.trim_end()),
        (0, "registry.json is up to date")
    );
    assert_eq!(fs::read_to_string(&registry).unwrap(), synced);

    // Someone replaces the file: check and sync exit 1 and say DRIFT; the JSON report too.
    python_upload(
        &server,
        mode,
        &dir,
        "ruv/ruvltra",
        &[("ruvltra-small-0.5b-q4_k_m.gguf", b"replaced GGUF contents")],
    );
    let (code, _, stderr) = sync(&dir, &url, &["--check"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("DRIFT"), "{stderr}");
    // With a token (and trace logging), which never shows in any output.
    let (code, stdout, stderr) = sync_as(&dir, &url, Some(TOKEN), &["--json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
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
    let (code, _, stderr) = sync(&dir, &url, &["--accept"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        fs::read_to_string(&registry)
            .unwrap()
            .contains(r#""bytes": 22"#)
    );

    // A server error beyond the retries: exit 2, the registry untouched.
    let before = fs::read(&registry).unwrap();
    server.faults().add(Fault {
        when: Match::any().path_contains("/refs"),
        times: 100,
        action: Action::Status(404),
    });
    let (code, stdout, stderr) = sync_as(&dir, &url, Some(TOKEN), &["--json"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["exit_code"], 2);
    assert!(stderr.contains("left untouched"), "{stderr}");
    assert_eq!(fs::read(&registry).unwrap(), before);
    server.faults().clear();
    server.stop();
}

#[test]
fn an_unreadable_registry_or_unreachable_hub_exits_2() {
    let dir = scratch("unreadable");
    let (code, _, stderr) = sync(&dir, "http://127.0.0.1:9", &["--check"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("registry.json"), "{stderr}");

    fs::write(dir.join("registry.json"), REGISTRY).unwrap();
    // Port 9 (discard) on loopback is closed: the connection is refused.
    let (code, _, stderr) = sync(&dir, "http://127.0.0.1:9", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ruv/ruvltra"), "{stderr}");
    assert_eq!(
        fs::read_to_string(dir.join("registry.json")).unwrap(),
        REGISTRY
    );
}
