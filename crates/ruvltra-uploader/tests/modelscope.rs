//! Publishing to ModelScope through the [`Destination`] trait, against the local server's
//! ModelScope mode: the ModelScope card and repository names, branch `master`, verification,
//! tags, a re-run that sends nothing, a burst of 503 on the commit, and a lost commit answer
//! that must not become a second commit; a model pinned to an experiment branch (created by
//! the commit, or refused with a clear error when a server does not create branches); and the
//! single-file `upload_to` ModelScope.

mod common;

use common::*;
use hub_client::Token;
use hub_server::{Action, Fault, Match};
use modelscope_client::{
    ModelId, ModelScopeClient, ModelScopeError, hash_file, resolve_endpoint_with,
};
use ruvltra_registry::Quant;
use ruvltra_uploader::{Destination, PublishOptions, UploadError, UploadMetadata};

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
        .server
        .data_dir()
        .join("modelscope/repos/models")
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
    let dest = fx.dir.path().join("README.md");
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
    // The same error as the Hub's, naming ModelScope (not the Hub) and its variable.
    assert!(
        matches!(
            err,
            UploadError::MissingToken {
                destination: "ModelScope",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "no ModelScope token found: set MODELSCOPE_API_TOKEN to a token with write access"
    );
    assert_eq!(ms_commits(&fx, "ruvnet/ruvltra-ms"), 0);
}

/// The registry of `setup` with model B pinned to the Hub branch `experiment-x`.
fn with_experiment(mut reg: ruvltra_registry::Registry) -> ruvltra_registry::Registry {
    reg.models[1].revision = Some("experiment-x".to_owned());
    ruvltra_registry::validate(&reg).unwrap();
    reg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_pinned_to_an_experiment_branch_goes_to_that_branch_not_master() {
    let (fx, reg) = setup();
    let reg = with_experiment(reg);
    let ms = ms_client(&fx);
    assert_eq!(ms.branch_of(&reg, &reg.models[0]), "master");
    assert_eq!(ms.branch_of(&reg, &reg.models[1]), "experiment-x");
    assert_eq!(fx.client().branch_of(&reg, &reg.models[1]), "experiment-x");

    // First master alone (model A), so that the branch is created on an existing model.
    let only_a = PublishOptions {
        only: vec![A.id()],
        ..PublishOptions::default()
    };
    let first = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &only_a)
        .await
        .unwrap();
    assert!(first.verified(), "{first:#?}");
    let id = ModelId::new("ruvnet/ruvltra-ms").unwrap();
    let master = ms.revisions(&id).await.unwrap().branches["master"].clone();

    let opts = PublishOptions {
        only: vec![B.id()],
        tag: Some("exp-v1".to_owned()),
        ..PublishOptions::default()
    };
    // A dry run plans against master, where the branch will start, and creates nothing.
    let dry = fx
        .uploader()
        .publish_to(
            &ms,
            &reg,
            &fx.files,
            &PublishOptions {
                dry_run: true,
                ..opts.clone()
            },
        )
        .await
        .unwrap();
    let planned = &dry.repos[0];
    assert_eq!(planned.branch, "experiment-x");
    assert_eq!(planned.parent_commit.as_deref(), Some(master.as_str()));
    let add: Vec<&str> = planned
        .plan
        .iter()
        .filter(|e| e.action == ruvltra_uploader::Action::Add)
        .map(|e| e.path.as_str())
        .collect();
    assert!(add.contains(&B.file().as_str()), "{planned:#?}");
    assert!(!add.contains(&A.file().as_str()), "{planned:#?}");
    assert!(
        !ms.revisions(&id)
            .await
            .unwrap()
            .branches
            .contains_key("experiment-x")
    );

    let report = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &opts)
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let r = &report.repos[0];
    assert_eq!(
        (r.repo.as_str(), r.branch.as_str()),
        ("ruvnet/ruvltra-ms", "experiment-x")
    );
    assert!(r.created_branch && !r.created_repo, "{r:#?}");
    assert_eq!(r.parent_commit.as_deref(), Some(master.as_str()));
    assert_eq!(r.objects_sent, 1);

    let revs = ms.revisions(&id).await.unwrap();
    assert_eq!(revs.branches["master"], master, "master untouched");
    let head = revs.branches["experiment-x"].clone();
    assert_eq!(r.commit.as_deref(), Some(head.as_str()));
    assert_eq!(revs.tags["exp-v1"], head);
    // B is on the branch with its sha256, and not on master.
    let b = hash_file(&fx.files.join(B.file())).await.unwrap();
    let listed = ms.list_files(&id, "experiment-x").await.unwrap();
    let on_branch = listed.iter().find(|f| f.path == B.file()).unwrap();
    assert_eq!(on_branch.sha256.as_deref(), Some(&*b.0));
    assert_eq!(on_branch.size, b.1);
    let on_master = ms.list_files(&id, "master").await.unwrap();
    assert!(on_master.iter().all(|f| f.path != B.file()));
    assert!(on_master.iter().any(|f| f.path == A.file()));

    // Both destinations' verify read each model at its own branch.
    let reports = fx
        .uploader()
        .verify_registry_on(&ms, &reg, &Default::default())
        .await
        .unwrap();
    let seen: Vec<(&str, &str)> = reports
        .iter()
        .map(|v| {
            (
                v.revision.as_str(),
                v.problems.first().map_or("", |p| p.problem),
            )
        })
        .collect();
    assert_eq!(seen, [("experiment-x", ""), ("master", "")], "{reports:#?}");

    // A re-run sends nothing and makes no commit: the branch exists now.
    let again = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &PublishOptions { tag: None, ..opts })
        .await
        .unwrap();
    assert!(
        again.verified() && again.repos[0].commit.is_none(),
        "{again:#?}"
    );
    assert!(!again.repos[0].created_branch);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_commit_that_created_a_branch_is_resolved_once() {
    let (fx, reg) = setup();
    let reg = with_experiment(reg);
    let ms = ms_client(&fx);
    let only_a = PublishOptions {
        only: vec![A.id()],
        ..PublishOptions::default()
    };
    fx.uploader()
        .publish_to(&ms, &reg, &fx.files, &only_a)
        .await
        .unwrap();
    let commits = ms_commits(&fx, "ruvnet/ruvltra-ms");
    let only_b = PublishOptions {
        only: vec![B.id()],
        ..PublishOptions::default()
    };
    // The connection drops before the commit is read: the branch is still missing, so the
    // commit did not land, and the transport error is what is reported (not a 404 of the read).
    fx.server.faults().add(Fault::once(
        Match::any()
            .method("POST")
            .path_contains("/commit/experiment-x"),
        Action::DropAfter(0),
    ));
    let err = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &only_b)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            UploadError::ModelScope(ModelScopeError::Transport { .. })
        ),
        "{err:?}"
    );
    assert_eq!(ms_commits(&fx, "ruvnet/ruvltra-ms"), commits, "no commit");

    // The commit lands and its answer is lost: read back, taken as ours, never sent twice.
    fx.server.faults().add(Fault::once(
        Match::any()
            .method("POST")
            .path_contains("/commit/experiment-x"),
        Action::DropResponseAfter(0),
    ));
    let report = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &only_b)
        .await
        .unwrap();
    assert_eq!(fx.server.faults().pending(), 0, "the fault fired");
    assert!(report.verified(), "{report:#?}");
    assert!(report.repos[0].created_branch);
    assert_eq!(
        ms_commits(&fx, "ruvnet/ruvltra-ms"),
        commits + 1,
        "one commit"
    );
    let id = ModelId::new("ruvnet/ruvltra-ms").unwrap();
    let head = ms.revisions(&id).await.unwrap().branches["experiment-x"].clone();
    assert_eq!(report.repos[0].commit.as_deref(), Some(head.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_branch_with_nothing_new_is_still_created_by_a_commit() {
    let (fx, reg) = setup();
    let ms = ms_client(&fx);
    let opts = PublishOptions {
        card: false,
        ..PublishOptions::default()
    };
    let first = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &opts)
        .await
        .unwrap();
    assert!(first.verified());
    // Every model pinned to a branch whose content master already has.
    let mut reg = reg;
    for m in &mut reg.models {
        m.revision = Some("experiment-x".to_owned());
    }
    let report = fx
        .uploader()
        .publish_to(&ms, &reg, &fx.files, &opts)
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let r = &report.repos[0];
    assert!(r.created_branch && r.commit.is_some(), "{r:#?}");
    assert_eq!(r.bytes_sent, 0, "the objects were already there");
    let id = ModelId::new("ruvnet/ruvltra-ms").unwrap();
    let revs = ms.revisions(&id).await.unwrap();
    assert_eq!(revs.branches.get("experiment-x"), r.commit.as_ref());
    assert_ne!(revs.branches["experiment-x"], revs.branches["master"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_create_branches_fails_clearly_and_leaves_no_tag() {
    let (fx, reg) = setup();
    let reg = with_experiment(reg);
    let ms = ms_client(&fx);
    let only_a = PublishOptions {
        only: vec![A.id()],
        ..PublishOptions::default()
    };
    fx.uploader()
        .publish_to(&ms, &reg, &fx.files, &only_a)
        .await
        .unwrap();
    let id = ModelId::new("ruvnet/ruvltra-ms").unwrap();
    let before = ms.revisions(&id).await.unwrap();
    let commits = ms_commits(&fx, "ruvnet/ruvltra-ms");

    fx.server.faults().add(Fault::once(
        Match::any()
            .method("POST")
            .path_contains("/commit/experiment-x"),
        Action::Status(404),
    ));
    let opts = PublishOptions {
        only: vec![B.id()],
        tag: Some("exp-v1".to_owned()),
        ..PublishOptions::default()
    };
    let (observer, events) = recorder();
    let err = fx
        .uploader()
        .observer(observer)
        .publish_to(&ms, &reg, &fx.files, &opts)
        .await
        .unwrap_err();
    assert_eq!(fx.server.faults().pending(), 0, "the fault fired");
    assert!(
        matches!(
            &err,
            UploadError::ModelScope(ModelScopeError::MissingBranch { branch, .. }) if branch == "experiment-x"
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("experiment-x")
            && text.contains("create the branch on ModelScope")
            && text.contains("Hub only"),
        "{text}"
    );
    assert!(events.lock().unwrap().iter().any(|e| matches!(
        e,
        ruvltra_uploader::Event::Warning(w) if w.contains("nothing was committed or tagged")
    )));
    // Nothing half-done: no branch, no tag, no commit, master where it was.
    assert_eq!(ms.revisions(&id).await.unwrap(), before);
    assert_eq!(ms_commits(&fx, "ruvnet/ruvltra-ms"), commits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_to_modelscope_publishes_one_file_and_reads_it_back() {
    let (fx, _) = setup();
    let ms = ms_client(&fx);
    let path = fx.files.join(A.file());
    let meta = UploadMetadata {
        quant: Some("q4_k_m".to_owned()),
        model_card: Some("---\ntasks:\n- text-generation\n---\n# one file\n".to_owned()),
        tag: Some("v0.1.0".to_owned()),
        ..UploadMetadata::default()
    };
    let report = fx
        .uploader()
        .upload_to(&ms, &path, "ruvnet/one-file", Some(meta))
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let r = &report.repos[0];
    assert_eq!(
        (r.repo.as_str(), r.branch.as_str()),
        ("ruvnet/one-file", "master")
    );
    assert!(r.created_repo);
    assert_eq!(r.objects_sent, 1);
    assert_eq!(fx.stats().commits, 0, "the Hub side saw nothing");

    let id = ModelId::new("ruvnet/one-file").unwrap();
    let (sha, size) = hash_file(&path).await.unwrap();
    let listed = ms.list_files(&id, "v0.1.0").await.unwrap();
    let file = listed.iter().find(|f| f.path == A.file()).unwrap();
    assert_eq!((file.sha256.as_deref(), file.size), (Some(&*sha), size));
    assert!(file.lfs);
    let dest = fx.dir.path().join("back.gguf");
    let (got, n) = ms
        .download_to(&id, "master", &A.file(), &dest)
        .await
        .unwrap();
    assert_eq!((got, n), (sha.clone(), size));
    assert!(listed.iter().any(|f| f.path == "README.md"));

    // `main` means ModelScope's master; another branch is created from master by the commit.
    let other = fx.files.join(B.file());
    let to_main = UploadMetadata {
        revision: Some("main".to_owned()),
        ..UploadMetadata::default()
    };
    let again = fx
        .uploader()
        .upload_to(&ms, &other, "ruvnet/one-file", Some(to_main))
        .await
        .unwrap();
    assert_eq!(again.repos[0].branch, "master");
    let to_exp = UploadMetadata {
        revision: Some("experiment-x".to_owned()),
        path_in_repo: Some("exp/model.gguf".to_owned()),
        ..UploadMetadata::default()
    };
    let exp = fx
        .uploader()
        .upload_to(&ms, &path, "ruvnet/one-file", Some(to_exp))
        .await
        .unwrap();
    assert!(exp.verified() && exp.repos[0].created_branch, "{exp:#?}");
    assert_eq!(exp.repos[0].bytes_sent, 0, "the object was already there");
    assert_eq!(
        ms.download_sha256(&id, "experiment-x", "exp/model.gguf")
            .await
            .unwrap(),
        (sha.clone(), size)
    );
    let revs = ms.revisions(&id).await.unwrap();
    assert_eq!(
        revs.branches["master"],
        again.repos[0].commit.clone().unwrap()
    );

    // Without a token nothing is sent, and the error names ModelScope's variable.
    let anonymous = ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&fx.server.url()), |_| None).unwrap())
        .build()
        .unwrap();
    let err = fx
        .uploader()
        .upload_to(&anonymous, &path, "ruvnet/no-token", None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("MODELSCOPE_API_TOKEN"), "{err}");
    assert!(
        !ms.model_exists(&ModelId::new("ruvnet/no-token").unwrap())
            .await
            .unwrap()
    );
}
