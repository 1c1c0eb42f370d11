//! The read side of Xet against the local server's CAS: the Xet headers of `HEAD resolve`, the
//! read token, reconstructions (whole and ranged), xorb ranges fetched without credentials and
//! decoded with `xet-format` into the file's bytes, and the CAS faults a reader must ride out
//! (an expired token, 5xx and 429 answers).

use std::net::SocketAddr;
use std::ops::Range;
use std::time::Duration;

use futures_util::StreamExt;
use hub_client::xet::{XetFileInfo, XetReader};
use hub_client::{CommitOp, Endpoint, HubClient, NewCommit, RepoId, RetryPolicy, Sha256, Token};
use hub_server::{Action, Fault, HubServer, Match, ServerConfig};
use xet_format::{XetHash, XorbDecoder, chunk_file, file_hash};

const TOKEN: &str = "hf_test_write";

struct Hub {
    server: HubServer,
    dir: tempfile::TempDir,
    client: HubClient,
}

async fn hub_with(tweak: impl FnOnce(&mut ServerConfig)) -> Hub {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(dir.path().join("data"));
    tweak(&mut config);
    let server = HubServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .unwrap();
    let client = HubClient::builder()
        .endpoint(Endpoint::parse(&server.url()).unwrap())
        .token(Token::new(TOKEN))
        .retry_policy(RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        })
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    Hub {
        server,
        dir,
        client,
    }
}

/// Deterministic, incompressible-looking test content.
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Publishes `bytes` as an LFS file (which the server stores in xorbs) at `path` on `main`.
async fn publish(hub: &Hub, repo: &RepoId, path: &str, bytes: &[u8]) -> String {
    let _ = hub.client.create_repo(repo, false).await;
    let file = hub.dir.path().join(path.replace('/', "_"));
    std::fs::write(&file, bytes).unwrap();
    let sha = Sha256::digest(bytes);
    hub.client
        .upload_lfs_object(repo, "main", &file, sha, bytes.len() as u64, None)
        .await
        .unwrap();
    let parent = hub.client.resolve_revision(repo, "main").await.unwrap();
    let commit = NewCommit {
        summary: format!("add {path}"),
        description: String::new(),
        parent_commit: Some(parent),
        operations: vec![CommitOp::AddLfs {
            path: path.into(),
            sha256: sha,
            size: bytes.len() as u64,
        }],
    };
    hub.client
        .commit(repo, "main", &commit)
        .await
        .unwrap()
        .commit_oid
}

/// Rebuilds bytes `range` of a file (all of it for `None`) through the reader.
async fn rebuild(reader: &XetReader, file: &XetHash, range: Option<Range<u64>>) -> Vec<u8> {
    let plan = reader.reconstruction(file, range.clone()).await.unwrap();
    let mut out = Vec::new();
    for term in &plan.terms {
        let fetch = &plan.fetches[term.fetch];
        let mut stream = reader.xorb_bytes(fetch, fetch.bytes.clone()).await.unwrap();
        let mut decoder = XorbDecoder::new();
        let mut data = Vec::new();
        while let Some(bytes) = stream.next().await {
            decoder
                .feed(&bytes.unwrap(), |c| {
                    let index = fetch.chunks.start + c.index as u32;
                    if term.chunks.contains(&index) {
                        data.extend_from_slice(c.data);
                    }
                })
                .unwrap();
        }
        assert_eq!(
            decoder.finish().unwrap().chunks.len(),
            fetch.chunks.len(),
            "the fetched bytes hold the fetch entry's chunks"
        );
        assert_eq!(data.len() as u64, term.unpacked_length);
        out.extend_from_slice(&data);
    }
    let skip = plan.offset_into_first_range as usize;
    let len = range.map_or(out.len() - skip, |r| (r.end - r.start) as usize);
    out[skip..skip + len].to_vec()
}

