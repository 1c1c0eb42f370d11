//! Integration tests of the client against the local Hub-compatible server (`hub-server`),
//! including its fault injection: retries, lost commit answers, dropped uploads, redirects.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hub_client::{
    CommitOp, Endpoint, EntryKind, HubClient, HubError, LfsAction, LfsObject, NewCommit,
    PreuploadFile, RangeAnswer, RepoId, RetryPolicy, Sha256, Token, Transfer, TransferProgress,
    UploadMode, UploadOutcome,
};
use hub_server::{Action, Fault, Match, ServerConfig};
use test_support::{LocalHub, TOKEN, pseudo_random};

/// test-support's local Hub (its `files()` take the files to upload) with a client of this
/// crate.
struct Hub {
    local: LocalHub,
    client: HubClient,
}

/// The fixture's server is the Hub's own.
impl std::ops::Deref for Hub {
    type Target = LocalHub;

    fn deref(&self) -> &LocalHub {
        &self.local
    }
}

/// Quick retries, so fault tests take seconds. test-support has the same policy, but behind
/// its `hub-client` feature, which this crate must not enable (it would pull in a second copy
/// of this crate): the one copy the dependency rule leaves.
fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
    }
}

async fn hub_with(tweak: impl FnOnce(&mut ServerConfig)) -> Hub {
    let local = LocalHub::start_with(tweak);
    let client = client_for(&local.url(), Some(TOKEN));
    Hub { local, client }
}

async fn hub() -> Hub {
    hub_with(|_| {}).await
}

