//! `cargo xtask sync --from modelscope|all` as CI runs it against the local server's ModelScope
//! mode: exit codes 0, 1 and 2 with `--check`, the endpoint from `--modelscope-endpoint` or
//! `MODELSCOPE_ENDPOINT`, drift, a mirror repository not published yet, and both sites read
//! before one save.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use hub_client::{CommitOp, Endpoint, HubClient, NewCommit, RepoId, Sha256, Token};
use hub_server::{Action, Fault, HubServer, Match, ServerConfig};
use modelscope_client::{LocalFile, ModelId, ModelScopeClient, Visibility, resolve_endpoint_with};
use ruvltra_gguf::writer::SampleModel;

const TOKEN: &str = "hf_test_write";
const SMALL: &str = "ruvltra-small-0.5b-q4_k_m.gguf";
const MS_REPO: &str = "ruvnet/ruvltra-ms";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("xtask-sync-modelscope")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
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
fn publish_ms(server: &HubServer, repo: &str, local: &Path) -> String {
    let ms = ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&server.url()), |_| None).unwrap())
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
fn publish_hub(server: &HubServer, repo: &str, local: &Path) -> String {
    let client = HubClient::builder()
        .endpoint(Endpoint::parse(&server.url()).unwrap())
        .token(Token::new(TOKEN))
        .build()
        .unwrap();
    let id = RepoId::new(repo).unwrap();
    let bytes = fs::read(local).unwrap();
    let sha = Sha256::digest(&bytes);
    let size = bytes.len() as u64;
    runtime().block_on(async {
        client.create_repo(&id, false).await.unwrap();
        client
            .upload_lfs_object(&id, "main", local, sha, size, None)
            .await
            .unwrap();
        let parent = client.resolve_revision(&id, "main").await.unwrap();
        let commit = NewCommit {
            summary: "publish".into(),
            description: String::new(),
            parent_commit: Some(parent),
            operations: vec![CommitOp::AddLfs {
                path: SMALL.to_owned(),
                sha256: sha,
                size,
            }],
        };
        client
            .commit(&id, "main", &commit)
            .await
            .unwrap()
            .commit_oid
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

/// Runs `xtask sync` in `dir` with `args` and no token or endpoint from the environment
/// except `env`; returns the exit code, stdout and stderr.
fn sync(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("sync").args(args).current_dir(dir);
    for var in [
        "HF_TOKEN",
        "HF_ENDPOINT",
        "MODELSCOPE_ENDPOINT",
        "MODELSCOPE_DOMAIN",
        "MODELSCOPE_API_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HF_HOME", dir.join("hf-home"))
        .env("HOME", dir.join("home"));
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn from_modelscope_check_exit_codes() {
    let dir = scratch("codes");
    let server = HubServer::spawn(ServerConfig::new(dir.join("data"))).unwrap();
    let url = server.url();
    let first = gguf(&dir, 1);
    publish_ms(&server, MS_REPO, &first);
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
    let (code, _, stderr) = sync(&dir, &with(&["--check"]), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("modelscope:{MS_REPO}@master {SMALL}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("does not match ModelScope")
            && stderr.contains("cargo xtask sync --from modelscope"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text);

    // The sync fills the facts and the modelscope state (exit 0); the check then passes, with
    // the endpoint from MODELSCOPE_ENDPOINT too.
    let (code, stdout, stderr) = sync(&dir, &ms, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("updated registry.json"), "{stdout}");
    let synced = fs::read_to_string(&path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&synced).unwrap();
    let model = &value["models"][0];
    assert_eq!(model["bytes"], fs::metadata(&first).unwrap().len());
    assert!(model["modelscope"]["commit"].is_string(), "{synced}");
    assert!(model.get("hub").is_none(), "{synced}");
    assert_eq!(model["description"], "Hand-written.");
    let (code, stdout, stderr) = sync(
        &dir,
        &["--from", "modelscope", "--check"],
        &[("MODELSCOPE_ENDPOINT", url.as_str())],
    );
    assert_eq!(
        (code, stdout.trim_end()),
        (0, "registry.json matches ModelScope"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), synced);

    // The file is replaced on ModelScope: the check fails with DRIFT, in text and JSON.
    publish_ms(&server, MS_REPO, &gguf(&dir, 2));
    let (code, _, stderr) = sync(&dir, &with(&["--check"]), &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("DRIFT") && stderr.contains("--from modelscope --accept"),
        "{stderr}"
    );
    let (code, stdout, _) = sync(&dir, &with(&["--check", "--json"]), &[]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
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
    let (code, _, stderr) = sync(&dir, &with(&["--accept"]), &[]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = sync(&dir, &with(&["--check"]), &[]);
    assert_eq!(code, 0, "{stderr}");

    // A server error: exit 2, the registry untouched.
    let before = fs::read(&path).unwrap();
    server.faults().add(Fault::new(
        Match::any().path_contains("/repo/files"),
        100,
        Action::Status(404),
    ));
    let (code, _, stderr) = sync(&dir, &with(&["--check"]), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("from ModelScope") && stderr.contains("left untouched"),
        "{stderr}"
    );
    let (code, _, _) = sync(&dir, &ms, &[]);
    assert_eq!(code, 2);
    assert_eq!(fs::read(&path).unwrap(), before);
    server.faults().clear();

    // A mirror repository nobody published to: exit 1, saying how to publish it.
    fs::write(&path, registry("ruvnet/not-published")).unwrap();
    let (code, _, stderr) = sync(&dir, &with(&["--check"]), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("does not exist on ModelScope")
            && stderr.contains("cargo xtask publish --to modelscope"),
        "{stderr}"
    );
    server.stop();
}

#[test]
fn from_all_reads_both_sites_before_one_save() {
    let dir = scratch("all");
    let server = HubServer::spawn(ServerConfig::new(dir.join("data"))).unwrap();
    let url = server.url();
    let file = gguf(&dir, 1);
    let hub_commit = publish_hub(&server, "ruv/ruvltra", &file);
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
    let (code, stdout, stderr) = sync(&dir, &all, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("modelscope:{MS_REPO}@master")),
        "{stderr}"
    );
    let value: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(value["models"][0]["hub"]["commit"], hub_commit.as_str());
    assert!(value["models"][0].get("modelscope").is_none());

    // Once published there, both states are filled and the check of both passes.
    let ms_commit = publish_ms(&server, MS_REPO, &file);
    let (code, stdout, stderr) = sync(&dir, &all, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let value: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(value["models"][0]["hub"]["commit"], hub_commit.as_str());
    assert_eq!(
        value["models"][0]["modelscope"]["commit"],
        ms_commit.as_str()
    );
    let checked: Vec<&str> = all.iter().copied().chain(["--check"]).collect();
    let (code, stdout, _) = sync(&dir, &checked, &[]);
    assert_eq!(
        (code, stdout.trim_end()),
        (0, "registry.json matches the Hub and ModelScope")
    );

    // ModelScope failing after the Hub was read (a 400, which is not retried; a 404 would
    // mean "not published yet"): exit 2 and nothing written, though the Hub changed.
    let before = fs::read(&path).unwrap();
    publish_hub_again(&server, &dir);
    server.faults().add(Fault::new(
        Match::any().path_contains("/api/v1/models/"),
        100,
        Action::Status(400),
    ));
    let (code, _, stderr) = sync(&dir, &all, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("from ModelScope"), "{stderr}");
    assert_eq!(fs::read(&path).unwrap(), before);
    server.faults().clear();
    // Without the fault the same run writes the Hub's new model (and exits 1: the mirror
    // does not have it).
    let (code, _, stderr) = sync(&dir, &all, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        fs::read_to_string(&path)
            .unwrap()
            .contains("ruvltra-extra-1b-q4_0.gguf")
    );
    server.stop();
}

/// Adds a convention-named GGUF on the Hub, so that a sync of the Hub would write something.
fn publish_hub_again(server: &HubServer, dir: &Path) {
    let client = HubClient::builder()
        .endpoint(Endpoint::parse(&server.url()).unwrap())
        .token(Token::new(TOKEN))
        .build()
        .unwrap();
    let id = RepoId::new("ruv/ruvltra").unwrap();
    let local = gguf(dir, 3);
    let bytes = fs::read(&local).unwrap();
    let sha = Sha256::digest(&bytes);
    let size = bytes.len() as u64;
    runtime().block_on(async {
        client
            .upload_lfs_object(&id, "main", &local, sha, size, None)
            .await
            .unwrap();
        let parent = client.resolve_revision(&id, "main").await.unwrap();
        let commit = NewCommit {
            summary: "tag-less change".into(),
            description: String::new(),
            parent_commit: Some(parent),
            operations: vec![CommitOp::AddLfs {
                path: "ruvltra-extra-1b-q4_0.gguf".to_owned(),
                sha256: sha,
                size,
            }],
        };
        client.commit(&id, "main", &commit).await.unwrap();
    });
}
