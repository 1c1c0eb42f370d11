//! Downloads through Xet against the local server's CAS: byte-exact files through the Xet
//! path (what the official client uploads included), delta updates that copy the terms an
//! older revision in the cache shares, resumes, and the faults the path must ride out
//! (corrupted xorb ranges, 5xx and 429, an expired token, a server without Xet), each ending
//! in a verified file, through Xet or through the plain `GET`.

mod support;

use std::fs;
use std::path::Path;

use dev_python::Python;
use hub_server::{Action, Fault, Match};
use ruvllm::hub::download::{FetchedFile, Source, XetReport, fetch};
use ruvltra_gguf::writer::{DataFill, SampleModel};
use support::*;
use test_support::{TOKEN, files_under, pseudo_random, sha256_hex};

const MIB: usize = 1024 * 1024;

/// A Hub that speaks Xet (the support module's default is a server that predates it).
fn xet_hub() -> Hub {
    Hub::start_with(|c| c.xet = true)
}

fn xorb_gets() -> Match {
    Match::any().method("GET").path_contains("/xet-xorb/")
}

fn reconstructions() -> Match {
    Match::any().path_contains("/v1/reconstructions/")
}

fn blob_path(cache: &Path, repo: &str, bytes: &[u8]) -> std::path::PathBuf {
    cache
        .join(format!("models--{}", repo.replace('/', "--")))
        .join("blobs")
        .join(sha256_hex(bytes))
}

/// The Xet report of a file that must have come through Xet.
fn through_xet(file: &FetchedFile) -> &XetReport {
    let xet = file.xet.as_ref().expect("the Hub offered Xet");
    assert!(xet.used, "Xet was given up: {:?}", xet.failure);
    assert_eq!(xet.failure, None);
    assert_eq!(file.source, Source::Hub);
    assert_eq!(
        file.bytes_received, xet.fetched_bytes,
        "nothing but xorb ranges was received"
    );
    xet
}

/// A GGUF from the sample writer: the header of a Q4_K_M model of about `n_params` weights
/// with `name` as `general.name`, and tensor data that looks like real weights (pseudo-random
/// bytes, the same for the same `n_params`; the writer's own fills repeat every 256 bytes,
/// which gives a chunker nothing to cut at).
fn sample_gguf(n_params: u64, name: &str) -> Vec<u8> {
    let mut model = SampleModel::new("qwen2", 15, n_params);
    model.name = name.to_owned();
    let writer = model.build().unwrap();
    let layout = writer.layout().unwrap();
    let mut out = writer.header_bytes().unwrap();
    assert_eq!(out.len() as u64, layout.data_offset);
    out.extend(pseudo_random(
        (layout.file_len - layout.data_offset) as usize,
        n_params,
    ));
    out
}

