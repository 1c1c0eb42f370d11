//! `cargo xtask publish --to all` publishes one demo registry to the local server's Hub mode
//! and its ModelScope mode in one run; the official `modelscope` SDK then lists and downloads
//! what was published (sha256 checked) and `cargo xtask verify --deep` checks the Hub side.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use dev_python::Python;
use ruvltra_gguf::writer::SampleModel;
use test_support::{CliRun, LocalHub, cli_snapshot, scratch_dir, sha256_file_hex};

const TOKEN: &str = "both_sites_publish_token";
const SMALL: &str = "ruvltra-small-0.5b-q4_k_m.gguf";
const MEDIUM: &str = "ruvltra-medium-1.1b-q4_k_m.gguf";

/// Two models: the small one in the catalog's ModelScope repo, the medium one with its own.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    for (name, params) in [(SMALL, 500_000), (MEDIUM, 700_000)] {
        SampleModel::new("qwen2", 15, params)
            .build()
            .unwrap()
            .write_file(files.join(name))
            .unwrap();
    }
    let registry = serde_json::json!({
        "schema_version": 1,
        "repo": "ruv/ruvltra",
        "revision": "main",
        "catalog": {
            "title": "RuvLTRA",
            "license": "apache-2.0",
            "languages": ["en"],
            "modelscope_repo": "ruvnet/ruvltra"
        },
        "models": [
            {
                "id": "ruvltra-small-0.5b-q4_k_m", "file": SMALL, "quant": "q4_k_m",
                "size": "0.5b", "variant": "small", "name": "RuvLTRA Small 0.5B Q4_K_M",
                "architecture": "qwen2", "context_length": 32768
            },
            {
                "id": "ruvltra-medium-1.1b-q4_k_m", "file": MEDIUM, "quant": "q4_k_m",
                "size": "1.1b", "variant": "medium", "name": "RuvLTRA Medium 1.1B Q4_K_M",
                "architecture": "qwen2", "context_length": 32768,
                "modelscope_repo": "ruvnet/ruvltra-medium"
            }
        ]
    });
    let path = dir.join("registry.json");
    std::fs::write(&path, serde_json::to_string_pretty(&registry).unwrap()).unwrap();
    (path, files)
}

/// xtask in `dir` with both tokens, without the machine's own Hub or ModelScope set-up.
fn xtask(dir: &Path) -> Command {
    let mut command = support::xtask(dir);
    command
        .env("HF_TOKEN", TOKEN)
        .env("MODELSCOPE_API_TOKEN", TOKEN);
    command
}

/// Runs xtask with both tokens and everything the tools could log on; checks that the token
/// shows nowhere.
fn xtask_traced(dir: &Path, args: &[&str]) -> CliRun {
    let run = CliRun::of(xtask(dir).args(args).env("RUST_LOG", "trace"));
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    run
}

/// Lists a ModelScope model with the official SDK and downloads every file, printing
/// `{path: [listed sha256, downloaded sha256, size]}`.
const SDK_SCRIPT: &str = r#"
import hashlib, json, sys
from modelscope.hub.api import HubApi
from modelscope.hub.file_download import model_file_download
repo = sys.argv[1]
api = HubApi()
out = {}
readme = ""
for f in api.list_repo_files(repo, "model", revision="master", recursive=True):
    local = model_file_download(repo, f.path, revision="master")
    h = hashlib.sha256(open(local, "rb").read()).hexdigest()
    out[f.path] = [f.sha256, h, f.size]
    if f.path == "README.md":
        readme = open(local, encoding="utf-8").read()
tags = api.get_model_branches_and_tags(repo)[1]
print(json.dumps({"files": out, "tags": tags, "readme": readme}))
"#;

fn sdk_listing(dir: &Path, url: &str, repo: &str) -> serde_json::Value {
    // The venv's python with the official modelscope SDK; fails (never skips) when missing.
    let out = Python::with_modules(&["modelscope"])
        .snippet(SDK_SCRIPT)
        .arg(repo)
        .env_remove("MODELSCOPE_DOMAIN")
        .env("MODELSCOPE_ENDPOINT", url)
        .env("MODELSCOPE_API_TOKEN", TOKEN)
        .env("MODELSCOPE_CACHE", dir.join("ms-cache"))
        .env("HOME", dir.join("home"))
        .run();
    serde_json::from_str(out.stdout.lines().last().unwrap()).unwrap()
}

