//! `cargo xtask publish` and `cargo xtask verify` as a user runs them against the local Hub:
//! dry run without a token, publish with `--json` and `--tag`, verify (plain and deep, then
//! against a wrong sha256), and the missing-token error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hub_server::{HubServer, ServerConfig};
use ruvltra_gguf::writer::SampleModel;

const TOKEN: &str = "hf_cli_publish_token";
const FILE: &str = "ruvltra-small-0.5b-q4_k_m.gguf";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the model file and a registry describing it (with `sha256` when given).
fn setup(dir: &Path, sha256: Option<&str>) -> (PathBuf, PathBuf) {
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    SampleModel::new("qwen2", 15, 600_000)
        .build()
        .unwrap()
        .write_file(files.join(FILE))
        .unwrap();
    let mut model = serde_json::json!({
        "id": "ruvltra-small-0.5b-q4_k_m",
        "file": FILE,
        "quant": "q4_k_m",
        "size": "0.5b",
        "variant": "small",
        "name": "RuvLTRA Small 0.5B Q4_K_M",
        "architecture": "qwen2",
        "context_length": 32768
    });
    if let Some(sha) = sha256 {
        model["sha256"] = sha.into();
    }
    let registry = serde_json::json!({
        "schema_version": 1,
        "repo": "ruv/ruvltra",
        "revision": "main",
        "catalog": { "title": "RuvLTRA", "license": "apache-2.0", "languages": ["en"] },
        "models": [model]
    });
    let path = dir.join("registry.json");
    std::fs::write(&path, serde_json::to_string_pretty(&registry).unwrap()).unwrap();
    (path, files)
}

/// Runs xtask with a clean Hub environment (no token unless `token`).
fn xtask(dir: &Path, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args).current_dir(dir);
    for var in [
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HUGGINGFACE_API_KEY",
        "HF_TOKEN_PATH",
        "HF_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    // Everything the tools could log is on, so the checks below see it all.
    cmd.env("RUST_LOG", "trace")
        .env("HF_HOME", dir.join("hf-home"))
        .env("HOME", dir.join("home"));
    if let Some(t) = token {
        cmd.env("HF_TOKEN", t);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn publish_then_verify_from_the_command_line() {
    let dir = scratch("publish-cli");
    let mut config = ServerConfig::new(dir.join("hub"));
    config.write_tokens = vec![TOKEN.to_owned()];
    let server = HubServer::spawn(config).unwrap();
    let url = server.url();
    let (registry, files) = setup(&dir, None);
    let registry = registry.to_str().unwrap();
    let files = files.to_str().unwrap();
    let (sha, size) = hash(&dir.join("files").join(FILE));

    // A dry run needs no token, prints every local file's size and sha256, and changes nothing.
    let out = xtask(
        &dir,
        None,
        &[
            "publish",
            "--registry",
            registry,
            "--files",
            files,
            "--endpoint",
            &url,
            "--dry-run",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let line = stdout.lines().find(|l| l.ends_with(FILE)).unwrap();
    assert!(
        line.contains("add") && line.contains(&sha) && line.contains(&size.to_string()),
        "{line}"
    );
    assert!(stdout.contains("dry run"), "{stdout}");
    assert_eq!(server.stats().commits, 0);

    // The real publish, with a JSON report on stdout.
    let out = xtask(
        &dir,
        Some(TOKEN),
        &[
            "publish",
            "--registry",
            registry,
            "--files",
            files,
            "--endpoint",
            &url,
            "--tag",
            "v1.0.0",
            "--json",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let repo = &report["repos"][0];
    assert!(
        repo["commit"].as_str().is_some_and(|c| c.len() == 40),
        "{report}"
    );
    assert_eq!(repo["bytes_sent"], size);
    assert_eq!(repo["tag"]["name"], "v1.0.0");
    assert_eq!(repo["verify"]["problems"], serde_json::json!([]));
    assert_eq!(server.stats().commits, 1);

    // Verify on its own: presence only (the registry has no sha256 yet), then deep.
    let out = xtask(
        &dir,
        None,
        &[
            "verify",
            "--registry",
            registry,
            "--endpoint",
            &url,
            "--deep",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("no sha256"), "{stdout}");

    // With the right sha256 it passes; with a wrong one it fails naming both.
    let (registry_ok, _) = setup(&dir, Some(&sha));
    let out = xtask(
        &dir,
        None,
        &[
            "verify",
            "--registry",
            registry_ok.to_str().unwrap(),
            "--endpoint",
            &url,
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let wrong = "0".repeat(64);
    let (registry_bad, _) = setup(&dir, Some(&wrong));
    let out = xtask(
        &dir,
        None,
        &[
            "verify",
            "--registry",
            registry_bad.to_str().unwrap(),
            "--endpoint",
            &url,
        ],
    );
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&wrong) && stdout.contains(&sha), "{stdout}");
}

#[test]
fn publish_without_a_token_names_hf_token() {
    let dir = scratch("publish-cli-no-token");
    let (registry, files) = setup(&dir, None);
    let out = xtask(
        &dir,
        None,
        &[
            "publish",
            "--registry",
            registry.to_str().unwrap(),
            "--files",
            files.to_str().unwrap(),
            "--endpoint",
            "http://127.0.0.1:9",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HF_TOKEN"), "{stderr}");
}

/// The size and sha256 of a file, through the uploader's streaming hasher.
fn hash(path: &Path) -> (String, u64) {
    let (sha, size) = ruvltra_uploader::hash_file(path, &mut |_| {}).unwrap();
    (sha.to_hex(), size)
}

#[test]
fn the_demo_runs_end_to_end() {
    let dir = scratch("demo-cli");
    let out = xtask(&dir, None, &["demo"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("[5] publishing the same files again"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 commit(s), 0 bytes uploaded"),
        "the second publish must be a no-op: {stdout}"
    );
    assert!(stdout.contains("tag v1.0.0 ->"), "{stdout}");
    // Both modes of the one local server: published, verified, re-published as a no-op.
    assert_eq!(stdout.matches("== modelscope ==").count(), 3, "{stdout}");
    assert!(
        stdout.contains("ruv/ruvltra@master (repository created)"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("(downloaded and re-hashed)").count(),
        2,
        "a deep verify per destination: {stdout}"
    );
    let summary = stdout.split("\nsummary:\n").nth(1).expect("a summary");
    for destination in ["  hub ", "  modelscope "] {
        assert!(summary.contains(destination), "{summary}");
    }
    assert_eq!(
        summary.matches("0 bytes, no commit").count(),
        2,
        "{summary}"
    );
    // The ModelScope endpoint is printed as `--modelscope-endpoint` takes it (the site, not
    // its `/api/v1` root), so that it can be pasted back.
    let line = stdout
        .lines()
        .find(|l| l.contains("its ModelScope mode answers on the same port: "))
        .expect("the ModelScope endpoint is printed");
    let printed = line
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    assert!(
        printed.starts_with("http://127.0.0.1:") && !printed.contains("/api/"),
        "{line}"
    );
    assert!(!summary.contains("/api/v1"), "{summary}");
    // The no-op re-publish names the destination that already matched.
    assert!(
        stdout.contains("no commit: the Hub already matched"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no commit: ModelScope already matched"),
        "{stdout}"
    );
}
