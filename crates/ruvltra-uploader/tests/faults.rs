//! Publishing through a misbehaving Hub (the local server's fault injection): the publish
//! either succeeds with a verified, byte-exact result and exactly one commit, or fails with a
//! clear message and nothing committed.

mod common;

use std::time::Duration;

use common::*;
use hub_client::{Endpoint, HubClient, Token};
use hub_server::{Action, Fault, Match};
use ruvltra_registry::Quant;
use ruvltra_uploader::{ModelUploader, PublishOptions, PublishReport, Transfer, UploadError};

const A: Spec = Spec::new("small", "0.5b", Quant::Q4_K_M);
const B: Spec = Spec::new("small", "0.5b", Quant::Q8_0);

fn fault(method: &str, path: &str, action: Action, times: u32) -> Fault {
    Fault {
        when: Match::any().method(method).path_contains(path),
        times,
        action,
    }
}

async fn publish(fx: &Fixture, up: &ModelUploader) -> Result<PublishReport, UploadError> {
    let reg = registry(&[A, B]);
    up.publish(&reg, &fx.files, &PublishOptions::default())
        .await
}

fn fixture() -> (Fixture, u64) {
    let fx = Fixture::new();
    let a = fx.write_sample(&A, 1);
    let b = fx.write_sample(&B, 1);
    let total = file_size(&a) + file_size(&b);
    (fx, total)
}

/// Publishes with `faults` armed; asserts success, one commit, every fault fired.
async fn survives(faults: Vec<Fault>) -> (Fixture, PublishReport) {
    let (fx, total) = fixture();
    for f in faults {
        fx.server.faults().add(f);
    }
    let report = publish(&fx, &fx.uploader()).await.unwrap();
    assert!(report.verified(), "{report:#?}");
    assert_eq!(report.bytes_sent(), total);
    let stats = fx.stats();
    assert_eq!(stats.commits, 1, "exactly one commit");
    assert_eq!(fx.server.faults().pending(), 0, "every fault fired");
    (fx, report)
}

/// A Hub may answer a missing repository with a bare 404 instead of `RepoNotFound` (no
/// `X-Error-Code`, as the injected fault answers): the publish reads it as a missing repository,
/// creates it (a 409 here, since it exists) and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_404_for_the_repository_is_read_as_a_missing_one() {
    survives(vec![fault(
        "GET",
        "/api/models/ruv/ruvltra/revision/",
        Action::Status(404),
        1,
    )])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_503_on_the_plan_and_the_commit() {
    survives(vec![
        fault("GET", "/api/models/", Action::Status(503), 2),
        fault("POST", "/commit/", Action::Status(500), 2),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_on_the_lfs_batch() {
    survives(vec![fault(
        "POST",
        "/info/lfs/objects/batch",
        Action::StatusRetryAfter(429, 1),
        1,
    )])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_in_the_middle_of_an_upload() {
    survives(vec![fault(
        "PUT",
        "/lfs-upload/",
        Action::DropAfter(4096),
        1,
    )])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_commit_answer_never_makes_a_second_commit() {
    let (fx, report) = survives(vec![fault(
        "POST",
        "/commit/",
        Action::DropResponseAfter(0),
        1,
    )])
    .await;
    let commits = fx.client().list_commits(&repo(), "main").await.unwrap();
    assert_eq!(commits[0].id, report.repos[0].commit.clone().unwrap());
    assert_eq!(
        commits.len(),
        2,
        "the initial commit and ours: {commits:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_upload_url_is_asked_for_again() {
    survives(vec![fault("PUT", "/lfs-upload/", Action::Status(403), 1)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_answer_times_out_and_is_retried() {
    let (fx, total) = fixture();
    fx.server.faults().add(fault(
        "GET",
        "/api/models/",
        Action::Stall(Duration::from_secs(3)),
        1,
    ));
    let client = HubClient::builder()
        .endpoint(Endpoint::parse(&fx.server.url()).unwrap())
        .token(Token::new(TOKEN))
        .api_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let uploader = ModelUploader::with_client(client).transfer(Transfer::Lfs);
    let report = publish(&fx, &uploader).await.unwrap();
    assert!(report.verified());
    assert_eq!(report.bytes_sent(), total);
    assert_eq!(fx.stats().commits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_page_instead_of_json_fails_clearly_before_any_upload() {
    let (fx, _) = fixture();
    fx.server
        .faults()
        .add(fault("GET", "/api/models/", Action::Html200, 1));
    let err = publish(&fx, &fx.uploader()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, UploadError::Hub(_)), "{text}");
    assert!(
        text.contains("/api/models/"),
        "the error names the request: {text}"
    );
    assert!(!text.contains(TOKEN));
    let stats = fx.stats();
    assert_eq!(stats.upload_bytes, 0);
    assert_eq!(stats.commits, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_after_an_interrupted_publish_sends_only_what_is_missing() {
    let (fx, total) = fixture();
    // The commit keeps failing: the publish gives up after the objects went up.
    fx.server
        .faults()
        .add(fault("POST", "/commit/", Action::Status(422), 1));
    let err = publish(&fx, &fx.uploader()).await.unwrap_err();
    assert!(matches!(err, UploadError::Hub(_)), "{err}");
    assert_eq!(fx.stats().upload_bytes, total);
    assert_eq!(fx.stats().commits, 0);

    let report = publish(&fx, &fx.uploader()).await.unwrap();
    assert!(report.verified());
    assert_eq!(report.bytes_sent(), 0, "the Hub kept the objects");
    assert_eq!(report.repos[0].objects_already_present, 2);
    assert_eq!(fx.stats().upload_bytes, total);
    assert_eq!(fx.stats().commits, 1);
}
