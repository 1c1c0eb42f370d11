//! Publishing through Xet against the local Hub's CAS: the figures of a first publish and of
//! a re-publish after a GGUF metadata edit, dedup inside a publish, the local index (used,
//! invalidated when the CAS does not back it, and carrying xorbs of an interrupted publish),
//! every CAS fault the server injects (bursts, 429, a lost shard answer, an expired token),
//! a server without Xet, and the official client downloading the result through Xet.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use dev_python::{HubTransfer, Python};
use hub_client::{Endpoint, HubClient, RetryPolicy, Token};
use hub_server::{Action, Fault, Match};
use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::Quant;
use ruvltra_uploader::{
    ModelUploader, PublishOptions, PublishReport, RepoReport, Transfer, UploadError,
};

const A: Spec = Spec::new("small", "0.5b", Quant::Q8_0);
const B: Spec = Spec::new("small", "0.5b", Quant::Q4_K_M);

/// Writes a valid GGUF of `quant` named `name` whose tensor data is `n_params` worth of
/// pseudo-random bytes from `seed`: what real weights look like to a chunker (incompressible,
/// no repeats). The same seed gives the same data whatever the header, so a metadata edit
/// only moves it.
fn write_gguf(path: &Path, quant: Quant, name: &str, seed: u64, n_params: u64) -> u64 {
    let mut sample = SampleModel::new("qwen2", quant.file_type(), n_params);
    sample.name = name.to_owned();
    let writer = sample.build().unwrap();
    let layout = writer.layout().unwrap();
    let header = writer.header_bytes().unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    file.write_all(&header).unwrap();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut left = layout.file_len - header.len() as u64;
    let mut block = vec![0u8; 1 << 16];
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    file.flush().unwrap();
    layout.file_len
}

/// A client whose retries are quick, so that fault tests do not wait for long backoffs.
fn quick_client(fx: &Fixture) -> HubClient {
    HubClient::builder()
        .endpoint(Endpoint::parse(&fx.server.url()).unwrap())
        .token(Token::new(TOKEN))
        .retry_policy(RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        })
        .build()
        .unwrap()
}

/// An uploader in `auto` mode with its local index under `cache`.
fn xet_uploader(fx: &Fixture, cache: &Path) -> ModelUploader {
    ModelUploader::with_client(quick_client(fx))
        .transfer(Transfer::Auto)
        .xet_cache(Some(cache.to_owned()))
}

async fn publish(up: &ModelUploader, fx: &Fixture, specs: &[Spec]) -> PublishReport {
    let reg = registry(specs);
    let report = up
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    report
}

fn repo_report(report: &PublishReport) -> &RepoReport {
    &report.repos[0]
}

/// Bytes on the wire of a Xet upload: xorbs and shards.
fn wire_bytes(repo: &RepoReport) -> u64 {
    let x = repo.xet.as_ref().expect("a Xet upload");
    x.xorb_bytes + x.shard_bytes
}

fn percent(part: u64, whole: u64) -> f64 {
    100.0 * part as f64 / whole as f64
}

