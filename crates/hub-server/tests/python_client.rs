//! Proves the server is faithful: runs the official `huggingface_hub` Python client against it
//! (`tests/python/test_hub_server.py`), then checks what the server saw.

use std::path::{Path, PathBuf};
use std::process::Command;

use hub_server::{HubServer, ServerConfig};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/hub-server sits two levels below the workspace root")
        .to_path_buf()
}

/// The venv's python, which must have huggingface_hub and pytest; panics (never skips) if not.
fn python() -> PathBuf {
    let root = workspace_root();
    let python = std::env::var_os("RUVLTRA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    let help = format!(
        "the Python cross-check needs {} with huggingface_hub and pytest: run `cargo xtask test` \
         or `.ci/run` (they create the venv), or `python3 -m venv {venv} && {venv}/bin/pip install \
         -r tests/python/requirements.txt`",
        python.display(),
        venv = root.join(".venv").display()
    );
    let out = Command::new(&python)
        .args([
            "-c",
            "import huggingface_hub, pytest; print(huggingface_hub.__version__)",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {help}", python.display()));
    assert!(
        out.status.success(),
        "{help}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "huggingface_hub {}",
        String::from_utf8_lossy(&out.stdout).trim()
    );
    python
}

#[test]
fn official_python_client_round_trips() {
    let python = python();
    let tmp = tempfile::tempdir().unwrap();
    let threshold: u64 = 5 * 1024 * 1024;
    let page = 7;

    let mut config = ServerConfig::new(tmp.path().join("data"));
    config.multipart_threshold = threshold;
    config.multipart_chunk_size = 2 * 1024 * 1024;
    config.tree_page_size = page;
    config.tree_expand_page_size = 3;
    config.commits_page_size = 2;
    config.write_tokens = vec!["hf_python_write".to_owned()];
    let server = HubServer::spawn(config).unwrap();

    let mut redirect_config = ServerConfig::new(tmp.path().join("data-redirect"));
    redirect_config.lfs_redirect = true;
    redirect_config.write_tokens = vec!["hf_python_write".to_owned()];
    let redirect = HubServer::spawn(redirect_config).unwrap();

    let root = workspace_root();
    let mut cmd = Command::new(&python);
    cmd.current_dir(&root)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/python/test_hub_server.py",
        ])
        .env_remove("HUGGINGFACE_CO_STAGING")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_HUB_CACHE")
        .env("HF_ENDPOINT", server.url())
        .env("HF_TOKEN", "hf_python_write")
        .env("HF_HUB_DISABLE_XET", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("HF_HUB_DISABLE_UPDATE_CHECK", "1")
        .env("HF_HOME", tmp.path().join("hf-home"))
        .env("HF_HUB_CACHE", tmp.path().join("hf-cache"))
        .env("HUB_TEST_REDIRECT_ENDPOINT", redirect.url())
        .env("HUB_TEST_MULTIPART_THRESHOLD", threshold.to_string())
        .env("HUB_TEST_TREE_PAGE_SIZE", page.to_string());
    let out = cmd.output().expect("pytest could not be started");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Python cross-check failed");
    assert!(stdout.contains("passed"), "pytest ran no tests");

    let stats = server.stats();
    assert!(stats.commits >= 20, "{stats:?}");
    assert!(
        stats.multipart_uploads >= 1,
        "multipart was never used: {stats:?}"
    );
    assert!(stats.basic_uploads >= 5, "{stats:?}");
    assert!(
        !stats.auth_on_presigned,
        "the client sent its token to an upload URL"
    );
    let redirect_stats = redirect.stats();
    assert!(
        !redirect_stats.auth_on_presigned,
        "the token followed the redirect to the CDN port"
    );
    assert!(redirect_stats.transfer_requests >= 3, "{redirect_stats:?}");
    server.stop();
    redirect.stop();
}
