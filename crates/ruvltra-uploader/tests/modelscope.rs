//! Publishing to ModelScope through the [`Destination`] trait, against the local server's
//! ModelScope mode: the ModelScope card and repository names, branch `master`, verification,
//! tags, a re-run that sends nothing, a burst of 503 on the commit, and a lost commit answer
//! that must not become a second commit.

mod common;

use common::*;
use hub_client::Token;
use hub_server::{Action, Fault, Match};
use modelscope_client::{ModelId, ModelScopeClient, resolve_endpoint_with};
use ruvltra_registry::Quant;
use ruvltra_uploader::{Destination, PublishOptions};

const A: Spec = Spec::new("small", "0.5b", Quant::Q4_K_M);
const B: Spec = Spec::new("small", "0.5b", Quant::Q8_0);

fn ms_client(fx: &Fixture) -> ModelScopeClient {
    ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&fx.server.url()), |_| None).unwrap())
        .token(Token::new("hf_test_write"))
        .build()
        .unwrap()
}

/// The commits of a ModelScope model in the server's store.
fn ms_commits(fx: &Fixture, repo: &str) -> usize {
    let dir = fx
        .tmp
        .path()
        .join("hub/modelscope/repos/models")
        .join(repo)
        .join("commits");
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

fn setup() -> (Fixture, ruvltra_registry::Registry) {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    fx.write_sample(&B, 1);
    let mut reg = registry(&[A, B]);
    reg.catalog.modelscope_repo = Some("ruvnet/ruvltra-ms".to_owned());
    (fx, reg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_to_modelscope_then_a_rerun_sends_nothing() {
    let (fx, reg) = setup();
    let ms = ms_client(&fx);
    assert_eq!(ms.name(), "modelscope");
    let opts = PublishOptions {
        tag: Some("v1.0.0".to_owned()),
        ..PublishOptions::default()
    };
    let report = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &opts)
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let r = &report.repos[0];
    assert_eq!(
        (r.repo.as_str(), r.branch.as_str()),
        ("ruvnet/ruvltra-ms", "master")
    );
    assert!(r.created_repo);
    assert_eq!(r.objects_sent, 2);
    assert_eq!(r.tag.as_ref().unwrap().name, "v1.0.0");
    // The Hub side saw nothing.
    assert_eq!(fx.stats().commits, 0);

    let id = ModelId::new("ruvnet/ruvltra-ms").unwrap();
    let files = ms.list_files(&id, "v1.0.0").await.unwrap();
    let readme = files.iter().find(|f| f.path == "README.md").unwrap();
    let dest = fx.tmp.path().join("README.md");
    ms.download_to(&id, "master", "README.md", &dest)
        .await
        .unwrap();
    let card = std::fs::read_to_string(&dest).unwrap();
    assert!(
        card.starts_with("---\n") && card.contains("tasks:\n- text-generation"),
        "{card}"
    );
    assert_eq!(readme.size, card.len() as u64);

    let again = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(again.verified());
    assert_eq!(again.bytes_sent(), 0);
    assert!(again.repos[0].commit.is_none(), "{again:#?}");
    assert_eq!(
        ms_commits(&fx, "ruvnet/ruvltra-ms"),
        2,
        "initial commit and ours"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_503_on_the_commit_is_retried() {
    let (fx, reg) = setup();
    fx.server.faults().add(Fault::new(
        Match::any().method("POST").path_contains("/commit/master"),
        2,
        Action::Status(503),
    ));
    let report = fx
        .uploader()
        .publish_to(&ms_client(&fx), &reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    assert_eq!(fx.server.faults().pending(), 0);
    assert_eq!(ms_commits(&fx, "ruvnet/ruvltra-ms"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_commit_answer_never_makes_a_second_commit() {
    let (fx, reg) = setup();
    fx.server.faults().add(Fault::new(
        Match::any().method("POST").path_contains("/commit/master"),
        1,
        Action::DropResponseAfter(0),
    ));
    let (observer, events) = recorder();
    let report = fx
        .uploader()
        .observer(observer)
        .publish_to(&ms_client(&fx), &reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    assert_eq!(fx.server.faults().pending(), 0, "the fault fired");
    let lost = events.lock().unwrap().iter().any(
        |e| matches!(e, ruvltra_uploader::Event::Warning(w) if w.contains("answer") && w.contains("lost")),
    );
    assert!(
        lost,
        "the lost answer was noticed and resolved by reading the branch"
    );
    assert_eq!(
        ms_commits(&fx, "ruvnet/ruvltra-ms"),
        2,
        "one commit of ours"
    );
    let id = ModelId::new("ruvnet/ruvltra-ms").unwrap();
    let head = ms_client(&fx).revisions(&id).await.unwrap().branches["master"].clone();
    assert_eq!(report.repos[0].commit.as_deref(), Some(head.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_nothing_is_sent() {
    let (fx, reg) = setup();
    let anonymous = ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&fx.server.url()), |_| None).unwrap())
        .build()
        .unwrap();
    let err = fx
        .uploader()
        .publish_to(&anonymous, &reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("MODELSCOPE_API_TOKEN"), "{err}");
    assert_eq!(ms_commits(&fx, "ruvnet/ruvltra-ms"), 0);
}
