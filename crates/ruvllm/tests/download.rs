//! The downloader against the local Hub and its fault injection: clean downloads, cache hits
//! with no network, resumption in a new process, corrupt bodies, 5xx bursts, the Hub down,
//! offline mode, concurrent downloads, and sharing the cache with the official Python client.

mod support;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dev_python::{HubTransfer, Python};
use hub_server::{Action, Fault, Match};
use ruvllm::hub::download::{
    DownloadError, DownloadOptions, ProgressEvent, Source, download, fetch,
};
use support::*;
use test_support::{TOKEN, files_under, pseudo_random, sha256_hex};

const MIB: usize = 1024 * 1024;

fn repo_dir(cache: &Path, repo: &str) -> std::path::PathBuf {
    cache.join(format!("models--{}", repo.replace('/', "--")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_download_then_cache_hit_without_network() {
    // Through the CDN redirect (another origin), like the real Hub's LFS files.
    let hub = Hub::start_with(|c| c.lfs_redirect = true);
    let mut gguf = Vec::new();
    ruvltra_gguf::writer::sample_model("qwen2", 15, 2_000_000)
        .unwrap()
        .write_to(&mut gguf)
        .unwrap();
    let commit = hub
        .publish("local/clean", &[("model-q4_k_m.gguf", &gguf, true)])
        .await;
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/clean", "model-q4_k_m.gguf", &gguf, &[]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let mut opts = options(&hub.url(), cache.path());
    opts.progress = Some(Arc::new(move |p| seen.lock().unwrap().push(p)));

    let fetched = fetch(&spec, &opts).await.unwrap();
    let file = &fetched.files[0];
    assert_eq!(file.source, Source::Hub);
    assert_eq!(file.checked_against, "registry sha256");
    assert_eq!(file.commit.as_deref(), Some(commit.as_str()));
    assert_eq!(file.bytes_received, gguf.len() as u64);
    let repo = repo_dir(cache.path(), "local/clean");
    assert_eq!(
        fetched.path,
        repo.join("snapshots")
            .join(&commit)
            .join("model-q4_k_m.gguf")
    );
    assert_eq!(fs::read(&fetched.path).unwrap(), gguf);
    let sha = sha256_hex(&gguf);
    assert_eq!(
        fs::read_link(&fetched.path).unwrap(),
        Path::new("../../blobs").join(&sha)
    );
    assert_eq!(fs::read_to_string(repo.join("refs/main")).unwrap(), commit);
    assert_eq!(
        files_under(cache.path()),
        vec![
            format!(".locks/models--local--clean/{sha}.lock"),
            format!(".locks/models--local--clean/{sha}.ruvllm-verified"),
            format!("models--local--clean/blobs/{sha}"),
            "models--local--clean/refs/main".to_owned(),
            format!("models--local--clean/snapshots/{commit}/model-q4_k_m.gguf"),
        ]
    );
    let header = ruvltra_gguf::read_header(&fetched.path).unwrap();
    assert!(!header.tensors.is_empty());
    assert!(
        !hub.server.stats().auth_on_presigned,
        "the token went to the CDN"
    );
    {
        let events = events.lock().unwrap();
        assert!(events.iter().any(|p| p.event
            == ProgressEvent::Started {
                source: Source::Hub,
                from: 0
            }));
        let last = events.last().unwrap();
        assert_eq!(
            last.event,
            ProgressEvent::Finished {
                source: Source::Hub
            }
        );
        assert_eq!(last.done, gguf.len() as u64);
    }

    // The second call needs no network at all.
    let before = hub.server.stats();
    let again = fetch(&spec, &opts).await.unwrap();
    assert_eq!(again.path, fetched.path);
    assert_eq!(again.files[0].source, Source::Cache);
    assert_eq!(hub.server.stats(), before);

    // A blob changed behind our back is caught by the cheap check (size and marker) ...
    let blob = repo.join("blobs").join(&sha);
    let mut bytes = fs::read(&blob).unwrap();
    bytes[100] ^= 0xff;
    fs::write(&blob, &bytes).unwrap();
    // A later modification: timestamps are coarser than this test is fast.
    fs::File::options()
        .write(true)
        .open(&blob)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    let offline = DownloadOptions {
        offline: true,
        ..opts.clone()
    };
    let err = fetch(&spec, &offline).await.unwrap_err();
    assert!(matches!(err, DownloadError::CorruptCache { .. }), "{err}");
    assert!(err.to_string().contains(&sha), "{err}");
    // ... and online it is replaced by a fresh, verified copy.
    let healed = fetch(&spec, &opts).await.unwrap();
    assert_eq!(healed.files[0].source, Source::Hub);
    assert_eq!(fs::read(&healed.path).unwrap(), gguf);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_model_and_regular_files_share_one_snapshot() {
    let hub = Hub::start();
    let one = pseudo_random(300_000, 1);
    let two = pseudo_random(200_000, 2);
    let config = br#"{"note": "a regular, non-LFS file"}"#.to_vec();
    let commit = hub
        .publish(
            "local/split",
            &[
                ("m-00001-of-00002.gguf", &one, true),
                ("deep/dir/m-00002-of-00002.gguf", &two, true),
                ("config.json", &config, false),
            ],
        )
        .await;
    let cache = tempfile::tempdir().unwrap();
    let spec = spec_with(
        "local/split",
        "m-00001-of-00002.gguf",
        Some(&one),
        &[],
        &[
            ("deep/dir/m-00002-of-00002.gguf", Some(&two)),
            ("config.json", None),
        ],
    );
    let fetched = fetch(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    let snap = repo_dir(cache.path(), "local/split")
        .join("snapshots")
        .join(&commit);
    assert_eq!(fetched.path, snap.join("m-00001-of-00002.gguf"));
    assert_eq!(
        fs::read(snap.join("deep/dir/m-00002-of-00002.gguf")).unwrap(),
        two
    );
    assert_eq!(
        fs::read_link(snap.join("deep/dir/m-00002-of-00002.gguf")).unwrap(),
        Path::new("../../../../blobs").join(sha256_hex(&two))
    );
    assert_eq!(fs::read(snap.join("config.json")).unwrap(), config);
    let kinds: Vec<_> = fetched.files.iter().map(|f| f.checked_against).collect();
    assert_eq!(kinds, ["registry sha256", "registry sha256", "size only"]);
    // The regular file's blob is named by its git blob id, as the Hub's ETag says.
    let git_id = hub_server::git_blob_id(&config);
    assert_eq!(
        fs::read_link(snap.join("config.json")).unwrap(),
        Path::new("../../blobs").join(git_id)
    );
}

#[test]
fn interrupted_download_resumes_in_a_new_process() {
    let hub = Hub::start();
    let data = pseudo_random(8 * MIB, 3);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(hub.publish("local/resume", &[("big.gguf", &data, true)]));
    let cache = tempfile::tempdir().unwrap();
    let get = || Match::any().method("GET").path_contains("/resolve/");
    // The first body is cut at half; the retry then hangs until the process is killed.
    hub.server
        .faults()
        .add(Fault::once(get(), Action::DropAfter(4 * MIB as u64)));
    hub.server
        .faults()
        .add(Fault::once(get(), Action::Stall(Duration::from_secs(120))));
    let mut child = cli()
        .args(pull_args(
            &hub.url(),
            cache.path(),
            "local/resume",
            "big.gguf",
            &data,
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while hub.server.faults().pending() > 0 {
        assert!(Instant::now() < deadline, "the CLI never retried");
        assert!(child.try_wait().unwrap().is_none(), "the CLI exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let sha = sha256_hex(&data);
    let blobs = repo_dir(cache.path(), "local/resume").join("blobs");
    let partial = blobs.join(format!("{sha}.ruvllm-partial"));
    let have = fs::metadata(&partial).unwrap().len();
    assert!(
        have > 0 && have <= 4 * MIB as u64,
        "partial has {have} bytes"
    );
    assert_eq!(fs::read(&partial).unwrap(), data[..have as usize]);
    assert!(!blobs.join(&sha).exists(), "an incomplete blob is visible");

    // A new process resumes through a recording proxy: one ranged request, the rest only.
    let proxy = Proxy::start(hub.server.addr());
    let out = cli()
        .args(pull_args(
            &proxy.url(),
            cache.path(),
            "local/resume",
            "big.gguf",
            &data,
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let path = stdout.lines().last().unwrap();
    assert_eq!(fs::read(path).unwrap(), data);
    assert!(
        stderr.contains(&format!("resumed at byte {have}")),
        "{stderr}"
    );
    let requests = proxy.requests();
    assert!(
        requests.contains(&format!("range: bytes={have}-")),
        "{requests}"
    );
    let rest = data.len() as u64 - have;
    let wire = proxy.downstream_bytes();
    assert!(
        wire >= rest && wire < rest + 64 * 1024,
        "{wire} bytes for the {rest} missing"
    );
    assert!(!partial.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_body_is_rejected_and_the_fallback_used_without_the_token() {
    let hub = Hub::start();
    let mirror = Hub::start();
    let data = pseudo_random(2 * MIB, 4);
    hub.publish("local/corrupt", &[("m.gguf", &data, true)])
        .await;
    mirror
        .publish("mirror/copy", &[("m.gguf", &data, true)])
        .await;
    let proxy = Proxy::start(mirror.server.addr());
    let fallback = format!("{}/mirror/copy/resolve/main/m.gguf", proxy.url());
    hub.server.faults().add(Fault::once(
        Match::any().method("GET").path_contains("/resolve/"),
        Action::CorruptBody,
    ));
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/corrupt", "m.gguf", &data, &[fallback]);
    // The fallback server shares the Hub's origin rules only by accident: same host, other
    // port. The client holds a token; it must not reach the fallback.
    let fetched = fetch(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    let file = &fetched.files[0];
    assert_eq!(file.source, Source::Fallback(0));
    assert_eq!(file.failed_sources.len(), 1);
    let why = &file.failed_sources[0];
    assert!(why.contains("sha256 mismatch"), "{why}");
    assert!(
        why.contains(&format!("expected {}", sha256_hex(&data))),
        "{why}"
    );
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    let requests = proxy.requests();
    assert!(
        requests.contains("get /mirror/copy/resolve/main/m.gguf"),
        "{requests}"
    );
    assert!(
        !requests.contains("authorization"),
        "token sent to the fallback: {requests}"
    );
    assert!(!requests.contains(TOKEN), "{requests}");
    assert_eq!(hub.server.stats().faults_fired, 1);
    assert!(
        !files_under(cache.path())
            .iter()
            .any(|f| f.contains("partial")),
        "{:?}",
        files_under(cache.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_body_without_a_fallback_leaves_nothing_in_the_cache() {
    let hub = Hub::start();
    let data = pseudo_random(MIB, 5);
    hub.publish("local/bad", &[("m.gguf", &data, true)]).await;
    hub.server.faults().add(Fault::once(
        Match::any().method("GET").path_contains("/resolve/"),
        Action::CorruptBody,
    ));
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/bad", "m.gguf", &data, &[]);
    let err = download(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap_err();
    assert!(err.is_integrity(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("expected {}, got ", sha256_hex(&data))),
        "{text}"
    );
    let files = files_under(cache.path());
    assert!(files.iter().all(|f| f.starts_with(".locks/")), "{files:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_serving_other_content_than_the_registry_is_refused() {
    let hub = Hub::start();
    let data = pseudo_random(100_000, 6);
    hub.publish("local/other", &[("m.gguf", &data, true)]).await;
    let cache = tempfile::tempdir().unwrap();
    let expected = pseudo_random(100_000, 7);
    let spec = spec("local/other", "m.gguf", &expected, &[]);
    let before = hub.server.stats().transfer_requests;
    let err = download(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&sha256_hex(&expected)) && text.contains(&sha256_hex(&data)),
        "{text}"
    );
    assert_eq!(
        hub.server.stats().transfer_requests,
        before + 1,
        "only the HEAD was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_burst_truncation_html_and_ignored_ranges_are_ridden_out() {
    let hub = Hub::start();
    let data = pseudo_random(3 * MIB, 8);
    hub.publish("local/flaky", &[("m.gguf", &data, true)]).await;
    let resolve = || Match::any().path_contains("/resolve/");
    let get = || Match::any().method("GET").path_contains("/resolve/");
    let faults = hub.server.faults();
    faults.add(Fault {
        when: resolve(),
        times: 3,
        action: Action::Status(503),
    });
    faults.add(Fault::once(get(), Action::Html200));
    faults.add(Fault::once(get(), Action::TruncateBody(1000)));
    faults.add(Fault::once(get(), Action::DropAfter(MIB as u64)));
    faults.add(Fault::once(get(), Action::IgnoreRange));
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/flaky", "m.gguf", &data, &[]);
    let fetched = fetch(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    assert_eq!(fetched.files[0].source, Source::Hub);
    assert!(fetched.files[0].failed_sources.is_empty());
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    assert_eq!(hub.server.stats().faults_fired, 7);
    assert_eq!(faults.pending(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_partial_file_is_detected_and_replaced() {
    let hub = Hub::start();
    let data = pseudo_random(MIB, 9);
    hub.publish("local/poison", &[("m.gguf", &data, true)])
        .await;
    let cache = tempfile::tempdir().unwrap();
    let sha = sha256_hex(&data);
    let blobs = repo_dir(cache.path(), "local/poison").join("blobs");
    fs::create_dir_all(&blobs).unwrap();
    // A partial whose prefix is wrong (left by something else, or a bad disk).
    fs::write(blobs.join(format!("{sha}.ruvllm-partial")), vec![0u8; 1000]).unwrap();
    let spec = spec("local/poison", "m.gguf", &data, &[]);
    let fetched = fetch(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    assert_eq!(
        fetched.files[0].resumed_from, 0,
        "the second round starts from zero"
    );
    assert_eq!(
        fetched.files[0].bytes_received,
        data.len() as u64 * 2 - 1000,
        "one resumed transfer, then one from zero"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_down_uses_the_fallback_then_offline_finds_it() {
    let hub = Hub::start();
    let mirror = Hub::start();
    let data = pseudo_random(MIB, 10);
    hub.publish("local/down", &[("m.gguf", &data, true)]).await;
    mirror
        .publish("mirror/down", &[("m.gguf", &data, true)])
        .await;
    hub.server.faults().add(Fault {
        when: Match::any(),
        times: 10_000,
        action: Action::Status(500),
    });
    let cache = tempfile::tempdir().unwrap();
    let spec = spec(
        "local/down",
        "m.gguf",
        &data,
        &[
            "http://insecure.example/m.gguf".to_owned(),
            mirror.resolve_url("mirror/missing", "m.gguf"),
            mirror.resolve_url("mirror/down", "m.gguf"),
        ],
    );
    let fetched = fetch(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    let file = &fetched.files[0];
    assert_eq!(file.source, Source::Fallback(2));
    let failures = file.failed_sources.join("\n");
    assert!(
        failures.contains("HTTP 500") || failures.contains("500"),
        "{failures}"
    );
    assert!(
        failures.contains("plain http is only allowed to loopback"),
        "{failures}"
    );
    assert!(failures.contains("fallback URL #2"), "{failures}");
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    // The commit is unknown (the Hub never answered), so no snapshot is invented.
    let repo = repo_dir(cache.path(), "local/down");
    assert_eq!(fetched.path, repo.join("ruvllm-fallback/main/m.gguf"));
    assert!(!repo.join("snapshots").exists());
    assert!(hub.server.stats().faults_fired >= 5, "the Hub was retried");

    let offline = DownloadOptions {
        offline: true,
        cache_dir: Some(cache.path().to_owned()),
        ..DownloadOptions::default()
    };
    let again = fetch(&spec, &offline).await.unwrap();
    assert_eq!(again.path, fetched.path);
    assert_eq!(again.files[0].source, Source::Cache);

    // Back online, the Hub's answer gives the file its snapshot without downloading it again.
    hub.server.faults().clear();
    let before = hub.server.stats().transfer_requests;
    let online = fetch(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    assert_eq!(online.files[0].source, Source::Cache);
    assert!(online.path.starts_with(repo.join("snapshots")));
    assert_eq!(
        hub.server.stats().transfer_requests,
        before + 1,
        "HEAD only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_mode_uses_the_cache_only() {
    let hub = Hub::start();
    let data = pseudo_random(500_000, 11);
    hub.publish("local/offline", &[("m.gguf", &data, true)])
        .await;
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/offline", "m.gguf", &data, &[]);
    let offline = DownloadOptions {
        offline: true,
        ..options(&hub.url(), cache.path())
    };
    let before = hub.server.stats();
    let err = download(&spec, &offline).await.unwrap_err();
    assert!(matches!(err, DownloadError::NotCached { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(spec.id), "{text}");
    assert!(text.contains(&cache.path().display().to_string()), "{text}");
    assert_eq!(hub.server.stats(), before);

    let path = download(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    let before = hub.server.stats();
    // A branch revision without a checksum: online this would ask the Hub, offline it trusts
    // refs/main.
    let unpinned = spec_with("local/offline", "m.gguf", None, &[], &[]);
    assert_eq!(download(&unpinned, &offline).await.unwrap(), path);
    assert_eq!(download(&spec, &offline).await.unwrap(), path);
    assert_eq!(hub.server.stats(), before);

    // The CLI: HF_HUB_OFFLINE=1 and an absent file give a clear error and exit status 1.
    let other = tempfile::tempdir().unwrap();
    let out = cli()
        .args(pull_args(
            &hub.url(),
            other.path(),
            "local/offline",
            "m.gguf",
            &data,
        ))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("offline mode is on"), "{stderr}");
    assert_eq!(hub.server.stats(), before);
}

#[test]
fn two_processes_downloading_the_same_file_end_with_one_correct_blob() {
    let hub = Hub::start();
    let data = pseudo_random(6 * MIB, 12);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(hub.publish("local/race", &[("m.gguf", &data, true)]));
    let cache = tempfile::tempdir().unwrap();
    // The first body waits a moment, so the second process arrives while the first holds
    // the blob's lock.
    hub.server.faults().add(Fault::once(
        Match::any().method("GET").path_contains("/resolve/"),
        Action::Stall(Duration::from_millis(1500)),
    ));
    let before = hub.server.stats().transfer_requests;
    let args = pull_args(&hub.url(), cache.path(), "local/race", "m.gguf", &data);
    let children: Vec<_> = (0..2)
        .map(|_| {
            let child = cli()
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(300));
            child
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut paths = Vec::new();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        paths.push(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(paths[0], paths[1]);
    assert_eq!(fs::read(&paths[0]).unwrap(), data);
    let froms: Vec<String> = outputs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
        .collect();
    assert!(
        froms.iter().filter(|s| s.contains("from the Hub")).count() == 1
            && froms
                .iter()
                .filter(|s| s.contains("from the cache"))
                .count()
                == 1,
        "{froms:?}"
    );
    // Two HEADs and a single GET of the body.
    assert_eq!(hub.server.stats().transfer_requests, before + 3);
    let sha = sha256_hex(&data);
    let blobs: Vec<_> = files_under(cache.path())
        .into_iter()
        .filter(|f| f.contains("/blobs/"))
        .collect();
    assert_eq!(blobs, vec![format!("models--local--race/blobs/{sha}")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tasks_downloading_the_same_file_share_one_transfer() {
    let hub = Hub::start();
    let data = pseudo_random(4 * MIB, 13);
    hub.publish("local/tasks", &[("m.gguf", &data, true)]).await;
    hub.server.faults().add(Fault::once(
        Match::any().method("GET").path_contains("/resolve/"),
        Action::Stall(Duration::from_millis(800)),
    ));
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/tasks", "m.gguf", &data, &[]);
    let opts = options(&hub.url(), cache.path());
    let before = hub.server.stats().transfer_requests;
    let (a, b) = tokio::join!(fetch(&spec, &opts), fetch(&spec, &opts));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.path, b.path);
    let mut sources = [a.files[0].source, b.files[0].source];
    sources.sort_by_key(|s| format!("{s}"));
    assert_eq!(sources, [Source::Hub, Source::Cache]);
    assert_eq!(fs::read(&a.path).unwrap(), data);
    assert_eq!(hub.server.stats().transfer_requests, before + 3);
}

/// Runs `hf_hub_download` of the official client in `mode` against the server, with the
/// cache at `cache`.
fn python_download(
    mode: HubTransfer,
    endpoint: &str,
    cache: &Path,
    repo: &str,
    file: &str,
) -> String {
    let script = "import sys\nfrom huggingface_hub import hf_hub_download\n\
                  print(hf_hub_download(repo_id=sys.argv[1], filename=sys.argv[2]))\n";
    let home = tempfile::tempdir().unwrap();
    let out = Python::find()
        .snippet(script)
        .args([repo, file])
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_CACHE", cache)
        .env("HF_HOME", home.path())
        .hub_transfer(mode, home.path())
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("HF_TOKEN", TOKEN)
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HUGGINGFACE_CO_STAGING")
        .run();
    out.stdout.lines().last().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huggingface_hub_reuses_our_download_and_we_reuse_its() {
    // Both kinds of official client: through Xet and through LFS.
    for mode in HubTransfer::BOTH {
        huggingface_hub_reuses_our_download_and_we_reuse_its_in(mode).await;
    }
}

async fn huggingface_hub_reuses_our_download_and_we_reuse_its_in(mode: HubTransfer) {
    // The server speaks Xet when the client does, so that both download through it.
    let hub = Hub::start_with(|c| c.xet = mode == HubTransfer::Xet);
    let data = pseudo_random(3 * MIB, 14);
    let other = pseudo_random(MIB, 15);
    hub.publish(
        "local/shared",
        &[("m.gguf", &data, true), ("n.gguf", &other, true)],
    )
    .await;

    // Ours first: Python finds the file and only sends its HEAD.
    let cache = tempfile::tempdir().unwrap();
    let spec_m = spec("local/shared", "m.gguf", &data, &[]);
    let ours = download(&spec_m, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    let before = hub.server.stats().transfer_requests;
    let (url, dir) = (hub.url(), cache.path().to_owned());
    let theirs = tokio::task::spawn_blocking(move || {
        python_download(mode, &url, &dir, "local/shared", "m.gguf")
    })
    .await
    .unwrap();
    assert_eq!(Path::new(&theirs), ours);
    assert_eq!(
        hub.server.stats().transfer_requests,
        before + 1,
        "Python downloaded the body again"
    );

    // Python's first: we take it from the cache without any request, then verify it fully.
    let (url, dir) = (hub.url(), cache.path().to_owned());
    let theirs = tokio::task::spawn_blocking(move || {
        python_download(mode, &url, &dir, "local/shared", "n.gguf")
    })
    .await
    .unwrap();
    let before = hub.server.stats();
    let spec_n = spec("local/shared", "n.gguf", &other, &[]);
    let fetched = fetch(&spec_n, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    assert_eq!(fetched.path, Path::new(&theirs));
    assert_eq!(fetched.files[0].source, Source::Cache);
    assert_eq!(hub.server.stats(), before);
    // Without a registry checksum the Hub's HEAD is needed, but not the body.
    let unpinned = spec_with("local/shared", "n.gguf", None, &[], &[]);
    let fetched = fetch(&unpinned, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    assert_eq!(fetched.files[0].source, Source::Cache);
    assert_eq!(fetched.files[0].checked_against, "hub sha256");
    assert_eq!(
        hub.server.stats().transfer_requests,
        before.transfer_requests + 1
    );
    // The shared cache still scans cleanly for huggingface_hub.
    let text = Python::find()
        .snippet(
            "import sys\nfrom huggingface_hub import scan_cache_dir\n\
             info = scan_cache_dir(sys.argv[1])\n\
             print(len(info.repos), len(info.warnings))\n\
             [print(r.repo_id, r.nb_files) for r in info.repos]",
        )
        .arg(cache.path())
        .run()
        .stdout;
    assert!(text.starts_with("1 0\nlocal/shared 2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_answer_times_out_and_is_retried() {
    let hub = Hub::start();
    let data = pseudo_random(MIB, 16);
    hub.publish("local/stall", &[("m.gguf", &data, true)]).await;
    // Longer than the test client's 3 s read timeout.
    hub.server.faults().add(Fault::once(
        Match::any().method("GET").path_contains("/resolve/"),
        Action::Stall(Duration::from_secs(8)),
    ));
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/stall", "m.gguf", &data, &[]);
    let fetched = fetch(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    assert_eq!(fetched.files[0].source, Source::Hub);
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    assert_eq!(hub.server.stats().faults_fired, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_within_the_limit_and_fails_fast_beyond_it() {
    let hub = Hub::start();
    let data = pseudo_random(MIB, 17);
    hub.publish("local/limited", &[("m.gguf", &data, true)])
        .await;
    let resolve = || Match::any().path_contains("/resolve/");
    hub.server
        .faults()
        .add(Fault::once(resolve(), Action::StatusRetryAfter(429, 1)));
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/limited", "m.gguf", &data, &[]);
    let fetched = fetch(&spec, &options(&hub.url(), cache.path()))
        .await
        .unwrap();
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    assert_eq!(hub.server.stats().faults_fired, 1);

    // An hour is beyond the policy's limit: no waiting, a clear error, nothing cached.
    let other = tempfile::tempdir().unwrap();
    hub.server
        .faults()
        .add(Fault::once(resolve(), Action::StatusRetryAfter(429, 3600)));
    let err = download(&spec, &options(&hub.url(), other.path()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("asked to wait 3600 s"), "{text}");
    assert!(
        !other
            .path()
            .join("models--local--limited/snapshots")
            .exists()
    );
}

#[test]
fn trace_logs_never_show_the_token_or_presigned_queries() {
    let hub = Hub::start_with(|c| c.lfs_redirect = true);
    let data = pseudo_random(300_000, 18);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(hub.publish("local/secret", &[("m.gguf", &data, true)]));
    // One failed body first, so error paths log too.
    hub.server.faults().add(Fault::once(
        Match::any().method("GET").path_contains("/lfs-cdn/"),
        Action::DropAfter(1000),
    ));
    let cache = tempfile::tempdir().unwrap();
    let out = cli()
        .args(pull_args(
            &hub.url(),
            cache.path(),
            "local/secret",
            "m.gguf",
            &data,
        ))
        .env("HF_TOKEN", TOKEN)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("lfs-cdn"),
        "the trace shows no CDN request: {text}"
    );
    assert!(!text.contains(TOKEN), "the token leaked");
    assert!(!text.contains("signature="), "a presigned query leaked");
    assert!(!hub.server.stats().auth_on_presigned);
    assert_eq!(hub.server.stats().faults_fired, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_paths_in_a_spec_are_refused_before_touching_the_disk() {
    let cache = tempfile::tempdir().unwrap();
    let root = cache.path().join("hub");
    // Nothing listens there: a refused spec must not even try the network.
    let opts = options("http://127.0.0.1:9", &root);
    let long = "x".repeat(300);
    for file in [
        "../evil.gguf",
        "/etc/passwd",
        "a\\b.gguf",
        "C:/x.gguf",
        "a/../../b.gguf",
        "nul\0.gguf",
        "bell\u{7}.gguf",
        "a//b.gguf",
        long.as_str(),
    ] {
        let main = spec_with("local/x", file, None, &[], &[]);
        let err = download(&main, &opts).await.unwrap_err();
        assert!(
            matches!(err, DownloadError::InvalidSpec { .. }),
            "{file:?}: {err}"
        );
        let extra = spec_with("local/x", "ok.gguf", None, &[], &[(file, None)]);
        let err = download(&extra, &opts).await.unwrap_err();
        assert!(
            matches!(err, DownloadError::InvalidSpec { .. }),
            "{file:?}: {err}"
        );
    }
    for repo in ["../x", "a/b/c", "/abs", "a/.."] {
        let bad = spec_with(repo, "m.gguf", None, &[], &[]);
        let err = download(&bad, &opts).await.unwrap_err();
        assert!(
            matches!(err, DownloadError::InvalidSpec { .. }),
            "{repo:?}: {err}"
        );
    }
    for revision in ["../main", "refs//x", "a b", "x\0"] {
        let ok = spec_with("local/x", "m.gguf", None, &[], &[]);
        let opts = DownloadOptions {
            revision: Some(revision.to_owned()),
            ..opts.clone()
        };
        let err = download(&ok, &opts).await.unwrap_err();
        assert!(
            matches!(err, DownloadError::InvalidSpec { .. }),
            "{revision:?}: {err}"
        );
    }
    assert!(!root.exists(), "the cache was touched");
}

#[test]
fn the_blocking_api_works_outside_a_runtime_only() {
    let hub = Hub::start();
    let data = pseudo_random(200_000, 19);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(hub.publish("local/blocking", &[("m.gguf", &data, true)]));
    let cache = tempfile::tempdir().unwrap();
    let spec = spec("local/blocking", "m.gguf", &data, &[]);
    let opts = options(&hub.url(), cache.path());
    let path = ruvllm::hub::download::download_blocking(&spec, &opts).unwrap();
    assert_eq!(fs::read(&path).unwrap(), data);
    let inside = runtime.block_on(async { ruvllm::hub::download::download_blocking(&spec, &opts) });
    let err = inside.unwrap_err();
    assert!(matches!(err, DownloadError::Runtime(_)), "{err}");
    assert!(err.to_string().contains("await download()"), "{err}");
}
