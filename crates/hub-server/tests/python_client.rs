//! Proves the server is faithful: runs the official `huggingface_hub` Python client against it
//! (`tests/python/test_hub_server.py`) in both of its transfer modes, Xet (its default with
//! `hf_xet` installed) and LFS, then checks what the server saw.

use dev_python::{HubTransfer, Python};
use hub_server::{HubServer, ServerConfig, Stats};

#[test]
fn official_python_client_round_trips_in_both_transfer_modes() {
    // The venv's python, which must have huggingface_hub, hf_xet and pytest; fails (never
    // skips) if not.
    let python = Python::with_modules(&["huggingface_hub", "hf_xet", "pytest"]);
    for mode in HubTransfer::BOTH {
        let (stats, redirect_stats) = run_suite(&python, mode);
        eprintln!("{mode}: {stats:?}\n{mode} (redirect): {redirect_stats:?}");
        assert!(stats.commits >= 20, "{mode}: {stats:?}");
        assert!(
            !stats.auth_on_presigned,
            "{mode}: the client sent its token to an upload, CDN or xorb URL"
        );
        assert!(
            !redirect_stats.auth_on_presigned,
            "{mode}: the token followed the redirect to the CDN port"
        );
        assert!(redirect_stats.transfer_requests >= 3, "{redirect_stats:?}");
        match mode {
            HubTransfer::Xet => {
                // Every large file went up and came down through the CAS, none through LFS.
                assert_eq!(stats.basic_uploads, 0, "{stats:?}");
                assert_eq!(stats.multipart_uploads, 0, "{stats:?}");
                assert!(stats.shards_inserted >= 10, "{stats:?}");
                assert!(stats.xorbs_inserted >= 10, "{stats:?}");
                assert!(stats.reconstructions >= 8, "{stats:?}");
                assert!(stats.xorb_download_bytes > 0, "{stats:?}");
                assert!(redirect_stats.reconstructions >= 1, "{redirect_stats:?}");
            }
            HubTransfer::Lfs => {
                assert!(
                    stats.multipart_uploads >= 1,
                    "multipart was never used: {stats:?}"
                );
                assert!(stats.basic_uploads >= 5, "{stats:?}");
                assert_eq!(stats.shards_inserted, 0, "{stats:?}");
                assert_eq!(stats.reconstructions, 0, "{stats:?}");
                // What arrived through LFS was chunked into xorbs all the same.
                assert!(
                    stats.lfs_files_chunked >= stats.basic_uploads + stats.multipart_uploads,
                    "{stats:?}"
                );
            }
        }
    }
}

/// Runs the suite in `mode` against two fresh servers; returns their counters.
fn run_suite(python: &Python, mode: HubTransfer) -> (Stats, Stats) {
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

    let out = python
        .pytest("tests/python/test_hub_server.py")
        .hub_transfer(mode, tmp.path())
        .env_remove("HUGGINGFACE_CO_STAGING")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_HUB_CACHE")
        .env("HF_ENDPOINT", server.url())
        .env("HF_TOKEN", "hf_python_write")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("HF_HUB_DISABLE_UPDATE_CHECK", "1")
        .env("HF_HOME", tmp.path().join("hf-home"))
        .env("HF_HUB_CACHE", tmp.path().join("hf-cache"))
        .env("HUB_TEST_REDIRECT_ENDPOINT", redirect.url())
        .env("HUB_TEST_MULTIPART_THRESHOLD", threshold.to_string())
        .env("HUB_TEST_TREE_PAGE_SIZE", page.to_string())
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!(
        "{mode}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the Python cross-check failed in {mode} mode"
    );
    assert!(stdout.contains("passed"), "pytest ran no tests");
    let stats = (server.stats(), redirect.stats());
    server.stop();
    redirect.stop();
    stats
}