fn xet_hash_of(bytes: &[u8]) -> XetHash {
    let chunks: Vec<(XetHash, u64)> = chunk_file(bytes)
        .iter()
        .map(|c| (c.hash, u64::from(c.len)))
        .collect();
    file_hash(&chunks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_rebuilt_from_its_reconstruction_whole_and_in_part() {
    let hub = hub_with(|_| {}).await;
    let repo = RepoId::new("local/xet-read").unwrap();
    let bytes = content(700_000, 1);
    let commit = publish(&hub, &repo, "m.gguf", &bytes).await;

    let meta = hub
        .client
        .file_metadata(&repo, "main", "m.gguf")
        .await
        .unwrap();
    let info: XetFileInfo = meta
        .xet
        .clone()
        .expect("the server stores LFS files in Xet");
    assert_eq!(
        info.hash,
        xet_hash_of(&bytes),
        "X-Xet-Hash is the file's Xet hash"
    );
    assert!(
        info.token_route
            .as_str()
            .ends_with(&format!("/xet-read-token/{commit}")),
        "{}",
        info.token_route
    );
    // A public repository's read token needs no Hub token.
    let anonymous = HubClient::builder()
        .endpoint(Endpoint::parse(&hub.server.url()).unwrap())
        .build()
        .unwrap();
    let reader = anonymous.xet_reader(&info);
    assert_eq!(rebuild(&reader, &info.hash, None).await, bytes);
    assert_eq!(
        rebuild(&reader, &info.hash, Some(300_001..600_000)).await,
        &bytes[300_001..600_000]
    );
    let plan = reader.reconstruction(&info.hash, None).await.unwrap();
    assert_eq!(plan.unpacked_len(), bytes.len() as u64);
    assert_eq!(plan.offset_into_first_range, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_xet_sends_no_xet_headers() {
    let hub = hub_with(|c| c.xet = false).await;
    let repo = RepoId::new("local/no-xet").unwrap();
    publish(&hub, &repo, "m.gguf", &content(100_000, 2)).await;
    let meta = hub
        .client
        .file_metadata(&repo, "main", "m.gguf")
        .await
        .unwrap();
    assert_eq!(meta.xet, None);
    assert_eq!(meta.size, Some(100_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_replaced_and_cas_errors_are_retried() {
    let hub = hub_with(|_| {}).await;
    let repo = RepoId::new("local/xet-faults").unwrap();
    let bytes = content(300_000, 3);
    publish(&hub, &repo, "m.gguf", &bytes).await;
    let info = hub
        .client
        .file_metadata(&repo, "main", "m.gguf")
        .await
        .unwrap()
        .xet
        .unwrap();
    let reader = hub.client.xet_reader(&info);
    let faults = hub.server.faults();
    let before = hub.server.stats();

    // The CAS says the token expired: one new token, the call succeeds.
    faults.add(Fault::once(
        Match::any().path_contains("/v1/reconstructions/"),
        Action::ExpireToken,
    ));
    assert_eq!(rebuild(&reader, &info.hash, None).await, bytes);
    // 503, 500 and 429 on the reconstruction and on xorb reads are retried.
    faults.add(Fault::new(
        Match::any().path_contains("/v1/reconstructions/"),
        2,
        Action::Status(503),
    ));
    faults.add(Fault::once(
        Match::any().path_contains("/v1/reconstructions/"),
        Action::StatusRetryAfter(429, 1),
    ));
    faults.add(Fault::new(
        Match::any().method("GET").path_contains("/xet-xorb/"),
        2,
        Action::Status(500),
    ));
    assert_eq!(rebuild(&reader, &info.hash, None).await, bytes);
    assert_eq!(hub.server.stats().faults_fired - before.faults_fired, 6);

    // The token is refused again after each refresh: after two new tokens the error stands
    // (no loop).
    faults.add(Fault::new(
        Match::any().path_contains("/v1/reconstructions/"),
        3,
        Action::ExpireToken,
    ));
    let err = reader.reconstruction(&info.hash, None).await.unwrap_err();
    assert!(
        err.to_string().contains("401") || err.to_string().contains("unauthorized"),
        "{err}"
    );

    // A xorb URL that ignores the range is refused, not misread.
    faults.add(Fault::once(
        Match::any().method("GET").path_contains("/xet-xorb/"),
        Action::IgnoreRange,
    ));
    let plan = reader.reconstruction(&info.hash, None).await.unwrap();
    let fetch = &plan.fetches[0];
    let sub = fetch.bytes.start + 8..fetch.bytes.end;
    let Err(err) = reader.xorb_bytes(fetch, sub).await else {
        panic!("a 200 answer to a ranged xorb read was taken")
    };
    let err = err.to_string();
    assert!(err.contains("without a range"), "{err}");
    assert!(
        !hub.server.stats().auth_on_presigned,
        "a token went to a xorb URL"
    );

    // A reconstruction of a file the repository does not hold is refused.
    let other = reader.reconstruction(&XetHash([9; 32]), None).await;
    assert!(other.is_err());
}