#[test]
fn publish_to_hub_and_modelscope_in_one_run() {
    let dir = scratch_dir!("publish-modelscope");
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let hub = LocalHub::start_with(|config| config.write_tokens = vec![TOKEN.to_owned()]);
    let url = hub.url();
    let (registry, files) = setup(&dir);
    let (registry, files) = (registry.to_str().unwrap(), files.to_str().unwrap());
    let args = [
        "publish",
        "--registry",
        registry,
        "--files",
        files,
        "--to",
        "all",
        "--endpoint",
        &url,
        "--modelscope-endpoint",
        &url,
        "--tag",
        "v1.0.0",
        "--json",
    ];
    // A dry run to ModelScope needs no token, plans every file and creates nothing.
    let run = CliRun::of(
        support::xtask(&dir)
            .args(&args[..5])
            .args(["--modelscope-endpoint", &url, "--dry-run", "--json"])
            .arg("--to")
            .arg("modelscope"),
    );
    assert!(run.status.success(), "{}", run.render());
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["dry_run"], true, "{plan}");
    let planned: Vec<&str> = plan["repos"][0]["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        !planned.is_empty() && planned.iter().all(|a| *a == "add"),
        "{plan}"
    );
    let data = hub.server.data_dir().to_owned();
    assert!(!data.join("modelscope/repos/models/ruvnet").exists());

    let run = xtask_traced(&dir, &args);
    assert!(run.status.success(), "{}", run.render());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let hub_repos: Vec<&str> = report["hub"]["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repo"].as_str().unwrap())
        .collect();
    assert_eq!(hub_repos, ["ruv/ruvltra"], "{report}");
    let ms = report["modelscope"]["repos"].as_array().unwrap();
    let ms_repos: Vec<&str> = ms.iter().map(|r| r["repo"].as_str().unwrap()).collect();
    assert_eq!(
        ms_repos,
        ["ruvnet/ruvltra", "ruvnet/ruvltra-medium"],
        "{report}"
    );
    for r in ms.iter().chain(report["hub"]["repos"].as_array().unwrap()) {
        assert_eq!(r["verify"]["problems"], serde_json::json!([]), "{r}");
        assert_eq!(r["tag"]["name"], "v1.0.0", "{r}");
    }
    assert_eq!(ms[0]["branch"], "master");

    // The official SDK lists and downloads what was published, with the right sha256.
    let small = sdk_listing(&dir, &url, "ruvnet/ruvltra");
    let files_listed = small["files"].as_object().unwrap();
    let expected = sha256_file_hex(dir.join("files").join(SMALL));
    assert_eq!(files_listed[SMALL][0], expected.as_str(), "{small}");
    assert_eq!(files_listed[SMALL][1], expected.as_str(), "{small}");
    for (path, v) in files_listed {
        assert_eq!(v[0], v[1], "{path}: listed and downloaded sha256 differ");
    }
    assert!(files_listed.contains_key("README.md"), "{small}");
    assert!(small["tags"].as_array().unwrap().contains(&"v1.0.0".into()));
    let card = small["readme"].as_str().unwrap();
    assert!(
        card.starts_with("---\n") && card.contains("tasks:") && card.contains("frameworks:"),
        "the ModelScope card lacks its front matter: {card}"
    );
    let medium = sdk_listing(&dir, &url, "ruvnet/ruvltra-medium");
    let expected = sha256_file_hex(dir.join("files").join(MEDIUM));
    assert_eq!(medium["files"][MEDIUM][1], expected.as_str(), "{medium}");
    assert!(!medium["files"].as_object().unwrap().contains_key(SMALL));

    // The Hub side holds the same files.
    cli_snapshot!(
        support::filters(&dir),
        xtask(&dir).args(["verify", "--registry", registry, "--endpoint", &url, "--deep"]),
        @r"
        success: true
        exit_code: 0
        ----- stdout -----
        ruv/ruvltra@main
          verified: 2 path(s) of ruv/ruvltra at main match the manifest (downloaded and re-hashed)
            warning: ruvltra-small-0.5b-q4_k_m.gguf was only checked for presence: the registry has no sha256 for it (run `cargo xtask sync`)
            warning: ruvltra-medium-1.1b-q4_k_m.gguf was only checked for presence: the registry has no sha256 for it (run `cargo xtask sync`)
        ----- stderr -----
        ==> verifying ruv/ruvltra@main: 2 path(s)
        ==> downloading ruvltra-small-0.5b-q4_k_m.gguf to hash it again
        ==> downloading ruvltra-medium-1.1b-q4_k_m.gguf to hash it again
        "
    );

    // `verify --to modelscope --deep` reads ModelScope back on its own.
    let run = xtask_traced(
        &dir,
        &[
            "verify",
            "--registry",
            registry,
            "--to",
            "modelscope",
            "--modelscope-endpoint",
            &url,
            "--deep",
            "--json",
        ],
    );
    assert!(run.status.success(), "{}", run.render());
    let verified: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let repos: Vec<&str> = verified
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repo"].as_str().unwrap())
        .collect();
    assert_eq!(
        repos,
        ["ruvnet/ruvltra", "ruvnet/ruvltra-medium"],
        "{verified}"
    );

    // A second run finds everything in place on both sites: no byte sent, no commit.
    let run = xtask_traced(&dir, &args);
    assert!(run.status.success(), "{}", run.render());
    let again: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    for r in again["hub"]["repos"]
        .as_array()
        .unwrap()
        .iter()
        .chain(again["modelscope"]["repos"].as_array().unwrap())
    {
        assert_eq!(r["bytes_sent"], 0, "{r}");
        assert!(r["commit"].is_null(), "{r}");
    }

    // Read by people, the no-op report names each destination, never "the Hub" for ModelScope.
    // Its stdout is a file snapshot; stderr is progress in the order the hashing threads end.
    let mut run = CliRun::of(xtask(&dir).args(&args[..args.len() - 1]));
    assert!(run.status.success(), "{}", run.render());
    let stdout = run.stdout.clone();
    run.stderr = "[progress lines, in the order the threads ran]".to_owned();
    cli_snapshot!(
        "republish_report",
        support::filters(&dir).regex(r"\b[0-9a-f]{40}\b", "[COMMIT]"),
        run
    );
    let (hub_part, ms_part) = stdout
        .split_once("== modelscope ==")
        .expect("a ModelScope section");
    assert!(hub_part.contains("== hub =="), "{stdout}");
    assert!(
        hub_part.contains("no commit: the Hub already matched")
            && hub_part.contains("object(s) already on the Hub"),
        "{hub_part}"
    );
    assert_eq!(
        ms_part
            .matches("no commit: ModelScope already matched")
            .count(),
        2,
        "{ms_part}"
    );
    assert!(
        ms_part.contains("object(s) already on ModelScope") && !ms_part.contains("the Hub"),
        "{ms_part}"
    );

    // A registry that names the medium model's file differently finds it missing, and the
    // published one reported as extra on ModelScope, not on the Hub.
    let mut renamed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(registry).unwrap()).unwrap();
    renamed["models"][1]["file"] = "ruvltra-medium-1.1b-q5_k_m.gguf".into();
    renamed["models"][1]["quant"] = "q5_k_m".into();
    renamed["models"][1]["id"] = "ruvltra-medium-1.1b-q5_k_m".into();
    let renamed = serde_json::to_string_pretty(&renamed).unwrap();
    let renamed_path = dir.join("renamed-registry.json");
    std::fs::write(&renamed_path, renamed).unwrap();
    let run = CliRun::of(xtask(&dir).args([
        "verify",
        "--registry",
        renamed_path.to_str().unwrap(),
        "--to",
        "modelscope",
        "--modelscope-endpoint",
        &url,
    ]));
    assert!(
        run.stdout.contains(&format!(
            "warning: {MEDIUM} is on ModelScope but in no manifest"
        )) && !run.stdout.contains("the Hub"),
        "{}",
        run.render()
    );
    cli_snapshot!(
        "verify_extra_on_modelscope",
        support::filters(&dir).regex(r"\b[0-9a-f]{40}\b", "[COMMIT]"),
        run
    );

    // Without a ModelScope token, `--to modelscope` stops before anything is sent.
    cli_snapshot!(
        support::filters(&dir),
        support::xtask(&dir).args(args).env("HF_TOKEN", TOKEN),
        @r"
        success: false
        exit_code: 2
        ----- stdout -----

        ----- stderr -----
        error: no ModelScope token found: set MODELSCOPE_API_TOKEN to a token with write access (or run with --dry-run)
        "
    );
    hub.server.stop();
}