fn client_for(url: &str, token: Option<&str>) -> HubClient {
    HubClient::builder()
        .endpoint(Endpoint::parse(url).unwrap())
        .token(token.and_then(Token::new))
        .retry_policy(fast_retries())
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn download_all(
    client: &HubClient,
    repo: &RepoId,
    rev: &str,
    path: &str,
    start: u64,
) -> (RangeAnswer, u64, Vec<u8>) {
    let mut download = client.download_range(repo, rev, path, start).await.unwrap();
    let (answer, offset) = (download.answer, download.offset);
    let mut bytes = Vec::new();
    while let Some(chunk) = download.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    (answer, offset, bytes)
}

/// Uploads `bytes` as an LFS object and commits it at `path` on `main`.
async fn publish(hub: &Hub, repo: &RepoId, path: &str, bytes: &[u8], summary: &str) -> String {
    let file = write_file(&hub.files(), &path.replace('/', "_"), bytes);
    let sha = Sha256::digest(bytes);
    hub.client
        .upload_lfs_object(repo, "main", &file, sha, bytes.len() as u64, None)
        .await
        .unwrap();
    let parent = hub.client.resolve_revision(repo, "main").await.unwrap();
    let commit = NewCommit {
        summary: summary.into(),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_and_missing_or_bad_tokens() {
    let hub = hub().await;
    let who = hub.client.whoami().await.unwrap();
    assert_eq!(who.name, "local");

    let anonymous = client_for(&hub.server.url(), None);
    let err = anonymous.whoami().await.unwrap_err();
    assert!(matches!(err, HubError::MissingToken { .. }), "{err}");
    assert!(err.to_string().contains("HF_TOKEN"), "{err}");

    let bad = client_for(&hub.server.url(), Some("hf_wrong_secret_token"));
    let err = bad.whoami().await.unwrap_err();
    assert!(matches!(err, HubError::Unauthorized { .. }), "{err}");
    let text = format!("{err} {err:?}");
    assert!(text.contains("set HF_TOKEN"), "{text}");
    assert!(!text.contains("hf_wrong_secret_token"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_repo_twice_reports_existing_and_delete_removes_it() {
    let hub = hub().await;
    let repo = RepoId::new("local/created").unwrap();
    let first = hub.client.create_repo(&repo, false).await.unwrap();
    assert!(!first.existed);
    assert!(first.url.ends_with("/local/created"), "{}", first.url);
    let second = hub.client.create_repo(&repo, true).await.unwrap();
    assert!(second.existed);
    assert!(second.url.ends_with("/local/created"), "{}", second.url);

    let info = hub.client.model_info(&repo, None, false).await.unwrap();
    assert_eq!(info.id, "local/created");
    assert!(info.sha.is_some());

    hub.client.delete_repo(&repo).await.unwrap();
    let err = hub.client.model_info(&repo, None, false).await.unwrap_err();
    assert!(matches!(err, HubError::RepoNotFound { .. }), "{err}");
    let err = hub.client.delete_repo(&repo).await.unwrap_err();
    assert!(matches!(err, HubError::RepoNotFound { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_upload_commit_tree_info_and_download_are_byte_exact() {
    let hub = hub().await;
    let repo = RepoId::new("local/basic").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let bytes = pseudo_random(300_000, 1);
    let sha = Sha256::digest(&bytes);
    let file = write_file(&hub.files(), "m.gguf", &bytes);

    let batch = hub
        .client
        .lfs_batch(
            &repo,
            "main",
            &[LfsObject {
                oid: sha,
                size: bytes.len() as u64,
            }],
        )
        .await
        .unwrap();
    assert!(
        matches!(batch[0].action, LfsAction::Basic { .. }),
        "{:?}",
        batch[0].action
    );
    // The Debug form of actions never shows presigned query strings.
    assert!(!format!("{:?}", batch[0].action).contains('?'));

    let seen = Arc::new(AtomicU64::new(0));
    let seen_in_cb = Arc::clone(&seen);
    let progress = Arc::new(move |p: TransferProgress| {
        assert_eq!(p.total, 300_000);
        seen_in_cb.store(p.bytes_done, Ordering::SeqCst);
    });
    let outcome = hub
        .client
        .upload_lfs_object(
            &repo,
            "main",
            &file,
            sha,
            bytes.len() as u64,
            Some(progress),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        UploadOutcome::Uploaded {
            transfer: Transfer::Basic,
            bytes: 300_000
        }
    );
    assert_eq!(seen.load(Ordering::SeqCst), 300_000);
    let stats = hub.server.stats();
    assert_eq!((stats.basic_uploads, stats.upload_bytes), (1, 300_000));

    // The same object again: nothing is sent.
    let again = hub
        .client
        .upload_lfs_object(&repo, "main", &file, sha, bytes.len() as u64, None)
        .await
        .unwrap();
    assert_eq!(again, UploadOutcome::AlreadyPresent);
    assert_eq!(hub.server.stats().upload_bytes, 300_000);

    let parent = hub.client.resolve_revision(&repo, "main").await.unwrap();
    let readme = b"---\nlicense: apache-2.0\n---\n# Test\n".to_vec();
    let result = hub
        .client
        .commit(
            &repo,
            "main",
            &NewCommit {
                summary: "Upload m.gguf".into(),
                description: "first".into(),
                parent_commit: Some(parent.clone()),
                operations: vec![
                    CommitOp::AddLfs {
                        path: "sub/m.gguf".into(),
                        sha256: sha,
                        size: 300_000,
                    },
                    CommitOp::AddRegular {
                        path: "README.md".into(),
                        bytes: readme.clone(),
                    },
                ],
            },
        )
        .await
        .unwrap();
    assert!(!result.recovered);
    assert_ne!(result.commit_oid, parent);

    let tree = hub
        .client
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap();
    let model = tree
        .iter()
        .find(|e| e.path == "sub/m.gguf")
        .expect("model in tree");
    assert_eq!(model.kind, EntryKind::File);
    assert_eq!(model.size, 300_000);
    assert_eq!(model.lfs.unwrap().oid, sha);
    assert!(
        tree.iter()
            .any(|e| e.path == "sub" && e.kind == EntryKind::Directory)
    );
    let readme_entry = tree.iter().find(|e| e.path == "README.md").unwrap();
    assert_eq!(readme_entry.oid, hub_client::git_blob_sha1(&readme));
    assert!(readme_entry.lfs.is_none());

    let top = hub
        .client
        .list_tree(&repo, "main", None, false)
        .await
        .unwrap();
    assert!(top.iter().all(|e| !e.path.contains('/')), "{top:?}");
    let sub = hub
        .client
        .list_tree(&repo, &result.commit_oid, Some("sub"), false)
        .await
        .unwrap();
    assert_eq!(
        sub.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        ["sub/m.gguf"]
    );

    let info = hub
        .client
        .model_info(&repo, Some("main"), true)
        .await
        .unwrap();
    assert_eq!(info.sha.as_deref(), Some(result.commit_oid.as_str()));
    let sibling = info
        .siblings
        .iter()
        .find(|s| s.rfilename == "sub/m.gguf")
        .unwrap();
    assert_eq!(sibling.lfs.as_ref().unwrap().sha256, sha);

    let paths = hub
        .client
        .paths_info(&repo, "main", &["sub/m.gguf".into(), "missing.txt".into()])
        .await
        .unwrap();
    assert_eq!(paths.len(), 1);
    assert_eq!(paths[0].lfs.unwrap().size, 300_000);

    let meta = hub
        .client
        .file_metadata(&repo, "main", "sub/m.gguf")
        .await
        .unwrap();
    assert_eq!(meta.commit, result.commit_oid);
    assert_eq!(meta.etag, sha.to_hex());
    assert_eq!(meta.size, Some(300_000));

    let (answer, offset, body) = download_all(&hub.client, &repo, "main", "sub/m.gguf", 0).await;
    assert_eq!((answer, offset), (RangeAnswer::Full, 0));
    assert_eq!(Sha256::digest(&body), sha);
    let (answer, offset, tail) = download_all(
        &hub.client,
        &repo,
        &result.commit_oid,
        "sub/m.gguf",
        123_456,
    )
    .await;
    assert_eq!((answer, offset), (RangeAnswer::Partial, 123_456));
    assert_eq!(tail, bytes[123_456..]);

    let err = hub
        .client
        .download_range(&repo, "main", "nope.bin", 0)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::EntryNotFound { .. }), "{err}");
    let err = hub
        .client
        .list_tree(&repo, "no-such-branch", None, true)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::RevisionNotFound { .. }), "{err}");
    assert!(!hub.server.stats().auth_on_presigned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_sends_parts_in_parallel_and_completes() {
    let hub = hub_with(|c| {
        c.multipart_threshold = 64 * 1024;
        c.multipart_chunk_size = 16 * 1024;
    })
    .await;
    let repo = RepoId::new("local/multi").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let bytes = pseudo_random(16 * 1024 * 7 + 1234, 2);
    let sha = Sha256::digest(&bytes);
    let file = write_file(&hub.files(), "big.gguf", &bytes);
    let size = bytes.len() as u64;

    let batch = hub
        .client
        .lfs_batch(&repo, "main", &[LfsObject { oid: sha, size }])
        .await
        .unwrap();
    match &batch[0].action {
        LfsAction::Multipart {
            chunk_size, parts, ..
        } => assert_eq!((*chunk_size, parts.len()), (16 * 1024, 8)),
        other => panic!("expected multipart, got {other:?}"),
    }
    // One part upload is cut in the middle: that part is re-sent from its start.
    hub.server.faults().add(Fault::once(
        Match::any().method("PUT").path_contains("/part/3"),
        Action::DropAfter(5000),
    ));
    let outcome = hub
        .client
        .upload_lfs_action(&batch[0], &file, None)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        UploadOutcome::Uploaded {
            transfer: Transfer::Multipart,
            bytes: size
        }
    );
    let stats = hub.server.stats();
    assert_eq!(stats.multipart_uploads, 1);
    assert_eq!(stats.faults_fired, 1);
    assert!(!stats.auth_on_presigned);

    let parent = hub.client.resolve_revision(&repo, "main").await.unwrap();
    hub.client
        .commit(
            &repo,
            "main",
            &NewCommit {
                summary: "big".into(),
                description: String::new(),
                parent_commit: Some(parent),
                operations: vec![CommitOp::AddLfs {
                    path: "big.gguf".into(),
                    sha256: sha,
                    size,
                }],
            },
        )
        .await
        .unwrap();
    let (_, _, body) = download_all(&hub.client, &repo, "main", "big.gguf", 0).await;
    assert_eq!(body, bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_parent_commit_is_precondition_failed() {
    let hub = hub().await;
    let repo = RepoId::new("local/race").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let initial = hub.client.resolve_revision(&repo, "main").await.unwrap();
    publish(&hub, &repo, "a.bin", &pseudo_random(1000, 3), "first").await;
    let err = hub
        .client
        .commit(
            &repo,
            "main",
            &NewCommit {
                summary: "stale".into(),
                description: String::new(),
                parent_commit: Some(initial),
                operations: vec![CommitOp::Delete {
                    path: "a.bin".into(),
                }],
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::PreconditionFailed { .. }), "{err}");
    assert_eq!(err.status(), Some(412));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_503_and_429_with_retry_after_are_retried() {
    let hub = hub().await;
    let repo = RepoId::new("local/retry").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let faults = hub.server.faults();
    faults.add(Fault {
        when: Match::any().method("GET").path_contains("/tree/"),
        times: 3,
        action: Action::Status(503),
    });
    let tree = hub
        .client
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap();
    assert!(tree.iter().any(|e| e.path == ".gitattributes"));
    assert_eq!(hub.server.stats().faults_fired, 3);

    faults.add(Fault::once(
        Match::any().path_contains("whoami"),
        Action::StatusRetryAfter(429, 1),
    ));
    let started = Instant::now();
    hub.client.whoami().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After not honoured: {:?}",
        started.elapsed()
    );
    assert_eq!(hub.server.stats().faults_fired, 4);

    // More failures than retries: the error says what the server answered.
    faults.add(Fault {
        when: Match::any().path_contains("/refs"),
        times: 10,
        action: Action::Status(502),
    });
    let err = hub.client.list_refs(&repo).await.unwrap_err();
    assert_eq!(err.status(), Some(502), "{err}");
    assert!(err.to_string().contains("after 4 retries"), "{err}");
    assert_eq!(hub.server.stats().faults_fired, 4 + 5);
    faults.clear();

    // Other 4xx answers are not retried.
    faults.add(Fault {
        when: Match::any().path_contains("/refs"),
        times: 3,
        action: Action::Status(400),
    });
    assert_eq!(
        hub.client.list_refs(&repo).await.unwrap_err().status(),
        Some(400)
    );
    assert_eq!(hub.server.stats().faults_fired, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_beyond_the_limit_fails_fast() {
    let hub = hub().await;
    hub.server.faults().add(Fault {
        when: Match::any().path_contains("whoami"),
        times: 5,
        action: Action::StatusRetryAfter(429, 3600),
    });
    let err = hub.client.whoami().await.unwrap_err();
    match &err {
        HubError::RetryAfterTooLong {
            retry_after,
            limit,
            status,
            ..
        } => {
            assert_eq!(
                (*retry_after, *limit, *status),
                (Duration::from_secs(3600), Duration::from_secs(5), 429)
            );
        }
        other => panic!("expected RetryAfterTooLong, got {other}"),
    }
    assert!(err.to_string().contains("3600 s"), "{err}");
    assert_eq!(
        hub.server.stats().faults_fired,
        1,
        "no retry may be attempted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_commit_answer_never_duplicates_the_commit() {
    let hub = hub().await;
    let repo = RepoId::new("local/lost").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let bytes = pseudo_random(5000, 4);
    let sha = Sha256::digest(&bytes);
    let file = write_file(&hub.files(), "x.bin", &bytes);
    hub.client
        .upload_lfs_object(&repo, "main", &file, sha, 5000, None)
        .await
        .unwrap();
    let before = hub.client.list_commits(&repo, "main").await.unwrap().len();
    let parent = hub.client.resolve_revision(&repo, "main").await.unwrap();
    let commit = NewCommit {
        summary: "Add x.bin".into(),
        description: String::new(),
        parent_commit: Some(parent.clone()),
        operations: vec![
            CommitOp::AddLfs {
                path: "x.bin".into(),
                sha256: sha,
                size: 5000,
            },
            CommitOp::AddRegular {
                path: "notes.txt".into(),
                bytes: b"hello\n".to_vec(),
            },
        ],
    };

    // The commit is applied, then the connection drops before the answer arrives.
    hub.server.faults().add(Fault::once(
        Match::any().method("POST").path_contains("/commit/"),
        Action::DropResponseAfter(0),
    ));
    let result = hub.client.commit(&repo, "main", &commit).await.unwrap();
    assert!(result.recovered, "{result:?}");
    let history = hub.client.list_commits(&repo, "main").await.unwrap();
    assert_eq!(history.len(), before + 1, "{history:?}");
    assert_eq!(history[0].id, result.commit_oid);
    assert_eq!(hub.server.stats().commits, 1);

    // A 503 before anything was applied: the head did not move, so it is sent again once.
    let parent = result.commit_oid.clone();
    let second = NewCommit {
        summary: "Delete notes".into(),
        description: String::new(),
        parent_commit: Some(parent.clone()),
        operations: vec![CommitOp::Delete {
            path: "notes.txt".into(),
        }],
    };
    hub.server.faults().add(Fault::once(
        Match::any().method("POST").path_contains("/commit/"),
        Action::Status(503),
    ));
    let result = hub.client.commit(&repo, "main", &second).await.unwrap();
    assert!(!result.recovered);
    assert_eq!(
        hub.client.list_commits(&repo, "main").await.unwrap().len(),
        before + 2
    );
    assert_eq!(hub.server.stats().commits, 2);

    // Lost again, and this time someone else committed first: ours was not applied, and a
    // stale parent is reported instead of a blind re-send.
    let third = NewCommit {
        summary: "Never applied".into(),
        description: String::new(),
        parent_commit: Some(parent),
        operations: vec![CommitOp::AddRegular {
            path: "z.txt".into(),
            bytes: b"z".to_vec(),
        }],
    };
    hub.server.faults().add(Fault::once(
        Match::any().method("POST").path_contains("/commit/"),
        Action::Status(503),
    ));
    let err = hub.client.commit(&repo, "main", &third).await.unwrap_err();
    assert!(matches!(err, HubError::PreconditionFailed { .. }), "{err}");
    assert!(err.to_string().contains("it was not applied"), "{err}");
    assert_eq!(hub.server.stats().commits, 2);
    assert_eq!(hub.server.faults().pending(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_commit_answer_without_parent_is_recognised() {
    let hub = hub().await;
    let repo = RepoId::new("local/noparent").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let before = hub.client.list_commits(&repo, "main").await.unwrap().len();
    hub.server.faults().add(Fault::once(
        Match::any().method("POST").path_contains("/commit/"),
        Action::DropResponseAfter(0),
    ));
    let commit = NewCommit {
        summary: "Add card".into(),
        description: String::new(),
        parent_commit: None,
        operations: vec![CommitOp::AddRegular {
            path: "README.md".into(),
            bytes: b"# hi\n".to_vec(),
        }],
    };
    let result = hub.client.commit(&repo, "main", &commit).await.unwrap();
    assert!(result.recovered);
    assert_eq!(
        hub.client.list_commits(&repo, "main").await.unwrap().len(),
        before + 1
    );
    assert_eq!(hub.server.stats().commits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_not_sent_on_the_lfs_redirect_to_another_origin() {
    let hub = hub_with(|c| c.lfs_redirect = true).await;
    let repo = RepoId::new("local/cdn").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let bytes = pseudo_random(40_000, 5);
    let commit = publish(&hub, &repo, "m.gguf", &bytes, "add").await;

    // The Hub's metadata travels on its redirect, and is kept after the hop to the CDN.
    let download = hub
        .client
        .download_range(&repo, "main", "m.gguf", 0)
        .await
        .unwrap();
    assert_eq!(download.commit.as_deref(), Some(commit.as_str()));
    assert_eq!(download.etag, Some(Sha256::digest(&bytes).to_hex()));
    assert_eq!(download.total_size, Some(40_000));
    drop(download);
    assert!(hub.server.cdn_port().is_some());

    let meta = hub
        .client
        .file_metadata(&repo, "main", "m.gguf")
        .await
        .unwrap();
    assert_eq!(
        meta.location.port(),
        hub.server.cdn_port(),
        "metadata should come from the cross-origin redirect"
    );
    assert_eq!(meta.size, Some(40_000));
    assert!(!format!("{meta:?}").contains('?'));

    let (answer, _, body) = download_all(&hub.client, &repo, "main", "m.gguf", 0).await;
    assert_eq!(answer, RangeAnswer::Full);
    assert_eq!(body, bytes);
    let (answer, offset, tail) = download_all(&hub.client, &repo, "main", "m.gguf", 39_000).await;
    assert_eq!((answer, offset), (RangeAnswer::Partial, 39_000));
    assert_eq!(tail, bytes[39_000..]);
    assert!(
        !hub.server.stats().auth_on_presigned,
        "the CDN origin received Authorization"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_answer_to_a_range_request_is_reported() {
    let hub = hub().await;
    let repo = RepoId::new("local/range").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let bytes = pseudo_random(10_000, 6);
    publish(&hub, &repo, "f.bin", &bytes, "add").await;
    hub.server.faults().add(Fault::once(
        Match::any().method("GET").path_contains("/resolve/"),
        Action::IgnoreRange,
    ));
    let (answer, offset, body) = download_all(&hub.client, &repo, "main", "f.bin", 5000).await;
    assert_eq!((answer, offset), (RangeAnswer::Full, 0));
    assert_eq!(body, bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_page_with_status_200_is_an_invalid_response() {
    let hub = hub().await;
    hub.server.faults().add(Fault::once(
        Match::any().path_contains("whoami"),
        Action::Html200,
    ));
    let err = hub.client.whoami().await.unwrap_err();
    assert!(matches!(err, HubError::InvalidResponse { .. }), "{err}");
    assert!(err.to_string().contains("HTML page"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginated_tree_and_commits_follow_every_page() {
    let hub = hub_with(|c| {
        c.tree_page_size = 2;
        c.commits_page_size = 2;
    })
    .await;
    let repo = RepoId::new("local/pages").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let parent = hub.client.resolve_revision(&repo, "main").await.unwrap();
    let operations = (0..7)
        .map(|i| CommitOp::AddRegular {
            path: format!("d/f{i}.txt"),
            bytes: format!("{i}\n").into_bytes(),
        })
        .collect();
    hub.client
        .commit(
            &repo,
            "main",
            &NewCommit {
                summary: "many".into(),
                description: String::new(),
                parent_commit: Some(parent),
                operations,
            },
        )
        .await
        .unwrap();
    for i in 0..4 {
        publish(
            &hub,
            &repo,
            &format!("m{i}.bin"),
            &pseudo_random(100, 10 + i),
            &format!("c{i}"),
        )
        .await;
    }
    let tree = hub
        .client
        .list_tree(&repo, "main", None, true)
        .await
        .unwrap();
    // .gitattributes, d, d/f0..6, m0..3
    assert_eq!(tree.len(), 1 + 1 + 7 + 4, "{tree:?}");
    let commits = hub.client.list_commits(&repo, "main").await.unwrap();
    assert_eq!(commits.len(), 1 + 1 + 4);
    assert_eq!(commits[0].title, "c3");
    assert_eq!(commits.last().unwrap().title, "initial commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refs_tags_branches_preupload_and_yaml() {
    let hub = hub().await;
    let repo = RepoId::new("local/refs").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let first = publish(&hub, &repo, "a.bin", &pseudo_random(100, 7), "first").await;

    hub.client
        .create_tag(&repo, "v1.0.0", Some(&first), Some("release"))
        .await
        .unwrap();
    let err = hub
        .client
        .create_tag(&repo, "v1.0.0", None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::Conflict { .. }), "{err}");
    hub.client
        .create_branch(&repo, "exp/q4", Some(&first))
        .await
        .unwrap();
    let refs = hub.client.list_refs(&repo).await.unwrap();
    assert_eq!(refs.tag("v1.0.0"), Some(first.as_str()));
    assert_eq!(refs.branch("exp/q4"), Some(first.as_str()));
    assert_eq!(refs.branch("main"), Some(first.as_str()));

    // A commit to the branch leaves main alone; the tag resolves through `%2F`-free names.
    let parent = hub.client.resolve_revision(&repo, "exp/q4").await.unwrap();
    let on_branch = hub
        .client
        .commit(
            &repo,
            "exp/q4",
            &NewCommit {
                summary: "exp".into(),
                description: String::new(),
                parent_commit: Some(parent),
                operations: vec![CommitOp::AddRegular {
                    path: "b.txt".into(),
                    bytes: b"b".to_vec(),
                }],
            },
        )
        .await
        .unwrap();
    assert_eq!(
        hub.client.resolve_revision(&repo, "exp/q4").await.unwrap(),
        on_branch.commit_oid
    );
    assert_eq!(
        hub.client.resolve_revision(&repo, "main").await.unwrap(),
        first
    );
    assert_eq!(
        hub.client.resolve_revision(&repo, "v1.0.0").await.unwrap(),
        first
    );

    hub.client.delete_tag(&repo, "v1.0.0").await.unwrap();
    hub.client.delete_branch(&repo, "exp/q4").await.unwrap();
    let refs = hub.client.list_refs(&repo).await.unwrap();
    assert!(refs.tag("v1.0.0").is_none() && refs.branch("exp/q4").is_none());
    let err = hub.client.delete_tag(&repo, "v1.0.0").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    let answers = hub
        .client
        .preupload(
            &repo,
            "main",
            &[
                PreuploadFile {
                    path: "README.md".into(),
                    sample: b"# hi".to_vec(),
                    size: 4,
                },
                PreuploadFile {
                    path: "m.gguf".into(),
                    sample: b"GGUF\x03\0\0\0".to_vec(),
                    size: 20 << 20,
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(answers[0].upload_mode, UploadMode::Regular);
    assert_eq!(answers[1].upload_mode, UploadMode::Lfs);

    let ok = hub
        .client
        .validate_yaml(
            "---\nlicense: apache-2.0\n---\n# x\n",
            hub_client::RepoType::Model,
        )
        .await
        .unwrap();
    assert!(ok.errors.is_empty(), "{ok:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_upload_urls_are_renewed_once_then_reported() {
    let hub = hub().await;
    let repo = RepoId::new("local/expired").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let bytes = pseudo_random(2000, 8);
    let sha = Sha256::digest(&bytes);
    let file = write_file(&hub.files(), "e.bin", &bytes);
    hub.server.faults().add(Fault::once(
        Match::any().method("PUT").path_contains("/lfs-upload/"),
        Action::Status(403),
    ));
    let outcome = hub
        .client
        .upload_lfs_object(&repo, "main", &file, sha, 2000, None)
        .await
        .unwrap();
    assert!(matches!(outcome, UploadOutcome::Uploaded { .. }));
    assert_eq!(hub.server.stats().faults_fired, 1);

    let expired = hub_with(|c| c.upload_url_ttl = Duration::ZERO).await;
    expired.client.create_repo(&repo, false).await.unwrap();
    let err = expired
        .client
        .upload_lfs_object(&repo, "main", &file, sha, 2000, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, HubError::UploadUrlRefused { status: 403, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("LFS batch"), "{err}");
    assert!(!err.to_string().contains("token"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_answer_times_out_and_is_retried() {
    let hub = hub().await;
    let client = HubClient::builder()
        .endpoint(Endpoint::parse(&hub.server.url()).unwrap())
        .token(Token::new(TOKEN))
        .retry_policy(fast_retries())
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    hub.server.faults().add(Fault::once(
        Match::any().path_contains("whoami"),
        Action::Stall(Duration::from_secs(3)),
    ));
    assert_eq!(client.whoami().await.unwrap().name, "local");
    assert_eq!(hub.server.stats().faults_fired, 1);
}

/// A proxy in front of the local server that holds the first commit it sees: the client
/// times out, and the held copy is delivered later anyway, as a slow real server would
/// still apply a commit whose client has gone. Records the held copy's status.
#[derive(Clone)]
struct HoldingProxy {
    target: String,
    armed: Arc<std::sync::atomic::AtomicBool>,
    hold_ms: Arc<AtomicU64>,
    held_status: Arc<std::sync::Mutex<Option<u16>>>,
}

async fn holding_proxy(target: String) -> (String, HoldingProxy) {
    use axum::extract::State;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::IntoResponse;

    let proxy = HoldingProxy {
        target,
        armed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        hold_ms: Arc::new(AtomicU64::new(800)),
        held_status: Arc::new(std::sync::Mutex::new(None)),
    };
    let app = axum::Router::new()
        .fallback(
            |State(proxy): State<HoldingProxy>,
             method: Method,
             uri: Uri,
             headers: HeaderMap,
             body: axum::body::Bytes| async move {
                let forward = {
                    let url = format!("{}{}", proxy.target, uri);
                    move || {
                        let mut request = reqwest::Client::new()
                            .request(method.clone(), &url)
                            .body(body.clone());
                        for name in ["authorization", "content-type", "range", "accept"] {
                            if let Some(value) = headers.get(name) {
                                request = request.header(name, value.as_bytes());
                            }
                        }
                        request.send()
                    }
                };
                if uri.path().contains("/commit/") && proxy.armed.swap(false, Ordering::SeqCst) {
                    let held = Arc::clone(&proxy.held_status);
                    let hold = Duration::from_millis(proxy.hold_ms.load(Ordering::SeqCst));
                    tokio::spawn(async move {
                        tokio::time::sleep(hold).await;
                        let status = forward().await.map(|r| r.status().as_u16()).unwrap_or(0);
                        *held.lock().unwrap() = Some(status);
                    });
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    return StatusCode::GATEWAY_TIMEOUT.into_response();
                }
                let response = forward().await.unwrap();
                let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
                let mut out = HeaderMap::new();
                for (name, value) in response.headers() {
                    if !matches!(
                        name.as_str(),
                        "content-length" | "transfer-encoding" | "connection"
                    ) {
                        out.insert(
                            name.as_str().parse::<axum::http::HeaderName>().unwrap(),
                            value.as_bytes().try_into().unwrap(),
                        );
                    }
                }
                (status, out, response.bytes().await.unwrap()).into_response()
            },
        )
        .with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_commit_that_times_out_is_not_applied_twice() {
    let hub = hub().await;
    let (proxy_url, proxy) = holding_proxy(hub.server.url()).await;
    let impatient = HubClient::builder()
        .endpoint(Endpoint::parse(&proxy_url).unwrap())
        .token(Token::new(TOKEN))
        .retry_policy(fast_retries())
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let repo = RepoId::new("local/slow").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    let before = hub.client.list_commits(&repo, "main").await.unwrap().len();
    // Held 800 ms, the copy lands after the client's re-send; held 50 ms, it lands while the
    // client is still waiting, and the client must recognise it instead of sending again.
    let cases = [(true, 800), (false, 800), (true, 50), (false, 50)];
    for (i, (parent, hold_ms)) in cases.into_iter().enumerate() {
        proxy.armed.store(true, Ordering::SeqCst);
        proxy.hold_ms.store(hold_ms, Ordering::SeqCst);
        *proxy.held_status.lock().unwrap() = None;
        let commit = NewCommit {
            summary: format!("slow {i}"),
            description: String::new(),
            parent_commit: if parent {
                Some(hub.client.resolve_revision(&repo, "main").await.unwrap())
            } else {
                None
            },
            operations: vec![CommitOp::AddRegular {
                path: format!("f{i}.txt"),
                bytes: vec![b'x'; i + 1],
            }],
        };
        let result = impatient.commit(&repo, "main", &commit).await.unwrap();
        // Wait for the held copy to reach the server (normally 800 ms after it was sent).
        let mut held = None;
        for _ in 0..200 {
            held = *proxy.held_status.lock().unwrap();
            if held.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Normally our re-send lands first and the held copy is refused (412). On a loaded
        // machine the held copy may land first; then the client recognises it as ours.
        // Either way there is exactly one commit.
        println!(
            "hold {hold_ms} ms, parent {parent}: held copy {held:?}, recovered {}",
            result.recovered
        );
        match held {
            // Usually `recovered` is false here, but a re-send that itself timed out on a
            // loaded machine is recognised too, so it is not asserted.
            Some(412) => {}
            Some(200) => assert!(result.recovered, "with parent: {parent}"),
            other => panic!("the held copy got {other:?} (with parent: {parent})"),
        }
        assert_eq!(
            hub.server.stats().commits,
            i as u64 + 1,
            "with parent: {parent}"
        );
        let history = hub.client.list_commits(&repo, "main").await.unwrap();
        assert_eq!(history.len(), before + i + 1, "{history:?}");
        assert_eq!(history[0].id, result.commit_oid);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_parent_a_412_is_retried_on_the_new_head() {
    let hub = hub().await;
    let repo = RepoId::new("local/noparent412").unwrap();
    hub.client.create_repo(&repo, false).await.unwrap();
    hub.server.faults().add(Fault::once(
        Match::any().method("POST").path_contains("/commit/"),
        Action::Status(412),
    ));
    let commit = NewCommit {
        summary: "no parent".into(),
        description: String::new(),
        parent_commit: None,
        operations: vec![CommitOp::AddRegular {
            path: "a.txt".into(),
            bytes: b"a".to_vec(),
        }],
    };
    hub.client.commit(&repo, "main", &commit).await.unwrap();
    assert_eq!(
        (hub.server.stats().commits, hub.server.stats().faults_fired),
        (1, 1)
    );

    // With a caller's parent, the same 412 is final.
    hub.server.faults().add(Fault::once(
        Match::any().method("POST").path_contains("/commit/"),
        Action::Status(412),
    ));
    let head = hub.client.resolve_revision(&repo, "main").await.unwrap();
    let err = hub
        .client
        .commit(
            &repo,
            "main",
            &NewCommit {
                parent_commit: Some(head),
                ..commit
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::PreconditionFailed { .. }), "{err}");
    assert_eq!(hub.server.stats().commits, 1);
}