/// The writer's own pattern-filled GGUF.
fn pattern_gguf(n_params: u64) -> Vec<u8> {
    let mut model = SampleModel::new("qwen2", 15, n_params);
    model.fill = DataFill::Pattern;
    let mut out = Vec::new();
    model.build().unwrap().write_to(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_stored_in_xet_comes_through_xet_byte_exact() {
    let hub = xet_hub();
    let data = pseudo_random(3 * MIB + 12_345, 1);
    // Its chunks are all 128 KiB cuts, and one of them repeats inside the file.
    let gguf = pattern_gguf(16_000_000);
    let commit = hub
        .publish(
            "local/xet",
            &[("m.gguf", &data, true), ("small.gguf", &gguf, true)],
        )
        .await;
    let cache = tempfile::tempdir().unwrap();
    for (file, bytes) in [("m.gguf", &data), ("small.gguf", &gguf)] {
        let before = hub.server.stats();
        let fetched = fetch(
            &spec("local/xet", file, bytes, &[]),
            &options(&hub.url(), cache.path()),
        )
        .await
        .unwrap();
        let f = &fetched.files[0];
        let xet = through_xet(f);
        assert_eq!(f.commit.as_deref(), Some(commit.as_str()));
        assert_eq!(f.checked_against, "registry sha256");
        assert_eq!(xet.terms_copied, 0);
        assert_eq!((xet.copied_bytes, xet.copied_from.as_deref()), (0, None));
        let stats = hub.server.stats();
        assert_eq!(
            stats.xorb_download_bytes - before.xorb_download_bytes,
            xet.fetched_bytes
        );
        assert!(stats.reconstructions > before.reconstructions);
        // Each chunk is fetched once (with its 8-byte header), the repeated one included.
        assert!(
            xet.fetched_bytes <= bytes.len() as u64 + bytes.len() as u64 / 1000 + 64,
            "{file}: {xet:?}"
        );
        // The Hugging Face layout: the blob by sha256, the snapshot link to it.
        assert_eq!(fs::read(&fetched.path).unwrap(), **bytes);
        assert_eq!(
            fs::canonicalize(&fetched.path).unwrap(),
            fs::canonicalize(blob_path(cache.path(), "local/xet", bytes)).unwrap()
        );
    }
    // The pattern-filled GGUF compresses: fewer bytes moved than the file holds.
    let again = fetch(
        &spec("local/xet", "small.gguf", &gguf, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    assert_eq!(again.files[0].source, Source::Cache);
    assert!(
        !files_under(cache.path())
            .iter()
            .any(|p| p.contains("partial"))
    );
    // The xorb URLs are on the Hub's own origin here, and still get no token.
    assert!(!hub.server.stats().auth_on_presigned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_xet_gets_the_plain_get_without_an_error() {
    let hub = Hub::start_with(|c| c.xet = false);
    let data = pseudo_random(2 * MIB, 2);
    hub.publish("local/plain", &[("m.gguf", &data, true)]).await;
    let cache = tempfile::tempdir().unwrap();
    let fetched = fetch(
        &spec("local/plain", "m.gguf", &data, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    let f = &fetched.files[0];
    assert_eq!(f.xet, None, "no Xet without X-Xet-Hash");
    assert_eq!(
        (f.source, f.bytes_received),
        (Source::Hub, data.len() as u64)
    );
    assert!(f.failed_sources.is_empty());
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    assert_eq!(hub.server.stats().reconstructions, 0);

    // A client told not to use Xet takes the plain GET from a server that offers it.
    let hub = xet_hub();
    hub.publish("local/plain", &[("m.gguf", &data, true)]).await;
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(&hub.url(), cache.path());
    opts.disable_xet = true;
    let fetched = fetch(&spec("local/plain", "m.gguf", &data, &[]), &opts)
        .await
        .unwrap();
    assert_eq!(fetched.files[0].xet, None);
    assert_eq!(hub.server.stats().reconstructions, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_copies_what_the_cached_revision_shares() {
    let hub = xet_hub();
    let repo = "local/update";
    // Pseudo-random data, so every chunk is its own: an insert near the start and a change
    // in the middle leave most chunks as they were.
    let v1 = pseudo_random(6 * MIB, 3);
    let mut v2 = v1.clone();
    v2.splice(1000..1000, b"a header edit".iter().copied());
    v2[3 * MIB..3 * MIB + 100].fill(7);
    let c1 = hub.publish(repo, &[("m.gguf", &v1, true)]).await;
    let cache = tempfile::tempdir().unwrap();
    let first = fetch(
        &spec(repo, "m.gguf", &v1, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    through_xet(&first.files[0]);

    let c2 = hub.publish(repo, &[("m.gguf", &v2, true)]).await;
    let before = hub.server.stats();
    let second = fetch(
        &spec(repo, "m.gguf", &v2, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    let f = &second.files[0];
    let xet = through_xet(f);
    assert_eq!(f.commit.as_deref(), Some(c2.as_str()));
    assert_eq!(fs::read(&second.path).unwrap(), v2);
    assert_eq!(xet.copied_from.as_deref(), Some(c1.as_str()));
    assert!(
        xet.terms_copied > 0 && xet.terms_copied < xet.terms,
        "{xet:?}"
    );
    // Two edits change two or three chunks of at most 128 KiB each.
    assert!(xet.fetched_bytes <= 3 * 128 * 1024 + 1024, "{xet:?}");
    assert!(
        xet.copied_bytes >= v2.len() as u64 - 3 * 128 * 1024,
        "{xet:?}"
    );
    let stats = hub.server.stats();
    assert_eq!(
        stats.xorb_download_bytes - before.xorb_download_bytes,
        xet.fetched_bytes
    );
    // The older revision is untouched and still served from the cache.
    let old = fetch(
        &spec(repo, "m.gguf", &v1, &[]),
        &ruvllm::hub::download::DownloadOptions {
            revision: Some(c1.clone()),
            ..options(&hub.url(), cache.path())
        },
    )
    .await
    .unwrap();
    assert_eq!(old.files[0].source, Source::Cache);
    assert_eq!(fs::read(&old.path).unwrap(), v1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gguf_header_edit_fetches_under_one_percent_of_the_file() {
    let hub = xet_hub();
    let repo = "local/gguf-update";
    let v1 = sample_gguf(16_000_000, "RuvLTRA Sample");
    let v2 = sample_gguf(
        16_000_000,
        "RuvLTRA Sample, with a longer name after an edit",
    );
    assert_ne!(
        v1.len(),
        v2.len(),
        "the edit shifts every byte after the header"
    );
    hub.publish(repo, &[("model-q4_k_m.gguf", &v1, true)]).await;
    let cache = tempfile::tempdir().unwrap();
    let opts = options(&hub.url(), cache.path());
    let first = fetch(&spec(repo, "model-q4_k_m.gguf", &v1, &[]), &opts)
        .await
        .unwrap();
    let cold = through_xet(&first.files[0]).clone();

    hub.publish(repo, &[("model-q4_k_m.gguf", &v2, true)]).await;
    let second = fetch(&spec(repo, "model-q4_k_m.gguf", &v2, &[]), &opts)
        .await
        .unwrap();
    let update = through_xet(&second.files[0]);
    assert_eq!(fs::read(&second.path).unwrap(), v2);
    let share = update.fetched_bytes as f64 / v2.len() as f64;
    println!(
        "GGUF of {} bytes: cold download fetched {} bytes; after a header edit the update fetched {} bytes ({:.3}% of the file) and copied {} bytes from the cached revision ({} of {} terms)",
        v2.len(),
        cold.fetched_bytes,
        update.fetched_bytes,
        share * 100.0,
        update.copied_bytes,
        update.terms_copied,
        update.terms
    );
    assert!(share <= 0.01, "{update:?}");
    assert!(
        update.copied_bytes >= v2.len() as u64 * 98 / 100,
        "{update:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_xorb_range_is_fetched_again_then_left_to_the_plain_get() {
    let hub = xet_hub();
    let data = pseudo_random(3 * MIB, 4);
    hub.publish("local/corrupt", &[("m.gguf", &data, true)])
        .await;

    // Once: the term check sees it, the range is fetched again, Xet succeeds.
    hub.server
        .faults()
        .add(Fault::once(xorb_gets(), Action::CorruptBody));
    let cache = tempfile::tempdir().unwrap();
    let fetched = fetch(
        &spec("local/corrupt", "m.gguf", &data, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    let xet = through_xet(&fetched.files[0]);
    assert!(xet.refetches >= 1, "{xet:?}");
    assert_eq!(fs::read(&fetched.path).unwrap(), data);

    // Every time: Xet is given up and the plain GET brings the verified file.
    hub.server
        .faults()
        .add(Fault::new(xorb_gets(), 1000, Action::CorruptBody));
    let cache = tempfile::tempdir().unwrap();
    let fetched = fetch(
        &spec("local/corrupt", "m.gguf", &data, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    let f = &fetched.files[0];
    let xet = f.xet.as_ref().unwrap();
    assert!(!xet.used);
    let why = xet.failure.as_deref().unwrap();
    assert!(why.contains("does not decode"), "{why}");
    assert_eq!(f.source, Source::Hub);
    assert_eq!(f.bytes_received, xet.fetched_bytes + data.len() as u64);
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    assert!(
        !files_under(cache.path())
            .iter()
            .any(|p| p.contains("partial"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cas_5xx_429_and_an_expired_token_are_ridden_out() {
    let hub = xet_hub();
    let data = pseudo_random(2 * MIB, 5);
    hub.publish("local/flaky", &[("m.gguf", &data, true)]).await;
    let faults = hub.server.faults();
    faults.add(Fault::once(reconstructions(), Action::ExpireToken));
    faults.add(Fault::new(reconstructions(), 2, Action::Status(503)));
    faults.add(Fault::once(
        reconstructions(),
        Action::StatusRetryAfter(429, 1),
    ));
    faults.add(Fault::new(xorb_gets(), 2, Action::Status(500)));
    faults.add(Fault::once(xorb_gets(), Action::StatusRetryAfter(429, 1)));
    faults.add(Fault::once(xorb_gets(), Action::DropAfter(100_000)));
    let before = hub.server.stats().faults_fired;
    let cache = tempfile::tempdir().unwrap();
    let fetched = fetch(
        &spec("local/flaky", "m.gguf", &data, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    through_xet(&fetched.files[0]);
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
    assert_eq!(hub.server.stats().faults_fired - before, 8);

    // A CAS that keeps failing: the plain GET, with the reason kept.
    faults.add(Fault::new(reconstructions(), 1000, Action::Status(503)));
    let cache = tempfile::tempdir().unwrap();
    let fetched = fetch(
        &spec("local/flaky", "m.gguf", &data, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    let xet = fetched.files[0].xet.as_ref().unwrap();
    assert!(!xet.used);
    assert!(xet.failure.as_deref().unwrap().contains("503"), "{xet:?}");
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_download_is_resumed_through_xet() {
    let hub = xet_hub();
    let data = pseudo_random(3 * MIB, 6);
    hub.publish("local/resume", &[("m.gguf", &data, true)])
        .await;
    let cache = tempfile::tempdir().unwrap();
    // What an interrupted download leaves: a prefix in the partial file.
    let blob = blob_path(cache.path(), "local/resume", &data);
    fs::create_dir_all(blob.parent().unwrap()).unwrap();
    let prefix = MIB + 4321;
    // The server answers a ranged reconstruction with whole terms, so the first term is
    // fetched from its start and the bytes before the resume point are dropped.
    let mut partial = blob.clone().into_os_string();
    partial.push(".ruvllm-partial");
    fs::write(&partial, &data[..prefix]).unwrap();

    let fetched = fetch(
        &spec("local/resume", "m.gguf", &data, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    let f = &fetched.files[0];
    let xet = through_xet(f);
    assert_eq!(f.resumed_from, prefix as u64);
    assert!(xet.fetched_bytes <= data.len() as u64 + 1024, "{xet:?}");
    assert_eq!(fs::read(&fetched.path).unwrap(), data);
}

/// Uploads `file` as `path` to `repo` with the official client through Xet, its chunk cache
/// in `xet_cache` (kept between uploads, as on a maintainer's machine).
fn python_xet_upload(endpoint: &str, xet_cache: &Path, repo: &str, file: &Path, path: &str) {
    let script = "import sys\nfrom huggingface_hub import HfApi\n\
                  api = HfApi()\n\
                  api.create_repo(sys.argv[1], exist_ok=True)\n\
                  api.upload_file(path_or_fileobj=sys.argv[2], path_in_repo=sys.argv[3], repo_id=sys.argv[1])\n";
    let home = tempfile::tempdir().unwrap();
    Python::find()
        .snippet(script)
        .args([repo, &file.to_string_lossy(), path])
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", home.path())
        .env("HF_XET_CACHE", xet_cache)
        .env("HF_XET_TELEMETRY_ENABLED", "0")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("HF_TOKEN", TOKEN)
        .env_remove("HF_HUB_DISABLE_XET")
        .env_remove("HF_HUB_OFFLINE")
        .run();
}

/// Uploads with the official client and checks that it went through Xet, not LFS.
async fn upload_through_xet(hub: &Hub, xet_cache: &Path, repo: &str, path: &str, bytes: &[u8]) {
    let local = hub.dir.path().join(format!("official-{path}"));
    fs::write(&local, bytes).unwrap();
    let before = hub.server.stats();
    let (url, cache, repo, path) = (
        hub.url(),
        xet_cache.to_owned(),
        repo.to_owned(),
        path.to_owned(),
    );
    tokio::task::spawn_blocking(move || python_xet_upload(&url, &cache, &repo, &local, &path))
        .await
        .unwrap();
    let after = hub.server.stats();
    assert!(
        after.shards_inserted > before.shards_inserted,
        "the official client did not upload through Xet"
    );
    assert_eq!(after.basic_uploads, before.basic_uploads, "an LFS upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_official_client_uploads_comes_down_through_xet_and_updates_by_delta() {
    let hub = xet_hub();
    let repo = "local/official";
    let xet_cache = tempfile::tempdir().unwrap();
    let v1 = sample_gguf(16_000_000, "Uploaded by hf_xet");
    let random = pseudo_random(2 * MIB + 777, 7);
    upload_through_xet(&hub, xet_cache.path(), repo, "model-q4_k_m.gguf", &v1).await;
    upload_through_xet(&hub, xet_cache.path(), repo, "extra.bin", &random).await;

    // `ruvllm pull`, as a user runs it.
    let cache = tempfile::tempdir().unwrap();
    let out = cli()
        .args(pull_args(
            &hub.url(),
            cache.path(),
            repo,
            "model-q4_k_m.gguf",
            &v1,
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("through Xet:"), "{stderr}");
    assert!(!stderr.contains("failed"), "{stderr}");
    let path = String::from_utf8(out.stdout).unwrap();
    assert_eq!(fs::read(path.lines().last().unwrap()).unwrap(), v1);
    let fetched = fetch(
        &spec(repo, "extra.bin", &random, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    through_xet(&fetched.files[0]);
    assert_eq!(fs::read(&fetched.path).unwrap(), random);

    // The maintainer edits the header and publishes again with the official client (which
    // sends the changed chunk only); the update copies the rest from the cached revision.
    let v2 = sample_gguf(16_000_000, "Uploaded by hf_xet, then renamed");
    upload_through_xet(&hub, xet_cache.path(), repo, "model-q4_k_m.gguf", &v2).await;
    let fetched = fetch(
        &spec(repo, "model-q4_k_m.gguf", &v2, &[]),
        &options(&hub.url(), cache.path()),
    )
    .await
    .unwrap();
    let xet = through_xet(&fetched.files[0]);
    assert_eq!(fs::read(&fetched.path).unwrap(), v2);
    println!(
        "hf_xet upload, ruvllm update of a {}-byte GGUF: fetched {} bytes ({:.3}%), copied {} ({} of {} terms)",
        v2.len(),
        xet.fetched_bytes,
        xet.fetched_bytes as f64 * 100.0 / v2.len() as f64,
        xet.copied_bytes,
        xet.terms_copied,
        xet.terms
    );
    assert!(xet.fetched_bytes * 100 <= v2.len() as u64, "{xet:?}");
}