fn fault(method: &str, path: &str, action: Action, times: u32) -> Fault {
    Fault {
        when: Match::any().method(method).path_contains(path),
        times,
        action,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_publish_goes_through_xet_and_the_official_client_downloads_it() {
    let python = Python::with_modules(&["huggingface_hub", "hf_xet"]);
    let fx = Fixture::new();
    let cache = fx.dir.path().join("xet-cache");
    let a = fx.files.join(A.file());
    let b = fx.files.join(B.file());
    let total =
        write_gguf(&a, A.quant, "A", 1, 2_000_000) + write_gguf(&b, B.quant, "B", 2, 3_000_000);
    let report = publish(&xet_uploader(&fx, &cache), &fx, &[A, B]).await;
    let repo = repo_report(&report);
    assert_eq!(repo.transfer, Some(Transfer::Xet));
    let xet = repo.xet.as_ref().unwrap();
    let stats = fx.stats();
    // Random data: every chunk is new, each goes once, in xorbs the CAS stores as sent.
    assert_eq!(repo.bytes_sent, total);
    assert_eq!(stats.xorbs_inserted, xet.xorbs_sent);
    assert_eq!(stats.xorb_upload_bytes, xet.xorb_bytes);
    assert_eq!((stats.shards_inserted, xet.shards_sent), (1, 1));
    assert_eq!(stats.upload_bytes, 0, "no byte went the LFS way");
    assert_eq!(stats.commits, 1);
    assert!(xet.local_index && xet.dedup_queries >= 2, "{xet:?}");
    for path in [A.file(), B.file()] {
        let entry = repo.plan.iter().find(|e| e.path == path).unwrap();
        let figures = entry.xet.as_ref().unwrap();
        assert_eq!(figures.new_bytes, figures.bytes, "{figures:?}");
        assert_eq!(figures.new_bytes, entry.size.unwrap());
        assert_eq!(entry.result, Some("uploaded"));
        eprintln!("{path}: {figures:?}");
    }
    // The local index now names every xorb sent.
    let records = walk(&cache)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xorb"))
        .count();
    assert_eq!(records as u64, xet.xorbs_sent);

    // The official client, through Xet, downloads the same bytes.
    let scratch = tempfile::tempdir().unwrap();
    let out = python
        .snippet(DOWNLOAD)
        .arg(REPO)
        .arg(A.file())
        .arg(B.file())
        .hub_transfer(HubTransfer::Xet, scratch.path())
        .env("HF_ENDPOINT", fx.server.url())
        .env("HF_TOKEN", TOKEN)
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HOME", scratch.path().join("hf-home"))
        .run();
    let hashes: std::collections::BTreeMap<String, String> =
        serde_json::from_str(out.stdout.trim()).unwrap();
    for entry in repo.plan.iter().filter(|e| e.path.ends_with(".gguf")) {
        assert_eq!(
            Some(&hashes[&entry.path]),
            entry.sha256.as_ref(),
            "{}",
            entry.path
        );
    }
    let after = fx.stats();
    assert!(after.reconstructions >= 2, "{after:?}");
    assert!(after.xorb_download_bytes >= total, "{after:?}");
}

const DOWNLOAD: &str = r#"
import hashlib, json, sys
from huggingface_hub import hf_hub_download
repo, paths = sys.argv[1], sys.argv[2:]
out = {}
for path in paths:
    local = hf_hub_download(repo_id=repo, filename=path)
    h = hashlib.sha256()
    with open(local, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    out[path] = h.hexdigest()
print(json.dumps(out))
"#;

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metadata_edit_sends_under_one_percent_of_the_file() {
    let fx = Fixture::new();
    let cache = fx.dir.path().join("xet-cache");
    let path = fx.files.join(A.file());
    // About 16 MiB of weights behind a real header.
    let size = write_gguf(&path, A.quant, "RuvLTRA Small", 7, 15_000_000);
    let first = publish(&xet_uploader(&fx, &cache), &fx, &[A]).await;
    let sent_first = wire_bytes(repo_report(&first));
    assert!(sent_first >= size, "{sent_first} < {size}");

    // A metadata edit (a longer general.name) shifts every byte of the data section.
    let edited = write_gguf(
        &path,
        A.quant,
        "RuvLTRA Small, renamed in its metadata",
        7,
        15_000_000,
    );
    let store_before = fx.stats().xorb_upload_bytes;
    let second = publish(&xet_uploader(&fx, &cache), &fx, &[A]).await;
    let repo = repo_report(&second);
    let sent = wire_bytes(repo);
    let figures = repo
        .plan
        .iter()
        .find(|e| e.path == A.file())
        .unwrap()
        .xet
        .clone()
        .unwrap();
    eprintln!(
        "re-publish after a metadata edit of a {edited}-byte GGUF, same machine: {sent} bytes sent ({:.3}% of the file): {} new chunk(s) of {} ({} bytes), {} from the local index, {} from the Hub's dedup; xorbs {} bytes, shard {} bytes",
        percent(sent, edited),
        figures.new_chunks,
        figures.chunks,
        figures.new_bytes,
        figures.local_chunks,
        figures.server_chunks,
        repo.xet.as_ref().unwrap().xorb_bytes,
        repo.xet.as_ref().unwrap().shard_bytes,
    );
    assert!(sent * 100 <= edited, "{sent} bytes sent for {edited}");
    assert_eq!(
        fx.stats().xorb_upload_bytes - store_before,
        repo.xet.as_ref().unwrap().xorb_bytes
    );
    assert!(
        figures.local_chunks > 0 && figures.new_chunks <= 3,
        "{figures:?}"
    );
    assert_eq!(fx.stats().commits, 2);

    // The same edit again on a machine without local state: only the Hub's global dedup
    // helps, and a small file has few key chunks (figures for information).
    write_gguf(
        &path,
        A.quant,
        "RuvLTRA Small, renamed twice",
        7,
        15_000_000,
    );
    let fresh = fx.dir.path().join("fresh-cache");
    let third = publish(&xet_uploader(&fx, &fresh), &fx, &[A]).await;
    let repo = repo_report(&third);
    let figures = repo
        .plan
        .iter()
        .find(|e| e.path == A.file())
        .unwrap()
        .xet
        .clone()
        .unwrap();
    eprintln!(
        "the same on a clean machine: {} bytes sent ({:.1}%): {} dedup queries, {} hits, {} chunk(s) from the Hub's dedup",
        wire_bytes(repo),
        percent(wire_bytes(repo), edited),
        repo.xet.as_ref().unwrap().dedup_queries,
        repo.xet.as_ref().unwrap().dedup_hits,
        figures.server_chunks,
    );
    assert_eq!(figures.local_chunks, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_shared_between_files_are_sent_once() {
    let fx = Fixture::new();
    let cache = fx.dir.path().join("xet-cache");
    // Two models whose files differ in their headers only.
    let twin = Spec::new("twin", "0.5b", Quant::Q8_0);
    let a = write_gguf(&fx.files.join(A.file()), A.quant, "one", 3, 2_000_000);
    write_gguf(&fx.files.join(twin.file()), twin.quant, "two", 3, 2_000_000);
    let report = publish(&xet_uploader(&fx, &cache), &fx, &[A, twin]).await;
    let repo = repo_report(&report);
    let xet = repo.xet.as_ref().unwrap();
    let repeated: u64 = repo
        .plan
        .iter()
        .filter_map(|e| e.xet.as_ref())
        .map(|f| f.repeated_bytes)
        .sum();
    // The header chunks differ, and the chunk after each until the cuts agree again.
    let slack = 4 * xet_format::MAX_CHUNK_LEN as u64;
    assert!(repeated + slack >= a, "{repo:#?}");
    assert!(
        xet.xorb_bytes <= a + slack,
        "{} bytes of xorbs for two copies of {a}",
        xet.xorb_bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_and_429_on_xorb_and_shard_uploads_are_ridden_out() {
    let fx = Fixture::new();
    let cache = fx.dir.path().join("xet-cache");
    let a = write_gguf(&fx.files.join(A.file()), A.quant, "A", 11, 2_000_000);
    for f in [
        fault("POST", "/v1/xorbs/", Action::Status(503), 2),
        fault("POST", "/v1/xorbs/", Action::StatusRetryAfter(429, 1), 1),
        fault("POST", "/v1/xorbs/", Action::Status(500), 1),
        fault("POST", "/v1/shards", Action::Status(502), 2),
        fault("POST", "/v1/shards", Action::StatusRetryAfter(429, 1), 1),
        fault("GET", "/v1/chunks/", Action::Status(503), 1),
    ] {
        fx.server.faults().add(f);
    }
    let report = publish(&xet_uploader(&fx, &cache), &fx, &[A]).await;
    assert_eq!(fx.server.faults().pending(), 0, "every fault fired");
    assert_eq!(repo_report(&report).bytes_sent, a);
    assert_eq!(repo_report(&report).xet.as_ref().unwrap().dedup_failures, 0);
    let stats = fx.stats();
    assert_eq!((stats.commits, stats.shards_inserted), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_shard_answer_is_sent_again_harmlessly() {
    let fx = Fixture::new();
    let cache = fx.dir.path().join("xet-cache");
    write_gguf(&fx.files.join(A.file()), A.quant, "A", 12, 1_000_000);
    // The CAS stores the shard, then the connection drops before the answer.
    fx.server
        .faults()
        .add(fault("POST", "/v1/shards", Action::DropResponseAfter(0), 1));
    let report = publish(&xet_uploader(&fx, &cache), &fx, &[A]).await;
    assert_eq!(fx.server.faults().pending(), 0);
    assert_eq!(repo_report(&report).xet.as_ref().unwrap().shards_sent, 1);
    let stats = fx.stats();
    assert_eq!((stats.shards_inserted, stats.commits), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expires_mid_publish_is_refreshed_not_failed() {
    // Tokens live 2 s: the uploader renews them before they run out...
    let fx = Fixture::with_config(|c| c.xet_token_ttl = Duration::from_secs(2));
    let cache = fx.dir.path().join("xet-cache");
    write_gguf(&fx.files.join(A.file()), A.quant, "A", 13, 1_000_000);
    write_gguf(&fx.files.join(B.file()), B.quant, "B", 14, 1_000_000);
    // ...and the CAS declares one expired early, twice, which costs one renewal each.
    for f in [
        fault("POST", "/v1/xorbs/", Action::ExpireToken, 1),
        fault("POST", "/v1/shards", Action::ExpireToken, 1),
        fault(
            "POST",
            "/v1/xorbs/",
            Action::Stall(Duration::from_millis(2200)),
            1,
        ),
    ] {
        fx.server.faults().add(f);
    }
    let report = publish(&xet_uploader(&fx, &cache), &fx, &[A, B]).await;
    assert_eq!(fx.server.faults().pending(), 0);
    let xet = repo_report(&report).xet.clone().unwrap();
    // Each early expiry costs one renewal. Whether the stall also makes a renewal by age
    // depends on how the concurrent xorb uploads interleave (under load the 401's renewal may
    // come after the stall), so only the two forced ones are certain.
    assert!(xet.token_refreshes >= 2, "{xet:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_publish_leaves_xorbs_the_next_one_does_not_send_again() {
    let fx = Fixture::new();
    let cache = fx.dir.path().join("xet-cache");
    write_gguf(&fx.files.join(A.file()), A.quant, "A", 15, 2_000_000);
    write_gguf(&fx.files.join(B.file()), B.quant, "B", 16, 2_000_000);
    // Every xorb gets through, then the CAS fails every shard upload: the publish fails
    // before its commit.
    fx.server
        .faults()
        .add(fault("POST", "/v1/shards", Action::Status(503), 5));
    let reg = registry(&[A, B]);
    let err = xet_uploader(&fx, &cache)
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::Hub(_)), "{err}");
    let sent = fx.stats().xorbs_inserted;
    assert!(sent > 0);
    assert_eq!(fx.stats().commits, 0);

    // The next publish sends no xorb: the local index names them, and its shard lists them.
    let before = fx.stats().xorb_upload_bytes;
    let report = publish(&xet_uploader(&fx, &cache), &fx, &[A, B]).await;
    let xet = repo_report(&report).xet.clone().unwrap();
    assert_eq!(xet.xorbs_sent, 0, "{xet:?}");
    assert_eq!(fx.stats().xorb_upload_bytes, before);
    assert_eq!(xet.local_xorbs_used, sent);
    assert_eq!(fx.stats().commits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_index_the_cas_does_not_back_is_dropped_and_the_publish_goes_on() {
    // One machine's index filled against a first server...
    let first = Fixture::new();
    let cache = first.dir.path().join("xet-cache");
    write_gguf(&first.files.join(A.file()), A.quant, "A", 17, 1_000_000);
    publish(&xet_uploader(&first, &cache), &first, &[A]).await;
    // ...then a second, empty server answers at what the index takes for the same CAS.
    let second = Fixture::new();
    std::fs::copy(first.files.join(A.file()), second.files.join(A.file())).unwrap();
    let from = walk(&cache);
    let record_dir = from
        .iter()
        .find(|p| p.ends_with("cas-url"))
        .unwrap()
        .parent()
        .unwrap();
    let index =
        ruvltra_uploader::xet::LocalIndex::open(&cache, &second.server.url(), 1 << 30).unwrap();
    for path in &from {
        if path.extension().is_some_and(|e| e == "xorb") && path.starts_with(record_dir) {
            std::fs::copy(path, index.dir().join(path.file_name().unwrap())).unwrap();
        }
    }
    let report = publish(&xet_uploader(&second, &cache), &second, &[A]).await;
    let xet = repo_report(&report).xet.clone().unwrap();
    assert!(xet.local_index_invalidated, "{xet:?}");
    assert!(xet.xorbs_sent > 0);
    assert_eq!(second.stats().commits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_xet_takes_the_lfs_path_without_an_error() {
    let fx = Fixture::with_config(|c| c.xet = false);
    let cache = fx.dir.path().join("xet-cache");
    let a = write_gguf(&fx.files.join(A.file()), A.quant, "A", 18, 1_000_000);
    let report = publish(&xet_uploader(&fx, &cache), &fx, &[A]).await;
    let repo = repo_report(&report);
    assert_eq!(repo.transfer, Some(Transfer::Lfs));
    assert!(repo.xet.is_none());
    assert_eq!((repo.bytes_sent, fx.stats().upload_bytes), (a, a));

    // Asking for Xet there is a clear error before anything is sent.
    write_gguf(&fx.files.join(A.file()), A.quant, "A again", 19, 1_000_000);
    let err = xet_uploader(&fx, &cache)
        .transfer(Transfer::Xet)
        .publish(&registry(&[A]), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("does not offer Xet") && text.contains("--transfer"),
        "{text}"
    );
    assert_eq!(fx.stats().upload_bytes, a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_file_upload_goes_through_xet_too() {
    let fx = Fixture::new();
    let cache = fx.dir.path().join("xet-cache");
    let path = fx.files.join(A.file());
    let size = write_gguf(&path, A.quant, "single", 21, 1_000_000);
    let meta = ruvltra_uploader::UploadMetadata {
        model_card: Some("---\nlicense: apache-2.0\n---\n# Card\n".into()),
        ..Default::default()
    };
    let report = xet_uploader(&fx, &cache)
        .upload(&path, REPO, Some(meta))
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let repo = repo_report(&report);
    assert_eq!(repo.transfer, Some(Transfer::Xet));
    assert_eq!(repo.bytes_sent, size);
    assert_eq!(fx.stats().upload_bytes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dedup_query_that_keeps_failing_costs_bytes_not_the_publish() {
    let fx = Fixture::new();
    let cache = fx.dir.path().join("xet-cache");
    let a = write_gguf(&fx.files.join(A.file()), A.quant, "A", 22, 1_000_000);
    // More 500s than the client retries.
    fx.server
        .faults()
        .add(fault("GET", "/v1/chunks/", Action::Status(500), 50));
    let (observer, events) = recorder();
    let report = publish(&xet_uploader(&fx, &cache).observer(observer), &fx, &[A]).await;
    let xet = repo_report(&report).xet.clone().unwrap();
    assert_eq!((xet.dedup_queries, xet.dedup_failures), (1, 1), "{xet:?}");
    assert_eq!(repo_report(&report).bytes_sent, a);
    let warned = events.lock().unwrap().iter().any(|e| {
        matches!(e, ruvltra_uploader::Event::Warning(w) if w.contains("global dedup queries failed"))
    });
    assert!(warned);
}
